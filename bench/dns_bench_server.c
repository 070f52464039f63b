// SPDX-License-Identifier: Apache-2.0
// A standalone embedded-DNS server for benchmarks (bench/dnsperf-run builds
// it against build/libshoal.a): answers a fixed set of cluster names from a
// hash map, as the daemon's resolver will, and never forwards. Prints the
// server's counters on SIGINT / SIGTERM.
//
//   dns_bench_server [ADDRESS [PORT [SERVICES]]]   (127.0.0.1 5353 100)
//
// Names: svcN and svcN.stack -> one VIP 10.1.N.2; tasks.svcN -> three task
// addresses, shuffled; AAAA for those -> NODATA; anything else -> NXDOMAIN.
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "base/err.h"
#include "base/hmap.h"
#include "base/log.h"
#include "base/mem.h"
#include "net/dns_server.h"

struct entry {
    char name[64];
    struct in_addr addrs[3];
    size_t n;
    bool shuffle;
};

struct bench {
    struct hmap names;
    struct entry *entries;
    size_t n_entries;
    struct dns_server *srv;
    uv_signal_t sigint, sigterm;
};

static void resolve(void *data, const struct sockaddr_in *client,
                    uint16_t qtype, const char *qname, struct dns_answer *out)
{
    struct bench *b = data;
    (void)client;
    (void)qtype;
    const struct entry *e = hmap_get(&b->names, qname);
    if (!e) {
        out->verdict = DNS_NXDOMAIN;
        return;
    }
    out->verdict = DNS_ANSWER;
    out->shuffle = e->shuffle;
    for (size_t i = 0; i < e->n; i++)
        dns_answer_add_a(out, e->addrs[i]);
}

static void on_closed(void *data)
{
    struct bench *b = data;
    uv_close((uv_handle_t *)&b->sigint, NULL);
    uv_close((uv_handle_t *)&b->sigterm, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct bench *b = h->data;
    struct dns_server_stats st;
    (void)signum;
    if (!b->srv)
        return;
    dns_server_get_stats(b->srv, &st);
    printf("server: udp queries %llu, tcp queries %llu, answered %llu, "
           "truncated %llu, malformed %llu, send drops %llu\n",
           (unsigned long long)st.queries_udp,
           (unsigned long long)st.queries_tcp, (unsigned long long)st.answered,
           (unsigned long long)st.truncated, (unsigned long long)st.malformed,
           (unsigned long long)st.send_dropped);
    fflush(stdout);
    dns_server_close(b->srv, on_closed, b);
    b->srv = NULL;
}

static void add(struct bench *b, const char *name, uint32_t base, size_t n,
                bool shuffle)
{
    struct entry *e = &b->entries[b->n_entries++];
    snprintf(e->name, sizeof(e->name), "%s", name);
    for (size_t i = 0; i < n; i++)
        e->addrs[i].s_addr = htonl(base + (uint32_t)i);
    e->n = n;
    e->shuffle = shuffle;
    hmap_put(&b->names, e->name, e);
}

int main(int argc, char **argv)
{
    const char *addr = argc > 1 ? argv[1] : "127.0.0.1";
    unsigned port = argc > 2 ? (unsigned)atoi(argv[2]) : 5353;
    size_t services = argc > 3 ? (size_t)atoi(argv[3]) : 100;
    struct in_addr a;
    if (inet_pton(AF_INET, addr, &a) != 1 || port > 65535 || services == 0 ||
        services > 250) {
        fprintf(stderr, "usage: dns_bench_server [ADDRESS [PORT [1-250]]]\n");
        return 2;
    }
    mem_install_allocators();
    log_set_prefix("dns-bench");

    static struct bench b;
    hmap_init(&b.names);
    b.entries = xcalloc(services * 3, sizeof(*b.entries));
    for (size_t i = 0; i < services; i++) {
        char name[64];
        uint32_t net = 0x0a010000u | (uint32_t)i << 8; /* 10.1.i.0 */
        snprintf(name, sizeof(name), "svc%zu", i);
        add(&b, name, net + 2, 1, false);
        snprintf(name, sizeof(name), "svc%zu.stack", i);
        add(&b, name, net + 2, 1, false);
        snprintf(name, sizeof(name), "tasks.svc%zu", i);
        add(&b, name, net + 3, 3, true);
    }

    uv_loop_t *loop = uv_default_loop();
    struct err err = {0};
    /* No forwarding in the benchmark: an empty upstream list. */
    struct sockaddr_in none;
    struct dns_server_opts opts = {
        .port = (uint16_t)port, .upstreams = &none, .n_upstreams = 0};
    b.srv = dns_server_new(loop, &opts, resolve, &b, &err);
    if (!b.srv || dns_server_add_listener(b.srv, a, &err) < 0) {
        fprintf(stderr, "dns_bench_server: %s\n", err.msg);
        return 1;
    }
    uv_signal_init(loop, &b.sigint);
    uv_signal_init(loop, &b.sigterm);
    b.sigint.data = b.sigterm.data = &b;
    uv_signal_start(&b.sigint, on_signal, SIGINT);
    uv_signal_start(&b.sigterm, on_signal, SIGTERM);
    printf("listening on %s:%u with %zu names\n", addr,
           dns_server_port(b.srv, a), b.n_entries);
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    hmap_fini(&b.names);
    free(b.entries);
    return 0;
}
