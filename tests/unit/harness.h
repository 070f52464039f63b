// SPDX-License-Identifier: Apache-2.0
// A tiny unit-test harness: each check counts; each test binary ends with
// "N passed, N failed" and exits non-zero on any failure.
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_passed, harness_failed, harness_test_failed;
static const char *harness_current;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond) {                                                            \
            harness_passed++;                                                  \
        } else {                                                               \
            harness_failed++;                                                  \
            harness_test_failed = 1;                                           \
            fprintf(stderr, "FAIL %s:%d (%s): %s\n", __FILE__, __LINE__,       \
                    harness_current, #cond);                                   \
        }                                                                      \
    } while (0)

#define CHECK_INT(a, b)                                                        \
    do {                                                                       \
        long long ca_ = (long long)(a), cb_ = (long long)(b);                  \
        if (ca_ == cb_) {                                                      \
            harness_passed++;                                                  \
        } else {                                                               \
            harness_failed++;                                                  \
            harness_test_failed = 1;                                           \
            fprintf(stderr, "FAIL %s:%d (%s): %s == %s (%lld != %lld)\n",      \
                    __FILE__, __LINE__, harness_current, #a, #b, ca_, cb_);    \
        }                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *sa_ = (a), *sb_ = (b);                                     \
        if (sa_ && sb_ && strcmp(sa_, sb_) == 0) {                             \
            harness_passed++;                                                  \
        } else {                                                               \
            harness_failed++;                                                  \
            harness_test_failed = 1;                                           \
            fprintf(stderr, "FAIL %s:%d (%s): %s == %s (\"%s\" != \"%s\")\n",  \
                    __FILE__, __LINE__, harness_current, #a, #b,               \
                    sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");               \
        }                                                                      \
    } while (0)

#define RUN(fn)                                                                \
    do {                                                                       \
        harness_current = #fn;                                                 \
        harness_test_failed = 0;                                               \
        fn();                                                                  \
        if (getenv("HARNESS_VERBOSE"))                                         \
            fprintf(stderr, "%s %s\n", harness_test_failed ? "FAIL" : "ok",    \
                    #fn);                                                      \
    } while (0)

#define HARNESS_END()                                                          \
    do {                                                                       \
        printf("%s: %d passed, %d failed\n", __FILE__, harness_passed,         \
               harness_failed);                                                \
        return harness_failed ? 1 : 0;                                         \
    } while (0)
