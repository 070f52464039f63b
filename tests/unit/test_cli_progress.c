// SPDX-License-Identifier: Apache-2.0
// Unit tests for convergence progress: the docker CLI's state machine fed
// with canned service/tasks/nodes polls and a fake clock, checked against
// the non-TTY output in trace 02, plus failures, regressions, rollbacks,
// global mode, and the TTY redraw sequences docker emits.
#include "harness.h"

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli_progress.h"

static const char svc_json[] =
    "{\"ID\":\"s3qdr2cawh465iqhf04niv4zw\",\"Version\":{\"Index\":158},\"Cr"
    "eatedAt\":\"2026-11-27T04:30:28.32344308Z\",\"UpdatedAt\":\"2026-11-27"
    "T04:30:28.324955424Z\",\"Spec\":{\"Name\":\"simple-server\",\"Labels\""
    ":{},\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb:latest\",\"Arg"
    "s\":[\"httpd\",\"-f\",\"-p\",\"8000\",\"-h\",\"/www\"],\"Init\":false,"
    "\"DNSConfig\":{},\"Isolation\":\"default\"},\"Resources\":{\"Limits\":"
    "{},\"Reservations\":{}},\"Placement\":{},\"ForceUpdate\":0,\"Runtime\""
    ":\"container\"},\"Mode\":{\"Replicated\":{\"Replicas\":1}},\"EndpointS"
    "pec\":{\"Mode\":\"vip\",\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\""
    ":8000,\"PublishedPort\":8001,\"PublishMode\":\"ingress\"}]}},\"Endpoin"
    "t\":{\"Spec\":{\"Mode\":\"vip\",\"Ports\":[{\"Protocol\":\"tcp\",\"Tar"
    "getPort\":8000,\"PublishedPort\":8001,\"PublishMode\":\"ingress\"}]},\""
    "Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":8000,\"PublishedPort\":8"
    "001,\"PublishMode\":\"ingress\"}],\"VirtualIPs\":[{\"NetworkID\":\"jox"
    "ct9o4tlsg0j1kqy3zgivsr\",\"Addr\":\"10.0.0.19/24\"}]}}";

static const char tasks_pending[] =
    "[{\"ID\":\"rhk9bsai1e6ybz8swojestyj4\",\"Version\":{\"Index\":159},\"C"
    "reatedAt\":\"2026-11-27T04:30:28.324549537Z\",\"UpdatedAt\":\"2026-11-"
    "27T04:30:28.326816985Z\",\"Labels\":{},\"Spec\":{\"ContainerSpec\":{\""
    "Image\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\"-p\",\"8000\",\"-h\""
    ",\"/www\"],\"Init\":false,\"DNSConfig\":{},\"Isolation\":\"default\"},"
    "\"Resources\":{\"Limits\":{},\"Reservations\":{}},\"Placement\":{},\"F"
    "orceUpdate\":0},\"ServiceID\":\"s3qdr2cawh465iqhf04niv4zw\",\"Slot\":1"
    ",\"Status\":{\"Timestamp\":\"2026-11-27T04:30:28.326792067Z\",\"State\""
    ":\"pending\",\"Message\":\"pending task scheduling\",\"PortStatus\":{}"
    "},\"DesiredState\":\"running\"}]";

static const char tasks_starting[] =
    "[{\"ID\":\"rhk9bsai1e6ybz8swojestyj4\",\"Version\":{\"Index\":161},\"C"
    "reatedAt\":\"2026-11-27T04:30:28.324549537Z\",\"UpdatedAt\":\"2026-11-"
    "27T04:30:28.507150406Z\",\"Labels\":{},\"Spec\":{\"ContainerSpec\":{\""
    "Image\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\"-p\",\"8000\",\"-h\""
    ",\"/www\"],\"Init\":false,\"DNSConfig\":{},\"Isolation\":\"default\"},"
    "\"Resources\":{\"Limits\":{},\"Reservations\":{}},\"Placement\":{},\"F"
    "orceUpdate\":0},\"ServiceID\":\"s3qdr2cawh465iqhf04niv4zw\",\"Slot\":1"
    ",\"NodeID\":\"s6uyjs3s1yyllx9jdb7aw68f4\",\"Status\":{\"Timestamp\":\""
    "2026-11-27T04:30:28.499231939Z\",\"State\":\"starting\",\"Message\":\""
    "starting\",\"ContainerStatus\":{\"ContainerID\":\"7f78fcb348b6d00fd9f3"
    "e63894ca2f023e48c0d580bf27e4e484857ce94c5bb9\",\"PID\":0,\"ExitCode\":"
    "0},\"PortStatus\":{}},\"DesiredState\":\"running\"}]";

static const char tasks_running[] =
    "[{\"ID\":\"rhk9bsai1e6ybz8swojestyj4\",\"Version\":{\"Index\":162},\"C"
    "reatedAt\":\"2026-11-27T04:30:28.324549537Z\",\"UpdatedAt\":\"2026-11-"
    "27T04:30:29.4148888Z\",\"Labels\":{},\"Spec\":{\"ContainerSpec\":{\"Im"
    "age\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\"-p\",\"8000\",\"-h\","
    "\"/www\"],\"Init\":false,\"DNSConfig\":{},\"Isolation\":\"default\"},\""
    "Resources\":{\"Limits\":{},\"Reservations\":{}},\"Placement\":{},\"For"
    "ceUpdate\":0},\"ServiceID\":\"s3qdr2cawh465iqhf04niv4zw\",\"Slot\":1,\""
    "NodeID\":\"s6uyjs3s1yyllx9jdb7aw68f4\",\"Status\":{\"Timestamp\":\"202"
    "6-11-27T04:30:29.364125938Z\",\"State\":\"running\",\"Message\":\"star"
    "ted\",\"ContainerStatus\":{\"ContainerID\":\"7f78fcb348b6d00fd9f3e6389"
    "4ca2f023e48c0d580bf27e4e484857ce94c5bb9\",\"PID\":16575,\"ExitCode\":0"
    "},\"PortStatus\":{}},\"DesiredState\":\"running\"}]";

static const char nodes_json[] =
    "[{\"ID\":\"s6uyjs3s1yyllx9jdb7aw68f4\",\"Version\":{\"Index\":9},\"Cre"
    "atedAt\":\"2026-11-27T04:23:39.992659358Z\",\"UpdatedAt\":\"2026-11-27"
    "T04:23:40.598651134Z\",\"Spec\":{\"Labels\":{},\"Role\":\"manager\",\""
    "Availability\":\"active\"},\"Description\":{\"Hostname\":\"vm\",\"Plat"
    "form\":{\"Architecture\":\"x86_64\",\"OS\":\"linux\"},\"Resources\":{\""
    "NanoCPUs\":2000000000,\"MemoryBytes\":25276026880},\"Engine\":{\"Engin"
    "eVersion\":\"20.10.24+dfsg1\"}},\"Status\":{\"State\":\"ready\",\"Addr"
    "\":\"192.0.2.2\"},\"ManagerStatus\":{\"Leader\":true,\"Reachability\":"
    "\"reachable\",\"Addr\":\"192.0.2.2:2377\"}}]";

static const char trace02_progress[] =
    "overall progress: 0 out of 1 tasks\n1/1:  \noverall progress: 0 out of"
    " 1 tasks\noverall progress: 0 out of 1 tasks\noverall progress: 0 out "
    "of 1 tasks\noverall progress: 0 out of 1 tasks\noverall progress: 0 ou"
    "t of 1 tasks\noverall progress: 0 out of 1 tasks\noverall progress: 1 "
    "out of 1 tasks\nverify: Waiting 5 seconds to verify that tasks are sta"
    "ble...\nverify: Waiting 5 seconds to verify that tasks are stable...\n"
    "verify: Waiting 5 seconds to verify that tasks are stable...\nverify: "
    "Waiting 5 seconds to verify that tasks are stable...\nverify: Waiting "
    "5 seconds to verify that tasks are stable...\nverify: Waiting 4 second"
    "s to verify that tasks are stable...\nverify: Waiting 4 seconds to ver"
    "ify that tasks are stable...\nverify: Waiting 4 seconds to verify that"
    " tasks are stable...\nverify: Waiting 4 seconds to verify that tasks a"
    "re stable...\nverify: Waiting 4 seconds to verify that tasks are stabl"
    "e...\nverify: Waiting 3 seconds to verify that tasks are stable...\nve"
    "rify: Waiting 3 seconds to verify that tasks are stable...\nverify: Wa"
    "iting 3 seconds to verify that tasks are stable...\nverify: Waiting 3 "
    "seconds to verify that tasks are stable...\nverify: Waiting 3 seconds "
    "to verify that tasks are stable...\nverify: Waiting 2 seconds to verif"
    "y that tasks are stable...\nverify: Waiting 2 seconds to verify that t"
    "asks are stable...\nverify: Waiting 2 seconds to verify that tasks are"
    " stable...\nverify: Waiting 2 seconds to verify that tasks are stable."
    "..\nverify: Waiting 2 seconds to verify that tasks are stable...\nveri"
    "fy: Waiting 1 seconds to verify that tasks are stable...\nverify: Wait"
    "ing 1 seconds to verify that tasks are stable...\nverify: Waiting 1 se"
    "conds to verify that tasks are stable...\nverify: Waiting 1 seconds to"
    " verify that tasks are stable...\nverify: Service s3qdr2cawh465iqhf04n"
    "iv4zw converged\n";

#define MS 1000000LL

/* One poll: service step, then (unless finished) tasks step. Returns 1
 * when the wait is over, 0 to continue, -1 on error. */
static int poll_once(struct cli_progress *p, const json_t *svc,
                     const json_t *tasks, const json_t *nodes, int64_t now,
                     struct err *err)
{
    bool finished;
    if (cli_progress_on_service(p, svc, now, &finished, err) < 0)
        return -1;
    if (finished)
        return 1;
    if (cli_progress_on_tasks(p, svc, tasks, nodes, now, &finished, err) < 0)
        return -1;
    return finished ? 1 : 0;
}

/* Trace 02: pending once, starting five times, then running; the CLI
 * polled about every 209 ms. The non-TTY output must be the trace's. */
static void test_trace02(void)
{
    json_t *svc = json_loads(svc_json, 0, NULL);
    json_t *pending = json_loads(tasks_pending, 0, NULL);
    json_t *starting = json_loads(tasks_starting, 0, NULL);
    json_t *running = json_loads(tasks_running, 0, NULL);
    json_t *nodes = json_loads(nodes_json, 0, NULL);
    CHECK(svc && pending && starting && running && nodes);
    struct buf out;
    buf_init(&out);
    struct cli_prender r;
    cli_prender_init(&r, false, 200, &out);
    struct cli_progress p;
    cli_progress_init(&p, "s3qdr2cawh465iqhf04niv4zw", &r);
    struct err err = {0};
    int64_t now = 1000 * MS;
    int rc = 0, polls = 0;
    for (; polls < 100 && rc == 0; polls++, now += 209 * MS) {
        json_t *t = polls == 0 ? pending : polls < 6 ? starting : running;
        rc = poll_once(&p, svc, t, nodes, now, &err);
    }
    CHECK_INT(rc, 1);
    CHECK_INT(polls, 31); /* 30 full polls and the final service GET */
    CHECK_STR(out.data, trace02_progress);
    cli_progress_fini(&p);
    cli_prender_fini(&r);
    buf_fini(&out);
    json_decref(svc);
    json_decref(pending);
    json_decref(starting);
    json_decref(running);
    json_decref(nodes);
}

static json_t *task(const char *id, int slot, const char *node,
                    const char *state, const char *desired, const char *err)
{
    json_t *t = json_pack("{s:s, s:i, s:s, s:s, s:{s:s}}", "ID", id, "Slot",
                          slot, "NodeID", node, "DesiredState", desired,
                          "Status", "State", state);
    if (err)
        json_object_set_new(json_object_get(t, "Status"), "Err",
                            json_string(err));
    return t;
}

static json_t *service(int replicas, const char *update_state, const char *msg,
                       int64_t monitor)
{
    json_t *s = json_pack("{s:s, s:{s:{s:{s:i}}}}", "ID", "svc1", "Spec",
                          "Mode", "Replicated", "Replicas", replicas);
    if (monitor)
        json_object_set_new(jx_obj(jx_obj(s, "Spec"), "UpdateConfig"),
                            "Monitor", json_integer(monitor));
    if (update_state)
        json_object_set_new(s, "UpdateStatus",
                            json_pack("{s:s, s:s}", "State", update_state,
                                      "Message", msg ? msg : ""));
    return s;
}

static json_t *two_nodes(const char *state2)
{
    return json_pack("[{s:s, s:{s:s}}, {s:s, s:{s:s}}]", "ID", "n1", "Status",
                     "State", "ready", "ID", "n2", "Status", "State", state2);
}

static void test_failure_and_regression(void)
{
    json_t *svc = service(3, NULL, NULL, 1000 * MS);
    json_t *nodes = two_nodes("ready");
    struct buf out;
    buf_init(&out);
    struct cli_prender r;
    cli_prender_init(&r, false, 200, &out);
    struct cli_progress p;
    cli_progress_init(&p, "web", &r);
    struct err err = {0};

    /* slot 2 failed (error shown on its line), a replacement is pending;
     * the pending one has the lower desired state and wins the slot */
    json_t *tasks = json_array();
    json_array_append_new(tasks,
                          task("t1", 1, "n1", "running", "running", NULL));
    json_array_append_new(tasks, task("t2", 2, "n2", "failed", "shutdown",
                                      "task: non-zero exit (1)"));
    json_array_append_new(tasks,
                          task("t3", 3, "n1", "running", "running", NULL));
    CHECK_INT(poll_once(&p, svc, tasks, nodes, 0, &err), 0);
    CHECK_STR(out.data, "overall progress: 0 out of 3 tasks\n1/3:  \n2/3:  \n"
                        "3/3:  \n2/3: task: non-zero exit (1)\n"
                        "overall progress: 2 out of 3 tasks\n");
    buf_reset(&out);
    json_array_append_new(tasks,
                          task("t4", 2, "n2", "pending", "running", NULL));
    CHECK_INT(poll_once(&p, svc, tasks, nodes, 200 * MS, &err), 0);
    CHECK_STR(out.data, "overall progress: 2 out of 3 tasks\n");
    buf_reset(&out);

    /* all running: converged, verifying */
    json_array_remove(tasks, 3);
    json_array_remove(tasks, 1);
    json_array_append_new(tasks,
                          task("t4", 2, "n2", "running", "running", NULL));
    CHECK_INT(poll_once(&p, svc, tasks, nodes, 400 * MS, &err), 0);
    CHECK_STR(out.data, "overall progress: 3 out of 3 tasks\n"
                        "verify: Waiting 1 seconds to verify that tasks are "
                        "stable...\n");
    buf_reset(&out);

    /* the node of t4 goes down: its task no longer counts. As in docker,
     * the remaining tasks are all running so the bars stay "done" and only
     * the verify line changes. */
    json_t *down = two_nodes("down");
    CHECK_INT(poll_once(&p, svc, tasks, down, 600 * MS, &err), 0);
    CHECK_STR(out.data, "verify: Detected task failure\n");
    buf_reset(&out);
    json_decref(down);

    /* back up: converged again, then verified after the monitor period */
    CHECK_INT(poll_once(&p, svc, tasks, nodes, 800 * MS, &err), 0);
    CHECK_STR(out.data, "verify: Waiting 1 seconds to verify that tasks are "
                        "stable...\n");
    buf_reset(&out);
    CHECK_INT(poll_once(&p, svc, tasks, nodes, 1500 * MS, &err), 0);
    CHECK_INT(poll_once(&p, svc, tasks, nodes, 1800 * MS, &err), 1);
    CHECK(strstr(out.data, "verify: Service web converged\n") != NULL);
    cli_progress_fini(&p);
    cli_prender_fini(&r);
    buf_fini(&out);
    json_decref(tasks);
    json_decref(svc);
    json_decref(nodes);
}

static void test_update_states(void)
{
    json_t *nodes = two_nodes("ready");
    json_t *tasks = json_array();
    json_array_append_new(tasks,
                          task("t1", 1, "n1", "running", "running", NULL));
    struct buf out;
    buf_init(&out);
    struct cli_prender r;
    cli_prender_init(&r, false, 200, &out);
    struct cli_progress p;
    struct err err = {0};

    /* paused update: docker fails the command */
    cli_progress_init(&p, "web", &r);
    json_t *svc = service(1, "paused", "update paused due to failure", 0);
    CHECK_INT(poll_once(&p, svc, tasks, nodes, 0, &err), -1);
    CHECK_STR(err.msg, "service update paused: update paused due to failure");
    json_decref(svc);
    cli_progress_fini(&p);

    /* completed before convergence was seen: stop waiting, no output */
    buf_reset(&out);
    cli_progress_init(&p, "web", &r);
    svc = service(1, "completed", "update completed", 0);
    CHECK_INT(poll_once(&p, svc, tasks, nodes, 0, &err), 1);
    CHECK(out.len == 0);
    json_decref(svc);
    cli_progress_fini(&p);

    /* rollback: message once, "rolling back update" counts */
    buf_reset(&out);
    cli_progress_init(&p, "web", &r);
    svc =
        service(1, "rollback_started", "update rolled back due to failure", 0);
    json_t *pend = json_array();
    json_array_append_new(pend,
                          task("t2", 1, "n1", "pending", "running", NULL));
    CHECK_INT(poll_once(&p, svc, pend, nodes, 0, &err), 0);
    CHECK_INT(poll_once(&p, svc, pend, nodes, 200 * MS, &err), 0);
    CHECK_STR(out.data, "rollback: update rolled back due to failure\n"
                        "overall progress: rolling back update: 0 out of 1 "
                        "tasks\n1/1:  \noverall progress: rolling back "
                        "update: 0 out of 1 tasks\noverall progress: rolling "
                        "back update: 0 out of 1 tasks\n");
    json_decref(pend);
    json_decref(svc);
    cli_progress_fini(&p);

    /* rollback_paused fails too */
    cli_progress_init(&p, "web", &r);
    svc = service(1, "rollback_paused", "rollback paused", 0);
    CHECK_INT(poll_once(&p, svc, tasks, nodes, 0, &err), -1);
    CHECK_STR(err.msg, "service rollback paused: rollback paused");
    json_decref(svc);
    cli_progress_fini(&p);

    cli_prender_fini(&r);
    buf_fini(&out);
    json_decref(tasks);
    json_decref(nodes);
}

static void test_global(void)
{
    json_t *svc =
        json_pack("{s:s, s:{s:{s:{}}}}", "ID", "g1", "Spec", "Mode", "Global");
    json_t *nodes = two_nodes("ready");
    struct buf out;
    buf_init(&out);
    struct cli_prender r;
    cli_prender_init(&r, false, 200, &out);
    struct cli_progress p;
    cli_progress_init(&p, "g", &r);
    struct err err = {0};
    json_t *none = json_array();
    CHECK_INT(poll_once(&p, svc, none, nodes, 0, &err), 0);
    CHECK_STR(out.data, "overall progress: waiting for new tasks\n");
    buf_reset(&out);
    json_t *tasks = json_array();
    json_array_append_new(tasks,
                          task("t1", 0, "n1", "running", "running", NULL));
    json_array_append_new(
        tasks, task("t2", 0, "n2", "rejected", "running", "no suitable node"));
    CHECK_INT(poll_once(&p, svc, tasks, nodes, 200 * MS, &err), 0);
    CHECK_STR(out.data, "overall progress: 0 out of 2 tasks\n"
                        "n2: no suitable node\n"
                        "overall progress: 1 out of 2 tasks\n");
    cli_progress_fini(&p);
    cli_prender_fini(&r);
    buf_fini(&out);
    json_decref(none);
    json_decref(tasks);
    json_decref(svc);
    json_decref(nodes);
}

/* On a terminal the lines are redrawn in place, as docker's jsonmessage
 * does (bytes checked against docker 28 on a pty, 150 columns). */
static void test_tty_render(void)
{
    json_t *svc = json_loads(svc_json, 0, NULL);
    json_t *pending = json_loads(tasks_pending, 0, NULL);
    json_t *nodes = json_loads(nodes_json, 0, NULL);
    struct buf out;
    buf_init(&out);
    struct cli_prender r;
    cli_prender_init(&r, true, 150, &out);
    struct cli_progress p;
    cli_progress_init(&p, "s3qdr2cawh465iqhf04niv4zw", &r);
    struct err err = {0};
    CHECK_INT(poll_once(&p, svc, pending, nodes, 0, &err), 0);
    CHECK_STR(out.data,
              "\n\x1b[1A\x1b[2K\roverall progress: 0 out of 1 tasks \r\x1b[1B"
              "\n\x1b[1A\x1b[2K\r1/1:   \r\x1b[1B"
              "\x1b[1A\x1b[2K\r1/1: pending   [================>             "
              "                     ] \r\x1b[1B"
              "\x1b[2A\x1b[2K\roverall progress: 0 out of 1 tasks \r\x1b[2B");
    cli_progress_fini(&p);
    cli_prender_fini(&r);
    buf_fini(&out);
    json_decref(svc);
    json_decref(pending);
    json_decref(nodes);
}

int main(void)
{
    RUN(test_trace02);
    RUN(test_failure_and_regression);
    RUN(test_update_states);
    RUN(test_global);
    RUN(test_tty_render);
    HARNESS_END();
}
