// SPDX-License-Identifier: Apache-2.0
// The container shim: one small process per running container, started by
// shoald and independent of it afterwards. It runs `runc run --detach`,
// becomes the parent of the container's init (child subreaper), copies the
// container's stdout/stderr into the json log, and writes the exit status
// atomically before it exits, so shoald, alive or restarted, learns every
// exit from the shim's own exit and one file.
#include "runtime/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/ctrlog.h"
#include "runtime/oci.h"
#include "runtime/runc.h"

/* How long to keep reading output after init exited: processes that
 * escaped the pid namespace may hold the pipes forever. */
#define SHIM_DRAIN_MS 2000

char **shim_argv(const char *self_exe, const struct shim_args *a)
{
    char **argv = xcalloc(20, sizeof(*argv));
    size_t k = 0;
    argv[k++] = xstrdup(self_exe);
    argv[k++] = xstrdup("shim");
    argv[k++] = xstrdup("--id");
    argv[k++] = xstrdup(a->id);
    argv[k++] = xstrdup("--dir");
    argv[k++] = xstrdup(a->dir);
    argv[k++] = xstrdup("--bundle");
    argv[k++] = xstrdup(a->bundle);
    argv[k++] = xstrdup("--runtime");
    argv[k++] = xstrdup(a->runtime);
    argv[k++] = xstrdup("--root");
    argv[k++] = xstrdup(a->state_root);
    argv[k++] = xstrdup("--log-max");
    argv[k++] = xasprintf("%lld", (long long)a->log_max);
    if (a->oom_file) {
        argv[k++] = xstrdup("--oom-file");
        argv[k++] = xstrdup(a->oom_file);
    }
    argv[k] = NULL;
    return argv;
}

uint64_t proc_start_time(int pid)
{
    if (pid <= 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    _cleanup_free_ char *text = NULL;
    struct err err = {0};
    if (fs_read_file(path, &text, NULL, &err) < 0)
        return 0;
    /* comm may contain anything, so fields are counted after the last ')'.
     * Field 3 is the state, field 22 the start time. */
    char *p = strrchr(text, ')');
    if (!p)
        return 0;
    char *save = NULL;
    char *tok = strtok_r(p + 1, " ", &save);
    if (!tok || *tok == 'Z' || *tok == 'X')
        return 0;
    for (int field = 4; field <= 22; field++) {
        tok = strtok_r(NULL, " ", &save);
        if (!tok)
            return 0;
    }
    return strtoull(tok, NULL, 10);
}

int shim_start_error_code(const char *error)
{
    if (strstr(error, "executable file not found") ||
        strstr(error, "no such file or directory"))
        return 127;
    if (strstr(error, "permission denied"))
        return 126;
    return 128;
}

static json_t *read_json_in(const char *dir, const char *name)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
    _cleanup_free_ char *text = NULL;
    struct err err = {0};
    if (fs_read_file(path, &text, NULL, &err) < 0)
        return NULL;
    return json_loads(text, 0, NULL);
}

int shim_state_read(const char *dir, struct shim_state *out)
{
    memset(out, 0, sizeof(*out));
    _cleanup_json_ json_t *j = read_json_in(dir, SHIM_STATE_FILE);
    if (!json_is_object(j))
        return -1;
    out->shim_pid = (int)jx_int(j, "shim_pid", 0);
    out->shim_start = (uint64_t)jx_int(j, "shim_start", 0);
    out->init_pid = (int)jx_int(j, "init_pid", 0);
    out->init_start = (uint64_t)jx_int(j, "init_start", 0);
    out->started_at = jx_int(j, "started_at", 0);
    return out->shim_pid > 0 ? 0 : -1;
}

int shim_exit_read(const char *dir, struct shim_exit *out)
{
    memset(out, 0, sizeof(*out));
    _cleanup_json_ json_t *j = read_json_in(dir, SHIM_EXIT_FILE);
    if (!json_is_object(j))
        return -1;
    out->exit_code = (int)jx_int(j, "exit_code", 255);
    out->oom_killed = jx_bool(j, "oom_killed", false);
    out->pid = (int)jx_int(j, "pid", 0);
    out->started_at = jx_int(j, "started_at", 0);
    out->finished_at = jx_int(j, "finished_at", 0);
    snprintf(out->error, sizeof(out->error), "%s", jx_str0(j, "error"));
    return 0;
}

/* ---- the shim process ---- */

struct shim {
    struct shim_args a;
    struct ctrlog_writer *log;
    int status_fd; /* our stdout: the pipe to shoald */
    int sfd;       /* signalfd for SIGCHLD */
    int out_fd, err_fd;
    pid_t runc_pid;
    pid_t init_pid;
    uint64_t init_start;
    int64_t started_at;
    bool runc_done, init_done, failed;
    int init_status;
    char error[256];
    /* Children reaped before we knew the init pid (it can exit before
     * runc does). */
    pid_t early_pid[32];
    int early_status[32];
    int n_early;
};

static void shim_log(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void shim_log(const char *fmt, ...)
{
    char ts[TIME_STRLEN];
    time_fmt_rfc3339(time_now_ns(), ts);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s shim[%d]: ", ts, getpid());
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int shim_parse(struct shim *s, int argc, char **argv)
{
    s->a.log_max = 0;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        if (strcmp(k, "--id") == 0)
            s->a.id = v;
        else if (strcmp(k, "--dir") == 0)
            s->a.dir = v;
        else if (strcmp(k, "--bundle") == 0)
            s->a.bundle = v;
        else if (strcmp(k, "--runtime") == 0)
            s->a.runtime = v;
        else if (strcmp(k, "--root") == 0)
            s->a.state_root = v;
        else if (strcmp(k, "--oom-file") == 0)
            s->a.oom_file = v;
        else if (strcmp(k, "--log-max") == 0)
            s->a.log_max = strtoll(v, NULL, 10);
        else
            return -1;
        i++;
    }
    return s->a.id && s->a.dir && s->a.bundle && s->a.runtime && s->a.state_root
               ? 0
               : -1;
}

static void shim_write_state(struct shim *s)
{
    json_t *j = json_object();
    json_object_set_new(j, "shim_pid", json_integer(getpid()));
    json_object_set_new(j, "shim_start",
                        json_integer((json_int_t)proc_start_time(getpid())));
    if (s->init_pid) {
        json_object_set_new(j, "init_pid", json_integer(s->init_pid));
        json_object_set_new(j, "init_start",
                            json_integer((json_int_t)s->init_start));
        json_object_set_new(j, "started_at", json_integer(s->started_at));
    }
    _cleanup_free_ char *text = jx_dumps(j);
    json_decref(j);
    _cleanup_free_ char *path = xasprintf("%s/%s", s->a.dir, SHIM_STATE_FILE);
    struct err err = {0};
    if (fs_write_file_atomic(path, text, strlen(text), 0600, &err) < 0)
        shim_log("%s", err.msg);
}

static void shim_write_exit(struct shim *s)
{
    json_t *j = json_object();
    int code;
    if (s->init_done)
        code = WIFEXITED(s->init_status)     ? WEXITSTATUS(s->init_status)
               : WIFSIGNALED(s->init_status) ? 128 + WTERMSIG(s->init_status)
                                             : 255;
    else
        code = shim_start_error_code(s->error);
    bool oom = false;
    if (s->a.oom_file && s->init_pid)
        oom = cgroup_oom_kills(s->a.oom_file) > 0;
    json_object_set_new(j, "exit_code", json_integer(code));
    json_object_set_new(j, "oom_killed", json_boolean(oom));
    json_object_set_new(j, "pid", json_integer(s->init_pid));
    json_object_set_new(j, "started_at", json_integer(s->started_at));
    json_object_set_new(j, "finished_at", json_integer(time_now_ns()));
    json_object_set_new(j, "error", json_string(s->error));
    _cleanup_free_ char *text = jx_dumps(j);
    json_decref(j);
    _cleanup_free_ char *path = xasprintf("%s/%s", s->a.dir, SHIM_EXIT_FILE);
    struct err err = {0};
    if (fs_write_file_atomic(path, text, strlen(text), 0600, &err) < 0)
        shim_log("%s", err.msg);
}

static int shim_spawn_runc(struct shim *s, int devnull, int out_w, int err_w)
{
    _cleanup_free_ char *pidfile = xasprintf("%s/%s", s->a.dir, SHIM_PID_FILE);
    _cleanup_free_ char *logfile = xasprintf("%s/%s", s->a.dir, SHIM_RUNC_LOG);
    const char *args[] = {"run",      "--detach",  "--pid-file", pidfile,
                          "--bundle", s->a.bundle, s->a.id,      NULL};
    char **argv = runc_argv(s->a.runtime, s->a.state_root, logfile, args);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, devnull, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w, 1);
    posix_spawn_file_actions_adddup2(&fa, err_w, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGHUP);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    extern char **environ;
    int r = posix_spawn(&s->runc_pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (r != 0) {
        snprintf(s->error, sizeof(s->error), "spawn %s: %s", argv[0],
                 strerror(r));
        runc_argv_free(argv);
        return -1;
    }
    runc_argv_free(argv);
    return 0;
}

static void shim_fail(struct shim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void shim_fail(struct shim *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
    s->failed = true;
    shim_log("start failed: %s", s->error);
}

static void shim_on_runc_exit(struct shim *s, int status)
{
    s->runc_done = true;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        _cleanup_free_ char *logfile =
            xasprintf("%s/%s", s->a.dir, SHIM_RUNC_LOG);
        _cleanup_free_ char *msg = runc_log_last_error(logfile);
        if (msg)
            shim_fail(s, "%s", msg);
        else if (WIFEXITED(status))
            shim_fail(s, "%s exited with status %d", s->a.runtime,
                      WEXITSTATUS(status));
        else
            shim_fail(s, "%s killed by signal %d", s->a.runtime,
                      WTERMSIG(status));
        return;
    }
    _cleanup_free_ char *pidfile = xasprintf("%s/%s", s->a.dir, SHIM_PID_FILE);
    _cleanup_free_ char *text = NULL;
    struct err err = {0};
    long pid = 0;
    if (fs_read_file(pidfile, &text, NULL, &err) == 0)
        pid = strtol(text, NULL, 10);
    if (pid <= 0) {
        shim_fail(s, "%s did not report the container's pid", s->a.runtime);
        return;
    }
    s->init_pid = (pid_t)pid;
    s->init_start = proc_start_time(s->init_pid);
    s->started_at = time_now_ns();
    for (int i = 0; i < s->n_early; i++) {
        if (s->early_pid[i] == s->init_pid) {
            s->init_done = true;
            s->init_status = s->early_status[i];
        }
    }
    shim_write_state(s);
    char line[128];
    int n =
        snprintf(line, sizeof(line), "started %d %llu %lld\n", s->init_pid,
                 (unsigned long long)s->init_start, (long long)s->started_at);
    /* shoald may be gone (EPIPE, SIGPIPE ignored): the files say it too. */
    if (s->status_fd >= 0 && write(s->status_fd, line, (size_t)n) < 0) {
        close(s->status_fd);
        s->status_fd = -1;
    }
}

static void shim_reap(struct shim *s)
{
    struct signalfd_siginfo si;
    while (read(s->sfd, &si, sizeof(si)) == sizeof(si)) {
    }
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        if (pid == s->runc_pid) {
            shim_on_runc_exit(s, status);
        } else if (s->init_pid && pid == s->init_pid) {
            s->init_done = true;
            s->init_status = status;
        } else if (!s->init_pid && s->n_early < 32) {
            s->early_pid[s->n_early] = pid;
            s->early_status[s->n_early++] = status;
        }
    }
}

static void shim_read_stream(struct shim *s, int *fd, int stream)
{
    char chunk[65536];
    ssize_t n = read(*fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    struct err err = {0};
    if (n > 0) {
        if (ctrlog_writer_feed(s->log, stream, chunk, (size_t)n, time_now_ns(),
                               &err) < 0)
            shim_log("%s", err.msg);
        return;
    }
    ctrlog_writer_flush(s->log, stream, time_now_ns(), &err);
    close(*fd);
    *fd = -1;
}

static void shim_loop(struct shim *s)
{
    int64_t drain_until = 0;
    for (;;) {
        bool over = s->failed || s->init_done;
        if (over && s->out_fd < 0 && s->err_fd < 0)
            break;
        int timeout = -1;
        if (over) {
            if (!drain_until)
                drain_until = time_mono_ms() + SHIM_DRAIN_MS;
            int64_t left = drain_until - time_mono_ms();
            if (left <= 0)
                break;
            timeout = (int)left;
        }
        struct pollfd p[3] = {
            {.fd = s->sfd, .events = POLLIN},
            {.fd = s->out_fd, .events = POLLIN},
            {.fd = s->err_fd, .events = POLLIN},
        };
        int r = poll(p, 3, timeout);
        if (r < 0 && errno != EINTR) {
            shim_log("poll: %s", strerror(errno));
            break;
        }
        if (r <= 0)
            continue;
        if (p[0].revents)
            shim_reap(s);
        if (p[1].revents && s->out_fd >= 0)
            shim_read_stream(s, &s->out_fd, 1);
        if (p[2].revents && s->err_fd >= 0)
            shim_read_stream(s, &s->err_fd, 2);
    }
}

static int shim_setup_stdio(struct shim *s)
{
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
        return -1;
    dup2(devnull, 0);
    _cleanup_free_ char *errpath = xasprintf("%s/%s", s->a.dir, SHIM_STDERR);
    int errfd = open(errpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (errfd >= 0) {
        dup2(errfd, 2);
        close(errfd);
    }
    /* Our stdout is the pipe to shoald; keep it off fd 1 so nothing else
     * writes there by accident. */
    s->status_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
    dup2(devnull, 1);
    return devnull;
}

int shim_main(int argc, char **argv)
{
    struct shim s = {.status_fd = -1, .sfd = -1, .out_fd = -1, .err_fd = -1};
    if (shim_parse(&s, argc, argv) < 0) {
        fprintf(stderr, "usage: shim --id ID --dir DIR --bundle DIR "
                        "--runtime PATH --root DIR [--log-max N] "
                        "[--oom-file F]\n");
        return 2;
    }
    /* Our own session, so signals to shoald's process group and its
     * terminal do not reach us; subreaper, so the container's init
     * becomes our child once runc exits. */
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    if (chdir("/") < 0) {
        /* never fails for "/" */
    }
    /* The container inherits our limits and, having no CAP_SYS_RESOURCE,
     * can only lower them: give it the room Docker's default asks for
     * (dockerd runs with LimitNOFILE=infinity). Best effort. */
    struct rlimit nofile = {OCI_NOFILE_DEFAULT, OCI_NOFILE_DEFAULT};
    struct rlimit cur;
    if (getrlimit(RLIMIT_NOFILE, &cur) == 0 &&
        cur.rlim_max < OCI_NOFILE_DEFAULT)
        setrlimit(RLIMIT_NOFILE, &nofile);
    int devnull = shim_setup_stdio(&s);
    if (devnull < 0)
        return 1;
    shim_write_state(&s);

    struct err err = {0};
    _cleanup_free_ char *logpath = xasprintf("%s/%s", s.a.dir, SHIM_LOG_FILE);
    s.log = ctrlog_writer_open(logpath, s.a.log_max, &err);
    if (!s.log)
        shim_log("%s (output will be lost)", err.msg);

    int out[2], errp[2];
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        shim_fail(&s, "create pipes: %s", strerror(errno));
        shim_write_exit(&s);
        return 1;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    s.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

    if (shim_spawn_runc(&s, devnull, out[1], errp[1]) < 0) {
        s.failed = true;
        shim_log("%s", s.error);
    }
    close(out[1]);
    close(errp[1]);
    close(devnull);
    s.out_fd = out[0];
    s.err_fd = errp[0];
    fcntl(s.out_fd, F_SETFL, O_NONBLOCK);
    fcntl(s.err_fd, F_SETFL, O_NONBLOCK);

    shim_loop(&s);

    if (s.out_fd >= 0)
        close(s.out_fd);
    if (s.err_fd >= 0)
        close(s.err_fd);
    ctrlog_writer_close(s.log);
    shim_write_exit(&s);
    if (s.status_fd >= 0)
        close(s.status_fd);
    close(s.sfd);
    return 0;
}
