// SPDX-License-Identifier: Apache-2.0
// The agent's private state, shared by agent.c (following the store,
// reporting) and executor.c (one task's lifecycle as a container).
#pragma once

#include <limits.h>

#include "agent/agent.h"
#include "agent/netplane.h"
#include "agent/prober.h"
#include "base/fsutil.h"
#include "base/hmap.h"
#include "base/vec.h"
#include "store/txn.h"

enum exec_phase {
    PH_IDLE,      /* nothing local yet */
    PH_PREPARING, /* network namespace being created, or the image pulled
                     (async) */
    PH_PREPARED,  /* container created, not started */
    PH_STARTING,  /* shim spawned, waiting for RUNNING */
    PH_RUNNING,
    PH_STOPPING, /* stop signal sent, waiting for EXITED */
    PH_EXITED,   /* exited (or never ran); kept for logs until removal */
    PH_REMOVING, /* ctr_remove in progress */
};

struct atask {
    struct agent *agent;
    char id[ID_LEN + 1];
    char ctr[ID_HEX_LEN + 1]; /* "" until created */
    char image_id[80];
    char netns[PATH_MAX]; /* "" when none */
    enum exec_phase phase;
    enum task_state reported; /* highest state reported (or known) */
    bool dirty;
    bool gone;                /* deleted from the store or not ours */
    bool fast_stop;           /* swarm leave: no grace period */
    bool stop_requested;      /* the stop was ours (desired shutdown) */
    bool unhealthy;           /* its health check failed: stop, then fail */
    struct prober *prober;    /* health checks while running, or NULL */
    struct registry_op *pull; /* the image being pulled, or NULL */
    struct netns_work *netns_work; /* its namespace being made, or NULL */
    bool pulled;                   /* pulled once: a second miss rejects */
    int pid;
    int exit_code;
    char error[256];
};

struct agent {
    struct agent_config cfg;
    const struct exec_host *host; /* agent.c's side, for executor.c */
    char *netns_dir;
    struct netplane *net;     /* NULL until started */
    struct hmap tasks;        /* task id -> atask (owned) */
    struct hmap by_container; /* container id -> atask */
    struct vec dirty;
    struct store_watch *watch;
    uv_timer_t reconcile_timer;
    uv_timer_t flush_timer;
    uv_timer_t resend_timer;
    bool handles;
    bool running;
    bool restored;
    bool closing;
    int closing_handles;
    struct txn outbox; /* reports not yet sent */
    char *unsent;      /* encoded batch being sent / to resend */
    size_t unsent_len;
    bool sending;
    bool removing_all;
    void (*removed_cb)(void *);
    void *removed_data;
};

/* What the executor (executor.c) asks of the agent that runs it. agent.c
 * installs these at start, so the executor calls nothing in agent.c: it
 * sits below the agent, which calls down into it (exec_*). */
struct exec_host {
    /* The task needs another look on the next reconcile pass. */
    void (*mark)(struct agent *a, struct atask *at);
    /* The task is done with here: forget it. */
    void (*forget)(struct agent *a, struct atask *at);
    void (*set_container)(struct agent *a, struct atask *at, const char *ctr);
    /* Calls the agent_remove_all callback once every task is gone. */
    void (*check_removed_all)(struct agent *a);
    /* Queues a status report if it moves the task forward. exit_code < 0:
     * none. */
    void (*report)(struct agent *a, struct atask *at, enum task_state st,
                   const char *message, const char *error, int exit_code);
    /* Queues a health report for the task in its current state. */
    void (*report_health)(struct agent *a, struct atask *at,
                          enum task_health h);
    /* Tells the event stream what happened to a container (if anyone
     * asks). */
    void (*action)(struct agent *a, const char *ctr, const char *action,
                   const char *key, const char *value);
};

/* executor.c */
void exec_reconcile(struct agent *a, struct atask *at);
/* Abandons the task's preparation in flight, if any: its image pull (swarm
 * leave, shutdown: the task goes back to PH_IDLE) and, with all_work, the
 * making of its network namespace too (shutdown: the agent is freed before
 * that work ends). */
void exec_abandon(struct agent *a, struct atask *at, bool all_work);
void exec_container_event(struct agent *a, struct atask *at,
                          const struct ctr_status *st);
