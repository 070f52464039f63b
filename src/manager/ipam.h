// SPDX-License-Identifier: Apache-2.0
// IP address management, pure: subnets for overlay networks from a pool
// (10.0.0.0/8 in /24s by default; user-given subnets must not overlap),
// and addresses inside each subnet (the gateway, service VIPs, task
// addresses). State is in memory and rebuilt from the store by the
// allocator; nothing here persists.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* An IPv4 prefix, host byte order. */
struct ipv4_net {
    uint32_t addr;
    int prefix;
};

/* "10.0.1.0/24" -> net (the address is masked); -1 if malformed. */
int ipv4_net_parse(const char *s, struct ipv4_net *out);
/* "10.0.1.5" -> addr; -1 if malformed. */
int ipv4_parse(const char *s, uint32_t *out);
void ipv4_net_fmt(const struct ipv4_net *n, char *out, size_t size);
void ipv4_fmt(uint32_t addr, char *out, size_t size);
bool ipv4_net_overlaps(const struct ipv4_net *a, const struct ipv4_net *b);
bool ipv4_net_contains(const struct ipv4_net *n, uint32_t addr);

/* The subnets in use, and where new ones come from. */
struct ipam_pool {
    struct ipv4_net base;  /* default pool, e.g. 10.0.0.0/8 */
    int subnet_prefix;     /* size of allocated subnets, e.g. 24 */
    struct ipv4_net *used; /* subnets taken (allocated or reserved) */
    size_t n_used, cap;
};

void ipam_pool_init(struct ipam_pool *p, struct ipv4_net base,
                    int subnet_prefix);
void ipam_pool_fini(struct ipam_pool *p);
/* Takes a specific subnet; 409 if it overlaps one in use. */
int ipam_pool_reserve(struct ipam_pool *p, struct ipv4_net net,
                      struct err *err);
/* Takes the first free subnet of the pool; 503-ish error when exhausted. */
int ipam_pool_alloc(struct ipam_pool *p, struct ipv4_net *out, struct err *err);
void ipam_pool_release(struct ipam_pool *p, struct ipv4_net net);

/* Addresses of one subnet. The network and broadcast addresses are never
 * handed out. */
struct ipam_subnet {
    struct ipv4_net net;
    uint64_t *bits; /* one bit per address */
    size_t size;    /* number of addresses */
    size_t used;
    size_t next; /* where the next search starts (round robin) */
};

/* 400 for prefixes outside /8../30. */
int ipam_subnet_init(struct ipam_subnet *s, struct ipv4_net net,
                     struct err *err);
void ipam_subnet_fini(struct ipam_subnet *s);
/* Marks addr used; 409 if it is already, 400 if outside the subnet. */
int ipam_subnet_reserve(struct ipam_subnet *s, uint32_t addr, struct err *err);
/* Next free address after the last one handed out (addresses are not
 * reused at once, so a released one is not given to the next task
 * straight away); 503-ish error when full. */
int ipam_subnet_alloc(struct ipam_subnet *s, uint32_t *out, struct err *err);
void ipam_subnet_release(struct ipam_subnet *s, uint32_t addr);
bool ipam_subnet_is_used(const struct ipam_subnet *s, uint32_t addr);
