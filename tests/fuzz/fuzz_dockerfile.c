// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the builder's text inputs: arbitrary bytes as a
// Dockerfile (directives, continuations, flags, JSON and shell forms,
// key=value lists), every argument then expanded as a step would
// (quotes, escapes, ${VAR:-x} modifiers), and the same bytes as a
// .dockerignore matched against a few paths. It must only ever fail with
// an error, never crash or leak.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "builder/dockerfile.h"
#include "builder/ignore.h"
#include "builder/shellword.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(void *data, const char *name)
{
    (void)data;
    if (strcmp(name, "A") == 0)
        return "value with spaces";
    if (strcmp(name, "E") == 0)
        return "";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *text = xstrndup((const char *)data, size);
    struct dockerfile df;
    struct err err = {0};
    if (dockerfile_parse(text, &df, &err) < 0) {
        if (err.code != 400 || !err.msg[0])
            abort(); /* a failure must say why */
    } else {
        if (df.n_instrs == 0)
            abort();
        for (size_t i = 0; i < df.n_instrs; i++) {
            const struct df_instr *in = &df.instrs[i];
            if (in->line < 1 || !in->original)
                abort();
            for (size_t j = 0; j < in->n_args; j++) {
                if (!in->args[j])
                    continue; /* an ARG without default */
                struct err e2 = {0};
                char *w =
                    shellword_expand(in->args[j], df.escape, lookup, NULL, &e2);
                if (!w && (e2.code != 400 || !e2.msg[0]))
                    abort();
                free(w);
            }
        }
    }
    dockerfile_fini(&df);

    struct ignore ig;
    ignore_parse(text, &ig);
    static const char *paths[] = {
        "a", "a/b", "x.log", "dir/sub/f.tmp", "Dockerfile", "./.dockerignore"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        (void)ignore_match(&ig, paths[i]);
    for (size_t i = 0; i < ig.n; i++)
        (void)glob_match(ig.rules[i].pattern, "some/path/here");
    ignore_fini(&ig);
    return 0;
}
