// SPDX-License-Identifier: Apache-2.0
// Rendering shared by the service, node and stack-like commands: the
// `service ls` table, the PORTS column, and `service inspect --pretty`. Exposed
// so unit tests can check them against the docker traces without a daemon.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "cli/cli.h"

/* "*:8001->8000/tcp" from Endpoint.Ports (ingress only, ranges folded).
 * Owned. */
char *cli_service_ports(const json_t *service);
/* Prints services (a GET /services?status=true reply) as `service ls`. */
int cli_service_print_list(struct cli_ctx *ctx, json_t *services,
                           const char *format, bool quiet, struct err *err);
/* `service inspect --pretty` text for one service; net_names maps network
 * IDs to names. */
void cli_service_pretty(struct buf *b, const json_t *svc,
                        const json_t *net_names, int64_t now);
