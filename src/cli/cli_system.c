// SPDX-License-Identifier: Apache-2.0
// `shoal version` and `shoal info` (also under `shoal system`): the client
// and server sections laid out exactly like `docker version` / `docker
// info`, from GET /version and GET /info.
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/cli_df.h"
#include "cli/format.h"

/* Go's time.ANSIC ("Mon Jan _2 15:04:05 2006") of an RFC 3339 time. */
static void ansic(const char *ts, char *out, size_t n)
{
    int64_t ns;
    if (!ts || time_parse_rfc3339(ts, &ns) < 0) {
        snprintf(out, n, "%s", ts ? ts : "");
        return;
    }
    time_t t = (time_t)(ns / NS_PER_SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%a %b %e %H:%M:%S %Y", &tm);
}

/* One "label:<tab>value" line of docker version's tabwriter (minwidth 20,
 * padding 1). */
static void vline(FILE *f, const char *label, const char *value)
{
    size_t w = strlen(label) + 1;
    if (w < 20)
        w = 20;
    fprintf(f, "%-*s%s\n", (int)w, label, value ? value : "");
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_server_version(FILE *f, const json_t *v)
{
    const char *pname = jx_path_str(v, "Platform.Name");
    fprintf(f, "\nServer:%s%s\n", pname && *pname ? " " : "",
            pname && *pname ? pname : "");
    json_t *comps = json_object_get(v, "Components");
    size_t i;
    json_t *c;
    json_array_foreach(comps, i, c)
    {
        const char *name = jx_str0(c, "Name");
        json_t *d = json_object_get(c, "Details");
        fprintf(f, " %s:\n", name);
        if (strcmp(name, "Engine") == 0) {
            char tmp[128];
            vline(f, "  Version:", jx_str0(c, "Version"));
            snprintf(tmp, sizeof(tmp), "%s (minimum version %s)",
                     jx_str0(d, "ApiVersion"), jx_str0(d, "MinAPIVersion"));
            vline(f, "  API version:", tmp);
            vline(f, "  Go version:", jx_str0(d, "GoVersion"));
            vline(f, "  Git commit:", jx_str0(d, "GitCommit"));
            ansic(jx_str(d, "BuildTime"), tmp, sizeof(tmp));
            vline(f, "  Built:", tmp);
            snprintf(tmp, sizeof(tmp), "%s/%s", jx_str0(d, "Os"),
                     jx_str0(d, "Arch"));
            vline(f, "  OS/Arch:", tmp);
            vline(f, "  Experimental:", jx_str0(d, "Experimental"));
            continue;
        }
        vline(f, "  Version:", jx_str0(c, "Version"));
        size_t nk = json_object_size(d), k = 0;
        const char **keys = xcalloc(nk + 1, sizeof(char *));
        const char *key;
        json_t *val;
        json_object_foreach(d, key, val)
        {
            keys[k++] = key;
        }
        qsort(keys, k, sizeof(char *), cmp_strp);
        for (size_t j = 0; j < k; j++) {
            char label[96];
            snprintf(label, sizeof(label), "  %s:", keys[j]);
            vline(f, label, jx_str0(d, keys[j]));
        }
        free(keys);
    }
}

static int run_version(struct cli_ctx *ctx, struct cli_flags *fl,
                       struct err *err)
{
    (void)fl;
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    /* Negotiate first so the client section can show the API version. */
    struct err neg = {0};
    int nrc = cli_client_negotiate(c, &neg);
    FILE *f = ctx->out;
    char tmp[128];
    fprintf(f, "Client:\n");
    vline(f, " Version:", CLI_VERSION);
    const char *v = nrc == 0 ? cli_client_version(c) : CLI_API_VERSION_MAX;
    if (strcmp(v, CLI_API_VERSION_MAX) != 0)
        snprintf(tmp, sizeof(tmp), "%s (downgraded from %s)", v,
                 CLI_API_VERSION_MAX);
    else
        snprintf(tmp, sizeof(tmp), "%s", v);
    vline(f, " API version:", tmp);
    /* The build time in Go's ANSIC layout, as docker prints it. */
    struct tm bt = {0};
    char built[64] = __DATE__ " " __TIME__;
    if (strptime(__DATE__ " " __TIME__, "%b %d %Y %H:%M:%S", &bt)) {
        bt.tm_isdst = -1;
        time_t t = timegm(&bt);
        gmtime_r(&t, &bt);
        strftime(built, sizeof(built), "%a %b %e %H:%M:%S %Y", &bt);
    }
    vline(f, " Built:", built);
    vline(f, " OS/Arch:",
          "linux/"
#if defined(__x86_64__)
          "amd64"
#elif defined(__aarch64__)
          "arm64"
#else
          "unknown"
#endif
    );
    vline(f, " Context:", "default");
    if (nrc < 0) {
        *err = neg;
        return -1;
    }
    _cleanup_json_ json_t *ver = cli_client_get_json(c, "/version", err);
    if (!ver)
        return -1;
    print_server_version(f, ver);
    return 0;
}

static void print_swarm_info(FILE *f, const json_t *sw)
{
    const char *state = jx_str0(sw, "LocalNodeState");
    if (strcmp(state, "inactive") == 0 || strcmp(state, "locked") == 0 ||
        !*state)
        return;
    fprintf(f, "  NodeID: %s\n", jx_str0(sw, "NodeID"));
    const char *swerr = jx_str0(sw, "Error");
    if (*swerr)
        fprintf(f, "  Error: %s\n", swerr);
    bool mgr = jx_bool(sw, "ControlAvailable", false);
    fprintf(f, "  Is Manager: %s\n", mgr ? "true" : "false");
    json_t *cl = json_object_get(sw, "Cluster");
    if (cl && json_is_object(cl) && mgr && !*swerr &&
        strcmp(state, "error") != 0) {
        json_t *spec = json_object_get(cl, "Spec");
        char tmp[64];
        fprintf(f, "  ClusterID: %s\n", jx_str0(cl, "ID"));
        fprintf(f, "  Managers: %lld\n", (long long)jx_int(sw, "Managers", 0));
        fprintf(f, "  Nodes: %lld\n", (long long)jx_int(sw, "Nodes", 0));
        json_t *pool = json_object_get(cl, "DefaultAddrPool");
        if (json_is_array(pool)) {
            size_t i;
            json_t *p;
            fprintf(f, "  Default Address Pool: ");
            json_array_foreach(pool, i, p)
            {
                fprintf(f, "%s  ", cli_jstr(p));
            }
            fprintf(f, "\n  SubnetSize: %lld\n",
                    (long long)jx_int(cl, "SubnetSize", 0));
        }
        if (jx_int(cl, "DataPathPort", 0) > 0)
            fprintf(f, "  Data Path Port: %lld\n",
                    (long long)jx_int(cl, "DataPathPort", 0));
        fprintf(f, "  Orchestration:\n");
        fprintf(f, "   Task History Retention Limit: %lld\n",
                (long long)jx_path_int(
                    spec, "Orchestration.TaskHistoryRetentionLimit", 0));
        fprintf(f, "  Raft:\n");
        fprintf(f, "   Snapshot Interval: %lld\n",
                (long long)jx_path_int(spec, "Raft.SnapshotInterval", 0));
        if (jx_path(spec, "Raft.KeepOldSnapshots"))
            fprintf(f, "   Number of Old Snapshots to Retain: %lld\n",
                    (long long)jx_path_int(spec, "Raft.KeepOldSnapshots", 0));
        fprintf(f, "   Heartbeat Tick: %lld\n",
                (long long)jx_path_int(spec, "Raft.HeartbeatTick", 0));
        fprintf(f, "   Election Tick: %lld\n",
                (long long)jx_path_int(spec, "Raft.ElectionTick", 0));
        fprintf(f, "  Dispatcher:\n");
        duration_human(jx_path_int(spec, "Dispatcher.HeartbeatPeriod", 0), tmp,
                       sizeof(tmp));
        fprintf(f, "   Heartbeat Period: %s\n", tmp);
        fprintf(f, "  CA Configuration:\n");
        duration_human(jx_path_int(spec, "CAConfig.NodeCertExpiry", 0), tmp,
                       sizeof(tmp));
        fprintf(f, "   Expiry Duration: %s\n", tmp);
        fprintf(f, "   Force Rotate: %lld\n",
                (long long)jx_path_int(spec, "CAConfig.ForceRotate", 0));
        json_t *ext = jx_path(spec, "CAConfig.ExternalCAs");
        if (json_array_size(ext) > 0) {
            size_t i;
            json_t *e;
            fprintf(f, "   External CAs:\n");
            json_array_foreach(ext, i, e)
            {
                fprintf(f, "     %s: %s\n", jx_str0(e, "Protocol"),
                        jx_str0(e, "URL"));
            }
        }
        json_t *al = jx_path(spec, "EncryptionConfig.AutoLockManagers");
        fprintf(f, "  Autolock Managers: %s\n",
                json_is_true(al) ? "true" : "false");
        fprintf(f, "  Root Rotation In Progress: %s\n",
                jx_bool(cl, "RootRotationInProgress", false) ? "true"
                                                             : "false");
    }
    fprintf(f, "  Node Address: %s\n", jx_str0(sw, "NodeAddr"));
    json_t *rm = json_object_get(sw, "RemoteManagers");
    size_t n = json_array_size(rm);
    if (n > 0) {
        const char **addrs = xcalloc(n, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            addrs[i] = jx_str0(json_array_get(rm, i), "Addr");
        qsort(addrs, n, sizeof(char *), cmp_strp);
        fprintf(f, "  Manager Addresses:\n");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "   %s\n", addrs[i]);
        free(addrs);
    }
}

static void join_strings(FILE *f, const json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        fprintf(f, "%s%s", i ? " " : "", cli_jstr(v));
    }
}

static void nonempty(FILE *f, const char *label, const char *v)
{
    if (v && *v)
        fprintf(f, "%s %s\n", label, v);
}

static const char *tf(bool b)
{
    return b ? "true" : "false";
}

/* docker info's server section (prettyPrintServerInfo). */
static void print_info(struct cli_ctx *ctx, const json_t *in)
{
    FILE *f = ctx->out;
    char tmp[64];
    fprintf(f, " Containers: %lld\n", (long long)jx_int(in, "Containers", 0));
    fprintf(f, "  Running: %lld\n",
            (long long)jx_int(in, "ContainersRunning", 0));
    fprintf(f, "  Paused: %lld\n",
            (long long)jx_int(in, "ContainersPaused", 0));
    fprintf(f, "  Stopped: %lld\n",
            (long long)jx_int(in, "ContainersStopped", 0));
    fprintf(f, " Images: %lld\n", (long long)jx_int(in, "Images", 0));
    nonempty(f, " Server Version:", jx_str(in, "ServerVersion"));
    nonempty(f, " Storage Driver:", jx_str(in, "Driver"));
    size_t i;
    json_t *pair;
    json_array_foreach(json_object_get(in, "DriverStatus"), i, pair)
    {
        fprintf(f, "  %s: %s\n", cli_jstr(json_array_get(pair, 0)),
                cli_jstr(json_array_get(pair, 1)));
    }
    json_array_foreach(json_object_get(in, "SystemStatus"), i, pair)
    {
        fprintf(f, " %s: %s\n", cli_jstr(json_array_get(pair, 0)),
                cli_jstr(json_array_get(pair, 1)));
    }
    nonempty(f, " Logging Driver:", jx_str(in, "LoggingDriver"));
    nonempty(f, " Cgroup Driver:", jx_str(in, "CgroupDriver"));
    nonempty(f, " Cgroup Version:", jx_str(in, "CgroupVersion"));
    json_t *pl = json_object_get(in, "Plugins");
    fprintf(f, " Plugins:\n  Volume: ");
    join_strings(f, json_object_get(pl, "Volume"));
    fprintf(f, "\n  Network: ");
    join_strings(f, json_object_get(pl, "Network"));
    fprintf(f, "\n");
    if (json_array_size(json_object_get(pl, "Authorization"))) {
        fprintf(f, "  Authorization: ");
        join_strings(f, json_object_get(pl, "Authorization"));
        fprintf(f, "\n");
    }
    fprintf(f, "  Log: ");
    join_strings(f, json_object_get(pl, "Log"));
    fprintf(f, "\n");
    json_t *sw = json_object_get(in, "Swarm");
    fprintf(f, " Swarm: %s\n", jx_str0(sw, "LocalNodeState"));
    print_swarm_info(f, sw);
    json_t *rt = json_object_get(in, "Runtimes");
    size_t nrt = json_object_size(rt);
    if (nrt > 0) {
        const char **names = xcalloc(nrt, sizeof(char *));
        const char *k;
        json_t *v;
        size_t n = 0;
        json_object_foreach(rt, k, v)
        {
            names[n++] = k;
        }
        qsort(names, n, sizeof(char *), cmp_strp);
        fprintf(f, " Runtimes:");
        for (size_t j = 0; j < n; j++)
            fprintf(f, " %s", names[j]);
        fprintf(f, "\n Default Runtime: %s\n", jx_str0(in, "DefaultRuntime"));
        free(names);
    }
    if (strcmp(jx_str0(in, "OSType"), "linux") == 0) {
        fprintf(f, " Init Binary: %s\n", jx_str0(in, "InitBinary"));
        fprintf(f, " containerd version: %s\n",
                jx_path_str(in, "ContainerdCommit.ID")
                    ? jx_path_str(in, "ContainerdCommit.ID")
                    : "");
        fprintf(f, " runc version: %s\n",
                jx_path_str(in, "RuncCommit.ID")
                    ? jx_path_str(in, "RuncCommit.ID")
                    : "");
        fprintf(f, " init version: %s\n",
                jx_path_str(in, "InitCommit.ID")
                    ? jx_path_str(in, "InitCommit.ID")
                    : "");
        json_t *so = json_object_get(in, "SecurityOptions");
        if (json_array_size(so)) {
            json_t *o;
            fprintf(f, " Security Options:\n");
            json_array_foreach(so, i, o)
            {
                /* "name=seccomp,profile=default" */
                _cleanup_free_ char *s = xstrdup(cli_jstr(o));
                char *save = NULL;
                for (char *kv = strtok_r(s, ",", &save); kv;
                     kv = strtok_r(NULL, ",", &save)) {
                    char *eq = strchr(kv, '=');
                    if (!eq)
                        continue;
                    *eq = '\0';
                    if (strcmp(kv, "name") == 0)
                        fprintf(f, "  %s\n", eq + 1);
                    else if (strcmp(kv, "profile") == 0)
                        fprintf(f, "   Profile: %s\n", eq + 1);
                }
            }
        }
    }
    nonempty(f, " Kernel Version:", jx_str(in, "KernelVersion"));
    nonempty(f, " Operating System:", jx_str(in, "OperatingSystem"));
    nonempty(f, " OSType:", jx_str(in, "OSType"));
    nonempty(f, " Architecture:", jx_str(in, "Architecture"));
    fprintf(f, " CPUs: %lld\n", (long long)jx_int(in, "NCPU", 0));
    cli_fmt_bytes_size((double)jx_int(in, "MemTotal", 0), tmp, sizeof(tmp));
    fprintf(f, " Total Memory: %s\n", tmp);
    nonempty(f, " Name:", jx_str(in, "Name"));
    nonempty(f, " ID:", jx_str(in, "ID"));
    fprintf(f, " Docker Root Dir: %s\n", jx_str0(in, "DockerRootDir"));
    bool dbg = jx_bool(in, "Debug", false);
    fprintf(f, " Debug Mode: %s\n", tf(dbg));
    if (dbg || ctx->debug) {
        fprintf(f, "  File Descriptors: %lld\n",
                (long long)jx_int(in, "NFd", 0));
        fprintf(f, "  Goroutines: %lld\n",
                (long long)jx_int(in, "NGoroutines", 0));
        fprintf(f, "  System Time: %s\n", jx_str0(in, "SystemTime"));
        fprintf(f, "  EventsListeners: %lld\n",
                (long long)jx_int(in, "NEventsListener", 0));
    }
    nonempty(f, " HTTP Proxy:", jx_str(in, "HttpProxy"));
    nonempty(f, " HTTPS Proxy:", jx_str(in, "HttpsProxy"));
    nonempty(f, " No Proxy:", jx_str(in, "NoProxy"));
    json_t *labels = json_object_get(in, "Labels");
    if (json_array_size(labels)) {
        json_t *l;
        fprintf(f, " Labels:\n");
        json_array_foreach(labels, i, l)
        {
            fprintf(f, "  %s\n", cli_jstr(l));
        }
    }
    fprintf(f, " Experimental: %s\n",
            tf(jx_bool(in, "ExperimentalBuild", false)));
    json_t *rc = json_object_get(in, "RegistryConfig");
    json_t *cidrs = json_object_get(rc, "InsecureRegistryCIDRs");
    json_t *idx = json_object_get(rc, "IndexConfigs");
    if (json_is_object(rc) &&
        (json_array_size(cidrs) > 0 || json_object_size(idx) > 0)) {
        const char *k;
        json_t *v;
        fprintf(f, " Insecure Registries:\n");
        json_object_foreach(idx, k, v)
        {
            if (!jx_bool(v, "Secure", false))
                fprintf(f, "  %s\n", jx_str0(v, "Name"));
        }
        json_array_foreach(cidrs, i, v)
        {
            fprintf(f, "  %s\n", cli_jstr(v));
        }
    }
    json_t *mirrors = json_object_get(rc, "Mirrors");
    if (json_array_size(mirrors)) {
        json_t *m;
        fprintf(f, " Registry Mirrors:\n");
        json_array_foreach(mirrors, i, m)
        {
            fprintf(f, "  %s\n", cli_jstr(m));
        }
    }
    fprintf(f, " Live Restore Enabled: %s\n",
            tf(jx_bool(in, "LiveRestoreEnabled", false)));
    json_t *pools = json_object_get(in, "DefaultAddressPools");
    if (json_array_size(pools)) {
        json_t *p;
        fprintf(f, " Default Address Pools:\n");
        json_array_foreach(pools, i, p)
        {
            fprintf(f, "   Base: %s, Size: %lld\n", jx_str0(p, "Base"),
                    (long long)jx_int(p, "Size", 0));
        }
    }
    fprintf(f, "\n");
    json_t *w;
    fflush(f);
    json_array_foreach(json_object_get(in, "Warnings"), i, w)
    {
        fprintf(ctx->err, "%s\n", cli_jstr(w));
    }
}

static int run_info(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    const char *format = cli_flag_str(fl, "format");
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    if (format && *format) {
        _cleanup_free_ char *raw = NULL;
        if (strcmp(format, "json") == 0 || strcmp(format, "{{json .}}") == 0) {
            size_t len;
            raw = cli_client_get_raw(c, "/info", &len, err);
            if (!raw)
                return -1;
            fprintf(ctx->out, "%s\n", raw);
            return 0;
        }
        _cleanup_json_ json_t *in = cli_client_get_json(c, "/info", err);
        if (!in)
            return -1;
        return err_set(err, ERR_INVALID,
                       "template parsing error: shoal info supports only "
                       "--format json");
    }
    fprintf(ctx->out, "Client:\n");
    fprintf(ctx->out, " Version:    %s\n", CLI_VERSION);
    fprintf(ctx->out, " Context:    default\n");
    fprintf(ctx->out, " Debug Mode: %s\n\n", tf(ctx->debug));
    fprintf(ctx->out, "Server:\n");
    _cleanup_json_ json_t *in = cli_client_get_json(c, "/info", err);
    if (!in) {
        fflush(ctx->out);
        fprintf(ctx->err, "ERROR: %s\n", err->msg);
        return err_set(err, ERR_INTERNAL, "errors pretty printing info");
    }
    print_info(ctx, in);
    return 0;
}

static const struct cli_flag version_flags[] = {
    {"format", 'f', CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
};

static const struct cli_flag info_flags[] = {
    {"format", 'f', CLI_FLAG_STRING,
     "Format output using a custom template ('json' only)", NULL, NULL, NULL,
     false},
};

const struct cli_cmd cli_cmd_version = {
    .name = "version",
    .use = "[OPTIONS]",
    .short_desc = "Show the shoal version information",
    .flags = CLI_FLAGS(version_flags),
    .args = CLI_ARGS_NONE,
    .run = run_version,
};

const struct cli_cmd cli_cmd_info = {
    .name = "info",
    .use = "[OPTIONS]",
    .short_desc = "Display system-wide information",
    .flags = CLI_FLAGS(info_flags),
    .args = CLI_ARGS_NONE,
    .run = run_info,
};

static const struct cli_cmd *const system_subs[] = {
    &cli_cmd_system_df, &cli_cmd_info, &cli_cmd_version, NULL};

const struct cli_cmd cli_cmd_system = {
    .name = "system",
    .use = "COMMAND",
    .short_desc = "Manage shoal",
    .subs = system_subs,
};
