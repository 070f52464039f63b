// SPDX-License-Identifier: Apache-2.0
// Docker's container commands shoal keeps for looking at a node's tasks up
// close: `ps`, `kill`, `logs` and `inspect`, as top-level commands and under
// `shoal container`. Output follows docker 28's formatter (truncated IDs,
// quoted commands, grouped ports).
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/format.h"

/* ---- ps ---------------------------------------------------------------- */

struct ctr_rec {
    const json_t *c;
    bool trunc;
    int64_t now;
};

/* strconv.Quote for the COMMAND column. */
static char *go_quote(const char *s)
{
    struct buf b;
    buf_init(&b);
    buf_putc(&b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            buf_puts(&b, "\\\"");
            break;
        case '\\':
            buf_puts(&b, "\\\\");
            break;
        case '\n':
            buf_puts(&b, "\\n");
            break;
        case '\t':
            buf_puts(&b, "\\t");
            break;
        case '\r':
            buf_puts(&b, "\\r");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                buf_printf(&b, "\\x%02x", *p);
            else
                buf_putc(&b, (char)*p);
        }
    }
    buf_putc(&b, '"');
    return buf_steal(&b);
}

struct port {
    long priv, pub;
    const char *ip, *type;
};

static int cmp_ip(const char *a, const char *b)
{
    /* netip ordering: invalid < IPv4 < IPv6, then by value. */
    int ka = !*a ? 0 : strchr(a, ':') ? 2 : 1;
    int kb = !*b ? 0 : strchr(b, ':') ? 2 : 1;
    if (ka != kb)
        return ka - kb;
    return strcmp(a, b);
}

static int cmp_port(const void *x, const void *y)
{
    const struct port *a = x, *b = y;
    if (a->priv != b->priv)
        return a->priv < b->priv ? -1 : 1;
    int c = cmp_ip(a->ip, b->ip);
    if (c)
        return c;
    if (a->pub != b->pub)
        return a->pub < b->pub ? -1 : 1;
    return strcmp(a->type, b->type);
}

static void host_port(struct buf *b, const char *ip, const char *port)
{
    if (strchr(ip, ':'))
        buf_printf(b, "[%s]:%s", ip, port);
    else
        buf_printf(b, "%s:%s", ip, port);
}

/* formatter.DisplayablePorts. */
char *cli_container_ports(const json_t *ports);
char *cli_container_ports(const json_t *ports)
{
    size_t n = json_array_size(ports);
    struct port *p = xcalloc(n + 1, sizeof(*p));
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_array_get(ports, i);
        p[i].priv = (long)jx_int(j, "PrivatePort", 0);
        p[i].pub = (long)jx_int(j, "PublicPort", 0);
        p[i].ip = jx_str0(j, "IP");
        p[i].type = jx_str0(j, "Type");
    }
    qsort(p, n, sizeof(*p), cmp_port);
    struct buf result, maps;
    buf_init(&result);
    buf_init(&maps);
    /* Groups of consecutive ports per "ip/type" key, in creation order. */
    char keys[64][80];
    long first[64], last[64];
    size_t nkeys = 0;
    for (size_t i = 0; i < n; i++) {
        char key[80];
        if (*p[i].ip) {
            if (p[i].pub != p[i].priv) {
                char pub[16];
                snprintf(pub, sizeof(pub), "%ld", p[i].pub);
                buf_printf(&maps, "%s", maps.len ? ", " : "");
                host_port(&maps, p[i].ip, pub);
                buf_printf(&maps, "->%ld/%s", p[i].priv, p[i].type);
                continue;
            }
            snprintf(key, sizeof(key), "%s/%s", p[i].ip, p[i].type);
        } else {
            snprintf(key, sizeof(key), "%s", p[i].type);
        }
        size_t k;
        for (k = 0; k < nkeys && strcmp(keys[k], key) != 0; k++)
            ;
        if (k == nkeys) {
            if (nkeys == 64)
                continue;
            snprintf(keys[nkeys], sizeof(keys[0]), "%s", key);
            first[nkeys] = last[nkeys] = p[i].priv;
            nkeys++;
            continue;
        }
        if (p[i].priv == last[k] + 1) {
            last[k] = p[i].priv;
            continue;
        }
        /* Flush the finished group, start a new one. */
        const char *slash = strchr(keys[k], '/');
        char grp[32];
        if (first[k] != last[k])
            snprintf(grp, sizeof(grp), "%ld-%ld", first[k], last[k]);
        else
            snprintf(grp, sizeof(grp), "%ld", first[k]);
        buf_printf(&result, "%s", result.len ? ", " : "");
        if (slash) {
            char ip[64];
            snprintf(ip, sizeof(ip), "%.*s", (int)(slash - keys[k]), keys[k]);
            host_port(&result, ip, grp);
            buf_printf(&result, "->%s/%s", grp, slash + 1);
        } else {
            buf_printf(&result, "%s/%s", grp, keys[k]);
        }
        first[k] = last[k] = p[i].priv;
    }
    for (size_t k = 0; k < nkeys; k++) {
        const char *slash = strchr(keys[k], '/');
        char grp[32];
        if (first[k] != last[k])
            snprintf(grp, sizeof(grp), "%ld-%ld", first[k], last[k]);
        else
            snprintf(grp, sizeof(grp), "%ld", first[k]);
        buf_printf(&result, "%s", result.len ? ", " : "");
        if (slash) {
            char ip[64];
            snprintf(ip, sizeof(ip), "%.*s", (int)(slash - keys[k]), keys[k]);
            host_port(&result, ip, grp);
            buf_printf(&result, "->%s/%s", grp, slash + 1);
        } else {
            buf_printf(&result, "%s/%s", grp, keys[k]);
        }
    }
    if (maps.len)
        buf_printf(&result, "%s%s", result.len ? ", " : "", maps.data);
    buf_fini(&maps);
    free(p);
    return result.data ? buf_steal(&result) : xstrdup("");
}

static char *ctr_field(const char *field, void *rec)
{
    const struct ctr_rec *r = rec;
    const json_t *c = r->c;
    if (!strcmp(field, "ID")) {
        if (!r->trunc)
            return xstrdup(jx_str0(c, "Id"));
        char id[16];
        cli_fmt_trunc_id(jx_str0(c, "Id"), id, sizeof(id));
        return xstrdup(id);
    }
    if (!strcmp(field, "Image")) {
        const char *img = jx_str0(c, "Image");
        if (!*img)
            return xstrdup("<no image>");
        if (!r->trunc)
            return xstrdup(img);
        char a[16], b[16];
        cli_fmt_trunc_id(jx_str0(c, "ImageID"), a, sizeof(a));
        cli_fmt_trunc_id(img, b, sizeof(b));
        if (!strcmp(a, b))
            return xstrdup(a);
        if (!strncmp(img, "sha256:", 7) || !cli_ref_digest_valid(img))
            return xstrdup(img);
        /* Drop a digest, keep the tag; familiar name. */
        char *fam = cli_fmt_image_familiar(img);
        char *at = strchr(fam, '@');
        if (at)
            *at = '\0';
        return fam;
    }
    if (!strcmp(field, "Command")) {
        const char *cmd = jx_str0(c, "Command");
        _cleanup_free_ char *s =
            r->trunc ? cli_fmt_ellipsis(cmd, 20) : xstrdup(cmd);
        return go_quote(s);
    }
    if (!strcmp(field, "RunningFor") || !strcmp(field, "CreatedAt")) {
        char human[64];
        duration_human(r->now - jx_int(c, "Created", 0) * NS_PER_SEC, human,
                       sizeof(human));
        return xasprintf("%s ago", human);
    }
    if (!strcmp(field, "Status"))
        return xstrdup(jx_str0(c, "Status"));
    if (!strcmp(field, "State"))
        return xstrdup(jx_str0(c, "State"));
    if (!strcmp(field, "Ports"))
        return cli_container_ports(json_object_get(c, "Ports"));
    if (!strcmp(field, "Names")) {
        struct buf b;
        buf_init(&b);
        size_t i;
        json_t *n;
        json_array_foreach(json_object_get(c, "Names"), i, n)
        {
            const char *name = cli_jstr(n);
            if (!name)
                continue;
            if (*name == '/')
                name++;
            if (r->trunc) {
                if (!strchr(name, '/')) {
                    buf_fini(&b);
                    return xstrdup(name);
                }
                continue;
            }
            buf_printf(&b, "%s%s", b.len ? "," : "", name);
        }
        return b.data ? buf_steal(&b) : xstrdup("");
    }
    if (!strcmp(field, "Size")) {
        char a[32], v[32];
        cli_fmt_human_size((double)jx_int(c, "SizeRw", 0), 3, a, sizeof(a));
        if (jx_int(c, "SizeRootFs", 0) > 0) {
            cli_fmt_human_size((double)jx_int(c, "SizeRootFs", 0), 3, v,
                               sizeof(v));
            return xasprintf("%s (virtual %s)", a, v);
        }
        return xstrdup(a);
    }
    return NULL;
}

static const struct cli_field ctr_fields[] = {
    {"ID", "CONTAINER ID"},      {"Image", "IMAGE"},
    {"Command", "COMMAND"},      {"RunningFor", "CREATED"},
    {"CreatedAt", "CREATED AT"}, {"Status", "STATUS"},
    {"State", "STATE"},          {"Ports", "PORTS"},
    {"Names", "NAMES"},          {"Size", "SIZE"},
};

static int run_ps(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
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
    long long last =
        cli_flag_changed(fl, "last") ? cli_flag_int(fl, "last") : -1;
    if (cli_flag_bool(fl, "latest"))
        last = 1;
    if (cli_flag_bool(fl, "all") || last > 0)
        cli_query_add(&q, "all", "1");
    if (last > 0) {
        char n[32];
        snprintf(n, sizeof(n), "%lld", last);
        cli_query_add(&q, "limit", n);
    }
    bool size = cli_flag_bool(fl, "size");
    if (size)
        cli_query_add(&q, "size", "1");
    _cleanup_free_ char *path =
        xasprintf("/containers/json%s", cli_query_str(&q));
    cli_query_fini(&q);
    _cleanup_json_ json_t *list = cli_client_get_json(c, path, err);
    if (!list)
        return -1;
    size_t n = json_array_size(list);
    struct ctr_rec *recs = xcalloc(n + 1, sizeof(*recs));
    void **ptrs = xcalloc(n + 1, sizeof(void *));
    bool trunc = !cli_flag_bool(fl, "no-trunc");
    for (size_t i = 0; i < n; i++) {
        recs[i].c = json_array_get(list, i);
        recs[i].trunc = trunc;
        recs[i].now = cli_ctx_now(ctx);
        ptrs[i] = &recs[i];
    }
    int rc = cli_print_list(
        ctx,
        cli_flag_bool(fl, "quiet") ? "{{.ID}}" : cli_flag_str(fl, "format"),
        size ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{."
               "Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
             : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{."
               "Status}}\t{{.Ports}}\t{{.Names}}",
        ctr_fields, ARRAY_SIZE(ctr_fields), ctr_field, ptrs, n, err);
    free(recs);
    free(ptrs);
    return rc;
}

/* ---- kill / inspect ---------------------------------------------------- */

static int run_kill(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    const char *sig = cli_flag_str(fl, "signal");
    struct buf errs;
    buf_init(&errs);
    for (size_t i = 0; i < fl->nargs; i++) {
        struct cli_query q;
        cli_query_init(&q);
        if (sig && *sig)
            cli_query_add(&q, "signal", sig);
        _cleanup_free_ char *esc = cli_path_escape(fl->args[i]);
        _cleanup_free_ char *path =
            xasprintf("/containers/%s/kill%s", esc, cli_query_str(&q));
        cli_query_fini(&q);
        struct cli_request req = {.method = "POST", .path = path};
        struct err e = {0};
        if (cli_client_do(c, &req, NULL, &e) < 0) {
            buf_printf(&errs, "%s%s", errs.len ? "\n" : "", e.msg);
            continue;
        }
        fprintf(ctx->out, "%s\n", fl->args[i]);
    }
    int rc = 0;
    if (errs.len)
        rc = err_set(err, ERR_INTERNAL, "%s", errs.data);
    buf_fini(&errs);
    return rc;
}

static char *fetch_container(struct cli_client *c, const char *arg, void *data,
                             struct err *e)
{
    (void)data;
    _cleanup_free_ char *esc = cli_path_escape(arg);
    _cleanup_free_ char *path = xasprintf("/containers/%s/json", esc);
    size_t len;
    return cli_client_get_raw(c, path, &len, e);
}

static int run_inspect(struct cli_ctx *ctx, struct cli_flags *fl,
                       struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    const char *format = cli_flag_str(fl, "format");
    return cli_inspect(ctx, c, fl->args, fl->nargs, format, NULL,
                       fetch_container, NULL, err);
}

/* ---- logs -------------------------------------------------------------- */

struct clogs {
    struct cli_ctx *ctx;
    bool tty;
    struct buf pending;
    struct err err;
};

static int on_clog(const char *data, size_t len, void *ud)
{
    struct clogs *st = ud;
    if (st->tty) {
        fwrite(data, 1, len, st->ctx->out);
        fflush(st->ctx->out);
        return 0;
    }
    buf_append(&st->pending, data, len);
    while (st->pending.len >= 8) {
        const unsigned char *h = (const unsigned char *)st->pending.data;
        size_t size = ((size_t)h[4] << 24) | ((size_t)h[5] << 16) |
                      ((size_t)h[6] << 8) | h[7];
        if (st->pending.len < 8 + size)
            break;
        if (h[0] == 3) {
            err_set(&st->err, ERR_INTERNAL, "%.*s", (int)size,
                    st->pending.data + 8);
            return -1;
        }
        FILE *f = h[0] == 2 ? st->ctx->err : st->ctx->out;
        fwrite(st->pending.data + 8, 1, size, f);
        fflush(f);
        buf_consume(&st->pending, 8 + size);
    }
    return 0;
}

static int run_logs(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    _cleanup_free_ char *esc = cli_path_escape(fl->args[0]);
    _cleanup_free_ char *ipath = xasprintf("/containers/%s/json", esc);
    _cleanup_json_ json_t *info = cli_client_get_json(c, ipath, err);
    if (!info)
        return -1;
    struct cli_query q;
    cli_query_init(&q);
    if (cli_flag_bool(fl, "details"))
        cli_query_add(&q, "details", "1");
    if (cli_flag_bool(fl, "follow"))
        cli_query_add(&q, "follow", "1");
    static const char *const times[] = {"since", "until"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = cli_flag_str(fl, times[i]);
        if (!v || !*v)
            continue;
        int64_t d, t;
        char ts[48];
        if (cli_parse_duration(v, &d, NULL) == 0)
            snprintf(ts, sizeof(ts), "%lld",
                     (long long)((time_now_ns() - d) / NS_PER_SEC));
        else if (time_parse_rfc3339(v, &t) == 0)
            snprintf(ts, sizeof(ts), "%lld.%09lld", (long long)(t / NS_PER_SEC),
                     (long long)(t % NS_PER_SEC));
        else
            snprintf(ts, sizeof(ts), "%s", v);
        cli_query_add(&q, times[i], ts);
    }
    cli_query_add(&q, "stderr", "1");
    cli_query_add(&q, "stdout", "1");
    const char *tail = cli_flag_str(fl, "tail");
    cli_query_add(&q, "tail", tail && *tail ? tail : "all");
    if (cli_flag_bool(fl, "timestamps"))
        cli_query_add(&q, "timestamps", "1");
    _cleanup_free_ char *id = cli_path_escape(jx_str0(info, "Id"));
    _cleanup_free_ char *path =
        xasprintf("/containers/%s/logs%s", id, cli_query_str(&q));
    cli_query_fini(&q);
    struct clogs st = {
        .ctx = ctx,
        .tty = jx_bool(json_object_get(info, "Config"), "Tty", false)};
    buf_init(&st.pending);
    struct cli_request req = {
        .method = "GET", .path = path, .on_data = on_clog, .ud = &st};
    int rc = cli_client_do(c, &req, NULL, err);
    if (rc < 0 && st.err.msg[0])
        *err = st.err;
    buf_fini(&st.pending);
    return rc;
}

/* ---- command table ---------------------------------------------------- */

static const struct cli_flag ps_flags[] = {
    {"all", 'a', CLI_FLAG_BOOL,
     "Show all containers (default shows just "
     "running)",
     NULL, NULL, NULL, false},
    {"filter", 'f', CLI_FLAG_LIST, "Filter output based on conditions provided",
     NULL, "filter", NULL, false},
    {"format", 0, CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
    {"last", 'n', CLI_FLAG_INT,
     "Show n last created containers (includes all "
     "states)",
     "-1", NULL, NULL, false},
    {"latest", 'l', CLI_FLAG_BOOL,
     "Show the latest created container "
     "(includes all states)",
     NULL, NULL, NULL, false},
    {"no-trunc", 0, CLI_FLAG_BOOL, "Don't truncate output", NULL, NULL, NULL,
     false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Only display container IDs", NULL, NULL,
     NULL, false},
    {"size", 's', CLI_FLAG_BOOL, "Display total file sizes", NULL, NULL, NULL,
     false},
};

static const struct cli_flag kill_flags[] = {
    {"signal", 's', CLI_FLAG_STRING, "Signal to send to the container", NULL,
     NULL, NULL, false},
};

static const struct cli_flag inspect_flags[] = {
    {"format", 'f', CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
    {"size", 's', CLI_FLAG_BOOL, "Display total file sizes", NULL, NULL, NULL,
     false},
};

static const struct cli_flag logs_flags[] = {
    {"details", 0, CLI_FLAG_BOOL, "Show extra details provided to logs", NULL,
     NULL, NULL, false},
    {"follow", 'f', CLI_FLAG_BOOL, "Follow log output", NULL, NULL, NULL,
     false},
    {"since", 0, CLI_FLAG_STRING,
     "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative "
     "(e.g. \"42m\" for 42 minutes)",
     NULL, NULL, NULL, false},
    {"tail", 'n', CLI_FLAG_STRING,
     "Number of lines to show from the end of the logs", "all", NULL, NULL,
     false},
    {"timestamps", 't', CLI_FLAG_BOOL, "Show timestamps", NULL, NULL, NULL,
     false},
    {"until", 0, CLI_FLAG_STRING,
     "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or "
     "relative (e.g. \"42m\" for 42 minutes)",
     NULL, NULL, NULL, false},
};

static const char *const ls_aliases[] = {"ps", "list", NULL};

static const struct cli_cmd cmd_ls = {
    .name = "ls",
    .aliases = ls_aliases,
    .use = "[OPTIONS]",
    .short_desc = "List containers",
    .flags = CLI_FLAGS(ps_flags),
    .args = CLI_ARGS_NONE,
    .run = run_ps,
};

static const struct cli_cmd cmd_kill = {
    .name = "kill",
    .use = "[OPTIONS] CONTAINER [CONTAINER...]",
    .short_desc = "Kill one or more running containers",
    .flags = CLI_FLAGS(kill_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_kill,
};

static const struct cli_cmd cmd_logs = {
    .name = "logs",
    .use = "[OPTIONS] CONTAINER",
    .short_desc = "Fetch the logs of a container",
    .flags = CLI_FLAGS(logs_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_logs,
};

static const struct cli_cmd cmd_inspect = {
    .name = "inspect",
    .use = "[OPTIONS] CONTAINER [CONTAINER...]",
    .short_desc = "Display detailed information on one or more containers",
    .flags = CLI_FLAGS(inspect_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_inspect,
};

static const struct cli_cmd *const container_subs[] = {
    &cmd_inspect, &cmd_kill, &cmd_logs, &cmd_ls, NULL,
};

const struct cli_cmd cli_cmd_container = {
    .name = "container",
    .use = "COMMAND",
    .short_desc = "Manage containers",
    .subs = container_subs,
};

const struct cli_cmd cli_cmd_ps = {
    .name = "ps",
    .use = "[OPTIONS]",
    .short_desc = "List containers",
    .flags = CLI_FLAGS(ps_flags),
    .args = CLI_ARGS_NONE,
    .run = run_ps,
};

const struct cli_cmd cli_cmd_kill = {
    .name = "kill",
    .use = "[OPTIONS] CONTAINER [CONTAINER...]",
    .short_desc = "Kill one or more running containers",
    .flags = CLI_FLAGS(kill_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_kill,
};

const struct cli_cmd cli_cmd_logs = {
    .name = "logs",
    .use = "[OPTIONS] CONTAINER",
    .short_desc = "Fetch the logs of a container",
    .flags = CLI_FLAGS(logs_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_logs,
};

const struct cli_cmd cli_cmd_inspect = {
    .name = "inspect",
    .use = "[OPTIONS] CONTAINER [CONTAINER...]",
    .short_desc = "Return low-level information on containers",
    .flags = CLI_FLAGS(inspect_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_inspect,
};
