// SPDX-License-Identifier: Apache-2.0
// A raft_uv_transport with no peers: listening succeeds and never accepts,
// connecting fails at once with RAFT_NOCONNECTION.
#include "raft/transport.h"

#include <raft.h>
#include <stdlib.h>

#include "base/mem.h"

struct local_transport {
    uv_loop_t *loop;
    raft_id id;
    const char *address;
};

static int local_init(struct raft_uv_transport *t, raft_id id,
                      const char *address)
{
    struct local_transport *lt = t->impl;
    lt->id = id;
    lt->address = address;
    return 0;
}

static int local_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    (void)t;
    (void)cb;
    return 0;
}

static int local_connect(struct raft_uv_transport *t,
                         struct raft_uv_connect *req, raft_id id,
                         const char *address, raft_uv_connect_cb cb)
{
    (void)t;
    (void)req;
    (void)id;
    (void)address;
    (void)cb;
    return RAFT_NOCONNECTION;
}

static void local_close(struct raft_uv_transport *t,
                        raft_uv_transport_close_cb cb)
{
    if (cb)
        cb(t);
}

int rafttr_init(struct raft_uv_transport *t, uv_loop_t *loop)
{
    struct local_transport *lt = xcalloc(1, sizeof(*lt));
    lt->loop = loop;
    t->impl = lt;
    t->init = local_init;
    t->listen = local_listen;
    t->connect = local_connect;
    t->close = local_close;
    return 0;
}

void rafttr_free(struct raft_uv_transport *t)
{
    free(t->impl);
    t->impl = NULL;
}
