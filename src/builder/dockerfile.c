// SPDX-License-Identifier: Apache-2.0
// The Dockerfile parser (see dockerfile.h). It follows the legacy docker
// builder's rules: directives only before anything else, comment lines
// dropped even inside a continuation, the escape character at the end of
// a line (trailing blanks allowed) joining it with the next, and per
// instruction the JSON form tried first where one exists.
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "builder/dockerfile.h"

static const struct {
    const char *name;
    enum df_kind kind;
} kinds[] = {
    {"ADD", DF_ADD},
    {"ARG", DF_ARG},
    {"CMD", DF_CMD},
    {"COPY", DF_COPY},
    {"ENTRYPOINT", DF_ENTRYPOINT},
    {"ENV", DF_ENV},
    {"EXPOSE", DF_EXPOSE},
    {"FROM", DF_FROM},
    {"HEALTHCHECK", DF_HEALTHCHECK},
    {"LABEL", DF_LABEL},
    {"MAINTAINER", DF_MAINTAINER},
    {"ONBUILD", DF_ONBUILD},
    {"RUN", DF_RUN},
    {"SHELL", DF_SHELL},
    {"STOPSIGNAL", DF_STOPSIGNAL},
    {"USER", DF_USER},
    {"VOLUME", DF_VOLUME},
    {"WORKDIR", DF_WORKDIR},
};

const char *df_kind_name(enum df_kind k)
{
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
        if (kinds[i].kind == k)
            return kinds[i].name;
    return "?";
}

const char *df_instr_flag(const struct df_instr *in, const char *name)
{
    for (size_t i = 0; i < in->n_flags; i++)
        if (strcmp(in->flags[i].name, name) == 0)
            return in->flags[i].value;
    return NULL;
}

static void instr_fini(struct df_instr *in)
{
    free(in->original);
    for (size_t i = 0; i < in->n_args; i++)
        free(in->args[i]);
    free(in->args);
    for (size_t i = 0; i < in->n_flags; i++) {
        free(in->flags[i].name);
        free(in->flags[i].value);
    }
    free(in->flags);
}

void dockerfile_fini(struct dockerfile *df)
{
    for (size_t i = 0; i < df->n_instrs; i++)
        instr_fini(&df->instrs[i]);
    free(df->instrs);
    df->instrs = NULL;
    df->n_instrs = 0;
}

static int perr(struct err *err, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct err *err, int line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(err, ERR_INVALID, "dockerfile parse error line %d: %s", line,
                   msg);
}

static void add_arg(struct df_instr *in, char *s)
{
    in->args = xrealloc(in->args, (in->n_args + 1) * sizeof(*in->args));
    in->args[in->n_args++] = s;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

static const char *skip_blanks(const char *p)
{
    while (*p && is_blank(*p))
        p++;
    return p;
}

/* Splits s on unquoted blanks, keeping quotes and escapes in the words
 * (Docker's parseWords): they are removed when the word is expanded. */
static void split_words(const char *s, char escape, struct df_instr *in)
{
    struct buf w;
    buf_init(&w);
    char quote = 0;
    bool in_word = false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!quote && is_blank(c)) {
            if (in_word) {
                add_arg(in, xstrndup(w.data ? w.data : "", w.len));
                buf_reset(&w);
                in_word = false;
            }
            continue;
        }
        in_word = true;
        if (c == escape && p[1] && quote != '\'') {
            buf_putc(&w, c);
            buf_putc(&w, *++p);
            continue;
        }
        if (quote && c == quote)
            quote = 0;
        else if (!quote && (c == '"' || c == '\''))
            quote = c;
        buf_putc(&w, c);
    }
    if (in_word)
        add_arg(in, xstrndup(w.data ? w.data : "", w.len));
    buf_fini(&w);
}

/* Plain whitespace split (COPY, ADD, FROM, EXPOSE, VOLUME shell forms). */
static void split_fields(const char *s, struct df_instr *in)
{
    const char *p = skip_blanks(s);
    while (*p) {
        const char *e = p;
        while (*e && !is_blank(*e))
            e++;
        add_arg(in, xstrndup(p, (size_t)(e - p)));
        p = skip_blanks(e);
    }
}

/* A JSON array of strings: the args, json = true. Anything else: false. */
static bool try_json(const char *rest, struct df_instr *in)
{
    if (*rest != '[')
        return false;
    json_error_t jerr;
    json_t *a = json_loads(rest, JSON_REJECT_DUPLICATES, &jerr);
    if (!a || !json_is_array(a)) {
        json_decref(a);
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v)) {
            json_decref(a);
            return false;
        }
    }
    json_array_foreach(a, i, v)
    {
        add_arg(in, xstrdup(json_string_value(v)));
    }
    json_decref(a);
    in->json = true;
    return true;
}

/* Leading --name[=value] words; returns where the rest begins. */
static const char *parse_flags(const char *p, struct df_instr *in)
{
    for (;;) {
        p = skip_blanks(p);
        if (p[0] != '-' || p[1] != '-')
            return p;
        const char *e = p;
        while (*e && !is_blank(*e))
            e++;
        if (e == p + 2) /* "--" ends the flags */
            return skip_blanks(e);
        const char *eq = memchr(p, '=', (size_t)(e - p));
        const char *name_end = eq ? eq : e;
        struct df_flag f = {
            .name = xstrndup(p + 2, (size_t)(name_end - p - 2)),
            .value = eq ? xstrndup(eq + 1, (size_t)(e - eq - 1)) : xstrdup(""),
        };
        size_t vl = strlen(f.value);
        if (vl >= 2 && (f.value[0] == '"' || f.value[0] == '\'') &&
            f.value[vl - 1] == f.value[0]) {
            memmove(f.value, f.value + 1, vl - 2);
            f.value[vl - 2] = 0;
        }
        in->flags = xrealloc(in->flags, (in->n_flags + 1) * sizeof(*in->flags));
        in->flags[in->n_flags++] = f;
        p = e;
    }
}

static int check_flags(const struct df_instr *in, const char *const *allowed,
                       struct err *err)
{
    for (size_t i = 0; i < in->n_flags; i++) {
        bool ok = false;
        for (size_t j = 0; allowed && allowed[j] && !ok; j++)
            ok = strcmp(in->flags[i].name, allowed[j]) == 0;
        if (!ok)
            return perr(err, in->line, "unknown flag: %s", in->flags[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(in->flags[i].name, in->flags[j].name) == 0)
                return perr(err, in->line, "duplicate flag specified: %s",
                            in->flags[i].name);
    }
    return 0;
}

/* ENV and LABEL: key=value words, or the old "KEY value with spaces". */
static int parse_name_vals(const char *rest, char escape, struct df_instr *in,
                           struct err *err)
{
    const char *kw = df_kind_name(in->kind);
    struct df_instr words = {0};
    split_words(rest, escape, &words);
    int rc = 0;
    if (words.n_args == 0) {
        rc = perr(err, in->line, "%s requires at least one argument", kw);
    } else if (!strchr(words.args[0], '=')) {
        /* Old form: the first word is the key, the rest the value. */
        if (words.n_args < 2) {
            rc = perr(err, in->line, "%s must have two arguments", kw);
        } else {
            const char *v = skip_blanks(rest);
            while (*v && !is_blank(*v))
                v++;
            v = skip_blanks(v);
            add_arg(in, xstrdup(words.args[0]));
            _cleanup_free_ char *val = xstrdup(v);
            size_t n = strlen(val);
            while (n && is_blank(val[n - 1]))
                val[--n] = 0;
            add_arg(in, steal_ptr(val));
        }
    } else {
        for (size_t i = 0; i < words.n_args && rc == 0; i++) {
            const char *w = words.args[i];
            const char *eq = strchr(w, '=');
            if (!eq)
                rc = perr(err, in->line,
                          "syntax error - can't find = in \"%s\". Must be of "
                          "the form: name=value",
                          w);
            else if (eq == w)
                rc = perr(err, in->line, "%s names can not be blank", kw);
            else {
                add_arg(in, xstrndup(w, (size_t)(eq - w)));
                add_arg(in, xstrdup(eq + 1));
            }
        }
    }
    instr_fini(&words);
    return rc;
}

static int parse_arg(const char *rest, char escape, struct df_instr *in,
                     struct err *err)
{
    struct df_instr words = {0};
    split_words(rest, escape, &words);
    int rc = 0;
    if (words.n_args == 0)
        rc = perr(err, in->line, "ARG requires at least one argument");
    for (size_t i = 0; i < words.n_args && rc == 0; i++) {
        const char *w = words.args[i];
        const char *eq = strchr(w, '=');
        if (eq == w || !*w)
            rc = perr(err, in->line, "ARG names can not be blank");
        else if (eq) {
            add_arg(in, xstrndup(w, (size_t)(eq - w)));
            add_arg(in, xstrdup(eq + 1));
        } else {
            add_arg(in, xstrdup(w));
            add_arg(in, NULL);
        }
    }
    instr_fini(&words);
    return rc;
}

/* RUN, CMD, ENTRYPOINT: JSON form or one shell string. */
static int parse_command(const char *rest, struct df_instr *in, bool need,
                         struct err *err)
{
    if (try_json(rest, in)) {
        if (need && in->n_args == 0)
            return perr(err, in->line, "%s requires at least one argument",
                        df_kind_name(in->kind));
        return 0;
    }
    if (!*rest)
        return perr(err, in->line, "%s requires at least one argument",
                    df_kind_name(in->kind));
    add_arg(in, xstrdup(rest));
    return 0;
}

static int parse_healthcheck(const char *rest, struct df_instr *in,
                             struct err *err)
{
    const char *e = rest;
    while (*e && !is_blank(*e))
        e++;
    _cleanup_free_ char *type = xstrndup(rest, (size_t)(e - rest));
    const char *cmd = skip_blanks(e);
    if (strcasecmp(type, "NONE") == 0) {
        if (*cmd || in->n_flags)
            return perr(err, in->line, "HEALTHCHECK NONE takes no arguments");
        add_arg(in, xstrdup("NONE"));
        return 0;
    }
    if (strcasecmp(type, "CMD") != 0)
        return perr(err, in->line,
                    "unknown type \"%s\" in HEALTHCHECK (try CMD)", type);
    add_arg(in, xstrdup("CMD"));
    if (try_json(cmd, in)) {
        if (in->n_args < 2)
            return perr(err, in->line, "HEALTHCHECK CMD needs a command");
        return 0;
    }
    if (!*cmd)
        return perr(err, in->line, "HEALTHCHECK CMD needs a command");
    add_arg(in, xstrdup(cmd));
    return 0;
}

static int parse_args(const char *rest, char escape, struct df_instr *in,
                      struct err *err)
{
    static const char *const from_flags[] = {"platform", NULL};
    static const char *const copy_flags[] = {"from", "chown", "chmod", NULL};
    static const char *const add_flags[] = {"chown", "chmod", NULL};
    static const char *const hc_flags[] = {"interval",     "timeout",
                                           "start-period", "start-interval",
                                           "retries",      NULL};
    const char *const *allowed = NULL;
    switch (in->kind) {
    case DF_FROM:
        allowed = from_flags;
        break;
    case DF_COPY:
        allowed = copy_flags;
        break;
    case DF_ADD:
        allowed = add_flags;
        break;
    case DF_HEALTHCHECK:
        allowed = hc_flags;
        break;
    default:
        break;
    }
    if (check_flags(in, allowed, err) < 0)
        return -1;
    const char *kw = df_kind_name(in->kind);

    switch (in->kind) {
    case DF_FROM:
        split_fields(rest, in);
        if (in->n_args != 1 &&
            !(in->n_args == 3 && strcasecmp(in->args[1], "AS") == 0))
            return perr(err, in->line,
                        "FROM requires either one or three arguments");
        return 0;
    case DF_RUN:
        return parse_command(rest, in, true, err);
    case DF_CMD:
    case DF_ENTRYPOINT:
        return parse_command(rest, in, false, err);
    case DF_SHELL:
        if (!try_json(rest, in))
            return perr(err, in->line,
                        "SHELL requires the arguments to be in JSON form");
        if (in->n_args == 0)
            return perr(err, in->line, "SHELL requires at least one argument");
        return 0;
    case DF_COPY:
    case DF_ADD:
        if (!try_json(rest, in))
            split_fields(rest, in);
        if (in->n_args < 2)
            return perr(err, in->line, "%s requires at least two arguments",
                        kw);
        return 0;
    case DF_VOLUME:
        if (!try_json(rest, in))
            split_fields(rest, in);
        if (in->n_args == 0)
            return perr(err, in->line, "VOLUME requires at least one argument");
        for (size_t i = 0; i < in->n_args; i++)
            if (!*in->args[i])
                return perr(err, in->line,
                            "VOLUME specified can not be an empty string");
        return 0;
    case DF_EXPOSE:
        split_fields(rest, in);
        if (in->n_args == 0)
            return perr(err, in->line, "EXPOSE requires at least one argument");
        return 0;
    case DF_ENV:
    case DF_LABEL:
        return parse_name_vals(rest, escape, in, err);
    case DF_ARG:
        return parse_arg(rest, escape, in, err);
    case DF_HEALTHCHECK:
        return parse_healthcheck(rest, in, err);
    case DF_ONBUILD: {
        if (!*rest)
            return perr(err, in->line,
                        "ONBUILD requires at least one argument");
        const char *e = rest;
        while (*e && !is_blank(*e))
            e++;
        size_t n = (size_t)(e - rest);
        if ((n == 7 && strncasecmp(rest, "ONBUILD", 7) == 0) ||
            (n == 4 && strncasecmp(rest, "FROM", 4) == 0) ||
            (n == 10 && strncasecmp(rest, "MAINTAINER", 10) == 0))
            return perr(err, in->line,
                        "%.*s isn't allowed as an ONBUILD trigger", (int)n,
                        rest);
        add_arg(in, xstrdup(rest));
        return 0;
    }
    case DF_USER:
    case DF_WORKDIR:
    case DF_STOPSIGNAL:
    case DF_MAINTAINER:
        if (!*rest)
            return perr(err, in->line, "%s requires exactly one argument", kw);
        add_arg(in, xstrdup(rest));
        return 0;
    }
    return perr(err, in->line, "unhandled instruction %s", kw);
}

/* One joined instruction line. */
static int parse_instr(const char *text, int line, char escape,
                       struct dockerfile *df, struct err *err)
{
    const char *p = skip_blanks(text);
    const char *e = p;
    while (*e && !is_blank(*e))
        e++;
    _cleanup_free_ char *word = xstrndup(p, (size_t)(e - p));
    int kind = -1;
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
        if (strcasecmp(word, kinds[i].name) == 0)
            kind = (int)kinds[i].kind;
    if (kind < 0)
        return perr(err, line, "unknown instruction: %s", word);

    df->instrs = xrealloc(df->instrs, (df->n_instrs + 1) * sizeof(*df->instrs));
    struct df_instr *in = &df->instrs[df->n_instrs++];
    memset(in, 0, sizeof(*in));
    in->kind = (enum df_kind)kind;
    in->line = line;
    _cleanup_free_ char *orig = xstrdup(p);
    size_t n = strlen(orig);
    while (n && is_blank(orig[n - 1]))
        orig[--n] = 0;
    in->original = steal_ptr(orig);

    /* The rest, trimmed: everything after the keyword. */
    _cleanup_free_ char *rest = xstrdup(skip_blanks(e));
    n = strlen(rest);
    while (n && is_blank(rest[n - 1]))
        rest[--n] = 0;
    const char *args = rest;
    if (in->kind != DF_ONBUILD && in->kind != DF_ENV && in->kind != DF_LABEL &&
        in->kind != DF_ARG && in->kind != DF_MAINTAINER)
        args = parse_flags(rest, in);
    return parse_args(args, escape, in, err);
}

/* Does line end with the escape character (blanks after it allowed)? If
 * so, *keep gets the length before it. */
static bool continues(const char *line, size_t len, char escape, size_t *keep)
{
    while (len && is_blank(line[len - 1]))
        len--;
    if (len && line[len - 1] == escape) {
        *keep = len - 1;
        return true;
    }
    return false;
}

static bool is_comment(const char *line)
{
    return *skip_blanks(line) == '#';
}

static bool is_empty(const char *line)
{
    return *skip_blanks(line) == 0;
}

/* "# key=value" before anything else: 1 if it is a directive (applied),
 * 0 if not, -1 on a bad one. */
static int directive(const char *line, int lineno, char *escape,
                     bool *seen_escape, struct err *err)
{
    const char *p = skip_blanks(line);
    if (*p != '#')
        return 0;
    p = skip_blanks(p + 1);
    const char *k = p;
    while (isalpha((unsigned char)*p))
        p++;
    if (p == k)
        return 0;
    _cleanup_free_ char *key = xstrndup(k, (size_t)(p - k));
    p = skip_blanks(p);
    if (*p != '=')
        return 0;
    p = skip_blanks(p + 1);
    _cleanup_free_ char *val = xstrdup(p);
    size_t n = strlen(val);
    while (n && is_blank(val[n - 1]))
        val[--n] = 0;
    if (strcasecmp(key, "escape") == 0) {
        if (*seen_escape)
            return perr(err, lineno,
                        "only one escape parser directive can "
                        "be used");
        if (strcmp(val, "\\") != 0 && strcmp(val, "`") != 0)
            return perr(err, lineno,
                        "invalid escape token '%s' does not match ` or \\",
                        val);
        *escape = val[0];
        *seen_escape = true;
        return 1;
    }
    /* syntax=, check=: accepted and ignored (BuildKit's). An unknown key
     * is a plain comment and ends the directives, as in Docker. */
    if (strcasecmp(key, "syntax") == 0 || strcasecmp(key, "check") == 0)
        return 1;
    return 0;
}

int dockerfile_parse(const char *text, struct dockerfile *out, struct err *err)
{
    memset(out, 0, sizeof(*out));
    out->escape = '\\';
    bool directives = true, seen_escape = false;
    struct buf cur;
    buf_init(&cur);
    int cur_line = 0; /* 0: no instruction under way */
    int lineno = 0;
    int rc = 0;
    const char *p = text;
    while (*p && rc == 0) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        _cleanup_free_ char *line = xstrndup(p, len);
        p = nl ? nl + 1 : p + len;
        lineno++;
        if (len && line[len - 1] == '\r')
            line[--len] = 0;
        if (lineno == 1 && (unsigned char)line[0] == 0xef &&
            (unsigned char)line[1] == 0xbb && (unsigned char)line[2] == 0xbf) {
            memmove(line, line + 3, len - 2);
            len -= 3;
        }
        if (directives) {
            int d = directive(line, lineno, &out->escape, &seen_escape, err);
            if (d < 0) {
                rc = -1;
                break;
            }
            if (d > 0)
                continue;
            directives = false;
        }
        if (is_comment(line))
            continue;
        if (is_empty(line)) {
            /* Inside a continuation an empty line is skipped (Docker
             * warns); otherwise it separates nothing. */
            continue;
        }
        size_t keep = 0;
        bool more = continues(line, len, out->escape, &keep);
        if (!cur_line)
            cur_line = lineno;
        buf_append(&cur, line, more ? keep : len);
        if (more)
            continue;
        rc = parse_instr(cur.data, cur_line, out->escape, out, err);
        buf_reset(&cur);
        cur_line = 0;
    }
    if (rc == 0 && cur_line) /* the file ended inside a continuation */
        rc = parse_instr(cur.data ? cur.data : "", cur_line, out->escape, out,
                         err);
    buf_fini(&cur);
    if (rc == 0 && out->n_instrs == 0)
        rc = err_set(err, ERR_INVALID, "the Dockerfile cannot be empty");
    if (rc == 0) {
        /* Only ARG may come before the first FROM. */
        for (size_t i = 0; i < out->n_instrs; i++) {
            if (out->instrs[i].kind == DF_FROM)
                break;
            if (out->instrs[i].kind != DF_ARG) {
                rc = perr(err, out->instrs[i].line,
                          "no build stage in current context: %s must come "
                          "after FROM",
                          df_kind_name(out->instrs[i].kind));
                break;
            }
        }
    }
    if (rc == 0 && out->instrs[out->n_instrs - 1].kind == DF_ARG) {
        bool any_from = false;
        for (size_t i = 0; i < out->n_instrs; i++)
            any_from |= out->instrs[i].kind == DF_FROM;
        if (!any_from)
            rc = perr(err, out->instrs[0].line,
                      "no build stage in current context: FROM missing");
    }
    return rc;
}
