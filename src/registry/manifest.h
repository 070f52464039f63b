// SPDX-License-Identifier: Apache-2.0
// Registry manifests and indexes: Docker v2 schema 2 manifests and
// manifest lists, OCI manifests and indexes. Parsing and validating what a
// registry sends (untrusted), picking the node's platform from an index,
// and writing the manifest a push uploads. Pure: bytes in, structs out.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define REG_MT_DOCKER_MANIFEST                                                 \
    "application/vnd.docker.distribution.manifest.v2+json"
#define REG_MT_DOCKER_LIST                                                     \
    "application/vnd.docker.distribution.manifest.list.v2+json"
#define REG_MT_OCI_MANIFEST  "application/vnd.oci.image.manifest.v1+json"
#define REG_MT_OCI_INDEX     "application/vnd.oci.image.index.v1+json"
#define REG_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define REG_MT_OCI_CONFIG    "application/vnd.oci.image.config.v1+json"
#define REG_MT_DOCKER_LAYER_GZIP                                               \
    "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define REG_MT_DOCKER_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define REG_MT_OCI_LAYER_TAR    "application/vnd.oci.image.layer.v1.tar"
#define REG_MT_OCI_LAYER_GZIP   "application/vnd.oci.image.layer.v1.tar+gzip"
#define REG_MT_OCI_LAYER_ZSTD   "application/vnd.oci.image.layer.v1.tar+zstd"

/* The Accept header of a manifest request: every kind we read. */
#define REG_MANIFEST_ACCEPT                                                    \
    REG_MT_DOCKER_MANIFEST ", " REG_MT_DOCKER_LIST ", " REG_MT_OCI_MANIFEST    \
                           ", " REG_MT_OCI_INDEX

/* Manifests of more layers or index entries are refused. */
#define REG_MAX_LAYERS    1000
#define REG_MAX_MANIFESTS 1000

enum reg_kind {
    REG_KIND_MANIFEST, /* one image: config + layers */
    REG_KIND_INDEX,    /* several: one manifest per platform */
};

/* A content descriptor. Every string owned. */
struct reg_desc {
    char *media_type;
    char *digest; /* "sha256:<64 hex>", checked */
    int64_t size; /* >= 0 */
    /* Index entries only (may be NULL): */
    char *os, *arch, *variant;
    bool attestation; /* buildkit's attestation manifests: never an image */
};

struct reg_manifest {
    enum reg_kind kind;
    char *media_type;        /* of the document itself */
    bool oci;                /* OCI media types (else Docker's) */
    struct reg_desc config;  /* manifests */
    struct reg_desc *layers; /* manifests, bottom first */
    size_t n_layers;
    struct reg_desc *entries; /* indexes */
    size_t n_entries;
};

/* Parses a manifest or index. content_type is the registry's Content-Type
 * (may be NULL or generic; the document's own mediaType and shape decide
 * then). Refused with a clear 400-style message: schema 1 manifests,
 * unknown media types, bad digests, negative sizes, unsupported layer
 * types, too many entries. */
int reg_manifest_parse(const char *content_type, const void *body, size_t len,
                       struct reg_manifest *m, struct err *err);
void reg_manifest_fini(struct reg_manifest *m);

/* This node's platform, as an index names it ("linux", "amd64", variant
 * "" or "v8" for arm64...). */
void reg_host_platform(const char **os, const char **arch,
                       const char **variant);
/* Picks the entry of an index for os/arch/variant (variant may be "" or
 * NULL: any); an exact variant beats an entry without one. NULL + 404
 * "no matching manifest for linux/amd64 in the manifest list entries". */
const struct reg_desc *reg_index_select(const struct reg_manifest *index,
                                        const char *os, const char *arch,
                                        const char *variant, struct err *err);

/* Is this a layer media type we can unpack? (tar, gzip, zstd; Docker and
 * OCI names, foreign and non-distributable variants.) */
bool reg_layer_type_ok(const char *media_type);

/* One layer of a manifest to write. */
struct reg_layer_out {
    const char *media_type;
    const char *digest;
    int64_t size;
};

/* Writes the manifest a push uploads (owned, NUL-terminated, *len set):
 * Docker schema 2 unless a layer needs OCI (zstd or an OCI media type),
 * then OCI, with every media type translated to that family. *media_type
 * (borrowed, static) gets the manifest's type. */
char *reg_manifest_build(const char *config_digest, int64_t config_size,
                         const struct reg_layer_out *layers, size_t n,
                         const char **media_type, size_t *len);

/* GET /distribution/{name}/json's "Platforms" from an index (owned array
 * of {"architecture","os"[,"variant"]}), attestations left out. */
json_t *reg_index_platforms(const struct reg_manifest *index);
