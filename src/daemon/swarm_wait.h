// SPDX-License-Identifier: Apache-2.0
// Callers waiting for this node's store to apply a raft index: a write
// forwarded to the leader (by a follower or over a worker's session) is
// answered only once its entry has reached the store here too. The list
// hangs off struct daemon; swarm_net.c wakes it after each entry and
// fails it when the cluster port stops.
#pragma once

#include <stdint.h>

#include "base/err.h"
#include "daemon/daemon.h"
#include "raft/raftnode.h"

/* cb once the store has applied index (at once if it has, or if the
 * cluster port is not running: nothing would wake it then). */
void swarm_wait_index(struct daemon *d, uint64_t index, raftnode_apply_fn cb,
                      void *data);
/* The store applied index: the callers waiting for it or an earlier one
 * get their answer. */
void swarm_wait_applied(struct daemon *d, uint64_t index);
/* Answers every waiter with err (the cluster port stops). */
void swarm_wait_cancel_all(struct daemon *d, const struct err *err);
