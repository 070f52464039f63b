// SPDX-License-Identifier: Apache-2.0
// The image routes that reach beyond the node: pull (POST /images/create
// ?fromImage=), push, tag, save (docker save), GET /distribution/{name}/
// json and POST /auth (docker login). Registry operations stream Docker's
// JSON progress lines; a failure before the first line is an HTTP error,
// one after it an {"errorDetail"} line, as dockerd does.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "base/id.h"
#include "base/mem.h"
#include "registry/manifest.h"
#include "registry/registry.h"

/* Credentials of the request: X-Registry-Auth as the docker CLI sends it.
 * 0 (possibly empty), or -1 after answering 400. */
static int request_creds(struct http_request *req, struct reg_creds *c)
{
    struct err err = {0};
    if (reg_creds_decode(http_header(req, "X-Registry-Auth"), c, &err) < 0) {
        http_reply_err(req, &err);
        return -1;
    }
    return 0;
}

/* ---- a streamed registry operation ---- */

struct xfer {
    struct http_request *req;
    struct registry_op *op;
    bool streaming;
    bool json_reply; /* inspect / login: one JSON answer, no stream */
    bool login;
};

static void xfer_abort(struct http_request *req, void *data)
{
    (void)req;
    struct xfer *x = data;
    registry_op_cancel(x->op); /* no callback after this */
    free(x);
}

static void write_line(struct http_request *req, const json_t *msg)
{
    char *line = jx_dumps(msg);
    size_t len = strlen(line);
    line = xrealloc(line, len + 2);
    line[len] = '\n';
    line[len + 1] = '\0';
    http_stream_write(req, line, len + 1);
    free(line);
}

static void xfer_msg(void *data, const json_t *msg)
{
    struct xfer *x = data;
    if (!x->streaming) {
        http_stream_begin(x->req, 200, "application/json", xfer_abort, x);
        x->streaming = true;
    }
    write_line(x->req, msg);
}

static void xfer_done(void *data, const json_t *result, const struct err *err)
{
    struct xfer *x = data;
    struct http_request *req = x->req;
    if (x->streaming) {
        if (err) {
            json_t *m = json_pack("{s:{s:s}, s:s}", "errorDetail", "message",
                                  err->msg, "error", err->msg);
            write_line(req, m);
            json_decref(m);
        }
        http_stream_end(req);
    } else if (err) {
        struct err e = *err;
        if (x->login && e.code == ERR_INTERNAL && strstr(e.msg, "unauthorized"))
            e.code = 401;
        http_reply_err(req, &e);
    } else if (x->login) {
        api_reply(req, 200,
                  json_pack("{s:s, s:s}", "Status", "Login Succeeded",
                            "IdentityToken", ""));
    } else if (x->json_reply) {
        http_reply_json(req, 200, (json_t *)result);
    } else {
        http_stream_begin(req, 200, "application/json", NULL, NULL);
        http_stream_end(req);
    }
    free(x);
}

static void start_op(struct http_request *req, struct api_host *h,
                     enum registry_kind kind, const char *name, const char *tag,
                     const struct reg_creds *creds)
{
    struct xfer *x = xcalloc(1, sizeof(*x));
    x->req = req;
    x->json_reply = kind == REGISTRY_INSPECT;
    x->login = kind == REGISTRY_LOGIN;
    struct err err = {0};
    if (!h->registry) {
        free(x);
        http_reply_error(req, 500, "this node has no registry client");
        return;
    }
    x->op = registry_start(h->registry, kind, name, tag, creds, xfer_msg,
                           xfer_done, x, &err);
    if (!x->op) {
        free(x);
        http_reply_err(req, &err);
        return;
    }
    http_request_on_abort(req, xfer_abort, x);
}

/* POST /images/create?fromImage=NAME&tag=TAG (images.c hands it over). */
void api_image_pull(struct http_request *req, struct api_host *h)
{
    const char *from = http_query(req, "fromImage");
    const char *tag = http_query(req, "tag");
    const char *platform = http_query(req, "platform");
    if (platform && *platform) {
        const char *os, *arch, *variant;
        reg_host_platform(&os, &arch, &variant);
        char mine[64];
        snprintf(mine, sizeof(mine), "%s/%s", os, arch);
        if (strncmp(platform, mine, strlen(mine)) != 0) {
            char msg[200];
            snprintf(msg, sizeof(msg),
                     "image platform \"%s\" is not supported on this node "
                     "(%s)",
                     platform, mine);
            http_reply_error(req, 400, msg);
            return;
        }
    }
    struct reg_creds c;
    if (request_creds(req, &c) < 0)
        return;
    start_op(req, h, REGISTRY_PULL, from, tag, &c);
    reg_creds_fini(&c);
}

static void push_image(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct reg_creds c;
    if (request_creds(req, &c) < 0)
        return;
    start_op(req, h, REGISTRY_PUSH, req->params[0], http_query(req, "tag"), &c);
    reg_creds_fini(&c);
}

static void distribution_inspect(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct reg_creds c;
    if (request_creds(req, &c) < 0)
        return;
    start_op(req, h, REGISTRY_INSPECT, req->params[0], NULL, &c);
    reg_creds_fini(&c);
}

static void auth(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    json_t *body = NULL;
    if (http_body_json(req, &body, &err) < 0 || !json_is_object(body)) {
        json_decref(body);
        if (!err_is_set(&err))
            err_set(&err, ERR_INVALID, "the body must be a JSON object");
        http_reply_err(req, &err);
        return;
    }
    struct reg_creds c = {
        .username = xstrdup(jx_str(body, "username")),
        .password = xstrdup(jx_str(body, "password")),
        .identity_token = xstrdup(jx_str(body, "identitytoken")),
        .registry_token = xstrdup(jx_str(body, "registrytoken")),
    };
    const char *server = jx_str(body, "serveraddress");
    if (!c.username || !*c.username) {
        reg_creds_fini(&c);
        json_decref(body);
        http_reply_error(req, 400, "a username is required to log in");
        return;
    }
    start_op(req, h, REGISTRY_LOGIN, server ? server : "", NULL, &c);
    reg_creds_fini(&c);
    json_decref(body);
}

/* ---- tag ---- */

static void tag_image(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    const char *repo = http_query(req, "repo");
    if (image_tag(h->images, req->params[0], repo, http_query(req, "tag"),
                  &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    http_reply_empty(req, 201);
}

/* ---- save ---- */

#define SAVE_CHUNK       (512 * 1024)
#define SAVE_MAX_PENDING (8 * 1024 * 1024)

struct save {
    struct http_request *req; /* NULL once the client left */
    char *path;
    int fd;
    uv_timer_t timer;
    bool timer_on;
};

static void save_closed(uv_handle_t *t)
{
    struct save *sv = t->data;
    if (sv->fd >= 0)
        close(sv->fd);
    if (sv->path) {
        unlink(sv->path);
        free(sv->path);
    }
    free(sv);
}

static void save_finish(struct save *sv)
{
    if (sv->timer_on)
        uv_close((uv_handle_t *)&sv->timer, save_closed);
    else
        save_closed((uv_handle_t *)&sv->timer);
}

static void save_abort(struct http_request *req, void *data)
{
    (void)req;
    struct save *sv = data;
    sv->req = NULL;
    save_finish(sv);
}

/* Feeds the archive to the client, a chunk at a time while its queue is
 * short (a slow reader never makes the daemon buffer the whole file). */
static void save_pump(uv_timer_t *t)
{
    struct save *sv = t->data;
    char *buf = xmalloc(SAVE_CHUNK);
    while (sv->req && http_stream_pending(sv->req) < SAVE_MAX_PENDING) {
        ssize_t n = read(sv->fd, buf, SAVE_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* EOF (or a read error: the client sees a short archive). */
            struct http_request *req = sv->req;
            sv->req = NULL;
            http_stream_end(req);
            free(buf);
            save_finish(sv);
            return;
        }
        if (http_stream_write(sv->req, buf, (size_t)n) < 0)
            break;
    }
    free(buf);
}

static void saved(void *data, json_t *result, const struct err *err)
{
    (void)result;
    struct save *sv = data;
    if (!sv->req) { /* left while the archive was written */
        save_finish(sv);
        return;
    }
    struct http_request *req = sv->req;
    if (err) {
        sv->req = NULL;
        http_request_on_abort(req, NULL, NULL);
        http_reply_err(req, err);
        save_finish(sv);
        return;
    }
    sv->fd = open(sv->path, O_RDONLY | O_CLOEXEC);
    if (sv->fd < 0) {
        sv->req = NULL;
        http_request_on_abort(req, NULL, NULL);
        http_reply_error(req, 500, "cannot read the saved archive");
        save_finish(sv);
        return;
    }
    http_stream_begin(req, 200, "application/x-tar", save_abort, sv);
    uv_timer_start(&sv->timer, save_pump, 0, 1);
}

static void save_abort_early(struct http_request *req, void *data)
{
    (void)req;
    struct save *sv = data;
    sv->req = NULL; /* saved() cleans up when the work is done */
}

static void save_names(struct http_request *req, struct api_host *h,
                       const char *const *names, size_t n)
{
    struct save *sv = xcalloc(1, sizeof(*sv));
    sv->fd = -1;
    sv->req = req;
    char hex[ID_HEX_LEN + 1];
    id_new_hex(hex);
    sv->path = xasprintf("%s/tmp/save-%.16s.tar", h->data_root, hex);
    uv_timer_init(h->loop, &sv->timer);
    sv->timer.data = sv;
    sv->timer_on = true;
    struct err err = {0};
    /* Unknown names fail now, before any work. */
    for (size_t i = 0; i < n; i++) {
        json_t *j = image_inspect(h->images, names[i], &err);
        if (!j) {
            http_reply_err(req, &err);
            sv->req = NULL;
            save_finish(sv);
            return;
        }
        json_decref(j);
    }
    if (image_save_async(h->images, h->loop, names, n, sv->path, saved, sv,
                         &err) < 0) {
        http_reply_err(req, &err);
        sv->req = NULL;
        save_finish(sv);
        return;
    }
    http_request_on_abort(req, save_abort_early, sv);
}

static void save_one(struct http_request *req, void *data)
{
    const char *names[] = {req->params[0]};
    save_names(req, data, names, 1);
}

static void save_many(struct http_request *req, void *data)
{
    const char **names = xcalloc(req->n_query + 1, sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].key, "names") == 0 && *req->query[i].value)
            names[n++] = req->query[i].value;
    if (n == 0) {
        free(names);
        http_reply_error(req, 400, "no image names given (?names=)");
        return;
    }
    save_names(req, data, names, n);
    free(names);
}

static const struct http_route routes[] = {
    {"POST", "/images/{name*}/push", push_image},
    {"POST", "/images/{name*}/tag", tag_image},
    {"GET", "/images/get", save_many},
    {"GET", "/images/{name*}/get", save_one},
    {"GET", "/distribution/{name*}/json", distribution_inspect},
    {"POST", "/auth", auth},
};

void api_images_registry_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
