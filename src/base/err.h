// SPDX-License-Identifier: Apache-2.0
// The error out-parameter every fallible shoal function takes: a code (an
// HTTP status, so the API can answer with it directly) and a message that
// gains context as it rises.
#pragma once

#include <stdbool.h>

enum err_code {
    ERR_OK = 0,
    ERR_NOT_MODIFIED = 304,
    ERR_INVALID = 400, /* bad input */
    ERR_FORBIDDEN = 403,
    ERR_NOTFOUND = 404,
    ERR_CONFLICT = 409,
    ERR_INTERNAL = 500,
    ERR_UNAVAILABLE = 503, /* not a manager, no leader, not in a swarm */
};

struct err {
    int code;
    char msg[512];
};

/* Sets code and message; returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like err_set, appending ": strerror(errnum)". */
int err_sys(struct err *e, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix the message with context ("context: old message"); returns -1. */
int err_ctx(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);
static inline bool err_is_set(const struct err *e)
{
    return e->code != ERR_OK;
}
