// SPDX-License-Identifier: Apache-2.0
// `shoal secret ...` and `shoal config ...` (create, ls, inspect, rm),
// following the docker CLI 28: create from a file or stdin ("-") with
// --label, ls sorted by name, inspect as JSON, through --format or
// --pretty, rm going on past errors. Both groups share every command.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/format.h"

/* What differs between the two groups: the command's path tells. */
static bool is_config(const struct cli_ctx *ctx)
{
    return strstr(ctx->path, " config") != NULL;
}

static const char *base_path(const struct cli_ctx *ctx)
{
    return is_config(ctx) ? "/configs" : "/secrets";
}

/* Reads all of path ("-" = stdin); owned, *len set. */
static char *read_data(const char *path, size_t *len, struct err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return err_set(err, ERR_INVALID, "open %s: %s", path, strerror(errno)),
               NULL;
    struct buf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    /* The daemon refuses anything over 500 KiB; reading past 16 MiB
     * would only cost memory. */
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
           b.len < 16 * 1024 * 1024)
        buf_append(&b, chunk, n);
    bool failed = ferror(f);
    if (f != stdin)
        fclose(f);
    if (failed) {
        buf_fini(&b);
        return err_set(err, ERR_INVALID, "read %s: %s", path, strerror(errno)),
               NULL;
    }
    *len = b.len;
    buf_append(&b, "", 1);
    return buf_steal(&b);
}

static json_t *labels_from(const struct cli_flags *fl)
{
    json_t *labels = json_object();
    const struct vec *l = cli_flag_list(fl, "label");
    for (size_t i = 0; l && i < l->len; i++) {
        const char *kv = l->items[i];
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *k =
            eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
        json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
    }
    return labels;
}

static int run_create(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    if (fl->nargs < 2)
        return cli_usage_error(ctx, err,
                               "\"%s\" requires a file name, or \"-\" to read "
                               "from stdin.",
                               ctx->path);
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    size_t len = 0;
    char *data = read_data(fl->args[1], &len, err);
    if (!data)
        return -1;
    char *b64 = b64_encode(data, len);
    memset(data, 0, len);
    free(data);
    _cleanup_json_ json_t *body =
        json_pack("{s:s, s:o, s:s}", "Name", fl->args[0], "Labels",
                  labels_from(fl), "Data", b64);
    memset(b64, 0, strlen(b64));
    free(b64);
    _cleanup_free_ char *path = xasprintf("%s/create", base_path(ctx));
    _cleanup_json_ json_t *r = cli_client_send_json(c, "POST", path, body, err);
    if (!r)
        return -1;
    fprintf(ctx->out, "%s\n", jx_str0(r, "ID"));
    return 0;
}

/* ---- ls ---------------------------------------------------------------- */

struct rec {
    const json_t *x;
    int64_t now;
};

static char *field(const char *name, void *record)
{
    const struct rec *r = record;
    if (!strcmp(name, "ID"))
        return xstrdup(jx_str0(r->x, "ID"));
    if (!strcmp(name, "Name"))
        return xstrdup(jx_path_str(r->x, "Spec.Name") ?: "");
    if (!strcmp(name, "Driver"))
        return xstrdup(jx_path_str(r->x, "Spec.Driver.Name") ?: "");
    if (!strcmp(name, "CreatedAt"))
        return cli_fmt_ago(jx_str(r->x, "CreatedAt"), r->now, false);
    if (!strcmp(name, "UpdatedAt"))
        return cli_fmt_ago(jx_str(r->x, "UpdatedAt"), r->now, false);
    if (!strcmp(name, "Labels")) {
        struct buf b;
        buf_init(&b);
        const char *k;
        json_t *v;
        json_object_foreach(jx_path(r->x, "Spec.Labels"), k, v)
        {
            buf_printf(&b, "%s%s=%s", b.len ? "," : "", k, cli_jstr(v));
        }
        return b.data ? buf_steal(&b) : xstrdup("");
    }
    return NULL;
}

static const struct cli_field fields[] = {
    {"ID", "ID"},
    {"Name", "NAME"},
    {"Driver", "DRIVER"},
    {"CreatedAt", "CREATED"},
    {"UpdatedAt", "UPDATED"},
    {"Labels", "LABELS"},
};

static int cmp_rec(const void *a, const void *b)
{
    const struct rec *x = *(struct rec *const *)a;
    const struct rec *y = *(struct rec *const *)b;
    return cli_natural_cmp(jx_path_str(x->x, "Spec.Name") ?: "",
                           jx_path_str(y->x, "Spec.Name") ?: "");
}

static int run_ls(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    struct cli_query q;
    cli_query_init(&q);
    if (cli_query_add_filters(&q, fl, err) < 0) {
        cli_query_fini(&q);
        return -1;
    }
    _cleanup_free_ char *path =
        xasprintf("%s%s", base_path(ctx), cli_query_str(&q));
    cli_query_fini(&q);
    _cleanup_json_ json_t *list = cli_client_get_json(c, path, err);
    if (!list)
        return -1;
    const char *format = cli_flag_str(fl, "format");
    if (!format || !*format)
        format = "table";
    if (!strcmp(format, "table") && cli_flag_bool(fl, "quiet"))
        format = "{{.ID}}";
    size_t n = json_array_size(list);
    struct rec *recs = xcalloc(n + 1, sizeof(*recs));
    struct rec **ptrs = xcalloc(n + 1, sizeof(*ptrs));
    for (size_t i = 0; i < n; i++) {
        recs[i].x = json_array_get(list, i);
        recs[i].now = cli_ctx_now(ctx);
        ptrs[i] = &recs[i];
    }
    qsort(ptrs, n, sizeof(*ptrs), cmp_rec);
    const char *table =
        is_config(ctx)
            ? "table {{.ID}}\t{{.Name}}\t{{.CreatedAt}}\t{{.UpdatedAt}}"
            : "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{."
              "UpdatedAt}}";
    int rc = cli_print_list(ctx, format, table, fields, ARRAY_SIZE(fields),
                            field, (void *const *)ptrs, n, err);
    free(ptrs);
    free(recs);
    return rc;
}

/* ---- inspect ----------------------------------------------------------- */

static char *fetch(struct cli_client *c, const char *arg, void *data,
                   struct err *e)
{
    const char *base = data;
    _cleanup_free_ char *esc = cli_path_escape(arg);
    _cleanup_free_ char *path = xasprintf("%s/%s", base, esc);
    size_t len;
    return cli_client_get_raw(c, path, &len, e);
}

static void pretty_labels(const json_t *x, struct buf *out)
{
    json_t *labels = jx_path(x, "Spec.Labels");
    if (!json_object_size(labels))
        return;
    buf_puts(out, "\nLabels:");
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        const char *s = cli_jstr(v);
        buf_printf(out, "\n - %s%s%s", k, *s ? "=" : "", s);
    }
}

static void pretty(struct cli_ctx *ctx, struct cli_client *c, json_t *x,
                   struct buf *out, bool config)
{
    (void)c;
    _cleanup_free_ char *created =
        cli_fmt_ago(jx_str(x, "CreatedAt"), cli_ctx_now(ctx), false);
    _cleanup_free_ char *updated =
        cli_fmt_ago(jx_str(x, "UpdatedAt"), cli_ctx_now(ctx), false);
    /* docker's templates: the ID column is narrower than the rest for
     * secrets, the same for configs. */
    const char *col = config ? "   " : "  ";
    buf_printf(out, "ID:              %s%s\nName:              %s%s",
               config ? "   " : "", jx_str0(x, "ID"), config ? " " : "",
               jx_path_str(x, "Spec.Name") ?: "");
    pretty_labels(x, out);
    if (!config)
        buf_printf(out, "\nDriver:            %s",
                   jx_path_str(x, "Spec.Driver.Name") ?: "");
    buf_printf(out, "\nCreated at:      %s%s\nUpdated at:      %s%s", col,
               created, col, updated);
    const char *data = jx_path_str(x, "Spec.Data");
    if (config && data) {
        size_t len;
        _cleanup_free_ char *plain = b64_decode(data, &len);
        if (plain)
            buf_printf(out, "\nData:\n%.*s", (int)len, plain);
    }
    buf_puts(out, "\n");
}

static void pretty_secret(struct cli_ctx *ctx, struct cli_client *c, json_t *x,
                          struct buf *out)
{
    pretty(ctx, c, x, out, false);
}

static void pretty_config(struct cli_ctx *ctx, struct cli_client *c, json_t *x,
                          struct buf *out)
{
    pretty(ctx, c, x, out, true);
}

static int run_inspect(struct cli_ctx *ctx, struct cli_flags *fl,
                       struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    const char *format = cli_flag_str(fl, "format");
    bool p = cli_flag_bool(fl, "pretty");
    if (p && format && *format)
        return err_set(err, ERR_INVALID,
                       "--format is incompatible with human friendly format");
    cli_inspect_pretty_fn pf = NULL;
    if (p)
        pf = is_config(ctx) ? pretty_config : pretty_secret;
    return cli_inspect(ctx, c, fl->args, fl->nargs, format, pf, fetch,
                       (void *)base_path(ctx), err);
}

/* ---- rm ---------------------------------------------------------------- */

static int run_rm(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    struct buf errs;
    buf_init(&errs);
    for (size_t i = 0; i < fl->nargs; i++) {
        _cleanup_free_ char *esc = cli_path_escape(fl->args[i]);
        _cleanup_free_ char *path = xasprintf("%s/%s", base_path(ctx), esc);
        struct cli_request req = {.method = "DELETE", .path = path};
        struct err e = {0};
        if (cli_client_do(c, &req, NULL, &e) < 0) {
            buf_printf(&errs, "%s%s", errs.len ? "\n" : "", e.msg);
            continue;
        }
        fprintf(ctx->out, "%s\n", fl->args[i]);
        fflush(ctx->out);
    }
    int rc = 0;
    if (errs.len)
        rc = err_set(err, ERR_INVALID, "%s", (const char *)errs.data);
    buf_fini(&errs);
    return rc;
}

/* ---- command tables ---------------------------------------------------- */

static const struct cli_flag create_flags[] = {
    {"driver", 'd', CLI_FLAG_STRING, "Secret driver", NULL, NULL, NULL, false},
    {"label", 'l', CLI_FLAG_LIST, "Secret labels", NULL, "list", NULL, false},
    {"template-driver", 0, CLI_FLAG_STRING, "Template driver", NULL, NULL, NULL,
     false},
};

static const struct cli_flag config_create_flags[] = {
    {"label", 'l', CLI_FLAG_LIST, "Config labels", NULL, "list", NULL, false},
    {"template-driver", 0, CLI_FLAG_STRING, "Template driver", NULL, NULL, NULL,
     false},
};

static const struct cli_flag ls_flags[] = {
    {"filter", 'f', CLI_FLAG_LIST, "Filter output based on conditions provided",
     NULL, "filter", NULL, false},
    {"format", 0, CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Only display IDs", NULL, NULL, NULL, false},
};

static const struct cli_flag inspect_flags[] = {
    {"format", 'f', CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
    {"pretty", 0, CLI_FLAG_BOOL,
     "Print the information in a human friendly "
     "format",
     NULL, NULL, NULL, false},
};

static const char *const ls_aliases[] = {"list", NULL};
static const char *const rm_aliases[] = {"remove", NULL};

static const struct cli_cmd secret_create = {
    .name = "create",
    .use = "[OPTIONS] SECRET [file|-]",
    .short_desc = "Create a secret from a file or STDIN as content",
    .flags = CLI_FLAGS(create_flags),
    .args = CLI_ARGS_RANGE,
    .nmin = 1,
    .nmax = 2,
    .run = run_create,
};

static const struct cli_cmd config_create = {
    .name = "create",
    .use = "[OPTIONS] CONFIG file|-",
    .short_desc = "Create a config from a file or STDIN",
    .flags = CLI_FLAGS(config_create_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 2,
    .run = run_create,
};

#define LEAVES(prefix, WHAT, what)                                             \
    static const struct cli_cmd prefix##_inspect = {                           \
        .name = "inspect",                                                     \
        .use = "[OPTIONS] " WHAT " [" WHAT "...]",                             \
        .short_desc = "Display detailed information on one or more " what "s", \
        .flags = CLI_FLAGS(inspect_flags),                                     \
        .args = CLI_ARGS_MIN,                                                  \
        .nmin = 1,                                                             \
        .run = run_inspect,                                                    \
    };                                                                         \
    static const struct cli_cmd prefix##_ls = {                                \
        .name = "ls",                                                          \
        .aliases = ls_aliases,                                                 \
        .use = "[OPTIONS]",                                                    \
        .short_desc = "List " what "s",                                        \
        .flags = CLI_FLAGS(ls_flags),                                          \
        .args = CLI_ARGS_NONE,                                                 \
        .run = run_ls,                                                         \
    };                                                                         \
    static const struct cli_cmd prefix##_rm = {                                \
        .name = "rm",                                                          \
        .aliases = rm_aliases,                                                 \
        .use = WHAT " [" WHAT "...]",                                          \
        .short_desc = "Remove one or more " what "s",                          \
        .args = CLI_ARGS_MIN,                                                  \
        .nmin = 1,                                                             \
        .run = run_rm,                                                         \
    };                                                                         \
    static const struct cli_cmd *const prefix##_subs[] = {                     \
        &prefix##_create, &prefix##_inspect, &prefix##_ls, &prefix##_rm, NULL, \
    };

LEAVES(secret, "SECRET", "secret")
LEAVES(config, "CONFIG", "config")

const struct cli_cmd cli_cmd_secret = {
    .name = "secret",
    .use = "COMMAND",
    .short_desc = "Manage swarm secrets",
    .subs = secret_subs,
};

const struct cli_cmd cli_cmd_config = {
    .name = "config",
    .use = "COMMAND",
    .short_desc = "Manage swarm configs",
    .subs = config_subs,
};
