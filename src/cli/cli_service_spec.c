// SPDX-License-Identifier: Apache-2.0
// Service flags to ServiceSpec, following the docker CLI 28's conversion
// (cli/command/service/opts.go and update.go): the defaults it fills in
// (restart policy, update/rollback config), the order it sorts merged lists
// in, and its error messages. The option syntaxes and flag tables are in
// cli_service_opts.c; the result goes through cli_go_canon so the JSON
// matches docker's byte for byte.
#include "cli/cli_service_spec.h"
#include "cli/cli_secopt.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/vec.h"
#include "cli/format.h"

/* ---- small helpers ---------------------------------------------------- */

static bool changed(const struct cli_flags *fl, const char *name)
{
    return cli_flag_changed(fl, name);
}

static bool any_changed(const struct cli_flags *fl, const char *const *names)
{
    for (; *names; names++) {
        if (changed(fl, *names))
            return true;
    }
    return false;
}

static const struct vec *list(const struct cli_flags *fl, const char *name)
{
    return cli_flag_list(fl, name);
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* go-shlex Split: shell-like words with quotes and backslashes. */
static json_t *shlex_split(const char *s, struct err *err)
{
    json_t *words = json_array();
    struct buf w;
    buf_init(&w);
    bool in_word = false;
    for (const char *p = s; *p; p++) {
        if (isspace((unsigned char)*p)) {
            if (in_word) {
                json_array_append_new(words, json_string(w.data ? w.data : ""));
                buf_reset(&w);
                in_word = false;
            }
            continue;
        }
        in_word = true;
        if (*p == '\\') {
            if (p[1]) {
                p++;
                buf_putc(&w, *p);
            }
            continue;
        }
        if (*p == '\'') {
            const char *e = strchr(p + 1, '\'');
            if (!e)
                goto unclosed;
            buf_append(&w, p + 1, (size_t)(e - p - 1));
            p = e;
            continue;
        }
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' ||
                                   p[1] == '`')) {
                    p++;
                }
                buf_putc(&w, *p++);
            }
            if (!*p)
                goto unclosed;
            continue;
        }
        buf_putc(&w, *p);
    }
    if (in_word)
        json_array_append_new(words, json_string(w.data ? w.data : ""));
    buf_fini(&w);
    return words;
unclosed:
    buf_fini(&w);
    json_decref(words);
    err_set(err, ERR_INVALID, "EOF found when expecting closing quote");
    return NULL;
}

static json_t *kv_map(const struct vec *v)
{
    json_t *m = json_object();
    for (size_t i = 0; i < v->len; i++)
        cli_kv_into(m, v->items[i]);
    return m;
}

static json_t *str_array(const struct vec *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->len; i++)
        json_array_append_new(a, json_string(v->items[i]));
    return a;
}

static int64_t ns_of(const struct cli_flags *fl, const char *name)
{
    return cli_flag_duration(fl, name);
}

static int64_t int_of_parsed(const struct cli_flags *fl, const char *name)
{
    const struct cli_flag *d = cli_flags_def(fl, name);
    const char *s = cli_flag_str(fl, name);
    int64_t v = 0;
    if (!d || !s)
        return 0;
    switch (d->type) {
    case CLI_FLAG_BYTES:
        cli_parse_ram(s, &v, NULL);
        break;
    case CLI_FLAG_DECIMAL:
        cli_parse_nanocpus(s, &v, NULL);
        break;
    case CLI_FLAG_DURATION:
        cli_parse_duration(s, &v, NULL);
        break;
    case CLI_FLAG_UINT:
        v = (int64_t)cli_flag_uint(fl, name);
        break;
    default:
        v = cli_flag_int(fl, name);
    }
    return v;
}

/* ---- create ----------------------------------------------------------- */

/* opts.ValidateEnv: "KEY" takes its value from our environment if set. */
static char *env_value(const char *v)
{
    if (strchr(v, '='))
        return xstrdup(v);
    const char *e = getenv(v);
    return e ? xasprintf("%s=%s", v, e) : xstrdup(v);
}

/* opts.ParseEnvFile. */
static int read_env_file(const char *path, json_t *out, struct err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return err_sys(err, errno, "open %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        char *p = line;
        if (lineno == 1 && !strncmp(p, "\xef\xbb\xbf", 3))
            p += 3;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        size_t klen = eq ? (size_t)(eq - p) : strlen(p);
        for (size_t i = 0; i < klen; i++) {
            if (isspace((unsigned char)p[i])) {
                free(line);
                fclose(f);
                return err_set(err, ERR_INVALID,
                               "variable '%.*s' contains whitespaces",
                               (int)klen, p);
            }
        }
        if (eq) {
            json_array_append_new(out, json_string(p));
        } else {
            const char *e = getenv(p);
            if (e) {
                char *kv = xasprintf("%s=%s", p, e);
                json_array_append_new(out, json_string(kv));
                free(kv);
            }
        }
    }
    free(line);
    fclose(f);
    return 0;
}

static size_t key_len(const char *kv)
{
    return strcspn(kv, "=");
}

static json_t *build_env(const struct cli_flags *fl, const char *env_flag,
                         struct err *err)
{
    json_t *vars = json_array();
    const struct vec *files = list(fl, "env-file");
    for (size_t i = 0; i < files->len; i++) {
        if (read_env_file(files->items[i], vars, err) < 0) {
            json_decref(vars);
            return NULL;
        }
    }
    const struct vec *env = list(fl, env_flag);
    for (size_t i = 0; i < env->len; i++) {
        char *v = env_value(env->items[i]);
        json_array_append_new(vars, json_string(v));
        free(v);
    }
    /* Later values replace earlier ones with the same key. */
    json_t *cur = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(vars, i, v)
    {
        const char *e = cli_jstr(v);
        size_t kl = key_len(e);
        for (size_t j = 0; j < json_array_size(cur);) {
            const char *c = cli_jstr(json_array_get(cur, j));
            if (strcmp(c, e) != 0 && strncmp(c, e, kl) == 0 && c[kl] == '=')
                json_array_remove(cur, j);
            else
                j++;
        }
        json_array_append(cur, v);
    }
    json_decref(vars);
    return cur;
}

/* opts.NormalizeCapability. */
static char *norm_cap(const char *c)
{
    while (isspace((unsigned char)*c))
        c++;
    char *u = xstrdup(c);
    size_t n = strlen(u);
    while (n && isspace((unsigned char)u[n - 1]))
        u[--n] = '\0';
    for (char *p = u; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (!strcmp(u, "ALL") || !strcmp(u, "RESET") || !strncmp(u, "CAP_", 4))
        return u;
    char *r = xasprintf("CAP_%s", u);
    free(u);
    return r;
}

static int cmp_json_str(const void *a, const void *b)
{
    return strcmp(cli_jstr(*(json_t *const *)a), cli_jstr(*(json_t *const *)b));
}

/* Sorts a JSON array of strings in place. */
static void sort_strings(json_t *arr)
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return;
    json_t **items = xcalloc(n, sizeof(json_t *));
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(arr, i));
    qsort(items, n, sizeof(json_t *), cmp_json_str);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, items[i]);
    free(items);
}

static bool arr_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (strcmp(cli_jstr(v), s) == 0)
            return true;
    }
    return false;
}

/* A set of normalised capabilities as a sorted, deduplicated array. */
static json_t *cap_set(const struct vec *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->len; i++) {
        char *c = norm_cap(v->items[i]);
        if (*c && !arr_has(a, c))
            json_array_append_new(a, json_string(c));
        free(c);
    }
    return a;
}

/* opts.EffectiveCapAddCapDrop. */
static void effective_caps(const struct vec *add_v, const struct vec *drop_v,
                           json_t **add_out, json_t **drop_out)
{
    json_t *add = cap_set(add_v), *drop = cap_set(drop_v);
    if (arr_has(add, "ALL")) {
        json_array_clear(add);
        json_array_append_new(add, json_string("ALL"));
    }
    if (arr_has(drop, "ALL")) {
        json_array_clear(drop);
        json_array_append_new(drop, json_string("ALL"));
    }
    for (size_t j = 0; j < json_array_size(drop);) {
        if (arr_has(add, cli_jstr(json_array_get(drop, j))))
            json_array_remove(drop, j);
        else
            j++;
    }
    sort_strings(add);
    sort_strings(drop);
    *add_out = add;
    *drop_out = drop;
}

static int cmp_ulimit(const void *a, const void *b)
{
    return strcmp(jx_str0(*(json_t *const *)a, "Name"),
                  jx_str0(*(json_t *const *)b, "Name"));
}

/* Puts ulimits keyed by name (later wins) sorted by name into arr. */
static void ulimits_sorted(json_t *byname, json_t *arr)
{
    size_t n = json_object_size(byname), i = 0;
    json_t **items = xcalloc(n + 1, sizeof(json_t *));
    const char *k;
    json_t *v;
    json_object_foreach(byname, k, v)
    {
        items[i++] = v;
    }
    qsort(items, n, sizeof(json_t *), cmp_ulimit);
    for (i = 0; i < n; i++)
        json_array_append(arr, items[i]);
    free(items);
}

/* toHealthConfig: *out is NULL when no healthcheck was asked for. */
static int healthcheck(const struct cli_flags *fl, json_t **out,
                       struct err *err)
{
    const char *cmd = cli_flag_str(fl, "health-cmd");
    static const char *const durs[] = {"health-interval", "health-timeout",
                                       "health-start-period",
                                       "health-start-interval", NULL};
    bool settings = (cmd && *cmd) || any_changed(fl, durs) ||
                    cli_flag_int(fl, "health-retries") != 0;
    *out = NULL;
    if (cli_flag_bool(fl, "no-healthcheck")) {
        if (settings)
            return err_set(err, ERR_INVALID,
                           "--no-healthcheck conflicts with --health-* "
                           "options");
        json_t *h = json_object();
        json_t *t = json_array();
        json_array_append_new(t, json_string("NONE"));
        json_object_set_new(h, "Test", t);
        *out = h;
        return 0;
    }
    if (!settings)
        return 0;
    json_t *h = json_object();
    if (cmd && *cmd) {
        json_t *t = json_array();
        json_array_append_new(t, json_string("CMD-SHELL"));
        json_array_append_new(t, json_string(cmd));
        json_object_set_new(h, "Test", t);
    }
    json_object_set_new(h, "Interval",
                        json_integer(ns_of(fl, "health-interval")));
    json_object_set_new(h, "Timeout",
                        json_integer(ns_of(fl, "health-timeout")));
    json_object_set_new(h, "StartPeriod",
                        json_integer(ns_of(fl, "health-start-period")));
    json_object_set_new(h, "StartInterval",
                        json_integer(ns_of(fl, "health-start-interval")));
    json_object_set_new(h, "Retries",
                        json_integer(cli_flag_int(fl, "health-retries")));
    *out = h;
    return 0;
}

/* swarmkit's defaults for UpdateConfig / RollbackConfig. */
static json_t *update_config_defaults(void)
{
    json_t *u = json_object();
    json_object_set_new(u, "Parallelism", json_integer(1));
    json_object_set_new(u, "FailureAction", json_string("pause"));
    json_object_set_new(u, "Monitor", json_integer(5 * 1000000000LL));
    json_object_set_new(u, "MaxFailureRatio", json_integer(0));
    json_object_set_new(u, "Order", json_string("stop-first"));
    return u;
}

static void set_float(json_t *o, const char *key, const char *s)
{
    double d = s ? strtod(s, NULL) : 0;
    float f = (float)d;
    if (f == 0)
        json_object_set_new(o, key, json_integer(0));
    else
        json_object_set_new(o, key, json_real((double)f));
}

/* Applies the changed update-/rollback- flags to cfg (prefix "update" or
 * "rollback"). */
static void apply_update_config(const struct cli_flags *fl, const char *pfx,
                                json_t *cfg)
{
    char name[64];
    snprintf(name, sizeof(name), "%s-parallelism", pfx);
    if (changed(fl, name))
        json_object_set_new(cfg, "Parallelism",
                            json_integer((json_int_t)cli_flag_uint(fl, name)));
    snprintf(name, sizeof(name), "%s-delay", pfx);
    if (changed(fl, name))
        json_object_set_new(cfg, "Delay", json_integer(ns_of(fl, name)));
    snprintf(name, sizeof(name), "%s-monitor", pfx);
    if (changed(fl, name))
        json_object_set_new(cfg, "Monitor", json_integer(ns_of(fl, name)));
    snprintf(name, sizeof(name), "%s-failure-action", pfx);
    if (changed(fl, name))
        json_object_set_new(cfg, "FailureAction",
                            json_string(cli_flag_str(fl, name)));
    snprintf(name, sizeof(name), "%s-max-failure-ratio", pfx);
    if (changed(fl, name))
        set_float(cfg, "MaxFailureRatio", cli_flag_str(fl, name));
    snprintf(name, sizeof(name), "%s-order", pfx);
    if (changed(fl, name))
        json_object_set_new(cfg, "Order", json_string(cli_flag_str(fl, name)));
}

static bool update_flags_changed(const struct cli_flags *fl, const char *pfx)
{
    static const char *const sfx[] = {"parallelism",       "delay",
                                      "monitor",           "failure-action",
                                      "max-failure-ratio", "order"};
    for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s-%s", pfx, sfx[i]);
        if (changed(fl, name))
            return true;
    }
    return false;
}

static json_t *restart_defaults(void)
{
    json_t *r = json_object();
    json_object_set_new(r, "Condition", json_string("any"));
    json_object_set_new(r, "Delay", json_integer(5 * 1000000000LL));
    json_object_set_new(r, "MaxAttempts", json_integer(0));
    return r;
}

static void apply_restart(const struct cli_flags *fl, json_t *r)
{
    if (changed(fl, "restart-condition"))
        json_object_set_new(r, "Condition",
                            json_string(cli_flag_str(fl, "restart-condition")));
    if (changed(fl, "restart-delay"))
        json_object_set_new(r, "Delay",
                            json_integer(ns_of(fl, "restart-delay")));
    if (changed(fl, "restart-max-attempts"))
        json_object_set_new(r, "MaxAttempts",
                            json_integer((json_int_t)cli_flag_uint(
                                fl, "restart-max-attempts")));
    if (changed(fl, "restart-window"))
        json_object_set_new(r, "Window",
                            json_integer(ns_of(fl, "restart-window")));
}

static const char *const restart_flags[] = {
    "restart-delay", "restart-max-attempts", "restart-window",
    "restart-condition", NULL};

static json_t *service_mode(const struct cli_flags *fl, struct err *err)
{
    const char *mode = cli_flag_str(fl, "mode");
    bool has_replicas = changed(fl, "replicas");
    bool has_max = cli_flag_uint(fl, "replicas-max-per-node") > 0;
    json_t *m = json_object();
    if (!strcmp(mode, "global")) {
        if (has_replicas)
            goto replicas_err;
        if (has_max)
            goto max_err;
        json_object_set_new(m, "Global", json_object());
    } else if (!strcmp(mode, "replicated")) {
        json_t *r = json_object();
        if (has_replicas)
            json_object_set_new(
                r, "Replicas",
                json_integer((json_int_t)cli_flag_uint(fl, "replicas")));
        json_object_set_new(m, "Replicated", r);
    } else if (!strcmp(mode, "replicated-job")) {
        json_t *r = json_object();
        if (changed(fl, "max-concurrent"))
            json_object_set_new(
                r, "MaxConcurrent",
                json_integer((json_int_t)cli_flag_uint(fl, "max-concurrent")));
        else if (has_replicas)
            json_object_set_new(
                r, "MaxConcurrent",
                json_integer((json_int_t)cli_flag_uint(fl, "replicas")));
        if (has_replicas)
            json_object_set_new(
                r, "TotalCompletions",
                json_integer((json_int_t)cli_flag_uint(fl, "replicas")));
        json_object_set_new(m, "ReplicatedJob", r);
    } else if (!strcmp(mode, "global-job")) {
        if (has_max)
            goto max_err;
        if (has_replicas)
            goto replicas_err;
        if (changed(fl, "max-concurrent")) {
            json_decref(m);
            err_set(err, ERR_INVALID,
                    "max-concurrent can only be used with replicated-job mode");
            return NULL;
        }
        json_object_set_new(m, "GlobalJob", json_object());
    } else {
        json_decref(m);
        err_set(err, ERR_INVALID,
                "Unknown mode: %s, only replicated and global supported", mode);
        return NULL;
    }
    return m;
replicas_err:
    json_decref(m);
    err_set(err, ERR_INVALID,
            "replicas can only be used with replicated or replicated-job "
            "mode");
    return NULL;
max_err:
    json_decref(m);
    err_set(err, ERR_INVALID,
            "replicas-max-per-node can only be used with replicated or "
            "replicated-job mode");
    return NULL;
}

static int cmp_target(const void *a, const void *b)
{
    return strcmp(jx_str0(*(json_t *const *)a, "Target"),
                  jx_str0(*(json_t *const *)b, "Target"));
}

static void sort_by(json_t *arr, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return;
    json_t **items = xcalloc(n, sizeof(json_t *));
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(arr, i));
    /* Stable insertion sort, as sort.Slice on few items behaves. */
    for (size_t i = 1; i < n; i++) {
        json_t *x = items[i];
        size_t j = i;
        while (j > 0 && cmp(&items[j - 1], &x) > 0) {
            items[j] = items[j - 1];
            j--;
        }
        items[j] = x;
    }
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, items[i]);
    free(items);
}

/* Resolves secret/config references' IDs with one list call. */
static json_t *resolve_refs(const struct cli_spec_resolver *r, const char *kind,
                            json_t *refs, struct err *err)
{
    bool secret = strcmp(kind, "secret") == 0;
    const char *name_key = secret ? "SecretName" : "ConfigName";
    const char *id_key = secret ? "SecretID" : "ConfigID";
    size_t n = json_array_size(refs);
    if (n == 0)
        return json_array();
    const char **names = xcalloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        json_t *ref = json_array_get(refs, i);
        const char *target = jx_path_str(ref, "File.Name");
        for (size_t j = 0; j < i && target; j++) {
            const char *t2 = jx_path_str(json_array_get(refs, j), "File.Name");
            if (t2 && !strcmp(t2, target)) {
                free(names);
                err_set(err, ERR_INVALID,
                        "duplicate %s target for %s not allowed", kind,
                        jx_str0(ref, name_key));
                return NULL;
            }
        }
        names[i] = jx_str0(ref, name_key);
    }
    json_t *ids = r && r->object_ids
                      ? r->object_ids(r->ud, secret ? "secrets" : "configs",
                                      names, n, err)
                      : json_object();
    free(names);
    if (!ids)
        return NULL;
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *ref = json_array_get(refs, i);
        const char *id = jx_str(ids, jx_str0(ref, name_key));
        if (!id) {
            err_set(err, ERR_NOTFOUND, "%s not found: %s", kind,
                    jx_str0(ref, name_key));
            json_decref(ids);
            json_decref(out);
            return NULL;
        }
        json_t *c = json_deep_copy(ref);
        json_object_set_new(c, id_key, json_string(id));
        json_array_append_new(out, c);
    }
    json_decref(ids);
    return out;
}

static json_t *parse_list(const struct cli_flags *fl, const char *flag,
                          json_t *(*parse)(const char *, struct err *),
                          struct err *err)
{
    json_t *a = json_array();
    const struct vec *v = list(fl, flag);
    for (size_t i = 0; i < v->len; i++) {
        json_t *x = parse(v->items[i], err);
        if (!x) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, x);
    }
    return a;
}

static json_t *parse_secret_flag(const char *v, struct err *err)
{
    return cli_parse_secret_ref("secret", v, err);
}

static json_t *parse_config_flag(const char *v, struct err *err)
{
    return cli_parse_secret_ref("config", v, err);
}

static json_t *resolve_networks(const struct cli_flags *fl, const char *flag,
                                const struct cli_spec_resolver *r,
                                struct err *err)
{
    json_t *nets = parse_list(fl, flag, cli_parse_network, err);
    if (!nets)
        return NULL;
    size_t i;
    json_t *n;
    json_array_foreach(nets, i, n)
    {
        char *id = r && r->network_id
                       ? r->network_id(r->ud, jx_str0(n, "Target"), err)
                       : xstrdup(jx_str0(n, "Target"));
        if (!id) {
            json_decref(nets);
            return NULL;
        }
        json_object_set_new(n, "Target", json_string(id));
        free(id);
    }
    return nets;
}

json_t *cli_service_spec_create(const struct cli_flags *fl,
                                const struct cli_spec_resolver *r,
                                struct err *err)
{
    if (fl->nargs < 1) {
        err_set(err, ERR_INVALID, "an image is required");
        return NULL;
    }
    json_t *spec = json_object();
    json_t *task = jx_obj(spec, "TaskTemplate");
    json_t *cs = jx_obj(task, "ContainerSpec");
    json_t *env = build_env(fl, "env", err);
    if (!env)
        goto fail;
    json_t *health;
    if (healthcheck(fl, &health, err) < 0) {
        json_decref(env);
        goto fail;
    }
    json_t *mode = service_mode(fl, err);
    if (!mode) {
        json_decref(env);
        json_decref(health);
        goto fail;
    }
    json_t *nets = resolve_networks(fl, "network", r, err);
    if (!nets) {
        json_decref(env);
        json_decref(health);
        json_decref(mode);
        goto fail;
    }
    sort_by(nets, cmp_target);

    const char *name = cli_flag_str(fl, "name");
    if (name)
        json_object_set_new(spec, "Name", json_string(name));
    json_object_set_new(spec, "Labels", kv_map(list(fl, "label")));

    json_object_set_new(cs, "Image", json_string(fl->args[0]));
    json_object_set_new(cs, "Labels", kv_map(list(fl, "container-label")));
    const char *ep = cli_flag_str(fl, "entrypoint");
    if (ep) {
        json_t *cmd = shlex_split(ep, err);
        if (!cmd) {
            json_decref(env);
            json_decref(health);
            json_decref(mode);
            json_decref(nets);
            goto fail;
        }
        json_object_set_new(cs, "Command", cmd);
    }
    if (fl->nargs > 1) {
        json_t *args = json_array();
        for (size_t i = 1; i < fl->nargs; i++)
            json_array_append_new(args, json_string(fl->args[i]));
        json_object_set_new(cs, "Args", args);
    }
    static const struct {
        const char *flag, *field;
    } strs[] = {{"hostname", "Hostname"},
                {"workdir", "Dir"},
                {"user", "User"},
                {"stop-signal", "StopSignal"},
                {"isolation", "Isolation"}};
    for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
        const char *v = cli_flag_str(fl, strs[i].flag);
        if (v)
            json_object_set_new(cs, strs[i].field, json_string(v));
    }
    json_object_set_new(cs, "Env", env);
    json_object_set_new(cs, "Groups", str_array(list(fl, "group")));
    json_object_set_new(cs, "Init", json_boolean(cli_flag_bool(fl, "init")));
    if (cli_security_opts(fl, cs, err) < 0) {
        json_decref(health);
        json_decref(mode);
        json_decref(nets);
        goto fail;
    }
    json_object_set_new(cs, "TTY", json_boolean(cli_flag_bool(fl, "tty")));
    json_object_set_new(cs, "ReadOnly",
                        json_boolean(cli_flag_bool(fl, "read-only")));
    json_t *mounts = parse_list(fl, "mount", cli_parse_mount, err);
    if (!mounts) {
        json_decref(health);
        json_decref(mode);
        json_decref(nets);
        goto fail;
    }
    json_object_set_new(cs, "Mounts", mounts);
    if (changed(fl, "stop-grace-period"))
        json_object_set_new(cs, "StopGracePeriod",
                            json_integer(ns_of(fl, "stop-grace-period")));
    if (health)
        json_object_set_new(cs, "Healthcheck", health);
    json_t *hosts = json_array();
    const struct vec *hv = list(fl, "host");
    for (size_t i = 0; i < hv->len; i++) {
        const char *h = hv->items[i];
        const char *c = strchr(h, ':');
        char *e = xasprintf("%s %.*s", c + 1, (int)(c - h), h);
        json_array_append_new(hosts, json_string(e));
        free(e);
    }
    json_object_set_new(cs, "Hosts", hosts);
    json_t *dns = jx_obj(cs, "DNSConfig");
    json_object_set_new(dns, "Nameservers", str_array(list(fl, "dns")));
    json_object_set_new(dns, "Search", str_array(list(fl, "dns-search")));
    json_object_set_new(dns, "Options", str_array(list(fl, "dns-option")));
    json_object_set_new(cs, "Sysctls", kv_map(list(fl, "sysctl")));
    json_t *cap_add, *cap_drop;
    effective_caps(list(fl, "cap-add"), list(fl, "cap-drop"), &cap_add,
                   &cap_drop);
    json_object_set_new(cs, "CapabilityAdd", cap_add);
    json_object_set_new(cs, "CapabilityDrop", cap_drop);
    json_t *ul = json_object();
    const struct vec *uv = list(fl, "ulimit");
    for (size_t i = 0; i < uv->len; i++) {
        json_t *u = cli_parse_ulimit(uv->items[i], NULL);
        if (u)
            json_object_set_new(ul, jx_str0(u, "Name"), u);
    }
    json_t *ularr = json_array();
    ulimits_sorted(ul, ularr);
    json_decref(ul);
    json_object_set_new(cs, "Ulimits", ularr);
    json_object_set_new(cs, "OomScoreAdj",
                        json_integer(cli_flag_int(fl, "oom-score-adj")));

    json_object_set_new(task, "Networks", nets);
    json_t *res = jx_obj(task, "Resources");
    json_t *lim = jx_obj(res, "Limits");
    json_object_set_new(lim, "NanoCPUs",
                        json_integer(int_of_parsed(fl, "limit-cpu")));
    json_object_set_new(lim, "MemoryBytes",
                        json_integer(int_of_parsed(fl, "limit-memory")));
    json_object_set_new(lim, "Pids",
                        json_integer(cli_flag_int(fl, "limit-pids")));
    json_t *rsv = jx_obj(res, "Reservations");
    json_object_set_new(rsv, "NanoCPUs",
                        json_integer(int_of_parsed(fl, "reserve-cpu")));
    json_object_set_new(rsv, "MemoryBytes",
                        json_integer(int_of_parsed(fl, "reserve-memory")));
    if (any_changed(fl, restart_flags)) {
        json_t *rp = restart_defaults();
        apply_restart(fl, rp);
        json_object_set_new(task, "RestartPolicy", rp);
    }
    json_t *pl = jx_obj(task, "Placement");
    json_object_set_new(pl, "Constraints", str_array(list(fl, "constraint")));
    json_t *prefs = parse_list(fl, "placement-pref", cli_parse_pref, err);
    if (!prefs) {
        json_decref(mode);
        goto fail;
    }
    json_object_set_new(pl, "Preferences", prefs);
    json_object_set_new(
        pl, "MaxReplicas",
        json_integer((json_int_t)cli_flag_uint(fl, "replicas-max-per-node")));
    const char *ld = cli_flag_str(fl, "log-driver");
    if (ld && *ld) {
        json_t *d = jx_obj(task, "LogDriver");
        json_object_set_new(d, "Name", json_string(ld));
        json_object_set_new(d, "Options", kv_map(list(fl, "log-opt")));
    }
    json_object_set_new(spec, "Mode", mode);
    if (update_flags_changed(fl, "update")) {
        json_t *u = update_config_defaults();
        apply_update_config(fl, "update", u);
        json_object_set_new(spec, "UpdateConfig", u);
    }
    if (update_flags_changed(fl, "rollback")) {
        json_t *u = update_config_defaults();
        apply_update_config(fl, "rollback", u);
        json_object_set_new(spec, "RollbackConfig", u);
    }
    json_t *epspec = jx_obj(spec, "EndpointSpec");
    char *emode = xstrdup(cli_flag_str(fl, "endpoint-mode"));
    lower(emode);
    json_object_set_new(epspec, "Mode", json_string(emode));
    free(emode);
    json_t *ports = json_array();
    const struct vec *pv = list(fl, "publish");
    for (size_t i = 0; i < pv->len; i++)
        cli_parse_port(pv->items[i], ports, NULL);
    json_object_set_new(epspec, "Ports", ports);

    json_t *secrets = parse_list(fl, "secret", parse_secret_flag, err);
    json_t *rs = secrets ? resolve_refs(r, "secret", secrets, err) : NULL;
    json_decref(secrets);
    if (!rs)
        goto fail;
    json_object_set_new(cs, "Secrets", rs);
    json_t *configs = parse_list(fl, "config", parse_config_flag, err);
    json_t *rc = configs ? resolve_refs(r, "config", configs, err) : NULL;
    json_decref(configs);
    if (!rc)
        goto fail;
    json_object_set_new(cs, "Configs", rc);

    json_t *out = cli_go_canon(CLI_GO_SERVICE_SPEC, spec);
    json_decref(spec);
    return out;
fail:
    json_decref(spec);
    return NULL;
}

/* ---- update ----------------------------------------------------------- */

static json_t *to_remove_set(const struct cli_flags *fl, const char *flag)
{
    json_t *set = json_object();
    const struct vec *v = list(fl, flag);
    for (size_t i = 0; i < v->len; i++)
        json_object_set_new(set, v->items[i], json_true());
    return set;
}

static void update_map(json_t *parent, const char *key,
                       const struct cli_flags *fl, const char *rm_flag,
                       const char *add_flag, bool rm_by_kv_key)
{
    json_t *m = json_object_get(parent, key);
    if (json_is_object(m) && changed(fl, rm_flag)) {
        const struct vec *v = list(fl, rm_flag);
        for (size_t i = 0; i < v->len; i++) {
            const char *k = v->items[i];
            if (rm_by_kv_key) {
                _cleanup_free_ char *kk = xstrndup(k, key_len(k));
                json_object_del(m, kk);
            } else {
                json_object_del(m, k);
            }
        }
    }
    if (changed(fl, add_flag)) {
        if (!json_is_object(m)) {
            m = json_object();
            json_object_set_new(parent, key, m);
        }
        const struct vec *v = list(fl, add_flag);
        for (size_t i = 0; i < v->len; i++)
            cli_kv_into(m, v->items[i]);
    }
}

static json_t *ensure_array(json_t *parent, const char *key)
{
    json_t *a = json_object_get(parent, key);
    if (!json_is_array(a)) {
        a = json_array();
        json_object_set_new(parent, key, a);
    }
    return a;
}

static void update_env(json_t *cs, const struct cli_flags *fl)
{
    json_t *env = ensure_array(cs, "Env");
    json_t *rm = to_remove_set(fl, "env-rm");
    for (size_t j = 0; j < json_array_size(env);) {
        const char *e = cli_jstr(json_array_get(env, j));
        _cleanup_free_ char *k = xstrndup(e ? e : "", key_len(e ? e : ""));
        if (json_object_get(rm, k))
            json_array_remove(env, j);
        else
            j++;
    }
    json_decref(rm);
    const struct vec *add = list(fl, "env-add");
    for (size_t i = 0; i < add->len; i++) {
        char *v = env_value(add->items[i]);
        size_t kl = key_len(v);
        bool replaced = false;
        for (size_t j = 0; j < json_array_size(env); j++) {
            const char *e = cli_jstr(json_array_get(env, j));
            if (e && key_len(e) == kl && !strncmp(e, v, kl)) {
                json_array_set_new(env, j, json_string(v));
                replaced = true;
                break;
            }
        }
        if (!replaced)
            json_array_append_new(env, json_string(v));
        free(v);
    }
}

static int cmp_mount(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(jx_str0(x, "Source"), jx_str0(y, "Source"));
    if (c)
        return c;
    return strcmp(jx_str0(x, "Target"), jx_str0(y, "Target"));
}

static int update_mounts(json_t *cs, const struct cli_flags *fl,
                         struct err *err)
{
    json_t *old = json_object_get(cs, "Mounts");
    json_t *by_target = json_object();
    const struct vec *add = list(fl, "mount-add");
    for (size_t i = 0; i < add->len; i++) {
        json_t *m = cli_parse_mount(add->items[i], err);
        if (!m) {
            json_decref(by_target);
            return -1;
        }
        const char *t = jx_str0(m, "Target");
        if (json_object_get(by_target, t)) {
            json_decref(m);
            json_decref(by_target);
            return err_set(err, ERR_INVALID, "duplicate mount target");
        }
        json_object_set_new(by_target, t, m);
    }
    size_t i;
    json_t *m;
    json_array_foreach(old, i, m)
    {
        const char *t = jx_str0(m, "Target");
        if (!json_object_get(by_target, t))
            json_object_set(by_target, t, m);
    }
    json_t *rm = to_remove_set(fl, "mount-rm");
    json_t *out = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(by_target, k, v)
    {
        if (!json_object_get(rm, k))
            json_array_append(out, v);
    }
    sort_by(out, cmp_mount);
    json_object_set_new(cs, "Mounts", out);
    json_decref(rm);
    json_decref(by_target);
    return 0;
}

static void update_ulimits(json_t *cs, const struct cli_flags *fl)
{
    json_t *by = json_object();
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(cs, "Ulimits"), i, u)
    {
        json_object_set(by, jx_str0(u, "Name"), u);
    }
    const struct vec *rm = list(fl, "ulimit-rm");
    for (i = 0; i < rm->len; i++) {
        _cleanup_free_ char *k = xstrndup(rm->items[i], key_len(rm->items[i]));
        json_object_del(by, k);
    }
    const struct vec *add = list(fl, "ulimit-add");
    for (i = 0; i < add->len; i++) {
        json_t *x = cli_parse_ulimit(add->items[i], NULL);
        if (x)
            json_object_set_new(by, jx_str0(x, "Name"), x);
    }
    json_t *arr = json_array();
    ulimits_sorted(by, arr);
    json_decref(by);
    json_object_set_new(cs, "Ulimits", arr);
}

static void update_sorted_list(json_t *parent, const char *key,
                               const struct cli_flags *fl, const char *add_flag,
                               const char *rm_flag)
{
    json_t *arr = ensure_array(parent, key);
    const struct vec *add = list(fl, add_flag);
    for (size_t i = 0; i < add->len; i++)
        json_array_append_new(arr, json_string(add->items[i]));
    json_t *rm = to_remove_set(fl, rm_flag);
    for (size_t j = 0; j < json_array_size(arr);) {
        if (json_object_get(rm, cli_jstr(json_array_get(arr, j))))
            json_array_remove(arr, j);
        else
            j++;
    }
    json_decref(rm);
    sort_strings(arr);
}

/* updateDNSConfig for one of Nameservers/Search/Options. */
static void update_dns_list(json_t *old, json_t *out, const char *key,
                            const struct cli_flags *fl, const char *add_flag,
                            const char *rm_flag)
{
    json_t *items = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(old, key), i, v)
    {
        if (!arr_has(items, cli_jstr(v)))
            json_array_append(items, v);
    }
    const struct vec *add = list(fl, add_flag);
    for (i = 0; i < add->len; i++) {
        if (!arr_has(items, add->items[i]))
            json_array_append_new(items, json_string(add->items[i]));
    }
    json_t *rm = to_remove_set(fl, rm_flag);
    json_t *res = json_array();
    json_array_foreach(items, i, v)
    {
        if (!json_object_get(rm, cli_jstr(v)))
            json_array_append(res, v);
    }
    sort_strings(res);
    json_object_set_new(out, key, res);
    json_decref(rm);
    json_decref(items);
}

static void port_key(const json_t *p, char *out, size_t n)
{
    snprintf(out, n, "%lld:%lld/%s/%s",
             (long long)jx_int(p, "PublishedPort", 0),
             (long long)jx_int(p, "TargetPort", 0), jx_str0(p, "Protocol"),
             jx_str0(p, "PublishMode"));
}

static int cmp_port(const void *a, const void *b)
{
    char x[128], y[128];
    port_key(*(json_t *const *)a, x, sizeof(x));
    port_key(*(json_t *const *)b, y, sizeof(y));
    return strcmp(x, y);
}

static bool eq_or_default(const char *a, const char *b, const char *def)
{
    return !strcmp(a, b) || (!*a && !strcmp(b, def)) ||
           (!*b && !strcmp(a, def));
}

static void update_ports(json_t *ep, const struct cli_flags *fl)
{
    json_t *set = json_object();
    json_t *uniq = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(ep, "Ports"), i, p)
    {
        char k[128];
        port_key(p, k, sizeof(k));
        if (!json_object_get(set, k)) {
            json_object_set(set, k, p);
            json_array_append(uniq, p);
        }
    }
    json_t *rm = json_array();
    const struct vec *rv = list(fl, "publish-rm");
    for (i = 0; i < rv->len; i++)
        cli_parse_port(rv->items[i], rm, NULL);
    json_t *out = json_array();
    json_array_foreach(uniq, i, p)
    {
        bool drop = false;
        size_t j;
        json_t *r;
        json_array_foreach(rm, j, r)
        {
            if (eq_or_default(jx_str0(p, "Protocol"), jx_str0(r, "Protocol"),
                              "tcp") &&
                jx_int(p, "TargetPort", 0) == jx_int(r, "TargetPort", 0) &&
                eq_or_default(jx_str0(p, "PublishMode"),
                              jx_str0(r, "PublishMode"), "ingress"))
                drop = true;
        }
        if (!drop)
            json_array_append(out, p);
    }
    json_t *add = json_array();
    const struct vec *av = list(fl, "publish-add");
    for (i = 0; i < av->len; i++)
        cli_parse_port(av->items[i], add, NULL);
    json_array_foreach(add, i, p)
    {
        char k[128];
        port_key(p, k, sizeof(k));
        if (!json_object_get(set, k))
            json_array_append(out, p);
    }
    sort_by(out, cmp_port);
    json_object_set_new(ep, "Ports", out);
    json_decref(add);
    json_decref(rm);
    json_decref(uniq);
    json_decref(set);
}

static void update_hosts(json_t *cs, const struct cli_flags *fl)
{
    json_t *out = json_array();
    const struct vec *rm = list(fl, "host-rm");
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(cs, "Hosts"), i, h)
    {
        _cleanup_free_ char *e = xstrdup(cli_jstr(h));
        char *save = NULL;
        char *ip = strtok_r(e, " \t", &save);
        if (!ip)
            continue;
        struct buf names;
        buf_init(&names);
        for (char *n = strtok_r(NULL, " \t", &save); n;
             n = strtok_r(NULL, " \t", &save)) {
            bool drop = false;
            for (size_t k = 0; k < rm->len; k++) {
                const char *r = rm->items[k];
                const char *c = strchr(r, ':');
                size_t hl = c ? (size_t)(c - r) : strlen(r);
                if (c && strcmp(c + 1, ip) != 0 && c[1])
                    continue;
                if (strlen(n) == hl && !strncmp(n, r, hl))
                    drop = true;
            }
            if (!drop)
                buf_printf(&names, " %s", n);
        }
        if (names.len) {
            char *line = xasprintf("%s%s", ip, names.data);
            if (!arr_has(out, line))
                json_array_append_new(out, json_string(line));
            free(line);
        }
        buf_fini(&names);
    }
    const struct vec *add = list(fl, "host-add");
    for (i = 0; i < add->len; i++) {
        const char *v = add->items[i];
        const char *c = strchr(v, ':');
        if (!c)
            continue;
        char *line = xasprintf("%s %.*s", c + 1, (int)(c - v), v);
        if (!arr_has(out, line))
            json_array_append_new(out, json_string(line));
        free(line);
    }
    json_object_set_new(cs, "Hosts", out);
}

static int update_health(json_t *cs, const struct cli_flags *fl,
                         struct err *err)
{
    static const char *const hf[] = {
        "no-healthcheck",        "health-cmd",
        "health-interval",       "health-retries",
        "health-timeout",        "health-start-period",
        "health-start-interval", NULL};
    if (!any_changed(fl, hf))
        return 0;
    json_t *h = jx_obj(cs, "Healthcheck");
    if (cli_flag_bool(fl, "no-healthcheck")) {
        if (!any_changed(fl, hf + 1)) {
            json_t *n = json_object();
            json_t *t = json_array();
            json_array_append_new(t, json_string("NONE"));
            json_object_set_new(n, "Test", t);
            json_object_set_new(cs, "Healthcheck", n);
            return 0;
        }
        return err_set(err, ERR_INVALID,
                       "--no-healthcheck conflicts with --health-* options");
    }
    json_t *test = json_object_get(h, "Test");
    if (json_array_size(test) > 0 && cli_jstr(json_array_get(test, 0)) &&
        !strcmp(cli_jstr(json_array_get(test, 0)), "NONE"))
        json_object_del(h, "Test");
    static const struct {
        const char *flag, *field;
    } durs[] = {{"health-interval", "Interval"},
                {"health-timeout", "Timeout"},
                {"health-start-period", "StartPeriod"},
                {"health-start-interval", "StartInterval"}};
    for (size_t i = 0; i < ARRAY_SIZE(durs); i++) {
        if (changed(fl, durs[i].flag))
            json_object_set_new(h, durs[i].field,
                                json_integer(ns_of(fl, durs[i].flag)));
    }
    if (changed(fl, "health-retries"))
        json_object_set_new(h, "Retries",
                            json_integer(cli_flag_int(fl, "health-retries")));
    if (changed(fl, "health-cmd")) {
        const char *cmd = cli_flag_str(fl, "health-cmd");
        if (cmd && *cmd) {
            json_t *t = json_array();
            json_array_append_new(t, json_string("CMD-SHELL"));
            json_array_append_new(t, json_string(cmd));
            json_object_set_new(h, "Test", t);
        } else {
            json_object_del(h, "Test");
        }
    }
    return 0;
}

static void update_caps(json_t *cs, const struct cli_flags *fl)
{
    json_t *cap_drop = json_array(), *cap_add = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cs, "CapabilityDrop"), i, v)
    {
        char *c = norm_cap(cli_jstr(v) ? cli_jstr(v) : "");
        if (!arr_has(cap_drop, c))
            json_array_append_new(cap_drop, json_string(c));
        free(c);
    }
    json_array_foreach(json_object_get(cs, "CapabilityAdd"), i, v)
    {
        char *c = norm_cap(cli_jstr(v) ? cli_jstr(v) : "");
        if (!arr_has(cap_add, c))
            json_array_append_new(cap_add, json_string(c));
        free(c);
    }
    json_t *to_add = cap_set(list(fl, "cap-add"));
    json_t *to_drop = cap_set(list(fl, "cap-drop"));
    if (arr_has(to_add, "RESET")) {
        json_array_clear(cap_add);
        for (size_t j = 0; j < json_array_size(to_add); j++) {
            if (!strcmp(cli_jstr(json_array_get(to_add, j)), "RESET")) {
                json_array_remove(to_add, j);
                break;
            }
        }
    }
    if (arr_has(to_drop, "RESET")) {
        json_array_clear(cap_drop);
        for (size_t j = 0; j < json_array_size(to_drop); j++) {
            if (!strcmp(cli_jstr(json_array_get(to_drop, j)), "RESET")) {
                json_array_remove(to_drop, j);
                break;
            }
        }
    }
    json_array_foreach(to_drop, i, v)
    {
        const char *c = cli_jstr(v);
        if (arr_has(to_add, c))
            continue;
        if (arr_has(cap_add, c)) {
            for (size_t j = 0; j < json_array_size(cap_add); j++) {
                if (!strcmp(cli_jstr(json_array_get(cap_add, j)), c)) {
                    json_array_remove(cap_add, j);
                    break;
                }
            }
        } else if (!arr_has(cap_drop, c)) {
            json_array_append(cap_drop, v);
        }
    }
    json_array_foreach(to_add, i, v)
    {
        const char *c = cli_jstr(v);
        if (arr_has(cap_drop, c)) {
            for (size_t j = 0; j < json_array_size(cap_drop); j++) {
                if (!strcmp(cli_jstr(json_array_get(cap_drop, j)), c)) {
                    json_array_remove(cap_drop, j);
                    break;
                }
            }
        } else if (!arr_has(cap_add, c)) {
            json_array_append(cap_add, v);
        }
    }
    json_t *lists[2] = {cap_drop, cap_add};
    for (int k = 0; k < 2; k++) {
        if (arr_has(lists[k], "ALL")) {
            json_array_clear(lists[k]);
            json_array_append_new(lists[k], json_string("ALL"));
        }
        sort_strings(lists[k]);
    }
    json_object_set_new(cs, "CapabilityDrop", cap_drop);
    json_object_set_new(cs, "CapabilityAdd", cap_add);
    json_decref(to_add);
    json_decref(to_drop);
}

static int update_networks(json_t *spec, json_t *task,
                           const struct cli_flags *fl,
                           const struct cli_spec_resolver *r, struct err *err)
{
    json_t *spec_nets = json_object_get(task, "Networks");
    if (json_array_size(spec_nets) == 0)
        spec_nets = json_object_get(spec, "Networks");
    json_t *nets = spec_nets ? json_incref(spec_nets) : json_array();
    json_object_del(spec, "Networks");
    json_t *ids_rm = json_object();
    const struct vec *rm = list(fl, "network-rm");
    for (size_t i = 0; i < rm->len; i++) {
        char *id = r && r->network_id ? r->network_id(r->ud, rm->items[i], err)
                                      : xstrdup(rm->items[i]);
        if (!id) {
            json_decref(ids_rm);
            json_decref(nets);
            return -1;
        }
        json_object_set_new(ids_rm, id, json_true());
        free(id);
    }
    json_t *out = json_array();
    size_t i;
    json_t *n;
    json_array_foreach(nets, i, n)
    {
        if (!json_object_get(ids_rm, jx_str0(n, "Target")))
            json_array_append(out, n);
    }
    json_decref(nets);
    json_decref(ids_rm);
    json_t *add = resolve_networks(fl, "network-add", r, err);
    if (!add) {
        json_decref(out);
        return -1;
    }
    json_array_foreach(add, i, n)
    {
        const char *id = jx_str0(n, "Target");
        size_t j;
        json_t *e;
        json_array_foreach(out, j, e)
        {
            if (!strcmp(jx_str0(e, "Target"), id)) {
                const struct vec *av = list(fl, "network-add");
                json_t *orig = cli_parse_network(av->items[i], NULL);
                err_set(err, ERR_INVALID,
                        "service is already attached to network %s",
                        orig ? jx_str0(orig, "Target") : id);
                json_decref(orig);
                json_decref(add);
                json_decref(out);
                return -1;
            }
        }
        json_array_append(out, n);
    }
    json_decref(add);
    sort_by(out, cmp_target);
    json_object_set_new(task, "Networks", out);
    return 0;
}

static int update_refs(json_t *cs, const char *kind, const struct cli_flags *fl,
                       const struct cli_spec_resolver *r, struct err *err)
{
    bool secret = strcmp(kind, "secret") == 0;
    const char *field = secret ? "Secrets" : "Configs";
    const char *name_key = secret ? "SecretName" : "ConfigName";
    char rm_flag[32], add_flag[32];
    snprintf(rm_flag, sizeof(rm_flag), "%s-rm", kind);
    snprintf(add_flag, sizeof(add_flag), "%s-add", kind);
    json_t *rm = to_remove_set(fl, rm_flag);
    json_t *out = json_array();
    size_t i;
    json_t *ref;
    json_array_foreach(json_object_get(cs, field), i, ref)
    {
        if (!secret && json_object_get(ref, "Runtime")) {
            json_array_append(out, ref);
            continue;
        }
        if (!json_object_get(rm, jx_str0(ref, name_key)))
            json_array_append(out, ref);
    }
    json_decref(rm);
    if (changed(fl, add_flag)) {
        json_t *refs = parse_list(
            fl, add_flag, secret ? parse_secret_flag : parse_config_flag, err);
        json_t *res = refs ? resolve_refs(r, kind, refs, err) : NULL;
        json_decref(refs);
        if (!res) {
            json_decref(out);
            return -1;
        }
        json_array_extend(out, res);
        json_decref(res);
    }
    json_object_set_new(cs, field, out);
    return 0;
}

int cli_service_spec_update(json_t **specp, const struct cli_flags *fl,
                            const struct cli_spec_resolver *r, struct err *err)
{
    json_t *spec = *specp;
    json_t *task = jx_obj(spec, "TaskTemplate");
    json_t *cs = jx_obj(task, "ContainerSpec");

    update_map(spec, "Labels", fl, "label-rm", "label-add", false);
    update_map(cs, "Labels", fl, "container-label-rm", "container-label-add",
               false);
    if (changed(fl, "image"))
        json_object_set_new(cs, "Image",
                            json_string(cli_flag_str(fl, "image")));
    static const struct {
        const char *flag, *field;
    } words[] = {{"args", "Args"}, {"entrypoint", "Command"}};
    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        if (!changed(fl, words[i].flag))
            continue;
        json_t *w = shlex_split(cli_flag_str(fl, words[i].flag), err);
        if (!w)
            return -1;
        json_object_set_new(cs, words[i].field, w);
    }
    update_env(cs, fl);
    static const struct {
        const char *flag, *field;
    } strs[] = {{"workdir", "Dir"},
                {"user", "User"},
                {"hostname", "Hostname"},
                {"isolation", "Isolation"},
                {"stop-signal", "StopSignal"}};
    for (size_t i = 0; i < ARRAY_SIZE(strs); i++) {
        if (changed(fl, strs[i].flag))
            json_object_set_new(cs, strs[i].field,
                                json_string(cli_flag_str(fl, strs[i].flag)));
    }
    if (changed(fl, "init"))
        json_object_set_new(cs, "Init",
                            json_boolean(cli_flag_bool(fl, "init")));
    if (update_mounts(cs, fl, err) < 0 || cli_security_opts(fl, cs, err) < 0)
        return -1;
    update_map(cs, "Sysctls", fl, "sysctl-rm", "sysctl-add", true);
    update_ulimits(cs, fl);

    static const char *const limit_flags[] = {"limit-cpu", "limit-memory",
                                              "limit-pids", NULL};
    static const char *const rsv_flags[] = {"reserve-cpu", "reserve-memory",
                                            NULL};
    if (any_changed(fl, limit_flags) || any_changed(fl, rsv_flags)) {
        json_t *res = jx_obj(task, "Resources");
        json_t *lim = jx_obj(res, "Limits");
        json_t *rsv = jx_obj(res, "Reservations");
        if (changed(fl, "limit-cpu"))
            json_object_set_new(lim, "NanoCPUs",
                                json_integer(int_of_parsed(fl, "limit-cpu")));
        if (changed(fl, "limit-memory"))
            json_object_set_new(
                lim, "MemoryBytes",
                json_integer(int_of_parsed(fl, "limit-memory")));
        if (changed(fl, "limit-pids"))
            json_object_set_new(lim, "Pids",
                                json_integer(cli_flag_int(fl, "limit-pids")));
        if (changed(fl, "reserve-cpu"))
            json_object_set_new(rsv, "NanoCPUs",
                                json_integer(int_of_parsed(fl, "reserve-cpu")));
        if (changed(fl, "reserve-memory"))
            json_object_set_new(
                rsv, "MemoryBytes",
                json_integer(int_of_parsed(fl, "reserve-memory")));
    }
    if (changed(fl, "oom-score-adj"))
        json_object_set_new(cs, "OomScoreAdj",
                            json_integer(cli_flag_int(fl, "oom-score-adj")));
    if (changed(fl, "stop-grace-period"))
        json_object_set_new(cs, "StopGracePeriod",
                            json_integer(ns_of(fl, "stop-grace-period")));
    if (any_changed(fl, restart_flags)) {
        json_t *rp = json_object_get(task, "RestartPolicy");
        if (!json_is_object(rp)) {
            rp = restart_defaults();
            json_object_set_new(task, "RestartPolicy", rp);
        }
        apply_restart(fl, rp);
    }
    if (changed(fl, "constraint-add") || changed(fl, "constraint-rm"))
        update_sorted_list(jx_obj(task, "Placement"), "Constraints", fl,
                           "constraint-add", "constraint-rm");
    if (changed(fl, "placement-pref-add") || changed(fl, "placement-pref-rm")) {
        json_t *pl = jx_obj(task, "Placement");
        json_t *prefs = ensure_array(pl, "Preferences");
        const struct vec *rm = list(fl, "placement-pref-rm");
        for (size_t j = 0; j < json_array_size(prefs);) {
            const char *d = jx_path_str(json_array_get(prefs, j),
                                        "Spread.SpreadDescriptor");
            bool drop = false;
            for (size_t k = 0; k < rm->len && d; k++) {
                const char *eq = strchr(rm->items[k], '=');
                if (eq && !strcmp(eq + 1, d))
                    drop = true;
            }
            if (drop)
                json_array_remove(prefs, j);
            else
                j++;
        }
        const struct vec *add = list(fl, "placement-pref-add");
        for (size_t k = 0; k < add->len; k++) {
            json_t *p = cli_parse_pref(add->items[k], NULL);
            if (p)
                json_array_append_new(prefs, p);
        }
    }
    if (changed(fl, "network-add") || changed(fl, "network-rm")) {
        if (update_networks(spec, task, fl, r, err) < 0)
            return -1;
    }
    if (changed(fl, "replicas")) {
        json_t *rep = jx_path(spec, "Mode.Replicated");
        if (!json_is_object(rep))
            return err_set(err, ERR_INVALID,
                           "replicas can only be used with replicated mode");
        json_object_set_new(
            rep, "Replicas",
            json_integer((json_int_t)cli_flag_uint(fl, "replicas")));
    }
    if (changed(fl, "replicas-max-per-node"))
        json_object_set_new(jx_obj(task, "Placement"), "MaxReplicas",
                            json_integer((json_int_t)cli_flag_uint(
                                fl, "replicas-max-per-node")));
    static const char *const pfx[] = {"update", "rollback"};
    static const char *const cfg_key[] = {"UpdateConfig", "RollbackConfig"};
    for (size_t i = 0; i < 2; i++) {
        if (!update_flags_changed(fl, pfx[i]))
            continue;
        json_t *cfg = json_object_get(spec, cfg_key[i]);
        if (!json_is_object(cfg)) {
            cfg = update_config_defaults();
            json_object_set_new(spec, cfg_key[i], cfg);
        }
        apply_update_config(fl, pfx[i], cfg);
    }
    if (changed(fl, "endpoint-mode"))
        json_object_set_new(jx_obj(spec, "EndpointSpec"), "Mode",
                            json_string(cli_flag_str(fl, "endpoint-mode")));
    if (changed(fl, "group-add") || changed(fl, "group-rm"))
        update_sorted_list(cs, "Groups", fl, "group-add", "group-rm");
    if (changed(fl, "publish-add") || changed(fl, "publish-rm"))
        update_ports(jx_obj(spec, "EndpointSpec"), fl);
    static const char *const dns_flags[] = {"dns-add",
                                            "dns-rm",
                                            "dns-option-add",
                                            "dns-option-rm",
                                            "dns-search-add",
                                            "dns-search-rm",
                                            NULL};
    if (any_changed(fl, dns_flags)) {
        json_t *old = json_incref(jx_obj(cs, "DNSConfig"));
        json_t *nc = json_object();
        update_dns_list(old, nc, "Nameservers", fl, "dns-add", "dns-rm");
        update_dns_list(old, nc, "Search", fl, "dns-search-add",
                        "dns-search-rm");
        update_dns_list(old, nc, "Options", fl, "dns-option-add",
                        "dns-option-rm");
        json_decref(old);
        json_object_set_new(cs, "DNSConfig", nc);
    }
    if (changed(fl, "host-add") || changed(fl, "host-rm"))
        update_hosts(cs, fl);
    const char *ld = cli_flag_str(fl, "log-driver");
    if (changed(fl, "log-driver") && ld && *ld) {
        json_t *d = json_object();
        json_object_set_new(d, "Name", json_string(ld));
        json_object_set_new(d, "Options", kv_map(list(fl, "log-opt")));
        json_object_set_new(task, "LogDriver", d);
    }
    if (cli_flag_bool(fl, "force"))
        json_object_set_new(task, "ForceUpdate",
                            json_integer(jx_int(task, "ForceUpdate", 0) + 1));
    if (update_health(cs, fl, err) < 0)
        return -1;
    if (changed(fl, "tty"))
        json_object_set_new(cs, "TTY", json_boolean(cli_flag_bool(fl, "tty")));
    if (changed(fl, "read-only"))
        json_object_set_new(cs, "ReadOnly",
                            json_boolean(cli_flag_bool(fl, "read-only")));
    if (changed(fl, "cap-add") || changed(fl, "cap-drop"))
        update_caps(cs, fl);
    if (update_refs(cs, "secret", fl, r, err) < 0 ||
        update_refs(cs, "config", fl, r, err) < 0)
        return -1;
    *specp = cli_go_canon(CLI_GO_SERVICE_SPEC, spec);
    json_decref(spec);
    return 0;
}
