// SPDX-License-Identifier: Apache-2.0
// Asking a registry about an image without pulling it (GET
// /distribution/{name}/json, the digest a service pins) and checking
// credentials (docker login). See ops.h.
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "registry/manifest.h"
#include "registry/ops.h"
#include "runtime/image_digest.h"

#define MAX_MANIFEST (4 << 20)
#define MAX_CONFIG   (8 << 20)

static int get_doc(struct reg_client *c, const char *suffix, const char *accept,
                   const char *not_found, struct buf *body, char **ct,
                   char **digest, struct err *err)
{
    _cleanup_free_ char *url = reg_client_url(c, suffix);
    const char *hdrs[] = {accept, NULL};
    struct reg_fetch_req req = {.method = "GET",
                                .url = url,
                                .headers = accept ? hdrs : NULL,
                                .max_body = MAX_CONFIG,
                                .follow = true};
    struct reg_fetch_resp resp;
    int rc = reg_client_do(c, &req, &resp, err);
    if (rc == 0 && resp.status / 100 != 2)
        rc = reg_client_error(&req, &resp, not_found, err);
    if (rc == 0) {
        char hex[65];
        image_sha256_hex(resp.body.data, resp.body.len, hex);
        *digest = xasprintf("sha256:%s", hex);
        *ct = xstrdup(resp.content_type);
        *body = resp.body;
        buf_init(&resp.body);
    }
    reg_fetch_resp_fini(&resp);
    return rc;
}

int reg_inspect(const struct reg_ref *ref, const struct reg_creds *creds,
                const atomic_bool *stop, json_t **result, struct err *err)
{
    *result = NULL;
    struct reg_client c;
    reg_client_init(&c, ref, creds, "pull", NULL, stop);
    _cleanup_free_ char *name = reg_ref_string(ref);
    _cleanup_free_ char *what = xasprintf("manifest for %s not found", name);
    _cleanup_free_ char *suffix =
        xasprintf("/manifests/%s", reg_ref_reference(ref));
    struct buf body;
    buf_init(&body);
    char *ct = NULL, *digest = NULL;
    struct reg_manifest m = {0};
    int rc = get_doc(&c, suffix, "Accept: " REG_MANIFEST_ACCEPT, what, &body,
                     &ct, &digest, err);
    if (rc == 0 && ref->digest && strcmp(ref->digest, digest) != 0)
        rc = err_set(err, ERR_INTERNAL,
                     "manifest verification failed for digest %s", ref->digest);
    if (rc == 0)
        rc = reg_manifest_parse(ct, body.data, body.len, &m, err);
    if (rc < 0)
        goto out;
    json_t *platforms = NULL;
    if (m.kind == REG_KIND_INDEX) {
        platforms = reg_index_platforms(&m);
    } else {
        /* One image: its platform is in its config. */
        struct buf cfg;
        buf_init(&cfg);
        char *cct = NULL, *cdg = NULL;
        _cleanup_free_ char *cs = xasprintf("/blobs/%s", m.config.digest);
        if (get_doc(&c, cs, NULL, NULL, &cfg, &cct, &cdg, err) == 0 &&
            strcmp(cdg, m.config.digest) == 0) {
            json_error_t je;
            _cleanup_json_ json_t *j = json_loadb(cfg.data, cfg.len, 0, &je);
            json_t *p = json_pack(
                "{s:s, s:s}", "architecture",
                jx_str(j, "architecture") ? jx_str(j, "architecture") : "",
                "os", jx_str(j, "os") ? jx_str(j, "os") : "");
            if (jx_str(j, "variant"))
                json_object_set_new(p, "variant",
                                    json_string(jx_str(j, "variant")));
            platforms = json_pack("[o]", p);
        } else {
            platforms = json_array();
            err_clear(err);
        }
        free(cct);
        free(cdg);
        buf_fini(&cfg);
    }
    *result = json_pack("{s:{s:s, s:s, s:I}, s:o}", "Descriptor", "mediaType",
                        m.media_type, "digest", digest, "size",
                        (json_int_t)body.len, "Platforms", platforms);
out:
    reg_manifest_fini(&m);
    buf_fini(&body);
    free(ct);
    free(digest);
    reg_client_fini(&c);
    return rc;
}

int reg_login(const char *domain, const struct reg_config *cfg,
              const struct reg_creds *creds, struct err *err)
{
    struct reg_ref ref;
    _cleanup_free_ char *name = xasprintf("%s/x", domain);
    if (reg_ref_parse(name, NULL, cfg, &ref, err) < 0)
        return -1;
    struct reg_client c;
    reg_client_init(&c, &ref, creds, "pull", NULL, NULL);
    /* No repository scope: docker login asks for none. */
    free(c.scopes[0]);
    c.scopes[0] = NULL;
    int rc = reg_client_ping(&c, err);
    if (rc < 0) {
        _cleanup_free_ char *base = reg_ref_base_url(&ref);
        char why[sizeof(err->msg)];
        snprintf(why, sizeof(why), "%s", err->msg);
        err_set(err, ERR_INTERNAL, "login attempt to %s/v2/ failed: %s", base,
                why);
    }
    reg_client_fini(&c);
    reg_ref_fini(&ref);
    return rc;
}
