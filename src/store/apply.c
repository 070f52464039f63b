// SPDX-License-Identifier: Apache-2.0
// The store's state machine: applies a committed transaction's operations,
// in order, each checked against the current state. This code runs on
// every manager for every entry, so it must be deterministic: time comes
// from the entry ("ts"), never from the clock.
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "store/store.h"
#include "store/store_internal.h"

struct apply_ctx {
    struct store *s;
    uint64_t index;
    int64_t ts;
};

typedef int (*op_fn)(struct apply_ctx *c, const json_t *op, struct err *err);

static void touch(struct obj_meta *m, const struct apply_ctx *c)
{
    m->version = c->index;
    m->updated_at = c->ts;
}

static int check_version(const struct obj_meta *m, const json_t *op,
                         struct err *err)
{
    json_int_t want = jx_int(op, "ver", 0);
    if (want && (uint64_t)want != m->version)
        return err_set(err, ERR_CONFLICT, "update out of sequence");
    return 0;
}

static void emit(struct apply_ctx *c, enum store_kind kind,
                 enum store_action action, void *obj)
{
    struct store_event ev = {
        .kind = kind, .action = action, .obj = obj, .index = c->index};
    store_emit(c->s, &ev);
}

static void emit_task(struct apply_ctx *c, enum store_action action,
                      struct task *t, enum task_state old_state,
                      enum task_state old_desired)
{
    struct store_event ev = {.kind = KIND_TASK,
                             .action = action,
                             .obj = t,
                             .index = c->index,
                             .old_state = old_state,
                             .old_desired = old_desired};
    store_emit(c->s, &ev);
}

/* ---- cluster ---- */

static int op_cluster_put(struct apply_ctx *c, const json_t *op,
                          struct err *err)
{
    struct cluster *old = c->s->cluster;
    if (old && check_version(&old->meta, op, err) < 0)
        return -1;
    struct cluster *nc = cluster_decode(json_object_get(op, "obj"), err);
    if (!nc)
        return -1;
    nc->meta.created_at = old ? old->meta.created_at : c->ts;
    touch(&nc->meta, c);
    c->s->cluster = nc;
    emit(c, KIND_CLUSTER, old ? STORE_UPDATE : STORE_CREATE, nc);
    cluster_free(old);
    return 0;
}

/* ---- nodes ---- */

static struct node *find_node(struct apply_ctx *c, const json_t *op,
                              struct err *err)
{
    const char *id = jx_str(op, "id");
    struct node *n = store_node(c->s, id);
    if (!n)
        err_set(err, ERR_NOTFOUND, "node %s not found", id ? id : "");
    return n;
}

static int op_node_put(struct apply_ctx *c, const json_t *op, struct err *err)
{
    struct node *nn = node_decode(json_object_get(op, "obj"), err);
    if (!nn)
        return -1;
    struct node *old = store_node(c->s, nn->meta.id);
    nn->meta.created_at = old ? old->meta.created_at : c->ts;
    touch(&nn->meta, c);
    if (old)
        hmap_del(&c->s->nodes, old->meta.id);
    hmap_put(&c->s->nodes, nn->meta.id, nn);
    emit(c, KIND_NODE, old ? STORE_UPDATE : STORE_CREATE, nn);
    node_free(old);
    return 0;
}

static int op_node_spec(struct apply_ctx *c, const json_t *op, struct err *err)
{
    struct node *n = find_node(c, op, err);
    json_t *spec = json_object_get(op, "spec");
    if (!n || check_version(&n->meta, op, err) < 0)
        return -1;
    if (!json_is_object(spec))
        return err_set(err, ERR_INVALID, "node spec must be an object");
    json_decref(n->spec);
    n->spec = jx_copy(spec);
    touch(&n->meta, c);
    emit(c, KIND_NODE, STORE_UPDATE, n);
    return 0;
}

static int op_node_status(struct apply_ctx *c, const json_t *op,
                          struct err *err)
{
    struct node *n = find_node(c, op, err);
    if (!n)
        return -1;
    const char *state = jx_str(op, "state");
    if (state && strcmp(state, "ready") == 0)
        n->state = NODE_READY;
    else if (state && strcmp(state, "down") == 0)
        n->state = NODE_DOWN;
    else if (state && strcmp(state, "disconnected") == 0)
        n->state = NODE_DISCONNECTED;
    else
        n->state = NODE_UNKNOWN;
    const char *msg = jx_str(op, "message");
    free(n->status_message);
    n->status_message = xstrdup(msg);
    const char *addr = jx_str(op, "addr");
    if (addr) {
        free(n->addr);
        n->addr = xstrdup(addr);
    }
    touch(&n->meta, c);
    emit(c, KIND_NODE, STORE_UPDATE, n);
    return 0;
}

static int op_node_delete(struct apply_ctx *c, const json_t *op,
                          struct err *err)
{
    struct node *n = find_node(c, op, err);
    if (!n)
        return -1;
    hmap_del(&c->s->nodes, n->meta.id);
    emit(c, KIND_NODE, STORE_DELETE, n);
    node_free(n);
    return 0;
}

/* ---- services ---- */

static struct service *find_service(struct apply_ctx *c, const json_t *op,
                                    struct err *err)
{
    const char *id = jx_str(op, "id");
    struct service *s = store_service(c->s, id);
    if (!s)
        err_set(err, ERR_NOTFOUND, "service %s not found", id ? id : "");
    return s;
}

/* Ingress published ports are unique across services. */
static int check_ports(struct apply_ctx *c, const char *service_id,
                       const json_t *endpoint, struct err *err)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(endpoint, "Ports"), i, p)
    {
        const char *mode = jx_str(p, "PublishMode");
        json_int_t port = jx_int(p, "PublishedPort", 0);
        if (!port || (mode && strcmp(mode, "host") == 0))
            continue;
        const char *proto = jx_str(p, "Protocol");
        size_t it = 0;
        void *o;
        while (store_next(c->s, KIND_SERVICE, &it, &o)) {
            struct service *other = o;
            if (strcmp(other->meta.id, service_id) == 0)
                continue;
            size_t k;
            json_t *q;
            json_array_foreach(jx_path(other->endpoint, "Ports"), k, q)
            {
                const char *qm = jx_str(q, "PublishMode");
                const char *qp = jx_str(q, "Protocol");
                if (jx_int(q, "PublishedPort", 0) == port &&
                    !(qm && strcmp(qm, "host") == 0) &&
                    strcmp(qp ? qp : "tcp", proto ? proto : "tcp") == 0)
                    return err_set(err, ERR_INVALID,
                                   "rpc error: code = InvalidArgument desc = "
                                   "port '%lld' is already in use by service "
                                   "'%s' (%s) as an ingress port",
                                   (long long)port, other->name,
                                   other->meta.id);
            }
        }
    }
    return 0;
}

static void set_endpoint(struct service *s, const json_t *op)
{
    json_t *ep = json_object_get(op, "endpoint");
    if (!json_is_object(ep))
        return;
    json_decref(s->endpoint);
    s->endpoint = jx_copy(ep);
}

static int op_service_create(struct apply_ctx *c, const json_t *op,
                             struct err *err)
{
    const char *id = jx_str(op, "id");
    json_t *spec = json_object_get(op, "spec");
    const char *name = jx_str(spec, "Name");
    if (!id || strlen(id) != ID_LEN || !json_is_object(spec) || !name)
        return err_set(err, ERR_INVALID, "malformed service.create");
    if (store_service_by_name(c->s, name))
        return err_set(err, ERR_CONFLICT,
                       "rpc error: code = AlreadyExists desc = name conflicts "
                       "with an existing object: service %s already exists",
                       name);
    if (store_service(c->s, id))
        return err_set(err, ERR_CONFLICT, "service %s already exists", id);
    if (check_ports(c, id, json_object_get(op, "endpoint"), err) < 0)
        return -1;
    struct service *s = service_new();
    set_endpoint(s, op);
    snprintf(s->meta.id, sizeof(s->meta.id), "%s", id);
    s->meta.created_at = c->ts;
    touch(&s->meta, c);
    s->spec = jx_copy(spec);
    s->name = jx_str(s->spec, "Name");
    s->task_spec = json_incref(jx_obj(s->spec, "TaskTemplate"));
    s->spec_version = 1;
    hmap_put(&c->s->services, s->meta.id, s);
    hmap_put(&c->s->services_by_name, s->name, s);
    emit(c, KIND_SERVICE, STORE_CREATE, s);
    return 0;
}

static int op_service_update(struct apply_ctx *c, const json_t *op,
                             struct err *err)
{
    struct service *s = find_service(c, op, err);
    if (!s || check_version(&s->meta, op, err) < 0)
        return -1;
    json_t *spec = json_object_get(op, "spec");
    const char *name = jx_str(spec, "Name");
    if (!json_is_object(spec) || !name)
        return err_set(err, ERR_INVALID, "malformed service.update");
    if (strcmp(name, s->name) != 0)
        return err_set(err, ERR_INVALID,
                       "rpc error: code = Unimplemented desc = renaming "
                       "services is not supported");
    if (check_ports(c, s->meta.id, json_object_get(op, "endpoint"), err) < 0)
        return -1;
    set_endpoint(s, op);
    json_t *new_spec = jx_copy(spec);
    json_t *new_tt = jx_obj(new_spec, "TaskTemplate");
    hmap_del(&c->s->services_by_name, s->name);
    json_decref(s->previous_spec);
    s->previous_spec = s->spec;
    s->spec = new_spec;
    s->name = jx_str(s->spec, "Name");
    hmap_put(&c->s->services_by_name, s->name, s);
    if (!jx_equal_loose(new_tt, s->task_spec) || service_is_job(s)) {
        json_decref(s->task_spec);
        s->task_spec = json_incref(new_tt);
        s->spec_version++;
        /* A new rollout: the orchestrator reports it from here (a paused
         * or finished one is over); a rollback says so at once. */
        json_decref(s->update_status);
        s->update_status = NULL;
        if (json_is_true(json_object_get(op, "rollback"))) {
            char now[TIME_STRLEN];
            time_fmt_rfc3339(c->ts, now);
            s->update_status = json_pack(
                "{s:s, s:s, s:s}", "State", "rollback_started", "StartedAt",
                now, "Message", "manually requested rollback");
        }
    } else {
        /* Keep sharing the old (equal) object with existing tasks. */
        json_object_set(s->spec, "TaskTemplate", s->task_spec);
    }
    touch(&s->meta, c);
    emit(c, KIND_SERVICE, STORE_UPDATE, s);
    return 0;
}

static int op_service_update_status(struct apply_ctx *c, const json_t *op,
                                    struct err *err)
{
    struct service *s = find_service(c, op, err);
    if (!s)
        return -1;
    json_t *st = json_object_get(op, "status");
    json_decref(s->update_status);
    s->update_status = json_is_object(st) ? jx_copy(st) : NULL;
    touch(&s->meta, c);
    emit(c, KIND_SERVICE, STORE_UPDATE, s);
    return 0;
}

static int op_service_delete(struct apply_ctx *c, const json_t *op,
                             struct err *err)
{
    struct service *s = find_service(c, op, err);
    if (!s)
        return -1;
    hmap_del(&c->s->services, s->meta.id);
    hmap_del(&c->s->services_by_name, s->name);
    emit(c, KIND_SERVICE, STORE_DELETE, s);
    service_free(s);
    return 0;
}

/* ---- tasks ---- */

static struct task *find_task(struct apply_ctx *c, const json_t *op,
                              struct err *err)
{
    const char *id = jx_str(op, "id");
    struct task *t = store_task(c->s, id);
    if (!t)
        err_set(err, ERR_NOTFOUND, "task %s not found", id ? id : "");
    return t;
}

static int op_task_create(struct apply_ctx *c, const json_t *op,
                          struct err *err)
{
    struct task *t = task_decode(json_object_get(op, "obj"), err);
    if (!t)
        return -1;
    if (store_task(c->s, t->meta.id)) {
        err_set(err, ERR_CONFLICT, "task %s already exists", t->meta.id);
        task_free(t);
        return -1;
    }
    if (!t->spec) {
        struct service *s = store_service(c->s, t->service_id);
        if (!s) {
            err_set(err, ERR_NOTFOUND, "service %s not found", t->service_id);
            task_free(t);
            return -1;
        }
        t->spec = json_incref(s->task_spec);
        t->spec_version = s->spec_version;
    }
    t->meta.created_at = c->ts;
    touch(&t->meta, c);
    if (!t->status_ts)
        t->status_ts = c->ts;
    store_index_task(c->s, t);
    emit_task(c, STORE_CREATE, t, t->state, t->desired);
    return 0;
}

/* A whole task as another store has it (a worker's mirror of its own
 * tasks): created or replaced, its metadata kept as sent. */
static int op_task_put(struct apply_ctx *c, const json_t *op, struct err *err)
{
    struct task *t = task_decode(json_object_get(op, "obj"), err);
    if (!t)
        return -1;
    if (!t->spec) {
        struct service *s = store_service(c->s, t->service_id);
        if (!s) {
            err_set(err, ERR_NOTFOUND, "service %s not found", t->service_id);
            task_free(t);
            return -1;
        }
        t->spec = json_incref(s->task_spec);
    }
    struct task *old = store_task(c->s, t->meta.id);
    enum task_state old_state = old ? old->state : t->state;
    enum task_state old_desired = old ? old->desired : t->desired;
    if (old) {
        store_unindex_task(c->s, old);
        task_free(old);
    }
    store_index_task(c->s, t);
    emit_task(c, old ? STORE_UPDATE : STORE_CREATE, t, old_state, old_desired);
    return 0;
}

static int op_task_assign(struct apply_ctx *c, const json_t *op,
                          struct err *err)
{
    struct task *t = find_task(c, op, err);
    const char *node = jx_str(op, "node");
    if (!t)
        return -1;
    if (!node || strlen(node) != ID_LEN)
        return err_set(err, ERR_INVALID, "malformed task.assign");
    if (t->state > TASK_PENDING || t->desired > TASK_RUNNING)
        return err_set(err, ERR_CONFLICT, "task %s is no longer pending",
                       t->meta.id);
    enum task_state old = t->state;
    store_task_set_node(c->s, t, node);
    store_task_set_state(c->s, t, TASK_ASSIGNED);
    free(t->message);
    t->message = xstrdup("scheduler assigned task to node");
    free(t->error);
    t->error = NULL;
    t->status_ts = c->ts;
    touch(&t->meta, c);
    emit_task(c, STORE_UPDATE, t, old, t->desired);
    return 0;
}

static int op_task_status(struct apply_ctx *c, const json_t *op,
                          struct err *err)
{
    struct task *t = find_task(c, op, err);
    if (!t)
        return -1;
    int st = task_state_parse(jx_str(op, "state"));
    if (st < 0)
        return err_set(err, ERR_INVALID, "malformed task.status");
    enum task_state old = t->state;
    /* Never backwards; a terminal state is final. Stale reports are not
     * errors: they are simply outdated. */
    if ((enum task_state)st < old ||
        (task_state_is_terminal(old) && (enum task_state)st != old))
        return 0;
    store_task_set_state(c->s, t, (enum task_state)st);
    const char *msg = jx_str(op, "message");
    if (msg) {
        free(t->message);
        t->message = xstrdup(msg);
    }
    const char *e = jx_str(op, "err");
    free(t->error);
    t->error = xstrdup(e);
    const char *ctr = jx_str(op, "container");
    if (ctr)
        snprintf(t->container_id, sizeof(t->container_id), "%s", ctr);
    json_int_t pid = jx_int(op, "pid", -1);
    if (pid >= 0)
        t->pid = (int)pid;
    json_t *exit = json_object_get(op, "exit");
    if (json_is_integer(exit)) {
        t->exit_code = (int)json_integer_value(exit);
        t->has_exit_code = true;
    }
    if (task_state_is_terminal(t->state))
        t->pid = 0;
    /* Host-mode ports are the task's while it runs (as Docker shows
     * them). */
    json_t *ports = json_object_get(op, "ports");
    if (json_is_array(ports)) {
        json_decref(t->ports);
        t->ports = json_array_size(ports) ? jx_copy(ports) : NULL;
    } else if (t->state > TASK_RUNNING && t->ports) {
        json_decref(t->ports);
        t->ports = NULL;
    }
    const char *health = jx_str(op, "health");
    bool health_changed = false;
    if (health) {
        enum task_health h = task_health_parse(health);
        health_changed = h != t->health;
        t->health = h;
    }
    t->status_ts = c->ts;
    touch(&t->meta, c);
    struct store_event ev = {.kind = KIND_TASK,
                             .action = STORE_UPDATE,
                             .obj = t,
                             .index = c->index,
                             .old_state = old,
                             .old_desired = t->desired,
                             .health_changed = health_changed};
    store_emit(c->s, &ev);
    return 0;
}

static int op_task_desired(struct apply_ctx *c, const json_t *op,
                           struct err *err)
{
    struct task *t = find_task(c, op, err);
    if (!t)
        return -1;
    int d = task_state_parse(jx_str(op, "desired"));
    if (d < 0)
        return err_set(err, ERR_INVALID, "malformed task.desired");
    if ((enum task_state)d <= t->desired)
        return 0;
    enum task_state old = t->desired;
    t->desired = (enum task_state)d;
    touch(&t->meta, c);
    emit_task(c, STORE_UPDATE, t, t->state, old);
    return 0;
}

static int op_task_allocate(struct apply_ctx *c, const json_t *op,
                            struct err *err)
{
    struct task *t = find_task(c, op, err);
    if (!t)
        return -1;
    if (t->state != TASK_NEW)
        return err_set(err, ERR_CONFLICT, "task %s is already allocated",
                       t->meta.id);
    json_t *nets = json_object_get(op, "networks");
    json_decref(t->networks);
    t->networks = json_array_size(nets) ? jx_copy(nets) : NULL;
    store_task_set_state(c->s, t, TASK_PENDING);
    free(t->message);
    t->message = xstrdup("pending task scheduling");
    t->status_ts = c->ts;
    touch(&t->meta, c);
    emit_task(c, STORE_UPDATE, t, TASK_NEW, t->desired);
    return 0;
}

static int op_task_delete(struct apply_ctx *c, const json_t *op,
                          struct err *err)
{
    struct task *t = find_task(c, op, err);
    if (!t)
        return -1;
    store_unindex_task(c->s, t);
    emit_task(c, STORE_DELETE, t, t->state, t->desired);
    task_free(t);
    return 0;
}

/* ---- networks ---- */

static int op_network_create(struct apply_ctx *c, const json_t *op,
                             struct err *err)
{
    struct network *n = network_decode(json_object_get(op, "obj"), err);
    if (!n)
        return -1;
    size_t it = 0;
    void *o;
    int rc = 0;
    if (store_network(c->s, n->meta.id))
        rc =
            err_set(err, ERR_CONFLICT, "network %s already exists", n->meta.id);
    else if (store_network_by_name(c->s, n->name))
        rc = err_set(err, ERR_CONFLICT, "network with name %s already exists",
                     n->name);
    while (rc == 0 && store_next(c->s, KIND_NETWORK, &it, &o)) {
        struct network *other = o;
        if (other->vni == n->vni)
            rc = err_set(err, ERR_CONFLICT, "VXLAN id %u is already in use",
                         n->vni);
        else if (strcmp(other->subnet, n->subnet) == 0)
            rc = err_set(err, ERR_CONFLICT,
                         "subnet %s is already used by network %s", n->subnet,
                         other->name);
    }
    if (rc < 0) {
        network_free(n);
        return -1;
    }
    n->meta.created_at = c->ts;
    touch(&n->meta, c);
    hmap_put(&c->s->networks, n->meta.id, n);
    hmap_put(&c->s->networks_by_name, n->name, n);
    emit(c, KIND_NETWORK, STORE_CREATE, n);
    return 0;
}

static int op_network_delete(struct apply_ctx *c, const json_t *op,
                             struct err *err)
{
    const char *id = jx_str(op, "id");
    struct network *n = store_network(c->s, id);
    if (!n)
        return err_set(err, ERR_NOTFOUND, "network %s not found", id ? id : "");
    hmap_del(&c->s->networks, n->meta.id);
    hmap_del(&c->s->networks_by_name, n->name);
    emit(c, KIND_NETWORK, STORE_DELETE, n);
    network_free(n);
    return 0;
}

/* ---- secrets and configs ---- */

/* "secret.x" / "config.x" operations share their code: the kind comes
 * from the operation's name. */
static enum store_kind op_kind(const json_t *op)
{
    const char *name = jx_str(op, "op");
    return name && strncmp(name, "config.", 7) == 0 ? KIND_CONFIG : KIND_SECRET;
}

static void secret_index(struct store *s, struct secret *x)
{
    int k = store_secret_slot(x->kind);
    hmap_put(&s->secrets[k], x->meta.id, x);
    hmap_put(&s->secrets_by_name[k], x->name, x);
}

static void secret_unindex(struct store *s, struct secret *x)
{
    int k = store_secret_slot(x->kind);
    hmap_del(&s->secrets[k], x->meta.id);
    hmap_del(&s->secrets_by_name[k], x->name);
}

static int op_secret_create(struct apply_ctx *c, const json_t *op,
                            struct err *err)
{
    enum store_kind kind = op_kind(op);
    struct secret *x = secret_decode(kind, json_object_get(op, "obj"), err);
    if (!x)
        return -1;
    int rc = 0;
    if (store_secret_by_name(c->s, kind, x->name))
        rc = err_set(err, ERR_CONFLICT,
                     "rpc error: code = AlreadyExists desc = %s %s already "
                     "exists",
                     store_kind_name(kind), x->name);
    else if (store_secret(c->s, kind, x->meta.id))
        rc = err_set(err, ERR_CONFLICT, "%s %s already exists",
                     store_kind_name(kind), x->meta.id);
    if (rc < 0) {
        secret_free(x);
        return -1;
    }
    x->meta.created_at = c->ts;
    touch(&x->meta, c);
    secret_index(c->s, x);
    emit(c, kind, STORE_CREATE, x);
    return 0;
}

static struct secret *find_secret(struct apply_ctx *c, const json_t *op,
                                  struct err *err)
{
    enum store_kind kind = op_kind(op);
    const char *id = jx_str(op, "id");
    struct secret *x = store_secret(c->s, kind, id);
    if (!x)
        err_set(err, ERR_NOTFOUND, "%s %s not found", store_kind_name(kind),
                id ? id : "");
    return x;
}

/* Only the labels of a secret or config ever change (as in swarmkit). */
static int op_secret_labels(struct apply_ctx *c, const json_t *op,
                            struct err *err)
{
    struct secret *x = find_secret(c, op, err);
    if (!x || check_version(&x->meta, op, err) < 0)
        return -1;
    json_t *labels = json_object_get(op, "labels");
    json_object_set_new(x->spec, "Labels",
                        json_is_object(labels) ? jx_copy(labels)
                                               : json_object());
    touch(&x->meta, c);
    emit(c, x->kind, STORE_UPDATE, x);
    return 0;
}

/* Does the service's task template refer to secret / config id? */
static bool service_refers(const struct service *svc, enum store_kind kind,
                           const char *id)
{
    const char *list = kind == KIND_CONFIG ? "Configs" : "Secrets";
    const char *key = kind == KIND_CONFIG ? "ConfigID" : "SecretID";
    json_t *refs =
        json_object_get(jx_path(svc->spec, "TaskTemplate.ContainerSpec"), list);
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r)
    {
        if (strcmp(jx_str0(r, key), id) == 0)
            return true;
    }
    return false;
}

/* Refused while a service uses it, with swarmkit's message. */
static int op_secret_delete(struct apply_ctx *c, const json_t *op,
                            struct err *err)
{
    struct secret *x = find_secret(c, op, err);
    if (!x)
        return -1;
    struct buf users;
    buf_init(&users);
    size_t it = 0, n = 0;
    void *o;
    while (store_next(c->s, KIND_SERVICE, &it, &o)) {
        const struct service *svc = o;
        if (!service_refers(svc, x->kind, x->meta.id))
            continue;
        if (n++)
            buf_puts(&users, ", ");
        buf_puts(&users, svc->name);
    }
    if (n) {
        buf_append(&users, "", 1);
        err_set(err, ERR_INVALID,
                "rpc error: code = InvalidArgument desc = %s '%s' is in use "
                "by the following service%s: %s",
                store_kind_name(x->kind), x->name, n > 1 ? "s" : "",
                (const char *)users.data);
        buf_fini(&users);
        return -1;
    }
    buf_fini(&users);
    secret_unindex(c->s, x);
    emit(c, x->kind, STORE_DELETE, x);
    secret_free(x);
    return 0;
}

/* A whole secret as the leader has it (a worker's copy of the secrets its
 * own tasks use): created or replaced, its metadata kept as sent. */
static int op_secret_put(struct apply_ctx *c, const json_t *op, struct err *err)
{
    enum store_kind kind = op_kind(op);
    struct secret *x = secret_decode(kind, json_object_get(op, "obj"), err);
    if (!x)
        return -1;
    struct secret *old = store_secret(c->s, kind, x->meta.id);
    struct secret *named = store_secret_by_name(c->s, kind, x->name);
    if (named && named != old) {
        secret_unindex(c->s, named);
        secret_free(named);
    }
    if (old) {
        secret_unindex(c->s, old);
        secret_free(old);
    }
    secret_index(c->s, x);
    emit(c, kind, old ? STORE_UPDATE : STORE_CREATE, x);
    return 0;
}

/* The worker's copy of a secret it no longer needs (never refused). */
static int op_secret_drop(struct apply_ctx *c, const json_t *op,
                          struct err *err)
{
    struct secret *x = find_secret(c, op, err);
    if (!x)
        return -1;
    secret_unindex(c->s, x);
    emit(c, x->kind, STORE_DELETE, x);
    secret_free(x);
    return 0;
}

static const struct {
    const char *name;
    op_fn fn;
} ops[] = {
    {"secret.create", op_secret_create},
    {"secret.labels", op_secret_labels},
    {"secret.delete", op_secret_delete},
    {"secret.put", op_secret_put},
    {"secret.drop", op_secret_drop},
    {"config.create", op_secret_create},
    {"config.labels", op_secret_labels},
    {"config.delete", op_secret_delete},
    {"config.put", op_secret_put},
    {"config.drop", op_secret_drop},
    {"network.create", op_network_create},
    {"network.delete", op_network_delete},
    {"task.allocate", op_task_allocate},
    {"cluster.put", op_cluster_put},
    {"node.put", op_node_put},
    {"node.spec", op_node_spec},
    {"node.status", op_node_status},
    {"node.delete", op_node_delete},
    {"service.create", op_service_create},
    {"service.update", op_service_update},
    {"service.update_status", op_service_update_status},
    {"service.delete", op_service_delete},
    {"task.create", op_task_create},
    {"task.assign", op_task_assign},
    {"task.status", op_task_status},
    {"task.desired", op_task_desired},
    {"task.delete", op_task_delete},
    {"task.put", op_task_put},
};

int store_apply(struct store *s, uint64_t index, const void *data, size_t len,
                struct err *err)
{
    json_error_t jerr;
    _cleanup_json_ json_t *entry = json_loadb(data, len, 0, &jerr);
    s->index = index;
    if (!json_is_object(entry))
        return err_set(err, ERR_INTERNAL, "undecodable log entry %llu: %s",
                       (unsigned long long)index, jerr.text);
    struct apply_ctx c = {.s = s, .index = index, .ts = jx_int(entry, "ts", 0)};
    json_t *list = json_object_get(entry, "ops");
    size_t i;
    json_t *op;
    int rc = 0;
    json_array_foreach(list, i, op)
    {
        const char *name = jx_str(op, "op");
        op_fn fn = NULL;
        for (size_t k = 0; name && k < ARRAY_SIZE(ops); k++)
            if (strcmp(ops[k].name, name) == 0)
                fn = ops[k].fn;
        struct err op_err = {0};
        if (!fn)
            err_set(&op_err, ERR_INTERNAL, "unknown store operation '%s'",
                    name ? name : "");
        else if (fn(&c, op, &op_err) == 0)
            continue;
        log_debug("store: entry %llu op %zu (%s) skipped: %s",
                  (unsigned long long)index, i, name ? name : "?", op_err.msg);
        if (rc == 0 && err)
            *err = op_err;
        rc = -1;
    }
    return rc;
}
