// SPDX-License-Identifier: Apache-2.0
// `shoal volume ...` (create, ls, inspect, rm, prune), following the docker
// CLI 28: the CreateOptions body, the `volume ls` table (DRIVER, VOLUME
// NAME) sorted by name, inspect through the shared JSON printer, rm going
// on past errors, prune with docker's prompts and report.
#include "cli/cli_volume.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli_network.h"
#include "cli/cli_service_spec.h"
#include "cli/format.h"

static const char prune_warning_anon[] =
    "WARNING! This will remove anonymous local volumes not used by at least "
    "one container.\nAre you sure you want to continue?";
static const char prune_warning_all[] =
    "WARNING! This will remove all local volumes not used by at least one "
    "container.\nAre you sure you want to continue?";

/* ---- create ------------------------------------------------------------ */

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy of obj with its keys sorted, as Go encodes a map. */
static json_t *go_map(const json_t *obj)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = xcalloc(n + 1, sizeof(*keys));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof(*keys), cmp_cstr);
    json_t *out = json_object();
    for (i = 0; i < n; i++)
        json_object_set(out, keys[i], json_object_get(obj, keys[i]));
    free(keys);
    return out;
}

/* opts.MapOpts / ConvertKVStringsToMap of a list flag. */
static json_t *kv_map(const struct cli_flags *fl, const char *name)
{
    const struct vec *v = cli_flag_list(fl, name);
    _cleanup_json_ json_t *m = json_object();
    for (size_t i = 0; i < v->len; i++)
        cli_kv_into(m, v->items[i]);
    return go_map(m);
}

int cli_volume_create_body(const struct cli_flags *fl, const char *name,
                           struct buf *out, struct err *err)
{
    const char *flag_name = cli_flag_str(fl, "name");
    if (name && *name && flag_name && *flag_name)
        return err_set(err, ERR_INVALID,
                       "conflicting options: either specify --name or provide "
                       "positional arg, not both");
    if (!name || !*name)
        name = flag_name;
    const char *driver = cli_flag_str(fl, "driver");
    _cleanup_json_ json_t *body = json_object();
    if (driver && *driver)
        json_object_set_new(body, "Driver", json_string(driver));
    json_t *opts = kv_map(fl, "opt");
    if (json_object_size(opts))
        json_object_set_new(body, "DriverOpts", opts);
    else
        json_decref(opts);
    json_t *labels = kv_map(fl, "label");
    if (json_object_size(labels))
        json_object_set_new(body, "Labels", labels);
    else
        json_decref(labels);
    if (name && *name)
        json_object_set_new(body, "Name", json_string(name));
    _cleanup_free_ char *text = jx_dumps(body);
    buf_puts(out, text);
    return 0;
}

static int run_create(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    struct buf body;
    buf_init(&body);
    if (cli_volume_create_body(fl, fl->nargs ? fl->args[0] : NULL, &body, err) <
        0) {
        buf_fini(&body);
        return -1;
    }
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c) {
        buf_fini(&body);
        return -1;
    }
    struct cli_request req = {.method = "POST",
                              .path = "/volumes/create",
                              .content_type = "application/json",
                              .body = body.data,
                              .body_len = body.len};
    struct cli_response resp;
    int rc = cli_client_do(c, &req, &resp, err);
    buf_fini(&body);
    if (rc == 0) {
        json_error_t je;
        _cleanup_json_ json_t *reply =
            resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, &je)
                          : NULL;
        fprintf(ctx->out, "%s\n", jx_str0(reply, "Name"));
    }
    buf_fini(&resp.body);
    return rc;
}

/* ---- ls ---------------------------------------------------------------- */

static char *labels_text(const json_t *labels)
{
    json_t *sorted = go_map(labels);
    struct buf b;
    buf_init(&b);
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach(sorted, k, v)
    {
        buf_printf(&b, "%s%s=%s", i++ ? "," : "", k, cli_jstr(v));
    }
    json_decref(sorted);
    return b.data ? buf_steal(&b) : xstrdup("");
}

static char *volume_field(const char *field, void *rec)
{
    const json_t *v = rec;
    if (!strcmp(field, "Name") || !strcmp(field, "Driver") ||
        !strcmp(field, "Scope") || !strcmp(field, "Mountpoint"))
        return xstrdup(jx_str0(v, field));
    if (!strcmp(field, "Labels"))
        return labels_text(json_object_get(v, "Labels"));
    if (!strcmp(field, "Links") || !strcmp(field, "Size")) {
        json_t *u = json_object_get(v, "UsageData");
        if (!json_is_object(u))
            return xstrdup("N/A");
        if (!strcmp(field, "Links"))
            return xasprintf("%lld", (long long)jx_int(u, "RefCount", 0));
        char size[32];
        cli_fmt_human_size((double)jx_int(u, "Size", 0), 4, size, sizeof(size));
        return xstrdup(size);
    }
    /* Cluster volumes only: empty for local ones. */
    if (!strcmp(field, "Group") || !strcmp(field, "Availability") ||
        !strcmp(field, "Status"))
        return xstrdup("");
    return NULL;
}

static const struct cli_field volume_fields[] = {
    {"Name", "VOLUME NAME"},
    {"Driver", "DRIVER"},
    {"Scope", "SCOPE"},
    {"Mountpoint", "MOUNTPOINT"},
    {"Labels", "LABELS"},
    {"Links", "LINKS"},
    {"Size", "SIZE"},
    {"Group", "GROUP"},
    {"Availability", "AVAILABILITY"},
    {"Status", "STATUS"},
};

static int cmp_volume(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a;
    const json_t *y = *(json_t *const *)b;
    return cli_natural_cmp(jx_str0(x, "Name"), jx_str0(y, "Name"));
}

int cli_volume_print_list(struct cli_ctx *ctx, const json_t *volumes,
                          const char *format, bool quiet, struct err *err)
{
    /* docker's NewVolumeFormat: quiet changes the table and raw formats. */
    if (!format || !*format)
        format = "table";
    if (!strcmp(format, "table") && quiet)
        format = "{{.Name}}";
    else if (!strcmp(format, "raw"))
        format = quiet ? "name: {{.Name}}"
                       : "name: {{.Name}}\\ndriver: {{.Driver}}\\n";
    size_t n = json_array_size(volumes);
    json_t **recs = xcalloc(n + 1, sizeof(*recs));
    for (size_t i = 0; i < n; i++)
        recs[i] = json_array_get(volumes, i);
    qsort(recs, n, sizeof(*recs), cmp_volume);
    int rc = cli_print_list(ctx, format, "table {{.Driver}}\t{{.Name}}",
                            volume_fields, ARRAY_SIZE(volume_fields),
                            volume_field, (void *const *)recs, n, err);
    free(recs);
    return rc;
}

static char *filters_path(const char *base, const struct cli_flags *fl,
                          const char *extra_key, const char *extra_value,
                          struct err *err)
{
    json_t *f = cli_filters_from_flag(fl, "filter", err);
    if (!f)
        return NULL;
    if (extra_key)
        cli_filters_add(f, extra_key, extra_value);
    _cleanup_free_ char *fj = cli_filters_encode(f);
    json_decref(f);
    struct cli_query q;
    cli_query_init(&q);
    if (fj)
        cli_query_add(&q, "filters", fj);
    char *path = xasprintf("%s%s", base, cli_query_str(&q));
    cli_query_fini(&q);
    return path;
}

static int run_ls(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    _cleanup_free_ char *path = filters_path("/volumes", fl, NULL, NULL, err);
    if (!path)
        return -1;
    _cleanup_json_ json_t *reply = cli_client_get_object(c, path, err);
    if (!reply)
        return -1;
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(reply, "Warnings"), i, w)
    {
        fprintf(ctx->err, "%s\n", cli_jstr(w));
    }
    return cli_volume_print_list(ctx, json_object_get(reply, "Volumes"),
                                 cli_flag_str(fl, "format"),
                                 cli_flag_bool(fl, "quiet"), err);
}

/* ---- inspect ----------------------------------------------------------- */

static char *fetch_volume(struct cli_client *c, const char *arg, void *data,
                          struct err *e)
{
    (void)data;
    _cleanup_free_ char *esc = cli_path_escape(arg);
    _cleanup_free_ char *path = xasprintf("/volumes/%s", esc);
    size_t len;
    return cli_client_get_raw(c, path, &len, e);
}

static int run_inspect(struct cli_ctx *ctx, struct cli_flags *fl,
                       struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    return cli_inspect(ctx, c, fl->args, fl->nargs, cli_flag_str(fl, "format"),
                       NULL, fetch_volume, NULL, err);
}

/* ---- rm ---------------------------------------------------------------- */

static int run_rm(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    bool force = cli_flag_bool(fl, "force");
    int status = 0;
    for (size_t i = 0; i < fl->nargs; i++) {
        _cleanup_free_ char *esc = cli_path_escape(fl->args[i]);
        _cleanup_free_ char *path =
            xasprintf("/volumes/%s%s", esc, force ? "?force=1" : "");
        struct cli_request req = {.method = "DELETE", .path = path};
        struct err e = {0};
        if (cli_client_do(c, &req, NULL, &e) < 0) {
            if (e.code == CLI_ERR_CONNECT) {
                *err = e;
                return -1;
            }
            fflush(ctx->out);
            fprintf(ctx->err, "%s\n", e.msg);
            status = 1;
            continue;
        }
        fprintf(ctx->out, "%s\n", fl->args[i]);
        fflush(ctx->out);
    }
    return status;
}

/* ---- prune ------------------------------------------------------------- */

/* versions.LessThan for "MAJOR.MINOR" API versions. */
static bool api_version_less(const char *a, const char *b)
{
    char *end;
    long amaj = strtol(a, &end, 10);
    long amin = *end == '.' ? strtol(end + 1, NULL, 10) : 0;
    long bmaj = strtol(b, &end, 10);
    long bmin = *end == '.' ? strtol(end + 1, NULL, 10) : 0;
    return amaj < bmaj || (amaj == bmaj && amin < bmin);
}

/* docker's prompt.Confirm: one line of stdin, "y" or "Y" for yes. */
static bool confirm(struct cli_ctx *ctx, const char *msg)
{
    fprintf(ctx->out, "%s [y/N] ", msg);
    fflush(ctx->out);
    char *line = NULL;
    size_t cap = 0;
    bool yes = false;
    if (getline(&line, &cap, stdin) >= 0) {
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        yes = n == 1 && (*s == 'y' || *s == 'Y');
    }
    free(line);
    return yes;
}

static int run_prune(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c || cli_client_negotiate(c, err) < 0)
        return -1;
    bool all = cli_flag_bool(fl, "all");
    const char *warning = prune_warning_anon;
    /* From API 1.42 prune spares named volumes unless asked; before, it
     * took them all. */
    bool new_api = !api_version_less(cli_client_version(c), "1.42");
    const struct vec *given = cli_flag_list(fl, "filter");
    if (new_api && all) {
        for (size_t i = 0; i < given->len; i++)
            if (!strncmp(given->items[i], "all=", 4))
                return err_set(err, ERR_INVALID,
                               "conflicting options: cannot specify both "
                               "--all and --filter all=1");
        warning = prune_warning_all;
    } else if (!new_api) {
        warning = prune_warning_all;
    }
    _cleanup_free_ char *path = filters_path(
        "/volumes/prune", fl, new_api && all ? "all" : NULL, "true", err);
    if (!path)
        return -1;
    /* A "no" cancels quietly with status 0, as `network prune` does. */
    if (!cli_flag_bool(fl, "force") && !confirm(ctx, warning))
        return 0;
    _cleanup_json_ json_t *report =
        cli_client_send_json(c, "POST", path, NULL, err);
    if (!report)
        return -1;
    json_t *deleted = json_object_get(report, "VolumesDeleted");
    if (json_array_size(deleted)) {
        fprintf(ctx->out, "Deleted Volumes:\n");
        size_t i;
        json_t *name;
        json_array_foreach(deleted, i, name)
        {
            fprintf(ctx->out, "%s\n", cli_jstr(name));
        }
        fprintf(ctx->out, "\n");
    }
    char size[32];
    cli_fmt_human_size((double)jx_int(report, "SpaceReclaimed", 0), 4, size,
                       sizeof(size));
    fprintf(ctx->out, "Total reclaimed space: %s\n", size);
    return 0;
}

/* ---- command table ---------------------------------------------------- */

static const struct cli_flag create_flags[] = {
    {"driver", 'd', CLI_FLAG_STRING, "Specify volume driver name", "local",
     NULL, NULL, false},
    {"label", 0, CLI_FLAG_LIST, "Set metadata for a volume", NULL, "list",
     cli_network_check_label, false},
    {"name", 0, CLI_FLAG_STRING, "Specify volume name", NULL, NULL, NULL, true},
    {"opt", 'o', CLI_FLAG_LIST, "Set driver specific options", "map[]", "map",
     NULL, false},
};

static const struct cli_flag ls_flags[] = {
    {"filter", 'f', CLI_FLAG_LIST,
     "Provide filter values (e.g. \"dangling=true\")", NULL, "filter", NULL,
     false},
    {"format", 0, CLI_FLAG_STRING,
     "Format output using a custom template:\n'table':            Print "
     "output in table format with column headers (default)\n'table "
     "TEMPLATE':   Print output in table format using the given Go "
     "template\n'json':             Print in JSON format\n'TEMPLATE':    "
     "     Print output using the given Go template.\nRefer to "
     "https://docs.docker.com/go/formatting/ for more information about "
     "formatting output with templates",
     NULL, "string", NULL, false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Only display volume names", NULL, NULL, NULL,
     false},
};

static const struct cli_flag inspect_flags[] = {
    {"format", 'f', CLI_FLAG_STRING,
     "Format output using a custom template:\n'json':             Print in "
     "JSON format\n'TEMPLATE':         Print output using the given Go "
     "template.\nRefer to https://docs.docker.com/go/formatting/ for more "
     "information about formatting output with templates",
     NULL, "string", NULL, false},
};

static const struct cli_flag rm_flags[] = {
    {"force", 'f', CLI_FLAG_BOOL, "Force the removal of one or more volumes",
     NULL, NULL, NULL, false},
};

static const struct cli_flag prune_flags[] = {
    {"all", 'a', CLI_FLAG_BOOL,
     "Remove all unused volumes, not just anonymous ones", NULL, NULL, NULL,
     false},
    {"filter", 0, CLI_FLAG_LIST,
     "Provide filter values (e.g. \"label=<label>\")", NULL, "filter", NULL,
     false},
    {"force", 'f', CLI_FLAG_BOOL, "Do not prompt for confirmation", NULL, NULL,
     NULL, false},
};

static const char *const ls_aliases[] = {"list", NULL};
static const char *const rm_aliases[] = {"remove", NULL};

static const struct cli_cmd cmd_create = {
    .name = "create",
    .use = "[OPTIONS] [VOLUME]",
    .short_desc = "Create a volume",
    .flags = CLI_FLAGS(create_flags),
    .args = CLI_ARGS_MAX,
    .nmax = 1,
    .run = run_create,
};

static const struct cli_cmd cmd_inspect = {
    .name = "inspect",
    .use = "[OPTIONS] VOLUME [VOLUME...]",
    .short_desc = "Display detailed information on one or more volumes",
    .flags = CLI_FLAGS(inspect_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_inspect,
};

static const struct cli_cmd cmd_ls = {
    .name = "ls",
    .aliases = ls_aliases,
    .use = "[OPTIONS]",
    .short_desc = "List volumes",
    .flags = CLI_FLAGS(ls_flags),
    .args = CLI_ARGS_NONE,
    .run = run_ls,
};

static const struct cli_cmd cmd_prune = {
    .name = "prune",
    .use = "[OPTIONS]",
    .short_desc = "Remove unused local volumes",
    .flags = CLI_FLAGS(prune_flags),
    .args = CLI_ARGS_NONE,
    .run = run_prune,
};

static const struct cli_cmd cmd_rm = {
    .name = "rm",
    .aliases = rm_aliases,
    .use = "[OPTIONS] VOLUME [VOLUME...]",
    .short_desc = "Remove one or more volumes",
    .flags = CLI_FLAGS(rm_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_rm,
};

static const struct cli_cmd *const volume_subs[] = {
    &cmd_create, &cmd_inspect, &cmd_ls, &cmd_prune, &cmd_rm, NULL,
};

const struct cli_cmd cli_cmd_volume = {
    .name = "volume",
    .use = "COMMAND",
    .short_desc = "Manage volumes",
    .subs = volume_subs,
};
