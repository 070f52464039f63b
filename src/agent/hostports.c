// SPDX-License-Identifier: Apache-2.0
// A task's host-mode ports: static ones copied from its service's
// endpoint, dynamic ones (no published port) kept from what the task
// reported before or picked anew from HOSTPORTS_FIRST..LAST, starting at a
// point derived from the task so that tasks do not all probe the same
// ports first.
#include "agent/hostports.h"

#include <string.h>

#include "base/hmap.h"
#include "base/id.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "base/vec.h"

static const char *proto_of(const json_t *p)
{
    const char *proto = jx_str(p, "Protocol");
    return proto && *proto ? proto : "tcp";
}

static bool is_host(const json_t *p)
{
    const char *mode = jx_str(p, "PublishMode");
    return mode && strcmp(mode, "host") == 0;
}

/* Ports taken on the node: "proto/port" keys owned by keys. */
struct taken {
    struct hmap set;
    struct vec keys;
};

static void take(struct taken *tk, const char *proto, json_int_t port)
{
    if (port <= 0)
        return;
    char *k = xasprintf("%s/%lld", proto, (long long)port);
    if (hmap_get(&tk->set, k)) {
        free(k);
        return;
    }
    vec_push(&tk->keys, k);
    hmap_put(&tk->set, k, k);
}

static bool is_taken(const struct taken *tk, const char *proto, long port)
{
    char k[32];
    snprintf(k, sizeof(k), "%s/%ld", proto, port);
    return hmap_get(&tk->set, k) != NULL;
}

/* Everything but t itself: ingress ports (bound on every node), and the
 * host ports of the node's other unfinished tasks (what they reported, or
 * their service's static ones). */
static void collect_taken(const struct store *s, const char *node_id,
                          const struct task *t, struct taken *tk)
{
    size_t it = 0;
    void *o;
    while (store_next(s, KIND_SERVICE, &it, &o)) {
        const struct service *svc = o;
        size_t i;
        json_t *p;
        json_array_foreach(jx_path(svc->endpoint, "Ports"), i, p)
        {
            if (!is_host(p))
                take(tk, proto_of(p), jx_int(p, "PublishedPort", 0));
        }
    }
    const struct vec *mine = store_node_tasks(s, node_id);
    for (size_t k = 0; mine && k < mine->len; k++) {
        const struct task *o2 = mine->items[k];
        if (o2 == t || strcmp(o2->meta.id, t->meta.id) == 0 ||
            task_state_is_terminal(o2->state))
            continue;
        const struct service *svc = store_service(s, o2->service_id);
        const json_t *ports =
            o2->ports ? o2->ports
                      : jx_path(svc ? svc->endpoint : NULL, "Ports");
        size_t i;
        json_t *p;
        json_array_foreach(ports, i, p)
        {
            if (is_host(p))
                take(tk, proto_of(p), jx_int(p, "PublishedPort", 0));
        }
    }
}

/* The port t reported before for this target, or 0. */
static json_int_t reported(const struct task *t, const json_t *want)
{
    size_t i;
    json_t *p;
    json_array_foreach(t->ports, i, p)
    {
        if (jx_int(p, "TargetPort", -1) == jx_int(want, "TargetPort", -2) &&
            strcmp(proto_of(p), proto_of(want)) == 0)
            return jx_int(p, "PublishedPort", 0);
    }
    return 0;
}

json_t *hostports_for_task(const struct store *s, const char *node_id,
                           const struct task *t, hostports_free_fn is_free,
                           void *data, bool *exhausted)
{
    *exhausted = false;
    const struct service *svc = store_service(s, t->service_id);
    json_t *ports = jx_path(svc ? svc->endpoint : NULL, "Ports");
    json_t *out = json_array();
    struct taken tk;
    hmap_init(&tk.set);
    vec_init(&tk.keys);
    bool collected = false;
    size_t i;
    json_t *p;
    json_array_foreach(ports, i, p)
    {
        if (!is_host(p))
            continue;
        const char *proto = proto_of(p);
        json_int_t pub = jx_int(p, "PublishedPort", 0);
        if (!pub)
            pub = reported(t, p);
        if (!pub) {
            if (!collected) {
                collect_taken(s, node_id, t, &tk);
                collected = true;
            }
            long span = HOSTPORTS_LAST - HOSTPORTS_FIRST + 1;
            long start = (long)(id_hash64(t->meta.id) % (uint64_t)span);
            for (long k = 0; k < span && !pub; k++) {
                long port = HOSTPORTS_FIRST + (start + k) % span;
                if (!is_taken(&tk, proto, port) &&
                    (!is_free || is_free(data, proto, (uint16_t)port)))
                    pub = port;
            }
            if (!pub) {
                *exhausted = true;
                break;
            }
        }
        /* Taken now for the task's next dynamic port too. */
        take(&tk, proto, pub);
        json_t *pc = json_object();
        const char *name = jx_str(p, "Name");
        if (name && *name)
            json_object_set_new(pc, "Name", json_string(name));
        json_object_set_new(pc, "Protocol", json_string(proto));
        json_object_set_new(pc, "TargetPort",
                            json_integer(jx_int(p, "TargetPort", 0)));
        json_object_set_new(pc, "PublishedPort", json_integer(pub));
        json_object_set_new(pc, "PublishMode", json_string("host"));
        json_array_append_new(out, pc);
    }
    for (size_t k = 0; k < tk.keys.len; k++)
        free(tk.keys.items[k]);
    vec_fini(&tk.keys);
    hmap_fini(&tk.set);
    if (*exhausted || !json_array_size(out)) {
        json_decref(out);
        return NULL;
    }
    return out;
}
