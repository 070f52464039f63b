// SPDX-License-Identifier: Apache-2.0
// Growable pointer array.
#include "base/vec.h"

#include <stdlib.h>

#include "base/mem.h"

void vec_init(struct vec *v)
{
    v->items = NULL;
    v->len = v->cap = 0;
}

void vec_fini(struct vec *v)
{
    free(v->items);
    vec_init(v);
}

void vec_push(struct vec *v, void *item)
{
    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->items = xrealloc(v->items, v->cap * sizeof(*v->items));
    }
    v->items[v->len++] = item;
}

void vec_swap_remove(struct vec *v, size_t i)
{
    v->items[i] = v->items[--v->len];
}

int vec_remove(struct vec *v, const void *item)
{
    for (size_t i = 0; i < v->len; i++) {
        if (v->items[i] == item) {
            vec_swap_remove(v, i);
            return 0;
        }
    }
    return -1;
}
