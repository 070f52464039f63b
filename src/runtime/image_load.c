// SPDX-License-Identifier: Apache-2.0
// Where images come from: docker-save archives (manifest.json + config +
// layer tars), OCI image-layout archives (oci-layout, index.json,
// blobs/sha256/...; an index may point to a manifest list, of which the
// linux/<host arch> entry is taken) and rootfs tarballs (import). Archives
// are untrusted: their members are copied to numbered files under tmp/
// (never to paths they name), digests are checked, and every image goes
// through image_store_add, which verifies each layer's diff id.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/hmap.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "base/vec.h"
#include "runtime/archive.h"
#include "runtime/image_internal.h"

#if defined(__x86_64__)
#define HOST_ARCH "amd64"
#elif defined(__aarch64__)
#define HOST_ARCH "arm64"
#elif defined(__arm__)
#define HOST_ARCH "arm"
#else
#define HOST_ARCH "unknown"
#endif

#define MAX_LINK_HOPS 40
/* An image archive has a few files per layer; far more is an attack on
 * the inode table of tmp/. */
#define MAX_MEMBERS 100000

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST                                                         \
    "application/vnd.docker.distribution.manifest.list.v2+json"

/* ---- The archive's members ---- */

struct member {
    char *path;    /* normalised; the map key */
    char *file;    /* our copy, or NULL for a symlink */
    char *symlink; /* target as stored */
    char sha[65];
    int64_t size;
};

struct bundle {
    char *dir; /* under tmp/ */
    struct hmap members;
    size_t n_files;
};

static void member_free(struct member *m)
{
    if (!m)
        return;
    free(m->path);
    free(m->file);
    free(m->symlink);
    free(m);
}

static void bundle_fini(struct bundle *b)
{
    const char *k;
    void *v;
    for (size_t it = 0; hmap_next(&b->members, &it, &k, &v);)
        member_free(v);
    hmap_fini(&b->members);
    if (b->dir)
        image_remove_tree(b->dir);
    free(b->dir);
}

/* Lexical normalisation of base/rel ("" base = archive root): "." and
 * empty components dropped, ".." resolved; NULL if it climbs out. */
static char *norm_path(const char *base, const char *rel)
{
    _cleanup_free_ char *joined =
        rel[0] == '/' || !*base ? xstrdup(rel) : xasprintf("%s/%s", base, rel);
    struct vec parts;
    vec_init(&parts);
    char *save = NULL;
    bool ok = true;
    for (char *c = strtok_r(joined, "/", &save); c;
         c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            if (parts.len == 0) {
                ok = false;
                break;
            }
            parts.len--;
            continue;
        }
        vec_push(&parts, c);
    }
    char *out = NULL;
    if (ok && parts.len) {
        struct buf b;
        buf_init(&b);
        for (size_t i = 0; i < parts.len; i++) {
            if (i)
                buf_putc(&b, '/');
            buf_puts(&b, parts.items[i]);
        }
        out = buf_steal(&b);
    }
    vec_fini(&parts);
    return out;
}

static void put_member(struct bundle *b, struct member *m)
{
    member_free(hmap_put(&b->members, m->path, m));
}

static int copy_member(struct bundle *b, struct arc_reader *r, struct member *m,
                       struct err *err)
{
    m->file = xasprintf("%s/%zu", b->dir, b->n_files++);
    _cleanup_close_ int fd =
        open(m->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_sys(err, errno, "create '%s'", m->file);
        err->code = ERR_INTERNAL;
        return -1;
    }
    struct image_sha256 h;
    image_sha256_init(&h);
    _cleanup_free_ char *buf = xmalloc(64 * 1024);
    for (;;) {
        ssize_t n = arc_reader_read(r, buf, 64 * 1024, err);
        if (n < 0) {
            image_sha256_fini(&h);
            return -1;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                image_sha256_fini(&h);
                err_sys(err, errno, "write '%s'", m->file);
                err->code = ERR_INTERNAL;
                return -1;
            }
            off += w;
        }
        image_sha256_update(&h, buf, (size_t)n);
        m->size += n;
    }
    image_sha256_final(&h, m->sha);
    return 0;
}

static int read_bundle(struct image_store *s, const char *path,
                       struct bundle *b, struct err *err)
{
    b->dir = image_tmp_path(s, "load");
    if (mkdir(b->dir, 0700) < 0) {
        err_sys(err, errno, "create '%s'", b->dir);
        err->code = ERR_INTERNAL;
        free(steal_ptr(b->dir));
        return -1;
    }
    struct arc_reader *r = arc_reader_open(path, err);
    if (!r)
        return -1;
    int ret = 0;
    struct arc_entry e;
    int rc;
    size_t entries = 0;
    while ((rc = arc_reader_next(r, &e, err)) > 0) {
        if (e.type == ARC_DIR || e.type == ARC_OTHER)
            continue;
        if (++entries > MAX_MEMBERS) {
            ret = err_set(err, ERR_INVALID,
                          "invalid image archive: more than %d files",
                          MAX_MEMBERS);
            break;
        }
        char *p = norm_path("", e.path);
        if (!p)
            continue; /* outside the archive root: nothing can name it */
        struct member *m = xcalloc(1, sizeof(*m));
        m->path = p;
        if (e.type == ARC_SYMLINK) {
            m->symlink = xstrdup(e.link ? e.link : "");
        } else if (e.type == ARC_HARDLINK) {
            _cleanup_free_ char *t = e.link ? norm_path("", e.link) : NULL;
            struct member *target = t ? hmap_get(&b->members, t) : NULL;
            if (!target) {
                member_free(m);
                continue;
            }
            m->file = xstrdup(target->file);
            m->symlink = xstrdup(target->symlink);
            memcpy(m->sha, target->sha, sizeof(m->sha));
            m->size = target->size;
        } else if (copy_member(b, r, m, err) < 0) {
            member_free(m);
            ret = -1;
            break;
        }
        put_member(b, m);
    }
    if (rc < 0)
        ret = -1;
    arc_reader_free(r);
    return ret;
}

/* The member a path names, following whole-path symlinks inside the
 * archive. */
static struct member *lookup(struct bundle *b, const char *path)
{
    _cleanup_free_ char *p = norm_path("", path);
    for (int hop = 0; p && hop < MAX_LINK_HOPS; hop++) {
        struct member *m = hmap_get(&b->members, p);
        if (!m || m->file)
            return m;
        const char *slash = strrchr(p, '/');
        _cleanup_free_ char *dir =
            slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup("");
        char *next = norm_path(dir, m->symlink);
        free(p);
        p = next;
    }
    return NULL;
}

static struct member *need_member(struct bundle *b, const char *path,
                                  struct err *err)
{
    struct member *m = path ? lookup(b, path) : NULL;
    if (!m)
        err_set(err, ERR_INVALID, "invalid image archive: '%s' not found",
                path ? path : "(null)");
    return m;
}

static int read_member(struct bundle *b, const char *path, char **data,
                       size_t *len, struct err *err)
{
    struct member *m = need_member(b, path, err);
    if (!m)
        return -1;
    if (m->size > IMAGE_MAX_JSON)
        return err_set(err, ERR_INVALID,
                       "invalid image archive: '%s' is too large", path);
    if (fs_read_file(m->file, data, len, err) < 0) {
        err->code = ERR_INTERNAL;
        return -1;
    }
    return 0;
}

static json_t *read_json_member(struct bundle *b, const char *path,
                                struct err *err)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    if (read_member(b, path, &data, &len, err) < 0)
        return NULL;
    json_error_t jerr;
    json_t *j = json_loadb(data, len, 0, &jerr);
    if (!j)
        err_set(err, ERR_INVALID, "invalid image archive: '%s': %s", path,
                jerr.text);
    return j;
}

/* ---- docker save ---- */

static int add_loaded(json_t *result, const char *id, json_t *tags)
{
    if (json_array_size(tags) == 0) {
        json_array_append_new(json_object_get(result, "LoadedIDs"),
                              json_string(id));
        return 0;
    }
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        struct err err = {0};
        _cleanup_free_ char *n =
            image_normalize_ref(json_string_value(t), &err);
        if (n)
            json_array_append_new(json_object_get(result, "Loaded"),
                                  json_string(n));
    }
    return 0;
}

static int load_docker_save(struct image_store *s, struct bundle *b,
                            json_t *result, struct err *err)
{
    _cleanup_json_ json_t *manifest = read_json_member(b, "manifest.json", err);
    if (!manifest)
        return -1;
    if (!json_is_array(manifest))
        return err_set(err, ERR_INVALID,
                       "invalid image archive: manifest.json is not a list");
    size_t i;
    json_t *entry;
    json_array_foreach(manifest, i, entry)
    {
        const char *cfg_path = jx_str(entry, "Config");
        json_t *tags = json_object_get(entry, "RepoTags");
        json_t *layers = json_object_get(entry, "Layers");
        if (!cfg_path || !(json_is_array(layers) || !layers) ||
            !(json_is_array(tags) || json_is_null(tags) || !tags))
            return err_set(err, ERR_INVALID,
                           "invalid image archive: bad manifest.json entry "
                           "%zu",
                           i + 1);
        _cleanup_free_ char *config = NULL;
        size_t config_len = 0;
        if (read_member(b, cfg_path, &config, &config_len, err) < 0)
            return -1;
        size_t n = json_array_size(layers);
        _cleanup_free_ const char **paths = xcalloc(n + 1, sizeof(char *));
        for (size_t l = 0; l < n; l++) {
            struct member *m = need_member(
                b, json_string_value(json_array_get(layers, l)), err);
            if (!m)
                return -1;
            paths[l] = m->file;
        }
        size_t nt = json_array_size(tags);
        _cleanup_free_ const char **refs = xcalloc(nt + 1, sizeof(char *));
        for (size_t t = 0; t < nt; t++) {
            refs[t] = json_string_value(json_array_get(tags, t));
            if (!refs[t])
                return err_set(err, ERR_INVALID,
                               "invalid image archive: bad RepoTags");
        }
        _cleanup_free_ char *id = NULL;
        if (image_store_add(s, config, config_len, paths, n, refs, nt, &id,
                            err) < 0)
            return -1;
        add_loaded(result, id, tags);
    }
    return 0;
}

/* ---- OCI image layout ---- */

/* The blob a descriptor names, its digest checked. */
static struct member *oci_blob(struct bundle *b, const json_t *desc,
                               struct err *err)
{
    const char *digest = jx_str(desc, "digest");
    if (!digest || !image_is_digest(digest)) {
        err_set(err, ERR_INVALID,
                "invalid image archive: unsupported digest \"%s\"",
                digest ? digest : "");
        return NULL;
    }
    _cleanup_free_ char *path = xasprintf("blobs/sha256/%s", digest + 7);
    struct member *m = need_member(b, path, err);
    if (m && strcmp(m->sha, digest + 7) != 0) {
        err_set(err, ERR_INVALID,
                "invalid image archive: blob %s does not match its digest",
                digest);
        return NULL;
    }
    return m;
}

static json_t *oci_json(struct bundle *b, const json_t *desc, struct err *err)
{
    struct member *m = oci_blob(b, desc, err);
    if (!m)
        return NULL;
    return read_json_member(b, m->path, err);
}

static bool is_index(const json_t *desc, const json_t *doc)
{
    const char *mt = jx_str(desc, "mediaType");
    if (!mt && doc)
        mt = jx_str(doc, "mediaType");
    if (mt)
        return strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0;
    return doc && json_is_array(json_object_get(doc, "manifests")) &&
           !json_object_get(doc, "config");
}

/* The image manifest for this platform out of an index. */
static json_t *pick_platform(struct bundle *b, const json_t *index,
                             struct err *err)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(index, "manifests"), i, d)
    {
        json_t *p = json_object_get(d, "platform");
        const char *os = jx_str(p, "os"), *arch = jx_str(p, "architecture");
        if (os && arch && strcmp(os, "linux") == 0 &&
            strcmp(arch, HOST_ARCH) == 0 && !is_index(d, NULL))
            return oci_json(b, d, err);
    }
    err_set(err, ERR_INVALID,
            "invalid image archive: no linux/" HOST_ARCH " image in index");
    return NULL;
}

static bool layer_type_ok(const char *mt)
{
    static const char *const ok[] = {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
    };
    if (!mt)
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
        if (strcmp(mt, ok[i]) == 0)
            return true;
    return false;
}

/* A name for an index entry: containerd's full-name annotation, else the
 * OCI ref.name when it is a full reference rather than a bare tag. */
static const char *oci_name(const json_t *desc)
{
    json_t *a = json_object_get(desc, "annotations");
    const char *n = jx_str(a, "io.containerd.image.name");
    if (n)
        return n;
    n = jx_str(a, "org.opencontainers.image.ref.name");
    if (n && (strchr(n, ':') || strchr(n, '/')))
        return n;
    return NULL;
}

static int load_oci_image(struct image_store *s, struct bundle *b,
                          const json_t *desc, json_t *result, struct err *err)
{
    _cleanup_json_ json_t *doc = oci_json(b, desc, err);
    if (!doc)
        return -1;
    if (is_index(desc, doc)) {
        json_t *picked = pick_platform(b, doc, err);
        json_decref(doc);
        doc = picked;
        if (!doc)
            return -1;
    }
    json_t *cfg_desc = json_object_get(doc, "config");
    json_t *layers = json_object_get(doc, "layers");
    if (!json_is_object(cfg_desc) || !(json_is_array(layers) || !layers))
        return err_set(err, ERR_INVALID,
                       "invalid image archive: bad image manifest");
    struct member *cfg = oci_blob(b, cfg_desc, err);
    if (!cfg)
        return -1;
    _cleanup_free_ char *config = NULL;
    size_t config_len = 0;
    if (read_member(b, cfg->path, &config, &config_len, err) < 0)
        return -1;
    size_t n = json_array_size(layers);
    _cleanup_free_ const char **paths = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        json_t *ld = json_array_get(layers, i);
        const char *mt = jx_str(ld, "mediaType");
        if (!layer_type_ok(mt))
            return err_set(err, ERR_INVALID,
                           "invalid image archive: unsupported layer type "
                           "\"%s\"",
                           mt);
        struct member *m = oci_blob(b, ld, err);
        if (!m)
            return -1;
        paths[i] = m->file;
    }
    const char *name = oci_name(desc);
    _cleanup_free_ char *id = NULL;
    if (image_store_add(s, config, config_len, paths, n, &name, name ? 1 : 0,
                        &id, err) < 0)
        return -1;
    _cleanup_json_ json_t *tags = json_array();
    if (name)
        json_array_append_new(tags, json_string(name));
    return add_loaded(result, id, tags);
}

static int load_oci(struct image_store *s, struct bundle *b, json_t *result,
                    struct err *err)
{
    _cleanup_json_ json_t *index = read_json_member(b, "index.json", err);
    if (!index)
        return -1;
    json_t *manifests = json_object_get(index, "manifests");
    if (!json_is_array(manifests))
        return err_set(err, ERR_INVALID,
                       "invalid image archive: index.json has no manifests");
    size_t i;
    json_t *d;
    json_array_foreach(manifests, i, d)
    {
        if (load_oci_image(s, b, d, result, err) < 0)
            return -1;
    }
    return 0;
}

json_t *image_load_file(struct image_store *s, const char *archive_path,
                        struct err *err)
{
    struct bundle b = {0};
    hmap_init(&b.members);
    json_t *result = json_pack("{s:[], s:[]}", "Loaded", "LoadedIDs");
    int ret = read_bundle(s, archive_path, &b, err);
    /* docker save of Docker >= 25 writes both; manifest.json has the tags */
    if (ret == 0 && lookup(&b, "manifest.json"))
        ret = load_docker_save(s, &b, result, err);
    else if (ret == 0 && lookup(&b, "index.json"))
        ret = load_oci(s, &b, result, err);
    else if (ret == 0)
        ret = err_set(err, ERR_INVALID,
                      "invalid image archive: no manifest.json or "
                      "index.json");
    bundle_fini(&b);
    if (ret < 0) {
        json_decref(result);
        return NULL;
    }
    return result;
}

/* ---- import ---- */

json_t *image_import_file(struct image_store *s, const char *tar_path,
                          const char *repo, const char *tag,
                          const json_t *changes, struct err *err)
{
    _cleanup_free_ char *name = NULL;
    if (repo && *repo) {
        _cleanup_free_ char *full =
            tag && *tag ? xasprintf("%s:%s", repo, tag) : xstrdup(repo);
        name = image_normalize_ref(full, err);
        if (!name)
            return NULL;
    }
    char diff_id[IMAGE_DIGEST_LEN];
    if (image_layer_diff_id(tar_path, diff_id, err) < 0) {
        err_ctx(err, "import");
        return NULL;
    }
    char now[TIME_STRLEN];
    time_fmt_rfc3339(time_now_ns(), now);
    _cleanup_json_ json_t *cfg =
        json_pack("{s:s, s:s, s:s, s:{}, s:{s:s, s:[s]}, s:[{s:s, s:s}]}",
                  "architecture", HOST_ARCH, "os", "linux", "created", now,
                  "config", "rootfs", "type", "layers", "diff_ids", diff_id,
                  "history", "created", now, "comment", "Imported from -");
    if (changes &&
        image_apply_changes(json_object_get(cfg, "config"), changes, err) < 0)
        return NULL;
    _cleanup_free_ char *bytes = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
    if (!bytes)
        abort();
    const char *paths[] = {tar_path};
    const char *refs[] = {name};
    _cleanup_free_ char *id = NULL;
    if (image_store_add(s, bytes, strlen(bytes), paths, 1, refs, name ? 1 : 0,
                        &id, err) < 0) {
        err_ctx(err, "import");
        return NULL;
    }
    return json_pack("{s:s}", "ID", id);
}
