// SPDX-License-Identifier: Apache-2.0
// Small blocking filesystem helpers (for startup, tests and thread-pool work).
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

/* mkdir -p with the given mode for created directories. */
int fs_mkdir_p(const char *path, mode_t mode, struct err *err);
/* Reads a whole file; *out owned by the caller, NUL-terminated. */
int fs_read_file(const char *path, char **out, size_t *len, struct err *err);
/* Writes via a temp file + fsync + rename, so readers see old or new, and
 * a crash leaves one of them. */
int fs_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode, struct err *err);
/* The same without the fsync: readers see old or new, but after a crash of
 * the machine the file may be empty. For files that are rebuilt anyway. */
int fs_write_file_replace(const char *path, const void *data, size_t len,
                          mode_t mode, struct err *err);
/* rm -rf that does not cross mount points; missing path is fine. */
int fs_remove_tree(const char *path, struct err *err);
bool fs_exists(const char *path);
