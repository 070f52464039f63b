// SPDX-License-Identifier: Apache-2.0
// Disk usage of a directory tree (`docker system df`'s sizes): the apparent
// size of what is below a path, each inode counted once.
#pragma once

#include <stdint.h>

/* Bytes below path (files' st_size, symlinks included, not followed; an
 * inode with several links counted once); 0 if path does not exist. */
int64_t fs_du(const char *path);
