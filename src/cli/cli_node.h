// SPDX-License-Identifier: Apache-2.0
// Node rendering and lookups shared with other commands and the tests:
// the `node ls` table and `node inspect --pretty`.
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/buf.h"
#include "cli/cli.h"

/* Prints nodes as `node ls` does, marking self_id (may be NULL) with "*". */
int cli_node_print_list(struct cli_ctx *ctx, const json_t *nodes,
                        const char *self_id, const char *format, bool quiet,
                        struct err *err);
/* Field getter for node records (exposed for tests). */
char *cli_node_field(const char *field, void *rec);
/* `node inspect --pretty` text for one node. */
void cli_node_pretty(struct buf *b, const json_t *node);
