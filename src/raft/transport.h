// SPDX-License-Identifier: Apache-2.0
// The network transport under canonical raft's libuv I/O. libraft has no
// TLS of its own and only wants a connected uv_stream_t per peer, so this
// transport asks a dialer (the cluster layer: mutual TLS on the cluster
// port, spliced into a socketpair) for outgoing connections and is handed
// incoming ones the same way. Only raftnode.c uses it.
#pragma once

#include <raft/uv.h>
#include <stdint.h>
#include <uv.h>

#include "raft/raftnode.h"

/* Fills in t (its impl is heap-allocated); 0 or a RAFT_* error. dialer
 * may be NULL (a lone manager: every outgoing connection is refused). */
int rafttr_init(struct raft_uv_transport *t, uv_loop_t *loop,
                const struct raftnode_dialer *dialer);
/* An incoming raft connection from server id at address, as a connected
 * stream socket (ownership taken; closed if raft is not listening). */
void rafttr_accept(struct raft_uv_transport *t, uint64_t id,
                   const char *address, int fd);
/* Frees what rafttr_init allocated, after libraft closed the transport.
 * Dials still in flight complete harmlessly later. */
void rafttr_free(struct raft_uv_transport *t);
