// SPDX-License-Identifier: Apache-2.0
// Which other nodes' networked tasks a worker holds (daemon/dispatch_nets.c):
// those on the networks its own tasks use and on ingress; what it no longer
// needs is deleted, and nothing it does not hold.
#include "harness.h"

#include "base/jsonx.h"
#include "base/mem.h"
#include "daemon/dispatch_nets.h"
#include "store/txn.h"

static uint64_t idx;

static void commit(struct store *s, struct txn *t)
{
    size_t len;
    _cleanup_free_ char *data = txn_encode(t, &len);
    struct err err = {0};
    CHECK_INT(store_apply(s, ++idx, data, len, &err), 0);
    if (err.msg[0])
        fprintf(stderr, "apply: %s\n", err.msg);
    txn_fini(t);
}

static void add_network(struct store *s, char *id, const char *name,
                        bool ingress)
{
    struct network *n = network_new();
    id_new(n->meta.id);
    static uint32_t vni = 4096;
    if (!n->spec)
        n->spec = json_object();
    json_object_set_new(n->spec, "Name", json_string(name));
    n->name = jx_str(n->spec, "Name");
    n->vni = vni++;
    snprintf(n->subnet, sizeof(n->subnet), "10.0.%u.0/24", n->vni - 4096);
    snprintf(n->gateway, sizeof(n->gateway), "10.0.%u.1", n->vni - 4096);
    n->ingress = ingress;
    if (ingress)
        json_object_set_new(n->spec, "Ingress", json_true());
    memcpy(id, n->meta.id, ID_LEN + 1);
    struct txn t;
    txn_init(&t);
    txn_network_create(&t, n);
    commit(s, &t);
    network_free(n);
}

/* A running task on node, attached to net (or to nothing). */
static void add_task(struct store *s, char *id, const char *node,
                     const char *net)
{
    struct task *t = task_new();
    id_new(t->meta.id);
    id_new(t->service_id);
    t->slot = 1;
    t->spec = json_pack("{s:{s:s}}", "ContainerSpec", "Image", "bb");
    memcpy(id, t->meta.id, ID_LEN + 1);
    struct txn tx;
    txn_init(&tx);
    txn_task_create(&tx, t);
    commit(s, &tx);
    txn_init(&tx);
    json_t *nets = net ? json_pack("[{s:{s:s}, s:[s]}]", "Network", "ID", net,
                                   "Addresses", "10.0.1.2/24")
                       : json_array();
    txn_task_allocate(&tx, id, nets);
    json_decref(nets);
    txn_task_assign(&tx, id, node);
    commit(s, &tx);
    task_free(t);
}

static int count(const struct buf *b, const char *needle)
{
    int n = 0;
    _cleanup_free_ char *text = xstrndup((const char *)b->data, b->len);
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static char *op(void *data, const char *id, const struct task *t)
{
    (void)data;
    return xasprintf("{\"op\":\"%s\",\"id\":\"%s\"}",
                     t ? "task.put" : "task.delete", id);
}

static void test_holds_follow_own_networks(void)
{
    struct store *s = store_new();
    char ingress[ID_LEN + 1], a[ID_LEN + 1], b[ID_LEN + 1];
    add_network(s, ingress, "ingress", true);
    add_network(s, a, "a", false);
    add_network(s, b, "b", false);
    char n1[ID_LEN + 1], n2[ID_LEN + 1];
    id_new(n1);
    id_new(n2);
    char on_a[ID_LEN + 1], on_b[ID_LEN + 1], on_ing[ID_LEN + 1],
        mine[ID_LEN + 1], plain[ID_LEN + 1];
    add_task(s, on_a, n2, a);
    add_task(s, on_b, n2, b);
    add_task(s, on_ing, n2, ingress);
    add_task(s, plain, n2, NULL);

    struct net_set ns;
    net_set_init(&ns);
    struct buf ops;
    buf_init(&ops);
    /* Node 1 runs nothing: only ingress tasks. */
    CHECK(net_set_update(&ns, s, n1));
    net_set_sync(&ns, s, n1, &ops, op, NULL);
    CHECK_INT(count(&ops, "task.put"), 1);
    CHECK_INT(count(&ops, on_ing), 1);
    CHECK(net_set_holds(&ns, on_ing));
    CHECK(!net_set_update(&ns, s, n1)); /* unchanged */

    /* A task of its own on a: the tasks of a come too, not those of b. */
    add_task(s, mine, n1, a);
    buf_reset(&ops);
    CHECK(net_set_update(&ns, s, n1));
    net_set_sync(&ns, s, n1, &ops, op, NULL);
    CHECK_INT(count(&ops, "task.put"), 1);
    CHECK_INT(count(&ops, on_a), 1);
    CHECK_INT(count(&ops, mine), 0); /* its own are sent as its own */
    CHECK(net_set_wants(&ns, store_task(s, on_a)));
    CHECK(!net_set_wants(&ns, store_task(s, on_b)));
    CHECK(!net_set_wants(&ns, store_task(s, plain)));

    /* Its task on a stops: the tasks of a it holds are deleted there. */
    struct txn tx;
    txn_init(&tx);
    txn_task_desired(&tx, mine, TASK_SHUTDOWN);
    commit(s, &tx);
    buf_reset(&ops);
    CHECK(net_set_update(&ns, s, n1));
    net_set_sync(&ns, s, n1, &ops, op, NULL);
    CHECK_INT(count(&ops, "task.delete"), 1);
    CHECK_INT(count(&ops, on_a), 1);
    CHECK(!net_set_holds(&ns, on_a));

    /* A held task deleted from the store is deleted there too (once). */
    txn_init(&tx);
    txn_task_delete(&tx, on_ing);
    commit(s, &tx);
    buf_reset(&ops);
    net_set_sync(&ns, s, n1, &ops, op, NULL);
    CHECK_INT(count(&ops, "task.delete"), 1);
    buf_reset(&ops);
    net_set_sync(&ns, s, n1, &ops, op, NULL);
    CHECK_INT((int)ops.len, 0);
    buf_fini(&ops);
    net_set_fini(&ns);
    store_free(s);
}

int main(void)
{
    RUN(test_holds_follow_own_networks);
    HARNESS_END();
}
