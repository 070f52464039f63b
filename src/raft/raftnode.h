// SPDX-License-Identifier: Apache-2.0
// The Raft adapter: the only code that includes canonical raft's headers.
// It runs libraft on shoald's loop with its libuv disk I/O, feeds committed
// entries to the store, encodes snapshots from it, and reports leadership.
// Swapping the library for its maintained fork (cowsql/raft) touches only
// this folder.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/err.h"
#include "store/store.h"

struct raftnode;

typedef void (*raftnode_leader_fn)(void *data, bool is_leader);

/* Makes raft's connections to other managers: dial answers done(req, fd)
 * later (never from inside dial) with a connected stream socket carrying
 * raft's bytes to server id at address, or -1. */
struct raftnode_dialer {
    void (*dial)(void *data, uint64_t id, const char *address,
                 void (*done)(void *req, int fd), void *req);
    void *data;
};

struct raftnode_config {
    uv_loop_t *loop;
    const char *dir;     /* raft data directory (created if missing) */
    uint64_t id;         /* this server's raft id (non-zero) */
    const char *address; /* this server's raft address "host:port" */
    struct store *store; /* the state machine */
    raftnode_leader_fn on_leader_change; /* may be NULL */
    void *data;
    unsigned snapshot_threshold; /* entries between snapshots (0: default) */
    unsigned snapshot_trailing;  /* entries kept after one (0: default) */
    const struct raftnode_dialer *dialer; /* NULL: a lone manager */
    /* This manager's key for its raft data at rest (32 bytes; NULL: the
     * data is written in plaintext). */
    const uint8_t *data_key;
    /* After each entry is applied to the store, with the entry (may be
     * NULL). */
    void (*on_applied)(void *data, uint64_t index, const void *entry,
                       size_t len);
    /* Polled: raftnode_caught_up() holds at a new applied index (also
     * when the last entries were membership changes or barriers, which
     * libraft applies without the store); may be NULL. */
    void (*on_caught_up)(void *data);
};

struct raftnode *raftnode_new(const struct raftnode_config *cfg,
                              struct err *err);
/* Writes the initial configuration (this server as the only voter) into an
 * empty data directory. */
int raftnode_bootstrap(struct raftnode *rn, struct err *err);
/* Loads the log and snapshot, replays them into the store as they commit,
 * and starts taking part in elections. */
int raftnode_start(struct raftnode *rn, struct err *err);
bool raftnode_is_leader(const struct raftnode *rn);
/* True once this leader has applied every entry of earlier terms (a
 * barrier committed in its own term), so its store is complete. */
bool raftnode_is_ready_leader(const struct raftnode *rn);
uint64_t raftnode_last_applied(const struct raftnode *rn);

/* Completion of a proposal: err is NULL if the entry was committed and its
 * operations applied; otherwise the first failed operation's error, or a
 * 503 if leadership was lost before the entry committed. */
typedef void (*raftnode_apply_fn)(void *data, const struct err *err,
                                  uint64_t index);

/* Proposes an entry (copied). Fails at once (cb not called) with 503 when
 * this server is not the leader. */
int raftnode_propose(struct raftnode *rn, const void *data, size_t len,
                     raftnode_apply_fn cb, void *cb_data, struct err *err);

/* Applies entries to another store from now on (a promoted node's
 * catch-up store handing over to the one its agent follows). */
void raftnode_set_store(struct raftnode *rn, struct store *store);
/* True when a leader is known and every entry it committed (as far as
 * this server knows) is applied: the store is current, not replaying. */
bool raftnode_caught_up(const struct raftnode *rn);

/* An incoming connection from manager id at address (fd taken). */
void raftnode_accept(struct raftnode *rn, uint64_t id, const char *address,
                     int fd);

/* The leader as this server knows it: false if none. */
bool raftnode_leader(const struct raftnode *rn, uint64_t *id, char *address,
                     size_t size);

/* The servers of the current configuration. */
struct raftnode_server {
    uint64_t id;
    char address[128];
    bool voter;
};
size_t raftnode_servers(const struct raftnode *rn, struct raftnode_server *out,
                        size_t max);

/* Membership changes (leader only), queued and run one at a time: add
 * server id at address as a voter (it first catches up as a spare), or
 * remove it. cb gets NULL err on success. */
typedef void (*raftnode_change_fn)(void *data, const struct err *err);
int raftnode_add_voter(struct raftnode *rn, uint64_t id, const char *address,
                       raftnode_change_fn cb, void *data, struct err *err);
int raftnode_remove(struct raftnode *rn, uint64_t id, raftnode_change_fn cb,
                    void *data, struct err *err);

/* Hands leadership to another voter (libraft picks one); cb (may be
 * NULL) once it happened or timed out. -1 with err if not the leader or
 * there is no other voter. */
int raftnode_transfer(struct raftnode *rn, void (*cb)(void *data), void *data,
                      struct err *err);

/* Stops raft (on a fresh loop turn, as libraft requires) and frees rn;
 * cb (may be NULL) runs after. Pending proposals complete with 503. */
void raftnode_close(struct raftnode *rn, void (*cb)(void *), void *data);
