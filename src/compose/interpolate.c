// SPDX-License-Identifier: Apache-2.0
// Variables in compose files: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
// ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt} and $$, substituted
// in every string value (keys stay as written), then the docker CLI's
// casts of the values it reads as numbers or booleans. Also the two
// KEY=VALUE formats: .env (quotes, comments, "export ") and env_file
// (docker's opts.ParseEnvFile: values verbatim).
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "compose/compose_internal.h"

/* ---- one template ----------------------------------------------------- */

static bool name_start(char c)
{
    return c == '_' || isalpha((unsigned char)c);
}

static bool name_char(char c)
{
    return c == '_' || isalnum((unsigned char)c);
}

/* The end of "${...}" starting at p ("${"), nested ${} counted; NULL if
 * unterminated. */
static const char *brace_end(const char *p)
{
    int depth = 0;
    for (; *p; p++) {
        if (p[0] == '$' && p[1] == '$') {
            p++;
        } else if (p[0] == '$' && p[1] == '{') {
            depth++;
            p++;
        } else if (*p == '}' && --depth == 0) {
            return p;
        }
    }
    return NULL;
}

static int substitute(const char *tmpl, const char *whole, const json_t *env,
                      json_t *unset, struct buf *out, int depth,
                      struct err *err);

static int invalid(const char *whole, struct err *err)
{
    return err_set(err, ERR_INVALID,
                   "invalid interpolation format: \"%s\"; you may need to "
                   "escape any $ with another $",
                   whole);
}

static int braced(const char *start, const char *end, const char *whole,
                  const json_t *env, json_t *unset, struct buf *out, int depth,
                  struct err *err)
{
    const char *p = start; /* after "${" */
    if (!name_start(*p))
        return invalid(whole, err);
    while (name_char(*p))
        p++;
    char *name = xstrndup(start, (size_t)(p - start));
    const char *value = json_string_value(json_object_get(env, name));
    bool set = value != NULL;
    bool empty = !set || !*value;
    int rc = 0;
    if (p == end) {
        if (!set && unset)
            json_object_set_new(unset, name, json_true());
        buf_puts(out, set ? value : "");
        free(name);
        return 0;
    }
    bool colon = *p == ':';
    if (colon)
        p++;
    char op = *p++;
    if (!strchr("-?+", op) || p > end) {
        free(name);
        return invalid(whole, err);
    }
    char *rest = xstrndup(p, (size_t)(end - p));
    bool missing = colon ? empty : !set;
    if (op == '-') {
        if (missing)
            rc = substitute(rest, whole, env, unset, out, depth + 1, err);
        else
            buf_puts(out, value);
    } else if (op == '+') {
        if (!missing)
            rc = substitute(rest, whole, env, unset, out, depth + 1, err);
    } else if (missing) {
        struct buf why;
        buf_init(&why);
        rc = substitute(rest, whole, env, unset, &why, depth + 1, err);
        if (rc == 0)
            rc = err_set(err, ERR_INVALID,
                         "required variable %s is missing a value%s%s", name,
                         why.len ? ": " : "", why.len ? why.data : "");
        buf_fini(&why);
    } else {
        buf_puts(out, value);
    }
    free(rest);
    free(name);
    return rc;
}

static int substitute(const char *tmpl, const char *whole, const json_t *env,
                      json_t *unset, struct buf *out, int depth,
                      struct err *err)
{
    if (depth > 20)
        return invalid(whole, err);
    for (const char *p = tmpl; *p;) {
        if (*p != '$') {
            buf_putc(out, *p++);
        } else if (p[1] == '$') {
            buf_putc(out, '$');
            p += 2;
        } else if (name_start(p[1])) {
            const char *s = p + 1, *e = s;
            while (name_char(*e))
                e++;
            char *name = xstrndup(s, (size_t)(e - s));
            const char *value = json_string_value(json_object_get(env, name));
            if (!value && unset)
                json_object_set_new(unset, name, json_true());
            buf_puts(out, value ? value : "");
            free(name);
            p = e;
        } else if (p[1] == '{') {
            const char *end = brace_end(p);
            if (!end)
                return invalid(whole, err);
            if (braced(p + 2, end, whole, env, unset, out, depth, err) < 0)
                return -1;
            p = end + 1;
        } else {
            buf_putc(out, *p++); /* "$" before anything else stays */
        }
    }
    return 0;
}

char *cmp_substitute(const char *tmpl, const json_t *env, json_t *unset,
                     struct err *err)
{
    struct buf out;
    buf_init(&out);
    if (substitute(tmpl, tmpl, env, unset, &out, 0, err) < 0) {
        buf_fini(&out);
        return NULL;
    }
    buf_putc(&out, '\0');
    return buf_steal(&out);
}

/* ---- the docker CLI's casts (interpolateTypeCastMapping) ------------- */

enum cast { CAST_INT, CAST_FLOAT, CAST_BOOL };

/* "*" matches a key, "[]" an index. */
static const struct {
    const char *path;
    enum cast to;
} casts[] = {
    {"services.*.configs.[].mode", CAST_INT},
    {"services.*.secrets.[].mode", CAST_INT},
    {"services.*.healthcheck.retries", CAST_INT},
    {"services.*.healthcheck.disable", CAST_BOOL},
    {"services.*.deploy.replicas", CAST_INT},
    {"services.*.deploy.update_config.parallelism", CAST_INT},
    {"services.*.deploy.update_config.max_failure_ratio", CAST_FLOAT},
    {"services.*.deploy.rollback_config.parallelism", CAST_INT},
    {"services.*.deploy.rollback_config.max_failure_ratio", CAST_FLOAT},
    {"services.*.deploy.restart_policy.max_attempts", CAST_INT},
    {"services.*.deploy.placement.max_replicas_per_node", CAST_INT},
    {"services.*.deploy.resources.limits.pids", CAST_INT},
    {"services.*.ports.[].target", CAST_INT},
    {"services.*.ports.[].published", CAST_INT},
    {"services.*.ulimits.*", CAST_INT},
    {"services.*.ulimits.*.hard", CAST_INT},
    {"services.*.ulimits.*.soft", CAST_INT},
    {"services.*.privileged", CAST_BOOL},
    {"services.*.read_only", CAST_BOOL},
    {"services.*.stdin_open", CAST_BOOL},
    {"services.*.tty", CAST_BOOL},
    {"services.*.init", CAST_BOOL},
    {"services.*.oom_score_adj", CAST_INT},
    {"services.*.volumes.[].read_only", CAST_BOOL},
    {"services.*.volumes.[].volume.nocopy", CAST_BOOL},
    {"services.*.volumes.[].tmpfs.size", CAST_INT},
    {"networks.*.external", CAST_BOOL},
    {"networks.*.internal", CAST_BOOL},
    {"networks.*.attachable", CAST_BOOL},
    {"volumes.*.external", CAST_BOOL},
    {"secrets.*.external", CAST_BOOL},
    {"configs.*.external", CAST_BOOL},
};

#define MAX_SEGS 64

struct walk {
    const json_t *env;
    const struct hmap *locs;
    struct vec *warnings;
    json_t *unset;   /* names already warned about */
    json_t *pending; /* unset names of the current value */
    struct err *err;
    struct cmp_path path;
    const char *segs[MAX_SEGS]; /* NULL = an index */
    int depth;
};

static bool cast_for(const struct walk *w, enum cast *to)
{
    for (size_t i = 0; i < sizeof(casts) / sizeof(casts[0]); i++) {
        const char *p = casts[i].path;
        int d = 0;
        bool ok = true;
        while (*p && ok) {
            const char *dot = strchr(p, '.');
            size_t n = dot ? (size_t)(dot - p) : strlen(p);
            if (d >= w->depth) {
                ok = false;
            } else if (n == 2 && memcmp(p, "[]", 2) == 0) {
                ok = w->segs[d] == NULL;
            } else if (n == 1 && *p == '*') {
                ok = w->segs[d] != NULL;
            } else {
                ok = w->segs[d] && strlen(w->segs[d]) == n &&
                     memcmp(w->segs[d], p, n) == 0;
            }
            d++;
            p += n + (dot ? 1 : 0);
        }
        if (ok && d == w->depth) {
            *to = casts[i].to;
            return true;
        }
    }
    return false;
}

/* The cast value, or NULL to leave the string for the schema to refuse. */
static json_t *cast(const char *s, enum cast to)
{
    char *end;
    errno = 0;
    switch (to) {
    case CAST_INT: {
        long long v = strtoll(s, &end, 10);
        if (!*s || *end || errno || isspace((unsigned char)*s))
            return NULL;
        return json_integer(v);
    }
    case CAST_FLOAT: {
        double d = strtod(s, &end);
        if (!*s || *end || errno || isspace((unsigned char)*s))
            return NULL;
        return json_real(d);
    }
    case CAST_BOOL: {
        char low[8];
        size_t n = strlen(s);
        if (n >= sizeof(low))
            return NULL;
        for (size_t i = 0; i <= n; i++)
            low[i] = (char)tolower((unsigned char)s[i]);
        if (!strcmp(low, "y") || !strcmp(low, "yes") || !strcmp(low, "true") ||
            !strcmp(low, "on"))
            return json_true();
        if (!strcmp(low, "n") || !strcmp(low, "no") || !strcmp(low, "false") ||
            !strcmp(low, "off"))
            return json_false();
        return NULL;
    }
    }
    return NULL;
}

/* The new value for a string leaf (owned), or NULL with err. */
static json_t *leaf(struct walk *w, const json_t *v)
{
    const char *s = json_string_value(v);
    json_object_clear(w->pending);
    char *out = cmp_substitute(s, w->env, w->pending, w->err);
    if (!out) {
        char msg[sizeof(w->err->msg)];
        snprintf(msg, sizeof(msg), "%s", w->err->msg);
        if (strncmp(msg, "invalid interpolation format: ", 30) == 0)
            return cmp_err(w->err, w->locs, w->path.s,
                           "invalid interpolation format for %s: %s",
                           cmp_path_name(&w->path), msg + 30),
                   NULL;
        return cmp_err(w->err, w->locs, w->path.s,
                       "error while interpolating %s: %s",
                       cmp_path_name(&w->path), msg),
               NULL;
    }
    const char *name;
    json_t *x;
    json_object_foreach(w->pending, name, x)
    {
        if (json_object_get(w->unset, name))
            continue;
        json_object_set_new(w->unset, name, json_true());
        vec_push(w->warnings,
                 xasprintf("The \"%s\" variable is not set. Defaulting to a "
                           "blank string.",
                           name));
    }
    enum cast to;
    json_t *res = cast_for(w, &to) ? cast(out, to) : NULL;
    if (!res)
        res = json_string(out);
    free(out);
    return res;
}

static int walk(struct walk *w, json_t *v);

static int walk_child(struct walk *w, json_t *parent, const char *key,
                      size_t index, json_t *child)
{
    if (w->depth >= MAX_SEGS)
        return 0;
    size_t old = key ? cmp_path_push(&w->path, key)
                     : cmp_path_push_index(&w->path, index);
    w->segs[w->depth++] = key;
    int rc = 0;
    if (json_is_string(child)) {
        json_t *nv = leaf(w, child);
        if (!nv)
            rc = -1;
        else if (key)
            json_object_set_new(parent, key, nv);
        else
            json_array_set_new(parent, index, nv);
    } else {
        rc = walk(w, child);
    }
    w->depth--;
    cmp_path_pop(&w->path, old);
    return rc;
}

static int walk(struct walk *w, json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c)
        {
            if (walk_child(w, v, k, 0, c) < 0)
                return -1;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (walk_child(w, v, NULL, i, json_array_get(v, i)) < 0)
                return -1;
    }
    return 0;
}

int cmp_interpolate(json_t *config, const json_t *env, const struct hmap *locs,
                    struct vec *warnings, struct err *err)
{
    struct walk w = {
        .env = env,
        .locs = locs,
        .warnings = warnings,
        .unset = json_object(),
        .pending = json_object(),
        .err = err,
    };
    int rc = walk(&w, config);
    json_decref(w.unset);
    json_decref(w.pending);
    return rc;
}

/* ---- KEY=VALUE files ------------------------------------------------- */

/* The next line of text (without its newline, owned); false at the end.
 * *ok is false when the line holds a NUL or is not UTF-8. */
static bool next_line(const char **p, const char *end, char **line, bool *ok)
{
    if (*p >= end)
        return false;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    if (n && (*p)[n - 1] == '\r')
        n--;
    *line = xstrndup(*p, n);
    *p = nl ? nl + 1 : end;
    json_t *j = json_string(*line);
    *ok = j && strlen(*line) == n;
    json_decref(j);
    return true;
}

int cmp_envfile_parse(const char *name, const char *text, size_t len,
                      const json_t *env, json_t *out, struct err *err)
{
    const char *p = text, *end = text + len;
    char *line;
    bool ok;
    int lineno = 0;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    while (next_line(&p, end, &line, &ok)) {
        lineno++;
        int rc = 0;
        const char *l = line;
        while (isspace((unsigned char)*l))
            l++;
        if (!ok) {
            rc = err_set(err, ERR_INVALID,
                         "%s:%d: env file contains invalid utf8 bytes", name,
                         lineno);
        } else if (*l && *l != '#') {
            const char *eq = strchr(l, '=');
            char *var = eq ? xstrndup(l, (size_t)(eq - l)) : xstrdup(l);
            if (!*var)
                rc = err_set(err, ERR_INVALID,
                             "%s:%d: no variable name on line '%s'", name,
                             lineno, l);
            else if (strpbrk(var, " \t\n\v\f\r"))
                rc = err_set(err, ERR_INVALID,
                             "%s:%d: variable '%s' contains whitespaces", name,
                             lineno, var);
            else if (eq)
                json_object_set_new(out, var, json_string(eq + 1));
            else if (json_is_string(json_object_get(env, var)))
                json_object_set(out, var, json_object_get(env, var));
            free(var);
        }
        free(line);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* A double-quoted .env value: \n \t \\ \" \$ escapes; "end" past the
 * closing quote. NULL if unterminated. */
static char *dquoted(const char *p, const char **after)
{
    struct buf b;
    buf_init(&b);
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            switch (*p) {
            case 'n':
                buf_putc(&b, '\n');
                break;
            case 't':
                buf_putc(&b, '\t');
                break;
            case 'r':
                buf_putc(&b, '\r');
                break;
            default:
                buf_putc(&b, *p);
            }
        } else {
            buf_putc(&b, *p);
        }
    }
    if (*p != '"') {
        buf_fini(&b);
        return NULL;
    }
    *after = p + 1;
    buf_putc(&b, '\0');
    return buf_steal(&b);
}

static int dotenv_line(const char *name, int lineno, const char *l, json_t *out,
                       struct err *err)
{
    if (strncmp(l, "export ", 7) == 0)
        for (l += 7; isspace((unsigned char)*l);)
            l++;
    const char *k = l;
    if (!name_start(*k))
        return err_set(err, ERR_INVALID,
                       "%s:%d: invalid variable name in \"%s\"", name, lineno,
                       l);
    while (name_char(*l) || *l == '.' || *l == '-')
        l++;
    char *key = xstrndup(k, (size_t)(l - k));
    while (*l == ' ' || *l == '\t')
        l++;
    if (*l != '=') {
        int rc = err_set(err, ERR_INVALID,
                         "%s:%d: unexpected character \"%c\" in variable "
                         "name \"%s\" (want KEY=VALUE)",
                         name, lineno, *l ? *l : ' ', key);
        free(key);
        return rc;
    }
    for (l++; *l == ' ' || *l == '\t';)
        l++;
    char *value = NULL;
    if (*l == '\'') {
        const char *close = strchr(l + 1, '\'');
        if (close)
            value = xstrndup(l + 1, (size_t)(close - l - 1));
    } else if (*l == '"') {
        const char *after;
        char *raw = dquoted(l, &after);
        if (raw) {
            value = cmp_substitute(raw, out, NULL, err);
            free(raw);
            if (!value) {
                free(key);
                return err_ctx(err, "%s:%d", name, lineno);
            }
        }
    } else {
        size_t n = strlen(l);
        for (size_t i = 0; i < n; i++)
            if (l[i] == '#' && i > 0 && isspace((unsigned char)l[i - 1])) {
                n = i;
                break;
            }
        while (n && isspace((unsigned char)l[n - 1]))
            n--;
        char *raw = xstrndup(l, n);
        value = cmp_substitute(raw, out, NULL, err);
        free(raw);
        if (!value) {
            free(key);
            return err_ctx(err, "%s:%d", name, lineno);
        }
    }
    if (!value) {
        int rc = err_set(err, ERR_INVALID, "%s:%d: unterminated quoted value",
                         name, lineno);
        free(key);
        return rc;
    }
    if (!json_object_get(out, key))
        json_object_set_new(out, key, json_string(value));
    free(key);
    free(value);
    return 0;
}

int compose_dotenv_parse(const char *name, const char *text, size_t len,
                         json_t *out, struct err *err)
{
    const char *p = text, *end = text + len;
    char *line;
    bool ok;
    int lineno = 0;
    while (next_line(&p, end, &line, &ok)) {
        lineno++;
        const char *l = line;
        while (isspace((unsigned char)*l))
            l++;
        int rc = 0;
        if (!ok)
            rc = err_set(err, ERR_INVALID, "%s:%d: invalid utf8 bytes", name,
                         lineno);
        else if (*l && *l != '#')
            rc = dotenv_line(name, lineno, l, out, err);
        free(line);
        if (rc < 0)
            return -1;
    }
    return 0;
}
