// SPDX-License-Identifier: Apache-2.0
// Driving the OCI runtime binary (runc, or crun on pure cgroup v2 hosts):
// choosing and locating it, its version, command lines with our --root,
// asynchronous invocations on the loop with stderr captured for error
// messages, and reading the last error from its json log.
#pragma once

#include <uv.h>

#include "base/err.h"

struct runc {
    char *path;       /* absolute path of the binary */
    char *name;       /* "runc" or "crun" */
    char *version;    /* first line of `--version` */
    char *state_root; /* --root */
};

/* Picks the runtime: override ("runc", "crun" or a path) if given, else
 * runc unless the host is pure cgroup v2 and crun is installed. Finds it
 * in PATH and records its version (one blocking spawn, for startup). */
int runc_init(struct runc *r, const char *override, const char *state_root,
              struct err *err);
void runc_fini(struct runc *r);

/* The argv `<path> --root <state_root> [--log <log> --log-format json]
 * <args...>` (args NULL-terminated). Owned, NULL-terminated; free with
 * runc_argv_free. */
char **runc_argv(const char *path, const char *state_root, const char *log_path,
                 const char *const *args);
void runc_argv_free(char **argv);

/* Completion of runc_exec_async: status is the exit code (128+signo if
 * killed); out and errmsg are stdout and the trimmed error text from
 * stderr ("" when none), borrowed for the call. */
typedef void (*runc_done_fn)(void *data, int status, const char *out,
                             const char *errmsg);

/* Runs `<runtime> --root <state_root> <args...>` (args NULL-terminated).
 * Fails at once (cb never called) only if it cannot be spawned. */
int runc_exec_async(uv_loop_t *loop, const struct runc *r,
                    const char *const *args, runc_done_fn cb, void *data,
                    struct err *err);

/* The message of the last error runc wrote to its json log (--log-format
 * json), or NULL. Owned. */
char *runc_log_last_error(const char *log_path);

/* Trims runc's stderr to its message: the last non-empty line, with
 * logrus's `time=... level=error msg="..."` unwrapped. Owned. */
char *runc_trim_stderr(const char *text);

/* Finds name in PATH (or checks it if it contains '/'). Owned or NULL. */
char *runc_find_in_path(const char *name);
