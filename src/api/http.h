// SPDX-License-Identifier: Apache-2.0
// The HTTP/1.1 server shoald's API runs on: libuv streams (unix socket or
// TCP) parsed with http-parser, keep-alive, a route table, Docker's response
// headers, fixed-length and chunked replies, and Docker's multiplexed
// stdout/stderr framing for log streams. Only this folder speaks HTTP.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"
#include "base/err.h"

/* The newest and oldest Engine API versions shoald answers as. */
#define API_VERSION_MAX "1.50"
#define API_VERSION_MIN "1.24"

struct http_server;
struct http_request;

/* A route handler. It must eventually answer the request exactly once with
 * one of the http_reply_* functions or a stream (http_stream_begin ...
 * http_stream_end), possibly later from another loop callback. */
typedef void (*http_handler_fn)(struct http_request *req, void *data);

/* Called once if the client goes away before the request was answered (or
 * while a stream is open). After it returns the request is freed: the
 * handler must drop every pointer to it. */
typedef void (*http_abort_cb)(struct http_request *req, void *data);

struct http_query_param {
    char *key;   /* URL-decoded */
    char *value; /* URL-decoded, "" if absent */
};

struct http_request {
    const char *method;   /* "GET", "POST", "HEAD", "DELETE", "PUT" */
    char *path;           /* URL-decoded, version prefix stripped */
    char *raw_url;        /* as received */
    char api_version[16]; /* from "/v1.41/..." or API_VERSION_MAX */
    struct http_query_param *query;
    size_t n_query;
    char *content_type; /* request header, or NULL */
    /* The body. Small bodies are in memory (body/body_len, NUL-terminated,
     * "" when there is none). Bodies of image uploads (Content-Type
     * application/x-tar or application/octet-stream, or larger than
     * HTTP_SPOOL_THRESHOLD unless application/json) are spooled to a file
     * in the spool directory instead: body_path is set, body is NULL,
     * body_len is the file's size. The file is removed when the request is
     * freed. */
    char *body;
    size_t body_len;
    char *body_path;
    /* Route parameters: "{name}" segments of the matched pattern. */
    char *params[4];
    size_t n_params;
    void *user; /* for the handler */
};

/* Route table entry; patterns like "/services/{id}/update".
 *
 * A pattern is matched segment by segment against the URL-decoded path
 * (version prefix stripped). "{name}" matches exactly one non-empty segment;
 * "{name*}" matches one or more segments joined by '/', greedily but leaving
 * enough segments for the rest of the pattern: "/images/{name*}/json"
 * matches "/images/library/busybox:latest/json" with name =
 * "library/busybox:latest". Captures land in req->params in pattern order
 * (at most 4 per pattern). Routes are tried in the order they were added and
 * the first match wins. A path no route matches, or matches only under
 * another method, gets 404 {"message":"page not found"} like dockerd. */
struct http_route {
    const char *method;
    const char *pattern;
    http_handler_fn fn;
};

/* Limits. Bodies of other types beyond HTTP_SPOOL_THRESHOLD are spooled to
 * a file; JSON bodies (application/json) stay in memory up to
 * HTTP_MAX_JSON_BODY and are refused (400, connection closed) beyond. */
#define HTTP_MAX_HEADER_BYTES (64 * 1024)
#define HTTP_SPOOL_THRESHOLD  (1024 * 1024)
#define HTTP_MAX_JSON_BODY    (16 * 1024 * 1024)

/* Creates a server on loop (owned by the caller until http_server_close).
 * data is passed to every handler. Sets SIGPIPE to ignored, process-wide:
 * libuv writes with write(2), and a client that hung up must cost an EPIPE,
 * not the daemon. */
struct http_server *http_server_new(uv_loop_t *loop, void *data);
/* "Server: shoal/<version> (linux)" on every reply (default "dev"). */
void http_server_set_version(struct http_server *s, const char *version);
/* Adds (or replaces, or with value NULL removes) a header sent with the
 * /_ping replies, e.g. ("Swarm", "active/manager"). Copied. */
void http_server_set_ping_header(struct http_server *s, const char *name,
                                 const char *value);
/* Directory for spooled request bodies (default /tmp). Copied. */
void http_server_set_spool_dir(struct http_server *s, const char *dir);
/* Adds routes (the array must outlive the server). */
void http_server_add_routes(struct http_server *s,
                            const struct http_route *routes, size_t n);
/* Listens on "unix:///path" (mode 0660, stale socket removed) or
 * "tcp://host:port". Can be called several times. */
int http_server_listen(struct http_server *s, const char *addr,
                       struct err *err);
/* Closes listeners and connections; open requests are aborted (their abort
 * callbacks run from loop callbacks, never from inside this call). cb (may
 * be NULL) runs once everything is closed, then the server is freed. The
 * unix socket files the server created are removed. */
void http_server_close(struct http_server *s, void (*cb)(void *), void *arg);

/* Query helpers. http_query returns the first value for key (borrowed from
 * req) or NULL; http_query_bool follows dockerd: absent, "", "0", "no",
 * "false" and "none" (any case) are false, anything else true. */
const char *http_query(const struct http_request *req, const char *key);
bool http_query_bool(const struct http_request *req, const char *key);
/* A request header (case-insensitive name); borrowed from req, or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/* Parses the JSON body into *out (a new reference, owned by the caller);
 * 400-style error on bad JSON. An empty body yields an empty object. Any
 * JSON value is accepted (the handler checks the type); data after the
 * first value is ignored, like Go's json.Decoder. Spooled bodies are read
 * from their file (up to HTTP_MAX_JSON_BODY). */
int http_body_json(const struct http_request *req, json_t **out,
                   struct err *err);
/* Parses the "filters" query parameter (Docker's {"key":{"v":true}} or the
 * legacy {"key":["v"]}) into {"key":["v",...]} (new reference, owned by the
 * caller); empty object if absent. 400 "invalid filter ..." on bad input. */
int http_query_filters(const struct http_request *req, json_t **out,
                       struct err *err);
/* API version of the request compared to v ("1.41"): <0, 0, >0. */
int http_version_cmp(const struct http_request *req, const char *v);

/* Replies. Each answers the request and frees it: req must not be used
 * after the call (a spooled body file is already gone when the client sees
 * the reply). Answering twice is a bug (assert). Replies to HEAD requests
 * carry no body. If the client has already gone (and no abort callback was
 * registered) a reply just frees the request.
 *
 * http_reply_json borrows body (the caller keeps its reference) and sends
 * it compact with Content-Length and a trailing "\n", like Go's encoder. */
void http_reply_json(struct http_request *req, int status, json_t *body);
void http_reply_error(struct http_request *req, int status, const char *msg);
void http_reply_err(struct http_request *req, const struct err *err);
/* Body-less reply (e.g. 200 for DELETE /services, 204, 304). */
void http_reply_empty(struct http_request *req, int status);
void http_reply_raw(struct http_request *req, int status,
                    const char *content_type, const void *data, size_t len);

/* Streams: chunked responses whose headers are flushed at once.
 *
 * If the client disconnects (or the server closes) while the stream is
 * open, on_abort runs once from a loop callback and the request is freed
 * when it returns: the abort callback is the last thing the handler ever
 * sees of that request, so it must drop every pointer to it and never call
 * http_stream_* on it again. With on_abort NULL the request stays valid
 * after a disconnect: writes return -1 and http_stream_end frees it. */
void http_stream_begin(struct http_request *req, int status,
                       const char *content_type /* NULL = none */,
                       http_abort_cb on_abort, void *abort_data);
/* Writes one chunk (len 0 writes nothing); returns -1 if the client is
 * gone. */
int http_stream_write(struct http_request *req, const void *data, size_t len);
/* Writes one Docker stdcopy frame (stream 1 = stdout, 2 = stderr) as one
 * chunk: [stream,0,0,0,len BE32] + payload. */
int http_stream_frame(struct http_request *req, int stream, const void *data,
                      size_t len);
/* Bytes queued for writing but not yet written (for flow control). */
size_t http_stream_pending(const struct http_request *req);
/* Terminating chunk; frees the request. */
void http_stream_end(struct http_request *req);

/* For handlers that answer later: called (once, from a loop callback) if
 * the client disconnects or the server closes first; the request is freed
 * when cb returns. Handlers that answer later without registering one keep
 * a valid request: their eventual reply just frees it. */
void http_request_on_abort(struct http_request *req, http_abort_cb cb,
                           void *data);

/* Encodes a stdcopy frame header into out[8]. */
void http_stdcopy_header(uint8_t out[8], int stream, uint32_t len);

/* In-memory connections, for tests and fuzzing: bytes fed in go through the
 * same parser, router and reply code as a socket's, and everything the
 * server writes is appended to *out (borrowed; must outlive the
 * connection). Write completions and closes still happen on the server's
 * loop, so run it (uv_run) to make progress. The driver owns the object:
 * after the server side closes the connection (or the server closes),
 * feeding is a no-op; it is freed only by http_conn_mem_free, which may be
 * called before or after the server is closed. */
struct http_conn;
struct http_conn *http_conn_mem_new(struct http_server *s, struct buf *out);
/* Delivers bytes as if read from the socket. */
void http_conn_mem_feed(struct http_conn *c, const void *data, size_t len);
/* The client hangs up (read EOF): open requests are aborted. */
void http_conn_mem_hangup(struct http_conn *c);
/* True until the connection has started closing. */
bool http_conn_mem_is_open(const struct http_conn *c);
/* Hangs up if needed and frees the connection once libuv has closed it. */
void http_conn_mem_free(struct http_conn *c);
