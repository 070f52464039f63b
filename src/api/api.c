// SPDX-License-Identifier: Apache-2.0
// The helpers every resource file uses: replies, filters, lookups,
// pending requests and proposals.
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/mem.h"

void api_reply(struct http_request *req, int status, json_t *owned)
{
    http_reply_json(req, status, owned);
    json_decref(owned);
}

bool api_require_manager(struct http_request *req, struct api_host *h)
{
    struct err err = {0};
    if (h->ops->require_manager(h->self, &err) < 0) {
        http_reply_err(req, &err);
        return false;
    }
    return true;
}

bool api_filter_has(const json_t *filters, const char *key)
{
    return json_array_size(json_object_get(filters, key)) > 0;
}

bool api_filter_match(const json_t *filters, const char *key, const char *value,
                      bool prefix)
{
    json_t *values = json_object_get(filters, key);
    if (!json_array_size(values))
        return true;
    if (!value)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        const char *want = json_string_value(v);
        if (!want)
            continue;
        if (prefix ? strncmp(value, want, strlen(want)) == 0
                   : strcmp(value, want) == 0)
            return true;
    }
    return false;
}

bool api_filter_labels(const json_t *filters, const char *key,
                       const json_t *labels)
{
    json_t *values = json_object_get(filters, key);
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        const char *want = json_string_value(v);
        if (!want)
            continue;
        const char *eq = strchr(want, '=');
        if (!eq) {
            if (!json_object_get(labels, want))
                return false;
            continue;
        }
        char k[256];
        snprintf(k, sizeof(k), "%.*s", (int)(eq - want), want);
        const char *have = jx_str(labels, k);
        if (!have || strcmp(have, eq + 1) != 0)
            return false;
    }
    return true;
}

static int filter_check(const json_t *filters, const char *const *allowed,
                        struct err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)filters, k, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, k) == 0;
        if (!ok)
            return err_set(err, ERR_INVALID, "invalid filter '%s'", k);
    }
    return 0;
}

json_t *api_filters(struct http_request *req, const char *const *allowed)
{
    struct err err = {0};
    json_t *f = NULL;
    if (http_query_filters(req, &f, &err) < 0 ||
        filter_check(f, allowed, &err) < 0) {
        json_decref(f);
        http_reply_err(req, &err);
        return NULL;
    }
    return f;
}

/* Full id, then name, then unique prefix of the id. */
static void *find(struct api_host *h, enum store_kind kind, const char *ref,
                  const char *(*name_of)(void *), const char *what,
                  struct err *err)
{
    size_t it = 0;
    void *o, *match = NULL;
    int matches = 0;
    size_t len = strlen(ref);
    while (len && store_next(api_store(h), kind, &it, &o)) {
        const struct obj_meta *m = o; /* every object starts with its meta */
        if (strcmp(m->id, ref) == 0)
            return o;
    }
    it = 0;
    while (len && name_of && store_next(api_store(h), kind, &it, &o)) {
        const char *n = name_of(o);
        if (n && strcmp(n, ref) == 0)
            return o;
    }
    it = 0;
    while (len && store_next(api_store(h), kind, &it, &o)) {
        const struct obj_meta *m = o;
        if (strncmp(m->id, ref, len) == 0) {
            match = o;
            matches++;
        }
    }
    if (matches == 1)
        return match;
    if (matches > 1)
        err_set(err, ERR_INVALID, "%s %s is ambiguous (%d matches found)", what,
                ref, matches);
    else
        err_set(err, ERR_NOTFOUND, "%s %s not found", what, ref);
    return NULL;
}

static const char *node_name_of(void *o)
{
    struct node *n = o;
    const char *name = jx_str(n->spec, "Name");
    return name && *name ? name : jx_str(n->description, "Hostname");
}

struct service *api_find_service(struct api_host *h, const char *ref,
                                 struct err *err)
{
    struct service *s = store_service_by_name(api_store(h), ref);
    if (s)
        return s;
    return find(h, KIND_SERVICE, ref, NULL, "service", err);
}

struct node *api_find_node(struct api_host *h, const char *ref, struct err *err)
{
    if (strcmp(ref, "self") == 0)
        ref = api_node_id(h);
    return find(h, KIND_NODE, ref, node_name_of, "node", err);
}

struct task *api_find_task(struct api_host *h, const char *ref, struct err *err)
{
    struct task *t = store_task(api_store(h), ref);
    if (t)
        return t;
    return find(h, KIND_TASK, ref, NULL, "task", err);
}

void api_task_name(struct api_host *h, const struct task *t, char *out,
                   size_t size)
{
    struct service *s = store_service(api_store(h), t->service_id);
    const char *name = s ? s->name : t->service_id;
    if (t->slot)
        snprintf(out, size, "%s.%d", name, t->slot);
    else
        snprintf(out, size, "%s.%s", name, t->node_id);
}

int api_query_version(struct http_request *req, uint64_t *out, struct err *err)
{
    const char *v = http_query(req, "version");
    char *end = NULL;
    unsigned long long n = v ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *end || n == 0)
        return err_set(err, ERR_INVALID, "invalid service version '%s'",
                       v ? v : "");
    *out = n;
    return 0;
}

static void pending_abort(struct http_request *req, void *data)
{
    (void)req;
    ((struct api_pending *)data)->req = NULL;
}

struct api_pending *api_pending_new(struct http_request *req,
                                    struct api_host *h)
{
    struct api_pending *p = xcalloc(1, sizeof(*p));
    p->req = req;
    p->h = h;
    http_request_on_abort(req, pending_abort, p);
    return p;
}

struct http_request *api_pending_finish(struct api_pending *p)
{
    struct http_request *req = p->req;
    if (req)
        http_request_on_abort(req, NULL, NULL);
    free(p);
    return req;
}

void api_propose(struct api_pending *p, struct txn *txn, raftnode_apply_fn cb)
{
    struct err err = {0};
    if (p->h->ops->propose(p->h->self, txn, cb, p, &err) < 0)
        cb(p, &err, 0); /* the callback answers and finishes p */
    txn_fini(txn);
}

static void commit_reply(void *pending, const struct err *err, int status)
{
    struct http_request *req = api_pending_finish(pending);
    if (!req)
        return;
    if (err)
        http_reply_err(req, err);
    else
        http_reply_empty(req, status);
}

void api_commit_empty(void *pending, const struct err *err, uint64_t index)
{
    (void)index;
    commit_reply(pending, err, 200);
}

void api_commit_no_content(void *pending, const struct err *err, uint64_t index)
{
    (void)index;
    commit_reply(pending, err, 204);
}
