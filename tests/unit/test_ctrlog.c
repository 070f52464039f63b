// SPDX-License-Identifier: Apache-2.0
// Unit tests for src/runtime/ctrlog.c: the json-file writer (partial lines,
// long lines, invalid UTF-8, rotation), the reader (streams, tail,
// since/until, malformed lines) and the follower on a uv loop.
#include "harness.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "runtime/ctrlog.h"

#define T0 1795753828000000000LL

static char *tmpdir_new(void)
{
    char tmpl[] = "/tmp/test_ctrlog.XXXXXX";
    char *d = mkdtemp(tmpl);
    if (!d) {
        perror("mkdtemp");
        exit(1);
    }
    return xstrdup(d);
}

static void tmpdir_free(char *d)
{
    struct err err = {0};
    fs_remove_tree(d, &err);
    free(d);
}

struct collected {
    int n;
    int streams[64];
    int64_t times[64];
    char *lines[64];
    int stop_after; /* 0 = never */
    int done;
};

static int collect(void *data, const struct ctr_log_entry *e)
{
    struct collected *c = data;
    if (c->n < 64) {
        c->streams[c->n] = e->stream;
        c->times[c->n] = e->time_ns;
        c->lines[c->n] = xstrndup(e->line, e->len);
    }
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

static void collected_fini(struct collected *c)
{
    for (int i = 0; i < c->n && i < 64; i++)
        free(c->lines[i]);
    memset(c, 0, sizeof(*c));
}

static const struct ctr_log_options ALL = {
    .stdout_ = true, .stderr_ = true, .tail = -1};

static void test_encode_decode(void)
{
    struct buf b;
    buf_init(&b);
    ctrlog_encode(&b, 1, "hi \"there\"\n", 11, T0 + 5);
    CHECK_STR(b.data, "{\"log\":\"hi \\\"there\\\"\\n\",\"stream\":\"stdout\","
                      "\"time\":\"2026-11-27T04:30:28.000000005Z\"}\n");
    struct ctr_log_entry e;
    char *storage = NULL;
    CHECK_INT(ctrlog_decode(b.data, b.len - 1, &e, &storage), 0);
    CHECK_INT(e.stream, 1);
    CHECK_INT(e.time_ns, T0 + 5);
    CHECK_INT(e.len, 11);
    CHECK(memcmp(e.line, "hi \"there\"\n", 11) == 0);
    free(storage);

    /* Invalid UTF-8 and control bytes still give valid JSON. */
    buf_reset(&b);
    ctrlog_encode(&b, 2, "a\xff\x01\xc3\xa9", 5, T0);
    CHECK(strstr(b.data, "\"a\\ufffd\\u0001\xc3\xa9\"") != NULL);
    CHECK_INT(ctrlog_decode(b.data, b.len - 1, &e, &storage), 0);
    CHECK_INT(e.stream, 2);
    CHECK_INT(e.len, 7); /* U+FFFD is 3 bytes */
    free(storage);

    CHECK_INT(ctrlog_decode("{\"log\":1}", 9, &e, &storage), -1);
    CHECK_INT(ctrlog_decode("nope", 4, &e, &storage), -1);
    CHECK_INT(ctrlog_decode("{\"log\":\"x\",\"stream\":\"bad\",\"time\":"
                            "\"2026-11-27T04:30:28Z\"}",
                            57, &e, &storage),
              -1);
    buf_fini(&b);
}

static void test_write_read(void)
{
    char *dir = tmpdir_new();
    _cleanup_free_ char *path = xasprintf("%s/log.json", dir);
    struct err err = {0};
    struct ctrlog_writer *w = ctrlog_writer_open(path, 0, &err);
    CHECK(w != NULL);
    /* Partial lines wait for their newline, per stream. */
    CHECK_INT(ctrlog_writer_feed(w, 1, "hel", 3, T0 + 1, &err), 0);
    CHECK_INT(ctrlog_writer_feed(w, 2, "err1\ner", 7, T0 + 2, &err), 0);
    CHECK_INT(ctrlog_writer_feed(w, 1, "lo\nworld\n", 9, T0 + 3, &err), 0);
    CHECK_INT(ctrlog_writer_feed(w, 2, "r2\n", 3, T0 + 4, &err), 0);
    CHECK_INT(ctrlog_writer_feed(w, 1, "tail", 4, T0 + 5, &err), 0);
    ctrlog_writer_close(w); /* flushes "tail" */

    struct collected c = {0};
    CHECK_INT(ctrlog_read(path, &ALL, collect, &c, &err), 0);
    CHECK_INT(c.n, 5);
    CHECK_STR(c.lines[0], "err1\n");
    CHECK_INT(c.streams[0], 2);
    CHECK_STR(c.lines[1], "hello\n");
    CHECK_INT(c.streams[1], 1);
    CHECK_STR(c.lines[2], "world\n");
    CHECK_STR(c.lines[3], "err2\n");
    CHECK_STR(c.lines[4], "tail");
    collected_fini(&c);

    /* Stream selection. */
    struct ctr_log_options o = ALL;
    o.stderr_ = false;
    CHECK_INT(ctrlog_read(path, &o, collect, &c, &err), 0);
    CHECK_INT(c.n, 3);
    CHECK_STR(c.lines[0], "hello\n");
    collected_fini(&c);

    /* tail N after filters; tail 0; tail larger than the log. */
    o = ALL;
    o.tail = 2;
    CHECK_INT(ctrlog_read(path, &o, collect, &c, &err), 0);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.lines[0], "err2\n");
    CHECK_STR(c.lines[1], "tail");
    collected_fini(&c);
    o.tail = 0;
    CHECK_INT(ctrlog_read(path, &o, collect, &c, &err), 0);
    CHECK_INT(c.n, 0);
    o.tail = 100;
    CHECK_INT(ctrlog_read(path, &o, collect, &c, &err), 0);
    CHECK_INT(c.n, 5);
    collected_fini(&c);

    /* since / until are inclusive bounds; a line is stamped when it is
     * completed ("hello" at T0 + 3). */
    o = ALL;
    o.since = T0 + 3;
    o.until = T0 + 4;
    CHECK_INT(ctrlog_read(path, &o, collect, &c, &err), 0);
    CHECK_INT(c.n, 3);
    CHECK_STR(c.lines[0], "hello\n");
    CHECK_STR(c.lines[2], "err2\n");
    collected_fini(&c);
    o.since = T0 + 4;
    o.until = 0;
    CHECK_INT(ctrlog_read(path, &o, collect, &c, &err), 0);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.lines[0], "err2\n");
    collected_fini(&c);

    /* Stopping early. */
    c.stop_after = 1;
    CHECK_INT(ctrlog_read(path, &ALL, collect, &c, &err), 0);
    CHECK_INT(c.n, 1);
    collected_fini(&c);

    /* Malformed lines and a trailing incomplete line are skipped. */
    int fd = open(path, O_WRONLY | O_APPEND);
    const char junk[] = "garbage\n{\"log\":\"x\"}\n{\"log\":\"half";
    CHECK(write(fd, junk, sizeof(junk) - 1) == (ssize_t)sizeof(junk) - 1);
    close(fd);
    CHECK_INT(ctrlog_read(path, &ALL, collect, &c, &err), 0);
    CHECK_INT(c.n, 5);
    collected_fini(&c);

    /* A missing log is an empty log. */
    _cleanup_free_ char *missing = xasprintf("%s/none.json", dir);
    CHECK_INT(ctrlog_read(missing, &ALL, collect, &c, &err), 0);
    CHECK_INT(c.n, 0);
    tmpdir_free(dir);
}

static void test_long_lines(void)
{
    char *dir = tmpdir_new();
    _cleanup_free_ char *path = xasprintf("%s/log.json", dir);
    struct err err = {0};
    struct ctrlog_writer *w = ctrlog_writer_open(path, 0, &err);
    size_t n = CTRLOG_LINE_MAX * 2 + 10;
    char *big = xmalloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\n';
    CHECK_INT(ctrlog_writer_feed(w, 1, big, n + 1, T0, &err), 0);
    ctrlog_writer_close(w);
    free(big);
    struct collected c = {0};
    CHECK_INT(ctrlog_read(path, &ALL, collect, &c, &err), 0);
    CHECK_INT(c.n, 3);
    CHECK_INT(strlen(c.lines[0]), CTRLOG_LINE_MAX);
    CHECK_INT(strlen(c.lines[1]), CTRLOG_LINE_MAX);
    CHECK_STR(c.lines[2], "xxxxxxxxxx\n");
    collected_fini(&c);
    tmpdir_free(dir);
}

static void test_rotation(void)
{
    char *dir = tmpdir_new();
    _cleanup_free_ char *path = xasprintf("%s/log.json", dir);
    _cleanup_free_ char *path1 = xasprintf("%s/log.json.1", dir);
    _cleanup_free_ char *path2 = xasprintf("%s/log.json.2", dir);
    struct err err = {0};
    /* Each entry is ~70 bytes: 1000 bytes hold 14 of them. */
    struct ctrlog_writer *w = ctrlog_writer_open(path, 1000, &err);
    char line[32];
    for (int i = 0; i < 100; i++) {
        int len = snprintf(line, sizeof(line), "line %03d\n", i);
        CHECK_INT(ctrlog_writer_feed(w, 1, line, (size_t)len, T0 + i, &err), 0);
    }
    ctrlog_writer_close(w);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size <= 1000);
    CHECK(stat(path1, &st) == 0 && st.st_size <= 1000);
    CHECK(!fs_exists(path2));

    struct collected c = {0};
    CHECK_INT(ctrlog_read(path, &ALL, collect, &c, &err), 0);
    CHECK(c.n > 14 && c.n <= 30);
    /* The newest lines survive, in order, across both files. */
    CHECK_STR(c.lines[c.n - 1], "line 099\n");
    bool ordered = true;
    for (int i = 1; i < c.n; i++)
        ordered = ordered && c.times[i] == c.times[i - 1] + 1;
    CHECK(ordered);
    collected_fini(&c);

    struct ctr_log_options o = ALL;
    o.tail = 10;
    CHECK_INT(ctrlog_read(path, &o, collect, &c, &err), 0);
    CHECK_INT(c.n, 10);
    CHECK_STR(c.lines[0], "line 090\n");
    CHECK_STR(c.lines[9], "line 099\n");
    collected_fini(&c);
    tmpdir_free(dir);
}

/* ---- follow ---- */

struct follow_ctx {
    struct collected c;
    struct ctrlog_writer *w;
    int step;
    uv_timer_t timer;
};

static void on_done(void *data)
{
    struct follow_ctx *fc = data;
    fc->c.done++;
}

static int collect_follow(void *data, const struct ctr_log_entry *e)
{
    struct follow_ctx *fc = data;
    return collect(&fc->c, e);
}

/* Runs the loop until cond holds or the deadline passes. */
static bool run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg,
                      int64_t timeout_ms)
{
    int64_t end = time_mono_ms() + timeout_ms;
    while (!cond(arg)) {
        if (time_mono_ms() > end)
            return false;
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    return true;
}

static int want_n;
static bool have_n(void *arg)
{
    struct follow_ctx *fc = arg;
    return fc->c.n >= want_n;
}
static bool have_done(void *arg)
{
    struct follow_ctx *fc = arg;
    return fc->c.done > 0;
}

static void test_follow(void)
{
    char *dir = tmpdir_new();
    _cleanup_free_ char *path = xasprintf("%s/log.json", dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct err err = {0};
    struct follow_ctx fc = {0};
    fc.w = ctrlog_writer_open(path, 600, &err);
    CHECK_INT(ctrlog_writer_feed(fc.w, 1, "old\n", 4, T0, &err), 0);

    struct ctrlog_follow *f = ctrlog_follow_start(
        &loop, path, &ALL, collect_follow, on_done, &fc, &err);
    CHECK(f != NULL);
    /* Existing lines are not delivered, appended ones are. */
    CHECK_INT(ctrlog_writer_feed(fc.w, 1, "new1\n", 5, T0 + 1, &err), 0);
    CHECK_INT(ctrlog_writer_feed(fc.w, 2, "new2\n", 5, T0 + 2, &err), 0);
    want_n = 2;
    CHECK(run_until(&loop, have_n, &fc, 2000));
    CHECK_INT(fc.c.n, 2);
    CHECK_STR(fc.c.lines[0], "new1\n");
    CHECK_INT(fc.c.streams[1], 2);

    /* Enough lines to rotate several times, written in bursts. */
    char line[32];
    for (int i = 0; i < 30; i++) {
        int len = snprintf(line, sizeof(line), "r%02d\n", i);
        ctrlog_writer_feed(fc.w, 1, line, (size_t)len, T0 + 10 + i, &err);
        if (i % 5 == 4)
            uv_run(&loop, UV_RUN_NOWAIT);
    }
    want_n = 32;
    CHECK(run_until(&loop, have_n, &fc, 2000));
    CHECK_INT(fc.c.n, 32);
    CHECK_STR(fc.c.lines[2], "r00\n");
    CHECK_STR(fc.c.lines[31], "r29\n");
    CHECK_INT(fc.c.done, 0);

    /* Finish: the rest is delivered, then done once. */
    ctrlog_writer_feed(fc.w, 1, "last", 4, T0 + 100, &err);
    ctrlog_writer_close(fc.w);
    ctrlog_follow_finish(f);
    CHECK(run_until(&loop, have_done, &fc, 2000));
    CHECK_INT(fc.c.n, 33);
    CHECK_STR(fc.c.lines[32], "last");
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_INT(fc.c.done, 1);
    ctrlog_follow_stop(f);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    collected_fini(&fc.c);
    tmpdir_free(dir);
}

static void test_follow_missing_then_created(void)
{
    char *dir = tmpdir_new();
    _cleanup_free_ char *path = xasprintf("%s/log.json", dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct err err = {0};
    struct follow_ctx fc = {0};
    struct ctr_log_options o = ALL;
    o.stdout_ = false;
    struct ctrlog_follow *f = ctrlog_follow_start(
        &loop, path, &o, collect_follow, on_done, &fc, &err);
    CHECK(f != NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    /* The file appears after the follower started: read from its start. */
    fc.w = ctrlog_writer_open(path, 0, &err);
    ctrlog_writer_feed(fc.w, 1, "out\n", 4, T0, &err);
    ctrlog_writer_feed(fc.w, 2, "err\n", 4, T0, &err);
    want_n = 1;
    CHECK(run_until(&loop, have_n, &fc, 2000));
    CHECK_STR(fc.c.lines[0], "err\n");
    ctrlog_writer_close(fc.w);
    /* Stopping before finish: no done. */
    ctrlog_follow_finish(f);
    ctrlog_follow_stop(f);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(fc.c.done, 0);
    CHECK_INT(uv_loop_close(&loop), 0);
    collected_fini(&fc.c);
    tmpdir_free(dir);
}

int main(void)
{
    RUN(test_encode_decode);
    RUN(test_write_read);
    RUN(test_long_lines);
    RUN(test_rotation);
    RUN(test_follow);
    RUN(test_follow_missing_then_created);
    HARNESS_END();
}
