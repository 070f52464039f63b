// SPDX-License-Identifier: Apache-2.0
// Secret and config specs and the references services make to them (see
// secretspec.h): swarmkit's controlapi rules (secret.go, config.go,
// service.go) in its words.
#include "manager/secretspec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"

#define INVALID "rpc error: code = InvalidArgument desc = "

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

bool secretspec_valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return false;
    if (!isalnum((unsigned char)name[0]) ||
        !isalnum((unsigned char)name[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char(name[i]))
            return false;
    return true;
}

static bool labels_ok(const json_t *labels)
{
    if (!json_is_object(labels))
        return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v)
    {
        if (!json_is_string(v))
            return false;
    }
    return true;
}

static bool is_set(const json_t *v)
{
    return v && !json_is_null(v) &&
           !(json_is_object(v) && json_object_size(v) == 0);
}

int secretspec_validate(enum store_kind kind, json_t *spec, struct err *err)
{
    const char *what = store_kind_name(kind);
    if (!json_is_object(spec))
        return err_set(err, ERR_INVALID, "the body must be a JSON object");
    /* Go's decoder drops what it does not know. */
    static const char *const known[] = {"Name", "Labels", "Data", "Driver",
                                        "Templating"};
    const char *key;
    json_t *val;
    void *tmp;
    json_object_foreach_safe(spec, tmp, key, val)
    {
        bool keep = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            keep |= strcmp(key, known[i]) == 0;
        if (!keep || json_is_null(val))
            json_object_del(spec, key);
    }
    json_t *name = json_object_get(spec, "Name");
    if (name && !json_is_string(name))
        return err_set(err, ERR_INVALID, "invalid Name: must be a string");
    if (!name || !*json_string_value(name))
        return err_set(err, ERR_INVALID, INVALID "name must be provided");
    if (!secretspec_valid_name(json_string_value(name)))
        return err_set(err, ERR_INVALID,
                       INVALID "invalid name, only 64 [a-zA-Z0-9-_.] "
                               "characters allowed, and the start and end "
                               "character must be [a-zA-Z0-9]");
    json_t *labels = json_object_get(spec, "Labels");
    if (!labels)
        json_object_set_new(spec, "Labels", labels = json_object());
    if (!labels_ok(labels))
        return err_set(err, ERR_INVALID,
                       "invalid Labels: must be an object of strings");
    if (is_set(json_object_get(spec, "Driver")))
        return err_set(err, ERR_INVALID,
                       INVALID "%s drivers are not supported by shoal", what);
    if (is_set(json_object_get(spec, "Templating")))
        return err_set(err, ERR_INVALID,
                       INVALID "templated %ss are not supported by shoal",
                       what);
    json_object_del(spec, "Driver");
    json_object_del(spec, "Templating");
    json_t *data = json_object_get(spec, "Data");
    if (data && !json_is_string(data))
        return err_set(err, ERR_INVALID,
                       "invalid Data: must be a base64 string");
    size_t len = 0;
    if (data) {
        char *raw = b64_decode(json_string_value(data), &len);
        if (!raw)
            return err_set(err, ERR_INVALID,
                           "invalid Data: illegal base64 data");
        /* The plaintext leaves memory as soon as it has been measured. */
        memset(raw, 0, len);
        free(raw);
    }
    size_t max = kind == KIND_CONFIG ? CONFIG_MAX_SIZE : SECRET_MAX_SIZE;
    if (len < 1 || len >= max)
        return err_set(err, ERR_INVALID,
                       INVALID "%s data must be larger than 0 and less than "
                               "%zu bytes",
                       what, max);
    return 0;
}

int secretspec_update(const struct secret *cur, const json_t *spec,
                      json_t **labels, struct err *err)
{
    if (!json_is_object(spec))
        return err_set(err, ERR_INVALID, "the body must be a JSON object");
    const char *name = jx_str(spec, "Name");
    json_t *data = json_object_get(spec, "Data");
    bool data_changed =
        is_set(data) && !json_equal(data, json_object_get(cur->spec, "Data"));
    if (!name || strcmp(name, cur->name) != 0 || data_changed)
        return err_set(err, ERR_INVALID,
                       INVALID "only updates to Labels are allowed");
    json_t *l = json_object_get(spec, "Labels");
    if (l && !json_is_null(l) && !labels_ok(l))
        return err_set(err, ERR_INVALID,
                       "invalid Labels: must be an object of strings");
    *labels = json_is_object(l) ? l : NULL;
    return 0;
}

/* ---- references ---- */

struct ref_keys {
    enum store_kind kind;
    const char *list, *id, *name, *what;
};

static const struct ref_keys SECRET_KEYS = {KIND_SECRET, "Secrets", "SecretID",
                                            "SecretName", "secret"};
static const struct ref_keys CONFIG_KEYS = {KIND_CONFIG, "Configs", "ConfigID",
                                            "ConfigName", "config"};

/* A target a file may be written to: no ".." component, not a directory
 * name. */
static bool clean_target(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || t[n - 1] == '/')
        return false;
    for (const char *p = t; *p;) {
        while (*p == '/')
            p++;
        const char *e = strchrnul(p, '/');
        if ((e - p == 2 && p[0] == '.' && p[1] == '.') ||
            (e - p == 1 && p[0] == '.'))
            return false;
        p = e;
    }
    return true;
}

static bool numeric(const char *s)
{
    if (!s || !*s || strlen(s) > 10)
        return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return strtoull(s, NULL, 10) <= 0xffffffffULL;
}

/* The malformed-reference checks of swarmkit's validateSecretRefsSpec /
 * validateConfigRefsSpec, plus defaults for the file's owner and mode. */
static int check_ref(const struct ref_keys *k, json_t *ref, size_t idx,
                     json_t *list, struct err *err)
{
    if (!json_is_object(ref))
        return err_set(err, ERR_INVALID, INVALID "malformed %s reference",
                       k->what);
    json_t *file = json_object_get(ref, "File");
    if (!json_is_object(file)) {
        if (is_set(json_object_get(ref, "Runtime")))
            return err_set(err, ERR_INVALID,
                           INVALID "runtime %s targets are not supported",
                           k->what);
        return err_set(err, ERR_INVALID,
                       INVALID "malformed %s reference, no target provided",
                       k->what);
    }
    const char *target = jx_str(file, "Name");
    if (!target || !*target)
        return err_set(err, ERR_INVALID,
                       INVALID "malformed file %s reference, invalid target "
                               "file name provided",
                       k->what);
    if (!clean_target(target))
        return err_set(err, ERR_INVALID,
                       INVALID "invalid %s target '%s': it must be a file "
                               "path without '.' or '..' components",
                       k->what, target);
    for (size_t i = 0; i < idx; i++) {
        json_t *prev = json_array_get(list, i);
        if (strcmp(jx_path_str(prev, "File.Name") ?: "", target) == 0)
            return err_set(err, ERR_INVALID,
                           INVALID "%s references '%s' and '%s' have a "
                                   "conflicting target: '%s'",
                           k->what, jx_str0(prev, k->name),
                           jx_str0(ref, k->name), target);
    }
    static const char *const owners[] = {"UID", "GID"};
    for (size_t i = 0; i < ARRAY_SIZE(owners); i++) {
        json_t *v = json_object_get(file, owners[i]);
        if (!v || json_is_null(v) ||
            (json_is_string(v) && !*json_string_value(v))) {
            json_object_set_new(file, owners[i], json_string("0"));
        } else if (json_is_integer(v) && json_integer_value(v) >= 0 &&
                   json_integer_value(v) <= 0xffffffffLL) {
            char num[16];
            snprintf(num, sizeof(num), "%lld",
                     (long long)json_integer_value(v));
            json_object_set_new(file, owners[i], json_string(num));
        } else if (!json_is_string(v) || !numeric(json_string_value(v))) {
            return err_set(err, ERR_INVALID,
                           INVALID "invalid %s reference '%s': %s must be a "
                                   "numeric id",
                           k->what, jx_str0(ref, k->name), owners[i]);
        }
    }
    json_t *mode = json_object_get(file, "Mode");
    if (!mode || json_is_null(mode))
        json_object_set_new(file, "Mode", json_integer(0444));
    else if (!json_is_integer(mode) || json_integer_value(mode) < 0 ||
             json_integer_value(mode) > 07777)
        return err_set(err, ERR_INVALID,
                       INVALID "invalid %s reference '%s': invalid file mode",
                       k->what, jx_str0(ref, k->name));
    return 0;
}

static int resolve_list(const struct store *s, const struct ref_keys *k,
                        json_t *cs, struct err *err)
{
    json_t *list = json_object_get(cs, k->list);
    if (!list || json_is_null(list)) {
        json_object_del(cs, k->list);
        return 0;
    }
    if (!json_is_array(list))
        return err_set(err, ERR_INVALID, "invalid %s: must be an array",
                       k->list);
    size_t i;
    json_t *ref;
    json_array_foreach(list, i, ref)
    {
        if (check_ref(k, ref, i, list, err) < 0)
            return -1;
    }
    struct buf failed;
    buf_init(&failed);
    size_t n_failed = 0;
    json_array_foreach(list, i, ref)
    {
        const char *id = jx_str(ref, k->id);
        const char *name = jx_str(ref, k->name);
        if (id && !*id)
            id = NULL;
        if (name && !*name)
            name = NULL;
        const struct secret *x = NULL;
        bool ok;
        if (!s) {
            ok = id && name;
        } else {
            x = id ? store_secret(s, k->kind, id)
                   : store_secret_by_name(s, k->kind, name);
            ok = x && (!name || strcmp(name, x->name) == 0);
        }
        if (!ok) {
            if (n_failed++)
                buf_puts(&failed, ", ");
            buf_puts(&failed, name ? name : id ? id : "");
            continue;
        }
        if (x) {
            json_object_set_new(ref, k->id, json_string(x->meta.id));
            json_object_set_new(ref, k->name, json_string(x->name));
        }
    }
    if (n_failed) {
        buf_append(&failed, "", 1);
        err_set(err, ERR_INVALID, INVALID "%s%s not found: %s", k->what,
                n_failed > 1 ? "s" : "", (const char *)failed.data);
    }
    buf_fini(&failed);
    return n_failed ? -1 : 0;
}

int secretspec_resolve_refs(const struct store *s, json_t *container_spec,
                            struct err *err)
{
    if (!json_is_object(container_spec))
        return 0;
    if (resolve_list(s, &SECRET_KEYS, container_spec, err) < 0 ||
        resolve_list(s, &CONFIG_KEYS, container_spec, err) < 0)
        return -1;
    return 0;
}

bool secretspec_refers(const json_t *container_spec, enum store_kind kind,
                       const char *id)
{
    const struct ref_keys *k =
        kind == KIND_CONFIG ? &CONFIG_KEYS : &SECRET_KEYS;
    size_t i;
    json_t *ref;
    json_array_foreach(json_object_get(container_spec, k->list), i, ref)
    {
        if (strcmp(jx_str0(ref, k->id), id) == 0)
            return true;
    }
    return false;
}
