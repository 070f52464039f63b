// SPDX-License-Identifier: Apache-2.0
// A process run inside a running container (health probes): `runc exec`
// with the container's own process settings, stdout and stderr captured
// into one bounded buffer, and a timeout that kills the process it started
// in the container (whose pid it writes to a pid file). `runc exec` itself
// is left to reap it and exit: killed, it would leave its children to
// shoald (a subreaper that does not reap strangers), and an unreaped
// zombie of the container's pid namespace keeps that namespace's init from
// ever finishing its exit.
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "runtime/container.h"
#include "runtime/runc.h"

/* After the exec exits, how long to wait for the output pipe's EOF (a
 * child of the probe may still hold it). */
#define DRAIN_MS 50
/* While killing: how often to look for the pid file again, and after how
 * long `runc exec` itself is killed as a last resort. */
#define KILL_RETRY_MS 20
#define KILL_LAST_MS  5000

struct ctr_exec {
    uv_process_t proc;
    uv_pipe_t out;
    uv_timer_t timer;
    int open_handles;
    bool exited, eof, done, cancelled, timed_out, killing;
    int64_t kill_since; /* monotonic ms */
    int status;
    size_t max_output;
    struct buf output;
    char *pid_file;
    int64_t start_ns, end_ns;
    ctr_exec_fn cb;
    void *data;
};

static void exec_closed(uv_handle_t *h)
{
    struct ctr_exec *x = h->data;
    if (--x->open_handles > 0)
        return;
    if (x->pid_file)
        unlink(x->pid_file);
    free(x->pid_file);
    buf_fini(&x->output);
    free(x);
}

static void exec_close(struct ctr_exec *x)
{
    uv_close((uv_handle_t *)&x->proc, exec_closed);
    uv_close((uv_handle_t *)&x->out, exec_closed);
    uv_close((uv_handle_t *)&x->timer, exec_closed);
}

static void on_timer(uv_timer_t *t);

/* Kills what runc exec started in the container, once its pid is known;
 * runc exec then reaps it and exits. Retried until it has. */
static void exec_kill(struct ctr_exec *x)
{
    if (x->exited)
        return;
    if (!x->killing) {
        x->killing = true;
        x->kill_since = time_mono_ms();
    }
    _cleanup_free_ char *text = NULL;
    struct err err = {0};
    long pid = 0;
    if (x->pid_file && fs_read_file(x->pid_file, &text, NULL, &err) == 0)
        pid = strtol(text, NULL, 10);
    if (pid > 1)
        kill((pid_t)pid, SIGKILL);
    if (time_mono_ms() - x->kill_since > KILL_LAST_MS)
        uv_process_kill(&x->proc, SIGKILL);
    uv_timer_start(&x->timer, on_timer, KILL_RETRY_MS, 0);
}

static void exec_finish(struct ctr_exec *x)
{
    if (x->done || !x->exited)
        return;
    x->done = true;
    if (!x->cancelled) {
        char timeout_msg[] = "";
        struct ctr_exec_result r = {
            .exit_code = x->timed_out ? -1 : x->status,
            .timed_out = x->timed_out,
            .output = x->output.data ? x->output.data : timeout_msg,
            .start_ns = x->start_ns,
            .end_ns = x->end_ns,
        };
        x->cb(x->data, &r);
    }
    exec_close(x);
}

static void on_timer(uv_timer_t *t)
{
    struct ctr_exec *x = t->data;
    if (x->exited) {
        /* Drain time is over: finish without waiting for EOF. */
        exec_finish(x);
        return;
    }
    if (!x->killing && !x->cancelled) {
        x->timed_out = true;
        x->end_ns = time_now_ns();
    }
    exec_kill(x);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int signo)
{
    struct ctr_exec *x = p->data;
    x->exited = true;
    x->status = signo ? 128 + signo : (int)status;
    uv_timer_stop(&x->timer);
    if (!x->timed_out)
        x->end_ns = time_now_ns();
    if (x->eof || x->cancelled) {
        exec_finish(x);
        return;
    }
    uv_timer_start(&x->timer, on_timer, DRAIN_MS, 0);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    b->base = xmalloc(4096);
    b->len = 4096;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct ctr_exec *x = s->data;
    if (n > 0 && x->output.len < x->max_output) {
        size_t room = x->max_output - x->output.len;
        buf_append(&x->output, b->base, (size_t)n < room ? (size_t)n : room);
    }
    free(b->base);
    if (n < 0) {
        uv_read_stop(s);
        x->eof = true;
        exec_finish(x);
    }
}

struct ctr_exec *ctr_exec_start(struct runtime *rt, const char *id,
                                const char *const *argv, int64_t timeout_ns,
                                size_t max_output, ctr_exec_fn cb, void *data,
                                struct err *err)
{
    struct ctr_exec_target tg;
    if (ctr_exec_target(rt, id, &tg, err) < 0)
        return NULL;
    size_t n = 0;
    while (argv[n])
        n++;
    if (n == 0) {
        err_set(err, ERR_INVALID, "exec: no command");
        return NULL;
    }
    static unsigned seq;
    struct ctr_exec *x = xcalloc(1, sizeof(*x));
    x->pid_file = xasprintf("%s/exec-%d-%u.pid", tg.dir, (int)getpid(), ++seq);
    x->max_output = max_output;
    x->cb = cb;
    x->data = data;
    buf_init(&x->output);

    const char **args = xcalloc(n + 5, sizeof(*args));
    size_t k = 0;
    args[k++] = "exec";
    args[k++] = "--pid-file";
    args[k++] = x->pid_file;
    args[k++] = tg.id;
    for (size_t i = 0; i < n; i++)
        args[k++] = argv[i];
    char **full = runc_argv(tg.runc->path, tg.runc->state_root, NULL, args);
    free(args);

    /* One pipe for stdout and stderr, so the output keeps its order. */
    uv_file fds[2];
    int rc = uv_pipe(fds, 0, 0);
    if (rc < 0) {
        runc_argv_free(full);
        free(x->pid_file);
        buf_fini(&x->output);
        free(x);
        err_set(err, ERR_INTERNAL, "exec: pipe: %s", uv_strerror(rc));
        return NULL;
    }
    uv_pipe_init(tg.loop, &x->out, 0);
    uv_timer_init(tg.loop, &x->timer);
    x->out.data = x->proc.data = x->timer.data = x;
    x->open_handles = 2;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = fds[1]},
        {.flags = UV_INHERIT_FD, .data.fd = fds[1]},
    };
    uv_process_options_t opts = {
        .exit_cb = on_exit_cb,
        .file = full[0],
        .args = full,
        .stdio_count = 3,
        .stdio = stdio,
    };
    x->start_ns = time_now_ns();
    rc = uv_spawn(tg.loop, &x->proc, &opts);
    runc_argv_free(full);
    close(fds[1]);
    x->open_handles++;
    if (rc < 0) {
        close(fds[0]);
        free(x->pid_file);
        x->pid_file = NULL;
        x->done = true;
        exec_close(x);
        err_set(err, ERR_INTERNAL, "exec: spawn %s: %s", tg.runc->path,
                uv_strerror(rc));
        return NULL;
    }
    uv_pipe_open(&x->out, fds[0]);
    uv_read_start((uv_stream_t *)&x->out, on_alloc, on_read);
    if (timeout_ns > 0)
        uv_timer_start(&x->timer, on_timer,
                       (uint64_t)((timeout_ns + 999999) / 1000000), 0);
    return x;
}

void ctr_exec_cancel(struct ctr_exec *x)
{
    if (!x || x->done)
        return;
    x->cancelled = true;
    /* Closed once the process has exited (so it is reaped). */
    if (x->exited) {
        uv_timer_stop(&x->timer);
        exec_finish(x);
        return;
    }
    exec_kill(x);
}
