// SPDX-License-Identifier: Apache-2.0
// The one adapter over libnl (route netlink): the rest of shoal asks for
// link operations by name and gets our errors back, never libnl types. A
// handle is bound to the network namespace that was current when it was
// opened, which is how callers operate inside a container's namespace.
#pragma once

#include "base/err.h"

struct netlink;

/* Opens a route-netlink socket in the calling thread's current network
 * namespace. Owned; free with netlink_close. NULL + err on failure. */
struct netlink *netlink_open(struct err *err);
void netlink_close(struct netlink *nl);

/* Sets the link called name administratively up (IFF_UP); 404 if there is
 * no such link. */
int netlink_link_set_up(struct netlink *nl, const char *name, struct err *err);

/* Convenience: opens, sets name up, closes (e.g. "lo" in a fresh netns). */
int netlink_link_up_once(const char *name, struct err *err);
