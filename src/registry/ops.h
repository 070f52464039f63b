// SPDX-License-Identifier: Apache-2.0
// The registry operations themselves, blocking (pull.c, push.c,
// inspect.c): they run in the registry's own threads (registry.c) and
// report Docker's progress messages through a thread-safe sink.
#pragma once

#include <jansson.h>
#include <stdatomic.h>

#include "base/err.h"
#include "registry/auth.h"
#include "registry/client.h"
#include "registry/ref.h"

struct image_store;

/* Where progress messages go; emit takes ownership of msg and may be
 * called from any thread. */
struct reg_sink {
    void (*emit)(void *ud, json_t *msg);
    void *ud;
    const atomic_bool *stop; /* set when the caller went away */
};

/* Pulls ref into the store: manifest (or the node's platform from an
 * index), config, missing layers in parallel, each blob's digest verified
 * while it downloads; the image is added only when everything checked
 * out. *result (owned): {"ID", "Digest", "Name", "UpToDate"}. */
int reg_pull(struct image_store *s, const struct reg_ref *ref,
             const struct reg_creds *creds, const struct reg_sink *sink,
             json_t **result, struct err *err);

/* Pushes the local image ref names (ref->tag, "latest" if none) to its
 * registry: blobs the registry has are skipped (HEAD), others mounted
 * from a repository of the same registry the image came from, or
 * uploaded in parallel; then the manifest. Records the RepoDigest.
 * *result: {"Tag", "Digest", "Size"}. */
int reg_push(struct image_store *s, const struct reg_ref *ref,
             const struct reg_creds *creds, const struct reg_sink *sink,
             json_t **result, struct err *err);

/* GET /distribution/{name}/json: {"Descriptor": {mediaType, digest,
 * size}, "Platforms": [...]} of what ref names on its registry. */
int reg_inspect(const struct reg_ref *ref, const struct reg_creds *creds,
                const atomic_bool *stop, json_t **result, struct err *err);

/* docker login: do these credentials work with the registry at domain? */
int reg_login(const char *domain, const struct reg_config *cfg,
              const struct reg_creds *creds, struct err *err);

/* Fetches ref's manifest, following an index to the node's platform.
 * *top_digest: the digest of what ref names (index or manifest; owned);
 * body, len, media_type: the image manifest (owned). Verifies digests. */
int reg_fetch_manifest(struct reg_client *c, const struct reg_ref *ref,
                       char **top_digest, char **body, size_t *len,
                       char **media_type, struct err *err);
