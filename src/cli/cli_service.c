// SPDX-License-Identifier: Apache-2.0
// `shoal service ...`: create, update, rollback, scale, ls, ps, inspect,
// logs and rm, with the docker CLI 28's request sequences and output
// (see reference/README.md). Flag-to-spec conversion lives in
// cli_service_spec.c, convergence progress in cli_progress.c.
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/cli_creds.h"
#include "cli/cli_node.h"
#include "cli/cli_progress.h"
#include "cli/cli_service.h"
#include "cli/cli_service_spec.h"
#include "cli/cli_tasks.h"
#include "cli/format.h"

/* ---- daemon lookups used by the spec conversion ---------------------- */

static char *resolve_network(void *ud, const char *name, struct err *err)
{
    struct cli_client *c = ud;
    _cleanup_free_ char *esc = cli_path_escape(name);
    _cleanup_free_ char *path = xasprintf("/networks/%s?scope=swarm", esc);
    _cleanup_json_ json_t *n = cli_client_get_json(c, path, err);
    if (!n)
        return NULL;
    const char *id = jx_str(n, "Id");
    if (!id)
        id = jx_str(n, "ID");
    return xstrdup(id ? id : name);
}

static json_t *resolve_objects(void *ud, const char *kind,
                               const char *const *names, size_t n,
                               struct err *err)
{
    struct cli_client *c = ud;
    json_t *f = cli_filters_new();
    for (size_t i = 0; i < n; i++)
        cli_filters_add(f, "name", names[i]);
    _cleanup_free_ char *fj = cli_filters_encode(f);
    json_decref(f);
    _cleanup_free_ char *fq = cli_query_escape(fj ? fj : "{}");
    _cleanup_free_ char *path = xasprintf("/%s?filters=%s", kind, fq);
    _cleanup_json_ json_t *list = cli_client_get_json(c, path, err);
    if (!list)
        return NULL;
    json_t *ids = json_object();
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        const char *name = jx_path_str(o, "Spec.Name");
        const char *id = jx_str(o, "ID");
        if (name && id)
            json_object_set_new(ids, name, json_string(id));
    }
    return ids;
}

/* ---- image digest pinning (the docker client library's part) --------- */

void cli_service_tag_image(json_t *spec)
{
    json_t *cs = jx_path(spec, "TaskTemplate.ContainerSpec");
    const char *img = jx_str(cs, "Image");
    if (!img || !*img)
        return;
    char *t = cli_image_normalize(img);
    json_object_set_new(cs, "Image", json_string(t));
    free(t);
}

char *cli_service_resolve_image(struct cli_client *c, json_t *spec)
{
    json_t *task = jx_obj(spec, "TaskTemplate");
    json_t *cs = json_object_get(task, "ContainerSpec");
    const char *img = jx_str(cs, "Image");
    if (!img)
        return NULL;
    _cleanup_free_ char *esc = cli_path_escape(img);
    _cleanup_free_ char *path = xasprintf("/distribution/%s/json", esc);
    struct err e = {0};
    _cleanup_free_ char *auth = cli_creds_header(img, &e);
    const char *hdrs[] = {auth, NULL};
    struct cli_request req = {
        .method = "GET", .path = path, .headers = auth ? hdrs : NULL};
    struct cli_response resp;
    _cleanup_json_ json_t *d = NULL;
    if (cli_client_do(c, &req, &resp, &e) == 0) {
        json_error_t je;
        d = json_loadb(resp.body.data, resp.body.len, 0, &je);
    }
    buf_fini(&resp.body);
    if (!json_is_object(d))
        return cli_digest_warning(img);
    const char *digest = jx_path_str(d, "Descriptor.digest");
    if (digest && !strchr(img, '@')) {
        char *pinned = xasprintf("%s@%s", img, digest);
        json_object_set_new(cs, "Image", json_string(pinned));
        free(pinned);
    }
    json_t *plats = json_object_get(d, "Platforms");
    if (json_array_size(plats) > 0) {
        json_t *out = json_array();
        size_t i;
        json_t *p;
        json_array_foreach(plats, i, p)
        {
            const char *arch = jx_str0(p, "architecture");
            json_t *o = json_object();
            json_object_set_new(
                o, "Architecture",
                json_string(strcasecmp(arch, "arm") == 0 ? "" : arch));
            json_object_set_new(o, "OS", json_string(jx_str0(p, "os")));
            json_array_append_new(out, o);
        }
        json_object_set_new(jx_obj(task, "Placement"), "Platforms", out);
    }
    return NULL;
}

void cli_service_print_warnings(struct cli_ctx *ctx, const json_t *reply,
                                const char *extra)
{
    fflush(ctx->out);
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(reply, "Warnings"), i, w)
    {
        fprintf(ctx->err, "%s\n", cli_jstr(w));
    }
    if (extra)
        fprintf(ctx->err, "%s\n", extra);
    fflush(ctx->err);
}

json_t *cli_service_post(struct cli_client *c, const char *path,
                         const json_t *spec, const char *header,
                         struct err *err)
{
    struct buf b;
    buf_init(&b);
    cli_go_json(spec, &b);
    const char *const headers[] = {header, NULL};
    struct cli_request req = {
        .method = "POST",
        .path = path,
        .content_type = "application/json",
        .body = b.data,
        .body_len = b.len,
        .headers = header ? headers : NULL,
    };
    struct cli_response resp;
    int rc = cli_client_do(c, &req, &resp, err);
    buf_fini(&b);
    if (rc < 0) {
        buf_fini(&resp.body);
        return NULL;
    }
    json_error_t je;
    json_t *j = resp.body.len ? json_loadb(resp.body.data, resp.body.len,
                                           JSON_DECODE_ANY, &je)
                              : json_object();
    buf_fini(&resp.body);
    return j ? j : json_object();
}

/* POSTs a spec (re-encoded as docker does) and returns the JSON reply. */
static json_t *post_spec(struct cli_client *c, const char *path,
                         const json_t *spec, bool registry_auth,
                         struct err *err)
{
    _cleanup_free_ char *auth =
        registry_auth ? cli_creds_header(jx_path_str(spec, "TaskTemplate."
                                                           "ContainerSpec."
                                                           "Image"),
                                         err)
                      : NULL;
    if (registry_auth && !auth)
        return NULL;
    return cli_service_post(c, path, spec, auth, err);
}

static struct cli_client *client(struct cli_ctx *ctx, struct err *err)
{
    return cli_ctx_client(ctx, err);
}

static json_t *get_service(struct cli_client *c, const char *ref, bool defaults,
                           struct err *err)
{
    _cleanup_free_ char *esc = cli_path_escape(ref);
    _cleanup_free_ char *path = xasprintf("/services/%s?insertDefaults=%s", esc,
                                          defaults ? "true" : "false");
    return cli_client_get_object(c, path, err);
}

static int wait_service(struct cli_ctx *ctx, struct cli_client *c,
                        const char *ref, bool quiet, struct err *err)
{
    fflush(ctx->out);
    return cli_progress_wait(c, ref, ctx->out, ctx->out_tty, quiet, err);
}

/* ---- create / update / rollback / scale ------------------------------ */

static int run_create(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    struct cli_client *c = client(ctx, err);
    if (!c)
        return -1;
    struct cli_spec_resolver r = {resolve_network, resolve_objects, c};
    json_t *spec = cli_service_spec_create(fl, &r, err);
    if (!spec)
        return -1;
    cli_service_tag_image(spec);
    _cleanup_free_ char *warning = NULL;
    if (!cli_flag_bool(fl, "no-resolve-image"))
        warning = cli_service_resolve_image(c, spec);
    json_t *reply = post_spec(c, "/services/create", spec,
                              cli_flag_bool(fl, "with-registry-auth"), err);
    json_decref(spec);
    if (!reply)
        return -1;
    cli_service_print_warnings(ctx, reply, warning);
    _cleanup_free_ char *id = xstrdup(jx_str0(reply, "ID"));
    json_decref(reply);
    fprintf(ctx->out, "%s\n", id);
    if (cli_flag_bool(fl, "detach"))
        return 0;
    return wait_service(ctx, c, id, cli_flag_bool(fl, "quiet"), err);
}

static bool other_flags_than(const struct cli_flags *fl,
                             const char *const *allowed)
{
    for (size_t i = 0; i < fl->ndefs; i++) {
        if (!fl->vals[i].changed)
            continue;
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(*a, fl->defs[i].name) == 0;
        if (!ok)
            return true;
    }
    return false;
}

/* `service update` (merge flags; rollback via --rollback) and `service
 * rollback` (spec sent back unchanged, from_update false). */
static int do_update(struct cli_ctx *ctx, struct cli_flags *fl, const char *ref,
                     bool rollback, bool from_update, struct err *err)
{
    struct cli_client *c = client(ctx, err);
    if (!c)
        return -1;
    json_t *svc = get_service(c, ref, false, err);
    if (!svc)
        return -1;
    if (rollback && from_update) {
        static const char *const allowed[] = {"rollback", "detach", "quiet",
                                              NULL};
        if (other_flags_than(fl, allowed)) {
            json_decref(svc);
            return err_set(err, ERR_INVALID,
                           "other flags may not be combined with --rollback");
        }
    }
    _cleanup_free_ char *id = xstrdup(jx_str0(svc, "ID"));
    long long version = (long long)jx_path_int(svc, "Version.Index", 0);
    json_t *spec = json_incref(jx_obj(svc, "Spec"));
    json_decref(svc);
    _cleanup_free_ char *warning = NULL;
    if (from_update) {
        struct cli_spec_resolver r = {resolve_network, resolve_objects, c};
        if (cli_service_spec_update(&spec, fl, &r, err) < 0) {
            json_decref(spec);
            return -1;
        }
    } else {
        json_t *canon = cli_go_canon(CLI_GO_SERVICE_SPEC, spec);
        json_decref(spec);
        spec = canon;
    }
    cli_service_tag_image(spec);
    if (!rollback && cli_flag_changed(fl, "image") &&
        !cli_flag_bool(fl, "no-resolve-image"))
        warning = cli_service_resolve_image(c, spec);
    struct cli_query q;
    cli_query_init(&q);
    char vbuf[32];
    snprintf(vbuf, sizeof(vbuf), "%lld", version);
    cli_query_add(&q, "version", vbuf);
    if (rollback)
        cli_query_add(&q, "rollback", "previous");
    bool auth = cli_flags_def(fl, "with-registry-auth") &&
                cli_flag_bool(fl, "with-registry-auth");
    if (from_update && !auth)
        cli_query_add(&q, "registryAuthFrom", "spec");
    _cleanup_free_ char *esc = cli_path_escape(id);
    _cleanup_free_ char *path =
        xasprintf("/services/%s/update%s", esc, cli_query_str(&q));
    cli_query_fini(&q);
    json_t *reply = post_spec(c, path, spec, auth, err);
    json_decref(spec);
    if (!reply)
        return -1;
    cli_service_print_warnings(ctx, reply, warning);
    json_decref(reply);
    fprintf(ctx->out, "%s\n", ref);
    if (cli_flag_bool(fl, "detach"))
        return 0;
    return wait_service(ctx, c, ref, cli_flag_bool(fl, "quiet"), err);
}

static int run_update(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    bool rollback = cli_flag_bool(fl, "rollback");
    return do_update(ctx, fl, fl->args[0], rollback, true, err);
}

static int run_rollback(struct cli_ctx *ctx, struct cli_flags *fl,
                        struct err *err)
{
    return do_update(ctx, fl, fl->args[0], true, false, err);
}

static int run_scale(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    for (size_t i = 0; i < fl->nargs; i++) {
        const char *a = fl->args[i];
        const char *eq = strchr(a, '=');
        if (!eq || eq == a || !eq[1])
            return cli_usage_error(ctx, err, "invalid scale specifier '%s'.",
                                   a);
    }
    struct cli_client *c = client(ctx, err);
    if (!c)
        return -1;
    struct buf errs;
    buf_init(&errs);
    char **scaled = xcalloc(fl->nargs + 1, sizeof(char *));
    size_t nscaled = 0;
    for (size_t i = 0; i < fl->nargs; i++) {
        const char *a = fl->args[i];
        const char *eq = strchr(a, '=');
        _cleanup_free_ char *name = xstrndup(a, (size_t)(eq - a));
        uint64_t n;
        struct err e = {0};
        if (cli_parse_uint(eq + 1, 10, 64, &n, &e) < 0) {
            buf_printf(&errs, "%s%s: invalid replicas value %s: %s",
                       errs.len ? "\n" : "", name, eq + 1, e.msg);
            continue;
        }
        json_t *svc = get_service(c, name, false, &e);
        if (!svc) {
            buf_printf(&errs, "%s%s: %s", errs.len ? "\n" : "", name, e.msg);
            continue;
        }
        json_t *spec = jx_obj(svc, "Spec");
        json_t *mode = jx_obj(spec, "Mode");
        if (json_is_object(json_object_get(mode, "Replicated"))) {
            json_object_set_new(json_object_get(mode, "Replicated"), "Replicas",
                                json_integer((json_int_t)n));
        } else if (json_is_object(json_object_get(mode, "ReplicatedJob"))) {
            json_object_set_new(json_object_get(mode, "ReplicatedJob"),
                                "TotalCompletions",
                                json_integer((json_int_t)n));
        } else {
            buf_printf(&errs,
                       "%s%s: scale can only be used with replicated or "
                       "replicated-job mode",
                       errs.len ? "\n" : "", name);
            json_decref(svc);
            continue;
        }
        json_t *canon = cli_go_canon(CLI_GO_SERVICE_SPEC, spec);
        cli_service_tag_image(canon);
        _cleanup_free_ char *esc = cli_path_escape(jx_str0(svc, "ID"));
        _cleanup_free_ char *path =
            xasprintf("/services/%s/update?version=%lld", esc,
                      (long long)jx_path_int(svc, "Version.Index", 0));
        json_decref(svc);
        json_t *reply = post_spec(c, path, canon, false, &e);
        json_decref(canon);
        if (!reply) {
            buf_printf(&errs, "%s%s: %s", errs.len ? "\n" : "", name, e.msg);
            continue;
        }
        cli_service_print_warnings(ctx, reply, NULL);
        json_decref(reply);
        fprintf(ctx->out, "%s scaled to %llu\n", name, (unsigned long long)n);
        scaled[nscaled++] = xstrdup(name);
    }
    if (!cli_flag_bool(fl, "detach")) {
        for (size_t i = 0; i < nscaled; i++) {
            struct err e = {0};
            if (wait_service(ctx, c, scaled[i], false, &e) < 0)
                buf_printf(&errs, "%s%s: %s", errs.len ? "\n" : "", scaled[i],
                           e.msg);
        }
    }
    for (size_t i = 0; i < nscaled; i++)
        free(scaled[i]);
    free(scaled);
    int rc = 0;
    if (errs.len)
        rc = err_set(err, ERR_INTERNAL, "%s", errs.data);
    buf_fini(&errs);
    return rc;
}

/* ---- ls ---------------------------------------------------------------- */

int cli_service_append_status(struct cli_client *c, json_t *services,
                              struct err *err)
{
    json_t *f = cli_filters_new();
    json_t *status = json_object();
    size_t i;
    json_t *s;
    json_array_foreach(services, i, s)
    {
        if (json_object_get(s, "ServiceStatus"))
            continue;
        json_t *mode = jx_path(s, "Spec.Mode");
        json_t *st = json_object();
        json_object_set_new(st, "RunningTasks", json_integer(0));
        json_object_set_new(st, "DesiredTasks", json_integer(0));
        if (json_object_get(mode, "Replicated")) {
            json_t *cp = json_deep_copy(st);
            json_object_set_new(
                cp, "DesiredTasks",
                json_integer(jx_path_int(mode, "Replicated.Replicas", 0)));
            json_object_set_new(s, "ServiceStatus", cp);
        } else if (json_object_get(mode, "Global")) {
            json_object_set(s, "ServiceStatus", json_deep_copy(st));
            json_decref(json_object_get(s, "ServiceStatus"));
        } else {
            json_decref(st);
            continue;
        }
        json_object_set_new(status, jx_str0(s, "ID"), st);
        cli_filters_add(f, "service", jx_str0(s, "ID"));
    }
    int rc = 0;
    if (json_object_size(status) > 0) {
        _cleanup_free_ char *fj = cli_filters_encode(f);
        _cleanup_free_ char *fq = cli_query_escape(fj);
        _cleanup_free_ char *path = xasprintf("/tasks?filters=%s", fq);
        json_t *tasks = cli_client_get_json(c, path, err);
        json_t *nodes = tasks && json_array_size(tasks)
                            ? cli_client_get_json(c, "/nodes", err)
                            : NULL;
        if (!tasks || (json_array_size(tasks) && !nodes)) {
            rc = -1;
        } else {
            json_t *t;
            json_array_foreach(tasks, i, t)
            {
                json_t *st = json_object_get(status, jx_str0(t, "ServiceID"));
                if (!st)
                    continue;
                if (strcmp(jx_str0(t, "DesiredState"), "shutdown") != 0)
                    json_object_set_new(
                        st, "DesiredTasks",
                        json_integer(jx_int(st, "DesiredTasks", 0) + 1));
                bool active = false;
                size_t k;
                json_t *n;
                json_array_foreach(nodes, k, n)
                {
                    if (!strcmp(jx_str0(n, "ID"), jx_str0(t, "NodeID")) &&
                        strcmp(jx_path_str(n, "Status.State")
                                   ? jx_path_str(n, "Status.State")
                                   : "",
                               "down") != 0)
                        active = true;
                }
                const char *ts = jx_path_str(t, "Status.State");
                if (active && ts && !strcmp(ts, "running"))
                    json_object_set_new(
                        st, "RunningTasks",
                        json_integer(jx_int(st, "RunningTasks", 0) + 1));
            }
            json_array_foreach(services, i, s)
            {
                json_t *st = json_object_get(status, jx_str0(s, "ID"));
                if (st && json_array_size(tasks))
                    json_object_set(s, "ServiceStatus", st);
            }
        }
        json_decref(tasks);
        json_decref(nodes);
    }
    json_decref(status);
    json_decref(f);
    return rc;
}

/* The PORTS column: ingress ports, ranges folded as docker does. */
char *cli_service_ports(const json_t *service)
{
    json_t *ports = jx_path(service, "Endpoint.Ports");
    size_t n = json_array_size(ports);
    if (!n)
        return xstrdup("");
    json_t **p = xcalloc(n, sizeof(json_t *));
    for (size_t i = 0; i < n; i++)
        p[i] = json_array_get(ports, i);
    for (size_t i = 1; i < n; i++) {
        json_t *x = p[i];
        size_t j = i;
        while (j > 0) {
            int c =
                strcmp(jx_str0(p[j - 1], "Protocol"), jx_str0(x, "Protocol"));
            if (c < 0 || (c == 0 && jx_int(p[j - 1], "PublishedPort", 0) <=
                                        jx_int(x, "PublishedPort", 0)))
                break;
            p[j] = p[j - 1];
            j--;
        }
        p[j] = x;
    }
    struct buf out;
    buf_init(&out);
    uint32_t ps = 0, pe = 0, ts = 0, te = 0;
    char proto[16] = "";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(jx_str0(p[i], "PublishMode"), "ingress") != 0)
            continue;
        uint32_t pp = (uint32_t)jx_int(p[i], "PublishedPort", 0);
        uint32_t tp = (uint32_t)jx_int(p[i], "TargetPort", 0);
        const char *pr = jx_str0(p[i], "Protocol");
        bool is_range = te != ts;
        bool overlaps = tp <= te;
        if (strcmp(pr, proto) != 0 || (uint32_t)(pp - pe) > 1 ||
            (uint32_t)(tp - te) > 1 || (is_range && overlaps)) {
            if (ps > 0) {
                char a[32], b[32];
                snprintf(a, sizeof(a), pe > ps ? "%u-%u" : "%u", ps, pe);
                snprintf(b, sizeof(b), te > ts ? "%u-%u" : "%u", ts, te);
                buf_printf(&out, "%s*:%s->%s/%s", out.len ? ", " : "", a, b,
                           proto);
            }
            ps = pe = pp;
            ts = te = tp;
            snprintf(proto, sizeof(proto), "%s", pr);
            continue;
        }
        pe = pp;
        te = tp;
    }
    if (ps > 0) {
        char a[32], b[32];
        snprintf(a, sizeof(a), pe > ps ? "%u-%u" : "%u", ps, pe);
        snprintf(b, sizeof(b), te > ts ? "%u-%u" : "%u", ts, te);
        buf_printf(&out, "%s*:%s->%s/%s", out.len ? ", " : "", a, b, proto);
    }
    free(p);
    return out.data ? buf_steal(&out) : xstrdup("");
}

static char *service_field(const char *field, void *rec)
{
    const json_t *s = rec;
    json_t *spec = json_object_get(s, "Spec");
    json_t *mode = json_object_get(spec, "Mode");
    if (!strcmp(field, "ID")) {
        char id[16];
        cli_fmt_trunc_id(jx_str0(s, "ID"), id, sizeof(id));
        return xstrdup(id);
    }
    if (!strcmp(field, "Name"))
        return xstrdup(jx_str0(spec, "Name"));
    if (!strcmp(field, "Mode")) {
        if (json_object_get(mode, "Global"))
            return xstrdup("global");
        if (json_object_get(mode, "Replicated"))
            return xstrdup("replicated");
        if (json_object_get(mode, "ReplicatedJob"))
            return xstrdup("replicated job");
        if (json_object_get(mode, "GlobalJob"))
            return xstrdup("global job");
        return xstrdup("");
    }
    if (!strcmp(field, "Replicas")) {
        json_t *st = json_object_get(s, "ServiceStatus");
        long long run = jx_int(st, "RunningTasks", 0);
        long long des = jx_int(st, "DesiredTasks", 0);
        long long done = jx_int(st, "CompletedTasks", 0);
        if (json_object_get(mode, "ReplicatedJob"))
            return xasprintf("%lld/%lld (%lld/%lld completed)", run, des, done,
                             (long long)jx_path_int(
                                 mode, "ReplicatedJob.TotalCompletions", 0));
        if (json_object_get(mode, "GlobalJob"))
            return xasprintf("%lld/%lld (%lld/%lld completed)", run, des, done,
                             des + done);
        long long maxr =
            jx_path_int(spec, "TaskTemplate.Placement.MaxReplicas", 0);
        if (json_object_get(mode, "Replicated") && maxr > 0)
            return xasprintf("%lld/%lld (max %lld per node)", run, des, maxr);
        return xasprintf("%lld/%lld", run, des);
    }
    if (!strcmp(field, "Image")) {
        const char *img = jx_path_str(spec, "TaskTemplate.ContainerSpec.Image");
        return cli_fmt_image_familiar(img ? img : "");
    }
    if (!strcmp(field, "Ports"))
        return cli_service_ports(s);
    return NULL;
}

static const struct cli_field service_fields[] = {
    {"ID", "ID"},       {"Name", "NAME"},
    {"Mode", "MODE"},   {"Replicas", "REPLICAS"},
    {"Image", "IMAGE"}, {"Ports", "PORTS"},
};

static int cmp_service_name(const void *a, const void *b)
{
    return cli_natural_cmp(jx_path_str(*(json_t *const *)a, "Spec.Name")
                               ? jx_path_str(*(json_t *const *)a, "Spec.Name")
                               : "",
                           jx_path_str(*(json_t *const *)b, "Spec.Name")
                               ? jx_path_str(*(json_t *const *)b, "Spec.Name")
                               : "");
}

int cli_service_print_list(struct cli_ctx *ctx, json_t *services,
                           const char *format, bool quiet, struct err *err)
{
    size_t n = json_array_size(services);
    json_t **recs = xcalloc(n + 1, sizeof(json_t *));
    for (size_t i = 0; i < n; i++)
        recs[i] = json_array_get(services, i);
    qsort(recs, n, sizeof(json_t *), cmp_service_name);
    int rc = cli_print_list(
        ctx, quiet ? "{{.ID}}" : format,
        "table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{."
        "Ports}}",
        service_fields, ARRAY_SIZE(service_fields), service_field,
        (void *const *)recs, n, err);
    free(recs);
    return rc;
}

static int run_ls(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = client(ctx, err);
    if (!c)
        return -1;
    json_t *f = cli_filters_from_flag(fl, "filter", err);
    if (!f)
        return -1;
    _cleanup_free_ char *fj = cli_filters_encode(f);
    json_decref(f);
    struct cli_query q;
    cli_query_init(&q);
    if (fj)
        cli_query_add(&q, "filters", fj);
    cli_query_add(&q, "status", "true");
    _cleanup_free_ char *path = xasprintf("/services%s", cli_query_str(&q));
    cli_query_fini(&q);
    _cleanup_json_ json_t *services = cli_client_get_json(c, path, err);
    if (!services)
        return -1;
    bool quiet = cli_flag_bool(fl, "quiet");
    if (!quiet && cli_service_append_status(c, services, err) < 0)
        return -1;
    return cli_service_print_list(ctx, services, cli_flag_str(fl, "format"),
                                  quiet, err);
}

/* ---- ps ---------------------------------------------------------------- */

static json_t *list_services(struct cli_client *c, const char *key,
                             char *const *names, size_t n, struct err *err)
{
    json_t *f = cli_filters_new();
    for (size_t i = 0; i < n; i++)
        cli_filters_add(f, key, names[i]);
    _cleanup_free_ char *fj = cli_filters_encode(f);
    json_decref(f);
    _cleanup_free_ char *fq = cli_query_escape(fj);
    _cleanup_free_ char *path = xasprintf("/services?filters=%s", fq);
    return cli_client_get_json(c, path, err);
}

static int run_ps(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = client(ctx, err);
    if (!c)
        return -1;
    json_t *filter = cli_filters_from_flag(fl, "filter", err);
    if (!filter)
        return -1;
    json_t *by_id = list_services(c, "id", fl->args, fl->nargs, err);
    json_t *by_name =
        by_id ? list_services(c, "name", fl->args, fl->nargs, err) : NULL;
    if (!by_id || !by_name) {
        json_decref(by_id);
        json_decref(filter);
        return -1;
    }
    struct buf notfound;
    buf_init(&notfound);
    size_t count = 0;
    int rc = 0;
    for (size_t i = 0; i < fl->nargs && rc == 0; i++) {
        const char *want = fl->args[i];
        size_t k;
        json_t *s;
        bool done = false;
        json_array_foreach(by_id, k, s)
        {
            if (!done && !strcmp(jx_str0(s, "ID"), want)) {
                cli_filters_add(filter, "service", jx_str0(s, "ID"));
                count++;
                done = true;
            }
        }
        json_array_foreach(by_name, k, s)
        {
            if (!done && !strcmp(jx_path_str(s, "Spec.Name")
                                     ? jx_path_str(s, "Spec.Name")
                                     : "",
                                 want)) {
                cli_filters_add(filter, "service", jx_str0(s, "ID"));
                count++;
                done = true;
            }
        }
        if (done)
            continue;
        bool found = false;
        json_array_foreach(by_id, k, s)
        {
            if (!strncmp(jx_str0(s, "ID"), want, strlen(want))) {
                if (found) {
                    rc = err_set(err, ERR_INVALID,
                                 "multiple services found with provided "
                                 "prefix: %s",
                                 want);
                    break;
                }
                cli_filters_add(filter, "service", jx_str0(s, "ID"));
                count++;
                found = true;
            }
        }
        if (!found && rc == 0)
            buf_printf(&notfound, "%sno such service: %s",
                       notfound.len ? "\n" : "", want);
    }
    json_decref(by_id);
    json_decref(by_name);
    if (rc == 0 && count == 0)
        rc = err_set(err, ERR_NOTFOUND, "%s",
                     notfound.data ? notfound.data : "");
    /* --filter node=self|name means the node's ID. */
    json_t *nodes = json_object_get(filter, "node");
    if (rc == 0 && nodes) {
        json_t *fixed = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(nodes, k, v)
        {
            char *id = cli_node_reference(c, k, err);
            if (!id) {
                rc = -1;
                break;
            }
            json_object_set_new(fixed, id, json_true());
            free(id);
        }
        json_object_set_new(filter, "node", fixed);
    }
    if (rc < 0) {
        json_decref(filter);
        buf_fini(&notfound);
        return -1;
    }
    _cleanup_free_ char *fj = cli_filters_encode(filter);
    json_decref(filter);
    _cleanup_free_ char *fq = cli_query_escape(fj);
    _cleanup_free_ char *path = xasprintf("/tasks?filters=%s", fq);
    json_t *tasks = cli_client_get_json(c, path, err);
    if (!tasks) {
        buf_fini(&notfound);
        return -1;
    }
    bool quiet = cli_flag_bool(fl, "quiet");
    bool trunc = !cli_flag_bool(fl, "no-trunc") && !quiet;
    rc = cli_task_print(ctx, c, NULL, tasks, trunc,
                        cli_flag_bool(fl, "no-resolve"), quiet,
                        cli_flag_str(fl, "format"), err);
    json_decref(tasks);
    if (rc == 0 && notfound.len)
        rc = err_set(err, ERR_NOTFOUND, "%s", notfound.data);
    buf_fini(&notfound);
    return rc;
}

/* ---- inspect ----------------------------------------------------------- */

static void pretty_duration(struct buf *b, const char *label, int64_t ns)
{
    char d[48];
    cli_fmt_duration(ns, d, sizeof(d));
    buf_printf(b, "%s%s\n", label, d);
}

static void pretty_update_cfg(struct buf *b, const char *title,
                              const char *order_label, const json_t *u)
{
    char tmp[48];
    buf_printf(b, "%s:\n", title);
    buf_printf(b, " Parallelism:\t%lld\n",
               (long long)jx_int(u, "Parallelism", 0));
    if (jx_int(u, "Delay", 0) > 0)
        pretty_duration(b, " Delay:\t\t", jx_int(u, "Delay", 0));
    buf_printf(b, " On failure:\t%s\n", jx_str0(u, "FailureAction"));
    if (jx_int(u, "Monitor", 0) > 0)
        pretty_duration(b, " Monitoring Period: ", jx_int(u, "Monitor", 0));
    json_t *r = json_object_get(u, "MaxFailureRatio");
    cli_fmt_float(json_is_number(r) ? json_number_value(r) : 0, true, tmp,
                  sizeof(tmp));
    buf_printf(b, " Max failure ratio: %s\n", tmp);
    buf_printf(b, " %s%s\n", order_label, jx_str0(u, "Order"));
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted keys of a JSON object (borrowed strings, owned array). */
static const char **sorted_keys(const json_t *o, size_t *n)
{
    *n = json_object_size(o);
    const char **keys = xcalloc(*n + 1, sizeof(char *));
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        keys[i++] = k;
    }
    qsort(keys, *n, sizeof(char *), cmp_cstr);
    return keys;
}

/* The --pretty template of `docker service inspect`. */
void cli_service_pretty(struct buf *b, const json_t *svc,
                        const json_t *net_names, int64_t now)
{
    json_t *spec = json_object_get(svc, "Spec");
    json_t *task = json_object_get(spec, "TaskTemplate");
    json_t *cs = json_object_get(task, "ContainerSpec");
    json_t *mode = json_object_get(spec, "Mode");
    char tmp[64];
    buf_printf(b, "\nID:\t\t%s\nName:\t\t%s\n", jx_str0(svc, "ID"),
               jx_str0(spec, "Name"));
    json_t *labels = json_object_get(spec, "Labels");
    if (json_object_size(labels)) {
        size_t n;
        const char **keys = sorted_keys(labels, &n);
        buf_puts(b, "Labels:\n");
        for (size_t i = 0; i < n; i++) {
            const char *v = jx_str0(labels, keys[i]);
            buf_printf(b, " %s%s%s\n", keys[i], *v ? "=" : "", v);
        }
        free(keys);
    }
    buf_puts(b, "Service Mode:");
    if (json_object_get(mode, "Global")) {
        buf_puts(b, "\tGlobal");
    } else if (json_object_get(mode, "Replicated")) {
        buf_puts(b, "\tReplicated");
        json_t *r = jx_path(mode, "Replicated.Replicas");
        if (r)
            buf_printf(b, "\n Replicas:\t%lld",
                       (long long)json_integer_value(r));
    }
    json_t *us = json_object_get(svc, "UpdateStatus");
    if (*jx_str0(us, "State")) {
        buf_printf(b, "\nUpdateStatus:\n State:\t\t%s", jx_str0(us, "State"));
        if (jx_str(us, "StartedAt")) {
            _cleanup_free_ char *a =
                cli_fmt_ago(jx_str(us, "StartedAt"), now, false);
            buf_printf(b, "\n Started:\t%s", a);
        }
        if (!strcmp(jx_str0(us, "State"), "completed") &&
            jx_str(us, "CompletedAt")) {
            _cleanup_free_ char *a =
                cli_fmt_ago(jx_str(us, "CompletedAt"), now, false);
            buf_printf(b, "\n Completed:\t%s", a);
        }
        buf_printf(b, "\n Message:\t%s", jx_str0(us, "Message"));
    }
    buf_puts(b, "\nPlacement:");
    json_t *pl = json_object_get(task, "Placement");
    json_t *cons = json_object_get(pl, "Constraints");
    if (json_array_size(cons)) {
        buf_puts(b, "\n Constraints:\t[");
        size_t i;
        json_t *v;
        json_array_foreach(cons, i, v)
        {
            buf_printf(b, "%s%s", i ? " " : "", cli_jstr(v));
        }
        buf_puts(b, "]");
    }
    json_t *prefs = json_object_get(pl, "Preferences");
    if (json_array_size(prefs)) {
        buf_puts(b, "\n Preferences:   [");
        size_t i;
        json_t *v;
        json_array_foreach(prefs, i, v)
        {
            buf_printf(b, "%sspread=%s", i ? " " : "",
                       jx_path_str(v, "Spread.SpreadDescriptor")
                           ? jx_path_str(v, "Spread.SpreadDescriptor")
                           : "");
        }
        buf_puts(b, "]");
    }
    if (jx_int(pl, "MaxReplicas", 0))
        buf_printf(b, "\n Max Replicas Per Node:   %lld",
                   (long long)jx_int(pl, "MaxReplicas", 0));
    buf_puts(b, "\n");
    if (json_object_get(spec, "UpdateConfig"))
        pretty_update_cfg(b, "UpdateConfig", "Update order:      ",
                          json_object_get(spec, "UpdateConfig"));
    if (json_object_get(spec, "RollbackConfig"))
        pretty_update_cfg(b, "RollbackConfig", "Rollback order:    ",
                          json_object_get(spec, "RollbackConfig"));
    buf_printf(b, "ContainerSpec:\n Image:\t\t%s", jx_str0(cs, "Image"));
    size_t i;
    json_t *v;
    if (json_array_size(json_object_get(cs, "Args"))) {
        buf_puts(b, "\n Args:\t\t");
        json_array_foreach(json_object_get(cs, "Args"), i, v)
        {
            buf_printf(b, "%s ", cli_jstr(v));
        }
    }
    if (json_array_size(json_object_get(cs, "Env"))) {
        buf_puts(b, "\n Env:\t\t");
        json_array_foreach(json_object_get(cs, "Env"), i, v)
        {
            buf_printf(b, "%s ", cli_jstr(v));
        }
    }
    if (*jx_str0(cs, "Dir"))
        buf_printf(b, "\n Dir:\t\t%s", jx_str0(cs, "Dir"));
    if (json_object_get(cs, "Init"))
        buf_printf(b, "\n Init:\t\t%s",
                   json_is_true(json_object_get(cs, "Init")) ? "true"
                                                             : "false");
    if (*jx_str0(cs, "User"))
        buf_printf(b, "\n User: %s", jx_str0(cs, "User"));
    json_t *cadd = json_object_get(cs, "CapabilityAdd");
    json_t *cdrop = json_object_get(cs, "CapabilityDrop");
    if (json_array_size(cadd) || json_array_size(cdrop)) {
        buf_puts(b, "\nCapabilities:");
        if (json_array_size(cadd)) {
            buf_puts(b, "\n Add: ");
            json_array_foreach(cadd, i, v)
            {
                buf_printf(b, "%s%s", i ? ", " : "", cli_jstr(v));
            }
        }
        if (json_array_size(cdrop)) {
            buf_puts(b, "\n Drop: ");
            json_array_foreach(cdrop, i, v)
            {
                buf_printf(b, "%s%s", i ? ", " : "", cli_jstr(v));
            }
        }
    }
    json_t *sysctls = json_object_get(cs, "Sysctls");
    if (json_object_size(sysctls)) {
        size_t n;
        const char **keys = sorted_keys(sysctls, &n);
        buf_puts(b, "\nSysCtls:");
        for (size_t k = 0; k < n; k++) {
            const char *sv = jx_str0(sysctls, keys[k]);
            buf_printf(b, "\n %s%s%s", keys[k], *sv ? ": " : "", sv);
        }
        free(keys);
    }
    json_t *ul = json_object_get(cs, "Ulimits");
    if (json_array_size(ul)) {
        buf_puts(b, "\nUlimits:");
        json_array_foreach(ul, i, v)
        {
            buf_printf(b, "\n %s: %lld:%lld", jx_str0(v, "Name"),
                       (long long)jx_int(v, "Soft", 0),
                       (long long)jx_int(v, "Hard", 0));
        }
    }
    json_t *mounts = json_object_get(cs, "Mounts");
    if (json_array_size(mounts))
        buf_puts(b, "\nMounts:");
    json_array_foreach(mounts, i, v)
    {
        buf_printf(b,
                   "\n Target:\t%s\n  Source:\t%s\n  ReadOnly:\t%s\n  "
                   "Type:\t\t%s",
                   jx_str0(v, "Target"), jx_str0(v, "Source"),
                   jx_bool(v, "ReadOnly", false) ? "true" : "false",
                   jx_str0(v, "Type"));
    }
    json_t *cfgs = json_object_get(cs, "Configs");
    if (json_array_size(cfgs)) {
        buf_puts(b, "\nConfigs:");
        json_array_foreach(cfgs, i, v)
        {
            buf_printf(b, "\n Target:\t%s\n  Source:\t%s",
                       jx_path_str(v, "File.Name") ? jx_path_str(v, "File.Name")
                                                   : "",
                       jx_str0(v, "ConfigName"));
        }
    }
    json_t *secs = json_object_get(cs, "Secrets");
    if (json_array_size(secs)) {
        buf_puts(b, "\nSecrets:");
        json_array_foreach(secs, i, v)
        {
            buf_printf(b, "\n Target:\t%s\n  Source:\t%s",
                       jx_path_str(v, "File.Name") ? jx_path_str(v, "File.Name")
                                                   : "",
                       jx_str0(v, "SecretName"));
        }
    }
    json_t *ld = json_object_get(task, "LogDriver");
    if (ld) {
        buf_puts(b, "\nLog Driver:");
        if (*jx_str0(ld, "Name"))
            buf_printf(b, "\n Name:\t\t%s", jx_str0(ld, "Name"));
        json_t *opts = json_object_get(ld, "Options");
        if (json_object_size(opts)) {
            size_t n;
            const char **keys = sorted_keys(opts, &n);
            buf_puts(b, "\n LogOpts:");
            for (size_t k = 0; k < n; k++) {
                const char *ov = jx_str0(opts, keys[k]);
                buf_printf(b, "\n  %s%s%s", keys[k], *ov ? ":       " : "", ov);
            }
            free(keys);
        }
        buf_puts(b, "\n");
    }
    json_t *res = json_object_get(task, "Resources");
    if (res) {
        json_t *rsv = json_object_get(res, "Reservations");
        json_t *lim = json_object_get(res, "Limits");
        buf_puts(b, "\nResources:");
        if (jx_int(rsv, "NanoCPUs", 0) > 0 ||
            jx_int(rsv, "MemoryBytes", 0) > 0) {
            buf_puts(b, "\n Reservations:");
            if (jx_int(rsv, "NanoCPUs", 0) > 0) {
                cli_fmt_float((double)jx_int(rsv, "NanoCPUs", 0) / 1e9, false,
                              tmp, sizeof(tmp));
                buf_printf(b, "\n  CPU:\t\t%s", tmp);
            }
            if (jx_int(rsv, "MemoryBytes", 0)) {
                cli_fmt_bytes_size((double)jx_int(rsv, "MemoryBytes", 0), tmp,
                                   sizeof(tmp));
                buf_printf(b, "\n  Memory:\t%s", tmp);
            }
        }
        if (jx_int(lim, "NanoCPUs", 0) > 0 ||
            jx_int(lim, "MemoryBytes", 0) > 0 || jx_int(lim, "Pids", 0) > 0) {
            buf_puts(b, "\n Limits:");
            if (jx_int(lim, "NanoCPUs", 0) > 0) {
                cli_fmt_float((double)jx_int(lim, "NanoCPUs", 0) / 1e9, false,
                              tmp, sizeof(tmp));
                buf_printf(b, "\n  CPU:\t\t%s", tmp);
            }
            if (jx_int(lim, "MemoryBytes", 0)) {
                cli_fmt_bytes_size((double)jx_int(lim, "MemoryBytes", 0), tmp,
                                   sizeof(tmp));
                buf_printf(b, "\n  Memory:\t%s", tmp);
            }
        }
        if (jx_int(lim, "Pids", 0) > 0)
            buf_printf(b, "\n  PIDs:\t\t%lld",
                       (long long)jx_int(lim, "Pids", 0));
    }
    json_t *nets = json_object_get(task, "Networks");
    if (json_array_size(nets)) {
        buf_puts(b, "\nNetworks:");
        json_array_foreach(nets, i, v)
        {
            const char *t = jx_str0(v, "Target");
            const char *nm = jx_str(net_names, t);
            buf_printf(b, " %s", nm ? nm : t);
        }
        buf_puts(b, " ");
    }
    buf_printf(b, "\nEndpoint Mode:\t%s",
               jx_path_str(spec, "EndpointSpec.Mode")
                   ? jx_path_str(spec, "EndpointSpec.Mode")
                   : "");
    json_t *ports = jx_path(svc, "Endpoint.Ports");
    if (json_array_size(ports)) {
        buf_puts(b, "\nPorts:");
        json_array_foreach(ports, i, v)
        {
            buf_printf(b,
                       "\n PublishedPort = %lld\n  Protocol = %s\n  "
                       "TargetPort = %lld\n  PublishMode = %s",
                       (long long)jx_int(v, "PublishedPort", 0),
                       jx_str0(v, "Protocol"),
                       (long long)jx_int(v, "TargetPort", 0),
                       jx_str0(v, "PublishMode"));
        }
        buf_puts(b, " ");
    }
    json_t *hc = json_object_get(cs, "Healthcheck");
    if (hc) {
        char d[48];
        cli_fmt_duration(jx_int(hc, "Interval", 0), d, sizeof(d));
        buf_printf(b, "\n Healthcheck:\n  Interval = %s", d);
        buf_printf(b, "\n  Retries = %lld",
                   (long long)jx_int(hc, "Retries", 0));
        cli_fmt_duration(jx_int(hc, "StartPeriod", 0), d, sizeof(d));
        buf_printf(b, "\n  StartPeriod =\t%s", d);
        cli_fmt_duration(jx_int(hc, "Timeout", 0), d, sizeof(d));
        buf_printf(b, "\n  Timeout =\t%s", d);
        json_t *test = json_object_get(hc, "Test");
        if (json_array_size(test)) {
            buf_puts(b, "\n  Tests:");
            json_array_foreach(test, i, v)
            {
                buf_printf(b, "\n\t Test = %s", cli_jstr(v));
            }
            buf_puts(b, " ");
        }
    }
    buf_puts(b, "\n");
}

static char *fetch_service(struct cli_client *c, const char *arg, void *data,
                           struct err *e)
{
    (void)data;
    _cleanup_free_ char *esc = cli_path_escape(arg);
    _cleanup_free_ char *path =
        xasprintf("/services/%s?insertDefaults=true", esc);
    size_t len;
    char *raw = cli_client_get_raw(c, path, &len, e);
    if (!raw && e->code == ERR_NOTFOUND)
        err_set(e, ERR_NOTFOUND, "no such service: %s", arg);
    return raw;
}

/* The human form, with network names for the Networks line. */
static void pretty_service(struct cli_ctx *ctx, struct cli_client *c,
                           json_t *svc, struct buf *out)
{
    json_t *names = json_object();
    size_t k;
    json_t *n;
    json_array_foreach(jx_path(svc, "Spec.TaskTemplate.Networks"), k, n)
    {
        struct err e = {0};
        _cleanup_free_ char *esc = cli_path_escape(jx_str0(n, "Target"));
        _cleanup_free_ char *path = xasprintf("/networks/%s?scope=swarm", esc);
        _cleanup_json_ json_t *net = cli_client_get_json(c, path, &e);
        if (net && jx_str(net, "Name"))
            json_object_set_new(names, jx_str0(n, "Target"),
                                json_string(jx_str(net, "Name")));
    }
    cli_service_pretty(out, svc, names, cli_ctx_now(ctx));
    buf_putc(out, '\n');
    json_decref(names);
}

static int run_inspect(struct cli_ctx *ctx, struct cli_flags *fl,
                       struct err *err)
{
    struct cli_client *c = client(ctx, err);
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
                       pretty ? pretty_service : NULL, fetch_service, NULL,
                       err);
}

/* ---- rm ---------------------------------------------------------------- */

static int run_rm(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = client(ctx, err);
    if (!c)
        return -1;
    struct buf errs;
    buf_init(&errs);
    for (size_t i = 0; i < fl->nargs; i++) {
        _cleanup_free_ char *esc = cli_path_escape(fl->args[i]);
        _cleanup_free_ char *path = xasprintf("/services/%s", esc);
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
        rc = err_set(err, ERR_NOTFOUND, "%s", errs.data);
    buf_fini(&errs);
    return rc;
}

/* ---- logs -------------------------------------------------------------- */

struct logs_state {
    struct cli_ctx *ctx;
    struct cli_client *aux; /* second connection for lookups */
    bool raw, timestamps, details, no_trunc, no_task_ids, no_resolve, tty;
    int padding;
    struct buf pending; /* undecoded bytes */
    json_t *cache;      /* "node/.." "service/.." "task/.." */
    struct err err;
    bool failed;
};

static int digits(long long v)
{
    char tmp[32];
    return snprintf(tmp, sizeof(tmp), "%lld", v);
}

/* url.QueryUnescape for the details field. */
static char *unescape(const char *s, size_t n)
{
    char *r = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            r[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else if (s[i] == '+') {
            r[o++] = ' ';
        } else {
            r[o++] = s[i];
        }
    }
    r[o] = '\0';
    return r;
}

static const char *lookup(struct logs_state *st, const char *kind,
                          const char *id)
{
    char key[200];
    snprintf(key, sizeof(key), "%s/%s", kind, id);
    const char *v = jx_str(st->cache, key);
    if (v)
        return v;
    struct cli_resolver r = {st->aux, st->no_resolve, st->cache};
    return cli_resolve_name(&r, kind, id);
}

/* The "name.slot.taskid@node" prefix for a line (cached per context). */
static const char *log_context(struct logs_state *st, const char *node,
                               const char *service, const char *task)
{
    char key[300];
    snprintf(key, sizeof(key), "ctx/%s/%s/%s", node, service, task);
    const char *cached = jx_str(st->cache, key);
    if (cached)
        return cached;
    const char *node_name = lookup(st, "node", node);
    const char *svc_name = lookup(st, "service", service);
    _cleanup_free_ char *esc = cli_path_escape(task);
    _cleanup_free_ char *path = xasprintf("/tasks/%s", esc);
    _cleanup_json_ json_t *t = cli_client_get_json(st->aux, path, &st->err);
    if (!t)
        return NULL;
    long long slot = jx_int(t, "Slot", 0);
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s.%lld", svc_name, slot);
    if (!st->no_task_ids) {
        char id[16];
        if (st->no_trunc) {
            buf_printf(&b, ".%s", jx_str0(t, "ID"));
        } else {
            cli_fmt_trunc_id(jx_str0(t, "ID"), id, sizeof(id));
            buf_printf(&b, ".%s", id);
        }
    }
    buf_printf(&b, "@%s", node_name);
    for (int i = digits(slot); i < st->padding; i++)
        buf_putc(&b, ' ');
    json_object_set_new(st->cache, key, json_string(b.data));
    buf_fini(&b);
    return jx_str(st->cache, key);
}

static int invalid_line(struct logs_state *st, const char *p, size_t n)
{
    return err_set(&st->err, ERR_INVALID,
                   "invalid context in log message: %.*s", (int)n, p);
}

static int log_line(struct logs_state *st, int stream, const char *p, size_t n)
{
    FILE *f = stream == 2 ? st->ctx->err : st->ctx->out;
    if (st->raw) {
        fwrite(p, 1, n, f);
        return 0;
    }
    const char *ts = NULL;
    size_t tslen = 0;
    const char *rest = p;
    size_t rlen = n;
    if (st->timestamps) {
        const char *sp = memchr(rest, ' ', rlen);
        if (!sp)
            return invalid_line(st, p, n);
        ts = rest;
        tslen = (size_t)(sp - rest);
        rlen -= tslen + 1;
        rest = sp + 1;
    }
    const char *sp = memchr(rest, ' ', rlen);
    if (!sp)
        return invalid_line(st, p, n);
    size_t dlen = (size_t)(sp - rest);
    const char *msg = sp + 1;
    size_t mlen = rlen - dlen - 1;
    /* details: k=v,k=v (url-escaped) */
    json_t *details = json_object();
    const char *d = rest;
    while (d < rest + dlen) {
        const char *comma = memchr(d, ',', (size_t)(rest + dlen - d));
        const char *end = comma ? comma : rest + dlen;
        const char *eq = memchr(d, '=', (size_t)(end - d));
        if (!eq) {
            json_decref(details);
            err_set(&st->err, ERR_INVALID, "invalid details format");
            return -1;
        }
        char *k = unescape(d, (size_t)(eq - d));
        char *v = unescape(eq + 1, (size_t)(end - eq - 1));
        json_object_set_new(details, k, json_string(v));
        free(k);
        free(v);
        d = end + 1;
    }
    static const char *const need[][2] = {
        {"com.docker.swarm.node.id", "node id"},
        {"com.docker.swarm.service.id", "service id"},
        {"com.docker.swarm.task.id", "task id"},
    };
    for (size_t i = 0; i < 3; i++) {
        if (!jx_str(details, need[i][0])) {
            json_decref(details);
            err_set(&st->err, ERR_INVALID, "missing %s in details", need[i][1]);
            return -1;
        }
    }
    _cleanup_free_ char *node = xstrdup(jx_str(details, need[0][0]));
    _cleanup_free_ char *svc = xstrdup(jx_str(details, need[1][0]));
    _cleanup_free_ char *task = xstrdup(jx_str(details, need[2][0]));
    for (size_t i = 0; i < 3; i++)
        json_object_del(details, need[i][0]);
    const char *prefix = log_context(st, node, svc, task);
    if (!prefix) {
        json_decref(details);
        return -1;
    }
    struct buf out;
    buf_init(&out);
    if (ts) {
        buf_append(&out, ts, tslen);
        buf_putc(&out, ' ');
    }
    buf_printf(&out, "%s    | ", prefix);
    if (st->details) {
        size_t nk;
        const char **keys = sorted_keys(details, &nk);
        for (size_t i = 0; i < nk; i++)
            buf_printf(&out, "%s%s=%s", i ? "," : "", keys[i],
                       jx_str0(details, keys[i]));
        buf_putc(&out, ' ');
        free(keys);
    }
    buf_append(&out, msg, mlen);
    fwrite(out.data, 1, out.len, f);
    fflush(f);
    buf_fini(&out);
    json_decref(details);
    return 0;
}

/* stdcopy demultiplexing: 8-byte headers [stream,0,0,0,BE32 size]. */
static int on_log_data(const char *data, size_t len, void *ud)
{
    struct logs_state *st = ud;
    if (st->tty) {
        fwrite(data, 1, len, st->ctx->out);
        fflush(st->ctx->out);
        return 0;
    }
    buf_append(&st->pending, data, len);
    for (;;) {
        if (st->pending.len < 8)
            return 0;
        const unsigned char *h = (const unsigned char *)st->pending.data;
        size_t size = ((size_t)h[4] << 24) | ((size_t)h[5] << 16) |
                      ((size_t)h[6] << 8) | h[7];
        if (st->pending.len < 8 + size)
            return 0;
        int stream = h[0];
        const char *payload = st->pending.data + 8;
        if (stream == 3) {
            err_set(&st->err, ERR_INTERNAL, "error from daemon in stream: %.*s",
                    (int)size, payload);
            st->failed = true;
            return -1;
        }
        if (stream != 0 && stream != 1 && stream != 2) {
            err_set(&st->err, ERR_INTERNAL, "Unrecognized input header: %d",
                    stream);
            st->failed = true;
            return -1;
        }
        if (log_line(st, stream, payload, size) < 0) {
            st->failed = true;
            return -1;
        }
        buf_consume(&st->pending, 8 + size);
    }
}

static void add_common_log_query(struct cli_query *q,
                                 const struct cli_flags *fl, bool details)
{
    if (details)
        cli_query_add(q, "details", "1");
    if (cli_flag_bool(fl, "follow"))
        cli_query_add(q, "follow", "1");
    const char *since = cli_flag_str(fl, "since");
    if (since && *since) {
        int64_t d;
        if (cli_parse_duration(since, &d, NULL) == 0) {
            char ts[32];
            snprintf(ts, sizeof(ts), "%lld",
                     (long long)((time_now_ns() - d) / NS_PER_SEC));
            cli_query_add(q, "since", ts);
        } else {
            int64_t t;
            if (time_parse_rfc3339(since, &t) == 0) {
                char ts[48];
                snprintf(ts, sizeof(ts), "%lld.%09lld",
                         (long long)(t / NS_PER_SEC),
                         (long long)(t % NS_PER_SEC));
                cli_query_add(q, "since", ts);
            } else {
                cli_query_add(q, "since", since);
            }
        }
    }
    cli_query_add(q, "stderr", "1");
    cli_query_add(q, "stdout", "1");
    const char *tail = cli_flag_str(fl, "tail");
    cli_query_add(q, "tail", tail && *tail ? tail : "all");
    if (cli_flag_bool(fl, "timestamps"))
        cli_query_add(q, "timestamps", "1");
}

static int run_logs(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = client(ctx, err);
    if (!c)
        return -1;
    const char *target = fl->args[0];
    struct logs_state st = {.ctx = ctx};
    st.raw = cli_flag_bool(fl, "raw");
    st.timestamps = cli_flag_bool(fl, "timestamps");
    st.details = cli_flag_bool(fl, "details");
    st.no_trunc = cli_flag_bool(fl, "no-trunc");
    st.no_task_ids = cli_flag_bool(fl, "no-task-ids");
    st.no_resolve = cli_flag_bool(fl, "no-resolve");
    st.padding = 1;
    const char *kind = "services";
    struct err e = {0};
    json_t *svc = get_service(c, target, false, &e);
    if (!svc) {
        if (e.code != ERR_NOTFOUND) {
            *err = e;
            return -1;
        }
        _cleanup_free_ char *esc = cli_path_escape(target);
        _cleanup_free_ char *path = xasprintf("/tasks/%s", esc);
        struct err e2 = {0};
        json_t *task = cli_client_get_json(c, path, &e2);
        if (!task) {
            if (e2.code == ERR_NOTFOUND)
                return err_set(err, ERR_NOTFOUND, "no such task or service: %s",
                               target);
            *err = e2;
            return -1;
        }
        st.tty = jx_bool(jx_path(task, "Spec.ContainerSpec"), "TTY", false);
        st.padding = digits(jx_int(task, "Slot", 0));
        kind = "tasks";
        json_decref(task);
    } else {
        st.tty = jx_bool(jx_path(svc, "Spec.TaskTemplate.ContainerSpec"), "TTY",
                         false);
        json_t *rep = jx_path(svc, "Spec.Mode.Replicated.Replicas");
        if (rep)
            st.padding = digits((long long)json_integer_value(rep));
        json_decref(svc);
    }
    if (st.tty && !st.raw)
        return err_set(err, ERR_INVALID,
                       "tty service logs only supported with --raw");
    struct cli_query q;
    cli_query_init(&q);
    add_common_log_query(&q, fl, st.details || !st.raw);
    _cleanup_free_ char *esc = cli_path_escape(target);
    _cleanup_free_ char *path =
        xasprintf("/%s/%s/logs%s", kind, esc, cli_query_str(&q));
    cli_query_fini(&q);
    st.aux = cli_client_clone(c);
    st.cache = json_object();
    buf_init(&st.pending);
    struct cli_request req = {
        .method = "GET", .path = path, .on_data = on_log_data, .ud = &st};
    int rc = cli_client_do(c, &req, NULL, err);
    if (rc < 0 && st.failed)
        *err = st.err;
    fflush(ctx->out);
    buf_fini(&st.pending);
    json_decref(st.cache);
    cli_client_free(st.aux);
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

static const struct cli_flag inspect_flags[] = {
    {"format", 'f', CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
    {"pretty", 0, CLI_FLAG_BOOL,
     "Print the information in a human friendly "
     "format",
     NULL, NULL, NULL, false},
};

static const struct cli_flag detach_flags[] = {
    {"detach", 'd', CLI_FLAG_BOOL,
     "Exit immediately instead of waiting for the service to converge", NULL,
     NULL, NULL, false},
};

static const struct cli_flag rollback_flags[] = {
    {"detach", 'd', CLI_FLAG_BOOL,
     "Exit immediately instead of waiting for the service to converge", NULL,
     NULL, NULL, false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Suppress progress output", NULL, NULL, NULL,
     false},
};

static const struct cli_flag logs_flags[] = {
    {"details", 0, CLI_FLAG_BOOL, "Show extra details provided to logs", NULL,
     NULL, NULL, false},
    {"follow", 'f', CLI_FLAG_BOOL, "Follow log output", NULL, NULL, NULL,
     false},
    {"no-resolve", 0, CLI_FLAG_BOOL, "Do not map IDs to Names in output", NULL,
     NULL, NULL, false},
    {"no-task-ids", 0, CLI_FLAG_BOOL, "Do not include task IDs in output", NULL,
     NULL, NULL, false},
    {"no-trunc", 0, CLI_FLAG_BOOL, "Do not truncate output", NULL, NULL, NULL,
     false},
    {"raw", 0, CLI_FLAG_BOOL, "Do not neatly format logs", NULL, NULL, NULL,
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
};

static const char *const ls_aliases[] = {"list", NULL};
static const char *const rm_aliases[] = {"remove", NULL};

static const struct cli_cmd cmd_create = {
    .name = "create",
    .use = "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    .short_desc = "Create a new service",
    .flags = cli_service_create_flags,
    .nflags = CLI_SERVICE_CREATE_NFLAGS,
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .no_interspersed = true,
    .run = run_create,
};

static const struct cli_cmd cmd_update = {
    .name = "update",
    .use = "[OPTIONS] SERVICE",
    .short_desc = "Update a service",
    .flags = cli_service_update_flags,
    .nflags = CLI_SERVICE_UPDATE_NFLAGS,
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_update,
};

static const struct cli_cmd cmd_rollback = {
    .name = "rollback",
    .use = "[OPTIONS] SERVICE",
    .short_desc = "Revert changes to a service's configuration",
    .flags = CLI_FLAGS(rollback_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_rollback,
};

static const struct cli_cmd cmd_scale = {
    .name = "scale",
    .use = "SERVICE=REPLICAS [SERVICE=REPLICAS...]",
    .short_desc = "Scale one or multiple replicated services",
    .flags = CLI_FLAGS(detach_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_scale,
};

static const struct cli_cmd cmd_ls = {
    .name = "ls",
    .aliases = ls_aliases,
    .use = "[OPTIONS]",
    .short_desc = "List services",
    .flags = CLI_FLAGS(ls_flags),
    .args = CLI_ARGS_NONE,
    .run = run_ls,
};

static const struct cli_cmd cmd_ps = {
    .name = "ps",
    .use = "[OPTIONS] SERVICE [SERVICE...]",
    .short_desc = "List the tasks of one or more services",
    .flags = CLI_FLAGS(ps_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_ps,
};

static const struct cli_cmd cmd_inspect = {
    .name = "inspect",
    .use = "[OPTIONS] SERVICE [SERVICE...]",
    .short_desc = "Display detailed information on one or more services",
    .flags = CLI_FLAGS(inspect_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_inspect,
};

static const struct cli_cmd cmd_rm = {
    .name = "rm",
    .aliases = rm_aliases,
    .use = "SERVICE [SERVICE...]",
    .short_desc = "Remove one or more services",
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_rm,
};

static const struct cli_cmd cmd_logs = {
    .name = "logs",
    .use = "[OPTIONS] SERVICE|TASK",
    .short_desc = "Fetch the logs of a service or task",
    .flags = CLI_FLAGS(logs_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_logs,
};

static const struct cli_cmd *const service_subs[] = {
    &cmd_create, &cmd_inspect,  &cmd_logs,  &cmd_ls,     &cmd_ps,
    &cmd_rm,     &cmd_rollback, &cmd_scale, &cmd_update, NULL,
};

const struct cli_cmd cli_cmd_service = {
    .name = "service",
    .use = "COMMAND",
    .short_desc = "Manage Swarm services",
    .subs = service_subs,
};
