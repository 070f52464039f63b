// SPDX-License-Identifier: Apache-2.0
// Docker's copy-up: a new, empty volume mounted where the image has content
// gets a copy of that content first. The copy walks the source with *at()
// calls from a directory the caller opened (inside a rootfs, resolved with
// RESOLVE_IN_ROOT), so a hostile image cannot point it at the host's files.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "volume/volume.h"

/* ---- copy-up ---- */

static void copy_meta(int fd, const struct stat *st)
{
    /* Best effort, like cp -a without xattrs: a failure here must not fail
     * the container. */
    if (fchown(fd, st->st_uid, st->st_gid) < 0) {
        /* keep going */
    }
    if (fchmod(fd, st->st_mode & 07777) < 0) {
        /* keep going */
    }
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    futimens(fd, ts);
}

static int copy_file(int sfd, int dfd, const char *name, const struct stat *st,
                     struct err *err)
{
    _cleanup_close_ int in =
        openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return err_sys(err, errno, "open '%s'", name);
    _cleanup_close_ int out = openat(
        dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        return err_sys(err, errno, "create '%s'", name);
    char chunk[65536];
    for (;;) {
        ssize_t n = read(in, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_sys(err, errno, "read '%s'", name);
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, chunk + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return err_sys(err, errno, "write '%s'", name);
            off += w;
        }
    }
    copy_meta(out, st);
    return 0;
}

static int copy_dir(int sfd, int dfd, int depth, struct err *err);

static int copy_entry(int sfd, int dfd, const char *name, int depth,
                      struct err *err)
{
    struct stat st;
    if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return err_sys(err, errno, "stat '%s'", name);
    if (S_ISDIR(st.st_mode)) {
        if (mkdirat(dfd, name, 0700) < 0)
            return err_sys(err, errno, "mkdir '%s'", name);
        _cleanup_close_ int s2 =
            openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int d2 =
            openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s2 < 0 || d2 < 0)
            return err_sys(err, errno, "open directory '%s'", name);
        if (copy_dir(s2, d2, depth + 1, err) < 0)
            return err_ctx(err, "%s", name);
        copy_meta(d2, &st);
        return 0;
    }
    if (S_ISREG(st.st_mode))
        return copy_file(sfd, dfd, name, &st, err);
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);
        if (n < 0)
            return err_sys(err, errno, "readlink '%s'", name);
        target[n] = '\0';
        if (symlinkat(target, dfd, name) < 0)
            return err_sys(err, errno, "symlink '%s'", name);
        if (fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW)) {
            /* best effort */
        }
        return 0;
    }
    /* Devices, fifos, sockets: recreate where allowed, skip otherwise. */
    if (mknodat(dfd, name, st.st_mode, st.st_rdev) < 0)
        return 0;
    if (fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW)) {
        /* best effort */
    }
    return 0;
}

static int copy_dir(int sfd, int dfd, int depth, struct err *err)
{
    if (depth > 256)
        return err_set(err, ERR_INVALID, "directory tree too deep");
    int fd = dup(sfd);
    if (fd < 0)
        return err_sys(err, errno, "dup");
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return err_sys(err, errno, "opendir");
    }
    int r = 0;
    struct dirent *e;
    while (r == 0 && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        r = copy_entry(sfd, dfd, e->d_name, depth, err);
    }
    closedir(d);
    return r;
}

static bool dir_is_empty(int fd)
{
    int fd2 = dup(fd);
    if (fd2 < 0)
        return false;
    DIR *d = fdopendir(fd2);
    if (!d) {
        close(fd2);
        return false;
    }
    bool empty = true;
    struct dirent *e;
    while (empty && (e = readdir(d)))
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

int volume_copy_up(int src_dirfd, const char *dst, struct err *err)
{
    _cleanup_close_ int dfd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return err_sys(err, errno, "copy image content: open '%s'", dst);
    if (!dir_is_empty(dfd))
        return 0;
    if (copy_dir(src_dirfd, dfd, 0, err) < 0)
        return err_ctx(err, "copy image content into volume");
    struct stat st;
    if (fstat(src_dirfd, &st) == 0)
        copy_meta(dfd, &st);
    return 0;
}
