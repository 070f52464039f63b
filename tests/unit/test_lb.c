// SPDX-License-Identifier: Apache-2.0
// Unit tests for src/net/lb.c: golden nft renderings of small load-balancing
// states, canonical output whatever the input order, and refused states. No
// kernel, no root.
#include "harness.h"

#include <arpa/inet.h>

#include "base/buf.h"
#include "net/lb.h"

#define IP(s) ((struct in_addr){.s_addr = inet_addr(s)})

/* Rendered text (owned) or NULL, with err set. */
static char *render(const struct lb_state *st, struct err *err)
{
    struct buf b;
    buf_init(&b);
    err_clear(err);
    if (lb_render(st, 'a', &b, err) < 0) {
        buf_fini(&b);
        return NULL;
    }
    return buf_steal(&b);
}

static void check_render(const struct lb_state *st, const char *want)
{
    struct err err;
    char *got = render(st, &err);
    CHECK_STR(got, want);
    if (got && strcmp(got, want) != 0)
        fprintf(stderr, "--- got:\n%s--- end\n", got);
    if (!got)
        fprintf(stderr, "render: %s\n", err.msg);
    free(got);
}

/* The parts every rendering shares. */
#define G_HEAD "table ip shoal {\n"

#define G_NO_VIPS                                                              \
    "\tmap vips-a {\n"                                                         \
    "\t\ttype ipv4_addr : verdict\n"                                           \
    "\t}\n"                                                                    \
    "\n"                                                                       \
    "\tmap vip_backends-a {\n"                                                 \
    "\t\ttypeof ip daddr . numgen random mod 1 : ip daddr\n"                   \
    "\t}\n"                                                                    \
    "\n"

#define G_PUB_TYPE                                                             \
    "\tmap published-a {\n"                                                    \
    "\t\ttype inet_proto . inet_service : verdict\n"

#define G_PUB_BACKENDS_TYPE                                                    \
    "\tmap published_backends-a {\n"                                           \
    "\t\ttypeof meta l4proto . th dport . numgen random mod 1 : ip daddr . "   \
    "th dport\n"

#define G_FIXED_CHAINS                                                         \
    "\tchain reject-conn-a {\n"                                                \
    "\t\tmeta l4proto tcp reject with tcp reset\n"                             \
    "\t\treject\n"                                                             \
    "\t}\n"                                                                    \
    "\n"                                                                       \
    "\tchain services-a {\n"                                                   \
    "\t\tip daddr vmap @vips-a\n"                                              \
    "\t\tfib daddr type local meta l4proto . th dport vmap @published-a\n"     \
    "\t}\n"                                                                    \
    "\n"                                                                       \
    "\tchain prerouting {\n"                                                   \
    "\t\ttype nat hook prerouting priority -100; policy accept;\n"             \
    "\t\tjump services-a\n"                                                    \
    "\t}\n"                                                                    \
    "\n"                                                                       \
    "\tchain output {\n"                                                       \
    "\t\ttype nat hook output priority -100; policy accept;\n"                 \
    "\t\tjump services-a\n"                                                    \
    "\t}\n"                                                                    \
    "\n"                                                                       \
    "\tchain postrouting {\n"                                                  \
    "\t\ttype nat hook postrouting priority 100; policy accept;\n"

#define G_MESH_RULE                                                            \
    "meta mark & 0x00002000 == 0x00002000 meta mark set meta mark & "          \
    "0xffffdfff"

#define G_POST_MIDDLE                                                          \
    "\t\t" G_MESH_RULE " masquerade\n"                                         \
    "\t\tip saddr 127.0.0.0/8 masquerade\n"

#define G_FWD_HEAD                                                             \
    "\t}\n"                                                                    \
    "\n"                                                                       \
    "\tchain forward {\n"                                                      \
    "\t\ttype filter hook forward priority 0; policy accept;\n"                \
    "\t\tct state established,related accept\n"                                \
    "\t\tct status dnat accept\n"

/* postrouting and forward for one network 10.0.1.0/24 */
#define G_NET1_CHAINS                                                          \
    "\t\tip daddr 10.0.1.0/24 ip saddr 10.0.1.0/24 ct status dnat "            \
    "masquerade\n" G_POST_MIDDLE "\t\tip daddr 10.0.1.0/24 accept\n"           \
    "\t\tip saddr 10.0.1.0/24 masquerade\n" G_FWD_HEAD                         \
    "\t\tip daddr 10.0.1.0/24 ip saddr != 10.0.1.0/24 drop\n"                  \
    "\t}\n"

static void test_empty(void)
{
    struct lb_state st = {0};
    check_render(&st, G_HEAD G_NO_VIPS G_PUB_TYPE
                 "\t}\n"
                 "\n" G_PUB_BACKENDS_TYPE "\t}\n"
                 "\n" G_FIXED_CHAINS G_POST_MIDDLE G_FWD_HEAD "\t}\n"
                 "}\n");
}

/* One service with a VIP and two running tasks; its port is not published,
 * and the VIP forwards every port anyway. */
static void test_one_service(void)
{
    struct in_addr be[] = {IP("10.0.1.4"), IP("10.0.1.3")};
    struct lb_vip vip = {IP("10.0.1.2"), be, 2};
    struct lb_port p80 = {IPPROTO_TCP, 80, 0, false};
    struct lb_service web = {
        .id = "web", .vips = &vip, .n_vips = 1, .ports = &p80, .n_ports = 1};
    struct lb_network net = {IP("10.0.1.0"), 24, {0}};
    struct lb_state st = {&web, 1, &net, 1};
    check_render(&st, G_HEAD
                 "\tmap vips-a {\n"
                 "\t\ttype ipv4_addr : verdict\n"
                 "\t\telements = {\n"
                 "\t\t\t10.0.1.2 comment \"web\" : goto vip-10.0.1.0-24-n2-a\n"
                 "\t\t}\n"
                 "\t}\n"
                 "\n"
                 "\tmap vip_backends-a {\n"
                 "\t\ttypeof ip daddr . numgen random mod 1 : ip daddr\n"
                 "\t\telements = {\n"
                 "\t\t\t10.0.1.2 . 0 : 10.0.1.3,\n"
                 "\t\t\t10.0.1.2 . 1 : 10.0.1.4\n"
                 "\t\t}\n"
                 "\t}\n"
                 "\n" G_PUB_TYPE "\t}\n"
                 "\n" G_PUB_BACKENDS_TYPE "\t}\n"
                 "\n" G_FIXED_CHAINS G_NET1_CHAINS "\n"
                 "\tchain vip-10.0.1.0-24-n2-a {\n"
                 "\t\tip saddr != 10.0.1.0/24 goto reject-conn-a\n"
                 "\t\tdnat to ip daddr . numgen random mod 2 map "
                 "@vip_backends-a\n"
                 "\t}\n"
                 "}\n");
}

/* Published ports in ingress mode: balanced over the tasks' ingress
 * addresses, marked for masquerade; TCP and UDP. */
static void test_published(void)
{
    struct in_addr be[] = {IP("10.0.1.4"), IP("10.0.1.3")};
    struct in_addr mesh[] = {IP("10.0.0.4"), IP("10.0.0.3")};
    struct lb_vip vip = {IP("10.0.1.2"), be, 2};
    struct lb_port ports[] = {{IPPROTO_TCP, 80, 8000, false},
                              {IPPROTO_UDP, 53, 5353, false}};
    struct lb_service web = {.id = "web",
                             .vips = &vip,
                             .n_vips = 1,
                             .ports = ports,
                             .n_ports = 2,
                             .mesh_backends = mesh,
                             .n_mesh_backends = 2};
    struct lb_network nets[] = {{IP("10.0.1.0"), 24, {0}},
                                {IP("10.0.0.0"), 24, {0}}};
    struct lb_state st = {&web, 1, nets, 2};
    check_render(&st, G_HEAD
                 "\tmap vips-a {\n"
                 "\t\ttype ipv4_addr : verdict\n"
                 "\t\telements = {\n"
                 "\t\t\t10.0.1.2 comment \"web\" : goto vip-10.0.1.0-24-n2-a\n"
                 "\t\t}\n"
                 "\t}\n"
                 "\n"
                 "\tmap vip_backends-a {\n"
                 "\t\ttypeof ip daddr . numgen random mod 1 : ip daddr\n"
                 "\t\telements = {\n"
                 "\t\t\t10.0.1.2 . 0 : 10.0.1.3,\n"
                 "\t\t\t10.0.1.2 . 1 : 10.0.1.4\n"
                 "\t\t}\n"
                 "\t}\n"
                 "\n" G_PUB_TYPE "\t\telements = {\n"
                 "\t\t\ttcp . 8000 comment \"web\" : goto mesh-n2-a,\n"
                 "\t\t\tudp . 5353 comment \"web\" : goto mesh-n2-a\n"
                 "\t\t}\n"
                 "\t}\n"
                 "\n" G_PUB_BACKENDS_TYPE "\t\telements = {\n"
                 "\t\t\ttcp . 8000 . 0 : 10.0.0.3 . 80,\n"
                 "\t\t\ttcp . 8000 . 1 : 10.0.0.4 . 80,\n"
                 "\t\t\tudp . 5353 . 0 : 10.0.0.3 . 53,\n"
                 "\t\t\tudp . 5353 . 1 : 10.0.0.4 . 53\n"
                 "\t\t}\n"
                 "\t}\n"
                 "\n" G_FIXED_CHAINS
                 "\t\tip daddr 10.0.0.0/24 ip saddr 10.0.0.0/24 ct status dnat "
                 "masquerade\n"
                 "\t\tip daddr 10.0.1.0/24 ip saddr 10.0.1.0/24 ct status dnat "
                 "masquerade\n" G_POST_MIDDLE
                 "\t\tip daddr 10.0.0.0/24 accept\n"
                 "\t\tip daddr 10.0.1.0/24 accept\n"
                 "\t\tip saddr 10.0.0.0/24 masquerade\n"
                 "\t\tip saddr 10.0.1.0/24 masquerade\n" G_FWD_HEAD
                 "\t\tip daddr 10.0.0.0/24 ip saddr != 10.0.0.0/24 drop\n"
                 "\t\tip daddr 10.0.1.0/24 ip saddr != 10.0.1.0/24 drop\n"
                 "\t}\n"
                 "\n"
                 "\tchain vip-10.0.1.0-24-n2-a {\n"
                 "\t\tip saddr != 10.0.1.0/24 goto reject-conn-a\n"
                 "\t\tdnat to ip daddr . numgen random mod 2 map "
                 "@vip_backends-a\n"
                 "\t}\n"
                 "\n"
                 "\tchain mesh-n2-a {\n"
                 "\t\tmeta mark set meta mark | 0x00002000\n"
                 "\t\tdnat ip to meta l4proto . th dport . numgen random mod 2 "
                 "map @published_backends-a\n"
                 "\t}\n"
                 "}\n");
}

/* endpoint mode dnsrr: no VIP, only the published port. */
static void test_dnsrr(void)
{
    struct in_addr mesh[] = {IP("10.0.1.5")};
    struct lb_port p = {IPPROTO_TCP, 80, 8080, false};
    struct lb_service dns = {.id = "dns",
                             .ports = &p,
                             .n_ports = 1,
                             .mesh_backends = mesh,
                             .n_mesh_backends = 1};
    struct lb_network net = {IP("10.0.1.0"), 24, {0}};
    struct lb_state st = {&dns, 1, &net, 1};
    check_render(&st, G_HEAD G_NO_VIPS G_PUB_TYPE
                 "\t\telements = {\n"
                 "\t\t\ttcp . 8080 comment \"dns\" : goto mesh-n1-a\n"
                 "\t\t}\n"
                 "\t}\n"
                 "\n" G_PUB_BACKENDS_TYPE "\t\telements = {\n"
                 "\t\t\ttcp . 8080 . 0 : 10.0.1.5 . 80\n"
                 "\t\t}\n"
                 "\t}\n"
                 "\n" G_FIXED_CHAINS G_NET1_CHAINS "\n"
                 "\tchain mesh-n1-a {\n"
                 "\t\tmeta mark set meta mark | 0x00002000\n"
                 "\t\tdnat ip to meta l4proto . th dport . numgen random mod 1 "
                 "map @published_backends-a\n"
                 "\t}\n"
                 "}\n");
}

/* mode=host: only local tasks, no mark (the client address is kept); a
 * host-mode port of a service with no task here is not bound at all. */
static void test_host_mode(void)
{
    struct in_addr be[] = {IP("10.0.1.7"), IP("10.0.1.8")};
    struct in_addr local[] = {IP("10.0.1.7")};
    struct lb_port h1 = {IPPROTO_TCP, 80, 8081, true};
    struct lb_port h2 = {IPPROTO_TCP, 80, 8082, true};
    struct lb_service svcs[] = {{.id = "h",
                                 .ports = &h1,
                                 .n_ports = 1,
                                 .mesh_backends = be,
                                 .n_mesh_backends = 2,
                                 .local_backends = local,
                                 .n_local_backends = 1},
                                {.id = "h2",
                                 .ports = &h2,
                                 .n_ports = 1,
                                 .mesh_backends = be,
                                 .n_mesh_backends = 2}};
    struct lb_network net = {IP("10.0.1.0"), 24, {0}};
    struct lb_state st = {svcs, 2, &net, 1};
    check_render(&st, G_HEAD G_NO_VIPS G_PUB_TYPE
                 "\t\telements = {\n"
                 "\t\t\ttcp . 8081 comment \"h\" : goto host-n1-a\n"
                 "\t\t}\n"
                 "\t}\n"
                 "\n" G_PUB_BACKENDS_TYPE "\t\telements = {\n"
                 "\t\t\ttcp . 8081 . 0 : 10.0.1.7 . 80\n"
                 "\t\t}\n"
                 "\t}\n"
                 "\n" G_FIXED_CHAINS G_NET1_CHAINS "\n"
                 "\tchain host-n1-a {\n"
                 "\t\tdnat ip to meta l4proto . th dport . numgen random mod 1 "
                 "map @published_backends-a\n"
                 "\t}\n"
                 "}\n");
}

/* A VIP or an ingress port with no running task refuses connections; a
 * VIP outside every known network takes any source. */
static void test_no_backends(void)
{
    struct lb_vip vip = {IP("10.9.0.2"), NULL, 0};
    struct lb_port p = {IPPROTO_TCP, 80, 8000, false};
    struct lb_service idle = {
        .id = "idle", .vips = &vip, .n_vips = 1, .ports = &p, .n_ports = 1};
    struct lb_state st = {&idle, 1, NULL, 0};
    struct err err;
    char *got = render(&st, &err);
    CHECK(got != NULL);
    if (!got)
        return;
    CHECK(
        strstr(got, "\t\t\t10.9.0.2 comment \"idle\" : goto reject-conn-a\n"));
    CHECK(strstr(got, "\t\t\ttcp . 8000 comment \"idle\" : goto "
                      "reject-conn-a\n"));
    CHECK(!strstr(got, "chain vip-"));
    CHECK(!strstr(got, "chain mesh-"));
    free(got);
}

/* A VIP outside every known network takes any source. */
static void test_vip_outside_networks(void)
{
    struct in_addr be[] = {IP("10.9.0.5")};
    struct lb_vip vip = {IP("10.9.0.2"), be, 1};
    struct lb_service s = {.id = "s", .vips = &vip, .n_vips = 1};
    struct lb_network net = {IP("10.0.1.0"), 24, {0}};
    struct lb_state st = {&s, 1, &net, 1};
    struct err err;
    char *got = render(&st, &err);
    CHECK(got != NULL);
    if (!got)
        return;
    CHECK(strstr(got, "\t\t\t10.9.0.2 comment \"s\" : goto vip-n1-a\n"));
    CHECK(strstr(got, "\tchain vip-n1-a {\n"
                      "\t\tdnat to ip daddr . numgen random mod 1 map "
                      "@vip_backends-a\n"
                      "\t}\n"));
    free(got);
}

/* A network with a node address of its own SNATs to it instead of
 * masquerading (several nodes sharing one gateway address). */
static void test_snat_address(void)
{
    struct lb_network net = {IP("10.0.0.0"), 24, IP("10.0.0.250")};
    struct lb_state st = {NULL, 0, &net, 1};
    struct err err;
    char *got = render(&st, &err);
    CHECK(got != NULL);
    if (!got)
        return;
    CHECK(strstr(got,
                 "\t\tip daddr 10.0.0.0/24 ip saddr 10.0.0.0/24 ct "
                 "status dnat snat to 10.0.0.250\n"
                 "\t\tip daddr 10.0.0.0/24 " G_MESH_RULE " snat to 10.0.0.250\n"
                 "\t\t" G_MESH_RULE " masquerade\n"));
    free(got);
}

/* Host bits in a subnet are dropped; the same backend twice counts once. */
static void test_normalised(void)
{
    struct in_addr be[] = {IP("10.0.1.3"), IP("10.0.1.3"), IP("10.0.1.4")};
    struct lb_vip vip = {IP("10.0.1.2"), be, 3};
    struct lb_service s = {.id = "s", .vips = &vip, .n_vips = 1};
    struct lb_network net = {IP("10.0.1.77"), 24, {0}};
    struct lb_state st = {&s, 1, &net, 1};
    struct err err;
    char *got = render(&st, &err);
    CHECK(got != NULL);
    if (!got)
        return;
    CHECK(strstr(got, "\t\tip daddr 10.0.1.0/24 accept\n"));
    CHECK(strstr(got, "goto vip-10.0.1.0-24-n2-a\n"));
    CHECK(strstr(got, "10.0.1.2 . 0 : 10.0.1.3,\n"
                      "\t\t\t10.0.1.2 . 1 : 10.0.1.4\n"));
    CHECK(!strstr(got, "10.0.1.77"));
    free(got);
}

/* Same contents in another order render byte for byte the same; so does
 * rendering twice. Groups of equal backend counts share one chain. */
static void test_deterministic(void)
{
    struct in_addr a_be[] = {IP("10.0.1.11"), IP("10.0.1.10"), IP("10.0.1.12")};
    struct in_addr a_be2[] = {IP("10.0.1.12"), IP("10.0.1.11"),
                              IP("10.0.1.10")};
    struct in_addr b_be[] = {IP("10.0.2.10"), IP("10.0.2.11")};
    struct in_addr c_be[] = {IP("10.0.1.20"), IP("10.0.1.21"), IP("10.0.1.22")};
    struct lb_vip a_vip[] = {{IP("10.0.1.2"), a_be, 3}};
    struct lb_vip a_vip2[] = {{IP("10.0.1.2"), a_be2, 3}};
    struct lb_vip b_vip[] = {{IP("10.0.2.2"), b_be, 2}};
    struct lb_vip c_vip[] = {{IP("10.0.1.3"), c_be, 3}};
    struct lb_port a_ports[] = {{IPPROTO_UDP, 53, 53, false},
                                {IPPROTO_TCP, 80, 8000, false}};
    struct lb_port a_ports2[] = {{IPPROTO_TCP, 80, 8000, false},
                                 {IPPROTO_UDP, 53, 53, false}};
    struct lb_network nets[] = {{IP("10.0.1.0"), 24, {0}},
                                {IP("10.0.2.0"), 24, {0}}};
    struct lb_network nets2[] = {{IP("10.0.2.0"), 24, {0}},
                                 {IP("10.0.1.0"), 24, {0}}};
    struct lb_service s1[] = {{.id = "a",
                               .vips = a_vip,
                               .n_vips = 1,
                               .ports = a_ports,
                               .n_ports = 2,
                               .mesh_backends = a_be,
                               .n_mesh_backends = 3},
                              {.id = "b", .vips = b_vip, .n_vips = 1},
                              {.id = "c", .vips = c_vip, .n_vips = 1}};
    struct lb_service s2[] = {{.id = "c", .vips = c_vip, .n_vips = 1},
                              {.id = "b", .vips = b_vip, .n_vips = 1},
                              {.id = "a",
                               .vips = a_vip2,
                               .n_vips = 1,
                               .ports = a_ports2,
                               .n_ports = 2,
                               .mesh_backends = a_be2,
                               .n_mesh_backends = 3}};
    struct lb_state st1 = {s1, 3, nets, 2};
    struct lb_state st2 = {s2, 3, nets2, 2};
    struct err err;
    char *x = render(&st1, &err), *y = render(&st1, &err),
         *z = render(&st2, &err);
    CHECK(x && y && z);
    if (x && y && z) {
        CHECK_STR(x, y);
        CHECK_STR(x, z);
        /* a and c (3 backends, one network) share a chain; b has its
         * own. */
        CHECK(strstr(x, "\tchain vip-10.0.1.0-24-n3-a {"));
        CHECK(strstr(x, "\tchain vip-10.0.2.0-24-n2-a {"));
        CHECK(strstr(x, "10.0.1.2 comment \"a\" : goto vip-10.0.1.0-24-n3-a,\n"
                        "\t\t\t10.0.1.3 comment \"c\" : goto "
                        "vip-10.0.1.0-24-n3-a,\n"
                        "\t\t\t10.0.2.2 comment \"b\" : goto "
                        "vip-10.0.2.0-24-n2-a\n"));
        CHECK(strstr(x, "tcp . 8000 comment \"a\" : goto mesh-n3-a,\n"
                        "\t\t\tudp . 53 comment \"a\" : goto mesh-n3-a\n"));
    }
    free(x);
    free(y);
    free(z);
}

/* The other slot names every object but the base chains "-b". */
static void test_slot_b(void)
{
    struct in_addr be[] = {IP("10.0.1.3")};
    struct lb_vip vip = {IP("10.0.1.2"), be, 1};
    struct lb_port p = {IPPROTO_TCP, 80, 8000, false};
    struct lb_service s = {.id = "s",
                           .vips = &vip,
                           .n_vips = 1,
                           .ports = &p,
                           .n_ports = 1,
                           .mesh_backends = be,
                           .n_mesh_backends = 1};
    struct lb_network net = {IP("10.0.1.0"), 24, {0}};
    struct lb_state st = {&s, 1, &net, 1};
    struct buf b;
    buf_init(&b);
    struct err err;
    CHECK_INT(lb_render(&st, 'b', &b, &err), 0);
    CHECK(strstr(b.data, "\t\tjump services-b\n"));
    CHECK(strstr(b.data, "\tmap vips-b {\n"));
    CHECK(strstr(b.data, "goto vip-10.0.1.0-24-n1-b\n"));
    CHECK(strstr(b.data, "goto mesh-n1-b\n"));
    CHECK(strstr(b.data, "map @published_backends-b\n"));
    CHECK(strstr(b.data, "\tchain prerouting {\n"));
    CHECK(!strstr(b.data, "-a\n") && !strstr(b.data, "-a {"));
    buf_fini(&b);
}

static void check_refused(const struct lb_state *st, int code, const char *msg)
{
    struct err err;
    char *got = render(st, &err);
    CHECK(got == NULL);
    free(got);
    CHECK_INT(err.code, code);
    CHECK_STR(err.msg, msg);
}

static void test_refused(void)
{
    struct in_addr be[] = {IP("10.0.1.3")};
    struct lb_vip vip = {IP("10.0.1.2"), be, 1};
    struct lb_port p8000 = {IPPROTO_TCP, 80, 8000, false};
    struct lb_port psctp = {IPPROTO_SCTP, 80, 8000, false};

    struct lb_service bad_id = {.id = "we b"};
    struct lb_state st = {&bad_id, 1, NULL, 0};
    check_refused(&st, ERR_INVALID,
                  "render load balancer: invalid service id 'we b'");
    struct lb_service no_id = {.id = ""};
    st.services = &no_id;
    check_refused(&st, ERR_INVALID,
                  "render load balancer: invalid service id ''");
    struct lb_service injected = {.id = "a\"}"};
    st.services = &injected;
    check_refused(&st, ERR_INVALID,
                  "render load balancer: invalid service id 'a\"}'");

    struct lb_service sctp = {.id = "s", .ports = &psctp, .n_ports = 1};
    st.services = &sctp;
    check_refused(&st, ERR_INVALID,
                  "render load balancer: service 's': unsupported protocol "
                  "132");

    struct lb_service two_vips[] = {{.id = "a", .vips = &vip, .n_vips = 1},
                                    {.id = "b", .vips = &vip, .n_vips = 1}};
    struct lb_state st2 = {two_vips, 2, NULL, 0};
    check_refused(&st2, ERR_CONFLICT,
                  "render load balancer: virtual IP 10.0.1.2 claimed by 'a' "
                  "and 'b'");

    struct lb_service two_ports[] = {
        {.id = "a", .ports = &p8000, .n_ports = 1},
        {.id = "b", .ports = &p8000, .n_ports = 1}};
    st2.services = two_ports;
    check_refused(&st2, ERR_CONFLICT,
                  "render load balancer: published port 8000/tcp claimed by "
                  "'a' and 'b'");

    struct lb_service same_id[] = {{.id = "a"}, {.id = "a"}};
    st2.services = same_id;
    check_refused(&st2, ERR_CONFLICT,
                  "render load balancer: duplicate service id 'a'");

    struct lb_network overlap[] = {{IP("10.0.0.0"), 16, {0}},
                                   {IP("10.0.5.0"), 24, {0}}};
    struct lb_state st3 = {NULL, 0, overlap, 2};
    check_refused(&st3, ERR_CONFLICT,
                  "render load balancer: networks 10.0.0.0/16 and "
                  "10.0.5.0/24 overlap");
    struct lb_network zero = {IP("10.0.0.0"), 0, {0}};
    struct lb_state st4 = {NULL, 0, &zero, 1};
    check_refused(&st4, ERR_INVALID,
                  "render load balancer: invalid network prefix length 0");

    /* A refused render leaves the output buffer as it was. */
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "keep");
    struct err err;
    CHECK_INT(lb_render(&st4, 'a', &b, &err), -1);
    CHECK_STR(b.data, "keep");
    buf_fini(&b);
}

int main(void)
{
    RUN(test_empty);
    RUN(test_one_service);
    RUN(test_published);
    RUN(test_dnsrr);
    RUN(test_host_mode);
    RUN(test_no_backends);
    RUN(test_vip_outside_networks);
    RUN(test_snat_address);
    RUN(test_normalised);
    RUN(test_deterministic);
    RUN(test_slot_b);
    RUN(test_refused);
    HARNESS_END();
}
