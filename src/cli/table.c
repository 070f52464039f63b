// SPDX-License-Identifier: Apache-2.0
// Go text/tabwriter semantics for docker-style tables: a cell is the text
// before a tab; a column block is a run of consecutive lines that have a
// cell in that column; its width is the widest cell plus the padding, at
// least the minimum width. Text after a line's last tab is not aligned.
#include "cli/table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

enum { TABLE_MINWIDTH = 10, TABLE_PADDING = 3 };

void cli_table_init(struct cli_table *t)
{
    vec_init(&t->lines);
}

void cli_table_fini(struct cli_table *t)
{
    for (size_t i = 0; i < t->lines.len; i++)
        free(t->lines.items[i]);
    vec_fini(&t->lines);
}

void cli_table_add(struct cli_table *t, const char *line)
{
    const char *p = line;
    for (;;) {
        const char *nl = strchr(p, '\n');
        if (!nl) {
            vec_push(&t->lines, xstrdup(p));
            return;
        }
        vec_push(&t->lines, xstrndup(p, (size_t)(nl - p)));
        p = nl + 1;
        if (!*p)
            return;
    }
}

void cli_table_addf(struct cli_table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    cli_table_add(t, s);
    free(s);
}

/* Width in characters (UTF-8 code points), as tabwriter counts. */
static size_t text_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            w++;
    }
    return w;
}

struct cell {
    const char *text;
    size_t len;
    size_t width;
};

struct row {
    struct cell *cells;
    size_t n; /* cells, the last one unterminated */
};

/* Formats columns [col..] of lines [line0, line1) recursively, like
 * tabwriter.format: each block of lines that share column col gets one
 * width. widths[col] holds the width for the current block. */
static void format_block(struct row *rows, size_t line0, size_t line1,
                         size_t col, size_t *widths)
{
    size_t i = line0;
    while (i < line1) {
        if (col >= rows[i].n - 1) {
            i++;
            continue;
        }
        /* Column block begins at i. */
        size_t width = TABLE_MINWIDTH;
        size_t j = i;
        for (; j < line1 && col < rows[j].n - 1; j++) {
            size_t w = rows[j].cells[col].width + TABLE_PADDING;
            if (w > width)
                width = w;
        }
        for (size_t k = i; k < j; k++)
            widths[k * 64 + col] = width;
        format_block(rows, i, j, col + 1, widths);
        i = j;
    }
}

void cli_table_render(const struct cli_table *t, struct buf *out)
{
    size_t n = t->lines.len;
    if (n == 0)
        return;
    struct row *rows = xcalloc(n, sizeof(*rows));
    for (size_t i = 0; i < n; i++) {
        const char *line = t->lines.items[i];
        size_t cells = 1;
        for (const char *p = line; *p; p++)
            cells += *p == '\t';
        if (cells > 64)
            cells = 64;
        rows[i].cells = xcalloc(cells, sizeof(struct cell));
        rows[i].n = cells;
        const char *p = line;
        for (size_t c = 0; c < cells; c++) {
            const char *tab = c + 1 < cells ? strchr(p, '\t') : NULL;
            size_t len = tab ? (size_t)(tab - p) : strlen(p);
            rows[i].cells[c] = (struct cell){p, len, text_width(p, len)};
            p = tab ? tab + 1 : p + len;
        }
    }
    size_t *widths = xcalloc(n * 64, sizeof(size_t));
    format_block(rows, 0, n, 0, widths);
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < rows[i].n; c++) {
            const struct cell *cl = &rows[i].cells[c];
            buf_append(out, cl->text, cl->len);
            if (c + 1 < rows[i].n) {
                size_t w = widths[i * 64 + c];
                for (size_t k = cl->width; k < w; k++)
                    buf_putc(out, ' ');
            }
        }
        buf_putc(out, '\n');
        free(rows[i].cells);
    }
    free(widths);
    free(rows);
}

void cli_table_print(const struct cli_table *t, FILE *f)
{
    struct buf b;
    buf_init(&b);
    cli_table_render(t, &b);
    if (b.len)
        fwrite(b.data, 1, b.len, f);
    buf_fini(&b);
}
