// SPDX-License-Identifier: Apache-2.0
// TLS connections between nodes on shoald's libuv loop: OpenSSL over memory
// BIOs on a uv_tcp_t, carrying framed messages (a 4-byte big-endian length,
// a 1-byte type, the payload). A connection can also be turned into a plain
// byte pipe (splice) so that a library expecting a uv_stream_t (canonical
// raft's transport) runs over TLS unchanged.
#pragma once

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/err.h"

#define TLSCONN_MAX_MESSAGE (64u << 20) /* larger frames close the conn */

struct tlsconn;
struct tlslistener;

struct tlsconn_ops {
    /* The handshake is done; the peer's certificate (if any) is available
     * through tlsconn_ssl(). */
    void (*on_ready)(struct tlsconn *c, void *data);
    /* One whole message; payload valid during the call only. */
    void (*on_message)(struct tlsconn *c, void *data, uint8_t type,
                       const void *payload, size_t len);
    /* The connection is gone (err NULL on a clean close by either side);
     * called exactly once, after which c must not be used; it is freed
     * after the callback returns. */
    void (*on_close)(struct tlsconn *c, void *data, const struct err *err);
};

/* Connects to host:port (numeric IPv4/IPv6 or a name resolved with
 * uv_getaddrinfo; each resolved address is tried in turn) and runs the
 * client handshake with ctx (TLS 1.3 only; SSL_new takes its own reference
 * on ctx). Connect and handshake together time out after timeout_ms (0: no
 * limit), reported through on_close with an error, like every failure after
 * this returns. Returns the connection (owned by the loop; it is freed after
 * on_close), or NULL with err set (no callback runs then). Messages sent
 * before on_ready are queued. */
struct tlsconn *tlsconn_connect(uv_loop_t *loop, const char *host,
                                uint16_t port, SSL_CTX *ctx,
                                unsigned timeout_ms,
                                const struct tlsconn_ops *ops, void *data,
                                struct err *err);

/* Accepts connections on addr:port (numeric IPv4 or IPv6, "0.0.0.0" or
 * "::" for all; port 0 picks a free port, see tlslistener_port). Each
 * accepted connection runs the server handshake with ctx, which must
 * complete within 10 s. on_accept runs as soon as the TCP connection is
 * accepted, before the handshake, and chooses the connection's ops and data:
 * a handshake failure then reaches on_close with an error. It may return
 * false to refuse: the connection is closed and no callback of it runs.
 * The listener takes a reference on ctx. NULL on error. */
typedef bool (*tlslistener_accept_fn)(void *data, struct tlsconn *c,
                                      const struct tlsconn_ops **ops,
                                      void **conn_data);
struct tlslistener *tlslistener_new(uv_loop_t *loop, const char *addr,
                                    uint16_t port, SSL_CTX *ctx,
                                    tlslistener_accept_fn on_accept, void *data,
                                    struct err *err);
/* Stops listening; established connections are not touched. The listener
 * is freed once its handle is closed (on a later loop iteration). */
void tlslistener_close(struct tlslistener *l);
/* The port the listener is bound to (the chosen one if it was given 0). */
uint16_t tlslistener_port(const struct tlslistener *l);
/* Replaces the context for connections accepted from now on (certificate
 * renewal). The listener takes a reference. */
void tlslistener_set_ctx(struct tlslistener *l, SSL_CTX *ctx);

/* Queues a message (copied; sent once the handshake is done). Returns -1 if
 * the connection is closing or spliced, or if len exceeds
 * TLSCONN_MAX_MESSAGE. Messages go out in order, coalesced: while a write
 * is on the wire, further messages gather and go out in one write. */
int tlsconn_send(struct tlsconn *c, uint8_t type, const void *payload,
                 size_t len);
/* Closes after flushing what was queued (then a TLS close_notify and a TCP
 * shutdown); on_close follows on a later loop iteration, with NULL unless
 * flushing failed. Safe to call from any callback and more than once. */
void tlsconn_close(struct tlsconn *c);
/* Changes the callbacks' data (and ops), e.g. when a connection's first
 * message says what it is for. */
void tlsconn_set_ops(struct tlsconn *c, const struct tlsconn_ops *ops,
                     void *data);
/* The connection's TLS session (owned by c), e.g. for the peer's
 * certificate after on_ready. */
SSL *tlsconn_ssl(struct tlsconn *c);
/* "host:port" of the peer ("[v6]:port" for IPv6), owned by c. */
const char *tlsconn_peer(const struct tlsconn *c);

/* Turns the connection into a byte pipe: returns a connected AF_UNIX
 * stream socket (non-blocking, close-on-exec) whose other end is pumped to
 * and from the TLS session (plaintext in, plaintext out), byte-exact and in
 * order. Bytes already received after the last whole message are delivered
 * first; messages queued with tlsconn_send before the splice go out before
 * the bytes written to the fd. Only after the handshake (on_ready); may be
 * called from on_message. No more messages or callbacks except on_close,
 * which runs when either side ends: when the peer closes, the returned fd
 * reads what was received, then EOF; when the caller closes the fd, the
 * TLS session is closed. Each direction buffers at most a few MB before
 * it stops reading its source. Writes to a closed end raise SIGPIPE, which
 * the process must ignore (shoald does). The caller owns the returned fd.
 * -1 on error. */
int tlsconn_splice(struct tlsconn *c, struct err *err);
