// SPDX-License-Identifier: Apache-2.0
// This node's TLS identity and secrets on disk: <swarm dir>/certs holds
// the trusted CAs (ca.crt), the node certificate with its CA (node.crt),
// its key (node.key) and a manager's raft data key (raft.dek); the two
// keys are sealed with the unlock key while the swarm is autolocked
// (d->unlock_key). Also the cluster's root CA and join tokens as swarm
// init and `swarm ca --rotate` make them. Files only: the cluster port
// (swarm_net.c) turns the identity into TLS contexts.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "cluster/pki.h"
#include "daemon/daemon.h"

/* Writes this node's identity (CA, certificate, key). */
int swarm_identity_save(struct daemon *d, const char *ca_pem,
                        const char *cert_pem, const char *key_pem,
                        struct err *err);
/* Reads it back: *ca_pem and own's certificate and key (opened with
 * d->unlock_key when sealed), all malloc'd, the caller's even on error. */
int swarm_identity_load(struct daemon *d, char **ca_pem, struct pki_pair *own,
                        struct err *err);
/* Replaces the trusted CAs (a root rotation began or ended). */
int swarm_identity_save_trust(struct daemon *d, const char *ca_pem,
                              struct err *err);
/* This manager's key for its raft data at rest (made on first use). */
int swarm_data_key(struct daemon *d, uint8_t key[32], struct err *err);

/* Autolock: are this node's secrets sealed? Does key open them (then it
 * is kept in d->unlock_key)? Re-seal them with new_key (NULL: plain). */
bool swarm_identity_locked(struct daemon *d);
int swarm_identity_unlock(struct daemon *d, const char *key, struct err *err);
int swarm_identity_reseal(struct daemon *d, const char *new_key,
                          struct err *err);

/* A new root CA and this manager's first certificate (swarm init). */
int swarm_new_ca(struct daemon *d, int64_t cert_expiry_ns, struct pki_pair *ca,
                 struct err *err);
/* The join tokens of a CA: {"Worker": ..., "Manager": ...}. */
json_t *swarm_new_tokens(const char *ca_cert_pem, struct err *err);
/* swarm ca --rotate: a new root CA in the cluster's internal state (the
 * old one kept, trusted, until every node holds a new certificate); join
 * tokens pin the new CA. */
int swarm_rotate_ca(json_t *internal, struct err *err);
