// SPDX-License-Identifier: Apache-2.0
// Blocking filesystem helpers.
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"

int fs_mkdir_p(const char *path, mode_t mode, struct err *err)
{
    _cleanup_free_ char *copy = xstrdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
            return err_sys(err, errno, "mkdir '%s'", copy);
        *p = '/';
    }
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
        return err_sys(err, errno, "mkdir '%s'", copy);
    return 0;
}

int fs_read_file(const char *path, char **out, size_t *len, struct err *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, errno, "open '%s'", path);
    size_t cap = 4096, n = 0;
    _cleanup_free_ char *data = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            data = xrealloc(data, cap);
        }
        ssize_t r = read(fd, data + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return err_sys(err, errno, "read '%s'", path);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    data[n] = '\0';
    if (len)
        *len = n;
    *out = steal_ptr(data);
    return 0;
}

static int write_replace(const char *path, const void *data, size_t len,
                         mode_t mode, bool sync, struct err *err)
{
    _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return err_sys(err, errno, "create '%s'", tmp);
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return err_sys(err, e, "write '%s'", tmp);
        }
        p += w;
        left -= (size_t)w;
    }
    if ((sync && fsync(fd) < 0) || close(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return err_sys(err, e, "sync '%s'", tmp);
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return err_sys(err, e, "rename '%s'", path);
    }
    return 0;
}

int fs_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode, struct err *err)
{
    return write_replace(path, data, len, mode, true, err);
}

int fs_write_file_replace(const char *path, const void *data, size_t len,
                          mode_t mode, struct err *err)
{
    return write_replace(path, data, len, mode, false, err);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int r = flag == FTW_DP ? rmdir(path) : unlink(path);
    if (r < 0 && errno != ENOENT)
        return errno;
    return 0;
}

int fs_remove_tree(const char *path, struct err *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return err_sys(err, errno, "stat '%s'", path);
    }
    int r = nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    if (r != 0)
        return err_sys(err, r > 0 ? r : errno, "remove '%s'", path);
    return 0;
}

bool fs_exists(const char *path)
{
    return access(path, F_OK) == 0;
}
