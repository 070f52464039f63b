// SPDX-License-Identifier: Apache-2.0
// PKI tests: CA digests and join tokens, CSR signing and identities, renewal
// times, and real TLS handshakes in memory (BIO pairs) for mutual TLS and
// the digest-pinned join.
#include "harness.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <time.h>

#include "cluster/pki.h"

#define DAY 86400

static struct pki_pair ca1, ca2;

/* A node certificate and key signed by ca. */
static struct pki_pair node_cert(const struct pki_pair *ca, const char *id,
                                 const char *ou, int64_t valid)
{
    struct pki_pair p = {0};
    struct err err = {0};
    char *csr = NULL;
    CHECK_INT(pki_csr_create(&p.key_pem, &csr, &err), 0);
    CHECK_INT(
        pki_csr_sign(ca, csr, id, ou, "cluster1", valid, &p.cert_pem, &err), 0);
    free(csr);
    return p;
}

/* "node cert + CA cert" as the TLS contexts take it. */
static struct pki_pair bundle(const struct pki_pair *node,
                              const struct pki_pair *ca)
{
    struct pki_pair b = {0};
    size_t n = strlen(node->cert_pem), m = strlen(ca->cert_pem);
    b.cert_pem = malloc(n + m + 1);
    memcpy(b.cert_pem, node->cert_pem, n);
    memcpy(b.cert_pem + n, ca->cert_pem, m + 1);
    b.key_pem = strdup(node->key_pem);
    return b;
}

/* The digest the slow way: SHA-256 of the DER, base 36 through BIGNUM. */
static void digest_reference(const char *pem, char out[51])
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    unsigned char md[32];
    SHA256(der, (size_t)n, md);
    BIGNUM *bn = BN_bin2bn(md, sizeof(md), NULL);
    memset(out, '0', 50);
    out[50] = '\0';
    for (int i = 49; i >= 0 && !BN_is_zero(bn); i--)
        out[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[BN_div_word(bn, 36)];
    BN_free(bn);
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(b);
}

/* The CSR with the last byte of its DER (inside the signature) changed. */
static char *flip_last_der_byte(const char *csr_pem)
{
    BIO *b = BIO_new_mem_buf(csr_pem, -1);
    X509_REQ *req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
    unsigned char *der = NULL;
    int n = i2d_X509_REQ(req, &der);
    der[n - 1] ^= 0x01;
    const unsigned char *p = der;
    X509_REQ *bad = d2i_X509_REQ(NULL, &p, n);
    BIO *out = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_REQ(out, bad);
    char *data;
    long len = BIO_get_mem_data(out, &data);
    char *pem = strndup(data, (size_t)len);
    BIO_free(out);
    X509_REQ_free(bad);
    OPENSSL_free(der);
    X509_REQ_free(req);
    BIO_free(b);
    return pem;
}

static bool all_base36(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z')))
            return false;
    return true;
}

static void test_digest(void)
{
    struct err err = {0};
    char d1[51], d1b[51], d2[51], ref[51];
    CHECK_INT(pki_ca_digest(ca1.cert_pem, d1, &err), 0);
    CHECK_INT(strlen(d1), 50);
    CHECK(all_base36(d1));
    CHECK_INT(pki_ca_digest(ca1.cert_pem, d1b, &err), 0);
    CHECK_STR(d1, d1b);
    digest_reference(ca1.cert_pem, ref);
    CHECK_STR(d1, ref);
    CHECK_INT(pki_ca_digest(ca2.cert_pem, d2, &err), 0);
    CHECK(strcmp(d1, d2) != 0);
    CHECK_INT(pki_ca_digest("not a pem", d2, &err), -1);
    CHECK_INT(err.code, ERR_INVALID);
    CHECK(ERR_peek_error() == 0);
}

static void test_ca_cert(void)
{
    BIO *b = BIO_new_mem_buf(ca1.cert_pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    CHECK(x != NULL);
    CHECK_INT(X509_check_ca(x), 1);
    CHECK_INT(X509_self_signed(x, 1), 1);
    CHECK(X509_get_key_usage(x) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    CHECK(X509_get0_subject_key_id(x) != NULL);
    char cn[64];
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
                              sizeof(cn));
    CHECK_STR(cn, "swarm-ca");
    int day, sec;
    CHECK_INT(ASN1_TIME_diff(&day, &sec, NULL, X509_get0_notBefore(x)), 1);
    CHECK(day == 0 && sec <= -59 && sec >= -70);
    CHECK_INT(ASN1_TIME_diff(&day, &sec, NULL, X509_get0_notAfter(x)), 1);
    CHECK(day >= 20 * 365 - 1 && day <= 20 * 365);
    BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    CHECK(BN_num_bits(serial) > 64);
    BN_free(serial);
    X509_free(x);
    BIO_free(b);

    struct pki_pair bad = {0};
    struct err err = {0};
    CHECK_INT(pki_ca_create(0, &bad, &err), -1);
    CHECK_INT(err.code, ERR_INVALID);
    CHECK(bad.cert_pem == NULL && bad.key_pem == NULL);
}

static void test_token(void)
{
    struct err err = {0};
    char d[51], s[26], s2[26], pd[51], ps[26];
    CHECK_INT(pki_ca_digest(ca1.cert_pem, d, &err), 0);
    pki_token_secret(s);
    pki_token_secret(s2);
    CHECK_INT(strlen(s), 25);
    CHECK(all_base36(s));
    CHECK(strcmp(s, s2) != 0);
    char *tok = pki_token_format(d, s);
    CHECK_INT(strlen(tok), 9 + 50 + 1 + 25);
    CHECK(strncmp(tok, "SWMTKN-1-", 9) == 0);
    CHECK_INT(pki_token_parse(tok, pd, ps, &err), 0);
    CHECK_STR(pd, d);
    CHECK_STR(ps, s);

    /* Malformed tokens. */
    char *bad[8];
    bad[0] = strdup("");
    bad[1] = strdup("SWMTKN-1-abc-def");
    bad[2] = strdup(tok);
    bad[2][4] = 'X'; /* prefix */
    bad[3] = strdup(tok);
    bad[3][7] = '2'; /* version */
    bad[4] = strdup(tok);
    bad[4][20] = 'A'; /* upper case */
    bad[5] = strdup(tok);
    bad[5][59] = '_'; /* separator */
    bad[6] = pki_token_format(d, "short");
    /* 50 base-36 digits larger than any SHA-256. */
    bad[7] = pki_token_format(
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", s);
    for (size_t i = 0; i < 8; i++) {
        err = (struct err){0};
        CHECK_INT(pki_token_parse(bad[i], pd, ps, &err), -1);
        CHECK_INT(err.code, ERR_INVALID);
        CHECK_STR(err.msg, "invalid join token");
        free(bad[i]);
    }
    char *extra = malloc(strlen(tok) + 2);
    strcpy(extra, tok);
    strcat(extra, "0");
    CHECK_INT(pki_token_parse(extra, pd, ps, &err), -1);
    free(extra);
    free(tok);
}

static void test_sign_identity(void)
{
    struct err err = {0};
    time_t now = time(NULL);
    struct pki_pair n = node_cert(&ca1, "node-abc", PKI_OU_MANAGER, 90 * DAY);
    struct pki_identity id;
    CHECK_INT(pki_cert_identity(n.cert_pem, &id, &err), 0);
    CHECK_STR(id.node_id, "node-abc");
    CHECK_STR(id.ou, PKI_OU_MANAGER);
    CHECK_STR(id.cluster_id, "cluster1");
    CHECK(id.not_before >= now - 62 && id.not_before <= now - 58);
    CHECK(id.not_after >= now + 90 * DAY - 2 &&
          id.not_after <= now + 90 * DAY + 2);

    BIO *b = BIO_new_mem_buf(n.cert_pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    CHECK_INT(X509_check_ca(x), 0);
    CHECK(X509_get_extended_key_usage(x) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
    CHECK(X509_get_key_usage(x) ==
          (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
    CHECK(X509_get0_authority_key_id(x) != NULL);
    struct pki_identity id2;
    CHECK_INT(pki_x509_identity(x, &id2, &err), 0);
    CHECK(memcmp(&id, &id2, sizeof(id)) == 0);
    X509_free(x);
    BIO_free(b);

    /* Negative validity: already expired. */
    struct pki_pair e = node_cert(&ca1, "node-old", PKI_OU_WORKER, -3600);
    CHECK_INT(pki_cert_identity(e.cert_pem, &id, &err), 0);
    CHECK(id.not_after <= now - 3598);

    /* A CSR with a broken signature, a bad subject, a key that is not the
     * CA's, garbage. */
    char *key = NULL, *csr = NULL, *cert = NULL;
    CHECK_INT(pki_csr_create(&key, &csr, &err), 0);
    char *tampered = flip_last_der_byte(csr);
    CHECK_INT(
        pki_csr_sign(&ca1, tampered, "n", PKI_OU_WORKER, "c", DAY, &cert, &err),
        -1);
    CHECK_INT(err.code, ERR_INVALID);
    CHECK(strstr(err.msg, "bad CSR signature") != NULL);
    CHECK(cert == NULL);
    free(tampered);
    free(key);
    free(csr);
    CHECK_INT(pki_csr_create(&key, &csr, &err), 0);
    CHECK_INT(pki_csr_sign(&ca1, csr, "", PKI_OU_WORKER, "c", DAY, &cert, &err),
              -1);
    CHECK_INT(err.code, ERR_INVALID);
    char longid[80];
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    CHECK_INT(
        pki_csr_sign(&ca1, csr, longid, PKI_OU_WORKER, "c", DAY, &cert, &err),
        -1);
    struct pki_pair mixed = {ca1.cert_pem, ca2.key_pem};
    CHECK_INT(
        pki_csr_sign(&mixed, csr, "n", PKI_OU_WORKER, "c", DAY, &cert, &err),
        -1);
    CHECK_INT(pki_csr_sign(&ca1, "garbage", "n", PKI_OU_WORKER, "c", DAY, &cert,
                           &err),
              -1);
    CHECK_INT(err.code, ERR_INVALID);
    free(key);
    free(csr);
    /* The CA has no OU or O: not a node identity. */
    CHECK_INT(pki_cert_identity(ca1.cert_pem, &id, &err), -1);
    CHECK_INT(err.code, ERR_INVALID);
    CHECK(ERR_peek_error() == 0);
    pki_pair_clear(&n);
    pki_pair_clear(&e);
    CHECK(n.cert_pem == NULL && n.key_pem == NULL);
}

static void test_renew_at(void)
{
    struct pki_identity id = {.not_before = 1000000, .not_after = 2000000};
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int i = 0; i < 2000; i++) {
        int64_t t = pki_renew_at(&id);
        CHECK(t >= 1500000 && t <= 1800000);
        lo = t < lo ? t : lo;
        hi = t > hi ? t : hi;
    }
    /* Spread over the window, not a constant. */
    CHECK(lo < 1550000);
    CHECK(hi > 1750000);
}

/* ---- handshakes ---- */

struct hs {
    SSL *client, *server;
    bool ok;
};

/* Runs a handshake between two contexts over a BIO pair, then one message
 * each way (which also delivers a late alert from the server). */
static struct hs handshake(SSL_CTX *cctx, SSL_CTX *sctx)
{
    struct hs h = {SSL_new(cctx), SSL_new(sctx), false};
    BIO *cb = NULL, *sb = NULL;
    BIO_new_bio_pair(&cb, 0, &sb, 0);
    SSL_set_bio(h.client, cb, cb);
    SSL_set_bio(h.server, sb, sb);
    SSL_set_connect_state(h.client);
    SSL_set_accept_state(h.server);
    bool cdone = false, sdone = false, fail = false;
    for (int i = 0; i < 100 && !(cdone && sdone) && !fail; i++) {
        SSL *side[2] = {h.client, h.server};
        bool *done[2] = {&cdone, &sdone};
        for (int k = 0; k < 2; k++) {
            if (*done[k])
                continue;
            int r = SSL_do_handshake(side[k]);
            if (r == 1) {
                *done[k] = true;
                continue;
            }
            int e = SSL_get_error(side[k], r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                fail = true;
        }
    }
    if (cdone && sdone && !fail) {
        char buf[8];
        bool got_s = false, got_c = false;
        SSL_write(h.client, "ping", 4);
        SSL_write(h.server, "pong", 4);
        for (int i = 0; i < 10 && !(got_s && got_c); i++) {
            if (!got_s && SSL_read(h.server, buf, sizeof(buf)) == 4)
                got_s = memcmp(buf, "ping", 4) == 0;
            if (!got_c && SSL_read(h.client, buf, sizeof(buf)) == 4)
                got_c = memcmp(buf, "pong", 4) == 0;
        }
        h.ok = got_s && got_c;
    }
    ERR_clear_error();
    return h;
}

static void hs_free(struct hs *h)
{
    SSL_free(h->client);
    SSL_free(h->server);
}

static SSL_CTX *mutual(bool server, const struct pki_pair *ca,
                       const struct pki_pair *own)
{
    struct err err = {0};
    SSL_CTX *ctx = pki_ctx_mutual(server, ca->cert_pem, own, &err);
    if (!ctx)
        fprintf(stderr, "pki_ctx_mutual: %s\n", err.msg);
    CHECK(ctx != NULL);
    return ctx;
}

static void test_mutual(void)
{
    struct pki_pair m = node_cert(&ca1, "mgr1", PKI_OU_MANAGER, DAY);
    struct pki_pair w = node_cert(&ca1, "wrk1", PKI_OU_WORKER, DAY);
    struct pki_pair mb = bundle(&m, &ca1);
    struct pki_pair other = node_cert(&ca2, "evil", PKI_OU_MANAGER, DAY);
    struct pki_pair otherb = bundle(&other, &ca2);

    /* Success, with a bundle on one side and a lone cert on the other. */
    SSL_CTX *s = mutual(true, &ca1, &mb);
    SSL_CTX *c = mutual(false, &ca1, &w);
    struct hs h = handshake(c, s);
    CHECK(h.ok);
    struct err err = {0};
    struct pki_identity id;
    X509 *peer = SSL_get0_peer_certificate(h.server);
    CHECK(peer != NULL);
    CHECK_INT(pki_x509_identity(peer, &id, &err), 0);
    CHECK_STR(id.node_id, "wrk1");
    CHECK_STR(id.ou, PKI_OU_WORKER);
    peer = SSL_get0_peer_certificate(h.client);
    CHECK_INT(pki_x509_identity(peer, &id, &err), 0);
    CHECK_STR(id.node_id, "mgr1");
    /* The server sent the CA in its chain. */
    CHECK_INT(sk_X509_num(SSL_get_peer_cert_chain(h.client)), 2);
    CHECK(pki_verify_error(h.client) == NULL);
    hs_free(&h);
    SSL_CTX_free(c);

    /* A client certificate from another CA (with its CA in the chain),
     * from a client that would accept the server. */
    c = mutual(false, &ca1, &otherb);
    h = handshake(c, s);
    CHECK(!h.ok);
    CHECK(pki_verify_error(h.server) != NULL);
    hs_free(&h);
    SSL_CTX_free(c);

    /* A client without a certificate. */
    char d[51];
    CHECK_INT(pki_ca_digest(ca1.cert_pem, d, &err), 0);
    c = pki_ctx_join_client(d, &err);
    h = handshake(c, s);
    CHECK(!h.ok);
    hs_free(&h);
    SSL_CTX_free(c);

    /* The client refuses a server of another CA. */
    SSL_CTX *s2 = mutual(true, &ca2, &otherb);
    c = mutual(false, &ca1, &w);
    h = handshake(c, s2);
    CHECK(!h.ok);
    CHECK(pki_verify_error(h.client) != NULL);
    hs_free(&h);
    SSL_CTX_free(c);
    SSL_CTX_free(s2);
    SSL_CTX_free(s);

    /* Expired certificates, on either side. */
    struct pki_pair old = node_cert(&ca1, "old", PKI_OU_WORKER, -3600);
    s = mutual(true, &ca1, &mb);
    c = mutual(false, &ca1, &old);
    h = handshake(c, s);
    CHECK(!h.ok);
    CHECK_STR(pki_verify_error(h.server), "certificate has expired");
    hs_free(&h);
    SSL_CTX_free(c);
    SSL_CTX_free(s);
    s = mutual(true, &ca1, &old);
    c = mutual(false, &ca1, &w);
    h = handshake(c, s);
    CHECK(!h.ok);
    CHECK_STR(pki_verify_error(h.client), "certificate has expired");
    hs_free(&h);
    SSL_CTX_free(c);
    SSL_CTX_free(s);

    /* Key and certificate that do not belong together. */
    struct pki_pair wrong = {w.cert_pem, m.key_pem};
    CHECK(pki_ctx_mutual(true, ca1.cert_pem, &wrong, &err) == NULL);
    CHECK_INT(err.code, ERR_INVALID);
    CHECK(ERR_peek_error() == 0);

    pki_pair_clear(&m);
    pki_pair_clear(&w);
    pki_pair_clear(&mb);
    pki_pair_clear(&other);
    pki_pair_clear(&otherb);
    pki_pair_clear(&old);
}

static void test_join(void)
{
    struct err err = {0};
    struct pki_pair m = node_cert(&ca1, "mgr1", PKI_OU_MANAGER, DAY);
    struct pki_pair mb = bundle(&m, &ca1);
    char d[51];
    CHECK_INT(pki_ca_digest(ca1.cert_pem, d, &err), 0);
    SSL_CTX *s = pki_ctx_join_server(&mb, &err);
    CHECK(s != NULL);

    /* The right digest: the client learns the CA. */
    SSL_CTX *c = pki_ctx_join_client(d, &err);
    CHECK(c != NULL);
    struct hs h = handshake(c, s);
    CHECK(h.ok);
    CHECK(SSL_get0_peer_certificate(h.server) == NULL);
    char *pem = pki_peer_ca_pem(h.client);
    CHECK_STR(pem, ca1.cert_pem);
    CHECK(pki_verify_error(h.client) == NULL);
    free(pem);
    hs_free(&h);
    SSL_CTX_free(c);

    /* A tampered digest. */
    char t[51];
    memcpy(t, d, sizeof(t));
    t[10] = t[10] == 'a' ? 'b' : 'a';
    c = pki_ctx_join_client(t, &err);
    h = handshake(c, s);
    CHECK(!h.ok);
    const char *why = pki_verify_error(h.client);
    CHECK(why && strstr(why, "remote CA does not match fingerprint. "
                             "Expected: ") == why);
    CHECK(why && strlen(why) == strlen("remote CA does not match "
                                       "fingerprint. Expected: ") +
                                    64);
    CHECK(pki_peer_ca_pem(h.client) == NULL);
    hs_free(&h);
    SSL_CTX_free(c);

    /* A server that sends no CA cannot be pinned. */
    SSL_CTX *lone = pki_ctx_join_server(&m, &err);
    c = pki_ctx_join_client(d, &err);
    h = handshake(c, lone);
    CHECK(!h.ok);
    why = pki_verify_error(h.client);
    CHECK(why && strstr(why, "does not match fingerprint"));
    hs_free(&h);
    SSL_CTX_free(lone);

    /* The right CA but a server certificate it did not sign. */
    struct pki_pair other = node_cert(&ca2, "evil", PKI_OU_MANAGER, DAY);
    struct pki_pair forged = bundle(&other, &ca1);
    SSL_CTX *fs = pki_ctx_join_server(&forged, &err);
    CHECK(fs != NULL);
    h = handshake(c, fs);
    CHECK(!h.ok);
    why = pki_verify_error(h.client);
    CHECK(why && strstr(why, "does not match fingerprint"));
    CHECK(pki_peer_ca_pem(h.client) == NULL);
    hs_free(&h);
    SSL_CTX_free(fs);

    /* An expired server certificate under the right CA. */
    struct pki_pair old = node_cert(&ca1, "old", PKI_OU_MANAGER, -60);
    struct pki_pair oldb = bundle(&old, &ca1);
    SSL_CTX *os = pki_ctx_join_server(&oldb, &err);
    h = handshake(c, os);
    CHECK(!h.ok);
    CHECK_STR(pki_verify_error(h.client),
              "verify remote certificate: certificate has expired");
    hs_free(&h);
    SSL_CTX_free(os);
    SSL_CTX_free(c);

    CHECK(pki_ctx_join_client("short", &err) == NULL);
    CHECK_INT(err.code, ERR_INVALID);

    SSL_CTX_free(s);
    pki_pair_clear(&m);
    pki_pair_clear(&mb);
    pki_pair_clear(&other);
    pki_pair_clear(&forged);
    pki_pair_clear(&old);
    pki_pair_clear(&oldb);
}

int main(void)
{
    struct err err = {0};
    if (pki_ca_create(20, &ca1, &err) || pki_ca_create(20, &ca2, &err)) {
        fprintf(stderr, "pki_ca_create: %s\n", err.msg);
        return 1;
    }
    RUN(test_digest);
    RUN(test_ca_cert);
    RUN(test_token);
    RUN(test_sign_identity);
    RUN(test_renew_at);
    RUN(test_mutual);
    RUN(test_join);
    pki_pair_clear(&ca1);
    pki_pair_clear(&ca2);
    HARNESS_END();
}
