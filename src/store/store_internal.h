// SPDX-License-Identifier: Apache-2.0
// The store's private layout, shared by store.c (indexes, reads), apply.c
// (operations) and snapshot.c.
#pragma once

#include "base/hmap.h"
#include "base/vec.h"
#include "store/store.h"

/* Tasks grouped by a key (service id or node id); the key lives here so a
 * group outlives the object it is named after. */
struct task_group {
    char key[ID_LEN + 1];
    struct vec tasks;
};

struct store_watch {
    store_watch_fn fn;
    void *data;
    struct store_watch *next;
    bool removed;
};

struct store {
    uint64_t index;
    struct cluster *cluster;
    struct hmap nodes;                  /* id -> struct node */
    struct hmap services;               /* id -> struct service */
    struct hmap services_by_name;       /* name -> struct service */
    struct hmap tasks;                  /* id -> struct task */
    struct hmap networks;               /* id -> struct network */
    struct hmap networks_by_name;       /* name -> struct network */
    struct hmap secrets[2];             /* [0] secrets, [1] configs: id -> */
    struct hmap secrets_by_name[2];     /* name -> struct secret */
    struct hmap task_groups_by_service; /* service id -> task_group */
    struct hmap task_groups_by_node;    /* node id -> task_group */
    size_t tasks_in_state[TASK_ORPHANED + 1];
    struct store_watch *watches;
    int notifying; /* depth of watcher calls (unwatch is deferred) */
};

/* The index of a kind's secret maps (KIND_SECRET 0, KIND_CONFIG 1). */
static inline int store_secret_slot(enum store_kind kind)
{
    return kind == KIND_CONFIG ? 1 : 0;
}

void store_emit(struct store *s, const struct store_event *ev);

/* Index maintenance for tasks. */
void store_index_task(struct store *s, struct task *t);
void store_unindex_task(struct store *s, struct task *t);
void store_task_set_node(struct store *s, struct task *t, const char *node);
void store_task_set_state(struct store *s, struct task *t, enum task_state st);

/* Drops everything (used by restore and free). */
void store_clear(struct store *s);
