// SPDX-License-Identifier: Apache-2.0
// Overlay networks on a node, built from the libnl adapter: bridges with
// gateway addresses, VXLAN devices with static peers and endpoints, veths
// into task namespaces. Every call checks what exists first, so calls are
// idempotent and a restarted shoald converges on what it finds.
#include "net/overlay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/id.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/vec.h"
#include "net/nl.h"
#include "net/sysctl.h"

#define ZERO_MAC "00:00:00:00:00:00"

static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static void netlink_closep(struct netlink **nl)
{
    netlink_close(*nl);
}
#define _cleanup_netlink_ __attribute__((cleanup(netlink_closep)))

/* ---- names ---- */

/* K<n>(id): see overlay.h. out gets n characters and a NUL. */
static void key_part(const char *id, size_t n, char *out)
{
    bool plain = strlen(id) >= n;
    for (size_t i = 0; plain && i < n; i++)
        plain =
            (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z');
    if (plain) {
        memcpy(out, id, n);
    } else {
        uint64_t h = id_hash64(id);
        for (size_t i = 0; i < n; i++, h /= 36)
            out[i] = b36[h % 36];
    }
    out[n] = '\0';
}

void overlay_bridge_name(const char *net_id, char out[OVERLAY_NAME_LEN])
{
    char k[12];
    key_part(net_id, 11, k);
    snprintf(out, OVERLAY_NAME_LEN, OVERLAY_BRIDGE_PREFIX "%s", k);
}

void overlay_vxlan_name(const char *net_id, char out[OVERLAY_NAME_LEN])
{
    char k[12];
    key_part(net_id, 11, k);
    snprintf(out, OVERLAY_NAME_LEN, OVERLAY_VXLAN_PREFIX "%s", k);
}

/* "shv-" and K10(task_key): the part all veths of one task share. */
static void veth_task_prefix(const char *task_key, char out[OVERLAY_NAME_LEN])
{
    char k[11];
    key_part(task_key, 10, k);
    snprintf(out, OVERLAY_NAME_LEN, OVERLAY_VETH_PREFIX "%s", k);
}

void overlay_veth_name(const char *task_key, const char *ifname,
                       char out[OVERLAY_NAME_LEN])
{
    size_t len = strlen(ifname), start = len;
    while (start > 0 && ifname[start - 1] >= '0' && ifname[start - 1] <= '9')
        start--;
    unsigned long num = 36;
    if (start < len && len - start <= 2)
        num = strtoul(ifname + start, NULL, 10);
    char digit = num < 36 ? b36[num] : b36[id_hash64(ifname) % 36];
    char prefix[OVERLAY_NAME_LEN];
    veth_task_prefix(task_key, prefix);
    snprintf(out, OVERLAY_NAME_LEN, "%s%c", prefix, digit);
}

int overlay_mac_from_ip(const char *ip, char out[OVERLAY_MAC_LEN],
                        struct err *err)
{
    char host[INET_ADDRSTRLEN];
    size_t n = strcspn(ip, "/");
    if (n >= sizeof(host))
        return err_set(err, ERR_INVALID, "invalid IPv4 address '%s'", ip);
    memcpy(host, ip, n);
    host[n] = '\0';
    unsigned char b[4];
    if (inet_pton(AF_INET, host, b) != 1)
        return err_set(err, ERR_INVALID, "invalid IPv4 address '%s'", ip);
    snprintf(out, OVERLAY_MAC_LEN, "02:42:%02x:%02x:%02x:%02x", b[0], b[1],
             b[2], b[3]);
    return 0;
}

/* ---- node ---- */

int overlay_prepare_node(struct err *err)
{
    static const char *const required[][2] = {
        {"net.ipv4.ip_forward", "1"},
        {"net.ipv4.conf.all.route_localnet", "1"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(required); i++)
        if (sysctl_write(required[i][0], required[i][1], err) < 0)
            return err_ctx(err, "prepare node networking");
    const char *nf = "net.bridge.bridge-nf-call-iptables";
    if (!sysctl_exists(nf)) {
        log_warn("no %s (br_netfilter not loaded): replies between tasks "
                 "on one bridge bypass load-balancer NAT",
                 nf);
        return 0;
    }
    if (sysctl_write(nf, "1", err) < 0)
        return err_ctx(err, "prepare node networking");
    return 0;
}

/* ---- networks ---- */

/* An addr_list callback: does the link carry the address in arg? */
struct addr_find {
    const char *cidr;
    bool found;
};
static void addr_find_cb(const char *cidr, void *arg)
{
    struct addr_find *f = arg;
    if (strcmp(cidr, f->cidr) == 0)
        f->found = true;
}

static int ensure_addr(struct netlink *nl, const char *ifname, const char *cidr,
                       struct err *err)
{
    struct addr_find f = {.cidr = cidr};
    if (netlink_addr_list(nl, ifname, addr_find_cb, &f, err) < 0)
        return -1;
    if (f.found)
        return 0;
    if (netlink_addr_add(nl, ifname, cidr, err) < 0 &&
        err->code != ERR_CONFLICT)
        return -1;
    err_clear(err);
    return 0;
}

static int delete_if_exists(struct netlink *nl, const char *name,
                            struct err *err)
{
    if (netlink_link_del(nl, name, err) < 0) {
        if (err->code != ERR_NOTFOUND)
            return -1;
        err_clear(err);
    }
    return 0;
}

/* Looks name up; 1 found, 0 missing, -1 error. */
static int find_link(struct netlink *nl, const char *name,
                     struct netlink_link *out, struct err *err)
{
    if (netlink_link_get(nl, name, out, err) == 0)
        return 1;
    if (err->code != ERR_NOTFOUND)
        return -1;
    err_clear(err);
    return 0;
}

static int ensure_bridge(struct netlink *nl, const char *br,
                         const char *gateway_cidr, unsigned mtu,
                         struct netlink_link *out, struct err *err)
{
    int found = find_link(nl, br, out, err);
    if (found < 0)
        return -1;
    if (found && strcmp(out->kind, "bridge") != 0) {
        log_warn("replacing link '%s' of kind '%s' with a bridge", br,
                 out->kind);
        if (netlink_link_del(nl, br, err) < 0)
            return -1;
        found = 0;
    }
    if (!found) {
        /* A bridge whose address was never set takes the lowest MAC of
         * its ports and changes it as tasks come and go, which stales the
         * gateway in every task's ARP cache: fix one (locally
         * administered, unicast). */
        unsigned char b[6];
        id_random_bytes(b, sizeof(b));
        char mac[OVERLAY_MAC_LEN];
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
                 (b[0] & 0xfe) | 0x02, b[1], b[2], b[3], b[4], b[5]);
        if (netlink_bridge_add(nl, br, mtu, mac, err) < 0 ||
            netlink_link_get(nl, br, out, err) < 0)
            return -1;
    } else if (out->mtu != mtu) {
        if (netlink_link_set_mtu(nl, br, mtu, err) < 0)
            return -1;
    }
    if (ensure_addr(nl, br, gateway_cidr, err) < 0)
        return -1;
    return netlink_link_set_up(nl, br, err);
}

/* 1 created, 0 kept, -1 error. */
static int ensure_vxlan(struct netlink *nl, const char *vx,
                        const struct netlink_link *bridge,
                        const struct netlink_vxlan_opts *want, struct err *err)
{
    struct netlink_link cur;
    int found = find_link(nl, vx, &cur, err);
    if (found < 0)
        return -1;
    if (found) {
        const char *local = want->local ? want->local : "";
        bool same = strcmp(cur.kind, "vxlan") == 0 &&
                    cur.vxlan_vni == want->vni &&
                    cur.vxlan_port == want->port &&
                    strcmp(cur.vxlan_local, local) == 0 &&
                    cur.vxlan_learning == want->learning &&
                    cur.vxlan_proxy == want->proxy;
        if (!same) {
            log_info("recreating VXLAN '%s' (VNI %u port %u local '%s')", vx,
                     want->vni, want->port, local);
            if (netlink_link_del(nl, vx, err) < 0)
                return -1;
            found = 0;
        }
    }
    int created = 0;
    if (!found) {
        if (netlink_vxlan_add(nl, vx, want, err) < 0) {
            /* The name was free, so the kernel objects to the VNI. */
            if (err->code == ERR_CONFLICT)
                err_set(err, ERR_CONFLICT,
                        "create VXLAN '%s': VXLAN id %u on port %u is "
                        "used by another device",
                        vx, want->vni, want->port);
            return -1;
        }
        created = 1;
    } else {
        if (cur.mtu != want->mtu &&
            netlink_link_set_mtu(nl, vx, want->mtu, err) < 0)
            return -1;
        if (cur.master != bridge->ifindex &&
            netlink_link_set_master(nl, vx, bridge->name, err) < 0)
            return -1;
    }
    if (netlink_link_set_up(nl, vx, err) < 0)
        return -1;
    return created;
}

int overlay_network_ensure(const char *net_id, uint32_t vni,
                           const char *gateway_cidr, const char *local_ip,
                           uint16_t vxlan_port, unsigned mtu, struct err *err)
{
    if (vni == 0 || vni > 0xffffff)
        return err_set(err, ERR_INVALID,
                       "set up network '%s': VXLAN id %u out of range "
                       "(1-16777215)",
                       net_id, vni);
    if (!mtu)
        mtu = OVERLAY_DEFAULT_MTU;
    char br[OVERLAY_NAME_LEN], vx[OVERLAY_NAME_LEN];
    overlay_bridge_name(net_id, br);
    overlay_vxlan_name(net_id, vx);
    _cleanup_netlink_ struct netlink *nl = netlink_open(err);
    if (!nl)
        return err_ctx(err, "set up network '%s'", net_id);

    struct netlink_link bridge;
    if (ensure_bridge(nl, br, gateway_cidr, mtu, &bridge, err) < 0)
        return err_ctx(err, "set up network '%s'", net_id);
    struct netlink_vxlan_opts want = {
        .vni = vni,
        .port = vxlan_port ? vxlan_port : OVERLAY_DEFAULT_VXLAN_PORT,
        .local = local_ip,
        .learning = false,
        .proxy = true,
        .mtu = mtu,
        .master = br,
    };
    int created = ensure_vxlan(nl, vx, &bridge, &want, err);
    if (created < 0)
        return err_ctx(err, "set up network '%s'", net_id);
    return created;
}

struct vip_walk {
    char (*have)[20];
    size_t n, cap;
};

static void collect_host_addr(const char *cidr, void *arg)
{
    struct vip_walk *w = arg;
    const char *slash = strchr(cidr, '/');
    if (!slash || strcmp(slash, "/32") != 0 || w->n == w->cap)
        return;
    snprintf(w->have[w->n++], 20, "%.*s", (int)(slash - cidr), cidr);
}

int overlay_network_set_vips(const char *net_id, const char *const *vips,
                             size_t n, struct err *err)
{
    char bridge[OVERLAY_NAME_LEN];
    overlay_bridge_name(net_id, bridge);
    struct netlink *nl = netlink_open(err);
    if (!nl)
        return -1;
    char have[256][20];
    struct vip_walk w = {have, 0, 256};
    int rc = netlink_addr_list(nl, bridge, collect_host_addr, &w, err);
    for (size_t i = 0; rc == 0 && i < w.n; i++) {
        bool wanted = false;
        for (size_t k = 0; k < n; k++)
            wanted |= strcmp(have[i], vips[k]) == 0;
        char cidr[24];
        snprintf(cidr, sizeof(cidr), "%s/32", have[i]);
        if (!wanted)
            rc = netlink_addr_del(nl, bridge, cidr, err);
    }
    for (size_t k = 0; rc == 0 && k < n; k++) {
        bool present = false;
        for (size_t i = 0; i < w.n; i++)
            present |= strcmp(have[i], vips[k]) == 0;
        char cidr[24];
        snprintf(cidr, sizeof(cidr), "%s/32", vips[k]);
        if (!present)
            rc = netlink_addr_add(nl, bridge, cidr, err);
    }
    netlink_close(nl);
    return rc;
}

/* "02:42:a9:fe:00:02" -> bytes; false if malformed. */
static bool parse_mac(const char *mac, unsigned char out[6])
{
    unsigned b[6];
    char end;
    if (sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
               &b[4], &b[5], &end) != 6)
        return false;
    for (size_t i = 0; i < 6; i++)
        out[i] = (unsigned char)b[i];
    return true;
}

int overlay_network_set_mac(const char *net_id, const char *mac,
                            struct err *err)
{
    char br[OVERLAY_NAME_LEN];
    overlay_bridge_name(net_id, br);
    unsigned char want[6];
    if (!parse_mac(mac, want))
        return err_set(err, ERR_INVALID, "invalid MAC address '%s'", mac);
    _cleanup_netlink_ struct netlink *nl = netlink_open(err);
    if (!nl)
        return err_ctx(err, "set MAC of network '%s'", net_id);
    struct netlink_link cur;
    int found = find_link(nl, br, &cur, err);
    if (found <= 0) {
        if (found == 0)
            err_set(err, ERR_NOTFOUND,
                    "network '%s' is not set up on this node", net_id);
        return err_ctx(err, "set MAC of network '%s'", net_id);
    }
    unsigned char have[6];
    if (parse_mac(cur.mac, have) && memcmp(have, want, 6) == 0)
        return 0;
    /* The libnl adapter has no link-address change; the classic ioctl
     * does it in the calling thread's namespace, like netlink would. */
    _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_sys(err, errno, "set MAC of network '%s': socket", net_id);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", br);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, want, 6);
    if (ioctl(fd, SIOCSIFHWADDR, &ifr) < 0)
        return err_sys(err, errno, "set MAC %s on bridge '%s'", mac, br);
    return 0;
}

int overlay_network_remove(const char *net_id, struct err *err)
{
    char br[OVERLAY_NAME_LEN], vx[OVERLAY_NAME_LEN];
    overlay_bridge_name(net_id, br);
    overlay_vxlan_name(net_id, vx);
    _cleanup_netlink_ struct netlink *nl = netlink_open(err);
    if (!nl || delete_if_exists(nl, vx, err) < 0 ||
        delete_if_exists(nl, br, err) < 0)
        return err_ctx(err, "remove network '%s'", net_id);
    return 0;
}

/* ---- peers and endpoints ---- */

/* Opens a handle and names the network's VXLAN device, which must exist
 * (404 "network ... is not set up on this node" otherwise). */
static struct netlink *open_vxlan(const char *net_id, char vx[OVERLAY_NAME_LEN],
                                  struct err *err)
{
    overlay_vxlan_name(net_id, vx);
    struct netlink *nl = netlink_open(err);
    if (!nl)
        return NULL;
    struct netlink_link cur;
    int found = find_link(nl, vx, &cur, err);
    if (found <= 0) {
        if (found == 0)
            err_set(err, ERR_NOTFOUND,
                    "network '%s' is not set up on this node", net_id);
        netlink_close(nl);
        return NULL;
    }
    return nl;
}

int overlay_peer_add(const char *net_id, const char *peer_ip, struct err *err)
{
    char vx[OVERLAY_NAME_LEN];
    _cleanup_netlink_ struct netlink *nl = open_vxlan(net_id, vx, err);
    if (!nl || netlink_fdb_add(nl, vx, ZERO_MAC, peer_ip, true, err) < 0)
        return err_ctx(err, "add peer %s to network '%s'", peer_ip, net_id);
    return 0;
}

int overlay_peer_remove(const char *net_id, const char *peer_ip,
                        struct err *err)
{
    char vx[OVERLAY_NAME_LEN];
    _cleanup_netlink_ struct netlink *nl = open_vxlan(net_id, vx, err);
    if (!nl) {
        if (err->code == ERR_NOTFOUND) {
            err_clear(err);
            return 0;
        }
        return err_ctx(err, "remove peer %s", peer_ip);
    }
    if (netlink_fdb_del(nl, vx, ZERO_MAC, peer_ip, err) < 0) {
        if (err->code != ERR_NOTFOUND)
            return err_ctx(err, "remove peer %s from network '%s'", peer_ip,
                           net_id);
        err_clear(err);
    }
    return 0;
}

struct peer_walk {
    overlay_peer_cb cb;
    void *arg;
};
static void peer_walk_cb(const struct netlink_fdb *e, void *arg)
{
    struct peer_walk *w = arg;
    if (strcmp(e->mac, ZERO_MAC) == 0 && e->dst[0])
        w->cb(e->dst, w->arg);
}

int overlay_peer_list(const char *net_id, overlay_peer_cb cb, void *arg,
                      struct err *err)
{
    char vx[OVERLAY_NAME_LEN];
    _cleanup_netlink_ struct netlink *nl = open_vxlan(net_id, vx, err);
    struct peer_walk w = {cb, arg};
    if (!nl || netlink_fdb_list(nl, vx, peer_walk_cb, &w, err) < 0)
        return err_ctx(err, "list peers of network '%s'", net_id);
    return 0;
}

int overlay_endpoint_add(const char *net_id, const char *mac, const char *ip,
                         const char *peer_ip, struct err *err)
{
    char vx[OVERLAY_NAME_LEN];
    _cleanup_netlink_ struct netlink *nl = open_vxlan(net_id, vx, err);
    if (!nl || netlink_fdb_add(nl, vx, mac, peer_ip, false, err) < 0 ||
        netlink_neigh_replace(nl, vx, ip, mac, err) < 0)
        return err_ctx(err, "add endpoint %s (%s) on %s to network '%s'", ip,
                       mac, peer_ip, net_id);
    return 0;
}

int overlay_endpoint_remove(const char *net_id, const char *mac, const char *ip,
                            struct err *err)
{
    char vx[OVERLAY_NAME_LEN];
    _cleanup_netlink_ struct netlink *nl = open_vxlan(net_id, vx, err);
    if (!nl) {
        if (err->code == ERR_NOTFOUND) {
            err_clear(err);
            return 0;
        }
        return err_ctx(err, "remove endpoint %s", ip);
    }
    if (netlink_neigh_del(nl, vx, ip, err) < 0) {
        if (err->code != ERR_NOTFOUND)
            return err_ctx(err, "remove endpoint %s from network '%s'", ip,
                           net_id);
        err_clear(err);
    }
    if (netlink_fdb_del(nl, vx, mac, NULL, err) < 0) {
        if (err->code != ERR_NOTFOUND)
            return err_ctx(err, "remove endpoint %s from network '%s'", ip,
                           net_id);
        err_clear(err);
    }
    return 0;
}

/* Endpoint listing joins the FDB (mac -> peer) with the neighbour table
 * (ip -> mac). */
struct endpoint_walk {
    struct vec neighs; /* owned struct netlink_neigh copies */
    overlay_endpoint_cb cb;
    void *arg;
};
static void endpoint_neigh_cb(const struct netlink_neigh *n, void *arg)
{
    struct endpoint_walk *w = arg;
    if (!n->permanent)
        return;
    struct netlink_neigh *copy = xmalloc(sizeof(*copy));
    *copy = *n;
    vec_push(&w->neighs, copy);
}
static void endpoint_fdb_cb(const struct netlink_fdb *e, void *arg)
{
    struct endpoint_walk *w = arg;
    if (strcmp(e->mac, ZERO_MAC) == 0 || !e->dst[0])
        return;
    const char *ip = "";
    for (size_t i = 0; i < w->neighs.len; i++) {
        const struct netlink_neigh *n = w->neighs.items[i];
        if (strcmp(n->mac, e->mac) == 0)
            ip = n->ip;
    }
    w->cb(e->mac, ip, e->dst, w->arg);
}

int overlay_endpoint_list(const char *net_id, overlay_endpoint_cb cb, void *arg,
                          struct err *err)
{
    char vx[OVERLAY_NAME_LEN];
    _cleanup_netlink_ struct netlink *nl = open_vxlan(net_id, vx, err);
    if (!nl)
        return err_ctx(err, "list endpoints of network '%s'", net_id);
    struct endpoint_walk w = {.cb = cb, .arg = arg};
    vec_init(&w.neighs);
    int r = netlink_neigh_list(nl, vx, endpoint_neigh_cb, &w, err);
    if (r == 0)
        r = netlink_fdb_list(nl, vx, endpoint_fdb_cb, &w, err);
    for (size_t i = 0; i < w.neighs.len; i++)
        free(w.neighs.items[i]);
    vec_fini(&w.neighs);
    if (r < 0)
        return err_ctx(err, "list endpoints of network '%s'", net_id);
    return 0;
}

/* ---- tasks ---- */

/* Is the task-side link ours: a veth whose peer is the host end? */
static bool is_our_peer(const struct netlink_link *inside,
                        const struct netlink_link *host)
{
    return strcmp(inside->kind, "veth") == 0 && inside->peer == host->ifindex;
}

/* Finds what a previous attach left: 1 = a correct pair to keep, 0 =
 * nothing usable (anything broken has been deleted), -1 = error. */
static int check_existing(struct netlink *nl, struct netlink *ns,
                          const char *hv, const char *ifname,
                          const struct netlink_link *bridge, struct err *err)
{
    struct netlink_link host, inside;
    int have_host = find_link(nl, hv, &host, err);
    if (have_host < 0)
        return -1;
    int have_inside = find_link(ns, ifname, &inside, err);
    if (have_inside < 0)
        return -1;
    if (have_host && have_inside && strcmp(host.kind, "veth") == 0 &&
        host.master == bridge->ifindex && is_our_peer(&inside, &host))
        return 1;
    if (have_host) {
        log_info("replacing veth '%s'", hv);
        if (delete_if_exists(nl, hv, err) < 0)
            return -1;
        /* Its peer, if that was ifname, is gone with it. */
        have_inside = find_link(ns, ifname, &inside, err);
        if (have_inside < 0)
            return -1;
    }
    if (have_inside) {
        log_warn("deleting foreign link '%s' (%s) in a task namespace", ifname,
                 inside.kind);
        if (delete_if_exists(ns, ifname, err) < 0)
            return -1;
    }
    return 0;
}

static int attach(const struct overlay_attachment *a, const char *mac,
                  char mac_out[OVERLAY_MAC_LEN], struct err *err)
{
    char br[OVERLAY_NAME_LEN], hv[OVERLAY_NAME_LEN];
    overlay_bridge_name(a->net_id, br);
    overlay_veth_name(a->task_key, a->ifname, hv);

    _cleanup_netlink_ struct netlink *nl = netlink_open(err);
    if (!nl)
        return -1;
    struct netlink_link bridge;
    int found = find_link(nl, br, &bridge, err);
    if (found <= 0) {
        if (found == 0)
            err_set(err, ERR_NOTFOUND,
                    "network '%s' is not set up on this node", a->net_id);
        return -1;
    }
    _cleanup_netlink_ struct netlink *ns = netlink_open_in(a->netns_path, err);
    if (!ns)
        return -1;

    int keep = check_existing(nl, ns, hv, a->ifname, &bridge, err);
    if (keep < 0)
        return -1;
    if (!keep) {
        _cleanup_close_ int nsfd = open(a->netns_path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
            return err_sys(err, errno, "open network namespace '%s'",
                           a->netns_path);
        struct netlink_veth_opts v = {
            .name = hv,
            .master = br,
            .mtu = a->mtu ? a->mtu : bridge.mtu,
            .peer_name = a->ifname,
            .peer_mac = mac,
            .peer_netns_fd = nsfd,
        };
        if (netlink_veth_add(nl, &v, err) < 0)
            return -1;
    }
    if (netlink_link_set_up(nl, hv, err) < 0 ||
        netlink_bridge_port_set_hairpin(nl, hv, err) < 0)
        return -1;

    /* Inside the task: address, link up, then the default route (the
     * gateway must be reachable through an up link to be accepted). */
    if (ensure_addr(ns, a->ifname, a->ip_cidr, err) < 0 ||
        netlink_link_set_up(ns, a->ifname, err) < 0)
        return -1;
    if (a->gateway &&
        netlink_route_replace(ns, "0.0.0.0/0", a->gateway, a->ifname, err) < 0)
        return -1;

    if (mac_out) {
        struct netlink_link inside;
        if (netlink_link_get(ns, a->ifname, &inside, err) < 0)
            return -1;
        snprintf(mac_out, OVERLAY_MAC_LEN, "%s", inside.mac);
    }
    return 0;
}

int overlay_attach(const struct overlay_attachment *a,
                   char mac_out[OVERLAY_MAC_LEN], struct err *err)
{
    if (strlen(a->ifname) >= OVERLAY_NAME_LEN || !a->ifname[0])
        return err_set(err, ERR_INVALID, "invalid interface name '%s'",
                       a->ifname);
    if (!strchr(a->ip_cidr, '/'))
        return err_set(err, ERR_INVALID,
                       "attach task '%s': address '%s' has no prefix length",
                       a->task_key, a->ip_cidr);
    char derived[OVERLAY_MAC_LEN];
    const char *mac = a->mac;
    if (!mac) {
        if (overlay_mac_from_ip(a->ip_cidr, derived, err) < 0)
            return err_ctx(err, "attach task '%s'", a->task_key);
        mac = derived;
    }
    if (attach(a, mac, mac_out, err) < 0)
        return err_ctx(err, "attach task '%s' to network '%s'", a->task_key,
                       a->net_id);
    return 0;
}

int overlay_task_route_link(const char *netns_path, const char *ifname,
                            const char *prefix, struct err *err)
{
    _cleanup_netlink_ struct netlink *ns = netlink_open_in(netns_path, err);
    if (!ns || netlink_route_replace(ns, prefix, NULL, ifname, err) < 0)
        return err_ctx(err, "route %s in a task namespace", prefix);
    return 0;
}

/* Link names collected by a listing, deleted afterwards. */
struct name_walk {
    struct vec names; /* owned strings */
    const char *prefix;
    size_t len; /* exact name length wanted, 0 = any */
};
static void name_walk_cb(const struct netlink_link *l, void *arg)
{
    struct name_walk *w = arg;
    if (strncmp(l->name, w->prefix, strlen(w->prefix)) == 0 &&
        (!w->len || strlen(l->name) == w->len))
        vec_push(&w->names, xstrdup(l->name));
}

static void name_walk_fini(struct name_walk *w)
{
    for (size_t i = 0; i < w->names.len; i++)
        free(w->names.items[i]);
    vec_fini(&w->names);
}

int overlay_detach(const char *task_key, struct err *err)
{
    char prefix[OVERLAY_NAME_LEN];
    veth_task_prefix(task_key, prefix);
    _cleanup_netlink_ struct netlink *nl = netlink_open(err);
    if (!nl)
        return err_ctx(err, "detach task '%s'", task_key);
    struct name_walk w = {.prefix = prefix, .len = strlen(prefix) + 1};
    vec_init(&w.names);
    int r = netlink_link_list(nl, name_walk_cb, &w, err);
    for (size_t i = 0; r == 0 && i < w.names.len; i++)
        r = delete_if_exists(nl, w.names.items[i], err);
    name_walk_fini(&w);
    if (r < 0)
        return err_ctx(err, "detach task '%s'", task_key);
    return 0;
}

/* ---- what exists ---- */

static bool link_kind_of(const char *name, enum overlay_link_kind *kind)
{
    static const struct {
        const char *prefix;
        enum overlay_link_kind kind;
        size_t len;
    } kinds[] = {
        {OVERLAY_BRIDGE_PREFIX, OVERLAY_LINK_BRIDGE, 15},
        {OVERLAY_VXLAN_PREFIX, OVERLAY_LINK_VXLAN, 15},
        {OVERLAY_VETH_PREFIX, OVERLAY_LINK_VETH, 15},
    };
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
        if (strncmp(name, kinds[i].prefix, strlen(kinds[i].prefix)) == 0 &&
            strlen(name) == kinds[i].len) {
            *kind = kinds[i].kind;
            return true;
        }
    return false;
}

struct kind_walk {
    overlay_link_cb cb;
    void *arg;
};
static void kind_walk_cb(const struct netlink_link *l, void *arg)
{
    struct kind_walk *w = arg;
    enum overlay_link_kind kind;
    if (link_kind_of(l->name, &kind))
        w->cb(kind, l->name, w->arg);
}

int overlay_list_links(overlay_link_cb cb, void *arg, struct err *err)
{
    _cleanup_netlink_ struct netlink *nl = netlink_open(err);
    struct kind_walk w = {cb, arg};
    if (!nl || netlink_link_list(nl, kind_walk_cb, &w, err) < 0)
        return err_ctx(err, "list overlay links");
    return 0;
}

struct gc_walk {
    const char *const *net_ids;
    size_t n_nets;
    const char *const *task_keys;
    size_t n_tasks;
    struct vec doomed; /* owned names */
};

static bool gc_wanted(const struct gc_walk *g, enum overlay_link_kind kind,
                      const char *name)
{
    char want[OVERLAY_NAME_LEN];
    if (kind == OVERLAY_LINK_VETH) {
        for (size_t i = 0; i < g->n_tasks; i++) {
            veth_task_prefix(g->task_keys[i], want);
            if (strncmp(name, want, strlen(want)) == 0)
                return true;
        }
        return false;
    }
    for (size_t i = 0; i < g->n_nets; i++) {
        if (kind == OVERLAY_LINK_BRIDGE)
            overlay_bridge_name(g->net_ids[i], want);
        else
            overlay_vxlan_name(g->net_ids[i], want);
        if (strcmp(name, want) == 0)
            return true;
    }
    return false;
}

static void gc_cb(enum overlay_link_kind kind, const char *name, void *arg)
{
    struct gc_walk *g = arg;
    if (!gc_wanted(g, kind, name))
        vec_push(&g->doomed, xstrdup(name));
}

int overlay_gc(const char *const *net_ids, size_t n_nets,
               const char *const *task_keys, size_t n_tasks, struct err *err)
{
    struct gc_walk g = {net_ids, n_nets, task_keys, n_tasks, {0}};
    vec_init(&g.doomed);
    if (overlay_list_links(gc_cb, &g, err) < 0) {
        vec_fini(&g.doomed);
        return -1;
    }
    _cleanup_netlink_ struct netlink *nl = netlink_open(err);
    int removed = 0, failed = 0;
    for (size_t i = 0; nl && i < g.doomed.len; i++) {
        const char *name = g.doomed.items[i];
        struct err e = {0};
        if (delete_if_exists(nl, name, &e) < 0) {
            log_warn("remove stale link '%s': %s", name, e.msg);
            if (!failed)
                *err = e;
            failed = 1;
        } else {
            log_info("removed stale link '%s'", name);
            removed++;
        }
    }
    for (size_t i = 0; i < g.doomed.len; i++)
        free(g.doomed.items[i]);
    vec_fini(&g.doomed);
    if (!nl || failed)
        return err_ctx(err, "remove stale overlay links");
    return removed;
}
