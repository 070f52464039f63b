// SPDX-License-Identifier: Apache-2.0
// Waiting for the store to reach an index (see swarm_wait.h): a short
// list, since only writes forwarded from this node wait on it.
#include "daemon/swarm_wait.h"

#include <stdlib.h>

#include "base/mem.h"

struct index_wait {
    struct index_wait *next;
    uint64_t index;
    raftnode_apply_fn cb;
    void *data;
};

void swarm_wait_index(struct daemon *d, uint64_t index, raftnode_apply_fn cb,
                      void *data)
{
    if (!d->net || !d->store || store_index(d->store) >= index) {
        cb(data, NULL, index);
        return;
    }
    struct index_wait *w = xcalloc(1, sizeof(*w));
    w->index = index;
    w->cb = cb;
    w->data = data;
    w->next = d->index_waits;
    d->index_waits = w;
}

void swarm_wait_applied(struct daemon *d, uint64_t index)
{
    for (struct index_wait **pw = &d->index_waits; *pw;) {
        struct index_wait *w = *pw;
        if (w->index > index) {
            pw = &w->next;
            continue;
        }
        *pw = w->next;
        w->cb(w->data, NULL, w->index);
        free(w);
    }
}

void swarm_wait_cancel_all(struct daemon *d, const struct err *err)
{
    while (d->index_waits) {
        struct index_wait *w = d->index_waits;
        d->index_waits = w->next;
        w->cb(w->data, err, w->index);
        free(w);
    }
}
