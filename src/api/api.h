// SPDX-License-Identifier: Apache-2.0
// The Docker Engine API routes shoald serves, one file per resource
// (system, swarm, nodes, services, tasks, images, containers), and the
// narrow interface through which they reach the node: the daemon fills a
// struct api_host at start (as libuv hands callbacks down) and the API
// never includes the daemon's headers.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "api/http.h"
#include "base/err.h"
#include "raft/raftnode.h"
#include "store/store.h"
#include "store/txn.h"

struct runtime;
struct image_store;
struct volume_store;
struct registry;
struct events;
struct allocator;

/* Where this node stands in a swarm, as GET /info reports it. */
enum api_swarm_state {
    API_SWARM_INACTIVE,
    API_SWARM_PENDING, /* init / join / reopen in progress */
    API_SWARM_ACTIVE,
    API_SWARM_LOCKED, /* autolocked: waits for swarm unlock */
};

/* Completion of a swarm init / join / leave: err NULL on success. */
typedef void (*api_done_fn)(void *data, const struct err *err);

/* What the node does for the API. Every function gets host->self. State
 * that comes and goes with the swarm (the store, the node ID, the
 * manager's allocator) is read through these at each use, never kept. */
struct api_host_ops {
    /* The swarm's store, NULL when this node is in none. */
    struct store *(*store)(void *self);
    /* This node's ID in the swarm ("" when in none). */
    const char *(*node_id)(void *self);
    enum api_swarm_state (*local_state)(void *self);
    /* The network allocator of this manager (NULL on a worker). */
    struct allocator *(*allocator)(void *self);
    /* True when an image is used by a container of a task this node runs
     * (its ID into container_id, as image_in_use_fn). */
    bool (*image_in_use)(void *self, const char *image_id,
                         char container_id[65]);

    /* 0 when manager requests can be served here; otherwise -1 with
     * Docker's message ("not a swarm manager", "not part of a swarm"). */
    int (*require_manager)(void *self, struct err *err);
    /* True when this node is an active manager with a ready leader. */
    bool (*is_manager)(void *self);
    /* Proposes txn (copied) to the cluster, forwarded to the leader by a
     * follower; cb(data, NULL, index) once committed and applied here. */
    int (*propose)(void *self, const struct txn *txn, raftnode_apply_fn cb,
                   void *data, struct err *err);

    /* swarm init / join (request: the API's SwarmInitRequest /
     * SwarmJoinRequest), leave, unlock. */
    int (*swarm_init)(void *self, const json_t *request, api_done_fn cb,
                      void *data, struct err *err);
    int (*swarm_join)(void *self, const json_t *request, api_done_fn cb,
                      void *data, struct err *err);
    int (*swarm_leave)(void *self, bool force, api_done_fn cb, void *data,
                       struct err *err);
    int (*swarm_unlock)(void *self, const char *key, struct err *err);
    /* swarm ca --rotate: a new root CA into the cluster's internal state. */
    int (*rotate_ca)(json_t *internal, struct err *err);
};

/* The node as the API sees it. The fixed parts are plain fields. */
struct api_host {
    const struct api_host_ops *ops;
    void *self;
    uv_loop_t *loop;
    const char *data_root;
    const char *hostname;
    struct runtime *runtime;
    struct image_store *images;
    struct registry *registry; /* pull, push, login (registry/registry.h) */
    struct events *events;
    struct volume_store *volumes; /* the node's volumes (volume/volume.h) */
};

/* Registers every route on server s, whose handlers reach the node
 * through host (which must outlive s); spool_dir receives large
 * uploads. */
void api_register(struct http_server *s, struct api_host *host,
                  const char *spool_dir);

/* Shorthands for the host's changing state. */
static inline struct store *api_store(const struct api_host *h)
{
    return h->ops->store(h->self);
}
static inline const char *api_node_id(const struct api_host *h)
{
    return h->ops->node_id(h->self);
}
static inline enum api_swarm_state api_swarm_state(const struct api_host *h)
{
    return h->ops->local_state(h->self);
}
