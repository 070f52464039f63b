// SPDX-License-Identifier: Apache-2.0
// shoal: the command-line client of the shoal orchestrator. It speaks the
// Docker Engine API to shoald and mirrors the docker CLI's grammar, output
// and exit codes. This file holds the global flags and the command table.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "cli/cli.h"

static const struct cli_cmd *const root_subs[] = {
    &cli_cmd_container, &cli_cmd_image,  &cli_cmd_network,
    &cli_cmd_secret,    &cli_cmd_config, &cli_cmd_node,
    &cli_cmd_service,   &cli_cmd_stack,  &cli_cmd_swarm,
    &cli_cmd_system,    &cli_cmd_volume, &cli_cmd_info,
    &cli_cmd_version,   &cli_cmd_events, &cli_cmd_build,
    &cli_cmd_images,    &cli_cmd_import, &cli_cmd_inspect,
    &cli_cmd_kill,      &cli_cmd_load,   &cli_cmd_login,
    &cli_cmd_logout,    &cli_cmd_logs,   &cli_cmd_ps,
    &cli_cmd_pull,      &cli_cmd_push,   &cli_cmd_rmi,
    &cli_cmd_save,      &cli_cmd_tag,    NULL,
};

static const struct cli_flag global_flags[] = {
    {"host", 'H', CLI_FLAG_STRING,
     "Daemon socket to connect to (unix:///path or tcp://host:port)", NULL,
     "string", NULL, false},
    {"debug", 'D', CLI_FLAG_BOOL, "Enable debug mode", NULL, NULL, NULL, false},
    {"version", 'v', CLI_FLAG_BOOL, "Print version information and quit", NULL,
     NULL, NULL, false},
    {"log-level", 'l', CLI_FLAG_STRING,
     "Set the logging level (\"debug\", \"info\", \"warn\", \"error\")", NULL,
     NULL, NULL, false},
};

static const struct cli_cmd root = {
    .name = "shoal",
    .use = "[OPTIONS] COMMAND",
    .short_desc = "The shoal container orchestrator's command-line client",
    .flags = CLI_FLAGS(global_flags),
    .subs = root_subs,
};

int main(int argc, char **argv)
{
    mem_install_allocators();
    struct cli_ctx ctx = {
        .out = stdout,
        .err = stderr,
        .out_tty = isatty(STDOUT_FILENO) == 1,
    };
    snprintf(ctx.path, sizeof(ctx.path), "shoal");
    struct cli_flags fl;
    struct err err = {0};
    /* Global flags come before the command word, as with docker. */
    if (cli_flags_parse(&fl, root.flags, root.nflags, argc - 1, argv + 1, false,
                        &err) < 0) {
        fprintf(stderr,
                "%s\n\nUsage:  shoal [OPTIONS] COMMAND\n\nRun 'shoal --help' "
                "for more information\n",
                err.msg);
        cli_flags_fini(&fl);
        return 125;
    }
    if (cli_flag_bool(&fl, "version")) {
        printf("Shoal version %s\n", CLI_VERSION);
        cli_flags_fini(&fl);
        return 0;
    }
    if (fl.help) {
        cli_print_help(stdout, "shoal", &root);
        cli_flags_fini(&fl);
        return 0;
    }
    ctx.host = cli_default_host(cli_flag_str(&fl, "host"));
    ctx.debug = cli_flag_bool(&fl, "debug");
    int rc = cli_dispatch(&ctx, &root, (int)fl.nargs, fl.args);
    fflush(stdout);
    cli_ctx_fini(&ctx);
    cli_flags_fini(&fl);
    return rc;
}
