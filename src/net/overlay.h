// SPDX-License-Identifier: Apache-2.0
// The node side of overlay networks: per network a Linux bridge carrying
// the gateway address and a VXLAN device enslaved to it, per task a veth
// pair from the bridge into the task's network namespace, and the static
// FDB/neighbour entries that connect nodes. Synchronous netlink work.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/*
 * Names are derived from ids alone, so a restarted shoald finds what it
 * made (all fit IFNAMSIZ):
 *   bridge  shb-<K11(network id)>
 *   VXLAN   shx-<K11(network id)>
 *   veth    shv-<K10(task key)><N>   host end; N is the base-36 digit of
 *           the number ending the interface name in the task ("eth0" ->
 *           '0', "eth1" -> '1'), so one task can be on several networks
 * K<n>(id) is the first n characters of id when those are [0-9a-z] (swarm
 * ids: 25 random base-36 characters, so a shared 10-character prefix has a
 * chance of about 1 in 10^15 per pair), otherwise n base-36 digits of a
 * 64-bit FNV-1a hash of the whole id. An interface name that does not end
 * in 0..35 gets a hashed N (collisions possible: use eth<N>).
 *
 * Threads: every call opens its own netlink sockets in the calling
 * thread's network namespace (which must be the node's) and closes them
 * before returning, so calls may run concurrently from several threads.
 * Work inside a task's namespace uses a socket opened there; the calling
 * thread enters that namespace only for the socket() call.
 *
 * Neighbour entries: the VXLAN device runs with ARP proxy on (like
 * Docker's overlay driver), because every node's bridge carries the same
 * gateway address: ARP requests must never cross to other nodes, where
 * their bridges would answer for the gateway too. ARP for a task on
 * another node is answered locally from the device's neighbour table, so
 * each remote task needs overlay_endpoint_add (permanent neighbour
 * ip -> mac, plus FDB mac -> its node, which also spares flooding).
 * Peers (overlay_peer_add) carry broadcast and unknown unicast to every
 * node of the network.
 */

#define OVERLAY_NAME_LEN           16 /* with the NUL */
#define OVERLAY_MAC_LEN            18 /* "02:42:0a:00:01:02" + NUL */
#define OVERLAY_BRIDGE_PREFIX      "shb-"
#define OVERLAY_VXLAN_PREFIX       "shx-"
#define OVERLAY_VETH_PREFIX        "shv-"
#define OVERLAY_DEFAULT_MTU        1450 /* 1500 - 50 bytes of VXLAN */
#define OVERLAY_DEFAULT_VXLAN_PORT 4789

void overlay_bridge_name(const char *net_id, char out[OVERLAY_NAME_LEN]);
void overlay_vxlan_name(const char *net_id, char out[OVERLAY_NAME_LEN]);
/* Host end of the veth of task_key's interface ifname. */
void overlay_veth_name(const char *task_key, const char *ifname,
                       char out[OVERLAY_NAME_LEN]);
/* Docker's MAC for an IPv4 address: 02:42 and the four address bytes.
 * ip may carry a prefix length ("10.0.1.2/24"). 400 if it is no IPv4
 * address. */
int overlay_mac_from_ip(const char *ip, char out[OVERLAY_MAC_LEN],
                        struct err *err);

/* Once per node namespace: net.ipv4.ip_forward=1,
 * net.ipv4.conf.all.route_localnet=1 (published ports on 127.0.0.1) and,
 * where br_netfilter exists, net.bridge.bridge-nf-call-iptables=1 (bridged
 * replies must see conntrack to undo load-balancer DNAT). Idempotent. */
int overlay_prepare_node(struct err *err);

/* Makes network net_id exist on this node: a bridge with gateway_cidr
 * ("10.0.1.1/24"), up, and a VXLAN device (vni, destination port
 * vxlan_port, 0 = 4789; source address local_ip or, if NULL, whatever
 * routing picks; learning off, ARP proxy on, no multicast group) enslaved
 * to it, up. mtu 0 = OVERLAY_DEFAULT_MTU. Idempotent: what exists and is
 * right is kept; a wrong MTU, address or master is fixed; a VXLAN device
 * with other parameters, or a link of the wrong kind, is recreated.
 * Returns 1 when the VXLAN device was (re)created, i.e. has no peers or
 * endpoints yet, 0 when it was kept, -1 on error. */
int overlay_network_ensure(const char *net_id, uint32_t vni,
                           const char *gateway_cidr, const char *local_ip,
                           uint16_t vxlan_port, unsigned mtu, struct err *err);
/* Gives the network's bridge the MAC address mac (other nodes put it in
 * their neighbour entries for an address this node holds on the bridge).
 * Nothing is done when it has it already; 404 if the bridge is missing. */
int overlay_network_set_mac(const char *net_id, const char *mac,
                            struct err *err);
/* Deletes the VXLAN device (its FDB and neighbour entries go with it) and
 * the bridge; fine if they are missing. Detach the tasks first: veths
 * left on a deleted bridge stay behind, unattached. */
int overlay_network_remove(const char *net_id, struct err *err);

/* The service VIPs of network net_id, as /32 addresses on its bridge, so
 * this node answers ARP for them and the load balancer sees their
 * traffic (and any other node-local /32 the caller wants there). Adds what is
 * missing and removes other /32s; the gateway address stays. vips are
 * "10.0.1.2" strings. */
int overlay_network_set_vips(const char *net_id, const char *const *vips,
                             size_t n, struct err *err);

/* Another node (its underlay address peer_ip) has network net_id: an
 * all-zero FDB entry with peer_ip appended, so broadcast and unknown
 * unicast are replicated to each peer. Idempotent; 404 if the network is
 * not set up here. */
int overlay_peer_add(const char *net_id, const char *peer_ip, struct err *err);
/* Fine if the peer is not there. */
int overlay_peer_remove(const char *net_id, const char *peer_ip,
                        struct err *err);
typedef void (*overlay_peer_cb)(const char *peer_ip, void *arg);
int overlay_peer_list(const char *net_id, overlay_peer_cb cb, void *arg,
                      struct err *err);

/* A task on another node: ip ("10.0.1.7", no prefix) has mac and lives
 * behind peer_ip. Adds (or replaces) a permanent neighbour entry and an
 * FDB entry mac -> peer_ip on the VXLAN device. Needed for cross-node
 * traffic (see above). */
int overlay_endpoint_add(const char *net_id, const char *mac, const char *ip,
                         const char *peer_ip, struct err *err);
/* Removes both entries; fine if they are missing. */
int overlay_endpoint_remove(const char *net_id, const char *mac, const char *ip,
                            struct err *err);
/* ip is "" for an FDB entry without a matching neighbour entry. */
typedef void (*overlay_endpoint_cb)(const char *mac, const char *ip,
                                    const char *peer_ip, void *arg);
int overlay_endpoint_list(const char *net_id, overlay_endpoint_cb cb, void *arg,
                          struct err *err);

/* One task's interface on one network. All strings borrowed. */
struct overlay_attachment {
    const char *net_id;
    const char *netns_path; /* the task's network namespace file */
    const char *task_key;   /* names the host end; usually the task id */
    const char *ifname;     /* name in the task: "eth0", "eth1", ... */
    const char *ip_cidr;    /* "10.0.1.2/24" */
    const char *gateway;    /* default route via this, or NULL for none */
    const char *mac;        /* NULL = overlay_mac_from_ip(ip_cidr) */
    unsigned mtu;           /* 0 = the bridge's */
};
/* Connects the task: a veth pair, the host end on the network's bridge
 * (up), the other end created inside the task's namespace as ifname with
 * the MAC, ip_cidr, up, and the default route via gateway. Idempotent: an
 * existing, correctly placed pair is kept (its address and route are
 * ensured), a broken one is replaced. mac_out (may be NULL) gets the MAC
 * in use. 404 if the network or the namespace does not exist. */
int overlay_attach(const struct overlay_attachment *a,
                   char mac_out[OVERLAY_MAC_LEN], struct err *err);
/* Inside the task's namespace: routes prefix ("169.254.0.0/16") on-link
 * out of ifname (an attached interface), for addresses of other nodes on
 * the network that lie outside its subnet (the routing mesh's source
 * addresses), answered over the overlay. Idempotent. */
int overlay_task_route_link(const char *netns_path, const char *ifname,
                            const char *prefix, struct err *err);
/* Deletes the host ends of all veths of task_key (their peers go with
 * them); fine if there are none. */
int overlay_detach(const char *task_key, struct err *err);

enum overlay_link_kind {
    OVERLAY_LINK_BRIDGE,
    OVERLAY_LINK_VXLAN,
    OVERLAY_LINK_VETH,
};
typedef void (*overlay_link_cb)(enum overlay_link_kind kind, const char *name,
                                void *arg);
/* Calls cb for every link of this node named by the scheme above. */
int overlay_list_links(overlay_link_cb cb, void *arg, struct err *err);
/* After a restart: deletes every bridge and VXLAN device not belonging to
 * one of net_ids and every host veth not belonging to one of task_keys.
 * Returns the number of links deleted, or -1 (err set; deletion goes on
 * past a failure and reports the first). */
int overlay_gc(const char *const *net_ids, size_t n_nets,
               const char *const *task_keys, size_t n_tasks, struct err *err);
