// SPDX-License-Identifier: Apache-2.0
// Connection tracking entries, through libnl's netfilter module (the only
// file that includes it): forgetting the connections that were sent to a
// load-balancer backend which is gone, so a client retrying from the same
// address and port is balanced afresh instead of pinned to a dead task.
#pragma once

#include <netinet/in.h>
#include <stddef.h>

#include "base/err.h"

/* Deletes every IPv4 conntrack entry (of the calling thread's network
 * namespace) whose reply comes from one of addrs, i.e. connections NATed
 * to those addresses. Returns how many were deleted, or -1. */
int conntrack_forget(const struct in_addr *addrs, size_t n, struct err *err);
