// SPDX-License-Identifier: Apache-2.0
// Registry references (see ref.h): Docker's naming rules on top of the
// image store's reference grammar (runtime/image_ref.h).
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "registry/ref.h"
#include "runtime/image_ref.h"

#define HUB_DOMAIN   "docker.io"
#define HUB_API_HOST "registry-1.docker.io"
#define HUB_AUTH_KEY "https://index.docker.io/v1/"

void reg_ref_fini(struct reg_ref *r)
{
    free(r->domain);
    free(r->host);
    free(r->path);
    free(r->tag);
    free(r->digest);
    free(r->repo);
    memset(r, 0, sizeof(*r));
}

/* The host part of "host:port", "[::1]:5000" -> "::1" (owned). */
static char *host_only(const char *domain)
{
    if (domain[0] == '[') {
        const char *e = strchr(domain, ']');
        return e ? xstrndup(domain + 1, (size_t)(e - domain - 1))
                 : xstrdup(domain);
    }
    const char *c = strrchr(domain, ':');
    return c ? xstrndup(domain, (size_t)(c - domain)) : xstrdup(domain);
}

bool reg_host_is_insecure(const char *domain, const struct reg_config *cfg)
{
    _cleanup_free_ char *h = host_only(domain);
    if (strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 ||
        strncmp(h, "127.", 4) == 0)
        return true;
    for (size_t i = 0; cfg && cfg->insecure && cfg->insecure[i]; i++) {
        const char *e = cfg->insecure[i];
        if (strncmp(e, "http://", 7) == 0)
            e += 7;
        size_t n = strlen(e);
        while (n && e[n - 1] == '/')
            n--;
        if (strlen(domain) == n && strncmp(domain, e, n) == 0)
            return true;
        /* A bare host matches any port. */
        if (!memchr(e, ':', n) && strlen(h) == n && strncmp(h, e, n) == 0)
            return true;
    }
    return false;
}

int reg_ref_parse(const char *name, const char *tag,
                  const struct reg_config *cfg, struct reg_ref *r,
                  struct err *err)
{
    memset(r, 0, sizeof(*r));
    if (!name || !*name)
        return err_set(err, ERR_INVALID, "invalid reference format");
    _cleanup_free_ char *full = NULL;
    if (tag && *tag)
        full = xasprintf("%s%s%s", name, strncmp(tag, "sha256:", 7) ? ":" : "@",
                         tag);
    else
        full = xstrdup(name);
    struct image_refname n;
    if (image_refname_parse(full, &n, err) < 0)
        return -1;
    r->domain = steal_ptr(n.domain);
    r->path = steal_ptr(n.path);
    r->tag = steal_ptr(n.tag);
    r->digest = steal_ptr(n.digest);
    image_refname_fini(&n);
    r->host =
        xstrdup(strcmp(r->domain, HUB_DOMAIN) == 0 ? HUB_API_HOST : r->domain);
    struct image_refname tmp = {.domain = r->domain, .path = r->path};
    r->repo = image_refname_repo(&tmp);
    r->insecure = reg_host_is_insecure(r->domain, cfg);
    return 0;
}

const char *reg_ref_reference(const struct reg_ref *r)
{
    return r->digest ? r->digest : r->tag ? r->tag : "latest";
}

char *reg_ref_string(const struct reg_ref *r)
{
    if (r->digest && !r->tag)
        return xasprintf("%s@%s", r->repo, r->digest);
    if (r->digest)
        return xasprintf("%s:%s@%s", r->repo, r->tag, r->digest);
    return xasprintf("%s:%s", r->repo, r->tag ? r->tag : "latest");
}

char *reg_ref_base_url(const struct reg_ref *r)
{
    return xasprintf("%s://%s", r->insecure ? "http" : "https", r->host);
}

char *reg_auth_key(const char *domain)
{
    if (!domain || !*domain || strcmp(domain, HUB_DOMAIN) == 0 ||
        strcmp(domain, "index.docker.io") == 0 ||
        strcmp(domain, HUB_API_HOST) == 0)
        return xstrdup(HUB_AUTH_KEY);
    return xstrdup(domain);
}

char *reg_server_domain(const char *server, struct err *err)
{
    if (!server || !*server)
        return xstrdup(HUB_DOMAIN);
    const char *s = server;
    if (strncmp(s, "https://", 8) == 0)
        s += 8;
    else if (strncmp(s, "http://", 7) == 0)
        s += 7;
    size_t n = strcspn(s, "/");
    if (n == 0) {
        err_set(err, ERR_INVALID, "invalid registry address \"%s\"", server);
        return NULL;
    }
    _cleanup_free_ char *d = xstrndup(s, n);
    if (strcmp(d, "index.docker.io") == 0 || strcmp(d, HUB_API_HOST) == 0)
        return xstrdup(HUB_DOMAIN);
    return steal_ptr(d);
}
