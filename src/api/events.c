// SPDX-License-Identifier: Apache-2.0
// GET /events: Docker's event stream. Events are recorded into a ring of
// the last EVENTS_LOG_CAP, replayed for since/until and written to every
// open stream whose filters they match. Swarm events come from the store's
// change feed, container events from the runtime (through the daemon).
#include "api/events.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/api_internal.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/vec.h"

/* Containers remembered for their destroy event at most. */
#define EVENTS_MAX_CTRS 4096

/* ---- messages ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go encodes map[string]string with sorted keys; jansson keeps insertion
 * order, so insert in sorted order. Non-string values are dropped. */
static json_t *sorted_attrs(json_t *attrs)
{
    json_t *out = json_object();
    size_t n = json_object_size(attrs);
    if (n) {
        const char **keys = xcalloc(n, sizeof(*keys));
        size_t i = 0;
        const char *k;
        json_t *v;
        json_object_foreach(attrs, k, v)
        {
            if (json_is_string(v))
                keys[i++] = k;
        }
        qsort(keys, i, sizeof(*keys), cmp_str);
        for (size_t j = 0; j < i; j++)
            json_object_set(out, keys[j], json_object_get(attrs, keys[j]));
        free(keys);
    }
    json_decref(attrs);
    return out;
}

static void put_message(json_t *m, const char *type, const char *action,
                        const char *id, json_t *attrs, const char *scope,
                        int64_t time_ns)
{
    json_t *actor = json_object();
    json_object_set_new(actor, "ID", json_string(id ? id : ""));
    json_object_set_new(actor, "Attributes", sorted_attrs(attrs));
    json_object_set_new(m, "Type", json_string(type));
    json_object_set_new(m, "Action", json_string(action));
    json_object_set_new(m, "Actor", actor);
    json_object_set_new(m, "scope", json_string(scope));
    json_object_set_new(m, "time", json_integer(time_ns / NS_PER_SEC));
    json_object_set_new(m, "timeNano", json_integer(time_ns));
}

json_t *event_msg_new(const char *type, const char *action, const char *id,
                      json_t *attrs, const char *scope, int64_t time_ns)
{
    json_t *m = json_object();
    put_message(m, type, action, id, attrs, scope, time_ns);
    return m;
}

json_t *event_container_msg_new(const char *action, const char *id,
                                const char *image, json_t *attrs,
                                int64_t time_ns)
{
    /* The legacy fields are omitempty in Go. */
    json_t *m = json_object();
    json_object_set_new(m, "status", json_string(action));
    if (id && *id)
        json_object_set_new(m, "id", json_string(id));
    if (image && *image)
        json_object_set_new(m, "from", json_string(image));
    put_message(m, "container", action, id, attrs, "local", time_ns);
    return m;
}

/* ---- the log ---- */

static void event_clear(struct event *e)
{
    json_decref(e->msg);
    free(e->wire);
    memset(e, 0, sizeof(*e));
}

void event_log_init(struct event_log *l, size_t cap)
{
    memset(l, 0, sizeof(*l));
    l->cap = cap ? cap : 1;
    l->items = xcalloc(l->cap, sizeof(*l->items));
}

void event_log_fini(struct event_log *l)
{
    for (size_t i = 0; i < l->len; i++)
        event_clear(&l->items[(l->head + i) % l->cap]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

const struct event *event_log_add(struct event_log *l, json_t *msg)
{
    struct event *e;
    if (l->len == l->cap) {
        /* The oldest slot becomes the newest. */
        e = &l->items[l->head];
        event_clear(e);
        l->head = (l->head + 1) % l->cap;
    } else {
        e = &l->items[(l->head + l->len) % l->cap];
        l->len++;
    }
    e->msg = msg;
    e->time_ns = jx_int(msg, "timeNano", 0);
    _cleanup_free_ char *text = jx_dumps(msg);
    e->wire = xasprintf("%s\n", text);
    e->len = strlen(e->wire);
    return e;
}

const struct event *event_log_at(const struct event_log *l, size_t i)
{
    return &l->items[(l->head + i) % l->cap];
}

bool event_in_window(const struct event *e, int64_t since, int64_t until)
{
    return e->time_ns >= since && e->time_ns <= until;
}

/* ---- filters ---- */

/* reference.FamiliarName of an image reference: no tag, no digest, no
 * default registry. Owned. */
static char *strip_tag(const char *image)
{
    char *s = xstrdup(image);
    char *at = strchr(s, '@');
    if (at)
        *at = '\0';
    char *slash = strrchr(s, '/');
    char *colon = strchr(slash ? slash : s, ':');
    if (colon)
        *colon = '\0';
    static const char *const prefixes[] = {"docker.io/library/", "docker.io/",
                                           "index.docker.io/library/",
                                           "index.docker.io/"};
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(s, prefixes[i], n) == 0) {
            memmove(s, s + n, strlen(s + n) + 1);
            break;
        }
    }
    return s;
}

static bool match_image(const json_t *f, const char *type, const char *id,
                        const json_t *attrs)
{
    if (!api_filter_has(f, "image"))
        return true;
    const char *name =
        jx_str0(attrs, strcmp(type, "image") == 0 ? "name" : "image");
    _cleanup_free_ char *sid = strip_tag(id);
    _cleanup_free_ char *sname = strip_tag(name);
    return api_filter_match(f, "image", id, false) ||
           api_filter_match(f, "image", name, false) ||
           api_filter_match(f, "image", sid, false) ||
           api_filter_match(f, "image", sname, false);
}

/* Exact, except for actions that carry a command ("exec_start: sh"). */
static bool match_action(const json_t *f, const char *action)
{
    bool fuzzy = false;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(f, "event"), i, v)
    {
        const char *want = json_string_value(v);
        if (want && (strcmp(want, "health_status") == 0 ||
                     strcmp(want, "exec_create") == 0 ||
                     strcmp(want, "exec_start") == 0))
            fuzzy = true;
    }
    return api_filter_match(f, "event", action, fuzzy);
}

bool event_matches(const json_t *f, const json_t *msg)
{
    if (json_object_size(f) == 0)
        return true;
    const char *type = jx_str0(msg, "Type");
    const json_t *actor = json_object_get(msg, "Actor");
    const char *id = jx_str0(actor, "ID");
    const json_t *attrs = json_object_get(actor, "Attributes");
    const char *name = jx_str0(attrs, "name");
    if (!match_action(f, jx_str0(msg, "Action")) ||
        !api_filter_match(f, "type", type, false) ||
        !api_filter_match(f, "scope", jx_str0(msg, "scope"), false))
        return false;
    /* An object filter matches the actor's ID or name by prefix, whatever
     * the event's type (so --filter service=x shows only its events). */
    static const char *const objects[] = {
        "container", "daemon",  "plugin", "volume", "network",
        "node",      "service", "secret", "config",
    };
    for (size_t i = 0; i < ARRAY_SIZE(objects); i++) {
        if (!api_filter_match(f, objects[i], id, true) &&
            !api_filter_match(f, objects[i], name, true))
            return false;
    }
    return match_image(f, type, id, attrs) &&
           api_filter_labels(f, "label", attrs);
}

int event_parse_time(const char *s, int64_t *ns, struct err *err)
{
    *ns = 0;
    if (!s || !*s)
        return 0;
    /* timetypes.ParseTimestamps: "sec" or "sec.frac". */
    const char *p = s;
    if (*p == '-')
        p++;
    if (isdigit((unsigned char)*p)) {
        errno = 0;
        char *end;
        long long sec = strtoll(s, &end, 10);
        bool ok = errno == 0 && sec > LLONG_MIN / NS_PER_SEC &&
                  sec < LLONG_MAX / NS_PER_SEC;
        int64_t frac = 0;
        if (ok && *end == '.') {
            int digits = 0;
            for (p = end + 1; isdigit((unsigned char)*p); p++) {
                if (digits < 9) {
                    frac = frac * 10 + (*p - '0');
                    digits++;
                }
            }
            ok = p > end + 1 && *p == '\0';
            for (; digits < 9; digits++)
                frac *= 10;
        } else {
            ok = ok && *end == '\0';
        }
        if (ok) {
            *ns = (int64_t)sec * NS_PER_SEC + (sec < 0 ? -frac : frac);
            return 1;
        }
    }
    if (time_parse_rfc3339(s, ns) == 0)
        return 1;
    return err_set(err, ERR_INVALID,
                   "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
}

/* ---- swarm objects ---- */

/* What an update event compares with. */
struct swarm_seen {
    char id[ID_LEN + 1];
    bool replicated;
    int64_t replicas;
    char *image;
    char *update_state; /* NULL: no UpdateStatus */
    char *availability, *role, *reachability;
    enum node_state state;
    bool manager, leader;
};

static void seen_free(struct swarm_seen *s)
{
    free(s->image);
    free(s->update_state);
    free(s->availability);
    free(s->role);
    free(s->reachability);
    free(s);
}

static struct swarm_seen *seen_new(enum store_kind kind, const void *obj)
{
    struct swarm_seen *s = xcalloc(1, sizeof(*s));
    const struct obj_meta *m = obj; /* every object starts with its meta */
    snprintf(s->id, sizeof(s->id), "%s", m->id);
    if (kind == KIND_SERVICE) {
        const struct service *svc = obj;
        s->replicated = !service_is_global(svc);
        s->replicas = service_replicas(svc);
        s->image =
            xstrdup(jx_path_str(svc->spec, "TaskTemplate.ContainerSpec.Image"));
        s->update_state = xstrdup(jx_str(svc->update_status, "State"));
    } else if (kind == KIND_NODE) {
        const struct node *n = obj;
        s->availability = xstrdup(jx_str(n->spec, "Availability"));
        s->role = xstrdup(jx_str(n->spec, "Role"));
        s->state = n->state;
        s->manager = n->manager;
        s->leader = n->leader;
        s->reachability = xstrdup(n->reachability);
    }
    return s;
}

static void seen_clear(struct event_swarm *w)
{
    const char *k;
    void *v;
    for (size_t it = 0; hmap_next(&w->seen, &it, &k, &v);) {
        hmap_del(&w->seen, k);
        seen_free(v);
    }
}

void event_swarm_init(struct event_swarm *w)
{
    hmap_init(&w->seen);
}

void event_swarm_fini(struct event_swarm *w)
{
    seen_clear(w);
    hmap_fini(&w->seen);
}

static const enum store_kind followed_kinds[] = {KIND_SERVICE, KIND_NODE,
                                                 KIND_NETWORK};

void event_swarm_seed(struct event_swarm *w, const struct store *s)
{
    seen_clear(w);
    for (size_t i = 0; s && i < ARRAY_SIZE(followed_kinds); i++) {
        void *o;
        for (size_t it = 0; store_next(s, followed_kinds[i], &it, &o);) {
            struct swarm_seen *seen = seen_new(followed_kinds[i], o);
            hmap_put(&w->seen, seen->id, seen);
        }
    }
}

/* "<what>.old" / "<what>.new" when the value changed. */
static void diff_attr(json_t *attrs, const char *what, const char *old,
                      const char *now)
{
    old = old ? old : "";
    now = now ? now : "";
    if (strcmp(old, now) == 0)
        return;
    char key[64];
    snprintf(key, sizeof(key), "%s.old", what);
    json_object_set_new(attrs, key, json_string(old));
    snprintf(key, sizeof(key), "%s.new", what);
    json_object_set_new(attrs, key, json_string(now));
}

/* daemon/events.go logServiceEvent: image, replicas, update state. */
static void diff_service(json_t *attrs, const struct swarm_seen *old,
                         const struct swarm_seen *now)
{
    if (old->image && now->image)
        diff_attr(attrs, "image", old->image, now->image);
    if (old->replicated && now->replicated && old->replicas != now->replicas) {
        char o[32], n[32];
        snprintf(o, sizeof(o), "%lld", (long long)old->replicas);
        snprintf(n, sizeof(n), "%lld", (long long)now->replicas);
        diff_attr(attrs, "replicas", o, n);
    }
    if (now->update_state) {
        if (!old->update_state)
            json_object_set_new(attrs, "updatestate.new",
                                json_string(now->update_state));
        else
            diff_attr(attrs, "updatestate", old->update_state,
                      now->update_state);
    }
}

/* logNodeEvent: availability, role, state, and for managers leadership
 * and reachability. */
static void diff_node(json_t *attrs, const struct swarm_seen *old,
                      const struct swarm_seen *now)
{
    diff_attr(attrs, "availability", old->availability, now->availability);
    diff_attr(attrs, "role", old->role, now->role);
    diff_attr(attrs, "state", node_state_name(old->state),
              node_state_name(now->state));
    if (old->manager && now->manager) {
        diff_attr(attrs, "leader", old->leader ? "true" : "false",
                  now->leader ? "true" : "false");
        diff_attr(attrs, "reachability", old->reachability, now->reachability);
    }
}

static const char *object_name(enum store_kind kind, const void *obj)
{
    switch (kind) {
    case KIND_SERVICE:
        return ((const struct service *)obj)->name;
    case KIND_NETWORK:
        return ((const struct network *)obj)->name;
    case KIND_SECRET:
    case KIND_CONFIG:
        return ((const struct secret *)obj)->name;
    case KIND_NODE: {
        const struct node *n = obj;
        const char *name = jx_str(n->spec, "Name");
        return name && *name ? name : jx_str(n->description, "Hostname");
    }
    default:
        return NULL;
    }
}

json_t *event_swarm_change(struct event_swarm *w, const struct store_event *e,
                           int64_t now_ns)
{
    const char *type;
    switch (e->kind) {
    case KIND_SERVICE:
        type = "service";
        break;
    case KIND_NODE:
        type = "node";
        break;
    case KIND_NETWORK:
        type = "network";
        break;
    case KIND_SECRET:
        type = "secret";
        break;
    case KIND_CONFIG:
        type = "config";
        break;
    default:
        return NULL; /* tasks and the cluster make no events */
    }
    const struct obj_meta *m = e->obj;
    const char *name = object_name(e->kind, e->obj);
    json_t *attrs = json_pack("{s:s}", "name", name ? name : "");
    struct swarm_seen *old = hmap_get(&w->seen, m->id);
    struct swarm_seen *now =
        e->action == STORE_DELETE ? NULL : seen_new(e->kind, e->obj);
    const char *action;
    int64_t t;
    switch (e->action) {
    case STORE_CREATE:
        action = "create";
        t = m->created_at;
        break;
    case STORE_UPDATE:
        action = "update";
        t = m->updated_at;
        if (old && e->kind == KIND_SERVICE)
            diff_service(attrs, old, now);
        else if (old && e->kind == KIND_NODE)
            diff_node(attrs, old, now);
        break;
    default:
        /* The store has no time for removals: now, like dockerd. */
        action = "remove";
        t = now_ns;
        break;
    }
    if (old) {
        hmap_del(&w->seen, m->id);
        seen_free(old);
    }
    if (now)
        hmap_put(&w->seen, now->id, now);
    return event_msg_new(type, action, m->id, attrs, "swarm",
                         t > 0 ? t : now_ns);
}

/* ---- the service ---- */

/* A container seen in earlier events: what its later events (destroy in
 * particular, when the runtime has forgotten it) are named with. */
struct ctr_seen {
    char id[ID_HEX_LEN + 1];
    char *image;
    json_t *attrs; /* labels, "image", "name" */
    bool created, exited;
};

struct events_sub {
    struct events *ev;
    struct http_request *req; /* NULL once ended or aborted */
    json_t *filters;
    int64_t since, until;
    uv_timer_t until_timer;
};

struct events {
    struct api_host *h;
    int64_t born; /* older container states are re-adoptions */
    bool closing;
    struct event_log log;
    struct event_swarm swarm;
    struct store *store; /* the store followed, or NULL */
    struct store_watch *watch;
    struct hmap ctrs; /* container id -> struct ctr_seen * */
    struct vec subs;  /* struct events_sub *: open streams */
};

static void sub_closed(uv_handle_t *h)
{
    free(h->data);
}

static void sub_free(struct events_sub *s)
{
    json_decref(s->filters);
    s->filters = NULL;
    uv_close((uv_handle_t *)&s->until_timer, sub_closed);
}

/* Ends the stream with its terminating chunk and forgets the subscriber. */
static void sub_end(struct events_sub *s)
{
    vec_remove(&s->ev->subs, s);
    struct http_request *req = s->req;
    s->req = NULL;
    if (req)
        http_stream_end(req);
    sub_free(s);
}

static void sub_aborted(struct http_request *req, void *data)
{
    (void)req;
    struct events_sub *s = data;
    s->req = NULL;
    vec_remove(&s->ev->subs, s);
    sub_free(s);
}

/* Runs the until timer for what remains of the wall-clock wait (libuv's
 * timers are monotonic and start from the loop's cached time). */
static void until_arm(struct events_sub *s);

static void until_reached(uv_timer_t *t)
{
    struct events_sub *s = t->data;
    if (time_now_ns() < s->until)
        until_arm(s);
    else
        sub_end(s);
}

static void until_arm(struct events_sub *s)
{
    int64_t left = s->until - time_now_ns();
    uint64_t ms = left > 0 ? (uint64_t)((left + NS_PER_MS - 1) / NS_PER_MS) : 0;
    uv_update_time(s->until_timer.loop);
    uv_timer_start(&s->until_timer, until_reached, ms, 0);
}

/* Writes e if the subscriber wants it; false if it must be dropped for
 * not reading what it was sent. */
static bool sub_send(struct events_sub *s, const struct event *e)
{
    if (!event_in_window(e, s->since, s->until) ||
        !event_matches(s->filters, e->msg))
        return true;
    http_stream_write(s->req, e->wire, e->len);
    return http_stream_pending(s->req) <= EVENTS_MAX_PENDING;
}

/* Records msg (stolen) and sends it to every stream that wants it. */
static void record(struct events *ev, json_t *msg)
{
    if (ev->closing) {
        json_decref(msg);
        return;
    }
    const struct event *e = event_log_add(&ev->log, msg);
    for (size_t i = 0; i < ev->subs.len;) {
        struct events_sub *s = ev->subs.items[i];
        if (sub_send(s, e)) {
            i++;
            continue;
        }
        log_warn("events: dropping a subscriber that does not read (%zu "
                 "bytes queued)",
                 http_stream_pending(s->req));
        sub_end(s); /* removes subs.items[i] */
    }
}

/* ---- swarm events ---- */

static void on_store_event(void *data, const struct store_event *e)
{
    struct events *ev = data;
    if (e->kind == KIND__COUNT) {
        /* A snapshot replaced everything: no events, just new memories. */
        event_swarm_seed(&ev->swarm, ev->store);
        return;
    }
    json_t *msg = event_swarm_change(&ev->swarm, e, time_now_ns());
    if (!msg)
        return;
    /* While the swarm is starting, raft replays its log: old news. */
    if (api_swarm_state(ev->h) != API_SWARM_ACTIVE) {
        json_decref(msg);
        return;
    }
    record(ev, msg);
}

void events_follow(struct events *ev, struct store *s)
{
    if (!ev || s == ev->store)
        return;
    if (ev->watch && ev->store)
        store_unwatch(ev->store, ev->watch);
    ev->watch = NULL;
    ev->store = s;
    if (!s)
        return;
    event_swarm_seed(&ev->swarm, s);
    ev->watch = store_watch(s, on_store_event, ev);
}

/* ---- container events ---- */

static void ctr_seen_free(struct ctr_seen *c)
{
    free(c->image);
    json_decref(c->attrs);
    free(c);
}

/* Keeps the memory of containers bounded when their destroy events never
 * come: drop an exited one, else any. */
static void ctr_evict(struct events *ev)
{
    const char *k, *victim = NULL;
    void *v;
    for (size_t it = 0; hmap_next(&ev->ctrs, &it, &k, &v);) {
        if (!victim || ((struct ctr_seen *)v)->exited) {
            victim = k;
            if (((struct ctr_seen *)v)->exited)
                break;
        }
    }
    if (victim)
        ctr_seen_free(hmap_del(&ev->ctrs, victim));
}

/* Docker's attributes of a container event: its labels, image and name. */
static struct ctr_seen *ctr_seen_get(struct events *ev, const char *id)
{
    struct ctr_seen *c = hmap_get(&ev->ctrs, id);
    if (c)
        return c;
    c = xcalloc(1, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", id);
    c->attrs = json_object();
    struct err err = {0};
    struct runtime *rt = ev->h->runtime;
    _cleanup_json_ json_t *info = rt ? ctr_inspect_json(rt, id, &err) : NULL;
    if (info) {
        json_t *labels = ctr_labels(rt, id);
        const char *k;
        json_t *v;
        json_object_foreach(labels, k, v)
        {
            if (json_is_string(v))
                json_object_set(c->attrs, k, v);
        }
        const char *name = jx_str0(info, "Name");
        c->image = xstrdup(jx_path_str(info, "Config.Image"));
        json_object_set_new(c->attrs, "image",
                            json_string(c->image ? c->image : ""));
        json_object_set_new(c->attrs, "name",
                            json_string(name[0] == '/' ? name + 1 : name));
    }
    if (hmap_count(&ev->ctrs) >= EVENTS_MAX_CTRS)
        ctr_evict(ev);
    hmap_put(&ev->ctrs, c->id, c);
    return c;
}

static void ctr_record(struct events *ev, const struct ctr_seen *c,
                       const char *action, const char *k1, const char *v1,
                       const char *k2, const char *v2)
{
    json_t *attrs = json_copy(c->attrs);
    if (k1)
        json_object_set_new(attrs, k1, json_string(v1 ? v1 : ""));
    if (k2)
        json_object_set_new(attrs, k2, json_string(v2 ? v2 : ""));
    record(ev, event_container_msg_new(action, c->id, c->image, attrs,
                                       time_now_ns()));
}

static void ctr_created(struct events *ev, struct ctr_seen *c)
{
    if (c->created)
        return;
    c->created = true;
    ctr_record(ev, c, "create", NULL, NULL, NULL, NULL);
}

void events_container_state(struct events *ev, const char *id,
                            const struct ctr_status *st)
{
    if (!ev || ev->closing)
        return;
    int64_t latest = st->created_at;
    if (st->started_at > latest)
        latest = st->started_at;
    if (st->finished_at > latest)
        latest = st->finished_at;
    if (latest < ev->born)
        return; /* re-adopted after a restart: nothing happened */
    struct ctr_seen *c = ctr_seen_get(ev, id);
    /* Without a create event from the runtime, the first state of a
     * container made by this daemon implies one. */
    bool new_here = st->created_at >= ev->born;
    switch (st->state) {
    case CTR_CREATED:
        ctr_created(ev, c);
        break;
    case CTR_RUNNING:
        if (new_here)
            ctr_created(ev, c);
        ctr_record(ev, c, "start", NULL, NULL, NULL, NULL);
        break;
    case CTR_EXITED: {
        if (c->exited)
            break;
        if (new_here)
            ctr_created(ev, c);
        c->exited = true;
        if (st->oom_killed)
            ctr_record(ev, c, "oom", NULL, NULL, NULL, NULL);
        char code[16], dur[32];
        snprintf(code, sizeof(code), "%d", st->exit_code);
        int64_t ran = st->started_at && st->finished_at > st->started_at
                          ? st->finished_at - st->started_at
                          : 0;
        snprintf(dur, sizeof(dur), "%lld", (long long)(ran / NS_PER_SEC));
        ctr_record(ev, c, "die", "execDuration", dur, "exitCode", code);
        break;
    }
    }
}

void events_container(struct events *ev, const char *id, const char *action,
                      const char *attr_key, const char *attr_value)
{
    if (!ev || ev->closing || !id || !action)
        return;
    struct ctr_seen *c = ctr_seen_get(ev, id);
    if (strcmp(action, "create") == 0) {
        ctr_created(ev, c);
        return;
    }
    ctr_record(ev, c, action, attr_key, attr_value, NULL, NULL);
    if (strcmp(action, "destroy") == 0)
        ctr_seen_free(hmap_del(&ev->ctrs, c->id));
}

/* ---- volume events ---- */

void events_volume(struct events *ev, const char *action, const char *name,
                   const char *driver, const char *container)
{
    if (!ev || ev->closing || !action)
        return;
    json_t *attrs = json_object();
    if (strcmp(action, "prune") == 0) {
        json_object_set_new(attrs, "reclaimed",
                            json_string(driver ? driver : "0"));
    } else {
        json_object_set_new(attrs, "driver",
                            json_string(driver ? driver : "local"));
        if (container)
            json_object_set_new(attrs, "container", json_string(container));
    }
    record(ev, event_msg_new("volume", action, name ? name : "", attrs, "local",
                             time_now_ns()));
}

/* ---- lifecycle ---- */

struct events *events_new(struct api_host *h)
{
    struct events *ev = xcalloc(1, sizeof(*ev));
    ev->h = h;
    ev->born = time_now_ns();
    event_log_init(&ev->log, EVENTS_LOG_CAP);
    event_swarm_init(&ev->swarm);
    hmap_init(&ev->ctrs);
    vec_init(&ev->subs);
    return ev;
}

static void events_free(struct events *ev)
{
    event_log_fini(&ev->log);
    event_swarm_fini(&ev->swarm);
    const char *k;
    void *v;
    for (size_t it = 0; hmap_next(&ev->ctrs, &it, &k, &v);) {
        hmap_del(&ev->ctrs, k);
        ctr_seen_free(v);
    }
    hmap_fini(&ev->ctrs);
    vec_fini(&ev->subs);
    free(ev);
}

void events_close(struct events *ev)
{
    if (!ev)
        return;
    ev->closing = true;
    while (ev->subs.len)
        sub_end(ev->subs.items[ev->subs.len - 1]);
    events_follow(ev, NULL);
    events_free(ev);
}

/* ---- GET /events ---- */

static void get_events(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct events *ev = h->events;
    if (!ev || ev->closing) {
        http_reply_error(req, 503, "the event service is not running");
        return;
    }
    struct err err = {0};
    const char *qsince = http_query(req, "since");
    const char *quntil = http_query(req, "until");
    int64_t since = 0, until = 0;
    int has_since = event_parse_time(qsince, &since, &err);
    int has_until = has_since < 0 ? -1 : event_parse_time(quntil, &until, &err);
    if (has_since < 0 || has_until < 0) {
        http_reply_err(req, &err);
        return;
    }
    if (has_since && has_until && until < since) {
        err_set(&err, ERR_INVALID,
                "`since` time (%s) cannot be after `until` time (%s)", qsince,
                quntil);
        http_reply_err(req, &err);
        return;
    }
    static const char *const allowed[] = {
        "config", "container", "daemon", "event",  "image",
        "label",  "network",   "node",   "plugin", "scope",
        "secret", "service",   "type",   "volume", NULL,
    };
    json_t *filters = api_filters(req, allowed);
    if (!filters)
        return;

    struct events_sub *s = xcalloc(1, sizeof(*s));
    s->ev = ev;
    s->req = req;
    s->filters = filters;
    s->since = has_since ? since : INT64_MIN;
    s->until = has_until ? until : INT64_MAX;
    uv_timer_init(h->loop, &s->until_timer);
    s->until_timer.data = s;
    http_stream_begin(req, 200, "application/json", sub_aborted, s);
    if (has_since || has_until) {
        for (size_t i = 0; i < ev->log.len; i++) {
            const struct event *e = event_log_at(&ev->log, i);
            if (event_in_window(e, s->since, s->until) &&
                event_matches(s->filters, e->msg))
                http_stream_write(req, e->wire, e->len);
        }
    }
    int64_t now = time_now_ns();
    if (has_until && until <= now) {
        sub_end(s);
        return;
    }
    vec_push(&ev->subs, s);
    if (has_until)
        until_arm(s);
}

static const struct http_route routes[] = {
    {"GET", "/events", get_events},
};

void api_events_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
