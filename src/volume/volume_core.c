// SPDX-License-Identifier: Apache-2.0
// Local volume rules without I/O: dockerd's name rule and messages, the
// local driver's options and their translation to mount(2) arguments (the
// flag table of moby's mount package), the list / prune filters of the
// volume service, and the Volume object of the Engine API.
#include "volume/volume_core.h"

#include <ctype.h>
#include <regex.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"

/* ---- names ---- */

bool volume_name_is_valid(const char *name)
{
    if (!name || strlen(name) < 2 || !isalnum((unsigned char)name[0]))
        return false;
    for (const char *p = name + 1; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
            return false;
    return true;
}

int volume_name_check(const char *name, struct err *err)
{
    if (name && strlen(name) == 1)
        return err_set(err, ERR_INVALID,
                       "volume name is too short, names should be at least "
                       "two alphanumeric characters");
    if (!volume_name_is_valid(name))
        return err_set(err, ERR_INVALID,
                       "\"%s\" includes invalid characters for a local volume "
                       "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. "
                       "If you intended to pass a host directory, use "
                       "absolute path",
                       name ? name : "");
    return 0;
}

/* ---- options ---- */

static const char *const VALID_OPTS[] = {"type", "o", "device", "size"};

/* Does the comma-separated list o hold word exactly? */
static bool opt_has_word(const char *o, const char *word)
{
    size_t wl = strlen(word);
    while (o && *o) {
        size_t n = strcspn(o, ",");
        if (n == wl && strncmp(o, word, n) == 0)
            return true;
        o += n;
        if (*o == ',')
            o++;
    }
    return false;
}

int volume_opts_check(const json_t *opts, struct err *err)
{
    if (!opts || json_is_null(opts))
        return 0;
    if (!json_is_object(opts))
        return err_set(err, ERR_INVALID, "invalid options: must be an object");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)opts, key, val)
    {
        bool ok = false;
        for (size_t i = 0; i < ARRAY_SIZE(VALID_OPTS); i++)
            ok = ok || strcmp(key, VALID_OPTS[i]) == 0;
        if (!ok)
            return err_set(err, ERR_INVALID, "invalid option: \"%s\"", key);
        if (!json_is_string(val))
            return err_set(err, ERR_INVALID,
                           "invalid option \"%s\": value must be a string",
                           key);
    }
    if (json_object_get(opts, "size"))
        return err_set(err, ERR_INVALID,
                       "quota size requested but no quota support");
    /* dockerd's mandatoryOpts: device needs type, type needs device, o
     * needs both. */
    static const struct {
        const char *opt, *needs;
    } mandatory[] = {
        {"device", "type"}, {"type", "device"}, {"o", "device"}, {"o", "type"}};
    for (size_t i = 0; i < ARRAY_SIZE(mandatory); i++)
        if (json_object_get(opts, mandatory[i].opt) &&
            !json_object_get(opts, mandatory[i].needs))
            return err_set(err, ERR_INVALID, "missing required option: \"%s\"",
                           mandatory[i].needs);
    const char *o = jx_str(opts, "o");
    const char *device = jx_str(opts, "device");
    if (device && !*device && json_object_get(opts, "type"))
        return err_set(err, ERR_INVALID, "missing device in volume options");
    if ((opt_has_word(o, "bind") || opt_has_word(o, "rbind")) && device &&
        device[0] != '/')
        return err_set(err, ERR_INVALID,
                       "invalid option: bind device \"%s\" must be an absolute "
                       "path",
                       device);
    return 0;
}

bool volume_opts_need_mount(const json_t *opts)
{
    const char *type = jx_str(opts, "type");
    const char *device = jx_str(opts, "device");
    return (type && *type) || (device && *device);
}

/* moby/sys/mount's flag table: words that are mount flags (clear = the
 * word turns the flag off); any other word is filesystem data. */
static const struct {
    const char *word;
    bool clear;
    unsigned long flag;
} MOUNT_FLAGS[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"suid", true, MS_NOSUID},
    {"nosuid", false, MS_NOSUID},
    {"dev", true, MS_NODEV},
    {"nodev", false, MS_NODEV},
    {"exec", true, MS_NOEXEC},
    {"noexec", false, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
    {"unbindable", false, MS_UNBINDABLE},
    {"runbindable", false, MS_UNBINDABLE | MS_REC},
    {"private", false, MS_PRIVATE},
    {"rprivate", false, MS_PRIVATE | MS_REC},
    {"shared", false, MS_SHARED},
    {"rshared", false, MS_SHARED | MS_REC},
    {"slave", false, MS_SLAVE},
    {"rslave", false, MS_SLAVE | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
};

#define PROPAGATION_FLAGS (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

void volume_mount_spec_init(struct volume_mount_spec *m, const json_t *opts)
{
    const char *type = jx_str(opts, "type");
    const char *device = jx_str(opts, "device");
    const char *o = jx_str(opts, "o");
    unsigned long flags = 0;
    struct buf data;
    buf_init(&data);
    while (o && *o) {
        size_t n = strcspn(o, ",");
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(MOUNT_FLAGS) && !known; i++) {
            if (strlen(MOUNT_FLAGS[i].word) != n ||
                strncmp(o, MOUNT_FLAGS[i].word, n) != 0)
                continue;
            known = true;
            if (MOUNT_FLAGS[i].clear)
                flags &= ~MOUNT_FLAGS[i].flag;
            else
                flags |= MOUNT_FLAGS[i].flag;
        }
        if (!known && n) {
            if (data.len)
                buf_putc(&data, ',');
            buf_append(&data, o, n);
        }
        o += n;
        if (*o == ',')
            o++;
    }
    /* Propagation is a second mount(2) call of its own; MS_REC goes with
     * it, unless it belongs to a recursive bind. */
    m->propagation = flags & PROPAGATION_FLAGS;
    if (m->propagation && (flags & MS_REC) && !(flags & MS_BIND))
        m->propagation |= MS_REC;
    m->flags = flags & ~PROPAGATION_FLAGS;
    if (!(m->flags & MS_BIND))
        m->flags &= ~(unsigned long)MS_REC;
    m->device = xstrdup(device ? device : "");
    m->fstype = xstrdup(type && *type ? type : "none");
    m->data = data.len ? buf_steal(&data) : xstrdup("");
    buf_fini(&data);
}

void volume_mount_spec_fini(struct volume_mount_spec *m)
{
    free(m->device);
    free(m->fstype);
    free(m->data);
    m->device = m->fstype = m->data = NULL;
}

int volume_subpath_check(const char *sub, struct err *err)
{
    bool ok = sub && *sub && sub[0] != '/';
    for (const char *p = sub; ok && *p;) {
        size_t n = strcspn(p, "/");
        ok = !(n == 2 && p[0] == '.' && p[1] == '.');
        p += n;
        while (*p == '/')
            p++;
    }
    if (!ok)
        return err_set(err, ERR_INVALID,
                       "subpath must be a relative path within the volume");
    return 0;
}

/* ---- filters ---- */

static int check_keys(const json_t *filters, const char *const *allowed,
                      struct err *err)
{
    const char *key;
    json_t *vals;
    json_object_foreach((json_t *)filters, key, vals)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(*a, key) == 0;
        if (!ok)
            return err_set(err, ERR_INVALID, "invalid filter '%s'", key);
    }
    return 0;
}

/* Go's filters.Args.GetBoolOrDefault for dangling: -1 invalid, 0/1. */
static int filter_bool(const json_t *filters, const char *key, bool def,
                       bool *out, struct err *err)
{
    json_t *vals = json_object_get(filters, key);
    *out = def;
    if (!json_array_size(vals))
        return 0;
    if (json_array_size(vals) > 1) {
        struct buf b;
        buf_init(&b);
        size_t i;
        json_t *v;
        json_array_foreach(vals, i, v)
        {
            buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v));
        }
        err_set(err, ERR_INVALID, "invalid filter '%s=%s'", key,
                b.data ? b.data : "");
        buf_fini(&b);
        return -1;
    }
    const char *s = json_string_value(json_array_get(vals, 0));
    if (s && (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0))
        *out = true;
    else if (s && (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0))
        *out = false;
    else
        return err_set(err, ERR_INVALID, "invalid filter '%s=%s'", key,
                       s ? s : "");
    return 0;
}

int volume_list_filters_check(const json_t *filters, struct err *err)
{
    static const char *const allowed[] = {"dangling", "name", "driver", "label",
                                          NULL};
    bool dangling;
    if (check_keys(filters, allowed, err) < 0 ||
        filter_bool(filters, "dangling", false, &dangling, err) < 0)
        return -1;
    return 0;
}

/* Go's filters.Args.MatchKVList: every "k" / "k=v" value must hold. */
static bool match_kv_list(const json_t *filters, const char *key,
                          const json_t *labels)
{
    json_t *vals = json_object_get(filters, key);
    if (!json_array_size(vals))
        return true;
    if (!json_object_size(labels))
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v)
    {
        const char *want = json_string_value(v);
        if (!want)
            continue;
        const char *eq = strchr(want, '=');
        _cleanup_free_ char *k =
            eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
        const char *have = jx_str(labels, k);
        if (!have || (eq && strcmp(have, eq + 1) != 0))
            return false;
    }
    return true;
}

/* Go's filters.Args.Match: an exact value, or one that matches as a
 * regular expression (unanchored; a bad expression never matches). */
static bool match_regex(const json_t *filters, const char *key, const char *s)
{
    json_t *vals = json_object_get(filters, key);
    if (!json_array_size(vals))
        return true;
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v)
    {
        const char *pat = json_string_value(v);
        if (!pat)
            continue;
        if (strcmp(pat, s) == 0)
            return true;
        regex_t re;
        if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0)
            continue;
        bool m = regexec(&re, s, 0, NULL, 0) == 0;
        regfree(&re);
        if (m)
            return true;
    }
    return false;
}

static bool match_exact(const json_t *filters, const char *key, const char *s)
{
    json_t *vals = json_object_get(filters, key);
    if (!json_array_size(vals))
        return true;
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v)
    {
        if (json_string_value(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

bool volume_list_match(const json_t *filters, const struct volume_info *v)
{
    if (!match_exact(filters, "driver", v->driver) ||
        !match_regex(filters, "name", v->name) ||
        !match_kv_list(filters, "label", v->labels))
        return false;
    if (json_object_get(filters, "dangling")) {
        bool dangling = false;
        struct err err = {0};
        if (filter_bool(filters, "dangling", false, &dangling, &err) < 0)
            return false;
        if (dangling != (v->refs == 0))
            return false;
    }
    return true;
}

int volume_prune_filters_check(const json_t *filters, bool all_default,
                               bool *all, struct err *err)
{
    static const char *const allowed[] = {"label", "label!", "all", NULL};
    *all = all_default;
    if (check_keys(filters, allowed, err) < 0)
        return -1;
    json_t *vals = json_object_get(filters, "all");
    if (json_array_size(vals) > 1) {
        /* Go prints the []string as "[a b]". */
        struct buf b;
        buf_init(&b);
        size_t i;
        json_t *v;
        json_array_foreach(vals, i, v)
        {
            buf_printf(&b, "%s%s", i ? " " : "", json_string_value(v));
        }
        err_set(err, ERR_INVALID,
                "invalid filter 'all=[%s]': only one value is expected",
                b.data ? b.data : "");
        buf_fini(&b);
        return -1;
    }
    if (json_array_size(vals) == 1) {
        /* strconv.ParseBool */
        static const char *const yes[] = {"1",    "t",    "T",
                                          "TRUE", "true", "True"};
        static const char *const no[] = {"0",     "f",     "F",
                                         "FALSE", "false", "False"};
        const char *s = json_string_value(json_array_get(vals, 0));
        bool known = false;
        for (size_t i = 0; s && i < ARRAY_SIZE(yes); i++) {
            if (strcmp(s, yes[i]) == 0)
                *all = known = true;
            if (strcmp(s, no[i]) == 0) {
                *all = false;
                known = true;
            }
        }
        if (!known)
            return err_set(err, ERR_INVALID,
                           "invalid filter 'all': strconv.ParseBool: parsing "
                           "\"%s\": invalid syntax",
                           s ? s : "");
    }
    return 0;
}

bool volume_prune_match(const json_t *filters, bool all,
                        const struct volume_info *v)
{
    if (v->refs || strcmp(v->driver, VOLUME_DRIVER_LOCAL) != 0 ||
        json_object_size(v->options))
        return false;
    if (!all && !json_object_get(v->labels, VOLUME_ANONYMOUS_LABEL))
        return false;
    if (!match_kv_list(filters, "label", v->labels))
        return false;
    if (json_array_size(json_object_get(filters, "label!")) &&
        match_kv_list(filters, "label!", v->labels))
        return false;
    return true;
}

/* ---- the Volume object ---- */

json_t *volume_info_json(const struct volume_info *v, const char *mountpoint,
                         int64_t created_ns, int64_t usage_size)
{
    char created[TIME_STRLEN];
    /* dockerd formats it with time.RFC3339: whole seconds. */
    time_fmt_rfc3339(created_ns - created_ns % NS_PER_SEC, created);
    json_t *j = json_object();
    json_object_set_new(j, "CreatedAt", json_string(created));
    json_object_set_new(j, "Driver", json_string(v->driver));
    json_object_set_new(j, "Labels",
                        v->labels ? jx_copy(v->labels) : json_null());
    json_object_set_new(j, "Mountpoint", json_string(mountpoint));
    json_object_set_new(j, "Name", json_string(v->name));
    json_object_set_new(j, "Options",
                        v->options ? jx_copy(v->options) : json_null());
    json_object_set_new(j, "Scope", json_string("local"));
    if (usage_size >= 0)
        json_object_set_new(j, "UsageData",
                            json_pack("{s:I, s:I}", "Size",
                                      (json_int_t)usage_size, "RefCount",
                                      (json_int_t)v->refs));
    return j;
}
