// SPDX-License-Identifier: Apache-2.0
// Which other nodes' networked tasks a worker is sent: those attached to a
// network that one of its own tasks uses (service discovery, load
// balancing and the VXLAN peers of that network need them), and every
// task on an ingress network (the routing mesh runs on every node). The
// set of tasks a worker holds is tracked, so that a task it no longer
// needs is deleted from its copy and a delete is never sent for one it
// does not have. Pure: decisions over the store.
#pragma once

#include <stdbool.h>

#include "base/buf.h"
#include "base/hmap.h"
#include "store/store.h"

struct net_set {
    struct hmap nets; /* network ids its own tasks use (keys owned) */
    struct hmap held; /* ids of other nodes' tasks it was sent (owned) */
};

void net_set_init(struct net_set *ns);
void net_set_fini(struct net_set *ns);

/* The networks node_id's tasks (meant to run, not ended) are attached to,
 * and every ingress network. Returns whether the set changed. */
bool net_set_update(struct net_set *ns, const struct store *s,
                    const char *node_id);

/* Whether a task of another node belongs in this worker's copy. */
bool net_set_wants(const struct net_set *ns, const struct task *t);

bool net_set_holds(const struct net_set *ns, const char *task_id);
void net_set_hold(struct net_set *ns, const char *task_id);
void net_set_release(struct net_set *ns, const char *task_id);

/* After the set of networks changed: appends to ops (comma-separated
 * entry operations) a put of every other node's task it now wants and
 * does not hold, and a delete of every task it holds and no longer wants
 * (or that is gone), keeping `held` true. task_op renders one task's put
 * (t) or delete (t NULL) as an operation's JSON text (owned). */
typedef char *(*net_task_op_fn)(void *data, const char *id,
                                const struct task *t);
void net_set_sync(struct net_set *ns, const struct store *s,
                  const char *node_id, struct buf *ops, net_task_op_fn op,
                  void *data);
