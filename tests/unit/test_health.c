// SPDX-License-Identifier: Apache-2.0
// Unit tests for the health check core: the image/spec merge with Docker's
// defaults (runtime/healthcfg.c), the API's validation rules, and the
// status machine (agent/health.c): streaks, retries, the start period, the
// start interval, the log of the last five probes, timeouts.
#include "agent/health.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "harness.h"

#define S (1000000000LL)

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fprintf(stderr, "bad test JSON: %s\n", e.text);
    return j;
}

static void test_config_merge(void)
{
    struct health_config c;
    struct err err = {0};
    /* No check anywhere, or NONE. */
    CHECK_INT(health_config_from(NULL, NULL, &c, &err), 0);
    CHECK(!health_config_enabled(&c));
    health_config_fini(&c);
    _cleanup_json_ json_t *img = J("{\"Test\":[\"CMD\",\"/bin/check\",\"-q\"],"
                                   "\"Interval\":2000000000,\"Retries\":7}");
    _cleanup_json_ json_t *none = J("{\"Test\":[\"NONE\"]}");
    CHECK_INT(health_config_from(img, none, &c, &err), 0);
    CHECK(!health_config_enabled(&c));
    health_config_fini(&c);

    /* The image's check, Docker's defaults for what it leaves out; CMD
     * runs without a shell. */
    CHECK_INT(health_config_from(img, NULL, &c, &err), 0);
    CHECK(health_config_enabled(&c));
    CHECK_STR(c.argv[0], "/bin/check");
    CHECK_STR(c.argv[1], "-q");
    CHECK(c.argv[2] == NULL);
    CHECK_INT(c.interval, 2 * S);
    CHECK_INT(c.timeout, 30 * S);
    CHECK_INT(c.start_period, 0);
    CHECK_INT(c.start_interval, 5 * S);
    CHECK_INT(c.retries, 7);
    health_config_fini(&c);

    /* The spec overrides field by field; CMD-SHELL goes through sh -c. */
    _cleanup_json_ json_t *spec =
        J("{\"Test\":[\"CMD-SHELL\",\"curl -f localhost || exit 1\"],"
          "\"Timeout\":3000000000}");
    CHECK_INT(health_config_from(img, spec, &c, &err), 0);
    CHECK_STR(c.argv[0], "/bin/sh");
    CHECK_STR(c.argv[1], "-c");
    CHECK_STR(c.argv[2], "curl -f localhost || exit 1");
    CHECK_INT(c.interval, 2 * S);
    CHECK_INT(c.timeout, 3 * S);
    CHECK_INT(c.retries, 7);
    health_config_fini(&c);

    /* Only durations in the spec: the image's test. */
    _cleanup_json_ json_t *durs = J("{\"Interval\":1000000000}");
    CHECK_INT(health_config_from(img, durs, &c, &err), 0);
    CHECK_STR(c.argv[0], "/bin/check");
    CHECK_INT(c.interval, 1 * S);
    health_config_fini(&c);

    _cleanup_json_ json_t *bad = J("{\"Test\":[\"SHELL\",\"x\"]}");
    CHECK_INT(health_config_from(NULL, bad, &c, &err), -1);
    CHECK_INT(err.code, 400);
}

static void test_validate(void)
{
    static const struct {
        const char *hc, *err;
    } cases[] = {
        {"{\"Interval\":999999}",
         "ContainerSpec: Interval in HealthConfig cannot be less than 1ms"},
        {"{\"Timeout\":5}",
         "ContainerSpec: Timeout in HealthConfig cannot be less than 1ms"},
        {"{\"StartPeriod\":-1}",
         "ContainerSpec: StartPeriod in HealthConfig cannot be less than 1ms"},
        {"{\"Retries\":-1}",
         "ContainerSpec: Retries in HealthConfig cannot be negative"},
        {"{\"Test\":[\"CMD\"]}", NULL},
        {"{\"Test\":[\"CMD-SHELL\",\"a\",\"b\"]}", NULL},
        {"{\"Test\":[\"NONE\"],\"Interval\":0}", ""},
        {"{\"Test\":[\"CMD\",\"x\"],\"Interval\":1000000}", ""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_json_ json_t *hc = J(cases[i].hc);
        struct err err = {0};
        int rc = health_config_validate(hc, &err);
        if (cases[i].err && !*cases[i].err) {
            CHECK_INT(rc, 0);
            continue;
        }
        CHECK_INT(rc, -1);
        CHECK_INT(err.code, 400);
        if (cases[i].err)
            CHECK_STR(err.msg, cases[i].err);
        else
            CHECK(strstr(err.msg, "Test in HealthConfig must be") != NULL);
    }
    CHECK_INT(health_config_validate(NULL, NULL), 0);
}

static struct health_config cfg(int retries, int64_t start_period)
{
    struct health_config c = {
        .interval = 10 * S,
        .timeout = 2 * S,
        .start_period = start_period,
        .start_interval = 1 * S,
        .retries = retries,
    };
    return c;
}

static void test_streaks(void)
{
    struct health_config c = cfg(3, 0);
    struct health_state h;
    health_state_init(&h, 100 * S);
    CHECK_INT(h.status, TASK_HEALTH_STARTING);
    /* Failures before the first success count (no start period). */
    CHECK(!health_record(&h, &c, 110 * S, 111 * S, 1, "no"));
    CHECK_INT(h.failing_streak, 1);
    CHECK_INT(h.status, TASK_HEALTH_STARTING);
    CHECK(health_record(&h, &c, 120 * S, 121 * S, 0, "ok"));
    CHECK_INT(h.status, TASK_HEALTH_HEALTHY);
    CHECK_INT(h.failing_streak, 0);
    /* Two failures: still healthy; the third makes it unhealthy. */
    CHECK(!health_record(&h, &c, 130 * S, 131 * S, 1, ""));
    CHECK(!health_record(&h, &c, 140 * S, 141 * S, 2, ""));
    CHECK_INT(h.status, TASK_HEALTH_HEALTHY);
    CHECK_INT(h.failing_streak, 2);
    CHECK(health_record(&h, &c, 150 * S, 151 * S, 1, ""));
    CHECK_INT(h.status, TASK_HEALTH_UNHEALTHY);
    CHECK_INT(h.failing_streak, 3);
    /* More failures keep it there, a success brings it back. */
    CHECK(!health_record(&h, &c, 160 * S, 161 * S, 1, ""));
    CHECK_INT(h.failing_streak, 4);
    CHECK(health_record(&h, &c, 170 * S, 171 * S, 0, ""));
    CHECK_INT(h.status, TASK_HEALTH_HEALTHY);
}

static void test_start_period(void)
{
    struct health_config c = cfg(1, 30 * S);
    struct health_state h;
    health_state_init(&h, 100 * S);
    /* Within the start period, failures of a starting container do not
     * count and probes come at the start interval. */
    CHECK_INT(health_next_delay(&h, &c, 101 * S), 1 * S);
    CHECK(!health_record(&h, &c, 105 * S, 106 * S, 1, ""));
    CHECK(!health_record(&h, &c, 129 * S, 130 * S, 1, ""));
    CHECK_INT(h.failing_streak, 0);
    CHECK_INT(h.status, TASK_HEALTH_STARTING);
    /* A probe that started after it counts. */
    CHECK(health_record(&h, &c, 130 * S, 131 * S, 1, ""));
    CHECK_INT(h.status, TASK_HEALTH_UNHEALTHY);
    CHECK_INT(health_next_delay(&h, &c, 131 * S), 10 * S);

    /* Once healthy, the start period no longer shields failures. */
    health_state_init(&h, 100 * S);
    CHECK(health_record(&h, &c, 101 * S, 101 * S, 0, ""));
    CHECK_INT(health_next_delay(&h, &c, 102 * S), 10 * S);
    CHECK(health_record(&h, &c, 111 * S, 112 * S, 1, ""));
    CHECK_INT(h.status, TASK_HEALTH_UNHEALTHY);
}

static void test_log_and_json(void)
{
    struct health_config c = cfg(3, 0);
    struct health_state h;
    health_state_init(&h, 0);
    char out[16];
    for (int i = 0; i < 7; i++) {
        snprintf(out, sizeof(out), "probe %d", i);
        health_record(&h, &c, (i + 1) * S, (i + 1) * S + 5, i == 6 ? 0 : 1,
                      out);
    }
    CHECK_INT(h.n_log, 5);
    CHECK_STR(h.log[0].output, "probe 2");
    CHECK_STR(h.log[4].output, "probe 6");
    CHECK(health_record_timeout(&h,
                                &(struct health_config){.interval = S,
                                                        .timeout = 300000000,
                                                        .retries = 1},
                                8 * S, 8 * S + 300000000));
    CHECK_INT(h.log[4].exit_code, -1);
    CHECK_STR(h.log[4].output, "Health check exceeded timeout (300ms)");
    /* Invalid UTF-8 in probe output stays JSON-safe. */
    health_record(&h, &c, 9 * S, 9 * S, 1, "bad \xff\xfe bytes \xe2\x82");
    CHECK_STR(h.log[4].output, "bad ?? bytes ??");
    _cleanup_json_ json_t *j = health_state_json(&h);
    CHECK_STR(jx_str(j, "Status"), "unhealthy");
    CHECK_INT(jx_int(j, "FailingStreak", -1), 2);
    json_t *log = json_object_get(j, "Log");
    CHECK_INT(json_array_size(log), 5);
    CHECK_STR(jx_str(json_array_get(log, 0), "Start"), "1970-01-01T00:00:05Z");
    CHECK_STR(jx_str(json_array_get(log, 0), "End"),
              "1970-01-01T00:00:05.000000005Z");
    CHECK_INT(jx_int(json_array_get(log, 3), "ExitCode", 99), -1);
    /* A long output is cut to 4096 bytes. */
    char big[6000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    health_record(&h, &c, 10 * S, 10 * S, 0, big);
    CHECK_INT(strlen(h.log[4].output), HEALTH_MAX_OUTPUT);
}

int main(void)
{
    RUN(test_config_merge);
    RUN(test_validate);
    RUN(test_streaks);
    RUN(test_start_period);
    RUN(test_log_and_json);
    HARNESS_END();
}
