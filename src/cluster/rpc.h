// SPDX-License-Identifier: Apache-2.0
// Calls between nodes on the cluster port, over tlsconn: JSON requests
// ({"id", "method", "params"}), answers ({"id", "result"} or {"id",
// "error": {"code", "message"}}) and pushes ({"method", "params"}, no id)
// in frames of type RPC_FRAME_JSON; a frame of type RPC_FRAME_RAFT turns
// the connection into a raft byte stream. The server checks each method's
// access rule against the peer's certificate before calling its handler.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/err.h"
#include "cluster/pki.h"
#include "cluster/tlsconn.h"

enum { RPC_FRAME_JSON = 1, RPC_FRAME_RAFT = 2 };

/* Who may call a method. */
enum rpc_access {
    RPC_ANYONE,  /* no certificate needed (joining) */
    RPC_NODE,    /* any node of this cluster */
    RPC_MANAGER, /* managers only */
};

struct rpc_call; /* one request being served */
struct rpc_conn; /* one accepted connection */
struct rpc_server;

typedef void (*rpc_method_fn)(void *data, struct rpc_call *call,
                              const json_t *params);
struct rpc_method {
    const char *name;
    enum rpc_access access;
    rpc_method_fn fn;
};

struct rpc_server_config {
    uv_loop_t *loop;
    const char *addr; /* listen address */
    uint16_t port;
    SSL_CTX *ctx; /* verifies client certificates if sent, needs none */
    const char *cluster_id;
    const struct rpc_method *methods;
    size_t n_methods;
    /* Is this node (still) a member with this role? Refuses removed nodes'
     * certificates and demoted managers. May be NULL. */
    bool (*peer_ok)(void *data, const struct pki_identity *peer);
    /* A raft stream from manager `id` at `address` (fd owned by callee). */
    void (*on_raft)(void *data, uint64_t id, const char *address, int fd);
    void *data;
};

struct rpc_server *rpc_server_new(const struct rpc_server_config *cfg,
                                  struct err *err);
uint16_t rpc_server_port(const struct rpc_server *s);
void rpc_server_set_ctx(struct rpc_server *s, SSL_CTX *ctx);
/* Stops listening and closes every accepted connection. */
void rpc_server_free(struct rpc_server *s);

/* The caller's verified certificate (NULL for an anonymous joiner). */
const struct pki_identity *rpc_call_peer(const struct rpc_call *call);
/* The connection a call came on, for pushes (sessions). */
struct rpc_conn *rpc_call_conn(struct rpc_call *call);
/* Answers (result borrowed) or fails (err) the call and frees it. If the
 * connection went away meanwhile the answer is dropped. */
void rpc_reply(struct rpc_call *call, const json_t *result,
               const struct err *err);

/* Pushes to a server-side connection (params stolen). -1 if it is gone. */
int rpc_conn_push(struct rpc_conn *c, const char *method, json_t *params);
/* Pushes a message already encoded ({"method", "params"} JSON text). */
int rpc_conn_push_raw(struct rpc_conn *c, const void *text, size_t len);
/* One close watcher per connection (sessions); NULL fn unwatches. */
void rpc_conn_watch(struct rpc_conn *c, void (*fn)(void *data), void *data);
const struct pki_identity *rpc_conn_peer(const struct rpc_conn *c);
void rpc_conn_close(struct rpc_conn *c);

/* ---- client ---- */

struct rpc_client;
typedef void (*rpc_result_fn)(void *data, const struct err *err,
                              const json_t *result);
struct rpc_client_ops {
    /* A push from the server (params borrowed). May be NULL. */
    void (*on_push)(void *data, const char *method, const json_t *params);
    /* The connection is gone (after every pending call failed). The
     * client must then be freed with rpc_client_free. May be NULL. */
    void (*on_close)(void *data, const struct err *err);
};

/* Connects to "host:port" at once; calls made before the handshake
 * completes wait for it. */
struct rpc_client *rpc_client_new(uv_loop_t *loop, const char *address,
                                  SSL_CTX *ctx,
                                  const struct rpc_client_ops *ops, void *data,
                                  struct err *err);
/* Calls method (params stolen); cb exactly once, with a 503 if the
 * connection fails or no answer comes within timeout_ms (0: none). */
void rpc_client_call(struct rpc_client *c, const char *method, json_t *params,
                     unsigned timeout_ms, rpc_result_fn cb, void *data);
bool rpc_client_alive(const struct rpc_client *c);
const char *rpc_client_address(const struct rpc_client *c);
/* The server's certificate once connected (SSL of the connection). */
SSL *rpc_client_ssl(struct rpc_client *c);
/* Why the handshake refused the server's certificate, once closed (or
 * NULL): e.g. "remote CA does not match fingerprint. Expected: ...". */
const char *rpc_client_verify_error(const struct rpc_client *c);
/* Fails pending calls (503) and frees; on_close is not called. */
void rpc_client_free(struct rpc_client *c);

/* Opens a raft stream to a manager: done(req, fd) with a connected socket
 * carrying raft's bytes, or -1; never from inside the call. */
void rpc_raft_dial(uv_loop_t *loop, SSL_CTX *ctx, const char *address,
                   uint64_t self_id, const char *self_address,
                   void (*done)(void *req, int fd), void *req);

/* Splits "host:port" (IPv6 in brackets); port defaults to def. */
int rpc_split_address(const char *address, char *host, size_t size,
                      uint16_t *port, uint16_t def, struct err *err);
