// SPDX-License-Identifier: Apache-2.0
// The build executor (see build.h): unpacks the context, parses the
// Dockerfile, then walks the stages one instruction at a time. Each step
// turns the stage's image config into the next one; steps that change
// files (RUN, COPY, ADD, WORKDIR creating its directory) mount the current
// image, work in the mount, and turn the overlay's upper dir into a layer.
// Every step's result config is kept in the cache under a key of its
// parent, its expanded instruction, the build args a RUN sees and the
// contents COPY / ADD read; a later build with the same key reuses it as
// long as the store still holds its layers. Intermediate images exist
// only while a build needs to mount them; the final image of every stage
// stays (the last one tagged), as with Docker's legacy builder.
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/id.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "builder/build_internal.h"
#include "builder/cachekey.h"
#include "builder/shellword.h"
#include "runtime/archive.h"
#include "runtime/image_digest.h"
#include "runtime/mount.h"
#include "runtime/oci.h"

#if defined(__x86_64__)
#define BUILD_ARCH "amd64"
#elif defined(__aarch64__)
#define BUILD_ARCH "arm64"
#else
#define BUILD_ARCH "unknown"
#endif

static const char *short_id(const char *id)
{
    static __thread char out[13];
    const char *hex = strncmp(id, "sha256:", 7) == 0 ? id + 7 : id;
    snprintf(out, sizeof(out), "%.12s", hex);
    return out;
}

/* ---- Stages ---- */

static void stage_free(struct bstage *st)
{
    if (!st)
        return;
    free(st->name);
    json_decref(st->doc);
    free(st->id);
    free(st->bytes);
    json_decref(st->args);
    free(st);
}

static json_t *cfg_of(struct bstage *st)
{
    return jx_obj(st->doc, "config");
}

/* ENV first, then ARG: "an ENV always overrides an ARG of the same
 * name". */
static const char *stage_lookup(void *data, const char *name)
{
    struct bstage *st = data;
    json_t *env = json_object_get(cfg_of(st), "Env");
    size_t n = strlen(name), i;
    json_t *v;
    json_array_foreach(env, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strncmp(s, name, n) == 0 && s[n] == '=')
            return s + n + 1;
    }
    return jx_str(st->args, name);
}

static const char *meta_lookup(void *data, const char *name)
{
    struct bctx *c = data;
    return jx_str(c->meta_args, name);
}

static char *expand(struct bctx *c, struct bstage *st, const char *word,
                    struct err *err)
{
    return shellword_expand(word, c->df.escape, stage_lookup, st, err);
}

/* The config bytes of doc: compact, sorted keys. Owned. */
static char *doc_bytes(const json_t *doc)
{
    char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s)
        abort();
    return s;
}

static void doc_id(const char *bytes, char out[IMAGE_DIGEST_LEN])
{
    char hex[65];
    image_sha256_hex(bytes, strlen(bytes), hex);
    snprintf(out, IMAGE_DIGEST_LEN, "sha256:%s", hex);
}

static json_t *scratch_doc(void)
{
    return json_pack("{s:s, s:s, s:{}, s:{s:s, s:[]}, s:[]}", "architecture",
                     BUILD_ARCH, "os", "linux", "config", "rootfs", "type",
                     "layers", "diff_ids", "history");
}

/* The stage moves to a new config (doc stolen). */
static void stage_set(struct bstage *st, json_t *doc, char *bytes)
{
    char id[IMAGE_DIGEST_LEN];
    doc_id(bytes, id);
    json_decref(st->doc);
    st->doc = doc;
    free(st->bytes);
    st->bytes = bytes;
    free(st->id);
    st->id = xstrdup(id);
}

static bool store_has_layers(struct bctx *c, const json_t *doc)
{
    size_t i;
    json_t *v;
    json_array_foreach(jx_path(doc, "rootfs.diff_ids"), i, v)
    {
        if (!json_is_string(v) ||
            !image_store_has_layer(c->images, json_string_value(v)))
            return false;
    }
    return true;
}

/* Puts the stage's image into the store if it is not there (layers must
 * be); extra_layer (may be NULL) is the tar of its last layer when that
 * one is new. refs: names to point at it. */
static int stage_store(struct bctx *c, struct bstage *st,
                       const char *extra_layer, const char *const *refs,
                       size_t n_refs, bool intermediate, struct err *err)
{
    if (!st->bytes || image_store_has_image(c->images, st->id)) {
        for (size_t i = 0; i < n_refs; i++) {
            _cleanup_free_ char *norm = image_normalize_ref(refs[i], err);
            if (!norm)
                return -1;
            char *colon = strrchr(norm, ':');
            if (colon && strchr(colon, '/'))
                colon = NULL;
            if (colon)
                *colon = 0;
            if (image_tag(c->images, st->id, norm, colon ? colon + 1 : "",
                          err) < 0)
                return -1;
        }
        return 0;
    }
    size_t n = json_array_size(jx_path(st->doc, "rootfs.diff_ids"));
    const char **paths = xcalloc(n + 1, sizeof(*paths));
    if (extra_layer && n)
        paths[n - 1] = extra_layer;
    char *id = NULL;
    int rc = image_store_add(c->images, st->bytes, strlen(st->bytes), paths, n,
                             refs, n_refs, &id, err);
    free(paths);
    if (rc < 0)
        return -1;
    if (intermediate)
        vec_push(&c->added, id);
    else
        free(id);
    return 0;
}

/* ---- Mounts ---- */

int bmount_open(struct bctx *c, struct bstage *st, struct bmount *m,
                struct err *err)
{
    memset(m, 0, sizeof(*m));
    m->base = xasprintf("%s/m%d", c->dir, c->seq++);
    m->upper = xasprintf("%s/upper", m->base);
    m->work = xasprintf("%s/work", m->base);
    m->rootfs = xasprintf("%s/rootfs", m->base);
    m->empty = xasprintf("%s/empty", m->base);
    const char *dirs[] = {m->base, m->upper, m->work, m->rootfs, m->empty};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
        if (mkdir(dirs[i], 0755) < 0)
            return err_sys(err, errno, "create '%s'", dirs[i]);

    struct image_ref *ref = NULL;
    size_t n_layers = json_array_size(jx_path(st->doc, "rootfs.diff_ids"));
    if (n_layers) {
        if (stage_store(c, st, NULL, NULL, 0, true, err) < 0)
            return err_ctx(err, "prepare image %s", short_id(st->id));
        ref = image_resolve(c->images, st->id, err);
        if (!ref)
            return -1;
    }
    char *one[] = {m->empty};
    int rc = ref ? rootfs_mount(ref->layer_dirs, ref->n_layers, m->upper,
                                m->work, m->rootfs, err)
                 : rootfs_mount(one, 1, m->upper, m->work, m->rootfs, err);
    image_ref_free(ref);
    if (rc < 0)
        return -1;
    m->mounted = true;
    return 0;
}

/* Does the upper dir hold anything? */
static bool dir_has_entries(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    DIR *d = fdopendir(fd);
    if (!d)
        return false;
    fd = -1;
    struct dirent *de;
    bool any = false;
    while (!any && (de = readdir(d)))
        any = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return any;
}

int bmount_close(struct bctx *c, struct bmount *m, char **layer_out,
                 bool *changed, struct err *err)
{
    if (m->mounted && rootfs_umount(m->rootfs, err) < 0)
        return -1;
    m->mounted = false;
    if (!layer_out)
        return 0;
    if (m->ran)
        bfs_prune_points(m->upper, m->points);
    *changed = dir_has_entries(m->upper);
    char *tar = xasprintf("%s/layer-%d.tar", c->dir, c->seq++);
    if (arc_write_tree(m->upper, tar, ARC_TREE_LAYER, NULL, NULL, err) < 0) {
        free(tar);
        return err_ctx(err, "write layer");
    }
    *layer_out = tar;
    return 0;
}

void bmount_discard(struct bmount *m)
{
    struct err err = {0};
    if (m->mounted)
        rootfs_umount(m->rootfs, &err);
    if (m->base)
        fs_remove_tree(m->base, &err);
    free(m->base);
    free(m->upper);
    free(m->work);
    free(m->rootfs);
    free(m->empty);
    memset(m, 0, sizeof(*m));
}

/* ---- The cache ---- */

static char *cache_path(struct bctx *c, const char *key)
{
    return xasprintf("%s/%s", c->cache_dir, key + 7);
}

/* A hit: the stage moves to the cached config. */
static bool cache_get(struct bctx *c, struct bstage *st, const char *key)
{
    if (c->no_cache)
        return false;
    _cleanup_free_ char *path = cache_path(c, key);
    char *bytes = NULL;
    size_t len = 0;
    struct err err = {0};
    if (fs_read_file(path, &bytes, &len, &err) < 0)
        return false;
    json_error_t jerr;
    json_t *doc = json_loadb(bytes, len, 0, &jerr);
    if (!doc || !json_is_object(doc) || !store_has_layers(c, doc)) {
        json_decref(doc);
        free(bytes);
        unlink(path); /* its layers are gone */
        return false;
    }
    stage_set(st, doc, bytes);
    bctx_log(c, " ---> Using cache\n");
    return true;
}

static void cache_put(struct bctx *c, const struct bstage *st, const char *key)
{
    _cleanup_free_ char *path = cache_path(c, key);
    struct err err = {0};
    if (fs_write_file_replace(path, st->bytes, strlen(st->bytes), 0600, &err) <
        0)
        log_warn("build: cache write: %s", err.msg);
}

/* ---- Committing a step ---- */

static json_t *history_entry(const char *created_by, bool empty)
{
    char now[TIME_STRLEN];
    time_fmt_rfc3339(time_now_ns(), now);
    json_t *h =
        json_pack("{s:s, s:s}", "created", now, "created_by", created_by);
    if (empty)
        json_object_set_new(h, "empty_layer", json_true());
    return h;
}

/* A config-only step: doc (stolen) is the new config. */
static int commit_meta(struct bctx *c, struct bstage *st, json_t *doc,
                       const char *created_by, const char *key)
{
    char now[TIME_STRLEN];
    time_fmt_rfc3339(time_now_ns(), now);
    json_object_set_new(doc, "created", json_string(now));
    json_t *hist = json_object_get(doc, "history");
    if (!json_is_array(hist)) {
        hist = json_array();
        json_object_set_new(doc, "history", hist);
    }
    json_array_append_new(hist, history_entry(created_by, true));
    stage_set(st, doc, doc_bytes(doc));
    cache_put(c, st, key);
    bctx_log(c, " ---> %s\n", short_id(st->id));
    return 0;
}

static int file_digest(const char *path, char out[IMAGE_DIGEST_LEN],
                       struct err *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, errno, "open '%s'", path);
    struct image_sha256 h;
    image_sha256_init(&h);
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            image_sha256_fini(&h);
            return err_sys(err, errno, "read '%s'", path);
        }
        if (n == 0)
            break;
        image_sha256_update(&h, buf, (size_t)n);
    }
    char hex[65];
    image_sha256_final(&h, hex);
    snprintf(out, IMAGE_DIGEST_LEN, "sha256:%s", hex);
    return 0;
}

/* A step with a new layer (the tar at layer, removed here). */
static int commit_layer(struct bctx *c, struct bstage *st, const char *layer,
                        const char *created_by, const char *key,
                        struct err *err)
{
    char diff_id[IMAGE_DIGEST_LEN];
    if (file_digest(layer, diff_id, err) < 0) {
        unlink(layer);
        return -1;
    }
    json_t *doc = jx_copy(st->doc);
    char now[TIME_STRLEN];
    time_fmt_rfc3339(time_now_ns(), now);
    json_object_set_new(doc, "created", json_string(now));
    json_t *rootfs = jx_obj(doc, "rootfs");
    json_object_set_new(rootfs, "type", json_string("layers"));
    json_t *ids = json_object_get(rootfs, "diff_ids");
    if (!json_is_array(ids)) {
        ids = json_array();
        json_object_set_new(rootfs, "diff_ids", ids);
    }
    json_array_append_new(ids, json_string(diff_id));
    json_t *hist = json_object_get(doc, "history");
    if (!json_is_array(hist)) {
        hist = json_array();
        json_object_set_new(doc, "history", hist);
    }
    json_array_append_new(hist, history_entry(created_by, false));
    stage_set(st, doc, doc_bytes(doc));
    int rc = stage_store(c, st, layer, NULL, 0, true, err);
    unlink(layer);
    if (rc < 0)
        return err_ctx(err, "store layer");
    cache_put(c, st, key);
    bctx_log(c, " ---> %s\n", short_id(st->id));
    return 0;
}

/* ---- Instructions that only change the config ---- */

static void env_set(json_t *cfg, const char *k, const char *v)
{
    json_t *env = json_object_get(cfg, "Env");
    if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(cfg, "Env", env);
    }
    _cleanup_free_ char *kv = xasprintf("%s=%s", k, v);
    size_t n = strlen(k), i;
    json_t *e;
    json_array_foreach(env, i, e)
    {
        const char *s = json_string_value(e);
        if (s && strncmp(s, k, n) == 0 && s[n] == '=') {
            json_array_set_new(env, i, json_string(kv));
            return;
        }
    }
    json_array_append_new(env, json_string(kv));
}

/* The shell form's argv: SHELL (default /bin/sh -c) + the command. */
static json_t *shell_argv(struct bstage *st, const char *cmd)
{
    json_t *shell = json_object_get(cfg_of(st), "Shell");
    json_t *argv = json_is_array(shell) && json_array_size(shell)
                       ? jx_copy(shell)
                       : json_pack("[s, s]", "/bin/sh", "-c");
    json_array_append_new(argv, json_string(cmd));
    return argv;
}

static json_t *instr_argv(struct bstage *st, const struct df_instr *in,
                          size_t from)
{
    if (in->json) {
        json_t *a = json_array();
        for (size_t i = from; i < in->n_args; i++)
            json_array_append_new(a, json_string(in->args[i]));
        return a;
    }
    return shell_argv(st, in->args[from]);
}

static char *argv_text(const json_t *argv)
{
    struct buf b;
    buf_init(&b);
    size_t i;
    json_t *v;
    json_array_foreach(argv, i, v)
    {
        if (i)
            buf_putc(&b, ' ');
        buf_puts(&b, json_string_value(v));
    }
    buf_putc(&b, 0);
    return buf_steal(&b);
}

static int parse_ports(struct bctx *c, struct bstage *st,
                       const struct df_instr *in, json_t *ports,
                       struct buf *text, struct err *err)
{
    for (size_t i = 0; i < in->n_args; i++) {
        _cleanup_free_ char *w = expand(c, st, in->args[i], err);
        if (!w)
            return -1;
        char *slash = strchr(w, '/');
        const char *proto = slash ? slash + 1 : "tcp";
        if (slash)
            *slash = 0;
        if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 &&
            strcmp(proto, "sctp") != 0)
            return err_set(err, ERR_INVALID, "invalid proto: %s", proto);
        char *dash = strchr(w, '-');
        char *end = NULL;
        long lo = strtol(w, &end, 10), hi = lo;
        bool ok = end != w && (end == dash || !*end);
        if (ok && dash) {
            hi = strtol(dash + 1, &end, 10);
            ok = end != dash + 1 && !*end;
        }
        if (!ok || lo < 1 || hi > 65535 || hi < lo)
            return err_set(err, ERR_INVALID, "invalid containerPort: %s", w);
        for (long p = lo; p <= hi; p++) {
            char k[32];
            snprintf(k, sizeof(k), "%ld/%s", p, proto);
            json_object_set_new(ports, k, json_object());
            buf_printf(text, " %s", k);
        }
    }
    return 0;
}

static int healthcheck(const struct df_instr *in, json_t *cfg,
                       struct bstage *st, struct err *err)
{
    json_t *hc = json_object();
    if (strcmp(in->args[0], "NONE") == 0) {
        json_object_set_new(hc, "Test", json_pack("[s]", "NONE"));
        json_object_set_new(cfg, "Healthcheck", hc);
        return 0;
    }
    json_t *test;
    if (in->json) {
        test = json_pack("[s]", "CMD");
        for (size_t i = 1; i < in->n_args; i++)
            json_array_append_new(test, json_string(in->args[i]));
    } else {
        test = json_pack("[s, s]", "CMD-SHELL", in->args[1]);
    }
    (void)st;
    json_object_set_new(hc, "Test", test);
    static const struct {
        const char *flag, *key;
    } durs[] = {{"interval", "Interval"},
                {"timeout", "Timeout"},
                {"start-period", "StartPeriod"},
                {"start-interval", "StartInterval"}};
    for (size_t i = 0; i < ARRAY_SIZE(durs); i++) {
        const char *v = df_instr_flag(in, durs[i].flag);
        if (!v)
            continue;
        int64_t ns;
        if (duration_parse(v, &ns) < 0) {
            json_decref(hc);
            return err_set(err, ERR_INVALID,
                           "HEALTHCHECK --%s: invalid duration \"%s\"",
                           durs[i].flag, v);
        }
        json_object_set_new(hc, durs[i].key, json_integer(ns));
    }
    const char *r = df_instr_flag(in, "retries");
    if (r) {
        char *end = NULL;
        long n = strtol(r, &end, 10);
        if (!*r || *end || n < 0) {
            json_decref(hc);
            return err_set(err, ERR_INVALID,
                           "HEALTHCHECK --retries: invalid number \"%s\"", r);
        }
        json_object_set_new(hc, "Retries", json_integer(n));
    }
    json_object_set_new(cfg, "Healthcheck", hc);
    return 0;
}

/* ENV, LABEL, EXPOSE, VOLUME, USER, CMD, ENTRYPOINT, SHELL, STOPSIGNAL,
 * HEALTHCHECK, ONBUILD, MAINTAINER: a new config, no layer. */
static int step_meta(struct bctx *c, struct bstage *st,
                     const struct df_instr *in, struct err *err)
{
    json_t *doc = jx_copy(st->doc);
    json_t *cfg = jx_obj(doc, "config");
    struct buf text;
    buf_init(&text);
    buf_printf(&text, "/bin/sh -c #(nop)  %s", df_kind_name(in->kind));
    int rc = 0;
    switch (in->kind) {
    case DF_ENV:
    case DF_LABEL: {
        /* Every value sees the environment from before the step. */
        json_t *vals = json_array();
        for (size_t i = 0; i + 1 < in->n_args && rc == 0; i += 2) {
            char *k = expand(c, st, in->args[i], err);
            char *v = k ? expand(c, st, in->args[i + 1], err) : NULL;
            if (!v) {
                free(k);
                rc = -1;
                break;
            }
            json_array_append_new(vals, json_pack("[s, s]", k, v));
            free(k);
            free(v);
        }
        size_t i;
        json_t *kv;
        json_array_foreach(vals, i, kv)
        {
            const char *k = json_string_value(json_array_get(kv, 0));
            const char *v = json_string_value(json_array_get(kv, 1));
            if (in->kind == DF_ENV)
                env_set(cfg, k, v);
            else
                json_object_set_new(jx_obj(cfg, "Labels"), k, json_string(v));
            buf_printf(&text, " %s=%s", k, v);
        }
        json_decref(vals);
        break;
    }
    case DF_EXPOSE:
        rc = parse_ports(c, st, in, jx_obj(cfg, "ExposedPorts"), &text, err);
        break;
    case DF_VOLUME:
        for (size_t i = 0; i < in->n_args && rc == 0; i++) {
            _cleanup_free_ char *v = expand(c, st, in->args[i], err);
            if (!v) {
                rc = -1;
            } else if (!*v) {
                rc = err_set(err, ERR_INVALID,
                             "VOLUME specified can not be an empty string");
            } else {
                json_object_set_new(jx_obj(cfg, "Volumes"), v, json_object());
                buf_printf(&text, " [%s]", v);
            }
        }
        break;
    case DF_USER:
    case DF_STOPSIGNAL: {
        _cleanup_free_ char *v = expand(c, st, in->args[0], err);
        if (!v) {
            rc = -1;
            break;
        }
        if (in->kind == DF_STOPSIGNAL && oci_signal_parse(v) < 0) {
            rc = err_set(err, ERR_INVALID, "invalid signal: %s", v);
            break;
        }
        json_object_set_new(cfg, in->kind == DF_USER ? "User" : "StopSignal",
                            json_string(v));
        buf_printf(&text, " %s", v);
        break;
    }
    case DF_CMD:
    case DF_ENTRYPOINT: {
        json_t *argv = instr_argv(st, in, 0);
        _cleanup_free_ char *t = jx_dumps(argv);
        buf_printf(&text, " %s", t);
        bool cmd = in->kind == DF_CMD;
        json_object_set_new(cfg, cmd ? "Cmd" : "Entrypoint",
                            json_array_size(argv) ? argv : json_null());
        if (!json_array_size(argv))
            json_decref(argv);
        if (cmd)
            st->cmd_set = true;
        else if (!st->cmd_set)
            json_object_set_new(cfg, "Cmd", json_null());
        break;
    }
    case DF_SHELL: {
        json_t *argv = instr_argv(st, in, 0);
        _cleanup_free_ char *t = jx_dumps(argv);
        buf_printf(&text, " %s", t);
        json_object_set_new(cfg, "Shell", argv);
        break;
    }
    case DF_HEALTHCHECK:
        rc = healthcheck(in, cfg, st, err);
        if (rc == 0) {
            _cleanup_free_ char *t =
                jx_dumps(json_object_get(cfg, "Healthcheck"));
            buf_printf(&text, " %s", t);
        }
        break;
    case DF_ONBUILD: {
        json_t *ob = json_object_get(cfg, "OnBuild");
        if (!json_is_array(ob)) {
            ob = json_array();
            json_object_set_new(cfg, "OnBuild", ob);
        }
        json_array_append_new(ob, json_string(in->args[0]));
        buf_printf(&text, " %s", in->args[0]);
        break;
    }
    case DF_MAINTAINER:
        json_object_set_new(doc, "author", json_string(in->args[0]));
        buf_printf(&text, " %s", in->args[0]);
        break;
    default:
        rc = err_set(err, ERR_INTERNAL, "not a config step");
    }
    if (rc < 0) {
        json_decref(doc);
        buf_fini(&text);
        return -1;
    }
    buf_putc(&text, 0);
    char key[CACHEKEY_LEN];
    cachekey_step(st->id, text.data, NULL, "", key);
    if (cache_get(c, st, key)) {
        json_decref(doc);
        buf_fini(&text);
        bctx_log(c, " ---> %s\n", short_id(st->id));
        return 0;
    }
    rc = commit_meta(c, st, doc, text.data, key);
    buf_fini(&text);
    return rc;
}

/* ---- ARG ---- */

static int step_arg(struct bctx *c, struct bstage *st,
                    const struct df_instr *in, json_t *scope, struct err *err)
{
    for (size_t i = 0; i < in->n_args; i += 2) {
        const char *name = in->args[i];
        const char *def = i + 1 < in->n_args ? in->args[i + 1] : NULL;
        const char *given = jx_str(c->build_args, name);
        if (given) {
            json_object_set_new(c->used_args, name, json_true());
            json_object_set_new(scope, name, json_string(given));
        } else if (def) {
            char *v =
                st ? expand(c, st, def, err)
                   : shellword_expand(def, c->df.escape, meta_lookup, c, err);
            if (!v)
                return -1;
            json_object_set_new(scope, name, json_string(v));
            free(v);
        } else if (st && jx_str(c->meta_args, name)) {
            /* "ARG NAME" in a stage takes the global default. */
            json_object_set_new(scope, name,
                                json_string(jx_str(c->meta_args, name)));
        }
    }
    return 0;
}

/* The "K=V" build-time environment of a RUN: declared ARGs that no ENV
 * overrides, sorted. */
static json_t *run_env(struct bstage *st)
{
    json_t *out = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(st->args, k, v)
    {
        if (stage_lookup(st, k) != json_string_value(v))
            continue; /* an ENV of the same name wins */
        char *kv = xasprintf("%s=%s", k, json_string_value(v));
        json_array_append_new(out, json_string(kv));
        free(kv);
    }
    return out;
}

/* ---- RUN, WORKDIR ---- */

static int step_run(struct bctx *c, struct bstage *st,
                    const struct df_instr *in, struct err *err)
{
    _cleanup_json_ json_t *argv = instr_argv(st, in, 0);
    _cleanup_json_ json_t *env = run_env(st);
    _cleanup_free_ char *cmdline = argv_text(argv);
    _cleanup_free_ char *argv_json = jx_dumps(argv);
    _cleanup_free_ char *text = xasprintf("RUN %s", argv_json);
    size_t n_env = json_array_size(env);
    const char **envv = xcalloc(n_env + 1, sizeof(*envv));
    for (size_t i = 0; i < n_env; i++)
        envv[i] = json_string_value(json_array_get(env, i));
    char key[CACHEKEY_LEN];
    cachekey_step(st->id, text, envv, "", key);
    free(envv);
    if (cache_get(c, st, key)) {
        bctx_log(c, " ---> %s\n", short_id(st->id));
        return 0;
    }
    struct bmount m;
    if (bmount_open(c, st, &m, err) < 0) {
        bmount_discard(&m);
        return -1;
    }
    int code = 0;
    m.ran = true;
    m.points = bfs_note_points(m.rootfs);
    int rc = brun(c, cfg_of(st), m.rootfs, argv, env, &code, err);
    if (rc < 0 && code > 0) {
        _cleanup_free_ char *shown = xstrdup(cmdline);
        err_set(err, ERR_INVALID,
                "The command '%s' returned a non-zero code: %d", shown, code);
    }
    char *layer = NULL;
    bool changed = false;
    if (rc == 0)
        rc = bmount_close(c, &m, &layer, &changed, err);
    bmount_discard(&m);
    if (rc < 0)
        return -1;
    _cleanup_free_ char *created_by = NULL;
    if (n_env) {
        _cleanup_free_ char *e = argv_text(env);
        created_by = xasprintf("|%zu %s %s", n_env, e, cmdline);
    } else {
        created_by = xstrdup(cmdline);
    }
    rc = commit_layer(c, st, layer, created_by, key, err);
    free(layer);
    return rc;
}

static char *join_workdir(const char *cur, const char *path)
{
    _cleanup_free_ char *joined =
        path[0] == '/' ? xstrdup(path)
                       : xasprintf("%s/%s", cur && *cur ? cur : "/", path);
    _cleanup_free_ char *clean = path_clean_rel(joined);
    return strcmp(clean, ".") == 0 ? xstrdup("/") : xasprintf("/%s", clean);
}

static int step_workdir(struct bctx *c, struct bstage *st,
                        const struct df_instr *in, struct err *err)
{
    _cleanup_free_ char *w = expand(c, st, in->args[0], err);
    if (!w)
        return -1;
    _cleanup_free_ char *dir =
        join_workdir(jx_str(cfg_of(st), "WorkingDir"), w);
    _cleanup_free_ char *text = xasprintf("/bin/sh -c #(nop) WORKDIR %s", dir);
    char key[CACHEKEY_LEN];
    cachekey_step(st->id, text, NULL, "", key);
    if (cache_get(c, st, key)) {
        bctx_log(c, " ---> %s\n", short_id(st->id));
        return 0;
    }
    struct bmount m;
    int rc = bmount_open(c, st, &m, err);
    if (rc == 0)
        rc = bfs_mkdir_p(m.rootfs, dir, 0, 0, err);
    char *layer = NULL;
    bool changed = false;
    if (rc == 0)
        rc = bmount_close(c, &m, &layer, &changed, err);
    bmount_discard(&m);
    if (rc < 0) {
        free(layer);
        return -1;
    }
    json_object_set_new(cfg_of(st), "WorkingDir", json_string(dir));
    if (!changed) {
        unlink(layer);
        free(layer);
        json_t *doc = jx_copy(st->doc);
        return commit_meta(c, st, doc, text, key);
    }
    rc = commit_layer(c, st, layer, text, key, err);
    free(layer);
    return rc;
}

/* ---- COPY, ADD ---- */

static struct bstage *find_stage(struct bctx *c, const char *name)
{
    char *end = NULL;
    long idx = strtol(name, &end, 10);
    if (*name && !*end && idx >= 0 && (size_t)idx < c->stages.len)
        return c->stages.items[idx];
    for (size_t i = 0; i < c->stages.len; i++) {
        struct bstage *s = c->stages.items[i];
        if (s->name && strcasecmp(s->name, name) == 0)
            return s;
    }
    return NULL;
}

static int resolve_owner(const char *rootfs, const char *chown, unsigned *uid,
                         unsigned *gid, struct err *err)
{
    _cleanup_free_ char *passwd = NULL;
    _cleanup_free_ char *group = NULL;
    rootfs_read_file(rootfs, "/etc/passwd", &passwd);
    rootfs_read_file(rootfs, "/etc/group", &group);
    struct oci_user u;
    if (oci_user_resolve(chown, NULL, passwd, group, &u, err) < 0)
        return err_ctx(err, "--chown=%s", chown);
    *uid = u.uid;
    *gid = u.gid;
    return 0;
}

static int step_copy(struct bctx *c, struct bstage *st,
                     const struct df_instr *in, struct err *err)
{
    const char *kw = df_kind_name(in->kind);
    const char *from = df_instr_flag(in, "from");
    const char *chown = df_instr_flag(in, "chown");
    const char *chmod_s = df_instr_flag(in, "chmod");
    int chmod_v = -1;
    if (chmod_s) {
        char *end = NULL;
        long v = strtol(chmod_s, &end, 8);
        if (!*chmod_s || *end || v < 0 || v > 07777)
            return err_set(err, ERR_INVALID, "invalid --chmod=%s", chmod_s);
        chmod_v = (int)v;
    }
    size_t n_src = in->n_args - 1;
    char **srcs = xcalloc(n_src + 1, sizeof(*srcs));
    _cleanup_free_ char *dest_raw = NULL;
    int rc = 0;
    for (size_t i = 0; i < n_src && rc == 0; i++) {
        srcs[i] = expand(c, st, in->args[i], err);
        if (!srcs[i])
            rc = -1;
        else if (strncmp(srcs[i], "http://", 7) == 0 ||
                 strncmp(srcs[i], "https://", 8) == 0)
            rc = err_set(err, ERR_INVALID,
                         "%s from a URL (%s) is not supported; fetch it in a "
                         "RUN step",
                         kw, srcs[i]);
    }
    if (rc == 0) {
        dest_raw = expand(c, st, in->args[n_src], err);
        if (!dest_raw)
            rc = -1;
    }

    /* Where the sources come from. */
    struct bstage *src_stage = NULL, *tmp_stage = NULL;
    struct bmount src_mount = {0};
    struct bsrc src = {
        .root = c->ctx_dir, .ignore = &c->ignore, .what = "build context"};
    _cleanup_free_ char *what = NULL;
    if (rc == 0 && from) {
        _cleanup_free_ char *f = expand(c, st, from, err);
        if (!f) {
            rc = -1;
        } else if (!(src_stage = find_stage(c, f))) {
            /* Not a stage: an image. */
            tmp_stage = xcalloc(1, sizeof(*tmp_stage));
            tmp_stage->doc =
                image_config_doc(c->images, f, &tmp_stage->id, err);
            if (!tmp_stage->doc)
                rc = err_ctx(err, "%s --from=%s", kw, f);
            src_stage = tmp_stage;
        } else if (src_stage == st) {
            rc =
                err_set(err, ERR_INVALID,
                        "%s --from=%s: a stage cannot copy from itself", kw, f);
        }
        if (rc == 0) {
            rc = bmount_open(c, src_stage, &src_mount, err);
            what = xasprintf("stage %s", f);
            src.root = src_mount.rootfs;
            src.ignore = NULL;
            src.what = what;
        }
    }
    struct bsrc_list list = {0};
    if (rc == 0)
        rc = bsrc_resolve(&src, srcs, n_src, kw, &list, err);
    char content[CACHEKEY_LEN] = "";
    if (rc == 0)
        rc = bsrc_hash(&src, &list, content, err);
    for (size_t i = 0; i < n_src; i++)
        free(srcs[i]);
    free(srcs);

    _cleanup_free_ char *dest = NULL;
    bool dest_is_dir = false;
    if (rc == 0) {
        size_t dl = strlen(dest_raw);
        dest_is_dir =
            dl && (dest_raw[dl - 1] == '/' ||
                   (dl >= 2 && strcmp(dest_raw + dl - 2, "/.") == 0) ||
                   strcmp(dest_raw, ".") == 0);
        dest = join_workdir(jx_str(cfg_of(st), "WorkingDir"), dest_raw);
        if (list.n > 1 && !dest_is_dir)
            rc = err_set(err, ERR_INVALID,
                         "When using %s with more than one source file, the "
                         "destination must be a directory and end with a /",
                         kw);
    }
    _cleanup_free_ char *text = NULL;
    char key[CACHEKEY_LEN];
    bool hit = false;
    if (rc == 0) {
        text = xasprintf("/bin/sh -c #(nop) %s%s%s%s%s%s%s %s in %s%s", kw,
                         from ? " --from=" : "", from ? from : "",
                         chown ? " --chown=" : "", chown ? chown : "",
                         chmod_s ? " --chmod=" : "", chmod_s ? chmod_s : "",
                         content, dest, dest_is_dir ? "/" : "");
        cachekey_step(st->id, text, NULL, content, key);
        hit = cache_get(c, st, key);
        if (hit)
            bctx_log(c, " ---> %s\n", short_id(st->id));
    }
    struct bmount m = {0};
    if (rc == 0 && !hit)
        rc = bmount_open(c, st, &m, err);
    struct bcopy_opts o = {.dest = dest,
                           .dest_is_dir = dest_is_dir,
                           .chmod = chmod_v,
                           .unpack = in->kind == DF_ADD};
    if (rc == 0 && !hit && chown) {
        o.has_owner = true;
        rc = resolve_owner(m.rootfs, chown, &o.uid, &o.gid, err);
    }
    if (rc == 0 && !hit)
        rc = bfs_copy(&src, &list, m.rootfs, &o, err);
    char *layer = NULL;
    bool changed = false;
    if (rc == 0 && !hit)
        rc = bmount_close(c, &m, &layer, &changed, err);
    bmount_discard(&m);
    if (rc == 0 && !hit)
        rc = commit_layer(c, st, layer, text, key, err);
    free(layer);
    bsrc_list_fini(&list);
    bmount_discard(&src_mount);
    stage_free(tmp_stage);
    return rc;
}

/* ---- Stages ---- */

static int step_from(struct bctx *c, const struct df_instr *in,
                     struct bstage **out, struct err *err)
{
    _cleanup_free_ char *ref =
        shellword_expand(in->args[0], c->df.escape, meta_lookup, c, err);
    if (!ref)
        return -1;
    if (!*ref)
        return err_set(err, ERR_INVALID, "base name (%s) should not be blank",
                       in->args[0]);
    struct bstage *st = xcalloc(1, sizeof(*st));
    st->args = json_object();
    if (in->n_args == 3)
        st->name = xstrdup(in->args[2]);
    for (char *p = st->name; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    struct bstage *prev = NULL;
    for (size_t i = 0; i < c->stages.len && !prev; i++) {
        struct bstage *s = c->stages.items[i];
        if (s->name && strcasecmp(s->name, ref) == 0)
            prev = s;
    }
    if (strcasecmp(ref, "scratch") == 0) {
        st->doc = scratch_doc();
        st->id = xstrdup("");
        st->base_empty = true;
    } else if (prev) {
        st->doc = jx_copy(prev->doc);
        st->id = xstrdup(prev->id);
        st->bytes = xstrdup(prev->bytes);
    } else {
        st->doc = image_config_doc(c->images, ref, &st->id, err);
        if (!st->doc) {
            stage_free(st);
            return err_set(err, ERR_NOTFOUND,
                           "failed to resolve base image \"%s\": no such "
                           "image on this node (load, import or build it "
                           "first; scripts/base-images makes the common "
                           "ones)",
                           ref);
        }
        if (!json_is_object(json_object_get(st->doc, "config")))
            json_object_set_new(st->doc, "config", json_object());
    }
    if (*st->id)
        bctx_log(c, " ---> %s\n", short_id(st->id));
    *out = st;
    return 0;
}

/* The stage's image, stored so that later builds find its layers. */
static int stage_finish(struct bctx *c, struct bstage *st, struct err *err)
{
    if (!*st->id || !st->bytes)
        return 0;
    if (json_array_size(jx_path(st->doc, "rootfs.diff_ids")) == 0)
        return 0;
    /* Recorded as added: kept if the build succeeds (is_kept). */
    return stage_store(c, st, NULL, NULL, 0, true, err);
}

static bool is_kept(struct bctx *c, const char *id)
{
    for (size_t i = 0; i < c->stages.len; i++) {
        struct bstage *s = c->stages.items[i];
        if (s->id && strcmp(s->id, id) == 0)
            return true;
    }
    return false;
}

/* After a failed build nothing stays: no half-built image. */
static void remove_intermediates(struct bctx *c, bool failed)
{
    for (size_t i = 0; i < c->added.len; i++) {
        const char *id = c->added.items[i];
        if (!failed && is_kept(c, id))
            continue;
        struct err err = {0};
        json_t *out = NULL;
        if (image_remove(c->images, id, false, NULL, NULL, &out, &err) < 0 &&
            err.code != ERR_NOTFOUND)
            log_debug("build: remove intermediate %s: %s", short_id(id),
                      err.msg);
        json_decref(out);
    }
}

static int dispatch(struct bctx *c, struct bstage *st,
                    const struct df_instr *in, struct err *err)
{
    switch (in->kind) {
    case DF_RUN:
        return step_run(c, st, in, err);
    case DF_COPY:
    case DF_ADD:
        return step_copy(c, st, in, err);
    case DF_WORKDIR:
        return step_workdir(c, st, in, err);
    case DF_ARG: {
        int rc = step_arg(c, st, in, st->args, err);
        if (rc == 0)
            bctx_log(c, " ---> %s\n", *st->id ? short_id(st->id) : "");
        return rc;
    }
    case DF_FROM:
        return err_set(err, ERR_INTERNAL, "FROM inside a stage");
    default:
        return step_meta(c, st, in, err);
    }
}

/* The base image's ONBUILD triggers run right after FROM, as if they
 * followed it in the Dockerfile; the new image does not inherit them. */
static int run_triggers(struct bctx *c, struct bstage *st, struct err *err)
{
    json_t *ob = json_object_get(cfg_of(st), "OnBuild");
    size_t n = json_array_size(ob);
    if (!n)
        return 0;
    _cleanup_json_ json_t *triggers = jx_copy(ob);
    json_object_set_new(cfg_of(st), "OnBuild", json_null());
    bctx_log(c, "# Executing %zu build trigger%s\n", n, n == 1 ? "" : "s");
    size_t i;
    json_t *t;
    json_array_foreach(triggers, i, t)
    {
        const char *text = json_string_value(t);
        if (!text)
            continue;
        _cleanup_free_ char *doc = xasprintf("FROM scratch\n%s\n", text);
        struct dockerfile df;
        int rc = dockerfile_parse(doc, &df, err);
        if (rc == 0 && df.n_instrs != 2)
            rc = err_set(err, ERR_INVALID, "not one instruction");
        if (rc == 0)
            rc = dispatch(c, st, &df.instrs[1], err);
        dockerfile_fini(&df);
        if (rc < 0)
            return err_ctx(err, "ONBUILD trigger \"%s\"", text);
    }
    return 0;
}

/* The stage index that ends the build: target's, or the last. */
static int find_target(struct bctx *c, size_t *last_instr, struct err *err)
{
    size_t n = c->df.n_instrs;
    *last_instr = n;
    if (!c->target || !*c->target)
        return 0;
    bool in_target = false;
    for (size_t i = 0; i < n; i++) {
        const struct df_instr *in = &c->df.instrs[i];
        if (in->kind != DF_FROM)
            continue;
        if (in_target) {
            *last_instr = i;
            return 0;
        }
        if (in->n_args == 3 && strcasecmp(in->args[2], c->target) == 0)
            in_target = true;
    }
    if (in_target)
        return 0;
    return err_set(err, ERR_INVALID,
                   "failed to reach build target %s in Dockerfile", c->target);
}

static int run_all(struct bctx *c, char **image_id, struct err *err)
{
    size_t end = 0;
    if (find_target(c, &end, err) < 0)
        return -1;
    size_t first = 0;
    while (first < end && c->df.instrs[first].kind == DF_ARG)
        first++;
    c->n_steps = (int)(end - first);
    /* Global ARGs. */
    for (size_t i = 0; i < first; i++)
        if (step_arg(c, NULL, &c->df.instrs[i], c->meta_args, err) < 0)
            return -1;

    struct bstage *st = NULL;
    for (size_t i = first; i < end; i++) {
        const struct df_instr *in = &c->df.instrs[i];
        if (bctx_cancelled(c))
            return err_set(err, ERR_INTERNAL, "build cancelled");
        c->step++;
        bctx_log(c, "Step %d/%d : %s\n", c->step, c->n_steps, in->original);
        int rc;
        if (in->kind == DF_FROM) {
            if (st && stage_finish(c, st, err) < 0)
                return -1;
            st = NULL;
            rc = step_from(c, in, &st, err);
            if (rc == 0) {
                vec_push(&c->stages, st);
                rc = run_triggers(c, st, err);
            }
        } else {
            rc = dispatch(c, st, in, err);
        }
        if (rc < 0)
            return -1;
    }
    if (!st)
        return err_set(err, ERR_INVALID, "no build stage in Dockerfile");

    /* --label, then the name(s). */
    if (c->labels && json_object_size(c->labels)) {
        json_t *doc = jx_copy(st->doc);
        json_t *labels = jx_obj(jx_obj(doc, "config"), "Labels");
        const char *k;
        json_t *v;
        json_object_foreach(c->labels, k, v)
        {
            if (json_is_string(v))
                json_object_set(labels, k, v);
        }
        stage_set(st, doc, doc_bytes(doc));
    }
    if (!*st->id) {
        /* FROM scratch and nothing else: an image without layers. */
        stage_set(st, jx_copy(st->doc), doc_bytes(st->doc));
    }
    if (stage_store(c, st, NULL, (const char *const *)c->tags, c->n_tags, false,
                    err) < 0)
        return err_ctx(err, "store the image");
    for (size_t i = 0; i + 1 < c->stages.len; i++)
        if (stage_finish(c, c->stages.items[i], err) < 0)
            return -1;

    /* Build args nobody declared. */
    struct buf unused;
    buf_init(&unused);
    const char *k;
    json_t *v;
    json_object_foreach(c->build_args, k, v)
    {
        if (!json_object_get(c->used_args, k) &&
            !json_object_get(c->meta_args, k))
            buf_printf(&unused, "%s%s", unused.len ? " " : "", k);
    }
    if (unused.len)
        bctx_log(c,
                 "[Warning] One or more build-args [%s] were not "
                 "consumed\n",
                 unused.data);
    buf_fini(&unused);
    *image_id = xstrdup(st->id);
    return 0;
}

/* ---- Setup ---- */

static int read_dockerfile(struct bctx *c, char **text, struct err *err)
{
    const char *name =
        c->dockerfile && *c->dockerfile ? c->dockerfile : "Dockerfile";
    _cleanup_free_ char *clean = path_clean_rel(name);
    _cleanup_close_ int root =
        open(c->ctx_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return err_sys(err, errno, "open the context");
    int fd = rootfs_open(root, clean, O_RDONLY);
    if (fd < 0 && errno == ENOENT && !c->dockerfile)
        fd = rootfs_open(root, "dockerfile", O_RDONLY);
    if (fd < 0)
        return err_set(err, ERR_INVALID,
                       "Cannot locate specified Dockerfile: %s", name);
    struct buf b;
    buf_init(&b);
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (b.len + (size_t)n > 4 * 1024 * 1024) {
            close(fd);
            buf_fini(&b);
            return err_set(err, ERR_INVALID, "the Dockerfile is too large");
        }
        buf_append(&b, chunk, (size_t)n);
    }
    close(fd);
    buf_putc(&b, 0);
    *text = buf_steal(&b);
    return 0;
}

static void read_ignore(struct bctx *c)
{
    _cleanup_free_ char *path = xasprintf("%s/.dockerignore", c->ctx_dir);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    struct err err = {0};
    if (fs_read_file(path, &text, &len, &err) == 0)
        ignore_parse(text, &c->ignore);
}

static void bctx_fini(struct bctx *c)
{
    struct err err = {0};
    if (c->dir)
        fs_remove_tree(c->dir, &err);
    free(c->runtime_path);
    free(c->state_root);
    free(c->cgroup_parent);
    free(c->cache_dir);
    free(c->dir);
    free(c->ctx_dir);
    free(c->context_tar);
    free(c->dockerfile);
    for (size_t i = 0; i < c->n_tags; i++)
        free(c->tags[i]);
    free(c->tags);
    json_decref(c->build_args);
    json_decref(c->labels);
    free(c->target);
    dockerfile_fini(&c->df);
    ignore_fini(&c->ignore);
    json_decref(c->meta_args);
    json_decref(c->used_args);
    for (size_t i = 0; i < c->added.len; i++)
        free(c->added.items[i]);
    vec_fini(&c->added);
    for (size_t i = 0; i < c->stages.len; i++)
        stage_free(c->stages.items[i]);
    vec_fini(&c->stages);
}

/* Scratch dirs of builds of an earlier shoald (one that died mid-build):
 * named "<pid>-..." and the data root belongs to one daemon at a time, so
 * any other pid is gone. Their mounts go first (the removal does not cross
 * mount points). */
static void remove_stale(const char *tmp)
{
    DIR *d = opendir(tmp);
    if (!d)
        return;
    char mine[32];
    snprintf(mine, sizeof(mine), "%d-", (int)getpid());
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' ||
            strncmp(de->d_name, mine, strlen(mine)) == 0)
            continue;
        _cleanup_free_ char *dir = xasprintf("%s/%s", tmp, de->d_name);
        DIR *sub = opendir(dir);
        struct dirent *se;
        while (sub && (se = readdir(sub))) {
            if (se->d_name[0] != 'm')
                continue;
            _cleanup_free_ char *rootfs =
                xasprintf("%s/%s/rootfs", dir, se->d_name);
            struct err err = {0};
            if (rootfs_is_mounted(rootfs))
                rootfs_umount(rootfs, &err);
        }
        if (sub)
            closedir(sub);
        struct err err = {0};
        fs_remove_tree(dir, &err);
        log_info("build: removed the scratch dir of an earlier daemon: %s",
                 dir);
    }
    closedir(d);
}

int build_run(const struct build_env *env, const struct build_options *opts,
              build_log_fn log, void *log_data, void *cancelled,
              char **image_id, struct err *err)
{
    struct bctx c = {
        .images = env->images,
        .runtime_path = xstrdup(env->runtime->runtime_path),
        .state_root = xstrdup(env->runtime->state_root),
        .cgroup_parent = xstrdup(env->runtime->cgroup_parent),
        .cgroup2 = env->runtime->cgroup2,
        .nofile = env->runtime->nofile,
        .cache_dir = xasprintf("%s/cache", env->work_root),
        .context_tar = xstrdup(opts->context_tar),
        .dockerfile = xstrdup(opts->dockerfile),
        .target = xstrdup(opts->target),
        .no_cache = opts->no_cache,
        .quiet = opts->quiet,
        .log = log,
        .log_data = log_data,
        .cancelled = cancelled,
        .build_args = json_object(),
        .labels = opts->labels ? jx_copy(opts->labels) : NULL,
        .meta_args = json_object(),
        .used_args = json_object(),
    };
    vec_init(&c.added);
    vec_init(&c.stages);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)opts->build_args, k, v)
    {
        if (json_is_string(v))
            json_object_set(c.build_args, k, v);
    }
    c.tags = xcalloc(opts->n_tags + 1, sizeof(*c.tags));
    for (size_t i = 0; i < opts->n_tags; i++)
        c.tags[c.n_tags++] = xstrdup(opts->tags[i]);

    int rc = 0;
    char rnd[ID_HEX_LEN + 1];
    id_new_hex(rnd);
    _cleanup_free_ char *tmp = xasprintf("%s/tmp", env->work_root);
    if (fs_mkdir_p(c.cache_dir, 0700, err) < 0 ||
        fs_mkdir_p(tmp, 0700, err) < 0)
        rc = -1;
    if (rc == 0) {
        remove_stale(tmp);
        c.dir = xasprintf("%s/%d-%.16s", tmp, (int)getpid(), rnd);
        c.ctx_dir = xasprintf("%s/context", c.dir);
        if (mkdir(c.dir, 0700) < 0 || mkdir(c.ctx_dir, 0755) < 0)
            rc = err_sys(err, errno, "create '%s'", c.dir);
    }
    if (rc == 0 && arc_unpack_tree(c.context_tar, c.ctx_dir, err) < 0)
        rc = err_ctx(err, "unpack the build context");
    _cleanup_free_ char *text = NULL;
    if (rc == 0)
        rc = read_dockerfile(&c, &text, err);
    if (rc == 0)
        rc = dockerfile_parse(text, &c.df, err);
    if (rc == 0) {
        read_ignore(&c);
        rc = run_all(&c, image_id, err);
    }
    remove_intermediates(&c, rc < 0);
    bctx_fini(&c);
    return rc;
}
