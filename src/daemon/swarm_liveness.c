// SPDX-License-Identifier: Apache-2.0
// The leader's liveness table (see swarm_liveness.h): a small array of
// (node, last heard) pairs, looked up linearly, since a sweep walks every
// node anyway.
#include "daemon/swarm_liveness.h"

#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/txn.h"

#define DEFAULT_HB_NS 5000000000LL
#define GRACE_PERIODS 3

struct last_heard {
    char node_id[ID_LEN + 1];
    int64_t at; /* monotonic ms of the last heartbeat */
};

struct liveness {
    struct last_heard *heard;
    size_t n_heard;
};

int64_t swarm_heartbeat_ms(const struct daemon *d)
{
    const struct cluster *c = d->store ? store_cluster(d->store) : NULL;
    json_int_t ns =
        c ? jx_int(jx_obj(c->spec, "Dispatcher"), "HeartbeatPeriod", 0) : 0;
    if (ns <= 0)
        ns = DEFAULT_HB_NS;
    return ns / 1000000;
}

void swarm_liveness_start(struct daemon *d)
{
    swarm_liveness_stop(d);
    d->liveness = xcalloc(1, sizeof(*d->liveness));
}

void swarm_liveness_stop(struct daemon *d)
{
    struct liveness *l = d->liveness;
    if (!l)
        return;
    d->liveness = NULL;
    free(l->heard);
    free(l);
}

static struct last_heard *heard_find(struct liveness *l, const char *node_id)
{
    for (size_t i = 0; i < l->n_heard; i++)
        if (strcmp(l->heard[i].node_id, node_id) == 0)
            return &l->heard[i];
    return NULL;
}

static struct last_heard *heard_add(struct liveness *l, const char *node_id,
                                    int64_t at)
{
    l->heard = xrealloc(l->heard, (l->n_heard + 1) * sizeof(*l->heard));
    struct last_heard *h = &l->heard[l->n_heard++];
    snprintf(h->node_id, sizeof(h->node_id), "%s", node_id);
    h->at = at;
    return h;
}

static void status_committed(void *data, const struct err *err, uint64_t index)
{
    (void)data;
    (void)index;
    if (err)
        log_debug("cluster: node status: %s", err->msg);
}

static void propose_node_state(struct daemon *d, const struct node *nd,
                               enum node_state state, const char *message)
{
    struct txn txn;
    txn_init(&txn);
    if (nd->manager) {
        /* A manager's reachability follows its heartbeats too. */
        struct node *c = node_copy(nd);
        c->state = state;
        free(c->status_message);
        c->status_message = message ? xstrdup(message) : NULL;
        free(c->reachability);
        c->reachability =
            xstrdup(state == NODE_READY ? "reachable" : "unreachable");
        txn_node_put(&txn, c);
        node_free(c);
    } else {
        txn_node_status(&txn, nd->meta.id, state, message, nd->addr);
    }
    struct err err = {0};
    if (d->hooks->propose_txn(d, &txn, status_committed, NULL, &err) < 0)
        log_debug("cluster: node status: %s", err.msg);
    txn_fini(&txn);
}

void swarm_liveness_heard(struct daemon *d, const char *node_id)
{
    struct liveness *l = d->liveness;
    if (!l)
        return;
    int64_t now = (int64_t)uv_now(d->loop);
    struct last_heard *h = heard_find(l, node_id);
    if (!h)
        h = heard_add(l, node_id, now);
    h->at = now;
    const struct node *nd = store_node(d->store, node_id);
    if (nd && nd->state != NODE_READY) {
        log_info("cluster: node %s is back", node_id);
        propose_node_state(d, nd, NODE_READY, NULL);
    }
}

void swarm_liveness_sweep(struct daemon *d)
{
    struct liveness *l = d->liveness;
    if (!l)
        return;
    int64_t now = (int64_t)uv_now(d->loop);
    int64_t grace = swarm_heartbeat_ms(d) * GRACE_PERIODS;
    size_t it = 0;
    void *o;
    while (store_next(d->store, KIND_NODE, &it, &o)) {
        const struct node *nd = o;
        if (strcmp(nd->meta.id, d->node_id) == 0 || nd->state == NODE_DOWN)
            continue;
        /* A node this leader has not heard from yet (it has just joined,
         * or leadership has just moved) is timed from the moment the
         * leader first sees it, as swarmkit times a new session. */
        const struct last_heard *h = heard_find(l, nd->meta.id);
        if (!h)
            h = heard_add(l, nd->meta.id, now);
        if (now - h->at > grace) {
            log_info("cluster: node %s missed its heartbeats: down",
                     nd->meta.id);
            propose_node_state(d, nd, NODE_DOWN, "heartbeat failure");
        }
    }
}
