// SPDX-License-Identifier: Apache-2.0
// Unit tests for the DNS wire format (net/dns_msg.c): query parsing and its
// rejections, answers with compression and truncation, EDNS, error answers
// and the checks on upstream answers.
#include <arpa/inet.h>

#include "harness.h"
#include "net/dns_msg.h"

/* ---- Helpers: a query builder and an answer decoder ---- */

static size_t mkquery(uint8_t *b, uint16_t id, const char *name, uint16_t type,
                      int edns_size)
{
    memset(b, 0, DNS_HDR_LEN);
    dns_msg_set_id(b, id);
    b[2] = 0x01; /* RD */
    b[5] = 1;
    int n = dns_name_to_wire(name, b + DNS_HDR_LEN);
    if (n < 0)
        abort();
    size_t o = DNS_HDR_LEN + (size_t)n;
    b[o++] = (uint8_t)(type >> 8);
    b[o++] = (uint8_t)type;
    b[o++] = 0;
    b[o++] = 1;
    if (edns_size >= 0) {
        b[11] = 1;
        b[o++] = 0;
        b[o++] = 0;
        b[o++] = DNS_T_OPT;
        b[o++] = (uint8_t)(edns_size >> 8);
        b[o++] = (uint8_t)edns_size;
        b[o++] = 0;    /* ext rcode */
        b[o++] = 0;    /* version */
        b[o++] = 0x80; /* DO */
        b[o++] = 0;
        b[o++] = 0;
        b[o++] = 0;
    }
    return o;
}

struct rr {
    char name[DNS_NAME_TEXT_MAX];
    uint16_t type, cls;
    uint32_t ttl;
    struct in_addr a;
    uint16_t prio, weight, port;
    char target[DNS_NAME_TEXT_MAX];
};

struct decoded {
    uint16_t id, flags, qd, counts[3];
    char qname[DNS_NAME_TEXT_MAX];
    uint16_t qtype;
    struct rr rr[300];
    size_t n;
};

static uint16_t g16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Decodes a whole answer; 0 or -1 if anything is off. */
static int decode(const uint8_t *p, size_t len, struct decoded *d)
{
    memset(d, 0, sizeof(*d));
    if (len < DNS_HDR_LEN)
        return -1;
    d->id = g16(p);
    d->flags = g16(p + 2);
    d->qd = g16(p + 4);
    for (int i = 0; i < 3; i++)
        d->counts[i] = g16(p + 6 + 2 * i);
    size_t off = DNS_HDR_LEN;
    if (d->qd) {
        if (dns_name_read(p, len, &off, d->qname, sizeof(d->qname)) < 0 ||
            len - off < 4)
            return -1;
        d->qtype = g16(p + off);
        off += 4;
    }
    size_t total = (size_t)d->counts[0] + d->counts[1] + d->counts[2];
    for (size_t i = 0; i < total; i++) {
        struct rr *r = &d->rr[d->n++];
        if (dns_name_read(p, len, &off, r->name, sizeof(r->name)) < 0 ||
            len - off < 10)
            return -1;
        r->type = g16(p + off);
        r->cls = g16(p + off + 2);
        r->ttl = (uint32_t)g16(p + off + 4) << 16 | g16(p + off + 6);
        size_t rdlen = g16(p + off + 8);
        off += 10;
        if (len - off < rdlen)
            return -1;
        size_t rd = off;
        if (r->type == DNS_T_A && rdlen == 4) {
            memcpy(&r->a.s_addr, p + rd, 4);
        } else if (r->type == DNS_T_SRV) {
            r->prio = g16(p + rd);
            r->weight = g16(p + rd + 2);
            r->port = g16(p + rd + 4);
            size_t t = rd + 6;
            if (dns_name_read(p, len, &t, r->target, sizeof(r->target)) < 0 ||
                t != rd + rdlen)
                return -1;
        } else if (r->type == DNS_T_PTR) {
            size_t t = rd;
            if (dns_name_read(p, len, &t, r->target, sizeof(r->target)) < 0 ||
                t != rd + rdlen)
                return -1;
        }
        off += rdlen;
    }
    return off == len ? 0 : -1;
}

static struct in_addr ip(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a;
}

static struct dns_query q;
static struct decoded d;

/* ---- Parsing ---- */

static void test_parse_simple(void)
{
    uint8_t b[512];
    size_t n = mkquery(b, 0x1234, "App.Example", DNS_T_A, -1);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    CHECK_INT(q.id, 0x1234);
    CHECK_STR(q.qname, "app.example");
    CHECK_INT(q.qtype, DNS_T_A);
    CHECK_INT(q.qclass, DNS_CLASS_IN);
    CHECK_INT(q.q_off, 12);
    CHECK_INT(q.q_len, 13 + 4);
    CHECK(!q.edns);
    CHECK_INT(dns_query_udp_limit(&q, 1232), 512);

    n = mkquery(b, 1, ".", DNS_T_SOA, -1);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    CHECK_STR(q.qname, "");
    CHECK_INT(q.qname_len, 1);
}

static void test_parse_edns(void)
{
    uint8_t b[512];
    size_t n = mkquery(b, 7, "tasks.app", DNS_T_A, 4096);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    CHECK(q.edns);
    CHECK(q.edns_do);
    CHECK_INT(q.edns_size, 4096);
    CHECK_INT(dns_query_udp_limit(&q, 1232), 1232);
    n = mkquery(b, 7, "tasks.app", DNS_T_A, 100);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    CHECK_INT(dns_query_udp_limit(&q, 1232), 512);
    n = mkquery(b, 7, "tasks.app", DNS_T_A, 900);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    CHECK_INT(dns_query_udp_limit(&q, 1232), 900);

    /* An option inside the OPT record (a cookie) is fine... */
    n = mkquery(b, 7, "a", DNS_T_A, 1232);
    uint8_t cookie[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
    b[n - 1] = sizeof(cookie);
    memcpy(b + n, cookie, sizeof(cookie));
    CHECK_INT(dns_query_parse(b, n + sizeof(cookie), &q), DNS_OK);
    /* ...one running past the record is not. */
    b[n + 3] = 9;
    CHECK_INT(dns_query_parse(b, n + sizeof(cookie), &q), DNS_E_OPT);

    /* Version 1: answered with BADVERS. */
    n = mkquery(b, 9, "a", DNS_T_A, 1232);
    b[n - 5] = 1; /* version */
    CHECK_INT(dns_query_parse(b, n, &q), DNS_E_BADVERS);
    uint8_t out[512];
    size_t on =
        dns_build_error(out, sizeof(out), &q, b, DNS_RCODE_BADVERS, 1232);
    CHECK(on > 0);
    CHECK_INT(decode(out, on, &d), 0);
    CHECK_INT(d.id, 9);
    CHECK_INT(d.flags & DNS_F_RCODE, 0);
    CHECK_INT(d.counts[2], 1);
    CHECK_INT(d.rr[0].type, DNS_T_OPT);
    CHECK_INT(d.rr[0].ttl >> 24, 1); /* extended rcode 16 = 1 << 4 */
}

static void test_parse_malformed(void)
{
    uint8_t b[600] = {0};
    size_t n;

    CHECK_INT(dns_query_parse(b, 0, &q), DNS_E_SHORT);
    n = mkquery(b, 1, "a.b", DNS_T_A, -1);
    CHECK_INT(dns_query_parse(b, 11, &q), DNS_E_SHORT);
    for (size_t cut = 12; cut < n; cut++)
        CHECK(dns_query_parse(b, cut, &q) < 0);
    CHECK_INT(dns_query_parse(b, n + 1, &q), DNS_E_TRAILING);

    b[2] |= 0x80; /* QR: an answer sent to us */
    CHECK_INT(dns_query_parse(b, n, &q), DNS_E_NOTQUERY);
    b[2] &= 0x7f;

    b[5] = 0;
    CHECK_INT(dns_query_parse(b, n, &q), DNS_E_COUNT);
    b[5] = 2;
    CHECK_INT(dns_query_parse(b, n, &q), DNS_E_COUNT);
    b[5] = 1;

    /* Label length past the end. */
    b[12] = 40;
    CHECK_INT(dns_query_parse(b, n, &q), DNS_E_TRUNC);
    /* Extended label type. */
    b[12] = 0x41;
    CHECK_INT(dns_query_parse(b, n, &q), DNS_E_NAME);
    /* Pointer to itself, forward, into the header. */
    b[12] = 0xc0;
    b[13] = 12;
    CHECK_INT(dns_query_parse(b, n, &q), DNS_E_NAME);
    b[13] = 16;
    CHECK_INT(dns_query_parse(b, n, &q), DNS_E_NAME);
    b[13] = 2;
    CHECK_INT(dns_query_parse(b, n, &q), DNS_E_NAME);

    /* A name of 256 wire bytes: 4 labels of 63 and one of 0..: */
    memset(b, 0, sizeof(b));
    b[5] = 1;
    size_t o = 12;
    for (int i = 0; i < 4; i++) {
        b[o++] = 63;
        memset(b + o, 'x', 63);
        o += 63;
    }
    b[o++] = 0; /* 4 * 64 + 1 = 257 */
    o += 4;
    CHECK_INT(dns_query_parse(b, o, &q), DNS_E_NAME);
    /* 3 * 64 + 62 + 1 = 255: the longest name. */
    memset(b, 0, sizeof(b));
    b[5] = 1;
    o = 12;
    for (int i = 0; i < 4; i++) {
        int l = i == 3 ? 61 : 63;
        b[o++] = (uint8_t)l;
        memset(b + o, 'y', (size_t)l);
        o += (size_t)l;
    }
    b[o++] = 0;
    b[o + 1] = 1;
    b[o + 3] = 1;
    o += 4;
    CHECK_INT(dns_query_parse(b, o, &q), DNS_OK);
    CHECK_INT(q.qname_len, 255);

    /* Two OPT records. */
    n = mkquery(b, 1, "a", DNS_T_A, 1232);
    memcpy(b + n, b + n - 11, 11);
    b[11] = 2;
    CHECK_INT(dns_query_parse(b, n + 11, &q), DNS_E_OPT);
    /* OPT whose owner is not the root. */
    n = mkquery(b, 1, "a", DNS_T_A, -1);
    b[11] = 1;
    uint8_t opt[] = {1, 'x', 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0};
    memcpy(b + n, opt, sizeof(opt));
    CHECK_INT(dns_query_parse(b, n + sizeof(opt), &q), DNS_E_OPT);
    /* An additional record whose RDLENGTH runs past the end. */
    b[n + 11] = 0;
    b[n + 12] = 50;
    CHECK_INT(dns_query_parse(b, n + sizeof(opt), &q), DNS_E_TRUNC);
    /* ANCOUNT claims a record that is not there. */
    n = mkquery(b, 1, "a", DNS_T_A, -1);
    b[7] = 1;
    CHECK_INT(dns_query_parse(b, n, &q), DNS_E_TRUNC);
    CHECK(strcmp(dns_strerror(DNS_E_TRUNC), "unknown error") != 0);
}

static void test_parse_notimp(void)
{
    uint8_t b[512];
    size_t n = mkquery(b, 0xbeef, "a", DNS_T_A, -1);
    b[2] |= 5 << 3; /* UPDATE */
    CHECK_INT(dns_query_parse(b, n, &q), DNS_E_NOTIMP);
    uint8_t out[64];
    size_t on = dns_build_error(out, sizeof(out), &q, b, DNS_RCODE_NOTIMP, 0);
    CHECK_INT(on, 12);
    CHECK_INT(decode(out, on, &d), 0);
    CHECK_INT(d.id, 0xbeef);
    CHECK_INT(d.qd, 0);
    CHECK_INT(d.flags & DNS_F_RCODE, DNS_RCODE_NOTIMP);
    CHECK_INT((d.flags & DNS_F_OPCODE) >> 11, 5);
    CHECK(d.flags & DNS_F_QR);
}

static void test_names(void)
{
    uint8_t w[DNS_NAME_WIRE_MAX];
    char text[DNS_NAME_TEXT_MAX];

    CHECK_INT(dns_name_to_wire("a.bc", w), 6);
    CHECK(memcmp(w, "\1a\2bc\0", 6) == 0);
    CHECK_INT(dns_name_to_wire("a.bc.", w), 6);
    CHECK_INT(dns_name_to_wire("", w), 1);
    CHECK_INT(dns_name_to_wire(".", w), 1);
    CHECK_INT(dns_name_to_wire("a..b", w), -1);
    CHECK_INT(dns_name_to_wire(".a", w), -1);
    CHECK_INT(dns_name_to_wire("a\\2", w), -1);
    CHECK_INT(dns_name_to_wire("a\\256", w), -1);
    CHECK_INT(dns_name_to_wire("a\\", w), -1);
    char lab[70];
    memset(lab, 'l', 64);
    lab[64] = '\0';
    CHECK_INT(dns_name_to_wire(lab, w), -1);
    lab[63] = '\0';
    CHECK_INT(dns_name_to_wire(lab, w), 65);
    char longname[300] = "";
    for (int i = 0; i < 64; i++)
        strcat(longname, "abc.");
    CHECK_INT(dns_name_to_wire(longname, w), -1);

    /* Escapes round trip: a label holding a dot, a space and a byte 200. */
    int n = dns_name_to_wire("A\\.b\\032c\\200.Z", w);
    CHECK_INT(n, 1 + 6 + 1 + 1 + 1);
    uint8_t pkt[64] = {0};
    memcpy(pkt + 12, w, (size_t)n);
    size_t off = 12;
    CHECK_INT(dns_name_read(pkt, 12 + (size_t)n, &off, text, sizeof(text)), n);
    CHECK_STR(text, "a\\046b\\032c\\200.z");
    CHECK_INT(off, 12 + (size_t)n);
    uint8_t w2[DNS_NAME_WIRE_MAX];
    CHECK_INT(dns_name_to_wire(text, w2), n);
    /* Too small a text buffer is an error, not an overflow. */
    off = 12;
    CHECK_INT(dns_name_read(pkt, 12 + (size_t)n, &off, text, 5), DNS_E_NAME);

    /* A compressed name: "x" + pointer to "a.z" at 12... */
    uint8_t c[64] = {0};
    memcpy(c + 12, "\1a\1z\0\1x\xc0\x0c", 10);
    off = 17;
    CHECK_INT(dns_name_read(c, 22, &off, text, sizeof(text)), 7);
    CHECK_STR(text, "x.a.z");
    CHECK_INT(off, 21);
    /* ...and a chain of pointers that loops back. */
    memcpy(c + 12, "\1a\xc0\x10\xc0\x0c", 6);
    off = 16;
    CHECK_INT(dns_name_read(c, 18, &off, text, sizeof(text)), DNS_E_NAME);
}

/* ---- Answers ---- */

static void test_answer_a(void)
{
    uint8_t b[512], out[512];
    size_t n = mkquery(b, 42, "ApP.NeT", DNS_T_A, -1);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    struct dns_resp r;
    CHECK_INT(dns_resp_begin(&r, out, dns_query_udp_limit(&q, 1232), &q, b,
                             DNS_RCODE_NOERROR, true, 1232),
              0);
    CHECK_INT(dns_resp_add_a(&r, 0, ip("10.0.1.2")), 0);
    CHECK_INT(dns_resp_add_a(&r, 0, ip("10.0.1.3")), 0);
    size_t on = dns_resp_finish(&r);
    CHECK_INT(on, n + 2 * 16);
    CHECK_INT(decode(out, on, &d), 0);
    CHECK_INT(d.id, 42);
    CHECK_INT(d.flags, DNS_F_QR | DNS_F_AA | DNS_F_RD | DNS_F_RA);
    CHECK_INT(d.counts[0], 2);
    CHECK_STR(d.rr[0].name, "app.net");
    CHECK_INT(d.rr[0].ttl, 0);
    CHECK_INT(d.rr[1].a.s_addr, ip("10.0.1.3").s_addr);
    /* The question is echoed byte for byte (0x20 case kept). */
    CHECK(memcmp(out + 12, "\3ApP\3NeT", 8) == 0);
    /* The owner is a pointer to the question. */
    CHECK(out[n] == 0xc0 && out[n + 1] == 12);
}

static void test_answer_nodata_nxdomain(void)
{
    uint8_t b[512], out[512];
    size_t n = mkquery(b, 1, "app", DNS_T_AAAA, 1232);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    struct dns_resp r;
    CHECK_INT(
        dns_resp_begin(&r, out, 512, &q, b, DNS_RCODE_NXDOMAIN, true, 1232), 0);
    size_t on = dns_resp_finish(&r);
    CHECK_INT(decode(out, on, &d), 0);
    CHECK_INT(d.flags & DNS_F_RCODE, DNS_RCODE_NXDOMAIN);
    CHECK_INT(d.counts[0], 0);
    CHECK_INT(d.counts[2], 1); /* OPT */
    CHECK_INT(d.rr[0].type, DNS_T_OPT);
    CHECK_INT(d.rr[0].cls, 1232);
    CHECK_INT(d.rr[0].ttl, 0x8000); /* DO echoed */
    CHECK_INT(d.qtype, DNS_T_AAAA);
}

static void test_truncation(void)
{
    uint8_t b[512], out[2048];
    size_t n = mkquery(b, 1, "tasks.app", DNS_T_A, -1);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    struct dns_resp r;
    size_t limit = dns_query_udp_limit(&q, 1232);
    CHECK_INT(dns_resp_begin(&r, out, limit, &q, b, 0, true, 1232), 0);
    int added = 0;
    for (int i = 0; i < 100; i++)
        if (dns_resp_add_a(&r, 0, ip("10.0.0.1")) == 0)
            added++;
    size_t on = dns_resp_finish(&r);
    CHECK(on <= 512);
    CHECK_INT(added, (int)((512 - n) / 16));
    CHECK_INT(decode(out, on, &d), 0);
    CHECK(d.flags & DNS_F_TC);
    CHECK_INT(d.counts[0], added);

    /* With EDNS: the OPT record still fits under the client's limit. */
    n = mkquery(b, 1, "tasks.app", DNS_T_A, 1000);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    limit = dns_query_udp_limit(&q, 1232);
    CHECK_INT(limit, 1000);
    CHECK_INT(dns_resp_begin(&r, out, limit, &q, b, 0, true, 1232), 0);
    added = 0;
    for (int i = 0; i < 100; i++)
        if (dns_resp_add_a(&r, 0, ip("10.0.0.1")) == 0)
            added++;
    on = dns_resp_finish(&r);
    CHECK(on <= 1000);
    CHECK_INT(added, (int)((1000 - (n - 11) - 11) / 16));
    CHECK_INT(decode(out, on, &d), 0);
    CHECK(d.flags & DNS_F_TC);
    CHECK_INT(d.rr[d.n - 1].type, DNS_T_OPT);

    /* Even the question does not fit. */
    CHECK_INT(dns_resp_begin(&r, out, 20, &q, b, 0, true, 1232), -1);
    CHECK_INT(dns_build_error(out, 20, &q, b, DNS_RCODE_SERVFAIL, 1232), 0);
}

static void test_srv_ptr_compression(void)
{
    uint8_t b[512], out[1024];
    size_t n = mkquery(b, 5, "_http._tcp.app.net", DNS_T_SRV, -1);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    struct dns_resp r;
    CHECK_INT(dns_resp_begin(&r, out, 512, &q, b, 0, true, 1232), 0);
    CHECK_INT(dns_resp_add_srv(&r, 0, 0, 10, 8080, "app.1.abc.app.net"), 0);
    size_t after1 = r.len;
    CHECK_INT(dns_resp_add_srv(&r, 0, 0, 10, 8080, "app.2.def.app.net"), 0);
    size_t second = r.len - after1;
    CHECK_INT(dns_resp_add_srv(&r, 0, 0, 10, 8080, "app.2.def.app.net"), 0);
    size_t third = r.len - after1 - second;
    CHECK_INT(dns_resp_add_srv(&r, 0, 1, 1, 1, "bad..name"), -1);
    CHECK_INT(dns_resp_add_extra_a(&r, "app.1.abc.app.net", 0, ip("1.2.3.4")),
              0);
    CHECK_INT(dns_resp_add_extra_a(&r, "app.2.def.app.net", 0, ip("1.2.3.5")),
              0);
    size_t on = dns_resp_finish(&r);
    CHECK_INT(decode(out, on, &d), 0);
    CHECK_INT(d.counts[0], 3);
    CHECK_INT(d.counts[2], 2);
    CHECK(!(d.flags & DNS_F_TC));
    CHECK_STR(d.rr[0].target, "app.1.abc.app.net");
    CHECK_STR(d.rr[1].target, "app.2.def.app.net");
    CHECK_STR(d.rr[2].target, "app.2.def.app.net");
    CHECK_INT(d.rr[0].port, 8080);
    CHECK_INT(d.rr[0].weight, 10);
    CHECK_STR(d.rr[3].name, "app.1.abc.app.net");
    CHECK_INT(d.rr[4].a.s_addr, ip("1.2.3.5").s_addr);
    /* "app.net" is shared with the question: "app.2.def" + pointer. */
    CHECK_INT(second, 2 + 10 + 6 + (4 + 2 + 4 + 2));
    /* The same target again is one pointer. */
    CHECK_INT(third, 2 + 10 + 6 + 2);
    /* Each extra A is owned by a pointer to its SRV target. */
    CHECK_INT(on, after1 + second + third + 2 * (2 + 10 + 4));

    n = mkquery(b, 6, "20.0.0.10.in-addr.arpa", DNS_T_PTR, -1);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    CHECK_INT(dns_resp_begin(&r, out, 512, &q, b, 0, true, 1232), 0);
    CHECK_INT(dns_resp_add_ptr(&r, 0, "app.1.abc.net."), 0);
    on = dns_resp_finish(&r);
    CHECK_INT(decode(out, on, &d), 0);
    CHECK_INT(d.counts[0], 1);
    CHECK_STR(d.rr[0].name, "20.0.0.10.in-addr.arpa");
    CHECK_INT(d.rr[0].type, DNS_T_PTR);
    CHECK_STR(d.rr[0].target, "app.1.abc.net");
}

static void test_extra_does_not_truncate(void)
{
    uint8_t b[512], out[512];
    size_t n = mkquery(b, 5, "_x._tcp.s", DNS_T_SRV, -1);
    CHECK_INT(dns_query_parse(b, n, &q), DNS_OK);
    struct dns_resp r;
    CHECK_INT(dns_resp_begin(&r, out, 512, &q, b, 0, true, 1232), 0);
    char name[64];
    int srv = 0, extra = 0;
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "task-%02d.s.net", i);
        if (dns_resp_add_srv(&r, 0, 0, 0, 80, name) == 0)
            srv++;
    }
    CHECK(r.truncated);
    r.truncated = false; /* check the additional rule on its own */
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "task-%02d.s.net", i);
        if (dns_resp_add_extra_a(&r, name, 0, ip("10.0.0.9")) == 0)
            extra++;
    }
    CHECK(!r.truncated);
    size_t on = dns_resp_finish(&r);
    CHECK(on <= 512);
    CHECK_INT(decode(out, on, &d), 0);
    CHECK_INT(d.counts[0], srv);
    CHECK_INT(d.counts[2], extra);
    CHECK(extra < 40);
}

/* ---- Upstream answers ---- */

static void test_reply_check(void)
{
    uint8_t fwd[512], ans[512];
    size_t fn = mkquery(fwd, 77, "example.org", DNS_T_A, 1232);
    CHECK_INT(dns_query_parse(fwd, fn, &q), DNS_OK);
    struct dns_resp r;
    CHECK_INT(dns_resp_begin(&r, ans, 512, &q, fwd, 0, false, 1232), 0);
    dns_resp_add_a(&r, 300, ip("93.184.216.34"));
    size_t an = dns_resp_finish(&r);
    CHECK_INT(dns_reply_check(ans, an, fwd, fn), DNS_OK);
    CHECK_INT(dns_msg_id(ans), 77);
    dns_msg_set_id(ans, 0xabcd);
    CHECK_INT(dns_msg_id(ans), 0xabcd);
    CHECK_INT(dns_msg_rcode(ans), 0);
    CHECK(!dns_msg_is_truncated(ans));

    /* Case may differ (0x20), nothing else may. */
    ans[13] = 'E';
    CHECK_INT(dns_reply_check(ans, an, fwd, fn), DNS_OK);
    ans[14] = 'y';
    CHECK_INT(dns_reply_check(ans, an, fwd, fn), DNS_E_MISMATCH);
    ans[14] = 'x';
    ans[12 + 13 + 1] = DNS_T_AAAA;
    CHECK_INT(dns_reply_check(ans, an, fwd, fn), DNS_E_MISMATCH);
    ans[12 + 13 + 1] = DNS_T_A;
    ans[2] &= 0x7f;
    CHECK_INT(dns_reply_check(ans, an, fwd, fn), DNS_E_MISMATCH);
    ans[2] |= 0x80;
    CHECK_INT(dns_reply_check(ans, an - 1, fwd, fn), DNS_E_TRUNC);
    CHECK_INT(dns_reply_check(ans, an + 1, fwd, fn), DNS_E_TRAILING);
    CHECK_INT(dns_reply_check(ans, 5, fwd, fn), DNS_E_SHORT);
    /* Cut short but flagged TC: relayed, the client retries over TCP. */
    ans[2] |= DNS_F_TC >> 8;
    CHECK_INT(dns_reply_check(ans, an - 3, fwd, fn), DNS_OK);
    CHECK(dns_msg_is_truncated(ans));
    ans[2] &= (uint8_t) ~(DNS_F_TC >> 8);

    /* No question: only with an error rcode. */
    uint8_t hdr[12] = {0, 77, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK_INT(dns_reply_check(hdr, 12, fwd, fn), DNS_E_MISMATCH);
    hdr[3] = DNS_RCODE_FORMERR;
    CHECK_INT(dns_reply_check(hdr, 12, fwd, fn), DNS_OK);

    /* Truncating an answer that is too large for the client. */
    size_t tn = dns_reply_truncate(ans, an);
    CHECK_INT(tn, 12 + 13 + 4);
    CHECK_INT(decode(ans, tn, &d), 0);
    CHECK(d.flags & DNS_F_TC);
    CHECK_INT(d.counts[0] + d.counts[1] + d.counts[2], 0);
    CHECK_STR(d.qname, "example.org");
}

int main(void)
{
    RUN(test_parse_simple);
    RUN(test_parse_edns);
    RUN(test_parse_malformed);
    RUN(test_parse_notimp);
    RUN(test_names);
    RUN(test_answer_a);
    RUN(test_answer_nodata_nxdomain);
    RUN(test_truncation);
    RUN(test_srv_ptr_compression);
    RUN(test_extra_does_not_truncate);
    RUN(test_reply_check);
    HARNESS_END();
}
