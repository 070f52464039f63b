// SPDX-License-Identifier: Apache-2.0
// Loading compose files, the docker CLI's loader order: per file, YAML,
// the version, options stack deploy refuses, interpolation, the schema,
// then short syntaxes made long; files merged in order; warnings for the
// options stack deploy ignores. Where a key is ("f.yml:12") is path.c's.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "compose/compose_internal.h"

/* ---- project --------------------------------------------------------- */

void compose_project_init(struct compose_project *p)
{
    p->config = NULL;
    hmap_init(&p->locs);
    vec_init(&p->warnings);
    vec_init(&p->strings);
}

void compose_project_fini(struct compose_project *p)
{
    json_decref(p->config);
    p->config = NULL;
    hmap_fini(&p->locs);
    for (size_t i = 0; i < p->warnings.len; i++)
        free(p->warnings.items[i]);
    vec_fini(&p->warnings);
    for (size_t i = 0; i < p->strings.len; i++)
        free(p->strings.items[i]);
    vec_fini(&p->strings);
}

/* ---- version ----------------------------------------------------------- */

/* schema.Version: the file's version, "3" and none meaning the newest. */
static int file_version(const char *file, const json_t *cfg,
                        const struct hmap *locs, char *out, size_t n,
                        struct err *err)
{
    json_t *v = json_object_get(cfg, "version");
    char *text = v ? cmp_scalar_text(v) : NULL;
    if (v && !text)
        return cmp_err(err, locs, "version", "version must be a string");
    if (!text || !*text || strcmp(text, "3") == 0) {
        free(text);
        text = xstrdup("3.13");
    }
    bool ok = false;
    for (int minor = 0; minor <= 13 && !ok; minor++) {
        char want[8];
        snprintf(want, sizeof(want), "3.%d", minor);
        ok = strcmp(text, want) == 0;
    }
    if (!ok) {
        int rc = cmp_err(err, locs, "version",
                         "unsupported Compose file version: %s", text);
        if (!cmp_loc_find(locs, "version"))
            err_ctx(err, "%s", file);
        free(text);
        return rc;
    }
    snprintf(out, n, "%s", text);
    free(text);
    return 0;
}

/* ---- options stack deploy refuses, ignores or calls deprecated ------- */

struct prop {
    const char *name;
    const char *why;
};

/* loader.ForbiddenProperties: refused. */
static const struct prop forbidden[] = {
    {"extends", "Support for `extends` is not implemented yet."},
    {"volume_driver",
     "Instead of setting the volume driver on the service, define a volume "
     "using the top-level `volumes` option and specify the driver there."},
    {"volumes_from",
     "To share a volume between services, define it using the top-level "
     "`volumes` option and reference it from each service that shares it "
     "using the service-level `volumes` option."},
    {"cpu_quota", "Set resource limits using deploy.resources"},
    {"cpu_shares", "Set resource limits using deploy.resources"},
    {"cpuset", "Set resource limits using deploy.resources"},
    {"mem_limit", "Set resource limits using deploy.resources"},
    {"memswap_limit", "Set resource limits using deploy.resources"},
};

/* types.UnsupportedProperties (and depends_on, which swarm has no use
 * for either): loaded, warned about, not deployed. */
static const char *const unsupported[] = {
    "build",       "cgroupns_mode", "cgroup_parent",  "depends_on",
    "devices",     "domainname",    "external_links", "ipc",
    "links",       "mac_address",   "network_mode",   "pid",
    "privileged",  "restart",       "security_opt",   "shm_size",
    "userns_mode",
};

/* types.DeprecatedProperties. */
static const struct prop deprecated[] = {
    {"container_name", "Setting the container name is not supported."},
    {"expose", "Exposing ports is unnecessary - services on the same "
               "network can access each other's containers on any port."},
};

static int check_forbidden(const json_t *cfg, const struct hmap *locs,
                           struct err *err)
{
    const char *name;
    json_t *svc;
    json_object_foreach(json_object_get(cfg, "services"), name, svc)
    {
        for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
            if (!json_object_get(svc, forbidden[i].name))
                continue;
            char path[CMP_PATH_MAX];
            snprintf(path, sizeof(path), "services.%s.%s", name,
                     forbidden[i].name);
            return cmp_err(err, locs, path,
                           "Compose file contains unsupported option %s: "
                           "%s",
                           path, forbidden[i].why);
        }
    }
    return 0;
}

static void note_ignored(const json_t *cfg, json_t *seen_unsup,
                         json_t *seen_depr)
{
    const char *name;
    json_t *svc;
    json_object_foreach(json_object_get(cfg, "services"), name, svc)
    {
        for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]);
             i++)
            if (json_object_get(svc, unsupported[i]))
                json_object_set_new(seen_unsup, unsupported[i], json_true());
        for (size_t i = 0; i < sizeof(deprecated) / sizeof(deprecated[0]); i++)
            if (json_object_get(svc, deprecated[i].name))
                json_object_set_new(seen_depr, deprecated[i].name,
                                    json_string(deprecated[i].why));
    }
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys of an object, sorted (borrowed strings; array owned). */
static const char **sorted_keys(const json_t *o, size_t *n)
{
    *n = json_object_size(o);
    const char **keys = xcalloc(*n + 1, sizeof(*keys));
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        keys[i++] = k;
    }
    qsort(keys, *n, sizeof(*keys), cmp_strp);
    return keys;
}

/* stack deploy's two messages, in its words. */
static void warn_ignored(struct compose_project *p, const json_t *unsup,
                         const json_t *depr)
{
    size_t n;
    const char **keys = sorted_keys(unsup, &n);
    if (n) {
        struct buf b;
        buf_init(&b);
        buf_puts(&b, "Ignoring unsupported options: ");
        for (size_t i = 0; i < n; i++)
            buf_printf(&b, "%s%s", i ? ", " : "", keys[i]);
        vec_push(&p->warnings, buf_steal(&b));
    }
    free(keys);
    keys = sorted_keys(depr, &n);
    if (n) {
        struct buf b;
        buf_init(&b);
        buf_puts(&b, "Ignoring deprecated options:\n\n");
        for (size_t i = 0; i < n; i++)
            buf_printf(&b, "%s%s: %s", i ? "\n" : "", keys[i],
                       json_string_value(json_object_get(depr, keys[i])));
        vec_push(&p->warnings, buf_steal(&b));
    }
    free(keys);
}

/* ---- the whole load -------------------------------------------------- */

static json_t *load_one(struct compose_project *p, const struct compose_file *f,
                        const struct compose_opts *o, struct hmap *fmap,
                        char *version, size_t vsize, json_t *unsup,
                        json_t *depr, struct err *err)
{
    struct cmp_locs locs = {fmap, &p->strings};
    json_t *cfg = cmp_yaml_load(f->name, f->text, f->len, &locs, err);
    if (!cfg)
        return NULL;
    if (file_version(f->name, cfg, fmap, version, vsize, err) < 0 ||
        check_forbidden(cfg, fmap, err) < 0 ||
        cmp_interpolate(cfg, o->env, fmap, &p->warnings, err) < 0 ||
        cmp_validate(cfg, fmap, err) < 0) {
        json_decref(cfg);
        return NULL;
    }
    note_ignored(cfg, unsup, depr);
    if (cmp_normalize(cfg, o, fmap, &p->warnings, err) < 0) {
        json_decref(cfg);
        return NULL;
    }
    return cfg;
}

int compose_load(struct compose_project *p, const struct compose_file *files,
                 size_t n, const struct compose_opts *o, struct err *err)
{
    if (n == 0)
        return err_set(err, ERR_INVALID,
                       "Please specify a Compose file (with --compose-file)");
    json_t *unsup = json_object(), *depr = json_object();
    char first_version[16] = "";
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct hmap fmap;
        hmap_init(&fmap);
        char version[16];
        json_t *cfg = load_one(p, &files[i], o, &fmap, version, sizeof(version),
                               unsup, depr, err);
        if (!cfg) {
            rc = -1;
        } else if (i > 0 && strcmp(version, first_version) != 0) {
            rc = err_set(err, ERR_INVALID,
                         "version mismatched between two composefiles : %s "
                         "and %s",
                         first_version, version);
            json_decref(cfg);
        } else {
            snprintf(first_version, sizeof(first_version), "%s", version);
            if (!p->config) {
                p->config = cfg;
            } else {
                cmp_merge(p->config, cfg);
                json_decref(cfg);
            }
            size_t it = 0;
            const char *k;
            void *v;
            while (hmap_next(&fmap, &it, &k, &v))
                hmap_put(&p->locs, k, v);
        }
        hmap_fini(&fmap);
    }
    if (rc == 0) {
        json_object_set_new(p->config, "version", json_string(first_version));
        warn_ignored(p, unsup, depr);
    }
    json_decref(unsup);
    json_decref(depr);
    return rc;
}
