// SPDX-License-Identifier: Apache-2.0
// Tests for the raft adapter: a single voter bootstraps, leads, commits
// store transactions, takes snapshots, and after a restart replays its log
// and snapshot into a fresh store.
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "raft/raftnode.h"
#include "store/txn.h"

struct ctx {
    uv_loop_t loop;
    struct store *store;
    struct raftnode *rn;
    bool leader;
    int committed, failed;
    bool closed;
    struct err last_err;
};

static void on_leader(void *data, bool is_leader)
{
    struct ctx *c = data;
    c->leader = is_leader;
}

static void on_applied(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    struct ctx *c = data;
    if (err) {
        c->failed++;
        c->last_err = *err;
    } else {
        c->committed++;
    }
}

static void on_closed(void *data)
{
    struct ctx *c = data;
    c->closed = true;
}

/* Runs the loop until *flag or the deadline. */
static bool run_until(struct ctx *c, bool *flag, int *counter, int target,
                      int ms)
{
    int64_t deadline = time_mono_ms() + ms;
    uv_timer_t t;
    uv_timer_init(&c->loop, &t);
    while (time_mono_ms() < deadline) {
        if (flag && *flag)
            break;
        if (counter && *counter >= target)
            break;
        uv_timer_start(&t, (uv_timer_cb)(void (*)(void))uv_timer_stop, 10, 0);
        uv_run(&c->loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&c->loop, UV_RUN_NOWAIT);
    return (flag && *flag) || (counter && *counter >= target);
}

static void start_node(struct ctx *c, const char *dir, bool bootstrap,
                       unsigned threshold)
{
    struct raftnode_config cfg = {
        .loop = &c->loop,
        .dir = dir,
        .id = 1,
        .address = "127.0.0.1:4377",
        .store = c->store,
        .on_leader_change = on_leader,
        .data = c,
        .snapshot_threshold = threshold,
        .snapshot_trailing = 4,
    };
    struct err err = {0};
    c->rn = raftnode_new(&cfg, &err);
    CHECK(c->rn != NULL);
    if (bootstrap)
        CHECK_INT(raftnode_bootstrap(c->rn, &err), 0);
    CHECK_INT(raftnode_start(c->rn, &err), 0);
    if (err_is_set(&err))
        fprintf(stderr, "start: %s\n", err.msg);
}

static void stop_node(struct ctx *c)
{
    c->closed = false;
    raftnode_close(c->rn, on_closed, c);
    CHECK(run_until(c, &c->closed, NULL, 0, 5000));
    c->rn = NULL;
    c->leader = false;
}

static void propose_service(struct ctx *c, const char *name, int replicas)
{
    char id[ID_LEN + 1];
    id_new(id);
    _cleanup_json_ json_t *spec =
        json_pack("{s:s, s:{s:{s:s}}, s:{s:{s:i}}}", "Name", name,
                  "TaskTemplate", "ContainerSpec", "Image", "busybox", "Mode",
                  "Replicated", "Replicas", replicas);
    struct txn t;
    txn_init(&t);
    txn_service_create(&t, id, spec, NULL);
    size_t len;
    _cleanup_free_ char *data = txn_encode(&t, &len);
    txn_fini(&t);
    struct err err = {0};
    CHECK_INT(raftnode_propose(c->rn, data, len, on_applied, c, &err), 0);
}

static void test_bootstrap_commit_restart(void)
{
    char tmpl[] = "/tmp/shoal-raft-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    struct ctx c = {0};
    uv_loop_init(&c.loop);
    c.store = store_new();

    /* Not leader yet: proposals fail fast with 503. */
    start_node(&c, dir, true, 8);
    struct err err = {0};
    CHECK_INT(raftnode_propose(c.rn, "{}", 2, on_applied, &c, &err), -1);
    CHECK_INT(err.code, ERR_UNAVAILABLE);
    CHECK(run_until(&c, &c.leader, NULL, 0, 5000));
    CHECK(raftnode_is_ready_leader(c.rn));

    /* Enough entries to cross the snapshot threshold twice. */
    char name[32];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "svc%d", i);
        propose_service(&c, name, i);
    }
    CHECK(run_until(&c, NULL, &c.committed, 20, 5000));
    CHECK_INT(c.committed, 20);
    /* A conflicting write is reported to its proposer. */
    propose_service(&c, "svc3", 1);
    CHECK(run_until(&c, NULL, &c.failed, 1, 5000));
    CHECK_INT(c.last_err.code, ERR_CONFLICT);
    CHECK_INT(store_count(c.store, KIND_SERVICE), 20);
    uint64_t index = store_index(c.store);
    stop_node(&c);
    store_free(c.store);

    /* Restart on the same directory with an empty store: state is back. */
    c.store = store_new();
    start_node(&c, dir, false, 8);
    CHECK(run_until(&c, &c.leader, NULL, 0, 5000));
    CHECK_INT(store_count(c.store, KIND_SERVICE), 20);
    CHECK(store_service_by_name(c.store, "svc7") != NULL);
    CHECK_INT(service_replicas(store_service_by_name(c.store, "svc7")), 7);
    CHECK(store_index(c.store) >= index);
    /* And it still accepts writes. */
    c.committed = 0;
    propose_service(&c, "after-restart", 1);
    CHECK(run_until(&c, NULL, &c.committed, 1, 5000));
    CHECK(store_service_by_name(c.store, "after-restart") != NULL);
    stop_node(&c);
    store_free(c.store);
    uv_loop_close(&c.loop);
    fs_remove_tree(dir, &err);
}

int main(void)
{
    RUN(test_bootstrap_commit_restart);
    HARNESS_END();
}
