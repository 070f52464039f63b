// SPDX-License-Identifier: Apache-2.0
// The in-memory cluster store: every object by id, services by name, tasks
// by service and by node, a change feed, and the deterministic apply of
// committed transactions (the Raft FSM) plus snapshot encode / restore.
// Nothing here does I/O; writes reach it only through store_apply.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/vec.h"
#include "store/objects.h"

struct store;

enum store_action { STORE_CREATE, STORE_UPDATE, STORE_DELETE };

struct store_event {
    enum store_kind kind;
    enum store_action action;
    void *obj;      /* the object after the change (before it is freed,
                       for STORE_DELETE); borrowed for the callback only */
    uint64_t index; /* raft index of the change */
    /* For tasks: the state and desired state before the change. */
    enum task_state old_state;
    enum task_state old_desired;
    bool health_changed; /* a task's container health changed */
};

/* Watchers run synchronously inside store_apply, after each change. They
 * must not write to the store (they can only read, and schedule work). */
typedef void (*store_watch_fn)(void *data, const struct store_event *ev);
struct store_watch;

struct store *store_new(void);
void store_free(struct store *s);

/* Index of the last applied entry. */
uint64_t store_index(const struct store *s);

/* Lookups (borrowed; valid until the next apply). */
struct cluster *store_cluster(const struct store *s);
struct node *store_node(const struct store *s, const char *id);
struct service *store_service(const struct store *s, const char *id);
struct service *store_service_by_name(const struct store *s, const char *name);
struct task *store_task(const struct store *s, const char *id);
struct network *store_network(const struct store *s, const char *id);
struct network *store_network_by_name(const struct store *s, const char *name);
/* Secrets (kind KIND_SECRET) and configs (KIND_CONFIG) by id / name. */
struct secret *store_secret(const struct store *s, enum store_kind kind,
                            const char *id);
struct secret *store_secret_by_name(const struct store *s, enum store_kind kind,
                                    const char *name);
/* The networks a service's tasks attach to, as an owned array of network
 * ids: ingress first when the service publishes a port through the routing
 * mesh (or only host-mode ports and has no network of its own, so its
 * tasks have an address to map them to), then the task template's
 * networks that exist. */
json_t *store_service_networks(const struct store *s,
                               const struct service *svc);
/* The same for a spec not (yet) in the store. */
json_t *store_spec_networks(const struct store *s, const json_t *spec);
/* A task as the API shows it: attachments carry full network objects. */
json_t *store_task_to_json(const struct store *s, const struct task *t);
/* Tasks of a service (also of a deleted one, until its tasks are gone) and
 * tasks assigned to a node; NULL if none. Items are struct task *. */
const struct vec *store_service_tasks(const struct store *s,
                                      const char *service_id);
const struct vec *store_node_tasks(const struct store *s, const char *node_id);
/* Ids of services that have tasks but no longer exist. */
void store_orphan_service_ids(const struct store *s, struct vec *out);

size_t store_count(const struct store *s, enum store_kind kind);
/* Iteration over one kind: for (size_t it = 0; store_next(s, K, &it, &o);) */
bool store_next(const struct store *s, enum store_kind kind, size_t *it,
                void **obj);
/* Tasks in a given state (counts kept per state). */
size_t store_count_tasks_in_state(const struct store *s, enum task_state st);

struct store_watch *store_watch(struct store *s, store_watch_fn fn, void *data);
void store_unwatch(struct store *s, struct store_watch *w);

/* Applies one committed entry (a transaction, see store/txn.h) at the given
 * raft index. Ops are applied in order, each all-or-nothing; an op whose
 * precondition fails (version mismatch, name conflict, missing object) is
 * skipped. Returns 0, or -1 with err describing the first failed op (the
 * answer an API caller gets). */
int store_apply(struct store *s, uint64_t index, const void *data, size_t len,
                struct err *err);

/* Encodes the whole state (appending to out). */
void store_snapshot(const struct store *s, struct buf *out);
/* The same with only the tasks keep_task accepts and the secrets and
 * configs keep_secret accepts (a worker's share; NULL keeps all). */
struct store_filter {
    bool (*keep_task)(void *data, const struct task *t);
    bool (*keep_secret)(void *data, const struct secret *x);
    void *data;
};
void store_snapshot_filtered(const struct store *s,
                             const struct store_filter *filter,
                             struct buf *out);
/* Replaces the whole state with a snapshot; on error the store is left
 * unchanged. Watchers see no per-object events; they get one STORE_UPDATE
 * event of kind KIND__COUNT meaning "everything changed". */
int store_restore(struct store *s, const void *data, size_t len,
                  struct err *err);
