// SPDX-License-Identifier: Apache-2.0
// Command dispatch for the shoal CLI: walks the command tree, parses flags,
// checks argument counts and prints usage, help and errors worded like the
// docker CLI 28 (cobra), so scripts and users see the same messages.
#include "cli/cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/format.h"
#include "cli/table.h"

const char *cli_default_host(const char *flag_host)
{
    if (flag_host && *flag_host)
        return flag_host;
    const char *h = getenv("SHOAL_HOST");
    if (h && *h)
        return h;
    h = getenv("DOCKER_HOST");
    if (h && *h)
        return h;
    return "unix:///run/shoal/shoal.sock";
}

struct cli_client *cli_ctx_client(struct cli_ctx *ctx, struct err *err)
{
    if (!ctx->client)
        ctx->client = cli_client_new(ctx->host, ctx->debug, err);
    return ctx->client;
}

int64_t cli_ctx_now(const struct cli_ctx *ctx)
{
    return ctx->now ? ctx->now : time_now_ns();
}

void cli_ctx_fini(struct cli_ctx *ctx)
{
    cli_client_free(ctx->client);
    ctx->client = NULL;
}

static void use_line(struct buf *b, const char *path, const struct cli_cmd *c)
{
    buf_puts(b, path);
    if (c->use && *c->use) {
        buf_putc(b, ' ');
        buf_puts(b, c->use);
    }
}

void cli_print_help(FILE *f, const char *path, const struct cli_cmd *cmd)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "Usage:  ");
    use_line(&b, path, cmd);
    buf_puts(&b, "\n\n");
    buf_puts(&b, cmd->short_desc);
    buf_puts(&b, "\n");
    if (cmd->aliases && cmd->aliases[0]) {
        /* "shoal service ls, shoal service list" */
        const char *sp = strrchr(path, ' ');
        size_t parent = sp ? (size_t)(sp - path) : 0;
        buf_puts(&b, "\nAliases:\n  ");
        buf_puts(&b, path);
        for (const char *const *a = cmd->aliases; *a; a++)
            buf_printf(&b, ", %.*s%s%s", (int)parent, path, parent ? " " : "",
                       *a);
        buf_puts(&b, "\n");
    }
    if (cmd->subs) {
        size_t pad = 11;
        for (const struct cli_cmd *const *s = cmd->subs; *s; s++) {
            if (strlen((*s)->name) > pad)
                pad = strlen((*s)->name);
        }
        buf_puts(&b, "\nCommands:\n");
        for (const struct cli_cmd *const *s = cmd->subs; *s; s++)
            buf_printf(&b, "  %-*s %s\n", (int)pad, (*s)->name,
                       (*s)->short_desc);
        if (cmd->nflags) {
            buf_puts(&b, "\nGlobal Options:\n");
            cli_flags_help(cmd->flags, cmd->nflags, &b);
        }
        buf_printf(&b,
                   "\nRun '%s COMMAND --help' for more information on a "
                   "command.\n",
                   path);
    } else if (cmd->nflags) {
        buf_puts(&b, "\nOptions:\n");
        cli_flags_help(cmd->flags, cmd->nflags, &b);
    }
    if (b.len)
        fwrite(b.data, 1, b.len, f);
    buf_fini(&b);
}

int cli_usage_error(struct cli_ctx *ctx, struct err *err, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct buf b;
    buf_init(&b);
    use_line(&b, ctx->path, ctx->cmd);
    err_set(err, ERR_INVALID, "%s\nSee '%s --help'.\n\nUsage:  %s\n\n%s", msg,
            ctx->path, b.data, ctx->cmd->short_desc);
    buf_fini(&b);
    return -1;
}

void cli_print_json_pretty(struct cli_ctx *ctx, const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(4) | JSON_ENCODE_ANY);
    if (!s)
        abort();
    fprintf(ctx->out, "%s\n", s);
    free(s);
}

static const char *root_name(const char *path)
{
    static char name[32];
    size_t n = strcspn(path, " ");
    snprintf(name, sizeof(name), "%.*s", (int)n, path);
    return name;
}

/* Prints an argument-count error; returns the exit status (1). */
static int args_error(struct cli_ctx *ctx, const struct cli_cmd *c, int n)
{
    struct buf u;
    buf_init(&u);
    use_line(&u, ctx->path, c);
    const char *bin = root_name(ctx->path);
    const char *plural_min = c->nmin == 1 ? "" : "s";
    const char *plural_max = c->nmax == 1 ? "" : "s";
    bool bad = false;
    switch (c->args) {
    case CLI_ARGS_ANY:
        break;
    case CLI_ARGS_NONE:
        if (n > 0) {
            fprintf(ctx->err,
                    "%s: '%s' accepts no arguments\n\nUsage:  %s\n\nRun '%s "
                    "--help' for more information\n",
                    bin, ctx->path, u.data, ctx->path);
            bad = true;
        }
        break;
    case CLI_ARGS_EXACT:
        if (n != c->nmin) {
            fprintf(ctx->err,
                    "%s: '%s' requires %d argument%s\n\nUsage:  %s\n\nRun '%s "
                    "--help' for more information\n",
                    bin, ctx->path, c->nmin, plural_min, u.data, ctx->path);
            bad = true;
        }
        break;
    case CLI_ARGS_MIN:
        if (n < c->nmin) {
            fprintf(ctx->err,
                    "%s: '%s' requires at least %d argument%s\n\nUsage:  "
                    "%s\n\nSee '%s --help' for more information\n",
                    bin, ctx->path, c->nmin, plural_min, u.data, ctx->path);
            bad = true;
        }
        break;
    case CLI_ARGS_MAX:
        if (n > c->nmax) {
            fprintf(ctx->err,
                    "%s: '%s' requires at most %d argument%s\n\nUsage:  "
                    "%s\n\nRun '%s --help' for more information\n",
                    bin, ctx->path, c->nmax, plural_max, u.data, ctx->path);
            bad = true;
        }
        break;
    case CLI_ARGS_RANGE:
        if (n < c->nmin || n > c->nmax) {
            fprintf(ctx->err,
                    "%s: '%s' requires at least %d and at most %d argument%s"
                    "\n\nUsage:  %s\n\nRun '%s --help' for more information\n",
                    bin, ctx->path, c->nmin, c->nmax, plural_max, u.data,
                    ctx->path);
            bad = true;
        }
        break;
    }
    buf_fini(&u);
    return bad ? 1 : 0;
}

static int flag_error(struct cli_ctx *ctx, const struct cli_cmd *c,
                      const char *msg)
{
    struct buf u;
    buf_init(&u);
    use_line(&u, ctx->path, c);
    fprintf(ctx->err,
            "%s\n\nUsage:  %s\n\nRun '%s --help' for more information\n", msg,
            u.data, ctx->path);
    buf_fini(&u);
    return 125;
}

static const struct cli_cmd *find_sub(const struct cli_cmd *c, const char *name)
{
    for (const struct cli_cmd *const *s = c->subs; *s; s++) {
        if (strcmp((*s)->name, name) == 0)
            return *s;
        for (const char *const *a = (*s)->aliases; a && *a; a++) {
            if (strcmp(*a, name) == 0)
                return *s;
        }
    }
    return NULL;
}

static int run_leaf(struct cli_ctx *ctx, const struct cli_cmd *c, int argc,
                    char **argv)
{
    struct cli_flags fl;
    struct err err = {0};
    ctx->cmd = c;
    if (cli_flags_parse(&fl, c->flags, c->nflags, argc, argv,
                        !c->no_interspersed, &err) < 0) {
        cli_flags_fini(&fl);
        return flag_error(ctx, c, err.msg);
    }
    if (fl.help) {
        cli_print_help(ctx->out, ctx->path, c);
        cli_flags_fini(&fl);
        return 0;
    }
    int rc = args_error(ctx, c, (int)fl.nargs);
    if (rc) {
        cli_flags_fini(&fl);
        return rc;
    }
    rc = c->run(ctx, &fl, &err);
    cli_flags_fini(&fl);
    if (rc < 0) {
        fflush(ctx->out);
        fprintf(ctx->err, "%s\n", err.msg[0] ? err.msg : "unknown error");
        return 1;
    }
    return rc;
}

int cli_dispatch(struct cli_ctx *ctx, const struct cli_cmd *root, int argc,
                 char **argv)
{
    const struct cli_cmd *c = root;
    int i = 0;
    while (c->subs) {
        if (i >= argc) {
            cli_print_help(ctx->err, ctx->path, c);
            return 0;
        }
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
            strcmp(a, "help") == 0) {
            cli_print_help(ctx->out, ctx->path, c);
            return 0;
        }
        if (a[0] == '-') {
            char msg[200];
            if (a[1] == '-')
                snprintf(msg, sizeof(msg), "unknown flag: %.150s", a);
            else
                snprintf(msg, sizeof(msg),
                         "unknown shorthand flag: '%c' in %.150s", a[1], a);
            return flag_error(ctx, c, msg);
        }
        const struct cli_cmd *sub = find_sub(c, a);
        if (!sub) {
            const char *bin = root_name(ctx->path);
            if (c == root) {
                fprintf(ctx->err,
                        "%s: unknown command: %s %s\n\nRun '%s --help' for "
                        "more information\n",
                        bin, ctx->path, a, ctx->path);
            } else {
                fprintf(ctx->err,
                        "%s: unknown command: %s %s\n\nUsage:  %s\n\n"
                        "Run '%s --help' for more information\n",
                        bin, ctx->path, a, ctx->path, ctx->path);
            }
            return 1;
        }
        size_t len = strlen(ctx->path);
        snprintf(ctx->path + len, sizeof(ctx->path) - len, " %s", sub->name);
        c = sub;
        i++;
    }
    return run_leaf(ctx, c, argc - i, argv + i);
}

struct header_ctx {
    const struct cli_field *fields;
    size_t n;
};

static char *header_of(const char *field, void *record)
{
    const struct header_ctx *h = record;
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->fields[i].name, field) == 0)
            return xstrdup(h->fields[i].header);
    }
    return NULL;
}

int cli_print_list(struct cli_ctx *ctx, const char *format,
                   const char *default_table, const struct cli_field *fields,
                   size_t nfields, cli_field_cb get, void *const *records,
                   size_t n, struct err *err)
{
    if (!format || !*format || strcmp(format, "table") == 0)
        format = default_table;
    if (strcmp(format, "json") == 0 || strcmp(format, "{{json .}}") == 0) {
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_object();
            for (size_t f = 0; f < nfields; f++) {
                char *v = get(fields[f].name, records[i]);
                json_object_set_new(o, fields[f].name, json_string(v ? v : ""));
                free(v);
            }
            char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
            fprintf(ctx->out, "%s\n", s);
            free(s);
            json_decref(o);
        }
        return 0;
    }
    struct cli_template *t = cli_template_parse(format, err);
    if (!t)
        return -1;
    struct buf line;
    buf_init(&line);
    int rc = 0;
    if (cli_template_is_table(t)) {
        struct cli_table tab;
        cli_table_init(&tab);
        struct header_ctx h = {fields, nfields};
        rc = cli_template_exec(t, header_of, &h, &line, err);
        if (rc == 0 && line.len)
            cli_table_add(&tab, line.data);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            buf_reset(&line);
            rc = cli_template_exec(t, get, records[i], &line, err);
            cli_table_add(&tab, line.data ? line.data : "");
        }
        if (rc == 0)
            cli_table_print(&tab, ctx->out);
        cli_table_fini(&tab);
    } else {
        for (size_t i = 0; rc == 0 && i < n; i++) {
            buf_reset(&line);
            rc = cli_template_exec(t, get, records[i], &line, err);
            if (rc == 0)
                fprintf(ctx->out, "%s\n", line.data ? line.data : "");
        }
    }
    buf_fini(&line);
    cli_template_free(t);
    return rc;
}

json_t *cli_filters_from_flag(const struct cli_flags *fl, const char *flag,
                              struct err *err)
{
    json_t *f = cli_filters_new();
    const struct vec *v = cli_flag_list(fl, flag);
    for (size_t i = 0; i < v->len; i++) {
        const char *s = v->items[i];
        const char *eq = strchr(s, '=');
        if (!eq) {
            json_decref(f);
            err_set(err, ERR_INVALID,
                    "bad format of filter (expected name=value)");
            return NULL;
        }
        char *k = xstrndup(s, (size_t)(eq - s));
        for (char *p = k; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        cli_filters_add(f, k, eq + 1);
        free(k);
    }
    return f;
}

int cli_filters_flag_encoded(const struct cli_flags *fl, char **out,
                             struct err *err)
{
    *out = NULL;
    json_t *f = cli_filters_from_flag(fl, "filter", err);
    if (!f)
        return -1;
    *out = cli_filters_encode(f);
    json_decref(f);
    return 0;
}

int cli_query_add_filters(struct cli_query *q, const struct cli_flags *fl,
                          struct err *err)
{
    _cleanup_free_ char *fj = NULL;
    if (cli_filters_flag_encoded(fl, &fj, err) < 0)
        return -1;
    if (fj)
        cli_query_add(q, "filters", fj);
    return 0;
}

void cli_print_inspect(struct cli_ctx *ctx, char *const *raw, size_t n)
{
    if (n == 0) {
        fprintf(ctx->out, "[]\n");
        return;
    }
    struct buf in, out;
    buf_init(&in);
    buf_init(&out);
    buf_putc(&in, '[');
    for (size_t i = 0; i < n; i++) {
        buf_puts(&in, raw[i]);
        if (i + 1 < n)
            buf_putc(&in, ',');
    }
    buf_putc(&in, ']');
    if (cli_json_indent(in.data, in.len, "", &out) < 0)
        fprintf(ctx->out, "%s\n", in.data);
    else
        fprintf(ctx->out, "%s\n", out.data);
    buf_fini(&in);
    buf_fini(&out);
}

int cli_inspect(struct cli_ctx *ctx, struct cli_client *c, char *const *args,
                size_t nargs, const char *format, cli_inspect_pretty_fn pretty,
                cli_inspect_fetch_fn fetch, void *data, struct err *err)
{
    char **raws = xcalloc(nargs + 1, sizeof(char *));
    size_t nraw = 0;
    struct buf errs, out;
    buf_init(&errs);
    buf_init(&out);
    for (size_t i = 0; i < nargs; i++) {
        struct err e = {0};
        char *raw = fetch(c, args[i], data, &e);
        if (!raw) {
            buf_printf(&errs, "%s%s", errs.len ? "\n" : "", e.msg);
            continue;
        }
        raws[nraw++] = raw;
    }
    if (pretty) {
        for (size_t i = 0; i < nraw; i++) {
            json_error_t je;
            _cleanup_json_ json_t *obj = json_loads(raws[i], 0, &je);
            if (obj)
                pretty(ctx, c, obj, &out);
        }
        if (out.len)
            fwrite(out.data, 1, out.len, ctx->out);
    } else if (format && *format) {
        if (cli_print_inspect_format(ctx, raws, nraw, format, err) < 0)
            buf_printf(&errs, "%s%s", errs.len ? "\n" : "", err->msg);
    } else {
        cli_print_inspect(ctx, raws, nraw);
    }
    for (size_t i = 0; i < nraw; i++)
        free(raws[i]);
    free(raws);
    int rc = 0;
    if (errs.len)
        rc = err_set(err, ERR_NOTFOUND, "%s", errs.data);
    buf_fini(&errs);
    buf_fini(&out);
    return rc;
}

/* Go's text/template printing of a value: scalars as fmt prints them,
 * maps as map[k:v ...] (sorted keys), slices as [a b]. */
static void go_print(const json_t *v, struct buf *b)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        buf_puts(b, json_string_value(v));
        break;
    case JSON_INTEGER:
        buf_printf(b, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL: {
        char tmp[64];
        cli_fmt_float(json_real_value(v), false, tmp, sizeof(tmp));
        buf_puts(b, tmp);
        break;
    }
    case JSON_TRUE:
        buf_puts(b, "true");
        break;
    case JSON_FALSE:
        buf_puts(b, "false");
        break;
    case JSON_NULL:
        buf_puts(b, "<nil>");
        break;
    case JSON_ARRAY: {
        size_t i;
        json_t *e;
        buf_putc(b, '[');
        json_array_foreach(v, i, e)
        {
            if (i)
                buf_putc(b, ' ');
            go_print(e, b);
        }
        buf_putc(b, ']');
        break;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = xcalloc(n + 1, sizeof(char *));
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e)
        {
            keys[i++] = k;
        }
        for (size_t a = 1; a < n; a++) {
            const char *key = keys[a];
            size_t c = a;
            while (c > 0 && strcmp(keys[c - 1], key) > 0) {
                keys[c] = keys[c - 1];
                c--;
            }
            keys[c] = key;
        }
        buf_puts(b, "map[");
        for (i = 0; i < n; i++) {
            buf_printf(b, "%s%s:", i ? " " : "", keys[i]);
            go_print(json_object_get(v, keys[i]), b);
        }
        buf_putc(b, ']');
        free(keys);
        break;
    }
    }
}

/* Template field of an inspected object: a dotted path into the JSON. */
static char *inspect_field(const char *field, void *record)
{
    const json_t *obj = record;
    bool json = strncmp(field, "json:", 5) == 0;
    if (json)
        field += 5;
    const json_t *v = *field ? jx_path(obj, field) : obj;
    if (!v) {
        if (json)
            return xstrdup("null");
        return xstrdup("<no value>");
    }
    struct buf b;
    buf_init(&b);
    if (json) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
            abort();
        buf_puts(&b, s);
        free(s);
    } else {
        go_print(v, &b);
    }
    return b.data ? buf_steal(&b) : xstrdup("");
}

int cli_print_inspect_format(struct cli_ctx *ctx, char *const *raw, size_t n,
                             const char *format, struct err *err)
{
    struct cli_template *t = cli_template_parse(format, err);
    if (!t)
        return -1;
    int rc = 0;
    struct buf line;
    buf_init(&line);
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_error_t je;
        json_t *obj = json_loads(raw[i], JSON_DECODE_ANY, &je);
        if (!obj)
            continue;
        buf_reset(&line);
        rc = cli_template_exec(t, inspect_field, obj, &line, err);
        if (rc == 0)
            fprintf(ctx->out, "%s\n", line.data ? line.data : "");
        json_decref(obj);
    }
    buf_fini(&line);
    cli_template_free(t);
    return rc;
}
