// SPDX-License-Identifier: Apache-2.0
// The libfyaml adapter (the only file that includes it): a compose file's
// YAML into JSON, as the docker CLI's YAML decoder sees it. Plain scalars
// are typed by the YAML 1.2 core schema (null, booleans, integers with
// Go's prefixes, floats), quoted and block scalars are strings; aliases
// are followed and merge keys (<<) applied, with a cap on what alias
// expansion may produce; every key's line is recorded for error messages.
#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "compose/compose_internal.h"

/* Past these the file is refused: a few aliases can otherwise expand into
 * billions of nodes ("billion laughs"). */
#define YAML_MAX_NODES 1000000
#define YAML_MAX_DEPTH 200

struct yctx {
    const char *file;
    struct cmp_locs *locs;
    struct err *err;
    size_t nodes;
    int depth;
    bool keep; /* merged keys: never overwrite a recorded location */
    struct cmp_path path;
};

static int yerr(struct yctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int yerr(struct yctx *c, int line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0)
        return err_set(c->err, ERR_INVALID, "%s:%d: %s", c->file, line, msg);
    return err_set(c->err, ERR_INVALID, "%s: %s", c->file, msg);
}

/* 1-based line where a node starts (0 if unknown). */
static int node_line(struct fy_node *n)
{
    if (!n)
        return 0;
    if (fy_node_is_scalar(n)) {
        struct fy_token *t = fy_node_get_scalar_token(n);
        const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
        return m ? m->line + 1 : 0;
    }
    void *it = NULL;
    if (fy_node_is_mapping(n)) {
        struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
        return p ? node_line(fy_node_pair_key(p)) : 0;
    }
    struct fy_node *first = fy_node_sequence_iterate(n, &it);
    return node_line(first);
}

static void record(struct yctx *c, int line)
{
    if (line <= 0 || !c->path.len)
        return;
    if (c->keep && hmap_get(c->locs->map, c->path.s))
        return;
    cmp_loc_set(c->locs, c->path.s, c->file, line);
}

/* ---- scalars: the YAML 1.2 core schema, as yaml.v3 resolves it ------- */

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

/* Go's strconv.ParseInt(s, 0, 64) after yaml.v3 drops '_'. */
static bool parse_int(const char *s, json_t **out)
{
    char buf[128];
    size_t n = 0;
    for (const char *p = s; *p && n + 1 < sizeof(buf); p++)
        if (*p != '_')
            buf[n++] = *p;
    buf[n] = '\0';
    const char *p = buf;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    } else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
        base = 8;
        p += 2;
    } else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
        base = 2;
        p += 2;
    } else if (p[0] == '0' && p[1]) {
        base = 8;
        p++;
    }
    if (!*p)
        return false;
    for (const char *q = p; *q; q++) {
        int d = *q >= '0' && *q <= '9'   ? *q - '0'
                : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
                : *q >= 'A' && *q <= 'F' ? *q - 'A' + 10
                                         : 99;
        if (d >= base)
            return false;
    }
    errno = 0;
    char *end;
    unsigned long long u = strtoull(p, &end, base);
    if (*end || errno == ERANGE) {
        *out = json_real(neg ? -strtod(p, NULL) : strtod(p, NULL));
        return *out != NULL;
    }
    if (!neg && u > (unsigned long long)INT64_MAX)
        *out = json_real((double)u);
    else if (neg && u > (unsigned long long)INT64_MAX + 1)
        *out = json_real(-(double)u);
    else
        *out = json_integer(neg ? (json_int_t)(0 - u) : (json_int_t)u);
    return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool parse_float(const char *s, json_t **out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p)
        return false;
    double d = strtod(s, NULL);
    if (!isfinite(d))
        return false;
    *out = json_real(d);
    return *out != NULL;
}

static json_t *resolve_plain(const char *s)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    if (one_of(s, nulls))
        return json_null();
    if (one_of(s, trues))
        return json_true();
    if (one_of(s, falses))
        return json_false();
    json_t *v = NULL;
    if (strchr("+-0123456789.", s[0]) &&
        (parse_int(s, &v) || parse_float(s, &v)))
        return v;
    /* .inf and .nan have no JSON form: they stay text. */
    return json_string(s);
}

static bool tag_is(const char *tag, size_t tl, const char *name)
{
    char full[64];
    snprintf(full, sizeof(full), "tag:yaml.org,2002:%s", name);
    return tl == strlen(full) && memcmp(tag, full, tl) == 0;
}

static json_t *scalar(struct yctx *c, struct fy_node *n)
{
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    char *text = xstrndup(s ? s : "", len);
    if (strlen(text) != len) { /* a NUL inside */
        free(text);
        yerr(c, node_line(n), "a string contains a NUL character");
        return NULL;
    }
    size_t tl = 0;
    const char *tag = fy_node_get_tag(n, &tl);
    json_t *v;
    if (tag && tag_is(tag, tl, "str")) {
        v = json_string(text);
    } else if (tag && (tag_is(tag, tl, "int") || tag_is(tag, tl, "float") ||
                       tag_is(tag, tl, "bool") || tag_is(tag, tl, "null"))) {
        v = resolve_plain(text);
    } else if (fy_node_get_style(n) == FYNS_PLAIN &&
               !(tag && tl == 1 && tag[0] == '!')) {
        v = resolve_plain(text);
    } else {
        v = json_string(text);
    }
    free(text);
    if (!v) /* not valid UTF-8 */
        yerr(c, node_line(n), "a string is not valid UTF-8");
    return v;
}

/* ---- the tree -------------------------------------------------------- */

static json_t *convert(struct yctx *c, struct fy_node *n);

static bool is_merge_key(struct fy_node *k)
{
    if (!k || !fy_node_is_scalar(k) || fy_node_is_alias(k) ||
        fy_node_get_style(k) != FYNS_PLAIN)
        return false;
    size_t len;
    const char *s = fy_node_get_scalar(k, &len);
    return s && len == 2 && memcmp(s, "<<", 2) == 0;
}

static struct fy_node *deref(struct yctx *c, struct fy_node *n)
{
    if (!n || !fy_node_is_alias(n))
        return n;
    struct fy_node *r = fy_node_resolve_alias(n);
    if (!r) {
        size_t len;
        const char *name = fy_node_get_scalar(n, &len);
        yerr(c, node_line(n), "unknown anchor '%.*s' referenced",
             (int)(name ? len : 0), name ? name : "");
    }
    return r;
}

/* Keys of a merged mapping that the mapping does not set itself. */
static int merge_into(struct yctx *c, json_t *obj, struct fy_node *src,
                      int line)
{
    struct fy_node *m = deref(c, src);
    if (!m)
        return -1;
    if (!fy_node_is_mapping(m))
        return yerr(c, line,
                    "map merge requires map or sequence of maps as the "
                    "value");
    bool keep = c->keep;
    c->keep = true;
    json_t *from = convert(c, m);
    c->keep = keep;
    if (!from)
        return -1;
    const char *k;
    json_t *v;
    json_object_foreach(from, k, v)
    {
        if (!json_object_get(obj, k))
            json_object_set(obj, k, v);
    }
    json_decref(from);
    return 0;
}

static json_t *mapping(struct yctx *c, struct fy_node *n)
{
    json_t *obj = json_object();
    void *it = NULL;
    struct fy_node_pair *p;
    /* Explicit keys first: they win over merged ones wherever they are. */
    while ((p = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *kn = fy_node_pair_key(p);
        if (is_merge_key(kn))
            continue;
        struct fy_node *k = deref(c, kn);
        if (!k && kn)
            goto fail;
        if (k && !fy_node_is_scalar(k)) {
            yerr(c, node_line(k), "mapping keys must be strings");
            goto fail;
        }
        size_t len = 0;
        const char *ks = k ? fy_node_get_scalar(k, &len) : "";
        char *key = xstrndup(ks ? ks : "", len);
        json_t *valid = json_string(key); /* NULL unless UTF-8 */
        json_decref(valid);
        if (strlen(key) != len || !valid) {
            free(key);
            yerr(c, node_line(k), "a mapping key is not valid text");
            goto fail;
        }
        if (json_object_get(obj, key)) {
            yerr(c, node_line(k), "mapping key \"%s\" already defined", key);
            free(key);
            goto fail;
        }
        size_t old = cmp_path_push(&c->path, key);
        record(c, node_line(k));
        struct fy_node *vn = fy_node_pair_value(p);
        json_t *v = vn ? convert(c, vn) : json_null();
        cmp_path_pop(&c->path, old);
        if (!v) {
            free(key);
            goto fail;
        }
        json_object_set_new(obj, key, v);
        free(key);
    }
    it = NULL;
    while ((p = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *kn = fy_node_pair_key(p);
        if (!is_merge_key(kn))
            continue;
        int line = node_line(kn);
        struct fy_node *v = deref(c, fy_node_pair_value(p));
        if (!v && fy_node_pair_value(p))
            goto fail;
        if (v && fy_node_is_sequence(v)) {
            void *si = NULL;
            struct fy_node *item;
            while ((item = fy_node_sequence_iterate(v, &si)))
                if (merge_into(c, obj, item, line) < 0)
                    goto fail;
        } else if (!v || merge_into(c, obj, v, line) < 0) {
            if (!v)
                yerr(c, line,
                     "map merge requires map or sequence of maps as the "
                     "value");
            goto fail;
        }
    }
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

static json_t *sequence(struct yctx *c, struct fy_node *n)
{
    json_t *arr = json_array();
    void *it = NULL;
    struct fy_node *item;
    size_t i = 0;
    while ((item = fy_node_sequence_iterate(n, &it))) {
        size_t old = cmp_path_push_index(&c->path, i++);
        record(c, node_line(item));
        json_t *v = convert(c, item);
        cmp_path_pop(&c->path, old);
        if (!v) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, v);
    }
    return arr;
}

static json_t *convert(struct yctx *c, struct fy_node *n)
{
    if (++c->nodes > YAML_MAX_NODES) {
        yerr(c, 0,
             "the document is too large (more than %d values after "
             "aliases are expanded)",
             YAML_MAX_NODES);
        return NULL;
    }
    if (c->depth >= YAML_MAX_DEPTH) {
        yerr(c, node_line(n), "the document is nested too deeply");
        return NULL;
    }
    struct fy_node *r = deref(c, n);
    if (!r)
        return NULL;
    c->depth++;
    json_t *v = fy_node_is_mapping(r)    ? mapping(c, r)
                : fy_node_is_sequence(r) ? sequence(c, r)
                                         : scalar(c, r);
    c->depth--;
    return v;
}

/* ---- the document ---------------------------------------------------- */

/* Length of the UTF-8 sequence at p (strict: no overlong forms, no
 * surrogates, at most U+10FFFF), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len = p[0] >= 0xc2 && p[0] <= 0xdf   ? 2
                 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
                 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
                                                : 0;
    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

/* YAML streams are text: the docker CLI's decoder refuses invalid UTF-8
 * and control characters, and libfyaml 0.7 can loop on some invalid
 * bytes, so both are refused here first. */
static int check_text(struct yctx *c, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    int line = 1;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(p + i, len - i);
        if (!n)
            return yerr(c, line, "invalid YAML: invalid UTF-8");
        if (n == 1 &&
            ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') ||
             p[i] == 0x7f))
            return yerr(c, line,
                        "invalid YAML: control characters are not allowed");
        line += p[i] == '\n';
        i += n;
    }
    return 0;
}

static void quiet_output(struct fy_diag *diag, void *user, const char *buf,
                         size_t len)
{
    (void)diag, (void)user, (void)buf, (void)len;
}

json_t *cmp_yaml_load(const char *file, const char *text, size_t len,
                      struct cmp_locs *locs, struct err *err)
{
    struct yctx c = {.file = file, .locs = locs, .err = err};
    if (check_text(&c, text, len) < 0)
        return NULL;
    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL;
    dc.output_fn = quiet_output;
    struct fy_diag *diag = fy_diag_create(&dc);
    if (!diag) {
        yerr(&c, 0, "cannot set up the YAML parser");
        return NULL;
    }
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {
        .flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2 | FYPCF_JSON_NONE,
        .diag = diag,
    };
    struct fy_document *doc = fy_document_build_from_string(&cfg, text, len);
    json_t *out = NULL;
    if (!doc) {
        void *it = NULL;
        struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
        if (e)
            yerr(&c, e->line, "invalid YAML: %s", e->msg);
        else
            yerr(&c, 0, "Top-level object must be a mapping");
    } else {
        struct fy_node *root = fy_document_root(doc);
        struct fy_node *r = root ? deref(&c, root) : NULL;
        if (r && fy_node_is_mapping(r))
            out = convert(&c, r);
        else if (root && !r && err_is_set(err))
            out = NULL;
        else
            yerr(&c, node_line(root), "Top-level object must be a mapping");
        fy_document_destroy(doc);
    }
    fy_diag_destroy(diag);
    return out;
}
