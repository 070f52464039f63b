// SPDX-License-Identifier: Apache-2.0
// The store's indexes, lookups and change feed.
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "store/store_internal.h"

struct store *store_new(void)
{
    struct store *s = xcalloc(1, sizeof(*s));
    hmap_init(&s->nodes);
    hmap_init(&s->services);
    hmap_init(&s->services_by_name);
    hmap_init(&s->tasks);
    hmap_init(&s->networks);
    hmap_init(&s->networks_by_name);
    for (int i = 0; i < 2; i++) {
        hmap_init(&s->secrets[i]);
        hmap_init(&s->secrets_by_name[i]);
    }
    hmap_init(&s->task_groups_by_service);
    hmap_init(&s->task_groups_by_node);
    return s;
}

static void free_groups(struct hmap *m)
{
    size_t it = 0;
    void *v;
    while (hmap_next(m, &it, NULL, &v)) {
        struct task_group *g = v;
        vec_fini(&g->tasks);
        free(g);
    }
    hmap_fini(m);
}

void store_clear(struct store *s)
{
    size_t it = 0;
    void *v;
    while (hmap_next(&s->tasks, &it, NULL, &v))
        task_free(v);
    it = 0;
    while (hmap_next(&s->services, &it, NULL, &v))
        service_free(v);
    it = 0;
    while (hmap_next(&s->nodes, &it, NULL, &v))
        node_free(v);
    it = 0;
    while (hmap_next(&s->networks, &it, NULL, &v))
        network_free(v);
    hmap_fini(&s->networks);
    hmap_fini(&s->networks_by_name);
    for (int i = 0; i < 2; i++) {
        it = 0;
        while (hmap_next(&s->secrets[i], &it, NULL, &v))
            secret_free(v);
        hmap_fini(&s->secrets[i]);
        hmap_fini(&s->secrets_by_name[i]);
    }
    hmap_fini(&s->tasks);
    hmap_fini(&s->services);
    hmap_fini(&s->services_by_name);
    hmap_fini(&s->nodes);
    free_groups(&s->task_groups_by_service);
    free_groups(&s->task_groups_by_node);
    cluster_free(s->cluster);
    s->cluster = NULL;
    memset(s->tasks_in_state, 0, sizeof(s->tasks_in_state));
}

void store_free(struct store *s)
{
    if (!s)
        return;
    store_clear(s);
    struct store_watch *w = s->watches;
    while (w) {
        struct store_watch *next = w->next;
        free(w);
        w = next;
    }
    free(s);
}

uint64_t store_index(const struct store *s)
{
    return s->index;
}

struct cluster *store_cluster(const struct store *s)
{
    return s->cluster;
}

struct node *store_node(const struct store *s, const char *id)
{
    return id ? hmap_get(&s->nodes, id) : NULL;
}

struct service *store_service(const struct store *s, const char *id)
{
    return id ? hmap_get(&s->services, id) : NULL;
}

struct service *store_service_by_name(const struct store *s, const char *name)
{
    return name ? hmap_get(&s->services_by_name, name) : NULL;
}

struct task *store_task(const struct store *s, const char *id)
{
    return id ? hmap_get(&s->tasks, id) : NULL;
}

struct network *store_network(const struct store *s, const char *id)
{
    return id ? hmap_get(&s->networks, id) : NULL;
}

struct network *store_network_by_name(const struct store *s, const char *name)
{
    return name ? hmap_get(&s->networks_by_name, name) : NULL;
}

struct secret *store_secret(const struct store *s, enum store_kind kind,
                            const char *id)
{
    return id ? hmap_get(&s->secrets[store_secret_slot(kind)], id) : NULL;
}

struct secret *store_secret_by_name(const struct store *s, enum store_kind kind,
                                    const char *name)
{
    return name ? hmap_get(&s->secrets_by_name[store_secret_slot(kind)], name)
                : NULL;
}

json_t *store_spec_networks(const struct store *s, const json_t *spec)
{
    json_t *ids = json_array();
    /* Docker attaches ingress for ingress-mode ports only; a host-mode
     * port maps to the task's own address, which a task without networks
     * has on ingress alone here (Docker would use its bridge network). */
    bool mesh = false, host = false;
    size_t i;
    json_t *p;
    json_array_foreach(jx_path(spec, "EndpointSpec.Ports"), i, p)
    {
        const char *mode = jx_str(p, "PublishMode");
        if (mode && strcmp(mode, "host") == 0)
            host = true;
        else
            mesh = true;
    }
    bool own = false;
    json_t *n;
    json_array_foreach(jx_path(spec, "TaskTemplate.Networks"), i, n)
    {
        const char *target = jx_str(n, "Target");
        own = own || (target && store_network(s, target));
    }
    if (mesh || (host && !own)) {
        size_t it = 0;
        void *o;
        while (store_next(s, KIND_NETWORK, &it, &o))
            if (((struct network *)o)->ingress)
                json_array_append_new(
                    ids, json_string(((struct network *)o)->meta.id));
    }
    json_array_foreach(jx_path(spec, "TaskTemplate.Networks"), i, n)
    {
        const char *target = jx_str(n, "Target");
        if (target && store_network(s, target))
            json_array_append_new(ids, json_string(target));
    }
    return ids;
}

json_t *store_service_networks(const struct store *s, const struct service *svc)
{
    return store_spec_networks(s, svc->spec);
}

json_t *store_task_to_json(const struct store *s, const struct task *t)
{
    json_t *j = task_to_json(t);
    json_t *atts = json_object_get(j, "NetworksAttachments");
    size_t i;
    json_t *a;
    json_array_foreach(atts, i, a)
    {
        const char *id = jx_path_str(a, "Network.ID");
        struct network *n = store_network(s, id);
        if (n)
            json_object_set_new(a, "Network", network_to_json(n));
    }
    /* A job's task names the iteration it belongs to (the docker CLI's
     * progress follows only the current one). */
    const struct service *svc = store_service(s, t->service_id);
    if (svc && service_is_job(svc))
        json_object_set_new(
            j, "JobIteration",
            json_pack("{s:I}", "Index", (json_int_t)t->spec_version));
    return j;
}

const struct vec *store_service_tasks(const struct store *s,
                                      const char *service_id)
{
    struct task_group *g = hmap_get(&s->task_groups_by_service, service_id);
    return g ? &g->tasks : NULL;
}

const struct vec *store_node_tasks(const struct store *s, const char *node_id)
{
    struct task_group *g = hmap_get(&s->task_groups_by_node, node_id);
    return g ? &g->tasks : NULL;
}

void store_orphan_service_ids(const struct store *s, struct vec *out)
{
    size_t it = 0;
    const char *key;
    while (hmap_next(&s->task_groups_by_service, &it, &key, NULL))
        if (!hmap_get(&s->services, key))
            vec_push(out, (void *)key);
}

static const struct hmap *kind_map(const struct store *s, enum store_kind k)
{
    switch (k) {
    case KIND_NODE:
        return &s->nodes;
    case KIND_SERVICE:
        return &s->services;
    case KIND_TASK:
        return &s->tasks;
    case KIND_NETWORK:
        return &s->networks;
    case KIND_SECRET:
    case KIND_CONFIG:
        return &s->secrets[store_secret_slot(k)];
    default:
        return NULL;
    }
}

size_t store_count(const struct store *s, enum store_kind kind)
{
    if (kind == KIND_CLUSTER)
        return s->cluster ? 1 : 0;
    const struct hmap *m = kind_map(s, kind);
    return m ? hmap_count(m) : 0;
}

bool store_next(const struct store *s, enum store_kind kind, size_t *it,
                void **obj)
{
    if (kind == KIND_CLUSTER) {
        if (*it == 0 && s->cluster) {
            *it = 1;
            *obj = s->cluster;
            return true;
        }
        return false;
    }
    const struct hmap *m = kind_map(s, kind);
    return m ? hmap_next(m, it, NULL, obj) : false;
}

size_t store_count_tasks_in_state(const struct store *s, enum task_state st)
{
    return (size_t)st < ARRAY_SIZE(s->tasks_in_state) ? s->tasks_in_state[st]
                                                      : 0;
}

/* ---- task indexes ---- */

static void group_add(struct hmap *m, const char *key, struct task *t,
                      size_t *pos)
{
    struct task_group *g = hmap_get(m, key);
    if (!g) {
        g = xcalloc(1, sizeof(*g));
        snprintf(g->key, sizeof(g->key), "%s", key);
        vec_init(&g->tasks);
        hmap_put(m, g->key, g);
    }
    *pos = g->tasks.len;
    vec_push(&g->tasks, t);
}

/* O(1) removal: the moved task's position is fixed up through pos_of. */
static void group_remove(struct hmap *m, const char *key, struct task *t,
                         size_t pos, bool by_service)
{
    struct task_group *g = hmap_get(m, key);
    if (!g || pos >= g->tasks.len || g->tasks.items[pos] != t)
        abort(); /* index corruption is a bug, never input */
    vec_swap_remove(&g->tasks, pos);
    if (pos < g->tasks.len) {
        struct task *moved = g->tasks.items[pos];
        if (by_service)
            moved->service_pos = pos;
        else
            moved->node_pos = pos;
    }
    if (g->tasks.len == 0) {
        hmap_del(m, g->key);
        vec_fini(&g->tasks);
        free(g);
    }
}

void store_index_task(struct store *s, struct task *t)
{
    hmap_put(&s->tasks, t->meta.id, t);
    group_add(&s->task_groups_by_service, t->service_id, t, &t->service_pos);
    if (t->node_id[0])
        group_add(&s->task_groups_by_node, t->node_id, t, &t->node_pos);
    s->tasks_in_state[t->state]++;
}

void store_unindex_task(struct store *s, struct task *t)
{
    hmap_del(&s->tasks, t->meta.id);
    group_remove(&s->task_groups_by_service, t->service_id, t, t->service_pos,
                 true);
    if (t->node_id[0])
        group_remove(&s->task_groups_by_node, t->node_id, t, t->node_pos,
                     false);
    s->tasks_in_state[t->state]--;
}

void store_task_set_node(struct store *s, struct task *t, const char *node)
{
    if (t->node_id[0])
        group_remove(&s->task_groups_by_node, t->node_id, t, t->node_pos,
                     false);
    snprintf(t->node_id, sizeof(t->node_id), "%s", node ? node : "");
    if (t->node_id[0])
        group_add(&s->task_groups_by_node, t->node_id, t, &t->node_pos);
}

void store_task_set_state(struct store *s, struct task *t, enum task_state st)
{
    s->tasks_in_state[t->state]--;
    t->state = st;
    s->tasks_in_state[t->state]++;
}

/* ---- change feed ---- */

struct store_watch *store_watch(struct store *s, store_watch_fn fn, void *data)
{
    struct store_watch *w = xcalloc(1, sizeof(*w));
    w->fn = fn;
    w->data = data;
    struct store_watch **p = &s->watches;
    while (*p)
        p = &(*p)->next;
    *p = w;
    return w;
}

static void reap_watches(struct store *s)
{
    struct store_watch **p = &s->watches;
    while (*p) {
        if ((*p)->removed) {
            struct store_watch *dead = *p;
            *p = dead->next;
            free(dead);
        } else {
            p = &(*p)->next;
        }
    }
}

void store_unwatch(struct store *s, struct store_watch *w)
{
    if (!w)
        return;
    w->removed = true;
    if (!s->notifying)
        reap_watches(s);
}

void store_emit(struct store *s, const struct store_event *ev)
{
    s->notifying++;
    for (struct store_watch *w = s->watches; w; w = w->next)
        if (!w->removed)
            w->fn(w->data, ev);
    if (--s->notifying == 0)
        reap_watches(s);
}
