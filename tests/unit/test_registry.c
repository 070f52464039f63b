// SPDX-License-Identifier: Apache-2.0
// Unit tests for the registry client's pure core (src/registry/ref.c,
// manifest.c, auth.c, plan.c): references and schemes, manifests and
// indexes with platform selection, WWW-Authenticate challenges, tokens,
// X-Registry-Auth, pull/push plans and progress messages. No network.
#include "harness.h"

#include "base/jsonx.h"
#include "base/mem.h"
#include "registry/auth.h"
#include "registry/manifest.h"
#include "registry/plan.h"
#include "registry/ref.h"

#define D1                                                                     \
    "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2                                                                     \
    "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3                                                                     \
    "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void test_ref_parse(void)
{
    struct reg_ref r;
    struct err err = {0};
    CHECK_INT(reg_ref_parse("busybox", NULL, NULL, &r, &err), 0);
    CHECK_STR(r.domain, "docker.io");
    CHECK_STR(r.host, "registry-1.docker.io");
    CHECK_STR(r.path, "library/busybox");
    CHECK_STR(r.repo, "busybox");
    CHECK(!r.insecure);
    CHECK_STR(reg_ref_reference(&r), "latest");
    char *s = reg_ref_string(&r);
    CHECK_STR(s, "busybox:latest");
    free(s);
    s = reg_ref_base_url(&r);
    CHECK_STR(s, "https://registry-1.docker.io");
    free(s);
    reg_ref_fini(&r);

    CHECK_INT(reg_ref_parse("localhost:5000/a/b", "v1", NULL, &r, &err), 0);
    CHECK_STR(r.host, "localhost:5000");
    CHECK_STR(r.path, "a/b");
    CHECK_STR(r.tag, "v1");
    CHECK(r.insecure);
    s = reg_ref_base_url(&r);
    CHECK_STR(s, "http://localhost:5000");
    free(s);
    reg_ref_fini(&r);

    /* The tag parameter may be a digest (docker pull name@digest). */
    CHECK_INT(reg_ref_parse("127.0.0.1:41000/x", D1, NULL, &r, &err), 0);
    CHECK_STR(r.digest, D1);
    CHECK(r.tag == NULL);
    CHECK_STR(reg_ref_reference(&r), D1);
    CHECK(r.insecure);
    s = reg_ref_string(&r);
    CHECK_STR(s, "127.0.0.1:41000/x@" D1);
    free(s);
    reg_ref_fini(&r);

    CHECK_INT(reg_ref_parse("quay.io/foo/bar:1@" D2, NULL, NULL, &r, &err), 0);
    s = reg_ref_string(&r);
    CHECK_STR(s, "quay.io/foo/bar:1@" D2);
    free(s);
    reg_ref_fini(&r);

    CHECK_INT(reg_ref_parse("Bad/Name", NULL, NULL, &r, &err), -1);
    CHECK_INT(err.code, 400);
    CHECK(strstr(err.msg, "invalid reference format") != NULL);
    CHECK_INT(reg_ref_parse("", NULL, NULL, &r, &err), -1);
}

static void test_insecure(void)
{
    const char *list[] = {"myreg:5000", "plainhost", "http://other:1/", NULL};
    struct reg_config cfg = {.insecure = list};
    CHECK(reg_host_is_insecure("localhost", NULL));
    CHECK(reg_host_is_insecure("127.0.0.1:5000", NULL));
    CHECK(reg_host_is_insecure("[::1]:5000", NULL));
    CHECK(!reg_host_is_insecure("myreg:5000", NULL));
    CHECK(reg_host_is_insecure("myreg:5000", &cfg));
    CHECK(!reg_host_is_insecure("myreg:5001", &cfg));
    CHECK(reg_host_is_insecure("plainhost:7000", &cfg));
    CHECK(reg_host_is_insecure("other:1", &cfg));
    CHECK(!reg_host_is_insecure("quay.io", &cfg));
    char *k = reg_auth_key("docker.io");
    CHECK_STR(k, "https://index.docker.io/v1/");
    free(k);
    k = reg_auth_key("localhost:5000");
    CHECK_STR(k, "localhost:5000");
    free(k);
    struct err err = {0};
    k = reg_server_domain("https://localhost:5000/v2/", &err);
    CHECK_STR(k, "localhost:5000");
    free(k);
    k = reg_server_domain("index.docker.io", &err);
    CHECK_STR(k, "docker.io");
    free(k);
    k = reg_server_domain(NULL, &err);
    CHECK_STR(k, "docker.io");
    free(k);
}

static const char *docker_manifest =
    "{\"schemaVersion\":2,\"mediaType\":\"" REG_MT_DOCKER_MANIFEST "\","
    "\"config\":{\"mediaType\":\"" REG_MT_DOCKER_CONFIG "\",\"size\":7,"
    "\"digest\":\"" D1
    "\"},\"layers\":[{\"mediaType\":\"" REG_MT_DOCKER_LAYER_GZIP
    "\",\"size\":100,\"digest\":\"" D2
    "\"},{\"mediaType\":\"" REG_MT_OCI_LAYER_ZSTD
    "\",\"size\":5,\"digest\":\"" D3 "\"}]}";

static void test_manifest(void)
{
    struct reg_manifest m;
    struct err err = {0};
    CHECK_INT(reg_manifest_parse(REG_MT_DOCKER_MANIFEST, docker_manifest,
                                 strlen(docker_manifest), &m, &err),
              0);
    CHECK_INT(m.kind, REG_KIND_MANIFEST);
    CHECK(!m.oci);
    CHECK_STR(m.config.digest, D1);
    CHECK_INT(m.config.size, 7);
    CHECK_INT(m.n_layers, 2);
    CHECK_STR(m.layers[0].digest, D2);
    CHECK_INT(m.layers[0].size, 100);
    CHECK_STR(m.layers[1].media_type, REG_MT_OCI_LAYER_ZSTD);
    reg_manifest_fini(&m);

    /* No content type: the document's own mediaType, or its shape. */
    CHECK_INT(reg_manifest_parse("text/plain", docker_manifest,
                                 strlen(docker_manifest), &m, &err),
              0);
    CHECK_STR(m.media_type, REG_MT_DOCKER_MANIFEST);
    reg_manifest_fini(&m);
    const char *oci = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\","
                      "\"size\":1,\"digest\":\"" D1 "\"},\"layers\":[]}";
    CHECK_INT(reg_manifest_parse(NULL, oci, strlen(oci), &m, &err), 0);
    CHECK(m.oci);
    CHECK_INT(m.n_layers, 0);
    reg_manifest_fini(&m);

    /* Refusals. */
    const char *s1 = "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}";
    CHECK_INT(reg_manifest_parse(NULL, s1, strlen(s1), &m, &err), -1);
    CHECK(strstr(err.msg, "schema 1") != NULL);
    const char *baddig =
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"size\":1,"
        "\"digest\":\"md5:abc\"},\"layers\":[]}";
    CHECK_INT(reg_manifest_parse(NULL, baddig, strlen(baddig), &m, &err), -1);
    CHECK(strstr(err.msg, "digest") != NULL);
    const char *negsize =
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"size\":-1,"
        "\"digest\":\"" D1 "\"},\"layers\":[]}";
    CHECK_INT(reg_manifest_parse(NULL, negsize, strlen(negsize), &m, &err), -1);
    const char *badlayer =
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"size\":1,"
        "\"digest\":\"" D1 "\"},\"layers\":[{\"mediaType\":\"application/"
        "x-helm\",\"size\":1,\"digest\":\"" D2 "\"}]}";
    CHECK_INT(reg_manifest_parse(NULL, badlayer, strlen(badlayer), &m, &err),
              -1);
    CHECK(strstr(err.msg, "unsupported layer media type") != NULL);
    CHECK_INT(reg_manifest_parse(NULL, "[1]", 3, &m, &err), -1);
    CHECK_INT(reg_manifest_parse(NULL, "{", 1, &m, &err), -1);
    CHECK_INT(err.code, 400);
}

static const char *index_doc =
    "{\"schemaVersion\":2,\"mediaType\":\"" REG_MT_OCI_INDEX "\","
    "\"manifests\":["
    "{\"mediaType\":\"" REG_MT_OCI_MANIFEST "\",\"size\":10,\"digest\":\"" D1
    "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
    "\"variant\":\"v7\"}},"
    "{\"mediaType\":\"" REG_MT_OCI_MANIFEST "\",\"size\":11,\"digest\":\"" D2
    "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
    "{\"mediaType\":\"" REG_MT_OCI_MANIFEST "\",\"size\":12,\"digest\":\"" D3
    "\",\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"},"
    "\"annotations\":{\"vnd.docker.reference.type\":"
    "\"attestation-manifest\"}}]}";

static void test_index(void)
{
    struct reg_manifest m;
    struct err err = {0};
    CHECK_INT(reg_manifest_parse(REG_MT_OCI_INDEX, index_doc, strlen(index_doc),
                                 &m, &err),
              0);
    CHECK_INT(m.kind, REG_KIND_INDEX);
    CHECK_INT(m.n_entries, 3);
    CHECK(m.entries[2].attestation);
    const struct reg_desc *d = reg_index_select(&m, "linux", "amd64", "", &err);
    CHECK(d && strcmp(d->digest, D2) == 0);
    d = reg_index_select(&m, "linux", "arm", "v7", &err);
    CHECK(d && strcmp(d->digest, D1) == 0);
    d = reg_index_select(&m, "linux", "arm", "v6", &err);
    CHECK(d == NULL);
    d = reg_index_select(&m, "linux", "arm64", "v8", &err);
    CHECK(d == NULL);
    CHECK_INT(err.code, 404);
    CHECK(strstr(err.msg, "no matching manifest for linux/arm64/v8") != NULL);
    d = reg_index_select(&m, "unknown", "unknown", "", &err);
    CHECK(d == NULL); /* attestations are never images */
    json_t *p = reg_index_platforms(&m);
    CHECK_INT(json_array_size(p), 2);
    CHECK_STR(jx_str(json_array_get(p, 0), "variant"), "v7");
    CHECK_STR(jx_str(json_array_get(p, 1), "architecture"), "amd64");
    json_decref(p);
    reg_manifest_fini(&m);

    const char *os, *arch, *variant;
    reg_host_platform(&os, &arch, &variant);
    CHECK_STR(os, "linux");
}

static void test_manifest_build(void)
{
    struct reg_layer_out l[2] = {
        {REG_MT_DOCKER_LAYER_GZIP, D2, 100},
        {REG_MT_DOCKER_LAYER_TAR, D3, 50},
    };
    const char *mt;
    size_t len;
    char *doc = reg_manifest_build(D1, 7, l, 2, &mt, &len);
    CHECK_STR(mt, REG_MT_DOCKER_MANIFEST);
    struct reg_manifest m;
    struct err err = {0};
    CHECK_INT(reg_manifest_parse(mt, doc, len, &m, &err), 0);
    CHECK_STR(m.config.media_type, REG_MT_DOCKER_CONFIG);
    CHECK_STR(m.layers[1].media_type, REG_MT_DOCKER_LAYER_TAR);
    reg_manifest_fini(&m);
    free(doc);

    /* A zstd layer makes it OCI, and every type follows. */
    l[1].media_type = REG_MT_OCI_LAYER_ZSTD;
    doc = reg_manifest_build(D1, 7, l, 2, &mt, &len);
    CHECK_STR(mt, REG_MT_OCI_MANIFEST);
    CHECK_INT(reg_manifest_parse(mt, doc, len, &m, &err), 0);
    CHECK_STR(m.config.media_type, REG_MT_OCI_CONFIG);
    CHECK_STR(m.layers[0].media_type, REG_MT_OCI_LAYER_GZIP);
    CHECK_STR(m.layers[1].media_type, REG_MT_OCI_LAYER_ZSTD);
    reg_manifest_fini(&m);
    free(doc);
}

static void test_challenge(void)
{
    struct reg_challenge c;
    CHECK_INT(
        reg_challenge_parse("Bearer realm=\"https://auth.docker.io/token\","
                            "service=\"registry.docker.io\","
                            "scope=\"repository:library/busybox:pull\"",
                            &c),
        0);
    CHECK_INT(c.scheme, REG_AUTH_BEARER);
    CHECK_STR(c.realm, "https://auth.docker.io/token");
    CHECK_STR(c.service, "registry.docker.io");
    CHECK_STR(c.scope, "repository:library/busybox:pull");
    char *url = reg_token_url(&c, NULL);
    CHECK_STR(url, "https://auth.docker.io/token?service=registry.docker.io"
                   "&scope=repository%3Alibrary%2Fbusybox%3Apull");
    free(url);
    const char *scopes[] = {"repository:a:pull,push", "repository:b:pull",
                            NULL};
    url = reg_token_url(&c, scopes);
    CHECK(strstr(url, "scope=repository%3Aa%3Apull%2Cpush&scope=repository"
                      "%3Ab%3Apull") != NULL);
    free(url);
    reg_challenge_fini(&c);

    CHECK_INT(reg_challenge_parse("Basic realm=\"Registry Realm\"", &c), 0);
    CHECK_INT(c.scheme, REG_AUTH_BASIC);
    CHECK_STR(c.realm, "Registry Realm");
    reg_challenge_fini(&c);

    /* Case, spacing, escapes, an unknown scheme first. */
    CHECK_INT(reg_challenge_parse("Negotiate abc, bearer  realm = "
                                  "\"http://127.0.0.1:1/t?x=1\" ,service=reg,"
                                  "scope=\"a\\\"b\"",
                                  &c),
              0);
    CHECK_INT(c.scheme, REG_AUTH_BEARER);
    CHECK_STR(c.realm, "http://127.0.0.1:1/t?x=1");
    CHECK_STR(c.service, "reg");
    CHECK_STR(c.scope, "a\"b");
    url = reg_token_url(&c, NULL);
    CHECK_STR(url, "http://127.0.0.1:1/t?x=1&service=reg&scope=a%22b");
    free(url);
    reg_challenge_fini(&c);

    CHECK_INT(reg_challenge_parse("", &c), -1);
    CHECK_INT(reg_challenge_parse(NULL, &c), -1);
    CHECK_INT(reg_challenge_parse("Negotiate", &c), -1);
    CHECK_INT(reg_challenge_parse("Negotiate   ", &c), -1); /* fuzz */
    CHECK_INT(reg_challenge_parse("Basic realm=x,  ", &c), 0);
    reg_challenge_fini(&c);
    CHECK_INT(reg_challenge_parse("Bearer realm=\"file:///etc/passwd\"", &c),
              0);
    CHECK(reg_token_url(&c, NULL) == NULL);
    reg_challenge_fini(&c);

    struct err err = {0};
    char *t = reg_token_parse("{\"token\":\"abc\"}", 15, &err);
    CHECK_STR(t, "abc");
    free(t);
    t = reg_token_parse("{\"access_token\":\"x\"}", 20, &err);
    CHECK_STR(t, "x");
    free(t);
    CHECK(reg_token_parse("{}", 2, &err) == NULL);
    CHECK(reg_token_parse("nope", 4, &err) == NULL);
}

static void test_creds(void)
{
    struct reg_creds c = {.username = xstrdup("bob"),
                          .password = xstrdup("s3cr?t/+"),
                          .server = xstrdup("localhost:5000")};
    char *h = reg_creds_encode(&c);
    CHECK(strchr(h, '+') == NULL && strchr(h, '/') == NULL);
    struct reg_creds d;
    struct err err = {0};
    CHECK_INT(reg_creds_decode(h, &d, &err), 0);
    CHECK_STR(d.username, "bob");
    CHECK_STR(d.password, "s3cr?t/+");
    CHECK_STR(d.server, "localhost:5000");
    CHECK(!reg_creds_empty(&d));
    reg_creds_fini(&d);
    /* Without padding, and in standard base64. */
    size_t n = strlen(h);
    while (n && h[n - 1] == '=')
        h[--n] = '\0';
    CHECK_INT(reg_creds_decode(h, &d, &err), 0);
    CHECK_STR(d.username, "bob");
    reg_creds_fini(&d);
    free(h);
    reg_creds_fini(&c);
    /* {"auth": base64("u:p")} as in config.json. */
    const char *js = "{\"auth\":\"dTpw\"}";
    h = reg_b64url_encode(js, strlen(js));
    CHECK_INT(reg_creds_decode(h, &d, &err), 0);
    CHECK_STR(d.username, "u");
    CHECK_STR(d.password, "p");
    reg_creds_fini(&d);
    free(h);
    /* Empty forms. */
    CHECK_INT(reg_creds_decode("e30=", &d, &err), 0);
    CHECK(reg_creds_empty(&d));
    reg_creds_fini(&d);
    CHECK_INT(reg_creds_decode(NULL, &d, &err), 0);
    CHECK(reg_creds_empty(&d));
    CHECK_INT(reg_creds_decode("!!!", &d, &err), -1);
    CHECK_INT(err.code, 400);
    CHECK_INT(reg_creds_decode("bm90IGpzb24", &d, &err), -1); /* not json */
    h = reg_basic_header("u", "p");
    CHECK_STR(h, "Basic dTpw");
    free(h);
}

static void test_pull_plan(void)
{
    struct reg_manifest m = {0};
    struct reg_desc layers[3] = {
        {.digest = D1}, {.digest = D2}, {.digest = D1}};
    m.layers = layers;
    m.n_layers = 3;
    const char *ids[3] = {D1, D2, D1};
    bool have[3] = {false, true, false};
    struct reg_pull_step st[3];
    struct err err = {0};
    CHECK_INT(reg_pull_plan(&m, ids, 3, have, st, &err), 0);
    CHECK_INT(st[0].action, REG_PULL_FETCH);
    CHECK_INT(st[1].action, REG_PULL_EXISTS);
    CHECK_INT(st[2].action, REG_PULL_DUP);
    CHECK_INT(st[2].same_as, 0);
    CHECK_INT(reg_pull_plan(&m, ids, 2, have, st, &err), -1);
    CHECK(strstr(err.msg, "3 layers, its config 2") != NULL);
}

static void test_push_plan(void)
{
    const char *dg[4] = {D1, D2, D3, D2};
    bool has[4] = {true, false, false, false};
    struct reg_push_step st[4];
    reg_push_plan(dg, 4, has, false, st);
    CHECK_INT(st[0].action, REG_PUSH_EXISTS);
    CHECK_INT(st[1].action, REG_PUSH_UPLOAD);
    CHECK_INT(st[3].action, REG_PUSH_DUP);
    CHECK_INT(st[3].same_as, 1);
    reg_push_plan(dg, 4, has, true, st);
    CHECK_INT(st[2].action, REG_PUSH_MOUNT);
    const char *names[] = {"busybox@" D1, "localhost:5000/a/b@" D1,
                           "localhost:5000/c@" D1, NULL};
    char *src = reg_mount_source(names, "localhost:5000", "a/b");
    CHECK_STR(src, "c");
    free(src);
    CHECK(reg_mount_source(names, "quay.io", "x") == NULL);
    CHECK(reg_mount_source(NULL, "quay.io", "x") == NULL);
}

static void test_messages(void)
{
    char id[13];
    reg_short_id(D2, id);
    CHECK_STR(id, "222222222222");
    json_t *m = reg_msg_status(id, "Pulling fs layer");
    char *s = jx_dumps(m);
    CHECK_STR(s, "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},"
                 "\"id\":\"222222222222\"}");
    free(s);
    json_decref(m);
    m = reg_msg_progress(id, "Downloading", 1500000, 3000000);
    CHECK_INT(jx_path_int(m, "progressDetail.current", 0), 1500000);
    CHECK_INT(jx_path_int(m, "progressDetail.total", 0), 3000000);
    CHECK(strstr(jx_str0(m, "progress"), "1.5MB/3MB") != NULL);
    CHECK(strstr(jx_str0(m, "progress"), "[=========================>") !=
          NULL);
    json_decref(m);
    m = reg_msg_error("boom");
    CHECK_STR(jx_str(m, "error"), "boom");
    CHECK_STR(jx_path_str(m, "errorDetail.message"), "boom");
    json_decref(m);
    char h[32];
    reg_human_size(999, h, sizeof(h));
    CHECK_STR(h, "999B");
    reg_human_size(1234567, h, sizeof(h));
    CHECK_STR(h, "1.235MB");
}

int main(void)
{
    RUN(test_ref_parse);
    RUN(test_insecure);
    RUN(test_manifest);
    RUN(test_index);
    RUN(test_manifest_build);
    RUN(test_challenge);
    RUN(test_creds);
    RUN(test_pull_plan);
    RUN(test_push_plan);
    RUN(test_messages);
    HARNESS_END();
}
