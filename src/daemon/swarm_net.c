// SPDX-License-Identifier: Apache-2.0
// The cluster port of this node (see swarm_net.h): TLS contexts, the
// methods other nodes call, raft streams, forwarding writes to the leader,
// heartbeats and certificate renewal.
#include "daemon/swarm_net.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include "base/id.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cluster/rpc.h"
#include "daemon/dispatch.h"
#include "daemon/swarm_errors.h"
#include "daemon/swarm_identity.h"
#include "daemon/swarm_liveness.h"
#include "daemon/swarm_wait.h"
#include "store/txn.h"

#define FORWARD_TIMEOUT_MS 15000
#define JOIN_TIMEOUT_MS    20000

struct swarm_net {
    struct daemon *d;
    char *ca_pem;
    struct pki_pair own; /* node certificate + CA (bundle), key */
    struct pki_identity id;
    SSL_CTX *srv_ctx, *cli_ctx;
    struct rpc_server *srv;
    struct rpc_client *leader; /* to the leader, for forwards/heartbeats */
    struct raftnode_dialer dialer;
    uv_timer_t timer; /* heartbeats (sending, or watching as leader) */
    bool timer_closing;
    bool leading;
    bool hb_in_flight;
    uv_timer_t renew_timer; /* certificate renewal */
    char *renew_key;        /* the key of the request in flight */
    bool stopping;
    bool finishing_rotation;
    bool renew_soon;       /* renew_now scheduled for a new root */
    unsigned identity_gen; /* bumped by each load of the identity */
    uint64_t ca_checked_version;
    unsigned ca_checked_gen;
    int closing; /* handles left to close */
};

uint64_t swarm_raft_id(const char *node_id)
{
    return id_hash64(node_id) | 1;
}

static int64_t cert_expiry_s(const struct cluster *c)
{
    int64_t s = c ? jx_int(jx_obj(c->spec, "CAConfig"), "NodeCertExpiry", 0) /
                        1000000000
                  : 0;
    return s > 0 ? s : 90LL * 24 * 3600;
}

/* The CAs a node trusts: the root, and during a rotation also the one
 * before it (malloc'd PEM bundle, the current root first). */
static char *trust_bundle(const struct cluster *c)
{
    const char *root =
        c ? jx_str(jx_obj(c->internal, "TLSInfo"), "TrustRoot") : NULL;
    const char *prev = c ? jx_str(c->internal, "_PrevTrustRoot") : NULL;
    return xasprintf("%s%s", root ? root : "", prev ? prev : "");
}

/* Records in the node's description which root signed its certificate
 * (Docker's Description.TLSInfo): the leader ends a rotation once every
 * node shows the new one. */
static void set_trust_root(struct node *nd, const struct cluster *c)
{
    const char *root =
        c ? jx_str(jx_obj(c->internal, "TLSInfo"), "TrustRoot") : NULL;
    if (!json_is_object(nd->description)) {
        json_decref(nd->description);
        nd->description = json_object();
    }
    json_object_set_new(nd->description, "TLSInfo",
                        json_pack("{s:s, s:s, s:s}", "TrustRoot",
                                  root ? root : "", "CertIssuerSubject", "",
                                  "CertIssuerPublicKey", ""));
}

/* Commits one node record (nd taken). */
static int put_node(struct daemon *d, struct node *nd, raftnode_apply_fn cb,
                    void *data, struct err *err)
{
    struct txn txn;
    txn_init(&txn);
    txn_node_put(&txn, nd);
    node_free(nd);
    int rc = d->hooks->propose_txn(d, &txn, cb, data, err);
    txn_fini(&txn);
    return rc;
}

static int load_identity(struct swarm_net *n, struct err *err)
{
    struct daemon *d = n->d;
    n->identity_gen++;
    free(n->ca_pem);
    n->ca_pem = NULL;
    pki_pair_clear(&n->own);
    if (swarm_identity_load(d, &n->ca_pem, &n->own, err) < 0 ||
        pki_cert_identity(n->own.cert_pem, &n->id, err) < 0)
        return -1;
    n->srv_ctx = pki_ctx_mutual(true, n->ca_pem, &n->own, err);
    if (!n->srv_ctx)
        return -1;
    /* Joiners have no certificate yet: ask for one, need none; methods
     * check what they need (rpc.c). */
    SSL_CTX_set_verify(n->srv_ctx, SSL_VERIFY_PEER, NULL);
    n->cli_ctx = pki_ctx_mutual(false, n->ca_pem, &n->own, err);
    return n->cli_ctx ? 0 : -1;
}

/* An entry was applied: the workers' sessions get it (leader), and the
 * writes forwarded from here that waited for it are answered. */
void swarm_net_applied(struct daemon *d, uint64_t index, const void *entry,
                       size_t len)
{
    struct swarm_net *n = d->net;
    if (!n)
        return;
    if (n->leading && entry)
        dispatch_applied(d, index, entry, len);
    swarm_wait_applied(d, index);
}

/* ---- the leader connection ---- */

static struct rpc_client *leader_client(struct swarm_net *n, struct err *err)
{
    char addr[128];
    struct daemon *d = n->d;
    if (!d->raft || !raftnode_leader(d->raft, NULL, addr, sizeof(addr))) {
        swarm_err_no_leader(err);
        return NULL;
    }
    if (n->leader && (!rpc_client_alive(n->leader) ||
                      strcmp(rpc_client_address(n->leader), addr) != 0)) {
        rpc_client_free(n->leader);
        n->leader = NULL;
    }
    if (!n->leader)
        n->leader = rpc_client_new(d->loop, addr, n->cli_ctx, NULL, NULL, err);
    return n->leader;
}

struct forward {
    struct swarm_net *n;
    raftnode_apply_fn cb;
    void *data;
};

static void forwarded(void *data, const struct err *err, const json_t *result)
{
    struct forward *f = data;
    if (err) {
        f->cb(f->data, err, 0);
    } else {
        uint64_t index = (uint64_t)jx_int(result, "Index", 0);
        swarm_wait_index(f->n->d, index, f->cb, f->data);
    }
    free(f);
}

int swarm_net_forward(struct daemon *d, const char *txn, size_t len,
                      raftnode_apply_fn cb, void *data, struct err *err)
{
    struct swarm_net *n = d->net;
    if (!n)
        return swarm_err_no_leader(err);
    if (!d->is_manager)
        return worker_session_propose(d, txn, len, cb, data, err);
    struct rpc_client *c = leader_client(n, err);
    if (!c)
        return -1;
    struct forward *f = xcalloc(1, sizeof(*f));
    f->n = n;
    f->cb = cb;
    f->data = data;
    rpc_client_call(c, "propose", json_pack("{s:s%}", "Txn", txn, len),
                    FORWARD_TIMEOUT_MS, forwarded, f);
    return 0;
}

/* ---- methods ---- */

struct call_ctx {
    struct swarm_net *n;
    struct rpc_call *call;
    char node_id[ID_LEN + 1];
    bool manager;
    char raft_addr[128];
    json_t *reply;
};

static void relay(void *data, const struct err *err, const json_t *result)
{
    struct rpc_call *call = data;
    rpc_reply(call, result, err);
}

/* Passes a call on to the leader when this manager is not it. Returns
 * true if it did (or failed: the call is answered either way). */
static bool pass_to_leader(struct swarm_net *n, struct rpc_call *call,
                           const char *method, const json_t *params)
{
    if (n->d->raft && raftnode_is_ready_leader(n->d->raft))
        return false;
    struct err err = {0};
    struct rpc_client *c = leader_client(n, &err);
    if (!c) {
        rpc_reply(call, NULL, &err);
        return true;
    }
    rpc_client_call(c, method, json_deep_copy(params), FORWARD_TIMEOUT_MS,
                    relay, call);
    return true;
}

static void proposed(void *data, const struct err *err, uint64_t index)
{
    struct rpc_call *call = data;
    if (err) {
        rpc_reply(call, NULL, err);
        return;
    }
    _cleanup_json_ json_t *r = json_pack("{s:I}", "Index", (json_int_t)index);
    rpc_reply(call, r, NULL);
}

/* A worker may only report the status of its own tasks. */
static bool worker_may_propose(struct swarm_net *n, const char *node_id,
                               const json_t *txn)
{
    size_t i;
    json_t *op;
    json_array_foreach(json_object_get(txn, "ops"), i, op)
    {
        const char *name = jx_str(op, "op");
        const char *id = jx_str(op, "id");
        const struct task *t = id ? store_task(n->d->store, id) : NULL;
        if (!name || strcmp(name, "task.status") != 0 || !t ||
            strcmp(t->node_id, node_id) != 0)
            return false;
    }
    return true;
}

static void m_propose(void *data, struct rpc_call *call, const json_t *params)
{
    struct swarm_net *n = data;
    struct err err = {0};
    const char *txn = jx_str(params, "Txn");
    const struct pki_identity *peer = rpc_call_peer(call);
    if (!txn) {
        err_set(&err, ERR_INVALID, "propose: no transaction");
        rpc_reply(call, NULL, &err);
        return;
    }
    if (strcmp(peer->ou, PKI_OU_MANAGER) != 0) {
        _cleanup_json_ json_t *j = json_loads(txn, 0, NULL);
        if (!n->d->store || !worker_may_propose(n, peer->node_id, j)) {
            err_set(&err, ERR_FORBIDDEN,
                    "Permission denied: a worker may only report the "
                    "status of its own tasks");
            rpc_reply(call, NULL, &err);
            return;
        }
    }
    if (pass_to_leader(n, call, "propose", params))
        return;
    if (raftnode_propose(n->d->raft, txn, strlen(txn), proposed, call, &err) <
        0)
        rpc_reply(call, NULL, &err);
}

/* Adding a joined manager as a raft voter: it must be up and reachable
 * to catch up, so failures are retried for a while. */
struct voter_add {
    struct swarm_net *n;
    char node_id[ID_LEN + 1];
    char addr[128];
    int attempts;
    uv_timer_t retry;
};

static void voter_add_start(struct voter_add *va);

static void voter_add_freed(uv_handle_t *h)
{
    free(h->data);
}

static void voter_add_retry(uv_timer_t *t)
{
    voter_add_start(t->data);
}

static void voter_added(void *data, const struct err *err)
{
    struct voter_add *va = data;
    if (!err) {
        log_info("cluster: manager %s is a raft voter", va->node_id);
    } else if (++va->attempts < 20 && va->n->leading) {
        log_debug("cluster: adding manager %s to raft (will retry): %s",
                  va->node_id, err->msg);
        uv_timer_start(&va->retry, voter_add_retry, 500, 0);
        return;
    } else {
        log_warn("cluster: adding manager %s to raft: %s", va->node_id,
                 err->msg);
    }
    uv_close((uv_handle_t *)&va->retry, voter_add_freed);
}

static void voter_add_start(struct voter_add *va)
{
    struct err err = {0};
    struct daemon *d = va->n->d;
    if (!d->raft || raftnode_add_voter(d->raft, swarm_raft_id(va->node_id),
                                       va->addr, voter_added, va, &err) < 0) {
        if (!err_is_set(&err))
            swarm_err_no_leader(&err);
        voter_added(va, &err);
    }
}

/* A manager that joins again at the address of an older self: the old
 * raft member goes first (raft refuses two servers at one address). */
static void remove_stale_voter(struct swarm_net *n, const char *addr,
                               uint64_t new_id)
{
    struct raftnode_server servers[64];
    size_t k = raftnode_servers(n->d->raft, servers, 64);
    for (size_t i = 0; i < k; i++) {
        if (servers[i].id == new_id || strcmp(servers[i].address, addr) != 0)
            continue;
        struct err err = {0};
        log_info("cluster: raft member at %s replaced by a new node", addr);
        if (raftnode_remove(n->d->raft, servers[i].id, NULL, NULL, &err) < 0)
            log_warn("cluster: %s", err.msg);
    }
}

static void add_voter(struct swarm_net *n, const char *node_id,
                      const char *addr)
{
    struct voter_add *va = xcalloc(1, sizeof(*va));
    va->n = n;
    snprintf(va->node_id, sizeof(va->node_id), "%s", node_id);
    snprintf(va->addr, sizeof(va->addr), "%s", addr);
    uv_timer_init(n->d->loop, &va->retry);
    va->retry.data = va;
    remove_stale_voter(n, addr, swarm_raft_id(node_id));
    voter_add_start(va);
}

static void join_committed(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    struct call_ctx *cx = data;
    struct swarm_net *n = cx->n;
    if (err) {
        rpc_reply(cx->call, NULL, err);
    } else {
        rpc_reply(cx->call, cx->reply, NULL);
        log_info("cluster: node %s joined as %s", cx->node_id,
                 cx->manager ? "manager" : "worker");
        if (cx->manager)
            add_voter(n, cx->node_id, cx->raft_addr);
    }
    json_decref(cx->reply);
    free(cx);
}

/* Compares a presented join token with a cluster's in constant time (no
 * hint about how much of the secret matched). */
static bool token_equal(const char *given, const char *want)
{
    if (!given || !want || strlen(given) != strlen(want))
        return false;
    return CRYPTO_memcmp(given, want, strlen(want)) == 0;
}

static void m_join(void *data, struct rpc_call *call, const json_t *params)
{
    struct swarm_net *n = data;
    struct daemon *d = n->d;
    struct err err = {0};
    if (!d->store || d->swarm != SWARM_ACTIVE) {
        swarm_err_no_leader(&err);
        rpc_reply(call, NULL, &err);
        return;
    }
    if (pass_to_leader(n, call, "join", params))
        return;
    const struct cluster *c = store_cluster(d->store);
    const json_t *tokens = c ? jx_obj(c->internal, "JoinTokens") : NULL;
    const json_t *ca = c ? jx_obj(c->internal, "_RootCA") : NULL;
    const char *token = jx_str(params, "Token");
    const char *csr = jx_str(params, "CSR");
    const char *addr = jx_str(params, "Addr");
    bool manager;
    if (token_equal(token, jx_str(tokens, "Manager")))
        manager = true;
    else if (token_equal(token, jx_str(tokens, "Worker")))
        manager = false;
    else {
        err_set(&err, ERR_INVALID,
                "rpc error: code = InvalidArgument desc = A valid join token "
                "is necessary to join this cluster");
        rpc_reply(call, NULL, &err);
        return;
    }
    if (!csr || !addr || !*addr || !jx_str(ca, "Cert") || !jx_str(ca, "Key")) {
        err_set(&err, ERR_INVALID,
                "rpc error: code = InvalidArgument desc = a join needs a "
                "certificate request and the node's address");
        rpc_reply(call, NULL, &err);
        return;
    }
    struct call_ctx *cx = xcalloc(1, sizeof(*cx));
    cx->n = n;
    cx->call = call;
    cx->manager = manager;
    id_new(cx->node_id);
    int64_t expiry_s = cert_expiry_s(c);
    struct pki_pair capair = {.cert_pem = (char *)jx_str(ca, "Cert"),
                              .key_pem = (char *)jx_str(ca, "Key")};
    _cleanup_free_ char *cert = NULL;
    if (pki_csr_sign(&capair, csr, cx->node_id,
                     manager ? PKI_OU_MANAGER : PKI_OU_WORKER, d->cluster_id,
                     expiry_s, &cert, &err) < 0) {
        free(cx);
        rpc_reply(call, NULL, &err);
        return;
    }
    uint16_t port = (uint16_t)jx_int(params, "Port", DEFAULT_CLUSTER_PORT);
    snprintf(cx->raft_addr, sizeof(cx->raft_addr), "%s:%u", addr, port);
    struct node *nd = node_new();
    snprintf(nd->meta.id, sizeof(nd->meta.id), "%s", cx->node_id);
    const char *avail = jx_str(params, "Availability");
    json_decref(nd->spec);
    nd->spec = json_pack("{s:{}, s:s, s:s}", "Labels", "Role",
                         manager ? "manager" : "worker", "Availability",
                         avail && *avail ? avail : "active");
    json_t *desc = json_object_get(params, "Description");
    if (json_is_object(desc)) {
        json_decref(nd->description);
        nd->description = json_deep_copy(desc);
    }
    set_trust_root(nd, c);
    nd->state = NODE_READY;
    nd->addr = xstrdup(addr);
    nd->manager = manager;
    if (manager) {
        nd->manager_addr = xstrdup(cx->raft_addr);
        nd->reachability = xstrdup("reachable");
    }
    _cleanup_free_ char *bundle = trust_bundle(c);
    cx->reply =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "NodeID", cx->node_id,
                  "ClusterID", d->cluster_id, "Role",
                  manager ? "manager" : "worker", "Cert", cert, "CA", bundle);
    if (put_node(d, nd, join_committed, cx, &err) < 0) {
        json_decref(cx->reply);
        free(cx);
        rpc_reply(call, NULL, &err);
    }
}

static void m_heartbeat(void *data, struct rpc_call *call, const json_t *params)
{
    (void)params;
    struct swarm_net *n = data;
    struct err err = {0};
    if (!n->leading) {
        swarm_err_not_leader(&err);
        rpc_reply(call, NULL, &err);
        return;
    }
    swarm_liveness_heard(n->d, rpc_call_peer(call)->node_id);
    _cleanup_json_ json_t *r = json_pack(
        "{s:I}", "Period", (json_int_t)swarm_heartbeat_ms(n->d) * 1000000);
    rpc_reply(call, r, NULL);
}

int swarm_net_call_leader(struct daemon *d, const char *method, json_t *params,
                          unsigned timeout_ms, rpc_result_fn cb, void *data,
                          struct err *err)
{
    if (!d->is_manager)
        return worker_session_call(d, method, params, timeout_ms, cb, data,
                                   err);
    struct rpc_client *c = d->net ? leader_client(d->net, err) : NULL;
    if (!c) {
        json_decref(params);
        if (!d->net)
            swarm_err_no_leader(err);
        return -1;
    }
    rpc_client_call(c, method, params, timeout_ms, cb, data);
    return 0;
}

/* ---- renew: a certificate for the node's role (promote / demote) ---- */

struct renew {
    struct swarm_net *n;
    struct rpc_call *call;
    char node_id[ID_LEN + 1];
    char raft_addr[128];
    bool manager;
    char *cert;
};

static void renew_free(struct renew *r)
{
    free(r->cert);
    free(r);
}

static void renew_committed(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    struct renew *r = data;
    if (err) {
        rpc_reply(r->call, NULL, err);
        renew_free(r);
        return;
    }
    const struct cluster *c = store_cluster(r->n->d->store);
    _cleanup_free_ char *bundle = trust_bundle(c);
    _cleanup_json_ json_t *res =
        json_pack("{s:s, s:s, s:s}", "Cert", r->cert, "CA", bundle, "Role",
                  r->manager ? "manager" : "worker");
    rpc_reply(r->call, res, NULL);
    log_info("cluster: node %s is now a %s", r->node_id,
             r->manager ? "manager" : "worker");
    if (r->manager)
        add_voter(r->n, r->node_id, r->raft_addr);
    renew_free(r);
}

/* Records the node's new role (after a demoted manager left raft). */
static void renew_commit_role(struct renew *r)
{
    struct daemon *d = r->n->d;
    struct err err = {0};
    const struct node *old = store_node(d->store, r->node_id);
    if (!old) {
        err_set(&err, ERR_NOTFOUND, "node %s not found", r->node_id);
        rpc_reply(r->call, NULL, &err);
        renew_free(r);
        return;
    }
    struct node *nd = node_copy(old);
    nd->manager = r->manager;
    nd->leader = false;
    free(nd->manager_addr);
    free(nd->reachability);
    nd->manager_addr = r->manager ? xstrdup(r->raft_addr) : NULL;
    nd->reachability = r->manager ? xstrdup("reachable") : NULL;
    set_trust_root(nd, store_cluster(d->store));
    if (put_node(d, nd, renew_committed, r, &err) < 0) {
        rpc_reply(r->call, NULL, &err);
        renew_free(r);
    }
}

static void renew_left_raft(void *data, const struct err *err)
{
    struct renew *r = data;
    if (err) {
        rpc_reply(r->call, NULL, err);
        renew_free(r);
        return;
    }
    renew_commit_role(r);
}

static void m_renew(void *data, struct rpc_call *call, const json_t *params)
{
    struct swarm_net *n = data;
    struct daemon *d = n->d;
    struct err err = {0};
    if (pass_to_leader(n, call, "renew", params))
        return;
    const struct pki_identity *peer = rpc_call_peer(call);
    const struct node *nd = store_node(d->store, peer->node_id);
    const struct cluster *c = store_cluster(d->store);
    const json_t *ca = c ? jx_obj(c->internal, "_RootCA") : NULL;
    const char *csr = jx_str(params, "CSR");
    if (!nd || !csr || !jx_str(ca, "Key")) {
        err_set(&err, ERR_INVALID, "renew: unknown node or no request");
        rpc_reply(call, NULL, &err);
        return;
    }
    if (strcmp(peer->node_id, d->node_id) == 0) {
        err_set(&err, ERR_INVALID,
                "renew: the leader cannot change its own "
                "role; another manager must lead first");
        rpc_reply(call, NULL, &err);
        return;
    }
    const char *role = jx_str(nd->spec, "Role");
    struct renew *r = xcalloc(1, sizeof(*r));
    r->n = n;
    r->call = call;
    r->manager = role && strcmp(role, "manager") == 0;
    snprintf(r->node_id, sizeof(r->node_id), "%s", nd->meta.id);
    snprintf(r->raft_addr, sizeof(r->raft_addr), "%s:%d", nd->addr,
             (int)jx_int(params, "Port", DEFAULT_CLUSTER_PORT));
    int64_t expiry_s = cert_expiry_s(c);
    struct pki_pair capair = {.cert_pem = (char *)jx_str(ca, "Cert"),
                              .key_pem = (char *)jx_str(ca, "Key")};
    if (pki_csr_sign(&capair, csr, nd->meta.id,
                     r->manager ? PKI_OU_MANAGER : PKI_OU_WORKER, d->cluster_id,
                     expiry_s, &r->cert, &err) < 0) {
        rpc_reply(call, NULL, &err);
        renew_free(r);
        return;
    }
    if (!r->manager && nd->manager) {
        /* Demotion: out of raft first, then the node record. */
        if (raftnode_remove(d->raft, swarm_raft_id(nd->meta.id),
                            renew_left_raft, r, &err) < 0) {
            rpc_reply(call, NULL, &err);
            renew_free(r);
        }
        return;
    }
    renew_commit_role(r);
}

/* ---- leave: a node leaves the swarm ---- */

struct leaving {
    struct swarm_net *n;
    struct rpc_call *call;
    char node_id[ID_LEN + 1];
};

static void leave_marked(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    struct leaving *l = data;
    rpc_reply(l->call, NULL, err);
    free(l);
}

static void leave_out_of_raft(void *data, const struct err *err)
{
    struct leaving *l = data;
    struct daemon *d = l->n->d;
    const struct node *nd = store_node(d->store, l->node_id);
    if (err || !nd) {
        rpc_reply(l->call, NULL, err);
        free(l);
        return;
    }
    /* Docker keeps a node that left, down, until `node rm`. */
    struct node *c = node_copy(nd);
    c->state = NODE_DOWN;
    free(c->status_message);
    c->status_message = xstrdup("node left the swarm");
    c->manager = false;
    c->leader = false;
    free(c->manager_addr);
    c->manager_addr = NULL;
    free(c->reachability);
    c->reachability = NULL;
    struct err e = {0};
    if (put_node(d, c, leave_marked, l, &e) < 0) {
        rpc_reply(l->call, NULL, &e);
        free(l);
    }
}

static void m_leave(void *data, struct rpc_call *call, const json_t *params)
{
    struct swarm_net *n = data;
    struct err err = {0};
    if (pass_to_leader(n, call, "leave", params))
        return;
    const struct node *nd =
        store_node(n->d->store, rpc_call_peer(call)->node_id);
    if (!nd) {
        err_set(&err, ERR_NOTFOUND, "node not found");
        rpc_reply(call, NULL, &err);
        return;
    }
    struct leaving *l = xcalloc(1, sizeof(*l));
    l->n = n;
    l->call = call;
    snprintf(l->node_id, sizeof(l->node_id), "%s", nd->meta.id);
    if (!nd->manager) {
        leave_out_of_raft(l, NULL);
        return;
    }
    if (raftnode_remove(n->d->raft, swarm_raft_id(nd->meta.id),
                        leave_out_of_raft, l, &err) < 0) {
        rpc_reply(call, NULL, &err);
        free(l);
    }
}

static void m_session(void *data, struct rpc_call *call, const json_t *params)
{
    struct swarm_net *n = data;
    dispatch_serve(n->d, call, params);
}

static const struct rpc_method methods[] = {
    {"join", RPC_ANYONE, m_join},     {"session", RPC_NODE, m_session},
    {"renew", RPC_NODE, m_renew},     {"leave", RPC_NODE, m_leave},
    {"propose", RPC_NODE, m_propose}, {"heartbeat", RPC_NODE, m_heartbeat},
};

static bool peer_ok(void *data, const struct pki_identity *peer)
{
    struct swarm_net *n = data;
    struct daemon *d = n->d;
    if (!d->store || !store_cluster(d->store))
        return true; /* no state yet (joining): the CA's word is enough */
    const struct node *nd = store_node(d->store, peer->node_id);
    if (!nd)
        return false; /* removed (or never admitted) */
    /* A demoted manager's old certificate no longer opens manager calls;
     * the role is checked by the caller through the OU. */
    return nd->manager || strcmp(peer->ou, PKI_OU_MANAGER) != 0;
}

static void on_raft(void *data, uint64_t id, const char *address, int fd)
{
    struct swarm_net *n = data;
    if (!n->d->raft) {
        close(fd);
        return;
    }
    raftnode_accept(n->d->raft, id, address, fd);
}

static void raft_dial(void *data, uint64_t id, const char *address,
                      void (*done)(void *req, int fd), void *req)
{
    (void)id;
    struct swarm_net *n = data;
    rpc_raft_dial(n->d->loop, n->cli_ctx, address, swarm_raft_id(n->d->node_id),
                  n->d->raft_addr, done, req);
}

/* ---- heartbeats: sent to the leader, or watched as the leader ---- */

static void status_committed(void *data, const struct err *err, uint64_t index)
{
    (void)data;
    (void)index;
    if (err)
        log_debug("cluster: node status: %s", err->msg);
}

static void rotation_finished(void *data, const struct err *err, uint64_t index)
{
    (void)index;
    struct swarm_net *n = data;
    n->finishing_rotation = false;
    if (!err)
        log_info("cluster: root CA rotation done");
}

/* The leader ends a root rotation once every node that is up holds a
 * certificate from the new root: the old CA is trusted no more. */
static void finish_rotation(struct swarm_net *n)
{
    struct daemon *d = n->d;
    const struct cluster *c = store_cluster(d->store);
    if (!c || !jx_bool(c->internal, "RootRotationInProgress", false) ||
        n->finishing_rotation)
        return;
    const char *root = jx_str(jx_obj(c->internal, "TLSInfo"), "TrustRoot");
    size_t it = 0;
    void *o;
    while (store_next(d->store, KIND_NODE, &it, &o)) {
        const struct node *nd = o;
        const char *has =
            jx_str(jx_obj(nd->description, "TLSInfo"), "TrustRoot");
        if (nd->state == NODE_READY && (!has || !root || strcmp(has, root)))
            return;
    }
    struct cluster *nc = cluster_copy(c);
    json_object_del(nc->internal, "_PrevRootCA");
    json_object_del(nc->internal, "_PrevTrustRoot");
    json_object_set_new(nc->internal, "RootRotationInProgress", json_false());
    struct txn txn;
    txn_init(&txn);
    txn_cluster_put(&txn, nc, 0);
    cluster_free(nc);
    struct err err = {0};
    if (d->hooks->propose_txn(d, &txn, rotation_finished, n, &err) == 0)
        n->finishing_rotation = true;
    txn_fini(&txn);
}

static void heartbeat_done(void *data, const struct err *err,
                           const json_t *result)
{
    (void)result;
    struct swarm_net *n = data;
    n->hb_in_flight = false;
    if (err)
        log_debug("cluster: heartbeat: %s", err->msg);
}

static void timer_cb(uv_timer_t *t)
{
    struct swarm_net *n = t->data;
    struct daemon *d = n->d;
    if (!d->store)
        return;
    if (n->leading) {
        if (d->swarm == SWARM_ACTIVE) {
            finish_rotation(n);
            swarm_liveness_sweep(d);
        }
        return;
    }
    /* A manager still replaying or catching up with the log is alive:
     * it beats too, so a long catch-up is not a missed heartbeat. */
    if (d->swarm != SWARM_ACTIVE && !(d->swarm == SWARM_STARTING && d->raft))
        return;
    if (n->hb_in_flight)
        return;
    struct err err = {0};
    struct rpc_client *c = leader_client(n, &err);
    if (!c)
        return;
    n->hb_in_flight = true;
    rpc_client_call(c, "heartbeat", NULL, (unsigned)swarm_heartbeat_ms(d),
                    heartbeat_done, n);
}

static void restart_timer(struct swarm_net *n)
{
    /* Senders beat a few times per period, so one lost beat is not a
     * missed period; the leader looks every half period. */
    uint64_t every = (uint64_t)swarm_heartbeat_ms(n->d) / (n->leading ? 2 : 3);
    if (every < 100)
        every = 100;
    uv_timer_start(&n->timer, timer_cb, every, every);
}

void swarm_net_leadership(struct daemon *d, bool is_leader)
{
    struct swarm_net *n = d->net;
    if (!n)
        return;
    if (n->leading && !is_leader)
        dispatch_drop_all(d);
    n->leading = is_leader;
    if (is_leader)
        swarm_liveness_start(d); /* everyone timed afresh */
    else
        swarm_liveness_stop(d);
    restart_timer(n);
}

/* ---- certificate renewal ---- */

static void schedule_renewal(struct swarm_net *n);
static void renew_now(uv_timer_t *t);

/* Loads the identity from disk again (a renewed certificate, a new set
 * of trusted roots). Connections made from now on use it; those open keep
 * theirs (OpenSSL counts the contexts' users). */
static int reload_contexts(struct swarm_net *n, struct err *err)
{
    SSL_CTX *old_srv = n->srv_ctx, *old_cli = n->cli_ctx;
    n->srv_ctx = n->cli_ctx = NULL;
    if (load_identity(n, err) < 0) {
        if (n->srv_ctx)
            SSL_CTX_free(n->srv_ctx);
        if (n->cli_ctx)
            SSL_CTX_free(n->cli_ctx);
        n->srv_ctx = old_srv;
        n->cli_ctx = old_cli;
        return -1;
    }
    if (n->srv)
        rpc_server_set_ctx(n->srv, n->srv_ctx);
    worker_session_set_ctx(n->d, n->cli_ctx);
    SSL_CTX_free(old_srv);
    SSL_CTX_free(old_cli);
    return 0;
}

static void renew_done(void *data, const struct err *err, const json_t *result)
{
    struct swarm_net *n = data;
    _cleanup_free_ char *key = n->renew_key;
    n->renew_key = NULL;
    if (n->stopping)
        return;
    const char *cert = jx_str(result, "Cert");
    const char *ca = jx_str(result, "CA");
    struct err e = {0};
    if (err || !cert || !ca) {
        log_warn("cluster: certificate renewal: %s",
                 err ? err->msg : "malformed answer");
        uv_timer_start(&n->renew_timer, renew_now, 1000, 0);
        return;
    }
    if (swarm_identity_save(n->d, ca, cert, key, &e) < 0 ||
        reload_contexts(n, &e) < 0) {
        log_error("cluster: installing the renewed certificate: %s", e.msg);
        return;
    }
    log_info("cluster: certificate renewed, valid until %lld",
             (long long)n->id.not_after);
    schedule_renewal(n);
}

/* The leader's own certificate came from the current root. */
static void record_own_trust_root(struct swarm_net *n)
{
    struct daemon *d = n->d;
    const struct node *self = store_node(d->store, d->node_id);
    if (!self)
        return;
    struct node *nd = node_copy(self);
    set_trust_root(nd, store_cluster(d->store));
    struct err err = {0};
    if (put_node(d, nd, status_committed, NULL, &err) < 0)
        log_debug("cluster: %s", err.msg);
}

void swarm_net_sync_ca(struct daemon *d)
{
    struct swarm_net *n = d->net;
    const struct cluster *c = d->store ? store_cluster(d->store) : NULL;
    if (!n || !c || !jx_str(jx_obj(c->internal, "TLSInfo"), "TrustRoot"))
        return;
    /* Only when the cluster object or this node's identity changed (this
     * runs after every entry; parsing certificates is not free). */
    if (c->meta.version == n->ca_checked_version &&
        n->identity_gen == n->ca_checked_gen)
        return;
    n->ca_checked_version = c->meta.version;
    n->ca_checked_gen = n->identity_gen;
    _cleanup_free_ char *want = trust_bundle(c);
    if (n->ca_pem && strcmp(want, n->ca_pem) != 0) {
        /* A rotation began (the new root joins the trusted ones before
         * any node shows a certificate from it) or ended (the old one
         * goes). */
        struct err err = {0};
        if (swarm_identity_save_trust(d, want, &err) < 0 ||
            reload_contexts(n, &err) < 0) {
            log_error("cluster: trusting the new root CA: %s", err.msg);
            return;
        }
        log_info("cluster: trusted root CAs changed");
    }
    const char *root = jx_str(jx_obj(c->internal, "TLSInfo"), "TrustRoot");
    if (!n->renew_key && !n->renew_soon &&
        !pki_cert_signed_by(n->own.cert_pem, root)) {
        log_info("cluster: the cluster has a new root CA; renewing");
        n->renew_soon = true;
        uv_timer_start(&n->renew_timer, renew_now, 0, 0);
    }
}

static void renew_now(uv_timer_t *t)
{
    struct swarm_net *n = t->data;
    n->renew_soon = false;
    struct daemon *d = n->d;
    if (n->renew_key || d->role_switching)
        return;
    _cleanup_free_ char *csr = NULL;
    struct err err = {0};
    if (pki_csr_create(&n->renew_key, &csr, &err) < 0) {
        log_warn("cluster: certificate renewal: %s", err.msg);
        return;
    }
    if (d->raft && raftnode_is_ready_leader(d->raft)) {
        /* The leader signs its own, with the cluster's CA. */
        const struct cluster *c = store_cluster(d->store);
        const json_t *ca = c ? jx_obj(c->internal, "_RootCA") : NULL;
        struct pki_pair capair = {.cert_pem = (char *)jx_str(ca, "Cert"),
                                  .key_pem = (char *)jx_str(ca, "Key")};
        _cleanup_free_ char *cert = NULL;
        if (!capair.key_pem ||
            pki_csr_sign(&capair, csr, d->node_id, PKI_OU_MANAGER,
                         d->cluster_id, cert_expiry_s(c), &cert, &err) < 0) {
            err_set(&err, ERR_INTERNAL, "cannot sign its own certificate");
            renew_done(n, &err, NULL);
            return;
        }
        _cleanup_free_ char *bundle = trust_bundle(c);
        _cleanup_json_ json_t *r =
            json_pack("{s:s, s:s}", "Cert", cert, "CA", bundle);
        record_own_trust_root(n);
        renew_done(n, NULL, r);
        return;
    }
    const char *colon = strrchr(d->listen_addr, ':');
    json_t *params = json_pack("{s:s, s:i}", "CSR", csr, "Port",
                               colon ? atoi(colon + 1) : 4377);
    if (swarm_net_call_leader(d, "renew", params, 15000, renew_done, n, &err) <
        0) {
        log_debug("cluster: certificate renewal: %s (will retry)", err.msg);
        free(n->renew_key);
        n->renew_key = NULL;
        uv_timer_start(&n->renew_timer, renew_now, 1000, 0);
    }
}

/* At a random point between 50 % and 80 % of the certificate's life, as
 * Swarm does, so a cluster's nodes do not all renew at once. */
static void schedule_renewal(struct swarm_net *n)
{
    /* Certificates start a minute early (clock skew): their life as
     * issued counts from a minute after not_before. */
    struct pki_identity issued = n->id;
    if (issued.not_after - issued.not_before > 60)
        issued.not_before += 60;
    int64_t at = pki_renew_at(&issued);
    int64_t now = time_now_ns() / 1000000000;
    int64_t delay_ms = (at - now) * 1000;
    if (delay_ms < 1000)
        delay_ms = 1000;
    uv_timer_start(&n->renew_timer, renew_now, (uint64_t)delay_ms, 0);
}

/* ---- lifecycle ---- */

int swarm_net_start(struct daemon *d, struct err *err)
{
    struct swarm_net *n = xcalloc(1, sizeof(*n));
    n->d = d;
    if (load_identity(n, err) < 0)
        goto fail;
    uv_timer_init(d->loop, &n->timer);
    n->timer.data = n;
    uv_timer_init(d->loop, &n->renew_timer);
    n->renew_timer.data = n;
    d->net = n;
    schedule_renewal(n);
    if (!d->is_manager) {
        /* A worker serves nothing: it follows the leader. */
        log_info("cluster: worker, following the managers");
        return worker_session_start(d, n->cli_ctx, err);
    }
    char host[128];
    uint16_t port;
    if (rpc_split_address(d->listen_addr, host, sizeof(host), &port,
                          DEFAULT_CLUSTER_PORT, err) < 0)
        goto fail;
    struct rpc_server_config sc = {
        .loop = d->loop,
        .addr = host,
        .port = port,
        .ctx = n->srv_ctx,
        .cluster_id = d->cluster_id,
        .methods = methods,
        .n_methods = ARRAY_SIZE(methods),
        .peer_ok = peer_ok,
        .on_raft = on_raft,
        .data = n,
    };
    n->srv = rpc_server_new(&sc, err);
    if (!n->srv) {
        err_ctx(err, "listen on %s", d->listen_addr);
        goto fail;
    }
    n->dialer.dial = raft_dial;
    n->dialer.data = n;
    restart_timer(n);
    log_info("cluster: listening on %s (advertised %s)", d->listen_addr,
             d->raft_addr);
    return 0;
fail:
    if (d->net) {
        swarm_net_stop(d);
        return -1;
    }
    if (n->srv_ctx)
        SSL_CTX_free(n->srv_ctx);
    if (n->cli_ctx)
        SSL_CTX_free(n->cli_ctx);
    free(n->ca_pem);
    pki_pair_clear(&n->own);
    free(n);
    return -1;
}

const struct raftnode_dialer *swarm_net_dialer(struct daemon *d)
{
    return d->net ? &d->net->dialer : NULL;
}

static void timer_closed(uv_handle_t *h)
{
    struct swarm_net *n = h->data;
    if (--n->closing > 0)
        return;
    SSL_CTX_free(n->srv_ctx);
    SSL_CTX_free(n->cli_ctx);
    free(n->ca_pem);
    pki_pair_clear(&n->own);
    free(n);
}

void swarm_net_stop(struct daemon *d)
{
    struct swarm_net *n = d->net;
    if (!n)
        return;
    d->net = NULL;
    struct err err = {0};
    swarm_err_no_leader(&err);
    swarm_wait_cancel_all(d, &err);
    swarm_liveness_stop(d);
    n->stopping = true;
    dispatch_drop_all(d);
    worker_session_stop(d);
    rpc_client_free(n->leader);
    rpc_server_free(n->srv);
    uv_timer_stop(&n->timer);
    uv_timer_stop(&n->renew_timer);
    n->closing = 2;
    uv_close((uv_handle_t *)&n->timer, timer_closed);
    uv_close((uv_handle_t *)&n->renew_timer, timer_closed);
}
