// SPDX-License-Identifier: Apache-2.0
// Network namespaces bound to files: a thread unshares a fresh namespace,
// bind-mounts it onto the path (so it lives on without any process in it),
// brings loopback up from inside and returns to its original namespace.
#include "net/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/nl.h"

/* Runs in the namespace just created; anything else a fresh namespace
 * needs goes here. */
static int netns_setup_inside(struct err *err)
{
    if (netlink_link_up_once("lo", err) < 0)
        return err_ctx(err, "bring loopback up");
    return 0;
}

int netns_create(const char *path, struct err *err)
{
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) {
        if (errno == EEXIST)
            return err_set(err, ERR_CONFLICT,
                           "create network namespace '%s': already exists",
                           path);
        return err_sys(err, errno, "create network namespace file '%s'", path);
    }
    close(fd);

    _cleanup_close_ int orig =
        open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (orig < 0) {
        int e = errno;
        unlink(path);
        return err_sys(err, e, "open current network namespace");
    }
    if (unshare(CLONE_NEWNET) < 0) {
        int e = errno;
        unlink(path);
        return err_sys(err, e, "unshare network namespace");
    }
    int r = 0;
    if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
        r = err_sys(err, errno, "bind network namespace to '%s'", path);
    else if (netns_setup_inside(err) < 0)
        r = err_ctx(err, "set up network namespace '%s'", path);

    /* The thread must leave in the namespace it came in with: a pool
     * thread stuck in a container's namespace would poison later work. */
    if (setns(orig, CLONE_NEWNET) < 0) {
        log_error("setns back to the original network namespace: %s",
                  strerror(errno));
        abort();
    }
    if (r < 0) {
        umount2(path, MNT_DETACH);
        unlink(path);
    }
    return r;
}

int netns_delete(const char *path, struct err *err)
{
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return err_sys(err, errno, "unmount network namespace '%s'", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return err_sys(err, errno, "remove network namespace '%s'", path);
    return 0;
}

struct netns_work {
    uv_work_t req;
    char *path;
    netns_done_fn cb;
    void *data;
    struct err err;
};

static void netns_work_run(uv_work_t *req)
{
    struct netns_work *w = req->data;
    netns_create(w->path, &w->err);
}

static void netns_work_done(uv_work_t *req, int status)
{
    struct netns_work *w = req->data;
    if (status == UV_ECANCELED && !err_is_set(&w->err))
        err_set(&w->err, ERR_INTERNAL,
                "create network namespace '%s': "
                "cancelled",
                w->path);
    if (w->cb) {
        w->cb(w->data, err_is_set(&w->err) ? &w->err : NULL);
    } else if (!err_is_set(&w->err)) {
        struct err derr = {0};
        if (netns_delete(w->path, &derr) < 0)
            log_warn("%s", derr.msg);
    }
    free(w->path);
    free(w);
}

struct netns_work *netns_create_async(uv_loop_t *loop, const char *path,
                                      netns_done_fn cb, void *data,
                                      struct err *err)
{
    struct netns_work *w = xcalloc(1, sizeof(*w));
    w->req.data = w;
    w->path = xstrdup(path);
    w->cb = cb;
    w->data = data;
    int r = uv_queue_work(loop, &w->req, netns_work_run, netns_work_done);
    if (r < 0) {
        free(w->path);
        free(w);
        err_set(err, ERR_INTERNAL, "queue network namespace work: %s",
                uv_strerror(r));
        return NULL;
    }
    return w;
}

void netns_create_abandon(struct netns_work *w)
{
    if (w)
        w->cb = NULL;
}
