// SPDX-License-Identifier: Apache-2.0
// Registry references: where an image name lives (the registry's API host,
// the scheme to reach it, the repository path) and the key its credentials
// are stored under, as Docker decides them. Pure string work.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* A reference resolved against the registry that serves it. Every field
 * owned; tag and digest may both be NULL (then "latest" is meant). */
struct reg_ref {
    char *domain;  /* as named: "docker.io", "localhost:5000" */
    char *host;    /* the API host: "registry-1.docker.io" for docker.io */
    char *path;    /* repository path: "library/busybox" */
    char *tag;     /* or NULL */
    char *digest;  /* "sha256:..." or NULL */
    char *repo;    /* familiar repository: "busybox", "localhost:5000/a" */
    bool insecure; /* plain http (loopback or configured insecure) */
};

/* Insecure registries: "host[:port]" entries (a bare host matches any
 * port); NULL-terminated, may be NULL. */
struct reg_config {
    const char *const *insecure;
};

/* Parses name (and, like POST /images/create, an optional separate tag,
 * which may also be a digest "sha256:..."). Docker's normalisation; no
 * default tag is added. 400 "invalid reference format" on bad input. */
int reg_ref_parse(const char *name, const char *tag,
                  const struct reg_config *cfg, struct reg_ref *r,
                  struct err *err);
void reg_ref_fini(struct reg_ref *r);
/* The tag or digest to ask the registry for: digest, else tag, else
 * "latest" (borrowed). */
const char *reg_ref_reference(const struct reg_ref *r);
/* "repo:tag" / "repo@digest" / "repo:latest" in familiar form (owned). */
char *reg_ref_string(const struct reg_ref *r);
/* "http://localhost:5000" / "https://registry-1.docker.io" (owned). */
char *reg_ref_base_url(const struct reg_ref *r);
/* Is host[:port] served over plain http? Loopback names and addresses
 * (localhost, 127.0.0.0/8, ::1) always; others when listed in cfg. */
bool reg_host_is_insecure(const char *domain, const struct reg_config *cfg);
/* The key credentials are stored under (the docker CLI's config.json and
 * X-Registry-Auth "serveraddress"): "https://index.docker.io/v1/" for
 * Docker Hub, the domain otherwise (owned). */
char *reg_auth_key(const char *domain);
/* Normalises a server address the user typed ("https://x:5000/",
 * "docker.io", "index.docker.io") to the domain it names (owned), as
 * docker login does. NULL + 400 if empty. */
char *reg_server_domain(const char *server, struct err *err);
