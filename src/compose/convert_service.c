// SPDX-License-Identifier: Apache-2.0
// One compose service as a Docker Engine ServiceSpec, field by field as the
// docker CLI's convert.Service builds it: container spec (image, command,
// environment, mounts, healthcheck, user, limits...), task template
// (resources, restart policy, placement, networks with the short name as
// alias, log driver), mode, update and rollback configs, endpoint.
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/format.h"
#include "compose/compose_internal.h"

/* Errors at "services.<name>.<key>". */
static int serr(struct cmp_conv *c, const char *svc, const char *key,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int serr(struct cmp_conv *c, const char *svc, const char *key,
                const char *fmt, ...)
{
    char path[CMP_PATH_MAX];
    snprintf(path, sizeof(path), "services.%s%s%s", svc, key ? "." : "",
             key ? key : "");
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return cmp_err(c->err, &c->p->locs, path, "%s: %s", path, msg);
}

/* A Go duration at key of obj into out[out_key] (ns); 0 if absent. */
static int duration(struct cmp_conv *c, const char *svc, const char *key,
                    const json_t *obj, const char *field, json_t *out,
                    const char *out_key)
{
    const char *s = jx_str(obj, field);
    if (!s)
        return 0;
    int64_t ns;
    struct err e = {0};
    if (cli_parse_duration(s, &ns, &e) < 0)
        return serr(c, svc, key, "%s", e.msg);
    json_object_set_new(out, out_key, json_integer(ns));
    return 0;
}

static int cmp_jstr(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a),
                  json_string_value(*(json_t *const *)b));
}

static void sort_strings(json_t *arr)
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return;
    json_t **items = xcalloc(n, sizeof(*items));
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(arr, i));
    qsort(items, n, sizeof(*items), cmp_jstr);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, items[i]);
    free(items);
}

/* ---- container spec pieces ------------------------------------------- */

static json_t *environment(const json_t *svc)
{
    json_t *out = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(svc, "environment"), k, v)
    {
        const char *s = json_string_value(v);
        json_array_append_new(out,
                              s ? json_sprintf("%s=%s", k, s) : json_string(k));
    }
    sort_strings(out);
    return out;
}

static int mount_of(struct cmp_conv *c, const char *svc, size_t idx,
                    const json_t *v, json_t *mounts)
{
    char key[40];
    snprintf(key, sizeof(key), "volumes.%zu", idx);
    const char *type = jx_str(v, "type");
    const char *src = jx_str(v, "source");
    json_t *m = json_object();
    json_object_set_new(m, "Type", json_string(type ? type : "volume"));
    if (src && *src)
        json_object_set_new(m, "Source", json_string(src));
    json_object_set_new(m, "Target", json_string(jx_str0(v, "target")));
    if (jx_bool(v, "read_only", false))
        json_object_set_new(m, "ReadOnly", json_true());
    if (jx_str(v, "consistency"))
        json_object_set_new(m, "Consistency",
                            json_string(jx_str(v, "consistency")));
    json_t *bind = json_object_get(v, "bind");
    json_t *vol = json_object_get(v, "volume");
    json_t *tmpfs = json_object_get(v, "tmpfs");
    const char *problem = NULL;
    if (!*jx_str0(v, "target")) {
        problem = "a mount needs a target";
    } else if (!type || !strcmp(type, "volume")) {
        if (tmpfs)
            problem = "tmpfs options are incompatible with type volume";
        else if (bind)
            problem = "bind options are incompatible with type volume";
        else if (src && *src) {
            json_t *decl =
                json_object_get(json_object_get(c->p->config, "volumes"), src);
            if (!decl) {
                json_decref(m);
                return serr(c, svc, key, "undefined volume \"%s\"", src);
            }
            const char *name = jx_str(decl, "name");
            char *scoped = name ? xstrdup(name) : cmp_scope(c, src);
            json_object_set_new(m, "Source", json_string(scoped));
            free(scoped);
            json_t *opts = json_object();
            if (jx_bool(vol, "nocopy", false))
                json_object_set_new(opts, "NoCopy", json_true());
            if (!jx_bool(decl, "external", false)) {
                json_object_set_new(
                    opts, "Labels",
                    cmp_stack_labels(c, json_object_get(decl, "labels")));
                json_t *dopts =
                    cmp_string_map(json_object_get(decl, "driver_opts"));
                if (jx_str(decl, "driver") || dopts) {
                    json_t *dc = json_object();
                    json_object_set_new(dc, "Name",
                                        json_string(jx_str0(decl, "driver")));
                    if (dopts)
                        json_object_set_new(dc, "Options", dopts);
                    json_object_set_new(opts, "DriverConfig", dc);
                }
            }
            json_object_set_new(m, "VolumeOptions", opts);
        }
    } else if (!strcmp(type, "bind")) {
        if (!src || !*src)
            problem = "invalid bind source, source cannot be empty";
        else if (vol)
            problem = "volume options are incompatible with type bind";
        else if (tmpfs)
            problem = "tmpfs options are incompatible with type bind";
        else if (bind)
            json_object_set_new(m, "BindOptions",
                                json_pack("{s:s}", "Propagation",
                                          jx_str0(bind, "propagation")));
    } else if (!strcmp(type, "tmpfs")) {
        if (src && *src)
            problem = "invalid tmpfs source, source must be empty";
        else if (bind)
            problem = "bind options are incompatible with type tmpfs";
        else if (vol)
            problem = "volume options are incompatible with type tmpfs";
        else if (tmpfs)
            json_object_set_new(
                m, "TmpfsOptions",
                json_pack("{s:I}", "SizeBytes",
                          (json_int_t)jx_int(tmpfs, "size", 0)));
    } else {
        problem = "volume type must be volume, bind or tmpfs";
    }
    if (problem) {
        json_decref(m);
        return serr(c, svc, key, "%s", problem);
    }
    json_array_append_new(mounts, m);
    return 0;
}

/* The service's `tmpfs` paths ("/run" or "/run:size=64m,mode=1777") as
 * tmpfs mounts. */
static int tmpfs_mounts(struct cmp_conv *c, const char *svc, const json_t *list,
                        json_t *mounts)
{
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        char *spec = xstrdup(json_string_value(t) ? json_string_value(t) : "");
        char *opts = strchr(spec, ':');
        if (opts)
            *opts++ = '\0';
        json_t *m = json_pack("{s:s, s:s}", "Type", "tmpfs", "Target", spec);
        json_t *to = json_object();
        char *save = NULL;
        int rc = 0;
        for (char *o = opts ? strtok_r(opts, ",", &save) : NULL; o && !rc;
             o = strtok_r(NULL, ",", &save)) {
            struct err e = {0};
            int64_t size;
            if (!strncmp(o, "size=", 5)) {
                if (cli_parse_ram(o + 5, &size, &e) < 0)
                    rc = serr(c, svc, "tmpfs", "%s", e.msg);
                else
                    json_object_set_new(to, "SizeBytes", json_integer(size));
            } else if (!strncmp(o, "mode=", 5)) {
                char *end;
                long mode = strtol(o + 5, &end, 8);
                if (*end || mode < 0 || mode > 07777)
                    rc = serr(c, svc, "tmpfs", "invalid tmpfs mode: %s", o + 5);
                else
                    json_object_set_new(to, "Mode", json_integer(mode));
            } else if (strcmp(o, "rw") != 0) {
                rc = serr(c, svc, "tmpfs", "unsupported tmpfs option: %s", o);
            }
        }
        if (!*spec)
            rc = serr(c, svc, "tmpfs", "a tmpfs needs a path");
        if (json_object_size(to))
            json_object_set_new(m, "TmpfsOptions", to);
        else
            json_decref(to);
        free(spec);
        if (rc < 0) {
            json_decref(m);
            return -1;
        }
        json_array_append_new(mounts, m);
    }
    return 0;
}

static int healthcheck(struct cmp_conv *c, const char *svc, const json_t *hc,
                       json_t *cs)
{
    if (!json_is_object(hc))
        return 0;
    json_t *test = json_object_get(hc, "test");
    json_t *out = json_object();
    if (jx_bool(hc, "disable", false)) {
        if (json_array_size(test)) {
            json_decref(out);
            return serr(c, svc, "healthcheck",
                        "test and disable can't be set at the same time");
        }
        json_object_set_new(out, "Test", json_pack("[s]", "NONE"));
        json_object_set_new(cs, "Healthcheck", out);
        return 0;
    }
    if (json_array_size(test))
        json_object_set(out, "Test", test);
    if (duration(c, svc, "healthcheck.interval", hc, "interval", out,
                 "Interval") < 0 ||
        duration(c, svc, "healthcheck.timeout", hc, "timeout", out, "Timeout") <
            0 ||
        duration(c, svc, "healthcheck.start_period", hc, "start_period", out,
                 "StartPeriod") < 0 ||
        duration(c, svc, "healthcheck.start_interval", hc, "start_interval",
                 out, "StartInterval") < 0) {
        json_decref(out);
        return -1;
    }
    json_t *retries = json_object_get(hc, "retries");
    if (json_is_number(retries))
        json_object_set_new(out, "Retries", json_integer(cmp_int(retries)));
    json_object_set_new(cs, "Healthcheck", out);
    return 0;
}

/* opts.EffectiveCapAddCapDrop: upper case with CAP_, ALL alone, a cap in
 * both kept added, sorted. */
static json_t *caps(const json_t *list)
{
    json_t *set = json_object();
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *s = json_string_value(x);
        if (!s)
            continue;
        while (isspace((unsigned char)*s))
            s++;
        char *u = xstrdup(s);
        size_t n = strlen(u);
        while (n && isspace((unsigned char)u[n - 1]))
            u[--n] = '\0';
        for (char *p = u; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        if (*u) {
            char *name = strcmp(u, "ALL") && strncmp(u, "CAP_", 4)
                             ? xasprintf("CAP_%s", u)
                             : xstrdup(u);
            json_object_set_new(set, name, json_true());
            free(name);
        }
        free(u);
    }
    if (json_object_get(set, "ALL")) {
        json_object_clear(set);
        json_object_set_new(set, "ALL", json_true());
    }
    return set;
}

static void cap_lists(const json_t *svc, json_t *cs)
{
    json_t *add = caps(json_object_get(svc, "cap_add"));
    json_t *drop = caps(json_object_get(svc, "cap_drop"));
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(drop, tmp, k, v)
    {
        if (json_object_get(add, k))
            json_object_del(drop, k);
    }
    json_t *sets[2] = {add, drop};
    const char *keys[2] = {"CapabilityAdd", "CapabilityDrop"};
    for (int i = 0; i < 2; i++) {
        json_t *arr = json_array();
        json_object_foreach(sets[i], k, v)
        {
            json_array_append_new(arr, json_string(k));
        }
        sort_strings(arr);
        if (json_array_size(arr))
            json_object_set_new(cs, keys[i], arr);
        else
            json_decref(arr);
        json_decref(sets[i]);
    }
}

static json_t *ulimits(const json_t *u)
{
    json_t *names = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)u, k, v)
    {
        json_array_append_new(names, json_string(k));
    }
    sort_strings(names);
    json_t *out = json_array();
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        json_t *l = json_object_get(u, json_string_value(n));
        json_array_append_new(
            out, json_pack("{s:O, s:I, s:I}", "Name", n, "Hard",
                           (json_int_t)jx_int(l, "hard", 0), "Soft",
                           (json_int_t)jx_int(l, "soft", 0)));
    }
    json_decref(names);
    return out;
}

/* convertExtraHosts: "host:ip" -> "ip host". */
static json_t *hosts(const json_t *list)
{
    json_t *out = json_array();
    size_t i;
    json_t *h;
    json_array_foreach(list, i, h)
    {
        const char *s = json_string_value(h);
        const char *sep = s ? strpbrk(s, ":=") : NULL;
        if (sep)
            json_array_append_new(
                out, json_sprintf("%s %.*s", sep + 1, (int)(sep - s), s));
    }
    return out;
}

/* File references of secrets / configs: File {Name, UID, GID, Mode} and
 * the object's name; the caller resolves the ID. */
static int file_refs(struct cmp_conv *c, const char *svc, const json_t *refs,
                     const char *section, const char *name_key, json_t *cs,
                     const char *out_key)
{
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r)
    {
        const char *source = jx_str0(r, "source");
        json_t *decl =
            json_object_get(json_object_get(c->p->config, section), source);
        if (!decl) {
            char key[48];
            snprintf(key, sizeof(key), "%s.%zu", section, i);
            json_decref(out);
            return serr(c, svc, key, "undefined %.*s \"%s\"",
                        (int)strlen(section) - 1, section, source);
        }
        const char *name = jx_str(decl, "name");
        char *scoped = name ? xstrdup(name) : cmp_scope(c, source);
        const char *target = jx_str(r, "target");
        json_t *mode = json_object_get(r, "mode");
        json_t *file =
            json_pack("{s:s, s:s, s:s, s:I}", "Name", target ? target : source,
                      "UID", jx_str(r, "uid") ? jx_str(r, "uid") : "0", "GID",
                      jx_str(r, "gid") ? jx_str(r, "gid") : "0", "Mode",
                      (json_is_number(mode) ? cmp_int(mode) : 0444));
        json_array_append_new(
            out, json_pack("{s:o, s:s}", "File", file, name_key, scoped));
        free(scoped);
    }
    /* sorted by name, so the same file gives the same spec */
    size_t n = json_array_size(out);
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0; b--) {
            json_t *x = json_array_get(out, b - 1), *y = json_array_get(out, b);
            if (strcmp(jx_str0(x, name_key), jx_str0(y, name_key)) <= 0)
                break;
            json_incref(x);
            json_array_set(out, b - 1, y);
            json_array_set_new(out, b, x);
        }
    if (n)
        json_object_set_new(cs, out_key, out);
    else
        json_decref(out);
    return 0;
}

static int container_spec(struct cmp_conv *c, const char *name,
                          const json_t *svc, json_t *cs)
{
    const char *image = jx_str(svc, "image");
    json_object_set_new(cs, "Image", json_string(image));
    json_object_set_new(cs, "Labels",
                        cmp_stack_labels(c, json_object_get(svc, "labels")));
    json_t *v;
    if (json_array_size(v = json_object_get(svc, "entrypoint")))
        json_object_set(cs, "Command", v);
    if (json_array_size(v = json_object_get(svc, "command")))
        json_object_set(cs, "Args", v);
    static const struct {
        const char *from, *to;
    } strs[] = {{"hostname", "Hostname"},
                {"working_dir", "Dir"},
                {"user", "User"},
                {"stop_signal", "StopSignal"},
                {"isolation", "Isolation"}};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (jx_str(svc, strs[i].from) && *jx_str(svc, strs[i].from))
            json_object_set_new(cs, strs[i].to,
                                json_string(jx_str(svc, strs[i].from)));
    json_t *env = environment(svc);
    if (json_array_size(env))
        json_object_set_new(cs, "Env", env);
    else
        json_decref(env);
    json_object_set_new(cs, "Privileges",
                        json_pack("{s:n, s:n, s:b}", "CredentialSpec",
                                  "SELinuxContext", "NoNewPrivileges", 0));
    if (json_is_boolean(v = json_object_get(svc, "init")))
        json_object_set(cs, "Init", v);
    static const struct {
        const char *from, *to;
    } bools[] = {
        {"read_only", "ReadOnly"}, {"tty", "TTY"}, {"stdin_open", "OpenStdin"}};
    for (size_t i = 0; i < 3; i++)
        if (jx_bool(svc, bools[i].from, false))
            json_object_set_new(cs, bools[i].to, json_true());
    if (duration(c, name, "stop_grace_period", svc, "stop_grace_period", cs,
                 "StopGracePeriod") < 0 ||
        healthcheck(c, name, json_object_get(svc, "healthcheck"), cs) < 0)
        return -1;
    if (json_array_size(v = json_object_get(svc, "extra_hosts")))
        json_object_set_new(cs, "Hosts", hosts(v));
    json_t *dns = json_object_get(svc, "dns");
    json_t *search = json_object_get(svc, "dns_search");
    if (json_array_size(dns) || json_array_size(search)) {
        json_t *d = json_object();
        if (json_array_size(dns))
            json_object_set(d, "Nameservers", dns);
        if (json_array_size(search))
            json_object_set(d, "Search", search);
        json_object_set_new(cs, "DNSConfig", d);
    }
    json_t *mounts = json_array();
    size_t i;
    json_array_foreach(json_object_get(svc, "volumes"), i, v)
    {
        if (mount_of(c, name, i, v, mounts) < 0) {
            json_decref(mounts);
            return -1;
        }
    }
    if (tmpfs_mounts(c, name, json_object_get(svc, "tmpfs"), mounts) < 0) {
        json_decref(mounts);
        return -1;
    }
    if (json_array_size(mounts))
        json_object_set_new(cs, "Mounts", mounts);
    else
        json_decref(mounts);
    if (file_refs(c, name, json_object_get(svc, "secrets"), "secrets",
                  "SecretName", cs, "Secrets") < 0 ||
        file_refs(c, name, json_object_get(svc, "configs"), "configs",
                  "ConfigName", cs, "Configs") < 0)
        return -1;
    json_t *sysctls = cmp_string_map(json_object_get(svc, "sysctls"));
    if (sysctls)
        json_object_set_new(cs, "Sysctls", sysctls);
    cap_lists(svc, cs);
    if (json_object_size(v = json_object_get(svc, "ulimits")))
        json_object_set_new(cs, "Ulimits", ulimits(v));
    if (json_is_number(v = json_object_get(svc, "oom_score_adj")))
        json_object_set_new(cs, "OomScoreAdj", json_integer(cmp_int(v)));
    return 0;
}

/* ---- task template and service ---------------------------------------- */

static int resources(struct cmp_conv *c, const char *svc, const json_t *res,
                     json_t *tt)
{
    json_t *out = json_object();
    static const char *const kinds[] = {"limits", "reservations"};
    static const char *const keys[] = {"Limits", "Reservations"};
    for (int i = 0; i < 2; i++) {
        json_t *r = json_object_get(res, kinds[i]);
        if (!json_is_object(r))
            continue;
        json_t *o = json_object();
        struct err e = {0};
        int64_t v;
        char key[64];
        const char *cpus = jx_str(r, "cpus"), *mem = jx_str(r, "memory");
        if (cpus && *cpus) {
            snprintf(key, sizeof(key), "deploy.resources.%s.cpus", kinds[i]);
            if (cli_parse_nanocpus(cpus, &v, &e) < 0) {
                json_decref(o);
                json_decref(out);
                return serr(c, svc, key, "%s", e.msg);
            }
            json_object_set_new(o, "NanoCPUs", json_integer(v));
        }
        if (mem && *mem) {
            snprintf(key, sizeof(key), "deploy.resources.%s.memory", kinds[i]);
            if (cli_parse_ram(mem, &v, &e) < 0) {
                json_decref(o);
                json_decref(out);
                return serr(c, svc, key, "%s", e.msg);
            }
            json_object_set_new(o, "MemoryBytes", json_integer(v));
        }
        if (jx_int(r, "pids", 0))
            json_object_set_new(o, "Pids", json_integer(jx_int(r, "pids", 0)));
        json_t *gen = json_object_get(r, "generic_resources");
        if (json_array_size(gen)) {
            json_t *g = json_array();
            size_t k;
            json_t *x;
            json_array_foreach(gen, k, x)
            {
                json_t *d = json_object_get(x, "discrete_resource_spec");
                json_array_append_new(
                    g, json_pack("{s:{s:s, s:I}}", "DiscreteResourceSpec",
                                 "Kind", jx_str0(d, "kind"), "Value",
                                 (json_int_t)jx_int(d, "value", 0)));
            }
            json_object_set_new(o, "GenericResources", g);
        }
        json_object_set_new(out, keys[i], o);
    }
    json_object_set_new(tt, "Resources", out);
    return 0;
}

/* convertRestartPolicy: deploy.restart_policy, else `restart`. */
static int restart_policy(struct cmp_conv *c, const char *svc, const json_t *s,
                          json_t *tt)
{
    json_t *rp =
        json_object_get(json_object_get(s, "deploy"), "restart_policy");
    json_t *out = json_object();
    if (json_is_object(rp)) {
        if (jx_str(rp, "condition"))
            json_object_set_new(out, "Condition",
                                json_string(jx_str(rp, "condition")));
        if (duration(c, svc, "deploy.restart_policy.delay", rp, "delay", out,
                     "Delay") < 0 ||
            duration(c, svc, "deploy.restart_policy.window", rp, "window", out,
                     "Window") < 0) {
            json_decref(out);
            return -1;
        }
        if (json_object_get(rp, "max_attempts"))
            json_object_set_new(out, "MaxAttempts",
                                json_integer(jx_int(rp, "max_attempts", 0)));
        json_object_set_new(tt, "RestartPolicy", out);
        return 0;
    }
    const char *restart = jx_str(s, "restart");
    if (!restart || !*restart || !strcmp(restart, "no")) {
        json_decref(out);
        return 0;
    }
    if (!strcmp(restart, "always") || !strcmp(restart, "unless-stopped")) {
        json_object_set_new(out, "Condition", json_string("any"));
    } else if (!strncmp(restart, "on-failure", 10) &&
               (!restart[10] || restart[10] == ':')) {
        char *end = NULL;
        long n = restart[10] ? strtol(restart + 11, &end, 10) : 0;
        if (restart[10] && (!restart[11] || *end || n < 0)) {
            json_decref(out);
            return serr(c, svc, "restart", "invalid restart policy: %s",
                        restart);
        }
        json_object_set_new(out, "Condition", json_string("on-failure"));
        json_object_set_new(out, "MaxAttempts", json_integer(n));
    } else {
        json_decref(out);
        return serr(c, svc, "restart", "unknown restart policy: %s", restart);
    }
    json_object_set_new(tt, "RestartPolicy", out);
    return 0;
}

static json_t *placement(const json_t *p)
{
    json_t *out = json_object();
    json_t *v;
    if (json_array_size(v = json_object_get(p, "constraints")))
        json_object_set(out, "Constraints", v);
    json_t *prefs = json_array();
    size_t i;
    json_array_foreach(json_object_get(p, "preferences"), i, v)
    {
        if (jx_str(v, "spread"))
            json_array_append_new(prefs, json_pack("{s:{s:s}}", "Spread",
                                                   "SpreadDescriptor",
                                                   jx_str(v, "spread")));
    }
    if (json_array_size(prefs))
        json_object_set_new(out, "Preferences", prefs);
    else
        json_decref(prefs);
    if (jx_int(p, "max_replicas_per_node", 0))
        json_object_set_new(
            out, "MaxReplicas",
            json_integer(jx_int(p, "max_replicas_per_node", 0)));
    return out;
}

static int networks(struct cmp_conv *c, const char *svc, const json_t *s,
                    json_t *tt)
{
    json_t *nets = json_object_get(s, "networks");
    json_t *want = json_object_size(nets) ? json_incref(nets)
                                          : json_pack("{s:n}", "default");
    json_t *out = json_array();
    const char *key;
    json_t *cfg;
    json_object_foreach(want, key, cfg)
    {
        json_t *decl =
            json_object_get(json_object_get(c->p->config, "networks"), key);
        if (!decl && strcmp(key, "default") != 0) {
            char at[CMP_PATH_MAX];
            snprintf(at, sizeof(at), "networks.%s", key);
            json_decref(want);
            json_decref(out);
            return serr(c, svc, at, "undefined network \"%s\"", key);
        }
        const char *name = jx_str(decl, "name");
        char *target = name ? xstrdup(name) : cmp_scope(c, key);
        json_t *aliases = jx_copy(json_object_get(cfg, "aliases"));
        if (!json_is_array(aliases)) {
            json_decref(aliases);
            aliases = json_array();
        }
        json_array_append_new(aliases, json_string(svc));
        json_t *att =
            json_pack("{s:s, s:o}", "Target", target, "Aliases", aliases);
        json_t *dopts = cmp_string_map(json_object_get(cfg, "driver_opts"));
        if (dopts)
            json_object_set_new(att, "DriverOpts", dopts);
        free(target);
        /* sorted by target, as the docker CLI sends them */
        size_t at = json_array_size(out);
        while (at > 0 && strcmp(jx_str0(json_array_get(out, at - 1), "Target"),
                                jx_str0(att, "Target")) > 0)
            at--;
        json_array_insert_new(out, at, att);
    }
    json_decref(want);
    json_object_set_new(tt, "Networks", out);
    return 0;
}

static json_t *update_config(const json_t *u, struct cmp_conv *c,
                             const char *svc, const char *key, int *rc)
{
    json_t *out = json_object();
    json_object_set_new(out, "Parallelism",
                        json_integer(jx_int(u, "parallelism", 1)));
    char at[64];
    snprintf(at, sizeof(at), "deploy.%s", key);
    if (duration(c, svc, at, u, "delay", out, "Delay") < 0 ||
        duration(c, svc, at, u, "monitor", out, "Monitor") < 0) {
        json_decref(out);
        *rc = -1;
        return NULL;
    }
    if (jx_str(u, "failure_action"))
        json_object_set_new(out, "FailureAction",
                            json_string(jx_str(u, "failure_action")));
    json_t *ratio = json_object_get(u, "max_failure_ratio");
    if (json_is_number(ratio))
        json_object_set_new(out, "MaxFailureRatio",
                            json_real(json_number_value(ratio)));
    if (jx_str(u, "order"))
        json_object_set_new(out, "Order", json_string(jx_str(u, "order")));
    return out;
}

static int mode(struct cmp_conv *c, const char *svc, const json_t *deploy,
                json_t *spec)
{
    const char *m = jx_str(deploy, "mode");
    json_t *replicas = json_object_get(deploy, "replicas");
    if (json_is_number(replicas) && json_number_value(replicas) < 0)
        return serr(c, svc, "deploy.replicas",
                    "replicas must not be "
                    "negative");
    json_t *r =
        json_is_number(replicas) ? json_integer(cmp_int(replicas)) : NULL;
    json_t *out;
    if (!m || !*m || !strcmp(m, "replicated")) {
        out = json_pack("{s:{}}", "Replicated");
        if (r)
            json_object_set(json_object_get(out, "Replicated"), "Replicas", r);
    } else if (!strcmp(m, "global") || !strcmp(m, "global-job")) {
        if (r) {
            json_decref(r);
            return serr(c, svc, "deploy.replicas",
                        "replicas can only be used with replicated or "
                        "replicated-job mode");
        }
        out =
            json_pack("{s:{}}", !strcmp(m, "global") ? "Global" : "GlobalJob");
    } else if (!strcmp(m, "replicated-job")) {
        out = json_pack("{s:{}}", "ReplicatedJob");
        if (r) {
            json_object_set(json_object_get(out, "ReplicatedJob"),
                            "MaxConcurrent", r);
            json_object_set(json_object_get(out, "ReplicatedJob"),
                            "TotalCompletions", r);
        }
    } else {
        json_decref(r);
        return serr(c, svc, "deploy.mode", "Unknown mode: %s", m);
    }
    json_decref(r);
    json_object_set_new(spec, "Mode", out);
    return 0;
}

static json_t *endpoint(const json_t *s)
{
    json_t *out = json_object();
    const char *m = jx_str(json_object_get(s, "deploy"), "endpoint_mode");
    if (m && *m) {
        char *low = xstrdup(m);
        for (char *p = low; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        json_object_set_new(out, "Mode", json_string(low));
        free(low);
    }
    json_t *ports = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(s, "ports"), i, p)
    {
        json_t *pc = json_object();
        if (jx_str(p, "protocol") && *jx_str(p, "protocol"))
            json_object_set_new(pc, "Protocol",
                                json_string(jx_str(p, "protocol")));
        json_object_set_new(pc, "TargetPort",
                            json_integer(jx_int(p, "target", 0)));
        json_object_set_new(pc, "PublishedPort",
                            json_integer(jx_int(p, "published", 0)));
        if (jx_str(p, "mode") && *jx_str(p, "mode"))
            json_object_set_new(pc, "PublishMode",
                                json_string(jx_str(p, "mode")));
        /* stable sort by published port */
        size_t at = json_array_size(ports);
        while (at > 0 && jx_int(json_array_get(ports, at - 1), "PublishedPort",
                                0) > jx_int(pc, "PublishedPort", 0))
            at--;
        json_array_insert_new(ports, at, pc);
    }
    if (json_array_size(ports))
        json_object_set_new(out, "Ports", ports);
    else
        json_decref(ports);
    return out;
}

json_t *cmp_convert_service(struct cmp_conv *c, const char *name,
                            const json_t *svc)
{
    const char *image = jx_str(svc, "image");
    if (!image || !*image) {
        serr(c, name, NULL,
             "image is required (stack deploy does not build images)");
        return NULL;
    }
    json_t *deploy = json_object_get(svc, "deploy");
    char *scoped = cmp_scope(c, name);
    json_t *labels = jx_copy(json_object_get(deploy, "labels"));
    if (!json_is_object(labels)) {
        json_decref(labels);
        labels = json_object();
    }
    json_object_set_new(labels, "com.docker.stack.image", json_string(image));
    json_t *spec = json_pack("{s:s, s:o}", "Name", scoped, "Labels",
                             cmp_stack_labels(c, labels));
    json_decref(labels);
    free(scoped);
    json_t *tt = json_object();
    json_t *cs = json_object();
    json_object_set_new(tt, "ContainerSpec", cs);
    json_object_set_new(spec, "TaskTemplate", tt);
    int rc = 0;
    if (container_spec(c, name, svc, cs) < 0 ||
        resources(c, name, json_object_get(deploy, "resources"), tt) < 0 ||
        restart_policy(c, name, svc, tt) < 0 || networks(c, name, svc, tt) < 0)
        rc = -1;
    if (rc == 0) {
        json_object_set_new(tt, "Placement",
                            placement(json_object_get(deploy, "placement")));
        json_t *log = json_object_get(svc, "logging");
        if (json_is_object(log)) {
            json_t *d = json_pack("{s:s}", "Name", jx_str0(log, "driver"));
            json_t *o = cmp_string_map(json_object_get(log, "options"));
            if (o)
                json_object_set_new(d, "Options", o);
            json_object_set_new(tt, "LogDriver", d);
        }
        json_object_set_new(tt, "ForceUpdate", json_integer(0));
        rc = mode(c, name, deploy, spec);
    }
    static const char *const ucfg[] = {"update_config", "rollback_config"};
    static const char *const ukey[] = {"UpdateConfig", "RollbackConfig"};
    for (int i = 0; i < 2 && rc == 0; i++) {
        json_t *u = json_object_get(deploy, ucfg[i]);
        if (json_is_object(u)) {
            json_t *uc = update_config(u, c, name, ucfg[i], &rc);
            if (uc)
                json_object_set_new(spec, ukey[i], uc);
        }
    }
    if (rc < 0) {
        json_decref(spec);
        return NULL;
    }
    json_object_set_new(spec, "EndpointSpec", endpoint(svc));
    return spec;
}
