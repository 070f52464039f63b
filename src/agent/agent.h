// SPDX-License-Identifier: Apache-2.0
// The node's agent: it learns which tasks are assigned to this node, runs
// each through its lifecycle (accepted, preparing, ready, starting,
// running, then complete / failed / shutdown) as a container, and reports
// status changes in batches. It re-adopts containers after a restart of
// shoald and removes those whose task is gone.
#pragma once

#include <stdbool.h>
#include <uv.h>

#include "base/err.h"
#include "runtime/container.h"
#include "runtime/image.h"
#include "store/store.h"

struct agent;
struct registry;

/* Sends a batch of status operations (an encoded transaction). done is
 * called once with whether it was committed. Returns -1 (done not called)
 * if it could not be sent at all. */
typedef void (*agent_sent_fn)(void *data, bool ok);
typedef int (*agent_report_fn)(void *report_data, const char *txn, size_t len,
                               agent_sent_fn done, void *done_data);

/* What the agent did to a container, for the event stream: "create",
 * "kill" (key "signal"), "destroy". key/value may be NULL. */
typedef void (*agent_action_fn)(void *data, const char *container_id,
                                const char *action, const char *key,
                                const char *value);

struct agent_config {
    uv_loop_t *loop;
    const char *node_id;
    const char *data_root; /* netns files live in <data_root>/netns */
    struct store *store;   /* read-only view of the cluster state */
    struct runtime *runtime;
    struct image_store *images;
    /* Pulls images a task needs and the node lacks (may be NULL: then a
     * missing image rejects the task). */
    struct registry *registry;
    agent_report_fn report;
    void *report_data;
    agent_action_fn on_action; /* may be NULL */
    void *action_data;
    uint16_t dns_port; /* the tasks' DNS server port, 0 = 53 */
};

struct agent *agent_new(const struct agent_config *cfg, struct err *err);
/* Re-adopts existing containers and starts following assignments. */
int agent_start(struct agent *a, struct err *err);
/* The runtime's event callback must be routed here. */
void agent_on_container_event(void *agent, const char *id,
                              const struct ctr_status *st);
/* Stops following assignments; containers keep running. */
void agent_stop(struct agent *a);
/* Stops every container and removes it (swarm leave). cb when done. */
void agent_remove_all(struct agent *a, void (*cb)(void *), void *data);
void agent_free(struct agent *a);

/* Is this image id used by one of the agent's containers? (image rm; the
 * signature of image_in_use_fn) */
bool agent_image_in_use(void *agent, const char *image_id,
                        char container_id[65]);
