// SPDX-License-Identifier: Apache-2.0
// The node's embedded DNS server on the daemon's libuv loop: UDP and TCP
// listeners on the addresses tasks' resolv.conf points at, answers for
// cluster names from a resolver callback, and forwarding of everything else
// to the host's resolvers (resolv.conf) with timeouts and retries.
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/err.h"

#define DNS_MAX_ADDRS 256 /* A records in one answer (tasks.X) */
#define DNS_MAX_SRV   32  /* SRV records in one answer */
#define DNS_NAME_MAX  254 /* a name in presentation form, NUL included */

/* ---- The resolver contract ---- */

/* What a name means for the asking container. */
enum dns_verdict {
    DNS_FORWARD = 0, /* not ours: ask the host's resolvers (the default) */
    DNS_NXDOMAIN,    /* no such name (e.g. on a network the client is not
                        on); same as DNS_ANSWER with rcode_if_empty
                        NXDOMAIN and no records */
    DNS_ANSWER,      /* ours: answer from the records below */
};

/* One SRV record; target in presentation form ("t1.app.net"). If addr is
 * not 0.0.0.0 the answer also carries "target A addr" in its additional
 * section (so clients need no second query). */
struct dns_srv_rr {
    uint16_t priority, weight, port;
    struct in_addr addr;
    char target[DNS_NAME_MAX];
};

/* The resolver's answer. The server resets verdict (FORWARD), rcode_if_empty
 * (NOERROR), ttl (0), n_a, n_srv, shuffle and ptr[0] before each call and
 * nothing else: the arrays hold garbage beyond their counts.
 *
 * The resolver may fill every kind of record whatever the question's type;
 * the server answers with the records matching it:
 *   A (and ANY)  a[0..n_a), in random order if shuffle
 *   SRV          srv[0..n_srv), targets' addresses as additional records
 *   PTR          ptr, if not ""
 *   others       none
 * and when that leaves the answer empty, with rcode_if_empty: NOERROR means
 * NODATA ("the name exists, not with that type"). So an AAAA query for a
 * cluster name gets NODATA, never a forward, as soon as the resolver says
 * DNS_ANSWER. Answers that do not fit the client's UDP size are truncated
 * (TC) and the client retries over TCP. */
struct dns_answer {
    enum dns_verdict verdict;
    uint16_t rcode_if_empty; /* DNS_RCODE_NOERROR (0) or _NXDOMAIN (3) */
    uint32_t ttl;            /* for every record; 0 for cluster names */
    bool shuffle;            /* randomise the A order (dnsrr, tasks.X) */
    size_t n_a;
    struct in_addr a[DNS_MAX_ADDRS];
    size_t n_srv;
    struct dns_srv_rr srv[DNS_MAX_SRV];
    char ptr[DNS_NAME_MAX]; /* the PTR target; "" for none */
};

/* Called synchronously on the loop for every well-formed class-IN query:
 * client is who asks (the task's address), qtype the question's type,
 * qname lowercased without the trailing dot ("app", "tasks.app",
 * "20.0.0.10.in-addr.arpa"; bytes other than printable ASCII arrive as
 * \DDD). Must fill out (nothing else; in particular no call back into the
 * server); must not keep any pointer it gets. */
typedef void (*dns_resolve_fn)(void *data, const struct sockaddr_in *client,
                               uint16_t qtype, const char *qname,
                               struct dns_answer *out);

/* Helpers for resolvers. The add/set ones return false (and change
 * nothing) when the answer is full or the name is too long. */
bool dns_answer_add_a(struct dns_answer *ans, struct in_addr addr);
bool dns_answer_add_srv(struct dns_answer *ans, uint16_t priority,
                        uint16_t weight, uint16_t port, const char *target,
                        struct in_addr addr);
bool dns_answer_set_ptr(struct dns_answer *ans, const char *name);
/* "20.0.0.10.in-addr.arpa" -> 10.0.0.20; false for anything else (fewer
 * octets, other zones, leading zeros, values above 255). */
bool dns_ptr_name_to_addr(const char *qname, struct in_addr *out);

/* ---- The server ---- */

/* Cluster answers carry AA and the resolver's TTL. Everything else is
 * forwarded: a query that came over UDP is relayed over UDP, and an upstream
 * answer with TC is relayed as is (so the client retries over TCP); a query
 * that came over TCP is forwarded over TCP. Upstream answers are checked
 * (source address and port, a fresh random ID per attempt on one of a few
 * random-port sockets, the same question) before they are relayed. Malformed
 * queries are dropped silently; other opcodes get NOTIMP, EDNS versions
 * above 0 BADVERS. */

struct dns_server_opts {
    uint16_t port; /* on every listen address; 53 normally, 0 = pick one
                      (tests: UDP and TCP then share the picked port) */
    const char *resolv_conf; /* NULL: /etc/resolv.conf; re-read when it
                                changes (checked at most every 5 s) */
    /* If upstreams is not NULL: exactly these (with ports; tests and
     * benchmarks), resolv.conf is not read; n_upstreams 0 means never
     * forward (SERVFAIL). Borrowed for the call only. */
    const struct sockaddr_in *upstreams;
    size_t n_upstreams;
    unsigned fwd_timeout_ms; /* per attempt; 0: 2000 */
    unsigned fwd_attempts;   /* attempts, each on the next upstream in
                                turn; 0: one per upstream, at most 3; then
                                SERVFAIL */
    size_t max_forwards;     /* outstanding forwards; 0: 1024; beyond, the
                                oldest is dropped */
    size_t max_tcp_conns;    /* 0: 256; beyond, new connections are closed */
    unsigned tcp_idle_ms;    /* 0: 10000 */
    uint16_t edns_size;      /* the largest UDP answer we send to an EDNS
                                client; 0: 1232 */
    bool freebind;           /* bind addresses not (yet) on an interface */
};

/* Counters, for logs, tests and benchmarks. */
struct dns_server_stats {
    uint64_t queries_udp, queries_tcp;
    uint64_t answered;    /* from the resolver (incl. NXDOMAIN, NODATA) */
    uint64_t truncated;   /* answers sent with TC */
    uint64_t malformed;   /* dropped */
    uint64_t errors_sent; /* NOTIMP, BADVERS, SERVFAIL sent */
    uint64_t forwarded;   /* queries sent upstream (first attempts) */
    uint64_t fwd_replies; /* upstream answers relayed */
    uint64_t fwd_retries, fwd_timeouts, fwd_evicted, fwd_bogus;
    uint64_t send_dropped; /* UDP answers dropped: socket full */
    size_t fwd_outstanding, tcp_conns;
};

struct dns_server;
typedef void (*dns_server_closed_cb)(void *data);

/* Creates a server with no listener yet. resolve/data are borrowed until the
 * close callback. Returns NULL with err set if the upstream sockets cannot
 * be opened (a missing resolv.conf is not an error: nothing is forwarded,
 * queries to forward get SERVFAIL). */
struct dns_server *dns_server_new(uv_loop_t *loop,
                                  const struct dns_server_opts *opts,
                                  dns_resolve_fn resolve, void *data,
                                  struct err *err);

/* Listens on addr (UDP and TCP, opts.port). Counted: adding an address
 * already listened on only takes another reference. -1 with err on a bind
 * failure ("listen on 10.0.0.1:53 (udp): Address already in use"). */
int dns_server_add_listener(struct dns_server *s, struct in_addr addr,
                            struct err *err);
/* Drops one reference to addr's listener, closing it at the last. Open TCP
 * connections accepted on it stay until they end; forwarded queries
 * received on it are answered nowhere. -1 if addr was not listened on. */
int dns_server_remove_listener(struct dns_server *s, struct in_addr addr);
/* The port addr is listened on (useful with opts.port 0), or -1. */
int dns_server_port(const struct dns_server *s, struct in_addr addr);

/* Re-reads resolv.conf now (e.g. after the host's network changed). */
void dns_server_reload(struct dns_server *s);

void dns_server_get_stats(const struct dns_server *s,
                          struct dns_server_stats *out);

/* Closes every handle, drops outstanding forwards, frees the server and
 * then calls cb (may be NULL) from the loop. */
void dns_server_close(struct dns_server *s, dns_server_closed_cb cb,
                      void *data);

/* IPv4 nameservers of a resolv.conf text, in order (IPv6 ones and other
 * lines are skipped); returns how many were written to out (at most max). */
size_t dns_resolvconf_parse(const char *text, struct in_addr *out, size_t max);
