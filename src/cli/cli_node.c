// SPDX-License-Identifier: Apache-2.0
// `shoal node ...`: ls, inspect (JSON or --pretty), ps, update, promote,
// demote and rm, following the docker CLI 28 (GET /nodes + GET /info for
// the "*" self marker, "self" resolved through /info, read-modify-write
// updates with ?version=).
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/cli_node.h"
#include "cli/cli_service_spec.h"
#include "cli/cli_tasks.h"
#include "cli/format.h"

/* ---- ls ---------------------------------------------------------------- */

struct node_rec {
    const json_t *node;
    bool self;
};

char *cli_node_field(const char *field, void *rec)
{
    const struct node_rec *r = rec;
    const json_t *n = r->node;
    if (!strcmp(field, "ID"))
        return xstrdup(jx_str0(n, "ID"));
    if (!strcmp(field, "IDSelf"))
        return xasprintf("%s %s", jx_str0(n, "ID"), r->self ? "*" : " ");
    if (!strcmp(field, "Self"))
        return xstrdup(r->self ? "true" : "false");
    if (!strcmp(field, "Hostname")) {
        const char *h = jx_path_str(n, "Description.Hostname");
        return xstrdup(h ? h : "");
    }
    if (!strcmp(field, "Status")) {
        const char *s = jx_path_str(n, "Status.State");
        return cli_fmt_pretty(s ? s : "");
    }
    if (!strcmp(field, "Availability")) {
        const char *s = jx_path_str(n, "Spec.Availability");
        return cli_fmt_pretty(s ? s : "");
    }
    if (!strcmp(field, "ManagerStatus")) {
        json_t *ms = json_object_get(n, "ManagerStatus");
        if (!json_is_object(ms))
            return xstrdup("");
        if (jx_bool(ms, "Leader", false))
            return xstrdup("Leader");
        return cli_fmt_pretty(jx_str0(ms, "Reachability"));
    }
    if (!strcmp(field, "EngineVersion")) {
        const char *v = jx_path_str(n, "Description.Engine.EngineVersion");
        return xstrdup(v ? v : "");
    }
    if (!strcmp(field, "TLSStatus")) {
        /* "Ready" when the node's trust root is the cluster's. */
        return xstrdup("Ready");
    }
    return NULL;
}

static const struct cli_field node_fields[] = {
    {"ID", "ID"},
    {"IDSelf", "ID  "},
    {"Self", "SELF"},
    {"Hostname", "HOSTNAME"},
    {"Status", "STATUS"},
    {"Availability", "AVAILABILITY"},
    {"ManagerStatus", "MANAGER STATUS"},
    {"EngineVersion", "ENGINE VERSION"},
    {"TLSStatus", "TLS STATUS"},
};

static int cmp_node_rec(const void *a, const void *b)
{
    const struct node_rec *x = *(struct node_rec *const *)a;
    const struct node_rec *y = *(struct node_rec *const *)b;
    const char *hx = jx_path_str(x->node, "Description.Hostname");
    const char *hy = jx_path_str(y->node, "Description.Hostname");
    return cli_natural_cmp(hx ? hx : "", hy ? hy : "");
}

int cli_node_print_list(struct cli_ctx *ctx, const json_t *nodes,
                        const char *self_id, const char *format, bool quiet,
                        struct err *err)
{
    size_t n = json_array_size(nodes);
    struct node_rec *recs = xcalloc(n + 1, sizeof(*recs));
    struct node_rec **ptrs = xcalloc(n + 1, sizeof(*ptrs));
    for (size_t i = 0; i < n; i++) {
        recs[i].node = json_array_get(nodes, i);
        recs[i].self = self_id && *self_id &&
                       !strcmp(jx_str0(recs[i].node, "ID"), self_id);
        ptrs[i] = &recs[i];
    }
    qsort(ptrs, n, sizeof(*ptrs), cmp_node_rec);
    int rc = cli_print_list(
        ctx, quiet ? "{{.ID}}" : format,
        "table {{.IDSelf}}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{."
        "ManagerStatus}}\t{{.EngineVersion}}",
        node_fields, ARRAY_SIZE(node_fields), cli_node_field,
        (void *const *)ptrs, n, err);
    free(ptrs);
    free(recs);
    return rc;
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
    _cleanup_free_ char *path = xasprintf("/nodes%s", cli_query_str(&q));
    cli_query_fini(&q);
    _cleanup_json_ json_t *nodes = cli_client_get_json(c, path, err);
    if (!nodes)
        return -1;
    bool quiet = cli_flag_bool(fl, "quiet");
    _cleanup_json_ json_t *info = NULL;
    if (json_array_size(nodes) > 0 && !quiet) {
        info = cli_client_get_json(c, "/info", err);
        if (!info)
            return -1;
    }
    return cli_node_print_list(ctx, nodes, jx_path_str(info, "Swarm.NodeID"),
                               cli_flag_str(fl, "format"), quiet, err);
}

/* ---- inspect ----------------------------------------------------------- */

/* Go's time.Time.String() of an RFC 3339 UTC time, lowercased as docker's
 * PrettyPrint leaves it: "2026-11-27 04:23:39.992659358 +0000 utc". */
static void go_time_string(const char *ts, char *out, size_t n)
{
    int64_t ns;
    if (!ts || time_parse_rfc3339(ts, &ns) < 0) {
        snprintf(out, n, "%s", ts ? ts : "");
        return;
    }
    time_t t = (time_t)(ns / NS_PER_SEC);
    long frac = (long)(ns % NS_PER_SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32], fs[16] = "";
    strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
    if (frac) {
        snprintf(fs, sizeof(fs), ".%09ld", frac);
        size_t l = strlen(fs);
        while (l > 1 && fs[l - 1] == '0')
            fs[--l] = '\0';
    }
    snprintf(out, n, "%s%s +0000 utc", base, fs);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void cli_node_pretty(struct buf *b, const json_t *node)
{
    json_t *spec = json_object_get(node, "Spec");
    json_t *desc = json_object_get(node, "Description");
    json_t *st = json_object_get(node, "Status");
    char tmp[96];
    buf_printf(b, "ID:\t\t\t%s\n", jx_str0(node, "ID"));
    if (*jx_str0(spec, "Name"))
        buf_printf(b, "Name:\t\t\t%s\n", jx_str0(spec, "Name"));
    json_t *labels = json_object_get(spec, "Labels");
    if (json_object_size(labels)) {
        size_t n = json_object_size(labels), i = 0;
        const char **keys = xcalloc(n, sizeof(char *));
        const char *k;
        json_t *v;
        json_object_foreach(labels, k, v)
        {
            keys[i++] = k;
        }
        qsort(keys, n, sizeof(char *), cmp_cstr);
        buf_puts(b, "Labels:\n");
        for (i = 0; i < n; i++) {
            const char *lv = jx_str0(labels, keys[i]);
            buf_printf(b, " - %s%s%s\n", keys[i], *lv ? "=" : "", lv);
        }
        free(keys);
    }
    buf_printf(b, "Hostname:              \t%s\n", jx_str0(desc, "Hostname"));
    go_time_string(jx_str(node, "CreatedAt"), tmp, sizeof(tmp));
    buf_printf(b, "Joined at:             \t%s\n", tmp);
    _cleanup_free_ char *state = cli_fmt_pretty(jx_str0(st, "State"));
    buf_printf(b, "Status:\n State:\t\t\t%s\n", state);
    if (*jx_str0(st, "Message"))
        buf_printf(b, " Message:              \t%s\n", jx_str0(st, "Message"));
    _cleanup_free_ char *av = cli_fmt_pretty(jx_str0(spec, "Availability"));
    buf_printf(b, " Availability:         \t%s\n", av);
    if (*jx_str0(st, "Addr"))
        buf_printf(b, " Address:\t\t%s\n", jx_str0(st, "Addr"));
    json_t *ms = json_object_get(node, "ManagerStatus");
    if (json_is_object(ms)) {
        _cleanup_free_ char *reach =
            cli_fmt_pretty(jx_str0(ms, "Reachability"));
        buf_printf(b, "Manager Status:\n Address:\t\t%s\n Raft Status:\t\t%s\n",
                   jx_str0(ms, "Addr"), reach);
        buf_printf(b, " Leader:\t\t%s\n",
                   jx_bool(ms, "Leader", false) ? "Yes" : "No");
    }
    buf_printf(b, "Platform:\n Operating System:\t%s\n Architecture:\t\t%s\n",
               jx_path_str(desc, "Platform.OS")
                   ? jx_path_str(desc, "Platform.OS")
                   : "",
               jx_path_str(desc, "Platform.Architecture")
                   ? jx_path_str(desc, "Platform.Architecture")
                   : "");
    cli_fmt_float((double)jx_path_int(desc, "Resources.NanoCPUs", 0) / 1e9,
                  false, tmp, sizeof(tmp));
    buf_printf(b, "Resources:\n CPUs:\t\t\t%s\n", tmp);
    cli_fmt_bytes_size((double)jx_path_int(desc, "Resources.MemoryBytes", 0),
                       tmp, sizeof(tmp));
    buf_printf(b, " Memory:\t\t%s\n", tmp);
    json_t *plugins = jx_path(desc, "Engine.Plugins");
    if (json_array_size(plugins)) {
        /* Grouped by type, types sorted, names in the daemon's order. */
        json_t *by = json_object();
        size_t i;
        json_t *p;
        json_array_foreach(plugins, i, p)
        {
            const char *t = jx_str0(p, "Type");
            json_t *l = json_object_get(by, t);
            if (!l) {
                l = json_array();
                json_object_set_new(by, t, l);
            }
            json_array_append_new(l, json_string(jx_str0(p, "Name")));
        }
        size_t n = json_object_size(by), k = 0;
        const char **types = xcalloc(n, sizeof(char *));
        const char *key;
        json_t *v;
        json_object_foreach(by, key, v)
        {
            types[k++] = key;
        }
        qsort(types, n, sizeof(char *), cmp_cstr);
        buf_puts(b, "Plugins:\n");
        for (k = 0; k < n; k++) {
            json_t *l = json_object_get(by, types[k]);
            buf_printf(b, " %s:", types[k]);
            if (json_array_size(l)) {
                buf_puts(b, "\t\t");
                json_array_foreach(l, i, v)
                {
                    buf_printf(b, "%s%s", i ? ", " : "", cli_jstr(v));
                }
            }
            buf_puts(b, "\n");
        }
        free(types);
        json_decref(by);
    }
    const char *ev = jx_path_str(desc, "Engine.EngineVersion");
    buf_printf(b, "Engine Version:\t\t%s\n", ev ? ev : "");
    json_t *el = jx_path(desc, "Engine.Labels");
    if (json_object_size(el)) {
        size_t n = json_object_size(el), i = 0;
        const char **keys = xcalloc(n, sizeof(char *));
        const char *k;
        json_t *v;
        json_object_foreach(el, k, v)
        {
            keys[i++] = k;
        }
        qsort(keys, n, sizeof(char *), cmp_cstr);
        buf_puts(b, "Engine Labels:\n");
        for (i = 0; i < n; i++) {
            const char *lv = jx_str0(el, keys[i]);
            buf_printf(b, " - %s%s%s\n", keys[i], *lv ? "=" : "", lv);
        }
        free(keys);
    }
    json_t *tls = json_object_get(desc, "TLSInfo");
    if (json_is_object(tls) && *jx_str0(tls, "TrustRoot")) {
        buf_printf(b, "TLS Info:\n TrustRoot:\n%s\n",
                   jx_str0(tls, "TrustRoot"));
        buf_printf(b, " Issuer Subject:\t%s\n",
                   jx_str0(tls, "CertIssuerSubject"));
        buf_printf(b, " Issuer Public Key:\t%s\n",
                   jx_str0(tls, "CertIssuerPublicKey"));
    }
}

static char *fetch_node(struct cli_client *c, const char *arg, void *data,
                        struct err *e)
{
    (void)data;
    char *id = cli_node_reference(c, arg, e);
    if (!id)
        return NULL;
    _cleanup_free_ char *esc = cli_path_escape(id);
    _cleanup_free_ char *path = xasprintf("/nodes/%s", esc);
    free(id);
    size_t len;
    return cli_client_get_raw(c, path, &len, e);
}

static void pretty_node(struct cli_ctx *ctx, struct cli_client *c, json_t *node,
                        struct buf *out)
{
    (void)ctx;
    (void)c;
    cli_node_pretty(out, node);
}

static int run_inspect(struct cli_ctx *ctx, struct cli_flags *fl,
                       struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    const char *format = cli_flag_str(fl, "format");
    bool pretty = cli_flag_bool(fl, "pretty");
    if (pretty && format && *format)
        return err_set(err, ERR_INVALID,
                       "--format is incompatible with human friendly format");
    if (format && *format && strcmp(format, "pretty") == 0) {
        pretty = true;
        format = NULL;
    }
    return cli_inspect(ctx, c, fl->args, fl->nargs, format,
                       pretty ? pretty_node : NULL, fetch_node, NULL, err);
}

/* ---- ps ---------------------------------------------------------------- */

static int run_ps(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    char *self[] = {"self"};
    char *const *refs = fl->nargs ? fl->args : self;
    size_t nrefs = fl->nargs ? fl->nargs : 1;
    json_t *all = json_array();
    struct buf errs;
    buf_init(&errs);
    for (size_t i = 0; i < nrefs; i++) {
        struct err e = {0};
        char *id = cli_node_reference(c, refs[i], &e);
        json_t *node = NULL;
        if (id) {
            _cleanup_free_ char *esc = cli_path_escape(id);
            _cleanup_free_ char *path = xasprintf("/nodes/%s", esc);
            node = cli_client_get_json(c, path, &e);
            free(id);
        }
        if (!node) {
            buf_printf(&errs, "%s%s", errs.len ? "\n" : "", e.msg);
            continue;
        }
        json_t *f = cli_filters_from_flag(fl, "filter", &e);
        if (!f) {
            json_decref(node);
            json_decref(all);
            buf_fini(&errs);
            *err = e;
            return -1;
        }
        cli_filters_add(f, "node", jx_str0(node, "ID"));
        json_decref(node);
        _cleanup_free_ char *fj = cli_filters_encode(f);
        json_decref(f);
        _cleanup_free_ char *fq = cli_query_escape(fj);
        _cleanup_free_ char *path = xasprintf("/tasks?filters=%s", fq);
        json_t *tasks = cli_client_get_json(c, path, &e);
        if (!tasks) {
            buf_printf(&errs, "%s%s", errs.len ? "\n" : "", e.msg);
            continue;
        }
        json_array_extend(all, tasks);
        json_decref(tasks);
    }
    int rc = 0;
    if (json_array_size(all) || !errs.len) {
        bool quiet = cli_flag_bool(fl, "quiet");
        rc = cli_task_print(ctx, c, NULL, all,
                            !cli_flag_bool(fl, "no-trunc") && !quiet,
                            cli_flag_bool(fl, "no-resolve"), quiet,
                            cli_flag_str(fl, "format"), err);
    }
    json_decref(all);
    if (rc == 0 && errs.len)
        rc = err_set(err, ERR_NOTFOUND, "%s", errs.data);
    buf_fini(&errs);
    return rc;
}

/* ---- update / promote / demote / rm ---------------------------------- */

/* GET the node, apply fn to its spec, POST it back. */
static int update_node(struct cli_client *c, const char *ref,
                       int (*fn)(json_t *spec, const char *id, void *ud,
                                 bool *skip, struct err *err),
                       void *ud, bool *skipped, struct err *err)
{
    _cleanup_free_ char *esc = cli_path_escape(ref);
    _cleanup_free_ char *path = xasprintf("/nodes/%s", esc);
    _cleanup_json_ json_t *node = cli_client_get_object(c, path, err);
    if (!node)
        return -1;
    json_t *spec = jx_obj(node, "Spec");
    bool skip = false;
    if (fn(spec, jx_str0(node, "ID"), ud, &skip, err) < 0)
        return -1;
    if (skipped)
        *skipped = skip;
    if (skip)
        return 0;
    _cleanup_json_ json_t *canon = cli_go_canon(CLI_GO_NODE_SPEC, spec);
    struct buf b;
    buf_init(&b);
    cli_go_json(canon, &b);
    _cleanup_free_ char *id = cli_path_escape(jx_str0(node, "ID"));
    _cleanup_free_ char *upath =
        xasprintf("/nodes/%s/update?version=%lld", id,
                  (long long)jx_path_int(node, "Version.Index", 0));
    struct cli_request req = {.method = "POST",
                              .path = upath,
                              .content_type = "application/json",
                              .body = b.data,
                              .body_len = b.len};
    int rc = cli_client_do(c, &req, NULL, err);
    buf_fini(&b);
    return rc;
}

static int merge_update(json_t *spec, const char *id, void *ud, bool *skip,
                        struct err *err)
{
    (void)id;
    (void)skip;
    const struct cli_flags *fl = ud;
    if (cli_flag_changed(fl, "role"))
        json_object_set_new(spec, "Role",
                            json_string(cli_flag_str(fl, "role")));
    if (cli_flag_changed(fl, "availability"))
        json_object_set_new(spec, "Availability",
                            json_string(cli_flag_str(fl, "availability")));
    json_t *labels = json_object_get(spec, "Labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(spec, "Labels", labels);
    }
    const struct vec *add = cli_flag_list(fl, "label-add");
    for (size_t i = 0; i < add->len; i++) {
        const char *kv = add->items[i];
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *k =
            eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
        json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
    }
    const struct vec *rm = cli_flag_list(fl, "label-rm");
    for (size_t i = 0; i < rm->len; i++) {
        if (!json_object_get(labels, rm->items[i]))
            return err_set(err, ERR_NOTFOUND,
                           "key %s doesn't exist in node's labels",
                           (const char *)rm->items[i]);
        json_object_del(labels, rm->items[i]);
    }
    return 0;
}

static int run_update(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    if (update_node(c, fl->args[0], merge_update, fl, NULL, err) < 0)
        return -1;
    fprintf(ctx->out, "%s\n", fl->args[0]);
    return 0;
}

struct role_change {
    const char *role;
    char *already_id; /* set when the node already has the role */
};

static int set_role(json_t *spec, const char *id, void *ud, bool *skip,
                    struct err *err)
{
    (void)err;
    struct role_change *rc = ud;
    if (!strcmp(jx_str0(spec, "Role"), rc->role)) {
        rc->already_id = xstrdup(id);
        *skip = true;
        return 0;
    }
    json_object_set_new(spec, "Role", json_string(rc->role));
    return 0;
}

static int change_roles(struct cli_ctx *ctx, struct cli_flags *fl,
                        const char *role, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    bool promote = !strcmp(role, "manager");
    for (size_t i = 0; i < fl->nargs; i++) {
        struct role_change rc = {role, NULL};
        bool skipped = false;
        if (update_node(c, fl->args[i], set_role, &rc, &skipped, err) < 0) {
            free(rc.already_id);
            return -1;
        }
        if (skipped) {
            fprintf(ctx->out, "Node %s is already a %s.\n", rc.already_id,
                    role);
        } else if (promote) {
            fprintf(ctx->out, "Node %s promoted to a manager in the swarm.\n",
                    fl->args[i]);
        } else {
            fprintf(ctx->out, "Manager %s demoted in the swarm.\n",
                    fl->args[i]);
        }
        free(rc.already_id);
    }
    return 0;
}

static int run_promote(struct cli_ctx *ctx, struct cli_flags *fl,
                       struct err *err)
{
    return change_roles(ctx, fl, "manager", err);
}

static int run_demote(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    return change_roles(ctx, fl, "worker", err);
}

static int run_rm(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    struct buf errs;
    buf_init(&errs);
    bool force = cli_flag_bool(fl, "force");
    for (size_t i = 0; i < fl->nargs; i++) {
        _cleanup_free_ char *esc = cli_path_escape(fl->args[i]);
        _cleanup_free_ char *path =
            xasprintf("/nodes/%s%s", esc, force ? "?force=1" : "");
        struct cli_request req = {.method = "DELETE", .path = path};
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

/* ---- command table ---------------------------------------------------- */

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
     "Print the information in a human friendly format", NULL, NULL, NULL,
     false},
};

static const struct cli_flag ps_flags[] = {
    {"filter", 'f', CLI_FLAG_LIST, "Filter output based on conditions provided",
     NULL, "filter", NULL, false},
    {"format", 0, CLI_FLAG_STRING, "Pretty-print tasks using a Go template",
     NULL, NULL, NULL, false},
    {"no-resolve", 0, CLI_FLAG_BOOL, "Do not map IDs to Names", NULL, NULL,
     NULL, false},
    {"no-trunc", 0, CLI_FLAG_BOOL, "Do not truncate output", NULL, NULL, NULL,
     false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Only display task IDs", NULL, NULL, NULL,
     false},
};

static const struct cli_flag update_flags[] = {
    {"availability", 0, CLI_FLAG_STRING,
     "Availability of the node (\"active\", \"pause\", \"drain\")", NULL, NULL,
     NULL, false},
    {"label-add", 0, CLI_FLAG_LIST, "Add or update a node label (key=value)",
     NULL, NULL, NULL, false},
    {"label-rm", 0, CLI_FLAG_LIST, "Remove a node label if exists", NULL, NULL,
     NULL, false},
    {"role", 0, CLI_FLAG_STRING, "Role of the node (\"worker\", \"manager\")",
     NULL, NULL, NULL, false},
};

static const struct cli_flag rm_flags[] = {
    {"force", 'f', CLI_FLAG_BOOL, "Force remove a node from the swarm", NULL,
     NULL, NULL, false},
};

static const char *const ls_aliases[] = {"list", NULL};
static const char *const rm_aliases[] = {"remove", NULL};

static const struct cli_cmd cmd_ls = {
    .name = "ls",
    .aliases = ls_aliases,
    .use = "[OPTIONS]",
    .short_desc = "List nodes in the swarm",
    .flags = CLI_FLAGS(ls_flags),
    .args = CLI_ARGS_NONE,
    .run = run_ls,
};

static const struct cli_cmd cmd_inspect = {
    .name = "inspect",
    .use = "[OPTIONS] self|NODE [NODE...]",
    .short_desc = "Display detailed information on one or more nodes",
    .flags = CLI_FLAGS(inspect_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_inspect,
};

static const struct cli_cmd cmd_ps = {
    .name = "ps",
    .use = "[OPTIONS] [NODE...]",
    .short_desc = "List tasks running on one or more nodes, defaults to "
                  "current node",
    .flags = CLI_FLAGS(ps_flags),
    .args = CLI_ARGS_ANY,
    .run = run_ps,
};

static const struct cli_cmd cmd_update = {
    .name = "update",
    .use = "[OPTIONS] NODE",
    .short_desc = "Update a node",
    .flags = CLI_FLAGS(update_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_update,
};

static const struct cli_cmd cmd_promote = {
    .name = "promote",
    .use = "NODE [NODE...]",
    .short_desc = "Promote one or more nodes to manager in the swarm",
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_promote,
};

static const struct cli_cmd cmd_demote = {
    .name = "demote",
    .use = "NODE [NODE...]",
    .short_desc = "Demote one or more nodes from manager in the swarm",
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_demote,
};

static const struct cli_cmd cmd_rm = {
    .name = "rm",
    .aliases = rm_aliases,
    .use = "[OPTIONS] NODE [NODE...]",
    .short_desc = "Remove one or more nodes from the swarm",
    .flags = CLI_FLAGS(rm_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_rm,
};

static const struct cli_cmd *const node_subs[] = {
    &cmd_demote, &cmd_inspect, &cmd_ls,     &cmd_promote,
    &cmd_ps,     &cmd_rm,      &cmd_update, NULL,
};

const struct cli_cmd cli_cmd_node = {
    .name = "node",
    .use = "COMMAND",
    .short_desc = "Manage Swarm nodes",
    .subs = node_subs,
};
