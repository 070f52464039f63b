// SPDX-License-Identifier: Apache-2.0
// The image store: its records (images, layers, names), their persistence,
// lookup, tagging, removal and resolution for the container runtime.
// Loading (image_load.c), the JSON views (image_meta.c) and the thread-pool
// plumbing (image_async.c) sit on top of it.
//
// Threading. Unlike the single-threaded control plane, this store is used
// from two sides at once: the loop thread (list, inspect, resolve, tag,
// remove) and libuv's thread pool (load, import, image_store_add). One
// mutex, image_store.lock, guards every in-memory record and every write of
// metadata files; slow work (reading archives, unpacking layers) runs
// without it. Operations pin the layers they are about to use (refs), so a
// concurrent remove never deletes them; a layer being unpacked is marked
// busy and a second operation wanting it waits on layer_cond instead of
// unpacking it twice. Callbacks into other subsystems (in_use) are never
// made with the lock held.
//
// On disk, under root (e.g. /var/lib/shoal/images):
//   blobs/sha256/<hex>        image configs, exact bytes (id = their sha256)
//   images/<hex>.json         per-image metadata: size, load and tag times
//   layers/<name>/diff/       an unpacked layer (an overlayfs lower dir)
//   layers/<name>/layer.json  {"DiffID": "sha256:...", "Size": n}
//   repositories.json         {"Tags": {"busybox:latest": "sha256:..."},
//                              "Digests": {"busybox@sha256:...": ...}}
//   tmp/                      work space, emptied at open
// Layers are keyed by diff id (the digest of the uncompressed tar): with
// overlayfs a layer's tree does not depend on what lies below it, so equal
// layers are shared by every image that has them. <name> is the first 12
// hex digits of the diff id (all 64 after a collision), which keeps the
// lowerdir mount option of a many-layer image well under a page. Files are
// written to a temporary name and renamed; layers are unpacked under tmp/
// and renamed into place. Commit order: layers, config blob, image
// metadata, repositories.json; opening the store drops whatever an
// interrupted sequence left unreferenced.
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/vec.h"
#include "runtime/image_internal.h"

#define SHORT_NAME_LEN 12

/* ---- Records ---- */

static void rec_free(struct image_rec *img)
{
    if (!img)
        return;
    free(img->id);
    json_decref(img->config);
    for (size_t i = 0; i < img->n_layers; i++)
        free(img->diff_ids[i]);
    free(img->diff_ids);
    free(img);
}

static void layer_free(struct image_layer *l)
{
    if (!l)
        return;
    free(l->diff_id);
    free(l->name);
    free(l);
}

static void name_free(struct image_name *n)
{
    if (!n)
        return;
    free(n->name);
    free(n->id);
    free(n);
}

/* Parses and checks a config document into a record (not yet in any
 * map). */
static struct image_rec *rec_from_config(const char *id, const void *data,
                                         size_t len, struct err *err)
{
    json_error_t jerr;
    json_t *cfg = json_loadb(data, len, 0, &jerr);
    if (!cfg || !json_is_object(cfg)) {
        json_decref(cfg);
        err_set(err, ERR_INVALID, "invalid image config: %s",
                cfg ? "not an object" : jerr.text);
        return NULL;
    }
    json_t *rootfs = json_object_get(cfg, "rootfs");
    json_t *ids = json_object_get(rootfs, "diff_ids");
    const char *type = jx_str(rootfs, "type");
    if (!type || strcmp(type, "layers") != 0 ||
        !(json_is_array(ids) || json_is_null(ids) || !ids)) {
        json_decref(cfg);
        err_set(err, ERR_INVALID,
                "invalid image config: rootfs must be of type \"layers\"");
        return NULL;
    }
    struct image_rec *img = xcalloc(1, sizeof(*img));
    img->id = xstrdup(id);
    img->config = cfg;
    img->n_layers = json_array_size(ids);
    img->diff_ids = xcalloc(img->n_layers + 1, sizeof(char *));
    for (size_t i = 0; i < img->n_layers; i++) {
        const char *d = json_string_value(json_array_get(ids, i));
        if (!d || !image_is_digest(d)) {
            err_set(err, ERR_INVALID, "invalid image config: bad diff id %zu",
                    i);
            img->n_layers = i;
            rec_free(img);
            return NULL;
        }
        img->diff_ids[i] = xstrdup(d);
    }
    const char *created = jx_str(cfg, "created");
    if (!created || time_parse_rfc3339(created, &img->created) < 0 ||
        img->created < 0)
        img->created = 0;
    return img;
}

static const char *hex_of(const char *id)
{
    return id + 7; /* after "sha256:" */
}

/* ---- Persistence (lock held) ---- */

static int save_repos_locked(struct image_store *s, struct err *err)
{
    _cleanup_json_ json_t *doc = json_object();
    json_t *tags = jx_obj(doc, "Tags");
    json_t *digests = jx_obj(doc, "Digests");
    const char *k;
    void *v;
    for (size_t it = 0; hmap_next(&s->tags, &it, &k, &v);)
        json_object_set_new(tags, k, json_string(((struct image_name *)v)->id));
    for (size_t it = 0; hmap_next(&s->digests, &it, &k, &v);)
        json_object_set_new(digests, k,
                            json_string(((struct image_name *)v)->id));
    _cleanup_free_ char *text =
        json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (!text)
        abort();
    if (fs_write_file_atomic(s->repos_path, text, strlen(text), 0600, err))
        return err_ctx(err, "save image names");
    return 0;
}

static int save_meta_locked(struct image_store *s, const struct image_rec *img,
                            struct err *err)
{
    _cleanup_json_ json_t *meta = json_pack(
        "{s:I, s:I, s:I}", "Size", (json_int_t)img->size, "Loaded",
        (json_int_t)img->loaded, "LastTagTime", (json_int_t)img->last_tag);
    _cleanup_free_ char *text = jx_dumps(meta);
    _cleanup_free_ char *path =
        xasprintf("%s/%s.json", s->images_dir, hex_of(img->id));
    if (fs_write_file_atomic(path, text, strlen(text), 0600, err) < 0)
        return err_ctx(err, "save image metadata");
    return 0;
}

static int save_blob_locked(struct image_store *s, const char *id,
                            const void *data, size_t len, struct err *err)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", s->blobs_dir, hex_of(id));
    if (fs_exists(path))
        return 0;
    if (fs_write_file_atomic(path, data, len, 0600, err) < 0)
        return err_ctx(err, "save image config");
    return 0;
}

/* ---- Names ---- */

static void set_name_locked(struct hmap *m, const char *name, const char *id)
{
    struct image_name *n = xcalloc(1, sizeof(*n));
    n->name = xstrdup(name);
    n->id = xstrdup(id);
    name_free(hmap_put(m, n->name, n));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **image_names_locked(struct image_store *s, const struct hmap *m,
                                const char *id, size_t *n)
{
    (void)s;
    struct vec v;
    vec_init(&v);
    const char *k;
    void *val;
    for (size_t it = 0; hmap_next(m, &it, &k, &val);)
        if (strcmp(((struct image_name *)val)->id, id) == 0)
            vec_push(&v, (void *)k);
    if (v.len)
        qsort(v.items, v.len, sizeof(void *), cmp_str);
    vec_push(&v, NULL);
    *n = v.len - 1;
    return (const char **)v.items;
}

/* ---- Lookup ---- */

enum found_by { FOUND_BY_ID, FOUND_BY_TAG, FOUND_BY_DIGEST };

/* *key (owned) gets the normalised name when found by tag or digest. */
static struct image_rec *find_locked(struct image_store *s, const char *name,
                                     enum found_by *by, char **key)
{
    if (key)
        *key = NULL;
    if (!name || !*name)
        return NULL;
    const char *hex = strncmp(name, "sha256:", 7) == 0 ? name + 7 : name;
    if (image_is_hex(hex, 64, 64)) {
        char id[IMAGE_DIGEST_LEN];
        snprintf(id, sizeof(id), "sha256:%s", hex);
        if (by)
            *by = FOUND_BY_ID;
        return hmap_get(&s->images, id);
    }
    struct image_refname r;
    struct err err = {0};
    if (image_refname_parse(name, &r, &err) == 0) {
        bool digest = r.digest != NULL;
        _cleanup_free_ char *k = NULL;
        if (digest) {
            _cleanup_free_ char *repo = image_refname_repo(&r);
            k = xasprintf("%s@%s", repo, r.digest);
        } else {
            k = image_refname_string(&r);
        }
        image_refname_fini(&r);
        struct image_name *n = hmap_get(digest ? &s->digests : &s->tags, k);
        struct image_rec *img = n ? hmap_get(&s->images, n->id) : NULL;
        if (img) {
            if (by)
                *by = digest ? FOUND_BY_DIGEST : FOUND_BY_TAG;
            if (key)
                *key = steal_ptr(k);
            return img;
        }
    }
    if (!image_is_hex(hex, 1, 63))
        return NULL;
    struct image_rec *match = NULL;
    const char *k;
    void *v;
    size_t n = strlen(hex);
    for (size_t it = 0; hmap_next(&s->images, &it, &k, &v);) {
        if (strncmp(hex_of(k), hex, n) != 0)
            continue;
        if (match)
            return NULL; /* ambiguous */
        match = v;
    }
    if (match && by)
        *by = FOUND_BY_ID;
    return match;
}

struct image_rec *image_find_locked(struct image_store *s, const char *name)
{
    return find_locked(s, name, NULL, NULL);
}

int image_no_such(struct err *err, const char *name)
{
    return err_set(err, ERR_NOTFOUND, "No such image: %s", name);
}

/* ---- Layers (lock held) ---- */

static struct image_layer *layer_get_or_add_locked(struct image_store *s,
                                                   const char *diff_id)
{
    struct image_layer *l = hmap_get(&s->layers, diff_id);
    if (l)
        return l;
    l = xcalloc(1, sizeof(*l));
    l->diff_id = xstrdup(diff_id);
    l->name = xstrndup(hex_of(diff_id), SHORT_NAME_LEN);
    _cleanup_free_ char *path = xasprintf("%s/%s", s->layers_dir, l->name);
    if (hmap_get(&s->layer_names, l->name) || fs_exists(path)) {
        free(l->name);
        l->name = xstrdup(hex_of(diff_id));
    }
    hmap_put(&s->layers, l->diff_id, l);
    hmap_put(&s->layer_names, l->name, l);
    return l;
}

/* Drops one reference; a layer nobody holds is taken out of the maps and
 * its directory moved aside; the moved path is pushed on trash for
 * image_remove_tree once the lock is released. Returns whether it went. */
static bool layer_unref_locked(struct image_store *s, struct image_layer *l,
                               struct vec *trash)
{
    if (--l->refs > 0)
        return false;
    hmap_del(&s->layers, l->diff_id);
    hmap_del(&s->layer_names, l->name);
    char *moved = l->ready ? image_layer_detach(s, l->name) : NULL;
    if (moved)
        vec_push(trash, moved);
    layer_free(l);
    return true;
}

static void empty_trash(struct vec *trash)
{
    for (size_t i = 0; i < trash->len; i++) {
        image_remove_tree(trash->items[i]);
        free(trash->items[i]);
    }
    vec_fini(trash);
}

/* ---- Opening ---- */

static void scan_layers(struct image_store *s)
{
    DIR *d = opendir(s->layers_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *diff_id = NULL;
        int64_t size = 0;
        if (image_layer_read_meta(s, de->d_name, &diff_id, &size) < 0 ||
            hmap_get(&s->layers, diff_id)) {
            log_warn("image store: dropping incomplete layer '%s'", de->d_name);
            free(diff_id);
            _cleanup_free_ char *p =
                xasprintf("%s/%s", s->layers_dir, de->d_name);
            image_remove_tree(p);
            continue;
        }
        struct image_layer *l = xcalloc(1, sizeof(*l));
        l->diff_id = diff_id;
        l->name = xstrdup(de->d_name);
        l->size = size;
        l->ready = true;
        hmap_put(&s->layers, l->diff_id, l);
        hmap_put(&s->layer_names, l->name, l);
    }
    closedir(d);
}

/* Loads images/<hex>.json with its config blob; false if it is not a
 * complete image. */
static bool load_image(struct image_store *s, const char *hex)
{
    _cleanup_free_ char *blob = xasprintf("%s/%s", s->blobs_dir, hex);
    _cleanup_free_ char *meta_path =
        xasprintf("%s/%s.json", s->images_dir, hex);
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    struct err err = {0};
    if (fs_read_file(blob, &data, &len, &err) < 0)
        return false;
    char got[65];
    image_sha256_hex(data, len, got);
    if (strcmp(got, hex) != 0)
        return false;
    json_error_t jerr;
    _cleanup_json_ json_t *meta = json_load_file(meta_path, 0, &jerr);
    if (!meta)
        return false;
    _cleanup_free_ char *id = xasprintf("sha256:%s", hex);
    struct image_rec *img = rec_from_config(id, data, len, &err);
    if (!img)
        return false;
    for (size_t i = 0; i < img->n_layers; i++) {
        struct image_layer *l = hmap_get(&s->layers, img->diff_ids[i]);
        if (!l) {
            /* Release the refs taken so far. */
            for (size_t j = 0; j < i; j++)
                ((struct image_layer *)hmap_get(&s->layers, img->diff_ids[j]))
                    ->refs--;
            rec_free(img);
            return false;
        }
        l->refs++;
    }
    img->size = jx_int(meta, "Size", 0);
    img->loaded = jx_int(meta, "Loaded", 0);
    img->last_tag = jx_int(meta, "LastTagTime", 0);
    hmap_put(&s->images, img->id, img);
    return true;
}

static void scan_images(struct image_store *s)
{
    DIR *d = opendir(s->images_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *hex = n == 69 ? xstrndup(de->d_name, 64) : NULL;
        if (hex && strcmp(de->d_name + 64, ".json") == 0 &&
            image_is_hex(hex, 64, 64) && load_image(s, hex))
            continue;
        log_warn("image store: dropping incomplete image '%s'", de->d_name);
        _cleanup_free_ char *p = xasprintf("%s/%s", s->images_dir, de->d_name);
        unlink(p);
    }
    closedir(d);
}

static void load_names(struct image_store *s)
{
    json_error_t jerr;
    _cleanup_json_ json_t *doc = json_load_file(s->repos_path, 0, &jerr);
    if (!doc)
        return;
    struct {
        const char *key;
        struct hmap *map;
    } parts[] = {{"Tags", &s->tags}, {"Digests", &s->digests}};
    for (size_t p = 0; p < ARRAY_SIZE(parts); p++) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(doc, parts[p].key), k, v)
        {
            const char *id = json_string_value(v);
            if (id && hmap_get(&s->images, id))
                set_name_locked(parts[p].map, k, id);
        }
    }
}

/* Drops layers and config blobs no image uses (left by a crash). */
static void collect_garbage(struct image_store *s)
{
    struct vec trash;
    vec_init(&trash);
    const char *k;
    void *v;
    for (size_t it = 0; hmap_next(&s->layers, &it, &k, &v);) {
        struct image_layer *l = v;
        if (l->refs == 0) {
            l->refs = 1;
            layer_unref_locked(s, l, &trash);
        }
    }
    empty_trash(&trash);
    DIR *d = opendir(s->blobs_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *id = xasprintf("sha256:%s", de->d_name);
        if (hmap_get(&s->images, id))
            continue;
        _cleanup_free_ char *p = xasprintf("%s/%s", s->blobs_dir, de->d_name);
        unlink(p);
    }
    closedir(d);
}

static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
        image_remove_tree(p);
    }
    closedir(d);
}

struct image_store *image_store_new(const char *root, struct err *err)
{
    if (fs_mkdir_p(root, 0700, err) < 0)
        goto fail;
    /* libarchive refuses to extract through a symlink anywhere in the
     * destination path, so work from the resolved root. */
    char real[PATH_MAX];
    if (!realpath(root, real)) {
        err_sys(err, errno, "resolve '%s'", root);
        goto fail;
    }
    struct image_store *s = xcalloc(1, sizeof(*s));
    s->root = xstrdup(real);
    s->blobs_dir = xasprintf("%s/blobs/sha256", real);
    s->layers_dir = xasprintf("%s/layers", real);
    s->images_dir = xasprintf("%s/images", real);
    s->tmp_dir = xasprintf("%s/tmp", real);
    s->repos_path = xasprintf("%s/repositories.json", real);
    s->refs = 1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->layer_cond, NULL);
    hmap_init(&s->images);
    hmap_init(&s->layers);
    hmap_init(&s->layer_names);
    hmap_init(&s->tags);
    hmap_init(&s->digests);
    const char *dirs[] = {s->blobs_dir, s->layers_dir, s->images_dir,
                          s->tmp_dir};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        if (fs_mkdir_p(dirs[i], 0700, err) < 0) {
            image_store_free(s);
            goto fail;
        }
    }
    /* Nobody else uses the store yet: no lock needed while opening. */
    empty_dir(s->tmp_dir);
    scan_layers(s);
    scan_images(s);
    load_names(s);
    collect_garbage(s);
    return s;
fail:
    err->code = ERR_INTERNAL;
    err_ctx(err, "open image store");
    return NULL;
}

void image_store_release(struct image_store *s)
{
    if (--s->refs > 0)
        return;
    const char *k;
    void *v;
    for (size_t it = 0; hmap_next(&s->images, &it, &k, &v);)
        rec_free(v);
    for (size_t it = 0; hmap_next(&s->layers, &it, &k, &v);)
        layer_free(v);
    for (size_t it = 0; hmap_next(&s->tags, &it, &k, &v);)
        name_free(v);
    for (size_t it = 0; hmap_next(&s->digests, &it, &k, &v);)
        name_free(v);
    hmap_fini(&s->images);
    hmap_fini(&s->layers);
    hmap_fini(&s->layer_names);
    hmap_fini(&s->tags);
    hmap_fini(&s->digests);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->layer_cond);
    free(s->root);
    free(s->blobs_dir);
    free(s->layers_dir);
    free(s->images_dir);
    free(s->tmp_dir);
    free(s->repos_path);
    free(s);
}

void image_store_hold(struct image_store *s)
{
    s->refs++;
}

char *image_store_tmp_path(struct image_store *s, const char *what)
{
    return image_tmp_path(s, what);
}

void image_store_free(struct image_store *s)
{
    if (s)
        image_store_release(s);
}

/* ---- Adding images ---- */

/* Normalises refs into tag keys ("repo:tag") and digest keys
 * ("repo@sha256:..."). */
static int normalise_refs(const char *const *refs, size_t n, struct vec *tags,
                          struct vec *digests, struct err *err)
{
    for (size_t i = 0; i < n; i++) {
        struct image_refname r;
        if (image_refname_parse(refs[i], &r, err) < 0)
            return err_ctx(err, "name \"%s\"", refs[i]);
        if (r.digest) {
            _cleanup_free_ char *repo = image_refname_repo(&r);
            vec_push(digests, xasprintf("%s@%s", repo, r.digest));
        } else {
            vec_push(tags, image_refname_string(&r));
        }
        image_refname_fini(&r);
    }
    return 0;
}

static void free_strings(struct vec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    vec_fini(v);
}

/* Makes sure layer i is unpacked: waits for another thread doing it, or
 * does it. */
static int ensure_layer(struct image_store *s, struct image_layer *l,
                        const struct image_blob *blob, size_t index,
                        struct err *err)
{
    pthread_mutex_lock(&s->lock);
    while (l->busy)
        pthread_cond_wait(&s->layer_cond, &s->lock);
    if (l->ready) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    l->busy = true;
    pthread_mutex_unlock(&s->lock);

    int64_t size = 0;
    int r;
    if (!blob->path)
        r = err_set(err, ERR_INTERNAL, "layer %s is not in the store",
                    l->diff_id);
    else
        r = image_layer_unpack(s, blob, l->name, l->diff_id, &size, err);

    pthread_mutex_lock(&s->lock);
    l->busy = false;
    if (r == 0) {
        l->ready = true;
        l->size = size;
    }
    pthread_cond_broadcast(&s->layer_cond);
    pthread_mutex_unlock(&s->lock);
    if (r < 0)
        return err_ctx(err, "layer %zu", index + 1);
    return 0;
}

static int64_t image_size_locked(struct image_store *s,
                                 const struct image_rec *img)
{
    int64_t total = 0;
    for (size_t i = 0; i < img->n_layers; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(img->diff_ids[i], img->diff_ids[j]) == 0;
        struct image_layer *l = hmap_get(&s->layers, img->diff_ids[i]);
        if (!seen && l)
            total += l->size;
    }
    return total;
}

/* Publishes img (or finds it already there) and points the names at it.
 * Takes over the layer pins if img is new. */
static int commit_locked(struct image_store *s, struct image_rec **imgp,
                         const void *config, size_t len, struct vec *tags,
                         struct vec *digests, bool *pins_done,
                         struct vec *trash, struct err *err)
{
    struct image_rec *img = *imgp;
    struct image_rec *have = hmap_get(&s->images, img->id);
    if (have) {
        /* Its own references keep the layers; ours go. */
        for (size_t i = 0; i < img->n_layers; i++)
            layer_unref_locked(s, hmap_get(&s->layers, img->diff_ids[i]),
                               trash);
        *pins_done = true;
    } else {
        img->size = image_size_locked(s, img);
        img->loaded = time_now_ns();
        if (save_blob_locked(s, img->id, config, len, err) < 0 ||
            save_meta_locked(s, img, err) < 0)
            return -1;
        hmap_put(&s->images, img->id, img);
        *imgp = NULL; /* owned by the map now, pins included */
        *pins_done = true;
        have = img;
    }
    for (size_t i = 0; i < tags->len; i++)
        set_name_locked(&s->tags, tags->items[i], have->id);
    for (size_t i = 0; i < digests->len; i++)
        set_name_locked(&s->digests, digests->items[i], have->id);
    return save_repos_locked(s, err);
}

int image_store_add(struct image_store *s, const void *config,
                    size_t config_len, const char *const *layer_paths,
                    size_t n_layers, const char *const *refs, size_t n_refs,
                    char **id_out, struct err *err)
{
    struct image_blob *blobs = xcalloc(n_layers + 1, sizeof(*blobs));
    for (size_t i = 0; i < n_layers && layer_paths; i++)
        blobs[i].path = layer_paths[i];
    int rc = image_store_add_blobs(s, config, config_len, blobs, n_layers, refs,
                                   n_refs, id_out, err);
    free(blobs);
    return rc;
}

int image_store_add_blobs(struct image_store *s, const void *config,
                          size_t config_len, const struct image_blob *blobs,
                          size_t n_layers, const char *const *refs,
                          size_t n_refs, char **id_out, struct err *err)
{
    char hex[65];
    image_sha256_hex(config, config_len, hex);
    char id[IMAGE_DIGEST_LEN];
    snprintf(id, sizeof(id), "sha256:%s", hex);
    struct image_rec *img = rec_from_config(id, config, config_len, err);
    if (!img)
        return -1;
    if (img->n_layers != n_layers) {
        err_set(err, ERR_INVALID,
                "invalid image: its config lists %zu layers, %zu given",
                img->n_layers, n_layers);
        rec_free(img);
        return -1;
    }
    struct vec tags, digests, trash;
    vec_init(&tags);
    vec_init(&digests);
    vec_init(&trash);
    int ret = normalise_refs(refs, n_refs, &tags, &digests, err);
    if (ret < 0)
        goto out_refs;

    /* Pin every layer so that no remove takes them from under us. */
    struct image_layer **layers = xcalloc(n_layers + 1, sizeof(*layers));
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < n_layers; i++) {
        layers[i] = layer_get_or_add_locked(s, img->diff_ids[i]);
        layers[i]->refs++;
    }
    pthread_mutex_unlock(&s->lock);

    for (size_t i = 0; i < n_layers && ret == 0; i++)
        ret = ensure_layer(s, layers[i], &blobs[i], i, err);

    bool pins_done = false;
    pthread_mutex_lock(&s->lock);
    if (ret == 0)
        ret = commit_locked(s, &img, config, config_len, &tags, &digests,
                            &pins_done, &trash, err);
    if (!pins_done) /* not published: drop the pins */
        for (size_t i = 0; i < n_layers; i++)
            layer_unref_locked(s, layers[i], &trash);
    pthread_mutex_unlock(&s->lock);
    free(layers);
    empty_trash(&trash);
    if (ret == 0 && id_out)
        *id_out = xstrdup(id);
out_refs:
    rec_free(img);
    free_strings(&tags);
    free_strings(&digests);
    return ret;
}

int image_store_prepare_layer(struct image_store *s,
                              const struct image_blob *blob,
                              const char *diff_id, size_t index,
                              struct err *err)
{
    if (!image_is_digest(diff_id))
        return err_set(err, ERR_INVALID, "invalid diff id \"%s\"", diff_id);
    pthread_mutex_lock(&s->lock);
    struct image_layer *l = layer_get_or_add_locked(s, diff_id);
    l->refs++;
    pthread_mutex_unlock(&s->lock);
    int rc = ensure_layer(s, l, blob, index, err);
    if (rc < 0)
        image_store_unpin_layer(s, diff_id);
    return rc;
}

void image_store_unpin_layer(struct image_store *s, const char *diff_id)
{
    struct vec trash;
    vec_init(&trash);
    pthread_mutex_lock(&s->lock);
    struct image_layer *l = hmap_get(&s->layers, diff_id);
    if (l)
        layer_unref_locked(s, l, &trash);
    pthread_mutex_unlock(&s->lock);
    empty_trash(&trash);
}

bool image_store_has_layer(struct image_store *s, const char *diff_id)
{
    pthread_mutex_lock(&s->lock);
    struct image_layer *l = hmap_get(&s->layers, diff_id);
    bool ready = l && l->ready;
    pthread_mutex_unlock(&s->lock);
    return ready;
}

/* ---- Push ---- */

void image_push_info_free(struct image_push_info *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_layers; i++) {
        free(p->layers[i].diff_id);
        free(p->layers[i].path);
        free(p->layers[i].digest);
        free(p->layers[i].media_type);
    }
    free(p->layers);
    free(p->config);
    free(p->id);
    free(p);
}

struct image_push_info *image_store_push_info(struct image_store *s,
                                              const char *name, struct err *err)
{
    pthread_mutex_lock(&s->lock);
    struct image_rec *img = image_find_locked(s, name);
    if (!img) {
        pthread_mutex_unlock(&s->lock);
        image_no_such(err, name);
        return NULL;
    }
    struct image_push_info *p = xcalloc(1, sizeof(*p));
    p->id = xstrdup(img->id);
    p->n_layers = img->n_layers;
    p->layers = xcalloc(img->n_layers + 1, sizeof(*p->layers));
    char **names = xcalloc(img->n_layers + 1, sizeof(char *));
    for (size_t i = 0; i < img->n_layers; i++) {
        struct image_layer *l = hmap_get(&s->layers, img->diff_ids[i]);
        p->layers[i].diff_id = xstrdup(img->diff_ids[i]);
        names[i] = xstrdup(l->name);
    }
    pthread_mutex_unlock(&s->lock);

    /* The files are read without the lock: they never change once
     * written, and a concurrent remove makes the push fail cleanly. */
    int rc = 0;
    _cleanup_free_ char *blob = xasprintf("%s/%s", s->blobs_dir, hex_of(p->id));
    if (fs_read_file(blob, &p->config, &p->config_len, err) < 0)
        rc = err_ctx(err, "read the config of \"%s\"", name);
    for (size_t i = 0; i < p->n_layers && rc == 0; i++) {
        struct image_push_layer *l = &p->layers[i];
        if (image_layer_read_blob(s, names[i], &l->path, &l->digest,
                                  &l->media_type, &l->size) < 0)
            rc = err_set(err, ERR_INVALID,
                         "layer %s of \"%s\" has no stored blob to push "
                         "(it was added by an older shoal); load the image "
                         "again",
                         l->diff_id, name);
    }
    for (size_t i = 0; i < p->n_layers; i++)
        free(names[i]);
    free(names);
    if (rc < 0) {
        image_push_info_free(p);
        return NULL;
    }
    return p;
}

int image_store_add_digest(struct image_store *s, const char *id,
                           const char *name_at_digest, struct err *err)
{
    struct vec tags, digests;
    vec_init(&tags);
    vec_init(&digests);
    int rc = normalise_refs(&name_at_digest, 1, &tags, &digests, err);
    if (rc == 0 && digests.len != 1)
        rc =
            err_set(err, ERR_INVALID, "\"%s\" names no digest", name_at_digest);
    if (rc == 0) {
        pthread_mutex_lock(&s->lock);
        if (!hmap_get(&s->images, id))
            rc = image_no_such(err, id);
        else {
            set_name_locked(&s->digests, digests.items[0], id);
            rc = save_repos_locked(s, err);
        }
        pthread_mutex_unlock(&s->lock);
    }
    free_strings(&tags);
    free_strings(&digests);
    return rc;
}

/* ---- Resolution for the runtime ---- */

struct image_ref *image_resolve(struct image_store *s, const char *name,
                                struct err *err)
{
    pthread_mutex_lock(&s->lock);
    struct image_rec *img = image_find_locked(s, name);
    if (!img) {
        pthread_mutex_unlock(&s->lock);
        image_no_such(err, name);
        return NULL;
    }
    struct image_ref *ref = xcalloc(1, sizeof(*ref));
    ref->id = xstrdup(img->id);
    ref->name = xstrdup(name);
    json_t *cfg = json_object_get(img->config, "config");
    ref->config = json_is_object(cfg) ? jx_copy(cfg) : json_object();
    ref->n_layers = img->n_layers;
    ref->layer_dirs = xcalloc(img->n_layers + 1, sizeof(char *));
    for (size_t i = 0; i < img->n_layers; i++)
        ref->layer_dirs[i] =
            image_layer_dir(s, hmap_get(&s->layers, img->diff_ids[i]));
    pthread_mutex_unlock(&s->lock);
    return ref;
}

void image_ref_free(struct image_ref *ref)
{
    if (!ref)
        return;
    free(ref->id);
    free(ref->name);
    json_decref(ref->config);
    for (size_t i = 0; i < ref->n_layers; i++)
        free(ref->layer_dirs[i]);
    free(ref->layer_dirs);
    free(ref);
}

/* ---- Tag and remove ---- */

int image_tag(struct image_store *s, const char *name, const char *repo,
              const char *tag, struct err *err)
{
    if (!repo || !*repo)
        return err_set(err, ERR_INVALID,
                       "repository name must have at "
                       "least one component");
    _cleanup_free_ char *full =
        tag && *tag ? xasprintf("%s:%s", repo, tag) : xstrdup(repo);
    struct image_refname r;
    if (image_refname_parse(full, &r, err) < 0)
        return -1;
    bool digest = r.digest != NULL;
    _cleanup_free_ char *key = image_refname_string(&r);
    image_refname_fini(&r);
    if (digest)
        return err_set(err, ERR_INVALID,
                       "refusing to create a tag with a digest reference");
    pthread_mutex_lock(&s->lock);
    struct image_rec *img = image_find_locked(s, name);
    int ret;
    if (!img) {
        ret = image_no_such(err, name);
    } else {
        set_name_locked(&s->tags, key, img->id);
        img->last_tag = time_now_ns();
        ret = save_meta_locked(s, img, err);
        if (ret == 0)
            ret = save_repos_locked(s, err);
    }
    pthread_mutex_unlock(&s->lock);
    return ret;
}

static void record(json_t *out, const char *what, const char *value)
{
    json_array_append_new(out, json_pack("{s:s}", what, value));
}

static char *repo_part(const char *name)
{
    /* "repo:tag" or "repo@digest" -> "repo" (the ':' after the last '/') */
    const char *at = strchr(name, '@');
    size_t n = at ? (size_t)(at - name) : strlen(name);
    const char *slash = memrchr(name, '/', n);
    const char *colon = memrchr(slash ? slash : name, ':',
                                n - (size_t)((slash ? slash : name) - name));
    if (!at && colon)
        n = (size_t)(colon - name);
    return xstrndup(name, n);
}

static bool names_in_one_repo(const char **tags, size_t nt,
                              const char **digests, size_t nd)
{
    _cleanup_free_ char *first = NULL;
    for (size_t i = 0; i < nt + nd; i++) {
        _cleanup_free_ char *r = repo_part(i < nt ? tags[i] : digests[i - nt]);
        if (!first)
            first = steal_ptr(r);
        else if (strcmp(first, r) != 0)
            return false;
    }
    return true;
}

/* Deletes img and the layers only it held; records what went. */
static void delete_image_locked(struct image_store *s, struct image_rec *img,
                                json_t *out, struct vec *trash)
{
    _cleanup_free_ char *meta =
        xasprintf("%s/%s.json", s->images_dir, hex_of(img->id));
    _cleanup_free_ char *blob =
        xasprintf("%s/%s", s->blobs_dir, hex_of(img->id));
    if (unlink(meta) < 0 && errno != ENOENT)
        log_warn("image store: remove '%s': %s", meta, strerror(errno));
    unlink(blob);
    hmap_del(&s->images, img->id);
    record(out, "Deleted", img->id);
    /* Chain ids name the layers the way docker rmi reports them. */
    char **chain = xcalloc(img->n_layers + 1, sizeof(char *));
    for (size_t i = 0; i < img->n_layers; i++) {
        if (i == 0) {
            chain[i] = xstrdup(img->diff_ids[0]);
            continue;
        }
        _cleanup_free_ char *pair =
            xasprintf("%s %s", chain[i - 1], img->diff_ids[i]);
        char hex[65];
        image_sha256_hex(pair, strlen(pair), hex);
        chain[i] = xasprintf("sha256:%s", hex);
    }
    for (size_t i = img->n_layers; i-- > 0;) {
        struct image_layer *l = hmap_get(&s->layers, img->diff_ids[i]);
        if (l && layer_unref_locked(s, l, trash))
            record(out, "Deleted", chain[i]);
    }
    for (size_t i = 0; i < img->n_layers; i++)
        free(chain[i]);
    free(chain);
    rec_free(img);
}

static int remove_locked(struct image_store *s, const char *name, bool force,
                         bool in_use, const char *cid, json_t *out,
                         struct vec *trash, struct err *err)
{
    enum found_by by;
    _cleanup_free_ char *key = NULL;
    struct image_rec *img = find_locked(s, name, &by, &key);
    if (!img)
        return image_no_such(err, name);
    size_t nt = 0, nd = 0;
    _cleanup_free_ const char **tags =
        image_names_locked(s, &s->tags, img->id, &nt);
    _cleanup_free_ const char **digests =
        image_names_locked(s, &s->digests, img->id, &nd);
    if (by != FOUND_BY_ID) {
        /* As dockerd: removing a repository's last tag also removes that
         * repository's digest references (a pull records both), so the
         * image goes with its last name. */
        size_t same_repo_digests = 0;
        if (by == FOUND_BY_TAG) {
            _cleanup_free_ char *repo = repo_part(key);
            bool other_tag = false;
            for (size_t i = 0; i < nt && !other_tag; i++) {
                _cleanup_free_ char *r = repo_part(tags[i]);
                other_tag = strcmp(tags[i], key) != 0 && strcmp(r, repo) == 0;
            }
            for (size_t i = 0; i < nd && !other_tag; i++) {
                _cleanup_free_ char *r = repo_part(digests[i]);
                if (strcmp(r, repo) == 0)
                    same_repo_digests++;
            }
        }
        size_t remain = nt + nd - 1 - same_repo_digests;
        if (in_use && remain == 0 && !force) {
            if (*cid)
                return err_set(err, ERR_CONFLICT,
                               "conflict: unable to remove repository "
                               "reference \"%s\" (must force) - container "
                               "%.12s is using its referenced image %.12s",
                               name, cid, hex_of(img->id));
            return err_set(err, ERR_CONFLICT,
                           "conflict: unable to remove repository reference "
                           "\"%s\" (must force) - a container is using its "
                           "referenced image %.12s",
                           name, hex_of(img->id));
        }
        struct hmap *m = by == FOUND_BY_TAG ? &s->tags : &s->digests;
        name_free(hmap_del(m, key));
        record(out, "Untagged", key);
        if (same_repo_digests) {
            _cleanup_free_ char *repo = repo_part(key);
            for (size_t i = 0; i < nd; i++) {
                _cleanup_free_ char *r = repo_part(digests[i]);
                if (strcmp(r, repo) != 0)
                    continue;
                record(out, "Untagged", digests[i]);
                name_free(hmap_del(&s->digests, digests[i]));
            }
        }
        if (remain > 0 || in_use)
            return save_repos_locked(s, err);
    } else {
        if (nt + nd > 0 && !force && !names_in_one_repo(tags, nt, digests, nd))
            return err_set(err, ERR_CONFLICT,
                           "conflict: unable to delete %.12s (must be forced) "
                           "- image is referenced in multiple repositories",
                           hex_of(img->id));
        if (in_use) {
            /* Its layers are under a container's rootfs: never delete. */
            if (*cid)
                return err_set(err, ERR_CONFLICT,
                               "conflict: unable to delete %.12s (cannot be "
                               "forced) - image is being used by container "
                               "%.12s",
                               hex_of(img->id), cid);
            return err_set(err, ERR_CONFLICT,
                           "conflict: unable to delete %.12s (cannot be "
                           "forced) - image is being used by a container",
                           hex_of(img->id));
        }
        for (size_t i = 0; i < nt; i++) {
            record(out, "Untagged", tags[i]);
            name_free(hmap_del(&s->tags, tags[i]));
        }
        for (size_t i = 0; i < nd; i++) {
            record(out, "Untagged", digests[i]);
            name_free(hmap_del(&s->digests, digests[i]));
        }
    }
    delete_image_locked(s, img, out, trash);
    return save_repos_locked(s, err);
}

int image_remove(struct image_store *s, const char *name, bool force,
                 image_in_use_fn in_use, void *in_use_data, json_t **out,
                 struct err *err)
{
    *out = NULL;
    /* Ask about containers without the lock (the callback may call back
     * into the store), then decide under it. */
    pthread_mutex_lock(&s->lock);
    struct image_rec *img = image_find_locked(s, name);
    _cleanup_free_ char *id = img ? xstrdup(img->id) : NULL;
    pthread_mutex_unlock(&s->lock);
    if (!id)
        return image_no_such(err, name);
    char cid[65] = "";
    bool used = in_use && in_use(in_use_data, id, cid);
    cid[64] = '\0';

    json_t *records = json_array();
    struct vec trash;
    vec_init(&trash);
    pthread_mutex_lock(&s->lock);
    img = image_find_locked(s, name);
    int ret;
    if (img && strcmp(img->id, id) != 0)
        ret = err_set(err, ERR_CONFLICT,
                      "conflict: \"%s\" changed while being removed", name);
    else
        ret = remove_locked(s, name, force, used, cid, records, &trash, err);
    pthread_mutex_unlock(&s->lock);
    empty_trash(&trash);
    if (ret < 0) {
        json_decref(records);
        return -1;
    }
    *out = records;
    return ret;
}
