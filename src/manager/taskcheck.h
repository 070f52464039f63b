// SPDX-License-Identifier: Apache-2.0
// The ContainerSpec rules about what happens around a task on its node:
// health check settings, security options (seccomp mode and custom
// profile, no-new-privileges) and the templates of hostname and env, so
// bad values are refused when the service is written, not when a node
// tries to run it. Pure.
#pragma once

#include <jansson.h>

#include "base/err.h"

/* Checks (and normalises: "HealthCheck" becomes "Healthcheck") a
 * ContainerSpec in place. 400 with swarm's words on bad input. */
int taskcheck_container(json_t *cs, struct err *err);
