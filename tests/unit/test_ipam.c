// SPDX-License-Identifier: Apache-2.0
// IPAM tests: parsing, overlap, pool allocation and exhaustion, address
// allocation, release and non-immediate reuse.
#include "harness.h"

#include "manager/ipam.h"

static void test_parse(void)
{
    struct ipv4_net n;
    CHECK_INT(ipv4_net_parse("10.0.1.7/24", &n), 0);
    char s[32];
    ipv4_net_fmt(&n, s, sizeof(s));
    CHECK_STR(s, "10.0.1.0/24");
    CHECK_INT(ipv4_net_parse("10.0.1.0", &n), -1);
    CHECK_INT(ipv4_net_parse("10.0.1.0/33", &n), -1);
    CHECK_INT(ipv4_net_parse("10.0.300.0/24", &n), -1);
    CHECK_INT(ipv4_net_parse("/24", &n), -1);
    struct ipv4_net a, b;
    ipv4_net_parse("10.0.0.0/16", &a);
    ipv4_net_parse("10.0.5.0/24", &b);
    CHECK(ipv4_net_overlaps(&a, &b));
    ipv4_net_parse("10.1.0.0/24", &b);
    CHECK(!ipv4_net_overlaps(&a, &b));
}

static void test_pool(void)
{
    struct ipam_pool p;
    struct ipv4_net base;
    ipv4_net_parse("10.0.0.0/8", &base);
    ipam_pool_init(&p, base, 24);
    struct ipv4_net n;
    struct err err = {0};
    char s[32];
    CHECK_INT(ipam_pool_alloc(&p, &n, &err), 0);
    ipv4_net_fmt(&n, s, sizeof(s));
    CHECK_STR(s, "10.0.0.0/24");
    /* A user subnet is honoured; an overlapping one is refused. */
    struct ipv4_net user;
    ipv4_net_parse("10.0.1.0/24", &user);
    CHECK_INT(ipam_pool_reserve(&p, user, &err), 0);
    ipv4_net_parse("10.0.0.0/16", &user);
    CHECK_INT(ipam_pool_reserve(&p, user, &err), -1);
    CHECK_INT(err.code, ERR_CONFLICT);
    CHECK(strstr(err.msg, "overlaps") != NULL);
    CHECK_INT(ipam_pool_alloc(&p, &n, &err), 0);
    ipv4_net_fmt(&n, s, sizeof(s));
    CHECK_STR(s, "10.0.2.0/24");
    ipv4_net_parse("10.0.0.0/24", &n);
    ipam_pool_release(&p, n);
    CHECK_INT(ipam_pool_alloc(&p, &n, &err), 0);
    ipv4_net_fmt(&n, s, sizeof(s));
    CHECK_STR(s, "10.0.0.0/24");
    ipam_pool_fini(&p);

    /* Exhaustion: a /22 pool has four /24s. */
    ipv4_net_parse("192.168.0.0/22", &base);
    ipam_pool_init(&p, base, 24);
    for (int i = 0; i < 4; i++)
        CHECK_INT(ipam_pool_alloc(&p, &n, &err), 0);
    CHECK_INT(ipam_pool_alloc(&p, &n, &err), -1);
    CHECK(strstr(err.msg, "non-overlapping") != NULL);
    ipam_pool_fini(&p);
}

static void test_addresses(void)
{
    struct ipam_subnet s;
    struct ipv4_net net;
    struct err err = {0};
    ipv4_net_parse("10.0.1.0/29", &net);
    CHECK_INT(ipam_subnet_init(&s, net, &err), 0);
    uint32_t gw, a;
    ipv4_parse("10.0.1.1", &gw);
    CHECK_INT(ipam_subnet_reserve(&s, gw, &err), 0);
    CHECK_INT(ipam_subnet_reserve(&s, gw, &err), -1);
    CHECK_INT(err.code, ERR_CONFLICT);
    /* .2 .. .6 left (5 addresses), never .0 or .7 */
    uint32_t got[5];
    for (int i = 0; i < 5; i++) {
        CHECK_INT(ipam_subnet_alloc(&s, &got[i], &err), 0);
        CHECK(got[i] != net.addr && got[i] != net.addr + 7 && got[i] != gw);
    }
    CHECK_INT(ipam_subnet_alloc(&s, &a, &err), -1);
    CHECK_INT(err.code, ERR_UNAVAILABLE);
    ipam_subnet_release(&s, got[0]);
    CHECK(!ipam_subnet_is_used(&s, got[0]));
    CHECK_INT(ipam_subnet_alloc(&s, &a, &err), 0);
    CHECK_INT(a, got[0]);
    /* Releasing the network address or something outside is harmless. */
    ipam_subnet_release(&s, net.addr);
    CHECK(ipam_subnet_is_used(&s, net.addr));
    uint32_t outside;
    ipv4_parse("10.9.9.9", &outside);
    ipam_subnet_release(&s, outside);
    CHECK_INT(ipam_subnet_reserve(&s, outside, &err), -1);
    ipam_subnet_fini(&s);

    /* Round robin: a released address is not handed out at once. */
    ipv4_net_parse("10.0.2.0/24", &net);
    ipam_subnet_init(&s, net, &err);
    uint32_t x, y;
    ipam_subnet_alloc(&s, &x, &err);
    ipam_subnet_release(&s, x);
    ipam_subnet_alloc(&s, &y, &err);
    CHECK(x != y);
    ipam_subnet_fini(&s);
    ipv4_net_parse("10.0.0.0/31", &net);
    CHECK_INT(ipam_subnet_init(&s, net, &err), -1);
}

int main(void)
{
    RUN(test_parse);
    RUN(test_pool);
    RUN(test_addresses);
    HARNESS_END();
}
