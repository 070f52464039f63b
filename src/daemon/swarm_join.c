// SPDX-License-Identifier: Apache-2.0
// `swarm join` on the joining node: parse the token, reach a manager over
// TLS that pins the cluster's CA by the token's digest, send a
// certificate request, and on the answer record the node's identity and
// open the swarm: a manager as a raft voter that the leader adds, a
// worker through its dispatcher session. The call returns once this node
// sees itself in the cluster state.
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "cluster/rpc.h"
#include "daemon/daemon.h"
#include "daemon/swarm_identity.h"
#include "daemon/swarm_state.h"

#define JOIN_TIMEOUT_MS 20000

struct join {
    struct daemon *d;
    json_t *request;
    swarm_done_fn cb;
    void *data;
    char digest[51];
    SSL_CTX *ctx;
    struct rpc_client *client;
    char *key_pem;
    uv_idle_t later; /* frees the client outside its own callback */
};

static void join_freed(uv_handle_t *h)
{
    struct join *j = h->data;
    rpc_client_free(j->client);
    SSL_CTX_free(j->ctx);
    json_decref(j->request);
    free(j->key_pem);
    free(j);
}

static void join_free_later(uv_idle_t *idle)
{
    uv_idle_stop(idle);
    uv_close((uv_handle_t *)idle, join_freed);
}

static void join_finish(struct join *j, const struct err *err)
{
    struct daemon *d = j->d;
    if (err) {
        d->swarm = SWARM_INACTIVE;
        memset(d->node_id, 0, sizeof(d->node_id));
        memset(d->cluster_id, 0, sizeof(d->cluster_id));
        struct err ignored = {0};
        fs_remove_tree(d->swarm_dir, &ignored);
        j->cb(j->data, err);
    }
    uv_idle_start(&j->later, join_free_later);
}

/* The manager's answer: this node's id, certificate and the CA. */
static void joined(void *data, const struct err *rerr, const json_t *result)
{
    struct join *j = data;
    struct daemon *d = j->d;
    struct err err = {0};
    if (rerr) {
        const char *why = rpc_client_verify_error(j->client);
        err_set(&err, rerr->code == ERR_INVALID ? ERR_INVALID : ERR_UNAVAILABLE,
                "%s", why && *why ? why : rerr->msg);
        join_finish(j, &err);
        return;
    }
    const char *node = jx_str(result, "NodeID");
    const char *cluster = jx_str(result, "ClusterID");
    const char *role = jx_str(result, "Role");
    const char *cert = jx_str(result, "Cert");
    const char *ca = jx_str(result, "CA");
    char digest[51];
    if (!node || !cluster || !role || !cert || !ca || strlen(node) > ID_LEN ||
        strlen(cluster) > ID_LEN) {
        err_set(&err, ERR_UNAVAILABLE, "join: malformed answer from %s",
                rpc_client_address(j->client));
        join_finish(j, &err);
        return;
    }
    if (pki_ca_digest(ca, digest, &err) < 0 || strcmp(digest, j->digest) != 0) {
        err_set(&err, ERR_UNAVAILABLE,
                "remote CA does not match fingerprint. Expected: %s",
                j->digest);
        join_finish(j, &err);
        return;
    }
    snprintf(d->node_id, sizeof(d->node_id), "%s", node);
    snprintf(d->cluster_id, sizeof(d->cluster_id), "%s", cluster);
    d->is_manager = strcmp(role, "manager") == 0;
    json_decref(d->join_remotes);
    d->join_remotes =
        json_deep_copy(json_object_get(j->request, "RemoteAddrs"));
    if (swarm_save_state(d, &err) < 0 ||
        swarm_identity_save(d, ca, cert, j->key_pem, &err) < 0) {
        join_finish(j, &err);
        return;
    }
    log_info("swarm: joined cluster %s as %s %s", d->cluster_id, role,
             d->node_id);
    swarm_add_waiter(d, j->request, j->cb, j->data);
    if (swarm_open(d, false, &err) < 0) {
        swarm_drop_waiter(d); /* answered here instead */
        join_finish(j, &err);
        return;
    }
    join_finish(j, NULL);
}

int swarm_join(struct daemon *d, const json_t *request, swarm_done_fn cb,
               void *data, struct err *err)
{
    if (d->swarm != SWARM_INACTIVE)
        return err_set(err, ERR_UNAVAILABLE,
                       "This node is already part of a swarm. Use \"docker "
                       "swarm leave\" to leave this swarm and join another "
                       "one.");
    const char *token = jx_str(request, "JoinToken");
    json_t *remotes = json_object_get(request, "RemoteAddrs");
    const char *remote = json_string_value(json_array_get(remotes, 0));
    char digest[51], secret[26];
    if (!remote || !*remote)
        return err_set(err, ERR_INVALID,
                       "invalid request: remote addresses are missing");
    if (!token || pki_token_parse(token, digest, secret, err) < 0)
        return err_set(err, ERR_INVALID, "invalid join token");
    if (swarm_set_addresses(d, request, err) < 0)
        return -1;
    struct join *j = xcalloc(1, sizeof(*j));
    j->d = d;
    j->request = json_incref((json_t *)request);
    j->cb = cb;
    j->data = data;
    snprintf(j->digest, sizeof(j->digest), "%s", digest);
    uv_idle_init(d->loop, &j->later);
    j->later.data = j;
    _cleanup_free_ char *csr = NULL;
    j->ctx = pki_ctx_join_client(digest, err);
    if (!j->ctx || pki_csr_create(&j->key_pem, &csr, err) < 0)
        goto fail;
    j->client = rpc_client_new(d->loop, remote, j->ctx, NULL, NULL, err);
    if (!j->client)
        goto fail;
    const char *colon = strrchr(d->listen_addr, ':');
    json_t *params = json_pack(
        "{s:s, s:s, s:s, s:i, s:s, s:o}", "Token", token, "CSR", csr, "Addr",
        d->advertise_addr, "Port", colon ? atoi(colon + 1) : 4377,
        "Availability",
        jx_str(request, "Availability") ? jx_str(request, "Availability") : "",
        "Description", daemon_node_description(d));
    d->swarm = SWARM_STARTING;
    rpc_client_call(j->client, "join", params, JOIN_TIMEOUT_MS, joined, j);
    return 0;
fail:
    uv_close((uv_handle_t *)&j->later, join_freed);
    return -1;
}
