// SPDX-License-Identifier: Apache-2.0
// TLS 1.3 connections on the libuv loop: OpenSSL runs over two memory BIOs
// that we feed from uv_tcp_t reads and drain with uv_write, so no socket is
// ever touched by OpenSSL. On top: length-prefixed messages, or a splice to
// an AF_UNIX socket pair for byte streams (raft's transport).
#include "cluster/tlsconn.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

#define LISTENER_HANDSHAKE_TIMEOUT_MS 10000
/* A graceful close waits this long for the queue to drain and the peer's
 * FIN before the socket is closed regardless. */
#define CLOSE_TIMEOUT_MS 10000
#define READ_BUF_SIZE    65536
/* Splice backpressure: a direction stops reading its source above HIGH
 * bytes queued towards its sink and resumes below LOW. */
#define QUEUE_HIGH (4u << 20)
#define QUEUE_LOW  (1u << 20)
/* Buffers larger than this are released when they empty (a 5 MB message
 * should not pin 5 MB for the connection's lifetime; a leader holds a
 * thousand idle sessions). */
#define BYTES_KEEP (32u << 10)
#define FRAME_HDR  5
/* Plaintext encrypted per write (see conn_encrypt): the write BIO never
 * shrinks, so this bounds what an idle connection keeps. */
#define ENCRYPT_BITE (64u << 10)

#define container_of(ptr, type, member)                                        \
    ((type *)((char *)(ptr)-offsetof(type, member)))

enum conn_state {
    ST_CONNECTING, /* resolving or TCP connecting (client only) */
    ST_HANDSHAKE,
    ST_OPEN,
};

/* Live bytes are p[off, len). */
struct bytes {
    uint8_t *p;
    size_t off, len, cap;
};

/* One uv_write with its data inline. */
struct wreq {
    uv_write_t req;
    struct tlsconn *c;
    size_t len;
    uint8_t data[];
};

struct tlsconn {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_timer_t timer; /* connect/handshake timeout, then close timeout */
    uv_pipe_t pipe;   /* our end of the splice */
    uv_connect_t connect_req;
    uv_getaddrinfo_t gai;
    uv_shutdown_t tcp_shut, pipe_shut;
    struct addrinfo *ai_list, *ai_next;
    int connect_status; /* the last connect failure, for the message */

    SSL *ssl;
    BIO *rbio; /* ciphertext from the network, read by OpenSSL */
    BIO *wbio; /* ciphertext from OpenSSL, for the network */

    const struct tlsconn_ops *ops;
    void *data;
    char peer[300];

    enum conn_state state;
    bool notify;          /* on_close is due (false: silent teardown) */
    bool close_requested; /* tlsconn_close before the handshake ended */
    bool closing;         /* graceful close under way; no more input */
    bool hard_closing;    /* handles are closing; c dies with the last */
    bool gai_pending;
    bool spliced, pipe_inited;
    bool tcp_reading, tcp_paused, pipe_paused;
    bool tcp_eof, tcp_shut_sent;
    bool peer_closed; /* its close_notify came: later write errors are moot */
    unsigned shut_pending;
    /* The "alive" reference, one per open handle, one per pending request:
     * c is freed (after on_close) when the last one goes. Handles close
     * only through uv_close, whose callbacks run on a later loop iteration,
     * so c outlives every callback into user code that could close it. */
    unsigned refs;

    size_t inflight, inflight_bytes; /* uv_writes on the TCP socket */
    struct bytes in;  /* plaintext received, not yet a whole message */
    struct bytes out; /* plaintext queued, not yet encrypted */
    char *rbuf;       /* read buffer shared by the TCP and pipe reads */
    struct err err;   /* the first error; reported by on_close */
};

struct tlslistener {
    uv_tcp_t tcp;
    uv_loop_t *loop;
    SSL_CTX *ctx;
    tlslistener_accept_fn on_accept;
    void *data;
    uint16_t port;
};

static void conn_hard_close(struct tlsconn *c);
static void conn_start_graceful(struct tlsconn *c);
static void conn_kick(struct tlsconn *c);
static void on_tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_timer(uv_timer_t *t);
static void pipe_read_start(struct tlsconn *c);

/* ---- Byte buffers ---- */

static void bytes_reserve(struct bytes *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return;
    if (b->off) {
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->cap - b->len >= extra)
            return;
    }
    size_t cap = b->cap ? b->cap * 2 : 16384;
    while (cap - b->len < extra)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

static void bytes_append(struct bytes *b, const void *d, size_t n)
{
    if (!n)
        return;
    bytes_reserve(b, n);
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

/* Rewinds an emptied buffer; frees a big one. */
static void bytes_settle(struct bytes *b)
{
    if (b->off != b->len)
        return;
    b->off = b->len = 0;
    if (b->cap > BYTES_KEEP) {
        free(b->p);
        b->p = NULL;
        b->cap = 0;
    }
}

static void bytes_free(struct bytes *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static size_t bytes_avail(const struct bytes *b)
{
    return b->len - b->off;
}

/* ---- Lifetime ---- */

static void conn_unref(struct tlsconn *c)
{
    assert(c->refs > 0);
    if (--c->refs > 0)
        return;
    if (c->notify && c->ops && c->ops->on_close)
        c->ops->on_close(c, c->data, err_is_set(&c->err) ? &c->err : NULL);
    if (c->ai_list)
        uv_freeaddrinfo(c->ai_list);
    SSL_free(c->ssl); /* frees both BIOs */
    bytes_free(&c->in);
    bytes_free(&c->out);
    free(c->rbuf);
    free(c);
}

static void on_handle_close(uv_handle_t *h)
{
    conn_unref(h->data);
}

/* Closes every handle now (queued writes are dropped); on_close runs when
 * the last close callback has. */
static void conn_hard_close(struct tlsconn *c)
{
    if (c->hard_closing)
        return;
    c->hard_closing = c->closing = true;
    if (c->gai_pending)
        uv_cancel((uv_req_t *)&c->gai);
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_handle_close);
    uv_close((uv_handle_t *)&c->timer, on_handle_close);
    if (c->pipe_inited && !uv_is_closing((uv_handle_t *)&c->pipe))
        uv_close((uv_handle_t *)&c->pipe, on_handle_close);
    conn_unref(c); /* the alive reference */
}

static void conn_set_err(struct tlsconn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void conn_set_err(struct tlsconn *c, int code, const char *fmt, ...)
{
    if (err_is_set(&c->err))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err.msg, sizeof(c->err.msg), fmt, ap);
    va_end(ap);
    c->err.code = code;
}

static void tcp_shutdown(struct tlsconn *c);

/* Ends the connection with the error already recorded in c->err. With
 * flush, what OpenSSL has written (an alert) goes out first. */
static void conn_abort(struct tlsconn *c, bool flush)
{
    if (c->hard_closing)
        return;
    if (!flush || c->closing || c->state == ST_CONNECTING) {
        conn_hard_close(c);
        return;
    }
    c->closing = true;
    uv_timer_start(&c->timer, on_timer, CLOSE_TIMEOUT_MS, 0);
    if (c->spliced)
        uv_read_stop((uv_stream_t *)&c->pipe);
    conn_kick(c);
    tcp_shutdown(c);
    if (!c->shut_pending)
        conn_hard_close(c);
}

/* The error queue's reason, and the verification failure if there is one,
 * into c->err. */
static void conn_tls_err(struct tlsconn *c, const char *what, int ssl_err)
{
    char reason[256] = "";
    unsigned long code = ERR_peek_last_error();
    if (code) {
        const char *r = ERR_reason_error_string(code);
        if (r)
            snprintf(reason, sizeof(reason), "%s", r);
        else
            ERR_error_string_n(code, reason, sizeof(reason));
    } else if (ssl_err == SSL_ERROR_SYSCALL) {
        snprintf(reason, sizeof(reason), "unexpected end of stream");
    } else {
        snprintf(reason, sizeof(reason), "tls error %d", ssl_err);
    }
    ERR_clear_error();
    long v = SSL_get_verify_result(c->ssl);
    if (v != X509_V_OK)
        conn_set_err(c, ERR_UNAVAILABLE, "%s %s: %s (%s)", what, c->peer,
                     reason, X509_verify_cert_error_string(v));
    else
        conn_set_err(c, ERR_UNAVAILABLE, "%s %s: %s", what, c->peer, reason);
}

/* ---- Writing to the network ---- */

static size_t conn_tls_queued(struct tlsconn *c)
{
    return bytes_avail(&c->out) + BIO_ctrl_pending(c->wbio) + c->inflight_bytes;
}

static void pipe_resume_maybe(struct tlsconn *c)
{
    if (c->pipe_paused && !c->closing && conn_tls_queued(c) < QUEUE_LOW) {
        log_debug("tls %s: socket drained, reading the splice again", c->peer);
        pipe_read_start(c);
    }
}

static void on_tcp_write(uv_write_t *req, int status)
{
    struct wreq *w = container_of(req, struct wreq, req);
    struct tlsconn *c = w->c;
    c->inflight--;
    c->inflight_bytes -= w->len;
    free(w);
    if (status < 0 && !c->hard_closing) {
        if (!c->peer_closed)
            conn_set_err(c, ERR_UNAVAILABLE, "writing to %s: %s", c->peer,
                         uv_strerror(status));
        conn_abort(c, false);
    } else if (!c->hard_closing) {
        conn_kick(c);
        pipe_resume_maybe(c);
    }
    conn_unref(c);
}

/* Hands what OpenSSL wrote to uv_write, in one request. */
static void conn_submit(struct tlsconn *c)
{
    while (!c->hard_closing && !c->tcp_shut_sent) {
        size_t n = BIO_ctrl_pending(c->wbio);
        if (!n)
            return;
        if (n > (1u << 30))
            n = 1u << 30;
        struct wreq *w = xmalloc(sizeof(*w) + n);
        w->c = c;
        w->len = n;
        int got = BIO_read(c->wbio, w->data, (int)n);
        assert(got == (int)n);
        (void)got;
        uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)n);
        int r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_tcp_write);
        if (r < 0) {
            free(w);
            conn_set_err(c, ERR_UNAVAILABLE, "writing to %s: %s", c->peer,
                         uv_strerror(r));
            conn_abort(c, false);
            return;
        }
        c->inflight++;
        c->inflight_bytes += n;
        c->refs++;
    }
}

/* Encrypts up to limit bytes of the queued plaintext into the write BIO.
 * Kicks take bounded bites so that the BIO (which never gives memory back)
 * stays small whatever the message size. */
static void conn_encrypt(struct tlsconn *c, size_t limit)
{
    if (c->state != ST_OPEN || c->hard_closing)
        return;
    while (bytes_avail(&c->out) && limit) {
        size_t n = bytes_avail(&c->out);
        if (n > limit)
            n = limit;
        if (n > (1u << 30))
            n = 1u << 30;
        ERR_clear_error();
        int r = SSL_write(c->ssl, c->out.p + c->out.off, (int)n);
        if (r <= 0) {
            conn_tls_err(c, "tls write to", SSL_get_error(c->ssl, r));
            conn_abort(c, false);
            return;
        }
        c->out.off += (size_t)r;
        limit -= (size_t)r;
    }
    bytes_settle(&c->out);
}

/* Sends what is queued. While a write is on the wire everything gathers,
 * and the write's callback sends it all in one go (coalescing); a closing
 * connection sends at once since its shutdown must follow. */
static void conn_kick(struct tlsconn *c)
{
    if (c->hard_closing || (c->inflight && !c->closing))
        return;
    conn_encrypt(c, ENCRYPT_BITE);
    conn_submit(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status; /* write failures are reported by the writes */
    struct tlsconn *c = req->handle->data;
    c->shut_pending--;
    if (!c->hard_closing && c->closing && !c->shut_pending &&
        (c->tcp_eof || err_is_set(&c->err)))
        conn_hard_close(c);
    conn_unref(c);
}

/* A FIN after everything queued on the socket. */
static void tcp_shutdown(struct tlsconn *c)
{
    if (c->tcp_shut_sent)
        return;
    c->tcp_shut_sent = true;
    if (uv_shutdown(&c->tcp_shut, (uv_stream_t *)&c->tcp, on_shutdown) == 0) {
        c->shut_pending++;
        c->refs++;
    }
}

/* ---- Reading ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct tlsconn *c = h->data;
    /* One buffer serves both streams: libuv calls alloc and read back to
     * back, and every read callback consumes its data before returning. */
    *buf = uv_buf_init(c->rbuf, READ_BUF_SIZE);
}

static void tcp_read_start(struct tlsconn *c)
{
    if (c->tcp_reading || c->hard_closing)
        return;
    int r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_tcp_read);
    if (r < 0) {
        conn_set_err(c, ERR_UNAVAILABLE, "reading from %s: %s", c->peer,
                     uv_strerror(r));
        conn_abort(c, false);
        return;
    }
    c->tcp_reading = true;
}

static void tcp_read_stop(struct tlsconn *c)
{
    if (!c->tcp_reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->tcp_reading = false;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* Delivers the whole messages in c->in; stops as soon as a callback closes
 * or splices the connection. */
static void conn_parse_frames(struct tlsconn *c)
{
    while (!c->closing && !c->spliced) {
        size_t avail = bytes_avail(&c->in);
        if (avail < 4)
            break;
        const uint8_t *p = c->in.p + c->in.off;
        uint32_t flen = get_be32(p);
        if (flen == 0 || flen > TLSCONN_MAX_MESSAGE + 1u) {
            conn_set_err(c, ERR_UNAVAILABLE,
                         "reading from %s: invalid message length %" PRIu32,
                         c->peer, flen);
            conn_abort(c, true);
            return;
        }
        if (avail < 4 + (size_t)flen) {
            bytes_reserve(&c->in, 4 + (size_t)flen - avail);
            break;
        }
        c->in.off += 4 + (size_t)flen;
        if (c->ops && c->ops->on_message)
            c->ops->on_message(c, c->data, p[4], p + FRAME_HDR, flen - 1);
    }
    bytes_settle(&c->in);
}

/* Decrypts what the read BIO holds into c->in, then delivers messages. */
static void conn_read_messages(struct tlsconn *c)
{
    bool peer_closed = false;
    for (;;) {
        bytes_reserve(&c->in, 16384);
        size_t room = c->in.cap - c->in.len;
        ERR_clear_error();
        int r = SSL_read(c->ssl, c->in.p + c->in.len,
                         room > INT_MAX ? INT_MAX : (int)room);
        if (r > 0) {
            c->in.len += (size_t)r;
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            peer_closed = true;
            break;
        }
        conn_tls_err(c, "tls read from", e);
        conn_abort(c, true);
        return;
    }
    conn_kick(c); /* SSL_read may answer (key updates) */
    conn_parse_frames(c);
    if (peer_closed) {
        c->peer_closed = true;
        conn_start_graceful(c);
    }
}

static void on_pipe_write(uv_write_t *req, int status)
{
    struct wreq *w = container_of(req, struct wreq, req);
    struct tlsconn *c = w->c;
    free(w);
    if (!c->hard_closing) {
        if (status < 0) {
            /* The caller closed its end: that is how it says "done". */
            conn_start_graceful(c);
        } else if (c->tcp_paused && uv_stream_get_write_queue_size(
                                        (uv_stream_t *)&c->pipe) < QUEUE_LOW) {
            log_debug("tls %s: splice drained, reading the socket again",
                      c->peer);
            c->tcp_paused = false;
            tcp_read_start(c);
        }
    }
    conn_unref(c);
}

/* Queues w (len bytes of plaintext) to the caller's end of the splice. */
static void pipe_write(struct tlsconn *c, struct wreq *w, size_t len)
{
    w->c = c;
    w->len = len;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    int r = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_pipe_write);
    if (r < 0) {
        free(w);
        conn_start_graceful(c);
        return;
    }
    c->refs++;
}

/* Decrypts what the read BIO holds straight to the splice. */
static void conn_read_spliced(struct tlsconn *c)
{
    bool peer_closed = false, done = false;
    while (!done) {
        struct wreq *w = xmalloc(sizeof(*w) + READ_BUF_SIZE);
        size_t n = 0;
        while (n < READ_BUF_SIZE) {
            ERR_clear_error();
            int r = SSL_read(c->ssl, w->data + n, (int)(READ_BUF_SIZE - n));
            if (r > 0) {
                n += (size_t)r;
                continue;
            }
            int e = SSL_get_error(c->ssl, r);
            done = true;
            if (e == SSL_ERROR_ZERO_RETURN) {
                peer_closed = true;
            } else if (e != SSL_ERROR_WANT_READ) {
                free(w);
                conn_tls_err(c, "tls read from", e);
                conn_abort(c, true);
                return;
            }
            break;
        }
        if (n) {
            if (n < READ_BUF_SIZE / 2)
                w = xrealloc(w, sizeof(*w) + n);
            pipe_write(c, w, n);
            if (c->closing)
                return;
        } else {
            free(w);
        }
    }
    conn_kick(c);
    if (!c->tcp_paused && !c->closing &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > QUEUE_HIGH) {
        log_debug("tls %s: splice backed up, pausing the socket", c->peer);
        tcp_read_stop(c);
        c->tcp_paused = true;
    }
    if (peer_closed) {
        c->peer_closed = true;
        conn_start_graceful(c);
    }
}

/* Advances the handshake; true once it is done and the connection is still
 * open for reading (the callbacks may have closed or spliced it). */
static bool conn_handshake(struct tlsconn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r != 1) {
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            conn_kick(c);
        } else {
            conn_tls_err(c, "tls handshake with", e);
            conn_abort(c, true);
        }
        return false;
    }
    c->state = ST_OPEN;
    uv_timer_stop(&c->timer);
    conn_kick(c); /* the handshake's tail and the messages sent early */
    if (c->hard_closing)
        return false;
    if (c->close_requested) {
        conn_start_graceful(c);
        return false;
    }
    if (c->ops && c->ops->on_ready)
        c->ops->on_ready(c, c->data);
    return !c->closing;
}

static void conn_process_input(struct tlsconn *c)
{
    if (c->state == ST_HANDSHAKE && !conn_handshake(c))
        return;
    if (c->closing)
        return;
    if (c->spliced)
        conn_read_spliced(c);
    else
        conn_read_messages(c);
}

static void on_tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tlsconn *c = s->data;
    if (nread == 0 || c->hard_closing)
        return;
    if (nread < 0) {
        tcp_read_stop(c);
        c->tcp_eof = true;
        if (c->closing) {
            if (!c->shut_pending)
                conn_hard_close(c);
            return;
        }
        if (nread != UV_EOF)
            conn_set_err(c, ERR_UNAVAILABLE, "reading from %s: %s", c->peer,
                         uv_strerror((int)nread));
        else if (c->state == ST_HANDSHAKE)
            conn_set_err(c, ERR_UNAVAILABLE,
                         "tls handshake with %s: connection closed by peer",
                         c->peer);
        else
            conn_set_err(c, ERR_UNAVAILABLE,
                         "connection to %s closed without tls close_notify",
                         c->peer);
        conn_abort(c, false);
        return;
    }
    if (c->closing)
        return; /* draining until the peer's FIN */
    if (BIO_write(c->rbio, buf->base, (int)nread) != (int)nread) {
        conn_set_err(c, ERR_INTERNAL, "buffering data from %s", c->peer);
        conn_abort(c, false);
        return;
    }
    conn_process_input(c);
}

/* ---- The splice's pipe ---- */

static void on_pipe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct tlsconn *c = s->data;
    if (nread == 0 || c->closing)
        return;
    if (nread < 0) {
        /* EOF (or a reset): the caller closed its end. */
        conn_start_graceful(c);
        return;
    }
    bytes_append(&c->out, buf->base, (size_t)nread);
    conn_kick(c);
    if (!c->pipe_paused && !c->closing && conn_tls_queued(c) > QUEUE_HIGH) {
        log_debug("tls %s: socket backed up, pausing the splice", c->peer);
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->pipe_paused = true;
    }
}

static void pipe_read_start(struct tlsconn *c)
{
    if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_pipe_read) < 0) {
        conn_start_graceful(c);
        return;
    }
    c->pipe_paused = false;
}

/* ---- Closing ---- */

/* close_notify and a FIN after what is queued; the pipe gets what is queued
 * for it, then EOF. The socket closes when both are out and the peer's FIN
 * is in (or the close timeout fires), which spares the peer a reset. */
static void conn_start_graceful(struct tlsconn *c)
{
    if (c->closing)
        return;
    if (c->state != ST_OPEN) {
        conn_hard_close(c);
        return;
    }
    conn_encrypt(c, SIZE_MAX);
    if (c->hard_closing)
        return;
    c->closing = true;
    uv_timer_start(&c->timer, on_timer, CLOSE_TIMEOUT_MS, 0);
    ERR_clear_error();
    SSL_shutdown(c->ssl);
    ERR_clear_error();
    conn_submit(c);
    tcp_shutdown(c);
    if (c->spliced) {
        uv_read_stop((uv_stream_t *)&c->pipe);
        c->pipe_paused = false;
        if (uv_shutdown(&c->pipe_shut, (uv_stream_t *)&c->pipe, on_shutdown) ==
            0) {
            c->shut_pending++;
            c->refs++;
        }
    }
    c->tcp_paused = false;
    if (!c->tcp_eof)
        tcp_read_start(c);
    if (!c->shut_pending && c->tcp_eof)
        conn_hard_close(c);
}

static void on_timer(uv_timer_t *t)
{
    struct tlsconn *c = t->data;
    if (c->hard_closing)
        return;
    if (c->closing) {
        if (c->shut_pending)
            conn_set_err(c, ERR_UNAVAILABLE,
                         "closing connection to %s: timed out flushing",
                         c->peer);
        conn_hard_close(c);
        return;
    }
    conn_set_err(c, ERR_UNAVAILABLE, "%s %s timed out",
                 c->state == ST_CONNECTING ? "connecting to"
                                           : "tls handshake with",
                 c->peer);
    conn_hard_close(c);
}

/* ---- Setting up ---- */

static struct tlsconn *conn_alloc(uv_loop_t *loop)
{
    struct tlsconn *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->rbuf = xmalloc(READ_BUF_SIZE);
    int r = uv_tcp_init(loop, &c->tcp);
    assert(r == 0);
    r = uv_timer_init(loop, &c->timer);
    assert(r == 0);
    (void)r;
    c->tcp.data = c->timer.data = c;
    c->refs = 3; /* alive, tcp, timer */
    return c;
}

static int conn_ssl_setup(struct tlsconn *c, SSL_CTX *ctx, bool client,
                          struct err *err)
{
    ERR_clear_error();
    c->ssl = SSL_new(ctx);
    BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !rbio || !wbio ||
        !SSL_set_min_proto_version(c->ssl, TLS1_3_VERSION)) {
        BIO_free(rbio);
        BIO_free(wbio);
        char reason[256] = "out of memory";
        if (ERR_peek_last_error())
            ERR_error_string_n(ERR_peek_last_error(), reason, sizeof(reason));
        ERR_clear_error();
        return err_set(err, ERR_INTERNAL, "creating tls session: %s", reason);
    }
    /* An empty BIO means "no data yet", not end of stream. */
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_mem_eof_return(wbio, -1);
    SSL_set_bio(c->ssl, rbio, wbio);
    /* Idle connections give their TLS record buffers back. */
    SSL_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
    c->rbio = rbio;
    c->wbio = wbio;
    if (client)
        SSL_set_connect_state(c->ssl);
    else
        SSL_set_accept_state(c->ssl);
    return 0;
}

static void tcp_setup(struct tlsconn *c)
{
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, 60);
}

static void format_addr(const struct sockaddr *sa, char *out, size_t size)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(s6, ip, sizeof(ip));
        snprintf(out, size, "[%s]:%u", ip, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        uv_ip4_name(s4, ip, sizeof(ip));
        snprintf(out, size, "%s:%u", ip, ntohs(s4->sin_port));
    }
}

/* ---- Connecting ---- */

static void conn_connect_next(struct tlsconn *c);

static void on_connected(uv_connect_t *req, int status)
{
    struct tlsconn *c = container_of(req, struct tlsconn, connect_req);
    if (!c->hard_closing) {
        if (status < 0) {
            c->connect_status = status;
            conn_connect_next(c);
        } else {
            if (c->ai_list) {
                uv_freeaddrinfo(c->ai_list);
                c->ai_list = c->ai_next = NULL;
            }
            tcp_setup(c);
            c->state = ST_HANDSHAKE;
            tcp_read_start(c);
            if (!c->hard_closing)
                conn_handshake(c); /* the ClientHello */
        }
    }
    conn_unref(c);
}

static int conn_start_connect(struct tlsconn *c, const struct sockaddr *sa)
{
    int r = uv_tcp_connect(&c->connect_req, &c->tcp, sa, on_connected);
    if (r == 0)
        c->refs++;
    return r;
}

static void on_tcp_reinit(uv_handle_t *h)
{
    struct tlsconn *c = h->data;
    if (!c->hard_closing) {
        int r = uv_tcp_init(c->loop, &c->tcp);
        assert(r == 0);
        (void)r;
        c->tcp.data = c;
        conn_connect_next(c);
        return;
    }
    conn_unref(c); /* the tcp handle's reference */
}

/* Tries the next resolved address (after a failed attempt, on a fresh
 * socket); reports the last failure when none is left. */
static void conn_connect_next(struct tlsconn *c)
{
    if (!c->ai_next) {
        conn_set_err(c, ERR_UNAVAILABLE, "connecting to %s: %s", c->peer,
                     uv_strerror(c->connect_status));
        conn_hard_close(c);
        return;
    }
    if (c->connect_status) {
        c->connect_status = 0;
        uv_close((uv_handle_t *)&c->tcp, on_tcp_reinit);
        return;
    }
    struct addrinfo *ai = c->ai_next;
    c->ai_next = ai->ai_next;
    int r = conn_start_connect(c, ai->ai_addr);
    if (r < 0) {
        c->connect_status = r;
        conn_connect_next(c);
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct tlsconn *c = container_of(req, struct tlsconn, gai);
    c->gai_pending = false;
    if (c->hard_closing) {
        uv_freeaddrinfo(res);
    } else if (status < 0) {
        conn_set_err(c, ERR_UNAVAILABLE, "resolving %s: %s", c->peer,
                     uv_strerror(status));
        conn_hard_close(c);
    } else {
        c->ai_list = c->ai_next = res;
        c->connect_status = UV_EADDRNOTAVAIL; /* if the list is empty */
        if (res)
            c->connect_status = 0;
        conn_connect_next(c);
    }
    conn_unref(c);
}

struct tlsconn *tlsconn_connect(uv_loop_t *loop, const char *host,
                                uint16_t port, SSL_CTX *ctx,
                                unsigned timeout_ms,
                                const struct tlsconn_ops *ops, void *data,
                                struct err *err)
{
    struct tlsconn *c = conn_alloc(loop);
    c->state = ST_CONNECTING;
    c->ops = ops;
    c->data = data;
    snprintf(c->peer, sizeof(c->peer), strchr(host, ':') ? "[%s]:%u" : "%s:%u",
             host, port);
    if (conn_ssl_setup(c, ctx, true, err) < 0)
        goto fail;
    if (!strchr(host, ':') && strspn(host, "0123456789.") != strlen(host))
        SSL_set_tlsext_host_name(c->ssl, host);
    if (timeout_ms)
        uv_timer_start(&c->timer, on_timer, timeout_ms, 0);

    struct sockaddr_storage ss;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) == 0 ||
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) == 0) {
        int r = conn_start_connect(c, (struct sockaddr *)&ss);
        if (r < 0) {
            err_set(err, ERR_UNAVAILABLE, "connecting to %s: %s", c->peer,
                    uv_strerror(r));
            goto fail;
        }
    } else {
        char service[8];
        snprintf(service, sizeof(service), "%u", port);
        struct addrinfo hints = {.ai_family = AF_UNSPEC,
                                 .ai_socktype = SOCK_STREAM};
        int r =
            uv_getaddrinfo(loop, &c->gai, on_resolved, host, service, &hints);
        if (r < 0) {
            err_set(err, ERR_UNAVAILABLE, "resolving %s: %s", c->peer,
                    uv_strerror(r));
            goto fail;
        }
        c->gai_pending = true;
        c->refs++;
    }
    c->notify = true;
    return c;

fail:
    conn_hard_close(c); /* silent: notify is false */
    return NULL;
}

/* ---- Listening ---- */

static void on_listener_close(uv_handle_t *h)
{
    struct tlslistener *l = h->data;
    SSL_CTX_free(l->ctx);
    free(l);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct tlslistener *l = server->data;
    if (status < 0) {
        log_warn("accepting a connection on port %u: %s", l->port,
                 uv_strerror(status));
        return;
    }
    /* Accept first in any case: an unaccepted connection stalls the
     * listener. */
    struct tlsconn *c = conn_alloc(l->loop);
    c->state = ST_HANDSHAKE;
    int r = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (r < 0) {
        log_warn("accepting a connection on port %u: %s", l->port,
                 uv_strerror(r));
        conn_hard_close(c);
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        format_addr((struct sockaddr *)&ss, c->peer, sizeof(c->peer));
    else
        snprintf(c->peer, sizeof(c->peer), "?");
    struct err e = {0};
    if (conn_ssl_setup(c, l->ctx, false, &e) < 0) {
        log_warn("accepting a connection from %s: %s", c->peer, e.msg);
        conn_hard_close(c);
        return;
    }
    tcp_setup(c);
    const struct tlsconn_ops *ops = NULL;
    void *data = NULL;
    if (!l->on_accept(l->data, c, &ops, &data)) {
        conn_hard_close(c);
        return;
    }
    c->ops = ops;
    c->data = data;
    c->notify = true;
    if (c->hard_closing)
        return; /* on_accept closed it: on_close is on its way */
    uv_timer_start(&c->timer, on_timer, LISTENER_HANDSHAKE_TIMEOUT_MS, 0);
    tcp_read_start(c);
}

struct tlslistener *tlslistener_new(uv_loop_t *loop, const char *addr,
                                    uint16_t port, SSL_CTX *ctx,
                                    tlslistener_accept_fn on_accept, void *data,
                                    struct err *err)
{
    struct sockaddr_storage ss;
    if (uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss) != 0) {
        err_set(err, ERR_INVALID, "invalid listen address '%s'", addr);
        return NULL;
    }
    struct tlslistener *l = xcalloc(1, sizeof(*l));
    l->loop = loop;
    l->on_accept = on_accept;
    l->data = data;
    uv_tcp_init(loop, &l->tcp);
    l->tcp.data = l;
    /* libuv sets SO_REUSEADDR on every TCP bind; a bind error may only
     * show at listen time. */
    int r = uv_tcp_bind(&l->tcp, (struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&l->tcp, 128, on_connection);
    if (r < 0) {
        err_set(err, ERR_UNAVAILABLE, "listening on %s port %u: %s", addr, port,
                uv_strerror(r));
        uv_close((uv_handle_t *)&l->tcp, on_listener_close);
        return NULL;
    }
    int len = sizeof(ss);
    if (uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len) == 0)
        l->port = ntohs(ss.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *)&ss)->sin6_port
                            : ((struct sockaddr_in *)&ss)->sin_port);
    SSL_CTX_up_ref(ctx);
    l->ctx = ctx;
    return l;
}

void tlslistener_close(struct tlslistener *l)
{
    if (l && !uv_is_closing((uv_handle_t *)&l->tcp))
        uv_close((uv_handle_t *)&l->tcp, on_listener_close);
}

uint16_t tlslistener_port(const struct tlslistener *l)
{
    return l->port;
}

void tlslistener_set_ctx(struct tlslistener *l, SSL_CTX *ctx)
{
    SSL_CTX_up_ref(ctx);
    SSL_CTX_free(l->ctx);
    l->ctx = ctx;
}

/* ---- Using a connection ---- */

int tlsconn_send(struct tlsconn *c, uint8_t type, const void *payload,
                 size_t len)
{
    if (c->closing || c->close_requested || c->spliced ||
        len > TLSCONN_MAX_MESSAGE)
        return -1;
    uint32_t flen = (uint32_t)len + 1;
    uint8_t hdr[FRAME_HDR] = {(uint8_t)(flen >> 24), (uint8_t)(flen >> 16),
                              (uint8_t)(flen >> 8), (uint8_t)flen, type};
    bytes_append(&c->out, hdr, sizeof(hdr));
    bytes_append(&c->out, payload, len);
    conn_kick(c);
    return 0;
}

void tlsconn_close(struct tlsconn *c)
{
    if (c->closing || c->close_requested)
        return;
    if (c->state == ST_OPEN)
        conn_start_graceful(c);
    else if (bytes_avail(&c->out))
        c->close_requested = true; /* flush once the handshake is done */
    else
        conn_hard_close(c);
}

void tlsconn_set_ops(struct tlsconn *c, const struct tlsconn_ops *ops,
                     void *data)
{
    c->ops = ops;
    c->data = data;
}

SSL *tlsconn_ssl(struct tlsconn *c)
{
    return c->ssl;
}

const char *tlsconn_peer(const struct tlsconn *c)
{
    return c->peer;
}

int tlsconn_splice(struct tlsconn *c, struct err *err)
{
    if (c->closing || c->close_requested)
        return err_set(err, ERR_CONFLICT,
                       "splicing the connection to %s: it is closing", c->peer);
    if (c->spliced)
        return err_set(err, ERR_CONFLICT,
                       "splicing the connection to %s: already spliced",
                       c->peer);
    if (c->state != ST_OPEN)
        return err_set(err, ERR_CONFLICT,
                       "splicing the connection to %s: handshake not done",
                       c->peer);
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) < 0)
        return err_sys(err, errno, "splicing the connection to %s: socketpair",
                       c->peer);
    int r = uv_pipe_init(c->loop, &c->pipe, 0);
    assert(r == 0);
    c->pipe.data = c;
    c->pipe_inited = true;
    c->refs++;
    r = uv_pipe_open(&c->pipe, fds[0]);
    if (r == 0)
        r = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_pipe_read);
    if (r < 0) {
        /* uv_pipe_open does not own fds[0] when it fails. */
        if (uv_fileno((uv_handle_t *)&c->pipe, &(uv_os_fd_t){0}) != 0)
            close(fds[0]);
        close(fds[1]);
        uv_close((uv_handle_t *)&c->pipe, on_handle_close);
        return err_set(err, ERR_INTERNAL, "splicing the connection to %s: %s",
                       c->peer, uv_strerror(r));
    }
    c->spliced = true;
    size_t left = bytes_avail(&c->in);
    if (left) {
        struct wreq *w = xmalloc(sizeof(*w) + left);
        memcpy(w->data, c->in.p + c->in.off, left);
        log_debug("tls %s: spliced with %zu bytes received", c->peer, left);
        /* Not bytes_settle: a running on_message's payload stays valid. */
        c->in.len = c->in.off;
        pipe_write(c, w, left);
    }
    return fds[1];
}
