// SPDX-License-Identifier: Apache-2.0
// Sealing secrets with the unlock key (see seal.h).
#include "cluster/seal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

#define PREFIX    "SEALED-1:"
#define NONCE_LEN 12
#define TAG_LEN   16

static char *b64(const unsigned char *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

/* Decodes base64; the decoded length in *len. NULL if malformed. */
static unsigned char *unb64(const char *text, size_t *len)
{
    size_t n = strlen(text);
    if (n == 0 || n % 4)
        return NULL;
    unsigned char *out = xmalloc(n / 4 * 3 + 1);
    int got = EVP_DecodeBlock(out, (const unsigned char *)text, (int)n);
    if (got < 0) {
        free(out);
        return NULL;
    }
    size_t pad = (text[n - 1] == '=') + (text[n - 2] == '=');
    *len = (size_t)got - pad;
    return out;
}

char *seal_new_unlock_key(void)
{
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        abort(); /* a guessable key would protect nothing */
    _cleanup_free_ char *enc = b64(raw, sizeof(raw));
    OPENSSL_cleanse(raw, sizeof(raw));
    return xasprintf("SWMKEY-1-%s", enc);
}

bool seal_is_sealed(const char *text)
{
    return text && strncmp(text, PREFIX, strlen(PREFIX)) == 0;
}

static void kek(const char *unlock_key, unsigned char out[32])
{
    SHA256((const unsigned char *)unlock_key, strlen(unlock_key), out);
}

char *seal_text(const char *unlock_key, const char *plain)
{
    size_t len = strlen(plain);
    unsigned char key[32];
    kek(unlock_key, key);
    unsigned char *buf = xmalloc(NONCE_LEN + TAG_LEN + len + 1);
    unsigned char *nonce = buf, *tag = buf + NONCE_LEN;
    unsigned char *ct = tag + TAG_LEN;
    if (RAND_bytes(nonce, NONCE_LEN) != 1)
        abort();
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    if (!c || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
        (len && EVP_EncryptUpdate(c, ct, &n, (const unsigned char *)plain,
                                  (int)len) != 1) ||
        EVP_EncryptFinal_ex(c, ct + n, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
        abort(); /* AES-GCM with a valid key does not fail */
    EVP_CIPHER_CTX_free(c);
    OPENSSL_cleanse(key, sizeof(key));
    _cleanup_free_ char *enc = b64(buf, NONCE_LEN + TAG_LEN + len);
    free(buf);
    return xasprintf("%s%s", PREFIX, enc);
}

int seal_open(const char *unlock_key, const char *sealed, char **plain,
              struct err *err)
{
    size_t len = 0;
    _cleanup_free_ unsigned char *buf =
        seal_is_sealed(sealed) ? unb64(sealed + strlen(PREFIX), &len) : NULL;
    if (!buf || len < NONCE_LEN + TAG_LEN)
        return err_set(err, ERR_INTERNAL, "sealed secret is corrupt");
    unsigned char key[32];
    kek(unlock_key, key);
    const unsigned char *nonce = buf, *tag = buf + NONCE_LEN;
    const unsigned char *ct = tag + TAG_LEN;
    size_t n_ct = len - NONCE_LEN - TAG_LEN;
    char *out = xmalloc(n_ct + 1);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    bool ok =
        c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
        (n_ct == 0 ||
         EVP_DecryptUpdate(c, (unsigned char *)out, &n, ct, (int)n_ct) == 1) &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)tag) ==
            1 &&
        EVP_DecryptFinal_ex(c, (unsigned char *)out + n, &fin) == 1;
    EVP_CIPHER_CTX_free(c);
    OPENSSL_cleanse(key, sizeof(key));
    if (!ok) {
        free(out);
        return err_set(err, ERR_INVALID, "invalid key");
    }
    out[n_ct] = '\0';
    *plain = out;
    return 0;
}
