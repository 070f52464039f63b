// SPDX-License-Identifier: Apache-2.0
// The daemon's side of the API's host interface (api/api.h): the narrow
// set of calls through which the API handlers reach the swarm, raft and
// the agent, so that src/api never includes the daemon's headers.
#include <string.h>

#include "agent/agent.h"
#include "api/api.h"
#include "daemon/daemon.h"
#include "daemon/swarm_identity.h"
#include "manager/manager.h"

static struct store *host_store(void *self)
{
    struct daemon *d = self;
    return d->store;
}

static const char *host_node_id(void *self)
{
    struct daemon *d = self;
    return d->node_id;
}

static enum api_swarm_state host_swarm_state(void *self)
{
    switch (((struct daemon *)self)->swarm) {
    case SWARM_ACTIVE:
        return API_SWARM_ACTIVE;
    case SWARM_STARTING:
        return API_SWARM_PENDING;
    case SWARM_LOCKED:
        return API_SWARM_LOCKED;
    case SWARM_INACTIVE:
    case SWARM_LEAVING:
        break;
    }
    return API_SWARM_INACTIVE;
}

static struct allocator *host_allocator(void *self)
{
    struct daemon *d = self;
    return d->manager ? manager_allocator(d->manager) : NULL;
}

static bool host_image_in_use(void *self, const char *image_id,
                              char container_id[65])
{
    struct daemon *d = self;
    return d->agent && agent_image_in_use(d->agent, image_id, container_id);
}

static int host_require_manager(void *self, struct err *err)
{
    return swarm_require_manager(self, err);
}

static bool host_is_manager(void *self)
{
    return swarm_is_manager(self);
}

static int host_propose(void *self, const struct txn *txn, raftnode_apply_fn cb,
                        void *data, struct err *err)
{
    return daemon_propose(self, txn, cb, data, err);
}

static int host_swarm_init(void *self, const json_t *request, api_done_fn cb,
                           void *data, struct err *err)
{
    return swarm_init(self, request, cb, data, err);
}

static int host_swarm_join(void *self, const json_t *request, api_done_fn cb,
                           void *data, struct err *err)
{
    return swarm_join(self, request, cb, data, err);
}

static int host_swarm_leave(void *self, bool force, api_done_fn cb, void *data,
                            struct err *err)
{
    return swarm_leave(self, force, cb, data, err);
}

static int host_swarm_unlock(void *self, const char *key, struct err *err)
{
    return swarm_unlock(self, key, err);
}

static const struct api_host_ops host_ops = {
    .store = host_store,
    .node_id = host_node_id,
    .local_state = host_swarm_state,
    .allocator = host_allocator,
    .image_in_use = host_image_in_use,
    .require_manager = host_require_manager,
    .is_manager = host_is_manager,
    .propose = host_propose,
    .swarm_init = host_swarm_init,
    .swarm_join = host_swarm_join,
    .swarm_leave = host_swarm_leave,
    .swarm_unlock = host_swarm_unlock,
    .rotate_ca = swarm_rotate_ca,
};

void daemon_api_host_init(struct daemon *d)
{
    d->api_host = (struct api_host){
        .ops = &host_ops,
        .self = d,
        .loop = d->loop,
        .data_root = d->cfg.data_root,
        .hostname = d->hostname,
        .images = d->images,
        .registry = d->registry,
    };
}
