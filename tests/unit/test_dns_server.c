// SPDX-License-Identifier: Apache-2.0
// Tests for the embedded DNS server (net/dns_server.c) on 127.0.0.1 with
// ephemeral ports, in one loop: a fake resolver for cluster names and fake
// upstream resolvers (UDP and TCP) for forwarding. No root, no network.
#include <arpa/inet.h>
#include <stdio.h>
#include <unistd.h>
#include <uv.h>

#include "harness.h"
#include "net/dns_msg.h"
#include "net/dns_server.h"

static uv_loop_t loop;

/* ---- Loop driving ---- */

static bool timed_out;

static void on_deadline(uv_timer_t *t)
{
    (void)t;
    timed_out = true;
}

/* Runs the loop until *flag or ms pass; returns *flag. */
static bool run_until(const bool *flag, unsigned ms)
{
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    timed_out = false;
    uv_timer_start(&t, on_deadline, ms, 0);
    while (!*flag && !timed_out)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return *flag;
}

static void sleep_loop(unsigned ms)
{
    bool never = false;
    run_until(&never, ms);
}

static struct in_addr ip(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a;
}

static struct sockaddr_in sin_of(const char *s, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr = ip(s);
    return a;
}

static uint16_t g16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- Messages ---- */

static size_t mkquery(uint8_t *b, uint16_t id, const char *name, uint16_t type,
                      int edns_size)
{
    memset(b, 0, DNS_HDR_LEN);
    dns_msg_set_id(b, id);
    b[2] = 0x01;
    b[5] = 1;
    int n = dns_name_to_wire(name, b + DNS_HDR_LEN);
    if (n < 0)
        abort();
    size_t o = DNS_HDR_LEN + (size_t)n;
    b[o++] = (uint8_t)(type >> 8);
    b[o++] = (uint8_t)type;
    b[o++] = 0;
    b[o++] = 1;
    if (edns_size > 0) {
        b[11] = 1;
        uint8_t opt[11] = {0, 0, DNS_T_OPT, (uint8_t)(edns_size >> 8),
                           (uint8_t)edns_size};
        memcpy(b + o, opt, sizeof(opt));
        o += sizeof(opt);
    }
    return o;
}

struct reply {
    uint16_t id, flags, counts[3];
    int rcode;
    struct in_addr a[300];
    size_t n_a;
    char names[8][DNS_NAME_TEXT_MAX]; /* SRV / PTR targets */
    uint16_t ports[8];
    size_t n_names;
    size_t len;
};

/* Decodes an answer's header and its A / SRV / PTR records. */
static int decode(const uint8_t *p, size_t len, struct reply *r)
{
    memset(r, 0, sizeof(*r));
    r->len = len;
    if (len < DNS_HDR_LEN)
        return -1;
    r->id = g16(p);
    r->flags = g16(p + 2);
    r->rcode = r->flags & 0xf;
    for (int i = 0; i < 3; i++)
        r->counts[i] = g16(p + 6 + 2 * i);
    size_t off = DNS_HDR_LEN;
    for (unsigned i = 0; i < g16(p + 4); i++) {
        if (dns_name_read(p, len, &off, NULL, 0) < 0 || len - off < 4)
            return -1;
        off += 4;
    }
    size_t total = (size_t)r->counts[0] + r->counts[1] + r->counts[2];
    for (size_t i = 0; i < total; i++) {
        if (dns_name_read(p, len, &off, NULL, 0) < 0 || len - off < 10)
            return -1;
        uint16_t type = g16(p + off);
        size_t rdlen = g16(p + off + 8);
        off += 10;
        if (len - off < rdlen)
            return -1;
        if (type == DNS_T_A && i < r->counts[0] && rdlen == 4) {
            memcpy(&r->a[r->n_a++].s_addr, p + off, 4);
        } else if ((type == DNS_T_SRV || type == DNS_T_PTR) && r->n_names < 8) {
            size_t t = off + (type == DNS_T_SRV ? 6 : 0);
            if (type == DNS_T_SRV)
                r->ports[r->n_names] = g16(p + off + 4);
            if (dns_name_read(p, len, &t, r->names[r->n_names],
                              DNS_NAME_TEXT_MAX) < 0)
                return -1;
            r->n_names++;
        }
        off += rdlen;
    }
    return off == len ? 0 : -1;
}

/* ---- The fake resolver ---- */

static struct sockaddr_in last_client;
static unsigned resolver_calls;

static void resolve(void *data, const struct sockaddr_in *client,
                    uint16_t qtype, const char *qname, struct dns_answer *out)
{
    (void)data;
    (void)qtype;
    last_client = *client;
    resolver_calls++;
    struct in_addr ptr;
    if (strcmp(qname, "app") == 0 || strcmp(qname, "app.stack") == 0) {
        out->verdict = DNS_ANSWER;
        dns_answer_add_a(out, ip("10.0.0.2"));
    } else if (strcmp(qname, "tasks.app") == 0) {
        out->verdict = DNS_ANSWER;
        out->shuffle = true;
        dns_answer_add_a(out, ip("10.0.0.3"));
        dns_answer_add_a(out, ip("10.0.0.4"));
        dns_answer_add_a(out, ip("10.0.0.5"));
    } else if (strcmp(qname, "many") == 0) {
        out->verdict = DNS_ANSWER;
        for (int i = 0; i < 100; i++) {
            struct in_addr a = {htonl(0x0a000100u + (unsigned)i)};
            dns_answer_add_a(out, a);
        }
    } else if (strcmp(qname, "gone") == 0) {
        out->verdict = DNS_NXDOMAIN;
    } else if (strcmp(qname, "_http._tcp.app") == 0) {
        out->verdict = DNS_ANSWER;
        dns_answer_add_srv(out, 0, 10, 8080, "app.1.x.net", ip("10.0.0.3"));
        dns_answer_add_srv(out, 0, 10, 8081, "app.2.y.net", ip("10.0.0.4"));
    } else if (dns_ptr_name_to_addr(qname, &ptr)) {
        if (ptr.s_addr == ip("10.0.0.3").s_addr) {
            out->verdict = DNS_ANSWER;
            dns_answer_set_ptr(out, "app.1.x.net");
        } else if ((ntohl(ptr.s_addr) >> 24) == 10) {
            out->verdict = DNS_NXDOMAIN;
        }
    }
}

/* ---- Fake upstream resolvers (UDP and TCP on one port) ---- */

struct upstream {
    uv_udp_t udp;
    uv_tcp_t tcp;
    uint16_t port;
    bool dead;
    unsigned udp_queries, tcp_queries;
    uint16_t last_id;
};

static struct upstream ups[2];

/* The fake's answer to a query; 0 for none. */
static size_t upstream_answer(const uint8_t *pkt, size_t len, uint8_t *out,
                              size_t cap, uint8_t *spoof, size_t *spoof_len)
{
    struct dns_query q;
    *spoof_len = 0;
    if (dns_query_parse(pkt, len, &q) != DNS_OK)
        return 0;
    struct dns_resp r;
    if (strcmp(q.qname, "servfail.example") == 0) {
        return dns_build_error(out, cap, &q, pkt, DNS_RCODE_SERVFAIL, 1232);
    }
    dns_resp_begin(&r, out, cap, &q, pkt, 0, false, 1232);
    if (strcmp(q.qname, "tc.example") == 0) {
        r.truncated = true;
    } else if (strcmp(q.qname, "big.example") == 0) {
        for (int i = 0; i < 60; i++)
            dns_resp_add_a(&r, 60, ip("192.0.2.1"));
    } else {
        dns_resp_add_a(&r, 300, ip("93.184.216.34"));
    }
    size_t n = dns_resp_finish(&r);
    if (strcmp(q.qname, "spoof.example") == 0) {
        /* Same ID, another question: must be ignored. */
        uint8_t other[512];
        size_t on = mkquery(other, q.id, "evil.example", DNS_T_A, -1);
        struct dns_query oq;
        dns_query_parse(other, on, &oq);
        dns_resp_begin(&r, spoof, 512, &oq, other, 0, false, 1232);
        dns_resp_add_a(&r, 300, ip("6.6.6.6"));
        *spoof_len = dns_resp_finish(&r);
    }
    return n;
}

static uint8_t up_rbuf[65536];

static void up_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    *b = uv_buf_init((char *)up_rbuf, sizeof(up_rbuf));
}

static void up_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags)
{
    struct upstream *u = h->data;
    (void)flags;
    if (nread <= 0 || !addr)
        return;
    u->udp_queries++;
    u->last_id = dns_msg_id((uint8_t *)buf->base);
    if (u->dead)
        return;
    uint8_t out[4096], spoof[512];
    size_t sn;
    size_t n = upstream_answer((uint8_t *)buf->base, (size_t)nread, out,
                               sizeof(out), spoof, &sn);
    if (sn) {
        uv_buf_t sb = uv_buf_init((char *)spoof, (unsigned)sn);
        uv_udp_try_send(h, &sb, 1, addr);
    }
    if (n) {
        uv_buf_t b = uv_buf_init((char *)out, (unsigned)n);
        uv_udp_try_send(h, &b, 1, addr);
    }
}

struct up_conn {
    uv_tcp_t tcp;
    struct upstream *u;
    uint8_t buf[70000];
    size_t len;
    uint8_t out[70000];
    uv_write_t w;
};

static void up_conn_closed(uv_handle_t *h)
{
    free(h->data);
}

static void up_conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct up_conn *c = h->data;
    (void)hint;
    *b = uv_buf_init((char *)c->buf + c->len,
                     (unsigned)(sizeof(c->buf) - c->len));
}

static void up_conn_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    struct up_conn *c = st->data;
    (void)b;
    if (nread < 0) {
        uv_close((uv_handle_t *)&c->tcp, up_conn_closed);
        return;
    }
    c->len += (size_t)nread;
    if (c->len < 2 || c->len < 2 + (size_t)g16(c->buf))
        return;
    c->u->tcp_queries++;
    if (c->u->dead)
        return;
    uint8_t spoof[512];
    size_t sn;
    size_t n = upstream_answer(c->buf + 2, g16(c->buf), c->out + 2,
                               sizeof(c->out) - 2, spoof, &sn);
    c->out[0] = (uint8_t)(n >> 8);
    c->out[1] = (uint8_t)n;
    c->len = 0;
    uv_buf_t ob = uv_buf_init((char *)c->out, (unsigned)n + 2);
    uv_write(&c->w, st, &ob, 1, NULL);
}

static void up_conn_new(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct up_conn *c = calloc(1, sizeof(*c));
    c->u = server->data;
    uv_tcp_init(&loop, &c->tcp);
    c->tcp.data = c;
    uv_accept(server, (uv_stream_t *)&c->tcp);
    uv_read_start((uv_stream_t *)&c->tcp, up_conn_alloc, up_conn_read);
}

static void upstream_start(struct upstream *u)
{
    memset(u, 0, sizeof(*u));
    for (;;) {
        uv_udp_init(&loop, &u->udp);
        u->udp.data = u;
        struct sockaddr_in a = sin_of("127.0.0.1", 0);
        uv_udp_bind(&u->udp, (struct sockaddr *)&a, 0);
        int len = sizeof(a);
        uv_udp_getsockname(&u->udp, (struct sockaddr *)&a, &len);
        u->port = ntohs(a.sin_port);
        uv_tcp_init(&loop, &u->tcp);
        u->tcp.data = u;
        if (uv_tcp_bind(&u->tcp, (struct sockaddr *)&a, 0) == 0 &&
            uv_listen((uv_stream_t *)&u->tcp, 16, up_conn_new) == 0)
            break;
        uv_close((uv_handle_t *)&u->udp, NULL);
        uv_close((uv_handle_t *)&u->tcp, NULL);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    uv_udp_recv_start(&u->udp, up_alloc, up_udp_recv);
}

static void upstream_stop(struct upstream *u)
{
    uv_close((uv_handle_t *)&u->udp, NULL);
    uv_close((uv_handle_t *)&u->tcp, NULL);
}

/* ---- A UDP client ---- */

static uv_udp_t client;
static uint8_t client_reply[65536];
static size_t client_reply_len;
static bool client_got;
static uint8_t client_rbuf[65536];

static void client_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    *b = uv_buf_init((char *)client_rbuf, sizeof(client_rbuf));
}

/* Every answer's ID, for tests with many queries in flight. */
static uint8_t ids_seen[65536];
static size_t n_replies, want_replies = (size_t)-1;
static bool got_all;

static void client_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags)
{
    (void)h;
    (void)flags;
    if (nread >= DNS_HDR_LEN && addr) {
        ids_seen[dns_msg_id((uint8_t *)buf->base)]++;
        if (++n_replies >= want_replies)
            got_all = true;
    }
    if (nread <= 0 || !addr || client_got)
        return;
    memcpy(client_reply, buf->base, (size_t)nread);
    client_reply_len = (size_t)nread;
    client_got = true;
}

static void client_start(void)
{
    uv_udp_init(&loop, &client);
    struct sockaddr_in a = sin_of("127.0.0.1", 0);
    uv_udp_bind(&client, (struct sockaddr *)&a, 0);
    uv_udp_recv_start(&client, client_alloc, client_recv);
}

static void udp_send_raw(const char *addr, uint16_t port, const uint8_t *p,
                         size_t n)
{
    struct sockaddr_in to = sin_of(addr, port);
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    client_got = false;
    uv_udp_try_send(&client, &b, 1, (struct sockaddr *)&to);
}

/* Asks over UDP; true with the decoded answer if one came within ms. */
static bool ask_udp_at(const char *addr, uint16_t port, const char *name,
                       uint16_t type, int edns, unsigned ms, struct reply *r)
{
    uint8_t q[512];
    static uint16_t id = 100;
    size_t n = mkquery(q, ++id, name, type, edns);
    udp_send_raw(addr, port, q, n);
    if (!run_until(&client_got, ms))
        return false;
    if (decode(client_reply, client_reply_len, r) < 0)
        return false;
    return r->id == id;
}

static struct dns_server *srv;
static uint16_t port;

static bool ask_udp(const char *name, uint16_t type, int edns, struct reply *r)
{
    return ask_udp_at("127.0.0.1", port, name, type, edns, 3000, r);
}

/* ---- A TCP client ---- */

struct tclient {
    uv_tcp_t tcp;
    uv_connect_t connect;
    bool connected, eof, closed;
    uint8_t buf[200000];
    size_t len;
};

static void tc_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct tclient *t = h->data;
    (void)hint;
    *b = uv_buf_init((char *)t->buf + t->len,
                     (unsigned)(sizeof(t->buf) - t->len));
}

static void tc_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    struct tclient *t = st->data;
    (void)b;
    if (nread < 0) {
        t->eof = true;
        return;
    }
    t->len += (size_t)nread;
}

static void tc_connected(uv_connect_t *req, int status)
{
    struct tclient *t = req->data;
    if (status == 0) {
        t->connected = true;
        uv_read_start((uv_stream_t *)&t->tcp, tc_alloc, tc_read);
    } else {
        t->eof = true;
    }
}

static bool tc_open(struct tclient *t)
{
    memset(t, 0, sizeof(*t));
    uv_tcp_init(&loop, &t->tcp);
    t->tcp.data = t;
    t->connect.data = t;
    struct sockaddr_in a = sin_of("127.0.0.1", port);
    uv_tcp_connect(&t->connect, &t->tcp, (struct sockaddr *)&a, tc_connected);
    return run_until(&t->connected, 2000);
}

static void tc_closed(uv_handle_t *h)
{
    struct tclient *t = h->data;
    t->closed = true;
}

static void tc_close(struct tclient *t)
{
    uv_close((uv_handle_t *)&t->tcp, tc_closed);
    run_until(&t->closed, 1000);
}

static void tc_send(struct tclient *t, const uint8_t *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    uv_try_write((uv_stream_t *)&t->tcp, &b, 1);
}

/* Appends a length-prefixed query to b; returns the new length. */
static size_t tc_frame(uint8_t *b, size_t at, uint16_t id, const char *name,
                       uint16_t type)
{
    size_t n = mkquery(b + at + 2, id, name, type, -1);
    b[at] = (uint8_t)(n >> 8);
    b[at + 1] = (uint8_t)n;
    return at + 2 + n;
}

static bool tc_has_msgs;
static size_t tc_want;
static struct tclient *tc_watch;

static void tc_check(uv_idle_t *h)
{
    size_t off = 0, n = 0;
    (void)h;
    while (tc_watch->len - off >= 2 &&
           tc_watch->len - off - 2 >= g16(tc_watch->buf + off)) {
        off += 2 + (size_t)g16(tc_watch->buf + off);
        n++;
    }
    if (n >= tc_want)
        tc_has_msgs = true;
}

/* Waits for n complete messages; the i-th is decoded on demand. */
static bool tc_wait(struct tclient *t, size_t n, unsigned ms)
{
    uv_idle_t idle;
    uv_idle_init(&loop, &idle);
    tc_has_msgs = false;
    tc_want = n;
    tc_watch = t;
    uv_idle_start(&idle, tc_check);
    bool ok = run_until(&tc_has_msgs, ms);
    uv_close((uv_handle_t *)&idle, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return ok;
}

static int tc_msg(struct tclient *t, size_t i, struct reply *r)
{
    size_t off = 0;
    for (size_t k = 0; k < i; k++)
        off += 2 + (size_t)g16(t->buf + off);
    return decode(t->buf + off + 2, g16(t->buf + off), r);
}

/* ---- Setup ---- */

static struct dns_server_stats stats(void)
{
    struct dns_server_stats st;
    dns_server_get_stats(srv, &st);
    return st;
}

static bool closed;

static void on_closed(void *data)
{
    (void)data;
    closed = true;
}

static void server_start(struct dns_server_opts *o)
{
    struct err err = {0};
    o->port = 0;
    srv = dns_server_new(&loop, o, resolve, NULL, &err);
    CHECK(srv != NULL);
    CHECK_INT(dns_server_add_listener(srv, ip("127.0.0.1"), &err), 0);
    int p = dns_server_port(srv, ip("127.0.0.1"));
    CHECK(p > 0);
    port = (uint16_t)p;
}

static void server_stop(void)
{
    closed = false;
    dns_server_close(srv, on_closed, NULL);
    CHECK(run_until(&closed, 2000));
    srv = NULL;
}

static void server_start_default(void)
{
    struct sockaddr_in up[2] = {sin_of("127.0.0.1", ups[0].port),
                                sin_of("127.0.0.1", ups[1].port)};
    struct dns_server_opts o = {.upstreams = up,
                                .n_upstreams = 2,
                                .fwd_timeout_ms = 200,
                                .tcp_idle_ms = 300};
    server_start(&o);
}

/* ---- Tests: cluster names ---- */

static void test_answers(void)
{
    struct reply r;
    server_start_default();
    CHECK(ask_udp("app", DNS_T_A, -1, &r));
    CHECK_INT(r.rcode, DNS_RCODE_NOERROR);
    CHECK(r.flags & DNS_F_AA);
    CHECK(r.flags & DNS_F_QR);
    CHECK_INT(r.n_a, 1);
    CHECK_INT(r.a[0].s_addr, ip("10.0.0.2").s_addr);
    CHECK_INT(last_client.sin_addr.s_addr, ip("127.0.0.1").s_addr);

    /* Mixed case is lowercased for the resolver. */
    CHECK(ask_udp("APP.Stack", DNS_T_A, -1, &r));
    CHECK_INT(r.n_a, 1);

    /* AAAA for a cluster name: NODATA, not forwarded. */
    unsigned before = ups[0].udp_queries + ups[1].udp_queries;
    CHECK(ask_udp("app", DNS_T_AAAA, -1, &r));
    CHECK_INT(r.rcode, DNS_RCODE_NOERROR);
    CHECK_INT(r.counts[0], 0);
    CHECK_INT(ups[0].udp_queries + ups[1].udp_queries, before);

    CHECK(ask_udp("gone", DNS_T_A, -1, &r));
    CHECK_INT(r.rcode, DNS_RCODE_NXDOMAIN);
    CHECK_INT(r.counts[0], 0);

    /* tasks.X: all addresses, in varying order. */
    bool seen_other_first = false;
    uint32_t first = 0;
    for (int i = 0; i < 30; i++) {
        CHECK(ask_udp("tasks.app", DNS_T_A, -1, &r));
        CHECK_INT(r.n_a, 3);
        if (i == 0)
            first = r.a[0].s_addr;
        else if (r.a[0].s_addr != first)
            seen_other_first = true;
    }
    CHECK(seen_other_first);

    /* SRV with the targets' addresses as additional records. */
    CHECK(ask_udp("_http._tcp.app", DNS_T_SRV, -1, &r));
    CHECK_INT(r.counts[0], 2);
    CHECK_INT(r.counts[2], 2);
    CHECK_STR(r.names[0], "app.1.x.net");
    CHECK_INT(r.ports[1], 8081);
    CHECK_INT(r.n_a, 0); /* the A records are additional, not answers */

    /* PTR for a task address; NXDOMAIN for an unknown one of ours. */
    CHECK(ask_udp("3.0.0.10.in-addr.arpa", DNS_T_PTR, -1, &r));
    CHECK_INT(r.counts[0], 1);
    CHECK_STR(r.names[0], "app.1.x.net");
    CHECK(ask_udp("9.0.0.10.in-addr.arpa", DNS_T_PTR, -1, &r));
    CHECK_INT(r.rcode, DNS_RCODE_NXDOMAIN);

    /* A name with a SRV record asked for A: NODATA. */
    CHECK(ask_udp("_http._tcp.app", DNS_T_A, -1, &r));
    CHECK_INT(r.rcode, 0);
    CHECK_INT(r.counts[0], 0);
    CHECK(stats().answered >= 38);
    server_stop();
}

static void test_truncation(void)
{
    struct reply r;
    server_start_default();
    CHECK(ask_udp("many", DNS_T_A, -1, &r));
    CHECK(r.flags & DNS_F_TC);
    CHECK(r.len <= 512);
    CHECK(r.n_a > 20 && r.n_a < 100);
    CHECK(ask_udp("many", DNS_T_A, 4096, &r));
    CHECK(r.flags & DNS_F_TC);
    CHECK(r.len <= 1232);
    CHECK(r.len > 1100);
    CHECK_INT(r.counts[2], 1); /* our OPT */
    CHECK(stats().truncated >= 2);

    /* Over TCP, everything. */
    struct tclient *t = malloc(sizeof(*t));
    CHECK(tc_open(t));
    uint8_t b[600];
    size_t n = tc_frame(b, 0, 77, "many", DNS_T_A);
    tc_send(t, b, n);
    CHECK(tc_wait(t, 1, 2000));
    CHECK_INT(tc_msg(t, 0, &r), 0);
    CHECK_INT(r.id, 77);
    CHECK_INT(r.n_a, 100);
    CHECK(!(r.flags & DNS_F_TC));
    tc_close(t);
    free(t);
    server_stop();
}

static void test_malformed(void)
{
    struct reply r;
    server_start_default();
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    udp_send_raw("127.0.0.1", port, junk, 5);
    CHECK(!run_until(&client_got, 100));
    junk[2] = 0; /* a query, but nonsense */
    udp_send_raw("127.0.0.1", port, junk, sizeof(junk));
    CHECK(!run_until(&client_got, 100));
    uint8_t q[512];
    size_t n = mkquery(q, 5, "app", DNS_T_A, -1);
    udp_send_raw("127.0.0.1", port, q, n - 1); /* cut short */
    CHECK(!run_until(&client_got, 100));
    q[2] |= 0x80; /* a response sent to us */
    udp_send_raw("127.0.0.1", port, q, n);
    CHECK(!run_until(&client_got, 100));
    CHECK(stats().malformed >= 4);

    /* Other opcodes: NOTIMP; EDNS version 1: BADVERS. */
    n = mkquery(q, 6, "app", DNS_T_A, -1);
    q[2] = 4 << 3; /* NOTIFY */
    udp_send_raw("127.0.0.1", port, q, n);
    CHECK(run_until(&client_got, 1000));
    CHECK_INT(decode(client_reply, client_reply_len, &r), 0);
    CHECK_INT(r.rcode, DNS_RCODE_NOTIMP);
    n = mkquery(q, 7, "app", DNS_T_A, 1232);
    q[n - 5] = 1;
    udp_send_raw("127.0.0.1", port, q, n);
    CHECK(run_until(&client_got, 1000));
    CHECK_INT(decode(client_reply, client_reply_len, &r), 0);
    CHECK_INT(r.counts[2], 1);

    /* Still serving. */
    CHECK(ask_udp("app", DNS_T_A, -1, &r));
    CHECK_INT(r.n_a, 1);

    /* Garbage over TCP: dropped, the connection stays usable. */
    struct tclient *t = malloc(sizeof(*t));
    CHECK(tc_open(t));
    uint8_t b[600] = {0, 3, 1, 2, 3};
    n = tc_frame(b, 5, 9, "app", DNS_T_A);
    tc_send(t, b, n);
    CHECK(tc_wait(t, 1, 2000));
    CHECK_INT(tc_msg(t, 0, &r), 0);
    CHECK_INT(r.id, 9);
    tc_close(t);
    free(t);
    server_stop();
}

/* ---- Tests: forwarding ---- */

static void test_forward(void)
{
    struct reply r;
    server_start_default();
    unsigned calls = resolver_calls;
    CHECK(ask_udp("example.org", DNS_T_A, -1, &r));
    CHECK_INT(resolver_calls, calls + 1);
    CHECK_INT(r.rcode, 0);
    CHECK(!(r.flags & DNS_F_AA));
    CHECK_INT(r.n_a, 1);
    CHECK_INT(r.a[0].s_addr, ip("93.184.216.34").s_addr);
    CHECK_INT(ups[0].udp_queries, 1);
    CHECK_INT(ups[1].udp_queries, 0);

    /* The upstream's SERVFAIL sends us to the next one, whose SERVFAIL is
     * relayed. */
    CHECK(ask_udp("servfail.example", DNS_T_A, -1, &r));
    CHECK_INT(r.rcode, DNS_RCODE_SERVFAIL);
    CHECK_INT(ups[0].udp_queries, 2);
    CHECK_INT(ups[1].udp_queries, 1);

    /* TC from upstream is relayed; over TCP the query goes over TCP. */
    CHECK(ask_udp("tc.example", DNS_T_A, -1, &r));
    CHECK(r.flags & DNS_F_TC);
    struct tclient *t = malloc(sizeof(*t));
    CHECK(tc_open(t));
    uint8_t b[600];
    size_t n = tc_frame(b, 0, 501, "big.example", DNS_T_A);
    n = tc_frame(b, n, 502, "app", DNS_T_A);
    tc_send(t, b, n);
    CHECK(tc_wait(t, 2, 2000));
    CHECK_INT(ups[0].tcp_queries, 1);
    struct reply r2;
    CHECK_INT(tc_msg(t, 0, &r), 0);
    CHECK_INT(tc_msg(t, 1, &r2), 0);
    /* The cluster answer comes first: it did not wait for upstream. */
    CHECK_INT(r.id, 502);
    CHECK_INT(r2.id, 501);
    CHECK_INT(r2.n_a, 60);
    tc_close(t);
    free(t);

    /* A big upstream answer over UDP to a client without EDNS: the fake
     * ignores sizes, we cut it down to a TC answer. */
    CHECK(ask_udp("big.example", DNS_T_A, -1, &r));
    CHECK(r.flags & DNS_F_TC);
    CHECK(r.len <= 512);
    CHECK(ask_udp("big.example", DNS_T_A, 4096, &r));
    CHECK_INT(r.n_a, 60);

    /* A spoofed answer (same ID, other question) is ignored. */
    CHECK(ask_udp("spoof.example", DNS_T_A, -1, &r));
    CHECK_INT(r.n_a, 1);
    CHECK_INT(r.a[0].s_addr, ip("93.184.216.34").s_addr);
    CHECK(stats().fwd_bogus >= 1);

    /* Non-IN classes are not ours: forwarded (the fake answers). */
    uint8_t q[512];
    n = mkquery(q, 9, "version.bind", DNS_T_TXT, -1);
    q[n - 1] = 3; /* CH */
    calls = resolver_calls;
    udp_send_raw("127.0.0.1", port, q, n);
    CHECK(run_until(&client_got, 2000));
    CHECK_INT(resolver_calls, calls);
    server_stop();
}

static void test_forward_retry_timeout(void)
{
    struct reply r;
    ups[0].dead = true;
    server_start_default();
    unsigned q0 = ups[0].udp_queries, q1 = ups[1].udp_queries;
    uint64_t t0 = uv_now(&loop);
    CHECK(ask_udp("example.org", DNS_T_A, -1, &r));
    uv_update_time(&loop);
    CHECK(uv_now(&loop) - t0 >= 190);
    CHECK_INT(r.n_a, 1);
    CHECK_INT(ups[0].udp_queries, q0 + 1);
    CHECK_INT(ups[1].udp_queries, q1 + 1);
    CHECK_INT(stats().fwd_timeouts, 1);

    /* Both dead: SERVFAIL after two attempts. */
    ups[1].dead = true;
    t0 = uv_now(&loop);
    CHECK(ask_udp("example.org", DNS_T_A, -1, &r));
    uv_update_time(&loop);
    CHECK(uv_now(&loop) - t0 >= 390);
    CHECK_INT(r.rcode, DNS_RCODE_SERVFAIL);
    CHECK_INT(stats().fwd_outstanding, 0);

    /* Also over TCP. */
    struct tclient *t = malloc(sizeof(*t));
    CHECK(tc_open(t));
    uint8_t b[600];
    size_t n = tc_frame(b, 0, 600, "example.org", DNS_T_A);
    tc_send(t, b, n);
    CHECK(tc_wait(t, 1, 3000));
    CHECK_INT(tc_msg(t, 0, &r), 0);
    CHECK_INT(r.rcode, DNS_RCODE_SERVFAIL);
    CHECK_INT(r.id, 600);
    tc_close(t);
    free(t);
    ups[0].dead = ups[1].dead = false;
    server_stop();
}

static void test_forward_cap(void)
{
    struct reply r;
    ups[0].dead = ups[1].dead = true;
    struct sockaddr_in up[1] = {sin_of("127.0.0.1", ups[0].port)};
    struct dns_server_opts o = {.upstreams = up,
                                .n_upstreams = 1,
                                .fwd_timeout_ms = 5000,
                                .max_forwards = 4};
    server_start(&o);
    uint8_t q[512];
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof(name), "n%d.example", i);
        size_t n = mkquery(q, (uint16_t)(1000 + i), name, DNS_T_A, -1);
        udp_send_raw("127.0.0.1", port, q, n);
    }
    sleep_loop(100);
    struct dns_server_stats st = stats();
    CHECK_INT(st.fwd_outstanding, 4);
    CHECK_INT(st.fwd_evicted, 6);
    CHECK_INT(st.forwarded, 10);
    /* Cluster names are still answered at once. */
    CHECK(ask_udp("app", DNS_T_A, -1, &r));
    /* Closing with forwards outstanding frees everything (ASan). */
    server_stop();
    ups[0].dead = ups[1].dead = false;
}

static void test_no_upstream(void)
{
    struct reply r;
    char path[] = "/tmp/test_dns_resolv.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text = "# nothing usable\nsearch example\n"
                       "nameserver ::1\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    struct dns_server_opts o = {.resolv_conf = path};
    server_start(&o);
    CHECK(ask_udp("example.org", DNS_T_A, -1, &r));
    CHECK_INT(r.rcode, DNS_RCODE_SERVFAIL);
    CHECK(ask_udp("app", DNS_T_A, -1, &r));
    CHECK_INT(r.n_a, 1);
    server_stop();
    unlink(path);

    /* A missing file: the same. */
    o.resolv_conf = "/nonexistent/resolv.conf";
    server_start(&o);
    CHECK(ask_udp("example.org", DNS_T_A, -1, &r));
    CHECK_INT(r.rcode, DNS_RCODE_SERVFAIL);
    server_stop();
}

/* ---- Tests: TCP, listeners ---- */

static void test_tcp_pipeline_idle(void)
{
    struct reply r;
    server_start_default();
    struct tclient *t = malloc(sizeof(*t));
    CHECK(tc_open(t));
    uint8_t b[4096];
    size_t n = 0;
    for (int i = 0; i < 20; i++)
        n = tc_frame(b, n, (uint16_t)(i + 1), i % 2 ? "app" : "tasks.app",
                     DNS_T_A);
    /* Sent in two pieces, split inside a message. */
    tc_send(t, b, 7);
    sleep_loop(20);
    tc_send(t, b + 7, n - 7);
    CHECK(tc_wait(t, 20, 2000));
    for (size_t i = 0; i < 20; i++) {
        CHECK_INT(tc_msg(t, i, &r), 0);
        CHECK_INT(r.id, i + 1);
        CHECK_INT(r.n_a, i % 2 ? 1 : 3);
    }
    CHECK_INT(stats().tcp_conns, 1);
    /* Idle: the server hangs up after tcp_idle_ms (300). */
    CHECK(run_until(&t->eof, 2000));
    tc_close(t);
    sleep_loop(10);
    CHECK_INT(stats().tcp_conns, 0);

    /* A client that half-closes after its query still gets its answer. */
    CHECK(tc_open(t));
    n = tc_frame(b, 0, 42, "example.org", DNS_T_A);
    tc_send(t, b, n);
    uv_shutdown_t sd;
    uv_shutdown(&sd, (uv_stream_t *)&t->tcp, NULL);
    CHECK(tc_wait(t, 1, 2000));
    CHECK_INT(tc_msg(t, 0, &r), 0);
    CHECK_INT(r.id, 42);
    CHECK_INT(r.n_a, 1);
    CHECK(run_until(&t->eof, 2000));
    tc_close(t);
    free(t);
    server_stop();
}

static void test_listeners(void)
{
    struct reply r;
    struct err err = {0};
    struct dns_server_opts o = {.port = 0};
    server_start(&o);
    /* 127.0.0.2 is on lo without configuration. */
    CHECK_INT(dns_server_add_listener(srv, ip("127.0.0.2"), &err), 0);
    int p2 = dns_server_port(srv, ip("127.0.0.2"));
    CHECK(p2 > 0);
    CHECK(ask_udp_at("127.0.0.2", (uint16_t)p2, "app", DNS_T_A, -1, 2000, &r));
    CHECK_INT(r.n_a, 1);
    /* Counted: added twice, removed once, still there. */
    CHECK_INT(dns_server_add_listener(srv, ip("127.0.0.2"), &err), 0);
    CHECK_INT(dns_server_remove_listener(srv, ip("127.0.0.2")), 0);
    CHECK(ask_udp_at("127.0.0.2", (uint16_t)p2, "app", DNS_T_A, -1, 2000, &r));
    CHECK_INT(dns_server_remove_listener(srv, ip("127.0.0.2")), 0);
    CHECK_INT(dns_server_port(srv, ip("127.0.0.2")), -1);
    CHECK_INT(dns_server_remove_listener(srv, ip("127.0.0.2")), -1);
    sleep_loop(10);
    CHECK(!ask_udp_at("127.0.0.2", (uint16_t)p2, "app", DNS_T_A, -1, 150, &r));
    /* The other listener is unaffected. */
    CHECK(ask_udp("app", DNS_T_A, -1, &r));

    /* A port in use: a clear error. */
    struct dns_server_opts o2 = {.port = port};
    struct dns_server *s2 = dns_server_new(&loop, &o2, resolve, NULL, &err);
    CHECK(s2 != NULL);
    CHECK_INT(dns_server_add_listener(s2, ip("127.0.0.1"), &err), -1);
    CHECK(strstr(err.msg, "listen on 127.0.0.1:") != NULL);
    CHECK(strstr(err.msg, "in use") != NULL);
    closed = false;
    dns_server_close(s2, on_closed, NULL);
    CHECK(run_until(&closed, 1000));
    /* Freebind: an address on no interface (TEST-NET-1). */
    struct dns_server_opts o3 = {.freebind = true};
    s2 = dns_server_new(&loop, &o3, resolve, NULL, &err);
    CHECK_INT(dns_server_add_listener(s2, ip("192.0.2.53"), &err), 0);
    closed = false;
    dns_server_close(s2, on_closed, NULL);
    CHECK(run_until(&closed, 1000));
    server_stop();
}

/* Forwards skip nameservers that are the server itself. */
static void test_skip_self(void)
{
    struct reply r;
    struct sockaddr_in up[2];
    struct dns_server_opts o = {.upstreams = up, .n_upstreams = 2};
    /* The port is known only after binding: bind first, then point the
     * first upstream at ourselves through a second server's options. */
    server_start(&o);
    uint16_t self = port;
    server_stop();
    up[0] = sin_of("127.0.0.1", self);
    up[1] = sin_of("127.0.0.1", ups[0].port);
    struct err err = {0};
    o.port = self;
    srv = dns_server_new(&loop, &o, resolve, NULL, &err);
    if (dns_server_add_listener(srv, ip("127.0.0.1"), &err) < 0) {
        fprintf(stderr, "skip test_skip_self: %s\n", err.msg);
        server_stop();
        return;
    }
    port = self;
    unsigned q1 = ups[0].udp_queries;
    CHECK(ask_udp("example.org", DNS_T_A, -1, &r));
    CHECK_INT(r.n_a, 1);
    CHECK_INT(ups[0].udp_queries, q1 + 1);
    CHECK_INT(stats().fwd_timeouts, 0);
    server_stop();
}

/* Many forwards in flight at once, answered out of order: each client gets
 * its own answer, under its own ID. */
static void test_forward_many(void)
{
    server_start_default();
    memset(ids_seen, 0, sizeof(ids_seen));
    n_replies = 0;
    want_replies = 500;
    got_all = false;
    uint8_t q[512];
    for (int i = 0; i < 500; i++) {
        char name[32];
        snprintf(name, sizeof(name), "host%d.example", i);
        size_t n = mkquery(q, (uint16_t)(20000 + i), name, DNS_T_A, -1);
        udp_send_raw("127.0.0.1", port, q, n);
        if (i % 10 == 9) /* keep socket buffers from overflowing */
            uv_run(&loop, UV_RUN_NOWAIT);
    }
    CHECK(run_until(&got_all, 5000));
    int ok = 0;
    for (int i = 0; i < 500; i++)
        ok += ids_seen[20000 + i] == 1;
    CHECK_INT(ok, 500);
    CHECK_INT(stats().fwd_replies, 500);
    CHECK_INT(stats().fwd_outstanding, 0);
    want_replies = (size_t)-1;
    server_stop();
}

/* Random datagrams and TCP streams: nothing breaks, service continues. */
static void test_garbage_storm(void)
{
    struct reply r;
    server_start_default();
    uint32_t x = 12345;
    uint8_t junk[600];
    for (int i = 0; i < 3000; i++) {
        x = x * 1103515245u + 12345u;
        size_t n = (x >> 7) % sizeof(junk);
        for (size_t k = 0; k < n; k++) {
            x = x * 1103515245u + 12345u;
            junk[k] = (uint8_t)(x >> 16);
        }
        if (i % 3 == 0 && n > 40) {
            /* A valid query, then damage to a few of its bytes. */
            size_t qn = mkquery(junk, (uint16_t)i, "tasks.app", DNS_T_A, 1232);
            for (int k = 0; k < 3; k++) {
                x = x * 1103515245u + 12345u;
                junk[(x >> 16) % qn] ^= (uint8_t)(x >> 8);
            }
            n = qn;
        }
        udp_send_raw("127.0.0.1", port, junk, n);
        if (i % 10 == 9) /* the loop reads at most 32 per turn */
            uv_run(&loop, UV_RUN_NOWAIT);
    }
    struct tclient *t = malloc(sizeof(*t));
    for (int c = 0; c < 5; c++) {
        CHECK(tc_open(t));
        for (int i = 0; i < 20; i++) {
            for (size_t k = 0; k < sizeof(junk); k++) {
                x = x * 1103515245u + 12345u;
                junk[k] = (uint8_t)(x >> 16);
            }
            if (i == 0) {
                junk[0] = 0;
                junk[1] = 0;
            }
            tc_send(t, junk, (x >> 8) % sizeof(junk));
        }
        sleep_loop(20);
        tc_close(t);
    }
    free(t);
    sleep_loop(200);
    CHECK(ask_udp("app", DNS_T_A, -1, &r));
    CHECK_INT(r.n_a, 1);
    struct dns_server_stats st = stats();
    if (getenv("HARNESS_VERBOSE"))
        fprintf(
            stderr, "storm: udp %llu tcp %llu malformed %llu answered %llu\n",
            (unsigned long long)st.queries_udp,
            (unsigned long long)st.queries_tcp,
            (unsigned long long)st.malformed, (unsigned long long)st.answered);
    CHECK(st.queries_udp > 2900);
    CHECK(st.malformed > 1000);
    server_stop();
}

/* ---- Pure helpers ---- */

static void test_helpers(void)
{
    struct in_addr a;
    CHECK(dns_ptr_name_to_addr("20.0.0.10.in-addr.arpa", &a));
    CHECK_INT(a.s_addr, ip("10.0.0.20").s_addr);
    CHECK(dns_ptr_name_to_addr("0.255.1.192.in-addr.arpa", &a));
    CHECK_INT(a.s_addr, ip("192.1.255.0").s_addr);
    CHECK(!dns_ptr_name_to_addr("0.0.10.in-addr.arpa", &a));
    CHECK(!dns_ptr_name_to_addr("256.0.0.10.in-addr.arpa", &a));
    CHECK(!dns_ptr_name_to_addr("01.0.0.10.in-addr.arpa", &a));
    CHECK(!dns_ptr_name_to_addr("1.0.0.10.in-addr.arpa.com", &a));
    CHECK(!dns_ptr_name_to_addr("1.0.0.10.ip6.arpa", &a));
    CHECK(!dns_ptr_name_to_addr("1.0.0.1000.in-addr.arpa", &a));

    struct in_addr ns[3];
    CHECK_INT(dns_resolvconf_parse("# c\nnameserver 10.0.0.1\n"
                                   "nameserver  ::1\n"
                                   "search a b\n"
                                   "nameserver\t192.168.1.1 # x\n"
                                   "nameserver bogus\n"
                                   "nameserver 1.1.1.1\n"
                                   "nameserver 8.8.8.8\n",
                                   ns, 3),
              3);
    CHECK_INT(ns[0].s_addr, ip("10.0.0.1").s_addr);
    CHECK_INT(ns[1].s_addr, ip("192.168.1.1").s_addr);
    CHECK_INT(ns[2].s_addr, ip("1.1.1.1").s_addr);
    CHECK_INT(dns_resolvconf_parse("", ns, 3), 0);

    static struct dns_answer ans;
    memset(&ans, 0, sizeof(ans));
    for (int i = 0; i < DNS_MAX_ADDRS; i++)
        CHECK(dns_answer_add_a(&ans, ip("1.2.3.4")));
    CHECK(!dns_answer_add_a(&ans, ip("1.2.3.4")));
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[299] = '\0';
    CHECK(!dns_answer_set_ptr(&ans, longname));
    CHECK(!dns_answer_add_srv(&ans, 0, 0, 1, longname, ip("0.0.0.0")));
    CHECK(dns_answer_set_ptr(&ans, "x.y"));
    CHECK_STR(ans.ptr, "x.y");
}

int main(void)
{
    uv_loop_init(&loop);
    upstream_start(&ups[0]);
    upstream_start(&ups[1]);
    client_start();

    RUN(test_helpers);
    RUN(test_answers);
    RUN(test_truncation);
    RUN(test_malformed);
    RUN(test_forward);
    RUN(test_forward_retry_timeout);
    RUN(test_forward_cap);
    RUN(test_forward_many);
    RUN(test_garbage_storm);
    RUN(test_no_upstream);
    RUN(test_tcp_pipeline_idle);
    RUN(test_listeners);
    RUN(test_skip_self);

    upstream_stop(&ups[0]);
    upstream_stop(&ups[1]);
    uv_close((uv_handle_t *)&client, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    HARNESS_END();
}
