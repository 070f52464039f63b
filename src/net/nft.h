// SPDX-License-Identifier: Apache-2.0
// The one adapter over libnftables: runs a buffer of nft commands as one
// atomic kernel transaction and turns nft's error text into our struct err.
// Nothing else in shoal includes <nftables/libnftables.h>.
#pragma once

#include "base/err.h"

struct nftables;

/* Opens a context whose netlink socket lives in the calling thread's current
 * network namespace (a context keeps that namespace for its lifetime). Owned;
 * free with nftables_close. NULL + err on failure. */
struct nftables *nftables_open(struct err *err);
void nftables_close(struct nftables *nft);

/* Runs cmds (nft syntax, several lines) as one transaction: either every
 * command takes effect or none does. On failure err carries nft's first
 * error line and the offending input line. If out is not NULL, *out gets
 * what the commands printed (e.g. for "list table ..."; owned, free()), or
 * NULL on failure. */
int nftables_run(struct nftables *nft, const char *cmds, char **out,
                 struct err *err);

/* Convenience: open, run, close. */
int nftables_run_once(const char *cmds, char **out, struct err *err);
