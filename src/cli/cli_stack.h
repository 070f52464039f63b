// SPDX-License-Identifier: Apache-2.0
// `shoal stack ...`: stacks are only labels, as in the docker CLI — every
// object of stack NAME carries com.docker.stack.namespace=NAME, and the
// commands list, create, update and remove objects through the normal API
// by that label. cli_stack.c holds ls / services / ps / rm and the command
// table, cli_stack_deploy.c the deploy.
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "cli/cli.h"

#define CLI_STACK_LABEL "com.docker.stack.namespace"

/* GET <what> (a path: "/services", "/networks"...) of stack ns:
 * ?filters={"label": {"com.docker.stack.namespace=<ns>": true}} plus the
 * filters in extra (may be NULL), and status=true when asked. The JSON
 * array (owned) or NULL with err. */
json_t *cli_stack_get(struct cli_client *c, const char *what, const char *ns,
                      const json_t *extra, bool status, struct err *err);

/* `stack deploy`: its flags and action (cli_stack_deploy.c). */
#define CLI_STACK_DEPLOY_NFLAGS 6
extern const struct cli_flag cli_stack_deploy_flags[CLI_STACK_DEPLOY_NFLAGS];
int cli_stack_deploy(struct cli_ctx *ctx, struct cli_flags *fl,
                     struct err *err);
