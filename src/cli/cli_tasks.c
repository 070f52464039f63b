// SPDX-License-Identifier: Apache-2.0
// The task table shared by `service ps`, `node ps` and `stack ps`, the
// cached ID -> name lookups it (and `service logs`) uses, and "self" as
// a node reference.
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/cli_tasks.h"
#include "cli/format.h"

char *cli_node_reference(struct cli_client *c, const char *ref, struct err *err)
{
    if (strcmp(ref, "self") != 0)
        return xstrdup(ref);
    _cleanup_json_ json_t *info = cli_client_get_json(c, "/info", err);
    if (!info)
        return NULL;
    const char *id = jx_path_str(info, "Swarm.NodeID");
    if (id && *id)
        return xstrdup(id);
    /* Not a manager: a swarm endpoint gives the specific error. */
    _cleanup_json_ json_t *nodes = cli_client_get_json(c, "/nodes", err);
    if (!nodes)
        return NULL;
    err_set(err, ERR_UNAVAILABLE, "node ID not found in /info");
    return NULL;
}

const char *cli_resolve_name(struct cli_resolver *r, const char *kind,
                             const char *id)
{
    if (r->no_resolve || !id || !*id)
        return id ? id : "";
    char key[160];
    snprintf(key, sizeof(key), "%s/%s", kind, id);
    const char *cached = jx_str(r->cache, key);
    if (cached)
        return cached;
    if (!r->c)
        return id;
    _cleanup_free_ char *esc = cli_path_escape(id);
    _cleanup_free_ char *path =
        !strcmp(kind, "node")
            ? xasprintf("/nodes/%s", esc)
            : xasprintf("/services/%s?insertDefaults=false", esc);
    struct err e = {0};
    _cleanup_json_ json_t *o = cli_client_get_json(r->c, path, &e);
    const char *name = NULL;
    if (o)
        name = !strcmp(kind, "node") ? jx_path_str(o, "Description.Hostname")
                                     : jx_path_str(o, "Spec.Name");
    json_object_set_new(r->cache, key, json_string(name && *name ? name : id));
    return jx_str(r->cache, key);
}

struct task_rec {
    json_t *task;
    char *name;    /* "svc.1" */
    char *display; /* name, or " \_ name" for older tasks of a slot */
    const char *node;
    bool trunc;
    int64_t now;
};

static char *task_field(const char *field, void *rec)
{
    struct task_rec *t = rec;
    json_t *task = t->task;
    if (!strcmp(field, "ID")) {
        if (!t->trunc)
            return xstrdup(jx_str0(task, "ID"));
        char id[16];
        cli_fmt_trunc_id(jx_str0(task, "ID"), id, sizeof(id));
        return xstrdup(id);
    }
    if (!strcmp(field, "Name"))
        return xstrdup(t->display);
    if (!strcmp(field, "Image")) {
        const char *img = jx_path_str(task, "Spec.ContainerSpec.Image");
        if (!img)
            img = "";
        return t->trunc ? cli_fmt_image_familiar(img) : xstrdup(img);
    }
    if (!strcmp(field, "Node"))
        return xstrdup(t->node);
    if (!strcmp(field, "DesiredState"))
        return cli_fmt_pretty(jx_str0(task, "DesiredState"));
    if (!strcmp(field, "CurrentState")) {
        _cleanup_free_ char *st =
            cli_fmt_pretty(jx_path_str(task, "Status.State")
                               ? jx_path_str(task, "Status.State")
                               : "");
        _cleanup_free_ char *ago =
            cli_fmt_ago(jx_path_str(task, "Status.Timestamp"), t->now, true);
        return xasprintf("%s %s", st, ago);
    }
    if (!strcmp(field, "Error")) {
        const char *e = jx_path_str(task, "Status.Err");
        if (!e || !*e)
            return xstrdup("");
        _cleanup_free_ char *s =
            t->trunc ? cli_fmt_ellipsis(e, 30) : xstrdup(e);
        return xasprintf("\"%s\"", s);
    }
    if (!strcmp(field, "Ports")) {
        struct buf b;
        buf_init(&b);
        size_t i;
        json_t *p;
        json_array_foreach(jx_path(task, "Status.PortStatus.Ports"), i, p)
        {
            buf_printf(&b, "%s*:%lld->%lld/%s", i ? "," : "",
                       (long long)jx_int(p, "PublishedPort", 0),
                       (long long)jx_int(p, "TargetPort", 0),
                       jx_str0(p, "Protocol"));
        }
        return b.data ? buf_steal(&b) : xstrdup("");
    }
    return NULL;
}

static const struct cli_field task_fields[] = {
    {"ID", "ID"},
    {"Name", "NAME"},
    {"Image", "IMAGE"},
    {"Node", "NODE"},
    {"DesiredState", "DESIRED STATE"},
    {"CurrentState", "CURRENT STATE"},
    {"Error", "ERROR"},
    {"Ports", "PORTS"},
};

static int cmp_task(const void *a, const void *b)
{
    const struct task_rec *x = *(struct task_rec *const *)a;
    const struct task_rec *y = *(struct task_rec *const *)b;
    int c = cli_natural_cmp(x->name, y->name);
    if (c)
        return c;
    /* Same service and slot: newest first. */
    int64_t tx = 0, ty = 0;
    time_parse_rfc3339(jx_str0(x->task, "CreatedAt"), &tx);
    time_parse_rfc3339(jx_str0(y->task, "CreatedAt"), &ty);
    return tx > ty ? -1 : tx < ty ? 1 : 0;
}

int cli_task_print(struct cli_ctx *ctx, struct cli_client *c,
                   const json_t *names, json_t *tasks, bool trunc,
                   bool no_resolve, bool quiet, const char *format,
                   struct err *err)
{
    struct cli_resolver r = {c, no_resolve,
                             names ? json_deep_copy(names) : json_object()};
    size_t n = json_array_size(tasks);
    struct task_rec *recs = xcalloc(n + 1, sizeof(*recs));
    struct task_rec **ptrs = xcalloc(n + 1, sizeof(*ptrs));
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tasks, i);
        const char *svc =
            cli_resolve_name(&r, "service", jx_str0(t, "ServiceID"));
        int64_t slot = jx_int(t, "Slot", 0);
        recs[i].task = t;
        recs[i].trunc = trunc;
        recs[i].now = cli_ctx_now(ctx);
        recs[i].name = slot ? xasprintf("%s.%lld", svc, (long long)slot)
                            : xasprintf("%s.%s", svc, jx_str0(t, "NodeID"));
        ptrs[i] = &recs[i];
    }
    /* Stable sort by name, newest first within a slot. */
    for (size_t i = 1; i < n; i++) {
        struct task_rec *x = ptrs[i];
        size_t j = i;
        while (j > 0 && cmp_task(&ptrs[j - 1], &x) > 0) {
            ptrs[j] = ptrs[j - 1];
            j--;
        }
        ptrs[j] = x;
    }
    bool table =
        !quiet && (!format || !*format || !strncmp(format, "table", 5));
    const char *prev = "";
    for (size_t i = 0; i < n; i++) {
        struct task_rec *t = ptrs[i];
        if (table && !strcmp(t->name, prev))
            t->display = xasprintf(" \\_ %s", t->name);
        else
            t->display = xstrdup(t->name);
        prev = t->name;
        t->node = cli_resolve_name(&r, "node", jx_str0(t->task, "NodeID"));
    }
    int rc = cli_print_list(
        ctx, quiet ? "{{.ID}}" : format,
        "table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t"
        "{{.CurrentState}}\t{{.Error}}\t{{.Ports}}",
        task_fields, ARRAY_SIZE(task_fields), task_field, (void *const *)ptrs,
        n, err);
    for (size_t i = 0; i < n; i++) {
        free(recs[i].name);
        free(recs[i].display);
    }
    free(recs);
    free(ptrs);
    json_decref(r.cache);
    return rc;
}
