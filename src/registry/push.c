// SPDX-License-Identifier: Apache-2.0
// Pushing an image (see ops.h): for each layer blob the image store kept,
// HEAD tells whether the registry has it; missing ones are mounted from a
// repository of the same registry the image is known in (its
// RepoDigests) or uploaded (POST + PUT ?digest=, the registry checks the
// digest), a few at a time; then the config and the manifest, whose
// digest becomes the image's RepoDigest.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/vec.h"
#include "registry/manifest.h"
#include "registry/ops.h"
#include "registry/plan.h"
#include "runtime/image.h"
#include "runtime/image_digest.h"
#include "runtime/image_ref.h"

/* Like Docker's --max-concurrent-uploads default. */
#define PUSH_THREADS   5
#define PROGRESS_EVERY (100 * 1000 * 1000LL)

static void emit(const struct reg_sink *sink, json_t *msg)
{
    if (sink && sink->emit)
        sink->emit(sink->ud, msg);
    else
        json_decref(msg);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* HEAD /blobs/<digest>: 1 present, 0 absent, -1 + err. */
static int blob_exists(struct reg_client *c, const char *digest,
                       struct err *err)
{
    _cleanup_free_ char *suffix = xasprintf("/blobs/%s", digest);
    _cleanup_free_ char *url = reg_client_url(c, suffix);
    struct reg_fetch_req req = {.method = "HEAD", .url = url};
    struct reg_fetch_resp resp;
    int rc = reg_client_do(c, &req, &resp, err);
    if (rc == 0)
        rc = resp.status / 100 == 2 ? 1
             : resp.status == 404   ? 0
                                    : reg_client_error(&req, &resp, NULL, err);
    reg_fetch_resp_fini(&resp);
    return rc;
}

struct up {
    struct reg_client *c;
    const struct reg_sink *sink;
    const char *digest;
    const char *path; /* or data/len */
    const char *data;
    size_t len;
    int64_t size;
    const char *mount_from;
    char id[13];
    bool show; /* progress messages (layers, not the config) */
    int64_t last_emit;
    atomic_bool *failed;
    struct err err;
    int rc;
};

static void up_progress(void *ud, int64_t done, int64_t total)
{
    struct up *u = ud;
    int64_t now = mono_ns();
    if (!u->show || done == 0 || now - u->last_emit < PROGRESS_EVERY)
        return;
    u->last_emit = now;
    emit(u->sink,
         reg_msg_progress(u->id, "Pushing", done, total > 0 ? total : u->size));
}

static int upload(struct up *u)
{
    struct err *err = &u->err;
    _cleanup_free_ char *suffix = NULL;
    if (u->mount_from) {
        _cleanup_free_ char *d = reg_url_escape(u->digest);
        _cleanup_free_ char *f = reg_url_escape(u->mount_from);
        suffix = xasprintf("/blobs/uploads/?mount=%s&from=%s", d, f);
    } else {
        suffix = xstrdup("/blobs/uploads/");
    }
    _cleanup_free_ char *url = reg_client_url(u->c, suffix);
    struct reg_fetch_req req = {.method = "POST", .url = url};
    struct reg_fetch_resp resp;
    int rc = reg_client_do(u->c, &req, &resp, err);
    if (rc == 0 && resp.status == 201 && u->mount_from) {
        reg_fetch_resp_fini(&resp);
        if (u->show) {
            _cleanup_free_ char *m =
                xasprintf("Mounted from %s", u->mount_from);
            emit(u->sink, reg_msg_status(u->id, m));
        }
        return 0;
    }
    if (rc == 0 && (resp.status != 202 || !resp.location))
        rc = reg_client_error(&req, &resp, NULL, err);
    _cleanup_free_ char *loc =
        rc == 0 ? reg_fetch_resolve(url, resp.location) : NULL;
    reg_fetch_resp_fini(&resp);
    if (rc < 0)
        return -1;
    if (!loc)
        return err_set(err, ERR_INTERNAL,
                       "invalid upload location from the registry");
    _cleanup_free_ char *d = reg_url_escape(u->digest);
    _cleanup_free_ char *put =
        xasprintf("%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?', d);
    const char *hdrs[] = {"Content-Type: application/octet-stream", NULL};
    struct reg_fetch_req preq = {.method = "PUT",
                                 .url = put,
                                 .headers = hdrs,
                                 .body_path = u->path,
                                 .body = u->data,
                                 .body_len = u->len,
                                 .on_progress = up_progress,
                                 .ud = u};
    rc = reg_client_do(u->c, &preq, &resp, err);
    if (rc == 0 && resp.status / 100 != 2)
        rc = reg_client_error(&preq, &resp, NULL, err);
    reg_fetch_resp_fini(&resp);
    if (rc == 0 && u->show)
        emit(u->sink, reg_msg_status(u->id, "Pushed"));
    return rc;
}

struct workq {
    pthread_mutex_t lock;
    struct up **items;
    size_t n, next;
    atomic_bool failed;
};

static void *worker(void *arg)
{
    struct workq *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        struct up *u = q->next < q->n ? q->items[q->next++] : NULL;
        pthread_mutex_unlock(&q->lock);
        if (!u || atomic_load(&q->failed))
            return NULL;
        u->rc = upload(u);
        if (u->rc < 0)
            atomic_store(&q->failed, true);
    }
}

static int upload_all(struct up **items, size_t n, struct err *err)
{
    if (n == 0)
        return 0;
    struct workq q = {.items = items, .n = n};
    pthread_mutex_init(&q.lock, NULL);
    atomic_init(&q.failed, false);
    size_t nt = n < PUSH_THREADS ? n : PUSH_THREADS;
    pthread_t th[PUSH_THREADS];
    size_t started = 0;
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, worker, &q) != 0)
            break;
    if (started == 0)
        worker(&q);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&q.lock);
    for (size_t i = 0; i < n; i++)
        if (items[i]->rc < 0 && err_is_set(&items[i]->err)) {
            *err = items[i]->err;
            return -1;
        }
    if (atomic_load(&q.failed))
        return err_set(err, ERR_INTERNAL, "layer upload failed");
    return 0;
}

/* The RepoDigests of the image (owned, NULL-terminated strings). */
static char **repo_digests(struct image_store *s, const char *name)
{
    struct err err = {0};
    _cleanup_json_ json_t *j = image_inspect(s, name, &err);
    json_t *arr = json_object_get(j, "RepoDigests");
    char **out = xcalloc(json_array_size(arr) + 1, sizeof(char *));
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) out[i] = xstrdup(json_string_value(v));
    return out;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Writes and uploads the manifest; records the RepoDigest. */
static int put_manifest(struct image_store *s, const struct reg_ref *ref,
                        struct reg_client *c,
                        const struct image_push_info *info, const char *tag,
                        const char *cfg_digest, const struct reg_sink *sink,
                        json_t **result, struct err *err)
{
    size_t n = info->n_layers;
    char hex[65];
    int rc;
    struct reg_layer_out *lo = xcalloc(n + 1, sizeof(*lo));
    for (size_t i = 0; i < n; i++) {
        lo[i].media_type = info->layers[i].media_type;
        lo[i].digest = info->layers[i].digest;
        lo[i].size = info->layers[i].size;
    }
    const char *mt;
    size_t mlen;
    _cleanup_free_ char *manifest = reg_manifest_build(
        cfg_digest, (int64_t)info->config_len, lo, n, &mt, &mlen);
    free(lo);
    image_sha256_hex(manifest, mlen, hex);
    char digest[IMAGE_DIGEST_LEN];
    snprintf(digest, sizeof(digest), "sha256:%s", hex);
    _cleanup_free_ char *suffix = xasprintf("/manifests/%s", tag);
    _cleanup_free_ char *url = reg_client_url(c, suffix);
    _cleanup_free_ char *ct = xasprintf("Content-Type: %s", mt);
    const char *hdrs[] = {ct, NULL};
    struct reg_fetch_req req = {.method = "PUT",
                                .url = url,
                                .headers = hdrs,
                                .body = manifest,
                                .body_len = mlen};
    struct reg_fetch_resp resp;
    rc = reg_client_do(c, &req, &resp, err);
    if (rc == 0 && resp.status / 100 != 2)
        rc = reg_client_error(&req, &resp, NULL, err);
    if (rc == 0 && resp.content_digest &&
        image_is_digest(resp.content_digest) &&
        strcmp(resp.content_digest, digest) != 0)
        rc = err_set(err, ERR_INTERNAL,
                     "the registry stored the manifest as %s, expected %s",
                     resp.content_digest, digest);
    reg_fetch_resp_fini(&resp);
    if (rc < 0)
        return -1;
    _cleanup_free_ char *at = xasprintf("%s@%s", ref->repo, digest);
    struct err derr = {0};
    if (image_store_add_digest(s, info->id, at, &derr) < 0)
        emit(sink, reg_msg_status(NULL, derr.msg));
    _cleanup_free_ char *line =
        xasprintf("%s: digest: %s size: %zu", tag, digest, mlen);
    emit(sink, reg_msg_status(NULL, line));
    emit(sink,
         json_pack("{s:{}, s:{s:s, s:s, s:I}}", "progressDetail", "aux", "Tag",
                   tag, "Digest", digest, "Size", (json_int_t)mlen));
    *result = json_pack("{s:s, s:s, s:I}", "Tag", tag, "Digest", digest, "Size",
                        (json_int_t)mlen);
    return 0;
}

static int push_tag(struct image_store *s, const struct reg_ref *ref,
                    const char *tag, const struct reg_creds *creds,
                    const struct reg_sink *sink, json_t **result,
                    struct err *err)
{
    _cleanup_free_ char *local = xasprintf("%s:%s", ref->repo, tag);
    struct err perr = {0};
    struct image_push_info *info = image_store_push_info(s, local, &perr);
    if (!info) {
        if (perr.code == ERR_NOTFOUND)
            return err_set(err, ERR_NOTFOUND,
                           "An image does not exist locally with the tag: %s",
                           ref->repo);
        *err = perr;
        return -1;
    }
    char **names = repo_digests(s, local);
    _cleanup_free_ char *from =
        reg_mount_source((const char *const *)names, ref->domain, ref->path);
    free_strv(names);
    struct reg_client c;
    reg_client_init(&c, ref, creds, "pull,push", from,
                    sink ? sink->stop : NULL);
    size_t n = info->n_layers;
    const char **digests = xcalloc(n + 1, sizeof(char *));
    bool *has = xcalloc(n + 1, sizeof(bool));
    struct reg_push_step *steps = xcalloc(n + 1, sizeof(*steps));
    struct up *ups = xcalloc(n + 2, sizeof(*ups));
    struct up **todo = xcalloc(n + 2, sizeof(*todo));
    size_t n_todo = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        digests[i] = info->layers[i].digest;
        reg_short_id(digests[i], ups[i].id);
        emit(sink, reg_msg_status(ups[i].id, "Preparing"));
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        int e = blob_exists(&c, digests[i], err);
        if (e < 0)
            rc = -1;
        has[i] = e == 1;
    }
    if (rc < 0)
        goto out;
    reg_push_plan(digests, n, has, from != NULL, steps);
    for (size_t i = 0; i < n; i++) {
        struct up *u = &ups[i];
        if (steps[i].action == REG_PUSH_EXISTS) {
            emit(sink, reg_msg_status(u->id, "Layer already exists"));
            continue;
        }
        if (steps[i].action == REG_PUSH_DUP)
            continue;
        u->c = &c;
        u->sink = sink;
        u->digest = digests[i];
        u->path = info->layers[i].path;
        u->size = info->layers[i].size;
        u->mount_from = steps[i].action == REG_PUSH_MOUNT ? from : NULL;
        u->show = true;
        todo[n_todo++] = u;
        emit(sink, reg_msg_status(u->id, "Waiting"));
    }
    /* The config goes with the layers. */
    char hex[65];
    image_sha256_hex(info->config, info->config_len, hex);
    char cfg_digest[IMAGE_DIGEST_LEN];
    snprintf(cfg_digest, sizeof(cfg_digest), "sha256:%s", hex);
    int e = blob_exists(&c, cfg_digest, err);
    if (e < 0) {
        rc = -1;
        goto out;
    }
    if (e == 0) {
        struct up *u = &ups[n];
        u->c = &c;
        u->sink = sink;
        u->digest = cfg_digest;
        u->data = info->config;
        u->len = info->config_len;
        u->size = (int64_t)info->config_len;
        todo[n_todo++] = u;
    }
    if ((rc = upload_all(todo, n_todo, err)) < 0)
        goto out;

    rc = put_manifest(s, ref, &c, info, tag, cfg_digest, sink, result, err);
out:
    free(digests);
    free(has);
    free(steps);
    free(ups);
    free(todo);
    reg_client_fini(&c);
    image_push_info_free(info);
    return rc;
}

/* Tags of the local repository repo (owned strings in v). */
static void local_tags(struct image_store *s, const char *repo, struct vec *v)
{
    _cleanup_json_ json_t *list = image_list(s, NULL);
    size_t i, k;
    json_t *img, *t;
    size_t n = strlen(repo);
    json_array_foreach(list, i, img)
    {
        json_array_foreach(json_object_get(img, "RepoTags"), k, t)
        {
            const char *name = json_string_value(t);
            if (name && strncmp(name, repo, n) == 0 && name[n] == ':' &&
                !strchr(name + n + 1, '/'))
                vec_push(v, xstrdup(name + n + 1));
        }
    }
}

int reg_push(struct image_store *s, const struct reg_ref *ref,
             const struct reg_creds *creds, const struct reg_sink *sink,
             json_t **result, struct err *err)
{
    *result = NULL;
    if (ref->digest)
        return err_set(err, ERR_INVALID,
                       "cannot push a digest reference (\"%s@%s\")", ref->repo,
                       ref->digest);
    struct vec tags;
    vec_init(&tags);
    if (ref->tag)
        vec_push(&tags, xstrdup(ref->tag));
    else
        local_tags(s, ref->repo, &tags);
    if (tags.len == 0) {
        vec_fini(&tags);
        return err_set(err, ERR_NOTFOUND,
                       "An image does not exist locally with the tag: %s",
                       ref->repo);
    }
    _cleanup_free_ char *msg = xasprintf(
        "The push refers to repository [%s/%s]", ref->domain, ref->path);
    emit(sink, reg_msg_status(NULL, msg));
    int rc = 0;
    json_t *all = json_array();
    for (size_t i = 0; i < tags.len && rc == 0; i++) {
        json_t *one = NULL;
        rc = push_tag(s, ref, tags.items[i], creds, sink, &one, err);
        if (one)
            json_array_append_new(all, one);
    }
    for (size_t i = 0; i < tags.len; i++)
        free(tags.items[i]);
    vec_fini(&tags);
    if (rc < 0) {
        json_decref(all);
        return -1;
    }
    *result = json_incref(json_array_get(all, json_array_size(all) - 1));
    json_decref(all);
    return 0;
}
