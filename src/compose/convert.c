// SPDX-License-Identifier: Apache-2.0
// A loaded compose project as the Engine API objects of one stack, named
// and labelled as the docker CLI does (<stack>_<name>,
// com.docker.stack.namespace=<stack>): the networks the services use
// (<stack>_default for those that name none; external ones only checked),
// secrets and configs read from their files, and every service
// (convert_service.c).
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "compose/compose_internal.h"

/* swarmkit's rule for the names of services and networks. */
static int check_name(struct cmp_conv *c, const char *path, const char *what,
                      const char *name)
{
    size_t n = strlen(name);
    bool ok = n && isalnum((unsigned char)name[0]) &&
              isalnum((unsigned char)name[n - 1]);
    for (size_t i = 0; ok && i < n; i++)
        ok =
            isalnum((unsigned char)name[i]) || name[i] == '-' || name[i] == '_';
    if (!ok)
        return cmp_err(c->err, &c->p->locs, path,
                       "%s: the %s name \"%s\" must be valid as a DNS name "
                       "component (letters, digits, '-' and '_')",
                       path, what, name);
    if (n > 63)
        return cmp_err(c->err, &c->p->locs, path,
                       "%s: the %s name \"%s\" must be 63 characters or "
                       "fewer",
                       path, what, name);
    return 0;
}

/* ---- networks ---------------------------------------------------------- */

/* getServicesDeclaredNetworks: the networks some service is on. */
static json_t *used_networks(const json_t *services)
{
    json_t *used = json_object();
    const char *name;
    json_t *svc;
    json_object_foreach((json_t *)services, name, svc)
    {
        json_t *nets = json_object_get(svc, "networks");
        if (!json_object_size(nets)) {
            json_object_set_new(used, "default", json_true());
            continue;
        }
        const char *k;
        json_t *v;
        json_object_foreach(nets, k, v)
        {
            json_object_set_new(used, k, json_true());
        }
    }
    return used;
}

static int networks(struct cmp_conv *c, struct compose_stack *out)
{
    json_t *decls = json_object_get(c->p->config, "networks");
    json_t *used = used_networks(json_object_get(c->p->config, "services"));
    json_t *sorted = cmp_sorted_copy(used);
    json_decref(used);
    const char *key;
    json_t *x;
    json_object_foreach(sorted, key, x)
    {
        json_t *n = json_object_get(decls, key);
        const char *name = jx_str(n, "name");
        if (jx_bool(n, "external", false)) {
            json_array_append_new(out->external_networks, json_string(name));
            continue;
        }
        char *full = name ? xstrdup(name) : cmp_scope(c, key);
        char path[CMP_PATH_MAX];
        snprintf(path, sizeof(path), "networks.%s", key);
        if (check_name(c, path, "network", full) < 0) {
            free(full);
            json_decref(sorted);
            return -1;
        }
        json_t *ipam = json_null();
        json_t *icfg = json_object_get(n, "ipam");
        if (jx_str(icfg, "driver") ||
            json_array_size(jx_path(icfg, "config"))) {
            ipam = json_object();
            if (jx_str(icfg, "driver"))
                json_object_set_new(ipam, "Driver",
                                    json_string(jx_str(icfg, "driver")));
            json_t *configs = json_array();
            size_t i;
            json_t *sub;
            json_array_foreach(json_object_get(icfg, "config"), i, sub)
            {
                json_array_append_new(
                    configs,
                    json_pack("{s:s}", "Subnet", jx_str0(sub, "subnet")));
            }
            json_object_set_new(ipam, "Config", configs);
        }
        json_t *opts = cmp_string_map(json_object_get(n, "driver_opts"));
        const char *driver = jx_str(n, "driver");
        json_t *body = json_pack(
            "{s:s, s:s, s:o, s:b, s:b, s:b, s:b, s:n, s:o, s:o, s:s, s:b}",
            "Driver", driver && *driver ? driver : "overlay", "Scope", "",
            "IPAM", ipam, "Internal", jx_bool(n, "internal", false),
            "Attachable", jx_bool(n, "attachable", false), "Ingress", 0,
            "ConfigOnly", 0, "ConfigFrom", "Options", opts ? opts : json_null(),
            "Labels", cmp_stack_labels(c, json_object_get(n, "labels")), "Name",
            full, "CheckDuplicate", 1);
        free(full);
        json_array_append_new(out->networks, body);
    }
    json_decref(sorted);
    return 0;
}

/* ---- secrets and configs ------------------------------------------------ */

static int file_objects(struct cmp_conv *c, const char *section, json_t *out)
{
    json_t *decls = cmp_sorted_copy(json_object_get(c->p->config, section));
    const char *key;
    json_t *d;
    int rc = 0;
    json_object_foreach(decls, key, d)
    {
        if (jx_bool(d, "external", false))
            continue;
        char path[CMP_PATH_MAX];
        snprintf(path, sizeof(path), "%s.%s", section, key);
        const char *file = jx_str(d, "file");
        if (jx_str(d, "driver")) {
            rc = cmp_err(c->err, &c->p->locs, path,
                         "%s: %.*s drivers are not supported", path,
                         (int)strlen(section) - 1, section);
            break;
        }
        if (!file || !*file) {
            rc = cmp_err(c->err, &c->p->locs, path,
                         "%s: file or external is required", path);
            break;
        }
        size_t len = 0;
        struct err e = {0};
        char *data =
            c->o->read ? c->o->read(c->o->read_ud, file, &len, &e) : NULL;
        if (!data) {
            rc = cmp_err(c->err, &c->p->locs, path, "%s: %s", path,
                         c->o->read ? e.msg : "cannot read files");
            break;
        }
        char *b64 = b64_encode(data, len);
        free(data);
        const char *name = jx_str(d, "name");
        char *full = name ? xstrdup(name) : cmp_scope(c, key);
        json_t *spec = json_pack(
            "{s:s, s:o, s:s}", "Name", full, "Labels",
            cmp_stack_labels(c, json_object_get(d, "labels")), "Data", b64);
        if (jx_str(d, "template_driver"))
            json_object_set_new(
                spec, "Templating",
                json_pack("{s:s}", "Name", jx_str(d, "template_driver")));
        json_array_append_new(out, spec);
        free(full);
        free(b64);
    }
    json_decref(decls);
    return rc;
}

/* ---- the stack ---------------------------------------------------------- */

void compose_stack_fini(struct compose_stack *s)
{
    json_decref(s->networks);
    json_decref(s->external_networks);
    json_decref(s->services);
    json_decref(s->secrets);
    json_decref(s->configs);
    memset(s, 0, sizeof(*s));
}

int compose_convert(const struct compose_project *p, const char *name,
                    const struct compose_opts *o, struct compose_stack *out,
                    struct err *err)
{
    struct cmp_conv c = {p, name, o, err};
    memset(out, 0, sizeof(*out));
    bool ok = isalnum((unsigned char)name[0]);
    for (const char *q = name; ok && *q; q++)
        ok = isalnum((unsigned char)*q) || *q == '-' || *q == '_';
    if (!ok)
        return err_set(err, ERR_INVALID,
                       "invalid stack name: \"%s\" (letters, digits, '-' "
                       "and '_', starting with a letter or digit)",
                       name);
    out->networks = json_array();
    out->external_networks = json_array();
    out->services = json_array();
    out->secrets = json_array();
    out->configs = json_array();
    if (networks(&c, out) < 0 ||
        file_objects(&c, "secrets", out->secrets) < 0 ||
        file_objects(&c, "configs", out->configs) < 0) {
        compose_stack_fini(out);
        return -1;
    }
    json_t *services = cmp_sorted_copy(json_object_get(p->config, "services"));
    const char *key;
    json_t *svc;
    json_object_foreach(services, key, svc)
    {
        char path[CMP_PATH_MAX];
        snprintf(path, sizeof(path), "services.%s", key);
        char *full = cmp_scope(&c, key);
        int bad = check_name(&c, path, "service", full);
        free(full);
        json_t *spec = bad ? NULL : cmp_convert_service(&c, key, svc);
        if (!spec) {
            json_decref(services);
            compose_stack_fini(out);
            return -1;
        }
        json_array_append_new(out->services, spec);
    }
    json_decref(services);
    return 0;
}
