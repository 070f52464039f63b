// SPDX-License-Identifier: Apache-2.0
// docker save: images out of the store as one archive, in the layout
// Docker 25+ writes (an OCI image layout plus the legacy manifest.json),
// so both `docker load` and our own image_load read it back. Layers are
// the blobs the store kept (compressed as they came); the manifest of each
// image is an OCI one written here.
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/vec.h"
#include "runtime/archive.h"
#include "runtime/image_internal.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG   "application/vnd.oci.image.config.v1+json"

static const char *oci_layer_type(const char *mt)
{
    if (strstr(mt, "zstd"))
        return "application/vnd.oci.image.layer.v1.tar+zstd";
    if (strstr(mt, "gzip"))
        return "application/vnd.oci.image.layer.v1.tar+gzip";
    return "application/vnd.oci.image.layer.v1.tar";
}

/* The repo:tag a name gives the image in the archive, or NULL (by id). */
static char *tag_of(struct image_store *s, const char *name, const char *id)
{
    const char *hex = strncmp(name, "sha256:", 7) == 0 ? name + 7 : name;
    if (image_is_hex(hex, 1, 64) && strncmp(id + 7, hex, strlen(hex)) == 0)
        return NULL;
    (void)s;
    struct err err = {0};
    struct image_refname r;
    if (image_refname_parse(name, &r, &err) < 0 || r.digest) {
        image_refname_fini(&r);
        return NULL;
    }
    char *t = image_refname_string(&r);
    image_refname_fini(&r);
    return t;
}

int image_save_file(struct image_store *s, const char *const *names, size_t n,
                    const char *out_path, struct err *err)
{
    if (n == 0)
        return err_set(err, ERR_INVALID, "no image names given");
    struct image_push_info **infos = xcalloc(n + 1, sizeof(*infos));
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (!(infos[i] = image_store_push_info(s, names[i], err)))
            rc = -1;
    struct arc_writer *w = rc == 0 ? arc_writer_new_file(out_path, err) : NULL;
    if (rc == 0 && !w)
        rc = -1;
    struct vec written; /* blob digests already in the archive */
    vec_init(&written);
    json_t *legacy = json_array();
    json_t *index =
        json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
                  "application/vnd.oci.image.index.v1+json", "manifests");
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct image_push_info *p = infos[i];
        _cleanup_free_ char *tag = tag_of(s, names[i], p->id);
        /* Config. */
        _cleanup_free_ char *cfg_name = xasprintf("blobs/sha256/%s", p->id + 7);
        bool seen = false;
        for (size_t k = 0; k < written.len && !seen; k++)
            seen = strcmp(written.items[k], p->id) == 0;
        if (!seen) {
            rc = arc_writer_add_file(w, cfg_name, p->config, p->config_len,
                                     0644, err);
            vec_push(&written, xstrdup(p->id));
        }
        json_t *layers = json_array(), *lnames = json_array();
        for (size_t l = 0; l < p->n_layers && rc == 0; l++) {
            struct image_push_layer *L = &p->layers[l];
            _cleanup_free_ char *ln =
                xasprintf("blobs/sha256/%s", L->digest + 7);
            seen = false;
            for (size_t k = 0; k < written.len && !seen; k++)
                seen = strcmp(written.items[k], L->digest) == 0;
            if (!seen) {
                rc = arc_writer_add_path(w, ln, L->path, err);
                vec_push(&written, xstrdup(L->digest));
            }
            json_array_append_new(
                layers, json_pack("{s:s, s:s, s:I}", "mediaType",
                                  oci_layer_type(L->media_type), "digest",
                                  L->digest, "size", (json_int_t)L->size));
            json_array_append_new(lnames, json_string(ln));
        }
        json_t *man =
            json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2,
                      "mediaType", MT_OCI_MANIFEST, "config", "mediaType",
                      MT_OCI_CONFIG, "digest", p->id, "size",
                      (json_int_t)p->config_len, "layers", layers);
        _cleanup_free_ char *mtext = jx_dumps(man);
        json_decref(man);
        char hex[65];
        image_sha256_hex(mtext, strlen(mtext), hex);
        _cleanup_free_ char *mdigest = xasprintf("sha256:%s", hex);
        _cleanup_free_ char *mname = xasprintf("blobs/sha256/%s", hex);
        seen = false;
        for (size_t k = 0; k < written.len && !seen; k++)
            seen = strcmp(written.items[k], mdigest) == 0;
        if (rc == 0 && !seen) {
            rc = arc_writer_add_file(w, mname, mtext, strlen(mtext), 0644, err);
            vec_push(&written, xstrdup(mdigest));
        }
        json_t *desc =
            json_pack("{s:s, s:s, s:I}", "mediaType", MT_OCI_MANIFEST, "digest",
                      mdigest, "size", (json_int_t)strlen(mtext));
        if (tag) {
            const char *colon = strrchr(tag, ':');
            _cleanup_free_ char *full =
                strchr(tag, '/') &&
                        (strchr(tag, '.') || strncmp(tag, "localhost", 9) == 0)
                    ? xstrdup(tag)
                : strchr(tag, '/') ? xasprintf("docker.io/%s", tag)
                                   : xasprintf("docker.io/library/%s", tag);
            json_object_set_new(desc, "annotations",
                                json_pack("{s:s, s:s}",
                                          "io.containerd.image.name", full,
                                          "org.opencontainers.image.ref.name",
                                          colon ? colon + 1 : "latest"));
        }
        json_array_append_new(json_object_get(index, "manifests"), desc);
        json_t *entry = json_pack("{s:s, s:[], s:o}", "Config", cfg_name,
                                  "RepoTags", "Layers", lnames);
        if (tag)
            json_array_append_new(json_object_get(entry, "RepoTags"),
                                  json_string(tag));
        json_array_append_new(legacy, entry);
    }
    if (rc == 0) {
        _cleanup_free_ char *idx = jx_dumps(index);
        _cleanup_free_ char *man = jx_dumps(legacy);
        const char *layout = "{\"imageLayoutVersion\":\"1.0.0\"}";
        rc = arc_writer_add_file(w, "index.json", idx, strlen(idx), 0644, err);
        if (rc == 0)
            rc = arc_writer_add_file(w, "manifest.json", man, strlen(man), 0644,
                                     err);
        if (rc == 0)
            rc = arc_writer_add_file(w, "oci-layout", layout, strlen(layout),
                                     0644, err);
    }
    if (w) {
        struct err cerr = {0};
        if (arc_writer_close(w, &cerr) < 0 && rc == 0) {
            *err = cerr;
            rc = -1;
        }
    }
    if (rc < 0)
        unlink(out_path);
    json_decref(index);
    json_decref(legacy);
    for (size_t k = 0; k < written.len; k++)
        free(written.items[k]);
    vec_fini(&written);
    for (size_t i = 0; i < n; i++)
        image_push_info_free(infos[i]);
    free(infos);
    return rc;
}
