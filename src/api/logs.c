// SPDX-License-Identifier: Apache-2.0
// Log streams: GET /services/{id}/logs, /tasks/{id}/logs and
// /containers/{id}/logs, in Docker's multiplexed framing. Service and task
// logs carry the "details" the docker CLI needs to name each line's task;
// with follow=1 a service's stream also picks up tasks that start later.
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_internal.h"
#include "base/buf.h"
#include "base/hmap.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

struct source {
    struct log_stream *ls;
    char ctr[ID_HEX_LEN + 1];
    char details[200]; /* "" for container logs */
    struct ctr_log_follow *follow;
};

struct log_stream {
    struct http_request *req;
    struct api_host *h;
    struct ctr_log_options opts;
    bool timestamps, details, follow;
    char service_id[ID_LEN + 1]; /* service streams pick up new tasks */
    struct vec sources;          /* struct source * */
    struct hmap by_ctr;          /* container id -> source */
    struct store_watch *watch;
    int active_follows;
    bool ended;
};

struct entry {
    int64_t ts;
    size_t seq; /* arrival order: keeps equal timestamps in order */
    int stream;
    char *payload;
    size_t len;
};

/* Docker's RFC3339NanoFixed: always nine fraction digits. */
static void fmt_ts(int64_t ns, char out[48])
{
    time_t sec = (time_t)(ns / NS_PER_SEC);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, 48, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 48 - n, ".%09lldZ", (long long)(ns % NS_PER_SEC));
}

static char *format(const struct source *src, const struct ctr_log_entry *e,
                    size_t *len)
{
    struct buf b;
    buf_init(&b);
    if (src->ls->timestamps) {
        char ts[48];
        fmt_ts(e->time_ns, ts);
        buf_printf(&b, "%s ", ts);
    }
    if (src->ls->details && src->details[0])
        buf_printf(&b, "%s ", src->details);
    buf_append(&b, e->line, e->len);
    *len = b.len;
    return buf_steal(&b);
}

static void stream_free(struct log_stream *ls)
{
    for (size_t i = 0; i < ls->sources.len; i++) {
        struct source *src = ls->sources.items[i];
        if (src->follow)
            ctr_logs_unfollow(src->follow);
        free(src);
    }
    vec_fini(&ls->sources);
    hmap_fini(&ls->by_ctr);
    if (ls->watch)
        store_unwatch(api_store(ls->h), ls->watch);
    free(ls);
}

static void end_stream(struct log_stream *ls)
{
    if (ls->ended)
        return;
    ls->ended = true;
    struct http_request *req = ls->req;
    ls->req = NULL;
    if (req)
        http_stream_end(req);
    stream_free(ls);
}

static void aborted(struct http_request *req, void *data)
{
    (void)req;
    struct log_stream *ls = data;
    ls->req = NULL;
    ls->ended = true;
    stream_free(ls);
}

/* ---- followed entries ---- */

static int on_follow_entry(void *data, const struct ctr_log_entry *e)
{
    struct source *src = data;
    struct log_stream *ls = src->ls;
    if (!ls->req)
        return 1;
    size_t len;
    char *payload = format(src, e, &len);
    int rc = http_stream_frame(ls->req, e->stream, payload, len);
    free(payload);
    return rc < 0 ? 1 : 0;
}

static void on_follow_done(void *data)
{
    struct source *src = data;
    struct log_stream *ls = src->ls;
    /* Container streams end with their container; service streams stay
     * open for tasks to come. */
    if (--ls->active_follows == 0 && !ls->service_id[0])
        end_stream(ls);
}

static struct source *add_source(struct log_stream *ls, const char *ctr,
                                 const struct task *t)
{
    struct source *src = xcalloc(1, sizeof(*src));
    src->ls = ls;
    snprintf(src->ctr, sizeof(src->ctr), "%s", ctr);
    if (t)
        snprintf(src->details, sizeof(src->details),
                 "com.docker.swarm.node.id=%s,com.docker.swarm.service.id=%s,"
                 "com.docker.swarm.task.id=%s",
                 t->node_id, t->service_id, t->meta.id);
    vec_push(&ls->sources, src);
    hmap_put(&ls->by_ctr, src->ctr, src);
    return src;
}

static void start_follow(struct log_stream *ls, struct source *src)
{
    struct err err = {0};
    src->follow = ctr_logs_follow(ls->h->runtime, src->ctr, &ls->opts,
                                  on_follow_entry, on_follow_done, src, &err);
    if (src->follow)
        ls->active_follows++;
    else
        log_debug("logs: follow %.12s: %s", src->ctr, err.msg);
}

/* A task of the followed service got a container on this node. */
static void on_store_event(void *data, const struct store_event *ev)
{
    struct log_stream *ls = data;
    if (ev->kind != KIND_TASK || ev->action == STORE_DELETE || !ls->req)
        return;
    struct task *t = ev->obj;
    if (strcmp(t->service_id, ls->service_id) != 0 || !t->container_id[0] ||
        hmap_get(&ls->by_ctr, t->container_id) ||
        !ctr_lookup(ls->h->runtime, t->container_id))
        return;
    struct source *src = add_source(ls, t->container_id, t);
    start_follow(ls, src);
}

/* ---- the existing entries ---- */

struct collect {
    struct source *src;
    struct entry *items;
    size_t n, cap;
};

static int collect_entry(void *data, const struct ctr_log_entry *e)
{
    struct collect *c = data;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->items = xrealloc(c->items, c->cap * sizeof(*c->items));
    }
    struct entry *it = &c->items[c->n++];
    it->ts = e->time_ns;
    it->seq = c->n - 1;
    it->stream = e->stream;
    it->payload = format(c->src, e, &it->len);
    return 0;
}

static int by_time(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void send_existing(struct log_stream *ls)
{
    struct collect c = {0};
    for (size_t i = 0; i < ls->sources.len; i++) {
        c.src = ls->sources.items[i];
        struct err err = {0};
        if (ctr_logs_read(ls->h->runtime, c.src->ctr, &ls->opts, collect_entry,
                          &c, &err) < 0)
            log_debug("logs: read %.12s: %s", c.src->ctr, err.msg);
    }
    if (c.n)
        qsort(c.items, c.n, sizeof(*c.items), by_time);
    for (size_t i = 0; i < c.n; i++) {
        if (ls->req)
            http_stream_frame(ls->req, c.items[i].stream, c.items[i].payload,
                              c.items[i].len);
        free(c.items[i].payload);
    }
    free(c.items);
}

static int parse_time_param(const char *s, int64_t *out)
{
    *out = 0;
    if (!s || !*s)
        return 0;
    char *end;
    double v = strtod(s, &end);
    if (*end == '\0' && v >= 0) {
        *out = (int64_t)(v * 1e9);
        return 0;
    }
    return time_parse_rfc3339(s, out);
}

static struct log_stream *stream_new(struct http_request *req,
                                     struct api_host *h, struct err *err)
{
    struct log_stream *ls = xcalloc(1, sizeof(*ls));
    ls->req = req;
    ls->h = h;
    vec_init(&ls->sources);
    hmap_init(&ls->by_ctr);
    ls->opts.stdout_ = http_query_bool(req, "stdout");
    ls->opts.stderr_ = http_query_bool(req, "stderr");
    ls->timestamps = http_query_bool(req, "timestamps");
    ls->details = http_query_bool(req, "details");
    ls->follow = http_query_bool(req, "follow");
    const char *tail = http_query(req, "tail");
    ls->opts.tail = -1;
    if (tail && *tail && strcmp(tail, "all") != 0) {
        char *end;
        long n = strtol(tail, &end, 10);
        if (!*end && n >= 0)
            ls->opts.tail = n;
    }
    if (parse_time_param(http_query(req, "since"), &ls->opts.since) < 0 ||
        parse_time_param(http_query(req, "until"), &ls->opts.until) < 0) {
        err_set(err, ERR_INVALID, "invalid since/until value");
        stream_free(ls);
        return NULL;
    }
    if (!ls->opts.stdout_ && !ls->opts.stderr_) {
        err_set(err, ERR_INVALID,
                "Bad parameters: you must choose at least one stream");
        stream_free(ls);
        return NULL;
    }
    return ls;
}

/* Sends what exists, then follows or ends. */
static void run(struct log_stream *ls)
{
    http_stream_begin(ls->req, 200, NULL, aborted, ls);
    send_existing(ls);
    if (!ls->follow) {
        end_stream(ls);
        return;
    }
    for (size_t i = 0; i < ls->sources.len; i++) {
        struct source *src = ls->sources.items[i];
        struct ctr_status st;
        if (ctr_get_status(ls->h->runtime, src->ctr, &st) == 0 &&
            st.state != CTR_EXITED)
            start_follow(ls, src);
    }
    if (ls->service_id[0])
        ls->watch = store_watch(api_store(ls->h), on_store_event, ls);
    else if (ls->active_follows == 0)
        end_stream(ls);
}

static void add_task(struct log_stream *ls, const struct task *t)
{
    if (t->container_id[0] && ctr_lookup(ls->h->runtime, t->container_id) &&
        !hmap_get(&ls->by_ctr, t->container_id))
        add_source(ls, t->container_id, t);
}

static void service_logs(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    struct service *s = api_find_service(h, req->params[0], &err);
    struct log_stream *ls = s ? stream_new(req, h, &err) : NULL;
    if (!ls) {
        http_reply_err(req, &err);
        return;
    }
    snprintf(ls->service_id, sizeof(ls->service_id), "%s", s->meta.id);
    const struct vec *tasks = store_service_tasks(api_store(h), s->meta.id);
    for (size_t i = 0; tasks && i < tasks->len; i++)
        add_task(ls, tasks->items[i]);
    run(ls);
}

static void task_logs(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    struct task *t = api_find_task(h, req->params[0], &err);
    struct log_stream *ls = t ? stream_new(req, h, &err) : NULL;
    if (!ls) {
        http_reply_err(req, &err);
        return;
    }
    add_task(ls, t);
    run(ls);
}

static void container_logs(struct http_request *req, void *data)
{
    struct api_host *h = data;
    const char *id = ctr_lookup(h->runtime, req->params[0]);
    if (!id) {
        char msg[300];
        snprintf(msg, sizeof(msg), "No such container: %s", req->params[0]);
        http_reply_error(req, 404, msg);
        return;
    }
    struct err err = {0};
    struct log_stream *ls = stream_new(req, h, &err);
    if (!ls) {
        http_reply_err(req, &err);
        return;
    }
    ls->details = false;
    add_source(ls, id, NULL);
    run(ls);
}

static const struct http_route routes[] = {
    {"GET", "/services/{id}/logs", service_logs},
    {"GET", "/tasks/{id}/logs", task_logs},
    {"GET", "/containers/{id}/logs", container_logs},
};

void api_logs_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
