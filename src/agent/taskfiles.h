// SPDX-License-Identifier: Apache-2.0
// The files a task gets from its secrets and configs: for each reference
// in its ContainerSpec, the decoded data from this node's store, where it
// goes in the container (secrets under /run/secrets unless absolute,
// configs under / unless absolute) and its owner and mode. Pure.
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

struct taskfile {
    char name[16]; /* its name in the task's tmpfs: "s0", "c1", ... */
    char *target;  /* absolute path in the container (owned) */
    char *data;    /* decoded (owned; wiped when freed) */
    size_t len;
    uint32_t uid, gid, mode;
};

struct taskfiles {
    struct taskfile *v;
    size_t n;
};

/* Builds the files of a ContainerSpec's Secrets and Configs. -1 (with
 * "secret x not found on this node") if one is missing from the store;
 * out is always initialised (taskfiles_fini it). */
int taskfiles_build(const struct store *s, const json_t *container_spec,
                    struct taskfiles *out, struct err *err);
void taskfiles_fini(struct taskfiles *tf);
