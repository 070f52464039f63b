// SPDX-License-Identifier: Apache-2.0
// Conntrack cleanup over libnl-nf: dump the table, delete the entries
// whose reply source is a backend that left.
#include "net/conntrack.h"

#include <arpa/inet.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>
#include <string.h>

struct forget {
    struct nl_sock *sock;
    const struct in_addr *addrs;
    size_t n;
    int deleted;
};

static void visit(struct nl_object *obj, void *arg)
{
    struct forget *f = arg;
    struct nfnl_ct *ct = (struct nfnl_ct *)obj;
    if (nfnl_ct_get_family(ct) != AF_INET)
        return;
    struct nl_addr *src = nfnl_ct_get_src(ct, 1); /* reply direction */
    if (!src || nl_addr_get_len(src) != 4)
        return;
    const void *bytes = nl_addr_get_binary_addr(src);
    for (size_t i = 0; i < f->n; i++) {
        if (memcmp(bytes, &f->addrs[i], 4) == 0) {
            if (nfnl_ct_del(f->sock, ct, 0) == 0)
                f->deleted++;
            return;
        }
    }
}

int conntrack_forget(const struct in_addr *addrs, size_t n, struct err *err)
{
    if (n == 0)
        return 0;
    struct nl_sock *sock = nl_socket_alloc();
    if (!sock)
        return err_set(err, ERR_INTERNAL, "allocate a netlink socket");
    int r = nfnl_connect(sock);
    struct nl_cache *cache = NULL;
    if (r == 0)
        r = nfnl_ct_alloc_cache(sock, &cache);
    if (r < 0) {
        nl_socket_free(sock);
        return err_set(err, ERR_INTERNAL, "read conntrack table: %s",
                       nl_geterror(r));
    }
    struct forget f = {.sock = sock, .addrs = addrs, .n = n};
    nl_cache_foreach(cache, visit, &f);
    nl_cache_free(cache);
    nl_socket_free(sock);
    return f.deleted;
}
