// SPDX-License-Identifier: Apache-2.0
// Standard base64 (RFC 4648, with padding), as Go's encoding/json writes
// []byte fields: the docker API carries seccomp profiles this way.
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Encodes len bytes. Owned, NUL-terminated. */
char *b64_encode(const void *data, size_t len);
/* Decodes text (whitespace not allowed, padding required as Go's
 * StdEncoding does). Owned, NUL-terminated, *len set; NULL if malformed. */
char *b64_decode(const char *text, size_t *len);
