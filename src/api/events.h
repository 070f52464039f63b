// SPDX-License-Identifier: Apache-2.0
// Docker's event stream (GET /events): a bounded log of recent events with
// nanosecond times, fed by the store's change feed (swarm-scope service,
// node and network events) and by the container runtime (local-scope
// container events), replayed for since/until and streamed live to any
// number of subscribers.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/hmap.h"
#include "runtime/container.h"
#include "store/store.h"

struct api_host;
struct events;

/* How many events the log keeps for since/until replays. */
#define EVENTS_LOG_CAP 1024
/* A subscriber with more than this queued but unsent is dropped. */
#define EVENTS_MAX_PENDING (4 * 1024 * 1024)

/* ---- the daemon's event service ---- */

/* Creates the event service of h (owned by the caller until events_close).
 * It records swarm events of the store it follows (events_follow) only
 * while api_swarm_state(h) is API_SWARM_ACTIVE, so the replay of the raft log
 * after a restart does not repeat old events. */
struct events *events_new(struct api_host *h);
/* Ends every open stream, stops following the store and frees ev. */
void events_close(struct events *ev);
/* Follows the swarm's store (NULL: none, the swarm closed). Called when
 * the store is made and before it is freed. */
void events_follow(struct events *ev, struct store *s);

/* A runtime state change of a container (the runtime's ctr_event_fn, via
 * the daemon): RUNNING records "start" (and "create" first if that was not
 * recorded yet), EXITED records "oom" when the kernel killed it and "die",
 * CREATED records "create". Re-adoptions after a restart (state older
 * than ev) record nothing. */
void events_container_state(struct events *ev, const char *id,
                            const struct ctr_status *st);
/* Records a container event the runtime does not report as a state:
 * "create" (right after ctr_create), "destroy" (once ctr_remove is done;
 * the container's name, image and labels are remembered from earlier
 * events), "kill" (attr "signal" = "15"), "stop"... attr_key/attr_value
 * (both NULL or both set) add one attribute. */
void events_container(struct events *ev, const char *id, const char *action,
                      const char *attr_key, const char *attr_value);

/* A volume event (the volume store's volume_event_fn, via the daemon):
 * "create", "destroy", "mount", "unmount" (container set) and "prune"
 * (name NULL; driver carries the reclaimed bytes, as attribute
 * "reclaimed"), scope local, Actor ID the volume's name. */
void events_volume(struct events *ev, const char *action, const char *name,
                   const char *driver, const char *container);

/* ---- pure parts (exposed for the unit tests) ---- */

/* One recorded event. */
struct event {
    int64_t time_ns;
    json_t *msg; /* Docker's events.Message (owned) */
    char *wire;  /* msg as one compact JSON line ending in "\n" (owned) */
    size_t len;
};

/* A ring of the last cap events, oldest first. */
struct event_log {
    struct event *items;
    size_t cap, head, len; /* head: index of the oldest */
};

void event_log_init(struct event_log *l, size_t cap);
void event_log_fini(struct event_log *l);
/* Appends msg (stolen; its "timeNano" is the event's time), dropping the
 * oldest event when full. Returns the stored event (borrowed, valid until
 * the next add). */
const struct event *event_log_add(struct event_log *l, json_t *msg);
/* The i-th oldest event (i < l->len); borrowed. */
const struct event *event_log_at(const struct event_log *l, size_t i);
/* Docker's window: since <= time <= until (INT64_MIN / INT64_MAX when a
 * bound is absent). Without either bound a stream replays nothing; the
 * callers check that first. */
bool event_in_window(const struct event *e, int64_t since, int64_t until);

/* Docker's events.Message: {"Type","Action","Actor":{"ID","Attributes"},
 * "scope","time","timeNano"}, with Attributes (stolen, NULL = none)
 * re-inserted in key order as Go's encoder writes maps. Owned. */
json_t *event_msg_new(const char *type, const char *action, const char *id,
                      json_t *attrs, const char *scope, int64_t time_ns);
/* A container event: the legacy top-level "status" (= action), "id" and
 * "from" (= image) first, then the message as above with scope "local". */
json_t *event_container_msg_new(const char *action, const char *id,
                                const char *image, json_t *attrs,
                                int64_t time_ns);
/* Docker's events filter (daemon/events/filter.go) over filters as parsed
 * by http_query_filters: type, event, scope, label, image, and the object
 * filters (container, service, node, network, secret, config, volume,
 * plugin, daemon) matching the actor's ID or "name" attribute by prefix. */
bool event_matches(const json_t *filters, const json_t *msg);
/* since/until query values: unix seconds with an optional fraction
 * ("1795754081", "1795754081.047157865") or RFC 3339. Returns 1 with *ns
 * set, 0 when s is NULL or "" (absent), -1 with a 400 error. */
int event_parse_time(const char *s, int64_t *ns, struct err *err);

/* Swarm objects into events. It remembers what each service, node and
 * network looked like, because the change feed carries only the new
 * object and update events name what changed ("replicas.old" ...). */
struct event_swarm {
    struct hmap seen; /* object id -> struct swarm_seen * (owned) */
};
void event_swarm_init(struct event_swarm *w);
void event_swarm_fini(struct event_swarm *w);
/* Forgets everything and remembers the objects of s (after a snapshot
 * restore, or when following a store that already has objects). */
void event_swarm_seed(struct event_swarm *w, const struct store *s);
/* The event for one change (owned), or NULL for changes Docker does not
 * report (tasks, the cluster object, KIND__COUNT). Timestamps follow
 * dockerd: CreatedAt for creations, UpdatedAt for updates, now_ns for
 * removals. */
json_t *event_swarm_change(struct event_swarm *w, const struct store_event *e,
                           int64_t now_ns);
