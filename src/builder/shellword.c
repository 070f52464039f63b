// SPDX-License-Identifier: Apache-2.0
// Dockerfile word expansion (see shellword.h): a small recursive scanner
// over the word, one function per context (plain, single quotes, double
// quotes, ${...}), the nested word of a modifier scanned by the same code
// up to its closing brace.
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "builder/shellword.h"

struct sw {
    const char *p; /* next character */
    char escape;
    shellword_lookup_fn lookup;
    void *data;
    struct err *err;
    int depth;
};

static int scan(struct sw *s, struct buf *out, char stop);

static bool name_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static const char *get(struct sw *s, const char *name)
{
    return s->lookup ? s->lookup(s->data, name) : NULL;
}

/* After "${": name, optional modifier and word, "}". */
static int braced(struct sw *s, struct buf *out)
{
    const char *n = s->p;
    if (name_start(*s->p) || isdigit((unsigned char)*s->p)) {
        while (name_char(*s->p))
            s->p++;
    }
    if (s->p == n)
        return err_set(s->err, ERR_INVALID,
                       "bad substitution: missing name "
                       "after ${");
    _cleanup_free_ char *name = xstrndup(n, (size_t)(s->p - n));
    const char *val = get(s, name);
    if (*s->p == '}') {
        s->p++;
        if (val)
            buf_puts(out, val);
        return 0;
    }
    if (!*s->p)
        return err_set(s->err, ERR_INVALID, "missing '}' in \"${%s\"", name);
    bool colon = false;
    if (*s->p == ':') {
        colon = true;
        s->p++;
    }
    char mod = *s->p;
    if (mod != '-' && mod != '+' && mod != '?')
        return err_set(s->err, ERR_INVALID,
                       "unsupported modifier (%s%c) in substitution of %s",
                       colon ? ":" : "", mod ? mod : ' ', name);
    s->p++;
    struct buf word;
    buf_init(&word);
    if (scan(s, &word, '}') < 0) {
        buf_fini(&word);
        return -1;
    }
    if (*s->p != '}') {
        buf_fini(&word);
        return err_set(s->err, ERR_INVALID, "missing '}' in \"${%s\"", name);
    }
    s->p++;
    bool set = val && (!colon || *val);
    const char *w = word.data ? word.data : "";
    int rc = 0;
    switch (mod) {
    case '-':
        buf_puts(out, set ? val : w);
        break;
    case '+':
        if (set)
            buf_puts(out, w);
        break;
    case '?':
        if (set)
            buf_puts(out, val);
        else
            rc = err_set(s->err, ERR_INVALID, "%s: %s", name,
                         *w ? w : "is not allowed to be unset");
        break;
    }
    buf_fini(&word);
    return rc;
}

/* At '$'. */
static int dollar(struct sw *s, struct buf *out)
{
    s->p++;
    if (*s->p == '{') {
        s->p++;
        return braced(s, out);
    }
    if (name_start(*s->p)) {
        const char *n = s->p;
        while (name_char(*s->p))
            s->p++;
        _cleanup_free_ char *name = xstrndup(n, (size_t)(s->p - n));
        const char *val = get(s, name);
        if (val)
            buf_puts(out, val);
        return 0;
    }
    if (isdigit((unsigned char)*s->p)) {
        char name[2] = {*s->p++, 0};
        const char *val = get(s, name);
        if (val)
            buf_puts(out, val);
        return 0;
    }
    buf_putc(out, '$'); /* a lone '$' stays */
    return 0;
}

static int single_quoted(struct sw *s, struct buf *out)
{
    s->p++;
    while (*s->p && *s->p != '\'')
        buf_putc(out, *s->p++);
    if (!*s->p)
        return err_set(s->err, ERR_INVALID,
                       "unexpected end of statement while looking for "
                       "matching single-quote");
    s->p++;
    return 0;
}

static int double_quoted(struct sw *s, struct buf *out)
{
    s->p++;
    while (*s->p && *s->p != '"') {
        char c = *s->p;
        if (c == '$') {
            if (dollar(s, out) < 0)
                return -1;
            continue;
        }
        if (c == s->escape && s->p[1]) {
            char n = s->p[1];
            if (n == '"' || n == '$' || n == s->escape) {
                buf_putc(out, n);
                s->p += 2;
                continue;
            }
        }
        buf_putc(out, c);
        s->p++;
    }
    if (!*s->p)
        return err_set(s->err, ERR_INVALID,
                       "unexpected end of statement while looking for "
                       "matching double-quote");
    s->p++;
    return 0;
}

/* Scans until stop (not consumed) or the end. */
static int scan(struct sw *s, struct buf *out, char stop)
{
    if (++s->depth > 64) {
        s->depth--;
        return err_set(s->err, ERR_INVALID, "substitution nested too deeply");
    }
    int rc = 0;
    while (*s->p && *s->p != stop && rc == 0) {
        char c = *s->p;
        if (c == s->escape) {
            s->p++;
            if (*s->p)
                buf_putc(out, *s->p++);
            else
                buf_putc(out, c);
        } else if (c == '\'') {
            rc = single_quoted(s, out);
        } else if (c == '"') {
            rc = double_quoted(s, out);
        } else if (c == '$') {
            rc = dollar(s, out);
        } else {
            buf_putc(out, c);
            s->p++;
        }
    }
    s->depth--;
    return rc;
}

char *shellword_expand(const char *word, char escape,
                       shellword_lookup_fn lookup, void *data, struct err *err)
{
    struct sw s = {.p = word,
                   .escape = escape,
                   .lookup = lookup,
                   .data = data,
                   .err = err};
    struct buf out;
    buf_init(&out);
    if (scan(&s, &out, 0) < 0) {
        buf_fini(&out);
        return NULL;
    }
    buf_putc(&out, 0);
    return buf_steal(&out);
}
