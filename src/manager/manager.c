// SPDX-License-Identifier: Apache-2.0
// The leader's reconcile loop. Store events mark what needs attention
// (services, new tasks, pending tasks); a pass on the next loop turn turns
// that into one transaction. Only one proposal is in flight at a time, so a
// pass always sees the effects of the previous one and never decides the
// same thing twice.
#include "manager/manager.h"

#include <stdlib.h>
#include <string.h>

#include "base/hmap.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "manager/allocator.h"
#include "manager/constraint.h"
#include "manager/orchestrator.h"
#include "manager/scheduler.h"
#include "store/txn.h"

/* Bound on operations per transaction, so one entry stays reasonable. */
#define MAX_OPS_PER_PASS 20000

struct manager {
    uv_loop_t *loop;
    struct store *store;
    struct raftnode *raft;
    struct store_watch *watch;
    uv_timer_t pass_timer;
    uv_timer_t wake_timer;
    bool running;
    bool in_flight;
    bool all_dirty;             /* rescan everything on the next pass */
    uint64_t generation;        /* bumped on stop: stale callbacks ignored */
    struct hmap dirty_services; /* owned id -> same pointer */
    struct hmap wake_services;  /* owned id -> same pointer */
    struct hmap new_tasks;      /* task id (borrowed) -> task */
    struct hmap pending_tasks;  /* task id (borrowed) -> task */
    int64_t wake_at;
    struct allocator alloc;
    unsigned long passes;
    int closing;
    void (*close_cb)(void *);
    void *close_data;
};

struct proposal_ctx {
    struct manager *m;
    uint64_t generation;
};

/* ---- owned string sets ---- */

static void set_add(struct hmap *set, const char *key)
{
    if (hmap_get(set, key))
        return;
    char *k = xstrdup(key);
    hmap_put(set, k, k);
}

static void set_clear(struct hmap *set)
{
    size_t it = 0;
    void *v;
    while (hmap_next(set, &it, NULL, &v))
        free(v);
    hmap_fini(set);
    hmap_init(set);
}

/* ---- scheduling of passes ---- */

static void pass_cb(uv_timer_t *t);

static void request_pass(struct manager *m)
{
    if (m->running && !m->in_flight && !m->closing &&
        !uv_is_active((uv_handle_t *)&m->pass_timer))
        uv_timer_start(&m->pass_timer, pass_cb, 0, 0);
}

static void track_task(struct manager *m, struct task *t, bool deleted)
{
    if (deleted || t->state != TASK_NEW || t->desired > TASK_RUNNING)
        hmap_del(&m->new_tasks, t->meta.id);
    else
        hmap_put(&m->new_tasks, t->meta.id, t);
    if (deleted || t->state != TASK_PENDING || t->desired > TASK_RUNNING)
        hmap_del(&m->pending_tasks, t->meta.id);
    else
        hmap_put(&m->pending_tasks, t->meta.id, t);
}

static void on_store_event(void *data, const struct store_event *ev)
{
    struct manager *m = data;
    if (!m->running)
        return;
    allocator_on_event(&m->alloc, m->store, ev);
    switch (ev->kind) {
    case KIND_SERVICE:
        set_add(&m->dirty_services, ((struct service *)ev->obj)->meta.id);
        break;
    case KIND_TASK: {
        struct task *t = ev->obj;
        track_task(m, t, ev->action == STORE_DELETE);
        if (ev->action != STORE_UPDATE || ev->old_state != t->state ||
            ev->old_desired != t->desired)
            set_add(&m->dirty_services, t->service_id);
        break;
    }
    case KIND_NODE: {
        /* Placement may change, and tasks on a node that went down need
         * replacing. */
        struct node *n = ev->obj;
        const struct vec *tasks = store_node_tasks(m->store, n->meta.id);
        for (size_t i = 0; tasks && i < tasks->len; i++)
            set_add(&m->dirty_services,
                    ((struct task *)tasks->items[i])->service_id);
        /* A global service follows every node that joins, leaves or
         * changes. */
        size_t it = 0;
        void *o;
        while (store_next(m->store, KIND_SERVICE, &it, &o))
            if (service_is_global(o))
                set_add(&m->dirty_services, ((struct service *)o)->meta.id);
        break;
    }
    default:
        m->all_dirty = true;
        break;
    }
    request_pass(m);
}

static void rescan(struct manager *m)
{
    hmap_fini(&m->new_tasks);
    hmap_init(&m->new_tasks);
    hmap_fini(&m->pending_tasks);
    hmap_init(&m->pending_tasks);
    size_t it = 0;
    void *o;
    while (store_next(m->store, KIND_SERVICE, &it, &o))
        set_add(&m->dirty_services, ((struct service *)o)->meta.id);
    struct vec orphans;
    vec_init(&orphans);
    store_orphan_service_ids(m->store, &orphans);
    for (size_t i = 0; i < orphans.len; i++)
        set_add(&m->dirty_services, orphans.items[i]);
    vec_fini(&orphans);
    it = 0;
    while (store_next(m->store, KIND_TASK, &it, &o))
        track_task(m, o, false);
    m->all_dirty = false;
}

/* ---- the pass ---- */

/* A node whose tasks count as lost: down, removed, or drained (its tasks
 * are replaced elsewhere and shut down there). */
static bool node_is_down(void *data, const char *node_id)
{
    struct manager *m = data;
    struct node *n = store_node(m->store, node_id);
    const char *avail = n ? jx_str(n->spec, "Availability") : NULL;
    return !n || n->state == NODE_DOWN ||
           (avail && strcmp(avail, "drain") == 0);
}

/* A task the orchestrator is creating is allocated and placed in the same
 * pass: one commit instead of three (new, pending, assigned). */
struct placer {
    struct manager *m;
    struct scheduler sc; /* built on first use: it walks every node's tasks */
    bool ready;
};

static struct scheduler *placer_sched(struct placer *p)
{
    if (!p->ready) {
        sched_init(&p->sc, p->m->store);
        p->ready = true;
    }
    return &p->sc;
}

static void place_new_task(void *data, struct task *t)
{
    struct placer *p = data;
    struct err err = {0};
    json_t *nets = allocator_task(&p->m->alloc, p->m->store, t, &err);
    if (!nets)
        return; /* stays new: the allocate step retries and explains */
    if (json_array_size(nets))
        t->networks = nets;
    else
        json_decref(nets);
    if (t->node_id[0]) { /* a global service's task: its node is given */
        t->state = TASK_ASSIGNED;
        free(t->message);
        t->message = xstrdup("scheduler assigned task to node");
        return;
    }
    char reason[256];
    const char *node = sched_place(placer_sched(p), t, reason, sizeof(reason));
    free(t->message);
    if (node) {
        snprintf(t->node_id, sizeof(t->node_id), "%s", node);
        t->state = TASK_ASSIGNED;
        t->message = xstrdup("scheduler assigned task to node");
    } else {
        t->state = TASK_PENDING;
        t->message = xstrdup("pending task scheduling");
        t->error = xstrdup(reason);
    }
}

/* The nodes a global service runs on: ready, active, and matching its
 * placement constraints. */
static void global_nodes(struct manager *m, const struct service *s,
                         struct vec *out)
{
    const json_t *constraints = jx_path(s->task_spec, "Placement.Constraints");
    size_t it = 0;
    void *o;
    while (store_next(m->store, KIND_NODE, &it, &o)) {
        struct node *n = o;
        const char *avail = jx_str(n->spec, "Availability");
        if (n->state != NODE_READY || (avail && strcmp(avail, "active") != 0))
            continue;
        if (constraints && !constraints_match(constraints, n))
            continue;
        vec_push(out, n->meta.id);
    }
}

static void orchestrate(struct manager *m, struct placer *placer,
                        struct txn *txn)
{
    int history = 5;
    struct cluster *c = store_cluster(m->store);
    if (c)
        history = (int)jx_path_int(
            c->spec, "Orchestration.TaskHistoryRetentionLimit", 5);
    int64_t now = time_now_ns();
    struct hmap dirty = m->dirty_services;
    hmap_init(&m->dirty_services);
    size_t it = 0;
    void *v;
    while (hmap_next(&dirty, &it, NULL, &v)) {
        const char *sid = v;
        if (txn_size(txn) >= MAX_OPS_PER_PASS) {
            set_add(&m->dirty_services, sid); /* next pass */
            continue;
        }
        struct service *s = store_service(m->store, sid);
        const struct vec *tasks = store_service_tasks(m->store, sid);
        if (!s && !tasks)
            continue;
        struct orch_input in = {
            .service = s,
            .tasks = tasks ? (struct task *const *)tasks->items : NULL,
            .n_tasks = tasks ? tasks->len : 0,
            .now = now,
            .history_limit = history,
            .node_is_down = node_is_down,
            .node_data = m,
        };
        struct vec nodes;
        vec_init(&nodes);
        if (s && service_is_global(s)) {
            global_nodes(m, s, &nodes);
            in.nodes = (const char *const *)nodes.items;
            in.n_nodes = nodes.len;
        }
        struct orch_plan plan;
        orch_plan_init(&plan);
        orch_reconcile(&in, &plan);
        orch_plan_to_txn(&plan, s, txn, place_new_task, placer);
        if (plan.wake_at) {
            set_add(&m->wake_services, sid);
            if (!m->wake_at || plan.wake_at < m->wake_at)
                m->wake_at = plan.wake_at;
        }
        orch_plan_fini(&plan);
        vec_fini(&nodes);
    }
    set_clear(&dirty);
}

/* New tasks get their network attachments and become pending. */
static void allocate(struct manager *m, struct txn *txn)
{
    size_t it = 0;
    void *v;
    while (hmap_next(&m->new_tasks, &it, NULL, &v) &&
           txn_size(txn) < MAX_OPS_PER_PASS) {
        struct task *t = v;
        struct err err = {0};
        json_t *nets = allocator_task(&m->alloc, m->store, t, &err);
        if (!nets) {
            log_warn("manager: task %s: %s", t->meta.id, err.msg);
            continue;
        }
        txn_task_allocate(txn, t->meta.id, nets);
        json_decref(nets);
    }
}

static void schedule(struct manager *m, struct placer *p, struct txn *txn)
{
    if (!hmap_count(&m->pending_tasks))
        return;
    size_t it = 0;
    void *v;
    char reason[256];
    while (hmap_next(&m->pending_tasks, &it, NULL, &v) &&
           txn_size(txn) < MAX_OPS_PER_PASS) {
        struct task *t = v;
        const char *node =
            sched_place(placer_sched(p), t, reason, sizeof(reason));
        if (node)
            txn_task_assign(txn, t->meta.id, node);
        else if (!t->error || strcmp(t->error, reason) != 0)
            txn_task_status(txn, t->meta.id, TASK_PENDING,
                            "pending task scheduling", reason, NULL, 0, -1);
    }
}

static void wake_cb(uv_timer_t *t)
{
    struct manager *m = t->data;
    size_t it = 0;
    void *v;
    while (hmap_next(&m->wake_services, &it, NULL, &v))
        set_add(&m->dirty_services, v);
    set_clear(&m->wake_services);
    m->wake_at = 0;
    request_pass(m);
}

static void arm_wake(struct manager *m)
{
    if (!m->wake_at)
        return;
    int64_t delay_ms = (m->wake_at - time_now_ns()) / NS_PER_MS + 1;
    uv_timer_start(&m->wake_timer, wake_cb,
                   (uint64_t)(delay_ms > 0 ? delay_ms : 0), 0);
}

static void committed(void *data, const struct err *err, uint64_t index)
{
    struct proposal_ctx *ctx = data;
    struct manager *m = ctx->m;
    bool current = ctx->generation == m->generation;
    free(ctx);
    if (!current)
        return;
    m->in_flight = false;
    if (err)
        log_debug("manager: pass at %llu partly skipped: %s",
                  (unsigned long long)index, err->msg);
    request_pass(m);
}

static void pass_cb(uv_timer_t *timer)
{
    struct manager *m = timer->data;
    if (!m->running || m->in_flight)
        return;
    if (m->all_dirty)
        rescan(m);
    struct txn txn;
    txn_init(&txn);
    m->wake_at = 0;
    struct placer placer = {.m = m};
    orchestrate(m, &placer, &txn);
    allocate(m, &txn);
    schedule(m, &placer, &txn);
    if (placer.ready)
        sched_fini(&placer.sc);
    arm_wake(m);
    if (txn_size(&txn) == 0) {
        txn_fini(&txn);
        return;
    }
    size_t len;
    char *data = txn_encode(&txn, &len);
    txn_fini(&txn);
    struct proposal_ctx *ctx = xcalloc(1, sizeof(*ctx));
    ctx->m = m;
    ctx->generation = m->generation;
    struct err err = {0};
    if (raftnode_propose(m->raft, data, len, committed, ctx, &err) < 0) {
        log_warn("manager: %s", err.msg);
        free(ctx);
        m->all_dirty = true;
    } else {
        m->in_flight = true;
        m->passes++;
        log_debug("manager: pass %lu proposed (%zu bytes)", m->passes, len);
    }
    free(data);
}

/* ---- lifecycle ---- */

struct manager *manager_new(uv_loop_t *loop, struct store *store,
                            struct raftnode *raft)
{
    struct manager *m = xcalloc(1, sizeof(*m));
    m->loop = loop;
    m->store = store;
    m->raft = raft;
    hmap_init(&m->dirty_services);
    hmap_init(&m->wake_services);
    hmap_init(&m->new_tasks);
    hmap_init(&m->pending_tasks);
    uv_timer_init(loop, &m->pass_timer);
    uv_timer_init(loop, &m->wake_timer);
    m->pass_timer.data = m;
    m->wake_timer.data = m;
    allocator_init(&m->alloc);
    m->watch = store_watch(store, on_store_event, m);
    return m;
}

void manager_start(struct manager *m)
{
    if (m->running)
        return;
    m->running = true;
    m->in_flight = false;
    m->all_dirty = true;
    allocator_rebuild(&m->alloc, m->store);
    log_info("manager: controllers started");
    request_pass(m);
}

void manager_stop(struct manager *m)
{
    if (!m->running)
        return;
    m->running = false;
    m->in_flight = false;
    m->generation++;
    uv_timer_stop(&m->pass_timer);
    uv_timer_stop(&m->wake_timer);
    set_clear(&m->dirty_services);
    set_clear(&m->wake_services);
    log_info("manager: controllers stopped");
}

struct allocator *manager_allocator(struct manager *m)
{
    return m && m->running ? &m->alloc : NULL;
}

unsigned long manager_passes(const struct manager *m)
{
    return m->passes;
}

static void closed_cb(uv_handle_t *h)
{
    struct manager *m = h->data;
    if (--m->closing > 0)
        return;
    void (*cb)(void *) = m->close_cb;
    void *data = m->close_data;
    set_clear(&m->dirty_services);
    set_clear(&m->wake_services);
    hmap_fini(&m->new_tasks);
    hmap_fini(&m->pending_tasks);
    allocator_fini(&m->alloc);
    free(m);
    if (cb)
        cb(data);
}

void manager_close(struct manager *m, void (*cb)(void *), void *data)
{
    manager_stop(m);
    store_unwatch(m->store, m->watch);
    m->close_cb = cb;
    m->close_data = data;
    m->closing = 2;
    uv_close((uv_handle_t *)&m->pass_timer, closed_cb);
    uv_close((uv_handle_t *)&m->wake_timer, closed_cb);
}
