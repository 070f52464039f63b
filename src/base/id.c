// SPDX-License-Identifier: Apache-2.0
// Random identifiers from the kernel's CSPRNG.
#include "base/id.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

void id_random_bytes(void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = getrandom((char *)buf + done, n - done, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            perror("shoal: getrandom");
            abort();
        }
        done += (size_t)r;
    }
}

void id_new(char out[ID_LEN + 1])
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    unsigned char raw[ID_LEN];
    id_random_bytes(raw, sizeof(raw));
    /* 252 = 7 * 36 keeps the distribution uniform. */
    for (int i = 0; i < ID_LEN; i++) {
        unsigned char b = raw[i];
        while (b >= 252)
            id_random_bytes(&b, 1);
        out[i] = digits[b % 36];
    }
    out[ID_LEN] = '\0';
}

void id_new_hex(char out[ID_HEX_LEN + 1])
{
    unsigned char raw[ID_HEX_LEN / 2];
    id_random_bytes(raw, sizeof(raw));
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

uint64_t id_hash64(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}
