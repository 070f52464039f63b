// SPDX-License-Identifier: Apache-2.0
// Column output like docker's tables: Go's text/tabwriter with the CLI's
// settings (minimum width 10, padding 3, spaces). Rows are added as text
// with '\t' between cells; render pads every cell but the last of a line.
#pragma once

#include <stdio.h>

#include "base/buf.h"
#include "base/vec.h"

struct cli_table {
    struct vec lines; /* char * (owned), each a '\t'-separated row */
};

void cli_table_init(struct cli_table *t);
void cli_table_fini(struct cli_table *t);
/* Adds one line (copied); embedded '\n' start new lines. */
void cli_table_add(struct cli_table *t, const char *line);
void cli_table_addf(struct cli_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends the aligned text to out. */
void cli_table_render(const struct cli_table *t, struct buf *out);
/* Renders and writes to f. */
void cli_table_print(const struct cli_table *t, FILE *f);
