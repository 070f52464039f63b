// SPDX-License-Identifier: Apache-2.0
// Containers on this node: rootfs (overlayfs over shared image layers), the
// OCI runtime spec built from the image config and a swarm ContainerSpec,
// the OCI runtime (runc, or crun on pure cgroup v2 hosts) driven through a
// per-container shim that outlives shoald restarts, exit notification,
// size-capped json-lines logs, and re-adoption after a shoald restart.
// This layer knows containers, never tasks.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/err.h"
#include "runtime/image.h"

struct runtime;
struct volume_store;

enum ctr_state {
    CTR_CREATED, /* rootfs and bundle ready, not started */
    CTR_RUNNING, /* init process running (pid known) */
    CTR_EXITED,  /* exited, or failed to start (error set) */
};

struct ctr_status {
    enum ctr_state state;
    int pid;       /* init pid in shoald's pid namespace, 0 if none */
    int exit_code; /* valid when EXITED; 128+signo if killed */
    bool oom_killed;
    int64_t created_at;  /* ns since epoch */
    int64_t started_at;  /* 0 if never started */
    int64_t finished_at; /* 0 if not exited */
    char error[256];     /* why it failed to start, "" otherwise */
};

/* Container state changes, called on the loop thread: RUNNING once the
 * init pid is known, EXITED once (within milliseconds of the exit). After
 * runtime_restore, called for every re-adopted container with its current
 * state. */
typedef void (*ctr_event_fn)(void *data, const char *id,
                             const struct ctr_status *st);

struct runtime_config {
    uv_loop_t *loop;
    const char *root;       /* e.g. /var/lib/shoal/containers */
    const char *state_root; /* runtime --root, e.g. /var/lib/shoal/runtime */
    struct volume_store *volumes; /* the node's volumes (volume/volume.h);
                                     borrowed, outlives the runtime */
    const char *runtime;          /* "runc", "crun", or NULL to detect */
    const char *cgroup_parent;    /* e.g. "shoal-node1" */
    const char *self_exe;         /* path of shoald, for "shoald shim" */
    int64_t log_max_size;         /* bytes per log file before rotation */
    const char *init_path; /* init for ContainerSpec.Init; NULL = look for
                              tini-static / docker-init */
    ctr_event_fn on_event;
    void *event_data;
};

struct runtime *runtime_new(const struct runtime_config *cfg, struct err *err);
/* Stops watching (containers keep running); frees. Handles close on the
 * loop: run it afterwards until they are closed. No callback (event,
 * removal) runs after this. */
void runtime_free(struct runtime *rt);
/* The runtime binary in use ("runc" / "crun") and its version string. */
const char *runtime_name(const struct runtime *rt);
const char *runtime_version(const struct runtime *rt);

/* What a build step needs to run a process the way tasks run (the
 * builder's RUN): borrowed, fixed for the runtime's life, so readable
 * from another thread. */
struct runtime_info {
    const char *runtime_path;  /* the OCI runtime binary */
    const char *state_root;    /* its --root */
    const char *cgroup_parent; /* the node's cgroup parent */
    bool cgroup2;              /* unified hierarchy */
    int64_t nofile;            /* default RLIMIT_NOFILE */
};
void runtime_get_info(const struct runtime *rt, struct runtime_info *out);

/* Scans root: containers whose shim is alive are re-adopted (RUNNING
 * event), those that exited meanwhile get an EXITED event with their exit
 * code; leftovers of half-created containers are reported EXITED with an
 * error. Never starts anything. */
int runtime_restore(struct runtime *rt, struct err *err);

/* What the agent asks for. Every JSON value is borrowed (copied as
 * needed). */
struct ctr_config {
    const char *id;          /* 64 hex chars */
    const char *name;        /* "<service>.<slot>.<task id>" */
    json_t *labels;          /* object of strings (swarm labels), may be NULL */
    json_t *spec;            /* swarm ContainerSpec (Args, Command, Env, Dir,
                                User, Hostname, Mounts, ReadOnly, StopSignal,
                                Sysctls, CapabilityAdd/Drop, Init...) */
    json_t *resources;       /* swarm ResourceRequirements ({"Limits":
                                {"MemoryBytes","NanoCPUs","Pids"}}), or NULL */
    const char *hostname;    /* NULL = first 12 chars of id */
    const char *netns;       /* path of the network namespace to join;
                                NULL = a new, empty one */
    const char *resolv_conf; /* file content, NULL = copy of the host's */
    const char *hosts;       /* file content, NULL = localhost + hostname */
};

/* Creates the container: its volumes (created on first use with the
 * mount's VolumeOptions, mounted if they have options, filled from the
 * image while empty unless NoCopy), overlay rootfs over the image layers,
 * hostname / hosts / resolv.conf files, the OCI config.json, metadata for
 * inspect and restore. Synchronous and fast (no runtime invocation). On failure
 * nothing is left behind. */
int ctr_create(struct runtime *rt, const struct ctr_config *cfg,
               const struct image_ref *img, struct err *err);

/* Starts the container through its shim; RUNNING / EXITED arrive as
 * events (a failed start: EXITED only, with error set and exit code 127,
 * 126 or 128 as Docker). Fails at once only if the shim could not be
 * spawned, or with 409 if the container is not CREATED (an exited
 * container is not started again). */
int ctr_start(struct runtime *rt, const char *id, struct err *err);

/* Sends a signal (0 = the container's stop signal) to the init process. */
int ctr_kill(struct runtime *rt, const char *id, int signo, struct err *err);

/* Sends the stop signal (signo 0 = the configured one, SIGTERM default),
 * then SIGKILL if still running after grace_ns. */
int ctr_stop(struct runtime *rt, const char *id, int signo, int64_t grace_ns,
             struct err *err);

/* After EXITED the runtime itself releases the runtime state, cgroup and
 * rootfs mount, keeping metadata and logs. ctr_remove deletes everything
 * (killing it first if still running). cb (may be NULL) runs when done. */
typedef void (*ctr_done_fn)(void *data, const struct err *err);
int ctr_remove(struct runtime *rt, const char *id, ctr_done_fn cb, void *data,
               struct err *err);

/* Resolves a full id, a unique id prefix, or a name (with or without the
 * leading "/") to the full id; NULL if unknown or ambiguous. Borrowed. */
const char *ctr_lookup(struct runtime *rt, const char *id_or_name);
int ctr_get_status(struct runtime *rt, const char *id, struct ctr_status *st);
/* Labels of a container (borrowed), NULL if unknown. */
json_t *ctr_labels(struct runtime *rt, const char *id);
/* The image config ("config" object) it was created from (borrowed), NULL
 * if unknown. */
json_t *ctr_image_config(struct runtime *rt, const char *id);
/* Records the container's health (Docker's State.Health object: Status,
 * FailingStreak, Log; copied; NULL = no health check), shown by inspect
 * and in the list's Status ("Up 5 seconds (healthy)"). -1 if unknown. */
int ctr_set_health(struct runtime *rt, const char *id, const json_t *health);

/* ---- exec (runtime/exec.c) ---- */

/* One process run inside a running container. */
struct ctr_exec;

struct ctr_exec_result {
    int exit_code;      /* -1 if it timed out or could not run */
    bool timed_out;     /* killed after the timeout */
    const char *error;  /* why it could not run, or NULL */
    const char *output; /* stdout and stderr interleaved, at most
                           max_output bytes; borrowed for the call */
    int64_t start_ns, end_ns;
};
typedef void (*ctr_exec_fn)(void *data, const struct ctr_exec_result *r);

/* Runs argv (NULL-terminated) in the container's namespaces and cgroup with
 * its process settings (user, env, capabilities, seccomp), through the OCI
 * runtime's exec; kills it after timeout_ns (0 = none). cb runs once, on
 * the loop. Fails at once (cb never called) if the container is not
 * running or the runtime cannot be spawned. The handle stays valid until
 * cb has run or ctr_exec_cancel. */
struct ctr_exec *ctr_exec_start(struct runtime *rt, const char *id,
                                const char *const *argv, int64_t timeout_ns,
                                size_t max_output, ctr_exec_fn cb, void *data,
                                struct err *err);
/* Kills the process; cb is not called. The handle is freed once the
 * process is gone. */
void ctr_exec_cancel(struct ctr_exec *x);

/* What exec.c needs of a container (internal to runtime/; borrowed). */
struct runc;
struct ctr_exec_target {
    uv_loop_t *loop;
    const struct runc *runc;
    const char *dir; /* the container's directory */
    const char *id;
};
int ctr_exec_target(struct runtime *rt, const char *id,
                    struct ctr_exec_target *out, struct err *err);

/* Docker API shapes: GET /containers/json (all = include exited; filters
 * "label", "name", "id", "status") and GET /containers/{id}/json. Owned. */
json_t *ctr_list_json(struct runtime *rt, bool all, const json_t *filters);
json_t *ctr_inspect_json(struct runtime *rt, const char *id_or_name,
                         struct err *err);

/* Logs. One entry per line as written by the container. */
struct ctr_log_entry {
    int stream; /* 1 stdout, 2 stderr */
    int64_t time_ns;
    const char *line; /* includes the trailing '\n' when it had one */
    size_t len;
};
/* Return non-zero to stop early. */
typedef int (*ctr_log_fn)(void *data, const struct ctr_log_entry *e);

struct ctr_log_options {
    bool stdout_;  /* include stdout */
    bool stderr_;  /* include stderr */
    int64_t since; /* ns; 0 = no bound */
    int64_t until; /* ns; 0 = no bound */
    long tail;     /* last N lines per container; -1 = all */
};

/* Reads the logs written so far (both rotated files), calling fn per entry
 * in order. Blocking (file reads; log files are size-capped). */
int ctr_logs_read(struct runtime *rt, const char *id,
                  const struct ctr_log_options *opts, ctr_log_fn fn, void *data,
                  struct err *err);

/* Follows new entries written after the call (the caller reads the
 * existing ones first with ctr_logs_read), on the loop, until
 * ctr_logs_unfollow. done (may be NULL) is called once when the container
 * has exited and its log is drained. */
struct ctr_log_follow;
struct ctr_log_follow *ctr_logs_follow(struct runtime *rt, const char *id,
                                       const struct ctr_log_options *opts,
                                       ctr_log_fn fn, void (*done)(void *),
                                       void *data, struct err *err);
void ctr_logs_unfollow(struct ctr_log_follow *f);

/* The `shoald shim ...` entry point (runs in its own process). */
int shim_main(int argc, char **argv);
