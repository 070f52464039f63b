// SPDX-License-Identifier: Apache-2.0
// /volumes: this node's local volumes (create, list with filters, inspect,
// remove, prune) in the Docker Engine API's shapes and dockerd's words.
// Volumes are node-local as in Swarm: no manager is needed and each node
// answers for its own.
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/events.h"
#include "base/log.h"
#include "base/mem.h"
#include "volume/volume.h"

static bool have_store(struct http_request *req, struct api_host *h)
{
    if (h->volumes)
        return true;
    http_reply_error(req, 500, "volumes are not available on this node");
    return false;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(volume_name(*(struct volume *const *)a),
                  volume_name(*(struct volume *const *)b));
}

/* The volumes of the store sorted by name (array owned, items borrowed). */
static struct volume **sorted_volumes(struct api_host *h, size_t *n)
{
    size_t cap = 16, len = 0;
    struct volume **out = xcalloc(cap, sizeof(*out));
    struct volume *v;
    for (size_t it = 0; volume_next(h->volumes, &it, &v);) {
        if (len == cap) {
            cap *= 2;
            out = xrealloc(out, cap * sizeof(*out));
        }
        out[len++] = v;
    }
    qsort(out, len, sizeof(*out), cmp_name);
    *n = len;
    return out;
}

static void list_volumes(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!have_store(req, h))
        return;
    struct err err = {0};
    json_t *f = NULL;
    if (http_query_filters(req, &f, &err) < 0 ||
        volume_list_filters_check(f, &err) < 0) {
        json_decref(f);
        http_reply_err(req, &err);
        return;
    }
    size_t n;
    _cleanup_free_ struct volume **vols = sorted_volumes(h, &n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        struct volume_info vi;
        volume_info(vols[i], &vi);
        if (volume_list_match(f, &vi))
            json_array_append_new(list, volume_json(vols[i], false));
    }
    json_decref(f);
    api_reply(req, 200, json_pack("{s:o, s:n}", "Volumes", list, "Warnings"));
}

/* A string-valued object field of the request (absent / null: NULL). */
static int string_map_field(const json_t *body, const char *key,
                            const json_t **out, struct err *err)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return err_set(err, ERR_INVALID,
                       "json: cannot unmarshal %s into Go struct field "
                       "CreateOptions.%s of type map[string]string",
                       json_is_array(v) ? "array" : "value", key);
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        if (!json_is_string(val))
            return err_set(err, ERR_INVALID,
                           "json: cannot unmarshal value into Go struct field "
                           "CreateOptions.%s of type string",
                           key);
    }
    *out = v;
    return 0;
}

static int string_field(const json_t *body, const char *key, const char **out,
                        struct err *err)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set(err, ERR_INVALID,
                       "json: cannot unmarshal value into Go struct field "
                       "CreateOptions.%s of type string",
                       key);
    *out = json_string_value(v);
    return 0;
}

static void create_volume(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!have_store(req, h))
        return;
    struct err err = {0};
    _cleanup_json_ json_t *body = NULL;
    if (http_body_json(req, &body, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    if (!json_is_object(body)) {
        http_reply_error(req, 400,
                         "json: cannot unmarshal value into Go value of type "
                         "volume.CreateOptions");
        return;
    }
    struct volume_spec spec = {0};
    if (string_field(body, "Name", &spec.name, &err) < 0 ||
        string_field(body, "Driver", &spec.driver, &err) < 0 ||
        string_map_field(body, "DriverOpts", &spec.options, &err) < 0 ||
        string_map_field(body, "Labels", &spec.labels, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    json_t *cluster = json_object_get(body, "ClusterVolumeSpec");
    if (cluster && !json_is_null(cluster)) {
        http_reply_error(req, 400,
                         "cluster volumes are not supported: create a local "
                         "volume on each node instead");
        return;
    }
    bool created;
    struct volume *v = volume_create(h->volumes, &spec, &created, &err);
    if (!v) {
        http_reply_err(req, &err);
        return;
    }
    api_reply(req, 201, volume_json(v, false));
}

static void inspect_volume(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!have_store(req, h))
        return;
    struct volume *v = volume_get(h->volumes, req->params[0]);
    if (!v) {
        char msg[512];
        snprintf(msg, sizeof(msg), "get %s: no such volume", req->params[0]);
        http_reply_error(req, 404, msg);
        return;
    }
    api_reply(req, 200, volume_json(v, false));
}

static void remove_volume(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!have_store(req, h))
        return;
    struct err err = {0};
    if (volume_remove(h->volumes, req->params[0], NULL, &err) < 0) {
        /* force: a volume that is not there is removed enough. */
        if (err.code == ERR_NOTFOUND && http_query_bool(req, "force")) {
            http_reply_empty(req, 204);
            return;
        }
        http_reply_err(req, &err);
        return;
    }
    http_reply_empty(req, 204);
}

static void prune_volumes(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!have_store(req, h))
        return;
    struct err err = {0};
    json_t *f = NULL;
    bool all;
    /* Before API 1.42 prune took named volumes too. */
    bool all_default = http_version_cmp(req, "1.42") < 0;
    if (http_query_filters(req, &f, &err) < 0 ||
        volume_prune_filters_check(f, all_default, &all, &err) < 0) {
        json_decref(f);
        http_reply_err(req, &err);
        return;
    }
    size_t n;
    _cleanup_free_ struct volume **vols = sorted_volumes(h, &n);
    struct vec names;
    vec_init(&names);
    for (size_t i = 0; i < n; i++) {
        struct volume_info vi;
        volume_info(vols[i], &vi);
        if (volume_prune_match(f, all, &vi))
            vec_push(&names, xstrdup(vi.name));
    }
    json_decref(f);
    json_t *deleted = json_array();
    int64_t reclaimed = 0;
    for (size_t i = 0; i < names.len; i++) {
        int64_t size = 0;
        struct err e2 = {0};
        if (volume_remove(h->volumes, names.items[i], &size, &e2) < 0) {
            log_warn("volume prune: %s", e2.msg);
        } else {
            json_array_append_new(deleted, json_string(names.items[i]));
            reclaimed += size;
        }
        free(names.items[i]);
    }
    vec_fini(&names);
    char rec[32];
    snprintf(rec, sizeof(rec), "%lld", (long long)reclaimed);
    events_volume(h->events, "prune", NULL, rec, NULL);
    api_reply(req, 200,
              json_pack("{s:o, s:I}", "VolumesDeleted", deleted,
                        "SpaceReclaimed", (json_int_t)reclaimed));
}

static const struct http_route routes[] = {
    {"GET", "/volumes", list_volumes},
    {"POST", "/volumes/create", create_volume},
    {"POST", "/volumes/prune", prune_volumes},
    {"GET", "/volumes/{name}", inspect_volume},
    {"DELETE", "/volumes/{name}", remove_volume},
};

void api_volumes_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
