// SPDX-License-Identifier: Apache-2.0
// Open-addressing string hash map with borrowed keys.
#include "base/hmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static const char tomb_marker;
#define HMAP_TOMB (&tomb_marker)

static size_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)(h ^ (h >> 29));
}

void hmap_init(struct hmap *m)
{
    memset(m, 0, sizeof(*m));
}

void hmap_fini(struct hmap *m)
{
    free(m->slots);
    hmap_init(m);
}

static struct hmap_slot *find(const struct hmap *m, const char *key,
                              size_t hash)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct hmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != HMAP_TOMB && s->hash == hash && strcmp(s->key, key) == 0)
            return s;
    }
}

static void grow(struct hmap *m)
{
    size_t old_cap = m->cap;
    struct hmap_slot *old = m->slots;
    size_t cap = old_cap ? old_cap : 16;
    while (m->count * 2 + 2 > cap)
        cap *= 2;
    if (cap == old_cap && m->used * 4 < cap * 3)
        return;
    m->slots = xcalloc(cap, sizeof(*m->slots));
    m->cap = cap;
    m->used = m->count;
    size_t mask = cap - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].key || old[i].key == HMAP_TOMB)
            continue;
        size_t j = old[i].hash & mask;
        while (m->slots[j].key)
            j = (j + 1) & mask;
        m->slots[j] = old[i];
    }
    free(old);
}

void *hmap_get(const struct hmap *m, const char *key)
{
    struct hmap_slot *s = find(m, key, hash_str(key));
    return s ? s->value : NULL;
}

void *hmap_put(struct hmap *m, const char *key, void *value)
{
    size_t hash = hash_str(key);
    struct hmap_slot *s = find(m, key, hash);
    if (s) {
        void *old = s->value;
        s->value = value;
        s->key = key;
        return old;
    }
    if ((m->used + 1) * 4 >= m->cap * 3)
        grow(m);
    size_t mask = m->cap - 1;
    size_t i = hash & mask;
    while (m->slots[i].key && m->slots[i].key != HMAP_TOMB)
        i = (i + 1) & mask;
    if (!m->slots[i].key)
        m->used++;
    m->slots[i] = (struct hmap_slot){key, value, hash};
    m->count++;
    return NULL;
}

void *hmap_del(struct hmap *m, const char *key)
{
    struct hmap_slot *s = find(m, key, hash_str(key));
    if (!s)
        return NULL;
    void *v = s->value;
    s->key = HMAP_TOMB;
    s->value = NULL;
    m->count--;
    return v;
}

bool hmap_next(const struct hmap *m, size_t *it, const char **key, void **value)
{
    while (*it < m->cap) {
        struct hmap_slot *s = &m->slots[(*it)++];
        if (s->key && s->key != HMAP_TOMB) {
            if (key)
                *key = s->key;
            if (value)
                *value = s->value;
            return true;
        }
    }
    return false;
}
