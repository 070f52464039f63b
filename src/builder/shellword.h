// SPDX-License-Identifier: Apache-2.0
// Dockerfile word expansion, as the legacy builder does it for ADD, COPY,
// ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME and WORKDIR: quotes
// removed, the escape character honoured, and $VAR, ${VAR}, ${VAR:-word},
// ${VAR-word}, ${VAR:+word}, ${VAR+word}, ${VAR:?msg}, ${VAR?msg}
// substituted from a lookup. Pure.
#pragma once

#include "base/err.h"

/* The value of name, or NULL when it is not set. */
typedef const char *(*shellword_lookup_fn)(void *data, const char *name);

/* Expands one word. Owned result, or NULL + 400 (unterminated quote or
 * brace, bad modifier, ${VAR?msg} with VAR unset). */
char *shellword_expand(const char *word, char escape,
                       shellword_lookup_fn lookup, void *data, struct err *err);
