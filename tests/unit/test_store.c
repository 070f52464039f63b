// SPDX-License-Identifier: Apache-2.0
// Unit tests for src/store: transactions, preconditions, indexes, the
// change feed, snapshot round trips, and 100,000 tasks.
#include "harness.h"

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "store/store.h"
#include "store/txn.h"

static uint64_t next_index = 1;

static int commit(struct store *s, struct txn *t, struct err *err)
{
    size_t len;
    _cleanup_free_ char *data = txn_encode(t, &len);
    int rc = store_apply(s, next_index++, data, len, err);
    txn_fini(t);
    return rc;
}

static json_t *simple_spec(const char *name, int replicas)
{
    json_t *spec = json_pack(
        "{s:s, s:{}, s:{s:{s:s, s:[s,s]}}, s:{s:{s:i}}}", "Name", name,
        "Labels", "TaskTemplate", "ContainerSpec", "Image", "busybox", "Args",
        "sleep", "100", "Mode", "Replicated", "Replicas", replicas);
    return spec;
}

static char *create_service(struct store *s, const char *name, int replicas)
{
    char id[ID_LEN + 1];
    id_new(id);
    struct txn t;
    txn_init(&t);
    _cleanup_json_ json_t *spec = simple_spec(name, replicas);
    txn_service_create(&t, id, spec, NULL);
    struct err err = {0};
    CHECK_INT(commit(s, &t, &err), 0);
    return xstrdup(id);
}

static char *create_task(struct store *s, const char *service_id, int slot)
{
    struct task *task = task_new();
    id_new(task->meta.id);
    snprintf(task->service_id, sizeof(task->service_id), "%s", service_id);
    task->slot = slot;
    task->state = TASK_NEW;
    struct txn t;
    txn_init(&t);
    txn_task_create(&t, task);
    char *id = xstrdup(task->meta.id);
    task_free(task);
    struct err err = {0};
    CHECK_INT(commit(s, &t, &err), 0);
    return id;
}

struct counter {
    int creates, updates, deletes;
};

static void count_events(void *data, const struct store_event *ev)
{
    struct counter *c = data;
    if (ev->action == STORE_CREATE)
        c->creates++;
    else if (ev->action == STORE_UPDATE)
        c->updates++;
    else
        c->deletes++;
}

static void test_service_lifecycle(void)
{
    struct store *s = store_new();
    struct counter cnt = {0};
    struct store_watch *w = store_watch(s, count_events, &cnt);
    _cleanup_free_ char *id = create_service(s, "web", 3);
    struct service *svc = store_service(s, id);
    CHECK(svc != NULL);
    CHECK(store_service_by_name(s, "web") == svc);
    CHECK_INT(service_replicas(svc), 3);
    CHECK_INT(svc->meta.version, next_index - 1);
    CHECK_INT(cnt.creates, 1);

    /* Duplicate name refused with Docker's conflict. */
    struct txn t;
    txn_init(&t);
    char id2[ID_LEN + 1];
    id_new(id2);
    _cleanup_json_ json_t *dup = simple_spec("web", 1);
    txn_service_create(&t, id2, dup, NULL);
    struct err err = {0};
    CHECK_INT(commit(s, &t, &err), -1);
    CHECK_INT(err.code, ERR_CONFLICT);
    CHECK(strstr(err.msg, "already exists") != NULL);
    CHECK_INT(store_count(s, KIND_SERVICE), 1);

    /* Update with a stale version: conflict, nothing changes. */
    uint64_t ver = svc->meta.version;
    txn_init(&t);
    _cleanup_json_ json_t *scaled = simple_spec("web", 5);
    txn_service_update(&t, id, ver + 100, scaled, false, NULL);
    err_clear(&err);
    CHECK_INT(commit(s, &t, &err), -1);
    CHECK_INT(err.code, ERR_CONFLICT);
    CHECK_STR(err.msg, "update out of sequence");
    CHECK_INT(service_replicas(store_service(s, id)), 3);

    /* Scale-only update keeps the task spec (and spec version). */
    json_t *old_tt = svc->task_spec;
    txn_init(&t);
    txn_service_update(&t, id, ver, scaled, false, NULL);
    CHECK_INT(commit(s, &t, &err), 0);
    svc = store_service(s, id);
    CHECK_INT(service_replicas(svc), 5);
    CHECK(svc->task_spec == old_tt);
    CHECK_INT(svc->spec_version, 1);
    CHECK(svc->previous_spec != NULL);

    /* Changing the template bumps the spec version. */
    _cleanup_json_ json_t *changed = simple_spec("web", 5);
    jx_set_path(changed, "TaskTemplate.ContainerSpec.Env",
                json_pack("[s]", "A=1"));
    txn_init(&t);
    txn_service_update(&t, id, 0, changed, false, NULL);
    CHECK_INT(commit(s, &t, &err), 0);
    CHECK_INT(store_service(s, id)->spec_version, 2);

    /* Renaming is refused. */
    _cleanup_json_ json_t *renamed = simple_spec("other", 5);
    txn_init(&t);
    txn_service_update(&t, id, 0, renamed, false, NULL);
    CHECK_INT(commit(s, &t, &err), -1);
    CHECK(store_service_by_name(s, "web") != NULL);

    txn_init(&t);
    txn_service_delete(&t, id);
    CHECK_INT(commit(s, &t, &err), 0);
    CHECK(store_service(s, id) == NULL);
    CHECK(store_service_by_name(s, "web") == NULL);
    CHECK_INT(cnt.deletes, 1);

    txn_init(&t);
    txn_service_delete(&t, id);
    err_clear(&err);
    CHECK_INT(commit(s, &t, &err), -1);
    CHECK_INT(err.code, ERR_NOTFOUND);
    store_unwatch(s, w);
    store_free(s);
}

static void test_task_states(void)
{
    struct store *s = store_new();
    _cleanup_free_ char *sid = create_service(s, "app", 1);
    _cleanup_free_ char *tid = create_task(s, sid, 1);
    struct task *t = store_task(s, tid);
    CHECK(t != NULL);
    CHECK(t->spec == store_service(s, sid)->task_spec);
    CHECK_INT(store_count_tasks_in_state(s, TASK_NEW), 1);

    struct txn x;
    struct err err = {0};
    txn_init(&x);
    txn_task_status(&x, tid, TASK_PENDING, "pending task scheduling", NULL,
                    NULL, 0, -1);
    CHECK_INT(commit(s, &x, &err), 0);
    char node[ID_LEN + 1];
    id_new(node);
    txn_init(&x);
    txn_task_assign(&x, tid, node);
    CHECK_INT(commit(s, &x, &err), 0);
    CHECK_STR(t->node_id, node);
    CHECK_INT(t->state, TASK_ASSIGNED);
    CHECK(store_node_tasks(s, node) != NULL);
    CHECK_INT(store_node_tasks(s, node)->len, 1);

    /* Assigning twice is a conflict. */
    txn_init(&x);
    txn_task_assign(&x, tid, node);
    CHECK_INT(commit(s, &x, &err), -1);

    txn_init(&x);
    txn_task_status(&x, tid, TASK_RUNNING, "started", NULL,
                    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef01"
                    "23456789",
                    4242, -1);
    CHECK_INT(commit(s, &x, &err), 0);
    CHECK_INT(t->state, TASK_RUNNING);
    CHECK_INT(t->pid, 4242);

    /* Backwards moves are ignored. */
    txn_init(&x);
    txn_task_status(&x, tid, TASK_STARTING, "late", NULL, NULL, 0, -1);
    CHECK_INT(commit(s, &x, &err), 0);
    CHECK_INT(t->state, TASK_RUNNING);

    txn_init(&x);
    txn_task_status(&x, tid, TASK_FAILED, "failed", "task: non-zero exit (1)",
                    NULL, 0, 1);
    CHECK_INT(commit(s, &x, &err), 0);
    CHECK_INT(t->state, TASK_FAILED);
    CHECK_INT(t->exit_code, 1);
    CHECK_INT(t->pid, 0);
    CHECK_STR(t->error, "task: non-zero exit (1)");
    /* Terminal is final. */
    txn_init(&x);
    txn_task_status(&x, tid, TASK_SHUTDOWN, "x", NULL, NULL, 0, -1);
    CHECK_INT(commit(s, &x, &err), 0);
    CHECK_INT(t->state, TASK_FAILED);

    /* Desired state only moves forward. */
    txn_init(&x);
    txn_task_desired(&x, tid, TASK_SHUTDOWN);
    txn_task_desired(&x, tid, TASK_RUNNING);
    CHECK_INT(commit(s, &x, &err), 0);
    CHECK_INT(t->desired, TASK_SHUTDOWN);

    json_t *j = task_to_json(t);
    CHECK_STR(jx_path_str(j, "Status.State"), "failed");
    CHECK_STR(jx_path_str(j, "DesiredState"), "shutdown");
    CHECK_STR(jx_path_str(j, "Status.Err"), "task: non-zero exit (1)");
    CHECK_INT(jx_path_int(j, "Status.ContainerStatus.ExitCode", -1), 1);
    CHECK_STR(jx_path_str(j, "Spec.ContainerSpec.Image"), "busybox");
    CHECK(json_object_get(j, "_SpecVersion") == NULL);
    json_decref(j);

    /* Deleting the service keeps its tasks reachable as orphans. */
    txn_init(&x);
    txn_service_delete(&x, sid);
    CHECK_INT(commit(s, &x, &err), 0);
    struct vec orphans;
    vec_init(&orphans);
    store_orphan_service_ids(s, &orphans);
    CHECK_INT(orphans.len, 1);
    vec_fini(&orphans);
    txn_init(&x);
    txn_task_delete(&x, tid);
    CHECK_INT(commit(s, &x, &err), 0);
    CHECK(store_service_tasks(s, sid) == NULL);
    CHECK(store_node_tasks(s, node) == NULL);
    store_free(s);
}

static void test_bad_entries(void)
{
    struct store *s = store_new();
    struct err err = {0};
    CHECK_INT(store_apply(s, 1, "garbage", 7, &err), -1);
    const char *unknown = "{\"ts\":1,\"ops\":[{\"op\":\"nope\"}]}";
    CHECK_INT(store_apply(s, 2, unknown, strlen(unknown), &err), -1);
    const char *bad_task =
        "{\"ts\":1,\"ops\":[{\"op\":\"task.create\",\"obj\":{\"ID\":\"x\"}}]}";
    CHECK_INT(store_apply(s, 3, bad_task, strlen(bad_task), &err), -1);
    CHECK_INT(store_count(s, KIND_TASK), 0);
    CHECK_INT(store_index(s), 3);
    store_free(s);
}

static void test_snapshot_round_trip(void)
{
    struct store *s = store_new();
    _cleanup_free_ char *sid = create_service(s, "db", 2);
    _cleanup_free_ char *t1 = create_task(s, sid, 1);
    _cleanup_free_ char *t2 = create_task(s, sid, 2);
    struct txn x;
    struct err err = {0};
    txn_init(&x);
    txn_task_status(&x, t1, TASK_RUNNING, "started", NULL, NULL, 7, -1);
    CHECK_INT(commit(s, &x, &err), 0);

    struct buf snap;
    buf_init(&snap);
    store_snapshot(s, &snap);
    struct store *r = store_new();
    struct counter cnt = {0};
    store_watch(r, count_events, &cnt);
    CHECK_INT(store_restore(r, snap.data, snap.len, &err), 0);
    CHECK_INT(cnt.updates, 1);
    CHECK_INT(store_index(r), store_index(s));
    CHECK_INT(store_count(r, KIND_TASK), 2);
    struct service *svc = store_service_by_name(r, "db");
    CHECK(svc != NULL);
    CHECK(store_task(r, t1)->spec == svc->task_spec);
    CHECK_INT(store_task(r, t1)->state, TASK_RUNNING);
    CHECK_INT(store_service_tasks(r, sid)->len, 2);
    /* Byte-identical re-encoding. */
    struct buf again;
    buf_init(&again);
    store_snapshot(r, &again);
    json_t *a = json_loads(snap.data, 0, NULL);
    json_t *b = json_loads(again.data, 0, NULL);
    CHECK(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    /* A corrupt snapshot leaves the store untouched. */
    CHECK_INT(store_restore(r, "{\"Format\":1,\"Tasks\":[{}]}", 25, &err), -1);
    CHECK_INT(store_count(r, KIND_TASK), 2);
    buf_fini(&snap);
    buf_fini(&again);
    store_free(r);
    store_free(s);
}

static void test_hundred_thousand_tasks(void)
{
    struct store *s = store_new();
    _cleanup_free_ char *sid = create_service(s, "big", 100000);
    int64_t t0 = time_mono_ns();
    enum { N = 100000, BATCH = 5000 };
    for (int b = 0; b < N / BATCH; b++) {
        struct txn x;
        txn_init(&x);
        for (int i = 0; i < BATCH; i++) {
            struct task *task = task_new();
            id_new(task->meta.id);
            snprintf(task->service_id, sizeof(task->service_id), "%s", sid);
            task->slot = b * BATCH + i + 1;
            txn_task_create(&x, task);
            task_free(task);
        }
        struct err err = {0};
        CHECK_INT(commit(s, &x, &err), 0);
    }
    int64_t t1 = time_mono_ns();
    CHECK_INT(store_count(s, KIND_TASK), N);
    CHECK_INT(store_service_tasks(s, sid)->len, N);
    struct buf snap;
    buf_init(&snap);
    store_snapshot(s, &snap);
    int64_t t2 = time_mono_ns();
    struct store *r = store_new();
    struct err err = {0};
    CHECK_INT(store_restore(r, snap.data, snap.len, &err), 0);
    int64_t t3 = time_mono_ns();
    CHECK_INT(store_count(r, KIND_TASK), N);
    printf("100k tasks: apply %.0f ms, snapshot %.0f ms (%zu bytes), "
           "restore %.0f ms\n",
           (t1 - t0) / 1e6, (t2 - t1) / 1e6, snap.len, (t3 - t2) / 1e6);
    buf_fini(&snap);
    store_free(r);
    store_free(s);
}

int main(void)
{
    RUN(test_service_lifecycle);
    RUN(test_task_states);
    RUN(test_bad_entries);
    RUN(test_snapshot_round_trip);
    RUN(test_hundred_thousand_tasks);
    HARNESS_END();
}
