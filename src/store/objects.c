// SPDX-License-Identifier: Apache-2.0
// Cluster objects: construction, Docker API JSON rendering, and the
// lossless encode/decode used by the Raft log and snapshots.
#include "store/objects.h"

#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"

static const char *const kind_names[KIND__COUNT] = {
    [KIND_CLUSTER] = "cluster", [KIND_NODE] = "node",
    [KIND_SERVICE] = "service", [KIND_TASK] = "task",
    [KIND_NETWORK] = "network", [KIND_SECRET] = "secret",
    [KIND_CONFIG] = "config",
};

const char *store_kind_name(enum store_kind k)
{
    return k < KIND__COUNT ? kind_names[k] : "unknown";
}

static const char *const task_state_names[] = {
    [TASK_NEW] = "new",
    [TASK_PENDING] = "pending",
    [TASK_ASSIGNED] = "assigned",
    [TASK_ACCEPTED] = "accepted",
    [TASK_PREPARING] = "preparing",
    [TASK_READY] = "ready",
    [TASK_STARTING] = "starting",
    [TASK_RUNNING] = "running",
    [TASK_COMPLETE] = "complete",
    [TASK_SHUTDOWN] = "shutdown",
    [TASK_FAILED] = "failed",
    [TASK_REJECTED] = "rejected",
    [TASK_REMOVE] = "remove",
    [TASK_ORPHANED] = "orphaned",
};

const char *task_state_name(enum task_state s)
{
    return (size_t)s < ARRAY_SIZE(task_state_names) ? task_state_names[s]
                                                    : "unknown";
}

int task_state_parse(const char *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(task_state_names); i++)
        if (s && strcmp(s, task_state_names[i]) == 0)
            return (int)i;
    return -1;
}

static const char *const node_state_names[] = {
    [NODE_UNKNOWN] = "unknown",
    [NODE_DOWN] = "down",
    [NODE_READY] = "ready",
    [NODE_DISCONNECTED] = "disconnected",
};

const char *node_state_name(enum node_state s)
{
    return (size_t)s < ARRAY_SIZE(node_state_names) ? node_state_names[s]
                                                    : "unknown";
}

static int node_state_parse(const char *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(node_state_names); i++)
        if (s && strcmp(s, node_state_names[i]) == 0)
            return (int)i;
    return -1;
}

/* ---- construction ---- */

struct cluster *cluster_new(void)
{
    struct cluster *c = xcalloc(1, sizeof(*c));
    c->spec = json_object();
    c->internal = json_object();
    return c;
}

void cluster_free(struct cluster *c)
{
    if (!c)
        return;
    json_decref(c->spec);
    json_decref(c->internal);
    free(c);
}

struct node *node_new(void)
{
    struct node *n = xcalloc(1, sizeof(*n));
    n->spec = json_object();
    n->description = json_object();
    return n;
}

void node_free(struct node *n)
{
    if (!n)
        return;
    json_decref(n->spec);
    json_decref(n->description);
    free(n->status_message);
    free(n->addr);
    free(n->manager_addr);
    free(n->reachability);
    free(n);
}

struct service *service_new(void)
{
    struct service *s = xcalloc(1, sizeof(*s));
    return s;
}

void service_free(struct service *s)
{
    if (!s)
        return;
    json_decref(s->spec);
    json_decref(s->previous_spec);
    json_decref(s->task_spec);
    json_decref(s->update_status);
    json_decref(s->endpoint);
    free(s);
}

struct task *task_new(void)
{
    struct task *t = xcalloc(1, sizeof(*t));
    t->state = TASK_NEW;
    t->desired = TASK_RUNNING;
    return t;
}

void task_free(struct task *t)
{
    if (!t)
        return;
    json_decref(t->spec);
    free(t->message);
    free(t->error);
    json_decref(t->labels);
    json_decref(t->networks);
    json_decref(t->ports);
    free(t);
}

/* ---- meta ---- */

static json_t *time_json(int64_t ns)
{
    char s[TIME_STRLEN];
    time_fmt_rfc3339(ns, s);
    return json_string(s);
}

void meta_to_json(const struct obj_meta *m, json_t *out)
{
    json_object_set_new(out, "ID", json_string(m->id));
    json_t *v = json_object();
    json_object_set_new(v, "Index", json_integer((json_int_t)m->version));
    json_object_set_new(out, "Version", v);
    json_object_set_new(out, "CreatedAt", time_json(m->created_at));
    json_object_set_new(out, "UpdatedAt", time_json(m->updated_at));
}

static int parse_time_field(const json_t *j, const char *key, int64_t *out,
                            struct err *err)
{
    const char *s = jx_str(j, key);
    *out = 0;
    if (!s)
        return 0;
    if (time_parse_rfc3339(s, out) < 0)
        return err_set(err, ERR_INVALID, "invalid %s '%s'", key, s);
    return 0;
}

int meta_from_json(struct obj_meta *m, const json_t *j, struct err *err)
{
    const char *id = jx_str(j, "ID");
    if (!id || strlen(id) != ID_LEN)
        return err_set(err, ERR_INVALID, "object has no valid ID");
    memcpy(m->id, id, ID_LEN + 1);
    m->version = (uint64_t)jx_path_int(j, "Version.Index", 0);
    if (parse_time_field(j, "CreatedAt", &m->created_at, err) < 0 ||
        parse_time_field(j, "UpdatedAt", &m->updated_at, err) < 0)
        return -1;
    return 0;
}

static json_t *obj_or_empty(const json_t *j)
{
    return j ? json_incref((json_t *)j) : json_object();
}

static void set_str_or_null(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? xstrdup(s) : NULL;
}

/* ---- cluster ---- */

json_t *cluster_to_json(const struct cluster *c)
{
    json_t *j = json_object();
    meta_to_json(&c->meta, j);
    json_object_set_new(j, "Spec", obj_or_empty(c->spec));
    /* TLSInfo, RootRotationInProgress, DefaultAddrPool... are kept in
     * internal by their owners and copied out here when present. */
    const char *key;
    json_t *val;
    json_object_foreach(c->internal, key, val)
    {
        if (key[0] != '_')
            json_object_set(j, key, val);
    }
    return j;
}

json_t *cluster_encode(const struct cluster *c)
{
    json_t *j = json_object();
    meta_to_json(&c->meta, j);
    json_object_set_new(j, "Spec", obj_or_empty(c->spec));
    json_object_set_new(j, "_Internal", obj_or_empty(c->internal));
    return j;
}

struct cluster *cluster_decode(const json_t *j, struct err *err)
{
    struct cluster *c = cluster_new();
    if (meta_from_json(&c->meta, j, err) < 0) {
        cluster_free(c);
        return NULL;
    }
    json_t *spec = json_object_get(j, "Spec");
    json_t *internal = json_object_get(j, "_Internal");
    if (json_is_object(spec)) {
        json_decref(c->spec);
        c->spec = jx_copy(spec);
    }
    if (json_is_object(internal)) {
        json_decref(c->internal);
        c->internal = jx_copy(internal);
    }
    return c;
}

/* ---- node ---- */

static json_t *node_json(const struct node *n)
{
    json_t *j = json_object();
    meta_to_json(&n->meta, j);
    json_object_set_new(j, "Spec", obj_or_empty(n->spec));
    json_object_set_new(j, "Description", obj_or_empty(n->description));
    json_t *st = json_object();
    json_object_set_new(st, "State", json_string(node_state_name(n->state)));
    if (n->status_message && *n->status_message)
        json_object_set_new(st, "Message", json_string(n->status_message));
    json_object_set_new(st, "Addr", json_string(n->addr ? n->addr : ""));
    json_object_set_new(j, "Status", st);
    if (n->manager) {
        json_t *ms = json_object();
        if (n->leader)
            json_object_set_new(ms, "Leader", json_true());
        json_object_set_new(
            ms, "Reachability",
            json_string(n->reachability ? n->reachability : "reachable"));
        json_object_set_new(
            ms, "Addr", json_string(n->manager_addr ? n->manager_addr : ""));
        json_object_set_new(j, "ManagerStatus", ms);
    }
    return j;
}

json_t *node_to_json(const struct node *n)
{
    return node_json(n);
}

json_t *node_encode(const struct node *n)
{
    return node_json(n);
}

struct node *node_decode(const json_t *j, struct err *err)
{
    struct node *n = node_new();
    if (meta_from_json(&n->meta, j, err) < 0)
        goto fail;
    json_t *spec = json_object_get(j, "Spec");
    if (json_is_object(spec)) {
        json_decref(n->spec);
        n->spec = jx_copy(spec);
    }
    json_t *desc = json_object_get(j, "Description");
    if (json_is_object(desc)) {
        json_decref(n->description);
        n->description = jx_copy(desc);
    }
    const char *state = jx_path_str(j, "Status.State");
    int st = state ? node_state_parse(state) : NODE_UNKNOWN;
    if (st < 0) {
        err_set(err, ERR_INVALID, "invalid node state '%s'", state);
        goto fail;
    }
    n->state = (enum node_state)st;
    set_str_or_null(&n->status_message, jx_path_str(j, "Status.Message"));
    set_str_or_null(&n->addr, jx_path_str(j, "Status.Addr"));
    json_t *ms = json_object_get(j, "ManagerStatus");
    if (json_is_object(ms)) {
        n->manager = true;
        n->leader = jx_bool(ms, "Leader", false);
        set_str_or_null(&n->manager_addr, jx_str(ms, "Addr"));
        set_str_or_null(&n->reachability, jx_str(ms, "Reachability"));
    }
    return n;
fail:
    node_free(n);
    return NULL;
}

/* ---- service ---- */

int64_t service_replicas(const struct service *s)
{
    json_t *mode = jx_path(s->spec, "Mode");
    if (json_object_get(mode, "Global") || json_object_get(mode, "GlobalJob"))
        return -1;
    json_t *job = json_object_get(mode, "ReplicatedJob");
    if (job) {
        json_int_t conc = jx_int(job, "MaxConcurrent", 1);
        return jx_int(job, "TotalCompletions", conc);
    }
    return jx_path_int(s->spec, "Mode.Replicated.Replicas", 1);
}

bool service_is_global(const struct service *s)
{
    return jx_path(s->spec, "Mode.Global") != NULL ||
           jx_path(s->spec, "Mode.GlobalJob") != NULL;
}

bool service_is_job(const struct service *s)
{
    return jx_path(s->spec, "Mode.ReplicatedJob") != NULL ||
           jx_path(s->spec, "Mode.GlobalJob") != NULL;
}

/* Docker's insertDefaults=true view: the defaults swarmkit would apply,
 * written out (what `docker service inspect` shows). */
static void insert_defaults(json_t *spec)
{
    json_t *tt = jx_obj(spec, "TaskTemplate");
    json_t *cs = jx_obj(tt, "ContainerSpec");
    if (!json_object_get(cs, "StopGracePeriod"))
        json_object_set_new(cs, "StopGracePeriod",
                            json_integer(10 * NS_PER_SEC));
    json_t *rp = jx_obj(tt, "RestartPolicy");
    if (!json_object_get(rp, "Condition"))
        json_object_set_new(rp, "Condition", json_string("any"));
    if (!json_object_get(rp, "Delay"))
        json_object_set_new(rp, "Delay", json_integer(5 * NS_PER_SEC));
    if (!json_object_get(rp, "MaxAttempts"))
        json_object_set_new(rp, "MaxAttempts", json_integer(0));
    json_t *uc = jx_obj(spec, "UpdateConfig");
    static const char *const update_keys[] = {"UpdateConfig", "RollbackConfig"};
    for (size_t i = 0; i < ARRAY_SIZE(update_keys); i++) {
        uc = jx_obj(spec, update_keys[i]);
        if (!json_object_get(uc, "Parallelism"))
            json_object_set_new(uc, "Parallelism", json_integer(1));
        if (!json_object_get(uc, "FailureAction"))
            json_object_set_new(uc, "FailureAction", json_string("pause"));
        if (!json_object_get(uc, "Monitor"))
            json_object_set_new(uc, "Monitor", json_integer(5 * NS_PER_SEC));
        if (!json_object_get(uc, "MaxFailureRatio"))
            json_object_set_new(uc, "MaxFailureRatio", json_integer(0));
        if (!json_object_get(uc, "Order"))
            json_object_set_new(uc, "Order", json_string("stop-first"));
    }
    json_t *ep = jx_obj(spec, "EndpointSpec");
    if (!json_object_get(ep, "Mode"))
        json_object_set_new(ep, "Mode", json_string("vip"));
}

/* The registry credentials a service carries for its nodes' pulls
 * (ContainerSpec.PullOptions, from X-Registry-Auth) never leave through
 * the API, as in swarmkit: a copy of spec without them (or spec itself,
 * with a new reference, when it has none). */
static json_t *without_pull_options(json_t *spec)
{
    json_t *cs = jx_path(spec, "TaskTemplate.ContainerSpec");
    if (!cs)
        cs = json_object_get(spec, "ContainerSpec"); /* a task's spec */
    if (!json_object_get(cs, "PullOptions"))
        return json_incref(spec);
    json_t *copy = jx_copy(spec);
    json_t *ccs = jx_path(copy, "TaskTemplate.ContainerSpec");
    if (!ccs)
        ccs = json_object_get(copy, "ContainerSpec");
    json_object_del(ccs, "PullOptions");
    return copy;
}

static json_t *service_json(const struct service *s, bool insert, bool internal)
{
    json_t *j = json_object();
    meta_to_json(&s->meta, j);
    json_t *spec = insert     ? jx_copy(s->spec)
                   : internal ? json_incref(s->spec)
                              : without_pull_options(s->spec);
    if (insert) {
        insert_defaults(spec);
        json_object_del(jx_path(spec, "TaskTemplate.ContainerSpec"),
                        "PullOptions");
    }
    json_object_set_new(j, "Spec", spec);
    if (s->previous_spec)
        json_object_set_new(j, "PreviousSpec",
                            internal ? json_incref(s->previous_spec)
                                     : without_pull_options(s->previous_spec));
    if (s->endpoint) {
        json_object_set(j, "Endpoint", s->endpoint);
    } else {
        json_t *ep = json_object();
        json_t *es = json_object_get(s->spec, "EndpointSpec");
        json_object_set_new(ep, "Spec", es ? jx_copy(es) : json_object());
        json_object_set_new(j, "Endpoint", ep);
    }
    if (s->update_status)
        json_object_set(j, "UpdateStatus", s->update_status);
    if (!internal && service_is_job(s)) {
        /* Every change to a job's spec is a new iteration (apply.c). */
        char at[TIME_STRLEN];
        time_fmt_rfc3339(s->meta.updated_at, at);
        json_object_set_new(j, "JobStatus",
                            json_pack("{s:{s:I}, s:s}", "JobIteration", "Index",
                                      (json_int_t)s->spec_version,
                                      "LastExecution", at));
    }
    if (internal)
        json_object_set_new(j, "_SpecVersion",
                            json_integer((json_int_t)s->spec_version));
    return j;
}

json_t *service_to_json(const struct service *s, bool insert_defaults_)
{
    return service_json(s, insert_defaults_, false);
}

json_t *service_encode(const struct service *s)
{
    return service_json(s, false, true);
}

struct service *service_decode(const json_t *j, struct err *err)
{
    struct service *s = service_new();
    if (meta_from_json(&s->meta, j, err) < 0)
        goto fail;
    json_t *spec = json_object_get(j, "Spec");
    if (!json_is_object(spec)) {
        err_set(err, ERR_INVALID, "service has no Spec");
        goto fail;
    }
    s->spec = jx_copy(spec);
    s->name = jx_str(s->spec, "Name");
    if (!s->name) {
        err_set(err, ERR_INVALID, "service has no name");
        goto fail;
    }
    s->task_spec = json_incref(jx_obj(s->spec, "TaskTemplate"));
    json_t *prev = json_object_get(j, "PreviousSpec");
    if (json_is_object(prev))
        s->previous_spec = jx_copy(prev);
    json_t *us = json_object_get(j, "UpdateStatus");
    if (json_is_object(us))
        s->update_status = jx_copy(us);
    json_t *ep = json_object_get(j, "Endpoint");
    if (json_is_object(ep) && json_object_get(ep, "VirtualIPs"))
        s->endpoint = jx_copy(ep);
    s->spec_version = (uint64_t)jx_int(j, "_SpecVersion", 1);
    return s;
fail:
    service_free(s);
    return NULL;
}

/* ---- task ---- */

static const char *const HEALTH_NAMES[] = {"none", "starting", "healthy",
                                           "unhealthy"};

const char *task_health_name(enum task_health h)
{
    return (size_t)h < ARRAY_SIZE(HEALTH_NAMES) ? HEALTH_NAMES[h] : "none";
}

enum task_health task_health_parse(const char *s)
{
    for (size_t i = 0; s && i < ARRAY_SIZE(HEALTH_NAMES); i++)
        if (strcmp(s, HEALTH_NAMES[i]) == 0)
            return (enum task_health)i;
    return TASK_HEALTH_NONE;
}

static json_t *task_json(const struct task *t, bool with_spec, bool internal)
{
    json_t *j = json_object();
    meta_to_json(&t->meta, j);
    json_object_set_new(j, "Labels", obj_or_empty(t->labels));
    if (with_spec && !internal && t->spec)
        json_object_set_new(j, "Spec", without_pull_options(t->spec));
    else if (with_spec)
        json_object_set_new(j, "Spec", obj_or_empty(t->spec));
    json_object_set_new(j, "ServiceID", json_string(t->service_id));
    if (t->slot)
        json_object_set_new(j, "Slot", json_integer(t->slot));
    if (t->node_id[0])
        json_object_set_new(j, "NodeID", json_string(t->node_id));
    json_t *st = json_object();
    json_object_set_new(st, "Timestamp", time_json(t->status_ts));
    json_object_set_new(st, "State", json_string(task_state_name(t->state)));
    json_object_set_new(st, "Message",
                        json_string(t->message ? t->message : ""));
    if (t->error && *t->error)
        json_object_set_new(st, "Err", json_string(t->error));
    if (t->container_id[0]) {
        json_t *cs = json_object();
        json_object_set_new(cs, "ContainerID", json_string(t->container_id));
        json_object_set_new(cs, "PID", json_integer(t->pid));
        json_object_set_new(cs, "ExitCode", json_integer(t->exit_code));
        if (t->health != TASK_HEALTH_NONE)
            json_object_set_new(cs, "Health",
                                json_string(task_health_name(t->health)));
        json_object_set_new(st, "ContainerStatus", cs);
    }
    json_t *ps = json_object();
    if (json_array_size(t->ports))
        json_object_set(ps, "Ports", t->ports);
    json_object_set_new(st, "PortStatus", ps);
    json_object_set_new(j, "Status", st);
    json_object_set_new(j, "DesiredState",
                        json_string(task_state_name(t->desired)));
    if (t->networks)
        json_object_set(j, "NetworksAttachments", t->networks);
    if (internal) {
        json_object_set_new(j, "_SpecVersion",
                            json_integer((json_int_t)t->spec_version));
        if (t->restart_count)
            json_object_set_new(j, "_Restarts", json_integer(t->restart_count));
        if (t->restart_window_start)
            json_object_set_new(j, "_RestartWindowStart",
                                json_integer(t->restart_window_start));
        if (t->has_exit_code)
            json_object_set_new(j, "_Exited", json_true());
    }
    return j;
}

json_t *task_to_json(const struct task *t)
{
    return task_json(t, true, false);
}

json_t *task_encode(const struct task *t, bool with_spec)
{
    return task_json(t, with_spec, true);
}

static void copy_id(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

struct task *task_decode(const json_t *j, struct err *err)
{
    struct task *t = task_new();
    if (meta_from_json(&t->meta, j, err) < 0)
        goto fail;
    const char *sid = jx_str(j, "ServiceID");
    if (!sid || strlen(sid) != ID_LEN) {
        err_set(err, ERR_INVALID, "task %s has no valid ServiceID", t->meta.id);
        goto fail;
    }
    copy_id(t->service_id, sizeof(t->service_id), sid);
    const char *nid = jx_str(j, "NodeID");
    if (nid && strlen(nid) != ID_LEN) {
        err_set(err, ERR_INVALID, "task %s has an invalid NodeID", t->meta.id);
        goto fail;
    }
    copy_id(t->node_id, sizeof(t->node_id), nid);
    t->slot = (int)jx_int(j, "Slot", 0);
    json_t *spec = json_object_get(j, "Spec");
    if (json_is_object(spec))
        t->spec = json_incref(spec);
    json_t *labels = json_object_get(j, "Labels");
    if (json_is_object(labels) && json_object_size(labels))
        t->labels = jx_copy(labels);
    json_t *st = json_object_get(j, "Status");
    int state = task_state_parse(jx_str(st, "State"));
    int desired = task_state_parse(jx_str(j, "DesiredState"));
    if (state < 0 || desired < 0) {
        err_set(err, ERR_INVALID, "task %s has an invalid state", t->meta.id);
        goto fail;
    }
    t->state = (enum task_state)state;
    t->desired = (enum task_state)desired;
    if (parse_time_field(st, "Timestamp", &t->status_ts, err) < 0)
        goto fail;
    set_str_or_null(&t->message, jx_str(st, "Message"));
    set_str_or_null(&t->error, jx_str(st, "Err"));
    json_t *cs = json_object_get(st, "ContainerStatus");
    if (json_is_object(cs)) {
        copy_id(t->container_id, sizeof(t->container_id),
                jx_str(cs, "ContainerID"));
        t->pid = (int)jx_int(cs, "PID", 0);
        t->exit_code = (int)jx_int(cs, "ExitCode", 0);
        t->health = task_health_parse(jx_str(cs, "Health"));
    }
    json_t *ports = jx_path(st, "PortStatus.Ports");
    if (json_is_array(ports) && json_array_size(ports))
        t->ports = jx_copy(ports);
    json_t *nets = json_object_get(j, "NetworksAttachments");
    if (json_is_array(nets))
        t->networks = jx_copy(nets);
    t->spec_version = (uint64_t)jx_int(j, "_SpecVersion", 0);
    t->restart_count = (int)jx_int(j, "_Restarts", 0);
    t->restart_window_start = jx_int(j, "_RestartWindowStart", 0);
    t->has_exit_code = jx_bool(j, "_Exited", false);
    return t;
fail:
    task_free(t);
    return NULL;
}

/* ---- network ---- */

struct network *network_new(void)
{
    return xcalloc(1, sizeof(struct network));
}

void network_free(struct network *n)
{
    if (!n)
        return;
    json_decref(n->spec);
    free(n);
}

json_t *network_to_json(const struct network *n)
{
    json_t *j = json_object();
    meta_to_json(&n->meta, j);
    json_object_set_new(j, "Spec", obj_or_empty(n->spec));
    char vni[16];
    snprintf(vni, sizeof(vni), "%u", n->vni);
    json_object_set_new(
        j, "DriverState",
        json_pack("{s:s, s:{s:s}}", "Name", "overlay", "Options",
                  "com.docker.network.driver.overlay.vxlanid_list", vni));
    json_object_set_new(j, "IPAMOptions",
                        json_pack("{s:{s:s}, s:[{s:s, s:s}]}", "Driver", "Name",
                                  "default", "Configs", "Subnet", n->subnet,
                                  "Gateway", n->gateway));
    return j;
}

json_t *network_encode(const struct network *n)
{
    return network_to_json(n);
}

struct network *network_decode(const json_t *j, struct err *err)
{
    struct network *n = network_new();
    if (meta_from_json(&n->meta, j, err) < 0)
        goto fail;
    json_t *spec = json_object_get(j, "Spec");
    const char *name = jx_str(spec, "Name");
    if (!json_is_object(spec) || !name) {
        err_set(err, ERR_INVALID, "network has no name");
        goto fail;
    }
    n->spec = jx_copy(spec);
    n->name = jx_str(n->spec, "Name");
    n->ingress = jx_bool(n->spec, "Ingress", false);
    json_t *opts = jx_path(j, "DriverState.Options");
    const char *vlist =
        jx_str(opts, "com.docker.network.driver.overlay.vxlanid_list");
    n->vni = vlist ? (uint32_t)strtoul(vlist, NULL, 10) : 0;
    json_t *cfg = json_array_get(jx_path(j, "IPAMOptions.Configs"), 0);
    snprintf(n->subnet, sizeof(n->subnet), "%s", jx_str0(cfg, "Subnet"));
    snprintf(n->gateway, sizeof(n->gateway), "%s", jx_str0(cfg, "Gateway"));
    if (!n->vni || !n->subnet[0] || !n->gateway[0]) {
        err_set(err, ERR_INVALID, "network %s has no allocation", name);
        goto fail;
    }
    return n;
fail:
    network_free(n);
    return NULL;
}

/* ---- secrets and configs ---- */

struct secret *secret_new(enum store_kind kind)
{
    struct secret *x = xcalloc(1, sizeof(*x));
    x->kind = kind;
    return x;
}

void secret_free(struct secret *x)
{
    if (!x)
        return;
    json_decref(x->spec);
    free(x);
}

json_t *secret_to_json(const struct secret *x, bool with_data)
{
    json_t *j = json_object();
    meta_to_json(&x->meta, j);
    json_t *spec = jx_copy(x->spec);
    if (!json_object_get(spec, "Labels"))
        json_object_set_new(spec, "Labels", json_object());
    if (!with_data || x->kind == KIND_SECRET)
        json_object_del(spec, "Data");
    json_object_set_new(j, "Spec", spec);
    return j;
}

json_t *secret_encode(const struct secret *x)
{
    json_t *j = json_object();
    meta_to_json(&x->meta, j);
    json_object_set(j, "Spec", x->spec);
    return j;
}

struct secret *secret_decode(enum store_kind kind, const json_t *j,
                             struct err *err)
{
    struct secret *x = secret_new(kind);
    if (meta_from_json(&x->meta, j, err) < 0)
        goto fail;
    json_t *spec = json_object_get(j, "Spec");
    if (!json_is_object(spec) || !jx_str(spec, "Name")) {
        err_set(err, ERR_INVALID, "%s has no name", store_kind_name(kind));
        goto fail;
    }
    x->spec = jx_copy(spec);
    x->name = jx_str(x->spec, "Name");
    return x;
fail:
    secret_free(x);
    return NULL;
}

struct node *node_copy(const struct node *n)
{
    json_t *enc = node_encode(n);
    struct node *c = node_decode(enc, NULL);
    json_decref(enc);
    return c;
}

struct cluster *cluster_copy(const struct cluster *c)
{
    json_t *enc = cluster_encode(c);
    struct cluster *copy = cluster_decode(enc, NULL);
    json_decref(enc);
    return copy;
}
