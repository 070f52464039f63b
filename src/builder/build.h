// SPDX-License-Identifier: Apache-2.0
// The Dockerfile builder: runs a build from a context archive on a thread
// of its own (so the daemon's loop never waits on it) and reports its log
// and result on the loop. Steps become layers in the node's image store;
// RUN steps are containers of the same OCI runtime as tasks, on the host
// network; every step is cached by parent image, instruction and (COPY,
// ADD) file contents.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "base/err.h"
#include "runtime/container.h"
#include "runtime/image.h"

struct build_options {
    const char *context_tar; /* the context: tar, optionally compressed */
    const char *dockerfile;  /* its path in the context; NULL = Dockerfile */
    const char *const *tags; /* -t names */
    size_t n_tags;
    const json_t *build_args; /* {"K": "V"}; null values are dropped */
    const json_t *labels;     /* {"k": "v"} added to the final image */
    const char *target;       /* stage to stop at, NULL = the last */
    bool no_cache;
    bool quiet; /* only the final image id in the log */
};

/* What the node lends the build. */
struct build_env {
    struct image_store *images;
    const struct runtime_info *runtime;
    const char *work_root; /* e.g. /var/lib/shoal/build (cache, scratch) */
};

/* Log text (whole lines, "\n"-terminated), on the loop thread. */
typedef void (*build_log_fn)(void *data, const char *text);
/* The end, on the loop thread: image_id ("sha256:...") or err. */
typedef void (*build_done_fn)(void *data, const char *image_id,
                              const struct err *err);

struct build;

/* Starts a build. Everything in env and opts is copied. Fails at once
 * (callbacks never called) only on bad options or if the thread cannot
 * start; parse errors and failed steps arrive through done. */
struct build *build_start(uv_loop_t *loop, const struct build_env *env,
                          const struct build_options *opts, build_log_fn log,
                          build_done_fn done, void *data, struct err *err);
/* Asks the build to stop (the running step is killed); done still runs,
 * with "build cancelled". No log callback runs after this. */
void build_cancel(struct build *b);

/* The whole build, blocking, on the calling thread (build_start runs
 * this; tests may call it directly). log is called from this thread;
 * cancelled may be NULL. *image_id owned on success. */
int build_run(const struct build_env *env, const struct build_options *opts,
              build_log_fn log, void *log_data, void *cancelled,
              char **image_id, struct err *err);
