// SPDX-License-Identifier: Apache-2.0
// The files of COPY and ADD: resolving sources (globs, .dockerignore) in
// the context or another stage's rootfs, hashing them for the cache, and
// copying them into the step's mounted rootfs. Every path inside a rootfs
// is resolved as if that rootfs were "/" (openat2 RESOLVE_IN_ROOT), so a
// symlink in an image or a context can never lead a copy outside it; below
// the top-level source, symlinks are copied as symlinks, never followed.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/vec.h"
#include "builder/build_internal.h"
#include "builder/cachekey.h"
#include "runtime/archive.h"
#include "runtime/mount.h"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of a directory, sorted (owned strings). */
static int list_dir(int fd, struct vec *out)
{
    vec_init(out);
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
    if (!d) {
        if (dup >= 0)
            close(dup);
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            vec_push(out, xstrdup(de->d_name));
    closedir(d);
    if (out->len)
        qsort(out->items, out->len, sizeof(void *), cmp_names);
    return 0;
}

static void free_list(struct vec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    vec_fini(v);
}

static char *join(const char *a, const char *b)
{
    if (!*a || strcmp(a, ".") == 0)
        return xstrdup(b);
    return xasprintf("%s/%s", a, b);
}

static bool ignored(const struct bsrc *src, const char *rel)
{
    return src->ignore && strcmp(rel, ".") != 0 &&
           ignore_match(src->ignore, rel);
}

/* Are there "!" rules (so that an ignored directory may still hold
 * included files)? */
static bool has_negations(const struct bsrc *src)
{
    for (size_t i = 0; src->ignore && i < src->ignore->n; i++)
        if (!src->ignore->rules[i].exclude)
            return true;
    return false;
}

/* ---- Resolving sources ---- */

static void list_add(struct bsrc_list *l, const char *path)
{
    l->paths = xrealloc(l->paths, (l->n + 1) * sizeof(*l->paths));
    l->paths[l->n++] = xstrdup(path);
}

void bsrc_list_fini(struct bsrc_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof(*l));
}

/* Matches the pattern components comps[k..] below the directory rel. */
static void glob_walk(const struct bsrc *src, int rootfd, const char *rel,
                      char **comps, size_t k, size_t n, struct bsrc_list *out)
{
    _cleanup_close_ int fd = rootfs_open(rootfd, rel, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return;
    struct vec names;
    if (list_dir(fd, &names) < 0)
        return;
    for (size_t i = 0; i < names.len; i++) {
        const char *name = names.items[i];
        if (fnmatch(comps[k], name, 0) != 0)
            continue;
        _cleanup_free_ char *child = join(rel, name);
        if (ignored(src, child))
            continue;
        if (k + 1 == n)
            list_add(out, child);
        else
            glob_walk(src, rootfd, child, comps, k + 1, n, out);
    }
    free_list(&names);
}

int bsrc_resolve(const struct bsrc *src, char *const *patterns, size_t n,
                 const char *cmd, struct bsrc_list *out, struct err *err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_close_ int rootfd =
        open(src->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return err_sys(err, errno, "open %s", src->what);
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *clean = path_clean_rel(patterns[i]);
        size_t before = out->n;
        if (glob_is_pattern(clean)) {
            _cleanup_free_ char *copy = xstrdup(clean);
            char *comps[PATH_MAX / 2];
            size_t nc = 0;
            char *save = NULL;
            for (char *t = strtok_r(copy, "/", &save);
                 t && nc < ARRAY_SIZE(comps); t = strtok_r(NULL, "/", &save))
                comps[nc++] = t;
            if (nc)
                glob_walk(src, rootfd, ".", comps, 0, nc, out);
        } else if (!ignored(src, clean)) {
            int fd = rootfs_open(rootfd, clean, O_PATH);
            if (fd >= 0) {
                close(fd);
                list_add(out, clean);
            }
        }
        if (out->n == before) {
            if (src->ignore)
                err_set(err, ERR_INVALID,
                        "%s failed: file not found in build context or "
                        "excluded by .dockerignore: stat %s: file does not "
                        "exist",
                        cmd, patterns[i]);
            else
                err_set(err, ERR_INVALID,
                        "%s failed: stat %s in %s: file does not exist", cmd,
                        patterns[i], src->what);
            bsrc_list_fini(out);
            return -1;
        }
    }
    return 0;
}

/* ---- Hashing sources ---- */

static int hash_file(struct cachekey_content *h, int fd, struct err *err)
{
    char buf[65536];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_sys(err, errno, "read a source file");
        if (r == 0)
            return 0;
        cachekey_content_data(h, buf, (size_t)r);
    }
}

static int hash_dir(const struct bsrc *src, struct cachekey_content *h,
                    int dirfd, const char *rel, const char *shown,
                    struct err *err)
{
    struct vec names;
    if (list_dir(dirfd, &names) < 0)
        return err_sys(err, errno, "read directory '%s'", rel);
    bool neg = has_negations(src);
    int rc = 0;
    for (size_t i = 0; i < names.len && rc == 0; i++) {
        const char *name = names.items[i];
        _cleanup_free_ char *crel = join(rel, name);
        _cleanup_free_ char *cshown = join(shown, name);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        bool ign = ignored(src, crel);
        if (ign && !(S_ISDIR(st.st_mode) && neg))
            continue;
        if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
            if (n < 0)
                continue;
            target[n] = 0;
            cachekey_content_entry(h, cshown, st.st_mode, 0, target);
        } else if (S_ISREG(st.st_mode)) {
            if (ign)
                continue;
            _cleanup_close_ int fd =
                openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0)
                return err_sys(err, errno, "open '%s'", crel);
            cachekey_content_entry(h, cshown, st.st_mode, st.st_size, NULL);
            rc = hash_file(h, fd, err);
        } else if (S_ISDIR(st.st_mode)) {
            _cleanup_close_ int fd = openat(
                dirfd, name, O_RDONLY | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0)
                return err_sys(err, errno, "open '%s'", crel);
            if (!ign)
                cachekey_content_entry(h, cshown, st.st_mode, 0, NULL);
            rc = hash_dir(src, h, fd, crel, cshown, err);
        }
    }
    free_list(&names);
    return rc;
}

int bsrc_hash(const struct bsrc *src, const struct bsrc_list *l, char *out,
              struct err *err)
{
    _cleanup_close_ int rootfd =
        open(src->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return err_sys(err, errno, "open %s", src->what);
    struct cachekey_content h;
    cachekey_content_init(&h);
    int rc = 0;
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        _cleanup_close_ int fd = rootfs_open(rootfd, l->paths[i], O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
            rc = err_sys(err, errno, "open '%s'", l->paths[i]);
            break;
        }
        cachekey_content_entry(&h, l->paths[i], st.st_mode,
                               S_ISREG(st.st_mode) ? st.st_size : 0, NULL);
        if (S_ISREG(st.st_mode))
            rc = hash_file(&h, fd, err);
        else if (S_ISDIR(st.st_mode))
            rc = hash_dir(src, &h, fd, l->paths[i], l->paths[i], err);
    }
    if (rc < 0) {
        cachekey_content_fini(&h);
        return -1;
    }
    cachekey_content_final(&h, out);
    return 0;
}

/* ---- Directories in a rootfs ---- */

/* mkdir -p inside the rootfs rootfd; returns the directory's fd. */
static int mkdir_in_root(int rootfd, const char *path, unsigned uid,
                         unsigned gid, struct err *err)
{
    _cleanup_free_ char *clean = path_clean_rel(path);
    if (strcmp(clean, ".") == 0) {
        int fd = rootfs_open(rootfd, "/", O_RDONLY | O_DIRECTORY);
        if (fd < 0)
            return err_sys(err, errno, "open the rootfs");
        return fd;
    }
    _cleanup_free_ char *copy = xstrdup(clean);
    struct buf prefix;
    buf_init(&prefix);
    int fd = rootfs_open(rootfd, "/", O_RDONLY | O_DIRECTORY);
    char *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c && fd >= 0;
         c = strtok_r(NULL, "/", &save)) {
        if (prefix.len)
            buf_putc(&prefix, '/');
        buf_puts(&prefix, c);
        int next = rootfs_open(rootfd, prefix.data, O_RDONLY | O_DIRECTORY);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST) {
                err_sys(err, errno, "create directory '/%s'", prefix.data);
                close(fd);
                fd = -1;
                break;
            }
            if (fchownat(fd, c, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
                err_sys(err, errno, "chown '/%s'", prefix.data);
                close(fd);
                fd = -1;
                break;
            }
            next = rootfs_open(rootfd, prefix.data, O_RDONLY | O_DIRECTORY);
        }
        if (next < 0) {
            err_sys(err, errno, "open directory '/%s'", prefix.data);
            close(fd);
            fd = -1;
            break;
        }
        close(fd);
        fd = next;
    }
    buf_fini(&prefix);
    return fd;
}

int bfs_mkdir_p(const char *rootfs, const char *path, unsigned uid,
                unsigned gid, struct err *err)
{
    _cleanup_close_ int rootfd =
        open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return err_sys(err, errno, "open '%s'", rootfs);
    int fd = mkdir_in_root(rootfd, path, uid, gid, err);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* ---- Copying ---- */

struct copy {
    const struct bsrc *src;
    const struct bcopy_opts *o;
    bool neg;
};

static void owner_of(const struct copy *cp, unsigned *uid, unsigned *gid)
{
    *uid = cp->o->has_owner ? cp->o->uid : 0;
    *gid = cp->o->has_owner ? cp->o->gid : 0;
}

static mode_t mode_of(const struct copy *cp, const struct stat *st)
{
    return cp->o->chmod >= 0 ? (mode_t)cp->o->chmod : st->st_mode & 07777;
}

/* Makes room for a non-directory at dirfd/name. */
static int clear_for_file(int dirfd, const char *name, const char *shown,
                          struct err *err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    if (S_ISDIR(st.st_mode))
        return err_set(err, ERR_INVALID,
                       "cannot overwrite directory \"%s\" with non-directory",
                       shown);
    if (unlinkat(dirfd, name, 0) < 0)
        return err_sys(err, errno, "replace '%s'", shown);
    return 0;
}

static int copy_file(const struct copy *cp, int sfd, const struct stat *st,
                     int dirfd, const char *name, const char *shown,
                     struct err *err)
{
    if (clear_for_file(dirfd, name, shown, err) < 0)
        return -1;
    _cleanup_close_ int fd =
        openat(dirfd, name,
               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_sys(err, errno, "create '%s'", shown);
    char buf[65536];
    for (;;) {
        ssize_t r = read(sfd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_sys(err, errno, "read the source of '%s'", shown);
        if (r == 0)
            break;
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(fd, buf + off, (size_t)(r - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return err_sys(err, errno, "write '%s'", shown);
            off += w;
        }
    }
    unsigned uid, gid;
    owner_of(cp, &uid, &gid);
    struct timespec times[2] = {st->st_atim, st->st_mtim};
    if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode_of(cp, st)) < 0 ||
        futimens(fd, times) < 0)
        return err_sys(err, errno, "set attributes of '%s'", shown);
    return 0;
}

static int copy_dir(const struct copy *cp, int sfd, int dfd, const char *rel,
                    const char *shown, struct err *err);

static int copy_entry(const struct copy *cp, int sdir, int ddir,
                      const char *name, const char *rel, const char *shown,
                      struct err *err)
{
    struct stat st;
    if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    bool ign = ignored(cp->src, rel);
    if (ign && !(S_ISDIR(st.st_mode) && cp->neg))
        return 0;
    unsigned uid, gid;
    owner_of(cp, &uid, &gid);
    if (S_ISREG(st.st_mode)) {
        _cleanup_close_ int fd =
            openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return err_sys(err, errno, "open '%s'", rel);
        return copy_file(cp, fd, &st, ddir, name, shown, err);
    }
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
        if (n < 0)
            return err_sys(err, errno, "readlink '%s'", rel);
        target[n] = 0;
        if (clear_for_file(ddir, name, shown, err) < 0)
            return -1;
        struct timespec times[2] = {st.st_atim, st.st_mtim};
        if (symlinkat(target, ddir, name) < 0 ||
            fchownat(ddir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
            return err_sys(err, errno, "create symlink '%s'", shown);
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return 0; /* devices, fifos, sockets: not copied */
    struct stat dst;
    if (fstatat(ddir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISDIR(dst.st_mode) && unlinkat(ddir, name, 0) < 0)
        return err_sys(err, errno, "replace '%s'", shown);
    if (mkdirat(ddir, name, 0700) < 0 && errno != EEXIST)
        return err_sys(err, errno, "create directory '%s'", shown);
    _cleanup_close_ int s2 =
        openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    _cleanup_close_ int d2 =
        openat(ddir, name, O_RDONLY | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (s2 < 0 || d2 < 0)
        return err_sys(err, errno, "open directory '%s'", shown);
    if (copy_dir(cp, s2, d2, rel, shown, err) < 0)
        return -1;
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (fchown(d2, uid, gid) < 0 || fchmod(d2, mode_of(cp, &st)) < 0 ||
        futimens(d2, times) < 0)
        return err_sys(err, errno, "set attributes of '%s'", shown);
    return 0;
}

static int copy_dir(const struct copy *cp, int sfd, int dfd, const char *rel,
                    const char *shown, struct err *err)
{
    struct vec names;
    if (list_dir(sfd, &names) < 0)
        return err_sys(err, errno, "read directory '%s'", rel);
    int rc = 0;
    for (size_t i = 0; i < names.len && rc == 0; i++) {
        const char *name = names.items[i];
        _cleanup_free_ char *crel = join(rel, name);
        _cleanup_free_ char *cshown = xasprintf("%s/%s", shown, name);
        rc = copy_entry(cp, sfd, dfd, name, crel, cshown, err);
    }
    free_list(&names);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* One top-level source (a cleaned path in the source root). */
static int copy_one(const struct copy *cp, int srcroot, int rootfd,
                    const char *path, struct err *err)
{
    const struct bcopy_opts *o = cp->o;
    _cleanup_close_ int sfd = rootfs_open(srcroot, path, O_RDONLY);
    struct stat st;
    if (sfd < 0 || fstat(sfd, &st) < 0)
        return err_sys(err, errno, "open source '%s'", path);
    unsigned uid, gid;
    owner_of(cp, &uid, &gid);
    if (S_ISDIR(st.st_mode)) {
        _cleanup_close_ int dfd = mkdir_in_root(rootfd, o->dest, uid, gid, err);
        if (dfd < 0)
            return -1;
        return copy_dir(cp, sfd, dfd, path, o->dest, err);
    }
    if (!S_ISREG(st.st_mode))
        return err_set(err, ERR_INVALID,
                       "source '%s' is not a regular file "
                       "or a directory",
                       path);
    if (o->unpack) {
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", sfd);
        if (arc_is_tar(proc)) {
            _cleanup_close_ int dfd =
                mkdir_in_root(rootfd, o->dest, uid, gid, err);
            if (dfd < 0)
                return -1;
            char dproc[64], real[PATH_MAX];
            snprintf(dproc, sizeof(dproc), "/proc/self/fd/%d", dfd);
            ssize_t n = readlink(dproc, real, sizeof(real) - 1);
            if (n < 0)
                return err_sys(err, errno, "resolve '%s'", o->dest);
            real[n] = 0;
            if (arc_unpack_tree(proc, real, err) < 0)
                return err_ctx(err, "ADD %s", path);
            return 0;
        }
    }
    /* A file: into dest/ when dest is (or names) a directory. */
    bool into = o->dest_is_dir;
    if (!into) {
        _cleanup_close_ int d = rootfs_open(rootfd, o->dest, O_RDONLY);
        struct stat dst;
        into = d >= 0 && fstat(d, &dst) == 0 && S_ISDIR(dst.st_mode);
    }
    _cleanup_free_ char *target =
        into ? xasprintf("%s/%s", o->dest, base_name(path)) : xstrdup(o->dest);
    _cleanup_free_ char *clean = path_clean_rel(target);
    if (strcmp(clean, ".") == 0)
        return err_set(err, ERR_INVALID, "cannot copy a file onto /");
    const char *slash = strrchr(clean, '/');
    _cleanup_free_ char *parent =
        slash ? xstrndup(clean, (size_t)(slash - clean)) : xstrdup(".");
    _cleanup_close_ int pfd = mkdir_in_root(rootfd, parent, uid, gid, err);
    if (pfd < 0)
        return -1;
    _cleanup_free_ char *shown = xasprintf("/%s", clean);
    return copy_file(cp, sfd, &st, pfd, base_name(clean), shown, err);
}

int bfs_copy(const struct bsrc *src, const struct bsrc_list *l,
             const char *rootfs, const struct bcopy_opts *o, struct err *err)
{
    _cleanup_close_ int srcroot =
        open(src->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_close_ int rootfd =
        open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (srcroot < 0 || rootfd < 0)
        return err_sys(err, errno, "open the copy's source or rootfs");
    struct copy cp = {.src = src, .o = o, .neg = has_negations(src)};
    for (size_t i = 0; i < l->n; i++)
        if (copy_one(&cp, srcroot, rootfd, l->paths[i], err) < 0)
            return -1;
    return 0;
}

/* ---- The runtime's mount points ---- */

static const char *const points[] = {
    "etc", "etc/hosts", "etc/resolv.conf", "etc/hostname", "proc",
    "sys", "dev"};

unsigned bfs_note_points(const char *rootfs)
{
    _cleanup_close_ int rootfd =
        open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    unsigned mask = 0;
    for (size_t i = 0; rootfd >= 0 && i < ARRAY_SIZE(points); i++) {
        int fd = rootfs_open(rootfd, points[i], O_PATH | O_NOFOLLOW);
        if (fd >= 0) {
            mask |= 1u << i;
            close(fd);
        }
    }
    return mask;
}

void bfs_prune_points(const char *upper, unsigned existed)
{
    _cleanup_close_ int fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    /* Deepest first, so that /etc is looked at after its files. */
    for (size_t i = ARRAY_SIZE(points); i-- > 0;) {
        struct stat st;
        if (fstatat(fd, points[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (i == 0) {
            /* /etc itself: gone when what is left of it in the upper dir
             * is an empty, non-opaque directory (a copy-up for the files
             * above, or made by the runtime for them). */
            char v[2];
            _cleanup_close_ int d = openat(
                fd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (d < 0 ||
                fgetxattr(d, "trusted.overlay.opaque", v, sizeof(v)) > 0)
                continue;
            unlinkat(fd, "etc", AT_REMOVEDIR); /* fails unless empty */
            continue;
        }
        if (existed & (1u << i))
            continue;
        if (S_ISREG(st.st_mode) && st.st_size == 0)
            unlinkat(fd, points[i], 0);
        else if (S_ISDIR(st.st_mode))
            unlinkat(fd, points[i], AT_REMOVEDIR);
    }
}
