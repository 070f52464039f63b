// SPDX-License-Identifier: Apache-2.0
// The build cache's keys: what a step's result depends on. A step is
// reused when its parent image, its instruction (after expansion), the
// build-time environment a RUN sees and, for COPY and ADD, the content of
// the files it copies are all the same. Pure (SHA-256 only).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "sha256:" + 64 hex + NUL */
#define CACHEKEY_LEN (7 + 64 + 1)

/* The key of a step. parent: the id of the image the step starts from
 * ("" for scratch); instr: the canonical instruction text; env: the
 * build-time "K=V" strings a RUN sees, NULL-terminated (may be NULL);
 * content: the hash of the sources of COPY / ADD ("" if none). Each
 * field is length-prefixed, so no two inputs share a key by
 * concatenation. */
void cachekey_step(const char *parent, const char *instr,
                   const char *const *env, const char *content,
                   char out[CACHEKEY_LEN]);

/* The hash of a COPY / ADD's sources, fed one entry at a time in a fixed
 * order (the caller sorts by path). */
struct cachekey_content {
    void *h; /* struct image_sha256 */
};
void cachekey_content_init(struct cachekey_content *c);
/* One entry: its path relative to the source root, type and mode bits
 * (st_mode), size, and either a symlink target (link, may be NULL) or the
 * file's size bytes fed through cachekey_content_data afterwards. */
void cachekey_content_entry(struct cachekey_content *c, const char *path,
                            mode_t mode, int64_t size, const char *link);
void cachekey_content_data(struct cachekey_content *c, const void *data,
                           size_t n);
void cachekey_content_final(struct cachekey_content *c, char out[CACHEKEY_LEN]);
/* Releases an unfinished hash. */
void cachekey_content_fini(struct cachekey_content *c);
