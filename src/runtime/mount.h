// SPDX-License-Identifier: Apache-2.0
// A container's root filesystem: an overlayfs of the image's layer
// directories (read-only, shared by every container of the image) under a
// per-container upper and work directory.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Mounts overlay at target with layers (bottom first, as the image store
 * lists them) as lowerdir, top first. Fails clearly (400) if a path holds
 * ',' or ':' or the options would not fit in a page. */
int rootfs_mount(char *const *layers, size_t n_layers, const char *upper,
                 const char *work, const char *target, struct err *err);
/* Unmounts target (lazily if busy); fine if it is not mounted. */
int rootfs_umount(const char *target, struct err *err);
/* Is something mounted exactly at path (per /proc/self/mountinfo)? */
bool rootfs_is_mounted(const char *path);

/* Opens path inside the directory rootfd as if rootfd were "/": symlinks
 * and ".." cannot lead out (openat2 RESOLVE_IN_ROOT). flags as for open;
 * O_CLOEXEC is added. -1 with errno on failure. */
int rootfs_open(int rootfd, const char *path, int flags);
/* Reads a small file (up to 1 MiB) inside rootfs the same way; *out owned.
 * -1 with errno set (ENOENT if absent). */
int rootfs_read_file(const char *rootfs, const char *path, char **out);
