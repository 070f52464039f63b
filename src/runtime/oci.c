// SPDX-License-Identifier: Apache-2.0
// Builds a container's OCI runtime spec from the image config, the swarm
// ContainerSpec and resources, following Docker's rules wherever Docker has
// one (entrypoint/cmd merging, env order, user lookup, default capability
// set, default mounts, masked paths, device allow-list), so images behave
// here as they do under dockerd.
#include "runtime/oci.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "runtime/seccomp_profile.h"
#include "volume/volume_core.h"

/* ---- small helpers ---- */

static bool str_is_uint(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Parses a decimal id (uid/gid) that fits in 31 bits, as runc allows. */
static bool parse_id(const char *s, uint32_t *out)
{
    if (!str_is_uint(s) || strlen(s) > 10)
        return false;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > INT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool json_is_string_array(const json_t *a)
{
    if (!json_is_array(a))
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (!json_is_string(v)) return false;
    return true;
}

/* A copy of the string array at key, or NULL if absent/empty/not one. */
static json_t *str_array(const json_t *obj, const char *key)
{
    json_t *a = obj ? json_object_get(obj, key) : NULL;
    if (!json_is_string_array(a) || json_array_size(a) == 0)
        return NULL;
    return json_deep_copy(a);
}

/* Lexical clean of an absolute path: no "//", ".", "..", trailing "/". */
static char *path_clean(const char *p)
{
    struct buf out;
    buf_init(&out);
    const char *s = p;
    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 1 && s[0] == '.') {
            /* skip */
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            char *slash = out.data ? strrchr(out.data, '/') : NULL;
            if (slash)
                out.len = (size_t)(slash - out.data);
            if (out.data)
                out.data[out.len] = '\0';
        } else {
            buf_putc(&out, '/');
            buf_append(&out, s, n);
        }
        s += n;
    }
    if (out.len == 0)
        buf_putc(&out, '/');
    return buf_steal(&out);
}

static size_t path_depth(const char *p)
{
    size_t n = 0;
    for (; *p; p++)
        if (*p == '/')
            n++;
    return n;
}

/* ---- mounts ---- */

static const char *const PROPAGATIONS[] = {
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
};

static int mount_parse_one(const json_t *m, struct oci_mount *out,
                           struct err *err)
{
    if (!json_is_object(m))
        return err_set(err, ERR_INVALID,
                       "invalid mount config: mount must be an object");
    const char *type = jx_str(m, "Type");
    if (!type || !*type)
        type = "volume"; /* Docker's default mount type */
    if (strcmp(type, "bind") == 0)
        out->type = OCI_MOUNT_BIND;
    else if (strcmp(type, "volume") == 0)
        out->type = OCI_MOUNT_VOLUME;
    else if (strcmp(type, "tmpfs") == 0)
        out->type = OCI_MOUNT_TMPFS;
    else
        return err_set(err, ERR_INVALID,
                       "invalid mount config: mount type unknown: \"%s\"",
                       type);

    const char *target = jx_str(m, "Target");
    const char *source = jx_str(m, "Source");
    json_t *bindopt = json_object_get(m, "BindOptions");
    json_t *volopt = json_object_get(m, "VolumeOptions");
    json_t *tmpfsopt = json_object_get(m, "TmpfsOptions");
    if (!target || !*target)
        return err_set(err, ERR_INVALID,
                       "invalid mount config for type \"%s\": field Target "
                       "must not be empty",
                       type);
    if (target[0] != '/')
        return err_set(err, ERR_INVALID,
                       "invalid mount config for type \"%s\": invalid mount "
                       "path: '%s' mount path must be absolute",
                       type, target);
    out->target = path_clean(target);
    if (strcmp(out->target, "/") == 0)
        return err_set(err, ERR_INVALID,
                       "invalid specification: destination can't be '/'");
    out->readonly = jx_bool(m, "ReadOnly", false);

    if (out->type != OCI_MOUNT_BIND && json_is_object(bindopt))
        return err_set(err, ERR_INVALID,
                       "invalid mount config for type \"%s\": field "
                       "BindOptions must not be specified",
                       type);
    if (out->type != OCI_MOUNT_VOLUME && json_is_object(volopt))
        return err_set(err, ERR_INVALID,
                       "invalid mount config for type \"%s\": field "
                       "VolumeOptions must not be specified",
                       type);
    if (out->type != OCI_MOUNT_TMPFS && json_is_object(tmpfsopt))
        return err_set(err, ERR_INVALID,
                       "invalid mount config for type \"%s\": field "
                       "TmpfsOptions must not be specified",
                       type);

    switch (out->type) {
    case OCI_MOUNT_BIND: {
        if (!source || !*source)
            return err_set(err, ERR_INVALID,
                           "invalid mount config for type \"bind\": field "
                           "Source must not be empty");
        if (source[0] != '/')
            return err_set(err, ERR_INVALID,
                           "invalid mount config for type \"bind\": invalid "
                           "mount path: '%s' mount path must be absolute",
                           source);
        out->source = path_clean(source);
        out->host_path = xstrdup(out->source);
        const char *prop = jx_str(bindopt, "Propagation");
        if (prop && *prop) {
            bool ok = false;
            for (size_t i = 0; i < ARRAY_SIZE(PROPAGATIONS); i++)
                ok = ok || strcmp(prop, PROPAGATIONS[i]) == 0;
            if (!ok)
                return err_set(err, ERR_INVALID,
                               "invalid mount config for type \"bind\": "
                               "invalid propagation mode: %s",
                               prop);
        }
        out->propagation = xstrdup(prop && *prop ? prop : "rprivate");
        out->nonrecursive = jx_bool(bindopt, "NonRecursive", false);
        break;
    }
    case OCI_MOUNT_VOLUME:
        if (source && *source && !volume_name_is_valid(source))
            return err_set(err, ERR_INVALID,
                           "invalid mount config for type \"volume\": "
                           "\"%s\" includes invalid characters for a local "
                           "volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" "
                           "are allowed. If you intended to pass a host "
                           "directory, use absolute path",
                           source);
        if (json_is_object(volopt)) {
            const char *driver = jx_path_str(volopt, "DriverConfig.Name");
            if (driver && *driver && strcmp(driver, "local") != 0)
                return err_set(err, ERR_INVALID,
                               "invalid mount config for type \"volume\": "
                               "volume driver \"%s\" is not supported",
                               driver);
        }
        out->source = xstrdup(source ? source : "");
        out->nocopy = jx_bool(volopt, "NoCopy", false);
        out->volume_options = json_is_object(volopt) ? volopt : NULL;
        break;
    case OCI_MOUNT_TMPFS: {
        if (source && *source)
            return err_set(err, ERR_INVALID,
                           "invalid mount config for type \"tmpfs\": field "
                           "Source must not be specified");
        int64_t size = jx_int(tmpfsopt, "SizeBytes", 0);
        int64_t mode = jx_int(tmpfsopt, "Mode", 0);
        if (size < 0)
            return err_set(err, ERR_INVALID,
                           "invalid mount config for type \"tmpfs\": invalid "
                           "size: %lld",
                           (long long)size);
        if (mode < 0 || mode > 07777)
            return err_set(err, ERR_INVALID,
                           "invalid mount config for type \"tmpfs\": invalid "
                           "mode: %lld",
                           (long long)mode);
        out->tmpfs_size = size;
        out->tmpfs_mode = (uint32_t)mode;
        break;
    }
    }
    return 0;
}

static void mount_fini(struct oci_mount *m)
{
    free(m->source);
    free(m->target);
    free(m->propagation);
    free(m->host_path);
}

void oci_mounts_fini(struct oci_mounts *m)
{
    for (size_t i = 0; i < m->n; i++)
        mount_fini(&m->v[i]);
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

int oci_mounts_parse(const json_t *mounts, struct oci_mounts *out,
                     struct err *err)
{
    out->v = NULL;
    out->n = 0;
    if (!mounts || json_is_null(mounts))
        return 0;
    if (!json_is_array(mounts))
        return err_set(err, ERR_INVALID,
                       "invalid mount config: Mounts must be an array");
    size_t n = json_array_size(mounts);
    out->v = xcalloc(n ? n : 1, sizeof(*out->v));
    for (size_t i = 0; i < n; i++) {
        out->n = i + 1;
        if (mount_parse_one(json_array_get(mounts, i), &out->v[i], err) < 0) {
            oci_mounts_fini(out);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(out->v[j].target, out->v[i].target) == 0) {
                err_set(err, ERR_INVALID, "Duplicate mount point: %s",
                        out->v[i].target);
                oci_mounts_fini(out);
                return -1;
            }
        }
    }
    return 0;
}

int oci_mounts_check_sources(const struct oci_mounts *m, struct err *err)
{
    for (size_t i = 0; i < m->n; i++) {
        if (m->v[i].type != OCI_MOUNT_BIND)
            continue;
        struct stat st;
        if (stat(m->v[i].source, &st) < 0) {
            if (errno == ENOENT)
                return err_set(err, ERR_INVALID,
                               "invalid mount config for type \"bind\": "
                               "bind source path does not exist: %s",
                               m->v[i].source);
            return err_sys(err, errno,
                           "invalid mount config for type \"bind\": stat "
                           "'%s'",
                           m->v[i].source);
        }
    }
    return 0;
}

/* ---- process: args, env ---- */

void oci_merge_command(const json_t *image_config, const json_t *spec,
                       json_t **entrypoint, json_t **cmd)
{
    json_t *entry = str_array(spec, "Command");
    json_t *args = str_array(spec, "Args");
    if (!entry) {
        entry = str_array(image_config, "Entrypoint");
        if (!args)
            args = str_array(image_config, "Cmd");
    }
    *entrypoint = entry;
    *cmd = args;
}

json_t *oci_process_args(const json_t *image_config, const json_t *spec,
                         struct err *err)
{
    _cleanup_json_ json_t *entry = NULL;
    _cleanup_json_ json_t *cmd = NULL;
    oci_merge_command(image_config, spec, &entry, &cmd);
    json_t *args = json_array();
    if (entry)
        json_array_extend(args, entry);
    if (cmd)
        json_array_extend(args, cmd);
    if (json_array_size(args) == 0) {
        json_decref(args);
        err_set(err, ERR_INVALID, "no command specified");
        return NULL;
    }
    return args;
}

static size_t env_key_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq ? (size_t)(eq - kv) : strlen(kv);
}

static ssize_t env_find(const json_t *env, const char *kv)
{
    size_t klen = env_key_len(kv);
    size_t i;
    json_t *v;
    json_array_foreach(env, i, v)
    {
        const char *s = json_string_value(v);
        if (env_key_len(s) == klen && strncmp(s, kv, klen) == 0)
            return (ssize_t)i;
    }
    return -1;
}

/* Docker's ReplaceOrAppendEnvValues: same key replaces in place, a bare
 * key (no '=') removes. */
static void env_apply(json_t *env, const json_t *add)
{
    size_t i;
    json_t *v;
    json_array_foreach(add, i, v)
    {
        const char *kv = json_string_value(v);
        if (!kv || !*kv)
            continue;
        ssize_t at = env_find(env, kv);
        if (!strchr(kv, '=')) {
            if (at >= 0)
                json_array_remove(env, (size_t)at);
            continue;
        }
        if (at >= 0)
            json_array_set_new(env, (size_t)at, json_string(kv));
        else
            json_array_append_new(env, json_string(kv));
    }
}

json_t *oci_process_env(const json_t *image_config, const json_t *spec,
                        const char *hostname)
{
    /* First the container's own env: the spec's entries, then the image's
     * entries for keys the spec does not set (Docker's config merge). */
    json_t *user = json_array();
    json_t *spec_env = spec ? json_object_get(spec, "Env") : NULL;
    json_t *img_env =
        image_config ? json_object_get(image_config, "Env") : NULL;
    size_t i;
    json_t *v;
    if (json_is_array(spec_env))
        json_array_foreach(spec_env, i, v) if (json_is_string(v))
            json_array_append(user, v);
    if (json_is_array(img_env)) {
        json_array_foreach(img_env, i, v)
        {
            if (!json_is_string(v))
                continue;
            if (env_find(user, json_string_value(v)) < 0)
                json_array_append(user, v);
        }
    }
    /* Then the daemon defaults, overridden by it. */
    json_t *env = json_array();
    json_array_append_new(env, json_string("PATH=" OCI_DEFAULT_PATH));
    if (hostname && *hostname)
        json_array_append_new(env, json_sprintf("HOSTNAME=%s", hostname));
    env_apply(env, user);
    json_decref(user);
    return env;
}

/* ---- users ---- */

struct pwent {
    char *name;
    uint32_t uid, gid;
};

/* Splits a colon-separated line into at most n fields (in place). */
static size_t split_colon(char *line, char **f, size_t n)
{
    size_t k = 0;
    char *p = line;
    while (k < n) {
        f[k++] = p;
        char *c = strchr(p, ':');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return k;
}

/* Calls fn for each well-formed line of a passwd/group file. fn returns
 * true to stop. Fields: passwd name,pw,uid,gid,...; group name,pw,gid,list */
static bool each_line(const char *text, size_t nfields,
                      bool (*fn)(void *, char **, size_t), void *data)
{
    if (!text)
        return false;
    _cleanup_free_ char *copy = xstrdup(text);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line || *line == '#')
            continue;
        char *f[8] = {0};
        size_t k = split_colon(line, f, nfields);
        if (k < 3)
            continue;
        if (fn(data, f, k))
            return true;
    }
    return false;
}

struct user_query {
    const char *arg; /* name or uid */
    bool found;
    char name[256];
    uint32_t uid, gid;
};

static bool match_user(void *data, char **f, size_t k)
{
    struct user_query *q = data;
    uint32_t uid, gid;
    if (k < 4 || !parse_id(f[2], &uid) || !parse_id(f[3], &gid))
        return false;
    /* A numeric argument is always an id, as in runc. */
    uint32_t want;
    if (parse_id(q->arg, &want) ? uid != want : strcmp(f[0], q->arg) != 0)
        return false;
    q->found = true;
    snprintf(q->name, sizeof(q->name), "%s", f[0]);
    q->uid = uid;
    q->gid = gid;
    return true;
}

struct group_query {
    const char *arg; /* name or gid */
    bool found;
    uint32_t gid;
};

static bool match_group(void *data, char **f, size_t k)
{
    struct group_query *q = data;
    uint32_t gid;
    if (k < 3 || !parse_id(f[2], &gid))
        return false;
    uint32_t want;
    if (parse_id(q->arg, &want) ? gid != want : strcmp(f[0], q->arg) != 0)
        return false;
    q->found = true;
    q->gid = gid;
    return true;
}

struct member_query {
    const char *user;
    struct oci_user *out;
};

static void add_gid(struct oci_user *u, uint32_t gid)
{
    for (size_t i = 0; i < u->n_gids; i++)
        if (u->gids[i] == gid)
            return;
    if (u->n_gids < ARRAY_SIZE(u->gids))
        u->gids[u->n_gids++] = gid;
}

static bool match_member(void *data, char **f, size_t k)
{
    struct member_query *q = data;
    uint32_t gid;
    if (k < 4 || !parse_id(f[2], &gid))
        return false;
    char *save = NULL;
    for (char *m = strtok_r(f[3], ",", &save); m;
         m = strtok_r(NULL, ",", &save)) {
        while (*m == ' ')
            m++;
        if (strcmp(m, q->user) == 0) {
            add_gid(q->out, gid);
            break;
        }
    }
    return false;
}

static int resolve_group(const char *arg, const char *group, uint32_t *gid,
                         struct err *err)
{
    struct group_query gq = {.arg = arg};
    if (each_line(group, 4, match_group, &gq)) {
        *gid = gq.gid;
        return 0;
    }
    if (parse_id(arg, gid))
        return 0;
    return err_set(err, ERR_INVALID,
                   "unable to find group %s: no matching entries in group "
                   "file",
                   arg);
}

int oci_user_resolve(const char *user, const json_t *groups, const char *passwd,
                     const char *group, struct oci_user *out, struct err *err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_free_ char *copy = xstrdup(user ? user : "");
    char *garg = strchr(copy, ':');
    if (garg)
        *garg++ = '\0';
    const char *uarg = copy;

    /* An empty user means root, looked up so root's groups apply. */
    struct user_query uq = {.arg = *uarg ? uarg : "0"};
    bool matched = each_line(passwd, 7, match_user, &uq);
    if (matched) {
        out->uid = uq.uid;
        out->gid = uq.gid;
    } else if (!*uarg) {
        out->uid = 0;
        out->gid = 0;
    } else if (parse_id(uarg, &out->uid)) {
        out->gid = 0;
    } else {
        return err_set(err, ERR_INVALID,
                       "unable to find user %s: no matching entries in "
                       "passwd file",
                       uarg);
    }

    if (garg && *garg) {
        if (resolve_group(garg, group, &out->gid, err) < 0)
            return -1;
        add_gid(out, out->gid);
    } else {
        add_gid(out, out->gid);
        if (matched) {
            /* Supplementary groups only in the implicit form. */
            struct member_query mq = {.user = uq.name, .out = out};
            each_line(group, 4, match_member, &mq);
        }
    }

    if (groups && !json_is_null(groups)) {
        if (!json_is_string_array(groups))
            return err_set(err, ERR_INVALID,
                           "invalid Groups: must be an array of strings");
        size_t i;
        json_t *v;
        json_array_foreach(groups, i, v)
        {
            uint32_t gid;
            if (resolve_group(json_string_value(v), group, &gid, err) < 0)
                return -1;
            add_gid(out, gid);
        }
    }
    return 0;
}

/* ---- capabilities ---- */

static const char *const ALL_CAPS[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

/* Docker's default set (moby oci/caps/defaults.go). */
static const char *const DEFAULT_CAPS[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

static bool json_has_str(const json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i,
                       v) if (strcmp(json_string_value(v), s) == 0) return true;
    return false;
}

/* Uppercases, adds "CAP_", checks names; "ALL" stays "ALL". */
static json_t *caps_normalize(const json_t *list, struct err *err)
{
    json_t *out = json_array();
    if (!list || json_is_null(list))
        return out;
    if (!json_is_string_array(list)) {
        json_decref(out);
        err_set(err, ERR_INVALID, "capabilities must be an array of strings");
        return NULL;
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        _cleanup_free_ char *up = xstrdup(json_string_value(v));
        for (char *p = up; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        if (strcmp(up, "ALL") == 0) {
            if (!json_has_str(out, "ALL"))
                json_array_append_new(out, json_string("ALL"));
            continue;
        }
        _cleanup_free_ char *name =
            strncmp(up, "CAP_", 4) == 0 ? xstrdup(up) : xasprintf("CAP_%s", up);
        bool known = false;
        for (size_t k = 0; k < ARRAY_SIZE(ALL_CAPS) && !known; k++)
            known = strcmp(ALL_CAPS[k], name) == 0;
        if (!known) {
            json_decref(out);
            err_set(err, ERR_INVALID, "unknown capability: \"%s\"", name);
            return NULL;
        }
        if (!json_has_str(out, name))
            json_array_append_new(out, json_string(name));
    }
    return out;
}

json_t *oci_capabilities(const json_t *add, const json_t *drop, struct err *err)
{
    _cleanup_json_ json_t *a = caps_normalize(add, err);
    if (!a)
        return NULL;
    _cleanup_json_ json_t *d = caps_normalize(drop, err);
    if (!d)
        return NULL;
    json_t *caps = json_array();
    if (json_has_str(a, "ALL")) {
        for (size_t i = 0; i < ARRAY_SIZE(ALL_CAPS); i++)
            if (!json_has_str(d, ALL_CAPS[i]))
                json_array_append_new(caps, json_string(ALL_CAPS[i]));
        return caps;
    }
    if (!json_has_str(d, "ALL")) {
        for (size_t i = 0; i < ARRAY_SIZE(DEFAULT_CAPS); i++)
            if (!json_has_str(d, DEFAULT_CAPS[i]))
                json_array_append_new(caps, json_string(DEFAULT_CAPS[i]));
    }
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (!json_has_str(caps, json_string_value(v)))
        json_array_append(caps, v);
    return caps;
}

/* ---- signals ---- */

static const struct {
    const char *name;
    int signo;
} SIGNALS[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},
    {"ILL", SIGILL},   {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},
    {"IOT", SIGIOT},   {"BUS", SIGBUS},       {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF}, {"WINCH", SIGWINCH},   {"IO", SIGIO},
    {"POLL", SIGPOLL}, {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

int oci_signal_parse(const char *s)
{
    if (!s || !*s)
        return -1;
    if (str_is_uint(s)) {
        long n = strlen(s) < 4 ? strtol(s, NULL, 10) : -1;
        return n >= 1 && n <= 64 ? (int)n : -1;
    }
    const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
    for (size_t i = 0; i < ARRAY_SIZE(SIGNALS); i++)
        if (strcasecmp(name, SIGNALS[i].name) == 0)
            return SIGNALS[i].signo;
    if (strncasecmp(name, "RTMIN", 5) == 0 ||
        strncasecmp(name, "RTMAX", 5) == 0) {
        bool min = toupper((unsigned char)name[3]) == 'I';
        const char *rest = name + 5;
        long off = 0;
        if (*rest == '+' || *rest == '-') {
            if (!str_is_uint(rest + 1) || strlen(rest + 1) > 2)
                return -1;
            off = strtol(rest, NULL, 10);
        } else if (*rest) {
            return -1;
        }
        long n = (min ? SIGRTMIN : SIGRTMAX) + off;
        return n >= SIGRTMIN && n <= SIGRTMAX ? (int)n : -1;
    }
    return -1;
}

int oci_stop_signal(const json_t *image_config, const json_t *spec,
                    struct err *err)
{
    const char *s = spec ? jx_str(spec, "StopSignal") : NULL;
    if (!s || !*s)
        s = image_config ? jx_str(image_config, "StopSignal") : NULL;
    if (!s || !*s)
        return SIGTERM;
    int signo = oci_signal_parse(s);
    if (signo < 0)
        return err_set(err, ERR_INVALID, "invalid signal: %s", s);
    return signo;
}

/* ---- spec pieces ---- */

static json_t *mount_new(const char *dest, const char *type, const char *source,
                         const char *const *opts)
{
    json_t *m = json_object();
    json_object_set_new(m, "destination", json_string(dest));
    json_object_set_new(m, "type", json_string(type));
    json_object_set_new(m, "source", json_string(source));
    json_t *o = json_array();
    for (; opts && *opts; opts++)
        json_array_append_new(o, json_string(*opts));
    json_object_set_new(m, "options", o);
    return m;
}

static bool user_mounts_have(const struct oci_mounts *um, const char *dest)
{
    for (size_t i = 0; um && i < um->n; i++)
        if (strcmp(um->v[i].target, dest) == 0)
            return true;
    return false;
}

static void add_default_mount(json_t *mounts, const struct oci_mounts *um,
                              json_t *m)
{
    const char *dest = jx_str(m, "destination");
    /* A user mount at the same place wins; a user /dev replaces ours and
     * everything we would put under it. */
    if (user_mounts_have(um, dest) ||
        (strncmp(dest, "/dev/", 5) == 0 && user_mounts_have(um, "/dev"))) {
        json_decref(m);
        return;
    }
    json_array_append_new(mounts, m);
}

static json_t *user_mount_json(const struct oci_mount *m)
{
    json_t *o = json_array();
    const char *type = "bind";
    const char *source = m->host_path ? m->host_path : "";
    switch (m->type) {
    case OCI_MOUNT_BIND:
    case OCI_MOUNT_VOLUME:
        json_array_append_new(
            o, json_string(m->type == OCI_MOUNT_BIND && m->nonrecursive
                               ? "bind"
                               : "rbind"));
        json_array_append_new(o, json_string(m->readonly ? "ro" : "rw"));
        json_array_append_new(
            o, json_string(m->propagation ? m->propagation : "rprivate"));
        break;
    case OCI_MOUNT_TMPFS:
        type = "tmpfs";
        source = "tmpfs";
        json_array_append_new(o, json_string("noexec"));
        json_array_append_new(o, json_string("nosuid"));
        json_array_append_new(o, json_string("nodev"));
        json_array_append_new(o, json_string(m->readonly ? "ro" : "rw"));
        if (m->tmpfs_size > 0)
            json_array_append_new(
                o, json_sprintf("size=%lld", (long long)m->tmpfs_size));
        if (m->tmpfs_mode)
            json_array_append_new(o, json_sprintf("mode=%o", m->tmpfs_mode));
        break;
    }
    json_t *j = json_object();
    json_object_set_new(j, "destination", json_string(m->target));
    json_object_set_new(j, "type", json_string(type));
    json_object_set_new(j, "source", json_string(source));
    json_object_set_new(j, "options", o);
    return j;
}

static int cmp_depth(const void *a, const void *b)
{
    const struct oci_mount *x = *(const struct oci_mount *const *)a;
    const struct oci_mount *y = *(const struct oci_mount *const *)b;
    size_t dx = path_depth(x->target), dy = path_depth(y->target);
    if (dx != dy)
        return dx < dy ? -1 : 1;
    return x < y ? -1 : x > y ? 1 : 0; /* stable: keep the given order */
}

static json_t *build_mounts(const struct oci_input *in, bool readonly,
                            const char **rootfs_propagation)
{
    static const char *const proc_o[] = {"nosuid", "noexec", "nodev", NULL};
    static const char *const dev_o[] = {"nosuid", "strictatime", "mode=755",
                                        "size=65536k", NULL};
    static const char *const pts_o[] = {
        "nosuid",    "noexec", "newinstance", "ptmxmode=0666",
        "mode=0620", "gid=5",  NULL};
    static const char *const sys_o[] = {"nosuid", "noexec", "nodev", "ro",
                                        NULL};
    static const char *const cg_o[] = {"ro", "nosuid", "noexec", "nodev", NULL};
    static const char *const mq_o[] = {"nosuid", "noexec", "nodev", NULL};
    static const char *const shm_o[] = {"nosuid",    "noexec",        "nodev",
                                        "mode=1777", "size=67108864", NULL};
    static const char *const rw_o[] = {"rbind", "rprivate", NULL};
    static const char *const ro_o[] = {"rbind", "rprivate", "ro", NULL};
    const struct oci_mounts *um = in->mounts;
    json_t *mounts = json_array();
    add_default_mount(mounts, um, mount_new("/proc", "proc", "proc", proc_o));
    add_default_mount(mounts, um, mount_new("/dev", "tmpfs", "tmpfs", dev_o));
    add_default_mount(mounts, um,
                      mount_new("/dev/pts", "devpts", "devpts", pts_o));
    add_default_mount(mounts, um, mount_new("/sys", "sysfs", "sysfs", sys_o));
    add_default_mount(mounts, um,
                      mount_new("/sys/fs/cgroup", "cgroup", "cgroup", cg_o));
    add_default_mount(mounts, um,
                      mount_new("/dev/mqueue", "mqueue", "mqueue", mq_o));
    add_default_mount(mounts, um, mount_new("/dev/shm", "tmpfs", "shm", shm_o));
    const char *const *file_o = readonly ? ro_o : rw_o;
    if (in->hostname_path)
        add_default_mount(
            mounts, um,
            mount_new("/etc/hostname", "bind", in->hostname_path, file_o));
    if (in->hosts_path)
        add_default_mount(
            mounts, um,
            mount_new("/etc/hosts", "bind", in->hosts_path, file_o));
    if (in->resolv_path)
        add_default_mount(
            mounts, um,
            mount_new("/etc/resolv.conf", "bind", in->resolv_path, file_o));

    *rootfs_propagation = NULL;
    if (um && um->n) {
        /* Parents before children, as Docker sorts them. */
        const struct oci_mount **order = xcalloc(um->n, sizeof(*order));
        for (size_t i = 0; i < um->n; i++)
            order[i] = &um->v[i];
        qsort(order, um->n, sizeof(*order), cmp_depth);
        for (size_t i = 0; i < um->n; i++) {
            json_array_append_new(mounts, user_mount_json(order[i]));
            const char *p = order[i]->propagation;
            if (p && strstr(p, "shared"))
                *rootfs_propagation = "rshared";
            else if (p && strstr(p, "slave") && !*rootfs_propagation)
                *rootfs_propagation = "rslave";
        }
        free(order);
    }
    return mounts;
}

static json_t *device_rule(bool allow, char type, int64_t major, int64_t minor,
                           const char *access)
{
    json_t *d = json_object();
    json_object_set_new(d, "allow", json_boolean(allow));
    if (type)
        json_object_set_new(d, "type", json_sprintf("%c", type));
    if (major >= 0)
        json_object_set_new(d, "major", json_integer(major));
    if (minor >= 0)
        json_object_set_new(d, "minor", json_integer(minor));
    json_object_set_new(d, "access", json_string(access));
    return d;
}

/* runc's and Docker's default device cgroup rules. -1 = wildcard. */
static json_t *default_devices(void)
{
    static const struct {
        char type;
        int64_t major, minor;
        const char *access;
    } allowed[] = {
        {'c', -1, -1, "m"}, {'b', -1, -1, "m"},    {'c', 1, 3, "rwm"},
        {'c', 1, 8, "rwm"}, {'c', 1, 7, "rwm"},    {'c', 5, 0, "rwm"},
        {'c', 1, 5, "rwm"}, {'c', 1, 9, "rwm"},    {'c', 136, -1, "rwm"},
        {'c', 5, 2, "rwm"}, {'c', 10, 200, "rwm"},
    };
    json_t *devs = json_array();
    json_array_append_new(devs, device_rule(false, 0, -1, -1, "rwm"));
    for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
        json_array_append_new(
            devs, device_rule(true, allowed[i].type, allowed[i].major,
                              allowed[i].minor, allowed[i].access));
    return devs;
}

static int build_resources(const json_t *res, json_t *out, struct err *err)
{
    json_object_set_new(out, "devices", default_devices());
    const json_t *lim = res ? json_object_get(res, "Limits") : NULL;
    if (!json_is_object(lim))
        return 0;
    int64_t mem = jx_int(lim, "MemoryBytes", 0);
    int64_t nano = jx_int(lim, "NanoCPUs", 0);
    int64_t pids = jx_int(lim, "Pids", 0);
    if (mem < 0 || nano < 0 || pids < 0)
        return err_set(err, ERR_INVALID,
                       "invalid resources: limits must not be negative");
    if (mem > 0 && mem < 6 * 1024 * 1024)
        return err_set(err, ERR_INVALID, "Minimum memory limit allowed is 6MB");
    if (nano > 0 && nano < 10000000)
        return err_set(err, ERR_INVALID,
                       "invalid resources: NanoCPUs %lld is below the "
                       "minimum of 0.01 CPU",
                       (long long)nano);
    if (mem > 0) {
        json_t *m = json_object();
        json_object_set_new(m, "limit", json_integer(mem));
        json_object_set_new(out, "memory", m);
    }
    if (nano > 0) {
        const int64_t period = 100000;
        json_t *c = json_object();
        json_object_set_new(c, "period", json_integer(period));
        json_object_set_new(c, "quota",
                            json_integer(nano * period / 1000000000));
        json_object_set_new(out, "cpu", c);
    }
    if (pids > 0) {
        json_t *p = json_object();
        json_object_set_new(p, "limit", json_integer(pids));
        json_object_set_new(out, "pids", p);
    }
    return 0;
}

static const char *const RLIMITS[] = {
    "as",      "core",     "cpu",        "data",   "fsize", "locks",
    "memlock", "msgqueue", "nice",       "nofile", "nproc", "rss",
    "rtprio",  "rttime",   "sigpending", "stack",
};

static int build_rlimits(const json_t *ulimits, int64_t nofile, json_t **out,
                         struct err *err)
{
    json_t *rl = json_array();
    bool have_nofile = false;
    if (ulimits && !json_is_null(ulimits)) {
        if (!json_is_array(ulimits)) {
            json_decref(rl);
            return err_set(err, ERR_INVALID, "invalid Ulimits: not an array");
        }
        size_t i;
        json_t *u;
        json_array_foreach(ulimits, i, u)
        {
            const char *name = jx_str(u, "Name");
            int64_t soft = jx_int(u, "Soft", -1), hard = jx_int(u, "Hard", -1);
            bool known = false;
            for (size_t k = 0; name && k < ARRAY_SIZE(RLIMITS); k++)
                known = known || strcmp(RLIMITS[k], name) == 0;
            if (!known || soft < 0 || hard < 0 || soft > hard) {
                json_decref(rl);
                if (!known)
                    return err_set(err, ERR_INVALID, "invalid ulimit type: %s",
                                   name ? name : "");
                return err_set(err, ERR_INVALID,
                               "invalid ulimit %s: soft limit %lld must be "
                               "at most hard limit %lld",
                               name, (long long)soft, (long long)hard);
            }
            _cleanup_free_ char *type = xasprintf("RLIMIT_%s", name);
            for (char *p = type; *p; p++)
                *p = (char)toupper((unsigned char)*p);
            have_nofile = have_nofile || strcmp(name, "nofile") == 0;
            json_t *r = json_object();
            json_object_set_new(r, "type", json_string(type));
            json_object_set_new(r, "hard", json_integer(hard));
            json_object_set_new(r, "soft", json_integer(soft));
            json_array_append_new(rl, r);
        }
    }
    if (!have_nofile) {
        if (nofile <= 0)
            nofile = OCI_NOFILE_DEFAULT;
        json_t *r = json_object();
        json_object_set_new(r, "type", json_string("RLIMIT_NOFILE"));
        json_object_set_new(r, "hard", json_integer(nofile));
        json_object_set_new(r, "soft", json_integer(nofile));
        json_array_append_new(rl, r);
    }
    *out = rl;
    return 0;
}

static json_t *str_list(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *build_namespaces(const struct oci_input *in)
{
    static const char *const types[] = {"pid", "ipc", "uts", "mount"};
    json_t *ns = json_array();
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        json_t *n = json_object();
        json_object_set_new(n, "type", json_string(types[i]));
        json_array_append_new(ns, n);
    }
    json_t *net = json_object();
    json_object_set_new(net, "type", json_string("network"));
    if (in->netns)
        json_object_set_new(net, "path", json_string(in->netns));
    json_array_append_new(ns, net);
    if (in->cgroup2) {
        json_t *cg = json_object();
        json_object_set_new(cg, "type", json_string("cgroup"));
        json_array_append_new(ns, cg);
    }
    return ns;
}

static json_t *build_process(const struct oci_input *in, struct err *err)
{
    const json_t *spec = in->spec, *img = in->image_config;
    _cleanup_json_ json_t *args = oci_process_args(img, spec, err);
    if (!args)
        return NULL;
    if (spec && jx_bool(spec, "Init", false)) {
        /* Docker's --init: the init is PID 1 and runs the command. */
        if (!in->init_path) {
            err_set(err, ERR_INVALID,
                    "init requested but no init binary was found on this "
                    "node (install tini)");
            return NULL;
        }
        json_array_insert_new(args, 0, json_string("--"));
        json_array_insert_new(args, 0, json_string(OCI_INIT_PATH));
    }

    const char *cwd = spec ? jx_str(spec, "Dir") : NULL;
    if (!cwd || !*cwd)
        cwd = img ? jx_str(img, "WorkingDir") : NULL;
    if (!cwd || !*cwd)
        cwd = "/";
    if (cwd[0] != '/') {
        err_set(err, ERR_INVALID,
                "the working directory '%s' is invalid, it needs to be an "
                "absolute path",
                cwd);
        return NULL;
    }

    const char *user = spec ? jx_str(spec, "User") : NULL;
    if (!user || !*user)
        user = img ? jx_str(img, "User") : NULL;
    struct oci_user u;
    if (oci_user_resolve(user, spec ? json_object_get(spec, "Groups") : NULL,
                         in->passwd, in->group, &u, err) < 0)
        return NULL;

    _cleanup_json_ json_t *caps = oci_capabilities(
        spec ? json_object_get(spec, "CapabilityAdd") : NULL,
        spec ? json_object_get(spec, "CapabilityDrop") : NULL, err);
    if (!caps)
        return NULL;
    json_t *rlimits = NULL;
    if (build_rlimits(spec ? json_object_get(spec, "Ulimits") : NULL,
                      in->nofile, &rlimits, err) < 0)
        return NULL;

    json_t *p = json_object();
    json_object_set_new(p, "terminal", json_false());
    json_t *uj = json_object();
    json_object_set_new(uj, "uid", json_integer(u.uid));
    json_object_set_new(uj, "gid", json_integer(u.gid));
    json_t *gids = json_array();
    for (size_t i = 0; i < u.n_gids; i++)
        json_array_append_new(gids, json_integer(u.gids[i]));
    json_object_set_new(uj, "additionalGids", gids);
    json_object_set_new(p, "user", uj);
    json_object_set_new(p, "args", json_incref(args));
    json_object_set_new(p, "env", oci_process_env(img, spec, in->hostname));
    json_object_set_new(p, "cwd", json_string(cwd));
    /* Like Docker: root gets the set in bounding, effective and permitted;
     * other users only in bounding, as execve would leave them. */
    json_t *c = json_object();
    json_object_set(c, "bounding", caps);
    if (u.uid == 0) {
        json_object_set(c, "effective", caps);
        json_object_set(c, "permitted", caps);
    }
    json_object_set_new(p, "capabilities", c);
    json_object_set_new(p, "rlimits", rlimits);
    json_object_set_new(p, "noNewPrivileges",
                        json_boolean(jx_bool(jx_path(spec, "Privileges"),
                                             "NoNewPrivileges", false)));
    return p;
}

json_t *oci_spec_build(const struct oci_input *in, struct err *err)
{
    static const char *const masked[] = {
        "/proc/asound",      "/proc/acpi",          "/proc/kcore",
        "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug",   "/proc/scsi",
        "/sys/firmware",
    };
    static const char *const readonly_paths[] = {
        "/proc/bus",           "/proc/fs", "/proc/irq", "/proc/sys",
        "/proc/sysrq-trigger",
    };
    const json_t *spec = in->spec;
    _cleanup_json_ json_t *process = build_process(in, err);
    if (!process)
        return NULL;
    bool readonly = spec && jx_bool(spec, "ReadOnly", false);

    _cleanup_json_ json_t *resources = json_object();
    if (build_resources(in->resources, resources, err) < 0)
        return NULL;

    json_t *sysctls = spec ? json_object_get(spec, "Sysctls") : NULL;
    if (sysctls && !json_is_null(sysctls)) {
        const char *k;
        json_t *v;
        if (!json_is_object(sysctls)) {
            err_set(err, ERR_INVALID, "invalid Sysctls: not an object");
            return NULL;
        }
        json_object_foreach(sysctls, k, v)
        {
            if (!json_is_string(v) || !*k || strchr(k, '/') ||
                strstr(k, "..")) {
                err_set(err, ERR_INVALID, "invalid sysctl \"%s\"", k);
                return NULL;
            }
        }
    }

    json_t *s = json_object();
    json_object_set_new(s, "ociVersion", json_string("1.0.2-dev"));
    json_object_set(s, "process", process);
    json_t *root = json_object();
    json_object_set_new(root, "path", json_string(in->rootfs));
    json_object_set_new(root, "readonly", json_boolean(readonly));
    json_object_set_new(s, "root", root);
    if (in->hostname)
        json_object_set_new(s, "hostname", json_string(in->hostname));
    const char *propagation = NULL;
    json_t *mounts = build_mounts(in, readonly, &propagation);
    json_object_set_new(s, "mounts", mounts);
    if (spec && jx_bool(spec, "Init", false)) {
        static const char *const init_o[] = {"bind", "ro", NULL};
        json_array_append_new(
            mounts, mount_new(OCI_INIT_PATH, "bind", in->init_path, init_o));
    }

    json_t *linux_ = json_object();
    json_object_set(linux_, "resources", resources);
    if (in->cgroups_path)
        json_object_set_new(linux_, "cgroupsPath",
                            json_string(in->cgroups_path));
    json_object_set_new(linux_, "namespaces", build_namespaces(in));
    json_object_set_new(linux_, "sysctl",
                        json_is_object(sysctls) ? json_deep_copy(sysctls)
                                                : json_object());
    json_object_set_new(linux_, "maskedPaths",
                        str_list(masked, ARRAY_SIZE(masked)));
    json_object_set_new(linux_, "readonlyPaths",
                        str_list(readonly_paths, ARRAY_SIZE(readonly_paths)));
    if (propagation)
        json_object_set_new(linux_, "rootfsPropagation",
                            json_string(propagation));
    json_object_set_new(s, "linux", linux_);
    json_t *seccomp = NULL;
    if (seccomp_for_spec(jx_path(spec, "Privileges.Seccomp"),
                         jx_path(process, "capabilities.bounding"), &seccomp,
                         err) < 0) {
        json_decref(s);
        return NULL;
    }
    if (seccomp)
        json_object_set_new(linux_, "seccomp", seccomp);
    return s;
}
