// SPDX-License-Identifier: Apache-2.0
// `shoal swarm ...`: init, join, join-token, leave, update, unlock,
// unlock-key and ca, with the docker CLI 28's requests and messages (the
// join command printed from the node's manager address and GET /swarm's
// tokens, read-modify-write spec updates with all rotate flags spelled
// out).
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "cli/cli_service_spec.h"
#include "cli/format.h"

/* opts.NodeAddrOption: "host" -> "host:4377". Owned. */
static char *node_addr(const char *v)
{
    if (!v || !*v)
        return xstrdup("0.0.0.0:4377");
    if (v[0] == '[') {
        const char *close = strchr(v, ']');
        if (close && close[1] == ':')
            return xstrdup(v);
        return xasprintf("%s:4377", v);
    }
    const char *colon = strrchr(v, ':');
    if (colon && colon[1])
        return xstrdup(v);
    if (colon)
        return xasprintf("%s4377", v);
    return xasprintf("%s:4377", v);
}

static int check_availability(const char *v, struct err *err)
{
    char *l = xstrdup(v);
    for (char *p = l; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    bool ok =
        !strcmp(l, "active") || !strcmp(l, "pause") || !strcmp(l, "drain");
    free(l);
    if (!ok)
        return err_set(err, ERR_INVALID,
                       "invalid availability \"%s\", only active, pause and "
                       "drain are supported",
                       v);
    return 0;
}

static char *lower_dup(const char *v)
{
    char *l = xstrdup(v);
    for (char *p = l; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    return l;
}

/* Applies the swarm spec flags that were given (mergeSwarmSpec). */
static void merge_spec(json_t *spec, const struct cli_flags *fl)
{
    if (cli_flag_changed(fl, "task-history-limit"))
        json_object_set_new(
            jx_obj(spec, "Orchestration"), "TaskHistoryRetentionLimit",
            json_integer(cli_flag_int(fl, "task-history-limit")));
    if (cli_flag_changed(fl, "dispatcher-heartbeat"))
        json_object_set_new(
            jx_obj(spec, "Dispatcher"), "HeartbeatPeriod",
            json_integer(cli_flag_duration(fl, "dispatcher-heartbeat")));
    if (cli_flag_changed(fl, "cert-expiry"))
        json_object_set_new(jx_obj(spec, "CAConfig"), "NodeCertExpiry",
                            json_integer(cli_flag_duration(fl, "cert-expiry")));
    if (cli_flag_changed(fl, "max-snapshots"))
        json_object_set_new(
            jx_obj(spec, "Raft"), "KeepOldSnapshots",
            json_integer((json_int_t)cli_flag_uint(fl, "max-snapshots")));
    if (cli_flag_changed(fl, "snapshot-interval"))
        json_object_set_new(
            jx_obj(spec, "Raft"), "SnapshotInterval",
            json_integer((json_int_t)cli_flag_uint(fl, "snapshot-interval")));
    if (cli_flag_changed(fl, "autolock"))
        json_object_set_new(jx_obj(spec, "EncryptionConfig"),
                            "AutoLockManagers",
                            json_boolean(cli_flag_bool(fl, "autolock")));
}

static void print_unlock_command(FILE *out, const char *key)
{
    if (!key || !*key)
        return;
    fprintf(out,
            "To unlock a swarm manager after it restarts, run the `shoal "
            "swarm unlock`\ncommand and provide the following key:\n\n    "
            "%s\n\nRemember to store this key in a password manager, since "
            "without it you\nwill not be able to restart the manager.\n",
            key);
}

/* printJoinCommand: the token from GET /swarm, the address from the
 * node's manager status. */
static int print_join_command(struct cli_ctx *ctx, struct cli_client *c,
                              const char *node_id, bool worker, bool manager,
                              struct err *err)
{
    _cleanup_free_ char *esc = cli_path_escape(node_id);
    _cleanup_free_ char *path = xasprintf("/nodes/%s", esc);
    _cleanup_json_ json_t *node = cli_client_get_json(c, path, err);
    if (!node)
        return -1;
    _cleanup_json_ json_t *sw = cli_client_get_object(c, "/swarm", err);
    if (!sw)
        return -1;
    json_t *ms = json_object_get(node, "ManagerStatus");
    if (!json_is_object(ms))
        return 0;
    const char *addr = jx_str0(ms, "Addr");
    if (worker)
        fprintf(ctx->out,
                "To add a worker to this swarm, run the following "
                "command:\n\n    shoal swarm join --token %s %s\n\n",
                jx_path_str(sw, "JoinTokens.Worker")
                    ? jx_path_str(sw, "JoinTokens.Worker")
                    : "",
                addr);
    if (manager)
        fprintf(ctx->out,
                "To add a manager to this swarm, run the following "
                "command:\n\n    shoal swarm join --token %s %s\n\n",
                jx_path_str(sw, "JoinTokens.Manager")
                    ? jx_path_str(sw, "JoinTokens.Manager")
                    : "",
                addr);
    return 0;
}

static json_t *get_unlock_key(struct cli_client *c, struct err *err)
{
    json_t *k = cli_client_get_json(c, "/swarm/unlockkey", err);
    if (!k)
        err_ctx(err, "could not fetch unlock key");
    return k;
}

static int post_body(struct cli_client *c, const char *path, const json_t *j,
                     json_t **reply, struct err *err)
{
    struct buf b;
    buf_init(&b);
    cli_go_json(j, &b);
    struct cli_request req = {.method = "POST",
                              .path = path,
                              .content_type = "application/json",
                              .body = b.data,
                              .body_len = b.len};
    struct cli_response resp;
    int rc = cli_client_do(c, &req, &resp, err);
    buf_fini(&b);
    if (rc == 0 && reply) {
        json_error_t je;
        *reply = resp.body.len ? json_loadb(resp.body.data, resp.body.len,
                                            JSON_DECODE_ANY, &je)
                               : NULL;
    }
    buf_fini(&resp.body);
    return rc;
}

static int run_init(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    if (cli_flag_changed(fl, "availability") &&
        check_availability(cli_flag_str(fl, "availability"), err) < 0)
        return -1;
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    json_t *spec_in = json_object();
    merge_spec(spec_in, fl);
    json_t *spec = cli_go_canon(CLI_GO_SWARM_SPEC, spec_in);
    json_decref(spec_in);
    json_t *req = json_object();
    _cleanup_free_ char *listen = node_addr(cli_flag_str(fl, "listen-addr"));
    const char *adv = cli_flag_str(fl, "advertise-addr");
    const char *dpa = cli_flag_str(fl, "data-path-addr");
    json_object_set_new(req, "ListenAddr", json_string(listen));
    json_object_set_new(req, "AdvertiseAddr", json_string(adv ? adv : ""));
    json_object_set_new(req, "DataPathAddr", json_string(dpa ? dpa : ""));
    json_object_set_new(
        req, "DataPathPort",
        json_integer((json_int_t)cli_flag_uint(fl, "data-path-port")));
    json_object_set_new(req, "ForceNewCluster",
                        json_boolean(cli_flag_bool(fl, "force-new-cluster")));
    json_object_set_new(req, "Spec", spec);
    bool autolock = cli_flag_bool(fl, "autolock");
    json_object_set_new(req, "AutoLockManagers", json_boolean(autolock));
    _cleanup_free_ char *avail =
        cli_flag_changed(fl, "availability")
            ? lower_dup(cli_flag_str(fl, "availability"))
            : xstrdup("");
    json_object_set_new(req, "Availability", json_string(avail));
    json_t *pools = json_array();
    const struct vec *pv = cli_flag_list(fl, "default-addr-pool");
    for (size_t i = 0; i < pv->len; i++)
        json_array_append_new(pools, json_string(pv->items[i]));
    json_object_set_new(req, "DefaultAddrPool", pools);
    json_object_set_new(req, "SubnetSize",
                        json_integer((json_int_t)cli_flag_uint(
                            fl, "default-addr-pool-mask-length")));
    json_t *reply = NULL;
    int rc = post_body(c, "/swarm/init", req, &reply, err);
    json_decref(req);
    if (rc < 0) {
        if (strstr(err->msg, "could not choose an IP address to advertise") ||
            strstr(err->msg, "could not find the system's IP address")) {
            char msg[sizeof(err->msg)];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            err_set(err, err->code,
                    "%.400s - specify one with --advertise-addr", msg);
        }
        return -1;
    }
    _cleanup_free_ char *node_id =
        xstrdup(json_is_string(reply) ? cli_jstr(reply) : "");
    json_decref(reply);
    fprintf(ctx->out,
            "Swarm initialized: current node (%s) is now a manager.\n\n",
            node_id);
    if (print_join_command(ctx, c, node_id, true, false, err) < 0)
        return -1;
    fprintf(ctx->out, "To add a manager to this swarm, run 'shoal swarm "
                      "join-token manager' and follow the instructions.\n");
    if (autolock) {
        _cleanup_json_ json_t *k = get_unlock_key(c, err);
        if (!k)
            return -1;
        print_unlock_command(ctx->out, jx_str(k, "UnlockKey"));
    }
    return 0;
}

static int run_join(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    if (cli_flag_changed(fl, "availability") &&
        check_availability(cli_flag_str(fl, "availability"), err) < 0)
        return -1;
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    json_t *req = json_object();
    _cleanup_free_ char *listen = node_addr(cli_flag_str(fl, "listen-addr"));
    const char *adv = cli_flag_str(fl, "advertise-addr");
    const char *dpa = cli_flag_str(fl, "data-path-addr");
    const char *token = cli_flag_str(fl, "token");
    json_object_set_new(req, "ListenAddr", json_string(listen));
    json_object_set_new(req, "AdvertiseAddr", json_string(adv ? adv : ""));
    json_object_set_new(req, "DataPathAddr", json_string(dpa ? dpa : ""));
    json_t *remotes = json_array();
    json_array_append_new(remotes, json_string(fl->args[0]));
    json_object_set_new(req, "RemoteAddrs", remotes);
    json_object_set_new(req, "JoinToken", json_string(token ? token : ""));
    _cleanup_free_ char *avail =
        cli_flag_changed(fl, "availability")
            ? lower_dup(cli_flag_str(fl, "availability"))
            : xstrdup("");
    json_object_set_new(req, "Availability", json_string(avail));
    int rc = post_body(c, "/swarm/join", req, NULL, err);
    json_decref(req);
    if (rc < 0)
        return -1;
    _cleanup_json_ json_t *info = cli_client_get_json(c, "/info", err);
    if (!info)
        return -1;
    fprintf(ctx->out, "This node joined a swarm as a %s.\n",
            jx_bool(json_object_get(info, "Swarm"), "ControlAvailable", false)
                ? "manager"
                : "worker");
    return 0;
}

/* POST /swarm/update with the current spec and the rotate flags. */
static int swarm_update(struct cli_client *c, json_t *sw, bool rot_worker,
                        bool rot_manager, bool rot_key, struct err *err)
{
    _cleanup_json_ json_t *spec =
        cli_go_canon(CLI_GO_SWARM_SPEC, json_object_get(sw, "Spec"));
    _cleanup_free_ char *path = xasprintf(
        "/swarm/update?rotateManagerToken=%s&rotateManagerUnlockKey=%s&"
        "rotateWorkerToken=%s&version=%lld",
        rot_manager ? "true" : "false", rot_key ? "true" : "false",
        rot_worker ? "true" : "false",
        (long long)jx_path_int(sw, "Version.Index", 0));
    return post_body(c, path, spec, NULL, err);
}

static int run_join_token(struct cli_ctx *ctx, struct cli_flags *fl,
                          struct err *err)
{
    const char *role = fl->args[0];
    bool worker = !strcmp(role, "worker"), manager = !strcmp(role, "manager");
    if (!worker && !manager)
        return err_set(err, ERR_INVALID, "unknown role %s", role);
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    bool quiet = cli_flag_bool(fl, "quiet");
    if (cli_flag_bool(fl, "rotate")) {
        _cleanup_json_ json_t *sw = cli_client_get_object(c, "/swarm", err);
        if (!sw || swarm_update(c, sw, worker, manager, false, err) < 0)
            return -1;
        if (!quiet)
            fprintf(ctx->out, "Successfully rotated %s join token.\n\n", role);
    }
    _cleanup_json_ json_t *sw = cli_client_get_object(c, "/swarm", err);
    if (!sw)
        return -1;
    if (quiet) {
        const char *t = jx_path_str(sw, worker ? "JoinTokens.Worker"
                                               : "JoinTokens.Manager");
        fprintf(ctx->out, "%s\n", t ? t : "");
        return 0;
    }
    _cleanup_json_ json_t *info = cli_client_get_json(c, "/info", err);
    if (!info)
        return -1;
    const char *id = jx_path_str(info, "Swarm.NodeID");
    return print_join_command(ctx, c, id ? id : "", worker, manager, err);
}

static int run_leave(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    struct cli_request req = {.method = "POST",
                              .path = cli_flag_bool(fl, "force")
                                          ? "/swarm/leave?force=1"
                                          : "/swarm/leave"};
    if (cli_client_do(c, &req, NULL, err) < 0)
        return -1;
    fprintf(ctx->out, "Node left the swarm.\n");
    return 0;
}

static int run_update(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    _cleanup_json_ json_t *sw = cli_client_get_object(c, "/swarm", err);
    if (!sw)
        return -1;
    json_t *spec = jx_obj(sw, "Spec");
    bool prev =
        jx_path(spec, "EncryptionConfig.AutoLockManagers") &&
        json_is_true(jx_path(spec, "EncryptionConfig.AutoLockManagers"));
    merge_spec(spec, fl);
    bool cur = json_is_true(jx_path(spec, "EncryptionConfig.AutoLockManagers"));
    if (swarm_update(c, sw, false, false, false, err) < 0)
        return -1;
    fprintf(ctx->out, "Swarm updated.\n");
    if (cur && !prev) {
        _cleanup_json_ json_t *k = get_unlock_key(c, err);
        if (!k)
            return -1;
        print_unlock_command(ctx->out, jx_str(k, "UnlockKey"));
    }
    return 0;
}

/* Reads the unlock key: without echo from a terminal, else one line. */
static char *read_key(FILE *in, bool prompt)
{
    struct termios old, quiet;
    bool tty = isatty(fileno(in)) && tcgetattr(fileno(in), &old) == 0;
    if (tty && prompt) {
        fprintf(stderr, "Enter unlock key: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(in), TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, in);
    if (tty && prompt) {
        tcsetattr(fileno(in), TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (n < 0) {
        free(line);
        return xstrdup("");
    }
    while (n > 0 &&
           (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    return line;
}

static int run_unlock(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    (void)fl;
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    _cleanup_json_ json_t *info = cli_client_get_json(c, "/info", err);
    if (!info)
        return -1;
    const char *state = jx_path_str(info, "Swarm.LocalNodeState");
    if (!state || !strcmp(state, "inactive"))
        return err_set(err, ERR_UNAVAILABLE,
                       "Error: This node is not part of a swarm");
    if (strcmp(state, "locked") != 0)
        return err_set(err, ERR_INVALID, "Error: swarm is not locked");
    _cleanup_free_ char *key = read_key(stdin, true);
    json_t *req = json_object();
    json_object_set_new(req, "UnlockKey", json_string(key));
    int rc = post_body(c, "/swarm/unlock", req, NULL, err);
    json_decref(req);
    return rc;
}

static int run_unlock_key(struct cli_ctx *ctx, struct cli_flags *fl,
                          struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    bool quiet = cli_flag_bool(fl, "quiet");
    if (cli_flag_bool(fl, "rotate")) {
        _cleanup_json_ json_t *sw = cli_client_get_object(c, "/swarm", err);
        if (!sw)
            return -1;
        if (!json_is_true(
                jx_path(sw, "Spec.EncryptionConfig.AutoLockManagers")))
            return err_set(err, ERR_INVALID,
                           "cannot rotate because autolock is not turned on");
        if (swarm_update(c, sw, false, false, true, err) < 0)
            return -1;
        if (!quiet)
            fprintf(ctx->out, "Successfully rotated manager unlock key.\n\n");
    }
    _cleanup_json_ json_t *k = get_unlock_key(c, err);
    if (!k)
        return -1;
    const char *key = jx_str(k, "UnlockKey");
    if (!key || !*key)
        return err_set(err, ERR_NOTFOUND, "no unlock key is set");
    if (quiet)
        fprintf(ctx->out, "%s\n", key);
    else
        print_unlock_command(ctx->out, key);
    return 0;
}

static void print_root(struct cli_ctx *ctx, const json_t *sw)
{
    const char *root = jx_path_str(sw, "TLSInfo.TrustRoot");
    if (!root)
        root = "";
    size_t n = strlen(root);
    while (n && (root[n - 1] == '\n' || root[n - 1] == ' '))
        n--;
    fprintf(ctx->out, "%.*s\n", (int)n, root);
}

static int run_ca(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    _cleanup_json_ json_t *sw = cli_client_get_object(c, "/swarm", err);
    if (!sw)
        return -1;
    bool rotate = cli_flag_bool(fl, "rotate");
    if (!rotate && !cli_flag_changed(fl, "cert-expiry")) {
        print_root(ctx, sw);
        return 0;
    }
    json_t *ca = jx_obj(jx_obj(sw, "Spec"), "CAConfig");
    if (cli_flag_changed(fl, "cert-expiry"))
        json_object_set_new(ca, "NodeCertExpiry",
                            json_integer(cli_flag_duration(fl, "cert-expiry")));
    if (rotate)
        json_object_set_new(ca, "ForceRotate",
                            json_integer(jx_int(ca, "ForceRotate", 0) + 1));
    if (swarm_update(c, sw, false, false, false, err) < 0)
        return -1;
    _cleanup_json_ json_t *now = cli_client_get_object(c, "/swarm", err);
    if (!now)
        return -1;
    if (!cli_flag_bool(fl, "quiet"))
        print_root(ctx, now);
    return 0;
}

/* ---- command table ---------------------------------------------------- */

static const struct cli_flag init_flags[] = {
    {"advertise-addr", 0, CLI_FLAG_STRING,
     "Advertised address (format: \"<ip|interface>[:port]\")", NULL, NULL, NULL,
     false},
    {"autolock", 0, CLI_FLAG_BOOL,
     "Enable manager autolocking (requiring an unlock key to start a "
     "stopped manager)",
     NULL, NULL, NULL, false},
    {"availability", 0, CLI_FLAG_STRING,
     "Availability of the node (\"active\", \"pause\", \"drain\")", "active",
     NULL, NULL, false},
    {"cert-expiry", 0, CLI_FLAG_DURATION,
     "Validity period for node certificates (ns|us|ms|s|m|h)", "2160h0m0s",
     NULL, NULL, false},
    {"data-path-addr", 0, CLI_FLAG_STRING,
     "Address or interface to use for data path traffic (format: "
     "\"<ip|interface>\")",
     NULL, NULL, NULL, false},
    {"data-path-port", 0, CLI_FLAG_UINT,
     "Port number to use for data path traffic (1024 - 49151). If no value "
     "is set or is set to 0, the default port (4789) is used.",
     NULL, NULL, NULL, false},
    {"default-addr-pool", 0, CLI_FLAG_LIST,
     "default address pool in CIDR format", NULL, "ipNetSlice", NULL, false},
    {"default-addr-pool-mask-length", 0, CLI_FLAG_UINT,
     "default address pool subnet mask length", "24", NULL, NULL, false},
    {"dispatcher-heartbeat", 0, CLI_FLAG_DURATION,
     "Dispatcher heartbeat period (ns|us|ms|s|m|h)", "5s", NULL, NULL, false},
    {"force-new-cluster", 0, CLI_FLAG_BOOL,
     "Force create a new cluster from current state", NULL, NULL, NULL, false},
    {"listen-addr", 0, CLI_FLAG_STRING,
     "Listen address (format: \"<ip|interface>[:port]\")", "0.0.0.0:4377",
     "node-addr", NULL, false},
    {"max-snapshots", 0, CLI_FLAG_UINT,
     "Number of additional Raft snapshots to retain", NULL, NULL, NULL, false},
    {"snapshot-interval", 0, CLI_FLAG_UINT,
     "Number of log entries between Raft snapshots", "10000", NULL, NULL,
     false},
    {"task-history-limit", 0, CLI_FLAG_INT, "Task history retention limit", "5",
     NULL, NULL, false},
};

static const struct cli_flag join_flags[] = {
    {"advertise-addr", 0, CLI_FLAG_STRING,
     "Advertised address (format: \"<ip|interface>[:port]\")", NULL, NULL, NULL,
     false},
    {"availability", 0, CLI_FLAG_STRING,
     "Availability of the node (\"active\", \"pause\", \"drain\")", "active",
     NULL, NULL, false},
    {"data-path-addr", 0, CLI_FLAG_STRING,
     "Address or interface to use for data path traffic (format: "
     "\"<ip|interface>\")",
     NULL, NULL, NULL, false},
    {"listen-addr", 0, CLI_FLAG_STRING,
     "Listen address (format: \"<ip|interface>[:port]\")", "0.0.0.0:4377",
     "node-addr", NULL, false},
    {"token", 0, CLI_FLAG_STRING, "Token for entry into the swarm", NULL, NULL,
     NULL, false},
};

static const struct cli_flag join_token_flags[] = {
    {"quiet", 'q', CLI_FLAG_BOOL, "Only display token", NULL, NULL, NULL,
     false},
    {"rotate", 0, CLI_FLAG_BOOL, "Rotate join token", NULL, NULL, NULL, false},
};

static const struct cli_flag leave_flags[] = {
    {"force", 'f', CLI_FLAG_BOOL,
     "Force this node to leave the swarm, ignoring warnings", NULL, NULL, NULL,
     false},
};

static const struct cli_flag update_flags[] = {
    {"autolock", 0, CLI_FLAG_BOOL,
     "Change manager autolocking setting "
     "(true|false)",
     NULL, NULL, NULL, false},
    {"cert-expiry", 0, CLI_FLAG_DURATION,
     "Validity period for node certificates (ns|us|ms|s|m|h)", "2160h0m0s",
     NULL, NULL, false},
    {"dispatcher-heartbeat", 0, CLI_FLAG_DURATION,
     "Dispatcher heartbeat period (ns|us|ms|s|m|h)", "5s", NULL, NULL, false},
    {"max-snapshots", 0, CLI_FLAG_UINT,
     "Number of additional Raft snapshots to retain", NULL, NULL, NULL, false},
    {"snapshot-interval", 0, CLI_FLAG_UINT,
     "Number of log entries between Raft snapshots", "10000", NULL, NULL,
     false},
    {"task-history-limit", 0, CLI_FLAG_INT, "Task history retention limit", "5",
     NULL, NULL, false},
};

static const struct cli_flag unlock_key_flags[] = {
    {"quiet", 'q', CLI_FLAG_BOOL, "Only display token", NULL, NULL, NULL,
     false},
    {"rotate", 0, CLI_FLAG_BOOL, "Rotate unlock key", NULL, NULL, NULL, false},
};

static const struct cli_flag ca_flags[] = {
    {"cert-expiry", 0, CLI_FLAG_DURATION,
     "Validity period for node certificates (ns|us|ms|s|m|h)", "2160h0m0s",
     NULL, NULL, false},
    {"detach", 'd', CLI_FLAG_BOOL,
     "Exit immediately instead of waiting for the root rotation to converge",
     NULL, NULL, NULL, false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Suppress progress output", NULL, NULL, NULL,
     false},
    {"rotate", 0, CLI_FLAG_BOOL,
     "Rotate the swarm CA - if no certificate or key are provided, new ones "
     "will be generated",
     NULL, NULL, NULL, false},
};

static const struct cli_cmd cmd_init = {
    .name = "init",
    .use = "[OPTIONS]",
    .short_desc = "Initialize a swarm",
    .flags = CLI_FLAGS(init_flags),
    .args = CLI_ARGS_NONE,
    .run = run_init,
};

static const struct cli_cmd cmd_join = {
    .name = "join",
    .use = "[OPTIONS] HOST:PORT",
    .short_desc = "Join a swarm as a node and/or manager",
    .flags = CLI_FLAGS(join_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_join,
};

static const struct cli_cmd cmd_join_token = {
    .name = "join-token",
    .use = "[OPTIONS] (worker|manager)",
    .short_desc = "Manage join tokens",
    .flags = CLI_FLAGS(join_token_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_join_token,
};

static const struct cli_cmd cmd_leave = {
    .name = "leave",
    .use = "[OPTIONS]",
    .short_desc = "Leave the swarm",
    .flags = CLI_FLAGS(leave_flags),
    .args = CLI_ARGS_NONE,
    .run = run_leave,
};

static const struct cli_cmd cmd_update = {
    .name = "update",
    .use = "[OPTIONS]",
    .short_desc = "Update the swarm",
    .flags = CLI_FLAGS(update_flags),
    .args = CLI_ARGS_NONE,
    .run = run_update,
};

static const struct cli_cmd cmd_unlock = {
    .name = "unlock",
    .use = "",
    .short_desc = "Unlock swarm",
    .args = CLI_ARGS_NONE,
    .run = run_unlock,
};

static const struct cli_cmd cmd_unlock_key = {
    .name = "unlock-key",
    .use = "[OPTIONS]",
    .short_desc = "Manage the unlock key",
    .flags = CLI_FLAGS(unlock_key_flags),
    .args = CLI_ARGS_NONE,
    .run = run_unlock_key,
};

static const struct cli_cmd cmd_ca = {
    .name = "ca",
    .use = "[OPTIONS]",
    .short_desc = "Display and rotate the root CA",
    .flags = CLI_FLAGS(ca_flags),
    .args = CLI_ARGS_NONE,
    .run = run_ca,
};

static const struct cli_cmd *const swarm_subs[] = {
    &cmd_ca,         &cmd_init,   &cmd_join,
    &cmd_join_token, &cmd_leave,  &cmd_unlock,
    &cmd_unlock_key, &cmd_update, NULL,
};

const struct cli_cmd cli_cmd_swarm = {
    .name = "swarm",
    .use = "COMMAND",
    .short_desc = "Manage Swarm",
    .subs = swarm_subs,
};
