// SPDX-License-Identifier: Apache-2.0
// Container health checks, the pure state machine that turns probe results
// into Docker's health status (starting / healthy / unhealthy, failing
// streak, the last five probes), honouring the start period. No clock, no
// I/O: the prober (prober.c) feeds it results and asks it when to probe
// next; the check itself comes from runtime/healthcfg.h.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "runtime/healthcfg.h"
#include "store/objects.h"

struct health_probe {
    int64_t start_ns, end_ns;
    int exit_code; /* 0 healthy; anything else is a failure */
    char output[HEALTH_MAX_OUTPUT + 1];
};

struct health_state {
    enum task_health status;
    int failing_streak;
    int64_t started_at; /* the container's start, ns */
    struct health_probe log[HEALTH_MAX_LOG];
    size_t n_log;
};

/* A container that just started: "starting", no probes yet. */
void health_state_init(struct health_state *h, int64_t started_at);

/* Records one probe result (Docker's handleProbeResult): success resets
 * the streak and makes the container healthy; a failure counts towards
 * the streak unless the container is still starting within its start
 * period, and retries failures in a row make it unhealthy. Output is cut
 * to HEALTH_MAX_OUTPUT. Returns true if the status changed. */
bool health_record(struct health_state *h, const struct health_config *c,
                   int64_t start_ns, int64_t end_ns, int exit_code,
                   const char *output);

/* The result of a probe that ran out of time (exit code -1, Docker's
 * "Health check exceeded timeout (30s)"). */
bool health_record_timeout(struct health_state *h,
                           const struct health_config *c, int64_t start_ns,
                           int64_t end_ns);

/* How long to wait before the next probe, at time now: the start interval
 * while the container is starting within its start period, else the
 * interval. */
int64_t health_next_delay(const struct health_state *h,
                          const struct health_config *c, int64_t now);

/* Docker's State.Health: {"Status", "FailingStreak", "Log": [{"Start",
 * "End", "ExitCode", "Output"}]}. Owned. */
json_t *health_state_json(const struct health_state *h);
