// SPDX-License-Identifier: Apache-2.0
// What a node remembers of its swarm across restarts: its ids, role, the
// managers it joined through and its cluster addresses, in
// <swarm dir>/state.json (the cluster state itself is in raft or, on a
// worker, comes from the leader). Also how the addresses of an init or
// join request become the node's.
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/err.h"
#include "daemon/daemon.h"

/* Records the node's identity and addresses in <swarm dir>/state.json. */
int swarm_save_state(struct daemon *d, struct err *err);
/* Reads state.json back into d; *found is false (and d untouched) when
 * this node has no swarm. */
int swarm_load_state(struct daemon *d, bool *found, struct err *err);
/* Parses ListenAddr / AdvertiseAddr of an init or join request (or of
 * state.json) into d. */
int swarm_set_addresses(struct daemon *d, const json_t *request,
                        struct err *err);
