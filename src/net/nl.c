// SPDX-License-Identifier: Apache-2.0
// libnl adapter: the only file that includes libnl headers. It turns
// requests by name into route-netlink messages and libnl's error codes into
// struct err, so callers see messages in our style.
#include "net/nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <netlink/route/link/bridge.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

struct netlink {
    struct nl_sock *sock;
};

/* code is a positive NLE_* value. */
static int nl_code(int code)
{
    switch (code) {
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
        return ERR_NOTFOUND;
    case NLE_EXIST:
    case NLE_BUSY:
        return ERR_CONFLICT;
    case NLE_INVAL:
    case NLE_RANGE:
    case NLE_AF_MISMATCH:
    case NLE_AF_NOSUPPORT:
        return ERR_INVALID;
    case NLE_PERM:
    case NLE_NOACCESS:
        return ERR_FORBIDDEN;
    default:
        return ERR_INTERNAL;
    }
}

/* libnl returns negative NLE_* codes; nl_geterror wants the positive one. */
static int nl_fail(struct err *err, int nlerr, const char *what,
                   const char *name)
{
    int code = nlerr < 0 ? -nlerr : nlerr;
    return err_set(err, nl_code(code), "%s '%s': %s", what, name,
                   nl_geterror(code));
}

struct netlink *netlink_open(struct err *err)
{
    struct nl_sock *sock = nl_socket_alloc();
    if (!sock) {
        err_set(err, ERR_INTERNAL, "allocate netlink socket");
        return NULL;
    }
    int r = nl_connect(sock, NETLINK_ROUTE);
    if (r < 0) {
        nl_socket_free(sock);
        nl_fail(err, r, "connect", "rtnetlink");
        return NULL;
    }
    struct netlink *nl = xcalloc(1, sizeof(*nl));
    nl->sock = sock;
    return nl;
}

struct netlink *netlink_open_in(const char *netns_path, struct err *err)
{
    _cleanup_close_ int target = open(netns_path, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
        err_sys(err, errno, "open network namespace '%s'", netns_path);
        if (errno == ENOENT)
            err->code = ERR_NOTFOUND;
        return NULL;
    }
    _cleanup_close_ int orig =
        open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (orig < 0) {
        err_sys(err, errno, "open current network namespace");
        return NULL;
    }
    if (setns(target, CLONE_NEWNET) < 0) {
        err_sys(err, errno, "enter network namespace '%s'", netns_path);
        return NULL;
    }
    /* A netlink socket stays bound to the namespace it was created in. */
    struct netlink *nl = netlink_open(err);
    if (setns(orig, CLONE_NEWNET) < 0) {
        log_error("setns back to the original network namespace: %s",
                  strerror(errno));
        abort();
    }
    if (!nl)
        err_ctx(err, "in network namespace '%s'", netns_path);
    return nl;
}

void netlink_close(struct netlink *nl)
{
    if (!nl)
        return;
    nl_socket_free(nl->sock); /* also closes */
    free(nl);
}

/* ---- helpers ---- */

static void link_putp(struct rtnl_link **l)
{
    if (*l)
        rtnl_link_put(*l);
}
static void addr_putp(struct nl_addr **a)
{
    if (*a)
        nl_addr_put(*a);
}
static void cache_freep(struct nl_cache **c)
{
    if (*c)
        nl_cache_free(*c);
}
static void neigh_putp(struct rtnl_neigh **n)
{
    if (*n)
        rtnl_neigh_put(*n);
}
#define _cleanup_link_  __attribute__((cleanup(link_putp)))
#define _cleanup_addr_  __attribute__((cleanup(addr_putp)))
#define _cleanup_cache_ __attribute__((cleanup(cache_freep)))
#define _cleanup_neigh_ __attribute__((cleanup(neigh_putp)))

/* Parses text into an owned nl_addr of family (AF_INET or AF_LLC). */
static struct nl_addr *parse_addr(const char *text, int family,
                                  const char *what, struct err *err)
{
    struct nl_addr *a = NULL;
    int r = nl_addr_parse(text, family, &a);
    if (r < 0 || nl_addr_get_family(a) != family) {
        if (a)
            nl_addr_put(a);
        err_set(err, ERR_INVALID, "invalid %s '%s'", what, text);
        return NULL;
    }
    /* An IPv4 address without a prefix length is a host address. */
    if (family == AF_INET && !strchr(text, '/'))
        nl_addr_set_prefixlen(a, 32);
    return a;
}

static void fmt_ip4(const void *bin, char out[NETLINK_IP_LEN])
{
    if (!inet_ntop(AF_INET, bin, out, NETLINK_IP_LEN))
        out[0] = '\0';
}

static void fmt_mac(const unsigned char *b, char out[NETLINK_MAC_LEN])
{
    snprintf(out, NETLINK_MAC_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1],
             b[2], b[3], b[4], b[5]);
}

static void fmt_nl_ip4(struct nl_addr *a, char out[NETLINK_IP_LEN])
{
    out[0] = '\0';
    if (a && nl_addr_get_family(a) == AF_INET && nl_addr_get_len(a) == 4)
        fmt_ip4(nl_addr_get_binary_addr(a), out);
}

static void fmt_nl_mac(struct nl_addr *a, char out[NETLINK_MAC_LEN])
{
    out[0] = '\0';
    if (a && nl_addr_get_len(a) == 6)
        fmt_mac(nl_addr_get_binary_addr(a), out);
}

static struct rtnl_link *get_link(struct netlink *nl, const char *name,
                                  struct err *err)
{
    struct rtnl_link *link = NULL;
    int r = rtnl_link_get_kernel(nl->sock, 0, name, &link);
    if (r < 0) {
        nl_fail(err, r, "find link", name);
        return NULL;
    }
    return link;
}

static int ifindex_of(struct netlink *nl, const char *name, struct err *err)
{
    _cleanup_link_ struct rtnl_link *link = get_link(nl, name, err);
    if (!link)
        return -1;
    return rtnl_link_get_ifindex(link);
}

/* Applies the attributes set in change to the existing link called name. */
static int change_link(struct netlink *nl, const char *name,
                       struct rtnl_link *change, const char *what,
                       struct err *err)
{
    _cleanup_link_ struct rtnl_link *link = get_link(nl, name, err);
    if (!link)
        return -1;
    int r = rtnl_link_change(nl->sock, link, change, 0);
    if (r < 0)
        return nl_fail(err, r, what, name);
    return 0;
}

/* ---- links ---- */

int netlink_link_set_up(struct netlink *nl, const char *name, struct err *err)
{
    _cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
    if (!change)
        return err_set(err, ERR_INTERNAL, "allocate link change");
    rtnl_link_set_flags(change, IFF_UP);
    return change_link(nl, name, change, "set link up", err);
}

int netlink_link_up_once(const char *name, struct err *err)
{
    struct netlink *nl = netlink_open(err);
    if (!nl)
        return -1;
    int r = netlink_link_set_up(nl, name, err);
    netlink_close(nl);
    return r;
}

static void link_fill(struct rtnl_link *l, struct netlink_link *out)
{
    memset(out, 0, sizeof(*out));
    const char *name = rtnl_link_get_name(l);
    snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
    const char *kind = rtnl_link_get_type(l);
    snprintf(out->kind, sizeof(out->kind), "%s", kind ? kind : "");
    out->ifindex = rtnl_link_get_ifindex(l);
    out->master = rtnl_link_get_master(l);
    out->peer = rtnl_link_get_link(l);
    out->mtu = rtnl_link_get_mtu(l);
    unsigned flags = rtnl_link_get_flags(l);
    out->up = flags & IFF_UP;
    out->running = flags & IFF_RUNNING;
    fmt_nl_mac(rtnl_link_get_addr(l), out->mac);
    if (rtnl_link_is_vxlan(l)) {
        uint32_t v = 0;
        if (rtnl_link_vxlan_get_id(l, &v) == 0)
            out->vxlan_vni = v;
        if (rtnl_link_vxlan_get_port(l, &v) == 0)
            out->vxlan_port = (uint16_t)v;
        _cleanup_addr_ struct nl_addr *local = NULL;
        if (rtnl_link_vxlan_get_local(l, &local) == 0)
            fmt_nl_ip4(local, out->vxlan_local);
        out->vxlan_learning = rtnl_link_vxlan_get_learning(l) > 0;
        out->vxlan_proxy = rtnl_link_vxlan_get_proxy(l) > 0;
    }
}

int netlink_link_get(struct netlink *nl, const char *name,
                     struct netlink_link *out, struct err *err)
{
    _cleanup_link_ struct rtnl_link *link = get_link(nl, name, err);
    if (!link)
        return -1;
    link_fill(link, out);
    return 0;
}

int netlink_link_list(struct netlink *nl, netlink_link_cb cb, void *arg,
                      struct err *err)
{
    _cleanup_cache_ struct nl_cache *cache = NULL;
    int r = rtnl_link_alloc_cache(nl->sock, AF_UNSPEC, &cache);
    if (r < 0)
        return nl_fail(err, r, "list links", "rtnetlink");
    for (struct nl_object *o = nl_cache_get_first(cache); o;
         o = nl_cache_get_next(o)) {
        struct netlink_link info;
        link_fill((struct rtnl_link *)o, &info);
        cb(&info, arg);
    }
    return 0;
}

int netlink_link_del(struct netlink *nl, const char *name, struct err *err)
{
    _cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
    if (!link)
        return err_set(err, ERR_INTERNAL, "allocate link");
    rtnl_link_set_name(link, name);
    int r = rtnl_link_delete(nl->sock, link);
    if (r < 0)
        return nl_fail(err, r, "delete link", name);
    return 0;
}

int netlink_link_set_master(struct netlink *nl, const char *name,
                            const char *master, struct err *err)
{
    int m = ifindex_of(nl, master, err);
    if (m < 0)
        return -1;
    int s = ifindex_of(nl, name, err);
    if (s < 0)
        return -1;
    int r = rtnl_link_enslave_ifindex(nl->sock, m, s);
    if (r < 0)
        return nl_fail(err, r, "enslave link", name);
    return 0;
}

int netlink_bridge_port_set_hairpin(struct netlink *nl, const char *name,
                                    struct err *err)
{
    int ifindex = ifindex_of(nl, name, err);
    if (ifindex < 0)
        return -1;
    /* A bridge-family change (RTM_SETLINK, AF_BRIDGE) of the port. */
    _cleanup_link_ struct rtnl_link *orig = rtnl_link_alloc();
    _cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
    if (!orig || !change)
        return err_set(err, ERR_INTERNAL, "allocate link change");
    rtnl_link_set_family(orig, AF_BRIDGE);
    rtnl_link_set_family(change, AF_BRIDGE);
    rtnl_link_set_ifindex(orig, ifindex);
    rtnl_link_set_ifindex(change, ifindex);
    int r = rtnl_link_bridge_set_flags(change, RTNL_BRIDGE_HAIRPIN_MODE);
    if (r >= 0)
        r = rtnl_link_change(nl->sock, orig, change, 0);
    if (r < 0)
        return nl_fail(err, r, "set hairpin mode on", name);
    return 0;
}

int netlink_link_set_mtu(struct netlink *nl, const char *name, unsigned mtu,
                         struct err *err)
{
    _cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
    if (!change)
        return err_set(err, ERR_INTERNAL, "allocate link change");
    rtnl_link_set_mtu(change, mtu);
    return change_link(nl, name, change, "set mtu of link", err);
}

static int add_link(struct netlink *nl, struct rtnl_link *link,
                    const char *what, const char *name, struct err *err)
{
    int r = rtnl_link_add(nl->sock, link, NLM_F_CREATE | NLM_F_EXCL);
    if (r < 0)
        return nl_fail(err, r, what, name);
    return 0;
}

int netlink_bridge_add(struct netlink *nl, const char *name, unsigned mtu,
                       const char *mac, struct err *err)
{
    _cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
    if (!link)
        return err_set(err, ERR_INTERNAL, "allocate link");
    int r = rtnl_link_set_type(link, "bridge");
    if (r < 0)
        return nl_fail(err, r, "create bridge", name);
    rtnl_link_set_name(link, name);
    if (mtu)
        rtnl_link_set_mtu(link, mtu);
    if (mac) {
        _cleanup_addr_ struct nl_addr *a =
            parse_addr(mac, AF_LLC, "MAC address", err);
        if (!a)
            return -1;
        rtnl_link_set_addr(link, a);
    }
    return add_link(nl, link, "create bridge", name, err);
}

int netlink_vxlan_add(struct netlink *nl, const char *name,
                      const struct netlink_vxlan_opts *o, struct err *err)
{
    _cleanup_link_ struct rtnl_link *link = rtnl_link_vxlan_alloc();
    if (!link)
        return err_set(err, ERR_INTERNAL, "allocate link");
    rtnl_link_set_name(link, name);
    rtnl_link_vxlan_set_id(link, o->vni);
    rtnl_link_vxlan_set_port(link, o->port);
    rtnl_link_vxlan_set_learning(link, o->learning);
    rtnl_link_vxlan_set_proxy(link, o->proxy);
    rtnl_link_vxlan_set_l2miss(link, 0);
    rtnl_link_vxlan_set_l3miss(link, 0);
    if (o->local) {
        _cleanup_addr_ struct nl_addr *a =
            parse_addr(o->local, AF_INET, "VXLAN local address", err);
        if (!a)
            return -1;
        rtnl_link_vxlan_set_local(link, a);
    }
    if (o->mtu)
        rtnl_link_set_mtu(link, o->mtu);
    if (o->master) {
        int m = ifindex_of(nl, o->master, err);
        if (m < 0)
            return err_ctx(err, "create VXLAN '%s'", name);
        rtnl_link_set_master(link, m);
    }
    return add_link(nl, link, "create VXLAN", name, err);
}

int netlink_veth_add(struct netlink *nl, const struct netlink_veth_opts *o,
                     struct err *err)
{
    _cleanup_link_ struct rtnl_link *link = rtnl_link_veth_alloc();
    if (!link)
        return err_set(err, ERR_INTERNAL, "allocate link");
    _cleanup_link_ struct rtnl_link *peer = rtnl_link_veth_get_peer(link);
    rtnl_link_set_name(link, o->name);
    rtnl_link_set_name(peer, o->peer_name);
    if (o->mtu) {
        rtnl_link_set_mtu(link, o->mtu);
        rtnl_link_set_mtu(peer, o->mtu);
    }
    if (o->master) {
        int m = ifindex_of(nl, o->master, err);
        if (m < 0)
            return err_ctx(err, "create veth '%s'", o->name);
        rtnl_link_set_master(link, m);
    }
    if (o->peer_mac) {
        _cleanup_addr_ struct nl_addr *a =
            parse_addr(o->peer_mac, AF_LLC, "MAC address", err);
        if (!a)
            return -1;
        rtnl_link_set_addr(peer, a);
    }
    if (o->peer_netns_fd >= 0)
        rtnl_link_set_ns_fd(peer, o->peer_netns_fd);
    return add_link(nl, link, "create veth", o->name, err);
}

/* ---- addresses ---- */

static struct rtnl_addr *addr_template(struct netlink *nl, const char *ifname,
                                       const char *cidr, struct err *err)
{
    int ifindex = ifindex_of(nl, ifname, err);
    if (ifindex < 0)
        return NULL;
    _cleanup_addr_ struct nl_addr *local =
        parse_addr(cidr, AF_INET, "address", err);
    if (!local)
        return NULL;
    struct rtnl_addr *a = rtnl_addr_alloc();
    if (!a) {
        err_set(err, ERR_INTERNAL, "allocate address");
        return NULL;
    }
    rtnl_addr_set_ifindex(a, ifindex);
    rtnl_addr_set_family(a, AF_INET);
    rtnl_addr_set_local(a, local); /* takes the prefix length along */
    return a;
}

int netlink_addr_add(struct netlink *nl, const char *ifname, const char *cidr,
                     struct err *err)
{
    struct rtnl_addr *a = addr_template(nl, ifname, cidr, err);
    if (!a)
        return err_ctx(err, "add address to '%s'", ifname);
    int r = rtnl_addr_add(nl->sock, a, NLM_F_EXCL);
    rtnl_addr_put(a);
    if (r < 0)
        return nl_fail(err, r, "add address to", ifname);
    return 0;
}

int netlink_addr_del(struct netlink *nl, const char *ifname, const char *cidr,
                     struct err *err)
{
    struct rtnl_addr *a = addr_template(nl, ifname, cidr, err);
    if (!a)
        return err_ctx(err, "delete address from '%s'", ifname);
    int r = rtnl_addr_delete(nl->sock, a, 0);
    rtnl_addr_put(a);
    if (r < 0)
        return nl_fail(err, r, "delete address from", ifname);
    return 0;
}

int netlink_addr_list(struct netlink *nl, const char *ifname,
                      netlink_addr_cb cb, void *arg, struct err *err)
{
    int ifindex = ifindex_of(nl, ifname, err);
    if (ifindex < 0)
        return -1;
    _cleanup_cache_ struct nl_cache *cache = NULL;
    int r = rtnl_addr_alloc_cache(nl->sock, &cache);
    if (r < 0)
        return nl_fail(err, r, "list addresses of", ifname);
    for (struct nl_object *o = nl_cache_get_first(cache); o;
         o = nl_cache_get_next(o)) {
        struct rtnl_addr *a = (struct rtnl_addr *)o;
        if (rtnl_addr_get_ifindex(a) != ifindex ||
            rtnl_addr_get_family(a) != AF_INET)
            continue;
        char ip[NETLINK_IP_LEN], cidr[NETLINK_CIDR_LEN];
        fmt_nl_ip4(rtnl_addr_get_local(a), ip);
        if (!ip[0])
            continue;
        snprintf(cidr, sizeof(cidr), "%s/%d", ip, rtnl_addr_get_prefixlen(a));
        cb(cidr, arg);
    }
    return 0;
}

/* ---- routes ---- */

int netlink_route_replace(struct netlink *nl, const char *dst,
                          const char *gateway, const char *ifname,
                          struct err *err)
{
    int ifindex = ifindex_of(nl, ifname, err);
    if (ifindex < 0)
        return err_ctx(err, "add route to '%s'", dst);
    _cleanup_addr_ struct nl_addr *d =
        parse_addr(dst, AF_INET, "route destination", err);
    if (!d)
        return -1;
    _cleanup_addr_ struct nl_addr *gw = NULL;
    if (gateway && !(gw = parse_addr(gateway, AF_INET, "gateway", err)))
        return -1;

    struct rtnl_route *route = rtnl_route_alloc();
    struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
    if (!route || !nh) {
        if (route)
            rtnl_route_put(route);
        if (nh)
            rtnl_route_nh_free(nh);
        return err_set(err, ERR_INTERNAL, "allocate route");
    }
    rtnl_route_set_family(route, AF_INET);
    rtnl_route_set_table(route, RT_TABLE_MAIN);
    rtnl_route_set_type(route, RTN_UNICAST);
    rtnl_route_set_dst(route, d);
    rtnl_route_nh_set_ifindex(nh, ifindex);
    if (gw)
        rtnl_route_nh_set_gateway(nh, gw);
    rtnl_route_add_nexthop(route, nh); /* the route owns nh now */
    int r = rtnl_route_add(nl->sock, route, NLM_F_CREATE | NLM_F_REPLACE);
    rtnl_route_put(route);
    if (r < 0)
        return nl_fail(err, r, "add route to", dst);
    return 0;
}

int netlink_route_list(struct netlink *nl, netlink_route_cb cb, void *arg,
                       struct err *err)
{
    _cleanup_cache_ struct nl_cache *cache = NULL;
    int r = rtnl_route_alloc_cache(nl->sock, AF_INET, 0, &cache);
    if (r < 0)
        return nl_fail(err, r, "list routes", "rtnetlink");
    for (struct nl_object *o = nl_cache_get_first(cache); o;
         o = nl_cache_get_next(o)) {
        struct rtnl_route *route = (struct rtnl_route *)o;
        if (rtnl_route_get_table(route) != RT_TABLE_MAIN ||
            rtnl_route_get_type(route) != RTN_UNICAST)
            continue;
        struct netlink_route info = {0};
        struct nl_addr *d = rtnl_route_get_dst(route);
        char ip[NETLINK_IP_LEN] = "0.0.0.0";
        if (d && nl_addr_get_len(d) == 4)
            fmt_nl_ip4(d, ip);
        snprintf(info.dst, sizeof(info.dst), "%s/%u", ip,
                 d ? nl_addr_get_prefixlen(d) : 0);
        if (rtnl_route_get_nnexthops(route) > 0) {
            struct rtnl_nexthop *nh = rtnl_route_nexthop_n(route, 0);
            fmt_nl_ip4(rtnl_route_nh_get_gateway(nh), info.gateway);
            info.oif = rtnl_route_nh_get_ifindex(nh);
        }
        cb(&info, arg);
    }
    return 0;
}

/* ---- neighbours and FDB ---- */

/* A neighbour template: family AF_BRIDGE (an FDB entry of the device
 * itself) or AF_INET (an ARP entry). */
static struct rtnl_neigh *neigh_template(struct netlink *nl, int family,
                                         const char *ifname, const char *mac,
                                         const char *ip, struct err *err)
{
    int ifindex = ifindex_of(nl, ifname, err);
    if (ifindex < 0)
        return NULL;
    _cleanup_neigh_ struct rtnl_neigh *n = rtnl_neigh_alloc();
    if (!n) {
        err_set(err, ERR_INTERNAL, "allocate neighbour");
        return NULL;
    }
    rtnl_neigh_set_ifindex(n, ifindex);
    if (ip) {
        _cleanup_addr_ struct nl_addr *a =
            parse_addr(ip, AF_INET, "IP address", err);
        if (!a)
            return NULL;
        /* set_dst takes the family from the address (and refuses another
         * one once a family is set), so the family goes on afterwards. */
        rtnl_neigh_set_dst(n, a);
    }
    if (mac) {
        _cleanup_addr_ struct nl_addr *a =
            parse_addr(mac, AF_LLC, "MAC address", err);
        if (!a)
            return NULL;
        rtnl_neigh_set_lladdr(n, a);
    }
    rtnl_neigh_set_family(n, family);
    rtnl_neigh_set_state(n, NUD_PERMANENT);
    if (family == AF_BRIDGE)
        rtnl_neigh_set_flags(n, NTF_SELF);
    return steal_ptr(n);
}

int netlink_fdb_add(struct netlink *nl, const char *ifname, const char *mac,
                    const char *dst, bool append, struct err *err)
{
    _cleanup_neigh_ struct rtnl_neigh *n =
        neigh_template(nl, AF_BRIDGE, ifname, mac, dst, err);
    if (!n)
        return err_ctx(err, "add FDB entry %s to '%s'", mac, ifname);
    int r = rtnl_neigh_add(
        nl->sock, n, NLM_F_CREATE | (append ? NLM_F_APPEND : NLM_F_REPLACE));
    if (r == -NLE_EXIST)
        return 0;
    if (r < 0)
        return nl_fail(err, r, "add FDB entry to", ifname);
    return 0;
}

int netlink_fdb_del(struct netlink *nl, const char *ifname, const char *mac,
                    const char *dst, struct err *err)
{
    _cleanup_neigh_ struct rtnl_neigh *n =
        neigh_template(nl, AF_BRIDGE, ifname, mac, dst, err);
    if (!n)
        return err_ctx(err, "delete FDB entry %s from '%s'", mac, ifname);
    int r = rtnl_neigh_delete(nl->sock, n, 0);
    if (r < 0)
        return nl_fail(err, r, "delete FDB entry from", ifname);
    return 0;
}

int netlink_neigh_replace(struct netlink *nl, const char *ifname,
                          const char *ip, const char *mac, struct err *err)
{
    _cleanup_neigh_ struct rtnl_neigh *n =
        neigh_template(nl, AF_INET, ifname, mac, ip, err);
    if (!n)
        return err_ctx(err, "add neighbour %s to '%s'", ip, ifname);
    int r = rtnl_neigh_add(nl->sock, n, NLM_F_CREATE | NLM_F_REPLACE);
    if (r < 0)
        return nl_fail(err, r, "add neighbour to", ifname);
    return 0;
}

int netlink_neigh_del(struct netlink *nl, const char *ifname, const char *ip,
                      struct err *err)
{
    _cleanup_neigh_ struct rtnl_neigh *n =
        neigh_template(nl, AF_INET, ifname, NULL, ip, err);
    if (!n)
        return err_ctx(err, "delete neighbour %s from '%s'", ip, ifname);
    int r = rtnl_neigh_delete(nl->sock, n, 0);
    if (r < 0)
        return nl_fail(err, r, "delete neighbour from", ifname);
    return 0;
}

/* libnl's neighbour cache keys FDB entries by MAC, folding the several
 * destinations of one MAC into one object, so dumps are read raw. */
struct neigh_dump {
    int family, ifindex;
    netlink_fdb_cb fdb_cb;
    netlink_neigh_cb neigh_cb;
    void *arg;
};

static int neigh_dump_msg(struct nl_msg *msg, void *data)
{
    struct neigh_dump *d = data;
    struct nlmsghdr *nlh = nlmsg_hdr(msg);
    if (nlh->nlmsg_type != RTM_NEWNEIGH)
        return NL_OK;
    struct nlattr *tb[NDA_MAX + 1];
    if (nlmsg_parse(nlh, sizeof(struct ndmsg), tb, NDA_MAX, NULL) < 0)
        return NL_OK;
    const struct ndmsg *ndm = nlmsg_data(nlh);
    if (ndm->ndm_family != d->family || ndm->ndm_ifindex != d->ifindex)
        return NL_OK;
    const struct nlattr *ll = tb[NDA_LLADDR], *dst = tb[NDA_DST];
    if (d->family == AF_BRIDGE) {
        if (!(ndm->ndm_flags & NTF_SELF) || !ll || nla_len(ll) != 6)
            return NL_OK;
        struct netlink_fdb e = {0};
        fmt_mac(nla_data(ll), e.mac);
        if (dst && nla_len(dst) == 4)
            fmt_ip4(nla_data(dst), e.dst);
        d->fdb_cb(&e, d->arg);
    } else {
        if (!dst || nla_len(dst) != 4)
            return NL_OK;
        struct netlink_neigh e = {0};
        fmt_ip4(nla_data(dst), e.ip);
        if (ll && nla_len(ll) == 6)
            fmt_mac(nla_data(ll), e.mac);
        e.permanent = ndm->ndm_state & NUD_PERMANENT;
        d->neigh_cb(&e, d->arg);
    }
    return NL_OK;
}

static int neigh_dump(struct netlink *nl, const char *ifname,
                      struct neigh_dump *d, struct err *err)
{
    d->ifindex = ifindex_of(nl, ifname, err);
    if (d->ifindex < 0)
        return -1;
    struct ndmsg req = {.ndm_family = (unsigned char)d->family};
    int r =
        nl_send_simple(nl->sock, RTM_GETNEIGH, NLM_F_DUMP, &req, sizeof(req));
    if (r < 0)
        return nl_fail(err, r, "list neighbours of", ifname);
    struct nl_cb *orig = nl_socket_get_cb(nl->sock); /* a reference */
    struct nl_cb *cb = nl_cb_clone(orig);
    nl_cb_put(orig);
    if (!cb)
        return err_set(err, ERR_INTERNAL, "allocate netlink callbacks");
    nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, neigh_dump_msg, d);
    r = nl_recvmsgs(nl->sock, cb);
    nl_cb_put(cb);
    if (r < 0)
        return nl_fail(err, r, "list neighbours of", ifname);
    return 0;
}

int netlink_fdb_list(struct netlink *nl, const char *ifname, netlink_fdb_cb cb,
                     void *arg, struct err *err)
{
    struct neigh_dump d = {.family = AF_BRIDGE, .fdb_cb = cb, .arg = arg};
    return neigh_dump(nl, ifname, &d, err);
}

int netlink_neigh_list(struct netlink *nl, const char *ifname,
                       netlink_neigh_cb cb, void *arg, struct err *err)
{
    struct neigh_dump d = {.family = AF_INET, .neigh_cb = cb, .arg = arg};
    return neigh_dump(nl, ifname, &d, err);
}
