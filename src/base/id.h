// SPDX-License-Identifier: Apache-2.0
// Random identifiers: swarm object IDs (25 base36 chars, like swarmkit) and
// 64-hex container IDs (like Docker).
#pragma once

#include <stddef.h>
#include <stdint.h>

#define ID_LEN     25
#define ID_HEX_LEN 64

/* Fills out[ID_LEN + 1] with a fresh object id. */
void id_new(char out[ID_LEN + 1]);
/* Fills out[ID_HEX_LEN + 1] with 256 random bits in hex. */
void id_new_hex(char out[ID_HEX_LEN + 1]);
/* Fills buf with n random bytes (getrandom; aborts if the kernel can't). */
void id_random_bytes(void *buf, size_t n);
/* 64-bit FNV-1a of a string, for raft ids and hashing. */
uint64_t id_hash64(const char *s);
