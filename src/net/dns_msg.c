// SPDX-License-Identifier: Apache-2.0
// DNS wire format, hand-written rather than libldns: the server needs one
// question in and a handful of record types out, and building answers
// straight into a preallocated buffer (no rr objects, no allocation) is what
// makes the hot path fast. Every read from a packet is bounds-checked.
#include "net/dns_msg.h"

#include <assert.h>
#include <string.h>

/* ---- Reading ---- */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

const char *dns_strerror(int code)
{
    switch (code) {
    case DNS_OK:
        return "ok";
    case DNS_E_SHORT:
        return "shorter than a header";
    case DNS_E_NOTQUERY:
        return "not a query";
    case DNS_E_COUNT:
        return "unexpected question count";
    case DNS_E_NAME:
        return "malformed name";
    case DNS_E_TRUNC:
        return "truncated record";
    case DNS_E_OPT:
        return "malformed OPT record";
    case DNS_E_TRAILING:
        return "trailing bytes";
    case DNS_E_NOTIMP:
        return "opcode not implemented";
    case DNS_E_BADVERS:
        return "unsupported EDNS version";
    case DNS_E_MISMATCH:
        return "answer does not match the question";
    default:
        return "unknown error";
    }
}

/* Appends label bytes to text in presentation form; false if cap is hit. */
static bool text_label(char *text, size_t cap, size_t *t, const uint8_t *p,
                       size_t n)
{
    size_t at = *t;
    if (at > 0) {
        if (at + 1 >= cap)
            return false;
        text[at++] = '.';
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = lower(p[i]);
        if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
            if (at + 1 >= cap)
                return false;
            text[at++] = (char)c;
        } else {
            if (at + 4 >= cap)
                return false;
            text[at++] = '\\';
            text[at++] = (char)('0' + c / 100);
            text[at++] = (char)('0' + c / 10 % 10);
            text[at++] = (char)('0' + c % 10);
        }
    }
    *t = at;
    return true;
}

int dns_name_read(const uint8_t *pkt, size_t len, size_t *off, char *text,
                  size_t text_cap)
{
    size_t pos = *off, end = 0, wire = 0, t = 0;
    size_t lowest = pos; /* the lowest offset visited */
    bool jumped = false;

    if (text) {
        if (text_cap == 0)
            return DNS_E_NAME;
        text[0] = '\0';
    }
    for (;;) {
        if (pos >= len)
            return DNS_E_TRUNC;
        uint8_t c = pkt[pos];
        if ((c & 0xc0) == 0xc0) {
            if (pos + 1 >= len)
                return DNS_E_TRUNC;
            size_t ptr = (size_t)(c & 0x3f) << 8 | pkt[pos + 1];
            /* Strictly below everything visited: the walk must end, and a
             * name never points into the header. */
            if (ptr >= lowest || ptr < DNS_HDR_LEN)
                return DNS_E_NAME;
            if (!jumped) {
                end = pos + 2;
                jumped = true;
            }
            pos = lowest = ptr;
            continue;
        }
        if (c & 0xc0) /* 0x40 and 0x80: extended/obsolete label types */
            return DNS_E_NAME;
        if (c == 0) {
            wire++;
            pos++;
            break;
        }
        if (c > len - pos - 1)
            return DNS_E_TRUNC;
        wire += 1 + (size_t)c;
        if (wire + 1 > DNS_NAME_WIRE_MAX)
            return DNS_E_NAME;
        if (text && !text_label(text, text_cap, &t, pkt + pos + 1, c))
            return DNS_E_NAME;
        pos += 1 + (size_t)c;
    }
    if (text)
        text[t] = '\0';
    *off = jumped ? end : pos;
    return (int)wire;
}

int dns_name_to_wire(const char *text, uint8_t *out)
{
    size_t o = 0;
    const char *p = text;

    if (p[0] == '.' && p[1] == '\0')
        p++;
    while (*p) {
        size_t lab = o++, n = 0;
        while (*p && *p != '.') {
            unsigned c = (unsigned char)*p++;
            if (c == '\\') {
                if (p[0] >= '0' && p[0] <= '9') {
                    if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
                          p[2] <= '9'))
                        return -1;
                    c = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 +
                                   (p[2] - '0'));
                    if (c > 255)
                        return -1;
                    p += 3;
                } else if (*p) {
                    c = (unsigned char)*p++;
                } else {
                    return -1;
                }
            }
            if (n == DNS_LABEL_MAX || o + 1 >= DNS_NAME_WIRE_MAX)
                return -1;
            out[o++] = (uint8_t)c;
            n++;
        }
        if (n == 0) /* empty label: "a..b" or a leading dot */
            return -1;
        out[lab] = (uint8_t)n;
        if (*p == '.')
            p++;
    }
    if (o + 1 > DNS_NAME_WIRE_MAX)
        return -1;
    out[o++] = 0;
    return (int)o;
}

/* Skips one resource record at *off; returns its type or a dns_error. */
static int skip_rr(const uint8_t *pkt, size_t len, size_t *off)
{
    int n = dns_name_read(pkt, len, off, NULL, 0);
    if (n < 0)
        return n;
    if (len - *off < 10)
        return DNS_E_TRUNC;
    uint16_t type = get16(pkt + *off);
    uint16_t rdlen = get16(pkt + *off + 8);
    if (len - *off - 10 < rdlen)
        return DNS_E_TRUNC;
    *off += 10 + (size_t)rdlen;
    return type;
}

/* Reads the OPT record whose name starts at *off (already known to be of
 * type OPT). */
static int read_opt(const uint8_t *pkt, size_t len, size_t *off,
                    struct dns_query *q)
{
    if (q->edns)
        return DNS_E_OPT; /* RFC 6891 6.1.1: more than one */
    /* Bounds were checked by skip_rr; checked again so this function is
     * safe on its own. */
    if (*off >= len || len - *off < 11)
        return DNS_E_TRUNC;
    if (pkt[*off] != 0)
        return DNS_E_OPT; /* owner must be the root */
    size_t p = *off + 1;
    /* type(2) class=size(2) ttl=ext-rcode,version,flags(4) rdlen(2) */
    uint16_t size = get16(pkt + p + 2);
    uint8_t version = pkt[p + 5];
    uint16_t eflags = get16(pkt + p + 6);
    uint16_t rdlen = get16(pkt + p + 8);
    size_t opt = p + 10, opt_end = opt + rdlen;
    if (opt_end > len)
        return DNS_E_TRUNC;
    while (opt < opt_end) { /* options: code(2) length(2) data */
        if (opt_end - opt < 4)
            return DNS_E_OPT;
        uint16_t olen = get16(pkt + opt + 2);
        if (opt_end - opt - 4 < olen)
            return DNS_E_OPT;
        opt += 4 + (size_t)olen;
    }
    q->edns = true;
    q->edns_size = size;
    q->edns_version = version;
    q->edns_do = (eflags & 0x8000) != 0;
    *off = opt_end;
    return DNS_OK;
}

int dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q)
{
    q->q_off = q->q_len = q->qname_len = 0;
    q->qtype = q->qclass = 0;
    q->qname[0] = '\0';
    q->edns = q->edns_do = false;
    q->edns_version = 0;
    q->edns_size = 0;
    if (len < DNS_HDR_LEN)
        return DNS_E_SHORT;
    q->id = get16(pkt);
    q->flags = get16(pkt + 2);
    if (q->flags & DNS_F_QR)
        return DNS_E_NOTQUERY;
    if (q->flags & DNS_F_OPCODE)
        return DNS_E_NOTIMP;
    if (get16(pkt + 4) != 1)
        return DNS_E_COUNT;
    unsigned an = get16(pkt + 6), ns = get16(pkt + 8), ar = get16(pkt + 10);

    size_t off = DNS_HDR_LEN;
    int n = dns_name_read(pkt, len, &off, q->qname, sizeof(q->qname));
    if (n < 0)
        return n;
    if (len - off < 4)
        return DNS_E_TRUNC;
    q->qtype = get16(pkt + off);
    q->qclass = get16(pkt + off + 2);
    off += 4;
    q->q_off = DNS_HDR_LEN;
    q->q_len = off - DNS_HDR_LEN;
    q->qname_len = (size_t)n;

    /* Queries rarely carry answer or authority records; skip them. */
    for (unsigned i = 0; i < an + ns; i++) {
        int r = skip_rr(pkt, len, &off);
        if (r < 0)
            return r;
    }
    for (unsigned i = 0; i < ar; i++) {
        size_t start = off;
        int r = skip_rr(pkt, len, &off);
        if (r < 0)
            return r;
        if (r == DNS_T_OPT) {
            size_t o = start;
            r = read_opt(pkt, len, &o, q);
            if (r < 0)
                return r;
        }
    }
    if (off != len)
        return DNS_E_TRAILING;
    if (q->edns && q->edns_version > 0)
        return DNS_E_BADVERS;
    return DNS_OK;
}

size_t dns_query_udp_limit(const struct dns_query *q, size_t cap)
{
    if (!q->edns)
        return DNS_UDP_MIN;
    size_t s = q->edns_size;
    if (s > cap)
        s = cap;
    return s < DNS_UDP_MIN ? DNS_UDP_MIN : s;
}

/* ---- Building ---- */

#define OPT_RR_LEN 11

static bool room(const struct dns_resp *r, size_t n)
{
    return r->len + r->reserve <= r->limit &&
           n <= r->limit - r->reserve - r->len;
}

/* Remembers the start of every label of a name written at off, so later
 * names can point at any of its suffixes. */
static void comp_remember(struct dns_resp *r, size_t off)
{
    size_t p = off;
    for (int guard = 0; guard < 128 && r->n_comp < DNS_COMP_MAX; guard++) {
        uint8_t c = r->buf[p];
        if (c == 0 || (c & 0xc0) == 0xc0 || p > 0x3fff)
            return;
        r->comp[r->n_comp++] = (uint16_t)p;
        p += 1 + (size_t)c;
    }
}

/* True if the name at buf offset at (which we wrote; may hold pointers) is
 * wire name w without regard to case. */
static bool comp_equal(const struct dns_resp *r, size_t at, const uint8_t *w)
{
    size_t p = at, i = 0;
    for (int guard = 0; guard < 256; guard++) {
        uint8_t c = r->buf[p];
        if ((c & 0xc0) == 0xc0) {
            p = (size_t)(c & 0x3f) << 8 | r->buf[p + 1];
            continue;
        }
        if (c != w[i])
            return false;
        if (c == 0)
            return true;
        for (size_t k = 1; k <= c; k++)
            if (lower(r->buf[p + k]) != lower(w[i + k]))
                return false;
        p += 1 + (size_t)c;
        i += 1 + (size_t)c;
    }
    return false;
}

/* Writes wire name w (uncompressed, wlen bytes) compressed against the
 * names already in the answer. Returns -1 if it does not fit. */
static int put_name(struct dns_resp *r, const uint8_t *w)
{
    size_t i = 0, start = r->len;
    while (w[i] != 0) {
        for (size_t k = 0; k < r->n_comp; k++) {
            if (comp_equal(r, r->comp[k], w + i)) {
                if (!room(r, i + 2))
                    return -1;
                memcpy(r->buf + r->len, w, i);
                put16(r->buf + r->len + i, (uint16_t)(0xc000 | r->comp[k]));
                r->len += i + 2;
                comp_remember(r, start);
                return 0;
            }
        }
        i += 1 + (size_t)w[i];
    }
    if (!room(r, i + 1))
        return -1;
    memcpy(r->buf + r->len, w, i + 1);
    r->len += i + 1;
    comp_remember(r, start);
    return 0;
}

/* Type, class IN, TTL and RDLENGTH placeholder; returns the offset of
 * RDLENGTH or 0 if it does not fit. */
static size_t put_rr_fixed(struct dns_resp *r, uint16_t type, uint32_t ttl)
{
    if (!room(r, 10))
        return 0;
    uint8_t *p = r->buf + r->len;
    put16(p, type);
    put16(p + 2, DNS_CLASS_IN);
    put32(p + 4, ttl);
    put16(p + 8, 0);
    r->len += 10;
    return r->len - 2;
}

/* A record owned by the question name (a pointer to offset 12). */
static size_t put_owner_q(struct dns_resp *r)
{
    if (!room(r, 2))
        return 0;
    put16(r->buf + r->len, 0xc000 | DNS_HDR_LEN);
    r->len += 2;
    return r->len;
}

/* Undoes a partly written record and applies the truncation rule. */
static int rr_fail(struct dns_resp *r, size_t len, size_t n_comp)
{
    r->len = len;
    r->n_comp = n_comp;
    if (r->section == 0)
        r->truncated = true;
    return -1;
}

static void rr_done(struct dns_resp *r, size_t rdlen_at)
{
    put16(r->buf + rdlen_at, (uint16_t)(r->len - rdlen_at - 2));
    r->counts[r->section]++;
}

int dns_resp_begin(struct dns_resp *r, uint8_t *buf, size_t limit,
                   const struct dns_query *q, const uint8_t *pkt, int rcode,
                   bool aa, uint16_t edns_size)
{
    memset(r, 0, offsetof(struct dns_resp, comp));
    r->buf = buf;
    r->limit = limit;
    r->edns = q->edns;
    r->edns_do = q->edns_do;
    r->edns_size = edns_size;
    r->reserve = q->edns ? OPT_RR_LEN : 0;
    r->ext_rcode = (uint8_t)((unsigned)rcode >> 4);
    r->n_comp = 0;
    if (DNS_HDR_LEN + q->q_len + r->reserve > limit)
        return -1;
    uint16_t flags = DNS_F_QR | DNS_F_RA |
                     (q->flags & (DNS_F_OPCODE | DNS_F_RD)) |
                     (uint16_t)(rcode & 0xf);
    if (aa)
        flags |= DNS_F_AA;
    put16(buf, q->id);
    put16(buf + 2, flags);
    put16(buf + 4, q->q_len ? 1 : 0);
    memset(buf + 6, 0, 6);
    r->len = DNS_HDR_LEN;
    if (q->q_len) {
        memcpy(buf + DNS_HDR_LEN, pkt + q->q_off, q->q_len);
        r->len += q->q_len;
        comp_remember(r, DNS_HDR_LEN);
    }
    return 0;
}

int dns_resp_add_a(struct dns_resp *r, uint32_t ttl, struct in_addr addr)
{
    size_t len = r->len, n_comp = r->n_comp;
    assert(r->section == 0);
    if (r->truncated)
        return -1;
    size_t at;
    if (!put_owner_q(r) || !(at = put_rr_fixed(r, DNS_T_A, ttl)) || !room(r, 4))
        return rr_fail(r, len, n_comp);
    memcpy(r->buf + r->len, &addr.s_addr, 4); /* already network order */
    r->len += 4;
    rr_done(r, at);
    return 0;
}

int dns_resp_add_srv(struct dns_resp *r, uint32_t ttl, uint16_t priority,
                     uint16_t weight, uint16_t port, const char *target)
{
    uint8_t w[DNS_NAME_WIRE_MAX];
    size_t len = r->len, n_comp = r->n_comp;
    assert(r->section == 0);
    if (r->truncated)
        return -1;
    int wl = dns_name_to_wire(target, w);
    if (wl < 0)
        return -1; /* a bad name from the resolver: leave it out */
    size_t at;
    if (!put_owner_q(r) || !(at = put_rr_fixed(r, DNS_T_SRV, ttl)) ||
        !room(r, 6))
        return rr_fail(r, len, n_comp);
    put16(r->buf + r->len, priority);
    put16(r->buf + r->len + 2, weight);
    put16(r->buf + r->len + 4, port);
    r->len += 6;
    /* RFC 2782 says the target is not compressed, but every resolver
     * decompresses it (RFC 3597 lists SRV as compressible on input). */
    if (put_name(r, w) < 0)
        return rr_fail(r, len, n_comp);
    rr_done(r, at);
    return 0;
}

int dns_resp_add_ptr(struct dns_resp *r, uint32_t ttl, const char *name)
{
    uint8_t w[DNS_NAME_WIRE_MAX];
    size_t len = r->len, n_comp = r->n_comp;
    assert(r->section == 0);
    if (r->truncated)
        return -1;
    int wl = dns_name_to_wire(name, w);
    if (wl < 0)
        return -1;
    size_t at;
    if (!put_owner_q(r) || !(at = put_rr_fixed(r, DNS_T_PTR, ttl)) ||
        put_name(r, w) < 0)
        return rr_fail(r, len, n_comp);
    rr_done(r, at);
    return 0;
}

int dns_resp_add_extra_a(struct dns_resp *r, const char *name, uint32_t ttl,
                         struct in_addr addr)
{
    uint8_t w[DNS_NAME_WIRE_MAX];
    size_t len = r->len, n_comp = r->n_comp;
    r->section = 2;
    int wl = dns_name_to_wire(name, w);
    if (wl < 0)
        return -1;
    size_t at;
    if (put_name(r, w) < 0 || !(at = put_rr_fixed(r, DNS_T_A, ttl)) ||
        !room(r, 4))
        return rr_fail(r, len, n_comp);
    memcpy(r->buf + r->len, &addr.s_addr, 4);
    r->len += 4;
    rr_done(r, at);
    return 0;
}

size_t dns_resp_finish(struct dns_resp *r)
{
    uint8_t *b = r->buf;
    put16(b + 6, r->counts[0]);
    put16(b + 8, r->counts[1]);
    uint16_t ar = r->counts[2];
    if (r->edns) {
        /* Reserved at begin, so it always fits. */
        uint8_t *p = b + r->len;
        p[0] = 0;
        put16(p + 1, DNS_T_OPT);
        put16(p + 3, r->edns_size);
        put32(p + 5, (uint32_t)r->ext_rcode << 24 | (r->edns_do ? 0x8000 : 0));
        put16(p + 9, 0);
        r->len += OPT_RR_LEN;
        ar++;
    }
    put16(b + 10, ar);
    if (r->truncated)
        b[2] |= DNS_F_TC >> 8;
    return r->len;
}

size_t dns_build_error(uint8_t *buf, size_t cap, const struct dns_query *q,
                       const uint8_t *pkt, int rcode, uint16_t edns_size)
{
    struct dns_resp r;
    if (dns_resp_begin(&r, buf, cap, q, pkt, rcode, false, edns_size) < 0)
        return 0;
    return dns_resp_finish(&r);
}

/* ---- Forwarding ---- */

int dns_reply_check(const uint8_t *pkt, size_t len, const uint8_t *fwd,
                    size_t fwd_len)
{
    if (len < DNS_HDR_LEN || fwd_len < DNS_HDR_LEN)
        return DNS_E_SHORT;
    uint16_t flags = get16(pkt + 2);
    if (!(flags & DNS_F_QR) || (flags & DNS_F_OPCODE))
        return DNS_E_MISMATCH;
    unsigned qd = get16(pkt + 4);
    unsigned n_rr = (unsigned)get16(pkt + 6) + get16(pkt + 8) + get16(pkt + 10);
    bool tc = (flags & DNS_F_TC) != 0;
    size_t off = DNS_HDR_LEN;

    if (qd > 1)
        return DNS_E_COUNT;
    if (qd == 0) {
        /* FORMERR and friends often come back without the question. */
        if ((flags & DNS_F_RCODE) == DNS_RCODE_NOERROR)
            return DNS_E_MISMATCH;
    } else {
        /* Our query's question is uncompressed (dns_query_parse allows no
         * pointer there); so must the answer's be: compare the wire bytes
         * without case (label lengths are below 'A', unaffected). */
        size_t fo = DNS_HDR_LEN;
        int fn = dns_name_read(fwd, fwd_len, &fo, NULL, 0);
        if (fn < 0 || fwd_len - fo < 4)
            return DNS_E_MISMATCH;
        int n = dns_name_read(pkt, len, &off, NULL, 0);
        if (n < 0)
            return n;
        if (len - off < 4)
            return DNS_E_TRUNC;
        if (n != fn || off - DNS_HDR_LEN != (size_t)n)
            return DNS_E_MISMATCH;
        for (size_t i = DNS_HDR_LEN; i < off; i++)
            if (lower(pkt[i]) != lower(fwd[i]))
                return DNS_E_MISMATCH;
        if (memcmp(pkt + off, fwd + fo, 4) != 0)
            return DNS_E_MISMATCH;
        off += 4;
    }
    for (unsigned i = 0; i < n_rr; i++) {
        int r = skip_rr(pkt, len, &off);
        if (r < 0)
            return tc ? DNS_OK : r; /* cut short by a careless server */
    }
    if (off != len && !tc)
        return DNS_E_TRAILING;
    return DNS_OK;
}

size_t dns_reply_truncate(uint8_t *pkt, size_t len)
{
    size_t end = DNS_HDR_LEN;
    if (len < DNS_HDR_LEN)
        return len;
    if (get16(pkt + 4) == 1) {
        if (dns_name_read(pkt, len, &end, NULL, 0) < 0 || len - end < 4)
            return len; /* not checked by dns_reply_check: leave it */
        end += 4;
    } else {
        put16(pkt + 4, 0);
    }
    memset(pkt + 6, 0, 6);
    pkt[2] |= DNS_F_TC >> 8;
    return end;
}
