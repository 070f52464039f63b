// SPDX-License-Identifier: Apache-2.0
// Kernel test for src/net/lb.c and src/net/nft.c (root only; skips
// otherwise): a "node" network namespace with two bridges, task namespaces
// serving their own names, a client, another network and an outside host,
// all made by this test with iproute2 and removed at the end. Never touches
// the host's own network.
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "net/lb.h"
#include "net/nft.h"

#define IP(s) ((struct in_addr){.s_addr = inet_addr(s)})

/* Namespace names are "shlb<pid>-<role>". */
static char prefix[32];
static const char *const roles[] = {"node", "t1", "t2", "t3", "c", "o1", "ext"};
static bool topology_made;

/* ---- helpers: shell (test only), namespaces, time ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int r = system(cmd);
    if (r != 0)
        fprintf(stderr, "command failed (%d): %s\n", r, cmd);
    return r;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int ns_open(const char *role)
{
    char path[96];
    snprintf(path, sizeof(path), "/run/netns/%s-%s", prefix, role);
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* Switches the calling thread into role's namespace; returns a descriptor
 * of the previous one for ns_leave, or -1. */
static int ns_enter(const char *role)
{
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = ns_open(role);
    if (self < 0 || fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        perror("enter namespace");
        if (self >= 0)
            close(self);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return self;
}

static void ns_leave(int self)
{
    if (self < 0)
        return;
    if (setns(self, CLONE_NEWNET) < 0) {
        perror("leave namespace");
        abort(); /* never go on in the wrong namespace */
    }
    close(self);
}

/* A socket that lives in role's namespace (a socket keeps the namespace it
 * was made in, whatever the thread does afterwards). */
static int socket_in(const char *role, int type)
{
    int self = ns_enter(role);
    if (self < 0)
        return -1;
    int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    ns_leave(self);
    return s;
}

static void sysctl_in(const char *role, const char *path, const char *val)
{
    int self = ns_enter(role);
    if (self < 0)
        return;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, val, strlen(val)) < 0)
        fprintf(stderr, "write %s: %s\n", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    ns_leave(self);
}

static void topology_remove(void)
{
    if (!topology_made)
        return;
    for (size_t i = 0; i < ARRAY_SIZE(roles); i++)
        sh("ip netns del %s-%s 2>/dev/null || true", prefix, roles[i]);
    topology_made = false;
}

/* Namespaces left by an earlier run that crashed (its pid is gone). */
static void reap_stale(void)
{
    DIR *d = opendir("/run/netns");
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        int pid = 0;
        if (sscanf(de->d_name, "shlb%d-", &pid) != 1 || pid <= 0)
            continue;
        if (kill(pid, 0) < 0 && errno == ESRCH)
            sh("ip netns del '%s' 2>/dev/null || true", de->d_name);
    }
    closedir(d);
}

/* node: br0 10.77.1.1/24 (+ VIPs 10.77.1.2, 10.77.1.3 as /32s, so tasks'
 * ARP for them is answered), br1 10.77.2.1/24, vext 172.30.0.1/24.
 * t1..t3 = 10.77.1.11..13 and c = 10.77.1.20 on br0, o1 = 10.77.2.11 on
 * br1, ext = 172.30.0.2 outside. */
static int topology_make(void)
{
    const char *p = prefix;
    topology_made = true;
    for (size_t i = 0; i < ARRAY_SIZE(roles); i++)
        if (sh("ip netns add %s-%s && ip -n %s-%s link set lo up", p, roles[i],
               p, roles[i]))
            return -1;
    if (sh("ip -n %s-node link add br0 type bridge && "
           "ip -n %s-node addr add 10.77.1.1/24 dev br0 && "
           "ip -n %s-node addr add 10.77.1.2/32 dev br0 && "
           "ip -n %s-node addr add 10.77.1.3/32 dev br0 && "
           "ip -n %s-node link set br0 up && "
           "ip -n %s-node link add br1 type bridge && "
           "ip -n %s-node addr add 10.77.2.1/24 dev br1 && "
           "ip -n %s-node link set br1 up",
           p, p, p, p, p, p, p, p))
        return -1;
    static const struct {
        const char *role, *br, *addr, *gw;
    } tasks[] = {{"t1", "br0", "10.77.1.11", "10.77.1.1"},
                 {"t2", "br0", "10.77.1.12", "10.77.1.1"},
                 {"t3", "br0", "10.77.1.13", "10.77.1.1"},
                 {"c", "br0", "10.77.1.20", "10.77.1.1"},
                 {"o1", "br1", "10.77.2.11", "10.77.2.1"}};
    for (size_t i = 0; i < ARRAY_SIZE(tasks); i++) {
        const char *r = tasks[i].role;
        if (sh("ip -n %s-node link add v%s type veth peer name eth0 netns "
               "%s-%s && "
               "ip -n %s-node link set v%s master %s up && "
               "ip -n %s-node link set v%s type bridge_slave hairpin on && "
               "ip -n %s-%s addr add %s/24 dev eth0 && "
               "ip -n %s-%s link set eth0 up && "
               "ip -n %s-%s route add default via %s",
               p, r, p, r, p, r, tasks[i].br, p, r, p, r, tasks[i].addr, p, r,
               p, r, tasks[i].gw))
            return -1;
    }
    if (sh("ip -n %s-node link add vext type veth peer name eth0 netns "
           "%s-ext && "
           "ip -n %s-node addr add 172.30.0.1/24 dev vext && "
           "ip -n %s-node link set vext up && "
           "ip -n %s-ext addr add 172.30.0.2/24 dev eth0 && "
           "ip -n %s-ext link set eth0 up && "
           "ip -n %s-ext route add 10.77.0.0/16 via 172.30.0.1",
           p, p, p, p, p, p, p))
        return -1;
    sysctl_in("node", "/proc/sys/net/bridge/bridge-nf-call-iptables", "1");
    return 0;
}

/* ---- servers: each answers "<name> <peer address>\n" ---- */

enum { MAX_LISTEN = 16 };
struct listener {
    int fd;
    bool udp;
    int who; /* index into names */
};
static const char *const names[] = {"t1", "t2", "t3", "o1", "ext"};
static struct listener listeners[MAX_LISTEN];
static size_t n_listeners;
static atomic_int hits[ARRAY_SIZE(names)];
static int stop_pipe[2] = {-1, -1};
static pthread_t server_thread;

static int listen_in(const char *role, bool udp, int port, int who)
{
    int s = socket_in(role, udp ? SOCK_DGRAM : SOCK_STREAM);
    if (s < 0)
        return -1;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        (!udp && listen(s, 128) < 0)) {
        perror("bind/listen");
        close(s);
        return -1;
    }
    listeners[n_listeners++] = (struct listener){s, udp, who};
    return 0;
}

static void *serve(void *arg)
{
    (void)arg;
    struct pollfd pfd[MAX_LISTEN + 1];
    for (size_t i = 0; i < n_listeners; i++)
        pfd[i] = (struct pollfd){.fd = listeners[i].fd, .events = POLLIN};
    pfd[n_listeners] = (struct pollfd){.fd = stop_pipe[0], .events = POLLIN};
    for (;;) {
        if (poll(pfd, n_listeners + 1, -1) < 0 && errno != EINTR)
            break;
        if (pfd[n_listeners].revents)
            break;
        for (size_t i = 0; i < n_listeners; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            const struct listener *l = &listeners[i];
            struct sockaddr_in peer;
            socklen_t plen = sizeof(peer);
            char msg[64], a[INET_ADDRSTRLEN];
            if (l->udp) {
                char in[64];
                ssize_t n = recvfrom(l->fd, in, sizeof(in), 0,
                                     (struct sockaddr *)&peer, &plen);
                if (n < 0)
                    continue;
                inet_ntop(AF_INET, &peer.sin_addr, a, sizeof(a));
                int len =
                    snprintf(msg, sizeof(msg), "%s %s\n", names[l->who], a);
                atomic_fetch_add(&hits[l->who], 1);
                sendto(l->fd, msg, (size_t)len, 0, (struct sockaddr *)&peer,
                       plen);
                continue;
            }
            int c =
                accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            atomic_fetch_add(&hits[l->who], 1);
            inet_ntop(AF_INET, &peer.sin_addr, a, sizeof(a));
            int len = snprintf(msg, sizeof(msg), "%s %s\n", names[l->who], a);
            ssize_t w = write(c, msg, (size_t)len);
            (void)w;
            close(c);
        }
    }
    return NULL;
}

static int servers_start(void)
{
    static const char *const task_roles[] = {"t1", "t2", "t3"};
    for (int i = 0; i < 3; i++)
        if (listen_in(task_roles[i], false, 80, i) < 0 ||
            listen_in(task_roles[i], false, 8080, i) < 0 ||
            listen_in(task_roles[i], true, 53, i) < 0)
            return -1;
    if (listen_in("o1", false, 80, 3) < 0 ||
        listen_in("ext", false, 9000, 4) < 0)
        return -1;
    if (pipe2(stop_pipe, O_CLOEXEC) < 0)
        return -1;
    return pthread_create(&server_thread, NULL, serve, NULL) == 0 ? 0 : -1;
}

static void servers_stop(void)
{
    if (stop_pipe[1] < 0)
        return;
    ssize_t w = write(stop_pipe[1], "x", 1);
    (void)w;
    pthread_join(server_thread, NULL);
    for (size_t i = 0; i < n_listeners; i++)
        close(listeners[i].fd);
    close(stop_pipe[0]);
    close(stop_pipe[1]);
    stop_pipe[0] = stop_pipe[1] = -1;
}

/* ---- client ---- */

/* Asks ip:port from role's namespace; 0 with the answer in reply, or
 * -ECONNREFUSED, -ETIMEDOUT, ... */
static int ask(const char *role, const char *ip, int port, bool udp,
               int timeout_ms, char *reply, size_t cap)
{
    reply[0] = '\0';
    int s = socket_in(role, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK);
    if (s < 0)
        return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = inet_addr(ip)};
    int r = 0;
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 &&
        errno != EINPROGRESS) {
        r = -errno;
        goto out;
    }
    struct pollfd p = {.fd = s, .events = udp ? POLLIN : POLLOUT};
    if (udp && send(s, "?", 1, 0) < 0) {
        r = -errno;
        goto out;
    }
    if (!udp) {
        if (poll(&p, 1, timeout_ms) <= 0) {
            r = -ETIMEDOUT;
            goto out;
        }
        int e = 0;
        socklen_t el = sizeof(e);
        getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) {
            r = -e;
            goto out;
        }
        p.events = POLLIN;
    }
    size_t len = 0;
    double end = now_ms() + timeout_ms;
    for (;;) {
        int left = (int)(end - now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            r = len ? 0 : -ETIMEDOUT;
            break;
        }
        ssize_t n = recv(s, reply + len, cap - 1 - len, 0);
        if (n < 0) {
            r = -errno;
            break;
        }
        len += (size_t)n;
        reply[len] = '\0';
        if (n == 0 || udp || len + 1 >= cap || strchr(reply, '\n'))
            break;
    }
    if (r == 0 && len == 0)
        r = -ENODATA;
out:
    close(s);
    return r;
}

/* Asks n times; counts answers by backend name (t1..t3) into seen[], checks
 * every answer came, and that every peer was want_peer (NULL: any). */
static int ask_many(const char *role, const char *ip, int port, bool udp, int n,
                    int seen[3], const char *want_peer)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        char r[64], name[16] = "", peer[INET_ADDRSTRLEN] = "";
        int e = ask(role, ip, port, udp, 2000, r, sizeof(r));
        if (e < 0 || sscanf(r, "%15s %15s", name, peer) != 2) {
            fprintf(stderr, "%s -> %s:%d: %s\n", role, ip, port,
                    e < 0 ? strerror(-e) : r);
            failed++;
            continue;
        }
        if (name[0] == 't' && name[1] >= '1' && name[1] <= '3')
            seen[name[1] - '1']++;
        if (want_peer && strcmp(peer, want_peer) != 0) {
            fprintf(stderr, "%s -> %s:%d: peer %s, want %s\n", role, ip, port,
                    peer, want_peer);
            failed++;
        }
    }
    return failed;
}

/* ---- the states applied ---- */

static struct in_addr be3[3], be2[2], local_t2[1];
static struct lb_vip web_vip, web_vip2, idle_vip;
static const struct lb_port web_ports[] = {
    {IPPROTO_TCP, 80, 8000, false},
    {IPPROTO_UDP, 53, 5353, false},
    {IPPROTO_TCP, 80, 8081, true},
};
static const struct lb_port idle_ports[] = {{IPPROTO_TCP, 80, 8002, false}};
static struct lb_service svcs[2];
static struct lb_network netv[2];

static void states_init(void)
{
    be3[0] = IP("10.77.1.11");
    be3[1] = IP("10.77.1.12");
    be3[2] = IP("10.77.1.13");
    be2[0] = be3[0];
    be2[1] = be3[1];
    local_t2[0] = be3[1];
    web_vip = (struct lb_vip){IP("10.77.1.2"), be3, 3};
    web_vip2 = (struct lb_vip){IP("10.77.1.2"), be2, 2};
    idle_vip = (struct lb_vip){IP("10.77.1.3"), NULL, 0};
    svcs[0] = (struct lb_service){.id = "web",
                                  .vips = &web_vip,
                                  .n_vips = 1,
                                  .ports = web_ports,
                                  .n_ports = ARRAY_SIZE(web_ports),
                                  .mesh_backends = be3,
                                  .n_mesh_backends = 3,
                                  .local_backends = local_t2,
                                  .n_local_backends = 1};
    svcs[1] = (struct lb_service){.id = "idle",
                                  .vips = &idle_vip,
                                  .n_vips = 1,
                                  .ports = idle_ports,
                                  .n_ports = 1};
    netv[0] = (struct lb_network){IP("10.77.1.0"), 24, {0}};
    netv[1] = (struct lb_network){IP("10.77.2.0"), 24, {0}};
}

static struct lb_state state_full(void)
{
    svcs[0].vips = &web_vip;
    svcs[0].mesh_backends = be3;
    svcs[0].n_mesh_backends = 3;
    return (struct lb_state){svcs, 2, netv, 2};
}

/* t3 is going away: out of the VIP and the mesh. */
static struct lb_state state_without_t3(void)
{
    svcs[0].vips = &web_vip2;
    svcs[0].mesh_backends = be2;
    svcs[0].n_mesh_backends = 2;
    return (struct lb_state){svcs, 2, netv, 2};
}

static struct lb *lb;

static int apply_in_node(const struct lb_state *st, struct err *err)
{
    int self = ns_enter("node");
    if (self < 0)
        return err_set(err, ERR_INTERNAL, "enter node namespace");
    int r = lb_apply(lb, st, err);
    ns_leave(self);
    return r;
}

static int nft_in_node(const char *cmds, char **out, struct err *err)
{
    int self = ns_enter("node");
    if (self < 0)
        return err_set(err, ERR_INTERNAL, "enter node namespace");
    struct nftables *nft = nftables_open(err);
    int r = nft ? nftables_run(nft, cmds, out, err) : -1;
    nftables_close(nft);
    ns_leave(self);
    return r;
}

/* ---- tests ---- */

static void test_vip(void)
{
    int seen[3] = {0};
    CHECK_INT(ask_many("c", "10.77.1.2", 80, false, 30, seen, NULL), 0);
    CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    printf("client -> VIP:80 x30: t1 %d, t2 %d, t3 %d\n", seen[0], seen[1],
           seen[2]);

    /* Like Docker's VIPs, every port goes through, not only declared
     * ones; UDP too. */
    int any[3] = {0};
    CHECK_INT(ask_many("c", "10.77.1.2", 8080, false, 3, any, NULL), 0);
    CHECK_INT(ask_many("c", "10.77.1.2", 53, true, 3, any, NULL), 0);
    CHECK_INT(any[0] + any[1] + any[2], 6);

    /* No running task: refused at once, not black-holed. */
    char r[64];
    double t0 = now_ms();
    CHECK_INT(ask("c", "10.77.1.3", 80, false, 2000, r, sizeof(r)),
              -ECONNREFUSED);
    CHECK(now_ms() - t0 < 500);
}

static void test_published(void)
{
    int seen[3] = {0};
    /* From the node itself: loopback (route_localnet), its own addresses. */
    CHECK_INT(ask_many("node", "127.0.0.1", 8000, false, 30, seen, NULL), 0);
    CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    printf("node -> 127.0.0.1:8000 x30: t1 %d, t2 %d, t3 %d\n", seen[0],
           seen[1], seen[2]);
    int any[3] = {0};
    CHECK_INT(ask_many("node", "172.30.0.1", 8000, false, 3, any, NULL), 0);
    CHECK_INT(ask_many("node", "10.77.1.1", 8000, false, 3, any, NULL), 0);
    CHECK_INT(ask_many("node", "127.0.0.1", 5353, true, 3, any, NULL), 0);
    /* From outside: masqueraded, tasks see the node's bridge address. */
    CHECK_INT(ask_many("ext", "172.30.0.1", 8000, false, 6, any, "10.77.1.1"),
              0);
    /* From a task of another network: published ports are open to all. */
    CHECK_INT(ask_many("o1", "10.77.2.1", 8000, false, 3, any, NULL), 0);

    /* Host mode: the local task only, and the client's own address. */
    int host[3] = {0};
    CHECK_INT(ask_many("ext", "172.30.0.1", 8081, false, 6, host, "172.30.0.2"),
              0);
    CHECK_INT(host[1], 6);

    /* An ingress port of a service with no task is refused. */
    char r[64];
    CHECK_INT(ask("ext", "172.30.0.1", 8002, false, 2000, r, sizeof(r)),
              -ECONNREFUSED);
}

static void test_hairpin(const char *what)
{
    /* t1 -> its own service's VIP lands on itself now and then, and gets
     * its answer (from the gateway's address: masqueraded). */
    int seen[3] = {0};
    CHECK_INT(ask_many("t1", "10.77.1.2", 80, false, 30, seen, "10.77.1.1"), 0);
    CHECK(seen[0] > 0);
    CHECK(seen[1] > 0 && seen[2] > 0);
    printf("hairpin (%s) t1 -> VIP:80 x30: t1 %d, t2 %d, t3 %d\n", what,
           seen[0], seen[1], seen[2]);
}

static void test_egress_and_isolation(void)
{
    char r[64];
    /* Egress: the outside world sees the node's address. */
    CHECK_INT(ask("t1", "172.30.0.2", 9000, false, 2000, r, sizeof(r)), 0);
    CHECK_STR(r, "ext 172.30.0.1\n");
    /* Another network's task can reach neither the VIP (refused) nor a task
     * (dropped); neither can the outside world reach a task directly. */
    CHECK_INT(ask("o1", "10.77.1.2", 80, false, 2000, r, sizeof(r)),
              -ECONNREFUSED);
    CHECK_INT(ask("o1", "10.77.1.11", 80, false, 300, r, sizeof(r)),
              -ETIMEDOUT);
    CHECK_INT(ask("ext", "10.77.1.11", 80, false, 300, r, sizeof(r)),
              -ETIMEDOUT);
    CHECK_INT(ask("ext", "10.77.1.2", 80, false, 2000, r, sizeof(r)),
              -ECONNREFUSED);
    /* Inside one network, tasks talk directly. */
    CHECK_INT(ask("c", "10.77.1.11", 80, false, 2000, r, sizeof(r)), 0);
    CHECK_STR(r, "t1 10.77.1.20\n");
}

/* A client asking one target in a loop until told to stop. */
struct hammer {
    const char *role, *ip;
    int port;
    const char *want; /* answer prefix */
    atomic_bool stop;
    atomic_int ok, failed;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    while (!atomic_load(&h->stop)) {
        char r[64];
        int e = ask(h->role, h->ip, h->port, false, 2000, r, sizeof(r));
        if (e == 0 && strncmp(r, h->want, strlen(h->want)) == 0) {
            atomic_fetch_add(&h->ok, 1);
        } else {
            atomic_fetch_add(&h->failed, 1);
            fprintf(stderr, "under load: %s -> %s:%d: %s\n", h->role, h->ip,
                    h->port, e < 0 ? strerror(-e) : r);
        }
    }
    return NULL;
}

/* Re-applying under steady request loops (VIP, routing mesh, egress) drops
 * nothing; the removed task gets no new connection once the apply
 * returned. LB_STRESS=<applies> for a longer run. */
static void test_update_under_load(void)
{
    struct err err;
    struct hammer h[] = {
        {.role = "c", .ip = "10.77.1.2", .port = 80, .want = "t"},
        {.role = "ext", .ip = "172.30.0.1", .port = 8000, .want = "t"},
        {.role = "t1",
         .ip = "172.30.0.2",
         .port = 9000,
         .want = "ext 172.30.0.1\n"}};
    pthread_t th[ARRAY_SIZE(h)];
    for (size_t i = 0; i < ARRAY_SIZE(h); i++)
        CHECK_INT(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    usleep(100 * 1000);
    struct lb_state full = state_full();
    int applies = getenv("LB_STRESS") ? atoi(getenv("LB_STRESS")) : 200;
    int apply_failed = 0;
    double t0 = now_ms();
    for (int i = 0; i < applies; i++) {
        apply_failed += apply_in_node(&full, &err) < 0;
        if (i == applies / 2) {
            /* shoald restarts: a new handle reads the table back. */
            int self = ns_enter("node");
            lb_free(lb);
            lb = lb_new(&err);
            ns_leave(self);
            CHECK(lb != NULL);
            if (!lb)
                break;
        }
    }
    double took = now_ms() - t0;
    CHECK_INT(apply_failed, 0);
    struct lb_state less = state_without_t3();
    CHECK_INT(apply_in_node(&less, &err), 0);
    /* Connections DNATed just before the swap may still be accepted. */
    usleep(20 * 1000);
    int t3_at_swap = atomic_load(&hits[2]);
    usleep(300 * 1000);
    int ok = 0, failed = 0;
    for (size_t i = 0; i < ARRAY_SIZE(h); i++) {
        atomic_store(&h[i].stop, true);
        pthread_join(th[i], NULL);
        ok += atomic_load(&h[i].ok);
        failed += atomic_load(&h[i].failed);
        CHECK(atomic_load(&h[i].ok) > 20);
    }
    printf("under load: %d ok, %d failed over %d applies (%.0f ms)\n", ok,
           failed, applies + 1, took);
    CHECK_INT(failed, 0);

    int seen[3] = {0};
    CHECK_INT(ask_many("c", "10.77.1.2", 80, false, 30, seen, NULL), 0);
    CHECK_INT(ask_many("ext", "172.30.0.1", 8000, false, 30, seen, NULL), 0);
    CHECK_INT(seen[2], 0);
    CHECK(seen[0] > 0 && seen[1] > 0);
    CHECK_INT(atomic_load(&hits[2]), t3_at_swap);

    full = state_full(); /* the states share their services */
    CHECK_INT(apply_in_node(&full, &err), 0);
}

/* A refused state leaves the applied table alone; nft's errors arrive in
 * our shape. */
static void test_errors(void)
{
    struct err err;
    struct lb_service dup[] = {{.id = "a", .vips = &web_vip, .n_vips = 1},
                               {.id = "b", .vips = &web_vip, .n_vips = 1}};
    struct lb_state bad = {dup, 2, NULL, 0};
    CHECK_INT(apply_in_node(&bad, &err), -1);
    CHECK_INT(err.code, ERR_CONFLICT);
    char r[64];
    CHECK_INT(ask("c", "10.77.1.2", 80, false, 2000, r, sizeof(r)), 0);

    err_clear(&err);
    CHECK_INT(nft_in_node("add table ip shoal_t\nadd rule ip shoal_t nochain "
                          "accept\n",
                          NULL, &err),
              -1);
    CHECK_INT(err.code, ERR_NOTFOUND);
    CHECK_STR(err.msg, "nftables: line 2:21-27: Could not process rule: No "
                       "such file or directory (at 'add rule ip shoal_t "
                       "nochain accept')");
    printf("nft error: %s\n", err.msg);
    /* The failed batch created nothing. */
    CHECK_INT(nft_in_node("list table ip shoal_t", NULL, &err), -1);
    CHECK_INT(err.code, ERR_NOTFOUND);

    err_clear(&err);
    CHECK_INT(
        nft_in_node("add rule ip shoal prerouting bogus words\n", NULL, &err),
        -1);
    CHECK_INT(err.code, ERR_INTERNAL);
    CHECK_STR(err.msg, "nftables: line 1:30-34: No symbol type information "
                       "(at 'add rule ip shoal prerouting bogus words')");
    printf("nft error: %s\n", err.msg);

    char *out = NULL;
    CHECK_INT(nft_in_node("list table ip shoal", &out, &err), 0);
    CHECK(out &&
          strstr(out, "10.77.1.2 comment \"web\" : goto vip-10.77.1.0-24-n3-"));
    if (out &&
        !strstr(out, "10.77.1.2 comment \"web\" : goto vip-10.77.1.0-24-n3-"))
        fprintf(stderr, "listed: %s\n", out);
    free(out);
}

/* The table was changed behind our back: the next apply reads it back and
 * puts it right. */
static void test_recovery(void)
{
    struct err err;
    struct lb_state full = state_full();
    char r[64];
    CHECK_INT(nft_in_node("flush ruleset\n", NULL, &err), 0);
    CHECK_INT(ask("c", "10.77.1.2", 80, false, 2000, r, sizeof(r)),
              -ECONNREFUSED);
    CHECK_INT(apply_in_node(&full, &err), 0);
    CHECK_INT(ask("c", "10.77.1.2", 80, false, 2000, r, sizeof(r)), 0);
    CHECK_INT(nft_in_node("add table ip shoal\n"
                          "add chain ip shoal stray\n"
                          "flush chain ip shoal prerouting\n",
                          NULL, &err),
              0);
    CHECK_INT(apply_in_node(&full, &err), 0);
    CHECK_INT(apply_in_node(&full, &err), 0);
    CHECK_INT(ask("c", "10.77.1.2", 80, false, 2000, r, sizeof(r)), 0);

    /* A base chain of another shape (an older shoald?) cannot be kept:
     * the table is replaced whole. */
    CHECK_INT(nft_in_node("delete table ip shoal\n"
                          "add table ip shoal\n"
                          "add chain ip shoal prerouting { type nat hook "
                          "prerouting priority -90; policy accept; }\n",
                          NULL, &err),
              0);
    CHECK_INT(apply_in_node(&full, &err), 0);
    CHECK_INT(ask("c", "10.77.1.2", 80, false, 2000, r, sizeof(r)), 0);
    char *out = NULL;
    CHECK_INT(nft_in_node("list chain ip shoal prerouting", &out, &err), 0);
    CHECK(out && strstr(out, "priority dstnat;"));
    free(out);
    CHECK_INT(apply_in_node(&full, &err), 0);
    CHECK_INT(ask("c", "10.77.1.2", 80, false, 2000, r, sizeof(r)), 0);
}

static void fill_bench_state(struct lb_service *s, struct lb_vip *v,
                             struct lb_port *p, struct in_addr (*be)[10], int n)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < 10; j++)
            be[i][j].s_addr = htonl(0x0a500000u | (uint32_t)(i + 1) << 8 |
                                    (uint32_t)(j + 10));
        v[i] = (struct lb_vip){
            {htonl(0x0a500000u | (uint32_t)(i + 1) << 8 | 2u)}, be[i], 10};
        p[i] = (struct lb_port){IPPROTO_TCP, 80, (uint16_t)(30000 + i), false};
        s[i] = (struct lb_service){.vips = &v[i],
                                   .n_vips = 1,
                                   .ports = &p[i],
                                   .n_ports = 1,
                                   .mesh_backends = be[i],
                                   .n_mesh_backends = 10};
        snprintf(s[i].id, sizeof(s[i].id), "svc%022d", i);
    }
}

/* 100 services x 10 tasks: how long one apply takes. */
static void test_apply_time(void)
{
    enum { N = 100, RUNS = 10 };
    static struct lb_service s[N];
    static struct lb_vip v[N];
    static struct lb_port p[N];
    static struct in_addr be[N][10];
    fill_bench_state(s, v, p, be, N);
    struct lb_network net = {IP("10.80.0.0"), 16, {0}};
    struct lb_state st = {s, N, &net, 1};
    struct err err;

    struct buf b;
    buf_init(&b);
    double t0 = now_ms();
    CHECK_INT(lb_render(&st, 'a', &b, &err), 0);
    double render = now_ms() - t0;
    size_t bytes = b.len;
    buf_fini(&b);

    double min = 1e9, max = 0, sum = 0;
    for (int i = 0; i < RUNS; i++) {
        t0 = now_ms();
        CHECK_INT(apply_in_node(&st, &err), 0);
        double d = now_ms() - t0;
        sum += d;
        min = d < min ? d : min;
        max = d > max ? d : max;
    }
    printf("apply 100 services x 10 backends (%zu bytes, render %.2f ms): "
           "min %.1f ms, avg %.1f ms, max %.1f ms\n",
           bytes, render, min, sum / RUNS, max);
    CHECK(min < 500);

    struct lb_state small = state_full();
    min = 1e9;
    for (int i = 0; i < RUNS; i++) {
        t0 = now_ms();
        CHECK_INT(apply_in_node(&small, &err), 0);
        double d = now_ms() - t0;
        min = d < min ? d : min;
    }
    printf("apply the 2-service test state: min %.2f ms\n", min);
}

static void test_clear(void)
{
    struct err err;
    int self = ns_enter("node");
    CHECK(self >= 0);
    if (self < 0)
        return;
    CHECK_INT(lb_clear(lb, &err), 0);
    CHECK_INT(lb_clear(lb, &err), 0); /* fine when absent */
    ns_leave(self);
    CHECK_INT(nft_in_node("list table ip shoal", NULL, &err), -1);
    CHECK_INT(err.code, ERR_NOTFOUND);
    char r[64];
    /* Nothing listens on the node itself at those addresses. */
    CHECK_INT(ask("c", "10.77.1.2", 80, false, 2000, r, sizeof(r)),
              -ECONNREFUSED);
    CHECK_INT(ask("ext", "172.30.0.1", 8000, false, 2000, r, sizeof(r)),
              -ECONNREFUSED);
}

static void cleanup(void)
{
    servers_stop();
    lb_free(lb);
    lb = NULL;
    topology_remove();
}

int main(void)
{
    if (geteuid() != 0) {
        printf("test_lb_kernel: skipped (needs root)\n");
        HARNESS_END();
    }
    if (system("command -v ip >/dev/null 2>&1") != 0) {
        printf("test_lb_kernel: skipped (needs iproute2)\n");
        HARNESS_END();
    }
    snprintf(prefix, sizeof(prefix), "shlb%d", (int)getpid());
    reap_stale();
    atexit(cleanup);
    states_init();

    int ok = topology_make() == 0 && servers_start() == 0;
    CHECK(ok);
    struct err err;
    if (ok) {
        int self = ns_enter("node");
        ok = self >= 0 && lb_node_setup(&err) == 0 &&
             (lb = lb_new(&err)) != NULL;
        ns_leave(self);
        if (!ok)
            fprintf(stderr, "set up node: %s\n", err.msg);
        CHECK(ok);
    }
    struct lb_state full = state_full();
    if (ok) {
        ok = apply_in_node(&full, &err) == 0;
        if (!ok)
            fprintf(stderr, "apply: %s\n", err.msg);
        CHECK(ok);
    }
    if (ok) {
        RUN(test_vip);
        RUN(test_published);
        harness_current = "test_hairpin";
        test_hairpin("br_netfilter on, hairpin ports");
        RUN(test_egress_and_isolation);
        RUN(test_update_under_load);
        RUN(test_errors);
        RUN(test_recovery);
        RUN(test_apply_time);

        /* The other way to get hairpin: br_netfilter off, so DNAT back into
         * the bridge is routed, and no hairpin mode on the ports. */
        sysctl_in("node", "/proc/sys/net/bridge/bridge-nf-call-iptables", "0");
        static const char *const ports[] = {"vt1", "vt2", "vt3", "vc"};
        for (size_t i = 0; i < ARRAY_SIZE(ports); i++)
            sh("ip -n %s-node link set %s type bridge_slave hairpin off",
               prefix, ports[i]);
        harness_current = "test_hairpin_routed";
        test_hairpin("br_netfilter off, no hairpin ports");
        int seen[3] = {0};
        CHECK_INT(ask_many("c", "10.77.1.2", 80, false, 10, seen, NULL), 0);

        RUN(test_clear);
    }
    cleanup();
    HARNESS_END();
}
