// SPDX-License-Identifier: Apache-2.0
// `shoal stack ls | services | ps | rm` as the docker CLI 28 does them,
// over the normal API by the com.docker.stack.namespace label: ls groups
// the labelled services, services and ps are `service ls` / `service ps`
// filtered by the label (same tables), rm removes services, secrets,
// configs and networks in docker's order (the daemon's network delete
// waits for the removed services' tasks, so a deploy can follow at once).
#include "cli/cli_stack.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli_service.h"
#include "cli/cli_tasks.h"
#include "cli/format.h"

json_t *cli_stack_get(struct cli_client *c, const char *what, const char *ns,
                      const json_t *extra, bool status, struct err *err)
{
    json_t *f = extra ? json_deep_copy(extra) : cli_filters_new();
    if (ns) {
        char *label = xasprintf(CLI_STACK_LABEL "=%s", ns);
        cli_filters_add(f, "label", label);
        free(label);
    } else {
        cli_filters_add(f, "label", CLI_STACK_LABEL);
    }
    _cleanup_free_ char *fj = cli_filters_encode(f);
    json_decref(f);
    struct cli_query q;
    cli_query_init(&q);
    cli_query_add(&q, "filters", fj);
    if (status)
        cli_query_add(&q, "status", "true");
    _cleanup_free_ char *path = xasprintf("%s%s", what, cli_query_str(&q));
    cli_query_fini(&q);
    json_t *list = cli_client_get_json(c, path, err);
    if (list && !json_is_array(list)) {
        json_decref(list);
        err_set(err, ERR_INTERNAL, "unexpected reply from the daemon");
        return NULL;
    }
    return list;
}

/* ---- ls ---------------------------------------------------------------- */

struct stack_row {
    const char *name;
    int services;
};

static char *stack_field(const char *field, void *rec)
{
    const struct stack_row *r = rec;
    if (!strcmp(field, "Name"))
        return xstrdup(r->name);
    if (!strcmp(field, "Services"))
        return xasprintf("%d", r->services);
    return NULL;
}

static int cmp_rows(const void *a, const void *b)
{
    return cli_natural_cmp((*(struct stack_row *const *)a)->name,
                           (*(struct stack_row *const *)b)->name);
}

static int run_ls(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    _cleanup_json_ json_t *services =
        cli_stack_get(c, "/services", NULL, NULL, false, err);
    if (!services)
        return -1;
    json_t *count = json_object();
    size_t i;
    json_t *s;
    json_array_foreach(services, i, s)
    {
        const char *ns = jx_str(jx_path(s, "Spec.Labels"), CLI_STACK_LABEL);
        if (!ns)
            continue;
        json_object_set_new(count, ns, json_integer(jx_int(count, ns, 0) + 1));
    }
    size_t n = json_object_size(count), k = 0;
    struct stack_row *rows = xcalloc(n + 1, sizeof(*rows));
    struct stack_row **recs = xcalloc(n + 1, sizeof(*recs));
    const char *name;
    json_t *v;
    json_object_foreach(count, name, v)
    {
        rows[k].name = name;
        rows[k].services = (int)json_integer_value(v);
        recs[k] = &rows[k];
        k++;
    }
    qsort(recs, n, sizeof(*recs), cmp_rows);
    static const struct cli_field fields[] = {{"Name", "NAME"},
                                              {"Services", "SERVICES"}};
    int rc = cli_print_list(ctx, cli_flag_str(fl, "format"),
                            "table {{.Name}}\t{{.Services}}", fields, 2,
                            stack_field, (void *const *)recs, n, err);
    free(recs);
    free(rows);
    json_decref(count);
    return rc;
}

/* ---- services / ps ------------------------------------------------------ */

static int run_services(struct cli_ctx *ctx, struct cli_flags *fl,
                        struct err *err)
{
    const char *ns = fl->args[0];
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    _cleanup_json_ json_t *f = cli_filters_from_flag(fl, "filter", err);
    if (!f)
        return -1;
    bool quiet = cli_flag_bool(fl, "quiet");
    _cleanup_json_ json_t *services =
        cli_stack_get(c, "/services", ns, f, !quiet, err);
    if (!services)
        return -1;
    if (json_array_size(services) == 0) {
        fprintf(ctx->err, "Nothing found in stack: %s\n", ns);
        return 0;
    }
    if (!quiet && cli_service_append_status(c, services, err) < 0)
        return -1;
    return cli_service_print_list(ctx, services, cli_flag_str(fl, "format"),
                                  quiet, err);
}

static int run_ps(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    const char *ns = fl->args[0];
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    _cleanup_json_ json_t *f = cli_filters_from_flag(fl, "filter", err);
    if (!f)
        return -1;
    /* --filter node=self means this node's ID, as for service ps */
    json_t *nodes = json_object_get(f, "node");
    if (nodes) {
        json_t *fixed = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(nodes, k, v)
        {
            char *id = cli_node_reference(c, k, err);
            if (!id) {
                json_decref(fixed);
                return -1;
            }
            json_object_set_new(fixed, id, json_true());
            free(id);
        }
        json_object_set_new(f, "node", fixed);
    }
    _cleanup_json_ json_t *tasks =
        cli_stack_get(c, "/tasks", ns, f, false, err);
    if (!tasks)
        return -1;
    if (json_array_size(tasks) == 0)
        return err_set(err, ERR_NOTFOUND, "nothing found in stack: %s", ns);
    bool quiet = cli_flag_bool(fl, "quiet");
    return cli_task_print(ctx, c, NULL, tasks,
                          !cli_flag_bool(fl, "no-trunc") && !quiet,
                          cli_flag_bool(fl, "no-resolve"), quiet,
                          cli_flag_str(fl, "format"), err);
}

/* ---- rm ------------------------------------------------------------------ */

static int cmp_spec_name(const void *a, const void *b)
{
    const char *x = jx_path_str(*(json_t *const *)a, "Spec.Name");
    const char *y = jx_path_str(*(json_t *const *)b, "Spec.Name");
    return strcmp(x ? x : "", y ? y : "");
}

/* Secrets and configs of the stack; a daemon without that API has none. */
static json_t *stack_objects(struct cli_client *c, const char *what,
                             const char *ns, struct err *err)
{
    struct err e = {0};
    json_t *list = cli_stack_get(c, what, ns, NULL, false, &e);
    if (!list && e.code == ERR_NOTFOUND)
        return json_array();
    if (!list)
        *err = e;
    return list;
}

/* DELETEs each object ("Removing <what> <name>"); false if one failed. */
static bool remove_all(struct cli_ctx *ctx, struct cli_client *c, json_t *objs,
                       const char *what, const char *path, const char *id_key,
                       const char *name_key)
{
    bool ok = true;
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const char *name = jx_path_str(o, name_key);
        const char *id = jx_str0(o, id_key);
        fprintf(ctx->out, "Removing %s %s\n", what, name ? name : id);
        fflush(ctx->out);
        _cleanup_free_ char *p = xasprintf("%s/%s", path, id);
        struct err e = {0};
        json_t *r = cli_client_send_json(c, "DELETE", p, NULL, &e);
        if (!r) {
            fprintf(ctx->err, "Failed to remove %s %s: %s\n", what,
                    name ? name : id, e.msg);
            ok = false;
        }
        json_decref(r);
    }
    return ok;
}

/* --detach=false: until none of the stack's tasks is left running. */
static int wait_tasks_gone(struct cli_client *c, const char *ns,
                           struct err *err)
{
    for (;;) {
        json_t *tasks = cli_stack_get(c, "/tasks", ns, NULL, false, err);
        if (!tasks)
            return -1;
        bool live = false;
        size_t i;
        json_t *t;
        json_array_foreach(tasks, i, t)
        {
            const char *st = jx_path_str(t, "Status.State");
            live |=
                !st || !(!strcmp(st, "complete") || !strcmp(st, "shutdown") ||
                         !strcmp(st, "failed") || !strcmp(st, "rejected") ||
                         !strcmp(st, "orphaned") || !strcmp(st, "remove"));
        }
        json_decref(tasks);
        if (!live)
            return 0;
        struct timespec ts = {0, 100 * 1000 * 1000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
}

static int remove_stack(struct cli_ctx *ctx, struct cli_client *c,
                        const char *ns, bool detach, struct buf *errs,
                        struct err *err)
{
    json_t *services = cli_stack_get(c, "/services", ns, NULL, false, err);
    json_t *networks =
        services ? cli_stack_get(c, "/networks", ns, NULL, false, err) : NULL;
    json_t *secrets = networks ? stack_objects(c, "/secrets", ns, err) : NULL;
    json_t *configs = secrets ? stack_objects(c, "/configs", ns, err) : NULL;
    int rc = 0;
    if (!configs) {
        rc = -1;
    } else if (!json_array_size(services) && !json_array_size(networks) &&
               !json_array_size(secrets) && !json_array_size(configs)) {
        fprintf(ctx->err, "Nothing found in stack: %s\n", ns);
    } else {
        size_t n = json_array_size(services);
        json_t **sorted = xcalloc(n + 1, sizeof(*sorted));
        for (size_t i = 0; i < n; i++)
            sorted[i] = json_array_get(services, i);
        qsort(sorted, n, sizeof(*sorted), cmp_spec_name);
        json_t *by_name = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append(by_name, sorted[i]);
        free(sorted);
        bool ok = remove_all(ctx, c, by_name, "service", "/services", "ID",
                             "Spec.Name");
        json_decref(by_name);
        ok = remove_all(ctx, c, secrets, "secret", "/secrets", "ID",
                        "Spec.Name") &&
             ok;
        ok = remove_all(ctx, c, configs, "config", "/configs", "ID",
                        "Spec.Name") &&
             ok;
        ok = remove_all(ctx, c, networks, "network", "/networks", "Id",
                        "Name") &&
             ok;
        if (!ok)
            buf_printf(errs, "%sFailed to remove some resources from stack: %s",
                       errs->len ? "\n" : "", ns);
        else if (!detach)
            rc = wait_tasks_gone(c, ns, err);
    }
    json_decref(services);
    json_decref(networks);
    json_decref(secrets);
    json_decref(configs);
    return rc;
}

static int run_rm(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    bool detach = cli_flag_bool(fl, "detach");
    struct buf errs;
    buf_init(&errs);
    for (size_t i = 0; i < fl->nargs; i++) {
        if (remove_stack(ctx, c, fl->args[i], detach, &errs, err) < 0) {
            buf_fini(&errs);
            return -1;
        }
    }
    int rc = 0;
    if (errs.len) {
        buf_putc(&errs, '\0');
        rc = err_set(err, ERR_INTERNAL, "%s", errs.data);
    }
    buf_fini(&errs);
    return rc;
}

/* ---- the command table ----------------------------------------------------
 */

static const struct cli_flag ls_flags[] = {
    {"format", 0, CLI_FLAG_STRING,
     "Format output using a custom template:\n'table':            Print "
     "output in table format with column headers (default)\n'table "
     "TEMPLATE':   Print output in table format using the given Go "
     "template\n'json':             Print in JSON format\n'TEMPLATE':         "
     "Print output using the given Go template.",
     NULL, NULL, NULL, false},
};

static const struct cli_flag services_flags[] = {
    {"filter", 'f', CLI_FLAG_LIST, "Filter output based on conditions provided",
     NULL, "filter", NULL, false},
    {"format", 0, CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Only display IDs", NULL, NULL, NULL, false},
};

static const struct cli_flag ps_flags[] = {
    {"filter", 'f', CLI_FLAG_LIST, "Filter output based on conditions provided",
     NULL, "filter", NULL, false},
    {"format", 0, CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
    {"no-resolve", 0, CLI_FLAG_BOOL, "Do not map IDs to Names", NULL, NULL,
     NULL, false},
    {"no-trunc", 0, CLI_FLAG_BOOL, "Do not truncate output", NULL, NULL, NULL,
     false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Only display task IDs", NULL, NULL, NULL,
     false},
};

static const struct cli_flag rm_flags[] = {
    {"detach", 'd', CLI_FLAG_BOOL, "Do not wait for stack removal", "true",
     NULL, NULL, false},
};

static const char *const deploy_aliases[] = {"up", NULL};
static const char *const ls_aliases[] = {"list", NULL};
static const char *const rm_aliases[] = {"remove", "down", NULL};

static const struct cli_cmd stack_deploy = {
    .name = "deploy",
    .aliases = deploy_aliases,
    .use = "[OPTIONS] STACK",
    .short_desc = "Deploy a new stack or update an existing stack",
    .flags = cli_stack_deploy_flags,
    .nflags = CLI_STACK_DEPLOY_NFLAGS,
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = cli_stack_deploy,
};

static const struct cli_cmd stack_ls = {
    .name = "ls",
    .aliases = ls_aliases,
    .use = "[OPTIONS]",
    .short_desc = "List stacks",
    .flags = CLI_FLAGS(ls_flags),
    .args = CLI_ARGS_NONE,
    .run = run_ls,
};

static const struct cli_cmd stack_ps = {
    .name = "ps",
    .use = "[OPTIONS] STACK",
    .short_desc = "List the tasks in the stack",
    .flags = CLI_FLAGS(ps_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_ps,
};

static const struct cli_cmd stack_rm = {
    .name = "rm",
    .aliases = rm_aliases,
    .use = "[OPTIONS] STACK [STACK...]",
    .short_desc = "Remove one or more stacks",
    .flags = CLI_FLAGS(rm_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_rm,
};

static const struct cli_cmd stack_services = {
    .name = "services",
    .use = "[OPTIONS] STACK",
    .short_desc = "List the services in the stack",
    .flags = CLI_FLAGS(services_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_services,
};

static const struct cli_cmd *const stack_subs[] = {
    &stack_deploy, &stack_ls, &stack_ps, &stack_rm, &stack_services, NULL,
};

const struct cli_cmd cli_cmd_stack = {
    .name = "stack",
    .use = "[OPTIONS] COMMAND",
    .short_desc = "Manage Swarm stacks",
    .subs = stack_subs,
};
