// SPDX-License-Identifier: Apache-2.0
// Runs one container's health check on the loop: a timer per probe
// interval, each probe executed in the container through the runtime
// (ctr_exec_start), results fed to the health state machine (health.c) and
// published to the runtime (so inspect and ps show them); the agent hears
// of every status change.
#pragma once

#include <uv.h>

#include "agent/health.h"
#include "runtime/container.h"

struct prober;

/* Called on the loop when the status changes (healthy, unhealthy). */
typedef void (*prober_change_fn)(void *data, enum task_health h);

/* Starts probing container ctr (running since started_at, ns) with cfg
 * (taken over; must be enabled). initial is TASK_HEALTH_STARTING for a
 * container that just started, or the status it had before a restart of
 * shoald. Owned; stop with prober_stop. */
struct prober *prober_start(uv_loop_t *loop, struct runtime *rt,
                            const char *ctr, struct health_config *cfg,
                            int64_t started_at, enum task_health initial,
                            prober_change_fn cb, void *data);
/* Stops (a probe in flight is killed); no callback runs afterwards. Frees
 * once its handles are closed. NULL is fine. */
void prober_stop(struct prober *p);
