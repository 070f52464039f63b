// SPDX-License-Identifier: Apache-2.0
// Worker sessions with the leader (see dispatch.h): the leader's session
// list and entry fan-out, and the worker's connection, state mirror,
// heartbeats and status reports.
#include "daemon/dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/hmap.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "daemon/dispatch_nets.h"
#include "daemon/dispatch_secrets.h"
#include "daemon/swarm_errors.h"
#include "daemon/swarm_liveness.h"
#include "daemon/swarm_wait.h"

#define SESSION_TIMEOUT_MS 10000
#define RETRY_MS           500
#define PROPOSE_TIMEOUT_MS 15000

/* ---- leader side ---- */

/* What a worker is sent: every change to nodes, services, networks and
 * the cluster as committed (the entry's own operations), and of tasks only
 * its own, plus other nodes' tasks on the networks its own tasks use and
 * on ingress (dispatch_nets.c: service discovery, load balancing and the
 * routing mesh need those), as whole objects ("task.put") or their
 * removal. So 1,000 workers of a 100,000-task service each get ~100.
 * Secrets and configs are never forwarded as committed: each worker gets
 * the objects its own active tasks use (dispatch_secrets.c). */

struct touched {
    char id[ID_LEN + 1];
    char node_id[ID_LEN + 1];
    bool networked;
    bool deleted;
};

struct dispatch_session {
    struct dispatch_session *next, **pprev;
    struct daemon *d;
    struct rpc_conn *conn;
    char node_id[ID_LEN + 1];
    struct buf ops;            /* this entry's task operations for this node */
    struct secret_set secrets; /* the secrets and configs it holds */
    struct net_set nets;       /* its networks, other nodes' tasks it holds */
    bool resync;               /* this entry may change what it needs */
};

struct dispatcher {
    struct daemon *d;
    struct store_watch *watch;
    struct dispatch_session *sessions;
    struct hmap by_node;     /* node id -> session (keys: the session's) */
    struct touched *touched; /* tasks changed by the entry being applied */
    size_t n_touched, cap_touched;
};

/* Workers never see the cluster's private keys (root CA, the one before
 * it during a rotation) nor the unlock key. */
static void strip_secrets(json_t *cluster_obj)
{
    json_t *internal = json_object_get(cluster_obj, "_Internal");
    json_object_del(internal, "_RootCA");
    json_object_del(internal, "_PrevRootCA");
    json_object_del(internal, "_UnlockKey");
}

static bool task_networked(const struct task *t)
{
    return json_array_size(t->networks) > 0;
}

static void on_store(void *data, const struct store_event *ev)
{
    struct dispatcher *dp = data;
    if (ev->kind == KIND_NODE && ev->action == STORE_DELETE) {
        /* A removed node's session ends; its certificate is refused from
         * now on (swarm_net.c peer_ok). */
        const struct node *n = ev->obj;
        struct dispatch_session *s = hmap_get(&dp->by_node, n->meta.id);
        if (s)
            rpc_conn_close(s->conn);
        return;
    }
    if (!dp->sessions)
        return;
    if (ev->kind == KIND_SECRET || ev->kind == KIND_CONFIG ||
        ev->kind == KIND_NETWORK) {
        for (struct dispatch_session *s = dp->sessions; s; s = s->next)
            s->resync = true;
        return;
    }
    if (ev->kind != KIND_TASK)
        return;
    const struct task *t = ev->obj;
    struct dispatch_session *owner = hmap_get(&dp->by_node, t->node_id);
    if (owner)
        owner->resync = true;
    if (dp->n_touched == dp->cap_touched) {
        dp->cap_touched = dp->cap_touched ? 2 * dp->cap_touched : 64;
        dp->touched =
            xrealloc(dp->touched, dp->cap_touched * sizeof(*dp->touched));
    }
    struct touched *x = &dp->touched[dp->n_touched++];
    snprintf(x->id, sizeof(x->id), "%s", t->meta.id);
    snprintf(x->node_id, sizeof(x->node_id), "%s", t->node_id);
    x->networked = task_networked(t);
    x->deleted = ev->action == STORE_DELETE;
}

static struct dispatcher *dispatcher_get(struct daemon *d)
{
    if (!d->dispatcher) {
        struct dispatcher *dp = xcalloc(1, sizeof(*dp));
        dp->d = d;
        hmap_init(&dp->by_node);
        dp->watch = store_watch(d->store, on_store, dp);
        d->dispatcher = dp;
    }
    return d->dispatcher;
}

static void session_unlink(struct dispatch_session *s)
{
    struct dispatcher *dp = s->d->dispatcher;
    if (dp && hmap_get(&dp->by_node, s->node_id) == s)
        hmap_del(&dp->by_node, s->node_id);
    if (!s->pprev)
        return;
    *s->pprev = s->next;
    if (s->next)
        s->next->pprev = s->pprev;
    s->pprev = NULL;
}

static void session_gone(void *data)
{
    struct dispatch_session *s = data;
    log_debug("dispatcher: session of node %s ended", s->node_id);
    session_unlink(s);
    buf_fini(&s->ops);
    secret_set_fini(&s->secrets);
    net_set_fini(&s->nets);
    free(s);
}

static bool keep_secret(void *data, const struct secret *x)
{
    return secret_set_has(&((struct dispatch_session *)data)->secrets, x);
}

static bool keep_for_node(void *data, const struct task *t)
{
    struct dispatch_session *s = data;
    if (strcmp(t->node_id, s->node_id) == 0)
        return true;
    if (!task_networked(t) || !net_set_wants(&s->nets, t))
        return false;
    net_set_hold(&s->nets, t->meta.id);
    return true;
}

void dispatch_serve(struct daemon *d, struct rpc_call *call,
                    const json_t *params)
{
    (void)params;
    struct err err = {0};
    const struct pki_identity *peer = rpc_call_peer(call);
    if (!d->raft || !raftnode_is_ready_leader(d->raft) || !d->store) {
        swarm_err_not_leader(&err);
        rpc_reply(call, NULL, &err);
        return;
    }
    struct dispatcher *dp = dispatcher_get(d);
    struct dispatch_session *s = xcalloc(1, sizeof(*s));
    s->d = d;
    s->conn = rpc_call_conn(call);
    snprintf(s->node_id, sizeof(s->node_id), "%s", peer->node_id);
    buf_init(&s->ops);
    secret_set_init(&s->secrets);
    secret_set_needed(&s->secrets, d->store, s->node_id);
    net_set_init(&s->nets);
    net_set_update(&s->nets, d->store, s->node_id);
    struct buf b;
    buf_init(&b);
    struct store_filter filter = {
        .keep_task = keep_for_node, .keep_secret = keep_secret, .data = s};
    store_snapshot_filtered(d->store, &filter, &b);
    json_t *r =
        json_pack("{s:I, s:s%}", "Index", (json_int_t)store_index(d->store),
                  "Snapshot", b.data ? (const char *)b.data : "", b.len);
    if (b.data)
        memset(b.data, 0, b.len); /* may hold secrets */
    buf_fini(&b);
    s->next = dp->sessions;
    if (s->next)
        s->next->pprev = &s->next;
    s->pprev = &dp->sessions;
    dp->sessions = s;
    hmap_put(&dp->by_node, s->node_id, s);
    rpc_conn_watch(s->conn, session_gone, s);
    rpc_reply(call, r, NULL);
    json_decref(r);
    swarm_liveness_heard(d, peer->node_id);
    log_info("dispatcher: node %s follows this leader", s->node_id);
}

static void append_op(struct buf *b, const char *text)
{
    if (b->len)
        buf_append(b, ",", 1);
    buf_puts(b, text);
}

/* The operation that brings a worker's copy of task x up to date. */
static char *task_op(struct dispatcher *dp, const struct touched *x)
{
    const struct task *t = x->deleted ? NULL : store_task(dp->d->store, x->id);
    json_t *op;
    if (!t) {
        op = json_pack("{s:s, s:s}", "op", "task.delete", "id", x->id);
    } else {
        const struct service *svc = store_service(dp->d->store, t->service_id);
        bool own_spec = !svc || svc->task_spec != t->spec;
        op = json_pack("{s:s, s:s, s:o}", "op", "task.put", "id", x->id, "obj",
                       task_encode(t, own_spec));
    }
    char *text = jx_dumps(op);
    json_decref(op);
    return text;
}

static char *net_task_op(void *data, const char *id, const struct task *t)
{
    struct touched x = {.deleted = t == NULL};
    snprintf(x.id, sizeof(x.id), "%s", id);
    return task_op(data, &x);
}

/* True when every "op" of the encoded entry names a task operation (a
 * conservative scan: anything that looks otherwise means "parse it"). */
static bool only_task_ops(const char *entry, size_t len)
{
    static const char key[] = "\"op\":\"";
    const size_t klen = sizeof(key) - 1;
    const char *p = entry, *end = entry + len;
    while ((p = memmem(p, (size_t)(end - p), key, klen)) != NULL) {
        p += klen;
        if ((size_t)(end - p) < 5 || memcmp(p, "task.", 5) != 0)
            return false;
    }
    return true;
}

/* The entry's "ts" (it leads: txn_encode writes it first). */
static json_int_t entry_ts(const char *entry, size_t len)
{
    static const char key[] = "{\"ts\":";
    if (len < sizeof(key) || memcmp(entry, key, sizeof(key) - 1) != 0)
        return 0;
    return strtoll(entry + sizeof(key) - 1, NULL, 10);
}

void dispatch_applied(struct daemon *d, uint64_t index, const void *entry,
                      size_t len)
{
    struct dispatcher *dp = d->dispatcher;
    if (!dp || !dp->sessions) {
        if (dp)
            dp->n_touched = 0;
        return;
    }
    /* Everyone: the entry's operations on anything but tasks. The
     * controllers' entries hold only task operations (tens of MB with
     * 100,000 tasks): those are not parsed again. */
    _cleanup_json_ json_t *txn =
        only_task_ops(entry, len) ? NULL : json_loadb(entry, len, 0, NULL);
    struct buf common;
    buf_init(&common);
    size_t i;
    json_t *op;
    json_array_foreach(json_object_get(txn, "ops"), i, op)
    {
        const char *name = jx_str(op, "op");
        if (name && (strncmp(name, "task.", 5) == 0 ||
                     strncmp(name, "secret.", 7) == 0 ||
                     strncmp(name, "config.", 7) == 0))
            continue;
        _cleanup_json_ json_t *copy = NULL;
        if (name && strcmp(name, "cluster.put") == 0) {
            copy = json_deep_copy(op);
            strip_secrets(json_object_get(copy, "obj"));
        }
        _cleanup_free_ char *text = jx_dumps(copy ? copy : op);
        append_op(&common, text);
    }
    /* A worker whose own tasks changed may now use other networks: what
     * it holds of other nodes' tasks follows first. */
    for (struct dispatch_session *s = dp->sessions; s; s = s->next)
        if (s->resync && net_set_update(&s->nets, d->store, s->node_id))
            net_set_sync(&s->nets, d->store, s->node_id, &s->ops, net_task_op,
                         dp);
    /* Tasks: to their node, and to the workers that hold or now want them
     * (dispatch_nets.h). Each task once, in its final state (the last
     * change of it counts). */
    struct hmap seen;
    hmap_init(&seen);
    for (size_t k = dp->n_touched; k-- > 0;) {
        const struct touched *x = &dp->touched[k];
        if (hmap_get(&seen, x->id))
            continue;
        hmap_put(&seen, x->id, (void *)x);
        const struct task *now = store_task(d->store, x->id);
        if (x->deleted)
            now = NULL;
        bool networked = now && task_networked(now);
        _cleanup_free_ char *put = NULL, *del = NULL;
        for (struct dispatch_session *s = dp->sessions; s; s = s->next) {
            const char *text = NULL;
            if (strcmp(s->node_id, x->node_id) == 0) {
                net_set_release(&s->nets, x->id); /* its own now */
                text = put ? put : (put = task_op(dp, x));
            } else if (networked && net_set_wants(&s->nets, now)) {
                net_set_hold(&s->nets, x->id);
                text = put ? put : (put = task_op(dp, x));
            } else if (net_set_holds(&s->nets, x->id)) {
                net_set_release(&s->nets, x->id);
                text = del ? del : (del = net_task_op(dp, x->id, NULL));
            }
            if (text)
                append_op(&s->ops, text);
        }
    }
    hmap_fini(&seen);
    dp->n_touched = 0;
    json_int_t ts = txn ? jx_int(txn, "ts", 0) : entry_ts(entry, len);
    struct buf pre; /* a session's secrets and configs, ahead of the rest */
    buf_init(&pre);
    for (struct dispatch_session *s = dp->sessions; s; s = s->next) {
        if (pre.len)
            memset(pre.data, 0, pre.len); /* it held secrets */
        buf_reset(&pre);
        if (s->resync)
            secret_set_sync(&s->secrets, d->store, s->node_id, &pre);
        s->resync = false;
        if (!common.len && !s->ops.len && !pre.len)
            continue;
        struct buf msg;
        buf_init(&msg);
        char head[96];
        snprintf(head, sizeof(head),
                 "{\"method\":\"entry\",\"params\":{\"Index\":%llu,\"Txn\":"
                 "{\"ts\":%lld,\"ops\":[",
                 (unsigned long long)index, (long long)ts);
        buf_puts(&msg, head);
        const struct buf *parts[] = {&pre, &common, &s->ops};
        bool first = true;
        for (size_t k = 0; k < ARRAY_SIZE(parts); k++) {
            if (!parts[k]->len)
                continue;
            if (!first)
                buf_append(&msg, ",", 1);
            buf_append(&msg, parts[k]->data, parts[k]->len);
            first = false;
        }
        buf_puts(&msg, "]}}}");
        rpc_conn_push_raw(s->conn, msg.data, msg.len);
        if (pre.len)
            memset(msg.data, 0, msg.len); /* it held secrets */
        buf_fini(&msg);
        buf_reset(&s->ops);
    }
    if (pre.data)
        memset(pre.data, 0, pre.len);
    buf_fini(&pre);
    buf_fini(&common);
}

void dispatch_drop_all(struct daemon *d)
{
    struct dispatcher *dp = d->dispatcher;
    if (!dp)
        return;
    d->dispatcher = NULL;
    while (dp->sessions) {
        struct dispatch_session *s = dp->sessions;
        session_unlink(s);
        rpc_conn_watch(s->conn, NULL, NULL);
        rpc_conn_close(s->conn);
        buf_fini(&s->ops);
        secret_set_fini(&s->secrets);
        net_set_fini(&s->nets);
        free(s);
    }
    if (d->store)
        store_unwatch(d->store, dp->watch);
    hmap_fini(&dp->by_node);
    free(dp->touched);
    free(dp);
}

/* ---- worker side ---- */

struct worker_session {
    struct daemon *d;
    SSL_CTX *ctx;
    struct rpc_client *c;
    bool dead;   /* c failed: freed and replaced on the next tick */
    bool synced; /* the snapshot arrived */
    bool hb_in_flight;
    uv_timer_t timer;
    size_t next_manager;
    int64_t last_beat;
};

/* Managers to try: the store's, then the address joined through. */
static void manager_list(struct daemon *d, struct vec *out)
{
    size_t it = 0;
    void *o;
    while (d->store && store_next(d->store, KIND_NODE, &it, &o)) {
        const struct node *n = o;
        if (n->manager && n->manager_addr && n->state != NODE_DOWN)
            vec_push(out, xstrdup(n->manager_addr));
    }
    for (size_t i = 0; i < json_array_size(d->join_remotes); i++)
        vec_push(out, xstrdup(json_string_value(
                          json_array_get(d->join_remotes, i))));
}

static void on_push(void *data, const char *method, const json_t *params)
{
    struct worker_session *ws = data;
    struct daemon *d = ws->d;
    if (strcmp(method, "entry") != 0 || !ws->synced)
        return;
    uint64_t index = (uint64_t)jx_int(params, "Index", 0);
    json_t *txn_obj = json_object_get(params, "Txn");
    if (!json_is_object(txn_obj) || index <= store_index(d->store))
        return;
    struct err err = {0};
    _cleanup_free_ char *txn = jx_dumps(txn_obj);
    size_t len = strlen(txn);
    if (store_apply(d->store, index, txn, len, &err) < 0)
        log_debug("session: entry %llu: %s", (unsigned long long)index,
                  err.msg);
    d->hooks->applied(d, index, txn, len);
}

static void on_close(void *data, const struct err *err)
{
    struct worker_session *ws = data;
    log_info("session: lost the leader at %s: %s", rpc_client_address(ws->c),
             err ? err->msg : "closed");
    ws->dead = true;
    ws->synced = false;
}

static const struct rpc_client_ops session_ops = {
    .on_push = on_push,
    .on_close = on_close,
};

static void opened(void *data, const struct err *err, const json_t *result)
{
    struct worker_session *ws = data;
    struct daemon *d = ws->d;
    if (err) {
        log_debug("session: %s: %s", rpc_client_address(ws->c), err->msg);
        ws->dead = true;
        return;
    }
    json_t *snap = json_object_get(result, "Snapshot");
    struct err e = {0};
    if (!json_is_string(snap) ||
        store_restore(d->store, json_string_value(snap),
                      json_string_length(snap), &e) < 0) {
        log_warn("session: bad state from %s: %s", rpc_client_address(ws->c),
                 e.msg);
        ws->dead = true;
        return;
    }
    ws->synced = true;
    ws->last_beat = (int64_t)uv_now(d->loop);
    log_info("session: following the leader at %s (index %llu)",
             rpc_client_address(ws->c),
             (unsigned long long)store_index(d->store));
    d->hooks->applied(d, store_index(d->store), NULL, 0);
}

static void connect_next(struct worker_session *ws)
{
    struct daemon *d = ws->d;
    struct vec managers;
    vec_init(&managers);
    manager_list(d, &managers);
    if (managers.len == 0) {
        vec_fini(&managers);
        return;
    }
    const char *addr = managers.items[ws->next_manager++ % managers.len];
    struct err err = {0};
    ws->c = rpc_client_new(d->loop, addr, ws->ctx, &session_ops, ws, &err);
    if (!ws->c) {
        log_debug("session: %s: %s", addr, err.msg);
    } else {
        ws->dead = false;
        rpc_client_call(ws->c, "session", NULL, SESSION_TIMEOUT_MS, opened, ws);
    }
    for (size_t i = 0; i < managers.len; i++)
        free(managers.items[i]);
    vec_fini(&managers);
}

static void beat_done(void *data, const struct err *err, const json_t *result)
{
    (void)result;
    struct worker_session *ws = data;
    ws->hb_in_flight = false;
    if (err)
        log_debug("session: heartbeat: %s", err->msg);
}

static void tick(uv_timer_t *t)
{
    struct worker_session *ws = t->data;
    if (ws->dead && ws->c) {
        rpc_client_free(ws->c);
        ws->c = NULL;
    }
    if (!ws->c) {
        connect_next(ws);
        return;
    }
    if (!ws->synced || ws->hb_in_flight)
        return;
    int64_t now = (int64_t)uv_now(ws->d->loop);
    int64_t period = swarm_heartbeat_ms(ws->d);
    if (now - ws->last_beat < period / 3)
        return;
    ws->last_beat = now;
    ws->hb_in_flight = true;
    rpc_client_call(ws->c, "heartbeat", NULL, (unsigned)period, beat_done, ws);
}

int worker_session_start(struct daemon *d, SSL_CTX *ctx, struct err *err)
{
    (void)err;
    struct worker_session *ws = xcalloc(1, sizeof(*ws));
    ws->d = d;
    SSL_CTX_up_ref(ctx);
    ws->ctx = ctx;
    uv_timer_init(d->loop, &ws->timer);
    ws->timer.data = ws;
    uv_timer_start(&ws->timer, tick, 0, RETRY_MS / 5);
    d->wsession = ws;
    return 0;
}

static void session_freed(uv_handle_t *h)
{
    struct worker_session *ws = h->data;
    SSL_CTX_free(ws->ctx);
    free(ws);
}

void worker_session_set_ctx(struct daemon *d, SSL_CTX *ctx)
{
    struct worker_session *ws = d->wsession;
    if (!ws)
        return;
    SSL_CTX_up_ref(ctx);
    SSL_CTX_free(ws->ctx);
    ws->ctx = ctx;
}

void worker_session_stop(struct daemon *d)
{
    struct worker_session *ws = d->wsession;
    if (!ws)
        return;
    d->wsession = NULL;
    rpc_client_free(ws->c);
    uv_timer_stop(&ws->timer);
    uv_close((uv_handle_t *)&ws->timer, session_freed);
}

int worker_session_call(struct daemon *d, const char *method, json_t *params,
                        unsigned timeout_ms, rpc_result_fn cb, void *data,
                        struct err *err)
{
    struct worker_session *ws = d->wsession;
    if (!ws || !ws->c || ws->dead || !ws->synced) {
        json_decref(params);
        return swarm_err_no_leader(err);
    }
    rpc_client_call(ws->c, method, params, timeout_ms, cb, data);
    return 0;
}

struct propose {
    struct daemon *d;
    raftnode_apply_fn cb;
    void *data;
};

static void proposed(void *data, const struct err *err, const json_t *result)
{
    struct propose *p = data;
    if (err)
        p->cb(p->data, err, 0);
    else
        swarm_wait_index(p->d, (uint64_t)jx_int(result, "Index", 0), p->cb,
                         p->data);
    free(p);
}

int worker_session_propose(struct daemon *d, const char *txn, size_t len,
                           raftnode_apply_fn cb, void *data, struct err *err)
{
    struct worker_session *ws = d->wsession;
    if (!ws || !ws->c || ws->dead || !ws->synced)
        return swarm_err_no_leader(err);
    struct propose *p = xcalloc(1, sizeof(*p));
    p->d = d;
    p->cb = cb;
    p->data = data;
    rpc_client_call(ws->c, "propose", json_pack("{s:s%}", "Txn", txn, len),
                    PROPOSE_TIMEOUT_MS, proposed, p);
    return 0;
}
