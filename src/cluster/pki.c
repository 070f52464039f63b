// SPDX-License-Identifier: Apache-2.0
// The cluster's PKI on OpenSSL 3 (EVP and X509 APIs only): the root CA, node
// certificates signed from CSRs, Swarm's join tokens and the TLS contexts for
// mutual TLS and for the digest-pinned join handshake.
#include "cluster/pki.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/mem.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Cleanup helpers for OpenSSL objects; every OpenSSL free is NULL-safe. */
#define PKI_DEFINE_CLEANUP(type, fn)                                           \
    static inline void fn##p(type **p)                                         \
    {                                                                          \
        fn(*p);                                                                \
    }
PKI_DEFINE_CLEANUP(BIO, BIO_free_all)
PKI_DEFINE_CLEANUP(X509, X509_free)
PKI_DEFINE_CLEANUP(X509_REQ, X509_REQ_free)
PKI_DEFINE_CLEANUP(X509_NAME, X509_NAME_free)
PKI_DEFINE_CLEANUP(X509_STORE, X509_STORE_free)
PKI_DEFINE_CLEANUP(X509_STORE_CTX, X509_STORE_CTX_free)
PKI_DEFINE_CLEANUP(X509_EXTENSION, X509_EXTENSION_free)
PKI_DEFINE_CLEANUP(EVP_PKEY, EVP_PKEY_free)
PKI_DEFINE_CLEANUP(BIGNUM, BN_free)
PKI_DEFINE_CLEANUP(SSL_CTX, SSL_CTX_free)

static inline void x509_stack_freep(STACK_OF(X509) * *sk)
{
    sk_X509_pop_free(*sk, X509_free);
}

#define TOKEN_PREFIX      "SWMTKN-1-"
#define DIGEST_LEN        50 /* base 36 digits of a SHA-256 */
#define SECRET_LEN        25 /* base 36 digits of 128 bits */
#define SECRET_BYTES      16
#define SERIAL_BYTES      16
#define BACKDATE_SECONDS  60 /* tolerate clocks a little behind ours */
#define CA_COMMON_NAME    "swarm-ca"
#define CSR_COMMON_NAME   "swarm-node" /* ignored by the signer */
#define JOIN_MISMATCH_FMT "remote CA does not match fingerprint. Expected: %s"

static const char base36_digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";

/* ---- errors ---- */

/* Sets err to "what: <OpenSSL's reason>" and empties OpenSSL's error queue:
 * a stale entry there would mislead the next SSL_get_error() on this
 * thread. */
static int ossl_err(struct err *err, int code, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    if (e) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        ERR_clear_error();
        return err_set(err, code, "%s: %s", what, buf);
    }
    return err_set(err, code, "%s", what);
}

/* ---- base 36 ---- */

/* Writes the big-endian number in[0..n) as exactly `width` base-36 digits
 * (left zero-padded) plus a NUL. The caller picks a width that fits. */
static void base36_encode(const uint8_t *in, size_t n, char *out, size_t width)
{
    uint8_t num[64];
    assert(n <= sizeof(num));
    memcpy(num, in, n);
    for (size_t i = width; i-- > 0;) {
        unsigned rem = 0;
        for (size_t j = 0; j < n; j++) {
            unsigned cur = rem * 256 + num[j];
            num[j] = (uint8_t)(cur / 36);
            rem = cur % 36;
        }
        out[i] = base36_digits[rem];
    }
    out[width] = '\0';
    for (size_t j = 0; j < n; j++)
        assert(num[j] == 0); /* width too small: a bug of ours */
}

/* The reverse, into exactly n big-endian bytes; -1 if a character is not a
 * base-36 digit or the value does not fit. */
static int base36_decode(const char *s, uint8_t *out, size_t n)
{
    memset(out, 0, n);
    for (; *s; s++) {
        const char *d = strchr(base36_digits, *s);
        if (!d)
            return -1;
        unsigned carry = (unsigned)(d - base36_digits);
        for (size_t j = n; j-- > 0;) {
            unsigned cur = out[j] * 36u + carry;
            out[j] = (uint8_t)(cur & 0xff);
            carry = cur >> 8;
        }
        if (carry)
            return -1;
    }
    return 0;
}

/* Exactly len characters of [0-9a-z]. */
static bool is_base36(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z')))
            return false;
    return true;
}

/* ---- PEM ---- */

/* Never prompt on a terminal for an encrypted key: we have none. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static BIO *mem_bio(const char *pem)
{
    return BIO_new_mem_buf(pem, -1);
}

static char *bio_to_str(BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);
    return xstrndup(data, n > 0 ? (size_t)n : 0);
}

static X509 *cert_from_pem(const char *pem, struct err *err)
{
    if (!pem)
        return err_set(err, ERR_INVALID, "no certificate"), NULL;
    _cleanup_(BIO_free_allp) BIO *b = mem_bio(pem);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, no_passphrase, NULL) : NULL;
    if (!x)
        ossl_err(err, ERR_INVALID, "parse certificate");
    return x;
}

/* Every certificate of a PEM bundle, in order; at least one. */
static STACK_OF(X509) * certs_from_pem(const char *pem, struct err *err)
{
    if (!pem)
        return err_set(err, ERR_INVALID, "no certificate"), NULL;
    _cleanup_(BIO_free_allp) BIO *b = mem_bio(pem);
    _cleanup_(x509_stack_freep) STACK_OF(X509) *sk = sk_X509_new_null();
    if (!b || !sk)
        return ossl_err(err, ERR_INTERNAL, "parse certificates"), NULL;
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL))) {
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            return ossl_err(err, ERR_INTERNAL, "parse certificates"), NULL;
        }
    }
    /* The loop ends on "no start line"; anything else is a broken PEM. */
    unsigned long e = ERR_peek_last_error();
    if (sk_X509_num(sk) == 0 || (e && ERR_GET_REASON(e) != PEM_R_NO_START_LINE))
        return ossl_err(err, ERR_INVALID, "parse certificate"), NULL;
    ERR_clear_error();
    return steal_ptr(sk);
}

static EVP_PKEY *key_from_pem(const char *pem, struct err *err)
{
    if (!pem)
        return err_set(err, ERR_INVALID, "no private key"), NULL;
    _cleanup_(BIO_free_allp) BIO *b = mem_bio(pem);
    EVP_PKEY *k =
        b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
    if (!k)
        ossl_err(err, ERR_INVALID, "parse private key");
    return k;
}

static char *cert_to_pem(X509 *x, struct err *err)
{
    _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_X509(b, x))
        return ossl_err(err, ERR_INTERNAL, "encode certificate"), NULL;
    return bio_to_str(b);
}

/* PKCS#8, unencrypted: keys live in the node's state directory. */
static char *key_to_pem(EVP_PKEY *k, struct err *err)
{
    _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
        return ossl_err(err, ERR_INTERNAL, "encode private key"), NULL;
    return bio_to_str(b);
}

void pki_pair_clear(struct pki_pair *p)
{
    free(p->cert_pem);
    if (p->key_pem)
        OPENSSL_cleanse(p->key_pem, strlen(p->key_pem));
    free(p->key_pem);
    p->cert_pem = p->key_pem = NULL;
}

/* ---- certificates ---- */

static EVP_PKEY *new_key(struct err *err)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (!k)
        ossl_err(err, ERR_INTERNAL, "generate key");
    return k;
}

/* A random positive 128-bit serial number (RFC 5280 allows 20 octets). */
static int set_random_serial(X509 *x)
{
    uint8_t raw[SERIAL_BYTES];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    raw[0] |= raw[0] ? 0 : 1; /* never zero */
    _cleanup_(BN_freep) BIGNUM *bn = BN_bin2bn(raw, sizeof(raw), NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
        return -1;
    return 0;
}

/* notBefore a minute ago; notAfter now + seconds (may be in the past). */
static int set_validity(X509 *x, int64_t seconds)
{
    long days = (long)(seconds / 86400), secs = (long)(seconds % 86400);
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_SECONDS) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, secs, NULL))
        return -1;
    return 0;
}

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
    _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext =
        X509V3_EXT_conf_nid(NULL, v3, nid, value);
    if (!ext || !X509_add_ext(x, ext, -1))
        return -1;
    return 0;
}

static int name_add(X509_NAME *n, const char *field, const char *value)
{
    return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
                                      (const unsigned char *)value, -1, -1, 0)
               ? 0
               : -1;
}

int pki_ca_create(unsigned years, struct pki_pair *ca, struct err *err)
{
    ca->cert_pem = ca->key_pem = NULL;
    if (years == 0 || years > 100)
        return err_set(err, ERR_INVALID,
                       "create CA: invalid validity of %u "
                       "years",
                       years);
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = new_key(err);
    if (!key)
        return err_ctx(err, "create CA");
    _cleanup_(X509_freep) X509 *x = X509_new();
    if (!x || !X509_set_version(x, X509_VERSION_3) || set_random_serial(x) ||
        set_validity(x, (int64_t)years * 365 * 86400) ||
        !X509_set_pubkey(x, key))
        return ossl_err(err, ERR_INTERNAL, "create CA");
    X509_NAME *name = X509_get_subject_name(x);
    if (name_add(name, "CN", CA_COMMON_NAME) || !X509_set_issuer_name(x, name))
        return ossl_err(err, ERR_INTERNAL, "create CA");
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE") ||
        add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        add_ext(x, &v3, NID_subject_key_identifier, "hash"))
        return ossl_err(err, ERR_INTERNAL, "create CA: extensions");
    if (!X509_sign(x, key, EVP_sha256()))
        return ossl_err(err, ERR_INTERNAL, "create CA: sign");
    _cleanup_free_ char *cert_pem = cert_to_pem(x, err);
    if (!cert_pem)
        return -1;
    ca->key_pem = key_to_pem(key, err);
    if (!ca->key_pem)
        return -1;
    ca->cert_pem = steal_ptr(cert_pem);
    return 0;
}

/* The digest of a certificate as Swarm writes it in tokens. */
static int x509_digest36(X509 *x, char out[DIGEST_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!X509_digest(x, EVP_sha256(), md, &mdlen) || mdlen != 32)
        return -1;
    base36_encode(md, mdlen, out, DIGEST_LEN);
    return 0;
}

int pki_ca_digest(const char *ca_cert_pem, char out[51], struct err *err)
{
    _cleanup_(X509_freep) X509 *x = cert_from_pem(ca_cert_pem, err);
    if (!x)
        return err_ctx(err, "CA digest");
    if (x509_digest36(x, out))
        return ossl_err(err, ERR_INTERNAL, "CA digest");
    return 0;
}

/* ---- tokens ---- */

void pki_token_secret(char out[26])
{
    uint8_t raw[SECRET_BYTES];
    /* A token without entropy would let anyone join: better to stop. */
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        abort();
    base36_encode(raw, sizeof(raw), out, SECRET_LEN);
    OPENSSL_cleanse(raw, sizeof(raw));
}

char *pki_token_format(const char *digest, const char *secret)
{
    return xasprintf(TOKEN_PREFIX "%s-%s", digest, secret);
}

int pki_token_parse(const char *token, char digest[51], char secret[26],
                    struct err *err)
{
    const size_t plen = strlen(TOKEN_PREFIX);
    if (!token || strlen(token) != plen + DIGEST_LEN + 1 + SECRET_LEN ||
        strncmp(token, TOKEN_PREFIX, plen) != 0 ||
        token[plen + DIGEST_LEN] != '-')
        return err_set(err, ERR_INVALID, "invalid join token");
    char d[DIGEST_LEN + 1], s[SECRET_LEN + 1];
    memcpy(d, token + plen, DIGEST_LEN);
    d[DIGEST_LEN] = '\0';
    memcpy(s, token + plen + DIGEST_LEN + 1, SECRET_LEN);
    s[SECRET_LEN] = '\0';
    uint8_t sha[32];
    if (!is_base36(d, DIGEST_LEN) || !is_base36(s, SECRET_LEN) ||
        base36_decode(d, sha, sizeof(sha)))
        return err_set(err, ERR_INVALID, "invalid join token");
    memcpy(digest, d, sizeof(d));
    memcpy(secret, s, sizeof(s));
    return 0;
}

/* ---- CSRs and node certificates ---- */

int pki_csr_create(char **key_pem, char **csr_pem, struct err *err)
{
    *key_pem = *csr_pem = NULL;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = new_key(err);
    if (!key)
        return err_ctx(err, "create CSR");
    _cleanup_(X509_REQ_freep) X509_REQ *req = X509_REQ_new();
    _cleanup_(X509_NAME_freep) X509_NAME *name = X509_NAME_new();
    if (!req || !name || !X509_REQ_set_version(req, 0) ||
        name_add(name, "CN", CSR_COMMON_NAME) ||
        !X509_REQ_set_subject_name(req, name) ||
        !X509_REQ_set_pubkey(req, key) ||
        !X509_REQ_sign(req, key, EVP_sha256()))
        return ossl_err(err, ERR_INTERNAL, "create CSR");
    _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_X509_REQ(b, req))
        return ossl_err(err, ERR_INTERNAL, "create CSR: encode");
    _cleanup_free_ char *csr = bio_to_str(b);
    *key_pem = key_to_pem(key, err);
    if (!*key_pem)
        return -1;
    *csr_pem = steal_ptr(csr);
    return 0;
}

#define ID_FIELD_SIZE(f) sizeof(((struct pki_identity *)0)->f)

static bool name_fits(const char *s, size_t size)
{
    return s && *s && strlen(s) < size;
}

int pki_csr_sign(const struct pki_pair *ca, const char *csr_pem,
                 const char *node_id, const char *ou, const char *cluster_id,
                 int64_t valid_seconds, char **cert_pem, struct err *err)
{
    *cert_pem = NULL;
    /* What does not fit struct pki_identity could not be read back. */
    if (!name_fits(node_id, ID_FIELD_SIZE(node_id)) ||
        !name_fits(ou, ID_FIELD_SIZE(ou)) ||
        !name_fits(cluster_id, ID_FIELD_SIZE(cluster_id)))
        return err_set(err, ERR_INVALID, "sign certificate: invalid subject");
    /* X509_time_adj_ex takes the days as an int. */
    if (valid_seconds > (int64_t)INT32_MAX * 86400 / 2 ||
        valid_seconds < -(int64_t)INT32_MAX * 86400 / 2)
        return err_set(err, ERR_INVALID, "sign certificate: invalid validity");

    _cleanup_(X509_freep) X509 *ca_cert = cert_from_pem(ca->cert_pem, err);
    if (!ca_cert)
        return err_ctx(err, "sign certificate: CA");
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *ca_key = key_from_pem(ca->key_pem, err);
    if (!ca_key)
        return err_ctx(err, "sign certificate: CA");
    if (X509_check_private_key(ca_cert, ca_key) != 1)
        return ossl_err(err, ERR_INTERNAL,
                        "sign certificate: CA key does not match");

    if (!csr_pem)
        return err_set(err, ERR_INVALID, "sign certificate: no CSR");
    _cleanup_(BIO_free_allp) BIO *b = mem_bio(csr_pem);
    _cleanup_(X509_REQ_freep) X509_REQ *req =
        b ? PEM_read_bio_X509_REQ(b, NULL, no_passphrase, NULL) : NULL;
    if (!req)
        return ossl_err(err, ERR_INVALID, "sign certificate: parse CSR");
    EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
    if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC)
        return ossl_err(err, ERR_INVALID,
                        "sign certificate: CSR key is not ECDSA");
    /* Proof that the requester holds the private key. */
    if (X509_REQ_verify(req, pub) != 1)
        return ossl_err(err, ERR_INVALID,
                        "sign certificate: bad CSR signature");

    _cleanup_(X509_freep) X509 *x = X509_new();
    if (!x || !X509_set_version(x, X509_VERSION_3) || set_random_serial(x) ||
        set_validity(x, valid_seconds) || !X509_set_pubkey(x, pub) ||
        !X509_set_issuer_name(x, X509_get_subject_name(ca_cert)))
        return ossl_err(err, ERR_INTERNAL, "sign certificate");
    X509_NAME *name = X509_get_subject_name(x);
    if (name_add(name, "O", cluster_id) || name_add(name, "OU", ou) ||
        name_add(name, "CN", node_id))
        return ossl_err(err, ERR_INTERNAL, "sign certificate: subject");
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, ca_cert, x, NULL, NULL, 0);
    if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") ||
        add_ext(x, &v3, NID_key_usage,
                "critical,digitalSignature,keyEncipherment") ||
        add_ext(x, &v3, NID_ext_key_usage, "serverAuth,clientAuth") ||
        add_ext(x, &v3, NID_subject_key_identifier, "hash") ||
        add_ext(x, &v3, NID_authority_key_identifier, "keyid:always"))
        return ossl_err(err, ERR_INTERNAL, "sign certificate: extensions");
    if (!X509_sign(x, ca_key, EVP_sha256()))
        return ossl_err(err, ERR_INTERNAL, "sign certificate");
    *cert_pem = cert_to_pem(x, err);
    return *cert_pem ? 0 : -1;
}

/* ---- identities ---- */

static int name_get(X509_NAME *name, int nid, char *out, size_t size)
{
    int i = X509_NAME_get_index_by_NID(name, nid, -1);
    out[0] = '\0';
    if (i < 0)
        return -1;
    ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char *utf8 = NULL;
    int n = s ? ASN1_STRING_to_UTF8(&utf8, s) : -1;
    if (n < 0)
        return -1;
    int rc = -1;
    if ((size_t)n < size && !memchr(utf8, '\0', (size_t)n)) {
        memcpy(out, utf8, (size_t)n);
        out[n] = '\0';
        rc = 0;
    }
    OPENSSL_free(utf8);
    return rc;
}

static int asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

int pki_x509_identity(X509 *cert, struct pki_identity *id, struct err *err)
{
    memset(id, 0, sizeof(*id));
    X509_NAME *name = X509_get_subject_name(cert);
    if (!name ||
        name_get(name, NID_commonName, id->node_id, sizeof(id->node_id)) ||
        name_get(name, NID_organizationalUnitName, id->ou, sizeof(id->ou)) ||
        name_get(name, NID_organizationName, id->cluster_id,
                 sizeof(id->cluster_id))) {
        ERR_clear_error();
        return err_set(err, ERR_INVALID,
                       "certificate identity: missing or invalid CN, OU or "
                       "O");
    }
    if (asn1_time_unix(X509_get0_notBefore(cert), &id->not_before) ||
        asn1_time_unix(X509_get0_notAfter(cert), &id->not_after))
        return ossl_err(err, ERR_INVALID, "certificate identity: validity");
    return 0;
}

int pki_cert_identity(const char *cert_pem, struct pki_identity *id,
                      struct err *err)
{
    _cleanup_(X509_freep) X509 *x = cert_from_pem(cert_pem, err);
    if (!x)
        return err_ctx(err, "certificate identity");
    return pki_x509_identity(x, id, err);
}

int64_t pki_renew_at(const struct pki_identity *id)
{
    uint64_t r = 0;
    double u = 0.5; /* RAND_bytes cannot fail in practice; be safe anyway */
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) == 1)
        u = (double)(r >> 11) / (double)(UINT64_C(1) << 53);
    int64_t life = id->not_after - id->not_before;
    return id->not_before + (int64_t)((double)life * (0.5 + 0.3 * u));
}

/* ---- TLS contexts ---- */

/* Per-SSL state of a join handshake, in the SSL's ex_data, and the pinned
 * digest, in the SSL_CTX's. The indexes are allocated once per process. */
struct join_state {
    char *error;
    X509 *ca;
};

static int ssl_join_idx = -1, ctx_digest_idx = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void join_state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
                            int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    struct join_state *st = ptr;
    if (!st)
        return;
    free(st->error);
    X509_free(st->ca);
    free(st);
}

static void digest_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                        long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

static void ex_init(void)
{
    ssl_join_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, join_state_free);
    ctx_digest_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, digest_free);
}

static int ex_indexes(struct err *err)
{
    pthread_once(&ex_once, ex_init);
    if (ssl_join_idx < 0 || ctx_digest_idx < 0)
        return ossl_err(err, ERR_INTERNAL, "TLS context: ex_data index");
    return 0;
}

static SSL_CTX *ctx_new(bool server, struct err *err)
{
    SSL_CTX *ctx =
        SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)) {
        SSL_CTX_free(ctx);
        return ossl_err(err, ERR_INTERNAL, "TLS context"), NULL;
    }
    if (server) {
        /* Every connection re-verifies the peer's current certificate:
         * no resumption, so no tickets worth sending. */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
    return ctx;
}

/* Loads own certificate (the first of the bundle), its key and the rest of
 * the bundle as the chain sent to peers; adds `extra` (the CA) to the chain
 * unless the bundle has it already. */
static int ctx_use_own(SSL_CTX *ctx, const struct pki_pair *own, X509 *extra,
                       struct err *err)
{
    if (!own)
        return err_set(err, ERR_INVALID, "no certificate");
    _cleanup_(x509_stack_freep) STACK_OF(X509) *certs =
        certs_from_pem(own->cert_pem, err);
    if (!certs)
        return -1;
    _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = key_from_pem(own->key_pem, err);
    if (!key)
        return -1;
    X509 *leaf = sk_X509_value(certs, 0);
    if (!SSL_CTX_use_certificate(ctx, leaf) ||
        !SSL_CTX_use_PrivateKey(ctx, key) || !SSL_CTX_check_private_key(ctx))
        return ossl_err(err, ERR_INVALID, "certificate and key");
    bool have_extra = !extra || X509_cmp(leaf, extra) == 0;
    for (int i = 1; i < sk_X509_num(certs); i++) {
        X509 *c = sk_X509_value(certs, i);
        if (extra && X509_cmp(c, extra) == 0)
            have_extra = true;
        if (!SSL_CTX_add1_chain_cert(ctx, c))
            return ossl_err(err, ERR_INTERNAL, "certificate chain");
    }
    if (!have_extra && !SSL_CTX_add1_chain_cert(ctx, extra))
        return ossl_err(err, ERR_INTERNAL, "certificate chain");
    return 0;
}

SSL_CTX *pki_ctx_mutual(bool server, const char *ca_cert_pem,
                        const struct pki_pair *own, struct err *err)
{
    _cleanup_(X509_freep) X509 *ca = cert_from_pem(ca_cert_pem, err);
    if (!ca)
        return err_ctx(err, "TLS context: CA"), NULL;
    _cleanup_(SSL_CTX_freep) SSL_CTX *ctx = ctx_new(server, err);
    if (!ctx)
        return NULL;
    if (ctx_use_own(ctx, own, ca, err))
        return err_ctx(err, "TLS context"), NULL;
    /* The store trusts our CA alone (no system roots) -- or, while the
     * root CA rotates, every CA of the bundle (the new one first). */
    _cleanup_(x509_stack_freep) STACK_OF(X509) *cas =
        certs_from_pem(ca_cert_pem, err);
    if (!cas)
        return err_ctx(err, "TLS context: CA"), NULL;
    for (int i = 0; i < sk_X509_num(cas); i++)
        if (!X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx),
                                 sk_X509_value(cas, i)))
            return ossl_err(err, ERR_INTERNAL, "TLS context: trust CA"), NULL;
    /* No host name check: a peer is who its certificate's CN/OU/O say,
     * which the caller checks. */
    SSL_CTX_set_verify(
        ctx, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        NULL);
    return steal_ptr(ctx);
}

SSL_CTX *pki_ctx_join_server(const struct pki_pair *own, struct err *err)
{
    _cleanup_(SSL_CTX_freep) SSL_CTX *ctx = ctx_new(true, err);
    if (!ctx)
        return NULL;
    if (ctx_use_own(ctx, own, NULL, err))
        return err_ctx(err, "TLS context"), NULL;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return steal_ptr(ctx);
}

static struct join_state *join_state(SSL *ssl)
{
    struct join_state *st = SSL_get_ex_data(ssl, ssl_join_idx);
    if (!st) {
        st = xcalloc(1, sizeof(*st));
        if (!SSL_set_ex_data(ssl, ssl_join_idx, st)) {
            free(st);
            return NULL;
        }
    }
    return st;
}

static int join_fail(X509_STORE_CTX *sctx, struct join_state *st, int x509_err,
                     char *msg)
{
    if (st) {
        free(st->error);
        st->error = msg;
    } else {
        free(msg);
    }
    X509_STORE_CTX_set_error(sctx, x509_err);
    return 0;
}

/* The message Docker prints, with the expected digest in hex as Docker
 * does (falls back to the token's base 36 if it is not a SHA-256). */
static char *mismatch_message(const char *digest36)
{
    uint8_t sha[32];
    if (base36_decode(digest36, sha, sizeof(sha)))
        return xasprintf(JOIN_MISMATCH_FMT, digest36);
    char hex[65];
    for (size_t i = 0; i < sizeof(sha); i++)
        snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    return xasprintf(JOIN_MISMATCH_FMT, hex);
}

/* Replaces OpenSSL's chain verification on the join client: among the
 * certificates the server sent, find the self-signed CA with the pinned
 * digest, then verify the server's certificate against that CA alone. */
static int join_verify(X509_STORE_CTX *sctx, void *arg)
{
    const char *digest = arg;
    SSL *ssl =
        X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct join_state *st = ssl ? join_state(ssl) : NULL;
    X509 *leaf = X509_STORE_CTX_get0_cert(sctx);
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(sctx);
    if (!leaf)
        return join_fail(sctx, st, X509_V_ERR_UNSPECIFIED,
                         xstrdup("remote sent no certificate"));

    X509 *match = NULL;
    int n = chain ? sk_X509_num(chain) : 0;
    for (int i = -1; i < n && !match; i++) {
        X509 *c = i < 0 ? leaf : sk_X509_value(chain, i);
        char d[DIGEST_LEN + 1];
        if (X509_check_ca(c) >= 1 && X509_self_signed(c, 1) == 1 &&
            x509_digest36(c, d) == 0 && strcmp(d, digest) == 0)
            match = c;
    }
    ERR_clear_error(); /* X509_self_signed may leave entries */
    if (!match)
        return join_fail(sctx, st, X509_V_ERR_APPLICATION_VERIFICATION,
                         mismatch_message(digest));

    _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
    _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *v = X509_STORE_CTX_new();
    if (!store || !v || !X509_STORE_add_cert(store, match) ||
        !X509_STORE_CTX_init(v, store, leaf, chain) ||
        !X509_STORE_CTX_set_default(v, "ssl_server")) {
        ERR_clear_error();
        return join_fail(sctx, st, X509_V_ERR_UNSPECIFIED,
                         xstrdup("verify remote certificate: out of "
                                 "resources"));
    }
    if (X509_verify_cert(v) != 1) {
        int e = X509_STORE_CTX_get_error(v);
        ERR_clear_error();
        /* A server certificate the pinned CA did not sign (e.g. after the
         * root rotated, the old CA still in its chain) is a mismatch too. */
        if (e != X509_V_ERR_CERT_HAS_EXPIRED &&
            e != X509_V_ERR_CERT_NOT_YET_VALID)
            return join_fail(sctx, st, e, mismatch_message(digest));
        return join_fail(sctx, st, e,
                         xasprintf("verify remote certificate: %s",
                                   X509_verify_cert_error_string(e)));
    }
    if (st) {
        X509_free(st->ca);
        st->ca = X509_dup(match);
    }
    X509_STORE_CTX_set_error(sctx, X509_V_OK);
    return 1;
}

SSL_CTX *pki_ctx_join_client(const char *ca_digest, struct err *err)
{
    if (!ca_digest || !is_base36(ca_digest, DIGEST_LEN))
        return err_set(err, ERR_INVALID, "invalid join token"), NULL;
    if (ex_indexes(err))
        return NULL;
    _cleanup_(SSL_CTX_freep) SSL_CTX *ctx = ctx_new(false, err);
    if (!ctx)
        return NULL;
    char *digest = xstrdup(ca_digest);
    if (!SSL_CTX_set_ex_data(ctx, ctx_digest_idx, digest)) {
        free(digest);
        return ossl_err(err, ERR_INTERNAL, "TLS context"), NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, join_verify, digest);
    return steal_ptr(ctx);
}

char *pki_peer_ca_pem(SSL *ssl)
{
    if (ex_indexes(NULL))
        return NULL;
    struct join_state *st = SSL_get_ex_data(ssl, ssl_join_idx);
    if (!st || !st->ca)
        return NULL;
    return cert_to_pem(st->ca, NULL);
}

const char *pki_verify_error(const SSL *ssl)
{
    if (ex_indexes(NULL) == 0) {
        struct join_state *st = SSL_get_ex_data(ssl, ssl_join_idx);
        if (st && st->error)
            return st->error;
    }
    long r = SSL_get_verify_result(ssl);
    return r == X509_V_OK ? NULL : X509_verify_cert_error_string(r);
}

bool pki_cert_signed_by(const char *cert_pem, const char *ca_pem)
{
    struct err err = {0};
    _cleanup_(X509_freep) X509 *leaf = cert_from_pem(cert_pem, &err);
    _cleanup_(X509_freep) X509 *ca = cert_from_pem(ca_pem, &err);
    bool ok = leaf && ca && X509_verify(leaf, X509_get0_pubkey(ca)) == 1;
    ERR_clear_error();
    return ok;
}
