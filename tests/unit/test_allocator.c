// SPDX-License-Identifier: Apache-2.0
// Allocator tests over a real store: network subnets and VXLAN ids, service
// endpoints (VIPs, published and dynamic ports, conflicts), task addresses,
// release when tasks end, and rebuilding the same state from the store.
#include "harness.h"

#include "base/jsonx.h"
#include "base/mem.h"
#include "manager/allocator.h"
#include "store/txn.h"

static uint64_t idx;

static int commit(struct store *s, struct txn *t, struct err *err)
{
    size_t len;
    char *data = txn_encode(t, &len);
    int rc = store_apply(s, ++idx, data, len, err);
    free(data);
    txn_fini(t);
    return rc;
}

struct ctx {
    struct store *s;
    struct allocator a;
};

static void feed(void *data, const struct store_event *ev)
{
    struct ctx *c = data;
    allocator_on_event(&c->a, c->s, ev);
}

static struct network *make_network(struct ctx *c, const char *name,
                                    const char *subnet, bool ingress,
                                    struct err *err)
{
    struct network *n = network_new();
    id_new(n->meta.id);
    n->spec = json_pack("{s:s, s:b}", "Name", name, "Ingress", ingress);
    if (subnet)
        jx_set_path(n->spec, "IPAMOptions.Configs",
                    json_pack("[{s:s}]", "Subnet", subnet));
    n->name = jx_str(n->spec, "Name");
    n->ingress = ingress;
    if (allocator_network(&c->a, c->s, n, err) < 0) {
        network_free(n);
        return NULL;
    }
    struct txn t;
    txn_init(&t);
    txn_network_create(&t, n);
    char id[ID_LEN + 1];
    memcpy(id, n->meta.id, sizeof(id));
    network_free(n);
    CHECK_INT(commit(c->s, &t, err), 0);
    return store_network(c->s, id);
}

static struct service *make_service(struct ctx *c, const char *name,
                                    const char *net_id, int published,
                                    struct err *err)
{
    json_t *spec = json_pack("{s:s, s:{s:{s:s}}}", "Name", name, "TaskTemplate",
                             "ContainerSpec", "Image", "bb");
    if (net_id)
        jx_set_path(spec, "TaskTemplate.Networks",
                    json_pack("[{s:s}]", "Target", net_id));
    if (published >= 0)
        jx_set_path(spec, "EndpointSpec.Ports",
                    json_pack("[{s:i, s:i}]", "TargetPort", 80, "PublishedPort",
                              published));
    char id[ID_LEN + 1];
    id_new(id);
    json_t *ep = allocator_endpoint(&c->a, c->s, id, spec, err);
    if (!ep) {
        json_decref(spec);
        return NULL;
    }
    struct txn t;
    txn_init(&t);
    txn_service_create(&t, id, spec, ep);
    json_decref(spec);
    json_decref(ep);
    CHECK_INT(commit(c->s, &t, err), 0);
    return store_service(c->s, id);
}

static struct task *make_task(struct ctx *c, const struct service *svc,
                              int slot)
{
    struct task *t = task_new();
    id_new(t->meta.id);
    snprintf(t->service_id, sizeof(t->service_id), "%s", svc->meta.id);
    t->slot = slot;
    struct txn x;
    txn_init(&x);
    txn_task_create(&x, t);
    char id[ID_LEN + 1];
    memcpy(id, t->meta.id, sizeof(id));
    task_free(t);
    struct err err = {0};
    commit(c->s, &x, &err);
    t = store_task(c->s, id);
    json_t *nets = allocator_task(&c->a, c->s, t, &err);
    CHECK(nets != NULL);
    txn_init(&x);
    txn_task_allocate(&x, id, nets);
    json_decref(nets);
    CHECK_INT(commit(c->s, &x, &err), 0);
    return store_task(c->s, id);
}

static const char *task_addr(const struct task *t, size_t i)
{
    return json_string_value(json_array_get(
        jx_path(json_array_get(t->networks, i), "Addresses"), 0));
}

static void test_allocation(void)
{
    struct ctx c = {.s = store_new()};
    allocator_init(&c.a);
    store_watch(c.s, feed, &c);
    struct err err = {0};
    struct network *ingress = make_network(&c, "ingress", NULL, true, &err);
    CHECK(ingress != NULL);
    CHECK_STR(ingress->subnet, "10.0.0.0/24");
    CHECK_STR(ingress->gateway, "10.0.0.1");
    CHECK_INT(ingress->vni, INGRESS_VNI);
    struct network *net = make_network(&c, "backend", NULL, false, &err);
    CHECK_STR(net->subnet, "10.0.1.0/24");
    CHECK_INT(net->vni, INGRESS_VNI + 1);
    CHECK(make_network(&c, "clash", "10.0.1.128/25", false, &err) == NULL);
    CHECK_INT(err.code, ERR_CONFLICT);
    struct network *user =
        make_network(&c, "user", "192.168.7.0/24", false, &err);
    CHECK_STR(user->gateway, "192.168.7.1");

    /* A published service: a VIP on ingress and on its network. */
    struct service *web = make_service(&c, "web", net->meta.id, 8080, &err);
    CHECK(web != NULL);
    json_t *vips = json_object_get(web->endpoint, "VirtualIPs");
    CHECK_INT(json_array_size(vips), 2);
    CHECK_STR(jx_str(json_array_get(vips, 0), "Addr"), "10.0.0.2/24");
    CHECK_STR(jx_str(json_array_get(vips, 1), "Addr"), "10.0.1.2/24");
    /* The same published port elsewhere is refused, naming the owner. */
    CHECK(make_service(&c, "web2", NULL, 8080, &err) == NULL);
    CHECK(strstr(err.msg, "port '8080' is already in use by service 'web'") !=
          NULL);
    /* A target-only port gets a dynamic published port. */
    struct service *dyn = make_service(&c, "dyn", NULL, 0, &err);
    CHECK_INT(jx_int(json_array_get(jx_path(dyn->endpoint, "Ports"), 0),
                     "PublishedPort", 0),
              DYNAMIC_PORT_FIRST);

    /* Tasks: one address per network, ingress first. */
    struct task *t1 = make_task(&c, web, 1);
    struct task *t2 = make_task(&c, web, 2);
    CHECK_INT(json_array_size(t1->networks), 2);
    CHECK_STR(task_addr(t1, 0), "10.0.0.4/24"); /* .3: dyn's VIP */
    CHECK_STR(task_addr(t1, 1), "10.0.1.3/24");
    CHECK_STR(task_addr(t2, 1), "10.0.1.4/24");
    json_t *shown = store_task_to_json(c.s, t1);
    CHECK_STR(jx_path_str(json_array_get(
                              json_object_get(shown, "NetworksAttachments"), 1),
                          "Network.Spec.Name"),
              "backend");
    json_decref(shown);

    /* A rebuilt allocator agrees with the live one. */
    struct allocator fresh;
    allocator_init(&fresh);
    allocator_rebuild(&fresh, c.s);
    struct task *probe = task_new();
    snprintf(probe->service_id, sizeof(probe->service_id), "%s", web->meta.id);
    json_t *a1 = allocator_task(&c.a, c.s, probe, &err);
    json_t *a2 = allocator_task(&fresh, c.s, probe, &err);
    CHECK(json_equal(a1, a2));
    json_decref(a1);
    json_decref(a2);
    task_free(probe);
    allocator_fini(&fresh);

    /* An ended task gives its addresses back; the service's delete gives
     * back its VIPs and ports. */
    struct txn x;
    txn_init(&x);
    txn_task_status(&x, t1->meta.id, TASK_FAILED, "failed", "x", NULL, 0, 1);
    CHECK_INT(commit(c.s, &x, &err), 0);
    txn_init(&x);
    txn_service_delete(&x, web->meta.id);
    CHECK_INT(commit(c.s, &x, &err), 0);
    struct service *again = make_service(&c, "again", NULL, 8080, &err);
    CHECK(again != NULL);
    allocator_fini(&c.a);
    store_free(c.s);
}

int main(void)
{
    RUN(test_allocation);
    HARNESS_END();
}
