// SPDX-License-Identifier: Apache-2.0
// Several -c files: each later (normalised) file merged over the ones
// before, with the docker CLI's rules (its merge.go over mergo): services
// merge key by key — scalars replaced, mappings merged, most lists
// appended, but ports, volumes, secrets and configs merged by their key
// (published port, target, source), command / entrypoint / healthcheck test
// replaced, logging merged only for the same driver, ulimits per name;
// top-level networks, volumes, secrets and configs replaced per name.
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "compose/compose_internal.h"

/* The key a list entry merges by, or NULL to append. */
typedef char *(*entry_key_fn)(const json_t *entry);

static char *port_key(const json_t *p)
{
    /* one published port is one entry; unpublished ones by target */
    const char *proto = jx_str(p, "protocol");
    if (!proto || !*proto)
        proto = "tcp";
    json_int_t pub = jx_int(p, "published", 0);
    return pub ? xasprintf("p%lld/%s", (long long)pub, proto)
               : xasprintf("t%lld/%s", (long long)jx_int(p, "target", 0),
                           proto);
}

static char *volume_key(const json_t *v)
{
    return xstrdup(jx_str0(v, "target"));
}

static char *source_key(const json_t *v)
{
    return xstrdup(jx_str0(v, "source"));
}

/* mergeSlice: entries of override replace base's with the same key. */
static json_t *merge_keyed(const json_t *base, const json_t *over,
                           entry_key_fn key)
{
    json_t *out = json_array();
    size_t i, j;
    json_t *b, *o;
    json_array_foreach(base, i, b)
    {
        char *kb = key(b);
        bool replaced = false;
        json_array_foreach(over, j, o)
        {
            char *ko = key(o);
            replaced = replaced || strcmp(kb, ko) == 0;
            free(ko);
        }
        if (!replaced)
            json_array_append(out, b);
        free(kb);
    }
    json_array_foreach(over, j, o)
    {
        json_array_append_new(out, jx_copy(o));
    }
    return out;
}

/* WithAppendSlice, without repeating a string already there. */
static json_t *append_list(const json_t *base, const json_t *over)
{
    json_t *out = jx_copy(base);
    size_t i, j;
    json_t *o, *b;
    json_array_foreach(over, i, o)
    {
        bool dup = false;
        if (json_is_string(o))
            json_array_foreach(out, j, b)
            {
                dup = dup || json_equal(b, o);
            }
        if (!dup)
            json_array_append_new(out, jx_copy(o));
    }
    return out;
}

/* Recursive mapping merge: override's scalars win, mappings merge, lists
 * append. */
static void merge_map(json_t *base, const json_t *over)
{
    const char *k;
    json_t *o;
    json_object_foreach((json_t *)over, k, o)
    {
        json_t *b = json_object_get(base, k);
        if (json_is_object(b) && json_is_object(o))
            merge_map(b, o);
        else if (json_is_array(b) && json_is_array(o))
            json_object_set_new(base, k, append_list(b, o));
        else
            json_object_set_new(base, k, jx_copy(o));
    }
}

static void merge_logging(json_t *svc, const json_t *over)
{
    json_t *base = json_object_get(svc, "logging");
    const char *bd = jx_str(base, "driver"), *od = jx_str(over, "driver");
    if (!json_is_object(base) || (bd && od && strcmp(bd, od) != 0)) {
        json_object_set_new(svc, "logging", jx_copy(over));
        return;
    }
    if (od)
        json_object_set_new(base, "driver", json_string(od));
    json_t *opts = json_object_get(over, "options");
    if (json_is_object(opts)) {
        json_t *bo = json_object_get(base, "options");
        if (json_is_object(bo)) {
            json_t *copy = jx_copy(opts);
            json_object_update(bo, copy);
            json_decref(copy);
        } else
            json_object_set_new(base, "options", jx_copy(opts));
    }
}

static void merge_service(json_t *base, const json_t *over)
{
    const char *k;
    json_t *o;
    json_object_foreach((json_t *)over, k, o)
    {
        json_t *b = json_object_get(base, k);
        entry_key_fn key = !strcmp(k, "ports")     ? port_key
                           : !strcmp(k, "volumes") ? volume_key
                           : !strcmp(k, "secrets") ? source_key
                           : !strcmp(k, "configs") ? source_key
                                                   : NULL;
        if (!b) {
            json_object_set_new(base, k, jx_copy(o));
        } else if (key && json_is_array(b) && json_is_array(o)) {
            json_object_set_new(base, k, merge_keyed(b, o, key));
        } else if (!strcmp(k, "command") || !strcmp(k, "entrypoint")) {
            json_object_set_new(base, k, jx_copy(o));
        } else if (!strcmp(k, "logging") && json_is_object(o)) {
            merge_logging(base, o);
        } else if ((!strcmp(k, "ulimits") || !strcmp(k, "networks")) &&
                   json_is_object(b) && json_is_object(o)) {
            json_t *copy = jx_copy(o);
            json_object_update(b, copy); /* per name, replaced */
            json_decref(copy);
        } else if (json_is_object(b) && json_is_object(o)) {
            merge_map(b, o);
            /* a health check's test is one command: replaced */
            json_t *test = json_object_get(o, "test");
            if (!strcmp(k, "healthcheck") && test)
                json_object_set_new(b, "test", jx_copy(test));
        } else if (json_is_array(b) && json_is_array(o)) {
            json_object_set_new(base, k, append_list(b, o));
        } else {
            json_object_set_new(base, k, jx_copy(o));
        }
    }
}

void cmp_merge(json_t *base, const json_t *override)
{
    const char *k;
    json_t *o;
    json_object_foreach((json_t *) override, k, o)
    {
        json_t *b = json_object_get(base, k);
        if (!strcmp(k, "services") && json_is_object(b) && json_is_object(o)) {
            const char *name;
            json_t *svc;
            json_object_foreach(o, name, svc)
            {
                json_t *bs = json_object_get(b, name);
                if (json_is_object(bs) && json_is_object(svc))
                    merge_service(bs, svc);
                else
                    json_object_set_new(b, name, jx_copy(svc));
            }
        } else if (json_is_object(b) && json_is_object(o)) {
            /* networks, volumes, secrets, configs: per name replaced */
            const char *name;
            json_t *v;
            json_object_foreach(o, name, v)
            {
                json_object_set_new(b, name, jx_copy(v));
            }
        } else {
            json_object_set_new(base, k, jx_copy(o));
        }
    }
}
