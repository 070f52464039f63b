// SPDX-License-Identifier: Apache-2.0
// The network transport under canonical raft's libuv I/O. A single manager
// needs no peers, so today's transport refuses every outgoing connection
// and accepts none; the cluster work replaces it with mutual TLS on the
// cluster port. Only raftnode.c uses it.
#pragma once

#include <raft/uv.h>
#include <uv.h>

/* Fills in t (its impl is heap-allocated); 0 or a RAFT_* error. */
int rafttr_init(struct raft_uv_transport *t, uv_loop_t *loop);
/* Frees what rafttr_init allocated, after libraft closed the transport. */
void rafttr_free(struct raft_uv_transport *t);
