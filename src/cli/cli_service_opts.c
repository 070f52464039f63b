// SPDX-License-Identifier: Apache-2.0
// The option syntaxes of `service create/update` (--mount, --publish,
// --network, --secret/--config, --ulimit, --placement-pref) parsed the way
// the docker CLI 28 parses them, with its error messages, and the two flag
// tables. Values are checked when flags are parsed, so bad input fails
// with docker's "invalid argument" wording before any request is sent.
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/vec.h"
#include "cli/cli_service_spec.h"
#include "cli/format.h"

/* encoding/csv's reader for one record: fields split on ',', with
 * double-quoted fields ("a,b" and "" escapes). */
static int csv_fields(const char *s, struct vec *out, struct err *err)
{
    const char *p = s;
    for (;;) {
        struct buf f;
        buf_init(&f);
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) {
                    buf_fini(&f);
                    return err_set(err, ERR_INVALID,
                                   "parse error on line 1, column %zu: "
                                   "extraneous or missing \" in quoted-field",
                                   (size_t)(p - s) + 1);
                }
                if (*p == '"') {
                    if (p[1] == '"') {
                        buf_putc(&f, '"');
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                buf_putc(&f, *p++);
            }
            if (*p && *p != ',') {
                buf_fini(&f);
                return err_set(err, ERR_INVALID,
                               "parse error on line 1, column %zu: "
                               "extraneous or missing \" in quoted-field",
                               (size_t)(p - s) + 1);
            }
        } else {
            while (*p && *p != ',')
                buf_putc(&f, *p++);
        }
        vec_push(out, f.data ? buf_steal(&f) : xstrdup(""));
        if (*p != ',')
            break;
        p++;
    }
    return 0;
}

static void free_strs(struct vec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    vec_fini(v);
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* regexp `\w+=\w+`: does the value use the key=value long syntax? */
static bool long_syntax(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '=' && p > s &&
            (isalnum((unsigned char)p[-1]) || p[-1] == '_') &&
            (isalnum((unsigned char)p[1]) || p[1] == '_'))
            return true;
    }
    return false;
}

/* runconfigopts.ConvertKVStringsToMap. */
void cli_kv_into(json_t *map, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (eq) {
        _cleanup_free_ char *k = xstrndup(kv, (size_t)(eq - kv));
        json_object_set_new(map, k, json_string(eq + 1));
    } else {
        json_object_set_new(map, kv, json_string(""));
    }
}

/* ---- option syntaxes -------------------------------------------------- */

static bool parse_bool_field(const char *v, bool *out)
{
    return cli_parse_bool(v, out) == 0;
}

json_t *cli_parse_mount(const char *value, struct err *err)
{
    struct vec fields;
    vec_init(&fields);
    if (csv_fields(value, &fields, err) < 0) {
        free_strs(&fields);
        return NULL;
    }
    json_t *m = json_object();
    json_t *vol = NULL, *bind = NULL, *tmpfs = NULL, *img = NULL;
    json_object_set_new(m, "Type", json_string("volume"));
    for (size_t i = 0; i < fields.len; i++) {
        const char *field = fields.items[i];
        const char *eq = strchr(field, '=');
        _cleanup_free_ char *key =
            eq ? xstrndup(field, (size_t)(eq - field)) : xstrdup(field);
        lower(key);
        const char *val = eq ? eq + 1 : NULL;
        bool b;
        if (!val) {
            if (!strcmp(key, "readonly") || !strcmp(key, "ro")) {
                json_object_set_new(m, "ReadOnly", json_true());
            } else if (!strcmp(key, "volume-nocopy")) {
                if (!vol)
                    vol = json_object();
                json_object_set_new(vol, "NoCopy", json_true());
            } else if (!strcmp(key, "bind-nonrecursive")) {
                if (!bind)
                    bind = json_object();
                json_object_set_new(bind, "NonRecursive", json_true());
            } else {
                err_set(err, ERR_INVALID,
                        "invalid field '%s' must be a key=value pair", field);
                goto fail;
            }
            continue;
        }
        if (!strcmp(key, "type")) {
            _cleanup_free_ char *t = xstrdup(val);
            lower(t);
            json_object_set_new(m, "Type", json_string(t));
        } else if (!strcmp(key, "source") || !strcmp(key, "src")) {
            if (!strncmp(val, "./", 2) || !strcmp(val, ".")) {
                char cwd[4096];
                if (getcwd(cwd, sizeof(cwd))) {
                    const char *rest = val[1] ? val + 2 : "";
                    _cleanup_free_ char *abs =
                        *rest ? xasprintf("%s/%s", cwd, rest) : xstrdup(cwd);
                    size_t l = strlen(abs);
                    while (l > 1 && abs[l - 1] == '/')
                        abs[--l] = '\0';
                    json_object_set_new(m, "Source", json_string(abs));
                    continue;
                }
            }
            json_object_set_new(m, "Source", json_string(val));
        } else if (!strcmp(key, "target") || !strcmp(key, "dst") ||
                   !strcmp(key, "destination")) {
            json_object_set_new(m, "Target", json_string(val));
        } else if (!strcmp(key, "readonly") || !strcmp(key, "ro")) {
            if (!parse_bool_field(val, &b)) {
                err_set(err, ERR_INVALID, "invalid value for %s: %s", key, val);
                goto fail;
            }
            json_object_set_new(m, "ReadOnly", json_boolean(b));
        } else if (!strcmp(key, "consistency")) {
            _cleanup_free_ char *c = xstrdup(val);
            lower(c);
            json_object_set_new(m, "Consistency", json_string(c));
        } else if (!strcmp(key, "bind-propagation")) {
            _cleanup_free_ char *c = xstrdup(val);
            lower(c);
            if (!bind)
                bind = json_object();
            json_object_set_new(bind, "Propagation", json_string(c));
        } else if (!strcmp(key, "bind-nonrecursive")) {
            if (!parse_bool_field(val, &b)) {
                err_set(err, ERR_INVALID, "invalid value for %s: %s", key, val);
                goto fail;
            }
            if (!bind)
                bind = json_object();
            json_object_set_new(bind, "NonRecursive", json_boolean(b));
        } else if (!strcmp(key, "bind-recursive")) {
            if (!bind)
                bind = json_object();
            if (!strcmp(val, "enabled")) {
            } else if (!strcmp(val, "disabled")) {
                json_object_set_new(bind, "NonRecursive", json_true());
            } else if (!strcmp(val, "writable")) {
                json_object_set_new(bind, "ReadOnlyNonRecursive", json_true());
            } else if (!strcmp(val, "readonly")) {
                json_object_set_new(bind, "ReadOnlyForceRecursive",
                                    json_true());
            } else {
                err_set(err, ERR_INVALID,
                        "invalid value for %s: %s (must \"enabled\", "
                        "\"disabled\", \"writable\", or \"readonly\")",
                        key, val);
                goto fail;
            }
        } else if (!strcmp(key, "volume-subpath")) {
            if (!vol)
                vol = json_object();
            json_object_set_new(vol, "Subpath", json_string(val));
        } else if (!strcmp(key, "volume-nocopy")) {
            if (!parse_bool_field(val, &b)) {
                err_set(err, ERR_INVALID, "invalid value for volume-nocopy: %s",
                        val);
                goto fail;
            }
            if (!vol)
                vol = json_object();
            json_object_set_new(vol, "NoCopy", json_boolean(b));
        } else if (!strcmp(key, "volume-label")) {
            if (!vol)
                vol = json_object();
            if (val[0] != '=')
                cli_kv_into(jx_obj(vol, "Labels"), val);
        } else if (!strcmp(key, "volume-driver")) {
            if (!vol)
                vol = json_object();
            json_object_set_new(jx_obj(vol, "DriverConfig"), "Name",
                                json_string(val));
        } else if (!strcmp(key, "volume-opt")) {
            if (!vol)
                vol = json_object();
            if (val[0] != '=')
                cli_kv_into(jx_obj(jx_obj(vol, "DriverConfig"), "Options"),
                            val);
        } else if (!strcmp(key, "image-subpath")) {
            if (!img)
                img = json_object();
            json_object_set_new(img, "Subpath", json_string(val));
        } else if (!strcmp(key, "tmpfs-size")) {
            int64_t sz;
            if (cli_parse_ram(val, &sz, NULL) < 0) {
                err_set(err, ERR_INVALID, "invalid value for %s: %s", key, val);
                goto fail;
            }
            if (!tmpfs)
                tmpfs = json_object();
            json_object_set_new(tmpfs, "SizeBytes", json_integer(sz));
        } else if (!strcmp(key, "tmpfs-mode")) {
            uint64_t mode;
            if (cli_parse_uint(val, 8, 32, &mode, NULL) < 0) {
                err_set(err, ERR_INVALID, "invalid value for %s: %s", key, val);
                goto fail;
            }
            if (!tmpfs)
                tmpfs = json_object();
            json_object_set_new(tmpfs, "Mode", json_integer((json_int_t)mode));
        } else {
            err_set(err, ERR_INVALID, "unexpected key '%s' in '%s'", key,
                    field);
            goto fail;
        }
    }
    const char *type = jx_str0(m, "Type");
    if (!*type) {
        err_set(err, ERR_INVALID, "type is required");
        goto fail;
    }
    if (!*jx_str0(m, "Target")) {
        err_set(err, ERR_INVALID, "target is required");
        goto fail;
    }
    if (vol && strcmp(type, "volume") != 0) {
        err_set(err, ERR_INVALID,
                "cannot mix 'volume-*' options with mount type '%s'", type);
        goto fail;
    }
    if (img && strcmp(type, "image") != 0) {
        err_set(err, ERR_INVALID,
                "cannot mix 'image-*' options with mount type '%s'", type);
        goto fail;
    }
    if (bind && strcmp(type, "bind") != 0) {
        err_set(err, ERR_INVALID,
                "cannot mix 'bind-*' options with mount type '%s'", type);
        goto fail;
    }
    if (tmpfs && strcmp(type, "tmpfs") != 0) {
        err_set(err, ERR_INVALID,
                "cannot mix 'tmpfs-*' options with mount type '%s'", type);
        goto fail;
    }
    if (bind) {
        bool ro = jx_bool(m, "ReadOnly", false);
        if (jx_bool(bind, "ReadOnlyNonRecursive", false) && !ro) {
            err_set(err, ERR_INVALID,
                    "option 'bind-recursive=writable' requires 'readonly' to "
                    "be specified in conjunction");
            goto fail;
        }
        if (jx_bool(bind, "ReadOnlyForceRecursive", false)) {
            if (!ro) {
                err_set(err, ERR_INVALID,
                        "option 'bind-recursive=readonly' requires "
                        "'readonly' to be specified in conjunction");
                goto fail;
            }
            if (strcmp(jx_str0(bind, "Propagation"), "rprivate") != 0) {
                err_set(err, ERR_INVALID,
                        "option 'bind-recursive=readonly' requires "
                        "'bind-propagation=rprivate' to be specified in "
                        "conjunction");
                goto fail;
            }
        }
        json_object_set_new(m, "BindOptions", bind);
        bind = NULL;
    }
    if (vol) {
        /* docker always creates DriverConfig alongside volume options. */
        jx_obj(vol, "DriverConfig");
        json_object_set_new(m, "VolumeOptions", vol);
        vol = NULL;
    }
    if (img) {
        json_object_set_new(m, "ImageOptions", img);
        img = NULL;
    }
    if (tmpfs) {
        json_object_set_new(m, "TmpfsOptions", tmpfs);
        tmpfs = NULL;
    }
    free_strs(&fields);
    return m;
fail:
    json_decref(m);
    json_decref(vol);
    json_decref(bind);
    json_decref(tmpfs);
    json_decref(img);
    free_strs(&fields);
    return NULL;
}

/* nat.ParsePortRange: "80" or "80-90". */
static int port_range(const char *s, uint64_t *lo, uint64_t *hi)
{
    if (!*s)
        return -1;
    const char *dash = strchr(s, '-');
    _cleanup_free_ char *a =
        dash ? xstrndup(s, (size_t)(dash - s)) : xstrdup(s);
    if (cli_parse_uint(a, 10, 16, lo, NULL) < 0)
        return -1;
    *hi = *lo;
    if (dash && (cli_parse_uint(dash + 1, 10, 16, hi, NULL) < 0 || *hi < *lo))
        return -1;
    return 0;
}

static json_t *port_config(const char *proto, uint64_t target,
                           uint64_t published, const char *mode)
{
    json_t *p = json_object();
    json_object_set_new(p, "Protocol", json_string(proto));
    json_object_set_new(p, "TargetPort", json_integer((json_int_t)target));
    json_object_set_new(p, "PublishedPort",
                        json_integer((json_int_t)published));
    json_object_set_new(p, "PublishMode", json_string(mode));
    return p;
}

static int parse_port_long(const char *value, json_t *ports, struct err *err)
{
    struct vec fields;
    vec_init(&fields);
    if (csv_fields(value, &fields, err) < 0) {
        free_strs(&fields);
        return -1;
    }
    const char *proto = "tcp", *mode = "ingress";
    _cleanup_free_ char *proto_s = NULL, *mode_s = NULL;
    uint64_t target = 0, published = 0;
    int rc = 0;
    for (size_t i = 0; i < fields.len && rc == 0; i++) {
        char *field = xstrdup(fields.items[i]);
        lower(field);
        char *eq = strchr(field, '=');
        if (!eq || eq == field) {
            rc = err_set(err, ERR_INVALID, "invalid field: %s",
                         (char *)fields.items[i]);
            free(field);
            break;
        }
        *eq = '\0';
        const char *key = field, *val = eq + 1;
        struct err e2 = {0};
        if (!strcmp(key, "protocol")) {
            if (strcmp(val, "tcp") && strcmp(val, "udp") &&
                strcmp(val, "sctp")) {
                rc = err_set(err, ERR_INVALID, "invalid protocol value '%s'",
                             val);
            } else {
                free(proto_s);
                proto = proto_s = xstrdup(val);
            }
        } else if (!strcmp(key, "mode")) {
            if (strcmp(val, "ingress") && strcmp(val, "host")) {
                rc = err_set(err, ERR_INVALID,
                             "invalid publish mode value (%s): must be either "
                             "'ingress' or 'host'",
                             val);
            } else {
                free(mode_s);
                mode = mode_s = xstrdup(val);
            }
        } else if (!strcmp(key, "target")) {
            if (cli_parse_uint(val, 10, 16, &target, &e2) < 0)
                rc = err_set(err, ERR_INVALID,
                             "invalid target port (%s): value must be an "
                             "integer: %s",
                             val,
                             strstr(e2.msg, "range") ? "value out of range"
                                                     : "invalid syntax");
        } else if (!strcmp(key, "published")) {
            if (cli_parse_uint(val, 10, 16, &published, &e2) < 0)
                rc = err_set(err, ERR_INVALID,
                             "invalid published port (%s): value must be an "
                             "integer: %s",
                             val,
                             strstr(e2.msg, "range") ? "value out of range"
                                                     : "invalid syntax");
        } else {
            rc = err_set(err, ERR_INVALID, "invalid field key: %s", key);
        }
        free(field);
    }
    free_strs(&fields);
    if (rc < 0)
        return -1;
    if (target == 0)
        return err_set(err, ERR_INVALID, "missing mandatory field '%s'",
                       "target");
    json_array_append_new(ports, port_config(proto, target, published, mode));
    return 0;
}

int cli_parse_port(const char *value, json_t *ports, struct err *err)
{
    if (long_syntax(value))
        return parse_port_long(value, ports, err);
    /* Short syntax: [[ip:]published:]target[/proto]. */
    _cleanup_free_ char *s = xstrdup(value);
    char proto[16] = "tcp";
    char *slash = strrchr(s, '/');
    if (slash) {
        *slash = '\0';
        const char *p = slash + 1;
        if (!*p || (strcasecmp(p, "tcp") && strcasecmp(p, "udp") &&
                    strcasecmp(p, "sctp")))
            return err_set(err, ERR_INVALID, "invalid proto: %s", p);
        snprintf(proto, sizeof(proto), "%s", p);
        lower(proto);
    }
    char *parts[4] = {0};
    size_t np = 0;
    for (char *p = s; np < 4;) {
        parts[np++] = p;
        char *c = strchr(p, ':');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    const char *ip = "", *host = "", *cont;
    if (np == 1) {
        cont = parts[0];
    } else if (np == 2) {
        host = parts[0];
        cont = parts[1];
    } else if (np == 3) {
        ip = parts[0];
        host = parts[1];
        cont = parts[2];
    } else {
        return err_set(err, ERR_INVALID, "invalid port format: %s", value);
    }
    if (*ip)
        return err_set(err, ERR_INVALID, "hostip is not supported");
    uint64_t clo, chi, hlo = 0, hhi = 0;
    if (port_range(cont, &clo, &chi) < 0)
        return err_set(err, ERR_INVALID, "invalid containerPort: %s", cont);
    if (*host && port_range(host, &hlo, &hhi) < 0)
        return err_set(err, ERR_INVALID, "invalid hostPort: %s", host);
    if (*host && chi - clo != hhi - hlo && chi != clo) {
        return err_set(err, ERR_INVALID,
                       "invalid ranges specified for container and host "
                       "Ports: %s and %s",
                       cont, host);
    }
    if (chi == clo) {
        /* One target; a published range gives one entry per port. */
        if (!*host) {
            json_array_append_new(ports, port_config(proto, clo, 0, "ingress"));
            return 0;
        }
        for (uint64_t h = hlo; h <= hhi; h++)
            json_array_append_new(ports, port_config(proto, clo, h, "ingress"));
        return 0;
    }
    for (uint64_t c = clo; c <= chi; c++) {
        uint64_t h = *host ? hlo + (c - clo) : 0;
        json_array_append_new(ports, port_config(proto, c, h, "ingress"));
    }
    return 0;
}

json_t *cli_parse_network(const char *value, struct err *err)
{
    json_t *n = json_object();
    if (!long_syntax(value)) {
        json_object_set_new(n, "Target", json_string(value));
        return n;
    }
    struct vec fields;
    vec_init(&fields);
    if (csv_fields(value, &fields, err) < 0)
        goto fail;
    for (size_t i = 0; i < fields.len; i++) {
        const char *field = fields.items[i];
        const char *eq = strchr(field, '=');
        if (!eq || eq == field) {
            err_set(err, ERR_INVALID, "invalid field %s", field);
            goto fail;
        }
        _cleanup_free_ char *key = xstrndup(field, (size_t)(eq - field));
        lower(key);
        const char *val = eq + 1;
        if (!strcmp(key, "name")) {
            json_object_set_new(n, "Target", json_string(val));
        } else if (!strcmp(key, "alias")) {
            json_t *a = json_object_get(n, "Aliases");
            if (!a) {
                a = json_array();
                json_object_set_new(n, "Aliases", a);
            }
            json_array_append_new(a, json_string(val));
        } else if (!strcmp(key, "driver-opt")) {
            const char *e2 = strchr(val, '=');
            if (!e2) {
                err_set(err, ERR_INVALID,
                        "invalid key value pair format in driver options");
                goto fail;
            }
            _cleanup_free_ char *k = xstrndup(val, (size_t)(e2 - val));
            lower(k);
            json_object_set_new(jx_obj(n, "DriverOpts"), k,
                                json_string(e2 + 1));
        } else if (!strcmp(key, "ip") || !strcmp(key, "ip6") ||
                   !strcmp(key, "mac-address") ||
                   !strcmp(key, "link-local-ip") ||
                   !strcmp(key, "gw-priority")) {
            /* Accepted by docker's parser; not part of a service spec. */
        } else {
            err_set(err, ERR_INVALID, "invalid field key %s", key);
            goto fail;
        }
    }
    free_strs(&fields);
    if (!*jx_str0(n, "Target")) {
        json_decref(n);
        err_set(err, ERR_INVALID, "network name/id is not specified");
        return NULL;
    }
    return n;
fail:
    free_strs(&fields);
    json_decref(n);
    return NULL;
}

json_t *cli_parse_secret_ref(const char *kind, const char *value,
                             struct err *err)
{
    bool secret = strcmp(kind, "secret") == 0;
    json_t *ref = json_object();
    json_t *file = json_object();
    json_object_set_new(file, "Name", json_string(""));
    json_object_set_new(file, "UID", json_string("0"));
    json_object_set_new(file, "GID", json_string("0"));
    json_object_set_new(file, "Mode", json_integer(0444));
    json_object_set_new(ref, "File", file);
    const char *name_key = secret ? "SecretName" : "ConfigName";
    struct vec fields;
    vec_init(&fields);
    if (csv_fields(value, &fields, err) < 0)
        goto fail;
    if (fields.len == 1 && !strchr(fields.items[0], '=')) {
        json_object_set_new(file, "Name", json_string(fields.items[0]));
        json_object_set_new(ref, name_key, json_string(fields.items[0]));
        free_strs(&fields);
        return ref;
    }
    for (size_t i = 0; i < fields.len; i++) {
        const char *field = fields.items[i];
        const char *eq = strchr(field, '=');
        if (!eq || eq == field) {
            err_set(err, ERR_INVALID,
                    "invalid field '%s' must be a key=value pair", field);
            goto fail;
        }
        _cleanup_free_ char *key = xstrndup(field, (size_t)(eq - field));
        lower(key);
        const char *val = eq + 1;
        if (!strcmp(key, "source") || !strcmp(key, "src")) {
            json_object_set_new(ref, name_key, json_string(val));
        } else if (!strcmp(key, "target")) {
            json_object_set_new(file, "Name", json_string(val));
        } else if (!strcmp(key, "uid")) {
            json_object_set_new(file, "UID", json_string(val));
        } else if (!strcmp(key, "gid")) {
            json_object_set_new(file, "GID", json_string(val));
        } else if (!strcmp(key, "mode")) {
            uint64_t m;
            struct err e2 = {0};
            if (cli_parse_uint(val, 0, 32, &m, &e2) < 0) {
                err_set(err, ERR_INVALID, "invalid mode specified: %s", e2.msg);
                goto fail;
            }
            json_object_set_new(file, "Mode", json_integer((json_int_t)m));
        } else {
            err_set(err, ERR_INVALID, "invalid field in %s request: %s", kind,
                    key);
            goto fail;
        }
    }
    free_strs(&fields);
    if (!*jx_str0(ref, name_key)) {
        json_decref(ref);
        err_set(err, ERR_INVALID, "source is required");
        return NULL;
    }
    if (!*jx_str0(file, "Name"))
        json_object_set_new(file, "Name", json_string(jx_str(ref, name_key)));
    return ref;
fail:
    free_strs(&fields);
    json_decref(ref);
    return NULL;
}

json_t *cli_parse_ulimit(const char *value, struct err *err)
{
    static const char *const names[] = {
        "core",    "cpu",      "data",   "fsize",      "locks",
        "memlock", "msgqueue", "nice",   "nofile",     "nproc",
        "rss",     "rtprio",   "rttime", "sigpending", "stack",
    };
    const char *eq = strchr(value, '=');
    if (!eq) {
        err_set(err, ERR_INVALID, "invalid ulimit argument: %s", value);
        return NULL;
    }
    _cleanup_free_ char *name = xstrndup(value, (size_t)(eq - value));
    bool known = false;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        known = known || strcmp(names[i], name) == 0;
    if (!known) {
        err_set(err, ERR_INVALID, "invalid ulimit type: %s", name);
        return NULL;
    }
    const char *lim = eq + 1;
    const char *colon = strchr(lim, ':');
    _cleanup_free_ char *soft_s =
        colon ? xstrndup(lim, (size_t)(colon - lim)) : xstrdup(lim);
    int64_t soft, hard;
    if (cli_parse_int(soft_s, 64, &soft, NULL) < 0) {
        err_set(err, ERR_INVALID, "invalid ulimit soft value: %s", soft_s);
        return NULL;
    }
    hard = soft;
    if (colon && cli_parse_int(colon + 1, 64, &hard, NULL) < 0) {
        err_set(err, ERR_INVALID, "invalid ulimit hard value: %s", colon + 1);
        return NULL;
    }
    if (soft > hard) {
        err_set(err, ERR_INVALID,
                "ulimit soft limit must be less than or equal to hard limit: "
                "%lld > %lld",
                (long long)soft, (long long)hard);
        return NULL;
    }
    json_t *u = json_object();
    json_object_set_new(u, "Name", json_string(name));
    json_object_set_new(u, "Hard", json_integer(hard));
    json_object_set_new(u, "Soft", json_integer(soft));
    return u;
}

json_t *cli_parse_pref(const char *value, struct err *err)
{
    const char *eq = strchr(value, '=');
    if (!eq || strchr(eq + 1, '=')) {
        err_set(err, ERR_INVALID,
                "placement preference must be of the "
                "format \"<strategy>=<arg>\"");
        return NULL;
    }
    if (strncmp(value, "spread", 6) != 0 || eq != value + 6) {
        err_set(err, ERR_INVALID,
                "unsupported placement preference %.*s (only spread is "
                "supported)",
                (int)(eq - value), value);
        return NULL;
    }
    json_t *p = json_object();
    json_t *s = json_object();
    json_object_set_new(s, "SpreadDescriptor", json_string(eq + 1));
    json_object_set_new(p, "Spread", s);
    return p;
}

char *cli_digest_warning(const char *image)
{
    return xasprintf("image %s could not be accessed on a registry to "
                     "record\nits digest. Each node will access %s "
                     "independently,\npossibly leading to different nodes "
                     "running different\nversions of the image.\n",
                     image, image);
}

/* ---- flag validators -------------------------------------------------- */

static int check_mount(const char *v, struct err *err)
{
    json_t *m = cli_parse_mount(v, err);
    json_decref(m);
    return m ? 0 : -1;
}

static int check_port(const char *v, struct err *err)
{
    json_t *a = json_array();
    int rc = cli_parse_port(v, a, err);
    json_decref(a);
    return rc;
}

static int check_network(const char *v, struct err *err)
{
    json_t *n = cli_parse_network(v, err);
    json_decref(n);
    return n ? 0 : -1;
}

static int check_secret(const char *v, struct err *err)
{
    json_t *s = cli_parse_secret_ref("secret", v, err);
    json_decref(s);
    return s ? 0 : -1;
}

static int check_config(const char *v, struct err *err)
{
    json_t *s = cli_parse_secret_ref("config", v, err);
    json_decref(s);
    return s ? 0 : -1;
}

static int check_ulimit(const char *v, struct err *err)
{
    json_t *u = cli_parse_ulimit(v, err);
    json_decref(u);
    return u ? 0 : -1;
}

static int check_pref(const char *v, struct err *err)
{
    json_t *p = cli_parse_pref(v, err);
    json_decref(p);
    return p ? 0 : -1;
}

static int check_ip(const char *v, struct err *err)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, v, b) == 1 || inet_pton(AF_INET6, v, b) == 1)
        return 0;
    return err_set(err, ERR_INVALID,
                   "IP address is not correctly formatted: %s", v);
}

static int check_host(const char *v, struct err *err)
{
    const char *c = strchr(v, ':');
    if (!c || c == v)
        return err_set(err, ERR_INVALID, "bad format for add-host: \"%s\"", v);
    return 0;
}

static int check_env(const char *v, struct err *err)
{
    if (v[0] == '=' || !v[0])
        return err_set(err, ERR_INVALID, "invalid environment variable: %s", v);
    return 0;
}

static int check_positive(const char *v, struct err *err)
{
    int64_t d;
    if (cli_parse_duration(v, &d, err) < 0)
        return -1;
    if (d < 0)
        return err_set(err, ERR_INVALID, "duration cannot be negative");
    return 0;
}

/* ---- the flag tables -------------------------------------------------- */

#define F(name, sh, type, usage, def, tn, check)                               \
    {                                                                          \
        name, sh, type, usage, def, tn, check, false                           \
    }

/* Flags common to create and update (addServiceFlags). D(x) is the
 * create-time default, NULL for update. */
#define SERVICE_COMMON_FLAGS(D)                                                \
    F("detach", 'd', CLI_FLAG_BOOL,                                            \
      "Exit immediately instead of waiting for the service to converge", NULL, \
      NULL, NULL),                                                             \
        F("quiet", 'q', CLI_FLAG_BOOL, "Suppress progress output", NULL, NULL, \
          NULL),                                                               \
        F("workdir", 'w', CLI_FLAG_STRING,                                     \
          "Working directory inside the container", NULL, NULL, NULL),         \
        F("user", 'u', CLI_FLAG_STRING,                                        \
          "Username or UID (format: <name|uid>[:<group|gid>])", NULL, NULL,    \
          NULL),                                                               \
        F("hostname", 0, CLI_FLAG_STRING, "Container hostname", NULL, NULL,    \
          NULL),                                                               \
        F("entrypoint", 0, CLI_FLAG_STRING,                                    \
          "Overwrite the default ENTRYPOINT of the image", NULL, "command",    \
          NULL),                                                               \
        F("isolation", 0, CLI_FLAG_STRING, "Service container isolation mode", \
          NULL, NULL, NULL),                                                   \
        F("limit-cpu", 0, CLI_FLAG_DECIMAL, "Limit CPUs", NULL, NULL, NULL),   \
        F("limit-memory", 0, CLI_FLAG_BYTES, "Limit Memory", NULL, NULL,       \
          NULL),                                                               \
        F("limit-pids", 0, CLI_FLAG_INT,                                       \
          "Limit maximum number of processes (default 0 = unlimited)", NULL,   \
          NULL, NULL),                                                         \
        F("reserve-cpu", 0, CLI_FLAG_DECIMAL, "Reserve CPUs", NULL, NULL,      \
          NULL),                                                               \
        F("reserve-memory", 0, CLI_FLAG_BYTES, "Reserve Memory", NULL, NULL,   \
          NULL),                                                               \
        F("stop-grace-period", 0, CLI_FLAG_DURATION,                           \
          "Time to wait before force killing a container (ns|us|ms|s|m|h)",    \
          D("10s"), NULL, NULL),                                               \
        F("replicas", 0, CLI_FLAG_UINT, "Number of tasks", NULL, NULL, NULL),  \
        F("max-concurrent", 0, CLI_FLAG_UINT,                                  \
          "Number of job tasks to run concurrently (default equal to "         \
          "--replicas)",                                                       \
          NULL, NULL, NULL),                                                   \
        F("replicas-max-per-node", 0, CLI_FLAG_UINT,                           \
          "Maximum number of tasks per node (default 0 = unlimited)", NULL,    \
          NULL, NULL),                                                         \
        F("restart-condition", 0, CLI_FLAG_STRING,                             \
          "Restart when condition is met (\"none\", \"on-failure\", \"any\")", \
          D("any"), NULL, NULL),                                               \
        F("restart-delay", 0, CLI_FLAG_DURATION,                               \
          "Delay between restart attempts (ns|us|ms|s|m|h)", D("5s"), NULL,    \
          NULL),                                                               \
        F("restart-max-attempts", 0, CLI_FLAG_UINT,                            \
          "Maximum number of restarts before giving up", NULL, NULL, NULL),    \
        F("restart-window", 0, CLI_FLAG_DURATION,                              \
          "Window used to evaluate the restart policy (ns|us|ms|s|m|h)", NULL, \
          NULL, NULL),                                                         \
        F("update-parallelism", 0, CLI_FLAG_UINT,                              \
          "Maximum number of tasks updated simultaneously (0 to update all "   \
          "at once)",                                                          \
          D("1"), NULL, NULL),                                                 \
        F("update-delay", 0, CLI_FLAG_DURATION,                                \
          "Delay between updates (ns|us|ms|s|m|h)", D("0s"), NULL, NULL),      \
        F("update-monitor", 0, CLI_FLAG_DURATION,                              \
          "Duration after each task update to monitor for failure "            \
          "(ns|us|ms|s|m|h)",                                                  \
          D("5s"), NULL, NULL),                                                \
        F("update-failure-action", 0, CLI_FLAG_STRING,                         \
          "Action on update failure (\"pause\", \"continue\", \"rollback\")",  \
          D("pause"), NULL, NULL),                                             \
        F("update-max-failure-ratio", 0, CLI_FLAG_FLOAT,                       \
          "Failure rate to tolerate during an update", D("0"), NULL, NULL),    \
        F("update-order", 0, CLI_FLAG_STRING,                                  \
          "Update order (\"start-first\", \"stop-first\")", D("stop-first"),   \
          NULL, NULL),                                                         \
        F("rollback-parallelism", 0, CLI_FLAG_UINT,                            \
          "Maximum number of tasks rolled back simultaneously (0 to roll "     \
          "back all at once)",                                                 \
          D("1"), NULL, NULL),                                                 \
        F("rollback-delay", 0, CLI_FLAG_DURATION,                              \
          "Delay between task rollbacks (ns|us|ms|s|m|h)", D("0s"), NULL,      \
          NULL),                                                               \
        F("rollback-monitor", 0, CLI_FLAG_DURATION,                            \
          "Duration after each task rollback to monitor for failure "          \
          "(ns|us|ms|s|m|h)",                                                  \
          D("5s"), NULL, NULL),                                                \
        F("rollback-failure-action", 0, CLI_FLAG_STRING,                       \
          "Action on rollback failure (\"pause\", \"continue\")", D("pause"),  \
          NULL, NULL),                                                         \
        F("rollback-max-failure-ratio", 0, CLI_FLAG_FLOAT,                     \
          "Failure rate to tolerate during a rollback", D("0"), NULL, NULL),   \
        F("rollback-order", 0, CLI_FLAG_STRING,                                \
          "Rollback order (\"start-first\", \"stop-first\")", D("stop-first"), \
          NULL, NULL),                                                         \
        F("endpoint-mode", 0, CLI_FLAG_STRING, "Endpoint mode (vip or dnsrr)", \
          D("vip"), NULL, NULL),                                               \
        F("with-registry-auth", 0, CLI_FLAG_BOOL,                              \
          "Send registry authentication details to swarm agents", NULL, NULL,  \
          NULL),                                                               \
        F("no-resolve-image", 0, CLI_FLAG_BOOL,                                \
          "Do not query the registry to resolve image digest and supported "   \
          "platforms",                                                         \
          NULL, NULL, NULL),                                                   \
        F("log-driver", 0, CLI_FLAG_STRING, "Logging driver for service",      \
          NULL, NULL, NULL),                                                   \
        F("log-opt", 0, CLI_FLAG_LIST, "Logging driver options", NULL, NULL,   \
          NULL),                                                               \
        F("health-cmd", 0, CLI_FLAG_STRING, "Command to run to check health",  \
          NULL, NULL, NULL),                                                   \
        F("health-interval", 0, CLI_FLAG_DURATION,                             \
          "Time between running the check (ms|s|m|h)", NULL, NULL,             \
          check_positive),                                                     \
        F("health-timeout", 0, CLI_FLAG_DURATION,                              \
          "Maximum time to allow one check to run (ms|s|m|h)", NULL, NULL,     \
          check_positive),                                                     \
        F("health-retries", 0, CLI_FLAG_INT,                                   \
          "Consecutive failures needed to report unhealthy", NULL, NULL,       \
          NULL),                                                               \
        F("health-start-period", 0, CLI_FLAG_DURATION,                         \
          "Start period for the container to initialize before counting "      \
          "retries towards unstable (ms|s|m|h)",                               \
          NULL, NULL, check_positive),                                         \
        F("health-start-interval", 0, CLI_FLAG_DURATION,                       \
          "Time between running the check during the start period "            \
          "(ms|s|m|h)",                                                        \
          NULL, NULL, check_positive),                                         \
        F("no-healthcheck", 0, CLI_FLAG_BOOL,                                  \
          "Disable any container-specified HEALTHCHECK", NULL, NULL, NULL),    \
        F("tty", 't', CLI_FLAG_BOOL, "Allocate a pseudo-TTY", NULL, NULL,      \
          NULL),                                                               \
        F("read-only", 0, CLI_FLAG_BOOL,                                       \
          "Mount the container's root filesystem as read only", NULL, NULL,    \
          NULL),                                                               \
        F("stop-signal", 0, CLI_FLAG_STRING, "Signal to stop the container",   \
          NULL, NULL, NULL),                                                   \
        F("cap-add", 0, CLI_FLAG_LIST, "Add Linux capabilities", NULL, NULL,   \
          NULL),                                                               \
        F("cap-drop", 0, CLI_FLAG_LIST, "Drop Linux capabilities", NULL, NULL, \
          NULL),                                                               \
        F("security-opt", 0, CLI_FLAG_LIST,                                    \
          "Security options (seccomp=unconfined|PROFILE.json, "                \
          "no-new-privileges)",                                                \
          NULL, NULL, NULL),                                                   \
        F("no-new-privileges", 0, CLI_FLAG_BOOL,                               \
          "Disable container processes from gaining new privileges", NULL,     \
          NULL, NULL),                                                         \
        F("init", 0, CLI_FLAG_BOOL,                                            \
          "Use an init inside each service container to forward signals and "  \
          "reap processes",                                                    \
          NULL, NULL, NULL),                                                   \
        F("oom-score-adj", 0, CLI_FLAG_INT,                                    \
          "Tune host's OOM preferences (-1000 to 1000) ", NULL, NULL, NULL)

#define DEF_CREATE(x) x
#define DEF_UPDATE(x) NULL

const struct cli_flag cli_service_create_flags[CLI_SERVICE_CREATE_NFLAGS] = {
    SERVICE_COMMON_FLAGS(DEF_CREATE),
    F("mode", 0, CLI_FLAG_STRING,
      "Service mode (\"replicated\", \"global\", \"replicated-job\", "
      "\"global-job\")",
      "replicated", NULL, NULL),
    F("name", 0, CLI_FLAG_STRING, "Service name", NULL, NULL, NULL),
    F("label", 'l', CLI_FLAG_LIST, "Service labels", NULL, NULL, NULL),
    F("container-label", 0, CLI_FLAG_LIST, "Container labels", NULL, NULL,
      NULL),
    F("env", 'e', CLI_FLAG_LIST, "Set environment variables", NULL, NULL,
      check_env),
    F("env-file", 0, CLI_FLAG_LIST, "Read in a file of environment variables",
      NULL, NULL, NULL),
    F("mount", 0, CLI_FLAG_LIST, "Attach a filesystem mount to the service",
      NULL, "mount", check_mount),
    F("constraint", 0, CLI_FLAG_LIST, "Placement constraints", NULL, NULL,
      NULL),
    F("placement-pref", 0, CLI_FLAG_LIST, "Add a placement preference", NULL,
      "pref", check_pref),
    F("network", 0, CLI_FLAG_LIST, "Network attachments", NULL, "network",
      check_network),
    F("secret", 0, CLI_FLAG_LIST, "Specify secrets to expose to the service",
      NULL, "secret", check_secret),
    F("config", 0, CLI_FLAG_LIST,
      "Specify configurations to expose to the service", NULL, "config",
      check_config),
    F("publish", 'p', CLI_FLAG_LIST, "Publish a port as a node port", NULL,
      "port", check_port),
    F("group", 0, CLI_FLAG_LIST,
      "Set one or more supplementary user groups for the container", NULL, NULL,
      NULL),
    F("dns", 0, CLI_FLAG_LIST, "Set custom DNS servers", NULL, NULL, check_ip),
    F("dns-option", 0, CLI_FLAG_LIST, "Set DNS options", NULL, NULL, NULL),
    F("dns-search", 0, CLI_FLAG_LIST, "Set custom DNS search domains", NULL,
      NULL, NULL),
    F("host", 0, CLI_FLAG_LIST,
      "Set one or more custom host-to-IP mappings (host:ip)", NULL, NULL,
      check_host),
    F("sysctl", 0, CLI_FLAG_LIST, "Sysctl options", NULL, NULL, NULL),
    F("ulimit", 0, CLI_FLAG_LIST, "Ulimit options", NULL, "ulimit",
      check_ulimit),
};
_Static_assert(ARRAY_SIZE(cli_service_create_flags) ==
                   CLI_SERVICE_CREATE_NFLAGS,
               "create flag count");

const struct cli_flag cli_service_update_flags[CLI_SERVICE_UPDATE_NFLAGS] = {
    SERVICE_COMMON_FLAGS(DEF_UPDATE),
    F("image", 0, CLI_FLAG_STRING, "Service image tag", NULL, NULL, NULL),
    F("args", 0, CLI_FLAG_STRING, "Service command args", NULL, "command",
      NULL),
    F("rollback", 0, CLI_FLAG_BOOL, "Rollback to previous specification", NULL,
      NULL, NULL),
    F("force", 0, CLI_FLAG_BOOL, "Force update even if no changes require it",
      NULL, NULL, NULL),
    F("env-rm", 0, CLI_FLAG_LIST, "Remove an environment variable", NULL, NULL,
      NULL),
    F("group-rm", 0, CLI_FLAG_LIST,
      "Remove a previously added supplementary user group from the "
      "container",
      NULL, NULL, NULL),
    F("label-rm", 0, CLI_FLAG_LIST, "Remove a label by its key", NULL, NULL,
      NULL),
    F("container-label-rm", 0, CLI_FLAG_LIST,
      "Remove a container label by its key", NULL, NULL, NULL),
    F("mount-rm", 0, CLI_FLAG_LIST, "Remove a mount by its target path", NULL,
      NULL, NULL),
    F("publish-rm", 0, CLI_FLAG_LIST,
      "Remove a published port by its target port", NULL, "port", check_port),
    F("constraint-rm", 0, CLI_FLAG_LIST, "Remove a constraint", NULL, NULL,
      NULL),
    F("dns-rm", 0, CLI_FLAG_LIST, "Remove a custom DNS server", NULL, NULL,
      NULL),
    F("dns-option-rm", 0, CLI_FLAG_LIST, "Remove a DNS option", NULL, NULL,
      NULL),
    F("dns-search-rm", 0, CLI_FLAG_LIST, "Remove a DNS search domain", NULL,
      NULL, NULL),
    F("host-rm", 0, CLI_FLAG_LIST,
      "Remove a custom host-to-IP mapping (\"host:ip\")", NULL, NULL, NULL),
    F("label-add", 0, CLI_FLAG_LIST, "Add or update a service label", NULL,
      NULL, NULL),
    F("container-label-add", 0, CLI_FLAG_LIST,
      "Add or update a container label", NULL, NULL, NULL),
    F("env-add", 0, CLI_FLAG_LIST, "Add or update an environment variable",
      NULL, NULL, check_env),
    F("secret-rm", 0, CLI_FLAG_LIST, "Remove a secret", NULL, NULL, NULL),
    F("secret-add", 0, CLI_FLAG_LIST, "Add or update a secret on a service",
      NULL, "secret", check_secret),
    F("config-rm", 0, CLI_FLAG_LIST, "Remove a configuration file", NULL, NULL,
      NULL),
    F("config-add", 0, CLI_FLAG_LIST,
      "Add or update a config file on a service", NULL, "config", check_config),
    F("mount-add", 0, CLI_FLAG_LIST, "Add or update a mount on a service", NULL,
      "mount", check_mount),
    F("constraint-add", 0, CLI_FLAG_LIST,
      "Add or update a placement constraint", NULL, NULL, NULL),
    F("placement-pref-add", 0, CLI_FLAG_LIST, "Add a placement preference",
      NULL, "pref", check_pref),
    F("placement-pref-rm", 0, CLI_FLAG_LIST, "Remove a placement preference",
      NULL, "pref", check_pref),
    F("network-add", 0, CLI_FLAG_LIST, "Add a network", NULL, "network",
      check_network),
    F("network-rm", 0, CLI_FLAG_LIST, "Remove a network", NULL, NULL, NULL),
    F("publish-add", 0, CLI_FLAG_LIST, "Add or update a published port", NULL,
      "port", check_port),
    F("group-add", 0, CLI_FLAG_LIST,
      "Add an additional supplementary user group to the container", NULL, NULL,
      NULL),
    F("dns-add", 0, CLI_FLAG_LIST, "Add or update a custom DNS server", NULL,
      NULL, check_ip),
    F("dns-option-add", 0, CLI_FLAG_LIST, "Add or update a DNS option", NULL,
      NULL, NULL),
    F("dns-search-add", 0, CLI_FLAG_LIST,
      "Add or update a custom DNS search domain", NULL, NULL, NULL),
    F("host-add", 0, CLI_FLAG_LIST,
      "Add a custom host-to-IP mapping (\"host:ip\")", NULL, NULL, check_host),
    F("sysctl-add", 0, CLI_FLAG_LIST, "Add or update a Sysctl option", NULL,
      NULL, NULL),
    F("sysctl-rm", 0, CLI_FLAG_LIST, "Remove a Sysctl option", NULL, NULL,
      NULL),
    F("ulimit-add", 0, CLI_FLAG_LIST, "Add or update a ulimit option", NULL,
      "ulimit", check_ulimit),
    F("ulimit-rm", 0, CLI_FLAG_LIST, "Remove a ulimit option", NULL, NULL,
      NULL),
};
_Static_assert(ARRAY_SIZE(cli_service_update_flags) ==
                   CLI_SERVICE_UPDATE_NFLAGS,
               "update flag count");
