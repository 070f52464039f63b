// SPDX-License-Identifier: Apache-2.0
// RUN: the command runs in a container of the node's OCI runtime (runc or
// crun, the same binary, --root, cgroup parent and seccomp defaults as
// tasks), built with oci_spec_build from the stage's image config, on the
// host's network (the namespace of shoald). The runtime runs in the
// foreground (`run`, not create/start) from this build thread; its stdout
// and stderr are one pipe, streamed into the build log line by line.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/id.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "builder/build_internal.h"
#include "runtime/cgroup.h"
#include "runtime/mount.h"
#include "runtime/oci.h"
#include "runtime/runc.h"

extern char **environ;

/* Spawns argv with stdin from /dev/null and stdout + stderr into out_fd
 * (-1: /dev/null too), signals reset. */
static pid_t spawn(char *const *argv, int out_fd, struct err *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    } else {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        err_sys(err, rc, "spawn '%s'", argv[0]);
        return -1;
    }
    return pid;
}

static int wait_exit(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

/* `<runtime> --root R <args...>`, waited for, output dropped. */
static int runtime_cmd(struct bctx *c, const char *const *args)
{
    char **argv = runc_argv(c->runtime_path, c->state_root, NULL, args);
    struct err err = {0};
    pid_t pid = spawn(argv, -1, &err);
    runc_argv_free(argv);
    return pid < 0 ? -1 : wait_exit(pid);
}

static int write_text(const char *dir, const char *name, const char *text,
                      char **path_out, struct err *err)
{
    char *path = xasprintf("%s/%s", dir, name);
    if (fs_write_file_replace(path, text, strlen(text), 0644, err) < 0) {
        free(path);
        return -1;
    }
    *path_out = path;
    return 0;
}

/* Forwards complete lines of pending to the log (all of it at the end). */
static void flush_lines(struct bctx *c, struct buf *pending, bool all)
{
    while (pending->len) {
        char *nl = memchr(pending->data, '\n', pending->len);
        size_t n = nl ? (size_t)(nl - pending->data) + 1 : 0;
        if (!n) {
            if (!all && pending->len < 65536)
                return;
            n = pending->len;
        }
        _cleanup_free_ char *line = xstrndup(pending->data, n);
        for (size_t i = 0; i < n; i++)
            if (!line[i])
                line[i] = ' ';
        bctx_log(c, "%s", line);
        buf_consume(pending, n);
    }
}

int brun(struct bctx *c, const json_t *config, const char *rootfs,
         const json_t *argv, const json_t *env, int *exit_code, struct err *err)
{
    *exit_code = -1;
    char id[ID_HEX_LEN + 1];
    id_new_hex(id);
    char hostname[13];
    snprintf(hostname, sizeof(hostname), "%.12s", id);
    _cleanup_free_ char *bundle = xasprintf("%s/r%d", c->dir, c->seq++);
    if (mkdir(bundle, 0700) < 0)
        return err_sys(err, errno, "create '%s'", bundle);

    _cleanup_free_ char *hostname_path = NULL;
    _cleanup_free_ char *hosts_path = NULL;
    _cleanup_free_ char *resolv_path = NULL;
    _cleanup_free_ char *hosts =
        xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                  "ip6-loopback\n127.0.1.1\t%s\n",
                  hostname);
    _cleanup_free_ char *resolv = NULL;
    size_t rlen = 0;
    struct err rerr = {0};
    if (fs_read_file("/etc/resolv.conf", &resolv, &rlen, &rerr) < 0)
        resolv = xstrdup("");
    _cleanup_free_ char *hostname_line = xasprintf("%s\n", hostname);
    if (write_text(bundle, "hostname", hostname_line, &hostname_path, err) <
            0 ||
        write_text(bundle, "hosts", hosts, &hosts_path, err) < 0 ||
        write_text(bundle, "resolv.conf", resolv, &resolv_path, err) < 0)
        return -1;

    _cleanup_free_ char *passwd = NULL;
    _cleanup_free_ char *group = NULL;
    rootfs_read_file(rootfs, "/etc/passwd", &passwd);
    rootfs_read_file(rootfs, "/etc/group", &group);
    _cleanup_json_ json_t *spec = json_object();
    json_object_set_new(spec, "Command", jx_copy(argv));
    json_object_set_new(spec, "Env", jx_copy(env));
    _cleanup_free_ char *netns = xasprintf("/proc/%d/ns/net", (int)getpid());
    _cleanup_free_ char *cgpath = cgroup_path(c->cgroup_parent, id);
    struct oci_input in = {
        .image_config = config,
        .spec = spec,
        .hostname = hostname,
        .rootfs = rootfs,
        .netns = netns,
        .cgroups_path = cgpath,
        .hostname_path = hostname_path,
        .hosts_path = hosts_path,
        .resolv_path = resolv_path,
        .passwd = passwd,
        .group = group,
        .cgroup2 = c->cgroup2,
        .nofile = c->nofile,
    };
    _cleanup_json_ json_t *oci = oci_spec_build(&in, err);
    if (!oci)
        return err_ctx(err, "RUN");
    _cleanup_free_ char *ocitext = jx_dumps_pretty(oci);
    _cleanup_free_ char *cfg_path = NULL;
    if (write_text(bundle, "config.json", ocitext, &cfg_path, err) < 0)
        return -1;

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return err_sys(err, errno, "pipe");
    _cleanup_free_ char *log_path = xasprintf("%s/runtime.log", bundle);
    const char *args[] = {"run", "--bundle", bundle, id, NULL};
    char **rargv = runc_argv(c->runtime_path, c->state_root, log_path, args);
    bctx_log(c, " ---> Running in %s\n", hostname);
    pid_t pid = spawn(rargv, fds[1], err);
    runc_argv_free(rargv);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return -1;
    }
    struct buf pending;
    buf_init(&pending);
    bool killed = false;
    char chunk[8192];
    for (;;) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int pr = poll(&p, 1, 200);
        if (pr < 0 && errno == EINTR)
            continue;
        if (!killed && bctx_cancelled(c)) {
            const char *kill_args[] = {"kill", id, "KILL", NULL};
            runtime_cmd(c, kill_args);
            killed = true;
        }
        if (pr <= 0)
            continue;
        ssize_t n = read(fds[0], chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        buf_append(&pending, chunk, (size_t)n);
        flush_lines(c, &pending, false);
    }
    flush_lines(c, &pending, true);
    buf_fini(&pending);
    close(fds[0]);
    int code = wait_exit(pid);
    const char *del_args[] = {"delete", "--force", id, NULL};
    runtime_cmd(c, del_args);
    bctx_log(c, "Removing intermediate container %s\n", hostname);
    if (killed)
        return err_set(err, ERR_INTERNAL, "build cancelled");
    if (code == 0) {
        *exit_code = 0;
        return 0;
    }
    _cleanup_free_ char *why = runc_log_last_error(log_path);
    if (why && strstr(why, "unable to start container process")) {
        return err_set(err, ERR_INVALID, "RUN failed: %s", why);
    }
    *exit_code = code;
    return err_set(err, ERR_INVALID, "RUN exited with code %d", code);
}
