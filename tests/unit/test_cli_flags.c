// SPDX-License-Identifier: Apache-2.0
// Unit tests for the CLI's flag parser (docker/pflag grammar and messages),
// the value parsers behind typed flags, and command dispatch errors.
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/mem.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/format.h"

static const struct cli_flag defs[] = {
    {"detach", 'd', CLI_FLAG_BOOL, "Detach", NULL, NULL, NULL, false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Quiet", NULL, NULL, NULL, false},
    {"name", 0, CLI_FLAG_STRING, "Name", NULL, NULL, NULL, false},
    {"env", 'e', CLI_FLAG_LIST, "Env", NULL, NULL, NULL, false},
    {"replicas", 0, CLI_FLAG_UINT, "Replicas", NULL, NULL, NULL, false},
    {"publish", 'p', CLI_FLAG_LIST, "Publish", NULL, "port", NULL, false},
    {"limit-memory", 0, CLI_FLAG_BYTES, "Mem", NULL, NULL, NULL, false},
    {"limit-cpu", 0, CLI_FLAG_DECIMAL, "CPU", NULL, NULL, NULL, false},
    {"restart-delay", 0, CLI_FLAG_DURATION, "Delay", NULL, NULL, NULL, false},
    {"endpoint-mode", 0, CLI_FLAG_STRING, "Mode", "vip", NULL, NULL, false},
    {"ratio", 0, CLI_FLAG_FLOAT, "Ratio", NULL, NULL, NULL, false},
    {"pids", 0, CLI_FLAG_INT, "Pids", NULL, NULL, NULL, false},
};

static int parse(struct cli_flags *f, bool inter, struct err *err, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 32;)
        argv[argc++] = a;
    va_end(ap);
    return cli_flags_parse(f, defs, ARRAY_SIZE(defs), argc, argv, inter, err);
}

static void test_long_and_short(void)
{
    struct cli_flags f;
    struct err err = {0};
    CHECK_INT(parse(&f, true, &err, "--name", "web", "--replicas=3", "-e",
                    "A=1", "--env=B=2", "-eC=3", "-dq", "img", NULL),
              0);
    CHECK_STR(cli_flag_str(&f, "name"), "web");
    CHECK_INT(cli_flag_uint(&f, "replicas"), 3);
    const struct vec *env = cli_flag_list(&f, "env");
    CHECK_INT(env->len, 3);
    CHECK_STR(env->items[0], "A=1");
    CHECK_STR(env->items[1], "B=2");
    CHECK_STR(env->items[2], "C=3");
    CHECK(cli_flag_bool(&f, "detach"));
    CHECK(cli_flag_bool(&f, "quiet"));
    CHECK_INT(f.nargs, 1);
    CHECK_STR(f.args[0], "img");
    CHECK(!cli_flag_changed(&f, "endpoint-mode"));
    CHECK_STR(cli_flag_str(&f, "endpoint-mode"), "vip");
    cli_flags_fini(&f);
}

static void test_bool_values(void)
{
    struct cli_flags f;
    struct err err = {0};
    CHECK_INT(parse(&f, true, &err, "--detach=false", "-q=true", NULL), 0);
    CHECK(cli_flag_changed(&f, "detach"));
    CHECK(!cli_flag_bool(&f, "detach"));
    CHECK(cli_flag_bool(&f, "quiet"));
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "--detach=maybe", NULL), -1);
    CHECK_STR(err.msg, "invalid argument \"maybe\" for \"-d, --detach\" flag: "
                       "strconv.ParseBool: parsing \"maybe\": invalid syntax");
    cli_flags_fini(&f);
}

static void test_interspersed(void)
{
    struct cli_flags f;
    struct err err = {0};
    /* service create stops at the image: its flags belong to the command */
    CHECK_INT(parse(&f, false, &err, "-d", "bb:latest", "httpd", "-f", "-p",
                    "8000", NULL),
              0);
    CHECK_INT(f.nargs, 5);
    CHECK_STR(f.args[2], "-f");
    CHECK_INT(cli_flag_list(&f, "publish")->len, 0);
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "a", "--name", "x", "b", NULL), 0);
    CHECK_INT(f.nargs, 2);
    CHECK_STR(cli_flag_str(&f, "name"), "x");
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "--", "--name", "-d", NULL), 0);
    CHECK_INT(f.nargs, 2);
    CHECK_STR(f.args[0], "--name");
    CHECK(!cli_flag_changed(&f, "name"));
    cli_flags_fini(&f);
}

static void test_errors(void)
{
    struct cli_flags f;
    struct err err = {0};
    CHECK_INT(parse(&f, true, &err, "--foo", NULL), -1);
    CHECK_STR(err.msg, "unknown flag: --foo");
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "-x", NULL), -1);
    CHECK_STR(err.msg, "unknown shorthand flag: 'x' in -x");
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "--name", NULL), -1);
    CHECK_STR(err.msg, "flag needs an argument: --name");
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "-e", NULL), -1);
    CHECK_STR(err.msg, "flag needs an argument: 'e' in -e");
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "--replicas", "abc", NULL), -1);
    CHECK_STR(err.msg, "invalid argument \"abc\" for \"--replicas\" flag: "
                       "strconv.ParseUint: parsing \"abc\": invalid syntax");
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "--limit-memory", "12q", NULL), -1);
    CHECK_STR(err.msg, "invalid argument \"12q\" for \"--limit-memory\" flag: "
                       "invalid suffix: 'q'");
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "--restart-delay", "5", NULL), -1);
    CHECK_STR(err.msg, "invalid argument \"5\" for \"--restart-delay\" flag: "
                       "time: missing unit in duration \"5\"");
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "--limit-cpu", "0.0000000001", NULL), -1);
    CHECK_STR(err.msg, "invalid argument \"0.0000000001\" for \"--limit-cpu\" "
                       "flag: value is too precise");
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "--pids", "x1", NULL), -1);
    CHECK_STR(err.msg, "invalid argument \"x1\" for \"--pids\" flag: "
                       "strconv.ParseInt: parsing \"x1\": invalid syntax");
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "--ratio", "x", NULL), -1);
    CHECK_STR(err.msg, "invalid argument \"x\" for \"--ratio\" flag: "
                       "strconv.ParseFloat: parsing \"x\": invalid syntax");
    cli_flags_fini(&f);
}

static void test_help_flag(void)
{
    struct cli_flags f;
    struct err err = {0};
    CHECK_INT(parse(&f, true, &err, "--help", NULL), 0);
    CHECK(f.help);
    cli_flags_fini(&f);
    CHECK_INT(parse(&f, true, &err, "-h", NULL), 0);
    CHECK(f.help);
    cli_flags_fini(&f);
}

static void test_value_parsers(void)
{
    int64_t v;
    struct err err = {0};
    CHECK_INT(cli_parse_ram("512m", &v, &err), 0);
    CHECK_INT(v, 536870912);
    CHECK_INT(cli_parse_ram("1g", &v, &err), 0);
    CHECK_INT(v, 1073741824);
    CHECK_INT(cli_parse_ram("1.5GiB", &v, &err), 0);
    CHECK_INT(v, 1610612736);
    CHECK_INT(cli_parse_ram("100", &v, &err), 0);
    CHECK_INT(v, 100);
    CHECK_INT(cli_parse_ram("64kb", &v, &err), 0);
    CHECK_INT(v, 65536);
    CHECK_INT(cli_parse_ram("abc", &v, &err), -1);
    CHECK_STR(err.msg, "invalid size: 'abc'");
    CHECK_INT(cli_parse_ram("1gx", &v, &err), -1);
    CHECK_STR(err.msg, "invalid suffix: 'gx'");

    CHECK_INT(cli_parse_nanocpus("0.5", &v, &err), 0);
    CHECK_INT(v, 500000000);
    CHECK_INT(cli_parse_nanocpus("2", &v, &err), 0);
    CHECK_INT(v, 2000000000);
    CHECK_INT(cli_parse_nanocpus("1/4", &v, &err), 0);
    CHECK_INT(v, 250000000);
    CHECK_INT(cli_parse_nanocpus("1/3", &v, &err), -1);
    CHECK_STR(err.msg, "value is too precise");
    CHECK_INT(cli_parse_nanocpus("x", &v, &err), -1);
    CHECK_STR(err.msg, "failed to parse x as a rational number");

    CHECK_INT(cli_parse_duration("1m30s", &v, &err), 0);
    CHECK_INT(v, 90000000000LL);
    CHECK_INT(cli_parse_duration("-1s", &v, &err), 0);
    CHECK_INT(v, -1000000000LL);
    CHECK_INT(cli_parse_duration("300ms", &v, &err), 0);
    CHECK_INT(v, 300000000LL);
    CHECK_INT(cli_parse_duration("0", &v, &err), 0);
    CHECK_INT(v, 0);
    CHECK_INT(cli_parse_duration("5q", &v, &err), -1);
    CHECK_STR(err.msg, "time: unknown unit \"q\" in duration \"5q\"");
    CHECK_INT(cli_parse_duration("x", &v, &err), -1);
    CHECK_STR(err.msg, "time: invalid duration \"x\"");

    uint64_t u;
    CHECK_INT(cli_parse_uint("0x10", 0, 64, &u, &err), 0);
    CHECK_INT(u, 16);
    CHECK_INT(cli_parse_uint("0400", 0, 32, &u, &err), 0);
    CHECK_INT(u, 256);
    CHECK_INT(cli_parse_uint("70000", 10, 16, &u, &err), -1);
    CHECK_STR(err.msg, "strconv.ParseUint: parsing \"70000\": value out of "
                       "range");
}

/* A tiny command tree to check dispatch errors and exit codes. */
static int ran;
static int run_ok(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    (void)ctx;
    (void)fl;
    (void)err;
    ran++;
    return 0;
}

static int run_fail(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    (void)ctx;
    (void)fl;
    return err_set(err, 500, "Error response from daemon: boom");
}

static const struct cli_flag scale_flags[] = {
    {"detach", 'd', CLI_FLAG_BOOL, "Detach", NULL, NULL, NULL, false},
};
static const struct cli_cmd cmd_scale = {
    .name = "scale",
    .use = "SERVICE=REPLICAS [SERVICE=REPLICAS...]",
    .short_desc = "Scale one or multiple replicated services",
    .flags = CLI_FLAGS(scale_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_ok,
};
static const char *const ls_aliases[] = {"list", NULL};
static const struct cli_cmd cmd_ls = {
    .name = "ls",
    .aliases = ls_aliases,
    .use = "[OPTIONS]",
    .short_desc = "List services",
    .args = CLI_ARGS_NONE,
    .run = run_ok,
};
static const struct cli_cmd cmd_logs = {
    .name = "logs",
    .use = "[OPTIONS] SERVICE|TASK",
    .short_desc = "Fetch the logs of a service or task",
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_fail,
};
static const struct cli_cmd *const svc_subs[] = {&cmd_logs, &cmd_ls, &cmd_scale,
                                                 NULL};
static const struct cli_cmd cmd_service = {
    .name = "service",
    .use = "COMMAND",
    .short_desc = "Manage Swarm services",
    .subs = svc_subs,
};
static const struct cli_cmd *const root_subs[] = {&cmd_service, NULL};
static const struct cli_cmd root = {
    .name = "shoal", .use = "[OPTIONS] COMMAND", .subs = root_subs};

static int dispatch(char **out, char **errs, ...)
{
    char *argv[16];
    int argc = 0;
    va_list ap;
    va_start(ap, errs);
    for (char *a; (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    size_t olen, elen;
    struct cli_ctx ctx = {0};
    ctx.out = open_memstream(out, &olen);
    ctx.err = open_memstream(errs, &elen);
    snprintf(ctx.path, sizeof(ctx.path), "shoal");
    int rc = cli_dispatch(&ctx, &root, argc, argv);
    fclose(ctx.out);
    fclose(ctx.err);
    cli_ctx_fini(&ctx);
    return rc;
}

static void test_dispatch(void)
{
    char *out, *errs;
    ran = 0;
    CHECK_INT(dispatch(&out, &errs, "service", "list", NULL), 0);
    CHECK_INT(ran, 1);
    free(out);
    free(errs);

    CHECK_INT(dispatch(&out, &errs, "service", "scale", NULL), 1);
    CHECK_STR(errs, "shoal: 'shoal service scale' requires at least 1 "
                    "argument\n\nUsage:  shoal service scale "
                    "SERVICE=REPLICAS [SERVICE=REPLICAS...]\n\nSee 'shoal "
                    "service scale --help' for more information\n");
    free(out);
    free(errs);

    CHECK_INT(dispatch(&out, &errs, "service", "ls", "x", NULL), 1);
    CHECK_STR(errs, "shoal: 'shoal service ls' accepts no arguments\n\n"
                    "Usage:  shoal service ls [OPTIONS]\n\nRun 'shoal "
                    "service ls --help' for more information\n");
    free(out);
    free(errs);

    CHECK_INT(dispatch(&out, &errs, "service", "logs", NULL), 1);
    CHECK_STR(errs, "shoal: 'shoal service logs' requires 1 argument\n\n"
                    "Usage:  shoal service logs [OPTIONS] SERVICE|TASK\n\n"
                    "Run 'shoal service logs --help' for more information\n");
    free(out);
    free(errs);

    CHECK_INT(dispatch(&out, &errs, "service", "scale", "--foo", NULL), 125);
    CHECK_STR(errs, "unknown flag: --foo\n\nUsage:  shoal service scale "
                    "SERVICE=REPLICAS [SERVICE=REPLICAS...]\n\nRun 'shoal "
                    "service scale --help' for more information\n");
    free(out);
    free(errs);

    CHECK_INT(dispatch(&out, &errs, "service", "foo", NULL), 1);
    CHECK_STR(errs, "shoal: unknown command: shoal service foo\n\nUsage:  "
                    "shoal service\n\nRun 'shoal service --help' for more "
                    "information\n");
    free(out);
    free(errs);

    CHECK_INT(dispatch(&out, &errs, "bogus", NULL), 1);
    CHECK_STR(errs, "shoal: unknown command: shoal bogus\n\nRun 'shoal "
                    "--help' for more information\n");
    free(out);
    free(errs);

    /* A daemon error: message on stderr, exit 1. */
    CHECK_INT(dispatch(&out, &errs, "service", "logs", "x", NULL), 1);
    CHECK_STR(errs, "Error response from daemon: boom\n");
    free(out);
    free(errs);

    /* --help prints usage to stdout and exits 0. */
    CHECK_INT(dispatch(&out, &errs, "service", "ls", "--help", NULL), 0);
    CHECK(strstr(out, "Usage:  shoal service ls [OPTIONS]\n\nList services\n"
                      "\nAliases:\n  shoal service ls, shoal service list\n") !=
          NULL);
    free(out);
    free(errs);
    CHECK_INT(dispatch(&out, &errs, "service", "--help", NULL), 0);
    CHECK(strstr(out, "Commands:\n  logs        Fetch the logs") != NULL);
    free(out);
    free(errs);
}

static void test_default_host(void)
{
    unsetenv("SHOAL_HOST");
    unsetenv("DOCKER_HOST");
    CHECK_STR(cli_default_host(NULL), "unix:///run/shoal/shoal.sock");
    setenv("DOCKER_HOST", "tcp://h:1", 1);
    CHECK_STR(cli_default_host(NULL), "tcp://h:1");
    setenv("SHOAL_HOST", "unix:///x.sock", 1);
    CHECK_STR(cli_default_host(NULL), "unix:///x.sock");
    CHECK_STR(cli_default_host("unix:///y.sock"), "unix:///y.sock");
    unsetenv("SHOAL_HOST");
    unsetenv("DOCKER_HOST");
}

static void test_client_unreachable(void)
{
    /* No daemon behind the socket: docker's "Cannot connect" message. */
    struct err err = {0};
    struct cli_client *c =
        cli_client_new("unix:///nonexistent/shoal.sock", false, &err);
    CHECK(c != NULL);
    json_t *j = cli_client_get_json(c, "/info", &err);
    CHECK(j == NULL);
    CHECK_INT(err.code, CLI_ERR_CONNECT);
    CHECK_STR(err.msg, "Cannot connect to the shoal daemon at "
                       "unix:///nonexistent/shoal.sock. Is the daemon "
                       "running?");
    cli_client_free(c);
    CHECK(cli_client_new("ftp://x", false, &err) == NULL);
    CHECK_STR(err.msg, "unable to parse shoal host \"ftp://x\"");
}

static void test_query(void)
{
    struct cli_query q;
    cli_query_init(&q);
    cli_query_add(&q, "tail", "all");
    cli_query_add(&q, "stdout", "1");
    cli_query_add(&q, "details", "1");
    cli_query_add(&q, "stderr", "1");
    CHECK_STR(cli_query_str(&q), "?details=1&stderr=1&stdout=1&tail=all");
    cli_query_fini(&q);
    json_t *f = cli_filters_new();
    cli_filters_add(f, "service", "s3qdr2cawh465iqhf04niv4zw");
    cli_filters_add(f, "_up-to-date", "true");
    char *fj = cli_filters_encode(f);
    CHECK_STR(fj, "{\"_up-to-date\":{\"true\":true},\"service\":"
                  "{\"s3qdr2cawh465iqhf04niv4zw\":true}}");
    char *esc = cli_query_escape(fj);
    CHECK_STR(esc, "%7B%22_up-to-date%22%3A%7B%22true%22%3Atrue%7D%2C%22"
                   "service%22%3A%7B%22s3qdr2cawh465iqhf04niv4zw%22%3Atrue%"
                   "7D%7D");
    free(esc);
    free(fj);
    json_decref(f);
    char *p = cli_path_escape("localhost:5000/bb:latest");
    CHECK_STR(p, "localhost:5000/bb:latest");
    free(p);
    p = cli_query_escape("myrepo:tag");
    CHECK_STR(p, "myrepo%3Atag");
    free(p);
}

int main(void)
{
    RUN(test_long_and_short);
    RUN(test_bool_values);
    RUN(test_interspersed);
    RUN(test_errors);
    RUN(test_help_flag);
    RUN(test_value_parsers);
    RUN(test_dispatch);
    RUN(test_default_host);
    RUN(test_client_unreachable);
    RUN(test_query);
    HARNESS_END();
}
