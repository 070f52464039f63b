// SPDX-License-Identifier: Apache-2.0
// The image store's JSON faces: Docker's ImageSummary (GET /images/json)
// and ImageInspect (GET /images/{name}/json) built from the stored config,
// the /images/json filters, and the Dockerfile-style "changes" lines that
// import applies to a config.
#include <ctype.h>
#include <fnmatch.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "base/vec.h"
#include "runtime/image_internal.h"

#define ZERO_TIME "0001-01-01T00:00:00Z"

static json_t *names_array(struct image_store *s, const struct hmap *m,
                           const char *id)
{
    size_t n = 0;
    _cleanup_free_ const char **names = image_names_locked(s, m, id, &n);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(names[i]));
    return a;
}

static json_t *image_labels(const struct image_rec *img)
{
    json_t *l = jx_path(img->config, "config.Labels");
    return json_is_object(l) ? jx_copy(l) : json_object();
}

json_t *image_summary_locked(struct image_store *s, const struct image_rec *img)
{
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:I}", "Id", img->id,
        "ParentId", "", "RepoTags", names_array(s, &s->tags, img->id),
        "RepoDigests", names_array(s, &s->digests, img->id), "Created",
        (json_int_t)(img->created / NS_PER_SEC), "Size", (json_int_t)img->size,
        "SharedSize", (json_int_t)-1, "VirtualSize", (json_int_t)img->size,
        "Labels", image_labels(img), "Containers", (json_int_t)-1);
}

/* A container config in Docker's full shape (every key present), with the
 * image's values over the defaults. */
static json_t *config_view(const json_t *c)
{
    json_t *v = json_pack(
        "{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:n, s:n, s:s, s:n, "
        "s:s, s:n, s:n, s:n}",
        "Hostname", "", "Domainname", "", "User", "", "AttachStdin", 0,
        "AttachStdout", 0, "AttachStderr", 0, "Tty", 0, "OpenStdin", 0,
        "StdinOnce", 0, "Env", "Cmd", "Image", "", "Volumes", "WorkingDir", "",
        "Entrypoint", "OnBuild", "Labels");
    if (json_is_object(c)) {
        json_t *copy = jx_copy(c);
        json_object_update(v, copy);
        json_decref(copy);
    }
    return v;
}

static void fmt_time(int64_t ns, char out[TIME_STRLEN])
{
    if (ns > 0)
        time_fmt_rfc3339(ns, out);
    else
        snprintf(out, TIME_STRLEN, "%s", ZERO_TIME);
}

static json_t *graph_driver(struct image_store *s, const struct image_rec *img)
{
    json_t *data = json_object();
    if (img->n_layers) {
        /* overlayfs order: top first */
        struct buf lower;
        buf_init(&lower);
        for (size_t i = img->n_layers; i-- > 0;) {
            struct image_layer *l = hmap_get(&s->layers, img->diff_ids[i]);
            if (!l)
                continue;
            _cleanup_free_ char *dir = image_layer_dir(s, l);
            if (i == img->n_layers - 1) {
                json_object_set_new(data, "UpperDir", json_string(dir));
                continue;
            }
            if (lower.len)
                buf_putc(&lower, ':');
            buf_puts(&lower, dir);
        }
        if (lower.len)
            json_object_set_new(data, "LowerDir", json_string(lower.data));
        buf_fini(&lower);
    }
    return json_pack("{s:s, s:o}", "Name", "overlay2", "Data", data);
}

json_t *image_inspect_locked(struct image_store *s, const struct image_rec *img)
{
    const json_t *c = img->config;
    char created[TIME_STRLEN], tagged[TIME_STRLEN];
    fmt_time(img->created, created);
    fmt_time(img->last_tag, tagged);
    json_t *layers = json_array();
    for (size_t i = 0; i < img->n_layers; i++)
        json_array_append_new(layers, json_string(img->diff_ids[i]));
    json_t *out = json_pack(
        "{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:s, s:s, "
        "s:I, s:I, s:o, s:{s:s, s:o}, s:{s:s}}",
        "Id", img->id, "RepoTags", names_array(s, &s->tags, img->id),
        "RepoDigests", names_array(s, &s->digests, img->id), "Parent", "",
        "Comment", jx_str0(c, "comment"), "Created", created, "Container",
        jx_str0(c, "container"), "ContainerConfig",
        config_view(json_object_get(c, "container_config")), "DockerVersion",
        jx_str0(c, "docker_version"), "Author", jx_str0(c, "author"), "Config",
        config_view(json_object_get(c, "config")), "Architecture",
        jx_str0(c, "architecture"), "Os", jx_str0(c, "os"), "Size",
        (json_int_t)img->size, "VirtualSize", (json_int_t)img->size,
        "GraphDriver", graph_driver(s, img), "RootFS", "Type", "layers",
        "Layers", layers, "Metadata", "LastTagTime", tagged);
    if (jx_str(c, "variant"))
        json_object_set_new(out, "Variant", json_string(jx_str(c, "variant")));
    if (jx_str(c, "os.version"))
        json_object_set_new(out, "OsVersion",
                            json_string(jx_str(c, "os.version")));
    return out;
}

/* ---- Filters ---- */

static bool truthy(const char *v)
{
    return strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* Docker's FamiliarMatch: the pattern against "repo:tag", then "repo". */
static bool reference_match(const char *pattern, const char *name)
{
    if (fnmatch(pattern, name, FNM_PATHNAME) == 0)
        return true;
    const char *slash = strrchr(name, '/');
    const char *colon = strrchr(slash ? slash : name, ':');
    if (!colon)
        return false;
    _cleanup_free_ char *repo = xstrndup(name, (size_t)(colon - name));
    return fnmatch(pattern, repo, FNM_PATHNAME) == 0;
}

static bool label_match(const json_t *labels, const char *want)
{
    const char *eq = strchr(want, '=');
    _cleanup_free_ char *key =
        eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
    const char *have = jx_str(labels, key);
    return have && (!eq || strcmp(have, eq + 1) == 0);
}

bool image_filter_match_locked(struct image_store *s,
                               const struct image_rec *img,
                               const json_t *filters)
{
    size_t nt = 0;
    _cleanup_free_ const char **tags =
        image_names_locked(s, &s->tags, img->id, &nt);
    const char *key;
    json_t *values;
    json_object_foreach((json_t *)filters, key, values)
    {
        if (!json_is_array(values) || json_array_size(values) == 0)
            continue;
        size_t i;
        json_t *v;
        if (strcmp(key, "dangling") == 0) {
            bool want =
                truthy(json_string_value(json_array_get(values, 0)) ?: "");
            if (want != (nt == 0))
                return false;
        } else if (strcmp(key, "reference") == 0) {
            bool any = false;
            json_array_foreach(values, i, v)
            {
                for (size_t t = 0; t < nt && !any && json_is_string(v); t++)
                    any = reference_match(json_string_value(v), tags[t]);
            }
            if (!any)
                return false;
        } else if (strcmp(key, "label") == 0) {
            json_t *labels = jx_path(img->config, "config.Labels");
            json_array_foreach(values, i, v)
            {
                if (!json_is_string(v) ||
                    !label_match(labels, json_string_value(v)))
                    return false;
            }
        } else if (strcmp(key, "before") == 0 || strcmp(key, "since") == 0) {
            json_array_foreach(values, i, v)
            {
                const char *name = json_string_value(v);
                struct image_rec *ref =
                    name ? image_find_locked(s, name) : NULL;
                if (!ref)
                    return false;
                bool before = key[0] == 'b';
                if (before ? img->created >= ref->created
                           : img->created <= ref->created)
                    return false;
            }
        }
        /* Other keys are ignored, as the API layer validates them. */
    }
    return true;
}

/* ---- Changes (import) ---- */

/* Splits shell-like words: whitespace separated, "..." and '...' quoting,
 * backslash escapes outside single quotes. */
static int split_words(const char *s, struct vec *out, struct err *err)
{
    const char *p = s;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        struct buf w;
        buf_init(&w);
        buf_reserve(&w, 1);
        char quote = 0;
        while (*p && (quote || !isspace((unsigned char)*p))) {
            if (quote && *p == quote) {
                quote = 0;
            } else if (!quote && (*p == '"' || *p == '\'')) {
                quote = *p;
            } else if (*p == '\\' && quote != '\'' && p[1]) {
                buf_putc(&w, *++p);
            } else {
                buf_putc(&w, *p);
            }
            p++;
        }
        if (quote) {
            buf_fini(&w);
            return err_set(err, ERR_INVALID, "unterminated quote in \"%s\"", s);
        }
        vec_push(out, buf_steal(&w));
    }
    return 0;
}

static void free_words(struct vec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    vec_fini(v);
}

/* CMD/ENTRYPOINT/VOLUME: a JSON array of strings, or the shell form. */
static json_t *exec_form(const char *arg, bool shell, struct err *err)
{
    if (*arg == '[') {
        json_error_t jerr;
        json_t *a = json_loads(arg, 0, &jerr);
        bool ok = json_is_array(a);
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) ok = ok && json_is_string(v);
        if (ok)
            return a;
        json_decref(a);
        err_set(err, ERR_INVALID, "invalid JSON array: %s", arg);
        return NULL;
    }
    if (shell)
        return json_pack("[s, s, s]", "/bin/sh", "-c", arg);
    json_t *a = json_array();
    struct vec words;
    vec_init(&words);
    if (split_words(arg, &words, err) < 0) {
        free_words(&words);
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < words.len; i++)
        json_array_append_new(a, json_string(words.items[i]));
    free_words(&words);
    return a;
}

static void env_set(json_t *cfg, const char *key, const char *value)
{
    json_t *env = json_object_get(cfg, "Env");
    if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(cfg, "Env", env);
    }
    size_t klen = strlen(key), i;
    json_t *v;
    _cleanup_free_ char *entry = xasprintf("%s=%s", key, value);
    json_array_foreach(env, i, v)
    {
        const char *e = json_string_value(v);
        if (e && strncmp(e, key, klen) == 0 && e[klen] == '=') {
            json_array_set_new(env, i, json_string(entry));
            return;
        }
    }
    json_array_append_new(env, json_string(entry));
}

/* ENV and LABEL: "K=V K2=V2" or the legacy "K V with spaces". */
static int key_values(json_t *cfg, const char *instr, const char *arg, bool env,
                      struct err *err)
{
    struct vec words;
    vec_init(&words);
    int ret = split_words(arg, &words, err);
    if (ret == 0 && words.len == 0)
        ret = err_set(err, ERR_INVALID, "%s requires at least one argument",
                      instr);
    bool pairs = ret == 0 && strchr(words.items[0], '=') != NULL;
    if (ret == 0 && !pairs) {
        /* legacy form: the value is the rest of the line */
        const char *rest = arg;
        while (isspace((unsigned char)*rest))
            rest++;
        rest += strcspn(rest, " \t");
        while (isspace((unsigned char)*rest))
            rest++;
        if (!*rest)
            ret =
                err_set(err, ERR_INVALID, "%s must have two arguments", instr);
        else if (env)
            env_set(cfg, words.items[0], rest);
        else
            json_object_set_new(jx_obj(cfg, "Labels"), words.items[0],
                                json_string(rest));
    }
    for (size_t i = 0; ret == 0 && pairs && i < words.len; i++) {
        char *w = words.items[i];
        char *eq = strchr(w, '=');
        if (!eq || eq == w) {
            ret = err_set(err, ERR_INVALID, "%s names can not be blank", instr);
            break;
        }
        *eq = '\0';
        if (env)
            env_set(cfg, w, eq + 1);
        else
            json_object_set_new(jx_obj(cfg, "Labels"), w, json_string(eq + 1));
    }
    free_words(&words);
    return ret;
}

static int apply_line(json_t *cfg, const char *line, struct err *err)
{
    while (isspace((unsigned char)*line))
        line++;
    size_t n = strcspn(line, " \t");
    _cleanup_free_ char *instr = xstrndup(line, n);
    for (char *c = instr; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    const char *arg = line + n;
    while (isspace((unsigned char)*arg))
        arg++;
    _cleanup_free_ char *trimmed = xstrdup(arg);
    for (size_t k = strlen(trimmed);
         k && isspace((unsigned char)trimmed[k - 1]);)
        trimmed[--k] = '\0';

    if (strcmp(instr, "CMD") == 0 || strcmp(instr, "ENTRYPOINT") == 0) {
        json_t *v = exec_form(trimmed, true, err);
        if (!v)
            return -1;
        json_object_set_new(cfg, instr[0] == 'C' ? "Cmd" : "Entrypoint", v);
        return 0;
    }
    if (strcmp(instr, "ENV") == 0)
        return key_values(cfg, "ENV", trimmed, true, err);
    if (strcmp(instr, "LABEL") == 0)
        return key_values(cfg, "LABEL", trimmed, false, err);
    if (!*trimmed && strcmp(instr, "ONBUILD") != 0)
        return err_set(err, ERR_INVALID, "%s requires an argument", instr);
    if (strcmp(instr, "WORKDIR") == 0) {
        json_object_set_new(cfg, "WorkingDir", json_string(trimmed));
    } else if (strcmp(instr, "USER") == 0) {
        json_object_set_new(cfg, "User", json_string(trimmed));
    } else if (strcmp(instr, "STOPSIGNAL") == 0) {
        json_object_set_new(cfg, "StopSignal", json_string(trimmed));
    } else if (strcmp(instr, "EXPOSE") == 0 || strcmp(instr, "VOLUME") == 0) {
        bool expose = instr[0] == 'E';
        json_t *list = exec_form(trimmed, false, err);
        if (!list)
            return -1;
        json_t *set = jx_obj(cfg, expose ? "ExposedPorts" : "Volumes");
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v)
        {
            const char *s = json_string_value(v);
            _cleanup_free_ char *key =
                expose && !strchr(s, '/') ? xasprintf("%s/tcp", s) : xstrdup(s);
            json_object_set_new(set, key, json_object());
        }
        json_decref(list);
    } else if (strcmp(instr, "ONBUILD") == 0) {
        json_t *ob = json_object_get(cfg, "OnBuild");
        if (!json_is_array(ob)) {
            ob = json_array();
            json_object_set_new(cfg, "OnBuild", ob);
        }
        json_array_append_new(ob, json_string(trimmed));
    } else {
        return err_set(err, ERR_INVALID, "%s is not a valid change command",
                       instr);
    }
    return 0;
}

int image_apply_changes(json_t *cfg, const json_t *changes, struct err *err)
{
    if (json_is_string(changes))
        return apply_line(cfg, json_string_value(changes), err);
    if (!json_is_array(changes))
        return err_set(err, ERR_INVALID, "changes must be a list of strings");
    size_t i;
    json_t *v;
    json_array_foreach(changes, i, v)
    {
        if (!json_is_string(v))
            return err_set(err, ERR_INVALID,
                           "changes must be a list of strings");
        const char *line = json_string_value(v);
        while (isspace((unsigned char)*line))
            line++;
        if (!*line)
            continue;
        if (apply_line(cfg, line, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- Queries ---- */

struct sorted {
    int64_t created;
    const char *id;
    json_t *summary;
};

static int cmp_sorted(const void *a, const void *b)
{
    const struct sorted *x = a, *y = b;
    if (x->created != y->created)
        return x->created > y->created ? -1 : 1;
    return strcmp(x->id, y->id);
}

json_t *image_list(struct image_store *s, const json_t *filters)
{
    pthread_mutex_lock(&s->lock);
    size_t n = hmap_count(&s->images), k = 0;
    struct sorted *all = xcalloc(n + 1, sizeof(*all));
    const char *key;
    void *v;
    for (size_t it = 0; hmap_next(&s->images, &it, &key, &v);) {
        struct image_rec *img = v;
        if (filters && !image_filter_match_locked(s, img, filters))
            continue;
        all[k++] = (struct sorted){img->created, img->id,
                                   image_summary_locked(s, img)};
    }
    pthread_mutex_unlock(&s->lock);
    qsort(all, k, sizeof(*all), cmp_sorted);
    json_t *out = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(out, all[i].summary);
    free(all);
    return out;
}

json_t *image_inspect(struct image_store *s, const char *name, struct err *err)
{
    pthread_mutex_lock(&s->lock);
    struct image_rec *img = image_find_locked(s, name);
    json_t *out = img ? image_inspect_locked(s, img) : NULL;
    pthread_mutex_unlock(&s->lock);
    if (!out)
        image_no_such(err, name);
    return out;
}
