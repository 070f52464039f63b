// SPDX-License-Identifier: Apache-2.0
// Unit tests of the registry client above the libcurl adapter: this file
// defines the adapter's functions (reg_fetch, ...) itself, so the fake
// registry below answers instead of the network (fetch_curl.o is never
// linked in). Pull through an index into a real image store in /tmp,
// layers already there, a corrupted blob (nothing stored), a manifest
// whose digest lies, Basic auth (wrong and right credentials) and Bearer
// tokens that expire.
#include "harness.h"

#include <stdarg.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "registry/fetch.h"
#include "registry/manifest.h"
#include "registry/ops.h"
#include "runtime/archive.h"
#include "runtime/image.h"
#include "runtime/image_digest.h"

/* ---- the fake registry ---- */

enum auth_mode { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

static struct {
    enum auth_mode auth;
    bool corrupt_layer;
    bool lying_digest;
    int tokens_issued;
    int token_uses_left; /* the current token expires after these */
    char token[32];
    /* content */
    char *index, *manifest, *config, *layer;
    size_t index_len, manifest_len, config_len, layer_len;
    char index_d[IMAGE_DIGEST_LEN], manifest_d[IMAGE_DIGEST_LEN],
        config_d[IMAGE_DIGEST_LEN], layer_d[IMAGE_DIGEST_LEN];
    char last_token_url[512];
} reg;

static void digest_of(const void *d, size_t n, char out[IMAGE_DIGEST_LEN])
{
    char hex[65];
    image_sha256_hex(d, n, hex);
    snprintf(out, IMAGE_DIGEST_LEN, "sha256:%s", hex);
}

static bool has_header(const struct reg_fetch_req *req, const char *want)
{
    for (size_t i = 0; req->headers && req->headers[i]; i++)
        if (strcmp(req->headers[i], want) == 0)
            return true;
    return false;
}

static void answer(struct reg_fetch_resp *resp, long status, const char *ct,
                   const void *body, size_t len)
{
    resp->status = status;
    resp->content_type = xstrdup(ct);
    if (body)
        buf_append(&resp->body, body, len);
}

static bool authorized(const struct reg_fetch_req *req,
                       struct reg_fetch_resp *resp)
{
    if (reg.auth == AUTH_NONE)
        return true;
    if (reg.auth == AUTH_BASIC) {
        if (has_header(req, "Authorization: Basic dTpwdw==")) /* u:pw */
            return true;
        resp->www_authenticate = xstrdup("Basic realm=\"fake\"");
    } else {
        char want[64];
        snprintf(want, sizeof(want), "Authorization: Bearer %s", reg.token);
        if (reg.token[0] && has_header(req, want) && reg.token_uses_left-- > 0)
            return true;
        resp->www_authenticate =
            xstrdup("Bearer realm=\"http://auth.test/token\",service=\"fake\"");
    }
    const char *e = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":"
                    "\"authentication required\"}]}";
    answer(resp, 401, "application/json", e, strlen(e));
    return false;
}

int reg_fetch(const struct reg_fetch_req *req, struct reg_fetch_resp *resp,
              struct err *err)
{
    (void)err;
    memset(resp, 0, sizeof(*resp));
    buf_init(&resp->body);
    resp->content_length = -1;
    const char *url = req->url;
    if (strncmp(url, "http://auth.test/token", 22) == 0) {
        snprintf(reg.last_token_url, sizeof(reg.last_token_url), "%s", url);
        if (!has_header(req, "Authorization: Basic dTpwdw==")) {
            answer(resp, 401, "application/json", "{}", 2);
            return 0;
        }
        snprintf(reg.token, sizeof(reg.token), "T%d", ++reg.tokens_issued);
        reg.token_uses_left = 2;
        char body[64];
        snprintf(body, sizeof(body), "{\"token\":\"%s\"}", reg.token);
        answer(resp, 200, "application/json", body, strlen(body));
        return 0;
    }
    if (!authorized(req, resp))
        return 0;
    const char *p = strstr(url, "/v2/a/b/");
    const char *body = NULL, *ct = "application/octet-stream";
    size_t len = 0;
    const char *dg = NULL;
    char *corrupt = NULL;
    if (p && strcmp(p + 8, "manifests/1") == 0) {
        body = reg.index, len = reg.index_len, ct = REG_MT_OCI_INDEX;
        dg = reg.lying_digest ? reg.config_d : reg.index_d;
    } else if (p && strcmp(p + 8 + 10, reg.manifest_d) == 0) {
        body = reg.manifest, len = reg.manifest_len, ct = REG_MT_OCI_MANIFEST;
        dg = reg.manifest_d;
    } else if (p && strcmp(p + 8 + 6, reg.config_d) == 0) {
        body = reg.config, len = reg.config_len;
    } else if (p && strcmp(p + 8 + 6, reg.layer_d) == 0) {
        body = reg.layer, len = reg.layer_len;
        if (reg.corrupt_layer) {
            corrupt = xmalloc(len);
            memcpy(corrupt, body, len);
            corrupt[len / 2] ^= 0x55;
            body = corrupt;
        }
    }
    if (!body) {
        const char *e = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\","
                        "\"message\":\"manifest unknown\"}]}";
        answer(resp, 404, "application/json", e, strlen(e));
        return 0;
    }
    resp->status = 200;
    resp->content_type = xstrdup(ct);
    resp->content_digest = xstrdup(dg);
    if (strcmp(req->method, "HEAD") != 0) {
        if (req->on_data) {
            /* In two pieces, as a network would. */
            int rc = req->on_data(req->ud, body, len / 2);
            if (rc == 0)
                rc = req->on_data(req->ud, body + len / 2, len - len / 2);
            if (rc < 0) {
                free(corrupt);
                return err_set(err, ERR_INTERNAL, "Get \"%s\": aborted", url);
            }
        } else {
            buf_append(&resp->body, body, len);
        }
    }
    free(corrupt);
    return 0;
}

void reg_fetch_resp_fini(struct reg_fetch_resp *r)
{
    buf_fini(&r->body);
    free(r->content_type);
    free(r->location);
    free(r->www_authenticate);
    free(r->content_digest);
    free(r->effective_url);
    memset(r, 0, sizeof(*r));
}

char *reg_fetch_resolve(const char *base, const char *location)
{
    (void)base;
    return xstrdup(location);
}

/* ---- fixtures ---- */

static char tmp_root[64];

static void make_image(void)
{
    struct err err = {0};
    struct arc_writer *w = arc_writer_new(ARC_GZIP, &err);
    arc_writer_add_file(w, "hello.txt", "hello\n", 6, 0644, &err);
    reg.layer = arc_writer_finish(w, &reg.layer_len, &err);
    digest_of(reg.layer, reg.layer_len, reg.layer_d);
    /* the diff id: the uncompressed tar */
    w = arc_writer_new(ARC_PLAIN, &err);
    arc_writer_add_file(w, "hello.txt", "hello\n", 6, 0644, &err);
    size_t tlen;
    char *tar = arc_writer_finish(w, &tlen, &err);
    char diff[IMAGE_DIGEST_LEN];
    digest_of(tar, tlen, diff);
    free(tar);
    reg.config = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\","
                           "\"config\":{},\"rootfs\":{\"type\":\"layers\","
                           "\"diff_ids\":[\"%s\"]}}",
                           diff);
    reg.config_len = strlen(reg.config);
    digest_of(reg.config, reg.config_len, reg.config_d);
    reg.manifest = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
        "\"%s\",\"size\":%zu,\"digest\":\"%s\"},\"layers\":[{\"mediaType\":"
        "\"%s\",\"size\":%zu,\"digest\":\"%s\"}]}",
        REG_MT_OCI_MANIFEST, REG_MT_OCI_CONFIG, reg.config_len, reg.config_d,
        REG_MT_OCI_LAYER_GZIP, reg.layer_len, reg.layer_d);
    reg.manifest_len = strlen(reg.manifest);
    digest_of(reg.manifest, reg.manifest_len, reg.manifest_d);
    const char *os, *arch, *variant;
    reg_host_platform(&os, &arch, &variant);
    reg.index = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
        "{\"mediaType\":\"%s\",\"size\":5,\"digest\":\"sha256:%064d\","
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}},"
        "{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\","
        "\"platform\":{\"os\":\"%s\",\"architecture\":\"%s\"}}]}",
        REG_MT_OCI_INDEX, REG_MT_OCI_MANIFEST, 0, REG_MT_OCI_MANIFEST,
        reg.manifest_len, reg.manifest_d, os, arch);
    reg.index_len = strlen(reg.index);
    digest_of(reg.index, reg.index_len, reg.index_d);
}

struct msgs {
    json_t *all;
};

static void collect(void *ud, json_t *msg)
{
    json_array_append_new(((struct msgs *)ud)->all, msg);
}

static bool saw(const struct msgs *m, const char *status)
{
    size_t i;
    json_t *v;
    json_array_foreach(m->all, i, v) if (strcmp(jx_str0(v, "status"), status) ==
                                         0) return true;
    return false;
}

static int pull(struct image_store *s, const struct reg_creds *creds,
                struct msgs *m, json_t **result, struct err *err)
{
    struct reg_ref r;
    if (reg_ref_parse("localhost:5000/a/b:1", NULL, NULL, &r, err) < 0)
        return -1;
    m->all = json_array();
    struct reg_sink sink = {.emit = collect, .ud = m};
    int rc = reg_pull(s, &r, creds, &sink, result, err);
    reg_ref_fini(&r);
    return rc;
}

static size_t n_images(struct image_store *s)
{
    _cleanup_json_ json_t *l = image_list(s, NULL);
    return json_array_size(l);
}

/* ---- tests ---- */

static void test_pull_index(void)
{
    _cleanup_free_ char *root = xasprintf("%s/store1", tmp_root);
    struct err err = {0};
    struct image_store *s = image_store_new(root, &err);
    CHECK(s != NULL);
    struct msgs m;
    json_t *res = NULL;
    CHECK_INT(pull(s, NULL, &m, &res, &err), 0);
    if (!res)
        fprintf(stderr, "  pull: %s\n", err.msg);
    CHECK_STR(jx_str(res, "ID"), reg.config_d);
    CHECK_STR(jx_str(res, "Digest"), reg.index_d); /* what the tag names */
    CHECK(saw(&m, "Pulling fs layer"));
    CHECK(saw(&m, "Download complete"));
    CHECK(saw(&m, "Pull complete"));
    char want[128];
    snprintf(want, sizeof(want), "Digest: %s", reg.index_d);
    CHECK(saw(&m, want));
    CHECK(saw(&m, "Status: Downloaded newer image for localhost:5000/a/b:1"));
    json_decref(res);
    json_decref(m.all);
    _cleanup_free_ char *rd = xasprintf("localhost:5000/a/b@%s", reg.index_d);
    _cleanup_json_ json_t *ins = image_inspect(s, rd, &err);
    CHECK(ins != NULL);

    /* Again: every layer is there already, the image is up to date. */
    CHECK_INT(pull(s, NULL, &m, &res, &err), 0);
    CHECK(saw(&m, "Already exists"));
    CHECK(!saw(&m, "Pulling fs layer"));
    CHECK(jx_bool(res, "UpToDate", false));
    json_decref(res);
    json_decref(m.all);
    image_store_free(s);
}

static void test_corrupt_and_lies(void)
{
    _cleanup_free_ char *root = xasprintf("%s/store2", tmp_root);
    struct err err = {0};
    struct image_store *s = image_store_new(root, &err);
    struct msgs m;
    json_t *res = NULL;
    reg.corrupt_layer = true;
    CHECK_INT(pull(s, NULL, &m, &res, &err), -1);
    CHECK(strstr(err.msg, "filesystem layer verification failed") != NULL);
    CHECK(strstr(err.msg, reg.layer_d) != NULL);
    CHECK_INT(n_images(s), 0);
    CHECK(!saw(&m, "Pull complete"));
    json_decref(m.all);
    _cleanup_free_ char *tmp = xasprintf("%s/tmp", root);
    _cleanup_free_ char *layers = xasprintf("%s/layers", root);
    CHECK(rmdir(tmp) == 0 && mkdir(tmp, 0700) == 0);       /* empty */
    CHECK(rmdir(layers) == 0 && mkdir(layers, 0700) == 0); /* empty */
    reg.corrupt_layer = false;

    reg.lying_digest = true;
    err_clear(&err);
    CHECK_INT(pull(s, NULL, &m, &res, &err), -1);
    CHECK(strstr(err.msg, "manifest verification failed") != NULL);
    CHECK_INT(n_images(s), 0);
    json_decref(m.all);
    reg.lying_digest = false;
    image_store_free(s);
}

static void test_basic_auth(void)
{
    _cleanup_free_ char *root = xasprintf("%s/store3", tmp_root);
    struct err err = {0};
    struct image_store *s = image_store_new(root, &err);
    struct msgs m;
    json_t *res = NULL;
    reg.auth = AUTH_BASIC;
    CHECK_INT(pull(s, NULL, &m, &res, &err), -1);
    CHECK(strstr(err.msg, "no basic auth credentials") != NULL);
    json_decref(m.all);
    struct reg_creds bad = {.username = "u", .password = "nope"};
    CHECK_INT(pull(s, &bad, &m, &res, &err), -1);
    CHECK(strstr(err.msg, "unauthorized: authentication required") != NULL);
    json_decref(m.all);
    struct reg_creds good = {.username = "u", .password = "pw"};
    CHECK_INT(pull(s, &good, &m, &res, &err), 0);
    json_decref(res);
    json_decref(m.all);
    reg.auth = AUTH_NONE;
    image_store_free(s);
}

static void test_bearer_expiry(void)
{
    _cleanup_free_ char *root = xasprintf("%s/store4", tmp_root);
    struct err err = {0};
    struct image_store *s = image_store_new(root, &err);
    struct msgs m;
    json_t *res = NULL;
    reg.auth = AUTH_BEARER;
    reg.tokens_issued = 0;
    reg.token[0] = '\0';
    struct reg_creds bad = {.username = "u", .password = "nope"};
    CHECK_INT(pull(s, &bad, &m, &res, &err), -1);
    CHECK(strstr(err.msg, "incorrect username or password") != NULL);
    json_decref(m.all);
    /* Each token serves two requests, a pull makes four: one expiry. */
    struct reg_creds good = {.username = "u", .password = "pw"};
    CHECK_INT(pull(s, &good, &m, &res, &err), 0);
    if (!res)
        fprintf(stderr, "  bearer: %s\n", err.msg);
    CHECK(reg.tokens_issued >= 2);
    CHECK(strstr(reg.last_token_url, "service=fake") != NULL);
    CHECK(strstr(reg.last_token_url, "scope=repository%3Aa%2Fb%3Apull") !=
          NULL);
    json_decref(res);
    json_decref(m.all);
    reg.auth = AUTH_NONE;
    image_store_free(s);
}

static void test_not_found(void)
{
    struct reg_ref r;
    struct err err = {0};
    CHECK_INT(reg_ref_parse("localhost:5000/a/b:2", NULL, NULL, &r, &err), 0);
    json_t *res = NULL;
    CHECK_INT(reg_inspect(&r, NULL, NULL, &res, &err), -1);
    CHECK_INT(err.code, 404);
    CHECK(strstr(err.msg, "manifest for localhost:5000/a/b:2 not found: "
                          "manifest unknown: manifest unknown") != NULL);
    reg_ref_fini(&r);
    CHECK_INT(reg_ref_parse("localhost:5000/a/b:1", NULL, NULL, &r, &err), 0);
    CHECK_INT(reg_inspect(&r, NULL, NULL, &res, &err), 0);
    CHECK_STR(jx_path_str(res, "Descriptor.digest"), reg.index_d);
    CHECK_INT(json_array_size(json_object_get(res, "Platforms")), 2);
    json_decref(res);
    reg_ref_fini(&r);
}

int main(void)
{
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/shoal-test-regcl-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    log_set_level(LOG_ERROR);
    make_image();
    RUN(test_pull_index);
    RUN(test_corrupt_and_lies);
    RUN(test_basic_auth);
    RUN(test_bearer_expiry);
    RUN(test_not_found);
    struct err err = {0};
    fs_remove_tree(tmp_root, &err);
    free(reg.index);
    free(reg.manifest);
    free(reg.config);
    free(reg.layer);
    HARNESS_END();
}
