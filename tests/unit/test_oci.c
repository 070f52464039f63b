// SPDX-License-Identifier: Apache-2.0
// Unit tests for src/runtime/oci.c: Docker's rules for args, env, working
// dir, user lookup, capabilities, mounts, resources and signals, and the
// error messages for bad input. No root, no runtime.
#include "harness.h"

#include <signal.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "runtime/oci.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    if (!j) {
        fprintf(stderr, "bad test json: %s: %s\n", text, e.text);
        exit(2);
    }
    return j;
}

/* Compact dump of j, for comparing with an expected text. */
static char *D(const json_t *j)
{
    return j ? jx_dumps(j) : xstrdup("(null)");
}

#define CHECK_JSON(j, text)                                                    \
    do {                                                                       \
        _cleanup_free_ char *d_ = D(j);                                        \
        CHECK_STR(d_, text);                                                   \
    } while (0)

static void test_args(void)
{
    static const struct {
        const char *img, *spec, *want;
    } cases[] = {
        /* image only */
        {"{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"a\",\"b\"]}", "{}",
         "[\"/ep\",\"a\",\"b\"]"},
        {"{\"Cmd\":[\"sh\"]}", "{}", "[\"sh\"]"},
        /* Args replaces Cmd, keeps Entrypoint */
        {"{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"a\"]}", "{\"Args\":[\"x\"]}",
         "[\"/ep\",\"x\"]"},
        /* Command replaces Entrypoint and drops the image Cmd */
        {"{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"a\"]}",
         "{\"Command\":[\"/bin/echo\"]}", "[\"/bin/echo\"]"},
        /* Command + Args */
        {"{\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"a\"]}",
         "{\"Command\":[\"/bin/echo\"],\"Args\":[\"hi\"]}",
         "[\"/bin/echo\",\"hi\"]"},
        /* empty arrays count as unset */
        {"{\"Cmd\":[\"sh\"]}", "{\"Command\":[],\"Args\":[]}", "[\"sh\"]"},
        {"{}", "{\"Args\":[\"only\"]}", "[\"only\"]"},
        {"{\"Entrypoint\":null,\"Cmd\":null}", "{}", "(null)"},
        {"{}", "{}", "(null)"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_json_ json_t *img = J(cases[i].img);
        _cleanup_json_ json_t *spec = J(cases[i].spec);
        struct err err = {0};
        _cleanup_json_ json_t *args = oci_process_args(img, spec, &err);
        CHECK_JSON(args, cases[i].want);
        if (!args) {
            CHECK_INT(err.code, 400);
            CHECK_STR(err.msg, "no command specified");
        }
    }
}

static void test_env(void)
{
    static const struct {
        const char *img, *spec, *want;
    } cases[] = {
        {"{}", "{}", "[\"PATH=" OCI_DEFAULT_PATH "\",\"HOSTNAME=h1\"]"},
        /* the image's PATH replaces the default in place */
        {"{\"Env\":[\"PATH=/x\",\"A=1\"]}", "{}",
         "[\"PATH=/x\",\"HOSTNAME=h1\",\"A=1\"]"},
        /* spec entries first, overriding image ones by key */
        {"{\"Env\":[\"A=1\",\"B=2\"]}", "{\"Env\":[\"B=3\",\"C=4\"]}",
         "[\"PATH=" OCI_DEFAULT_PATH
         "\",\"HOSTNAME=h1\",\"B=3\",\"C=4\",\"A=1\"]"},
        /* a bare key removes */
        {"{\"Env\":[\"A=1\"]}", "{\"Env\":[\"HOSTNAME\"]}",
         "[\"PATH=" OCI_DEFAULT_PATH "\",\"A=1\"]"},
        /* values may contain '=' */
        {"{}", "{\"Env\":[\"Q=a=b\",\"HOSTNAME=mine\"]}",
         "[\"PATH=" OCI_DEFAULT_PATH "\",\"HOSTNAME=mine\",\"Q=a=b\"]"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_json_ json_t *img = J(cases[i].img);
        _cleanup_json_ json_t *spec = J(cases[i].spec);
        _cleanup_json_ json_t *env = oci_process_env(img, spec, "h1");
        CHECK_JSON(env, cases[i].want);
    }
}

static const char PASSWD[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# comment\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                             "bad line\n"
                             "app:x:1000:1000::/home/app:/bin/sh\n"
                             "www:x:33:33::/var/www:/bin/false\n";
static const char GROUP[] = "root:x:0:\n"
                            "wheel:x:10:root,app\n"
                            "app:x:1000:\n"
                            "audio:x:29:app\n"
                            "www:x:33:\n"
                            "staff:x:50:www\n";

static void test_user(void)
{
    static const struct {
        const char *user;
        const char *groups;
        int uid, gid;
        const char *gids;
        const char *err;
    } cases[] = {
        {"", NULL, 0, 0, "0,10", NULL},
        {"root", NULL, 0, 0, "0,10", NULL},
        {"app", NULL, 1000, 1000, "1000,10,29", NULL},
        {"1000", NULL, 1000, 1000, "1000,10,29", NULL},
        /* explicit group: no supplementary groups */
        {"app:www", NULL, 1000, 33, "33", NULL},
        {"app:50", NULL, 1000, 50, "50", NULL},
        {"www:777", NULL, 33, 777, "777", NULL},
        /* unknown numeric user: gid 0 */
        {"4242", NULL, 4242, 0, "0", NULL},
        {"4242:4243", NULL, 4242, 4243, "4243", NULL},
        /* Groups add */
        {"www", "[\"audio\",\"99\"]", 33, 33, "33,50,29,99", NULL},
        {"nobody", NULL, 0, 0, "",
         "unable to find user nobody: no matching entries in passwd file"},
        {"app:nogroup", NULL, 0, 0, "",
         "unable to find group nogroup: no matching entries in group file"},
        {"app", "[\"nogroup\"]", 0, 0, "",
         "unable to find group nogroup: no matching entries in group file"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_json_ json_t *groups =
            cases[i].groups ? J(cases[i].groups) : NULL;
        struct oci_user u;
        struct err err = {0};
        int r =
            oci_user_resolve(cases[i].user, groups, PASSWD, GROUP, &u, &err);
        if (cases[i].err) {
            CHECK_INT(r, -1);
            CHECK_INT(err.code, 400);
            CHECK_STR(err.msg, cases[i].err);
            continue;
        }
        CHECK_INT(r, 0);
        CHECK_INT(u.uid, cases[i].uid);
        CHECK_INT(u.gid, cases[i].gid);
        char gids[128] = "";
        for (size_t k = 0; k < u.n_gids; k++)
            snprintf(gids + strlen(gids), sizeof(gids) - strlen(gids), "%s%u",
                     k ? "," : "", u.gids[k]);
        CHECK_STR(gids, cases[i].gids);
    }
    /* No passwd file: numeric works, names do not. */
    struct oci_user u;
    struct err err = {0};
    CHECK_INT(oci_user_resolve("12:34", NULL, NULL, NULL, &u, &err), 0);
    CHECK_INT(u.uid, 12);
    CHECK_INT(u.gid, 34);
    CHECK_INT(oci_user_resolve(NULL, NULL, NULL, NULL, &u, &err), 0);
    CHECK_INT(u.uid, 0);
    CHECK_INT(oci_user_resolve("app", NULL, NULL, NULL, &u, &err), -1);
}

static void test_caps(void)
{
    static const char *def = "[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\","
                             "\"CAP_FSETID\",\"CAP_FOWNER\",\"CAP_MKNOD\","
                             "\"CAP_NET_RAW\",\"CAP_SETGID\",\"CAP_SETUID\","
                             "\"CAP_SETFCAP\",\"CAP_SETPCAP\","
                             "\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_CHROOT\","
                             "\"CAP_KILL\",\"CAP_AUDIT_WRITE\"]";
    struct err err = {0};
    _cleanup_json_ json_t *c0 = oci_capabilities(NULL, NULL, &err);
    CHECK_JSON(c0, def);

    _cleanup_json_ json_t *add = J("[\"net_admin\",\"CAP_SYS_ADMIN\","
                                   "\"CHOWN\"]");
    _cleanup_json_ json_t *drop = J("[\"cap_net_raw\",\"MKNOD\",\"KILL\","
                                    "\"SETPCAP\",\"SETFCAP\",\"AUDIT_WRITE\","
                                    "\"FSETID\",\"FOWNER\"]");
    _cleanup_json_ json_t *c1 = oci_capabilities(add, drop, &err);
    CHECK_JSON(c1, "[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_SETGID\","
                   "\"CAP_SETUID\",\"CAP_NET_BIND_SERVICE\","
                   "\"CAP_SYS_CHROOT\",\"CAP_NET_ADMIN\",\"CAP_SYS_ADMIN\"]");

    _cleanup_json_ json_t *dall = J("[\"ALL\"]");
    _cleanup_json_ json_t *a1 = J("[\"KILL\"]");
    _cleanup_json_ json_t *c2 = oci_capabilities(a1, dall, &err);
    CHECK_JSON(c2, "[\"CAP_KILL\"]");

    _cleanup_json_ json_t *aall = J("[\"all\"]");
    _cleanup_json_ json_t *c3 = oci_capabilities(aall, a1, &err);
    CHECK(c3 && json_array_size(c3) == 40);

    _cleanup_json_ json_t *bad = J("[\"CAP_FOO\"]");
    CHECK(oci_capabilities(bad, NULL, &err) == NULL);
    CHECK_INT(err.code, 400);
    CHECK_STR(err.msg, "unknown capability: \"CAP_FOO\"");
    _cleanup_json_ json_t *notarr = J("\"x\"");
    CHECK(oci_capabilities(NULL, notarr, &err) == NULL);
}

static void test_signals(void)
{
    CHECK_INT(oci_signal_parse("SIGTERM"), SIGTERM);
    CHECK_INT(oci_signal_parse("term"), SIGTERM);
    CHECK_INT(oci_signal_parse("9"), 9);
    CHECK_INT(oci_signal_parse("SIGUSR1"), SIGUSR1);
    CHECK_INT(oci_signal_parse("SIGRTMIN+3"), SIGRTMIN + 3);
    CHECK_INT(oci_signal_parse("0"), -1);
    CHECK_INT(oci_signal_parse("65"), -1);
    CHECK_INT(oci_signal_parse("SIGNOPE"), -1);
    CHECK_INT(oci_signal_parse(""), -1);
    struct err err = {0};
    _cleanup_json_ json_t *img = J("{\"StopSignal\":\"SIGQUIT\"}");
    _cleanup_json_ json_t *spec = J("{\"StopSignal\":\"SIGINT\"}");
    _cleanup_json_ json_t *empty = J("{}");
    _cleanup_json_ json_t *bad = J("{\"StopSignal\":\"SIGWHAT\"}");
    CHECK_INT(oci_stop_signal(NULL, NULL, &err), SIGTERM);
    CHECK_INT(oci_stop_signal(img, empty, &err), SIGQUIT);
    CHECK_INT(oci_stop_signal(img, spec, &err), SIGINT);
    CHECK_INT(oci_stop_signal(NULL, bad, &err), -1);
    CHECK_STR(err.msg, "invalid signal: SIGWHAT");
}

static void test_mount_errors(void)
{
    static const struct {
        const char *mounts, *err;
    } cases[] = {
        {"[{\"Type\":\"bind\",\"Target\":\"/x\"}]",
         "invalid mount config for type \"bind\": field Source must not be "
         "empty"},
        {"[{\"Type\":\"bind\",\"Source\":\"/a\"}]",
         "invalid mount config for type \"bind\": field Target must not be "
         "empty"},
        {"[{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"x\"}]",
         "invalid mount config for type \"bind\": invalid mount path: 'x' "
         "mount path must be absolute"},
        {"[{\"Type\":\"bind\",\"Source\":\"rel\",\"Target\":\"/x\"}]",
         "invalid mount config for type \"bind\": invalid mount path: 'rel' "
         "mount path must be absolute"},
        {"[{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/x\","
         "\"BindOptions\":{\"Propagation\":\"weird\"}}]",
         "invalid mount config for type \"bind\": invalid propagation mode: "
         "weird"},
        {"[{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/x\","
         "\"VolumeOptions\":{}}]",
         "invalid mount config for type \"bind\": field VolumeOptions must "
         "not be specified"},
        {"[{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/x\","
         "\"BindOptions\":{}}]",
         "invalid mount config for type \"volume\": field BindOptions must "
         "not be specified"},
        {"[{\"Type\":\"volume\",\"Source\":\"/abs\",\"Target\":\"/x\"}]",
         "invalid mount config for type \"volume\": \"/abs\" includes invalid "
         "characters for a local volume name, only "
         "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass "
         "a host directory, use absolute path"},
        {"[{\"Type\":\"tmpfs\",\"Source\":\"x\",\"Target\":\"/x\"}]",
         "invalid mount config for type \"tmpfs\": field Source must not be "
         "specified"},
        {"[{\"Type\":\"tmpfs\",\"Target\":\"/x\","
         "\"TmpfsOptions\":{\"SizeBytes\":-1}}]",
         "invalid mount config for type \"tmpfs\": invalid size: -1"},
        {"[{\"Type\":\"npipe\",\"Target\":\"/x\"}]",
         "invalid mount config: mount type unknown: \"npipe\""},
        {"[{\"Type\":\"tmpfs\",\"Target\":\"/\"}]",
         "invalid specification: destination can't be '/'"},
        {"[{\"Type\":\"tmpfs\",\"Target\":\"/x\"},"
         "{\"Type\":\"volume\",\"Target\":\"/x/\"}]",
         "Duplicate mount point: /x"},
        {"{}", "invalid mount config: Mounts must be an array"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_json_ json_t *m = J(cases[i].mounts);
        struct oci_mounts out;
        struct err err = {0};
        CHECK_INT(oci_mounts_parse(m, &out, &err), -1);
        CHECK_INT(err.code, 400);
        CHECK_STR(err.msg, cases[i].err);
        CHECK(out.n == 0 && out.v == NULL);
    }

    /* Bind sources must exist. */
    _cleanup_json_ json_t *m = J("[{\"Type\":\"bind\",\"Source\":\"/tmp\","
                                 "\"Target\":\"/a\"},{\"Type\":\"bind\","
                                 "\"Source\":\"/nonexistent-shoal-x\","
                                 "\"Target\":\"/b\"}]");
    struct oci_mounts out;
    struct err err = {0};
    CHECK_INT(oci_mounts_parse(m, &out, &err), 0);
    CHECK_INT(out.n, 2);
    CHECK_INT(oci_mounts_check_sources(&out, &err), -1);
    CHECK_INT(err.code, 400);
    CHECK_STR(err.msg, "invalid mount config for type \"bind\": bind source "
                       "path does not exist: /nonexistent-shoal-x");
    oci_mounts_fini(&out);
}

static void test_mount_parse(void)
{
    _cleanup_json_ json_t *m = J(
        "[{\"Type\":\"bind\",\"Source\":\"/srv//data/\",\"Target\":\"/d/./x\","
        "\"ReadOnly\":true,\"BindOptions\":{\"Propagation\":\"rslave\","
        "\"NonRecursive\":true}},"
        "{\"Source\":\"vol1\",\"Target\":\"/v\",\"VolumeOptions\":{\"NoCopy\":"
        "true}},"
        "{\"Type\":\"volume\",\"Target\":\"/anon\"},"
        "{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"TmpfsOptions\":{\"SizeBytes\":"
        "1048576,\"Mode\":448}}]");
    struct oci_mounts out;
    struct err err = {0};
    CHECK_INT(oci_mounts_parse(m, &out, &err), 0);
    CHECK_INT(out.n, 4);
    CHECK_INT(out.v[0].type, OCI_MOUNT_BIND);
    CHECK_STR(out.v[0].source, "/srv/data");
    CHECK_STR(out.v[0].target, "/d/x");
    CHECK_STR(out.v[0].host_path, "/srv/data");
    CHECK(out.v[0].readonly);
    CHECK(out.v[0].nonrecursive);
    CHECK_STR(out.v[0].propagation, "rslave");
    CHECK_INT(out.v[1].type, OCI_MOUNT_VOLUME); /* default type */
    CHECK_STR(out.v[1].source, "vol1");
    CHECK(out.v[1].nocopy);
    CHECK_STR(out.v[2].source, "");
    CHECK_INT(out.v[3].type, OCI_MOUNT_TMPFS);
    CHECK_INT(out.v[3].tmpfs_size, 1048576);
    CHECK_INT(out.v[3].tmpfs_mode, 0700);
    oci_mounts_fini(&out);

    CHECK_INT(oci_mounts_parse(NULL, &out, &err), 0);
    CHECK_INT(out.n, 0);
}

/* Finds the mount at dest in a built spec. */
static json_t *spec_mount(const json_t *spec, const char *dest)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(spec, "mounts"), i, m)
    {
        if (strcmp(jx_str(m, "destination"), dest) == 0)
            return m;
    }
    return NULL;
}

static int mount_index(const json_t *spec, const char *dest)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(spec, "mounts"), i, m)
    {
        if (strcmp(jx_str(m, "destination"), dest) == 0)
            return (int)i;
    }
    return -1;
}

static void test_spec_build(void)
{
    _cleanup_json_ json_t *img =
        J("{\"Env\":[\"PATH=/bin\"],\"Entrypoint\":[\"sh\"],\"Cmd\":[\"x\"],"
          "\"WorkingDir\":\"/w\","
          "\"User\":\"app\"}");
    _cleanup_json_ json_t *spec =
        J("{\"Args\":[\"-c\",\"true\"],\"ReadOnly\":true,\"Sysctls\":{\"net."
          "ipv4.ip_forward\":\"1\"},\"Ulimits\":[{\"Name\":\"nproc\",\"Soft\":"
          "10,\"Hard\":20}],\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/a/"
          "b\"},{\"Type\":\"tmpfs\",\"Target\":\"/a\"},{\"Type\":\"tmpfs\","
          "\"Target\":\"/dev/shm\",\"TmpfsOptions\":{\"SizeBytes\":1024}}]}");
    _cleanup_json_ json_t *res =
        J("{\"Limits\":{\"MemoryBytes\":67108864,\"NanoCPUs\":1500000000,"
          "\"Pids\":100}}");
    struct oci_mounts mounts;
    struct err err = {0};
    CHECK_INT(oci_mounts_parse(json_object_get(spec, "Mounts"), &mounts, &err),
              0);
    struct oci_input in = {
        .image_config = img,
        .spec = spec,
        .resources = res,
        .hostname = "abc",
        .rootfs = "/c/rootfs",
        .netns = "/run/netns/x",
        .cgroups_path = "/shoal/abc",
        .hostname_path = "/c/hostname",
        .hosts_path = "/c/hosts",
        .resolv_path = "/c/resolv.conf",
        .passwd = PASSWD,
        .group = GROUP,
        .mounts = &mounts,
    };
    _cleanup_json_ json_t *s = oci_spec_build(&in, &err);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "%s\n", err.msg);
        oci_mounts_fini(&mounts);
        return;
    }
    CHECK_JSON(jx_path(s, "process.args"), "[\"sh\",\"-c\",\"true\"]");
    CHECK_JSON(jx_path(s, "process.env"), "[\"PATH=/bin\",\"HOSTNAME=abc\"]");
    CHECK_STR(jx_path_str(s, "process.cwd"), "/w");
    CHECK_INT(jx_path_int(s, "process.user.uid", -1), 1000);
    CHECK_INT(jx_path_int(s, "process.user.gid", -1), 1000);
    CHECK_JSON(jx_path(s, "process.user.additionalGids"), "[1000,10,29]");
    /* Off unless Privileges.NoNewPrivileges, as in Docker. */
    CHECK(json_is_false(jx_path(s, "process.noNewPrivileges")));
    CHECK(json_is_false(jx_path(s, "process.terminal")));
    /* non-root: bounding only */
    CHECK(jx_path(s, "process.capabilities.bounding") != NULL);
    CHECK(jx_path(s, "process.capabilities.effective") == NULL);
    CHECK(jx_path(s, "process.capabilities.inheritable") == NULL);
    CHECK_JSON(jx_path(s, "process.rlimits"),
               "[{\"type\":\"RLIMIT_NPROC\",\"hard\":20,\"soft\":10},"
               "{\"type\":\"RLIMIT_NOFILE\",\"hard\":1048576,\"soft\":"
               "1048576}]");
    CHECK(json_is_true(jx_path(s, "root.readonly")));
    CHECK_STR(jx_path_str(s, "root.path"), "/c/rootfs");
    CHECK_STR(jx_path_str(s, "hostname"), "abc");
    CHECK_INT(jx_path_int(s, "linux.resources.memory.limit", 0), 67108864);
    CHECK_INT(jx_path_int(s, "linux.resources.cpu.period", 0), 100000);
    CHECK_INT(jx_path_int(s, "linux.resources.cpu.quota", 0), 150000);
    CHECK_INT(jx_path_int(s, "linux.resources.pids.limit", 0), 100);
    CHECK_STR(jx_path_str(s, "linux.cgroupsPath"), "/shoal/abc");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(jx_path(s, "linux"), "sysctl"),
                  "net.ipv4.ip_forward")),
              "1");
    json_t *devs = jx_path(s, "linux.resources.devices");
    CHECK_JSON(json_array_get(devs, 0), "{\"allow\":false,\"access\":\"rwm\"}");
    CHECK_JSON(json_array_get(devs, 1),
               "{\"allow\":true,\"type\":\"c\",\"access\":\"m\"}");
    CHECK_JSON(json_array_get(devs, 3), "{\"allow\":true,\"type\":\"c\","
                                        "\"major\":1,\"minor\":3,\"access\":"
                                        "\"rwm\"}");
    CHECK_JSON(jx_path(s, "linux.namespaces"),
               "[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
               "{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"/run/"
               "netns/x\"}]");
    CHECK(json_array_size(jx_path(s, "linux.maskedPaths")) == 10);
    CHECK(json_array_size(jx_path(s, "linux.readonlyPaths")) == 5);

    /* Default mounts, the user's /dev/shm replacing ours, files ro with a
     * read-only root, parents before children. */
    CHECK(spec_mount(s, "/proc") != NULL);
    CHECK_JSON(jx_path(spec_mount(s, "/sys"), "options"),
               "[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]");
    CHECK_JSON(spec_mount(s, "/etc/hosts"),
               "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":"
               "\"/c/hosts\",\"options\":[\"rbind\",\"rprivate\",\"ro\"]}");
    CHECK_JSON(spec_mount(s, "/dev/shm"),
               "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":"
               "\"tmpfs\",\"options\":[\"noexec\",\"nosuid\",\"nodev\","
               "\"rw\",\"size=1024\"]}");
    CHECK(mount_index(s, "/a") < mount_index(s, "/a/b"));
    CHECK(mount_index(s, "/etc/resolv.conf") < mount_index(s, "/a"));
    oci_mounts_fini(&mounts);

    /* Root: capabilities in effective and permitted too; no netns path =
     * a new namespace; cgroup namespace on v2. */
    _cleanup_json_ json_t *spec2 =
        J("{\"Command\":[\"/bin/sh\"],\"User\":\"0\",\"Dir\":\"/d\"}");
    struct oci_input in2 = {
        .image_config = img,
        .spec = spec2,
        .rootfs = "/r",
        .cgroup2 = true,
    };
    _cleanup_json_ json_t *s2 = oci_spec_build(&in2, &err);
    CHECK(s2 != NULL);
    CHECK_JSON(jx_path(s2, "process.args"), "[\"/bin/sh\"]");
    CHECK_STR(jx_path_str(s2, "process.cwd"), "/d");
    CHECK(jx_path(s2, "process.capabilities.effective") != NULL);
    CHECK(jx_path(s2, "process.capabilities.permitted") != NULL);
    CHECK(jx_path(s2, "linux.resources.memory") == NULL);
    CHECK_JSON(json_array_get(jx_path(s2, "linux.namespaces"), 4),
               "{\"type\":\"network\"}");
    CHECK_JSON(json_array_get(jx_path(s2, "linux.namespaces"), 5),
               "{\"type\":\"cgroup\"}");
    CHECK(spec_mount(s2, "/etc/hosts") == NULL);
    CHECK(json_is_false(jx_path(s2, "root.readonly")));
}

static void test_spec_errors(void)
{
    static const struct {
        const char *spec, *res, *err;
    } cases[] = {
        {"{}", "{}", "no command specified"},
        {"{\"Args\":[\"x\"],\"Dir\":\"rel\"}", "{}",
         "the working directory 'rel' is invalid, it needs to be an absolute "
         "path"},
        {"{\"Args\":[\"x\"],\"User\":\"ghost\"}", "{}",
         "unable to find user ghost: no matching entries in passwd file"},
        {"{\"Args\":[\"x\"],\"CapabilityAdd\":[\"BOGUS\"]}", "{}",
         "unknown capability: \"CAP_BOGUS\""},
        {"{\"Args\":[\"x\"]}", "{\"Limits\":{\"MemoryBytes\":1000}}",
         "Minimum memory limit allowed is 6MB"},
        {"{\"Args\":[\"x\"]}", "{\"Limits\":{\"Pids\":-1}}",
         "invalid resources: limits must not be negative"},
        {"{\"Args\":[\"x\"]}", "{\"Limits\":{\"NanoCPUs\":1000}}",
         "invalid resources: NanoCPUs 1000 is below the minimum of 0.01 CPU"},
        {"{\"Args\":[\"x\"],\"Sysctls\":{\"a\":1}}", "{}",
         "invalid sysctl \"a\""},
        {"{\"Args\":[\"x\"],\"Ulimits\":[{\"Name\":\"bogus\",\"Soft\":1,"
         "\"Hard\":1}]}",
         "{}", "invalid ulimit type: bogus"},
        {"{\"Args\":[\"x\"],\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":10,"
         "\"Hard\":1}]}",
         "{}",
         "invalid ulimit nofile: soft limit 10 must be at most hard limit 1"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_json_ json_t *spec = J(cases[i].spec);
        _cleanup_json_ json_t *res = J(cases[i].res);
        struct oci_input in = {
            .spec = spec,
            .resources = res,
            .rootfs = "/r",
            .passwd = PASSWD,
            .group = GROUP,
        };
        struct err err = {0};
        _cleanup_json_ json_t *s = oci_spec_build(&in, &err);
        CHECK(s == NULL);
        CHECK_INT(err.code, 400);
        CHECK_STR(err.msg, cases[i].err);
    }
}

int main(void)
{
    RUN(test_args);
    RUN(test_env);
    RUN(test_user);
    RUN(test_caps);
    RUN(test_signals);
    RUN(test_mount_errors);
    RUN(test_mount_parse);
    RUN(test_spec_build);
    RUN(test_spec_errors);
    HARNESS_END();
}
