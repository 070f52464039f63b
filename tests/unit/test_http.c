// SPDX-License-Identifier: Apache-2.0
// Unit tests for src/api/http*: a real server on a unix socket in a temp
// dir, driven by a blocking client in a thread (pings, routing, versions,
// queries, framing, streams, aborts, bodies, spooling, keep-alive, errors),
// plus memory connections and the pure helpers.
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/http.h"
#include "api/http_int.h"
#include "base/buf.h"
#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/mem.h"

static uv_loop_t loop;
static struct http_server *srv;
static char tmpdir[256];
static char sock_path[300];

static atomic_int abort_count;
static atomic_int slow_started;
static atomic_int follow_frames;
static char spooled_path[512]; /* written by the upload handler */

/* ---- Handlers (run on the loop thread) ---- */

static json_t *query_obj(const struct http_request *req)
{
    json_t *q = json_object();
    for (size_t i = 0; i < req->n_query; i++)
        json_object_set_new(q, req->query[i].key,
                            json_string(req->query[i].value));
    return q;
}

static void h_echo(struct http_request *req, void *data)
{
    (void)data;
    _cleanup_json_ json_t *params = json_array();
    for (size_t i = 0; i < req->n_params; i++)
        json_array_append_new(params, json_string(req->params[i]));
    _cleanup_json_ json_t *out = json_pack(
        "{s:s, s:s, s:s, s:O, s:o, s:i}", "method", req->method, "path",
        req->path, "version", req->api_version, "params", params, "query",
        query_obj(req), "cmp141", http_version_cmp(req, "1.41"));
    http_reply_json(req, 200, out);
}

static void h_images_list(struct http_request *req, void *data)
{
    (void)data;
    _cleanup_json_ json_t *out = json_pack("{s:s}", "route", "list");
    http_reply_json(req, 200, out);
}

static void h_name(struct http_request *req, void *data)
{
    (void)data;
    _cleanup_json_ json_t *out =
        json_pack("{s:s, s:s}", "route", "name", "name", req->params[0]);
    http_reply_json(req, 200, out);
}

static void h_two(struct http_request *req, void *data)
{
    (void)data;
    _cleanup_json_ json_t *out =
        json_pack("{s:s, s:s}", "a", req->params[0], "b", req->params[1]);
    http_reply_json(req, 200, out);
}

static void h_filters(struct http_request *req, void *data)
{
    (void)data;
    struct err err = {0};
    json_t *f;
    if (http_query_filters(req, &f, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    const char *a = http_query(req, "a");
    _cleanup_json_ json_t *out = json_pack(
        "{s:o, s:b, s:b, s:s?, s:s?}", "filters", f, "flag",
        http_query_bool(req, "flag"), "other", http_query_bool(req, "other"),
        "a", a, "ua", http_header(req, "user-agent"));
    http_reply_json(req, 200, out);
}

static void h_body(struct http_request *req, void *data)
{
    (void)data;
    struct err err = {0};
    json_t *j;
    if (http_body_json(req, &j, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    _cleanup_json_ json_t *out = json_pack(
        "{s:o, s:b, s:I, s:s?}", "got", j, "in_memory", req->body != NULL,
        "len", (json_int_t)req->body_len, "ct", req->content_type);
    http_reply_json(req, 200, out);
}

static uint32_t fnv1a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void h_upload(struct http_request *req, void *data)
{
    (void)data;
    _cleanup_free_ char *content = NULL;
    size_t len = 0;
    struct err err = {0};
    if (req->body_path) {
        snprintf(spooled_path, sizeof(spooled_path), "%s", req->body_path);
        if (fs_read_file(req->body_path, &content, &len, &err) < 0) {
            http_reply_err(req, &err);
            return;
        }
    } else {
        spooled_path[0] = '\0';
        len = req->body_len;
        content = xmalloc(len + 1);
        memcpy(content, req->body, len);
    }
    _cleanup_json_ json_t *out =
        json_pack("{s:b, s:I, s:I, s:I}", "spooled", req->body_path != NULL,
                  "len", (json_int_t)len, "body_len", (json_int_t)req->body_len,
                  "sum", (json_int_t)fnv1a(content, len));
    http_reply_json(req, 200, out);
}

static void h_delete_200(struct http_request *req, void *data)
{
    (void)data;
    http_reply_empty(req, 200);
}

static void h_delete_204(struct http_request *req, void *data)
{
    (void)data;
    http_reply_empty(req, 204);
}

static void h_warnings(struct http_request *req, void *data)
{
    (void)data;
    _cleanup_json_ json_t *out = json_pack("{s:n}", "Warnings");
    http_reply_json(req, 200, out);
}

static void h_err(struct http_request *req, void *data)
{
    (void)data;
    struct err err = {0};
    err_set(&err, ERR_CONFLICT, "name \"a\xff\" is taken");
    http_reply_err(req, &err);
}

static void h_raw(struct http_request *req, void *data)
{
    (void)data;
    http_reply_raw(req, 201, "text/plain", "hi", 2);
}

static void h_logs(struct http_request *req, void *data)
{
    (void)data;
    http_stream_begin(req, 200, NULL, NULL, NULL);
    http_stream_frame(req, 1, "hello\n", 6);
    http_stream_frame(req, 2, "oops\n", 5);
    http_stream_write(req, "", 0); /* must not end the stream */
    http_stream_write(req, "raw", 3);
    http_stream_end(req);
}

/* Writes 8 MiB at once: most of it must stay queued. */
static atomic_long flood_pending;

static void h_flood(struct http_request *req, void *data)
{
    (void)data;
    static char block[65536];
    memset(block, 'f', sizeof(block));
    http_stream_begin(req, 200, "application/octet-stream", NULL, NULL);
    for (int i = 0; i < 128; i++)
        http_stream_write(req, block, sizeof(block));
    atomic_store(&flood_pending, (long)http_stream_pending(req));
    http_stream_end(req);
}

static void h_events(struct http_request *req, void *data)
{
    (void)data;
    http_stream_begin(req, 200, "application/json", NULL, NULL);
    http_stream_write(req, "{\"Type\":\"service\"}\n", 19);
    http_stream_end(req);
}

/* An asynchronous reply: a timer answers later unless the client goes. */
struct later {
    uv_timer_t timer;
    struct http_request *req;
    int frames_left; /* follow: frames to write before ending */
};

static void later_close_cb(uv_handle_t *h)
{
    free(h->data);
}

static void later_abort(struct http_request *req, void *data)
{
    struct later *l = data;
    (void)req;
    atomic_fetch_add(&abort_count, 1);
    l->req = NULL;
    uv_timer_stop(&l->timer);
    uv_close((uv_handle_t *)&l->timer, later_close_cb);
}

static void later_fire(uv_timer_t *t)
{
    struct later *l = t->data;
    _cleanup_json_ json_t *out = json_pack("{s:s}", "late", "yes");
    http_reply_json(l->req, 200, out);
    uv_close((uv_handle_t *)&l->timer, later_close_cb);
}

static struct later *later_new(struct http_request *req, uint64_t ms,
                               uv_timer_cb cb)
{
    struct later *l = xcalloc(1, sizeof(*l));
    l->req = req;
    uv_timer_init(&loop, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, cb, ms, ms);
    return l;
}

static void h_later(struct http_request *req, void *data)
{
    (void)data;
    struct later *l = later_new(req, 10, later_fire);
    http_request_on_abort(req, later_abort, l);
}

static void h_slow(struct http_request *req, void *data)
{
    (void)data;
    struct later *l = later_new(req, 60000, later_fire);
    http_request_on_abort(req, later_abort, l);
    atomic_fetch_add(&slow_started, 1);
}

static void follow_tick(uv_timer_t *t)
{
    struct later *l = t->data;
    if (l->frames_left-- == 0) {
        http_stream_end(l->req);
        uv_close((uv_handle_t *)&l->timer, later_close_cb);
        return;
    }
    http_stream_frame(l->req, 1, "tick\n", 5);
    atomic_fetch_add(&follow_frames, 1);
}

static void h_follow(struct http_request *req, void *data)
{
    (void)data;
    struct later *l = later_new(req, 5, follow_tick);
    l->frames_left = http_query_bool(req, "short") ? 2 : 1000000;
    http_stream_begin(req, 200, NULL, later_abort, l);
    http_stream_frame(req, 1, "first\n", 6);
}

static const struct http_route routes[] = {
    {"GET", "/echo/{id}", h_echo},
    {"POST", "/echo/{id}/post", h_echo},
    {"GET", "/images/json", h_images_list},
    {"GET", "/images/{name*}/json", h_name},
    {"GET", "/distribution/{name*}/json", h_name},
    {"GET", "/two/{a}/x/{b*}", h_two},
    {"GET", "/filters", h_filters},
    {"POST", "/body", h_body},
    {"POST", "/upload", h_upload},
    {"DELETE", "/services/{id}", h_delete_200},
    {"DELETE", "/networks/{id}", h_delete_204},
    {"GET", "/warnings", h_warnings},
    {"GET", "/err", h_err},
    {"GET", "/raw", h_raw},
    {"GET", "/logs", h_logs},
    {"HEAD", "/logs", h_logs},
    {"GET", "/events", h_events},
    {"GET", "/flood", h_flood},
    {"GET", "/later", h_later},
    {"GET", "/slow", h_slow},
    {"GET", "/follow", h_follow},
};

/* ---- Running a client thread against the loop ---- */

static uv_async_t done_async;

static void done_cb(uv_async_t *a)
{
    uv_stop(a->loop);
}

static void *client_thread(void *arg)
{
    void (*fn)(void) = (void (*)(void))arg;
    fn();
    uv_async_send(&done_async);
    return NULL;
}

static void run_client(void (*fn)(void))
{
    pthread_t t;
    pthread_create(&t, NULL, client_thread, (void *)fn);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(t, NULL);
}

/* ---- A tiny blocking HTTP client ---- */

struct client {
    int fd;
    struct buf in;
};

static void client_open(struct client *cl)
{
    cl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    int rc = connect(cl->fd, (struct sockaddr *)&sa, sizeof(sa));
    CHECK_INT(rc, 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    buf_init(&cl->in);
}

static void client_close(struct client *cl)
{
    if (cl->fd >= 0)
        close(cl->fd);
    cl->fd = -1;
    buf_fini(&cl->in);
}

static void client_send(struct client *cl, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(cl->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void client_puts(struct client *cl, const char *s)
{
    client_send(cl, s, strlen(s));
}

/* Reads more input; false on EOF/error/timeout. */
static bool client_fill(struct client *cl)
{
    char tmp[65536];
    ssize_t n = recv(cl->fd, tmp, sizeof(tmp), 0);
    if (n <= 0)
        return false;
    buf_append(&cl->in, tmp, (size_t)n);
    return true;
}

static bool client_eof(struct client *cl)
{
    if (cl->in.len)
        return false;
    char c;
    ssize_t n = recv(cl->fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

#define MAX_RESP_HEADERS 32

struct resp {
    int status;
    size_t n_headers;
    char names[MAX_RESP_HEADERS][64];
    char values[MAX_RESP_HEADERS][256];
    struct buf body; /* de-chunked */
    struct buf raw;  /* body bytes as on the wire */
};

static void resp_fini(struct resp *r)
{
    buf_fini(&r->body);
    buf_fini(&r->raw);
}

static const char *resp_header(const struct resp *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->names[i], name) == 0)
            return r->values[i];
    return NULL;
}

static bool client_need(struct client *cl, size_t n)
{
    while (cl->in.len < n)
        if (!client_fill(cl))
            return false;
    return true;
}

static char *client_line(struct client *cl)
{
    for (;;) {
        char *nl = cl->in.data ? strstr(cl->in.data, "\r\n") : NULL;
        if (nl) {
            char *line = xstrndup(cl->in.data, (size_t)(nl - cl->in.data));
            buf_consume(&cl->in, (size_t)(nl - cl->in.data) + 2);
            return line;
        }
        if (!client_fill(cl))
            return NULL;
    }
}

/* Reads one response; head_req: no body expected. Returns false if the
 * connection ended first. */
static bool read_response(struct client *cl, struct resp *r, bool head_req)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
    buf_init(&r->raw);
    _cleanup_free_ char *status = client_line(cl);
    if (!status)
        return false;
    if (sscanf(status, "HTTP/1.1 %d", &r->status) != 1)
        return false;
    for (;;) {
        _cleanup_free_ char *line = client_line(cl);
        if (!line)
            return false;
        if (!*line)
            break;
        char *colon = strchr(line, ':');
        if (!colon || r->n_headers == MAX_RESP_HEADERS)
            return false;
        *colon = '\0';
        snprintf(r->names[r->n_headers], 64, "%s", line);
        snprintf(r->values[r->n_headers], 256, "%s", colon + 2);
        r->n_headers++;
    }
    if (head_req || r->status == 204 || r->status == 304 || r->status < 200)
        return true;
    const char *te = resp_header(r, "Transfer-Encoding");
    const char *cl_h = resp_header(r, "Content-Length");
    if (te && strcmp(te, "chunked") == 0) {
        for (;;) {
            _cleanup_free_ char *size_line = client_line(cl);
            if (!size_line)
                return false;
            buf_printf(&r->raw, "%s\r\n", size_line);
            size_t n = strtoul(size_line, NULL, 16);
            if (!client_need(cl, n + 2))
                return false;
            buf_append(&r->body, cl->in.data, n);
            buf_append(&r->raw, cl->in.data, n + 2);
            buf_consume(&cl->in, n + 2);
            if (n == 0)
                return true;
        }
    }
    if (cl_h) {
        size_t n = strtoul(cl_h, NULL, 10);
        if (!client_need(cl, n))
            return false;
        buf_append(&r->body, cl->in.data, n);
        buf_consume(&cl->in, n);
        return true;
    }
    while (client_fill(cl))
        ;
    buf_append(&r->body, cl->in.data, cl->in.len);
    buf_reset(&cl->in);
    return true;
}

/* One request, one response, on an open client. */
static bool roundtrip(struct client *cl, const char *request, struct resp *r)
{
    client_puts(cl, request);
    return read_response(cl, r, strncmp(request, "HEAD ", 5) == 0);
}

static json_t *resp_json(const struct resp *r)
{
    return json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
}

static void get_json(struct client *cl, const char *path, int want_status,
                     json_t **out)
{
    char req[2048];
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: api.moby.localhost\r\n"
             "User-Agent: Docker-Client/28.2.2 (linux)\r\n\r\n",
             path);
    struct resp r;
    bool ok = roundtrip(cl, req, &r);
    CHECK(ok);
    CHECK_INT(r.status, want_status);
    *out = resp_json(&r);
    CHECK(*out != NULL);
    if (!*out)
        fprintf(stderr, "  body for %s: %s\n", path, r.body.data);
    resp_fini(&r);
}

/* ---- Tests ---- */

static void client_ping(void)
{
    struct client cl;
    client_open(&cl);
    struct resp r;
    CHECK(roundtrip(&cl,
                    "HEAD /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\n"
                    "User-Agent: Docker-Client/28.2.2 (linux)\r\n\r\n",
                    &r));
    CHECK_INT(r.status, 200);
    static const char *const order[] = {"Api-Version",
                                        "Cache-Control",
                                        "Content-Length",
                                        "Content-Type",
                                        "Docker-Experimental",
                                        "Ostype",
                                        "Pragma",
                                        "Server",
                                        "Swarm",
                                        "Date"};
    CHECK_INT(r.n_headers, ARRAY_SIZE(order));
    for (size_t i = 0; i < ARRAY_SIZE(order) && i < r.n_headers; i++)
        CHECK_STR(r.names[i], order[i]);
    CHECK_STR(resp_header(&r, "Api-Version"), API_VERSION_MAX);
    CHECK_STR(resp_header(&r, "Cache-Control"),
              "no-cache, no-store, must-revalidate");
    CHECK_STR(resp_header(&r, "Pragma"), "no-cache");
    CHECK_STR(resp_header(&r, "Content-Length"), "0");
    CHECK_STR(resp_header(&r, "Content-Type"), "text/plain; charset=utf-8");
    CHECK_STR(resp_header(&r, "Docker-Experimental"), "false");
    CHECK_STR(resp_header(&r, "Ostype"), "linux");
    CHECK_STR(resp_header(&r, "Server"), "shoal/9.9.9 (linux)");
    CHECK_STR(resp_header(&r, "Swarm"), "active/manager");
    const char *date = resp_header(&r, "Date");
    CHECK(date && strlen(date) == 29 && strcmp(date + 25, " GMT") == 0);
    CHECK_INT(r.body.len, 0);
    resp_fini(&r);

    /* GET on the same connection, versioned. */
    CHECK(roundtrip(&cl, "GET /v1.41/_ping HTTP/1.1\r\nHost: x\r\n\r\n", &r));
    CHECK_INT(r.status, 200);
    CHECK_STR(resp_header(&r, "Content-Length"), "2");
    CHECK_STR(r.body.data, "OK");
    resp_fini(&r);

    /* Other methods are not ping. */
    CHECK(roundtrip(&cl, "POST /_ping HTTP/1.1\r\nHost: x\r\n\r\n", &r));
    CHECK_INT(r.status, 404);
    resp_fini(&r);
    client_close(&cl);
}

static void test_ping(void)
{
    run_client(client_ping);
}

static void client_routing(void)
{
    struct client cl;
    client_open(&cl);
    json_t *j;

    get_json(&cl, "/v1.41/echo/abc?x=1", 200, &j);
    CHECK_STR(jx_str(j, "path"), "/echo/abc");
    CHECK_STR(jx_str(j, "version"), "1.41");
    CHECK_STR(jx_str(j, "method"), "GET");
    CHECK_INT(jx_int(j, "cmp141", 9), 0);
    CHECK_STR(
        json_string_value(json_array_get(json_object_get(j, "params"), 0)),
        "abc");
    CHECK_STR(jx_path_str(j, "query.x"), "1");
    json_decref(j);

    get_json(&cl, "/echo/abc", 200, &j);
    CHECK_STR(jx_str(j, "path"), "/echo/abc");
    CHECK_STR(jx_str(j, "version"), API_VERSION_MAX);
    CHECK_INT(jx_int(j, "cmp141", 9), 1);
    json_decref(j);

    /* Percent-encoded path segments are decoded before matching. */
    get_json(&cl, "/v1.24/echo/a%20b", 200, &j);
    CHECK_STR(
        json_string_value(json_array_get(json_object_get(j, "params"), 0)),
        "a b");
    CHECK_INT(jx_int(j, "cmp141", 9), -1);
    json_decref(j);

    get_json(&cl, "/v1.12/echo/abc", 400, &j);
    CHECK_STR(jx_str(j, "message"),
              "client version 1.12 is too old. Minimum supported API "
              "version is 1.24, please upgrade your client to a newer "
              "version");
    json_decref(j);

    get_json(&cl, "/v1.99/echo/abc", 400, &j);
    CHECK_STR(jx_str(j, "message"),
              "client version 1.99 is too new. Maximum supported API "
              "version is " API_VERSION_MAX);
    json_decref(j);

    /* Greedy parameters. */
    get_json(&cl, "/v1.41/images/library/busybox:latest/json", 200, &j);
    CHECK_STR(jx_str(j, "route"), "name");
    CHECK_STR(jx_str(j, "name"), "library/busybox:latest");
    json_decref(j);
    get_json(&cl, "/images/bb/json", 200, &j);
    CHECK_STR(jx_str(j, "name"), "bb");
    json_decref(j);
    get_json(&cl, "/images/json", 200, &j);
    CHECK_STR(jx_str(j, "route"), "list");
    json_decref(j);
    get_json(&cl, "/v1.41/distribution/docker.io/library/bb:latest/json", 200,
             &j);
    CHECK_STR(jx_str(j, "name"), "docker.io/library/bb:latest");
    json_decref(j);
    get_json(&cl, "/two/p/x/q/r/s", 200, &j);
    CHECK_STR(jx_str(j, "a"), "p");
    CHECK_STR(jx_str(j, "b"), "q/r/s");
    json_decref(j);

    /* Unknown route, wrong method, trailing slash, empty param. */
    get_json(&cl, "/nope", 404, &j);
    CHECK_STR(jx_str(j, "message"), "page not found");
    json_decref(j);
    get_json(&cl, "/echo/abc/post", 404, &j);
    json_decref(j);
    get_json(&cl, "/echo/", 404, &j);
    json_decref(j);
    get_json(&cl, "/v1.41", 404, &j);
    json_decref(j);

    /* Exact 404 bytes. */
    struct resp r;
    CHECK(roundtrip(&cl, "GET /x HTTP/1.1\r\n\r\n", &r));
    CHECK_STR(r.body.data, "{\"message\":\"page not found\"}\n");
    CHECK_STR(resp_header(&r, "Content-Length"), "29");
    CHECK_STR(resp_header(&r, "Content-Type"), "application/json");
    resp_fini(&r);
    client_close(&cl);
}

static void test_routing(void)
{
    run_client(client_routing);
}

static void client_query(void)
{
    struct client cl;
    client_open(&cl);
    json_t *j;
    /* filters={"name":{"x":true},"label":{"a=b":true}}&a=b+c%21&flag=1 */
    get_json(&cl,
             "/v1.41/filters?filters=%7B%22name%22%3A%7B%22x%22%3Atrue%7D%2C"
             "%22label%22%3A%7B%22a%3Db%22%3Atrue%2C%22c%22%3Afalse%7D%7D"
             "&a=b+c%21&flag=1&other=False",
             200, &j);
    CHECK_STR(jx_str(j, "a"), "b c!");
    CHECK(jx_bool(j, "flag", false));
    CHECK(!jx_bool(j, "other", true));
    CHECK_STR(jx_str(j, "ua"), "Docker-Client/28.2.2 (linux)");
    _cleanup_free_ char *f = jx_dumps(json_object_get(j, "filters"));
    CHECK_STR(f, "{\"name\":[\"x\"],\"label\":[\"a=b\",\"c\"]}");
    json_decref(j);

    /* Legacy form, duplicates dropped. */
    get_json(&cl,
             "/filters?filters=%7B%22name%22%3A%5B%22x%22%2C%22y%22%2C%22x%22"
             "%5D%7D",
             200, &j);
    _cleanup_free_ char *f2 = jx_dumps(json_object_get(j, "filters"));
    CHECK_STR(f2, "{\"name\":[\"x\",\"y\"]}");
    CHECK(!jx_bool(j, "flag", true));
    json_decref(j);

    /* Absent → empty object. */
    get_json(&cl, "/filters", 200, &j);
    _cleanup_free_ char *f3 = jx_dumps(json_object_get(j, "filters"));
    CHECK_STR(f3, "{}");
    json_decref(j);

    /* Invalid JSON, wrong shapes, mixed forms. */
    get_json(&cl, "/filters?filters=%7Bnope", 400, &j);
    CHECK(strncmp(jx_str0(j, "message"), "invalid filter", 14) == 0);
    json_decref(j);
    get_json(&cl, "/filters?filters=%5B1%5D", 400, &j);
    CHECK(strncmp(jx_str0(j, "message"), "invalid filter", 14) == 0);
    json_decref(j);
    get_json(&cl,
             "/filters?filters=%7B%22a%22%3A%5B%22x%22%5D%2C%22b%22%3A%7B%22y"
             "%22%3Atrue%7D%7D",
             400, &j);
    CHECK(strncmp(jx_str0(j, "message"), "invalid filter", 14) == 0);
    json_decref(j);
    get_json(&cl, "/filters?filters=%7B%22a%22%3A%7B%22y%22%3A1%7D%7D", 400,
             &j);
    json_decref(j);
    client_close(&cl);
}

static void test_query(void)
{
    run_client(client_query);
}

static void client_framing(void)
{
    struct client cl;
    client_open(&cl);
    struct resp r;

    CHECK(
        roundtrip(&cl, "GET /v1.41/warnings HTTP/1.1\r\nHost: x\r\n\r\n", &r));
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body.data, "{\"Warnings\":null}\n");
    CHECK_STR(resp_header(&r, "Content-Length"), "18");
    static const char *const order[] = {
        "Api-Version", "Content-Type", "Docker-Experimental", "Ostype",
        "Server",      "Date",         "Content-Length"};
    CHECK_INT(r.n_headers, ARRAY_SIZE(order));
    for (size_t i = 0; i < ARRAY_SIZE(order) && i < r.n_headers; i++)
        CHECK_STR(r.names[i], order[i]);
    resp_fini(&r);

    /* DELETE /services → 200, Content-Length 0, no Content-Type. */
    CHECK(roundtrip(&cl, "DELETE /v1.41/services/abc HTTP/1.1\r\n\r\n", &r));
    CHECK_INT(r.status, 200);
    CHECK_STR(resp_header(&r, "Content-Length"), "0");
    CHECK(resp_header(&r, "Content-Type") == NULL);
    CHECK(resp_header(&r, "Api-Version") != NULL);
    resp_fini(&r);

    /* 204: neither. */
    CHECK(roundtrip(&cl, "DELETE /v1.41/networks/abc HTTP/1.1\r\n\r\n", &r));
    CHECK_INT(r.status, 204);
    CHECK(resp_header(&r, "Content-Length") == NULL);
    CHECK(resp_header(&r, "Content-Type") == NULL);
    resp_fini(&r);

    /* Errors from struct err, invalid UTF-8 replaced like Go does. */
    CHECK(roundtrip(&cl, "GET /err HTTP/1.1\r\n\r\n", &r));
    CHECK_INT(r.status, 409);
    CHECK_STR(r.body.data,
              "{\"message\":\"name \\\"a\xef\xbf\xbd\\\" is taken\"}\n");
    resp_fini(&r);

    CHECK(roundtrip(&cl, "GET /raw HTTP/1.1\r\n\r\n", &r));
    CHECK_INT(r.status, 201);
    CHECK_STR(r.body.data, "hi");
    CHECK_STR(resp_header(&r, "Content-Type"), "text/plain");
    resp_fini(&r);

    /* The connection is still in sync. */
    CHECK(roundtrip(&cl, "GET /_ping HTTP/1.1\r\n\r\n", &r));
    CHECK_STR(r.body.data, "OK");
    resp_fini(&r);
    client_close(&cl);

    client_open(&cl);
    client_puts(&cl, "GET /warnings HTTP/1.1\r\nConnection: close\r\n\r\n");
    CHECK(read_response(&cl, &r, false));
    CHECK_STR(resp_header(&r, "Connection"), "close");
    CHECK_STR(r.body.data, "{\"Warnings\":null}\n");
    CHECK(client_eof(&cl));
    resp_fini(&r);
    client_close(&cl);
}

static void test_framing(void)
{
    run_client(client_framing);
}

static void client_http10(void)
{
    struct client cl;
    client_open(&cl);
    client_puts(&cl, "GET /warnings HTTP/1.0\r\n\r\n");
    _cleanup_free_ char *line = client_line(&cl);
    CHECK_STR(line, "HTTP/1.1 200 OK");
    /* Headers, body, then EOF. */
    while (client_fill(&cl))
        ;
    CHECK(strstr(cl.in.data, "Connection: close\r\n") != NULL);
    CHECK(strstr(cl.in.data, "\r\n\r\n{\"Warnings\":null}\n") != NULL);
    client_close(&cl);

    /* A stream to an HTTP/1.0 client: raw bytes, ended by the close. */
    client_open(&cl);
    client_puts(&cl, "GET /logs HTTP/1.0\r\n\r\n");
    while (client_fill(&cl))
        ;
    CHECK(strstr(cl.in.data, "Transfer-Encoding") == NULL);
    const char *body = strstr(cl.in.data, "\r\n\r\n");
    CHECK(body && memcmp(body + 4, "\x01\0\0\0\0\0\0\x06hello\n", 14) == 0);
    client_close(&cl);
}

static void test_http10(void)
{
    run_client(client_http10);
}

static void client_stream(void)
{
    struct client cl;
    client_open(&cl);
    struct resp r;
    CHECK(roundtrip(&cl,
                    "GET /v1.41/logs?details=1&stdout=1 HTTP/1.1\r\n"
                    "Host: x\r\n\r\n",
                    &r));
    CHECK_INT(r.status, 200);
    CHECK_STR(resp_header(&r, "Transfer-Encoding"), "chunked");
    CHECK(resp_header(&r, "Content-Type") == NULL);
    CHECK(resp_header(&r, "Content-Length") == NULL);
    static const char want[] = "e\r\n\x01\0\0\0\0\0\0\x06hello\n\r\n"
                               "d\r\n\x02\0\0\0\0\0\0\x05oops\n\r\n"
                               "3\r\nraw\r\n"
                               "0\r\n\r\n";
    CHECK_INT(r.raw.len, sizeof(want) - 1);
    CHECK(r.raw.len == sizeof(want) - 1 &&
          memcmp(r.raw.data, want, sizeof(want) - 1) == 0);
    resp_fini(&r);

    CHECK(roundtrip(&cl, "GET /events HTTP/1.1\r\n\r\n", &r));
    CHECK_STR(resp_header(&r, "Content-Type"), "application/json");
    CHECK_STR(r.body.data, "{\"Type\":\"service\"}\n");
    resp_fini(&r);

    /* HEAD on a stream: headers only, connection stays usable. */
    CHECK(roundtrip(&cl, "HEAD /logs HTTP/1.1\r\n\r\n", &r));
    CHECK_INT(r.status, 200);
    resp_fini(&r);

    /* A finite follow stream written from timers. */
    CHECK(roundtrip(&cl, "GET /follow?short=1 HTTP/1.1\r\n\r\n", &r));
    CHECK_INT(r.body.len, 14 + 13 * 2);
    resp_fini(&r);

    /* Flow control: what the client has not read yet is reported. */
    CHECK(roundtrip(&cl, "GET /flood HTTP/1.1\r\n\r\n", &r));
    CHECK_INT(r.body.len, 128 * 65536);
    CHECK(atomic_load(&flood_pending) > 4 * 1024 * 1024);
    resp_fini(&r);

    CHECK(roundtrip(&cl, "GET /_ping HTTP/1.1\r\n\r\n", &r));
    CHECK_STR(r.body.data, "OK");
    resp_fini(&r);
    client_close(&cl);
}

static void test_stream(void)
{
    run_client(client_stream);
}

static bool wait_atomic(atomic_int *v, int want)
{
    for (int i = 0; i < 400; i++) {
        if (atomic_load(v) >= want)
            return true;
        usleep(5000);
    }
    return false;
}

static void client_abort(void)
{
    struct client cl;
    struct resp r;

    /* An async reply that arrives normally. */
    client_open(&cl);
    CHECK(roundtrip(&cl, "GET /later HTTP/1.1\r\n\r\n", &r));
    CHECK_STR(r.body.data, "{\"late\":\"yes\"}\n");
    resp_fini(&r);
    CHECK(roundtrip(&cl, "GET /later HTTP/1.1\r\n\r\n", &r));
    CHECK_INT(r.status, 200);
    resp_fini(&r);
    client_close(&cl);
    CHECK_INT(atomic_load(&abort_count), 0);

    /* Client leaves while the handler is pending. */
    int before = atomic_load(&slow_started);
    client_open(&cl);
    client_puts(&cl, "GET /slow HTTP/1.1\r\n\r\n");
    CHECK(wait_atomic(&slow_started, before + 1));
    client_close(&cl);
    CHECK(wait_atomic(&abort_count, 1));
    usleep(50000);
    CHECK_INT(atomic_load(&abort_count), 1);

    /* Client leaves in the middle of a stream. */
    client_open(&cl);
    client_puts(&cl, "GET /follow HTTP/1.1\r\n\r\n");
    atomic_store(&follow_frames, 0);
    CHECK(wait_atomic(&follow_frames, 3));
    client_close(&cl);
    CHECK(wait_atomic(&abort_count, 2));
    usleep(50000);
    CHECK_INT(atomic_load(&abort_count), 2);
}

static void test_abort(void)
{
    atomic_store(&abort_count, 0);
    run_client(client_abort);
}

static void client_bad(void)
{
    struct client cl;
    struct resp r;
    json_t *j;

    client_open(&cl);
    client_puts(&cl, "GARBAGE\r\n\r\n");
    CHECK(read_response(&cl, &r, false));
    CHECK_INT(r.status, 400);
    CHECK_STR(resp_header(&r, "Connection"), "close");
    j = resp_json(&r);
    CHECK(j &&
          strncmp(jx_str0(j, "message"), "malformed HTTP request", 22) == 0);
    json_decref(j);
    CHECK(client_eof(&cl));
    resp_fini(&r);
    client_close(&cl);

    client_open(&cl);
    client_puts(&cl, "GET /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n");
    CHECK(read_response(&cl, &r, false));
    CHECK_INT(r.status, 400);
    CHECK(client_eof(&cl));
    resp_fini(&r);
    client_close(&cl);

    /* Headers over 64 KiB. */
    client_open(&cl);
    struct buf big;
    buf_init(&big);
    buf_puts(&big, "GET /x HTTP/1.1\r\n");
    for (int i = 0; i < 100; i++) {
        buf_printf(&big, "X-H%d: ", i);
        for (int k = 0; k < 700; k++)
            buf_putc(&big, 'a');
        buf_puts(&big, "\r\n");
    }
    buf_puts(&big, "\r\n");
    client_send(&cl, big.data, big.len);
    buf_fini(&big);
    CHECK(read_response(&cl, &r, false));
    CHECK_INT(r.status, 431);
    resp_fini(&r);
    client_close(&cl);

    /* A JSON body over the cap is refused before it is sent. */
    client_open(&cl);
    client_puts(&cl, "POST /body HTTP/1.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: 17000000\r\n\r\n{");
    CHECK(read_response(&cl, &r, false));
    CHECK_INT(r.status, 400);
    j = resp_json(&r);
    CHECK(j && strstr(jx_str0(j, "message"), "too large") != NULL);
    json_decref(j);
    resp_fini(&r);
    client_close(&cl);

    /* Bad JSON body: Go-like message, connection kept. */
    client_open(&cl);
    CHECK(roundtrip(&cl,
                    "POST /body HTTP/1.1\r\nContent-Type: application/json\r\n"
                    "Content-Length: 5\r\n\r\nxyz{}",
                    &r));
    CHECK_INT(r.status, 400);
    j = resp_json(&r);
    CHECK_STR(jx_str(j, "message"),
              "invalid character 'x' looking for beginning of value");
    json_decref(j);
    resp_fini(&r);
    CHECK(roundtrip(&cl,
                    "POST /body HTTP/1.1\r\nContent-Type: application/json\r\n"
                    "Content-Length: 5\r\n\r\n{\"a\":",
                    &r));
    CHECK_INT(r.status, 400);
    j = resp_json(&r);
    CHECK(strncmp(jx_str0(j, "message"), "invalid JSON", 12) == 0);
    json_decref(j);
    resp_fini(&r);
    client_close(&cl);

    /* A NUL in the path. */
    client_open(&cl);
    get_json(&cl, "/echo/a%00b", 400, &j);
    json_decref(j);
    client_close(&cl);
}

static void test_bad(void)
{
    run_client(client_bad);
}

static void client_bodies(void)
{
    struct client cl;
    struct resp r;
    json_t *j;
    client_open(&cl);

    /* Content-Length JSON. */
    CHECK(roundtrip(&cl,
                    "POST /v1.41/body HTTP/1.1\r\n"
                    "Content-Type: application/json\r\n"
                    "Content-Length: 26\r\n\r\n"
                    "{\"Name\":\"web\",\"Labels\":{}}",
                    &r));
    CHECK_INT(r.status, 200);
    j = resp_json(&r);
    CHECK_STR(jx_path_str(j, "got.Name"), "web");
    CHECK(jx_bool(j, "in_memory", false));
    CHECK_INT(jx_int(j, "len", 0), 26);
    CHECK_STR(jx_str(j, "ct"), "application/json");
    json_decref(j);
    resp_fini(&r);

    /* Chunked JSON. */
    CHECK(roundtrip(&cl,
                    "POST /body HTTP/1.1\r\n"
                    "Content-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"
                    "5\r\n{\"a\":\r\n"
                    "3\r\n[1]\r\n"
                    "1\r\n}\r\n"
                    "0\r\n\r\n",
                    &r));
    CHECK_INT(r.status, 200);
    j = resp_json(&r);
    CHECK_INT(json_integer_value(json_array_get(jx_path(j, "got.a"), 0)), 1);
    CHECK_INT(jx_int(j, "len", 0), 9);
    json_decref(j);
    resp_fini(&r);

    /* No body: an empty object. */
    CHECK(
        roundtrip(&cl, "POST /body HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r));
    j = resp_json(&r);
    CHECK(json_is_object(json_object_get(j, "got")));
    CHECK(json_object_size(json_object_get(j, "got")) == 0);
    json_decref(j);
    resp_fini(&r);

    /* JSON read back from a spooled body. */
    CHECK(roundtrip(&cl,
                    "POST /body HTTP/1.1\r\nContent-Type: application/x-tar\r\n"
                    "Content-Length: 7\r\n\r\n{\"a\":1}",
                    &r));
    j = resp_json(&r);
    CHECK_INT(jx_path_int(j, "got.a", 0), 1);
    CHECK(!jx_bool(j, "in_memory", true));
    json_decref(j);
    resp_fini(&r);

    /* Expect: 100-continue. */
    client_puts(&cl, "POST /body HTTP/1.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n");
    _cleanup_free_ char *l1 = client_line(&cl);
    _cleanup_free_ char *l2 = client_line(&cl);
    CHECK_STR(l1, "HTTP/1.1 100 Continue");
    CHECK_STR(l2, "");
    client_puts(&cl, "[]");
    CHECK(read_response(&cl, &r, false));
    CHECK_INT(r.status, 200);
    resp_fini(&r);

    /* A 3 MB tar upload is spooled, content intact, file removed. */
    size_t n = 3 * 1024 * 1024 + 17;
    char *data = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 7 + (i >> 9));
    char head[256];
    snprintf(head, sizeof(head),
             "POST /v1.41/upload HTTP/1.1\r\n"
             "Content-Type: application/x-tar\r\n"
             "Content-Length: %zu\r\n\r\n",
             n);
    client_puts(&cl, head);
    client_send(&cl, data, n);
    CHECK(read_response(&cl, &r, false));
    CHECK_INT(r.status, 200);
    j = resp_json(&r);
    CHECK(jx_bool(j, "spooled", false));
    CHECK_INT(jx_int(j, "len", 0), (long long)n);
    CHECK_INT(jx_int(j, "body_len", 0), (long long)n);
    CHECK_INT(jx_int(j, "sum", 0), fnv1a(data, n));
    json_decref(j);
    resp_fini(&r);
    CHECK(strncmp(spooled_path, tmpdir, strlen(tmpdir)) == 0);
    CHECK(!fs_exists(spooled_path));

    /* Chunked octet-stream upload, also spooled. */
    client_puts(&cl, "POST /upload HTTP/1.1\r\n"
                     "Content-Type: application/octet-stream\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n");
    size_t sent = 0;
    while (sent < n) {
        size_t k = n - sent < 100000 ? n - sent : 100000;
        char sz[32];
        snprintf(sz, sizeof(sz), "%zx\r\n", k);
        client_puts(&cl, sz);
        client_send(&cl, data + sent, k);
        client_puts(&cl, "\r\n");
        sent += k;
    }
    client_puts(&cl, "0\r\n\r\n");
    CHECK(read_response(&cl, &r, false));
    j = resp_json(&r);
    CHECK(jx_bool(j, "spooled", false));
    CHECK_INT(jx_int(j, "len", 0), (long long)n);
    CHECK_INT(jx_int(j, "sum", 0), fnv1a(data, n));
    json_decref(j);
    resp_fini(&r);
    CHECK(!fs_exists(spooled_path));

    /* Small tar bodies are spooled too; an empty one gives an empty file. */
    CHECK(roundtrip(&cl,
                    "POST /upload HTTP/1.1\r\nContent-Type: application/x-tar"
                    "\r\nContent-Length: 0\r\n\r\n",
                    &r));
    j = resp_json(&r);
    CHECK(jx_bool(j, "spooled", false));
    CHECK_INT(jx_int(j, "len", 1), 0);
    json_decref(j);
    resp_fini(&r);

    /* An untyped 2 MB body crosses the threshold mid-way (chunked). */
    client_puts(&cl, "POST /upload HTTP/1.1\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n");
    size_t m = 2 * 1024 * 1024;
    for (size_t off = 0; off < m; off += 65536) {
        client_puts(&cl, "10000\r\n");
        client_send(&cl, data + off, 65536);
        client_puts(&cl, "\r\n");
    }
    client_puts(&cl, "0\r\n\r\n");
    CHECK(read_response(&cl, &r, false));
    j = resp_json(&r);
    CHECK(jx_bool(j, "spooled", false));
    CHECK_INT(jx_int(j, "len", 0), (long long)m);
    CHECK_INT(jx_int(j, "sum", 0), fnv1a(data, m));
    json_decref(j);
    resp_fini(&r);
    CHECK(!fs_exists(spooled_path));

    /* A 1.5 MB JSON body stays in memory. */
    struct buf jb;
    buf_init(&jb);
    buf_puts(&jb, "{\"s\":\"");
    for (size_t i = 0; i < 1536 * 1024; i++)
        buf_putc(&jb, 'a');
    buf_puts(&jb, "\"}");
    snprintf(head, sizeof(head),
             "POST /body HTTP/1.1\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             jb.len);
    client_puts(&cl, head);
    client_send(&cl, jb.data, jb.len);
    CHECK(read_response(&cl, &r, false));
    j = resp_json(&r);
    CHECK(jx_bool(j, "in_memory", false));
    CHECK_INT(jx_int(j, "len", 0), (long long)jb.len);
    json_decref(j);
    resp_fini(&r);
    buf_fini(&jb);
    free(data);
    client_close(&cl);
}

static void test_bodies(void)
{
    run_client(client_bodies);
}

static void client_keepalive(void)
{
    struct client cl;
    struct resp r;
    client_open(&cl);
    int ok = 0;
    for (int i = 0; i < 1000; i++) {
        char req[128];
        snprintf(req, sizeof(req), "GET /v1.41/echo/n%d HTTP/1.1\r\n\r\n", i);
        if (!roundtrip(&cl, req, &r))
            break;
        json_t *j = resp_json(&r);
        char want[32];
        snprintf(want, sizeof(want), "n%d", i);
        const char *got =
            json_string_value(json_array_get(json_object_get(j, "params"), 0));
        ok += r.status == 200 && got && strcmp(got, want) == 0;
        json_decref(j);
        resp_fini(&r);
    }
    CHECK_INT(ok, 1000);

    /* Pipelined: ten requests in one write, ten answers in order. */
    struct buf many;
    buf_init(&many);
    for (int i = 0; i < 10; i++)
        buf_printf(&many, "GET /echo/p%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
    buf_puts(&many, "POST /body HTTP/1.1\r\nContent-Length: 2\r\n\r\n[]");
    buf_puts(&many, "GET /logs HTTP/1.1\r\n\r\n");
    buf_puts(&many, "GET /later HTTP/1.1\r\n\r\n");
    client_send(&cl, many.data, many.len);
    buf_fini(&many);
    ok = 0;
    for (int i = 0; i < 10; i++) {
        if (!read_response(&cl, &r, false))
            break;
        json_t *j = resp_json(&r);
        char want[32];
        snprintf(want, sizeof(want), "p%d", i);
        const char *got =
            json_string_value(json_array_get(json_object_get(j, "params"), 0));
        ok += got && strcmp(got, want) == 0;
        json_decref(j);
        resp_fini(&r);
    }
    CHECK_INT(ok, 10);
    CHECK(read_response(&cl, &r, false));
    CHECK_INT(r.status, 200);
    resp_fini(&r);
    CHECK(read_response(&cl, &r, false));
    CHECK_INT(r.body.len, 14 + 13 + 3);
    resp_fini(&r);
    CHECK(read_response(&cl, &r, false));
    CHECK_STR(r.body.data, "{\"late\":\"yes\"}\n");
    resp_fini(&r);
    client_close(&cl);

    /* Many connections at once. */
    enum { NCONN = 64 };
    static struct client cls[NCONN];
    for (int i = 0; i < NCONN; i++) {
        client_open(&cls[i]);
        client_puts(&cls[i], "GET /later HTTP/1.1\r\n\r\n");
    }
    ok = 0;
    for (int i = 0; i < NCONN; i++) {
        if (read_response(&cls[i], &r, false))
            ok += r.status == 200;
        resp_fini(&r);
        client_close(&cls[i]);
    }
    CHECK_INT(ok, NCONN);
}

static void test_keepalive(void)
{
    run_client(client_keepalive);
}

/* ---- Memory connections ---- */

static void run_until_quiet(void)
{
    for (int i = 0; i < 10; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
}

static void test_mem_conn(void)
{
    struct buf out;
    buf_init(&out);
    struct http_conn *c = http_conn_mem_new(srv, &out);
    const char *req = "GET /v1.41/echo/m HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /warnings HTTP/1.1\r\n\r\n";
    /* Byte by byte: the parser must cope with any split. */
    for (const char *p = req; *p; p++)
        http_conn_mem_feed(c, p, 1);
    run_until_quiet();
    CHECK(strstr(out.data, "\"params\":[\"m\"]") != NULL);
    CHECK(strstr(out.data, "{\"Warnings\":null}\n") != NULL);
    CHECK(http_conn_mem_is_open(c));

    /* Garbage closes the connection; further input is ignored. */
    buf_reset(&out);
    http_conn_mem_feed(c, "\x01\x02\r\n\r\n", 6);
    run_until_quiet();
    CHECK(strncmp(out.data, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    CHECK(!http_conn_mem_is_open(c));
    http_conn_mem_feed(c, "GET / HTTP/1.1\r\n\r\n", 18);
    http_conn_mem_free(c);

    /* Hangup while an async handler is pending aborts it. */
    atomic_store(&abort_count, 0);
    buf_reset(&out);
    c = http_conn_mem_new(srv, &out);
    http_conn_mem_feed(c, "GET /slow HTTP/1.1\r\n\r\n", 22);
    run_until_quiet();
    CHECK_INT(atomic_load(&abort_count), 0);
    http_conn_mem_hangup(c);
    CHECK_INT(atomic_load(&abort_count), 0); /* from the loop, not here */
    run_until_quiet();
    CHECK_INT(atomic_load(&abort_count), 1);
    http_conn_mem_free(c);

    /* Freed while a stream is open. */
    c = http_conn_mem_new(srv, &out);
    http_conn_mem_feed(c, "GET /follow HTTP/1.1\r\n\r\n", 24);
    run_until_quiet();
    http_conn_mem_free(c);
    run_until_quiet();
    CHECK_INT(atomic_load(&abort_count), 2);
    buf_fini(&out);
}

/* Spooling into a directory that does not exist: 500 with the reason,
 * the body is drained and the connection stays usable. */
static void test_spool_failure(void)
{
    struct http_server *s4 = http_server_new(&loop, NULL);
    http_server_add_routes(s4, routes, ARRAY_SIZE(routes));
    http_server_set_spool_dir(s4, "/nonexistent/spool");
    struct buf out;
    buf_init(&out);
    struct http_conn *c = http_conn_mem_new(s4, &out);
    const char *req = "POST /upload HTTP/1.1\r\nContent-Type: application/x-tar"
                      "\r\nContent-Length: 5\r\n\r\nhello"
                      "GET /warnings HTTP/1.1\r\n\r\n";
    http_conn_mem_feed(c, req, strlen(req));
    run_until_quiet();
    CHECK(strncmp(out.data, "HTTP/1.1 500 Internal Server Error\r\n", 36) == 0);
    CHECK(strstr(out.data, "{\"message\":\"spool request body in "
                           "'/nonexistent/spool': No such file or "
                           "directory\"}\n") != NULL);
    CHECK(strstr(out.data, "{\"Warnings\":null}\n") != NULL);
    CHECK(http_conn_mem_is_open(c));
    http_conn_mem_free(c);
    http_server_close(s4, NULL, NULL);
    run_until_quiet();
    buf_fini(&out);
}

/* A second server: close with a pending request aborts it, the close
 * callback runs, everything is freed. */
static int closed_calls;

static void on_closed(void *arg)
{
    (void)arg;
    closed_calls++;
}

static void test_server_close(void)
{
    struct http_server *s2 = http_server_new(&loop, NULL);
    http_server_add_routes(s2, routes, ARRAY_SIZE(routes));
    char path2[400];
    snprintf(path2, sizeof(path2), "%s/second.sock", tmpdir);
    char addr[420];
    snprintf(addr, sizeof(addr), "unix://%s", path2);
    struct err err = {0};
    CHECK_INT(http_server_listen(s2, addr, &err), 0);
    CHECK_INT(http_server_listen(s2, "tcp://127.0.0.1:0", &err), 0);
    /* A live socket is not stolen. */
    struct http_server *s3 = http_server_new(&loop, NULL);
    CHECK_INT(http_server_listen(s3, addr, &err), -1);
    CHECK(strstr(err.msg, "in use") != NULL);
    CHECK_INT(http_server_listen(s3, "ftp://x", &err), -1);
    CHECK_INT(http_server_listen(s3, "tcp://1.2.3:99999", &err), -1);
    http_server_close(s3, on_closed, NULL);

    atomic_store(&abort_count, 0);
    struct buf out;
    buf_init(&out);
    struct http_conn *c = http_conn_mem_new(s2, &out);
    http_conn_mem_feed(c, "GET /slow HTTP/1.1\r\n\r\n", 22);
    run_until_quiet();
    CHECK_INT(closed_calls, 1); /* s3 */
    http_server_close(s2, on_closed, NULL);
    CHECK_INT(closed_calls, 1);
    run_until_quiet();
    CHECK_INT(closed_calls, 2);
    CHECK_INT(atomic_load(&abort_count), 1);
    CHECK(!fs_exists(path2));
    http_conn_mem_free(c);
    buf_fini(&out);
}

/* ---- Pure helpers ---- */

static void check_match(const char *pattern, const char *path, bool want,
                        const char *p0, const char *p1)
{
    char *params[4] = {0};
    size_t n = 0;
    bool got = http_route_match(pattern, path, params, &n);
    CHECK(got == want);
    if (got && p0)
        CHECK_STR(params[0], p0);
    if (got && p1)
        CHECK_STR(params[1], p1);
    for (size_t i = 0; i < n; i++)
        free(params[i]);
}

static void test_pure(void)
{
    char *s = http_url_decode("a%20b+c%2", 9, true);
    CHECK_STR(s, "a b c%2");
    free(s);
    s = http_url_decode("a+b%zz", 6, false);
    CHECK_STR(s, "a+b%zz");
    free(s);
    CHECK(http_url_decode("a%00", 4, false) == NULL);

    CHECK_INT(http_version_compare("1.41", "1.41"), 0);
    CHECK_INT(http_version_compare("1.9", "1.41"), -1);
    CHECK_INT(http_version_compare("1.41", "1.9"), 1);
    CHECK_INT(http_version_compare("1.41.0", "1.41"), 0);
    CHECK_INT(http_version_compare("2", "1.99"), 1);

    check_match("/services", "/services", true, NULL, NULL);
    check_match("/services", "/services/", false, NULL, NULL);
    check_match("/services/{id}", "/services/abc", true, "abc", NULL);
    check_match("/services/{id}", "/services/", false, NULL, NULL);
    check_match("/services/{id}/update", "/services/a/update", true, "a", NULL);
    check_match("/images/{name*}/json", "/images/a/b/c:d/json", true, "a/b/c:d",
                NULL);
    check_match("/images/{name*}/json", "/images/json", false, NULL, NULL);
    check_match("/images/{name*}/json", "/images//json", false, NULL, NULL);
    check_match("/images/{name*}/json", "/images/a//json", true, "a/", NULL);
    check_match("/images/{name*}", "/images/a/b", true, "a/b", NULL);
    check_match("/images/{name*}/tag/{t}", "/images/a/json/tag/x", true,
                "a/json", "x");
    check_match("/images/{name*}/json", "/images/a/json/json", true, "a/json",
                NULL);

    CHECK(http_route_pattern_valid("/a/{b}/{c*}/d"));
    CHECK(!http_route_pattern_valid("/a/{b*}/{c*}"));
    CHECK(!http_route_pattern_valid("/{a}/{b}/{c}/{d}/{e}"));
    CHECK(!http_route_pattern_valid("/a{b}"));
    CHECK(!http_route_pattern_valid("a"));

    uint8_t h[8];
    http_stdcopy_header(h, 2, 0x01020304);
    CHECK(memcmp(h, "\x02\0\0\0\x01\x02\x03\x04", 8) == 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_http.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(sock_path, sizeof(sock_path), "%s/api.sock", tmpdir);
    uv_loop_init(&loop);
    uv_async_init(&loop, &done_async, done_cb);
    srv = http_server_new(&loop, NULL);
    http_server_set_version(srv, "9.9.9");
    http_server_set_ping_header(srv, "Swarm", "inactive");
    http_server_set_ping_header(srv, "Swarm", "active/manager");
    http_server_set_ping_header(srv, "X-Gone", "1");
    http_server_set_ping_header(srv, "X-Gone", NULL);
    http_server_set_spool_dir(srv, tmpdir);
    http_server_add_routes(srv, routes, ARRAY_SIZE(routes));
    char addr[320];
    snprintf(addr, sizeof(addr), "unix://%s", sock_path);
    struct err err = {0};
    if (http_server_listen(srv, addr, &err) < 0) {
        fprintf(stderr, "listen: %s\n", err.msg);
        return 1;
    }
    struct stat st;
    CHECK(stat(sock_path, &st) == 0 && (st.st_mode & 0777) == 0660);

    RUN(test_pure);
    RUN(test_ping);
    RUN(test_routing);
    RUN(test_query);
    RUN(test_framing);
    RUN(test_http10);
    RUN(test_stream);
    RUN(test_abort);
    RUN(test_bad);
    RUN(test_bodies);
    RUN(test_keepalive);
    RUN(test_mem_conn);
    RUN(test_spool_failure);
    RUN(test_server_close);

    closed_calls = 0;
    http_server_close(srv, on_closed, NULL);
    uv_close((uv_handle_t *)&done_async, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(closed_calls, 1);
    CHECK_INT(uv_loop_close(&loop), 0);
    CHECK(!fs_exists(sock_path));
    struct err rmerr;
    fs_remove_tree(tmpdir, &rmerr);
    HARNESS_END();
}
