// SPDX-License-Identifier: Apache-2.0
// libnl adapter: the only file that includes libnl headers. It maps libnl's
// error codes onto struct err so callers see messages in our style.
#include "net/nl.h"

#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "base/mem.h"

struct netlink {
    struct nl_sock *sock;
};

/* code is a positive NLE_* value. */
static int nl_code(int code)
{
    switch (code) {
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
        return ERR_NOTFOUND;
    case NLE_EXIST:
        return ERR_CONFLICT;
    case NLE_INVAL:
    case NLE_RANGE:
        return ERR_INVALID;
    default:
        return ERR_INTERNAL;
    }
}

/* libnl returns negative NLE_* codes; nl_geterror wants the positive one. */
static int nl_fail(struct err *err, int nlerr, const char *what,
                   const char *name)
{
    int code = nlerr < 0 ? -nlerr : nlerr;
    return err_set(err, nl_code(code), "%s '%s': %s", what, name,
                   nl_geterror(code));
}

struct netlink *netlink_open(struct err *err)
{
    struct nl_sock *sock = nl_socket_alloc();
    if (!sock) {
        err_set(err, ERR_INTERNAL, "allocate netlink socket");
        return NULL;
    }
    int r = nl_connect(sock, NETLINK_ROUTE);
    if (r < 0) {
        nl_socket_free(sock);
        nl_fail(err, r, "connect", "rtnetlink");
        return NULL;
    }
    struct netlink *nl = xcalloc(1, sizeof(*nl));
    nl->sock = sock;
    return nl;
}

void netlink_close(struct netlink *nl)
{
    if (!nl)
        return;
    nl_socket_free(nl->sock); /* also closes */
    free(nl);
}

int netlink_link_set_up(struct netlink *nl, const char *name, struct err *err)
{
    struct rtnl_link *link = NULL;
    int r = rtnl_link_get_kernel(nl->sock, 0, name, &link);
    if (r < 0)
        return nl_fail(err, r, "find link", name);
    struct rtnl_link *change = rtnl_link_alloc();
    if (!change) {
        rtnl_link_put(link);
        return err_set(err, ERR_INTERNAL, "allocate link change");
    }
    rtnl_link_set_flags(change, IFF_UP);
    r = rtnl_link_change(nl->sock, link, change, 0);
    rtnl_link_put(change);
    rtnl_link_put(link);
    if (r < 0)
        return nl_fail(err, r, "set link up", name);
    return 0;
}

int netlink_link_up_once(const char *name, struct err *err)
{
    struct netlink *nl = netlink_open(err);
    if (!nl)
        return -1;
    int r = netlink_link_set_up(nl, name, err);
    netlink_close(nl);
    return r;
}
