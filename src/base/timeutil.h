// SPDX-License-Identifier: Apache-2.0
// Clocks, RFC 3339 timestamps and Go-style durations ("1m30s"), the formats
// the Docker API and CLI use.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_PER_SEC  1000000000LL
#define NS_PER_MS   1000000LL
#define TIME_STRLEN 40

int64_t time_now_ns(void);  /* wall clock, ns since the epoch */
int64_t time_mono_ns(void); /* monotonic clock */
int64_t time_mono_ms(void);

/* "2026-11-27T04:30:28.32344308Z" (Go's RFC3339Nano: trailing zeros cut). */
void time_fmt_rfc3339(int64_t ns, char out[TIME_STRLEN]);
/* Parses RFC 3339 with optional fraction and zone; -1 on bad input. */
int time_parse_rfc3339(const char *s, int64_t *ns);

/* Go duration syntax: "0s", "300ms", "1h2m3.5s", "10us"; bare "0" allowed.
 * -1 on bad input. Negative durations are refused. */
int duration_parse(const char *s, int64_t *ns);
/* Go's Duration.String(): "5s", "1m30s", "100ms", "0s". */
void duration_fmt(int64_t ns, char *out, size_t n);
/* Docker's units.HumanDuration: "Less than a second", "3 minutes"... */
void duration_human(int64_t ns, char *out, size_t n);
