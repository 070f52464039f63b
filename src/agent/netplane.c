// SPDX-License-Identifier: Apache-2.0
// The node's network plane: networks and veths on demand, the VXLAN peers
// and endpoints of the other nodes, the nftables load-balancing state and
// the DNS view recomputed from the store (one loop turn after a change, or
// at once before a task is stopped).
#include "agent/netplane.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "agent/netpeers.h"
#include "agent/netview.h"
#include "base/buf.h"
#include "base/hmap.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "net/conntrack.h"
#include "net/dns_server.h"
#include "net/lb.h"
#include "net/overlay.h"
#include "net/sysctl.h"

struct local_net {
    char id[ID_LEN + 1];
    struct in_addr gateway;
    int refs; /* local tasks attached */
    bool ingress;
    bool listening; /* the DNS server listens on its gateway */
    /* The VXLAN device's source address ("" = routing's choice) and port
     * it was set up with. */
    char local[16];
    uint16_t port;
    char mac[18]; /* ingress: the bridge MAC set, "" none yet */
    /* Peers and endpoints in the kernel; read back from it first when the
     * device was there before us (loaded false). */
    struct netpeers applied;
    bool loaded;
};

struct attached {
    char id[ID_LEN + 1];
    json_t *net_ids; /* networks it holds a reference on */
};

struct netplane {
    struct netplane_config cfg;
    char *node_id;
    struct lb *lb;
    struct dns_server *dns;
    struct netview view;
    bool dirty;
    bool started;
    uv_timer_t timer;
    struct store_watch *watch;
    struct hmap nets;     /* id -> struct local_net */
    struct hmap attached; /* task id -> struct attached */
    /* Backends of the last applied state (sorted), to forget the
     * connections of those that leave. */
    uint32_t *backends;
    size_t n_backends;
    char *applied;    /* the last applied ruleset (slot 'a' rendering) */
    bool topology;    /* services or networks changed: VIPs, networks */
    bool peers_dirty; /* nodes or remote tasks changed: VXLAN entries */
    struct netpeers_self self;
    /* Addresses of tasks on other nodes on the local networks (sorted),
     * for the load balancer. */
    struct in_addr *remote;
    size_t n_remote;
};

static void schedule(struct netplane *np);

/* ---- local networks ---- */

/* The ingress bridge's MAC follows this node's mesh address, which other
 * nodes resolve to it (see netpeers.h). Tasks learn the change from the
 * gratuitous ARP that arp_notify sends. */
static void set_ingress_mac(struct netplane *np, struct local_net *ln)
{
    if (!ln->ingress || !np->self.mac[0] || strcmp(ln->mac, np->self.mac) == 0)
        return;
    char br[OVERLAY_NAME_LEN], key[80];
    overlay_bridge_name(ln->id, br);
    snprintf(key, sizeof(key), "net/ipv4/conf/%s/arp_notify", br);
    struct err err = {0};
    if (sysctl_write(key, "1", &err) < 0)
        log_debug("netplane: %s", err.msg);
    err_clear(&err);
    if (overlay_network_set_mac(ln->id, np->self.mac, &err) < 0) {
        log_warn("netplane: ingress: %s", err.msg);
        return;
    }
    snprintf(ln->mac, sizeof(ln->mac), "%s", np->self.mac);
}

/* Sets a network up again when this node's VXLAN parameters (its address,
 * the data path port) changed; the device is then new and empty. */
static void refresh_network(struct netplane *np, struct local_net *ln)
{
    set_ingress_mac(np, ln);
    if (strcmp(ln->local, np->self.addr) == 0 && ln->port == np->self.port)
        return;
    const struct network *n = store_network(np->cfg.store, ln->id);
    if (!n)
        return;
    int prefix = 24;
    const char *slash = strchr(n->subnet, '/');
    if (slash)
        prefix = atoi(slash + 1);
    char gw_cidr[40];
    snprintf(gw_cidr, sizeof(gw_cidr), "%s/%d", n->gateway, prefix);
    struct err err = {0};
    int created = overlay_network_ensure(
        n->meta.id, n->vni, gw_cidr, np->self.addr[0] ? np->self.addr : NULL,
        np->self.port, 0, &err);
    if (created < 0) {
        log_warn("netplane: network %s: %s", n->name, err.msg);
        return;
    }
    snprintf(ln->local, sizeof(ln->local), "%s", np->self.addr);
    ln->port = np->self.port;
    if (created == 1) {
        netpeers_fini(&ln->applied);
        ln->loaded = true;
    }
    log_info("netplane: network %s: VXLAN from %s port %u", n->name,
             ln->local[0] ? ln->local : "any", ln->port);
}

static struct local_net *
ensure_network(struct netplane *np, const struct network *n, struct err *err)
{
    struct local_net *ln = hmap_get(&np->nets, n->meta.id);
    if (ln)
        return ln;
    int prefix = 24;
    const char *slash = strchr(n->subnet, '/');
    if (slash)
        prefix = atoi(slash + 1);
    char gw_cidr[40];
    snprintf(gw_cidr, sizeof(gw_cidr), "%s/%d", n->gateway, prefix);
    const char *local = np->self.addr[0] ? np->self.addr : NULL;
    int created = overlay_network_ensure(n->meta.id, n->vni, gw_cidr, local,
                                         np->self.port, 0, err);
    if (created < 0)
        return NULL;
    ln = xcalloc(1, sizeof(*ln));
    snprintf(ln->id, sizeof(ln->id), "%s", n->meta.id);
    inet_pton(AF_INET, n->gateway, &ln->gateway);
    ln->ingress = n->ingress;
    snprintf(ln->local, sizeof(ln->local), "%s", np->self.addr);
    ln->port = np->self.port;
    netpeers_init(&ln->applied);
    ln->loaded = created == 1;
    hmap_put(&np->nets, ln->id, ln);
    set_ingress_mac(np, ln);
    /* Its VIPs, balancer entries and peers follow on the next turn (or at
     * the next netplane_sync). */
    np->dirty = np->topology = true;
    if (np->started)
        schedule(np);
    if (np->dns && !n->ingress) {
        if (dns_server_add_listener(np->dns, ln->gateway, err) == 0)
            ln->listening = true;
        else
            log_warn("netplane: DNS on %s: %s", n->gateway, err->msg);
        err_clear(err);
    }
    log_info("netplane: network %s (%s, VNI %u) up", n->name, n->subnet,
             n->vni);
    return ln;
}

static void drop_network(struct netplane *np, struct local_net *ln)
{
    struct err err = {0};
    if (ln->listening)
        dns_server_remove_listener(np->dns, ln->gateway);
    if (overlay_network_remove(ln->id, &err) < 0)
        log_warn("netplane: remove network %s: %s", ln->id, err.msg);
    hmap_del(&np->nets, ln->id);
    netpeers_fini(&ln->applied);
    free(ln);
}

/* Networks nobody here uses any more (ingress stays while it exists). */
static void gc_networks(struct netplane *np)
{
    struct vec dead;
    vec_init(&dead);
    size_t it = 0;
    void *v;
    while (hmap_next(&np->nets, &it, NULL, &v)) {
        struct local_net *ln = v;
        bool exists = store_network(np->cfg.store, ln->id) != NULL;
        if (!exists || (ln->refs <= 0 && !ln->ingress))
            vec_push(&dead, ln);
    }
    for (size_t i = 0; i < dead.len; i++)
        drop_network(np, dead.items[i]);
    vec_fini(&dead);
}

static void ensure_ingress(struct netplane *np)
{
    size_t it = 0;
    void *o;
    while (store_next(np->cfg.store, KIND_NETWORK, &it, &o)) {
        struct network *n = o;
        struct err err = {0};
        if (n->ingress && !ensure_network(np, n, &err))
            log_warn("netplane: ingress: %s", err.msg);
    }
}

/* ---- the load balancer's state ---- */

struct lb_build {
    struct vec services; /* struct lb_service * */
    struct vec blocks;   /* everything allocated, freed at the end */
};

static void *keep(struct lb_build *b, void *p)
{
    vec_push(&b->blocks, p);
    return p;
}

static bool port_is_host(const json_t *p)
{
    const char *mode = jx_str(p, "PublishMode");
    return mode && strcmp(mode, "host") == 0;
}

static bool ingress_addr(const struct store *s, const struct task *t,
                         struct in_addr *out)
{
    size_t i;
    json_t *att;
    json_array_foreach(t->networks, i, att)
    {
        const struct network *n =
            store_network(s, jx_str0(jx_path(att, "Network"), "ID"));
        if (n && n->ingress)
            return netview_task_addr(t, n->meta.id, out, NULL);
    }
    return false;
}

static void build_service(struct netplane *np, struct lb_build *b,
                          const struct service *svc)
{
    const struct store *st = np->cfg.store;
    const struct vec *tasks = store_service_tasks(st, svc->meta.id);
    size_t n_tasks = tasks ? tasks->len : 0;
    json_t *vips = jx_path(svc->endpoint, "VirtualIPs");
    json_t *ports = jx_path(svc->endpoint, "Ports");
    if (!json_array_size(vips) && !json_array_size(ports))
        return;
    struct lb_service *ls = keep(b, xcalloc(1, sizeof(*ls)));
    snprintf(ls->id, sizeof(ls->id), "%s", svc->meta.id);
    struct lb_vip *lv =
        keep(b, xcalloc(json_array_size(vips) + 1, sizeof(*lv)));
    size_t i;
    json_t *vj;
    json_array_foreach(vips, i, vj)
    {
        const char *net_id = jx_str0(vj, "NetworkID");
        if (!hmap_get(&np->nets, net_id))
            continue; /* network not on this node: nobody here asks */
        char ip[20];
        snprintf(ip, sizeof(ip), "%s", jx_str0(vj, "Addr"));
        char *slash = strchr(ip, '/');
        if (slash)
            *slash = '\0';
        struct lb_vip *v = &lv[ls->n_vips];
        if (inet_pton(AF_INET, ip, &v->addr) != 1)
            continue;
        struct in_addr *be = keep(b, xcalloc(n_tasks + 1, sizeof(*be)));
        for (size_t k = 0; k < n_tasks; k++) {
            const struct task *t = tasks->items[k];
            if (netview_task_serves(t) &&
                netview_task_addr(t, net_id, &be[v->n_backends], NULL))
                v->n_backends++;
        }
        v->backends = be;
        ls->n_vips++;
    }
    ls->vips = lv;
    struct lb_port *lp =
        keep(b, xcalloc(json_array_size(ports) + 1, sizeof(*lp)));
    json_t *pj;
    json_array_foreach(ports, i, pj)
    {
        json_int_t published = jx_int(pj, "PublishedPort", 0);
        if (!published)
            continue;
        /* Host-mode ports are each local task's own (build_host_ports). */
        if (port_is_host(pj))
            continue;
        const char *proto = jx_str(pj, "Protocol");
        struct lb_port *p = &lp[ls->n_ports++];
        p->proto =
            proto && strcmp(proto, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
        p->target = (uint16_t)jx_int(pj, "TargetPort", 0);
        p->published = (uint16_t)published;
    }
    ls->ports = lp;
    struct in_addr *mesh = keep(b, xcalloc(n_tasks + 1, sizeof(*mesh)));
    for (size_t k = 0; k < n_tasks; k++) {
        const struct task *t = tasks->items[k];
        struct in_addr a;
        if (!netview_task_serves(t) || !ingress_addr(st, t, &a))
            continue;
        mesh[ls->n_mesh_backends++] = a;
    }
    ls->mesh_backends = mesh;
    vec_push(&b->services, ls);
}

/* The address a host-mode port of task t maps to: the task's own on its
 * first network of its own (its eth0), else on ingress (see
 * store_spec_networks). */
static bool host_target(const struct store *s, const struct task *t,
                        struct in_addr *out)
{
    size_t i;
    json_t *att;
    json_array_foreach(t->networks, i, att)
    {
        const struct network *n =
            store_network(s, jx_str0(jx_path(att, "Network"), "ID"));
        if (n && !n->ingress && netview_task_addr(t, n->meta.id, out, NULL))
            return true;
    }
    return ingress_addr(s, t, out);
}

static int cmp_task_id(const void *a, const void *b)
{
    const struct task *x = *(const struct task *const *)a;
    const struct task *y = *(const struct task *const *)b;
    return strcmp(x->meta.id, y->meta.id);
}

static void port_key(char *out, size_t size, const char *proto, json_int_t port)
{
    snprintf(out, size, "%s/%lld", proto && *proto ? proto : "tcp",
             (long long)port);
}

/* Host-mode publishing, as Docker's port mappings: on this node only, for
 * each local task that serves, its host-mode ports (as it reported them in
 * Status.PortStatus, else its service's) DNATed to the task's own address;
 * never through the routing mesh, and the client's address is kept. Each
 * is an lb_service of its own named by the task's id. A port already
 * taken (by an ingress port, or by another task here: the scheduler keeps
 * that from happening) is left out rather than failing the whole table. */
static void build_host_ports(struct netplane *np, struct lb_build *b)
{
    const struct store *st = np->cfg.store;
    const struct vec *mine = store_node_tasks(st, np->node_id);
    if (!mine || !mine->len)
        return;
    struct hmap claimed;
    hmap_init(&claimed);
    size_t it = 0;
    void *o;
    while (store_next(st, KIND_SERVICE, &it, &o)) {
        const struct service *svc = o;
        size_t i;
        json_t *p;
        json_array_foreach(jx_path(svc->endpoint, "Ports"), i, p)
        {
            json_int_t pub = jx_int(p, "PublishedPort", 0);
            if (!pub || port_is_host(p))
                continue;
            char key[32];
            port_key(key, sizeof(key), jx_str(p, "Protocol"), pub);
            char *k = keep(b, xstrdup(key));
            hmap_put(&claimed, k, k);
        }
    }
    const struct task **tasks = keep(b, xcalloc(mine->len + 1, sizeof(*tasks)));
    size_t n = 0;
    for (size_t i = 0; i < mine->len; i++) {
        const struct task *t = mine->items[i];
        if (netview_task_serves(t))
            tasks[n++] = t;
    }
    qsort(tasks, n, sizeof(*tasks), cmp_task_id);
    for (size_t k = 0; k < n; k++) {
        const struct task *t = tasks[k];
        const struct service *svc = store_service(st, t->service_id);
        const json_t *ports =
            t->ports ? t->ports : jx_path(svc ? svc->endpoint : NULL, "Ports");
        struct in_addr addr;
        if (!json_array_size(ports) || !host_target(st, t, &addr))
            continue;
        struct lb_port *lp =
            keep(b, xcalloc(json_array_size(ports) + 1, sizeof(*lp)));
        struct lb_service *ls = NULL;
        size_t i;
        json_t *p;
        json_array_foreach(ports, i, p)
        {
            json_int_t pub = jx_int(p, "PublishedPort", 0);
            if (!pub || !port_is_host(p))
                continue;
            const char *proto = jx_str(p, "Protocol");
            char key[32];
            port_key(key, sizeof(key), proto, pub);
            if (hmap_get(&claimed, key)) {
                log_warn("netplane: host port %s of task %s is taken on "
                         "this node",
                         key, t->meta.id);
                continue;
            }
            char *kk = keep(b, xstrdup(key));
            hmap_put(&claimed, kk, kk);
            if (!ls) {
                ls = keep(b, xcalloc(1, sizeof(*ls)));
                snprintf(ls->id, sizeof(ls->id), "%s", t->meta.id);
                struct in_addr *local = keep(b, xcalloc(1, sizeof(*local)));
                *local = addr;
                ls->local_backends = local;
                ls->n_local_backends = 1;
                ls->ports = lp;
            }
            struct lb_port *lport = &lp[ls->n_ports++];
            lport->proto =
                proto && strcmp(proto, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
            lport->target = (uint16_t)jx_int(p, "TargetPort", 0);
            lport->published = (uint16_t)pub;
            lport->host_mode = true;
        }
        if (ls)
            vec_push(&b->services, ls);
    }
    hmap_fini(&claimed);
}

/* VIPs of local networks as addresses on their bridges (ARP). */
static void sync_vips(struct netplane *np)
{
    size_t it = 0;
    void *v;
    while (hmap_next(&np->nets, &it, NULL, &v)) {
        struct local_net *ln = v;
        const char *list[256];
        char bufs[256][20];
        size_t n = 0, sit = 0;
        void *o;
        while (n < 256 && store_next(np->cfg.store, KIND_SERVICE, &sit, &o)) {
            const struct service *svc = o;
            size_t i;
            json_t *vj;
            json_array_foreach(jx_path(svc->endpoint, "VirtualIPs"), i, vj)
            {
                if (n == 256 || strcmp(jx_str0(vj, "NetworkID"), ln->id))
                    continue;
                snprintf(bufs[n], sizeof(bufs[n]), "%s", jx_str0(vj, "Addr"));
                char *slash = strchr(bufs[n], '/');
                if (slash)
                    *slash = '\0';
                list[n] = bufs[n];
                n++;
            }
        }
        /* This node's mesh address lives on the ingress bridge. */
        if (ln->ingress && np->self.mesh[0] && n < 256)
            list[n++] = np->self.mesh;
        struct err err = {0};
        if (overlay_network_set_vips(ln->id, list, n, &err) < 0)
            log_warn("netplane: VIPs of %s: %s", ln->id, err.msg);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void collect(uint32_t **out, size_t *n, size_t *cap,
                    const struct in_addr *a, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *out = xrealloc(*out, *cap * sizeof(**out));
        }
        (*out)[(*n)++] = a[i].s_addr;
    }
}

/* Connections NATed to a backend that is no longer one would stay pinned
 * to it (a client retrying from the same port would never be balanced
 * again): conntrack forgets them. */
static void forget_gone_backends(struct netplane *np,
                                 const struct lb_service *svcs, size_t n)
{
    uint32_t *now = NULL;
    size_t n_now = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < svcs[i].n_vips; k++)
            collect(&now, &n_now, &cap, svcs[i].vips[k].backends,
                    svcs[i].vips[k].n_backends);
        collect(&now, &n_now, &cap, svcs[i].mesh_backends,
                svcs[i].n_mesh_backends);
        collect(&now, &n_now, &cap, svcs[i].local_backends,
                svcs[i].n_local_backends);
    }
    if (n_now)
        qsort(now, n_now, sizeof(*now), cmp_u32);
    /* A task that left the balancer to drain still runs and still
     * answers the connections it has (one may be in its handshake): those
     * are not cut. Only addresses of tasks that stopped are forgotten. */
    uint32_t *draining = NULL;
    size_t n_draining = 0, dcap = 0;
    size_t it = 0;
    void *o;
    while (np->n_backends && store_next(np->cfg.store, KIND_TASK, &it, &o)) {
        const struct task *t = o;
        if (t->state != TASK_RUNNING)
            continue;
        size_t i;
        json_t *att;
        json_array_foreach(t->networks, i, att)
        {
            size_t k;
            json_t *a;
            json_array_foreach(json_object_get(att, "Addresses"), k, a)
            {
                char ip[INET_ADDRSTRLEN] = "";
                struct in_addr in;
                snprintf(ip, sizeof(ip), "%s",
                         json_string_value(a) ? json_string_value(a) : "");
                char *slash = strchr(ip, '/');
                if (slash)
                    *slash = '\0';
                if (inet_pton(AF_INET, ip, &in) == 1)
                    collect(&draining, &n_draining, &dcap, &in, 1);
            }
        }
    }
    if (n_draining)
        qsort(draining, n_draining, sizeof(*draining), cmp_u32);
    struct in_addr *gone = xcalloc(np->n_backends + 1, sizeof(*gone));
    size_t n_gone = 0;
    for (size_t i = 0; i < np->n_backends; i++)
        if ((!n_now ||
             !bsearch(&np->backends[i], now, n_now, sizeof(*now), cmp_u32)) &&
            (!n_draining || !bsearch(&np->backends[i], draining, n_draining,
                                     sizeof(*draining), cmp_u32)))
            gone[n_gone++].s_addr = np->backends[i];
    free(draining);
    struct err err = {0};
    if (conntrack_forget(gone, n_gone, &err) < 0)
        log_warn("netplane: %s", err.msg);
    free(gone);
    free(np->backends);
    np->backends = now;
    np->n_backends = n_now;
}

static void apply_lb(struct netplane *np)
{
    struct lb_build b;
    vec_init(&b.services);
    vec_init(&b.blocks);
    size_t it = 0;
    void *o;
    while (store_next(np->cfg.store, KIND_SERVICE, &it, &o))
        build_service(np, &b, o);
    build_host_ports(np, &b);
    struct lb_service *svcs =
        xcalloc(b.services.len + 1, sizeof(struct lb_service));
    for (size_t i = 0; i < b.services.len; i++)
        svcs[i] = *(struct lb_service *)b.services.items[i];
    struct lb_network *nets = xcalloc(hmap_count(&np->nets) + 1, sizeof(*nets));
    size_t n_nets = 0;
    it = 0;
    while (hmap_next(&np->nets, &it, NULL, &o)) {
        struct local_net *ln = o;
        const struct network *n = store_network(np->cfg.store, ln->id);
        if (!n)
            continue;
        char ip[20];
        snprintf(ip, sizeof(ip), "%s", n->subnet);
        char *slash = strchr(ip, '/');
        if (!slash)
            continue;
        *slash = '\0';
        if (inet_pton(AF_INET, ip, &nets[n_nets].subnet) != 1)
            continue;
        nets[n_nets].prefix_len = (uint8_t)atoi(slash + 1);
        if (ln->ingress && np->self.mesh[0]) {
            /* Mesh traffic leaves with this node's own address, and
             * comes in from the other nodes' (see netpeers.h). */
            inet_pton(AF_INET, np->self.mesh, &nets[n_nets].snat);
        }
        n_nets++;
    }
    struct lb_state state = {.services = svcs,
                             .n_services = b.services.len,
                             .networks = nets,
                             .n_networks = n_nets};
    struct lb_peers peers = {.remote = np->remote, .n_remote = np->n_remote};
    if (np->self.mesh[0]) {
        inet_pton(AF_INET, NETPEERS_MESH_NET, &peers.src);
        peers.src_len = NETPEERS_MESH_PREFIX;
    }
    /* Most task changes leave the balancer's state as it was: apply only
     * when the (canonical) ruleset differs from the last one. */
    struct err err = {0};
    struct buf text;
    buf_init(&text);
    bool same = lb_render_peers(&state, &peers, 'a', &text, &err) == 0 &&
                np->applied && strcmp(np->applied, text.data) == 0;
    if (!same) {
        if (lb_apply_peers(np->lb, &state, &peers, &err) < 0) {
            log_error("netplane: load balancer: %s", err.msg);
        } else {
            forget_gone_backends(np, svcs, b.services.len);
            free(np->applied);
            np->applied = buf_steal(&text);
        }
    }
    buf_fini(&text);
    free(nets);
    free(svcs);
    for (size_t i = 0; i < b.blocks.len; i++)
        free(b.blocks.items[i]);
    vec_fini(&b.blocks);
    vec_fini(&b.services);
}

/* ---- peers and endpoints on the VXLAN devices ---- */

static void load_peer_cb(const char *peer_ip, void *arg)
{
    netpeers_add_vtep(arg, peer_ip);
}

static void load_ep_cb(const char *mac, const char *ip, const char *peer_ip,
                       void *arg)
{
    /* An FDB entry without its neighbour is not ours to keep track of. */
    if (ip[0])
        netpeers_add_ep(arg, ip, mac, peer_ip);
}

/* What a device that existed before us holds. */
static void load_applied(struct local_net *ln)
{
    struct err err = {0};
    netpeers_fini(&ln->applied);
    if (overlay_peer_list(ln->id, load_peer_cb, &ln->applied, &err) < 0 ||
        overlay_endpoint_list(ln->id, load_ep_cb, &ln->applied, &err) < 0) {
        log_warn("netplane: %s", err.msg);
        return;
    }
    ln->loaded = true;
}

/* Brings one device from ln->applied to want, entry by entry. */
static void apply_peers(struct local_net *ln, struct netpeers *want)
{
    struct netpeers *have = &ln->applied;
    struct vec gone;
    vec_init(&gone);
    size_t it = 0;
    const char *key;
    void *v;
    while (hmap_next(&have->eps, &it, &key, &v))
        if (!hmap_get(&want->eps, key))
            vec_push(&gone, v);
    for (size_t i = 0; i < gone.len; i++) {
        struct netpeer_ep *e = gone.items[i];
        struct err err = {0};
        if (overlay_endpoint_remove(ln->id, e->mac, e->ip, &err) < 0)
            log_warn("netplane: %s", err.msg);
        else
            log_debug("netplane: endpoint %s on %s left %s", e->ip, e->vtep,
                      ln->id);
        netpeers_del_ep(have, e->ip);
    }
    gone.len = 0;
    it = 0;
    while (hmap_next(&have->vteps, &it, &key, &v))
        if (!hmap_get(&want->vteps, key))
            vec_push(&gone, v);
    for (size_t i = 0; i < gone.len; i++) {
        const char *vtep = gone.items[i];
        struct err err = {0};
        if (overlay_peer_remove(ln->id, vtep, &err) < 0)
            log_warn("netplane: %s", err.msg);
        else
            log_info("netplane: peer %s left network %s", vtep, ln->id);
        netpeers_del_vtep(have, vtep);
    }
    vec_fini(&gone);
    it = 0;
    while (hmap_next(&want->vteps, &it, &key, NULL)) {
        if (hmap_get(&have->vteps, key))
            continue;
        struct err err = {0};
        if (overlay_peer_add(ln->id, key, &err) < 0) {
            log_warn("netplane: %s", err.msg);
            continue;
        }
        log_info("netplane: peer %s joined network %s", key, ln->id);
        netpeers_add_vtep(have, key);
    }
    it = 0;
    while (hmap_next(&want->eps, &it, &key, &v)) {
        const struct netpeer_ep *w = v;
        const struct netpeer_ep *h = hmap_get(&have->eps, key);
        if (h && strcmp(h->mac, w->mac) == 0 && strcmp(h->vtep, w->vtep) == 0)
            continue;
        struct err err = {0};
        if (h && strcmp(h->mac, w->mac) != 0 &&
            overlay_endpoint_remove(ln->id, h->mac, h->ip, &err) < 0)
            log_warn("netplane: %s", err.msg);
        err_clear(&err);
        if (overlay_endpoint_add(ln->id, w->mac, w->ip, w->vtep, &err) < 0) {
            log_warn("netplane: %s", err.msg);
            netpeers_del_ep(have, key);
            continue;
        }
        log_debug("netplane: endpoint %s (%s) on %s joined %s", w->ip, w->mac,
                  w->vtep, ln->id);
        netpeers_add_ep(have, w->ip, w->mac, w->vtep);
    }
}

static int cmp_addr(const void *a, const void *b)
{
    uint32_t x = ntohl(((const struct in_addr *)a)->s_addr);
    uint32_t y = ntohl(((const struct in_addr *)b)->s_addr);
    return x < y ? -1 : x > y;
}

/* Every local network's device in step with the other nodes; refreshes
 * np->remote and says whether it changed. */
static bool sync_peers(struct netplane *np)
{
    struct hmap want;
    hmap_init(&want);
    size_t it = 0;
    void *v;
    while (hmap_next(&np->nets, &it, NULL, &v)) {
        struct local_net *ln = v;
        struct netpeers *w = xcalloc(1, sizeof(*w));
        netpeers_init(w);
        hmap_put(&want, ln->id, w);
    }
    netpeers_build(np->cfg.store, np->node_id, &want);
    size_t n_remote = 0;
    it = 0;
    while (hmap_next(&np->nets, &it, NULL, &v)) {
        struct local_net *ln = v;
        struct netpeers *w = hmap_get(&want, ln->id);
        if (!ln->loaded)
            load_applied(ln);
        apply_peers(ln, w);
        n_remote += hmap_count(&w->eps);
    }
    struct in_addr *remote = xcalloc(n_remote + 1, sizeof(*remote));
    size_t n = 0;
    it = 0;
    while (hmap_next(&want, &it, NULL, &v)) {
        struct netpeers *w = v;
        size_t eit = 0;
        void *e;
        while (hmap_next(&w->eps, &eit, NULL, &e))
            if (inet_pton(AF_INET, ((struct netpeer_ep *)e)->ip, &remote[n]) ==
                1)
                n++;
        netpeers_fini(w);
        free(w);
    }
    hmap_fini(&want);
    if (n)
        qsort(remote, n, sizeof(*remote), cmp_addr);
    bool changed = n != np->n_remote ||
                   (n && memcmp(remote, np->remote, n * sizeof(*remote)));
    free(np->remote);
    np->remote = remote;
    np->n_remote = n;
    return changed;
}

/* This node's address and the data path port; true if they changed. */
static bool update_self(struct netplane *np)
{
    struct netpeers_self now;
    netpeers_self(np->cfg.store, np->node_id, &now);
    if (netpeers_self_equal(&now, &np->self))
        return false;
    np->self = now;
    log_info("netplane: node address %s, VXLAN port %u, mesh address %s",
             now.addr[0] ? now.addr : "unknown", now.port,
             now.mesh[0] ? now.mesh : "none");
    return true;
}

static void refresh_networks(struct netplane *np)
{
    size_t it = 0;
    void *v;
    while (hmap_next(&np->nets, &it, NULL, &v))
        refresh_network(np, v);
}

void netplane_sync(struct netplane *np)
{
    if (!np || (!np->dirty && !np->peers_dirty))
        return;
    uv_timer_stop(&np->timer);
    bool full = np->dirty;
    np->dirty = np->peers_dirty = false;
    if (update_self(np)) {
        np->topology = true;
        full = true;
    }
    if (full)
        netview_build(&np->view, np->cfg.store);
    if (np->topology) {
        np->topology = false;
        refresh_networks(np);
        ensure_ingress(np);
        gc_networks(np);
        sync_vips(np);
    }
    /* Peers before the balancer: it needs to know which backends are
     * remote. */
    bool remote_changed = sync_peers(np);
    if (full || remote_changed)
        apply_lb(np);
}

static void sync_cb(uv_timer_t *t)
{
    netplane_sync(t->data);
}

/* Does a task change matter to DNS or the balancer? Only when it starts or
 * stops serving, or appears or goes with network attachments. */
static bool task_change_matters(const struct store_event *ev)
{
    const struct task *t = ev->obj;
    if (ev->action != STORE_UPDATE)
        return t->networks != NULL;
    if (ev->health_changed)
        return t->networks != NULL;
    bool before =
        ev->old_state == TASK_RUNNING && ev->old_desired == TASK_RUNNING;
    return before != netview_task_serves(t) ||
           (task_state_is_terminal(t->state) &&
            !task_state_is_terminal(ev->old_state));
}

/* Does a task change move one of its addresses to or from a node? */
static bool task_endpoint_changed(const struct store_event *ev)
{
    const struct task *t = ev->obj;
    if (!t->networks)
        return false;
    if (ev->action != STORE_UPDATE)
        return true;
    return netpeers_state_is_endpoint(ev->old_state) !=
           netpeers_task_is_endpoint(t);
}

static void schedule(struct netplane *np)
{
    if (!uv_is_active((uv_handle_t *)&np->timer))
        uv_timer_start(&np->timer, sync_cb, 0, 0);
}

static void on_store_event(void *data, const struct store_event *ev)
{
    struct netplane *np = data;
    if (ev->kind == KIND_CLUSTER || ev->kind == KIND_NODE) {
        /* Nodes come, go down, change address; the data path port. Only
         * the VXLAN entries (and this node's own parameters) follow. */
        np->peers_dirty = true;
        schedule(np);
        return;
    }
    if (ev->kind == KIND_TASK && task_endpoint_changed(ev)) {
        np->peers_dirty = true;
        schedule(np);
    }
    if (ev->kind == KIND_TASK && !task_change_matters(ev))
        return;
    if (ev->kind != KIND_TASK)
        np->topology = true;
    np->dirty = true;
    if (!uv_is_active((uv_handle_t *)&np->timer))
        uv_timer_start(&np->timer, sync_cb, 0, 0);
}

/* ---- DNS ---- */

static bool on_network(const struct task *t, const char *net_id)
{
    size_t i;
    json_t *att;
    json_array_foreach(t->networks, i, att)
    {
        if (strcmp(jx_str0(jx_path(att, "Network"), "ID"), net_id) == 0)
            return true;
    }
    return false;
}

static void answer_name(const struct nv_name *n, const char *qname,
                        struct dns_answer *out)
{
    out->verdict = DNS_ANSWER;
    bool tasks = strncmp(qname, "tasks.", 6) == 0;
    if (!tasks && n->vip.s_addr) {
        dns_answer_add_a(out, n->vip);
        return;
    }
    for (size_t i = 0; i < n->addrs.len; i++)
        dns_answer_add_a(out, *(struct in_addr *)n->addrs.items[i]);
    out->shuffle = true;
}

/* "_http._tcp.web": the service's ports named "http". */
static bool answer_srv(struct netplane *np, const struct task *client,
                       const char *qname, struct dns_answer *out)
{
    if (qname[0] != '_')
        return false;
    const char *dot1 = strchr(qname, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || dot1[1] != '_')
        return false;
    char port_name[64], proto[8];
    snprintf(port_name, sizeof(port_name), "%.*s", (int)(dot1 - qname - 1),
             qname + 1);
    snprintf(proto, sizeof(proto), "%.*s", (int)(dot2 - dot1 - 2), dot1 + 2);
    const char *svc_name = dot2 + 1;
    size_t i;
    json_t *att;
    json_array_foreach(client->networks, i, att)
    {
        const char *net_id = jx_str0(jx_path(att, "Network"), "ID");
        const struct nv_name *n = netview_name(&np->view, net_id, svc_name);
        if (!n || !n->service)
            continue;
        out->verdict = DNS_ANSWER;
        size_t k;
        json_t *p;
        json_array_foreach(jx_path(n->service->endpoint, "Ports"), k, p)
        {
            if (strcmp(jx_str0(p, "Name"), port_name) != 0 ||
                strcmp(jx_str0(p, "Protocol"), proto) != 0)
                continue;
            dns_answer_add_srv(out, 0, 0, (uint16_t)jx_int(p, "TargetPort", 0),
                               svc_name, n->vip);
        }
        return true;
    }
    return false;
}

static void resolve(void *data, const struct sockaddr_in *client,
                    uint16_t qtype, const char *qname, struct dns_answer *out)
{
    (void)qtype;
    struct netplane *np = data;
    netplane_sync(np);
    const struct nv_addr *who = netview_addr(&np->view, client->sin_addr);
    if (!who || !who->task)
        return; /* not one of our tasks: forward */
    const struct task *t = who->task;
    struct in_addr addr;
    if (dns_ptr_name_to_addr(qname, &addr)) {
        const struct nv_addr *a = netview_addr(&np->view, addr);
        if (!a)
            return; /* not a cluster address: forward */
        out->verdict = DNS_ANSWER;
        if (!on_network(t, a->network->meta.id)) {
            out->rcode_if_empty = 3;
            return;
        }
        char name[300];
        if (a->task && a->service)
            snprintf(name, sizeof(name), "%s.%d.%s.%s", a->service->name,
                     a->task->slot, a->task->meta.id, a->network->name);
        else if (a->service)
            snprintf(name, sizeof(name), "%s.%s", a->service->name,
                     a->network->name);
        else
            snprintf(name, sizeof(name), "%s", a->network->name);
        dns_answer_set_ptr(out, name);
        return;
    }
    if (answer_srv(np, t, qname, out))
        return;
    size_t i;
    json_t *att;
    json_array_foreach(t->networks, i, att)
    {
        const char *net_id = jx_str0(jx_path(att, "Network"), "ID");
        const struct nv_name *n = netview_name(&np->view, net_id, qname);
        if (n) {
            answer_name(n, qname, out);
            return;
        }
    }
    /* A cluster name, but not on a network the task is on. */
    if (netview_name_known(&np->view, qname)) {
        out->verdict = DNS_NXDOMAIN;
        out->rcode_if_empty = 3;
    }
}

/* ---- tasks ---- */

static const struct network *
first_network(struct netplane *np, const struct task *t, bool want_ingress)
{
    size_t i;
    json_t *att;
    json_array_foreach(t->networks, i, att)
    {
        const struct network *n = store_network(
            np->cfg.store, jx_str0(jx_path(att, "Network"), "ID"));
        if (n && n->ingress == want_ingress)
            return n;
    }
    return NULL;
}

static void hold(struct netplane *np, const struct task *t, json_t *net_ids)
{
    struct attached *at = hmap_get(&np->attached, t->meta.id);
    if (at)
        return;
    at = xcalloc(1, sizeof(*at));
    snprintf(at->id, sizeof(at->id), "%s", t->meta.id);
    at->net_ids = json_incref(net_ids);
    hmap_put(&np->attached, at->id, at);
    size_t i;
    json_t *id;
    json_array_foreach(net_ids, i, id)
    {
        struct local_net *ln = hmap_get(&np->nets, json_string_value(id));
        if (ln)
            ln->refs++;
    }
}

int netplane_attach(struct netplane *np, const struct task *t,
                    const char *netns_path, struct err *err)
{
    if (!json_array_size(t->networks))
        return 0;
    /* eth0 is the first non-ingress network (default route); ingress,
     * if any, comes last. */
    json_t *order = json_array();
    for (int pass = 0; pass < 2; pass++) {
        size_t i;
        json_t *att;
        json_array_foreach(t->networks, i, att)
        {
            const struct network *n = store_network(
                np->cfg.store, jx_str0(jx_path(att, "Network"), "ID"));
            if (n && n->ingress == (pass == 1))
                json_array_append(order, att);
        }
    }
    json_t *net_ids = json_array();
    size_t i;
    json_t *att;
    int rc = 0;
    json_array_foreach(order, i, att)
    {
        const struct network *n = store_network(
            np->cfg.store, jx_str0(jx_path(att, "Network"), "ID"));
        const char *cidr =
            json_string_value(json_array_get(jx_path(att, "Addresses"), 0));
        if (!ensure_network(np, n, err)) {
            rc = -1;
            break;
        }
        json_array_append_new(net_ids, json_string(n->meta.id));
        char ifname[16];
        snprintf(ifname, sizeof(ifname), "eth%zu", i);
        struct overlay_attachment oa = {
            .net_id = n->meta.id,
            .netns_path = netns_path,
            .task_key = t->meta.id,
            .ifname = ifname,
            .ip_cidr = cidr,
            .gateway = i == 0 ? n->gateway : NULL,
        };
        if (overlay_attach(&oa, NULL, err) < 0 ||
            (n->ingress &&
             overlay_task_route_link(netns_path, ifname, NETPEERS_MESH_ROUTE,
                                     err) < 0)) {
            err_ctx(err, "attach to network %s", n->name);
            rc = -1;
            break;
        }
    }
    json_decref(order);
    hold(np, t, net_ids);
    json_decref(net_ids);
    if (rc < 0)
        netplane_detach(np, t->meta.id);
    return rc;
}

void netplane_detach(struct netplane *np, const char *task_id)
{
    struct err err = {0};
    if (overlay_detach(task_id, &err) < 0)
        log_warn("netplane: detach %s: %s", task_id, err.msg);
    struct attached *at = hmap_del(&np->attached, task_id);
    if (!at)
        return;
    size_t i;
    json_t *id;
    json_array_foreach(at->net_ids, i, id)
    {
        struct local_net *ln = hmap_get(&np->nets, json_string_value(id));
        if (ln)
            ln->refs--;
    }
    json_decref(at->net_ids);
    free(at);
    np->dirty = true; /* networks may be unused now */
    np->topology = true;
    if (!uv_is_active((uv_handle_t *)&np->timer))
        uv_timer_start(&np->timer, sync_cb, 0, 0);
}

char *netplane_resolv_conf(struct netplane *np, const struct task *t)
{
    const struct network *n = first_network(np, t, false);
    json_t *dns = jx_path(t->spec, "ContainerSpec.DNSConfig");
    json_t *servers = json_object_get(dns, "Nameservers");
    if (!n && !json_array_size(servers))
        return NULL;
    struct buf b;
    buf_init(&b);
    size_t i;
    json_t *v;
    if (json_array_size(servers)) {
        json_array_foreach(servers, i, v)
        {
            buf_printf(&b, "nameserver %s\n", json_string_value(v));
        }
    } else {
        buf_printf(&b, "nameserver %s\n", n->gateway);
    }
    json_t *search = json_object_get(dns, "Search");
    if (json_array_size(search)) {
        buf_puts(&b, "search");
        json_array_foreach(search, i, v)
        {
            buf_printf(&b, " %s", json_string_value(v));
        }
        buf_putc(&b, '\n');
    }
    buf_puts(&b, "options ndots:0");
    json_array_foreach(json_object_get(dns, "Options"), i, v)
    {
        buf_printf(&b, " %s", json_string_value(v));
    }
    buf_putc(&b, '\n');
    return buf_steal(&b);
}

char *netplane_hosts(struct netplane *np, const struct task *t,
                     const char *hostname)
{
    const struct network *n = first_network(np, t, false);
    if (!n)
        n = first_network(np, t, true);
    struct in_addr a;
    if (!n || !netview_task_addr(t, n->meta.id, &a, NULL))
        return NULL;
    char ip[16];
    inet_ntop(AF_INET, &a, ip, sizeof(ip));
    struct buf b;
    buf_init(&b);
    buf_printf(&b,
               "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
               "ip6-loopback\n%s\t%s\n",
               ip, hostname);
    size_t i;
    json_t *h;
    json_array_foreach(jx_path(t->spec, "ContainerSpec.Hosts"), i, h)
    {
        /* Docker's --host-add entries: "IP host [alias...]" or
         * "host:IP". */
        const char *s = json_string_value(h);
        const char *colon = s ? strrchr(s, ':') : NULL;
        if (s && !strchr(s, ' ') && colon)
            buf_printf(&b, "%s\t%.*s\n", colon + 1, (int)(colon - s), s);
        else if (s)
            buf_printf(&b, "%s\n", s);
    }
    return buf_steal(&b);
}

/* ---- lifecycle ---- */

/* After a restart: take over what the previous shoald made for tasks
 * still here, and drop what is stale. */
static void adopt(struct netplane *np)
{
    const struct vec *mine = store_node_tasks(np->cfg.store, np->node_id);
    struct vec keys;
    vec_init(&keys);
    for (size_t i = 0; mine && i < mine->len; i++) {
        const struct task *t = mine->items[i];
        if (!t->networks || task_state_is_terminal(t->state) ||
            t->state < TASK_PREPARING)
            continue;
        json_t *ids = json_array();
        size_t k;
        json_t *att;
        json_array_foreach(t->networks, k, att)
        {
            const struct network *n = store_network(
                np->cfg.store, jx_str0(jx_path(att, "Network"), "ID"));
            struct err err = {0};
            if (n && ensure_network(np, n, &err))
                json_array_append_new(ids, json_string(n->meta.id));
        }
        hold(np, t, ids);
        json_decref(ids);
        vec_push(&keys, (void *)t->meta.id);
    }
    ensure_ingress(np);
    struct vec nets;
    vec_init(&nets);
    size_t it = 0;
    void *v;
    while (hmap_next(&np->nets, &it, NULL, &v))
        vec_push(&nets, ((struct local_net *)v)->id);
    struct err err = {0};
    int n = overlay_gc((const char *const *)nets.items, nets.len,
                       (const char *const *)keys.items, keys.len, &err);
    if (n > 0)
        log_info("netplane: removed %d stale links", n);
    else if (n < 0)
        log_warn("netplane: %s", err.msg);
    vec_fini(&nets);
    vec_fini(&keys);
}

struct netplane *netplane_new(const struct netplane_config *cfg,
                              struct err *err)
{
    if (overlay_prepare_node(err) < 0 || lb_node_setup(err) < 0)
        return NULL;
    struct netplane *np = xcalloc(1, sizeof(*np));
    np->cfg = *cfg;
    np->node_id = xstrdup(cfg->node_id);
    np->cfg.node_id = np->node_id;
    netview_init(&np->view);
    hmap_init(&np->nets);
    hmap_init(&np->attached);
    np->lb = lb_new(err);
    if (!np->lb)
        goto fail;
    struct dns_server_opts opts = {.port = cfg->dns_port ? cfg->dns_port : 53};
    np->dns = dns_server_new(cfg->loop, &opts, resolve, np, err);
    if (!np->dns)
        goto fail;
    uv_timer_init(cfg->loop, &np->timer);
    np->timer.data = np;
    np->started = true;
    update_self(np);
    adopt(np);
    np->watch = store_watch(cfg->store, on_store_event, np);
    np->dirty = true;
    np->topology = true;
    netplane_sync(np);
    return np;
fail:
    if (np->lb)
        lb_free(np->lb);
    hmap_fini(&np->nets);
    hmap_fini(&np->attached);
    free(np->node_id);
    free(np);
    return NULL;
}

static void timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void release(struct netplane *np, bool teardown)
{
    store_unwatch(np->cfg.store, np->watch);
    size_t it = 0;
    void *v;
    struct vec nets;
    vec_init(&nets);
    while (hmap_next(&np->attached, &it, NULL, &v)) {
        struct attached *at = v;
        if (teardown) {
            struct err err = {0};
            overlay_detach(at->id, &err);
        }
        json_decref(at->net_ids);
        free(at);
    }
    it = 0;
    while (hmap_next(&np->nets, &it, NULL, &v))
        vec_push(&nets, v);
    for (size_t i = 0; i < nets.len; i++) {
        struct local_net *ln = nets.items[i];
        if (teardown) {
            drop_network(np, ln);
        } else {
            if (ln->listening)
                dns_server_remove_listener(np->dns, ln->gateway);
            netpeers_fini(&ln->applied);
            free(ln);
        }
    }
    vec_fini(&nets);
    if (teardown) {
        struct err err = {0};
        if (lb_clear(np->lb, &err) < 0)
            log_warn("netplane: %s", err.msg);
    }
    hmap_fini(&np->nets);
    hmap_fini(&np->attached);
    netview_fini(&np->view);
    free(np->backends);
    free(np->applied);
    free(np->remote);
    lb_free(np->lb);
    dns_server_close(np->dns, NULL, NULL);
    free(np->node_id);
    /* The struct goes with its timer's close callback. */
    np->timer.data = np;
    uv_close((uv_handle_t *)&np->timer, timer_closed);
}

void netplane_free(struct netplane *np)
{
    if (np)
        release(np, false);
}

void netplane_teardown(struct netplane *np)
{
    if (np)
        release(np, true);
}
