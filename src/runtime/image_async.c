// SPDX-License-Identifier: Apache-2.0
// The thread-pool plumbing of the image store: image load and import run
// their blocking forms (image_load.c) in libuv's pool and report on the
// loop thread; each queued job holds the store open until it has reported.
#include <stdlib.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "runtime/image_internal.h"

/* ---- Asynchronous load and import ---- */

struct image_work {
    uv_work_t req;
    struct image_store *s;
    bool import;
    char **names; /* save */
    size_t n_names;
    char *path, *repo, *tag;
    json_t *changes;
    image_done_cb cb;
    void *data;
    json_t *result;
    struct err err;
};

static void work_run(uv_work_t *req)
{
    struct image_work *w = req->data;
    if (w->names) {
        if (image_save_file(w->s, (const char *const *)w->names, w->n_names,
                            w->path, &w->err) == 0)
            w->result = json_object();
    } else if (w->import)
        w->result = image_import_file(w->s, w->path, w->repo, w->tag,
                                      w->changes, &w->err);
    else
        w->result = image_load_file(w->s, w->path, &w->err);
}

static void work_done(uv_work_t *req, int status)
{
    struct image_work *w = req->data;
    if (status == UV_ECANCELED && !w->result && !err_is_set(&w->err))
        err_set(&w->err, ERR_INTERNAL, "image %s cancelled",
                w->import ? "import" : "load");
    if (w->result)
        w->cb(w->data, w->result, NULL);
    else
        w->cb(w->data, NULL, &w->err);
    json_decref(w->result);
    json_decref(w->changes);
    for (size_t i = 0; i < w->n_names; i++)
        free(w->names[i]);
    free(w->names);
    free(w->path);
    free(w->repo);
    free(w->tag);
    image_store_release(w->s);
    free(w);
}

static int queue(struct image_work *w, uv_loop_t *loop, struct err *err)
{
    w->req.data = w;
    w->s->refs++;
    int rc = uv_queue_work(loop, &w->req, work_run, work_done);
    if (rc < 0) {
        w->s->refs--;
        json_decref(w->changes);
        free(w->path);
        free(w->repo);
        free(w->tag);
        for (size_t i = 0; i < w->n_names; i++)
            free(w->names[i]);
        free(w->names);
        free(w);
        return err_set(err, ERR_INTERNAL, "queue image work: %s",
                       uv_strerror(rc));
    }
    return 0;
}

int image_load_async(struct image_store *s, uv_loop_t *loop,
                     const char *archive_path, image_done_cb cb, void *data,
                     struct err *err)
{
    struct image_work *w = xcalloc(1, sizeof(*w));
    w->s = s;
    w->path = xstrdup(archive_path);
    w->cb = cb;
    w->data = data;
    return queue(w, loop, err);
}

int image_import_async(struct image_store *s, uv_loop_t *loop,
                       const char *tar_path, const char *repo, const char *tag,
                       json_t *changes, image_done_cb cb, void *data,
                       struct err *err)
{
    /* Bad names and change lines fail now, before any work is queued. */
    if (repo && *repo) {
        _cleanup_free_ char *full =
            tag && *tag ? xasprintf("%s:%s", repo, tag) : xstrdup(repo);
        _cleanup_free_ char *norm = image_normalize_ref(full, err);
        if (!norm)
            return -1;
    }
    if (changes) {
        _cleanup_json_ json_t *scratch = json_object();
        if (image_apply_changes(scratch, changes, err) < 0)
            return -1;
    }
    struct image_work *w = xcalloc(1, sizeof(*w));
    w->s = s;
    w->import = true;
    w->path = xstrdup(tar_path);
    w->repo = xstrdup(repo);
    w->tag = xstrdup(tag);
    w->changes = changes ? jx_copy(changes) : NULL;
    w->cb = cb;
    w->data = data;
    return queue(w, loop, err);
}

int image_save_async(struct image_store *s, uv_loop_t *loop,
                     const char *const *names, size_t n, const char *out_path,
                     image_done_cb cb, void *data, struct err *err)
{
    if (n == 0)
        return err_set(err, ERR_INVALID, "no image names given");
    struct image_work *w = xcalloc(1, sizeof(*w));
    w->s = s;
    w->names = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        w->names[i] = xstrdup(names[i]);
    w->n_names = n;
    w->path = xstrdup(out_path);
    w->cb = cb;
    w->data = data;
    return queue(w, loop, err);
}
