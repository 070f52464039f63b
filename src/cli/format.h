// SPDX-License-Identifier: Apache-2.0
// Formatting and parsing helpers that make shoal's output read like the
// docker CLI's: human durations and sizes (go-units), truncated IDs, natural
// sort, memory/CPU/duration flag values, JSON re-indenting for inspect, and
// a deliberately small subset of Go templates for --format.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* A JSON string's value, "" for anything else (daemon replies are not
 * trusted to have the expected types). Borrowed. */
static inline const char *cli_jstr(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

/* "33 seconds ago" style: units.HumanDuration(now - t) + " ago". With lower
 * set the first word is lowercased ("less than a second ago"), as `service
 * ps` prints it. ts is RFC 3339; "" if unparsable. Owned result. */
char *cli_fmt_ago(const char *ts, int64_t now_ns, bool lower);
/* units.HumanSizeWithPrecision: decimal units, "4.26MB" (precision 3) or
 * "23.5GB" (4 = units.HumanSize). */
void cli_fmt_human_size(double size, int precision, char *out, size_t n);
/* units.BytesSize: binary units, "23.54GiB". */
void cli_fmt_bytes_size(double size, char *out, size_t n);
/* Go's fmt %v of a float64 (or, with f32, a float32): shortest digits that
 * read back, exponent form only for very large or small values ("0.5",
 * "0.25", "1e-05"). */
void cli_fmt_float(double f, bool f32, char *out, size_t n);

/* First 12 characters of an ID, after any "sha256:"-style prefix. Writes
 * into out (at least 13 bytes). */
void cli_fmt_trunc_id(const char *id, char *out, size_t n);
/* "running" -> "Running", "UTC" -> "Utc" (command.PrettyPrint: first
 * letter upper, the rest lower). Owned result. */
char *cli_fmt_pretty(const char *s);
/* formatter.Ellipsis: at most max characters, the last one "…". Owned. */
char *cli_fmt_ellipsis(const char *s, size_t max);
/* Image reference for display: tag kept, digest dropped when a tag is
 * present, "docker.io/library/" dropped (reference.FamiliarString). */
char *cli_fmt_image_familiar(const char *image);
/* Whether a reference's digest part (after '@') is well formed
 * ("sha256:" + 64 hex digits); references without one are valid. */
bool cli_ref_digest_valid(const char *ref);
/* Adds ":latest" when an image reference has neither tag nor digest, as the
 * CLI does before creating a service. Owned. */
char *cli_image_normalize(const char *image);

/* sortorder.NaturalLess as a strcmp-like function ("a2" < "a10"). */
int cli_natural_cmp(const char *a, const char *b);

/* units.RAMInBytes ("512m", "1g", "1.5GiB"). -1 with docker's message. */
int cli_parse_ram(const char *s, int64_t *out, struct err *err);
/* opts.NanoCPUs ("0.5" -> 500000000). -1 with docker's message. */
int cli_parse_nanocpus(const char *s, int64_t *out, struct err *err);
/* time.ParseDuration, negatives allowed. -1 with Go's message. */
int cli_parse_duration(const char *s, int64_t *out, struct err *err);
/* Go's time.Duration.String(): "5s", "1m30s", "100ms", "-1s". */
void cli_fmt_duration(int64_t ns, char *out, size_t n);

/* json.Indent(raw, "", "    "): re-indents JSON text without re-encoding
 * it, so key order, numbers and escapes stay the daemon's. Appends to out;
 * -1 if raw is not well-formed enough to indent. */
int cli_json_indent(const char *raw, size_t len, const char *prefix,
                    struct buf *out);

/* The --format subset: literal text, {{.Field}} / {{ .Field }}, dotted
 * paths ({{.Spec.Name}}), {{json .Path}} (the callback gets "json:Path"),
 * and the "table " prefix; "\t" and "\n" escapes are expanded as docker
 * does. */
struct cli_template;
/* Returns the field value for one record (owned string), or NULL if the
 * field does not exist. */
typedef char *(*cli_template_field_cb)(const char *field, void *record);

/* Parses fmt; -1 with a clear error for anything outside the subset. The
 * result is owned (cli_template_free). */
struct cli_template *cli_template_parse(const char *fmt, struct err *err);
void cli_template_free(struct cli_template *t);
bool cli_template_is_table(const struct cli_template *t);
/* Renders one record into out; -1 if a field is unknown (err set). */
int cli_template_exec(const struct cli_template *t, cli_template_field_cb cb,
                      void *record, struct buf *out, struct err *err);
