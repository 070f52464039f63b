// SPDX-License-Identifier: Apache-2.0
// <swarm dir>/state.json and the node's cluster addresses (see
// swarm_state.h).
#include "daemon/swarm_state.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "cluster/rpc.h"

static char *state_path(const struct daemon *d)
{
    return xasprintf("%s/state.json", d->swarm_dir);
}

int swarm_save_state(struct daemon *d, struct err *err)
{
    if (fs_mkdir_p(d->swarm_dir, 0700, err) < 0)
        return -1;
    _cleanup_json_ json_t *st = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:o}", "NodeID", d->node_id, "ClusterID",
        d->cluster_id, "Role", d->is_manager ? "manager" : "worker",
        "ListenAddr", d->listen_addr, "AdvertiseAddr", d->advertise_addr,
        "RemoteAddrs",
        d->join_remotes ? json_incref(d->join_remotes) : json_array());
    _cleanup_free_ char *text = jx_dumps(st);
    _cleanup_free_ char *path = state_path(d);
    return fs_write_file_atomic(path, text, strlen(text), 0600, err);
}

int swarm_load_state(struct daemon *d, bool *found, struct err *err)
{
    *found = false;
    _cleanup_free_ char *path = state_path(d);
    if (!fs_exists(path))
        return 0;
    _cleanup_free_ char *text = NULL;
    if (fs_read_file(path, &text, NULL, err) < 0)
        return -1;
    _cleanup_json_ json_t *st = json_loads(text, 0, NULL);
    const char *node = jx_str(st, "NodeID");
    const char *cluster = jx_str(st, "ClusterID");
    const char *role = jx_str(st, "Role");
    if (!node || !cluster)
        return err_set(err, ERR_INTERNAL, "corrupt swarm state in '%s'", path);
    *found = true;
    snprintf(d->node_id, sizeof(d->node_id), "%s", node);
    snprintf(d->cluster_id, sizeof(d->cluster_id), "%s", cluster);
    d->is_manager = !role || strcmp(role, "manager") == 0;
    json_decref(d->join_remotes);
    d->join_remotes = json_incref(json_object_get(st, "RemoteAddrs"));
    return swarm_set_addresses(d, st, err);
}

/* The address other nodes use when none is given and the node listens on
 * every address: its first IPv4 address that is up and not loopback. */
static void first_ipv4(char *out, size_t size)
{
    snprintf(out, size, "127.0.0.1");
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
            (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
            continue;
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out,
                  (socklen_t)size);
        break;
    }
    freeifaddrs(ifs);
}

static void set_raft_addr(struct daemon *d)
{
    const char *colon = strrchr(d->listen_addr, ':');
    snprintf(d->raft_addr, sizeof(d->raft_addr), "%s:%s", d->advertise_addr,
             colon ? colon + 1 : "4377");
}

int swarm_set_addresses(struct daemon *d, const json_t *request,
                        struct err *err)
{
    const char *listen = jx_str(request, "ListenAddr");
    const char *adv = jx_str(request, "AdvertiseAddr");
    char host[128];
    uint16_t port;
    if (!listen || !*listen)
        listen = "0.0.0.0:4377";
    if (rpc_split_address(listen, host, sizeof(host), &port,
                          DEFAULT_CLUSTER_PORT, err) < 0)
        return -1;
    snprintf(d->listen_addr, sizeof(d->listen_addr), "%s:%u", host, port);
    if (adv && *adv) {
        uint16_t adv_port;
        if (rpc_split_address(adv, host, sizeof(host), &adv_port, port, err) <
            0)
            return -1;
        snprintf(d->advertise_addr, sizeof(d->advertise_addr), "%s", host);
    } else if (strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0) {
        snprintf(d->advertise_addr, sizeof(d->advertise_addr), "%s", host);
    } else {
        first_ipv4(d->advertise_addr, sizeof(d->advertise_addr));
    }
    set_raft_addr(d);
    return 0;
}
