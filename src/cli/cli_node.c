// SPDX-License-Identifier: Apache-2.0
// placeholder for shoal node commands (being written).
#include "cli/cli.h"
static const struct cli_cmd *const subs[] = {NULL};
const struct cli_cmd cli_cmd_node = {
    .name = "node", .use = "COMMAND", .short_desc = "node", .subs = subs};
