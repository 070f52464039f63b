// SPDX-License-Identifier: Apache-2.0
// `shoal image pull/push/tag/save`, their top-level forms and `shoal
// login/logout`: registry credentials from ~/.shoal/config.json sent as
// X-Registry-Auth, and the daemon's JSON progress shown like the docker
// CLI's jsonmessage (per-layer bars redrawn on a terminal, plain status
// lines otherwise).
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "cli/cli_creds.h"
#include "cli/cli_progress.h"
#include "cli/client.h"
#include "registry/ref.h"

/* ---- the progress stream ---- */

struct stream {
    struct cli_ctx *ctx;
    struct cli_prender render;
    struct buf out;
    struct buf line;
    struct err err;
    bool failed;
    bool quiet;
};

static void stream_line(struct stream *st, const char *s, size_t n)
{
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (!n || st->failed)
        return;
    json_error_t je;
    _cleanup_json_ json_t *m = json_loadb(s, n, 0, &je);
    if (!m)
        return;
    const char *e = jx_path_str(m, "errorDetail.message");
    if (!e)
        e = jx_str(m, "error");
    if (e) {
        err_set(&st->err, ERR_INTERNAL, "%s", e);
        st->failed = true;
        return;
    }
    const char *status = jx_str(m, "status");
    if (!status || st->quiet)
        return;
    json_t *pd = json_object_get(m, "progressDetail");
    int64_t cur = jx_int(pd, "current", 0), total = jx_int(pd, "total", 0);
    /* As docker's jsonmessage: a message with an id and a progressDetail
     * (even empty) owns that id's line, redrawn in place on a terminal;
     * other messages scroll. */
    const char *id = jx_str(m, "id");
    bool tracked = id && *id && pd;
    cli_prender_write(&st->render, id, status, cur, total, !tracked);
    if (st->out.len) {
        fwrite(st->out.data, 1, st->out.len, st->ctx->out);
        fflush(st->ctx->out);
        buf_reset(&st->out);
    }
}

static int on_stream(const char *data, size_t len, void *ud)
{
    struct stream *st = ud;
    buf_append(&st->line, data, len);
    for (;;) {
        char *nl =
            st->line.data ? memchr(st->line.data, '\n', st->line.len) : NULL;
        if (!nl)
            return 0;
        size_t n = (size_t)(nl - st->line.data) + 1;
        stream_line(st, st->line.data, n);
        buf_consume(&st->line, n);
    }
}

/* POSTs path with the credentials for image and shows the stream. */
static int post_progress(struct cli_ctx *ctx, const char *path,
                         const char *image, bool quiet, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    _cleanup_free_ char *auth = cli_creds_header(image, err);
    if (!auth)
        return -1;
    const char *hdrs[] = {auth, NULL};
    struct stream st = {.ctx = ctx, .quiet = quiet};
    buf_init(&st.out);
    buf_init(&st.line);
    cli_prender_init(&st.render, ctx->out_tty, 200, &st.out);
    st.render.counts = true;
    struct cli_request req = {.method = "POST",
                              .path = path,
                              .headers = hdrs,
                              .on_data = on_stream,
                              .ud = &st};
    int rc = cli_client_do(c, &req, NULL, err);
    if (rc == 0 && st.line.len)
        stream_line(&st, st.line.data, st.line.len);
    if (rc == 0 && st.failed) {
        *err = st.err;
        rc = -1;
    }
    cli_prender_fini(&st.render);
    buf_fini(&st.out);
    buf_fini(&st.line);
    return rc;
}

/* ---- pull / push ---- */

static int run_pull(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct reg_ref r;
    if (reg_ref_parse(fl->args[0], NULL, NULL, &r, err) < 0)
        return -1;
    bool all = cli_flag_bool(fl, "all-tags");
    if (all && (r.tag || r.digest)) {
        reg_ref_fini(&r);
        return err_set(err, ERR_INVALID,
                       "tag can't be used with --all-tags/-a");
    }
    struct cli_query q;
    cli_query_init(&q);
    cli_query_add(&q, "fromImage", r.repo);
    cli_query_add(&q, "tag", r.digest ? r.digest : r.tag ? r.tag : "latest");
    const char *platform = cli_flag_str(fl, "platform");
    if (platform && *platform)
        cli_query_add(&q, "platform", platform);
    _cleanup_free_ char *path =
        xasprintf("/images/create%s", cli_query_str(&q));
    cli_query_fini(&q);
    bool quiet = cli_flag_bool(fl, "quiet");
    int rc = post_progress(ctx, path, fl->args[0], quiet, err);
    if (rc == 0) {
        /* docker prints the canonical reference last. */
        const char *tag = r.tag ? r.tag : r.digest ? NULL : "latest";
        fprintf(ctx->out, "%s/%s%s%s%s%s\n", r.domain, r.path, tag ? ":" : "",
                tag ? tag : "", r.digest ? "@" : "", r.digest ? r.digest : "");
    }
    reg_ref_fini(&r);
    return rc;
}

static int run_push(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct reg_ref r;
    if (reg_ref_parse(fl->args[0], NULL, NULL, &r, err) < 0)
        return -1;
    bool all = cli_flag_bool(fl, "all-tags");
    if (all && (r.tag || r.digest)) {
        reg_ref_fini(&r);
        return err_set(err, ERR_INVALID,
                       "tag can't be used with --all-tags/-a");
    }
    struct cli_query q;
    cli_query_init(&q);
    cli_query_add(&q, "tag", all ? "" : r.tag ? r.tag : "latest");
    _cleanup_free_ char *repo = cli_path_escape(r.repo);
    _cleanup_free_ char *path =
        xasprintf("/images/%s/push%s", repo, cli_query_str(&q));
    cli_query_fini(&q);
    int rc =
        post_progress(ctx, path, fl->args[0], cli_flag_bool(fl, "quiet"), err);
    if (rc == 0 && cli_flag_bool(fl, "quiet"))
        fprintf(ctx->out, "%s\n", fl->args[0]);
    reg_ref_fini(&r);
    return rc;
}

/* ---- tag ---- */

static int run_tag(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct reg_ref t;
    if (reg_ref_parse(fl->args[1], NULL, NULL, &t, err) < 0)
        return -1;
    if (t.digest) {
        reg_ref_fini(&t);
        return err_set(err, ERR_INVALID,
                       "refusing to create a tag with a digest reference");
    }
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c) {
        reg_ref_fini(&t);
        return -1;
    }
    struct cli_query q;
    cli_query_init(&q);
    cli_query_add(&q, "repo", t.repo);
    cli_query_add(&q, "tag", t.tag ? t.tag : "latest");
    _cleanup_free_ char *src = cli_path_escape(fl->args[0]);
    _cleanup_free_ char *path =
        xasprintf("/images/%s/tag%s", src, cli_query_str(&q));
    cli_query_fini(&q);
    reg_ref_fini(&t);
    json_t *j = cli_client_send_json(c, "POST", path, NULL, err);
    if (!j)
        return -1;
    json_decref(j);
    return 0;
}

/* ---- save ---- */

static int write_out(const char *data, size_t len, void *ud)
{
    return fwrite(data, 1, len, ud) == len ? 0 : -1;
}

static int run_save(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    const char *output = cli_flag_str(fl, "output");
    bool to_stdout = !output || !*output || strcmp(output, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO))
        return err_set(err, ERR_INVALID,
                       "cowardly refusing to save to a terminal. Use the -o "
                       "flag or redirect");
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    struct cli_query q;
    cli_query_init(&q);
    for (size_t i = 0; i < fl->nargs; i++)
        cli_query_add(&q, "names", fl->args[i]);
    _cleanup_free_ char *path = xasprintf("/images/get%s", cli_query_str(&q));
    cli_query_fini(&q);
    _cleanup_free_ char *tmp = to_stdout ? NULL : xasprintf("%s.tmp", output);
    FILE *f = to_stdout ? ctx->out : fopen(tmp, "wb");
    if (!f)
        return err_sys(err, errno, "failed to save image: open %s", output);
    struct cli_request req = {
        .method = "GET", .path = path, .on_data = write_out, .ud = f};
    int rc = cli_client_do(c, &req, NULL, err);
    if (to_stdout) {
        fflush(f);
        return rc;
    }
    if (fclose(f) != 0 && rc == 0)
        rc = err_sys(err, errno, "failed to save image: write %s", output);
    if (rc == 0 && rename(tmp, output) < 0)
        rc = err_sys(err, errno, "failed to save image: rename %s", output);
    if (rc < 0)
        unlink(tmp);
    return rc;
}

/* ---- login / logout ---- */

/* Reads one line from the terminal, echo off when secret. */
static char *prompt(struct cli_ctx *ctx, const char *what, bool secret)
{
    fprintf(ctx->out, "%s", what);
    fflush(ctx->out);
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (secret && tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (secret && tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fprintf(ctx->out, "\n");
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

static int run_login(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    const char *server = fl->nargs ? fl->args[0] : "";
    _cleanup_free_ char *domain = reg_server_domain(server, err);
    if (!domain)
        return -1;
    const char *u = cli_flag_str(fl, "username");
    const char *p = cli_flag_str(fl, "password");
    bool from_stdin = cli_flag_bool(fl, "password-stdin");
    _cleanup_free_ char *user = u && *u ? xstrdup(u) : NULL;
    _cleanup_free_ char *pass = p && *p ? xstrdup(p) : NULL;
    if (pass && from_stdin)
        return err_set(err, ERR_INVALID,
                       "--password and --password-stdin are mutually "
                       "exclusive");
    if (pass)
        fprintf(ctx->err, "WARNING! Using --password via the CLI is "
                          "insecure. Use --password-stdin.\n");
    if (from_stdin) {
        if (!user)
            return err_set(err, ERR_INVALID,
                           "Must provide --username with --password-stdin");
        char *line = NULL;
        size_t cap = 0;
        ssize_t n = getline(&line, &cap, stdin);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        pass = n > 0 ? line : (free(line), NULL);
        if (!pass)
            return err_set(err, ERR_INVALID, "no password on stdin");
    }
    if ((!user || !pass) && !isatty(STDIN_FILENO))
        return err_set(err, ERR_INVALID,
                       "Cannot perform an interactive login from a non TTY "
                       "device");
    if (!user)
        user = prompt(ctx, "Username: ", false);
    if (!pass)
        pass = prompt(ctx, "Password: ", true);
    if (!user || !*user)
        return err_set(err, ERR_INVALID, "Username is required");
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    _cleanup_free_ char *key = reg_auth_key(domain);
    json_t *body = json_pack("{s:s, s:s, s:s}", "username", user, "password",
                             pass ? pass : "", "serveraddress", key);
    json_t *j = cli_client_send_json(c, "POST", "/auth", body, err);
    json_decref(body);
    if (!j)
        return -1;
    json_decref(j);
    if (cli_creds_put(domain, user, pass, err) < 0)
        return -1;
    fprintf(ctx->out, "Login Succeeded\n");
    return 0;
}

static int run_logout(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    const char *server = fl->nargs ? fl->args[0] : "";
    _cleanup_free_ char *domain = reg_server_domain(server, err);
    if (!domain)
        return -1;
    _cleanup_free_ char *key = reg_auth_key(domain);
    int rc = cli_creds_put(domain, NULL, NULL, err);
    if (rc < 0)
        return -1;
    if (rc == 1)
        fprintf(ctx->out, "Not logged in to %s\n", key);
    else
        fprintf(ctx->out, "Removing login credentials for %s\n", key);
    return 0;
}

/* ---- command table ---- */

static const struct cli_flag pull_flags[] = {
    {"all-tags", 'a', CLI_FLAG_BOOL,
     "Download all tagged images in the "
     "repository",
     NULL, NULL, NULL, false},
    {"platform", 0, CLI_FLAG_STRING,
     "Set platform if server is "
     "multi-platform capable",
     NULL, NULL, NULL, false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Suppress verbose output", NULL, NULL, NULL,
     false},
    {"disable-content-trust", 0, CLI_FLAG_BOOL, "Skip image verification",
     "true", NULL, NULL, false},
};

static const struct cli_flag push_flags[] = {
    {"all-tags", 'a', CLI_FLAG_BOOL,
     "Push all tags of an image to the "
     "repository",
     NULL, NULL, NULL, false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Suppress verbose output", NULL, NULL, NULL,
     false},
    {"disable-content-trust", 0, CLI_FLAG_BOOL, "Skip image signing", "true",
     NULL, NULL, false},
};

static const struct cli_flag save_flags[] = {
    {"output", 'o', CLI_FLAG_STRING, "Write to a file, instead of STDOUT", NULL,
     NULL, NULL, false},
};

static const struct cli_flag login_flags[] = {
    {"username", 'u', CLI_FLAG_STRING, "Username", NULL, NULL, NULL, false},
    {"password", 'p', CLI_FLAG_STRING, "Password", NULL, NULL, NULL, false},
    {"password-stdin", 0, CLI_FLAG_BOOL, "Take the password from stdin", NULL,
     NULL, NULL, false},
};

#define PULL_CMD(sym)                                                          \
    const struct cli_cmd sym = {                                               \
        .name = "pull",                                                        \
        .use = "[OPTIONS] NAME[:TAG|@DIGEST]",                                 \
        .short_desc = "Download an image from a registry",                     \
        .flags = CLI_FLAGS(pull_flags),                                        \
        .args = CLI_ARGS_EXACT,                                                \
        .nmin = 1,                                                             \
        .run = run_pull,                                                       \
    }
#define PUSH_CMD(sym)                                                          \
    const struct cli_cmd sym = {                                               \
        .name = "push",                                                        \
        .use = "[OPTIONS] NAME[:TAG]",                                         \
        .short_desc = "Upload an image to a registry",                         \
        .flags = CLI_FLAGS(push_flags),                                        \
        .args = CLI_ARGS_EXACT,                                                \
        .nmin = 1,                                                             \
        .run = run_push,                                                       \
    }
#define TAG_CMD(sym)                                                           \
    const struct cli_cmd sym = {                                               \
        .name = "tag",                                                         \
        .use = "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",                        \
        .short_desc = "Create a tag TARGET_IMAGE that refers to "              \
                      "SOURCE_IMAGE",                                          \
        .args = CLI_ARGS_EXACT,                                                \
        .nmin = 2,                                                             \
        .run = run_tag,                                                        \
    }
#define SAVE_CMD(sym)                                                          \
    const struct cli_cmd sym = {                                               \
        .name = "save",                                                        \
        .use = "[OPTIONS] IMAGE [IMAGE...]",                                   \
        .short_desc = "Save one or more images to a tar archive (streamed "    \
                      "to STDOUT by default)",                                 \
        .flags = CLI_FLAGS(save_flags),                                        \
        .args = CLI_ARGS_MIN,                                                  \
        .nmin = 1,                                                             \
        .run = run_save,                                                       \
    }

PULL_CMD(cli_cmd_image_pull);
PUSH_CMD(cli_cmd_image_push);
TAG_CMD(cli_cmd_image_tag);
SAVE_CMD(cli_cmd_image_save);
PULL_CMD(cli_cmd_pull);
PUSH_CMD(cli_cmd_push);
TAG_CMD(cli_cmd_tag);
SAVE_CMD(cli_cmd_save);

const struct cli_cmd cli_cmd_login = {
    .name = "login",
    .use = "[OPTIONS] [SERVER]",
    .short_desc = "Log in to a registry",
    .flags = CLI_FLAGS(login_flags),
    .args = CLI_ARGS_MAX,
    .nmax = 1,
    .run = run_login,
};

const struct cli_cmd cli_cmd_logout = {
    .name = "logout",
    .use = "[SERVER]",
    .short_desc = "Log out from a registry",
    .args = CLI_ARGS_MAX,
    .nmax = 1,
    .run = run_logout,
};
