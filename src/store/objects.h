// SPDX-License-Identifier: Apache-2.0
// The cluster's objects (cluster, node, service, task, network, secret,
// config) and their Docker API
// JSON forms. Specs are kept as the API's own JSON (no translation layer);
// what controllers read often (states, slots, ids) is also kept as C fields.
// Tasks share their spec with the service version they were made from, so
// 100,000 tasks cost little more than their status.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/id.h"

enum store_kind {
    KIND_CLUSTER,
    KIND_NODE,
    KIND_SERVICE,
    KIND_TASK,
    KIND_NETWORK,
    KIND_SECRET,
    KIND_CONFIG,
    KIND__COUNT,
};

const char *store_kind_name(enum store_kind k);

struct obj_meta {
    char id[ID_LEN + 1];
    uint64_t version;   /* raft index of the last write */
    int64_t created_at; /* ns since epoch */
    int64_t updated_at;
};

/* Task states in lifecycle order; a task never moves backwards. */
enum task_state {
    TASK_NEW,
    TASK_PENDING,
    TASK_ASSIGNED,
    TASK_ACCEPTED,
    TASK_PREPARING,
    TASK_READY,
    TASK_STARTING,
    TASK_RUNNING,
    TASK_COMPLETE,
    TASK_SHUTDOWN,
    TASK_FAILED,
    TASK_REJECTED,
    TASK_REMOVE,
    TASK_ORPHANED,
};

const char *task_state_name(enum task_state s);
/* -1 if unknown. */
int task_state_parse(const char *s);
static inline bool task_state_is_terminal(enum task_state s)
{
    return s > TASK_RUNNING;
}

/* A task's container health (agent/health.c), carried in its status so
 * that every node's load balancer and DNS follow it. */
enum task_health {
    TASK_HEALTH_NONE, /* no health check */
    TASK_HEALTH_STARTING,
    TASK_HEALTH_HEALTHY,
    TASK_HEALTH_UNHEALTHY,
};
const char *task_health_name(enum task_health h);
/* TASK_HEALTH_NONE for anything unknown. */
enum task_health task_health_parse(const char *s);

struct cluster {
    struct obj_meta meta;
    json_t *spec;     /* SwarmSpec */
    json_t *internal; /* JoinTokens, RootCA, ... (owned) */
};

enum node_state { NODE_UNKNOWN, NODE_DOWN, NODE_READY, NODE_DISCONNECTED };
const char *node_state_name(enum node_state s);

struct node {
    struct obj_meta meta;
    json_t *spec;        /* NodeSpec: Name, Labels, Role, Availability */
    json_t *description; /* Hostname, Platform, Resources, Engine */
    enum node_state state;
    char *status_message;
    char *addr;   /* Status.Addr */
    bool manager; /* has ManagerStatus */
    bool leader;
    char *manager_addr; /* ManagerStatus.Addr */
    char *reachability; /* "reachable" / "unreachable" */
};

struct service {
    struct obj_meta meta;
    json_t *spec;          /* ServiceSpec */
    json_t *previous_spec; /* or NULL */
    json_t *task_spec;     /* Spec.TaskTemplate, shared with its tasks */
    uint64_t spec_version; /* bumped when TaskTemplate changes */
    json_t *update_status; /* UpdateStatus or NULL */
    json_t *endpoint;      /* Endpoint or NULL */
    const char *name;      /* borrowed from spec */
};

struct task {
    struct obj_meta meta;
    char service_id[ID_LEN + 1];
    char node_id[ID_LEN + 1]; /* "" until assigned */
    int slot;                 /* 0 for global services */
    json_t *spec;             /* TaskSpec, shared (refcounted) */
    uint64_t spec_version;    /* service spec_version it was made from */
    enum task_state state;
    enum task_state desired;
    int64_t status_ts;
    char *message;
    char *error; /* Status.Err, or NULL */
    char container_id[ID_HEX_LEN + 1];
    int pid;
    int exit_code;
    bool has_exit_code;
    enum task_health health; /* Status.ContainerStatus.Health */
    json_t *labels;          /* or NULL */
    json_t *networks;        /* NetworksAttachments, or NULL */
    json_t *ports; /* Status.PortStatus.Ports (host-mode ports the node
                      bound for it while running), or NULL */
    /* restart bookkeeping: attempts made in this slot's current window */
    int restart_count;
    int64_t restart_window_start;
    /* index bookkeeping, owned by the store */
    size_t service_pos, node_pos;
};

/* An overlay network. Spec is the swarm NetworkSpec; the allocation
 * (subnet, gateway, VXLAN id) is decided when it is created. */
struct network {
    struct obj_meta meta;
    json_t *spec;     /* NetworkSpec: Name, Labels, DriverConfiguration,
                         IPAMOptions, Attachable, Ingress, Scope */
    const char *name; /* borrowed from spec */
    uint32_t vni;
    char subnet[20];  /* "10.0.1.0/24" */
    char gateway[16]; /* "10.0.1.1" */
    bool ingress;
};

/* A swarm secret or config (kind KIND_SECRET / KIND_CONFIG): Spec is the
 * API's SecretSpec / ConfigSpec (Name, Labels, Data as base64, Driver,
 * Templating). Data lives only in memory and in the sealed raft log and
 * snapshots (raft/encio.c); the API never shows a secret's Data. */
struct secret {
    struct obj_meta meta;
    enum store_kind kind;
    json_t *spec;
    const char *name; /* borrowed from spec */
};

/* Constructors / destructors. */
struct cluster *cluster_new(void);
void cluster_free(struct cluster *c);
struct node *node_new(void);
void node_free(struct node *n);
struct service *service_new(void);
void service_free(struct service *s);
struct task *task_new(void);
void task_free(struct task *t);
struct network *network_new(void);
void network_free(struct network *n);
struct secret *secret_new(enum store_kind kind);
void secret_free(struct secret *x);

/* Docker API JSON (owned results). */
json_t *cluster_to_json(const struct cluster *c);
json_t *node_to_json(const struct node *n);
/* insert_defaults: fill in what Docker's insertDefaults=true shows. */
json_t *service_to_json(const struct service *s, bool insert_defaults);
json_t *task_to_json(const struct task *t);
/* The swarm Network object (as embedded in task attachments). */
json_t *network_to_json(const struct network *n);
/* A secret or config as the API shows it; with_data false drops
 * Spec.Data (secrets are always shown without it). */
json_t *secret_to_json(const struct secret *x, bool with_data);

/* Snapshot / log forms: the API form plus internal fields (named with a
 * leading "_"), so decode(encode(x)) == x. */
json_t *cluster_encode(const struct cluster *c);
struct cluster *cluster_decode(const json_t *j, struct err *err);
json_t *node_encode(const struct node *n);
struct node *node_decode(const json_t *j, struct err *err);
/* Deep copies (to change and put back in a transaction). */
struct node *node_copy(const struct node *n);
struct cluster *cluster_copy(const struct cluster *c);
json_t *service_encode(const struct service *s);
struct service *service_decode(const json_t *j, struct err *err);
json_t *task_encode(const struct task *t, bool with_spec);
struct task *task_decode(const json_t *j, struct err *err);
json_t *network_encode(const struct network *n);
struct network *network_decode(const json_t *j, struct err *err);
json_t *secret_encode(const struct secret *x);
struct secret *secret_decode(enum store_kind kind, const json_t *j,
                             struct err *err);

/* Meta helpers. */
void meta_to_json(const struct obj_meta *m, json_t *out);
int meta_from_json(struct obj_meta *m, const json_t *j, struct err *err);

/* Replicas of a replicated service, -1 for global. */
int64_t service_replicas(const struct service *s);
/* Global and global-job services: one task per eligible node. */
bool service_is_global(const struct service *s);
/* Replicated-job and global-job services: tasks run to completion once
 * per iteration (each spec change). */
bool service_is_job(const struct service *s);
