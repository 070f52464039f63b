// SPDX-License-Identifier: Apache-2.0
// Overlay data-plane tests (root): two "node" namespaces joined by a veth,
// "task" namespaces attached to a network's bridge, traffic within a node
// and across nodes over VXLAN. Everything happens in namespaces the test
// creates; the host's own network is never touched.
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "net/netns.h"
#include "net/nl.h"
#include "net/overlay.h"
#include "net/sysctl.h"

#define NET1  "n1abcdefghijklmnopqrstuvw"
#define NET2  "n2abcdefghijklmnopqrstuvw"
#define VNI1  4097
#define VNI2  4098
#define TASK1 "t1abcdefghijklmnopqrstuvw"
#define TASK2 "t2abcdefghijklmnopqrstuvw"
#define TASK3 "t3abcdefghijklmnopqrstuvw"

static char dir[] = "/tmp/shoal-overlay-XXXXXX";
static char node_a[64], node_b[64], c1[64], c2[64], c3[64];
static char *const all_ns[] = {node_a, node_b, c1, c2, c3};
static int host_ns = -1;

/* ---- namespaces ---- */

static void enter(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        perror(path);
        abort();
    }
    close(fd);
}

static void leave(void)
{
    if (host_ns >= 0 && setns(host_ns, CLONE_NEWNET) < 0) {
        perror("setns back to the host namespace");
        abort();
    }
}

static void cleanup(void)
{
    leave();
    struct err err = {0};
    for (size_t i = 0; i < ARRAY_SIZE(all_ns); i++)
        if (all_ns[i][0] && netns_delete(all_ns[i], &err) < 0)
            fprintf(stderr, "cleanup: %s\n", err.msg);
    rmdir(dir);
}

static int setup(void)
{
    host_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (host_ns < 0 || !mkdtemp(dir))
        return -1;
    atexit(cleanup);
    const char *names[] = {"node-a", "node-b", "c1", "c2", "c3"};
    for (size_t i = 0; i < ARRAY_SIZE(all_ns); i++) {
        snprintf(all_ns[i], 64, "%s/%s", dir, names[i]);
        struct err err = {0};
        if (netns_create(all_ns[i], &err) < 0) {
            fprintf(stderr, "setup: %s\n", err.msg);
            all_ns[i][0] = '\0';
            return -1;
        }
    }
    return 0;
}

/* A socket created inside the namespace at path by a short-lived thread,
 * so the test thread never moves for it; bound to ip:port if ip. */
struct ns_socket {
    const char *ns;
    int type, proto;
    const char *ip;
    uint16_t port;
    int fd;
};

static void *ns_socket_thread(void *arg)
{
    struct ns_socket *s = arg;
    enter(s->ns);
    s->fd = socket(AF_INET, s->type | SOCK_CLOEXEC, s->proto);
    if (s->fd >= 0 && s->ip) {
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons(s->port)};
        inet_pton(AF_INET, s->ip, &sa.sin_addr);
        if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            perror("bind");
            close(s->fd);
            s->fd = -1;
        }
    }
    return NULL;
}

static int socket_in(const char *ns, int type, int proto, const char *ip,
                     uint16_t port)
{
    struct ns_socket s = {ns, type, proto, ip, port, -1};
    pthread_t t;
    if (pthread_create(&t, NULL, ns_socket_thread, &s) != 0)
        return -1;
    pthread_join(t, NULL);
    return s.fd;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t csum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

/* ICMP echo from inside namespace ns to dst; true if answered in time. */
static bool ping(const char *ns, const char *dst, int timeout_ms)
{
    int fd = socket_in(ns, SOCK_RAW, IPPROTO_ICMP, NULL, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in to = {.sin_family = AF_INET};
    inet_pton(AF_INET, dst, &to.sin_addr);
    uint16_t id = (uint16_t)(getpid() ^ now_ms());
    bool ok = false;
    int64_t deadline = now_ms() + timeout_ms;
    for (uint16_t seq = 1; !ok && now_ms() < deadline; seq++) {
        struct icmphdr req = {.type = ICMP_ECHO};
        req.un.echo.id = htons(id);
        req.un.echo.sequence = htons(seq);
        req.checksum = csum(&req, sizeof(req));
        sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to));
        int64_t until = now_ms() + 200;
        while (!ok && now_ms() < until) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, (int)(until - now_ms())) <= 0)
                break;
            uint8_t buf[1500];
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
                                 (struct sockaddr *)&from, &fl);
            if (n < (ssize_t)sizeof(struct iphdr))
                continue;
            size_t hl = (size_t)(buf[0] & 0x0f) * 4;
            if ((size_t)n < hl + sizeof(struct icmphdr))
                continue;
            struct icmphdr rep;
            memcpy(&rep, buf + hl, sizeof(rep));
            ok = rep.type == ICMP_ECHOREPLY && ntohs(rep.un.echo.id) == id &&
                 from.sin_addr.s_addr == to.sin_addr.s_addr;
        }
    }
    close(fd);
    return ok;
}

/* A UDP datagram from (ns_a, ip_a) to (ns_b, ip_b) and its echo back. */
static bool udp_echo(const char *ns_a, const char *ip_a, const char *ns_b,
                     const char *ip_b, int timeout_ms)
{
    int a = socket_in(ns_a, SOCK_DGRAM, 0, ip_a, 0);
    int b = socket_in(ns_b, SOCK_DGRAM, 0, ip_b, 7777);
    bool ok = false;
    struct sockaddr_in to_b = {.sin_family = AF_INET, .sin_port = htons(7777)};
    inet_pton(AF_INET, ip_b, &to_b.sin_addr);
    int64_t deadline = now_ms() + timeout_ms;
    while (a >= 0 && b >= 0 && !ok && now_ms() < deadline) {
        sendto(a, "shoal", 5, 0, (struct sockaddr *)&to_b, sizeof(to_b));
        struct pollfd p = {.fd = b, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        char buf[64];
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n =
            recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        char src[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &from.sin_addr, src, sizeof(src));
        if (n != 5 || memcmp(buf, "shoal", 5) != 0 || strcmp(src, ip_a) != 0)
            continue;
        sendto(b, buf, 5, 0, (struct sockaddr *)&from, fl);
        p.fd = a;
        if (poll(&p, 1, 500) <= 0)
            continue;
        ok = recv(a, buf, sizeof(buf), 0) == 5 && memcmp(buf, "shoal", 5) == 0;
    }
    if (a >= 0)
        close(a);
    if (b >= 0)
        close(b);
    return ok;
}

/* ---- netlink reads ---- */

/* A handle in namespace ns (NULL: the test thread's); the test cannot go
 * on without one. */
static struct netlink *nl_in(const char *ns)
{
    struct err err = {0};
    struct netlink *nl = ns ? netlink_open_in(ns, &err) : netlink_open(&err);
    if (!nl) {
        fprintf(stderr, "netlink: %s\n", err.msg);
        abort();
    }
    return nl;
}

static bool link_get(const char *ns, const char *name, struct netlink_link *l)
{
    struct err err = {0};
    struct netlink *nl = nl_in(ns);
    bool ok = netlink_link_get(nl, name, l, &err) == 0;
    netlink_close(nl);
    return ok;
}

struct strs {
    char v[8][NETLINK_CIDR_LEN];
    int n;
};
static void strs_add(const char *s, void *arg)
{
    struct strs *x = arg;
    if (x->n < 8)
        snprintf(x->v[x->n++], NETLINK_CIDR_LEN, "%s", s);
}
static bool strs_has(const struct strs *x, const char *s)
{
    for (int i = 0; i < x->n; i++)
        if (strcmp(x->v[i], s) == 0)
            return true;
    return false;
}

static struct strs addrs_of(const char *ns, const char *ifname)
{
    struct strs x = {0};
    struct err err = {0};
    struct netlink *nl = nl_in(ns);
    netlink_addr_list(nl, ifname, strs_add, &x, &err);
    netlink_close(nl);
    return x;
}

static struct strs peers_of(const char *net_id)
{
    struct strs x = {0};
    struct err err = {0};
    overlay_peer_list(net_id, strs_add, &x, &err);
    return x;
}

struct route_find {
    const char *dst, *gateway;
    int oif;
    bool found;
};
static void route_find_cb(const struct netlink_route *r, void *arg)
{
    struct route_find *f = arg;
    if (strcmp(r->dst, f->dst) == 0 && strcmp(r->gateway, f->gateway) == 0 &&
        r->oif == f->oif)
        f->found = true;
}

struct neigh_find {
    const char *ip;
    char mac[NETLINK_MAC_LEN];
};
static void neigh_find_cb(const struct netlink_neigh *n, void *arg)
{
    struct neigh_find *f = arg;
    if (strcmp(n->ip, f->ip) == 0)
        snprintf(f->mac, sizeof(f->mac), "%s", n->mac);
}

struct ep_find {
    const char *mac;
    char ip[NETLINK_IP_LEN], peer[NETLINK_IP_LEN];
    int n;
};
static void ep_find_cb(const char *mac, const char *ip, const char *peer,
                       void *arg)
{
    struct ep_find *f = arg;
    if (strcmp(mac, f->mac) != 0)
        return;
    f->n++;
    snprintf(f->ip, sizeof(f->ip), "%s", ip);
    snprintf(f->peer, sizeof(f->peer), "%s", peer);
}

/* ---- tests without root ---- */

static void test_names(void)
{
    char n[OVERLAY_NAME_LEN], m[OVERLAY_NAME_LEN];
    overlay_bridge_name(NET1, n);
    CHECK_STR(n, "shb-n1abcdefghi");
    overlay_vxlan_name(NET1, n);
    CHECK_STR(n, "shx-n1abcdefghi");
    overlay_veth_name(TASK1, "eth0", n);
    CHECK_STR(n, "shv-t1abcdefgh0");
    overlay_veth_name(TASK1, "eth1", n);
    CHECK_STR(n, "shv-t1abcdefgh1");
    overlay_veth_name(TASK1, "eth35", n);
    CHECK_STR(n, "shv-t1abcdefghz");
    /* Ids that are not plain base-36 (or too short) are hashed: still
     * deterministic, still 15 characters, distinct. */
    overlay_bridge_name("My-Network", n);
    overlay_bridge_name("My-Network", m);
    CHECK_STR(n, m);
    CHECK_INT(strlen(n), 15);
    CHECK(strncmp(n, "shb-", 4) == 0);
    overlay_bridge_name("My-Network2", m);
    CHECK(strcmp(n, m) != 0);
    overlay_veth_name("short", "lan", n);
    CHECK_INT(strlen(n), 15);

    char mac[OVERLAY_MAC_LEN];
    struct err err = {0};
    CHECK_INT(overlay_mac_from_ip("10.0.1.2/24", mac, &err), 0);
    CHECK_STR(mac, "02:42:0a:00:01:02");
    CHECK_INT(overlay_mac_from_ip("192.168.255.1", mac, &err), 0);
    CHECK_STR(mac, "02:42:c0:a8:ff:01");
    CHECK_INT(overlay_mac_from_ip("10.0.300.1/24", mac, &err), -1);
    CHECK_INT(err.code, ERR_INVALID);
}

/* ---- tests in namespaces ---- */

static void test_prepare_node(void)
{
    char host_fwd[16] = "", v[16] = "";
    struct err err = {0};
    CHECK_INT(
        sysctl_read("net.ipv4.ip_forward", host_fwd, sizeof(host_fwd), &err),
        0);
    enter(node_a);
    CHECK_INT(overlay_prepare_node(&err), 0);
    CHECK_INT(overlay_prepare_node(&err), 0); /* idempotent */
    CHECK_INT(sysctl_read("net.ipv4.ip_forward", v, sizeof(v), &err), 0);
    CHECK_STR(v, "1");
    CHECK_INT(
        sysctl_read("net/ipv4/conf/all/route_localnet", v, sizeof(v), &err), 0);
    CHECK_STR(v, "1");
    if (sysctl_exists("net.bridge.bridge-nf-call-iptables")) {
        CHECK_INT(sysctl_read("net.bridge.bridge-nf-call-iptables", v,
                              sizeof(v), &err),
                  0);
        CHECK_STR(v, "1");
    } else {
        fprintf(stderr, "note: no br_netfilter in this kernel\n");
    }
    CHECK_INT(sysctl_read("net.no.such.key", v, sizeof(v), &err), -1);
    CHECK_INT(err.code, ERR_NOTFOUND);
    enter(node_b);
    CHECK_INT(overlay_prepare_node(&err), 0);
    /* The host namespace kept its own value. */
    leave();
    CHECK_INT(sysctl_read("net.ipv4.ip_forward", v, sizeof(v), &err), 0);
    CHECK_STR(v, host_fwd);
}

static void test_network_ensure(void)
{
    struct err err = {0};
    enter(node_a);
    CHECK_INT(
        overlay_network_ensure(NET1, VNI1, "10.77.1.1/24", NULL, 0, 0, &err),
        1);
    struct netlink_link br, vx;
    CHECK(link_get(NULL, "shb-n1abcdefghi", &br));
    CHECK_STR(br.kind, "bridge");
    CHECK(br.up);
    CHECK_INT(br.mtu, OVERLAY_DEFAULT_MTU);
    CHECK(strs_has((struct strs[]){addrs_of(NULL, br.name)}, "10.77.1.1/24"));
    CHECK(link_get(NULL, "shx-n1abcdefghi", &vx));
    CHECK_STR(vx.kind, "vxlan");
    CHECK_INT(vx.vxlan_vni, VNI1);
    CHECK_INT(vx.vxlan_port, 4789);
    CHECK(!vx.vxlan_learning);
    CHECK(vx.vxlan_proxy);
    CHECK_STR(vx.vxlan_local, "");
    CHECK_INT(vx.master, br.ifindex);
    CHECK(vx.up);
    CHECK_INT(vx.mtu, OVERLAY_DEFAULT_MTU);

    /* Again: nothing changes. */
    CHECK_INT(
        overlay_network_ensure(NET1, VNI1, "10.77.1.1/24", NULL, 0, 0, &err),
        0);
    struct netlink_link br2, vx2;
    CHECK(link_get(NULL, br.name, &br2));
    CHECK(link_get(NULL, vx.name, &vx2));
    CHECK_INT(br2.ifindex, br.ifindex);
    CHECK_INT(vx2.ifindex, vx.ifindex);
    CHECK_STR(br2.mac, br.mac);
    CHECK_INT(addrs_of(NULL, br.name).n, 1);

    /* Wrong things get fixed: MTU, master, down, a lost address. */
    struct netlink *nl = nl_in(NULL);
    CHECK_INT(netlink_link_set_mtu(nl, br.name, 1400, &err), 0);
    CHECK_INT(netlink_addr_del(nl, br.name, "10.77.1.1/24", &err), 0);
    CHECK_INT(netlink_bridge_add(nl, "other", 0, NULL, &err), 0);
    CHECK_INT(netlink_link_set_master(nl, vx.name, "other", &err), 0);
    CHECK_INT(
        overlay_network_ensure(NET1, VNI1, "10.77.1.1/24", NULL, 0, 0, &err),
        0);
    CHECK(link_get(NULL, br.name, &br2));
    CHECK(link_get(NULL, vx.name, &vx2));
    CHECK_INT(br2.mtu, OVERLAY_DEFAULT_MTU);
    CHECK_INT(vx2.master, br.ifindex);
    CHECK(strs_has((struct strs[]){addrs_of(NULL, br.name)}, "10.77.1.1/24"));
    CHECK_INT(netlink_link_del(nl, "other", &err), 0);

    /* A VXLAN device with other parameters is recreated. */
    CHECK_INT(netlink_link_del(nl, vx.name, &err), 0);
    struct netlink_vxlan_opts o = {.vni = 999, .port = 8472, .learning = true};
    CHECK_INT(netlink_vxlan_add(nl, vx.name, &o, &err), 0);
    CHECK_INT(
        overlay_network_ensure(NET1, VNI1, "10.77.1.1/24", NULL, 0, 0, &err),
        1);
    CHECK(link_get(NULL, vx.name, &vx2));
    CHECK_INT(vx2.vxlan_vni, VNI1);
    CHECK_INT(vx2.vxlan_port, 4789);
    CHECK(!vx2.vxlan_learning);
    CHECK_INT(vx2.master, br.ifindex);
    netlink_close(nl);
}

static void test_attach_and_traffic(void)
{
    struct err err = {0};
    enter(node_a);
    struct netlink_link br_before;
    CHECK(link_get(NULL, "shb-n1abcdefghi", &br_before));
    char mac1[OVERLAY_MAC_LEN] = "", mac2[OVERLAY_MAC_LEN] = "";
    struct overlay_attachment a1 = {
        .net_id = NET1,
        .netns_path = c1,
        .task_key = TASK1,
        .ifname = "eth0",
        .ip_cidr = "10.77.1.2/24",
        .gateway = "10.77.1.1",
    };
    struct overlay_attachment a2 = a1;
    a2.netns_path = c2;
    a2.task_key = TASK2;
    a2.ip_cidr = "10.77.1.3/24";
    CHECK_INT(overlay_attach(&a1, mac1, &err), 0);
    if (err_is_set(&err))
        fprintf(stderr, "attach: %s\n", err.msg);
    CHECK_INT(overlay_attach(&a2, mac2, &err), 0);
    CHECK_STR(mac1, "02:42:0a:4d:01:02");
    CHECK_STR(mac2, "02:42:0a:4d:01:03");

    /* Host end: on the bridge, up. */
    struct netlink_link hv;
    CHECK(link_get(NULL, "shv-t1abcdefgh0", &hv));
    CHECK_STR(hv.kind, "veth");
    CHECK_INT(hv.master, br_before.ifindex);
    CHECK(hv.up);
    /* Task end: address, MAC, MTU, up, default route. */
    struct netlink_link in;
    CHECK(link_get(c1, "eth0", &in));
    CHECK_STR(in.kind, "veth");
    CHECK_STR(in.mac, mac1);
    CHECK(in.up);
    CHECK(in.running);
    CHECK_INT(in.mtu, OVERLAY_DEFAULT_MTU);
    CHECK_INT(in.peer, hv.ifindex);
    struct strs addrs = addrs_of(c1, "eth0");
    CHECK_INT(addrs.n, 1);
    CHECK(strs_has(&addrs, "10.77.1.2/24"));
    struct netlink *ns = nl_in(c1);
    struct route_find rf = {"0.0.0.0/0", "10.77.1.1", in.ifindex, false};
    CHECK_INT(netlink_route_list(ns, route_find_cb, &rf, &err), 0);
    CHECK(rf.found);
    netlink_close(ns);

    /* Attached again (a restarted shoald): kept as it is. */
    char again[OVERLAY_MAC_LEN] = "";
    CHECK_INT(overlay_attach(&a1, again, &err), 0);
    CHECK_STR(again, mac1);
    struct netlink_link in2;
    CHECK(link_get(c1, "eth0", &in2));
    CHECK_INT(in2.ifindex, in.ifindex);
    CHECK_INT(addrs_of(c1, "eth0").n, 1);

    /* Traffic across the bridge and to the gateway. */
    CHECK(ping(c1, "10.77.1.3", 3000));
    CHECK(ping(c2, "10.77.1.2", 3000));
    CHECK(ping(c1, "10.77.1.1", 3000));
    CHECK(!ping(c1, "10.77.1.99", 300)); /* the check can fail */
    CHECK(udp_echo(c1, "10.77.1.2", c2, "10.77.1.3", 3000));
    /* Ports joining did not change the bridge's MAC (so the gateway's ARP
     * entry in tasks never goes stale). */
    struct netlink_link br_after;
    CHECK(link_get(NULL, "shb-n1abcdefghi", &br_after));
    CHECK_STR(br_after.mac, br_before.mac);

    /* A broken pair (host end gone) is replaced. */
    struct netlink *nl = nl_in(NULL);
    CHECK_INT(netlink_link_del(nl, "shv-t2abcdefgh0", &err), 0);
    netlink_close(nl);
    CHECK(!link_get(c2, "eth0", &in));
    CHECK_INT(overlay_attach(&a2, mac2, &err), 0);
    CHECK(link_get(c2, "eth0", &in));
    CHECK(ping(c2, "10.77.1.2", 3000));
}

struct attach_job {
    const char *node;
    struct overlay_attachment a;
    int r;
    struct err err;
};
static void *attach_thread(void *arg)
{
    struct attach_job *j = arg;
    enter(j->node);
    j->r = overlay_attach(&j->a, NULL, &j->err);
    return NULL;
}

static void test_concurrent_attach(void)
{
    struct err err = {0};
    enter(node_a);
    CHECK_INT(
        overlay_network_ensure(NET2, VNI2, "10.77.2.1/24", NULL, 0, 0, &err),
        1);
    struct attach_job jobs[2] = {
        {node_a,
         {NET2, c1, TASK1, "eth1", "10.77.2.2/24", NULL, NULL, 0},
         0,
         {0}},
        {node_a,
         {NET2, c2, TASK2, "eth1", "10.77.2.3/24", NULL, NULL, 0},
         0,
         {0}},
    };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, attach_thread, &jobs[i]);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(jobs[i].r, 0);
    }
    struct netlink_link l;
    CHECK(link_get(NULL, "shv-t1abcdefgh1", &l));
    CHECK(link_get(NULL, "shv-t2abcdefgh1", &l));
    CHECK(link_get(c1, "eth1", &l));
    /* No gateway: no second default route. */
    CHECK(udp_echo(c1, "10.77.2.2", c2, "10.77.2.3", 3000));
}

static void test_peers_and_endpoints(void)
{
    struct err err = {0};
    enter(node_a);
    CHECK_INT(overlay_peer_add(NET2, "192.168.77.2", &err), 0);
    CHECK_INT(overlay_peer_add(NET2, "192.168.77.3", &err), 0);
    CHECK_INT(overlay_peer_add(NET2, "192.168.77.3", &err), 0); /* again */
    struct strs p = peers_of(NET2);
    CHECK_INT(p.n, 2);
    CHECK(strs_has(&p, "192.168.77.2"));
    CHECK(strs_has(&p, "192.168.77.3"));
    CHECK_INT(overlay_peer_remove(NET2, "192.168.77.3", &err), 0);
    CHECK_INT(overlay_peer_remove(NET2, "192.168.77.3", &err), 0); /* gone */
    p = peers_of(NET2);
    CHECK_INT(p.n, 1);
    CHECK(strs_has(&p, "192.168.77.2"));

    CHECK_INT(overlay_endpoint_add(NET2, "02:42:0a:4d:02:09", "10.77.2.9",
                                   "192.168.77.2", &err),
              0);
    /* Moved to another node: replaced, not duplicated. */
    CHECK_INT(overlay_endpoint_add(NET2, "02:42:0a:4d:02:09", "10.77.2.9",
                                   "192.168.77.4", &err),
              0);
    struct netlink *nl = nl_in(NULL);
    struct neigh_find nf = {.ip = "10.77.2.9"};
    CHECK_INT(
        netlink_neigh_list(nl, "shx-n2abcdefghi", neigh_find_cb, &nf, &err), 0);
    CHECK_STR(nf.mac, "02:42:0a:4d:02:09");
    netlink_close(nl);
    struct ep_find ep = {.mac = "02:42:0a:4d:02:09"};
    CHECK_INT(overlay_endpoint_list(NET2, ep_find_cb, &ep, &err), 0);
    CHECK_INT(ep.n, 1);
    CHECK_STR(ep.ip, "10.77.2.9");
    CHECK_STR(ep.peer, "192.168.77.4");
    CHECK_INT(
        overlay_endpoint_remove(NET2, "02:42:0a:4d:02:09", "10.77.2.9", &err),
        0);
    CHECK_INT(
        overlay_endpoint_remove(NET2, "02:42:0a:4d:02:09", "10.77.2.9", &err),
        0);
    ep.n = 0;
    CHECK_INT(overlay_endpoint_list(NET2, ep_find_cb, &ep, &err), 0);
    CHECK_INT(ep.n, 0);
    /* Peers are untouched by endpoints. */
    CHECK_INT(peers_of(NET2).n, 1);
}

/* Two nodes joined by an underlay veth; a task on each; VXLAN between. */
static void test_cross_node(void)
{
    struct err err = {0};
    enter(node_a);
    struct netlink *nl = nl_in(NULL);
    int fd = open(node_b, O_RDONLY | O_CLOEXEC);
    struct netlink_veth_opts ul = {
        .name = "ul0", .peer_name = "ul0", .peer_netns_fd = fd};
    CHECK_INT(netlink_veth_add(nl, &ul, &err), 0);
    close(fd);
    CHECK_INT(netlink_addr_add(nl, "ul0", "192.168.77.1/24", &err), 0);
    CHECK_INT(netlink_link_set_up(nl, "ul0", &err), 0);
    netlink_close(nl);
    nl = nl_in(node_b);
    CHECK_INT(netlink_addr_add(nl, "ul0", "192.168.77.2/24", &err), 0);
    CHECK_INT(netlink_link_set_up(nl, "ul0", &err), 0);
    netlink_close(nl);
    CHECK(ping(node_a, "192.168.77.2", 3000));

    /* Node A's VXLAN gets a local address now: recreated. */
    CHECK_INT(overlay_network_ensure(NET1, VNI1, "10.77.1.1/24", "192.168.77.1",
                                     0, 0, &err),
              1);
    struct netlink_link vx;
    CHECK(link_get(NULL, "shx-n1abcdefghi", &vx));
    CHECK_STR(vx.vxlan_local, "192.168.77.1");
    CHECK_INT(overlay_peer_add(NET1, "192.168.77.2", &err), 0);

    enter(node_b);
    CHECK_INT(overlay_network_ensure(NET1, VNI1, "10.77.1.1/24", "192.168.77.2",
                                     0, 0, &err),
              1);
    char mac3[OVERLAY_MAC_LEN] = "";
    struct overlay_attachment a3 = {
        .net_id = NET1,
        .netns_path = c3,
        .task_key = TASK3,
        .ifname = "eth0",
        .ip_cidr = "10.77.1.4/24",
        .gateway = "10.77.1.1",
    };
    CHECK_INT(overlay_attach(&a3, mac3, &err), 0);
    CHECK_INT(overlay_peer_add(NET1, "192.168.77.1", &err), 0);
    CHECK_INT(overlay_endpoint_add(NET1, "02:42:0a:4d:01:02", "10.77.1.2",
                                   "192.168.77.1", &err),
              0);
    CHECK_INT(overlay_endpoint_add(NET1, "02:42:0a:4d:01:03", "10.77.1.3",
                                   "192.168.77.1", &err),
              0);
    struct netlink_link br_b;
    CHECK(link_get(NULL, "shb-n1abcdefghi", &br_b));

    enter(node_a);
    /* Peers alone do not do: ARP for a remote task is answered only from
     * the VXLAN device's neighbour table. */
    CHECK(!ping(c1, "10.77.1.4", 600));
    CHECK_INT(
        overlay_endpoint_add(NET1, mac3, "10.77.1.4", "192.168.77.2", &err), 0);
    CHECK(ping(c1, "10.77.1.4", 3000));
    CHECK(ping(c3, "10.77.1.2", 3000));
    CHECK(udp_echo(c3, "10.77.1.4", c2, "10.77.1.3", 3000));

    /* Every node's bridge has the gateway address; c3's ARP for it must be
     * answered by its own node's bridge, never across the VXLAN. */
    CHECK(ping(c3, "10.77.1.1", 3000));
    nl = nl_in(c3);
    struct neigh_find nf = {.ip = "10.77.1.1"};
    CHECK_INT(netlink_neigh_list(nl, "eth0", neigh_find_cb, &nf, &err), 0);
    CHECK_STR(nf.mac, br_b.mac);
    netlink_close(nl);
}

struct link_count {
    int bridges, vxlans, veths;
};
static void link_count_cb(enum overlay_link_kind kind, const char *name,
                          void *arg)
{
    struct link_count *c = arg;
    (void)name;
    if (kind == OVERLAY_LINK_BRIDGE)
        c->bridges++;
    else if (kind == OVERLAY_LINK_VXLAN)
        c->vxlans++;
    else
        c->veths++;
}

static void test_detach_and_gc(void)
{
    struct err err = {0};
    enter(node_a);
    struct link_count c = {0};
    CHECK_INT(overlay_list_links(link_count_cb, &c, &err), 0);
    CHECK_INT(c.bridges, 2);
    CHECK_INT(c.vxlans, 2);
    CHECK_INT(c.veths, 4);

    /* Detach takes all of a task's veths (both networks). */
    CHECK_INT(overlay_detach(TASK2, &err), 0);
    struct netlink_link l;
    CHECK(!link_get(NULL, "shv-t2abcdefgh0", &l));
    CHECK(!link_get(NULL, "shv-t2abcdefgh1", &l));
    CHECK(!link_get(c2, "eth0", &l));
    CHECK(!link_get(c2, "eth1", &l));
    CHECK_INT(overlay_detach(TASK2, &err), 0); /* nothing left: fine */

    /* A restarted shoald that knows only NET1 and TASK1. */
    const char *nets[] = {NET1};
    const char *tasks[] = {TASK1};
    CHECK_INT(overlay_gc(nets, 1, tasks, 1, &err), 2);
    memset(&c, 0, sizeof(c));
    CHECK_INT(overlay_list_links(link_count_cb, &c, &err), 0);
    CHECK_INT(c.bridges, 1);
    CHECK_INT(c.vxlans, 1);
    CHECK_INT(c.veths, 2);
    CHECK(link_get(NULL, "shb-n1abcdefghi", &l));
    CHECK(!link_get(NULL, "shb-n2abcdefghi", &l));
    CHECK_INT(overlay_gc(nets, 1, tasks, 1, &err), 0);
}

static void test_errors(void)
{
    struct err err = {0};
    enter(node_a);
    struct overlay_attachment a = {
        .net_id = NET2,
        .netns_path = c2,
        .task_key = TASK2,
        .ifname = "eth0",
        .ip_cidr = "10.77.2.3/24",
    };
    CHECK_INT(overlay_attach(&a, NULL, &err), -1);
    CHECK_INT(err.code, ERR_NOTFOUND);
    CHECK(strstr(err.msg, "not set up on this node") != NULL);
    err_clear(&err);
    a.net_id = NET1;
    a.netns_path = "/nonexistent/netns";
    CHECK_INT(overlay_attach(&a, NULL, &err), -1);
    CHECK_INT(err.code, ERR_NOTFOUND);
    err_clear(&err);
    a.netns_path = c2;
    a.ip_cidr = "10.77.1.9";
    CHECK_INT(overlay_attach(&a, NULL, &err), -1);
    CHECK_INT(err.code, ERR_INVALID);
    err_clear(&err);
    a.ip_cidr = "10.77.1.300/24";
    CHECK_INT(overlay_attach(&a, NULL, &err), -1);
    CHECK_INT(err.code, ERR_INVALID);
    err_clear(&err);

    CHECK_INT(overlay_network_ensure(NET2, 0, "10.77.2.1/24", NULL, 0, 0, &err),
              -1);
    CHECK_INT(err.code, ERR_INVALID);
    err_clear(&err);
    CHECK_INT(
        overlay_network_ensure(NET2, VNI2, "10.77.300.1/24", NULL, 0, 0, &err),
        -1);
    CHECK_INT(err.code, ERR_INVALID);
    err_clear(&err);
    /* NET1's VNI on the same port is taken. */
    CHECK_INT(
        overlay_network_ensure(NET2, VNI1, "10.77.2.1/24", NULL, 0, 0, &err),
        -1);
    CHECK_INT(err.code, ERR_CONFLICT);
    CHECK(strstr(err.msg, "used by another device") != NULL);
    err_clear(&err);
    CHECK_INT(overlay_network_remove(NET2, &err), 0);

    CHECK_INT(overlay_peer_add(NET1, "bogus", &err), -1);
    CHECK_INT(err.code, ERR_INVALID);
    err_clear(&err);
    CHECK_INT(overlay_peer_add(NET2, "192.168.77.9", &err), -1);
    CHECK_INT(err.code, ERR_NOTFOUND);
    err_clear(&err);
    CHECK_INT(overlay_peer_remove(NET2, "192.168.77.9", &err), 0);
    CHECK_INT(overlay_endpoint_add(NET1, "nonsense", "10.77.1.8",
                                   "192.168.77.2", &err),
              -1);
    CHECK_INT(err.code, ERR_INVALID);
    err_clear(&err);
}

static void test_network_remove(void)
{
    struct err err = {0};
    struct link_count c = {0};
    enter(node_a);
    CHECK_INT(overlay_detach(TASK1, &err), 0);
    CHECK_INT(overlay_network_remove(NET1, &err), 0);
    struct netlink_link l;
    CHECK(!link_get(NULL, "shb-n1abcdefghi", &l));
    CHECK(!link_get(NULL, "shx-n1abcdefghi", &l));
    CHECK_INT(overlay_network_remove(NET1, &err), 0); /* gone: fine */
    CHECK_INT(overlay_list_links(link_count_cb, &c, &err), 0);
    CHECK_INT(c.bridges + c.vxlans + c.veths, 0);
    CHECK(!link_get(c1, "eth0", &l));

    enter(node_b);
    CHECK_INT(overlay_detach(TASK3, &err), 0);
    CHECK_INT(overlay_network_remove(NET1, &err), 0);
    memset(&c, 0, sizeof(c));
    CHECK_INT(overlay_list_links(link_count_cb, &c, &err), 0);
    CHECK_INT(c.bridges + c.vxlans + c.veths, 0);
}

int main(void)
{
    RUN(test_names);
    if (geteuid() != 0) {
        printf("%s: namespace tests skipped (needs root)\n", __FILE__);
        HARNESS_END();
    }
    if (setup() < 0) {
        fprintf(stderr, "%s: cannot create namespaces\n", __FILE__);
        return 1;
    }
    RUN(test_prepare_node);
    RUN(test_network_ensure);
    RUN(test_attach_and_traffic);
    RUN(test_concurrent_attach);
    RUN(test_peers_and_endpoints);
    RUN(test_cross_node);
    RUN(test_detach_and_gc);
    RUN(test_errors);
    RUN(test_network_remove);
    leave();
    HARNESS_END();
}
