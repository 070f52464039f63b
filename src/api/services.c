// SPDX-License-Identifier: Apache-2.0
// /services: create, list (with ServiceStatus), inspect, update
// (optimistic concurrency on ?version=, rollback), delete.
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/mem.h"
#include "manager/allocator.h"
#include "manager/controlapi.h"
#include "registry/auth.h"
#include "manager/secretspec.h"

/* Network references by name or id prefix become ids, like dockerd does;
 * the deprecated ServiceSpec.Networks moves into the task template. */
static int resolve_networks(struct api_host *h, json_t *spec, struct err *err)
{
    json_t *top = json_object_get(spec, "Networks");
    json_t *tt = jx_obj(spec, "TaskTemplate");
    if (json_array_size(top) && !json_array_size(jx_path(tt, "Networks")))
        json_object_set(tt, "Networks", top);
    json_object_del(spec, "Networks");
    json_t *nets = json_object_get(tt, "Networks");
    size_t i;
    json_t *att;
    json_array_foreach(nets, i, att)
    {
        const char *target = jx_str(att, "Target");
        if (!target || !*target)
            return err_set(err, ERR_INVALID,
                           "rpc error: code = InvalidArgument desc = network "
                           "attachment without a target");
        struct network *n = store_network(api_store(h), target);
        if (!n)
            n = store_network_by_name(api_store(h), target);
        size_t it = 0, matches = 0;
        void *o;
        while (!n && store_next(api_store(h), KIND_NETWORK, &it, &o))
            if (strncmp(((struct network *)o)->meta.id, target,
                        strlen(target)) == 0 &&
                ++matches == 1)
                n = o;
        if (!n || matches > 1)
            return err_set(err, ERR_NOTFOUND, "network %s not found", target);
        if (n->ingress)
            return err_set(err, ERR_INVALID,
                           "rpc error: code = InvalidArgument desc = Service "
                           "cannot be explicitly attached to the ingress "
                           "network \"%s\"",
                           n->name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(jx_str0(json_array_get(nets, k), "Target"),
                       n->meta.id) == 0)
                return err_set(err, ERR_INVALID,
                               "rpc error: code = InvalidArgument desc = "
                               "service cannot be attached to network %s "
                               "more than once",
                               n->name);
        json_object_set_new(att, "Target", json_string(n->meta.id));
    }
    return 0;
}

/* Secret and config references by name become IDs; unknown ones are
 * refused (nothing is proposed). */
static int resolve_secrets(struct api_host *h, json_t *spec, struct err *err)
{
    return secretspec_resolve_refs(
        api_store(h), jx_path(spec, "TaskTemplate.ContainerSpec"), err);
}

/* Allocates the endpoint (published ports, VIPs) for a create or update;
 * kept in p->user to undo if the change does not commit. */
static json_t *endpoint_for(struct api_host *h, struct api_pending *p,
                            const json_t *spec, struct err *err)
{
    struct allocator *a = h->ops->allocator(h->self);
    if (!a)
        return json_object();
    json_t *ep = allocator_endpoint(a, api_store(h), p->id, spec, err);
    p->user = ep ? json_incref(ep) : NULL;
    return ep;
}

static void endpoint_settle(struct api_pending *p, const struct err *err)
{
    struct allocator *a = p->h->ops->allocator(p->h->self);
    if (err && a && p->user)
        allocator_endpoint_unreserve(a, api_store(p->h), p->id, p->user);
    json_decref(p->user);
    p->user = NULL;
}

/* X-Registry-Auth (docker's --with-registry-auth) becomes the service's
 * ContainerSpec.PullOptions, which the nodes use to pull its image and
 * the API never shows. Without it an update keeps what the service had
 * (dockerd's registryAuthFrom=spec). */
static void keep_registry_auth(struct http_request *req, json_t *spec,
                               const struct service *old)
{
    const char *hdr = http_header(req, "X-Registry-Auth");
    json_t *cs = jx_path(spec, "TaskTemplate.ContainerSpec");
    if (!json_is_object(cs))
        return;
    struct reg_creds c;
    struct err err = {0};
    if (hdr && reg_creds_decode(hdr, &c, &err) == 0) {
        bool empty = reg_creds_empty(&c);
        reg_creds_fini(&c);
        if (!empty) {
            json_object_set_new(cs, "PullOptions",
                                json_pack("{s:s}", "RegistryAuth", hdr));
            return;
        }
    }
    json_t *prev =
        old ? jx_path(old->spec, "TaskTemplate.ContainerSpec.PullOptions")
            : NULL;
    if (prev)
        json_object_set_new(cs, "PullOptions", jx_copy(prev));
}

static void created(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    struct api_pending *p = data;
    char id[ID_LEN + 1];
    memcpy(id, p->id, sizeof(id));
    endpoint_settle(p, err);
    struct http_request *req = api_pending_finish(p);
    if (!req)
        return;
    if (err)
        http_reply_err(req, err);
    else
        api_reply(req, 201, json_pack("{s:s}", "ID", id));
}

static void create_service(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    json_t *spec = NULL;
    if (http_body_json(req, &spec, &err) < 0 ||
        controlapi_service_spec(spec, &err) < 0 ||
        resolve_networks(h, spec, &err) < 0 ||
        resolve_secrets(h, spec, &err) < 0) {
        json_decref(spec);
        http_reply_err(req, &err);
        return;
    }
    keep_registry_auth(req, spec, NULL);
    const char *name = jx_str(spec, "Name");
    if (store_service_by_name(api_store(h), name)) {
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "rpc error: code = AlreadyExists desc = name conflicts with "
                 "an existing object: service %s already exists",
                 name);
        json_decref(spec);
        http_reply_error(req, 409, msg);
        return;
    }
    struct api_pending *p = api_pending_new(req, h);
    id_new(p->id);
    json_t *ep = endpoint_for(h, p, spec, &err);
    if (!ep) {
        json_decref(spec);
        api_pending_finish(p);
        http_reply_err(req, &err);
        return;
    }
    struct txn txn;
    txn_init(&txn);
    txn_service_create(&txn, p->id, spec, ep);
    json_decref(spec);
    json_decref(ep);
    api_propose(p, &txn, created);
}

/* Docker's ServiceStatus: running tasks (on nodes that are not down), the
 * desired count and, for a job, the tasks of its current iteration that
 * completed (desired: those still to run, at most MaxConcurrent). */
static json_t *service_status(struct api_host *h, const struct service *s)
{
    const struct vec *tasks = store_service_tasks(api_store(h), s->meta.id);
    json_int_t running = 0, desired_global = 0, completed = 0;
    for (size_t i = 0; tasks && i < tasks->len; i++) {
        const struct task *t = tasks->items[i];
        struct node *n = store_node(api_store(h), t->node_id);
        bool node_up = n && n->state != NODE_DOWN;
        if (t->state == TASK_RUNNING && t->desired == TASK_RUNNING && node_up)
            running++;
        if (t->desired == TASK_RUNNING && node_up)
            desired_global++;
        if (t->state == TASK_COMPLETE && t->spec_version == s->spec_version)
            completed++;
    }
    int64_t replicas = service_replicas(s);
    json_int_t desired = replicas < 0 ? desired_global : (json_int_t)replicas;
    if (service_is_job(s) && replicas >= 0) {
        json_int_t conc =
            jx_path_int(s->spec, "Mode.ReplicatedJob.MaxConcurrent", 1);
        desired = replicas - completed;
        if (desired > conc)
            desired = conc;
        if (desired < 0)
            desired = 0;
    }
    return json_pack("{s:I, s:I, s:I}", "RunningTasks", running, "DesiredTasks",
                     desired, "CompletedTasks", completed);
}

/* The mode's name in the `mode` filter. */
static const char *service_mode_name(const struct service *s)
{
    if (service_is_job(s))
        return service_is_global(s) ? "global-job" : "replicated-job";
    return service_is_global(s) ? "global" : "replicated";
}

static void list_services(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    static const char *const allowed[] = {"id", "label", "mode", "name", NULL};
    json_t *f = api_filters(req, allowed);
    if (!f)
        return;
    bool status = http_query_bool(req, "status");
    json_t *out = json_array();
    size_t it = 0;
    void *o;
    while (store_next(api_store(h), KIND_SERVICE, &it, &o)) {
        struct service *s = o;
        const char *mode = service_mode_name(s);
        if (!api_filter_match(f, "id", s->meta.id, true) ||
            !api_filter_match(f, "name", s->name, true) ||
            !api_filter_match(f, "mode", mode, false) ||
            !api_filter_labels(f, "label", json_object_get(s->spec, "Labels")))
            continue;
        json_t *j = service_to_json(s, false);
        if (status)
            json_object_set_new(j, "ServiceStatus", service_status(h, s));
        json_array_append_new(out, j);
    }
    json_decref(f);
    api_reply(req, 200, out);
}

static void get_service(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    struct service *s = api_find_service(h, req->params[0], &err);
    if (!s) {
        http_reply_err(req, &err);
        return;
    }
    api_reply(req, 200,
              service_to_json(s, http_query_bool(req, "insertDefaults")));
}

static void updated(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    endpoint_settle(data, err);
    struct http_request *req = api_pending_finish(data);
    if (!req)
        return;
    if (err)
        http_reply_err(req, err);
    else
        api_reply(req, 200, json_pack("{s:n}", "Warnings"));
}

static void update_service(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    uint64_t version;
    json_t *spec = NULL;
    struct service *s = api_find_service(h, req->params[0], &err);
    if (!s || api_query_version(req, &version, &err) < 0 ||
        http_body_json(req, &spec, &err) < 0) {
        json_decref(spec);
        http_reply_err(req, &err);
        return;
    }
    const char *rollback = http_query(req, "rollback");
    bool is_rollback = rollback && strcmp(rollback, "previous") == 0;
    if (is_rollback) {
        if (!s->previous_spec) {
            char msg[200];
            snprintf(msg, sizeof(msg),
                     "rpc error: code = FailedPrecondition desc = service %s "
                     "does not have a previous spec",
                     s->meta.id);
            json_decref(spec);
            http_reply_error(req, 400, msg);
            return;
        }
        json_decref(spec);
        spec = jx_copy(s->previous_spec);
    }
    if (controlapi_service_spec(spec, &err) < 0 ||
        resolve_networks(h, spec, &err) < 0 ||
        resolve_secrets(h, spec, &err) < 0) {
        json_decref(spec);
        http_reply_err(req, &err);
        return;
    }
    keep_registry_auth(req, spec, s);
    struct api_pending *p = api_pending_new(req, h);
    snprintf(p->id, sizeof(p->id), "%s", s->meta.id);
    json_t *ep = endpoint_for(h, p, spec, &err);
    if (!ep) {
        json_decref(spec);
        api_pending_finish(p);
        http_reply_err(req, &err);
        return;
    }
    struct txn txn;
    txn_init(&txn);
    txn_service_update(&txn, s->meta.id, version, spec, is_rollback, ep);
    json_decref(spec);
    json_decref(ep);
    api_propose(p, &txn, updated);
}

static void delete_service(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    struct service *s = api_find_service(h, req->params[0], &err);
    if (!s) {
        http_reply_err(req, &err);
        return;
    }
    struct txn txn;
    txn_init(&txn);
    txn_service_delete(&txn, s->meta.id);
    api_propose(api_pending_new(req, h), &txn, api_commit_empty);
}

static const struct http_route routes[] = {
    {"POST", "/services/create", create_service},
    {"GET", "/services", list_services},
    {"GET", "/services/{id}", get_service},
    {"POST", "/services/{id}/update", update_service},
    {"DELETE", "/services/{id}", delete_service},
};

void api_services_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
