// SPDX-License-Identifier: Apache-2.0
// A build on a thread of its own, reporting on the loop: the thread
// appends log text under a mutex and wakes the loop with a uv_async_t; the
// loop hands the text to the log callback and, once the thread has ended,
// joins it and calls done. The job holds the image store open until then.
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "builder/build.h"

struct build {
    uv_loop_t *loop;
    uv_async_t async;
    uv_thread_t thread;
    pthread_mutex_t lock;
    struct buf pending; /* log text for the loop (lock) */
    bool finished;      /* the thread is done (lock) */
    atomic_bool cancelled;
    bool quiet_log; /* build_cancel was called: no more log callbacks */

    /* Copies of what build_start was given. */
    struct runtime_info rt;
    struct build_env env;
    struct build_options opts;
    char *runtime_path, *state_root, *cgroup_parent, *work_root;
    char *context_tar, *dockerfile, *target;
    char **tags;
    json_t *build_args, *labels;

    build_log_fn log;
    build_done_fn done;
    void *data;

    int rc;
    char *image_id;
    struct err err;
};

static void thread_log(void *data, const char *text)
{
    struct build *b = data;
    pthread_mutex_lock(&b->lock);
    buf_puts(&b->pending, text);
    pthread_mutex_unlock(&b->lock);
    uv_async_send(&b->async);
}

static void thread_main(void *arg)
{
    struct build *b = arg;
    b->rc = build_run(&b->env, &b->opts, thread_log, b, &b->cancelled,
                      &b->image_id, &b->err);
    pthread_mutex_lock(&b->lock);
    b->finished = true;
    pthread_mutex_unlock(&b->lock);
    uv_async_send(&b->async);
}

static void build_free(struct build *b)
{
    pthread_mutex_destroy(&b->lock);
    buf_fini(&b->pending);
    free(b->runtime_path);
    free(b->state_root);
    free(b->cgroup_parent);
    free(b->work_root);
    free(b->context_tar);
    free(b->dockerfile);
    free(b->target);
    for (size_t i = 0; i < b->opts.n_tags; i++)
        free(b->tags[i]);
    free(b->tags);
    json_decref(b->build_args);
    json_decref(b->labels);
    free(b->image_id);
    free(b);
}

static void on_close(uv_handle_t *h)
{
    struct build *b = h->data;
    image_store_release(b->env.images);
    build_free(b);
}

static void on_async(uv_async_t *h)
{
    struct build *b = h->data;
    pthread_mutex_lock(&b->lock);
    char *text = b->pending.len ? buf_steal(&b->pending) : NULL;
    bool finished = b->finished;
    pthread_mutex_unlock(&b->lock);
    if (text && !b->quiet_log)
        b->log(b->data, text);
    free(text);
    if (!finished)
        return;
    uv_thread_join(&b->thread);
    if (b->rc == 0)
        b->done(b->data, b->image_id, NULL);
    else
        b->done(b->data, NULL, &b->err);
    uv_close((uv_handle_t *)&b->async, on_close);
}

struct build *build_start(uv_loop_t *loop, const struct build_env *env,
                          const struct build_options *opts, build_log_fn log,
                          build_done_fn done, void *data, struct err *err)
{
    if (!opts->context_tar)
        return err_set(err, ERR_INVALID, "build: no context"), NULL;
    struct build *b = xcalloc(1, sizeof(*b));
    b->loop = loop;
    pthread_mutex_init(&b->lock, NULL);
    buf_init(&b->pending);
    atomic_init(&b->cancelled, false);
    b->log = log;
    b->done = done;
    b->data = data;
    b->runtime_path = xstrdup(env->runtime->runtime_path);
    b->state_root = xstrdup(env->runtime->state_root);
    b->cgroup_parent = xstrdup(env->runtime->cgroup_parent);
    b->rt = *env->runtime;
    b->rt.runtime_path = b->runtime_path;
    b->rt.state_root = b->state_root;
    b->rt.cgroup_parent = b->cgroup_parent;
    b->work_root = xstrdup(env->work_root);
    b->env.images = env->images;
    b->env.runtime = &b->rt;
    b->env.work_root = b->work_root;
    b->context_tar = xstrdup(opts->context_tar);
    b->dockerfile = xstrdup(opts->dockerfile);
    b->target = xstrdup(opts->target);
    b->tags = xcalloc(opts->n_tags + 1, sizeof(*b->tags));
    for (size_t i = 0; i < opts->n_tags; i++)
        b->tags[i] = xstrdup(opts->tags[i]);
    b->build_args =
        opts->build_args ? jx_copy(opts->build_args) : json_object();
    b->labels = opts->labels ? jx_copy(opts->labels) : json_object();
    b->opts = *opts;
    b->opts.context_tar = b->context_tar;
    b->opts.dockerfile = b->dockerfile;
    b->opts.target = b->target;
    b->opts.tags = (const char *const *)b->tags;
    b->opts.build_args = b->build_args;
    b->opts.labels = b->labels;

    int rc = uv_async_init(loop, &b->async, on_async);
    if (rc < 0) {
        build_free(b);
        err_set(err, ERR_INTERNAL, "build: %s", uv_strerror(rc));
        return NULL;
    }
    b->async.data = b;
    image_store_hold(env->images);
    rc = uv_thread_create(&b->thread, thread_main, b);
    if (rc < 0) {
        err_set(err, ERR_INTERNAL, "build: start thread: %s", uv_strerror(rc));
        /* No thread: close the handle and free everything. */
        b->done = NULL;
        uv_close((uv_handle_t *)&b->async, on_close);
        return NULL;
    }
    return b;
}

void build_cancel(struct build *b)
{
    atomic_store(&b->cancelled, true);
    b->quiet_log = true;
}
