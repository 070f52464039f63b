// SPDX-License-Identifier: Apache-2.0
// The swarm's lifecycle on this node: `swarm init` (a new cluster with this
// node as its only manager), reopening it after a restart, leaving it, and
// the glue between raft leadership, the manager's controllers and the
// agent. What a node must remember across restarts (its ids) is in
// <data-root>/swarm/state.json (swarm_state.c); the cluster state itself
// is in raft. The top of the swarm's files: those below reach back up
// only through the hooks it installs (struct swarm_hooks, daemon.h).
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "api/events.h"
#include "daemon/daemon.h"
#include "daemon/swarm_errors.h"
#include "daemon/swarm_identity.h"
#include "daemon/swarm_net.h"
#include "daemon/swarm_role.h"
#include "daemon/swarm_state.h"
#include "runtime/cgroup.h"
#include "cluster/seal.h"
#include "store/txn.h"

struct swarm_waiter {
    swarm_done_fn cb;
    void *data;
    json_t *request; /* swarm init / join request */
    bool init;
    struct pki_pair ca; /* init: the new root CA, for the cluster object */
};

/* ---- node facts ---- */

json_t *daemon_node_description(const struct daemon *d)
{
    struct sysinfo si;
    sysinfo(&si);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    json_t *plugins = json_array();
    static const char *const plugin_list[][2] = {
        {"Log", "json-file"}, {"Network", "bridge"},  {"Network", "host"},
        {"Network", "null"},  {"Network", "overlay"}, {"Volume", "local"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(plugin_list); i++)
        json_array_append_new(plugins,
                              json_pack("{s:s, s:s}", "Type", plugin_list[i][0],
                                        "Name", plugin_list[i][1]));
    return json_pack("{s:s, s:{s:s, s:s}, s:{s:I, s:I}, s:{s:s, s:o}}",
                     "Hostname", d->hostname, "Platform", "Architecture",
                     "x86_64", "OS", "linux", "Resources", "NanoCPUs",
                     (json_int_t)cpus * 1000000000, "MemoryBytes",
                     (json_int_t)si.totalram * si.mem_unit, "Engine",
                     "EngineVersion", SHOAL_VERSION, "Plugins", plugins);
}

static json_t *default_cluster_spec(const json_t *requested)
{
    json_t *spec =
        json_pack("{s:s, s:{}, s:{s:i}, s:{s:i, s:i, s:i, s:i, s:i}, s:{s:I}, "
                  "s:{s:I}, s:{}, s:{s:b}}",
                  "Name", "default", "Labels", "Orchestration",
                  "TaskHistoryRetentionLimit", 5, "Raft", "SnapshotInterval",
                  10000, "KeepOldSnapshots", 0, "LogEntriesForSlowFollowers",
                  500, "ElectionTick", 10, "HeartbeatTick", 1, "Dispatcher",
                  "HeartbeatPeriod", (json_int_t)5000000000LL, "CAConfig",
                  "NodeCertExpiry", (json_int_t)7776000000000000LL,
                  "TaskDefaults", "EncryptionConfig", "AutoLockManagers", 0);
    /* Merge what the request set, one level deep, like swarmkit's
     * defaults. */
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)requested, k, v)
    {
        json_t *cur = json_object_get(spec, k);
        if (json_is_object(cur) && json_is_object(v))
            json_object_update(cur, v);
        else if (!json_is_null(v))
            json_object_set(spec, k, v);
    }
    return spec;
}

/* ---- raft -> manager / agent glue ---- */

static void agent_sent(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    struct report_ctx {
        agent_sent_fn done;
        void *data;
    } *ctx = data;
    ctx->done(ctx->data, err == NULL || err->code != ERR_UNAVAILABLE);
    free(ctx);
}

static int agent_report(void *report_data, const char *txn, size_t len,
                        agent_sent_fn done, void *done_data)
{
    struct daemon *d = report_data;
    struct report_ctx {
        agent_sent_fn done;
        void *data;
    } *ctx = xcalloc(1, sizeof(*ctx));
    ctx->done = done;
    ctx->data = done_data;
    struct err err = {0};
    if (daemon_propose_text(d, txn, len, agent_sent, ctx, &err) < 0) {
        free(ctx);
        return -1;
    }
    return 0;
}

void swarm_add_waiter(struct daemon *d, const json_t *request, swarm_done_fn cb,
                      void *data)
{
    struct swarm_waiter *w = xcalloc(1, sizeof(*w));
    w->cb = cb;
    w->data = data;
    w->request = request ? json_incref((json_t *)request) : json_object();
    d->waiters = w;
}

void swarm_drop_waiter(struct daemon *d)
{
    struct swarm_waiter *w = d->waiters;
    if (w)
        w->cb = NULL;
    swarm_finish_waiter(d, NULL);
}

void swarm_finish_waiter(struct daemon *d, const struct err *err)
{
    struct swarm_waiter *w = d->waiters;
    if (!w)
        return;
    d->waiters = NULL;
    if (w->cb)
        w->cb(w->data, err);
    json_decref(w->request);
    pki_pair_clear(&w->ca);
    free(w);
}

static void container_action(void *data, const char *id, const char *action,
                             const char *key, const char *value)
{
    struct daemon *d = data;
    if (d->events)
        events_container(d->events, id, action, key, value);
}

static void start_agent(struct daemon *d)
{
    if (d->agent)
        return;
    struct err err = {0};
    struct agent_config cfg = {
        .loop = d->loop,
        .node_id = d->node_id,
        .data_root = d->cfg.data_root,
        .store = d->store,
        .runtime = d->runtime,
        .images = d->images,
        .registry = d->registry,
        .report = agent_report,
        .report_data = d,
        .on_action = container_action,
        .action_data = d,
    };
    d->agent = agent_new(&cfg, &err);
    if (!d->agent || agent_start(d->agent, &err) < 0)
        log_error("swarm: start agent: %s", err.msg);
}

static void bootstrapped(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    struct daemon *d = data;
    if (err) {
        log_error("swarm: initial state not committed: %s", err->msg);
        swarm_finish_waiter(d, err);
        return;
    }
    if (d->swarm != SWARM_ACTIVE) { /* not already, as a follower */
        d->swarm = SWARM_ACTIVE;
        log_info("swarm: active, node %s", d->node_id);
        start_agent(d);
    }
    swarm_finish_waiter(d, NULL);
}

/* The cluster object swarm init commits: spec, root CA, join tokens,
 * address pool. NULL (err set) if the tokens cannot be made. */
static struct cluster *
init_cluster(struct daemon *d, const struct swarm_waiter *w, struct err *err)
{
    const json_t *req = w->request;
    json_t *tokens = swarm_new_tokens(w->ca.cert_pem, err);
    if (!tokens)
        return NULL;
    struct cluster *c = cluster_new();
    snprintf(c->meta.id, sizeof(c->meta.id), "%s", d->cluster_id);
    json_decref(c->spec);
    c->spec = default_cluster_spec(json_object_get(req, "Spec"));
    json_object_set_new(c->internal, "JoinTokens", tokens);
    json_object_set_new(
        c->internal, "_RootCA",
        json_pack("{s:s, s:s}", "Cert", w->ca.cert_pem, "Key", w->ca.key_pem));
    json_object_set_new(c->internal, "TLSInfo",
                        json_pack("{s:s, s:s, s:s}", "TrustRoot",
                                  w->ca.cert_pem, "CertIssuerSubject", "",
                                  "CertIssuerPublicKey", ""));
    json_object_set_new(c->internal, "RootRotationInProgress", json_false());
    if (jx_bool(jx_obj(c->spec, "EncryptionConfig"), "AutoLockManagers",
                false)) {
        char *key = seal_new_unlock_key();
        json_object_set_new(c->internal, "_UnlockKey", json_string(key));
        free(key);
    }
    json_t *pools = json_object_get(req, "DefaultAddrPool");
    json_int_t subnet_size = jx_int(req, "SubnetSize", 0);
    json_object_set_new(c->internal, "DefaultAddrPool",
                        json_array_size(pools)
                            ? json_deep_copy(pools)
                            : json_pack("[s]", "10.0.0.0/8"));
    json_object_set_new(c->internal, "SubnetSize",
                        json_integer(subnet_size ? subnet_size : 24));
    json_int_t port = jx_int(req, "DataPathPort", 0);
    json_object_set_new(c->internal, "DataPathPort",
                        json_integer(port ? port : 4789));
    return c;
}

/* The routing mesh's network, as swarm init makes it: the first subnet
 * of the address pool. */
static void init_ingress(struct txn *txn, const struct cluster *c)
{
    const char *pool = json_string_value(
        json_array_get(json_object_get(c->internal, "DefaultAddrPool"), 0));
    int size = (int)jx_int(c->internal, "SubnetSize", 24);
    unsigned a = 10, b = 0, cc = 0, dd = 0;
    if (!pool || sscanf(pool, "%u.%u.%u.%u", &a, &b, &cc, &dd) != 4 ||
        a > 255 || b > 255 || cc > 255 || size < 8 || size > 29) {
        a = 10, b = cc = dd = 0;
        size = 24;
    }
    struct network *ingress = network_new();
    id_new(ingress->meta.id);
    ingress->spec = json_pack(
        "{s:s, s:{}, s:{s:s}, s:b, s:{s:{s:s}}, s:s}", "Name", "ingress",
        "Labels", "DriverConfiguration", "Name", "overlay", "Ingress", 1,
        "IPAMOptions", "Driver", "Name", "default", "Scope", "swarm");
    ingress->name = "ingress";
    ingress->ingress = true;
    ingress->vni = 4096;
    snprintf(ingress->subnet, sizeof(ingress->subnet), "%u.%u.%u.0/%d", a, b,
             cc, size);
    snprintf(ingress->gateway, sizeof(ingress->gateway), "%u.%u.%u.1", a, b,
             cc);
    txn_network_create(txn, ingress);
    network_free(ingress);
}

/* This manager became the leader: after swarm init, commit the cluster,
 * the ingress network and this node; always mark this node the ready
 * leader and the other managers not. */
static void on_leadership(struct daemon *d)
{
    struct txn txn;
    txn_init(&txn);
    struct err err = {0};
    struct swarm_waiter *w = d->waiters;
    if (w && w->init && !store_cluster(d->store)) {
        struct cluster *c = init_cluster(d, w, &err);
        if (!c) {
            txn_fini(&txn);
            swarm_finish_waiter(d, &err);
            return;
        }
        txn_cluster_put(&txn, c, 0);
        init_ingress(&txn, c);
        cluster_free(c);
    }
    size_t it = 0;
    void *o;
    while (store_next(d->store, KIND_NODE, &it, &o)) {
        const struct node *other = o;
        if (!other->leader || strcmp(other->meta.id, d->node_id) == 0)
            continue;
        struct node *n = node_copy(other);
        n->leader = false;
        txn_node_put(&txn, n);
        node_free(n);
    }
    struct node *self = store_node(d->store, d->node_id);
    struct node *n;
    if (self) {
        /* Back after a restart, or newly elected: fresh facts. */
        n = node_copy(self);
    } else {
        n = node_new();
        snprintf(n->meta.id, sizeof(n->meta.id), "%s", d->node_id);
        const char *avail = w ? jx_str(w->request, "Availability") : NULL;
        json_decref(n->spec);
        n->spec = json_pack("{s:{}, s:s, s:s}", "Labels", "Role", "manager",
                            "Availability", avail && *avail ? avail : "active");
        n->manager = true;
    }
    json_decref(n->description);
    n->description = daemon_node_description(d);
    n->state = NODE_READY;
    free(n->addr);
    n->addr = xstrdup(d->advertise_addr);
    n->leader = true;
    free(n->reachability);
    n->reachability = xstrdup("reachable");
    free(n->manager_addr);
    n->manager_addr = xstrdup(d->raft_addr);
    txn_node_put(&txn, n);
    node_free(n);
    if (daemon_propose_txn(d, &txn, bootstrapped, d, &err) < 0) {
        log_error("swarm: %s", err.msg);
        swarm_finish_waiter(d, &err);
    }
    txn_fini(&txn);
}

static void on_leader_change(void *data, bool is_leader)
{
    struct daemon *d = data;
    d->leader = is_leader;
    swarm_net_leadership(d, is_leader);
    if (!d->manager)
        return;
    if (is_leader) {
        manager_start(d->manager);
        on_leadership(d);
    } else {
        manager_stop(d->manager);
    }
}

/* A manager that follows (after a join or a restart) is active once the
 * replicated state has this node in it. */
/* A promoted node: its raft store caught up with its worker's copy, so
 * the full state replaces the copy in one step (the agent sees its tasks
 * stay) and raft applies to it from now on. */
static void catchup_done(struct daemon *d)
{
    struct buf b;
    buf_init(&b);
    store_snapshot(d->catchup_store, &b);
    struct err err = {0};
    if (store_restore(d->store, b.data, b.len, &err) < 0)
        log_error("swarm: taking over the raft state: %s", err.msg);
    buf_fini(&b);
    raftnode_set_store(d->raft, d->store);
    store_free(d->catchup_store);
    d->catchup_store = NULL;
    log_info("swarm: raft state caught up (index %llu)",
             (unsigned long long)store_index(d->store));
}

/* Autolock follows the cluster: this manager's secrets are sealed with
 * the current unlock key while it is on, plain when it is off. */
static void sync_autolock(struct daemon *d)
{
    const struct cluster *c = store_cluster(d->store);
    if (!c || !d->is_manager)
        return;
    bool on =
        jx_bool(jx_obj(c->spec, "EncryptionConfig"), "AutoLockManagers", false);
    const char *key = on ? jx_str(c->internal, "_UnlockKey") : NULL;
    if (on && !key)
        return;
    if (!key && !d->unlock_key)
        return;
    if (key && d->unlock_key && strcmp(key, d->unlock_key) == 0)
        return;
    struct err err = {0};
    if (swarm_identity_reseal(d, key, &err) < 0)
        log_error("swarm: autolock: %s", err.msg);
}

static void swarm_applied(struct daemon *d, uint64_t index, const void *entry,
                          size_t len)
{
    if (d->catchup_store) {
        if (index < store_index(d->store) || !raftnode_caught_up(d->raft))
            return;
        catchup_done(d);
    }
    swarm_net_applied(d, index, entry, len);
    if (d->swarm == SWARM_ACTIVE && (!d->raft || raftnode_caught_up(d->raft))) {
        swarm_role_check(d);
        sync_autolock(d);
        swarm_net_sync_ca(d);
    }
    /* A manager replaying its log after a restart is not active until the
     * replay is done: its agent would find its tasks missing. */
    /* A manager that leads (a lone one reopening) goes active from its
     * own first commit (bootstrapped), not as a follower. */
    if (d->swarm != SWARM_STARTING || (d->waiters && d->waiters->init) ||
        !store_node(d->store, d->node_id) || !store_cluster(d->store) ||
        (d->raft && !raftnode_caught_up(d->raft)) ||
        (d->raft && raftnode_is_leader(d->raft)))
        return;
    d->swarm = SWARM_ACTIVE;
    log_info("swarm: active, node %s (following)", d->node_id);
    start_agent(d);
    swarm_finish_waiter(d, NULL);
}

static void on_applied(void *data, uint64_t index, const void *entry,
                       size_t len)
{
    swarm_applied(data, index, entry, len);
}

/* A joining manager whose last entries were membership changes (its own
 * promotion to voter) is current without another entry applied: it goes
 * active now, not when the next write happens to reach the cluster. */
static void on_caught_up(void *data)
{
    struct daemon *d = data;
    swarm_applied(d, raftnode_last_applied(d->raft), NULL, 0);
}

/* ---- opening ---- */

static int swarm_start_role(struct daemon *d, bool bootstrap, struct err *err)
{
    _cleanup_free_ char *raft_dir = xasprintf("%s/raft", d->swarm_dir);
    if (swarm_net_start(d, err) < 0)
        return -1;
    if (!d->is_manager)
        return 0; /* a worker: its session with the leader fills the store */
    uint8_t data_key[32];
    if (swarm_data_key(d, data_key, err) < 0) {
        swarm_net_stop(d);
        return -1;
    }
    /* A promoted worker already has a copy of the state: raft catches up
     * in a store of its own first (see catchup_done). */
    if (!bootstrap && store_index(d->store) > 0)
        d->catchup_store = store_new();
    struct raftnode_config rc = {
        .loop = d->loop,
        .dir = raft_dir,
        .id = swarm_raft_id(d->node_id),
        .address = d->raft_addr,
        .store = d->catchup_store ? d->catchup_store : d->store,
        .on_leader_change = on_leader_change,
        .data = d,
        .dialer = swarm_net_dialer(d),
        .on_applied = on_applied,
        .on_caught_up = on_caught_up,
        .data_key = data_key,
    };
    d->raft = raftnode_new(&rc, err);
    OPENSSL_cleanse(data_key, sizeof(data_key));
    if (!d->raft)
        goto fail;
    if (bootstrap && raftnode_bootstrap(d->raft, err) < 0)
        goto fail;
    d->manager = manager_new(d->loop, d->store, d->raft);
    if (raftnode_start(d->raft, err) < 0)
        goto fail;
    return 0;
fail:
    /* raft could not start: nothing of it runs yet. */
    if (d->manager) {
        manager_close(d->manager, NULL, NULL);
        d->manager = NULL;
    }
    if (d->raft) {
        raftnode_close(d->raft, NULL, NULL);
        d->raft = NULL;
    }
    store_free(d->catchup_store);
    d->catchup_store = NULL;
    swarm_net_stop(d);
    return -1;
}

int swarm_open(struct daemon *d, bool bootstrap, struct err *err)
{
    d->store = store_new();
    events_follow(d->events, d->store);
    d->swarm = SWARM_STARTING;
    if (swarm_start_role(d, bootstrap, err) == 0)
        return 0;
    events_follow(d->events, NULL);
    store_free(d->store);
    d->store = NULL;
    d->swarm = SWARM_INACTIVE;
    return -1;
}

int swarm_reopen(struct daemon *d, struct err *err)
{
    bool found;
    if (swarm_load_state(d, &found, err) < 0)
        return -1;
    if (!found)
        return 0;
    if (d->is_manager && !d->unlock_key && swarm_identity_locked(d)) {
        d->swarm = SWARM_LOCKED;
        log_info("swarm: this manager is locked; `swarm unlock` with the "
                 "unlock key starts it");
        return 0;
    }
    log_info("swarm: reopening as node %s", d->node_id);
    return swarm_open(d, false, err);
}

int swarm_unlock(struct daemon *d, const char *key, struct err *err)
{
    if (d->swarm != SWARM_LOCKED)
        return err_set(err, ERR_INVALID,
                       d->swarm == SWARM_INACTIVE
                           ? "This node is not part of a "
                             "swarm"
                           : "swarm is not locked");
    if (swarm_identity_unlock(d, key, err) < 0)
        return -1;
    log_info("swarm: unlocked; reopening as node %s", d->node_id);
    d->swarm = SWARM_INACTIVE;
    return swarm_open(d, false, err);
}

int swarm_init(struct daemon *d, const json_t *request, swarm_done_fn cb,
               void *data, struct err *err)
{
    if (d->swarm != SWARM_INACTIVE)
        return err_set(err, ERR_UNAVAILABLE,
                       "This node is already part of a swarm. Use \"docker "
                       "swarm leave\" to leave this swarm and join another "
                       "one.");
    const char *avail = jx_str(request, "Availability");
    if (avail && *avail && strcmp(avail, "active") != 0 &&
        strcmp(avail, "pause") != 0 && strcmp(avail, "drain") != 0)
        return err_set(err, ERR_INVALID, "invalid availability '%s'", avail);
    if (swarm_set_addresses(d, request, err) < 0)
        return -1;
    id_new(d->node_id);
    id_new(d->cluster_id);
    d->is_manager = true;
    struct pki_pair ca = {0};
    if (swarm_save_state(d, err) < 0 ||
        swarm_new_ca(
            d,
            jx_int(jx_obj(json_object_get(request, "Spec"), "CAConfig"),
                   "NodeCertExpiry", 0),
            &ca, err) < 0) {
        struct err ignored = {0};
        fs_remove_tree(d->swarm_dir, &ignored);
        return -1;
    }
    swarm_add_waiter(d, request, cb, data);
    d->waiters->init = true;
    d->waiters->ca = ca;
    if (swarm_open(d, true, err) < 0) {
        struct swarm_waiter *w = d->waiters;
        d->waiters = NULL;
        json_decref(w->request);
        pki_pair_clear(&w->ca);
        free(w);
        struct err ignored = {0};
        fs_remove_tree(d->swarm_dir, &ignored);
        return -1;
    }
    log_info("swarm: initialising cluster %s", d->cluster_id);
    return 0;
}

bool swarm_is_manager(const struct daemon *d)
{
    return d->swarm == SWARM_ACTIVE && d->is_manager && d->raft;
}

int swarm_require_manager(const struct daemon *d, struct err *err)
{
    if (d->swarm == SWARM_LOCKED)
        return swarm_err_locked(err);
    if (d->swarm == SWARM_INACTIVE || d->swarm == SWARM_LEAVING)
        return err_set(err, ERR_UNAVAILABLE,
                       "This node is not a swarm manager. Use \"docker swarm "
                       "init\" or \"docker swarm join\" to connect this node "
                       "to swarm and try again.");
    if (!d->is_manager)
        return err_set(err, ERR_UNAVAILABLE,
                       "This node is not a swarm manager. Worker nodes can't "
                       "be used to view or modify cluster state. Please run "
                       "this command on a manager node or promote the "
                       "current node to a manager.");
    if (!swarm_is_manager(d))
        return swarm_err_no_leader(err);
    return 0;
}

int daemon_propose_text(struct daemon *d, const char *txn, size_t len,
                        raftnode_apply_fn cb, void *data, struct err *err)
{
    if (d->raft && raftnode_is_ready_leader(d->raft))
        return raftnode_propose(d->raft, txn, len, cb, data, err);
    return swarm_net_forward(d, txn, len, cb, data, err);
}

int daemon_propose_txn(struct daemon *d, const struct txn *txn,
                       raftnode_apply_fn cb, void *data, struct err *err)
{
    size_t len;
    _cleanup_free_ char *text = txn_encode(txn, &len);
    return daemon_propose_text(d, text, len, cb, data, err);
}

int daemon_propose(struct daemon *d, const struct txn *txn,
                   raftnode_apply_fn cb, void *data, struct err *err)
{
    if (swarm_require_manager(d, err) < 0)
        return -1;
    return daemon_propose_txn(d, txn, cb, data, err);
}

/* ---- what the files below call up into (daemon.h: struct swarm_hooks) ---- */

static const struct swarm_hooks lifecycle_hooks = {
    .propose_txn = daemon_propose_txn,
    .applied = swarm_applied,
    .start_role = swarm_start_role,
};

void swarm_hooks_init(struct daemon *d)
{
    d->hooks = &lifecycle_hooks;
}

/* ---- closing and leaving ---- */

struct close_ctx {
    struct daemon *d;
    bool leaving;
    void (*cb)(void *);
    void *data;
    swarm_done_fn done;
    void *done_data;
};

static void manager_closed(void *data)
{
    struct close_ctx *c = data;
    struct daemon *d = c->d;
    if (d->agent) {
        agent_free(d->agent);
        d->agent = NULL;
    }
    events_follow(d->events, NULL);
    store_free(d->store);
    d->store = NULL;
    store_free(d->catchup_store);
    d->catchup_store = NULL;
    json_decref(d->join_remotes);
    d->join_remotes = NULL;
    if (c->leaving) {
        free(d->unlock_key);
        d->unlock_key = NULL;
        struct err err = {0};
        if (fs_remove_tree(d->swarm_dir, &err) < 0)
            log_warn("swarm: %s", err.msg);
        /* Every container is gone: the node's cgroup parent goes too. */
        err_clear(&err);
        if (cgroup_parent_remove(d->cgroup_parent, &err) < 0)
            log_warn("swarm: %s", err.msg);
        memset(d->node_id, 0, sizeof(d->node_id));
        memset(d->cluster_id, 0, sizeof(d->cluster_id));
        log_info("swarm: left");
    }
    d->swarm = SWARM_INACTIVE;
    d->leader = false;
    if (c->cb)
        c->cb(c->data);
    if (c->done)
        c->done(c->done_data, NULL);
    free(c);
}

static void raft_closed(void *data)
{
    struct close_ctx *c = data;
    struct daemon *d = c->d;
    d->raft = NULL;
    swarm_net_stop(d);
    struct manager *m = d->manager;
    d->manager = NULL;
    if (m)
        manager_close(m, manager_closed, c);
    else
        manager_closed(c);
}

static void close_raft(struct close_ctx *c)
{
    struct daemon *d = c->d;
    struct err err = {.code = ERR_UNAVAILABLE};
    snprintf(err.msg, sizeof(err.msg), "swarm is shutting down");
    swarm_finish_waiter(d, &err);
    if (d->manager)
        manager_stop(d->manager);
    if (d->raft)
        raftnode_close(d->raft, raft_closed, c);
    else
        raft_closed(c);
}

void swarm_close(struct daemon *d, void (*cb)(void *), void *data)
{
    struct close_ctx *c = xcalloc(1, sizeof(*c));
    c->d = d;
    c->cb = cb;
    c->data = data;
    if (d->swarm == SWARM_INACTIVE) {
        manager_closed(c);
        return;
    }
    if (d->agent)
        agent_stop(d->agent);
    close_raft(c);
}

static void containers_removed(void *data)
{
    close_raft(data);
}

static void leave_locally(struct close_ctx *c)
{
    struct daemon *d = c->d;
    if (d->manager)
        manager_stop(d->manager);
    if (d->agent)
        agent_remove_all(d->agent, containers_removed, c);
    else
        close_raft(c);
}

/* The leader took this node out of raft and marked it down (or could not:
 * the node leaves anyway, as with --force). */
static void left_cluster(void *data, const struct err *err,
                         const json_t *result)
{
    (void)result;
    struct close_ctx *c = data;
    if (err)
        log_warn("swarm: leaving: the leader did not answer: %s", err->msg);
    leave_locally(c);
}

static void left_raft(void *data, const struct err *err)
{
    left_cluster(data, err, NULL);
}

/* Docker's checks before a manager leaves: not the last one, and not
 * breaking the quorum of those left (unless forced). */
static int check_manager_leave(struct daemon *d, struct err *err)
{
    int managers = 0, reachable = 0;
    size_t it = 0;
    void *o;
    while (d->store && store_next(d->store, KIND_NODE, &it, &o)) {
        const struct node *n = o;
        if (!n->manager)
            continue;
        managers++;
        reachable += n->state == NODE_READY;
    }
    /* Without a leader the store cannot say who is gone: only this one
     * is known to be up. */
    if (!d->raft || !raftnode_leader(d->raft, NULL, NULL, 0))
        reachable = 1;
    if (managers <= 1)
        return err_set(
            err, ERR_UNAVAILABLE,
            "You are attempting to leave the swarm on a node that is "
            "participating as a manager. Removing the last manager erases "
            "all current state of the swarm. Use `--force` to ignore this "
            "message.");
    if (reachable - 1 < (managers - 1) / 2 + 1)
        return err_set(
            err, ERR_UNAVAILABLE,
            "You are attempting to leave the swarm on a node that is "
            "participating as a manager. Removing this node leaves %d "
            "managers out of %d. Without a Raft quorum your swarm will be "
            "inaccessible. The only way to restore a swarm that has lost "
            "consensus is to reinitialize it with `--force-new-cluster`. "
            "Use `--force` to suppress this message.",
            reachable - 1, managers);
    return 0;
}

int swarm_leave(struct daemon *d, bool force, swarm_done_fn cb, void *data,
                struct err *err)
{
    if (d->swarm == SWARM_INACTIVE || d->swarm == SWARM_LEAVING)
        return err_set(err, ERR_UNAVAILABLE,
                       "This node is not part of a swarm");
    if (d->swarm == SWARM_LOCKED) {
        /* Nothing runs: forget the swarm's data (Docker needs --force). */
        if (!force)
            return err_set(err, ERR_UNAVAILABLE,
                           "Swarm is encrypted and locked. Use `--force` to "
                           "leave it anyway.");
        struct err e = {0};
        if (fs_remove_tree(d->swarm_dir, &e) < 0)
            log_warn("swarm: %s", e.msg);
        d->swarm = SWARM_INACTIVE;
        memset(d->node_id, 0, sizeof(d->node_id));
        memset(d->cluster_id, 0, sizeof(d->cluster_id));
        cb(data, NULL);
        return 0;
    }
    if (!force && d->is_manager && check_manager_leave(d, err) < 0)
        return -1;
    d->swarm = SWARM_LEAVING;
    struct close_ctx *c = xcalloc(1, sizeof(*c));
    c->d = d;
    c->leaving = true;
    c->done = cb;
    c->done_data = data;
    struct err e = {0};
    if (d->raft && raftnode_is_ready_leader(d->raft)) {
        /* The leader takes itself out; another manager then leads. */
        if (raftnode_remove(d->raft, swarm_raft_id(d->node_id), left_raft, c,
                            &e) == 0)
            return 0;
    } else if (swarm_net_call_leader(d, "leave", NULL, 5000, left_cluster, c,
                                     &e) == 0) {
        return 0;
    }
    log_warn("swarm: leaving without telling the leader: %s", e.msg);
    leave_locally(c);
    return 0;
}
