// SPDX-License-Identifier: Apache-2.0
// POST /build: the legacy builder's endpoint. The body is the context
// (tar), the query carries t, dockerfile, buildargs, nocache, target,
// labels and q; the answer is Docker's JSON-lines stream ({"stream": ...}
// per log line, {"aux": {"ID": ...}} for the result, {"errorDetail": ...,
// "error": ...} for a failed step). An error before the first log line is
// an ordinary error reply. /_ping says "Builder-Version: 1", so the docker
// CLI picks this path when it has no buildx.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "base/mem.h"
#include "builder/build.h"

struct build_job {
    struct http_request *req; /* NULL once the client has gone */
    struct build *b;
    bool streaming;
    bool quiet;
    char **tags;
    size_t n_tags;
    char *tmp_path; /* our copy of a small in-memory body */
};

static void job_free(struct build_job *j)
{
    for (size_t i = 0; i < j->n_tags; i++)
        free(j->tags[i]);
    free(j->tags);
    if (j->tmp_path) {
        unlink(j->tmp_path);
        free(j->tmp_path);
    }
    free(j);
}

static void write_msg(struct build_job *j, json_t *msg)
{
    char *line = jx_dumps(msg);
    size_t len = strlen(line);
    line = xrealloc(line, len + 2);
    line[len] = '\n';
    line[len + 1] = 0;
    http_stream_write(j->req, line, len + 1);
    free(line);
    json_decref(msg);
}

static void aborted(struct http_request *req, void *data)
{
    (void)req;
    struct build_job *j = data;
    j->req = NULL;
    if (j->b)
        build_cancel(j->b);
}

static void begin(struct build_job *j)
{
    if (j->streaming)
        return;
    j->streaming = true;
    http_stream_begin(j->req, 200, "application/json", aborted, j);
}

static void on_log(void *data, const char *text)
{
    struct build_job *j = data;
    if (!j->req)
        return;
    begin(j);
    /* One message per line, as dockerd sends them. */
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        char *line = xstrndup(p, n);
        write_msg(j, json_pack("{s:s}", "stream", line));
        free(line);
        p += n;
    }
}

static void on_done(void *data, const char *image_id, const struct err *err)
{
    struct build_job *j = data;
    if (!j->req) {
        job_free(j);
        return;
    }
    struct http_request *req = j->req;
    if (err && !j->streaming) {
        http_reply_err(req, err);
        job_free(j);
        return;
    }
    begin(j);
    if (err) {
        write_msg(j, json_pack("{s:{s:s}, s:s}", "errorDetail", "message",
                               err->msg, "error", err->msg));
    } else {
        write_msg(j, json_pack("{s:{s:s}}", "aux", "ID", image_id));
        if (j->quiet) {
            /* With -q the docker CLI prints the stream: just the id. */
            char *s = xasprintf("%s\n", image_id);
            write_msg(j, json_pack("{s:s}", "stream", s));
            free(s);
        } else {
            const char *hex =
                strncmp(image_id, "sha256:", 7) == 0 ? image_id + 7 : image_id;
            char *s = xasprintf("Successfully built %.12s\n", hex);
            write_msg(j, json_pack("{s:s}", "stream", s));
            free(s);
            for (size_t i = 0; i < j->n_tags; i++) {
                s = xasprintf("Successfully tagged %s\n", j->tags[i]);
                write_msg(j, json_pack("{s:s}", "stream", s));
                free(s);
            }
        }
    }
    j->req = NULL;
    http_stream_end(req);
    job_free(j);
}

/* A JSON object from a query parameter (absent: empty); 400 otherwise. */
static json_t *query_object(struct http_request *req, const char *key,
                            struct err *err)
{
    const char *v = http_query(req, key);
    if (!v || !*v)
        return json_object();
    json_error_t jerr;
    json_t *o = json_loads(v, 0, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        err_set(err, ERR_INVALID, "invalid %s: expected a JSON object", key);
        return NULL;
    }
    return o;
}

static const char *body_path(struct http_request *req, struct api_host *h,
                             struct build_job *j, struct err *err)
{
    if (req->body_path)
        return req->body_path;
    if (req->body_len == 0) {
        err_set(err, ERR_INVALID,
                "the build context is missing: send a tar archive in the "
                "request body");
        return NULL;
    }
    j->tmp_path = xasprintf("%s/tmp/build-XXXXXX", h->data_root);
    int fd = mkstemp(j->tmp_path);
    if (fd < 0) {
        err_sys(err, errno, "create '%s'", j->tmp_path);
        free(j->tmp_path);
        j->tmp_path = NULL;
        return NULL;
    }
    for (size_t off = 0; off < req->body_len;) {
        ssize_t w = write(fd, req->body + off, req->body_len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            err_sys(err, errno, "write '%s'", j->tmp_path);
            close(fd);
            return NULL;
        }
        off += (size_t)w;
    }
    close(fd);
    return j->tmp_path;
}

static void post_build(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    const char *remote = http_query(req, "remote");
    if (remote && *remote) {
        http_reply_error(req, 400,
                         "building from a remote context is not supported; "
                         "send the context as a tar archive");
        return;
    }
    const char *version = http_query(req, "version");
    if (version && strcmp(version, "2") == 0) {
        http_reply_error(req, 400,
                         "BuildKit is not supported by this daemon; use the "
                         "legacy builder (DOCKER_BUILDKIT=0)");
        return;
    }
    struct build_job *j = xcalloc(1, sizeof(*j));
    j->quiet = http_query_bool(req, "q");
    const char **tags = xcalloc(req->n_query + 1, sizeof(*tags));
    j->tags = xcalloc(req->n_query + 1, sizeof(*j->tags));
    for (size_t i = 0; i < req->n_query; i++) {
        if (strcmp(req->query[i].key, "t") != 0 || !*req->query[i].value)
            continue;
        char *norm = image_normalize_ref(req->query[i].value, &err);
        if (!norm) {
            err_set(&err, ERR_INVALID,
                    "invalid reference format: \"%s\" is not a valid image "
                    "name",
                    req->query[i].value);
            break;
        }
        tags[j->n_tags] = req->query[i].value;
        j->tags[j->n_tags++] = norm;
    }
    json_t *args =
        err_is_set(&err) ? NULL : query_object(req, "buildargs", &err);
    json_t *labels = args ? query_object(req, "labels", &err) : NULL;
    const char *ctx = labels ? body_path(req, h, j, &err) : NULL;
    if (!ctx) {
        json_decref(args);
        json_decref(labels);
        free(tags);
        job_free(j);
        http_reply_err(req, &err);
        return;
    }
    struct runtime_info rt;
    runtime_get_info(h->runtime, &rt);
    char *work_root = xasprintf("%s/build", h->data_root);
    struct build_env env = {
        .images = h->images, .runtime = &rt, .work_root = work_root};
    const char *target = http_query(req, "target");
    struct build_options opts = {
        .context_tar = ctx,
        .dockerfile = http_query(req, "dockerfile"),
        .tags = tags,
        .n_tags = j->n_tags,
        .build_args = args,
        .labels = labels,
        .target = target && *target ? target : NULL,
        .no_cache = http_query_bool(req, "nocache"),
        .quiet = j->quiet,
    };
    if (opts.dockerfile && !*opts.dockerfile)
        opts.dockerfile = NULL;
    j->req = req;
    http_request_on_abort(req, aborted, j);
    j->b = build_start(h->loop, &env, &opts, on_log, on_done, j, &err);
    free(work_root);
    json_decref(args);
    json_decref(labels);
    free(tags);
    if (!j->b) {
        http_request_on_abort(req, NULL, NULL);
        job_free(j);
        http_reply_err(req, &err);
    }
}

static const struct http_route routes[] = {
    {"POST", "/build", post_build},
};

void api_build_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
    /* The legacy builder: the docker CLI sends its builds here. */
    http_server_set_ping_header(s, "Builder-Version", "1");
}
