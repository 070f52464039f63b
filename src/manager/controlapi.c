// SPDX-License-Identifier: Apache-2.0
// User specs in, validated specs out. A small schema of the Docker API
// types drives the type checks (with Go's error words, since that is what
// the docker CLI's users know) and drops unknown fields; the semantic rules
// after it follow swarmkit's controlapi.
#include "manager/controlapi.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/id.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "manager/constraint.h"
#include "manager/taskcheck.h"
#include "volume/volume_core.h"

enum ftype {
    T_ANY, /* kept as given */
    T_STR,
    T_INT,  /* int64 */
    T_UINT, /* uint64 */
    T_NUM,  /* float */
    T_BOOL,
    T_OBJ,     /* fields given by sub */
    T_MAP_STR, /* string -> string */
    T_ARR_STR,
    T_ARR_OBJ, /* elements given by sub */
};

struct field {
    const char *name;
    enum ftype type;
    const struct field *sub;
    const char *go_type; /* for T_OBJ / T_ARR_OBJ error messages */
};

#define END                                                                    \
    {                                                                          \
        NULL, T_ANY, NULL, NULL                                                \
    }

static const struct field limits_f[] = {
    {"NanoCPUs", T_INT, NULL, NULL},
    {"MemoryBytes", T_INT, NULL, NULL},
    {"Pids", T_INT, NULL, NULL},
    END,
};
static const struct field reservations_f[] = {
    {"NanoCPUs", T_INT, NULL, NULL},
    {"MemoryBytes", T_INT, NULL, NULL},
    {"GenericResources", T_ANY, NULL, NULL},
    END,
};
static const struct field resources_f[] = {
    {"Limits", T_OBJ, limits_f, "Limit"},
    {"Reservations", T_OBJ, reservations_f, "Resources"},
    END,
};
static const struct field restart_f[] = {
    {"Condition", T_STR, NULL, NULL},
    {"Delay", T_INT, NULL, NULL},
    {"MaxAttempts", T_UINT, NULL, NULL},
    {"Window", T_INT, NULL, NULL},
    END,
};
static const struct field placement_f[] = {
    {"Constraints", T_ARR_STR, NULL, NULL},
    {"Preferences", T_ANY, NULL, NULL},
    {"MaxReplicas", T_UINT, NULL, NULL},
    {"Platforms", T_ANY, NULL, NULL},
    END,
};
static const struct field bind_f[] = {
    {"Propagation", T_STR, NULL, NULL},
    {"NonRecursive", T_BOOL, NULL, NULL},
    {"CreateMountpoint", T_BOOL, NULL, NULL},
    {"ReadOnlyNonRecursive", T_BOOL, NULL, NULL},
    {"ReadOnlyForceRecursive", T_BOOL, NULL, NULL},
    END,
};
static const struct field volopts_f[] = {
    {"NoCopy", T_BOOL, NULL, NULL},
    {"Labels", T_MAP_STR, NULL, NULL},
    {"DriverConfig", T_ANY, NULL, NULL},
    {"Subpath", T_STR, NULL, NULL},
    END,
};
static const struct field tmpfs_f[] = {
    {"SizeBytes", T_INT, NULL, NULL},
    {"Mode", T_UINT, NULL, NULL},
    {"Options", T_ANY, NULL, NULL},
    END,
};
static const struct field mount_f[] = {
    {"Target", T_STR, NULL, NULL},
    {"Source", T_STR, NULL, NULL},
    {"Type", T_STR, NULL, NULL},
    {"ReadOnly", T_BOOL, NULL, NULL},
    {"Consistency", T_STR, NULL, NULL},
    {"BindOptions", T_OBJ, bind_f, "BindOptions"},
    {"VolumeOptions", T_OBJ, volopts_f, "VolumeOptions"},
    {"TmpfsOptions", T_OBJ, tmpfs_f, "TmpfsOptions"},
    END,
};
static const struct field health_f[] = {
    {"Test", T_ARR_STR, NULL, NULL},
    {"Interval", T_INT, NULL, NULL},
    {"Timeout", T_INT, NULL, NULL},
    {"Retries", T_INT, NULL, NULL},
    {"StartPeriod", T_INT, NULL, NULL},
    {"StartInterval", T_INT, NULL, NULL},
    END,
};
static const struct field seccomp_f[] = {
    {"Mode", T_STR, NULL, NULL},
    {"Profile", T_STR, NULL, NULL},
    END,
};
static const struct field privileges_f[] = {
    {"CredentialSpec", T_ANY, NULL, NULL},
    {"SELinuxContext", T_ANY, NULL, NULL},
    {"Seccomp", T_OBJ, seccomp_f, "SeccompOpts"},
    {"AppArmor", T_ANY, NULL, NULL},
    {"NoNewPrivileges", T_BOOL, NULL, NULL},
    END,
};
static const struct field dns_f[] = {
    {"Nameservers", T_ARR_STR, NULL, NULL},
    {"Search", T_ARR_STR, NULL, NULL},
    {"Options", T_ARR_STR, NULL, NULL},
    END,
};
static const struct field container_f[] = {
    {"Image", T_STR, NULL, NULL},
    {"Labels", T_MAP_STR, NULL, NULL},
    {"Command", T_ARR_STR, NULL, NULL},
    {"Args", T_ARR_STR, NULL, NULL},
    {"Hostname", T_STR, NULL, NULL},
    {"Env", T_ARR_STR, NULL, NULL},
    {"Dir", T_STR, NULL, NULL},
    {"User", T_STR, NULL, NULL},
    {"Groups", T_ARR_STR, NULL, NULL},
    {"Privileges", T_OBJ, privileges_f, "Privileges"},
    {"TTY", T_BOOL, NULL, NULL},
    {"OpenStdin", T_BOOL, NULL, NULL},
    {"ReadOnly", T_BOOL, NULL, NULL},
    {"Mounts", T_ARR_OBJ, mount_f, "Mount"},
    {"StopSignal", T_STR, NULL, NULL},
    {"StopGracePeriod", T_INT, NULL, NULL},
    {"Healthcheck", T_OBJ, health_f, "HealthConfig"},
    {"HealthCheck", T_OBJ, health_f, "HealthConfig"},
    {"Hosts", T_ARR_STR, NULL, NULL},
    {"DNSConfig", T_OBJ, dns_f, "DNSConfig"},
    {"Secrets", T_ANY, NULL, NULL},
    {"Configs", T_ANY, NULL, NULL},
    {"Isolation", T_STR, NULL, NULL},
    {"Init", T_BOOL, NULL, NULL},
    {"Sysctls", T_MAP_STR, NULL, NULL},
    {"CapabilityAdd", T_ARR_STR, NULL, NULL},
    {"CapabilityDrop", T_ARR_STR, NULL, NULL},
    {"Ulimits", T_ANY, NULL, NULL},
    {"OomScoreAdj", T_INT, NULL, NULL},
    END,
};
static const struct field netattach_f[] = {
    {"Target", T_STR, NULL, NULL},
    {"Aliases", T_ARR_STR, NULL, NULL},
    {"DriverOpts", T_MAP_STR, NULL, NULL},
    END,
};
static const struct field logdriver_f[] = {
    {"Name", T_STR, NULL, NULL},
    {"Options", T_MAP_STR, NULL, NULL},
    END,
};
static const struct field task_f[] = {
    {"ContainerSpec", T_OBJ, container_f, "ContainerSpec"},
    {"PluginSpec", T_ANY, NULL, NULL},
    {"NetworkAttachmentSpec", T_ANY, NULL, NULL},
    {"Resources", T_OBJ, resources_f, "ResourceRequirements"},
    {"RestartPolicy", T_OBJ, restart_f, "RestartPolicy"},
    {"Placement", T_OBJ, placement_f, "Placement"},
    {"ForceUpdate", T_UINT, NULL, NULL},
    {"Runtime", T_STR, NULL, NULL},
    {"Networks", T_ARR_OBJ, netattach_f, "NetworkAttachmentConfig"},
    {"LogDriver", T_OBJ, logdriver_f, "Driver"},
    END,
};
static const struct field replicated_f[] = {
    {"Replicas", T_UINT, NULL, NULL},
    END,
};
static const struct field job_f[] = {
    {"MaxConcurrent", T_UINT, NULL, NULL},
    {"TotalCompletions", T_UINT, NULL, NULL},
    END,
};
static const struct field empty_f[] = {END};
static const struct field mode_f[] = {
    {"Replicated", T_OBJ, replicated_f, "ReplicatedService"},
    {"Global", T_OBJ, empty_f, "GlobalService"},
    {"ReplicatedJob", T_OBJ, job_f, "ReplicatedJob"},
    {"GlobalJob", T_OBJ, empty_f, "GlobalJob"},
    END,
};
static const struct field update_f[] = {
    {"Parallelism", T_UINT, NULL, NULL},
    {"Delay", T_INT, NULL, NULL},
    {"FailureAction", T_STR, NULL, NULL},
    {"Monitor", T_INT, NULL, NULL},
    {"MaxFailureRatio", T_NUM, NULL, NULL},
    {"Order", T_STR, NULL, NULL},
    END,
};
static const struct field port_f[] = {
    {"Name", T_STR, NULL, NULL},        {"Protocol", T_STR, NULL, NULL},
    {"TargetPort", T_UINT, NULL, NULL}, {"PublishedPort", T_UINT, NULL, NULL},
    {"PublishMode", T_STR, NULL, NULL}, END,
};
static const struct field endpoint_f[] = {
    {"Mode", T_STR, NULL, NULL},
    {"Ports", T_ARR_OBJ, port_f, "PortConfig"},
    END,
};
static const struct field service_f[] = {
    {"Name", T_STR, NULL, NULL},
    {"Labels", T_MAP_STR, NULL, NULL},
    {"TaskTemplate", T_OBJ, task_f, "TaskSpec"},
    {"Mode", T_OBJ, mode_f, "ServiceMode"},
    {"UpdateConfig", T_OBJ, update_f, "UpdateConfig"},
    {"RollbackConfig", T_OBJ, update_f, "UpdateConfig"},
    {"Networks", T_ARR_OBJ, netattach_f, "NetworkAttachmentConfig"},
    {"EndpointSpec", T_OBJ, endpoint_f, "EndpointSpec"},
    END,
};
static const struct field node_f[] = {
    {"Name", T_STR, NULL, NULL},
    {"Labels", T_MAP_STR, NULL, NULL},
    {"Role", T_STR, NULL, NULL},
    {"Availability", T_STR, NULL, NULL},
    END,
};

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "null";
    }
}

static const char *go_type(const struct field *f)
{
    switch (f->type) {
    case T_STR:
        return "string";
    case T_INT:
        return "int64";
    case T_UINT:
        return "uint64";
    case T_NUM:
        return "float32";
    case T_BOOL:
        return "bool";
    case T_MAP_STR:
        return "map[string]string";
    case T_ARR_STR:
        return "[]string";
    case T_ARR_OBJ:
        return f->go_type;
    case T_OBJ:
        return f->go_type;
    default:
        return "interface {}";
    }
}

static int type_error(struct err *err, const json_t *v, const char *path,
                      const struct field *f)
{
    char what[64];
    if (json_is_integer(v))
        snprintf(what, sizeof(what), "number %lld",
                 (long long)json_integer_value(v));
    else
        snprintf(what, sizeof(what), "%s", json_kind(v));
    return err_set(err, ERR_INVALID,
                   "json: cannot unmarshal %s into Go struct field %s of "
                   "type %s",
                   what, path, go_type(f));
}

static int check_object(json_t *obj, const struct field *fields,
                        const char *path, struct err *err);

static int check_value(json_t *v, const struct field *f, const char *path,
                       struct err *err)
{
    switch (f->type) {
    case T_ANY:
        return 0;
    case T_STR:
        return json_is_string(v) ? 0 : type_error(err, v, path, f);
    case T_INT:
        return json_is_integer(v) ? 0 : type_error(err, v, path, f);
    case T_UINT:
        return json_is_integer(v) && json_integer_value(v) >= 0
                   ? 0
                   : type_error(err, v, path, f);
    case T_NUM:
        return json_is_number(v) ? 0 : type_error(err, v, path, f);
    case T_BOOL:
        return json_is_boolean(v) ? 0 : type_error(err, v, path, f);
    case T_OBJ:
        if (!json_is_object(v))
            return type_error(err, v, path, f);
        return check_object(v, f->sub, path, err);
    case T_MAP_STR: {
        if (!json_is_object(v))
            return type_error(err, v, path, f);
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            if (!json_is_string(e))
                return type_error(err, e, path, f);
        }
        return 0;
    }
    case T_ARR_STR: {
        if (!json_is_array(v))
            return type_error(err, v, path, f);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e))
                return type_error(err, e, path, f);
        }
        return 0;
    }
    case T_ARR_OBJ: {
        if (!json_is_array(v))
            return type_error(err, v, path, f);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (!json_is_object(e))
                return type_error(err, e, path, f);
            if (check_object(e, f->sub, path, err) < 0)
                return -1;
        }
        return 0;
    }
    }
    return 0;
}

/* Type-checks known fields, drops unknown ones and nulls (what Go's decoder
 * does with them). */
static int check_object(json_t *obj, const struct field *fields,
                        const char *path, struct err *err)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v)
    {
        const struct field *f = NULL;
        for (const struct field *c = fields; c->name; c++)
            if (strcmp(c->name, k) == 0)
                f = c;
        if (!f || json_is_null(v)) {
            json_object_del(obj, k);
            continue;
        }
        char sub[256];
        snprintf(sub, sizeof(sub), "%s.%s", path, k);
        if (check_value(v, f, sub, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- semantic rules ---- */

static int invalid(struct err *err, const char *fmt, const char *arg)
{
    char msg[400];
    snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
    return err_set(err, ERR_INVALID,
                   "rpc error: code = InvalidArgument "
                   "desc = %s",
                   msg);
}

/* swarmkit's isValidDNSName, ^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$: letters
 * and digits joined by runs of '-' and '_', starting and ending with a
 * letter or digit (so stack names such as "t1_web" pass). */
bool controlapi_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || !isalnum((unsigned char)s[0]) ||
        !isalnum((unsigned char)s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

int controlapi_check_name(const char *name, struct err *err)
{
    if (!controlapi_valid_name(name))
        return invalid(err, "name must be valid as a DNS name component%s", "");
    if (strlen(name) > 63)
        return invalid(err, "name must be 63 characters or fewer%s", "");
    return 0;
}

static bool one_of(const char *s, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(s, *allowed) == 0)
            return true;
    return false;
}

/* What a volume mount asks of the node's local driver, checked here so a
 * bad option is a 400 at once rather than a task failing on every node:
 * the driver (only "local") and its options (volume/volume_core.h). */
static int check_volume_options(const json_t *m, struct err *err)
{
    const json_t *vo = json_object_get(m, "VolumeOptions");
    const char *driver = jx_path_str(vo, "DriverConfig.Name");
    if (driver && *driver && strcmp(driver, VOLUME_DRIVER_LOCAL) != 0)
        return err_set(err, ERR_INVALID,
                       "invalid mount config for type \"volume\": volume "
                       "driver \"%s\" is not supported",
                       driver);
    if (volume_opts_check(jx_path(vo, "DriverConfig.Options"), err) < 0)
        return err_ctx(err, "invalid mount config for type \"volume\"");
    const char *sub = jx_str(vo, "Subpath");
    if (sub && *sub && volume_subpath_check(sub, err) < 0)
        return err_ctx(err, "invalid mount config for type \"volume\"");
    return 0;
}

static int check_mounts(json_t *cs, struct err *err)
{
    static const char *const types[] = {"bind", "volume", "tmpfs", NULL};
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(cs, "Mounts"), i, m)
    {
        const char *type = jx_str(m, "Type");
        const char *target = jx_str(m, "Target");
        const char *source = jx_str(m, "Source");
        if (!type)
            return invalid(err, "ContainerSpec: invalid mount type: %s",
                           "(none)");
        /* dockerd's conversion of the mount type, before swarmkit. */
        if (!one_of(type, types))
            return err_set(err, ERR_INVALID, "invalid MountType: \"%s\"", type);
        if (!target || target[0] != '/')
            return invalid(err,
                           "ContainerSpec: invalid mount target, must be an "
                           "absolute path: %s",
                           target);
        if (strcmp(type, "bind") == 0 && (!source || source[0] != '/'))
            return invalid(err,
                           "ContainerSpec: invalid bind mount source, must be "
                           "an absolute path: %s",
                           source);
        if (strcmp(type, "tmpfs") == 0 && source && *source)
            return invalid(err,
                           "ContainerSpec: invalid tmpfs source, source must "
                           "be empty%s",
                           "");
        if (strcmp(type, "volume") == 0 && source && *source &&
            (strchr(source, '/') || strcmp(source, ".") == 0 ||
             strcmp(source, "..") == 0))
            return invalid(err, "ContainerSpec: invalid volume name: %s",
                           source);
        if (strcmp(type, "volume") == 0 && check_volume_options(m, err) < 0)
            return -1;
    }
    return 0;
}

static int check_nonnegative(json_t *obj, const char *key, const char *what,
                             struct err *err)
{
    if (jx_int(obj, key, 0) < 0)
        return invalid(err, "%s cannot be negative", what);
    return 0;
}

static int check_task_spec(json_t *tt, struct err *err)
{
    json_t *cs = json_object_get(tt, "ContainerSpec");
    const char *image = jx_str(cs, "Image");
    if (!cs || !image || !*image)
        return invalid(err, "ContainerSpec: image reference must be provided%s",
                       "");
    if (check_nonnegative(cs, "StopGracePeriod",
                          "ContainerSpec: stop grace period", err) < 0 ||
        check_mounts(cs, err) < 0 || taskcheck_container(cs, err) < 0)
        return -1;
    json_t *rp = json_object_get(tt, "RestartPolicy");
    const char *cond = jx_str(rp, "Condition");
    static const char *const conds[] = {"any", "on-failure", "none", "", NULL};
    if (cond && !one_of(cond, conds))
        return err_set(err, ERR_INVALID, "invalid RestartCondition type: %s",
                       cond);
    if (check_nonnegative(rp, "Delay", "TaskSpec: restart-delay", err) < 0 ||
        check_nonnegative(rp, "Window", "TaskSpec: restart-window", err) < 0)
        return -1;
    json_t *res = json_object_get(tt, "Resources");
    static const char *const parts[] = {"Limits", "Reservations"};
    static const char *const keys[] = {"NanoCPUs", "MemoryBytes", "Pids"};
    for (size_t p = 0; p < ARRAY_SIZE(parts); p++)
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
            char what[64];
            snprintf(what, sizeof(what), "TaskSpec: Resources.%s.%s", parts[p],
                     keys[k]);
            if (check_nonnegative(json_object_get(res, parts[p]), keys[k], what,
                                  err) < 0)
                return -1;
        }
    int64_t mem = jx_path_int(res, "Limits.MemoryBytes", 0);
    if (mem > 0 && mem < 6 * 1024 * 1024)
        return invalid(err, "TaskSpec: Minimum memory limit allowed is 6MB%s",
                       "");
    json_t *constraints = jx_path(tt, "Placement.Constraints");
    if (constraints_validate(constraints, err) < 0) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        return invalid(err, "%s", msg);
    }
    return 0;
}

static int check_update_config(json_t *uc, const char *which, struct err *err)
{
    static const char *const actions[] = {"pause", "continue", "rollback", "",
                                          NULL};
    static const char *const orders[] = {"stop-first", "start-first", "", NULL};
    const char *fa = jx_str(uc, "FailureAction");
    const char *order = jx_str(uc, "Order");
    if (fa && !one_of(fa, actions))
        return invalid(err, "invalid FailureAction: %s", fa);
    if (order && !one_of(order, orders))
        return invalid(err, "invalid Order: %s", order);
    char what[64];
    snprintf(what, sizeof(what), "%s: delay", which);
    if (check_nonnegative(uc, "Delay", what, err) < 0)
        return -1;
    snprintf(what, sizeof(what), "%s: monitor", which);
    return check_nonnegative(uc, "Monitor", what, err);
}

static int check_endpoint(json_t *ep, struct err *err)
{
    const char *mode = jx_str(ep, "Mode");
    static const char *const modes[] = {"vip", "dnsrr", "", NULL};
    if (mode && !one_of(mode, modes))
        return invalid(err, "EndpointSpec: invalid resolution mode: %s", mode);
    static const char *const protos[] = {"tcp", "udp", "sctp", "", NULL};
    static const char *const pmodes[] = {"ingress", "host", "", NULL};
    json_t *ports = json_object_get(ep, "Ports");
    size_t i;
    json_t *p;
    json_array_foreach(ports, i, p)
    {
        int64_t target = jx_int(p, "TargetPort", 0);
        int64_t published = jx_int(p, "PublishedPort", 0);
        const char *proto = jx_str(p, "Protocol");
        const char *pm = jx_str(p, "PublishMode");
        if (target < 1 || target > 65535)
            return invalid(err, "EndpointSpec: invalid target port%s", "");
        if (published > 65535)
            return invalid(err, "EndpointSpec: invalid published port%s", "");
        if (proto && !one_of(proto, protos))
            return invalid(err, "EndpointSpec: invalid protocol: %s", proto);
        if (pm && !one_of(pm, pmodes))
            return invalid(err, "EndpointSpec: invalid publish mode: %s", pm);
        bool ingress = !pm || !*pm || strcmp(pm, "ingress") == 0;
        if (mode && strcmp(mode, "dnsrr") == 0 && ingress && published)
            return invalid(err,
                           "EndpointSpec: port published with ingress mode "
                           "can't be used with dnsrr mode%s",
                           "");
        for (size_t k = 0; k < i && published; k++) {
            json_t *q = json_array_get(ports, k);
            if (jx_int(q, "PublishedPort", 0) == published &&
                strcmp(jx_str0(q, "Protocol"), jx_str0(p, "Protocol")) == 0)
                return invalid(err,
                               "EndpointSpec: duplicate published ports "
                               "provided%s",
                               "");
        }
    }
    return 0;
}

int controlapi_service_spec(json_t *spec, struct err *err)
{
    if (!json_is_object(spec))
        return err_set(err, ERR_INVALID,
                       "json: cannot unmarshal %s into Go value of type "
                       "swarm.ServiceSpec",
                       json_kind(spec));
    if (check_object(spec, service_f, "ServiceSpec", err) < 0)
        return -1;
    const char *name = jx_str(spec, "Name");
    if (!name || !*name) {
        char gen[64];
        controlapi_random_name(gen, sizeof(gen));
        json_object_set_new(spec, "Name", json_string(gen));
    } else if (controlapi_check_name(name, err) < 0) {
        return -1;
    }
    if (!json_object_get(spec, "Labels"))
        json_object_set_new(spec, "Labels", json_object());
    json_t *tt = json_object_get(spec, "TaskTemplate");
    if (!tt)
        return invalid(err,
                       "ContainerSpec: image reference must be "
                       "provided%s",
                       "");
    if (check_task_spec(tt, err) < 0)
        return -1;
    json_t *mode = json_object_get(spec, "Mode");
    if (!mode || json_object_size(mode) == 0) {
        json_object_set_new(
            spec, "Mode", json_pack("{s:{s:i}}", "Replicated", "Replicas", 1));
    } else if (json_object_size(mode) > 1) {
        return invalid(err, "only one service mode may be specified%s", "");
    } else if (json_object_get(mode, "ReplicatedJob")) {
        /* swarmkit's defaults: one at a time, as many completions as may
         * run at once. */
        json_t *job = json_object_get(mode, "ReplicatedJob");
        if (!json_is_object(job)) {
            job = json_object();
            json_object_set_new(mode, "ReplicatedJob", job);
        }
        json_int_t conc = jx_int(job, "MaxConcurrent", 1);
        if (!json_object_get(job, "MaxConcurrent"))
            json_object_set_new(job, "MaxConcurrent", json_integer(1));
        if (!json_object_get(job, "TotalCompletions"))
            json_object_set_new(job, "TotalCompletions", json_integer(conc));
    } else if (json_object_get(mode, "Replicated") &&
               !json_object_get(json_object_get(mode, "Replicated"),
                                "Replicas")) {
        json_object_set_new(json_object_get(mode, "Replicated"), "Replicas",
                            json_integer(1));
    }
    if (check_update_config(json_object_get(spec, "UpdateConfig"),
                            "UpdateConfig", err) < 0 ||
        check_update_config(json_object_get(spec, "RollbackConfig"),
                            "RollbackConfig", err) < 0 ||
        check_endpoint(json_object_get(spec, "EndpointSpec"), err) < 0)
        return -1;
    return 0;
}

int controlapi_node_spec(json_t *spec, struct err *err)
{
    if (!json_is_object(spec))
        return err_set(err, ERR_INVALID,
                       "json: cannot unmarshal %s into Go value of type "
                       "swarm.NodeSpec",
                       json_kind(spec));
    if (check_object(spec, node_f, "NodeSpec", err) < 0)
        return -1;
    static const char *const roles[] = {"worker", "manager", NULL};
    static const char *const avail[] = {"active", "pause", "drain", NULL};
    const char *role = jx_str(spec, "Role");
    const char *av = jx_str(spec, "Availability");
    if (role && !one_of(role, roles))
        return err_set(err, ERR_INVALID, "invalid Role: \"%s\"", role);
    if (av && !one_of(av, avail))
        return err_set(err, ERR_INVALID, "invalid Availability: \"%s\"", av);
    if (!json_object_get(spec, "Labels"))
        json_object_set_new(spec, "Labels", json_object());
    return 0;
}

void controlapi_random_name(char *out, size_t size)
{
    static const char *const left[] = {
        "agile",   "bold",  "brave",  "bright",  "calm",   "clever",
        "cool",    "crisp", "eager",  "fancy",   "gentle", "happy",
        "keen",    "kind",  "lively", "lucid",   "merry",  "nimble",
        "patient", "quick", "quiet",  "serene",  "sharp",  "steady",
        "sunny",   "swift", "tender", "vibrant", "wise",   "zealous",
    };
    static const char *const right[] = {
        "agnesi",  "babbage",  "bardeen", "bell",     "boole",    "curie",
        "darwin",  "dijkstra", "euclid",  "euler",    "faraday",  "fermat",
        "feynman", "gauss",    "goodall", "hamilton", "hopper",   "hypatia",
        "kepler",  "knuth",    "lamarr",  "lovelace", "maxwell",  "meitner",
        "noether", "pascal",   "ritchie", "shannon",  "thompson", "turing",
    };
    unsigned char r[2];
    id_random_bytes(r, sizeof(r));
    snprintf(out, size, "%s_%s", left[r[0] % ARRAY_SIZE(left)],
             right[r[1] % ARRAY_SIZE(right)]);
}
