// SPDX-License-Identifier: Apache-2.0
// libcurl adapter for the shoal CLI: the only file in src/cli that includes
// <curl/curl.h>. One easy handle per client keeps one keep-alive connection
// (unix socket or TCP); every request is versioned ("/v1.41/...") after a
// single /_ping negotiation, as the docker CLI does.
#include "cli/client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/jsonx.h"
#include "base/mem.h"

struct cli_client {
    char *host;      /* as given, for messages */
    char *sock_path; /* unix socket, or NULL for TCP */
    char *base_url;  /* "http://api.moby.localhost" or "http://h:p" */
    bool debug;
    CURL *curl;
    bool negotiated;
    char version[16];
    char server_version[16];
};

static void global_init(void)
{
    static bool done;
    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = true;
    }
}

struct cli_client *cli_client_new(const char *host, bool debug, struct err *err)
{
    struct cli_client *c = xcalloc(1, sizeof(*c));
    c->host = xstrdup(host);
    c->debug = debug;
    if (strncmp(host, "unix://", 7) == 0 && host[7]) {
        c->sock_path = xstrdup(host + 7);
        c->base_url = xstrdup("http://api.moby.localhost");
    } else if (strncmp(host, "tcp://", 6) == 0 && host[6]) {
        const char *hp = host + 6;
        size_t n = strcspn(hp, "/");
        const char *colon = memchr(hp, ':', n);
        if (hp[0] == '[')
            colon = memchr(hp, ']', n) ? strchr(memchr(hp, ']', n), ':') : NULL;
        if (colon && (size_t)(colon - hp) < n)
            c->base_url = xasprintf("http://%.*s", (int)n, hp);
        else
            c->base_url = xasprintf("http://%.*s:2375", (int)n, hp);
    } else {
        err_set(err, ERR_INVALID, "unable to parse shoal host \"%s\"", host);
        cli_client_free(c);
        return NULL;
    }
    global_init();
    return c;
}

void cli_client_free(struct cli_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->host);
    free(c->sock_path);
    free(c->base_url);
    free(c);
}

struct cli_client *cli_client_clone(struct cli_client *c)
{
    struct cli_client *n = xcalloc(1, sizeof(*n));
    n->host = xstrdup(c->host);
    n->sock_path = xstrdup(c->sock_path);
    n->base_url = xstrdup(c->base_url);
    n->debug = c->debug;
    n->negotiated = c->negotiated;
    memcpy(n->version, c->version, sizeof(n->version));
    memcpy(n->server_version, c->server_version, sizeof(n->server_version));
    return n;
}

const char *cli_client_version(const struct cli_client *c)
{
    return c->version;
}

const char *cli_client_server_version(const struct cli_client *c)
{
    return c->server_version;
}

const char *cli_client_host(const struct cli_client *c)
{
    return c->host;
}

/* Compares "1.41"-style versions numerically. */
static int version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        long x = strtol(a, (char **)&a, 10);
        long y = strtol(b, (char **)&b, 10);
        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
        if (!*a && !*b)
            break;
        if (!isdigit((unsigned char)*a) && !isdigit((unsigned char)*b))
            break;
    }
    return 0;
}

/* Per-transfer state shared by the curl callbacks. */
struct xfer {
    struct cli_client *c;
    const struct cli_request *req;
    struct buf *body;     /* buffered body */
    bool streaming;       /* passing the 2xx body to req->on_data */
    bool cb_failed;       /* on_data asked to stop */
    char api_version[16]; /* from the response headers */
};

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    static const char key[] = "api-version:";
    if (n > sizeof(key) - 1 && strncasecmp(data, key, sizeof(key) - 1) == 0) {
        const char *v = data + sizeof(key) - 1;
        while (*v == ' ')
            v++;
        size_t vl = (size_t)(data + n - v);
        while (vl &&
               (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl < sizeof(x->api_version)) {
            memcpy(x->api_version, v, vl);
            x->api_version[vl] = '\0';
        }
    }
    return n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (x->req->on_data && status >= 200 && status < 300) {
        x->streaming = true;
        if (x->req->on_data(data, n, x->req->ud) < 0) {
            x->cb_failed = true;
            return 0;
        }
        return n;
    }
    buf_append(x->body, data, n);
    return n;
}

static size_t on_read(char *data, size_t size, size_t nmemb, void *ud)
{
    FILE *f = ud;
    size_t n = fread(data, 1, size * nmemb, f);
    if (n == 0 && ferror(f))
        return CURL_READFUNC_ABORT;
    return n;
}

static int connect_error(struct cli_client *c, struct err *err)
{
    return err_set(err, CLI_ERR_CONNECT,
                   "Cannot connect to the shoal daemon at %s. Is the daemon "
                   "running?",
                   c->host);
}

/* Turns an error reply into docker's message. */
static int daemon_error(struct cli_client *c, const char *url, long status,
                        const struct buf *body, struct err *err)
{
    const char *text = body->data ? body->data : "";
    json_error_t je;
    _cleanup_json_ json_t *j = json_loadb(text, body->len, 0, &je);
    const char *msg = j ? jx_str(j, "message") : NULL;
    if (msg)
        return err_set(err, (int)status, "Error response from daemon: %s", msg);
    size_t n = body->len;
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    if (n) {
        return err_set(err, (int)status, "Error response from daemon: %.*s",
                       (int)n, text);
    }
    (void)c;
    return err_set(err, (int)status,
                   "request returned %s for API route and version %s, check "
                   "if the server supports the requested API version",
                   status == 404   ? "Not Found"
                   : status == 400 ? "Bad Request"
                   : status == 405 ? "Method Not Allowed"
                   : status == 409 ? "Conflict"
                   : status == 500 ? "Internal Server Error"
                   : status == 501 ? "Not Implemented"
                   : status == 503 ? "Service Unavailable"
                                   : "an error",
                   url);
}

/* One HTTP exchange on the client's handle; path is used as given. */
static int perform(struct cli_client *c, const struct cli_request *req,
                   const char *path, struct cli_response *resp,
                   char api_version[16], struct err *err)
{
    if (!c->curl) {
        c->curl = curl_easy_init();
        if (!c->curl)
            return err_set(err, ERR_INTERNAL, "cannot initialise libcurl");
    } else {
        curl_easy_reset(c->curl);
    }
    CURL *h = c->curl;
    _cleanup_free_ char *url = xasprintf("%s%s", c->base_url, path);
    struct buf body;
    buf_init(&body);
    struct xfer x = {.c = c, .req = req, .body = &body};
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Expect:");
    hdrs = curl_slist_append(hdrs, "Accept:");
    char ctype[128];
    if (req->content_type) {
        snprintf(ctype, sizeof(ctype), "Content-Type: %s", req->content_type);
        hdrs = curl_slist_append(hdrs, ctype);
    } else {
        hdrs = curl_slist_append(hdrs, "Content-Type:");
    }
    for (const char *const *hp = req->headers; hp && *hp; hp++)
        hdrs = curl_slist_append(hdrs, *hp);

    curl_easy_setopt(h, CURLOPT_URL, url);
    if (c->sock_path)
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->sock_path);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Shoal-Client/0.1 (linux)");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (req->upload) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, req->upload);
        if (req->upload_len >= 0) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)req->upload_len);
        } else {
            hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        }
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    } else if (req->body || strcmp(req->method, "POST") == 0 ||
               strcmp(req->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body ? req->body_len : 0));
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }

    if (c->debug)
        fprintf(stderr, "DEBU %s %s\n", req->method, url);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (c->debug)
        fprintf(stderr, "DEBU -> %ld (%s)\n", status, curl_easy_strerror(rc));
    if (api_version)
        memcpy(api_version, x.api_version, 16);
    int ret = 0;
    if (x.cb_failed) {
        /* The consumer keeps its own error in req->ud. */
        ret = err_set(err, ERR_INTERNAL, "stream aborted");
    } else if (rc != CURLE_OK) {
        if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
            rc == CURLE_GOT_NOTHING || status == 0) {
            ret = connect_error(c, err);
        } else {
            ret = err_set(err, ERR_INTERNAL, "error during connect: %s %s: %s",
                          req->method, url, curl_easy_strerror(rc));
        }
    } else if (status >= 400 ||
               (status < 200 && strcmp(req->method, "HEAD") != 0)) {
        ret = daemon_error(c, url, status, &body, err);
    }
    if (resp) {
        resp->status = status;
        resp->body = body;
    } else {
        buf_fini(&body);
    }
    return ret;
}

int cli_client_negotiate(struct cli_client *c, struct err *err)
{
    if (c->negotiated)
        return 0;
    struct cli_request req = {.method = "HEAD", .path = "/_ping"};
    struct cli_response resp;
    char apiv[16] = "";
    struct err e2 = {0};
    int rc = perform(c, &req, "/_ping", &resp, apiv, &e2);
    long status = resp.status;
    buf_fini(&resp.body);
    if (rc < 0 && e2.code == CLI_ERR_CONNECT) {
        *err = e2;
        return -1;
    }
    if (status != 200 && status != 500) {
        req.method = "GET";
        apiv[0] = '\0';
        rc = perform(c, &req, "/_ping", &resp, apiv, &e2);
        buf_fini(&resp.body);
        if (rc < 0 && e2.code == CLI_ERR_CONNECT) {
            *err = e2;
            return -1;
        }
    }
    snprintf(c->server_version, sizeof(c->server_version), "%s", apiv);
    const char *pinned = getenv("SHOAL_API_VERSION");
    if (!pinned || !*pinned)
        pinned = getenv("DOCKER_API_VERSION");
    if (pinned && *pinned) {
        snprintf(c->version, sizeof(c->version), "%s", pinned);
    } else if (!apiv[0]) {
        snprintf(c->version, sizeof(c->version), "%s",
                 CLI_API_VERSION_FALLBACK);
    } else if (version_cmp(apiv, CLI_API_VERSION_MAX) < 0) {
        snprintf(c->version, sizeof(c->version), "%s", apiv);
    } else {
        snprintf(c->version, sizeof(c->version), "%s", CLI_API_VERSION_MAX);
    }
    c->negotiated = true;
    return 0;
}

int cli_client_do(struct cli_client *c, const struct cli_request *req,
                  struct cli_response *resp, struct err *err)
{
    if (resp) {
        resp->status = 0;
        buf_init(&resp->body);
    }
    if (cli_client_negotiate(c, err) < 0)
        return -1;
    _cleanup_free_ char *path = xasprintf("/v%s%s", c->version, req->path);
    struct cli_response r;
    int rc = perform(c, req, path, &r, NULL, err);
    if (resp)
        *resp = r;
    else
        buf_fini(&r.body);
    return rc;
}

char *cli_client_get_raw(struct cli_client *c, const char *path, size_t *len,
                         struct err *err)
{
    struct cli_request req = {.method = "GET", .path = path};
    struct cli_response resp;
    if (cli_client_do(c, &req, &resp, err) < 0) {
        buf_fini(&resp.body);
        return NULL;
    }
    if (len)
        *len = resp.body.len;
    if (!resp.body.data)
        return xstrdup("");
    return buf_steal(&resp.body);
}

static json_t *parse_reply(const struct buf *b, struct err *err)
{
    if (b->len == 0)
        return json_null();
    json_error_t je;
    json_t *j = json_loadb(b->data, b->len, JSON_DECODE_ANY, &je);
    if (!j) {
        err_set(err, ERR_INTERNAL, "invalid JSON from daemon: %s", je.text);
        return NULL;
    }
    return j;
}

json_t *cli_client_get_json(struct cli_client *c, const char *path,
                            struct err *err)
{
    struct cli_request req = {.method = "GET", .path = path};
    struct cli_response resp;
    if (cli_client_do(c, &req, &resp, err) < 0) {
        buf_fini(&resp.body);
        return NULL;
    }
    json_t *j = parse_reply(&resp.body, err);
    buf_fini(&resp.body);
    return j;
}

json_t *cli_client_get_object(struct cli_client *c, const char *path,
                              struct err *err)
{
    json_t *j = cli_client_get_json(c, path, err);
    if (j && !json_is_object(j)) {
        json_decref(j);
        err_set(err, ERR_INTERNAL, "unexpected reply from the daemon to GET %s",
                path);
        return NULL;
    }
    return j;
}

json_t *cli_client_send_json(struct cli_client *c, const char *method,
                             const char *path, const json_t *body,
                             struct err *err)
{
    _cleanup_free_ char *text = body ? jx_dumps(body) : NULL;
    struct cli_request req = {
        .method = method,
        .path = path,
        .content_type = text ? "application/json" : NULL,
        .body = text,
        .body_len = text ? strlen(text) : 0,
    };
    struct cli_response resp;
    if (cli_client_do(c, &req, &resp, err) < 0) {
        buf_fini(&resp.body);
        return NULL;
    }
    json_t *j = parse_reply(&resp.body, err);
    buf_fini(&resp.body);
    return j;
}

static bool unreserved(unsigned char ch)
{
    return isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

char *cli_query_escape(const char *s)
{
    struct buf b;
    buf_init(&b);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p))
            buf_putc(&b, (char)*p);
        else if (*p == ' ')
            buf_putc(&b, '+');
        else
            buf_printf(&b, "%%%02X", *p);
    }
    if (!b.data)
        return xstrdup("");
    return buf_steal(&b);
}

char *cli_path_escape(const char *s)
{
    struct buf b;
    buf_init(&b);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p) || strchr("$&+,/:;=@", *p))
            buf_putc(&b, (char)*p);
        else
            buf_printf(&b, "%%%02X", *p);
    }
    if (!b.data)
        return xstrdup("");
    return buf_steal(&b);
}

void cli_query_init(struct cli_query *q)
{
    buf_init(&q->b);
    q->keys = NULL;
    q->n = 0;
}

void cli_query_fini(struct cli_query *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->keys[i]);
    free(q->keys);
    buf_fini(&q->b);
}

void cli_query_add(struct cli_query *q, const char *key, const char *value)
{
    _cleanup_free_ char *k = cli_query_escape(key);
    _cleanup_free_ char *v = cli_query_escape(value);
    q->keys = xrealloc(q->keys, (q->n + 1) * sizeof(char *));
    q->keys[q->n++] = xasprintf("%s=%s", k, v);
}

static int cmp_key(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strcspn(x, "="), ly = strcspn(y, "=");
    int c = strncmp(x, y, lx < ly ? lx : ly);
    if (c)
        return c;
    return lx < ly ? -1 : lx > ly ? 1 : 0;
}

const char *cli_query_str(struct cli_query *q)
{
    buf_reset(&q->b);
    /* Stable insertion sort keeps repeated keys in order, as Go does. */
    for (size_t i = 1; i < q->n; i++) {
        char *k = q->keys[i];
        size_t j = i;
        while (j > 0 && cmp_key(&q->keys[j - 1], &k) > 0) {
            q->keys[j] = q->keys[j - 1];
            j--;
        }
        q->keys[j] = k;
    }
    for (size_t i = 0; i < q->n; i++) {
        buf_putc(&q->b, i ? '&' : '?');
        buf_puts(&q->b, q->keys[i]);
    }
    return q->b.data ? q->b.data : "";
}

json_t *cli_filters_new(void)
{
    return json_object();
}

void cli_filters_add(json_t *filters, const char *key, const char *value)
{
    json_t *o = json_object_get(filters, key);
    if (!o) {
        o = json_object();
        json_object_set_new(filters, key, o);
    }
    json_object_set_new(o, value, json_true());
}

char *cli_filters_encode(const json_t *filters)
{
    if (!filters || json_object_size(filters) == 0)
        return NULL;
    char *s = json_dumps(filters, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s)
        abort();
    return s;
}
