// SPDX-License-Identifier: Apache-2.0
// One HTTP exchange with a registry, blocking (the registry client runs in
// threads of its own, never on the daemon's loop): the interface the
// client uses and the libcurl adapter behind it (fetch_curl.c, the only
// file that includes <curl/curl.h>). TLS is OpenSSL through libcurl, with
// the system's CA store and peer verification always on.
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* Receives response body bytes (2xx answers only); return -1 to abort. */
typedef int (*reg_fetch_data_fn)(void *ud, const void *data, size_t n);
/* Transfer progress (bytes so far of the body up or down). */
typedef void (*reg_fetch_progress_fn)(void *ud, int64_t done, int64_t total);

struct reg_fetch_req {
    const char *method; /* GET HEAD POST PUT PATCH */
    const char *url;
    const char *const *headers; /* "Name: value", NULL-terminated, or NULL */
    /* Request body: bytes in memory, or a file (body_path). */
    const void *body;
    size_t body_len;
    const char *body_path;
    /* 2xx bodies go to on_data when set; otherwise (and for every error
     * status) they are kept in resp->body, up to max_body bytes (more is an
     * error). */
    reg_fetch_data_fn on_data;
    reg_fetch_progress_fn on_progress;
    void *ud;
    size_t max_body;
    bool follow;             /* follow redirects (blob downloads) */
    const atomic_bool *stop; /* when it becomes true the transfer aborts */
};

struct reg_fetch_resp {
    long status;
    struct buf body;
    char *content_type, *location, *www_authenticate, *content_digest;
    char *effective_url;    /* after redirects */
    int64_t content_length; /* -1 if unknown */
};

/* Performs the exchange. 0 once an answer came, whatever its status; -1 +
 * err (code 500, "Get \"URL\": <what failed>") if none did (connection,
 * TLS, timeout, abort, body limit). resp is initialised either way; the
 * caller frees it with reg_fetch_resp_fini. */
int reg_fetch(const struct reg_fetch_req *req, struct reg_fetch_resp *resp,
              struct err *err);
void reg_fetch_resp_fini(struct reg_fetch_resp *resp);
/* Resolves a Location (absolute, or relative to base) into a URL (owned);
 * NULL if malformed. */
char *reg_fetch_resolve(const char *base, const char *location);
