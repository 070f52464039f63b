// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes as compose files (split in two at the
// first NUL, to merge). Loading and converting must never crash or leak,
// whatever the YAML, aliases, variables or values.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/mem.h"
#include "compose/compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *no_files(void *ud, const char *path, size_t *len, struct err *err)
{
    (void)ud;
    if (strcmp(path, "/w/f") == 0) {
        *len = 4;
        return xstrdup("A=1\n");
    }
    err_set(err, ERR_NOTFOUND, "open %s: no such file", path);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    struct compose_file f[2] = {
        {"a.yml", text, nul ? (size_t)(nul - text) : size},
        {"b.yml", nul ? nul + 1 : "",
         nul ? size - (size_t)(nul - text) - 1 : 0},
    };
    json_t *env = json_pack("{s:s, s:s}", "A", "x", "E", "");
    struct compose_opts o = {
        .env = env, .workdir = "/w", .home = "/h", .read = no_files};
    struct compose_project p;
    compose_project_init(&p);
    struct err err = {0};
    if (compose_load(&p, f, nul ? 2 : 1, &o, &err) == 0) {
        struct compose_stack s;
        if (compose_convert(&p, "st", &o, &s, &err) == 0)
            compose_stack_fini(&s);
    }
    compose_project_fini(&p);
    json_decref(env);
    return 0;
}
