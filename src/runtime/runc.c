// SPDX-License-Identifier: Apache-2.0
// The OCI runtime binary: detection (runc by default, crun on pure cgroup v2
// hosts, or what the configuration names), its version, and invocations
// through uv_spawn whose stdout and stderr come back to a callback, so that
// `runc delete` and friends never block the loop.
#include "runtime/runc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "runtime/cgroup.h"

char *runc_find_in_path(const char *name)
{
    if (strchr(name, '/'))
        return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
    const char *path = getenv("PATH");
    _cleanup_free_ char *copy =
        xstrdup(path && *path ? path
                              : "/usr/local/sbin:/usr/local/bin:"
                                "/usr/sbin:/usr/bin:/sbin:/bin");
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        char *cand = xasprintf("%s/%s", dir, name);
        if (access(cand, X_OK) == 0)
            return cand;
        free(cand);
    }
    return NULL;
}

char **runc_argv(const char *path, const char *state_root, const char *log_path,
                 const char *const *args)
{
    size_t n = 0;
    while (args && args[n])
        n++;
    char **argv = xcalloc(n + 8, sizeof(*argv));
    size_t k = 0;
    argv[k++] = xstrdup(path);
    argv[k++] = xstrdup("--root");
    argv[k++] = xstrdup(state_root);
    if (log_path) {
        argv[k++] = xstrdup("--log");
        argv[k++] = xstrdup(log_path);
        argv[k++] = xstrdup("--log-format");
        argv[k++] = xstrdup("json");
    }
    for (size_t i = 0; i < n; i++)
        argv[k++] = xstrdup(args[i]);
    argv[k] = NULL;
    return argv;
}

void runc_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}

/* Strips surrounding whitespace in place; returns s. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
                 s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Unquotes the msg="..." field of a logrus text line into out. */
static bool logrus_msg(const char *line, struct buf *out)
{
    const char *m = strstr(line, "msg=\"");
    if (!m)
        return false;
    for (const char *p = m + 5; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            buf_putc(out, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
        } else if (*p == '"') {
            return true;
        } else {
            buf_putc(out, *p);
        }
    }
    return true;
}

char *runc_trim_stderr(const char *text)
{
    _cleanup_free_ char *copy = xstrdup(text ? text : "");
    char *last = NULL;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *t = trim(line);
        if (*t)
            last = t;
    }
    if (!last)
        return xstrdup("");
    if (strncmp(last, "time=", 5) == 0) {
        struct buf b;
        buf_init(&b);
        if (logrus_msg(last, &b) && b.len)
            return buf_steal(&b);
        buf_fini(&b);
    }
    return xstrdup(last);
}

char *runc_log_last_error(const char *log_path)
{
    _cleanup_free_ char *text = NULL;
    struct err err = {0};
    if (fs_read_file(log_path, &text, NULL, &err) < 0)
        return NULL;
    char *found = NULL;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        _cleanup_json_ json_t *j = json_loads(line, 0, NULL);
        const char *level = jx_str(j, "level");
        const char *msg = jx_str(j, "msg");
        if (!msg || !level ||
            (strcmp(level, "error") != 0 && strcmp(level, "fatal") != 0))
            continue;
        free(found);
        found = xstrdup(msg);
    }
    return found;
}

/* ---- asynchronous invocations ---- */

struct runc_call {
    uv_process_t proc;
    uv_pipe_t out_pipe;
    uv_pipe_t err_pipe;
    struct buf out;
    struct buf errtext;
    int open_handles;
    int pending; /* exit + two EOFs */
    int status;
    runc_done_fn cb;
    void *data;
};

static void call_closed(uv_handle_t *h)
{
    struct runc_call *c = h->data;
    if (--c->open_handles > 0)
        return;
    buf_fini(&c->out);
    buf_fini(&c->errtext);
    free(c);
}

static void call_step(struct runc_call *c)
{
    if (--c->pending > 0)
        return;
    _cleanup_free_ char *msg = runc_trim_stderr(c->errtext.data);
    c->cb(c->data, c->status, c->out.data ? c->out.data : "", msg);
    uv_close((uv_handle_t *)&c->proc, call_closed);
    uv_close((uv_handle_t *)&c->out_pipe, call_closed);
    uv_close((uv_handle_t *)&c->err_pipe, call_closed);
}

static void call_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    b->base = xmalloc(4096);
    b->len = 4096;
}

static void call_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct runc_call *c = s->data;
    struct buf *dst = s == (uv_stream_t *)&c->out_pipe ? &c->out : &c->errtext;
    if (n > 0 && dst->len < 1024 * 1024)
        buf_append(dst, b->base, (size_t)n);
    free(b->base);
    if (n < 0) {
        uv_read_stop(s);
        call_step(c);
    }
}

static void call_exit(uv_process_t *p, int64_t status, int signo)
{
    struct runc_call *c = p->data;
    c->status = signo ? 128 + signo : (int)status;
    call_step(c);
}

int runc_exec_async(uv_loop_t *loop, const struct runc *r,
                    const char *const *args, runc_done_fn cb, void *data,
                    struct err *err)
{
    char **argv = runc_argv(r->path, r->state_root, NULL, args);
    struct runc_call *c = xcalloc(1, sizeof(*c));
    c->cb = cb;
    c->data = data;
    buf_init(&c->out);
    buf_init(&c->errtext);
    uv_pipe_init(loop, &c->out_pipe, 0);
    uv_pipe_init(loop, &c->err_pipe, 0);
    c->out_pipe.data = c->err_pipe.data = c->proc.data = c;
    c->open_handles = 2;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
         .data.stream = (uv_stream_t *)&c->out_pipe},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
         .data.stream = (uv_stream_t *)&c->err_pipe},
    };
    uv_process_options_t opts = {
        .exit_cb = call_exit,
        .file = argv[0],
        .args = argv,
        .stdio_count = 3,
        .stdio = stdio,
    };
    int rc = uv_spawn(loop, &c->proc, &opts);
    runc_argv_free(argv);
    if (rc < 0) {
        /* libuv leaves the handle initialised even on failure. */
        c->open_handles++;
        uv_close((uv_handle_t *)&c->proc, call_closed);
        uv_close((uv_handle_t *)&c->out_pipe, call_closed);
        uv_close((uv_handle_t *)&c->err_pipe, call_closed);
        return err_set(err, ERR_INTERNAL, "spawn %s: %s", r->path,
                       uv_strerror(rc));
    }
    c->open_handles++;
    c->pending = 3;
    uv_read_start((uv_stream_t *)&c->out_pipe, call_alloc, call_read);
    uv_read_start((uv_stream_t *)&c->err_pipe, call_alloc, call_read);
    return 0;
}

/* ---- detection ---- */

struct version_result {
    bool done;
    int status;
    char *out;
    char *errmsg;
};

static void version_done(void *data, int status, const char *out,
                         const char *errmsg)
{
    struct version_result *v = data;
    v->done = true;
    v->status = status;
    v->out = xstrdup(out);
    v->errmsg = xstrdup(errmsg);
}

/* `<path> --version` on a private loop: this runs once at startup. */
static char *query_version(const char *path, struct err *err)
{
    uv_loop_t loop;
    int rc = uv_loop_init(&loop);
    if (rc < 0) {
        err_set(err, ERR_INTERNAL, "init loop: %s", uv_strerror(rc));
        return NULL;
    }
    char *argv[] = {(char *)path, (char *)"--version", NULL};
    struct runc_call *c = xcalloc(1, sizeof(*c));
    struct version_result v = {0};
    c->cb = version_done;
    c->data = &v;
    buf_init(&c->out);
    buf_init(&c->errtext);
    uv_pipe_init(&loop, &c->out_pipe, 0);
    uv_pipe_init(&loop, &c->err_pipe, 0);
    c->out_pipe.data = c->err_pipe.data = c->proc.data = c;
    c->open_handles = 3;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
         .data.stream = (uv_stream_t *)&c->out_pipe},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
         .data.stream = (uv_stream_t *)&c->err_pipe},
    };
    uv_process_options_t opts = {
        .exit_cb = call_exit,
        .file = path,
        .args = argv,
        .stdio_count = 3,
        .stdio = stdio,
    };
    rc = uv_spawn(&loop, &c->proc, &opts);
    if (rc < 0) {
        uv_close((uv_handle_t *)&c->proc, call_closed);
        uv_close((uv_handle_t *)&c->out_pipe, call_closed);
        uv_close((uv_handle_t *)&c->err_pipe, call_closed);
        err_set(err, ERR_INTERNAL, "spawn %s: %s", path, uv_strerror(rc));
    } else {
        c->pending = 3;
        uv_read_start((uv_stream_t *)&c->out_pipe, call_alloc, call_read);
        uv_read_start((uv_stream_t *)&c->err_pipe, call_alloc, call_read);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    char *version = NULL;
    if (rc >= 0 && v.done && v.status == 0) {
        char *nl = strchr(v.out, '\n');
        if (nl)
            *nl = '\0';
        version = xstrdup(trim(v.out));
    } else if (rc >= 0) {
        err_set(err, ERR_INTERNAL, "%s --version: exit status %d: %s", path,
                v.status, v.errmsg ? v.errmsg : "");
    }
    free(v.out);
    free(v.errmsg);
    return version;
}

int runc_init(struct runc *r, const char *override, const char *state_root,
              struct err *err)
{
    memset(r, 0, sizeof(*r));
    const char *want = override && *override ? override : NULL;
    if (!want) {
        want = "runc";
        if (cgroup_is_unified()) {
            /* crun is the better fit for cgroup v2 when it is there. */
            char *crun = runc_find_in_path("crun");
            if (crun)
                want = "crun";
            free(crun);
        }
    }
    r->path = runc_find_in_path(want);
    if (!r->path) {
        err_set(err, ERR_INTERNAL, "OCI runtime \"%s\" not found in PATH",
                want);
        return -1;
    }
    const char *base = strrchr(r->path, '/');
    r->name = xstrdup(base ? base + 1 : r->path);
    r->version = query_version(r->path, err);
    if (!r->version) {
        runc_fini(r);
        return err_ctx(err, "OCI runtime");
    }
    r->state_root = xstrdup(state_root);
    return 0;
}

void runc_fini(struct runc *r)
{
    free(r->path);
    free(r->name);
    free(r->version);
    free(r->state_root);
    memset(r, 0, sizeof(*r));
}
