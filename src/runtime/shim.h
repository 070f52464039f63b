// SPDX-License-Identifier: Apache-2.0
// The per-container shim (`shoald shim ...`): a small supervisor process,
// detached from shoald, that runs the container through the OCI runtime,
// reaps its init as child subreaper, copies its output into the log file
// and records its exit status. This header is the protocol between the
// shim and shoald: arguments, files in the container directory, and the
// line the shim writes on its stdout once the container runs.
//
// Files in the container directory written by the shim:
//   shim.json  {"shim_pid","shim_start"} at once, then also "init_pid",
//              "init_start", "started_at" once the container runs (atomic)
//   pid        the runtime's --pid-file
//   runc.log   the runtime's json log (errors for "starting failed")
//   log.json   the container's output (ctrlog format, rotated to .1)
//   exit       {"exit_code","oom_killed","started_at","finished_at","pid",
//              "error"} written atomically just before the shim exits
//   shim.log   the shim's own stderr
// Stdout of the shim (a pipe to shoald, if shoald is alive): one line
// "started <init pid> <init start time> <started_at ns>\n".
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define SHIM_STATE_FILE "shim.json"
#define SHIM_EXIT_FILE  "exit"
#define SHIM_PID_FILE   "pid"
#define SHIM_RUNC_LOG   "runc.log"
#define SHIM_LOG_FILE   "log.json"
#define SHIM_STDERR     "shim.log"

struct shim_args {
    const char *id;
    const char *dir;        /* container directory */
    const char *bundle;     /* holds config.json */
    const char *runtime;    /* runtime binary path */
    const char *state_root; /* runtime --root */
    const char *oom_file;   /* cgroup file with oom_kill, may be NULL */
    int64_t log_max;        /* bytes per log file, <= 0 = unlimited */
};

/* argv for spawning the shim: self_exe "shim" --id ... (NULL-terminated,
 * owned; free with runc_argv_free). */
char **shim_argv(const char *self_exe, const struct shim_args *a);

/* What shim.json says. */
struct shim_state {
    int shim_pid;
    uint64_t shim_start;
    int init_pid; /* 0 until started */
    uint64_t init_start;
    int64_t started_at; /* ns */
};
/* 0, or -1 if missing or unreadable. */
int shim_state_read(const char *dir, struct shim_state *out);

/* What the exit file says. */
struct shim_exit {
    int exit_code;
    bool oom_killed;
    int pid; /* init pid, 0 if it never started */
    int64_t started_at;
    int64_t finished_at;
    char error[256]; /* runtime error when starting failed */
};
/* 0, or -1 if missing or unreadable. */
int shim_exit_read(const char *dir, struct shim_exit *out);

/* Start time (clock ticks since boot) of a live process, 0 if there is no
 * such process or it is a zombie: with the pid, it names one process. */
uint64_t proc_start_time(int pid);

/* Docker's exit code for a container that could not start: 127 (command
 * not found), 126 (permission denied), else 128. */
int shim_start_error_code(const char *error);
