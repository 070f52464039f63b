// SPDX-License-Identifier: Apache-2.0
// shoald's startup and shutdown: one data-root lock, child subreaper, then
// the subsystems in order (image store, container runtime, API, swarm) on
// one libuv loop; SIGTERM stops them in reverse and leaves containers
// running for the next start to re-adopt.
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/api.h"
#include "api/events.h"
#include "registry/registry.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "volume/volume.h"

#define REAPER_PERIOD_MS 10000

static int lock_data_root(struct daemon *d, struct err *err)
{
    _cleanup_free_ char *path = xasprintf("%s/shoald.lock", d->cfg.data_root);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_sys(err, errno, "open lock '%s'", path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return err_set(err, ERR_CONFLICT,
                       "another shoald is using data root '%s'",
                       d->cfg.data_root);
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%d\n", getpid());
    if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) < 0)
        log_debug("daemon: could not record pid in lock file");
    d->lock_fd = fd;
    return 0;
}

/* Processes re-parented to us (a container whose shim died) would stay
 * zombies: libuv reaps only the children it spawned, and does so at once,
 * so a zombie that has been one for a whole period is an orphan. */
static void reap_orphans(uv_timer_t *t)
{
    struct daemon *d = t->data;
    static pid_t seen[64];
    static size_t n_seen;
    pid_t now[64];
    size_t n_now = 0;
    siginfo_t si;
    (void)d;
    for (;;) {
        memset(&si, 0, sizeof(si));
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
            si.si_pid == 0)
            break;
        bool old = false;
        for (size_t i = 0; i < n_seen; i++)
            old |= seen[i] == si.si_pid;
        if (!old) {
            if (n_now < ARRAY_SIZE(now))
                now[n_now++] = si.si_pid;
            break; /* WNOWAIT shows the same zombie until it is reaped */
        }
        waitpid(si.si_pid, NULL, WNOHANG);
        log_debug("daemon: reaped orphan %d", si.si_pid);
    }
    memcpy(seen, now, n_now * sizeof(pid_t));
    n_seen = n_now;
}

static void container_event(void *data, const char *id,
                            const struct ctr_status *st)
{
    struct daemon *d = data;
    events_container_state(d->events, id, st);
    if (d->agent)
        agent_on_container_event(d->agent, id, st);
}

static void volume_event(void *data, const char *action, const char *name,
                         const char *driver, const char *container)
{
    struct daemon *d = data;
    events_volume(d->events, action, name, driver, container);
}

static void api_closed(void *data)
{
    struct daemon *d = data;
    d->api = NULL;
    runtime_free(d->runtime);
    d->runtime = NULL;
    volume_store_free(d->volumes);
    d->volumes = NULL;
    registry_free(d->registry);
    d->registry = NULL;
    image_store_free(d->images);
    d->images = NULL;
    uv_close((uv_handle_t *)&d->sig_term, NULL);
    uv_close((uv_handle_t *)&d->sig_int, NULL);
    uv_close((uv_handle_t *)&d->reaper, NULL);
    log_info("daemon: stopped");
}

static void swarm_closed(void *data)
{
    struct daemon *d = data;
    /* Event streams end with their last chunk before the server drops its
     * connections. */
    events_close(d->events);
    d->events = NULL;
    if (d->api)
        http_server_close(d->api, api_closed, d);
    else
        api_closed(d);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    if (d->stopping)
        return;
    d->stopping = true;
    log_info("daemon: %s: stopping (containers keep running)",
             strsignal(signum));
    swarm_close(d, swarm_closed, d);
}

static int listen_all(struct daemon *d, struct err *err)
{
    for (int i = 0; i < d->cfg.n_hosts; i++) {
        const char *addr = d->cfg.hosts[i];
        if (strncmp(addr, "unix://", 7) == 0) {
            _cleanup_free_ char *dir = xstrdup(addr + 7);
            char *slash = strrchr(dir, '/');
            if (slash && slash != dir) {
                *slash = '\0';
                if (fs_mkdir_p(dir, 0755, err) < 0)
                    return -1;
            }
        }
        if (http_server_listen(d->api, addr, err) < 0)
            return err_ctx(err, "listen on '%s'", addr);
        log_info("daemon: API listening on %s", addr);
    }
    return 0;
}

static int start(struct daemon *d, struct err *err)
{
    if (fs_mkdir_p(d->cfg.data_root, 0711, err) < 0 ||
        lock_data_root(d, err) < 0)
        return -1;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        return err_sys(err, errno, "become child subreaper");
    gethostname(d->hostname, sizeof(d->hostname) - 1);
    d->cgroup_parent = d->cfg.cgroup_parent
                           ? xstrdup(d->cfg.cgroup_parent)
                           : xasprintf("shoal-%s", d->hostname);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n < 0)
        return err_sys(err, errno, "resolve /proc/self/exe");
    exe[n] = '\0';
    d->self_exe = xstrdup(exe);
    d->swarm_dir = xasprintf("%s/swarm", d->cfg.data_root);

    _cleanup_free_ char *images = xasprintf("%s/images", d->cfg.data_root);
    d->images = image_store_new(images, err);
    if (!d->images)
        return err_ctx(err, "open image store");
    d->registry = registry_new(d->loop, d->images, d->cfg.insecure_registries);

    swarm_hooks_init(d);
    daemon_api_host_init(d);
    d->events = events_new(&d->api_host);
    d->api_host.events = d->events;

    _cleanup_free_ char *ctrs = xasprintf("%s/containers", d->cfg.data_root);
    _cleanup_free_ char *state = xasprintf("%s/runtime", d->cfg.data_root);
    _cleanup_free_ char *vols = xasprintf("%s/volumes", d->cfg.data_root);
    d->volumes = volume_store_new(vols, err);
    if (!d->volumes)
        return err_ctx(err, "open volume store");
    volume_store_set_events(d->volumes, volume_event, d);
    d->api_host.volumes = d->volumes;
    struct runtime_config rc = {
        .loop = d->loop,
        .root = ctrs,
        .state_root = state,
        .volumes = d->volumes,
        .runtime = d->cfg.runtime,
        .cgroup_parent = d->cgroup_parent,
        .self_exe = d->self_exe,
        .log_max_size = 10 * 1024 * 1024,
        .on_event = container_event,
        .event_data = d,
    };
    d->runtime = runtime_new(&rc, err);
    if (!d->runtime)
        return err_ctx(err, "start container runtime");
    log_info("daemon: runtime %s (%s), cgroup parent %s",
             runtime_name(d->runtime), runtime_version(d->runtime),
             d->cgroup_parent);

    d->api_host.runtime = d->runtime;
    d->api = http_server_new(d->loop, &d->api_host);
    _cleanup_free_ char *spool = xasprintf("%s/tmp", d->cfg.data_root);
    if (fs_mkdir_p(spool, 0700, err) < 0)
        return -1;
    api_register(d->api, &d->api_host, spool);
    if (listen_all(d, err) < 0)
        return -1;

    uv_signal_init(d->loop, &d->sig_term);
    uv_signal_init(d->loop, &d->sig_int);
    d->sig_term.data = d->sig_int.data = d;
    uv_signal_start(&d->sig_term, on_signal, SIGTERM);
    uv_signal_start(&d->sig_int, on_signal, SIGINT);
    uv_timer_init(d->loop, &d->reaper);
    d->reaper.data = d;
    uv_timer_start(&d->reaper, reap_orphans, REAPER_PERIOD_MS,
                   REAPER_PERIOD_MS);
    uv_unref((uv_handle_t *)&d->reaper);

    if (swarm_reopen(d, err) < 0)
        return err_ctx(err, "reopen swarm");
    return 0;
}

int daemon_run(const struct daemon_config *cfg)
{
    struct daemon d = {0};
    d.cfg = *cfg;
    d.lock_fd = -1;
    d.started_at = time_now_ns();
    uv_loop_t loop;
    uv_loop_init(&loop);
    d.loop = &loop;
    signal(SIGPIPE, SIG_IGN);
    struct err err = {0};
    if (start(&d, &err) < 0) {
        log_error("daemon: %s", err.msg);
        return 1;
    }
    log_info("daemon: shoald %s ready (data root %s)", SHOAL_VERSION,
             d.cfg.data_root);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* Let close callbacks of whatever is left run, then stop. */
    uv_run(&loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&loop) != 0)
        log_debug("daemon: loop closed with handles still open");
    free(d.self_exe);
    free(d.cgroup_parent);
    free(d.swarm_dir);
    free(d.unlock_key);
    if (d.lock_fd >= 0)
        close(d.lock_fd);
    return d.exit_code;
}
