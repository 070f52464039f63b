// SPDX-License-Identifier: Apache-2.0
// /containers: the node's task containers, as docker ps / inspect / kill /
// stop see them.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_internal.h"
#include "api/events.h"
#include "base/mem.h"
#include "base/timeutil.h"

/* "SIGKILL", "KILL", "kill" or "9"; -1 if unknown. */
static int parse_signal(const char *s)
{
    if (!s || !*s)
        return SIGKILL;
    char *end;
    long n = strtol(s, &end, 10);
    if (!*end)
        return n > 0 && n < NSIG ? (int)n : -1;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (int i = 1; i < NSIG; i++) {
        const char *abbrev = sigabbrev_np(i);
        if (abbrev && strcasecmp(abbrev, s) == 0)
            return i;
    }
    return -1;
}

static const char *lookup(struct http_request *req, struct api_host *h)
{
    const char *id = ctr_lookup(h->runtime, req->params[0]);
    if (!id) {
        char msg[300];
        snprintf(msg, sizeof(msg), "No such container: %s", req->params[0]);
        http_reply_error(req, 404, msg);
    }
    return id;
}

static void list_containers(struct http_request *req, void *data)
{
    struct api_host *h = data;
    static const char *const allowed[] = {"id", "name", "label", "status",
                                          NULL};
    json_t *f = api_filters(req, allowed);
    if (!f)
        return;
    json_t *out = ctr_list_json(h->runtime, http_query_bool(req, "all"), f);
    json_decref(f);
    api_reply(req, 200, out);
}

static void inspect_container(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    json_t *j = ctr_inspect_json(h->runtime, req->params[0], &err);
    if (!j) {
        http_reply_err(req, &err);
        return;
    }
    api_reply(req, 200, j);
}

static bool require_running(struct http_request *req, struct api_host *h,
                            const char *id, const char *action)
{
    struct ctr_status st;
    if (ctr_get_status(h->runtime, id, &st) == 0 && st.state == CTR_RUNNING)
        return true;
    char msg[300];
    snprintf(msg, sizeof(msg),
             "Cannot %s container: %s: Container %s is not running", action,
             req->params[0], id);
    http_reply_error(req, 409, msg);
    return false;
}

static void kill_container(struct http_request *req, void *data)
{
    struct api_host *h = data;
    const char *id = lookup(req, h);
    if (!id)
        return;
    int sig = parse_signal(http_query(req, "signal"));
    if (sig < 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "Invalid signal: %s",
                 http_query(req, "signal"));
        http_reply_error(req, 400, msg);
        return;
    }
    if (!require_running(req, h, id, "kill"))
        return;
    struct err err = {0};
    if (ctr_kill(h->runtime, id, sig, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    char signo[16];
    snprintf(signo, sizeof(signo), "%d", sig);
    events_container(h->events, id, "kill", "signal", signo);
    http_reply_empty(req, 204);
}

static void stop_container(struct http_request *req, void *data)
{
    struct api_host *h = data;
    const char *id = lookup(req, h);
    if (!id)
        return;
    struct ctr_status st;
    if (ctr_get_status(h->runtime, id, &st) == 0 && st.state != CTR_RUNNING) {
        http_reply_empty(req, 304);
        return;
    }
    const char *t = http_query(req, "t");
    int64_t grace = t ? strtoll(t, NULL, 10) * NS_PER_SEC : 10 * NS_PER_SEC;
    const char *sigq = http_query(req, "signal");
    int sig = sigq ? parse_signal(sigq) : 0; /* 0: the container's own */
    if (sig < 0) {
        http_reply_error(req, 400, "Invalid signal");
        return;
    }
    struct err err = {0};
    if (ctr_stop(h->runtime, id, sig, grace, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    http_reply_empty(req, 204);
}

static const struct http_route routes[] = {
    {"GET", "/containers/json", list_containers},
    {"GET", "/containers/{id}/json", inspect_container},
    {"POST", "/containers/{id}/kill", kill_container},
    {"POST", "/containers/{id}/stop", stop_container},
};

void api_containers_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
