// SPDX-License-Identifier: Apache-2.0
// Subnet pool and per-subnet address bitmaps.
#include "manager/ipam.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static uint32_t mask_of(int prefix)
{
    return prefix <= 0 ? 0 : (uint32_t)(0xffffffffu << (32 - prefix));
}

int ipv4_parse(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *out = ntohl(a.s_addr);
    return 0;
}

int ipv4_net_parse(const char *s, struct ipv4_net *out)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || slash - s >= 16)
        return -1;
    char ip[16];
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    char *end;
    long prefix = strtol(slash + 1, &end, 10);
    if (*end || end == slash + 1 || prefix < 0 || prefix > 32)
        return -1;
    uint32_t addr;
    if (ipv4_parse(ip, &addr) < 0)
        return -1;
    out->prefix = (int)prefix;
    out->addr = addr & mask_of(out->prefix);
    return 0;
}

void ipv4_fmt(uint32_t addr, char *out, size_t size)
{
    snprintf(out, size, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
             (addr >> 8) & 255, addr & 255);
}

void ipv4_net_fmt(const struct ipv4_net *n, char *out, size_t size)
{
    char ip[16];
    ipv4_fmt(n->addr, ip, sizeof(ip));
    snprintf(out, size, "%s/%d", ip, n->prefix);
}

bool ipv4_net_contains(const struct ipv4_net *n, uint32_t addr)
{
    return (addr & mask_of(n->prefix)) == n->addr;
}

bool ipv4_net_overlaps(const struct ipv4_net *a, const struct ipv4_net *b)
{
    int p = a->prefix < b->prefix ? a->prefix : b->prefix;
    return (a->addr & mask_of(p)) == (b->addr & mask_of(p));
}

/* ---- pool ---- */

void ipam_pool_init(struct ipam_pool *p, struct ipv4_net base,
                    int subnet_prefix)
{
    memset(p, 0, sizeof(*p));
    p->base = base;
    p->subnet_prefix = subnet_prefix;
}

void ipam_pool_fini(struct ipam_pool *p)
{
    free(p->used);
    memset(p, 0, sizeof(*p));
}

static bool pool_free(const struct ipam_pool *p, const struct ipv4_net *n)
{
    for (size_t i = 0; i < p->n_used; i++)
        if (ipv4_net_overlaps(&p->used[i], n))
            return false;
    return true;
}

static void pool_add(struct ipam_pool *p, struct ipv4_net n)
{
    if (p->n_used == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->used = xrealloc(p->used, p->cap * sizeof(*p->used));
    }
    p->used[p->n_used++] = n;
}

int ipam_pool_reserve(struct ipam_pool *p, struct ipv4_net net, struct err *err)
{
    if (!pool_free(p, &net)) {
        char s[32];
        ipv4_net_fmt(&net, s, sizeof(s));
        return err_set(err, ERR_CONFLICT,
                       "invalid pool request: Pool overlaps with other one "
                       "on this address space (%s)",
                       s);
    }
    pool_add(p, net);
    return 0;
}

int ipam_pool_alloc(struct ipam_pool *p, struct ipv4_net *out, struct err *err)
{
    if (p->subnet_prefix < p->base.prefix || p->subnet_prefix > 30)
        return err_set(err, ERR_INVALID, "invalid subnet size /%d",
                       p->subnet_prefix);
    uint64_t count = 1ULL << (p->subnet_prefix - p->base.prefix);
    uint32_t step = 1u << (32 - p->subnet_prefix);
    for (uint64_t i = 0; i < count; i++) {
        struct ipv4_net n = {p->base.addr + (uint32_t)i * step,
                             p->subnet_prefix};
        if (pool_free(p, &n)) {
            pool_add(p, n);
            *out = n;
            return 0;
        }
    }
    return err_set(err, ERR_UNAVAILABLE,
                   "could not find an available, non-overlapping IPv4 "
                   "address pool among the defaults to assign to the "
                   "network");
}

void ipam_pool_release(struct ipam_pool *p, struct ipv4_net net)
{
    for (size_t i = 0; i < p->n_used; i++) {
        if (p->used[i].addr == net.addr && p->used[i].prefix == net.prefix) {
            p->used[i] = p->used[--p->n_used];
            return;
        }
    }
}

/* ---- addresses ---- */

int ipam_subnet_init(struct ipam_subnet *s, struct ipv4_net net,
                     struct err *err)
{
    memset(s, 0, sizeof(*s));
    if (net.prefix < 8 || net.prefix > 30)
        return err_set(err, ERR_INVALID,
                       "subnet prefix /%d is not supported (use /8 to /30)",
                       net.prefix);
    s->net = net;
    s->size = (size_t)1 << (32 - net.prefix);
    s->bits = xcalloc((s->size + 63) / 64, sizeof(uint64_t));
    /* Network and broadcast addresses are never handed out. */
    s->bits[0] |= 1;
    s->bits[(s->size - 1) / 64] |= 1ULL << ((s->size - 1) % 64);
    s->used = 2;
    s->next = 1;
    return 0;
}

void ipam_subnet_fini(struct ipam_subnet *s)
{
    free(s->bits);
    memset(s, 0, sizeof(*s));
}

static bool bit(const struct ipam_subnet *s, size_t i)
{
    return (s->bits[i / 64] >> (i % 64)) & 1;
}

bool ipam_subnet_is_used(const struct ipam_subnet *s, uint32_t addr)
{
    if (!ipv4_net_contains(&s->net, addr))
        return false;
    return bit(s, addr - s->net.addr);
}

int ipam_subnet_reserve(struct ipam_subnet *s, uint32_t addr, struct err *err)
{
    char ip[16];
    ipv4_fmt(addr, ip, sizeof(ip));
    if (!ipv4_net_contains(&s->net, addr))
        return err_set(err, ERR_INVALID, "address %s is outside the subnet",
                       ip);
    size_t i = addr - s->net.addr;
    if (bit(s, i))
        return err_set(err, ERR_CONFLICT, "address %s is already in use", ip);
    s->bits[i / 64] |= 1ULL << (i % 64);
    s->used++;
    return 0;
}

int ipam_subnet_alloc(struct ipam_subnet *s, uint32_t *out, struct err *err)
{
    if (s->used >= s->size) {
        char n[32];
        ipv4_net_fmt(&s->net, n, sizeof(n));
        return err_set(err, ERR_UNAVAILABLE,
                       "no more addresses available in network %s", n);
    }
    for (size_t k = 0; k < s->size; k++) {
        size_t i = (s->next + k) % s->size;
        if (!bit(s, i)) {
            s->bits[i / 64] |= 1ULL << (i % 64);
            s->used++;
            s->next = (i + 1) % s->size;
            *out = s->net.addr + (uint32_t)i;
            return 0;
        }
    }
    return err_set(err, ERR_UNAVAILABLE, "no more addresses available");
}

void ipam_subnet_release(struct ipam_subnet *s, uint32_t addr)
{
    if (!ipv4_net_contains(&s->net, addr))
        return;
    size_t i = addr - s->net.addr;
    if (i == 0 || i == s->size - 1 || !bit(s, i))
        return;
    s->bits[i / 64] &= ~(1ULL << (i % 64));
    s->used--;
}
