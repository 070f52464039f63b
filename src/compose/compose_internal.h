// SPDX-License-Identifier: Apache-2.0
// What the compose core's files share: where each key of a file is (its
// "locations"), errors that name that place, dotted key paths, and the
// stages of loading (yaml, interpolate, validate, normalise, merge).
#pragma once

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/hmap.h"
#include "base/vec.h"
#include "compose/compose.h"

/* Locations: dotted key path ("services.web.ports.0") -> "file:line".
 * Keys and values are owned by strings. */
struct cmp_locs {
    struct hmap *map;
    struct vec *strings;
};

void cmp_loc_set(struct cmp_locs *l, const char *path, const char *file,
                 int line);
/* "file:line" of path, or of its nearest parent that has one; NULL if
 * none. */
const char *cmp_loc_find(const struct hmap *map, const char *path);
/* Sets err to "<file:line of path>: <message>" (ERR_INVALID); -1. */
int cmp_err(struct err *err, const struct hmap *map, const char *path,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int cmp_verr(struct err *err, const struct hmap *map, const char *path,
             const char *fmt, va_list ap);

/* A dotted path being built while walking a tree. */
#define CMP_PATH_MAX 1024
struct cmp_path {
    char s[CMP_PATH_MAX];
    size_t len;
};
/* Appends ".seg" (or "seg" at the root); returns the old length for
 * cmp_path_pop. */
size_t cmp_path_push(struct cmp_path *p, const char *seg);
size_t cmp_path_push_index(struct cmp_path *p, size_t i);
void cmp_path_pop(struct cmp_path *p, size_t old);
/* Docker's name for a path in messages: the path, or "(root)". */
const char *cmp_path_name(const struct cmp_path *p);

/* yaml.c, the libfyaml adapter: parses text into JSON (plain scalars typed
 * by the YAML 1.2 core schema, quoted ones strings), following aliases and
 * merge keys, recording every key's line into locs. The top level must be
 * a mapping. NULL with err ("f.yml:3: ...") on bad YAML. */
json_t *cmp_yaml_load(const char *file, const char *text, size_t len,
                      struct cmp_locs *locs, struct err *err);

/* interpolate.c: substitutes $VAR / ${VAR...} in every string value of
 * config from env, then casts the values the docker CLI casts (replicas,
 * ports, booleans...) from strings. Unset variables become "" with a
 * warning (owned strings pushed to warnings). */
int cmp_interpolate(json_t *config, const json_t *env, const struct hmap *locs,
                    struct vec *warnings, struct err *err);
/* One template: the substituted string (owned) or NULL with err (the
 * message without a path). unset, if not NULL, collects the names of
 * unset variables (as JSON object keys). */
char *cmp_substitute(const char *tmpl, const json_t *env, json_t *unset,
                     struct err *err);
/* docker's opts.ParseEnvFile: KEY=VALUE lines kept verbatim, '#'
 * comments, a bare KEY taken from env (skipped if unset). Into out
 * (existing keys replaced). */
int cmp_envfile_parse(const char *name, const char *text, size_t len,
                      const json_t *env, json_t *out, struct err *err);

/* validate.c: checks config against the compose v3.13 schema, reporting
 * the most specific problem as the docker CLI does ("services.web.deploy
 * .replicas must be a integer"). */
int cmp_validate(const json_t *config, const struct hmap *locs,
                 struct err *err);
/* schema.c: the schema itself (JSON text). */
extern const char cmp_schema_v3_13[];

/* normalize.c: short syntaxes made long, relative paths made absolute,
 * env_file read into environment, external names resolved (deprecation
 * warnings pushed to warnings). */
int cmp_normalize(json_t *config, const struct compose_opts *o,
                  const struct hmap *locs, struct vec *warnings,
                  struct err *err);
/* nat.ParsePortSpec + ConvertPortToPortConfig: "127.0.0.1:8000-8001:80-81
 * /udp" -> [{"mode": "ingress", "target": 80, "published": 8000,
 * "protocol": "udp"}, ...]. NULL with err (no location). */
json_t *cmp_parse_ports(const char *spec, struct err *err);
/* loader.ParseVolume: "src:dst:ro" -> {"type", "source", "target",
 * "read_only", "bind": {...}, "volume": {...}}. NULL with err. */
json_t *cmp_parse_volume(const char *spec, struct err *err);
/* filepath.Join(dir, p) when p is relative, then cleaned. Owned. */
char *cmp_abs_path(const char *dir, const char *p);
/* shellwords: "sh -c 'a b'" -> ["sh", "-c", "a b"]; NULL with err on an
 * unterminated quote. */
json_t *cmp_shell_split(const char *s, struct err *err);
/* "a=b" strings -> {"a": "b"} ("a" alone -> null); keys later win. */
json_t *cmp_list_to_map(const json_t *list, const char *sep);

/* merge.c: override (a normalised file) merged into base, by the docker
 * CLI's rules per key. */
void cmp_merge(json_t *base, const json_t *override);

/* A JSON number as an integer, clamped to int64 (0 for anything else). */
static inline json_int_t cmp_int(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v);
    double d = json_number_value(v);
    if (d != d)
        return 0;
    if (d >= 9223372036854775807.0)
        return INT64_MAX;
    if (d <= -9223372036854775808.0)
        return INT64_MIN;
    return (json_int_t)d;
}

/* A JSON scalar as text ("3", "true", "x"); owned; NULL for containers
 * and null. */
char *cmp_scalar_text(const json_t *v);

/* convert.c / convert_service.c: one stack's conversion. */
struct cmp_conv {
    const struct compose_project *p;
    const char *stack;
    const struct compose_opts *o;
    struct err *err;
};
/* "<stack>_<name>". Owned. */
char *cmp_scope(const struct cmp_conv *c, const char *name);
/* labels (may be NULL) plus com.docker.stack.namespace, keys sorted. */
json_t *cmp_stack_labels(const struct cmp_conv *c, const json_t *labels);
/* A mapping's values as strings (numbers written out), keys sorted; NULL
 * when v is not a non-empty mapping. */
json_t *cmp_string_map(const json_t *v);
/* A copy of an object with its keys in order (Go encodes maps sorted). */
json_t *cmp_sorted_copy(const json_t *o);
/* The ServiceSpec of service `name` (its normalised config svc); NULL
 * with c->err. */
json_t *cmp_convert_service(struct cmp_conv *c, const char *name,
                            const json_t *svc);
