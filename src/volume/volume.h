// SPDX-License-Identifier: Apache-2.0
// The node's named volumes (the "local" driver): each one a directory
// volumes_root/<name>/ holding its data in _data/ and its metadata (driver,
// labels, options, creation time) in volume.json, so volumes outlive
// shoald. A volume with options (type / device / o) is mounted at its
// _data while a container uses it. The store also knows who uses each
// volume (containers, by id), which decides removal and "dangling".
// Volumes are node-local, as in Swarm: every node's API answers for its
// own. Single-threaded: call from the loop thread only.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "volume/volume_core.h"

struct volume_store;
struct volume;

/* A volume event: action "create", "destroy", "mount", "unmount"; container
 * is the id for mount / unmount, NULL otherwise. */
typedef void (*volume_event_fn)(void *data, const char *action,
                                const char *name, const char *driver,
                                const char *container);

/* Opens (creating it if needed) the store at root and loads its volumes:
 * those with metadata, and plain directories with a _data (volumes of an
 * older shoal) as local volumes without options. Leftovers of interrupted
 * creations and removals are cleaned up. Owned; free with
 * volume_store_free (which unmounts nothing: containers may still run). */
struct volume_store *volume_store_new(const char *root, struct err *err);
void volume_store_free(struct volume_store *vs);
/* Where events go (fn NULL: nowhere). */
void volume_store_set_events(struct volume_store *vs, volume_event_fn fn,
                             void *data);
const char *volume_store_root(const struct volume_store *vs);

/* What POST /volumes/create and a mount's VolumeOptions ask for. Every
 * field borrowed and optional (labels / options: objects of strings). */
struct volume_spec {
    const char *name;      /* NULL or "": a random 64-hex name, anonymous */
    const char *driver;    /* NULL or "": local */
    const json_t *labels;  /* NULL: none (shown as null) */
    const json_t *options; /* DriverOpts; NULL: none (shown as null) */
};

/* Creates the volume, or, as dockerd does, returns the existing one of
 * that name unchanged (*created false). Errors in dockerd's words with the
 * "create NAME: " prefix: 400 bad name or option (or a bind device that
 * does not exist), 404 unknown driver, 500 when the disk fails. Nothing is
 * left behind on failure. Borrowed result, valid until removal. */
struct volume *volume_create(struct volume_store *vs,
                             const struct volume_spec *spec, bool *created,
                             struct err *err);
/* The volume of that name, or NULL. Borrowed. */
struct volume *volume_get(const struct volume_store *vs, const char *name);
/* Iteration: for (size_t it = 0; volume_next(vs, &it, &v);) */
bool volume_next(const struct volume_store *vs, size_t *it,
                 struct volume **out);

/* Its fields for the filters (borrowed from v). */
void volume_info(const struct volume *v, struct volume_info *out);
const char *volume_name(const struct volume *v);
/* volumes_root/<name>/_data: where the data is, and what containers bind. */
const char *volume_path(const struct volume *v);
/* The path of sub (volume_subpath_check) inside v's data, which must
 * exist and be reached without symlinks (a container's volume could plant
 * one pointing out). Owned; NULL with a 400 error. */
char *volume_subpath(const struct volume *v, const char *sub, struct err *err);
/* Users (container ids) of v: count and the i-th one (borrowed). */
size_t volume_ref_count(const struct volume *v);
const char *volume_ref_at(const struct volume *v, size_t i);
/* The API's Volume object; with usage, UsageData (the size of _data, read
 * now, and the user count). Owned. */
json_t *volume_json(const struct volume *v, bool usage);

/* Removes the volume and its data. 404 "get NAME: no such volume"; 409
 * "remove NAME: volume is in use - [id, ...]" while a container uses it.
 * A mounted volume is unmounted first. *size (may be NULL) gets the bytes
 * of data it held. */
int volume_remove(struct volume_store *vs, const char *name, int64_t *size,
                  struct err *err);

/* Records that container ref uses the volume (fine if it already does, or
 * if the volume does not exist). */
void volume_ref(struct volume_store *vs, const char *name, const char *ref);
/* Forgets that use (fine if not recorded). */
void volume_unref(struct volume_store *vs, const char *name, const char *ref);

/* The volume is about to be used by container ref: a volume with options
 * is mounted at its data directory unless it already is (mount(2) with
 * the options' flags and data); others need nothing. 404 if unknown; 500
 * "failed to mount local volume: ..." when the kernel refuses. Emits
 * "mount" for a new user unless quiet (re-adoption after a restart). */
int volume_mount(struct volume_store *vs, const char *name, const char *ref,
                 bool quiet, struct err *err);
/* Container ref no longer uses the mount: the last one unmounts it. */
void volume_unmount(struct volume_store *vs, const char *name, const char *ref);

/* Docker's copy-up: copies the directory src_dirfd (opened by the caller,
 * e.g. inside a container's rootfs) into dst if dst is empty, keeping
 * owners, modes, times and symlinks, and gives dst the source's owner and
 * mode. Everything is walked with *at() calls from src_dirfd. */
int volume_copy_up(int src_dirfd, const char *dst, struct err *err);
