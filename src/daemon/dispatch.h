// SPDX-License-Identifier: Apache-2.0
// The dispatcher protocol between workers and the leader. A worker keeps
// one TLS session with the leader (trying each known manager until the
// leader accepts it): the leader answers with the cluster state and then
// pushes every entry it applies, which the worker applies to its own
// read-only copy of the store that its agent and network plane follow;
// the worker sends heartbeats and its task status on the same session.
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "cluster/rpc.h"
#include "daemon/daemon.h"

/* ---- leader side ---- */

/* The "session" method: a worker opens its session. */
void dispatch_serve(struct daemon *d, struct rpc_call *call,
                    const json_t *params);
/* Passes an applied entry to every session. */
void dispatch_applied(struct daemon *d, uint64_t index, const void *entry,
                      size_t len);
/* Leadership lost or shutting down: every session ends (workers find the
 * new leader). */
void dispatch_drop_all(struct daemon *d);

/* ---- worker side ---- */

/* Starts following the leader with the client context ctx (the session
 * holds a reference); managers from state.json and the store. */
int worker_session_start(struct daemon *d, SSL_CTX *ctx, struct err *err);
void worker_session_stop(struct daemon *d);
/* A renewed certificate: connections from now on use ctx. */
void worker_session_set_ctx(struct daemon *d, SSL_CTX *ctx);
/* Calls a method on the leader over the session (params stolen). */
int worker_session_call(struct daemon *d, const char *method, json_t *params,
                        unsigned timeout_ms, rpc_result_fn cb, void *data,
                        struct err *err);
/* Sends an encoded transaction (task status) to the leader; cb once the
 * mirror applied it. */
int worker_session_propose(struct daemon *d, const char *txn, size_t len,
                           raftnode_apply_fn cb, void *data, struct err *err);
