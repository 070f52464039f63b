// SPDX-License-Identifier: Apache-2.0
// `shoal stack deploy`: the compose files are read and converted first
// (src/compose; nothing is sent for a file with an error), then the docker
// CLI 28's requests in its order: GET /info, the old services to prune,
// external networks checked, the stack's networks created if missing,
// secrets and configs created or updated, their IDs looked up, and each
// service created or updated in place at its current version (its
// ForceUpdate kept, its image resolved per --resolve-image).
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli_creds.h"
#include "cli/cli_progress.h"
#include "cli/cli_service.h"
#include "cli/cli_stack.h"
#include "compose/compose.h"

extern char **environ;

static int check_resolve_image(const char *v, struct err *err)
{
    if (strcmp(v, "always") && strcmp(v, "changed") && strcmp(v, "never"))
        return err_set(err, ERR_INVALID,
                       "Invalid option %s for flag "
                       "--resolve-image",
                       v);
    return 0;
}

const struct cli_flag cli_stack_deploy_flags[CLI_STACK_DEPLOY_NFLAGS] = {
    {"compose-file", 'c', CLI_FLAG_LIST,
     "Path to a Compose file, or \"-\" to read from stdin", NULL, "strings",
     NULL, false},
    {"detach", 'd', CLI_FLAG_BOOL,
     "Exit immediately instead of waiting for the stack services to converge",
     "true", NULL, NULL, false},
    {"prune", 0, CLI_FLAG_BOOL, "Prune services that are no longer referenced",
     NULL, NULL, NULL, false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Suppress progress output", NULL, NULL, NULL,
     false},
    {"resolve-image", 0, CLI_FLAG_STRING,
     "Query the registry to resolve image digest and supported platforms "
     "(\"always\", \"changed\", \"never\")",
     "always", NULL, check_resolve_image, false},
    {"with-registry-auth", 0, CLI_FLAG_BOOL,
     "Send registry authentication details to Swarm agents", NULL, NULL, NULL,
     false},
};

/* ---- reading the files ------------------------------------------------- */

struct inputs {
    struct compose_file *files;
    char **texts;
    size_t n;
    char *workdir;
    json_t *env;
};

static void inputs_fini(struct inputs *in)
{
    for (size_t i = 0; i < in->n; i++)
        free(in->texts[i]);
    free(in->texts);
    free(in->files);
    free(in->workdir);
    json_decref(in->env);
}

static char *read_stdin(size_t *len, struct err *err)
{
    struct buf b;
    buf_init(&b);
    char chunk[65536];
    for (;;) {
        ssize_t r = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            buf_fini(&b);
            err_sys(err, errno, "read the compose file from stdin");
            return NULL;
        }
        if (r == 0)
            break;
        buf_append(&b, chunk, (size_t)r);
    }
    *len = b.len;
    buf_putc(&b, '\0');
    return buf_steal(&b);
}

/* The compose files, the directory of the first (relative paths in them
 * are relative to it), and the environment with that directory's .env
 * under it. */
static int read_inputs(const struct vec *names, struct inputs *in,
                       struct err *err)
{
    memset(in, 0, sizeof(*in));
    if (names->len == 0)
        return err_set(err, ERR_INVALID,
                       "Please specify only one compose file (with "
                       "--compose-file).");
    in->files = xcalloc(names->len, sizeof(*in->files));
    in->texts = xcalloc(names->len, sizeof(*in->texts));
    for (size_t i = 0; i < names->len; i++) {
        const char *name = names->items[i];
        size_t len = 0;
        char *text = NULL;
        if (!strcmp(name, "-")) {
            text = read_stdin(&len, err);
        } else if (fs_read_file(name, &text, &len, err) < 0) {
            text = NULL;
        }
        if (!text)
            return -1;
        in->texts[in->n] = text;
        in->files[in->n] = (struct compose_file){
            !strcmp(name, "-") ? "stdin" : name, text, len};
        in->n++;
    }
    char cwd[4096];
    if (!getcwd(cwd, sizeof(cwd)))
        return err_sys(err, errno, "getcwd");
    const char *first = names->items[0];
    if (!strcmp(first, "-")) {
        in->workdir = xstrdup(cwd);
    } else {
        char *abs =
            first[0] == '/' ? xstrdup(first) : xasprintf("%s/%s", cwd, first);
        char *slash = strrchr(abs, '/');
        *slash = '\0';
        in->workdir = *abs ? abs : xstrdup("/");
        if (!*abs)
            free(abs);
    }
    in->env = json_object();
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char *k = xstrndup(*e, (size_t)(eq - *e));
        json_t *v = json_string(eq + 1);
        if (v)
            json_object_set_new(in->env, k, v);
        free(k);
    }
    char *dotenv = xasprintf("%s/.env", in->workdir);
    int rc = 0;
    if (fs_exists(dotenv)) {
        char *text;
        size_t len;
        rc = fs_read_file(dotenv, &text, &len, err);
        if (rc == 0) {
            rc = compose_dotenv_parse(dotenv, text, len, in->env, err);
            free(text);
        }
    }
    free(dotenv);
    return rc;
}

static char *read_file(void *ud, const char *path, size_t *len, struct err *err)
{
    (void)ud;
    char *text;
    if (fs_read_file(path, &text, len, err) < 0)
        return NULL;
    return text;
}

/* ---- the requests -------------------------------------------------------- */

static json_t *by_name(const json_t *list, const char *key)
{
    json_t *m = json_object();
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        const char *name = jx_path_str(o, key);
        if (name)
            json_object_set(m, name, o);
    }
    return m;
}

static int check_manager(struct cli_client *c, struct err *err)
{
    _cleanup_json_ json_t *info = cli_client_get_object(c, "/info", err);
    if (!info)
        return -1;
    if (!jx_bool(json_object_get(info, "Swarm"), "ControlAvailable", false))
        return err_set(err, ERR_UNAVAILABLE,
                       "this node is not a swarm manager. Use \"shoal swarm "
                       "init\" or \"shoal swarm join\" to connect this node "
                       "to swarm and try again");
    return 0;
}

static int prune(struct cli_ctx *ctx, struct cli_client *c, const char *ns,
                 const json_t *services)
{
    struct err e = {0};
    json_t *old = cli_stack_get(c, "/services", ns, NULL, false, &e);
    if (!old) {
        fprintf(ctx->err, "Failed to list services: %s\n", e.msg);
        return 0;
    }
    json_t *want = by_name(services, "Name");
    size_t i;
    json_t *s;
    json_array_foreach(old, i, s)
    {
        const char *name = jx_path_str(s, "Spec.Name");
        if (!name || json_object_get(want, name))
            continue;
        fprintf(ctx->out, "Removing service %s\n", name);
        _cleanup_free_ char *p = xasprintf("/services/%s", jx_str0(s, "ID"));
        json_t *r = cli_client_send_json(c, "DELETE", p, NULL, &e);
        if (!r)
            fprintf(ctx->err, "Failed to remove service %s: %s\n", name, e.msg);
        json_decref(r);
    }
    json_decref(want);
    json_decref(old);
    return 0;
}

static int check_external(struct cli_client *c, const json_t *names,
                          struct err *err)
{
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n)
    {
        const char *name = json_string_value(n);
        /* host, bridge, none exist everywhere as local networks */
        if (!strcmp(name, "host") || !strcmp(name, "bridge") ||
            !strcmp(name, "none"))
            continue;
        _cleanup_free_ char *esc = cli_path_escape(name);
        _cleanup_free_ char *p = xasprintf("/networks/%s", esc);
        struct err e = {0};
        _cleanup_json_ json_t *net = cli_client_get_object(c, p, &e);
        if (!net && e.code == ERR_NOTFOUND)
            return err_set(err, ERR_NOTFOUND,
                           "network \"%s\" is declared as external, but could "
                           "not be found. You need to create a swarm-scoped "
                           "network before the stack is deployed",
                           name);
        if (!net) {
            *err = e;
            return -1;
        }
        const char *scope = jx_str0(net, "Scope");
        if (strcmp(scope, "swarm") != 0)
            return err_set(err, ERR_INVALID,
                           "network \"%s\" is declared as external, but it is "
                           "not in the right scope: \"%s\" instead of "
                           "\"swarm\"",
                           name, scope);
    }
    return 0;
}

static int create_networks(struct cli_ctx *ctx, struct cli_client *c,
                           const char *ns, const json_t *nets, struct err *err)
{
    json_t *existing = cli_stack_get(c, "/networks", ns, NULL, false, err);
    if (!existing)
        return -1;
    json_t *have = by_name(existing, "Name");
    json_decref(existing);
    int rc = 0;
    size_t i;
    json_t *body;
    json_array_foreach(nets, i, body)
    {
        const char *name = jx_str0(body, "Name");
        if (json_object_get(have, name))
            continue;
        fprintf(ctx->out, "Creating network %s\n", name);
        fflush(ctx->out);
        json_t *r =
            cli_client_send_json(c, "POST", "/networks/create", body, err);
        if (!r) {
            rc = err_ctx(err, "failed to create network %s", name);
            break;
        }
        json_decref(r);
    }
    json_decref(have);
    return rc;
}

/* createSecrets / createConfigs: updated when there, else created. */
static int create_objects(struct cli_ctx *ctx, struct cli_client *c,
                          const char *what, const char *path,
                          const json_t *specs, struct err *err)
{
    size_t i;
    json_t *spec;
    json_array_foreach(specs, i, spec)
    {
        const char *name = jx_str0(spec, "Name");
        _cleanup_free_ char *esc = cli_path_escape(name);
        _cleanup_free_ char *p = xasprintf("%s/%s", path, esc);
        struct err e = {0};
        _cleanup_json_ json_t *cur = cli_client_get_object(c, p, &e);
        json_t *r;
        if (cur) {
            _cleanup_free_ char *up =
                xasprintf("%s/%s/update?version=%lld", path, jx_str0(cur, "ID"),
                          (long long)jx_path_int(cur, "Version.Index", 0));
            r = cli_client_send_json(c, "POST", up, spec, err);
            if (!r)
                return err_ctx(err, "failed to update %s %s", what, name);
        } else if (e.code == ERR_NOTFOUND) {
            fprintf(ctx->out, "Creating %s %s\n", what, name);
            fflush(ctx->out);
            _cleanup_free_ char *cp = xasprintf("%s/create", path);
            r = cli_client_send_json(c, "POST", cp, spec, err);
            if (!r)
                return err_ctx(err, "failed to create %s %s", what, name);
        } else {
            *err = e;
            return -1;
        }
        json_decref(r);
    }
    return 0;
}

/* ParseSecrets / ParseConfigs: each reference gets its object's ID. */
static int resolve_refs(struct cli_client *c, json_t *cs, const char *list,
                        const char *path, const char *name_key,
                        const char *id_key, const char *what, struct err *err)
{
    json_t *refs = json_object_get(cs, list);
    if (!json_array_size(refs))
        return 0;
    json_t *f = cli_filters_new();
    json_t *targets = json_object();
    size_t i;
    json_t *r;
    int rc = 0;
    json_array_foreach(refs, i, r)
    {
        const char *target = jx_path_str(r, "File.Name");
        if (target && json_object_get(targets, target))
            rc = err_set(err, ERR_INVALID,
                         "duplicate %s target for %s not allowed", what,
                         jx_str0(r, name_key));
        if (target)
            json_object_set_new(targets, target, json_true());
        cli_filters_add(f, "name", jx_str0(r, name_key));
    }
    json_decref(targets);
    if (rc < 0) {
        json_decref(f);
        return -1;
    }
    _cleanup_free_ char *fj = cli_filters_encode(f);
    json_decref(f);
    _cleanup_free_ char *fq = cli_query_escape(fj);
    _cleanup_free_ char *p = xasprintf("%s?filters=%s", path, fq);
    json_t *found = cli_client_get_json(c, p, err);
    if (!found)
        return -1;
    json_t *ids = by_name(found, "Spec.Name");
    json_decref(found);
    json_array_foreach(refs, i, r)
    {
        const char *name = jx_str0(r, name_key);
        json_t *obj = json_object_get(ids, name);
        if (!obj) {
            rc = err_set(err, ERR_NOTFOUND, "%s not found: %s", what, name);
            break;
        }
        json_object_set_new(r, id_key, json_string(jx_str0(obj, "ID")));
    }
    json_decref(ids);
    return rc;
}

/* deployServices: create or update each service; their IDs into ids. */
static int deploy_services(struct cli_ctx *ctx, struct cli_client *c,
                           const char *ns, json_t *services,
                           struct cli_flags *fl, json_t *ids, struct err *err)
{
    json_t *list = cli_stack_get(c, "/services", ns, NULL, false, err);
    if (!list)
        return -1;
    json_t *existing = by_name(list, "Spec.Name");
    json_decref(list);
    const char *resolve = cli_flag_str(fl, "resolve-image");
    bool auth = cli_flag_bool(fl, "with-registry-auth");
    int rc = 0;
    size_t i;
    json_t *spec;
    json_array_foreach(services, i, spec)
    {
        const char *name = jx_str0(spec, "Name");
        json_t *cs = jx_path(spec, "TaskTemplate.ContainerSpec");
        const char *image = jx_str0(cs, "Image");
        char *header = NULL;
        if (auth && !(header = cli_creds_header(image, err))) {
            rc = -1;
            break;
        }
        json_t *cur = json_object_get(existing, name);
        bool query = !strcmp(resolve, "always");
        json_t *reply;
        if (cur) {
            fprintf(ctx->out, "Updating service %s (id: %s)\n", name,
                    jx_str0(cur, "ID"));
            const char *old_label =
                jx_str(jx_path(cur, "Spec.Labels"), "com.docker.stack.image");
            bool same = old_label && !strcmp(old_label, image);
            if (!strcmp(resolve, "changed") && !same)
                query = true;
            else if (strcmp(resolve, "always") && same)
                /* keep what the last deploy resolved */
                json_object_set(cs, "Image",
                                jx_path(cur, "Spec.TaskTemplate.ContainerSpec."
                                             "Image"));
            /* no --force here: keep the service's ForceUpdate */
            json_object_set_new(json_object_get(spec, "TaskTemplate"),
                                "ForceUpdate",
                                json_integer(jx_path_int(
                                    cur, "Spec.TaskTemplate.ForceUpdate", 0)));
        } else {
            fprintf(ctx->out, "Creating service %s\n", name);
            query = query || !strcmp(resolve, "changed");
        }
        fflush(ctx->out);
        cli_service_tag_image(spec);
        _cleanup_free_ char *warning =
            query ? cli_service_resolve_image(c, spec) : NULL;
        if (cur) {
            _cleanup_free_ char *p = xasprintf(
                "/services/%s/update?version=%lld", jx_str0(cur, "ID"),
                (long long)jx_path_int(cur, "Version.Index", 0));
            reply = cli_service_post(c, p, spec, header, err);
            if (reply) {
                cli_service_print_warnings(ctx, reply, warning);
                json_array_append_new(ids, json_string(jx_str0(cur, "ID")));
            } else {
                err_ctx(err, "failed to update service %s", name);
            }
        } else {
            reply = cli_service_post(c, "/services/create", spec, header, err);
            if (reply)
                json_array_append_new(ids, json_string(jx_str0(reply, "ID")));
            else
                err_ctx(err, "failed to create service %s", name);
        }
        free(header);
        if (!reply) {
            rc = -1;
            break;
        }
        json_decref(reply);
    }
    json_decref(existing);
    return rc;
}

static int deploy(struct cli_ctx *ctx, struct cli_client *c, const char *ns,
                  struct compose_stack *st, struct cli_flags *fl,
                  struct err *err)
{
    if (check_manager(c, err) < 0)
        return -1;
    if (cli_flag_bool(fl, "prune"))
        prune(ctx, c, ns, st->services);
    if (check_external(c, st->external_networks, err) < 0 ||
        create_networks(ctx, c, ns, st->networks, err) < 0 ||
        create_objects(ctx, c, "secret", "/secrets", st->secrets, err) < 0 ||
        create_objects(ctx, c, "config", "/configs", st->configs, err) < 0)
        return -1;
    size_t i;
    json_t *spec;
    json_array_foreach(st->services, i, spec)
    {
        json_t *cs = jx_path(spec, "TaskTemplate.ContainerSpec");
        if (resolve_refs(c, cs, "Secrets", "/secrets", "SecretName", "SecretID",
                         "secret", err) < 0 ||
            resolve_refs(c, cs, "Configs", "/configs", "ConfigName", "ConfigID",
                         "config", err) < 0)
            return -1;
    }
    _cleanup_json_ json_t *ids = json_array();
    if (deploy_services(ctx, c, ns, st->services, fl, ids, err) < 0)
        return -1;
    if (cli_flag_bool(fl, "detach"))
        return 0;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        fflush(ctx->out);
        if (cli_progress_wait(c, json_string_value(id), ctx->out, ctx->out_tty,
                              cli_flag_bool(fl, "quiet"), err) < 0)
            return -1;
    }
    return 0;
}

int cli_stack_deploy(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    const char *ns = fl->args[0];
    struct inputs in;
    int rc = read_inputs(cli_flag_list(fl, "compose-file"), &in, err);
    struct compose_project p;
    compose_project_init(&p);
    struct compose_opts o = {
        .env = in.env, .workdir = in.workdir, .read = read_file};
    if (rc == 0)
        rc = compose_load(&p, in.files, in.n, &o, err);
    for (size_t i = 0; rc == 0 && i < p.warnings.len; i++) {
        const char *w = p.warnings.items[i];
        fprintf(ctx->err, "%s\n%s", w, !strncmp(w, "Ignoring ", 9) ? "\n" : "");
    }
    struct compose_stack st = {0};
    if (rc == 0)
        rc = compose_convert(&p, ns, &o, &st, err);
    compose_project_fini(&p);
    inputs_fini(&in);
    if (rc < 0)
        return -1;
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c) {
        compose_stack_fini(&st);
        return -1;
    }
    if (!cli_flag_changed(fl, "detach")) {
        fprintf(ctx->err,
                "Since --detach=false was not specified, tasks will be "
                "created in the background.\nIn a future release, "
                "--detach=false will become the default.\n");
        fflush(ctx->err);
    }
    rc = deploy(ctx, c, ns, &st, fl, err);
    compose_stack_fini(&st);
    return rc;
}
