// SPDX-License-Identifier: Apache-2.0
// /secrets and /configs: create, list, inspect, update (labels only) and
// delete, in the Docker API's shapes. Both kinds share every handler; a
// secret's Data is never shown, a config's always is.
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/mem.h"
#include "manager/secretspec.h"

/* Full id, exact name, then unique id prefix (dockerd's getSecret). */
static struct secret *find_secret(struct api_host *h, enum store_kind kind,
                                  const char *ref, struct err *err)
{
    const struct store *s = api_store(h);
    struct secret *x = store_secret(s, kind, ref);
    if (!x)
        x = store_secret_by_name(s, kind, ref);
    if (x)
        return x;
    size_t it = 0, matches = 0, len = strlen(ref);
    void *o;
    while (len && store_next(s, kind, &it, &o)) {
        if (strncmp(((struct secret *)o)->meta.id, ref, len) == 0) {
            x = o;
            matches++;
        }
    }
    if (matches == 1)
        return x;
    if (matches > 1)
        err_set(err, ERR_INVALID, "%s %s is ambiguous (%zu matches found)",
                store_kind_name(kind), ref, matches);
    else
        err_set(err, ERR_NOTFOUND, "%s %s not found", store_kind_name(kind),
                ref);
    return NULL;
}

static void created(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    struct api_pending *p = data;
    char id[ID_LEN + 1];
    memcpy(id, p->id, sizeof(id));
    struct http_request *req = api_pending_finish(p);
    if (!req)
        return;
    if (err)
        http_reply_err(req, err);
    else
        api_reply(req, 201, json_pack("{s:s}", "ID", id));
}

static void create(struct http_request *req, struct api_host *h,
                   enum store_kind kind)
{
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    json_t *spec = NULL;
    if (http_body_json(req, &spec, &err) < 0 ||
        secretspec_validate(kind, spec, &err) < 0) {
        json_decref(spec);
        http_reply_err(req, &err);
        return;
    }
    const char *name = jx_str(spec, "Name");
    if (store_secret_by_name(api_store(h), kind, name)) {
        err_set(&err, ERR_CONFLICT,
                "rpc error: code = AlreadyExists desc = %s %s already exists",
                store_kind_name(kind), name);
        json_decref(spec);
        http_reply_err(req, &err);
        return;
    }
    struct secret *x = secret_new(kind);
    id_new(x->meta.id);
    x->spec = spec;
    x->name = name;
    struct txn txn;
    txn_init(&txn);
    txn_secret_create(&txn, x);
    struct api_pending *p = api_pending_new(req, h);
    snprintf(p->id, sizeof(p->id), "%s", x->meta.id);
    secret_free(x);
    api_propose(p, &txn, created);
}

static void list(struct http_request *req, struct api_host *h,
                 enum store_kind kind)
{
    if (!api_require_manager(req, h))
        return;
    static const char *const allowed[] = {"id", "name", "names", "label", NULL};
    json_t *f = api_filters(req, allowed);
    if (!f)
        return;
    json_t *out = json_array();
    size_t it = 0;
    void *o;
    while (store_next(api_store(h), kind, &it, &o)) {
        const struct secret *x = o;
        if (!api_filter_match(f, "id", x->meta.id, true) ||
            !api_filter_match(f, "name", x->name, true) ||
            !api_filter_match(f, "names", x->name, false) ||
            !api_filter_labels(f, "label", json_object_get(x->spec, "Labels")))
            continue;
        json_array_append_new(out, secret_to_json(x, true));
    }
    json_decref(f);
    api_reply(req, 200, out);
}

static void inspect(struct http_request *req, struct api_host *h,
                    enum store_kind kind)
{
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    struct secret *x = find_secret(h, kind, req->params[0], &err);
    if (!x) {
        http_reply_err(req, &err);
        return;
    }
    api_reply(req, 200, secret_to_json(x, true));
}

static void update(struct http_request *req, struct api_host *h,
                   enum store_kind kind)
{
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    uint64_t version;
    json_t *spec = NULL, *labels = NULL;
    struct secret *x = find_secret(h, kind, req->params[0], &err);
    if (!x || api_query_version(req, &version, &err) < 0 ||
        http_body_json(req, &spec, &err) < 0 ||
        secretspec_update(x, spec, &labels, &err) < 0) {
        json_decref(spec);
        http_reply_err(req, &err);
        return;
    }
    struct txn txn;
    txn_init(&txn);
    txn_secret_labels(&txn, kind, x->meta.id, version, labels);
    json_decref(spec);
    api_propose(api_pending_new(req, h), &txn, api_commit_empty);
}

static void delete (struct http_request *req, struct api_host *h,
                    enum store_kind kind)
{
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    struct secret *x = find_secret(h, kind, req->params[0], &err);
    if (!x) {
        http_reply_err(req, &err);
        return;
    }
    /* The use check is the store's (apply), so that a service created
     * meanwhile cannot be left with a missing secret. */
    struct txn txn;
    txn_init(&txn);
    txn_secret_delete(&txn, kind, x->meta.id);
    api_propose(api_pending_new(req, h), &txn, api_commit_no_content);
}

#define KIND_HANDLERS(prefix, kind)                                            \
    static void prefix##_create(struct http_request *req, void *data)          \
    {                                                                          \
        create(req, data, kind);                                               \
    }                                                                          \
    static void prefix##_list(struct http_request *req, void *data)            \
    {                                                                          \
        list(req, data, kind);                                                 \
    }                                                                          \
    static void prefix##_inspect(struct http_request *req, void *data)         \
    {                                                                          \
        inspect(req, data, kind);                                              \
    }                                                                          \
    static void prefix##_update(struct http_request *req, void *data)          \
    {                                                                          \
        update(req, data, kind);                                               \
    }                                                                          \
    static void prefix##_delete(struct http_request *req, void *data)          \
    {                                                                          \
        delete (req, data, kind);                                              \
    }

KIND_HANDLERS(secret, KIND_SECRET)
KIND_HANDLERS(config, KIND_CONFIG)

static const struct http_route routes[] = {
    {"POST", "/secrets/create", secret_create},
    {"GET", "/secrets", secret_list},
    {"GET", "/secrets/{id}", secret_inspect},
    {"POST", "/secrets/{id}/update", secret_update},
    {"DELETE", "/secrets/{id}", secret_delete},
    {"POST", "/configs/create", config_create},
    {"GET", "/configs", config_list},
    {"GET", "/configs/{id}", config_inspect},
    {"POST", "/configs/{id}/update", config_update},
    {"DELETE", "/configs/{id}", config_delete},
};

void api_secrets_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
