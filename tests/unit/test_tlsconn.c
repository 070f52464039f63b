// SPDX-License-Identifier: Apache-2.0
// Tests for TLS connections (cluster/tlsconn.c) on a real libuv loop over
// 127.0.0.1 with ephemeral ports: messages, closing, handshake and connect
// failures, oversized frames and the splice to a socket pair.
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include "harness.h"
#include "base/log.h"
#include "cluster/tlsconn.h"

static uv_loop_t loop;

/* ---- Loop driving: every run has a deadline ---- */

static bool timed_out;

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    timed_out = true;
}

/* Runs the loop until cond holds or ms pass; evaluates to cond. */
#define RUN_UNTIL(cond, ms)                                                    \
    ({                                                                         \
        uv_timer_t wd_;                                                        \
        uv_timer_init(&loop, &wd_);                                            \
        timed_out = false;                                                     \
        uv_timer_start(&wd_, on_deadline, (ms), 0);                            \
        while (!(cond) && !timed_out)                                          \
            uv_run(&loop, UV_RUN_ONCE);                                        \
        uv_close((uv_handle_t *)&wd_, NULL);                                   \
        uv_run(&loop, UV_RUN_NOWAIT);                                          \
        (bool)(cond);                                                          \
    })

static void sleep_loop(unsigned ms)
{
    RUN_UNTIL(false, ms);
}

/* Everything a test opened must be gone after it: no handle may linger. */
static void settle(void)
{
    for (int i = 0; i < 3000 && uv_loop_alive(&loop); i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    CHECK(!uv_loop_alive(&loop));
}

/* ---- Certificates ---- */

struct pki {
    EVP_PKEY *ca_key, *key;
    X509 *ca, *cert;
};

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ext || !X509_add_ext(cert, ext, -1))
        abort();
    X509_EXTENSION_free(ext);
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
                       EVP_PKEY *issuer_key, long serial)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509_set_pubkey(x, key);
    X509 *iss = issuer ? issuer : x;
    add_ext(x, iss, NID_subject_key_identifier, "hash");
    if (issuer) {
        add_ext(x, iss, NID_authority_key_identifier, "keyid");
        add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, iss, NID_key_usage, "critical,digitalSignature");
        add_ext(x, iss, NID_ext_key_usage, "serverAuth,clientAuth");
    } else {
        add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
        abort();
    return x;
}

/* A throwaway CA (P-256) and one leaf it signed, used by both sides. */
static void pki_make(struct pki *p, const char *ca_cn)
{
    p->ca_key = EVP_EC_gen("P-256");
    p->key = EVP_EC_gen("P-256");
    if (!p->ca_key || !p->key)
        abort();
    p->ca = make_cert(p->ca_key, ca_cn, NULL, NULL, 1);
    p->cert = make_cert(p->key, "node", p->ca, p->ca_key, 2);
}

static void pki_free(struct pki *p)
{
    EVP_PKEY_free(p->ca_key);
    EVP_PKEY_free(p->key);
    X509_free(p->ca);
    X509_free(p->cert);
}

/* Mutual TLS: presents p's leaf, trusts only `trust`. */
static SSL_CTX *make_ctx(const struct pki *p, X509 *trust, bool server)
{
    SSL_CTX *ctx =
        SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx || !SSL_CTX_use_certificate(ctx, p->cert) ||
        !SSL_CTX_use_PrivateKey(ctx, p->key) ||
        !X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trust))
        abort();
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       NULL);
    return ctx;
}

static struct pki pki_a, pki_b;
static SSL_CTX *srv_ctx, *cli_ctx, *cli_ctx_wrong;

/* ---- A side of a connection: what its callbacks saw ---- */

struct side {
    struct tlsconn *c;
    int ready, closes, msgs;
    bool had_err;
    char err[512];
    /* test-specific behaviour */
    void (*on_msg)(struct side *s, uint8_t type, const uint8_t *p, size_t len);
    void (*on_rdy)(struct side *s);
    bool bad; /* a content check failed inside a callback */
    int fd;   /* a spliced fd */
    char peer[64];
    long long aux;
};

static void side_ready(struct tlsconn *c, void *data)
{
    struct side *s = data;
    s->c = c;
    s->ready++;
    snprintf(s->peer, sizeof(s->peer), "%s", tlsconn_peer(c));
    if (s->on_rdy)
        s->on_rdy(s);
}

static void side_message(struct tlsconn *c, void *data, uint8_t type,
                         const void *payload, size_t len)
{
    struct side *s = data;
    s->c = c;
    s->msgs++;
    if (s->on_msg)
        s->on_msg(s, type, payload, len);
}

static void side_close(struct tlsconn *c, void *data, const struct err *err)
{
    struct side *s = data;
    (void)c;
    s->closes++;
    s->had_err = err != NULL;
    if (err)
        snprintf(s->err, sizeof(s->err), "%s", err->msg);
    if (err && getenv("HARNESS_VERBOSE"))
        fprintf(stderr, "  on_close: %s\n", err->msg);
    /* Calls after (or during) on_close are refused, not crashes. */
    CHECK_INT(tlsconn_send(c, 1, "x", 1), -1);
    tlsconn_close(c);
}

static const struct tlsconn_ops side_ops = {
    .on_ready = side_ready,
    .on_message = side_message,
    .on_close = side_close,
};

static struct side srv, cli;

static bool accept_srv(void *data, struct tlsconn *c,
                       const struct tlsconn_ops **ops, void **conn_data)
{
    (void)data;
    srv.c = c;
    *ops = &side_ops;
    *conn_data = &srv;
    return true;
}

static struct tlslistener *listen_local(SSL_CTX *ctx)
{
    struct err err = {0};
    struct tlslistener *l =
        tlslistener_new(&loop, "127.0.0.1", 0, ctx, accept_srv, NULL, &err);
    if (!l) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    CHECK(tlslistener_port(l) != 0);
    return l;
}

static void reset_sides(void)
{
    memset(&srv, 0, sizeof(srv));
    memset(&cli, 0, sizeof(cli));
    srv.fd = cli.fd = -1;
}

static struct tlsconn *connect_to(const char *host, uint16_t port, SSL_CTX *ctx)
{
    struct err err = {0};
    struct tlsconn *c =
        tlsconn_connect(&loop, host, port, ctx, 5000, &side_ops, &cli, &err);
    if (!c)
        fprintf(stderr, "%s\n", err.msg);
    CHECK(c != NULL);
    cli.c = c;
    return c;
}

static uint8_t pattern(size_t i, unsigned seed)
{
    uint32_t x = (uint32_t)i * 2654435761u + seed * 40503u;
    return (uint8_t)(x >> 13 ^ x >> 24);
}

/* ---- Messages both ways ---- */

#define BIG (5u << 20)

static void echo(struct side *s, uint8_t type, const uint8_t *p, size_t len)
{
    CHECK_INT(tlsconn_send(s->c, type, p, len), 0);
}

static void check_echo(struct side *s, uint8_t type, const uint8_t *p,
                       size_t len)
{
    switch (type) {
    case 1:
        s->bad |= len != 5 || memcmp(p, "hello", 5) != 0;
        break;
    case 2:
        s->bad |= len != 0;
        break;
    case 3:
        s->bad |= len != BIG;
        for (size_t i = 0; i < len && !s->bad; i++)
            s->bad |= p[i] != pattern(i, 3);
        break;
    default:
        s->bad = true;
    }
    if (s->msgs == 3)
        tlsconn_close(s->c);
}

static void send_three(struct side *s)
{
    uint8_t *big = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        big[i] = pattern(i, 3);
    CHECK_INT(tlsconn_send(s->c, 1, "hello", 5), 0);
    CHECK_INT(tlsconn_send(s->c, 2, NULL, 0), 0);
    CHECK_INT(tlsconn_send(s->c, 3, big, BIG), 0);
    free(big);
}

static void test_messages(void)
{
    reset_sides();
    struct tlslistener *l = listen_local(srv_ctx);
    srv.on_msg = echo;
    cli.on_msg = check_echo;
    cli.on_rdy = send_three;
    connect_to("127.0.0.1", tlslistener_port(l), cli_ctx);
    CHECK(RUN_UNTIL(srv.closes && cli.closes, 20000));
    CHECK_INT(cli.ready, 1);
    CHECK_INT(srv.ready, 1);
    CHECK_INT(srv.msgs, 3);
    CHECK_INT(cli.msgs, 3);
    CHECK(!cli.bad);
    CHECK(!srv.had_err);
    CHECK(!cli.had_err);
    sleep_loop(20);
    CHECK_INT(srv.closes, 1);
    CHECK_INT(cli.closes, 1);
    tlslistener_close(l);
    settle();
}

/* Sent before the handshake is done: queued, then delivered. */
static void test_send_early_and_name(void)
{
    reset_sides();
    struct tlslistener *l = listen_local(srv_ctx);
    srv.on_msg = echo;
    cli.on_msg = check_echo;
    /* "localhost" takes the uv_getaddrinfo path (and may try ::1 first). */
    struct tlsconn *c = connect_to("localhost", tlslistener_port(l), cli_ctx);
    CHECK(strncmp(tlsconn_peer(c), "localhost:", 10) == 0);
    send_three(&cli);
    CHECK(RUN_UNTIL(srv.closes && cli.closes, 20000));
    CHECK_INT(cli.msgs, 3);
    CHECK(!cli.bad);
    CHECK(!srv.had_err && !cli.had_err);
    CHECK(strncmp(srv.peer, "127.0.0.1:", 10) == 0);
    tlslistener_close(l);
    settle();
}

/* ---- Many small messages, in order; close flushes what is queued ---- */

#define MANY 20000

static void count_in_order(struct side *s, uint8_t type, const uint8_t *p,
                           size_t len)
{
    uint32_t v;
    if (len != sizeof(v)) {
        s->bad = true;
        return;
    }
    memcpy(&v, p, sizeof(v));
    s->bad |= v != (uint32_t)s->aux || type != (uint8_t)v;
    s->aux++;
    if (s->aux == MANY) {
        CHECK_INT(tlsconn_send(s->c, 9, "done", 4), 0);
        tlsconn_close(s->c);
        CHECK_INT(tlsconn_send(s->c, 9, "late", 4), -1);
    }
}

static void send_many(struct side *s)
{
    for (uint32_t i = 0; i < MANY; i++)
        CHECK_INT(tlsconn_send(s->c, (uint8_t)i, &i, sizeof(i)), 0);
}

static void got_done(struct side *s, uint8_t type, const uint8_t *p, size_t len)
{
    s->bad |= type != 9 || len != 4 || memcmp(p, "done", 4) != 0;
}

static void test_many_small(void)
{
    reset_sides();
    struct tlslistener *l = listen_local(srv_ctx);
    srv.on_msg = count_in_order;
    cli.on_rdy = send_many;
    cli.on_msg = got_done;
    connect_to("127.0.0.1", tlslistener_port(l), cli_ctx);
    CHECK(RUN_UNTIL(srv.closes && cli.closes, 20000));
    CHECK_INT(srv.aux, MANY);
    CHECK(!srv.bad);
    CHECK_INT(cli.msgs, 1);
    CHECK(!cli.bad);
    CHECK(!srv.had_err && !cli.had_err);
    tlslistener_close(l);
    settle();
}

/* ---- Closing ---- */

static void close_on_first(struct side *s, uint8_t type, const uint8_t *p,
                           size_t len)
{
    (void)type, (void)p, (void)len;
    tlsconn_close(s->c);
    tlsconn_close(s->c);
    CHECK_INT(tlsconn_send(s->c, 1, "x", 1), -1);
}

static void send_two(struct side *s)
{
    CHECK_INT(tlsconn_send(s->c, 1, "a", 1), 0);
    CHECK_INT(tlsconn_send(s->c, 1, "b", 1), 0);
}

static void test_close_in_on_message(void)
{
    reset_sides();
    struct tlslistener *l = listen_local(srv_ctx);
    srv.on_msg = close_on_first;
    cli.on_rdy = send_two;
    connect_to("127.0.0.1", tlslistener_port(l), cli_ctx);
    CHECK(RUN_UNTIL(srv.closes && cli.closes, 10000));
    sleep_loop(30);
    CHECK_INT(srv.msgs, 1);
    CHECK_INT(srv.closes, 1);
    CHECK_INT(cli.closes, 1);
    CHECK(!srv.had_err && !cli.had_err);
    tlslistener_close(l);
    settle();
}

static void close_now(struct side *s)
{
    tlsconn_close(s->c);
}

static void test_peer_close(void)
{
    reset_sides();
    struct tlslistener *l = listen_local(srv_ctx);
    srv.on_rdy = close_now;
    connect_to("127.0.0.1", tlslistener_port(l), cli_ctx);
    CHECK(RUN_UNTIL(srv.closes && cli.closes, 10000));
    sleep_loop(30);
    CHECK_INT(srv.closes, 1);
    CHECK_INT(cli.closes, 1);
    CHECK(!srv.had_err && !cli.had_err);
    tlslistener_close(l);
    settle();
}

static bool refuse(void *data, struct tlsconn *c,
                   const struct tlsconn_ops **ops, void **conn_data)
{
    (void)c, (void)ops, (void)conn_data;
    (*(int *)data)++;
    return false;
}

static void test_refused_by_on_accept(void)
{
    reset_sides();
    int refused = 0;
    struct err err = {0};
    struct tlslistener *l =
        tlslistener_new(&loop, "127.0.0.1", 0, srv_ctx, refuse, &refused, &err);
    CHECK(l != NULL);
    connect_to("127.0.0.1", tlslistener_port(l), cli_ctx);
    CHECK(RUN_UNTIL(cli.closes, 10000));
    CHECK_INT(refused, 1);
    CHECK(cli.had_err);
    CHECK_INT(cli.ready, 0);
    tlslistener_close(l);
    settle();
}

/* ---- Failures ---- */

static void test_handshake_failure(void)
{
    reset_sides();
    struct tlslistener *l = listen_local(srv_ctx);
    connect_to("127.0.0.1", tlslistener_port(l), cli_ctx_wrong);
    CHECK(RUN_UNTIL(srv.closes && cli.closes, 10000));
    CHECK_INT(srv.ready, 0);
    CHECK_INT(cli.ready, 0);
    CHECK(srv.had_err);
    CHECK(cli.had_err);
    CHECK(strstr(cli.err, "certificate verify failed") != NULL);
    CHECK(strstr(cli.err, "tls handshake with 127.0.0.1:") != NULL);
    sleep_loop(20);
    CHECK_INT(srv.closes, 1);
    CHECK_INT(cli.closes, 1);
    tlslistener_close(l);
    settle();
}

static void test_connect_refused(void)
{
    reset_sides();
    /* A bound socket that does not listen: its port refuses. */
    uv_tcp_t hold;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_tcp_init(&loop, &hold);
    CHECK_INT(uv_tcp_bind(&hold, (struct sockaddr *)&sa, 0), 0);
    int len = sizeof(sa);
    uv_tcp_getsockname(&hold, (struct sockaddr *)&sa, &len);
    connect_to("127.0.0.1", ntohs(sa.sin_port), cli_ctx);
    CHECK(RUN_UNTIL(cli.closes, 5000));
    CHECK(cli.had_err);
    CHECK(strstr(cli.err, "connection refused") != NULL);
    CHECK_INT(cli.ready, 0);
    uv_close((uv_handle_t *)&hold, NULL);

    /* Synchronous failures return NULL and call nothing. */
    struct err err = {0};
    struct tlslistener *bad = tlslistener_new(&loop, "not-an-address", 0,
                                              srv_ctx, accept_srv, NULL, &err);
    CHECK(bad == NULL);
    CHECK_INT(err.code, ERR_INVALID);
    settle();
}

/* A TCP server that accepts and never answers: the handshake times out. */
static uv_tcp_t mute_srv, mute_conn;

static void mute_accept(uv_stream_t *s, int status)
{
    CHECK_INT(status, 0);
    uv_tcp_init(&loop, &mute_conn);
    CHECK_INT(uv_accept(s, (uv_stream_t *)&mute_conn), 0);
}

static void test_handshake_timeout(void)
{
    reset_sides();
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_tcp_init(&loop, &mute_srv);
    CHECK_INT(uv_tcp_bind(&mute_srv, (struct sockaddr *)&sa, 0), 0);
    CHECK_INT(uv_listen((uv_stream_t *)&mute_srv, 8, mute_accept), 0);
    int len = sizeof(sa);
    uv_tcp_getsockname(&mute_srv, (struct sockaddr *)&sa, &len);
    struct err err = {0};
    cli.c = tlsconn_connect(&loop, "127.0.0.1", ntohs(sa.sin_port), cli_ctx,
                            200, &side_ops, &cli, &err);
    CHECK(cli.c != NULL);
    CHECK(RUN_UNTIL(cli.closes, 5000));
    CHECK(cli.had_err);
    CHECK(strstr(cli.err, "timed out") != NULL);
    uv_close((uv_handle_t *)&mute_conn, NULL);
    uv_close((uv_handle_t *)&mute_srv, NULL);
    settle();
}

/* ---- Oversized frame: the client splices and writes a raw header ---- */

static void splice_and_write_huge(struct side *s)
{
    struct err err = {0};
    s->fd = tlsconn_splice(s->c, &err);
    CHECK(s->fd >= 0);
    CHECK(tlsconn_splice(s->c, &err) < 0);
    CHECK_INT(tlsconn_send(s->c, 1, "x", 1), -1);
    const uint8_t hdr[5] = {0x04, 0x00, 0x00, 0x02, 7}; /* 64 MiB + 2 */
    CHECK_INT(write(s->fd, hdr, sizeof(hdr)), 5);
}

static void test_oversized(void)
{
    reset_sides();
    struct tlslistener *l = listen_local(srv_ctx);
    cli.on_rdy = splice_and_write_huge;
    connect_to("127.0.0.1", tlslistener_port(l), cli_ctx);
    CHECK(RUN_UNTIL(srv.closes && cli.closes, 10000));
    CHECK(srv.had_err);
    CHECK(strstr(srv.err, "invalid message length") != NULL);
    CHECK_INT(srv.msgs, 0);
    CHECK(cli.fd >= 0);
    if (cli.fd >= 0) {
        char b;
        CHECK_INT(read(cli.fd, &b, 1), 0); /* EOF */
        close(cli.fd);
    }
    tlslistener_close(l);
    settle();
}

/* ---- Splice: 10 MB each way at once, byte-exact ---- */

#define SPLICE_BYTES (10u << 20)
#define EARLY_BYTES  1000u /* written before the server has spliced */

struct pump {
    uv_pipe_t pipe;
    unsigned seed_out, seed_in;
    size_t sent, received;
    bool bad, eof, closed, reading;
    int writes_pending;
};

static struct pump pc, ps; /* the client's and the server's caller ends */

static void pump_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    *buf = uv_buf_init(malloc(suggested), (unsigned)suggested);
}

static void pump_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct pump *p = s->data;
    if (n > 0) {
        const uint8_t *b = (const uint8_t *)buf->base;
        for (ssize_t i = 0; i < n; i++)
            p->bad |= b[i] != pattern(p->received + (size_t)i, p->seed_in);
        p->received += (size_t)n;
    } else if (n < 0) {
        p->eof = true;
        uv_read_stop(s);
    }
    free(buf->base);
}

static void pump_written(uv_write_t *req, int status)
{
    struct pump *p = req->data;
    CHECK_INT(status, 0);
    p->writes_pending--;
    free(req);
}

static void pump_open(struct pump *p, int fd)
{
    uv_pipe_init(&loop, &p->pipe, 0);
    p->pipe.data = p;
    CHECK_INT(uv_pipe_open(&p->pipe, fd), 0);
}

static void pump_start_reading(struct pump *p)
{
    p->reading = true;
    uv_read_start((uv_stream_t *)&p->pipe, pump_alloc, pump_read);
}

/* Queues the rest of the pattern in 256 KB writes. */
static void pump_write_all(struct pump *p)
{
    while (p->sent < SPLICE_BYTES) {
        size_t n = SPLICE_BYTES - p->sent;
        if (n > (256u << 10))
            n = 256u << 10;
        uv_write_t *req = malloc(sizeof(*req) + n);
        uint8_t *d = (uint8_t *)(req + 1);
        for (size_t i = 0; i < n; i++)
            d[i] = pattern(p->sent + i, p->seed_out);
        req->data = p;
        uv_buf_t b = uv_buf_init((char *)d, (unsigned)n);
        CHECK_INT(uv_write(req, (uv_stream_t *)&p->pipe, &b, 1, pump_written),
                  0);
        p->writes_pending++;
        p->sent += n;
    }
}

static void pump_closed(uv_handle_t *h)
{
    ((struct pump *)h->data)->closed = true;
}

static void cli_splice_after_hello(struct side *s)
{
    CHECK_INT(tlsconn_send(s->c, 7, "splice", 6), 0);
    struct err err = {0};
    s->fd = tlsconn_splice(s->c, &err);
    CHECK(s->fd >= 0);
    /* Written at once: likely to reach the server in the same TLS read
     * as the message, i.e. before it splices. */
    uint8_t early[EARLY_BYTES];
    for (size_t i = 0; i < EARLY_BYTES; i++)
        early[i] = pattern(i, pc.seed_out);
    CHECK_INT(write(s->fd, early, sizeof(early)), (int)sizeof(early));
    pc.sent = EARLY_BYTES;
}

static void srv_splice_on_message(struct side *s, uint8_t type,
                                  const uint8_t *p, size_t len)
{
    CHECK_INT(type, 7);
    CHECK(len == 6 && memcmp(p, "splice", 6) == 0);
    struct err err = {0};
    s->fd = tlsconn_splice(s->c, &err);
    CHECK(s->fd >= 0);
}

static void start_server_reading(uv_timer_t *t)
{
    (void)t;
    pump_start_reading(&ps);
}

static void test_splice(void)
{
    reset_sides();
    memset(&pc, 0, sizeof(pc));
    memset(&ps, 0, sizeof(ps));
    pc.seed_out = ps.seed_in = 11;
    ps.seed_out = pc.seed_in = 22;
    struct tlslistener *l = listen_local(srv_ctx);
    cli.on_rdy = cli_splice_after_hello;
    srv.on_msg = srv_splice_on_message;
    connect_to("127.0.0.1", tlslistener_port(l), cli_ctx);
    CHECK(RUN_UNTIL(cli.fd >= 0 && srv.fd >= 0, 10000));
    if (cli.fd < 0 || srv.fd < 0)
        abort();
    CHECK_INT(srv.msgs, 1);

    pump_open(&pc, cli.fd);
    pump_open(&ps, srv.fd);
    pump_start_reading(&pc);
    pump_write_all(&pc);
    pump_write_all(&ps);
    /* The server's caller starts reading late: the writers must stall on
     * backpressure, not lose or reorder anything. */
    uv_timer_t late;
    uv_timer_init(&loop, &late);
    uv_timer_start(&late, start_server_reading, 300, 0);
    CHECK(RUN_UNTIL(pc.received >= SPLICE_BYTES &&
                        ps.received >= SPLICE_BYTES && !pc.writes_pending &&
                        !ps.writes_pending,
                    60000));
    uv_close((uv_handle_t *)&late, NULL);
    CHECK_INT(pc.received, SPLICE_BYTES);
    CHECK_INT(ps.received, SPLICE_BYTES);
    CHECK(!pc.bad);
    CHECK(!ps.bad);
    CHECK_INT(srv.closes + cli.closes, 0);

    /* The client's caller closes its end: the server's reads EOF and
     * both connections report a clean close. */
    uv_close((uv_handle_t *)&pc.pipe, pump_closed);
    CHECK(RUN_UNTIL(ps.eof && srv.closes && cli.closes, 10000));
    CHECK(!srv.had_err);
    CHECK(!cli.had_err);
    CHECK_INT(srv.msgs, 1);
    uv_close((uv_handle_t *)&ps.pipe, pump_closed);
    CHECK(RUN_UNTIL(pc.closed && ps.closed, 1000));
    tlslistener_close(l);
    settle();
}

/* The peer closes a spliced connection: the caller reads what was sent,
 * then EOF. */
static void srv_send_then_close(struct side *s)
{
    CHECK_INT(tlsconn_send(s->c, 1, "bye", 3), 0);
    tlsconn_close(s->c);
}

static void cli_splice_on_ready(struct side *s)
{
    struct err err = {0};
    s->fd = tlsconn_splice(s->c, &err);
    CHECK(s->fd >= 0);
}

static void test_splice_peer_close(void)
{
    reset_sides();
    struct tlslistener *l = listen_local(srv_ctx);
    srv.on_rdy = srv_send_then_close;
    cli.on_rdy = cli_splice_on_ready;
    connect_to("127.0.0.1", tlslistener_port(l), cli_ctx);
    CHECK(RUN_UNTIL(srv.closes && cli.closes, 10000));
    CHECK(!srv.had_err && !cli.had_err);
    CHECK(cli.fd >= 0);
    if (cli.fd >= 0) {
        uint8_t b[16];
        /* The frame arrived after the splice: it is raw bytes now. */
        CHECK_INT(read(cli.fd, b, sizeof(b)), 8);
        CHECK(memcmp(b, "\0\0\0\4\1bye", 8) == 0);
        CHECK_INT(read(cli.fd, b, sizeof(b)), 0);
        close(cli.fd);
    }
    tlslistener_close(l);
    settle();
}

/* A message that arrives with the one the server splices on is not a
 * message any more: its bytes are the first the server's fd reads. */
static void cli_send_two_then_wait(struct side *s)
{
    CHECK_INT(tlsconn_send(s->c, 7, "splice", 6), 0);
    CHECK_INT(tlsconn_send(s->c, 8, "next", 4), 0);
}

static void test_splice_leftover(void)
{
    reset_sides();
    struct tlslistener *l = listen_local(srv_ctx);
    cli.on_rdy = cli_send_two_then_wait;
    srv.on_msg = srv_splice_on_message;
    connect_to("127.0.0.1", tlslistener_port(l), cli_ctx);
    CHECK(RUN_UNTIL(srv.fd >= 0, 10000));
    if (srv.fd < 0)
        abort();
    uint8_t b[64];
    size_t got = 0;
    RUN_UNTIL(({
                  ssize_t n = read(srv.fd, b + got, sizeof(b) - got);
                  if (n > 0)
                      got += (size_t)n;
                  got >= 9;
              }),
              5000);
    CHECK_INT(got, 9);
    CHECK(memcmp(b, "\0\0\0\5\10next", 9) == 0);
    CHECK_INT(srv.msgs, 1);
    CHECK_INT(cli.closes + srv.closes, 0);
    close(srv.fd);
    CHECK(RUN_UNTIL(srv.closes && cli.closes, 10000));
    CHECK(!srv.had_err && !cli.had_err);
    tlslistener_close(l);
    settle();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (getenv("HARNESS_VERBOSE"))
        log_set_level(LOG_DEBUG);
    uv_loop_init(&loop);
    pki_make(&pki_a, "ca-a");
    pki_make(&pki_b, "ca-b");
    srv_ctx = make_ctx(&pki_a, pki_a.ca, true);
    cli_ctx = make_ctx(&pki_a, pki_a.ca, false);
    cli_ctx_wrong = make_ctx(&pki_b, pki_b.ca, false);

    RUN(test_messages);
    RUN(test_send_early_and_name);
    RUN(test_many_small);
    RUN(test_close_in_on_message);
    RUN(test_peer_close);
    RUN(test_refused_by_on_accept);
    RUN(test_handshake_failure);
    RUN(test_connect_refused);
    RUN(test_handshake_timeout);
    RUN(test_oversized);
    RUN(test_splice);
    RUN(test_splice_peer_close);
    RUN(test_splice_leftover);

    SSL_CTX_free(srv_ctx);
    SSL_CTX_free(cli_ctx);
    SSL_CTX_free(cli_ctx_wrong);
    pki_free(&pki_a);
    pki_free(&pki_b);
    CHECK_INT(uv_loop_close(&loop), 0);
    HARNESS_END();
}
