// SPDX-License-Identifier: Apache-2.0
// The registry client as the daemon's loop sees it: pull, push, inspect
// and login run in threads of their own (each transfer blocks on the
// network; libuv's small thread pool stays free for the rest of the node)
// and report Docker's progress messages and their result back on the loop.
#pragma once

#include <jansson.h>
#include <uv.h>

#include "base/err.h"
#include "registry/auth.h"
#include "registry/ref.h"

struct image_store;
struct registry;
struct registry_op;

/* insecure: "host[:port]" registries reached over plain http besides the
 * loopback ones (copied; may be NULL). images: the node's store, held
 * while an operation uses it. */
struct registry *registry_new(uv_loop_t *loop, struct image_store *images,
                              const char *const *insecure);
/* Drops the owner's hold; operations in flight finish first (their
 * callbacks still run). */
void registry_free(struct registry *r);
const struct reg_config *registry_config(const struct registry *r);

enum registry_kind {
    REGISTRY_PULL,    /* result {"ID","Digest","Name","UpToDate"} */
    REGISTRY_PUSH,    /* result {"Tag","Digest","Size"} */
    REGISTRY_INSPECT, /* result {"Descriptor":{...},"Platforms":[...]} */
    REGISTRY_LOGIN,   /* name: the server's domain; result {} */
};

/* A progress message (borrowed), in order. */
typedef void (*registry_msg_cb)(void *data, const json_t *msg);
/* The end: result (borrowed) or err. */
typedef void (*registry_done_cb)(void *data, const json_t *result,
                                 const struct err *err);

/* Starts an operation on name (+ tag, as POST /images/create takes them;
 * may be NULL) with creds (copied; may be NULL). on_msg may be NULL.
 * Returns the operation, or NULL + err (400 for a bad name) with no
 * callback ever called; otherwise done runs exactly once, on the loop,
 * unless registry_op_cancel came first. */
struct registry_op *registry_start(struct registry *r, enum registry_kind kind,
                                   const char *name, const char *tag,
                                   const struct reg_creds *creds,
                                   registry_msg_cb on_msg,
                                   registry_done_cb done, void *data,
                                   struct err *err);
/* The caller is gone: no callback runs after this, the transfer stops
 * soon, and nothing half-done is kept. */
void registry_op_cancel(struct registry_op *op);
