// SPDX-License-Identifier: Apache-2.0
// The networked tasks each worker holds (see dispatch_nets.h).
#include "daemon/dispatch_nets.h"

#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"

static void keys_clear(struct hmap *m)
{
    size_t it = 0;
    void *v;
    while (hmap_next(m, &it, NULL, &v))
        free(v);
    hmap_fini(m);
    hmap_init(m);
}

static void keys_add(struct hmap *m, const char *key)
{
    if (hmap_get(m, key))
        return;
    char *owned = xstrdup(key);
    hmap_put(m, owned, owned);
}

static void keys_del(struct hmap *m, const char *key)
{
    free(hmap_del(m, key));
}

void net_set_init(struct net_set *ns)
{
    hmap_init(&ns->nets);
    hmap_init(&ns->held);
}

void net_set_fini(struct net_set *ns)
{
    keys_clear(&ns->nets);
    keys_clear(&ns->held);
    hmap_fini(&ns->nets);
    hmap_fini(&ns->held);
}

static const char *att_net_id(const json_t *att)
{
    return jx_path_str(att, "Network.ID");
}

bool net_set_update(struct net_set *ns, const struct store *s,
                    const char *node_id)
{
    struct hmap now;
    hmap_init(&now);
    size_t it = 0;
    void *o;
    while (store_next(s, KIND_NETWORK, &it, &o)) {
        const struct network *n = o;
        if (n->ingress)
            keys_add(&now, n->meta.id);
    }
    const struct vec *own = store_node_tasks(s, node_id);
    for (size_t i = 0; own && i < own->len; i++) {
        const struct task *t = own->items[i];
        if (t->desired > TASK_RUNNING || task_state_is_terminal(t->state))
            continue;
        size_t k;
        json_t *att;
        json_array_foreach(t->networks, k, att)
        {
            const char *id = att_net_id(att);
            if (id)
                keys_add(&now, id);
        }
    }
    bool changed = hmap_count(&now) != hmap_count(&ns->nets);
    it = 0;
    const char *key;
    while (!changed && hmap_next(&now, &it, &key, NULL))
        changed = hmap_get(&ns->nets, key) == NULL;
    if (changed) {
        keys_clear(&ns->nets);
        hmap_fini(&ns->nets);
        ns->nets = now;
    } else {
        keys_clear(&now);
        hmap_fini(&now);
    }
    return changed;
}

bool net_set_wants(const struct net_set *ns, const struct task *t)
{
    size_t k;
    json_t *att;
    json_array_foreach(t->networks, k, att)
    {
        const char *id = att_net_id(att);
        if (id && hmap_get(&ns->nets, id))
            return true;
    }
    return false;
}

bool net_set_holds(const struct net_set *ns, const char *task_id)
{
    return hmap_get(&ns->held, task_id) != NULL;
}

void net_set_hold(struct net_set *ns, const char *task_id)
{
    keys_add(&ns->held, task_id);
}

void net_set_release(struct net_set *ns, const char *task_id)
{
    keys_del(&ns->held, task_id);
}

static void append(struct buf *ops, char *text)
{
    if (ops->len)
        buf_append(ops, ",", 1);
    buf_puts(ops, text);
    free(text);
}

void net_set_sync(struct net_set *ns, const struct store *s,
                  const char *node_id, struct buf *ops, net_task_op_fn op,
                  void *data)
{
    /* Deletes first: what it holds and no longer needs. */
    struct vec drop;
    vec_init(&drop);
    size_t it = 0;
    const char *key;
    while (hmap_next(&ns->held, &it, &key, NULL)) {
        const struct task *t = store_task(s, key);
        if (!t || !net_set_wants(ns, t))
            vec_push(&drop, (void *)key);
    }
    for (size_t i = 0; i < drop.len; i++) {
        const char *id = drop.items[i];
        append(ops, op(data, id, NULL));
        net_set_release(ns, id);
    }
    vec_fini(&drop);
    /* Then what it now needs and lacks. */
    it = 0;
    void *o;
    while (store_next(s, KIND_TASK, &it, &o)) {
        const struct task *t = o;
        if (strcmp(t->node_id, node_id) == 0 || net_set_holds(ns, t->meta.id) ||
            !net_set_wants(ns, t))
            continue;
        append(ops, op(data, t->meta.id, t));
        net_set_hold(ns, t->meta.id);
    }
}
