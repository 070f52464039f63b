// SPDX-License-Identifier: Apache-2.0
// The local volume store: a directory per volume with its data (_data/)
// and metadata (volume.json, written atomically, last, so its presence
// marks a complete volume), the users of each volume, and the mounts of
// volumes with options. Removal renames the directory away first, so a
// crash never leaves half a volume that looks whole.
#include "volume/volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/du.h"
#include "base/fsutil.h"
#include "base/hmap.h"
#include "base/id.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/buf.h"
#include "base/vec.h"

#define META_FILE    "volume.json"
#define DATA_DIR     "_data"
#define TRASH_PREFIX ".removing-"

struct volume {
    char *name;
    char *driver;
    json_t *labels;  /* object or NULL */
    json_t *options; /* object or NULL */
    int64_t created_ns;
    char *dir;         /* volumes_root/<name> */
    char *path;        /* dir/_data */
    struct vec refs;   /* container ids using it (owned strings) */
    struct vec mounts; /* container ids holding its mount (owned) */
};

struct volume_store {
    char *root;
    struct hmap vols; /* name -> struct volume */
    volume_event_fn on_event;
    void *event_data;
};

/* ---- small helpers ---- */

static void strings_free(struct vec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    vec_fini(v);
}

static ssize_t strings_find(const struct vec *v, const char *s)
{
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i], s) == 0)
            return (ssize_t)i;
    return -1;
}

static bool strings_add(struct vec *v, const char *s)
{
    if (strings_find(v, s) >= 0)
        return false;
    vec_push(v, xstrdup(s));
    return true;
}

static bool strings_del(struct vec *v, const char *s)
{
    ssize_t i = strings_find(v, s);
    if (i < 0)
        return false;
    free(v->items[i]);
    vec_swap_remove(v, (size_t)i);
    return true;
}

static void emit(struct volume_store *vs, const char *action,
                 const struct volume *v, const char *container)
{
    if (vs->on_event)
        vs->on_event(vs->event_data, action, v->name, v->driver, container);
}

/* Is something mounted exactly at path? (statx's mount-root attribute:
 * also right for a bind of a directory of the same filesystem.) */
static bool is_mount_point(const char *path)
{
    struct statx stx;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
        return false;
    return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
           (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static struct volume *volume_new(const struct volume_store *vs,
                                 const char *name)
{
    struct volume *v = xcalloc(1, sizeof(*v));
    v->name = xstrdup(name);
    v->driver = xstrdup(VOLUME_DRIVER_LOCAL);
    v->dir = xasprintf("%s/%s", vs->root, name);
    v->path = xasprintf("%s/%s", v->dir, DATA_DIR);
    vec_init(&v->refs);
    vec_init(&v->mounts);
    return v;
}

static void volume_free(struct volume *v)
{
    if (!v)
        return;
    free(v->name);
    free(v->driver);
    json_decref(v->labels);
    json_decref(v->options);
    free(v->dir);
    free(v->path);
    strings_free(&v->refs);
    strings_free(&v->mounts);
    free(v);
}

static json_t *meta_json(const struct volume *v)
{
    json_t *m = json_object();
    json_object_set_new(m, "Name", json_string(v->name));
    json_object_set_new(m, "Driver", json_string(v->driver));
    json_object_set_new(m, "Labels",
                        v->labels ? jx_copy(v->labels) : json_null());
    json_object_set_new(m, "Options",
                        v->options ? jx_copy(v->options) : json_null());
    json_object_set_new(m, "CreatedAt", json_integer(v->created_ns));
    return m;
}

static int meta_save(const struct volume *v, struct err *err)
{
    _cleanup_json_ json_t *m = meta_json(v);
    _cleanup_free_ char *text = jx_dumps_pretty(m);
    _cleanup_free_ char *path = xasprintf("%s/%s", v->dir, META_FILE);
    if (fs_write_file_atomic(path, text, strlen(text), 0600, err) < 0)
        return err_ctx(err, "save volume \"%s\"", v->name);
    return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A string-valued object, copied with its keys sorted (Go's encoding of a
 * map); NULL for NULL / JSON null. */
static json_t *string_map(const json_t *j)
{
    if (!json_is_object(j))
        return NULL;
    size_t n = json_object_size(j), i = 0;
    const char **keys = xcalloc(n + 1, sizeof(*keys));
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)j, k, val)
    {
        if (json_is_string(val))
            keys[i++] = k;
    }
    qsort(keys, i, sizeof(*keys), cmp_cstr);
    json_t *out = json_object();
    for (size_t x = 0; x < i; x++)
        json_object_set(out, keys[x], json_object_get(j, keys[x]));
    free(keys);
    return out;
}

/* ---- loading ---- */

static int64_t dir_ctime_ns(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return time_now_ns();
    return (int64_t)st.st_ctim.tv_sec * NS_PER_SEC + st.st_ctim.tv_nsec;
}

static void load_one(struct volume_store *vs, const char *name)
{
    struct volume *v = volume_new(vs, name);
    _cleanup_free_ char *meta = xasprintf("%s/%s", v->dir, META_FILE);
    _cleanup_free_ char *text = NULL;
    struct err err = {0};
    if (fs_read_file(meta, &text, NULL, &err) == 0) {
        _cleanup_json_ json_t *m = json_loads(text, 0, NULL);
        if (json_is_object(m)) {
            const char *driver = jx_str(m, "Driver");
            if (driver && *driver) {
                free(v->driver);
                v->driver = xstrdup(driver);
            }
            v->labels = string_map(json_object_get(m, "Labels"));
            v->options = string_map(json_object_get(m, "Options"));
            v->created_ns = jx_int(m, "CreatedAt", 0);
        }
    }
    if (!fs_exists(v->path)) {
        /* A creation interrupted before its data directory: no data to
         * lose, and the name must be free again. */
        err_clear(&err);
        if (fs_remove_tree(v->dir, &err) < 0)
            log_warn("volumes: %s", err.msg);
        volume_free(v);
        return;
    }
    if (!text) {
        /* An older shoal's volume (a bare directory), or a creation
         * interrupted before its metadata: a local volume without
         * options, created when its directory was. */
        v->created_ns = dir_ctime_ns(v->dir);
        err_clear(&err);
        if (meta_save(v, &err) < 0)
            log_warn("volumes: %s", err.msg);
    }
    if (!v->created_ns)
        v->created_ns = dir_ctime_ns(v->dir);
    hmap_put(&vs->vols, v->name, v);
}

static int load(struct volume_store *vs, struct err *err)
{
    DIR *d = opendir(vs->root);
    if (!d)
        return err_sys(err, errno, "open volumes in '%s'", vs->root);
    struct vec names, trash;
    vec_init(&names);
    vec_init(&trash);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX)) == 0)
            vec_push(&trash, xstrdup(e->d_name));
        else if (volume_name_is_valid(e->d_name))
            vec_push(&names, xstrdup(e->d_name));
    }
    closedir(d);
    for (size_t i = 0; i < trash.len; i++) {
        _cleanup_free_ char *p =
            xasprintf("%s/%s", vs->root, (char *)trash.items[i]);
        struct err e2 = {0};
        if (fs_remove_tree(p, &e2) < 0)
            log_warn("volumes: finish removal: %s", e2.msg);
    }
    for (size_t i = 0; i < names.len; i++)
        load_one(vs, names.items[i]);
    strings_free(&names);
    strings_free(&trash);
    return 0;
}

struct volume_store *volume_store_new(const char *root, struct err *err)
{
    if (fs_mkdir_p(root, 0701, err) < 0) {
        err_ctx(err, "create volumes directory");
        return NULL;
    }
    struct volume_store *vs = xcalloc(1, sizeof(*vs));
    vs->root = xstrdup(root);
    hmap_init(&vs->vols);
    if (load(vs, err) < 0) {
        volume_store_free(vs);
        return NULL;
    }
    return vs;
}

void volume_store_free(struct volume_store *vs)
{
    if (!vs)
        return;
    const char *k;
    void *v;
    for (size_t it = 0; hmap_next(&vs->vols, &it, &k, &v);)
        volume_free(v);
    hmap_fini(&vs->vols);
    free(vs->root);
    free(vs);
}

void volume_store_set_events(struct volume_store *vs, volume_event_fn fn,
                             void *data)
{
    vs->on_event = fn;
    vs->event_data = data;
}

const char *volume_store_root(const struct volume_store *vs)
{
    return vs->root;
}

/* ---- queries ---- */

struct volume *volume_get(const struct volume_store *vs, const char *name)
{
    return name ? hmap_get(&vs->vols, name) : NULL;
}

bool volume_next(const struct volume_store *vs, size_t *it, struct volume **out)
{
    const char *k;
    void *v;
    if (!hmap_next(&vs->vols, it, &k, &v))
        return false;
    *out = v;
    return true;
}

void volume_info(const struct volume *v, struct volume_info *out)
{
    *out = (struct volume_info){
        .name = v->name,
        .driver = v->driver,
        .labels = v->labels,
        .options = v->options,
        .refs = v->refs.len,
    };
}

const char *volume_name(const struct volume *v)
{
    return v->name;
}

const char *volume_path(const struct volume *v)
{
    return v->path;
}

char *volume_subpath(const struct volume *v, const char *sub, struct err *err)
{
    if (volume_subpath_check(sub, err) < 0)
        return NULL;
    _cleanup_close_ int root =
        open(v->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
        err_sys(err, errno, "open volume \"%s\"", v->name);
        return NULL;
    }
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
    };
    _cleanup_close_ int fd =
        (int)syscall(SYS_openat2, root, sub, &how, sizeof(how));
    if (fd < 0) {
        err_sys(err, errno, "cannot access path %s/%s", v->path, sub);
        err->code = ERR_INVALID;
        return NULL;
    }
    return xasprintf("%s/%s", v->path, sub);
}

size_t volume_ref_count(const struct volume *v)
{
    return v->refs.len;
}

const char *volume_ref_at(const struct volume *v, size_t i)
{
    return i < v->refs.len ? v->refs.items[i] : NULL;
}

json_t *volume_json(const struct volume *v, bool usage)
{
    struct volume_info vi;
    volume_info(v, &vi);
    json_t *j = volume_info_json(&vi, v->path, v->created_ns, -1);
    if (usage) {
        /* -1: not available, as dockerd says for what it cannot size. */
        int64_t size = fs_du(v->path);
        json_object_set_new(j, "UsageData",
                            json_pack("{s:I, s:I}", "Size",
                                      (json_int_t)(size < 0 ? -1 : size),
                                      "RefCount", (json_int_t)v->refs.len));
    }
    return j;
}

/* ---- create / remove ---- */

static int check_spec(const struct volume_spec *spec, const char *name,
                      struct err *err)
{
    const char *driver = spec->driver;
    if (volume_name_check(name, err) < 0)
        return err_ctx(err, "create %s", name);
    if (driver && *driver && strcmp(driver, VOLUME_DRIVER_LOCAL) != 0)
        return err_set(err, ERR_NOTFOUND,
                       "create %s: error looking up volume plugin %s: plugin "
                       "\"%s\" not found",
                       name, driver, driver);
    if (spec->labels && !json_is_null(spec->labels)) {
        const char *k;
        json_t *val;
        if (!json_is_object(spec->labels))
            return err_set(err, ERR_INVALID,
                           "create %s: labels must be an object", name);
        json_object_foreach((json_t *)spec->labels, k, val)
        {
            if (!json_is_string(val))
                return err_set(err, ERR_INVALID,
                               "create %s: label \"%s\" must be a string", name,
                               k);
        }
    }
    if (volume_opts_check(spec->options, err) < 0)
        return err_ctx(err, "create %s", name);
    const char *device = jx_str(spec->options, "device");
    struct volume_mount_spec ms;
    volume_mount_spec_init(&ms, spec->options);
    bool bind = ms.flags & MS_BIND;
    volume_mount_spec_fini(&ms);
    struct stat st;
    if (bind && device && stat(device, &st) < 0)
        return err_set(err, ERR_INVALID,
                       "create %s: bind source path does not exist: %s", name,
                       device);
    return 0;
}

struct volume *volume_create(struct volume_store *vs,
                             const struct volume_spec *spec, bool *created,
                             struct err *err)
{
    *created = false;
    char anon[ID_HEX_LEN + 1];
    const char *name = spec->name;
    bool anonymous = !name || !*name;
    if (anonymous) {
        id_new_hex(anon);
        name = anon;
    }
    if (check_spec(spec, name, err) < 0)
        return NULL;
    struct volume *v = hmap_get(&vs->vols, name);
    if (v)
        return v; /* dockerd: the existing volume, options as they were */

    v = volume_new(vs, name);
    v->labels = string_map(spec->labels);
    if (anonymous) {
        _cleanup_json_ json_t *l = v->labels ? v->labels : json_object();
        json_object_set_new(l, VOLUME_ANONYMOUS_LABEL, json_string(""));
        v->labels = string_map(l);
    }
    v->options = string_map(spec->options);
    v->created_ns = time_now_ns();
    /* A leftover of an interrupted creation may be there: reuse it. */
    if ((mkdir(v->dir, 0701) < 0 && errno != EEXIST) ||
        (mkdir(v->path, 0755) < 0 && errno != EEXIST)) {
        err_sys(err, errno, "create %s", name);
        struct err e2 = {0};
        fs_remove_tree(v->dir, &e2);
        volume_free(v);
        return NULL;
    }
    if (meta_save(v, err) < 0) {
        struct err e2 = {0};
        fs_remove_tree(v->dir, &e2);
        volume_free(v);
        return NULL;
    }
    hmap_put(&vs->vols, v->name, v);
    *created = true;
    emit(vs, "create", v, NULL);
    return v;
}

static int unmount_path(const char *path, struct err *err)
{
    if (!is_mount_point(path))
        return 0;
    if (umount2(path, 0) < 0 && umount2(path, MNT_DETACH) < 0)
        return err_sys(err, errno, "unmount '%s'", path);
    return 0;
}

int volume_remove(struct volume_store *vs, const char *name, int64_t *size,
                  struct err *err)
{
    if (size)
        *size = 0;
    struct volume *v = volume_get(vs, name);
    if (!v)
        return err_set(err, ERR_NOTFOUND, "get %s: no such volume",
                       name ? name : "");
    if (v->refs.len) {
        struct buf b;
        buf_init(&b);
        for (size_t i = 0; i < v->refs.len; i++)
            buf_printf(&b, "%s%s", i ? ", " : "", (char *)v->refs.items[i]);
        err_set(err, ERR_CONFLICT, "remove %s: volume is in use - [%s]", name,
                b.data);
        buf_fini(&b);
        return -1;
    }
    if (unmount_path(v->path, err) < 0)
        return err_ctx(err, "remove %s", name);
    if (size && !volume_opts_need_mount(v->options)) {
        int64_t du = fs_du(v->path);
        *size = du > 0 ? du : 0;
    }
    /* Out of the way first: a crash from here on leaves only trash. */
    char rnd[ID_HEX_LEN + 1];
    id_new_hex(rnd);
    _cleanup_free_ char *trash =
        xasprintf("%s/%s%.16s-%s", vs->root, TRASH_PREFIX, rnd, name);
    if (rename(v->dir, trash) < 0 && errno != ENOENT)
        return err_sys(err, errno, "remove %s", name);
    hmap_del(&vs->vols, v->name);
    struct err e2 = {0};
    if (fs_remove_tree(trash, &e2) < 0)
        log_warn("volumes: remove %s: %s", name, e2.msg);
    emit(vs, "destroy", v, NULL);
    volume_free(v);
    return 0;
}

/* ---- users and mounts ---- */

void volume_ref(struct volume_store *vs, const char *name, const char *ref)
{
    struct volume *v = volume_get(vs, name);
    if (v && ref)
        strings_add(&v->refs, ref);
}

void volume_unref(struct volume_store *vs, const char *name, const char *ref)
{
    struct volume *v = volume_get(vs, name);
    if (v && ref)
        strings_del(&v->refs, ref);
}

static int do_mount(const struct volume *v, struct err *err)
{
    struct volume_mount_spec ms;
    volume_mount_spec_init(&ms, v->options);
    int r = 0;
    const char *dev = *ms.device ? ms.device : "none";
    if (mount(dev, v->path, ms.fstype, ms.flags & ~(unsigned long)MS_REMOUNT,
              *ms.data ? ms.data : NULL) < 0) {
        r = err_sys(err, errno,
                    "failed to mount local volume: mount %s:%s, data: %s", dev,
                    v->path, ms.data);
    } else if (ms.propagation &&
               mount("", v->path, NULL, ms.propagation, NULL) < 0) {
        r = err_sys(err, errno,
                    "failed to mount local volume: set propagation of %s",
                    v->path);
    } else if ((ms.flags & MS_BIND) && (ms.flags & MS_RDONLY) &&
               mount("", v->path, NULL,
                     MS_REMOUNT | MS_BIND | MS_RDONLY |
                         (ms.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC)),
                     NULL) < 0) {
        /* A bind ignores MS_RDONLY until it is remounted. */
        r = err_sys(err, errno,
                    "failed to mount local volume: remount %s read-only",
                    v->path);
    }
    if (r < 0 && is_mount_point(v->path))
        umount2(v->path, MNT_DETACH);
    volume_mount_spec_fini(&ms);
    return r;
}

int volume_mount(struct volume_store *vs, const char *name, const char *ref,
                 bool quiet, struct err *err)
{
    struct volume *v = volume_get(vs, name);
    if (!v)
        return err_set(err, ERR_NOTFOUND, "get %s: no such volume",
                       name ? name : "");
    if (strings_find(&v->mounts, ref) >= 0)
        return 0;
    if (volume_opts_need_mount(v->options) && !is_mount_point(v->path) &&
        do_mount(v, err) < 0)
        return -1;
    strings_add(&v->mounts, ref);
    if (!quiet)
        emit(vs, "mount", v, ref);
    return 0;
}

void volume_unmount(struct volume_store *vs, const char *name, const char *ref)
{
    struct volume *v = volume_get(vs, name);
    if (!v || !strings_del(&v->mounts, ref))
        return;
    emit(vs, "unmount", v, ref);
    if (v->mounts.len || !volume_opts_need_mount(v->options))
        return;
    struct err err = {0};
    if (unmount_path(v->path, &err) < 0)
        log_warn("volumes: %s", err.msg);
}
