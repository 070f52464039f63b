// SPDX-License-Identifier: Apache-2.0
// Transactions: a list of store operations built by the API and the
// controllers, encoded as one Raft log entry and applied by store_apply on
// every manager. Operations are intents evaluated against the state at
// apply time (e.g. "task X reached state S"), so concurrent writers never
// overwrite each other's fields.
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/objects.h"

struct txn {
    json_t *ops; /* array of op objects */
    int64_t ts;  /* wall clock of the proposal; becomes UpdatedAt */
};

void txn_init(struct txn *t);
void txn_fini(struct txn *t);
static inline size_t txn_size(const struct txn *t)
{
    return json_array_size(t->ops);
}
/* Encodes {"ts":..,"ops":[..]}; owned result. */
char *txn_encode(const struct txn *t, size_t *len);

/* Every builder copies what it needs (borrowed arguments) unless noted. */
void txn_cluster_put(struct txn *t, const struct cluster *c,
                     uint64_t if_version);
void txn_node_put(struct txn *t, const struct node *n);
void txn_node_spec(struct txn *t, const char *id, uint64_t if_version,
                   json_t *spec);
void txn_node_status(struct txn *t, const char *id, enum node_state state,
                     const char *message, const char *addr);
void txn_node_delete(struct txn *t, const char *id);

/* endpoint (may be NULL): the allocated Endpoint (ports, VIPs). */
void txn_service_create(struct txn *t, const char *id, json_t *spec,
                        json_t *endpoint);
/* if_version 0 = unconditional. rollback: spec is the previous spec.
 * endpoint (may be NULL = keep the current one). */
void txn_service_update(struct txn *t, const char *id, uint64_t if_version,
                        json_t *spec, bool rollback, json_t *endpoint);
void txn_service_update_status(struct txn *t, const char *id,
                               json_t *update_status);
void txn_service_delete(struct txn *t, const char *id);

/* Creates a task; if t->spec is NULL the service's current task spec (and
 * spec version) is used at apply time. */
void txn_task_create(struct txn *t, const struct task *task);
void txn_task_assign(struct txn *t, const char *id, const char *node_id);
/* Moves a task forward to state (never backwards). container_id may be
 * NULL; exit_code < 0 = none. */
void txn_task_status(struct txn *t, const char *id, enum task_state state,
                     const char *message, const char *error,
                     const char *container_id, int pid, int exit_code);
/* A task's container health changed while it is in state (its current
 * one): a "task.status" operation carrying "health", so it travels (and
 * is authorised) like any status report. */
void txn_task_health(struct txn *t, const char *id, enum task_state state,
                     enum task_health health);
/* The host-mode ports the node bound for a task in state (its current
 * one): a "task.status" operation carrying "ports" (Docker's PortConfig
 * array, Status.PortStatus.Ports; copied). A task leaving running loses
 * them. */
void txn_task_ports(struct txn *t, const char *id, enum task_state state,
                    const json_t *ports);
void txn_task_desired(struct txn *t, const char *id, enum task_state desired);
void txn_task_delete(struct txn *t, const char *id);
/* Records a new task's network attachments (may be an empty array) and
 * moves it to pending. */
void txn_task_allocate(struct txn *t, const char *id, json_t *networks);

void txn_network_create(struct txn *t, const struct network *n);
void txn_network_delete(struct txn *t, const char *id);

/* Secrets and configs (x->kind says which): create (name conflicts are
 * refused at apply), a labels-only update (if_version as for services),
 * delete (refused while a service refers to it). */
void txn_secret_create(struct txn *t, const struct secret *x);
void txn_secret_labels(struct txn *t, enum store_kind kind, const char *id,
                       uint64_t if_version, json_t *labels);
void txn_secret_delete(struct txn *t, enum store_kind kind, const char *id);
