// SPDX-License-Identifier: Apache-2.0
// What the node's data plane needs to know about the cluster's networks,
// derived from the store in one pass: for every address, whose it is (a
// task or a service's VIP); for every network, the names on it (services,
// their aliases, tasks.<service>, task names) and the running tasks behind
// each. Both the DNS answers and the load balancer read it, so they agree
// on which tasks receive traffic: running ones whose desired state is still
// running (a task being stopped leaves both before it is killed).
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/hmap.h"
#include "base/vec.h"
#include "store/store.h"

/* A name on one network. */
struct nv_name {
    char *key;          /* "<network id>/<name>" (owned; the map key) */
    struct in_addr vip; /* 0.0.0.0 when none (dnsrr, or a task name) */
    bool dnsrr;
    struct vec addrs;              /* struct in_addr * (owned): running tasks */
    const struct service *service; /* for SRV; NULL for task names */
};

/* Who an address belongs to. */
struct nv_addr {
    char key[16]; /* dotted quad (the map key) */
    struct in_addr addr;
    const struct network *network;
    const struct task *task; /* NULL for a VIP */
    const struct service *service;
};

struct netview {
    struct hmap names; /* "<net id>/<name>" -> struct nv_name */
    struct hmap addrs; /* "10.0.1.5" -> struct nv_addr */
    struct hmap known; /* "<name>" -> (void *)1: a cluster name anywhere */
    struct vec owned;  /* allocations to free (nv_addr, keys) */
};

void netview_init(struct netview *v);
void netview_fini(struct netview *v);
/* Rebuilds everything from the store. */
void netview_build(struct netview *v, const struct store *s);

/* Is the task one that should receive traffic? */
bool netview_task_serves(const struct task *t);
/* The task's address on network net_id, or false. */
bool netview_task_addr(const struct task *t, const char *net_id,
                       struct in_addr *out, int *prefix);

const struct nv_addr *netview_addr(const struct netview *v,
                                   struct in_addr addr);
const struct nv_name *netview_name(const struct netview *v, const char *net_id,
                                   const char *name);
bool netview_name_known(const struct netview *v, const char *name);
