// SPDX-License-Identifier: Apache-2.0
// `shoal system df`: the node's disk usage (GET /system/df) summarised as
// docker prints it (TYPE TOTAL ACTIVE SIZE RECLAIMABLE).
#pragma once

#include <jansson.h>

#include "base/buf.h"
#include "cli/cli.h"

/* The summary table of a DiskUsage object, as `docker system df`. Pure. */
void cli_df_summary(const json_t *du, struct buf *out);

extern const struct cli_cmd cli_cmd_system_df;
