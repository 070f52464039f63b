// SPDX-License-Identifier: Apache-2.0
// Unit tests for `shoal network`: create flags to the exact request body
// docker sends (the trace's, and the IPAM checks), the `network ls` output
// rendered from the trace's JSON, and the rm / prune request sequences run
// against a fake daemon.
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "cli/cli_network.h"

/* GET /networks from docker-cli-traces/04-network.txt. */
static const char networks_json[] =
    "[{\"Name\":\"service_network\",\"Id\":\"ilfdre5w41qifdebozwo2033i\","
    "\"Created\":\"2026-11-27T04:32:29.27361744Z\",\"Scope\":\"swarm\",\""
    "Driver\":\"overlay\",\"EnableIPv6\":false,\"IPAM\":{\"Driver\":\"def"
    "ault\",\"Options\":null,\"Config\":[{\"Subnet\":\"10.0.1.0/24\",\"Ga"
    "teway\":\"10.0.1.1\"}]},\"Internal\":false,\"Attachable\":false,\"In"
    "gress\":false,\"ConfigFrom\":{\"Network\":\"\"},\"ConfigOnly\":false"
    ",\"Containers\":null,\"Options\":{\"com.docker.network.driver.overla"
    "y.vxlanid_list\":\"4097\"},\"Labels\":null},{\"Name\":\"ingress\",\""
    "Id\":\"joxct9o4tlsg0j1kqy3zgivsr\",\"Created\":\"2026-11-27T04:23:39"
    ".992692462Z\",\"Scope\":\"swarm\",\"Driver\":\"overlay\",\"EnableIPv"
    "6\":false,\"IPAM\":{\"Driver\":\"default\",\"Options\":null,\"Config"
    "\":[{\"Subnet\":\"10.0.0.0/24\",\"Gateway\":\"10.0.0.1\"}]},\"Intern"
    "al\":false,\"Attachable\":false,\"Ingress\":true,\"ConfigFrom\":{\"N"
    "etwork\":\"\"},\"ConfigOnly\":false,\"Containers\":null,\"Options\":"
    "{\"com.docker.network.driver.overlay.vxlanid_list\":\"4096\"},\"Labe"
    "ls\":null},{\"Name\":\"none\",\"Id\":\"ba5aefd2d2bc95aaca1e87d43107f"
    "ce244f9ab473b7ca04a814b950a794e2d91\",\"Created\":\"2026-11-27T04:23"
    ":21.402224935Z\",\"Scope\":\"local\",\"Driver\":\"null\",\"EnableIPv"
    "6\":false,\"IPAM\":{\"Driver\":\"default\",\"Options\":null,\"Config"
    "\":[]},\"Internal\":false,\"Attachable\":false,\"Ingress\":false,\"C"
    "onfigFrom\":{\"Network\":\"\"},\"ConfigOnly\":false,\"Containers\":{"
    "},\"Options\":{},\"Labels\":{}},{\"Name\":\"host\",\"Id\":\"2a6201f3"
    "628fdb3b86826b3435a83e9c3e2008af3cd91cb977a3764a1ecd8fff\",\"Created"
    "\":\"2026-11-27T04:23:21.44625031Z\",\"Scope\":\"local\",\"Driver\":"
    "\"host\",\"EnableIPv6\":false,\"IPAM\":{\"Driver\":\"default\",\"Opt"
    "ions\":null,\"Config\":[]},\"Internal\":false,\"Attachable\":false,\""
    "Ingress\":false,\"ConfigFrom\":{\"Network\":\"\"},\"ConfigOnly\":fal"
    "se,\"Containers\":{},\"Options\":{},\"Labels\":{}},{\"Name\":\"bridg"
    "e\",\"Id\":\"098612190c1cc5578e692a86bb2a0b86005548363137ab57869be7d"
    "efc067e42\",\"Created\":\"2026-11-27T04:23:21.487996254Z\",\"Scope\""
    ":\"local\",\"Driver\":\"bridge\",\"EnableIPv6\":false,\"IPAM\":{\"Dr"
    "iver\":\"default\",\"Options\":null,\"Config\":[{\"Subnet\":\"172.17"
    ".0.0/16\"}]},\"Internal\":false,\"Attachable\":false,\"Ingress\":fal"
    "se,\"ConfigFrom\":{\"Network\":\"\"},\"ConfigOnly\":false,\"Containe"
    "rs\":{},\"Options\":{\"com.docker.network.bridge.default_bridge\":\""
    "true\",\"com.docker.network.bridge.enable_icc\":\"true\",\"com.docke"
    "r.network.bridge.enable_ip_masquerade\":\"true\",\"com.docker.networ"
    "k.bridge.host_binding_ipv4\":\"0.0.0.0\",\"com.docker.network.bridge"
    ".name\":\"docker0\",\"com.docker.network.driver.mtu\":\"1500\"},\"La"
    "bels\":{}},{\"Name\":\"docker_gwbridge\",\"Id\":\"2398c76d726cb7735f"
    "12eb4f2f336573abd831de0dc378342206f5dd9fa2a5c3\",\"Created\":\"2026-"
    "11-27T04:23:41.838496641Z\",\"Scope\":\"local\",\"Driver\":\"bridge\""
    ",\"EnableIPv6\":false,\"IPAM\":{\"Driver\":\"default\",\"Options\":n"
    "ull,\"Config\":[{\"Subnet\":\"172.18.0.0/16\",\"Gateway\":\"172.18.0"
    ".1\"}]},\"Internal\":false,\"Attachable\":false,\"Ingress\":false,\""
    "ConfigFrom\":{\"Network\":\"\"},\"ConfigOnly\":false,\"Containers\":"
    "{},\"Options\":{\"com.docker.network.bridge.enable_icc\":\"false\",\""
    "com.docker.network.bridge.enable_ip_masquerade\":\"true\",\"com.dock"
    "er.network.bridge.name\":\"docker_gwbridge\"},\"Labels\":{}}]";

static const struct cli_cmd *network_sub(const char *name)
{
    for (const struct cli_cmd *const *s = cli_cmd_network.subs; *s; s++)
        if (!strcmp((*s)->name, name))
            return *s;
    return NULL;
}

/* Parses `network create` arguments and builds the body for api; returns
 * the body (owned) or NULL, with err. */
static char *create_body_v(const char *api, struct err *err, int argc,
                           char **argv)
{
    const struct cli_cmd *c = network_sub("create");
    struct cli_flags fl;
    char *out = NULL;
    if (cli_flags_parse(&fl, c->flags, c->nflags, argc, argv, true, err) == 0) {
        struct buf b;
        buf_init(&b);
        if (fl.nargs == 1 &&
            cli_network_create_body(&fl, fl.args[0], api, &b, err) == 0)
            out = buf_steal(&b);
        buf_fini(&b);
    }
    cli_flags_fini(&fl);
    return out;
}

/* The same with the arguments NULL-terminated. */
static char *create_body(const char *api, struct err *err, ...)
{
    char *argv[40];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 40;)
        argv[argc++] = a;
    va_end(ap);
    return create_body_v(api, err, argc, argv);
}

static void test_create_body_trace(void)
{
    struct err err = {0};
    /* The trace's request (API 1.41, so CheckDuplicate is sent). */
    char *b = create_body("1.41", &err, "--driver", "overlay",
                          "service_network", NULL);
    CHECK_STR(b, "{\"Driver\":\"overlay\",\"Scope\":\"\",\"IPAM\":{\"Driver\":"
                 "\"default\",\"Options\":{},\"Config\":[]},\"Internal\":"
                 "false,\"Attachable\":false,\"Ingress\":false,\"ConfigOnly\":"
                 "false,\"ConfigFrom\":null,\"Options\":{},\"Labels\":{},"
                 "\"Name\":\"service_network\",\"CheckDuplicate\":true}");
    free(b);
    /* From API 1.44 on the client leaves CheckDuplicate out. */
    b = create_body("1.47", &err, "-d", "overlay", "n", NULL);
    CHECK_STR(b, "{\"Driver\":\"overlay\",\"Scope\":\"\",\"IPAM\":{\"Driver\":"
                 "\"default\",\"Options\":{},\"Config\":[]},\"Internal\":"
                 "false,\"Attachable\":false,\"Ingress\":false,\"ConfigOnly\":"
                 "false,\"ConfigFrom\":null,\"Options\":{},\"Labels\":{},"
                 "\"Name\":\"n\"}");
    free(b);
    /* docker's default driver is bridge (the daemon refuses it). */
    b = create_body("1.44", &err, "n", NULL);
    CHECK(b && strncmp(b, "{\"Driver\":\"bridge\",", 19) == 0);
    free(b);
}

static void test_create_body_flags(void)
{
    struct err err = {0};
    char *b =
        create_body("1.47", &err, "--driver", "overlay", "--subnet",
                    "10.9.8.0/24", "--gateway", "10.9.8.254", "--attachable",
                    "--label", "team=blue", "custom", NULL);
    CHECK_STR(b, "{\"Driver\":\"overlay\",\"Scope\":\"\",\"IPAM\":{\"Driver\":"
                 "\"default\",\"Options\":{},\"Config\":[{\"Subnet\":\"10.9.8."
                 "0/24\",\"Gateway\":\"10.9.8.254\"}]},\"Internal\":false,"
                 "\"Attachable\":true,\"Ingress\":false,\"ConfigOnly\":false,"
                 "\"ConfigFrom\":null,\"Options\":{},\"Labels\":{\"team\":"
                 "\"blue\"},\"Name\":\"custom\"}");
    free(b);
    /* Maps come out sorted, the last value of a key wins, a bare key has
     * an empty value; --ipv4/--ipv6 only when given; every other field. */
    b = create_body("1.47", &err, "-d", "overlay", "--scope", "swarm",
                    "--ipv4=false", "--ipv6", "--internal", "--ingress",
                    "--config-only", "--config-from", "base", "-o", "z=1", "-o",
                    "a", "--opt", "m=x=y", "--label", "b=2", "--label", "a=1",
                    "--label", "b=3", "--ipam-driver", "custom", "--ipam-opt",
                    "k=v", "--subnet", "10.1.0.0/16", "--ip-range",
                    "10.1.2.0/24", "--aux-address", "host2=10.1.0.3",
                    "--aux-address", "host1=10.1.0.2", "net", NULL);
    CHECK_STR(b,
              "{\"Driver\":\"overlay\",\"Scope\":\"swarm\",\"EnableIPv4\":"
              "false,\"EnableIPv6\":true,\"IPAM\":{\"Driver\":\"custom\","
              "\"Options\":{\"k\":\"v\"},\"Config\":[{\"Subnet\":\"10.1.0.0/"
              "16\",\"IPRange\":\"10.1.2.0/24\",\"AuxiliaryAddresses\":{"
              "\"host1\":\"10.1.0.2\",\"host2\":\"10.1.0.3\"}}]},\"Internal\":"
              "true,\"Attachable\":false,\"Ingress\":true,\"ConfigOnly\":true,"
              "\"ConfigFrom\":{\"Network\":\"base\"},\"Options\":{\"a\":\"\","
              "\"m\":\"x=y\",\"z\":\"1\"},\"Labels\":{\"a\":\"1\",\"b\":\"3\"},"
              "\"Name\":\"net\"}");
    free(b);
    /* StringSlice flags split at commas; each gateway finds its subnet. */
    b = create_body("1.47", &err, "-d", "overlay", "--subnet",
                    "10.2.0.0/24,fd00::/64", "--gateway", "fd00::1",
                    "--gateway", "10.2.0.1", "v6", NULL);
    CHECK_STR(b, "{\"Driver\":\"overlay\",\"Scope\":\"\",\"IPAM\":{\"Driver\":"
                 "\"default\",\"Options\":{},\"Config\":[{\"Subnet\":\"10.2.0."
                 "0/24\",\"Gateway\":\"10.2.0.1\"},{\"Subnet\":\"fd00::/64\","
                 "\"Gateway\":\"fd00::1\"}]},\"Internal\":false,\"Attachable\":"
                 "false,\"Ingress\":false,\"ConfigOnly\":false,\"ConfigFrom\":"
                 "null,\"Options\":{},\"Labels\":{},\"Name\":\"v6\"}");
    free(b);
    /* A lone subnet is not parsed by the CLI: the daemon judges it. */
    b = create_body("1.47", &err, "--subnet", "nonsense", "x", NULL);
    CHECK(b && strstr(b, "\"Config\":[{\"Subnet\":\"nonsense\"}]"));
    free(b);
}

/* The error for these arguments (NULL-terminated; the name "n" is
 * added). */
static const char *create_error(struct err *err, ...)
{
    char *argv[8];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 7;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc++] = "n";
    memset(err, 0, sizeof(*err));
    char *b = create_body_v("1.47", err, argc, argv);
    if (b) {
        free(b);
        return "(no error)";
    }
    return err->msg;
}

static void test_create_errors(void)
{
    struct err e;
    CHECK_STR(create_error(&e, "--gateway", "10.0.0.1", NULL),
              "every ip-range or gateway must have a corresponding subnet");
    CHECK_STR(create_error(&e, "--subnet", "10.0.0.0/24", "--ip-range",
                           "10.0.0.0/25", "--ip-range", "10.0.0.128/25", NULL),
              "every ip-range or gateway must have a corresponding subnet");
    CHECK_STR(create_error(&e, "--subnet", "10.0.0.0/24", "--gateway",
                           "10.0.1.1", NULL),
              "no matching subnet for gateway 10.0.1.1");
    CHECK_STR(create_error(&e, "--subnet", "10.0.0.0/24", "--gateway", "bogus",
                           NULL, NULL),
              "no matching subnet for gateway bogus");
    CHECK_STR(create_error(&e, "--subnet", "10.0.0.0/33", "--gateway",
                           "10.0.0.1", NULL),
              "invalid subnet: invalid CIDR address: 10.0.0.0/33");
    CHECK_STR(create_error(&e, "--subnet", "10.0.0.0/24", "--ip-range",
                           "10.0.0.0/x", NULL),
              "invalid CIDR address: 10.0.0.0/x");
    CHECK_STR(create_error(&e, "--subnet", "10.0.0.0/24", "--ip-range",
                           "10.9.0.0/28", NULL),
              "no matching subnet for range 10.9.0.0/28");
    CHECK_STR(create_error(&e, "--subnet", "10.0.0.0/16", "--subnet",
                           "10.0.3.0/24", NULL),
              "multiple overlapping subnet configuration is not supported");
    CHECK_STR(create_error(&e, "--subnet", "10.0.0.0/24,10.0.1.0/24",
                           "--gateway", "10.0.0.1,10.0.0.2", NULL),
              "cannot configure multiple gateways (10.0.0.2, 10.0.0.1) for "
              "the same subnet (10.0.0.0/24)");
    CHECK_STR(create_error(&e, "--subnet", "10.0.0.0/24", "--aux-address",
                           "a=10.5.0.1", NULL),
              "no matching subnet for aux-address 10.5.0.1");
    /* Labels are checked as the flag is parsed. */
    CHECK_STR(create_error(&e, "--label", "=v", NULL),
              "invalid argument \"=v\" for \"--label\" flag: invalid label "
              "'=v': empty name");
    CHECK_STR(create_error(&e, "--label", "a b=v", NULL),
              "invalid argument \"a b=v\" for \"--label\" flag: label 'a b' "
              "contains whitespaces");
}

/* ---- output ------------------------------------------------------------ */

struct mem_ctx {
    struct cli_ctx ctx;
    char *out, *err;
    size_t olen, elen;
};

static void mem_open(struct mem_ctx *m)
{
    memset(m, 0, sizeof(*m));
    m->ctx.out = open_memstream(&m->out, &m->olen);
    m->ctx.err = open_memstream(&m->err, &m->elen);
    snprintf(m->ctx.path, sizeof(m->ctx.path), "shoal network");
}

static void mem_close(struct mem_ctx *m)
{
    fclose(m->ctx.out);
    fclose(m->ctx.err);
}

static void mem_free(struct mem_ctx *m)
{
    free(m->out);
    free(m->err);
}

/* Prints the list with these options; returns the output (owned). */
static char *ls_out(const json_t *nets, const char *format, bool quiet,
                    bool trunc)
{
    struct mem_ctx m;
    struct err err = {0};
    mem_open(&m);
    int rc = cli_network_print_list(&m.ctx, nets, format, quiet, trunc, &err);
    mem_close(&m);
    CHECK_INT(rc, 0);
    free(m.err);
    return m.out;
}

static void test_ls_trace(void)
{
    json_t *nets = json_loads(networks_json, 0, NULL);
    CHECK(json_array_size(nets) == 6);
    char *out = ls_out(nets, NULL, false, true);
    CHECK_STR(out, "NETWORK ID     NAME              DRIVER    SCOPE\n"
                   "098612190c1c   bridge            bridge    local\n"
                   "2398c76d726c   docker_gwbridge   bridge    local\n"
                   "2a6201f3628f   host              host      local\n"
                   "joxct9o4tlsg   ingress           overlay   swarm\n"
                   "ba5aefd2d2bc   none              null      local\n"
                   "ilfdre5w41qi   service_network   overlay   swarm\n");
    free(out);
    /* Only the swarm-scope rows, as shoald has them. */
    json_t *swarm = json_array();
    size_t i;
    json_t *n;
    json_array_foreach(nets, i, n)
    {
        if (!strcmp(jx_str0(n, "Scope"), "swarm"))
            json_array_append(swarm, n);
    }
    out = ls_out(swarm, "table", false, true);
    CHECK_STR(out, "NETWORK ID     NAME              DRIVER    SCOPE\n"
                   "joxct9o4tlsg   ingress           overlay   swarm\n"
                   "ilfdre5w41qi   service_network   overlay   swarm\n");
    free(out);
    out = ls_out(swarm, NULL, true, true);
    CHECK_STR(out, "joxct9o4tlsg\nilfdre5w41qi\n");
    free(out);
    out = ls_out(swarm, NULL, true, false);
    CHECK_STR(out, "joxct9o4tlsg0j1kqy3zgivsr\nilfdre5w41qifdebozwo2033i\n");
    free(out);
    out = ls_out(swarm, NULL, false, false);
    CHECK_STR(
        out, "NETWORK ID                  NAME              DRIVER    SCOPE\n"
             "joxct9o4tlsg0j1kqy3zgivsr   ingress           overlay   swarm\n"
             "ilfdre5w41qifdebozwo2033i   service_network   overlay   swarm\n");
    free(out);
    /* A format other than "table" wins over -q. */
    out = ls_out(swarm, "{{.Name}} {{.Internal}}", true, true);
    CHECK_STR(out, "ingress false\nservice_network false\n");
    free(out);
    out = ls_out(swarm, "table {{.Name}}\t{{.CreatedAt}}", false, true);
    CHECK_STR(out,
              "NAME              CREATED AT\n"
              "ingress           2026-11-27 04:23:39.992692462 +0000 UTC\n"
              "service_network   2026-11-27 04:32:29.27361744 +0000 UTC\n");
    free(out);
    out = ls_out(swarm, "raw", false, true);
    CHECK_STR(out, "network_id: joxct9o4tlsg\nname: ingress\ndriver: "
                   "overlay\nscope: swarm\n\nnetwork_id: ilfdre5w41qi\nname: "
                   "service_network\ndriver: overlay\nscope: swarm\n\n");
    free(out);
    json_t *one = json_array();
    json_array_append(one, json_array_get(swarm, 0));
    json_object_set_new(json_array_get(one, 0), "Labels",
                        json_pack("{s:s, s:s}", "z", "1", "a", "2"));
    out = ls_out(one, "json", false, true);
    CHECK_STR(out, "{\"CreatedAt\":\"2026-11-27 04:32:29.27361744 +0000 "
                   "UTC\",\"Driver\":\"overlay\",\"ID\":\"ilfdre5w41qi\","
                   "\"IPv4\":\"false\",\"IPv6\":\"false\",\"Internal\":"
                   "\"false\",\"Labels\":\"a=2,z=1\",\"Name\":\"service_"
                   "network\",\"Scope\":\"swarm\"}\n");
    free(out);
    /* Nothing but the header for no networks. */
    json_t *none = json_array();
    out = ls_out(none, NULL, false, true);
    CHECK_STR(out, "NETWORK ID   NAME      DRIVER    SCOPE\n");
    free(out);
    json_decref(none);
    json_decref(one);
    json_decref(swarm);
    json_decref(nets);
}

static void test_ls_natural_sort(void)
{
    json_t *nets = json_pack(
        "[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]",
        "Name", "net10", "Id", "aaaaaaaaaaaaaaaaaaaaaaaaa", "Driver", "overlay",
        "Scope", "swarm", "Name", "net2", "Id", "bbbbbbbbbbbbbbbbbbbbbbbbb",
        "Driver", "overlay", "Scope", "swarm", "Name", "Net1", "Id",
        "ccccccccccccccccccccccccc", "Driver", "overlay", "Scope", "swarm");
    char *out = ls_out(nets, "{{.Name}}", false, true);
    CHECK_STR(out, "Net1\nnet2\nnet10\n");
    free(out);
    json_decref(nets);
}

/* ---- rm / prune against a fake daemon ------------------------------- */

struct fake {
    json_t *nets;       /* what the daemon has */
    const char *in_use; /* name of a network a service uses */
    bool has_prune;     /* whether POST /networks/prune exists */
    bool answer;        /* the user's answer to a prompt */
    struct buf log;     /* "GET x\nDELETE x\n..." */
};

static json_t *fake_find(struct fake *f, const char *ref)
{
    size_t i;
    json_t *n;
    json_array_foreach(f->nets, i, n)
    {
        /* name, or a prefix of the ID */
        if (!strcmp(jx_str0(n, "Name"), ref) ||
            !strncmp(jx_str0(n, "Id"), ref, strlen(ref)))
            return n;
    }
    return NULL;
}

static json_t *fake_inspect(void *ud, const char *name, struct err *err)
{
    struct fake *f = ud;
    buf_printf(&f->log, "GET /networks/%s\n", name);
    json_t *n = fake_find(f, name);
    if (!n) {
        err_set(err, ERR_NOTFOUND,
                "Error response from daemon: network %s not found", name);
        return NULL;
    }
    return json_incref(n);
}

static int fake_remove(void *ud, const char *name, struct err *err)
{
    struct fake *f = ud;
    buf_printf(&f->log, "DELETE /networks/%s\n", name);
    json_t *n = fake_find(f, name);
    if (!n)
        return err_set(err, ERR_NOTFOUND,
                       "Error response from daemon: network %s not found",
                       name);
    if (f->in_use && !strcmp(jx_str0(n, "Name"), f->in_use))
        return err_set(err, ERR_CONFLICT,
                       "Error response from daemon: rpc error: code = "
                       "FailedPrecondition desc = network %s is in use by "
                       "service user",
                       jx_str0(n, "Id"));
    size_t i;
    json_t *x;
    json_array_foreach(f->nets, i, x)
    {
        if (x == n) {
            json_array_remove(f->nets, i);
            break;
        }
    }
    return 0;
}

static json_t *fake_list(void *ud, const char *filters, struct err *err)
{
    (void)err;
    struct fake *f = ud;
    buf_printf(&f->log, "GET /networks%s%s\n", filters ? "?filters=" : "",
               filters ? filters : "");
    return json_deep_copy(f->nets);
}

static json_t *fake_prune(void *ud, const char *filters, struct err *err)
{
    struct fake *f = ud;
    buf_printf(&f->log, "POST /networks/prune%s%s\n",
               filters ? "?filters=" : "", filters ? filters : "");
    if (!f->has_prune) {
        err_set(err, ERR_NOTFOUND,
                "Error response from daemon: page not found");
        return NULL;
    }
    return json_pack("{s:[s]}", "NetworksDeleted", "gone");
}

static bool fake_confirm(void *ud, const char *msg)
{
    struct fake *f = ud;
    buf_printf(&f->log, "ASK %.20s\n", msg);
    return f->answer;
}

static const struct cli_network_ops fake_ops = {
    .inspect = fake_inspect,
    .remove = fake_remove,
    .list = fake_list,
    .prune = fake_prune,
    .confirm = fake_confirm,
};

static void fake_init(struct fake *f)
{
    memset(f, 0, sizeof(*f));
    f->nets = json_loads(networks_json, 0, NULL);
    /* shoald has the swarm networks only */
    for (size_t i = json_array_size(f->nets); i-- > 0;) {
        if (strcmp(jx_str0(json_array_get(f->nets, i), "Scope"), "swarm"))
            json_array_remove(f->nets, i);
    }
    json_array_append_new(f->nets, json_pack("{s:s, s:s, s:b}", "Name", "busy",
                                             "Id", "busy0000000000000000000000",
                                             "Ingress", 0));
    f->in_use = "busy";
    buf_init(&f->log);
}

static void fake_fini(struct fake *f)
{
    json_decref(f->nets);
    buf_fini(&f->log);
}

static void test_rm_sequence(void)
{
    struct fake f;
    fake_init(&f);
    struct mem_ctx m;
    mem_open(&m);
    /* The trace: GET then DELETE by the name given, the name printed. */
    char *names[] = {"service_network"};
    CHECK_INT(cli_network_rm(&m.ctx, names, 1, false, &fake_ops, &f), 0);
    mem_close(&m);
    CHECK_STR(f.log.data, "GET /networks/service_network\n"
                          "DELETE /networks/service_network\n");
    CHECK_STR(m.out, "service_network\n");
    CHECK_STR(m.err, "");
    mem_free(&m);
    fake_fini(&f);

    /* Errors are printed and the rest still removed; status 1. */
    fake_init(&f);
    mem_open(&m);
    char *names2[] = {"nosuch", "busy", "ilfdre5w41qi"};
    CHECK_INT(cli_network_rm(&m.ctx, names2, 3, false, &fake_ops, &f), 1);
    mem_close(&m);
    CHECK_STR(f.log.data, "GET /networks/nosuch\nDELETE /networks/nosuch\n"
                          "GET /networks/busy\nDELETE /networks/busy\n"
                          "GET /networks/ilfdre5w41qi\n"
                          "DELETE /networks/ilfdre5w41qi\n");
    CHECK_STR(m.out, "ilfdre5w41qi\n");
    CHECK_STR(m.err, "Error response from daemon: network nosuch not found\n"
                     "Error response from daemon: rpc error: code = "
                     "FailedPrecondition desc = network "
                     "busy0000000000000000000000 is in use by service user\n");
    mem_free(&m);
    fake_fini(&f);

    /* --force: a missing network is not an error, one in use still is. */
    fake_init(&f);
    mem_open(&m);
    char *names3[] = {"nosuch", "busy"};
    CHECK_INT(cli_network_rm(&m.ctx, names3, 2, true, &fake_ops, &f), 1);
    char *names4[] = {"nosuch"};
    CHECK_INT(cli_network_rm(&m.ctx, names4, 1, true, &fake_ops, &f), 0);
    mem_close(&m);
    CHECK_STR(m.out, "");
    CHECK(strstr(m.err, "in use") && !strstr(m.err, "not found"));
    mem_free(&m);
    fake_fini(&f);

    /* The ingress network: asked first; "no" skips the DELETE. */
    fake_init(&f);
    mem_open(&m);
    char *names5[] = {"ingress"};
    CHECK_INT(cli_network_rm(&m.ctx, names5, 1, false, &fake_ops, &f), 0);
    CHECK_STR(f.log.data, "GET /networks/ingress\nASK WARNING! Before remo\n");
    f.answer = true;
    buf_reset(&f.log);
    CHECK_INT(cli_network_rm(&m.ctx, names5, 1, false, &fake_ops, &f), 0);
    mem_close(&m);
    CHECK_STR(f.log.data, "GET /networks/ingress\nASK WARNING! Before remo\n"
                          "DELETE /networks/ingress\n");
    CHECK_STR(m.out, "ingress\n");
    mem_free(&m);
    fake_fini(&f);
}

static void test_prune(void)
{
    struct fake f;
    struct mem_ctx m;
    struct err err = {0};
    /* A daemon with the endpoint: its report is printed. */
    fake_init(&f);
    f.has_prune = true;
    mem_open(&m);
    CHECK_INT(cli_network_prune(&m.ctx, NULL, &fake_ops, &f, &err), 0);
    mem_close(&m);
    CHECK_STR(f.log.data, "POST /networks/prune\n");
    CHECK_STR(m.out, "Deleted Networks:\ngone\n\n");
    mem_free(&m);
    fake_fini(&f);

    /* Without it: list, delete all but ingress, the one in use stays. */
    fake_init(&f);
    mem_open(&m);
    CHECK_INT(cli_network_prune(&m.ctx, "{\"label\":{\"a\":true}}", &fake_ops,
                                &f, &err),
              0);
    mem_close(&m);
    CHECK_STR(f.log.data,
              "POST /networks/prune?filters={\"label\":{\"a\":true}}\n"
              "GET /networks?filters={\"label\":{\"a\":true}}\n"
              "DELETE /networks/ilfdre5w41qifdebozwo2033i\n"
              "DELETE /networks/busy0000000000000000000000\n");
    CHECK_STR(m.out, "Deleted Networks:\nservice_network\n\n");
    CHECK_INT(json_array_size(f.nets), 2);
    mem_free(&m);
    /* Nothing left to prune: nothing printed. */
    buf_reset(&f.log);
    mem_open(&m);
    CHECK_INT(cli_network_prune(&m.ctx, NULL, &fake_ops, &f, &err), 0);
    mem_close(&m);
    CHECK_STR(m.out, "");
    mem_free(&m);
    fake_fini(&f);
}

int main(void)
{
    RUN(test_create_body_trace);
    RUN(test_create_body_flags);
    RUN(test_create_errors);
    RUN(test_ls_trace);
    RUN(test_ls_natural_sort);
    RUN(test_rm_sequence);
    RUN(test_prune);
    HARNESS_END();
}
