// SPDX-License-Identifier: Apache-2.0
// A raft_uv_transport over connections someone else makes: outgoing ones
// come from the dialer as connected file descriptors, incoming ones are
// handed in with rafttr_accept. Each becomes a uv_pipe_t (malloc'd, as
// libraft frees streams with raft_free).
#include "raft/transport.h"

#include <raft.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"

struct dial;

struct fd_transport {
    uv_loop_t *loop;
    raft_id id;
    const char *address;
    raft_uv_accept_cb accept_cb;
    struct raft_uv_transport *t;
    struct raftnode_dialer dialer; /* dial == NULL: no peers */
    struct dial *dials;            /* in flight */
    bool closed;
};

/* One outgoing connection attempt; outlives the transport if the dialer
 * answers after libraft closed it. */
struct dial {
    struct dial *next, **pprev;
    struct fd_transport *ft; /* NULL once orphaned */
    struct raft_uv_connect *req;
    raft_uv_connect_cb cb;
};

static void dial_unlink(struct dial *d)
{
    if (!d->pprev)
        return;
    *d->pprev = d->next;
    if (d->next)
        d->next->pprev = d->pprev;
    d->next = NULL;
    d->pprev = NULL;
}

static uv_stream_t *stream_of_fd(uv_loop_t *loop, int fd)
{
    uv_pipe_t *p = raft_malloc(sizeof(*p));
    if (!p)
        return NULL;
    uv_pipe_init(loop, p, 0);
    if (uv_pipe_open(p, fd) != 0) {
        /* Not opened: closing the handle leaves fd alone. */
        uv_close((uv_handle_t *)p, (uv_close_cb)raft_free);
        return NULL;
    }
    return (uv_stream_t *)p;
}

static void dial_done(void *data, int fd)
{
    struct dial *d = data;
    struct fd_transport *ft = d->ft;
    dial_unlink(d);
    if (!ft) {
        if (fd >= 0)
            close(fd);
        free(d);
        return;
    }
    uv_stream_t *s = fd >= 0 ? stream_of_fd(ft->loop, fd) : NULL;
    if (fd >= 0 && !s)
        close(fd);
    d->cb(d->req, s, s ? 0 : RAFT_NOCONNECTION);
    free(d);
}

static int fd_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    struct fd_transport *ft = t->impl;
    ft->id = id;
    ft->address = address;
    return 0;
}

static int fd_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct fd_transport *ft = t->impl;
    ft->accept_cb = cb;
    return 0;
}

static int fd_connect(struct raft_uv_transport *t, struct raft_uv_connect *req,
                      raft_id id, const char *address, raft_uv_connect_cb cb)
{
    struct fd_transport *ft = t->impl;
    if (!ft->dialer.dial || ft->closed)
        return RAFT_NOCONNECTION;
    struct dial *d = xcalloc(1, sizeof(*d));
    d->ft = ft;
    d->req = req;
    d->cb = cb;
    d->next = ft->dials;
    if (d->next)
        d->next->pprev = &d->next;
    d->pprev = &ft->dials;
    ft->dials = d;
    ft->dialer.dial(ft->dialer.data, id, address, dial_done, d);
    return 0;
}

static void fd_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    struct fd_transport *ft = t->impl;
    ft->closed = true;
    ft->accept_cb = NULL;
    /* libraft waits for every connect callback before it frees its
     * clients: answer them now; the dialer's late answers go nowhere. */
    while (ft->dials) {
        struct dial *d = ft->dials;
        dial_unlink(d);
        d->ft = NULL;
        d->cb(d->req, NULL, RAFT_CANCELED);
    }
    if (cb)
        cb(t);
}

void rafttr_accept(struct raft_uv_transport *t, uint64_t id,
                   const char *address, int fd)
{
    struct fd_transport *ft = t->impl;
    if (!ft || ft->closed || !ft->accept_cb) {
        close(fd);
        return;
    }
    uv_stream_t *s = stream_of_fd(ft->loop, fd);
    if (!s) {
        close(fd);
        return;
    }
    ft->accept_cb(t, id, address, s);
}

int rafttr_init(struct raft_uv_transport *t, uv_loop_t *loop,
                const struct raftnode_dialer *dialer)
{
    struct fd_transport *ft = xcalloc(1, sizeof(*ft));
    ft->loop = loop;
    ft->t = t;
    if (dialer)
        ft->dialer = *dialer;
    t->impl = ft;
    t->init = fd_init;
    t->listen = fd_listen;
    t->connect = fd_connect;
    t->close = fd_close;
    return 0;
}

void rafttr_free(struct raft_uv_transport *t)
{
    struct fd_transport *ft = t->impl;
    if (!ft)
        return;
    while (ft->dials) {
        struct dial *d = ft->dials;
        dial_unlink(d);
        d->ft = NULL;
    }
    free(ft);
    t->impl = NULL;
}
