// SPDX-License-Identifier: Apache-2.0
// The subset of Go templates that swarm expands in a task's hostname and
// environment: text with `{{.Service.Name}}`-style field references (spaces
// allowed inside the braces), each resolved by the caller. Pure.
#pragma once

#include "base/err.h"

/* Resolves a dotted field path without the leading dot ("Task.Slot");
 * NULL if there is no such field. The result is borrowed until the next
 * call. */
typedef const char *(*tmpl_lookup_fn)(void *data, const char *field);

/* Expands text. 400 with the template's words on a reference that is not
 * a field or not known ("template: expansion: can't evaluate field Foo in
 * {{.Task.Foo}}") or unbalanced braces. Owned, NULL on error. */
char *tmpl_expand(const char *text, tmpl_lookup_fn lookup, void *data,
                  struct err *err);

/* The fields swarm's task templates know (Service.ID, Service.Name,
 * Service.Labels..., Node.ID, Node.Hostname, Node.Platform.OS,
 * Node.Platform.Architecture, Task.ID, Task.Name, Task.Slot); a lookup
 * that answers "" for them, to validate a template without a task. */
const char *tmpl_swarm_field_check(void *data, const char *field);
