// SPDX-License-Identifier: Apache-2.0
// The HTTP server's output side and object lifetimes: queued writes of a
// connection (libuv streams, or the in-memory transport of tests), closing
// a connection and aborting its request, freeing requests, and the server
// object once its last handle closed. Below reply and routing; it reaches
// back up only through the server's response_written callback.
#include "api/http_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"

/* One queued write: a whole response, a chunk, or "100 Continue". */
struct http_wreq {
    uv_write_t w;
    struct http_conn *conn;
    struct http_wreq *next; /* memory connections: completion queue */
    char *data;
    size_t len;
    int flags; /* HTTP_SEND_* */
};

void http_req_free(struct http_req *r)
{
    if (!r)
        return;
    struct http_request *p = &r->pub;
    free(p->path);
    free(p->raw_url);
    for (size_t i = 0; i < p->n_query; i++) {
        free(p->query[i].key);
        free(p->query[i].value);
    }
    free(p->query);
    free(p->content_type);
    free(p->body);
    if (r->spool_fd >= 0)
        close(r->spool_fd);
    if (p->body_path) {
        unlink(p->body_path);
        free(p->body_path);
    }
    for (size_t i = 0; i < p->n_params; i++)
        free(p->params[i]);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    buf_fini(&r->body_mem);
    free(r->fail_msg);
    free(r);
}

/* The client is gone (or the server closes) while r is current. */
void http_req_abort(struct http_req *r)
{
    r->conn = NULL;
    if (r->state == HTTP_REQ_PARSING || r->on_abort) {
        if (r->on_abort) {
            r->in_abort = true;
            r->on_abort(&r->pub, r->abort_data);
        }
        http_req_free(r);
    }
    /* Otherwise orphaned: the handler's eventual reply frees it. */
}

const char *http_status_text(int status)
{
    const char *s = http_status_str((enum http_status)status);
    return strcmp(s, "<unknown>") == 0 ? "Unknown" : s;
}

struct http_server *http_conn_server(const struct http_conn *c)
{
    return c->srv;
}

bool http_conn_is_open(const struct http_conn *c)
{
    return !c->closing;
}

size_t http_conn_pending(const struct http_conn *c)
{
    if (c->mem || c->closing)
        return 0;
    return uv_stream_get_write_queue_size(&c->h.stream);
}

void http_conn_destroy(struct http_conn *c)
{
    buf_fini(&c->inbuf);
    buf_fini(&c->url);
    buf_fini(&c->hname);
    buf_fini(&c->hvalue);
    free(c);
}

static void server_free(struct http_server *s)
{
    for (size_t i = 0; i < s->n_ping_headers; i++) {
        free(s->ping_headers[i].name);
        free(s->ping_headers[i].value);
    }
    free(s->ping_headers);
    free(s->tables);
    free(s->server_name);
    free(s->spool_dir);
    free(s);
}

void http_server_handle_closed(struct http_server *s)
{
    assert(s->n_handles > 0);
    if (--s->n_handles > 0 || !s->closing)
        return;
    if (s->close_cb)
        s->close_cb(s->close_arg);
    server_free(s);
}

static void write_done(struct http_wreq *w, int status);

static void conn_close_cb(uv_handle_t *h)
{
    struct http_conn *c = h->data;
    struct http_server *s = c->srv;
    /* libuv cancels a stream's queued writes before this; mirror it. */
    while (c->mem_head) {
        struct http_wreq *w = c->mem_head;
        c->mem_head = w->next;
        write_done(w, UV_ECANCELED);
    }
    c->mem_tail = NULL;
    if (c->req) {
        struct http_req *r = c->req;
        c->req = NULL;
        http_req_abort(r);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    if (c->mem && c->mem_held)
        c->mem_closed = true;
    else
        http_conn_destroy(c);
    http_server_handle_closed(s);
}

/* Closing is asynchronous: the current request is aborted from the close
 * callback, so abort callbacks never run inside a handler's own call into
 * this module. */
void http_conn_close(struct http_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->reading = false;
    uv_close(&c->h.handle, conn_close_cb);
}

static void write_done(struct http_wreq *w, int status)
{
    struct http_conn *c = w->conn;
    int flags = w->flags;
    free(w->data);
    free(w);
    if (status < 0) {
        http_conn_close(c);
        return;
    }
    if (flags & HTTP_SEND_LAST)
        c->srv->response_written(c);
}

static void write_cb(uv_write_t *req, int status)
{
    write_done((struct http_wreq *)req, status);
}

static void mem_idle_cb(uv_idle_t *idle)
{
    struct http_conn *c = idle->data;
    struct http_wreq *w = c->mem_head;
    c->mem_head = c->mem_tail = NULL;
    uv_idle_stop(idle);
    while (w) {
        struct http_wreq *next = w->next;
        write_done(w, 0);
        w = next;
    }
}

void http_conn_send(struct http_conn *c, struct buf *out, int flags)
{
    if (flags & HTTP_SEND_LAST)
        c->req = NULL;
    if (flags & HTTP_SEND_CLOSE)
        c->close_after = true;
    if (c->closing) {
        buf_fini(out);
        return;
    }
    struct http_wreq *w = xcalloc(1, sizeof(*w));
    w->conn = c;
    w->len = out->len;
    w->data = buf_steal(out);
    w->flags = flags;
    if (c->mem) {
        buf_append(c->mem_out, w->data, w->len);
        if (c->mem_tail)
            c->mem_tail->next = w;
        else
            c->mem_head = w;
        c->mem_tail = w;
        uv_idle_start(&c->h.idle, mem_idle_cb);
        return;
    }
    uv_buf_t b = uv_buf_init(w->data, (unsigned int)w->len);
    int rc = uv_write(&w->w, &c->h.stream, &b, 1, write_cb);
    if (rc < 0) {
        free(w->data);
        free(w);
        http_conn_close(c);
    }
}
