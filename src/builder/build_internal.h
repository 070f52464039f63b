// SPDX-License-Identifier: Apache-2.0
// Internals shared by the build executor's files: the state of one build
// (build.c drives the stages and the config changes), file copies into a
// rootfs (build_fs.c) and RUN through the OCI runtime (build_run.c). All
// of it runs on the build's own thread, blocking.
#pragma once

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/vec.h"
#include "builder/build.h"
#include "builder/dockerfile.h"
#include "builder/ignore.h"

/* The image a stage is at: its config document and id. */
struct bstage {
    char *name;      /* "AS name" lowercased, or NULL */
    json_t *doc;     /* the whole config document */
    char *id;        /* "sha256:..." of bytes (or a stored image's id);
                        "" for scratch */
    char *bytes;     /* exact config bytes when not a stored image yet */
    json_t *args;    /* ARG values in scope: {"NAME": "value"} */
    bool cmd_set;    /* CMD given in this stage */
    bool base_empty; /* FROM scratch */
};

struct bctx {
    /* What the build was given (copied). */
    struct image_store *images;
    char *runtime_path, *state_root, *cgroup_parent;
    bool cgroup2;
    int64_t nofile;
    char *cache_dir; /* <work_root>/cache */
    char *dir;       /* this build's scratch directory */
    char *ctx_dir;   /* the unpacked context */
    char *context_tar;
    char *dockerfile;
    char **tags;
    size_t n_tags;
    json_t *build_args; /* {"K": "V"} (nulls dropped) */
    json_t *labels;
    char *target;
    bool no_cache;
    bool quiet;

    void (*log)(void *data, const char *text);
    void *log_data;
    atomic_bool *cancelled;

    /* Progress. */
    struct dockerfile df;
    struct ignore ignore;
    json_t *meta_args; /* ARGs before the first FROM: {"NAME": "value"} */
    json_t *used_args; /* build args some ARG consumed: {"K": true} */
    struct vec added;  /* ids (owned) of intermediate images we added */
    struct vec stages; /* struct bstage*, in order */
    int step, n_steps;
    int seq; /* scratch directory names */
};

/* Appends text to the build's log. */
void bctx_log(struct bctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool bctx_cancelled(const struct bctx *c);

/* A mounted read-write rootfs of a stage's current image, whose changes
 * become the next layer. */
struct bmount {
    char *base;   /* scratch dir holding the four below */
    char *upper;  /* overlay upper dir: the diff */
    char *work;   /* overlay work dir */
    char *rootfs; /* the merged tree */
    char *empty;  /* an empty lower dir for images without layers */
    bool mounted;
    bool ran;        /* a RUN used it: prune the runtime's mount points */
    unsigned points; /* which of them existed before (bfs_note_points) */
};

/* Mounts the stage's image (adding it to the store as an intermediate
 * image first when it is not there yet). */
int bmount_open(struct bctx *c, struct bstage *st, struct bmount *m,
                struct err *err);
/* Unmounts; with layer_out, writes the upper dir as a layer tar there
 * (owned path) and says whether it holds anything (*changed). */
int bmount_close(struct bctx *c, struct bmount *m, char **layer_out,
                 bool *changed, struct err *err);
/* Unmounts and removes everything (error paths). */
void bmount_discard(struct bmount *m);

/* ---- build_fs.c ---- */

/* Where COPY/ADD sources are read from: the context (with its ignore
 * rules) or another stage's / image's mounted rootfs. */
struct bsrc {
    const char *root; /* directory */
    const struct ignore *ignore;
    const char *what; /* "build context" or "stage x" */
};

/* The sources of a COPY/ADD, expanded (globs) and checked, and their
 * content hash for the cache key. */
struct bsrc_list {
    char **paths; /* relative to the root, cleaned */
    size_t n;
};
int bsrc_resolve(const struct bsrc *src, char *const *patterns, size_t n,
                 const char *cmd, struct bsrc_list *out, struct err *err);
void bsrc_list_fini(struct bsrc_list *l);
/* Hash of the listed sources (names, modes, sizes, bytes, link targets),
 * into out[CACHEKEY_LEN]. */
int bsrc_hash(const struct bsrc *src, const struct bsrc_list *l, char *out,
              struct err *err);

struct bcopy_opts {
    const char *dest;  /* absolute path in the rootfs, expanded */
    bool dest_is_dir;  /* ended with '/' (or several sources) */
    bool has_owner;    /* --chown given */
    unsigned uid, gid; /* --chown, resolved */
    int chmod;         /* --chmod, -1 if absent */
    bool unpack;       /* ADD: local tar archives are unpacked */
};
/* Copies the sources into rootfs as COPY/ADD do. */
int bfs_copy(const struct bsrc *src, const struct bsrc_list *l,
             const char *rootfs, const struct bcopy_opts *o, struct err *err);
/* mkdir -p of path inside rootfs (RESOLVE_IN_ROOT), owned uid:gid. */
int bfs_mkdir_p(const char *rootfs, const char *path, unsigned uid,
                unsigned gid, struct err *err);

/* The runtime creates the targets of its mounts (/proc, /sys, /dev,
 * /etc/hosts, /etc/resolv.conf, /etc/hostname) when an image lacks them;
 * those are not the RUN's work. bfs_note_points records which exist in
 * the rootfs before the RUN; bfs_prune_points removes the others from the
 * upper dir when they are empty (and /etc when it was only copied up for
 * them). */
unsigned bfs_note_points(const char *rootfs);
void bfs_prune_points(const char *upper, unsigned existed);

/* ---- build_run.c ---- */

/* Runs argv (JSON array) in a container over rootfs with the stage's
 * image config and the extra environment (JSON array of "K=V"),
 * streaming its output into the log. 0 when it exited 0; otherwise -1
 * with the exit code in *exit_code (or -1 if it could not run). */
int brun(struct bctx *c, const json_t *config, const char *rootfs,
         const json_t *argv, const json_t *env, int *exit_code,
         struct err *err);
