// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the DNS wire format (net/dns_msg.c): arbitrary bytes
// as a client's query (parse, then answers of every kind built from it must
// come out well-formed) and as an upstream answer (the forwarder's checks and
// truncation), plus the text-to-wire name encoder.
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/dns_msg.h"
#include "net/dns_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[DNS_TCP_MAX];

/* An answer we built must pass the same checks as an upstream's. */
static void expect_wellformed(const uint8_t *ans, size_t n, const uint8_t *q,
                              size_t qlen)
{
    if (n == 0)
        return;
    int r = dns_reply_check(ans, n, q, qlen);
    if (r != DNS_OK) {
        fprintf(stderr, "built a bad answer: %s\n", dns_strerror(r));
        abort();
    }
}

static void build_answers(const uint8_t *data, size_t size,
                          const struct dns_query *q)
{
    static const size_t limits[] = {DNS_UDP_MIN, DNS_EDNS_DEFAULT, 4096,
                                    DNS_TCP_MAX};
    /* Record contents come from the input so the fuzzer steers them. */
    unsigned n_a = size > 12 ? data[size - 1] : 3;
    char target[DNS_NAME_MAX];
    snprintf(target, sizeof(target), "%.200s.svc", q->qname);

    for (size_t li = 0; li < sizeof(limits) / sizeof(limits[0]); li++) {
        size_t limit = limits[li];
        if (li == 0)
            limit = dns_query_udp_limit(q, DNS_EDNS_DEFAULT);
        struct dns_resp r;
        if (dns_resp_begin(&r, out, limit, q, data, DNS_RCODE_NOERROR, true,
                           DNS_EDNS_DEFAULT) < 0)
            continue;
        for (unsigned i = 0; i < n_a; i++) {
            struct in_addr a = {htonl(0x0a000000u + i)};
            if (dns_resp_add_a(&r, 0, a) < 0)
                break;
        }
        expect_wellformed(out, dns_resp_finish(&r), data, size);

        if (dns_resp_begin(&r, out, limit, q, data, DNS_RCODE_NOERROR, true,
                           DNS_EDNS_DEFAULT) < 0)
            continue;
        for (unsigned i = 0; i < (n_a & 15); i++)
            dns_resp_add_srv(&r, 5, (uint16_t)i, 1, 80,
                             i & 1 ? target : q->qname);
        for (unsigned i = 0; i < (n_a & 15); i++) {
            struct in_addr a = {htonl(0x0a000000u + i)};
            dns_resp_add_extra_a(&r, i & 1 ? target : q->qname, 5, a);
        }
        expect_wellformed(out, dns_resp_finish(&r), data, size);

        if (dns_resp_begin(&r, out, limit, q, data, DNS_RCODE_NOERROR, true,
                           DNS_EDNS_DEFAULT) < 0)
            continue;
        dns_resp_add_ptr(&r, 0, target);
        dns_resp_add_ptr(&r, 0, q->qname);
        expect_wellformed(out, dns_resp_finish(&r), data, size);

        expect_wellformed(out,
                          dns_build_error(out, limit, q, data,
                                          DNS_RCODE_SERVFAIL, DNS_EDNS_DEFAULT),
                          data, size);
    }
}

/* The bytes as an upstream answer: to a fixed query, and to themselves
 * with QR set (so the question matches and the record walk runs). */
static void upstream_answer(const uint8_t *data, size_t size, bool is_query)
{
    static const uint8_t fwd[] = {
        0x12, 0x34, 0x01, 0x00, 0,   1, 0,   0,   0,   0, 0, 0, 7, 'e', 'x',
        'a',  'm',  'p',  'l',  'e', 3, 'o', 'r', 'g', 0, 0, 1, 0, 1};
    static uint8_t copy[65536];
    if (size > sizeof(copy))
        return;
    memcpy(copy, data, size);
    if (dns_reply_check(copy, size, fwd, sizeof(fwd)) == DNS_OK) {
        (void)dns_msg_rcode(copy);
        (void)dns_msg_is_truncated(copy);
        dns_msg_set_id(copy, 0xabcd);
        size_t n = dns_reply_truncate(copy, size);
        if (n > size)
            abort();
    }
    if (is_query && size >= DNS_HDR_LEN) {
        memcpy(copy, data, size);
        copy[2] |= 0x80;
        if (dns_reply_check(copy, size, data, size) == DNS_OK) {
            size_t n = dns_reply_truncate(copy, size);
            if (n > size)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dns_query q;
    int r = dns_query_parse(data, size, &q);
    if (r == DNS_OK || r == DNS_E_BADVERS) {
        if (q.q_off + q.q_len > size || q.qname_len > DNS_NAME_WIRE_MAX)
            abort();
        build_answers(data, size, &q);
        /* The lowercased text form must encode back to a name. */
        uint8_t w[DNS_NAME_WIRE_MAX];
        if (dns_name_to_wire(q.qname, w) != (int)q.qname_len)
            abort();
    } else if (r == DNS_E_NOTIMP) {
        expect_wellformed(NULL, 0, data, size);
        if (dns_build_error(out, DNS_UDP_MIN, &q, data, DNS_RCODE_NOTIMP, 0) !=
            DNS_HDR_LEN)
            abort();
    }
    upstream_answer(data, size, r == DNS_OK);

    /* The bytes as a name in text form (resolver output). */
    char text[512];
    size_t tn = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, tn);
    text[tn] = '\0';
    uint8_t w[DNS_NAME_WIRE_MAX];
    int wl = dns_name_to_wire(text, w);
    if (wl > DNS_NAME_WIRE_MAX)
        abort();
    struct in_addr a;
    (void)dns_ptr_name_to_addr(text, &a);
    return 0;
}
