// SPDX-License-Identifier: Apache-2.0
// The build's log and its cancellation flag, shared by the steps
// (build.c) and the RUN executor (build_run.c) below them.
#include <stdarg.h>
#include <stdlib.h>

#include "base/mem.h"
#include "builder/build_internal.h"

void bctx_log(struct bctx *c, const char *fmt, ...)
{
    if (c->quiet || !c->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *s = xvasprintf(fmt, ap);
    va_end(ap);
    c->log(c->log_data, s);
}

bool bctx_cancelled(const struct bctx *c)
{
    return c->cancelled && atomic_load(c->cancelled);
}
