// SPDX-License-Identifier: Apache-2.0
// placeholder for shoal image commands (being written).
#include "cli/cli.h"
static const struct cli_cmd *const subs[] = {NULL};
const struct cli_cmd cli_cmd_image = {
    .name = "image", .use = "COMMAND", .short_desc = "image", .subs = subs};
const struct cli_cmd cli_cmd_images = {
    .name = "images", .short_desc = "x", .subs = subs};
const struct cli_cmd cli_cmd_load = {
    .name = "load", .short_desc = "x", .subs = subs};
const struct cli_cmd cli_cmd_import = {
    .name = "import", .short_desc = "x", .subs = subs};
const struct cli_cmd cli_cmd_rmi = {
    .name = "rmi", .short_desc = "x", .subs = subs};
