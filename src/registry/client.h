// SPDX-License-Identifier: Apache-2.0
// A session with one repository of one registry, shared by the threads of
// a pull or push: base URL, credentials, the Authorization it has earned
// (Basic, or a Bearer token for the session's scopes, fetched on the first
// 401 challenge) and the registry's errors turned into messages like
// Docker's ("manifest unknown: manifest unknown").
#pragma once

#include <pthread.h>
#include <stdatomic.h>

#include "registry/auth.h"
#include "registry/fetch.h"
#include "registry/ref.h"

struct reg_client {
    char *base; /* "https://registry-1.docker.io" */
    char *path; /* "library/busybox" */
    char *scopes[3];
    struct reg_creds creds;
    const atomic_bool *stop;
    pthread_mutex_t lock;
    char *authz; /* "Authorization: ..." line, or NULL (guarded by lock) */
};

/* actions: "pull" or "pull,push"; mount_from: another repository path to
 * be granted pull on (blob mounts), or NULL. creds may be NULL. */
void reg_client_init(struct reg_client *c, const struct reg_ref *ref,
                     const struct reg_creds *creds, const char *actions,
                     const char *mount_from, const atomic_bool *stop);
void reg_client_fini(struct reg_client *c);

/* base + "/v2/" + path + suffix (owned); suffix like "/manifests/latest". */
char *reg_client_url(const struct reg_client *c, const char *suffix);

/* reg_fetch with the session's Authorization: on a 401 it answers the
 * challenge once (Basic with the credentials, or a Bearer token from the
 * realm) and retries. Any answer comes back as 0 with resp->status; -1 +
 * err when there was none or authentication failed. */
int reg_client_do(struct reg_client *c, const struct reg_fetch_req *req,
                  struct reg_fetch_resp *resp, struct err *err);

/* GET /v2/ with authentication (docker login): 0 if the registry accepts
 * the credentials. */
int reg_client_ping(struct reg_client *c, struct err *err);

/* Sets err from an error answer: "<Verb> \"URL\": <registry's errors>", or
 * what for a 404 ("manifest for X not found: manifest unknown: ...").
 * Code: 404 for not found, 500 otherwise. Returns -1. */
int reg_client_error(const struct reg_fetch_req *req,
                     const struct reg_fetch_resp *resp, const char *what,
                     struct err *err);
/* The registry's error list as Docker prints it ("" if none; owned). */
char *reg_errors_text(const struct reg_fetch_resp *resp);
