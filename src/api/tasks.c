// SPDX-License-Identifier: Apache-2.0
// /tasks: list (with Docker's filters, including the CLI's internal
// "_up-to-date") and inspect.
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/mem.h"

/* A task made from its service's current spec (swarmkit's !IsTaskDirty). */
static bool up_to_date(struct api_host *h, const struct task *t)
{
    const struct service *s = store_service(api_store(h), t->service_id);
    return s &&
           (t->spec == s->task_spec || t->spec_version == s->spec_version ||
            json_equal(t->spec, s->task_spec));
}

static bool service_matches(struct api_host *h, const json_t *f,
                            const struct task *t)
{
    if (!api_filter_has(f, "service"))
        return true;
    const struct service *s = store_service(api_store(h), t->service_id);
    return api_filter_match(f, "service", t->service_id, false) ||
           (s && api_filter_match(f, "service", s->name, false));
}

static bool node_matches(struct api_host *h, const json_t *f,
                         const struct task *t)
{
    if (!api_filter_has(f, "node"))
        return true;
    if (!t->node_id[0])
        return false;
    const struct node *n = store_node(api_store(h), t->node_id);
    const char *host = n ? jx_str(n->description, "Hostname") : NULL;
    return api_filter_match(f, "node", t->node_id, false) ||
           (host && api_filter_match(f, "node", host, false)) ||
           (strcmp(t->node_id, api_node_id(h)) == 0 &&
            api_filter_match(f, "node", "self", false));
}

static bool desired_matches(const json_t *f, const struct task *t)
{
    if (!api_filter_has(f, "desired-state"))
        return true;
    /* "running" also covers tasks waiting to start (desired ready), as
     * swarmkit does; "shutdown" covers everything past running. */
    const char *d = t->desired <= TASK_RUNNING ? "running" : "shutdown";
    return api_filter_match(f, "desired-state", d, false) ||
           api_filter_match(f, "desired-state", task_state_name(t->desired),
                            false);
}

static bool task_matches(struct api_host *h, const json_t *f,
                         const struct task *t)
{
    char name[300];
    api_task_name(h, t, name, sizeof(name));
    if (!api_filter_match(f, "id", t->meta.id, true) ||
        !api_filter_match(f, "name", name, true) || !service_matches(h, f, t) ||
        !node_matches(h, f, t) || !desired_matches(f, t))
        return false;
    if (api_filter_has(f, "label")) {
        const struct service *s = store_service(api_store(h), t->service_id);
        json_t *labels = s ? json_object_get(s->spec, "Labels") : NULL;
        if (!api_filter_labels(f, "label", labels))
            return false;
    }
    if (api_filter_has(f, "_up-to-date") && !up_to_date(h, t))
        return false;
    return true;
}

static void list_tasks(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    static const char *const allowed[] = {
        "id",    "name",          "service",     "node",
        "label", "desired-state", "_up-to-date", NULL};
    json_t *f = api_filters(req, allowed);
    if (!f)
        return;
    json_t *out = json_array();
    /* A service filter naming one service: only its tasks are looked at. */
    json_t *svc = json_object_get(f, "service");
    const struct vec *subset = NULL;
    if (json_array_size(svc) == 1) {
        const char *ref = json_string_value(json_array_get(svc, 0));
        const struct service *s =
            ref ? store_service_by_name(api_store(h), ref) : NULL;
        subset = store_service_tasks(api_store(h), s ? s->meta.id : ref);
        for (size_t i = 0; subset && i < subset->len; i++)
            if (task_matches(h, f, subset->items[i]))
                json_array_append_new(
                    out, store_task_to_json(api_store(h), subset->items[i]));
    } else {
        size_t it = 0;
        void *o;
        while (store_next(api_store(h), KIND_TASK, &it, &o))
            if (task_matches(h, f, o))
                json_array_append_new(out, store_task_to_json(api_store(h), o));
    }
    json_decref(f);
    api_reply(req, 200, out);
}

static void get_task(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    struct task *t = api_find_task(h, req->params[0], &err);
    if (!t) {
        http_reply_err(req, &err);
        return;
    }
    api_reply(req, 200, store_task_to_json(api_store(h), t));
}

static const struct http_route routes[] = {
    {"GET", "/tasks", list_tasks},
    {"GET", "/tasks/{id}", get_task},
};

void api_tasks_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
