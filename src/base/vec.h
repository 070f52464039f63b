// SPDX-License-Identifier: Apache-2.0
// A growable array of pointers with O(1) swap-removal.
#pragma once

#include <stddef.h>

struct vec {
    void **items;
    size_t len;
    size_t cap;
};

void vec_init(struct vec *v);
void vec_fini(struct vec *v); /* frees the array, not the items */
void vec_push(struct vec *v, void *item);
/* Removes items[i] by moving the last item into its place. */
void vec_swap_remove(struct vec *v, size_t i);
/* Removes the first occurrence of item (linear); returns 0 if found. */
int vec_remove(struct vec *v, const void *item);
