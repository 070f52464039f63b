// SPDX-License-Identifier: Apache-2.0
// `shoal image build` (and `shoal build`): tars the context directory
// (honouring its .dockerignore; the Dockerfile and .dockerignore always go,
// a Dockerfile outside the context is added under a private name), sends
// it to POST /build and prints the build's log as it streams.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/id.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "builder/ignore.h"
#include "cli/cli.h"
#include "runtime/archive.h"

/* ---- The context archive ---- */

struct ctx_filter {
    struct ignore ig;
    bool negations;
    const char *dockerfile; /* relative, cleaned; kept even if ignored */
};

static bool keep_entry(void *data, const char *rel, bool is_dir, bool *descend)
{
    struct ctx_filter *f = data;
    if (strcmp(rel, ".dockerignore") == 0 ||
        (f->dockerfile && strcmp(rel, f->dockerfile) == 0))
        return true;
    if (!ignore_match(&f->ig, rel))
        return true;
    if (is_dir && !f->negations)
        *descend = false; /* nothing below can come back */
    return false;
}

/* Writes the context of dir to a temporary tar; its path (owned). */
static char *make_context(const char *dir, const char *dockerfile_rel,
                          const char *outside, const char *outside_name,
                          struct err *err)
{
    struct ctx_filter f = {.dockerfile = dockerfile_rel};
    _cleanup_free_ char *ipath = xasprintf("%s/.dockerignore", dir);
    _cleanup_free_ char *itext = NULL;
    size_t ilen = 0;
    struct err ierr = {0};
    if (fs_read_file(ipath, &itext, &ilen, &ierr) == 0)
        ignore_parse(itext, &f.ig);
    for (size_t i = 0; i < f.ig.n; i++)
        f.negations |= !f.ig.rules[i].exclude;

    const char *tmpdir = getenv("TMPDIR");
    char rnd[ID_HEX_LEN + 1];
    id_new_hex(rnd);
    char *tar = xasprintf("%s/shoal-build-%.16s.tar",
                          tmpdir && *tmpdir ? tmpdir : "/tmp", rnd);
    int rc;
    if (outside) {
        /* The Dockerfile lives elsewhere: stage a tree of the context
         * plus that file under its private name. Symlinks keep it cheap:
         * the archive stores the link, so copy the file instead. */
        _cleanup_free_ char *stage = xasprintf("%s.d", tar);
        rc = fs_mkdir_p(stage, 0700, err);
        _cleanup_free_ char *inner = xasprintf("%s/ctx.tar", stage);
        if (rc == 0)
            rc =
                arc_write_tree(dir, inner, ARC_TREE_PLAIN, keep_entry, &f, err);
        _cleanup_free_ char *root = xasprintf("%s/root", stage);
        if (rc == 0)
            rc = fs_mkdir_p(root, 0700, err);
        if (rc == 0)
            rc = arc_unpack_tree(inner, root, err);
        char *text = NULL;
        size_t len = 0;
        if (rc == 0)
            rc = fs_read_file(outside, &text, &len, err);
        if (rc == 0) {
            _cleanup_free_ char *dst = xasprintf("%s/%s", root, outside_name);
            rc = fs_write_file_replace(dst, text, len, 0644, err);
        }
        free(text);
        if (rc == 0)
            rc = arc_write_tree(root, tar, ARC_TREE_PLAIN, NULL, NULL, err);
        struct err e2 = {0};
        fs_remove_tree(stage, &e2);
    } else {
        rc = arc_write_tree(dir, tar, ARC_TREE_PLAIN, keep_entry, &f, err);
    }
    ignore_fini(&f.ig);
    if (rc < 0) {
        unlink(tar);
        free(tar);
        err_ctx(err, "archive the build context '%s'", dir);
        return NULL;
    }
    return tar;
}

/* ---- The streamed log ---- */

struct build_out {
    struct cli_ctx *ctx;
    struct buf line;
    bool quiet;
    char *id;
    struct err err;
    bool failed;
};

static int out_line(struct build_out *o, const char *s, size_t n)
{
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (!n)
        return 0;
    json_error_t je;
    json_t *m = json_loadb(s, n, 0, &je);
    if (!m) {
        if (!o->quiet)
            fprintf(o->ctx->out, "%.*s\n", (int)n, s);
        return 0;
    }
    const char *e = jx_str(m, "error");
    if (!e)
        e = jx_path_str(m, "errorDetail.message");
    if (e) {
        err_set(&o->err, ERR_INTERNAL, "%s", e);
        o->failed = true;
        json_decref(m);
        return -1;
    }
    const char *id = jx_path_str(m, "aux.ID");
    if (id) {
        free(o->id);
        o->id = xstrdup(id);
    }
    const char *stream = jx_str(m, "stream");
    if (stream && !o->quiet) {
        fputs(stream, o->ctx->out);
        fflush(o->ctx->out);
    }
    json_decref(m);
    return 0;
}

static int on_data(const char *data, size_t len, void *ud)
{
    struct build_out *o = ud;
    buf_append(&o->line, data, len);
    for (;;) {
        char *nl =
            o->line.data ? memchr(o->line.data, '\n', o->line.len) : NULL;
        if (!nl)
            return 0;
        size_t n = (size_t)(nl - o->line.data) + 1;
        if (out_line(o, o->line.data, n) < 0)
            return -1;
        buf_consume(&o->line, n);
    }
}

/* ---- The command ---- */

static int add_build_args(const struct cli_flags *fl, json_t *args,
                          struct err *err)
{
    const struct vec *v = cli_flag_list(fl, "build-arg");
    for (size_t i = 0; i < v->len; i++) {
        const char *kv = v->items[i];
        const char *eq = strchr(kv, '=');
        if (eq == kv)
            return err_set(err, ERR_INVALID, "invalid --build-arg \"%s\"", kv);
        if (eq) {
            _cleanup_free_ char *k = xstrndup(kv, (size_t)(eq - kv));
            json_object_set_new(args, k, json_string(eq + 1));
        } else {
            /* "--build-arg NAME": the value from this environment. */
            const char *env = getenv(kv);
            json_object_set_new(args, kv, env ? json_string(env) : json_null());
        }
    }
    return 0;
}

static int add_labels(const struct cli_flags *fl, json_t *labels)
{
    const struct vec *v = cli_flag_list(fl, "label");
    for (size_t i = 0; i < v->len; i++) {
        const char *kv = v->items[i];
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *k =
            eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
        json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
    }
    return 0;
}

static int run_build(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    const char *dir = fl->args[0];
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return err_set(err, ERR_INVALID,
                       "unable to prepare context: path \"%s\" not found", dir);
    _cleanup_free_ char *real_dir = realpath(dir, NULL);
    if (!real_dir)
        return err_sys(err, errno, "resolve '%s'", dir);

    /* Where the Dockerfile is, relative to the context. */
    const char *file = cli_flag_str(fl, "file");
    _cleanup_free_ char *dockerfile_rel = NULL;
    _cleanup_free_ char *outside = NULL;
    _cleanup_free_ char *outside_name = NULL;
    if (file && *file && strcmp(file, "-") != 0) {
        _cleanup_free_ char *real_file = realpath(file, NULL);
        if (!real_file)
            return err_set(err, ERR_INVALID,
                           "unable to prepare context: unable to evaluate "
                           "symlinks in Dockerfile path: lstat %s: no such "
                           "file or directory",
                           file);
        size_t dl = strlen(real_dir);
        if (strncmp(real_file, real_dir, dl) == 0 && real_file[dl] == '/') {
            dockerfile_rel = xstrdup(real_file + dl + 1);
        } else {
            char rnd[ID_HEX_LEN + 1];
            id_new_hex(rnd);
            outside_name = xasprintf(".dockerfile.%.20s", rnd);
            outside = steal_ptr(real_file);
            dockerfile_rel = xstrdup(outside_name);
        }
    } else {
        dockerfile_rel = xstrdup("Dockerfile");
        _cleanup_free_ char *p = xasprintf("%s/Dockerfile", real_dir);
        if (!fs_exists(p))
            return err_set(err, ERR_INVALID,
                           "unable to prepare context: unable to evaluate "
                           "symlinks in Dockerfile path: lstat %s: no such "
                           "file or directory",
                           p);
    }

    _cleanup_json_ json_t *args = json_object();
    _cleanup_json_ json_t *labels = json_object();
    if (add_build_args(fl, args, err) < 0)
        return -1;
    add_labels(fl, labels);

    struct cli_query q;
    cli_query_init(&q);
    const struct vec *tags = cli_flag_list(fl, "tag");
    for (size_t i = 0; i < tags->len; i++)
        cli_query_add(&q, "t", tags->items[i]);
    cli_query_add(&q, "dockerfile", dockerfile_rel);
    if (cli_flag_bool(fl, "no-cache"))
        cli_query_add(&q, "nocache", "1");
    if (cli_flag_bool(fl, "quiet"))
        cli_query_add(&q, "q", "1");
    const char *target = cli_flag_str(fl, "target");
    if (target && *target)
        cli_query_add(&q, "target", target);
    _cleanup_free_ char *args_s = jx_dumps(args);
    _cleanup_free_ char *labels_s = jx_dumps(labels);
    cli_query_add(&q, "buildargs", args_s);
    cli_query_add(&q, "labels", labels_s);
    cli_query_add(&q, "rm", "1");
    _cleanup_free_ char *path = xasprintf("/build%s", cli_query_str(&q));
    cli_query_fini(&q);

    _cleanup_free_ char *tar =
        make_context(real_dir, dockerfile_rel, outside, outside_name, err);
    if (!tar)
        return -1;
    FILE *f = fopen(tar, "rb");
    unlink(tar);
    if (!f)
        return err_sys(err, errno, "open '%s'", tar);
    struct stat tst;
    long long len = fstat(fileno(f), &tst) == 0 ? (long long)tst.st_size : -1;

    int rc = -1;
    struct cli_client *c = cli_ctx_client(ctx, err);
    struct build_out o = {.ctx = ctx, .quiet = cli_flag_bool(fl, "quiet")};
    buf_init(&o.line);
    if (c) {
        if (!o.quiet)
            fprintf(ctx->out, "Sending build context to shoal daemon  %lldB\n",
                    len);
        struct cli_request req = {.method = "POST",
                                  .path = path,
                                  .content_type = "application/x-tar",
                                  .upload = f,
                                  .upload_len = len,
                                  .on_data = on_data,
                                  .ud = &o};
        rc = cli_client_do(c, &req, NULL, err);
        if (rc == 0 && o.line.len)
            rc = out_line(&o, o.line.data, o.line.len);
        if (o.failed) {
            *err = o.err;
            rc = -1;
        }
        if (rc == 0 && !o.id)
            rc = err_set(err, ERR_INTERNAL,
                         "the daemon ended the build without an image id");
        if (rc == 0 && o.quiet)
            fprintf(ctx->out, "%s\n", o.id);
    }
    fclose(f);
    free(o.id);
    buf_fini(&o.line);
    return rc;
}

static const struct cli_flag build_flags[] = {
    {"tag", 't', CLI_FLAG_LIST,
     "Name and optionally a tag in the "
     "\"name:tag\" format",
     NULL, "list", NULL, false},
    {"file", 'f', CLI_FLAG_STRING,
     "Name of the Dockerfile (Default is "
     "\"PATH/Dockerfile\")",
     NULL, "string", NULL, false},
    {"no-cache", 0, CLI_FLAG_BOOL, "Do not use cache when building the image",
     NULL, NULL, NULL, false},
    {"target", 0, CLI_FLAG_STRING, "Set the target build stage to build", NULL,
     "string", NULL, false},
    {"build-arg", 0, CLI_FLAG_LIST, "Set build-time variables", NULL, "list",
     NULL, false},
    {"label", 0, CLI_FLAG_LIST, "Set metadata for an image", NULL, "list", NULL,
     false},
    {"quiet", 'q', CLI_FLAG_BOOL,
     "Suppress the build output and print image "
     "ID on success",
     NULL, NULL, NULL, false},
    {"rm", 0, CLI_FLAG_BOOL,
     "Remove intermediate containers after a "
     "successful build (always)",
     "true", NULL, NULL, true},
};

const struct cli_cmd cli_cmd_image_build = {
    .name = "build",
    .use = "[OPTIONS] PATH",
    .short_desc = "Build an image from a Dockerfile",
    .flags = CLI_FLAGS(build_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_build,
};

const struct cli_cmd cli_cmd_build = {
    .name = "build",
    .use = "[OPTIONS] PATH",
    .short_desc = "Build an image from a Dockerfile",
    .flags = CLI_FLAGS(build_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_build,
};
