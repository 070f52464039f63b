// SPDX-License-Identifier: Apache-2.0
// Placement constraints ("node.labels.zone==east", "node.role!=manager"):
// parsing, validation with Docker's errors, and matching against a node.
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/err.h"
#include "store/objects.h"

struct constraint {
    char *key; /* "node.id", "node.hostname", "node.role",
                  "node.platform.os", "node.platform.arch",
                  "node.labels.<k>", "engine.labels.<k>" */
    char *value;
    bool equal; /* == or != */
};

/* Parses one expression; 400-style error if malformed or the key is not
 * one of the supported ones. */
int constraint_parse(const char *expr, struct constraint *out, struct err *err);
void constraint_fini(struct constraint *c);
/* Validates every string of a Placement.Constraints array (may be NULL). */
int constraints_validate(const json_t *list, struct err *err);
/* True when the node satisfies every expression in list (NULL: true).
 * Unparseable expressions never match. */
bool constraints_match(const json_t *list, const struct node *n);

/* A node's value for a constraint or spread key (node.id, node.hostname,
 * node.role, node.platform.os/arch, node.labels.X, engine.labels.X); NULL
 * if it has none. */
const char *constraint_node_value(const struct node *n, const char *key);
