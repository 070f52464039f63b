// SPDX-License-Identifier: Apache-2.0
// Build cache keys (see cachekey.h): SHA-256 over length-prefixed fields.
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "builder/cachekey.h"
#include "runtime/image_digest.h"

static void field(struct image_sha256 *h, char tag, const char *s)
{
    char hdr[32];
    size_t n = s ? strlen(s) : 0;
    int l = snprintf(hdr, sizeof(hdr), "%c%zu:", tag, n);
    image_sha256_update(h, hdr, (size_t)l);
    if (n)
        image_sha256_update(h, s, n);
}

void cachekey_step(const char *parent, const char *instr,
                   const char *const *env, const char *content,
                   char out[CACHEKEY_LEN])
{
    struct image_sha256 h;
    image_sha256_init(&h);
    field(&h, 'v', "shoal-build-1");
    field(&h, 'p', parent);
    field(&h, 'i', instr);
    for (size_t i = 0; env && env[i]; i++)
        field(&h, 'e', env[i]);
    field(&h, 'c', content);
    char hex[65];
    image_sha256_final(&h, hex);
    snprintf(out, CACHEKEY_LEN, "sha256:%s", hex);
}

void cachekey_content_init(struct cachekey_content *c)
{
    c->h = xmalloc(sizeof(struct image_sha256));
    image_sha256_init(c->h);
}

void cachekey_content_entry(struct cachekey_content *c, const char *path,
                            mode_t mode, int64_t size, const char *link)
{
    char m[64];
    snprintf(m, sizeof(m), "%o/%lld", (unsigned)mode, (long long)size);
    field(c->h, 'n', path);
    field(c->h, 'm', m);
    if (link)
        field(c->h, 'l', link);
    field(c->h, 'd', ""); /* data follows */
}

void cachekey_content_data(struct cachekey_content *c, const void *data,
                           size_t n)
{
    image_sha256_update(c->h, data, n);
}

void cachekey_content_final(struct cachekey_content *c, char out[CACHEKEY_LEN])
{
    char hex[65];
    image_sha256_final(c->h, hex);
    free(c->h);
    c->h = NULL;
    snprintf(out, CACHEKEY_LEN, "sha256:%s", hex);
}

void cachekey_content_fini(struct cachekey_content *c)
{
    if (!c->h)
        return;
    image_sha256_fini(c->h);
    free(c->h);
    c->h = NULL;
}
