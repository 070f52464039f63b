// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: what a registry or a client sends the registry client.
// The first byte picks the parser (manifest / index with platform
// selection, WWW-Authenticate challenge and token URL, token answer,
// X-Registry-Auth credentials); none may crash, leak or read past input.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/mem.h"
#include "registry/auth.h"
#include "registry/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % 4;
    char *text = xstrndup((const char *)data + 1, size - 1);
    size_t len = size - 1;
    struct err err = {0};
    switch (which) {
    case 0: {
        struct reg_manifest m;
        if (reg_manifest_parse(NULL, data + 1, len, &m, &err) == 0) {
            if (m.kind == REG_KIND_INDEX) {
                reg_index_select(&m, "linux", "amd64", "", &err);
                reg_index_select(&m, "linux", "arm", "v7", &err);
                json_decref(reg_index_platforms(&m));
            }
            reg_manifest_fini(&m);
        }
        break;
    }
    case 1: {
        struct reg_challenge c;
        if (reg_challenge_parse(text, &c) == 0) {
            const char *scopes[] = {"repository:a:pull", NULL};
            free(reg_token_url(&c, NULL));
            free(reg_token_url(&c, scopes));
            reg_challenge_fini(&c);
        }
        break;
    }
    case 2:
        free(reg_token_parse(data + 1, len, &err));
        break;
    case 3: {
        struct reg_creds c;
        if (reg_creds_decode(text, &c, &err) == 0) {
            free(reg_creds_encode(&c));
            reg_creds_fini(&c);
        }
        break;
    }
    }
    free(text);
    return 0;
}
