// SPDX-License-Identifier: Apache-2.0
// Simulated worker nodes for bench/cluster: one process, one libuv loop,
// N nodes that join a shoald manager and keep a dispatcher session each
// (join, session, heartbeats, task status proposals) with shoal's own TLS
// and rpc code, and report every task assigned to them as running without
// starting anything. Prints progress and figures as JSON lines on stdout.
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/fsutil.h"
#include "base/hmap.h"
#include "base/id.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/vec.h"
#include "cluster/pki.h"
#include "cluster/rpc.h"
#include "raft/encio.h"
#include "store/objects.h"
#include "store/store.h"
#include "store/txn.h"

#define TICK_MS            20
#define SESSION_TIMEOUT_MS 60000
#define JOIN_TIMEOUT_MS    60000
#define PROPOSE_TIMEOUT_MS 30000
#define RETRY_MS           1000
#define CACHE_SLOTS        64

enum action { ACT_RUN, ACT_STOP };

struct ftask {
    char id[ID_LEN + 1];
    int node;        /* index of the fake node it is assigned to, or -1 */
    bool reported;   /* running sent (or queued) */
    bool stopped;    /* shutdown sent (or queued) */
    bool acked;      /* the leader committed our running report */
    enum action out; /* what the queued report says */
};

struct fnode {
    struct fleet *f;
    int idx;
    char id[ID_LEN + 1];
    char *ca_pem;
    struct pki_pair own; /* certificate + CA bundle, key */
    SSL_CTX *ctx;
    struct rpc_client *join, *c;
    bool joining, joined, join_dead, dead, synced, opening;
    bool hb_busy, prop_busy, ever_synced;
    int64_t last_beat, retry_at, hb_sent_at;
    uint64_t index;
    struct vec outbox;   /* struct ftask * to report */
    struct vec inflight; /* reported in the propose on the wire */
};

/* One pushed entry, parsed once for every session that receives the same
 * text: what it asks of each node. */
struct pop {
    struct ftask *t;
    enum action act;
};
struct pentry {
    uint64_t index;
    size_t len;
    uint64_t hash;
    bool used;
    struct hmap by_node; /* node id -> struct vec of struct pop * */
    struct vec pops;     /* every struct pop *, to free */
    struct vec keys;     /* node id strings (owned) */
};

struct fleet {
    uv_loop_t *loop;
    const char *manager, *token, *addr;
    int n, join_parallel, flush_ms;
    long expect;
    struct fnode *nodes;
    struct hmap node_by_id;
    struct hmap tasks; /* id -> struct ftask */
    SSL_CTX *join_ctx;
    int next_join, joins_in_flight;
    int64_t period_ms, last_flush, last_stats;
    uv_timer_t tick;
    uv_signal_t sigint, sigterm;
    struct pentry cache[CACHE_SLOTS];
    size_t cache_next;
    /* counters */
    long joined, ready, assigned, acked, stopped;
    long hb_sent, hb_ok, hb_fail, entries, entry_bytes, snap_bytes;
    long parses, task_ops, proposes, propose_ok, propose_fail, sessions_lost;
    long join_fail;
    double hb_rtt_max, hb_rtt_sum;
    bool said_first, said_assigned, said_acked, said_ready;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void event(const char *name, long value)
{
    printf("{\"event\": \"%s\", \"t\": %.6f, \"value\": %ld}\n", name, mono(),
           value);
    fflush(stdout);
}

static void stats(struct fleet *f)
{
    printf("{\"stats\": true, \"t\": %.6f, \"joined\": %ld, \"ready\": %ld, "
           "\"assigned\": %ld, \"acked\": %ld, \"stopped\": %ld, "
           "\"hb_sent\": %ld, \"hb_ok\": %ld, \"hb_fail\": %ld, "
           "\"hb_rtt_avg_ms\": %.3f, \"hb_rtt_sum_ms\": %.1f, "
           "\"hb_rtt_max_ms\": %.3f, "
           "\"entries\": %ld, \"entry_bytes\": %ld, \"snapshot_bytes\": %ld, "
           "\"parses\": %ld, \"task_ops\": %ld, \"proposes\": %ld, "
           "\"propose_ok\": %ld, "
           "\"propose_fail\": %ld, \"sessions_lost\": %ld, "
           "\"join_fail\": %ld}\n",
           mono(), f->joined, f->ready, f->assigned, f->acked, f->stopped,
           f->hb_sent, f->hb_ok, f->hb_fail,
           f->hb_ok ? f->hb_rtt_sum / (double)f->hb_ok * 1000 : 0.0,
           f->hb_rtt_sum * 1000, f->hb_rtt_max * 1000, f->entries,
           f->entry_bytes, f->snap_bytes, f->parses, f->task_ops, f->proposes,
           f->propose_ok, f->propose_fail, f->sessions_lost, f->join_fail);
    fflush(stdout);
    f->hb_rtt_max = 0;
}

/* ---- tasks ---- */

static struct ftask *task_get(struct fleet *f, const char *id, bool create)
{
    struct ftask *t = hmap_get(&f->tasks, id);
    if (t || !create || strlen(id) != ID_LEN)
        return t;
    t = xcalloc(1, sizeof(*t));
    memcpy(t->id, id, ID_LEN + 1);
    t->node = -1;
    hmap_put(&f->tasks, t->id, t);
    return t;
}

static void queue_report(struct fnode *n, struct ftask *t, enum action act)
{
    if (act == ACT_RUN) {
        if (t->reported)
            return;
        t->reported = true;
    } else {
        if (t->stopped)
            return;
        t->stopped = true;
    }
    t->out = act;
    vec_push(&n->outbox, t);
}

/* ---- parsing pushed entries (once per distinct text) ---- */

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void pentry_clear(struct pentry *p)
{
    if (!p->used)
        return;
    size_t it = 0;
    void *v;
    while (hmap_next(&p->by_node, &it, NULL, &v)) {
        vec_fini(v);
        free(v);
    }
    hmap_fini(&p->by_node);
    for (size_t i = 0; i < p->pops.len; i++)
        free(p->pops.items[i]);
    vec_fini(&p->pops);
    for (size_t i = 0; i < p->keys.len; i++)
        free(p->keys.items[i]);
    vec_fini(&p->keys);
    p->used = false;
}

static void pentry_add(struct pentry *p, const char *node, struct ftask *t,
                       enum action act)
{
    struct vec *v = hmap_get(&p->by_node, node);
    if (!v) {
        char *key = xstrdup(node);
        vec_push(&p->keys, key);
        v = xcalloc(1, sizeof(*v));
        vec_init(v);
        hmap_put(&p->by_node, key, v);
    }
    struct pop *op = xcalloc(1, sizeof(*op));
    op->t = t;
    op->act = act;
    vec_push(&p->pops, op);
    vec_push(v, op);
}

/* A task object (task.create / task.put): its node and desired state. */
static void parse_task_obj(struct fleet *f, struct pentry *p, const json_t *obj)
{
    const char *id = jx_str(obj, "ID");
    const char *node = jx_str(obj, "NodeID");
    const char *desired = jx_str(obj, "DesiredState");
    const char *state = jx_str(json_object_get(obj, "Status"), "State");
    if (!id || !node || !*node || !hmap_get(&f->node_by_id, node))
        return;
    struct fnode *n = hmap_get(&f->node_by_id, node);
    struct ftask *t = task_get(f, id, true);
    t->node = n->idx;
    int d = desired ? task_state_parse(desired) : TASK_RUNNING;
    int s = state ? task_state_parse(state) : TASK_ASSIGNED;
    if (d > TASK_RUNNING)
        pentry_add(p, node, t, ACT_STOP);
    else if (s >= TASK_ASSIGNED && s < TASK_RUNNING)
        pentry_add(p, node, t, ACT_RUN);
}

static struct pentry *parse_entry(struct fleet *f, uint64_t index,
                                  const char *text, size_t len)
{
    uint64_t h = fnv1a(text, len);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        struct pentry *p = &f->cache[i];
        if (p->used && p->index == index && p->len == len && p->hash == h)
            return p;
    }
    struct pentry *p = &f->cache[f->cache_next++ % CACHE_SLOTS];
    pentry_clear(p);
    p->used = true;
    p->index = index;
    p->len = len;
    p->hash = h;
    hmap_init(&p->by_node);
    vec_init(&p->pops);
    vec_init(&p->keys);
    f->parses++;
    _cleanup_json_ json_t *j = json_loadb(text, len, 0, NULL);
    size_t i;
    json_t *op;
    json_array_foreach(json_object_get(j, "ops"), i, op)
    {
        const char *name = jx_str(op, "op");
        const char *id = jx_str(op, "id");
        if (!name)
            continue;
        if (strcmp(name, "task.create") == 0 || strcmp(name, "task.put") == 0) {
            parse_task_obj(f, p, json_object_get(op, "obj"));
        } else if (strcmp(name, "task.assign") == 0 && id) {
            const char *node = jx_str(op, "node");
            struct fnode *n = node ? hmap_get(&f->node_by_id, node) : NULL;
            if (!n)
                continue;
            struct ftask *t = task_get(f, id, true);
            t->node = n->idx;
            pentry_add(p, node, t, ACT_RUN);
        } else if (strcmp(name, "task.desired") == 0 && id) {
            struct ftask *t = task_get(f, id, false);
            int d = task_state_parse(jx_str(op, "desired"));
            if (t && t->node >= 0 && d > TASK_RUNNING)
                pentry_add(p, f->nodes[t->node].id, t, ACT_STOP);
        }
    }
    return p;
}

/* ---- one node's session ---- */

static void node_act(struct fnode *n, struct ftask *t, enum action act)
{
    struct fleet *f = n->f;
    if (act == ACT_RUN && !t->reported) {
        f->assigned++;
        if (!f->said_first) {
            f->said_first = true;
            event("first_assigned", f->assigned);
        }
        if (f->expect && f->assigned == f->expect && !f->said_assigned) {
            f->said_assigned = true;
            event("all_assigned", f->assigned);
        }
    }
    queue_report(n, t, act);
}

/* One operation of an entry pushed as an object (the leader sends each
 * worker its own tasks as whole objects, "task.put"). */
static void handle_op(struct fnode *n, const json_t *op)
{
    struct fleet *f = n->f;
    const char *name = jx_str(op, "op");
    const char *id = jx_str(op, "id");
    if (!name || strncmp(name, "task.", 5) != 0)
        return;
    f->task_ops++;
    if (strcmp(name, "task.create") == 0 || strcmp(name, "task.put") == 0) {
        const json_t *obj = json_object_get(op, "obj");
        const char *tid = jx_str(obj, "ID");
        const char *node = jx_str(obj, "NodeID");
        if (!tid || !node || strcmp(node, n->id) != 0)
            return;
        const char *desired = jx_str(obj, "DesiredState");
        const char *state = jx_str(json_object_get(obj, "Status"), "State");
        int d = desired ? task_state_parse(desired) : TASK_RUNNING;
        int st = state ? task_state_parse(state) : TASK_ASSIGNED;
        struct ftask *t = task_get(f, tid, true);
        t->node = n->idx;
        if (d > TASK_RUNNING)
            node_act(n, t, ACT_STOP);
        else if (st >= TASK_ASSIGNED && st < TASK_RUNNING)
            node_act(n, t, ACT_RUN);
    } else if (strcmp(name, "task.assign") == 0 && id) {
        const char *node = jx_str(op, "node");
        if (!node || strcmp(node, n->id) != 0)
            return;
        struct ftask *t = task_get(f, id, true);
        t->node = n->idx;
        node_act(n, t, ACT_RUN);
    } else if (strcmp(name, "task.desired") == 0 && id) {
        struct ftask *t = task_get(f, id, false);
        int d = task_state_parse(jx_str(op, "desired"));
        if (t && t->node == n->idx && d > TASK_RUNNING)
            node_act(n, t, ACT_STOP);
    }
}

static void on_push(void *data, const char *method, const json_t *params)
{
    struct fnode *n = data;
    struct fleet *f = n->f;
    if (strcmp(method, "entry") != 0 || !n->synced)
        return;
    uint64_t index = (uint64_t)jx_int(params, "Index", 0);
    json_t *txn = json_object_get(params, "Txn");
    if (index <= n->index)
        return;
    n->index = index;
    f->entries++;
    if (json_is_object(txn)) {
        /* Filtered per worker: only this node's tasks in it. */
        size_t i;
        json_t *op;
        json_array_foreach(json_object_get(txn, "ops"), i, op) handle_op(n, op);
        return;
    }
    if (!json_is_string(txn))
        return;
    /* The whole entry as text, the same for every session: parsed once. */
    size_t len = json_string_length(txn);
    f->entry_bytes += (long)len;
    struct pentry *p = parse_entry(f, index, json_string_value(txn), len);
    struct vec *mine = hmap_get(&p->by_node, n->id);
    for (size_t i = 0; mine && i < mine->len; i++) {
        struct pop *op = mine->items[i];
        node_act(n, op->t, op->act);
    }
}

static void on_close(void *data, const struct err *err)
{
    struct fnode *n = data;
    if (n->synced || n->opening)
        n->f->sessions_lost++;
    log_warn("node %d: session closed: %s", n->idx, err ? err->msg : "closed");
    n->dead = true;
    n->synced = false;
    n->opening = false;
}

static const struct rpc_client_ops session_ops = {
    .on_push = on_push,
    .on_close = on_close,
};

/* A new session after a lost one: report what the state says is ours. */
static void rescan(struct fnode *n, const char *snap, size_t len)
{
    struct fleet *f = n->f;
    struct store *s = store_new();
    struct err err = {0};
    if (store_restore(s, snap, len, &err) < 0) {
        log_warn("node %d: bad snapshot: %s", n->idx, err.msg);
        store_free(s);
        return;
    }
    const struct vec *mine = store_node_tasks(s, n->id);
    for (size_t i = 0; mine && i < mine->len; i++) {
        const struct task *t = mine->items[i];
        struct ftask *ft = task_get(f, t->meta.id, true);
        ft->node = n->idx;
        if (t->desired > TASK_RUNNING)
            queue_report(n, ft, ACT_STOP);
        else if (t->state < TASK_RUNNING)
            queue_report(n, ft, ACT_RUN);
    }
    store_free(s);
}

static void opened(void *data, const struct err *err, const json_t *result)
{
    struct fnode *n = data;
    struct fleet *f = n->f;
    n->opening = false;
    if (err) {
        log_warn("node %d: session: %s", n->idx, err->msg);
        n->dead = true;
        return;
    }
    json_t *snap = json_object_get(result, "Snapshot");
    f->snap_bytes += (long)json_string_length(snap);
    n->index = (uint64_t)jx_int(result, "Index", 0);
    if (n->ever_synced && json_is_string(snap))
        rescan(n, json_string_value(snap), json_string_length(snap));
    n->synced = true;
    n->ever_synced = true;
    /* Spread the beats over the period. */
    int64_t now = (int64_t)uv_now(f->loop);
    n->last_beat = now - (int64_t)(rand() % (int)(f->period_ms / 3 + 1));
    f->ready++;
    if (f->ready == f->n && !f->said_ready) {
        f->said_ready = true;
        event("all_ready", f->ready);
    }
}

static void open_session(struct fnode *n)
{
    struct fleet *f = n->f;
    struct err err = {0};
    n->c = rpc_client_new(f->loop, f->manager, n->ctx, &session_ops, n, &err);
    if (!n->c) {
        log_warn("node %d: %s", n->idx, err.msg);
        n->retry_at = (int64_t)uv_now(f->loop) + RETRY_MS;
        return;
    }
    n->dead = false;
    n->opening = true;
    rpc_client_call(n->c, "session", NULL, SESSION_TIMEOUT_MS, opened, n);
}

static void beat_done(void *data, const struct err *err, const json_t *result)
{
    struct fnode *n = data;
    struct fleet *f = n->f;
    n->hb_busy = false;
    if (err) {
        f->hb_fail++;
        log_warn("node %d: heartbeat: %s", n->idx, err->msg);
        return;
    }
    f->hb_ok++;
    double rtt = (double)((int64_t)uv_now(f->loop) - n->hb_sent_at) / 1000;
    f->hb_rtt_sum += rtt;
    if (rtt > f->hb_rtt_max)
        f->hb_rtt_max = rtt;
    json_int_t ns = jx_int(result, "Period", 0);
    if (ns > 0)
        f->period_ms = ns / 1000000;
}

static void proposed(void *data, const struct err *err, const json_t *result)
{
    (void)result;
    struct fnode *n = data;
    struct fleet *f = n->f;
    n->prop_busy = false;
    if (err) {
        f->propose_fail++;
        log_warn("node %d: propose: %s", n->idx, err->msg);
        /* Send them again with the next batch. */
        for (size_t i = 0; i < n->inflight.len; i++)
            vec_push(&n->outbox, n->inflight.items[i]);
        n->inflight.len = 0;
        return;
    }
    f->propose_ok++;
    for (size_t i = 0; i < n->inflight.len; i++) {
        struct ftask *t = n->inflight.items[i];
        if (t->out == ACT_STOP) {
            f->stopped++;
        } else if (!t->acked) {
            t->acked = true;
            f->acked++;
            if (f->expect && f->acked == f->expect && !f->said_acked) {
                f->said_acked = true;
                event("all_reported", f->acked);
            }
        }
    }
    n->inflight.len = 0;
}

static void flush(struct fnode *n)
{
    if (!n->synced || n->prop_busy || n->outbox.len == 0)
        return;
    struct txn txn;
    txn_init(&txn);
    for (size_t i = 0; i < n->outbox.len; i++) {
        struct ftask *t = n->outbox.items[i];
        if (t->out == ACT_STOP)
            txn_task_status(&txn, t->id, TASK_SHUTDOWN, "shutdown", NULL, NULL,
                            0, 0);
        else
            txn_task_status(&txn, t->id, TASK_RUNNING, "started", NULL, NULL, 0,
                            -1);
        vec_push(&n->inflight, t);
    }
    n->outbox.len = 0;
    size_t len;
    char *text = txn_encode(&txn, &len);
    txn_fini(&txn);
    n->prop_busy = true;
    n->f->proposes++;
    rpc_client_call(n->c, "propose", json_pack("{s:s%}", "Txn", text, len),
                    PROPOSE_TIMEOUT_MS, proposed, n);
    free(text);
}

/* ---- joining ---- */

static void joined(void *data, const struct err *err, const json_t *result)
{
    struct fnode *n = data;
    struct fleet *f = n->f;
    f->joins_in_flight--;
    n->joining = false;
    n->join_dead = true; /* freed on the next tick, not in its callback */
    struct err e = {0};
    const char *id = jx_str(result, "NodeID");
    const char *cert = jx_str(result, "Cert");
    const char *ca = jx_str(result, "CA");
    if (err || !id || !cert || !ca || strlen(id) != ID_LEN) {
        f->join_fail++;
        log_warn("node %d: join: %s", n->idx, err ? err->msg : "bad answer");
        n->retry_at = (int64_t)uv_now(f->loop) + RETRY_MS;
        free(n->own.key_pem);
        n->own.key_pem = NULL;
        return;
    }
    memcpy(n->id, id, ID_LEN + 1);
    n->ca_pem = xstrdup(ca);
    n->own.cert_pem = xasprintf("%s%s", cert, ca);
    n->ctx = pki_ctx_mutual(false, ca, &n->own, &e);
    if (!n->ctx) {
        log_error("node %d: tls context: %s", n->idx, e.msg);
        exit(1);
    }
    hmap_put(&f->node_by_id, n->id, n);
    n->joined = true;
    f->joined++;
    if (f->joined == f->n)
        event("all_joined", f->joined);
    open_session(n);
}

static void start_join(struct fnode *n)
{
    struct fleet *f = n->f;
    struct err err = {0};
    _cleanup_free_ char *csr = NULL;
    if (pki_csr_create(&n->own.key_pem, &csr, &err) < 0) {
        log_error("node %d: %s", n->idx, err.msg);
        exit(1);
    }
    n->join =
        rpc_client_new(f->loop, f->manager, f->join_ctx, NULL, NULL, &err);
    if (!n->join) {
        log_warn("node %d: join: %s", n->idx, err.msg);
        free(n->own.key_pem);
        n->own.key_pem = NULL;
        n->retry_at = (int64_t)uv_now(f->loop) + RETRY_MS;
        return;
    }
    char host[64];
    snprintf(host, sizeof(host), "fake-%05d", n->idx);
    json_t *desc = json_pack(
        "{s:s, s:{s:s, s:s}, s:{s:I, s:I}, s:{s:s, s:[]}}", "Hostname", host,
        "Platform", "Architecture", "x86_64", "OS", "linux", "Resources",
        "NanoCPUs", (json_int_t)2000000000, "MemoryBytes", (json_int_t)4 << 30,
        "Engine", "EngineVersion", "fake", "Plugins");
    json_t *params = json_pack(
        "{s:s, s:s, s:s, s:i, s:s, s:o}", "Token", f->token, "CSR", csr, "Addr",
        f->addr, "Port", 4377, "Availability", "active", "Description", desc);
    n->joining = true;
    f->joins_in_flight++;
    rpc_client_call(n->join, "join", params, JOIN_TIMEOUT_MS, joined, n);
}

/* ---- the loop ---- */

static void tick(uv_timer_t *timer)
{
    struct fleet *f = timer->data;
    int64_t now = (int64_t)uv_now(f->loop);
    bool do_flush = now - f->last_flush >= f->flush_ms;
    if (do_flush)
        f->last_flush = now;
    /* New joins, a few at a time. */
    while (f->next_join < f->n && f->joins_in_flight < f->join_parallel)
        start_join(&f->nodes[f->next_join++]);
    for (int i = 0; i < f->next_join; i++) {
        struct fnode *n = &f->nodes[i];
        if (n->join_dead) {
            rpc_client_free(n->join);
            n->join = NULL;
            n->join_dead = false;
        }
        if (!n->joined) {
            if (!n->joining && !n->join && now >= n->retry_at &&
                f->joins_in_flight < f->join_parallel)
                start_join(n);
            continue;
        }
        if (n->dead && n->c) {
            rpc_client_free(n->c);
            n->c = NULL;
            n->prop_busy = false; /* its callbacks ran with errors */
            n->hb_busy = false;
            if (f->ready > 0)
                f->ready--;
            n->retry_at = now + RETRY_MS;
        }
        if (!n->c) {
            if (now >= n->retry_at)
                open_session(n);
            continue;
        }
        if (!n->synced)
            continue;
        if (!n->hb_busy && now - n->last_beat >= f->period_ms / 3) {
            n->last_beat = now;
            n->hb_sent_at = now;
            n->hb_busy = true;
            f->hb_sent++;
            rpc_client_call(n->c, "heartbeat", NULL, (unsigned)f->period_ms,
                            beat_done, n);
        }
        if (do_flush)
            flush(n);
    }
    if (now - f->last_stats >= 1000) {
        f->last_stats = now;
        stats(f);
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    struct fleet *f = s->data;
    stats(f);
    event("exit", 0);
    _exit(0);
}

/* ---- offline: how long a snapshot of a state takes ---- */

/* The data key file holds 64 hex digits. */
static int read_key(const char *path, uint8_t key[ENCIO_KEY_LEN])
{
    struct err err = {0};
    _cleanup_free_ char *hex = NULL;
    if (fs_read_file(path, &hex, NULL, &err) < 0 || strlen(hex) < 64) {
        fprintf(stderr, "fake_agents: key '%s': %s\n", path,
                err.msg[0] ? err.msg : "too short");
        return -1;
    }
    for (int i = 0; i < ENCIO_KEY_LEN; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        key[i] = (uint8_t)v;
    }
    return 0;
}

static int snapshot_time(const char *path, const char *key_path)
{
    struct err err = {0};
    _cleanup_free_ char *data = NULL;
    size_t len;
    if (fs_read_file(path, &data, &len, &err) < 0) {
        fprintf(stderr, "fake_agents: %s\n", err.msg);
        return 1;
    }
    double open_s = 0;
    if (key_path) {
        uint8_t key[ENCIO_KEY_LEN];
        struct raft_buffer in = {.base = data, .len = len}, out = {0};
        if (read_key(key_path, key) < 0)
            return 1;
        double t = mono();
        int rc = encio_open(key, &in, &out);
        open_s = mono() - t;
        if (rc < 0) {
            fprintf(stderr, "fake_agents: '%s' does not decrypt\n", path);
            return 1;
        }
        if (rc == 0) {
            free(data);
            data = xmalloc(out.len + 1);
            memcpy(data, out.base, out.len);
            data[out.len] = '\0';
            len = out.len;
            raft_free(out.base);
        }
    }
    struct store *s = store_new();
    double t0 = mono();
    if (store_restore(s, data, len, &err) < 0) {
        fprintf(stderr, "fake_agents: restore '%s': %s\n", path, err.msg);
        return 1;
    }
    double t1 = mono();
    struct buf b;
    buf_init(&b);
    store_snapshot(s, &b);
    double t2 = mono();
    printf("{\"snapshot_file\": \"%s\", \"bytes\": %zu, \"tasks\": %zu, "
           "\"nodes\": %zu, \"decrypt_s\": %.6f, \"restore_s\": %.6f, "
           "\"snapshot_s\": %.6f, \"snapshot_bytes\": %zu}\n",
           path, len, store_count(s, KIND_TASK), store_count(s, KIND_NODE),
           open_s, t1 - t0, t2 - t1, b.len);
    buf_fini(&b);
    store_free(s);
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: fake_agents --manager HOST:PORT --token TOKEN [--nodes N]\n"
            "                   [--addr ADDR] [--join-parallel J]\n"
            "                   [--flush-ms MS] [--heartbeat-ms MS]\n"
            "                   [--expect TASKS]\n"
            "       fake_agents --snapshot-time FILE [--data-key FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"manager", required_argument, NULL, 'm'},
        {"token", required_argument, NULL, 't'},
        {"nodes", required_argument, NULL, 'n'},
        {"addr", required_argument, NULL, 'a'},
        {"join-parallel", required_argument, NULL, 'j'},
        {"flush-ms", required_argument, NULL, 'f'},
        {"heartbeat-ms", required_argument, NULL, 'h'},
        {"expect", required_argument, NULL, 'e'},
        {"snapshot-time", required_argument, NULL, 's'},
        {"data-key", required_argument, NULL, 'k'},
        {"log-level", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct fleet f = {
        .n = 10,
        .join_parallel = 16,
        .flush_ms = 100,
        .period_ms = 5000,
        .addr = "10.99.0.1",
    };
    const char *snap = NULL, *key = NULL;
    int level = LOG_WARN;
    int o;
    mem_install_allocators();
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'm':
            f.manager = optarg;
            break;
        case 't':
            f.token = optarg;
            break;
        case 'n':
            f.n = atoi(optarg);
            break;
        case 'a':
            f.addr = optarg;
            break;
        case 'j':
            f.join_parallel = atoi(optarg);
            break;
        case 'f':
            f.flush_ms = atoi(optarg);
            break;
        case 'h':
            f.period_ms = atol(optarg);
            break;
        case 'e':
            f.expect = atol(optarg);
            break;
        case 's':
            snap = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'l':
            level = log_level_parse(optarg);
            break;
        default:
            usage();
        }
    }
    log_set_level(level < 0 ? LOG_WARN : (enum log_level)level);
    log_set_prefix("fake_agents");
    if (snap)
        return snapshot_time(snap, key);
    if (!f.manager || !f.token || f.n <= 0 || f.join_parallel <= 0)
        usage();
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)getpid());
    char digest[51], secret[26];
    struct err err = {0};
    if (pki_token_parse(f.token, digest, secret, &err) < 0 ||
        !(f.join_ctx = pki_ctx_join_client(digest, &err))) {
        fprintf(stderr, "fake_agents: %s\n", err.msg);
        return 1;
    }
    f.loop = uv_default_loop();
    f.nodes = xcalloc((size_t)f.n, sizeof(*f.nodes));
    for (int i = 0; i < f.n; i++) {
        f.nodes[i].f = &f;
        f.nodes[i].idx = i;
        vec_init(&f.nodes[i].outbox);
        vec_init(&f.nodes[i].inflight);
    }
    hmap_init(&f.node_by_id);
    hmap_init(&f.tasks);
    uv_timer_init(f.loop, &f.tick);
    f.tick.data = &f;
    uv_timer_start(&f.tick, tick, 0, TICK_MS);
    uv_signal_init(f.loop, &f.sigint);
    uv_signal_init(f.loop, &f.sigterm);
    f.sigint.data = f.sigterm.data = &f;
    uv_signal_start(&f.sigint, on_signal, SIGINT);
    uv_signal_start(&f.sigterm, on_signal, SIGTERM);
    event("start", f.n);
    uv_run(f.loop, UV_RUN_DEFAULT);
    return 0;
}
