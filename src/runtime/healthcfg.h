// SPDX-License-Identifier: Apache-2.0
// A container's health check as Docker defines it: the image's HEALTHCHECK
// merged with the ContainerSpec's Healthcheck field by field, Docker's
// defaults, and the API's validation rules (swarmkit's). Pure.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

/* Docker's defaults (moby daemon/health.go). */
#define HEALTH_DEFAULT_INTERVAL       (30 * 1000000000LL)
#define HEALTH_DEFAULT_TIMEOUT        (30 * 1000000000LL)
#define HEALTH_DEFAULT_START_INTERVAL (5 * 1000000000LL)
#define HEALTH_DEFAULT_RETRIES        3
#define HEALTH_MAX_LOG                5
#define HEALTH_MAX_OUTPUT             4096

struct health_config {
    char **argv; /* the probe command, NULL-terminated; NULL = no check */
    int64_t interval, timeout, start_period, start_interval; /* ns, set */
    int retries;                                             /* set */
};

/* The check of a container: the spec's fields override the image's one by
 * one (a zero field takes the image's value), then Docker's defaults;
 * Test ["NONE"] (or none at all) means no check; "CMD" runs its arguments
 * as they are, "CMD-SHELL" runs `/bin/sh -c CMD`. image_hc and spec_hc are
 * HealthConfig objects and may be NULL. 400 on a malformed Test or a
 * negative duration. */
int health_config_from(const json_t *image_hc, const json_t *spec_hc,
                       struct health_config *out, struct err *err);
void health_config_fini(struct health_config *c);
static inline bool health_config_enabled(const struct health_config *c)
{
    return c->argv != NULL;
}

/* Checks a HealthConfig as the API gets it (swarmkit's rules): durations
 * 0 or at least 1 ms, retries not negative, Test starting with NONE, CMD
 * or CMD-SHELL. 400 "Interval in HealthConfig cannot be less than 1ms". */
int health_config_validate(const json_t *hc, struct err *err);
