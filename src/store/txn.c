// SPDX-License-Identifier: Apache-2.0
// Transaction builders: each appends one operation object to the list that
// becomes a Raft log entry.
#include "store/txn.h"

#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"

void txn_init(struct txn *t)
{
    t->ops = json_array();
    t->ts = time_now_ns();
}

void txn_fini(struct txn *t)
{
    json_decref(t->ops);
    t->ops = NULL;
}

char *txn_encode(const struct txn *t, size_t *len)
{
    _cleanup_json_ json_t *j = json_object();
    json_object_set_new(j, "ts", json_integer(t->ts));
    json_object_set(j, "ops", t->ops);
    char *s = jx_dumps(j);
    if (len)
        *len = strlen(s);
    return s;
}

static json_t *op_new(struct txn *t, const char *name, const char *id)
{
    json_t *op = json_object();
    json_object_set_new(op, "op", json_string(name));
    if (id)
        json_object_set_new(op, "id", json_string(id));
    json_array_append_new(t->ops, op);
    return op;
}

void txn_cluster_put(struct txn *t, const struct cluster *c,
                     uint64_t if_version)
{
    json_t *op = op_new(t, "cluster.put", c->meta.id);
    json_object_set_new(op, "obj", cluster_encode(c));
    if (if_version)
        json_object_set_new(op, "ver", json_integer((json_int_t)if_version));
}

void txn_node_put(struct txn *t, const struct node *n)
{
    json_t *op = op_new(t, "node.put", n->meta.id);
    json_object_set_new(op, "obj", node_encode(n));
}

void txn_node_spec(struct txn *t, const char *id, uint64_t if_version,
                   json_t *spec)
{
    json_t *op = op_new(t, "node.spec", id);
    json_object_set(op, "spec", spec);
    if (if_version)
        json_object_set_new(op, "ver", json_integer((json_int_t)if_version));
}

void txn_node_status(struct txn *t, const char *id, enum node_state state,
                     const char *message, const char *addr)
{
    json_t *op = op_new(t, "node.status", id);
    json_object_set_new(op, "state", json_string(node_state_name(state)));
    if (message)
        json_object_set_new(op, "message", json_string(message));
    if (addr)
        json_object_set_new(op, "addr", json_string(addr));
}

void txn_node_delete(struct txn *t, const char *id)
{
    op_new(t, "node.delete", id);
}

void txn_service_create(struct txn *t, const char *id, json_t *spec,
                        json_t *endpoint)
{
    json_t *op = op_new(t, "service.create", id);
    json_object_set(op, "spec", spec);
    if (endpoint)
        json_object_set(op, "endpoint", endpoint);
}

void txn_service_update(struct txn *t, const char *id, uint64_t if_version,
                        json_t *spec, bool rollback, json_t *endpoint)
{
    json_t *op = op_new(t, "service.update", id);
    json_object_set(op, "spec", spec);
    if (endpoint)
        json_object_set(op, "endpoint", endpoint);
    if (if_version)
        json_object_set_new(op, "ver", json_integer((json_int_t)if_version));
    if (rollback)
        json_object_set_new(op, "rollback", json_true());
}

void txn_service_update_status(struct txn *t, const char *id,
                               json_t *update_status)
{
    json_t *op = op_new(t, "service.update_status", id);
    json_object_set(op, "status", update_status ? update_status : json_null());
}

void txn_service_delete(struct txn *t, const char *id)
{
    op_new(t, "service.delete", id);
}

void txn_task_create(struct txn *t, const struct task *task)
{
    json_t *op = op_new(t, "task.create", task->meta.id);
    json_object_set_new(op, "obj", task_encode(task, task->spec != NULL));
}

void txn_task_assign(struct txn *t, const char *id, const char *node_id)
{
    json_t *op = op_new(t, "task.assign", id);
    json_object_set_new(op, "node", json_string(node_id));
}

void txn_task_status(struct txn *t, const char *id, enum task_state state,
                     const char *message, const char *error,
                     const char *container_id, int pid, int exit_code)
{
    json_t *op = op_new(t, "task.status", id);
    json_object_set_new(op, "state", json_string(task_state_name(state)));
    if (message)
        json_object_set_new(op, "message", json_string(message));
    if (error)
        json_object_set_new(op, "err", json_string(error));
    if (container_id && *container_id)
        json_object_set_new(op, "container", json_string(container_id));
    if (pid > 0)
        json_object_set_new(op, "pid", json_integer(pid));
    if (exit_code >= 0)
        json_object_set_new(op, "exit", json_integer(exit_code));
}

void txn_task_health(struct txn *t, const char *id, enum task_state state,
                     enum task_health health)
{
    json_t *op = op_new(t, "task.status", id);
    json_object_set_new(op, "state", json_string(task_state_name(state)));
    json_object_set_new(op, "health", json_string(task_health_name(health)));
}

void txn_task_ports(struct txn *t, const char *id, enum task_state state,
                    const json_t *ports)
{
    json_t *op = op_new(t, "task.status", id);
    json_object_set_new(op, "state", json_string(task_state_name(state)));
    json_object_set_new(op, "ports", ports ? jx_copy(ports) : json_array());
}

void txn_task_desired(struct txn *t, const char *id, enum task_state desired)
{
    json_t *op = op_new(t, "task.desired", id);
    json_object_set_new(op, "desired", json_string(task_state_name(desired)));
}

void txn_task_delete(struct txn *t, const char *id)
{
    op_new(t, "task.delete", id);
}

void txn_task_allocate(struct txn *t, const char *id, json_t *networks)
{
    json_t *op = op_new(t, "task.allocate", id);
    json_object_set(op, "networks", networks ? networks : json_null());
}

void txn_network_create(struct txn *t, const struct network *n)
{
    json_t *op = op_new(t, "network.create", n->meta.id);
    json_object_set_new(op, "obj", network_encode(n));
}

void txn_network_delete(struct txn *t, const char *id)
{
    op_new(t, "network.delete", id);
}

static const char *secret_op(enum store_kind kind, const char *verb, char *buf,
                             size_t size)
{
    snprintf(buf, size, "%s.%s", kind == KIND_CONFIG ? "config" : "secret",
             verb);
    return buf;
}

void txn_secret_create(struct txn *t, const struct secret *x)
{
    char name[32];
    json_t *op =
        op_new(t, secret_op(x->kind, "create", name, sizeof(name)), x->meta.id);
    json_object_set_new(op, "obj", secret_encode(x));
}

void txn_secret_labels(struct txn *t, enum store_kind kind, const char *id,
                       uint64_t if_version, json_t *labels)
{
    char name[32];
    json_t *op = op_new(t, secret_op(kind, "labels", name, sizeof(name)), id);
    json_object_set(op, "labels", labels ? labels : json_null());
    if (if_version)
        json_object_set_new(op, "ver", json_integer((json_int_t)if_version));
}

void txn_secret_delete(struct txn *t, enum store_kind kind, const char *id)
{
    char name[32];
    op_new(t, secret_op(kind, "delete", name, sizeof(name)), id);
}
