// SPDX-License-Identifier: Apache-2.0
// The Docker Engine API routes shoald serves, one file per resource
// (system, swarm, nodes, services, tasks, images, containers), all
// registered on the daemon's HTTP server here.
#pragma once

#include "daemon/daemon.h"

/* Registers every route on d->api; spool_dir receives large uploads. */
void api_register(struct daemon *d, const char *spool_dir);
