// SPDX-License-Identifier: Apache-2.0
// From a parsed request to a handler: URL and query decoding, the "/vX.Y"
// prefix and Docker's version checks, /_ping, route patterns with "{x}" and
// greedy "{x*}" parameters; plus the request accessors handlers use
// (query values, headers, JSON body, filters).
#include "api/http_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/mem.h"

#define MAX_PATTERN_SEGS 32
#define MAX_PARAMS       4

/* ---- URL decoding ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *http_url_decode(const char *src, size_t len, bool plus_space)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%' && i + 2 < len) {
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (char)(hi * 16 + lo);
                i += 2;
            }
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0') {
            free(out);
            return NULL;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

static int parse_query(struct http_request *req, const char *q)
{
    size_t cap = 0;
    while (*q) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;
        if (len > 0) {
            char *key = http_url_decode(q, klen, true);
            char *value = eq ? http_url_decode(eq + 1, len - klen - 1, true)
                             : xstrdup("");
            if (!key || !value) {
                free(key);
                free(value);
                return -1;
            }
            if (req->n_query == cap) {
                cap = cap ? cap * 2 : 8;
                req->query = xrealloc(req->query, cap * sizeof(*req->query));
            }
            req->query[req->n_query].key = key;
            req->query[req->n_query].value = value;
            req->n_query++;
        }
        q += len;
        if (*q == '&')
            q++;
    }
    return 0;
}

/* ---- Versions ---- */

int http_version_compare(const char *a, const char *b)
{
    /* Like Docker's versions.compare: numeric fields, missing ones are 0,
     * non-numbers count as 0. */
    while (*a || *b) {
        long long x = 0, y = 0;
        while (*a && *a != '.') {
            x = isdigit((unsigned char)*a) && x < 1000000000
                    ? x * 10 + (*a - '0')
                    : x;
            a++;
        }
        while (*b && *b != '.') {
            y = isdigit((unsigned char)*b) && y < 1000000000
                    ? y * 10 + (*b - '0')
                    : y;
            b++;
        }
        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
    }
    return 0;
}

int http_version_cmp(const struct http_request *req, const char *v)
{
    return http_version_compare(req->api_version, v);
}

/* ---- Route patterns ---- */

struct seg {
    const char *p;
    size_t len;
};

/* Splits "/a/b" into "a", "b"; s must start with '/'. */
static size_t split_segs(const char *s, struct seg *segs, size_t max)
{
    size_t n = 0;
    while (*s == '/' && n < max) {
        s++;
        size_t len = strcspn(s, "/");
        segs[n].p = s;
        segs[n].len = len;
        n++;
        s += len;
    }
    return *s ? max + 1 : n; /* max + 1: too many */
}

static bool seg_is_param(const struct seg *s)
{
    return s->len >= 3 && s->p[0] == '{' && s->p[s->len - 1] == '}';
}

static bool seg_is_greedy(const struct seg *s)
{
    return seg_is_param(s) && s->len >= 4 && s->p[s->len - 2] == '*';
}

bool http_route_pattern_valid(const char *pattern)
{
    struct seg segs[MAX_PATTERN_SEGS];
    if (!pattern || pattern[0] != '/')
        return false;
    size_t n = split_segs(pattern, segs, MAX_PATTERN_SEGS);
    if (n > MAX_PATTERN_SEGS)
        return false;
    size_t params = 0, greedy = 0;
    for (size_t i = 0; i < n; i++) {
        if (seg_is_param(&segs[i])) {
            params++;
            greedy += seg_is_greedy(&segs[i]);
        } else if (memchr(segs[i].p, '{', segs[i].len) ||
                   memchr(segs[i].p, '}', segs[i].len)) {
            return false;
        }
    }
    return params <= MAX_PARAMS && greedy <= 1;
}

struct matcher {
    const struct seg *pat;
    size_t np;
    const struct seg *path;
    size_t ns;
    size_t cap_start[MAX_PARAMS], cap_end[MAX_PARAMS];
};

/* Matches pattern segments from pi on against path segments from si on;
 * k is the index of the next capture. With at most one greedy parameter
 * this is linear per try of the greedy's end. */
static bool match_from(struct matcher *m, size_t pi, size_t si, size_t k)
{
    if (pi == m->np)
        return si == m->ns;
    const struct seg *ps = &m->pat[pi];
    if (!seg_is_param(ps)) {
        if (si >= m->ns || m->path[si].len != ps->len ||
            memcmp(m->path[si].p, ps->p, ps->len) != 0)
            return false;
        return match_from(m, pi + 1, si + 1, k);
    }
    if (!seg_is_greedy(ps)) {
        if (si >= m->ns || m->path[si].len == 0)
            return false;
        m->cap_start[k] = si;
        m->cap_end[k] = si + 1;
        return match_from(m, pi + 1, si + 1, k + 1);
    }
    size_t rest = m->np - pi - 1;
    if (m->ns < rest + si + 1)
        return false;
    for (size_t end = m->ns - rest; end > si; end--) {
        if (end == si + 1 && m->path[si].len == 0)
            break; /* a lone empty segment is no value */
        m->cap_start[k] = si;
        m->cap_end[k] = end;
        if (match_from(m, pi + 1, end, k + 1))
            return true;
    }
    return false;
}

static bool match_segs(const char *pattern, const struct seg *path, size_t ns,
                       char *params[4], size_t *n)
{
    struct seg pat[MAX_PATTERN_SEGS];
    size_t np = split_segs(pattern, pat, MAX_PATTERN_SEGS);
    if (np > MAX_PATTERN_SEGS)
        return false;
    struct matcher m = {.pat = pat, .np = np, .path = path, .ns = ns};
    if (!match_from(&m, 0, 0, 0))
        return false;
    size_t k = 0;
    for (size_t i = 0; i < np; i++) {
        if (!seg_is_param(&pat[i]))
            continue;
        /* Segments are slices of one string: a range is a substring. */
        const struct seg *a = &path[m.cap_start[k]];
        const struct seg *b = &path[m.cap_end[k] - 1];
        params[k] = xstrndup(a->p, (size_t)(b->p + b->len - a->p));
        k++;
    }
    *n = k;
    return true;
}

static struct seg *path_segs(const char *path, size_t *ns)
{
    size_t slashes = 0;
    for (const char *p = path; *p; p++)
        slashes += *p == '/';
    struct seg *segs = xcalloc(slashes + 1, sizeof(*segs));
    *ns = split_segs(path, segs, slashes + 1);
    return segs;
}

bool http_route_match(const char *pattern, const char *path, char *params[4],
                      size_t *n)
{
    if (path[0] != '/' || pattern[0] != '/')
        return false;
    size_t ns;
    _cleanup_free_ struct seg *segs = path_segs(path, &ns);
    return match_segs(pattern, segs, ns, params, n);
}

/* ---- Dispatch ---- */

static void reply_version_error(struct http_req *r, const char *v, bool old)
{
    char msg[256];
    if (old)
        snprintf(msg, sizeof(msg),
                 "client version %s is too old. Minimum supported API "
                 "version is %s, please upgrade your client to a newer "
                 "version",
                 v, API_VERSION_MIN);
    else
        snprintf(msg, sizeof(msg),
                 "client version %s is too new. Maximum supported API "
                 "version is %s",
                 v, API_VERSION_MAX);
    http_reply_error(&r->pub, 400, msg);
}

/* Strips "/v1.41" off path into r->api_version, checking it; false if the
 * request was answered (bad version). */
static bool take_version(struct http_req *r)
{
    char *path = r->pub.path;
    if (path[0] != '/' || path[1] != 'v')
        return true;
    size_t n = strspn(path + 2, "0123456789.");
    if (n == 0 || path[2 + n] != '/')
        return true;
    char v[64];
    snprintf(v, sizeof(v), "%.*s", (int)(n < 63 ? n : 63), path + 2);
    if (n >= sizeof(r->pub.api_version)) {
        http_reply_error(&r->pub, 400, "invalid API version");
        return false;
    }
    if (http_version_compare(v, API_VERSION_MIN) < 0) {
        reply_version_error(r, v, true);
        return false;
    }
    if (http_version_compare(v, API_VERSION_MAX) > 0) {
        reply_version_error(r, v, false);
        return false;
    }
    memcpy(r->pub.api_version, v, n + 1);
    memmove(path, path + 2 + n, strlen(path + 2 + n) + 1);
    return true;
}

void http_dispatch(struct http_server *s, struct http_req *r)
{
    struct http_request *req = &r->pub;
    const char *url = req->raw_url;
    /* Absolute form ("http://host/path") is allowed by HTTP/1.1. */
    if (strncasecmp(url, "http://", 7) == 0 ||
        strncasecmp(url, "https://", 8) == 0) {
        url = strchr(strstr(url, "://") + 3, '/');
        if (!url)
            url = "/";
    }
    if (url[0] != '/') {
        http_reply_error(req, 400, "invalid request URI");
        return;
    }
    size_t plen = strcspn(url, "?#");
    req->path = http_url_decode(url, plen, false);
    if (!req->path) {
        http_reply_error(req, 400, "invalid request path");
        return;
    }
    if (url[plen] == '?') {
        size_t qlen = strcspn(url + plen + 1, "#");
        _cleanup_free_ char *q = xstrndup(url + plen + 1, qlen);
        if (parse_query(req, q) < 0) {
            http_reply_error(req, 400, "invalid query string");
            return;
        }
    }
    if (!take_version(r))
        return;

    if (strcmp(req->path, "/_ping") == 0 &&
        (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)) {
        http_reply_ping(r);
        return;
    }

    size_t ns;
    _cleanup_free_ struct seg *segs = path_segs(req->path, &ns);
    for (size_t t = 0; t < s->n_tables; t++) {
        for (size_t i = 0; i < s->tables[t].n; i++) {
            const struct http_route *rt = &s->tables[t].routes[i];
            if (strcmp(rt->method, req->method) != 0)
                continue;
            if (!match_segs(rt->pattern, segs, ns, req->params, &req->n_params))
                continue;
            rt->fn(req, s->data);
            return;
        }
    }
    http_reply_error(req, 404, "page not found");
}

/* ---- Accessors ---- */

const char *http_query(const struct http_request *req, const char *key)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].key, key) == 0)
            return req->query[i].value;
    return NULL;
}

bool http_query_bool(const struct http_request *req, const char *key)
{
    const char *v = http_query(req, key);
    if (!v)
        return false;
    while (isspace((unsigned char)*v))
        v++;
    size_t n = strlen(v);
    while (n > 0 && isspace((unsigned char)v[n - 1]))
        n--;
    static const char *const no[] = {"", "0", "no", "false", "none"};
    for (size_t i = 0; i < ARRAY_SIZE(no); i++)
        if (strlen(no[i]) == n && strncasecmp(v, no[i], n) == 0)
            return false;
    return true;
}

const char *http_header(const struct http_request *req, const char *name)
{
    const struct http_req *r = http_req_of(req);
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static int json_parse_error(const char *text, size_t len,
                            const json_error_t *je, struct err *err)
{
    size_t i = 0;
    while (i < len && text[i] && strchr(" \t\r\n", text[i]))
        i++;
    /* Go's wording for the most common mistake. */
    if (i < len && !strchr("{[\"-0123456789tfn", text[i])) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c < 0x7f && c != '\'')
            return err_set(err, ERR_INVALID,
                           "invalid character '%c' looking for beginning "
                           "of value",
                           c);
        return err_set(err, ERR_INVALID,
                       "invalid character looking for beginning of value");
    }
    return err_set(err, ERR_INVALID, "invalid JSON: %s (line %d, column %d)",
                   je->text, je->line, je->column);
}

int http_body_json(const struct http_request *req, json_t **out,
                   struct err *err)
{
    *out = NULL;
    _cleanup_free_ char *file_data = NULL;
    const char *text = req->body ? req->body : "";
    size_t len = req->body ? req->body_len : 0;
    if (req->body_path) {
        struct stat st;
        if (stat(req->body_path, &st) < 0)
            return err_sys(err, errno, "read request body");
        if (st.st_size > HTTP_MAX_JSON_BODY)
            return err_set(err, ERR_INVALID,
                           "request body too large for JSON (max %d bytes)",
                           HTTP_MAX_JSON_BODY);
        if (fs_read_file(req->body_path, &file_data, &len, err) < 0)
            return err_ctx(err, "read request body");
        text = file_data;
    }
    size_t i = 0;
    while (i < len && text[i] && strchr(" \t\r\n", text[i]))
        i++;
    if (i == len) {
        *out = json_object();
        return 0;
    }
    json_error_t je;
    json_t *j =
        json_loadb(text, len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &je);
    if (!j)
        return json_parse_error(text, len, &je, err);
    *out = j;
    return 0;
}

/* Collects the keys of an object of booleans (the modern form) or the
 * strings of an array (legacy), without duplicates. */
static int filter_values(json_t *v, bool modern, json_t *list)
{
    if (json_is_null(v))
        return 0;
    if (modern) {
        if (!json_is_object(v))
            return -1;
        const char *k;
        json_t *b;
        json_object_foreach(v, k, b)
        {
            if (!json_is_boolean(b) && !json_is_null(b))
                return -1;
            json_array_append_new(list, json_string(k));
        }
        return 0;
    }
    if (!json_is_array(v))
        return -1;
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        if (json_is_null(s))
            continue;
        if (!json_is_string(s))
            return -1;
        bool dup = false;
        size_t j;
        json_t *e;
        json_array_foreach(list, j, e)
        {
            if (json_equal(e, s)) {
                dup = true;
                break;
            }
        }
        if (!dup)
            json_array_append(list, s);
    }
    return 0;
}

int http_query_filters(const struct http_request *req, json_t **out,
                       struct err *err)
{
    *out = NULL;
    const char *f = http_query(req, "filters");
    _cleanup_json_ json_t *res = json_object();
    if (!f || !*f) {
        *out = steal_ptr(res);
        return 0;
    }
    json_error_t je;
    _cleanup_json_ json_t *j = json_loads(f, JSON_DECODE_ANY, &je);
    if (!j)
        return err_set(err, ERR_INVALID, "invalid filter: %s", je.text);
    if (json_is_null(j)) {
        *out = steal_ptr(res);
        return 0;
    }
    if (!json_is_object(j))
        return err_set(err, ERR_INVALID, "invalid filter: want a JSON object");
    /* Docker tries the whole map in the modern form, then in the legacy
     * one; a mix of both is invalid. */
    bool modern = true;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (json_is_array(v)) {
            modern = false;
            break;
        }
    }
    json_object_foreach(j, k, v)
    {
        json_t *list = json_array();
        json_object_set_new(res, k, list);
        if (filter_values(v, modern, list) < 0)
            return err_set(err, ERR_INVALID, "invalid filter '%s'", k);
    }
    *out = steal_ptr(res);
    return 0;
}
