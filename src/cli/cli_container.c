// SPDX-License-Identifier: Apache-2.0
// placeholder for shoal container commands (being written).
#include "cli/cli.h"
static const struct cli_cmd *const subs[] = {NULL};
const struct cli_cmd cli_cmd_container = {.name = "container",
                                          .use = "COMMAND",
                                          .short_desc = "container",
                                          .subs = subs};
const struct cli_cmd cli_cmd_ps = {
    .name = "ps", .short_desc = "x", .subs = subs};
const struct cli_cmd cli_cmd_kill = {
    .name = "kill", .short_desc = "x", .subs = subs};
const struct cli_cmd cli_cmd_logs = {
    .name = "logs", .short_desc = "x", .subs = subs};
const struct cli_cmd cli_cmd_inspect = {
    .name = "inspect", .short_desc = "x", .subs = subs};
