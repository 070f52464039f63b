// SPDX-License-Identifier: Apache-2.0
// Unit tests for service create/update flag conversion: the exact JSON the
// docker CLI 28 sends (checked against the wire traces and against docker
// itself), update merging on an existing spec, Go-struct re-encoding, and
// the option syntaxes' error messages. Pure: lookups use a fake resolver.
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli_service_spec.h"
#include "cli/flags.h"

/* Network "n" resolves to ID "id_n"; secrets/configs likewise. */
static char *fake_network(void *ud, const char *name, struct err *err)
{
    (void)ud;
    if (!strcmp(name, "missing")) {
        err_set(err, 404,
                "Error response from daemon: network missing not "
                "found");
        return NULL;
    }
    return xasprintf("id_%s", name);
}

static json_t *fake_objects(void *ud, const char *kind,
                            const char *const *names, size_t n, struct err *err)
{
    (void)ud;
    (void)kind;
    (void)err;
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "nosuch") == 0)
            continue;
        char *id = xasprintf("id_%s", names[i]);
        json_object_set_new(o, names[i], json_string(id));
        free(id);
    }
    return o;
}

static const struct cli_spec_resolver resolver = {fake_network, fake_objects,
                                                  NULL};

/* Parses argv with the create (or update) flag table. */
static int parse_args(struct cli_flags *fl, bool create, struct err *err,
                      char **argv, int argc)
{
    return cli_flags_parse(
        fl, create ? cli_service_create_flags : cli_service_update_flags,
        create ? CLI_SERVICE_CREATE_NFLAGS : CLI_SERVICE_UPDATE_NFLAGS, argc,
        argv, !create, err);
}

static char *go_dump(const json_t *j)
{
    struct buf b;
    buf_init(&b);
    cli_go_json(j, &b);
    return buf_steal(&b);
}

/* Runs `service create ARGS` and returns the body shoal would POST. */
static char *create_json(struct err *err, ...)
{
    char *argv[128];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 128;)
        argv[argc++] = a;
    va_end(ap);
    struct cli_flags fl;
    if (parse_args(&fl, true, err, argv, argc) < 0) {
        cli_flags_fini(&fl);
        return NULL;
    }
    json_t *spec = cli_service_spec_create(&fl, &resolver, err);
    cli_flags_fini(&fl);
    if (!spec)
        return NULL;
    char *s = go_dump(spec);
    json_decref(spec);
    return s;
}

/* Applies `service update ARGS` to spec_text; returns the new body. */
static char *update_json(const char *spec_text, struct err *err, ...)
{
    char *argv[128];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 128;)
        argv[argc++] = a;
    va_end(ap);
    struct cli_flags fl;
    if (parse_args(&fl, false, err, argv, argc) < 0) {
        cli_flags_fini(&fl);
        return NULL;
    }
    json_error_t je;
    json_t *spec = json_loads(spec_text, 0, &je);
    if (!spec || cli_service_spec_update(&spec, &fl, &resolver, err) < 0) {
        json_decref(spec);
        cli_flags_fini(&fl);
        return NULL;
    }
    cli_flags_fini(&fl);
    char *s = go_dump(spec);
    json_decref(spec);
    return s;
}

/* Trace 02: the request body, byte for byte. */
static void test_create_trace(void)
{
    struct err err = {0};
    char *s = create_json(&err, "--name", "simple-server", "-p", "8001:8000",
                          "--replicas", "1", "--detach=true", "bb:latest",
                          "httpd", "-f", "-p", "8000", "-h", "/www", NULL);
    CHECK_STR(s,
              "{\"Name\":\"simple-server\",\"Labels\":{},\"TaskTemplate\":{"
              "\"ContainerSpec\":{\"Image\":\"bb:latest\",\"Args\":[\"httpd\","
              "\"-f\",\"-p\",\"8000\",\"-h\",\"/www\"],\"Init\":false,"
              "\"DNSConfig\":{}},\"Resources\":{\"Limits\":{},\"Reservations\""
              ":{}},\"Placement\":{},\"ForceUpdate\":0},\"Mode\":{"
              "\"Replicated\":{\"Replicas\":1}},\"EndpointSpec\":{\"Mode\":"
              "\"vip\",\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":8000,"
              "\"PublishedPort\":8001,\"PublishMode\":\"ingress\"}]}}");
    free(s);
}

static const char ks_json[] =
    "{\"Name\":\"web\",\"Labels\":{\"l1\":\"v1\",\"l2\":\"\"},\"TaskTemplat"
    "e\":{\"ContainerSpec\":{\"Image\":\"bb:latest\",\"Labels\":{\"c1\":\"x"
    "\"},\"Command\":[\"/bin/sh\",\"-c\"],\"Args\":[\"a\",\"b\"],\"Hostname"
    "\":\"h1\",\"Env\":[\"A=1\",\"B=2\"],\"Dir\":\"/w\",\"User\":\"nobody\""
    ",\"Groups\":[\"100\"],\"Init\":true,\"StopSignal\":\"SIGTERM\",\"TTY\""
    ":true,\"ReadOnly\":true,\"Mounts\":[{\"Type\":\"volume\",\"Source\":\""
    "vol\",\"Target\":\"/data\",\"ReadOnly\":true,\"VolumeOptions\":{\"NoCo"
    "py\":true,\"DriverConfig\":{}}},{\"Type\":\"bind\",\"Source\":\"/a\",\""
    "Target\":\"/b\",\"BindOptions\":{\"Propagation\":\"rslave\"}},{\"Type\""
    ":\"tmpfs\",\"Target\":\"/t\",\"TmpfsOptions\":{\"SizeBytes\":67108864,"
    "\"Mode\":1023}}],\"StopGracePeriod\":20000000000,\"Healthcheck\":{\"Te"
    "st\":[\"CMD-SHELL\",\"curl -f localhost\"],\"Interval\":5000000000,\"T"
    "imeout\":2000000000,\"Retries\":3},\"DNSConfig\":{\"Nameservers\":[\"8"
    ".8.8.8\"]},\"Secrets\":[{\"File\":{\"Name\":\"t2\",\"UID\":\"1\",\"GID"
    "\":\"2\",\"Mode\":256},\"SecretID\":\"id_s2\",\"SecretName\":\"s2\"}],"
    "\"Configs\":[{\"File\":{\"Name\":\"c1\",\"UID\":\"0\",\"GID\":\"0\",\""
    "Mode\":292},\"ConfigID\":\"id_c1\",\"ConfigName\":\"c1\"}],\"Sysctls\""
    ":{\"net.core.somaxconn\":\"1024\"},\"CapabilityAdd\":[\"CAP_NET_ADMIN\""
    "],\"CapabilityDrop\":[\"CAP_MKNOD\"],\"Ulimits\":[{\"Name\":\"nofile\""
    ",\"Hard\":2048,\"Soft\":1024}]},\"Resources\":{\"Limits\":{\"NanoCPUs\""
    ":500000000,\"MemoryBytes\":536870912,\"Pids\":100},\"Reservations\":{\""
    "NanoCPUs\":250000000,\"MemoryBytes\":1073741824}},\"RestartPolicy\":{\""
    "Condition\":\"on-failure\",\"Delay\":3000000000,\"MaxAttempts\":4,\"Wi"
    "ndow\":60000000000},\"Placement\":{\"Constraints\":[\"node.role==manag"
    "er\",\"node.labels.x!=y\"],\"Preferences\":[{\"Spread\":{\"SpreadDescr"
    "iptor\":\"node.labels.dc\"}}],\"MaxReplicas\":2},\"Networks\":[{\"Targ"
    "et\":\"id_n1\"},{\"Target\":\"id_n2\",\"Aliases\":[\"a2\"]}],\"LogDriv"
    "er\":{\"Name\":\"json-file\",\"Options\":{\"max-size\":\"1m\"}},\"Forc"
    "eUpdate\":0},\"Mode\":{\"Replicated\":{\"Replicas\":3}},\"UpdateConfig"
    "\":{\"Parallelism\":2,\"Delay\":10000000000,\"FailureAction\":\"rollba"
    "ck\",\"Monitor\":7000000000,\"MaxFailureRatio\":0.1,\"Order\":\"start-"
    "first\"},\"RollbackConfig\":{\"Parallelism\":3,\"Delay\":1000000000,\""
    "FailureAction\":\"pause\",\"Monitor\":5000000000,\"MaxFailureRatio\":0"
    ",\"Order\":\"stop-first\"},\"EndpointSpec\":{\"Mode\":\"vip\",\"Ports\""
    ":[{\"Protocol\":\"udp\",\"TargetPort\":8080,\"PublishedPort\":80,\"Pub"
    "lishMode\":\"ingress\"},{\"Protocol\":\"tcp\",\"TargetPort\":8443,\"Pu"
    "blishedPort\":443,\"PublishMode\":\"host\"}]}}";

static const char upd_json[] =
    "{\"Name\":\"web\",\"Labels\":{\"l2\":\"\",\"l3\":\"v3\"},\"TaskTemplat"
    "e\":{\"ContainerSpec\":{\"Image\":\"bb:v2\",\"Labels\":{\"c2\":\"y\"},"
    "\"Command\":[\"/bin/sh\",\"-c\"],\"Args\":[\"x\"],\"Hostname\":\"h1\","
    "\"Env\":[\"A=9\",\"NEW=1\"],\"Dir\":\"/w\",\"User\":\"nobody\",\"Group"
    "s\":[\"200\"],\"Init\":true,\"StopSignal\":\"SIGTERM\",\"TTY\":true,\""
    "ReadOnly\":true,\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"Tm"
    "pfsOptions\":{\"SizeBytes\":67108864,\"Mode\":1023}},{\"Type\":\"volum"
    "e\",\"Source\":\"v2\",\"Target\":\"/v2\"},{\"Type\":\"volume\",\"Sourc"
    "e\":\"vol\",\"Target\":\"/data\",\"ReadOnly\":true,\"VolumeOptions\":{"
    "\"NoCopy\":true,\"DriverConfig\":{}}}],\"StopGracePeriod\":20000000000"
    ",\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"curl -f localhost\"],\"Int"
    "erval\":5000000000,\"Timeout\":2000000000,\"Retries\":5},\"Hosts\":[\""
    "1.2.3.4 h\"],\"DNSConfig\":{\"Nameservers\":[\"1.1.1.1\"]},\"Secrets\""
    ":[{\"File\":{\"Name\":\"s3\",\"UID\":\"0\",\"GID\":\"0\",\"Mode\":292}"
    ",\"SecretID\":\"id_s3\",\"SecretName\":\"s3\"}],\"Sysctls\":{\"a.b\":\""
    "1\"},\"CapabilityAdd\":[\"CAP_NET_ADMIN\",\"CAP_SYS_ADMIN\"],\"Capabil"
    "ityDrop\":[\"CAP_MKNOD\",\"CAP_NET_RAW\"],\"Ulimits\":[{\"Name\":\"npr"
    "oc\",\"Hard\":10,\"Soft\":10}]},\"Resources\":{\"Limits\":{\"NanoCPUs\""
    ":500000000,\"Pids\":100},\"Reservations\":{\"NanoCPUs\":250000000,\"Me"
    "moryBytes\":1073741824}},\"RestartPolicy\":{\"Condition\":\"any\",\"De"
    "lay\":3000000000,\"MaxAttempts\":4,\"Window\":60000000000},\"Placement"
    "\":{\"Constraints\":[\"node.id==x\",\"node.labels.x!=y\"],\"MaxReplica"
    "s\":2},\"Networks\":[{\"Target\":\"id_n2\",\"Aliases\":[\"a2\"]},{\"Ta"
    "rget\":\"id_n3\"}],\"LogDriver\":{\"Name\":\"json-file\",\"Options\":{"
    "\"max-size\":\"1m\"}},\"ForceUpdate\":1},\"Mode\":{\"Replicated\":{\"R"
    "eplicas\":5}},\"UpdateConfig\":{\"Parallelism\":0,\"Delay\":1000000000"
    "0,\"FailureAction\":\"rollback\",\"Monitor\":7000000000,\"MaxFailureRa"
    "tio\":0.1,\"Order\":\"start-first\"},\"RollbackConfig\":{\"Parallelism"
    "\":3,\"Delay\":1000000000,\"FailureAction\":\"pause\",\"Monitor\":5000"
    "000000,\"MaxFailureRatio\":0,\"Order\":\"start-first\"},\"EndpointSpec"
    "\":{\"Mode\":\"vip\",\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":8"
    "443,\"PublishedPort\":443,\"PublishMode\":\"host\"},{\"Protocol\":\"ud"
    "p\",\"TargetPort\":8080,\"PublishedPort\":80,\"PublishMode\":\"ingress"
    "\"},{\"Protocol\":\"tcp\",\"TargetPort\":90,\"PublishedPort\":9000,\"P"
    "ublishMode\":\"ingress\"}]}}";

static const char svc158_json[] =
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

static const char scale_body[] =
    "{\"Name\":\"simple-server\",\"Labels\":{},\"TaskTemplate\":{\"Containe"
    "rSpec\":{\"Image\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\"-p\",\"8"
    "000\",\"-h\",\"/www\"],\"Init\":false,\"DNSConfig\":{},\"Isolation\":\""
    "default\"},\"Resources\":{\"Limits\":{},\"Reservations\":{}},\"Placeme"
    "nt\":{},\"ForceUpdate\":0,\"Runtime\":\"container\"},\"Mode\":{\"Repli"
    "cated\":{\"Replicas\":3}},\"EndpointSpec\":{\"Mode\":\"vip\",\"Ports\""
    ":[{\"Protocol\":\"tcp\",\"TargetPort\":8000,\"PublishedPort\":8001,\"P"
    "ublishMode\":\"ingress\"}]}}";

static const char svc171_json[] =
    "{\"ID\":\"s3qdr2cawh465iqhf04niv4zw\",\"Version\":{\"Index\":171},\"Cr"
    "eatedAt\":\"2026-11-27T04:30:28.32344308Z\",\"UpdatedAt\":\"2026-11-27"
    "T04:31:04.408350629Z\",\"Spec\":{\"Name\":\"simple-server\",\"Labels\""
    ":{},\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"bb:latest\",\"Arg"
    "s\":[\"httpd\",\"-f\",\"-p\",\"8000\",\"-h\",\"/www\"],\"Init\":false,"
    "\"DNSConfig\":{},\"Isolation\":\"default\"},\"Resources\":{\"Limits\":"
    "{},\"Reservations\":{}},\"Placement\":{},\"ForceUpdate\":0,\"Runtime\""
    ":\"container\"},\"Mode\":{\"Replicated\":{\"Replicas\":3}},\"EndpointS"
    "pec\":{\"Mode\":\"vip\",\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\""
    ":8000,\"PublishedPort\":8001,\"PublishMode\":\"ingress\"}]}},\"Previou"
    "sSpec\":{\"Name\":\"simple-server\",\"Labels\":{},\"TaskTemplate\":{\""
    "ContainerSpec\":{\"Image\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\""
    "-p\",\"8000\",\"-h\",\"/www\"],\"Init\":false,\"DNSConfig\":{},\"Isola"
    "tion\":\"default\"},\"Resources\":{\"Limits\":{},\"Reservations\":{}},"
    "\"Placement\":{},\"ForceUpdate\":0,\"Runtime\":\"container\"},\"Mode\""
    ":{\"Replicated\":{\"Replicas\":1}},\"EndpointSpec\":{\"Mode\":\"vip\","
    "\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":8000,\"PublishedPort\""
    ":8001,\"PublishMode\":\"ingress\"}]}},\"Endpoint\":{\"Spec\":{\"Mode\""
    ":\"vip\",\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":8000,\"Publis"
    "hedPort\":8001,\"PublishMode\":\"ingress\"}]},\"Ports\":[{\"Protocol\""
    ":\"tcp\",\"TargetPort\":8000,\"PublishedPort\":8001,\"PublishMode\":\""
    "ingress\"}],\"VirtualIPs\":[{\"NetworkID\":\"joxct9o4tlsg0j1kqy3zgivsr"
    "\",\"Addr\":\"10.0.0.19/24\"}]}}";

static const char update_body[] =
    "{\"Name\":\"simple-server\",\"Labels\":{},\"TaskTemplate\":{\"Containe"
    "rSpec\":{\"Image\":\"bb:latest\",\"Args\":[\"httpd\",\"-f\",\"-p\",\"8"
    "000\",\"-h\",\"/www\"],\"Env\":[\"A=1\"],\"Init\":false,\"DNSConfig\":"
    "{},\"Isolation\":\"default\"},\"Resources\":{\"Limits\":{},\"Reservati"
    "ons\":{}},\"Placement\":{},\"ForceUpdate\":0,\"Runtime\":\"container\""
    "},\"Mode\":{\"Replicated\":{\"Replicas\":3}},\"EndpointSpec\":{\"Mode\""
    ":\"vip\",\"Ports\":[{\"Protocol\":\"tcp\",\"TargetPort\":8000,\"Publis"
    "hedPort\":8001,\"PublishMode\":\"ingress\"}]}}";

/* Nearly every create flag at once; the expected body is what docker 28
 * sent for the same command (checked against a recording fake engine). */
static void test_create_all_flags(void)
{
    struct err err = {0};
    char *s = create_json(
        &err, "-d", "--name", "web", "--replicas", "3", "-e", "A=1", "--env",
        "B=2", "-l", "l1=v1", "--label", "l2", "--container-label", "c1=x",
        "--workdir", "/w", "-u", "nobody", "--hostname", "h1", "--mount",
        "type=volume,source=vol,target=/data,readonly,volume-nocopy", "--mount",
        "type=bind,src=/a,dst=/b,bind-propagation=rslave", "--mount",
        "type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1777",
        "--restart-condition", "on-failure", "--restart-delay", "3s",
        "--restart-max-attempts", "4", "--restart-window", "1m",
        "--limit-memory", "512m", "--limit-cpu", "0.5", "--limit-pids", "100",
        "--reserve-memory", "1g", "--reserve-cpu", "0.25", "--constraint",
        "node.role==manager", "--constraint", "node.labels.x!=y",
        "--stop-grace-period", "20s", "--stop-signal", "SIGTERM", "--read-only",
        "--entrypoint", "/bin/sh -c", "--network", "n1", "--network",
        "name=n2,alias=a2", "-p", "80:8080/udp", "-p",
        "published=443,target=8443,mode=host", "--dns", "8.8.8.8", "--secret",
        "source=s2,target=t2,uid=1,gid=2,mode=0400", "--config", "c1",
        "--update-parallelism", "2", "--update-delay", "10s", "--update-order",
        "start-first", "--update-failure-action", "rollback",
        "--update-monitor", "7s", "--rollback-parallelism", "3",
        "--rollback-delay", "1s", "--health-cmd", "curl -f localhost",
        "--health-interval", "5s", "--health-retries", "3", "--health-timeout",
        "2s", "--init", "--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD",
        "--sysctl", "net.core.somaxconn=1024", "--ulimit", "nofile=1024:2048",
        "--group", "100", "--tty", "--replicas-max-per-node", "2",
        "--placement-pref", "spread=node.labels.dc", "--log-driver",
        "json-file", "--log-opt", "max-size=1m", "--update-max-failure-ratio",
        "0.1", "bb:latest", "a", "b", NULL);
    CHECK_STR(s, ks_json);
    free(s);
}

static void test_create_modes_and_env(void)
{
    struct err err = {0};
    char *s = create_json(&err, "--mode", "global", "bb", NULL);
    CHECK_STR(s, "{\"Labels\":{},\"TaskTemplate\":{\"ContainerSpec\":{"
                 "\"Image\":\"bb\",\"Init\":false,\"DNSConfig\":{}},"
                 "\"Resources\":{\"Limits\":{},\"Reservations\":{}},"
                 "\"Placement\":{},\"ForceUpdate\":0},\"Mode\":{\"Global\":{}}"
                 ",\"EndpointSpec\":{\"Mode\":\"vip\"}}");
    free(s);
    CHECK(create_json(&err, "--mode", "global", "--replicas", "2", "bb",
                      NULL) == NULL);
    CHECK_STR(err.msg, "replicas can only be used with replicated or "
                       "replicated-job mode");
    CHECK(create_json(&err, "--mode", "foo", "bb", NULL) == NULL);
    CHECK_STR(err.msg, "Unknown mode: foo, only replicated and global "
                       "supported");
    CHECK(create_json(&err, "--no-healthcheck", "--health-retries", "2", "bb",
                      NULL) == NULL);
    CHECK_STR(err.msg, "--no-healthcheck conflicts with --health-* options");

    /* env files first, then -e; later keys win; "K" takes our env value */
    char path[] = "/tmp/test_cli_spec_envXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text = "FOO=bar\n# comment\n\nUNSET_X_SHOAL\nQ=1\nA=0\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    setenv("SHOAL_TEST_K", "kv", 1);
    unsetenv("UNSET_X_SHOAL");
    s = create_json(&err, "--env-file", path, "-e", "A=1", "-e", "SHOAL_TEST_K",
                    "-e", "UNSET_Y_SHOAL", "bb", NULL);
    CHECK(s && strstr(s, "\"Env\":[\"FOO=bar\",\"Q=1\",\"A=1\","
                         "\"SHOAL_TEST_K=kv\",\"UNSET_Y_SHOAL\"]"));
    free(s);
    unlink(path);
    CHECK(create_json(&err, "--env-file", "/nonexistent/env", "bb", NULL) ==
          NULL);
    CHECK_STR(err.msg, "open /nonexistent/env: No such file or directory");

    /* restart policy and update config defaults appear with any flag */
    s = create_json(&err, "--restart-condition", "none",
                    "--update-max-failure-ratio", "0.25", "--rollback-monitor",
                    "3s", "bb", NULL);
    CHECK(s && strstr(s, "\"RestartPolicy\":{\"Condition\":\"none\","
                         "\"Delay\":5000000000,\"MaxAttempts\":0}"));
    CHECK(s && strstr(s, "\"UpdateConfig\":{\"Parallelism\":1,"
                         "\"FailureAction\":\"pause\",\"Monitor\":5000000000,"
                         "\"MaxFailureRatio\":0.25,\"Order\":\"stop-first\"},"
                         "\"RollbackConfig\":{\"Parallelism\":1,"
                         "\"FailureAction\":\"pause\",\"Monitor\":3000000000,"
                         "\"MaxFailureRatio\":0,\"Order\":\"stop-first\"}"));
    free(s);

    /* lookups fail cleanly */
    CHECK(create_json(&err, "--network", "missing", "bb", NULL) == NULL);
    CHECK_STR(err.msg, "Error response from daemon: network missing not "
                       "found");
    CHECK(create_json(&err, "--secret", "nosuch", "bb", NULL) == NULL);
    CHECK_STR(err.msg, "secret not found: nosuch");
}

static void test_option_syntax(void)
{
    struct err err = {0};
    json_t *ports = json_array();
    CHECK_INT(cli_parse_port("8000", ports, &err), 0);
    CHECK_INT(cli_parse_port("80-81:90-91", ports, &err), 0);
    CHECK_INT(cli_parse_port("5000:5000/sctp", ports, &err), 0);
    char *s = go_dump(ports);
    CHECK_STR(s, "[{\"Protocol\":\"tcp\",\"TargetPort\":8000,"
                 "\"PublishedPort\":0,\"PublishMode\":\"ingress\"},"
                 "{\"Protocol\":\"tcp\",\"TargetPort\":90,\"PublishedPort\":80,"
                 "\"PublishMode\":\"ingress\"},{\"Protocol\":\"tcp\","
                 "\"TargetPort\":91,\"PublishedPort\":81,\"PublishMode\":"
                 "\"ingress\"},{\"Protocol\":\"sctp\",\"TargetPort\":5000,"
                 "\"PublishedPort\":5000,\"PublishMode\":\"ingress\"}]");
    free(s);
    CHECK_INT(cli_parse_port("abc", ports, &err), -1);
    CHECK_STR(err.msg, "invalid containerPort: abc");
    CHECK_INT(cli_parse_port("1.2.3.4:80:80", ports, &err), -1);
    CHECK_STR(err.msg, "hostip is not supported");
    CHECK_INT(cli_parse_port("published=80", ports, &err), -1);
    CHECK_STR(err.msg, "missing mandatory field 'target'");
    CHECK_INT(cli_parse_port("target=80,mode=x", ports, &err), -1);
    CHECK_STR(err.msg, "invalid publish mode value (x): must be either "
                       "'ingress' or 'host'");
    json_decref(ports);

    json_t *m = cli_parse_mount("type=foo", &err);
    CHECK(m == NULL);
    CHECK_STR(err.msg, "target is required");
    m = cli_parse_mount("type=bind,dst=/x,volume-nocopy", &err);
    CHECK(m == NULL);
    CHECK_STR(err.msg, "cannot mix 'volume-*' options with mount type 'bind'");
    m = cli_parse_mount("dst=/x,bogus=1", &err);
    CHECK(m == NULL);
    CHECK_STR(err.msg, "unexpected key 'bogus' in 'bogus=1'");
    m = cli_parse_mount("dst=/x,foo", &err);
    CHECK(m == NULL);
    CHECK_STR(err.msg, "invalid field 'foo' must be a key=value pair");
    m = cli_parse_mount("type=volume,source=database_volume,"
                        "destination=/data/db",
                        &err);
    s = go_dump(m);
    CHECK_STR(s, "{\"Type\":\"volume\",\"Source\":\"database_volume\","
                 "\"Target\":\"/data/db\"}");
    free(s);
    json_decref(m);

    json_t *r = cli_parse_secret_ref("secret", "source=s", &err);
    s = go_dump(r);
    CHECK_STR(s, "{\"File\":{\"Name\":\"s\",\"UID\":\"0\",\"GID\":\"0\","
                 "\"Mode\":292},\"SecretName\":\"s\"}");
    free(s);
    json_decref(r);
    CHECK(cli_parse_secret_ref("secret", "target=x", &err) == NULL);
    CHECK_STR(err.msg, "source is required");

    json_t *n = cli_parse_network("name=net,alias=a,driver-opt=K=v", &err);
    s = go_dump(n);
    CHECK_STR(s, "{\"Target\":\"net\",\"Aliases\":[\"a\"],\"DriverOpts\":{"
                 "\"k\":\"v\"}}");
    free(s);
    json_decref(n);

    json_t *u = cli_parse_ulimit("nofile=10", &err);
    s = go_dump(u);
    CHECK_STR(s, "{\"Name\":\"nofile\",\"Hard\":10,\"Soft\":10}");
    free(s);
    json_decref(u);
    CHECK(cli_parse_ulimit("bogus=1", &err) == NULL);
    CHECK_STR(err.msg, "invalid ulimit type: bogus");

    /* Flag-time validation uses docker's wording. */
    struct cli_flags fl;
    char *argv[] = {"-p", "abc", "x"};
    CHECK_INT(parse_args(&fl, true, &err, argv, 3), -1);
    CHECK_STR(err.msg, "invalid argument \"abc\" for \"-p, --publish\" flag: "
                       "invalid containerPort: abc");
    cli_flags_fini(&fl);

    char *w = cli_digest_warning("bb:latest");
    CHECK_STR(w, "image bb:latest could not be accessed on a registry to "
                 "record\nits digest. Each node will access bb:latest "
                 "independently,\npossibly leading to different nodes "
                 "running different\nversions of the image.\n");
    free(w);
}

/* service scale: the spec from GET re-encoded with Replicas changed must be
 * exactly the body in trace 03. */
static void test_scale_canon(void)
{
    json_error_t je;
    json_t *svc = json_loads(svc158_json, 0, &je);
    CHECK(svc != NULL);
    json_t *spec = json_object_get(svc, "Spec");
    json_object_set_new(jx_path(spec, "Mode.Replicated"), "Replicas",
                        json_integer(3));
    json_t *canon = cli_go_canon(CLI_GO_SERVICE_SPEC, spec);
    char *s = go_dump(canon);
    CHECK_STR(s, scale_body);
    free(s);
    json_decref(canon);
    json_decref(svc);
}

/* service update --image bb:latest --env-add A=1: trace 03's body. */
static void test_update_trace(void)
{
    json_error_t je;
    json_t *svc = json_loads(svc171_json, 0, &je);
    char *spec = jx_dumps(json_object_get(svc, "Spec"));
    struct err err = {0};
    char *s = update_json(spec, &err, "--image", "bb:latest", "--env-add",
                          "A=1", "simple-server", NULL);
    CHECK_STR(s, update_body);
    free(s);
    free(spec);
    json_decref(svc);
}

/* Many update flags on the all-flags spec. Docker's env-add order comes
 * from a Go map (unspecified); shoal keeps existing order and appends. */
static void test_update_merge(void)
{
    struct err err = {0};
    char *s = update_json(
        ks_json, &err, "--env-add", "A=9", "--env-add", "NEW=1", "--env-rm",
        "B", "--label-add", "l3=v3", "--label-rm", "l1",
        "--container-label-add", "c2=y", "--container-label-rm", "c1",
        "--mount-add", "type=volume,src=v2,dst=/v2", "--mount-rm", "/b",
        "--constraint-add", "node.id==x", "--constraint-rm",
        "node.role==manager", "--publish-add", "9000:90", "--publish-rm",
        "8443", "--dns-add", "1.1.1.1", "--dns-rm", "8.8.8.8", "--network-add",
        "n3", "--network-rm", "n1", "--secret-rm", "s2", "--secret-add", "s3",
        "--config-rm", "c1", "--replicas", "5", "--image", "bb:v2", "--args",
        "x", "--force", "--limit-memory", "0", "--group-add", "200",
        "--group-rm", "100", "--cap-add", "SYS_ADMIN", "--cap-drop", "NET_RAW",
        "--sysctl-add", "a.b=1", "--sysctl-rm", "net.core.somaxconn",
        "--ulimit-add", "nproc=10", "--ulimit-rm", "nofile", "--rollback-order",
        "start-first", "--health-retries", "5", "--restart-condition", "any",
        "--update-parallelism", "0", "--host-add", "h:1.2.3.4",
        "--placement-pref-rm", "spread=node.labels.dc", "web", NULL);
    CHECK_STR(s, upd_json);
    free(s);

    /* errors */
    CHECK(update_json("{\"Mode\":{\"Global\":{}}}", &err, "--replicas", "2",
                      "x", NULL) == NULL);
    CHECK_STR(err.msg, "replicas can only be used with replicated mode");
    CHECK(update_json(ks_json, &err, "--network-add", "n1", "web", NULL) ==
          NULL);
    CHECK_STR(err.msg, "service is already attached to network n1");
    CHECK(update_json(ks_json, &err, "--mount-add", "dst=/a", "--mount-add",
                      "dst=/a", "web", NULL) == NULL);
    CHECK_STR(err.msg, "duplicate mount target");

    /* --no-healthcheck, then a healthcheck again */
    s = update_json(ks_json, &err, "--no-healthcheck", "web", NULL);
    CHECK(s && strstr(s, "\"Healthcheck\":{\"Test\":[\"NONE\"]}"));
    free(s);
    /* No flags: mounts are re-sorted, nothing else changes. */
    s = update_json("{\"Name\":\"x\",\"TaskTemplate\":{\"ContainerSpec\":{"
                    "\"Image\":\"i\",\"Mounts\":[{\"Type\":\"bind\","
                    "\"Source\":\"/z\",\"Target\":\"/a\"},{\"Type\":\"bind\","
                    "\"Source\":\"/b\",\"Target\":\"/c\"}]}},\"Unknown\":1}",
                    &err, "x", NULL);
    CHECK_STR(s, "{\"Name\":\"x\",\"Labels\":null,\"TaskTemplate\":{"
                 "\"ContainerSpec\":{\"Image\":\"i\",\"Mounts\":[{\"Type\":"
                 "\"bind\",\"Source\":\"/b\",\"Target\":\"/c\"},{\"Type\":"
                 "\"bind\",\"Source\":\"/z\",\"Target\":\"/a\"}]},"
                 "\"ForceUpdate\":0},\"Mode\":{}}");
    free(s);
}

static void test_go_json(void)
{
    json_t *j = json_pack("{s:s, s:f, s:f}", "a", "<b>&", "r", 0.5, "f",
                          (double)(float)0.1);
    char *s = go_dump(j);
    CHECK_STR(s, "{\"a\":\"\\u003cb\\u003e\\u0026\",\"r\":0.5,\"f\":0.1}");
    free(s);
    json_decref(j);
    json_t *sw = json_loads("{\"Name\":\"default\",\"Labels\":{},"
                            "\"Orchestration\":{\"TaskHistoryRetentionLimit\""
                            ":5},\"Raft\":{\"SnapshotInterval\":10000,"
                            "\"KeepOldSnapshots\":0,"
                            "\"LogEntriesForSlowFollowers\":500,"
                            "\"ElectionTick\":10,\"HeartbeatTick\":1},"
                            "\"Dispatcher\":{\"HeartbeatPeriod\":5000000000},"
                            "\"CAConfig\":{\"NodeCertExpiry\":"
                            "7776000000000000},\"TaskDefaults\":{},"
                            "\"EncryptionConfig\":{\"AutoLockManagers\":"
                            "false}}",
                            0, NULL);
    json_t *c = cli_go_canon(CLI_GO_SWARM_SPEC, sw);
    s = go_dump(c);
    CHECK_STR(s, "{\"Name\":\"default\",\"Labels\":{},\"Orchestration\":{"
                 "\"TaskHistoryRetentionLimit\":5},\"Raft\":{"
                 "\"SnapshotInterval\":10000,\"KeepOldSnapshots\":0,"
                 "\"LogEntriesForSlowFollowers\":500,\"ElectionTick\":10,"
                 "\"HeartbeatTick\":1},\"Dispatcher\":{\"HeartbeatPeriod\":"
                 "5000000000},\"CAConfig\":{\"NodeCertExpiry\":"
                 "7776000000000000},\"TaskDefaults\":{},\"EncryptionConfig\":"
                 "{\"AutoLockManagers\":false}}");
    free(s);
    json_decref(c);
    json_decref(sw);
    /* An empty swarm init spec, as docker sends it. */
    json_t *empty = json_object();
    c = cli_go_canon(CLI_GO_SWARM_SPEC, empty);
    s = go_dump(c);
    CHECK_STR(s, "{\"Labels\":null,\"Orchestration\":{},\"Raft\":{"
                 "\"ElectionTick\":0,\"HeartbeatTick\":0},\"Dispatcher\":{},"
                 "\"CAConfig\":{},\"TaskDefaults\":{},\"EncryptionConfig\":{"
                 "\"AutoLockManagers\":false}}");
    free(s);
    json_decref(c);
    json_decref(empty);
    json_t *node = json_loads("{\"Labels\":{},\"Role\":\"manager\","
                              "\"Availability\":\"active\"}",
                              0, NULL);
    json_object_set_new(node, "Role", json_string("worker"));
    c = cli_go_canon(CLI_GO_NODE_SPEC, node);
    s = go_dump(c);
    CHECK_STR(s, "{\"Labels\":{},\"Role\":\"worker\",\"Availability\":"
                 "\"active\"}");
    free(s);
    json_decref(c);
    json_decref(node);
}

int main(void)
{
    RUN(test_create_trace);
    RUN(test_create_all_flags);
    RUN(test_create_modes_and_env);
    RUN(test_option_syntax);
    RUN(test_scale_canon);
    RUN(test_update_trace);
    RUN(test_update_merge);
    RUN(test_go_json);
    HARNESS_END();
}
