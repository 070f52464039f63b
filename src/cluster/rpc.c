// SPDX-License-Identifier: Apache-2.0
// JSON calls between nodes over tlsconn (see rpc.h): the server's method
// table with its access rules, server pushes for sessions, a client with
// pending calls and timeouts, and the raft stream handshake.
#include "cluster/rpc.h"

#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"

#define DIAL_TIMEOUT_MS 5000

int rpc_split_address(const char *address, char *host, size_t size,
                      uint16_t *port, uint16_t def, struct err *err)
{
    const char *colon = NULL;
    const char *h = address;
    size_t hlen;
    if (address[0] == '[') {
        const char *end = strchr(address, ']');
        if (!end)
            return err_set(err, ERR_INVALID, "invalid address '%s'", address);
        h = address + 1;
        hlen = (size_t)(end - h);
        if (end[1] == ':')
            colon = end + 1;
        else if (end[1])
            return err_set(err, ERR_INVALID, "invalid address '%s'", address);
    } else {
        colon = strrchr(address, ':');
        if (colon && strchr(address, ':') != colon)
            colon = NULL; /* a bare IPv6 address */
        hlen = colon ? (size_t)(colon - address) : strlen(address);
    }
    if (hlen == 0 || hlen >= size)
        return err_set(err, ERR_INVALID, "invalid address '%s'", address);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = def;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (*end || p <= 0 || p > 65535)
            return err_set(err, ERR_INVALID, "invalid port in address '%s'",
                           address);
        *port = (uint16_t)p;
    }
    return 0;
}

static int send_json(struct tlsconn *c, uint8_t type, const json_t *j)
{
    _cleanup_free_ char *text = jx_dumps(j);
    return tlsconn_send(c, type, text, strlen(text));
}

/* ---- server ---- */

struct rpc_conn {
    struct rpc_server *s;
    struct tlsconn *tc; /* NULL once closed */
    struct rpc_conn *next, **pprev;
    bool has_peer;
    struct pki_identity peer;
    void (*watch)(void *data);
    void *watch_data;
    int refs; /* the connection itself + calls in flight */
};

struct rpc_call {
    struct rpc_conn *conn;
    json_t *id;
};

struct rpc_server {
    struct rpc_server_config cfg;
    char *cluster_id;
    struct tlslistener *l;
    struct rpc_conn *conns;
};

static void conn_unref(struct rpc_conn *c)
{
    if (--c->refs == 0)
        free(c);
}

static void srv_ready(struct tlsconn *tc, void *data)
{
    struct rpc_conn *c = data;
    SSL *ssl = tlsconn_ssl(tc);
    X509 *cert = SSL_get0_peer_certificate(ssl);
    struct err err = {0};
    if (cert && SSL_get_verify_result(ssl) == X509_V_OK &&
        pki_x509_identity(cert, &c->peer, &err) == 0 &&
        strcmp(c->peer.cluster_id, c->s->cluster_id) == 0)
        c->has_peer = true;
}

static const char *access_denied(struct rpc_conn *c, enum rpc_access access)
{
    if (access == RPC_ANYONE)
        return NULL;
    if (!c->has_peer)
        return "Permission denied: no valid certificate of this swarm";
    if (c->s->cfg.peer_ok && !c->s->cfg.peer_ok(c->s->cfg.data, &c->peer))
        return "Permission denied: node is not a member of this swarm "
               "(removed?)";
    if (access == RPC_MANAGER && strcmp(c->peer.ou, PKI_OU_MANAGER) != 0)
        return "Permission denied: unauthorized peer role: rpc error: code "
               "= PermissionDenied desc = Permission denied: remote "
               "certificate not part of organizational unit "
               "swarm-manager";
    return NULL;
}

static void srv_json(struct rpc_conn *c, const json_t *msg)
{
    const char *method = jx_str(msg, "method");
    json_t *id = json_object_get(msg, "id");
    if (!method || !id)
        return; /* servers get no pushes */
    struct rpc_call *call = xcalloc(1, sizeof(*call));
    call->conn = c;
    call->id = json_incref(id);
    c->refs++;
    struct err err = {0};
    const struct rpc_method *m = NULL;
    for (size_t i = 0; i < c->s->cfg.n_methods; i++)
        if (strcmp(c->s->cfg.methods[i].name, method) == 0)
            m = &c->s->cfg.methods[i];
    if (!m) {
        err_set(&err, ERR_NOTFOUND, "unknown method '%s'", method);
        rpc_reply(call, NULL, &err);
        return;
    }
    const char *why = access_denied(c, m->access);
    if (why) {
        log_warn("cluster: %s from %s refused: %s", method, tlsconn_peer(c->tc),
                 why);
        err_set(&err, ERR_FORBIDDEN, "%s", why);
        rpc_reply(call, NULL, &err);
        return;
    }
    json_t *params = json_object_get(msg, "params");
    _cleanup_json_ json_t *empty = params ? NULL : json_object();
    m->fn(c->s->cfg.data, call, params ? params : empty);
}

static void srv_raft(struct rpc_conn *c, const json_t *hello)
{
    const char *why = access_denied(c, RPC_MANAGER);
    /* Raft ids use all 64 bits: sent as a decimal string. */
    const char *id_text = jx_str(hello, "id");
    uint64_t id = id_text ? strtoull(id_text, NULL, 10) : 0;
    const char *address = jx_str(hello, "address");
    if (why || id == 0 || !address || !c->s->cfg.on_raft) {
        log_warn("cluster: raft stream from %s refused: %s",
                 tlsconn_peer(c->tc), why ? why : "bad hello");
        tlsconn_close(c->tc);
        return;
    }
    struct err err = {0};
    int fd = tlsconn_splice(c->tc, &err);
    if (fd < 0) {
        log_warn("cluster: raft stream: %s", err.msg);
        tlsconn_close(c->tc);
        return;
    }
    c->s->cfg.on_raft(c->s->cfg.data, id, address, fd);
}

static void srv_message(struct tlsconn *tc, void *data, uint8_t type,
                        const void *payload, size_t len)
{
    struct rpc_conn *c = data;
    _cleanup_json_ json_t *msg = json_loadb(payload, len, 0, NULL);
    if (!json_is_object(msg)) {
        log_warn("cluster: malformed message from %s", tlsconn_peer(tc));
        tlsconn_close(tc);
        return;
    }
    if (type == RPC_FRAME_JSON)
        srv_json(c, msg);
    else if (type == RPC_FRAME_RAFT)
        srv_raft(c, msg);
    else
        tlsconn_close(tc);
}

static void srv_close(struct tlsconn *tc, void *data, const struct err *err)
{
    (void)tc;
    struct rpc_conn *c = data;
    if (err)
        log_debug("cluster: connection closed: %s", err->msg);
    c->tc = NULL;
    if (c->pprev) {
        *c->pprev = c->next;
        if (c->next)
            c->next->pprev = c->pprev;
        c->pprev = NULL;
    }
    void (*watch)(void *) = c->watch;
    c->watch = NULL;
    if (watch)
        watch(c->watch_data);
    conn_unref(c);
}

static const struct tlsconn_ops srv_ops = {
    .on_ready = srv_ready,
    .on_message = srv_message,
    .on_close = srv_close,
};

static bool srv_accept(void *data, struct tlsconn *tc,
                       const struct tlsconn_ops **ops, void **conn_data)
{
    struct rpc_server *s = data;
    struct rpc_conn *c = xcalloc(1, sizeof(*c));
    c->s = s;
    c->tc = tc;
    c->refs = 1;
    c->next = s->conns;
    if (c->next)
        c->next->pprev = &c->next;
    c->pprev = &s->conns;
    s->conns = c;
    *ops = &srv_ops;
    *conn_data = c;
    return true;
}

struct rpc_server *rpc_server_new(const struct rpc_server_config *cfg,
                                  struct err *err)
{
    struct rpc_server *s = xcalloc(1, sizeof(*s));
    s->cfg = *cfg;
    s->cluster_id = xstrdup(cfg->cluster_id);
    s->l = tlslistener_new(cfg->loop, cfg->addr, cfg->port, cfg->ctx,
                           srv_accept, s, err);
    if (!s->l) {
        free(s->cluster_id);
        free(s);
        return NULL;
    }
    return s;
}

uint16_t rpc_server_port(const struct rpc_server *s)
{
    return tlslistener_port(s->l);
}

void rpc_server_set_ctx(struct rpc_server *s, SSL_CTX *ctx)
{
    tlslistener_set_ctx(s->l, ctx);
}

void rpc_server_free(struct rpc_server *s)
{
    if (!s)
        return;
    tlslistener_close(s->l);
    for (struct rpc_conn *c = s->conns; c; c = c->next) {
        c->s = NULL;
        if (c->tc)
            tlsconn_close(c->tc);
    }
    /* The connections unlink themselves in srv_close; none may point back
     * at the server any more. */
    for (struct rpc_conn *c = s->conns; c; c = c->next)
        c->pprev = NULL;
    s->conns = NULL;
    free(s->cluster_id);
    free(s);
}

const struct pki_identity *rpc_call_peer(const struct rpc_call *call)
{
    return call->conn->has_peer ? &call->conn->peer : NULL;
}

struct rpc_conn *rpc_call_conn(struct rpc_call *call)
{
    return call->conn;
}

void rpc_reply(struct rpc_call *call, const json_t *result,
               const struct err *err)
{
    struct rpc_conn *c = call->conn;
    if (c->tc) {
        json_t *msg = json_pack("{s:O}", "id", call->id);
        if (err)
            json_object_set_new(msg, "error",
                                json_pack("{s:i, s:s}", "code", err->code,
                                          "message", err->msg));
        else
            json_object_set_new(msg, "result",
                                result ? json_incref((json_t *)result)
                                       : json_object());
        send_json(c->tc, RPC_FRAME_JSON, msg);
        json_decref(msg);
    }
    json_decref(call->id);
    free(call);
    conn_unref(c);
}

int rpc_conn_push(struct rpc_conn *c, const char *method, json_t *params)
{
    if (!c->tc) {
        json_decref(params);
        return -1;
    }
    json_t *msg = json_pack("{s:s, s:o}", "method", method, "params",
                            params ? params : json_object());
    int rc = send_json(c->tc, RPC_FRAME_JSON, msg);
    json_decref(msg);
    return rc;
}

int rpc_conn_push_raw(struct rpc_conn *c, const void *text, size_t len)
{
    return c->tc ? tlsconn_send(c->tc, RPC_FRAME_JSON, text, len) : -1;
}

void rpc_conn_watch(struct rpc_conn *c, void (*fn)(void *data), void *data)
{
    c->watch = fn;
    c->watch_data = data;
}

const struct pki_identity *rpc_conn_peer(const struct rpc_conn *c)
{
    return c->has_peer ? &c->peer : NULL;
}

void rpc_conn_close(struct rpc_conn *c)
{
    if (c->tc)
        tlsconn_close(c->tc);
}

/* ---- client ---- */

struct pending {
    struct pending *next, **pprev;
    struct rpc_client *c;
    json_int_t id;
    char *text; /* the request, until sent */
    rpc_result_fn cb;
    void *data;
    uv_timer_t timer;
    bool timing;
};

struct rpc_client {
    uv_loop_t *loop;
    struct tlsconn *tc; /* NULL once closed */
    char *address;
    struct rpc_client_ops ops;
    void *data;
    bool ready;
    char *verify_error;
    json_int_t next_id;
    struct pending *pending;
};

static void pending_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Unlinks p, runs its callback, frees it. */
static void pending_finish(struct pending *p, const struct err *err,
                           const json_t *result)
{
    if (p->pprev) {
        *p->pprev = p->next;
        if (p->next)
            p->next->pprev = p->pprev;
        p->pprev = NULL;
    }
    free(p->text);
    p->text = NULL;
    rpc_result_fn cb = p->cb;
    p->cb = NULL;
    if (cb)
        cb(p->data, err, result);
    if (p->timing) {
        uv_timer_stop(&p->timer);
        uv_close((uv_handle_t *)&p->timer, pending_closed);
    } else {
        free(p);
    }
}

static void fail_all(struct rpc_client *c, const char *why)
{
    struct err err = {0};
    err_set(&err, ERR_UNAVAILABLE,
            "rpc error: code = Unavailable desc = connection to %s: %s",
            c->address, why);
    while (c->pending)
        pending_finish(c->pending, &err, NULL);
}

static void cli_ready(struct tlsconn *tc, void *data)
{
    struct rpc_client *c = data;
    c->ready = true;
    for (struct pending *p = c->pending; p; p = p->next)
        if (p->text) {
            tlsconn_send(tc, RPC_FRAME_JSON, p->text, strlen(p->text));
            free(p->text);
            p->text = NULL;
        }
}

static void cli_message(struct tlsconn *tc, void *data, uint8_t type,
                        const void *payload, size_t len)
{
    struct rpc_client *c = data;
    _cleanup_json_ json_t *msg = json_loadb(payload, len, 0, NULL);
    if (type != RPC_FRAME_JSON || !json_is_object(msg)) {
        tlsconn_close(tc);
        return;
    }
    json_t *id = json_object_get(msg, "id");
    if (!id) {
        const char *method = jx_str(msg, "method");
        if (method && c->ops.on_push)
            c->ops.on_push(c->data, method, json_object_get(msg, "params"));
        return;
    }
    json_int_t n = json_integer_value(id);
    struct pending *p = c->pending;
    while (p && p->id != n)
        p = p->next;
    if (!p)
        return; /* timed out already */
    json_t *e = json_object_get(msg, "error");
    if (e) {
        struct err err = {0};
        err_set(&err, (int)jx_int(e, "code", ERR_INTERNAL), "%s",
                jx_str(e, "message") ? jx_str(e, "message") : "error");
        pending_finish(p, &err, NULL);
    } else {
        pending_finish(p, NULL, json_object_get(msg, "result"));
    }
}

static void cli_close(struct tlsconn *tc, void *data, const struct err *err)
{
    struct rpc_client *c = data;
    SSL *ssl = tlsconn_ssl(tc);
    const char *why = ssl ? pki_verify_error(ssl) : NULL;
    if (why && *why)
        c->verify_error = xstrdup(why);
    c->tc = NULL;
    fail_all(c, c->verify_error ? c->verify_error : err ? err->msg : "closed");
    if (c->ops.on_close)
        c->ops.on_close(c->data, err);
}

static const struct tlsconn_ops cli_ops = {
    .on_ready = cli_ready,
    .on_message = cli_message,
    .on_close = cli_close,
};

static void orphan_close(struct tlsconn *tc, void *data, const struct err *err)
{
    (void)tc;
    (void)data;
    (void)err;
}

static void orphan_message(struct tlsconn *tc, void *data, uint8_t type,
                           const void *payload, size_t len)
{
    (void)tc;
    (void)data;
    (void)type;
    (void)payload;
    (void)len;
}

static const struct tlsconn_ops orphan_ops = {
    .on_message = orphan_message,
    .on_close = orphan_close,
};

struct rpc_client *rpc_client_new(uv_loop_t *loop, const char *address,
                                  SSL_CTX *ctx,
                                  const struct rpc_client_ops *ops, void *data,
                                  struct err *err)
{
    char host[256];
    uint16_t port;
    if (rpc_split_address(address, host, sizeof(host), &port, 4377, err) < 0)
        return NULL;
    struct rpc_client *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->address = xstrdup(address);
    if (ops)
        c->ops = *ops;
    c->data = data;
    c->next_id = 1;
    c->tc = tlsconn_connect(loop, host, port, ctx, DIAL_TIMEOUT_MS, &cli_ops, c,
                            err);
    if (!c->tc) {
        free(c->address);
        free(c);
        return NULL;
    }
    return c;
}

static void call_timeout(uv_timer_t *t)
{
    struct pending *p = t->data;
    struct err err = {0};
    err_set(&err, ERR_UNAVAILABLE,
            "rpc error: code = DeadlineExceeded desc = no answer from %s",
            p->c->address);
    pending_finish(p, &err, NULL);
}

void rpc_client_call(struct rpc_client *c, const char *method, json_t *params,
                     unsigned timeout_ms, rpc_result_fn cb, void *data)
{
    struct pending *p = xcalloc(1, sizeof(*p));
    p->c = c;
    p->id = c->next_id++;
    p->cb = cb;
    p->data = data;
    json_t *msg = json_pack("{s:I, s:s, s:o}", "id", p->id, "method", method,
                            "params", params ? params : json_object());
    p->text = jx_dumps(msg);
    json_decref(msg);
    p->next = c->pending;
    if (p->next)
        p->next->pprev = &p->next;
    p->pprev = &c->pending;
    c->pending = p;
    if (timeout_ms) {
        uv_timer_init(c->loop, &p->timer);
        p->timer.data = p;
        p->timing = true;
        uv_timer_start(&p->timer, call_timeout, timeout_ms, 0);
    }
    if (!c->tc) {
        struct err err = {0};
        err_set(&err, ERR_UNAVAILABLE,
                "rpc error: code = Unavailable desc = connection to %s is "
                "closed",
                c->address);
        pending_finish(p, &err, NULL);
        return;
    }
    if (c->ready) {
        tlsconn_send(c->tc, RPC_FRAME_JSON, p->text, strlen(p->text));
        free(p->text);
        p->text = NULL;
    }
}

bool rpc_client_alive(const struct rpc_client *c)
{
    return c && c->tc;
}

const char *rpc_client_address(const struct rpc_client *c)
{
    return c->address;
}

const char *rpc_client_verify_error(const struct rpc_client *c)
{
    return c->verify_error;
}

SSL *rpc_client_ssl(struct rpc_client *c)
{
    return c->tc && c->ready ? tlsconn_ssl(c->tc) : NULL;
}

void rpc_client_free(struct rpc_client *c)
{
    if (!c)
        return;
    if (c->tc) {
        tlsconn_set_ops(c->tc, &orphan_ops, NULL);
        tlsconn_close(c->tc);
        c->tc = NULL;
    }
    fail_all(c, "closed");
    free(c->verify_error);
    free(c->address);
    free(c);
}

/* ---- raft streams ---- */

struct dial {
    uv_timer_t later; /* reports a failure on a fresh loop turn */
    struct tlsconn *tc;
    void (*done)(void *req, int fd);
    void *req;
    uint64_t self_id;
    char *self_address;
    bool reported;
};

static void dial_report(struct dial *d, int fd)
{
    if (d->reported)
        return;
    d->reported = true;
    d->done(d->req, fd);
}

static void dial_free_cb(uv_handle_t *h)
{
    struct dial *d = h->data;
    free(d->self_address);
    free(d);
}

static void dial_ready(struct tlsconn *tc, void *data)
{
    struct dial *d = data;
    char id[24];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)d->self_id);
    json_t *hello =
        json_pack("{s:s, s:s}", "id", id, "address", d->self_address);
    send_json(tc, RPC_FRAME_RAFT, hello);
    json_decref(hello);
    struct err err = {0};
    int fd = tlsconn_splice(tc, &err);
    if (fd < 0) {
        log_warn("cluster: raft stream: %s", err.msg);
        tlsconn_close(tc);
        return;
    }
    dial_report(d, fd);
}

static void dial_close(struct tlsconn *tc, void *data, const struct err *err)
{
    (void)tc;
    struct dial *d = data;
    if (!d->reported && err)
        log_debug("cluster: raft dial: %s", err->msg);
    dial_report(d, -1);
    uv_close((uv_handle_t *)&d->later, dial_free_cb);
}

static const struct tlsconn_ops dial_ops = {
    .on_ready = dial_ready,
    .on_message = orphan_message,
    .on_close = dial_close,
};

static void dial_later(uv_timer_t *t)
{
    struct dial *d = t->data;
    dial_report(d, -1);
    uv_close((uv_handle_t *)&d->later, dial_free_cb);
}

void rpc_raft_dial(uv_loop_t *loop, SSL_CTX *ctx, const char *address,
                   uint64_t self_id, const char *self_address,
                   void (*done)(void *req, int fd), void *req)
{
    struct dial *d = xcalloc(1, sizeof(*d));
    d->done = done;
    d->req = req;
    d->self_id = self_id;
    d->self_address = xstrdup(self_address);
    uv_timer_init(loop, &d->later);
    d->later.data = d;
    char host[256];
    uint16_t port;
    struct err err = {0};
    if (rpc_split_address(address, host, sizeof(host), &port, 4377, &err) ==
            0 &&
        (d->tc = tlsconn_connect(loop, host, port, ctx, DIAL_TIMEOUT_MS,
                                 &dial_ops, d, &err)) != NULL)
        return;
    log_debug("cluster: raft dial %s: %s", address, err.msg);
    uv_timer_start(&d->later, dial_later, 0, 0);
}
