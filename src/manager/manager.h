// SPDX-License-Identifier: Apache-2.0
// The leader's controllers: watches the store, and on each pass runs the
// orchestrator for services that changed, moves new tasks to pending
// (allocation), places pending tasks (scheduler), and commits everything
// as one transaction. Runs only while this manager is the ready leader,
// and starts from the store each time it (re)gains leadership.
#pragma once

#include <stdbool.h>
#include <uv.h>

#include "raft/raftnode.h"
#include "store/store.h"

struct manager;

struct manager *manager_new(uv_loop_t *loop, struct store *store,
                            struct raftnode *raft);
/* Leadership gained: scan the store and start reconciling. */
void manager_start(struct manager *m);
/* Leadership lost: stop; in-flight proposals are ignored. */
void manager_stop(struct manager *m);
/* Closes handles; frees in the close callbacks, then calls cb. */
void manager_close(struct manager *m, void (*cb)(void *), void *data);
/* The network allocator while the controllers run (NULL otherwise). */
struct allocator;
struct allocator *manager_allocator(struct manager *m);
/* Passes committed so far (for tests and benchmarks). */
unsigned long manager_passes(const struct manager *m);
