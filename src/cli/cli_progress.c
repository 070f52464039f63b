// SPDX-License-Identifier: Apache-2.0
// Convergence progress for service create/update/scale, following the
// docker CLI's algorithm: per-slot task states (lowest desired state wins a
// slot, tasks on down nodes ignored), converged when the running tasks
// match the replica count, then a "verify" period of UpdateConfig.Monitor
// (default 5 s) that restarts if a task regresses. The renderer reproduces
// docker's jsonmessage display so non-TTY output matches the traces.
#include "cli/cli_progress.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/client.h"
#include "cli/format.h"

enum { MAX_PROGRESS = 9, MAX_PROGRESS_BARS = 20, LONGEST_STATE = 9 };

static const char *const task_states[] = {
    "",         "new",       "allocated", "pending",  "assigned",
    "accepted", "preparing", "ready",     "starting", "running",
    "complete", "shutdown",  "failed",    "rejected",
};

/* numberedStates: 0 for states the CLI does not know. */
static int state_num(const char *s)
{
    if (!s)
        return 0;
    for (int i = 1; i < (int)ARRAY_SIZE(task_states); i++) {
        if (strcmp(task_states[i], s) == 0)
            return i;
    }
    return 0;
}

static bool terminal_state(const char *s)
{
    return state_num(s) > state_num("running");
}

void cli_prender_init(struct cli_prender *r, bool tty, int width,
                      struct buf *out)
{
    memset(r, 0, sizeof(*r));
    r->tty = tty;
    r->width = width > 0 ? width : 200;
    r->out = out;
}

static void reset_ids(struct cli_prender *r)
{
    for (size_t i = 0; i < r->nids; i++)
        free(r->ids[i]);
    free(r->ids);
    r->ids = NULL;
    r->nids = 0;
}

void cli_prender_fini(struct cli_prender *r)
{
    reset_ids(r);
}

/* JSONProgress.String() for the bars the progress code draws. */
static void progress_string(const struct cli_prender *r, int64_t current,
                            int64_t total, struct buf *s)
{
    if (current <= 0 && total <= 0)
        return;
    if (total <= 0) {
        char tmp[32];
        cli_fmt_human_size((double)current, 4, tmp, sizeof(tmp));
        buf_printf(s, "%8s", tmp);
        return;
    }
    int pct = (int)((double)current / (double)total * 100) / 2;
    if (pct > 50)
        pct = 50;
    if (r->width > 110) {
        buf_putc(s, '[');
        for (int i = 0; i < pct; i++)
            buf_putc(s, '=');
        buf_putc(s, '>');
        for (int i = 0; i < 50 - pct; i++)
            buf_putc(s, ' ');
        buf_puts(s, "] ");
    }
    if (r->counts && current <= total) {
        char cur[32], tot[32];
        cli_fmt_human_size((double)current, 4, cur, sizeof(cur));
        cli_fmt_human_size((double)total, 4, tot, sizeof(tot));
        buf_printf(s, "%8s/%s", cur, tot);
    }
}

void cli_prender_write(struct cli_prender *r, const char *id,
                       const char *action, int64_t current, int64_t total,
                       bool is_message)
{
    bool has_progress = !is_message;
    struct buf pstr;
    buf_init(&pstr);
    if (has_progress)
        progress_string(r, current, total, &pstr);
    if (!r->tty) {
        /* jsonmessage.Display off a terminal: progress bars are dropped. */
        if (!(has_progress && pstr.len)) {
            if (id && *id)
                buf_printf(r->out, "%s: ", id);
            buf_printf(r->out, "%s\n", action);
        }
        buf_fini(&pstr);
        return;
    }
    size_t diff = 0;
    if (id && *id && has_progress) {
        size_t line = r->nids;
        bool found = false;
        for (size_t i = 0; i < r->nids; i++) {
            if (strcmp(r->ids[i], id) == 0) {
                line = i;
                found = true;
                break;
            }
        }
        if (!found) {
            r->ids = xrealloc(r->ids, (r->nids + 1) * sizeof(char *));
            r->ids[r->nids++] = xstrdup(id);
            buf_putc(r->out, '\n');
        }
        diff = r->nids - line;
        if (diff)
            buf_printf(r->out, "\x1b[%zuA", diff);
    } else {
        reset_ids(r);
    }
    if (has_progress)
        buf_puts(r->out, "\x1b[2K\r");
    if (id && *id)
        buf_printf(r->out, "%s: ", id);
    if (has_progress)
        buf_printf(r->out, "%s %s\r", action, pstr.data ? pstr.data : "");
    else
        buf_printf(r->out, "%s\n", action);
    if (id && *id && diff)
        buf_printf(r->out, "\x1b[%zuB", diff);
    buf_fini(&pstr);
}

void cli_progress_init(struct cli_progress *p, const char *service_ref,
                       struct cli_prender *render)
{
    memset(p, 0, sizeof(*p));
    p->service_ref = service_ref;
    p->render = render;
    p->monitor = 5 * NS_PER_SEC;
}

void cli_progress_fini(struct cli_progress *p)
{
    free(p->final_message);
    p->final_message = NULL;
}

static void emit(struct cli_progress *p, const char *id, const char *action,
                 int64_t cur, int64_t total, bool msg)
{
    if (p->render)
        cli_prender_write(p->render, id, action, cur, total, msg);
}

static void overall(struct cli_progress *p, long n, long d)
{
    char a[96];
    if (p->rollback)
        snprintf(a, sizeof(a), "rolling back update: %ld out of %ld tasks", n,
                 d);
    else
        snprintf(a, sizeof(a), "%ld out of %ld tasks", n, d);
    emit(p, "overall progress", a, 0, 0, false);
}

int cli_progress_on_service(struct cli_progress *p, const json_t *service,
                            int64_t now, bool *finished, struct err *err)
{
    *finished = false;
    json_t *spec = json_object_get(service, "Spec");
    int64_t mon = jx_path_int(spec, "UpdateConfig.Monitor", 0);
    if (mon != 0)
        p->monitor = mon;
    if (p->mode == CLI_PROGRESS_UNSET) {
        json_t *mode = json_object_get(spec, "Mode");
        if (json_is_object(json_object_get(mode, "Replicated")) &&
            jx_path(mode, "Replicated.Replicas"))
            p->mode = CLI_PROGRESS_REPLICATED;
        else if (json_object_get(mode, "Global"))
            p->mode = CLI_PROGRESS_GLOBAL;
        else if (json_object_get(mode, "ReplicatedJob") ||
                 json_object_get(mode, "GlobalJob"))
            p->mode = CLI_PROGRESS_JOB;
        else
            return err_set(err, ERR_INVALID, "unrecognized service mode");
    }
    json_t *us = json_object_get(service, "UpdateStatus");
    const char *state = jx_str(us, "State");
    const char *msg = jx_str0(us, "Message");
    if (state) {
        if (strcmp(state, "updating") == 0) {
            p->rollback = false;
        } else if (strcmp(state, "completed") == 0) {
            if (!p->converged) {
                *finished = true;
                return 0;
            }
        } else if (strcmp(state, "paused") == 0) {
            return err_set(err, ERR_CONFLICT, "service update paused: %s", msg);
        } else if (strcmp(state, "rollback_started") == 0) {
            if (!p->rollback && *msg)
                emit(p, "rollback", msg, 0, 0, false);
            p->rollback = true;
        } else if (strcmp(state, "rollback_paused") == 0) {
            return err_set(err, ERR_CONFLICT, "service rollback paused: %s",
                           msg);
        } else if (strcmp(state, "rollback_completed") == 0) {
            if (!p->converged) {
                free(p->final_message);
                p->final_message = xstrdup(msg);
            }
            p->rollback = true;
        }
    }
    if (p->converged && now - p->converged_at >= p->monitor) {
        char a[300];
        snprintf(a, sizeof(a), "Service %s converged", p->service_ref);
        emit(p, "verify", a, 0, 0, false);
        if (p->final_message)
            emit(p, "rollback", p->final_message, 0, 0, true);
        *finished = true;
    }
    return 0;
}

static bool node_active(const json_t *nodes, const char *id)
{
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n)
    {
        if (strcmp(jx_str0(n, "ID"), id) == 0)
            return strcmp(jx_path_str(n, "Status.State")
                              ? jx_path_str(n, "Status.State")
                              : "",
                          "down") != 0;
    }
    return false;
}

/* Picks, per key (slot or node), the task with the lowest desired state
 * (observed state breaks ties), as tasksBySlot/tasksByNode do. Returns a
 * new array of borrowed tasks. */
static json_t *pick_tasks(const json_t *tasks, const json_t *nodes,
                          bool by_node)
{
    json_t *picked = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t)
    {
        const char *ds = jx_str(t, "DesiredState");
        const char *st = jx_path_str(t, "Status.State");
        if (state_num(ds) == 0 || state_num(st) == 0)
            continue;
        const char *node = jx_str0(t, "NodeID");
        int64_t slot = jx_int(t, "Slot", 0);
        size_t j;
        json_t *e;
        long found = -1;
        json_array_foreach(picked, j, e)
        {
            if (by_node ? strcmp(jx_str0(e, "NodeID"), node) == 0
                        : jx_int(e, "Slot", 0) == slot) {
                found = (long)j;
                break;
            }
        }
        if (found >= 0) {
            json_t *ex = json_array_get(picked, (size_t)found);
            int eds = state_num(jx_str(ex, "DesiredState"));
            int est = state_num(jx_path_str(ex, "Status.State"));
            if (eds < state_num(ds))
                continue;
            if (eds == state_num(ds) && est <= state_num(st))
                continue;
        }
        if (!by_node && *node && !node_active(nodes, node))
            continue;
        if (found >= 0)
            json_array_set(picked, (size_t)found, t);
        else
            json_array_append(picked, t);
    }
    return picked;
}

static int cmp_slot(const void *a, const void *b)
{
    int64_t x = jx_int(*(json_t *const *)a, "Slot", 0);
    int64_t y = jx_int(*(json_t *const *)b, "Slot", 0);
    return x < y ? -1 : x > y;
}

static int cmp_node(const void *a, const void *b)
{
    return strcmp(jx_str0(*(json_t *const *)a, "NodeID"),
                  jx_str0(*(json_t *const *)b, "NodeID"));
}

static char *trunc_err(const char *e)
{
    char *s = xstrdup(e);
    for (char *p = s; *p; p++) {
        if (*p == '\n')
            *p = ' ';
    }
    if (strlen(s) > 75) {
        char *r = xasprintf("%.74s…", s);
        free(s);
        return r;
    }
    return s;
}

static void task_progress(struct cli_progress *p, const json_t *t,
                          const char *id)
{
    const char *terr = jx_path_str(t, "Status.Err");
    if (terr && *terr) {
        char *e = trunc_err(terr);
        emit(p, id, e, 0, 0, false);
        free(e);
        return;
    }
    const char *ds = jx_str(t, "DesiredState");
    const char *st = jx_path_str(t, "Status.State");
    if (!terminal_state(ds) && !terminal_state(st)) {
        char a[32];
        snprintf(a, sizeof(a), "%-*s", LONGEST_STATE, st);
        emit(p, id, a, state_num(st), MAX_PROGRESS, false);
    }
}

static int mapped_slot(struct cli_progress *p, int slot)
{
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->slot_map[i][0] == slot)
            return p->slot_map[i][1];
    }
    if (p->nslots >= ARRAY_SIZE(p->slot_map))
        return -1;
    int m = (int)p->nslots + 1;
    p->slot_map[p->nslots][0] = slot;
    p->slot_map[p->nslots][1] = m;
    p->nslots++;
    return m;
}

static bool all_running(const json_t *picked)
{
    size_t i;
    json_t *t;
    json_array_foreach(picked, i, t)
    {
        const char *st = jx_path_str(t, "Status.State");
        if (!st || strcmp(st, "running") != 0)
            return false;
    }
    return true;
}

static bool is_running(const json_t *t)
{
    const char *st = jx_path_str(t, "Status.State");
    return !terminal_state(jx_str(t, "DesiredState")) && st &&
           strcmp(st, "running") == 0;
}

static bool update_replicated(struct cli_progress *p, const json_t *service,
                              const json_t *tasks, const json_t *nodes)
{
    long replicas =
        (long)jx_path_int(service, "Spec.Mode.Replicated.Replicas", 0);
    if (!p->initialized) {
        overall(p, 0, replicas);
        if (replicas <= MAX_PROGRESS_BARS) {
            for (long i = 1; i <= replicas; i++) {
                char id[48];
                snprintf(id, sizeof(id), "%ld/%ld", i, replicas);
                emit(p, id, " ", 0, 0, false);
            }
        }
        p->initialized = true;
    }
    json_t *picked = pick_tasks(tasks, nodes, false);
    size_t n = json_array_size(picked);
    json_t **sorted = xcalloc(n + 1, sizeof(json_t *));
    for (size_t i = 0; i < n; i++)
        sorted[i] = json_array_get(picked, i);
    qsort(sorted, n, sizeof(json_t *), cmp_slot);
    if (p->done && !all_running(picked))
        p->done = false;
    long running = 0;
    for (size_t i = 0; i < n; i++) {
        int m = mapped_slot(p, (int)jx_int(sorted[i], "Slot", 0));
        if (is_running(sorted[i]))
            running++;
        if (p->done || replicas > MAX_PROGRESS_BARS || m < 0 || m > replicas)
            continue;
        char id[48];
        snprintf(id, sizeof(id), "%d/%ld", m, replicas);
        task_progress(p, sorted[i], id);
    }
    if (!p->done) {
        overall(p, running, replicas);
        if (running == replicas)
            p->done = true;
    }
    free(sorted);
    json_decref(picked);
    return running == replicas;
}

static bool update_global(struct cli_progress *p, const json_t *tasks,
                          const json_t *nodes)
{
    json_t *picked = pick_tasks(tasks, nodes, true);
    size_t n = json_array_size(picked);
    long count = (long)n;
    if (!p->initialized) {
        if (count == 0) {
            emit(p, "overall progress", "waiting for new tasks", 0, 0, false);
            json_decref(picked);
            return false;
        }
        overall(p, 0, count);
        p->initialized = true;
    }
    json_t **sorted = xcalloc(n + 1, sizeof(json_t *));
    for (size_t i = 0; i < n; i++)
        sorted[i] = json_array_get(picked, i);
    qsort(sorted, n, sizeof(json_t *), cmp_node);
    if (p->done && !all_running(picked))
        p->done = false;
    long running = 0;
    for (size_t i = 0; i < n; i++) {
        const char *node = jx_str0(sorted[i], "NodeID");
        if (!node_active(nodes, node))
            continue;
        if (is_running(sorted[i]))
            running++;
        if (p->done || count > MAX_PROGRESS_BARS)
            continue;
        char id[16];
        cli_fmt_trunc_id(node, id, sizeof(id));
        task_progress(p, sorted[i], id);
    }
    if (!p->done) {
        overall(p, running, count);
        if (running == count)
            p->done = true;
    }
    free(sorted);
    json_decref(picked);
    return running == count;
}

/* Jobs: done when no up-to-date task is still short of "complete". */
static bool update_job(struct cli_progress *p, const json_t *tasks)
{
    size_t i;
    json_t *t;
    long total = 0, complete = 0;
    json_array_foreach(tasks, i, t)
    {
        total++;
        const char *st = jx_path_str(t, "Status.State");
        if (st && strcmp(st, "complete") == 0)
            complete++;
    }
    char a[64];
    snprintf(a, sizeof(a), "%ld out of %ld complete", complete, total);
    emit(p, "job progress", a, 0, 0, false);
    return total > 0 && complete == total;
}

int cli_progress_on_tasks(struct cli_progress *p, const json_t *service,
                          const json_t *tasks, const json_t *nodes, int64_t now,
                          bool *finished, struct err *err)
{
    *finished = false;
    bool conv;
    switch (p->mode) {
    case CLI_PROGRESS_REPLICATED:
        conv = update_replicated(p, service, tasks, nodes);
        break;
    case CLI_PROGRESS_GLOBAL:
        conv = update_global(p, tasks, nodes);
        break;
    case CLI_PROGRESS_JOB:
        if (update_job(p, tasks)) {
            emit(p, "", "job complete", 0, 0, true);
            *finished = true;
            return 1;
        }
        return 0;
    default:
        return err_set(err, ERR_INVALID, "unrecognized service mode");
    }
    p->converged = conv;
    if (conv) {
        if (p->converged_at == 0)
            p->converged_at = now;
        /* time.Since is never exactly zero in Go. */
        int64_t elapsed = now - p->converged_at;
        if (elapsed <= 0)
            elapsed = 1;
        int64_t wait = p->monitor - elapsed;
        if (wait >= 0) {
            char a[96];
            snprintf(a, sizeof(a),
                     "Waiting %lld seconds to verify that tasks are stable...",
                     (long long)(wait / NS_PER_SEC + 1));
            emit(p, "verify", a, 0, 0, false);
        }
    } else {
        if (p->converged_at != 0)
            emit(p, "verify", "Detected task failure", 0, 0, false);
        p->converged_at = 0;
    }
    return conv ? 1 : 0;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void flush_out(struct buf *b, FILE *out, bool quiet)
{
    if (!quiet && b->len) {
        fwrite(b->data, 1, b->len, out);
        fflush(out);
    }
    buf_reset(b);
}

int cli_progress_wait(struct cli_client *c, const char *service_ref, FILE *out,
                      bool tty, bool quiet, struct err *err)
{
    int width = 200;
    if (tty) {
        struct winsize ws;
        if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col)
            width = ws.ws_col;
    }
    struct buf b;
    buf_init(&b);
    struct cli_prender r;
    cli_prender_init(&r, tty, width, &b);
    struct cli_progress p;
    cli_progress_init(&p, service_ref, &r);
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    interrupted = 0;
    _cleanup_free_ char *esc = cli_path_escape(service_ref);
    _cleanup_free_ char *spath =
        xasprintf("/services/%s?insertDefaults=false", esc);
    int rc = 0;
    for (;;) {
        json_t *svc = cli_client_get_json(c, spath, err);
        if (!svc) {
            rc = -1;
            break;
        }
        bool finished;
        if (cli_progress_on_service(&p, svc, time_mono_ns(), &finished, err) <
            0) {
            json_decref(svc);
            rc = -1;
            break;
        }
        flush_out(&b, out, quiet);
        if (finished) {
            json_decref(svc);
            break;
        }
        json_t *filters = cli_filters_new();
        cli_filters_add(filters, "service", jx_str0(svc, "ID"));
        cli_filters_add(filters, "_up-to-date", "true");
        _cleanup_free_ char *fj = cli_filters_encode(filters);
        json_decref(filters);
        _cleanup_free_ char *fq = cli_query_escape(fj);
        _cleanup_free_ char *tpath = xasprintf("/tasks?filters=%s", fq);
        json_t *tasks = cli_client_get_json(c, tpath, err);
        json_t *nodes = tasks ? cli_client_get_json(c, "/nodes", err) : NULL;
        if (!tasks || !nodes) {
            json_decref(svc);
            json_decref(tasks);
            rc = -1;
            break;
        }
        int conv = cli_progress_on_tasks(&p, svc, tasks, nodes, time_mono_ns(),
                                         &finished, err);
        json_decref(svc);
        json_decref(tasks);
        json_decref(nodes);
        flush_out(&b, out, quiet);
        if (conv < 0) {
            rc = -1;
            break;
        }
        if (finished)
            break;
        struct timespec ts = {0, 200 * 1000 * 1000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !interrupted)
            ;
        if (interrupted) {
            if (!p.converged) {
                cli_prender_write(&r, "", "Operation continuing in background.",
                                  0, 0, true);
                char m[300];
                snprintf(m, sizeof(m),
                         "Use `shoal service ps %s` to check progress.",
                         service_ref);
                cli_prender_write(&r, "", m, 0, 0, true);
                flush_out(&b, out, quiet);
            }
            break;
        }
    }
    sigaction(SIGINT, &old, NULL);
    flush_out(&b, out, quiet);
    cli_progress_fini(&p);
    cli_prender_fini(&r);
    buf_fini(&b);
    return rc;
}
