// SPDX-License-Identifier: Apache-2.0
// The node's image store: content-addressed blobs, layers unpacked once and
// shared (whiteouts converted to overlayfs form), and the name -> image map.
// Images enter from docker-save / OCI archives (load) and rootfs tarballs
// (import). Node-local: nothing here is in the cluster store.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "base/err.h"

struct image_store;

/* Opens (creating if needed) the store under root, e.g.
 * "/var/lib/shoal/images". */
struct image_store *image_store_new(const char *root, struct err *err);
/* Drops the caller's hold: asynchronous operations still queued keep the
 * store alive until their callbacks have run. */
void image_store_free(struct image_store *s);
/* Another hold on the store, for work that uses it off the loop (the
 * registry client's threads); dropped with image_store_release. Both on
 * the loop thread only. */
void image_store_hold(struct image_store *s);
void image_store_release(struct image_store *s);
/* A fresh unique path under the store's tmp/ (owned; nothing created),
 * for downloads that image_store_add_blobs then takes in: the same file
 * system, so the store keeps them by hard link. tmp/ is emptied at open. */
char *image_store_tmp_path(struct image_store *s, const char *what);

/* Completion of an asynchronous operation, called on the loop thread. On
 * success err is NULL and result is a borrowed JSON value described at each
 * call; on failure result is NULL and err says why (code 400 for a bad
 * archive, 500 otherwise). */
typedef void (*image_done_cb)(void *data, json_t *result,
                              const struct err *err);

/* Loads a docker-save or OCI image-layout archive (tar, optionally gzip) in
 * the thread pool. result: {"Loaded": ["busybox:latest", ...],
 * "LoadedIDs": ["sha256:..."]}; the API turns it into Docker's
 * {"stream":"Loaded image: busybox:latest\n"} messages. Returns -1 (cb not
 * called) only if the work could not be queued. */
int image_load_async(struct image_store *s, uv_loop_t *loop,
                     const char *archive_path, image_done_cb cb, void *data,
                     struct err *err);

/* Imports a rootfs tarball (tar, optionally gzip) as a one-layer image,
 * tagged repo:tag (tag "" means "latest"; repo NULL or "" = untagged).
 * changes: Dockerfile-style "CMD [...]", "ENV K=V", "WORKDIR /x",
 * "ENTRYPOINT [...]", "USER u" lines applied to the config (may be NULL).
 * result: {"ID": "sha256:..."}. */
int image_import_async(struct image_store *s, uv_loop_t *loop,
                       const char *tar_path, const char *repo, const char *tag,
                       json_t *changes, image_done_cb cb, void *data,
                       struct err *err);

/* GET /images/json: Docker's ImageSummary array (owned), newest first.
 * filters (may be NULL) as from http_query_filters: "reference" (globs
 * against repo:tag or repo), "dangling", "label" (key or key=value),
 * "before", "since"; other keys are ignored. */
json_t *image_list(struct image_store *s, const json_t *filters);
/* GET /images/{name}/json: Docker's ImageInspect (owned), or NULL + 404
 * "No such image: NAME". name may be repo[:tag], a full or short id
 * (with or without "sha256:"), "docker.io/library/" prefixes normalised. */
json_t *image_inspect(struct image_store *s, const char *name, struct err *err);

/* Is an image (by id "sha256:...") used by a container? Asked before
 * deleting. When it is, the callback may copy the id of one such container
 * (up to 64 chars, NUL-terminated) into container_id for Docker's conflict
 * message; it is "" on entry. */
typedef bool (*image_in_use_fn)(void *data, const char *image_id,
                                char container_id[65]);

/* DELETE /images/{name}: untags, and deletes the image (and layers no other
 * image shares) when no tag is left. *out (owned, only on success) is
 * Docker's [{"Untagged": "..."}, {"Deleted": "sha256:..."}, ...] (layers
 * named by chain id). Conflicts (409), as dockerd: removing the last name
 * of an image a container uses needs force, and then only untags (the
 * image stays, dangling); removing by id an image a container uses is
 * refused even with force (its layers are under the container's rootfs);
 * removing by id an image named in several repositories needs force.
 * in_use may be NULL (nothing in use); it is called without the store's
 * lock held. */
int image_remove(struct image_store *s, const char *name, bool force,
                 image_in_use_fn in_use, void *in_use_data, json_t **out,
                 struct err *err);

/* What the container runtime needs to build a rootfs. */
struct image_ref {
    char *id;          /* "sha256:<config digest>" */
    char *name;        /* the reference it was resolved from */
    json_t *config;    /* the image config's "config" object (Env, Cmd,
                          Entrypoint, WorkingDir, User, StopSignal, ...);
                          may be an empty object */
    char **layer_dirs; /* unpacked layer directories, bottom first */
    size_t n_layers;
};

/* Resolves a name as image_inspect does; NULL + 404 if unknown. */
struct image_ref *image_resolve(struct image_store *s, const char *name,
                                struct err *err);
void image_ref_free(struct image_ref *ref);

/* POST /images/{name}/tag: points repo:tag (tag "" = "latest") at the image
 * name resolves to (404 if unknown, 400 if repo:tag is invalid) and sets its
 * Metadata.LastTagTime. */
int image_tag(struct image_store *s, const char *name, const char *repo,
              const char *tag, struct err *err);

/* Blocking forms of load and import, for the thread pool, tools, tests and
 * fuzzing (the *_async functions run exactly these). Result as above
 * (owned), or NULL + err. */
json_t *image_load_file(struct image_store *s, const char *archive_path,
                        struct err *err);
json_t *image_import_file(struct image_store *s, const char *tar_path,
                          const char *repo, const char *tag,
                          const json_t *changes, struct err *err);

/* A layer blob handed to image_store_add_blobs. The store keeps a copy
 * (a hard link when it can) next to the unpacked layer, for push. */
struct image_blob {
    const char *path;       /* tar, optionally gzip/zstd/xz/bzip2; may be
                               NULL when the layer is in the store already */
    const char *digest;     /* "sha256:..." of the file as a registry names
                               it, or NULL (computed) */
    const char *media_type; /* or NULL (guessed from its first bytes) */
};

/* Adds an image whose config and layer blobs are at hand (the path of a
 * registry pull, and of load). Blocking: call it from the thread pool.
 * config: the exact config bytes (the id is their sha256). layers: bottom
 * first; a layer already in the store is not read again, the others are
 * unpacked and checked against the config's rootfs.diff_ids (400 on
 * mismatch). refs: names to point at the image, "repo:tag" or
 * "repo@sha256:..." (normalised here; may be NULL when n_refs is 0).
 * *id_out (owned, may be NULL) gets "sha256:<hex>". */
int image_store_add_blobs(struct image_store *s, const void *config,
                          size_t config_len, const struct image_blob *layers,
                          size_t n_layers, const char *const *refs,
                          size_t n_refs, char **id_out, struct err *err);
/* image_store_add_blobs with only the paths (may be NULL, or entries
 * NULL, for layers in the store already). */
int image_store_add(struct image_store *s, const void *config,
                    size_t config_len, const char *const *layer_paths,
                    size_t n_layers, const char *const *refs, size_t n_refs,
                    char **id_out, struct err *err);
/* Unpacks one layer ahead of image_store_add_blobs, so a pull can unpack a
 * layer while others still download (layers do not depend on each other
 * under overlayfs). The layer stays pinned (no remove takes it, and a
 * later image_store_add_blobs finds it ready) until
 * image_store_unpin_layer; unpinned without an image, it is deleted.
 * 400 if the blob's uncompressed digest is not diff_id; index (from 0)
 * names the layer in messages. Blocking. */
int image_store_prepare_layer(struct image_store *s,
                              const struct image_blob *blob,
                              const char *diff_id, size_t index,
                              struct err *err);
void image_store_unpin_layer(struct image_store *s, const char *diff_id);
/* Is the layer with this diff id ("sha256:...") unpacked already? */
bool image_store_has_layer(struct image_store *s, const char *diff_id);

/* Normalises a reference: "busybox" -> "busybox:latest",
 * "docker.io/library/busybox" -> "busybox:latest",
 * "reg:5000/x/y@sha256:..." kept. Owned result; NULL + 400 if invalid. */
char *image_normalize_ref(const char *ref, struct err *err);

/* What a push needs of a stored image: its config bytes and, per layer,
 * the blob kept when it was added. Every field owned. */
struct image_push_layer {
    char *diff_id;
    char *path; /* the kept blob */
    char *digest;
    char *media_type;
    int64_t size;
};
struct image_push_info {
    char *id; /* "sha256:..." */
    char *config;
    size_t config_len;
    struct image_push_layer *layers;
    size_t n_layers;
};

/* The push view of the image name resolves to: 404 if unknown; 400 if a
 * layer has no kept blob (a store written before blobs were kept: load
 * the image again). Blocking (reads small files). */
struct image_push_info *
image_store_push_info(struct image_store *s, const char *name, struct err *err);
void image_push_info_free(struct image_push_info *p);

/* docker save: writes the images names resolve to (repo[:tag] or ids) as
 * one archive at out_path, in the layout Docker 25+ writes: OCI
 * (oci-layout, index.json, blobs/sha256/...) plus manifest.json, with the
 * layer blobs as the store kept them. 404 if a name is unknown. Blocking. */
int image_save_file(struct image_store *s, const char *const *names, size_t n,
                    const char *out_path, struct err *err);
/* image_save_file in the thread pool; result {} on success. */
int image_save_async(struct image_store *s, uv_loop_t *loop,
                     const char *const *names, size_t n, const char *out_path,
                     image_done_cb cb, void *data, struct err *err);

/* Points name_at_digest ("repo@sha256:<manifest digest>", a RepoDigest) at
 * the image id. 400 on a bad name, 404 if the image is gone. */
int image_store_add_digest(struct image_store *s, const char *id,
                           const char *name_at_digest, struct err *err);

/* ---- For the builder (image_build.c) ---- */

/* The whole config document (owned copy: architecture, os, config,
 * rootfs, history) of the image name resolves to, and its id (owned,
 * may be NULL). NULL + 404 if unknown. */
json_t *image_config_doc(struct image_store *s, const char *name, char **id_out,
                         struct err *err);
/* Is there an image with exactly this id ("sha256:...")? */
bool image_store_has_image(struct image_store *s, const char *id);
