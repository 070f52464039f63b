// SPDX-License-Identifier: Apache-2.0
// Private to src/api/http*.c: the server object, a request's hidden state,
// and the calls between the server (http_server.c: listeners, parsing),
// the connection layer (http_conn.c: writes, lifetimes), replies and
// routing.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <http_parser.h>
#include <uv.h>

#include "api/http.h"
#include "base/buf.h"

struct http_conn;
struct http_wreq;

struct http_header {
    char *name;
    char *value;
};

struct http_route_table {
    const struct http_route *routes; /* borrowed, outlives the server */
    size_t n;
};

struct http_listener {
    struct http_server *srv;
    struct http_listener *next;
    char *unix_path; /* socket file to remove on close, or NULL */
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } h;
};

struct http_server {
    uv_loop_t *loop;
    void *data;
    struct http_route_table *tables;
    size_t n_tables;
    char *server_name; /* "shoal/<version> (linux)" */
    char *spool_dir;
    struct http_header *ping_headers;
    size_t n_ping_headers;
    struct http_listener *listeners;
    struct http_conn *conns; /* doubly linked through the conns */
    /* Open libuv handles (listeners, connections, the server's own timer);
     * the server is freed when the last one's close callback ran. */
    size_t n_handles;
    uv_timer_t timer; /* makes close completion always asynchronous */
    bool closing;
    void (*close_cb)(void *);
    void *close_arg;
    char read_buf[64 * 1024]; /* shared: libuv reads one socket at a time */
    /* The current response of c is written (http_server.c parses on). */
    void (*response_written)(struct http_conn *c);
};

enum http_req_state {
    HTTP_REQ_PARSING,    /* headers or body still arriving */
    HTTP_REQ_DISPATCHED, /* with the handler, not answered yet */
    HTTP_REQ_STREAMING,  /* chunked reply open */
};

struct http_req {
    struct http_request pub; /* first: handlers see only this part */
    /* The connection, or NULL once the client went away while the handler
     * had no abort callback (the request is then "orphaned" and freed by the
     * handler's eventual reply). */
    struct http_conn *conn;
    enum http_req_state state;
    http_abort_cb on_abort;
    void *abort_data;
    bool in_abort;   /* inside on_abort: replies are ignored */
    bool head;       /* HEAD request: never a body */
    bool keep_alive; /* the client wants the connection kept */
    bool chunked_ok; /* HTTP/1.1 client: chunked replies allowed */
    struct http_header *headers;
    size_t n_headers, cap_headers;
    /* Body being received. */
    struct buf body_mem;
    int spool_fd;
    bool json_body; /* Content-Type application/json: memory, capped */
    /* An error found while receiving (spool failure...): answered instead
     * of dispatching. */
    int fail_status;
    char *fail_msg;
};

static inline struct http_req *http_req_of(const struct http_request *req)
{
    return (struct http_req *)req;
}

/* ---- http_conn.c: the connection layer's output side ---- */

/* One client connection (fields below "Memory transport" are the test
 * transport's). */
struct http_conn {
    struct http_server *srv;
    struct http_conn *prev, *next;
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
        uv_idle_t idle; /* memory connections: deferred completions */
    } h;
    http_parser parser;
    /* The request being received or answered; one at a time. */
    struct http_req *req;
    struct buf inbuf; /* received, not parsed yet (from in_off) */
    size_t in_off;
    /* Header being received: http-parser may split names and values. */
    struct buf url, hname, hvalue;
    bool in_value;
    size_t header_bytes;
    bool busy;        /* a request is dispatched and not fully written */
    bool close_after; /* close once the current response is written */
    bool closing;     /* uv_close called */
    bool reading;
    bool processing;
    /* Memory transport. */
    bool mem;
    bool mem_held;   /* the driver still owns the object */
    bool mem_closed; /* close callback ran */
    struct buf *mem_out;
    struct http_wreq *mem_head, *mem_tail;
};

enum {
    HTTP_SEND_LAST = 1 << 0,  /* the response is complete after this */
    HTTP_SEND_CLOSE = 1 << 1, /* close the connection after this */
};
/* Queues out's bytes on c (stealing out's data); with HTTP_SEND_LAST the
 * connection's current request slot is cleared and the next request is
 * parsed once the write completed. A no-op on a closing connection. */
void http_conn_send(struct http_conn *c, struct buf *out, int flags);
bool http_conn_is_open(const struct http_conn *c);
size_t http_conn_pending(const struct http_conn *c);
struct http_server *http_conn_server(const struct http_conn *c);
/* Frees a request and everything it owns (removes its spooled body). */
void http_req_free(struct http_req *r);
/* Reason phrase for a status code ("Not Found"). */
const char *http_status_text(int status);
/* Closes c (asynchronous: its request is aborted from the close callback,
 * so abort callbacks never run inside a handler's own call). */
void http_conn_close(struct http_conn *c);
/* Frees a closed connection's memory. */
void http_conn_destroy(struct http_conn *c);
/* The client is gone (or the server closes) while r is current: its abort
 * callback runs, or it is orphaned until the handler replies. */
void http_req_abort(struct http_req *r);
/* One of s's libuv handles closed; the last one after http_server_close
 * completes the close and frees s. */
void http_server_handle_closed(struct http_server *s);

/* ---- http_reply.c ---- */

/* Appends a status line and Docker's header set to out. extra holds
 * handler-level headers (sorted in with the standard ones, Go style);
 * content_length < 0 means none; chunked adds Transfer-Encoding. */
void http_write_head(struct buf *out, const struct http_server *s, int status,
                     const char *content_type, const struct http_header *extra,
                     size_t n_extra, long long content_length, bool chunked,
                     bool close);
/* Sends a complete error reply on a connection with no request object
 * (malformed input) and closes it afterwards. */
void http_conn_send_error(struct http_conn *c, int status, const char *msg);
/* The /_ping reply. */
void http_reply_ping(struct http_req *r);

/* ---- http_route.c ---- */

/* Routes a complete request: version prefix, version check, /_ping, route
 * table, handler call. The request is answered (now or later) by the
 * handler or by this function. */
void http_dispatch(struct http_server *s, struct http_req *r);
/* URL-decodes src[0..len) into a new string; plus_space turns '+' into
 * ' '. Malformed escapes are kept as is. Returns NULL if the result would
 * contain a NUL byte. */
char *http_url_decode(const char *src, size_t len, bool plus_space);
/* Matches path against pattern; on success fills params (owned) and *n. */
bool http_route_match(const char *pattern, const char *path, char *params[4],
                      size_t *n);
/* Checks a pattern's syntax (at most 4 params, "{x*}" well formed). */
bool http_route_pattern_valid(const char *pattern);
/* Compares dotted versions numerically like Docker's versions package. */
int http_version_compare(const char *a, const char *b);
