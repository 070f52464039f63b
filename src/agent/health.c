// SPDX-License-Identifier: Apache-2.0
// The health status machine that probe results drive, with Docker's rules
// (moby's handleProbeResult). Pure, so every rule has a unit test.
#include "agent/health.h"

#include <string.h>

#include "base/jsonx.h"
#include "base/timeutil.h"

/* ---- the status machine ---- */

void health_state_init(struct health_state *h, int64_t started_at)
{
    memset(h, 0, sizeof(*h));
    h->status = TASK_HEALTH_STARTING;
    h->started_at = started_at;
}

/* Probe output is whatever the program printed: invalid UTF-8 (or a
 * character cut at the size limit) becomes '?', since JSON needs UTF-8. */
static void utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t len = *p < 0x80             ? 1
                     : (*p & 0xe0) == 0xc0 ? 2
                     : (*p & 0xf0) == 0xe0 ? 3
                     : (*p & 0xf8) == 0xf0 ? 4
                                           : 0;
        bool ok = len > 0;
        for (size_t i = 1; ok && i < len; i++)
            ok = (p[i] & 0xc0) == 0x80;
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += len;
    }
}

static void log_append(struct health_state *h, int64_t start_ns, int64_t end_ns,
                       int exit_code, const char *output)
{
    if (h->n_log == HEALTH_MAX_LOG) {
        memmove(&h->log[0], &h->log[1],
                sizeof(h->log[0]) * (HEALTH_MAX_LOG - 1));
        h->n_log--;
    }
    struct health_probe *p = &h->log[h->n_log++];
    p->start_ns = start_ns;
    p->end_ns = end_ns;
    p->exit_code = exit_code;
    snprintf(p->output, sizeof(p->output), "%s", output ? output : "");
    utf8_sanitize(p->output);
}

bool health_record(struct health_state *h, const struct health_config *c,
                   int64_t start_ns, int64_t end_ns, int exit_code,
                   const char *output)
{
    enum task_health before = h->status;
    log_append(h, start_ns, end_ns, exit_code, output);
    if (exit_code == 0) {
        h->failing_streak = 0;
        h->status = TASK_HEALTH_HEALTHY;
        return h->status != before;
    }
    /* A container that never passed a probe does not count failures while
     * it is within its start period. */
    if (h->status == TASK_HEALTH_STARTING &&
        start_ns - h->started_at < c->start_period)
        return false;
    h->failing_streak++;
    if (h->failing_streak >= c->retries)
        h->status = TASK_HEALTH_UNHEALTHY;
    return h->status != before;
}

bool health_record_timeout(struct health_state *h,
                           const struct health_config *c, int64_t start_ns,
                           int64_t end_ns)
{
    char d[32], msg[64];
    duration_fmt(c->timeout, d, sizeof(d));
    snprintf(msg, sizeof(msg), "Health check exceeded timeout (%s)", d);
    return health_record(h, c, start_ns, end_ns, -1, msg);
}

int64_t health_next_delay(const struct health_state *h,
                          const struct health_config *c, int64_t now)
{
    if (h->status == TASK_HEALTH_STARTING &&
        now - h->started_at < c->start_period)
        return c->start_interval;
    return c->interval;
}

json_t *health_state_json(const struct health_state *h)
{
    json_t *log = json_array();
    for (size_t i = 0; i < h->n_log; i++) {
        const struct health_probe *p = &h->log[i];
        char s[TIME_STRLEN], e[TIME_STRLEN];
        time_fmt_rfc3339(p->start_ns, s);
        time_fmt_rfc3339(p->end_ns, e);
        json_t *out = json_string(p->output);
        json_t *entry = json_pack("{s:s, s:s, s:i}", "Start", s, "End", e,
                                  "ExitCode", p->exit_code);
        /* What the sanitizer let through but jansson refuses (overlong
         * forms, surrogates) is not worth keeping. */
        json_object_set_new(entry, "Output", out ? out : json_string("?"));
        json_array_append_new(log, entry);
    }
    return json_pack("{s:s, s:i, s:o}", "Status", task_health_name(h->status),
                     "FailingStreak", h->failing_streak, "Log", log);
}
