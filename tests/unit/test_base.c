// SPDX-License-Identifier: Apache-2.0
// Unit tests for src/base: time formats, durations, ids, hash map, buffers.
#include "harness.h"

#include "base/buf.h"
#include "base/hmap.h"
#include "base/id.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"

static void test_rfc3339(void)
{
    char s[TIME_STRLEN];
    time_fmt_rfc3339(1795753828323443080LL, s);
    CHECK_STR(s, "2026-11-27T04:30:28.32344308Z");
    time_fmt_rfc3339(1795753828000000000LL, s);
    CHECK_STR(s, "2026-11-27T04:30:28Z");
    int64_t ns = 0;
    CHECK_INT(time_parse_rfc3339("2026-11-27T04:30:28.32344308Z", &ns), 0);
    CHECK_INT(ns, 1795753828323443080LL);
    CHECK_INT(time_parse_rfc3339("2026-11-27T05:30:28+01:00", &ns), 0);
    CHECK_INT(ns, 1795753828000000000LL);
    CHECK_INT(time_parse_rfc3339("2026-13-27T05:30:28Z", &ns), -1);
    CHECK_INT(time_parse_rfc3339("garbage", &ns), -1);
    CHECK_INT(time_parse_rfc3339("2026-11-27T04:30:28.Z", &ns), -1);
}

static void test_duration(void)
{
    int64_t ns = -1;
    CHECK_INT(duration_parse("5s", &ns), 0);
    CHECK_INT(ns, 5 * NS_PER_SEC);
    CHECK_INT(duration_parse("0s", &ns), 0);
    CHECK_INT(ns, 0);
    CHECK_INT(duration_parse("1m30s", &ns), 0);
    CHECK_INT(ns, 90 * NS_PER_SEC);
    CHECK_INT(duration_parse("300ms", &ns), 0);
    CHECK_INT(ns, 300 * NS_PER_MS);
    CHECK_INT(duration_parse("1.5h", &ns), 0);
    CHECK_INT(ns, 5400 * NS_PER_SEC);
    CHECK_INT(duration_parse("5", &ns), -1);
    CHECK_INT(duration_parse("-5s", &ns), -1);
    CHECK_INT(duration_parse("", &ns), -1);
    CHECK_INT(duration_parse("5x", &ns), -1);
    char out[64];
    duration_fmt(5 * NS_PER_SEC, out, sizeof(out));
    CHECK_STR(out, "5s");
    duration_fmt(90 * NS_PER_SEC, out, sizeof(out));
    CHECK_STR(out, "1m30s");
    duration_fmt(100 * NS_PER_MS, out, sizeof(out));
    CHECK_STR(out, "100ms");
    duration_fmt(3600 * NS_PER_SEC, out, sizeof(out));
    CHECK_STR(out, "1h0m0s");
    duration_fmt(1500 * NS_PER_MS, out, sizeof(out));
    CHECK_STR(out, "1.5s");
    duration_human(33 * NS_PER_SEC, out, sizeof(out));
    CHECK_STR(out, "33 seconds");
    duration_human(NS_PER_SEC / 2, out, sizeof(out));
    CHECK_STR(out, "Less than a second");
    duration_human(65 * NS_PER_SEC, out, sizeof(out));
    CHECK_STR(out, "About a minute");
}

static void test_ids(void)
{
    char a[ID_LEN + 1], b[ID_LEN + 1];
    id_new(a);
    id_new(b);
    CHECK_INT(strlen(a), 25);
    CHECK(strcmp(a, b) != 0);
    for (int i = 0; i < ID_LEN; i++)
        CHECK((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'z'));
    char h[ID_HEX_LEN + 1];
    id_new_hex(h);
    CHECK_INT(strlen(h), 64);
}

static void test_hmap(void)
{
    struct hmap m;
    hmap_init(&m);
    enum { N = 20000 };
    char **keys = xcalloc(N, sizeof(char *));
    for (int i = 0; i < N; i++) {
        keys[i] = xasprintf("key-%d", i);
        CHECK(hmap_put(&m, keys[i], keys[i]) == NULL);
    }
    CHECK_INT(hmap_count(&m), N);
    int found = 0;
    for (int i = 0; i < N; i++)
        found += hmap_get(&m, keys[i]) == keys[i];
    CHECK_INT(found, N);
    for (int i = 0; i < N; i += 2)
        CHECK(hmap_del(&m, keys[i]) == keys[i]);
    CHECK_INT(hmap_count(&m), N / 2);
    CHECK(hmap_get(&m, "key-0") == NULL);
    CHECK(hmap_get(&m, "key-1") == keys[1]);
    size_t it = 0, seen = 0;
    const char *k;
    void *v;
    while (hmap_next(&m, &it, &k, &v))
        seen++;
    CHECK_INT(seen, N / 2);
    hmap_fini(&m);
    for (int i = 0; i < N; i++)
        free(keys[i]);
    free(keys);
}

static void test_buf_json(void)
{
    _cleanup_buf_ struct buf b;
    buf_init(&b);
    buf_printf(&b, "%d-%s", 42, "x");
    buf_puts(&b, "yz");
    CHECK_STR(b.data, "42-xyz");
    buf_consume(&b, 3);
    CHECK_STR(b.data, "xyz");
    _cleanup_json_ json_t *j = json_object();
    jx_set_path(j, "A.B.C", json_integer(7));
    CHECK_INT(jx_path_int(j, "A.B.C", 0), 7);
    CHECK(jx_path(j, "A.X") == NULL);
    _cleanup_free_ char *s = jx_dumps(j);
    CHECK_STR(s, "{\"A\":{\"B\":{\"C\":7}}}");
}

static void test_equal_loose(void)
{
    json_t *a = json_loads("{\"Image\":\"x\",\"Args\":[\"a\"]}", 0, NULL);
    json_t *b = json_loads("{\"Image\":\"x\",\"Args\":[\"a\"],"
                           "\"Init\":false,\"DNSConfig\":{},"
                           "\"Resources\":{\"Limits\":{}},\"N\":0}",
                           0, NULL);
    json_t *c = json_loads("{\"Image\":\"x\",\"Args\":[\"a\"],"
                           "\"Init\":true}",
                           0, NULL);
    json_t *d = json_loads("{\"Image\":\"x\",\"Args\":[\"b\"]}", 0, NULL);
    CHECK(jx_equal_loose(a, b));
    CHECK(jx_equal_loose(b, a));
    CHECK(!jx_equal_loose(a, c));
    CHECK(!jx_equal_loose(c, a));
    CHECK(!jx_equal_loose(a, d));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
}

int main(void)
{
    RUN(test_rfc3339);
    RUN(test_duration);
    RUN(test_ids);
    RUN(test_hmap);
    RUN(test_buf_json);
    RUN(test_equal_loose);
    HARNESS_END();
}
