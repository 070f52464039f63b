// SPDX-License-Identifier: Apache-2.0
// Registry operations off the loop (see registry.h): one detached thread
// per operation (which starts its own transfer threads), a message queue
// guarded by a mutex, and a uv_async_t that hands messages and the result
// to the loop. The thread's last touch of the operation is the async send
// made under the queue's lock, so the loop may close and free it as soon
// as it has seen the operation done.
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/vec.h"
#include "registry/ops.h"
#include "registry/registry.h"
#include "runtime/image.h"

struct registry {
    uv_loop_t *loop;
    struct image_store *images;
    char **insecure;
    struct reg_config cfg;
    int refs; /* owner + operations (loop thread) */
};

struct registry_op {
    uv_async_t async;
    struct registry *r;
    enum registry_kind kind;
    struct reg_ref ref;
    char *domain; /* login */
    struct reg_creds creds;
    registry_msg_cb on_msg;
    registry_done_cb done;
    void *data;
    bool cancelled; /* loop side */
    atomic_bool stop;
    pthread_mutex_t lock;
    struct vec queue; /* json_t * (guarded by lock) */
    bool finished;    /* guarded by lock */
    json_t *result;
    struct err err;
};

struct registry *registry_new(uv_loop_t *loop, struct image_store *images,
                              const char *const *insecure)
{
    struct registry *r = xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->images = images;
    size_t n = 0;
    while (insecure && insecure[n])
        n++;
    r->insecure = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        r->insecure[i] = xstrdup(insecure[i]);
    r->cfg.insecure = (const char *const *)r->insecure;
    r->refs = 1;
    return r;
}

static void registry_release(struct registry *r)
{
    if (--r->refs > 0)
        return;
    for (size_t i = 0; r->insecure[i]; i++)
        free(r->insecure[i]);
    free(r->insecure);
    free(r);
}

void registry_free(struct registry *r)
{
    if (r)
        registry_release(r);
}

const struct reg_config *registry_config(const struct registry *r)
{
    return &r->cfg;
}

static void op_emit(void *ud, json_t *msg)
{
    struct registry_op *op = ud;
    pthread_mutex_lock(&op->lock);
    vec_push(&op->queue, msg);
    uv_async_send(&op->async);
    pthread_mutex_unlock(&op->lock);
}

static void *op_thread(void *arg)
{
    struct registry_op *op = arg;
    struct reg_sink sink = {.emit = op_emit, .ud = op, .stop = &op->stop};
    json_t *result = NULL;
    struct err err = {0};
    int rc = -1;
    switch (op->kind) {
    case REGISTRY_PULL:
        rc =
            reg_pull(op->r->images, &op->ref, &op->creds, &sink, &result, &err);
        break;
    case REGISTRY_PUSH:
        rc =
            reg_push(op->r->images, &op->ref, &op->creds, &sink, &result, &err);
        break;
    case REGISTRY_INSPECT:
        rc = reg_inspect(&op->ref, &op->creds, &op->stop, &result, &err);
        break;
    case REGISTRY_LOGIN:
        rc = reg_login(op->domain, &op->r->cfg, &op->creds, &err);
        if (rc == 0)
            result = json_object();
        break;
    }
    if (rc < 0 && !err_is_set(&err))
        err_set(&err, ERR_INTERNAL, "registry operation failed");
    pthread_mutex_lock(&op->lock);
    op->result = rc == 0 ? result : NULL;
    if (rc < 0)
        json_decref(result);
    op->err = err;
    op->finished = true;
    uv_async_send(&op->async);
    pthread_mutex_unlock(&op->lock);
    return NULL;
}

static void op_closed(uv_handle_t *h)
{
    struct registry_op *op = h->data;
    struct registry *r = op->r;
    json_decref(op->result);
    for (size_t i = 0; i < op->queue.len; i++)
        json_decref(op->queue.items[i]);
    vec_fini(&op->queue);
    pthread_mutex_destroy(&op->lock);
    reg_ref_fini(&op->ref);
    reg_creds_fini(&op->creds);
    free(op->domain);
    if (op->kind == REGISTRY_PULL || op->kind == REGISTRY_PUSH)
        image_store_release(r->images);
    free(op);
    registry_release(r);
}

static void op_async(uv_async_t *h)
{
    struct registry_op *op = h->data;
    for (;;) {
        pthread_mutex_lock(&op->lock);
        struct vec batch = op->queue;
        vec_init(&op->queue);
        bool finished = op->finished;
        pthread_mutex_unlock(&op->lock);
        for (size_t i = 0; i < batch.len; i++) {
            if (!op->cancelled && op->on_msg)
                op->on_msg(op->data, batch.items[i]);
            json_decref(batch.items[i]);
        }
        vec_fini(&batch);
        if (!finished)
            return;
        /* Messages queued before the end were all in this batch: the
         * thread queues nothing after finishing. */
        pthread_mutex_lock(&op->lock);
        bool more = op->queue.len > 0;
        pthread_mutex_unlock(&op->lock);
        if (more)
            continue;
        if (!op->cancelled)
            op->done(op->data, op->result, op->result ? NULL : &op->err);
        uv_close((uv_handle_t *)&op->async, op_closed);
        return;
    }
}

struct registry_op *registry_start(struct registry *r, enum registry_kind kind,
                                   const char *name, const char *tag,
                                   const struct reg_creds *creds,
                                   registry_msg_cb on_msg,
                                   registry_done_cb done, void *data,
                                   struct err *err)
{
    struct registry_op *op = xcalloc(1, sizeof(*op));
    op->kind = kind;
    if (kind == REGISTRY_LOGIN) {
        op->domain = reg_server_domain(name, err);
        if (!op->domain) {
            free(op);
            return NULL;
        }
    } else if (reg_ref_parse(name, tag, &r->cfg, &op->ref, err) < 0) {
        free(op);
        return NULL;
    }
    if (creds)
        reg_creds_copy(&op->creds, creds);
    op->r = r;
    op->on_msg = on_msg;
    op->done = done;
    op->data = data;
    atomic_init(&op->stop, false);
    pthread_mutex_init(&op->lock, NULL);
    vec_init(&op->queue);
    int rc = uv_async_init(r->loop, &op->async, op_async);
    if (rc < 0) {
        pthread_mutex_destroy(&op->lock);
        reg_ref_fini(&op->ref);
        reg_creds_fini(&op->creds);
        free(op->domain);
        free(op);
        err_set(err, ERR_INTERNAL, "registry: %s", uv_strerror(rc));
        return NULL;
    }
    op->async.data = op;
    r->refs++;
    if (kind == REGISTRY_PULL || kind == REGISTRY_PUSH)
        image_store_hold(r->images);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int prc = pthread_create(&th, &attr, op_thread, op);
    pthread_attr_destroy(&attr);
    if (prc != 0) {
        op->cancelled = true;
        uv_close((uv_handle_t *)&op->async, op_closed);
        err_set(err, ERR_INTERNAL, "registry: cannot start a thread: %s",
                strerror(prc));
        return NULL;
    }
    return op;
}

void registry_op_cancel(struct registry_op *op)
{
    if (!op)
        return;
    op->cancelled = true;
    atomic_store(&op->stop, true);
}
