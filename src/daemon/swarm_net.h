// SPDX-License-Identifier: Apache-2.0
// This node's part in the cluster network: the cluster port's server and
// the methods other nodes call (join, session, renew, leave, propose,
// heartbeat), raft's connections to other managers, forwarding writes
// from a follower to the leader, heartbeats to the leader (the leader's
// own watch is swarm_liveness.c, driven by this file's timer) and the
// renewal of this node's certificate (its files: swarm_identity.c). Used
// by swarm.c and swarm_role.c; calls down into dispatch.c and the helpers
// under it, and up only through d->hooks.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "cluster/pki.h"
#include "cluster/rpc.h"
#include "daemon/daemon.h"
#include "raft/raftnode.h"

/* The raft id of a node: derived from its id, so every manager computes
 * the same one without storing it. */
uint64_t swarm_raft_id(const char *node_id);

/* After each applied entry: renews at once when the cluster's root CA
 * (or the trusted set, during a rotation) is not what this node holds. */
void swarm_net_sync_ca(struct daemon *d);

/* Loads the identity and starts the cluster port on d->listen_addr. */
int swarm_net_start(struct daemon *d, struct err *err);
/* Stops the port, the leader connection and the heartbeat timers. */
void swarm_net_stop(struct daemon *d);

/* How raft reaches other managers. */
const struct raftnode_dialer *swarm_net_dialer(struct daemon *d);
/* An entry was applied to the store (raft's, or a worker's mirror): wakes
 * forwarded writes waiting to see it; the leader passes it on to the
 * workers' sessions. */
void swarm_net_applied(struct daemon *d, uint64_t index, const void *entry,
                       size_t len);
/* Leadership changed: the leader watches heartbeats; others send them. */
void swarm_net_leadership(struct daemon *d, bool is_leader);

/* Sends an encoded transaction to the leader; cb once it is committed
 * and applied here (or with the leader's error / a 503). */
int swarm_net_forward(struct daemon *d, const char *txn, size_t len,
                      raftnode_apply_fn cb, void *data, struct err *err);

/* Calls a method on the leader (a manager's leader connection, a
 * worker's session); params stolen. */
int swarm_net_call_leader(struct daemon *d, const char *method, json_t *params,
                          unsigned timeout_ms, rpc_result_fn cb, void *data,
                          struct err *err);
