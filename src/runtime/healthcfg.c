// SPDX-License-Identifier: Apache-2.0
// Health check configuration: merging the image's HEALTHCHECK with the
// service's and validating what the API gets, with Docker's rules and
// words.
#include "runtime/healthcfg.h"

#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"

static int64_t field_ns(const json_t *spec, const json_t *image,
                        const char *key, int64_t dflt)
{
    int64_t v = jx_int(spec, key, 0);
    if (v == 0)
        v = jx_int(image, key, 0);
    return v > 0 ? v : dflt;
}

static bool test_is_valid(const json_t *test, struct err *err)
{
    if (!json_is_array(test) || json_array_size(test) == 0)
        return true; /* empty: inherit, or no check */
    const char *kind = json_string_value(json_array_get(test, 0));
    size_t n = json_array_size(test);
    for (size_t i = 0; i < n; i++)
        if (!json_is_string(json_array_get(test, i))) {
            err_set(err, ERR_INVALID,
                    "ContainerSpec: Test in HealthConfig must be strings");
            return false;
        }
    if (strcmp(kind, "NONE") == 0 || (strcmp(kind, "CMD") == 0 && n >= 2) ||
        (strcmp(kind, "CMD-SHELL") == 0 && n == 2))
        return true;
    err_set(err, ERR_INVALID,
            "ContainerSpec: Test in HealthConfig must be [\"NONE\"], "
            "[\"CMD\", args...] or [\"CMD-SHELL\", command], not "
            "[\"%s\", ...] with %zu element(s)",
            kind, n);
    return false;
}

int health_config_from(const json_t *image_hc, const json_t *spec_hc,
                       struct health_config *out, struct err *err)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(image_hc))
        image_hc = NULL;
    if (!json_is_object(spec_hc))
        spec_hc = NULL;
    const json_t *test = json_object_get(spec_hc, "Test");
    if (json_array_size(test) == 0)
        test = json_object_get(image_hc, "Test");
    if (!test_is_valid(test, err))
        return -1;
    size_t n = json_array_size(test);
    const char *kind = n ? json_string_value(json_array_get(test, 0)) : "NONE";
    out->interval =
        field_ns(spec_hc, image_hc, "Interval", HEALTH_DEFAULT_INTERVAL);
    out->timeout =
        field_ns(spec_hc, image_hc, "Timeout", HEALTH_DEFAULT_TIMEOUT);
    out->start_period = field_ns(spec_hc, image_hc, "StartPeriod", 0);
    out->start_interval = field_ns(spec_hc, image_hc, "StartInterval",
                                   HEALTH_DEFAULT_START_INTERVAL);
    out->retries =
        (int)field_ns(spec_hc, image_hc, "Retries", HEALTH_DEFAULT_RETRIES);
    if (strcmp(kind, "NONE") == 0)
        return 0;
    if (strcmp(kind, "CMD-SHELL") == 0) {
        out->argv = xcalloc(4, sizeof(char *));
        out->argv[0] = xstrdup("/bin/sh");
        out->argv[1] = xstrdup("-c");
        out->argv[2] = xstrdup(json_string_value(json_array_get(test, 1)));
        return 0;
    }
    out->argv = xcalloc(n, sizeof(char *));
    for (size_t i = 1; i < n; i++)
        out->argv[i - 1] = xstrdup(json_string_value(json_array_get(test, i)));
    return 0;
}

void health_config_fini(struct health_config *c)
{
    for (size_t i = 0; c->argv && c->argv[i]; i++)
        free(c->argv[i]);
    free(c->argv);
    memset(c, 0, sizeof(*c));
}

int health_config_validate(const json_t *hc, struct err *err)
{
    if (!hc || json_is_null(hc))
        return 0;
    if (!json_is_object(hc))
        return err_set(err, ERR_INVALID,
                       "ContainerSpec: HealthConfig must be an object");
    static const char *const durations[] = {"Interval", "Timeout",
                                            "StartPeriod", "StartInterval"};
    for (size_t i = 0; i < ARRAY_SIZE(durations); i++) {
        int64_t v = jx_int(hc, durations[i], 0);
        if (v != 0 && v < NS_PER_MS)
            return err_set(err, ERR_INVALID,
                           "ContainerSpec: %s in HealthConfig cannot be less "
                           "than 1ms",
                           durations[i]);
    }
    if (jx_int(hc, "Retries", 0) < 0)
        return err_set(err, ERR_INVALID,
                       "ContainerSpec: Retries in HealthConfig cannot be "
                       "negative");
    return test_is_valid(json_object_get(hc, "Test"), err) ? 0 : -1;
}
