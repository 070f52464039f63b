// SPDX-License-Identifier: Apache-2.0
// Promotion and demotion as the promoted or demoted node lives them: when
// the cluster state gives this node another role than the one it runs, it
// asks the leader for a certificate of the new role ("renew") and switches
// in place: a new manager starts raft (the leader makes it a voter), a
// former manager stops raft, forgets its raft data and follows the leader
// as a worker. Its containers and store stay as they are.
#include "daemon/swarm_role.h"

#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "cluster/rpc.h"
#include "daemon/swarm_identity.h"
#include "daemon/swarm_net.h"
#include "daemon/swarm_state.h"

#define RENEW_TIMEOUT_MS 15000

struct role_switch {
    struct daemon *d;
    bool manager; /* the role being taken */
    char *key_pem;
};

static void switch_fail(struct role_switch *rs, const char *why)
{
    log_warn("swarm: switching to %s: %s", rs->manager ? "manager" : "worker",
             why);
    rs->d->role_switching = false;
    free(rs->key_pem);
    free(rs);
}

static void start_new_role(struct role_switch *rs)
{
    struct daemon *d = rs->d;
    struct err err = {0};
    d->is_manager = rs->manager;
    if (swarm_save_state(d, &err) < 0 ||
        d->hooks->start_role(d, false, &err) < 0)
        log_error("swarm: taking the %s role: %s",
                  rs->manager ? "manager" : "worker", err.msg);
    else
        log_info("swarm: this node is now a %s",
                 rs->manager ? "manager" : "worker");
    d->role_switching = false;
    free(rs->key_pem);
    free(rs);
}

static void manager_stopped(void *data)
{
    struct role_switch *rs = data;
    start_new_role(rs);
}

static void raft_stopped(void *data)
{
    struct role_switch *rs = data;
    struct daemon *d = rs->d;
    d->raft = NULL;
    d->leader = false;
    /* A worker keeps no raft data: a later promotion starts afresh. */
    _cleanup_free_ char *dir = xasprintf("%s/raft", d->swarm_dir);
    struct err err = {0};
    if (fs_remove_tree(dir, &err) < 0)
        log_warn("swarm: %s", err.msg);
    struct manager *m = d->manager;
    d->manager = NULL;
    if (m)
        manager_close(m, manager_stopped, rs);
    else
        manager_stopped(rs);
}

static void renewed(void *data, const struct err *rerr, const json_t *result)
{
    struct role_switch *rs = data;
    struct daemon *d = rs->d;
    struct err err = {0};
    const char *cert = jx_str(result, "Cert");
    const char *ca = jx_str(result, "CA");
    if (rerr || !cert || !ca) {
        switch_fail(rs, rerr ? rerr->msg : "malformed answer");
        return;
    }
    if (swarm_identity_save(d, ca, cert, rs->key_pem, &err) < 0) {
        switch_fail(rs, err.msg);
        return;
    }
    log_info("swarm: new %s certificate; switching",
             rs->manager ? "manager" : "worker");
    /* The cluster port restarts with the new certificate either way. */
    if (d->raft) {
        if (d->manager)
            manager_stop(d->manager);
        swarm_net_stop(d);
        raftnode_close(d->raft, raft_stopped, rs);
    } else {
        swarm_net_stop(d);
        start_new_role(rs);
    }
}

static void transfer_done(void *data)
{
    struct daemon *d = data;
    d->role_switching = false;
    /* Not leading any more: the next entry applied retries the switch. */
}

void swarm_role_check(struct daemon *d)
{
    const struct node *self = store_node(d->store, d->node_id);
    if (!self || d->role_switching || d->swarm != SWARM_ACTIVE)
        return;
    const char *role = jx_str(self->spec, "Role");
    bool want_manager = role && strcmp(role, "manager") == 0;
    if (want_manager == d->is_manager)
        return;
    /* The leader being demoted hands leadership over first; the new
     * leader then answers its request like any other's. */
    if (!want_manager && d->raft && raftnode_is_leader(d->raft)) {
        struct err err = {0};
        if (!d->role_switching) {
            log_info("swarm: demoted while leading: handing leadership "
                     "over");
            d->role_switching = true;
            if (raftnode_transfer(d->raft, transfer_done, d, &err) < 0) {
                d->role_switching = false;
                log_warn("swarm: %s", err.msg);
            }
        }
        return;
    }
    struct role_switch *rs = xcalloc(1, sizeof(*rs));
    rs->d = d;
    rs->manager = want_manager;
    _cleanup_free_ char *csr = NULL;
    struct err err = {0};
    if (pki_csr_create(&rs->key_pem, &csr, &err) < 0) {
        switch_fail(rs, err.msg);
        return;
    }
    d->role_switching = true;
    const char *colon = strrchr(d->listen_addr, ':');
    json_t *params = json_pack("{s:s, s:i}", "CSR", csr, "Port",
                               colon ? atoi(colon + 1) : 4377);
    log_info("swarm: the cluster made this node a %s; asking for its "
             "certificate",
             want_manager ? "manager" : "worker");
    if (swarm_net_call_leader(d, "renew", params, RENEW_TIMEOUT_MS, renewed, rs,
                              &err) < 0)
        switch_fail(rs, err.msg);
}
