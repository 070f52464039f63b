// SPDX-License-Identifier: Apache-2.0
// Compose files (version 3.x) for `stack deploy`: loading one or more files
// into one configuration the way the docker CLI's loader does (YAML with
// anchors and merge keys, variable interpolation, the v3.13 schema, short
// syntaxes made long, files merged in order), then converting it into the
// Docker Engine API objects of a stack. Pure: files other than the compose
// files themselves (env_file, secret and config files) are read through a
// callback, and the environment is a JSON object handed in.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/hmap.h"
#include "base/vec.h"

/* One compose file as given with -c. */
struct compose_file {
    const char *name; /* shown in errors ("f.yml") */
    const char *text;
    size_t len;
};

/* Reads a file the compose file names (path already absolute); returns
 * its bytes (owned, NUL-terminated) or NULL with err. */
typedef char *(*compose_read_fn)(void *ud, const char *path, size_t *len,
                                 struct err *err);

struct compose_opts {
    const json_t *env;   /* variables for interpolation: {"NAME": "value"} */
    const char *workdir; /* relative paths are relative to this (absolute) */
    const char *home;    /* for "~/" in bind sources; NULL = $HOME of env */
    compose_read_fn read;
    void *read_ud;
};

/* A loaded configuration: the merged compose dictionary with every short
 * syntax made long (environment and labels as maps, ports, volumes,
 * secrets and configs as lists of mappings, service networks as a map),
 * where each key came from, and the warnings for the user. */
struct compose_project {
    json_t *config;      /* owned */
    struct hmap locs;    /* "services.web.image" -> "f.yml:12" (owned) */
    struct vec warnings; /* char * (owned), in order */
    struct vec strings;  /* keys and values of locs (owned) */
};

void compose_project_init(struct compose_project *p);
void compose_project_fini(struct compose_project *p);

/* Loads files[0..n) in order into p (initialised by the caller): each is
 * parsed, interpolated, checked against the schema and normalised, then
 * merged over the ones before it. -1 with err ("f.yml:12: services.web
 * Additional property foo is not allowed") on the first problem. */
int compose_load(struct compose_project *p, const struct compose_file *files,
                 size_t n, const struct compose_opts *o, struct err *err);

/* Parses a .env file (KEY=VALUE lines, '#' comments, optional "export ",
 * single or double quotes) into out, keeping keys already there (the
 * environment wins). name is for errors. */
int compose_dotenv_parse(const char *name, const char *text, size_t len,
                         json_t *out, struct err *err);

/* The Engine API objects of a stack, as the docker CLI sends them. */
struct compose_stack {
    /* NetworkCreate bodies of the stack's networks (those some service
     * uses), each with its "Name"; sorted by name. */
    json_t *networks;
    /* Names of external networks the services use (must exist). */
    json_t *external_networks;
    /* ServiceSpecs, sorted by name. Secret and config references carry
     * SecretName / ConfigName; the caller fills SecretID / ConfigID. */
    json_t *services;
    /* SecretSpecs / ConfigSpecs to create or update (Data in base64). */
    json_t *secrets;
    json_t *configs;
};

void compose_stack_fini(struct compose_stack *s);

/* Converts a loaded project into the stack `name`'s objects: every object
 * named "<name>_<key>" and labelled com.docker.stack.namespace=<name>,
 * services also com.docker.stack.image. -1 with err (file and line of the
 * key at fault) on a reference to something undeclared or a bad value. */
int compose_convert(const struct compose_project *p, const char *name,
                    const struct compose_opts *o, struct compose_stack *out,
                    struct err *err);
