// SPDX-License-Identifier: Apache-2.0
// The CLI's registry credentials: ~/.shoal/config.json (mode 0600), in the
// docker CLI's shape ({"auths": {"<server>": {"auth": base64(user:pass)}}}),
// and the X-Registry-Auth header they become for an image name.
#pragma once

#include "base/err.h"
#include "registry/auth.h"

/* The file's path: $SHOAL_CONFIG/config.json, else
 * $HOME/.shoal/config.json (owned). */
char *cli_creds_path(void);
/* Credentials stored for a registry domain ("localhost:5000",
 * "docker.io"); 0 with *c filled, 1 if none, -1 on a bad file. */
int cli_creds_get(const char *domain, struct reg_creds *c, struct err *err);
/* Stores (user NULL: removes) the credentials for domain; the file and
 * its directory are created private. Returns 1 from a removal that found
 * nothing. */
int cli_creds_put(const char *domain, const char *user, const char *pass,
                  struct err *err);
/* The "X-Registry-Auth: ..." header line for the registry of image
 * (owned); "X-Registry-Auth: e30=" ({}) when none is stored, as docker
 * sends. NULL + err only on a bad config file. */
char *cli_creds_header(const char *image, struct err *err);
