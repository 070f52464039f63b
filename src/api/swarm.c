// SPDX-License-Identifier: Apache-2.0
// /swarm: inspect, init, join, leave, update, unlock key.
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/mem.h"
#include "cluster/pki.h"
#include "cluster/seal.h"

static void get_swarm(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct cluster *c = store_cluster(api_store(h));
    if (!c) {
        http_reply_error(req, 503, "the swarm is still starting");
        return;
    }
    api_reply(req, 200, cluster_to_json(c));
}

static void init_done(void *data, const struct err *err)
{
    struct api_pending *p = data;
    struct api_host *h = p->h;
    struct http_request *req = api_pending_finish(p);
    if (!req)
        return;
    if (err)
        http_reply_err(req, err);
    else
        api_reply(req, 200, json_string(api_node_id(h)));
}

static void post_init(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    json_t *body = NULL;
    if (http_body_json(req, &body, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        http_reply_error(req, 400,
                         "swarm init: request body must be a JSON "
                         "object");
        return;
    }
    struct api_pending *p = api_pending_new(req, h);
    if (h->ops->swarm_init(h->self, body, init_done, p, &err) < 0) {
        api_pending_finish(p);
        http_reply_err(req, &err);
    }
    json_decref(body);
}

static void join_done(void *data, const struct err *err)
{
    api_commit_empty(data, err, 0);
}

static void post_join(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    json_t *body = NULL;
    if (http_body_json(req, &body, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        http_reply_error(req, 400,
                         "swarm join: request body must be a JSON object");
        return;
    }
    struct api_pending *p = api_pending_new(req, h);
    if (h->ops->swarm_join(h->self, body, join_done, p, &err) < 0) {
        api_pending_finish(p);
        http_reply_err(req, &err);
    }
    json_decref(body);
}

static void leave_done(void *data, const struct err *err)
{
    api_commit_empty(data, err, 0);
}

static void post_leave(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    struct api_pending *p = api_pending_new(req, h);
    if (h->ops->swarm_leave(h->self, http_query_bool(req, "force"), leave_done,
                            p, &err) < 0) {
        api_pending_finish(p);
        http_reply_err(req, &err);
    }
}

static json_t *rotated_token(const char *old)
{
    /* Keep the CA digest part, replace the secret. */
    char secret[26];
    pki_token_secret(secret);
    const char *dash = old ? strrchr(old, '-') : NULL;
    if (!dash)
        return NULL;
    char *tok = xasprintf("%.*s-%s", (int)(dash - old), old, secret);
    json_t *j = json_string(tok);
    free(tok);
    return j;
}

static void post_update(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    struct err err = {0};
    uint64_t version;
    json_t *spec = NULL;
    if (api_query_version(req, &version, &err) < 0 ||
        http_body_json(req, &spec, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    struct cluster *c = store_cluster(api_store(h));
    if (!json_is_object(spec) || !c) {
        json_decref(spec);
        http_reply_error(req, 400,
                         "swarm update: the body must be a "
                         "SwarmSpec object");
        return;
    }
    struct cluster *nc = cluster_new();
    nc->meta = c->meta;
    json_decref(nc->spec);
    nc->spec = spec;
    json_decref(nc->internal);
    nc->internal = jx_copy(c->internal);
    /* swarm ca --rotate: CAConfig.ForceRotate went up. */
    if (jx_int(jx_obj(nc->spec, "CAConfig"), "ForceRotate", 0) >
            jx_int(jx_obj(c->spec, "CAConfig"), "ForceRotate", 0) &&
        h->ops->rotate_ca(nc->internal, &err) < 0) {
        cluster_free(nc);
        http_reply_err(req, &err);
        return;
    }
    /* Autolock: a key while it is on (a new one when asked), none off. */
    bool autolock = jx_bool(jx_obj(nc->spec, "EncryptionConfig"),
                            "AutoLockManagers", false);
    if (!autolock)
        json_object_del(nc->internal, "_UnlockKey");
    else if (!jx_str(nc->internal, "_UnlockKey") ||
             http_query_bool(req, "rotateManagerUnlockKey")) {
        char *key = seal_new_unlock_key();
        json_object_set_new(nc->internal, "_UnlockKey", json_string(key));
        free(key);
    }
    json_t *tokens = jx_obj(nc->internal, "JoinTokens");
    static const char *const which[][2] = {{"rotateWorkerToken", "Worker"},
                                           {"rotateManagerToken", "Manager"}};
    for (size_t i = 0; i < ARRAY_SIZE(which); i++) {
        if (!http_query_bool(req, which[i][0]))
            continue;
        json_t *t = rotated_token(jx_str(tokens, which[i][1]));
        if (t)
            json_object_set_new(tokens, which[i][1], t);
    }
    struct txn txn;
    txn_init(&txn);
    txn_cluster_put(&txn, nc, version);
    cluster_free(nc);
    api_propose(api_pending_new(req, h), &txn, api_commit_empty);
}

static void get_unlockkey(struct http_request *req, void *data)
{
    struct api_host *h = data;
    if (!api_require_manager(req, h))
        return;
    const struct cluster *c = store_cluster(api_store(h));
    const char *key = c ? jx_str(c->internal, "_UnlockKey") : NULL;
    api_reply(req, 200, json_pack("{s:s}", "UnlockKey", key ? key : ""));
}

static void post_unlock(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    json_t *body = NULL;
    if (http_body_json(req, &body, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    const char *key = jx_str(body, "UnlockKey");
    if (h->ops->swarm_unlock(h->self, key ? key : "", &err) < 0)
        http_reply_err(req, &err);
    else
        http_reply_empty(req, 200);
    json_decref(body);
}

static const struct http_route routes[] = {
    {"GET", "/swarm", get_swarm},
    {"POST", "/swarm/init", post_init},
    {"POST", "/swarm/join", post_join},
    {"POST", "/swarm/leave", post_leave},
    {"POST", "/swarm/update", post_update},
    {"GET", "/swarm/unlockkey", get_unlockkey},
    {"POST", "/swarm/unlock", post_unlock},
};

void api_swarm_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
