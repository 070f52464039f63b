// SPDX-License-Identifier: Apache-2.0
// The health prober of one container: wait the interval (or the start
// interval), run the probe in the container with its timeout, record the
// result, publish the container's State.Health, tell the agent when the
// status changes, and wait again. One probe at a time, as in Docker.
#include "agent/prober.h"

#include <stdlib.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

struct prober {
    uv_timer_t timer;
    struct runtime *rt;
    char ctr[ID_HEX_LEN + 1];
    struct health_config cfg;
    struct health_state st;
    struct ctr_exec *exec; /* the probe in flight, or NULL */
    prober_change_fn cb;
    void *data;
};

static void schedule(struct prober *p);

static void publish(struct prober *p)
{
    _cleanup_json_ json_t *j = health_state_json(&p->st);
    ctr_set_health(p->rt, p->ctr, j);
}

static void probe_done(void *data, const struct ctr_exec_result *r)
{
    struct prober *p = data;
    p->exec = NULL;
    bool changed;
    if (r->timed_out)
        changed =
            health_record_timeout(&p->st, &p->cfg, r->start_ns, r->end_ns);
    else
        changed = health_record(&p->st, &p->cfg, r->start_ns, r->end_ns,
                                r->exit_code, r->output);
    publish(p);
    log_debug("health: container %.12s probe exit %d: %s (streak %d)", p->ctr,
              r->exit_code, task_health_name(p->st.status),
              p->st.failing_streak);
    schedule(p);
    if (changed)
        p->cb(p->data, p->st.status);
}

static void on_timer(uv_timer_t *t)
{
    struct prober *p = t->data;
    struct err err = {0};
    p->exec =
        ctr_exec_start(p->rt, p->ctr, (const char *const *)p->cfg.argv,
                       p->cfg.timeout, HEALTH_MAX_OUTPUT, probe_done, p, &err);
    if (p->exec)
        return;
    /* Could not even start (the container is going away, or the runtime
     * cannot be spawned): a failed probe, as in Docker. */
    int64_t now = time_now_ns();
    bool changed = health_record(&p->st, &p->cfg, now, now, -1, err.msg);
    publish(p);
    schedule(p);
    if (changed)
        p->cb(p->data, p->st.status);
}

static void schedule(struct prober *p)
{
    int64_t delay = health_next_delay(&p->st, &p->cfg, time_now_ns());
    uv_timer_start(&p->timer, on_timer, (uint64_t)(delay / NS_PER_MS), 0);
}

struct prober *prober_start(uv_loop_t *loop, struct runtime *rt,
                            const char *ctr, struct health_config *cfg,
                            int64_t started_at, enum task_health initial,
                            prober_change_fn cb, void *data)
{
    struct prober *p = xcalloc(1, sizeof(*p));
    p->rt = rt;
    snprintf(p->ctr, sizeof(p->ctr), "%s", ctr);
    p->cfg = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    health_state_init(&p->st, started_at);
    if (initial == TASK_HEALTH_HEALTHY || initial == TASK_HEALTH_UNHEALTHY)
        p->st.status = initial;
    p->cb = cb;
    p->data = data;
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    publish(p);
    schedule(p);
    return p;
}

static void prober_closed(uv_handle_t *h)
{
    struct prober *p = h->data;
    health_config_fini(&p->cfg);
    free(p);
}

void prober_stop(struct prober *p)
{
    if (!p)
        return;
    ctr_exec_cancel(p->exec);
    p->exec = NULL;
    uv_close((uv_handle_t *)&p->timer, prober_closed);
}
