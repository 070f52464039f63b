// SPDX-License-Identifier: Apache-2.0
// Named local volumes: directories under volumes_root/<name>/_data, created
// on first use and kept across containers, and the copy of an image's
// content into a fresh volume (Docker's "copy-up").
#pragma once

#include <stdbool.h>

#include "base/err.h"

/* volumes_root/<name>/_data. Owned. */
char *volume_data_path(const char *volumes_root, const char *name);
/* Creates the volume if it does not exist; *created says whether it was
 * new. 400 for an invalid name. */
int volume_ensure(const char *volumes_root, const char *name, bool *created,
                  struct err *err);
/* Deletes the volume and its content; fine if missing. */
int volume_remove(const char *volumes_root, const char *name, struct err *err);
/* Copies the directory at path inside rootfs (resolved within rootfs:
 * symlinks cannot lead out) into dst, keeping owners, modes, times and
 * symlinks, if dst is empty; also gives dst the source's owner and mode.
 * Nothing to do if path does not exist in the image or is not a
 * directory. */
int volume_copy_up(const char *rootfs, const char *path, const char *dst,
                   struct err *err);
