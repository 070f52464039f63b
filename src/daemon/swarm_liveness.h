// SPDX-License-Identifier: Apache-2.0
// The leader's watch over node liveness: when it last heard from each node
// (a heartbeat, a new worker session), a node silent for three heartbeat
// periods marked down and one heard again marked ready. The table exists
// only while this node leads (d->liveness); its writes go up through
// d->hooks->propose_txn.
#pragma once

#include <stdint.h>

#include "daemon/daemon.h"

/* The cluster's heartbeat period in ms (Dispatcher.HeartbeatPeriod). */
int64_t swarm_heartbeat_ms(const struct daemon *d);

/* This node leads from now on: every node is timed afresh from the moment
 * it is first seen (as swarmkit times a new session). */
void swarm_liveness_start(struct daemon *d);
/* Not leading (or the cluster port stops): the table goes. */
void swarm_liveness_stop(struct daemon *d);
/* The leader heard from node_id: a node that was not ready is again.
 * Ignored unless this node leads. */
void swarm_liveness_heard(struct daemon *d, const char *node_id);
/* The leader's periodic look: nodes not heard from for the grace period
 * are marked down (the orchestrator then replaces their tasks). */
void swarm_liveness_sweep(struct daemon *d);
