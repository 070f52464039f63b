// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the HTTP server: arbitrary bytes go through a memory
// connection, i.e. the same parser, router, body spooling, reply and stream
// code a socket's bytes go through, against routes that use every request
// helper (params, queries, filters, JSON bodies, streams, async replies).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/http.h"
#include "base/jsonx.h"
#include "base/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char spool_dir[64];

static void h_echo(struct http_request *req, void *data)
{
    (void)data;
    json_t *params = json_array();
    for (size_t i = 0; i < req->n_params; i++)
        json_array_append_new(params, json_string(req->params[i]));
    json_t *query = json_object();
    for (size_t i = 0; i < req->n_query; i++)
        json_object_set_new(query, req->query[i].key,
                            json_stringn_nocheck(req->query[i].value,
                                                 strlen(req->query[i].value)));
    _cleanup_json_ json_t *out = json_pack(
        "{s:s, s:o, s:o, s:b, s:i, s:s?}", "version", req->api_version,
        "params", params, "query", query, "b", http_query_bool(req, "b"), "cmp",
        http_version_cmp(req, "1.41"), "ua", http_header(req, "User-Agent"));
    if (!out) {
        http_reply_error(req, 500, "cannot encode");
        return;
    }
    http_reply_json(req, 200, out);
}

static void h_filters(struct http_request *req, void *data)
{
    (void)data;
    struct err err = {0};
    _cleanup_json_ json_t *f = NULL;
    if (http_query_filters(req, &f, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    http_reply_json(req, 200, f);
}

static void h_body(struct http_request *req, void *data)
{
    (void)data;
    struct err err = {0};
    _cleanup_json_ json_t *j = NULL;
    if (http_body_json(req, &j, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    http_reply_json(req, 201, j);
}

static void h_empty(struct http_request *req, void *data)
{
    (void)data;
    const char *s = http_query(req, "status");
    http_reply_empty(req, s && strcmp(s, "204") == 0 ? 204 : 200);
}

static void h_logs(struct http_request *req, void *data)
{
    (void)data;
    const char *msg = http_query(req, "msg");
    http_stream_begin(req, 200, NULL, NULL, NULL);
    if (msg) {
        http_stream_frame(req, 1, msg, strlen(msg));
        http_stream_write(req, msg, strlen(msg));
    }
    (void)http_stream_pending(req);
    http_stream_end(req);
}

/* Asynchronous replies and streams, answered from loop timers. */
struct later {
    uv_timer_t timer;
    struct http_request *req;
    int ticks;
    bool stream;
};

static void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void later_abort(struct http_request *req, void *data)
{
    (void)req;
    struct later *l = data;
    uv_timer_stop(&l->timer);
    uv_close((uv_handle_t *)&l->timer, later_closed);
}

static void later_tick(uv_timer_t *t)
{
    struct later *l = t->data;
    if (l->stream && l->ticks-- > 0) {
        http_stream_frame(l->req, 2, "tick\n", 5);
        return;
    }
    if (l->stream)
        http_stream_end(l->req);
    else
        http_reply_raw(l->req, 200, "text/plain", "late", 4);
    uv_close((uv_handle_t *)&l->timer, later_closed);
}

static void start_later(struct http_request *req, uv_loop_t *loop, bool stream)
{
    struct later *l = xcalloc(1, sizeof(*l));
    l->req = req;
    l->stream = stream;
    l->ticks = 3;
    uv_timer_init(loop, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, later_tick, 0, 1);
    if (stream)
        http_stream_begin(req, 200, "application/json", later_abort, l);
    else
        http_request_on_abort(req, later_abort, l);
}

static void h_later(struct http_request *req, void *data)
{
    start_later(req, data, false); /* data: the loop */
}

static void h_follow(struct http_request *req, void *data)
{
    start_later(req, data, true);
}

static const struct http_route routes[] = {
    {"GET", "/echo/{id}", h_echo},
    {"POST", "/echo/{id}/{op}", h_echo},
    {"GET", "/images/{name*}/json", h_echo},
    {"GET", "/filters", h_filters},
    {"POST", "/body", h_body},
    {"PUT", "/body", h_body},
    {"DELETE", "/things/{id}", h_empty},
    {"GET", "/logs", h_logs},
    {"HEAD", "/logs", h_logs},
    {"GET", "/later", h_later},
    {"GET", "/follow", h_follow},
};

static void remove_spool_dir(void)
{
    rmdir(spool_dir); /* spooled bodies are removed with their requests */
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/fuzz_http.XXXXXX");
    if (!mkdtemp(spool_dir))
        abort();
    atexit(remove_spool_dir);
    return 0;
}

static void spin(uv_loop_t *loop, int n)
{
    for (int i = 0; i < n; i++)
        uv_run(loop, UV_RUN_NOWAIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct http_server *s = http_server_new(&loop, &loop);
    http_server_set_spool_dir(s, spool_dir);
    http_server_set_ping_header(s, "Swarm", "active/manager");
    http_server_add_routes(s, routes, sizeof(routes) / sizeof(routes[0]));
    struct buf out;
    buf_init(&out);
    struct http_conn *c = http_conn_mem_new(s, &out);

    /* The first byte picks how the rest is split into reads and whether
     * the client hangs up early. */
    size_t step = 1, off = 1;
    bool hangup = false;
    if (size > 0) {
        step = (size_t)(data[0] & 0x3f) + 1;
        hangup = data[0] & 0x80;
    }
    if (step == 64)
        step = size; /* all at once */
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        http_conn_mem_feed(c, data + off, n);
        off += n;
        if (data[0] & 0x40)
            spin(&loop, 1);
    }
    if (hangup)
        http_conn_mem_hangup(c);
    spin(&loop, 16);
    if (out.len > 0 && memcmp(out.data, "HTTP/1.1 ", 9) != 0)
        abort(); /* every output starts with a status line */

    http_conn_mem_free(c);
    http_server_close(s, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        abort(); /* a handle leaked */
    buf_fini(&out);
    return 0;
}
