// SPDX-License-Identifier: Apache-2.0
// jansson helpers.
#include "base/jsonx.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

const char *jx_str(const json_t *obj, const char *key)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *jx_str0(const json_t *obj, const char *key)
{
    const char *s = jx_str(obj, key);
    return s ? s : "";
}

int64_t jx_int(const json_t *obj, const char *key, int64_t def)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v)) {
        /* clamped: a cast of an out-of-range double is undefined */
        double d = json_real_value(v);
        if (d != d)
            return def;
        if (d >= 9223372036854775807.0)
            return INT64_MAX;
        if (d <= -9223372036854775808.0)
            return INT64_MIN;
        return (int64_t)d;
    }
    return def;
}

bool jx_bool(const json_t *obj, const char *key, bool def)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_boolean(v) ? json_is_true(v) : def;
}

json_t *jx_path(const json_t *obj, const char *path)
{
    const json_t *cur = obj;
    const char *p = path;
    char key[128];
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof(key))
            return NULL;
        memcpy(key, p, len);
        key[len] = '\0';
        cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        p += len + (dot ? 1 : 0);
    }
    return (json_t *)cur;
}

const char *jx_path_str(const json_t *obj, const char *path)
{
    json_t *v = jx_path(obj, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t jx_path_int(const json_t *obj, const char *path, int64_t def)
{
    json_t *v = jx_path(obj, path);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

json_t *jx_obj(json_t *obj, const char *key)
{
    if (!json_is_object(obj))
        return NULL;
    json_t *v = json_object_get(obj, key);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(obj, key, v);
    }
    return v;
}

void jx_set_path(json_t *obj, const char *path, json_t *value)
{
    json_t *cur = obj;
    const char *p = path;
    char key[128];
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof(key))
            len = sizeof(key) - 1;
        memcpy(key, p, len);
        key[len] = '\0';
        if (!dot) {
            json_object_set_new(cur, key, value);
            return;
        }
        cur = jx_obj(cur, key);
        p = dot + 1;
    }
}

char *jx_dumps(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        s = xstrdup("null");
    return s;
}

char *jx_dumps_pretty(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(4) | JSON_ENCODE_ANY);
    if (!s)
        s = xstrdup("null");
    return s;
}

json_t *jx_copy(const json_t *j)
{
    json_t *c = json_deep_copy(j);
    if (!c && j)
        abort();
    return c;
}

static bool is_zero(const json_t *v)
{
    if (!v)
        return true;
    switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_FALSE:
        return true;
    case JSON_INTEGER:
        return json_integer_value(v) == 0;
    case JSON_REAL:
        return json_real_value(v) == 0;
    case JSON_STRING:
        return json_string_length(v) == 0;
    case JSON_ARRAY:
        return json_array_size(v) == 0;
    case JSON_OBJECT: {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e)
        {
            if (!is_zero(e))
                return false;
        }
        return true;
    }
    default:
        return false;
    }
}

bool jx_equal_loose(const json_t *a, const json_t *b)
{
    if (!a || !b || json_is_null(a) || json_is_null(b))
        return is_zero(a) && is_zero(b);
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *va;
        json_object_foreach((json_t *)a, k, va)
        {
            if (!jx_equal_loose(va, json_object_get(b, k)))
                return false;
        }
        json_t *vb;
        json_object_foreach((json_t *)b, k, vb)
        {
            if (!json_object_get(a, k) && !is_zero(vb))
                return false;
        }
        return true;
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!jx_equal_loose(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    if (is_zero(a) && is_zero(b))
        return true;
    return json_equal(a, b);
}
