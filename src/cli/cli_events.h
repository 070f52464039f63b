// SPDX-License-Identifier: Apache-2.0
// `shoal events`: the pieces of docker's events command that are worth
// testing on their own: its printed line, its time format, and how it turns
// --since/--until into the API's timestamps.
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* docker's prettyPrintEvent: "<time> <Type> <Action> <Actor.ID>" and, if
 * the actor has attributes, " (k=v, k2=v2)" sorted by key; ends in "\n".
 * Owned. */
char *cli_events_line(const json_t *msg);

/* Go's "2006-01-02T15:04:05.000000000Z07:00" in the local time zone (nine
 * fraction digits, "Z" when the offset is zero). out: at least 40 bytes. */
void cli_events_fmt_time(int64_t ns, char *out, size_t n);

/* docker's timetypes.GetTimestamp: a Go duration ("1m", "0s") is now minus
 * it, in unix seconds; RFC 3339 and its shorter forms ("2026-11-27",
 * "2026-11-27T04:35") become "sec.nanosec" (no zone = the local zone);
 * unix times ("1795754081.5") pass unchanged. -1 with docker's message. */
int cli_events_timestamp(const char *value, int64_t now_ns, char *out, size_t n,
                         struct err *err);

/* A --format field of an events.Message (Go's field names: Type, Action,
 * Actor.ID, Actor.Attributes.name, Scope, Time, TimeNano, Status, ID, From;
 * "json:<path>" for {{json ...}}). Owned; NULL for an unknown field. */
char *cli_events_field(const char *field, void *msg);
