// SPDX-License-Identifier: Apache-2.0
// The Go struct layouts the docker CLI marshals specs with (swarm.
// ServiceSpec and friends, NodeSpec, swarm.Spec): field order, omitempty,
// pointer vs value. Re-encoding through these tables makes shoal send the
// same JSON bytes as docker, whether the spec was built from flags or read
// back from the daemon and edited.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli_service_spec.h"
#include "cli/format.h"

enum kind {
    K_STR,
    K_INT,
    K_FLOAT,
    K_BOOL,
    K_MAP,  /* map[string]string: keys sorted */
    K_STRS, /* []string */
    K_OBJ,  /* struct */
    K_ARR,  /* []struct */
    K_ANY,  /* copied as is */
};

enum {
    OMIT = 1, /* omitempty */
    PTR = 2,  /* pointer: kept when present, even if zero */
};

struct schema;
struct field {
    const char *name;
    enum kind kind;
    int flags;
    const struct schema *sub;
};
struct schema {
    const struct field *f;
    size_t n;
};

#define SCHEMA(name, ...)                                                      \
    static const struct field name##_f[] = {__VA_ARGS__};                      \
    static const struct schema name = {name##_f, ARRAY_SIZE(name##_f)}

static const struct field empty_f[1];
static const struct schema s_empty = {empty_f, 0};

SCHEMA(s_driver, {"Name", K_STR, OMIT, NULL}, {"Options", K_MAP, OMIT, NULL});
SCHEMA(s_bindopts, {"Propagation", K_STR, OMIT, NULL},
       {"NonRecursive", K_BOOL, OMIT, NULL},
       {"CreateMountpoint", K_BOOL, OMIT, NULL},
       {"ReadOnlyNonRecursive", K_BOOL, OMIT, NULL},
       {"ReadOnlyForceRecursive", K_BOOL, OMIT, NULL});
SCHEMA(s_volopts, {"NoCopy", K_BOOL, OMIT, NULL}, {"Labels", K_MAP, OMIT, NULL},
       {"Subpath", K_STR, OMIT, NULL},
       {"DriverConfig", K_OBJ, PTR | OMIT, &s_driver});
SCHEMA(s_imgopts, {"Subpath", K_STR, OMIT, NULL});
SCHEMA(s_tmpfsopts, {"SizeBytes", K_INT, OMIT, NULL},
       {"Mode", K_INT, OMIT, NULL}, {"Options", K_ANY, OMIT, NULL});
SCHEMA(s_mount, {"Type", K_STR, OMIT, NULL}, {"Source", K_STR, OMIT, NULL},
       {"Target", K_STR, OMIT, NULL}, {"ReadOnly", K_BOOL, OMIT, NULL},
       {"Consistency", K_STR, OMIT, NULL},
       {"BindOptions", K_OBJ, PTR | OMIT, &s_bindopts},
       {"VolumeOptions", K_OBJ, PTR | OMIT, &s_volopts},
       {"ImageOptions", K_OBJ, PTR | OMIT, &s_imgopts},
       {"TmpfsOptions", K_OBJ, PTR | OMIT, &s_tmpfsopts},
       {"ClusterOptions", K_OBJ, PTR | OMIT, &s_empty});
SCHEMA(s_health, {"Test", K_STRS, OMIT, NULL}, {"Interval", K_INT, OMIT, NULL},
       {"Timeout", K_INT, OMIT, NULL}, {"StartPeriod", K_INT, OMIT, NULL},
       {"StartInterval", K_INT, OMIT, NULL}, {"Retries", K_INT, OMIT, NULL});
SCHEMA(s_dns, {"Nameservers", K_STRS, OMIT, NULL},
       {"Search", K_STRS, OMIT, NULL}, {"Options", K_STRS, OMIT, NULL});
SCHEMA(s_filetarget, {"Name", K_STR, 0, NULL}, {"UID", K_STR, 0, NULL},
       {"GID", K_STR, 0, NULL}, {"Mode", K_INT, 0, NULL});
SCHEMA(s_secretref, {"File", K_OBJ, PTR, &s_filetarget},
       {"SecretID", K_STR, 0, NULL}, {"SecretName", K_STR, 0, NULL});
SCHEMA(s_configref, {"File", K_OBJ, PTR | OMIT, &s_filetarget},
       {"Runtime", K_OBJ, PTR | OMIT, &s_empty}, {"ConfigID", K_STR, 0, NULL},
       {"ConfigName", K_STR, 0, NULL});
SCHEMA(s_ulimit, {"Name", K_STR, 0, NULL}, {"Hard", K_INT, 0, NULL},
       {"Soft", K_INT, 0, NULL});
SCHEMA(s_credspec, {"Config", K_STR, 0, NULL}, {"File", K_STR, 0, NULL},
       {"Registry", K_STR, 0, NULL});
SCHEMA(s_selinux, {"Disable", K_BOOL, 0, NULL}, {"User", K_STR, 0, NULL},
       {"Role", K_STR, 0, NULL}, {"Type", K_STR, 0, NULL},
       {"Level", K_STR, 0, NULL});
SCHEMA(s_seccomp, {"Mode", K_STR, OMIT, NULL}, {"Profile", K_ANY, OMIT, NULL});
SCHEMA(s_apparmor, {"Mode", K_STR, OMIT, NULL});
SCHEMA(s_privileges, {"CredentialSpec", K_OBJ, PTR, &s_credspec},
       {"SELinuxContext", K_OBJ, PTR, &s_selinux},
       {"Seccomp", K_OBJ, PTR | OMIT, &s_seccomp},
       {"AppArmor", K_OBJ, PTR | OMIT, &s_apparmor},
       {"NoNewPrivileges", K_BOOL, 0, NULL});
SCHEMA(s_container, {"Image", K_STR, OMIT, NULL}, {"Labels", K_MAP, OMIT, NULL},
       {"Command", K_STRS, OMIT, NULL}, {"Args", K_STRS, OMIT, NULL},
       {"Hostname", K_STR, OMIT, NULL}, {"Env", K_STRS, OMIT, NULL},
       {"Dir", K_STR, OMIT, NULL}, {"User", K_STR, OMIT, NULL},
       {"Groups", K_STRS, OMIT, NULL},
       {"Privileges", K_OBJ, PTR | OMIT, &s_privileges},
       {"Init", K_BOOL, PTR | OMIT, NULL}, {"StopSignal", K_STR, OMIT, NULL},
       {"TTY", K_BOOL, OMIT, NULL}, {"OpenStdin", K_BOOL, OMIT, NULL},
       {"ReadOnly", K_BOOL, OMIT, NULL}, {"Mounts", K_ARR, OMIT, &s_mount},
       {"StopGracePeriod", K_INT, PTR | OMIT, NULL},
       {"Healthcheck", K_OBJ, PTR | OMIT, &s_health},
       {"Hosts", K_STRS, OMIT, NULL}, {"DNSConfig", K_OBJ, PTR | OMIT, &s_dns},
       {"Secrets", K_ARR, OMIT, &s_secretref},
       {"Configs", K_ARR, OMIT, &s_configref}, {"Isolation", K_STR, OMIT, NULL},
       {"Sysctls", K_MAP, OMIT, NULL}, {"CapabilityAdd", K_STRS, OMIT, NULL},
       {"CapabilityDrop", K_STRS, OMIT, NULL},
       {"Ulimits", K_ARR, OMIT, &s_ulimit}, {"OomScoreAdj", K_INT, OMIT, NULL});
SCHEMA(s_limit, {"NanoCPUs", K_INT, OMIT, NULL},
       {"MemoryBytes", K_INT, OMIT, NULL}, {"Pids", K_INT, OMIT, NULL});
SCHEMA(s_resources, {"NanoCPUs", K_INT, OMIT, NULL},
       {"MemoryBytes", K_INT, OMIT, NULL},
       {"GenericResources", K_ANY, OMIT, NULL});
SCHEMA(s_resreq, {"Limits", K_OBJ, PTR | OMIT, &s_limit},
       {"Reservations", K_OBJ, PTR | OMIT, &s_resources});
SCHEMA(s_restart, {"Condition", K_STR, OMIT, NULL},
       {"Delay", K_INT, PTR | OMIT, NULL},
       {"MaxAttempts", K_INT, PTR | OMIT, NULL},
       {"Window", K_INT, PTR | OMIT, NULL});
SCHEMA(s_spread, {"SpreadDescriptor", K_STR, 0, NULL});
SCHEMA(s_pref, {"Spread", K_OBJ, PTR, &s_spread});
SCHEMA(s_platform, {"Architecture", K_STR, OMIT, NULL},
       {"OS", K_STR, OMIT, NULL});
SCHEMA(s_placement, {"Constraints", K_STRS, OMIT, NULL},
       {"Preferences", K_ARR, OMIT, &s_pref},
       {"MaxReplicas", K_INT, OMIT, NULL},
       {"Platforms", K_ARR, OMIT, &s_platform});
SCHEMA(s_netattach, {"Target", K_STR, OMIT, NULL},
       {"Aliases", K_STRS, OMIT, NULL}, {"DriverOpts", K_MAP, OMIT, NULL});
SCHEMA(s_taskspec, {"ContainerSpec", K_OBJ, PTR | OMIT, &s_container},
       {"PluginSpec", K_ANY, PTR | OMIT, NULL},
       {"NetworkAttachmentSpec", K_ANY, PTR | OMIT, NULL},
       {"Resources", K_OBJ, PTR | OMIT, &s_resreq},
       {"RestartPolicy", K_OBJ, PTR | OMIT, &s_restart},
       {"Placement", K_OBJ, PTR | OMIT, &s_placement},
       {"Networks", K_ARR, OMIT, &s_netattach},
       {"LogDriver", K_OBJ, PTR | OMIT, &s_driver},
       {"ForceUpdate", K_INT, 0, NULL}, {"Runtime", K_STR, OMIT, NULL});
SCHEMA(s_replicated, {"Replicas", K_INT, PTR | OMIT, NULL});
SCHEMA(s_repjob, {"MaxConcurrent", K_INT, PTR | OMIT, NULL},
       {"TotalCompletions", K_INT, PTR | OMIT, NULL});
SCHEMA(s_mode, {"Replicated", K_OBJ, PTR | OMIT, &s_replicated},
       {"Global", K_OBJ, PTR | OMIT, &s_empty},
       {"ReplicatedJob", K_OBJ, PTR | OMIT, &s_repjob},
       {"GlobalJob", K_OBJ, PTR | OMIT, &s_empty});
SCHEMA(s_updatecfg, {"Parallelism", K_INT, 0, NULL},
       {"Delay", K_INT, OMIT, NULL}, {"FailureAction", K_STR, OMIT, NULL},
       {"Monitor", K_INT, OMIT, NULL}, {"MaxFailureRatio", K_FLOAT, 0, NULL},
       {"Order", K_STR, 0, NULL});
SCHEMA(s_port, {"Name", K_STR, OMIT, NULL}, {"Protocol", K_STR, OMIT, NULL},
       {"TargetPort", K_INT, OMIT, NULL}, {"PublishedPort", K_INT, OMIT, NULL},
       {"PublishMode", K_STR, OMIT, NULL});
SCHEMA(s_endpoint, {"Mode", K_STR, OMIT, NULL},
       {"Ports", K_ARR, OMIT, &s_port});
SCHEMA(s_service, {"Name", K_STR, OMIT, NULL}, {"Labels", K_MAP, 0, NULL},
       {"TaskTemplate", K_OBJ, 0, &s_taskspec}, {"Mode", K_OBJ, 0, &s_mode},
       {"UpdateConfig", K_OBJ, PTR | OMIT, &s_updatecfg},
       {"RollbackConfig", K_OBJ, PTR | OMIT, &s_updatecfg},
       {"Networks", K_ARR, OMIT, &s_netattach},
       {"EndpointSpec", K_OBJ, PTR | OMIT, &s_endpoint});
SCHEMA(s_node, {"Name", K_STR, OMIT, NULL}, {"Labels", K_MAP, 0, NULL},
       {"Role", K_STR, OMIT, NULL}, {"Availability", K_STR, OMIT, NULL});
SCHEMA(s_orch, {"TaskHistoryRetentionLimit", K_INT, PTR | OMIT, NULL});
SCHEMA(s_raft, {"SnapshotInterval", K_INT, OMIT, NULL},
       {"KeepOldSnapshots", K_INT, PTR | OMIT, NULL},
       {"LogEntriesForSlowFollowers", K_INT, OMIT, NULL},
       {"ElectionTick", K_INT, 0, NULL}, {"HeartbeatTick", K_INT, 0, NULL});
SCHEMA(s_dispatcher, {"HeartbeatPeriod", K_INT, OMIT, NULL});
SCHEMA(s_caconfig, {"NodeCertExpiry", K_INT, OMIT, NULL},
       {"ExternalCAs", K_ANY, OMIT, NULL}, {"SigningCACert", K_STR, OMIT, NULL},
       {"SigningCAKey", K_STR, OMIT, NULL}, {"ForceRotate", K_INT, OMIT, NULL});
SCHEMA(s_taskdefaults, {"LogDriver", K_OBJ, PTR | OMIT, &s_driver});
SCHEMA(s_encryption, {"AutoLockManagers", K_BOOL, 0, NULL});
SCHEMA(s_swarm, {"Name", K_STR, OMIT, NULL}, {"Labels", K_MAP, 0, NULL},
       {"Orchestration", K_OBJ, 0, &s_orch}, {"Raft", K_OBJ, 0, &s_raft},
       {"Dispatcher", K_OBJ, 0, &s_dispatcher},
       {"CAConfig", K_OBJ, 0, &s_caconfig},
       {"TaskDefaults", K_OBJ, 0, &s_taskdefaults},
       {"EncryptionConfig", K_OBJ, 0, &s_encryption});

static json_t *canon(const struct schema *s, const json_t *in);

static bool is_zero(enum kind k, const json_t *v)
{
    switch (k) {
    case K_STR:
        return !json_is_string(v) || json_string_length(v) == 0;
    case K_INT:
    case K_FLOAT:
        return !json_is_number(v) || json_number_value(v) == 0;
    case K_BOOL:
        return !json_is_true(v);
    case K_MAP:
        return !json_is_object(v) || json_object_size(v) == 0;
    case K_STRS:
    case K_ARR:
        return !json_is_array(v) || json_array_size(v) == 0;
    case K_OBJ:
    case K_ANY:
        return v == NULL || json_is_null(v);
    }
    return true;
}

static json_t *zero_of(enum kind k)
{
    switch (k) {
    case K_STR:
        return json_string("");
    case K_INT:
        return json_integer(0);
    case K_FLOAT:
        return json_integer(0);
    case K_BOOL:
        return json_false();
    default:
        return json_null();
    }
}

static json_t *convert(const struct field *f, const json_t *v)
{
    switch (f->kind) {
    case K_STR:
        return json_is_string(v) ? json_incref((json_t *)v) : json_string("");
    case K_INT:
        if (json_is_integer(v))
            return json_incref((json_t *)v);
        if (json_is_real(v))
            return json_integer((json_int_t)json_real_value(v));
        return json_integer(0);
    case K_FLOAT:
        if (json_is_number(v)) {
            double d = json_number_value(v);
            if (d == floor(d) && fabs(d) < 1e15)
                return json_integer((json_int_t)d);
            return json_real((double)(float)d);
        }
        return json_integer(0);
    case K_BOOL:
        return json_boolean(json_is_true(v));
    case K_MAP: {
        if (!json_is_object(v))
            return json_null();
        /* Go marshals maps with sorted keys. */
        size_t n = json_object_size(v), i = 0;
        const char **keys = xcalloc(n + 1, sizeof(char *));
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            keys[i++] = k;
        }
        for (size_t a = 1; a < n; a++) {
            const char *key = keys[a];
            size_t b = a;
            while (b > 0 && strcmp(keys[b - 1], key) > 0) {
                keys[b] = keys[b - 1];
                b--;
            }
            keys[b] = key;
        }
        json_t *o = json_object();
        for (i = 0; i < n; i++) {
            json_t *val = json_object_get(v, keys[i]);
            json_object_set_new(o, keys[i],
                                json_is_string(val) ? json_incref(val)
                                                    : json_string(""));
        }
        free(keys);
        return o;
    }
    case K_STRS: {
        if (!json_is_array(v))
            return json_null();
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (json_is_string(x))
                json_array_append(a, x);
            else
                json_array_append_new(a, json_string(""));
        }
        return a;
    }
    case K_OBJ:
        return canon(f->sub, json_is_object(v) ? v : NULL);
    case K_ARR: {
        if (!json_is_array(v))
            return json_null();
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (json_is_null(x))
                json_array_append_new(a, json_null());
            else
                json_array_append_new(a, canon(f->sub, x));
        }
        return a;
    }
    case K_ANY:
        return json_deep_copy(v);
    }
    return json_null();
}

static json_t *canon(const struct schema *s, const json_t *in)
{
    json_t *out = json_object();
    for (size_t i = 0; i < s->n; i++) {
        const struct field *f = &s->f[i];
        json_t *v = in ? json_object_get(in, f->name) : NULL;
        if (v && json_is_null(v))
            v = NULL;
        if (f->flags & PTR) {
            if (!v) {
                if (!(f->flags & OMIT))
                    json_object_set_new(out, f->name, json_null());
                continue;
            }
            json_object_set_new(out, f->name, convert(f, v));
            continue;
        }
        if (f->kind == K_OBJ) {
            json_object_set_new(out, f->name, canon(f->sub, v));
            continue;
        }
        if (is_zero(f->kind, v)) {
            if (f->flags & OMIT)
                continue;
            /* A nil map or slice marshals as null, an empty one as {}/[]. */
            if ((f->kind == K_MAP || f->kind == K_STRS || f->kind == K_ARR) &&
                v)
                json_object_set_new(out, f->name, convert(f, v));
            else
                json_object_set_new(out, f->name, zero_of(f->kind));
            continue;
        }
        json_object_set_new(out, f->name, convert(f, v));
    }
    return out;
}

json_t *cli_go_canon(enum cli_go_type type, const json_t *j)
{
    switch (type) {
    case CLI_GO_SERVICE_SPEC:
        return canon(&s_service, j);
    case CLI_GO_NODE_SPEC:
        return canon(&s_node, j);
    case CLI_GO_SWARM_SPEC:
        return canon(&s_swarm, j);
    }
    return json_null();
}

static void go_string(const char *s, size_t n, struct buf *out)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            buf_puts(out, "\\\"");
            continue;
        case '\\':
            buf_puts(out, "\\\\");
            continue;
        case '\n':
            buf_puts(out, "\\n");
            continue;
        case '\r':
            buf_puts(out, "\\r");
            continue;
        case '\t':
            buf_puts(out, "\\t");
            continue;
        case '<':
        case '>':
        case '&':
            buf_printf(out, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            continue;
        default:
            break;
        }
        if (c < 0x20) {
            buf_printf(out, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
            continue;
        }
        /* U+2028 and U+2029 are escaped for JSONP safety. */
        if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] == 0xA8 ||
             (unsigned char)s[i + 2] == 0xA9)) {
            buf_printf(out, "\\u202%c",
                       (unsigned char)s[i + 2] == 0xA8 ? '8' : '9');
            i += 2;
            continue;
        }
        buf_putc(out, (char)c);
    }
    buf_putc(out, '"');
}

void cli_go_json(const json_t *j, struct buf *out)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        bool first = true;
        buf_putc(out, '{');
        json_object_foreach((json_t *)j, k, v)
        {
            if (!first)
                buf_putc(out, ',');
            first = false;
            go_string(k, strlen(k), out);
            buf_putc(out, ':');
            cli_go_json(v, out);
        }
        buf_putc(out, '}');
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;
        buf_putc(out, '[');
        json_array_foreach(j, i, v)
        {
            if (i)
                buf_putc(out, ',');
            cli_go_json(v, out);
        }
        buf_putc(out, ']');
        break;
    }
    case JSON_STRING:
        go_string(json_string_value(j), json_string_length(j), out);
        break;
    case JSON_INTEGER:
        buf_printf(out, "%lld", (long long)json_integer_value(j));
        break;
    case JSON_REAL: {
        double d = json_real_value(j);
        char tmp[64];
        cli_fmt_float(d, (double)(float)d == d, tmp, sizeof(tmp));
        buf_puts(out, tmp);
        break;
    }
    case JSON_TRUE:
        buf_puts(out, "true");
        break;
    case JSON_FALSE:
        buf_puts(out, "false");
        break;
    case JSON_NULL:
        buf_puts(out, "null");
        break;
    }
}
