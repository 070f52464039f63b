// SPDX-License-Identifier: Apache-2.0
// Registry authentication, the pure parts (see auth.h). The header and
// token documents come from the network: parsed defensively, bounded.
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "registry/auth.h"

void reg_challenge_fini(struct reg_challenge *c)
{
    free(c->realm);
    free(c->service);
    free(c->scope);
    memset(c, 0, sizeof(*c));
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static bool token_char(char c)
{
    /* strchr finds the terminator too: '\0' is never a token char. */
    return c && (isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c));
}

/* Reads key=value (value a token or quoted string) at *pp; false when no
 * parameter is there. key/value owned. */
static bool read_param(const char **pp, char **key, char **value)
{
    const char *p = skip_ws(*pp);
    const char *k = p;
    while (token_char(*p))
        p++;
    if (p == k)
        return false;
    const char *ke = p;
    p = skip_ws(p);
    if (*p != '=')
        return false;
    p = skip_ws(p + 1);
    char *v;
    if (*p == '"') {
        p++;
        size_t cap = strlen(p) + 1, n = 0;
        v = xmalloc(cap);
        while (*p && *p != '"') {
            if (*p == '\\' && p[1])
                p++;
            v[n++] = *p++;
        }
        v[n] = '\0';
        if (*p == '"')
            p++;
    } else {
        const char *vs = p;
        while (token_char(*p) || *p == '/' || *p == ':')
            p++;
        v = xstrndup(vs, (size_t)(p - vs));
    }
    *key = xstrndup(k, (size_t)(ke - k));
    *value = v;
    p = skip_ws(p);
    if (*p == ',')
        p++;
    *pp = p;
    return true;
}

int reg_challenge_parse(const char *header, struct reg_challenge *c)
{
    memset(c, 0, sizeof(*c));
    const char *p = header ? header : "";
    while (*p) {
        p = skip_ws(p);
        if (!*p)
            break;
        const char *s = p;
        while (token_char(*p))
            p++;
        size_t n = (size_t)(p - s);
        if (n == 0) {
            p++;
            continue;
        }
        enum reg_scheme scheme = REG_AUTH_NONE;
        if (n == 6 && strncasecmp(s, "bearer", 6) == 0)
            scheme = REG_AUTH_BEARER;
        else if (n == 5 && strncasecmp(s, "basic", 5) == 0)
            scheme = REG_AUTH_BASIC;
        char *k, *v;
        const char *q = p;
        while (read_param(&q, &k, &v)) {
            if (scheme != REG_AUTH_NONE && c->scheme == REG_AUTH_NONE) {
                char **slot = strcasecmp(k, "realm") == 0     ? &c->realm
                              : strcasecmp(k, "service") == 0 ? &c->service
                              : strcasecmp(k, "scope") == 0   ? &c->scope
                                                              : NULL;
                if (slot && !*slot) {
                    *slot = v;
                    v = NULL;
                }
            }
            free(k);
            free(v);
        }
        p = q;
        if (scheme != REG_AUTH_NONE && c->scheme == REG_AUTH_NONE) {
            c->scheme = scheme;
            return 0;
        }
    }
    reg_challenge_fini(c);
    return -1;
}

char *reg_url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = xmalloc(3 * n + 1), *o = out;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || strchr("-_.~", ch)) {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    *o = '\0';
    return out;
}

char *reg_token_url(const struct reg_challenge *c, const char *const *scopes)
{
    if (!c->realm || (strncmp(c->realm, "https://", 8) != 0 &&
                      strncmp(c->realm, "http://", 7) != 0))
        return NULL;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, c->realm);
    char sep = strchr(c->realm, '?') ? '&' : '?';
    if (c->service) {
        _cleanup_free_ char *e = reg_url_escape(c->service);
        buf_printf(&b, "%cservice=%s", sep, e);
        sep = '&';
    }
    const char *one[] = {c->scope, NULL};
    const char *const *list = scopes ? scopes : one;
    for (size_t i = 0; list[i]; i++) {
        _cleanup_free_ char *e = reg_url_escape(list[i]);
        buf_printf(&b, "%cscope=%s", sep, e);
        sep = '&';
    }
    return buf_steal(&b);
}

char *reg_token_parse(const void *body, size_t len, struct err *err)
{
    json_error_t je;
    _cleanup_json_ json_t *doc = json_loadb(body, len, 0, &je);
    const char *t = jx_str(doc, "token");
    if (!t || !*t)
        t = jx_str(doc, "access_token");
    if (!t || !*t) {
        err_set(err, ERR_INTERNAL,
                "invalid answer from the registry's token service: no "
                "token");
        return NULL;
    }
    return xstrdup(t);
}

/* ---- credentials ---- */

void reg_creds_fini(struct reg_creds *c)
{
    free(c->username);
    free(c->password);
    free(c->identity_token);
    free(c->registry_token);
    free(c->server);
    memset(c, 0, sizeof(*c));
}

bool reg_creds_empty(const struct reg_creds *c)
{
    return !(c->username && *c->username) &&
           !(c->identity_token && *c->identity_token) &&
           !(c->registry_token && *c->registry_token);
}

void reg_creds_copy(struct reg_creds *dst, const struct reg_creds *src)
{
    dst->username = xstrdup(src->username);
    dst->password = xstrdup(src->password);
    dst->identity_token = xstrdup(src->identity_token);
    dst->registry_token = xstrdup(src->registry_token);
    dst->server = xstrdup(src->server);
}

char *reg_b64_decode(const char *text, size_t *len)
{
    size_t n = strlen(text);
    while (n && (text[n - 1] == '=' || text[n - 1] == '\n'))
        n--;
    char *std = xmalloc(n + 4);
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    size_t m = n;
    while (m % 4)
        std[m++] = '=';
    std[m] = '\0';
    char *out = m % 4 == 0 ? b64_decode(std, len) : NULL;
    free(std);
    return out;
}

char *reg_b64url_encode(const void *data, size_t len)
{
    char *s = b64_encode(data, len);
    for (char *p = s; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return s;
}

static char *str_field(const json_t *doc, const char *key)
{
    const char *v = jx_str(doc, key);
    return v && *v ? xstrdup(v) : NULL;
}

int reg_creds_decode(const char *header, struct reg_creds *c, struct err *err)
{
    memset(c, 0, sizeof(*c));
    if (!header || !*header)
        return 0;
    size_t len = 0;
    _cleanup_free_ char *json = reg_b64_decode(header, &len);
    json_error_t je;
    _cleanup_json_ json_t *doc = json ? json_loadb(json, len, 0, &je) : NULL;
    if (!json_is_object(doc))
        return err_set(err, ERR_INVALID,
                       "invalid X-Registry-Auth header: not base64-encoded "
                       "JSON credentials");
    c->username = str_field(doc, "username");
    c->password = str_field(doc, "password");
    c->identity_token = str_field(doc, "identitytoken");
    c->registry_token = str_field(doc, "registrytoken");
    c->server = str_field(doc, "serveraddress");
    const char *auth = jx_str(doc, "auth");
    if (auth && *auth && !c->username) {
        size_t n = 0;
        _cleanup_free_ char *up = reg_b64_decode(auth, &n);
        char *colon = up ? memchr(up, ':', n) : NULL;
        if (!colon) {
            reg_creds_fini(c);
            return err_set(err, ERR_INVALID,
                           "invalid X-Registry-Auth header: bad \"auth\"");
        }
        c->username = xstrndup(up, (size_t)(colon - up));
        c->password = xstrdup(colon + 1);
    }
    return 0;
}

char *reg_creds_encode(const struct reg_creds *c)
{
    json_t *doc = json_object();
    if (c->username)
        json_object_set_new(doc, "username", json_string(c->username));
    if (c->password)
        json_object_set_new(doc, "password", json_string(c->password));
    if (c->identity_token)
        json_object_set_new(doc, "identitytoken",
                            json_string(c->identity_token));
    if (c->registry_token)
        json_object_set_new(doc, "registrytoken",
                            json_string(c->registry_token));
    if (c->server)
        json_object_set_new(doc, "serveraddress", json_string(c->server));
    _cleanup_free_ char *s = jx_dumps(doc);
    json_decref(doc);
    return reg_b64url_encode(s, strlen(s));
}

char *reg_basic_header(const char *user, const char *pass)
{
    _cleanup_free_ char *up =
        xasprintf("%s:%s", user ? user : "", pass ? pass : "");
    _cleanup_free_ char *b = b64_encode(up, strlen(up));
    return xasprintf("Basic %s", b);
}
