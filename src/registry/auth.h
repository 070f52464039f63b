// SPDX-License-Identifier: Apache-2.0
// Registry authentication, the pure parts: WWW-Authenticate challenges
// (Bearer realm/service/scope, Basic), the token request URL and its
// answer, credentials as Docker carries them (X-Registry-Auth: base64url
// JSON) and the Basic header. No I/O.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

enum reg_scheme { REG_AUTH_NONE, REG_AUTH_BASIC, REG_AUTH_BEARER };

struct reg_challenge {
    enum reg_scheme scheme;
    char *realm, *service, *scope; /* owned, NULL if absent */
};

/* Parses a WWW-Authenticate header value; the first Bearer or Basic
 * challenge wins. -1 if there is none (scheme REG_AUTH_NONE). */
int reg_challenge_parse(const char *header, struct reg_challenge *c);
void reg_challenge_fini(struct reg_challenge *c);

/* The token endpoint URL for a Bearer challenge: realm with service and
 * each scope (NULL-terminated; may be NULL to use the challenge's) as
 * query parameters (owned). NULL if the realm is not http(s). */
char *reg_token_url(const struct reg_challenge *c, const char *const *scopes);
/* The token of a token endpoint's answer ({"token"} or {"access_token"});
 * owned, or NULL + error. */
char *reg_token_parse(const void *body, size_t len, struct err *err);

/* Credentials for one registry. Every field owned, NULL if absent. */
struct reg_creds {
    char *username, *password;
    char *identity_token; /* refresh token (OAuth), from docker login */
    char *registry_token; /* bearer token to use as is */
    char *server;         /* serveraddress */
};

/* Decodes an X-Registry-Auth value (base64url or standard base64, padding
 * optional, of Docker's AuthConfig JSON; "auth" = base64(user:pass) is
 * understood too). NULL, "" and "{}" give empty credentials. 400 on
 * garbage. */
int reg_creds_decode(const char *header, struct reg_creds *c, struct err *err);
/* The X-Registry-Auth value for c (owned; base64url of the JSON). */
char *reg_creds_encode(const struct reg_creds *c);
void reg_creds_fini(struct reg_creds *c);
bool reg_creds_empty(const struct reg_creds *c);
void reg_creds_copy(struct reg_creds *dst, const struct reg_creds *src);
/* "Basic <base64(user:pass)>" (owned). */
char *reg_basic_header(const char *user, const char *pass);

/* Lenient base64 (either alphabet, padding optional); owned,
 * NUL-terminated, NULL if malformed. */
char *reg_b64_decode(const char *text, size_t *len);
/* base64url with padding, like Go's base64.URLEncoding (owned). */
char *reg_b64url_encode(const void *data, size_t len);
/* application/x-www-form-urlencoded escaping of one value (owned). */
char *reg_url_escape(const char *s);
