// SPDX-License-Identifier: Apache-2.0
// Orchestrator tests: a real store, the pure reconcile function, a fake
// clock and a fake agent that runs whatever it is given. Covers the seed's
// two-step reconciliation example, scale up/down, restart policies, rolling
// replacement, history and removal, global services following their
// nodes, and replicated and global jobs.
#include "harness.h"

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "manager/orchestrator.h"
#include "store/store.h"
#include "store/txn.h"

struct world {
    struct store *s;
    uint64_t index;
    int64_t now;
    char node[ID_LEN + 1];
    /* A global service's eligible nodes (what the manager would pass). */
    const char *const *nodes;
    size_t n_nodes;
};

static void commit(struct world *w, struct txn *t)
{
    t->ts = w->now;
    size_t len;
    _cleanup_free_ char *data = txn_encode(t, &len);
    store_apply(w->s, ++w->index, data, len, NULL);
    txn_fini(t);
}

static void world_init(struct world *w)
{
    memset(w, 0, sizeof(*w));
    w->s = store_new();
    w->now = 1700000000LL * NS_PER_SEC;
    id_new(w->node);
}

static char *service_new_named(struct world *w, const char *name, int replicas,
                               const char *condition, int64_t delay,
                               int max_attempts)
{
    json_t *spec = json_pack("{s:s, s:{s:{s:s}}, s:{s:{s:i}}}", "Name", name,
                             "TaskTemplate", "ContainerSpec", "Image", "bb",
                             "Mode", "Replicated", "Replicas", replicas);
    json_t *rp = json_object();
    if (condition)
        json_object_set_new(rp, "Condition", json_string(condition));
    json_object_set_new(rp, "Delay", json_integer(delay));
    if (max_attempts)
        json_object_set_new(rp, "MaxAttempts", json_integer(max_attempts));
    jx_set_path(spec, "TaskTemplate.RestartPolicy", rp);
    char id[ID_LEN + 1];
    id_new(id);
    struct txn t;
    txn_init(&t);
    txn_service_create(&t, id, spec, NULL);
    json_decref(spec);
    commit(w, &t);
    return xstrdup(id);
}

static void set_replicas(struct world *w, const char *sid, int replicas)
{
    struct service *s = store_service(w->s, sid);
    json_t *spec = jx_copy(s->spec);
    jx_set_path(spec, "Mode.Replicated.Replicas", json_integer(replicas));
    struct txn t;
    txn_init(&t);
    txn_service_update(&t, sid, 0, spec, false, NULL);
    json_decref(spec);
    commit(w, &t);
}

/* One orchestrator pass; returns the number of actions. */
static size_t reconcile(struct world *w, const char *sid, int64_t *wake)
{
    const struct vec *tasks = store_service_tasks(w->s, sid);
    struct orch_input in = {
        .service = store_service(w->s, sid),
        .tasks = tasks ? (struct task *const *)tasks->items : NULL,
        .n_tasks = tasks ? tasks->len : 0,
        .now = w->now,
        .history_limit = 5,
        .nodes = w->nodes,
        .n_nodes = w->n_nodes,
    };
    struct orch_plan p;
    orch_plan_init(&p);
    orch_reconcile(&in, &p);
    size_t n = p.n + (p.update != ORCH_UPDATE_NONE);
    if (wake)
        *wake = p.wake_at;
    if (n) {
        struct txn t;
        txn_init(&t);
        orch_plan_to_txn(&p, in.service, &t, NULL, NULL);
        commit(w, &t);
    }
    orch_plan_fini(&p);
    return n;
}

/* One step of a fake agent: new tasks go pending, pending ones are
 * assigned, and act moves each assigned one. Returns the number of
 * changes. */
static size_t fake_agent_step(struct world *w,
                              void (*act)(struct txn *t,
                                          const struct task *task))
{
    struct txn t;
    txn_init(&t);
    size_t it = 0;
    void *o;
    while (store_next(w->s, KIND_TASK, &it, &o)) {
        struct task *task = o;
        if (task_state_is_terminal(task->state))
            continue;
        if (task->state == TASK_NEW)
            txn_task_status(&t, task->meta.id, TASK_PENDING, "pending", NULL,
                            NULL, 0, -1);
        else if (task->state < TASK_ASSIGNED)
            txn_task_assign(&t, task->meta.id,
                            task->node_id[0] ? task->node_id : w->node);
        else
            act(&t, task);
    }
    size_t n = txn_size(&t);
    if (n)
        commit(w, &t);
    else
        txn_fini(&t);
    return n;
}

/* Every task moves as far as its desired state allows. */
static void run_as_desired(struct txn *t, const struct task *task)
{
    if (task->desired > TASK_RUNNING)
        txn_task_status(t, task->meta.id, TASK_SHUTDOWN, "shutdown", NULL, NULL,
                        0, 0);
    else if (task->desired == TASK_READY && task->state < TASK_READY)
        txn_task_status(t, task->meta.id, TASK_READY, "ready", NULL, NULL, 0,
                        -1);
    else if (task->desired == TASK_RUNNING && task->state < TASK_RUNNING)
        txn_task_status(t, task->meta.id, TASK_RUNNING, "started", NULL, NULL,
                        100, -1);
}

static size_t agent_step(struct world *w)
{
    return fake_agent_step(w, run_as_desired);
}

static void settle(struct world *w, const char *const *sids, size_t n)
{
    for (int round = 0; round < 50; round++) {
        size_t changes = agent_step(w);
        for (size_t i = 0; i < n; i++)
            changes += reconcile(w, sids[i], NULL);
        if (!changes)
            return;
    }
    CHECK(!"world did not settle");
}

static int running(struct world *w, const char *sid)
{
    const struct vec *v = store_service_tasks(w->s, sid);
    int n = 0;
    for (size_t i = 0; v && i < v->len; i++) {
        struct task *t = v->items[i];
        n += t->state == TASK_RUNNING && t->desired == TASK_RUNNING;
    }
    return n;
}

static size_t task_count(struct world *w, const char *sid)
{
    const struct vec *v = store_service_tasks(w->s, sid);
    return v ? v->len : 0;
}

static struct task *running_in_slot(struct world *w, const char *sid, int slot)
{
    const struct vec *v = store_service_tasks(w->s, sid);
    for (size_t i = 0; v && i < v->len; i++) {
        struct task *t = v->items[i];
        if (t->slot == slot && t->state == TASK_RUNNING)
            return t;
    }
    return NULL;
}

static void exit_task(struct world *w, struct task *t, int code)
{
    struct txn x;
    txn_init(&x);
    txn_task_status(&x, t->meta.id, code ? TASK_FAILED : TASK_COMPLETE,
                    code ? "failed" : "finished",
                    code ? "task: non-zero exit (1)" : NULL, NULL, 0, code);
    commit(w, &x);
}

/* The update's monitor window (default 5 s) passes: it completes. */
static void pass_monitor(struct world *w, const char *sid)
{
    w->now += 6 * NS_PER_SEC;
    reconcile(w, sid, NULL);
}

static void update_spec(struct world *w, const char *sid, const char *path,
                        json_t *value)
{
    struct service *s = store_service(w->s, sid);
    json_t *spec = jx_copy(s->spec);
    jx_set_path(spec, path, value);
    struct txn t;
    txn_init(&t);
    txn_service_update(&t, sid, 0, spec, false, NULL);
    json_decref(spec);
    commit(w, &t);
}

/* The seed's two-step example. */
static void test_seed_two_steps(void)
{
    struct world w;
    world_init(&w);
    char *s1 = service_new_named(&w, "service1", 3, NULL, 0, 0);
    char *s2 = service_new_named(&w, "service2", 2, NULL, 0, 0);
    const char *both[] = {s1, s2};
    settle(&w, both, 2);
    CHECK_INT(running(&w, s1), 3);
    CHECK_INT(running(&w, s2), 2);

    set_replicas(&w, s1, 1);
    set_replicas(&w, s2, 4);
    settle(&w, both, 2);
    CHECK_INT(running(&w, s1), 1);
    CHECK_INT(running(&w, s2), 4);
    /* Scale-down removed slots 2 and 3 entirely (highest first). */
    CHECK_INT(task_count(&w, s1), 1);
    CHECK(running_in_slot(&w, s1, 1) != NULL);

    set_replicas(&w, s1, 2);
    set_replicas(&w, s2, 0);
    settle(&w, both, 2);
    CHECK_INT(running(&w, s1), 2);
    CHECK_INT(running(&w, s2), 0);
    CHECK_INT(task_count(&w, s2), 0);
    free(s1);
    free(s2);
    store_free(w.s);
}

static void test_restart_any_with_delay(void)
{
    struct world w;
    world_init(&w);
    char *sid = service_new_named(&w, "web", 1, NULL, 5 * NS_PER_SEC, 0);
    const char *one[] = {sid};
    settle(&w, one, 1);
    struct task *first = running_in_slot(&w, sid, 1);
    CHECK(first != NULL);
    char first_id[ID_LEN + 1];
    memcpy(first_id, first->meta.id, sizeof(first_id));
    exit_task(&w, first, 0);
    settle(&w, one, 1);
    /* Replacement prepared (ready), not started before the delay. */
    CHECK_INT(running(&w, sid), 0);
    CHECK_INT(task_count(&w, sid), 2);
    int64_t wake = 0;
    reconcile(&w, sid, &wake);
    CHECK_INT(wake, w.now - 0 + 5 * NS_PER_SEC);
    w.now += 5 * NS_PER_SEC;
    settle(&w, one, 1);
    CHECK_INT(running(&w, sid), 1);
    struct task *second = running_in_slot(&w, sid, 1);
    CHECK(second && strcmp(second->meta.id, first_id) != 0);
    CHECK_INT(store_task(w.s, first_id)->desired, TASK_SHUTDOWN);
    free(sid);
    store_free(w.s);
}

/* An image no registry has: every assigned task is rejected while it is
 * prepared. */
static void reject(struct txn *t, const struct task *task)
{
    txn_task_status(t, task->meta.id, TASK_REJECTED, "preparing",
                    "no such image", NULL, 0, -1);
}

static size_t reject_step(struct world *w)
{
    return fake_agent_step(w, reject);
}

static int newest_restart_count(struct world *w, const char *sid)
{
    const struct vec *v = store_service_tasks(w->s, sid);
    int most = -1;
    for (size_t i = 0; v && i < v->len; i++) {
        struct task *t = v->items[i];
        if (t->restart_count > most)
            most = t->restart_count;
    }
    return most;
}

/* Replacements rejected while they wait out their delay are retried once
 * per delay, not in a tight loop. */
static void test_rejected_retried_once_per_delay(void)
{
    struct world w;
    world_init(&w);
    char *sid = service_new_named(&w, "bad", 1, NULL, 5 * NS_PER_SEC, 0);
    int64_t wake = 0;
    for (int round = 0; round < 20; round++) {
        reject_step(&w);
        reconcile(&w, sid, &wake);
    }
    /* The first task, then one replacement at once: no third yet. */
    CHECK_INT(newest_restart_count(&w, sid), 1);
    CHECK_INT(task_count(&w, sid), 2);
    CHECK(wake > w.now && wake <= w.now + 5 * NS_PER_SEC);
    w.now = wake;
    for (int round = 0; round < 20; round++) {
        reject_step(&w);
        reconcile(&w, sid, NULL);
    }
    CHECK_INT(newest_restart_count(&w, sid), 2);
    CHECK_INT(task_count(&w, sid), 3);
    free(sid);
    store_free(w.s);
}

static void test_restart_none_and_on_failure(void)
{
    struct world w;
    world_init(&w);
    char *none = service_new_named(&w, "none", 1, "none", 0, 0);
    char *onf = service_new_named(&w, "onf", 2, "on-failure", 0, 0);
    const char *both[] = {none, onf};
    settle(&w, both, 2);
    exit_task(&w, running_in_slot(&w, none, 1), 1);
    exit_task(&w, running_in_slot(&w, onf, 1), 0); /* success: stays */
    exit_task(&w, running_in_slot(&w, onf, 2), 1); /* failure: restart */
    settle(&w, both, 2);
    CHECK_INT(running(&w, none), 0);
    CHECK_INT(task_count(&w, none), 1);
    CHECK(running_in_slot(&w, onf, 1) == NULL);
    CHECK(running_in_slot(&w, onf, 2) != NULL);
    CHECK_INT(task_count(&w, onf), 3);
    /* Still quiet on later passes. */
    CHECK_INT(reconcile(&w, none, NULL), 0);
    CHECK_INT(reconcile(&w, onf, NULL), 0);
    free(none);
    free(onf);
    store_free(w.s);
}

static void test_max_attempts(void)
{
    struct world w;
    world_init(&w);
    char *sid = service_new_named(&w, "flaky", 1, "on-failure", 0, 2);
    const char *one[] = {sid};
    settle(&w, one, 1);
    for (int i = 0; i < 5; i++) {
        struct task *t = running_in_slot(&w, sid, 1);
        if (!t)
            break;
        exit_task(&w, t, 1);
        settle(&w, one, 1);
    }
    /* The first run plus two restarts. */
    CHECK_INT(task_count(&w, sid), 3);
    CHECK_INT(running(&w, sid), 0);
    free(sid);
    store_free(w.s);
}

static void test_rolling_update_and_history(void)
{
    struct world w;
    world_init(&w);
    char *sid = service_new_named(&w, "app", 3, NULL, 0, 0);
    const char *one[] = {sid};
    settle(&w, one, 1);
    for (int round = 0; round < 7; round++) {
        struct service *s = store_service(w.s, sid);
        json_t *spec = jx_copy(s->spec);
        jx_set_path(spec, "TaskTemplate.ForceUpdate", json_integer(round + 1));
        struct txn t;
        txn_init(&t);
        txn_service_update(&t, sid, 0, spec, false, NULL);
        json_decref(spec);
        commit(&w, &t);
        /* One slot at a time: never fewer than 2 running during it. */
        for (int step = 0; step < 60; step++) {
            size_t changes = agent_step(&w) + reconcile(&w, sid, NULL);
            CHECK(running(&w, sid) >= 2);
            if (!changes)
                break;
        }
        CHECK_INT(running(&w, sid), 3);
        CHECK_STR(jx_str(store_service(w.s, sid)->update_status, "State"),
                  "updating");
        pass_monitor(&w, sid);
        CHECK_STR(jx_str(store_service(w.s, sid)->update_status, "State"),
                  "completed");
    }
    struct service *s = store_service(w.s, sid);
    const struct vec *v = store_service_tasks(w.s, sid);
    for (size_t i = 0; i < v->len; i++) {
        struct task *t = v->items[i];
        if (t->state == TASK_RUNNING)
            CHECK_INT(t->spec_version, s->spec_version);
    }
    /* History bounded at 5 per slot. */
    CHECK_INT(task_count(&w, sid), 15);

    /* Removing the service removes every task. */
    struct txn t;
    txn_init(&t);
    txn_service_delete(&t, sid);
    commit(&w, &t);
    settle(&w, one, 1);
    CHECK_INT(task_count(&w, sid), 0);
    free(sid);
    store_free(w.s);
}

/* start-first: the replacement runs before the old task is stopped; an
 * update of a single replica is reported as updating, then completed. */
static void test_start_first(void)
{
    struct world w;
    world_init(&w);
    char *sid = service_new_named(&w, "one", 1, NULL, 0, 0);
    const char *one[] = {sid};
    settle(&w, one, 1);
    struct task *old = running_in_slot(&w, sid, 1);
    char old_id[ID_LEN + 1];
    memcpy(old_id, old->meta.id, sizeof(old_id));

    struct service *s = store_service(w.s, sid);
    json_t *spec = jx_copy(s->spec);
    jx_set_path(spec, "UpdateConfig.Order", json_string("start-first"));
    jx_set_path(spec, "TaskTemplate.ForceUpdate", json_integer(1));
    struct txn t;
    txn_init(&t);
    txn_service_update(&t, sid, 0, spec, false, NULL);
    json_decref(spec);
    commit(&w, &t);

    reconcile(&w, sid, NULL);
    CHECK_STR(jx_str(store_service(w.s, sid)->update_status, "State"),
              "updating");
    CHECK_INT(store_task(w.s, old_id)->desired, TASK_RUNNING);
    CHECK_INT(task_count(&w, sid), 2);
    /* Until the new task runs, the old one keeps running. */
    for (int step = 0; step < 20; step++) {
        bool new_running = false;
        const struct vec *v = store_service_tasks(w.s, sid);
        for (size_t i = 0; i < v->len; i++) {
            struct task *x = v->items[i];
            if (strcmp(x->meta.id, old_id) != 0 && x->state == TASK_RUNNING)
                new_running = true;
        }
        if (!new_running)
            CHECK_INT(store_task(w.s, old_id)->state, TASK_RUNNING);
        if (!agent_step(&w) + !reconcile(&w, sid, NULL) == 2)
            break;
    }
    CHECK_INT(store_task(w.s, old_id)->desired, TASK_SHUTDOWN);
    CHECK_INT(running(&w, sid), 1);
    pass_monitor(&w, sid);
    CHECK_STR(jx_str(store_service(w.s, sid)->update_status, "State"),
              "completed");
    free(sid);
    store_free(w.s);
}

static int running_on(struct world *w, const char *sid, const char *node)
{
    const struct vec *v = store_service_tasks(w->s, sid);
    int n = 0;
    for (size_t i = 0; v && i < v->len; i++) {
        struct task *t = v->items[i];
        n += t->state == TASK_RUNNING && t->desired == TASK_RUNNING &&
             strcmp(t->node_id, node) == 0;
    }
    return n;
}

/* A global service: one task per eligible node, following drains and
 * joins, restarted in place, updated node by node. */
static void test_global(void)
{
    struct world w;
    world_init(&w);
    const char *nodes[] = {
        "nodeaaaaaaaaaaaaaaaaaaaaa", "nodebbbbbbbbbbbbbbbbbbbbb",
        "nodeccccccccccccccccccccc", "nodeddddddddddddddddddddd"};
    w.nodes = nodes;
    w.n_nodes = 3;
    _cleanup_free_ char *sid = service_new_named(&w, "g", 1, NULL, 0, 0);
    struct service *s = store_service(w.s, sid);
    json_t *spec = jx_copy(s->spec);
    json_object_set_new(spec, "Mode", json_pack("{s:{}}", "Global"));
    struct txn t;
    txn_init(&t);
    txn_service_update(&t, sid, 0, spec, false, NULL);
    json_decref(spec);
    commit(&w, &t);
    const char *sids[] = {sid};
    settle(&w, sids, 1);
    CHECK_INT(running(&w, sid), 3);
    for (int i = 0; i < 3; i++)
        CHECK_INT(running_on(&w, sid, nodes[i]), 1);
    const struct vec *v = store_service_tasks(w.s, sid);
    for (size_t i = 0; i < v->len; i++)
        CHECK_INT(((struct task *)v->items[i])->slot, 0);

    /* Node b drained (no longer eligible), d joins. */
    const char *later[] = {nodes[0], nodes[2], nodes[3]};
    w.nodes = later;
    settle(&w, sids, 1);
    CHECK_INT(running(&w, sid), 3);
    CHECK_INT(running_on(&w, sid, nodes[1]), 0);
    CHECK_INT(running_on(&w, sid, nodes[3]), 1);

    /* A task that fails is replaced on its own node. */
    v = store_service_tasks(w.s, sid);
    struct task *on_a = NULL;
    for (size_t i = 0; i < v->len; i++) {
        struct task *x = v->items[i];
        if (!strcmp(x->node_id, nodes[0]) && x->state == TASK_RUNNING)
            on_a = x;
    }
    CHECK(on_a != NULL);
    char old_id[ID_LEN + 1];
    snprintf(old_id, sizeof(old_id), "%s", on_a->meta.id);
    exit_task(&w, on_a, 1);
    settle(&w, sids, 1);
    CHECK_INT(running_on(&w, sid, nodes[0]), 1);
    CHECK(strcmp(store_task(w.s, old_id)->meta.id, old_id) == 0);
    CHECK(store_task(w.s, old_id)->state == TASK_FAILED);

    /* An update replaces every node's task with one of the new spec. */
    s = store_service(w.s, sid);
    spec = jx_copy(s->spec);
    jx_set_path(spec, "TaskTemplate.ContainerSpec.Image", json_string("v2"));
    txn_init(&t);
    txn_service_update(&t, sid, 0, spec, false, NULL);
    json_decref(spec);
    commit(&w, &t);
    settle(&w, sids, 1);
    s = store_service(w.s, sid);
    v = store_service_tasks(w.s, sid);
    int current = 0;
    for (size_t i = 0; i < v->len; i++) {
        struct task *x = v->items[i];
        if (x->state == TASK_RUNNING && x->desired == TASK_RUNNING) {
            CHECK(x->spec_version == s->spec_version);
            current++;
        }
    }
    CHECK_INT(current, 3);
    store_free(w.s);
}

static void set_mode(struct world *w, const char *sid, json_t *mode)
{
    struct service *s = store_service(w->s, sid);
    json_t *spec = jx_copy(s->spec);
    json_object_set_new(spec, "Mode", mode);
    struct txn t;
    txn_init(&t);
    txn_service_update(&t, sid, 0, spec, false, NULL);
    json_decref(spec);
    commit(w, &t);
}

/* Tasks of the service's current iteration in the given state. */
static int in_state(struct world *w, const char *sid, enum task_state st)
{
    struct service *s = store_service(w->s, sid);
    const struct vec *v = store_service_tasks(w->s, sid);
    int n = 0;
    for (size_t i = 0; v && i < v->len; i++) {
        struct task *t = v->items[i];
        n += t->state == st && t->spec_version == s->spec_version;
    }
    return n;
}

/* Finishes every running task (the first one ever fails once). */
static void finish_running(struct world *w, const char *sid, bool *failed_one)
{
    const struct vec *v = store_service_tasks(w->s, sid);
    struct task *run[16];
    size_t n = 0;
    for (size_t i = 0; v && i < v->len && n < 16; i++) {
        struct task *t = v->items[i];
        if (t->state == TASK_RUNNING)
            run[n++] = t;
    }
    for (size_t i = 0; i < n; i++) {
        exit_task(w, run[i], *failed_one ? 0 : 1);
        *failed_one = true;
    }
}

/* A replicated job: 5 completions, at most 2 at a time, a failed task
 * retried, nothing restarted once complete; an update is a new run. */
static void test_replicated_job(void)
{
    struct world w;
    world_init(&w);
    _cleanup_free_ char *sid =
        service_new_named(&w, "job", 1, "on-failure", 0, 0);
    set_mode(&w, sid,
             json_pack("{s:{s:i, s:i}}", "ReplicatedJob", "MaxConcurrent", 2,
                       "TotalCompletions", 5));
    const char *sids[] = {sid};
    bool failed_one = false;
    for (int round = 0; round < 10 && in_state(&w, sid, TASK_COMPLETE) < 5;
         round++) {
        settle(&w, sids, 1);
        CHECK(running(&w, sid) <= 2);
        CHECK(running(&w, sid) >= 1);
        finish_running(&w, sid, &failed_one);
    }
    settle(&w, sids, 1);
    CHECK_INT(in_state(&w, sid, TASK_COMPLETE), 5);
    CHECK_INT(in_state(&w, sid, TASK_FAILED), 1);
    CHECK_INT(running(&w, sid), 0);
    size_t total = task_count(&w, sid);
    CHECK_INT(reconcile(&w, sid, NULL), 0); /* done: quiet */
    CHECK_INT(task_count(&w, sid), total);

    /* A spec change (even without a new task template) runs it again. */
    set_mode(&w, sid,
             json_pack("{s:{s:i, s:i}}", "ReplicatedJob", "MaxConcurrent", 3,
                       "TotalCompletions", 3));
    settle(&w, sids, 1);
    CHECK_INT(running(&w, sid), 3);
    finish_running(&w, sid, &failed_one);
    settle(&w, sids, 1);
    CHECK_INT(in_state(&w, sid, TASK_COMPLETE), 3);
    CHECK_INT(running(&w, sid), 0);
    store_free(w.s);
}

/* A global job: one completion per eligible node, a new node runs it
 * too; with restart condition none a failure is final. */
static void test_global_job(void)
{
    struct world w;
    world_init(&w);
    const char *nodes[] = {"nodeaaaaaaaaaaaaaaaaaaaaa",
                           "nodebbbbbbbbbbbbbbbbbbbbb",
                           "nodeccccccccccccccccccccc"};
    w.nodes = nodes;
    w.n_nodes = 2;
    _cleanup_free_ char *sid = service_new_named(&w, "gj", 1, "none", 0, 0);
    set_mode(&w, sid, json_pack("{s:{}}", "GlobalJob"));
    const char *sids[] = {sid};
    settle(&w, sids, 1);
    CHECK_INT(running(&w, sid), 2);
    bool failed_one = false;
    finish_running(&w, sid, &failed_one); /* one fails, one completes */
    settle(&w, sids, 1);
    CHECK_INT(running(&w, sid), 0);
    CHECK_INT(in_state(&w, sid, TASK_COMPLETE), 1);
    CHECK_INT(in_state(&w, sid, TASK_FAILED), 1);
    w.n_nodes = 3;
    settle(&w, sids, 1);
    CHECK_INT(running(&w, sid), 1);
    CHECK_INT(running_on(&w, sid, nodes[2]), 1);
    finish_running(&w, sid, &failed_one);
    settle(&w, sids, 1);
    CHECK_INT(in_state(&w, sid, TASK_COMPLETE), 2);
    CHECK_INT(running(&w, sid), 0);
    store_free(w.s);
}

/* Fails every task of the service's current spec that runs. */
static int fail_current(struct world *w, const char *sid)
{
    struct service *s = store_service(w->s, sid);
    const struct vec *v = store_service_tasks(w->s, sid);
    struct task *run[16];
    int n = 0;
    for (size_t i = 0; v && i < v->len && n < 16; i++) {
        struct task *t = v->items[i];
        if (t->state == TASK_RUNNING && t->spec_version == s->spec_version)
            run[n++] = t;
    }
    for (int i = 0; i < n; i++)
        exit_task(w, run[i], 1);
    return n;
}

/* Steps until a task of the current spec runs. */
static void run_until_one_current(struct world *w, const char *sid)
{
    for (int i = 0; i < 20; i++) {
        struct service *s = store_service(w->s, sid);
        const struct vec *v = store_service_tasks(w->s, sid);
        for (size_t k = 0; v && k < v->len; k++) {
            struct task *t = v->items[k];
            if (t->state == TASK_RUNNING && t->spec_version == s->spec_version)
                return;
        }
        reconcile(w, sid, NULL);
        agent_step(w);
    }
    CHECK(!"no task of the current spec ran");
}

static const char *image_of_running(struct world *w, const char *sid)
{
    const struct vec *v = store_service_tasks(w->s, sid);
    const char *img = NULL;
    for (size_t i = 0; v && i < v->len; i++) {
        struct task *t = v->items[i];
        if (t->state == TASK_RUNNING && t->desired == TASK_RUNNING) {
            const char *x = jx_path_str(t->spec, "ContainerSpec.Image");
            if (img && strcmp(img, x) != 0)
                return "mixed";
            img = x;
        }
    }
    return img;
}

/* A failing update with FailureAction rollback goes back to the previous
 * spec by itself, rollback_started then rollback_completed; with pause it
 * stops where it is, and the next update starts afresh. */
static void test_update_failure_actions(void)
{
    struct world w;
    world_init(&w);
    _cleanup_free_ char *sid = service_new_named(&w, "u", 3, NULL, 0, 0);
    const char *one[] = {sid};
    settle(&w, one, 1);
    update_spec(&w, sid, "UpdateConfig.FailureAction", json_string("rollback"));
    pass_monitor(&w, sid);
    update_spec(&w, sid, "TaskTemplate.ContainerSpec.Image", json_string("v2"));
    run_until_one_current(&w, sid);
    CHECK(fail_current(&w, sid) >= 1);
    reconcile(&w, sid, NULL);
    struct service *s = store_service(w.s, sid);
    CHECK_STR(jx_str(s->update_status, "State"), "rollback_started");
    CHECK(strstr(jx_str(s->update_status, "Message"), "rolled back") != NULL);
    CHECK_STR(jx_path_str(s->spec, "TaskTemplate.ContainerSpec.Image"), "bb");
    settle(&w, one, 1);
    CHECK_INT(running(&w, sid), 3);
    CHECK_STR(image_of_running(&w, sid), "bb");
    pass_monitor(&w, sid);
    CHECK_STR(jx_str(store_service(w.s, sid)->update_status, "State"),
              "rollback_completed");

    /* pause: the update stops after the failure and stays paused. */
    update_spec(&w, sid, "UpdateConfig.FailureAction", json_string("pause"));
    pass_monitor(&w, sid);
    update_spec(&w, sid, "TaskTemplate.ContainerSpec.Image", json_string("v3"));
    run_until_one_current(&w, sid);
    CHECK(fail_current(&w, sid) >= 1);
    settle(&w, one, 1);
    CHECK_STR(jx_str(store_service(w.s, sid)->update_status, "State"),
              "paused");
    CHECK_STR(image_of_running(&w, sid), "mixed"); /* it stopped midway */
    /* A new update clears the pause and rolls out. */
    update_spec(&w, sid, "TaskTemplate.ContainerSpec.Image", json_string("v4"));
    settle(&w, one, 1);
    CHECK_STR(image_of_running(&w, sid), "v4");
    pass_monitor(&w, sid);
    CHECK_STR(jx_str(store_service(w.s, sid)->update_status, "State"),
              "completed");
    store_free(w.s);
}

/* Delay: after a replacement is ready, the next waits `Delay`; with
 * parallelism 0 and no delay, every slot is replaced at once. */
static void test_update_delay_and_parallelism(void)
{
    struct world w;
    world_init(&w);
    _cleanup_free_ char *sid = service_new_named(&w, "d", 3, NULL, 0, 0);
    const char *one[] = {sid};
    settle(&w, one, 1);
    update_spec(&w, sid, "UpdateConfig.Delay", json_integer(10 * NS_PER_SEC));
    update_spec(&w, sid, "TaskTemplate.ContainerSpec.Image", json_string("v2"));
    int64_t wake = 0;
    for (int i = 0; i < 20; i++) {
        agent_step(&w);
        reconcile(&w, sid, &wake);
    }
    struct service *s = store_service(w.s, sid);
    int current = 0;
    const struct vec *v = store_service_tasks(w.s, sid);
    for (size_t i = 0; i < v->len; i++) {
        struct task *t = v->items[i];
        current +=
            t->state == TASK_RUNNING && t->spec_version == s->spec_version;
    }
    CHECK_INT(current, 1); /* the second waits for the delay */
    CHECK(wake > w.now && wake <= w.now + 10 * NS_PER_SEC);
    w.now += 11 * NS_PER_SEC;
    for (int i = 0; i < 20; i++) {
        agent_step(&w);
        reconcile(&w, sid, &wake);
    }
    current = 0;
    v = store_service_tasks(w.s, sid);
    for (size_t i = 0; i < v->len; i++) {
        struct task *t = v->items[i];
        current +=
            t->state == TASK_RUNNING && t->spec_version == s->spec_version;
    }
    CHECK_INT(current, 2);

    update_spec(&w, sid, "UpdateConfig.Delay", json_integer(0));
    update_spec(&w, sid, "UpdateConfig.Parallelism", json_integer(0));
    update_spec(&w, sid, "TaskTemplate.ContainerSpec.Image", json_string("v3"));
    reconcile(&w, sid, NULL);
    v = store_service_tasks(w.s, sid);
    s = store_service(w.s, sid);
    int fresh = 0;
    for (size_t i = 0; i < v->len; i++)
        fresh += ((struct task *)v->items[i])->spec_version == s->spec_version;
    CHECK_INT(fresh, 3); /* all at once */
    store_free(w.s);
}

int main(void)
{
    RUN(test_seed_two_steps);
    RUN(test_restart_any_with_delay);
    RUN(test_rejected_retried_once_per_delay);
    RUN(test_restart_none_and_on_failure);
    RUN(test_max_attempts);
    RUN(test_rolling_update_and_history);
    RUN(test_start_first);
    RUN(test_global);
    RUN(test_replicated_job);
    RUN(test_global_job);
    RUN(test_update_failure_actions);
    RUN(test_update_delay_and_parallelism);
    HARNESS_END();
}
