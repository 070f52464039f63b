// SPDX-License-Identifier: Apache-2.0
// The Dockerfile parser: text in, a list of instructions out. Handles the
// parser directives (`# escape=`), comments, line continuations, flags
// (`--from=x`), JSON and shell forms, and key=value lists (ENV, LABEL, ARG).
// Pure: no I/O, no variable expansion (that happens per step, with the
// environment of the moment, through shellword.h).
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

enum df_kind {
    DF_ADD,
    DF_ARG,
    DF_CMD,
    DF_COPY,
    DF_ENTRYPOINT,
    DF_ENV,
    DF_EXPOSE,
    DF_FROM,
    DF_HEALTHCHECK,
    DF_LABEL,
    DF_MAINTAINER,
    DF_ONBUILD,
    DF_RUN,
    DF_SHELL,
    DF_STOPSIGNAL,
    DF_USER,
    DF_VOLUME,
    DF_WORKDIR,
};

struct df_flag {
    char *name;  /* without the dashes: "from", "chown" */
    char *value; /* "" for a bare --flag */
};

/* One instruction. args depends on the kind:
 *  - json (RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME in JSON form):
 *    the array's strings, unexpanded;
 *  - RUN, CMD, ENTRYPOINT in shell form: one string, the command as written;
 *  - ENV, LABEL: key, value, key, value... (values still quoted, expanded
 *    later with shellword_expand, which removes the quotes);
 *  - ARG: name, default, name, default... (default NULL when absent);
 *  - HEALTHCHECK: "NONE", or "CMD" followed by the command (json or one
 *    shell string as above);
 *  - ONBUILD, MAINTAINER, USER, WORKDIR, STOPSIGNAL: one string;
 *  - everything else: the whitespace-separated words. */
struct df_instr {
    enum df_kind kind;
    int line;       /* first line of the instruction, from 1 */
    char *original; /* "RUN echo hi", continuations joined, for logs */
    bool json;      /* args came from a JSON array */
    char **args;    /* owned */
    size_t n_args;
    struct df_flag *flags; /* owned */
    size_t n_flags;
};

struct dockerfile {
    char escape; /* '\\' or '`' */
    struct df_instr *instrs;
    size_t n_instrs;
};

/* Parses text (NUL-terminated). On error: -1 and 400 "dockerfile parse
 * error line N: ..." naming the line. out is always initialised (free it
 * with dockerfile_fini either way). */
int dockerfile_parse(const char *text, struct dockerfile *out, struct err *err);
void dockerfile_fini(struct dockerfile *df);

/* "FROM", "RUN", ... */
const char *df_kind_name(enum df_kind k);
/* The flag's value, NULL if the instruction does not have it. */
const char *df_instr_flag(const struct df_instr *in, const char *name);
