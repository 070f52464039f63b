// SPDX-License-Identifier: Apache-2.0
// Helpers over jansson: cleanup attribute, typed getters that tolerate
// missing keys, dotted-path access, compact dumps.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

static inline void cleanup_jsonp(json_t **j)
{
    if (*j)
        json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

/* Borrowed string at key, or NULL if absent / not a string. */
const char *jx_str(const json_t *obj, const char *key);
/* Like jx_str, "" where it would be NULL. */
const char *jx_str0(const json_t *obj, const char *key);
int64_t jx_int(const json_t *obj, const char *key, int64_t def);
bool jx_bool(const json_t *obj, const char *key, bool def);
/* Borrowed value at "A.B.C", or NULL. */
json_t *jx_path(const json_t *obj, const char *path);
const char *jx_path_str(const json_t *obj, const char *path);
int64_t jx_path_int(const json_t *obj, const char *path, int64_t def);
/* Sets (stealing value) at "A.B.C", creating objects on the way. */
void jx_set_path(json_t *obj, const char *path, json_t *value);
/* Object at key, created empty if missing or not an object (borrowed);
 * NULL if obj itself is not an object. */
json_t *jx_obj(json_t *obj, const char *key);
/* Compact dump; owned string (aborts on OOM). */
char *jx_dumps(const json_t *j);
/* Pretty dump with 4-space indent, like `docker inspect`. */
char *jx_dumps_pretty(const json_t *j);
/* Equality where a missing key equals a zero value (null, false, 0, "",
 * {}, []), as for protobuf messages: what swarmkit means by "same spec". */
bool jx_equal_loose(const json_t *a, const json_t *b);
/* Shallow-safe deep copy (never NULL for non-NULL input). */
json_t *jx_copy(const json_t *j);
