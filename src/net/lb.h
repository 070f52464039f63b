// SPDX-License-Identifier: Apache-2.0
// Kernel load balancing for one node: service virtual IPs, the routing mesh
// (published ports on every node address), host-mode ports, hairpin and
// egress masquerade, and isolation between overlay networks, all in one
// nftables table of shoald's own. The state-to-ruleset rendering is pure;
// lb_apply swaps the table's contents in one transaction.
//
// What the node must provide (not done here): each VIP a local address of
// the node, e.g. a /32 on its network's bridge, so tasks' ARP for it is
// answered; hairpin mode on every task's bridge port while
// net.bridge.bridge-nf-call-iptables=1 (a task reaching its own VIP may be
// sent back to itself); lb_node_setup's sysctls; and no other table
// dropping forwarded traffic (a drop anywhere wins over our accepts).
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* The table shoald owns ("table ip shoal"); nothing else of ours touches
 * nftables, and we never touch anything outside it. */
#define LB_TABLE "shoal"

/* Packet mark bit set on routing-mesh connections so postrouting masquerades
 * them (the mark never leaves the node). */
#define LB_MESH_MARK 0x00002000u

/* An overlay network present on this node. */
struct lb_network {
    struct in_addr subnet; /* network address, e.g. 10.0.1.0 */
    uint8_t prefix_len;    /* 1..32 */
    /* Source address for connections the node NATs into this network (the
     * routing mesh, VIP traffic from the same subnet). INADDR_ANY: masquerade
     * to the address of the interface they leave by (the bridge's gateway).
     * Several nodes sharing one gateway address need a node-unique one. */
    struct in_addr snat;
};

/* A published port. Ports with published == 0 are ignored here: a VIP
 * forwards every port (see lb_service). */
struct lb_port {
    uint8_t proto;      /* IPPROTO_TCP or IPPROTO_UDP */
    uint16_t target;    /* port inside the tasks */
    uint16_t published; /* port on the node's addresses; 0 = not published */
    bool host_mode;     /* mode=host: only this node's tasks (local_backends),
                           no masquerade (the client address is kept) */
};

/* A service's virtual IP on one network and the addresses, on that network,
 * of its running tasks (all nodes). */
struct lb_vip {
    struct in_addr addr;
    const struct in_addr *backends; /* borrowed */
    size_t n_backends;
};

/* One service. Like Docker Swarm, a VIP forwards every TCP/UDP port (and
 * other IP protocols) to a task, keeping the port; only sources on the VIP's
 * own network (or the node itself) may use it. */
struct lb_service {
    char id[26]; /* [A-Za-z0-9_-], non-empty: shown in element comments */
    const struct lb_vip *vips; /* borrowed; none for endpoint mode dnsrr */
    size_t n_vips;
    const struct lb_port *ports; /* borrowed */
    size_t n_ports;
    /* Ingress-mode published ports: running tasks on every node, by an
     * address the node can route to (their ingress network address). */
    const struct in_addr *mesh_backends; /* borrowed */
    size_t n_mesh_backends;
    /* Host-mode published ports: this node's running tasks only. */
    const struct in_addr *local_backends; /* borrowed */
    size_t n_local_backends;
};

/* Everything the node balances. Only running (and healthy) tasks belong in
 * the backend lists: a task being stopped leaves them before it is killed. */
struct lb_state {
    const struct lb_service *services; /* borrowed */
    size_t n_services;
    const struct lb_network *networks; /* borrowed */
    size_t n_networks;
};

/* The other nodes, for a node of a cluster (lb_render_peers). */
struct lb_peers {
    /* Addresses on the state's networks that live on other nodes (their
     * tasks, reached over the overlay). VIP traffic DNATed to one of them
     * is not masqueraded: every node's bridge has the same gateway
     * address, so the remote task's reply would stay on its own node;
     * untranslated, it comes back over the overlay and this node's bridge
     * (br_netfilter) undoes the DNAT. Routing-mesh traffic is always
     * translated (to the network's snat address). */
    const struct in_addr *remote; /* borrowed */
    size_t n_remote;
    /* The prefix holding the other nodes' snat addresses: connections from
     * it may enter every network that has an snat address of its own
     * (routing-mesh traffic other nodes send to a task here). src_len 0 =
     * none. */
    struct in_addr src;
    uint8_t src_len;
};

/* Renders the definition of table LB_TABLE for state into out (appended):
 * every object but the base chains named with the suffix "-<slot>" (slot
 * 'a' or 'b'; see lb_apply), the base chains jumping to that slot. Pure and
 * canonical: the text depends only on the state's contents, not on the
 * order of services, VIPs, backends, ports or networks. Fails, leaving out
 * untouched, (400) on an invalid id, protocol or prefix, (409) when two
 * services claim one VIP or published port or two networks overlap. */
int lb_render(const struct lb_state *state, char slot, struct buf *out,
              struct err *err);
/* The same for a node of a cluster; peers may be NULL (= lb_render). */
int lb_render_peers(const struct lb_state *state, const struct lb_peers *peers,
                    char slot, struct buf *out, struct err *err);

/* A handle on the kernel side: an nftables context, bound to the network
 * namespace current when it was made (use it from threads in that
 * namespace), and what it knows of our table. Kept open across applies
 * because closing the context's netlink socket waits for the kernel to
 * finish destroying what the last transaction removed (an RCU grace period,
 * 15-30 ms here). A new handle reads the table back on its first apply, so
 * a restarted shoald swaps in its state without a gap. Owned; free with
 * lb_free (which may block that long). */
struct lb;
struct lb *lb_new(struct err *err);
void lb_free(struct lb *lb);

/* Applies state in one transaction without a moment of missing rules: the
 * base chains (hooks) stay, a complete second set of objects is built next
 * to the live one and the base chains are pointed at it; the set it
 * replaces is deleted by the next apply (an in-flight packet may still be
 * reading it). Existing connections keep their backend (conntrack). On
 * failure the table stays as it was. About 15-25 ms for 100 services x 10
 * tasks here, about 1 ms for a few services. */
int lb_apply(struct lb *lb, const struct lb_state *state, struct err *err);
/* The same with the other nodes (peers may be NULL). */
int lb_apply_peers(struct lb *lb, const struct lb_state *state,
                   const struct lb_peers *peers, struct err *err);

/* Deletes table LB_TABLE (fine if absent). Existing connections keep their
 * NAT bindings in conntrack; new ones are no longer balanced. */
int lb_clear(struct lb *lb, struct err *err);

/* Node settings the ruleset relies on, set in the calling thread's network
 * namespace: net.ipv4.ip_forward=1 and net.ipv4.conf.all.route_localnet=1
 * (so 127.0.0.1:published can be DNATed out of the node). */
int lb_node_setup(struct err *err);
