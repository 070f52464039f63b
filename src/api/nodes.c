// SPDX-License-Identifier: Apache-2.0
// /nodes: list, inspect, update, remove.
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/mem.h"
#include "manager/controlapi.h"

static bool node_matches(const struct node *n, const json_t *f)
{
    const char *hostname = jx_str(n->description, "Hostname");
    const char *name = jx_str(n->spec, "Name");
    const char *role = jx_str(n->spec, "Role");
    return api_filter_match(f, "id", n->meta.id, true) &&
           (api_filter_match(f, "name", hostname, true) ||
            (name && api_filter_match(f, "name", name, true))) &&
           api_filter_match(f, "role", role, false) &&
           api_filter_match(f, "membership", "accepted", false) &&
           api_filter_labels(f, "node.label",
                             json_object_get(n->spec, "Labels")) &&
           api_filter_labels(f, "label",
                             jx_path(n->description, "Engine.Labels"));
}

static void list_nodes(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    static const char *const allowed[] = {
        "id", "label", "membership", "name", "role", "node.label", NULL};
    json_t *f = api_filters(req, allowed);
    if (!f)
        return;
    json_t *out = json_array();
    size_t it = 0;
    void *o;
    while (store_next(api_store(h), KIND_NODE, &it, &o))
        if (node_matches(o, f))
            json_array_append_new(out, node_to_json(o));
    json_decref(f);
    api_reply(req, 200, out);
}

static void get_node(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    struct node *n = api_find_node(h, req->params[0], &err);
    if (!n) {
        http_reply_err(req, &err);
        return;
    }
    api_reply(req, 200, node_to_json(n));
}

static void update_node(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    uint64_t version;
    json_t *spec = NULL;
    struct node *n = api_find_node(h, req->params[0], &err);
    if (!n || api_query_version(req, &version, &err) < 0 ||
        http_body_json(req, &spec, &err) < 0 ||
        controlapi_node_spec(spec, &err) < 0) {
        json_decref(spec);
        http_reply_err(req, &err);
        return;
    }
    const char *role = jx_str(spec, "Role");
    if (role && strcmp(role, "worker") == 0 && n->manager) {
        size_t managers = 0, it = 0;
        void *o;
        while (store_next(api_store(h), KIND_NODE, &it, &o))
            managers += ((struct node *)o)->manager;
        const char *why = NULL;
        if (managers <= 1)
            why = "attempting to demote the last manager of the swarm";
        if (why) {
            json_decref(spec);
            char msg[256];
            snprintf(msg, sizeof(msg),
                     "rpc error: code = FailedPrecondition desc = %s", why);
            http_reply_error(req, 400, msg);
            return;
        }
    }
    struct txn txn;
    txn_init(&txn);
    txn_node_spec(&txn, n->meta.id, version, spec);
    json_decref(spec);
    api_propose(api_pending_new(req, h), &txn, api_commit_empty);
}

static void delete_node(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    struct node *n = api_find_node(h, req->params[0], &err);
    if (!n) {
        http_reply_err(req, &err);
        return;
    }
    if (n->manager) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "rpc error: code = FailedPrecondition desc = node %s is a "
                 "cluster manager and is a member of the raft cluster. It "
                 "must be demoted to worker before removal",
                 n->meta.id);
        http_reply_error(req, 400, msg);
        return;
    }
    if (n->state != NODE_DOWN && !http_query_bool(req, "force")) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "rpc error: code = FailedPrecondition desc = node %s is not "
                 "down and can't be removed",
                 n->meta.id);
        http_reply_error(req, 400, msg);
        return;
    }
    struct txn txn;
    txn_init(&txn);
    txn_node_delete(&txn, n->meta.id);
    api_propose(api_pending_new(req, h), &txn, api_commit_empty);
}

static const struct http_route routes[] = {
    {"GET", "/nodes", list_nodes},
    {"GET", "/nodes/{id}", get_node},
    {"POST", "/nodes/{id}/update", update_node},
    {"DELETE", "/nodes/{id}", delete_node},
};

void api_nodes_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
