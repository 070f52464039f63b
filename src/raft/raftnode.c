// SPDX-License-Identifier: Apache-2.0
// canonical raft on shoald's loop: libuv disk I/O, the store as the FSM,
// leadership tracking (polled: libraft 0.15 has no state-change callback),
// and proposals with per-entry results.
//
// libraft hands the FSM's result only to the proposer, and only through a
// pointer it would leak when nobody proposed the entry (followers, replay).
// So apply() records failures in a small ring keyed by raft index and the
// proposer's callback, which runs right after apply in the same loop turn,
// looks its index up there.
#include "raft/raftnode.h"

#include <raft.h>
#include <raft/uv.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "raft/encio.h"
#include "raft/transport.h"

#define RESULT_RING    64
#define LEADER_POLL_MS 50

struct apply_result {
    uint64_t index;
    struct err err;
};

struct raftnode {
    struct raftnode_config cfg;
    char *dir;
    char *address;
    struct raft raft;
    struct raft_io uvio; /* libraft's libuv I/O */
    struct raft_io io;   /* the same, encrypting (encio.c) */
    bool encrypted;
    struct raft_uv_transport transport;
    struct raft_fsm fsm;
    bool io_ready, raft_ready, started;
    uv_timer_t poll;
    bool was_leader;
    bool ready_leader;
    uint64_t caught_up_told; /* last_applied when on_caught_up last ran */
    bool barrier_pending;
    uint64_t barrier_term;
    struct apply_result results[RESULT_RING];
    uv_idle_t closer;
    void (*close_cb)(void *);
    void *close_data;
    int closing_handles;
    struct change *changes; /* head is in flight */
    uint64_t applying;      /* the entry fsm_apply is applying */
};

/* A queued membership change (libraft runs one at a time). */
struct change {
    struct raft_change req;
    struct change *next;
    struct raftnode *rn;
    bool add;
    bool assigning; /* add: raft_add done, raft_assign in flight */
    uint64_t id;
    char *address;
    raftnode_change_fn cb;
    void *data;
};

struct proposal {
    struct raft_apply req;
    struct raftnode *rn;
    raftnode_apply_fn cb;
    void *data;
};

struct barrier {
    struct raft_barrier req;
    struct raftnode *rn;
    uint64_t term;
};

/* ---- FSM ---- */

/* A snapshot costs time in proportion to the state (about 2 s for
 * 100,000 tasks here), so they are spaced by entries in proportion to it
 * too: the configured threshold, or one entry per 50 tasks if more. */
static void adapt_threshold(struct raftnode *rn)
{
    unsigned base =
        rn->cfg.snapshot_threshold ? rn->cfg.snapshot_threshold : 512;
    size_t by_size = store_count(rn->cfg.store, KIND_TASK) / 50;
    raft_set_snapshot_threshold(&rn->raft,
                                by_size > base ? (unsigned)by_size : base);
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
                     void **result)
{
    struct raftnode *rn = fsm->data;
    uint64_t index = raft_last_applied(&rn->raft) + 1;
    rn->applying = index;
    struct apply_result *slot = &rn->results[index % RESULT_RING];
    slot->index = index;
    err_clear(&slot->err);
    if (store_apply(rn->cfg.store, index, buf->base, buf->len, &slot->err) < 0)
        log_debug("raft: entry %llu: %s", (unsigned long long)index,
                  slot->err.msg);
    *result = NULL;
    if (index % 64 == 0)
        adapt_threshold(rn);
    if (rn->cfg.on_applied)
        rn->cfg.on_applied(rn->cfg.data, index, buf->base, buf->len);
    return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                        unsigned *n_bufs)
{
    struct raftnode *rn = fsm->data;
    struct buf b;
    buf_init(&b);
    store_snapshot(rn->cfg.store, &b);
    struct raft_buffer *out = raft_malloc(sizeof(*out));
    void *copy = raft_malloc(b.len ? b.len : 1);
    if (!out || !copy) {
        raft_free(out);
        raft_free(copy);
        buf_fini(&b);
        return RAFT_NOMEM;
    }
    memcpy(copy, b.data, b.len);
    out->base = copy;
    out->len = b.len;
    buf_fini(&b);
    *bufs = out;
    *n_bufs = 1;
    log_info("raft: snapshot at index %llu (%zu bytes)",
             (unsigned long long)store_index(rn->cfg.store), out->len);
    adapt_threshold(rn);
    /* The log entries the snapshot replaces are freed now: give the
     * memory back instead of keeping a fragmented heap. */
    malloc_trim(0);
    return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct raftnode *rn = fsm->data;
    struct err err = {0};
    int rc = store_restore(rn->cfg.store, buf->base, buf->len, &err);
    raft_free(buf->base);
    if (rc < 0) {
        log_error("raft: %s", err.msg);
        return RAFT_CORRUPT;
    }
    log_info("raft: restored snapshot at index %llu",
             (unsigned long long)store_index(rn->cfg.store));
    adapt_threshold(rn);
    return 0;
}

/* ---- leadership ---- */

static void barrier_cb(struct raft_barrier *req, int status)
{
    struct barrier *b = req->data;
    struct raftnode *rn = b->rn;
    if (rn) {
        rn->barrier_pending = false;
        if (status == 0 && raft_state(&rn->raft) == RAFT_LEADER &&
            rn->raft.current_term == b->term && !rn->ready_leader) {
            rn->ready_leader = true;
            log_info("raft: leader (term %llu, index %llu)",
                     (unsigned long long)b->term,
                     (unsigned long long)raft_last_applied(&rn->raft));
            if (rn->cfg.on_leader_change)
                rn->cfg.on_leader_change(rn->cfg.data, true);
        }
    }
    free(b);
}

static void poll_cb(uv_timer_t *t)
{
    struct raftnode *rn = t->data;
    bool leader = raft_state(&rn->raft) == RAFT_LEADER;
    if (leader && !rn->ready_leader && !rn->barrier_pending) {
        struct barrier *b = xcalloc(1, sizeof(*b));
        b->rn = rn;
        b->term = rn->raft.current_term;
        b->req.data = b;
        if (raft_barrier(&rn->raft, &b->req, barrier_cb) == 0)
            rn->barrier_pending = true;
        else
            free(b);
    }
    if (!leader && rn->ready_leader) {
        rn->ready_leader = false;
        log_info("raft: no longer leader");
        if (rn->cfg.on_leader_change)
            rn->cfg.on_leader_change(rn->cfg.data, false);
    }
    rn->was_leader = leader;
    /* A follower that has applied the entries up to the last command and
     * then only membership changes is current, but no fsm apply says so;
     * told once per applied index (a flag could miss a false-true flip
     * between two polls). */
    uint64_t applied = raft_last_applied(&rn->raft);
    if (rn->cfg.on_caught_up && applied != rn->caught_up_told &&
        raftnode_caught_up(rn)) {
        rn->caught_up_told = applied;
        rn->cfg.on_caught_up(rn->cfg.data);
    }
}

/* ---- lifecycle ---- */

struct raftnode *raftnode_new(const struct raftnode_config *cfg,
                              struct err *err)
{
    if (fs_mkdir_p(cfg->dir, 0700, err) < 0)
        return NULL;
    struct raftnode *rn = xcalloc(1, sizeof(*rn));
    rn->cfg = *cfg;
    rn->dir = xstrdup(cfg->dir);
    rn->address = xstrdup(cfg->address);
    rn->cfg.dir = rn->dir;
    rn->cfg.address = rn->address;
    int rc = rafttr_init(&rn->transport, cfg->loop, cfg->dialer);
    if (rc == 0)
        rc = raft_uv_init(&rn->uvio, cfg->loop, rn->dir, &rn->transport);
    if (rc == 0 && cfg->data_key) {
        encio_init(&rn->io, &rn->uvio, cfg->data_key);
        rn->encrypted = true;
    }
    rn->cfg.data_key = NULL; /* copied by encio; not kept */
    if (rc != 0) {
        err_set(err, ERR_INTERNAL, "init raft I/O in '%s': %s", rn->dir,
                rn->uvio.errmsg[0] ? rn->uvio.errmsg : raft_strerror(rc));
        rafttr_free(&rn->transport);
        free(rn->dir);
        free(rn->address);
        free(rn);
        return NULL;
    }
    rn->io_ready = true;
    rn->fsm.version = 1;
    rn->fsm.data = rn;
    rn->fsm.apply = fsm_apply;
    rn->fsm.snapshot = fsm_snapshot;
    rn->fsm.restore = fsm_restore;
    rc = raft_init(&rn->raft, rn->encrypted ? &rn->io : &rn->uvio, &rn->fsm,
                   cfg->id, rn->address);
    if (rc != 0) {
        err_set(err, ERR_INTERNAL, "init raft: %s", raft_errmsg(&rn->raft));
        raft_uv_close(&rn->uvio);
        encio_fini(&rn->io);
        rafttr_free(&rn->transport);
        free(rn->dir);
        free(rn->address);
        free(rn);
        return NULL;
    }
    rn->raft_ready = true;
    rn->raft.data = rn;
    raft_set_snapshot_threshold(
        &rn->raft, cfg->snapshot_threshold ? cfg->snapshot_threshold : 512);
    raft_set_snapshot_trailing(
        &rn->raft, cfg->snapshot_trailing ? cfg->snapshot_trailing : 128);
    raft_set_election_timeout(&rn->raft, 1000);
    raft_set_heartbeat_timeout(&rn->raft, 100);
    uv_timer_init(cfg->loop, &rn->poll);
    rn->poll.data = rn;
    return rn;
}

int raftnode_bootstrap(struct raftnode *rn, struct err *err)
{
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    int rc = raft_configuration_add(&conf, rn->cfg.id, rn->address, RAFT_VOTER);
    if (rc == 0)
        rc = raft_bootstrap(&rn->raft, &conf);
    raft_configuration_close(&conf);
    if (rc != 0)
        return err_set(err, ERR_INTERNAL, "bootstrap raft: %s",
                       raft_strerror(rc));
    return 0;
}

int raftnode_start(struct raftnode *rn, struct err *err)
{
    int rc = raft_start(&rn->raft);
    if (rc != 0)
        return err_set(err, ERR_INTERNAL, "start raft: %s",
                       raft_errmsg(&rn->raft));
    rn->started = true;
    uv_timer_start(&rn->poll, poll_cb, 0, LEADER_POLL_MS);
    return 0;
}

bool raftnode_is_leader(const struct raftnode *rn)
{
    return rn && raft_state((struct raft *)&rn->raft) == RAFT_LEADER;
}

bool raftnode_is_ready_leader(const struct raftnode *rn)
{
    return rn && rn->ready_leader && raftnode_is_leader(rn);
}

uint64_t raftnode_last_applied(const struct raftnode *rn)
{
    return raft_last_applied((struct raft *)&rn->raft);
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
    (void)result;
    struct proposal *p = req->data;
    struct raftnode *rn = p->rn;
    if (status != 0) {
        struct err e = {0};
        err_set(&e, ERR_UNAVAILABLE,
                "rpc error: code = Unavailable desc = the change could not "
                "be committed: %s",
                raft_strerror(status));
        p->cb(p->data, &e, req->index);
    } else {
        struct apply_result *slot = &rn->results[req->index % RESULT_RING];
        const struct err *e = NULL;
        if (slot->index == req->index && err_is_set(&slot->err))
            e = &slot->err;
        p->cb(p->data, e, req->index);
    }
    free(p);
}

int raftnode_propose(struct raftnode *rn, const void *data, size_t len,
                     raftnode_apply_fn cb, void *cb_data, struct err *err)
{
    if (!rn || !rn->started || !raftnode_is_ready_leader(rn))
        return err_set(err, ERR_UNAVAILABLE,
                       "rpc error: code = Unavailable desc = this node is not "
                       "the swarm leader");
    /* libraft 0.15 writes segments it cannot read back when an entry's
     * length is not a multiple of 8 ("entries count ... too high" at the
     * next start; seen here), so entries are padded with spaces, which
     * JSON ignores. */
    size_t padded = (len + 7) & ~(size_t)7;
    struct raft_buffer buf = {.base = raft_malloc(padded ? padded : 8),
                              .len = padded ? padded : 8};
    if (!buf.base)
        abort();
    memset(buf.base, ' ', buf.len);
    memcpy(buf.base, data, len);
    struct proposal *p = xcalloc(1, sizeof(*p));
    p->rn = rn;
    p->cb = cb;
    p->data = cb_data;
    p->req.data = p;
    int rc = raft_apply(&rn->raft, &p->req, &buf, 1, apply_cb);
    if (rc != 0) {
        raft_free(buf.base);
        free(p);
        return err_set(err, ERR_UNAVAILABLE,
                       "rpc error: code = Unavailable desc = propose: %s",
                       raft_strerror(rc));
    }
    return 0;
}

/* ---- membership ---- */

void raftnode_set_store(struct raftnode *rn, struct store *store)
{
    rn->cfg.store = store;
}

bool raftnode_caught_up(const struct raftnode *rn)
{
    if (!rn || !rn->started || !raftnode_leader(rn, NULL, NULL, 0))
        return false;
    /* Inside apply, libraft counts the entry as applied only afterwards. */
    uint64_t applied = raft_last_applied((struct raft *)&rn->raft);
    if (rn->applying > applied)
        applied = rn->applying;
    return applied >= rn->raft.commit_index;
}

void raftnode_accept(struct raftnode *rn, uint64_t id, const char *address,
                     int fd)
{
    rafttr_accept(&rn->transport, id, address, fd);
}

bool raftnode_leader(const struct raftnode *rn, uint64_t *id, char *address,
                     size_t size)
{
    raft_id lid = 0;
    const char *laddr = NULL;
    if (!rn || !rn->started)
        return false;
    raft_leader((struct raft *)&rn->raft, &lid, &laddr);
    if (!lid || !laddr)
        return false;
    if (id)
        *id = lid;
    if (address)
        snprintf(address, size, "%s", laddr);
    return true;
}

size_t raftnode_servers(const struct raftnode *rn, struct raftnode_server *out,
                        size_t max)
{
    const struct raft_configuration *c = &rn->raft.configuration;
    size_t n = 0;
    for (unsigned i = 0; i < c->n && n < max; i++, n++) {
        out[n].id = c->servers[i].id;
        snprintf(out[n].address, sizeof(out[n].address), "%s",
                 c->servers[i].address);
        out[n].voter = c->servers[i].role == RAFT_VOTER;
    }
    return n;
}

static void change_next(struct raftnode *rn);

static void change_finish(struct raftnode *rn, int status)
{
    struct change *ch = rn->changes;
    rn->changes = ch->next;
    struct err e = {0};
    if (status != 0)
        err_set(&e, ERR_UNAVAILABLE,
                "rpc error: code = Unavailable desc = raft membership "
                "change: %s",
                raft_strerror(status));
    if (ch->cb)
        ch->cb(ch->data, status ? &e : NULL);
    free(ch->address);
    free(ch);
    if (rn->changes)
        change_next(rn);
}

static void change_cb(struct raft_change *req, int status)
{
    struct change *ch = req->data;
    struct raftnode *rn = ch->rn;
    if (status == 0 && ch->add && !ch->assigning) {
        ch->assigning = true;
        int rc =
            raft_assign(&rn->raft, &ch->req, ch->id, RAFT_VOTER, change_cb);
        if (rc == 0)
            return;
        status = rc == RAFT_BADROLE ? 0 : rc;
    }
    change_finish(rn, status);
}

/* Starts the change at the head of the queue. */
static void change_next(struct raftnode *rn)
{
    struct change *ch = rn->changes;
    ch->req.data = ch;
    int rc;
    if (!raftnode_is_leader(rn)) {
        rc = RAFT_NOTLEADER;
    } else if (ch->add) {
        rc = raft_add(&rn->raft, &ch->req, ch->id, ch->address, change_cb);
        if (rc == RAFT_DUPLICATEID) {
            ch->assigning = true;
            rc =
                raft_assign(&rn->raft, &ch->req, ch->id, RAFT_VOTER, change_cb);
        }
        if (rc == RAFT_BADROLE) /* already a voter */
            rc = 0;
        else if (rc == 0)
            return;
    } else {
        rc = raft_remove(&rn->raft, &ch->req, ch->id, change_cb);
        if (rc == RAFT_BADID) /* not a member */
            rc = 0;
        else if (rc == 0)
            return;
    }
    change_finish(rn, rc);
}

static int change_queue(struct raftnode *rn, bool add, uint64_t id,
                        const char *address, raftnode_change_fn cb, void *data,
                        struct err *err)
{
    if (!rn || !rn->started || !raftnode_is_leader(rn))
        return err_set(err, ERR_UNAVAILABLE,
                       "rpc error: code = Unavailable desc = this node is not "
                       "the swarm leader");
    struct change *ch = xcalloc(1, sizeof(*ch));
    ch->rn = rn;
    ch->add = add;
    ch->id = id;
    ch->address = address ? xstrdup(address) : NULL;
    ch->cb = cb;
    ch->data = data;
    struct change **tail = &rn->changes;
    while (*tail)
        tail = &(*tail)->next;
    *tail = ch;
    if (rn->changes == ch)
        change_next(rn);
    return 0;
}

int raftnode_add_voter(struct raftnode *rn, uint64_t id, const char *address,
                       raftnode_change_fn cb, void *data, struct err *err)
{
    return change_queue(rn, true, id, address, cb, data, err);
}

int raftnode_remove(struct raftnode *rn, uint64_t id, raftnode_change_fn cb,
                    void *data, struct err *err)
{
    return change_queue(rn, false, id, NULL, cb, data, err);
}

struct transfer {
    struct raft_transfer req;
    void (*cb)(void *data);
    void *data;
};

static void transfer_cb(struct raft_transfer *req)
{
    struct transfer *t = req->data;
    if (t->cb)
        t->cb(t->data);
    free(t);
}

int raftnode_transfer(struct raftnode *rn, void (*cb)(void *data), void *data,
                      struct err *err)
{
    if (!raftnode_is_leader(rn))
        return err_set(err, ERR_UNAVAILABLE,
                       "rpc error: code = Unavailable desc = this node is not "
                       "the swarm leader");
    struct transfer *t = xcalloc(1, sizeof(*t));
    t->cb = cb;
    t->data = data;
    t->req.data = t;
    int rc = raft_transfer(&rn->raft, &t->req, 0, transfer_cb);
    if (rc != 0) {
        free(t);
        return err_set(err, ERR_UNAVAILABLE,
                       "rpc error: code = Unavailable desc = leadership "
                       "transfer: %s",
                       raft_strerror(rc));
    }
    return 0;
}

/* ---- close ---- */

static void finish_close(struct raftnode *rn)
{
    void (*cb)(void *) = rn->close_cb;
    void *data = rn->close_data;
    free(rn->dir);
    free(rn->address);
    free(rn);
    if (cb)
        cb(data);
}

static void handle_closed(uv_handle_t *h)
{
    struct raftnode *rn = h->data;
    if (--rn->closing_handles == 0)
        finish_close(rn);
}

static void raft_closed(struct raft *r)
{
    struct raftnode *rn = r->data;
    raft_uv_close(&rn->uvio);
    encio_fini(&rn->io);
    rafttr_free(&rn->transport);
    while (rn->changes) /* queued, never started */
        change_finish(rn, RAFT_SHUTDOWN);
    rn->closing_handles = 2;
    uv_close((uv_handle_t *)&rn->poll, handle_closed);
    uv_close((uv_handle_t *)&rn->closer, handle_closed);
}

/* libraft aborts if closed from inside its own callbacks, so closing always
 * happens from a fresh loop turn. */
static void closer_cb(uv_idle_t *idle)
{
    struct raftnode *rn = idle->data;
    uv_idle_stop(idle);
    uv_timer_stop(&rn->poll);
    if (rn->ready_leader && rn->cfg.on_leader_change) {
        rn->ready_leader = false;
        rn->cfg.on_leader_change(rn->cfg.data, false);
    }
    raft_close(&rn->raft, raft_closed);
}

void raftnode_close(struct raftnode *rn, void (*cb)(void *), void *data)
{
    rn->close_cb = cb;
    rn->close_data = data;
    uv_idle_init(rn->cfg.loop, &rn->closer);
    rn->closer.data = rn;
    uv_idle_start(&rn->closer, closer_cb);
}
