// SPDX-License-Identifier: Apache-2.0
// Host-mode published ports of a task on this node (Docker's
// Status.PortStatus): its service's host-mode ports, each published port
// as given, or, when none is given, one chosen here from Docker's dynamic
// range that no other task of the node, no ingress port and nothing on the
// node holds. Pure over the store; the check of the node's own sockets is
// the caller's.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Docker's default range for ports it picks (libnetwork's portallocator). */
#define HOSTPORTS_FIRST 49153
#define HOSTPORTS_LAST  65535

/* Is (proto, port) free on the node for a new binding? NULL = assume so. */
typedef bool (*hostports_free_fn)(void *data, const char *proto, uint16_t port);

/* The PortConfig array ({Protocol, TargetPort, PublishedPort, PublishMode:
 * "host"}) of task t on node node_id, in its service's order; NULL if the
 * service publishes no host-mode port. A port t already reported keeps its
 * number. NULL too (with *exhausted) if no free port is left. Owned. */
json_t *hostports_for_task(const struct store *s, const char *node_id,
                           const struct task *t, hostports_free_fn is_free,
                           void *data, bool *exhausted);
