// SPDX-License-Identifier: Apache-2.0
// `shoal network`: the parts worth testing without a daemon: the
// POST /networks/create body built from the create flags, the `network ls`
// output, and `network rm` / `network prune` run against a small interface
// that the command implements with API calls and the tests with fakes.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/cli.h"

/* The NetworkCreate request body docker's client sends for the `network
 * create` flags in fl (parsed with that command's flag table) and name:
 * Go's field order, map keys sorted, CheckDuplicate only when api_version
 * is below 1.44. Appends compact JSON to out; -1 with docker's message when
 * the IPAM flags do not fit together (gateway outside every subnet, ...). */
int cli_network_create_body(const struct cli_flags *fl, const char *name,
                            const char *api_version, struct buf *out,
                            struct err *err);

/* Prints networks (a GET /networks reply, borrowed) as `network ls` does:
 * sorted by name, format NULL/"" for the default table; quiet prints IDs
 * unless a format other than "table" is given; trunc cuts IDs to 12. */
int cli_network_print_list(struct cli_ctx *ctx, const json_t *networks,
                           const char *format, bool quiet, bool trunc,
                           struct err *err);

/* What rm and prune need from the daemon. Errors carry the HTTP status as
 * their code and the text the CLI prints. */
struct cli_network_ops {
    /* GET /networks/NAME: the network (owned), or NULL with err. */
    json_t *(*inspect)(void *ud, const char *name, struct err *err);
    /* DELETE /networks/NAME. */
    int (*remove)(void *ud, const char *name, struct err *err);
    /* GET /networks (filters: JSON or NULL): the list (owned). */
    json_t *(*list)(void *ud, const char *filters, struct err *err);
    /* POST /networks/prune (filters: JSON or NULL): the report (owned). */
    json_t *(*prune)(void *ud, const char *filters, struct err *err);
    /* Prints msg and " [y/N] ", reads an answer; true for yes. */
    bool (*confirm)(void *ud, const char *msg);
};

/* `network rm NAME...`: for each name, inspect it (asking first if it is
 * the ingress network), then DELETE it by the name given; prints removed
 * names on ctx->out and errors on ctx->err, going on after a failure.
 * With force, "not found" is not an error. Returns the exit status. */
int cli_network_rm(struct cli_ctx *ctx, char *const *names, size_t n,
                   bool force, const struct cli_network_ops *ops, void *ud);

/* `network prune` after the confirmation: POST /networks/prune, or, when
 * the daemon has no such endpoint (404), the same by hand: every network
 * but ingress is deleted unless the daemon refuses because it is in use.
 * Prints "Deleted Networks:" and the names. 0, or -1 with err. */
int cli_network_prune(struct cli_ctx *ctx, const char *filters,
                      const struct cli_network_ops *ops, void *ud,
                      struct err *err);

/* opts.ValidateLabel for --label flags (networks, volumes): 'invalid label
 * 'x': empty name', 'label 'x' contains whitespaces'. */
int cli_network_check_label(const char *value, struct err *err);
