// SPDX-License-Identifier: Apache-2.0
// Validation of a ContainerSpec's health check, security options and
// templates, in swarmkit's error shape ("rpc error: code = InvalidArgument
// desc = ..."), with the same parsers the node uses to apply them.
#include "manager/taskcheck.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/jsonx.h"
#include "base/tmpl.h"
#include "runtime/healthcfg.h"
#include "runtime/seccomp_profile.h"

static int invalid(struct err *err)
{
    char msg[sizeof(err->msg)];
    snprintf(msg, sizeof(msg), "%s", err->msg);
    return err_set(err, ERR_INVALID,
                   "rpc error: code = InvalidArgument desc = %s", msg);
}

static int check_template(const char *what, const char *text, struct err *err)
{
    if (!text)
        return 0;
    char *out = tmpl_expand(text, tmpl_swarm_field_check, NULL, err);
    if (!out) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        err_set(err, ERR_INVALID, "ContainerSpec: invalid %s: %s", what, msg);
        return -1;
    }
    free(out);
    return 0;
}

int taskcheck_container(json_t *cs, struct err *err)
{
    /* The API documents "HealthCheck"; the docker CLI sends "Healthcheck"
     * (Go matches either). One name from here on. */
    json_t *alt = json_object_get(cs, "HealthCheck");
    if (alt && !json_object_get(cs, "Healthcheck"))
        json_object_set(cs, "Healthcheck", alt);
    json_object_del(cs, "HealthCheck");
    if (health_config_validate(json_object_get(cs, "Healthcheck"), err) < 0)
        return invalid(err);

    json_t *seccomp = jx_path(cs, "Privileges.Seccomp");
    json_t *profile = NULL;
    if (seccomp && seccomp_for_spec(seccomp, NULL, &profile, err) < 0) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        err_set(err, ERR_INVALID, "ContainerSpec: %s", msg);
        return invalid(err);
    }
    json_decref(profile);

    if (check_template("hostname", jx_str(cs, "Hostname"), err) < 0)
        return invalid(err);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cs, "Env"), i, v)
    {
        if (check_template("environment", json_string_value(v), err) < 0)
            return invalid(err);
    }
    return 0;
}
