// SPDX-License-Identifier: Apache-2.0
// Raft data at rest: sealing and opening buffers (src/raft/encio.c).
#include <raft.h>
#include <string.h>

#include "harness.h"

#include "raft/encio.h"

static const uint8_t key1[ENCIO_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t key2[ENCIO_KEY_LEN] = {9, 9, 9};

static void test_roundtrip(void)
{
    static const size_t sizes[] = {0, 1, 7, 8, 9, 63, 64, 4096, 100001};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        char *plain = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            plain[i] = (char)('a' + i % 26);
        struct raft_buffer sealed, opened;
        CHECK_INT(encio_seal(key1, plain, n, &sealed), 0);
        CHECK(sealed.len % 8 == 0);
        CHECK(sealed.len >= n + 44);
        /* No plaintext run survives. */
        CHECK(n < 16 || !memmem(sealed.base, sealed.len, plain, 16));
        CHECK_INT(encio_open(key1, &sealed, &opened), 0);
        CHECK_INT((int)opened.len, (int)n);
        CHECK(memcmp(opened.base, plain, n) == 0);
        raft_free(opened.base);
        /* Another key, or one flipped bit: refused. */
        CHECK_INT(encio_open(key2, &sealed, &opened), -1);
        ((uint8_t *)sealed.base)[sealed.len - 1 - (sealed.len - n - 44)] ^=
            n ? 1 : 0;
        if (n)
            CHECK_INT(encio_open(key1, &sealed, &opened), -1);
        raft_free(sealed.base);
        free(plain);
    }
}

static void test_two_seals_differ(void)
{
    struct raft_buffer a, b;
    CHECK_INT(encio_seal(key1, "same", 4, &a), 0);
    CHECK_INT(encio_seal(key1, "same", 4, &b), 0);
    CHECK(a.len == b.len && memcmp(a.base, b.base, a.len) != 0);
    raft_free(a.base);
    raft_free(b.base);
}

static void test_plaintext_passes(void)
{
    char text[] = "{\"ts\":1,\"ops\":[]}      ";
    struct raft_buffer in = {.base = text, .len = sizeof(text) - 1}, out;
    CHECK_INT(encio_open(key1, &in, &out), 1);
    /* A truncated sealed buffer is corrupt, not plaintext. */
    struct raft_buffer sealed;
    CHECK_INT(encio_seal(key1, "0123456789abcdef", 16, &sealed), 0);
    sealed.len = 48;
    CHECK_INT(encio_open(key1, &sealed, &out), -1);
    raft_free(sealed.base);
}

int main(void)
{
    RUN(test_roundtrip);
    RUN(test_two_seals_differ);
    RUN(test_plaintext_passes);
    HARNESS_END();
}
