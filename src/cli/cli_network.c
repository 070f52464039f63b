// SPDX-License-Identifier: Apache-2.0
// `shoal network ...` (create, ls, inspect, rm, prune), following the docker
// CLI 28: the NetworkCreate body with docker's IPAM flag checks, the
// `network ls` table sorted by name, inspect through the shared JSON
// printer, and rm as GET then DELETE by the name given, going on past errors.
#include "cli/cli_network.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli_service_spec.h"
#include "cli/format.h"

static const char ingress_warning[] =
    "WARNING! Before removing the routing-mesh network, make sure all the "
    "nodes in your swarm run the same docker engine version. Otherwise, "
    "removal may not be effective and functionality of newly create ingress "
    "networks will be impaired.\nAre you sure you want to continue?";

static const char prune_warning[] =
    "WARNING! This will remove all custom networks not used by at least one "
    "container.\nAre you sure you want to continue?";

/* ---- create: addresses ------------------------------------------------- */

struct ip_addr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char b[16];
};

struct ip_net {
    struct ip_addr ip;
    int bits;
};

/* net.ParseIP: an IPv4-mapped IPv6 address counts as IPv4, as Go's
 * IPNet.Contains sees it. */
static bool ip_parse(const char *s, struct ip_addr *ip)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};
    if (inet_pton(AF_INET, s, ip->b) == 1) {
        ip->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, ip->b) != 1)
        return false;
    ip->family = AF_INET6;
    if (memcmp(ip->b, mapped, sizeof(mapped)) == 0) {
        memmove(ip->b, ip->b + 12, 4);
        ip->family = AF_INET;
    }
    return true;
}

/* net.ParseCIDR: "ADDR/BITS", host bits allowed. */
static bool cidr_parse(const char *s, struct ip_net *n)
{
    const char *slash = strchr(s, '/');
    char addr[INET6_ADDRSTRLEN + 1];
    if (!slash || (size_t)(slash - s) >= sizeof(addr))
        return false;
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    if (inet_pton(AF_INET, addr, n->ip.b) == 1)
        n->ip.family = AF_INET;
    else if (inet_pton(AF_INET6, addr, n->ip.b) == 1)
        n->ip.family = AF_INET6;
    else
        return false;
    int max = n->ip.family == AF_INET ? 32 : 128;
    const char *p = slash + 1;
    if (!*p)
        return false;
    int bits = 0;
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return false;
        bits = bits * 10 + (*p - '0');
        if (bits > max)
            return false;
    }
    n->bits = bits;
    return true;
}

static bool net_contains(const struct ip_net *n, const struct ip_addr *ip)
{
    if (ip->family != n->ip.family)
        return false;
    size_t full = (size_t)n->bits / 8;
    int rem = n->bits % 8;
    if (memcmp(n->ip.b, ip->b, full) != 0)
        return false;
    if (!rem)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rem));
    return ((n->ip.b[full] ^ ip->b[full]) & mask) == 0;
}

/* docker's subnetMatches: whether data (an address, or the address of a
 * CIDR) lies in subnet. An unparsable address simply does not match. */
static int subnet_matches(const char *subnet, const char *data, bool *match,
                          struct err *err)
{
    struct ip_net n;
    if (!cidr_parse(subnet, &n))
        return err_set(err, ERR_INVALID,
                       "invalid subnet: invalid CIDR address: %s", subnet);
    if (strchr(data, '/')) {
        struct ip_net d;
        if (!cidr_parse(data, &d))
            return err_set(err, ERR_INVALID, "invalid CIDR address: %s", data);
        *match = net_contains(&n, &d.ip);
        return 0;
    }
    struct ip_addr ip;
    *match = ip_parse(data, &ip) && net_contains(&n, &ip);
    return 0;
}

/* ---- create: the request body ----------------------------------------- */

/* A pflag StringSlice: every value given, each split at commas. The
 * strings are owned by out. */
static void split_list(const struct cli_flags *fl, const char *name,
                       struct vec *out)
{
    const struct vec *v = cli_flag_list(fl, name);
    for (size_t i = 0; i < v->len; i++) {
        const char *s = v->items[i];
        while (*s) {
            size_t n = strcspn(s, ",");
            vec_push(out, xstrndup(s, n));
            s += n;
            if (*s == ',')
                s++;
        }
    }
}

static void free_list(struct vec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    vec_fini(v);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a JSON object in byte order (Go's order for map keys).
 * Returns the count; *keys is owned, the strings borrowed from obj. */
static size_t sorted_keys(const json_t *obj, const char ***keys)
{
    size_t n = json_object_size(obj), i = 0;
    *keys = xcalloc(n + 1, sizeof(char *));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        (*keys)[i++] = k;
    }
    qsort(*keys, n, sizeof(char *), cmp_cstr);
    return n;
}

/* A copy of obj with its keys sorted, as Go encodes a map. */
static json_t *go_map(const json_t *obj)
{
    const char **keys;
    size_t n = sorted_keys(obj, &keys);
    json_t *out = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set(out, keys[i], json_object_get(obj, keys[i]));
    free(keys);
    return out;
}

/* A map flag (opts.MapOpts, "k=v" or "k"; the last value of a key wins) or
 * a list of labels (ConvertKVStringsToMap), as a Go-ordered object. */
static json_t *kv_map(const struct cli_flags *fl, const char *name)
{
    const struct vec *v = cli_flag_list(fl, name);
    _cleanup_json_ json_t *m = json_object();
    for (size_t i = 0; i < v->len; i++)
        cli_kv_into(m, v->items[i]);
    return go_map(m);
}

struct ipam_entry {
    const char *subnet, *range, *gateway; /* borrowed */
    json_t *aux;                          /* owned */
};

/* Places each address of list (ip-ranges or gateways) in the subnet that
 * holds it (*slot of that subnet's entry); what names the list in docker's
 * messages. */
static int ipam_place(struct ipam_entry *e, size_t n, const struct vec *list,
                      size_t slot, const char *what, const char *plural,
                      const char *prep, struct err *err)
{
    for (size_t r = 0; r < list->len; r++) {
        const char *addr = list->items[r];
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            bool m;
            if (subnet_matches(e[i].subnet, addr, &m, err) < 0)
                return -1;
            if (!m)
                continue;
            const char **dst = slot ? &e[i].gateway : &e[i].range;
            if (*dst)
                return err_set(err, ERR_INVALID,
                               "cannot configure multiple %s (%s, %s) %s the "
                               "same subnet (%s)",
                               plural, addr, *dst, prep, e[i].subnet);
            *dst = addr;
            any = true;
        }
        if (!any)
            return err_set(err, ERR_INVALID, "no matching subnet for %s %s",
                           what, addr);
    }
    return 0;
}

/* docker's createIPAMConfig: one IPAMConfig per subnet, each ip-range,
 * gateway and aux-address placed in the subnet that holds it. Subnets are
 * only parsed when something has to be matched against them, as docker
 * does; the daemon checks the rest. */
static int ipam_fill(const struct cli_flags *fl, const struct vec *subnets,
                     const struct vec *ranges, const struct vec *gws,
                     struct ipam_entry *e, struct err *err)
{
    size_t n = subnets->len;
    if (ranges->len > n || gws->len > n)
        return err_set(err, ERR_INVALID,
                       "every ip-range or gateway must have a corresponding "
                       "subnet");
    for (size_t i = 0; i < n; i++) {
        const char *s = subnets->items[i];
        for (size_t k = 0; k < i; k++) {
            bool m1, m2;
            if (subnet_matches(s, e[k].subnet, &m1, err) < 0 ||
                subnet_matches(e[k].subnet, s, &m2, err) < 0)
                return -1;
            if (m1 || m2)
                return err_set(err, ERR_INVALID,
                               "multiple overlapping subnet configuration is "
                               "not supported");
        }
        e[i].subnet = s;
    }
    if (ipam_place(e, n, ranges, 0, "range", "ranges", "on", err) < 0 ||
        ipam_place(e, n, gws, 1, "gateway", "gateways", "for", err) < 0)
        return -1;
    _cleanup_json_ json_t *aux = kv_map(fl, "aux-address");
    const char *key;
    json_t *val;
    json_object_foreach(aux, key, val)
    {
        const char *addr = json_string_value(val);
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            bool m;
            if (subnet_matches(e[i].subnet, addr, &m, err) < 0)
                return -1;
            if (!m)
                continue;
            json_object_set(e[i].aux, key, val);
            any = true;
        }
        if (!any)
            return err_set(err, ERR_INVALID,
                           "no matching subnet for aux-address %s", addr);
    }
    return 0;
}

/* IPAM.Config: [{Subnet, IPRange, Gateway, AuxiliaryAddresses}] with
 * docker's omitempty rules. Owned; NULL with err. */
static json_t *ipam_configs(const struct cli_flags *fl, struct err *err)
{
    struct vec subnets = {0}, ranges = {0}, gws = {0};
    split_list(fl, "subnet", &subnets);
    split_list(fl, "ip-range", &ranges);
    split_list(fl, "gateway", &gws);
    struct ipam_entry *e = xcalloc(subnets.len + 1, sizeof(*e));
    for (size_t i = 0; i < subnets.len; i++)
        e[i].aux = json_object();
    json_t *cfgs = NULL;
    if (ipam_fill(fl, &subnets, &ranges, &gws, e, err) == 0) {
        cfgs = json_array();
        for (size_t i = 0; i < subnets.len; i++) {
            json_t *c = json_object();
            if (*e[i].subnet)
                json_object_set_new(c, "Subnet", json_string(e[i].subnet));
            if (e[i].range && *e[i].range)
                json_object_set_new(c, "IPRange", json_string(e[i].range));
            if (e[i].gateway && *e[i].gateway)
                json_object_set_new(c, "Gateway", json_string(e[i].gateway));
            if (json_object_size(e[i].aux))
                json_object_set_new(c, "AuxiliaryAddresses", go_map(e[i].aux));
            json_array_append_new(cfgs, c);
        }
    }
    for (size_t i = 0; i < subnets.len; i++)
        json_decref(e[i].aux);
    free(e);
    free_list(&subnets);
    free_list(&ranges);
    free_list(&gws);
    return cfgs;
}

/* versions.LessThan for "MAJOR.MINOR" API versions. */
static bool api_version_less(const char *a, const char *b)
{
    char *end;
    long amaj = strtol(a, &end, 10);
    long amin = *end == '.' ? strtol(end + 1, NULL, 10) : 0;
    long bmaj = strtol(b, &end, 10);
    long bmin = *end == '.' ? strtol(end + 1, NULL, 10) : 0;
    return amaj < bmaj || (amaj == bmaj && amin < bmin);
}

int cli_network_create_body(const struct cli_flags *fl, const char *name,
                            const char *api_version, struct buf *out,
                            struct err *err)
{
    json_t *cfgs = ipam_configs(fl, err);
    if (!cfgs)
        return -1;
    const char *driver = cli_flag_str(fl, "driver");
    const char *scope = cli_flag_str(fl, "scope");
    const char *ipam_driver = cli_flag_str(fl, "ipam-driver");
    const char *config_from = cli_flag_str(fl, "config-from");
    /* Go's field order of network.CreateRequest. */
    _cleanup_json_ json_t *body = json_object();
    json_object_set_new(body, "Driver", json_string(driver ? driver : ""));
    json_object_set_new(body, "Scope", json_string(scope ? scope : ""));
    if (cli_flag_changed(fl, "ipv4"))
        json_object_set_new(body, "EnableIPv4",
                            json_boolean(cli_flag_bool(fl, "ipv4")));
    if (cli_flag_changed(fl, "ipv6"))
        json_object_set_new(body, "EnableIPv6",
                            json_boolean(cli_flag_bool(fl, "ipv6")));
    json_t *ipam = json_object();
    json_object_set_new(ipam, "Driver",
                        json_string(ipam_driver ? ipam_driver : ""));
    json_object_set_new(ipam, "Options", kv_map(fl, "ipam-opt"));
    json_object_set_new(ipam, "Config", cfgs);
    json_object_set_new(body, "IPAM", ipam);
    json_object_set_new(body, "Internal",
                        json_boolean(cli_flag_bool(fl, "internal")));
    json_object_set_new(body, "Attachable",
                        json_boolean(cli_flag_bool(fl, "attachable")));
    json_object_set_new(body, "Ingress",
                        json_boolean(cli_flag_bool(fl, "ingress")));
    json_object_set_new(body, "ConfigOnly",
                        json_boolean(cli_flag_bool(fl, "config-only")));
    json_object_set_new(body, "ConfigFrom",
                        config_from && *config_from
                            ? json_pack("{s:s}", "Network", config_from)
                            : json_null());
    json_object_set_new(body, "Options", kv_map(fl, "opt"));
    json_object_set_new(body, "Labels", kv_map(fl, "label"));
    json_object_set_new(body, "Name", json_string(name));
    /* Daemons before API 1.44 only refuse duplicate names when asked. */
    if (api_version_less(api_version, "1.44"))
        json_object_set_new(body, "CheckDuplicate", json_true());
    cli_go_json(body, out);
    return 0;
}

int cli_network_check_label(const char *value, struct err *err)
{
    const char *k = value;
    size_t n = strcspn(value, "=");
    while (n && (*k == ' ' || *k == '\t')) {
        k++;
        n--;
    }
    if (!n)
        return err_set(err, ERR_INVALID, "invalid label '%s': empty name",
                       value);
    if (memchr(k, ' ', n) || memchr(k, '\t', n))
        return err_set(err, ERR_INVALID, "label '%.*s' contains whitespaces",
                       (int)n, k);
    return 0;
}

static int run_create(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    /* The body depends on the API version, so settle it first. */
    if (cli_client_negotiate(c, err) < 0)
        return -1;
    struct buf body;
    buf_init(&body);
    if (cli_network_create_body(fl, fl->args[0], cli_client_version(c), &body,
                                err) < 0) {
        buf_fini(&body);
        return -1;
    }
    struct cli_request req = {.method = "POST",
                              .path = "/networks/create",
                              .content_type = "application/json",
                              .body = body.data,
                              .body_len = body.len};
    struct cli_response resp;
    int rc = cli_client_do(c, &req, &resp, err);
    buf_fini(&body);
    if (rc == 0) {
        json_error_t je;
        _cleanup_json_ json_t *reply =
            resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, &je)
                          : NULL;
        fprintf(ctx->out, "%s\n", jx_str0(reply, "Id"));
    }
    buf_fini(&resp.body);
    return rc;
}

/* ---- ls ---------------------------------------------------------------- */

struct net_rec {
    const json_t *n;
    bool trunc;
};

/* Go's time.Time.String() of the daemon's RFC 3339 UTC time. */
static char *go_time(const char *ts)
{
    int64_t ns;
    if (!ts || !*ts)
        return xstrdup("0001-01-01 00:00:00 +0000 UTC");
    if (time_parse_rfc3339(ts, &ns) < 0)
        return xstrdup(ts);
    time_t t = (time_t)(ns / NS_PER_SEC);
    long frac = (long)(ns % NS_PER_SEC);
    if (frac < 0) {
        frac += NS_PER_SEC;
        t--;
    }
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[40], fs[16] = "";
    strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
    if (frac) {
        snprintf(fs, sizeof(fs), ".%09ld", frac);
        size_t l = strlen(fs);
        while (fs[l - 1] == '0')
            fs[--l] = '\0';
    }
    return xasprintf("%s%s +0000 UTC", base, fs);
}

static char *network_field(const char *field, void *rec)
{
    const struct net_rec *r = rec;
    const json_t *n = r->n;
    if (!strcmp(field, "ID")) {
        if (!r->trunc)
            return xstrdup(jx_str0(n, "Id"));
        char id[16];
        cli_fmt_trunc_id(jx_str0(n, "Id"), id, sizeof(id));
        return xstrdup(id);
    }
    if (!strcmp(field, "Name") || !strcmp(field, "Driver") ||
        !strcmp(field, "Scope"))
        return xstrdup(jx_str0(n, field));
    if (!strcmp(field, "IPv4"))
        return xstrdup(jx_bool(n, "EnableIPv4", false) ? "true" : "false");
    if (!strcmp(field, "IPv6"))
        return xstrdup(jx_bool(n, "EnableIPv6", false) ? "true" : "false");
    if (!strcmp(field, "Internal"))
        return xstrdup(jx_bool(n, "Internal", false) ? "true" : "false");
    if (!strcmp(field, "Labels")) {
        /* docker joins them in map order (random); sorted is one of those
         * orders and stable. */
        const json_t *labels = json_object_get(n, "Labels");
        const char **keys;
        size_t cnt = sorted_keys(labels, &keys);
        struct buf b;
        buf_init(&b);
        for (size_t i = 0; i < cnt; i++)
            buf_printf(&b, "%s%s=%s", i ? "," : "", keys[i],
                       cli_jstr(json_object_get(labels, keys[i])));
        free(keys);
        return b.data ? buf_steal(&b) : xstrdup("");
    }
    if (!strcmp(field, "CreatedAt"))
        return go_time(jx_str(n, "Created"));
    return NULL;
}

static const struct cli_field network_fields[] = {
    {"ID", "NETWORK ID"},     {"Name", "NAME"},     {"Driver", "DRIVER"},
    {"Scope", "SCOPE"},       {"IPv4", "IPV4"},     {"IPv6", "IPV6"},
    {"Internal", "INTERNAL"}, {"Labels", "LABELS"}, {"CreatedAt", "CREATED AT"},
};

static int cmp_net_rec(const void *a, const void *b)
{
    const struct net_rec *x = *(struct net_rec *const *)a;
    const struct net_rec *y = *(struct net_rec *const *)b;
    return cli_natural_cmp(jx_str0(x->n, "Name"), jx_str0(y->n, "Name"));
}

int cli_network_print_list(struct cli_ctx *ctx, const json_t *networks,
                           const char *format, bool quiet, bool trunc,
                           struct err *err)
{
    /* docker's NewFormat: quiet only changes the table and raw formats. */
    if (!format || !*format)
        format = "table";
    if (!strcmp(format, "table") && quiet)
        format = "{{.ID}}";
    else if (!strcmp(format, "raw"))
        format = quiet ? "network_id: {{.ID}}"
                       : "network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: "
                         "{{.Driver}}\\nscope: {{.Scope}}\\n";
    size_t n = json_array_size(networks);
    struct net_rec *recs = xcalloc(n + 1, sizeof(*recs));
    struct net_rec **ptrs = xcalloc(n + 1, sizeof(*ptrs));
    for (size_t i = 0; i < n; i++) {
        recs[i].n = json_array_get(networks, i);
        recs[i].trunc = trunc;
        ptrs[i] = &recs[i];
    }
    qsort(ptrs, n, sizeof(*ptrs), cmp_net_rec);
    int rc = cli_print_list(ctx, format,
                            "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
                            network_fields, ARRAY_SIZE(network_fields),
                            network_field, (void *const *)ptrs, n, err);
    free(ptrs);
    free(recs);
    return rc;
}

static int run_ls(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    struct cli_query q;
    cli_query_init(&q);
    if (cli_query_add_filters(&q, fl, err) < 0) {
        cli_query_fini(&q);
        return -1;
    }
    _cleanup_free_ char *path = xasprintf("/networks%s", cli_query_str(&q));
    cli_query_fini(&q);
    _cleanup_json_ json_t *nets = cli_client_get_json(c, path, err);
    if (!nets)
        return -1;
    return cli_network_print_list(ctx, nets, cli_flag_str(fl, "format"),
                                  cli_flag_bool(fl, "quiet"),
                                  !cli_flag_bool(fl, "no-trunc"), err);
}

/* ---- inspect ----------------------------------------------------------- */

static char *fetch_network(struct cli_client *c, const char *arg, void *data,
                           struct err *e)
{
    bool verbose = *(bool *)data;
    _cleanup_free_ char *esc = cli_path_escape(arg);
    _cleanup_free_ char *path =
        xasprintf("/networks/%s%s", esc, verbose ? "?verbose=true" : "");
    size_t len;
    return cli_client_get_raw(c, path, &len, e);
}

static int run_inspect(struct cli_ctx *ctx, struct cli_flags *fl,
                       struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    const char *format = cli_flag_str(fl, "format");
    bool verbose = cli_flag_bool(fl, "verbose");
    return cli_inspect(ctx, c, fl->args, fl->nargs, format, NULL, fetch_network,
                       &verbose, err);
}

/* ---- rm / prune -------------------------------------------------------- */

int cli_network_rm(struct cli_ctx *ctx, char *const *names, size_t n,
                   bool force, const struct cli_network_ops *ops, void *ud)
{
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        /* The lookup only decides whether to ask; its error is not ours
         * to report (the DELETE gives the same one). */
        struct err e = {0};
        json_t *nw = ops->inspect(ud, names[i], &e);
        bool ingress = nw && jx_bool(nw, "Ingress", false);
        json_decref(nw);
        if (ingress && !ops->confirm(ud, ingress_warning))
            continue;
        err_clear(&e);
        if (ops->remove(ud, names[i], &e) < 0) {
            if (force && e.code == ERR_NOTFOUND)
                continue;
            fflush(ctx->out);
            fprintf(ctx->err, "%s\n", e.msg);
            status = 1;
            continue;
        }
        fprintf(ctx->out, "%s\n", names[i]);
        fflush(ctx->out);
    }
    return status;
}

int cli_network_prune(struct cli_ctx *ctx, const char *filters,
                      const struct cli_network_ops *ops, void *ud,
                      struct err *err)
{
    struct vec deleted = {0};
    int rc = 0;
    json_t *report = ops->prune(ud, filters, err);
    if (report) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(report, "NetworksDeleted"), i, v)
        {
            vec_push(&deleted, xstrdup(cli_jstr(v)));
        }
        json_decref(report);
    } else if (err->code == ERR_NOTFOUND) {
        /* No prune endpoint: the daemon refuses (409) to delete networks
         * in use, which leaves exactly the unused ones. */
        err_clear(err);
        _cleanup_json_ json_t *nets = ops->list(ud, filters, err);
        if (!nets)
            return -1;
        size_t i;
        json_t *nw;
        json_array_foreach(nets, i, nw)
        {
            if (jx_bool(nw, "Ingress", false))
                continue;
            struct err e = {0};
            if (ops->remove(ud, jx_str0(nw, "Id"), &e) < 0) {
                if (e.code == ERR_CONFLICT || e.code == ERR_NOTFOUND)
                    continue;
                *err = e;
                rc = -1;
                break;
            }
            vec_push(&deleted, xstrdup(jx_str0(nw, "Name")));
        }
    } else {
        return -1;
    }
    if (deleted.len) {
        fprintf(ctx->out, "Deleted Networks:\n");
        for (size_t i = 0; i < deleted.len; i++)
            fprintf(ctx->out, "%s\n", (const char *)deleted.items[i]);
        fprintf(ctx->out, "\n");
    }
    free_list(&deleted);
    return rc;
}

/* The operations above as API calls. */
struct net_api {
    struct cli_ctx *ctx;
    struct cli_client *c;
};

static json_t *api_inspect(void *ud, const char *name, struct err *err)
{
    struct net_api *a = ud;
    _cleanup_free_ char *esc = cli_path_escape(name);
    _cleanup_free_ char *path = xasprintf("/networks/%s", esc);
    return cli_client_get_object(a->c, path, err);
}

static int api_remove(void *ud, const char *name, struct err *err)
{
    struct net_api *a = ud;
    _cleanup_free_ char *esc = cli_path_escape(name);
    _cleanup_free_ char *path = xasprintf("/networks/%s", esc);
    struct cli_request req = {.method = "DELETE", .path = path};
    return cli_client_do(a->c, &req, NULL, err);
}

static char *filters_path(const char *base, const char *filters)
{
    struct cli_query q;
    cli_query_init(&q);
    if (filters)
        cli_query_add(&q, "filters", filters);
    char *path = xasprintf("%s%s", base, cli_query_str(&q));
    cli_query_fini(&q);
    return path;
}

static json_t *api_list(void *ud, const char *filters, struct err *err)
{
    struct net_api *a = ud;
    _cleanup_free_ char *path = filters_path("/networks", filters);
    return cli_client_get_json(a->c, path, err);
}

static json_t *api_prune(void *ud, const char *filters, struct err *err)
{
    struct net_api *a = ud;
    _cleanup_free_ char *path = filters_path("/networks/prune", filters);
    return cli_client_send_json(a->c, "POST", path, NULL, err);
}

/* docker's prompt.Confirm: the answer is one line of stdin, "y" or "Y"
 * (spaces around it ignored) for yes; end of input is no. */
static bool api_confirm(void *ud, const char *msg)
{
    struct net_api *a = ud;
    fprintf(a->ctx->out, "%s [y/N] ", msg);
    fflush(a->ctx->out);
    char *line = NULL;
    size_t cap = 0;
    bool yes = false;
    if (getline(&line, &cap, stdin) >= 0) {
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        yes = n == 1 && (*s == 'y' || *s == 'Y');
    }
    free(line);
    return yes;
}

static const struct cli_network_ops api_ops = {
    .inspect = api_inspect,
    .remove = api_remove,
    .list = api_list,
    .prune = api_prune,
    .confirm = api_confirm,
};

static int run_rm(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct net_api a = {ctx, cli_ctx_client(ctx, err)};
    if (!a.c)
        return -1;
    return cli_network_rm(ctx, fl->args, fl->nargs, cli_flag_bool(fl, "force"),
                          &api_ops, &a);
}

static int run_prune(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct net_api a = {ctx, cli_ctx_client(ctx, err)};
    if (!a.c)
        return -1;
    _cleanup_free_ char *fj = NULL;
    if (cli_filters_flag_encoded(fl, &fj, err) < 0)
        return -1;
    /* A "no" cancels quietly with status 0, as docker does. */
    if (!cli_flag_bool(fl, "force") && !api_confirm(&a, prune_warning))
        return 0;
    return cli_network_prune(ctx, fj, &api_ops, &a, err);
}

/* ---- command table ---------------------------------------------------- */

static const struct cli_flag create_flags[] = {
    {"attachable", 0, CLI_FLAG_BOOL, "Enable manual container attachment", NULL,
     NULL, NULL, false},
    {"aux-address", 0, CLI_FLAG_LIST,
     "Auxiliary IPv4 or IPv6 addresses used by Network driver", "map[]", "map",
     NULL, false},
    {"config-from", 0, CLI_FLAG_STRING,
     "The network from which to copy the configuration", NULL, NULL, NULL,
     false},
    {"config-only", 0, CLI_FLAG_BOOL, "Create a configuration only network",
     NULL, NULL, NULL, false},
    {"driver", 'd', CLI_FLAG_STRING, "Driver to manage the Network", "bridge",
     NULL, NULL, false},
    {"gateway", 0, CLI_FLAG_LIST, "IPv4 or IPv6 Gateway for the master subnet",
     NULL, "strings", NULL, false},
    {"ingress", 0, CLI_FLAG_BOOL, "Create swarm routing-mesh network", NULL,
     NULL, NULL, false},
    {"internal", 0, CLI_FLAG_BOOL, "Restrict external access to the network",
     NULL, NULL, NULL, false},
    {"ip-range", 0, CLI_FLAG_LIST, "Allocate container ip from a sub-range",
     NULL, "strings", NULL, false},
    {"ipam-driver", 0, CLI_FLAG_STRING, "IP Address Management Driver",
     "default", NULL, NULL, false},
    {"ipam-opt", 0, CLI_FLAG_LIST, "Set IPAM driver specific options", "map[]",
     "map", NULL, false},
    /* Defaults to true; the help shows it as pflag does. */
    {"ipv4", 0, CLI_FLAG_BOOL,
     "Enable or disable IPv4 address assignment (default true)", NULL, NULL,
     NULL, false},
    {"ipv6", 0, CLI_FLAG_BOOL, "Enable or disable IPv6 address assignment",
     NULL, NULL, NULL, false},
    {"label", 0, CLI_FLAG_LIST, "Set metadata on a network", NULL, NULL,
     cli_network_check_label, false},
    {"opt", 'o', CLI_FLAG_LIST, "Set driver specific options", "map[]", "map",
     NULL, false},
    {"scope", 0, CLI_FLAG_STRING, "Control the network's scope", NULL, NULL,
     NULL, false},
    {"subnet", 0, CLI_FLAG_LIST,
     "Subnet in CIDR format that represents a network segment", NULL, "strings",
     NULL, false},
};

static const struct cli_flag ls_flags[] = {
    {"filter", 'f', CLI_FLAG_LIST,
     "Provide filter values (e.g. \"driver=bridge\")", NULL, "filter", NULL,
     false},
    {"format", 0, CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
    {"no-trunc", 0, CLI_FLAG_BOOL, "Do not truncate the output", NULL, NULL,
     NULL, false},
    {"quiet", 'q', CLI_FLAG_BOOL, "Only display network IDs", NULL, NULL, NULL,
     false},
};

static const struct cli_flag inspect_flags[] = {
    {"format", 'f', CLI_FLAG_STRING, "Format output using a custom template",
     NULL, NULL, NULL, false},
    {"verbose", 'v', CLI_FLAG_BOOL, "Verbose output for diagnostics", NULL,
     NULL, NULL, false},
};

static const struct cli_flag rm_flags[] = {
    {"force", 'f', CLI_FLAG_BOOL, "Do not error if the network does not exist",
     NULL, NULL, NULL, false},
};

static const struct cli_flag prune_flags[] = {
    {"filter", 0, CLI_FLAG_LIST,
     "Provide filter values (e.g. \"until=<timestamp>\")", NULL, "filter", NULL,
     false},
    {"force", 'f', CLI_FLAG_BOOL, "Do not prompt for confirmation", NULL, NULL,
     NULL, false},
};

static const char *const ls_aliases[] = {"list", NULL};
static const char *const rm_aliases[] = {"remove", NULL};

static const struct cli_cmd cmd_create = {
    .name = "create",
    .use = "[OPTIONS] NETWORK",
    .short_desc = "Create a network",
    .flags = CLI_FLAGS(create_flags),
    .args = CLI_ARGS_EXACT,
    .nmin = 1,
    .run = run_create,
};

static const struct cli_cmd cmd_inspect = {
    .name = "inspect",
    .use = "[OPTIONS] NETWORK [NETWORK...]",
    .short_desc = "Display detailed information on one or more networks",
    .flags = CLI_FLAGS(inspect_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_inspect,
};

static const struct cli_cmd cmd_ls = {
    .name = "ls",
    .aliases = ls_aliases,
    .use = "[OPTIONS]",
    .short_desc = "List networks",
    .flags = CLI_FLAGS(ls_flags),
    .args = CLI_ARGS_NONE,
    .run = run_ls,
};

static const struct cli_cmd cmd_prune = {
    .name = "prune",
    .use = "[OPTIONS]",
    .short_desc = "Remove all unused networks",
    .flags = CLI_FLAGS(prune_flags),
    .args = CLI_ARGS_NONE,
    .run = run_prune,
};

static const struct cli_cmd cmd_rm = {
    .name = "rm",
    .aliases = rm_aliases,
    .use = "NETWORK [NETWORK...]",
    .short_desc = "Remove one or more networks",
    .flags = CLI_FLAGS(rm_flags),
    .args = CLI_ARGS_MIN,
    .nmin = 1,
    .run = run_rm,
};

static const struct cli_cmd *const network_subs[] = {
    &cmd_create, &cmd_inspect, &cmd_ls, &cmd_prune, &cmd_rm, NULL,
};

const struct cli_cmd cli_cmd_network = {
    .name = "network",
    .use = "COMMAND",
    .short_desc = "Manage networks",
    .subs = network_subs,
};
