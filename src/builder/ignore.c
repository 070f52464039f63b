// SPDX-License-Identifier: Apache-2.0
// .dockerignore matching and path globs (see ignore.h). Components are
// matched with fnmatch(3) without FNM_PATHNAME (a component holds no '/');
// `**` is handled here by trying every split.
#include <fnmatch.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "builder/ignore.h"

char *path_clean_rel(const char *path)
{
    struct buf out;
    buf_init(&out);
    size_t depth = 0; /* components in out */
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* skip */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (depth > 0) {
                char *slash = out.len ? memrchr(out.data, '/', out.len) : NULL;
                out.len = slash ? (size_t)(slash - out.data) : 0;
                out.data[out.len] = 0;
                depth--;
            }
        } else {
            if (out.len)
                buf_putc(&out, '/');
            buf_append(&out, p, n);
            depth++;
        }
        p = e;
    }
    if (!out.len)
        buf_putc(&out, '.');
    return buf_steal(&out);
}

void ignore_parse(const char *text, struct ignore *out)
{
    memset(out, 0, sizeof(*out));
    if (!text)
        return;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        _cleanup_free_ char *line = xstrndup(p, len);
        p = nl ? nl + 1 : p + len;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            s[--n] = 0;
        if (!*s || *s == '#')
            continue;
        bool exclude = true;
        if (*s == '!') {
            exclude = false;
            s++;
            while (*s == ' ' || *s == '\t')
                s++;
            if (!*s)
                continue;
        }
        out->rules = xrealloc(out->rules, (out->n + 1) * sizeof(*out->rules));
        out->rules[out->n].pattern = path_clean_rel(s);
        out->rules[out->n].exclude = exclude;
        out->n++;
    }
}

void ignore_fini(struct ignore *ig)
{
    for (size_t i = 0; i < ig->n; i++)
        free(ig->rules[i].pattern);
    free(ig->rules);
    memset(ig, 0, sizeof(*ig));
}

bool glob_is_pattern(const char *pattern)
{
    return strpbrk(pattern, "*?[\\") != NULL;
}

/* Matches pattern components pc[0..np) against path components
 * sc[0..ns). */
static bool match_parts(char **pc, size_t np, char **sc, size_t ns)
{
    if (np == 0)
        return ns == 0;
    if (strcmp(pc[0], "**") == 0) {
        for (size_t k = 0; k <= ns; k++)
            if (match_parts(pc + 1, np - 1, sc + k, ns - k))
                return true;
        return false;
    }
    if (ns == 0)
        return false;
    if (fnmatch(pc[0], sc[0], 0) != 0)
        return false;
    return match_parts(pc + 1, np - 1, sc + 1, ns - 1);
}

/* Splits a '/'-separated string in place. */
static char **split(char *s, size_t *n)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == '/';
    char **v = xcalloc(cap + 1, sizeof(*v));
    *n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, "/", &save); t; t = strtok_r(NULL, "/", &save))
        v[(*n)++] = t;
    return v;
}

bool glob_match(const char *pattern, const char *path)
{
    _cleanup_free_ char *p = xstrdup(pattern);
    _cleanup_free_ char *s = xstrdup(path);
    size_t np, ns;
    _cleanup_free_ char **pc = split(p, &np);
    _cleanup_free_ char **sc = split(s, &ns);
    if (match_parts(pc, np, sc, ns))
        return true;
    return false;
}

/* Does the rule match path or one of its parent directories? */
static bool rule_match(const char *pattern, const char *path)
{
    _cleanup_free_ char *p = xstrdup(pattern);
    _cleanup_free_ char *s = xstrdup(path);
    size_t np, ns;
    _cleanup_free_ char **pc = split(p, &np);
    _cleanup_free_ char **sc = split(s, &ns);
    for (size_t k = ns; k >= 1; k--)
        if (match_parts(pc, np, sc, k))
            return true;
    return false;
}

bool ignore_match(const struct ignore *ig, const char *path)
{
    _cleanup_free_ char *clean = path_clean_rel(path);
    if (strcmp(clean, ".") == 0)
        return false;
    bool excluded = false;
    for (size_t i = 0; i < ig->n; i++) {
        if (excluded == ig->rules[i].exclude)
            continue; /* cannot change the outcome */
        if (rule_match(ig->rules[i].pattern, clean))
            excluded = ig->rules[i].exclude;
    }
    return excluded;
}
