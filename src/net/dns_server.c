// SPDX-License-Identifier: Apache-2.0
// The embedded DNS server: UDP and TCP listeners on the loop, cluster answers
// built straight into a preallocated buffer from the resolver's verdict, and
// a forwarder that relays other queries to the host's resolvers with fresh
// IDs on a few random-port sockets, per-attempt timeouts and retries.
//
// Forwarding, in short: a UDP query is relayed over UDP; an upstream answer
// with TC set is relayed as is, so the client asks again over TCP, and a
// query that arrives over TCP is forwarded over TCP. Outstanding forwards
// live in a fixed array of slots (a hash by socket and ID finds them; a FIFO
// in deadline order times them out and, when all are taken, gives the
// oldest to drop).
#include "net/dns_server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "net/dns_msg.h"

#define UP_SOCKS        4    /* upstream UDP sockets, each its own port */
#define UP_MAX          8    /* nameservers kept from resolv.conf */
#define RESOLV_CHECK_MS 5000 /* how often resolv.conf is stat()ed */
#define FWD_QUERY_MAX   4096 /* larger queries are not forwarded */
#define TCP_WQ_MAX      (256 * 1024) /* unread answers before we hang up */
#define TCP_CONN_FWD    32  /* forwards per TCP connection before pausing */
#define UDP_QUEUED_MAX  256 /* answers waiting for a full socket to drain */
#define RECV_BUF        (64 * 1024)
#define LISTEN_BACKLOG  128

enum fwd_state { FWD_FREE, FWD_IDLE, FWD_UDP, FWD_TCP };

struct dns_listener {
    struct dns_server *srv;
    struct dns_listener *next;
    struct in_addr addr;
    uint16_t port;
    unsigned refs;
    int open; /* handles not closed yet */
    uv_udp_t udp;
    uv_tcp_t tcp;
};

/* A client's TCP connection. Stays in the server's list until its memory is
 * freed, so walking the list is safe while connections close. */
struct dns_conn {
    struct dns_server *srv;
    struct dns_conn *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t idle;
    struct sockaddr_in peer;
    uint8_t *rbuf;
    size_t rlen, rcap;
    unsigned n_fwd; /* forwards outstanding for it */
    size_t wq;      /* bytes in queued writes */
    int open;
    bool closing, eof, paused, reading, processing, resume;
};

struct conn_wreq {
    uv_write_t req;
    struct dns_conn *conn;
    size_t len;
    uint8_t data[];
};

struct udp_sreq {
    uv_udp_send_t req;
    struct dns_server *srv;
    uint8_t data[];
};

/* One forward attempt over TCP (for queries that came over TCP). */
struct fwd_tcp {
    struct dns_server *srv;
    struct fwd *slot; /* NULL once the attempt is abandoned */
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uint8_t *wbuf;
    uint8_t *rbuf;
    size_t rlen, rcap;
};

struct fwd {
    enum fwd_state state;
    uint16_t id;  /* upstream ID */
    uint8_t sock; /* upstream socket index */
    int32_t hnext, prev, next;
    uint64_t deadline;
    unsigned attempt; /* attempts made */
    struct sockaddr_in up;
    /* The client: over UDP (lis) or TCP (conn); neither once it is gone. */
    struct dns_listener *lis;
    struct dns_conn *conn;
    struct sockaddr_in client;
    uint16_t client_id;
    size_t client_limit;
    uint8_t *query; /* the client's query, with our ID */
    size_t qlen;
    struct fwd_tcp *tcp;
};

struct dns_server {
    uv_loop_t *loop;
    dns_resolve_fn resolve;
    void *resolve_data;

    uint16_t port;
    unsigned timeout_ms, attempts;
    size_t max_conns;
    unsigned idle_ms;
    uint16_t edns_size;
    bool freebind;

    char *resolv_path;
    bool fixed_upstreams, resolv_loaded;
    uint64_t resolv_checked;
    struct stat resolv_st;
    struct sockaddr_in up[UP_MAX];
    size_t n_up;

    struct dns_listener *listeners;
    struct dns_conn *conns;
    size_t n_conns;
    uv_udp_t up_sock[UP_SOCKS];
    uv_timer_t fwd_timer;
    uv_idle_t resume_idle;

    struct fwd *fwd;
    size_t max_fwd, n_fwd;
    int32_t free_head, fifo_head, fifo_tail;
    int32_t *buckets;
    unsigned bucket_bits;

    uint8_t rnd[256];
    size_t rnd_off;
    uint64_t shuffle_state;
    size_t udp_queued;

    unsigned n_handles;
    bool closing;
    dns_server_closed_cb closed_cb;
    void *closed_data;
    struct dns_server_stats st;

    /* Hot-path scratch: one query at a time, synchronously. */
    struct dns_query q;
    struct dns_answer ans;
    uint8_t rbuf[RECV_BUF];
    uint8_t out[DNS_TCP_MAX];
};

static void conn_close(struct dns_conn *c);
static void conn_fwd_done(struct dns_conn *c);
static void fwd_send(struct dns_server *s, struct fwd *f);
static void fwd_release(struct dns_server *s, struct fwd *f);

/* ---- Small helpers ---- */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static const char *addr_str(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
    return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void handle_closed(struct dns_server *s);

/* Unpredictable bytes for upstream IDs and socket choice (anti-spoofing),
 * from the kernel in batches. */
static void rnd_bytes(struct dns_server *s, void *out, size_t n)
{
    uint8_t *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s->rnd_off == sizeof(s->rnd)) {
            if (uv_random(NULL, NULL, s->rnd, sizeof(s->rnd), 0, NULL) < 0) {
                /* No entropy source: degrade to the shuffle generator. */
                for (size_t k = 0; k < sizeof(s->rnd); k++) {
                    s->shuffle_state ^= s->shuffle_state >> 12;
                    s->shuffle_state ^= s->shuffle_state << 25;
                    s->shuffle_state ^= s->shuffle_state >> 27;
                    s->rnd[k] =
                        (uint8_t)((s->shuffle_state * 0x2545F4914F6CDD1DULL) >>
                                  56);
                }
            }
            s->rnd_off = 0;
        }
        o[i] = s->rnd[s->rnd_off++];
    }
}

/* xorshift64*: enough to shuffle A records. */
static uint32_t shuffle_next(struct dns_server *s)
{
    uint64_t x = s->shuffle_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->shuffle_state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

/* ---- Resolver helpers (public) ---- */

bool dns_answer_add_a(struct dns_answer *ans, struct in_addr addr)
{
    if (ans->n_a >= DNS_MAX_ADDRS)
        return false;
    ans->a[ans->n_a++] = addr;
    return true;
}

bool dns_answer_add_srv(struct dns_answer *ans, uint16_t priority,
                        uint16_t weight, uint16_t port, const char *target,
                        struct in_addr addr)
{
    size_t n = strlen(target);
    if (ans->n_srv >= DNS_MAX_SRV || n >= DNS_NAME_MAX)
        return false;
    struct dns_srv_rr *r = &ans->srv[ans->n_srv++];
    r->priority = priority;
    r->weight = weight;
    r->port = port;
    r->addr = addr;
    memcpy(r->target, target, n + 1);
    return true;
}

bool dns_answer_set_ptr(struct dns_answer *ans, const char *name)
{
    size_t n = strlen(name);
    if (n >= DNS_NAME_MAX)
        return false;
    memcpy(ans->ptr, name, n + 1);
    return true;
}

bool dns_ptr_name_to_addr(const char *qname, struct in_addr *out)
{
    unsigned oct[4];
    const char *p = qname;
    for (int i = 0; i < 4; i++) {
        unsigned v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (digits == 3 || (digits == 1 && v == 0))
                return false; /* too long, or a leading zero */
            v = v * 10 + (unsigned)(*p++ - '0');
            digits++;
        }
        if (digits == 0 || v > 255 || *p++ != '.')
            return false;
        oct[i] = v;
    }
    if (strcmp(p, "in-addr.arpa") != 0)
        return false;
    out->s_addr = htonl(oct[3] << 24 | oct[2] << 16 | oct[1] << 8 | oct[0]);
    return true;
}

size_t dns_resolvconf_parse(const char *text, struct in_addr *out, size_t max)
{
    size_t n = 0;
    const char *line = text;
    while (*line && n < max) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[256];
        if (len < sizeof(buf)) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            char *save = NULL;
            char *key = strtok_r(buf, " \t\r", &save);
            char *val = key ? strtok_r(NULL, " \t\r", &save) : NULL;
            struct in_addr a;
            if (key && val && strcmp(key, "nameserver") == 0 &&
                inet_pton(AF_INET, val, &a) == 1)
                out[n++] = a;
        }
        line += len;
        if (*line == '\n')
            line++;
    }
    return n;
}

/* ---- Upstreams ---- */

static void resolv_load(struct dns_server *s, bool force)
{
    if (s->fixed_upstreams)
        return;
    uint64_t now = uv_now(s->loop);
    if (!force && s->resolv_loaded && now - s->resolv_checked < RESOLV_CHECK_MS)
        return;
    s->resolv_checked = now;
    struct stat st;
    if (stat(s->resolv_path, &st) < 0) {
        if (s->n_up || !s->resolv_loaded)
            log_warn("dns: no upstream resolvers: cannot read '%s': %s",
                     s->resolv_path, strerror(errno));
        s->n_up = 0;
        s->resolv_loaded = true;
        memset(&s->resolv_st, 0, sizeof(s->resolv_st));
        return;
    }
    if (!force && s->resolv_loaded && st.st_ino == s->resolv_st.st_ino &&
        st.st_size == s->resolv_st.st_size &&
        st.st_mtim.tv_sec == s->resolv_st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == s->resolv_st.st_mtim.tv_nsec)
        return;
    s->resolv_st = st;
    s->resolv_loaded = true;

    struct err err = {0};
    _cleanup_free_ char *text = NULL;
    if (fs_read_file(s->resolv_path, &text, NULL, &err) < 0) {
        log_warn("dns: no upstream resolvers: %s", err.msg);
        s->n_up = 0;
        return;
    }
    struct in_addr a[UP_MAX];
    size_t n = dns_resolvconf_parse(text, a, UP_MAX);
    for (size_t i = 0; i < n; i++) {
        memset(&s->up[i], 0, sizeof(s->up[i]));
        s->up[i].sin_family = AF_INET;
        s->up[i].sin_port = htons(53);
        s->up[i].sin_addr = a[i];
    }
    s->n_up = n;
    if (n == 0)
        log_warn("dns: no upstream resolvers: no IPv4 nameserver in '%s'",
                 s->resolv_path);
    else
        log_info("dns: %zu upstream resolver(s) from '%s'", n, s->resolv_path);
}

static bool is_own_address(const struct dns_server *s,
                           const struct sockaddr_in *a)
{
    for (const struct dns_listener *l = s->listeners; l; l = l->next)
        if (l->addr.s_addr == a->sin_addr.s_addr &&
            htons(l->port) == a->sin_port)
            return true;
    return false;
}

/* The upstreams to use now: configured ones that are not ourselves. */
static size_t upstreams(struct dns_server *s, struct sockaddr_in *out)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_up; i++)
        if (!is_own_address(s, &s->up[i]))
            out[n++] = s->up[i];
    return n;
}

static unsigned max_attempts(const struct dns_server *s, size_t n_up)
{
    if (s->attempts)
        return s->attempts;
    return n_up == 0 ? 1 : n_up > 3 ? 3 : (unsigned)n_up;
}

/* ---- Sending answers ---- */

static void on_udp_sent(uv_udp_send_t *req, int status)
{
    struct udp_sreq *w = (struct udp_sreq *)req;
    (void)status;
    w->srv->udp_queued--;
    free(w);
}

static void udp_send(struct dns_server *s, struct dns_listener *l,
                     const struct sockaddr_in *to, const uint8_t *data,
                     size_t len)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int r = uv_udp_try_send(&l->udp, &b, 1, (const struct sockaddr *)to);
    if (r >= 0)
        return;
    if ((r != UV_EAGAIN && r != UV_ENOSYS) || s->udp_queued >= UDP_QUEUED_MAX) {
        s->st.send_dropped++;
        log_debug("dns: udp answer dropped: %s", uv_strerror(r));
        return;
    }
    struct udp_sreq *w = xmalloc(sizeof(*w) + len);
    w->srv = s;
    memcpy(w->data, data, len);
    b = uv_buf_init((char *)w->data, (unsigned)len);
    if (uv_udp_send(&w->req, &l->udp, &b, 1, (const struct sockaddr *)to,
                    on_udp_sent) < 0) {
        free(w);
        s->st.send_dropped++;
        return;
    }
    s->udp_queued++;
}

static void on_conn_write(uv_write_t *req, int status)
{
    struct conn_wreq *w = (struct conn_wreq *)req;
    struct dns_conn *c = w->conn;
    c->wq -= w->len;
    free(w);
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->eof && c->n_fwd == 0 && c->wq == 0)
        conn_close(c);
}

/* Sends one length-prefixed message; hangs up on a client that does not
 * read its answers. */
static void conn_send(struct dns_conn *c, const uint8_t *msg, size_t len)
{
    if (c->closing)
        return;
    uint8_t pre[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    uv_buf_t bufs[2] = {uv_buf_init((char *)pre, 2),
                        uv_buf_init((char *)msg, (unsigned)len)};
    size_t done = 0, total = len + 2;
    if (c->wq == 0) {
        int r = uv_try_write((uv_stream_t *)&c->tcp, bufs, 2);
        if (r >= 0)
            done = (size_t)r;
        else if (r != UV_EAGAIN) {
            conn_close(c);
            return;
        }
    }
    uv_timer_again(&c->idle);
    if (done == total)
        return;
    size_t rest = total - done;
    if (c->wq + rest > TCP_WQ_MAX) {
        conn_close(c);
        return;
    }
    struct conn_wreq *w = xmalloc(sizeof(*w) + rest);
    w->conn = c;
    w->len = rest;
    size_t o = 0;
    if (done < 2) {
        memcpy(w->data, pre + done, 2 - done);
        o = 2 - done;
        memcpy(w->data + o, msg, len);
    } else {
        memcpy(w->data, msg + (done - 2), rest);
    }
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)rest);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_conn_write) < 0) {
        free(w);
        conn_close(c);
        return;
    }
    c->wq += rest;
}

/* ---- Forward slots ---- */

static uint32_t fwd_hash(const struct dns_server *s, unsigned sock, uint16_t id)
{
    uint32_t key = (uint32_t)sock << 16 | id;
    return (key * 2654435761u) >> (32 - s->bucket_bits);
}

static struct fwd *fwd_find(struct dns_server *s, unsigned sock, uint16_t id)
{
    for (int32_t i = s->buckets[fwd_hash(s, sock, id)]; i >= 0;
         i = s->fwd[i].hnext) {
        struct fwd *f = &s->fwd[i];
        if (f->sock == sock && f->id == id)
            return f;
    }
    return NULL;
}

static void fwd_hash_insert(struct dns_server *s, struct fwd *f)
{
    uint32_t h = fwd_hash(s, f->sock, f->id);
    f->hnext = s->buckets[h];
    s->buckets[h] = (int32_t)(f - s->fwd);
}

static void fwd_hash_remove(struct dns_server *s, struct fwd *f)
{
    int32_t idx = (int32_t)(f - s->fwd);
    int32_t *pp = &s->buckets[fwd_hash(s, f->sock, f->id)];
    while (*pp >= 0) {
        if (*pp == idx) {
            *pp = f->hnext;
            return;
        }
        pp = &s->fwd[*pp].hnext;
    }
}

static void fifo_push(struct dns_server *s, struct fwd *f)
{
    int32_t idx = (int32_t)(f - s->fwd);
    f->deadline = uv_now(s->loop) + s->timeout_ms;
    f->next = -1;
    f->prev = s->fifo_tail;
    if (s->fifo_tail >= 0)
        s->fwd[s->fifo_tail].next = idx;
    else
        s->fifo_head = idx;
    s->fifo_tail = idx;
}

static void fifo_remove(struct dns_server *s, struct fwd *f)
{
    if (f->prev >= 0)
        s->fwd[f->prev].next = f->next;
    else
        s->fifo_head = f->next;
    if (f->next >= 0)
        s->fwd[f->next].prev = f->prev;
    else
        s->fifo_tail = f->prev;
    f->prev = f->next = -1;
}

static void on_fwd_tcp_closed(uv_handle_t *h)
{
    struct fwd_tcp *t = h->data;
    struct dns_server *s = t->srv;
    free(t->wbuf);
    free(t->rbuf);
    free(t);
    handle_closed(s);
}

/* Ends the attempt in flight (if any); the slot stays allocated, idle. */
static void fwd_abort_attempt(struct dns_server *s, struct fwd *f)
{
    if (f->state == FWD_UDP) {
        fwd_hash_remove(s, f);
        fifo_remove(s, f);
    } else if (f->state == FWD_TCP) {
        fifo_remove(s, f);
        f->tcp->slot = NULL;
        uv_close((uv_handle_t *)&f->tcp->tcp, on_fwd_tcp_closed);
        f->tcp = NULL;
    }
    f->state = FWD_IDLE;
}

static void fwd_release(struct dns_server *s, struct fwd *f)
{
    fwd_abort_attempt(s, f);
    struct dns_conn *c = f->conn;
    free(f->query);
    f->query = NULL;
    f->conn = NULL;
    f->lis = NULL;
    f->state = FWD_FREE;
    f->next = s->free_head;
    s->free_head = (int32_t)(f - s->fwd);
    s->n_fwd--;
    if (c)
        conn_fwd_done(c);
}

static struct fwd *fwd_alloc(struct dns_server *s)
{
    if (s->free_head < 0) {
        /* Full: the oldest attempt gives way (its client will retry). */
        assert(s->fifo_head >= 0);
        s->st.fwd_evicted++;
        fwd_release(s, &s->fwd[s->fifo_head]);
    }
    struct fwd *f = &s->fwd[s->free_head];
    s->free_head = f->next;
    f->state = FWD_IDLE;
    f->prev = f->next = f->hnext = -1;
    f->attempt = 0;
    f->tcp = NULL;
    s->n_fwd++;
    return f;
}

/* Delivers an answer (in a buffer we may modify) to the slot's client and
 * frees the slot. */
static void fwd_deliver(struct dns_server *s, struct fwd *f, uint8_t *pkt,
                        size_t len)
{
    dns_msg_set_id(pkt, f->client_id);
    if (f->conn) {
        conn_send(f->conn, pkt, len);
    } else if (f->lis) {
        if (len > f->client_limit)
            len = dns_reply_truncate(pkt, len);
        udp_send(s, f->lis, &f->client, pkt, len);
    }
    fwd_release(s, f);
}

/* No upstream answered: SERVFAIL to the client. */
static void fwd_fail(struct dns_server *s, struct fwd *f)
{
    struct dns_query q;
    uint8_t buf[DNS_HDR_LEN + DNS_NAME_WIRE_MAX + 4 + 11];
    size_t n = 0;
    if (dns_query_parse(f->query, f->qlen, &q) == DNS_OK) {
        q.id = f->client_id;
        n = dns_build_error(buf, sizeof(buf), &q, f->query, DNS_RCODE_SERVFAIL,
                            s->edns_size);
    }
    if (n) {
        s->st.errors_sent++;
        fwd_deliver(s, f, buf, n);
    } else {
        fwd_release(s, f);
    }
}

/* The attempt failed or timed out: the next upstream, or SERVFAIL. */
static void fwd_next(struct dns_server *s, struct fwd *f)
{
    struct sockaddr_in up[UP_MAX];
    fwd_abort_attempt(s, f);
    if (f->attempt >= max_attempts(s, upstreams(s, up))) {
        fwd_fail(s, f);
        return;
    }
    s->st.fwd_retries++;
    fwd_send(s, f);
}

static void fwd_arm(struct dns_server *s);

static void on_fwd_timer(uv_timer_t *t)
{
    struct dns_server *s = t->data;
    uint64_t now = uv_now(s->loop);
    while (s->fifo_head >= 0 && s->fwd[s->fifo_head].deadline <= now) {
        s->st.fwd_timeouts++;
        fwd_next(s, &s->fwd[s->fifo_head]);
    }
    fwd_arm(s);
}

static void fwd_arm(struct dns_server *s)
{
    if (s->closing)
        return;
    if (s->fifo_head < 0) {
        uv_timer_stop(&s->fwd_timer);
        return;
    }
    uint64_t now = uv_now(s->loop), d = s->fwd[s->fifo_head].deadline;
    uv_timer_start(&s->fwd_timer, on_fwd_timer, d > now ? d - now : 0, 0);
}

/* An answer from upstream, UDP or TCP: retry on SERVFAIL / REFUSED while
 * attempts remain, else relay. pkt may be modified. */
static void fwd_answer(struct dns_server *s, struct fwd *f, uint8_t *pkt,
                       size_t len)
{
    int rcode = dns_msg_rcode(pkt);
    struct sockaddr_in up[UP_MAX];
    if ((rcode == DNS_RCODE_SERVFAIL || rcode == DNS_RCODE_REFUSED) &&
        f->attempt < max_attempts(s, upstreams(s, up))) {
        fwd_next(s, f);
        return;
    }
    s->st.fwd_replies++;
    fwd_deliver(s, f, pkt, len);
}

static void on_up_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                       const struct sockaddr *addr, unsigned flags)
{
    struct dns_server *s = h->data;
    if (nread <= 0 || !addr || addr->sa_family != AF_INET ||
        (flags & UV_UDP_PARTIAL))
        return;
    uint8_t *pkt = (uint8_t *)buf->base;
    size_t len = (size_t)nread;
    const struct sockaddr_in *from = (const struct sockaddr_in *)addr;
    unsigned sock = (unsigned)(h - s->up_sock);
    struct fwd *f =
        len >= DNS_HDR_LEN ? fwd_find(s, sock, dns_msg_id(pkt)) : NULL;
    if (!f || f->state != FWD_UDP ||
        from->sin_addr.s_addr != f->up.sin_addr.s_addr ||
        from->sin_port != f->up.sin_port ||
        dns_reply_check(pkt, len, f->query, f->qlen) != DNS_OK) {
        s->st.fwd_bogus++;
        return;
    }
    fwd_answer(s, f, pkt, len);
}

static void on_fwd_tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct fwd_tcp *t = h->data;
    (void)hint;
    size_t need = t->rlen < 2 ? 512 : 2 + (size_t)get16(t->rbuf);
    if (need <= t->rlen)
        need = t->rlen + 1;
    if (t->rcap < need) {
        t->rbuf = xrealloc(t->rbuf, need);
        t->rcap = need;
    }
    *b = uv_buf_init((char *)t->rbuf + t->rlen, (unsigned)(t->rcap - t->rlen));
}

static void on_fwd_tcp_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    struct fwd_tcp *t = st->data;
    struct fwd *f = t->slot;
    (void)b;
    if (!f || nread == 0)
        return;
    if (nread < 0) {
        fwd_next(t->srv, f);
        return;
    }
    t->rlen += (size_t)nread;
    if (t->rlen < 2 || t->rlen < 2 + (size_t)get16(t->rbuf))
        return;
    size_t len = get16(t->rbuf);
    if (dns_reply_check(t->rbuf + 2, len, f->query, f->qlen) != DNS_OK) {
        t->srv->st.fwd_bogus++;
        fwd_next(t->srv, f);
        return;
    }
    fwd_answer(t->srv, f, t->rbuf + 2, len);
}

static void on_fwd_tcp_write(uv_write_t *req, int status)
{
    struct fwd_tcp *t = req->data;
    if (status < 0 && t->slot)
        fwd_next(t->srv, t->slot);
}

static void on_fwd_tcp_connect(uv_connect_t *req, int status)
{
    struct fwd_tcp *t = req->data;
    struct fwd *f = t->slot;
    if (!f)
        return;
    if (status < 0) {
        fwd_next(t->srv, f);
        return;
    }
    uv_buf_t b = uv_buf_init((char *)t->wbuf, (unsigned)(f->qlen + 2));
    if (uv_write(&t->write, (uv_stream_t *)&t->tcp, &b, 1, on_fwd_tcp_write) <
            0 ||
        uv_read_start((uv_stream_t *)&t->tcp, on_fwd_tcp_alloc,
                      on_fwd_tcp_read) < 0)
        fwd_next(t->srv, f);
}

static void fwd_send_tcp(struct dns_server *s, struct fwd *f)
{
    struct fwd_tcp *t = xcalloc(1, sizeof(*t));
    t->srv = s;
    t->slot = f;
    uv_tcp_init(s->loop, &t->tcp);
    s->n_handles++;
    t->tcp.data = t;
    t->connect.data = t;
    t->write.data = t;
    t->wbuf = xmalloc(f->qlen + 2);
    t->wbuf[0] = (uint8_t)(f->qlen >> 8);
    t->wbuf[1] = (uint8_t)f->qlen;
    memcpy(t->wbuf + 2, f->query, f->qlen);
    f->tcp = t;
    f->state = FWD_TCP;
    fifo_push(s, f);
    if (uv_tcp_connect(&t->connect, &t->tcp, (const struct sockaddr *)&f->up,
                       on_fwd_tcp_connect) < 0)
        fwd_next(s, f);
}

static void fwd_send(struct dns_server *s, struct fwd *f)
{
    struct sockaddr_in up[UP_MAX];
    size_t n = upstreams(s, up);
    if (n == 0) {
        fwd_fail(s, f);
        return;
    }
    f->up = up[f->attempt % n];
    f->attempt++;
    uint8_t r[3];
    rnd_bytes(s, r, sizeof(r));
    f->sock = (uint8_t)(r[0] % UP_SOCKS);
    f->id = get16(r + 1);
    if (f->conn) {
        dns_msg_set_id(f->query, f->id);
        fwd_send_tcp(s, f);
        if (!uv_is_active((uv_handle_t *)&s->fwd_timer))
            fwd_arm(s);
        return;
    }
    while (fwd_find(s, f->sock, f->id)) { /* rare: pick another ID */
        rnd_bytes(s, r + 1, 2);
        f->id = get16(r + 1);
    }
    dns_msg_set_id(f->query, f->id);
    fwd_hash_insert(s, f);
    f->state = FWD_UDP;
    fifo_push(s, f);
    if (!uv_is_active((uv_handle_t *)&s->fwd_timer))
        fwd_arm(s);
    uv_buf_t b = uv_buf_init((char *)f->query, (unsigned)f->qlen);
    int rc = uv_udp_try_send(&s->up_sock[f->sock], &b, 1,
                             (const struct sockaddr *)&f->up);
    if (rc < 0 && rc != UV_EAGAIN) {
        char a[INET_ADDRSTRLEN];
        log_debug("dns: forward to %s: %s", addr_str(f->up.sin_addr, a),
                  uv_strerror(rc));
        fwd_next(s, f);
    }
    /* EAGAIN: as if lost; the timeout moves on to the next upstream. */
}

/* Starts forwarding the client's query pkt (q parsed from it). */
static void forward(struct dns_server *s, const uint8_t *pkt, size_t len,
                    const struct dns_query *q, struct dns_listener *lis,
                    struct dns_conn *conn, const struct sockaddr_in *client)
{
    if (len > FWD_QUERY_MAX) {
        s->st.malformed++;
        return;
    }
    resolv_load(s, false);
    struct fwd *f = fwd_alloc(s);
    f->query = xmalloc(len);
    memcpy(f->query, pkt, len);
    f->qlen = len;
    f->client_id = q->id;
    f->client = *client;
    f->lis = conn ? NULL : lis;
    f->conn = conn;
    if (conn) {
        conn->n_fwd++;
        f->client_limit = DNS_TCP_MAX;
    } else {
        f->client_limit =
            q->edns && q->edns_size > DNS_UDP_MIN ? q->edns_size : DNS_UDP_MIN;
    }
    s->st.forwarded++;
    fwd_send(s, f);
}

/* ---- Queries ---- */

static bool want_a(uint16_t qtype)
{
    return qtype == DNS_T_A || qtype == DNS_T_ANY;
}

/* Renders the resolver's answer into out; returns its length (0 if even the
 * question does not fit, which a parsed query cannot cause). */
static size_t render(struct dns_server *s, const struct dns_query *q,
                     const uint8_t *pkt, struct dns_answer *a, uint8_t *out,
                     size_t limit)
{
    size_t n_a = a->n_a > DNS_MAX_ADDRS ? DNS_MAX_ADDRS : a->n_a;
    size_t n_srv = a->n_srv > DNS_MAX_SRV ? DNS_MAX_SRV : a->n_srv;
    bool has;
    if (a->verdict == DNS_NXDOMAIN)
        has = false;
    else if (want_a(q->qtype))
        has = n_a > 0;
    else if (q->qtype == DNS_T_SRV)
        has = n_srv > 0;
    else if (q->qtype == DNS_T_PTR)
        has = a->ptr[0] != '\0';
    else
        has = false;
    int rcode = a->verdict == DNS_NXDOMAIN ? DNS_RCODE_NXDOMAIN
                : has                      ? DNS_RCODE_NOERROR
                                           : (a->rcode_if_empty & 0xf);

    struct dns_resp r;
    if (dns_resp_begin(&r, out, limit, q, pkt, rcode, true, s->edns_size) < 0)
        return 0;
    if (has && want_a(q->qtype)) {
        if (a->shuffle)
            for (size_t i = n_a - 1; i > 0; i--) {
                size_t j = shuffle_next(s) % (i + 1);
                struct in_addr t = a->a[i];
                a->a[i] = a->a[j];
                a->a[j] = t;
            }
        for (size_t i = 0; i < n_a; i++)
            if (dns_resp_add_a(&r, a->ttl, a->a[i]) < 0)
                break;
    } else if (has && q->qtype == DNS_T_SRV) {
        for (size_t i = 0; i < n_srv && !r.truncated; i++) {
            a->srv[i].target[DNS_NAME_MAX - 1] = '\0';
            dns_resp_add_srv(&r, a->ttl, a->srv[i].priority, a->srv[i].weight,
                             a->srv[i].port, a->srv[i].target);
        }
        if (!r.truncated)
            for (size_t i = 0; i < n_srv; i++)
                if (a->srv[i].addr.s_addr != 0)
                    dns_resp_add_extra_a(&r, a->srv[i].target, a->ttl,
                                         a->srv[i].addr);
    } else if (has && q->qtype == DNS_T_PTR) {
        a->ptr[DNS_NAME_MAX - 1] = '\0';
        dns_resp_add_ptr(&r, a->ttl, a->ptr);
    }
    if (r.truncated)
        s->st.truncated++;
    return dns_resp_finish(&r);
}

static void reply(struct dns_server *s, struct dns_listener *lis,
                  struct dns_conn *conn, const struct sockaddr_in *client,
                  const uint8_t *msg, size_t len)
{
    if (len == 0)
        return;
    if (conn)
        conn_send(conn, msg, len);
    else
        udp_send(s, lis, client, msg, len);
}

/* One query from a client over UDP (lis) or TCP (conn). */
static void handle_query(struct dns_server *s, const uint8_t *pkt, size_t len,
                         const struct sockaddr_in *client,
                         struct dns_listener *lis, struct dns_conn *conn)
{
    struct dns_query *q = &s->q;
    int r = dns_query_parse(pkt, len, q);
    if (r == DNS_E_NOTIMP || r == DNS_E_BADVERS) {
        size_t n = dns_build_error(s->out, DNS_UDP_MIN, q, pkt,
                                   r == DNS_E_NOTIMP ? DNS_RCODE_NOTIMP
                                                     : DNS_RCODE_BADVERS,
                                   s->edns_size);
        s->st.errors_sent++;
        reply(s, lis, conn, client, s->out, n);
        return;
    }
    if (r < 0) {
        s->st.malformed++;
        log_debug("dns: dropped a query: %s", dns_strerror(r));
        return;
    }
    if (q->qclass != DNS_CLASS_IN) {
        forward(s, pkt, len, q, lis, conn, client);
        return;
    }
    struct dns_answer *a = &s->ans;
    a->verdict = DNS_FORWARD;
    a->rcode_if_empty = DNS_RCODE_NOERROR;
    a->ttl = 0;
    a->shuffle = false;
    a->n_a = a->n_srv = 0;
    a->ptr[0] = '\0';
    s->resolve(s->resolve_data, client, q->qtype, q->qname, a);
    if (a->verdict != DNS_ANSWER && a->verdict != DNS_NXDOMAIN) {
        forward(s, pkt, len, q, lis, conn, client);
        return;
    }
    size_t limit = conn ? DNS_TCP_MAX : dns_query_udp_limit(q, s->edns_size);
    size_t n = render(s, q, pkt, a, s->out, limit);
    s->st.answered++;
    reply(s, lis, conn, client, s->out, n);
}

/* ---- UDP listeners ---- */

static void on_udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct dns_listener *l = h->data;
    (void)hint;
    *b = uv_buf_init((char *)l->srv->rbuf, sizeof(l->srv->rbuf));
}

static void on_up_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct dns_server *s = h->data;
    (void)hint;
    *b = uv_buf_init((char *)s->rbuf, sizeof(s->rbuf));
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags)
{
    struct dns_listener *l = h->data;
    struct dns_server *s = l->srv;
    if (nread < 0)
        log_debug("dns: udp receive: %s", uv_strerror((int)nread));
    if (nread <= 0 || !addr || addr->sa_family != AF_INET)
        return;
    s->st.queries_udp++;
    if (flags & UV_UDP_PARTIAL) {
        s->st.malformed++;
        return;
    }
    handle_query(s, (const uint8_t *)buf->base, (size_t)nread,
                 (const struct sockaddr_in *)addr, l, NULL);
}

/* ---- TCP connections ---- */

static void on_conn_closed(uv_handle_t *h)
{
    struct dns_conn *c = h->data;
    struct dns_server *s = c->srv;
    if (--c->open == 0) {
        if (c->prev)
            c->prev->next = c->next;
        else
            s->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        free(c->rbuf);
        free(c);
    }
    handle_closed(s);
}

static void conn_close(struct dns_conn *c)
{
    struct dns_server *s = c->srv;
    if (c->closing)
        return;
    c->closing = true;
    s->n_conns--;
    if (c->n_fwd) {
        for (size_t i = 0; i < s->max_fwd; i++) {
            struct fwd *f = &s->fwd[i];
            if (f->state != FWD_FREE && f->conn == c) {
                f->conn = NULL;
                fwd_release(s, f);
            }
        }
        c->n_fwd = 0;
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->idle, on_conn_closed);
}

static void on_conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct dns_conn *c = h->data;
    (void)hint;
    size_t need = c->rlen < 2 ? 2 : 2 + (size_t)get16(c->rbuf);
    if (need < 4096)
        need = 4096;
    if (c->rcap < need) {
        c->rbuf = xrealloc(c->rbuf, need);
        c->rcap = need;
    }
    *b = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

static void on_conn_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b);

static void conn_set_reading(struct dns_conn *c, bool on)
{
    if (c->closing || c->reading == on || (on && c->eof))
        return;
    c->reading = on;
    if (on)
        uv_read_start((uv_stream_t *)&c->tcp, on_conn_alloc, on_conn_read);
    else
        uv_read_stop((uv_stream_t *)&c->tcp);
}

/* Answers every complete message buffered, unless paused. */
static void conn_process(struct dns_conn *c)
{
    struct dns_server *s = c->srv;
    size_t off = 0;
    c->processing = true;
    while (!c->closing && !c->paused && c->rlen - off >= 2) {
        size_t mlen = get16(c->rbuf + off);
        if (c->rlen - off - 2 < mlen)
            break;
        off += 2 + mlen;
        s->st.queries_tcp++;
        handle_query(s, c->rbuf + off - mlen, mlen, &c->peer, NULL, c);
        if (c->n_fwd >= TCP_CONN_FWD)
            c->paused = true;
    }
    c->processing = false;
    if (off) {
        memmove(c->rbuf, c->rbuf + off, c->rlen - off);
        c->rlen -= off;
    }
    conn_set_reading(c, !c->paused);
    if (c->eof && c->n_fwd == 0 && c->wq == 0)
        conn_close(c);
}

static void on_resume_idle(uv_idle_t *h)
{
    struct dns_server *s = h->data;
    uv_idle_stop(h);
    for (struct dns_conn *c = s->conns; c; c = c->next) {
        if (c->resume && !c->closing) {
            c->resume = false;
            conn_process(c);
        }
    }
}

/* A forward of c's ended. Resuming a paused connection is deferred to the
 * loop: we may be inside another query's handling here. */
static void conn_fwd_done(struct dns_conn *c)
{
    struct dns_server *s = c->srv;
    assert(c->n_fwd > 0);
    c->n_fwd--;
    if (c->paused && c->n_fwd < TCP_CONN_FWD) {
        c->paused = false;
        c->resume = true;
        if (!s->closing)
            uv_idle_start(&s->resume_idle, on_resume_idle);
    }
    if (c->eof && c->n_fwd == 0 && c->wq == 0)
        conn_close(c);
}

static void on_conn_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    struct dns_conn *c = st->data;
    (void)b;
    if (nread == 0)
        return;
    if (nread < 0) {
        if (nread != UV_EOF) {
            conn_close(c);
            return;
        }
        conn_set_reading(c, false);
        c->eof = true;
        if (c->n_fwd == 0 && c->wq == 0)
            conn_close(c);
        return;
    }
    c->rlen += (size_t)nread;
    uv_timer_again(&c->idle);
    conn_process(c);
}

static void on_conn_idle(uv_timer_t *t)
{
    struct dns_conn *c = t->data;
    if (c->n_fwd == 0 && c->wq == 0)
        conn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct dns_listener *l = server->data;
    struct dns_server *s = l->srv;
    if (status < 0)
        return;
    struct dns_conn *c = xcalloc(1, sizeof(*c));
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->idle);
    c->tcp.data = c->idle.data = c;
    c->open = 2;
    s->n_handles += 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;

    int namelen = sizeof(c->peer);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 ||
        s->n_conns > s->max_conns ||
        uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &namelen) <
            0 ||
        c->peer.sin_family != AF_INET) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->idle, on_conn_idle, s->idle_ms, s->idle_ms);
    conn_set_reading(c, true);
}

/* ---- Listeners ---- */

static void on_listener_closed(uv_handle_t *h)
{
    struct dns_listener *l = h->data;
    struct dns_server *s = l->srv;
    if (--l->open == 0)
        free(l);
    handle_closed(s);
}

static void listener_close(struct dns_listener *l)
{
    struct dns_server *s = l->srv;
    for (size_t i = 0; i < s->max_fwd; i++) {
        struct fwd *f = &s->fwd[i];
        if (f->state != FWD_FREE && f->lis == l)
            fwd_release(s, f);
    }
    uv_close((uv_handle_t *)&l->udp, on_listener_closed);
    uv_close((uv_handle_t *)&l->tcp, on_listener_closed);
}

static int open_socket(const struct dns_server *s, int type,
                       struct in_addr addr, uint16_t port, struct err *err)
{
    char a[INET_ADDRSTRLEN];
    const char *proto = type == SOCK_DGRAM ? "udp" : "tcp";
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_sys(err, errno, "create a %s socket", proto);
    int one = 1;
    if (type == SOCK_STREAM)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    else {
        int sz = 1 << 20; /* absorb bursts; capped by net.core.rmem_max */
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    }
    if (s->freebind)
        (void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = addr};
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return err_sys(err, e, "listen on %s:%u (%s)", addr_str(addr, a), port,
                       proto);
    }
    return fd;
}

/* Binds UDP and TCP sockets on the same port (picking one if s->port is
 * 0). Returns 0 with both fds, or -1. */
static int open_pair(struct dns_server *s, struct in_addr addr, int *ufd,
                     int *tfd, uint16_t *port, struct err *err)
{
    for (int tries = 0; tries < 16; tries++) {
        int u = open_socket(s, SOCK_DGRAM, addr, s->port, err);
        if (u < 0)
            return -1;
        struct sockaddr_in sin;
        socklen_t sl = sizeof(sin);
        if (getsockname(u, (struct sockaddr *)&sin, &sl) < 0) {
            err_sys(err, errno, "getsockname");
            close(u);
            return -1;
        }
        uint16_t p = ntohs(sin.sin_port);
        int t = open_socket(s, SOCK_STREAM, addr, p, err);
        if (t < 0) {
            close(u);
            if (s->port == 0 && errno == EADDRINUSE) {
                err_clear(err);
                continue; /* the picked port is taken for TCP */
            }
            return -1;
        }
        *ufd = u;
        *tfd = t;
        *port = p;
        return 0;
    }
    return -1;
}

int dns_server_add_listener(struct dns_server *s, struct in_addr addr,
                            struct err *err)
{
    for (struct dns_listener *l = s->listeners; l; l = l->next) {
        if (l->addr.s_addr == addr.s_addr) {
            l->refs++;
            return 0;
        }
    }
    int ufd = -1, tfd = -1;
    uint16_t port = 0;
    if (open_pair(s, addr, &ufd, &tfd, &port, err) < 0)
        return -1;

    struct dns_listener *l = xcalloc(1, sizeof(*l));
    l->srv = s;
    l->addr = addr;
    l->port = port;
    l->refs = 1;
    uv_udp_init(s->loop, &l->udp);
    uv_tcp_init(s->loop, &l->tcp);
    l->udp.data = l->tcp.data = l;
    l->open = 2;
    s->n_handles += 2;

    char a[INET_ADDRSTRLEN];
    int r = uv_udp_open(&l->udp, ufd);
    if (r < 0) {
        close(ufd);
        close(tfd);
        listener_close(l);
        return err_set(err, ERR_INTERNAL, "listen on %s:%u (udp): %s",
                       addr_str(addr, a), port, uv_strerror(r));
    }
    r = uv_tcp_open(&l->tcp, tfd);
    if (r < 0) {
        close(tfd);
        listener_close(l);
        return err_set(err, ERR_INTERNAL, "listen on %s:%u (tcp): %s",
                       addr_str(addr, a), port, uv_strerror(r));
    }
    if ((r = uv_listen((uv_stream_t *)&l->tcp, LISTEN_BACKLOG, on_connection)) <
            0 ||
        (r = uv_udp_recv_start(&l->udp, on_udp_alloc, on_udp_recv)) < 0) {
        listener_close(l);
        return err_set(err, ERR_INTERNAL, "listen on %s:%u: %s",
                       addr_str(addr, a), port, uv_strerror(r));
    }
    l->next = s->listeners;
    s->listeners = l;
    log_debug("dns: listening on %s:%u", addr_str(addr, a), port);
    return 0;
}

int dns_server_remove_listener(struct dns_server *s, struct in_addr addr)
{
    for (struct dns_listener **pp = &s->listeners; *pp; pp = &(*pp)->next) {
        struct dns_listener *l = *pp;
        if (l->addr.s_addr != addr.s_addr)
            continue;
        if (--l->refs == 0) {
            *pp = l->next;
            listener_close(l);
        }
        return 0;
    }
    return -1;
}

int dns_server_port(const struct dns_server *s, struct in_addr addr)
{
    for (const struct dns_listener *l = s->listeners; l; l = l->next)
        if (l->addr.s_addr == addr.s_addr)
            return l->port;
    return -1;
}

/* ---- Lifecycle ---- */

static void server_free(struct dns_server *s)
{
    dns_server_closed_cb cb = s->closed_cb;
    void *data = s->closed_data;
    free(s->fwd);
    free(s->buckets);
    free(s->resolv_path);
    free(s);
    if (cb)
        cb(data);
}

static void handle_closed(struct dns_server *s)
{
    assert(s->n_handles > 0);
    if (--s->n_handles == 0 && s->closing)
        server_free(s);
}

static void on_server_handle_closed(uv_handle_t *h)
{
    handle_closed(h->data);
}

struct dns_server *dns_server_new(uv_loop_t *loop,
                                  const struct dns_server_opts *opts,
                                  dns_resolve_fn resolve, void *data,
                                  struct err *err)
{
    struct dns_server *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->resolve = resolve;
    s->resolve_data = data;
    s->port = opts->port;
    s->timeout_ms = opts->fwd_timeout_ms ? opts->fwd_timeout_ms : 2000;
    s->attempts = opts->fwd_attempts;
    s->max_fwd = opts->max_forwards ? opts->max_forwards : 1024;
    if (s->max_fwd > 1 << 20)
        s->max_fwd = 1 << 20;
    s->max_conns = opts->max_tcp_conns ? opts->max_tcp_conns : 256;
    s->idle_ms = opts->tcp_idle_ms ? opts->tcp_idle_ms : 10000;
    s->edns_size = opts->edns_size ? opts->edns_size : DNS_EDNS_DEFAULT;
    if (s->edns_size < DNS_UDP_MIN)
        s->edns_size = DNS_UDP_MIN;
    s->freebind = opts->freebind;
    s->resolv_path =
        xstrdup(opts->resolv_conf ? opts->resolv_conf : "/etc/resolv.conf");
    if (opts->upstreams) {
        s->fixed_upstreams = true;
        for (size_t i = 0; i < opts->n_upstreams && i < UP_MAX; i++)
            s->up[s->n_up++] = opts->upstreams[i];
    }

    s->fwd = xcalloc(s->max_fwd, sizeof(*s->fwd));
    s->free_head = -1;
    for (size_t i = s->max_fwd; i-- > 0;) {
        s->fwd[i].state = FWD_FREE;
        s->fwd[i].next = s->free_head;
        s->free_head = (int32_t)i;
    }
    s->fifo_head = s->fifo_tail = -1;
    s->bucket_bits = 4;
    while (((size_t)1 << s->bucket_bits) < 2 * s->max_fwd)
        s->bucket_bits++;
    s->buckets = xmalloc(sizeof(int32_t) << s->bucket_bits);
    memset(s->buckets, 0xff, sizeof(int32_t) << s->bucket_bits);

    s->rnd_off = sizeof(s->rnd);
    rnd_bytes(s, &s->shuffle_state, sizeof(s->shuffle_state));
    s->shuffle_state |= 1; /* xorshift must not start at 0 */

    uv_timer_init(loop, &s->fwd_timer);
    uv_idle_init(loop, &s->resume_idle);
    s->fwd_timer.data = s->resume_idle.data = s;
    s->n_handles = 2;
    int r = 0;
    for (int i = 0; i < UP_SOCKS; i++) {
        uv_udp_init(loop, &s->up_sock[i]);
        s->up_sock[i].data = s;
        s->n_handles++;
        struct sockaddr_in any = {.sin_family = AF_INET};
        if (r == 0)
            r = uv_udp_bind(&s->up_sock[i], (const struct sockaddr *)&any, 0);
        if (r == 0)
            r = uv_udp_recv_start(&s->up_sock[i], on_up_alloc, on_up_recv);
    }
    if (r < 0) {
        err_set(err, ERR_INTERNAL, "open the dns forwarder's sockets: %s",
                uv_strerror(r));
        dns_server_close(s, NULL, NULL);
        return NULL;
    }
    resolv_load(s, true);
    return s;
}

void dns_server_reload(struct dns_server *s)
{
    resolv_load(s, true);
}

void dns_server_get_stats(const struct dns_server *s,
                          struct dns_server_stats *out)
{
    *out = s->st;
    out->fwd_outstanding = s->n_fwd;
    out->tcp_conns = s->n_conns;
}

void dns_server_close(struct dns_server *s, dns_server_closed_cb cb, void *data)
{
    assert(!s->closing);
    s->closing = true;
    s->closed_cb = cb;
    s->closed_data = data;
    for (struct dns_conn *c = s->conns; c; c = c->next)
        conn_close(c);
    while (s->listeners) {
        struct dns_listener *l = s->listeners;
        s->listeners = l->next;
        listener_close(l);
    }
    for (size_t i = 0; i < s->max_fwd; i++)
        if (s->fwd[i].state != FWD_FREE)
            fwd_release(s, &s->fwd[i]);
    for (int i = 0; i < UP_SOCKS; i++)
        uv_close((uv_handle_t *)&s->up_sock[i], on_server_handle_closed);
    uv_close((uv_handle_t *)&s->fwd_timer, on_server_handle_closed);
    uv_close((uv_handle_t *)&s->resume_idle, on_server_handle_closed);
}
