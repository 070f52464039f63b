// SPDX-License-Identifier: Apache-2.0
// Promotion and demotion in place, as the node concerned lives them (see
// swarm_role.c). Called by swarm.c after each applied entry; the new role
// is started through d->hooks->start_role.
#pragma once

#include "daemon/daemon.h"

/* Checks whether this node's role in the cluster state differs from what
 * it runs, and if so switches. */
void swarm_role_check(struct daemon *d);
