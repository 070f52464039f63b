// SPDX-License-Identifier: Apache-2.0
// Unit tests for the event stream: the ring and its since/until window,
// Docker's JSON shapes (byte for byte against the docker-cli trace), the
// filters, timestamps, swarm changes into events (through a real store),
// the CLI's lines, times and --format fields, and GET /events end to end
// on an in-memory host (replay, live, until timer, disconnects, a
// subscriber that does not read, shutdown).
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "api/events.h"
#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli_events.h"
#include "api/api.h"
#include "store/store.h"
#include "store/txn.h"

/* Lines of trace 07 (docker CLI 28.2.2 <-> dockerd 20.10.24). */
static const char trace_service[] =
    "{\"Type\":\"service\",\"Action\":\"create\",\"Actor\":{\"ID\":"
    "\"zbsg5t9bx7t6sv8yjajuugjrj\",\"Attributes\":{\"name\":\"evtest\"}},"
    "\"scope\":\"swarm\",\"time\":1795754133,\"timeNano\":"
    "1795754133047157865}";
static const char trace_container[] =
    "{\"status\":\"create\",\"id\":"
    "\"98d5f8a6af438bec66435ec31f8f0449f8b3a6aa2d5968f2060bcda8654a989f\","
    "\"from\":\"bb:latest\",\"Type\":\"container\",\"Action\":\"create\","
    "\"Actor\":{\"ID\":"
    "\"98d5f8a6af438bec66435ec31f8f0449f8b3a6aa2d5968f2060bcda8654a989f\","
    "\"Attributes\":{\"com.docker.swarm.node.id\":"
    "\"s6uyjs3s1yyllx9jdb7aw68f4\",\"com.docker.swarm.service.id\":"
    "\"zbsg5t9bx7t6sv8yjajuugjrj\",\"com.docker.swarm.service.name\":"
    "\"evtest\",\"com.docker.swarm.task\":\"\",\"com.docker.swarm.task.id\":"
    "\"mamjkbhi72wdb2u6g1jfi4izv\",\"com.docker.swarm.task.name\":"
    "\"evtest.1.mamjkbhi72wdb2u6g1jfi4izv\",\"image\":\"bb:latest\","
    "\"name\":\"evtest.1.mamjkbhi72wdb2u6g1jfi4izv\"}},\"scope\":\"local\","
    "\"time\":1795754133,\"timeNano\":1795754133234973730}";
static const char trace_container_line[] =
    "2026-11-27T04:35:33.234973730Z container create "
    "98d5f8a6af438bec66435ec31f8f0449f8b3a6aa2d5968f2060bcda8654a989f "
    "(com.docker.swarm.node.id=s6uyjs3s1yyllx9jdb7aw68f4, "
    "com.docker.swarm.service.id=zbsg5t9bx7t6sv8yjajuugjrj, "
    "com.docker.swarm.service.name=evtest, com.docker.swarm.task=, "
    "com.docker.swarm.task.id=mamjkbhi72wdb2u6g1jfi4izv, "
    "com.docker.swarm.task.name=evtest.1.mamjkbhi72wdb2u6g1jfi4izv, "
    "image=bb:latest, name=evtest.1.mamjkbhi72wdb2u6g1jfi4izv)\n";

static json_t *trace_container_attrs(void)
{
    /* Deliberately not in key order: the message must sort them. */
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name",
        "evtest.1.mamjkbhi72wdb2u6g1jfi4izv", "image", "bb:latest",
        "com.docker.swarm.task.name", "evtest.1.mamjkbhi72wdb2u6g1jfi4izv",
        "com.docker.swarm.task.id", "mamjkbhi72wdb2u6g1jfi4izv",
        "com.docker.swarm.task", "", "com.docker.swarm.service.name", "evtest",
        "com.docker.swarm.service.id", "zbsg5t9bx7t6sv8yjajuugjrj",
        "com.docker.swarm.node.id", "s6uyjs3s1yyllx9jdb7aw68f4");
}

static json_t *svc_msg(const char *action, const char *id, const char *name,
                       int64_t t)
{
    return event_msg_new("service", action, id,
                         json_pack("{s:s}", "name", name), "swarm", t);
}

/* ---- messages ---- */

static void test_message_shapes(void)
{
    _cleanup_json_ json_t *m = svc_msg("create", "zbsg5t9bx7t6sv8yjajuugjrj",
                                       "evtest", 1795754133047157865LL);
    _cleanup_free_ char *s = jx_dumps(m);
    CHECK_STR(s, trace_service);

    _cleanup_json_ json_t *c = event_container_msg_new(
        "create",
        "98d5f8a6af438bec66435ec31f8f0449f8b3a6aa2d5968f2060bcda8654a989f",
        "bb:latest", trace_container_attrs(), 1795754133234973730LL);
    _cleanup_free_ char *cs = jx_dumps(c);
    CHECK_STR(cs, trace_container);

    /* The legacy fields are omitempty; no attributes is {}. */
    _cleanup_json_ json_t *bare =
        event_container_msg_new("destroy", "abc", "", NULL, 5 * NS_PER_SEC);
    _cleanup_free_ char *bs = jx_dumps(bare);
    CHECK_STR(bs, "{\"status\":\"destroy\",\"id\":\"abc\",\"Type\":"
                  "\"container\",\"Action\":\"destroy\",\"Actor\":{\"ID\":"
                  "\"abc\",\"Attributes\":{}},\"scope\":\"local\",\"time\":5,"
                  "\"timeNano\":5000000000}");
}

/* ---- the ring ---- */

static void test_log_ring(void)
{
    struct event_log l;
    event_log_init(&l, 4);
    for (int i = 1; i <= 6; i++) {
        char id[8];
        snprintf(id, sizeof(id), "s%d", i);
        const struct event *e =
            event_log_add(&l, svc_msg("create", id, id, i * NS_PER_SEC));
        CHECK_INT(e->time_ns, i * NS_PER_SEC);
        CHECK(e->len == strlen(e->wire) && e->wire[e->len - 1] == '\n');
    }
    /* The oldest two are gone; order is oldest first. */
    CHECK_INT(l.len, 4);
    for (size_t i = 0; i < l.len; i++)
        CHECK_INT(event_log_at(&l, i)->time_ns, (int64_t)(i + 3) * NS_PER_SEC);
    /* The trace line's chunk is 0xb0 bytes: JSON plus "\n". */
    const struct event *e =
        event_log_add(&l, svc_msg("create", "zbsg5t9bx7t6sv8yjajuugjrj",
                                  "evtest", 1795754133047157865LL));
    CHECK_INT(e->len, 0xb0);

    /* Windows are inclusive at both ends. */
    const struct event *e4 = event_log_at(&l, 0);
    CHECK_INT(e4->time_ns, 4 * NS_PER_SEC);
    CHECK(event_in_window(e4, INT64_MIN, INT64_MAX));
    CHECK(event_in_window(e4, 4 * NS_PER_SEC, 4 * NS_PER_SEC));
    CHECK(!event_in_window(e4, 4 * NS_PER_SEC + 1, INT64_MAX));
    CHECK(!event_in_window(e4, INT64_MIN, 4 * NS_PER_SEC - 1));
    size_t n = 0;
    for (size_t i = 0; i < l.len; i++)
        n += event_in_window(event_log_at(&l, i), 4 * NS_PER_SEC,
                             5 * NS_PER_SEC);
    CHECK_INT(n, 2);
    event_log_fini(&l);

    /* A log of one keeps the newest. */
    event_log_init(&l, 0);
    event_log_add(&l, svc_msg("create", "a", "a", 1));
    event_log_add(&l, svc_msg("create", "b", "b", 2));
    CHECK_INT(l.len, 1);
    CHECK_INT(event_log_at(&l, 0)->time_ns, 2);
    event_log_fini(&l);
}

/* ---- filters ---- */

static json_t *filters(const char *text)
{
    json_t *f = json_loads(text, 0, NULL);
    CHECK(f != NULL);
    return f;
}

static void test_filters(void)
{
    _cleanup_json_ json_t *svc =
        svc_msg("create", "zbsg5t9bx7t6sv8yjajuugjrj", "evtest", 1);
    _cleanup_json_ json_t *ctr = json_loads(trace_container, 0, NULL);
    struct {
        const char *filters;
        bool svc, ctr;
    } cases[] = {
        {"{}", true, true},
        {"{\"type\":[\"service\"]}", true, false},
        {"{\"type\":[\"network\",\"service\"]}", true, false},
        {"{\"type\":[\"container\"]}", false, true},
        {"{\"event\":[\"create\"]}", true, true},
        {"{\"event\":[\"remove\"]}", false, false},
        {"{\"scope\":[\"swarm\"]}", true, false},
        {"{\"scope\":[\"local\"]}", false, true},
        /* Object filters: id or name, by prefix, whatever the type. */
        /* A container named after its service matches it too. */
        {"{\"service\":[\"evtest\"]}", true, true},
        {"{\"service\":[\"zbsg5\"]}", true, false},
        {"{\"service\":[\"other\"]}", false, false},
        {"{\"container\":[\"98d5f8a6af43\"]}", false, true},
        {"{\"container\":[\"evtest.1\"]}", false, true},
        {"{\"node\":[\"x\"]}", false, false},
        /* Labels are the attributes. */
        {"{\"label\":[\"com.docker.swarm.service.name=evtest\"]}", false, true},
        {"{\"label\":[\"com.docker.swarm.task\"]}", false, true},
        {"{\"label\":[\"com.docker.swarm.service.name=x\"]}", false, false},
        {"{\"label\":[\"name=evtest\"]}", true, false},
        /* Images: the attribute, with or without its tag. */
        {"{\"image\":[\"bb:latest\"]}", false, true},
        {"{\"image\":[\"bb\"]}", false, true},
        {"{\"image\":[\"docker.io/library/bb\"]}", false, false},
        {"{\"image\":[\"cc\"]}", false, false},
        /* Every key must match. */
        {"{\"type\":[\"container\"],\"event\":[\"start\"]}", false, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_json_ json_t *f = filters(cases[i].filters);
        bool s = event_matches(f, svc), c = event_matches(f, ctr);
        if (s != cases[i].svc || c != cases[i].ctr)
            fprintf(stderr, "filter %s: service %d container %d\n",
                    cases[i].filters, s, c);
        CHECK(s == cases[i].svc);
        CHECK(c == cases[i].ctr);
    }
    /* exec_start matches "exec_start: sh -c ..." by prefix. */
    _cleanup_json_ json_t *exec = event_msg_new(
        "container", "exec_start: sh -c true", "abc", NULL, "local", 1);
    _cleanup_json_ json_t *fe = filters("{\"event\":[\"exec_start\"]}");
    CHECK(event_matches(fe, exec));
    _cleanup_json_ json_t *fs = filters("{\"event\":[\"exec_sta\"]}");
    CHECK(!event_matches(fs, exec));
    /* Image events match on the image's name. */
    _cleanup_json_ json_t *img =
        event_msg_new("image", "pull", "sha256:abcd",
                      json_pack("{s:s}", "name", "bb:1"), "local", 1);
    _cleanup_json_ json_t *fi = filters("{\"image\":[\"bb\"]}");
    CHECK(event_matches(fi, img));
}

/* ---- since / until ---- */

static void test_parse_time(void)
{
    int64_t ns = -1;
    struct err err = {0};
    CHECK_INT(event_parse_time(NULL, &ns, &err), 0);
    CHECK_INT(ns, 0);
    CHECK_INT(event_parse_time("", &ns, &err), 0);
    CHECK_INT(event_parse_time("1795754081", &ns, &err), 1);
    CHECK_INT(ns, 1795754081LL * NS_PER_SEC);
    CHECK_INT(event_parse_time("0", &ns, &err), 1);
    CHECK_INT(ns, 0);
    CHECK_INT(event_parse_time("1795754081.5", &ns, &err), 1);
    CHECK_INT(ns, 1795754081500000000LL);
    CHECK_INT(event_parse_time("1795754081.047157865", &ns, &err), 1);
    CHECK_INT(ns, 1795754081047157865LL);
    CHECK_INT(event_parse_time("1795754081.0471578651", &ns, &err), 1);
    CHECK_INT(ns, 1795754081047157865LL);
    CHECK_INT(event_parse_time("2026-11-27T04:35:33.047157865Z", &ns, &err), 1);
    CHECK_INT(ns, 1795754133047157865LL);
    CHECK_INT(event_parse_time("2026-11-27T05:35:33+01:00", &ns, &err), 1);
    CHECK_INT(ns, 1795754133LL * NS_PER_SEC);
    const char *bad[] = {
        "abc", "12x", "1.", "1.x", "99999999999999999999", "2026-11-27"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        err_clear(&err);
        CHECK_INT(event_parse_time(bad[i], &ns, &err), -1);
        CHECK_INT(err.code, 400);
        CHECK(strstr(err.msg, bad[i]) != NULL);
    }
}

/* ---- swarm changes (through a real store and its change feed) ---- */

static uint64_t next_index = 1;

struct collected {
    struct event_swarm w;
    json_t *msgs; /* events in order */
    int64_t now;
};

static void collect(void *data, const struct store_event *e)
{
    struct collected *c = data;
    json_t *m = event_swarm_change(&c->w, e, c->now);
    if (m)
        json_array_append_new(c->msgs, m);
}

static void apply(struct store *s, struct txn *t, int64_t ts)
{
    t->ts = ts;
    size_t len;
    _cleanup_free_ char *data = txn_encode(t, &len);
    struct err err = {0};
    CHECK_INT(store_apply(s, next_index++, data, len, &err), 0);
    txn_fini(t);
}

static json_t *spec(const char *name, const char *image, int replicas)
{
    return json_pack("{s:s, s:{s:{s:s}}, s:{s:{s:i}}}", "Name", name,
                     "TaskTemplate", "ContainerSpec", "Image", image, "Mode",
                     "Replicated", "Replicas", replicas);
}

static const char *attr(const json_t *m, const char *k)
{
    return jx_str(jx_path(m, "Actor.Attributes"), k);
}

static void test_swarm_changes(void)
{
    struct store *s = store_new();
    struct collected c = {.msgs = json_array(), .now = 42 * NS_PER_SEC};
    event_swarm_init(&c.w);
    struct store_watch *w = store_watch(s, collect, &c);

    char id[ID_LEN + 1];
    id_new(id);
    struct txn t;
    txn_init(&t);
    _cleanup_json_ json_t *s1 = spec("web", "bb:1", 1);
    txn_service_create(&t, id, s1, NULL);
    apply(s, &t, 1000);

    txn_init(&t);
    _cleanup_json_ json_t *s2 = spec("web", "bb:2", 3);
    txn_service_update(&t, id, 0, s2, false, NULL);
    apply(s, &t, 2000);

    txn_init(&t);
    _cleanup_json_ json_t *us = json_pack("{s:s}", "State", "updating");
    txn_service_update_status(&t, id, us);
    apply(s, &t, 3000);

    txn_init(&t);
    _cleanup_json_ json_t *us2 = json_pack("{s:s}", "State", "completed");
    txn_service_update_status(&t, id, us2);
    apply(s, &t, 4000);

    /* Tasks make no events. */
    struct task *task = task_new();
    id_new(task->meta.id);
    snprintf(task->service_id, sizeof(task->service_id), "%s", id);
    task->slot = 1;
    txn_init(&t);
    txn_task_create(&t, task);
    task_free(task);
    apply(s, &t, 4500);

    txn_init(&t);
    txn_service_delete(&t, id);
    apply(s, &t, 5000);

    size_t n = json_array_size(c.msgs);
    CHECK_INT(n, 5);
    json_t *m = json_array_get(c.msgs, 0);
    CHECK_STR(jx_str(m, "Type"), "service");
    CHECK_STR(jx_str(m, "Action"), "create");
    CHECK_STR(jx_path_str(m, "Actor.ID"), id);
    CHECK_STR(attr(m, "name"), "web");
    CHECK_INT(json_object_size(jx_path(m, "Actor.Attributes")), 1);
    CHECK_STR(jx_str(m, "scope"), "swarm");
    CHECK_INT(jx_int(m, "timeNano", 0), 1000); /* CreatedAt */

    m = json_array_get(c.msgs, 1);
    CHECK_STR(jx_str(m, "Action"), "update");
    CHECK_STR(attr(m, "image.old"), "bb:1");
    CHECK_STR(attr(m, "image.new"), "bb:2");
    CHECK_STR(attr(m, "replicas.old"), "1");
    CHECK_STR(attr(m, "replicas.new"), "3");
    CHECK_INT(jx_int(m, "timeNano", 0), 2000); /* UpdatedAt */

    m = json_array_get(c.msgs, 2);
    CHECK_STR(attr(m, "updatestate.new"), "updating");
    CHECK(attr(m, "updatestate.old") == NULL);
    CHECK(attr(m, "replicas.new") == NULL);
    m = json_array_get(c.msgs, 3);
    CHECK_STR(attr(m, "updatestate.old"), "updating");
    CHECK_STR(attr(m, "updatestate.new"), "completed");

    m = json_array_get(c.msgs, 4);
    CHECK_STR(jx_str(m, "Action"), "remove");
    CHECK_STR(attr(m, "name"), "web");
    CHECK_INT(jx_int(m, "timeNano", 0), 42 * NS_PER_SEC); /* now */
    CHECK_INT(hmap_count(&c.w.seen), 0);

    /* Nodes: name from the spec or the hostname; state, availability. */
    json_array_clear(c.msgs);
    struct node *node = node_new();
    id_new(node->meta.id);
    json_decref(node->description);
    node->description = json_pack("{s:s}", "Hostname", "host1");
    json_decref(node->spec);
    node->spec =
        json_pack("{s:s, s:s}", "Role", "manager", "Availability", "active");
    node->state = NODE_DOWN;
    node->manager = true;
    node->leader = false;
    node->reachability = xstrdup("reachable");
    txn_init(&t);
    txn_node_put(&t, node);
    apply(s, &t, 6000);
    node->state = NODE_READY;
    node->leader = true;
    txn_init(&t);
    txn_node_put(&t, node);
    apply(s, &t, 7000);
    _cleanup_json_ json_t *drain =
        json_pack("{s:s, s:s}", "Role", "manager", "Availability", "drain");
    txn_init(&t);
    txn_node_spec(&t, node->meta.id, 0, drain);
    apply(s, &t, 8000);
    CHECK_INT(json_array_size(c.msgs), 3);
    m = json_array_get(c.msgs, 0);
    CHECK_STR(jx_str(m, "Type"), "node");
    CHECK_STR(jx_str(m, "Action"), "create");
    CHECK_STR(attr(m, "name"), "host1");
    m = json_array_get(c.msgs, 1);
    CHECK_STR(jx_str(m, "Action"), "update");
    CHECK_STR(attr(m, "state.old"), "down");
    CHECK_STR(attr(m, "state.new"), "ready");
    CHECK_STR(attr(m, "leader.old"), "false");
    CHECK_STR(attr(m, "leader.new"), "true");
    CHECK(attr(m, "availability.new") == NULL);
    m = json_array_get(c.msgs, 2);
    CHECK_STR(attr(m, "availability.old"), "active");
    CHECK_STR(attr(m, "availability.new"), "drain");
    CHECK(attr(m, "state.new") == NULL);

    /* A snapshot restore: no events, but what is remembered is the
     * snapshot's state, so the next update compares with it. */
    struct store *other = store_new();
    char id2[ID_LEN + 1];
    id_new(id2);
    txn_init(&t);
    _cleanup_json_ json_t *s3 = spec("api", "bb:1", 2);
    txn_service_create(&t, id2, s3, NULL);
    apply(other, &t, 9000);
    struct buf snap;
    buf_init(&snap);
    store_snapshot(other, &snap);
    store_free(other);
    json_array_clear(c.msgs);
    struct err err = {0};
    CHECK_INT(store_restore(s, snap.data, snap.len, &err), 0);
    buf_fini(&snap);
    CHECK_INT(json_array_size(c.msgs), 0);
    event_swarm_seed(&c.w, s); /* what the daemon does on KIND__COUNT */
    txn_init(&t);
    _cleanup_json_ json_t *s4 = spec("api", "bb:1", 5);
    txn_service_update(&t, id2, 0, s4, false, NULL);
    apply(s, &t, 10000);
    CHECK_INT(json_array_size(c.msgs), 1);
    m = json_array_get(c.msgs, 0);
    CHECK_STR(attr(m, "replicas.old"), "2");
    CHECK_STR(attr(m, "replicas.new"), "5");

    node_free(node);
    store_unwatch(s, w);
    store_free(s);
    event_swarm_fini(&c.w);
    json_decref(c.msgs);
}

/* ---- the CLI ---- */

static void test_cli_lines(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    _cleanup_json_ json_t *svc = json_loads(trace_service, 0, NULL);
    _cleanup_free_ char *l1 = cli_events_line(svc);
    CHECK_STR(l1, "2026-11-27T04:35:33.047157865Z service create "
                  "zbsg5t9bx7t6sv8yjajuugjrj (name=evtest)\n");
    _cleanup_json_ json_t *ctr = json_loads(trace_container, 0, NULL);
    _cleanup_free_ char *l2 = cli_events_line(ctr);
    CHECK_STR(l2, trace_container_line);
    /* No attributes: no parentheses; only "time": whole seconds. */
    _cleanup_json_ json_t *bare = json_pack(
        "{s:s, s:s, s:{s:s, s:{}}, s:I}", "Type", "network", "Action", "remove",
        "Actor", "ID", "n1", "Attributes", "time", (json_int_t)1795754135);
    _cleanup_free_ char *l3 = cli_events_line(bare);
    CHECK_STR(l3, "2026-11-27T04:35:35.000000000Z network remove n1\n");

    char ts[64];
    cli_events_fmt_time(1795754081000000005LL, ts, sizeof(ts));
    CHECK_STR(ts, "2026-11-27T04:34:41.000000005Z");
    setenv("TZ", "CET-1", 1);
    tzset();
    cli_events_fmt_time(1795754081000000005LL, ts, sizeof(ts));
    CHECK_STR(ts, "2026-11-27T05:34:41.000000005+01:00");
    setenv("TZ", "UTC", 1);
    tzset();
}

static void test_cli_timestamps(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const int64_t now = 1795754141600000000LL; /* 04:35:41.6 */
    struct {
        const char *in, *out;
    } cases[] = {
        {"1m", "1795754081"},
        {"0s", "1795754141"},
        {"1h30m", "1795748741"},
        {"-10s", "1795754151"},
        {"2026-11-27T04:35:33Z", "1795754133.000000000"},
        {"2026-11-27T04:35:33.047157865Z", "1795754133.047157865"},
        {"2026-11-27T05:35:33+01:00", "1795754133.000000000"},
        {"2026-11-27T04:35:33", "1795754133.000000000"},
        {"2026-11-27T04:35", "1795754100.000000000"},
        {"2026-11-27T04", "1795752000.000000000"},
        {"2026-11-27", "1795737600.000000000"},
        {"1795754081", "1795754081"},
        {"1795754081.5", "1795754081.5"},
        {"0", "0"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char out[64] = "";
        struct err err = {0};
        CHECK_INT(
            cli_events_timestamp(cases[i].in, now, out, sizeof(out), &err), 0);
        CHECK_STR(out, cases[i].out);
    }
    /* No zone: the local zone. */
    setenv("TZ", "CET-1", 1);
    tzset();
    char out[64];
    struct err err = {0};
    CHECK_INT(cli_events_timestamp("2026-11-27T05:35:33", now, out, sizeof(out),
                                   &err),
              0);
    CHECK_STR(out, "1795754133.000000000");
    setenv("TZ", "UTC", 1);
    tzset();
    CHECK_INT(cli_events_timestamp("yesterday", now, out, sizeof(out), &err),
              -1);
    CHECK_STR(err.msg, "failed to parse value as time or duration: "
                       "\"yesterday\"");
    err_clear(&err);
    CHECK_INT(cli_events_timestamp("2026-13-01", now, out, sizeof(out), &err),
              -1);
    CHECK(strstr(err.msg, "2026-13-01") != NULL);
}

static void test_cli_fields(void)
{
    _cleanup_json_ json_t *ctr = json_loads(trace_container, 0, NULL);
    struct {
        const char *field, *want;
    } cases[] = {
        {"Type", "container"},
        {"Action", "create"},
        {"Status", "create"},
        {"From", "bb:latest"},
        {"Scope", "local"},
        {"Time", "1795754133"},
        {"TimeNano", "1795754133234973730"},
        {"Actor.ID",
         "98d5f8a6af438bec66435ec31f8f0449f8b3a6aa2d5968f2060bcda8654a989f"},
        {"Actor.Attributes.name", "evtest.1.mamjkbhi72wdb2u6g1jfi4izv"},
        {"Actor.Attributes.nope", "<no value>"},
        {"json:Actor.Attributes.image", "\"bb:latest\""},
        {"json:Scope", "\"local\""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *v = cli_events_field(cases[i].field, ctr);
        CHECK_STR(v, cases[i].want);
    }
    _cleanup_free_ char *all = cli_events_field("json:", ctr);
    CHECK_STR(all, trace_container);
    _cleanup_json_ json_t *svc = json_loads(trace_service, 0, NULL);
    _cleanup_free_ char *actor = cli_events_field("Actor", svc);
    CHECK_STR(actor, "{zbsg5t9bx7t6sv8yjajuugjrj map[name:evtest]}");
    _cleanup_free_ char *none = cli_events_field("Nope", svc);
    CHECK(none == NULL);
    _cleanup_free_ char *deep = cli_events_field("Type.X", svc);
    CHECK(deep == NULL);
    /* An empty message (docker validates templates on one). */
    _cleanup_json_ json_t *empty = json_object();
    _cleanup_free_ char *e1 = cli_events_field("Actor.Attributes.name", empty);
    CHECK_STR(e1, "<no value>");
    _cleanup_free_ char *e2 = cli_events_field("TimeNano", empty);
    CHECK_STR(e2, "0");
}

/* ---- GET /events on an in-memory host ---- */

static uv_loop_t loop;

static void run_loop(void)
{
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
}

struct fake {
    struct api_host h; /* the host the API sees: this fake, no daemon */
    struct store *store;
    enum api_swarm_state state;
    struct http_server *api;
    struct buf out;
    struct http_conn *conn;
};

static struct store *fake_store(void *self)
{
    return ((struct fake *)self)->store;
}

static enum api_swarm_state fake_state(void *self)
{
    return ((struct fake *)self)->state;
}

static const struct api_host_ops fake_ops = {
    .store = fake_store,
    .local_state = fake_state,
};

static void fake_start(struct fake *f)
{
    memset(f, 0, sizeof(*f));
    f->h.ops = &fake_ops;
    f->h.self = f;
    f->h.loop = &loop;
    f->store = store_new();
    f->state = API_SWARM_ACTIVE;
    f->h.events = events_new(&f->h);
    events_follow(f->h.events, f->store);
    f->api = http_server_new(&loop, &f->h);
    api_events_routes(f->api);
    buf_init(&f->out);
    f->conn = http_conn_mem_new(f->api, &f->out);
}

static void fake_stop(struct fake *f)
{
    http_conn_mem_free(f->conn);
    http_server_close(f->api, NULL, NULL);
    run_loop();
    events_close(f->h.events);
    store_free(f->store);
    run_loop();
    buf_fini(&f->out);
}

static void get(struct fake *f, const char *path)
{
    char req[512];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    http_conn_mem_feed(f->conn, req, strlen(req));
    run_loop();
}

static void create_service(struct fake *f, const char *name, int64_t ts)
{
    char id[ID_LEN + 1];
    id_new(id);
    struct txn t;
    txn_init(&t);
    _cleanup_json_ json_t *sp = spec(name, "bb:1", 1);
    txn_service_create(&t, id, sp, NULL);
    apply(f->store, &t, ts);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_http_replay_and_live(void)
{
    struct fake f;
    fake_start(&f);
    int64_t now = time_now_ns();
    create_service(&f, "old", now - 100 * NS_PER_SEC);
    create_service(&f, "mid", now - 50 * NS_PER_SEC);
    create_service(&f, "new", now - 10 * NS_PER_SEC);

    /* since/until in the past: a finite replay, one chunk per event. */
    char path[256];
    snprintf(path, sizeof(path), "/v1.41/events?since=%lld&until=%lld",
             (long long)((now - 60 * NS_PER_SEC) / NS_PER_SEC),
             (long long)((now - 5 * NS_PER_SEC) / NS_PER_SEC));
    get(&f, path);
    CHECK(strncmp(f.out.data, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(f.out.data, "Content-Type: application/json\r\n") != NULL);
    CHECK(strstr(f.out.data, "Transfer-Encoding: chunked\r\n") != NULL);
    CHECK(strstr(f.out.data, "\"name\":\"old\"") == NULL);
    CHECK(strstr(f.out.data, "\"name\":\"mid\"") != NULL);
    CHECK(strstr(f.out.data, "\"name\":\"new\"") != NULL);
    CHECK_INT(count(f.out.data, "\r\n{\"Type\":\"service\""), 2);
    size_t len = f.out.len;
    CHECK(len >= 5 && strcmp(f.out.data + len - 5, "0\r\n\r\n") == 0);

    /* until only: everything up to it. */
    buf_reset(&f.out);
    snprintf(path, sizeof(path), "/events?until=%lld",
             (long long)(now / NS_PER_SEC));
    get(&f, path);
    CHECK_INT(count(f.out.data, "\"Action\":\"create\""), 3);

    /* Neither: no replay, the stream stays open for what comes. */
    buf_reset(&f.out);
    get(&f, "/events?filters=%7B%22type%22%3A%7B%22service%22%3Atrue%7D%7D");
    CHECK(strstr(f.out.data, "200 OK") != NULL);
    CHECK(strstr(f.out.data, "\"Action\"") == NULL);
    create_service(&f, "live", time_now_ns());
    events_container(f.h.events, "c1", "kill", "signal", "9");
    run_loop();
    CHECK_INT(count(f.out.data, "\"name\":\"live\""), 1);
    CHECK(strstr(f.out.data, "\"container\"") == NULL); /* filtered */
    CHECK(strstr(f.out.data, "0\r\n\r\n") == NULL);
    /* The replay endpoint now sees the container event as well. */
    struct buf out2;
    buf_init(&out2);
    struct http_conn *c2 = http_conn_mem_new(f.api, &out2);
    const char *req = "GET /events?since=0&until=9000000000 HTTP/1.1\r\n\r\n";
    http_conn_mem_feed(c2, req, strlen(req));
    run_loop();
    CHECK_INT(count(out2.data, "\"Action\":\"create\""), 4);
    CHECK(strstr(out2.data, "{\"status\":\"kill\",\"id\":\"c1\",\"Type\":"
                            "\"container\",\"Action\":\"kill\",\"Actor\":{"
                            "\"ID\":\"c1\",\"Attributes\":{\"signal\":\"9\"}"
                            "},\"scope\":\"local\"") != NULL);
    http_conn_mem_free(c2);
    buf_fini(&out2);

    /* The client goes away: its subscription goes too. */
    http_conn_mem_hangup(f.conn);
    run_loop();
    create_service(&f, "after", time_now_ns());
    run_loop();
    CHECK(strstr(f.out.data, "\"name\":\"after\"") == NULL);
    fake_stop(&f);
}

static void test_http_errors_and_until_timer(void)
{
    struct fake f;
    fake_start(&f);
    get(&f, "/events?since=abc");
    CHECK(strstr(f.out.data, "400 Bad Request") != NULL);
    CHECK(strstr(f.out.data, "strconv.ParseInt: parsing \\\"abc\\\": "
                             "invalid syntax") != NULL);
    buf_reset(&f.out);
    get(&f, "/events?since=20&until=10");
    CHECK(strstr(f.out.data, "{\"message\":\"`since` time (20) cannot be "
                             "after `until` time (10)\"}") != NULL);
    buf_reset(&f.out);
    get(&f, "/events?filters=%7B%22colour%22%3A%5B%22red%22%5D%7D");
    CHECK(strstr(f.out.data, "{\"message\":\"invalid filter 'colour'\"}") !=
          NULL);

    /* An until a little in the future: live until then, then the end. */
    buf_reset(&f.out);
    int64_t until = time_now_ns() + 150 * NS_PER_MS;
    char path[128];
    snprintf(path, sizeof(path), "/events?until=%lld.%09lld",
             (long long)(until / NS_PER_SEC), (long long)(until % NS_PER_SEC));
    get(&f, path);
    create_service(&f, "soon", time_now_ns());
    run_loop();
    CHECK(strstr(f.out.data, "\"name\":\"soon\"") != NULL);
    CHECK(strstr(f.out.data, "0\r\n\r\n") == NULL);
    int64_t deadline = time_mono_ns() + 5 * NS_PER_SEC;
    while (!strstr(f.out.data, "0\r\n\r\n") && time_mono_ns() < deadline)
        uv_run(&loop, UV_RUN_ONCE);
    CHECK(strstr(f.out.data, "0\r\n\r\n") != NULL);
    CHECK(time_now_ns() >= until);

    /* Swarm events are not recorded while the swarm is starting (raft
     * replaying its log after a restart). */
    buf_reset(&f.out);
    f.state = API_SWARM_PENDING;
    create_service(&f, "replayed", time_now_ns());
    f.state = API_SWARM_ACTIVE;
    get(&f, "/events?since=0&until=1");
    CHECK(strstr(f.out.data, "0\r\n\r\n") != NULL);
    buf_reset(&f.out);
    struct buf out2;
    buf_init(&out2);
    struct http_conn *c2 = http_conn_mem_new(f.api, &out2);
    const char *req = "GET /events?since=0&until=9000000000 HTTP/1.1\r\n\r\n";
    http_conn_mem_feed(c2, req, strlen(req));
    run_loop();
    CHECK(strstr(out2.data, "\"name\":\"replayed\"") == NULL);
    CHECK(strstr(out2.data, "\"name\":\"soon\"") != NULL);

    /* Shutdown ends open streams; then the endpoint answers 503. */
    CHECK(strstr(out2.data, "0\r\n\r\n") == NULL);
    events_close(f.h.events);
    f.h.events = NULL;
    run_loop();
    CHECK(strstr(out2.data, "0\r\n\r\n") != NULL);
    http_conn_mem_free(c2);
    buf_fini(&out2);
    get(&f, "/events");
    CHECK(strstr(f.out.data, "503 Service Unavailable") != NULL);
    events_container(NULL, "x", "kill", NULL, NULL); /* tolerated */

    http_conn_mem_free(f.conn);
    http_server_close(f.api, NULL, NULL);
    run_loop();
    store_free(f.store);
    run_loop();
    buf_fini(&f.out);
}

static void test_container_states(void)
{
    struct fake f;
    fake_start(&f);
    get(&f, "/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D");
    int64_t now = time_now_ns();
    /* Re-adopted after a restart: nothing happened. */
    struct ctr_status st = {.state = CTR_RUNNING,
                            .created_at = now - 100 * NS_PER_SEC,
                            .started_at = now - 90 * NS_PER_SEC};
    events_container_state(f.h.events, "old", &st);
    run_loop();
    CHECK(strstr(f.out.data, "\"old\"") == NULL);
    /* A new container: create (implied), start, then oom + die. */
    st = (struct ctr_status){
        .state = CTR_RUNNING, .created_at = now + 1, .started_at = now + 2};
    events_container_state(f.h.events, "c2", &st);
    st.state = CTR_EXITED;
    st.oom_killed = true;
    st.exit_code = 137;
    st.finished_at = st.started_at + 3 * NS_PER_SEC + 5;
    events_container_state(f.h.events, "c2", &st);
    events_container_state(f.h.events, "c2", &st);            /* once only */
    events_container(f.h.events, "c2", "create", NULL, NULL); /* done */
    events_container(f.h.events, "c2", "destroy", NULL, NULL);
    run_loop();
    const char *p = f.out.data;
    const char *order[] = {"\"Action\":\"create\"", "\"Action\":\"start\"",
                           "\"Action\":\"oom\"", "\"Action\":\"die\"",
                           "\"Action\":\"destroy\""};
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        p = p ? strstr(p, order[i]) : NULL;
        CHECK(p != NULL);
    }
    CHECK_INT(count(f.out.data, "\"Action\":\"create\""), 1);
    CHECK_INT(count(f.out.data, "\"Action\":\"die\""), 1);
    CHECK(strstr(f.out.data, "\"Attributes\":{\"execDuration\":\"3\","
                             "\"exitCode\":\"137\"}") != NULL);
    /* A runtime create state, then one from the daemon's hook: one event. */
    st = (struct ctr_status){.state = CTR_CREATED, .created_at = now + 1};
    events_container_state(f.h.events, "c3", &st);
    events_container(f.h.events, "c3", "create", NULL, NULL);
    run_loop();
    CHECK_INT(count(f.out.data, "\"id\":\"c3\""), 1);
    fake_stop(&f);
}

/* A subscriber that never reads is dropped once megabytes queue up for
 * it; the others keep going. Needs a real socket: memory connections
 * queue nothing. */
static void test_slow_subscriber(void)
{
    char dir[] = "/tmp/shoal-events-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sock[128], addr[160];
    snprintf(sock, sizeof(sock), "%s/s.sock", dir);
    snprintf(addr, sizeof(addr), "unix://%s", sock);
    struct fake f;
    fake_start(&f);
    struct err err = {0};
    CHECK_INT(http_server_listen(f.api, addr, &err), 0);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    CHECK_INT(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    const char *req = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    /* A well-behaved subscriber on a memory connection. */
    get(&f, "/events?filters=%7B%22event%22%3A%5B%22ping%22%5D%7D");
    run_loop();

    size_t big = 512 * 1024;
    char *value = xmalloc(big + 1);
    memset(value, 'x', big);
    value[big] = '\0';
    for (int i = 0; i < 16; i++) {
        events_container(f.h.events, "slow", "kill", "big", value);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    free(value);
    events_container(f.h.events, "slow", "ping", NULL, NULL);
    run_loop();
    CHECK_INT(count(f.out.data, "\"Action\":\"ping\""), 1);

    /* Now read: the stream ended (terminating chunk) well before all
     * 8 MB were sent. */
    fcntl(fd, F_SETFL, O_NONBLOCK);
    struct buf in;
    buf_init(&in);
    bool ended = false;
    int64_t deadline = time_mono_ns() + 10 * NS_PER_SEC;
    while (!ended && time_mono_ns() < deadline) {
        uv_run(&loop, UV_RUN_NOWAIT);
        char tmp[65536];
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n > 0) {
            buf_append(&in, tmp, (size_t)n);
            ended = in.len >= 5 &&
                    memcmp(in.data + in.len - 5, "0\r\n\r\n", 5) == 0;
        } else if (n == 0) {
            break;
        } else if (errno == EAGAIN) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            poll(&pfd, 1, 10);
        }
    }
    CHECK(ended);
    CHECK(in.len < 8 * 1024 * 1024);
    CHECK(in.len > EVENTS_MAX_PENDING);
    buf_fini(&in);
    close(fd);
    fake_stop(&f);
    fs_remove_tree(dir, &err);
}

int main(void)
{
    mem_install_allocators();
    log_set_level(LOG_ERROR); /* the slow subscriber's drop is a warning */
    uv_loop_init(&loop);
    RUN(test_message_shapes);
    RUN(test_log_ring);
    RUN(test_filters);
    RUN(test_parse_time);
    RUN(test_swarm_changes);
    RUN(test_cli_lines);
    RUN(test_cli_timestamps);
    RUN(test_cli_fields);
    RUN(test_http_replay_and_live);
    RUN(test_http_errors_and_until_timer);
    RUN(test_container_states);
    RUN(test_slow_subscriber);
    run_loop();
    CHECK_INT(uv_loop_close(&loop), 0);
    HARNESS_END();
}
