// SPDX-License-Identifier: Apache-2.0
// Clocks, RFC 3339 and Go-duration encoding and decoding.
#include "base/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t time_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t time_mono_ms(void)
{
    return time_mono_ns() / NS_PER_MS;
}

void time_fmt_rfc3339(int64_t ns, char out[TIME_STRLEN])
{
    time_t sec = (time_t)(ns / NS_PER_SEC);
    long frac = (long)(ns % NS_PER_SEC);
    if (frac < 0) {
        frac += NS_PER_SEC;
        sec -= 1;
    }
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, TIME_STRLEN, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) {
        char digits[16];
        snprintf(digits, sizeof(digits), "%09ld", frac);
        size_t len = 9;
        while (len > 0 && digits[len - 1] == '0')
            len--;
        digits[len] = '\0';
        snprintf(out + n, TIME_STRLEN - n, ".%sZ", digits);
    } else {
        snprintf(out + n, TIME_STRLEN - n, "Z");
    }
}

static int parse_digits(const char **p, int count, int *out)
{
    int v = 0;
    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

int time_parse_rfc3339(const char *s, int64_t *ns)
{
    struct tm tm = {0};
    int year, mon, day, hour, min, sec;
    const char *p = s;
    if (parse_digits(&p, 4, &year) || *p++ != '-' ||
        parse_digits(&p, 2, &mon) || *p++ != '-' || parse_digits(&p, 2, &day) ||
        (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (parse_digits(&p, 2, &hour) || *p++ != ':' ||
        parse_digits(&p, 2, &min) || *p++ != ':' || parse_digits(&p, 2, &sec))
        return -1;
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
        sec > 60)
        return -1;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            if (digits < 9) {
                frac = frac * 10 + (*p - '0');
                digits++;
            }
            p++;
        }
        if (digits == 0)
            return -1;
        for (; digits < 9; digits++)
            frac *= 10;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (parse_digits(&p, 2, &oh) || *p++ != ':' || parse_digits(&p, 2, &om))
            return -1;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return -1;
    }
    if (*p)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *ns = ((int64_t)t - offset) * NS_PER_SEC + frac;
    return 0;
}

int duration_parse(const char *s, int64_t *ns)
{
    static const struct {
        const char *unit;
        double mult;
    } units[] = {
        {"ns", 1},  {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6},
        {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
    };
    if (!s || !*s)
        return -1;
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    double total = 0;
    const char *p = s;
    if (*p == '+')
        p++;
    if (!*p)
        return -1;
    while (*p) {
        if (!isdigit((unsigned char)*p) && *p != '.')
            return -1;
        char *end;
        double v = strtod(p, &end);
        if (end == p)
            return -1;
        p = end;
        size_t best = 0;
        double mult = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t len = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, len) == 0 && len > best) {
                best = len;
                mult = units[i].mult;
            }
        }
        if (!best)
            return -1;
        p += best;
        total += v * mult;
    }
    if (total > 9.2e18)
        return -1;
    *ns = (int64_t)(total + 0.5);
    return 0;
}

void duration_fmt(int64_t ns, char *out, size_t n)
{
    if (ns == 0) {
        snprintf(out, n, "0s");
        return;
    }
    const char *sign = ns < 0 ? "-" : "";
    uint64_t u = ns < 0 ? (uint64_t)(-ns) : (uint64_t)ns;
    if (u < 1000) {
        snprintf(out, n, "%s%lluns", sign, (unsigned long long)u);
        return;
    }
    if (u < 1000000) {
        snprintf(out, n, "%s%gµs", sign, (double)u / 1e3);
        return;
    }
    if (u < 1000000000) {
        snprintf(out, n, "%s%gms", sign, (double)u / 1e6);
        return;
    }
    uint64_t h = u / 3600000000000ULL;
    u -= h * 3600000000000ULL;
    uint64_t m = u / 60000000000ULL;
    u -= m * 60000000000ULL;
    char secs[32];
    snprintf(secs, sizeof(secs), "%.9f", (double)u / 1e9);
    /* Trim trailing zeros and a trailing dot: "5.000000000" -> "5". */
    char *dot = strchr(secs, '.');
    if (dot) {
        char *e = secs + strlen(secs) - 1;
        while (e > dot && *e == '0')
            *e-- = '\0';
        if (e == dot)
            *e = '\0';
    }
    if (h)
        snprintf(out, n, "%s%lluh%llum%ss", sign, (unsigned long long)h,
                 (unsigned long long)m, secs);
    else if (m)
        snprintf(out, n, "%s%llum%ss", sign, (unsigned long long)m, secs);
    else
        snprintf(out, n, "%s%ss", sign, secs);
}

void duration_human(int64_t ns, char *out, size_t n)
{
    double secs_f = (double)ns / 1e9;
    long long seconds = (long long)secs_f;
    long long minutes = (long long)(secs_f / 60);
    long long hours = (long long)(secs_f / 3600 + 0.5);
    if (seconds < 1)
        snprintf(out, n, "Less than a second");
    else if (seconds == 1)
        snprintf(out, n, "1 second");
    else if (seconds < 60)
        snprintf(out, n, "%lld seconds", seconds);
    else if (minutes == 1)
        snprintf(out, n, "About a minute");
    else if (minutes < 60)
        snprintf(out, n, "%lld minutes", minutes);
    else if (hours == 1)
        snprintf(out, n, "About an hour");
    else if (hours < 48)
        snprintf(out, n, "%lld hours", hours);
    else if (hours < 24 * 7 * 2)
        snprintf(out, n, "%lld days", hours / 24);
    else if (hours < 24 * 30 * 2)
        snprintf(out, n, "%lld weeks", hours / 24 / 7);
    else if (hours < 24 * 365 * 2)
        snprintf(out, n, "%lld months", hours / 24 / 30);
    else
        snprintf(out, n, "%lld years", (long long)(secs_f / 3600 / 24 / 365));
}
