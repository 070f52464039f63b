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

struct cli_client;

/* imageWithTagString: "bb" -> "bb:latest" in the spec's ContainerSpec;
 * tagged or digested references unchanged. */
void cli_service_tag_image(json_t *spec);
/* GET /distribution/<image>/json; pins the digest and platforms in spec
 * on success, returns docker's warning text (owned) on failure. */
char *cli_service_resolve_image(struct cli_client *c, json_t *spec);
/* POSTs a spec re-encoded as the docker CLI does (header: an extra
 * "X-Registry-Auth: ..." line, or NULL); the JSON reply (owned) or NULL
 * with err. */
json_t *cli_service_post(struct cli_client *c, const char *path,
                         const json_t *spec, const char *header,
                         struct err *err);
/* Prints a create/update reply's Warnings (and extra) to stderr. */
void cli_service_print_warnings(struct cli_ctx *ctx, const json_t *reply,
                                const char *extra);
/* Fills ServiceStatus for daemons that do not send it (the docker CLI's
 * AppendServiceStatus). */
int cli_service_append_status(struct cli_client *c, json_t *services,
                              struct err *err);

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
