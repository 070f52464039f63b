// SPDX-License-Identifier: Apache-2.0
// Scheduler and constraint tests: filters (ready, availability,
// constraints, resources), spread (and spread preferences over a node
// label), and swarmkit's explanations.
#include "harness.h"

#include "base/jsonx.h"
#include "base/mem.h"
#include "manager/constraint.h"
#include "manager/scheduler.h"
#include "store/txn.h"

static uint64_t idx;

static void commit(struct store *s, struct txn *t)
{
    size_t len;
    _cleanup_free_ char *data = txn_encode(t, &len);
    store_apply(s, ++idx, data, len, NULL);
    txn_fini(t);
}

static struct node *add_node(struct store *s, const char *host,
                             enum node_state st, const char *avail,
                             const char *label, int64_t mem)
{
    struct node *n = node_new();
    id_new(n->meta.id);
    json_object_set_new(n->spec, "Role", json_string("worker"));
    json_object_set_new(n->spec, "Availability", json_string(avail));
    json_t *labels = json_object();
    if (label)
        json_object_set_new(labels, "zone", json_string(label));
    json_object_set_new(n->spec, "Labels", labels);
    json_object_set_new(n->description, "Hostname", json_string(host));
    jx_set_path(n->description, "Resources.MemoryBytes", json_integer(mem));
    jx_set_path(n->description, "Resources.NanoCPUs", json_integer(2000000000));
    n->state = st;
    struct txn t;
    txn_init(&t);
    txn_node_put(&t, n);
    commit(s, &t);
    char id[ID_LEN + 1];
    memcpy(id, n->meta.id, sizeof(id));
    node_free(n);
    return store_node(s, id);
}

static struct task *fake_task(const char *service, json_t *spec)
{
    struct task *t = task_new();
    id_new(t->meta.id);
    snprintf(t->service_id, sizeof(t->service_id), "%s", service);
    t->spec = spec;
    t->state = TASK_PENDING;
    return t;
}

static void test_constraint_parse(void)
{
    struct constraint c;
    struct err err = {0};
    CHECK_INT(constraint_parse("node.labels.zone == east", &c, &err), 0);
    CHECK_STR(c.key, "node.labels.zone");
    CHECK_STR(c.value, "east");
    CHECK(c.equal);
    constraint_fini(&c);
    CHECK_INT(constraint_parse("node.role!=manager", &c, &err), 0);
    CHECK(!c.equal);
    constraint_fini(&c);
    CHECK_INT(constraint_parse("node.role=manager", &c, &err), -1);
    CHECK_INT(err.code, ERR_INVALID);
    CHECK_INT(constraint_parse("foo.bar==x", &c, &err), -1);
    CHECK_INT(constraint_parse("node.id==", &c, &err), -1);
    json_t *bad = json_pack("[s, i]", "node.id==x", 3);
    CHECK_INT(constraints_validate(bad, &err), -1);
    json_decref(bad);
}

static void test_filters_and_spread(void)
{
    struct store *s = store_new();
    struct node *a = add_node(s, "a", NODE_READY, "active", "east", 1 << 30);
    struct node *b = add_node(s, "b", NODE_READY, "active", "west", 1 << 30);
    add_node(s, "c", NODE_DOWN, "active", "east", 1 << 30);
    add_node(s, "d", NODE_READY, "drain", "east", 1 << 30);
    char svc[ID_LEN + 1];
    id_new(svc);

    struct scheduler sc;
    sched_init(&sc, s);
    json_t *spec = json_object();
    int on_a = 0, on_b = 0;
    char reason[256];
    for (int i = 0; i < 6; i++) {
        struct task *t = fake_task(svc, json_incref(spec));
        const char *node = sched_place(&sc, t, reason, sizeof(reason));
        CHECK(node != NULL);
        on_a += node && strcmp(node, a->meta.id) == 0;
        on_b += node && strcmp(node, b->meta.id) == 0;
        task_free(t);
    }
    CHECK_INT(on_a, 3);
    CHECK_INT(on_b, 3);

    /* Constraints: only "east" nodes that are ready and active (a). */
    json_t *east = json_pack("{s:{s:[s]}}", "Placement", "Constraints",
                             "node.labels.zone==east");
    struct task *t = fake_task(svc, east);
    const char *node = sched_place(&sc, t, reason, sizeof(reason));
    CHECK(node && strcmp(node, a->meta.id) == 0);
    task_free(t);

    json_t *nowhere = json_pack("{s:{s:[s]}}", "Placement", "Constraints",
                                "node.labels.zone==north");
    t = fake_task(svc, nowhere);
    CHECK(sched_place(&sc, t, reason, sizeof(reason)) == NULL);
    CHECK_STR(reason, "no suitable node (2 nodes not available for new "
                      "tasks; scheduling constraints not satisfied on 2 "
                      "nodes)");
    task_free(t);

    /* Resources: 2 GiB reserved fits nowhere. */
    json_t *big = json_pack("{s:{s:{s:I}}}", "Resources", "Reservations",
                            "MemoryBytes", (json_int_t)2 << 30);
    t = fake_task(svc, big);
    CHECK(sched_place(&sc, t, reason, sizeof(reason)) == NULL);
    CHECK(strstr(reason, "insufficient resources on 2 nodes") != NULL);
    task_free(t);

    /* 600 MiB twice fits once per node (1 GiB each). */
    json_t *mid = json_pack("{s:{s:{s:I}}}", "Resources", "Reservations",
                            "MemoryBytes", (json_int_t)600 << 20);
    int placed = 0;
    for (int i = 0; i < 3; i++) {
        t = fake_task(svc, json_incref(mid));
        placed += sched_place(&sc, t, reason, sizeof(reason)) != NULL;
        task_free(t);
    }
    CHECK_INT(placed, 2);
    json_decref(mid);
    json_decref(spec);
    sched_fini(&sc);
    store_free(s);
}

/* Spread over node.labels.zone: east has 2 nodes, west 1; 6 tasks split
 * 3/3 between the zones (not 2/2/2 between nodes), nodes without the
 * label form a zone of their own. */
static void test_spread_preference(void)
{
    struct store *s = store_new();
    struct node *e1 = add_node(s, "e1", NODE_READY, "active", "east", 1 << 30);
    struct node *e2 = add_node(s, "e2", NODE_READY, "active", "east", 1 << 30);
    struct node *w = add_node(s, "w", NODE_READY, "active", "west", 1 << 30);
    char svc[ID_LEN + 1];
    id_new(svc);
    struct scheduler sc;
    sched_init(&sc, s);
    json_t *spec = json_pack("{s:{s:[{s:{s:s}}]}}", "Placement", "Preferences",
                             "Spread", "SpreadDescriptor", "node.labels.zone");
    int east = 0, west = 0, on_e1 = 0;
    char reason[256];
    for (int i = 0; i < 6; i++) {
        struct task *t = fake_task(svc, json_incref(spec));
        const char *node = sched_place(&sc, t, reason, sizeof(reason));
        CHECK(node != NULL);
        if (node && (!strcmp(node, e1->meta.id) || !strcmp(node, e2->meta.id)))
            east++;
        west += node && !strcmp(node, w->meta.id);
        on_e1 += node && !strcmp(node, e1->meta.id);
        task_free(t);
    }
    CHECK_INT(east, 3);
    CHECK_INT(west, 3);
    CHECK(on_e1 == 1 || on_e1 == 2); /* spread inside the zone too */
    json_decref(spec);
    sched_fini(&sc);

    /* A node without the label: its own group. */
    struct node *none = add_node(s, "n", NODE_READY, "active", NULL, 1 << 30);
    sched_init(&sc, s);
    spec = json_pack("{s:{s:[{s:{s:s}}]}}", "Placement", "Preferences",
                     "Spread", "SpreadDescriptor", "node.labels.zone");
    int on_none = 0;
    for (int i = 0; i < 3; i++) {
        struct task *t = fake_task(svc, json_incref(spec));
        const char *node = sched_place(&sc, t, reason, sizeof(reason));
        on_none += node && !strcmp(node, none->meta.id);
        task_free(t);
    }
    CHECK_INT(on_none, 1);
    json_decref(spec);
    sched_fini(&sc);
    store_free(s);
}

static void test_no_nodes(void)
{
    struct store *s = store_new();
    struct scheduler sc;
    sched_init(&sc, s);
    char svc[ID_LEN + 1], reason[128];
    id_new(svc);
    struct task *t = fake_task(svc, json_object());
    CHECK(sched_place(&sc, t, reason, sizeof(reason)) == NULL);
    CHECK_STR(reason, "no suitable node");
    task_free(t);
    sched_fini(&sc);
    store_free(s);
}

static void add_service(struct store *s, const char *id, const char *name,
                        json_t *ports)
{
    json_t *spec = json_pack("{s:s}", "Name", name);
    json_t *ep = json_pack("{s:o}", "Ports", ports);
    struct txn t;
    txn_init(&t);
    txn_service_create(&t, id, spec, ep);
    commit(s, &t);
    json_decref(spec);
    json_decref(ep);
}

/* swarmkit's HostPortFilter: a host-mode port is bound once per node, by
 * tasks already there and by those placed in the same pass. */
static void test_host_ports(void)
{
    struct store *s = store_new();
    struct node *a = add_node(s, "a", NODE_READY, "active", NULL, 1 << 30);
    struct node *b = add_node(s, "b", NODE_READY, "active", NULL, 1 << 30);
    char svc[ID_LEN + 1], dyn[ID_LEN + 1], udp[ID_LEN + 1];
    id_new(svc);
    id_new(dyn);
    id_new(udp);
    add_service(s, svc, "hm",
                json_pack("[{s:s, s:i, s:i, s:s}]", "Protocol", "tcp",
                          "TargetPort", 80, "PublishedPort", 8081,
                          "PublishMode", "host"));
    add_service(s, dyn, "dyn",
                json_pack("[{s:s, s:i, s:s}]", "Protocol", "tcp", "TargetPort",
                          80, "PublishMode", "host"));
    add_service(s, udp, "udp",
                json_pack("[{s:s, s:i, s:i, s:s}]", "Protocol", "udp",
                          "TargetPort", 80, "PublishedPort", 8081,
                          "PublishMode", "host"));
    /* A task of hm runs on a already. */
    struct task *run = fake_task(svc, json_object());
    run->state = TASK_RUNNING;
    run->desired = TASK_RUNNING;
    snprintf(run->node_id, sizeof(run->node_id), "%s", a->meta.id);
    struct txn t;
    txn_init(&t);
    txn_task_create(&t, run);
    commit(s, &t);
    task_free(run);

    struct scheduler sc;
    sched_init(&sc, s);
    char reason[256];
    struct task *t1 = fake_task(svc, json_object());
    const char *node = sched_place(&sc, t1, reason, sizeof(reason));
    CHECK(node && strcmp(node, b->meta.id) == 0);
    struct task *t2 = fake_task(svc, json_object());
    CHECK(sched_place(&sc, t2, reason, sizeof(reason)) == NULL);
    CHECK_STR(reason, "no suitable node (host-mode port already in use on 2 "
                      "nodes)");
    /* Dynamic ports and another protocol do not collide. */
    for (int i = 0; i < 3; i++) {
        struct task *d = fake_task(dyn, json_object());
        CHECK(sched_place(&sc, d, reason, sizeof(reason)) != NULL);
        task_free(d);
    }
    struct task *u = fake_task(udp, json_object());
    CHECK(sched_place(&sc, u, reason, sizeof(reason)) != NULL);
    /* With reservations (the other path) the filter holds too. */
    struct task *t3 =
        fake_task(svc, json_pack("{s:{s:{s:I}}}", "Resources", "Reservations",
                                 "MemoryBytes", (json_int_t)1024));
    CHECK(sched_place(&sc, t3, reason, sizeof(reason)) == NULL);
    CHECK_STR(reason, "no suitable node (host-mode port already in use on 2 "
                      "nodes)");
    task_free(t1);
    task_free(t2);
    task_free(t3);
    task_free(u);
    sched_fini(&sc);
    store_free(s);
}

int main(void)
{
    RUN(test_constraint_parse);
    RUN(test_filters_and_spread);
    RUN(test_spread_preference);
    RUN(test_no_nodes);
    RUN(test_host_ports);
    HARNESS_END();
}
