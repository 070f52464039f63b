// SPDX-License-Identifier: Apache-2.0
// Waiting for a service to converge, as `docker service create/update/
// scale` do without --detach: the docker CLI's progress algorithm
// (cli/command/service/progress) as a pure state machine fed with the
// polled service, tasks and nodes, plus a renderer that prints its messages
// like docker's jsonmessage stream (plain lines off a TTY, redrawn bars on
// one) and the 200 ms polling loop around both.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"

struct cli_client;

/* The renderer: turns progress messages into terminal output. */
struct cli_prender {
    bool tty;
    int width;  /* terminal width (200 off a TTY, like docker) */
    char **ids; /* ids of the lines drawn so far (TTY mode) */
    size_t nids;
    struct buf *out; /* destination */
    bool counts;     /* bars show "current/total" in bytes (pull, push);
                        service progress hides them, as docker does */
};

void cli_prender_init(struct cli_prender *r, bool tty, int width,
                      struct buf *out);
void cli_prender_fini(struct cli_prender *r);
/* A progress update (progress.Progress with Action; current/total for the
 * per-slot bars) or, with is_message, a plain status line. */
void cli_prender_write(struct cli_prender *r, const char *id,
                       const char *action, int64_t current, int64_t total,
                       bool is_message);

enum cli_progress_mode {
    CLI_PROGRESS_UNSET,
    CLI_PROGRESS_REPLICATED,
    CLI_PROGRESS_GLOBAL,
    CLI_PROGRESS_JOB, /* jobs: wait for completion, no per-task bars */
};

struct cli_progress {
    const char *service_ref; /* as given by the user; borrowed */
    struct cli_prender *render;
    enum cli_progress_mode mode;
    bool initialized;
    bool done;
    bool converged;
    int64_t converged_at; /* ns, 0 = not converged */
    int64_t monitor;      /* ns */
    bool rollback;
    char *final_message; /* "rollback" message printed after converging */
    int slot_map[64][2]; /* (task slot, mapped slot) pairs */
    size_t nslots;
};

void cli_progress_init(struct cli_progress *p, const char *service_ref,
                       struct cli_prender *render);
void cli_progress_fini(struct cli_progress *p);

/* Step 1 of an iteration, with the freshly polled service. Sets *finished
 * when the wait is over (converged and verified, or the update completed);
 * returns -1 with err when docker would fail (update paused). */
int cli_progress_on_service(struct cli_progress *p, const json_t *service,
                            int64_t now, bool *finished, struct err *err);
/* Step 2, with the up-to-date tasks and all nodes. Returns whether the
 * tasks are converged now; -1 with err on a bad service mode. */
int cli_progress_on_tasks(struct cli_progress *p, const json_t *service,
                          const json_t *tasks, const json_t *nodes, int64_t now,
                          bool *finished, struct err *err);

/* The polling loop: every 200 ms GET the service, its up-to-date tasks and
 * the nodes, until converged. Output goes to out (nothing if quiet). */
int cli_progress_wait(struct cli_client *c, const char *service_ref, FILE *out,
                      bool tty, bool quiet, struct err *err);
