// SPDX-License-Identifier: Apache-2.0
// Manifests and indexes (see manifest.h). Registry answers are untrusted:
// every field used later is checked here, once.
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "registry/manifest.h"
#include "runtime/image_ref.h"

#define MT_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_SCHEMA1_SIGNED                                                      \
    "application/vnd.docker.distribution.manifest.v1+prettyjws"

static void desc_fini(struct reg_desc *d)
{
    free(d->media_type);
    free(d->digest);
    free(d->os);
    free(d->arch);
    free(d->variant);
    memset(d, 0, sizeof(*d));
}

void reg_manifest_fini(struct reg_manifest *m)
{
    desc_fini(&m->config);
    for (size_t i = 0; i < m->n_layers; i++)
        desc_fini(&m->layers[i]);
    for (size_t i = 0; i < m->n_entries; i++)
        desc_fini(&m->entries[i]);
    free(m->layers);
    free(m->entries);
    free(m->media_type);
    memset(m, 0, sizeof(*m));
}

bool reg_layer_type_ok(const char *mt)
{
    static const char *const ok[] = {
        REG_MT_DOCKER_LAYER_GZIP,
        REG_MT_DOCKER_LAYER_TAR,
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        REG_MT_OCI_LAYER_TAR,
        REG_MT_OCI_LAYER_GZIP,
        REG_MT_OCI_LAYER_ZSTD,
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    };
    for (size_t i = 0; mt && i < ARRAY_SIZE(ok); i++)
        if (strcmp(mt, ok[i]) == 0)
            return true;
    return false;
}

static int bad(struct err *err, const char *what)
{
    return err_set(err, ERR_INVALID, "invalid manifest from the registry: %s",
                   what);
}

static int parse_desc(const json_t *j, struct reg_desc *d, bool entry,
                      struct err *err)
{
    const char *mt = jx_str(j, "mediaType");
    const char *dg = jx_str(j, "digest");
    json_t *size = json_object_get(j, "size");
    if (!json_is_object(j) || !mt || !dg)
        return bad(err, "a descriptor lacks mediaType or digest");
    if (!image_is_digest(dg))
        return err_set(err, ERR_INVALID,
                       "invalid manifest from the registry: unsupported "
                       "digest \"%.80s\"",
                       dg);
    if (!json_is_integer(size) || json_integer_value(size) < 0)
        return bad(err, "a descriptor has no valid size");
    d->media_type = xstrdup(mt);
    d->digest = xstrdup(dg);
    d->size = json_integer_value(size);
    if (entry) {
        json_t *p = json_object_get(j, "platform");
        d->os = xstrdup(jx_str(p, "os"));
        d->arch = xstrdup(jx_str(p, "architecture"));
        d->variant = xstrdup(jx_str(p, "variant"));
        const char *kind = jx_str(json_object_get(j, "annotations"),
                                  "vnd.docker.reference.type");
        d->attestation = (kind && strcmp(kind, "attestation-manifest") == 0) ||
                         (d->os && strcmp(d->os, "unknown") == 0);
    }
    return 0;
}

/* The document's kind from the header, its mediaType, or its shape. */
static const char *doc_type(const char *content_type, const json_t *doc)
{
    static const char *const known[] = {
        REG_MT_DOCKER_MANIFEST, REG_MT_DOCKER_LIST, REG_MT_OCI_MANIFEST,
        REG_MT_OCI_INDEX,       MT_SCHEMA1,         MT_SCHEMA1_SIGNED};
    for (int pass = 0; pass < 2; pass++) {
        const char *t = pass == 0 ? content_type : jx_str(doc, "mediaType");
        if (!t)
            continue;
        size_t n = strcspn(t, ";");
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            if (strlen(known[i]) == n && strncmp(t, known[i], n) == 0)
                return known[i];
    }
    if (jx_int(doc, "schemaVersion", 0) == 1)
        return MT_SCHEMA1;
    if (json_is_array(json_object_get(doc, "manifests")))
        return REG_MT_OCI_INDEX;
    if (json_is_object(json_object_get(doc, "config")))
        return REG_MT_OCI_MANIFEST;
    return NULL;
}

int reg_manifest_parse(const char *content_type, const void *body, size_t len,
                       struct reg_manifest *m, struct err *err)
{
    memset(m, 0, sizeof(*m));
    json_error_t je;
    _cleanup_json_ json_t *doc = json_loadb(body, len, 0, &je);
    if (!json_is_object(doc))
        return err_set(err, ERR_INVALID,
                       "invalid manifest from the registry: %s",
                       doc ? "not a JSON object" : je.text);
    const char *t = doc_type(content_type, doc);
    if (!t)
        return bad(err, "unknown media type");
    if (strcmp(t, MT_SCHEMA1) == 0 || strcmp(t, MT_SCHEMA1_SIGNED) == 0)
        return err_set(err, ERR_INVALID,
                       "unsupported manifest format: Docker image manifest "
                       "schema 1 (push the image again with a current "
                       "client)");
    if (jx_int(doc, "schemaVersion", 0) != 2)
        return bad(err, "schemaVersion must be 2");
    m->media_type = xstrdup(t);
    m->oci = strncmp(t, "application/vnd.oci.", 20) == 0;
    bool index =
        strcmp(t, REG_MT_DOCKER_LIST) == 0 || strcmp(t, REG_MT_OCI_INDEX) == 0;
    int rc = 0;
    if (index) {
        m->kind = REG_KIND_INDEX;
        json_t *arr = json_object_get(doc, "manifests");
        if (!json_is_array(arr)) {
            rc = bad(err, "an index without manifests");
            goto out;
        }
        if (json_array_size(arr) > REG_MAX_MANIFESTS) {
            rc = bad(err, "too many manifests in the index");
            goto out;
        }
        m->entries = xcalloc(json_array_size(arr) + 1, sizeof(*m->entries));
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e)
        {
            if ((rc = parse_desc(e, &m->entries[i], true, err)) < 0)
                goto out;
            m->n_entries++;
        }
        goto out;
    }
    m->kind = REG_KIND_MANIFEST;
    if ((rc = parse_desc(json_object_get(doc, "config"), &m->config, false,
                         err)) < 0)
        goto out;
    json_t *arr = json_object_get(doc, "layers");
    if (!json_is_array(arr)) {
        rc = bad(err, "a manifest without layers");
        goto out;
    }
    if (json_array_size(arr) > REG_MAX_LAYERS) {
        rc = bad(err, "too many layers");
        goto out;
    }
    m->layers = xcalloc(json_array_size(arr) + 1, sizeof(*m->layers));
    size_t i;
    json_t *l;
    json_array_foreach(arr, i, l)
    {
        if ((rc = parse_desc(l, &m->layers[i], false, err)) < 0)
            goto out;
        m->n_layers++;
        if (!reg_layer_type_ok(m->layers[i].media_type)) {
            rc = err_set(err, ERR_INVALID,
                         "unsupported layer media type \"%.200s\"",
                         m->layers[i].media_type);
            goto out;
        }
    }
out:
    if (rc < 0)
        reg_manifest_fini(m);
    return rc;
}

void reg_host_platform(const char **os, const char **arch, const char **variant)
{
    *os = "linux";
#if defined(__x86_64__)
    *arch = "amd64";
    *variant = "";
#elif defined(__aarch64__)
    *arch = "arm64";
    *variant = "v8";
#elif defined(__arm__)
    *arch = "arm";
    *variant = "v7";
#elif defined(__i386__)
    *arch = "386";
    *variant = "";
#else
    *arch = "unknown";
    *variant = "";
#endif
}

const struct reg_desc *reg_index_select(const struct reg_manifest *index,
                                        const char *os, const char *arch,
                                        const char *variant, struct err *err)
{
    const struct reg_desc *best = NULL;
    int best_score = 0;
    for (size_t i = 0; i < index->n_entries; i++) {
        const struct reg_desc *e = &index->entries[i];
        if (e->attestation || !e->os || !e->arch || strcmp(e->os, os) != 0 ||
            strcmp(e->arch, arch) != 0)
            continue;
        int score;
        if (!variant || !*variant)
            score = !e->variant || !*e->variant ? 3 : 1;
        else if (e->variant && strcmp(e->variant, variant) == 0)
            score = 3;
        else if (!e->variant || !*e->variant)
            score = 2;
        else
            continue; /* another variant: arm v6 cannot run v7 */
        if (score > best_score) {
            best = e;
            best_score = score;
        }
    }
    if (!best)
        err_set(err, ERR_NOTFOUND,
                "no matching manifest for %s/%s%s%s in the manifest list "
                "entries",
                os, arch, variant && *variant ? "/" : "",
                variant ? variant : "");
    return best;
}

/* The media type of a layer in the family of the manifest. */
static const char *layer_type_for(const char *mt, bool oci)
{
    bool zstd = strstr(mt, "zstd") != NULL;
    bool gzip = strstr(mt, "gzip") != NULL;
    if (oci)
        return zstd   ? REG_MT_OCI_LAYER_ZSTD
               : gzip ? REG_MT_OCI_LAYER_GZIP
                      : REG_MT_OCI_LAYER_TAR;
    return gzip ? REG_MT_DOCKER_LAYER_GZIP : REG_MT_DOCKER_LAYER_TAR;
}

char *reg_manifest_build(const char *config_digest, int64_t config_size,
                         const struct reg_layer_out *layers, size_t n,
                         const char **media_type, size_t *len)
{
    bool oci = false;
    for (size_t i = 0; i < n; i++)
        if (strstr(layers[i].media_type, "zstd") ||
            strncmp(layers[i].media_type, "application/vnd.oci.", 20) == 0)
            oci = true;
    *media_type = oci ? REG_MT_OCI_MANIFEST : REG_MT_DOCKER_MANIFEST;
    json_t *doc = json_object();
    json_object_set_new(doc, "schemaVersion", json_integer(2));
    json_object_set_new(doc, "mediaType", json_string(*media_type));
    json_object_set_new(
        doc, "config",
        json_pack("{s:s, s:I, s:s}", "mediaType",
                  oci ? REG_MT_OCI_CONFIG : REG_MT_DOCKER_CONFIG, "size",
                  (json_int_t)config_size, "digest", config_digest));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr,
            json_pack("{s:s, s:I, s:s}", "mediaType",
                      layer_type_for(layers[i].media_type, oci), "size",
                      (json_int_t)layers[i].size, "digest", layers[i].digest));
    json_object_set_new(doc, "layers", arr);
    char *s = json_dumps(doc, JSON_INDENT(3) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!s)
        abort();
    *len = strlen(s);
    return s;
}

json_t *reg_index_platforms(const struct reg_manifest *index)
{
    json_t *out = json_array();
    for (size_t i = 0; i < index->n_entries; i++) {
        const struct reg_desc *e = &index->entries[i];
        if (e->attestation || !e->os || !e->arch)
            continue;
        json_t *p =
            json_pack("{s:s, s:s}", "architecture", e->arch, "os", e->os);
        if (e->variant && *e->variant)
            json_object_set_new(p, "variant", json_string(e->variant));
        json_array_append_new(out, p);
    }
    return out;
}
