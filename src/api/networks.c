// SPDX-License-Identifier: Apache-2.0
// /networks: create, list, inspect, delete of swarm overlay networks, in
// the Docker API's network resource shape. A delete waits for the tasks
// still attached (of services just removed) to go before it answers.
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/events.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "manager/allocator.h"
#include "manager/controlapi.h"

/* The resource `docker network ls / inspect` shows. containers: the
 * node's attached containers (NULL = JSON null). */
static json_t *network_resource(const struct network *n, json_t *containers)
{
    char created[TIME_STRLEN], vni[16];
    time_fmt_rfc3339(n->meta.created_at, created);
    snprintf(vni, sizeof(vni), "%u", n->vni);
    json_t *labels = json_object_get(n->spec, "Labels");
    json_t *opts = jx_copy(jx_path(n->spec, "DriverConfiguration.Options"));
    if (!json_is_object(opts)) {
        json_decref(opts);
        opts = json_object();
    }
    json_object_set_new(opts, "com.docker.network.driver.overlay.vxlanid_list",
                        json_string(vni));
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:n, s:[{s:s, s:s}]}, s:b, "
        "s:b, s:b, s:{s:s}, s:b, s:o, s:o, s:o}",
        "Name", n->name, "Id", n->meta.id, "Created", created, "Scope", "swarm",
        "Driver", "overlay", "EnableIPv6", 0, "IPAM", "Driver", "default",
        "Options", "Config", "Subnet", n->subnet, "Gateway", n->gateway,
        "Internal", jx_bool(n->spec, "Internal", false), "Attachable",
        jx_bool(n->spec, "Attachable", false), "Ingress", n->ingress,
        "ConfigFrom", "Network", "", "ConfigOnly", 0, "Containers",
        containers ? containers : json_null(), "Options", opts, "Labels",
        json_object_size(labels) ? jx_copy(labels) : json_null());
}

/* Full id, name, then unique id prefix. */
static struct network *find_network(struct api_host *h, const char *ref,
                                    struct err *err)
{
    struct network *n = store_network(api_store(h), ref);
    if (!n)
        n = store_network_by_name(api_store(h), ref);
    if (n)
        return n;
    size_t it = 0, matches = 0, len = strlen(ref);
    void *o;
    while (len && store_next(api_store(h), KIND_NETWORK, &it, &o)) {
        if (strncmp(((struct network *)o)->meta.id, ref, len) == 0) {
            n = o;
            matches++;
        }
    }
    if (matches == 1)
        return n;
    if (matches > 1)
        err_set(err, ERR_INVALID, "network %s is ambiguous (%zu matches found)",
                ref, matches);
    else
        err_set(err, ERR_NOTFOUND, "network %s not found", ref);
    return NULL;
}

/* This node's containers on network n: {id: {Name, EndpointID,
 * MacAddress, IPv4Address, IPv6Address}}. */
static json_t *attached_containers(struct api_host *h, const struct network *n)
{
    json_t *out = json_object();
    const struct vec *mine = store_node_tasks(api_store(h), api_node_id(h));
    for (size_t i = 0; mine && i < mine->len; i++) {
        const struct task *t = mine->items[i];
        if (!t->container_id[0] || task_state_is_terminal(t->state))
            continue;
        size_t k;
        json_t *att;
        json_array_foreach(t->networks, k, att)
        {
            if (strcmp(jx_str0(jx_path(att, "Network"), "ID"), n->meta.id))
                continue;
            const char *addr =
                json_string_value(json_array_get(jx_path(att, "Addresses"), 0));
            char name[300];
            api_task_name(h, t, name, sizeof(name));
            char full[340];
            snprintf(full, sizeof(full), "%s.%s", name, t->meta.id);
            json_object_set_new(out, t->container_id,
                                json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name",
                                          full, "EndpointID", t->meta.id,
                                          "MacAddress", "", "IPv4Address",
                                          addr ? addr : "", "IPv6Address", ""));
        }
    }
    return out;
}

static void created(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    struct api_pending *p = data;
    struct api_host *h = p->h;
    struct network *n = p->user;
    char id[ID_LEN + 1];
    memcpy(id, p->id, sizeof(id));
    struct http_request *req = api_pending_finish(p);
    struct allocator *a = h->ops->allocator(h->self);
    if (err && a)
        allocator_network_unreserve(a, n);
    network_free(n);
    if (!req)
        return;
    if (err)
        http_reply_err(req, err);
    else
        api_reply(req, 201, json_pack("{s:s, s:s}", "Id", id, "Warning", ""));
}

/* The request's NetworkCreate body as a swarm NetworkSpec. */
static json_t *network_spec(const json_t *body, struct err *err)
{
    const char *name = jx_str(body, "Name");
    const char *driver = jx_str(body, "Driver");
    const char *scope = jx_str(body, "Scope");
    if (!name || !*name)
        return err_set(err, ERR_INVALID, "network name must not be empty"),
               NULL;
    if (controlapi_check_name(name, err) < 0)
        return NULL;
    if (driver && *driver && strcmp(driver, "overlay") != 0)
        return err_set(err, ERR_INVALID,
                       "rpc error: code = InvalidArgument desc = network "
                       "driver \"%s\" is not supported: swarm networks are "
                       "overlay networks",
                       driver),
               NULL;
    if (scope && *scope && strcmp(scope, "swarm") != 0)
        return err_set(err, ERR_INVALID,
                       "network scope \"%s\" is not supported: use swarm",
                       scope),
               NULL;
    if (jx_bool(body, "EnableIPv6", false))
        return err_set(err, ERR_INVALID, "IPv6 networks are not supported"),
               NULL;
    json_t *configs = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(jx_path(body, "IPAM.Config"), i, c)
    {
        if (i > 0) {
            json_decref(configs);
            return err_set(err, ERR_INVALID,
                           "only one IPAM config per network is supported"),
                   NULL;
        }
        json_t *cfg = json_object();
        if (jx_str(c, "Subnet"))
            json_object_set(cfg, "Subnet", json_object_get(c, "Subnet"));
        if (jx_str(c, "Gateway"))
            json_object_set(cfg, "Gateway", json_object_get(c, "Gateway"));
        json_array_append_new(configs, cfg);
    }
    json_t *labels = json_object_get(body, "Labels");
    json_t *opts = json_object_get(body, "Options");
    json_t *spec = json_pack(
        "{s:s, s:o, s:{s:s, s:o}, s:b, s:b, s:b, s:{s:{s:s}, s:o}, s:s}",
        "Name", name, "Labels",
        json_is_object(labels) ? jx_copy(labels) : json_object(),
        "DriverConfiguration", "Name", "overlay", "Options",
        json_is_object(opts) ? jx_copy(opts) : json_object(), "Internal",
        jx_bool(body, "Internal", false), "Attachable",
        jx_bool(body, "Attachable", false), "Ingress",
        jx_bool(body, "Ingress", false), "IPAMOptions", "Driver", "Name",
        "default", "Configs", configs, "Scope", "swarm");
    return spec;
}

static void create_network(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    json_t *body = NULL;
    if (http_body_json(req, &body, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    json_t *spec = json_is_object(body) ? network_spec(body, &err) : NULL;
    if (!json_is_object(body))
        err_set(&err, ERR_INVALID, "the body must be a JSON object");
    json_decref(body);
    if (!spec) {
        http_reply_err(req, &err);
        return;
    }
    struct network *n = network_new();
    id_new(n->meta.id);
    n->spec = spec;
    n->name = jx_str(spec, "Name");
    n->ingress = jx_bool(spec, "Ingress", false);
    if (store_network_by_name(api_store(h), n->name)) {
        err_set(&err, ERR_CONFLICT, "network with name %s already exists",
                n->name);
    } else if (n->ingress) {
        size_t it = 0;
        void *o;
        while (store_next(api_store(h), KIND_NETWORK, &it, &o))
            if (((struct network *)o)->ingress)
                err_set(&err, ERR_CONFLICT,
                        "rpc error: code = AlreadyExists desc = ingress "
                        "network (%s) is already present",
                        ((struct network *)o)->meta.id);
    }
    struct allocator *a = h->ops->allocator(h->self);
    if (!err_is_set(&err) && a)
        allocator_network(a, api_store(h), n, &err);
    if (err_is_set(&err)) {
        network_free(n);
        http_reply_err(req, &err);
        return;
    }
    struct txn txn;
    txn_init(&txn);
    txn_network_create(&txn, n);
    struct api_pending *p = api_pending_new(req, h);
    snprintf(p->id, sizeof(p->id), "%s", n->meta.id);
    p->user = n; /* freed by created() */
    api_propose(p, &txn, created);
}

static void list_networks(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    static const char *const allowed[] = {"id",    "name", "driver",   "label",
                                          "scope", "type", "dangling", NULL};
    json_t *f = api_filters(req, allowed);
    if (!f)
        return;
    json_t *out = json_array();
    size_t it = 0;
    void *o;
    while (store_next(api_store(h), KIND_NETWORK, &it, &o)) {
        struct network *n = o;
        if (!api_filter_match(f, "id", n->meta.id, true) ||
            !api_filter_match(f, "name", n->name, true) ||
            !api_filter_match(f, "driver", "overlay", false) ||
            !api_filter_match(f, "scope", "swarm", false) ||
            !api_filter_match(f, "type", "custom", false) ||
            !api_filter_labels(f, "label", json_object_get(n->spec, "Labels")))
            continue;
        json_array_append_new(out, network_resource(n, NULL));
    }
    json_decref(f);
    api_reply(req, 200, out);
}

static void get_network(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    struct network *n = find_network(h, req->params[0], &err);
    if (!n) {
        http_reply_err(req, &err);
        return;
    }
    api_reply(req, 200, network_resource(n, attached_containers(h, n)));
}

/* Docker's "in use" check: services on it, or tasks still attached. */
static const char *user_of(struct api_host *h, const struct network *n)
{
    size_t it = 0;
    void *o;
    while (store_next(api_store(h), KIND_SERVICE, &it, &o)) {
        struct service *s = o;
        json_t *nets = allocator_service_networks(api_store(h), s);
        size_t i;
        json_t *id;
        bool uses = false;
        json_array_foreach(nets, i, id)
        {
            uses |= strcmp(json_string_value(id), n->meta.id) == 0;
        }
        json_decref(nets);
        if (uses)
            return s->name;
    }
    return NULL;
}

/* A task (of a removed service, stopping) still attached to n, unless
 * its node is down (it may never report; swarm deletes its tasks later). */
static const struct task *attached_task(struct api_host *h,
                                        const struct network *n)
{
    struct store *s = api_store(h);
    size_t it = 0;
    void *o;
    while (store_next(s, KIND_TASK, &it, &o)) {
        const struct task *t = o;
        const struct node *node =
            t->node_id[0] ? store_node(s, t->node_id) : NULL;
        if (node && node->state == NODE_DOWN)
            continue;
        size_t k;
        json_t *att;
        json_array_foreach(t->networks, k, att)
        {
            if (!strcmp(jx_str0(jx_path(att, "Network"), "ID"), n->meta.id))
                return t;
        }
    }
    return NULL;
}

/* How long a DELETE waits for the tasks still on the network to go (their
 * services are gone; they are being stopped). */
#define NETWORK_RM_WAIT_MS 60000
#define NETWORK_RM_POLL_MS 50

/* A DELETE waiting for the network's last tasks, so that it answers only
 * once the network is really gone: `stack rm` followed at once by `stack
 * deploy` then creates the networks afresh instead of finding the old
 * ones (dockerd's race in the trace), and no new network can meet the old
 * tasks' addresses. */
struct network_rm {
    uv_timer_t timer;
    struct api_pending *p;
    char id[ID_LEN + 1];
    int64_t deadline;
};

static void network_rm_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void network_rm_finish(struct network_rm *w, int status, const char *msg)
{
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, network_rm_closed);
    struct http_request *req = api_pending_finish(w->p);
    if (req)
        http_reply_error(req, status, msg);
}

/* The checks of a network delete: 0 to go on (*task set if a task still
 * holds the network), or -1 with msg when a service uses it. */
static int network_rm_check(struct api_host *h, const struct network *n,
                            const struct task **task, char *msg, size_t size)
{
    const char *user = user_of(h, n);
    if (user) {
        snprintf(msg, size,
                 "rpc error: code = FailedPrecondition desc = network %s is "
                 "in use by service %s",
                 n->meta.id, user);
        return -1;
    }
    *task = attached_task(h, n);
    return 0;
}

static void network_rm_tick(uv_timer_t *t)
{
    struct network_rm *w = t->data;
    struct api_host *h = w->p->h;
    char msg[300];
    if (!api_store(h)) {
        network_rm_finish(w, 503, "this node is not part of a swarm");
        return;
    }
    struct network *n = store_network(api_store(h), w->id);
    if (!n) {
        snprintf(msg, sizeof(msg), "network %s not found", w->id);
        network_rm_finish(w, 404, msg);
        return;
    }
    const struct task *task = NULL;
    if (network_rm_check(h, n, &task, msg, sizeof(msg)) < 0) {
        network_rm_finish(w, 409, msg);
        return;
    }
    if (task && time_mono_ms() < w->deadline)
        return;
    if (task) {
        snprintf(msg, sizeof(msg),
                 "rpc error: code = FailedPrecondition desc = network %s is "
                 "in use by task %s",
                 n->meta.id, task->meta.id);
        network_rm_finish(w, 409, msg);
        return;
    }
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, network_rm_closed);
    struct txn txn;
    txn_init(&txn);
    txn_network_delete(&txn, n->meta.id);
    api_propose(w->p, &txn, api_commit_no_content);
}

static void delete_network(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    struct network *n = find_network(h, req->params[0], &err);
    if (!n) {
        http_reply_err(req, &err);
        return;
    }
    char msg[300];
    const struct task *task = NULL;
    if (network_rm_check(h, n, &task, msg, sizeof(msg)) < 0) {
        http_reply_error(req, 409, msg);
        return;
    }
    if (task) {
        struct network_rm *w = xcalloc(1, sizeof(*w));
        w->p = api_pending_new(req, h);
        snprintf(w->id, sizeof(w->id), "%s", n->meta.id);
        w->deadline = time_mono_ms() + NETWORK_RM_WAIT_MS;
        uv_timer_init(h->loop, &w->timer);
        w->timer.data = w;
        uv_timer_start(&w->timer, network_rm_tick, NETWORK_RM_POLL_MS,
                       NETWORK_RM_POLL_MS);
        uv_unref((uv_handle_t *)&w->timer); /* never holds shoald up */
        return;
    }
    struct txn txn;
    txn_init(&txn);
    txn_network_delete(&txn, n->meta.id);
    api_propose(api_pending_new(req, h), &txn, api_commit_no_content);
}

/* Docker's prune "until": a timestamp, or a duration before now ("24h"). */
static int prune_until(const json_t *filters, int64_t *until, struct err *err)
{
    *until = 0;
    const json_t *v = json_object_get(filters, "until");
    if (json_array_size(v) > 1)
        return err_set(err, ERR_INVALID,
                       "more than one until filter specified");
    const char *s = json_string_value(json_array_get(v, 0));
    if (!s)
        return 0;
    int64_t ago;
    if (duration_parse(s, &ago) == 0) {
        *until = time_now_ns() - ago;
        return 0;
    }
    return event_parse_time(s, until, err) < 0 ? -1 : 0;
}

static void prune_committed(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    struct api_pending *p = data;
    json_t *names = p->user;
    struct http_request *req = api_pending_finish(p);
    if (!req) {
        json_decref(names);
        return;
    }
    if (err) {
        json_decref(names);
        http_reply_err(req, err);
        return;
    }
    api_reply(req, 200, json_pack("{s:o}", "NetworksDeleted", names));
}

/* POST /networks/prune: every network no service uses, but never ingress
 * (Docker's "label", "label!" and "until" filters); one transaction. */
static void prune_networks(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    static const char *const allowed[] = {"until", "label", "label!", NULL};
    json_t *f = api_filters(req, allowed);
    if (!f)
        return;
    struct err err = {0};
    int64_t until;
    if (prune_until(f, &until, &err) < 0) {
        json_decref(f);
        http_reply_err(req, &err);
        return;
    }
    json_t *names = json_array();
    struct txn txn;
    txn_init(&txn);
    size_t it = 0;
    void *o;
    while (store_next(api_store(h), KIND_NETWORK, &it, &o)) {
        struct network *n = o;
        const json_t *labels = json_object_get(n->spec, "Labels");
        if (n->ingress || user_of(h, n) ||
            (until && n->meta.created_at > until) ||
            !api_filter_labels(f, "label", labels) ||
            (api_filter_has(f, "label!") &&
             api_filter_labels(f, "label!", labels)))
            continue;
        txn_network_delete(&txn, n->meta.id);
        json_array_append_new(names, json_string(n->name));
    }
    json_decref(f);
    if (json_array_size(names) == 0) {
        txn_fini(&txn);
        json_decref(names);
        api_reply(req, 200, json_pack("{s:n}", "NetworksDeleted"));
        return;
    }
    struct api_pending *p = api_pending_new(req, h);
    p->user = names; /* the reply's, or freed by prune_committed */
    api_propose(p, &txn, prune_committed);
}

static const struct http_route routes[] = {
    {"POST", "/networks/prune", prune_networks},
    {"POST", "/networks/create", create_network},
    {"GET", "/networks", list_networks},
    {"GET", "/networks/{id}", get_network},
    {"DELETE", "/networks/{id}", delete_network},
};

void api_networks_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
