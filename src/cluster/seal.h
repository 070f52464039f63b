// SPDX-License-Identifier: Apache-2.0
// Autolock: a manager's secrets on disk (its TLS key, its raft data key)
// sealed with the swarm's unlock key ("SWMKEY-1-..."), so that a restarted
// manager needs a person to run `swarm unlock`. AES-256-GCM with the
// SHA-256 of the unlock key; sealed text is "SEALED-1:<base64>".
#pragma once

#include <stdbool.h>

#include "base/err.h"

/* A new unlock key (malloc'd). */
char *seal_new_unlock_key(void);
bool seal_is_sealed(const char *text);
/* Seals plain (a NUL-terminated text); malloc'd. */
char *seal_text(const char *unlock_key, const char *plain);
/* Opens sealed text; 400 "invalid key" if the key does not open it. */
int seal_open(const char *unlock_key, const char *sealed, char **plain,
              struct err *err);
