// SPDX-License-Identifier: Apache-2.0
// Where a key of a compose file is: the locations table every stage fills
// and reads ("f.yml:12" by key path), key paths as they are walked, errors
// that name the place, and a scalar's text. Below every other compose
// file; it calls none of them.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "compose/compose_internal.h"

void cmp_loc_set(struct cmp_locs *l, const char *path, const char *file,
                 int line)
{
    char *key = xstrdup(path);
    char *val = xasprintf("%s:%d", file, line);
    vec_push(l->strings, key);
    vec_push(l->strings, val);
    hmap_put(l->map, key, val);
}

const char *cmp_loc_find(const struct hmap *map, const char *path)
{
    char buf[CMP_PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path ? path : "");
    for (;;) {
        const char *v = buf[0] ? hmap_get(map, buf) : NULL;
        if (v)
            return v;
        char *dot = strrchr(buf, '.');
        if (!dot)
            return NULL;
        *dot = '\0';
    }
}

int cmp_verr(struct err *err, const struct hmap *map, const char *path,
             const char *fmt, va_list ap)
{
    char msg[480];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    const char *loc = map ? cmp_loc_find(map, path) : NULL;
    if (loc)
        return err_set(err, ERR_INVALID, "%s: %s", loc, msg);
    return err_set(err, ERR_INVALID, "%s", msg);
}

int cmp_err(struct err *err, const struct hmap *map, const char *path,
            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cmp_verr(err, map, path, fmt, ap);
    va_end(ap);
    return rc;
}

size_t cmp_path_push(struct cmp_path *p, const char *seg)
{
    size_t old = p->len;
    int n = snprintf(p->s + p->len, sizeof(p->s) - p->len, "%s%s",
                     p->len ? "." : "", seg);
    if (n < 0 || (size_t)n >= sizeof(p->s) - p->len)
        p->s[p->len] = '\0'; /* too deep to name: keep the parent */
    else
        p->len += (size_t)n;
    return old;
}

size_t cmp_path_push_index(struct cmp_path *p, size_t i)
{
    char seg[24];
    snprintf(seg, sizeof(seg), "%zu", i);
    return cmp_path_push(p, seg);
}

void cmp_path_pop(struct cmp_path *p, size_t old)
{
    p->len = old;
    p->s[old] = '\0';
}

const char *cmp_path_name(const struct cmp_path *p)
{
    return p->len ? p->s : "(root)";
}

char *cmp_scalar_text(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return xstrdup(json_string_value(v));
    case JSON_INTEGER:
        return xasprintf("%lld", (long long)json_integer_value(v));
    case JSON_REAL: {
        /* Go's %v (strconv 'g', shortest): the fewest digits that read
         * back, in exponent form below 1e-4 and from 1e6 on. */
        double d = json_real_value(v);
        char buf[48];
        int prec = 0;
        for (; prec < 17; prec++) {
            snprintf(buf, sizeof(buf), "%.*e", prec, d);
            if (strtod(buf, NULL) == d)
                break;
        }
        const char *e = strchr(buf, 'e');
        int exp = e ? atoi(e + 1) : 0;
        if (exp < -4 || exp >= 6)
            return xstrdup(buf);
        snprintf(buf, sizeof(buf), "%.*f", prec > exp ? prec - exp : 0, d);
        return xstrdup(buf);
    }
    case JSON_TRUE:
        return xstrdup("true");
    case JSON_FALSE:
        return xstrdup("false");
    default:
        return NULL;
    }
}
