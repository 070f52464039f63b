// SPDX-License-Identifier: Apache-2.0
// Root-only tests of src/runtime/container.c with the real OCI runtime: a
// hand-made busybox layer, containers that exit, fail to start, are
// stopped, killed from outside, re-adopted after the runtime is freed,
// limited in memory, share a named volume, and join a netns made by
// src/net/netns.c. Skips cleanly without root. The test binary is also
// the shim (`test_container shim ...`), as shoald is in production.
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/id.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "net/netns.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/mount.h"
#include "volume/volume.h"

/* ---- fixture ---- */

struct event {
    char id[ID_HEX_LEN + 1];
    struct ctr_status st;
    int64_t mono_ns;
};

static struct {
    uv_loop_t loop;
    uv_timer_t tick;
    char *tmp;
    char *root, *state_root, *volumes_root, *layer, *netns_dir;
    char cgroup_parent[64];
    char self_exe[4096];
    struct runtime *rt;
    struct volume_store *volumes;
    struct event events[256];
    int n_events;
} F;

static void on_event(void *data, const char *id, const struct ctr_status *st)
{
    (void)data;
    if (F.n_events < (int)ARRAY_SIZE(F.events)) {
        struct event *e = &F.events[F.n_events++];
        snprintf(e->id, sizeof(e->id), "%s", id);
        e->st = *st;
        e->mono_ns = time_mono_ns();
    }
    if (getenv("HARNESS_VERBOSE"))
        fprintf(stderr, "  event %.12s %d pid=%d exit=%d err=%s\n", id,
                st->state, st->pid, st->exit_code, st->error);
}

/* The last event of a container in a given state, or NULL. */
static const struct event *find_event(const char *id, enum ctr_state s)
{
    for (int i = F.n_events - 1; i >= 0; i--)
        if (strcmp(F.events[i].id, id) == 0 && F.events[i].st.state == s)
            return &F.events[i];
    return NULL;
}

static int count_events(const char *id, enum ctr_state s)
{
    int n = 0;
    for (int i = 0; i < F.n_events; i++)
        n += strcmp(F.events[i].id, id) == 0 && F.events[i].st.state == s;
    return n;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until cond(arg) holds or timeout_ms passes. */
static bool run_until(bool (*cond)(const void *), const void *arg,
                      int64_t timeout_ms)
{
    int64_t end = time_mono_ms() + timeout_ms;
    uv_timer_start(&F.tick, on_tick, 5, 5);
    bool ok = true;
    while (!cond(arg)) {
        if (time_mono_ms() > end) {
            ok = false;
            break;
        }
        uv_run(&F.loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&F.tick);
    return ok;
}

static bool has_exited(const void *id)
{
    return find_event(id, CTR_EXITED) != NULL;
}

static bool has_running(const void *id)
{
    return find_event(id, CTR_RUNNING) != NULL;
}

/* The container's process is the command itself, no longer runc's init
 * (a signal before its exec would reach runc, not the command). */
static bool has_execd(const void *id)
{
    struct ctr_status st;
    if (ctr_get_status(F.rt, id, &st) < 0 || st.pid <= 0)
        return false;
    char path[64], comm[64] = "";
    snprintf(path, sizeof(path), "/proc/%d/comm", st.pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(comm, sizeof(comm), f) && strncmp(comm, "runc", 4) != 0;
    fclose(f);
    return ok;
}

static bool path_gone(const void *path)
{
    return !fs_exists(path);
}

static bool path_there(const void *path)
{
    return fs_exists(path);
}

static struct runtime *runtime_open(void)
{
    struct runtime_config cfg = {
        .loop = &F.loop,
        .root = F.root,
        .state_root = F.state_root,
        .volumes = F.volumes,
        .cgroup_parent = F.cgroup_parent,
        .self_exe = F.self_exe,
        .log_max_size = 1024 * 1024,
        .runtime = getenv("SHOAL_TEST_RUNTIME"), /* NULL: detect */
        .on_event = on_event,
    };
    struct err err = {0};
    struct runtime *rt = runtime_new(&cfg, &err);
    if (!rt)
        fprintf(stderr, "runtime_new: %s\n", err.msg);
    return rt;
}

static void write_text(const char *path, const char *text)
{
    struct err err = {0};
    if (fs_write_file_atomic(path, text, strlen(text), 0644, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
}

/* One layer: busybox and its applets, /etc/passwd and /etc/group, and
 * /data/seed for the volume copy-up. */
static void make_layer(void)
{
    static const char *const applets[] = {
        "sh",    "echo",  "sleep", "cat",      "ls",   "id",   "true",
        "touch", "mkdir", "kill",  "hostname", "test", "grep",
    };
    struct err err = {0};
    _cleanup_free_ char *bin = xasprintf("%s/bin", F.layer);
    _cleanup_free_ char *etc = xasprintf("%s/etc", F.layer);
    _cleanup_free_ char *data = xasprintf("%s/data", F.layer);
    fs_mkdir_p(bin, 0755, &err);
    fs_mkdir_p(etc, 0755, &err);
    fs_mkdir_p(data, 0755, &err);
    _cleanup_free_ char *bb_text = NULL;
    size_t len = 0;
    if (fs_read_file("/bin/busybox", &bb_text, &len, &err) < 0) {
        fprintf(stderr, "%s (install busybox-static)\n", err.msg);
        exit(1);
    }
    _cleanup_free_ char *bb = xasprintf("%s/busybox", bin);
    if (fs_write_file_atomic(bb, bb_text, len, 0755, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    for (size_t i = 0; i < ARRAY_SIZE(applets); i++) {
        _cleanup_free_ char *l = xasprintf("%s/%s", bin, applets[i]);
        if (symlink("busybox", l) < 0)
            perror("symlink");
    }
    _cleanup_free_ char *passwd = xasprintf("%s/passwd", etc);
    _cleanup_free_ char *group = xasprintf("%s/group", etc);
    _cleanup_free_ char *seed = xasprintf("%s/seed", data);
    write_text(passwd, "root:x:0:0:root:/root:/bin/sh\n"
                       "app:x:1000:1000::/home/app:/bin/sh\n");
    write_text(group, "root:x:0:\nwheel:x:10:root\napp:x:1000:\n");
    write_text(seed, "from the image\n");
}

static void fixture_paths(const char *tmp)
{
    F.tmp = xstrdup(tmp);
    F.root = xasprintf("%s/containers", F.tmp);
    F.state_root = xasprintf("%s/runtime", F.tmp);
    F.volumes_root = xasprintf("%s/volumes", F.tmp);
    F.layer = xasprintf("%s/layer", F.tmp);
    F.netns_dir = xasprintf("%s/netns", F.tmp);
}

static void fixture_init(void)
{
    char tmpl[] = "/tmp/shoal-ct.XXXXXX";
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        exit(1);
    }
    fixture_paths(tmpl);
    snprintf(F.cgroup_parent, sizeof(F.cgroup_parent), "shoal-test-%d",
             getpid());
    struct err err = {0};
    fs_mkdir_p(F.layer, 0755, &err);
    fs_mkdir_p(F.netns_dir, 0755, &err);
    make_layer();
    uv_loop_init(&F.loop);
    uv_timer_init(&F.loop, &F.tick);
    F.volumes = volume_store_new(F.volumes_root, &err);
    if (!F.volumes) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    F.rt = runtime_open();
    if (!F.rt)
        exit(1);
}

static void fixture_fini(void)
{
    runtime_free(F.rt);
    F.rt = NULL;
    volume_store_free(F.volumes);
    F.volumes = NULL;
    uv_close((uv_handle_t *)&F.tick, NULL);
    uv_run(&F.loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&F.loop), 0);
    struct err err = {0};
    if (cgroup_parent_remove(F.cgroup_parent, &err) < 0)
        fprintf(stderr, "cleanup: %s\n", err.msg);
    if (fs_remove_tree(F.tmp, &err) < 0)
        fprintf(stderr, "cleanup: %s\n", err.msg);
    free(F.tmp);
    free(F.root);
    free(F.state_root);
    free(F.volumes_root);
    free(F.layer);
    free(F.netns_dir);
}

/* ---- helpers ---- */

static struct image_ref *image_new(void)
{
    struct image_ref *img = xcalloc(1, sizeof(*img));
    img->id = xstrdup("sha256:"
                      "0000000000000000000000000000000000000000000000000000000"
                      "000000001");
    img->name = xstrdup("test/busybox:latest");
    img->config = json_pack("{s:[s], s:[s], s:s}", "Env",
                            "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "Cmd", "sh",
                            "StopSignal", "SIGTERM");
    img->layer_dirs = xcalloc(1, sizeof(char *));
    img->layer_dirs[0] = xstrdup(F.layer);
    img->n_layers = 1;
    return img;
}

static void image_free(struct image_ref *img)
{
    free(img->id);
    free(img->name);
    json_decref(img->config);
    free(img->layer_dirs[0]);
    free(img->layer_dirs);
    free(img);
}

/* Creates a container running args (a JSON array text); returns its id
 * (static storage per call site is fine: copied by the caller). */
static int create(char id[ID_HEX_LEN + 1], const char *name,
                  const char *spec_json, const char *res_json,
                  const char *netns, struct err *err)
{
    id_new_hex(id);
    json_error_t je;
    _cleanup_json_ json_t *spec = json_loads(spec_json, 0, &je);
    _cleanup_json_ json_t *res = res_json ? json_loads(res_json, 0, &je) : NULL;
    _cleanup_json_ json_t *labels =
        json_pack("{s:s}", "com.docker.swarm.task.id", name);
    struct image_ref *img = image_new();
    struct ctr_config cfg = {
        .id = id,
        .name = name,
        .labels = labels,
        .spec = spec,
        .resources = res,
        .netns = netns,
    };
    int r = ctr_create(F.rt, &cfg, img, err);
    image_free(img);
    return r;
}

struct logs {
    struct buf out, err;
    int n;
    int done;
};

static int collect_log(void *data, const struct ctr_log_entry *e)
{
    struct logs *l = data;
    buf_append(e->stream == 1 ? &l->out : &l->err, e->line, e->len);
    l->n++;
    return 0;
}

static void logs_init(struct logs *l)
{
    memset(l, 0, sizeof(*l));
    buf_init(&l->out);
    buf_init(&l->err);
    buf_puts(&l->out, "");
    buf_puts(&l->err, "");
}

static void logs_fini(struct logs *l)
{
    buf_fini(&l->out);
    buf_fini(&l->err);
}

static void read_logs(const char *id, struct logs *l)
{
    struct ctr_log_options o = {.stdout_ = true, .stderr_ = true, .tail = -1};
    struct err err = {0};
    logs_init(l);
    CHECK_INT(ctr_logs_read(F.rt, id, &o, collect_log, l, &err), 0);
}

static void dump_shim_log(const char *id)
{
    _cleanup_free_ char *p = xasprintf("%s/%s/shim.log", F.root, id);
    _cleanup_free_ char *text = NULL;
    struct err err = {0};
    if (fs_read_file(p, &text, NULL, &err) == 0 && *text)
        fprintf(stderr, "--- shim.log of %.12s:\n%s", id, text);
}

struct removed {
    bool done;
    int code;
};

static void on_removed(void *data, const struct err *err)
{
    struct removed *r = data;
    r->done = true;
    r->code = err ? err->code : 0;
    if (err)
        fprintf(stderr, "remove: %s\n", err->msg);
}

static bool removed_done(const void *arg)
{
    return ((const struct removed *)arg)->done;
}

/* Removes a container and checks that nothing of it is left. */
static void remove_and_check(const char *id_in)
{
    char id[ID_HEX_LEN + 1];
    snprintf(id, sizeof(id), "%s", id_in);
    /* The shim ended cleanly (no sanitizer report in its stderr). */
    _cleanup_free_ char *shimlog = xasprintf("%s/%s/shim.log", F.root, id);
    _cleanup_free_ char *shimtext = NULL;
    struct err e0 = {0};
    if (fs_read_file(shimlog, &shimtext, NULL, &e0) == 0) {
        bool clean = !strstr(shimtext, "Sanitizer") &&
                     !strstr(shimtext, "runtime error");
        CHECK(clean);
        if (!clean)
            fprintf(stderr, "%s", shimtext);
    }
    struct removed r = {0};
    struct err err = {0};
    CHECK_INT(ctr_remove(F.rt, id, on_removed, &r, &err), 0);
    CHECK(run_until(removed_done, &r, 5000));
    CHECK_INT(r.code, 0);
    CHECK(ctr_lookup(F.rt, id) == NULL);
    _cleanup_free_ char *dir = xasprintf("%s/%s", F.root, id);
    _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
    _cleanup_free_ char *state = xasprintf("%s/%s", F.state_root, id);
    _cleanup_free_ char *cg = cgroup_dir("memory", F.cgroup_parent, id);
    _cleanup_free_ char *cgp = cgroup_dir("pids", F.cgroup_parent, id);
    CHECK(!fs_exists(dir));
    CHECK(!rootfs_is_mounted(rootfs));
    CHECK(!fs_exists(state));
    CHECK(!fs_exists(cg));
    CHECK(!fs_exists(cgp));
}

/* ---- tests ---- */

static void test_run_exit(void)
{
    char id[ID_HEX_LEN + 1];
    struct err err = {0};
    int r = create(id, "exit3",
                   "{\"Command\":[\"sh\",\"-c\",\"echo hi; echo err >&2; "
                   "exit 3\"]}",
                   NULL, NULL, &err);
    CHECK_INT(r, 0);
    if (r < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    struct ctr_status st;
    CHECK_INT(ctr_get_status(F.rt, id, &st), 0);
    CHECK_INT(st.state, CTR_CREATED);
    CHECK_STR(ctr_lookup(F.rt, "exit3"), id);
    CHECK_STR(ctr_lookup(F.rt, "/exit3"), id);
    char prefix[13];
    snprintf(prefix, sizeof(prefix), "%.12s", id);
    CHECK_STR(ctr_lookup(F.rt, prefix), id);
    CHECK_STR(jx_str(ctr_labels(F.rt, id), "com.docker.swarm.task.id"),
              "exit3");
    /* Names are unique. */
    char id2[ID_HEX_LEN + 1];
    CHECK_INT(
        create(id2, "exit3", "{\"Command\":[\"true\"]}", NULL, NULL, &err), -1);
    CHECK_INT(err.code, 409);

    int64_t t0 = time_mono_ns();
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    bool exited = run_until(has_exited, id, 5000);
    CHECK(exited);
    if (!exited) {
        dump_shim_log(id);
        return;
    }
    const struct event *run = find_event(id, CTR_RUNNING);
    const struct event *ex = find_event(id, CTR_EXITED);
    CHECK(run != NULL);
    CHECK(run && run < ex);
    CHECK(run && run->st.pid > 0);
    CHECK_INT(ex->st.exit_code, 3);
    CHECK_STR(ex->st.error, "");
    CHECK(ex->st.finished_at >= ex->st.started_at);
    CHECK_INT(count_events(id, CTR_EXITED), 1);
    printf("  run to exit: %.1f ms\n", (double)(ex->mono_ns - t0) / 1e6);

    struct logs l;
    read_logs(id, &l);
    CHECK_STR(l.out.data, "hi\n");
    CHECK_STR(l.err.data, "err\n");
    logs_fini(&l);

    _cleanup_json_ json_t *insp = ctr_inspect_json(F.rt, "exit3", &err);
    CHECK(insp != NULL);
    CHECK_STR(jx_path_str(insp, "State.Status"), "exited");
    CHECK_INT(jx_path_int(insp, "State.ExitCode", -1), 3);
    CHECK_STR(jx_str(insp, "Name"), "/exit3");
    CHECK_STR(jx_str(insp, "Path"), "sh");
    CHECK_STR(jx_path_str(insp, "Config.Image"), "test/busybox:latest");
    CHECK_STR(jx_path_str(insp, "Config.Hostname"), prefix);
    CHECK(json_is_false(jx_path(insp, "State.Running")));

    _cleanup_json_ json_t *filters =
        json_pack("{s:[s]}", "label", "com.docker.swarm.task.id=exit3");
    _cleanup_json_ json_t *list = ctr_list_json(F.rt, true, filters);
    CHECK_INT(json_array_size(list), 1);
    json_t *item = json_array_get(list, 0);
    CHECK_STR(jx_str(item, "State"), "exited");
    CHECK(strncmp(jx_str0(item, "Status"), "Exited (3) ", 11) == 0);
    CHECK_STR(
        json_string_value(json_array_get(json_object_get(item, "Names"), 0)),
        "/exit3");
    CHECK_STR(jx_str(item, "Command"), "sh -c 'echo hi; echo err >&2; exit 3'");
    _cleanup_json_ json_t *running = ctr_list_json(F.rt, false, NULL);
    CHECK_INT(json_array_size(running), 0);
    static const struct {
        const char *filters;
        size_t n;
    } fcases[] = {
        {"{\"name\":[\"xit\"]}", 1},
        {"{\"name\":[\"nope\"]}", 0},
        {"{\"status\":[\"exited\"]}", 1},
        {"{\"status\":[\"running\"]}", 0},
        {"{\"label\":[\"com.docker.swarm.task.id\"]}", 1},
        {"{\"label\":[\"com.docker.swarm.task.id=other\"]}", 0},
        {"{\"label\":[\"com.docker.swarm.task.id\",\"missing\"]}", 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(fcases); i++) {
        _cleanup_json_ json_t *fj = json_loads(fcases[i].filters, 0, NULL);
        _cleanup_json_ json_t *fl = ctr_list_json(F.rt, true, fj);
        CHECK_INT(json_array_size(fl), fcases[i].n);
    }
    _cleanup_json_ json_t *idf = json_pack("{s:[s]}", "id", prefix);
    _cleanup_json_ json_t *idl = ctr_list_json(F.rt, true, idf);
    CHECK_INT(json_array_size(idl), 1);

    /* Starting again is refused. */
    CHECK_INT(ctr_start(F.rt, id, &err), -1);
    CHECK_INT(err.code, 409);
    remove_and_check(id);
    CHECK(ctr_inspect_json(F.rt, id, &err) == NULL);
    CHECK_INT(err.code, 404);
}

static void test_start_failure(void)
{
    char id[ID_HEX_LEN + 1];
    struct err err = {0};
    CHECK_INT(create(id, "nocmd", "{\"Command\":[\"/no/such/cmd\"]}", NULL,
                     NULL, &err),
              0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_exited, id, 5000));
    const struct event *ex = find_event(id, CTR_EXITED);
    CHECK(ex != NULL);
    CHECK(find_event(id, CTR_RUNNING) == NULL);
    if (ex) {
        printf("  start failure: exit %d, \"%s\"\n", ex->st.exit_code,
               ex->st.error);
        CHECK_INT(ex->st.exit_code, 127);
        CHECK(strstr(ex->st.error, "/no/such/cmd") != NULL);
    }
    remove_and_check(id);
}

static void test_bad_config(void)
{
    char id[ID_HEX_LEN + 1];
    struct err err = {0};
    CHECK_INT(create(id, "badbind",
                     "{\"Command\":[\"true\"],\"Mounts\":[{\"Type\":\"bind\","
                     "\"Source\":\"/nonexistent-shoal\",\"Target\":\"/x\"}]}",
                     NULL, NULL, &err),
              -1);
    CHECK_INT(err.code, 400);
    CHECK_STR(err.msg, "invalid mount config for type \"bind\": bind source "
                       "path does not exist: /nonexistent-shoal");
    _cleanup_free_ char *dir = xasprintf("%s/%s", F.root, id);
    CHECK(!fs_exists(dir));

    CHECK_INT(create(id, "baduser",
                     "{\"Command\":[\"true\"],\"User\":\"nobody\"}", NULL, NULL,
                     &err),
              -1);
    CHECK_INT(err.code, 400);
    CHECK_STR(err.msg,
              "unable to find user nobody: no matching entries in passwd "
              "file");
    _cleanup_free_ char *dir2 = xasprintf("%s/%s", F.root, id);
    _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir2);
    CHECK(!fs_exists(dir2));
    CHECK(!rootfs_is_mounted(rootfs));
}

static void test_stop(void)
{
    char id[ID_HEX_LEN + 1];
    struct err err = {0};
    /* sleep as pid 1 ignores SIGTERM: the grace period runs out. */
    CHECK_INT(create(id, "sleeper", "{\"Command\":[\"sleep\",\"1000\"]}", NULL,
                     NULL, &err),
              0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_running, id, 5000));
    CHECK(run_until(has_execd, id, 5000));
    _cleanup_json_ json_t *running = ctr_list_json(F.rt, false, NULL);
    CHECK_INT(json_array_size(running), 1);
    CHECK(strncmp(jx_str0(json_array_get(running, 0), "Status"), "Up ", 3) ==
          0);
    int64_t t0 = time_mono_ns();
    CHECK_INT(ctr_stop(F.rt, id, 0, 300 * NS_PER_MS, &err), 0);
    CHECK(run_until(has_exited, id, 5000));
    const struct event *ex = find_event(id, CTR_EXITED);
    if (ex) {
        double ms = (double)(ex->mono_ns - t0) / 1e6;
        printf("  stop with 300 ms grace (TERM ignored): exit %d after %.0f "
               "ms\n",
               ex->st.exit_code, ms);
        CHECK_INT(ex->st.exit_code, 137);
        CHECK(ms >= 300 && ms < 2000);
    }
    remove_and_check(id);

    /* A process that handles SIGTERM exits before the grace period (once
     * its handler is in place: it says so in a bind-mounted dir). */
    _cleanup_free_ char *ready_dir = xasprintf("%s/trapper-ready", F.tmp);
    _cleanup_free_ char *ready = xasprintf("%s/ok", ready_dir);
    CHECK_INT(mkdir(ready_dir, 0755), 0);
    _cleanup_free_ char *trapper = xasprintf(
        "{\"Command\":[\"sh\",\"-c\",\"trap 'exit 143' TERM; touch /ready/ok; "
        "while true; do sleep 0.05; done\"],\"Mounts\":[{\"Type\":\"bind\","
        "\"Source\":\"%s\",\"Target\":\"/ready\"}]}",
        ready_dir);
    CHECK_INT(create(id, "trapper", trapper, NULL, NULL, &err), 0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_running, id, 5000));
    CHECK(run_until(path_there, ready, 5000));
    t0 = time_mono_ns();
    CHECK_INT(ctr_stop(F.rt, id, 0, 5 * NS_PER_SEC, &err), 0);
    CHECK(run_until(has_exited, id, 6000));
    ex = find_event(id, CTR_EXITED);
    if (ex) {
        double ms = (double)(ex->mono_ns - t0) / 1e6;
        printf("  stop with 5 s grace (TERM handled): exit %d after %.0f ms\n",
               ex->st.exit_code, ms);
        CHECK_INT(ex->st.exit_code, 143);
        CHECK(ms < 2000);
    }
    remove_and_check(id);

    /* Remove of a running container kills it. */
    CHECK_INT(create(id, "removed-running",
                     "{\"Command\":[\"sleep\",\"1000\"]}", NULL, NULL, &err),
              0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_running, id, 5000));
    remove_and_check(id);
    CHECK(find_event(id, CTR_EXITED) != NULL);
}

static void test_kill_latency(void)
{
    char id[ID_HEX_LEN + 1];
    struct err err = {0};
    CHECK_INT(create(id, "victim", "{\"Command\":[\"sleep\",\"1000\"]}", NULL,
                     NULL, &err),
              0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_running, id, 5000));
    struct ctr_status st;
    CHECK_INT(ctr_get_status(F.rt, id, &st), 0);
    CHECK_INT(st.state, CTR_RUNNING);
    CHECK(st.pid > 0);
    if (st.pid <= 0) /* kill(0) would hit our own process group */
        return;
    int64_t t0 = time_mono_ns();
    CHECK_INT(kill(st.pid, SIGKILL), 0);
    CHECK(run_until(has_exited, id, 2000));
    const struct event *ex = find_event(id, CTR_EXITED);
    if (ex) {
        double ms = (double)(ex->mono_ns - t0) / 1e6;
        printf("  exit-notice latency after kill -9 from outside: %.1f ms\n",
               ms);
        CHECK(ms < 500);
        CHECK_INT(ex->st.exit_code, 137);
    }
    remove_and_check(id);
}

static bool pid_gone(const void *arg)
{
    return kill(*(const int *)arg, 0) < 0 && errno == ESRCH;
}

static void test_shim_killed(void)
{
    char id[ID_HEX_LEN + 1];
    struct err err = {0};
    CHECK_INT(create(id, "orphan", "{\"Command\":[\"sleep\",\"1000\"]}", NULL,
                     NULL, &err),
              0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_running, id, 5000));
    struct ctr_status st;
    CHECK_INT(ctr_get_status(F.rt, id, &st), 0);
    _cleanup_free_ char *shim_json = xasprintf("%s/%s/shim.json", F.root, id);
    _cleanup_free_ char *text = NULL;
    CHECK_INT(fs_read_file(shim_json, &text, NULL, &err), 0);
    _cleanup_json_ json_t *ss = text ? json_loads(text, 0, NULL) : NULL;
    int shim_pid = (int)jx_int(ss, "shim_pid", 0);
    CHECK(shim_pid > 0 && st.pid > 0);
    if (shim_pid <= 0 || st.pid <= 0)
        return;
    /* Without its shim nobody copies the output or records the exit: the
     * container is reported failed and killed by the release. */
    CHECK_INT(kill(shim_pid, SIGKILL), 0);
    CHECK(run_until(has_exited, id, 2000));
    const struct event *ex = find_event(id, CTR_EXITED);
    if (ex) {
        CHECK_STR(ex->st.error, "container shim exited unexpectedly");
        CHECK_INT(ex->st.exit_code, 255);
    }
    int pid = st.pid;
    CHECK(run_until(pid_gone, &pid, 5000));
    remove_and_check(id);
}

static void test_restore(void)
{
    char id[ID_HEX_LEN + 1], done_id[ID_HEX_LEN + 1];
    struct err err = {0};
    CHECK_INT(create(id, "survivor", "{\"Command\":[\"sleep\",\"1000\"]}", NULL,
                     NULL, &err),
              0);
    CHECK_INT(create(done_id, "quick",
                     "{\"Command\":[\"sh\",\"-c\",\"sleep 0.2; exit 7\"]}",
                     NULL, NULL, &err),
              0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK_INT(ctr_start(F.rt, done_id, &err), 0);
    CHECK(run_until(has_running, id, 5000));
    CHECK(run_until(has_running, done_id, 5000));
    struct ctr_status before;
    CHECK_INT(ctr_get_status(F.rt, id, &before), 0);

    /* shoald goes away: the containers keep running. */
    runtime_free(F.rt);
    F.rt = NULL;
    uv_run(&F.loop, UV_RUN_NOWAIT);
    int n_before = F.n_events;
    _cleanup_free_ char *exit_file = xasprintf("%s/%s/exit", F.root, done_id);
    CHECK(run_until(path_there, exit_file, 5000)); /* "quick" exited */
    CHECK_INT(F.n_events, n_before);               /* nobody listening */
    CHECK(before.pid > 0 && kill(before.pid, 0) == 0);

    F.rt = runtime_open();
    CHECK_INT(runtime_restore(F.rt, &err), 0);
    const struct event *run = find_event(id, CTR_RUNNING);
    CHECK(run != NULL && run - F.events >= n_before);
    CHECK(run && run->st.pid == before.pid);
    const struct event *qe = find_event(done_id, CTR_EXITED);
    CHECK(qe != NULL && qe - F.events >= n_before);
    CHECK(qe && qe->st.exit_code == 7);
    /* Restoring twice adopts nothing new. */
    int n_after = F.n_events;
    CHECK_INT(runtime_restore(F.rt, &err), 0);
    CHECK_INT(F.n_events, n_after);

    /* The re-adopted container's exit is noticed through the pidfd. */
    int64_t t0 = time_mono_ns();
    CHECK_INT(ctr_kill(F.rt, id, SIGKILL, &err), 0);
    CHECK(run_until(has_exited, id, 2000));
    const struct event *ex = find_event(id, CTR_EXITED);
    if (ex) {
        printf("  exit-notice latency of a re-adopted container: %.1f ms\n",
               (double)(ex->mono_ns - t0) / 1e6);
        CHECK_INT(ex->st.exit_code, 137);
        CHECK((ex->mono_ns - t0) / NS_PER_MS < 500);
    }
    remove_and_check(id);
    remove_and_check(done_id);
}

/* `test_container crash-child TMP CGROUP_PARENT`: a stand-in for shoald
 * that starts a container, prints its id and waits to be killed. */
static int crash_child_main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    fixture_paths(argv[1]);
    if (readlink("/proc/self/exe", F.self_exe, sizeof(F.self_exe) - 1) < 0)
        return 1;
    log_set_level(LOG_WARN);
    snprintf(F.cgroup_parent, sizeof(F.cgroup_parent), "%s", argv[2]);
    uv_loop_init(&F.loop);
    uv_timer_init(&F.loop, &F.tick);
    struct err verr = {0};
    F.volumes = volume_store_new(F.volumes_root, &verr);
    if (!F.volumes) {
        fprintf(stderr, "%s\n", verr.msg);
        exit(1);
    }
    F.rt = runtime_open();
    if (!F.rt)
        return 1;
    char id[ID_HEX_LEN + 1];
    struct err err = {0};
    if (create(id, "crashed-parent", "{\"Command\":[\"sleep\",\"1000\"]}", NULL,
               NULL, &err) < 0 ||
        ctr_start(F.rt, id, &err) < 0) {
        fprintf(stderr, "crash-child: %s\n", err.msg);
        return 1;
    }
    if (!run_until(has_running, id, 5000))
        return 1;
    printf("%s\n", id);
    fflush(stdout);
    for (;;)
        pause();
}

static void test_restore_after_crash(void)
{
    /* A separate process plays shoald and dies by SIGKILL: the shim must
     * not care, and this runtime must adopt the container. */
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    char *argv[] = {F.self_exe, (char *)"crash-child", F.tmp, F.cgroup_parent,
                    NULL};
    extern char **environ;
    pid_t child;
    int r = posix_spawn(&child, F.self_exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    CHECK_INT(r, 0);
    if (r != 0) {
        close(p[0]);
        return;
    }
    char id[ID_HEX_LEN + 2] = "";
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    if (poll(&pf, 1, 10000) == 1) {
        ssize_t n = read(p[0], id, sizeof(id) - 1);
        id[n > 0 ? n : 0] = '\0';
    }
    close(p[0]);
    char *nl = strchr(id, '\n');
    if (nl)
        *nl = '\0';
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    CHECK_INT(strlen(id), ID_HEX_LEN);
    if (strlen(id) != ID_HEX_LEN)
        return;

    struct err err = {0};
    CHECK_INT(runtime_restore(F.rt, &err), 0);
    const struct event *run = find_event(id, CTR_RUNNING);
    CHECK(run != NULL);
    if (!run)
        return;
    /* The shim is nobody's child here: it was the crashed process's. */
    _cleanup_free_ char *shim_json = xasprintf("%s/%s/shim.json", F.root, id);
    _cleanup_free_ char *text = NULL;
    CHECK_INT(fs_read_file(shim_json, &text, NULL, &err), 0);
    _cleanup_json_ json_t *ss = text ? json_loads(text, 0, NULL) : NULL;
    int shim_pid = (int)jx_int(ss, "shim_pid", 0);
    CHECK(shim_pid > 0 && kill(shim_pid, 0) == 0);
    int64_t t0 = time_mono_ns();
    CHECK_INT(ctr_stop(F.rt, id, SIGKILL, 0, &err), 0);
    CHECK(run_until(has_exited, id, 2000));
    const struct event *ex = find_event(id, CTR_EXITED);
    if (ex) {
        printf("  after a kill -9 of the owning process: re-adopted, exit "
               "noticed in %.1f ms\n",
               (double)(ex->mono_ns - t0) / 1e6);
        CHECK_INT(ex->st.exit_code, 137);
    }
    remove_and_check(id);
}

static void test_resources(void)
{
    char id[ID_HEX_LEN + 1];
    struct err err = {0};
    CHECK_INT(create(id, "limited", "{\"Command\":[\"sleep\",\"1000\"]}",
                     "{\"Limits\":{\"MemoryBytes\":67108864,\"Pids\":50,"
                     "\"NanoCPUs\":500000000}}",
                     NULL, &err),
              0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_running, id, 5000));
    bool v2 = cgroup_is_unified();
    _cleanup_free_ char *mem = cgroup_dir("memory", F.cgroup_parent, id);
    _cleanup_free_ char *pids = cgroup_dir("pids", F.cgroup_parent, id);
    _cleanup_free_ char *cpu = cgroup_dir("cpu", F.cgroup_parent, id);
    _cleanup_free_ char *memf =
        xasprintf("%s/%s", mem, v2 ? "memory.max" : "memory.limit_in_bytes");
    _cleanup_free_ char *pidsf = xasprintf("%s/pids.max", pids);
    _cleanup_free_ char *cpuf =
        xasprintf("%s/%s", cpu, v2 ? "cpu.max" : "cpu.cfs_quota_us");
    _cleanup_free_ char *text = NULL;
    CHECK_INT(fs_read_file(memf, &text, NULL, &err), 0);
    CHECK(text && strtoll(text, NULL, 10) == 67108864);
    free(text);
    text = NULL;
    CHECK_INT(fs_read_file(pidsf, &text, NULL, &err), 0);
    CHECK(text && strtoll(text, NULL, 10) == 50);
    free(text);
    text = NULL;
    CHECK_INT(fs_read_file(cpuf, &text, NULL, &err), 0);
    CHECK(text && strtoll(text, NULL, 10) == 50000);
    remove_and_check(id);
}

static void test_oom(void)
{
    char id[ID_HEX_LEN + 1];
    struct err err = {0};
    /* The shell buffers 200 MB of output in a 16 MB cgroup. */
    CHECK_INT(create(id, "hog",
                     "{\"Command\":[\"sh\",\"-c\",\"x=$(yes | head -c "
                     "200000000); echo survived\"]}",
                     "{\"Limits\":{\"MemoryBytes\":16777216}}", NULL, &err),
              0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_exited, id, 20000));
    const struct event *ex = find_event(id, CTR_EXITED);
    CHECK(ex != NULL);
    if (ex) {
        CHECK(ex->st.oom_killed);
        CHECK_INT(ex->st.exit_code, 137);
    }
    _cleanup_json_ json_t *insp = ctr_inspect_json(F.rt, id, &err);
    CHECK(json_is_true(jx_path(insp, "State.OOMKilled")));
    remove_and_check(id);
}

static void test_volume(void)
{
    char vol[64];
    snprintf(vol, sizeof(vol), "vol-%d", getpid());
    char spec[512];
    snprintf(spec, sizeof(spec),
             "{\"Command\":[\"sh\",\"-c\",\"cat /data/seed && echo kept > "
             "/data/f\"],\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"%s\","
             "\"Target\":\"/data\"},{\"Type\":\"volume\",\"Target\":"
             "\"/anon\"},{\"Type\":\"tmpfs\",\"Target\":\"/t\"}],"
             "\"ReadOnly\":true}",
             vol);
    char id[ID_HEX_LEN + 1];
    struct err err = {0};
    CHECK_INT(create(id, "vol1", spec, NULL, NULL, &err), 0);
    _cleanup_json_ json_t *insp = ctr_inspect_json(F.rt, id, &err);
    json_t *mounts = json_object_get(insp, "Mounts");
    CHECK_INT(json_array_size(mounts), 3);
    CHECK_STR(jx_str(json_array_get(mounts, 0), "Name"), vol);
    _cleanup_free_ char *anon_src =
        xstrdup(jx_str0(json_array_get(mounts, 1), "Source"));
    CHECK(strlen(anon_src) > 0 && fs_exists(anon_src));
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_exited, id, 5000));
    const struct event *ex = find_event(id, CTR_EXITED);
    CHECK(ex && ex->st.exit_code == 0);
    struct logs l;
    read_logs(id, &l);
    CHECK_STR(l.out.data, "from the image\n");
    logs_fini(&l);
    remove_and_check(id);
    CHECK(!fs_exists(anon_src)); /* anonymous volumes go with it */

    /* A second container sees what the first wrote. */
    snprintf(spec, sizeof(spec),
             "{\"Command\":[\"cat\",\"/data/f\"],\"Mounts\":[{\"Type\":"
             "\"volume\",\"Source\":\"%s\",\"Target\":\"/data\"}]}",
             vol);
    CHECK_INT(create(id, "vol2", spec, NULL, NULL, &err), 0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_exited, id, 5000));
    read_logs(id, &l);
    CHECK_STR(l.out.data, "kept\n");
    logs_fini(&l);
    remove_and_check(id);
    struct volume *v = volume_get(F.volumes, vol);
    CHECK(v != NULL);
    _cleanup_free_ char *data = xstrdup(v ? volume_path(v) : "");
    CHECK(fs_exists(data));
    CHECK_INT(volume_ref_count(v), 0);
    CHECK_INT(volume_remove(F.volumes, vol, NULL, &err), 0);
    CHECK(!fs_exists(data));

    /* Read-only root: writes outside mounts fail. */
    CHECK_INT(create(id, "ro",
                     "{\"Command\":[\"touch\",\"/x\"],\"ReadOnly\":true}", NULL,
                     NULL, &err),
              0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_exited, id, 5000));
    ex = find_event(id, CTR_EXITED);
    CHECK(ex && ex->st.exit_code == 1);
    remove_and_check(id);
}

static void test_netns_user(void)
{
    _cleanup_free_ char *ns = xasprintf("%s/n1", F.netns_dir);
    struct err err = {0};
    CHECK_INT(netns_create(ns, &err), 0);
    CHECK_INT(netns_create(ns, &err), -1);
    CHECK_INT(err.code, 409);
    char id[ID_HEX_LEN + 1];
    CHECK_INT(create(id, "netns",
                     "{\"Command\":[\"sh\",\"-c\",\"cat "
                     "/sys/class/net/lo/flags; ls /sys/class/net; id; "
                     "hostname; cat /proc/sys/net/ipv4/ip_forward\"],"
                     "\"User\":\"app\",\"Hostname\":\"web-1\","
                     "\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}}",
                     NULL, ns, &err),
              0);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(has_exited, id, 5000));
    const struct event *ex = find_event(id, CTR_EXITED);
    CHECK(ex && ex->st.exit_code == 0);
    struct logs l;
    read_logs(id, &l);
    /* IFF_UP | IFF_LOOPBACK (| IFF_RUNNING once up) */
    CHECK(strncmp(l.out.data, "0x9\nlo\n", 7) == 0 ||
          strncmp(l.out.data, "0x49\nlo\n", 8) == 0);
    CHECK(strstr(l.out.data, "uid=1000(app) gid=1000(app)") != NULL);
    CHECK(strstr(l.out.data, "web-1\n1\n") != NULL);
    if (getenv("HARNESS_VERBOSE"))
        fprintf(stderr, "%s%s", l.out.data, l.err.data);
    logs_fini(&l);
    remove_and_check(id);
    CHECK_INT(netns_delete(ns, &err), 0);
    CHECK(!fs_exists(ns));
    CHECK(!rootfs_is_mounted(ns));
    CHECK_INT(netns_delete(ns, &err), 0);
}

static int follow_fn(void *data, const struct ctr_log_entry *e)
{
    return collect_log(data, e);
}

static void follow_done(void *data)
{
    ((struct logs *)data)->done++;
}

static bool follow_finished(const void *arg)
{
    return ((const struct logs *)arg)->done > 0;
}

static void test_follow(void)
{
    char id[ID_HEX_LEN + 1];
    struct err err = {0};
    CHECK_INT(create(id, "chatty",
                     "{\"Command\":[\"sh\",\"-c\",\"echo a; sleep 0.2; echo "
                     "b >&2; sleep 0.2; echo c\"]}",
                     NULL, NULL, &err),
              0);
    struct logs l;
    logs_init(&l);
    struct ctr_log_options o = {.stdout_ = true, .stderr_ = true, .tail = -1};
    /* Following before the start: everything arrives, then done. */
    struct ctr_log_follow *f =
        ctr_logs_follow(F.rt, id, &o, follow_fn, follow_done, &l, &err);
    CHECK(f != NULL);
    CHECK_INT(ctr_start(F.rt, id, &err), 0);
    CHECK(run_until(follow_finished, &l, 5000));
    CHECK_STR(l.out.data, "a\nc\n");
    CHECK_STR(l.err.data, "b\n");
    CHECK_INT(l.done, 1);
    ctr_logs_unfollow(f);
    logs_fini(&l);

    /* Following an exited container: done at once. */
    logs_init(&l);
    f = ctr_logs_follow(F.rt, id, &o, follow_fn, follow_done, &l, &err);
    CHECK(run_until(follow_finished, &l, 2000));
    CHECK_INT(l.n, 0);
    ctr_logs_unfollow(f);
    logs_fini(&l);
    remove_and_check(id);
}

static void test_netns_async_done(void *data, const struct err *err)
{
    int *done = data;
    *done = err ? -1 : 1;
}

static bool int_set(const void *p)
{
    return *(const int *)p != 0;
}

struct ns_probe {
    uv_work_t req;
    ino_t ino;
    bool done;
};

static void probe_work(uv_work_t *req)
{
    struct ns_probe *p = req->data;
    struct stat st;
    if (stat("/proc/thread-self/ns/net", &st) == 0)
        p->ino = st.st_ino;
}

static void probe_done(uv_work_t *req, int status)
{
    (void)status;
    ((struct ns_probe *)req->data)->done = true;
}

static bool probe_finished(const void *arg)
{
    return ((const struct ns_probe *)arg)->done;
}

static void test_netns_async(void)
{
    _cleanup_free_ char *ns = xasprintf("%s/n2", F.netns_dir);
    int done = 0;
    struct err err = {0};
    CHECK(netns_create_async(&F.loop, ns, test_netns_async_done, &done, &err));
    CHECK(run_until(int_set, &done, 5000));
    CHECK_INT(done, 1);
    CHECK(rootfs_is_mounted(ns));
    /* The worker thread went back: our own namespace still has the host's
     * links, so this one is different. */
    struct stat a, b;
    CHECK(stat(ns, &a) == 0 && stat("/proc/self/ns/net", &b) == 0 &&
          a.st_ino != b.st_ino);
    /* The pool has one thread (UV_THREADPOOL_SIZE=1, set in main): the
     * next work item runs on the thread that made the namespace, which
     * must be back in ours. */
    struct ns_probe probe = {0};
    probe.req.data = &probe;
    CHECK_INT(uv_queue_work(&F.loop, &probe.req, probe_work, probe_done), 0);
    CHECK(run_until(probe_finished, &probe, 5000));
    CHECK(probe.ino != 0 && probe.ino == b.st_ino);
    CHECK_INT(netns_delete(ns, &err), 0);
    CHECK(run_until(path_gone, ns, 100));
}

/* An abandoned creation (its owner freed meanwhile) never calls back and
 * leaves no namespace behind. */
static void test_netns_async_abandoned(void)
{
    _cleanup_free_ char *ns = xasprintf("%s/n3", F.netns_dir);
    int done = 0;
    struct err err = {0};
    struct netns_work *w =
        netns_create_async(&F.loop, ns, test_netns_async_done, &done, &err);
    CHECK(w != NULL);
    netns_create_abandon(w);
    /* The work is queued behind the probe: once the probe is back, the
     * creation's completion has run too. */
    struct ns_probe probe = {0};
    probe.req.data = &probe;
    CHECK_INT(uv_queue_work(&F.loop, &probe.req, probe_work, probe_done), 0);
    CHECK(run_until(probe_finished, &probe, 5000));
    CHECK(uv_run(&F.loop, UV_RUN_NOWAIT) >= 0);
    CHECK_INT(done, 0);
    CHECK(run_until(path_gone, ns, 100));
}

static void test_rootfs_limits(void)
{
    /* Too many long layer paths for one page of mount options. */
    char *layers[64];
    for (size_t i = 0; i < ARRAY_SIZE(layers); i++)
        layers[i] = xasprintf("%s/%0100zu", F.layer, i);
    struct err err = {0};
    _cleanup_free_ char *target = xasprintf("%s/mnt", F.tmp);
    CHECK_INT(
        rootfs_mount(layers, ARRAY_SIZE(layers), "/u", "/w", target, &err), -1);
    CHECK_INT(err.code, 400);
    CHECK(strstr(err.msg, "more than the page size") != NULL);
    char *bad[1] = {(char *)"/a:b"};
    CHECK_INT(rootfs_mount(bad, 1, "/u", "/w", target, &err), -1);
    CHECK(strstr(err.msg, "contains ',' or ':'") != NULL);
    for (size_t i = 0; i < ARRAY_SIZE(layers); i++)
        free(layers[i]);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "shim") == 0)
        return shim_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "crash-child") == 0)
        return crash_child_main(argc - 1, argv + 1);
    if (geteuid() != 0) {
        printf("%s: skipped (needs root)\n", __FILE__);
        HARNESS_END();
    }
    if (!fs_exists("/bin/busybox")) {
        printf("%s: skipped (needs busybox-static)\n", __FILE__);
        HARNESS_END();
    }
    /* Our own mount namespace: rootfs and netns mounts vanish with us even
     * if a test dies half-way. */
    if (unshare(CLONE_NEWNS) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        perror("mount namespace");
        return 1;
    }
    if (readlink("/proc/self/exe", F.self_exe, sizeof(F.self_exe) - 1) < 0) {
        perror("readlink");
        return 1;
    }
    log_set_level(getenv("HARNESS_VERBOSE") ? LOG_DEBUG : LOG_WARN);
    setenv("UV_THREADPOOL_SIZE", "1", 1);
    fixture_init();
    printf("  runtime: %s (%s)\n", runtime_name(F.rt), runtime_version(F.rt));
    RUN(test_run_exit);
    RUN(test_start_failure);
    RUN(test_bad_config);
    RUN(test_stop);
    RUN(test_kill_latency);
    RUN(test_shim_killed);
    RUN(test_restore);
    RUN(test_restore_after_crash);
    RUN(test_resources);
    RUN(test_oom);
    RUN(test_volume);
    RUN(test_netns_user);
    RUN(test_follow);
    RUN(test_netns_async);
    RUN(test_netns_async_abandoned);
    RUN(test_rootfs_limits);
    fixture_fini();
    HARNESS_END();
}
