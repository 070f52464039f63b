// SPDX-License-Identifier: Apache-2.0
// Worker sessions with the leader (see dispatch.h): the leader's session
// list and entry fan-out, and the worker's connection, state mirror,
// heartbeats and status reports.
#include "daemon/dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "daemon/swarm_net.h"

#define SESSION_TIMEOUT_MS 10000
#define RETRY_MS           500
#define PROPOSE_TIMEOUT_MS 15000

/* ---- leader side ---- */

struct dispatch_session {
    struct dispatch_session *next, **pprev;
    struct daemon *d;
    struct rpc_conn *conn;
    char node_id[ID_LEN + 1];
};

static void session_unlink(struct dispatch_session *s)
{
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
    free(s);
}

void dispatch_serve(struct daemon *d, struct rpc_call *call,
                    const json_t *params)
{
    (void)params;
    struct err err = {0};
    const struct pki_identity *peer = rpc_call_peer(call);
    if (!d->raft || !raftnode_is_ready_leader(d->raft) || !d->store) {
        err_set(&err, ERR_UNAVAILABLE,
                "rpc error: code = Unavailable desc = this node is not the "
                "swarm leader");
        rpc_reply(call, NULL, &err);
        return;
    }
    struct buf b;
    buf_init(&b);
    store_snapshot(d->store, &b);
    json_t *r =
        json_pack("{s:I, s:s%}", "Index", (json_int_t)store_index(d->store),
                  "Snapshot", b.data ? (const char *)b.data : "", b.len);
    buf_fini(&b);
    struct dispatch_session *s = xcalloc(1, sizeof(*s));
    s->d = d;
    s->conn = rpc_call_conn(call);
    snprintf(s->node_id, sizeof(s->node_id), "%s", peer->node_id);
    s->next = d->sessions;
    if (s->next)
        s->next->pprev = &s->next;
    s->pprev = &d->sessions;
    d->sessions = s;
    rpc_conn_watch(s->conn, session_gone, s);
    rpc_reply(call, r, NULL);
    json_decref(r);
    swarm_net_heartbeat(d, peer->node_id);
    log_info("dispatcher: node %s follows this leader", s->node_id);
}

void dispatch_applied(struct daemon *d, uint64_t index, const void *entry,
                      size_t len)
{
    if (!d->sessions)
        return;
    for (struct dispatch_session *s = d->sessions; s; s = s->next)
        rpc_conn_push(s->conn, "entry",
                      json_pack("{s:I, s:s%}", "Index", (json_int_t)index,
                                "Txn", (const char *)entry, len));
}

void dispatch_drop_all(struct daemon *d)
{
    while (d->sessions) {
        struct dispatch_session *s = d->sessions;
        session_unlink(s);
        rpc_conn_watch(s->conn, NULL, NULL);
        rpc_conn_close(s->conn);
        free(s);
    }
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
    const char *txn = jx_str(params, "Txn");
    if (!txn || index <= store_index(d->store))
        return;
    struct err err = {0};
    size_t len = json_string_length(json_object_get(params, "Txn"));
    if (store_apply(d->store, index, txn, len, &err) < 0)
        log_debug("session: entry %llu: %s", (unsigned long long)index,
                  err.msg);
    swarm_applied(d, index, txn, len);
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
    swarm_applied(d, store_index(d->store), NULL, 0);
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
    ws->ctx = ctx;
    uv_timer_init(d->loop, &ws->timer);
    ws->timer.data = ws;
    uv_timer_start(&ws->timer, tick, 0, RETRY_MS / 5);
    d->wsession = ws;
    return 0;
}

static void session_freed(uv_handle_t *h)
{
    free(h->data);
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
        swarm_net_wait_index(p->d, (uint64_t)jx_int(result, "Index", 0), p->cb,
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
