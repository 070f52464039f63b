// SPDX-License-Identifier: Apache-2.0
// The libarchive adapter: the only file that includes <archive.h>. Reads
// tar archives and compressed blobs, unpacks image layers (overlayfs
// whiteouts, no path traversal) and plain trees, writes directory trees
// (plain, or an overlayfs upper dir as a layer) and small archives in
// memory.
//
// Every function here is safe to call from several threads at once: each
// call owns its libarchive handles. Unpacking never changes the working
// directory (paths are made absolute under dest, and libarchive's chdir
// path for very long names is avoided by refusing names >= PATH_MAX).
#include "runtime/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/vec.h"

#define BLOCK       (64 * 1024)
#define WH_PREFIX   ".wh."
#define WH_META     ".wh..wh."
#define WH_OPAQUE   ".wh..wh..opq"
#define OVL_XATTR   "trusted.overlay."
#define OVL_OPAQUE  "trusted.overlay.opaque"
#define FIXED_MTIME 1704067200 /* 2024-01-01T00:00:00Z */

static void enable_filters(struct archive *a)
{
    /* Not archive_read_support_filter_all(): it may run external programs
     * (lzop, lrzip, grzip) on untrusted input. */
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_lz4(a);
}

static int la_error(struct archive *a, struct err *err, int code,
                    const char *what)
{
    const char *m = archive_error_string(a);
    return err_set(err, code, "%s: %s", what, m ? m : "unknown error");
}

static int open_input(const char *path, off_t *size, struct err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_sys(err, errno, "open '%s'", path);
        err->code = ERR_INTERNAL;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        err_sys(err, errno, "stat '%s'", path);
        err->code = ERR_INTERNAL;
        close(fd);
        return -1;
    }
    if (size)
        *size = st.st_size;
    return fd;
}

/* ---- Reader ---- */

struct arc_reader {
    struct archive *a;
    int fd;
};

struct arc_reader *arc_reader_open(const char *path, struct err *err)
{
    int fd = open_input(path, NULL, err);
    if (fd < 0)
        return NULL;
    struct archive *a = archive_read_new();
    if (!a)
        abort();
    enable_filters(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_empty(a);
    if (archive_read_open_fd(a, fd, BLOCK) != ARCHIVE_OK) {
        la_error(a, err, ERR_INVALID, "invalid archive");
        archive_read_free(a);
        close(fd);
        return NULL;
    }
    struct arc_reader *r = xcalloc(1, sizeof(*r));
    r->a = a;
    r->fd = fd;
    return r;
}

static enum arc_type entry_type(struct archive_entry *ae)
{
    if (archive_entry_hardlink(ae))
        return ARC_HARDLINK;
    switch (archive_entry_filetype(ae)) {
    case AE_IFREG:
        return ARC_FILE;
    case AE_IFDIR:
        return ARC_DIR;
    case AE_IFLNK:
        return ARC_SYMLINK;
    default:
        return ARC_OTHER;
    }
}

int arc_reader_next(struct arc_reader *r, struct arc_entry *e, struct err *err)
{
    struct archive_entry *ae;
    int rc = archive_read_next_header(r->a, &ae);
    if (rc == ARCHIVE_EOF)
        return 0;
    if (rc < ARCHIVE_WARN)
        return la_error(r->a, err, ERR_INVALID, "invalid archive");
    const char *path = archive_entry_pathname(ae);
    e->path = path ? path : "";
    e->type = entry_type(ae);
    e->link = e->type == ARC_HARDLINK  ? archive_entry_hardlink(ae)
              : e->type == ARC_SYMLINK ? archive_entry_symlink(ae)
                                       : NULL;
    e->size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
    if (e->size < 0)
        e->size = 0;
    return 1;
}

ssize_t arc_reader_read(struct arc_reader *r, void *buf, size_t n,
                        struct err *err)
{
    la_ssize_t got = archive_read_data(r->a, buf, n);
    if (got < 0)
        return la_error(r->a, err, ERR_INVALID, "invalid archive");
    return got;
}

void arc_reader_free(struct arc_reader *r)
{
    if (!r)
        return;
    archive_read_free(r->a);
    close(r->fd);
    free(r);
}

/* ---- Decompressed streams ---- */

/* The decompressing half: any supported compression (or none) over the
 * whole file, as one "raw" entry. */
static struct archive *open_raw(int fd, struct err *err)
{
    struct archive *a = archive_read_new();
    if (!a)
        abort();
    enable_filters(a);
    archive_read_support_format_raw(a);
    struct archive_entry *ae;
    if (archive_read_open_fd(a, fd, BLOCK) != ARCHIVE_OK ||
        archive_read_next_header(a, &ae) != ARCHIVE_OK) {
        la_error(a, err, ERR_INVALID, "invalid compressed data");
        archive_read_free(a);
        return NULL;
    }
    return a;
}

int arc_read_stream(const char *path, arc_tap_fn tap, void *tap_data,
                    struct err *err)
{
    off_t size = 0;
    _cleanup_close_ int fd = open_input(path, &size, err);
    if (fd < 0)
        return -1;
    if (size == 0)
        return 0; /* libarchive wants at least one byte to bid */
    struct archive *raw = open_raw(fd, err);
    if (!raw)
        return -1;
    _cleanup_free_ char *buf = xmalloc(BLOCK);
    int ret = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(raw, buf, BLOCK);
        if (n < 0) {
            ret = la_error(raw, err, ERR_INVALID, "invalid compressed data");
            break;
        }
        if (n == 0)
            break;
        if (tap)
            tap(tap_data, buf, (size_t)n);
    }
    archive_read_free(raw);
    return ret;
}

/* The tar reader of a layer pulls from the raw reader through this
 * callback, so the uncompressed stream is read once and seen by tap. */
struct chain {
    struct archive *raw;
    arc_tap_fn tap;
    void *tap_data;
    char *buf;
    bool raw_failed;
};

static la_ssize_t chain_read(struct archive *a, void *client, const void **out)
{
    struct chain *c = client;
    if (!c->raw) {
        *out = c->buf;
        return 0;
    }
    la_ssize_t n = archive_read_data(c->raw, c->buf, BLOCK);
    if (n < 0) {
        c->raw_failed = true;
        const char *m = archive_error_string(c->raw);
        archive_set_error(a, EILSEQ, "%s", m ? m : "invalid compressed data");
        return -1;
    }
    if (n > 0 && c->tap)
        c->tap(c->tap_data, c->buf, (size_t)n);
    *out = c->buf;
    return n;
}

/* ---- Layer unpacking ---- */

struct unpack {
    bool plain; /* ".wh." names are ordinary files (contexts, ADD) */
    const char *dest;
    int dest_fd;
    struct archive *in;
    struct archive *disk;
    struct vec opaque; /* owned relative dir paths */
    int64_t size;
};

/* Relative, normalised form of an archive path: no leading "./", no empty
 * or "." components. Absolute paths and ".." are refused. "" means the
 * root of the layer. */
static char *clean_path(const char *in, const char *what, struct err *err)
{
    if (in[0] == '/') {
        err_set(err, ERR_INVALID, "refusing %s '%s': absolute path", what, in);
        return NULL;
    }
    _cleanup_buf_ struct buf b;
    buf_init(&b);
    const char *p = in;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            err_set(err, ERR_INVALID,
                    "refusing %s '%s': path escapes the "
                    "layer",
                    what, in);
            return NULL;
        }
        if (n && !(n == 1 && p[0] == '.')) {
            if (b.len)
                buf_putc(&b, '/');
            buf_append(&b, p, n);
        }
        p += n;
        if (*p == '/')
            p++;
    }
    return buf_steal(&b);
}

/* Opens the directory rel (clean, "" = dirfd itself) beneath dirfd without
 * following any symlink; creates missing components if create. -1 with
 * errno on failure. */
static int open_dir_beneath(int dirfd, const char *rel, bool create)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    _cleanup_free_ char *copy = xstrdup(rel);
    char *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c;
         c = strtok_r(NULL, "/", &save)) {
        int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        int next = openat(fd, c, flags);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
            }
            next = openat(fd, c, flags);
        }
        int e = errno;
        close(fd);
        if (next < 0) {
            errno = e;
            return -1;
        }
        fd = next;
    }
    return fd;
}

static int disk_error(struct unpack *u, struct err *err, const char *path)
{
    int e = archive_errno(u->disk);
    int code =
        (e == ENOSPC || e == EDQUOT || e == EIO || e == EROFS || e == ENOMEM)
            ? ERR_INTERNAL
            : ERR_INVALID;
    const char *m = archive_error_string(u->disk);
    return err_set(err, code, "extract '%s': %s", path,
                   m ? m : "unknown error");
}

/* Drops trusted.overlay.* xattrs: the layer must not steer overlayfs
 * (redirects, metacopy, opaque) except through whiteouts we convert. */
static void filter_xattrs(struct archive_entry *ae)
{
    if (archive_entry_xattr_reset(ae) == 0)
        return;
    struct keep {
        char *name;
        void *value;
        size_t size;
    };
    struct vec keep;
    vec_init(&keep);
    bool dropped = false;
    const char *name;
    const void *value;
    size_t size;
    while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK) {
        if (strncmp(name, OVL_XATTR, strlen(OVL_XATTR)) == 0) {
            dropped = true;
            continue;
        }
        struct keep *k = xmalloc(sizeof(*k));
        k->name = xstrdup(name);
        k->value = xmalloc(size ? size : 1);
        memcpy(k->value, value, size);
        k->size = size;
        vec_push(&keep, k);
    }
    if (dropped) {
        archive_entry_xattr_clear(ae);
        for (size_t i = 0; i < keep.len; i++) {
            struct keep *k = keep.items[i];
            archive_entry_xattr_add_entry(ae, k->name, k->value, k->size);
        }
    }
    for (size_t i = 0; i < keep.len; i++) {
        struct keep *k = keep.items[i];
        free(k->name);
        free(k->value);
        free(k);
    }
    vec_fini(&keep);
}

static char *join_dest(struct unpack *u, const char *rel, struct err *err)
{
    char *full = xasprintf("%s/%s", u->dest, rel);
    if (strlen(full) >= PATH_MAX) {
        err_set(err, ERR_INVALID, "refusing '%s': path too long", rel);
        free(full);
        return NULL;
    }
    return full;
}

static int write_whiteout(struct unpack *u, struct archive_entry *ae,
                          const char *dir, const char *name, struct err *err)
{
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return err_set(err, ERR_INVALID, "refusing whiteout '%s/.wh.%s'", dir,
                       name);
    _cleanup_free_ char *rel =
        *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
    _cleanup_free_ char *full = join_dest(u, rel, err);
    if (!full)
        return -1;
    struct archive_entry *wh = archive_entry_new();
    if (!wh)
        abort();
    archive_entry_set_pathname(wh, full);
    archive_entry_set_filetype(wh, AE_IFCHR);
    archive_entry_set_perm(wh, 0);
    archive_entry_set_rdev(wh, 0);
    archive_entry_set_uid(wh, archive_entry_uid(ae));
    archive_entry_set_gid(wh, archive_entry_gid(ae));
    archive_entry_set_mtime(wh, archive_entry_mtime(ae),
                            archive_entry_mtime_nsec(ae));
    archive_entry_set_size(wh, 0);
    int rc = archive_write_header(u->disk, wh);
    if (rc >= ARCHIVE_WARN)
        rc = archive_write_finish_entry(u->disk);
    archive_entry_free(wh);
    if (rc < ARCHIVE_WARN)
        return disk_error(u, err, rel);
    return 0;
}

/* A hardlink's target must be an existing non-directory inside the layer,
 * reached without crossing a symlink. */
static int check_hardlink(struct unpack *u, const char *path,
                          const char *target, struct err *err)
{
    const char *slash = strrchr(target, '/');
    _cleanup_free_ char *dir =
        slash ? xstrndup(target, (size_t)(slash - target)) : xstrdup("");
    const char *base = slash ? slash + 1 : target;
    _cleanup_close_ int fd = open_dir_beneath(u->dest_fd, dir, false);
    struct stat st;
    if (!*base || fd < 0 || fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        S_ISDIR(st.st_mode))
        return err_set(err, ERR_INVALID,
                       "refusing hardlink '%s' to '%s': target not in the "
                       "layer",
                       path, target);
    return 0;
}

static int copy_data(struct unpack *u, const char *rel, struct err *err)
{
    for (;;) {
        const void *blk;
        size_t len;
        la_int64_t off;
        int rc = archive_read_data_block(u->in, &blk, &len, &off);
        if (rc == ARCHIVE_EOF)
            return 0;
        if (rc < ARCHIVE_WARN)
            return la_error(u->in, err, ERR_INVALID, "invalid layer");
        if (archive_write_data_block(u->disk, blk, len, off) < ARCHIVE_WARN)
            return disk_error(u, err, rel);
    }
}

static int unpack_entry(struct unpack *u, struct archive_entry *ae,
                        struct err *err)
{
    const char *raw = archive_entry_pathname(ae);
    if (!raw || !*raw)
        return err_set(err, ERR_INVALID,
                       "invalid layer: entry without a "
                       "name");
    _cleanup_free_ char *rel = clean_path(raw, "entry", err);
    if (!rel)
        return -1;
    if (!*rel)
        return 0; /* "./": the layer root is ours */

    const char *slash = strrchr(rel, '/');
    const char *base = slash ? slash + 1 : rel;
    _cleanup_free_ char *dir =
        slash ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup("");
    if (!u->plain && strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
        if (strcmp(base, WH_OPAQUE) == 0) {
            vec_push(&u->opaque, steal_ptr(dir));
            return 0;
        }
        if (strncmp(base, WH_META, strlen(WH_META)) == 0)
            return 0; /* aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs) */
        return write_whiteout(u, ae, dir, base + strlen(WH_PREFIX), err);
    }

    _cleanup_free_ char *full = join_dest(u, rel, err);
    if (!full)
        return -1;
    archive_entry_set_pathname(ae, full);
    const char *link = archive_entry_hardlink(ae);
    if (link) {
        _cleanup_free_ char *lrel = clean_path(link, "hardlink", err);
        if (!lrel)
            return -1;
        if (check_hardlink(u, rel, lrel, err) < 0)
            return -1;
        _cleanup_free_ char *lfull = join_dest(u, lrel, err);
        if (!lfull)
            return -1;
        archive_entry_set_hardlink(ae, lfull);
    }
    filter_xattrs(ae);
    if (archive_write_header(u->disk, ae) < ARCHIVE_WARN)
        return disk_error(u, err, rel);
    if (!link && archive_entry_filetype(ae) == AE_IFREG) {
        u->size += archive_entry_size(ae);
        if (archive_entry_size(ae) > 0 && copy_data(u, rel, err) < 0)
            return -1;
    }
    if (archive_write_finish_entry(u->disk) < ARCHIVE_WARN)
        return disk_error(u, err, rel);
    return 0;
}

static int set_opaque(struct unpack *u, const char *dir, struct err *err)
{
    _cleanup_close_ int fd = open_dir_beneath(u->dest_fd, dir, true);
    if (fd < 0)
        return err_set(err, ERR_INVALID, "refusing opaque marker in '%s': %s",
                       dir, strerror(errno));
    if (fsetxattr(fd, OVL_OPAQUE, "y", 1, 0) < 0) {
        err_sys(err, errno, "set %s on '%s'", OVL_OPAQUE, dir);
        err->code = ERR_INTERNAL;
        return -1;
    }
    return 0;
}

static int unpack_all(struct unpack *u, struct err *err)
{
    for (;;) {
        struct archive_entry *ae;
        int rc = archive_read_next_header(u->in, &ae);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc < ARCHIVE_WARN)
            return la_error(u->in, err, ERR_INVALID, "invalid layer");
        if (unpack_entry(u, ae, err) < 0)
            return -1;
    }
    /* Directory permissions and times are fixed up at close. */
    if (archive_write_close(u->disk) < ARCHIVE_WARN)
        return disk_error(u, err, "(fixups)");
    for (size_t i = 0; i < u->opaque.len; i++)
        if (set_opaque(u, u->opaque.items[i], err) < 0)
            return -1;
    return 0;
}

static int unpack(const char *src, const char *dest, bool plain, arc_tap_fn tap,
                  void *tap_data, int64_t *size, struct err *err)
{
    if (size)
        *size = 0;
    off_t src_size = 0;
    _cleanup_close_ int fd = open_input(src, &src_size, err);
    if (fd < 0)
        return -1;
    _cleanup_close_ int dest_fd =
        open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dest_fd < 0) {
        err_sys(err, errno, "open '%s'", dest);
        err->code = ERR_INTERNAL;
        return -1;
    }
    struct chain ch = {.tap = tap, .tap_data = tap_data};
    if (src_size > 0) {
        ch.raw = open_raw(fd, err);
        if (!ch.raw)
            return err_ctx(err, "invalid layer");
    }
    ch.buf = xmalloc(BLOCK);

    struct unpack u = {.plain = plain, .dest = dest, .dest_fd = dest_fd};
    vec_init(&u.opaque);
    u.in = archive_read_new();
    u.disk = archive_write_disk_new();
    if (!u.in || !u.disk)
        abort();
    archive_read_support_format_tar(u.in);
    archive_read_support_format_empty(u.in);
    int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_XATTR |
                ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                ARCHIVE_EXTRACT_SECURE_NODOTDOT;
    if (geteuid() == 0)
        flags |= ARCHIVE_EXTRACT_OWNER;
    archive_write_disk_set_options(u.disk, flags);

    int ret;
    if (archive_read_open(u.in, &ch, NULL, chain_read, NULL) != ARCHIVE_OK)
        ret = la_error(u.in, err, ERR_INVALID, "invalid layer");
    else
        ret = unpack_all(&u, err);
    /* The digest covers the whole stream, not just what tar looked at. */
    while (ret == 0 && ch.raw) {
        const void *p;
        la_ssize_t n = chain_read(u.in, &ch, &p);
        if (n < 0)
            ret = la_error(ch.raw, err, ERR_INVALID, "invalid layer");
        if (n <= 0)
            break;
    }
    if (ret == 0 && size)
        *size = u.size;

    archive_write_free(u.disk);
    archive_read_free(u.in);
    if (ch.raw)
        archive_read_free(ch.raw);
    free(ch.buf);
    for (size_t i = 0; i < u.opaque.len; i++)
        free(u.opaque.items[i]);
    vec_fini(&u.opaque);
    return ret;
}

int arc_unpack_layer(const char *src, const char *dest, arc_tap_fn tap,
                     void *tap_data, int64_t *size, struct err *err)
{
    return unpack(src, dest, false, tap, tap_data, size, err);
}

int arc_unpack_tree(const char *src, const char *dest, struct err *err)
{
    return unpack(src, dest, true, NULL, NULL, NULL, err);
}

bool arc_is_tar(const char *path)
{
    struct err err = {0};
    struct arc_reader *r = arc_reader_open(path, &err);
    if (!r)
        return false;
    struct arc_entry e;
    bool tar = arc_reader_next(r, &e, &err) == 1;
    arc_reader_free(r);
    return tar;
}

/* ---- Writing a directory tree to a tar file ---- */

struct tree {
    enum arc_tree_mode mode;
    arc_tree_filter_fn filter;
    void *filter_data;
    struct archive *out;
    struct archive_entry_linkresolver *links;
    char *buf;
};

static int tree_write_error(struct tree *t, struct err *err, const char *rel)
{
    const char *m = archive_error_string(t->out);
    return err_set(err, ERR_INTERNAL, "write archive entry '%s': %s", rel,
                   m ? m : "unknown error");
}

/* An empty regular file: a whiteout of the Docker layer format. */
static int tree_marker(struct tree *t, const char *rel, const struct stat *st,
                       struct err *err)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        abort();
    archive_entry_set_pathname(e, rel);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0);
    archive_entry_set_uid(e, st->st_uid);
    archive_entry_set_gid(e, st->st_gid);
    archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    archive_entry_set_size(e, 0);
    int rc = archive_write_header(t->out, e);
    archive_entry_free(e);
    return rc < ARCHIVE_WARN ? tree_write_error(t, err, rel) : 0;
}

/* Copies fd's extended attributes into e, less trusted.overlay.*; tells
 * whether the overlayfs opaque marker was among them. */
static void tree_xattrs(int fd, struct archive_entry *e, bool *opaque)
{
    *opaque = false;
    char names[16384];
    ssize_t n = flistxattr(fd, names, sizeof(names));
    for (ssize_t off = 0; n > 0 && off < n;
         off += (ssize_t)strlen(names + off) + 1) {
        const char *name = names + off;
        char val[8192];
        ssize_t vl = fgetxattr(fd, name, val, sizeof(val));
        if (vl < 0)
            continue;
        if (strncmp(name, OVL_XATTR, strlen(OVL_XATTR)) == 0) {
            if (strcmp(name, OVL_OPAQUE) == 0 && vl == 1 && val[0] == 'y')
                *opaque = true;
            continue;
        }
        archive_entry_xattr_add_entry(e, name, val, (size_t)vl);
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int tree_dir(struct tree *t, int dirfd, const char *rel,
                    struct err *err);

static int tree_entry(struct tree *t, int dirfd, const char *name,
                      const char *rel, struct err *err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return err_sys(err, errno, "stat '%s'", rel);
    bool is_dir = S_ISDIR(st.st_mode);
    bool descend = true;
    bool include =
        !t->filter || t->filter(t->filter_data, rel, is_dir, &descend);
    if (S_ISSOCK(st.st_mode))
        return 0;
    if (t->mode == ARC_TREE_LAYER && S_ISCHR(st.st_mode) &&
        st.st_rdev == makedev(0, 0)) {
        if (!include)
            return 0;
        const char *slash = strrchr(rel, '/');
        _cleanup_free_ char *wh =
            slash ? xasprintf("%.*s/" WH_PREFIX "%s", (int)(slash - rel), rel,
                              slash + 1)
                  : xasprintf(WH_PREFIX "%s", rel);
        return tree_marker(t, wh, &st, err);
    }
    _cleanup_close_ int fd = -1;
    if (S_ISREG(st.st_mode) || is_dir) {
        fd = openat(dirfd, name,
                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
                        (is_dir ? O_DIRECTORY : 0));
        if (fd < 0)
            return err_sys(err, errno, "open '%s'", rel);
    }
    bool opaque = false;
    if (include) {
        struct archive_entry *e = archive_entry_new();
        if (!e)
            abort();
        archive_entry_copy_stat(e, &st);
        archive_entry_set_pathname(e, rel);
        if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
            if (n < 0) {
                archive_entry_free(e);
                return err_sys(err, errno, "readlink '%s'", rel);
            }
            target[n] = 0;
            archive_entry_set_symlink(e, target);
        }
        if (fd >= 0)
            tree_xattrs(fd, e, &opaque);
        if (!is_dir)
            archive_entry_set_size(e, S_ISREG(st.st_mode) ? st.st_size : 0);
        struct archive_entry *sparse = NULL;
        archive_entry_linkify(t->links, &e, &sparse);
        int rc = 0;
        if (e) {
            bool hard = archive_entry_hardlink(e) != NULL;
            if (archive_write_header(t->out, e) < ARCHIVE_WARN)
                rc = tree_write_error(t, err, rel);
            for (int64_t left = S_ISREG(st.st_mode) && !hard ? st.st_size : 0;
                 rc == 0 && left > 0;) {
                ssize_t r = read(fd, t->buf, BLOCK);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0) {
                    rc = err_sys(err, r < 0 ? errno : EIO, "read '%s'", rel);
                    break;
                }
                if (r > left)
                    r = (ssize_t)left;
                if (archive_write_data(t->out, t->buf, (size_t)r) < 0)
                    rc = tree_write_error(t, err, rel);
                left -= r;
            }
            archive_entry_free(e);
        }
        if (rc < 0)
            return -1;
    }
    if (!is_dir || !descend)
        return 0;
    if (include && opaque && t->mode == ARC_TREE_LAYER) {
        _cleanup_free_ char *m = xasprintf("%s/" WH_OPAQUE, rel);
        if (tree_marker(t, m, &st, err) < 0)
            return -1;
    }
    return tree_dir(t, fd, rel, err);
}

/* Writes the entries below the directory dirfd (taking it over), sorted
 * by name so equal trees give equal archives. */
static int tree_dir(struct tree *t, int dirfd, const char *rel, struct err *err)
{
    int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
    if (!d) {
        if (dup >= 0)
            close(dup);
        return err_sys(err, errno, "open directory '%s'", *rel ? rel : ".");
    }
    struct vec names;
    vec_init(&names);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            vec_push(&names, xstrdup(de->d_name));
    closedir(d);
    if (names.len)
        qsort(names.items, names.len, sizeof(void *), cmp_names);
    int rc = 0;
    for (size_t i = 0; i < names.len && rc == 0; i++) {
        const char *name = names.items[i];
        _cleanup_free_ char *child =
            *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
        rc = tree_entry(t, dirfd, name, child, err);
    }
    for (size_t i = 0; i < names.len; i++)
        free(names.items[i]);
    vec_fini(&names);
    return rc;
}

int arc_write_tree(const char *root, const char *out_path,
                   enum arc_tree_mode mode, arc_tree_filter_fn filter,
                   void *filter_data, struct err *err)
{
    _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return err_sys(err, errno, "open '%s'", root);
    struct tree t = {.mode = mode,
                     .filter = filter,
                     .filter_data = filter_data,
                     .buf = xmalloc(BLOCK)};
    t.out = archive_write_new();
    t.links = archive_entry_linkresolver_new();
    if (!t.out || !t.links)
        abort();
    archive_entry_linkresolver_set_strategy(t.links,
                                            ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    int rc = 0;
    if (archive_write_set_format_pax_restricted(t.out) != ARCHIVE_OK ||
        archive_write_add_filter_none(t.out) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(t.out, 1) != ARCHIVE_OK ||
        archive_write_open_filename(t.out, out_path) != ARCHIVE_OK) {
        const char *m = archive_error_string(t.out);
        rc = err_set(err, ERR_INTERNAL, "create archive '%s': %s", out_path,
                     m ? m : "unknown error");
    }
    if (rc == 0)
        rc = tree_dir(&t, rootfd, "", err);
    if (rc == 0 && archive_write_close(t.out) != ARCHIVE_OK)
        rc = tree_write_error(&t, err, "(end)");
    archive_write_free(t.out);
    archive_entry_linkresolver_free(t.links);
    free(t.buf);
    return rc;
}

/* ---- Writer ---- */

struct arc_writer {
    struct archive *a;
    struct buf out;
};

static la_ssize_t mem_write(struct archive *a, void *client, const void *buf,
                            size_t n)
{
    (void)a;
    struct arc_writer *w = client;
    buf_append(&w->out, buf, n);
    return (la_ssize_t)n;
}

struct arc_writer *arc_writer_new(enum arc_compression c, struct err *err)
{
    struct arc_writer *w = xcalloc(1, sizeof(*w));
    buf_init(&w->out);
    w->a = archive_write_new();
    if (!w->a)
        abort();
    int rc = archive_write_set_format_pax_restricted(w->a);
    if (rc == ARCHIVE_OK && c == ARC_GZIP)
        rc = archive_write_add_filter_gzip(w->a);
    else if (rc == ARCHIVE_OK && c == ARC_ZSTD)
        rc = archive_write_add_filter_zstd(w->a);
    if (rc == ARCHIVE_OK)
        rc = archive_write_set_bytes_in_last_block(w->a, 1);
    if (rc == ARCHIVE_OK)
        rc = archive_write_open(w->a, w, NULL, mem_write, NULL);
    if (rc != ARCHIVE_OK) {
        la_error(w->a, err, ERR_INTERNAL, "create archive");
        arc_writer_free(w);
        return NULL;
    }
    return w;
}

static int add_entry(struct arc_writer *w, const char *path, int type,
                     mode_t perm, const char *link, bool hard, const void *data,
                     size_t len, struct err *err)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        abort();
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, (unsigned)type);
    archive_entry_set_perm(e, perm);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, FIXED_MTIME, 0);
    archive_entry_set_size(e, (la_int64_t)len);
    if (link && hard)
        archive_entry_set_hardlink(e, link);
    else if (link)
        archive_entry_set_symlink(e, link);
    int rc = archive_write_header(w->a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK)
        return la_error(w->a, err, ERR_INTERNAL, "write archive");
    if (len && archive_write_data(w->a, data, len) != (la_ssize_t)len)
        return la_error(w->a, err, ERR_INTERNAL, "write archive");
    return 0;
}

int arc_writer_add_file(struct arc_writer *w, const char *path,
                        const void *data, size_t len, mode_t perm,
                        struct err *err)
{
    return add_entry(w, path, AE_IFREG, perm, NULL, false, data, len, err);
}

int arc_writer_add_dir(struct arc_writer *w, const char *path, mode_t perm,
                       struct err *err)
{
    return add_entry(w, path, AE_IFDIR, perm, NULL, false, NULL, 0, err);
}

int arc_writer_add_symlink(struct arc_writer *w, const char *path,
                           const char *target, struct err *err)
{
    return add_entry(w, path, AE_IFLNK, 0777, target, false, NULL, 0, err);
}

int arc_writer_add_hardlink(struct arc_writer *w, const char *path,
                            const char *target, struct err *err)
{
    return add_entry(w, path, AE_IFREG, 0644, target, true, NULL, 0, err);
}

char *arc_writer_finish(struct arc_writer *w, size_t *len, struct err *err)
{
    if (archive_write_close(w->a) != ARCHIVE_OK) {
        la_error(w->a, err, ERR_INTERNAL, "finish archive");
        arc_writer_free(w);
        return NULL;
    }
    if (len)
        *len = w->out.len;
    char *data = buf_steal(&w->out);
    arc_writer_free(w);
    return data;
}

struct arc_writer *arc_writer_new_file(const char *path, struct err *err)
{
    struct arc_writer *w = xcalloc(1, sizeof(*w));
    buf_init(&w->out);
    w->a = archive_write_new();
    if (!w->a)
        abort();
    int rc = archive_write_set_format_pax_restricted(w->a);
    if (rc == ARCHIVE_OK)
        rc = archive_write_set_bytes_in_last_block(w->a, 1);
    if (rc == ARCHIVE_OK)
        rc = archive_write_open_filename(w->a, path);
    if (rc != ARCHIVE_OK) {
        la_error(w->a, err, ERR_INTERNAL, "create archive");
        arc_writer_free(w);
        return NULL;
    }
    return w;
}

int arc_writer_add_path(struct arc_writer *w, const char *name, const char *src,
                        struct err *err)
{
    _cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return err_sys(err, errno, "open '%s'", src);
    struct archive_entry *e = archive_entry_new();
    if (!e)
        abort();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, FIXED_MTIME, 0);
    archive_entry_set_size(e, (la_int64_t)st.st_size);
    int rc = archive_write_header(w->a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK)
        return la_error(w->a, err, ERR_INTERNAL, "write archive");
    char buf[65536];
    int64_t left = st.st_size;
    while (left > 0) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return err_sys(err, n < 0 ? errno : EIO, "read '%s'", src);
        if (n > left)
            n = (ssize_t)left;
        if (archive_write_data(w->a, buf, (size_t)n) != (la_ssize_t)n)
            return la_error(w->a, err, ERR_INTERNAL, "write archive");
        left -= n;
    }
    return 0;
}

int arc_writer_close(struct arc_writer *w, struct err *err)
{
    int rc = 0;
    if (archive_write_close(w->a) != ARCHIVE_OK)
        rc = la_error(w->a, err, ERR_INTERNAL, "finish archive");
    arc_writer_free(w);
    return rc;
}

void arc_writer_free(struct arc_writer *w)
{
    if (!w)
        return;
    archive_write_free(w->a);
    buf_fini(&w->out);
    free(w);
}
