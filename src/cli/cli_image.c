// SPDX-License-Identifier: Apache-2.0
// `shoal image ...` (ls, rm, load, import, inspect) and docker's top-level
// shortcuts `images`, `rmi`, `load`, `import`: the image list table, tar
// uploads streamed from a file (or stdin, spooled so the daemon gets a
// Content-Length) and the JSON-message progress the daemon answers with.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/format.h"

/* ---- ls ---------------------------------------------------------------- */

struct image_rec {
    const json_t *img;
    char *repo;
    char *tag;
    char *digest;
    bool trunc;
    int64_t now;
};

static char *image_field(const char *field, void *rec)
{
    struct image_rec *r = rec;
    if (!strcmp(field, "Repository"))
        return xstrdup(r->repo);
    if (!strcmp(field, "Tag"))
        return xstrdup(r->tag);
    if (!strcmp(field, "Digest"))
        return xstrdup(r->digest);
    if (!strcmp(field, "ID")) {
        if (!r->trunc)
            return xstrdup(jx_str0(r->img, "Id"));
        char id[16];
        cli_fmt_trunc_id(jx_str0(r->img, "Id"), id, sizeof(id));
        return xstrdup(id);
    }
    if (!strcmp(field, "CreatedSince") || !strcmp(field, "CreatedAt")) {
        int64_t created = jx_int(r->img, "Created", 0);
        char human[64];
        duration_human(r->now - created * NS_PER_SEC, human, sizeof(human));
        return xasprintf("%s ago", human);
    }
    if (!strcmp(field, "Size")) {
        char s[32];
        cli_fmt_human_size((double)jx_int(r->img, "Size", 0), 3, s, sizeof(s));
        return xstrdup(s);
    }
    if (!strcmp(field, "Containers")) {
        long long n = jx_int(r->img, "Containers", -1);
        return n == -1 ? xstrdup("N/A") : xasprintf("%lld", n);
    }
    return NULL;
}

static const struct cli_field image_fields[] = {
    {"Repository", "REPOSITORY"},
    {"Tag", "TAG"},
    {"Digest", "DIGEST"},
    {"ID", "IMAGE ID"},
    {"CreatedSince", "CREATED"},
    {"CreatedAt", "CREATED AT"},
    {"Size", "SIZE"},
    {"Containers", "CONTAINERS"},
};

/* Splits "repo:tag" (the tag after the last '/'), familiar form. */
static void split_ref(const char *ref, char **repo, char **tag, char **dgst)
{
    char *fam = cli_fmt_image_familiar(ref);
    const char *at = strchr(ref, '@');
    *dgst = at ? xstrdup(at + 1) : NULL;
    char *slash = strrchr(fam, '/');
    char *colon = strrchr(slash ? slash : fam, ':');
    if (colon && !at) {
        *repo = xstrndup(fam, (size_t)(colon - fam));
        *tag = xstrdup(colon + 1);
    } else {
        char *a = strchr(fam, '@');
        *repo = a ? xstrndup(fam, (size_t)(a - fam)) : xstrdup(fam);
        *tag = NULL;
    }
    free(fam);
}

static void add_rec(struct image_rec **recs, size_t *n, size_t *cap,
                    const json_t *img, char *repo, char *tag, char *digest,
                    bool trunc)
{
    /* The clock is filled in by the caller once all rows exist. */
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *recs = xrealloc(*recs, *cap * sizeof(**recs));
    }
    (*recs)[(*n)++] = (struct image_rec){img, repo, tag, digest, trunc, 0};
}

static int run_ls(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    json_t *f = cli_filters_from_flag(fl, "filter", err);
    if (!f)
        return -1;
    if (fl->nargs > 0)
        cli_filters_add(f, "reference", fl->args[0]);
    _cleanup_free_ char *fj = cli_filters_encode(f);
    json_decref(f);
    struct cli_query q;
    cli_query_init(&q);
    if (cli_flag_bool(fl, "all"))
        cli_query_add(&q, "all", "1");
    if (fj)
        cli_query_add(&q, "filters", fj);
    _cleanup_free_ char *path = xasprintf("/images/json%s", cli_query_str(&q));
    cli_query_fini(&q);
    _cleanup_json_ json_t *images = cli_client_get_json(c, path, err);
    if (!images)
        return -1;
    bool quiet = cli_flag_bool(fl, "quiet");
    bool trunc = !cli_flag_bool(fl, "no-trunc");
    bool digests = cli_flag_bool(fl, "digests");
    const char *format = cli_flag_str(fl, "format");
    struct image_rec *recs = NULL;
    size_t n = 0, cap = 0;
    size_t i;
    json_t *img;
    json_array_foreach(images, i, img)
    {
        json_t *tags = json_object_get(img, "RepoTags");
        json_t *dgs = json_object_get(img, "RepoDigests");
        bool dangling = json_array_size(tags) == 0 && json_array_size(dgs) == 0;
        if (json_array_size(tags) == 1 && json_array_size(dgs) == 1 &&
            !strcmp(cli_jstr(json_array_get(tags, 0)), "<none>:<none>"))
            dangling = true;
        if (dangling) {
            add_rec(&recs, &n, &cap, img, xstrdup("<none>"), xstrdup("<none>"),
                    xstrdup("<none>"), trunc);
            continue;
        }
        /* One row per tag; digest-only repositories get "<none>". */
        size_t k;
        json_t *t;
        json_t *seen = json_object();
        json_array_foreach(tags, k, t)
        {
            char *repo, *tag, *dg;
            split_ref(cli_jstr(t), &repo, &tag, &dg);
            free(dg);
            if (!tag) {
                free(repo);
                continue;
            }
            json_object_set_new(seen, repo, json_true());
            char *digest = xstrdup("<none>");
            if (digests) {
                size_t m;
                json_t *d;
                json_array_foreach(dgs, m, d)
                {
                    char *r2, *t2, *d2;
                    split_ref(cli_jstr(d), &r2, &t2, &d2);
                    if (!strcmp(r2, repo) && d2) {
                        free(digest);
                        digest = xstrdup(d2);
                    }
                    free(r2);
                    free(t2);
                    free(d2);
                }
            }
            add_rec(&recs, &n, &cap, img, repo, tag, digest, trunc);
        }
        json_array_foreach(dgs, k, t)
        {
            char *repo, *tag, *dg;
            if (!cli_jstr(t) || !cli_ref_digest_valid(cli_jstr(t)))
                continue;
            split_ref(cli_jstr(t), &repo, &tag, &dg);
            free(tag);
            if (!dg || json_object_get(seen, repo)) {
                free(repo);
                free(dg);
                continue;
            }
            json_object_set_new(seen, repo, json_true());
            add_rec(&recs, &n, &cap, img, repo, xstrdup("<none>"),
                    digests ? dg : xstrdup(""), trunc);
            if (!digests)
                free(dg);
        }
        json_decref(seen);
    }
    void **ptrs = xcalloc(n + 1, sizeof(void *));
    for (i = 0; i < n; i++) {
        recs[i].now = cli_ctx_now(ctx);
        ptrs[i] = &recs[i];
    }
    int rc = cli_print_list(
        ctx, quiet ? "{{.ID}}" : format,
        digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{."
                  "CreatedSince}}\t{{.Size}}"
                : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}"
                  "\t{{.Size}}",
        image_fields, ARRAY_SIZE(image_fields), image_field, ptrs, n, err);
    for (i = 0; i < n; i++) {
        free(recs[i].repo);
        free(recs[i].tag);
        free(recs[i].digest);
    }
    free(recs);
    free(ptrs);
    return rc;
}

/* ---- rm ---------------------------------------------------------------- */

static int run_rm(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    struct buf errs;
    buf_init(&errs);
    for (size_t i = 0; i < fl->nargs; i++) {
        struct cli_query q;
        cli_query_init(&q);
        if (cli_flag_bool(fl, "force"))
            cli_query_add(&q, "force", "1");
        if (cli_flag_bool(fl, "no-prune"))
            cli_query_add(&q, "noprune", "1");
        _cleanup_free_ char *esc = cli_path_escape(fl->args[i]);
        _cleanup_free_ char *path =
            xasprintf("/images/%s%s", esc, cli_query_str(&q));
        cli_query_fini(&q);
        struct cli_request req = {.method = "DELETE", .path = path};
        struct cli_response resp;
        struct err e = {0};
        if (cli_client_do(c, &req, &resp, &e) < 0) {
            buf_fini(&resp.body);
            buf_printf(&errs, "%s%s", errs.len ? "\n" : "", e.msg);
            continue;
        }
        json_error_t je;
        json_t *items = resp.body.len
                            ? json_loadb(resp.body.data, resp.body.len, 0, &je)
                            : NULL;
        buf_fini(&resp.body);
        size_t k;
        json_t *it;
        json_array_foreach(items, k, it)
        {
            if (jx_str(it, "Deleted"))
                fprintf(ctx->out, "Deleted: %s\n", jx_str(it, "Deleted"));
            else if (jx_str(it, "Untagged"))
                fprintf(ctx->out, "Untagged: %s\n", jx_str(it, "Untagged"));
        }
        json_decref(items);
    }
    int rc = 0;
    if (errs.len)
        rc = err_set(err, ERR_INTERNAL, "%s", errs.data);
    buf_fini(&errs);
    return rc;
}

/* ---- inspect ----------------------------------------------------------- */

static char *fetch_image(struct cli_client *c, const char *arg, void *data,
                         struct err *e)
{
    (void)data;
    _cleanup_free_ char *esc = cli_path_escape(arg);
    _cleanup_free_ char *path = xasprintf("/images/%s/json", esc);
    size_t len;
    char *raw = cli_client_get_raw(c, path, &len, e);
    if (!raw && e->code == ERR_NOTFOUND)
        err_set(e, ERR_NOTFOUND, "Error: No such image: %s", arg);
    return raw;
}

static int run_inspect(struct cli_ctx *ctx, struct cli_flags *fl,
                       struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    const char *format = cli_flag_str(fl, "format");
    return cli_inspect(ctx, c, fl->args, fl->nargs, format, NULL, fetch_image,
                       NULL, err);
}

/* ---- load / import ----------------------------------------------------- */

/* Displays a JSON-message stream (one object per line) like docker's
 * jsonmessage without a terminal; the first "error" ends it. */
struct jsonmsg_state {
    struct cli_ctx *ctx;
    struct buf line;
    struct err err;
    bool failed;
};

static int jsonmsg_line(struct jsonmsg_state *st, const char *s, size_t n)
{
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (!n)
        return 0;
    json_error_t je;
    json_t *m = json_loadb(s, n, 0, &je);
    if (!m) {
        fprintf(st->ctx->out, "%.*s\n", (int)n, s);
        return 0;
    }
    const char *e = jx_str(m, "error");
    if (!e)
        e = jx_path_str(m, "errorDetail.message");
    if (e) {
        err_set(&st->err, ERR_INTERNAL, "%s", e);
        st->failed = true;
        json_decref(m);
        return -1;
    }
    const char *stream = jx_str(m, "stream");
    if (stream) {
        fputs(stream, st->ctx->out);
    } else if (jx_str(m, "status")) {
        const char *id = jx_str(m, "id");
        if (id && *id)
            fprintf(st->ctx->out, "%s: ", id);
        fprintf(st->ctx->out, "%s\n", jx_str(m, "status"));
    }
    fflush(st->ctx->out);
    json_decref(m);
    return 0;
}

static int on_jsonmsg(const char *data, size_t len, void *ud)
{
    struct jsonmsg_state *st = ud;
    buf_append(&st->line, data, len);
    for (;;) {
        char *nl =
            st->line.data ? memchr(st->line.data, '\n', st->line.len) : NULL;
        if (!nl)
            return 0;
        size_t n = (size_t)(nl - st->line.data) + 1;
        if (jsonmsg_line(st, st->line.data, n) < 0)
            return -1;
        buf_consume(&st->line, n);
    }
}

/* Opens the upload: a regular file as is, anything else (stdin, pipes)
 * spooled to a temporary file so the request has a Content-Length. */
static FILE *open_upload(const char *path, long long *len, struct err *err)
{
    FILE *in = path ? fopen(path, "rb") : stdin;
    if (!in) {
        err_sys(err, errno, "open %s", path);
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode)) {
        *len = (long long)st.st_size - (long long)ftello(in);
        return in;
    }
    FILE *tmp = tmpfile();
    if (!tmp) {
        err_sys(err, errno, "create temporary file");
        if (in != stdin)
            fclose(in);
        return NULL;
    }
    char buf[65536];
    size_t n;
    long long total = 0;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        if (fwrite(buf, 1, n, tmp) != n) {
            err_sys(err, errno, "spool input");
            fclose(tmp);
            if (in != stdin)
                fclose(in);
            return NULL;
        }
        total += (long long)n;
    }
    if (in != stdin)
        fclose(in);
    rewind(tmp);
    *len = total;
    return tmp;
}

/* POSTs f (NULL = no body) to path and displays the JSON-message reply. */
static int post_stream(struct cli_ctx *ctx, const char *path, const char *ctype,
                       FILE *f, long long len, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    struct jsonmsg_state st = {.ctx = ctx};
    buf_init(&st.line);
    struct cli_request req = {.method = "POST",
                              .path = path,
                              .content_type = f ? ctype : NULL,
                              .upload = f,
                              .upload_len = len,
                              .on_data = on_jsonmsg,
                              .ud = &st};
    int rc = cli_client_do(c, &req, NULL, err);
    if (rc == 0 && st.line.len)
        rc = jsonmsg_line(&st, st.line.data, st.line.len);
    if (st.failed) {
        *err = st.err;
        rc = -1;
    }
    buf_fini(&st.line);
    return rc;
}

/* Uploads a file (or stdin for NULL / "-") to path. */
static int upload(struct cli_ctx *ctx, const char *path, const char *file,
                  const char *ctype, struct err *err)
{
    long long len = -1;
    bool from_stdin = !file || !strcmp(file, "-");
    FILE *f = open_upload(from_stdin ? NULL : file, &len, err);
    if (!f)
        return -1;
    int rc = post_stream(ctx, path, ctype, f, len, err);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int run_load(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    const char *input = cli_flag_str(fl, "input");
    bool from_stdin = !input || !*input || !strcmp(input, "-");
    if (from_stdin && isatty(STDIN_FILENO))
        return err_set(err, ERR_INVALID,
                       "requested load from stdin, but stdin is empty");
    /* Like docker, ask for the quiet form when output is not a terminal. */
    bool quiet = cli_flag_bool(fl, "quiet") || !ctx->out_tty;
    return upload(ctx, quiet ? "/images/load?quiet=1" : "/images/load?quiet=0",
                  from_stdin ? NULL : input, "application/x-tar", err);
}

static int run_import(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    const char *src = fl->args[0];
    bool url = !strncmp(src, "http://", 7) || !strncmp(src, "https://", 8);
    struct cli_query q;
    cli_query_init(&q);
    const struct vec *changes = cli_flag_list(fl, "change");
    for (size_t i = 0; i < changes->len; i++)
        cli_query_add(&q, "changes", changes->items[i]);
    cli_query_add(&q, "fromSrc", url ? src : "-");
    const char *msg = cli_flag_str(fl, "message");
    if (msg && *msg)
        cli_query_add(&q, "message", msg);
    const char *platform = cli_flag_str(fl, "platform");
    if (platform && *platform)
        cli_query_add(&q, "platform", platform);
    if (fl->nargs > 1)
        cli_query_add(&q, "repo", fl->args[1]);
    _cleanup_free_ char *path =
        xasprintf("/images/create%s", cli_query_str(&q));
    cli_query_fini(&q);
    if (url)
        return post_stream(ctx, path, NULL, NULL, -1, err);
    /* docker sends the archive as text/plain. */
    return upload(ctx, path, src, "text/plain", err);
}

/* ---- command table ---------------------------------------------------- */

static const struct cli_flag ls_flags[] = {
    {"all", 'a', CLI_FLAG_BOOL,
     "Show all images (default hides intermediate images)", NULL, NULL, NULL,
     false},
    {"digests", 0, CLI_FLAG_BOOL, "Show digests", NULL, NULL, NULL, false},
    {"filter", 'f', CLI_FLAG_LIST, "Filter output based on conditions provided",
     NULL, "filter", NULL, false},
    {"format", 0, CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
    {"no-trunc", 0, CLI_FLAG_BOOL, "Don't truncate output", NULL, NULL, NULL,
     false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Only show image IDs", NULL, NULL, NULL,
     false},
};

static const struct cli_flag rm_flags[] = {
    {"force", 'f', CLI_FLAG_BOOL, "Force removal of the image", NULL, NULL,
     NULL, false},
    {"no-prune", 0, CLI_FLAG_BOOL, "Do not delete untagged parents", NULL, NULL,
     NULL, false},
};

static const struct cli_flag inspect_flags[] = {
    {"format", 'f', CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
};

static const struct cli_flag load_flags[] = {
    {"input", 'i', CLI_FLAG_STRING,
     "Read from tar archive file, instead of STDIN", NULL, NULL, NULL, false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Suppress the load output", NULL, NULL, NULL,
     false},
};

static const struct cli_flag import_flags[] = {
    {"change", 'c', CLI_FLAG_LIST,
     "Apply Dockerfile instruction to the created image", NULL, NULL, NULL,
     false},
    {"message", 'm', CLI_FLAG_STRING, "Set commit message for imported image",
     NULL, NULL, NULL, false},
    {"platform", 0, CLI_FLAG_STRING,
     "Set platform if server is multi-platform "
     "capable",
     NULL, NULL, NULL, false},
};

static const char *const ls_aliases[] = {"list", NULL};
static const char *const rm_aliases[] = {"remove", NULL};

static const struct cli_cmd cmd_ls = {
    .name = "ls",
    .aliases = ls_aliases,
    .use = "[OPTIONS] [REPOSITORY[:TAG]]",
    .short_desc = "List images",
    .flags = CLI_FLAGS(ls_flags),
    .args = CLI_ARGS_MAX,
    .nmax = 1,
    .run = run_ls,
};

static const struct cli_cmd cmd_rm = {
    .name = "rm",
    .aliases = rm_aliases,
    .use = "[OPTIONS] IMAGE [IMAGE...]",
    .short_desc = "Remove one or more images",
    .flags = CLI_FLAGS(rm_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_rm,
};

static const struct cli_cmd cmd_inspect = {
    .name = "inspect",
    .use = "[OPTIONS] IMAGE [IMAGE...]",
    .short_desc = "Display detailed information on one or more images",
    .flags = CLI_FLAGS(inspect_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_inspect,
};

static const struct cli_cmd cmd_load = {
    .name = "load",
    .use = "[OPTIONS]",
    .short_desc = "Load an image from a tar archive or STDIN",
    .flags = CLI_FLAGS(load_flags),
    .args = CLI_ARGS_NONE,
    .run = run_load,
};

static const struct cli_cmd cmd_import = {
    .name = "import",
    .use = "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
    .short_desc = "Import the contents from a tarball to create a filesystem "
                  "image",
    .flags = CLI_FLAGS(import_flags),
    .args = CLI_ARGS_RANGE,
    .nmin = 1,
    .nmax = 2,
    .run = run_import,
};

static const struct cli_cmd *const image_subs[] = {
    &cli_cmd_image_build,
    &cmd_import,
    &cmd_inspect,
    &cmd_load,
    &cmd_ls,
    &cli_cmd_image_pull,
    &cli_cmd_image_push,
    &cmd_rm,
    &cli_cmd_image_save,
    &cli_cmd_image_tag,
    NULL,
};

const struct cli_cmd cli_cmd_image = {
    .name = "image",
    .use = "COMMAND",
    .short_desc = "Manage images",
    .subs = image_subs,
};

const struct cli_cmd cli_cmd_images = {
    .name = "images",
    .use = "[OPTIONS] [REPOSITORY[:TAG]]",
    .short_desc = "List images",
    .flags = CLI_FLAGS(ls_flags),
    .args = CLI_ARGS_MAX,
    .nmax = 1,
    .run = run_ls,
};

const struct cli_cmd cli_cmd_rmi = {
    .name = "rmi",
    .use = "[OPTIONS] IMAGE [IMAGE...]",
    .short_desc = "Remove one or more images",
    .flags = CLI_FLAGS(rm_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_rm,
};

const struct cli_cmd cli_cmd_load = {
    .name = "load",
    .use = "[OPTIONS]",
    .short_desc = "Load an image from a tar archive or STDIN",
    .flags = CLI_FLAGS(load_flags),
    .args = CLI_ARGS_NONE,
    .run = run_load,
};

const struct cli_cmd cli_cmd_import = {
    .name = "import",
    .use = "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
    .short_desc = "Import the contents from a tarball to create a filesystem "
                  "image",
    .flags = CLI_FLAGS(import_flags),
    .args = CLI_ARGS_RANGE,
    .nmin = 1,
    .nmax = 2,
    .run = run_import,
};
