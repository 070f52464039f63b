// SPDX-License-Identifier: Apache-2.0
// Layers on disk: unpacking a layer blob into layers/<name>/diff through a
// temporary directory that is renamed into place (so a crash never leaves
// a half layer under layers/), checking its diff id, and removing layers.
// Runs in the thread pool without the store lock: it only touches paths
// that no other operation uses (see image.c for the locking protocol).
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/id.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "runtime/archive.h"
#include "runtime/image_internal.h"

#define LAYER_META "layer.json"

static void tap_sha(void *data, const void *buf, size_t n)
{
    image_sha256_update(data, buf, n);
}

char *image_tmp_path(const struct image_store *s, const char *what)
{
    char hex[ID_HEX_LEN + 1];
    id_new_hex(hex);
    return xasprintf("%s/%s-%.16s", s->tmp_dir, what, hex);
}

char *image_layer_dir(const struct image_store *s, const struct image_layer *l)
{
    return xasprintf("%s/%s/diff", s->layers_dir, l->name);
}

static int sync_dir(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    return syncfs(fd);
}

/* The media type of a layer blob, from its magic number. */
static const char *guess_media_type(const char *path)
{
    unsigned char m[4] = {0};
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, m, sizeof(m)) != (ssize_t)sizeof(m))
        return "application/vnd.docker.image.rootfs.diff.tar";
    if (m[0] == 0x1f && m[1] == 0x8b)
        return "application/vnd.docker.image.rootfs.diff.tar.gzip";
    if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
        return "application/vnd.oci.image.layer.v1.tar+zstd";
    return "application/vnd.docker.image.rootfs.diff.tar";
}

/* sha256 of a whole file as "sha256:<hex>". */
static int file_digest(const char *path, char out[IMAGE_DIGEST_LEN],
                       struct err *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, errno, "open '%s'", path);
    struct image_sha256 h;
    image_sha256_init(&h);
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        image_sha256_update(&h, buf, (size_t)n);
    if (n < 0) {
        image_sha256_fini(&h);
        return err_sys(err, errno, "read '%s'", path);
    }
    char hex[65];
    image_sha256_final(&h, hex);
    snprintf(out, IMAGE_DIGEST_LEN, "sha256:%s", hex);
    return 0;
}

/* Copies src to dst (a new file), for blobs on another file system. */
static int copy_file(const char *src, const char *dst, struct err *err)
{
    _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
    _cleanup_close_ int out =
        open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (in < 0 || out < 0)
        return err_sys(err, errno, "copy '%s'", src);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n)
            return err_sys(err, errno, "write '%s'", dst);
    if (n < 0)
        return err_sys(err, errno, "read '%s'", src);
    return 0;
}

/* Keeps the blob in dir/blob and fills the "Blob" part of layer.json. A
 * blob whose tar is not compressed has the diff id as its digest. */
static int keep_blob(const char *dir, const struct image_blob *blob,
                     const char *diff_id, json_t *meta, struct err *err)
{
    _cleanup_free_ char *dst = xasprintf("%s/blob", dir);
    if (link(blob->path, dst) < 0 && copy_file(blob->path, dst, err) < 0)
        return -1;
    struct stat st;
    if (stat(dst, &st) < 0)
        return err_sys(err, errno, "stat '%s'", dst);
    const char *mt =
        blob->media_type ? blob->media_type : guess_media_type(dst);
    char digest[IMAGE_DIGEST_LEN];
    if (blob->digest)
        snprintf(digest, sizeof(digest), "%s", blob->digest);
    else if (strstr(mt, "tar.") || strstr(mt, "tar+")) {
        if (file_digest(dst, digest, err) < 0)
            return -1;
    } else
        snprintf(digest, sizeof(digest), "%s", diff_id);
    json_object_set_new(meta, "Blob",
                        json_pack("{s:s, s:s, s:I}", "Digest", digest,
                                  "MediaType", mt, "Size",
                                  (json_int_t)st.st_size));
    return 0;
}

int image_layer_unpack(const struct image_store *s,
                       const struct image_blob *blob, const char *name,
                       const char *expect_diff_id, int64_t *size,
                       struct err *err)
{
    const char *src = blob->path;
    _cleanup_free_ char *tmp = image_tmp_path(s, "layer");
    _cleanup_free_ char *diff = xasprintf("%s/diff", tmp);
    if (mkdir(tmp, 0700) < 0 || mkdir(diff, 0755) < 0 ||
        chmod(diff, 0755) < 0) {
        err_sys(err, errno, "create '%s'", diff);
        err->code = ERR_INTERNAL;
        image_remove_tree(tmp);
        return -1;
    }
    struct image_sha256 h;
    image_sha256_init(&h);
    int64_t n = 0;
    if (arc_unpack_layer(src, diff, tap_sha, &h, &n, err) < 0) {
        image_sha256_fini(&h);
        image_remove_tree(tmp);
        return -1;
    }
    char hex[65];
    image_sha256_final(&h, hex);
    char got[IMAGE_DIGEST_LEN];
    snprintf(got, sizeof(got), "sha256:%s", hex);
    if (expect_diff_id && strcmp(got, expect_diff_id) != 0) {
        image_remove_tree(tmp);
        return err_set(err, ERR_INVALID,
                       "invalid diffID for layer: expected \"%s\", got "
                       "\"%s\"",
                       expect_diff_id, got);
    }

    _cleanup_json_ json_t *meta =
        json_pack("{s:s, s:I}", "DiffID", got, "Size", (json_int_t)n);
    if (keep_blob(tmp, blob, got, meta, err) < 0) {
        err->code = ERR_INTERNAL;
        image_remove_tree(tmp);
        return -1;
    }
    _cleanup_free_ char *text = jx_dumps(meta);
    _cleanup_free_ char *meta_path = xasprintf("%s/" LAYER_META, tmp);
    _cleanup_free_ char *final = xasprintf("%s/%s", s->layers_dir, name);
    /* Data first (syncfs), then the rename that publishes it. */
    if (fs_write_file_atomic(meta_path, text, strlen(text), 0600, err) < 0 ||
        sync_dir(tmp) < 0 || rename(tmp, final) < 0) {
        if (!err_is_set(err))
            err_sys(err, errno, "move layer into '%s'", final);
        err->code = ERR_INTERNAL;
        image_remove_tree(tmp);
        return -1;
    }
    if (size)
        *size = n;
    return 0;
}

int image_layer_diff_id(const char *src, char out[IMAGE_DIGEST_LEN],
                        struct err *err)
{
    struct image_sha256 h;
    image_sha256_init(&h);
    if (arc_read_stream(src, tap_sha, &h, err) < 0) {
        image_sha256_fini(&h);
        return -1;
    }
    char hex[65];
    image_sha256_final(&h, hex);
    snprintf(out, IMAGE_DIGEST_LEN, "sha256:%s", hex);
    return 0;
}

int image_layer_read_meta(const struct image_store *s, const char *name,
                          char **diff_id, int64_t *size)
{
    _cleanup_free_ char *path =
        xasprintf("%s/%s/" LAYER_META, s->layers_dir, name);
    _cleanup_free_ char *diff = xasprintf("%s/%s/diff", s->layers_dir, name);
    struct stat st;
    if (lstat(diff, &st) < 0 || !S_ISDIR(st.st_mode))
        return -1;
    json_error_t jerr;
    _cleanup_json_ json_t *meta = json_load_file(path, 0, &jerr);
    const char *d = meta ? jx_str(meta, "DiffID") : NULL;
    if (!d || !image_is_digest(d))
        return -1;
    *diff_id = xstrdup(d);
    *size = jx_int(meta, "Size", 0);
    return 0;
}

int image_layer_read_blob(const struct image_store *s, const char *name,
                          char **path, char **digest, char **media_type,
                          int64_t *size)
{
    _cleanup_free_ char *meta_path =
        xasprintf("%s/%s/" LAYER_META, s->layers_dir, name);
    json_error_t jerr;
    _cleanup_json_ json_t *meta = json_load_file(meta_path, 0, &jerr);
    json_t *b = meta ? json_object_get(meta, "Blob") : NULL;
    const char *d = jx_str(b, "Digest"), *mt = jx_str(b, "MediaType");
    if (!d || !image_is_digest(d) || !mt)
        return -1;
    *path = xasprintf("%s/%s/blob", s->layers_dir, name);
    *digest = xstrdup(d);
    *media_type = xstrdup(mt);
    *size = jx_int(b, "Size", 0);
    return 0;
}

char *image_layer_detach(const struct image_store *s, const char *name)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", s->layers_dir, name);
    char *moved = image_tmp_path(s, "gone");
    if (rename(path, moved) < 0) {
        if (errno != ENOENT)
            log_warn("image store: move '%s' away: %s", path, strerror(errno));
        free(moved);
        return NULL;
    }
    return moved;
}

static int make_writable(const char *path, const struct stat *st, int flag,
                         struct FTW *ftw)
{
    (void)ftw;
    if ((flag == FTW_D || flag == FTW_DNR) && (st->st_mode & 0700) != 0700)
        chmod(path, (st->st_mode & 07777) | 0700);
    return 0;
}

void image_remove_tree(const char *path)
{
    if (!path)
        return;
    /* Without CAP_DAC_OVERRIDE a read-only directory from a layer cannot be
     * emptied: open them up first. */
    if (geteuid() != 0)
        nftw(path, make_writable, 32, FTW_PHYS | FTW_MOUNT);
    struct err err = {0};
    if (fs_remove_tree(path, &err) < 0)
        log_warn("image store: %s", err.msg);
}
