// SPDX-License-Identifier: Apache-2.0
// SHA-256 as the image store and the registry client use it for content
// addresses (image_digest.c, the only user of OpenSSL under runtime/).
#pragma once

#include <stddef.h>

/* "sha256:" + 64 hex + NUL */
#define IMAGE_DIGEST_LEN (7 + 64 + 1)

/* An incremental SHA-256. */
struct image_sha256 {
    void *ctx; /* EVP_MD_CTX */
};

void image_sha256_init(struct image_sha256 *h);
void image_sha256_update(struct image_sha256 *h, const void *data, size_t n);
/* Writes 64 lowercase hex digits + NUL and releases the context. */
void image_sha256_final(struct image_sha256 *h, char hex[65]);
/* Releases the context without a result (safe after final). */
void image_sha256_fini(struct image_sha256 *h);
void image_sha256_hex(const void *data, size_t n, char hex[65]);
