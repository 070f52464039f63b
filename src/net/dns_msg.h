// SPDX-License-Identifier: Apache-2.0
// DNS wire format for the embedded DNS server, with no I/O: parsing a query
// (header, one question, EDNS0), building answers (A, SRV, PTR, negative and
// error replies) with name compression and truncation, and checking upstream
// answers for the forwarder. Every read from a packet is bounds-checked.
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN       12
#define DNS_NAME_WIRE_MAX 255 /* RFC 1035 2.3.4, length octets included */
#define DNS_LABEL_MAX     63
/* A name in presentation form: every byte may need "\DDD", plus dots. */
#define DNS_NAME_TEXT_MAX 1024
#define DNS_UDP_MIN       512   /* without EDNS */
#define DNS_EDNS_DEFAULT  1232  /* the DNS flag day 2020 size */
#define DNS_TCP_MAX       65535 /* a TCP message, without the length prefix */

enum dns_type {
    DNS_T_A = 1,
    DNS_T_NS = 2,
    DNS_T_CNAME = 5,
    DNS_T_SOA = 6,
    DNS_T_PTR = 12,
    DNS_T_MX = 15,
    DNS_T_TXT = 16,
    DNS_T_AAAA = 28,
    DNS_T_SRV = 33,
    DNS_T_OPT = 41,
    DNS_T_ANY = 255,
};

enum { DNS_CLASS_IN = 1 };

enum dns_rcode {
    DNS_RCODE_NOERROR = 0,
    DNS_RCODE_FORMERR = 1,
    DNS_RCODE_SERVFAIL = 2,
    DNS_RCODE_NXDOMAIN = 3,
    DNS_RCODE_NOTIMP = 4,
    DNS_RCODE_REFUSED = 5,
    DNS_RCODE_BADVERS = 16, /* extended: needs EDNS */
};

/* Header flag bits (the 16-bit word after the ID). */
#define DNS_F_QR     0x8000
#define DNS_F_OPCODE 0x7800
#define DNS_F_AA     0x0400
#define DNS_F_TC     0x0200
#define DNS_F_RD     0x0100
#define DNS_F_RA     0x0080
#define DNS_F_RCODE  0x000f

/* Parse results. Negative: the packet is dropped without an answer, except
 * DNS_E_NOTIMP and DNS_E_BADVERS, which are well-formed queries the server
 * answers with that rcode (dns_build_error). */
enum dns_error {
    DNS_OK = 0,
    DNS_E_SHORT = -1,     /* shorter than a header */
    DNS_E_NOTQUERY = -2,  /* QR set: a response, never answered (loops) */
    DNS_E_COUNT = -3,     /* QDCOUNT != 1 */
    DNS_E_NAME = -4,      /* bad name: bounds, label type, loop, length */
    DNS_E_TRUNC = -5,     /* a section runs past the end */
    DNS_E_OPT = -6,       /* bad or repeated OPT record */
    DNS_E_TRAILING = -7,  /* bytes after the last record */
    DNS_E_NOTIMP = -8,    /* opcode other than QUERY */
    DNS_E_BADVERS = -9,   /* EDNS version above 0 */
    DNS_E_MISMATCH = -10, /* upstream answer: not the question we asked */
};

/* A parsed query. The question's wire bytes stay in the caller's packet
 * (q_off / q_len) so answers echo them byte for byte (0x20 case kept). */
struct dns_query {
    uint16_t id;
    uint16_t flags; /* the header's flag word as received */
    uint16_t qtype, qclass;
    size_t q_off, q_len; /* the question (name, type, class) in the packet */
    size_t qname_len;    /* wire length of the name (uncompressed) */
    /* Lowercased presentation form without the trailing dot ("" for the
     * root); bytes other than printable ASCII, '.' and '\\' become \DDD. */
    char qname[DNS_NAME_TEXT_MAX];
    bool edns;            /* an OPT record was present */
    bool edns_do;         /* its DNSSEC OK bit */
    uint8_t edns_version; /* valid if edns */
    uint16_t edns_size;   /* the client's UDP payload size, if edns */
};

/* Parses a query from pkt[0..len). Returns DNS_OK or a negative
 * enum dns_error. On DNS_E_NOTIMP only id and flags are set (q_len 0); on
 * DNS_E_BADVERS everything is. */
int dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q);

/* The largest UDP answer this query may get: 512 without EDNS, else the
 * client's size clamped to [512, cap]. */
size_t dns_query_udp_limit(const struct dns_query *q, size_t cap);

/* A short name for a dns_error code (logs, tests). */
const char *dns_strerror(int code);

/* Reads a possibly compressed name at *off in pkt[0..len): writes the
 * lowercased presentation form into text (NUL-terminated; needs
 * DNS_NAME_TEXT_MAX bytes unless the name is known to be shorter) and
 * advances *off past the name's bytes at that place. Pointers must point
 * strictly backwards, which bounds the walk. Returns the uncompressed wire
 * length, or a negative dns_error. text may be NULL (validate only). */
int dns_name_read(const uint8_t *pkt, size_t len, size_t *off, char *text,
                  size_t text_cap);

/* Encodes a presentation-form name ("a.b.c", trailing dot optional,
 * "\DDD" and "\X" escapes) into uncompressed wire form in out (at least
 * DNS_NAME_WIRE_MAX bytes). Returns the wire length or -1 if invalid. */
int dns_name_to_wire(const char *text, uint8_t *out);

/* ---- Building answers ---- */

#define DNS_COMP_MAX 32 /* name suffixes remembered for compression */

/* An answer under construction in a caller-owned buffer. Records that do
 * not fit within the limit are not written: a missing answer record sets
 * TC, a missing additional record is simply left out (RFC 2181 9). */
struct dns_resp {
    uint8_t *buf;
    size_t limit; /* bytes the answer may take, OPT included */
    size_t len;
    size_t reserve;     /* kept free for the OPT record */
    uint16_t counts[3]; /* answer, authority, additional */
    int section;        /* 0 answer, 2 additional */
    bool truncated;
    bool edns, edns_do;
    uint16_t edns_size;          /* what we advertise in our OPT */
    uint8_t ext_rcode;           /* upper 8 bits of a 12-bit rcode (BADVERS) */
    uint16_t comp[DNS_COMP_MAX]; /* offsets of names in buf, for pointers */
    size_t n_comp;
};

/* Starts an answer to q (whose packet is pkt) in buf: header with q's ID,
 * RD, QR, RA, AA if aa, rcode; the question echoed; an OPT record at the
 * end if q had one (advertising edns_size). limit is the most the whole
 * answer may take (dns_query_udp_limit or DNS_TCP_MAX); buf must hold at
 * least limit bytes. Returns -1 (nothing usable) only if even the header
 * and question do not fit. */
int dns_resp_begin(struct dns_resp *r, uint8_t *buf, size_t limit,
                   const struct dns_query *q, const uint8_t *pkt, int rcode,
                   bool aa, uint16_t edns_size);
/* Answer records, owned by the question's name. Each returns 0, or -1 if it
 * did not fit (TC is set and later answer records are refused too). */
int dns_resp_add_a(struct dns_resp *r, uint32_t ttl, struct in_addr addr);
int dns_resp_add_srv(struct dns_resp *r, uint32_t ttl, uint16_t priority,
                     uint16_t weight, uint16_t port, const char *target);
int dns_resp_add_ptr(struct dns_resp *r, uint32_t ttl, const char *name);
/* An additional A record (SRV target address). -1 if it did not fit or the
 * name is invalid; never sets TC. Call after the answer records. */
int dns_resp_add_extra_a(struct dns_resp *r, const char *name, uint32_t ttl,
                         struct in_addr addr);
/* Writes the counts, TC and the OPT record; returns the answer's length. */
size_t dns_resp_finish(struct dns_resp *r);

/* An error answer (FORMERR, SERVFAIL, NOTIMP, REFUSED, BADVERS...) to q,
 * echoing the question if q has one. Returns its length (at most
 * DNS_HDR_LEN + q->q_len + 11), or 0 if it does not fit in cap. */
size_t dns_build_error(uint8_t *buf, size_t cap, const struct dns_query *q,
                       const uint8_t *pkt, int rcode, uint16_t edns_size);

/* ---- Forwarding ---- */

static inline uint16_t dns_msg_id(const uint8_t *pkt)
{
    return (uint16_t)(pkt[0] << 8 | pkt[1]);
}
static inline void dns_msg_set_id(uint8_t *pkt, uint16_t id)
{
    pkt[0] = (uint8_t)(id >> 8);
    pkt[1] = (uint8_t)id;
}

/* Checks an upstream answer pkt[0..len) to the query fwd[0..fwd_len) we
 * sent (same ID already matched by the caller): a response (QR), opcode
 * QUERY, the same question (name compared without case, type, class) or no
 * question with a non-zero rcode, and every record within bounds. Returns
 * DNS_OK or a negative dns_error. */
int dns_reply_check(const uint8_t *pkt, size_t len, const uint8_t *fwd,
                    size_t fwd_len);

/* The rcode of a checked answer. */
static inline int dns_msg_rcode(const uint8_t *pkt)
{
    return pkt[3] & 0x0f;
}
static inline bool dns_msg_is_truncated(const uint8_t *pkt)
{
    return (pkt[2] & (DNS_F_TC >> 8)) != 0;
}

/* Cuts an answer that passed dns_reply_check down to header and question
 * with TC set and no records; returns the new length. For an upstream
 * answer larger than the client allows. */
size_t dns_reply_truncate(uint8_t *pkt, size_t len);
