// SPDX-License-Identifier: Apache-2.0
// The network allocator (leader only): subnets and VXLAN ids for networks,
// virtual IPs and published ports for services, addresses for tasks. Its
// state is in memory, rebuilt from the store whenever this manager becomes
// the leader, and kept in step with the store's change feed; every
// decision is recorded in the store (network allocations, service
// endpoints, task attachments), so nothing is lost when the leader goes.
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/err.h"
#include "base/hmap.h"
#include "manager/ipam.h"
#include "store/store.h"

#define INGRESS_VNI        4096
#define DYNAMIC_PORT_FIRST 30000
#define DYNAMIC_PORT_LAST  32767

struct allocator {
    struct ipam_pool pool;
    struct hmap nets;     /* network id -> struct net_alloc */
    struct hmap services; /* service id -> struct service_alloc */
    struct hmap ports;    /* "tcp/8000" -> struct port_alloc */
    struct hmap tasks;    /* task id -> struct task_alloc */
};

void allocator_init(struct allocator *a);
void allocator_fini(struct allocator *a);
/* Forgets everything and rebuilds from the store's committed state. */
void allocator_rebuild(struct allocator *a, const struct store *s);
/* Keeps the state in step with committed changes (store watch). */
void allocator_on_event(struct allocator *a, const struct store *s,
                        const struct store_event *ev);

/* Networks. Fills n's allocation (subnet and gateway from the spec's
 * IPAMOptions.Configs or from the pool, a VXLAN id) and reserves it; 409
 * for an overlapping subnet. allocator_network_unreserve undoes it when
 * the create is not committed. */
int allocator_network(struct allocator *a, const struct store *s,
                      struct network *n, struct err *err);
void allocator_network_unreserve(struct allocator *a, const struct network *n);

/* Services: the Endpoint (ports with their published ports, one VIP per
 * network unless the endpoint mode is dnsrr) for spec, reusing what the
 * service already has. Returns
 * a new Endpoint object, or NULL with Docker's error (port in use, no
 * more dynamic ports...). What it reserved is released by
 * allocator_endpoint_unreserve if the change is not committed.
 * service_id is the id the service has, or will have when created. */
json_t *allocator_endpoint(struct allocator *a, const struct store *s,
                           const char *service_id, const json_t *spec,
                           struct err *err);
void allocator_endpoint_unreserve(struct allocator *a, const struct store *s,
                                  const char *service_id,
                                  const json_t *endpoint);

/* Tasks: NetworksAttachments for a new task of its service (an address in
 * every network the service is on, plus ingress when it publishes ingress
 * ports). New array, or NULL with an error when a network is full. */
json_t *allocator_task(struct allocator *a, const struct store *s,
                       const struct task *t, struct err *err);

/* The networks a service's tasks attach to, as network ids in order
 * (ingress first when needed). Owned array of strings. */
json_t *allocator_service_networks(const struct store *s,
                                   const struct service *svc);
