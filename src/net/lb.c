// SPDX-License-Identifier: Apache-2.0
// Renders the node's load-balancing state into one nftables table and swaps
// it in, one transaction per apply, without a moment where a new connection
// goes untranslated (see "applying" below). Rendering is pure and canonical
// (sorted), so equal states give byte-equal rulesets and golden tests need no
// kernel.
//
// Why the ruleset looks the way it does (facts checked on this kernel):
// - A VIP is expected to be a local address of the node (a /32 on its
//   network's bridge), so tasks' ARP for it is answered and their packets
//   reach the nat hooks; "ip daddr vmap @vips" then DNATs them to a task.
// - DNAT happens in nat prerouting (traffic from tasks and other hosts) and
//   nat output (the node itself, including 127.0.0.1 with route_localnet).
// - A reply must come back through the node that translated the request, so
//   the node masquerades DNATed traffic that enters a network from the same
//   subnet (hairpin: a task reaching its own VIP may land on itself, and a
//   packet from one's own address would be dropped as martian) and all
//   routing-mesh traffic (marked, as its backends may sit on other nodes).
//   With br_netfilter on (this kernel's default), DNAT back into the same
//   bridge is "bridged DNAT": a task landing on itself needs hairpin mode on
//   its bridge port; with br_netfilter off everything is routed and works
//   without it.
#include "net/lb.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/vec.h"
#include "net/nft.h"

/* ---- addresses ---- */

static uint32_t addr_h(struct in_addr a)
{
    return ntohl(a.s_addr);
}

static struct in_addr addr_n(uint32_t h)
{
    return (struct in_addr){.s_addr = htonl(h)};
}

static uint32_t prefix_mask(uint8_t len)
{
    return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

static int cmp_addr(const void *a, const void *b)
{
    uint32_t x = addr_h(*(const struct in_addr *)a);
    uint32_t y = addr_h(*(const struct in_addr *)b);
    return x < y ? -1 : x > y;
}

static void put_addr(struct buf *b, struct in_addr a)
{
    char s[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, s, sizeof(s));
    buf_puts(b, s);
}

/* Sorted, duplicate-free copy of a backend list (a set: listing an address
 * twice must not double its weight). Owned; NULL when n is 0. */
static struct in_addr *backend_set(const struct in_addr *in, size_t n,
                                   size_t *out_n)
{
    *out_n = 0;
    if (n == 0)
        return NULL;
    struct in_addr *v = xmalloc(n * sizeof(*v));
    memcpy(v, in, n * sizeof(*v));
    qsort(v, n, sizeof(*v), cmp_addr);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || v[k - 1].s_addr != v[i].s_addr)
            v[k++] = v[i];
    *out_n = k;
    return v;
}

/* ---- the validated, sorted view of a state ---- */

struct net_ent {
    uint32_t first, last; /* host order, inclusive */
    const struct lb_network *net;
};

struct vip_ent {
    struct in_addr addr;
    const struct lb_service *svc;
    const struct net_ent *net; /* holding the VIP, or NULL */
    struct in_addr *be;        /* owned backend set */
    size_t n_be;
};

struct pub_ent {
    uint8_t proto;
    uint16_t port;
    const struct lb_service *svc;
    const struct lb_port *p;
    struct in_addr *be; /* owned backend set */
    size_t n_be;
};

struct view {
    char slot; /* 'a' or 'b': suffix of every object but the base chains */
    struct net_ent *nets;
    size_t n_nets;
    const struct lb_service **svcs;
    size_t n_svcs;
    struct vip_ent *vips;
    size_t n_vips;
    struct pub_ent *pubs;
    size_t n_pubs;
    struct in_addr *remote; /* owned set */
    size_t n_remote;
    struct in_addr peer_src; /* masked; peer_src_len 0 = none */
    uint8_t peer_src_len;
};

static void view_fini(struct view *v)
{
    for (size_t i = 0; i < v->n_vips; i++)
        free(v->vips[i].be);
    for (size_t i = 0; i < v->n_pubs; i++)
        free(v->pubs[i].be);
    free(v->nets);
    free(v->svcs);
    free(v->vips);
    free(v->pubs);
    free(v->remote);
}

static int cmp_net(const void *a, const void *b)
{
    const struct net_ent *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int cmp_svc(const void *a, const void *b)
{
    const struct lb_service *x = *(const struct lb_service *const *)a;
    const struct lb_service *y = *(const struct lb_service *const *)b;
    return strcmp(x->id, y->id);
}

static int cmp_vip(const void *a, const void *b)
{
    const struct vip_ent *x = a, *y = b;
    return cmp_addr(&x->addr, &y->addr);
}

static int cmp_pub(const void *a, const void *b)
{
    const struct pub_ent *x = a, *y = b;
    if (x->proto != y->proto)
        return x->proto < y->proto ? -1 : 1;
    return x->port < y->port ? -1 : x->port > y->port;
}

static const char *proto_name(uint8_t proto)
{
    switch (proto) {
    case IPPROTO_TCP:
        return "tcp";
    case IPPROTO_UDP:
        return "udp";
    default:
        return NULL;
    }
}

/* Ids go into element comments and error messages; keeping them plain
 * identifiers means they can never inject nft syntax. */
static bool id_is_valid(const char id[26])
{
    size_t n = strnlen(id, 26);
    if (n == 0 || n == 26)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static int view_networks(struct view *v, const struct lb_state *st,
                         struct err *err)
{
    v->nets = xcalloc(st->n_networks + 1, sizeof(*v->nets));
    for (size_t i = 0; i < st->n_networks; i++) {
        const struct lb_network *n = &st->networks[i];
        if (n->prefix_len < 1 || n->prefix_len > 32)
            return err_set(err, ERR_INVALID, "invalid network prefix length %u",
                           (unsigned)n->prefix_len);
        uint32_t mask = prefix_mask(n->prefix_len);
        struct net_ent *e = &v->nets[v->n_nets++];
        e->first = addr_h(n->subnet) & mask;
        e->last = e->first | ~mask;
        e->net = n;
    }
    qsort(v->nets, v->n_nets, sizeof(*v->nets), cmp_net);
    for (size_t i = 1; i < v->n_nets; i++) {
        if (v->nets[i].first <= v->nets[i - 1].last) {
            char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
            struct in_addr x = addr_n(v->nets[i - 1].first);
            struct in_addr y = addr_n(v->nets[i].first);
            inet_ntop(AF_INET, &x, a, sizeof(a));
            inet_ntop(AF_INET, &y, b, sizeof(b));
            return err_set(err, ERR_CONFLICT,
                           "networks %s/%u and %s/%u overlap", a,
                           (unsigned)v->nets[i - 1].net->prefix_len, b,
                           (unsigned)v->nets[i].net->prefix_len);
        }
    }
    return 0;
}

/* The network whose subnet holds addr, or NULL. */
static const struct net_ent *view_net_of(const struct view *v,
                                         struct in_addr addr)
{
    uint32_t h = addr_h(addr);
    for (size_t i = 0; i < v->n_nets; i++)
        if (h >= v->nets[i].first && h <= v->nets[i].last)
            return &v->nets[i];
    return NULL;
}

static int view_add_ports(struct view *v, const struct lb_service *s,
                          struct err *err)
{
    for (size_t j = 0; j < s->n_ports; j++) {
        const struct lb_port *p = &s->ports[j];
        if (!proto_name(p->proto))
            return err_set(err, ERR_INVALID,
                           "service '%s': unsupported protocol %u", s->id,
                           (unsigned)p->proto);
        if (p->published == 0)
            continue;
        /* A host-mode port is bound only on nodes running a task of the
         * service; elsewhere the port stays the node's own. */
        if (p->host_mode && s->n_local_backends == 0)
            continue;
        struct pub_ent *e = &v->pubs[v->n_pubs++];
        *e = (struct pub_ent){
            .proto = p->proto, .port = p->published, .svc = s, .p = p};
        e->be =
            p->host_mode
                ? backend_set(s->local_backends, s->n_local_backends, &e->n_be)
                : backend_set(s->mesh_backends, s->n_mesh_backends, &e->n_be);
    }
    return 0;
}

static int view_services(struct view *v, const struct lb_state *st,
                         struct err *err)
{
    size_t n_vips = 0, n_ports = 0;
    v->svcs = xcalloc(st->n_services + 1, sizeof(*v->svcs));
    for (size_t i = 0; i < st->n_services; i++) {
        const struct lb_service *s = &st->services[i];
        if (!id_is_valid(s->id))
            return err_set(err, ERR_INVALID, "invalid service id '%.25s'",
                           s->id);
        v->svcs[v->n_svcs++] = s;
        n_vips += s->n_vips;
        n_ports += s->n_ports;
    }
    qsort(v->svcs, v->n_svcs, sizeof(*v->svcs), cmp_svc);
    for (size_t i = 1; i < v->n_svcs; i++)
        if (strcmp(v->svcs[i]->id, v->svcs[i - 1]->id) == 0)
            return err_set(err, ERR_CONFLICT, "duplicate service id '%s'",
                           v->svcs[i]->id);

    v->vips = xcalloc(n_vips + 1, sizeof(*v->vips));
    v->pubs = xcalloc(n_ports + 1, sizeof(*v->pubs));
    for (size_t i = 0; i < v->n_svcs; i++) {
        const struct lb_service *s = v->svcs[i];
        for (size_t j = 0; j < s->n_vips; j++) {
            const struct lb_vip *vip = &s->vips[j];
            struct vip_ent *e = &v->vips[v->n_vips++];
            *e = (struct vip_ent){
                .addr = vip->addr, .svc = s, .net = view_net_of(v, vip->addr)};
            e->be = backend_set(vip->backends, vip->n_backends, &e->n_be);
        }
        if (view_add_ports(v, s, err) < 0)
            return -1;
    }

    qsort(v->vips, v->n_vips, sizeof(*v->vips), cmp_vip);
    for (size_t i = 1; i < v->n_vips; i++) {
        if (v->vips[i].addr.s_addr == v->vips[i - 1].addr.s_addr) {
            char a[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &v->vips[i].addr, a, sizeof(a));
            return err_set(err, ERR_CONFLICT,
                           "virtual IP %s claimed by '%s' and '%s'", a,
                           v->vips[i - 1].svc->id, v->vips[i].svc->id);
        }
    }
    qsort(v->pubs, v->n_pubs, sizeof(*v->pubs), cmp_pub);
    for (size_t i = 1; i < v->n_pubs; i++) {
        const struct pub_ent *a = &v->pubs[i - 1], *b = &v->pubs[i];
        if (a->proto == b->proto && a->port == b->port)
            return err_set(err, ERR_CONFLICT,
                           "published port %u/%s claimed by '%s' and '%s'",
                           (unsigned)b->port, proto_name(b->proto), a->svc->id,
                           b->svc->id);
    }
    return 0;
}

/* ---- emitting nft text ---- */

/* The base chains (hooks) and their specs. They are created once and never
 * deleted by an apply (see lb_apply); numeric priorities because nft 1.0.6
 * rejects "dstnat" on an output hook. */
static const struct {
    const char *name, *spec;
} base_chains[] = {
    {"prerouting", "type nat hook prerouting priority -100; policy accept;"},
    {"output", "type nat hook output priority -100; policy accept;"},
    {"postrouting", "type nat hook postrouting priority 100; policy accept;"},
    {"forward", "type filter hook forward priority 0; policy accept;"},
};

static void put_net(struct buf *b, const struct net_ent *n)
{
    put_addr(b, addr_n(n->first));
    buf_printf(b, "/%u", (unsigned)n->net->prefix_len);
}

/* The chains balancing over n backends: one per backend count (and, for
 * VIPs, network), not one per service. Every rule that reads a map makes
 * the kernel walk all of the map's elements once, so a chain per service
 * would make an apply quadratic in the number of services. */
static void put_vip_chain(struct buf *b, const struct view *v,
                          const struct net_ent *net, size_t n)
{
    if (n == 0) {
        buf_printf(b, "reject-conn-%c", v->slot);
        return;
    }
    buf_puts(b, "vip-");
    if (net) {
        put_addr(b, addr_n(net->first));
        buf_printf(b, "-%u-", (unsigned)net->net->prefix_len);
    }
    buf_printf(b, "n%zu-%c", n, v->slot);
}

static void put_pub_chain(struct buf *b, const struct view *v,
                          const struct pub_ent *e)
{
    if (e->n_be == 0)
        buf_printf(b, "reject-conn-%c", v->slot);
    else
        buf_printf(b, "%s-n%zu-%c", e->p->host_mode ? "host" : "mesh", e->n_be,
                   v->slot);
}

/* Opens "elements = {" before the first element and separates the rest. */
static void elem_sep(struct buf *b, size_t i)
{
    buf_puts(b, i == 0 ? "\t\telements = {\n\t\t\t" : ",\n\t\t\t");
}

static void elem_end(struct buf *b, size_t count)
{
    if (count)
        buf_puts(b, "\n\t\t}\n");
    buf_puts(b, "\t}\n\n");
}

/* Only hash sets and maps (exact keys): a set with intervals and
 * concatenations (pipapo) made in a transaction is filled only after the
 * new rules went live, so for a moment it looked empty and connections
 * were refused during a swap. */
static void emit_vip_maps(struct buf *b, const struct view *v)
{
    size_t k;

    buf_printf(b,
               "\tmap vips-%c {\n"
               "\t\ttype ipv4_addr : verdict\n",
               v->slot);
    for (k = 0; k < v->n_vips; k++) {
        const struct vip_ent *e = &v->vips[k];
        elem_sep(b, k);
        put_addr(b, e->addr);
        buf_printf(b, " comment \"%s\" : goto ", e->svc->id);
        put_vip_chain(b, v, e->net, e->n_be);
    }
    elem_end(b, k);

    /* The key's second part is the backend's slot, 0..n-1, drawn by
     * numgen in the group chain ("mod 1" only names the type). */
    buf_printf(b,
               "\tmap vip_backends-%c {\n"
               "\t\ttypeof ip daddr . numgen random mod 1 : ip daddr\n",
               v->slot);
    k = 0;
    for (size_t i = 0; i < v->n_vips; i++) {
        const struct vip_ent *e = &v->vips[i];
        for (size_t j = 0; j < e->n_be; j++) {
            elem_sep(b, k++);
            put_addr(b, e->addr);
            buf_printf(b, " . %zu : ", j);
            put_addr(b, e->be[j]);
        }
    }
    elem_end(b, k);
}

static void emit_remote_set(struct buf *b, const struct view *v)
{
    if (!v->n_remote)
        return;
    buf_printf(b,
               "\tset remote-%c {\n"
               "\t\ttype ipv4_addr\n",
               v->slot);
    for (size_t k = 0; k < v->n_remote; k++) {
        elem_sep(b, k);
        put_addr(b, v->remote[k]);
    }
    elem_end(b, v->n_remote);
}

static void emit_pub_maps(struct buf *b, const struct view *v)
{
    size_t k;

    buf_printf(b,
               "\tmap published-%c {\n"
               "\t\ttype inet_proto . inet_service : verdict\n",
               v->slot);
    for (k = 0; k < v->n_pubs; k++) {
        const struct pub_ent *e = &v->pubs[k];
        elem_sep(b, k);
        buf_printf(b, "%s . %u comment \"%s\" : goto ", proto_name(e->proto),
                   (unsigned)e->port, e->svc->id);
        put_pub_chain(b, v, e);
    }
    elem_end(b, k);

    buf_printf(b,
               "\tmap published_backends-%c {\n"
               "\t\ttypeof meta l4proto . th dport . numgen random mod 1 : "
               "ip daddr . th dport\n",
               v->slot);
    k = 0;
    for (size_t i = 0; i < v->n_pubs; i++) {
        const struct pub_ent *e = &v->pubs[i];
        for (size_t j = 0; j < e->n_be; j++) {
            elem_sep(b, k++);
            buf_printf(b, "%s . %u . %zu : ", proto_name(e->proto),
                       (unsigned)e->port, j);
            put_addr(b, e->be[j]);
            buf_printf(b, " . %u", (unsigned)e->p->target);
        }
    }
    elem_end(b, k);
}

/* The NAT statement for traffic entering network n. */
static void put_nat_into(struct buf *b, const struct net_ent *n)
{
    if (n->net->snat.s_addr != htonl(INADDR_ANY)) {
        buf_puts(b, "snat to ");
        put_addr(b, n->net->snat);
        buf_putc(b, '\n');
    } else {
        buf_puts(b, "masquerade\n");
    }
}

/* "\t\tip <dir> <net>" */
static void put_match(struct buf *b, const char *dir, const struct net_ent *n)
{
    buf_printf(b, "\t\tip %s ", dir);
    put_net(b, n);
}

static void emit_postrouting(struct buf *b, const struct view *v)
{
    buf_printf(b, "\tchain %s {\n\t\t%s\n", base_chains[2].name,
               base_chains[2].spec);
    char mesh[128];
    snprintf(mesh, sizeof(mesh),
             "meta mark & 0x%08x == 0x%08x meta mark set meta mark & 0x%08x",
             LB_MESH_MARK, LB_MESH_MARK, ~LB_MESH_MARK);
    /* A task on another node answers over the overlay, straight to the
     * client: no masquerade to a gateway address every node shares (see
     * lb_state.remote). The routing mesh still translates. */
    if (v->n_remote)
        buf_printf(b,
                   "\t\tmeta mark & 0x%08x == 0x00000000 ip daddr "
                   "@remote-%c accept\n",
                   LB_MESH_MARK, v->slot);
    for (size_t i = 0; i < v->n_nets; i++) {
        const struct net_ent *n = &v->nets[i];
        /* Same subnet: the reply would go straight back to the client
         * (or, when a task hit itself, arrive from its own address and be
         * dropped as martian). */
        put_match(b, "daddr", n);
        buf_puts(b, " ip saddr ");
        put_net(b, n);
        buf_puts(b, " ct status dnat ");
        put_nat_into(b, n);
        /* Routing mesh into a network with a node address of its own; the
         * rule after the loop masquerades the rest. */
        if (n->net->snat.s_addr != htonl(INADDR_ANY)) {
            put_match(b, "daddr", n);
            buf_printf(b, " %s ", mesh);
            put_nat_into(b, n);
        }
    }
    /* The mesh's backends may sit on other nodes, whose replies would not
     * come back here; masquerade it all, as Docker's ingress does. */
    buf_printf(b, "\t\t%s masquerade\n", mesh);
    /* 127.0.0.1:published, DNATed out of the node (route_localnet). */
    buf_puts(b, "\t\tip saddr 127.0.0.0/8 masquerade\n");
    /* Egress: tasks reach the world outside the overlays through the
     * node. */
    for (size_t i = 0; i < v->n_nets; i++) {
        put_match(b, "daddr", &v->nets[i]);
        buf_puts(b, " accept\n");
    }
    for (size_t i = 0; i < v->n_nets; i++) {
        put_match(b, "saddr", &v->nets[i]);
        buf_puts(b, " masquerade\n");
    }
    buf_puts(b, "\t}\n\n");
}

static void emit_forward(struct buf *b, const struct view *v)
{
    /* Networks are isolated from each other and from the outside: a new
     * connection into a subnet comes from that subnet, or was DNATed by us
     * (VIPs check their sources, published ports are open to all). */
    buf_printf(b,
               "\tchain %s {\n"
               "\t\t%s\n"
               "\t\tct state established,related accept\n"
               "\t\tct status dnat accept\n",
               base_chains[3].name, base_chains[3].spec);
    for (size_t i = 0; i < v->n_nets; i++) {
        const struct lb_network *n = v->nets[i].net;
        if (v->peer_src_len && n->snat.s_addr != htonl(INADDR_ANY)) {
            put_match(b, "daddr", &v->nets[i]);
            buf_puts(b, " ip saddr ");
            put_addr(b, v->peer_src);
            buf_printf(b, "/%u accept\n", (unsigned)v->peer_src_len);
        }
        put_match(b, "daddr", &v->nets[i]);
        buf_puts(b, " ip saddr != ");
        put_net(b, &v->nets[i]);
        buf_puts(b, " drop\n");
    }
    buf_puts(b, "\t}\n");
}

static void emit_base_chains(struct buf *b, const struct view *v)
{
    /* Refuse rather than black-hole: a client learns at once that nothing
     * serves the address. */
    buf_printf(b,
               "\tchain reject-conn-%c {\n"
               "\t\tmeta l4proto tcp reject with tcp reset\n"
               "\t\treject\n"
               "\t}\n\n",
               v->slot);

    /* VIPs first: they are local addresses of the node, and must never fall
     * through to its own listeners or published ports. */
    buf_printf(b,
               "\tchain services-%c {\n"
               "\t\tip daddr vmap @vips-%c\n"
               "\t\tfib daddr type local meta l4proto . th dport "
               "vmap @published-%c\n"
               "\t}\n\n",
               v->slot, v->slot, v->slot);

    for (size_t i = 0; i < 2; i++)
        buf_printf(b,
                   "\tchain %s {\n"
                   "\t\t%s\n"
                   "\t\tjump services-%c\n"
                   "\t}\n\n",
                   base_chains[i].name, base_chains[i].spec, v->slot);
    emit_postrouting(b, v);
    emit_forward(b, v);
}

/* Inserts n into the sorted, duplicate-free list ns (capacity is enough). */
static void count_add(size_t *ns, size_t *len, size_t n)
{
    if (n == 0)
        return;
    size_t i = 0;
    while (i < *len && ns[i] < n)
        i++;
    if (i < *len && ns[i] == n)
        return;
    memmove(&ns[i + 1], &ns[i], (*len - i) * sizeof(*ns));
    ns[i] = n;
    (*len)++;
}

/* Backends are drawn at random (kube-proxy's way): a round-robin counter
 * would be shared by every service of a group, and services taking turns
 * could then always land on the same backend. */
static void emit_group_chains(struct buf *b, const struct view *v)
{
    size_t cap = v->n_vips + v->n_pubs + 1, len;
    _cleanup_free_ size_t *ns = xcalloc(cap, sizeof(*ns));

    /* VIPs outside every known network first, then network by network. */
    for (size_t slot = 0; slot <= v->n_nets; slot++) {
        const struct net_ent *net = slot ? &v->nets[slot - 1] : NULL;
        len = 0;
        for (size_t i = 0; i < v->n_vips; i++)
            if (v->vips[i].net == net)
                count_add(ns, &len, v->vips[i].n_be);
        for (size_t i = 0; i < len; i++) {
            buf_puts(b, "\n\tchain ");
            put_vip_chain(b, v, net, ns[i]);
            buf_puts(b, " {\n");
            if (net) {
                /* Tasks of other networks (routed here through their
                 * gateway) must not reach this network's services; the
                 * node's own connections to a VIP come from the VIP itself
                 * or the gateway, both inside. */
                buf_puts(b, "\t\tip saddr != ");
                put_net(b, net);
                buf_printf(b, " goto reject-conn-%c\n", v->slot);
            }
            /* Address only: the port is kept, so every port of a VIP
             * works. */
            buf_printf(b,
                       "\t\tdnat to ip daddr . numgen random mod %zu "
                       "map @vip_backends-%c\n"
                       "\t}\n",
                       ns[i], v->slot);
        }
    }

    for (int host = 0; host <= 1; host++) {
        len = 0;
        for (size_t i = 0; i < v->n_pubs; i++)
            if (v->pubs[i].p->host_mode == (host == 1))
                count_add(ns, &len, v->pubs[i].n_be);
        for (size_t i = 0; i < len; i++) {
            buf_printf(b, "\n\tchain %s-n%zu-%c {\n", host ? "host" : "mesh",
                       ns[i], v->slot);
            /* Host mode keeps the client's address (no mark, no
             * masquerade), as Docker's host-mode ports do. */
            if (!host)
                buf_printf(b, "\t\tmeta mark set meta mark | 0x%08x\n",
                           LB_MESH_MARK);
            buf_printf(b,
                       "\t\tdnat ip to meta l4proto . th dport . numgen "
                       "random mod %zu map @published_backends-%c\n"
                       "\t}\n",
                       ns[i], v->slot);
        }
    }
}

int lb_render(const struct lb_state *state, char slot, struct buf *out,
              struct err *err)
{
    return lb_render_peers(state, NULL, slot, out, err);
}

int lb_render_peers(const struct lb_state *state, const struct lb_peers *peers,
                    char slot, struct buf *out, struct err *err)
{
    assert(slot == 'a' || slot == 'b');
    struct view v = {.slot = slot};
    if (view_networks(&v, state, err) < 0 ||
        view_services(&v, state, err) < 0) {
        view_fini(&v);
        return err_ctx(err, "render load balancer");
    }
    if (peers) {
        if (peers->src_len > 32) {
            view_fini(&v);
            return err_set(err, ERR_INVALID,
                           "render load balancer: invalid peer source "
                           "prefix length %u",
                           (unsigned)peers->src_len);
        }
        v.remote = backend_set(peers->remote, peers->n_remote, &v.n_remote);
        v.peer_src_len = peers->src_len;
        v.peer_src = addr_n(addr_h(peers->src) & prefix_mask(peers->src_len));
    }

    buf_puts(out, "table ip " LB_TABLE " {\n");
    emit_vip_maps(out, &v);
    emit_pub_maps(out, &v);
    emit_remote_set(out, &v);
    emit_base_chains(out, &v);
    emit_group_chains(out, &v);
    buf_puts(out, "}\n");
    view_fini(&v);
    return 0;
}

/* ---- applying ---- */

/* Why two slots. A packet is matched against one ruleset generation, but a
 * set lookup checks the elements against the generation current at the
 * moment of the lookup, and deleting or flushing a map retires its elements
 * at the commit. A packet still walking the old rules right then misses the
 * old map and is not translated at all (seen here: about one new
 * connection in 3,000 refused while applying back to back). So an apply
 * builds a complete second set of objects (suffix -a or -b), points the base
 * chains at it, and leaves the live set alone; that one is deleted by the
 * next apply, long after any packet could still be using it. The base
 * chains themselves stay: they keep their hooks. */
struct lb {
    struct nftables *nft;
    /* "chain NAME" / "map NAME" / "set NAME" of every object but the base
     * chains in our table as it stands (owned strings), and the slot the
     * base chains jump to ('\0': none); valid if objs_known. */
    struct vec objs;
    char live;
    bool objs_known;
};

struct lb *lb_new(struct err *err)
{
    struct nftables *nft = nftables_open(err);
    if (!nft)
        return NULL;
    struct lb *lb = xcalloc(1, sizeof(*lb));
    lb->nft = nft;
    vec_init(&lb->objs);
    return lb;
}

static void objs_drop_slot(struct lb *lb, char slot)
{
    size_t k = 0;
    for (size_t i = 0; i < lb->objs.len; i++) {
        char *o = lb->objs.items[i];
        size_t n = strlen(o);
        if (slot == '*' || (n > 2 && o[n - 2] == '-' && o[n - 1] == slot))
            free(o);
        else
            lb->objs.items[k++] = o;
    }
    lb->objs.len = k;
}

void lb_free(struct lb *lb)
{
    if (!lb)
        return;
    objs_drop_slot(lb, '*');
    vec_fini(&lb->objs);
    nftables_close(lb->nft);
    free(lb);
}

static bool is_base_chain(const char *name, size_t n)
{
    for (size_t i = 0; i < ARRAY_SIZE(base_chains); i++)
        if (strlen(base_chains[i].name) == n &&
            memcmp(base_chains[i].name, name, n) == 0)
            return true;
    return false;
}

/* Adds the "\t<kind> NAME {" declarations of a rendering or of nft's
 * listing of the table (the same layout) to lb->objs. */
static void objs_collect(struct lb *lb, const char *text)
{
    static const char *const kinds[] = {"\tchain ", "\tmap ", "\tset "};
    for (const char *l = text; l && *l;) {
        for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
            size_t kl = strlen(kinds[k]);
            if (strncmp(l, kinds[k], kl) != 0)
                continue;
            const char *name = l + kl;
            size_t n = strcspn(name, " \n");
            if (n == 0 || strncmp(name + n, " {", 2) != 0)
                break;
            if (k == 0 && is_base_chain(name, n))
                break;
            vec_push(&lb->objs,
                     xasprintf("%s %.*s", kinds[k] + 1, (int)n, name));
            break;
        }
        l = strchr(l, '\n');
        if (l)
            l++;
    }
}

/* Reads our table back from the kernel (first apply, or after a failure):
 * its objects, and which slot the base chains use. */
static int objs_load(struct lb *lb, struct err *err)
{
    objs_drop_slot(lb, '*');
    lb->live = '\0';
    char *out = NULL;
    struct err e;
    err_clear(&e);
    if (nftables_run(lb->nft, "list table ip " LB_TABLE "\n", &out, &e) < 0) {
        if (e.code != ERR_NOTFOUND) {
            *err = e;
            return err_ctx(err, "list table '%s'", LB_TABLE);
        }
        lb->objs_known = true; /* no table yet */
        return 0;
    }
    objs_collect(lb, out);
    if (strstr(out, "jump services-a\n"))
        lb->live = 'a';
    else if (strstr(out, "jump services-b\n"))
        lb->live = 'b';
    free(out);
    lb->objs_known = true;
    return 0;
}

/* The transaction: base chains kept (created if missing) and emptied, the
 * spare slot's leftovers deleted (rules of the live slot never point at
 * them), then the new slot and the base chains' new rules. */
static void put_swap(struct buf *tx, const struct lb *lb, char slot,
                     const char *body)
{
    buf_puts(tx, "add table ip " LB_TABLE "\n");
    for (size_t i = 0; i < ARRAY_SIZE(base_chains); i++)
        buf_printf(tx,
                   "add chain ip " LB_TABLE " %s { %s }\n"
                   "flush chain ip " LB_TABLE " %s\n",
                   base_chains[i].name, base_chains[i].spec,
                   base_chains[i].name);
    /* Rules hold references to maps and chains, map verdicts to chains:
     * empty the chains, then delete the maps and sets, then the chains. */
    static const char *const steps[] = {"flush chain", "delete map",
                                        "delete set", "delete chain"};
    static const char *const kinds[] = {"chain ", "map ", "set ", "chain "};
    for (size_t step = 0; step < ARRAY_SIZE(steps); step++) {
        const char *kind = kinds[step];
        for (size_t i = 0; i < lb->objs.len; i++) {
            const char *o = lb->objs.items[i];
            size_t n = strlen(o);
            if (o[n - 1] != slot || o[n - 2] != '-' ||
                strncmp(o, kind, strlen(kind)) != 0)
                continue;
            buf_printf(tx, "%s ip " LB_TABLE " %s\n", steps[step],
                       o + strlen(kind));
        }
    }
    buf_puts(tx, body);
}

static int run_swap(struct lb *lb, char slot, const char *body, struct err *err)
{
    struct buf tx _cleanup_buf_ = {0};
    put_swap(&tx, lb, slot, body);
    if (nftables_run(lb->nft, tx.data, NULL, err) < 0)
        return -1;
    objs_drop_slot(lb, slot);
    objs_collect(lb, body);
    lb->live = slot;
    return 0;
}

/* Last resort, when our table cannot be swapped (e.g. base chains of
 * another version): delete and re-create it whole, still in one
 * transaction, though a connection opened right then may go untranslated
 * (new NAT base chains hook in before the old ones). */
static int replace_table(struct lb *lb, const struct lb_state *state,
                         const struct lb_peers *peers, struct err *err)
{
    struct buf tx _cleanup_buf_ = {0};
    buf_puts(&tx, "add table ip " LB_TABLE "\n"
                  "delete table ip " LB_TABLE "\n");
    size_t head = tx.len;
    if (lb_render_peers(state, peers, 'a', &tx, err) < 0)
        return -1;
    if (nftables_run(lb->nft, tx.data, NULL, err) < 0)
        return -1;
    objs_drop_slot(lb, '*');
    objs_collect(lb, tx.data + head);
    lb->live = 'a';
    lb->objs_known = true;
    return 0;
}

int lb_apply(struct lb *lb, const struct lb_state *state, struct err *err)
{
    return lb_apply_peers(lb, state, NULL, err);
}

int lb_apply_peers(struct lb *lb, const struct lb_state *state,
                   const struct lb_peers *peers, struct err *err)
{
    /* A second try reads the table back first: our idea of it may be stale
     * (someone flushed the ruleset, or changed our table). */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!lb->objs_known && objs_load(lb, err) < 0)
            return err_ctx(err, "apply load balancer");
        char slot = lb->live == 'a' ? 'b' : 'a';
        struct buf body _cleanup_buf_ = {0};
        if (lb_render_peers(state, peers, slot, &body, err) < 0)
            return -1;
        if (run_swap(lb, slot, body.data, err) == 0)
            return 0;
        lb->objs_known = false;
        err_clear(err);
    }
    if (replace_table(lb, state, peers, err) < 0)
        return err_ctx(err, "apply load balancer");
    return 0;
}

int lb_clear(struct lb *lb, struct err *err)
{
    if (nftables_run(lb->nft,
                     "add table ip " LB_TABLE "\n"
                     "delete table ip " LB_TABLE "\n",
                     NULL, err) < 0) {
        lb->objs_known = false;
        return err_ctx(err, "clear load balancer");
    }
    objs_drop_slot(lb, '*');
    lb->live = '\0';
    lb->objs_known = true;
    return 0;
}

static int write_sysctl(const char *path, struct err *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, errno, "open '%s'", path);
    ssize_t w = write(fd, "1\n", 2);
    int e = errno;
    close(fd);
    if (w != 2)
        return err_sys(err, w < 0 ? e : EIO, "write '%s'", path);
    return 0;
}

int lb_node_setup(struct err *err)
{
    if (write_sysctl("/proc/sys/net/ipv4/ip_forward", err) < 0 ||
        write_sysctl("/proc/sys/net/ipv4/conf/all/route_localnet", err) < 0)
        return err_ctx(err, "set up node for load balancing");
    return 0;
}
