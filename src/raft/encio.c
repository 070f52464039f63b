// SPDX-License-Identifier: Apache-2.0
// The encrypting raft_io (see encio.h). Sealed buffer layout:
//   "SHLENC01" | plaintext length (8, little endian) | nonce (12) | tag (16)
//   | ciphertext | zero padding to a multiple of 8 (libraft 0.15 cannot read
//   back entries of other lengths, see raftnode.c).
#include "raft/encio.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

#define MAGIC     "SHLENC01"
#define MAGIC_LEN 8
#define NONCE_LEN 12
#define TAG_LEN   16
#define HDR_LEN   (MAGIC_LEN + 8 + NONCE_LEN + TAG_LEN)

struct encio {
    struct raft_io *inner;
    uint8_t key[ENCIO_KEY_LEN];
};

/* ---- sealing ---- */

int encio_seal(const uint8_t key[ENCIO_KEY_LEN], const void *data, size_t len,
               struct raft_buffer *out)
{
    size_t total = (HDR_LEN + len + 7) & ~(size_t)7;
    uint8_t *b = raft_malloc(total);
    if (!b)
        return RAFT_NOMEM;
    memset(b, 0, total);
    memcpy(b, MAGIC, MAGIC_LEN);
    for (int i = 0; i < 8; i++)
        b[MAGIC_LEN + i] = (uint8_t)((uint64_t)len >> (8 * i));
    uint8_t *nonce = b + MAGIC_LEN + 8, *tag = nonce + NONCE_LEN;
    uint8_t *ct = tag + TAG_LEN;
    if (RAND_bytes(nonce, NONCE_LEN) != 1)
        abort(); /* a repeated nonce would break GCM */
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key,
                                            nonce) == 1;
    if (ok && len)
        ok = EVP_EncryptUpdate(c, ct, &n, data, (int)len) == 1;
    ok = ok && EVP_EncryptFinal_ex(c, ct + n, &n) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        raft_free(b);
        return RAFT_IOERR;
    }
    out->base = b;
    out->len = total;
    return 0;
}

static bool is_sealed(const struct raft_buffer *in)
{
    return in->len >= HDR_LEN && memcmp(in->base, MAGIC, MAGIC_LEN) == 0;
}

int encio_open(const uint8_t key[ENCIO_KEY_LEN], const struct raft_buffer *in,
               struct raft_buffer *out)
{
    if (!is_sealed(in))
        return 1;
    const uint8_t *b = in->base;
    uint64_t len = 0;
    for (int i = 0; i < 8; i++)
        len |= (uint64_t)b[MAGIC_LEN + i] << (8 * i);
    if (len > in->len - HDR_LEN)
        return -1;
    const uint8_t *nonce = b + MAGIC_LEN + 8, *tag = nonce + NONCE_LEN;
    const uint8_t *ct = tag + TAG_LEN;
    /* Room for at least 8 bytes: libraft wants no empty buffers. */
    uint8_t *p = raft_malloc(len ? len : 8);
    if (!p)
        return -1;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key,
                                            nonce) == 1;
    if (ok && len)
        ok = EVP_DecryptUpdate(c, p, &n, ct, (int)len) == 1;
    ok = ok &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)tag) ==
             1 &&
         EVP_DecryptFinal_ex(c, p + n, &n) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        raft_free(p);
        return -1;
    }
    out->base = p;
    out->len = len;
    return 0;
}

/* ---- the wrapper ---- */

static struct encio *E(struct raft_io *io)
{
    return io->impl;
}

/* Callbacks of the inner I/O get the inner raft_io: libraft's own
 * callbacks read io->data (the struct raft), so it must be there too. */
static struct raft_io *inner_of(struct raft_io *io)
{
    struct raft_io *in = E(io)->inner;
    in->data = io->data;
    return in;
}

static int passed(struct raft_io *io, int rc)
{
    if (rc != 0)
        memcpy(io->errmsg, E(io)->inner->errmsg, sizeof(io->errmsg));
    return rc;
}

static int w_init(struct raft_io *io, raft_id id, const char *address)
{
    struct raft_io *in = inner_of(io);
    return passed(io, in->init(in, id, address));
}

static void w_close(struct raft_io *io, raft_io_close_cb cb)
{
    struct raft_io *in = inner_of(io);
    in->close(in, cb);
}

/* Replaces a buffer by its plaintext; the old memory is the caller's to
 * free. -1 if it is sealed and does not open (wrong key, corruption). */
static int open_in_place(struct encio *e, struct raft_buffer *buf)
{
    struct raft_buffer plain;
    int rc = encio_open(e->key, buf, &plain);
    if (rc == 0)
        *buf = plain;
    return rc;
}

static int open_snapshot(struct encio *e, struct raft_snapshot *s)
{
    for (unsigned i = 0; i < s->n_bufs; i++) {
        void *old = s->bufs[i].base;
        int rc = open_in_place(e, &s->bufs[i]);
        if (rc < 0)
            return -1;
        if (rc == 0)
            raft_free(old);
    }
    return 0;
}

static int w_load(struct raft_io *io, raft_term *term, raft_id *voted_for,
                  struct raft_snapshot **snapshot, raft_index *start_index,
                  struct raft_entry *entries[], size_t *n_entries)
{
    struct encio *e = E(io);
    struct raft_io *in = inner_of(io);
    int rc = in->load(in, term, voted_for, snapshot, start_index, entries,
                      n_entries);
    if (rc != 0)
        return passed(io, rc);
    if (*snapshot && open_snapshot(e, *snapshot) < 0)
        goto corrupt;
    /* Every entry ends up owning its buffer (batch NULL: libraft frees
     * buf.base); the loaded batches are freed once their entries moved
     * out (entries of one batch are consecutive). */
    void *prev_batch = NULL;
    for (size_t i = 0; i < *n_entries; i++) {
        struct raft_entry *en = &(*entries)[i];
        void *old_base = en->buf.base, *old_batch = en->batch;
        int orc = open_in_place(e, &en->buf);
        if (orc < 0)
            goto corrupt;
        if (orc == 1) {
            /* Plaintext from before encryption: copied, so that every
             * entry owns its memory like the opened ones. */
            void *copy = raft_malloc(en->buf.len ? en->buf.len : 8);
            if (!copy)
                goto corrupt;
            memcpy(copy, old_base, en->buf.len);
            en->buf.base = copy;
        }
        en->batch = NULL;
        if (!old_batch) {
            raft_free(old_base);
        } else if (old_batch != prev_batch) {
            if (prev_batch)
                raft_free(prev_batch);
            prev_batch = old_batch;
        }
    }
    if (prev_batch)
        raft_free(prev_batch);
    return 0;
corrupt:
    snprintf(io->errmsg, sizeof(io->errmsg),
             "raft data does not decrypt with this manager's key");
    return RAFT_CORRUPT;
}

static int w_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                   raft_io_recv_cb recv)
{
    struct raft_io *in = inner_of(io);
    return passed(io, in->start(in, msecs, tick, recv));
}

static int w_bootstrap(struct raft_io *io, const struct raft_configuration *c)
{
    struct raft_io *in = inner_of(io);
    return passed(io, in->bootstrap(in, c));
}

static int w_recover(struct raft_io *io, const struct raft_configuration *c)
{
    struct raft_io *in = inner_of(io);
    return passed(io, in->recover(in, c));
}

static int w_set_term(struct raft_io *io, raft_term term)
{
    struct raft_io *in = inner_of(io);
    return passed(io, in->set_term(in, term));
}

static int w_set_vote(struct raft_io *io, raft_id id)
{
    struct raft_io *in = inner_of(io);
    return passed(io, in->set_vote(in, id));
}

static int w_send(struct raft_io *io, struct raft_io_send *req,
                  const struct raft_message *m, raft_io_send_cb cb)
{
    struct raft_io *in = inner_of(io);
    return passed(io, in->send(in, req, m, cb));
}

/* An append in flight: the sealed copies live until it completes. */
struct append {
    struct raft_io_append req; /* the inner request */
    struct raft_io_append *outer;
    raft_io_append_cb cb;
    struct raft_entry *sealed;
    unsigned n;
};

static void append_done(struct raft_io_append *req, int status)
{
    struct append *a = req->data;
    for (unsigned i = 0; i < a->n; i++)
        raft_free(a->sealed[i].buf.base);
    free(a->sealed);
    struct raft_io_append *outer = a->outer;
    raft_io_append_cb cb = a->cb;
    free(a);
    if (cb)
        cb(outer, status);
}

static int w_append(struct raft_io *io, struct raft_io_append *req,
                    const struct raft_entry entries[], unsigned n,
                    raft_io_append_cb cb)
{
    struct encio *e = E(io);
    struct raft_io *in = inner_of(io);
    struct append *a = xcalloc(1, sizeof(*a));
    a->outer = req;
    a->cb = cb;
    req->cb = cb;
    a->req.data = a;
    a->sealed = xcalloc(n ? n : 1, sizeof(*a->sealed));
    for (unsigned i = 0; i < n; i++, a->n++) {
        a->sealed[i] = entries[i];
        a->sealed[i].batch = NULL;
        if (encio_seal(e->key, entries[i].buf.base, entries[i].buf.len,
                       &a->sealed[i].buf) != 0) {
            a->cb = NULL;
            append_done(&a->req, 0);
            return RAFT_NOMEM;
        }
    }
    int rc = in->append(in, &a->req, a->sealed, n, append_done);
    if (rc != 0) {
        a->cb = NULL;
        append_done(&a->req, 0);
    }
    return passed(io, rc);
}

static int w_truncate(struct raft_io *io, raft_index index)
{
    struct raft_io *in = inner_of(io);
    return passed(io, in->truncate(in, index));
}

struct snap_put {
    struct raft_io_snapshot_put req;
    struct raft_io_snapshot_put *outer;
    raft_io_snapshot_put_cb cb;
    struct raft_snapshot copy;
    struct raft_buffer sealed;
};

static void snap_put_done(struct raft_io_snapshot_put *req, int status)
{
    struct snap_put *p = req->data;
    raft_free(p->sealed.base);
    struct raft_io_snapshot_put *outer = p->outer;
    raft_io_snapshot_put_cb cb = p->cb;
    free(p);
    if (cb)
        cb(outer, status);
}

static int w_snapshot_put(struct raft_io *io, unsigned trailing,
                          struct raft_io_snapshot_put *req,
                          const struct raft_snapshot *snapshot,
                          raft_io_snapshot_put_cb cb)
{
    struct encio *e = E(io);
    struct raft_io *in = inner_of(io);
    /* The FSM may hand several buffers: they are sealed as one. */
    size_t len = 0;
    for (unsigned i = 0; i < snapshot->n_bufs; i++)
        len += snapshot->bufs[i].len;
    uint8_t *flat = xmalloc(len ? len : 1);
    size_t off = 0;
    for (unsigned i = 0; i < snapshot->n_bufs; i++) {
        memcpy(flat + off, snapshot->bufs[i].base, snapshot->bufs[i].len);
        off += snapshot->bufs[i].len;
    }
    struct snap_put *p = xcalloc(1, sizeof(*p));
    int rc = encio_seal(e->key, flat, len, &p->sealed);
    free(flat);
    if (rc != 0) {
        free(p);
        return rc;
    }
    p->outer = req;
    p->cb = cb;
    req->cb = cb;
    p->req.data = p;
    p->copy = *snapshot;
    p->copy.bufs = &p->sealed;
    p->copy.n_bufs = 1;
    rc = in->snapshot_put(in, trailing, &p->req, &p->copy, snap_put_done);
    if (rc != 0) {
        raft_free(p->sealed.base);
        free(p);
    }
    return passed(io, rc);
}

struct snap_get {
    struct raft_io_snapshot_get req;
    struct raft_io_snapshot_get *outer;
    raft_io_snapshot_get_cb cb;
    struct encio *e;
};

static void snap_get_done(struct raft_io_snapshot_get *req,
                          struct raft_snapshot *snapshot, int status)
{
    struct snap_get *g = req->data;
    if (status == 0 && snapshot && open_snapshot(g->e, snapshot) < 0) {
        log_error("raft: a snapshot does not decrypt with this manager's key");
        status = RAFT_CORRUPT;
    }
    struct raft_io_snapshot_get *outer = g->outer;
    raft_io_snapshot_get_cb cb = g->cb;
    free(g);
    cb(outer, snapshot, status);
}

static int w_snapshot_get(struct raft_io *io, struct raft_io_snapshot_get *req,
                          raft_io_snapshot_get_cb cb)
{
    struct raft_io *in = inner_of(io);
    struct snap_get *g = xcalloc(1, sizeof(*g));
    g->outer = req;
    g->cb = cb;
    g->e = E(io);
    req->cb = cb;
    g->req.data = g;
    int rc = in->snapshot_get(in, &g->req, snap_get_done);
    if (rc != 0)
        free(g);
    return passed(io, rc);
}

static raft_time w_time(struct raft_io *io)
{
    struct raft_io *in = inner_of(io);
    return in->time(in);
}

static int w_random(struct raft_io *io, int min, int max)
{
    struct raft_io *in = inner_of(io);
    return in->random(in, min, max);
}

static int w_async_work(struct raft_io *io, struct raft_io_async_work *req,
                        raft_io_async_work_cb cb)
{
    struct raft_io *in = inner_of(io);
    return passed(io, in->async_work(in, req, cb));
}

int encio_init(struct raft_io *outer, struct raft_io *inner,
               const uint8_t key[ENCIO_KEY_LEN])
{
    struct encio *e = xcalloc(1, sizeof(*e));
    e->inner = inner;
    memcpy(e->key, key, ENCIO_KEY_LEN);
    memset(outer, 0, sizeof(*outer));
    outer->version = inner->version;
    outer->impl = e;
    outer->init = w_init;
    outer->close = w_close;
    outer->load = w_load;
    outer->start = w_start;
    outer->bootstrap = w_bootstrap;
    outer->recover = w_recover;
    outer->set_term = w_set_term;
    outer->set_vote = w_set_vote;
    outer->send = w_send;
    outer->append = w_append;
    outer->truncate = w_truncate;
    outer->snapshot_put = w_snapshot_put;
    outer->snapshot_get = w_snapshot_get;
    outer->time = w_time;
    outer->random = w_random;
    if (inner->version >= 2)
        outer->async_work = w_async_work;
    return 0;
}

void encio_fini(struct raft_io *outer)
{
    struct encio *e = outer->impl;
    if (!e)
        return;
    OPENSSL_cleanse(e->key, sizeof(e->key));
    free(e);
    outer->impl = NULL;
}
