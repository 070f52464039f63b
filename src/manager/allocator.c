// SPDX-License-Identifier: Apache-2.0
// Network allocation on the leader. Reservations are made when a change is
// decided (API request or controller pass), recorded in the store with the
// change, and confirmed or undone by what commits: a committed change is
// replayed into the state through allocator_on_event (reserving what is
// already reserved is harmless), a failed one is undone by the caller.
#include "manager/allocator.h"

#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"

struct net_alloc {
    char id[ID_LEN + 1];
    struct ipv4_net net;
    struct ipam_subnet sub;
    uint32_t vni;
};

struct service_alloc {
    char id[ID_LEN + 1];
    json_t *endpoint; /* as last committed */
};

/* A published ingress port and its service; the key lives here. */
struct port_alloc {
    char key[32]; /* "tcp/8000" */
    char owner[ID_LEN + 1];
};

/* A task's attachments while they hold addresses. */
struct task_alloc {
    char id[ID_LEN + 1];
    json_t *networks;
};

/* ---- helpers ---- */

static void free_map_values(struct hmap *m, void (*fn)(void *))
{
    size_t it = 0;
    void *v;
    while (hmap_next(m, &it, NULL, &v))
        fn(v);
    hmap_fini(m);
    hmap_init(m);
}

static void net_free(void *v)
{
    struct net_alloc *na = v;
    ipam_subnet_fini(&na->sub);
    free(na);
}

static void service_alloc_free(void *v)
{
    struct service_alloc *sa = v;
    json_decref(sa->endpoint);
    free(sa);
}

static void task_alloc_free(void *v)
{
    struct task_alloc *ta = v;
    json_decref(ta->networks);
    free(ta);
}

void allocator_init(struct allocator *a)
{
    memset(a, 0, sizeof(*a));
    struct ipv4_net base;
    ipv4_net_parse("10.0.0.0/8", &base);
    ipam_pool_init(&a->pool, base, 24);
    hmap_init(&a->nets);
    hmap_init(&a->services);
    hmap_init(&a->ports);
    hmap_init(&a->tasks);
}

void allocator_fini(struct allocator *a)
{
    free_map_values(&a->nets, net_free);
    free_map_values(&a->services, service_alloc_free);
    free_map_values(&a->ports, free);
    free_map_values(&a->tasks, task_alloc_free);
    hmap_fini(&a->nets);
    hmap_fini(&a->services);
    hmap_fini(&a->ports);
    hmap_fini(&a->tasks);
    ipam_pool_fini(&a->pool);
}

/* "10.0.1.5/24" or "10.0.1.5" -> address */
static int parse_addr(const char *s, uint32_t *out)
{
    char ip[20];
    snprintf(ip, sizeof(ip), "%s", s ? s : "");
    char *slash = strchr(ip, '/');
    if (slash)
        *slash = '\0';
    return ipv4_parse(ip, out);
}

static void port_key(const json_t *p, char *out, size_t size)
{
    const char *proto = jx_str(p, "Protocol");
    snprintf(out, size, "%s/%lld", proto && *proto ? proto : "tcp",
             (long long)jx_int(p, "PublishedPort", 0));
}

static bool is_ingress_port(const json_t *p)
{
    const char *mode = jx_str(p, "PublishMode");
    return !mode || !*mode || strcmp(mode, "ingress") == 0;
}

/* ---- recording committed state ---- */

static struct net_alloc *add_network(struct allocator *a,
                                     const struct network *n)
{
    struct net_alloc *na = hmap_get(&a->nets, n->meta.id);
    if (na)
        return na;
    struct ipv4_net net;
    uint32_t gw;
    struct err err = {0};
    if (ipv4_net_parse(n->subnet, &net) < 0 || ipv4_parse(n->gateway, &gw) < 0)
        return NULL;
    na = xcalloc(1, sizeof(*na));
    snprintf(na->id, sizeof(na->id), "%s", n->meta.id);
    na->net = net;
    na->vni = n->vni;
    if (ipam_subnet_init(&na->sub, net, &err) < 0) {
        free(na);
        return NULL;
    }
    ipam_subnet_reserve(&na->sub, gw, NULL);
    ipam_pool_reserve(&a->pool, net, NULL);
    hmap_put(&a->nets, na->id, na);
    return na;
}

static void remove_network(struct allocator *a, const char *id)
{
    struct net_alloc *na = hmap_del(&a->nets, id);
    if (!na)
        return;
    ipam_pool_release(&a->pool, na->net);
    net_free(na);
}

/* Reserves (reserve=true) or releases the VIPs and ports of an endpoint. */
static void endpoint_mark(struct allocator *a, const char *service_id,
                          const json_t *ep, bool reserve)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ep, "VirtualIPs"), i, v)
    {
        struct net_alloc *na = hmap_get(&a->nets, jx_str0(v, "NetworkID"));
        uint32_t addr;
        if (!na || parse_addr(jx_str(v, "Addr"), &addr) < 0)
            continue;
        if (reserve)
            ipam_subnet_reserve(&na->sub, addr, NULL);
        else
            ipam_subnet_release(&na->sub, addr);
    }
    json_array_foreach(json_object_get(ep, "Ports"), i, v)
    {
        if (!is_ingress_port(v) || !jx_int(v, "PublishedPort", 0))
            continue;
        char key[32];
        port_key(v, key, sizeof(key));
        struct port_alloc *pa = hmap_get(&a->ports, key);
        if (reserve && !pa) {
            pa = xcalloc(1, sizeof(*pa));
            snprintf(pa->key, sizeof(pa->key), "%s", key);
            snprintf(pa->owner, sizeof(pa->owner), "%s", service_id);
            hmap_put(&a->ports, pa->key, pa);
        } else if (!reserve && pa && strcmp(pa->owner, service_id) == 0) {
            hmap_del(&a->ports, pa->key);
            free(pa);
        }
    }
}

static bool endpoint_has_vip(const json_t *ep, const json_t *vip)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(ep, "VirtualIPs"), i, v)
    {
        if (strcmp(jx_str0(v, "NetworkID"), jx_str0(vip, "NetworkID")) == 0 &&
            strcmp(jx_str0(v, "Addr"), jx_str0(vip, "Addr")) == 0)
            return true;
    }
    return false;
}

static bool endpoint_has_port(const json_t *ep, const json_t *port)
{
    char want[32], have[32];
    port_key(port, want, sizeof(want));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(ep, "Ports"), i, p)
    {
        port_key(p, have, sizeof(have));
        if (is_ingress_port(p) && strcmp(have, want) == 0)
            return true;
    }
    return false;
}

/* Releases what old has and new does not. */
static void endpoint_release_diff(struct allocator *a, const char *sid,
                                  const json_t *old_ep, const json_t *new_ep)
{
    json_t *gone = json_pack("{s:[], s:[]}", "VirtualIPs", "Ports");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(old_ep, "VirtualIPs"), i, v)
    {
        if (!endpoint_has_vip(new_ep, v))
            json_array_append(json_object_get(gone, "VirtualIPs"), v);
    }
    json_array_foreach(json_object_get(old_ep, "Ports"), i, v)
    {
        if (!endpoint_has_port(new_ep, v))
            json_array_append(json_object_get(gone, "Ports"), v);
    }
    endpoint_mark(a, sid, gone, false);
    json_decref(gone);
}

static void set_service(struct allocator *a, const struct service *s)
{
    struct service_alloc *sa = hmap_get(&a->services, s->meta.id);
    if (!sa) {
        sa = xcalloc(1, sizeof(*sa));
        snprintf(sa->id, sizeof(sa->id), "%s", s->meta.id);
        hmap_put(&a->services, sa->id, sa);
    }
    if (sa->endpoint)
        endpoint_release_diff(a, sa->id, sa->endpoint, s->endpoint);
    json_decref(sa->endpoint);
    sa->endpoint = s->endpoint ? jx_copy(s->endpoint) : NULL;
    endpoint_mark(a, sa->id, sa->endpoint, true);
}

static void remove_service(struct allocator *a, const char *id)
{
    struct service_alloc *sa = hmap_del(&a->services, id);
    if (!sa)
        return;
    endpoint_mark(a, sa->id, sa->endpoint, false);
    service_alloc_free(sa);
}

static void attachments_mark(struct allocator *a, const json_t *atts,
                             bool reserve)
{
    size_t i;
    json_t *att;
    json_array_foreach(atts, i, att)
    {
        struct net_alloc *na =
            hmap_get(&a->nets, jx_str0(jx_path(att, "Network"), "ID"));
        size_t k;
        json_t *addr;
        json_array_foreach(json_object_get(att, "Addresses"), k, addr)
        {
            uint32_t ip;
            if (!na || parse_addr(json_string_value(addr), &ip) < 0)
                continue;
            if (reserve)
                ipam_subnet_reserve(&na->sub, ip, NULL);
            else
                ipam_subnet_release(&na->sub, ip);
        }
    }
}

static void track_task(struct allocator *a, const struct task *t)
{
    if (!t->networks || task_state_is_terminal(t->state))
        return;
    if (hmap_get(&a->tasks, t->meta.id))
        return;
    attachments_mark(a, t->networks, true);
    struct task_alloc *ta = xcalloc(1, sizeof(*ta));
    snprintf(ta->id, sizeof(ta->id), "%s", t->meta.id);
    ta->networks = jx_copy(t->networks);
    hmap_put(&a->tasks, ta->id, ta);
}

static void untrack_task(struct allocator *a, const char *id)
{
    struct task_alloc *ta = hmap_del(&a->tasks, id);
    if (!ta)
        return;
    attachments_mark(a, ta->networks, false);
    task_alloc_free(ta);
}

/* swarm init's --default-addr-pool / --default-addr-pool-mask-length
 * (the first pool; 10.0.0.0/8 in /24s by default). */
static void use_cluster_pool(struct allocator *a, const struct store *s)
{
    const struct cluster *c = store_cluster(s);
    const json_t *pools =
        c ? json_object_get(c->internal, "DefaultAddrPool") : NULL;
    const char *first = json_string_value(json_array_get(pools, 0));
    int size = c ? (int)jx_int(c->internal, "SubnetSize", 24) : 24;
    struct ipv4_net base;
    if (!first || ipv4_net_parse(first, &base) < 0 || size < base.prefix ||
        size > 29)
        return;
    ipam_pool_fini(&a->pool);
    ipam_pool_init(&a->pool, base, size);
}

void allocator_rebuild(struct allocator *a, const struct store *s)
{
    allocator_fini(a);
    allocator_init(a);
    use_cluster_pool(a, s);
    size_t it = 0;
    void *o;
    while (store_next(s, KIND_NETWORK, &it, &o))
        add_network(a, o);
    it = 0;
    while (store_next(s, KIND_SERVICE, &it, &o))
        set_service(a, o);
    it = 0;
    while (store_next(s, KIND_TASK, &it, &o))
        track_task(a, o);
}

void allocator_on_event(struct allocator *a, const struct store *s,
                        const struct store_event *ev)
{
    switch (ev->kind) {
    case KIND_NETWORK: {
        struct network *n = ev->obj;
        if (ev->action == STORE_DELETE)
            remove_network(a, n->meta.id);
        else
            add_network(a, n);
        break;
    }
    case KIND_SERVICE: {
        struct service *svc = ev->obj;
        if (ev->action == STORE_DELETE)
            remove_service(a, svc->meta.id);
        else
            set_service(a, svc);
        break;
    }
    case KIND_TASK: {
        struct task *t = ev->obj;
        if (ev->action == STORE_DELETE || task_state_is_terminal(t->state))
            untrack_task(a, t->meta.id);
        else
            track_task(a, t);
        break;
    }
    case KIND_CLUSTER:
        /* swarm init's address pool arrives with the cluster. */
        if (ev->action == STORE_CREATE)
            allocator_rebuild(a, s);
        break;
    case KIND__COUNT:
        allocator_rebuild(a, s);
        break;
    default:
        break;
    }
}

/* ---- networks ---- */

int allocator_network(struct allocator *a, const struct store *s,
                      struct network *n, struct err *err)
{
    json_t *cfg = json_array_get(jx_path(n->spec, "IPAMOptions.Configs"), 0);
    const char *subnet = jx_str(cfg, "Subnet");
    const char *gateway = jx_str(cfg, "Gateway");
    struct ipv4_net net;
    uint32_t gw;
    if (subnet && *subnet) {
        if (ipv4_net_parse(subnet, &net) < 0)
            return err_set(err, ERR_INVALID, "invalid subnet %s", subnet);
        if (net.prefix < 8 || net.prefix > 29)
            return err_set(err, ERR_INVALID,
                           "invalid subnet %s: use a prefix from /8 to /29",
                           subnet);
        if (ipam_pool_reserve(&a->pool, net, err) < 0)
            return -1;
    } else if (ipam_pool_alloc(&a->pool, &net, err) < 0) {
        return -1;
    }
    if (gateway && *gateway) {
        if (ipv4_parse(gateway, &gw) < 0 || !ipv4_net_contains(&net, gw) ||
            gw == net.addr) {
            ipam_pool_release(&a->pool, net);
            return err_set(err, ERR_INVALID, "invalid gateway %s for subnet %s",
                           gateway, subnet ? subnet : "");
        }
    } else {
        gw = net.addr + 1;
    }
    uint32_t vni = n->ingress ? INGRESS_VNI : INGRESS_VNI + 1;
    for (bool clash = true; clash;) {
        clash = false;
        size_t it = 0;
        void *o;
        while (store_next(s, KIND_NETWORK, &it, &o))
            if (((struct network *)o)->vni == vni)
                clash = true;
        if (clash)
            vni++;
    }
    ipv4_net_fmt(&net, n->subnet, sizeof(n->subnet));
    ipv4_fmt(gw, n->gateway, sizeof(n->gateway));
    n->vni = vni;
    return 0;
}

void allocator_network_unreserve(struct allocator *a, const struct network *n)
{
    struct ipv4_net net;
    if (hmap_get(&a->nets, n->meta.id) || ipv4_net_parse(n->subnet, &net) < 0)
        return;
    ipam_pool_release(&a->pool, net);
}

/* ---- services ---- */

json_t *allocator_service_networks(const struct store *s,
                                   const struct service *svc)
{
    return store_service_networks(s, svc);
}

static int publish_ports(struct allocator *a, const struct store *s,
                         const char *service_id, const json_t *spec,
                         const json_t *current, json_t *ports, struct err *err)
{
    size_t i;
    json_t *p;
    json_array_foreach(jx_path(spec, "EndpointSpec.Ports"), i, p)
    {
        json_t *out = jx_copy(p);
        if (!json_object_get(out, "Protocol"))
            json_object_set_new(out, "Protocol", json_string("tcp"));
        if (!json_object_get(out, "PublishMode"))
            json_object_set_new(out, "PublishMode", json_string("ingress"));
        json_array_append_new(ports, out);
        if (!is_ingress_port(out))
            continue;
        if (!jx_int(out, "PublishedPort", 0)) {
            /* Dynamic: keep the one this target had, else find one. */
            size_t k;
            json_t *q;
            json_array_foreach(json_object_get(current, "Ports"), k, q)
            {
                if (jx_int(q, "TargetPort", 0) ==
                        jx_int(out, "TargetPort", 0) &&
                    strcmp(jx_str0(q, "Protocol"), jx_str0(out, "Protocol")) ==
                        0 &&
                    is_ingress_port(q))
                    json_object_set_new(
                        out, "PublishedPort",
                        json_integer(jx_int(q, "PublishedPort", 0)));
            }
        }
        if (!jx_int(out, "PublishedPort", 0)) {
            for (int port = DYNAMIC_PORT_FIRST; port <= DYNAMIC_PORT_LAST;
                 port++) {
                json_object_set_new(out, "PublishedPort", json_integer(port));
                char key[32];
                port_key(out, key, sizeof(key));
                if (!hmap_get(&a->ports, key))
                    break;
                if (port == DYNAMIC_PORT_LAST)
                    return err_set(err, ERR_UNAVAILABLE,
                                   "rpc error: code = ResourceExhausted "
                                   "desc = no more dynamic ports available");
            }
        }
        char key[32];
        port_key(out, key, sizeof(key));
        const struct port_alloc *pa = hmap_get(&a->ports, key);
        const char *owner = pa ? pa->owner : NULL;
        if (owner && strcmp(owner, service_id) != 0) {
            const struct service *o = store_service(s, owner);
            return err_set(err, ERR_INVALID,
                           "rpc error: code = InvalidArgument desc = port "
                           "'%lld' is already in use by service '%s' (%s) as "
                           "an ingress port",
                           (long long)jx_int(out, "PublishedPort", 0),
                           o ? o->name : owner, owner);
        }
    }
    return 0;
}

static const char *current_vip(const json_t *current, const char *net_id)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(current, "VirtualIPs"), i, v)
    {
        if (strcmp(jx_str0(v, "NetworkID"), net_id) == 0)
            return jx_str(v, "Addr");
    }
    return NULL;
}

json_t *allocator_endpoint(struct allocator *a, const struct store *s,
                           const char *service_id, const json_t *spec,
                           struct err *err)
{
    const struct service *existing = store_service(s, service_id);
    const json_t *current = existing ? existing->endpoint : NULL;
    json_t *es = json_object_get(spec, "EndpointSpec");
    json_t *ep = json_object();
    json_object_set_new(ep, "Spec", es ? jx_copy(es) : json_object());
    json_t *ports = json_array();
    if (publish_ports(a, s, service_id, spec, current, ports, err) < 0) {
        json_decref(ports);
        json_decref(ep);
        return NULL;
    }
    if (json_array_size(ports))
        json_object_set_new(ep, "Ports", ports);
    else
        json_decref(ports);
    const char *mode = jx_str(es, "Mode");
    json_t *nets = store_spec_networks(s, spec);
    json_t *vips = json_array();
    size_t i;
    json_t *id;
    bool dnsrr = mode && strcmp(mode, "dnsrr") == 0;
    json_array_foreach(nets, i, id)
    {
        const char *net_id = json_string_value(id);
        struct net_alloc *na = hmap_get(&a->nets, net_id);
        if (dnsrr || !na)
            continue;
        const char *keep = current_vip(current, net_id);
        char addr[32];
        if (keep) {
            snprintf(addr, sizeof(addr), "%s", keep);
        } else {
            uint32_t ip;
            if (ipam_subnet_alloc(&na->sub, &ip, err) < 0) {
                json_decref(nets);
                json_object_set_new(ep, "VirtualIPs", vips);
                allocator_endpoint_unreserve(a, s, service_id, ep);
                json_decref(ep);
                return NULL;
            }
            char ipstr[16];
            ipv4_fmt(ip, ipstr, sizeof(ipstr));
            snprintf(addr, sizeof(addr), "%s/%d", ipstr, na->net.prefix);
        }
        json_array_append_new(
            vips, json_pack("{s:s, s:s}", "NetworkID", net_id, "Addr", addr));
    }
    json_decref(nets);
    if (json_array_size(vips))
        json_object_set_new(ep, "VirtualIPs", vips);
    else
        json_decref(vips);
    /* Reserve the ports now, so a concurrent request sees them taken. */
    endpoint_mark(a, service_id, ep, true);
    return ep;
}

void allocator_endpoint_unreserve(struct allocator *a, const struct store *s,
                                  const char *service_id,
                                  const json_t *endpoint)
{
    const struct service *existing = store_service(s, service_id);
    endpoint_release_diff(a, service_id, endpoint,
                          existing ? existing->endpoint : NULL);
}

/* ---- tasks ---- */

json_t *allocator_task(struct allocator *a, const struct store *s,
                       const struct task *t, struct err *err)
{
    const struct service *svc = store_service(s, t->service_id);
    json_t *atts = json_array();
    if (!svc)
        return atts;
    json_t *nets = store_spec_networks(s, svc->spec);
    size_t i;
    json_t *id;
    json_array_foreach(nets, i, id)
    {
        const char *net_id = json_string_value(id);
        struct net_alloc *na = hmap_get(&a->nets, net_id);
        if (!na)
            continue;
        uint32_t ip;
        if (ipam_subnet_alloc(&na->sub, &ip, err) < 0) {
            attachments_mark(a, atts, false);
            json_decref(atts);
            json_decref(nets);
            return NULL;
        }
        char ipstr[16], addr[32];
        ipv4_fmt(ip, ipstr, sizeof(ipstr));
        snprintf(addr, sizeof(addr), "%s/%d", ipstr, na->net.prefix);
        json_array_append_new(atts, json_pack("{s:{s:s}, s:[s]}", "Network",
                                              "ID", net_id, "Addresses", addr));
    }
    json_decref(nets);
    return atts;
}
