// SPDX-License-Identifier: Apache-2.0
// The other nodes as this node's VXLAN devices must see them, computed
// from the store in one pass over its nodes and tasks.
#include "agent/netpeers.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "net/overlay.h"

void netpeers_init(struct netpeers *p)
{
    hmap_init(&p->vteps);
    hmap_init(&p->eps);
}

void netpeers_fini(struct netpeers *p)
{
    size_t it = 0;
    void *v;
    while (hmap_next(&p->vteps, &it, NULL, &v))
        free(v);
    it = 0;
    while (hmap_next(&p->eps, &it, NULL, &v))
        free(v);
    hmap_fini(&p->vteps);
    hmap_fini(&p->eps);
    netpeers_init(p);
}

void netpeers_add_vtep(struct netpeers *p, const char *vtep)
{
    if (hmap_get(&p->vteps, vtep))
        return;
    char *key = xcalloc(1, 16);
    snprintf(key, 16, "%s", vtep);
    hmap_put(&p->vteps, key, key);
}

void netpeers_del_vtep(struct netpeers *p, const char *vtep)
{
    free(hmap_del(&p->vteps, vtep));
}

void netpeers_add_ep(struct netpeers *p, const char *ip, const char *mac,
                     const char *vtep)
{
    struct netpeer_ep *e = hmap_get(&p->eps, ip);
    if (!e) {
        e = xcalloc(1, sizeof(*e));
        snprintf(e->ip, sizeof(e->ip), "%s", ip);
        hmap_put(&p->eps, e->ip, e);
    }
    snprintf(e->mac, sizeof(e->mac), "%s", mac);
    snprintf(e->vtep, sizeof(e->vtep), "%s", vtep);
}

void netpeers_del_ep(struct netpeers *p, const char *ip)
{
    free(hmap_del(&p->eps, ip));
}

bool netpeers_mesh_addr(const char *node_addr, char out[16])
{
    unsigned char b[4];
    if (!node_addr || inet_pton(AF_INET, node_addr, b) != 1)
        return false;
    snprintf(out, 16, "169.254.%u.%u", b[2], b[3]);
    return true;
}

/* A node's underlay address when it can carry overlay traffic. */
static const char *node_vtep(const struct node *n)
{
    struct in_addr a;
    if (!n || n->state == NODE_DOWN || !n->addr ||
        inet_pton(AF_INET, n->addr, &a) != 1)
        return NULL;
    return n->addr;
}

void netpeers_self(const struct store *s, const char *node_id,
                   struct netpeers_self *out)
{
    memset(out, 0, sizeof(*out));
    const struct node *n = store_node(s, node_id);
    struct in_addr a;
    if (n && n->addr && inet_pton(AF_INET, n->addr, &a) == 1) {
        snprintf(out->addr, sizeof(out->addr), "%s", n->addr);
        /* Alone, the node's gateway address is unique enough. */
        if (store_count(s, KIND_NODE) > 1)
            netpeers_mesh_addr(n->addr, out->mesh);
        struct err err = {0};
        if (!out->mesh[0] || overlay_mac_from_ip(out->mesh, out->mac, &err) < 0)
            out->mac[0] = '\0';
    }
    const struct cluster *c = store_cluster(s);
    json_int_t port = c ? jx_int(c->internal, "DataPathPort", 0) : 0;
    out->port =
        port > 0 && port < 65536 ? (uint16_t)port : OVERLAY_DEFAULT_VXLAN_PORT;
}

bool netpeers_self_equal(const struct netpeers_self *a,
                         const struct netpeers_self *b)
{
    return strcmp(a->addr, b->addr) == 0 && strcmp(a->mesh, b->mesh) == 0 &&
           strcmp(a->mac, b->mac) == 0 && a->port == b->port;
}

bool netpeers_state_is_endpoint(enum task_state state)
{
    return state >= TASK_ASSIGNED && !task_state_is_terminal(state);
}

bool netpeers_task_is_endpoint(const struct task *t)
{
    return t->networks && t->node_id[0] && netpeers_state_is_endpoint(t->state);
}

/* The first address of the task's attachment att, without its prefix. */
static bool attachment_ip(json_t *att, char out[16])
{
    const char *cidr =
        json_string_value(json_array_get(jx_path(att, "Addresses"), 0));
    if (!cidr)
        return false;
    size_t n = strcspn(cidr, "/");
    if (n == 0 || n >= 16)
        return false;
    memcpy(out, cidr, n);
    out[n] = '\0';
    struct in_addr a;
    return inet_pton(AF_INET, out, &a) == 1;
}

void netpeers_build(const struct store *s, const char *self_id,
                    struct hmap *nets)
{
    const struct node *self = store_node(s, self_id);
    const char *self_addr = self ? self->addr : NULL;
    char self_mesh[16] = "";
    netpeers_mesh_addr(self_addr, self_mesh);

    /* Ingress is on every node: each other node is a peer, and its mesh
     * address an endpoint. */
    size_t it = 0;
    void *v;
    const char *net_id;
    while (hmap_next(nets, &it, &net_id, &v)) {
        const struct network *net = store_network(s, net_id);
        if (!net || !net->ingress)
            continue;
        struct netpeers *p = v;
        size_t nit = 0;
        void *o;
        while (store_next(s, KIND_NODE, &nit, &o)) {
            const struct node *n = o;
            const char *vtep = node_vtep(n);
            if (!vtep || strcmp(n->meta.id, self_id) == 0 ||
                (self_addr && strcmp(vtep, self_addr) == 0))
                continue;
            netpeers_add_vtep(p, vtep);
            char mesh[16], mac[OVERLAY_MAC_LEN];
            struct err err = {0};
            if (netpeers_mesh_addr(vtep, mesh) &&
                strcmp(mesh, self_mesh) != 0 &&
                overlay_mac_from_ip(mesh, mac, &err) == 0)
                netpeers_add_ep(p, mesh, mac, vtep);
        }
    }

    it = 0;
    while (store_next(s, KIND_TASK, &it, &v)) {
        const struct task *t = v;
        if (!netpeers_task_is_endpoint(t) || strcmp(t->node_id, self_id) == 0)
            continue;
        const char *vtep = node_vtep(store_node(s, t->node_id));
        if (!vtep || (self_addr && strcmp(vtep, self_addr) == 0))
            continue;
        size_t i;
        json_t *att;
        json_array_foreach(t->networks, i, att)
        {
            struct netpeers *p =
                hmap_get(nets, jx_str0(jx_path(att, "Network"), "ID"));
            char ip[16], mac[OVERLAY_MAC_LEN];
            struct err err = {0};
            if (!p || !attachment_ip(att, ip) ||
                overlay_mac_from_ip(ip, mac, &err) < 0)
                continue;
            netpeers_add_vtep(p, vtep);
            /* Never two owners: the first non-finished task wins (the
             * allocator hands an address to one task at a time). */
            if (!hmap_get(&p->eps, ip))
                netpeers_add_ep(p, ip, mac, vtep);
        }
    }
}
