// SPDX-License-Identifier: Apache-2.0
// Unit tests for volumes: the pure core (names, driver options and their
// mount(2) translation, list / prune filters, the Volume object), the store
// on a temporary directory (create, metadata surviving a reopen, users,
// removal, leftovers of crashes; mounts only as root), and the `shoal
// volume` request body and table.
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "cli/cli_volume.h"
#include "volume/volume.h"

static json_t *J(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    if (!j)
        fprintf(stderr, "bad test JSON: %s: %s\n", text, je.text);
    return j;
}

/* ---- names ---- */

static void test_names(void)
{
    CHECK(volume_name_is_valid("data"));
    CHECK(volume_name_is_valid("a_b.c-d"));
    CHECK(volume_name_is_valid("9x"));
    CHECK(!volume_name_is_valid("a"));
    CHECK(!volume_name_is_valid("_ab"));
    CHECK(!volume_name_is_valid(".ab"));
    CHECK(!volume_name_is_valid("a/b"));
    CHECK(!volume_name_is_valid(".."));
    CHECK(!volume_name_is_valid("a b"));
    CHECK(!volume_name_is_valid(""));
    CHECK(!volume_name_is_valid(NULL));
    struct err err = {0};
    CHECK_INT(volume_name_check("a", &err), -1);
    CHECK_INT(err.code, 400);
    CHECK_STR(err.msg, "volume name is too short, names should be at least two "
                       "alphanumeric characters");
    err_clear(&err);
    CHECK_INT(volume_name_check("a/b", &err), -1);
    CHECK_STR(err.msg,
              "\"a/b\" includes invalid characters for a local volume name, "
              "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended "
              "to pass a host directory, use absolute path");
    CHECK_INT(volume_name_check("ok", &err), 0);

    CHECK_INT(volume_subpath_check("a/b", &err), 0);
    CHECK_INT(volume_subpath_check("a/./b..c", &err), 0);
    const char *bad[] = {"", "/abs", "..", "a/../b", "a/..", NULL};
    for (size_t i = 0; bad[i]; i++) {
        err_clear(&err);
        CHECK_INT(volume_subpath_check(bad[i], &err), -1);
        CHECK_STR(err.msg, "subpath must be a relative path within the "
                           "volume");
    }
    CHECK_INT(volume_subpath_check(NULL, &err), -1);
}

/* ---- options ---- */

static const char *opts_error(const char *opts)
{
    static struct err err;
    err_clear(&err);
    _cleanup_json_ json_t *o = J(opts);
    if (volume_opts_check(o, &err) == 0)
        return "";
    CHECK_INT(err.code, 400);
    return err.msg;
}

static void test_opts_check(void)
{
    CHECK_STR(opts_error("null"), "");
    CHECK_STR(opts_error("{}"), "");
    CHECK_STR(opts_error("{\"type\":\"tmpfs\",\"device\":\"tmpfs\","
                         "\"o\":\"size=100m,uid=1000\"}"),
              "");
    CHECK_STR(opts_error("{\"type\":\"none\",\"device\":\"/srv\","
                         "\"o\":\"bind\"}"),
              "");
    CHECK_STR(opts_error("{\"foo\":\"bar\"}"), "invalid option: \"foo\"");
    CHECK_STR(opts_error("{\"type\":\"tmpfs\"}"),
              "missing required option: \"device\"");
    CHECK_STR(opts_error("{\"device\":\"tmpfs\"}"),
              "missing required option: \"type\"");
    CHECK_STR(opts_error("{\"o\":\"size=1m\"}"),
              "missing required option: \"device\"");
    CHECK_STR(opts_error("{\"o\":\"size=1m\",\"device\":\"x\"}"),
              "missing required option: \"type\"");
    CHECK_STR(opts_error("{\"size\":\"10G\"}"),
              "quota size requested but no quota support");
    CHECK_STR(opts_error("{\"type\":\"none\",\"device\":\"rel/dir\","
                         "\"o\":\"bind\"}"),
              "invalid option: bind device \"rel/dir\" must be an absolute "
              "path");
    CHECK_STR(opts_error("{\"type\":1,\"device\":\"x\"}"),
              "invalid option \"type\": value must be a string");
    CHECK_STR(opts_error("[1]"), "invalid options: must be an object");

    _cleanup_json_ json_t *tm = J("{\"type\":\"tmpfs\",\"device\":\"tmpfs\"}");
    _cleanup_json_ json_t *none = J("{}");
    CHECK(volume_opts_need_mount(tm));
    CHECK(!volume_opts_need_mount(none));
    CHECK(!volume_opts_need_mount(NULL));
}

static void test_mount_spec(void)
{
    _cleanup_json_ json_t *tm = J("{\"type\":\"tmpfs\",\"device\":\"tmpfs\","
                                  "\"o\":\"size=100m,uid=1000,noexec,ro\"}");
    struct volume_mount_spec m;
    volume_mount_spec_init(&m, tm);
    CHECK_STR(m.fstype, "tmpfs");
    CHECK_STR(m.device, "tmpfs");
    CHECK_STR(m.data, "size=100m,uid=1000");
    CHECK(m.flags == (MS_NOEXEC | MS_RDONLY));
    CHECK(m.propagation == 0);
    volume_mount_spec_fini(&m);

    _cleanup_json_ json_t *bind =
        J("{\"type\":\"none\",\"device\":\"/srv/x\",\"o\":\"rbind,rshared\"}");
    volume_mount_spec_init(&m, bind);
    CHECK_STR(m.device, "/srv/x");
    CHECK_STR(m.data, "");
    CHECK(m.flags == (MS_BIND | MS_REC));
    CHECK(m.propagation == MS_SHARED);
    volume_mount_spec_fini(&m);

    /* "rw" clears an earlier "ro"; a lone propagation keeps its MS_REC. */
    _cleanup_json_ json_t *rw =
        J("{\"type\":\"ext4\",\"device\":\"/dev/x\",\"o\":\"ro,rw,rprivate\"}");
    volume_mount_spec_init(&m, rw);
    CHECK(m.flags == 0);
    CHECK(m.propagation == (MS_PRIVATE | MS_REC));
    volume_mount_spec_fini(&m);

    /* No type: "none", as mount(8) would be told for a bind. */
    _cleanup_json_ json_t *dev = J("{\"device\":\"/dev/y\"}");
    volume_mount_spec_init(&m, dev);
    CHECK_STR(m.fstype, "none");
    volume_mount_spec_fini(&m);
}

/* ---- filters ---- */

static const char *list_filter_error(const char *filters)
{
    static struct err err;
    err_clear(&err);
    _cleanup_json_ json_t *f = J(filters);
    if (volume_list_filters_check(f, &err) == 0)
        return "";
    CHECK_INT(err.code, 400);
    return err.msg;
}

static bool list_match(const char *filters, const struct volume_info *v)
{
    _cleanup_json_ json_t *f = J(filters);
    struct err err = {0};
    CHECK_INT(volume_list_filters_check(f, &err), 0);
    return volume_list_match(f, v);
}

static void test_list_filters(void)
{
    CHECK_STR(list_filter_error("{}"), "");
    CHECK_STR(list_filter_error("{\"dangling\":[\"true\"],\"name\":[\"x\"],"
                                "\"driver\":[\"local\"],\"label\":[\"a\"]}"),
              "");
    CHECK_STR(list_filter_error("{\"until\":[\"1h\"]}"),
              "invalid filter 'until'");
    CHECK_STR(list_filter_error("{\"dangling\":[\"maybe\"]}"),
              "invalid filter 'dangling=maybe'");
    CHECK_STR(list_filter_error("{\"dangling\":[\"true\",\"false\"]}"),
              "invalid filter 'dangling=true,false'");

    _cleanup_json_ json_t *labels = J("{\"app\":\"web\",\"tier\":\"front\"}");
    struct volume_info used = {
        .name = "webdata", .driver = "local", .labels = labels, .refs = 2};
    struct volume_info free_vol = {.name = "cache1", .driver = "local"};
    CHECK(list_match("{}", &used));
    CHECK(list_match("{\"name\":[\"web\"]}", &used)); /* any part */
    CHECK(list_match("{\"name\":[\"^web.*a$\"]}", &used));
    CHECK(!list_match("{\"name\":[\"^data\"]}", &used));
    CHECK(list_match("{\"name\":[\"nope\",\"cache\"]}", &free_vol));
    CHECK(list_match("{\"name\":[\"(\"]}", &used) == false); /* bad regexp */
    CHECK(list_match("{\"driver\":[\"local\"]}", &used));
    CHECK(!list_match("{\"driver\":[\"nfs\"]}", &used));
    CHECK(list_match("{\"label\":[\"app\"]}", &used));
    CHECK(list_match("{\"label\":[\"app=web\",\"tier\"]}", &used));
    CHECK(!list_match("{\"label\":[\"app=db\"]}", &used));
    CHECK(!list_match("{\"label\":[\"app\"]}", &free_vol));
    CHECK(list_match("{\"dangling\":[\"false\"]}", &used));
    CHECK(!list_match("{\"dangling\":[\"1\"]}", &used));
    CHECK(list_match("{\"dangling\":[\"TRUE\"]}", &free_vol));
    CHECK(!list_match("{\"dangling\":[\"0\"]}", &free_vol));
}

static void test_prune_filters(void)
{
    struct err err = {0};
    bool all = true;
    _cleanup_json_ json_t *none = J("{}");
    CHECK_INT(volume_prune_filters_check(none, false, &all, &err), 0);
    CHECK(!all);
    CHECK_INT(volume_prune_filters_check(none, true, &all, &err), 0);
    CHECK(all); /* API < 1.42 */
    _cleanup_json_ json_t *yes = J("{\"all\":[\"true\"]}");
    CHECK_INT(volume_prune_filters_check(yes, false, &all, &err), 0);
    CHECK(all);
    _cleanup_json_ json_t *no = J("{\"all\":[\"0\"]}");
    CHECK_INT(volume_prune_filters_check(no, true, &all, &err), 0);
    CHECK(!all);
    _cleanup_json_ json_t *bad = J("{\"all\":[\"yes\"]}");
    CHECK_INT(volume_prune_filters_check(bad, false, &all, &err), -1);
    CHECK_STR(err.msg, "invalid filter 'all': strconv.ParseBool: parsing "
                       "\"yes\": invalid syntax");
    _cleanup_json_ json_t *two = J("{\"all\":[\"1\",\"0\"]}");
    CHECK_INT(volume_prune_filters_check(two, false, &all, &err), -1);
    CHECK_STR(err.msg,
              "invalid filter 'all=[1 0]': only one value is expected");
    _cleanup_json_ json_t *until = J("{\"until\":[\"1h\"]}");
    CHECK_INT(volume_prune_filters_check(until, false, &all, &err), -1);
    CHECK_STR(err.msg, "invalid filter 'until'");

    _cleanup_json_ json_t *anon_l = J("{\"com.docker.volume.anonymous\":\"\"}");
    _cleanup_json_ json_t *keep_l = J("{\"keep\":\"1\"}");
    _cleanup_json_ json_t *opts = J("{\"type\":\"tmpfs\",\"device\":\"x\"}");
    struct volume_info anon = {
        .name = "a1", .driver = "local", .labels = anon_l};
    struct volume_info named = {.name = "n1", .driver = "local"};
    struct volume_info kept = {
        .name = "k1", .driver = "local", .labels = keep_l};
    struct volume_info used = {
        .name = "u1", .driver = "local", .labels = anon_l, .refs = 1};
    struct volume_info mounted = {
        .name = "m1", .driver = "local", .labels = anon_l, .options = opts};
    CHECK(volume_prune_match(none, false, &anon));
    CHECK(!volume_prune_match(none, false, &named));
    CHECK(volume_prune_match(none, true, &named));
    CHECK(!volume_prune_match(none, true, &used));
    CHECK(!volume_prune_match(none, true, &mounted));
    _cleanup_json_ json_t *not_keep = J("{\"label!\":[\"keep\"]}");
    CHECK(!volume_prune_match(not_keep, true, &kept));
    CHECK(volume_prune_match(not_keep, true, &named));
    _cleanup_json_ json_t *only_keep = J("{\"label\":[\"keep=1\"]}");
    CHECK(volume_prune_match(only_keep, true, &kept));
    CHECK(!volume_prune_match(only_keep, true, &named));
}

static void test_info_json(void)
{
    _cleanup_json_ json_t *labels = J("{\"a\":\"b\"}");
    struct volume_info v = {
        .name = "data", .driver = "local", .labels = labels};
    /* 2026-11-27T04:30:28.5Z: whole seconds, like dockerd's RFC3339. */
    int64_t t = 1795753828LL * 1000000000LL + 500000000LL;
    _cleanup_json_ json_t *j = volume_info_json(&v, "/v/data/_data", t, -1);
    _cleanup_free_ char *s = jx_dumps(j);
    CHECK_STR(s, "{\"CreatedAt\":\"2026-11-27T04:30:28Z\",\"Driver\":\"local\","
                 "\"Labels\":{\"a\":\"b\"},\"Mountpoint\":\"/v/data/_data\","
                 "\"Name\":\"data\",\"Options\":null,\"Scope\":\"local\"}");
    v.refs = 3;
    _cleanup_json_ json_t *u = volume_info_json(&v, "/m", t, 42);
    CHECK_INT(jx_path_int(u, "UsageData.Size", 0), 42);
    CHECK_INT(jx_path_int(u, "UsageData.RefCount", 0), 3);
}

/* ---- the store ---- */

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/shoal-vol.XXXXXX";
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        exit(1);
    }
    return xstrdup(tmpl);
}

struct ev_log {
    char text[1024];
};

static void on_event(void *data, const char *action, const char *name,
                     const char *driver, const char *container)
{
    struct ev_log *l = data;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof(l->text) - n, "%s %s %s%s%s;", action, name,
             driver, container ? " " : "", container ? container : "");
}

static void test_store(void)
{
    _cleanup_free_ char *dir = tmpdir();
    _cleanup_free_ char *root = xasprintf("%s/volumes", dir);
    struct err err = {0};
    struct volume_store *vs = volume_store_new(root, &err);
    CHECK(vs != NULL);
    if (!vs)
        return;
    struct ev_log ev = {{0}};
    volume_store_set_events(vs, on_event, &ev);

    _cleanup_json_ json_t *labels = J("{\"z\":\"1\",\"a\":\"2\"}");
    struct volume_spec spec = {.name = "data", .labels = labels};
    bool created = false;
    struct volume *v = volume_create(vs, &spec, &created, &err);
    CHECK(v != NULL && created);
    CHECK_STR(ev.text, "create data local;");
    _cleanup_free_ char *data = xasprintf("%s/data/_data", root);
    CHECK_STR(volume_path(v), data);
    struct stat st;
    CHECK(stat(data, &st) == 0 && S_ISDIR(st.st_mode));
    /* Labels come back in Go's (sorted) order. */
    _cleanup_json_ json_t *j = volume_json(v, false);
    _cleanup_free_ char *lj = jx_dumps(json_object_get(j, "Labels"));
    CHECK_STR(lj, "{\"a\":\"2\",\"z\":\"1\"}");
    CHECK(json_is_null(json_object_get(j, "Options")));

    /* The same name again: the volume as it was. */
    _cleanup_json_ json_t *other = J("{\"x\":\"y\"}");
    struct volume_spec again = {.name = "data", .labels = other};
    CHECK(volume_create(vs, &again, &created, &err) == v && !created);

    /* Bad input: clear errors, nothing made. */
    struct volume_spec bad = {.name = "a/b"};
    CHECK(volume_create(vs, &bad, &created, &err) == NULL);
    CHECK_INT(err.code, 400);
    CHECK(strstr(err.msg, "create a/b: \"a/b\" includes invalid") == err.msg);
    _cleanup_json_ json_t *bad_opts = J("{\"foo\":\"1\"}");
    struct volume_spec bo = {.name = "opts", .options = bad_opts};
    CHECK(volume_create(vs, &bo, &created, &err) == NULL);
    CHECK_STR(err.msg, "create opts: invalid option: \"foo\"");
    struct volume_spec drv = {.name = "drv", .driver = "nfs"};
    CHECK(volume_create(vs, &drv, &created, &err) == NULL);
    CHECK_INT(err.code, 404);
    CHECK_STR(err.msg, "create drv: error looking up volume plugin nfs: "
                       "plugin \"nfs\" not found");
    _cleanup_json_ json_t *nosrc =
        J("{\"type\":\"none\",\"device\":\"/nonexistent-shoal\","
          "\"o\":\"bind\"}");
    struct volume_spec ns = {.name = "nosrc", .options = nosrc};
    CHECK(volume_create(vs, &ns, &created, &err) == NULL);
    CHECK_STR(err.msg, "create nosrc: bind source path does not exist: "
                       "/nonexistent-shoal");
    CHECK(volume_get(vs, "opts") == NULL && volume_get(vs, "nosrc") == NULL);
    _cleanup_free_ char *opts_dir = xasprintf("%s/opts", root);
    CHECK(!fs_exists(opts_dir));

    /* Anonymous: a random name and dockerd's label. */
    struct volume_spec an = {0};
    struct volume *a = volume_create(vs, &an, &created, &err);
    CHECK(a != NULL && created && strlen(volume_name(a)) == 64);
    _cleanup_free_ char *anon_name = xstrdup(a ? volume_name(a) : "");
    _cleanup_json_ json_t *aj = volume_json(a, false);
    CHECK(json_object_get(json_object_get(aj, "Labels"),
                          VOLUME_ANONYMOUS_LABEL) != NULL);

    /* In use: refused with every user named; free again after unref. */
    volume_ref(vs, "data", "c1");
    volume_ref(vs, "data", "c2");
    volume_ref(vs, "data", "c1");
    CHECK_INT(volume_ref_count(v), 2);
    CHECK_INT(volume_remove(vs, "data", NULL, &err), -1);
    CHECK_INT(err.code, 409);
    CHECK_STR(err.msg, "remove data: volume is in use - [c1, c2]");
    volume_unref(vs, "data", "c1");
    volume_unref(vs, "data", "nobody");
    CHECK_INT(volume_ref_count(v), 1);

    /* Plain volumes mount as they are: no syscall, only the events. */
    ev.text[0] = '\0';
    CHECK_INT(volume_mount(vs, "data", "c2", false, &err), 0);
    CHECK_INT(volume_mount(vs, "data", "c2", false, &err), 0);
    CHECK_INT(volume_mount(vs, "nope", "c2", false, &err), -1);
    CHECK_STR(err.msg, "get nope: no such volume");
    volume_unmount(vs, "data", "c2");
    volume_unmount(vs, "data", "c2");
    CHECK_STR(ev.text, "mount data local c2;unmount data local c2;");

    /* Subpaths: existing, inside, without symlinks. */
    _cleanup_free_ char *subdir = xasprintf("%s/sub/dir", data);
    CHECK_INT(fs_mkdir_p(subdir, 0755, &err), 0);
    _cleanup_free_ char *sp = volume_subpath(v, "sub/dir", &err);
    CHECK_STR(sp, subdir);
    CHECK(volume_subpath(v, "nope", &err) == NULL);
    CHECK_INT(err.code, 400);
    _cleanup_free_ char *link = xasprintf("%s/out", data);
    CHECK_INT(symlink("/etc", link), 0);
    CHECK(volume_subpath(v, "out", &err) == NULL);
    CHECK(volume_subpath(v, "../data", &err) == NULL);
    CHECK_STR(err.msg, "subpath must be a relative path within the volume");
    unlink(link);

    /* Metadata survives a reopen; the users are the runtime's to tell. */
    _cleanup_free_ char *f = xasprintf("%s/keep", data);
    CHECK_INT(fs_write_file_atomic(f, "x", 1, 0644, &err), 0);
    volume_store_free(vs);
    /* A crash's leftovers: a half-made volume, a half-removed one, and a
     * bare directory of an older shoal. */
    _cleanup_free_ char *half = xasprintf("%s/half", root);
    _cleanup_free_ char *trash = xasprintf("%s/.removing-1234-gone", root);
    _cleanup_free_ char *trash_data = xasprintf("%s/_data", trash);
    _cleanup_free_ char *old = xasprintf("%s/legacy/_data", root);
    CHECK_INT(fs_mkdir_p(half, 0700, &err), 0);
    CHECK_INT(fs_mkdir_p(trash_data, 0700, &err), 0);
    CHECK_INT(fs_mkdir_p(old, 0700, &err), 0);
    vs = volume_store_new(root, &err);
    CHECK(vs != NULL);
    if (!vs)
        return;
    v = volume_get(vs, "data");
    CHECK(v != NULL);
    CHECK_INT(v ? volume_ref_count(v) : 99, 0);
    _cleanup_json_ json_t *j2 = volume_json(v, true);
    _cleanup_free_ char *lj2 = jx_dumps(json_object_get(j2, "Labels"));
    CHECK_STR(lj2, "{\"a\":\"2\",\"z\":\"1\"}");
    CHECK_INT(jx_path_int(j2, "UsageData.Size", -1), 1);
    CHECK(volume_get(vs, anon_name) != NULL);
    CHECK(volume_get(vs, "legacy") != NULL);
    CHECK(volume_get(vs, "half") == NULL && !fs_exists(half));
    CHECK(!fs_exists(trash));
    _cleanup_free_ char *legacy_meta = xasprintf("%s/legacy/volume.json", root);
    CHECK(fs_exists(legacy_meta));

    /* Removal: data and all; then it is gone. */
    int64_t size = -1;
    CHECK_INT(volume_remove(vs, "data", &size, &err), 0);
    CHECK_INT(size, 1);
    CHECK(!fs_exists(data));
    CHECK(volume_get(vs, "data") == NULL);
    CHECK_INT(volume_remove(vs, "data", NULL, &err), -1);
    CHECK_INT(err.code, 404);
    CHECK_STR(err.msg, "get data: no such volume");

    size_t n = 0;
    struct volume *it_v;
    for (size_t it = 0; volume_next(vs, &it, &it_v);)
        n++;
    CHECK_INT(n, 2);
    volume_store_free(vs);
    fs_remove_tree(dir, &err);
}

/* Root only: a tmpfs volume is mounted while used and unmounted after. */
static void test_store_mounts(void)
{
    if (geteuid() != 0) {
        printf("  test_store_mounts: skipped (needs root)\n");
        return;
    }
    _cleanup_free_ char *dir = tmpdir();
    _cleanup_free_ char *root = xasprintf("%s/volumes", dir);
    struct err err = {0};
    struct volume_store *vs = volume_store_new(root, &err);
    CHECK(vs != NULL);
    if (!vs)
        return;
    _cleanup_json_ json_t *opts =
        J("{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=1m\"}");
    struct volume_spec spec = {.name = "tmp", .options = opts};
    bool created;
    struct volume *v = volume_create(vs, &spec, &created, &err);
    CHECK(v != NULL);
    _cleanup_free_ char *data = xstrdup(v ? volume_path(v) : "");
    CHECK_INT(volume_mount(vs, "tmp", "c1", false, &err), 0);
    CHECK_INT(volume_mount(vs, "tmp", "c2", false, &err), 0);
    _cleanup_free_ char *mounts = NULL;
    CHECK_INT(fs_read_file("/proc/self/mounts", &mounts, NULL, &err), 0);
    _cleanup_free_ char *want = xasprintf("tmpfs %s tmpfs", data);
    CHECK(mounts && strstr(mounts, want));
    /* Mounted and in use: remove refuses; unused but mounted: unmounts. */
    volume_unmount(vs, "tmp", "c1");
    free(mounts);
    mounts = NULL;
    CHECK_INT(fs_read_file("/proc/self/mounts", &mounts, NULL, &err), 0);
    CHECK(mounts && strstr(mounts, want)); /* c2 still has it */
    volume_unmount(vs, "tmp", "c2");
    free(mounts);
    mounts = NULL;
    CHECK_INT(fs_read_file("/proc/self/mounts", &mounts, NULL, &err), 0);
    CHECK(mounts && !strstr(mounts, want));

    /* A bind of a device directory, read-only. */
    _cleanup_free_ char *src = xasprintf("%s/src", dir);
    CHECK_INT(fs_mkdir_p(src, 0755, &err), 0);
    _cleanup_free_ char *bind_json = xasprintf(
        "{\"type\":\"none\",\"device\":\"%s\",\"o\":\"bind,ro\"}", src);
    _cleanup_json_ json_t *bo = J(bind_json);
    struct volume_spec bs = {.name = "bnd", .options = bo};
    struct volume *b = volume_create(vs, &bs, &created, &err);
    CHECK(b != NULL);
    CHECK_INT(volume_mount(vs, "bnd", "c1", true, &err), 0);
    _cleanup_free_ char *probe = xasprintf("%s/probe", b ? volume_path(b) : "");
    CHECK(fs_write_file_atomic(probe, "x", 1, 0644, &err) < 0); /* ro */
    volume_unmount(vs, "bnd", "c1");
    CHECK_INT(fs_write_file_atomic(probe, "x", 1, 0644, &err), 0);
    _cleanup_free_ char *in_src = xasprintf("%s/probe", src);
    CHECK(!fs_exists(in_src)); /* written to the unmounted _data */

    /* A mount the kernel refuses: a clear 500, not a crash. */
    _cleanup_json_ json_t *badfs =
        J("{\"type\":\"nosuchfs\",\"device\":\"x\"}");
    struct volume_spec bf = {.name = "badfs", .options = badfs};
    CHECK(volume_create(vs, &bf, &created, &err) != NULL);
    CHECK_INT(volume_mount(vs, "badfs", "c1", false, &err), -1);
    CHECK(strncmp(err.msg, "failed to mount local volume: mount x:", 38) == 0);
    CHECK_INT(volume_remove(vs, "tmp", NULL, &err), 0);
    CHECK_INT(volume_remove(vs, "bnd", NULL, &err), 0);
    CHECK(fs_exists(src));
    volume_store_free(vs);
    fs_remove_tree(dir, &err);
}

/* ---- the CLI ---- */

static const struct cli_cmd *volume_sub(const char *name)
{
    for (const struct cli_cmd *const *s = cli_cmd_volume.subs; *s; s++)
        if (!strcmp((*s)->name, name))
            return *s;
    return NULL;
}

static char *create_body(struct err *err, ...)
{
    char *argv[40];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 40;)
        argv[argc++] = a;
    va_end(ap);
    const struct cli_cmd *c = volume_sub("create");
    struct cli_flags fl;
    char *out = NULL;
    if (cli_flags_parse(&fl, c->flags, c->nflags, argc, argv, true, err) == 0) {
        struct buf b;
        buf_init(&b);
        if (cli_volume_create_body(&fl, fl.nargs ? fl.args[0] : NULL, &b,
                                   err) == 0)
            out = buf_steal(&b);
        buf_fini(&b);
    }
    cli_flags_fini(&fl);
    return out;
}

static void test_cli_create_body(void)
{
    struct err err = {0};
    char *b = create_body(&err, "v1", NULL);
    CHECK_STR(b, "{\"Driver\":\"local\",\"Name\":\"v1\"}");
    free(b);
    b = create_body(&err, "--opt", "type=tmpfs", "-o", "device=tmpfs", "-o",
                    "o=size=100m,uid=1000", "--label", "z=1", "--label", "a",
                    "v2", NULL);
    CHECK_STR(b, "{\"Driver\":\"local\",\"DriverOpts\":{\"device\":\"tmpfs\","
                 "\"o\":\"size=100m,uid=1000\",\"type\":\"tmpfs\"},\"Labels\":"
                 "{\"a\":\"\",\"z\":\"1\"},\"Name\":\"v2\"}");
    free(b);
    b = create_body(&err, NULL);
    CHECK_STR(b, "{\"Driver\":\"local\"}");
    free(b);
    b = create_body(&err, "--name", "n1", NULL);
    CHECK_STR(b, "{\"Driver\":\"local\",\"Name\":\"n1\"}");
    free(b);
    CHECK(create_body(&err, "--name", "n1", "n2", NULL) == NULL);
    CHECK_STR(err.msg, "conflicting options: either specify --name or provide "
                       "positional arg, not both");
    err_clear(&err);
    CHECK(create_body(&err, "--label", "=x", "v", NULL) == NULL);
    CHECK(strstr(err.msg, "invalid label '=x': empty name") != NULL);
}

struct mem_ctx {
    struct cli_ctx ctx;
    char *out, *err;
    size_t olen, elen;
};

static char *ls_out(const json_t *vols, const char *format, bool quiet)
{
    struct mem_ctx m;
    memset(&m, 0, sizeof(m));
    m.ctx.out = open_memstream(&m.out, &m.olen);
    m.ctx.err = open_memstream(&m.err, &m.elen);
    snprintf(m.ctx.path, sizeof(m.ctx.path), "shoal volume ls");
    struct err err = {0};
    int rc = cli_volume_print_list(&m.ctx, vols, format, quiet, &err);
    fclose(m.ctx.out);
    fclose(m.ctx.err);
    CHECK_INT(rc, 0);
    free(m.err);
    return m.out;
}

static void test_cli_ls(void)
{
    _cleanup_json_ json_t *vols =
        J("[{\"Driver\":\"local\",\"Name\":\"web10\",\"Labels\":{\"b\":\"2\","
          "\"a\":\"1\"},\"Scope\":\"local\",\"Mountpoint\":\"/v/web10/_data\"},"
          "{\"Driver\":\"local\",\"Name\":\"web9\",\"Labels\":null,\"Scope\":"
          "\"local\",\"Mountpoint\":\"/v/web9/_data\"}]");
    char *o = ls_out(vols, NULL, false);
    CHECK_STR(o, "DRIVER    VOLUME NAME\n"
                 "local     web9\n"
                 "local     web10\n");
    free(o);
    o = ls_out(vols, NULL, true);
    CHECK_STR(o, "web9\nweb10\n");
    free(o);
    o = ls_out(vols, "{{.Name}}|{{.Labels}}|{{.Links}}|{{.Size}}", false);
    CHECK_STR(o, "web9||N/A|N/A\nweb10|a=1,b=2|N/A|N/A\n");
    free(o);
    o = ls_out(vols, "table {{.Name}}\t{{.Mountpoint}}", false);
    CHECK_STR(o, "VOLUME NAME   MOUNTPOINT\n"
                 "web9          /v/web9/_data\n"
                 "web10         /v/web10/_data\n");
    free(o);
    _cleanup_json_ json_t *none = J("[]");
    o = ls_out(none, NULL, false);
    CHECK_STR(o, "DRIVER    VOLUME NAME\n");
    free(o);
}

int main(void)
{
    RUN(test_names);
    RUN(test_opts_check);
    RUN(test_mount_spec);
    RUN(test_list_filters);
    RUN(test_prune_filters);
    RUN(test_info_json);
    RUN(test_store);
    RUN(test_store_mounts);
    RUN(test_cli_create_body);
    RUN(test_cli_ls);
    HARNESS_END();
}
