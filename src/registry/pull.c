// SPDX-License-Identifier: Apache-2.0
// Pulling an image (see ops.h): manifest, config, then the missing layers
// downloaded by a few threads at once into the image store's tmp/, each
// blob hashed as it arrives and checked against its descriptor before it
// is used. Only when every blob checked out is the image added to the
// store (which verifies each layer's diff id as it unpacks): a failed pull
// leaves nothing behind but deleted temporary files.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "registry/manifest.h"
#include "registry/ops.h"
#include "registry/plan.h"
#include "runtime/image.h"
#include "runtime/image_digest.h"
#include "runtime/image_ref.h"

/* Like Docker's --max-concurrent-downloads default. */
#define PULL_THREADS   3
#define MAX_MANIFEST   (4 << 20)
#define MAX_CONFIG     (8 << 20)
#define PROGRESS_EVERY (100 * 1000 * 1000LL) /* ns between progress lines */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void emit(const struct reg_sink *sink, json_t *msg)
{
    if (sink && sink->emit)
        sink->emit(sink->ud, msg);
    else
        json_decref(msg);
}

/* ---- manifests ---- */

static int get_manifest(struct reg_client *c, const char *name,
                        const char *reference, char **body, size_t *len,
                        char **media_type, char digest[IMAGE_DIGEST_LEN],
                        struct err *err)
{
    _cleanup_free_ char *suffix = xasprintf("/manifests/%s", reference);
    _cleanup_free_ char *url = reg_client_url(c, suffix);
    const char *hdrs[] = {"Accept: " REG_MANIFEST_ACCEPT, NULL};
    struct reg_fetch_req req = {
        .method = "GET", .url = url, .headers = hdrs, .max_body = MAX_MANIFEST};
    struct reg_fetch_resp resp;
    int rc = reg_client_do(c, &req, &resp, err);
    if (rc == 0 && resp.status / 100 != 2) {
        _cleanup_free_ char *what =
            xasprintf("manifest for %s not found", name);
        rc = reg_client_error(&req, &resp, what, err);
    }
    if (rc == 0) {
        char hex[65];
        image_sha256_hex(resp.body.data, resp.body.len, hex);
        snprintf(digest, IMAGE_DIGEST_LEN, "sha256:%s", hex);
        if (strncmp(reference, "sha256:", 7) == 0 &&
            strcmp(reference, digest) != 0)
            rc = err_set(err, ERR_INTERNAL,
                         "manifest verification failed for digest %s",
                         reference);
        else if (resp.content_digest && image_is_digest(resp.content_digest) &&
                 strcmp(resp.content_digest, digest) != 0)
            rc = err_set(err, ERR_INTERNAL,
                         "manifest verification failed for digest %s: the "
                         "registry sent content of digest %s",
                         resp.content_digest, digest);
    }
    if (rc == 0) {
        *len = resp.body.len;
        *media_type = xstrdup(resp.content_type);
        *body = buf_steal(&resp.body);
    }
    reg_fetch_resp_fini(&resp);
    return rc;
}

int reg_fetch_manifest(struct reg_client *c, const struct reg_ref *ref,
                       char **top_digest, char **body, size_t *len,
                       char **media_type, struct err *err)
{
    _cleanup_free_ char *name = reg_ref_string(ref);
    char digest[IMAGE_DIGEST_LEN];
    char *doc = NULL, *mt = NULL;
    size_t n = 0;
    if (get_manifest(c, name, reg_ref_reference(ref), &doc, &n, &mt, digest,
                     err) < 0)
        return -1;
    struct reg_manifest m;
    if (reg_manifest_parse(mt, doc, n, &m, err) < 0) {
        free(doc);
        free(mt);
        return -1;
    }
    *top_digest = xstrdup(digest);
    if (m.kind == REG_KIND_INDEX) {
        const char *os, *arch, *variant;
        reg_host_platform(&os, &arch, &variant);
        const struct reg_desc *d = reg_index_select(&m, os, arch, variant, err);
        _cleanup_free_ char *want = d ? xstrdup(d->digest) : NULL;
        reg_manifest_fini(&m);
        free(doc);
        free(mt);
        doc = mt = NULL;
        char got[IMAGE_DIGEST_LEN];
        if (!want || get_manifest(c, name, want, &doc, &n, &mt, got, err) < 0) {
            free(*top_digest);
            *top_digest = NULL;
            return -1;
        }
    } else {
        reg_manifest_fini(&m);
    }
    *body = doc;
    *len = n;
    *media_type = mt;
    return 0;
}

/* ---- blobs ---- */

struct blob {
    struct reg_client *c;
    const struct reg_sink *sink;
    struct image_store *s;
    size_t index;
    const char *digest;
    const char *diff_id;
    const char *media_type;
    bool prepared; /* unpacked and pinned (image_store_prepare_layer) */
    int64_t size;
    char id[13];
    char *path; /* the download, under the store's tmp/ */
    int fd;
    struct image_sha256 h;
    int64_t got;
    int64_t last_emit;
    atomic_bool *failed; /* another download failed: stop */
    struct err err;
    int rc;
};

static int blob_data(void *ud, const void *data, size_t n)
{
    struct blob *b = ud;
    if (atomic_load(b->failed))
        return -1;
    if (b->size >= 0 && b->got + (int64_t)n > b->size) {
        err_set(&b->err, ERR_INTERNAL,
                "filesystem layer verification failed for digest %s: more "
                "data than the manifest's %lld bytes",
                b->digest, (long long)b->size);
        return -1;
    }
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(b->fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            err_sys(&b->err, errno, "write layer %s", b->digest);
            b->err.code = ERR_INTERNAL;
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    image_sha256_update(&b->h, data, n);
    b->got += (int64_t)n;
    return 0;
}

static void blob_progress(void *ud, int64_t done, int64_t total)
{
    (void)done;
    (void)total;
    struct blob *b = ud;
    int64_t now = mono_ns();
    if (now - b->last_emit < PROGRESS_EVERY || b->got == 0)
        return;
    b->last_emit = now;
    emit(b->sink, reg_msg_progress(b->id, "Downloading", b->got, b->size));
}

static int download(struct blob *b)
{
    struct err *err = &b->err;
    b->fd = open(b->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (b->fd < 0) {
        err_sys(err, errno, "create '%s'", b->path);
        err->code = ERR_INTERNAL;
        return -1;
    }
    image_sha256_init(&b->h);
    _cleanup_free_ char *suffix = xasprintf("/blobs/%s", b->digest);
    _cleanup_free_ char *url = reg_client_url(b->c, suffix);
    struct reg_fetch_req req = {.method = "GET",
                                .url = url,
                                .on_data = blob_data,
                                .on_progress = blob_progress,
                                .ud = b,
                                .max_body = 65536,
                                .follow = true};
    struct reg_fetch_resp resp;
    struct err ferr = {0};
    int rc = reg_client_do(b->c, &req, &resp, &ferr);
    if (err_is_set(err))
        rc = -1; /* our own sink's reason beats curl's */
    else if (rc < 0)
        *err = ferr;
    else if (resp.status / 100 != 2)
        rc = reg_client_error(&req, &resp, NULL, err);
    reg_fetch_resp_fini(&resp);
    if (close(b->fd) < 0 && rc == 0) {
        rc = err_sys(err, errno, "write layer %s", b->digest);
        err->code = ERR_INTERNAL;
    }
    b->fd = -1;
    char hex[65];
    image_sha256_final(&b->h, hex);
    if (rc == 0) {
        char got[IMAGE_DIGEST_LEN];
        snprintf(got, sizeof(got), "sha256:%s", hex);
        if (strcmp(got, b->digest) != 0)
            rc = err_set(err, ERR_INTERNAL,
                         "filesystem layer verification failed for digest "
                         "%s: the registry sent data of digest %s",
                         b->digest, got);
        else if (b->size >= 0 && b->got != b->size)
            rc = err_set(err, ERR_INTERNAL,
                         "filesystem layer verification failed for digest "
                         "%s: %lld bytes, the manifest says %lld",
                         b->digest, (long long)b->got, (long long)b->size);
    }
    if (rc == 0) {
        emit(b->sink, reg_msg_status(b->id, "Verifying Checksum"));
        emit(b->sink, reg_msg_status(b->id, "Download complete"));
    }
    if (rc == 0 && !atomic_load(b->failed)) {
        /* Unpack now, while the other layers still download; the image
         * is added only once all of them are in. */
        emit(b->sink, reg_msg_status(b->id, "Extracting"));
        struct image_blob ib = {
            .path = b->path, .digest = b->digest, .media_type = b->media_type};
        rc = image_store_prepare_layer(b->s, &ib, b->diff_id, b->index, err);
        b->prepared = rc == 0;
        if (rc == 0)
            emit(b->sink, reg_msg_status(b->id, "Pull complete"));
    }
    return rc;
}

struct workq {
    pthread_mutex_t lock;
    struct blob **items;
    size_t n, next;
    atomic_bool failed;
};

static void *worker(void *arg)
{
    struct workq *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        struct blob *b = q->next < q->n ? q->items[q->next++] : NULL;
        pthread_mutex_unlock(&q->lock);
        if (!b || atomic_load(&q->failed))
            return NULL;
        b->rc = download(b);
        if (b->rc < 0)
            atomic_store(&q->failed, true);
    }
}

/* Runs every download, PULL_THREADS at a time; the first failure (in
 * manifest order) is the error. */
static int download_all(struct blob **items, size_t n, struct err *err)
{
    if (n == 0)
        return 0;
    struct workq q = {.items = items, .n = n};
    pthread_mutex_init(&q.lock, NULL);
    atomic_init(&q.failed, false);
    for (size_t i = 0; i < n; i++)
        items[i]->failed = &q.failed;
    size_t nt = n < PULL_THREADS ? n : PULL_THREADS;
    pthread_t th[PULL_THREADS];
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
        return err_set(err, ERR_INTERNAL, "layer download failed");
    return 0;
}

/* ---- the pull ---- */

static int get_config(struct reg_client *c, const struct reg_desc *d,
                      char **out, size_t *len, struct err *err)
{
    if (d->size > MAX_CONFIG)
        return err_set(err, ERR_INTERNAL, "image config too large (%lld)",
                       (long long)d->size);
    _cleanup_free_ char *suffix = xasprintf("/blobs/%s", d->digest);
    _cleanup_free_ char *url = reg_client_url(c, suffix);
    struct reg_fetch_req req = {
        .method = "GET", .url = url, .max_body = MAX_CONFIG, .follow = true};
    struct reg_fetch_resp resp;
    int rc = reg_client_do(c, &req, &resp, err);
    if (rc == 0 && resp.status / 100 != 2)
        rc = reg_client_error(&req, &resp, NULL, err);
    if (rc == 0) {
        char hex[65];
        image_sha256_hex(resp.body.data, resp.body.len, hex);
        if (strcmp(hex, d->digest + 7) != 0)
            rc = err_set(err, ERR_INTERNAL,
                         "image config verification failed for digest %s",
                         d->digest);
    }
    if (rc == 0) {
        *len = resp.body.len;
        *out = buf_steal(&resp.body);
    }
    reg_fetch_resp_fini(&resp);
    return rc;
}

/* The config's rootfs.diff_ids (borrowed from cfg), NULL + 400 if bad. */
static const char **diff_ids_of(const json_t *cfg, size_t *n, struct err *err)
{
    json_t *ids = jx_path(cfg, "rootfs.diff_ids");
    if (!json_is_array(ids) && !json_is_null(ids) && ids) {
        err_set(err, ERR_INVALID, "invalid image config: bad rootfs");
        return NULL;
    }
    *n = json_array_size(ids);
    const char **out = xcalloc(*n + 1, sizeof(char *));
    for (size_t i = 0; i < *n; i++) {
        out[i] = json_string_value(json_array_get(ids, i));
        if (!out[i] || !image_is_digest(out[i])) {
            free(out);
            err_set(err, ERR_INVALID, "invalid image config: bad diff id");
            return NULL;
        }
    }
    return out;
}

static char *current_id(struct image_store *s, const char *name)
{
    struct err err = {0};
    _cleanup_json_ json_t *j = image_inspect(s, name, &err);
    return j ? xstrdup(jx_str(j, "Id")) : NULL;
}

/* Adds the verified blobs to the store under the pulled names. */
static int finish(struct image_store *s, const struct reg_ref *ref,
                  const struct reg_manifest *m,
                  const struct reg_pull_step *steps, const struct blob *blobs,
                  const char *top, const char *config, size_t config_len,
                  const char *name, const struct reg_sink *sink,
                  json_t **result, struct err *err)
{
    int rc;
    /* Every fetched layer is unpacked and pinned already. */
    struct image_blob *ib = xcalloc(m->n_layers + 1, sizeof(*ib));
    for (size_t i = 0; i < m->n_layers; i++) {
        if (steps[i].action != REG_PULL_FETCH)
            continue;
        ib[i].path = blobs[i].path;
        ib[i].digest = m->layers[i].digest;
        ib[i].media_type = m->layers[i].media_type;
    }
    _cleanup_free_ char *tag_name = NULL, *digest_name = NULL;
    const char *refs[2];
    size_t n_refs = 0;
    if (ref->tag || !ref->digest) {
        tag_name =
            xasprintf("%s:%s", ref->repo, ref->tag ? ref->tag : "latest");
        refs[n_refs++] = tag_name;
    }
    digest_name = xasprintf("%s@%s", ref->repo, top);
    refs[n_refs++] = digest_name;
    _cleanup_free_ char *before =
        current_id(s, tag_name ? tag_name : digest_name);
    char *id = NULL;
    rc = image_store_add_blobs(s, config, config_len, ib, m->n_layers, refs,
                               n_refs, &id, err);
    free(ib);
    if (rc < 0)
        return err_ctx(err, "register image");
    bool same = before && strcmp(before, id) == 0;
    _cleanup_free_ char *dmsg = xasprintf("Digest: %s", top);
    emit(sink, reg_msg_status(NULL, dmsg));
    _cleanup_free_ char *smsg = xasprintf(
        "Status: %s for %s",
        same ? "Image is up to date" : "Downloaded newer image", name);
    emit(sink, reg_msg_status(NULL, smsg));
    *result = json_pack("{s:s, s:s, s:s, s:b}", "ID", id, "Digest", top, "Name",
                        name, "UpToDate", same);
    free(id);
    return 0;
}

int reg_pull(struct image_store *s, const struct reg_ref *ref,
             const struct reg_creds *creds, const struct reg_sink *sink,
             json_t **result, struct err *err)
{
    *result = NULL;
    struct reg_client c;
    reg_client_init(&c, ref, creds, "pull", NULL, sink ? sink->stop : NULL);
    _cleanup_free_ char *name = reg_ref_string(ref);
    char *top = NULL, *doc = NULL, *mt = NULL, *config = NULL;
    size_t doc_len = 0, config_len = 0;
    struct reg_manifest m = {0};
    json_t *cfg = NULL;
    const char **diff_ids = NULL;
    struct blob *blobs = NULL, **todo = NULL;
    struct reg_pull_step *steps = NULL;
    bool *have = NULL;
    int rc = reg_fetch_manifest(&c, ref, &top, &doc, &doc_len, &mt, err);
    if (rc == 0)
        rc = reg_manifest_parse(mt, doc, doc_len, &m, err);
    if (rc == 0 && m.kind != REG_KIND_MANIFEST)
        rc = err_set(err, ERR_INVALID,
                     "invalid manifest from the registry: an index inside "
                     "an index");
    if (rc < 0)
        goto out;

    /* The first message, once the registry has answered (an unknown
     * image fails as an HTTP error, before any output, like dockerd). */
    {
        const char *shown = ref->digest ? ref->digest
                            : ref->tag  ? ref->tag
                                        : "latest";
        _cleanup_free_ char *msg = xasprintf("Pulling from %s", ref->path);
        emit(sink, reg_msg_status(shown, msg));
    }
    if ((rc = get_config(&c, &m.config, &config, &config_len, err)) < 0)
        goto out;
    json_error_t je;
    cfg = json_loadb(config, config_len, 0, &je);
    if (!json_is_object(cfg)) {
        rc = err_set(err, ERR_INVALID, "invalid image config: %s",
                     cfg ? "not an object" : je.text);
        goto out;
    }
    size_t n_ids = 0;
    if (!(diff_ids = diff_ids_of(cfg, &n_ids, err))) {
        rc = -1;
        goto out;
    }
    have = xcalloc(m.n_layers + 1, sizeof(bool));
    for (size_t i = 0; i < m.n_layers && i < n_ids; i++)
        have[i] = image_store_has_layer(s, diff_ids[i]);
    steps = xcalloc(m.n_layers + 1, sizeof(*steps));
    if ((rc = reg_pull_plan(&m, diff_ids, n_ids, have, steps, err)) < 0)
        goto out;

    blobs = xcalloc(m.n_layers + 1, sizeof(*blobs));
    todo = xcalloc(m.n_layers + 1, sizeof(*todo));
    size_t n_todo = 0;
    for (size_t i = 0; i < m.n_layers; i++) {
        struct blob *b = &blobs[i];
        b->fd = -1;
        reg_short_id(m.layers[i].digest, b->id);
        if (steps[i].action == REG_PULL_EXISTS) {
            emit(sink, reg_msg_status(b->id, "Already exists"));
            continue;
        }
        if (steps[i].action == REG_PULL_DUP)
            continue;
        b->c = &c;
        b->sink = sink;
        b->s = s;
        b->index = i;
        b->diff_id = diff_ids[i];
        b->media_type = m.layers[i].media_type;
        b->digest = m.layers[i].digest;
        b->size = m.layers[i].size;
        b->path = image_store_tmp_path(s, "pull");
        todo[n_todo++] = b;
        emit(sink, reg_msg_status(b->id, "Pulling fs layer"));
    }
    for (size_t i = PULL_THREADS; i < n_todo; i++)
        emit(sink, reg_msg_status(todo[i]->id, "Waiting"));
    if ((rc = download_all(todo, n_todo, err)) < 0)
        goto out;

    rc = finish(s, ref, &m, steps, blobs, top, config, config_len, name, sink,
                result, err);
out:
    for (size_t i = 0; blobs && i < m.n_layers; i++) {
        if (blobs[i].prepared) /* the image holds it now, or it goes */
            image_store_unpin_layer(s, blobs[i].diff_id);
        if (blobs[i].path) {
            unlink(blobs[i].path);
            free(blobs[i].path);
        }
    }
    free(blobs);
    free(todo);
    free(steps);
    free(have);
    free(diff_ids);
    json_decref(cfg);
    reg_manifest_fini(&m);
    free(top);
    free(doc);
    free(mt);
    free(config);
    reg_client_fini(&c);
    return rc;
}
