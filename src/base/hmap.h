// SPDX-License-Identifier: Apache-2.0
// A string-keyed hash map (open addressing, linear probing). Keys are
// borrowed: the caller keeps each key alive while it is in the map, which
// lets indexes point into the objects they index without copies.
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct hmap_slot {
    const char *key; /* NULL = empty; HMAP_TOMB = deleted */
    void *value;
    size_t hash;
};

struct hmap {
    struct hmap_slot *slots;
    size_t cap;   /* power of two */
    size_t count; /* live entries */
    size_t used;  /* live + tombstones */
};

void hmap_init(struct hmap *m);
void hmap_fini(struct hmap *m); /* frees the table, not keys or values */
void *hmap_get(const struct hmap *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. */
void *hmap_put(struct hmap *m, const char *key, void *value);
/* Removes; returns the removed value or NULL. */
void *hmap_del(struct hmap *m, const char *key);
static inline size_t hmap_count(const struct hmap *m)
{
    return m->count;
}

/* Iteration: for (size_t it = 0; hmap_next(m, &it, &key, &val);) ... The
 * map must not be modified during iteration except by hmap_del of the
 * current key. */
bool hmap_next(const struct hmap *m, size_t *it, const char **key,
               void **value);
