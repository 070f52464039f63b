// SPDX-License-Identifier: Apache-2.0
// This node's TLS identity and secrets on disk (see swarm_identity.h):
// <swarm dir>/certs, the key files sealed with the unlock key while the
// swarm is autolocked; and the cluster's root CA and join tokens as
// swarm init and `swarm ca --rotate` make them.
#include "daemon/swarm_identity.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "cluster/seal.h"
#include "daemon/swarm_errors.h"

#define CERT_DIR       "certs"
#define NODE_CERT_FILE "node.crt" /* node certificate + CA, PEM */
#define NODE_KEY_FILE  "node.key"
#define CA_CERT_FILE   "ca.crt"
#define DATA_KEY_FILE  "raft.dek"
#define CA_YEARS       20

static char *cert_path(const struct daemon *d, const char *name)
{
    return xasprintf("%s/%s/%s", d->swarm_dir, CERT_DIR, name);
}

/* Secrets on disk (TLS key, raft data key): sealed with the unlock key
 * while the swarm is autolocked (d->unlock_key), plain otherwise. */
static int read_secret(struct daemon *d, const char *path, char **out,
                       struct err *err)
{
    _cleanup_free_ char *text = NULL;
    if (fs_read_file(path, &text, NULL, err) < 0)
        return -1;
    if (!seal_is_sealed(text)) {
        *out = steal_ptr(text);
        return 0;
    }
    if (!d->unlock_key)
        return swarm_err_locked(err);
    return seal_open(d->unlock_key, text, out, err);
}

static int write_secret(struct daemon *d, const char *path, const char *plain,
                        struct err *err)
{
    _cleanup_free_ char *sealed =
        d->unlock_key ? seal_text(d->unlock_key, plain) : NULL;
    const char *text = sealed ? sealed : plain;
    return fs_write_file_atomic(path, text, strlen(text), 0600, err);
}

bool swarm_identity_locked(struct daemon *d)
{
    _cleanup_free_ char *path = cert_path(d, NODE_KEY_FILE);
    _cleanup_free_ char *text = NULL;
    struct err err = {0};
    return fs_read_file(path, &text, NULL, &err) == 0 && seal_is_sealed(text);
}

int swarm_identity_unlock(struct daemon *d, const char *key, struct err *err)
{
    _cleanup_free_ char *path = cert_path(d, NODE_KEY_FILE);
    _cleanup_free_ char *text = NULL, *plain = NULL;
    if (fs_read_file(path, &text, NULL, err) < 0)
        return -1;
    if (seal_open(key, text, &plain, err) < 0)
        return err_set(err, ERR_INVALID,
                       "swarm could not be unlocked: invalid key, use "
                       "docker swarm unlock-key to get the current key");
    OPENSSL_cleanse(plain, strlen(plain));
    free(d->unlock_key);
    d->unlock_key = xstrdup(key);
    return 0;
}

int swarm_identity_reseal(struct daemon *d, const char *new_key,
                          struct err *err)
{
    _cleanup_free_ char *kp = cert_path(d, NODE_KEY_FILE);
    _cleanup_free_ char *dp = cert_path(d, DATA_KEY_FILE);
    _cleanup_free_ char *key = NULL, *dek = NULL;
    if (read_secret(d, kp, &key, err) < 0 ||
        (fs_exists(dp) && read_secret(d, dp, &dek, err) < 0))
        return -1;
    free(d->unlock_key);
    d->unlock_key = new_key ? xstrdup(new_key) : NULL;
    int rc = write_secret(d, kp, key, err) < 0 ||
                     (dek && write_secret(d, dp, dek, err) < 0)
                 ? -1
                 : 0;
    OPENSSL_cleanse(key, strlen(key));
    if (dek)
        OPENSSL_cleanse(dek, strlen(dek));
    if (rc == 0)
        log_info("swarm: secrets on disk %s",
                 new_key ? "sealed with the unlock key" : "no longer sealed");
    return rc;
}

int swarm_identity_save(struct daemon *d, const char *ca_pem,
                        const char *cert_pem, const char *key_pem,
                        struct err *err)
{
    _cleanup_free_ char *dir = xasprintf("%s/%s", d->swarm_dir, CERT_DIR);
    if (fs_mkdir_p(dir, 0700, err) < 0)
        return -1;
    _cleanup_free_ char *bundle = xasprintf("%s%s", cert_pem, ca_pem);
    _cleanup_free_ char *p1 = cert_path(d, CA_CERT_FILE);
    _cleanup_free_ char *p2 = cert_path(d, NODE_CERT_FILE);
    _cleanup_free_ char *p3 = cert_path(d, NODE_KEY_FILE);
    if (fs_write_file_atomic(p1, ca_pem, strlen(ca_pem), 0644, err) < 0 ||
        fs_write_file_atomic(p2, bundle, strlen(bundle), 0644, err) < 0 ||
        write_secret(d, p3, key_pem, err) < 0)
        return -1;
    return 0;
}

int swarm_identity_load(struct daemon *d, char **ca_pem, struct pki_pair *own,
                        struct err *err)
{
    _cleanup_free_ char *p1 = cert_path(d, CA_CERT_FILE);
    _cleanup_free_ char *p2 = cert_path(d, NODE_CERT_FILE);
    _cleanup_free_ char *p3 = cert_path(d, NODE_KEY_FILE);
    if (fs_read_file(p1, ca_pem, NULL, err) < 0 ||
        fs_read_file(p2, &own->cert_pem, NULL, err) < 0 ||
        read_secret(d, p3, &own->key_pem, err) < 0)
        return -1;
    return 0;
}

int swarm_identity_save_trust(struct daemon *d, const char *ca_pem,
                              struct err *err)
{
    _cleanup_free_ char *path = cert_path(d, CA_CERT_FILE);
    return fs_write_file_atomic(path, ca_pem, strlen(ca_pem), 0644, err);
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

int swarm_data_key(struct daemon *d, uint8_t key[32], struct err *err)
{
    _cleanup_free_ char *path = cert_path(d, DATA_KEY_FILE);
    _cleanup_free_ char *text = NULL;
    if (!fs_exists(path)) {
        char hex[65];
        if (RAND_bytes(key, 32) != 1)
            return err_set(err, ERR_INTERNAL, "no random bytes for a key");
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", key[i]);
        _cleanup_free_ char *dir = xasprintf("%s/%s", d->swarm_dir, CERT_DIR);
        int rc = fs_mkdir_p(dir, 0700, err) < 0 ||
                         write_secret(d, path, hex, err) < 0
                     ? -1
                     : 0;
        OPENSSL_cleanse(hex, sizeof(hex));
        return rc;
    }
    if (read_secret(d, path, &text, err) < 0)
        return -1;
    for (int i = 0; i < 32; i++) {
        int hi = strlen(text) >= 64 ? hexval(text[2 * i]) : -1;
        int lo = hi >= 0 ? hexval(text[2 * i + 1]) : -1;
        if (lo < 0) {
            OPENSSL_cleanse(text, strlen(text));
            return err_set(err, ERR_INTERNAL, "corrupt raft data key in '%s'",
                           path);
        }
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    OPENSSL_cleanse(text, strlen(text));
    return 0;
}

/* ---- the cluster's root CA ---- */

int swarm_new_ca(struct daemon *d, int64_t cert_expiry_ns, struct pki_pair *ca,
                 struct err *err)
{
    int64_t expiry_s =
        cert_expiry_ns > 0 ? cert_expiry_ns / 1000000000 : 90LL * 24 * 3600;
    _cleanup_free_ char *key = NULL, *csr = NULL, *cert = NULL;
    if (pki_ca_create(CA_YEARS, ca, err) < 0)
        return -1;
    if (pki_csr_create(&key, &csr, err) < 0 ||
        pki_csr_sign(ca, csr, d->node_id, PKI_OU_MANAGER, d->cluster_id,
                     expiry_s, &cert, err) < 0 ||
        swarm_identity_save(d, ca->cert_pem, cert, key, err) < 0) {
        pki_pair_clear(ca);
        return -1;
    }
    return 0;
}

json_t *swarm_new_tokens(const char *ca_cert_pem, struct err *err)
{
    char digest[51], s1[26], s2[26];
    if (pki_ca_digest(ca_cert_pem, digest, err) < 0)
        return NULL;
    pki_token_secret(s1);
    pki_token_secret(s2);
    _cleanup_free_ char *w = pki_token_format(digest, s1);
    _cleanup_free_ char *m = pki_token_format(digest, s2);
    return json_pack("{s:s, s:s}", "Worker", w, "Manager", m);
}

int swarm_rotate_ca(json_t *internal, struct err *err)
{
    struct pki_pair ca = {0};
    char digest[51];
    if (pki_ca_create(CA_YEARS, &ca, err) < 0)
        return -1;
    if (pki_ca_digest(ca.cert_pem, digest, err) < 0) {
        pki_pair_clear(&ca);
        return -1;
    }
    json_t *old = json_object_get(internal, "_RootCA");
    if (old) {
        json_object_set(internal, "_PrevRootCA", old);
        json_object_set_new(internal, "_PrevTrustRoot",
                            json_string(jx_str(old, "Cert")));
    }
    json_object_set_new(
        internal, "_RootCA",
        json_pack("{s:s, s:s}", "Cert", ca.cert_pem, "Key", ca.key_pem));
    json_object_set_new(internal, "TLSInfo",
                        json_pack("{s:s, s:s, s:s}", "TrustRoot", ca.cert_pem,
                                  "CertIssuerSubject", "",
                                  "CertIssuerPublicKey", ""));
    json_object_set_new(internal, "RootRotationInProgress", json_true());
    /* Tokens pin the new CA; their secrets stay. */
    json_t *tokens = json_object_get(internal, "JoinTokens");
    const char *roles[] = {"Worker", "Manager"};
    for (size_t i = 0; i < 2; i++) {
        const char *t = jx_str(tokens, roles[i]);
        const char *dash = t ? strrchr(t, '-') : NULL;
        if (!dash)
            continue;
        char *nt = pki_token_format(digest, dash + 1);
        json_object_set_new(tokens, roles[i], json_string(nt));
        free(nt);
    }
    pki_pair_clear(&ca);
    log_info("cluster: new root CA; certificates are being reissued");
    return 0;
}
