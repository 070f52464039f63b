// SPDX-License-Identifier: Apache-2.0
// The node's containers: creating them (rootfs, volumes, files, config.json,
// metadata), starting them through a detached shim, watching the shim to
// learn the init pid and the exit within milliseconds, stopping, killing,
// releasing runtime resources after exit, removal, re-adoption after a
// shoald restart, and Docker-shaped list/inspect/logs views.
#include "runtime/container.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/hmap.h"
#include "base/id.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/vec.h"
#include "runtime/cgroup.h"
#include "runtime/ctrlog.h"
#include "runtime/mount.h"
#include "runtime/oci.h"
#include "runtime/runc.h"
#include "runtime/shim.h"
#include "volume/volume.h"

#define META_FILE       "config.v2.json"
#define RELEASED_FILE   "released"
#define DEFAULT_LOG_MAX (10 * 1024 * 1024)
/* How often an adopted shim that has not reported its init yet is asked
 * again (only right after a restart that interrupted a start). */
#define ADOPT_POLL_MS        20
#define CAP_SYS_RESOURCE_BIT 24

struct runtime {
    uv_loop_t *loop;
    char *root;
    char *state_root;
    struct volume_store *volumes; /* borrowed */
    char *cgroup_parent;
    char *self_exe;
    int64_t log_max;
    ctr_event_fn on_event;
    void *event_data;
    struct runc runc;
    bool cgroup2;
    int64_t nofile;   /* RLIMIT_NOFILE for containers */
    char *init_path;  /* the init of ContainerSpec.Init, or NULL */
    struct hmap ctrs; /* id -> struct ctr */
    int alive;        /* struct ctr not yet freed */
    bool closing;     /* runtime_free called */
};

struct ctr {
    struct runtime *rt;
    int refs; /* registry, open handles, runtime calls, followers */
    char id[ID_HEX_LEN + 1];
    char *name;
    char *dir;
    json_t *meta;   /* config.v2.json */
    json_t *health; /* State.Health as last set, or NULL */
    struct ctr_status st;
    int stop_signal;

    bool starting;     /* shim running, init not reported yet */
    bool running_sent; /* RUNNING event emitted */
    bool releasing, released;
    bool removing;
    bool removed; /* remove_finish ran */
    bool in_registry;
    ctr_done_fn remove_cb;
    void *remove_data;
    int pending_signal; /* to send once running */
    bool pending_stop;
    int64_t pending_grace;

    int shim_pid;
    uint64_t shim_start;
    int init_pidfd;
    int shim_pidfd;

    uv_process_t proc; /* shims we spawned */
    uv_pipe_t pipe;    /* their stdout */
    uv_poll_t poll;    /* pidfd of adopted shims */
    uv_timer_t kill_timer;
    uv_timer_t adopt_timer;
    uv_timer_t defer_timer;
    bool proc_open, pipe_open, poll_open, timers_open;
    struct buf pipe_buf;
    struct vec follows; /* struct ctr_log_follow */
};

struct ctr_log_follow {
    struct ctr *c;
    struct ctrlog_follow *f;
};

static void ctr_release(struct ctr *c);
static void remove_finish(struct ctr *c);
static void on_defer_timer(uv_timer_t *t);

/* ---- small helpers ---- */

static int sys_pidfd_open(int pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int sys_pidfd_send_signal(int fd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

static bool id_is_valid(const char *id)
{
    if (!id || strlen(id) != ID_HEX_LEN)
        return false;
    for (const char *p = id; *p; p++)
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return false;
    return true;
}

static char *ctr_path(const struct ctr *c, const char *name)
{
    return xasprintf("%s/%s", c->dir, name);
}

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

static const char *state_name(const struct ctr_status *st)
{
    switch (st->state) {
    case CTR_CREATED:
        return "created";
    case CTR_RUNNING:
        return "running";
    case CTR_EXITED:
        return "exited";
    }
    return "unknown";
}

/* ---- lifetime ---- */

static void runtime_destroy(struct runtime *rt)
{
    hmap_fini(&rt->ctrs);
    runc_fini(&rt->runc);
    free(rt->root);
    free(rt->state_root);
    free(rt->cgroup_parent);
    free(rt->self_exe);
    free(rt->init_path);
    free(rt);
}

static void ctr_ref(struct ctr *c)
{
    c->refs++;
}

static void ctr_unref(struct ctr *c)
{
    if (--c->refs > 0)
        return;
    struct runtime *rt = c->rt;
    if (c->init_pidfd >= 0)
        close(c->init_pidfd);
    if (c->shim_pidfd >= 0)
        close(c->shim_pidfd);
    json_decref(c->meta);
    json_decref(c->health);
    buf_fini(&c->pipe_buf);
    vec_fini(&c->follows);
    free(c->name);
    free(c->dir);
    free(c);
    if (--rt->alive == 0 && rt->closing)
        runtime_destroy(rt);
}

static void handle_closed(uv_handle_t *h)
{
    ctr_unref(h->data);
}

static struct ctr *ctr_new(struct runtime *rt, const char *id)
{
    struct ctr *c = xcalloc(1, sizeof(*c));
    c->rt = rt;
    snprintf(c->id, sizeof(c->id), "%s", id);
    c->dir = xasprintf("%s/%s", rt->root, id);
    c->init_pidfd = -1;
    c->shim_pidfd = -1;
    c->stop_signal = SIGTERM;
    buf_init(&c->pipe_buf);
    vec_init(&c->follows);
    uv_timer_init(rt->loop, &c->kill_timer);
    uv_timer_init(rt->loop, &c->adopt_timer);
    uv_timer_init(rt->loop, &c->defer_timer);
    c->kill_timer.data = c->adopt_timer.data = c->defer_timer.data = c;
    c->timers_open = true;
    c->refs = 3; /* the timers */
    rt->alive++;
    return c;
}

static void registry_add(struct ctr *c)
{
    ctr_ref(c);
    c->in_registry = true;
    hmap_put(&c->rt->ctrs, c->id, c);
}

static void close_handle(uv_handle_t *h, bool *open)
{
    if (!*open)
        return;
    *open = false;
    uv_close(h, handle_closed);
}

/* Stops watching: closes every handle (the processes live on). */
static void ctr_close_handles(struct ctr *c)
{
    if (c->poll_open) {
        close_handle((uv_handle_t *)&c->poll, &c->poll_open);
    }
    close_handle((uv_handle_t *)&c->proc, &c->proc_open);
    close_handle((uv_handle_t *)&c->pipe, &c->pipe_open);
    if (c->timers_open) {
        c->timers_open = false;
        uv_close((uv_handle_t *)&c->kill_timer, handle_closed);
        uv_close((uv_handle_t *)&c->adopt_timer, handle_closed);
        uv_close((uv_handle_t *)&c->defer_timer, handle_closed);
    }
}

/* Drops the container from the registry and stops watching it. */
static void ctr_drop(struct ctr *c)
{
    if (c->in_registry) {
        c->in_registry = false;
        hmap_del(&c->rt->ctrs, c->id);
        ctr_close_handles(c);
        ctr_unref(c);
    }
}

static struct ctr *ctr_find(struct runtime *rt, const char *id_or_name)
{
    const char *id = ctr_lookup(rt, id_or_name);
    return id ? hmap_get(&rt->ctrs, id) : NULL;
}

static int no_such(struct err *err, const char *id)
{
    return err_set(err, ERR_NOTFOUND, "No such container: %s", id);
}

static void emit(struct ctr *c)
{
    struct runtime *rt = c->rt;
    if (rt->closing || !rt->on_event)
        return;
    struct ctr_status st = c->st;
    rt->on_event(rt->event_data, c->id, &st);
}

/* ---- metadata ---- */

static int meta_save(struct ctr *c, struct err *err)
{
    _cleanup_free_ char *path = ctr_path(c, META_FILE);
    _cleanup_free_ char *text = jx_dumps(c->meta);
    return fs_write_file_atomic(path, text, strlen(text), 0600, err);
}

/* Fills name, status and stop signal from the loaded metadata. */
static void ctr_apply_meta(struct ctr *c)
{
    free(c->name);
    c->name =
        xstrdup(jx_str(c->meta, "Name") ? jx_str(c->meta, "Name") : c->id);
    c->st.created_at = jx_int(c->meta, "Created", 0);
    c->stop_signal = (int)jx_int(c->meta, "StopSignal", SIGTERM);
}

/* ---- runtime ---- */

/* Docker's containers get RLIMIT_NOFILE 1048576. Raising a hard limit
 * takes CAP_SYS_RESOURCE (the shim then raises its own, which the
 * container inherits); without it, runc could only fail, so the default
 * is capped at what we have. */
static int64_t default_nofile(void)
{
    _cleanup_free_ char *status = NULL;
    struct err err = {0};
    unsigned long long eff = 0;
    if (fs_read_file("/proc/self/status", &status, NULL, &err) == 0) {
        const char *p = strstr(status, "CapEff:");
        if (p)
            eff = strtoull(p + 7, NULL, 16);
    }
    struct rlimit rl;
    if ((eff & (1ULL << CAP_SYS_RESOURCE_BIT)) ||
        getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max == RLIM_INFINITY ||
        rl.rlim_max >= OCI_NOFILE_DEFAULT)
        return OCI_NOFILE_DEFAULT;
    return (int64_t)rl.rlim_max;
}

/* The init for --init: a static one, since it runs inside any image. */
static char *find_init(const char *configured)
{
    if (configured && *configured)
        return access(configured, X_OK) == 0 ? xstrdup(configured) : NULL;
    static const char *const candidates[] = {"/usr/bin/tini-static",
                                             "/usr/bin/docker-init"};
    for (size_t i = 0; i < ARRAY_SIZE(candidates); i++)
        if (access(candidates[i], X_OK) == 0)
            return xstrdup(candidates[i]);
    return runc_find_in_path("tini-static");
}

struct runtime *runtime_new(const struct runtime_config *cfg, struct err *err)
{
    if (!cfg->loop || !cfg->root || !cfg->state_root || !cfg->volumes ||
        !cfg->self_exe) {
        err_set(err, ERR_INVALID,
                "runtime: loop, root, state_root, volumes and self_exe "
                "are required");
        return NULL;
    }
    const char *parent = cfg->cgroup_parent && *cfg->cgroup_parent
                             ? cfg->cgroup_parent
                             : "shoal";
    if (strchr(parent, '/') || strcmp(parent, "..") == 0) {
        err_set(err, ERR_INVALID, "runtime: invalid cgroup parent \"%s\"",
                parent);
        return NULL;
    }
    const char *dirs[] = {cfg->root, cfg->state_root};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        if (fs_mkdir_p(dirs[i], 0700, err) < 0) {
            err_ctx(err, "runtime");
            return NULL;
        }
    }
    struct runtime *rt = xcalloc(1, sizeof(*rt));
    if (runc_init(&rt->runc, cfg->runtime, cfg->state_root, err) < 0) {
        free(rt);
        return NULL;
    }
    rt->loop = cfg->loop;
    rt->root = xstrdup(cfg->root);
    rt->state_root = xstrdup(cfg->state_root);
    rt->volumes = cfg->volumes;
    rt->cgroup_parent = xstrdup(parent);
    rt->self_exe = xstrdup(cfg->self_exe);
    rt->log_max = cfg->log_max_size > 0 ? cfg->log_max_size : DEFAULT_LOG_MAX;
    rt->on_event = cfg->on_event;
    rt->event_data = cfg->event_data;
    rt->cgroup2 = cgroup_is_unified();
    rt->nofile = default_nofile();
    rt->init_path = find_init(cfg->init_path);
    hmap_init(&rt->ctrs);
    log_info("runtime: %s (%s), state in %s", rt->runc.name, rt->runc.version,
             rt->state_root);
    return rt;
}

void runtime_free(struct runtime *rt)
{
    if (!rt)
        return;
    rt->closing = true;
    /* Collect first: ctr_drop edits the map. */
    struct vec all;
    vec_init(&all);
    const char *key;
    void *val;
    for (size_t it = 0; hmap_next(&rt->ctrs, &it, &key, &val);)
        vec_push(&all, val);
    for (size_t i = 0; i < all.len; i++)
        ctr_drop(all.items[i]);
    vec_fini(&all);
    if (rt->alive == 0)
        runtime_destroy(rt);
}

const char *runtime_name(const struct runtime *rt)
{
    return rt->runc.name;
}

void runtime_get_info(const struct runtime *rt, struct runtime_info *out)
{
    out->runtime_path = rt->runc.path;
    out->state_root = rt->state_root;
    out->cgroup_parent = rt->cgroup_parent;
    out->cgroup2 = rt->cgroup2;
    out->nofile = rt->nofile;
}

const char *runtime_version(const struct runtime *rt)
{
    return rt->runc.version;
}

/* ---- create ---- */

static char *default_hosts(const char *hostname)
{
    return xasprintf("127.0.0.1\tlocalhost\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "fe00::0\tip6-localnet\n"
                     "ff00::0\tip6-mcastprefix\n"
                     "ff02::1\tip6-allnodes\n"
                     "ff02::2\tip6-allrouters\n"
                     "127.0.1.1\t%s\n",
                     hostname);
}

/* The host's resolv.conf without loopback name servers (unreachable from
 * the container's namespace), falling back to public ones like Docker. */
static char *default_resolv_conf(void)
{
    _cleanup_free_ char *host = NULL;
    struct err err = {0};
    struct buf out;
    buf_init(&out);
    bool have_ns = false;
    if (fs_read_file("/etc/resolv.conf", &host, NULL, &err) == 0) {
        char *save = NULL;
        for (char *line = strtok_r(host, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            char addr[64] = "";
            if (sscanf(line, " nameserver %63s", addr) == 1) {
                if (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0)
                    continue;
                have_ns = true;
            }
            buf_printf(&out, "%s\n", line);
        }
    }
    if (!have_ns)
        buf_puts(&out, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    return buf_steal(&out);
}

static int write_file(const char *dir, const char *name, const char *text,
                      struct err *err)
{
    /* No fsync: a container is re-created, never recovered, from these
     * (hostname, hosts, resolv.conf, the bundle); only its metadata, the
     * mark of a complete container, is synced. */
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
    return fs_write_file_replace(path, text, strlen(text), 0644, err);
}

static json_t *mount_point_json(const struct oci_mount *m, const char *name)
{
    json_t *j = json_object();
    const char *type = m->type == OCI_MOUNT_BIND     ? "bind"
                       : m->type == OCI_MOUNT_VOLUME ? "volume"
                                                     : "tmpfs";
    json_object_set_new(j, "Type", json_string(type));
    if (name)
        json_object_set_new(j, "Name", json_string(name));
    json_object_set_new(j, "Source",
                        json_string(m->host_path ? m->host_path : ""));
    json_object_set_new(j, "Destination", json_string(m->target));
    if (m->type == OCI_MOUNT_VOLUME)
        json_object_set_new(j, "Driver", json_string("local"));
    json_object_set_new(j, "Mode", json_string(""));
    json_object_set_new(j, "RW", json_boolean(!m->readonly));
    json_object_set_new(j, "Propagation",
                        json_string(m->propagation ? m->propagation : ""));
    return j;
}

struct create_ctx {
    const char *id;
    char *dir;
    char *rootfs;
    bool mounted;
    struct vec new_volumes;  /* names created by this call (owned) */
    struct vec used_volumes; /* names referenced and mounted (owned) */
};

static void create_rollback(struct runtime *rt, struct create_ctx *x)
{
    struct err err = {0};
    if (x->mounted && rootfs_umount(x->rootfs, &err) < 0)
        log_warn("create rollback: %s", err.msg);
    for (size_t i = 0; i < x->used_volumes.len; i++) {
        volume_unmount(rt->volumes, x->used_volumes.items[i], x->id);
        volume_unref(rt->volumes, x->used_volumes.items[i], x->id);
    }
    for (size_t i = 0; i < x->new_volumes.len; i++) {
        err_clear(&err);
        if (volume_remove(rt->volumes, x->new_volumes.items[i], NULL, &err) < 0)
            log_warn("create rollback: %s", err.msg);
    }
    if (x->dir) {
        err_clear(&err);
        if (fs_remove_tree(x->dir, &err) < 0)
            log_warn("create rollback: %s", err.msg);
    }
}

static void create_ctx_fini(struct create_ctx *x)
{
    for (size_t i = 0; i < x->new_volumes.len; i++)
        free(x->new_volumes.items[i]);
    vec_fini(&x->new_volumes);
    for (size_t i = 0; i < x->used_volumes.len; i++)
        free(x->used_volumes.items[i]);
    vec_fini(&x->used_volumes);
    free(x->dir);
    free(x->rootfs);
}

/* Docker's copy-up into a volume that is still empty: the image's content
 * at the mount's target, opened inside the rootfs. */
static int copy_up(const char *rootfs, const struct oci_mount *m,
                   struct err *err)
{
    _cleanup_close_ int rootfd =
        open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return err_sys(err, errno, "copy image content: open rootfs");
    _cleanup_close_ int src =
        rootfs_open(rootfd, m->target, O_RDONLY | O_DIRECTORY);
    if (src < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0; /* nothing there in the image */
        return err_sys(err, errno, "copy image content: open '%s'", m->target);
    }
    if (volume_copy_up(src, m->host_path, err) < 0)
        return err_ctx(err, "volume for '%s'", m->target);
    return 0;
}

/* One volume mount: the volume (created on first use with the mount's
 * VolumeOptions labels and driver options), this container as its user,
 * mounted if it has options, filled from the image while empty. */
static int use_volume(struct runtime *rt, struct create_ctx *x,
                      struct oci_mount *m, const char *name, bool anonymous,
                      struct err *err)
{
    const json_t *vo = m->volume_options;
    struct volume_spec vspec = {
        .name = name,
        .driver = jx_path_str(vo, "DriverConfig.Name"),
        .labels = json_object_get(vo, "Labels"),
        .options = jx_path(vo, "DriverConfig.Options"),
    };
    /* The runtime names anonymous volumes itself (the container's metadata
     * records them, for removal with it); they carry dockerd's label. */
    _cleanup_json_ json_t *labels = NULL;
    if (anonymous) {
        labels = json_is_object(vspec.labels) ? jx_copy(vspec.labels)
                                              : json_object();
        json_object_set_new(labels, VOLUME_ANONYMOUS_LABEL, json_string(""));
        vspec.labels = labels;
    }
    bool created = false;
    struct volume *v = volume_create(rt->volumes, &vspec, &created, err);
    if (!v)
        return -1;
    if (created)
        vec_push(&x->new_volumes, xstrdup(name));
    volume_ref(rt->volumes, name, x->id);
    if (volume_mount(rt->volumes, name, x->id, false, err) < 0) {
        volume_unref(rt->volumes, name, x->id);
        return -1;
    }
    vec_push(&x->used_volumes, xstrdup(name));
    free(m->host_path);
    const char *sub = jx_str(vo, "Subpath");
    if (sub && *sub) {
        /* Part of the volume: no copy-up (its content is the volume's). */
        m->host_path = volume_subpath(v, sub, err);
        return m->host_path ? 0
                            : err_ctx(err, "invalid mount config for "
                                           "type \"volume\"");
    }
    m->host_path = xstrdup(volume_path(v));
    if (!m->nocopy && copy_up(x->rootfs, m, err) < 0)
        return -1;
    return 0;
}

/* Resolves volume mounts to directories (creating and filling new ones)
 * and records them for inspect; anonymous volume names go to anon. */
static int create_volumes(struct runtime *rt, struct create_ctx *x,
                          struct oci_mounts *mounts, json_t *points,
                          json_t *anon, struct err *err)
{
    for (size_t i = 0; i < mounts->n; i++) {
        struct oci_mount *m = &mounts->v[i];
        const char *name = NULL;
        char anon_name[ID_HEX_LEN + 1];
        if (m->type == OCI_MOUNT_VOLUME) {
            name = m->source;
            bool anonymous = !*name;
            if (anonymous) {
                id_new_hex(anon_name);
                name = anon_name;
                json_array_append_new(anon, json_string(name));
            }
            if (use_volume(rt, x, m, name, anonymous, err) < 0)
                return -1;
        }
        json_array_append_new(points, mount_point_json(m, name));
    }
    return 0;
}

/* Everything of ctr_create after the container directory exists; on
 * failure the caller rolls back what x records. */
static int create_in_dir(struct runtime *rt, const struct ctr_config *cfg,
                         const struct image_ref *img, const json_t *imgcfg,
                         const char *name, int stop_signal,
                         struct create_ctx *x, struct oci_mounts *mounts,
                         struct err *err)
{
    const json_t *spec = cfg->spec;
    const char *dir = x->dir;
    _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
    _cleanup_free_ char *work = xasprintf("%s/work", dir);
    _cleanup_free_ char *bundle = xasprintf("%s/bundle", dir);
    if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 ||
        mkdir(x->rootfs, 0755) < 0 || mkdir(bundle, 0700) < 0)
        return err_sys(err, errno, "create container directories in '%s'", dir);

    /* Layers: an image without any still needs a lower directory. */
    char *const *layers = img ? img->layer_dirs : NULL;
    size_t n_layers = img ? img->n_layers : 0;
    _cleanup_free_ char *empty = xasprintf("%s/empty", dir);
    char *one[1] = {empty};
    if (n_layers == 0) {
        if (mkdir(empty, 0755) < 0)
            return err_sys(err, errno, "create '%s'", empty);
        layers = one;
        n_layers = 1;
    }
    if (rootfs_mount(layers, n_layers, upper, work, x->rootfs, err) < 0)
        return -1;
    x->mounted = true;

    _cleanup_free_ char *passwd = NULL;
    _cleanup_free_ char *group = NULL;
    if (rootfs_read_file(x->rootfs, "/etc/passwd", &passwd) < 0 &&
        errno != ENOENT)
        log_warn("container %.12s: read /etc/passwd: %s", cfg->id,
                 strerror(errno));
    if (rootfs_read_file(x->rootfs, "/etc/group", &group) < 0 &&
        errno != ENOENT)
        log_warn("container %.12s: read /etc/group: %s", cfg->id,
                 strerror(errno));

    _cleanup_json_ json_t *points = json_array();
    _cleanup_json_ json_t *anon = json_array();
    if (create_volumes(rt, x, mounts, points, anon, err) < 0)
        return -1;

    char hostname[256];
    const char *h = cfg->hostname;
    if (!h || !*h)
        h = spec ? jx_str(spec, "Hostname") : NULL;
    if (h && *h)
        snprintf(hostname, sizeof(hostname), "%s", h);
    else
        snprintf(hostname, sizeof(hostname), "%.12s", cfg->id);
    _cleanup_free_ char *hostname_line = xasprintf("%s\n", hostname);
    _cleanup_free_ char *hosts =
        cfg->hosts ? xstrdup(cfg->hosts) : default_hosts(hostname);
    _cleanup_free_ char *resolv =
        cfg->resolv_conf ? xstrdup(cfg->resolv_conf) : default_resolv_conf();
    if (write_file(dir, "hostname", hostname_line, err) < 0 ||
        write_file(dir, "hosts", hosts, err) < 0 ||
        write_file(dir, "resolv.conf", resolv, err) < 0)
        return -1;

    _cleanup_free_ char *hostname_path = xasprintf("%s/hostname", dir);
    _cleanup_free_ char *hosts_path = xasprintf("%s/hosts", dir);
    _cleanup_free_ char *resolv_path = xasprintf("%s/resolv.conf", dir);
    _cleanup_free_ char *cgpath = cgroup_path(rt->cgroup_parent, cfg->id);
    struct oci_input in = {
        .image_config = imgcfg,
        .spec = spec,
        .resources = cfg->resources,
        .hostname = hostname,
        .rootfs = x->rootfs,
        .netns = cfg->netns,
        .cgroups_path = cgpath,
        .hostname_path = hostname_path,
        .hosts_path = hosts_path,
        .resolv_path = resolv_path,
        .passwd = passwd,
        .group = group,
        .mounts = mounts,
        .cgroup2 = rt->cgroup2,
        .nofile = rt->nofile,
        .init_path = rt->init_path,
    };
    _cleanup_json_ json_t *ocispec = oci_spec_build(&in, err);
    if (!ocispec)
        return -1;
    _cleanup_free_ char *ocitext = jx_dumps_pretty(ocispec);
    if (write_file(bundle, "config.json", ocitext, err) < 0)
        return -1;

    /* The metadata is written last: its presence marks a complete
     * container for runtime_restore. */
    json_t *m = json_object();
    json_object_set_new(m, "Id", json_string(cfg->id));
    json_object_set_new(m, "Name", json_string(name));
    json_object_set_new(m, "Created", json_integer(time_now_ns()));
    json_object_set_new(m, "Labels",
                        cfg->labels ? jx_copy(cfg->labels) : json_object());
    json_object_set_new(m, "Spec", spec ? jx_copy(spec) : json_object());
    json_object_set_new(m, "Resources",
                        cfg->resources ? jx_copy(cfg->resources) : json_null());
    json_object_set_new(m, "ImageID",
                        json_string(img && img->id ? img->id : ""));
    json_object_set_new(m, "ImageName",
                        json_string(img && img->name ? img->name : ""));
    json_object_set_new(m, "ImageConfig",
                        imgcfg ? jx_copy(imgcfg) : json_object());
    json_t *ld = json_array();
    for (size_t i = 0; i < n_layers; i++)
        json_array_append_new(ld, json_string(layers[i]));
    json_object_set_new(m, "LayerDirs", ld);
    json_object_set_new(m, "Hostname", json_string(hostname));
    json_object_set_new(m, "Netns",
                        cfg->netns ? json_string(cfg->netns) : json_null());
    json_object_set_new(m, "StopSignal", json_integer(stop_signal));
    json_object_set(m, "Args", jx_path(ocispec, "process.args"));
    json_object_set(m, "Env", jx_path(ocispec, "process.env"));
    json_object_set(m, "WorkingDir", jx_path(ocispec, "process.cwd"));
    json_t *ep = NULL, *cmd = NULL;
    oci_merge_command(imgcfg, spec, &ep, &cmd);
    json_object_set_new(m, "Entrypoint", ep ? ep : json_null());
    json_object_set_new(m, "Cmd", cmd ? cmd : json_null());
    const char *user = spec ? jx_str(spec, "User") : NULL;
    if (!user || !*user)
        user = imgcfg ? jx_str(imgcfg, "User") : NULL;
    json_object_set_new(m, "User", json_string(user ? user : ""));
    json_object_set(m, "Mounts", points);
    json_object_set(m, "AnonymousVolumes", anon);
    json_object_set_new(m, "CgroupParent", json_string(rt->cgroup_parent));

    struct ctr *c = ctr_new(rt, cfg->id);
    c->meta = m;
    if (meta_save(c, err) < 0) {
        ctr_close_handles(c); /* frees c once the timers are closed */
        return -1;
    }
    ctr_apply_meta(c);
    c->st.state = CTR_CREATED;
    registry_add(c);
    return 0;
}

int ctr_create(struct runtime *rt, const struct ctr_config *cfg,
               const struct image_ref *img, struct err *err)
{
    if (!id_is_valid(cfg->id))
        return err_set(err, ERR_INVALID, "invalid container id \"%s\"",
                       cfg->id ? cfg->id : "");
    if (hmap_get(&rt->ctrs, cfg->id))
        return err_set(err, ERR_CONFLICT, "container %s already exists",
                       cfg->id);
    const char *name = cfg->name && *cfg->name ? cfg->name : cfg->id;
    if (name[0] == '/')
        name++;
    const char *key;
    void *val;
    for (size_t it = 0; hmap_next(&rt->ctrs, &it, &key, &val);) {
        struct ctr *o = val;
        if (strcmp(o->name, name) == 0)
            return err_set(err, ERR_CONFLICT,
                           "Conflict. The container name \"/%s\" is already "
                           "in use by container \"%s\". You have to remove "
                           "(or rename) that container to be able to reuse "
                           "that name.",
                           name, o->id);
    }
    const json_t *spec = cfg->spec;
    if (spec && !json_is_object(spec))
        return err_set(err, ERR_INVALID, "invalid container spec");
    if (cfg->labels && !json_is_object(cfg->labels))
        return err_set(err, ERR_INVALID, "invalid labels");
    const json_t *imgcfg =
        img && json_is_object(img->config) ? img->config : NULL;
    int stop_signal = oci_stop_signal(imgcfg, spec, err);
    if (stop_signal < 0)
        return -1;
    if (cfg->netns && !fs_exists(cfg->netns))
        return err_set(err, ERR_INVALID,
                       "network namespace '%s' does not exist", cfg->netns);

    struct oci_mounts mounts;
    if (oci_mounts_parse(spec ? json_object_get(spec, "Mounts") : NULL, &mounts,
                         err) < 0)
        return -1;
    if (oci_mounts_check_sources(&mounts, err) < 0) {
        oci_mounts_fini(&mounts);
        return -1;
    }
    struct create_ctx x = {.id = cfg->id};
    vec_init(&x.new_volumes);
    vec_init(&x.used_volumes);
    int r = -1;
    _cleanup_free_ char *dir = xasprintf("%s/%s", rt->root, cfg->id);
    if (mkdir(dir, 0700) < 0) {
        if (errno == EEXIST)
            err_set(err, ERR_CONFLICT, "container %s already exists", cfg->id);
        else
            err_sys(err, errno, "create container directory '%s'", dir);
    } else {
        x.dir = xstrdup(dir);
        x.rootfs = xasprintf("%s/rootfs", dir);
        r = create_in_dir(rt, cfg, img, imgcfg, name, stop_signal, &x, &mounts,
                          err);
        if (r < 0) {
            create_rollback(rt, &x);
            /* Bad input reads best as it is; our failures get context. */
            if (err && err->code != ERR_INVALID)
                err_ctx(err, "create container %.12s", cfg->id);
        }
    }
    create_ctx_fini(&x);
    oci_mounts_fini(&mounts);
    return r;
}

/* ---- signals and stop ---- */

/* Signals go through the init's pidfd, opened while the process was known
 * to be the container's init: a recycled pid can never be hit. Without one
 * the init is already gone. */
static int signal_init(struct ctr *c, int signo, struct err *err)
{
    if (c->init_pidfd < 0)
        return 0;
    if (sys_pidfd_send_signal(c->init_pidfd, signo) < 0 && errno != ESRCH)
        return err_sys(err, errno, "signal container %.12s", c->id);
    return 0;
}

static void on_kill_timer(uv_timer_t *t)
{
    struct ctr *c = t->data;
    if (c->st.state != CTR_RUNNING)
        return;
    struct err err = {0};
    log_info("container %.12s: still running after the grace period, "
             "killing it",
             c->id);
    if (signal_init(c, SIGKILL, &err) < 0)
        log_warn("%s", err.msg);
}

static void start_stop(struct ctr *c, int signo, int64_t grace_ns)
{
    struct err err = {0};
    if (signal_init(c, signo, &err) < 0)
        log_warn("%s", err.msg);
    if (signo != SIGKILL) {
        uint64_t ms = grace_ns > 0 ? (uint64_t)(grace_ns / NS_PER_MS) : 0;
        uv_timer_start(&c->kill_timer, on_kill_timer, ms, 0);
    }
}

/* ---- running / exited ---- */

static void follows_finish(struct ctr *c)
{
    for (size_t i = 0; i < c->follows.len; i++) {
        struct ctr_log_follow *f = c->follows.items[i];
        ctrlog_follow_finish(f->f);
    }
}

static void ctr_on_started(struct ctr *c, int pid, uint64_t init_start,
                           int64_t started_at)
{
    if (c->st.state != CTR_CREATED || pid <= 0)
        return;
    c->starting = false;
    c->st.state = CTR_RUNNING;
    c->st.pid = pid;
    c->st.started_at = started_at;
    uv_timer_stop(&c->adopt_timer);
    /* A pidfd pins the process; the start time (checked after opening it)
     * proves it is still the init the shim saw. */
    int fd = init_start ? sys_pidfd_open(pid) : -1;
    if (fd >= 0 && proc_start_time(pid) == init_start)
        c->init_pidfd = fd;
    else if (fd >= 0)
        close(fd);
    c->running_sent = true;
    emit(c);
    if (c->st.state != CTR_RUNNING)
        return;
    if (c->pending_stop) {
        c->pending_stop = false;
        start_stop(c, c->pending_signal, c->pending_grace);
    } else if (c->pending_signal) {
        struct err err = {0};
        if (signal_init(c, c->pending_signal, &err) < 0)
            log_warn("%s", err.msg);
    }
    c->pending_signal = 0;
}

/* Called once the shim is gone: its exit file tells how it ended. */
static void ctr_on_shim_exit(struct ctr *c)
{
    if (c->st.state == CTR_EXITED)
        return;
    struct shim_exit ex;
    bool have = shim_exit_read(c->dir, &ex) == 0;
    if (have && ex.pid > 0 && !c->running_sent) {
        /* The exit overtook the "started" line: report both, in order. */
        ctr_on_started(c, ex.pid, 0, ex.started_at);
        if (c->st.state == CTR_EXITED)
            return;
    }
    c->starting = false;
    c->pending_stop = false;
    c->pending_signal = 0;
    uv_timer_stop(&c->kill_timer);
    uv_timer_stop(&c->adopt_timer);
    if (c->init_pidfd >= 0) {
        close(c->init_pidfd);
        c->init_pidfd = -1;
    }
    close_handle((uv_handle_t *)&c->poll, &c->poll_open);
    c->st.state = CTR_EXITED;
    c->st.pid = 0;
    if (have) {
        c->st.exit_code = ex.exit_code;
        c->st.oom_killed = ex.oom_killed;
        c->st.finished_at = ex.finished_at;
        if (ex.started_at)
            c->st.started_at = ex.started_at;
        snprintf(c->st.error, sizeof(c->st.error), "%s", ex.error);
    } else {
        c->st.exit_code = 255;
        c->st.finished_at = time_now_ns();
        snprintf(c->st.error, sizeof(c->st.error),
                 "container shim exited unexpectedly");
    }
    follows_finish(c);
    ctr_ref(c);
    ctr_release(c);
    emit(c);
    ctr_unref(c);
}

static void on_shim_exit(uv_process_t *p, int64_t status, int signo)
{
    struct ctr *c = p->data;
    if (status != 0 || signo != 0)
        log_warn("container %.12s: shim exited with status %lld signal %d",
                 c->id, (long long)status, signo);
    close_handle((uv_handle_t *)&c->proc, &c->proc_open);
    if (!c->rt->closing)
        ctr_on_shim_exit(c);
}

static void on_shim_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    struct ctr *c = h->data;
    close_handle((uv_handle_t *)&c->poll, &c->poll_open);
    if (!c->rt->closing)
        ctr_on_shim_exit(c);
}

static void pipe_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    b->base = xmalloc(256);
    b->len = 256;
}

static void pipe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct ctr *c = s->data;
    if (n > 0 && c->pipe_buf.len < 4096)
        buf_append(&c->pipe_buf, b->base, (size_t)n);
    free(b->base);
    if (n < 0) {
        close_handle((uv_handle_t *)&c->pipe, &c->pipe_open);
        return;
    }
    char *nl;
    while (c->pipe_buf.len &&
           (nl = memchr(c->pipe_buf.data, '\n', c->pipe_buf.len))) {
        *nl = '\0';
        int pid = 0;
        unsigned long long start = 0;
        long long at = 0;
        if (sscanf(c->pipe_buf.data, "started %d %llu %lld", &pid, &start,
                   &at) == 3)
            ctr_on_started(c, pid, start, at);
        buf_consume(&c->pipe_buf, (size_t)(nl - c->pipe_buf.data) + 1);
    }
}

static void remove_stale(struct ctr *c)
{
    const char *names[] = {SHIM_EXIT_FILE, SHIM_PID_FILE, SHIM_STATE_FILE,
                           RELEASED_FILE};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        _cleanup_free_ char *p = ctr_path(c, names[i]);
        unlink(p);
    }
}

/* ---- the container's named volumes (its metadata's Mounts) ---- */

static const char *mount_volume_name(const json_t *m)
{
    if (strcmp(jx_str0(m, "Type"), "volume") != 0)
        return NULL;
    const char *name = jx_str(m, "Name");
    return name && *name ? name : NULL;
}

static void volumes_ref(struct ctr *c)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(c->meta, "Mounts"), i, m)
    {
        const char *name = mount_volume_name(m);
        if (name)
            volume_ref(c->rt->volumes, name, c->id);
    }
}

static void volumes_unref(struct ctr *c)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(c->meta, "Mounts"), i, m)
    {
        const char *name = mount_volume_name(m);
        if (name)
            volume_unref(c->rt->volumes, name, c->id);
    }
}

/* Volumes with options mounted (again after a reboot); quiet when
 * re-adopting what was already in use. */
static int volumes_mount(struct ctr *c, bool quiet, struct err *err)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(c->meta, "Mounts"), i, m)
    {
        const char *name = mount_volume_name(m);
        if (name && volume_mount(c->rt->volumes, name, c->id, quiet, err) < 0)
            return -1;
    }
    return 0;
}

static void volumes_unmount(struct ctr *c)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(c->meta, "Mounts"), i, m)
    {
        const char *name = mount_volume_name(m);
        if (name)
            volume_unmount(c->rt->volumes, name, c->id);
    }
}

static int ensure_mounted(struct ctr *c, struct err *err)
{
    if (volumes_mount(c, true, err) < 0)
        return -1;
    _cleanup_free_ char *rootfs = ctr_path(c, "rootfs");
    if (rootfs_is_mounted(rootfs))
        return 0;
    /* After a reboot (or a release): mount again from the metadata. */
    json_t *ld = json_object_get(c->meta, "LayerDirs");
    size_t n = json_array_size(ld);
    if (n == 0)
        return err_set(err, ERR_INTERNAL, "no layers recorded");
    char **layers = xcalloc(n, sizeof(*layers));
    for (size_t i = 0; i < n; i++)
        layers[i] = (char *)json_string_value(json_array_get(ld, i));
    _cleanup_free_ char *upper = ctr_path(c, "upper");
    _cleanup_free_ char *work = ctr_path(c, "work");
    int r = rootfs_mount(layers, n, upper, work, rootfs, err);
    free(layers);
    return r;
}

int ctr_start(struct runtime *rt, const char *id, struct err *err)
{
    struct ctr *c = ctr_find(rt, id);
    if (!c)
        return no_such(err, id);
    if (c->removing)
        return err_set(err, ERR_CONFLICT, "container %.12s is being removed",
                       c->id);
    if (c->st.state == CTR_RUNNING || c->starting)
        return err_set(err, ERR_CONFLICT,
                       "container %.12s is already "
                       "running",
                       c->id);
    if (c->st.state == CTR_EXITED)
        return err_set(err, ERR_CONFLICT,
                       "container %.12s has exited and cannot be started "
                       "again",
                       c->id);
    if (ensure_mounted(c, err) < 0)
        return err_ctx(err, "start container %.12s", c->id);
    remove_stale(c);

    _cleanup_free_ char *bundle = ctr_path(c, "bundle");
    _cleanup_free_ char *oom = cgroup_oom_file(rt->cgroup_parent, c->id);
    struct shim_args a = {
        .id = c->id,
        .dir = c->dir,
        .bundle = bundle,
        .runtime = rt->runc.path,
        .state_root = rt->state_root,
        .oom_file = oom,
        .log_max = rt->log_max,
    };
    char **argv = shim_argv(rt->self_exe, &a);
    uv_pipe_init(rt->loop, &c->pipe, 0);
    c->pipe.data = c;
    c->pipe_open = true;
    ctr_ref(c);
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
         .data.stream = (uv_stream_t *)&c->pipe},
        {.flags = UV_IGNORE},
    };
    uv_process_options_t opts = {
        .exit_cb = on_shim_exit,
        .file = argv[0],
        .args = argv,
        .stdio_count = 3,
        .stdio = stdio,
        /* Its own session: the shim and the container outlive shoald. */
        .flags = UV_PROCESS_DETACHED,
    };
    c->proc.data = c;
    int r = uv_spawn(rt->loop, &c->proc, &opts);
    runc_argv_free(argv);
    c->proc_open = true;
    ctr_ref(c);
    if (r < 0) {
        close_handle((uv_handle_t *)&c->proc, &c->proc_open);
        close_handle((uv_handle_t *)&c->pipe, &c->pipe_open);
        return err_set(err, ERR_INTERNAL,
                       "start container %.12s: spawn shim %s: %s", c->id,
                       rt->self_exe, uv_strerror(r));
    }
    c->starting = true;
    c->running_sent = false;
    c->shim_pid = c->proc.pid;
    c->shim_start = proc_start_time(c->shim_pid);
    buf_reset(&c->pipe_buf);
    uv_read_start((uv_stream_t *)&c->pipe, pipe_alloc, pipe_read);
    return 0;
}

int ctr_kill(struct runtime *rt, const char *id, int signo, struct err *err)
{
    struct ctr *c = ctr_find(rt, id);
    if (!c)
        return no_such(err, id);
    if (signo < 0 || signo > 64)
        return err_set(err, ERR_INVALID, "invalid signal %d", signo);
    if (signo == 0)
        signo = c->stop_signal;
    if (c->st.state == CTR_RUNNING)
        return signal_init(c, signo, err);
    if (c->starting) {
        c->pending_signal = signo;
        return 0;
    }
    return err_set(err, ERR_CONFLICT, "Container %s is not running", c->id);
}

int ctr_stop(struct runtime *rt, const char *id, int signo, int64_t grace_ns,
             struct err *err)
{
    struct ctr *c = ctr_find(rt, id);
    if (!c)
        return no_such(err, id);
    if (signo < 0 || signo > 64)
        return err_set(err, ERR_INVALID, "invalid signal %d", signo);
    if (signo == 0)
        signo = c->stop_signal;
    if (c->st.state == CTR_RUNNING) {
        start_stop(c, signo, grace_ns);
    } else if (c->starting) {
        c->pending_stop = true;
        c->pending_signal = signo;
        c->pending_grace = grace_ns;
    }
    return 0;
}

/* ---- release and removal ---- */

static void release_done(void *data, int status, const char *out,
                         const char *errmsg)
{
    (void)out;
    struct ctr *c = data;
    if (status != 0)
        log_warn("container %.12s: %s delete: %s", c->id, c->rt->runc.name,
                 errmsg);
    _cleanup_free_ char *rootfs = ctr_path(c, "rootfs");
    struct err err = {0};
    if (rootfs_umount(rootfs, &err) < 0)
        log_warn("container %.12s: %s", c->id, err.msg);
    if (!c->rt->closing)
        volumes_unmount(c);
    c->releasing = false;
    c->released = true;
    if (!c->rt->closing && !c->removed) {
        _cleanup_free_ char *marker = ctr_path(c, RELEASED_FILE);
        touch(marker);
        /* On a later turn: this may run inside ctr_on_shim_exit. */
        if (c->removing)
            uv_timer_start(&c->defer_timer, on_defer_timer, 0, 0);
    }
    ctr_unref(c);
}

/* After the exit: the runtime's state and cgroup (runc delete) and the
 * rootfs mount go; metadata, upper dir and logs stay until removal. */
static void ctr_release(struct ctr *c)
{
    if (c->releasing || c->released)
        return;
    c->releasing = true;
    ctr_ref(c);
    const char *args[] = {"delete", "--force", c->id, NULL};
    struct err err = {0};
    if (runc_exec_async(c->rt->loop, &c->rt->runc, args, release_done, c,
                        &err) < 0) {
        log_warn("container %.12s: %s", c->id, err.msg);
        release_done(c, 0, "", "");
    }
}

static void remove_finish(struct ctr *c)
{
    struct runtime *rt = c->rt;
    if (c->removed)
        return;
    c->removed = true;
    struct err err = {0};
    _cleanup_free_ char *rootfs = ctr_path(c, "rootfs");
    if (rootfs_umount(rootfs, &err) < 0)
        log_warn("container %.12s: %s", c->id, err.msg);
    volumes_unmount(c);
    volumes_unref(c);
    json_t *anon = json_object_get(c->meta, "AnonymousVolumes");
    size_t i;
    json_t *v;
    json_array_foreach(anon, i, v)
    {
        err_clear(&err);
        if (volume_remove(rt->volumes, json_string_value(v), NULL, &err) < 0)
            log_warn("container %.12s: %s", c->id, err.msg);
    }
    err_clear(&err);
    int r = fs_remove_tree(c->dir, &err);
    if (r < 0)
        err_ctx(&err, "remove container %.12s", c->id);
    follows_finish(c);
    ctr_done_fn cb = c->remove_cb;
    void *data = c->remove_data;
    c->remove_cb = NULL;
    ctr_ref(c);
    ctr_drop(c);
    if (cb)
        cb(data, r < 0 ? &err : NULL);
    ctr_unref(c);
}

static void on_defer_timer(uv_timer_t *t)
{
    struct ctr *c = t->data;
    if (c->removing && !c->releasing && !c->rt->closing)
        remove_finish(c);
}

int ctr_remove(struct runtime *rt, const char *id, ctr_done_fn cb, void *data,
               struct err *err)
{
    struct ctr *c = ctr_find(rt, id);
    if (!c)
        return no_such(err, id);
    if (c->removing)
        return err_set(err, ERR_CONFLICT,
                       "removal of container %.12s is already in progress",
                       c->id);
    c->removing = true;
    c->remove_cb = cb;
    c->remove_data = data;
    struct err e2 = {0};
    if (c->st.state == CTR_RUNNING) {
        if (signal_init(c, SIGKILL, &e2) < 0)
            log_warn("%s", e2.msg);
    } else if (c->starting) {
        c->pending_stop = false;
        c->pending_signal = SIGKILL;
    } else if (!c->releasing) {
        /* Created but never started, or exited and released. */
        uv_timer_start(&c->defer_timer, on_defer_timer, 0, 0);
    }
    return 0;
}

/* ---- restore ---- */

static void on_adopt_timer(uv_timer_t *t)
{
    struct ctr *c = t->data;
    struct shim_state ss;
    if (c->starting && shim_state_read(c->dir, &ss) == 0 && ss.init_pid > 0)
        ctr_on_started(c, ss.init_pid, ss.init_start, ss.started_at);
}

/* Watches a shim we did not spawn through a pidfd; false if it is gone. */
static bool adopt_shim(struct ctr *c, const struct shim_state *ss)
{
    if (ss->shim_start == 0 || proc_start_time(ss->shim_pid) != ss->shim_start)
        return false;
    int fd = sys_pidfd_open(ss->shim_pid);
    if (fd < 0)
        return false;
    /* Checked again with the pidfd held: now it cannot be recycled. */
    if (proc_start_time(ss->shim_pid) != ss->shim_start) {
        close(fd);
        return false;
    }
    c->shim_pidfd = fd;
    c->shim_pid = ss->shim_pid;
    c->shim_start = ss->shim_start;
    uv_poll_init(c->rt->loop, &c->poll, fd);
    c->poll.data = c;
    c->poll_open = true;
    ctr_ref(c);
    uv_poll_start(&c->poll, UV_READABLE, on_shim_poll);
    return true;
}

static void restore_exited(struct ctr *c, const struct shim_exit *ex,
                           const char *error)
{
    c->st.state = CTR_EXITED;
    if (ex) {
        c->st.exit_code = ex->exit_code;
        c->st.oom_killed = ex->oom_killed;
        c->st.started_at = ex->started_at;
        c->st.finished_at = ex->finished_at;
        snprintf(c->st.error, sizeof(c->st.error), "%s", ex->error);
    } else {
        c->st.exit_code = 255;
        c->st.finished_at = time_now_ns();
        snprintf(c->st.error, sizeof(c->st.error), "%s", error);
    }
    _cleanup_free_ char *marker = ctr_path(c, RELEASED_FILE);
    if (fs_exists(marker))
        c->released = true;
    else
        ctr_release(c);
}

static void restore_one(struct runtime *rt, const char *id)
{
    struct ctr *c = ctr_new(rt, id);
    _cleanup_free_ char *meta_path = ctr_path(c, META_FILE);
    _cleanup_free_ char *text = NULL;
    struct err err = {0};
    if (fs_read_file(meta_path, &text, NULL, &err) == 0)
        c->meta = json_loads(text, 0, NULL);
    if (!json_is_object(c->meta)) {
        /* Interrupted ctr_create: report it so the owner removes it. */
        json_decref(c->meta);
        c->meta = json_object();
        json_object_set_new(c->meta, "Id", json_string(id));
        json_object_set_new(c->meta, "Name", json_string(id));
        json_object_set_new(c->meta, "Created", json_integer(0));
        ctr_apply_meta(c);
        registry_add(c);
        restore_exited(c, NULL, "container creation was interrupted");
        emit(c);
        return;
    }
    ctr_apply_meta(c);
    registry_add(c);
    /* Its volumes are in use again; those still mounted for it (running,
     * or exited but not yet released) are its mounts again. */
    volumes_ref(c);
    _cleanup_free_ char *released = ctr_path(c, RELEASED_FILE);
    if (!fs_exists(released) && volumes_mount(c, true, &err) < 0) {
        log_warn("container %.12s: %s", c->id, err.msg);
        err_clear(&err);
    }

    struct shim_exit ex;
    struct shim_state ss;
    if (shim_exit_read(c->dir, &ex) == 0) {
        restore_exited(c, &ex, "");
    } else if (shim_state_read(c->dir, &ss) == 0) {
        if (adopt_shim(c, &ss)) {
            if (ss.init_pid > 0) {
                ctr_on_started(c, ss.init_pid, ss.init_start, ss.started_at);
                return; /* emitted RUNNING */
            }
            c->starting = true;
            c->st.state = CTR_CREATED;
            uv_timer_start(&c->adopt_timer, on_adopt_timer, ADOPT_POLL_MS,
                           ADOPT_POLL_MS);
        } else if (shim_exit_read(c->dir, &ex) == 0) {
            restore_exited(c, &ex, ""); /* exited while we looked */
        } else {
            /* `runc delete --force` in the release also kills a container
             * left without its shim. */
            restore_exited(c, NULL, "container shim exited unexpectedly");
        }
    } else {
        c->st.state = CTR_CREATED;
    }
    emit(c);
}

int runtime_restore(struct runtime *rt, struct err *err)
{
    DIR *d = opendir(rt->root);
    if (!d)
        return err_sys(err, errno, "restore containers from '%s'", rt->root);
    struct vec ids;
    vec_init(&ids);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (id_is_valid(e->d_name) && !hmap_get(&rt->ctrs, e->d_name))
            vec_push(&ids, xstrdup(e->d_name));
    }
    closedir(d);
    for (size_t i = 0; i < ids.len; i++) {
        if (!rt->closing && !hmap_get(&rt->ctrs, ids.items[i]))
            restore_one(rt, ids.items[i]);
        free(ids.items[i]);
    }
    vec_fini(&ids);
    return 0;
}

/* ---- queries ---- */

const char *ctr_lookup(struct runtime *rt, const char *id_or_name)
{
    if (!id_or_name || !*id_or_name)
        return NULL;
    struct ctr *c = hmap_get(&rt->ctrs, id_or_name);
    if (c)
        return c->id;
    const char *name = id_or_name[0] == '/' ? id_or_name + 1 : id_or_name;
    const char *key;
    void *val;
    for (size_t it = 0; hmap_next(&rt->ctrs, &it, &key, &val);) {
        c = val;
        if (strcmp(c->name, name) == 0)
            return c->id;
    }
    if (id_or_name[0] == '/')
        return NULL;
    const char *found = NULL;
    size_t n = strlen(id_or_name);
    for (size_t it = 0; hmap_next(&rt->ctrs, &it, &key, &val);) {
        c = val;
        if (strncmp(c->id, id_or_name, n) == 0) {
            if (found)
                return NULL; /* ambiguous */
            found = c->id;
        }
    }
    return found;
}

int ctr_get_status(struct runtime *rt, const char *id, struct ctr_status *st)
{
    struct ctr *c = ctr_find(rt, id);
    if (!c)
        return -1;
    *st = c->st;
    return 0;
}

int ctr_set_health(struct runtime *rt, const char *id, const json_t *health)
{
    struct ctr *c = ctr_find(rt, id);
    if (!c)
        return -1;
    json_decref(c->health);
    c->health = health ? jx_copy(health) : NULL;
    return 0;
}

json_t *ctr_image_config(struct runtime *rt, const char *id)
{
    struct ctr *c = ctr_find(rt, id);
    return c ? json_object_get(c->meta, "ImageConfig") : NULL;
}

int ctr_exec_target(struct runtime *rt, const char *id,
                    struct ctr_exec_target *out, struct err *err)
{
    struct ctr *c = ctr_find(rt, id);
    if (!c)
        return no_such(err, id);
    if (c->st.state != CTR_RUNNING)
        return err_set(err, ERR_CONFLICT, "container %.12s is not running",
                       c->id);
    out->loop = rt->loop;
    out->runc = &rt->runc;
    out->dir = c->dir;
    out->id = c->id;
    return 0;
}

json_t *ctr_labels(struct runtime *rt, const char *id)
{
    struct ctr *c = ctr_find(rt, id);
    return c ? json_object_get(c->meta, "Labels") : NULL;
}

static void fmt_time(int64_t ns, char out[TIME_STRLEN])
{
    if (ns <= 0)
        snprintf(out, TIME_STRLEN, "0001-01-01T00:00:00Z");
    else
        time_fmt_rfc3339(ns, out);
}

static char *status_text(const struct ctr *c)
{
    char human[64];
    int64_t now = time_now_ns();
    switch (c->st.state) {
    case CTR_RUNNING: {
        duration_human(now - c->st.started_at, human, sizeof(human));
        const char *h = jx_str(c->health, "Status");
        if (h && strcmp(h, "starting") == 0)
            return xasprintf("Up %s (health: starting)", human);
        if (h && *h)
            return xasprintf("Up %s (%s)", human, h);
        return xasprintf("Up %s", human);
    }
    case CTR_EXITED:
        if (c->st.finished_at <= 0)
            return xasprintf("Exited (%d)", c->st.exit_code);
        duration_human(now - c->st.finished_at, human, sizeof(human));
        return xasprintf("Exited (%d) %s ago", c->st.exit_code, human);
    case CTR_CREATED:
        break;
    }
    return xstrdup("Created");
}

/* Docker's list "Command": path and args, args with spaces quoted. */
static char *command_text(const json_t *args)
{
    struct buf b;
    buf_init(&b);
    size_t i;
    json_t *v;
    json_array_foreach(args, i, v)
    {
        const char *s = json_string_value(v);
        if (i)
            buf_putc(&b, ' ');
        if (i && strchr(s, ' '))
            buf_printf(&b, "'%s'", s);
        else
            buf_puts(&b, s);
    }
    if (!b.data)
        buf_puts(&b, "");
    return buf_steal(&b);
}

static bool filter_match(const struct ctr *c, const json_t *filters)
{
    const char *key;
    json_t *vals;
    json_object_foreach((json_t *)filters, key, vals)
    {
        if (!json_is_array(vals) || json_array_size(vals) == 0)
            continue;
        bool any = false;
        size_t i;
        json_t *v;
        json_array_foreach(vals, i, v)
        {
            const char *want = json_string_value(v);
            if (!want)
                continue;
            if (strcmp(key, "label") == 0) {
                json_t *labels = json_object_get(c->meta, "Labels");
                const char *eq = strchr(want, '=');
                if (eq) {
                    _cleanup_free_ char *k =
                        xstrndup(want, (size_t)(eq - want));
                    const char *have = jx_str(labels, k);
                    any = have && strcmp(have, eq + 1) == 0;
                } else {
                    any = json_object_get(labels, want) != NULL;
                }
                /* Every label filter must match. */
                if (!any)
                    return false;
                continue;
            }
            if (strcmp(key, "name") == 0)
                any = any || strstr(c->name, want[0] == '/' ? want + 1 : want);
            else if (strcmp(key, "id") == 0)
                any = any || strncmp(c->id, want, strlen(want)) == 0;
            else if (strcmp(key, "status") == 0)
                any = any || strcmp(state_name(&c->st), want) == 0;
            else
                any = true; /* unknown filters do not exclude */
        }
        if (!any && strcmp(key, "label") != 0)
            return false;
    }
    return true;
}

static json_t *ctr_summary(const struct ctr *c)
{
    json_t *j = json_object();
    const json_t *m = c->meta;
    json_object_set_new(j, "Id", json_string(c->id));
    json_t *names = json_array();
    json_array_append_new(names, json_sprintf("/%s", c->name));
    json_object_set_new(j, "Names", names);
    json_object_set_new(j, "Image", json_string(jx_str0(m, "ImageName")));
    json_object_set_new(j, "ImageID", json_string(jx_str0(m, "ImageID")));
    _cleanup_free_ char *cmd = command_text(json_object_get(m, "Args"));
    json_object_set_new(j, "Command", json_string(cmd));
    json_object_set_new(j, "Created",
                        json_integer(c->st.created_at / NS_PER_SEC));
    json_object_set_new(j, "Ports", json_array());
    json_t *labels = json_object_get(m, "Labels");
    json_object_set_new(j, "Labels", labels ? jx_copy(labels) : json_object());
    json_object_set_new(j, "State", json_string(state_name(&c->st)));
    _cleanup_free_ char *status = status_text(c);
    json_object_set_new(j, "Status", json_string(status));
    json_t *hc = json_object();
    json_object_set_new(hc, "NetworkMode", json_string("default"));
    json_object_set_new(j, "HostConfig", hc);
    json_t *ns = json_object();
    json_object_set_new(ns, "Networks", json_object());
    json_object_set_new(j, "NetworkSettings", ns);
    json_t *mounts = json_object_get(m, "Mounts");
    json_object_set_new(j, "Mounts", mounts ? jx_copy(mounts) : json_array());
    return j;
}

static int cmp_created_desc(const void *a, const void *b)
{
    const struct ctr *x = *(const struct ctr *const *)a;
    const struct ctr *y = *(const struct ctr *const *)b;
    if (x->st.created_at != y->st.created_at)
        return x->st.created_at > y->st.created_at ? -1 : 1;
    return strcmp(x->id, y->id);
}

json_t *ctr_list_json(struct runtime *rt, bool all, const json_t *filters)
{
    struct vec v;
    vec_init(&v);
    const char *key;
    void *val;
    for (size_t it = 0; hmap_next(&rt->ctrs, &it, &key, &val);) {
        struct ctr *c = val;
        if (!all && c->st.state != CTR_RUNNING &&
            !(filters && json_object_get(filters, "status")))
            continue;
        if (filters && !filter_match(c, filters))
            continue;
        vec_push(&v, c);
    }
    /* Newest first, as docker ps lists them. */
    if (v.len)
        qsort(v.items, v.len, sizeof(*v.items), cmp_created_desc);
    json_t *out = json_array();
    for (size_t i = 0; i < v.len; i++)
        json_array_append_new(out, ctr_summary(v.items[i]));
    vec_fini(&v);
    return out;
}

static json_t *copy_or(const json_t *v, json_t *dflt)
{
    if (v && !json_is_null(v)) {
        json_decref(dflt);
        return jx_copy(v);
    }
    return dflt;
}

json_t *ctr_inspect_json(struct runtime *rt, const char *id_or_name,
                         struct err *err)
{
    struct ctr *c = ctr_find(rt, id_or_name);
    if (!c) {
        no_such(err, id_or_name);
        return NULL;
    }
    const json_t *m = c->meta;
    const json_t *spec = json_object_get(m, "Spec");
    char ts[TIME_STRLEN];
    json_t *j = json_object();
    json_object_set_new(j, "Id", json_string(c->id));
    fmt_time(c->st.created_at, ts);
    json_object_set_new(j, "Created", json_string(ts));
    json_t *args = json_object_get(m, "Args");
    json_object_set_new(
        j, "Path",
        json_string(json_string_value(json_array_get(args, 0))
                        ? json_string_value(json_array_get(args, 0))
                        : ""));
    json_t *rest = json_array();
    for (size_t i = 1; i < json_array_size(args); i++)
        json_array_append(rest, json_array_get(args, i));
    json_object_set_new(j, "Args", rest);

    json_t *st = json_object();
    json_object_set_new(st, "Status", json_string(state_name(&c->st)));
    json_object_set_new(st, "Running",
                        json_boolean(c->st.state == CTR_RUNNING));
    json_object_set_new(st, "Paused", json_false());
    json_object_set_new(st, "Restarting", json_false());
    json_object_set_new(st, "OOMKilled", json_boolean(c->st.oom_killed));
    json_object_set_new(st, "Dead", json_false());
    json_object_set_new(st, "Pid", json_integer(c->st.pid));
    json_object_set_new(st, "ExitCode", json_integer(c->st.exit_code));
    json_object_set_new(st, "Error", json_string(c->st.error));
    fmt_time(c->st.started_at, ts);
    json_object_set_new(st, "StartedAt", json_string(ts));
    fmt_time(c->st.finished_at, ts);
    json_object_set_new(st, "FinishedAt", json_string(ts));
    if (c->health)
        json_object_set_new(st, "Health", jx_copy(c->health));
    json_object_set_new(j, "State", st);

    json_object_set_new(j, "Image", json_string(jx_str0(m, "ImageID")));
    json_object_set_new(j, "ResolvConfPath",
                        json_sprintf("%s/resolv.conf", c->dir));
    json_object_set_new(j, "HostnamePath", json_sprintf("%s/hostname", c->dir));
    json_object_set_new(j, "HostsPath", json_sprintf("%s/hosts", c->dir));
    json_object_set_new(j, "LogPath",
                        json_sprintf("%s/%s", c->dir, SHIM_LOG_FILE));
    json_object_set_new(j, "Name", json_sprintf("/%s", c->name));
    json_object_set_new(j, "RestartCount", json_integer(0));
    json_object_set_new(j, "Driver", json_string("overlay2"));
    json_object_set_new(j, "Platform", json_string("linux"));
    json_object_set_new(j, "MountLabel", json_string(""));
    json_object_set_new(j, "ProcessLabel", json_string(""));
    json_object_set_new(j, "AppArmorProfile", json_string(""));
    json_object_set_new(j, "ExecIDs", json_null());

    json_t *hc = json_object();
    json_object_set_new(hc, "NetworkMode", json_string("default"));
    json_object_set_new(hc, "ReadonlyRootfs",
                        json_boolean(jx_bool(spec, "ReadOnly", false)));
    json_object_set_new(
        hc, "Memory",
        json_integer(jx_path_int(m, "Resources.Limits.MemoryBytes", 0)));
    json_object_set_new(
        hc, "NanoCpus",
        json_integer(jx_path_int(m, "Resources.Limits.NanoCPUs", 0)));
    int64_t pids = jx_path_int(m, "Resources.Limits.Pids", 0);
    json_object_set_new(hc, "PidsLimit",
                        pids > 0 ? json_integer(pids) : json_null());
    json_object_set_new(
        hc, "CapAdd",
        copy_or(json_object_get(spec, "CapabilityAdd"), json_null()));
    json_object_set_new(
        hc, "CapDrop",
        copy_or(json_object_get(spec, "CapabilityDrop"), json_null()));
    json_object_set_new(
        hc, "Sysctls",
        copy_or(json_object_get(spec, "Sysctls"), json_object()));
    json_object_set_new(hc, "CgroupParent",
                        json_string(jx_str0(m, "CgroupParent")));
    json_t *lc = json_object();
    json_object_set_new(lc, "Type", json_string("json-file"));
    json_object_set_new(lc, "Config", json_object());
    json_object_set_new(hc, "LogConfig", lc);
    json_t *rp = json_object();
    json_object_set_new(rp, "Name", json_string("no"));
    json_object_set_new(rp, "MaximumRetryCount", json_integer(0));
    json_object_set_new(hc, "RestartPolicy", rp);
    json_object_set_new(hc, "Mounts",
                        copy_or(json_object_get(spec, "Mounts"), json_array()));
    json_object_set_new(j, "HostConfig", hc);

    json_t *gd = json_object();
    json_object_set_new(gd, "Name", json_string("overlay2"));
    json_t *gdd = json_object();
    struct buf lower;
    buf_init(&lower);
    json_t *ld = json_object_get(m, "LayerDirs");
    for (size_t i = json_array_size(ld); i-- > 0;)
        buf_printf(&lower, "%s%s", json_string_value(json_array_get(ld, i)),
                   i ? ":" : "");
    json_object_set_new(gdd, "LowerDir",
                        json_string(lower.data ? lower.data : ""));
    buf_fini(&lower);
    json_object_set_new(gdd, "UpperDir", json_sprintf("%s/upper", c->dir));
    json_object_set_new(gdd, "WorkDir", json_sprintf("%s/work", c->dir));
    json_object_set_new(gdd, "MergedDir", json_sprintf("%s/rootfs", c->dir));
    json_object_set_new(gd, "Data", gdd);
    json_object_set_new(j, "GraphDriver", gd);
    json_object_set_new(j, "Mounts",
                        copy_or(json_object_get(m, "Mounts"), json_array()));

    json_t *cfg = json_object();
    json_object_set_new(cfg, "Hostname", json_string(jx_str0(m, "Hostname")));
    json_object_set_new(cfg, "Domainname", json_string(""));
    json_object_set_new(cfg, "User", json_string(jx_str0(m, "User")));
    json_object_set_new(cfg, "AttachStdin", json_false());
    json_object_set_new(cfg, "AttachStdout", json_false());
    json_object_set_new(cfg, "AttachStderr", json_false());
    json_object_set_new(cfg, "Tty", json_false());
    json_object_set_new(cfg, "OpenStdin", json_false());
    json_object_set_new(cfg, "StdinOnce", json_false());
    json_object_set_new(cfg, "Env",
                        copy_or(json_object_get(m, "Env"), json_array()));
    json_object_set_new(cfg, "Cmd",
                        copy_or(json_object_get(m, "Cmd"), json_null()));
    json_object_set_new(cfg, "Image", json_string(jx_str0(m, "ImageName")));
    json_object_set_new(cfg, "Volumes", json_null());
    json_object_set_new(cfg, "WorkingDir",
                        json_string(jx_str0(m, "WorkingDir")));
    json_object_set_new(cfg, "Entrypoint",
                        copy_or(json_object_get(m, "Entrypoint"), json_null()));
    json_object_set_new(cfg, "OnBuild", json_null());
    json_object_set_new(cfg, "Labels",
                        copy_or(json_object_get(m, "Labels"), json_object()));
    const char *sig = jx_str(spec, "StopSignal");
    if (!sig || !*sig)
        sig = jx_path_str(m, "ImageConfig.StopSignal");
    json_object_set_new(cfg, "StopSignal",
                        sig && *sig ? json_string(sig)
                                    : json_sprintf("%d", c->stop_signal));
    json_object_set_new(j, "Config", cfg);

    json_t *ns = json_object();
    json_object_set_new(ns, "SandboxKey", json_string(jx_str0(m, "Netns")));
    json_object_set_new(ns, "Ports", json_object());
    json_object_set_new(ns, "Networks", json_object());
    json_object_set_new(j, "NetworkSettings", ns);
    return j;
}

/* ---- logs ---- */

int ctr_logs_read(struct runtime *rt, const char *id,
                  const struct ctr_log_options *opts, ctr_log_fn fn, void *data,
                  struct err *err)
{
    struct ctr *c = ctr_find(rt, id);
    if (!c)
        return no_such(err, id);
    _cleanup_free_ char *path = ctr_path(c, SHIM_LOG_FILE);
    return ctrlog_read(path, opts, fn, data, err);
}

struct ctr_log_follow *ctr_logs_follow(struct runtime *rt, const char *id,
                                       const struct ctr_log_options *opts,
                                       ctr_log_fn fn, void (*done)(void *),
                                       void *data, struct err *err)
{
    struct ctr *c = ctr_find(rt, id);
    if (!c) {
        no_such(err, id);
        return NULL;
    }
    _cleanup_free_ char *path = ctr_path(c, SHIM_LOG_FILE);
    struct ctrlog_follow *f =
        ctrlog_follow_start(rt->loop, path, opts, fn, done, data, err);
    if (!f)
        return NULL;
    struct ctr_log_follow *lf = xcalloc(1, sizeof(*lf));
    lf->c = c;
    lf->f = f;
    ctr_ref(c);
    vec_push(&c->follows, lf);
    if (c->st.state == CTR_EXITED || c->removing)
        ctrlog_follow_finish(f);
    return lf;
}

void ctr_logs_unfollow(struct ctr_log_follow *lf)
{
    if (!lf)
        return;
    vec_remove(&lf->c->follows, lf);
    ctrlog_follow_stop(lf->f);
    ctr_unref(lf->c);
    free(lf);
}
