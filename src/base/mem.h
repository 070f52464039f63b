// SPDX-License-Identifier: Apache-2.0
// Allocation wrappers that abort on out-of-memory, and the cleanup helpers
// (__attribute__((cleanup))) used for locals throughout shoal.
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* All return owned memory; none returns NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/* Route libuv's and jansson's allocations through the aborting wrappers. */
void mem_install_allocators(void);

/* Cleanup helpers: each is safe on NULL / -1. */
static inline void cleanup_freep(void *p)
{
    free(*(void **)p);
}
static inline void cleanup_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
static inline void cleanup_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

#define _cleanup_free_   __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_  __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))

/* Move ownership out of a cleanup-managed local. */
#define steal_ptr(p)                                                           \
    ({                                                                         \
        typeof(p) steal_tmp_ = (p);                                            \
        (p) = NULL;                                                            \
        steal_tmp_;                                                            \
    })
#define steal_fd(fd)                                                           \
    ({                                                                         \
        int steal_tmp_ = (fd);                                                 \
        (fd) = -1;                                                             \
        steal_tmp_;                                                            \
    })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
