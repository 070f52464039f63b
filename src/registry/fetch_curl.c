// SPDX-License-Identifier: Apache-2.0
// The libcurl adapter of the registry client (see fetch.h): one easy
// handle per exchange, headers captured, bodies streamed or kept, abort on
// request. Only this file includes <curl/curl.h>.
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/version.h"
#include "registry/fetch.h"

/* Connection and stall limits: a registry that stops answering fails the
 * operation instead of hanging it. */
#define CONNECT_TIMEOUT_S 15
#define LOW_SPEED_BYTES   1
#define LOW_SPEED_TIME_S  60

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        abort();
}

struct xfer {
    const struct reg_fetch_req *req;
    struct reg_fetch_resp *resp;
    bool limit_hit;
    bool sink_failed;
    FILE *upload;
};

void reg_fetch_resp_fini(struct reg_fetch_resp *r)
{
    buf_fini(&r->body);
    free(r->content_type);
    free(r->location);
    free(r->www_authenticate);
    free(r->content_digest);
    free(r->effective_url);
    memset(r, 0, sizeof(*r));
}

static void take_header(char **slot, const char *v, size_t n)
{
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    while (n && *v == ' ') {
        v++;
        n--;
    }
    free(*slot);
    *slot = xstrndup(v, n);
}

static size_t on_header(char *data, size_t size, size_t nitems, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nitems;
    /* A new status line (redirects, 100-continue) starts a new answer. */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        struct reg_fetch_resp *r = x->resp;
        r->status = 0;
        free(r->content_type);
        free(r->location);
        free(r->www_authenticate);
        free(r->content_digest);
        r->content_type = r->location = r->www_authenticate =
            r->content_digest = NULL;
        return n;
    }
    static const struct {
        const char *name;
        size_t off;
    } wanted[] = {
        {"content-type", offsetof(struct reg_fetch_resp, content_type)},
        {"location", offsetof(struct reg_fetch_resp, location)},
        {"www-authenticate", offsetof(struct reg_fetch_resp, www_authenticate)},
        {"docker-content-digest",
         offsetof(struct reg_fetch_resp, content_digest)},
    };
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t klen = (size_t)(colon - data);
    for (size_t i = 0; i < ARRAY_SIZE(wanted); i++)
        if (strlen(wanted[i].name) == klen &&
            strncasecmp(data, wanted[i].name, klen) == 0)
            take_header((char **)((char *)x->resp + wanted[i].off), colon + 1,
                        n - klen - 1);
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (x->req->on_data && x->resp->status / 100 == 2) {
        if (x->req->on_data(x->req->ud, data, n) < 0) {
            x->sink_failed = true;
            return 0;
        }
        return n;
    }
    size_t max = x->req->max_body ? x->req->max_body : 1 << 20;
    if (x->resp->body.len + n > max) {
        x->limit_hit = true;
        return 0;
    }
    buf_append(&x->resp->body, data, n);
    return n;
}

static int on_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                   curl_off_t ultotal, curl_off_t ulnow)
{
    struct xfer *x = ud;
    if (x->req->stop && atomic_load(x->req->stop))
        return 1;
    if (x->req->on_progress) {
        if (x->req->body_path || x->req->body)
            x->req->on_progress(x->req->ud, ulnow, ultotal);
        else if (x->resp->status / 100 == 2)
            x->req->on_progress(x->req->ud, dlnow, dltotal);
    }
    return 0;
}

static const char *verb(const char *method)
{
    if (strcmp(method, "GET") == 0)
        return "Get";
    if (strcmp(method, "HEAD") == 0)
        return "Head";
    if (strcmp(method, "PUT") == 0)
        return "Put";
    if (strcmp(method, "POST") == 0)
        return "Post";
    if (strcmp(method, "PATCH") == 0)
        return "Patch";
    return method;
}

/* The status of the answer whose body arrives, read from the handle at its
 * first bytes (each status line resets it: redirects, 100-continue). */
struct xfer_handle {
    struct xfer x;
    CURL *h;
};

static size_t on_body_status(char *data, size_t size, size_t nmemb, void *ud)
{
    struct xfer_handle *xh = ud;
    if (xh->x.resp->status == 0)
        curl_easy_getinfo(xh->h, CURLINFO_RESPONSE_CODE, &xh->x.resp->status);
    return on_body(data, size, nmemb, &xh->x);
}

int reg_fetch(const struct reg_fetch_req *req, struct reg_fetch_resp *resp,
              struct err *err)
{
    pthread_once(&init_once, global_init);
    memset(resp, 0, sizeof(*resp));
    buf_init(&resp->body);
    resp->content_length = -1;
    struct xfer_handle xh = {.x = {.req = req, .resp = resp}};
    CURL *h = curl_easy_init();
    if (!h)
        abort();
    xh.h = h;
    struct curl_slist *hdrs = NULL;
    for (size_t i = 0; req->headers && req->headers[i]; i++)
        hdrs = curl_slist_append(hdrs, req->headers[i]);
    /* No "Expect: 100-continue" round trip on uploads. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "shoal/" SHOAL_VERSION);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_TIME_S);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &xh.x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body_status);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &xh);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_xfer);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &xh.x);
    if (req->follow) {
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    }
    int rc = 0;
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (req->body_path) {
        xh.x.upload = fopen(req->body_path, "rb");
        struct stat st;
        if (!xh.x.upload || fstat(fileno(xh.x.upload), &st) < 0) {
            rc = err_sys(err, errno, "open '%s'", req->body_path);
            err->code = ERR_INTERNAL;
            goto out;
        }
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READDATA, xh.x.upload);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    } else if (req->body || strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)req->body_len);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_off_t cl = -1;
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) ==
        CURLE_OK)
        resp->content_length = cl;
    char *eff = NULL;
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
    resp->effective_url = xstrdup(eff ? eff : req->url);
    if (cc != CURLE_OK) {
        const char *why = curl_easy_strerror(cc);
        if (xh.x.limit_hit)
            why = "answer too large";
        else if (cc == CURLE_ABORTED_BY_CALLBACK)
            why = "cancelled";
        else if (xh.x.sink_failed)
            why = "could not store the data";
        rc = err_set(err, ERR_INTERNAL, "%s \"%s\": %s", verb(req->method),
                     req->url, why);
    }
out:
    if (xh.x.upload)
        fclose(xh.x.upload);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}

char *reg_fetch_resolve(const char *base, const char *location)
{
    pthread_once(&init_once, global_init);
    CURLU *u = curl_url();
    if (!u)
        abort();
    char *out = NULL;
    if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK) {
        char *s = NULL;
        if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
            out = xstrdup(s);
            curl_free(s);
        }
    }
    curl_url_cleanup(u);
    return out;
}
