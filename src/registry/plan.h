// SPDX-License-Identifier: Apache-2.0
// What a pull or a push has to transfer, decided from what is known on
// each side, and the JSON progress messages Docker streams while it does
// (the same for the API's pull and push). Pure: no I/O, no clock.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "registry/manifest.h"

enum reg_pull_action {
    REG_PULL_FETCH,  /* download, verify, unpack */
    REG_PULL_EXISTS, /* the layer is in the store already */
    REG_PULL_DUP,    /* same blob as an earlier layer (same_as) */
};

struct reg_pull_step {
    enum reg_pull_action action;
    size_t same_as;
};

/* One step per manifest layer. diff_ids: the config's rootfs.diff_ids;
 * have[i]: the layer with diff_ids[i] is stored already. 400 when the
 * manifest and the config disagree on the number of layers. */
int reg_pull_plan(const struct reg_manifest *m, const char *const *diff_ids,
                  size_t n_diff_ids, const bool *have,
                  struct reg_pull_step *steps, struct err *err);

enum reg_push_action {
    REG_PUSH_EXISTS, /* HEAD said the registry has it */
    REG_PUSH_MOUNT,  /* cross-repository mount from mount_from */
    REG_PUSH_UPLOAD,
    REG_PUSH_DUP, /* same blob as an earlier layer */
};

struct reg_push_step {
    enum reg_push_action action;
    size_t same_as;
};

/* One step per blob: remote_has[i] from HEAD; can_mount: a repository of
 * the same registry is known to hold the image's blobs. */
void reg_push_plan(const char *const *digests, size_t n, const bool *remote_has,
                   bool can_mount, struct reg_push_step *steps);

/* The repository to mount blobs from: the first of names
 * ("reg/repo@sha256:..." RepoDigests, NULL-terminated) on domain other
 * than path itself (owned path "a/b"), or NULL. */
char *reg_mount_source(const char *const *names, const char *domain,
                       const char *path);

/* The short id Docker shows for a blob: the first 12 hex digits. */
void reg_short_id(const char *digest, char out[13]);

/* Docker's progress messages (new references). */
json_t *reg_msg_status(const char *id, const char *status);
json_t *reg_msg_progress(const char *id, const char *status, int64_t current,
                         int64_t total);
json_t *reg_msg_error(const char *message);
/* docker's JSONProgress bar: "[=====>      ]  1.23MB/4.56MB" (owned). */
char *reg_progress_bar(int64_t current, int64_t total);
/* units.HumanSize: "1.23MB", decimal units (into out). */
void reg_human_size(double bytes, char *out, size_t n);
