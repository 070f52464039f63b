// SPDX-License-Identifier: Apache-2.0
// Image references ("reg:5000/a/b:tag@sha256:..."): Docker's grammar and
// normalisation, shared by the image store and the registry client.
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* A parsed reference; every field owned, tag/digest NULL if absent. */
struct image_refname {
    char *domain; /* "docker.io", "localhost:5000" */
    char *path;   /* "library/busybox" */
    char *tag;
    char *digest; /* "sha256:<64 hex>" */
};

/* Parses Docker's reference grammar with Docker's normalisation (default
 * domain docker.io, "library/" for official images, index.docker.io ->
 * docker.io). No default tag is added. 400 "invalid reference format..." */
int image_refname_parse(const char *s, struct image_refname *r,
                        struct err *err);
void image_refname_fini(struct image_refname *r);
/* The familiar repository name: "busybox", "foo/bar",
 * "localhost:5000/a/b" (owned). */
char *image_refname_repo(const struct image_refname *r);
/* The familiar full string: repo[:tag][@digest], with ":latest" added when
 * neither tag nor digest is present (owned). */
char *image_refname_string(const struct image_refname *r);
/* s is n in [min,max] lowercase hex digits. */
bool image_is_hex(const char *s, size_t min, size_t max);
/* "sha256:" followed by exactly 64 lowercase hex digits. */
bool image_is_digest(const char *s);
