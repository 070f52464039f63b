// SPDX-License-Identifier: Apache-2.0
// The command framework of the shoal CLI: a tree of commands (groups and
// leaves) with docker's usage lines, help text, argument-count rules and
// error wording, and the context every command runs with (output streams,
// the lazily connected API client). Each command group lives in its own
// cli_<group>.c and exports one struct cli_cmd.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/client.h"
#include "cli/flags.h"

struct cli_ctx {
    const char *host; /* resolved daemon address */
    bool debug;
    FILE *out; /* stdout (a memstream in tests) */
    FILE *err; /* stderr */
    bool out_tty;
    struct cli_client *client; /* created on first use; owned */
    char path[160];            /* "shoal service create" */
    const struct cli_cmd *cmd; /* the command being run */
    int64_t now;               /* fixed clock for tests (ns); 0 = real */
};

/* The wall clock, or ctx->now when a test fixed it. */
int64_t cli_ctx_now(const struct cli_ctx *ctx);

enum cli_args {
    CLI_ARGS_ANY,
    CLI_ARGS_NONE,
    CLI_ARGS_EXACT, /* nmin */
    CLI_ARGS_MIN,   /* >= nmin */
    CLI_ARGS_MAX,   /* <= nmax */
    CLI_ARGS_RANGE, /* nmin..nmax */
};

/* A command's action: 0 on success; -1 with err set (the framework prints
 * err->msg and exits 1); or a positive exit status when the command has
 * already printed its own error. */
typedef int (*cli_run_fn)(struct cli_ctx *ctx, struct cli_flags *fl,
                          struct err *err);

struct cli_cmd {
    const char *name;
    const char *const *aliases; /* NULL-terminated, or NULL */
    const char *use;            /* usage after the name, e.g. "[OPTIONS]" */
    const char *short_desc;
    const struct cli_flag *flags;
    size_t nflags;
    enum cli_args args;
    int nmin, nmax;
    bool no_interspersed; /* flags end at the first positional argument */
    cli_run_fn run;
    const struct cli_cmd *const *subs; /* NULL-terminated, for groups */
};

#define CLI_FLAGS(arr) (arr), (sizeof(arr) / sizeof((arr)[0]))

/* Resolves the daemon address: -H, else SHOAL_HOST, else DOCKER_HOST,
 * else unix:///run/shoal/shoal.sock. Borrowed. */
const char *cli_default_host(const char *flag_host);

/* Runs the command at argv (argv[0] is a command word of root's
 * subcommands). Returns the process exit status. */
int cli_dispatch(struct cli_ctx *ctx, const struct cli_cmd *root, int argc,
                 char **argv);

/* Prints the help of cmd (whose full path is path) to f. */
void cli_print_help(FILE *f, const char *path, const struct cli_cmd *cmd);

/* The API client, created on first use. NULL with err if the host is bad. */
struct cli_client *cli_ctx_client(struct cli_ctx *ctx, struct err *err);
void cli_ctx_fini(struct cli_ctx *ctx);

/* Usage error in docker's words for the running command: message, usage
 * line, and the "See/Run '... --help'" hint. Returns -1 (err set). */
int cli_usage_error(struct cli_ctx *ctx, struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints JSON to ctx->out as `docker inspect` does (4-space indent). */
void cli_print_json_pretty(struct cli_ctx *ctx, const json_t *j);

/* One column a list command offers to --format ("{{.ID}}") and its table
 * header ("ID"). */
struct cli_field {
    const char *name;
    const char *header;
};

/* Returns the value of field for one record (owned), NULL if unknown. */
typedef char *(*cli_field_cb)(const char *field, void *record);

/* Prints records like docker's formatter: format NULL/"" or "table" uses
 * default_table ("table {{.ID}}\t{{.Name}}..."), "table TEMPLATE" adds a
 * header row, "json" prints one JSON object per record, anything else is a
 * raw template per record. Tables are aligned like tabwriter. */
int cli_print_list(struct cli_ctx *ctx, const char *format,
                   const char *default_table, const struct cli_field *fields,
                   size_t nfields, cli_field_cb get, void *const *records,
                   size_t n, struct err *err);

/* Builds a docker filters JSON from --filter key=value values; NULL with
 * err on a malformed one. */
json_t *cli_filters_from_flag(const struct cli_flags *fl, const char *flag,
                              struct err *err);
/* The --filter values encoded for a query (*out owned, NULL when there
 * are none); -1 with err on a malformed one. */
int cli_filters_flag_encoded(const struct cli_flags *fl, char **out,
                             struct err *err);
/* Adds filters=<the --filter values> to q when there are any. */
int cli_query_add_filters(struct cli_query *q, const struct cli_flags *fl,
                          struct err *err);

/* Prints raw JSON documents as a `docker inspect` array (json.Indent). */
void cli_print_inspect(struct cli_ctx *ctx, char *const *raw, size_t n);

/* Prints each raw JSON document through an inspect --format template
 * ({{.ID}}, {{.Spec.Name}}, {{json .Spec}}), one line per document. */
int cli_print_inspect_format(struct cli_ctx *ctx, char *const *raw, size_t n,
                             const char *format, struct err *err);

/* An inspect command's way to fetch one argument: its raw JSON (owned), or
 * NULL with e set to what docker prints for it. */
struct cli_client;
typedef char *(*cli_inspect_fetch_fn)(struct cli_client *c, const char *arg,
                                      void *data, struct err *e);
/* Its human form (--pretty) of one object, appended to out. */
typedef void (*cli_inspect_pretty_fn)(struct cli_ctx *ctx, struct cli_client *c,
                                      json_t *obj, struct buf *out);
/* docker's inspect: fetches every argument, prints what was found (as an
 * indented JSON array, through format, or with pretty when not NULL),
 * then fails with the joined errors of those that were not. */
int cli_inspect(struct cli_ctx *ctx, struct cli_client *c, char *const *args,
                size_t nargs, const char *format, cli_inspect_pretty_fn pretty,
                cli_inspect_fetch_fn fetch, void *data, struct err *err);

/* Command groups (one per cli_<group>.c). */
extern const struct cli_cmd cli_cmd_swarm;
extern const struct cli_cmd cli_cmd_node;
extern const struct cli_cmd cli_cmd_service;
extern const struct cli_cmd cli_cmd_image;
extern const struct cli_cmd cli_cmd_container;
extern const struct cli_cmd cli_cmd_system;
extern const struct cli_cmd cli_cmd_version;
extern const struct cli_cmd cli_cmd_info;
extern const struct cli_cmd cli_cmd_events;
extern const struct cli_cmd cli_cmd_network;
extern const struct cli_cmd cli_cmd_volume;
extern const struct cli_cmd cli_cmd_stack;
extern const struct cli_cmd cli_cmd_secret;
extern const struct cli_cmd cli_cmd_config;
/* Top-level shortcuts docker keeps (images, load, import, rmi, ps, ...). */
extern const struct cli_cmd cli_cmd_images;
extern const struct cli_cmd cli_cmd_load;
extern const struct cli_cmd cli_cmd_import;
extern const struct cli_cmd cli_cmd_rmi;
extern const struct cli_cmd cli_cmd_ps;
extern const struct cli_cmd cli_cmd_kill;
extern const struct cli_cmd cli_cmd_logs;
extern const struct cli_cmd cli_cmd_inspect;
/* Registry commands (cli_registry.c): image pull/push/tag/save and their
 * top-level forms, login, logout. */
extern const struct cli_cmd cli_cmd_image_pull;
extern const struct cli_cmd cli_cmd_image_push;
extern const struct cli_cmd cli_cmd_image_tag;
extern const struct cli_cmd cli_cmd_image_save;
extern const struct cli_cmd cli_cmd_pull;
extern const struct cli_cmd cli_cmd_push;
extern const struct cli_cmd cli_cmd_tag;
extern const struct cli_cmd cli_cmd_save;
extern const struct cli_cmd cli_cmd_login;
extern const struct cli_cmd cli_cmd_logout;
/* `shoal image build` and its shortcut `shoal build` (cli_build.c). */
extern const struct cli_cmd cli_cmd_image_build;
extern const struct cli_cmd cli_cmd_build;

/* The CLI's own version, printed by `shoal version` / `--version`. */
#define CLI_VERSION "0.1.0"
