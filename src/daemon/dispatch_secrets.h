// SPDX-License-Identifier: Apache-2.0
// Which secrets and configs a worker is sent: only those that the tasks
// assigned to it (and still meant to run) refer to, as whole objects
// ("secret.put" / "config.put"), and their removal ("secret.drop") once
// none of its tasks needs them. Pure: decisions over the store.
#pragma once

#include <stdbool.h>

#include "base/buf.h"
#include "base/hmap.h"
#include "store/store.h"

/* A set of secrets and configs: keys "s<id>" / "c<id>", owned (the value
 * is the key). */
struct secret_set {
    struct hmap keys;
};

void secret_set_init(struct secret_set *set);
void secret_set_fini(struct secret_set *set);
bool secret_set_has(const struct secret_set *set, const struct secret *x);

/* The secrets and configs in the store that node's active tasks (desired
 * to run, not ended) refer to, into set (emptied first). */
void secret_set_needed(struct secret_set *set, const struct store *s,
                       const char *node_id);

/* Brings sent (what the node has) to what it needs now: appends the
 * operations (JSON texts, comma-separated as in an entry's "ops") to ops
 * and updates sent. */
void secret_set_sync(struct secret_set *sent, const struct store *s,
                     const char *node_id, struct buf *ops);
