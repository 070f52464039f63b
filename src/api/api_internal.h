// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the API's resource files: replies with owned JSON,
// Docker's filter semantics, object lookup by id / name / prefix, and the
// per-file route tables.
#pragma once

#include <stdbool.h>

#include "api/api.h"
#include "api/http.h"
#include "base/jsonx.h"
#include "base/version.h"
#include "runtime/container.h"
#include "runtime/image.h"

/* Replies with an owned JSON value (released after queueing). */
void api_reply(struct http_request *req, int status, json_t *owned);
/* Answers 503 (Docker's words) unless this node can serve manager calls. */
bool api_require_manager(struct http_request *req, struct api_host *h);

/* Filters, as parsed by http_query_filters ({"key": ["v", ...]}). */
bool api_filter_has(const json_t *filters, const char *key);
/* True if key is absent, or value equals (or, with prefix, starts with)
 * one of its values. */
bool api_filter_match(const json_t *filters, const char *key, const char *value,
                      bool prefix);
/* Docker's "label" filter: every "k" / "k=v" entry must match labels. */
bool api_filter_labels(const json_t *filters, const char *key,
                       const json_t *labels);
/* Parses ?filters= and rejects keys not in allowed (NULL-terminated) with
 * 400 "invalid filter 'x'". On error it answers the request and returns
 * NULL; otherwise the filters (owned). */
json_t *api_filters(struct http_request *req, const char *const *allowed);

/* Lookups the way the Docker API resolves references: full id, then name
 * (hostname for nodes), then unique id prefix. NULL + 404 error. */
struct service *api_find_service(struct api_host *h, const char *ref,
                                 struct err *err);
struct node *api_find_node(struct api_host *h, const char *ref,
                           struct err *err);
struct task *api_find_task(struct api_host *h, const char *ref,
                           struct err *err);
/* "svc.slot" / "svc.nodeid" task name as shown by the CLI. */
void api_task_name(struct api_host *h, const struct task *t, char *out,
                   size_t size);
/* Parses ?version=N for updates: 400 if missing or invalid. */
int api_query_version(struct http_request *req, uint64_t *out, struct err *err);

/* A request waiting for something asynchronous (a raft commit, an image
 * load): req goes NULL if the client leaves first. */
struct api_pending {
    struct http_request *req;
    struct api_host *h;
    char id[ID_LEN + 1]; /* for replies that name a new object */
    void *user;          /* for the handler (it frees what it puts here) */
};
struct api_pending *api_pending_new(struct http_request *req,
                                    struct api_host *h);
/* Frees p; returns its request (NULL if the client left). */
struct http_request *api_pending_finish(struct api_pending *p);
/* Proposes txn (consumed). cb(p, err, index) runs once: when the entry is
 * applied, or at once with the error if it could not be proposed. */
void api_propose(struct api_pending *p, struct txn *txn, raftnode_apply_fn cb);
/* raftnode_apply_fn answering 200 with no body, or the error. */
void api_commit_empty(void *pending, const struct err *err, uint64_t index);
/* The same answering 204 (DELETE of networks, secrets, configs). */
void api_commit_no_content(void *pending, const struct err *err,
                           uint64_t index);

/* Route tables of each resource file. */
void api_system_routes(struct http_server *s);
void api_system_df_routes(struct http_server *s);
void api_swarm_routes(struct http_server *s);
void api_nodes_routes(struct http_server *s);
void api_services_routes(struct http_server *s);
void api_tasks_routes(struct http_server *s);
void api_logs_routes(struct http_server *s);
void api_images_routes(struct http_server *s);
void api_images_registry_routes(struct http_server *s);
/* POST /images/create?fromImage=...: a registry pull
 * (images_registry.c). */
void api_image_pull(struct http_request *req, struct api_host *h);
void api_containers_routes(struct http_server *s);
void api_networks_routes(struct http_server *s);
void api_secrets_routes(struct http_server *s);
void api_events_routes(struct http_server *s);
void api_build_routes(struct http_server *s);
void api_volumes_routes(struct http_server *s);
