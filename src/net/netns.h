// SPDX-License-Identifier: Apache-2.0
// Network namespaces for containers: created bound to a file under the data
// root (so they outlive the creating thread and shoald restarts), with the
// loopback interface up; deleted by unmounting that file.
#pragma once

#include <uv.h>

#include "base/err.h"

typedef void (*netns_done_fn)(void *data, const struct err *err);
struct netns_work;

/* Creates the namespace in the thread pool (the worker thread switches back
 * to its own namespace afterwards). cb gets NULL err on success. Returns
 * the work, or NULL (err set, cb never called) if it could not be queued. */
struct netns_work *netns_create_async(uv_loop_t *loop, const char *path,
                                      netns_done_fn cb, void *data,
                                      struct err *err);
/* The caller goes away before cb: cb is never called, and the namespace,
 * once made, is deleted again. */
void netns_create_abandon(struct netns_work *w);
/* Synchronous variant (tests, tools). */
int netns_create(const char *path, struct err *err);
/* Unmounts and removes path; fine if it does not exist. */
int netns_delete(const char *path, struct err *err);
