// SPDX-License-Identifier: Apache-2.0
// The node's network plane: it keeps the kernel in step with the cluster's
// networks as far as this node is concerned — the overlay networks its
// tasks use (and ingress, always), each task's veth and address, the
// load-balancing table (VIPs, routing mesh, masquerade) and the embedded
// DNS server's view — all derived from the store. It reads the store and
// drives net/; net/ never sees a task.
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/err.h"
#include "store/store.h"

struct netplane;

struct netplane_config {
    uv_loop_t *loop;
    struct store *store;
    const char *node_id;
    uint16_t dns_port; /* 0 = 53 */
};

/* Prepares the node (sysctls, nftables handle, DNS server) and starts
 * following the store. Leaves whatever the previous shoald set up in
 * place until the first sync replaces it. */
struct netplane *netplane_new(const struct netplane_config *cfg,
                              struct err *err);
/* Stops following the store; the kernel state stays (a restarted shoald
 * takes it over without cutting running tasks off). */
void netplane_free(struct netplane *np);
/* Removes everything this node set up (swarm leave): the table, the
 * networks, what is left of veths. */
void netplane_teardown(struct netplane *np);

/* Connects a task's network namespace to its networks (creating the
 * networks on this node if needed). Its first non-ingress network is eth0
 * and carries the default route. */
int netplane_attach(struct netplane *np, const struct task *t,
                    const char *netns_path, struct err *err);
/* Disconnects a task (fine if it was not connected). */
void netplane_detach(struct netplane *np, const char *task_id);

/* resolv.conf and hosts for a task's container (owned), or NULL for the
 * runtime's defaults (a task on no network). */
char *netplane_resolv_conf(struct netplane *np, const struct task *t);
char *netplane_hosts(struct netplane *np, const struct task *t,
                     const char *hostname);

/* Brings the load balancer and DNS in step with the store now (they are
 * otherwise updated on the next loop turn after a change). Called before a
 * task is stopped so it leaves both first. */
void netplane_sync(struct netplane *np);
