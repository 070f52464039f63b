// SPDX-License-Identifier: Apache-2.0
// /images: load (docker-save and OCI archives), create (rootfs import;
// pulls are in images_registry.c), list, inspect, delete.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"

struct upload {
    struct api_pending *p;
    char *tmp_path; /* our own copy of a small in-memory body, if any */
};

/* The archive's path: the spooled body, or a temp file for a small body. */
static const char *body_file(struct http_request *req, struct api_host *h,
                             struct upload *u, struct err *err)
{
    if (req->body_path)
        return req->body_path;
    u->tmp_path = xasprintf("%s/tmp/upload-XXXXXX", h->data_root);
    int fd = mkstemp(u->tmp_path);
    if (fd < 0) {
        err_sys(err, errno, "create '%s'", u->tmp_path);
        free(u->tmp_path);
        u->tmp_path = NULL;
        return NULL;
    }
    size_t off = 0;
    while (off < req->body_len) {
        ssize_t w = write(fd, req->body + off, req->body_len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            err_sys(err, errno, "write '%s'", u->tmp_path);
            close(fd);
            return NULL;
        }
        off += (size_t)w;
    }
    close(fd);
    return u->tmp_path;
}

static void upload_free(struct upload *u)
{
    if (u->tmp_path) {
        unlink(u->tmp_path);
        free(u->tmp_path);
    }
    free(u);
}

/* Docker answers load and import with a stream of JSON messages. */
static void reply_messages(struct http_request *req, json_t *messages)
{
    http_stream_begin(req, 200, "application/json", NULL, NULL);
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        char *line = jx_dumps(m);
        size_t len = strlen(line);
        line = xrealloc(line, len + 2);
        line[len] = '\n';
        line[len + 1] = '\0';
        http_stream_write(req, line, len + 1);
        free(line);
    }
    http_stream_end(req);
}

static void loaded(void *data, json_t *result, const struct err *err)
{
    struct upload *u = data;
    struct http_request *req = api_pending_finish(u->p);
    upload_free(u);
    if (!req)
        return;
    if (err) {
        http_reply_err(req, err);
        return;
    }
    json_t *msgs = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(result, "Loaded"), i, v)
    {
        char *s = xasprintf("Loaded image: %s\n", json_string_value(v));
        json_array_append_new(msgs, json_pack("{s:s}", "stream", s));
        free(s);
    }
    json_array_foreach(json_object_get(result, "LoadedIDs"), i, v)
    {
        char *s = xasprintf("Loaded image ID: %s\n", json_string_value(v));
        json_array_append_new(msgs, json_pack("{s:s}", "stream", s));
        free(s);
    }
    /* ?quiet only silences progress output (dockerd shows none for a
     * load either): the "Loaded image" lines are the result. */
    reply_messages(req, msgs);
    json_decref(msgs);
}

static void load_images(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    struct upload *u = xcalloc(1, sizeof(*u));
    const char *path = body_file(req, h, u, &err);
    if (!path) {
        upload_free(u);
        http_reply_err(req, &err);
        return;
    }
    u->p = api_pending_new(req, h);
    if (image_load_async(h->images, h->loop, path, loaded, u, &err) < 0) {
        api_pending_finish(u->p);
        upload_free(u);
        http_reply_err(req, &err);
    }
}

static void imported(void *data, json_t *result, const struct err *err)
{
    struct upload *u = data;
    struct http_request *req = api_pending_finish(u->p);
    upload_free(u);
    if (!req)
        return;
    if (err) {
        http_reply_err(req, err);
        return;
    }
    json_t *msgs = json_pack("[{s:s}]", "status", jx_str0(result, "ID"));
    reply_messages(req, msgs);
    json_decref(msgs);
}

static void create_image(struct http_request *req, void *data)
{
    struct api_host *h = data;
    const char *src = http_query(req, "fromSrc");
    const char *from_image = http_query(req, "fromImage");
    if (!src && from_image && *from_image) {
        api_image_pull(req, h);
        return;
    }
    if (!src) {
        http_reply_error(req, 400,
                         "fromImage or fromSrc is required to create an "
                         "image");
        return;
    }
    if (strcmp(src, "-") != 0) {
        http_reply_error(req, 400,
                         "importing from a URL is not supported; send the "
                         "archive in the request body (fromSrc=-)");
        return;
    }
    struct err err = {0};
    json_t *changes = json_array();
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].key, "changes") == 0 && *req->query[i].value)
            json_array_append_new(changes, json_string(req->query[i].value));
    struct upload *u = xcalloc(1, sizeof(*u));
    const char *path = body_file(req, h, u, &err);
    if (!path) {
        json_decref(changes);
        upload_free(u);
        http_reply_err(req, &err);
        return;
    }
    u->p = api_pending_new(req, h);
    const char *tag = http_query(req, "tag");
    if (image_import_async(h->images, h->loop, path, http_query(req, "repo"),
                           tag ? tag : "", changes, imported, u, &err) < 0) {
        api_pending_finish(u->p);
        upload_free(u);
        http_reply_err(req, &err);
    }
    json_decref(changes);
}

static void list_images(struct http_request *req, void *data)
{
    struct api_host *h = data;
    static const char *const allowed[] = {"reference", "dangling", "label",
                                          "before",    "since",    NULL};
    json_t *f = api_filters(req, allowed);
    if (!f)
        return;
    json_t *out = image_list(h->images, f);
    json_decref(f);
    api_reply(req, 200, out);
}

static void inspect_image(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    json_t *j = image_inspect(h->images, req->params[0], &err);
    if (!j) {
        http_reply_err(req, &err);
        return;
    }
    api_reply(req, 200, j);
}

static void delete_image(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    json_t *out = NULL;
    if (image_remove(h->images, req->params[0], http_query_bool(req, "force"),
                     h->ops->image_in_use, h->self, &out, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    api_reply(req, 200, out);
}

static const struct http_route routes[] = {
    {"POST", "/images/load", load_images},
    {"POST", "/images/create", create_image},
    {"GET", "/images/json", list_images},
    {"GET", "/images/{name*}/json", inspect_image},
    {"DELETE", "/images/{name*}", delete_image},
};

void api_images_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
