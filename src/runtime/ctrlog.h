// SPDX-License-Identifier: Apache-2.0
// Container log files in Docker's json-file format, one JSON object per line
// ({"log":"hi\n","stream":"stdout","time":"<RFC3339Nano>"}), capped in size
// by rotating "log.json" into "log.json.1" (two files kept). The writer runs
// in the shim; the reader and the follower run in shoald.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/err.h"
#include "runtime/container.h"

/* Longest entry: longer output lines are split into entries without a
 * trailing newline, as Docker does. */
#define CTRLOG_LINE_MAX 16384

/* ---- writer (shim side, blocking) ---- */

struct ctrlog_writer;

/* Opens path for appending (creating it). max_size <= 0 disables rotation.
 * Owned; NULL + err on failure. */
struct ctrlog_writer *ctrlog_writer_open(const char *path, int64_t max_size,
                                         struct err *err);
/* Closes; partial lines still buffered are written first. NULL is fine. */
void ctrlog_writer_close(struct ctrlog_writer *w);
/* Feeds raw output of a stream (1 stdout, 2 stderr); complete lines are
 * written now, a partial one waits for its newline (or CTRLOG_LINE_MAX). */
int ctrlog_writer_feed(struct ctrlog_writer *w, int stream, const char *data,
                       size_t len, int64_t now_ns, struct err *err);
/* Writes the partial line of a stream, if any (the stream ended). */
int ctrlog_writer_flush(struct ctrlog_writer *w, int stream, int64_t now_ns,
                        struct err *err);
/* Writes one entry as is (line may lack a newline), rotating first if it
 * would push the file past max_size. */
int ctrlog_write_entry(struct ctrlog_writer *w, int stream, const char *line,
                       size_t len, int64_t time_ns, struct err *err);

/* Encodes one entry as a JSON line (with '\n') into out (appended). Invalid
 * UTF-8 becomes U+FFFD. */
struct buf;
void ctrlog_encode(struct buf *out, int stream, const char *line, size_t len,
                   int64_t time_ns);
/* Decodes a JSON line (without its '\n'); -1 if malformed. e->line points
 * into *storage, which the caller frees. */
int ctrlog_decode(const char *text, size_t len, struct ctr_log_entry *e,
                  char **storage);

/* ---- reader (shoald side) ---- */

/* Reads path.1 then path, calling fn for each entry passing opts, in
 * order; tail applies after the stream and time filters. Malformed lines
 * are skipped. A missing file counts as empty. Blocking. */
int ctrlog_read(const char *path, const struct ctr_log_options *opts,
                ctr_log_fn fn, void *data, struct err *err);

/* ---- follower (shoald side, on the loop) ---- */

struct ctrlog_follow;

/* Delivers entries appended to path after this call (across rotations)
 * until stopped. Owned; stop with ctrlog_follow_stop. */
struct ctrlog_follow *ctrlog_follow_start(uv_loop_t *loop, const char *path,
                                          const struct ctr_log_options *opts,
                                          ctr_log_fn fn, void (*done)(void *),
                                          void *data, struct err *err);
/* The writer is finished (the container exited): on a later loop turn,
 * deliver what remains, then call done once. */
void ctrlog_follow_finish(struct ctrlog_follow *f);
/* Stops watching; no callback runs after this. Memory is released on the
 * loop (it must keep running until the handles are closed). */
void ctrlog_follow_stop(struct ctrlog_follow *f);
