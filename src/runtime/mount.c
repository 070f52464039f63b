// SPDX-License-Identifier: Apache-2.0
// Overlay root filesystems: the mount options are built from the layer
// list and checked against the kernel's one-page limit before mounting.
#include "runtime/mount.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"

/* overlayfs splits its options on ',' and lowerdir on ':'. */
static int check_path(const char *what, const char *p, struct err *err)
{
    if (strpbrk(p, ",:"))
        return err_set(err, ERR_INVALID,
                       "mount rootfs: %s path '%s' contains ',' or ':'", what,
                       p);
    return 0;
}

int rootfs_mount(char *const *layers, size_t n_layers, const char *upper,
                 const char *work, const char *target, struct err *err)
{
    if (n_layers == 0)
        return err_set(err, ERR_INVALID, "mount rootfs: no layers");
    if (check_path("upper", upper, err) < 0 ||
        check_path("work", work, err) < 0)
        return -1;
    _cleanup_buf_ struct buf opts;
    buf_init(&opts);
    buf_puts(&opts, "lowerdir=");
    for (size_t i = n_layers; i-- > 0;) {
        if (check_path("layer", layers[i], err) < 0)
            return -1;
        buf_puts(&opts, layers[i]);
        if (i)
            buf_putc(&opts, ':');
    }
    buf_printf(&opts, ",upperdir=%s,workdir=%s", upper, work);
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0 && opts.len >= (size_t)page)
        return err_set(err, ERR_INVALID,
                       "mount rootfs of %zu layers: overlay options are %zu "
                       "bytes, more than the page size (%ld)",
                       n_layers, opts.len, page);
    if (mount("overlay", target, "overlay", 0, opts.data) < 0)
        return err_sys(err, errno, "mount overlay rootfs at '%s'", target);
    return 0;
}

int rootfs_umount(const char *target, struct err *err)
{
    if (umount2(target, 0) == 0)
        return 0;
    if (errno == EINVAL || errno == ENOENT)
        return 0; /* not mounted */
    if (errno == EBUSY && umount2(target, MNT_DETACH) == 0)
        return 0;
    return err_sys(err, errno, "unmount rootfs '%s'", target);
}

/* Decodes mountinfo's octal escapes (\040 for space...) in place. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
            r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

bool rootfs_is_mounted(const char *path)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return false;
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    while (!found && getline(&line, &cap, f) > 0) {
        /* id parent major:minor root mountpoint ... */
        char *save = NULL, *tok = strtok_r(line, " ", &save);
        for (int i = 0; tok && i < 4; i++)
            tok = strtok_r(NULL, " ", &save);
        if (!tok)
            continue;
        unescape(tok);
        found = strcmp(tok, path) == 0;
    }
    free(line);
    return found;
}

int rootfs_open(int rootfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    while (*path == '/')
        path++;
    if (!*path)
        path = ".";
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

int rootfs_read_file(const char *rootfs, const char *path, char **out)
{
    *out = NULL;
    _cleanup_close_ int rootfd =
        open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return -1;
    _cleanup_close_ int fd = rootfs_open(rootfd, path, O_RDONLY);
    if (fd < 0)
        return -1;
    const size_t max = 1024 * 1024;
    struct buf b;
    buf_init(&b);
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            buf_fini(&b);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            buf_fini(&b);
            errno = EFBIG;
            return -1;
        }
        buf_append(&b, chunk, (size_t)n);
    }
    buf_putc(&b, '\0');
    b.len--;
    *out = buf_steal(&b);
    return 0;
}
