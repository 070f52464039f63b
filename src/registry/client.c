// SPDX-License-Identifier: Apache-2.0
// Registry sessions: authentication and error messages (see client.h).
#include <ctype.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "registry/client.h"

void reg_client_init(struct reg_client *c, const struct reg_ref *ref,
                     const struct reg_creds *creds, const char *actions,
                     const char *mount_from, const atomic_bool *stop)
{
    memset(c, 0, sizeof(*c));
    c->base = reg_ref_base_url(ref);
    c->path = xstrdup(ref->path);
    c->scopes[0] = xasprintf("repository:%s:%s", ref->path, actions);
    if (mount_from)
        c->scopes[1] = xasprintf("repository:%s:pull", mount_from);
    if (creds)
        reg_creds_copy(&c->creds, creds);
    c->stop = stop;
    pthread_mutex_init(&c->lock, NULL);
}

void reg_client_fini(struct reg_client *c)
{
    free(c->base);
    free(c->path);
    for (size_t i = 0; i < ARRAY_SIZE(c->scopes); i++)
        free(c->scopes[i]);
    reg_creds_fini(&c->creds);
    free(c->authz);
    pthread_mutex_destroy(&c->lock);
    memset(c, 0, sizeof(*c));
}

char *reg_client_url(const struct reg_client *c, const char *suffix)
{
    return xasprintf("%s/v2/%s%s", c->base, c->path, suffix);
}

char *reg_errors_text(const struct reg_fetch_resp *resp)
{
    json_error_t je;
    _cleanup_json_ json_t *doc =
        resp->body.len ? json_loadb(resp->body.data, resp->body.len, 0, &je)
                       : NULL;
    json_t *errs = json_object_get(doc, "errors");
    struct buf b;
    buf_init(&b);
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e)
    {
        if (i >= 4)
            break;
        _cleanup_free_ char *code = xstrdup(jx_str(e, "code"));
        for (char *p = code; p && *p; p++)
            *p = *p == '_' ? ' ' : (char)tolower((unsigned char)*p);
        const char *msg = jx_str(e, "message");
        if (b.len)
            buf_puts(&b, "; ");
        if (code && *code)
            buf_printf(&b, "%.100s", code);
        if (msg && *msg)
            buf_printf(&b, "%s%.300s", code && *code ? ": " : "", msg);
    }
    if (!b.len && doc && jx_str(doc, "details"))
        buf_printf(&b, "%.300s", jx_str(doc, "details"));
    if (!b.len)
        buf_puts(&b, "");
    return buf_steal(&b);
}

static const char *verb_of(const char *method)
{
    return strcmp(method, "GET") == 0    ? "Get"
           : strcmp(method, "HEAD") == 0 ? "Head"
           : strcmp(method, "PUT") == 0  ? "Put"
           : strcmp(method, "POST") == 0 ? "Post"
                                         : method;
}

int reg_client_error(const struct reg_fetch_req *req,
                     const struct reg_fetch_resp *resp, const char *what,
                     struct err *err)
{
    _cleanup_free_ char *text = reg_errors_text(resp);
    if (resp->status == 404 && what)
        return err_set(err, ERR_NOTFOUND, "%s%s%s", what, *text ? ": " : "",
                       text);
    if (!*text) { /* HEAD answers have no body: say what the status does */
        free(text);
        text = resp->status == 401
                   ? xstrdup("unauthorized: authentication required")
               : resp->status == 403
                   ? xstrdup("denied: requested access to the resource is "
                             "denied")
                   : xasprintf("unexpected status %ld", resp->status);
    }
    return err_set(err, resp->status == 404 ? ERR_NOTFOUND : ERR_INTERNAL,
                   "%s \"%s\": %s", verb_of(req->method), req->url, text);
}

/* Answers a 401's challenge: sets c->authz. */
static int authenticate(struct reg_client *c, const struct reg_fetch_req *req,
                        const struct reg_fetch_resp *resp, const char *sent,
                        struct err *err)
{
    struct reg_challenge ch;
    if (reg_challenge_parse(resp->www_authenticate, &ch) < 0)
        return reg_client_error(req, resp, NULL, err);
    int rc = 0;
    _cleanup_free_ char *line = NULL;
    bool have_creds = !reg_creds_empty(&c->creds);
    if (ch.scheme == REG_AUTH_BASIC) {
        if (!c->creds.username) {
            rc = err_set(err, ERR_INTERNAL,
                         "%s \"%s\": no basic auth "
                         "credentials",
                         verb_of(req->method), req->url);
            goto out;
        }
        _cleanup_free_ char *b =
            reg_basic_header(c->creds.username, c->creds.password);
        line = xasprintf("Authorization: %s", b);
        if (sent && strcmp(sent, line) == 0) {
            /* These very credentials were refused. */
            rc = reg_client_error(req, resp, NULL, err);
            goto out;
        }
    } else if (c->creds.registry_token && *c->creds.registry_token) {
        line = xasprintf("Authorization: Bearer %s", c->creds.registry_token);
        if (sent && strcmp(sent, line) == 0) {
            rc = reg_client_error(req, resp, NULL, err);
            goto out;
        }
    } else {
        /* A Bearer token that was refused may have expired: fetch a new
         * one (reg_client_do bounds the retries). */
        const char *scopes[4] = {c->scopes[0], c->scopes[1], NULL, NULL};
        _cleanup_free_ char *url = reg_token_url(&ch, scopes);
        if (!url) {
            rc = err_set(err, ERR_INTERNAL,
                         "%s \"%s\": the registry's token service is not an "
                         "http(s) URL",
                         verb_of(req->method), req->url);
            goto out;
        }
        _cleanup_free_ char *basic = NULL;
        const char *hdrs[2] = {NULL, NULL};
        if (have_creds && c->creds.username) {
            _cleanup_free_ char *b =
                reg_basic_header(c->creds.username, c->creds.password);
            basic = xasprintf("Authorization: %s", b);
            hdrs[0] = basic;
        }
        struct reg_fetch_req treq = {.method = "GET",
                                     .url = url,
                                     .headers = hdrs,
                                     .follow = true,
                                     .max_body = 1 << 20,
                                     .stop = c->stop};
        struct reg_fetch_resp tresp;
        rc = reg_fetch(&treq, &tresp, err);
        if (rc == 0 && tresp.status == 401)
            rc = err_set(err, ERR_INTERNAL,
                         "Get \"%s\": unauthorized: incorrect username or "
                         "password",
                         url);
        else if (rc == 0 && tresp.status / 100 != 2)
            rc = reg_client_error(&treq, &tresp, NULL, err);
        char *token = NULL;
        if (rc == 0 &&
            !(token = reg_token_parse(tresp.body.data, tresp.body.len, err)))
            rc = -1;
        reg_fetch_resp_fini(&tresp);
        if (rc < 0)
            goto out;
        line = xasprintf("Authorization: Bearer %s", token);
        free(token);
    }
    pthread_mutex_lock(&c->lock);
    free(c->authz);
    c->authz = steal_ptr(line);
    pthread_mutex_unlock(&c->lock);
out:
    reg_challenge_fini(&ch);
    return rc;
}

int reg_client_do(struct reg_client *c, const struct reg_fetch_req *req,
                  struct reg_fetch_resp *resp, struct err *err)
{
    size_t n = 0;
    while (req->headers && req->headers[n])
        n++;
    const char **hdrs = xcalloc(n + 2, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        hdrs[i] = req->headers[i];
    int rc = -1;
    for (int attempt = 0;; attempt++) {
        pthread_mutex_lock(&c->lock);
        _cleanup_free_ char *authz = xstrdup(c->authz);
        pthread_mutex_unlock(&c->lock);
        hdrs[n] = authz;
        struct reg_fetch_req r = *req;
        r.headers = hdrs;
        if (!r.stop)
            r.stop = c->stop;
        rc = reg_fetch(&r, resp, err);
        if (rc < 0 || resp->status != 401)
            break;
        if (attempt == 2) {
            /* Credentials and fresh tokens were refused: the registry's
             * own words. */
            rc = reg_client_error(&r, resp, NULL, err);
            break;
        }
        rc = authenticate(c, &r, resp, authz, err);
        if (rc < 0)
            break;
        reg_fetch_resp_fini(resp);
    }
    free(hdrs);
    return rc;
}

int reg_client_ping(struct reg_client *c, struct err *err)
{
    _cleanup_free_ char *url = xasprintf("%s/v2/", c->base);
    struct reg_fetch_req req = {.method = "GET", .url = url, .max_body = 65536};
    struct reg_fetch_resp resp;
    int rc = reg_client_do(c, &req, &resp, err);
    if (rc == 0 && resp.status / 100 != 2)
        rc = reg_client_error(&req, &resp, NULL, err);
    reg_fetch_resp_fini(&resp);
    return rc;
}
