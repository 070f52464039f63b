// SPDX-License-Identifier: Apache-2.0
// Unit tests for the image store (src/runtime/image*.c, archive.c):
// reference normalisation, docker-save and OCI loads (plain, gzip, zstd),
// diff id checks, import, list/inspect shapes, whiteouts (root only), path
// traversal, shared layers, tag/remove/conflicts, reopening, async ops and
// the busybox test image.
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "runtime/archive.h"
#include "runtime/image.h"
#include "runtime/image_internal.h"

static char tmp_root[64];
static int tmp_seq;

/* ---- helpers ---- */

static char *fresh_dir(const char *what)
{
    char *p = xasprintf("%s/%s-%d", tmp_root, what, ++tmp_seq);
    struct err err = {0};
    fs_mkdir_p(p, 0755, &err);
    return p;
}

static char *write_tmp(const void *data, size_t len)
{
    char *p = xasprintf("%s/blob-%d", tmp_root, ++tmp_seq);
    struct err err = {0};
    if (fs_write_file_atomic(p, data, len, 0600, &err) < 0)
        abort();
    return p;
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void digest_of(const void *data, size_t len, char out[72])
{
    char hex[65];
    image_sha256_hex(data, len, hex);
    snprintf(out, 72, "sha256:%s", hex);
}

struct layer {
    char *tar; /* uncompressed */
    size_t tar_len;
    char *blob; /* as stored in the archive (maybe compressed) */
    size_t blob_len;
    char diff_id[72];
};

typedef void (*fill_fn)(struct arc_writer *w, int arg);

static void layer_make(struct layer *l, fill_fn fill, int arg,
                       enum arc_compression c)
{
    struct err err = {0};
    struct arc_writer *w = arc_writer_new(ARC_PLAIN, &err);
    fill(w, arg);
    l->tar = arc_writer_finish(w, &l->tar_len, &err);
    digest_of(l->tar, l->tar_len, l->diff_id);
    if (c == ARC_PLAIN) {
        l->blob = xmalloc(l->tar_len);
        memcpy(l->blob, l->tar, l->tar_len);
        l->blob_len = l->tar_len;
    } else {
        w = arc_writer_new(c, &err);
        fill(w, arg);
        l->blob = arc_writer_finish(w, &l->blob_len, &err);
    }
}

static void layer_fini(struct layer *l)
{
    free(l->tar);
    free(l->blob);
}

static void fill_base(struct arc_writer *w, int arg)
{
    struct err err = {0};
    char text[64];
    snprintf(text, sizeof(text), "layer %d\n", arg);
    arc_writer_add_dir(w, "etc", 0755, &err);
    arc_writer_add_file(w, "etc/hello", text, strlen(text), 0644, &err);
    arc_writer_add_dir(w, "bin", 0755, &err);
    arc_writer_add_file(w, "bin/tool", "#!/bin/sh\n", 10, 0755, &err);
    arc_writer_add_symlink(w, "bin/sh", "tool", &err);
    arc_writer_add_hardlink(w, "bin/tool2", "bin/tool", &err);
}

static void fill_numbered(struct arc_writer *w, int arg)
{
    struct err err = {0};
    char name[32];
    snprintf(name, sizeof(name), "file%d", arg);
    arc_writer_add_file(w, name, name, strlen(name), 0644, &err);
}

static char *make_config(const struct layer *layers, size_t n,
                         const char *bad_diff)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            ids,
            json_string(bad_diff && i == n - 1 ? bad_diff : layers[i].diff_id));
    _cleanup_json_ json_t *cfg = json_pack(
        "{s:s, s:s, s:s, s:{s:[s], s:[s], s:{s:s}}, s:{s:s, s:o}}",
        "architecture", "amd64", "os", "linux", "created",
        "2024-01-02T03:04:05Z", "config", "Cmd", "sh", "Env", "A=1", "Labels",
        "team", "blue", "rootfs", "type", "layers", "diff_ids", ids);
    return json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
}

/* A docker-save archive of one image. */
static char *docker_save(const struct layer *layers, size_t n, const char *tag,
                         enum arc_compression outer, const char *bad_diff,
                         char id[72], size_t *len)
{
    struct err err = {0};
    _cleanup_free_ char *cfg = make_config(layers, n, bad_diff);
    char cid[72];
    digest_of(cfg, strlen(cfg), cid);
    if (id)
        memcpy(id, cid, 72);
    struct arc_writer *w = arc_writer_new(outer, &err);
    _cleanup_free_ char *cfg_name = xasprintf("%s.json", cid + 7);
    arc_writer_add_file(w, cfg_name, cfg, strlen(cfg), 0644, &err);
    json_t *paths = json_array();
    for (size_t i = 0; i < n; i++) {
        char dir[32], path[48];
        snprintf(dir, sizeof(dir), "layer%zu", i);
        snprintf(path, sizeof(path), "%s/layer.tar", dir);
        arc_writer_add_dir(w, dir, 0755, &err);
        arc_writer_add_file(w, path, layers[i].blob, layers[i].blob_len, 0644,
                            &err);
        json_array_append_new(paths, json_string(path));
    }
    _cleanup_json_ json_t *manifest =
        json_pack("[{s:s, s:o, s:o}]", "Config", cfg_name, "RepoTags",
                  tag ? json_pack("[s]", tag) : json_null(), "Layers", paths);
    _cleanup_free_ char *m = jx_dumps(manifest);
    arc_writer_add_file(w, "manifest.json", m, strlen(m), 0644, &err);
    return arc_writer_finish(w, len, &err);
}

static void add_blob(struct arc_writer *w, const void *data, size_t len,
                     char digest[72])
{
    struct err err = {0};
    digest_of(data, len, digest);
    _cleanup_free_ char *path = xasprintf("blobs/sha256/%s", digest + 7);
    arc_writer_add_file(w, path, data, len, 0644, &err);
}

/* An OCI image layout; with a nested index holding an arm64 decoy and the
 * amd64 image when nested. */
static char *oci_layout(const struct layer *layers, size_t n, const char *name,
                        bool nested, char id[72], size_t *len)
{
    struct err err = {0};
    struct arc_writer *w = arc_writer_new(ARC_PLAIN, &err);
    arc_writer_add_file(w, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}",
                        30, 0644, &err);
    arc_writer_add_dir(w, "blobs", 0755, &err);
    arc_writer_add_dir(w, "blobs/sha256", 0755, &err);
    _cleanup_free_ char *cfg = make_config(layers, n, NULL);
    char cfg_digest[72];
    add_blob(w, cfg, strlen(cfg), cfg_digest);
    memcpy(id, cfg_digest, 72);
    json_t *ls = json_array();
    for (size_t i = 0; i < n; i++) {
        char d[72];
        add_blob(w, layers[i].blob, layers[i].blob_len, d);
        bool gz = layers[i].blob_len != layers[i].tar_len ||
                  memcmp(layers[i].blob, layers[i].tar, layers[i].tar_len);
        json_array_append_new(
            ls, json_pack("{s:s, s:s, s:I}", "mediaType",
                          gz ? "application/vnd.oci.image.layer.v1.tar+gzip"
                             : "application/vnd.oci.image.layer.v1.tar",
                          "digest", d, "size", (json_int_t)layers[i].blob_len));
    }
    _cleanup_json_ json_t *manifest = json_pack(
        "{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
        "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
        "application/vnd.oci.image.config.v1+json", "digest", cfg_digest,
        "size", (json_int_t)strlen(cfg), "layers", ls);
    _cleanup_free_ char *mtext = jx_dumps(manifest);
    char mdigest[72];
    add_blob(w, mtext, strlen(mtext), mdigest);
    char top_digest[72];
    const char *top_type = "application/vnd.oci.image.manifest.v1+json";
    size_t top_size = strlen(mtext);
    _cleanup_free_ char *itext = NULL;
    if (nested) {
        /* the decoy points at the same manifest: it must not be picked */
        _cleanup_json_ json_t *inner = json_pack(
            "{s:i, s:s, s:[{s:s, s:s, s:I, s:{s:s, s:s}}, {s:s, s:s, s:I, "
            "s:{s:s, s:s}}]}",
            "schemaVersion", 2, "mediaType",
            "application/vnd.oci.image.index.v1+json", "manifests", "mediaType",
            "application/vnd.oci.image.manifest.v1+json", "digest",
            "sha256:0000000000000000000000000000000000000000000000000"
            "000000000000000",
            "size", (json_int_t)1, "platform", "architecture", "arm64", "os",
            "linux", "mediaType", "application/vnd.oci.image.manifest.v1+json",
            "digest", mdigest, "size", (json_int_t)strlen(mtext), "platform",
            "architecture", "amd64", "os", "linux");
        itext = jx_dumps(inner);
        add_blob(w, itext, strlen(itext), top_digest);
        top_type = "application/vnd.oci.image.index.v1+json";
        top_size = strlen(itext);
    } else {
        memcpy(top_digest, mdigest, 72);
    }
    json_t *desc = json_pack("{s:s, s:s, s:I}", "mediaType", top_type, "digest",
                             top_digest, "size", (json_int_t)top_size);
    if (name)
        json_object_set_new(desc, "annotations",
                            json_pack("{s:s, s:s}", "io.containerd.image.name",
                                      name, "org.opencontainers.image.ref.name",
                                      "latest"));
    _cleanup_json_ json_t *index =
        json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType",
                  "application/vnd.oci.image.index.v1+json", "manifests", desc);
    _cleanup_free_ char *index_text = jx_dumps(index);
    arc_writer_add_file(w, "index.json", index_text, strlen(index_text), 0644,
                        &err);
    return arc_writer_finish(w, len, &err);
}

static json_t *load_bytes(struct image_store *s, const char *data, size_t len,
                          struct err *err)
{
    _cleanup_free_ char *path = write_tmp(data, len);
    json_t *r = image_load_file(s, path, err);
    unlink(path);
    return r;
}

static struct image_store *open_store(char **root)
{
    *root = fresh_dir("store");
    struct err err = {0};
    struct image_store *s = image_store_new(*root, &err);
    if (!s)
        fprintf(stderr, "image_store_new: %s\n", err.msg);
    return s;
}

static size_t layer_count(const char *root)
{
    _cleanup_free_ char *p = xasprintf("%s/layers", root);
    return count_entries(p);
}

/* ---- tests ---- */

static void test_normalize(void)
{
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"busybox", "busybox:latest"},
        {"busybox:1", "busybox:1"},
        {"docker.io/library/busybox", "busybox:latest"},
        {"docker.io/busybox:1.36", "busybox:1.36"},
        {"index.docker.io/library/busybox", "busybox:latest"},
        {"library/busybox", "busybox:latest"},
        {"foo/bar", "foo/bar:latest"},
        {"docker.io/foo/bar:x", "foo/bar:x"},
        {"localhost:5000/a/b:c", "localhost:5000/a/b:c"},
        {"localhost/a", "localhost/a:latest"},
        {"localhost:5000", "localhost:5000"}, /* a tag of "localhost" */
        {"reg.example.com/x/y@sha256:"
         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         "reg.example.com/x/y@sha256:"
         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        {"a-b__c/e.f:Tag_1.0-x", "a-b__c/e.f:Tag_1.0-x"},
        {"a.b-c.d:99/e:1", "a.b-c.d:99/e:1"},
        {"my_app", "my_app:latest"},
        {"[::1]:5000/x", "[::1]:5000/x:latest"},
        {"Example.com/x", "Example.com/x:latest"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        struct err err = {0};
        _cleanup_free_ char *n = image_normalize_ref(ok[i].in, &err);
        CHECK_STR(n, ok[i].out);
        if (!n)
            fprintf(stderr, "  %s: %s\n", ok[i].in, err.msg);
    }
    static const char *const bad[] = {
        "",
        "Busybox",
        "busybox:",
        ":latest",
        "busybox@sha256:abc",
        "a//b",
        "a/",
        "/a",
        "a:b:c",
        "-abc",
        "abc-",
        "a..b",
        "a___b",
        "a-b__c.d/e", /* "a-b__c.d" is a domain, and not a valid one */
        "busybox:-tag",
        "busybox@md5:0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "with space",
        "reg.example.com:port/x",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct err err = {0};
        _cleanup_free_ char *n = image_normalize_ref(bad[i], &err);
        CHECK(n == NULL);
        CHECK_INT(err.code, 400);
        if (n)
            fprintf(stderr, "  accepted bad ref '%s' as '%s'\n", bad[i], n);
    }
    struct err err = {0};
    CHECK(image_normalize_ref("Busybox", &err) == NULL);
    CHECK(strstr(err.msg, "invalid reference format") != NULL);
    CHECK(strstr(err.msg, "lowercase") != NULL);
}

static void test_load_docker_save(void)
{
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    struct layer l[2];
    layer_make(&l[0], fill_base, 0, ARC_PLAIN);
    layer_make(&l[1], fill_numbered, 1, ARC_GZIP); /* gzip'd layer */
    char id[72];
    size_t len;
    _cleanup_free_ char *arc =
        docker_save(l, 2, "docker.io/library/web:1", ARC_PLAIN, NULL, id, &len);
    struct err err = {0};
    _cleanup_json_ json_t *r = load_bytes(s, arc, len, &err);
    CHECK(r != NULL);
    if (!r)
        fprintf(stderr, "  load: %s\n", err.msg);
    CHECK_STR(
        json_string_value(json_array_get(json_object_get(r, "Loaded"), 0)),
        "web:1");
    CHECK_INT(json_array_size(json_object_get(r, "LoadedIDs")), 0);

    /* list: Docker's ImageSummary */
    _cleanup_json_ json_t *list = image_list(s, NULL);
    CHECK_INT(json_array_size(list), 1);
    json_t *sum = json_array_get(list, 0);
    CHECK_STR(jx_str(sum, "Id"), id);
    CHECK_STR(jx_str(sum, "ParentId"), "");
    CHECK_STR(
        json_string_value(json_array_get(json_object_get(sum, "RepoTags"), 0)),
        "web:1");
    CHECK(json_is_array(json_object_get(sum, "RepoDigests")));
    CHECK_INT(jx_int(sum, "Created", 0), 1704164645);
    CHECK(jx_int(sum, "Size", 0) > 0);
    CHECK_INT(jx_int(sum, "Size", 0), jx_int(sum, "VirtualSize", -5));
    CHECK_INT(jx_int(sum, "SharedSize", 0), -1);
    CHECK_INT(jx_int(sum, "Containers", 0), -1);
    CHECK_STR(jx_path_str(sum, "Labels.team"), "blue");

    /* inspect by tag, by familiar and full names, by id and short id */
    const char *names[] = {"web:1", "docker.io/library/web:1", id, id + 7,
                           "sha256:0"};
    char short_id[20];
    snprintf(short_id, sizeof(short_id), "%.12s", id + 7);
    names[4] = short_id;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        _cleanup_json_ json_t *ins = image_inspect(s, names[i], &err);
        CHECK(ins != NULL);
        CHECK_STR(jx_str(ins, "Id"), id);
    }
    _cleanup_json_ json_t *ins = image_inspect(s, "web:1", &err);
    CHECK_STR(jx_str(ins, "Created"), "2024-01-02T03:04:05Z");
    CHECK_STR(jx_str(ins, "Architecture"), "amd64");
    CHECK_STR(jx_str(ins, "Os"), "linux");
    CHECK_STR(jx_str(ins, "Parent"), "");
    CHECK_STR(jx_str(ins, "Container"), "");
    CHECK_STR(jx_path_str(ins, "GraphDriver.Name"), "overlay2");
    CHECK(jx_path_str(ins, "GraphDriver.Data.UpperDir") != NULL);
    CHECK(jx_path_str(ins, "GraphDriver.Data.LowerDir") != NULL);
    CHECK_STR(jx_path_str(ins, "RootFS.Type"), "layers");
    CHECK_INT(json_array_size(jx_path(ins, "RootFS.Layers")), 2);
    CHECK_STR(
        json_string_value(json_array_get(jx_path(ins, "RootFS.Layers"), 1)),
        l[1].diff_id);
    CHECK_STR(json_string_value(json_array_get(jx_path(ins, "Config.Cmd"), 0)),
              "sh");
    CHECK_STR(jx_path_str(ins, "Config.WorkingDir"), "");
    CHECK(json_is_object(json_object_get(ins, "ContainerConfig")));
    CHECK_STR(jx_path_str(ins, "Metadata.LastTagTime"), "0001-01-01T00:00:00Z");
    CHECK_INT(jx_int(ins, "Size", 0), jx_int(sum, "Size", 1));

    CHECK(image_inspect(s, "nope", &err) == NULL);
    CHECK_INT(err.code, 404);
    CHECK_STR(err.msg, "No such image: nope");

    /* resolve: config + layer dirs bottom first */
    struct image_ref *ref = image_resolve(s, "web:1", &err);
    CHECK(ref != NULL);
    if (ref) {
        CHECK_STR(ref->id, id);
        CHECK_STR(ref->name, "web:1");
        CHECK_INT(ref->n_layers, 2);
        CHECK_STR(json_string_value(
                      json_array_get(json_object_get(ref->config, "Env"), 0)),
                  "A=1");
        _cleanup_free_ char *hello =
            xasprintf("%s/etc/hello", ref->layer_dirs[0]);
        _cleanup_free_ char *data = NULL;
        CHECK_INT(fs_read_file(hello, &data, NULL, &err), 0);
        CHECK_STR(data, "layer 0\n");
        _cleanup_free_ char *f1 = xasprintf("%s/file1", ref->layer_dirs[1]);
        CHECK(fs_exists(f1));
        _cleanup_free_ char *sh = xasprintf("%s/bin/sh", ref->layer_dirs[0]);
        char target[64] = "";
        CHECK(readlink(sh, target, sizeof(target) - 1) == 4);
        CHECK_STR(target, "tool");
        _cleanup_free_ char *t1 = xasprintf("%s/bin/tool", ref->layer_dirs[0]);
        _cleanup_free_ char *t2 = xasprintf("%s/bin/tool2", ref->layer_dirs[0]);
        struct stat a, b;
        CHECK(stat(t1, &a) == 0 && stat(t2, &b) == 0 && a.st_ino == b.st_ino);
        CHECK_INT(a.st_mode & 07777, 0755);
        image_ref_free(ref);
    }
    CHECK(image_resolve(s, "web:2", &err) == NULL);
    CHECK_INT(err.code, 404);
    CHECK(image_store_has_layer(s, l[0].diff_id));
    layer_fini(&l[0]);
    layer_fini(&l[1]);
    image_store_free(s);
}

static void test_load_bad_diff_id(void)
{
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    struct layer l[2];
    layer_make(&l[0], fill_base, 0, ARC_PLAIN);
    layer_make(&l[1], fill_numbered, 2, ARC_PLAIN);
    size_t len;
    const char *bad = "sha256:1111111111111111111111111111111111111111111111111"
                      "111111111111111";
    _cleanup_free_ char *arc =
        docker_save(l, 2, "bad:1", ARC_PLAIN, bad, NULL, &len);
    struct err err = {0};
    json_t *r = load_bytes(s, arc, len, &err);
    CHECK(r == NULL);
    CHECK_INT(err.code, 400);
    CHECK(strstr(err.msg, "invalid diffID") != NULL);
    _cleanup_json_ json_t *list = image_list(s, NULL);
    CHECK_INT(json_array_size(list), 0);
    CHECK_INT(layer_count(root), 0); /* the good first layer is gone too */
    _cleanup_free_ char *tmp = xasprintf("%s/tmp", root);
    CHECK_INT(count_entries(tmp), 0);

    /* wrong number of layers for the config */
    _cleanup_free_ char *cfg = make_config(l, 2, NULL);
    const char *one[] = {"/nonexistent"};
    CHECK_INT(image_store_add(s, cfg, strlen(cfg), one, 1, NULL, 0, NULL, &err),
              -1);
    CHECK_INT(err.code, 400);

    /* garbage, empty, and a tar without a manifest */
    _cleanup_free_ char *junk = xstrdup("this is not an archive at all......");
    CHECK(load_bytes(s, junk, strlen(junk), &err) == NULL);
    CHECK_INT(err.code, 400);
    CHECK(load_bytes(s, "", 0, &err) == NULL);
    CHECK_INT(err.code, 400);
    CHECK(load_bytes(s, l[0].tar, l[0].tar_len, &err) == NULL);
    CHECK_INT(err.code, 400);
    layer_fini(&l[0]);
    layer_fini(&l[1]);
    image_store_free(s);
}

static void test_load_oci(void)
{
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    struct layer l[2];
    layer_make(&l[0], fill_base, 0, ARC_GZIP);
    layer_make(&l[1], fill_numbered, 3, ARC_PLAIN);
    char id[72];
    size_t len;
    struct err err = {0};
    _cleanup_free_ char *arc =
        oci_layout(l, 2, "docker.io/library/ocitest:2", false, id, &len);
    _cleanup_json_ json_t *r = load_bytes(s, arc, len, &err);
    CHECK(r != NULL);
    if (!r)
        fprintf(stderr, "  oci: %s\n", err.msg);
    CHECK_STR(
        json_string_value(json_array_get(json_object_get(r, "Loaded"), 0)),
        "ocitest:2");
    _cleanup_json_ json_t *ins = image_inspect(s, "ocitest:2", &err);
    CHECK_STR(jx_str(ins, "Id"), id);

    /* each layer's blob is kept for push: gzip with its own digest, a plain
     * tar with the diff id as digest; the RepoDigest from a push lands */
    struct image_push_info *pi = image_store_push_info(s, "ocitest:2", &err);
    CHECK(pi != NULL);
    if (pi) {
        CHECK_INT(pi->n_layers, 2);
        char hex[65], want[72];
        image_sha256_hex(l[0].blob, l[0].blob_len, hex);
        snprintf(want, sizeof(want), "sha256:%s", hex);
        CHECK_STR(pi->layers[0].digest, want);
        CHECK_STR(pi->layers[0].media_type,
                  "application/vnd.docker.image.rootfs.diff.tar.gzip");
        CHECK_INT(pi->layers[0].size, (int64_t)l[0].blob_len);
        CHECK_STR(pi->layers[1].digest, l[1].diff_id);
        CHECK(access(pi->layers[1].path, R_OK) == 0);
        CHECK_INT(image_store_add_digest(s, pi->id, "reg:5000/x:1", &err), -1);
        _cleanup_free_ char *rd = xasprintf("reg:5000/x@%s", want);
        CHECK_INT(image_store_add_digest(s, pi->id, rd, &err), 0);
        _cleanup_json_ json_t *ins2 = image_inspect(s, rd, &err);
        CHECK(ins2 != NULL);
        /* removing the repository's last tag takes its digest names
         * along (dockerd's rule); the image stays under its other name */
        CHECK_INT(image_tag(s, pi->id, "reg:5000/x", "1", &err), 0);
        json_t *out = NULL;
        CHECK_INT(
            image_remove(s, "reg:5000/x:1", false, NULL, NULL, &out, &err), 0);
        CHECK_INT(json_array_size(out), 2);
        CHECK_STR(jx_str(json_array_get(out, 1), "Untagged"), rd);
        json_decref(out);
        json_t *gone = image_inspect(s, rd, &err);
        CHECK(gone == NULL);
        json_decref(gone);
        _cleanup_json_ json_t *still = image_inspect(s, "ocitest:2", &err);
        CHECK(still != NULL);
        image_push_info_free(pi);
    }
    CHECK(image_store_push_info(s, "nosuch:1", &err) == NULL);
    CHECK_INT(err.code, 404);

    /* nested index: the linux/amd64 entry is taken; untagged -> LoadedIDs */
    struct layer l2[1];
    layer_make(&l2[0], fill_numbered, 4, ARC_PLAIN);
    char id2[72];
    _cleanup_free_ char *arc2 = oci_layout(l2, 1, NULL, true, id2, &len);
    _cleanup_json_ json_t *r2 = load_bytes(s, arc2, len, &err);
    CHECK(r2 != NULL);
    if (!r2)
        fprintf(stderr, "  oci nested: %s\n", err.msg);
    CHECK_INT(json_array_size(json_object_get(r2, "Loaded")), 0);
    CHECK_STR(
        json_string_value(json_array_get(json_object_get(r2, "LoadedIDs"), 0)),
        id2);
    _cleanup_json_ json_t *list = image_list(s, NULL);
    CHECK_INT(json_array_size(list), 2);

    /* a blob whose bytes do not match its name */
    struct arc_writer *w = arc_writer_new(ARC_PLAIN, &err);
    const char *fake = "blobs/sha256/"
                       "2222222222222222222222222222222222222222222222222222222"
                       "222222222";
    arc_writer_add_file(w, fake, "{}", 2, 0644, &err);
    const char *idx = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                      "\"application/vnd.oci.image.manifest.v1+json\","
                      "\"digest\":\"sha256:222222222222222222222222222222222"
                      "2222222222222222222222222222222\",\"size\":2}]}";
    arc_writer_add_file(w, "index.json", idx, strlen(idx), 0644, &err);
    size_t blen;
    _cleanup_free_ char *badarc = arc_writer_finish(w, &blen, &err);
    CHECK(load_bytes(s, badarc, blen, &err) == NULL);
    CHECK_INT(err.code, 400);
    CHECK(strstr(err.msg, "does not match") != NULL);

    layer_fini(&l[0]);
    layer_fini(&l[1]);
    layer_fini(&l2[0]);
    image_store_free(s);
}

static void test_load_compressed_archive(void)
{
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    struct layer l[1];
    layer_make(&l[0], fill_base, 7, ARC_ZSTD); /* zstd layer */
    char id[72];
    size_t len;
    struct err err = {0};
    /* the whole archive gzip'd */
    _cleanup_free_ char *arc =
        docker_save(l, 1, "gz:latest", ARC_GZIP, NULL, id, &len);
    CHECK((unsigned char)arc[0] == 0x1f && (unsigned char)arc[1] == 0x8b);
    _cleanup_json_ json_t *r = load_bytes(s, arc, len, &err);
    CHECK(r != NULL);
    if (!r)
        fprintf(stderr, "  gzip archive: %s\n", err.msg);
    _cleanup_json_ json_t *ins = image_inspect(s, "gz", &err);
    CHECK_STR(jx_str(ins, "Id"), id);
    /* loading the same archive again is fine and changes nothing */
    _cleanup_json_ json_t *again = load_bytes(s, arc, len, &err);
    CHECK(again != NULL);
    _cleanup_json_ json_t *list = image_list(s, NULL);
    CHECK_INT(json_array_size(list), 1);
    layer_fini(&l[0]);
    image_store_free(s);
}

static void test_import(void)
{
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    struct layer l;
    layer_make(&l, fill_base, 9, ARC_GZIP);
    _cleanup_free_ char *path = write_tmp(l.blob, l.blob_len);
    struct err err = {0};
    _cleanup_json_ json_t *changes =
        json_pack("[s, s, s, s, s, s]", "CMD [\"/bin/tool\", \"-x\"]",
                  "ENV FOO=bar B=\"c d\"", "WORKDIR /srv", "EXPOSE 80 53/udp",
                  "USER nobody", "LABEL a=b");
    _cleanup_json_ json_t *r =
        image_import_file(s, path, "imported", "v1", changes, &err);
    CHECK(r != NULL);
    if (!r)
        fprintf(stderr, "  import: %s\n", err.msg);
    const char *id = jx_str(r, "ID");
    CHECK(id && image_is_digest(id));
    _cleanup_json_ json_t *ins = image_inspect(s, "imported:v1", &err);
    CHECK_STR(jx_str(ins, "Id"), id);
    CHECK_STR(
        json_string_value(json_array_get(jx_path(ins, "RootFS.Layers"), 0)),
        l.diff_id);
    CHECK_STR(json_string_value(json_array_get(jx_path(ins, "Config.Cmd"), 1)),
              "-x");
    CHECK_STR(json_string_value(json_array_get(jx_path(ins, "Config.Env"), 1)),
              "B=c d");
    CHECK_STR(jx_path_str(ins, "Config.WorkingDir"), "/srv");
    CHECK_STR(jx_path_str(ins, "Config.User"), "nobody");
    json_t *ports = jx_path(ins, "Config.ExposedPorts");
    CHECK(json_object_get(ports, "80/tcp") && json_object_get(ports, "53/udp"));
    CHECK_STR(jx_path_str(ins, "Config.Labels.a"), "b");
    CHECK_STR(jx_str(ins, "Architecture"), "amd64");

    /* untagged import; shell-form CMD; tag "" = latest */
    _cleanup_json_ json_t *r2 =
        image_import_file(s, path, NULL, NULL, NULL, &err);
    CHECK(r2 != NULL);
    _cleanup_json_ json_t *sh = json_pack("[s]", "CMD echo hi");
    _cleanup_json_ json_t *r3 = image_import_file(s, path, "imp", "", sh, &err);
    CHECK(r3 != NULL);
    _cleanup_json_ json_t *ins3 = image_inspect(s, "imp:latest", &err);
    CHECK_STR(json_string_value(json_array_get(jx_path(ins3, "Config.Cmd"), 2)),
              "echo hi");
    CHECK_INT(layer_count(root), 1); /* one layer for all three */

    /* bad input */
    _cleanup_json_ json_t *bad = json_pack("[s]", "FROB x");
    CHECK(image_import_file(s, path, "x", NULL, bad, &err) == NULL);
    CHECK_INT(err.code, 400);
    CHECK(image_import_file(s, path, "Bad Name", NULL, NULL, &err) == NULL);
    CHECK_INT(err.code, 400);
    _cleanup_free_ char *junk = write_tmp("not a tar, not gzip", 19);
    CHECK(image_import_file(s, junk, "x", NULL, NULL, &err) == NULL);
    CHECK_INT(err.code, 400);
    layer_fini(&l);
    image_store_free(s);
}

static void fill_whiteouts(struct arc_writer *w, int arg)
{
    (void)arg;
    struct err err = {0};
    arc_writer_add_dir(w, "a", 0755, &err);
    arc_writer_add_file(w, "a/.wh.gone", "", 0, 0644, &err);
    arc_writer_add_dir(w, "c", 0750, &err);
    arc_writer_add_file(w, "c/.wh..wh..opq", "", 0, 0644, &err);
    arc_writer_add_file(w, "c/kept", "k", 1, 0600, &err);
    arc_writer_add_file(w, ".wh..wh.plnk", "", 0, 0644, &err);
    arc_writer_add_file(w, "d/.wh..wh..opq", "", 0, 0644, &err); /* no dir */
}

static void test_whiteouts(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test_whiteouts: skipped (needs root for overlay "
                        "whiteout devices and trusted.* xattrs)\n");
        return;
    }
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    struct layer l;
    layer_make(&l, fill_whiteouts, 0, ARC_PLAIN);
    _cleanup_free_ char *path = write_tmp(l.blob, l.blob_len);
    struct err err = {0};
    _cleanup_json_ json_t *r =
        image_import_file(s, path, "wh", NULL, NULL, &err);
    CHECK(r != NULL);
    if (!r)
        fprintf(stderr, "  whiteouts: %s\n", err.msg);
    struct image_ref *ref = image_resolve(s, "wh", &err);
    CHECK(ref != NULL);
    if (ref) {
        const char *d = ref->layer_dirs[0];
        _cleanup_free_ char *gone = xasprintf("%s/a/gone", d);
        _cleanup_free_ char *marker = xasprintf("%s/a/.wh.gone", d);
        struct stat st;
        CHECK(lstat(gone, &st) == 0 && S_ISCHR(st.st_mode) &&
              major(st.st_rdev) == 0 && minor(st.st_rdev) == 0);
        CHECK(!fs_exists(marker));
        _cleanup_free_ char *c = xasprintf("%s/c", d);
        char v[8] = "";
        CHECK(getxattr(c, "trusted.overlay.opaque", v, sizeof(v)) == 1 &&
              v[0] == 'y');
        CHECK(lstat(c, &st) == 0 && (st.st_mode & 07777) == 0750);
        _cleanup_free_ char *opq = xasprintf("%s/c/.wh..wh..opq", d);
        CHECK(!fs_exists(opq));
        _cleanup_free_ char *kept = xasprintf("%s/c/kept", d);
        CHECK(fs_exists(kept));
        _cleanup_free_ char *plnk = xasprintf("%s/.wh..wh.plnk", d);
        CHECK(!fs_exists(plnk));
        _cleanup_free_ char *dd = xasprintf("%s/d", d);
        CHECK(getxattr(dd, "trusted.overlay.opaque", v, sizeof(v)) == 1);
        image_ref_free(ref);
    }
    layer_fini(&l);
    image_store_free(s);
}

static const char *outside_dir;

static void fill_evil(struct arc_writer *w, int arg)
{
    struct err err = {0};
    _cleanup_free_ char *abs = xasprintf("%s/pwned", outside_dir);
    switch (arg) {
    case 0:
        arc_writer_add_file(w, "../../../../../../../../tmp/pwned", "x", 1,
                            0644, &err);
        break;
    case 1:
        arc_writer_add_file(w, abs, "x", 1, 0644, &err);
        break;
    case 2: /* write through a symlink pointing outside */
        arc_writer_add_symlink(w, "ln", outside_dir, &err);
        arc_writer_add_file(w, "ln/pwned", "x", 1, 0644, &err);
        break;
    case 3: /* same, relative */
        arc_writer_add_symlink(w, "ln", "../../../../../../../../../../tmp",
                               &err);
        arc_writer_add_file(w, "ln/pwned", "x", 1, 0644, &err);
        break;
    case 4: /* hardlink to a file outside */
        arc_writer_add_hardlink(w, "hl", "../../../../../../../etc/passwd",
                                &err);
        break;
    case 5: /* hardlink through a symlink */
        arc_writer_add_symlink(w, "etcdir", "/etc", &err);
        arc_writer_add_hardlink(w, "hl", "etcdir/passwd", &err);
        break;
    case 6: /* a whiteout that climbs */
        arc_writer_add_file(w, "a/../../.wh.x", "", 0, 0644, &err);
        break;
    }
}

static void test_traversal(void)
{
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    _cleanup_free_ char *outside = fresh_dir("outside");
    outside_dir = outside;
    _cleanup_free_ char *pwned = xasprintf("%s/pwned", outside);
    for (int i = 0; i <= 6; i++) {
        struct layer l;
        layer_make(&l, fill_evil, i, ARC_PLAIN);
        _cleanup_free_ char *path = write_tmp(l.blob, l.blob_len);
        struct err err = {0};
        json_t *r = image_import_file(s, path, "evil", NULL, NULL, &err);
        CHECK(r == NULL);
        CHECK_INT(err.code, 400);
        if (r || err.code != 400 || getenv("HARNESS_VERBOSE"))
            fprintf(stderr, "  evil layer %d: %s\n", i,
                    r ? "accepted" : err.msg);
        json_decref(r);
        CHECK(!fs_exists(pwned));
        CHECK(!fs_exists("/tmp/pwned"));
        layer_fini(&l);
    }
    CHECK_INT(layer_count(root), 0);
    _cleanup_json_ json_t *list = image_list(s, NULL);
    CHECK_INT(json_array_size(list), 0);
    image_store_free(s);
}

static void test_shared_layer(void)
{
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    struct layer base, a, b;
    layer_make(&base, fill_base, 0, ARC_PLAIN);
    layer_make(&a, fill_numbered, 1, ARC_PLAIN);
    layer_make(&b, fill_numbered, 2, ARC_PLAIN);
    struct layer la[2] = {base, a}, lb[3] = {base, b, base};
    size_t len;
    struct err err = {0};
    _cleanup_free_ char *arc_a =
        docker_save(la, 2, "a", ARC_PLAIN, NULL, NULL, &len);
    _cleanup_json_ json_t *ra = load_bytes(s, arc_a, len, &err);
    CHECK(ra != NULL);
    struct image_ref *ref = image_resolve(s, "a", &err);
    _cleanup_free_ char *hello = xasprintf("%s/etc/hello", ref->layer_dirs[0]);
    struct stat st1, st2;
    CHECK(stat(hello, &st1) == 0);
    _cleanup_free_ char *arc_b =
        docker_save(lb, 3, "b", ARC_PLAIN, NULL, NULL, &len);
    _cleanup_json_ json_t *rb = load_bytes(s, arc_b, len, &err);
    CHECK(rb != NULL);
    if (!rb)
        fprintf(stderr, "  load b: %s\n", err.msg);
    CHECK(stat(hello, &st2) == 0);
    CHECK(st1.st_ino == st2.st_ino); /* not unpacked a second time */
    CHECK_INT(layer_count(root), 3);
    struct image_ref *rb_ref = image_resolve(s, "b", &err);
    CHECK(rb_ref && strcmp(rb_ref->layer_dirs[0], ref->layer_dirs[0]) == 0);
    CHECK(rb_ref && strcmp(rb_ref->layer_dirs[2], ref->layer_dirs[0]) == 0);

    /* remove a: the shared base stays for b */
    json_t *out = NULL;
    CHECK_INT(image_remove(s, "a", false, NULL, NULL, &out, &err), 0);
    CHECK_INT(json_array_size(out), 3); /* Untagged, Deleted img, layer a */
    json_decref(out);
    CHECK(fs_exists(hello));
    CHECK_INT(layer_count(root), 2);
    CHECK_INT(image_remove(s, "b", false, NULL, NULL, &out, &err), 0);
    json_decref(out);
    CHECK(!fs_exists(hello));
    CHECK_INT(layer_count(root), 0);
    image_ref_free(ref);
    image_ref_free(rb_ref);

    /* ten layers: short lower dirs */
    struct layer ten[10];
    for (int i = 0; i < 10; i++)
        layer_make(&ten[i], fill_numbered, 100 + i, ARC_PLAIN);
    _cleanup_free_ char *arc10 =
        docker_save(ten, 10, "ten", ARC_PLAIN, NULL, NULL, &len);
    _cleanup_json_ json_t *r10 = load_bytes(s, arc10, len, &err);
    CHECK(r10 != NULL);
    struct image_ref *r = image_resolve(s, "ten", &err);
    CHECK(r && r->n_layers == 10);
    for (size_t i = 0; r && i < r->n_layers; i++) {
        /* ".../layers/<12 hex>/diff" */
        const char *d = r->layer_dirs[i];
        size_t n = strlen(d);
        CHECK(n > 18 && strcmp(d + n - 5, "/diff") == 0 &&
              strncmp(d + n - 25, "/layers/", 8) == 0);
        _cleanup_free_ char *f =
            xasprintf("%s/file%zu", r->layer_dirs[i], 100 + i);
        CHECK(fs_exists(f));
    }
    image_ref_free(r);
    for (int i = 0; i < 10; i++)
        layer_fini(&ten[i]);
    layer_fini(&base);
    layer_fini(&a);
    layer_fini(&b);
    image_store_free(s);
}

#define CID "c0ffee0123456789c0ffee0123456789c0ffee0123456789c0ffee0123456789"

static bool in_use_yes(void *data, const char *image_id, char cid[65])
{
    (void)image_id;
    (*(int *)data)++;
    snprintf(cid, 65, "%s", CID);
    return true;
}

static void test_remove(void)
{
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    struct layer l;
    layer_make(&l, fill_base, 0, ARC_PLAIN);
    char id[72];
    size_t len;
    struct err err = {0};
    _cleanup_free_ char *arc =
        docker_save(&l, 1, "one:1", ARC_PLAIN, NULL, id, &len);
    _cleanup_json_ json_t *r = load_bytes(s, arc, len, &err);
    CHECK(r != NULL);
    CHECK_INT(image_tag(s, "one:1", "one", "2", &err), 0);
    CHECK_INT(image_tag(s, id, "other/repo", NULL, &err), 0);
    CHECK_INT(image_tag(s, "nope", "x", NULL, &err), -1);
    CHECK_INT(err.code, 404);
    CHECK_INT(image_tag(s, "one:1", "Bad", NULL, &err), -1);
    CHECK_INT(err.code, 400);
    _cleanup_json_ json_t *ins = image_inspect(s, "other/repo:latest", &err);
    CHECK_INT(json_array_size(json_object_get(ins, "RepoTags")), 3);
    CHECK(strcmp(jx_path_str(ins, "Metadata.LastTagTime"),
                 "0001-01-01T00:00:00Z") != 0);

    /* filters */
    _cleanup_json_ json_t *f1 = json_pack("{s:[s]}", "reference", "one");
    _cleanup_json_ json_t *l1 = image_list(s, f1);
    CHECK_INT(json_array_size(l1), 1);
    _cleanup_json_ json_t *f2 = json_pack("{s:[s]}", "reference", "nomatch*");
    _cleanup_json_ json_t *l2 = image_list(s, f2);
    CHECK_INT(json_array_size(l2), 0);
    _cleanup_json_ json_t *f3 = json_pack("{s:[s]}", "dangling", "true");
    _cleanup_json_ json_t *l3 = image_list(s, f3);
    CHECK_INT(json_array_size(l3), 0);
    _cleanup_json_ json_t *f4 = json_pack("{s:[s]}", "label", "team=blue");
    _cleanup_json_ json_t *l4 = image_list(s, f4);
    CHECK_INT(json_array_size(l4), 1);
    _cleanup_json_ json_t *f5 = json_pack("{s:[s]}", "reference", "o*:2");
    _cleanup_json_ json_t *l5 = image_list(s, f5);
    CHECK_INT(json_array_size(l5), 1);

    /* by id, referenced from two repositories: 409 unless forced */
    json_t *out = NULL;
    CHECK_INT(image_remove(s, id, false, NULL, NULL, &out, &err), -1);
    CHECK_INT(err.code, 409);
    char want[160];
    snprintf(want, sizeof(want),
             "conflict: unable to delete %.12s (must be forced) - image is "
             "referenced in multiple repositories",
             id + 7);
    CHECK_STR(err.msg, want);
    CHECK(out == NULL);

    /* by tag: untag only */
    CHECK_INT(image_remove(s, "one:2", false, NULL, NULL, &out, &err), 0);
    CHECK_STR(jx_str(json_array_get(out, 0), "Untagged"), "one:2");
    CHECK_INT(json_array_size(out), 1);
    json_decref(out);
    CHECK_INT(
        image_remove(s, "docker.io/other/repo", false, NULL, NULL, &out, &err),
        0);
    CHECK_STR(jx_str(json_array_get(out, 0), "Untagged"), "other/repo:latest");
    json_decref(out);

    /* last tag, image in use: 409 naming the container */
    int calls = 0;
    CHECK_INT(image_remove(s, "one:1", false, in_use_yes, &calls, &out, &err),
              -1);
    CHECK_INT(err.code, 409);
    snprintf(want, sizeof(want),
             "conflict: unable to remove repository reference \"one:1\" "
             "(must force) - container c0ffee012345 is using its referenced "
             "image %.12s",
             id + 7);
    CHECK_STR(err.msg, want);
    CHECK_INT(calls, 1);
    /* by id, in use: cannot be forced */
    CHECK_INT(image_remove(s, id, true, in_use_yes, &calls, &out, &err), -1);
    CHECK_INT(err.code, 409);
    /* forced: untagged, the image stays (dangling) */
    CHECK_INT(image_remove(s, "one:1", true, in_use_yes, &calls, &out, &err),
              0);
    CHECK_INT(json_array_size(out), 1);
    json_decref(out);
    _cleanup_json_ json_t *dangling = image_list(s, f3);
    CHECK_INT(json_array_size(dangling), 1);
    CHECK_INT(json_array_size(
                  json_object_get(json_array_get(dangling, 0), "RepoTags")),
              0);
    /* now delete by short id */
    char short_id[16];
    snprintf(short_id, sizeof(short_id), "%.10s", id + 7);
    CHECK_INT(image_remove(s, short_id, false, NULL, NULL, &out, &err), 0);
    CHECK_STR(jx_str(json_array_get(out, 0), "Deleted"), id);
    CHECK_STR(jx_str(json_array_get(out, 1), "Deleted"), l.diff_id);
    json_decref(out);
    CHECK_INT(layer_count(root), 0);
    _cleanup_free_ char *blob = xasprintf("%s/blobs/sha256/%s", root, id + 7);
    CHECK(!fs_exists(blob));
    CHECK_INT(image_remove(s, "one:1", false, NULL, NULL, &out, &err), -1);
    CHECK_INT(err.code, 404);
    CHECK_STR(err.msg, "No such image: one:1");

    /* several tags of one repository: removal by id untags them all */
    _cleanup_json_ json_t *r2 = load_bytes(s, arc, len, &err);
    CHECK_INT(image_tag(s, "one:1", "one", "b", &err), 0);
    CHECK_INT(image_remove(s, id, false, NULL, NULL, &out, &err), 0);
    CHECK_INT(json_array_size(out), 4); /* 2 untagged, image, layer */
    json_decref(out);
    layer_fini(&l);
    image_store_free(s);
}

static void test_reopen(void)
{
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    struct layer l[2];
    layer_make(&l[0], fill_base, 0, ARC_PLAIN);
    layer_make(&l[1], fill_numbered, 5, ARC_GZIP);
    char id[72];
    size_t len;
    struct err err = {0};
    _cleanup_free_ char *arc =
        docker_save(l, 2, "keep:me", ARC_PLAIN, NULL, id, &len);
    _cleanup_json_ json_t *r = load_bytes(s, arc, len, &err);
    CHECK(r != NULL);
    CHECK_INT(image_tag(s, "keep:me", "alias", NULL, &err), 0);
    _cleanup_json_ json_t *before = image_inspect(s, "keep:me", &err);
    _cleanup_json_ json_t *list_before = image_list(s, NULL);
    image_store_free(s);

    /* leftovers of a crash: a half layer, a temp dir, a stray image file,
     * an orphan blob */
    _cleanup_free_ char *half = xasprintf("%s/layers/abcdefabcdef/diff", root);
    fs_mkdir_p(half, 0755, &err);
    _cleanup_free_ char *tmpd = xasprintf("%s/tmp/layer-123", root);
    fs_mkdir_p(tmpd, 0755, &err);
    _cleanup_free_ char *stray = xasprintf(
        "%s/images/"
        "3333333333333333333333333333333333333333333333333333333333333333.json",
        root);
    fs_write_file_atomic(stray, "{}", 2, 0600, &err);
    _cleanup_free_ char *orphan = xasprintf(
        "%s/blobs/sha256/"
        "4444444444444444444444444444444444444444444444444444444444444444",
        root);
    fs_write_file_atomic(orphan, "{}", 2, 0600, &err);

    s = image_store_new(root, &err);
    CHECK(s != NULL);
    _cleanup_json_ json_t *after = image_inspect(s, "keep:me", &err);
    CHECK(after != NULL);
    _cleanup_free_ char *t1 = jx_dumps(before);
    _cleanup_free_ char *t2 = jx_dumps(after);
    CHECK_STR(t2, t1);
    _cleanup_json_ json_t *list_after = image_list(s, NULL);
    _cleanup_free_ char *t3 = jx_dumps(list_before);
    _cleanup_free_ char *t4 = jx_dumps(list_after);
    CHECK_STR(t4, t3);
    _cleanup_json_ json_t *alias = image_inspect(s, "alias", &err);
    CHECK_STR(jx_str(alias, "Id"), id);
    CHECK(!fs_exists(half));
    CHECK(!fs_exists(tmpd));
    CHECK(!fs_exists(stray));
    CHECK(!fs_exists(orphan));
    CHECK_INT(layer_count(root), 2);
    struct image_ref *ref = image_resolve(s, "keep:me", &err);
    CHECK(ref && ref->n_layers == 2);
    if (ref) {
        _cleanup_free_ char *f = xasprintf("%s/file5", ref->layer_dirs[1]);
        CHECK(fs_exists(f));
    }
    image_ref_free(ref);

    /* an image whose layer vanished is dropped at open, with its names */
    image_store_free(s);
    _cleanup_free_ char *meta =
        xasprintf("%s/layers/%.12s/layer.json", root, l[1].diff_id + 7);
    unlink(meta);
    s = image_store_new(root, &err);
    CHECK(image_inspect(s, "keep:me", &err) == NULL);
    CHECK_INT(layer_count(root), 0);
    _cleanup_json_ json_t *empty = image_list(s, NULL);
    CHECK_INT(json_array_size(empty), 0);
    layer_fini(&l[0]);
    layer_fini(&l[1]);
    image_store_free(s);
}

struct async_state {
    int calls;
    json_t *result;
    struct err err;
};

static void on_done(void *data, json_t *result, const struct err *err)
{
    struct async_state *st = data;
    st->calls++;
    if (result)
        st->result = json_incref(result);
    if (err)
        st->err = *err;
}

static void test_async(void)
{
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct layer l;
    layer_make(&l, fill_base, 0, ARC_PLAIN);
    size_t len;
    char id[72];
    _cleanup_free_ char *arc =
        docker_save(&l, 1, "async", ARC_PLAIN, NULL, id, &len);
    _cleanup_free_ char *path = write_tmp(arc, len);
    struct async_state a = {0}, b = {0}, c = {0};
    struct err err = {0};
    CHECK_INT(image_load_async(s, &loop, path, on_done, &a, &err), 0);
    /* the same archive twice at once: the layer is unpacked once */
    CHECK_INT(image_load_async(s, &loop, path, on_done, &b, &err), 0);
    _cleanup_free_ char *rootfs = write_tmp(l.tar, l.tar_len);
    CHECK_INT(image_import_async(s, &loop, rootfs, "imp", "x", NULL, on_done,
                                 &c, &err),
              0);
    /* the owner lets go while work is queued: the store lives on */
    image_store_free(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(a.calls, 1);
    CHECK_INT(b.calls, 1);
    CHECK_INT(c.calls, 1);
    CHECK(a.result && b.result && c.result);
    CHECK_STR(json_string_value(
                  json_array_get(json_object_get(a.result, "Loaded"), 0)),
              "async:latest");
    json_decref(a.result);
    json_decref(b.result);
    json_decref(c.result);
    CHECK_INT(layer_count(root), 1);

    s = image_store_new(root, &err);
    /* a bad archive reports through the callback */
    _cleanup_free_ char *junk = write_tmp("junk", 4);
    struct async_state d = {0};
    CHECK_INT(image_load_async(s, &loop, junk, on_done, &d, &err), 0);
    /* bad import arguments fail at once, callback never called */
    struct async_state e = {0};
    _cleanup_json_ json_t *bad = json_pack("[s]", "NOPE");
    CHECK_INT(
        image_import_async(s, &loop, rootfs, "x", NULL, bad, on_done, &e, &err),
        -1);
    CHECK_INT(err.code, 400);
    CHECK_INT(image_import_async(s, &loop, rootfs, "UPPER", NULL, NULL, on_done,
                                 &e, &err),
              -1);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(d.calls, 1);
    CHECK(d.result == NULL);
    CHECK_INT(d.err.code, 400);
    CHECK_INT(e.calls, 0);
    _cleanup_json_ json_t *list = image_list(s, NULL);
    CHECK_INT(json_array_size(list), 2);
    image_store_free(s);
    uv_loop_close(&loop);
    layer_fini(&l);
}

static void test_build_test_image(void)
{
    if (access("/bin/busybox", X_OK) != 0 ||
        access("scripts/build-test-image", X_OK) != 0) {
        fprintf(stderr, "test_build_test_image: skipped (needs /bin/busybox "
                        "from busybox-static and the source tree as cwd)\n");
        return;
    }
    _cleanup_free_ char *root = NULL;
    struct image_store *s = open_store(&root);
    _cleanup_free_ char *out = xasprintf("%s/simple.tar", tmp_root);
    _cleanup_free_ char *out2 = xasprintf("%s/simple2.tar", tmp_root);
    _cleanup_free_ char *rootfs = xasprintf("%s/rootfs.tar", tmp_root);
    _cleanup_free_ char *cmd = xasprintf(
        "scripts/build-test-image %s && scripts/build-test-image %s && "
        "scripts/build-test-image --rootfs %s && cmp -s %s %s",
        out, out2, rootfs, out, out2);
    CHECK_INT(system(cmd), 0); /* and reproducible */
    struct err err = {0};
    _cleanup_json_ json_t *r = image_load_file(s, out, &err);
    CHECK(r != NULL);
    if (!r)
        fprintf(stderr, "  simple_server: %s\n", err.msg);
    CHECK_STR(
        json_string_value(json_array_get(json_object_get(r, "Loaded"), 0)),
        "simple_server:latest");
    struct image_ref *ref = image_resolve(s, "simple_server", &err);
    CHECK(ref != NULL);
    if (ref) {
        CHECK_INT(ref->n_layers, 1);
        _cleanup_free_ char *bb =
            xasprintf("%s/bin/busybox", ref->layer_dirs[0]);
        _cleanup_free_ char *sh = xasprintf("%s/bin/sh", ref->layer_dirs[0]);
        _cleanup_free_ char *idx =
            xasprintf("%s/www/index.html", ref->layer_dirs[0]);
        _cleanup_free_ char *tmpd = xasprintf("%s/tmp", ref->layer_dirs[0]);
        struct stat st;
        CHECK(stat(bb, &st) == 0 && (st.st_mode & 0111));
        CHECK(lstat(sh, &st) == 0 && S_ISLNK(st.st_mode));
        CHECK(fs_exists(idx));
        CHECK(stat(tmpd, &st) == 0 && (st.st_mode & 07777) == 01777);
        CHECK_STR(json_string_value(
                      json_array_get(json_object_get(ref->config, "Cmd"), 0)),
                  "sh");
        CHECK(strncmp(json_string_value(json_array_get(
                          json_object_get(ref->config, "Env"), 0)),
                      "PATH=", 5) == 0);
        image_ref_free(ref);
    }
    _cleanup_json_ json_t *imp =
        image_import_file(s, rootfs, "simple_rootfs", NULL, NULL, &err);
    CHECK(imp != NULL);
    CHECK_INT(layer_count(root), 1); /* same layer as the loaded image */
    image_store_free(s);
}

int main(void)
{
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/shoal-test-image-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    log_set_level(LOG_ERROR); /* the reopen test provokes warnings */
    RUN(test_normalize);
    RUN(test_load_docker_save);
    RUN(test_load_bad_diff_id);
    RUN(test_load_oci);
    RUN(test_load_compressed_archive);
    RUN(test_import);
    RUN(test_whiteouts);
    RUN(test_traversal);
    RUN(test_shared_layer);
    RUN(test_remove);
    RUN(test_reopen);
    RUN(test_async);
    RUN(test_build_test_image);
    struct err err = {0};
    fs_remove_tree(tmp_root, &err);
    HARNESS_END();
}
