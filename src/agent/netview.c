// SPDX-License-Identifier: Apache-2.0
// The derived view of services, tasks and addresses per network.
#include "agent/netview.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"

void netview_init(struct netview *v)
{
    hmap_init(&v->names);
    hmap_init(&v->addrs);
    hmap_init(&v->known);
    vec_init(&v->owned);
}

void netview_fini(struct netview *v)
{
    size_t it = 0;
    void *val;
    while (hmap_next(&v->names, &it, NULL, &val)) {
        struct nv_name *n = val;
        for (size_t i = 0; i < n->addrs.len; i++)
            free(n->addrs.items[i]);
        vec_fini(&n->addrs);
        free(n->key);
        free(n);
    }
    for (size_t i = 0; i < v->owned.len; i++)
        free(v->owned.items[i]);
    vec_fini(&v->owned);
    hmap_fini(&v->names);
    hmap_fini(&v->addrs);
    hmap_fini(&v->known);
    netview_init(v);
}

bool netview_task_serves(const struct task *t)
{
    /* A task with a health check serves only while healthy (it reaches
     * running once healthy; unhealthy is reported before it is stopped). */
    return t->state == TASK_RUNNING && t->desired == TASK_RUNNING &&
           (t->health == TASK_HEALTH_NONE || t->health == TASK_HEALTH_HEALTHY);
}

bool netview_task_addr(const struct task *t, const char *net_id,
                       struct in_addr *out, int *prefix)
{
    size_t i;
    json_t *att;
    json_array_foreach(t->networks, i, att)
    {
        if (strcmp(jx_str0(jx_path(att, "Network"), "ID"), net_id) != 0)
            continue;
        const char *cidr =
            json_string_value(json_array_get(jx_path(att, "Addresses"), 0));
        char ip[20];
        snprintf(ip, sizeof(ip), "%s", cidr ? cidr : "");
        char *slash = strchr(ip, '/');
        if (slash)
            *slash = '\0';
        if (prefix)
            *prefix = slash ? atoi(slash + 1) : 32;
        return inet_pton(AF_INET, ip, out) == 1;
    }
    return false;
}

static char *lower_dup(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

static void mark_known(struct netview *v, const char *name)
{
    char *k = lower_dup(name);
    if (hmap_get(&v->known, k)) {
        free(k);
        return;
    }
    vec_push(&v->owned, k);
    hmap_put(&v->known, k, (void *)1);
}

static struct nv_name *name_entry(struct netview *v, const char *net_id,
                                  const char *name)
{
    char *key = xasprintf("%s/%s", net_id, name);
    for (char *p = key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    struct nv_name *n = hmap_get(&v->names, key);
    if (n) {
        free(key);
        return n;
    }
    n = xcalloc(1, sizeof(*n));
    n->key = key;
    vec_init(&n->addrs);
    hmap_put(&v->names, n->key, n);
    mark_known(v, name);
    return n;
}

static void add_addr(struct nv_name *n, struct in_addr a)
{
    struct in_addr *copy = xmalloc(sizeof(*copy));
    *copy = a;
    vec_push(&n->addrs, copy);
}

static void index_addr(struct netview *v, struct in_addr a,
                       const struct network *net, const struct task *t,
                       const struct service *s)
{
    struct nv_addr *e = xcalloc(1, sizeof(*e));
    inet_ntop(AF_INET, &a, e->key, sizeof(e->key));
    e->addr = a;
    e->network = net;
    e->task = t;
    e->service = s;
    vec_push(&v->owned, e);
    hmap_put(&v->addrs, e->key, e);
}

/* The names a service has on one network: its own and its aliases. */
static json_t *aliases(const struct service *s, const char *net_id)
{
    json_t *names = json_pack("[s]", s->name);
    size_t i;
    json_t *att;
    json_array_foreach(jx_path(s->spec, "TaskTemplate.Networks"), i, att)
    {
        if (strcmp(jx_str0(att, "Target"), net_id) != 0)
            continue;
        size_t k;
        json_t *al;
        json_array_foreach(json_object_get(att, "Aliases"), k, al)
        {
            if (json_is_string(al))
                json_array_append(names, al);
        }
    }
    return names;
}

static void index_service(struct netview *v, const struct store *st,
                          const struct service *s)
{
    const char *mode = jx_path_str(s->spec, "EndpointSpec.Mode");
    bool dnsrr = mode && strcmp(mode, "dnsrr") == 0;
    json_t *nets = store_service_networks(st, s);
    size_t i;
    json_t *id;
    json_array_foreach(nets, i, id)
    {
        const char *net_id = json_string_value(id);
        const struct network *net = store_network(st, net_id);
        struct in_addr vip = {0};
        size_t k;
        json_t *vj;
        json_array_foreach(jx_path(s->endpoint, "VirtualIPs"), k, vj)
        {
            if (strcmp(jx_str0(vj, "NetworkID"), net_id) != 0)
                continue;
            char ip[20];
            snprintf(ip, sizeof(ip), "%s", jx_str0(vj, "Addr"));
            char *slash = strchr(ip, '/');
            if (slash)
                *slash = '\0';
            if (inet_pton(AF_INET, ip, &vip) == 1)
                index_addr(v, vip, net, NULL, s);
        }
        /* Ingress is the routing mesh's, not a network to resolve on. */
        if (net && net->ingress)
            continue;
        json_t *names = aliases(s, net_id);
        json_t *name;
        json_array_foreach(names, k, name)
        {
            struct nv_name *n = name_entry(v, net_id, json_string_value(name));
            n->vip.s_addr = dnsrr ? 0 : vip.s_addr;
            n->dnsrr = dnsrr;
            n->service = s;
            char tasks[300];
            snprintf(tasks, sizeof(tasks), "tasks.%s", json_string_value(name));
            name_entry(v, net_id, tasks)->service = s;
        }
        json_decref(names);
    }
    json_decref(nets);
}

static void index_task(struct netview *v, const struct store *st,
                       const struct task *t)
{
    const struct service *s = store_service(st, t->service_id);
    size_t i;
    json_t *att;
    json_array_foreach(t->networks, i, att)
    {
        const char *net_id = jx_str0(jx_path(att, "Network"), "ID");
        const struct network *net = store_network(st, net_id);
        struct in_addr a;
        if (!net || !netview_task_addr(t, net_id, &a, NULL))
            continue;
        index_addr(v, a, net, t, s);
        if (!netview_task_serves(t) || !s || net->ingress)
            continue;
        json_t *names = aliases(s, net_id);
        size_t k;
        json_t *name;
        json_array_foreach(names, k, name)
        {
            add_addr(name_entry(v, net_id, json_string_value(name)), a);
            char tasks[300];
            snprintf(tasks, sizeof(tasks), "tasks.%s", json_string_value(name));
            add_addr(name_entry(v, net_id, tasks), a);
        }
        json_decref(names);
        /* The task's own names: svc.slot.id, and its container's short id
         * (the default hostname). */
        char tname[300];
        if (t->slot)
            snprintf(tname, sizeof(tname), "%s.%d.%s", s->name, t->slot,
                     t->meta.id);
        else
            snprintf(tname, sizeof(tname), "%s.%s.%s", s->name, t->node_id,
                     t->meta.id);
        add_addr(name_entry(v, net_id, tname), a);
        if (t->container_id[0]) {
            char short_id[13];
            snprintf(short_id, sizeof(short_id), "%s", t->container_id);
            add_addr(name_entry(v, net_id, short_id), a);
        }
        const char *host = jx_path_str(t->spec, "ContainerSpec.Hostname");
        if (host && *host)
            add_addr(name_entry(v, net_id, host), a);
    }
}

void netview_build(struct netview *v, const struct store *s)
{
    netview_fini(v);
    size_t it = 0;
    void *o;
    while (store_next(s, KIND_SERVICE, &it, &o))
        index_service(v, s, o);
    it = 0;
    while (store_next(s, KIND_TASK, &it, &o)) {
        const struct task *t = o;
        if (t->networks && !task_state_is_terminal(t->state))
            index_task(v, s, t);
    }
}

const struct nv_addr *netview_addr(const struct netview *v, struct in_addr addr)
{
    char key[16];
    inet_ntop(AF_INET, &addr, key, sizeof(key));
    return hmap_get(&v->addrs, key);
}

const struct nv_name *netview_name(const struct netview *v, const char *net_id,
                                   const char *name)
{
    char key[400];
    snprintf(key, sizeof(key), "%s/%s", net_id, name);
    return hmap_get(&v->names, key);
}

bool netview_name_known(const struct netview *v, const char *name)
{
    return hmap_get(&v->known, name) != NULL;
}
