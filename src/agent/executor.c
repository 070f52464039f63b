// SPDX-License-Identifier: Apache-2.0
// One task's lifecycle on this node, as a container: prepare (network
// namespace, image, rootfs and bundle), start, watch, stop with the task's
// stop signal and grace period, and remove once the task is gone. Each step
// is decided from the task's desired state in the store and the local
// phase, so re-running exec_reconcile at any point is always safe.
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "agent/taskfiles.h"
#include "agent/tasktmpl.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "net/netns.h"
#include "registry/registry.h"
#include "runtime/oci.h"
#include "runtime/secretfs.h"

static void release_netns(struct atask *at)
{
    if (!at->netns[0])
        return;
    if (at->agent->net)
        netplane_detach(at->agent->net, at->id);
    struct err err = {0};
    if (netns_delete(at->netns, &err) < 0)
        log_warn("agent: task %s: %s", at->id, err.msg);
    at->netns[0] = '\0';
}

/* The task's secret and config files: a tmpfs at
 * <data_root>/secrets/<task id>, gone when the task ends. */
static char *files_dir(const struct atask *at)
{
    return xasprintf("%s/secrets/%s", at->agent->cfg.data_root, at->id);
}

static void release_files(struct atask *at)
{
    /* Not remembered: after a restart of shoald the tmpfs may be there. */
    _cleanup_free_ char *dir = files_dir(at);
    struct err err = {0};
    if (secretfs_remove(dir, &err) < 0)
        log_warn("agent: task %s: %s", at->id, err.msg);
}

/* Everything the task holds on this node but its container. */
static void release_local(struct atask *at)
{
    release_netns(at);
    release_files(at);
}

/* Materialises the task's secrets and configs and binds each file at its
 * target (read-only) through the container's Mounts. */
static int prepare_files(struct agent *a, struct atask *at,
                         const struct task *t, json_t *cspec, struct err *err)
{
    struct taskfiles tf;
    int rc = taskfiles_build(
        a->cfg.store, json_object_get(t->spec, "ContainerSpec"), &tf, err);
    if (rc < 0 || tf.n == 0) {
        taskfiles_fini(&tf);
        return rc;
    }
    _cleanup_free_ char *root = xasprintf("%s/secrets", a->cfg.data_root);
    _cleanup_free_ char *dir = files_dir(at);
    struct secretfs_file *files = xcalloc(tf.n, sizeof(*files));
    for (size_t i = 0; i < tf.n; i++)
        files[i] = (struct secretfs_file){.name = tf.v[i].name,
                                          .data = tf.v[i].data,
                                          .len = tf.v[i].len,
                                          .uid = tf.v[i].uid,
                                          .gid = tf.v[i].gid,
                                          .mode = tf.v[i].mode};
    rc = fs_mkdir_p(root, 0700, err);
    if (rc == 0)
        rc = secretfs_create(dir, files, tf.n, err);
    free(files);
    if (rc == 0) {
        json_t *mounts = json_object_get(cspec, "Mounts");
        if (!json_is_array(mounts)) {
            mounts = json_array();
            json_object_set_new(cspec, "Mounts", mounts);
        }
        for (size_t i = 0; i < tf.n; i++) {
            _cleanup_free_ char *src = xasprintf("%s/%s", dir, tf.v[i].name);
            json_array_append_new(mounts,
                                  json_pack("{s:s, s:s, s:s, s:b}", "Type",
                                            "bind", "Source", src, "Target",
                                            tf.v[i].target, "ReadOnly", 1));
        }
    }
    taskfiles_fini(&tf);
    return rc < 0 ? err_ctx(err, "secrets and configs") : 0;
}

/* ---- removal ---- */

static void removed(void *data, const struct err *err)
{
    struct atask *at = data;
    struct agent *a = at->agent;
    if (err)
        log_warn("agent: remove container %.12s: %s", at->ctr, err->msg);
    else
        a->host->action(a, at->ctr, "destroy", NULL, NULL);
    a->host->set_container(a, at, NULL);
    at->phase = PH_EXITED;
    release_local(at);
    if (at->gone)
        a->host->forget(a, at);
    else
        a->host->mark(a, at);
    a->host->check_removed_all(a);
}

static void remove_container(struct agent *a, struct atask *at)
{
    struct err err = {0};
    at->phase = PH_REMOVING;
    if (ctr_remove(a->cfg.runtime, at->ctr, removed, at, &err) < 0) {
        log_warn("agent: remove container %.12s: %s", at->ctr, err.msg);
        removed(at, NULL);
    }
}

static void stop_container(struct agent *a, struct atask *at,
                           const struct task *t)
{
    int64_t grace = 10 * NS_PER_SEC;
    json_t *gp = jx_path(t ? t->spec : NULL, "ContainerSpec.StopGracePeriod");
    if (json_is_integer(gp))
        grace = json_integer_value(gp);
    if (at->fast_stop)
        grace = 0;
    /* Out of the load balancer and DNS before the signal (drain). */
    netplane_sync(a->net);
    struct err err = {0};
    at->stop_requested = true;
    at->phase = PH_STOPPING;
    if (ctr_stop(a->cfg.runtime, at->ctr, 0, grace, &err) < 0) {
        log_warn("agent: stop container %.12s: %s", at->ctr, err.msg);
        return;
    }
    const char *sig =
        jx_path_str(t ? t->spec : NULL, "ContainerSpec.StopSignal");
    char signo[16];
    snprintf(signo, sizeof(signo), "%d",
             sig && *sig ? oci_signal_parse(sig) : SIGTERM);
    a->host->action(a, at->ctr, "kill", "signal", signo);
}

/* The task is gone (deleted, or no longer ours): clean everything up. */
static void retire(struct agent *a, struct atask *at, const struct task *t)
{
    switch (at->phase) {
    case PH_PREPARING:
    case PH_STOPPING:
    case PH_REMOVING:
        return; /* their completion marks the task again */
    case PH_STARTING:
    case PH_RUNNING:
        stop_container(a, at, t);
        return;
    case PH_PREPARED:
    case PH_EXITED:
        if (at->ctr[0]) {
            remove_container(a, at);
            return;
        }
        /* fall through */
    case PH_IDLE:
        release_local(at);
        a->host->forget(a, at);
        return;
    }
}

/* ---- preparation ---- */

static json_t *container_labels(struct agent *a, const struct task *t,
                                const char *service_name, const char *task_name)
{
    json_t *labels = json_object();
    json_t *user = jx_path(t->spec, "ContainerSpec.Labels");
    const char *k;
    json_t *v;
    json_object_foreach(user, k, v)
    {
        if (json_is_string(v))
            json_object_set(labels, k, v);
    }
    json_object_set_new(labels, "com.docker.swarm.node.id",
                        json_string(a->cfg.node_id));
    json_object_set_new(labels, "com.docker.swarm.service.id",
                        json_string(t->service_id));
    json_object_set_new(labels, "com.docker.swarm.service.name",
                        json_string(service_name));
    json_object_set_new(labels, "com.docker.swarm.task", json_string(""));
    json_object_set_new(labels, "com.docker.swarm.task.id",
                        json_string(t->meta.id));
    json_object_set_new(labels, "com.docker.swarm.task.name",
                        json_string(task_name));
    return labels;
}

static void reject(struct agent *a, struct atask *at, const char *why)
{
    snprintf(at->error, sizeof(at->error), "%s", why);
    at->phase = PH_EXITED;
    release_local(at);
    a->host->report(a, at, TASK_REJECTED, "preparing", why, -1);
}

static void create_container(struct agent *a, struct atask *at);

/* ---- pulling a missing image ---- */

static void pulled(void *data, const json_t *result, const struct err *err)
{
    (void)result;
    struct atask *at = data;
    struct agent *a = at->agent;
    at->pull = NULL;
    at->pulled = true;
    const struct task *t = store_task(a->cfg.store, at->id);
    if (err && t && !at->gone) {
        log_warn("agent: task %s: %s", at->id, err->msg);
        reject(a, at, err->msg);
        a->host->mark(a, at);
        return;
    }
    create_container(a, at); /* or notices the task is gone */
}

/* Pulls image for the task, with the credentials its service carries
 * (ContainerSpec.PullOptions, from --with-registry-auth). -1 if the pull
 * could not start (err set). */
static int start_pull(struct agent *a, struct atask *at, const struct task *t,
                      const char *image, struct err *err)
{
    struct reg_creds creds;
    const char *auth =
        jx_path_str(t->spec, "ContainerSpec.PullOptions.RegistryAuth");
    if (reg_creds_decode(auth, &creds, err) < 0)
        return -1;
    log_info("agent: task %s: pulling image %s", at->id, image);
    at->pull = registry_start(a->cfg.registry, REGISTRY_PULL, image, NULL,
                              &creds, NULL, pulled, at, err);
    reg_creds_fini(&creds);
    return at->pull ? 0 : -1;
}

void exec_abandon(struct agent *a, struct atask *at, bool all_work)
{
    (void)a;
    if (all_work && at->netns_work) {
        netns_create_abandon(at->netns_work);
        at->netns_work = NULL;
    }
    if (!at->pull)
        return;
    registry_op_cancel(at->pull);
    at->pull = NULL;
    at->phase = PH_IDLE;
}

static void create_container(struct agent *a, struct atask *at)
{
    const struct task *t = store_task(a->cfg.store, at->id);
    if (!t || at->gone) {
        at->phase = PH_IDLE;
        a->host->mark(a, at);
        return;
    }
    const struct service *s = store_service(a->cfg.store, t->service_id);
    const char *service_name = s ? s->name : t->service_id;
    const char *image = jx_path_str(t->spec, "ContainerSpec.Image");
    struct err err = {0};
    struct image_ref *img =
        image_resolve(a->cfg.images, image ? image : "", &err);
    if (!img && err.code == ERR_NOTFOUND && image && *image &&
        a->cfg.registry && !at->pulled) {
        /* Not on this node: pull it, then come back here (the task stays
         * in "preparing" meanwhile). */
        struct err perr = {0};
        if (start_pull(a, at, t, image, &perr) == 0)
            return;
        snprintf(err.msg, sizeof(err.msg), "%s", perr.msg);
    }
    if (!img) {
        reject(a, at, err.msg);
        return;
    }
    char ctr[ID_HEX_LEN + 1];
    id_new_hex(ctr);
    char task_name[256];
    if (t->slot)
        snprintf(task_name, sizeof(task_name), "%s.%d.%s", service_name,
                 t->slot, t->meta.id);
    else
        snprintf(task_name, sizeof(task_name), "%s.%s.%s", service_name,
                 t->node_id, t->meta.id);
    struct tasktmpl_ctx tc = {
        .task = t,
        .task_name = task_name,
        .service = s,
        .node = store_node(a->cfg.store, a->cfg.node_id),
        .node_id = a->cfg.node_id,
    };
    _cleanup_json_ json_t *cspec = tasktmpl_container_spec(&tc, &err);
    if (!cspec || prepare_files(a, at, t, cspec, &err) < 0) {
        image_ref_free(img);
        reject(a, at, err.msg);
        return;
    }
    json_t *labels = container_labels(a, t, service_name, task_name);
    const char *hostname = jx_str(cspec, "Hostname");
    char default_host[13];
    snprintf(default_host, sizeof(default_host), "%s", ctr);
    char *resolv = netplane_resolv_conf(a->net, t);
    char *hosts = netplane_hosts(
        a->net, t, hostname && *hostname ? hostname : default_host);
    struct ctr_config cfg = {
        .id = ctr,
        .name = task_name,
        .labels = labels,
        .spec = cspec,
        .resources = jx_path(t->spec, "Resources"),
        .hostname = hostname && *hostname ? hostname : NULL,
        .netns = at->netns,
        .resolv_conf = resolv,
        .hosts = hosts,
    };
    int rc = ctr_create(a->cfg.runtime, &cfg, img, &err);
    free(resolv);
    free(hosts);
    json_decref(labels);
    if (rc < 0) {
        image_ref_free(img);
        reject(a, at, err.msg);
        return;
    }
    snprintf(at->image_id, sizeof(at->image_id), "%s", img->id);
    image_ref_free(img);
    a->host->set_container(a, at, ctr);
    a->host->action(a, ctr, "create", NULL, NULL);
    at->phase = PH_PREPARED;
    a->host->report(a, at, TASK_READY, "prepared", NULL, -1);
    a->host->mark(a, at);
}

static void netns_ready(void *data, const struct err *err)
{
    struct atask *at = data;
    struct agent *a = at->agent;
    at->netns_work = NULL;
    if (err) {
        at->netns[0] = '\0';
        reject(a, at, err->msg);
        return;
    }
    const struct task *t = store_task(a->cfg.store, at->id);
    struct err nerr = {0};
    if (t && !at->gone && netplane_attach(a->net, t, at->netns, &nerr) < 0) {
        reject(a, at, nerr.msg);
        return;
    }
    create_container(a, at);
}

static void prepare(struct agent *a, struct atask *at)
{
    log_debug("agent: task %s: preparing", at->id);
    a->host->report(a, at, TASK_ACCEPTED, "accepted", NULL, -1);
    a->host->report(a, at, TASK_PREPARING, "preparing", NULL, -1);
    snprintf(at->netns, sizeof(at->netns), "%s/%s", a->netns_dir, at->id);
    at->phase = PH_PREPARING;
    struct err err = {0};
    at->netns_work =
        netns_create_async(a->cfg.loop, at->netns, netns_ready, at, &err);
    if (!at->netns_work) {
        at->netns[0] = '\0';
        reject(a, at, err.msg);
    }
}

static void start(struct agent *a, struct atask *at)
{
    log_debug("agent: task %s: starting container %.12s", at->id, at->ctr);
    a->host->report(a, at, TASK_STARTING, "starting", NULL, -1);
    struct err err = {0};
    at->phase = PH_STARTING;
    if (ctr_start(a->cfg.runtime, at->ctr, &err) < 0) {
        char why[400];
        snprintf(why, sizeof(why), "starting container failed: %s", err.msg);
        at->phase = PH_EXITED;
        release_local(at);
        a->host->report(a, at, TASK_FAILED, "starting", why, -1);
    }
}

/* ---- health ---- */

static void on_health(void *data, enum task_health h)
{
    struct atask *at = data;
    struct agent *a = at->agent;
    char action[48];
    snprintf(action, sizeof(action), "health_status: %s", task_health_name(h));
    a->host->action(a, at->ctr, action, NULL, NULL);
    if (h == TASK_HEALTH_HEALTHY) {
        /* Health first, so no node ever sees it running but not ready. */
        a->host->report_health(a, at, h);
        a->host->report(a, at, TASK_RUNNING, "started", NULL, -1);
        return;
    }
    if (h != TASK_HEALTH_UNHEALTHY || at->unhealthy)
        return;
    log_info("agent: task %s: container %.12s is unhealthy", at->id, at->ctr);
    /* Out of every node's balancer first; it is stopped once the report
     * is committed (exec_reconcile), then fails. */
    at->unhealthy = true;
    a->host->report_health(a, at, h);
    a->host->mark(a, at);
}

/* Starts the container's health check, if it has one; false if not. */
static bool start_prober(struct agent *a, struct atask *at,
                         const struct ctr_status *st)
{
    const struct task *t = store_task(a->cfg.store, at->id);
    struct health_config hc;
    struct err err = {0};
    if (health_config_from(
            json_object_get(ctr_image_config(a->cfg.runtime, at->ctr),
                            "Healthcheck"),
            jx_path(t ? t->spec : NULL, "ContainerSpec.Healthcheck"), &hc,
            &err) < 0) {
        log_warn("agent: task %s: health check: %s", at->id, err.msg);
        return false;
    }
    if (!health_config_enabled(&hc)) {
        health_config_fini(&hc);
        return false;
    }
    /* Re-adopted after a restart of shoald: it keeps its status. */
    enum task_health initial = TASK_HEALTH_STARTING;
    if (at->reported >= TASK_RUNNING && t)
        initial = t->health;
    prober_stop(at->prober);
    at->prober = prober_start(a->cfg.loop, a->cfg.runtime, at->ctr, &hc,
                              st->started_at, initial, on_health, at);
    if (initial == TASK_HEALTH_STARTING)
        a->host->report_health(a, at, initial);
    return true;
}

/* ---- the decision ---- */

void exec_reconcile(struct agent *a, struct atask *at)
{
    const struct task *t = store_task(a->cfg.store, at->id);
    if (at->gone || !t) {
        retire(a, at, t);
        return;
    }
    if (t->state > at->reported)
        at->reported = t->state;
    bool stop = t->desired > TASK_RUNNING ||
                task_state_is_terminal(at->reported) ||
                (at->unhealthy && t->health == TASK_HEALTH_UNHEALTHY);
    if (stop) {
        switch (at->phase) {
        case PH_STARTING:
        case PH_PREPARING:
        case PH_STOPPING:
        case PH_REMOVING:
            return; /* wait for the step in progress */
        case PH_RUNNING:
            stop_container(a, at, t);
            return;
        case PH_PREPARED:
            a->host->report(a, at, TASK_SHUTDOWN, "shutdown", NULL, -1);
            remove_container(a, at);
            return;
        case PH_IDLE:
            release_local(at);
            if (t->state >= TASK_ASSIGNED)
                a->host->report(a, at, TASK_SHUTDOWN, "shutdown", NULL, -1);
            return;
        case PH_EXITED:
            release_local(at);
            a->host->report(a, at, TASK_SHUTDOWN, "shutdown", NULL,
                            at->exit_code);
            return;
        }
        return;
    }
    switch (at->phase) {
    case PH_IDLE:
        if (at->reported >= TASK_STARTING) {
            /* The store says it ran here, but its container is gone (lost
             * while shoald was down). */
            a->host->report(a, at, TASK_FAILED, "started",
                            "task: container is gone", -1);
            at->phase = PH_EXITED;
            return;
        }
        if (t->state >= TASK_ASSIGNED)
            prepare(a, at);
        return;
    case PH_PREPARED:
        if (t->desired == TASK_RUNNING)
            start(a, at);
        return;
    default:
        return;
    }
}

void exec_container_event(struct agent *a, struct atask *at,
                          const struct ctr_status *st)
{
    switch (st->state) {
    case CTR_CREATED:
        if (at->phase == PH_IDLE)
            at->phase = PH_PREPARED;
        return;
    case CTR_RUNNING:
        at->pid = st->pid;
        at->phase = PH_RUNNING;
        /* With a health check, running (and in the balancer) once
         * healthy, as swarm does. */
        if (!start_prober(a, at, st) || at->reported >= TASK_RUNNING)
            a->host->report(a, at, TASK_RUNNING, "started", NULL, -1);
        return;
    case CTR_EXITED:
        break;
    }
    bool ours = at->stop_requested;
    const struct task *t = store_task(a->cfg.store, at->id);
    prober_stop(at->prober);
    at->prober = NULL;
    at->phase = PH_EXITED;
    at->exit_code = st->exit_code;
    at->pid = 0;
    release_local(at);
    char why[400];
    if (st->error[0]) {
        snprintf(why, sizeof(why), "starting container failed: %s", st->error);
        a->host->report(a, at, TASK_FAILED, "starting", why, st->exit_code);
    } else if (at->unhealthy) {
        snprintf(why, sizeof(why),
                 "task: non-zero exit (%d): unhealthy container",
                 st->exit_code);
        a->host->report(a, at, TASK_FAILED, "started", why, st->exit_code);
    } else if (ours || (t && t->desired > TASK_RUNNING)) {
        a->host->report(a, at, TASK_SHUTDOWN, "shutdown", NULL, st->exit_code);
    } else if (st->exit_code == 0) {
        a->host->report(a, at, TASK_COMPLETE, "finished", NULL, 0);
    } else {
        snprintf(why, sizeof(why), "task: non-zero exit (%d)", st->exit_code);
        a->host->report(a, at, TASK_FAILED, "started", why, st->exit_code);
    }
    log_debug("agent: task %s container %.12s exited (%d)", at->id, at->ctr,
              st->exit_code);
}
