// SPDX-License-Identifier: Apache-2.0
// What converting a stack's objects shares (convert.c for networks,
// secrets and configs, convert_service.c for services): scoped names
// (<stack>_<name>), the stack's labels, and string maps in Go's key order.
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "compose/compose_internal.h"

#define NAMESPACE_LABEL "com.docker.stack.namespace"

char *cmp_scope(const struct cmp_conv *c, const char *name)
{
    return xasprintf("%s_%s", c->stack, name);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of an object with its keys in order (Go encodes maps sorted). */
json_t *cmp_sorted_copy(const json_t *o)
{
    size_t n = json_object_size(o);
    const char **keys = xcalloc(n + 1, sizeof(*keys));
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof(*keys), cmp_keys);
    json_t *out = json_object();
    for (i = 0; i < n; i++)
        json_object_set(out, keys[i], json_object_get(o, keys[i]));
    free(keys);
    return out;
}

json_t *cmp_stack_labels(const struct cmp_conv *c, const json_t *labels)
{
    json_t *all = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v)
    {
        char *t = cmp_scalar_text(v);
        json_object_set_new(all, k, json_string(t ? t : ""));
        free(t);
    }
    json_object_set_new(all, NAMESPACE_LABEL, json_string(c->stack));
    json_t *out = cmp_sorted_copy(all);
    json_decref(all);
    return out;
}

json_t *cmp_string_map(const json_t *v)
{
    if (!json_is_object(v) || !json_object_size(v))
        return NULL;
    json_t *m = json_object();
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        char *t = cmp_scalar_text(x);
        json_object_set_new(m, k, json_string(t ? t : ""));
        free(t);
    }
    json_t *out = cmp_sorted_copy(m);
    json_decref(m);
    return out;
}
