// SPDX-License-Identifier: Apache-2.0
// Registry credentials of the CLI (see cli_creds.h).
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/b64.h"
#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli_creds.h"
#include "registry/ref.h"

char *cli_creds_path(void)
{
    const char *dir = getenv("SHOAL_CONFIG");
    if (dir && *dir)
        return xasprintf("%s/config.json", dir);
    const char *home = getenv("HOME");
    return xasprintf("%s/.shoal/config.json", home && *home ? home : "/root");
}

static json_t *load(const char *path, struct err *err)
{
    if (!fs_exists(path))
        return json_object();
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!json_is_object(doc)) {
        json_decref(doc);
        err_set(err, ERR_INVALID, "invalid credentials file '%s': %s", path,
                je.text);
        return NULL;
    }
    return doc;
}

int cli_creds_get(const char *domain, struct reg_creds *c, struct err *err)
{
    memset(c, 0, sizeof(*c));
    _cleanup_free_ char *path = cli_creds_path();
    _cleanup_json_ json_t *doc = load(path, err);
    if (!doc)
        return -1;
    _cleanup_free_ char *key = reg_auth_key(domain);
    json_t *e = json_object_get(json_object_get(doc, "auths"), key);
    const char *auth = jx_str(e, "auth");
    if (!auth || !*auth)
        return 1;
    size_t n = 0;
    _cleanup_free_ char *up = reg_b64_decode(auth, &n);
    char *colon = up ? memchr(up, ':', n) : NULL;
    if (!colon)
        return err_set(err, ERR_INVALID, "invalid credentials for %s in '%s'",
                       key, path);
    c->username = xstrndup(up, (size_t)(colon - up));
    c->password = xstrdup(colon + 1);
    c->server = xstrdup(key);
    return 0;
}

int cli_creds_put(const char *domain, const char *user, const char *pass,
                  struct err *err)
{
    _cleanup_free_ char *path = cli_creds_path();
    _cleanup_json_ json_t *doc = load(path, err);
    if (!doc)
        return -1;
    _cleanup_free_ char *key = reg_auth_key(domain);
    json_t *auths = jx_obj(doc, "auths");
    int found = json_object_get(auths, key) != NULL;
    if (user) {
        _cleanup_free_ char *up = xasprintf("%s:%s", user, pass ? pass : "");
        _cleanup_free_ char *b = b64_encode(up, strlen(up));
        json_object_set_new(auths, key, json_pack("{s:s}", "auth", b));
    } else {
        json_object_del(auths, key);
    }
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (fs_mkdir_p(dir, 0700, err) < 0)
        return -1;
    _cleanup_free_ char *text = jx_dumps_pretty(doc);
    if (fs_write_file_atomic(path, text, strlen(text), 0600, err) < 0)
        return err_ctx(err, "store credentials");
    chmod(path, 0600);
    return user || found ? 0 : 1;
}

char *cli_creds_header(const char *image, struct err *err)
{
    struct reg_ref r;
    struct err perr = {0};
    struct reg_creds c = {0};
    int rc = 1;
    if (reg_ref_parse(image, NULL, NULL, &r, &perr) == 0) {
        rc = cli_creds_get(r.domain, &c, err);
        reg_ref_fini(&r);
        if (rc < 0)
            return NULL;
    }
    if (rc != 0)
        return xstrdup("X-Registry-Auth: e30=");
    _cleanup_free_ char *v = reg_creds_encode(&c);
    reg_creds_fini(&c);
    return xasprintf("X-Registry-Auth: %s", v);
}
