// SPDX-License-Identifier: Apache-2.0
// Snapshots of the whole store. Task specs are written once per distinct
// spec object (tasks refer to them by number), which keeps a snapshot of
// 100,000 tasks of a few services small and restores the sharing.
#include <stdlib.h>
#include <string.h>

#include "base/hmap.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "store/store.h"
#include "store/store_internal.h"

#define SNAPSHOT_FORMAT 1

/* Maps spec object pointers to their number in the snapshot. */
struct spec_table {
    struct hmap by_ptr; /* "%p" -> index+1 */
    json_t *list;
    struct vec keys;
};

static size_t spec_ref(struct spec_table *st, json_t *spec)
{
    char key[32];
    snprintf(key, sizeof(key), "%p", (void *)spec);
    uintptr_t found = (uintptr_t)hmap_get(&st->by_ptr, key);
    if (found)
        return found - 1;
    char *owned = xstrdup(key);
    vec_push(&st->keys, owned);
    json_array_append(st->list, spec);
    size_t idx = json_array_size(st->list) - 1;
    hmap_put(&st->by_ptr, owned, (void *)(uintptr_t)(idx + 1));
    return idx;
}

void store_snapshot(const struct store *s, struct buf *out)
{
    store_snapshot_filtered(s, NULL, out);
}

static json_t *encode_secrets(const struct store *s, enum store_kind kind,
                              const struct store_filter *f)
{
    json_t *list = json_array();
    size_t it = 0;
    void *v;
    while (hmap_next(&s->secrets[store_secret_slot(kind)], &it, NULL, &v))
        if (!f || !f->keep_secret || f->keep_secret(f->data, v))
            json_array_append_new(list, secret_encode(v));
    return list;
}

static int decode_secrets(struct store *tmp, enum store_kind kind,
                          const json_t *list, struct err *err)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        struct secret *x = secret_decode(kind, item, err);
        if (!x)
            return -1;
        int k = store_secret_slot(kind);
        hmap_put(&tmp->secrets[k], x->meta.id, x);
        hmap_put(&tmp->secrets_by_name[k], x->name, x);
    }
    return 0;
}

void store_snapshot_filtered(const struct store *s,
                             const struct store_filter *filter, struct buf *out)
{
    bool (*keep_task)(void *, const struct task *) =
        filter ? filter->keep_task : NULL;
    void *data = filter ? filter->data : NULL;
    _cleanup_json_ json_t *j = json_object();
    json_object_set_new(j, "Format", json_integer(SNAPSHOT_FORMAT));
    json_object_set_new(j, "Index", json_integer((json_int_t)s->index));
    json_object_set_new(j, "Cluster",
                        s->cluster ? cluster_encode(s->cluster) : json_null());
    json_t *nodes = json_array(), *services = json_array(),
           *tasks = json_array(), *networks = json_array();
    size_t it = 0;
    void *v;
    while (hmap_next(&s->nodes, &it, NULL, &v))
        json_array_append_new(nodes, node_encode(v));
    it = 0;
    while (hmap_next(&s->services, &it, NULL, &v))
        json_array_append_new(services, service_encode(v));
    it = 0;
    while (hmap_next(&s->networks, &it, NULL, &v))
        json_array_append_new(networks, network_encode(v));
    struct spec_table st = {.list = json_array()};
    hmap_init(&st.by_ptr);
    vec_init(&st.keys);
    it = 0;
    while (hmap_next(&s->tasks, &it, NULL, &v)) {
        struct task *t = v;
        if (keep_task && !keep_task(data, t))
            continue;
        json_t *tj = task_encode(t, false);
        if (t->spec)
            json_object_set_new(
                tj, "_SpecRef",
                json_integer((json_int_t)spec_ref(&st, t->spec)));
        json_array_append_new(tasks, tj);
    }
    json_object_set_new(j, "Nodes", nodes);
    json_object_set_new(j, "Services", services);
    json_object_set_new(j, "Networks", networks);
    json_object_set_new(j, "Secrets", encode_secrets(s, KIND_SECRET, filter));
    json_object_set_new(j, "Configs", encode_secrets(s, KIND_CONFIG, filter));
    json_object_set_new(j, "TaskSpecs", st.list);
    json_object_set_new(j, "Tasks", tasks);
    char *text = jx_dumps(j);
    buf_puts(out, text);
    free(text);
    for (size_t i = 0; i < st.keys.len; i++)
        free(st.keys.items[i]);
    vec_fini(&st.keys);
    hmap_fini(&st.by_ptr);
}

/* Builds a complete new state in tmp, then swaps it in, so a bad snapshot
 * leaves the store as it was. */
int store_restore(struct store *s, const void *data, size_t len,
                  struct err *err)
{
    json_error_t jerr;
    _cleanup_json_ json_t *j = json_loadb(data, len, 0, &jerr);
    if (!json_is_object(j))
        return err_set(err, ERR_INTERNAL, "undecodable snapshot: %s",
                       jerr.text);
    if (jx_int(j, "Format", 0) != SNAPSHOT_FORMAT)
        return err_set(err, ERR_INTERNAL, "unknown snapshot format");
    struct store *tmp = store_new();
    tmp->index = (uint64_t)jx_int(j, "Index", 0);
    json_t *cj = json_object_get(j, "Cluster");
    if (json_is_object(cj) && !(tmp->cluster = cluster_decode(cj, err)))
        goto fail;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(j, "Nodes"), i, item)
    {
        struct node *n = node_decode(item, err);
        if (!n)
            goto fail;
        hmap_put(&tmp->nodes, n->meta.id, n);
    }
    json_array_foreach(json_object_get(j, "Services"), i, item)
    {
        struct service *sv = service_decode(item, err);
        if (!sv)
            goto fail;
        hmap_put(&tmp->services, sv->meta.id, sv);
        hmap_put(&tmp->services_by_name, sv->name, sv);
    }
    json_array_foreach(json_object_get(j, "Networks"), i, item)
    {
        struct network *n = network_decode(item, err);
        if (!n)
            goto fail;
        hmap_put(&tmp->networks, n->meta.id, n);
        hmap_put(&tmp->networks_by_name, n->name, n);
    }
    if (decode_secrets(tmp, KIND_SECRET, json_object_get(j, "Secrets"), err) <
            0 ||
        decode_secrets(tmp, KIND_CONFIG, json_object_get(j, "Configs"), err) <
            0)
        goto fail;
    json_t *specs = json_object_get(j, "TaskSpecs");
    json_array_foreach(json_object_get(j, "Tasks"), i, item)
    {
        struct task *t = task_decode(item, err);
        if (!t)
            goto fail;
        json_int_t ref = jx_int(item, "_SpecRef", -1);
        json_t *spec = ref >= 0 ? json_array_get(specs, (size_t)ref) : NULL;
        if (spec) {
            /* Share with the service when it is the same spec version. */
            struct service *sv = hmap_get(&tmp->services, t->service_id);
            if (sv && sv->spec_version == t->spec_version &&
                json_equal(sv->task_spec, spec))
                spec = sv->task_spec;
            json_decref(t->spec);
            t->spec = json_incref(spec);
        }
        store_index_task(tmp, t);
    }
    /* Swap contents. */
    struct store old = *s;
    struct store_watch *watches = s->watches;
    int notifying = s->notifying;
    *s = *tmp;
    s->watches = watches;
    s->notifying = notifying;
    *tmp = old;
    tmp->watches = NULL;
    store_free(tmp);
    struct store_event ev = {
        .kind = KIND__COUNT, .action = STORE_UPDATE, .index = s->index};
    store_emit(s, &ev);
    return 0;
fail:
    tmp->watches = NULL;
    store_free(tmp);
    return err_ctx(err, "restore snapshot");
}
