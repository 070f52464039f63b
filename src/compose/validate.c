// SPDX-License-Identifier: Apache-2.0
// The compose schema check: a small interpreter of the JSON Schema
// (draft-04) keywords the v3.13 schema uses ($ref, type, properties,
// patternProperties, additionalProperties, required, items, uniqueItems,
// enum, minimum, format, oneOf, anyOf), reporting one problem the way the
// docker CLI picks it from gojsonschema's list: the most specific (deepest)
// one, a wrong type winning a tie, in its words ("services.web Additional
// property foo is not allowed", "services.web.deploy.replicas must be a
// integer").
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hmap.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/format.h"
#include "compose/compose_internal.h"

/* The problem reported so far. */
struct verr {
    bool set;
    int depth; /* segments in path: how specific */
    bool type; /* a wrong type (wins a tie) */
    char path[CMP_PATH_MAX];
    char loc[CMP_PATH_MAX]; /* the key whose line to show */
    char msg[400];
};

struct pattern {
    const char *text;
    regex_t re;
    bool ok;
};

struct vctx {
    const json_t *schema;
    struct cmp_path path;
    struct pattern pats[16];
    size_t npats;
};

static int depth_of(const char *path)
{
    int d = 1;
    for (const char *p = path; *p; p++)
        d += *p == '.';
    return d;
}

static void report(struct verr *e, const struct vctx *c, const char *loc_key,
                   bool type, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Keeps the more specific of the error so far and this one (at the
 * current path; loc_key, if any, names the child key for the line). */
static void report(struct verr *e, const struct vctx *c, const char *loc_key,
                   bool type, const char *fmt, ...)
{
    int d = depth_of(c->path.s);
    if (e->set && (d < e->depth || (d == e->depth && (e->type || !type))))
        return;
    e->set = true;
    e->depth = d;
    e->type = type;
    snprintf(e->path, sizeof(e->path), "%s", c->path.s);
    if (loc_key && c->path.len)
        snprintf(e->loc, sizeof(e->loc), "%s.%s", c->path.s, loc_key);
    else
        snprintf(e->loc, sizeof(e->loc), "%s", loc_key ? loc_key : c->path.s);
    char msg[360];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(e->msg, sizeof(e->msg), "%s %s", cmp_path_name(&c->path), msg);
}

static void merge_err(struct verr *into, const struct verr *from)
{
    if (!from->set)
        return;
    if (into->set &&
        (from->depth < into->depth ||
         (from->depth == into->depth && (into->type || !from->type))))
        return;
    *into = *from;
}

/* ---- types ------------------------------------------------------------- */

static bool is_type(const json_t *v, const char *t)
{
    if (!strcmp(t, "object"))
        return json_is_object(v);
    if (!strcmp(t, "array"))
        return json_is_array(v);
    if (!strcmp(t, "string"))
        return json_is_string(v);
    if (!strcmp(t, "number"))
        return json_is_number(v);
    if (!strcmp(t, "integer"))
        return json_is_integer(v) ||
               (json_is_real(v) && json_real_value(v) == (double)cmp_int(v));
    if (!strcmp(t, "boolean"))
        return json_is_boolean(v);
    if (!strcmp(t, "null"))
        return json_is_null(v);
    return true;
}

/* humanReadableType: object -> mapping, array -> list. */
static const char *human(const char *t)
{
    if (!strcmp(t, "object"))
        return "mapping";
    if (!strcmp(t, "array"))
        return "list";
    return t;
}

/* "a string", "a string, number or null". */
static void type_words(struct buf *b, const char *const *types, size_t n)
{
    buf_puts(b, "a ");
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s%s",
                   i == 0       ? ""
                   : i + 1 == n ? " or "
                                : ", ",
                   human(types[i]));
}

/* The types a schema allows, for messages (up to max). */
static size_t schema_types(const struct vctx *c, const json_t *s,
                           const char **out, size_t max);

static const json_t *resolve_ref(const struct vctx *c, const json_t *s)
{
    const char *ref = jx_str(s, "$ref");
    if (!ref || strncmp(ref, "#/", 2) != 0)
        return s;
    const json_t *at = c->schema;
    char buf[200];
    snprintf(buf, sizeof(buf), "%s", ref + 2);
    for (char *seg = strtok(buf, "/"); seg && at; seg = strtok(NULL, "/"))
        at = json_object_get(at, seg);
    return at ? at : s;
}

static size_t schema_types(const struct vctx *c, const json_t *s,
                           const char **out, size_t max)
{
    s = resolve_ref(c, s);
    json_t *t = json_object_get(s, "type");
    size_t n = 0;
    if (json_is_string(t) && n < max) {
        out[n++] = json_string_value(t);
    } else if (json_is_array(t)) {
        size_t i;
        json_t *x;
        json_array_foreach(t, i, x)
        {
            if (n < max && json_is_string(x))
                out[n++] = json_string_value(x);
        }
    } else {
        size_t i;
        json_t *alt;
        json_array_foreach(json_object_get(s, "oneOf"), i, alt)
        {
            n += schema_types(c, alt, out + n, max - n);
        }
    }
    return n;
}

/* ---- formats (the docker CLI's checkers) ----------------------------- */

static bool all_digits(const char *s, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* nat.ParsePortRange-like: "80", "8000-8010". */
static bool port_range(const char *s, size_t n)
{
    const char *dash = memchr(s, '-', n);
    if (!dash)
        return all_digits(s, n);
    return all_digits(s, (size_t)(dash - s)) &&
           all_digits(dash + 1, n - (size_t)(dash - s) - 1);
}

static bool format_ok(const char *format, const json_t *v)
{
    _cleanup_free_ char *s = cmp_scalar_text(v);
    if (!s)
        return true;
    if (!strcmp(format, "duration")) {
        int64_t ns;
        struct err e = {0};
        return cli_parse_duration(s, &ns, &e) == 0;
    }
    if (!strcmp(format, "expose")) {
        const char *slash = strchr(s, '/');
        return port_range(s, slash ? (size_t)(slash - s) : strlen(s));
    }
    if (!strcmp(format, "ports")) {
        struct err e = {0};
        json_t *ports = cmp_parse_ports(s, &e);
        json_decref(ports);
        return ports != NULL;
    }
    return true;
}

/* ---- the interpreter ------------------------------------------------- */

static bool pattern_match(struct vctx *c, const char *pat, const char *key)
{
    struct pattern *p = NULL;
    for (size_t i = 0; i < c->npats; i++)
        if (c->pats[i].text == pat)
            p = &c->pats[i];
    if (!p) {
        if (c->npats == sizeof(c->pats) / sizeof(c->pats[0]))
            return false;
        p = &c->pats[c->npats++];
        p->text = pat;
        p->ok = regcomp(&p->re, pat, REG_EXTENDED | REG_NOSUB) == 0;
    }
    return p->ok && regexec(&p->re, key, 0, NULL, 0) == 0;
}

static bool check(struct vctx *c, const json_t *s, const json_t *v,
                  struct verr *e, int *score);

static bool check_object(struct vctx *c, const json_t *s, const json_t *v,
                         struct verr *e, int *score)
{
    bool ok = true;
    json_t *props = json_object_get(s, "properties");
    json_t *pats = json_object_get(s, "patternProperties");
    json_t *addl = json_object_get(s, "additionalProperties");
    size_t i;
    json_t *req;
    json_array_foreach(json_object_get(s, "required"), i, req)
    {
        const char *name = json_string_value(req);
        if (name && !json_object_get(v, name)) {
            report(e, c, NULL, false, "%s is required", name);
            ok = false;
        }
    }
    const char *k;
    json_t *child;
    json_object_foreach((json_t *)v, k, child)
    {
        bool matched = false;
        size_t old = cmp_path_push(&c->path, k);
        json_t *ps = json_object_get(props, k);
        if (ps) {
            matched = true;
            int sub = 0;
            if (check(c, ps, child, e, &sub))
                (*score)++;
            else
                ok = false;
        }
        const char *pk;
        json_t *psch;
        json_object_foreach(pats, pk, psch)
        {
            if (!pattern_match(c, pk, k))
                continue;
            matched = true;
            int sub = 0;
            if (!check(c, psch, child, e, &sub))
                ok = false;
        }
        if (!matched && json_is_object(addl)) {
            int sub = 0;
            if (!check(c, addl, child, e, &sub))
                ok = false;
        }
        cmp_path_pop(&c->path, old);
        if (!matched && json_is_false(addl)) {
            report(e, c, k, false, "Additional property %s is not allowed", k);
            ok = false;
        }
    }
    return ok;
}

static bool check_array(struct vctx *c, const json_t *s, const json_t *v,
                        struct verr *e)
{
    bool ok = true;
    json_t *items = json_object_get(s, "items");
    size_t i;
    json_t *item;
    if (json_is_object(items)) {
        json_array_foreach(v, i, item)
        {
            size_t old = cmp_path_push_index(&c->path, i);
            int sub = 0;
            if (!check(c, items, item, e, &sub))
                ok = false;
            cmp_path_pop(&c->path, old);
        }
    }
    if (json_is_true(json_object_get(s, "uniqueItems"))) {
        struct hmap seen;
        hmap_init(&seen);
        struct vec texts;
        vec_init(&texts);
        json_array_foreach(v, i, item)
        {
            char *t = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS |
                                           JSON_ENCODE_ANY);
            if (!t)
                continue;
            vec_push(&texts, t);
            void *prev = hmap_get(&seen, t);
            if (prev) {
                char idx[24];
                snprintf(idx, sizeof(idx), "%zu", i);
                report(e, c, idx, false, "array items[%zu,%zu] must be unique",
                       (size_t)(uintptr_t)prev - 1, i);
                ok = false;
                break;
            }
            hmap_put(&seen, t, (void *)(uintptr_t)(i + 1));
        }
        for (size_t k = 0; k < texts.len; k++)
            free(texts.items[k]);
        vec_fini(&texts);
        hmap_fini(&seen);
    }
    return ok;
}

/* oneOf / anyOf: the best failing branch's problem, or, when no branch
 * even has the right type, "must be a string or list". */
static bool check_alternatives(struct vctx *c, const json_t *alts, bool one,
                               const json_t *v, struct verr *e, int *score)
{
    size_t valid = 0, i;
    int best_score = -1;
    struct verr best = {0};
    json_t *alt;
    json_array_foreach(alts, i, alt)
    {
        struct verr be = {0};
        int sc = 0;
        if (check(c, alt, v, &be, &sc)) {
            valid++;
        } else if (sc > best_score) {
            best_score = sc;
            best = be;
        }
    }
    if (one ? valid == 1 : valid >= 1) {
        (*score)++;
        return true;
    }
    if (valid > 1) {
        report(e, c, NULL, false, "must validate one and only one schema");
        return false;
    }
    if (best_score <= 0) {
        const char *types[16];
        size_t n = 0;
        json_array_foreach(alts, i, alt)
        {
            n += schema_types(c, alt, types + n, 16 - n);
        }
        if (n) {
            struct buf b;
            buf_init(&b);
            type_words(&b, types, n);
            report(e, c, NULL, true, "must be %s", b.data);
            buf_fini(&b);
            return false;
        }
    }
    merge_err(e, &best);
    return false;
}

static bool check(struct vctx *c, const json_t *s, const json_t *v,
                  struct verr *e, int *score)
{
    s = resolve_ref(c, s);
    if (!json_is_object(s))
        return true;
    json_t *type = json_object_get(s, "type");
    if (type) {
        bool match = false;
        const char *types[8];
        size_t n = 0;
        if (json_is_string(type)) {
            types[n++] = json_string_value(type);
        } else {
            size_t i;
            json_t *t;
            json_array_foreach(type, i, t)
            {
                if (n < 8 && json_is_string(t))
                    types[n++] = json_string_value(t);
            }
        }
        for (size_t i = 0; i < n && !match; i++)
            match = is_type(v, types[i]);
        if (!match) {
            struct buf b;
            buf_init(&b);
            type_words(&b, types, n);
            report(e, c, NULL, true, "must be %s", b.data);
            buf_fini(&b);
            return false;
        }
        (*score)++;
    }
    bool ok = true;
    json_t *en = json_object_get(s, "enum");
    if (json_is_array(en)) {
        bool found = false;
        size_t i;
        json_t *x;
        json_array_foreach(en, i, x)
        {
            found = found || json_equal(x, (json_t *)v);
        }
        if (!found) {
            struct buf b;
            buf_init(&b);
            json_array_foreach(en, i, x)
            {
                char *t = json_dumps(x, JSON_ENCODE_ANY);
                buf_printf(&b, "%s%s", i ? ", " : "", t ? t : "");
                free(t);
            }
            report(e, c, NULL, false, "must be one of the following: %s",
                   b.data ? b.data : "");
            buf_fini(&b);
            ok = false;
        }
    }
    json_t *min = json_object_get(s, "minimum");
    if (json_is_number(min) && json_is_number(v) &&
        json_number_value(v) < json_number_value(min)) {
        char *t = cmp_scalar_text(min);
        report(e, c, NULL, false, "must be greater than or equal to %s", t);
        free(t);
        ok = false;
    }
    const char *format = jx_str(s, "format");
    if (format && (json_is_string(v) || json_is_number(v)) &&
        !format_ok(format, v)) {
        report(e, c, NULL, false, "Does not match format '%s'", format);
        ok = false;
    }
    if (json_is_object(v) && !check_object(c, s, v, e, score))
        ok = false;
    if (json_is_array(v) && !check_array(c, s, v, e))
        ok = false;
    json_t *alts = json_object_get(s, "oneOf");
    if (alts && !check_alternatives(c, alts, true, v, e, score))
        ok = false;
    alts = json_object_get(s, "anyOf");
    if (alts && !check_alternatives(c, alts, false, v, e, score))
        ok = false;
    return ok;
}

int cmp_validate(const json_t *config, const struct hmap *locs, struct err *err)
{
    json_error_t je;
    json_t *schema = json_loads(cmp_schema_v3_13, 0, &je);
    if (!schema)
        return err_set(err, ERR_INTERNAL, "the compose schema: %s", je.text);
    struct vctx c = {.schema = schema};
    struct verr e = {0};
    int score = 0;
    bool ok = check(&c, schema, config, &e, &score);
    for (size_t i = 0; i < c.npats; i++)
        if (c.pats[i].ok)
            regfree(&c.pats[i].re);
    json_decref(schema);
    if (ok)
        return 0;
    if (!e.set)
        return err_set(err, ERR_INVALID, "the compose file is not valid");
    return cmp_err(err, locs, e.loc, "%s", e.msg);
}
