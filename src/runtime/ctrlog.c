// SPDX-License-Identifier: Apache-2.0
// Container logs in Docker's json-file format: the writer the shim uses to
// turn raw stdout/stderr into timestamped JSON lines (with rotation), the
// reader behind `docker logs`, and a follower that tails the file on the
// loop across rotations.
#include "runtime/ctrlog.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

/* ---- encoding ---- */

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (left < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

static void json_escape(struct buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        switch (c) {
        case '"':
            buf_puts(out, "\\\"");
            break;
        case '\\':
            buf_puts(out, "\\\\");
            break;
        case '\n':
            buf_puts(out, "\\n");
            break;
        case '\r':
            buf_puts(out, "\\r");
            break;
        case '\t':
            buf_puts(out, "\\t");
            break;
        default:
            if (c < 0x20) {
                buf_printf(out, "\\u%04x", c);
            } else {
                size_t n = utf8_len(p + i, len - i);
                if (n == 0) {
                    buf_puts(out, "\\ufffd");
                    n = 1;
                } else {
                    buf_append(out, p + i, n);
                }
                i += n;
                continue;
            }
        }
        i++;
    }
}

void ctrlog_encode(struct buf *out, int stream, const char *line, size_t len,
                   int64_t time_ns)
{
    char ts[TIME_STRLEN];
    time_fmt_rfc3339(time_ns, ts);
    buf_puts(out, "{\"log\":\"");
    json_escape(out, line, len);
    buf_printf(out, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
               stream == 2 ? "stderr" : "stdout", ts);
}

int ctrlog_decode(const char *text, size_t len, struct ctr_log_entry *e,
                  char **storage)
{
    *storage = NULL;
    _cleanup_json_ json_t *j = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
    if (!json_is_object(j))
        return -1;
    json_t *logv = json_object_get(j, "log");
    const char *stream = jx_str(j, "stream");
    const char *ts = jx_str(j, "time");
    if (!json_is_string(logv) || !stream || !ts)
        return -1;
    if (strcmp(stream, "stdout") == 0)
        e->stream = 1;
    else if (strcmp(stream, "stderr") == 0)
        e->stream = 2;
    else
        return -1;
    if (time_parse_rfc3339(ts, &e->time_ns) < 0)
        return -1;
    size_t n = json_string_length(logv);
    char *copy = xmalloc(n + 1);
    memcpy(copy, json_string_value(logv), n);
    copy[n] = '\0';
    e->line = copy;
    e->len = n;
    *storage = copy;
    return 0;
}

/* ---- writer ---- */

struct ctrlog_writer {
    char *path;
    char *path1;
    int fd;
    int64_t size;
    int64_t max_size;
    struct buf partial[2]; /* per stream */
    struct buf line;       /* encoding scratch */
};

static int writer_open_fd(struct ctrlog_writer *w, struct err *err)
{
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (w->fd < 0)
        return err_sys(err, errno, "open log '%s'", w->path);
    struct stat st;
    w->size = fstat(w->fd, &st) == 0 ? st.st_size : 0;
    return 0;
}

struct ctrlog_writer *ctrlog_writer_open(const char *path, int64_t max_size,
                                         struct err *err)
{
    struct ctrlog_writer *w = xcalloc(1, sizeof(*w));
    w->path = xstrdup(path);
    w->path1 = xasprintf("%s.1", path);
    w->max_size = max_size;
    buf_init(&w->partial[0]);
    buf_init(&w->partial[1]);
    buf_init(&w->line);
    if (writer_open_fd(w, err) < 0) {
        w->fd = -1;
        ctrlog_writer_close(w);
        return NULL;
    }
    return w;
}

void ctrlog_writer_close(struct ctrlog_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        struct err err = {0};
        int64_t now = time_now_ns();
        for (int s = 1; s <= 2; s++)
            ctrlog_writer_flush(w, s, now, &err);
        close(w->fd);
    }
    buf_fini(&w->partial[0]);
    buf_fini(&w->partial[1]);
    buf_fini(&w->line);
    free(w->path);
    free(w->path1);
    free(w);
}

/* Readers open "log.json" by name: after the rename they finish the old
 * file through their open descriptor and then pick up the new one. */
static int writer_rotate(struct ctrlog_writer *w, struct err *err)
{
    close(w->fd);
    w->fd = -1;
    if (rename(w->path, w->path1) < 0 && errno != ENOENT)
        log_warn("rotate log '%s': %s", w->path, strerror(errno));
    return writer_open_fd(w, err);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t r = write(fd, p, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int ctrlog_write_entry(struct ctrlog_writer *w, int stream, const char *line,
                       size_t len, int64_t time_ns, struct err *err)
{
    if (w->fd < 0 && writer_open_fd(w, err) < 0)
        return -1;
    buf_reset(&w->line);
    ctrlog_encode(&w->line, stream, line, len, time_ns);
    if (w->max_size > 0 && w->size > 0 &&
        w->size + (int64_t)w->line.len > w->max_size &&
        writer_rotate(w, err) < 0)
        return -1;
    if (write_all(w->fd, w->line.data, w->line.len) < 0)
        return err_sys(err, errno, "write log '%s'", w->path);
    w->size += (int64_t)w->line.len;
    return 0;
}

int ctrlog_writer_feed(struct ctrlog_writer *w, int stream, const char *data,
                       size_t len, int64_t now_ns, struct err *err)
{
    struct buf *b = &w->partial[stream == 2 ? 1 : 0];
    buf_append(b, data, len);
    size_t off = 0;
    int r = 0;
    while (off < b->len) {
        const char *start = b->data + off;
        size_t left = b->len - off;
        const char *nl = memchr(start, '\n', left);
        size_t n;
        if (nl)
            n = (size_t)(nl - start) + 1;
        else if (left >= CTRLOG_LINE_MAX)
            n = CTRLOG_LINE_MAX;
        else
            break;
        if (n > CTRLOG_LINE_MAX)
            n = CTRLOG_LINE_MAX;
        if (ctrlog_write_entry(w, stream, start, n, now_ns, err) < 0)
            r = -1; /* keep consuming: a full disk must not stall output */
        off += n;
    }
    buf_consume(b, off);
    return r;
}

int ctrlog_writer_flush(struct ctrlog_writer *w, int stream, int64_t now_ns,
                        struct err *err)
{
    struct buf *b = &w->partial[stream == 2 ? 1 : 0];
    if (b->len == 0)
        return 0;
    int r = ctrlog_write_entry(w, stream, b->data, b->len, now_ns, err);
    buf_reset(b);
    return r;
}

/* ---- reader ---- */

/* Like fs_read_file, but a missing file is empty (*out NULL). */
static int read_file_opt(const char *path, char **out, size_t *len,
                         struct err *err)
{
    *out = NULL;
    *len = 0;
    if (fs_read_file(path, out, len, err) == 0)
        return 0;
    if (err->code == ERR_NOTFOUND) {
        err_clear(err);
        return 0;
    }
    return -1;
}

static bool entry_passes(const struct ctr_log_options *o,
                         const struct ctr_log_entry *e)
{
    if (e->stream == 1 && !o->stdout_)
        return false;
    if (e->stream == 2 && !o->stderr_)
        return false;
    if (o->since > 0 && e->time_ns < o->since)
        return false;
    if (o->until > 0 && e->time_ns > o->until)
        return false;
    return true;
}

/* Walks the lines of text; deliver=false only counts matches. Returns the
 * number of matches, or -1 if fn asked to stop. */
static long scan_text(const char *text, size_t len,
                      const struct ctr_log_options *o, long skip, bool deliver,
                      long *seen, ctr_log_fn fn, void *data)
{
    size_t off = 0;
    long matched = 0;
    while (off < len) {
        const char *start = text + off;
        const char *nl = memchr(start, '\n', len - off);
        size_t n = nl ? (size_t)(nl - start) : len - off;
        off += n + (nl ? 1 : 0);
        if (!nl)
            break; /* a line still being written */
        struct ctr_log_entry e;
        _cleanup_free_ char *storage = NULL;
        if (ctrlog_decode(start, n, &e, &storage) < 0)
            continue;
        if (!entry_passes(o, &e))
            continue;
        matched++;
        if (!deliver)
            continue;
        if ((*seen)++ < skip)
            continue;
        if (fn(data, &e) != 0)
            return -1;
    }
    return matched;
}

int ctrlog_read(const char *path, const struct ctr_log_options *opts,
                ctr_log_fn fn, void *data, struct err *err)
{
    _cleanup_free_ char *path1 = xasprintf("%s.1", path);
    const char *paths[2] = {path1, path};
    char *text[2] = {NULL, NULL};
    size_t len[2] = {0, 0};
    int r = 0;
    for (int i = 0; i < 2 && r == 0; i++) {
        struct err e2 = {0};
        if (read_file_opt(paths[i], &text[i], &len[i], &e2) < 0) {
            *err = e2;
            r = err_ctx(err, "read logs");
        }
    }
    if (r == 0) {
        long skip = 0;
        if (opts->tail >= 0) {
            long total = 0;
            for (int i = 0; i < 2; i++)
                if (text[i])
                    total += scan_text(text[i], len[i], opts, 0, false, NULL,
                                       fn, data);
            skip = total > opts->tail ? total - opts->tail : 0;
        }
        long seen = 0;
        for (int i = 0; i < 2; i++) {
            if (text[i] && scan_text(text[i], len[i], opts, skip, true, &seen,
                                     fn, data) < 0)
                break;
        }
    }
    free(text[0]);
    free(text[1]);
    return r;
}

/* ---- follower ---- */

struct ctrlog_follow {
    uv_loop_t *loop;
    char *path;
    char *dir;
    struct ctr_log_options opts;
    ctr_log_fn fn;
    void (*done)(void *);
    void *data;
    int fd;
    dev_t dev;
    ino_t ino;
    struct buf pending; /* bytes after the last complete line */
    uv_fs_event_t ev;
    uv_timer_t timer;
    int open_handles;
    bool polling;  /* no inotify: the timer polls */
    bool finished; /* the writer is done */
    bool quiet;    /* stopped, or fn asked to stop: no more callbacks */
};

static void follow_deliver_lines(struct ctrlog_follow *f)
{
    size_t off = 0;
    while (!f->quiet && off < f->pending.len) {
        const char *start = f->pending.data + off;
        const char *nl = memchr(start, '\n', f->pending.len - off);
        if (!nl)
            break;
        size_t n = (size_t)(nl - start);
        off += n + 1;
        struct ctr_log_entry e;
        _cleanup_free_ char *storage = NULL;
        if (ctrlog_decode(start, n, &e, &storage) < 0 ||
            !entry_passes(&f->opts, &e))
            continue;
        if (f->fn(f->data, &e) != 0)
            f->quiet = true;
    }
    buf_consume(&f->pending, off);
}

static void follow_drain(struct ctrlog_follow *f)
{
    char chunk[16384];
    for (;;) {
        ssize_t r = read(f->fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        buf_append(&f->pending, chunk, (size_t)r);
        follow_deliver_lines(f);
        if (f->quiet)
            return;
    }
}

/* Reads everything new. A rotation shows as the name pointing to another
 * inode: finish the old file through our descriptor, then open the new
 * one from its start. */
static void follow_pump(struct ctrlog_follow *f)
{
    while (!f->quiet) {
        if (f->fd < 0) {
            f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
            if (f->fd < 0)
                return;
            struct stat st;
            if (fstat(f->fd, &st) == 0) {
                f->dev = st.st_dev;
                f->ino = st.st_ino;
            }
            buf_reset(&f->pending);
        }
        follow_drain(f);
        struct stat st;
        int sr = stat(f->path, &st);
        if (sr == 0 && st.st_dev == f->dev && st.st_ino == f->ino)
            return;
        follow_drain(f);
        close(f->fd);
        f->fd = -1;
        if (sr < 0)
            return; /* between rename and create: the next event opens */
    }
}

static void follow_handle_closed(uv_handle_t *h)
{
    struct ctrlog_follow *f = h->data;
    if (--f->open_handles > 0)
        return;
    if (f->fd >= 0)
        close(f->fd);
    buf_fini(&f->pending);
    free(f->path);
    free(f->dir);
    free(f);
}

static void follow_on_event(uv_fs_event_t *h, const char *filename, int events,
                            int status)
{
    (void)filename;
    (void)events;
    (void)status;
    struct ctrlog_follow *f = h->data;
    follow_pump(f);
}

static void follow_on_timer(uv_timer_t *t)
{
    struct ctrlog_follow *f = t->data;
    follow_pump(f);
    if (!f->finished || f->quiet)
        return;
    /* The writer is gone, so what we read now is all there is. */
    f->quiet = true;
    uv_timer_stop(&f->timer);
    uv_fs_event_stop(&f->ev);
    if (f->done)
        f->done(f->data);
}

struct ctrlog_follow *ctrlog_follow_start(uv_loop_t *loop, const char *path,
                                          const struct ctr_log_options *opts,
                                          ctr_log_fn fn, void (*done)(void *),
                                          void *data, struct err *err)
{
    struct ctrlog_follow *f = xcalloc(1, sizeof(*f));
    f->loop = loop;
    f->path = xstrdup(path);
    _cleanup_free_ char *tmp = xstrdup(path);
    f->dir = xstrdup(dirname(tmp));
    f->opts = *opts;
    f->fn = fn;
    f->done = done;
    f->data = data;
    buf_init(&f->pending);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd >= 0) {
        struct stat st;
        if (fstat(f->fd, &st) < 0 || lseek(f->fd, 0, SEEK_END) < 0) {
            err_sys(err, errno, "follow log '%s'", path);
            close(f->fd);
            buf_fini(&f->pending);
            free(f->path);
            free(f->dir);
            free(f);
            return NULL;
        }
        f->dev = st.st_dev;
        f->ino = st.st_ino;
    }
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    f->open_handles++;
    uv_fs_event_init(loop, &f->ev);
    f->ev.data = f;
    f->open_handles++;
    if (uv_fs_event_start(&f->ev, follow_on_event, f->dir, 0) < 0) {
        /* No inotify (limits): poll instead. */
        f->polling = true;
        uv_timer_start(&f->timer, follow_on_timer, 250, 250);
    }
    return f;
}

void ctrlog_follow_finish(struct ctrlog_follow *f)
{
    if (f->finished)
        return;
    f->finished = true;
    uv_timer_start(&f->timer, follow_on_timer, 0, 0);
}

void ctrlog_follow_stop(struct ctrlog_follow *f)
{
    if (!f)
        return;
    f->quiet = true;
    uv_close((uv_handle_t *)&f->timer, follow_handle_closed);
    uv_close((uv_handle_t *)&f->ev, follow_handle_closed);
}
