// SPDX-License-Identifier: Apache-2.0
// What this node's VXLAN devices must know about the other nodes, derived
// from the store (pure): per overlay network present here, the other nodes
// that have it (flood peers) and the endpoints behind them (each remote
// task's address and MAC; on ingress also each node's routing-mesh
// address), and this node's own data-plane parameters.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/hmap.h"
#include "store/store.h"

/* Routing-mesh source addresses. Every node's bridge of a network carries
 * the same gateway address, so a node that sends mesh traffic to a task on
 * another node needs an address of its own for the reply to find it: its
 * "mesh address", 169.254.C.D for the underlay address A.B.C.D, held as a
 * /32 on its ingress bridge, whose MAC is derived from it (02:42:a9:fe:C:D)
 * so that other nodes can put it in their neighbour tables. Tasks on
 * ingress route this prefix on-link over their ingress interface. Nodes
 * whose underlay addresses share the last two bytes collide (the later
 * one is not reachable for mesh replies). */
#define NETPEERS_MESH_ROUTE  "169.254.0.0/16"
#define NETPEERS_MESH_NET    "169.254.0.0"
#define NETPEERS_MESH_PREFIX 16

/* One endpoint on another node (the map key is ip). */
struct netpeer_ep {
    char ip[16];
    char mac[18];
    char vtep[16]; /* the node's underlay address */
};

/* One network's entries (wanted, or applied to the kernel). */
struct netpeers {
    struct hmap vteps; /* "10.99.0.2" -> owned char[16] holding its key */
    struct hmap eps;   /* "10.0.1.7" -> owned struct netpeer_ep */
};

void netpeers_init(struct netpeers *p);
/* Frees every entry and leaves p empty (initialised). */
void netpeers_fini(struct netpeers *p);
void netpeers_add_vtep(struct netpeers *p, const char *vtep);
void netpeers_del_vtep(struct netpeers *p, const char *vtep);
/* Adds or replaces the endpoint of ip. */
void netpeers_add_ep(struct netpeers *p, const char *ip, const char *mac,
                     const char *vtep);
void netpeers_del_ep(struct netpeers *p, const char *ip);

/* This node's data-plane parameters. */
struct netpeers_self {
    char addr[16]; /* underlay (advertise) address; "" when unknown */
    char mesh[16]; /* mesh address; "" when unknown or alone (a single
                      node keeps masquerading to the ingress gateway) */
    char mac[18];  /* MAC of the ingress bridge; "" when unknown */
    uint16_t port; /* VXLAN UDP port (the cluster's DataPathPort) */
};
void netpeers_self(const struct store *s, const char *node_id,
                   struct netpeers_self *out);
bool netpeers_self_equal(const struct netpeers_self *a,
                         const struct netpeers_self *b);

/* "10.99.0.2" -> "169.254.0.2"; false if node_addr is no IPv4 address. */
bool netpeers_mesh_addr(const char *node_addr, char out[16]);

/* Does a task (in this state) hold its addresses on its node: assigned
 * there and not finished? */
bool netpeers_task_is_endpoint(const struct task *t);
bool netpeers_state_is_endpoint(enum task_state state);

/* Fills the struct netpeers values of nets (network id -> struct netpeers
 * *, borrowed, expected empty) with what the VXLAN device of each network
 * must know, for node self_id: other nodes not down with an IPv4 address
 * that run a task on the network (all of them for ingress) are peers;
 * their tasks' addresses on it (and for ingress their mesh addresses)
 * are endpoints. */
void netpeers_build(const struct store *s, const char *self_id,
                    struct hmap *nets);
