// SPDX-License-Identifier: Apache-2.0
// This node's part in the cluster network: its TLS identity (the files in
// <swarm dir>/certs), the cluster port's server and its methods (join,
// forwarded proposals, heartbeats), raft's connections to other managers,
// forwarding of writes from a follower to the leader, heartbeats to the
// leader and, on the leader, the timer that drives its liveness watch
// (swarm_liveness.c). Used by swarm.c, swarm_join.c and swarm_role.c;
// calls down into dispatch.c and up only through d->hooks.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "cluster/pki.h"
#include "cluster/rpc.h"
#include "daemon/daemon.h"
#include "raft/raftnode.h"

#define CERT_DIR       "certs"
#define NODE_CERT_FILE "node.crt" /* node certificate + CA, PEM */
#define NODE_KEY_FILE  "node.key"
#define CA_CERT_FILE   "ca.crt"
#define DATA_KEY_FILE  "raft.dek"

/* The raft id of a node: derived from its id, so every manager computes
 * the same one without storing it. */
uint64_t swarm_raft_id(const char *node_id);

/* Writes this node's identity into <swarm dir>/certs. */
int swarm_net_save_identity(struct daemon *d, const char *ca_pem,
                            const char *cert_pem, const char *key_pem,
                            struct err *err);
/* This manager's key for its raft data at rest (<swarm dir>/certs/
 * raft.dek, made on first use). */
int swarm_net_data_key(struct daemon *d, uint8_t key[32], struct err *err);
/* After each applied entry: renews at once when the cluster's root CA
 * (or the trusted set, during a rotation) is not what this node holds. */
void swarm_net_sync_ca(struct daemon *d);

/* Autolock: are this node's secrets sealed? Does key open them (then it
 * is kept in d->unlock_key)? Re-seal them with new_key (NULL: plain). */
bool swarm_net_locked(struct daemon *d);
int swarm_net_try_unlock(struct daemon *d, const char *key, struct err *err);
int swarm_net_reseal(struct daemon *d, const char *new_key, struct err *err);
/* Loads the identity and starts the cluster port on d->listen_addr. */
int swarm_net_start(struct daemon *d, struct err *err);
/* Stops the port, the leader connection and the heartbeat timers. */
void swarm_net_stop(struct daemon *d);

/* How raft reaches other managers. */
const struct raftnode_dialer *swarm_net_dialer(struct daemon *d);
/* An entry was applied to the store (raft's, or a worker's mirror): wakes
 * forwarded writes waiting to see it; the leader passes it on to the
 * workers' sessions. */
void swarm_net_applied(struct daemon *d, uint64_t index, const void *entry,
                       size_t len);
/* Leadership changed: the leader watches heartbeats; others send them. */
void swarm_net_leadership(struct daemon *d, bool is_leader);

/* Sends an encoded transaction to the leader; cb once it is committed
 * and applied here (or with the leader's error / a 503). */
int swarm_net_forward(struct daemon *d, const char *txn, size_t len,
                      raftnode_apply_fn cb, void *data, struct err *err);

/* Calls a method on the leader (a manager's leader connection, a
 * worker's session); params stolen. */
int swarm_net_call_leader(struct daemon *d, const char *method, json_t *params,
                          unsigned timeout_ms, rpc_result_fn cb, void *data,
                          struct err *err);

/* A new root CA and this manager's first certificate (swarm init). */
int swarm_net_new_ca(struct daemon *d, int64_t cert_expiry_ns,
                     struct pki_pair *ca, struct err *err);
/* The join tokens of a CA: {"Worker": ..., "Manager": ...}. */
json_t *swarm_net_new_tokens(const char *ca_cert_pem, struct err *err);
