// SPDX-License-Identifier: Apache-2.0
// A growable byte buffer, always NUL-terminated for convenience.
#pragma once

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps memory */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Drops the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Returns the data (owned by the caller) and resets the buffer. */
char *buf_steal(struct buf *b);

static inline void cleanup_buf(struct buf *b)
{
    buf_fini(b);
}
#define _cleanup_buf_ __attribute__((cleanup(cleanup_buf)))
