// SPDX-License-Identifier: Apache-2.0
// HTTP responses the way dockerd writes them: its header set in Go's order
// (sorted, then Date and the framing headers), JSON bodies ending in a
// newline, Docker's error shape, chunked streams and stdcopy frames.
#include "api/http_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/jsonx.h"
#include "base/mem.h"

#define MAX_HEAD_HEADERS 32

static void fmt_http_date(char out[40])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed",
                                    "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
                                       "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"};
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT",
             days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int header_cmp(const void *a, const void *b)
{
    const struct http_header *x = a, *y = b;
    return strcmp(x->name, y->name);
}

void http_write_head(struct buf *out, const struct http_server *s, int status,
                     const char *content_type, const struct http_header *extra,
                     size_t n_extra, long long content_length, bool chunked,
                     bool close)
{
    struct http_header h[MAX_HEAD_HEADERS];
    size_t n = 0;
    h[n++] = (struct http_header){"Api-Version", API_VERSION_MAX};
    h[n++] = (struct http_header){"Docker-Experimental", "false"};
    h[n++] = (struct http_header){"Ostype", "linux"};
    h[n++] = (struct http_header){"Server", s->server_name};
    if (content_type)
        h[n++] = (struct http_header){"Content-Type", (char *)content_type};
    for (size_t i = 0; i < n_extra && n < MAX_HEAD_HEADERS; i++)
        h[n++] = extra[i];
    /* Go writes a handler's headers sorted by name. */
    qsort(h, n, sizeof(h[0]), header_cmp);

    buf_printf(out, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
    for (size_t i = 0; i < n; i++)
        buf_printf(out, "%s: %s\r\n", h[i].name, h[i].value);
    char date[40];
    fmt_http_date(date);
    buf_printf(out, "Date: %s\r\n", date);
    if (content_length >= 0)
        buf_printf(out, "Content-Length: %lld\r\n", content_length);
    if (chunked)
        buf_puts(out, "Transfer-Encoding: chunked\r\n");
    if (close)
        buf_puts(out, "Connection: close\r\n");
    buf_puts(out, "\r\n");
}

/* Go's JSON encoder replaces invalid UTF-8 with U+FFFD; jansson refuses
 * it, and messages can quote user input. */
static char *utf8_sanitize(const char *s)
{
    struct buf b;
    buf_init(&b);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = 0;
        unsigned int cp = 0;
        if (*p < 0x80) {
            n = 1;
        } else if ((*p & 0xe0) == 0xc0) {
            n = 2;
            cp = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
            n = 3;
            cp = *p & 0x0f;
        } else if ((*p & 0xf8) == 0xf0) {
            n = 4;
            cp = *p & 0x07;
        }
        bool ok = n > 0;
        for (size_t i = 1; ok && i < n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                ok = false;
            else
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (ok && n > 1) {
            static const unsigned int min[5] = {0, 0, 0x80, 0x800, 0x10000};
            if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                ok = false;
        }
        if (ok) {
            buf_append(&b, p, n);
            p += n;
        } else {
            buf_puts(&b, "\xef\xbf\xbd");
            p++;
        }
    }
    return buf_steal(&b);
}

/* Replies and stream calls made from inside an abort callback are ignored:
 * the request is freed when the callback returns. */
static bool reply_allowed(struct http_req *r, enum http_req_state want)
{
    if (r->in_abort)
        return false;
    assert(r->state == want);
    return true;
}

static int close_flag(const struct http_req *r)
{
    return r->keep_alive ? 0 : HTTP_SEND_CLOSE;
}

/* Sends out (if the client is still there) as the end of r's response and
 * frees r. */
static void reply_finish(struct http_req *r, struct buf *out, int flags)
{
    /* Free first: a client that has read the reply finds the spooled body
     * already removed. */
    struct http_conn *c = r->conn;
    http_req_free(r);
    if (c)
        http_conn_send(c, out, HTTP_SEND_LAST | flags);
    buf_fini(out);
}

static void reply_body(struct http_req *r, int status, const char *ct,
                       const void *data, size_t len)
{
    if (!reply_allowed(r, HTTP_REQ_DISPATCHED))
        return;
    struct buf out;
    buf_init(&out);
    if (r->conn && http_conn_is_open(r->conn)) {
        bool no_body = status == 204 || status == 304 || status < 200;
        http_write_head(&out, http_conn_server(r->conn), status,
                        no_body ? NULL : ct, NULL, 0,
                        no_body ? -1 : (long long)len, false, !r->keep_alive);
        if (!no_body && !r->head)
            buf_append(&out, data, len);
    }
    reply_finish(r, &out, close_flag(r));
}

void http_reply_raw(struct http_request *req, int status,
                    const char *content_type, const void *data, size_t len)
{
    reply_body(http_req_of(req), status, content_type, data, len);
}

void http_reply_json(struct http_request *req, int status, json_t *body)
{
    _cleanup_free_ char *s = jx_dumps(body);
    size_t len = strlen(s);
    s = xrealloc(s, len + 2);
    s[len++] = '\n';
    s[len] = '\0';
    reply_body(http_req_of(req), status, "application/json", s, len);
}

static json_t *error_body(const char *msg)
{
    _cleanup_free_ char *clean = utf8_sanitize(msg ? msg : "");
    json_t *j = json_object();
    json_object_set_new(j, "message", json_string(clean));
    return j;
}

void http_reply_error(struct http_request *req, int status, const char *msg)
{
    if (status == 204 || status == 304) {
        http_reply_empty(req, status);
        return;
    }
    _cleanup_json_ json_t *j = error_body(msg);
    http_reply_json(req, status, j);
}

void http_reply_err(struct http_request *req, const struct err *err)
{
    int status = err->code;
    if (status < 400 && status != 304)
        status = 500;
    http_reply_error(req, status, err->msg);
}

void http_reply_empty(struct http_request *req, int status)
{
    reply_body(http_req_of(req), status, NULL, "", 0);
}

void http_conn_send_error(struct http_conn *c, int status, const char *msg)
{
    _cleanup_json_ json_t *j = error_body(msg);
    _cleanup_free_ char *s = jx_dumps(j);
    struct buf out;
    buf_init(&out);
    http_write_head(&out, http_conn_server(c), status, "application/json", NULL,
                    0, (long long)strlen(s) + 1, false, true);
    buf_puts(&out, s);
    buf_putc(&out, '\n');
    http_conn_send(c, &out, HTTP_SEND_LAST | HTTP_SEND_CLOSE);
}

void http_reply_ping(struct http_req *r)
{
    if (!reply_allowed(r, HTTP_REQ_DISPATCHED))
        return;
    struct buf out;
    buf_init(&out);
    if (r->conn && http_conn_is_open(r->conn)) {
        const struct http_server *s = http_conn_server(r->conn);
        struct http_header h[MAX_HEAD_HEADERS];
        size_t n = 0;
        h[n++] = (struct http_header){"Cache-Control",
                                      "no-cache, no-store, must-revalidate"};
        h[n++] = (struct http_header){"Pragma", "no-cache"};
        h[n++] = (struct http_header){"Content-Length", r->head ? "0" : "2"};
        for (size_t i = 0; i < s->n_ping_headers && n < 16; i++)
            h[n++] = s->ping_headers[i];
        http_write_head(&out, s, 200, "text/plain; charset=utf-8", h, n, -1,
                        false, !r->keep_alive);
        if (!r->head)
            buf_puts(&out, "OK");
    }
    reply_finish(r, &out, close_flag(r));
}

/* ---- Streams ---- */

void http_stream_begin(struct http_request *req, int status,
                       const char *content_type, http_abort_cb on_abort,
                       void *abort_data)
{
    struct http_req *r = http_req_of(req);
    if (!reply_allowed(r, HTTP_REQ_DISPATCHED))
        return;
    r->state = HTTP_REQ_STREAMING;
    r->on_abort = on_abort;
    r->abort_data = abort_data;
    if (!r->conn || !http_conn_is_open(r->conn))
        return;
    /* An HTTP/1.0 client gets the raw bytes and the end of the
     * connection as the end of the stream. */
    struct buf out;
    buf_init(&out);
    http_write_head(&out, http_conn_server(r->conn), status, content_type, NULL,
                    0, -1, r->chunked_ok, !r->keep_alive || !r->chunked_ok);
    http_conn_send(r->conn, &out, 0);
}

static int stream_send(struct http_req *r, const void *head, size_t head_len,
                       const void *data, size_t len)
{
    if (!reply_allowed(r, HTTP_REQ_STREAMING))
        return -1;
    if (!r->conn || !http_conn_is_open(r->conn))
        return -1;
    if (head_len + len == 0 || r->head)
        return 0;
    struct buf out;
    buf_init(&out);
    buf_reserve(&out, head_len + len + 32);
    if (r->chunked_ok)
        buf_printf(&out, "%zx\r\n", head_len + len);
    buf_append(&out, head, head_len);
    buf_append(&out, data, len);
    if (r->chunked_ok)
        buf_puts(&out, "\r\n");
    http_conn_send(r->conn, &out, 0);
    return 0;
}

int http_stream_write(struct http_request *req, const void *data, size_t len)
{
    return stream_send(http_req_of(req), NULL, 0, data, len);
}

int http_stream_frame(struct http_request *req, int stream, const void *data,
                      size_t len)
{
    const char *p = data;
    do {
        size_t n = len > UINT32_MAX ? UINT32_MAX : len;
        uint8_t h[8];
        http_stdcopy_header(h, stream, (uint32_t)n);
        if (stream_send(http_req_of(req), h, sizeof(h), p, n) < 0)
            return -1;
        p += n;
        len -= n;
    } while (len > 0);
    return 0;
}

size_t http_stream_pending(const struct http_request *req)
{
    const struct http_req *r = http_req_of(req);
    return r->conn ? http_conn_pending(r->conn) : 0;
}

void http_stream_end(struct http_request *req)
{
    struct http_req *r = http_req_of(req);
    if (!reply_allowed(r, HTTP_REQ_STREAMING))
        return;
    struct buf out;
    buf_init(&out);
    if (r->conn && http_conn_is_open(r->conn) && r->chunked_ok && !r->head)
        buf_puts(&out, "0\r\n\r\n");
    reply_finish(r, &out, r->chunked_ok ? close_flag(r) : HTTP_SEND_CLOSE);
}

void http_request_on_abort(struct http_request *req, http_abort_cb cb,
                           void *data)
{
    struct http_req *r = http_req_of(req);
    r->on_abort = cb;
    r->abort_data = data;
}

void http_stdcopy_header(uint8_t out[8], int stream, uint32_t len)
{
    out[0] = (uint8_t)stream;
    out[1] = out[2] = out[3] = 0;
    out[4] = (uint8_t)(len >> 24);
    out[5] = (uint8_t)(len >> 16);
    out[6] = (uint8_t)(len >> 8);
    out[7] = (uint8_t)len;
}
