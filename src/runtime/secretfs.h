// SPDX-License-Identifier: Apache-2.0
// Small in-memory file systems for a container's secret and config files:
// a directory with a tmpfs mounted on it (nothing reaches the disk), the
// files written with their owner and mode, unmounted and removed again.
// This layer knows files, never tasks or secrets.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct secretfs_file {
    const char *name; /* a plain file name in dir */
    const void *data;
    size_t len;
    uint32_t uid, gid, mode;
};

/* Creates dir (0700; its parent must exist), mounts a tmpfs on it
 * (nosuid, nodev, noexec, sized for the files) and writes the files.
 * Anything already at dir is removed first. On failure nothing is left. */
int secretfs_create(const char *dir, const struct secretfs_file *files,
                    size_t n, struct err *err);
/* Unmounts and removes dir; nothing to do if it does not exist. */
int secretfs_remove(const char *dir, struct err *err);
