// SPDX-License-Identifier: Apache-2.0
// Expands a task's templated ContainerSpec fields with the task, service
// and node they belong to, as swarm's agent does before it creates the
// container.
#include "agent/tasktmpl.h"

#include <stdio.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/tmpl.h"

const char *tasktmpl_lookup(const struct tasktmpl_ctx *ctx, const char *field,
                            char *scratch, size_t size)
{
    const struct task *t = ctx->task;
    const struct service *s = ctx->service;
    const json_t *desc = ctx->node ? ctx->node->description : NULL;
    if (strcmp(field, "Task.ID") == 0)
        return t->meta.id;
    if (strcmp(field, "Task.Name") == 0)
        return ctx->task_name;
    if (strcmp(field, "Task.Slot") == 0) {
        /* Global tasks have no slot; swarm shows the node id there. */
        if (t->slot)
            snprintf(scratch, size, "%d", t->slot);
        else
            snprintf(scratch, size, "%s", t->node_id);
        return scratch;
    }
    if (strcmp(field, "Service.ID") == 0)
        return t->service_id;
    if (strcmp(field, "Service.Name") == 0)
        return s ? s->name : t->service_id;
    if (strncmp(field, "Service.Labels.", 15) == 0) {
        const char *v =
            jx_str(jx_path(s ? s->spec : NULL, "Labels"), field + 15);
        return v ? v : "";
    }
    if (strcmp(field, "Node.ID") == 0)
        return ctx->node_id;
    if (strcmp(field, "Node.Hostname") == 0)
        return jx_str0(desc, "Hostname");
    if (strcmp(field, "Node.Platform.OS") == 0)
        return jx_path_str(desc, "Platform.OS")
                   ? jx_path_str(desc, "Platform.OS")
                   : "linux";
    if (strcmp(field, "Node.Platform.Architecture") == 0)
        return jx_path_str(desc, "Platform.Architecture")
                   ? jx_path_str(desc, "Platform.Architecture")
                   : "x86_64";
    return NULL;
}

struct lookup_data {
    const struct tasktmpl_ctx *ctx;
    char scratch[64];
};

static const char *lookup(void *data, const char *field)
{
    struct lookup_data *d = data;
    return tasktmpl_lookup(d->ctx, field, d->scratch, sizeof(d->scratch));
}

json_t *tasktmpl_container_spec(const struct tasktmpl_ctx *ctx, struct err *err)
{
    json_t *cs = jx_path(ctx->task->spec, "ContainerSpec");
    json_t *out = json_is_object(cs) ? json_deep_copy(cs) : json_object();
    struct lookup_data d = {.ctx = ctx};
    const char *hostname = jx_str(out, "Hostname");
    if (hostname && strstr(hostname, "{{")) {
        char *h = tmpl_expand(hostname, lookup, &d, err);
        if (!h) {
            json_decref(out);
            return err_ctx(err, "expanding hostname"), NULL;
        }
        json_object_set_new(out, "Hostname", json_string(h));
        free(h);
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(out, "Env"), i, v)
    {
        const char *e = json_string_value(v);
        if (!e || !strstr(e, "{{"))
            continue;
        char *x = tmpl_expand(e, lookup, &d, err);
        if (!x) {
            json_decref(out);
            return err_ctx(err, "expanding env"), NULL;
        }
        json_string_set(v, x);
        free(x);
    }
    return out;
}
