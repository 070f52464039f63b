// SPDX-License-Identifier: Apache-2.0
// The task table of `service ps`, `node ps` and `stack ps`, cached ID ->
// name lookups (node hostname, service name) and node.Reference ("self").
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "cli/cli.h"

/* Cached ID -> name lookups, as the docker CLI's idresolver. */
struct cli_resolver {
    struct cli_client *c; /* NULL: no lookups, IDs shown */
    bool no_resolve;
    json_t *cache; /* "node/<id>" or "service/<id>" -> name */
};
/* The name of a node (hostname) or service by ID, looked up once through
 * r->c and cached; the ID itself if the lookup fails. */
const char *cli_resolve_name(struct cli_resolver *r, const char *kind,
                             const char *id);

/* Prints tasks as `service ps` does; service and node names come from
 * names ("service/<id>" and "node/<id>" keys, may be NULL) or are looked up
 * through c (cached; IDs are shown if a lookup fails or c is NULL). */
int cli_task_print(struct cli_ctx *ctx, struct cli_client *c,
                   const json_t *names, json_t *tasks, bool trunc,
                   bool no_resolve, bool quiet, const char *format,
                   struct err *err);

/* node.Reference: "self" becomes this node's ID (GET /info); anything else
 * is returned as is. Owned result; NULL with err. */
char *cli_node_reference(struct cli_client *c, const char *ref,
                         struct err *err);
