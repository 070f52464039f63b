// SPDX-License-Identifier: Apache-2.0
// Image references: Docker's grammar (domain/path:tag@digest) and its
// normalisation, so "busybox", "docker.io/library/busybox" and
// "index.docker.io/library/busybox:latest" all name "busybox:latest".
// Pure string work, no store access.
#include <ctype.h>
#include <string.h>

#include "base/mem.h"
#include "runtime/image_internal.h"

#define DEFAULT_DOMAIN  "docker.io"
#define OFFICIAL_PREFIX "library/"
#define NAME_MAX_LEN    255
#define TAG_MAX_LEN     128
#define INVALID_REF     "invalid reference format"

static bool lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

bool image_is_hex(const char *s, size_t min, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n >= min && n <= max;
}

bool image_is_digest(const char *s)
{
    return strncmp(s, "sha256:", 7) == 0 && image_is_hex(s + 7, 64, 64);
}

/* path-component: [a-z0-9]+ joined by "." | "_" | "__" | "-"+ */
static bool valid_component(const char *s, size_t n)
{
    if (n == 0 || !lower_alnum(s[0]))
        return false;
    size_t i = 0;
    while (i < n) {
        if (lower_alnum(s[i])) {
            i++;
            continue;
        }
        size_t j = i + 1;
        if (s[i] == '_') {
            if (j < n && s[j] == '_')
                j++;
        } else if (s[i] == '-') {
            while (j < n && s[j] == '-')
                j++;
        } else if (s[i] != '.') {
            return false;
        }
        if (j >= n || !lower_alnum(s[j]))
            return false;
        i = j;
    }
    return true;
}

/* domain: host components ([A-Za-z0-9] with inner '-') joined by '.', or a
 * bracketed IPv6 address, then an optional ":port". */
static bool valid_domain(const char *s, size_t n)
{
    size_t i = 0;
    if (n && s[0] == '[') {
        i = 1;
        while (i < n && (isxdigit((unsigned char)s[i]) || s[i] == ':'))
            i++;
        if (i == 1 || i >= n || s[i] != ']')
            return false;
        i++;
    } else {
        for (;;) {
            size_t start = i;
            while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-'))
                i++;
            if (i == start || s[start] == '-' || s[i - 1] == '-')
                return false;
            if (i < n && s[i] == '.') {
                i++;
                continue;
            }
            break;
        }
    }
    if (i < n && s[i] == ':') {
        size_t start = ++i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

static bool valid_tag(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TAG_MAX_LEN || !word_char(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!word_char(s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

static int invalid(struct image_refname *r, struct err *err, const char *why)
{
    image_refname_fini(r);
    if (why)
        return err_set(err, ERR_INVALID, INVALID_REF ": %s", why);
    return err_set(err, ERR_INVALID, INVALID_REF);
}

int image_refname_parse(const char *s, struct image_refname *r, struct err *err)
{
    memset(r, 0, sizeof(*r));
    if (!s || !*s)
        return invalid(r, err, NULL);
    size_t len = strlen(s);
    const char *at = strchr(s, '@');
    const char *name_end = at ? at : s + len;
    if (at) {
        if (!image_is_digest(at + 1))
            return invalid(r, err, NULL);
        r->digest = xstrdup(at + 1);
    }
    /* A tag is after the last ':' that follows the last '/'. */
    const char *tag_colon = NULL;
    for (const char *p = s; p < name_end; p++) {
        if (*p == '/')
            tag_colon = NULL;
        else if (*p == ':')
            tag_colon = p;
    }
    if (tag_colon) {
        r->tag = xstrndup(tag_colon + 1, (size_t)(name_end - tag_colon - 1));
        if (!valid_tag(r->tag))
            return invalid(r, err, NULL);
        name_end = tag_colon;
    }
    size_t name_len = (size_t)(name_end - s);
    if (name_len == 0)
        return invalid(r, err, NULL);
    if (name_len > NAME_MAX_LEN)
        return invalid(r, err,
                       "repository name must not be more than 255 "
                       "characters");

    /* Docker's rule: the first component is a domain if it has a '.' or
     * ':', is "localhost", or has upper case; only when a '/' follows. */
    const char *rest = s;
    const char *slash = memchr(s, '/', name_len);
    if (slash) {
        size_t n = (size_t)(slash - s);
        bool domain = memchr(s, '.', n) || memchr(s, ':', n) ||
                      (n == 9 && strncmp(s, "localhost", 9) == 0);
        for (size_t i = 0; i < n && !domain; i++)
            domain = isupper((unsigned char)s[i]);
        if (domain) {
            if (!valid_domain(s, n))
                return invalid(r, err, NULL);
            r->domain = xstrndup(s, n);
            rest = slash + 1;
        }
    }
    size_t rest_len = (size_t)(name_end - rest);
    for (size_t i = 0; i < rest_len; i++)
        if (isupper((unsigned char)rest[i]))
            return invalid(r, err, "repository name must be lowercase");
    for (const char *c = rest; c < name_end;) {
        const char *e = memchr(c, '/', (size_t)(name_end - c));
        if (!e)
            e = name_end;
        if (!valid_component(c, (size_t)(e - c)))
            return invalid(r, err, NULL);
        c = e < name_end ? e + 1 : e;
        if (e < name_end && c == name_end)
            return invalid(r, err, NULL); /* trailing '/' */
    }
    _cleanup_free_ char *path = xstrndup(rest, rest_len);
    if (!r->domain && image_is_hex(path, 64, 64)) {
        image_refname_fini(r);
        return err_set(err, ERR_INVALID,
                       "invalid repository name (%s), cannot specify "
                       "64-byte hexadecimal strings",
                       path);
    }
    if (!r->domain || strcmp(r->domain, "index.docker.io") == 0) {
        free(r->domain);
        r->domain = xstrdup(DEFAULT_DOMAIN);
    }
    if (strcmp(r->domain, DEFAULT_DOMAIN) == 0 && !strchr(path, '/'))
        r->path = xasprintf(OFFICIAL_PREFIX "%s", path);
    else
        r->path = steal_ptr(path);
    return 0;
}

void image_refname_fini(struct image_refname *r)
{
    free(r->domain);
    free(r->path);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof(*r));
}

char *image_refname_repo(const struct image_refname *r)
{
    if (strcmp(r->domain, DEFAULT_DOMAIN) != 0)
        return xasprintf("%s/%s", r->domain, r->path);
    size_t n = strlen(OFFICIAL_PREFIX);
    if (strncmp(r->path, OFFICIAL_PREFIX, n) == 0 && !strchr(r->path + n, '/'))
        return xstrdup(r->path + n);
    return xstrdup(r->path);
}

char *image_refname_string(const struct image_refname *r)
{
    _cleanup_free_ char *repo = image_refname_repo(r);
    const char *tag = r->tag ? r->tag : r->digest ? NULL : "latest";
    return xasprintf("%s%s%s%s%s", repo, tag ? ":" : "", tag ? tag : "",
                     r->digest ? "@" : "", r->digest ? r->digest : "");
}

char *image_normalize_ref(const char *ref, struct err *err)
{
    struct image_refname r;
    if (image_refname_parse(ref, &r, err) < 0)
        return NULL;
    char *s = image_refname_string(&r);
    image_refname_fini(&r);
    return s;
}
