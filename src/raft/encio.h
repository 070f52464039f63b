// SPDX-License-Identifier: Apache-2.0
// Raft data encrypted at rest: a raft_io that wraps libraft's libuv I/O and
// encrypts every log entry and snapshot it writes with this manager's own
// data key (AES-256-GCM), and decrypts what it reads back. Entries travel
// between managers in plaintext inside mutual TLS and are re-encrypted by
// each with its own key; data written before encryption reads as is.
#pragma once

#include <raft.h>
#include <stddef.h>
#include <stdint.h>

#define ENCIO_KEY_LEN 32

/* Makes outer a raft_io that stores through inner (already initialised)
 * with key (copied). 0 or a RAFT_* error. */
int encio_init(struct raft_io *outer, struct raft_io *inner,
               const uint8_t key[ENCIO_KEY_LEN]);
void encio_fini(struct raft_io *outer);

/* The sealed form of one buffer and back (exposed for tests). seal returns
 * a raft_malloc'd buffer (length a multiple of 8); open returns 0, 1 if buf
 * is not sealed (left alone), or -1 if it is sealed but does not decrypt. */
int encio_seal(const uint8_t key[ENCIO_KEY_LEN], const void *data, size_t len,
               struct raft_buffer *out);
int encio_open(const uint8_t key[ENCIO_KEY_LEN], const struct raft_buffer *in,
               struct raft_buffer *out);
