// SPDX-License-Identifier: Apache-2.0
// A small command-line flag parser with the docker CLI's (pflag's) grammar:
// --flag value, --flag=value, -f value, -fvalue, clustered short booleans
// (-dq), booleans with an optional =true/false, repeated list flags, and
// `--` to end the flags. Values are checked when parsed so errors read like
// docker's ("invalid argument "x" for "--replicas" flag: ...").
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/vec.h"

enum cli_flag_type {
    CLI_FLAG_BOOL,
    CLI_FLAG_STRING,   /* last value wins */
    CLI_FLAG_LIST,     /* every value kept, in order */
    CLI_FLAG_INT,      /* int64 */
    CLI_FLAG_UINT,     /* uint64 */
    CLI_FLAG_DURATION, /* Go duration ("10s"), stored as text */
    CLI_FLAG_BYTES,    /* memory size ("512m") */
    CLI_FLAG_DECIMAL,  /* CPUs ("0.5"), as nano units */
    CLI_FLAG_FLOAT,    /* float32 */
};

/* Checks one value of a flag; sets err's message (without the "invalid
 * argument" prefix, which the parser adds) and returns -1 if bad. */
typedef int (*cli_flag_check_cb)(const char *value, struct err *err);

struct cli_flag {
    const char *name; /* long name, without "--" */
    char shorthand;   /* 0 if none */
    enum cli_flag_type type;
    const char *usage;       /* one line of help */
    const char *def;         /* default value (as typed), or NULL */
    const char *type_name;   /* help's type word; NULL = from type */
    cli_flag_check_cb check; /* extra validation, or NULL */
    bool hidden;
};

struct cli_flag_value {
    bool changed;
    char *str;       /* last value (borrowed from argv or owned in own) */
    struct vec list; /* every value, for CLI_FLAG_LIST (borrowed) */
};

struct cli_flags {
    const struct cli_flag *defs; /* borrowed */
    size_t ndefs;
    struct cli_flag_value *vals; /* owned, one per def */
    char **args;                 /* positional args (array owned) */
    size_t nargs;
    bool help;      /* -h/--help was given */
    struct vec own; /* strings the parser allocated */
};

/* Parses argv[0..argc) (without the command words). With interspersed
 * false, the first positional argument ends flag parsing (the rest are
 * positional), as `service create` does so that the image's own flags pass
 * through. Returns 0, or -1 with err set to docker's message. */
int cli_flags_parse(struct cli_flags *f, const struct cli_flag *defs,
                    size_t ndefs, int argc, char **argv, bool interspersed,
                    struct err *err);
void cli_flags_fini(struct cli_flags *f);

/* Looks a flag up by long name; NULL if the command has no such flag. */
const struct cli_flag *cli_flags_def(const struct cli_flags *f,
                                     const char *name);
bool cli_flag_changed(const struct cli_flags *f, const char *name);
/* Last value given, else the default, else NULL (borrowed). */
const char *cli_flag_str(const struct cli_flags *f, const char *name);
bool cli_flag_bool(const struct cli_flags *f, const char *name);
int64_t cli_flag_int(const struct cli_flags *f, const char *name);
uint64_t cli_flag_uint(const struct cli_flags *f, const char *name);
/* Duration in ns; 0 if unset. */
int64_t cli_flag_duration(const struct cli_flags *f, const char *name);
/* Every value of a list flag (borrowed strings); never NULL. */
const struct vec *cli_flag_list(const struct cli_flags *f, const char *name);

/* Go's strconv.ParseBool; -1 if not a boolean. */
int cli_parse_bool(const char *s, bool *out);
/* Parses unsigned/signed decimal integers like strconv (base 0 for uint:
 * 0x.., 0o.., 0.. prefixes); messages match strconv's. */
int cli_parse_uint(const char *s, int base, int bits, uint64_t *out,
                   struct err *err);
int cli_parse_int(const char *s, int bits, int64_t *out, struct err *err);

/* Writes the "Options:" block of a help text for these flags. */
struct buf;
void cli_flags_help(const struct cli_flag *defs, size_t ndefs, struct buf *out);
