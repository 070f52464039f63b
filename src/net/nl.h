// SPDX-License-Identifier: Apache-2.0
// The one adapter over libnl (route netlink): the rest of shoal asks for
// links, addresses, routes and neighbour/FDB entries by name and gets plain
// structs and our errors back, never libnl types. A handle is bound to the
// network namespace it was opened in, which is how callers work inside a
// container's namespace without moving their thread.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

struct netlink;

/* Sizes of the text fields below (with the NUL). */
#define NETLINK_NAME_LEN 16 /* IFNAMSIZ */
#define NETLINK_MAC_LEN  18 /* "aa:bb:cc:dd:ee:ff" */
#define NETLINK_IP_LEN   16 /* "255.255.255.255" */
#define NETLINK_CIDR_LEN 19 /* "255.255.255.255/32" */

/* Opens a route-netlink socket in the calling thread's current network
 * namespace. Owned; free with netlink_close. NULL + err on failure.
 * Handles are not shared between threads: open one per call or thread. */
struct netlink *netlink_open(struct err *err);
/* Opens a socket bound to the namespace at netns_path (a bind-mounted
 * namespace file or /proc/PID/ns/net). The calling thread enters the
 * namespace only for the socket() call and is back before this returns
 * (it aborts if it cannot get back: a thread left in a container's
 * namespace would poison all later work). Owned, like netlink_open. */
struct netlink *netlink_open_in(const char *netns_path, struct err *err);
void netlink_close(struct netlink *nl);

/* Sets the link called name administratively up (IFF_UP); 404 if there is
 * no such link. */
int netlink_link_set_up(struct netlink *nl, const char *name, struct err *err);

/* Convenience: opens, sets name up, closes (e.g. "lo" in a fresh netns). */
int netlink_link_up_once(const char *name, struct err *err);

/* ---- Links ---- */

/* What the kernel reports about one link (IPv4-only view). */
struct netlink_link {
    char name[NETLINK_NAME_LEN];
    char kind[16]; /* "bridge", "vxlan", "veth", ...; "" for none */
    int ifindex;
    int master; /* ifindex of the bridge it is enslaved to, or 0 */
    int peer;   /* IFLA_LINK: a veth's peer ifindex (possibly in another
                   namespace), or 0 */
    unsigned mtu;
    bool up;      /* IFF_UP (administrative) */
    bool running; /* IFF_RUNNING (carrier) */
    char mac[NETLINK_MAC_LEN];
    /* kind "vxlan" only */
    uint32_t vxlan_vni;
    uint16_t vxlan_port;              /* destination UDP port */
    char vxlan_local[NETLINK_IP_LEN]; /* "" when unset */
    bool vxlan_learning, vxlan_proxy;
};

/* Fills out for the link called name; 404 if there is none. */
int netlink_link_get(struct netlink *nl, const char *name,
                     struct netlink_link *out, struct err *err);

typedef void (*netlink_link_cb)(const struct netlink_link *link, void *arg);
/* Calls cb for every link of the handle's namespace. */
int netlink_link_list(struct netlink *nl, netlink_link_cb cb, void *arg,
                      struct err *err);

/* Deletes the link called name (a veth takes its peer along); 404 if there
 * is none. */
int netlink_link_del(struct netlink *nl, const char *name, struct err *err);
/* Enslaves name to the bridge called master. */
/* Bridge port flag hairpin: frames may leave by the port they came in on
 * (a task reaching itself through a load-balanced address). */
int netlink_bridge_port_set_hairpin(struct netlink *nl, const char *name,
                                    struct err *err);
int netlink_link_set_master(struct netlink *nl, const char *name,
                            const char *master, struct err *err);
int netlink_link_set_mtu(struct netlink *nl, const char *name, unsigned mtu,
                         struct err *err);

/* Creates a Linux bridge (down). mtu 0 = kernel default; mac NULL = the
 * kernel's random address (which then follows its ports: give one to keep
 * it stable). 409 if a link of that name exists. */
int netlink_bridge_add(struct netlink *nl, const char *name, unsigned mtu,
                       const char *mac, struct err *err);

struct netlink_vxlan_opts {
    uint32_t vni;
    uint16_t port;      /* destination UDP port (also the bound port) */
    const char *local;  /* source address, or NULL to let routing pick */
    bool learning;      /* learn remote MACs from received traffic */
    bool proxy;         /* answer ARP from the device's neighbour table */
    unsigned mtu;       /* 0 = kernel default */
    const char *master; /* bridge to enslave to at creation, or NULL */
};
/* Creates a VXLAN device (down, no multicast group, no default remote).
 * 409 if the name, or the VNI on that port, is already taken. */
int netlink_vxlan_add(struct netlink *nl, const char *name,
                      const struct netlink_vxlan_opts *opts, struct err *err);

struct netlink_veth_opts {
    const char *name;      /* end created in the handle's namespace */
    const char *master;    /* bridge for that end, or NULL */
    unsigned mtu;          /* both ends; 0 = kernel default */
    const char *peer_name; /* the other end's name in its namespace */
    const char *peer_mac;  /* or NULL for a random one */
    int peer_netns_fd;     /* namespace for the other end, -1 = here */
};
/* Creates a veth pair, both ends down; the peer is created directly in
 * its target namespace under its final name. */
int netlink_veth_add(struct netlink *nl, const struct netlink_veth_opts *opts,
                     struct err *err);

/* ---- IPv4 addresses ---- */

/* cidr is "10.0.1.2/24". 409 if the address is already on the link. */
int netlink_addr_add(struct netlink *nl, const char *ifname, const char *cidr,
                     struct err *err);
int netlink_addr_del(struct netlink *nl, const char *ifname, const char *cidr,
                     struct err *err);
typedef void (*netlink_addr_cb)(const char *cidr, void *arg);
/* Calls cb with each IPv4 address ("a.b.c.d/len") of ifname. */
int netlink_addr_list(struct netlink *nl, const char *ifname,
                      netlink_addr_cb cb, void *arg, struct err *err);

/* ---- IPv4 routes (main table) ---- */

/* Adds or replaces the route to dst ("0.0.0.0/0" for the default route)
 * via gateway (NULL = directly connected) out of ifname. */
int netlink_route_replace(struct netlink *nl, const char *dst,
                          const char *gateway, const char *ifname,
                          struct err *err);
struct netlink_route {
    char dst[NETLINK_CIDR_LEN];   /* "0.0.0.0/0" for the default route */
    char gateway[NETLINK_IP_LEN]; /* "" if none */
    int oif;                      /* output ifindex, 0 if none */
};
typedef void (*netlink_route_cb)(const struct netlink_route *route, void *arg);
int netlink_route_list(struct netlink *nl, netlink_route_cb cb, void *arg,
                       struct err *err);

/* ---- Forwarding database of a VXLAN device (NTF_SELF entries) ---- */

/* Adds a permanent entry mac -> remote VTEP dst on ifname. append: add dst
 * as one more destination of mac (the all-zero MAC with several remotes
 * replicates broadcast and unknown traffic to each); otherwise dst replaces
 * the entry's destinations. Adding an existing entry is not an error. */
int netlink_fdb_add(struct netlink *nl, const char *ifname, const char *mac,
                    const char *dst, bool append, struct err *err);
/* Removes destination dst of mac (the whole entry with its last one);
 * 404 if there is no such entry. */
int netlink_fdb_del(struct netlink *nl, const char *ifname, const char *mac,
                    const char *dst, struct err *err);
struct netlink_fdb {
    char mac[NETLINK_MAC_LEN];
    char dst[NETLINK_IP_LEN]; /* remote VTEP, "" for local entries */
};
typedef void (*netlink_fdb_cb)(const struct netlink_fdb *entry, void *arg);
/* One call per (mac, destination) pair of ifname's own FDB. */
int netlink_fdb_list(struct netlink *nl, const char *ifname, netlink_fdb_cb cb,
                     void *arg, struct err *err);

/* ---- IPv4 neighbours (ARP entries) ---- */

/* Adds or replaces a permanent ip -> mac entry on ifname. */
int netlink_neigh_replace(struct netlink *nl, const char *ifname,
                          const char *ip, const char *mac, struct err *err);
/* 404 if there is no such entry. */
int netlink_neigh_del(struct netlink *nl, const char *ifname, const char *ip,
                      struct err *err);
struct netlink_neigh {
    char ip[NETLINK_IP_LEN];
    char mac[NETLINK_MAC_LEN]; /* "" while unresolved */
    bool permanent;
};
typedef void (*netlink_neigh_cb)(const struct netlink_neigh *n, void *arg);
int netlink_neigh_list(struct netlink *nl, const char *ifname,
                       netlink_neigh_cb cb, void *arg, struct err *err);
