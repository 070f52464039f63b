// SPDX-License-Identifier: Apache-2.0
// The Docker Engine API client the shoal CLI talks through: one keep-alive
// HTTP/1.1 connection over a unix socket or TCP, API version negotiation
// (HEAD /_ping, like the docker CLI), JSON requests, streamed responses and
// file uploads. Daemon errors come back as "Error response from daemon: ..."
// with the HTTP status as the error code.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"

/* The newest API version the CLI speaks; the daemon may lower it. */
#define CLI_API_VERSION_MAX "1.47"
/* Used when /_ping carries no Api-Version header (docker's fallback). */
#define CLI_API_VERSION_FALLBACK "1.24"

/* Code for "could not reach the daemon" errors (not an HTTP status). */
#define CLI_ERR_CONNECT 599

struct cli_client;

/* Parses host ("unix:///path", "tcp://host:port"); no I/O yet. NULL with
 * err on a malformed host. Owned by the caller (cli_client_free). */
struct cli_client *cli_client_new(const char *host, bool debug,
                                  struct err *err);
void cli_client_free(struct cli_client *c);
/* A second connection to the same daemon sharing the negotiated version
 * (for lookups while a stream is open). Owned by the caller. */
struct cli_client *cli_client_clone(struct cli_client *c);

/* Negotiates the API version once (HEAD /_ping, GET /_ping if HEAD is
 * refused). Every request calls this first. */
int cli_client_negotiate(struct cli_client *c, struct err *err);
/* Negotiated version ("1.41"); valid after cli_client_negotiate. */
const char *cli_client_version(const struct cli_client *c);
/* The server's Api-Version header as sent ("" if none). */
const char *cli_client_server_version(const struct cli_client *c);
const char *cli_client_host(const struct cli_client *c);

/* Called with each piece of a streamed body; return -1 to abort. */
typedef int (*cli_client_data_cb)(const char *data, size_t len, void *ud);

struct cli_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* unversioned, with query: "/services?status=true" */
    const char *content_type; /* for body/upload, or NULL */
    const void *body;         /* request body bytes, or NULL */
    size_t body_len;
    FILE *upload;         /* stream a request body from this file instead */
    long long upload_len; /* its length (-1: chunked) */
    const char *const *headers; /* extra "Name: value" lines, NULL-ended */
    cli_client_data_cb on_data; /* stream the 2xx body here; NULL = buffer */
    void *ud;
};

struct cli_response {
    long status;
    struct buf body; /* buffered body (when on_data is NULL) */
};

/* Sends one request on the keep-alive connection. Returns 0 for 2xx.
 * Returns -1 with err set for transport errors ("Cannot connect to the
 * shoal daemon at ...", code CLI_ERR_CONNECT) and for HTTP errors
 * ("Error response from daemon: <message>", code = HTTP status). resp may
 * be NULL; if given it is initialised and owned by the caller (buf_fini). */
int cli_client_do(struct cli_client *c, const struct cli_request *req,
                  struct cli_response *resp, struct err *err);

/* GET path and parse the JSON body. Owned result; NULL with err. */
json_t *cli_client_get_json(struct cli_client *c, const char *path,
                            struct err *err);
/* Like cli_client_get_json, but the reply must be a JSON object (error
 * "unexpected reply from the daemon" otherwise). */
json_t *cli_client_get_object(struct cli_client *c, const char *path,
                              struct err *err);
/* GET path and return the raw body (owned, NUL-terminated). */
char *cli_client_get_raw(struct cli_client *c, const char *path, size_t *len,
                         struct err *err);
/* Sends body (NULL = none) as JSON; returns the parsed JSON reply (owned;
 * json null for an empty body), or NULL with err. */
json_t *cli_client_send_json(struct cli_client *c, const char *method,
                             const char *path, const json_t *body,
                             struct err *err);

/* Query-string building with Go's url.Values rules: keys sorted, values
 * escaped like url.QueryEscape. */
struct cli_query {
    struct buf b;
    char **keys; /* owned "key=value" pairs, sorted at render */
    size_t n;
};
void cli_query_init(struct cli_query *q);
void cli_query_fini(struct cli_query *q);
void cli_query_add(struct cli_query *q, const char *key, const char *value);
/* "?a=1&b=2" (or "" when empty). Borrowed until the next call / fini. */
const char *cli_query_str(struct cli_query *q);

/* url.QueryEscape / url.PathEscape-style escaping. Owned results. */
char *cli_query_escape(const char *s);
/* Escapes for use in a path: keeps "/:@" and unreserved characters. */
char *cli_path_escape(const char *s);

/* A docker "filters" JSON ({"key":{"value":true}}), keys sorted. */
json_t *cli_filters_new(void);
void cli_filters_add(json_t *filters, const char *key, const char *value);
/* Compact JSON with sorted keys (owned); NULL if filters is empty. */
char *cli_filters_encode(const json_t *filters);
