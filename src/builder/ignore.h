// SPDX-License-Identifier: Apache-2.0
// .dockerignore rules and the path globs of COPY and ADD: patterns as Go's
// filepath.Match (`*`, `?`, `[a-z]`, `\` escapes) per path component,
// `**` for any number of components, `!` lines re-including, the last
// matching rule deciding, and a rule naming a directory covering all
// below it. Pure.
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct ignore_rule {
    char *pattern; /* cleaned, no leading '/' or '!' */
    bool exclude;  /* false for a "!" (re-include) rule */
};

struct ignore {
    struct ignore_rule *rules; /* owned */
    size_t n;
};

/* Parses the text of a .dockerignore (NULL = none). */
void ignore_parse(const char *text, struct ignore *out);
void ignore_fini(struct ignore *ig);
/* Is path (relative to the context, '/'-separated, no leading "./")
 * excluded? */
bool ignore_match(const struct ignore *ig, const char *path);
/* Does the whole path match the glob, component by component (`**` any
 * number of components)? */
bool glob_match(const char *pattern, const char *path);
/* Does the glob have a special character (so that it needs a walk)? */
bool glob_is_pattern(const char *pattern);
/* Lexical cleaning as Go's path.Clean, relative: "./a//b/../c/" ->
 * "a/c", "/" or "" -> ".". Leading "/" dropped; ".." never escapes above
 * the start. Owned. */
char *path_clean_rel(const char *path);
