// SPDX-License-Identifier: Apache-2.0
// Autolock sealing (src/cluster/seal.c).
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "cluster/seal.h"

static void test_keys(void)
{
    char *a = seal_new_unlock_key(), *b = seal_new_unlock_key();
    CHECK(strncmp(a, "SWMKEY-1-", 9) == 0);
    CHECK(strlen(a) > 40);
    CHECK(strcmp(a, b) != 0);
    free(a);
    free(b);
}

static void test_roundtrip(void)
{
    static const char *const texts[] = {"", "x", "-----BEGIN PRIVATE KEY"};
    for (size_t i = 0; i < 3; i++) {
        char *s = seal_text("SWMKEY-1-abc", texts[i]);
        CHECK(seal_is_sealed(s));
        CHECK(strlen(texts[i]) < 4 || !strstr(s, texts[i]));
        char *plain = NULL;
        struct err err = {0};
        CHECK_INT(seal_open("SWMKEY-1-abc", s, &plain, &err), 0);
        CHECK_STR(plain, texts[i]);
        free(plain);
        CHECK_INT(seal_open("SWMKEY-1-abd", s, &plain, &err), -1);
        CHECK_INT(err.code, 400);
        CHECK_STR(err.msg, "invalid key");
        free(s);
    }
}

static void test_malformed(void)
{
    char *plain = NULL;
    struct err err = {0};
    CHECK(!seal_is_sealed("plain text"));
    CHECK(!seal_is_sealed(NULL));
    CHECK_INT(seal_open("k", "SEALED-1:@@@@", &plain, &err), -1);
    CHECK_INT(seal_open("k", "SEALED-1:", &plain, &err), -1);
    CHECK_INT(seal_open("k", "SEALED-1:AAAA", &plain, &err), -1);
    CHECK(plain == NULL);
}

int main(void)
{
    RUN(test_keys);
    RUN(test_roundtrip);
    RUN(test_malformed);
    HARNESS_END();
}
