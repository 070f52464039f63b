// SPDX-License-Identifier: Apache-2.0
// Swarm's task templates on this node: a task's ContainerSpec with its
// Hostname and Env expanded for the task ({{.Task.Slot}},
// {{.Service.Name}}, {{.Node.Hostname}}...).
#pragma once

#include <jansson.h>

#include "base/err.h"
#include "store/store.h"

/* What the templates of one task can refer to (borrowed strings). */
struct tasktmpl_ctx {
    const struct task *task;
    const char *task_name;         /* "<service>.<slot>.<task id>" */
    const struct service *service; /* may be NULL */
    const struct node *node;       /* this node, may be NULL */
    const char *node_id;
};

/* The field's value for ctx ("Task.Slot" -> "2"), NULL if unknown. Pure;
 * the result is borrowed until the next call with the same buffer. */
const char *tasktmpl_lookup(const struct tasktmpl_ctx *ctx, const char *field,
                            char *scratch, size_t size);

/* A copy of the task's ContainerSpec with Hostname and Env expanded.
 * Owned; NULL + 400 if a template is bad. */
json_t *tasktmpl_container_spec(const struct tasktmpl_ctx *ctx,
                                struct err *err);
