// SPDX-License-Identifier: Apache-2.0
// shoald's top level: the daemon struct every subsystem hangs off, its
// ordered startup and reverse shutdown, and the swarm lifecycle (init,
// reopen after a restart, leave). The API handlers reach the subsystems
// through this struct.
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "agent/agent.h"
#include "api/api.h"
#include "api/http.h"
#include "base/err.h"
#include "base/version.h"
#include "manager/manager.h"
#include "raft/raftnode.h"
#include "runtime/container.h"
#include "runtime/image.h"
#include "store/store.h"
#include "store/txn.h"

#define DEFAULT_SOCKET       "unix:///run/shoal/shoal.sock"
#define DEFAULT_DATA_ROOT    "/var/lib/shoal"
#define DEFAULT_CLUSTER_PORT 4377

struct daemon;
struct events;
struct swarm_net;
struct dispatcher;
struct worker_session;
struct index_wait;
struct liveness;

struct daemon_config {
    const char *hosts[8]; /* -H addresses */
    int n_hosts;
    const char *data_root;
    const char *runtime;       /* NULL = detect */
    const char *cgroup_parent; /* NULL = "shoal-<hostname>" */
    int log_level;
    /* Registries reached over plain http besides loopback ones
     * (--insecure-registry), NULL-terminated. */
    const char *insecure_registries[17];
    int n_insecure;
};

enum swarm_state {
    SWARM_INACTIVE,
    SWARM_STARTING, /* init in progress or reopening after a restart */
    SWARM_ACTIVE,
    SWARM_LEAVING,
    SWARM_LOCKED, /* autolocked after a restart: waits for swarm unlock */
};

/* The few calls that the files under swarm.c (swarm_role.c, swarm_net.c,
 * dispatch.c and the helpers below them) make up into the swarm's
 * lifecycle. swarm.c installs them at start (swarm_hooks_init), the way
 * libuv hands callbacks down, so those files never call the ones above
 * them by name. */
struct swarm_hooks {
    /* Proposes a transaction without the manager check: raft on the
     * leader, forwarded to it elsewhere (daemon_propose_txn). */
    int (*propose_txn)(struct daemon *d, const struct txn *txn,
                       raftnode_apply_fn cb, void *data, struct err *err);
    /* An entry reached the store (raft's, or a worker's mirror; entry NULL
     * after a snapshot): role, autolock and CA follow it, a starting
     * swarm may become active. */
    void (*applied)(struct daemon *d, uint64_t index, const void *entry,
                    size_t len);
    /* Starts the parts of this node's role on the existing store: the
     * cluster port, and for a manager raft and the controllers. */
    int (*start_role)(struct daemon *d, bool bootstrap, struct err *err);
};

struct daemon {
    uv_loop_t *loop;
    struct daemon_config cfg;
    char *self_exe;
    char hostname[256];
    char *cgroup_parent;
    int lock_fd;
    int64_t started_at;
    struct image_store *images;
    struct registry *registry; /* the registry client (registry/) */
    struct runtime *runtime;
    struct volume_store *volumes;
    struct http_server *api;
    struct api_host api_host; /* what the API handlers reach (api_host.c) */
    struct events *events;    /* GET /events (api/events.h) */
    uv_signal_t sig_term, sig_int;
    uv_timer_t reaper;
    bool stopping;
    int exit_code;

    /* The swarm (all NULL while inactive). */
    enum swarm_state swarm;
    char node_id[ID_LEN + 1];
    char cluster_id[ID_LEN + 1];
    char *swarm_dir;
    struct store *store;
    struct raftnode *raft;
    struct manager *manager;
    struct agent *agent;
    bool leader;
    bool is_manager;         /* this node's role: a raft voter */
    struct swarm_net *net;   /* the cluster port (swarm_net.h) */
    char listen_addr[128];   /* cluster port, "host:port" */
    char advertise_addr[64]; /* the address other nodes use (host) */
    char raft_addr[128];     /* advertise_addr:cluster port */
    json_t *join_remotes;    /* managers given to swarm join */
    bool role_switching;     /* promotion / demotion in progress */
    char *unlock_key;        /* autolock: the key the secrets are sealed with */
    /* A promoted node's raft fills this store until it has caught up with
     * the one its agent follows, which then takes over. */
    struct store *catchup_store;
    struct dispatcher *dispatcher;   /* leader: workers' sessions */
    struct worker_session *wsession; /* worker: its session */
    /* Requests waiting for the swarm to become usable (init). */
    struct swarm_waiter *waiters;
    /* Writes forwarded from here, waiting to be applied (swarm_wait.h). */
    struct index_wait *index_waits;
    /* Leader: when it last heard from each node (swarm_liveness.h). */
    struct liveness *liveness;
    /* Up into swarm.c, for the files below it (swarm_hooks_init). */
    const struct swarm_hooks *hooks;
};

/* Runs the daemon until SIGTERM / SIGINT; returns the exit code. */
int daemon_run(const struct daemon_config *cfg);

/* ---- swarm lifecycle (swarm.c) ---- */

/* Reopens the swarm recorded in the data root, if any. */
int swarm_reopen(struct daemon *d, struct err *err);

/* swarm unlock: opens a locked node's secrets with key and starts. */
int swarm_unlock(struct daemon *d, const char *key, struct err *err);

/* Completion of swarm init / leave: err NULL on success. */
typedef api_done_fn swarm_done_fn;
int swarm_init(struct daemon *d, const json_t *request, swarm_done_fn cb,
               void *data, struct err *err);
int swarm_leave(struct daemon *d, bool force, swarm_done_fn cb, void *data,
                struct err *err);
/* Stops the swarm subsystems without leaving (daemon shutdown). */
void swarm_close(struct daemon *d, void (*cb)(void *), void *data);

/* True when this node is an active manager with a ready leader. */
bool swarm_is_manager(const struct daemon *d);
/* Fills err with Docker's message for "not a manager / not in a swarm"
 * and returns -1, or returns 0 when manager requests can be served. */
int swarm_require_manager(const struct daemon *d, struct err *err);

/* Proposes a transaction; cb gets NULL err once committed and applied
 * (here: a follower forwards it to the leader and waits to apply it). */
int daemon_propose(struct daemon *d, const struct txn *txn,
                   raftnode_apply_fn cb, void *data, struct err *err);
/* The same without the manager check (the swarm's own writes: leadership,
 * node status, joins); the files under swarm.c reach it as
 * d->hooks->propose_txn. */
int daemon_propose_txn(struct daemon *d, const struct txn *txn,
                       raftnode_apply_fn cb, void *data, struct err *err);
/* The same for an encoded transaction, without the manager check. */
int daemon_propose_text(struct daemon *d, const char *txn, size_t len,
                        raftnode_apply_fn cb, void *data, struct err *err);

/* swarm join (swarm_join.c): request is the API's SwarmJoinRequest. */
int swarm_join(struct daemon *d, const json_t *request, swarm_done_fn cb,
               void *data, struct err *err);

/* ---- internal to swarm*.c ---- */

/* Opens raft (and the cluster port) for the recorded identity. */
int swarm_open(struct daemon *d, bool bootstrap, struct err *err);
/* Waits for the swarm to be active (init / join answered then). */
void swarm_add_waiter(struct daemon *d, const json_t *request, swarm_done_fn cb,
                      void *data);
void swarm_finish_waiter(struct daemon *d, const struct err *err);
/* Forgets the waiter without answering it. */
void swarm_drop_waiter(struct daemon *d);
/* Installs d->hooks (swarm.c's lifecycle_hooks), before anything of the
 * swarm starts. */
void swarm_hooks_init(struct daemon *d);

/* Fills d->api_host (the images, runtime and events are set as they
 * start). */
void daemon_api_host_init(struct daemon *d);

/* The description of this node (hostname, platform, resources, engine). */
json_t *daemon_node_description(const struct daemon *d);
