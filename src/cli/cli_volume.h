// SPDX-License-Identifier: Apache-2.0
// `shoal volume`: the parts worth testing without a daemon: the
// POST /volumes/create body built from the create flags, and the
// `volume ls` output.
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/cli.h"

/* The CreateOptions body docker's client sends for `volume create` with
 * flags fl (parsed with that command's table) and the positional name
 * (NULL if none): Driver, DriverOpts, Labels, Name, empty ones left out.
 * Appends compact JSON to out; -1 with docker's message when both --name
 * and a positional name are given. */
int cli_volume_create_body(const struct cli_flags *fl, const char *name,
                           struct buf *out, struct err *err);

/* Prints volumes (the "Volumes" array of a GET /volumes reply, borrowed)
 * as `volume ls` does: sorted by name, format NULL/"" for the default
 * table (DRIVER, VOLUME NAME); quiet prints names. */
int cli_volume_print_list(struct cli_ctx *ctx, const json_t *volumes,
                          const char *format, bool quiet, struct err *err);
