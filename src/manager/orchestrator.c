// SPDX-License-Identifier: Apache-2.0
// Replicated orchestration as a pure function over one service's tasks.
//
// Each slot is looked at on its own. A slot's "live" tasks are those meant
// to run (desired <= running) that have not ended; "dead" ones were meant to
// run but ended (or sit on a node that is down). A dead task is the only
// thing that triggers the restart policy, and the decision is recorded in
// the same transaction that retires it (desired -> shutdown), so a slot
// whose last task ended for good stays quiet on the next pass instead of
// being refilled. Replacements that must wait (restart delay, stop-first
// update) are created at once with desired state "ready" — the node
// prepares them — and promoted to "running" when their time comes.
#include "manager/orchestrator.h"

#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "store/txn.h"

void orch_plan_init(struct orch_plan *p)
{
    memset(p, 0, sizeof(*p));
}

void orch_plan_fini(struct orch_plan *p)
{
    free(p->actions);
    memset(p, 0, sizeof(*p));
}

static struct orch_action *add(struct orch_plan *p, enum orch_action_kind k)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->actions = xrealloc(p->actions, p->cap * sizeof(*p->actions));
    }
    struct orch_action *a = &p->actions[p->n++];
    memset(a, 0, sizeof(*a));
    a->kind = k;
    return a;
}

static void wake(struct orch_plan *p, int64_t at)
{
    if (!p->wake_at || at < p->wake_at)
        p->wake_at = at;
}

void restart_policy_from_spec(const json_t *task_spec,
                              struct restart_policy *out)
{
    json_t *rp = jx_path(task_spec, "RestartPolicy");
    const char *cond = jx_str(rp, "Condition");
    out->condition = RESTART_ANY;
    if (cond && strcmp(cond, "none") == 0)
        out->condition = RESTART_NONE;
    else if (cond && strcmp(cond, "on-failure") == 0)
        out->condition = RESTART_ON_FAILURE;
    json_t *delay = json_object_get(rp, "Delay");
    out->delay =
        json_is_integer(delay) ? json_integer_value(delay) : 5 * NS_PER_SEC;
    out->max_attempts = jx_int(rp, "MaxAttempts", 0);
    out->window = jx_int(rp, "Window", 0);
}

static void set_desired(struct orch_plan *p, struct task *t, enum task_state d)
{
    if (t->desired >= d)
        return;
    struct orch_action *a = add(p, ORCH_DESIRED);
    a->task = t;
    a->state = d;
    /* A task no node has taken yet is finished here: nobody else would. */
    if (t->state < TASK_ASSIGNED) {
        a = add(p, ORCH_STATE);
        a->task = t;
        a->state = TASK_SHUTDOWN;
        a->message = "shutdown";
    }
}

static void delete_task(struct orch_plan *p, struct task *t)
{
    add(p, ORCH_DELETE)->task = t;
}

static bool is_down(const struct orch_input *in, const struct task *t)
{
    return t->node_id[0] && in->node_is_down &&
           in->node_is_down(in->node_data, t->node_id);
}

static bool is_live(const struct orch_input *in, const struct task *t)
{
    return t->desired <= TASK_RUNNING && !task_state_is_terminal(t->state) &&
           !is_down(in, t);
}

static bool is_dead(const struct orch_input *in, const struct task *t)
{
    return t->desired <= TASK_RUNNING &&
           (task_state_is_terminal(t->state) || is_down(in, t));
}

static int cmp_tasks(const void *a, const void *b)
{
    const struct task *x = *(struct task *const *)a;
    const struct task *y = *(struct task *const *)b;
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    if (x->meta.created_at != y->meta.created_at)
        return x->meta.created_at < y->meta.created_at ? -1 : 1;
    return strcmp(x->meta.id, y->meta.id);
}

/* A deleted service: everything goes. */
static void reconcile_removed(const struct orch_input *in, struct orch_plan *p)
{
    for (size_t i = 0; i < in->n_tasks; i++) {
        struct task *t = in->tasks[i];
        if (task_state_is_terminal(t->state) || t->state < TASK_ASSIGNED)
            delete_task(p, t);
        else
            set_desired(p, t, TASK_REMOVE);
    }
}

/* Slots above the replica count (scale down): tasks are removed. */
static void reconcile_extra_slot(struct orch_plan *p, struct task **ts,
                                 size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct task *t = ts[i];
        if (task_state_is_terminal(t->state) || t->state < TASK_ASSIGNED)
            delete_task(p, t);
        else
            set_desired(p, t, TASK_REMOVE);
    }
}

struct slot_view {
    int slot;          /* 1..replicas; 0 for a global service's node */
    const char *node;  /* global: the node this view stands for */
    struct task *best; /* the live task kept, or NULL */
    bool created;      /* the plan creates a task in this slot */
};

static struct task *best_live(const struct orch_input *in, struct task **ts,
                              size_t n)
{
    struct task *best = NULL;
    for (size_t i = 0; i < n; i++) {
        struct task *t = ts[i];
        if (!is_live(in, t))
            continue;
        /* A task of the current spec wins over an older one (it is the
         * replacement being started), then the most advanced state, then
         * the newest. */
        bool cur = t->spec_version == in->service->spec_version;
        bool best_cur = best && best->spec_version == in->service->spec_version;
        if (!best || (cur && !best_cur) ||
            (cur == best_cur && t->state >= best->state))
            best = t;
    }
    return best;
}

static void create_in_slot(struct orch_plan *p, const struct slot_view *v,
                           enum task_state desired, int restarts,
                           int64_t window_start)
{
    struct orch_action *a = add(p, ORCH_CREATE);
    a->slot = v->slot;
    a->node = v->node;
    a->state = desired;
    a->restart_count = restarts;
    a->restart_window_start = window_start;
}

/* The restart policy decides whether a dead task gets a successor. A job
 * restarts failed tasks only (a finished one has done its work). Returns
 * true if the successor is postponed: the dead task then keeps its desired
 * state (it is still the slot's newest) until then. */
static bool restart_dead(const struct orch_input *in,
                         const struct restart_policy *rp, struct orch_plan *p,
                         struct task *dead, struct slot_view *v)
{
    bool failed = dead->state == TASK_FAILED || dead->state == TASK_REJECTED ||
                  !task_state_is_terminal(dead->state);
    bool cond = rp->condition == RESTART_ANY ||
                (rp->condition == RESTART_ON_FAILURE && failed);
    if (service_is_job(in->service))
        cond = rp->condition != RESTART_NONE && dead->state != TASK_COMPLETE;
    int count = dead->restart_count;
    int64_t window_start = dead->restart_window_start;
    if (rp->window > 0 && window_start && in->now - window_start > rp->window)
        count = 0, window_start = 0;
    if (!window_start)
        window_start = in->now;
    if (!cond || (rp->max_attempts > 0 && count >= rp->max_attempts))
        return false;
    /* A replacement that died within its own delay (rejected while it was
     * prepared: an image no registry has, say) is replaced once that delay
     * has passed, not at once: one attempt per delay. */
    int64_t due = dead->meta.created_at + rp->delay;
    if (dead->restart_count > 0 && task_state_is_terminal(dead->state) &&
        in->now < due) {
        wake(p, due);
        return true;
    }
    create_in_slot(p, v, rp->delay > 0 ? TASK_READY : TASK_RUNNING, count + 1,
                   window_start);
    v->created = true;
    return false;
}

/* Every dead task of ts but keep is told to shut down. */
static void retire_dead(const struct orch_input *in, struct orch_plan *p,
                        struct task *const *ts, size_t n,
                        const struct task *keep)
{
    for (size_t i = 0; i < n; i++)
        if (ts[i] != keep && is_dead(in, ts[i]))
            set_desired(p, ts[i], TASK_SHUTDOWN);
}

/* A waiting replacement (desired ready) starts once everything before it in
 * the slot has stopped, and its restart delay has passed. */
static void start_waiting(const struct orch_input *in,
                          const struct restart_policy *rp, struct orch_plan *p,
                          struct task **ts, size_t n, struct task *b)
{
    if (!b || b->desired != TASK_READY)
        return;
    for (size_t i = 0; i < n; i++)
        if (ts[i] != b && !task_state_is_terminal(ts[i]->state) &&
            ts[i]->state >= TASK_ASSIGNED && !is_down(in, ts[i]))
            return;
    int64_t start_at =
        b->meta.created_at + (b->restart_count > 0 ? rp->delay : 0);
    if (in->now >= start_at)
        set_desired(p, b, TASK_RUNNING);
    else
        wake(p, start_at);
}

/* History: at most `limit` tasks in a slot, the oldest finished ones go
 * first (ts is in creation order). */
static void trim_history(const struct orch_input *in, struct orch_plan *p,
                         struct task **ts, size_t n)
{
    size_t total = n, limit = in->history_limit > 0 ? in->history_limit : 5;
    for (size_t i = 0; i < n && total > limit; i++) {
        struct task *t = ts[i];
        if (t->desired >= TASK_COMPLETE && task_state_is_terminal(t->state) &&
            t->desired != TASK_REMOVE) {
            delete_task(p, t);
            total--;
        }
    }
}

/* Ready to take traffic: running, and healthy if it has a health check.
 * A rolling update waits for this before it moves on or stops the task
 * it replaces (start-first). */
static bool task_ready(const struct task *t)
{
    return t->state == TASK_RUNNING && t->health != TASK_HEALTH_STARTING &&
           t->health != TASK_HEALTH_UNHEALTHY;
}

static void reconcile_slot(const struct orch_input *in,
                           const struct restart_policy *rp, struct orch_plan *p,
                           struct task **ts, size_t n, struct slot_view *v)
{
    v->best = NULL;
    v->created = false;
    v->best = best_live(in, ts, n);

    /* Dead tasks retire; the newest may be restarted if the slot has
     * nothing else live. */
    struct task *newest_dead = NULL;
    for (size_t i = 0; i < n; i++)
        if (is_dead(in, ts[i]))
            newest_dead = ts[i];
    bool postponed =
        newest_dead && !v->best && restart_dead(in, rp, p, newest_dead, v);
    retire_dead(in, p, ts, n, postponed ? newest_dead : NULL);

    /* Surplus live tasks (e.g. a node came back) are stopped; a running
     * one whose replacement is still starting (start-first) stays until
     * the replacement runs. */
    for (size_t i = 0; i < n; i++)
        if (is_live(in, ts[i]) && ts[i] != v->best &&
            !(ts[i]->state == TASK_RUNNING && !task_ready(v->best)))
            set_desired(p, ts[i], TASK_SHUTDOWN);

    /* Terminal tasks of an earlier scale-down are dropped. */
    for (size_t i = 0; i < n; i++)
        if (ts[i]->desired == TASK_REMOVE &&
            (task_state_is_terminal(ts[i]->state) ||
             ts[i]->state < TASK_ASSIGNED))
            delete_task(p, ts[i]);

    /* An empty slot is filled. A slot whose last task ended for good (its
     * desired state already moved past running) stays as it is. */
    if (!v->best && !v->created) {
        struct task *last = n ? ts[n - 1] : NULL;
        if (!last || last->desired == TASK_REMOVE) {
            create_in_slot(p, v, TASK_RUNNING, 0, 0);
            v->created = true;
        }
    }

    start_waiting(in, rp, p, ts, n, v->best);
    trim_history(in, p, ts, n);
}

static bool state_is(const struct service *s, const char *state)
{
    const char *cur = jx_str(s->update_status, "State");
    return cur && strcmp(cur, state) == 0;
}

/* What a task failing during an update leads to (UpdateConfig's
 * FailureAction, RollbackConfig's during a rollback). */
static void update_failed(const struct service *s, struct orch_plan *p,
                          const struct task *failed, bool rolling_back,
                          const char *action)
{
    const char *id = failed->meta.id;
    if (rolling_back) {
        p->update = ORCH_UPDATE_ROLLBACK_PAUSED;
        snprintf(p->update_message, sizeof(p->update_message),
                 "rollback paused due to failure or early termination of "
                 "task %s",
                 id);
    } else if (action && strcmp(action, "rollback") == 0 && s->previous_spec) {
        p->update = ORCH_UPDATE_ROLLBACK_STARTED;
        snprintf(p->update_message, sizeof(p->update_message),
                 "update rolled back due to failure or early termination of "
                 "task %s",
                 id);
    } else {
        p->update = ORCH_UPDATE_PAUSED;
        snprintf(p->update_message, sizeof(p->update_message),
                 "update paused due to failure or early termination of task "
                 "%s",
                 id);
    }
}

/* Rolling replacement of tasks made from an older spec (UpdateConfig, or
 * RollbackConfig while rolling back): `Parallelism` slots at a time
 * (0: all), `Delay` after each replacement becomes ready before the next
 * one starts, stop-first or start-first. A task of the new spec that
 * fails before the update completes counts against `MaxFailureRatio`;
 * past it, `FailureAction` pauses, continues or rolls back. The update
 * completes once every slot is up to date and `Monitor` has passed since
 * the last one became ready. */
static void rolling_update(const struct orch_input *in, struct orch_plan *p,
                           struct slot_view *views, int replicas)
{
    const struct service *s = in->service;
    bool rolling_back = state_is(s, "rollback_started");
    if (state_is(s, "paused") || state_is(s, "rollback_paused"))
        return; /* until the next update of the service */
    json_t *uc =
        jx_path(s->spec, rolling_back ? "RollbackConfig" : "UpdateConfig");
    int64_t parallelism = jx_int(uc, "Parallelism", 1);
    int64_t delay = jx_int(uc, "Delay", 0);
    int64_t monitor = jx_int(uc, "Monitor", 5 * NS_PER_SEC);
    const char *order = jx_str(uc, "Order");
    bool start_first = order && strcmp(order, "start-first") == 0;
    json_t *ratio_j = json_object_get(uc, "MaxFailureRatio");
    double ratio = json_is_number(ratio_j) ? json_number_value(ratio_j) : 0;

    int64_t in_progress = 0, dirty = 0, dirty_before, failures = 0;
    int64_t last_ready = 0;
    const struct task *last_failed = NULL;
    for (int i = 0; i < replicas; i++) {
        struct task *b = views[i].best;
        if (views[i].created ||
            (b && b->spec_version == s->spec_version && !task_ready(b)))
            in_progress++;
        if (b && b->spec_version != s->spec_version)
            dirty++;
        if (b && b->spec_version == s->spec_version && task_ready(b) &&
            b->status_ts > last_ready)
            last_ready = b->status_ts;
    }
    bool updating = state_is(s, "updating") || rolling_back;
    for (size_t i = 0; updating && i < in->n_tasks; i++) {
        const struct task *t = in->tasks[i];
        if (t->spec_version == s->spec_version &&
            (t->state == TASK_FAILED || t->state == TASK_REJECTED)) {
            failures++;
            if (!last_failed || t->status_ts > last_failed->status_ts)
                last_failed = t;
        }
    }
    if (failures > 0 && replicas > 0 &&
        (double)failures > ratio * (double)replicas) {
        const char *action = jx_str(uc, "FailureAction");
        if (!(action && strcmp(action, "continue") == 0) || rolling_back) {
            update_failed(s, p, last_failed, rolling_back, action);
            return;
        }
    }

    dirty_before = dirty;
    bool waiting = delay > 0 && last_ready && in->now < last_ready + delay;
    if (waiting && dirty > 0)
        wake(p, last_ready + delay);
    for (int i = 0; i < replicas && dirty > 0 && !waiting; i++) {
        struct task *b = views[i].best;
        if (!b || b->spec_version == s->spec_version)
            continue;
        if (parallelism > 0 && in_progress >= parallelism)
            break;
        /* stop-first: the old task stops now and its replacement waits
         * (desired ready); start-first: the replacement runs first and
         * reconcile_slot stops the old one once it is ready. */
        if (!start_first)
            set_desired(p, b, TASK_SHUTDOWN);
        create_in_slot(p, &views[i], start_first ? TASK_RUNNING : TASK_READY, 0,
                       0);
        views[i].created = true;
        in_progress++;
        dirty--;
    }
    if (dirty_before > 0 || in_progress > 0) {
        if (!updating && s->spec_version > 1 && dirty_before > 0)
            p->update = ORCH_UPDATE_UPDATING;
    } else if (updating) {
        if (last_ready && in->now < last_ready + monitor) {
            wake(p, last_ready + monitor);
            return;
        }
        p->update = rolling_back ? ORCH_UPDATE_ROLLBACK_COMPLETED
                                 : ORCH_UPDATE_COMPLETED;
    }
}

static int cmp_by_node(const void *a, const void *b)
{
    const struct task *x = *(struct task *const *)a;
    const struct task *y = *(struct task *const *)b;
    int c = strcmp(x->node_id, y->node_id);
    if (c)
        return c;
    if (x->meta.created_at != y->meta.created_at)
        return x->meta.created_at < y->meta.created_at ? -1 : 1;
    return strcmp(x->meta.id, y->meta.id);
}

static int find_node(const struct orch_input *in, const char *node_id)
{
    for (size_t i = 0; i < in->n_nodes; i++)
        if (strcmp(in->nodes[i], node_id) == 0)
            return (int)i;
    return -1;
}

/* A global service: each eligible node is a slot of its own (slot 0, the
 * node fixed at creation); tasks on any other node (drained, down,
 * removed, no longer matching the constraints) are removed. Restarts and
 * rolling updates work per node as per slot. */
static void reconcile_global(const struct orch_input *in, struct orch_plan *out)
{
    struct restart_policy rp;
    restart_policy_from_spec(in->service->task_spec, &rp);
    struct task **ts = xcalloc(in->n_tasks + 1, sizeof(*ts));
    if (in->n_tasks)
        memcpy(ts, in->tasks, in->n_tasks * sizeof(*ts));
    qsort(ts, in->n_tasks, sizeof(*ts), cmp_by_node);
    struct slot_view *views = xcalloc(in->n_nodes + 1, sizeof(*views));
    bool *seen = xcalloc(in->n_nodes + 1, sizeof(*seen));
    for (size_t i = 0; i < in->n_tasks;) {
        size_t start = i;
        while (i < in->n_tasks &&
               strcmp(ts[i]->node_id, ts[start]->node_id) == 0)
            i++;
        int k = ts[start]->node_id[0] ? find_node(in, ts[start]->node_id) : -1;
        if (k < 0) {
            reconcile_extra_slot(out, &ts[start], i - start);
            continue;
        }
        views[k].node = in->nodes[k];
        reconcile_slot(in, &rp, out, &ts[start], i - start, &views[k]);
        seen[k] = true;
    }
    for (size_t k = 0; k < in->n_nodes; k++) {
        if (seen[k])
            continue;
        views[k].node = in->nodes[k];
        reconcile_slot(in, &rp, out, NULL, 0, &views[k]);
    }
    rolling_update(in, out, views, (int)in->n_nodes);
    free(seen);
    free(views);
    free(ts);
}

/* A job's unit is a slot 0..TotalCompletions-1 (replicated job: swarmkit
 * counts these from 0, and the docker CLI's job progress relies on it) or
 * an eligible node (global job); -1 for a task that belongs to neither. */
static int job_unit(const struct orch_input *in, const struct task *t,
                    size_t n_units)
{
    if (service_is_global(in->service))
        return t->node_id[0] ? find_node(in, t->node_id) : -1;
    return t->slot >= 0 && (size_t)t->slot < n_units ? t->slot : -1;
}

/* The tasks of one unit of a job, in creation order. */
struct job_unit {
    struct task **ts;
    size_t n;
};

/* One unit in the current iteration: a finished task is kept (desired
 * complete), a failed one retires and is retried by the restart policy.
 * Returns whether the unit is busy (a task meant to run), and sets
 * *pending if the iteration has not touched it yet. */
static bool reconcile_job_unit(const struct orch_input *in,
                               const struct restart_policy *rp,
                               struct orch_plan *p, const struct job_unit *u,
                               struct slot_view *v, bool *pending)
{
    uint64_t iter = in->service->spec_version;
    struct task *live = NULL, *newest_dead = NULL;
    bool done = false, any = false;
    for (size_t i = 0; i < u->n; i++) {
        struct task *t = u->ts[i];
        if (t->spec_version != iter) {
            if (is_live(in, t)) /* an earlier iteration still running */
                set_desired(p, t, TASK_SHUTDOWN);
            continue;
        }
        any = true;
        if (t->state == TASK_COMPLETE) {
            done = true;
            set_desired(p, t, TASK_COMPLETE);
        } else if (is_dead(in, t)) {
            newest_dead = t;
        } else if (is_live(in, t)) {
            if (live || done) /* a surplus (a node came back) */
                set_desired(p, t, TASK_SHUTDOWN);
            else
                live = t;
        }
    }
    *pending = !any;
    v->best = done ? NULL : live;
    v->created = false;
    bool postponed = !done && !live && newest_dead &&
                     restart_dead(in, rp, p, newest_dead, v);
    retire_dead(in, p, u->ts, u->n, postponed ? newest_dead : NULL);
    start_waiting(in, rp, p, u->ts, u->n, v->best);
    trim_history(in, p, u->ts, u->n);
    return v->best || v->created;
}

/* Jobs: every unit runs to completion once per iteration (spec version),
 * at most MaxConcurrent at a time for a replicated job; failed tasks are
 * retried as the restart policy allows; nothing is restarted once it has
 * completed. */
static void reconcile_job(const struct orch_input *in, struct orch_plan *out)
{
    const struct service *s = in->service;
    bool global = service_is_global(s);
    size_t n_units =
        global ? in->n_nodes
               : (size_t)(service_replicas(s) > 0 ? service_replicas(s) : 0);
    int64_t max_conc =
        global ? 0
               : jx_path_int(s->spec, "Mode.ReplicatedJob.MaxConcurrent", 1);
    struct restart_policy rp;
    restart_policy_from_spec(s->task_spec, &rp);

    struct task **ts = xcalloc(in->n_tasks + 1, sizeof(*ts));
    if (in->n_tasks)
        memcpy(ts, in->tasks, in->n_tasks * sizeof(*ts));
    qsort(ts, in->n_tasks, sizeof(*ts), cmp_tasks);
    struct job_unit *units = xcalloc(n_units + 1, sizeof(*units));
    struct task **grouped = xcalloc(in->n_tasks + 1, sizeof(*grouped));
    size_t *fill = xcalloc(n_units + 1, sizeof(*fill));
    for (size_t i = 0; i < in->n_tasks; i++) {
        int k = job_unit(in, ts[i], n_units);
        if (k >= 0)
            units[k].n++;
        else
            reconcile_extra_slot(out, &ts[i], 1);
    }
    size_t off = 0;
    for (size_t k = 0; k < n_units; k++) {
        units[k].ts = grouped + off;
        off += units[k].n;
    }
    for (size_t i = 0; i < in->n_tasks; i++) {
        int k = job_unit(in, ts[i], n_units);
        if (k >= 0)
            units[k].ts[fill[k]++] = ts[i];
    }

    struct slot_view *views = xcalloc(n_units + 1, sizeof(*views));
    bool *pending = xcalloc(n_units + 1, sizeof(*pending));
    int64_t busy = 0;
    for (size_t k = 0; k < n_units; k++) {
        views[k].slot = global ? 0 : (int)k;
        views[k].node = global ? in->nodes[k] : NULL;
        busy +=
            reconcile_job_unit(in, &rp, out, &units[k], &views[k], &pending[k]);
    }
    for (size_t k = 0; k < n_units; k++) {
        if (!pending[k] || (max_conc > 0 && busy >= max_conc))
            continue;
        create_in_slot(out, &views[k], TASK_RUNNING, 0, 0);
        busy++;
    }
    free(pending);
    free(views);
    free(fill);
    free(grouped);
    free(units);
    free(ts);
}

void orch_reconcile(const struct orch_input *in, struct orch_plan *out)
{
    if (in->service && service_is_job(in->service)) {
        reconcile_job(in, out);
        return;
    }
    if (!in->service) {
        reconcile_removed(in, out);
        return;
    }
    if (service_is_global(in->service)) {
        reconcile_global(in, out);
        return;
    }
    int64_t replicas64 = service_replicas(in->service);
    int replicas = replicas64 < 0 ? 0 : (int)replicas64;
    struct restart_policy rp;
    restart_policy_from_spec(in->service->task_spec, &rp);

    struct task **ts = xcalloc(in->n_tasks + 1, sizeof(*ts));
    if (in->n_tasks)
        memcpy(ts, in->tasks, in->n_tasks * sizeof(*ts));
    qsort(ts, in->n_tasks, sizeof(*ts), cmp_tasks);
    struct slot_view *views = xcalloc((size_t)replicas + 1, sizeof(*views));

    size_t i = 0;
    for (int slot = 1; slot <= replicas; slot++) {
        while (i < in->n_tasks && ts[i]->slot < slot)
            reconcile_extra_slot(out, &ts[i++], 1); /* slot 0: foreign */
        size_t start = i;
        while (i < in->n_tasks && ts[i]->slot == slot)
            i++;
        views[slot - 1].slot = slot;
        reconcile_slot(in, &rp, out, &ts[start], i - start, &views[slot - 1]);
    }
    while (i < in->n_tasks) {
        size_t start = i;
        int slot = ts[i]->slot;
        while (i < in->n_tasks && ts[i]->slot == slot)
            i++;
        reconcile_extra_slot(out, &ts[start], i - start);
    }
    rolling_update(in, out, views, replicas);
    free(views);
    free(ts);
}

/* The plan's UpdateStatus change (and the rollback it may start: the
 * previous spec becomes the spec again, as `service rollback` does). */
static void update_status_to_txn(const struct orch_plan *p,
                                 const struct service *s, struct txn *txn)
{
    static const char *const names[] = {
        [ORCH_UPDATE_UPDATING] = "updating",
        [ORCH_UPDATE_COMPLETED] = "completed",
        [ORCH_UPDATE_PAUSED] = "paused",
        [ORCH_UPDATE_ROLLBACK_STARTED] = "rollback_started",
        [ORCH_UPDATE_ROLLBACK_COMPLETED] = "rollback_completed",
        [ORCH_UPDATE_ROLLBACK_PAUSED] = "rollback_paused",
    };
    static const char *const messages[] = {
        [ORCH_UPDATE_UPDATING] = "update in progress",
        [ORCH_UPDATE_COMPLETED] = "update completed",
        [ORCH_UPDATE_ROLLBACK_COMPLETED] = "rollback completed",
    };
    char now[TIME_STRLEN];
    time_fmt_rfc3339(txn->ts, now);
    const char *started = jx_str(s->update_status, "StartedAt");
    bool restart_clock = p->update == ORCH_UPDATE_UPDATING ||
                         p->update == ORCH_UPDATE_ROLLBACK_STARTED;
    if (p->update == ORCH_UPDATE_ROLLBACK_STARTED)
        txn_service_update(txn, s->meta.id, 0, s->previous_spec, true, NULL);
    json_t *us = json_object();
    json_object_set_new(us, "State", json_string(names[p->update]));
    json_object_set_new(us, "StartedAt",
                        json_string(restart_clock || !started ? now : started));
    bool done = p->update == ORCH_UPDATE_COMPLETED ||
                p->update == ORCH_UPDATE_ROLLBACK_COMPLETED;
    if (done)
        json_object_set_new(us, "CompletedAt", json_string(now));
    const char *msg =
        p->update_message[0] ? p->update_message : messages[p->update];
    json_object_set_new(us, "Message", json_string(msg ? msg : ""));
    txn_service_update_status(txn, s->meta.id, us);
    json_decref(us);
}

void orch_plan_to_txn(const struct orch_plan *p, const struct service *s,
                      struct txn *txn, orch_place_fn place, void *data)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct orch_action *a = &p->actions[i];
        switch (a->kind) {
        case ORCH_CREATE: {
            if (!s)
                break; /* a deleted service creates nothing */
            struct task *t = task_new();
            id_new(t->meta.id);
            snprintf(t->service_id, sizeof(t->service_id), "%s", s->meta.id);
            t->slot = a->slot;
            if (a->node) /* global: the node is part of the decision */
                snprintf(t->node_id, sizeof(t->node_id), "%s", a->node);
            t->state = TASK_NEW;
            t->desired = a->state;
            t->message = xstrdup("created");
            t->restart_count = a->restart_count;
            t->restart_window_start = a->restart_window_start;
            if (place) {
                /* Placement reads the spec; the entry carries none (the
                 * service's current one is used at apply time). */
                t->spec = json_incref(s->task_spec);
                place(data, t);
                json_decref(t->spec);
                t->spec = NULL;
            }
            txn_task_create(txn, t);
            task_free(t);
            break;
        }
        case ORCH_DESIRED:
            txn_task_desired(txn, a->task->meta.id, a->state);
            break;
        case ORCH_STATE:
            txn_task_status(txn, a->task->meta.id, a->state, a->message, NULL,
                            NULL, 0, -1);
            break;
        case ORCH_DELETE:
            txn_task_delete(txn, a->task->meta.id);
            break;
        }
    }
    if (s && p->update != ORCH_UPDATE_NONE)
        update_status_to_txn(p, s, txn);
}
