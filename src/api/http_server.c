// SPDX-License-Identifier: Apache-2.0
// The HTTP server's input side: listeners on unix sockets and TCP, and one
// connection object per client that feeds http-parser, builds requests
// (headers, body in memory or spooled to a file) and hands complete requests
// to the router one at a time. Memory-backed connections run the same code
// for tests and fuzzing. Writes and lifetimes are http_conn.c's; with it,
// the http-parser adapter (http_int.h brings its header).
#include "api/http_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

/* Input buffered while a request is being answered (a pipelining client);
 * beyond this we stop reading until the reply is done. */
#define INBUF_MAX (1024 * 1024)

static void conn_process(struct http_conn *c);

/* ---- Requests ---- */

static struct http_req *req_new(struct http_conn *c)
{
    struct http_req *r = xcalloc(1, sizeof(*r));
    r->conn = c;
    r->state = HTTP_REQ_PARSING;
    r->spool_fd = -1;
    r->pub.method = "";
    snprintf(r->pub.api_version, sizeof(r->pub.api_version), "%s",
             API_VERSION_MAX);
    buf_init(&r->body_mem);
    return r;
}

/* Records the first error found while receiving; the request is answered
 * with it instead of being dispatched. */
static void req_fail(struct http_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void req_fail(struct http_req *r, int status, const char *fmt, ...)
{
    if (r->fail_status)
        return;
    va_list ap;
    va_start(ap, fmt);
    r->fail_status = status;
    r->fail_msg = xvasprintf(fmt, ap);
    va_end(ap);
}

/* ---- Body spooling ---- */

static void spool_drop(struct http_req *r)
{
    if (r->spool_fd >= 0)
        close(r->spool_fd);
    r->spool_fd = -1;
    if (r->pub.body_path) {
        unlink(r->pub.body_path);
        free(r->pub.body_path);
        r->pub.body_path = NULL;
    }
}

static int spool_write(struct http_req *r, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(r->spool_fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            req_fail(r, 500, "spool request body: %s", strerror(errno));
            spool_drop(r);
            return -1;
        }
        data += n;
        len -= (size_t)n;
        r->pub.body_len += (size_t)n;
    }
    return 0;
}

static int spool_start(struct http_conn *c, struct http_req *r)
{
    const char *dir = c->srv->spool_dir;
    char *path = xasprintf("%s/shoal-body-XXXXXX", dir);
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        req_fail(r, 500, "spool request body in '%s': %s", dir,
                 strerror(errno));
        free(path);
        return -1;
    }
    r->pub.body_path = path;
    r->spool_fd = fd;
    r->pub.body_len = 0;
    size_t held = r->body_mem.len;
    char *data = buf_steal(&r->body_mem);
    int rc = spool_write(r, data, held);
    free(data);
    return rc;
}

/* "application/json; charset=utf-8" → compares "application/json". */
static bool media_type_is(const char *ct, const char *type)
{
    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen(type);
    if (strncasecmp(ct, type, n) != 0)
        return false;
    char end = ct[n];
    return end == '\0' || end == ';' || end == ' ' || end == '\t';
}

/* ---- http-parser callbacks ---- */

static int count_header_bytes(struct http_conn *c, size_t len)
{
    c->header_bytes += len;
    if (c->header_bytes > HTTP_MAX_HEADER_BYTES) {
        req_fail(c->req, 431, "request header fields too large");
        return -1;
    }
    return 0;
}

static void header_push(struct http_conn *c)
{
    struct http_req *r = c->req;
    if (r->n_headers == r->cap_headers) {
        r->cap_headers = r->cap_headers ? r->cap_headers * 2 : 16;
        r->headers = xrealloc(r->headers, r->cap_headers * sizeof(*r->headers));
    }
    r->headers[r->n_headers].name = buf_steal(&c->hname);
    r->headers[r->n_headers].value = buf_steal(&c->hvalue);
    r->n_headers++;
    c->in_value = false;
}

static int on_message_begin(http_parser *p)
{
    struct http_conn *c = p->data;
    assert(!c->req);
    c->req = req_new(c);
    c->header_bytes = 0;
    c->in_value = false;
    buf_reset(&c->url);
    buf_reset(&c->hname);
    buf_reset(&c->hvalue);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    if (count_header_bytes(c, len) < 0)
        return -1;
    buf_append(&c->url, at, len);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    if (count_header_bytes(c, len) < 0)
        return -1;
    if (c->in_value)
        header_push(c);
    buf_append(&c->hname, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    if (count_header_bytes(c, len) < 0)
        return -1;
    c->in_value = true;
    buf_append(&c->hvalue, at, len);
    return 0;
}

static void send_continue(struct http_conn *c)
{
    struct buf out;
    buf_init(&out);
    buf_puts(&out, "HTTP/1.1 100 Continue\r\n\r\n");
    http_conn_send(c, &out, 0);
}

static int on_headers_complete(http_parser *p)
{
    struct http_conn *c = p->data;
    struct http_req *r = c->req;
    if (c->in_value || c->hname.len)
        header_push(c);
    r->pub.raw_url = buf_steal(&c->url);
    r->pub.method = http_method_str((enum http_method)p->method);
    r->head = p->method == HTTP_HEAD;
    r->keep_alive = http_should_keep_alive(p) != 0;
    r->chunked_ok =
        p->http_major > 1 || (p->http_major == 1 && p->http_minor >= 1);
    r->pub.content_type = xstrdup(http_header(&r->pub, "Content-Type"));

    bool chunked = (p->flags & F_CHUNKED) != 0;
    bool has_len = (p->flags & F_CONTENTLENGTH) != 0;
    uint64_t len = has_len ? p->content_length : 0;
    bool has_body = chunked || len > 0;
    const char *ct = r->pub.content_type;
    r->json_body = media_type_is(ct, "application/json");

    if (r->json_body && len > HTTP_MAX_JSON_BODY) {
        req_fail(r, 400, "request body too large: %llu bytes (max %d)",
                 (unsigned long long)len, HTTP_MAX_JSON_BODY);
        return -1;
    }
    if (media_type_is(ct, "application/x-tar") ||
        media_type_is(ct, "application/octet-stream") ||
        (!r->json_body && len > HTTP_SPOOL_THRESHOLD))
        spool_start(c, r); /* failure is answered after the body */

    const char *expect = http_header(&r->pub, "Expect");
    if (has_body && expect && strcasecmp(expect, "100-continue") == 0 &&
        !r->fail_status)
        send_continue(c);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    struct http_req *r = c->req;
    if (r->fail_status)
        return 0; /* discard: the error is answered at the end */
    if (r->spool_fd >= 0) {
        spool_write(r, at, len);
        return 0;
    }
    if (r->json_body) {
        if (r->body_mem.len + len > HTTP_MAX_JSON_BODY) {
            req_fail(r, 400, "request body too large (max %d bytes)",
                     HTTP_MAX_JSON_BODY);
            return -1;
        }
    } else if (r->body_mem.len + len > HTTP_SPOOL_THRESHOLD) {
        if (spool_start(c, r) == 0)
            spool_write(r, at, len);
        return 0;
    }
    buf_append(&r->body_mem, at, len);
    r->pub.body_len = r->body_mem.len;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct http_conn *c = p->data;
    struct http_req *r = c->req;
    if (r->spool_fd >= 0) {
        if (close(r->spool_fd) < 0)
            req_fail(r, 500, "spool request body: %s", strerror(errno));
        r->spool_fd = -1;
    } else if (!r->pub.body_path) {
        r->pub.body_len = r->body_mem.len;
        r->pub.body = buf_steal(&r->body_mem);
    }
    /* Stop here: the request is dispatched outside the parser, and the
     * next one is parsed only once this one is answered. */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- Connections ---- */

static struct http_conn *conn_new(struct http_server *s)
{
    struct http_conn *c = xcalloc(1, sizeof(*c));
    c->srv = s;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    buf_init(&c->inbuf);
    buf_init(&c->url);
    buf_init(&c->hname);
    buf_init(&c->hvalue);
    c->h.handle.data = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_handles++;
    return c;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct http_conn *c = h->data;
    b->base = c->srv->read_buf;
    b->len = sizeof(c->srv->read_buf);
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b);

/* Reads while idle or answering (to notice a client that goes away), but
 * not without bound while a pipelining client queues requests. */
static void conn_update_reading(struct http_conn *c)
{
    if (c->mem || c->closing)
        return;
    bool want = !c->close_after && !(c->busy && c->inbuf.len > INBUF_MAX);
    if (want == c->reading)
        return;
    if (want) {
        int rc = uv_read_start(&c->h.stream, alloc_cb, read_cb);
        if (rc < 0) {
            log_warn("http: read start: %s", uv_strerror(rc));
            http_conn_close(c);
            return;
        }
    } else {
        uv_read_stop(&c->h.stream);
    }
    c->reading = want;
}

static void conn_input(struct http_conn *c, const char *data, size_t len)
{
    if (c->closing || c->close_after)
        return; /* answering an error; the rest is ignored */
    buf_append(&c->inbuf, data, len);
    conn_process(c);
    conn_update_reading(c);
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b)
{
    struct http_conn *c = stream->data;
    if (nread > 0)
        conn_input(c, b->base, (size_t)nread);
    else if (nread < 0)
        http_conn_close(c); /* EOF or error: the client is gone */
}

/* The response of the current request is fully written (the connection
 * layer's response_written). */
static void conn_response_done(struct http_conn *c)
{
    if (c->closing)
        return;
    c->busy = false;
    if (c->close_after) {
        http_conn_close(c);
        return;
    }
    conn_process(c);
    conn_update_reading(c);
}

/* Malformed input: answer and close. */
static void conn_parse_error(struct http_conn *c, enum http_errno e)
{
    struct http_req *r = c->req;
    c->req = NULL;
    int status = 400;
    char *msg;
    if (r && r->fail_status) {
        status = r->fail_status;
        msg = steal_ptr(r->fail_msg);
    } else if (e == HPE_HEADER_OVERFLOW) {
        status = 431;
        msg = xstrdup("request header fields too large");
    } else {
        msg =
            xasprintf("malformed HTTP request: %s", http_errno_description(e));
    }
    http_req_free(r);
    c->busy = true;
    http_conn_send_error(c, status, msg);
    free(msg);
}

static void conn_dispatch(struct http_conn *c)
{
    struct http_req *r = c->req;
    r->state = HTTP_REQ_DISPATCHED;
    c->busy = true;
    if (r->fail_status) {
        char *msg = steal_ptr(r->fail_msg);
        http_reply_error(&r->pub, r->fail_status, msg);
        free(msg);
        return;
    }
    http_dispatch(c->srv, r);
}

/* Parses buffered input, dispatching each complete request; stops while a
 * request is being answered. Only called from loop callbacks (reads, write
 * completions), never from inside a handler. */
static void conn_process(struct http_conn *c)
{
    if (c->processing)
        return;
    c->processing = true;
    while (!c->busy && !c->closing && !c->close_after &&
           c->in_off < c->inbuf.len) {
        size_t avail = c->inbuf.len - c->in_off;
        size_t n = http_parser_execute(&c->parser, &parser_settings,
                                       c->inbuf.data + c->in_off, avail);
        c->in_off += n;
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            conn_dispatch(c);
            continue;
        }
        if (e != HPE_OK) {
            conn_parse_error(c, e);
            break;
        }
        if (n < avail) {
            /* An upgrade request stops the parser; we do not upgrade. */
            conn_parse_error(c, HPE_INVALID_CONSTANT);
            break;
        }
    }
    buf_consume(&c->inbuf, c->in_off);
    c->in_off = 0;
    c->processing = false;
}

/* ---- Memory connections ---- */

struct http_conn *http_conn_mem_new(struct http_server *s, struct buf *out)
{
    assert(!s->closing);
    struct http_conn *c = conn_new(s);
    c->mem = true;
    c->mem_held = true;
    c->mem_out = out;
    uv_idle_init(s->loop, &c->h.idle);
    c->h.handle.data = c;
    return c;
}

void http_conn_mem_feed(struct http_conn *c, const void *data, size_t len)
{
    if (len)
        conn_input(c, data, len);
}

void http_conn_mem_hangup(struct http_conn *c)
{
    http_conn_close(c);
}

bool http_conn_mem_is_open(const struct http_conn *c)
{
    return !c->closing;
}

void http_conn_mem_free(struct http_conn *c)
{
    c->mem_held = false;
    if (c->mem_closed)
        http_conn_destroy(c);
    else
        http_conn_close(c); /* the close callback frees it */
}

/* ---- Server ---- */

struct http_server *http_server_new(uv_loop_t *loop, void *data)
{
    /* libuv writes with write(2): a client that hung up must cost an
     * EPIPE, not the process. */
    signal(SIGPIPE, SIG_IGN);
    struct http_server *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->data = data;
    s->server_name = xstrdup("shoal/dev (linux)");
    s->spool_dir = xstrdup("/tmp");
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    s->n_handles = 1;
    s->response_written = conn_response_done;
    return s;
}

void http_server_set_version(struct http_server *s, const char *version)
{
    free(s->server_name);
    s->server_name = xasprintf("shoal/%s (linux)", version);
}

void http_server_set_ping_header(struct http_server *s, const char *name,
                                 const char *value)
{
    for (size_t i = 0; i < s->n_ping_headers; i++) {
        struct http_header *h = &s->ping_headers[i];
        if (strcasecmp(h->name, name) != 0)
            continue;
        if (value) {
            free(h->value);
            h->value = xstrdup(value);
        } else {
            free(h->name);
            free(h->value);
            *h = s->ping_headers[--s->n_ping_headers];
        }
        return;
    }
    if (!value)
        return;
    s->ping_headers = xrealloc(s->ping_headers, (s->n_ping_headers + 1) *
                                                    sizeof(*s->ping_headers));
    s->ping_headers[s->n_ping_headers].name = xstrdup(name);
    s->ping_headers[s->n_ping_headers].value = xstrdup(value);
    s->n_ping_headers++;
}

void http_server_set_spool_dir(struct http_server *s, const char *dir)
{
    free(s->spool_dir);
    s->spool_dir = xstrdup(dir);
}

void http_server_add_routes(struct http_server *s,
                            const struct http_route *routes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!http_route_pattern_valid(routes[i].pattern)) {
            log_error("http: bad route pattern '%s'", routes[i].pattern);
            abort();
        }
    }
    s->tables = xrealloc(s->tables, (s->n_tables + 1) * sizeof(*s->tables));
    s->tables[s->n_tables].routes = routes;
    s->tables[s->n_tables].n = n;
    s->n_tables++;
}

static void timer_close_cb(uv_handle_t *h)
{
    http_server_handle_closed(h->data);
}

static void listener_close_cb(uv_handle_t *h)
{
    struct http_listener *l = h->data;
    struct http_server *s = l->srv;
    free(l->unix_path);
    free(l);
    http_server_handle_closed(s);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct http_listener *l = server->data;
    struct http_server *s = l->srv;
    if (status < 0) {
        log_warn("http: accept: %s", uv_strerror(status));
        return;
    }
    struct http_conn *c = conn_new(s);
    if (l->unix_path)
        uv_pipe_init(s->loop, &c->h.pipe, 0);
    else
        uv_tcp_init(s->loop, &c->h.tcp);
    c->h.handle.data = c;
    int rc = uv_accept(server, &c->h.stream);
    if (rc < 0) {
        log_warn("http: accept: %s", uv_strerror(rc));
        http_conn_close(c);
        return;
    }
    if (!l->unix_path)
        uv_tcp_nodelay(&c->h.tcp, 1);
    conn_update_reading(c);
}

/* A socket file left by a dead daemon is removed; a live one is not. */
static int unix_prepare(const char *path, struct err *err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : err_sys(err, errno, "stat '%s'", path);
    if (!S_ISSOCK(st.st_mode))
        return err_set(err, ERR_CONFLICT, "'%s' exists and is not a socket",
                       path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_sys(err, errno, "socket");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    close(fd);
    if (rc == 0)
        return err_set(err, ERR_CONFLICT, "'%s' is in use by another server",
                       path);
    if (unlink(path) < 0 && errno != ENOENT)
        return err_sys(err, errno, "remove stale socket '%s'", path);
    return 0;
}

static int listen_unix(struct http_server *s, struct http_listener *l,
                       const char *path, struct err *err)
{
    struct sockaddr_un sa;
    if (!*path || strlen(path) >= sizeof(sa.sun_path))
        return err_set(err, ERR_INVALID, "bad unix socket path '%s'", path);
    if (unix_prepare(path, err) < 0)
        return -1;
    uv_pipe_init(s->loop, &l->h.pipe, 0);
    l->unix_path = xstrdup(path);
    int rc = uv_pipe_bind(&l->h.pipe, path);
    if (rc < 0)
        return err_set(err, ERR_INTERNAL, "bind '%s': %s", path,
                       uv_strerror(rc));
    if (chmod(path, 0660) < 0)
        return err_sys(err, errno, "chmod '%s'", path);
    return 0;
}

static int listen_tcp(struct http_server *s, struct http_listener *l,
                      const char *hostport, struct err *err)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport + strlen(hostport) - 1 ||
        (size_t)(colon - hostport) >= sizeof(host))
        return err_set(err, ERR_INVALID, "bad tcp address '%s'", hostport);
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return err_set(err, ERR_INVALID, "bad port in '%s'", hostport);
    struct sockaddr_storage ss;
    int rc;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        rc = uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)&ss);
    } else {
        const char *h = host;
        if (!*h)
            h = "0.0.0.0";
        else if (strcmp(h, "localhost") == 0)
            h = "127.0.0.1";
        rc = uv_ip4_addr(h, (int)port, (struct sockaddr_in *)&ss);
    }
    if (rc < 0)
        return err_set(err, ERR_INVALID, "bad host in '%s'", hostport);
    uv_tcp_init(s->loop, &l->h.tcp);
    rc = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&ss, 0);
    if (rc < 0)
        return err_set(err, ERR_INTERNAL, "bind '%s': %s", hostport,
                       uv_strerror(rc));
    return 0;
}

int http_server_listen(struct http_server *s, const char *addr, struct err *err)
{
    assert(!s->closing);
    struct http_listener *l = xcalloc(1, sizeof(*l));
    l->srv = s;
    int rc;
    if (strncmp(addr, "unix://", 7) == 0)
        rc = listen_unix(s, l, addr + 7, err);
    else if (strncmp(addr, "tcp://", 6) == 0)
        rc = listen_tcp(s, l, addr + 6, err);
    else
        rc = err_set(err, ERR_INVALID,
                     "unsupported address '%s' (want unix:// or tcp://)", addr);
    bool inited = l->h.handle.type != UV_UNKNOWN_HANDLE;
    if (inited) {
        l->h.handle.data = l;
        s->n_handles++;
    }
    if (rc == 0) {
        rc = uv_listen(&l->h.stream, 511, on_connection);
        if (rc < 0)
            rc = err_set(err, ERR_INTERNAL, "listen: %s", uv_strerror(rc));
    }
    if (rc < 0) {
        err_ctx(err, "listen on '%s'", addr);
        if (inited) {
            uv_close(&l->h.handle, listener_close_cb);
        } else {
            free(l->unix_path);
            free(l);
        }
        return -1;
    }
    l->next = s->listeners;
    s->listeners = l;
    return 0;
}

void http_server_close(struct http_server *s, void (*cb)(void *), void *arg)
{
    assert(!s->closing);
    s->closing = true;
    s->close_cb = cb;
    s->close_arg = arg;
    while (s->listeners) {
        struct http_listener *l = s->listeners;
        s->listeners = l->next;
        /* libuv removes a bound pipe's socket file when closing it. */
        uv_close(&l->h.handle, listener_close_cb);
    }
    for (struct http_conn *c = s->conns; c; c = c->next)
        http_conn_close(c);
    uv_close((uv_handle_t *)&s->timer, timer_close_cb);
}
