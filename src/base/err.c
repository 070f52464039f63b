// SPDX-License-Identifier: Apache-2.0
// Error out-parameter helpers.
#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int code, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    e->code = code ? code : ERR_INTERNAL;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int err_sys(struct err *e, int errnum, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char head[384];
    vsnprintf(head, sizeof(head), fmt, ap);
    va_end(ap);
    e->code = errnum == ENOENT ? ERR_NOTFOUND : ERR_INTERNAL;
    snprintf(e->msg, sizeof(e->msg), "%s: %s", head, strerror(errnum));
    return -1;
}

int err_ctx(struct err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char head[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof(head), fmt, ap);
    va_end(ap);
    char old[sizeof(e->msg)];
    memcpy(old, e->msg, sizeof(old));
    snprintf(e->msg, sizeof(e->msg), "%s: %s", head, old);
    if (!e->code)
        e->code = ERR_INTERNAL;
    return -1;
}

void err_clear(struct err *e)
{
    e->code = ERR_OK;
    e->msg[0] = '\0';
}
