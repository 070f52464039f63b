// SPDX-License-Identifier: Apache-2.0
// placeholder for shoal swarm commands (being written).
#include "cli/cli.h"
static const struct cli_cmd *const subs[] = {NULL};
const struct cli_cmd cli_cmd_swarm = {
    .name = "swarm", .use = "COMMAND", .short_desc = "swarm", .subs = subs};
