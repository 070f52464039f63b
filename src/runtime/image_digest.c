// SPDX-License-Identifier: Apache-2.0
// SHA-256 for the image store (content addresses of configs, layers and
// blobs), on OpenSSL's EVP interface. Kept to this file so the store has a
// single place that touches OpenSSL.
#include <openssl/evp.h>
#include <stdlib.h>

#include "runtime/image_internal.h"

static void to_hex(const unsigned char *md, unsigned n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * n] = '\0';
}

void image_sha256_init(struct image_sha256 *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        abort(); /* only out of memory makes this fail */
    h->ctx = ctx;
}

void image_sha256_update(struct image_sha256 *h, const void *data, size_t n)
{
    if (n && EVP_DigestUpdate(h->ctx, data, n) != 1)
        abort();
}

void image_sha256_final(struct image_sha256 *h, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32)
        abort();
    to_hex(md, n, hex);
    image_sha256_fini(h);
}

void image_sha256_fini(struct image_sha256 *h)
{
    if (h->ctx)
        EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

void image_sha256_hex(const void *data, size_t n, char hex[65])
{
    struct image_sha256 h;
    image_sha256_init(&h);
    image_sha256_update(&h, data, n);
    image_sha256_final(&h, hex);
}
