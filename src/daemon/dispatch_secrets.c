// SPDX-License-Identifier: Apache-2.0
// The secrets and configs each worker holds (see dispatch_secrets.h): the
// leader never forwards a secret's operations as they were committed, it
// sends each node the objects its own tasks use, so a secret's data
// reaches no other node.
#include "daemon/dispatch_secrets.h"

#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"

void secret_set_init(struct secret_set *set)
{
    hmap_init(&set->keys);
}

static void set_clear(struct secret_set *set)
{
    size_t it = 0;
    void *v;
    while (hmap_next(&set->keys, &it, NULL, &v))
        free(v);
    hmap_fini(&set->keys);
    hmap_init(&set->keys);
}

void secret_set_fini(struct secret_set *set)
{
    set_clear(set);
    hmap_fini(&set->keys);
}

static void key_of(enum store_kind kind, const char *id, char *out, size_t size)
{
    snprintf(out, size, "%c%s", kind == KIND_CONFIG ? 'c' : 's', id);
}

bool secret_set_has(const struct secret_set *set, const struct secret *x)
{
    char key[ID_LEN + 2];
    key_of(x->kind, x->meta.id, key, sizeof(key));
    return hmap_get(&set->keys, key) != NULL;
}

static void set_add(struct secret_set *set, const char *key)
{
    if (hmap_get(&set->keys, key))
        return;
    char *owned = xstrdup(key);
    hmap_put(&set->keys, owned, owned);
}

static void add_refs(struct secret_set *set, const struct store *s,
                     const json_t *cs, enum store_kind kind)
{
    const char *list = kind == KIND_CONFIG ? "Configs" : "Secrets";
    const char *idkey = kind == KIND_CONFIG ? "ConfigID" : "SecretID";
    size_t i;
    json_t *ref;
    json_array_foreach(json_object_get(cs, list), i, ref)
    {
        const char *id = jx_str(ref, idkey);
        if (!id || !store_secret(s, kind, id))
            continue;
        char key[ID_LEN + 2];
        key_of(kind, id, key, sizeof(key));
        set_add(set, key);
    }
}

void secret_set_needed(struct secret_set *set, const struct store *s,
                       const char *node_id)
{
    set_clear(set);
    const struct vec *tasks = store_node_tasks(s, node_id);
    for (size_t i = 0; tasks && i < tasks->len; i++) {
        const struct task *t = tasks->items[i];
        if (t->desired > TASK_RUNNING || task_state_is_terminal(t->state))
            continue;
        json_t *cs = json_object_get(t->spec, "ContainerSpec");
        add_refs(set, s, cs, KIND_SECRET);
        add_refs(set, s, cs, KIND_CONFIG);
    }
}

static void append_op(struct buf *ops, json_t *op)
{
    char *text = jx_dumps(op);
    if (ops->len)
        buf_append(ops, ",", 1);
    buf_puts(ops, text);
    /* The text may carry a secret's data: wiped before it is freed. */
    memset(text, 0, strlen(text));
    free(text);
    json_decref(op);
}

void secret_set_sync(struct secret_set *sent, const struct store *s,
                     const char *node_id, struct buf *ops)
{
    struct secret_set now;
    secret_set_init(&now);
    secret_set_needed(&now, s, node_id);
    size_t it = 0;
    const char *key;
    while (hmap_next(&now.keys, &it, &key, NULL)) {
        if (hmap_get(&sent->keys, key))
            continue;
        enum store_kind kind = key[0] == 'c' ? KIND_CONFIG : KIND_SECRET;
        const struct secret *x = store_secret(s, kind, key + 1);
        append_op(ops,
                  json_pack("{s:s, s:s, s:o}", "op",
                            kind == KIND_CONFIG ? "config.put" : "secret.put",
                            "id", x->meta.id, "obj", secret_encode(x)));
    }
    it = 0;
    while (hmap_next(&sent->keys, &it, &key, NULL)) {
        if (hmap_get(&now.keys, key))
            continue;
        append_op(ops, json_pack("{s:s, s:s}", "op",
                                 key[0] == 'c' ? "config.drop" : "secret.drop",
                                 "id", key + 1));
    }
    secret_set_fini(sent);
    *sent = now;
}
