// SPDX-License-Identifier: Apache-2.0
// Internals shared by the image store's files (src/runtime/image*.c): the
// in-memory records and their lock, layer unpacking and the JSON views.
// Nothing outside image*.c includes this.
#pragma once

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/hmap.h"
#include "base/timeutil.h"
#include "runtime/image.h"
#include "runtime/image_digest.h"
#include "runtime/image_ref.h"

/* Bytes of a JSON document (manifest, index, config) we agree to parse. */
#define IMAGE_MAX_JSON (32 * 1024 * 1024)

/* ---- The store's records (image.c), guarded by image_store.lock ---- */

struct image_layer {
    char *diff_id; /* "sha256:...", the key of image_store.layers */
    char *name;    /* directory name under layers/ (key of layer_names) */
    int64_t size;  /* bytes of regular files */
    int refs;      /* images (one per occurrence) and operations in flight */
    bool ready;    /* unpacked and in place */
    bool busy;     /* a thread is unpacking it (others wait on layer_cond) */
};

struct image_rec {
    char *id;        /* "sha256:<hex>", the key of image_store.images */
    json_t *config;  /* the parsed config document */
    char **diff_ids; /* rootfs.diff_ids, bottom first */
    size_t n_layers;
    int64_t size;     /* sum of its distinct layers */
    int64_t created;  /* ns since the epoch from config "created", or 0 */
    int64_t last_tag; /* ns; 0 = never tagged by image_tag */
    int64_t loaded;   /* ns; when it entered this store */
};

/* A name pointing at an image: "busybox:latest" in tags or
 * "busybox@sha256:..." in digests. */
struct image_name {
    char *name; /* key */
    char *id;   /* "sha256:..." */
};

struct image_store {
    char *root; /* realpath */
    char *blobs_dir, *layers_dir, *images_dir, *tmp_dir, *repos_path;
    int refs; /* holders: the owner and queued operations (loop thread) */
    pthread_mutex_t lock;
    pthread_cond_t layer_cond;
    struct hmap images;      /* id -> struct image_rec */
    struct hmap layers;      /* diff id -> struct image_layer */
    struct hmap layer_names; /* dir name -> struct image_layer */
    struct hmap tags;        /* "repo:tag" -> struct image_name */
    struct hmap digests;     /* "repo@sha256:..." -> struct image_name */
};

/* Sets err to 404 "No such image: NAME"; returns -1. */
int image_no_such(struct err *err, const char *name);
/* Lookup of name as image_inspect documents it; with the lock held. */
struct image_rec *image_find_locked(struct image_store *s, const char *name);
/* Names pointing at id, sorted (owned array of borrowed strings, NULL
 * terminated); with the lock held. */
const char **image_names_locked(struct image_store *s, const struct hmap *m,
                                const char *id, size_t *n);
/* Absolute path of a layer's unpacked tree (owned). */
char *image_layer_dir(const struct image_store *s, const struct image_layer *l);

/* ---- Layers on disk (image_layer.c); no lock needed ---- */

/* Unpacks the layer blob into layers/<name>, via a temporary directory
 * renamed into place, and keeps the blob itself there (layers/<name>/blob,
 * described in layer.json). When expect_diff_id is non-NULL the digest of
 * the uncompressed tar must match (400 otherwise). *size gets the bytes of
 * regular files. */
int image_layer_unpack(const struct image_store *s,
                       const struct image_blob *blob, const char *name,
                       const char *expect_diff_id, int64_t *size,
                       struct err *err);
/* The kept blob of layers/<name>: its path (owned), digest (owned), media
 * type (owned) and size; -1 if the layer has none. */
int image_layer_read_blob(const struct image_store *s, const char *name,
                          char **path, char **digest, char **media_type,
                          int64_t *size);
/* The diff id ("sha256:...") of a layer blob: the digest of its
 * uncompressed stream. */
int image_layer_diff_id(const char *src, char out[IMAGE_DIGEST_LEN],
                        struct err *err);
/* Reads layers/<name>/layer.json; -1 if missing or invalid. */
int image_layer_read_meta(const struct image_store *s, const char *name,
                          char **diff_id, int64_t *size);
/* Moves layers/<name> out of the way (fast, under the lock) into a
 * temporary name and returns it (owned) for image_remove_tree later, or
 * NULL if it was not there. */
char *image_layer_detach(const struct image_store *s, const char *name);
/* rm -rf that also copes with read-only directories when not root. */
void image_remove_tree(const char *path);
/* A fresh unique path under tmp/ (owned; nothing created). */
char *image_tmp_path(const struct image_store *s, const char *what);

/* ---- JSON views and configs (image_meta.c); lock held by the caller ---- */

json_t *image_summary_locked(struct image_store *s,
                             const struct image_rec *img);
json_t *image_inspect_locked(struct image_store *s,
                             const struct image_rec *img);
/* Does the image pass the /images/json filters? */
bool image_filter_match_locked(struct image_store *s,
                               const struct image_rec *img,
                               const json_t *filters);
/* Applies Dockerfile-style change lines (array of strings, or one string)
 * to a config's "config" object. 400 on bad lines. */
int image_apply_changes(json_t *cfg, const json_t *changes, struct err *err);
