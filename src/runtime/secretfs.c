// SPDX-License-Identifier: Apache-2.0
// Secret and config files on tmpfs (see secretfs.h). Files are written
// only once the tmpfs is known to be mounted, so a failed mount can never
// leave plaintext on the disk under it.
#include "runtime/secretfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"

/* Is dir a mount point (another device than its parent)? */
static bool is_mounted(const char *dir)
{
    struct stat st, pst;
    char *parent = xasprintf("%s/..", dir);
    bool mounted = stat(dir, &st) == 0 && stat(parent, &pst) == 0 &&
                   st.st_dev != pst.st_dev;
    free(parent);
    return mounted;
}

int secretfs_remove(const char *dir, struct err *err)
{
    struct stat st;
    if (lstat(dir, &st) < 0)
        return errno == ENOENT ? 0
                               : err_set(err, ERR_INTERNAL, "stat '%s': %s",
                                         dir, strerror(errno));
    while (is_mounted(dir))
        if (umount2(dir, MNT_DETACH) < 0)
            return err_set(err, ERR_INTERNAL, "unmount '%s': %s", dir,
                           strerror(errno));
    if (rmdir(dir) < 0 && errno != ENOENT)
        return err_set(err, ERR_INTERNAL, "remove '%s': %s", dir,
                       strerror(errno));
    return 0;
}

static int write_file(const char *dir, const struct secretfs_file *f,
                      struct err *err)
{
    if (!f->name[0] || strchr(f->name, '/') || strcmp(f->name, ".") == 0 ||
        strcmp(f->name, "..") == 0)
        return err_set(err, ERR_INTERNAL, "invalid file name '%s'", f->name);
    char *path = xasprintf("%s/%s", dir, f->name);
    int fd =
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = 0;
    if (fd < 0) {
        rc = err_set(err, ERR_INTERNAL, "create '%s': %s", path,
                     strerror(errno));
        goto out;
    }
    const char *p = f->data;
    size_t left = f->len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = err_set(err, ERR_INTERNAL, "write '%s': %s", path,
                         strerror(errno));
            goto out;
        }
        p += w;
        left -= (size_t)w;
    }
    /* Owner first: fchown clears the set-id bits fchmod may set. */
    if (fchown(fd, f->uid, f->gid) < 0 || fchmod(fd, f->mode & 07777) < 0)
        rc = err_set(err, ERR_INTERNAL, "set owner and mode of '%s': %s", path,
                     strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

int secretfs_create(const char *dir, const struct secretfs_file *files,
                    size_t n, struct err *err)
{
    if (secretfs_remove(dir, err) < 0)
        return -1;
    if (mkdir(dir, 0700) < 0)
        return err_set(err, ERR_INTERNAL, "create '%s': %s", dir,
                       strerror(errno));
    size_t size = 64 * 1024;
    for (size_t i = 0; i < n; i++)
        size += files[i].len + 4096;
    char opts[64];
    snprintf(opts, sizeof(opts), "mode=0700,size=%zu", size);
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) <
        0) {
        err_set(err, ERR_INTERNAL, "mount tmpfs on '%s': %s", dir,
                strerror(errno));
        rmdir(dir);
        return -1;
    }
    if (!is_mounted(dir)) {
        err_set(err, ERR_INTERNAL, "mount tmpfs on '%s': not mounted", dir);
        rmdir(dir);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (write_file(dir, &files[i], err) < 0) {
            struct err ignored = {0};
            secretfs_remove(dir, &ignored);
            return -1;
        }
    }
    return 0;
}
