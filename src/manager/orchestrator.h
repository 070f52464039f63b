// SPDX-License-Identifier: Apache-2.0
// The replicated-service orchestrator's decisions, as a pure function:
// given a service's spec and its tasks (and the time), the list of changes
// that moves the actual state toward the desired one. Slots 1..replicas
// (a global service: one per eligible node);
// restart policy (condition, delay, max attempts, window); rolling
// replacement of tasks made from an older spec (UpdateConfig: parallelism,
// delay, order, monitor, failure action and ratio; automatic rollback to
// the previous spec with RollbackConfig); scale-down from the
// highest slots; bounded history per slot; cleanup after removal. The
// controller (controller.c) turns a plan into one store transaction.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/objects.h"

enum orch_action_kind {
    ORCH_CREATE,  /* new task in slot (desired RUNNING or READY) */
    ORCH_DESIRED, /* move task's desired state forward */
    ORCH_STATE,   /* finish a task no node ever ran (state) */
    ORCH_DELETE,  /* drop a finished task from the store */
};

struct orch_action {
    enum orch_action_kind kind;
    struct task *task;     /* DESIRED / STATE / DELETE (borrowed) */
    enum task_state state; /* DESIRED / STATE: the new value; CREATE:
                              the new task's desired state */
    int slot;              /* CREATE */
    const char *node;      /* CREATE: a global service's node (borrowed) */
    int restart_count;     /* CREATE: restart bookkeeping to carry */
    int64_t restart_window_start;
    const char *message; /* STATE: status message */
};

/* UpdateStatus changes a plan makes. */
enum orch_update_state {
    ORCH_UPDATE_NONE,               /* no change to UpdateStatus */
    ORCH_UPDATE_UPDATING,           /* older tasks are being replaced */
    ORCH_UPDATE_COMPLETED,          /* every task up to date and stable */
    ORCH_UPDATE_PAUSED,             /* a task failed: the update stops */
    ORCH_UPDATE_ROLLBACK_STARTED,   /* a task failed: back to PreviousSpec */
    ORCH_UPDATE_ROLLBACK_COMPLETED, /* the rollback is done */
    ORCH_UPDATE_ROLLBACK_PAUSED,    /* a task failed during the rollback */
};

struct orch_plan {
    struct orch_action *actions;
    size_t n, cap;
    int64_t wake_at; /* 0, or when to reconcile again (restart delays) */
    enum orch_update_state update;
    char update_message[160]; /* UpdateStatus.Message, if update set */
};

struct orch_input {
    const struct service *service; /* NULL: the service was deleted */
    struct task *const *tasks;     /* every task of the service */
    size_t n_tasks;
    int64_t now;       /* ns, wall clock */
    int history_limit; /* tasks kept per slot (default 5) */
    /* Tasks on nodes that are down count as dead (may be NULL). */
    bool (*node_is_down)(void *data, const char *node_id);
    void *node_data;
    /* A global service's eligible nodes (ready, active, matching its
     * placement constraints): one task each. */
    const char *const *nodes;
    size_t n_nodes;
};

void orch_plan_init(struct orch_plan *p);
void orch_plan_fini(struct orch_plan *p);

/* Computes the plan for one replicated service (or the remains of a
 * deleted one). Deterministic; touches nothing. */
void orch_reconcile(const struct orch_input *in, struct orch_plan *out);

/* Appends the plan's changes to txn (new tasks get fresh ids; their spec
 * is the service's current one at apply time). s is NULL for a deleted
 * service. */
struct txn;
/* May allocate and place a new task before it is written (its state, node
 * and networks), so creation, allocation and scheduling commit together;
 * it leaves the task NEW when it cannot. */
typedef void (*orch_place_fn)(void *data, struct task *t);
void orch_plan_to_txn(const struct orch_plan *p, const struct service *s,
                      struct txn *txn, orch_place_fn place, void *data);

/* Restart policy of a task spec, with Docker's defaults. */
struct restart_policy {
    enum { RESTART_ANY, RESTART_ON_FAILURE, RESTART_NONE } condition;
    int64_t delay;        /* ns, default 5 s */
    int64_t max_attempts; /* 0 = unlimited */
    int64_t window;       /* ns, 0 = unbounded */
};
void restart_policy_from_spec(const json_t *task_spec,
                              struct restart_policy *out);
