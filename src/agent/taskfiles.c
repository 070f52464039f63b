// SPDX-License-Identifier: Apache-2.0
// A task's secret and config files (see taskfiles.h), as dockerd lays
// them out: a secret's relative target under /run/secrets, a config's
// under /, absolute targets as they are.
#include "agent/taskfiles.h"

#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/jsonx.h"
#include "base/mem.h"

static int add_list(const struct store *s, const json_t *cs,
                    enum store_kind kind, struct taskfiles *out,
                    struct err *err)
{
    bool config = kind == KIND_CONFIG;
    json_t *list = json_object_get(cs, config ? "Configs" : "Secrets");
    size_t i;
    json_t *ref;
    json_array_foreach(list, i, ref)
    {
        const char *id = jx_str(ref, config ? "ConfigID" : "SecretID");
        const char *name = jx_str(ref, config ? "ConfigName" : "SecretName");
        const struct secret *x = store_secret(s, kind, id);
        if (!x)
            return err_set(err, ERR_NOTFOUND, "%s %s not found on this node",
                           store_kind_name(kind),
                           name ? name
                           : id ? id
                                : "");
        size_t len = 0;
        char *data = b64_decode(jx_str0(x->spec, "Data"), &len);
        if (!data)
            return err_set(err, ERR_INTERNAL, "%s %s has undecodable data",
                           store_kind_name(kind), x->name);
        json_t *file = json_object_get(ref, "File");
        const char *target = jx_str(file, "Name");
        if (!target || !*target)
            target = x->name;
        out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
        struct taskfile *f = &out->v[out->n++];
        memset(f, 0, sizeof(*f));
        snprintf(f->name, sizeof(f->name), "%c%zu", config ? 'c' : 's', i);
        f->target =
            target[0] == '/'
                ? xstrdup(target)
                : xasprintf("%s/%s", config ? "" : "/run/secrets", target);
        f->data = data;
        f->len = len;
        f->uid = (uint32_t)strtoul(jx_str0(file, "UID"), NULL, 10);
        f->gid = (uint32_t)strtoul(jx_str0(file, "GID"), NULL, 10);
        f->mode = (uint32_t)jx_int(file, "Mode", 0444) & 07777;
    }
    return 0;
}

int taskfiles_build(const struct store *s, const json_t *container_spec,
                    struct taskfiles *out, struct err *err)
{
    out->v = NULL;
    out->n = 0;
    if (add_list(s, container_spec, KIND_SECRET, out, err) < 0 ||
        add_list(s, container_spec, KIND_CONFIG, out, err) < 0)
        return -1;
    return 0;
}

void taskfiles_fini(struct taskfiles *tf)
{
    for (size_t i = 0; i < tf->n; i++) {
        memset(tf->v[i].data, 0, tf->v[i].len);
        free(tf->v[i].data);
        free(tf->v[i].target);
    }
    free(tf->v);
    tf->v = NULL;
    tf->n = 0;
}
