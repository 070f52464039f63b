// SPDX-License-Identifier: Apache-2.0
// Host-mode ports: a task's PortStatus from its service's static ports,
// dynamic ones picked from Docker's range around what the node's other
// tasks and the ingress ports hold (and kept once reported), and the
// store carrying Status.PortStatus through status reports, encoding and
// a task leaving running.
#include "harness.h"

#include "agent/hostports.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "store/txn.h"

static uint64_t idx;

static void commit(struct store *s, struct txn *t)
{
    size_t len;
    _cleanup_free_ char *data = txn_encode(t, &len);
    struct err err = {0};
    CHECK_INT(store_apply(s, ++idx, data, len, &err), 0);
    txn_fini(t);
}

static void add_service(struct store *s, char id[ID_LEN + 1], const char *name,
                        const char *ports_json)
{
    id_new(id);
    json_t *spec = json_pack("{s:s}", "Name", name);
    json_t *ep = json_object();
    json_object_set_new(ep, "Ports", json_loads(ports_json, 0, NULL));
    struct txn t;
    txn_init(&t);
    txn_service_create(&t, id, spec, ep);
    commit(s, &t);
    json_decref(spec);
    json_decref(ep);
}

static struct task *add_task(struct store *s, const char *service,
                             const char *node, enum task_state st)
{
    struct task *t = task_new();
    id_new(t->meta.id);
    snprintf(t->service_id, sizeof(t->service_id), "%s", service);
    snprintf(t->node_id, sizeof(t->node_id), "%s", node);
    t->spec = json_object();
    t->state = st;
    t->desired = TASK_RUNNING;
    struct txn tx;
    txn_init(&tx);
    txn_task_create(&tx, t);
    commit(s, &tx);
    char id[ID_LEN + 1];
    memcpy(id, t->meta.id, sizeof(id));
    task_free(t);
    return store_task(s, id);
}

static void set_ports(struct store *s, const struct task *t, const char *json)
{
    _cleanup_json_ json_t *ports = json_loads(json, 0, NULL);
    struct txn tx;
    txn_init(&tx);
    txn_task_ports(&tx, t->meta.id, TASK_RUNNING, ports);
    commit(s, &tx);
}

static int refused_port;

static bool fake_free(void *data, const char *proto, uint16_t port)
{
    (void)data;
    (void)proto;
    return port != refused_port;
}

static void test_static_and_none(void)
{
    struct store *s = store_new();
    char node[ID_LEN + 1], hm[ID_LEN + 1], plain[ID_LEN + 1];
    id_new(node);
    add_service(s, hm, "hm",
                "[{\"Protocol\":\"tcp\",\"TargetPort\":80,\"PublishedPort\":"
                "8081,\"PublishMode\":\"host\"},{\"Protocol\":\"udp\","
                "\"TargetPort\":53,\"PublishedPort\":5353,\"PublishMode\":"
                "\"ingress\"},{\"Name\":\"dns\",\"Protocol\":\"udp\","
                "\"TargetPort\":53,\"PublishedPort\":53,\"PublishMode\":"
                "\"host\"}]");
    add_service(s, plain, "plain",
                "[{\"Protocol\":\"tcp\",\"TargetPort\":80,\"PublishedPort\":"
                "8000,\"PublishMode\":\"ingress\"}]");
    struct task *t = add_task(s, hm, node, TASK_STARTING);
    bool exhausted;
    _cleanup_json_ json_t *p =
        hostports_for_task(s, node, t, NULL, NULL, &exhausted);
    _cleanup_free_ char *text = jx_dumps(p);
    CHECK_STR(text, "[{\"Protocol\":\"tcp\",\"TargetPort\":80,"
                    "\"PublishedPort\":8081,\"PublishMode\":\"host\"},"
                    "{\"Name\":\"dns\",\"Protocol\":\"udp\",\"TargetPort\":53,"
                    "\"PublishedPort\":53,\"PublishMode\":\"host\"}]");
    CHECK(!exhausted);
    struct task *t2 = add_task(s, plain, node, TASK_STARTING);
    CHECK(hostports_for_task(s, node, t2, NULL, NULL, &exhausted) == NULL);
    CHECK(!exhausted);
    store_free(s);
}

static void test_dynamic(void)
{
    struct store *s = store_new();
    char node[ID_LEN + 1], other_node[ID_LEN + 1], dyn[ID_LEN + 1];
    id_new(node);
    id_new(other_node);
    add_service(s, dyn, "dyn",
                "[{\"Protocol\":\"tcp\",\"TargetPort\":80,\"PublishMode\":"
                "\"host\"},{\"Protocol\":\"tcp\",\"TargetPort\":81,"
                "\"PublishMode\":\"host\"}]");
    struct task *a = add_task(s, dyn, node, TASK_STARTING);
    bool exhausted;
    _cleanup_json_ json_t *pa =
        hostports_for_task(s, node, a, NULL, NULL, &exhausted);
    CHECK_INT(json_array_size(pa), 2);
    json_int_t p0 = jx_int(json_array_get(pa, 0), "PublishedPort", 0);
    json_int_t p1 = jx_int(json_array_get(pa, 1), "PublishedPort", 0);
    CHECK(p0 >= HOSTPORTS_FIRST && p0 <= HOSTPORTS_LAST);
    CHECK(p1 >= HOSTPORTS_FIRST && p1 <= HOSTPORTS_LAST);
    CHECK(p0 != p1);
    /* Once reported, a's ports are its own: asked again, the same; and a
     * second task of the node avoids them. */
    _cleanup_free_ char *rep = jx_dumps(pa);
    set_ports(s, a, rep);
    a = store_task(s, a->meta.id);
    CHECK(a && a->ports && json_array_size(a->ports) == 2);
    refused_port = (int)p0; /* the node's own sockets no longer matter */
    _cleanup_json_ json_t *again =
        hostports_for_task(s, node, a, fake_free, NULL, &exhausted);
    CHECK(json_equal(again, pa));
    struct task *b = add_task(s, dyn, node, TASK_STARTING);
    _cleanup_json_ json_t *pb =
        hostports_for_task(s, node, b, fake_free, NULL, &exhausted);
    CHECK_INT(json_array_size(pb), 2);
    for (size_t i = 0; i < 2; i++) {
        json_int_t q = jx_int(json_array_get(pb, i), "PublishedPort", 0);
        CHECK(q != p0 && q != p1 && q != refused_port);
    }
    /* A task on another node may take the same ports. */
    struct task *c = add_task(s, dyn, other_node, TASK_STARTING);
    _cleanup_json_ json_t *pc =
        hostports_for_task(s, other_node, c, NULL, NULL, &exhausted);
    CHECK_INT(json_array_size(pc), 2);
    store_free(s);
}

static void test_store_port_status(void)
{
    struct store *s = store_new();
    char node[ID_LEN + 1], hm[ID_LEN + 1];
    id_new(node);
    add_service(s, hm, "hm",
                "[{\"Protocol\":\"tcp\",\"TargetPort\":80,\"PublishedPort\":"
                "8081,\"PublishMode\":\"host\"}]");
    struct task *t = add_task(s, hm, node, TASK_STARTING);
    _cleanup_json_ json_t *before = task_to_json(t);
    _cleanup_free_ char *ps0 = jx_dumps(jx_path(before, "Status.PortStatus"));
    CHECK_STR(ps0, "{}");
    const char *ports = "[{\"Protocol\":\"tcp\",\"TargetPort\":80,"
                        "\"PublishedPort\":8081,\"PublishMode\":\"host\"}]";
    struct txn tx;
    txn_init(&tx);
    txn_task_status(&tx, t->meta.id, TASK_RUNNING, "started", NULL, NULL, 42,
                    -1);
    commit(s, &tx);
    set_ports(s, t, ports);
    t = store_task(s, t->meta.id);
    _cleanup_json_ json_t *j = task_to_json(t);
    _cleanup_free_ char *ps = jx_dumps(jx_path(j, "Status.PortStatus"));
    CHECK_STR(ps, "{\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":80,"
                  "\"PublishedPort\":8081,\"PublishMode\":\"host\"}]}");
    /* Encoded (snapshots, workers' copies) and back. */
    _cleanup_json_ json_t *enc = task_encode(t, false);
    struct err err = {0};
    struct task *dec = task_decode(enc, &err);
    CHECK(dec && dec->ports && json_array_size(dec->ports) == 1);
    task_free(dec);
    /* A stale report changes nothing; leaving running drops them. */
    txn_init(&tx);
    txn_task_ports(&tx, t->meta.id, TASK_STARTING, NULL);
    commit(s, &tx);
    CHECK(store_task(s, t->meta.id)->ports != NULL);
    txn_init(&tx);
    txn_task_status(&tx, t->meta.id, TASK_SHUTDOWN, "shutdown", NULL, NULL, 0,
                    0);
    commit(s, &tx);
    CHECK(store_task(s, t->meta.id)->ports == NULL);
    store_free(s);
}

int main(void)
{
    RUN(test_static_and_none);
    RUN(test_dynamic);
    RUN(test_store_port_status);
    HARNESS_END();
}
