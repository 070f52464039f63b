// SPDX-License-Identifier: Apache-2.0
// Filter-then-spread placement over an in-memory view of the nodes.
#include "manager/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "manager/constraint.h"

/* Tasks of one service on one node; the key lives here. */
struct service_count {
    char service_id[ID_LEN + 1];
    size_t count;
};

static void count_task(struct sched_node *sn, const struct task *t, int delta)
{
    struct service_count *c = hmap_get(&sn->per_service, t->service_id);
    if (!c) {
        c = xcalloc(1, sizeof(*c));
        snprintf(c->service_id, sizeof(c->service_id), "%s", t->service_id);
        vec_push(&sn->service_keys, c);
        hmap_put(&sn->per_service, c->service_id, c);
    }
    c->count = (size_t)((intptr_t)c->count + delta);
    sn->tasks = (size_t)((intptr_t)sn->tasks + delta);
    json_t *res = jx_path(t->spec, "Resources.Reservations");
    sn->cpu_reserved += delta * jx_int(res, "NanoCPUs", 0);
    sn->mem_reserved += delta * jx_int(res, "MemoryBytes", 0);
}

/* The host-mode ports a task binds on its node: those it reported
 * (Status.PortStatus) or else its service's static ones. */
static const json_t *host_ports_of(const struct scheduler *sc,
                                   const struct task *t)
{
    if (t->ports)
        return t->ports;
    const struct service *svc = store_service(sc->store, t->service_id);
    return svc ? jx_path(svc->endpoint, "Ports") : NULL;
}

static bool port_key(const json_t *p, char *out, size_t size)
{
    const char *mode = jx_str(p, "PublishMode");
    json_int_t port = jx_int(p, "PublishedPort", 0);
    if (!mode || strcmp(mode, "host") != 0 || port <= 0)
        return false;
    const char *proto = jx_str(p, "Protocol");
    snprintf(out, size, "%s/%lld", proto && *proto ? proto : "tcp",
             (long long)port);
    return true;
}

static void take_host_ports(const struct scheduler *sc, struct sched_node *sn,
                            const struct task *t)
{
    size_t i;
    json_t *p;
    json_array_foreach(host_ports_of(sc, t), i, p)
    {
        char key[32];
        if (!port_key(p, key, sizeof(key)) || hmap_get(&sn->host_ports, key))
            continue;
        char *k = xstrdup(key);
        vec_push(&sn->host_port_keys, k);
        hmap_put(&sn->host_ports, k, k);
    }
}

/* swarmkit's HostPortFilter: the node already binds one of the task's
 * host-mode ports. */
static bool host_ports_conflict(const struct scheduler *sc,
                                const struct sched_node *sn,
                                const struct task *t)
{
    if (!hmap_count(&sn->host_ports))
        return false;
    size_t i;
    json_t *p;
    json_array_foreach(host_ports_of(sc, t), i, p)
    {
        char key[32];
        if (port_key(p, key, sizeof(key)) && hmap_get(&sn->host_ports, key))
            return true;
    }
    return false;
}

void sched_init(struct scheduler *sc, const struct store *s)
{
    sc->store = s;
    hmap_init(&sc->heaps);
    vec_init(&sc->heap_list);
    sc->n = store_count(s, KIND_NODE);
    sc->nodes = xcalloc(sc->n + 1, sizeof(*sc->nodes));
    size_t it = 0, i = 0;
    void *o;
    while (store_next(s, KIND_NODE, &it, &o)) {
        struct sched_node *sn = &sc->nodes[i++];
        sn->node = o;
        const char *avail = jx_str(sn->node->spec, "Availability");
        sn->ready = sn->node->state == NODE_READY &&
                    (!avail || strcmp(avail, "active") == 0);
        hmap_init(&sn->per_service);
        vec_init(&sn->service_keys);
        hmap_init(&sn->host_ports);
        vec_init(&sn->host_port_keys);
        json_t *res = jx_path(sn->node->description, "Resources");
        sn->cpu_total = jx_int(res, "NanoCPUs", 0);
        sn->mem_total = jx_int(res, "MemoryBytes", 0);
        const struct vec *tasks = store_node_tasks(s, sn->node->meta.id);
        for (size_t k = 0; tasks && k < tasks->len; k++) {
            const struct task *t = tasks->items[k];
            if (!task_state_is_terminal(t->state) &&
                t->desired <= TASK_RUNNING) {
                count_task(sn, t, 1);
                take_host_ports(sc, sn, t);
            }
        }
    }
}

struct heap_item {
    struct sched_node *sn;
    size_t svc, tasks; /* the key when last ordered (it only grows) */
};

struct sched_heap {
    char key[ID_LEN + 24]; /* service id + task spec */
    const json_t *spec;
    struct heap_item *items;
    size_t n;
    size_t failed[4]; /* why the others were left out (F_*) */
};

static void heap_free(struct sched_heap *h)
{
    free(h->items);
    free(h);
}

void sched_fini(struct scheduler *sc)
{
    for (size_t i = 0; i < sc->heap_list.len; i++)
        heap_free(sc->heap_list.items[i]);
    vec_fini(&sc->heap_list);
    hmap_fini(&sc->heaps);
    for (size_t i = 0; i < sc->n; i++) {
        hmap_fini(&sc->nodes[i].per_service);
        for (size_t k = 0; k < sc->nodes[i].service_keys.len; k++)
            free(sc->nodes[i].service_keys.items[k]);
        vec_fini(&sc->nodes[i].service_keys);
        hmap_fini(&sc->nodes[i].host_ports);
        for (size_t k = 0; k < sc->nodes[i].host_port_keys.len; k++)
            free(sc->nodes[i].host_port_keys.items[k]);
        vec_fini(&sc->nodes[i].host_port_keys);
    }
    free(sc->nodes);
    memset(sc, 0, sizeof(*sc));
}

enum filter { F_READY, F_CONSTRAINT, F_RESOURCES, F_HOSTPORT, F__COUNT };

static bool fits(const struct sched_node *sn, const struct task *t)
{
    json_t *res = jx_path(t->spec, "Resources.Reservations");
    int64_t cpu = jx_int(res, "NanoCPUs", 0);
    int64_t mem = jx_int(res, "MemoryBytes", 0);
    if (cpu > 0 && sn->cpu_reserved + cpu > sn->cpu_total)
        return false;
    if (mem > 0 && sn->mem_reserved + mem > sn->mem_total)
        return false;
    return true;
}

static void explain(char *out, size_t size, const size_t failed[F__COUNT])
{
    static const char *const what[F__COUNT] = {
        [F_READY] = "not available for new tasks",
        [F_CONSTRAINT] = "scheduling constraints not satisfied on",
        [F_RESOURCES] = "insufficient resources on",
        [F_HOSTPORT] = "host-mode port already in use on",
    };
    size_t len = (size_t)snprintf(out, size, "no suitable node (");
    bool first = true;
    for (int f = 0; f < F__COUNT && len < size; f++) {
        if (!failed[f])
            continue;
        const char *noun = failed[f] == 1 ? "node" : "nodes";
        if (f == F_READY)
            len +=
                (size_t)snprintf(out + len, size - len, "%s%zu %s %s",
                                 first ? "" : "; ", failed[f], noun, what[f]);
        else
            len +=
                (size_t)snprintf(out + len, size - len, "%s%s %zu %s",
                                 first ? "" : "; ", what[f], failed[f], noun);
        first = false;
    }
    if (len < size)
        snprintf(out + len, size - len, ")");
}

static size_t svc_count(const struct sched_node *sn, const char *service_id)
{
    const struct service_count *c = hmap_get(&sn->per_service, service_id);
    return c ? c->count : 0;
}

/* Spread order: fewest tasks of the service, then fewest tasks, then id. */
static bool item_less(const struct heap_item *a, const struct heap_item *b)
{
    if (a->svc != b->svc)
        return a->svc < b->svc;
    if (a->tasks != b->tasks)
        return a->tasks < b->tasks;
    return strcmp(a->sn->node->meta.id, b->sn->node->meta.id) < 0;
}

static void sift_down(struct sched_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && item_less(&h->items[l], &h->items[m]))
            m = l;
        if (r < h->n && item_less(&h->items[r], &h->items[m]))
            m = r;
        if (m == i)
            return;
        struct heap_item tmp = h->items[i];
        h->items[i] = h->items[m];
        h->items[m] = tmp;
        i = m;
    }
}

/* The heap of the nodes that pass the task's filters (ready, constraints)
 * for its service and spec, built on first use in the pass. */
static struct sched_heap *heap_for(struct scheduler *sc, const struct task *t)
{
    char key[ID_LEN + 24];
    snprintf(key, sizeof(key), "%s/%p", t->service_id, (void *)t->spec);
    struct sched_heap *h = hmap_get(&sc->heaps, key);
    if (h)
        return h;
    h = xcalloc(1, sizeof(*h));
    snprintf(h->key, sizeof(h->key), "%s", key);
    h->spec = t->spec;
    h->items = xcalloc(sc->n + 1, sizeof(*h->items));
    json_t *constraints = jx_path(t->spec, "Placement.Constraints");
    for (size_t i = 0; i < sc->n; i++) {
        struct sched_node *sn = &sc->nodes[i];
        if (!sn->ready) {
            h->failed[F_READY]++;
            continue;
        }
        if (constraints && !constraints_match(constraints, sn->node)) {
            h->failed[F_CONSTRAINT]++;
            continue;
        }
        if (host_ports_conflict(sc, sn, t)) {
            h->failed[F_HOSTPORT]++;
            continue;
        }
        h->items[h->n++] = (struct heap_item){
            .sn = sn, .svc = svc_count(sn, t->service_id), .tasks = sn->tasks};
    }
    for (size_t i = h->n / 2; i-- > 0;)
        sift_down(h, i);
    vec_push(&sc->heap_list, h);
    hmap_put(&sc->heaps, h->key, h);
    return h;
}

/* Placement of a task without reservations: the heap's top, once its key
 * is current (keys only grow within a pass, so a top whose stored key is
 * current is the true minimum). */
static const char *place_from_heap(struct scheduler *sc, const struct task *t,
                                   char *reason, size_t reason_size)
{
    struct sched_heap *h = heap_for(sc, t);
    while (h->n) {
        struct heap_item *top = &h->items[0];
        /* Host ports bound in this pass rule nodes out for good (they only
         * grow within a pass). */
        if (host_ports_conflict(sc, top->sn, t)) {
            h->items[0] = h->items[--h->n];
            h->failed[F_HOSTPORT]++;
            sift_down(h, 0);
            continue;
        }
        size_t svc = svc_count(top->sn, t->service_id);
        if (svc == top->svc && top->sn->tasks == top->tasks)
            break;
        top->svc = svc;
        top->tasks = top->sn->tasks;
        sift_down(h, 0);
    }
    if (!h->n) {
        if (sc->n == 0)
            snprintf(reason, reason_size, "no suitable node");
        else
            explain(reason, reason_size, h->failed);
        return NULL;
    }
    struct sched_node *best = h->items[0].sn;
    count_task(best, t, 1);
    take_host_ports(sc, best, t);
    return best->node->meta.id;
}

/* Spread preferences (Placement.Preferences[].Spread.SpreadDescriptor,
 * e.g. "node.labels.zone"): the tasks of the service on the nodes that
 * share this node's value of the key (nodes without it form one group). */
#define MAX_PREFS 4
static size_t group_count(const struct scheduler *sc,
                          const struct sched_node *sn, const char *key,
                          const char *service_id)
{
    const char *mine = constraint_node_value(sn->node, key);
    size_t n = 0;
    for (size_t i = 0; i < sc->n; i++) {
        const char *v = constraint_node_value(sc->nodes[i].node, key);
        if ((!mine && !v) || (mine && v && strcmp(mine, v) == 0))
            n += svc_count(&sc->nodes[i], service_id);
    }
    return n;
}

static size_t spread_keys(const json_t *prefs, const char **keys)
{
    size_t n = 0, i;
    json_t *p;
    json_array_foreach(prefs, i, p)
    {
        const char *k = jx_path_str(p, "Spread.SpreadDescriptor");
        if (k && *k && n < MAX_PREFS)
            keys[n++] = k;
    }
    return n;
}

/* A candidate's place in the spread order: its groups' counts, one per
 * preference in order, then the service's tasks on it, then all its
 * tasks, then its ID. */
struct candidate {
    struct sched_node *sn;
    size_t groups[MAX_PREFS];
    size_t svc;
};

static bool candidate_less(const struct candidate *a, const struct candidate *b,
                           size_t n_keys)
{
    for (size_t k = 0; k < n_keys; k++)
        if (a->groups[k] != b->groups[k])
            return a->groups[k] < b->groups[k];
    if (a->svc != b->svc)
        return a->svc < b->svc;
    if (a->sn->tasks != b->sn->tasks)
        return a->sn->tasks < b->sn->tasks;
    return strcmp(a->sn->node->meta.id, b->sn->node->meta.id) < 0;
}

const char *sched_place(struct scheduler *sc, const struct task *t,
                        char *reason, size_t reason_size)
{
    json_t *res = jx_path(t->spec, "Resources.Reservations");
    const char *keys[MAX_PREFS];
    size_t n_keys =
        spread_keys(jx_path(t->spec, "Placement.Preferences"), keys);
    if (jx_int(res, "NanoCPUs", 0) <= 0 && jx_int(res, "MemoryBytes", 0) <= 0 &&
        n_keys == 0)
        return place_from_heap(sc, t, reason, reason_size);
    /* With reservations a node may stop fitting, and spread preferences
     * depend on other nodes' counts: every node is checked. */
    size_t failed[F__COUNT] = {0};
    json_t *constraints = jx_path(t->spec, "Placement.Constraints");
    struct candidate best = {0};
    for (size_t i = 0; i < sc->n; i++) {
        struct sched_node *sn = &sc->nodes[i];
        if (!sn->ready) {
            failed[F_READY]++;
            continue;
        }
        if (constraints && !constraints_match(constraints, sn->node)) {
            failed[F_CONSTRAINT]++;
            continue;
        }
        if (!fits(sn, t)) {
            failed[F_RESOURCES]++;
            continue;
        }
        if (host_ports_conflict(sc, sn, t)) {
            failed[F_HOSTPORT]++;
            continue;
        }
        struct candidate c = {.sn = sn, .svc = svc_count(sn, t->service_id)};
        for (size_t k = 0; k < n_keys; k++)
            c.groups[k] = group_count(sc, sn, keys[k], t->service_id);
        if (!best.sn || candidate_less(&c, &best, n_keys))
            best = c;
    }
    if (!best.sn) {
        if (sc->n == 0)
            snprintf(reason, reason_size, "no suitable node");
        else
            explain(reason, reason_size, failed);
        return NULL;
    }
    count_task(best.sn, t, 1);
    take_host_ports(sc, best.sn, t);
    return best.sn->node->meta.id;
}
