// SPDX-License-Identifier: Apache-2.0
// The agent: follows the tasks assigned to this node, drives each through
// the executor (executor.c), and sends status changes in batches, one batch
// in flight at a time (a failed send is retried with the next batch merged
// in: the store ignores reports that would move a task backwards, so
// resending is always safe).
#include "agent/agent.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/agent_internal.h"
#include "agent/hostports.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "net/netns.h"
#include "runtime/secretfs.h"

#define RESEND_DELAY_MS 500

static void reconcile_cb(uv_timer_t *t);
static void agent_scan(struct agent *a);
static void agent_check_removed_all(struct agent *a);

static void agent_mark(struct agent *a, struct atask *at)
{
    if (!at->dirty) {
        at->dirty = true;
        vec_push(&a->dirty, at);
    }
    if (a->running && !uv_is_active((uv_handle_t *)&a->reconcile_timer))
        uv_timer_start(&a->reconcile_timer, reconcile_cb, 0, 0);
}

static struct atask *agent_track(struct agent *a, const char *task_id)
{
    struct atask *at = hmap_get(&a->tasks, task_id);
    if (at)
        return at;
    at = xcalloc(1, sizeof(*at));
    at->agent = a;
    snprintf(at->id, sizeof(at->id), "%s", task_id);
    at->reported = TASK_NEW;
    hmap_put(&a->tasks, at->id, at);
    return at;
}

static void agent_set_container(struct agent *a, struct atask *at,
                                const char *ctr)
{
    if (at->ctr[0])
        hmap_del(&a->by_container, at->ctr);
    snprintf(at->ctr, sizeof(at->ctr), "%s", ctr ? ctr : "");
    if (at->ctr[0])
        hmap_put(&a->by_container, at->ctr, at);
}

static void agent_forget(struct agent *a, struct atask *at)
{
    prober_stop(at->prober);
    if (at->ctr[0])
        hmap_del(&a->by_container, at->ctr);
    hmap_del(&a->tasks, at->id);
    if (at->dirty)
        vec_remove(&a->dirty, at);
    free(at);
}

static void agent_action(struct agent *a, const char *ctr, const char *action,
                         const char *key, const char *value)
{
    if (a->cfg.on_action)
        a->cfg.on_action(a->cfg.action_data, ctr, action, key, value);
}

/* ---- reporting ---- */

static void flush(struct agent *a);

static void resend_cb(uv_timer_t *t)
{
    flush(t->data);
}

static void sent(void *data, bool ok)
{
    struct agent *a = data;
    a->sending = false;
    log_debug("agent: status %s", ok ? "committed" : "not committed");
    if (ok) {
        free(a->unsent);
        a->unsent = NULL;
        a->unsent_len = 0;
    }
    if (a->closing && !a->unsent && txn_size(&a->outbox) == 0)
        return;
    if (!ok)
        uv_timer_start(&a->resend_timer, resend_cb, RESEND_DELAY_MS, 0);
    else
        flush(a);
}

static void flush(struct agent *a)
{
    if (a->sending)
        return;
    if (txn_size(&a->outbox) > 0) {
        /* Merge new reports behind any unsent ones (order matters). */
        size_t len;
        char *fresh = txn_encode(&a->outbox, &len);
        txn_fini(&a->outbox);
        txn_init(&a->outbox);
        if (a->unsent) {
            json_t *old = json_loads(a->unsent, 0, NULL);
            json_t *add = json_loads(fresh, 0, NULL);
            json_array_extend(json_object_get(old, "ops"),
                              json_object_get(add, "ops"));
            json_object_set(old, "ts", json_object_get(add, "ts"));
            free(a->unsent);
            free(fresh);
            a->unsent = jx_dumps(old);
            json_decref(old);
            json_decref(add);
        } else {
            a->unsent = fresh;
        }
        a->unsent_len = strlen(a->unsent);
    }
    if (!a->unsent)
        return;
    a->sending = true;
    log_debug("agent: sending %zu bytes of status", a->unsent_len);
    if (a->cfg.report(a->cfg.report_data, a->unsent, a->unsent_len, sent, a) <
        0) {
        a->sending = false;
        uv_timer_start(&a->resend_timer, resend_cb, RESEND_DELAY_MS, 0);
    }
}

static void flush_cb(uv_timer_t *t)
{
    flush(t->data);
}

/* Nothing on the node holds proto/port (a quick bind in the node's
 * namespace, where shoald runs). */
static bool port_free(void *data, const char *proto, uint16_t port)
{
    (void)data;
    bool udp = strcmp(proto, "udp") == 0;
    int fd =
        socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_ANY)};
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return ok;
}

/* The host-mode ports the node binds for a task that starts running: its
 * Status.PortStatus, as Docker reports it. */
static void report_ports(struct agent *a, struct atask *at)
{
    const struct task *t = store_task(a->cfg.store, at->id);
    if (!t)
        return;
    bool exhausted = false;
    _cleanup_json_ json_t *ports = hostports_for_task(
        a->cfg.store, a->cfg.node_id, t, port_free, NULL, &exhausted);
    if (exhausted)
        log_warn("agent: task %s: no free port left for its host-mode ports",
                 at->id);
    if (ports && !jx_equal_loose(ports, t->ports))
        txn_task_ports(&a->outbox, at->id, TASK_RUNNING, ports);
}

static void agent_report(struct agent *a, struct atask *at, enum task_state st,
                         const char *message, const char *error, int exit_code)
{
    if (st <= at->reported && !(st == at->reported && st == TASK_RUNNING))
        return;
    at->reported = st;
    txn_task_status(&a->outbox, at->id, st, message, error, at->ctr,
                    st == TASK_RUNNING ? at->pid : 0, exit_code);
    if (st == TASK_RUNNING)
        report_ports(a, at);
    if (!uv_is_active((uv_handle_t *)&a->flush_timer))
        uv_timer_start(&a->flush_timer, flush_cb, 0, 0);
}

static void agent_report_health(struct agent *a, struct atask *at,
                                enum task_health h)
{
    txn_task_health(&a->outbox, at->id, at->reported, h);
    if (!uv_is_active((uv_handle_t *)&a->flush_timer))
        uv_timer_start(&a->flush_timer, flush_cb, 0, 0);
}

/* ---- following the store ---- */

static void on_store_event(void *data, const struct store_event *ev)
{
    struct agent *a = data;
    if (!a->running)
        return;
    if (ev->kind == KIND__COUNT) {
        /* A snapshot replaced everything: look at every task again. */
        agent_scan(a);
        return;
    }
    if (ev->kind != KIND_TASK)
        return;
    struct task *t = ev->obj;
    struct atask *at = hmap_get(&a->tasks, t->meta.id);
    bool ours = strcmp(t->node_id, a->cfg.node_id) == 0;
    if (!at && ours && ev->action != STORE_DELETE)
        at = agent_track(a, t->meta.id);
    if (!at)
        return;
    if (ev->action == STORE_DELETE || !ours)
        at->gone = true;
    agent_mark(a, at);
}

static void agent_scan(struct agent *a)
{
    const struct vec *mine = store_node_tasks(a->cfg.store, a->cfg.node_id);
    for (size_t i = 0; mine && i < mine->len; i++) {
        struct task *t = mine->items[i];
        agent_mark(a, agent_track(a, t->meta.id));
    }
    size_t it = 0;
    void *v;
    while (hmap_next(&a->tasks, &it, NULL, &v)) {
        struct atask *at = v;
        struct task *t = store_task(a->cfg.store, at->id);
        if (!t || strcmp(t->node_id, a->cfg.node_id) != 0)
            at->gone = true;
        agent_mark(a, at);
    }
}

static void reconcile_cb(uv_timer_t *t)
{
    struct agent *a = t->data;
    struct vec dirty = a->dirty;
    vec_init(&a->dirty);
    for (size_t i = 0; i < dirty.len; i++)
        ((struct atask *)dirty.items[i])->dirty = false;
    /* exec_reconcile may forget tasks, so work from ids. */
    char **ids = xcalloc(dirty.len + 1, sizeof(char *));
    for (size_t i = 0; i < dirty.len; i++)
        ids[i] = xstrdup(((struct atask *)dirty.items[i])->id);
    vec_fini(&dirty);
    for (size_t i = 0; ids[i]; i++) {
        struct atask *at = hmap_get(&a->tasks, ids[i]);
        if (at)
            exec_reconcile(a, at);
        free(ids[i]);
    }
    free(ids);
    agent_check_removed_all(a);
}

static void agent_check_removed_all(struct agent *a)
{
    if (a->removing_all && hmap_count(&a->tasks) == 0 && a->removed_cb) {
        void (*cb)(void *) = a->removed_cb;
        a->removed_cb = NULL;
        a->removing_all = false;
        a->running = false;
        /* Leaving the swarm: nothing of its networks stays. */
        netplane_teardown(a->net);
        a->net = NULL;
        cb(a->removed_data);
    }
}

/* ---- runtime events ---- */

void agent_on_container_event(void *data, const char *id,
                              const struct ctr_status *st)
{
    struct agent *a = data;
    struct atask *at = hmap_get(&a->by_container, id);
    if (!at) {
        /* A container from before a restart: find its task by label. */
        const char *task_id =
            jx_str(ctr_labels(a->cfg.runtime, id), "com.docker.swarm.task.id");
        if (!task_id) {
            log_warn("agent: container %.12s has no task label, removing", id);
            ctr_remove(a->cfg.runtime, id, NULL, NULL, NULL);
            agent_action(a, id, "destroy", NULL, NULL);
            return;
        }
        at = agent_track(a, task_id);
        if (at->ctr[0] && strcmp(at->ctr, id) != 0) {
            /* Two containers for one task: keep the first, drop this. */
            log_warn("agent: duplicate container %.12s for task %s, removing",
                     id, task_id);
            ctr_remove(a->cfg.runtime, id, NULL, NULL, NULL);
            agent_action(a, id, "destroy", NULL, NULL);
            return;
        }
        agent_set_container(a, at, id);
        struct task *t = store_task(a->cfg.store, task_id);
        if (t && t->state > at->reported)
            at->reported = t->state;
    }
    exec_container_event(a, at, st);
    agent_mark(a, at);
}

/* ---- lifecycle ---- */

static const struct exec_host exec_host = {
    .mark = agent_mark,
    .forget = agent_forget,
    .set_container = agent_set_container,
    .check_removed_all = agent_check_removed_all,
    .report = agent_report,
    .report_health = agent_report_health,
    .action = agent_action,
};

struct agent *agent_new(const struct agent_config *cfg, struct err *err)
{
    struct agent *a = xcalloc(1, sizeof(*a));
    a->host = &exec_host;
    a->cfg = *cfg;
    a->cfg.node_id = xstrdup(cfg->node_id);
    a->cfg.data_root = xstrdup(cfg->data_root);
    a->netns_dir = xasprintf("%s/netns", cfg->data_root);
    if (fs_mkdir_p(a->netns_dir, 0700, err) < 0) {
        agent_free(a);
        return NULL;
    }
    hmap_init(&a->tasks);
    hmap_init(&a->by_container);
    vec_init(&a->dirty);
    txn_init(&a->outbox);
    uv_timer_init(cfg->loop, &a->reconcile_timer);
    uv_timer_init(cfg->loop, &a->flush_timer);
    uv_timer_init(cfg->loop, &a->resend_timer);
    a->reconcile_timer.data = a->flush_timer.data = a->resend_timer.data = a;
    a->handles = true;
    return a;
}

/* Secret tmpfs of tasks this node no longer knows (removed while shoald
 * was down). A running container keeps its own bind mounts of them. */
static void sweep_secret_dirs(struct agent *a)
{
    _cleanup_free_ char *root = xasprintf("%s/secrets", a->cfg.data_root);
    DIR *dir = opendir(root);
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.' || hmap_get(&a->tasks, e->d_name))
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s", root, e->d_name);
        struct err err = {0};
        if (secretfs_remove(path, &err) < 0)
            log_warn("agent: %s", err.msg);
    }
    closedir(dir);
}

int agent_start(struct agent *a, struct err *err)
{
    if (a->running)
        return 0;
    /* Known tasks first, so adopted containers find their task. */
    const struct vec *mine = store_node_tasks(a->cfg.store, a->cfg.node_id);
    for (size_t i = 0; mine && i < mine->len; i++) {
        struct task *t = mine->items[i];
        struct atask *at = agent_track(a, t->meta.id);
        at->reported = t->state;
    }
    if (!a->net) {
        struct netplane_config nc = {.loop = a->cfg.loop,
                                     .store = a->cfg.store,
                                     .node_id = a->cfg.node_id,
                                     .dns_port = a->cfg.dns_port};
        a->net = netplane_new(&nc, err);
        if (!a->net)
            return err_ctx(err, "network plane");
    }
    a->running = true;
    a->watch = store_watch(a->cfg.store, on_store_event, a);
    if (!a->restored) {
        a->restored = true;
        if (runtime_restore(a->cfg.runtime, err) < 0) {
            log_error("agent: restore containers: %s", err->msg);
            err_clear(err);
        }
    }
    agent_scan(a);
    sweep_secret_dirs(a);
    log_info("agent: following tasks of node %s", a->cfg.node_id);
    return 0;
}

void agent_stop(struct agent *a)
{
    if (!a->running)
        return;
    a->running = false;
    store_unwatch(a->cfg.store, a->watch);
    a->watch = NULL;
    uv_timer_stop(&a->reconcile_timer);
}

void agent_remove_all(struct agent *a, void (*cb)(void *), void *data)
{
    a->removing_all = true;
    a->removed_cb = cb;
    a->removed_data = data;
    bool was_running = a->running;
    a->running = true; /* let reconcile passes run */
    if (was_running) {
        store_unwatch(a->cfg.store, a->watch);
        a->watch = NULL;
    }
    size_t it = 0;
    void *v;
    while (hmap_next(&a->tasks, &it, NULL, &v)) {
        struct atask *at = v;
        at->gone = true;
        at->fast_stop = true;
        exec_abandon(a, at, false);
        agent_mark(a, at);
    }
    agent_check_removed_all(a);
}

bool agent_image_in_use(void *data, const char *image_id, char container_id[65])
{
    struct agent *a = data;
    size_t it = 0;
    void *v;
    while (hmap_next(&a->tasks, &it, NULL, &v)) {
        struct atask *at = v;
        if (at->ctr[0] && at->image_id[0] &&
            strcmp(at->image_id, image_id) == 0) {
            snprintf(container_id, 65, "%s", at->ctr);
            return true;
        }
    }
    return false;
}

static void timer_closed(uv_handle_t *h)
{
    struct agent *a = h->data;
    if (--a->closing_handles == 0) {
        free(a->netns_dir);
        free((char *)a->cfg.node_id);
        free((char *)a->cfg.data_root);
        free(a);
    }
}

void agent_free(struct agent *a)
{
    if (!a)
        return;
    agent_stop(a);
    netplane_free(a->net);
    a->net = NULL;
    a->closing = true;
    size_t it = 0;
    void *v;
    while (hmap_next(&a->tasks, &it, NULL, &v)) {
        exec_abandon(a, v, true);
        prober_stop(((struct atask *)v)->prober);
        free(v);
    }
    hmap_fini(&a->tasks);
    hmap_fini(&a->by_container);
    vec_fini(&a->dirty);
    txn_fini(&a->outbox);
    free(a->unsent);
    a->unsent = NULL;
    if (!a->handles) {
        free(a->netns_dir);
        free((char *)a->cfg.node_id);
        free((char *)a->cfg.data_root);
        free(a);
        return;
    }
    a->closing_handles = 3;
    uv_close((uv_handle_t *)&a->reconcile_timer, timer_closed);
    uv_close((uv_handle_t *)&a->flush_timer, timer_closed);
    uv_close((uv_handle_t *)&a->resend_timer, timer_closed);
}
