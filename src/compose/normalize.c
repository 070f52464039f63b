// SPDX-License-Identifier: Apache-2.0
// A validated compose file made regular, as the docker CLI's loader does
// while it reads sections into its types: environment and labels become
// maps (env_file read in first, empty values taken from the environment),
// command strings are split like a shell, ports / volumes / secrets /
// configs in short syntax become their long form, relative paths become
// absolute, and external names are settled. Merging and conversion then
// see one form only.
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "compose/compose_internal.h"

struct norm {
    const struct compose_opts *o;
    const struct hmap *locs;
    struct vec *warnings;
    struct err *err;
};

/* ---- small helpers ----------------------------------------------------- */

json_t *cmp_list_to_map(const json_t *list, const char *sep)
{
    json_t *m = json_object();
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *s = json_string_value(item);
        if (!s)
            continue;
        const char *at = strstr(s, sep);
        if (at) {
            char *k = xstrndup(s, (size_t)(at - s));
            json_object_set_new(m, k, json_string(at + strlen(sep)));
            free(k);
        } else {
            json_object_set_new(m, s, json_null());
        }
    }
    return m;
}

/* A list_or_dict as a map of strings; null values become def (NULL:
 * JSON null). */
static json_t *as_map(const json_t *v, const char *def)
{
    json_t *m = json_is_array(v) ? cmp_list_to_map(v, "=") : json_object();
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            char *t = cmp_scalar_text(x);
            json_object_set_new(m, k, t ? json_string(t) : json_null());
            free(t);
        }
    }
    if (def) {
        const char *k;
        json_t *x;
        json_object_foreach(m, k, x)
        {
            if (json_is_null(x))
                json_object_set_new(m, k, json_string(def));
        }
    }
    return m;
}

static void string_to_list(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        json_object_set_new(obj, key, json_pack("[O]", v));
}

char *cmp_abs_path(const char *dir, const char *p)
{
    char *joined = p[0] == '/' ? xstrdup(p)
                               : xasprintf("%s/%s", dir && *dir ? dir : "/", p);
    /* filepath.Clean: drop "." and "//", fold "..". */
    char **segs = xcalloc(strlen(joined) + 1, sizeof(char *));
    size_t n = 0;
    for (char *save = NULL, *s = strtok_r(joined, "/", &save); s;
         s = strtok_r(NULL, "/", &save)) {
        if (!strcmp(s, "."))
            continue;
        if (!strcmp(s, "..")) {
            if (n)
                n--;
            continue;
        }
        segs[n++] = s;
    }
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "/%s", segs[i]);
    if (!n)
        buf_putc(&b, '/');
    free(segs);
    free(joined);
    return buf_steal(&b);
}

/* expandUser: a leading "~" is the user's home. Owned. */
static char *expand_user(const struct norm *n, const char *p)
{
    if (p[0] != '~')
        return xstrdup(p);
    const char *home = n->o->home;
    if (!home)
        home = json_string_value(json_object_get(n->o->env, "HOME"));
    return xasprintf("%s%s", home ? home : "", p + 1);
}

/* ---- shellwords ------------------------------------------------------ */

json_t *cmp_shell_split(const char *s, struct err *err)
{
    json_t *out = json_array();
    struct buf w;
    buf_init(&w);
    bool in_word = false;
    char quote = 0;
    for (const char *p = s;; p++) {
        char c = *p;
        if (!c) {
            if (quote) {
                buf_fini(&w);
                json_decref(out);
                err_set(err, ERR_INVALID, "invalid command line string");
                return NULL;
            }
            break;
        }
        if (quote == '\'') {
            if (c == '\'')
                quote = 0;
            else
                buf_putc(&w, c);
            continue;
        }
        if (c == '\\' && p[1] && (quote != '"' || strchr("\"\\$`", p[1]))) {
            buf_putc(&w, *++p);
            in_word = true;
            continue;
        }
        if (quote == '"') {
            if (c == '"')
                quote = 0;
            else
                buf_putc(&w, c);
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (isspace((unsigned char)c)) {
            if (in_word) {
                buf_putc(&w, '\0');
                json_array_append_new(out, json_string(w.data));
                buf_reset(&w);
                in_word = false;
            }
        } else {
            buf_putc(&w, c);
            in_word = true;
        }
    }
    if (in_word) {
        buf_putc(&w, '\0');
        json_array_append_new(out, json_string(w.data));
    }
    buf_fini(&w);
    return out;
}

/* ---- ports ------------------------------------------------------------- */

/* nat.ParsePortRange: "80" or "80-90", 16-bit, start <= end. */
static bool port_range(const char *s, unsigned *lo, unsigned *hi)
{
    const char *dash = strchr(s, '-');
    char *end;
    if (!*s || !isdigit((unsigned char)*s))
        return false;
    unsigned long a = strtoul(s, &end, 10);
    if (end != (dash ? dash : s + strlen(s)) || a > 65535)
        return false;
    unsigned long b = a;
    if (dash) {
        if (!isdigit((unsigned char)dash[1]))
            return false;
        b = strtoul(dash + 1, &end, 10);
        if (*end || b > 65535 || b < a)
            return false;
    }
    *lo = (unsigned)a;
    *hi = (unsigned)b;
    return true;
}

json_t *cmp_parse_ports(const char *spec, struct err *err)
{
    char *raw = xstrdup(spec);
    char *parts[64];
    size_t n = 0;
    for (char *p = raw;;) {
        if (n == sizeof(parts) / sizeof(parts[0])) {
            free(raw);
            return err_set(err, ERR_INVALID, "invalid port: %s", spec), NULL;
        }
        parts[n++] = p;
        char *colon = strchr(p, ':');
        if (!colon)
            break;
        *colon = '\0';
        p = colon + 1;
    }
    /* splitParts: [ip:][host:]container, an IPv6 ip keeping its colons. */
    const char *container = parts[n - 1];
    const char *host = n >= 2 ? parts[n - 2] : "";
    char ip[200] = "";
    for (size_t i = 0; n >= 3 && i + 2 < n; i++)
        snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip), "%s%s", i ? ":" : "",
                 parts[i]);
    char cport[32], proto[16] = "tcp";
    const char *slash = strchr(container, '/');
    if (slash) {
        snprintf(cport, sizeof(cport), "%.*s", (int)(slash - container),
                 container);
        snprintf(proto, sizeof(proto), "%s", slash + 1);
        for (char *p = proto; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    } else {
        snprintf(cport, sizeof(cport), "%s", container);
    }
    json_t *out = NULL;
    unsigned clo, chi, hlo = 0, hhi = 0;
    if (ip[0]) {
        /* the address must parse; swarm then publishes on every address */
        char addr[200];
        size_t l = strlen(ip);
        if (ip[0] == '[' && l >= 2 && ip[l - 1] == ']')
            snprintf(addr, sizeof(addr), "%.*s", (int)(l - 2), ip + 1);
        else
            snprintf(addr, sizeof(addr), "%s", ip);
        unsigned char bin[16];
        if (inet_pton(AF_INET, addr, bin) != 1 &&
            inet_pton(AF_INET6, addr, bin) != 1) {
            err_set(err, ERR_INVALID, "invalid IP address: %s", ip);
            goto done;
        }
    }
    if (!cport[0]) {
        err_set(err, ERR_INVALID, "no port specified: %s<empty>", spec);
    } else if (!port_range(cport, &clo, &chi)) {
        err_set(err, ERR_INVALID, "invalid containerPort: %s", cport);
    } else if (*host && !port_range(host, &hlo, &hhi)) {
        err_set(err, ERR_INVALID, "invalid hostPort: %s", host);
    } else if (*host && chi - clo != hhi - hlo && chi != clo) {
        err_set(err, ERR_INVALID,
                "invalid ranges specified for container and host Ports: %s "
                "and %s",
                cport, host);
    } else if (strcmp(proto, "tcp") && strcmp(proto, "udp") &&
               strcmp(proto, "sctp")) {
        err_set(err, ERR_INVALID, "invalid proto: %s", proto);
    } else {
        out = json_array();
        for (unsigned p = clo; p <= chi; p++) {
            /* One container port with a host range: every host port of
             * the range to it; otherwise port by port. */
            unsigned from = *host ? (clo == chi ? hlo : hlo + (p - clo)) : 0;
            unsigned to = *host ? (clo == chi ? hhi : from) : 0;
            for (unsigned h = from; h <= to; h++)
                json_array_append_new(
                    out, json_pack("{s:s, s:i, s:i, s:s}", "mode", "ingress",
                                   "target", (json_int_t)p, "published",
                                   (json_int_t)h, "protocol", proto));
        }
    }
done:
    free(raw);
    return out;
}

static int norm_ports(struct norm *n, json_t *svc, const char *path)
{
    json_t *ports = json_object_get(svc, "ports");
    if (!json_is_array(ports))
        return 0;
    json_t *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(ports, i, p)
    {
        if (json_is_object(p)) {
            json_array_append(out, p);
            continue;
        }
        char *text = cmp_scalar_text(p);
        json_t *list = text ? cmp_parse_ports(text, n->err) : NULL;
        free(text);
        if (!list) {
            json_decref(out);
            char at[CMP_PATH_MAX];
            snprintf(at, sizeof(at), "%s.ports.%zu", path, i);
            char msg[sizeof(n->err->msg)];
            snprintf(msg, sizeof(msg), "%s", n->err->msg);
            return cmp_err(n->err, n->locs, at, "%s %s", at, msg);
        }
        json_array_extend(out, list);
        json_decref(list);
    }
    json_object_set_new(svc, "ports", out);
    return 0;
}

/* ---- volumes ----------------------------------------------------------- */

static bool is_bind_option(const char *o)
{
    static const char *const opts[] = {
        "rprivate", "private", "rshared", "shared", "rslave", "slave", NULL};
    for (const char *const *p = opts; *p; p++)
        if (!strcmp(o, *p))
            return true;
    return false;
}

json_t *cmp_parse_volume(const char *spec, struct err *err)
{
    size_t len = strlen(spec);
    if (len == 0)
        return err_set(err, ERR_INVALID, "invalid empty volume spec"), NULL;
    json_t *v = json_object();
    if (len <= 2) {
        json_object_set_new(v, "type", json_string("volume"));
        json_object_set_new(v, "target", json_string(spec));
        return v;
    }
    char *raw = xstrdup(spec);
    char *fields[3] = {NULL, NULL, NULL};
    size_t nf = 0;
    const char *problem = NULL;
    for (char *p = raw, *start = raw;; p++) {
        if (*p != ':' && *p != '\0')
            continue;
        bool last = *p == '\0';
        *p = '\0';
        if (!*start) {
            problem = "empty section between colons";
            break;
        }
        if (nf == 3) {
            problem = "too many colons";
            break;
        }
        fields[nf++] = start;
        start = p + 1;
        if (last)
            break;
    }
    if (!problem && nf == 3) {
        /* the mode: ro, rw, nocopy, propagation; others ignored */
        char *save = NULL;
        for (char *o = strtok_r(fields[2], ",", &save); o;
             o = strtok_r(NULL, ",", &save)) {
            if (!strcmp(o, "ro"))
                json_object_set_new(v, "read_only", json_true());
            else if (!strcmp(o, "rw"))
                json_object_set_new(v, "read_only", json_false());
            else if (!strcmp(o, "nocopy"))
                json_object_set_new(v, "volume",
                                    json_pack("{s:b}", "nocopy", 1));
            else if (is_bind_option(o))
                json_object_set_new(v, "bind",
                                    json_pack("{s:s}", "propagation", o));
        }
    }
    if (problem) {
        err_set(err, ERR_INVALID, "invalid spec: %s: %s", spec, problem);
        free(raw);
        json_decref(v);
        return NULL;
    }
    const char *source = nf >= 2 ? fields[0] : NULL;
    const char *target = nf >= 2 ? fields[1] : fields[0];
    bool file = source && strchr("./~", source[0]);
    json_object_set_new(v, "type", json_string(file ? "bind" : "volume"));
    if (source)
        json_object_set_new(v, "source", json_string(source));
    json_object_set_new(v, "target", json_string(target));
    free(raw);
    return v;
}

static int norm_volumes(struct norm *n, json_t *svc, const char *path)
{
    json_t *vols = json_object_get(svc, "volumes");
    if (!json_is_array(vols))
        return 0;
    size_t i;
    json_t *v;
    json_array_foreach(vols, i, v)
    {
        char at[CMP_PATH_MAX];
        snprintf(at, sizeof(at), "%s.volumes.%zu", path, i);
        json_t *lv = json_is_string(v)
                         ? cmp_parse_volume(json_string_value(v), n->err)
                         : json_incref(v);
        if (!lv) {
            char msg[sizeof(n->err->msg)];
            snprintf(msg, sizeof(msg), "%s", n->err->msg);
            return cmp_err(n->err, n->locs, at, "%s %s", at, msg);
        }
        const char *type = jx_str0(lv, "type");
        const char *src = jx_str(lv, "source");
        if (!strcmp(type, "bind")) {
            if (!src || !*src) {
                json_decref(lv);
                return cmp_err(n->err, n->locs, at,
                               "%s: invalid mount config for type \"bind\": "
                               "field Source must not be empty",
                               at);
            }
            char *e = expand_user(n, src);
            char *abs = cmp_abs_path(n->o->workdir, e);
            json_object_set_new(lv, "source", json_string(abs));
            free(abs);
            free(e);
        }
        json_array_set_new(vols, i, lv);
    }
    return 0;
}

/* ---- environment ------------------------------------------------------- */

static int norm_environment(struct norm *n, json_t *svc, const char *path)
{
    json_t *env = json_object();
    string_to_list(svc, "env_file");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(svc, "env_file"), i, f)
    {
        const char *name = json_string_value(f);
        char at[CMP_PATH_MAX];
        snprintf(at, sizeof(at), "%s.env_file.%zu", path, i);
        if (!name || !n->o->read) {
            json_decref(env);
            return cmp_err(n->err, n->locs, at, "%s: cannot read env files",
                           at);
        }
        char *abs = cmp_abs_path(n->o->workdir, name);
        size_t len = 0;
        char *text = n->o->read(n->o->read_ud, abs, &len, n->err);
        int rc =
            text ? cmp_envfile_parse(name, text, len, n->o->env, env, n->err)
                 : -1;
        free(text);
        free(abs);
        if (rc < 0) {
            char msg[sizeof(n->err->msg)];
            snprintf(msg, sizeof(msg), "%s", n->err->msg);
            json_decref(env);
            return cmp_err(n->err, n->locs, at, "%s: %s", at, msg);
        }
    }
    json_object_del(svc, "env_file");
    json_t *given = as_map(json_object_get(svc, "environment"), NULL);
    json_t *from_files = env;
    env = json_object();
    json_object_update(from_files, given);
    json_decref(given);
    given = from_files;
    const char *k;
    json_t *v;
    json_object_foreach(given, k, v)
    {
        /* updateEnvironment: an empty value comes from the environment
         * when set there. */
        const char *s = json_string_value(v);
        json_t *from = json_object_get(n->o->env, k);
        if ((!s || !*s) && json_is_string(from))
            json_object_set(env, k, from);
        else
            json_object_set(env, k, v);
    }
    json_decref(given);
    if (json_object_size(env) || json_object_get(svc, "environment"))
        json_object_set_new(svc, "environment", env);
    else
        json_decref(env);
    return 0;
}

/* ---- a service ----------------------------------------------------------- */

static int norm_command(struct norm *n, json_t *svc, const char *key,
                        const char *path)
{
    json_t *v = json_object_get(svc, key);
    if (!json_is_string(v))
        return 0;
    json_t *words = cmp_shell_split(json_string_value(v), n->err);
    if (!words) {
        char at[CMP_PATH_MAX];
        snprintf(at, sizeof(at), "%s.%s", path, key);
        return cmp_err(n->err, n->locs, at, "%s: invalid command line string",
                       at);
    }
    json_object_set_new(svc, key, words);
    return 0;
}

static void norm_refs(json_t *svc, const char *key)
{
    json_t *refs = json_object_get(svc, key);
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r)
    {
        if (json_is_string(r))
            json_array_set_new(refs, i, json_pack("{s:O}", "source", r));
    }
}

static int norm_service(struct norm *n, const char *name, json_t *svc)
{
    char path[CMP_PATH_MAX];
    snprintf(path, sizeof(path), "services.%s", name);
    if (norm_environment(n, svc, path) < 0 || norm_ports(n, svc, path) < 0 ||
        norm_volumes(n, svc, path) < 0 ||
        norm_command(n, svc, "command", path) < 0 ||
        norm_command(n, svc, "entrypoint", path) < 0)
        return -1;
    static const char *const map_keys[] = {"labels", "sysctls"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(svc, map_keys[i]);
        if (v)
            json_object_set_new(svc, map_keys[i], as_map(v, ""));
    }
    json_t *deploy = json_object_get(svc, "deploy");
    if (json_is_null(deploy))
        json_object_set_new(svc, "deploy", deploy = json_object());
    if (json_object_get(deploy, "labels"))
        json_object_set_new(deploy, "labels",
                            as_map(json_object_get(deploy, "labels"), ""));
    json_t *hosts = json_object_get(svc, "extra_hosts");
    if (json_is_object(hosts)) {
        /* mapping form "host: ip" -> "host:ip", in key order */
        json_t *list = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(hosts, k, v)
        {
            char *t = cmp_scalar_text(v);
            json_array_append_new(list, json_sprintf("%s:%s", k, t ? t : ""));
            free(t);
        }
        json_object_set_new(svc, "extra_hosts", list);
    }
    static const char *const lists[] = {"dns", "dns_search", "tmpfs"};
    for (size_t i = 0; i < 3; i++)
        string_to_list(svc, lists[i]);
    json_t *hc = json_object_get(svc, "healthcheck");
    if (json_is_string(json_object_get(hc, "test")))
        json_object_set_new(
            hc, "test",
            json_pack("[s, O]", "CMD-SHELL", json_object_get(hc, "test")));
    norm_refs(svc, "secrets");
    norm_refs(svc, "configs");
    json_t *nets = json_object_get(svc, "networks");
    if (json_is_array(nets)) {
        json_t *m = json_object();
        size_t i;
        json_t *x;
        json_array_foreach(nets, i, x)
        {
            if (json_is_string(x))
                json_object_set_new(m, json_string_value(x), json_null());
        }
        json_object_set_new(svc, "networks", m);
    }
    json_t *ul = json_object_get(svc, "ulimits");
    const char *k;
    json_t *v;
    json_object_foreach(ul, k, v)
    {
        if (json_is_number(v))
            json_object_set_new(ul, k,
                                json_pack("{s:O, s:O}", "soft", v, "hard", v));
    }
    return 0;
}

/* ---- top-level objects ------------------------------------------------- */

/* external: {name} (deprecated) and name, as the loader settles them. */
static int norm_external(struct norm *n, const char *kind, const char *key,
                         json_t *obj)
{
    json_t *ext = json_object_get(obj, "external");
    char at[CMP_PATH_MAX];
    snprintf(at, sizeof(at), "%ss.%s", kind, key);
    if (json_is_object(ext)) {
        const char *old = jx_str(ext, "name");
        if (old) {
            if (jx_str(obj, "name"))
                return cmp_err(n->err, n->locs, at,
                               "%s %s: %s.external.name and %s.name conflict; "
                               "only use %s.name",
                               kind, key, kind, kind, kind);
            vec_push(n->warnings,
                     xasprintf("%s %s: %s.external.name is deprecated in "
                               "favor of %s.name",
                               kind, key, kind, kind));
            json_object_set_new(obj, "name", json_string(old));
        }
        json_object_set_new(obj, "external", json_true());
        ext = json_object_get(obj, "external");
    }
    if (!json_is_true(ext))
        return 0;
    if (!jx_str(obj, "name"))
        json_object_set_new(obj, "name", json_string(key));
    static const char *const conflicts[] = {"driver", "driver_opts", "labels",
                                            "ipam", "file"};
    for (size_t i = 0; i < sizeof(conflicts) / sizeof(conflicts[0]); i++) {
        json_t *c = json_object_get(obj, conflicts[i]);
        if (c && !(json_is_object(c) && !json_object_size(c)))
            return cmp_err(n->err, n->locs, at,
                           "conflicting parameters \"external\" and \"%s\" "
                           "specified for %s \"%s\"",
                           conflicts[i], kind, key);
    }
    return 0;
}

static int norm_top(struct norm *n, json_t *config, const char *section,
                    const char *kind)
{
    json_t *objs = json_object_get(config, section);
    const char *key;
    json_t *obj;
    json_object_foreach(objs, key, obj)
    {
        if (json_is_null(obj)) {
            json_object_set_new(objs, key, json_object());
            obj = json_object_get(objs, key);
        }
        if (json_object_get(obj, "labels"))
            json_object_set_new(obj, "labels",
                                as_map(json_object_get(obj, "labels"), ""));
        if (norm_external(n, kind, key, obj) < 0)
            return -1;
        const char *file = jx_str(obj, "file");
        if (file && !json_is_true(json_object_get(obj, "external"))) {
            char *abs = cmp_abs_path(n->o->workdir, file);
            json_object_set_new(obj, "file", json_string(abs));
            free(abs);
        }
    }
    return 0;
}

int cmp_normalize(json_t *config, const struct compose_opts *o,
                  const struct hmap *locs, struct vec *warnings,
                  struct err *err)
{
    struct norm n = {o, locs, warnings, err};
    const char *name;
    json_t *svc;
    json_object_foreach(json_object_get(config, "services"), name, svc)
    {
        if (norm_service(&n, name, svc) < 0)
            return -1;
    }
    if (norm_top(&n, config, "networks", "network") < 0 ||
        norm_top(&n, config, "volumes", "volume") < 0 ||
        norm_top(&n, config, "secrets", "secret") < 0 ||
        norm_top(&n, config, "configs", "config") < 0)
        return -1;
    return 0;
}
