// SPDX-License-Identifier: Apache-2.0
// Placement constraint expressions, as swarmkit understands them: a key,
// == or !=, a value; keys are matched case-insensitively, values of ids,
// hostnames and roles exactly, label values exactly.
#include "manager/constraint.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/jsonx.h"
#include "base/mem.h"

static char *trim(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    return xstrndup(s, n);
}

static bool key_supported(const char *k)
{
    static const char *const exact[] = {
        "node.id",          "node.hostname",      "node.role",
        "node.platform.os", "node.platform.arch",
    };
    for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
        if (strcasecmp(k, exact[i]) == 0)
            return true;
    return (strncasecmp(k, "node.labels.", 12) == 0 && k[12]) ||
           (strncasecmp(k, "engine.labels.", 14) == 0 && k[14]);
}

int constraint_parse(const char *expr, struct constraint *out, struct err *err)
{
    memset(out, 0, sizeof(*out));
    const char *op = strstr(expr, "==");
    bool equal = true;
    const char *ne = strstr(expr, "!=");
    if (!op || (ne && ne < op)) {
        op = ne;
        equal = false;
    }
    if (!op)
        return err_set(err, ERR_INVALID,
                       "invalid constraint '%s': no operator (== or !=)", expr);
    char *key = trim(expr, (size_t)(op - expr));
    char *value = trim(op + 2, strlen(op + 2));
    if (!*key || !*value || strstr(value, "==") || strstr(value, "!=")) {
        free(key);
        free(value);
        return err_set(err, ERR_INVALID, "invalid constraint '%s'", expr);
    }
    if (!key_supported(key)) {
        err_set(err, ERR_INVALID, "invalid constraint '%s': unknown key '%s'",
                expr, key);
        free(key);
        free(value);
        return -1;
    }
    out->key = key;
    out->value = value;
    out->equal = equal;
    return 0;
}

void constraint_fini(struct constraint *c)
{
    free(c->key);
    free(c->value);
    c->key = c->value = NULL;
}

int constraints_validate(const json_t *list, struct err *err)
{
    if (!list || json_is_null(list))
        return 0;
    if (!json_is_array(list))
        return err_set(err, ERR_INVALID,
                       "Placement.Constraints must be a list of strings");
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v))
            return err_set(err, ERR_INVALID,
                           "Placement.Constraints must be a list of strings");
        struct constraint c;
        if (constraint_parse(json_string_value(v), &c, err) < 0)
            return -1;
        constraint_fini(&c);
    }
    return 0;
}

const char *constraint_node_value(const struct node *n, const char *key)
{
    if (strcasecmp(key, "node.id") == 0)
        return n->meta.id;
    if (strcasecmp(key, "node.hostname") == 0)
        return jx_path_str(n->description, "Hostname");
    if (strcasecmp(key, "node.role") == 0)
        return jx_str(n->spec, "Role");
    if (strcasecmp(key, "node.platform.os") == 0)
        return jx_path_str(n->description, "Platform.OS");
    if (strcasecmp(key, "node.platform.arch") == 0)
        return jx_path_str(n->description, "Platform.Architecture");
    if (strncasecmp(key, "node.labels.", 12) == 0)
        return jx_str(json_object_get(n->spec, "Labels"), key + 12);
    if (strncasecmp(key, "engine.labels.", 14) == 0)
        return jx_str(jx_path(n->description, "Engine.Labels"), key + 14);
    return NULL;
}

bool constraints_match(const json_t *list, const struct node *n)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        struct constraint c;
        if (!json_is_string(v) ||
            constraint_parse(json_string_value(v), &c, NULL) < 0)
            return false;
        const char *have = constraint_node_value(n, c.key);
        bool same;
        /* Roles and platforms compare case-insensitively, like swarmkit. */
        if (strcasecmp(c.key, "node.role") == 0 ||
            strncasecmp(c.key, "node.platform.", 14) == 0)
            same = have && strcasecmp(have, c.value) == 0;
        else
            same = have && strcmp(have, c.value) == 0;
        bool ok = c.equal ? same : !same;
        constraint_fini(&c);
        if (!ok)
            return false;
    }
    return true;
}
