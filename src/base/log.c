// SPDX-License-Identifier: Apache-2.0
// Leveled logging to stderr, one line per message, RFC 3339 timestamps.
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level current_level = LOG_INFO;
static const char *current_prefix = "shoald";

void log_set_level(enum log_level level)
{
    current_level = level;
}

void log_set_prefix(const char *prefix)
{
    current_prefix = prefix;
}

int log_enabled(enum log_level level)
{
    return level <= current_level;
}

int log_level_parse(const char *s)
{
    static const struct {
        const char *name;
        enum log_level level;
    } names[] = {
        {"fatal", LOG_ERROR},  {"error", LOG_ERROR}, {"warn", LOG_WARN},
        {"warning", LOG_WARN}, {"info", LOG_INFO},   {"debug", LOG_DEBUG},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].level;
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *const tags[] = {"error", "warn", "info", "debug"};
    if (level > current_level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    char line[2048];
    int n = snprintf(line, sizeof(line), "%s.%03ldZ %s[%s] ", when,
                     ts.tv_nsec / 1000000, current_prefix, tags[level]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
