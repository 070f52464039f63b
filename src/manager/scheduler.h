// SPDX-License-Identifier: Apache-2.0
// The scheduler's placement decisions, pure over a view of the nodes: the
// filter pipeline (ready, availability, constraints, resources) and then
// spread (fewest tasks of the service, then fewest tasks overall), and
// swarmkit's host-port filter (a node binds a host-mode port once). A task
// that fits nowhere gets swarmkit's explanation ("no suitable node (...)").
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hmap.h"
#include "store/store.h"

struct sched_node {
    const struct node *node;
    int64_t cpu_total, mem_total;       /* from the node's description */
    int64_t cpu_reserved, mem_reserved; /* by its unfinished tasks */
    size_t tasks;                       /* unfinished tasks on it */
    struct hmap per_service;            /* service id -> count (uintptr) */
    struct vec service_keys;            /* owned keys of per_service */
    struct hmap host_ports; /* "proto/port" of host-mode ports bound by its
                               unfinished tasks (keys in host_port_keys) */
    struct vec host_port_keys;
    bool ready; /* ready and active */
};

struct sched_heap;

struct scheduler {
    const struct store *store; /* services' endpoints (host-mode ports) */
    struct sched_node *nodes;
    size_t n;
    /* Per service (and task spec) placed in this pass: the nodes that pass
     * its filters in a min-heap by spread order, so that placing the next
     * of 100,000 tasks costs O(log nodes), not a walk over every node. */
    struct hmap heaps;
    struct vec heap_list; /* owned */
};

/* Builds the view from the store (nodes and their unfinished tasks). */
void sched_init(struct scheduler *sc, const struct store *s);
void sched_fini(struct scheduler *sc);

/* Chooses a node for the task and accounts for it in the view. Returns the
 * node id (borrowed), or NULL with reason set ("no suitable node (...)"). */
const char *sched_place(struct scheduler *sc, const struct task *t,
                        char *reason, size_t reason_size);
