// SPDX-License-Identifier: Apache-2.0
// Expansion of swarm's task templates: literal text is copied, each
// `{{ .Field.Path }}` is replaced by what the caller's lookup answers. Only
// field references are supported (what swarm documents for --hostname,
// --env and --mount); anything else is refused with a clear message.
#include "base/tmpl.h"

#include <ctype.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

static bool field_is_valid(const char *f)
{
    if (!*f || *f == '.')
        return false;
    for (const char *p = f; *p; p++) {
        if (*p == '.') {
            if (p[1] == '\0' || p[1] == '.')
                return false;
        } else if (!isalnum((unsigned char)*p) && *p != '_') {
            return false;
        }
    }
    return true;
}

char *tmpl_expand(const char *text, tmpl_lookup_fn lookup, void *data,
                  struct err *err)
{
    struct buf out;
    buf_init(&out);
    const char *p = text ? text : "";
    for (;;) {
        const char *open = strstr(p, "{{");
        const char *stray = strstr(p, "}}");
        if (stray && (!open || stray < open)) {
            buf_fini(&out);
            err_set(err, ERR_INVALID,
                    "template: expansion: unexpected \"}}\" in \"%s\"", text);
            return NULL;
        }
        if (!open) {
            buf_puts(&out, p);
            break;
        }
        buf_append(&out, p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            buf_fini(&out);
            err_set(err, ERR_INVALID,
                    "template: expansion: unclosed action in "
                    "\"%s\"",
                    text);
            return NULL;
        }
        const char *s = open + 2, *e = close;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        _cleanup_free_ char *ref = xstrndup(s, (size_t)(e - s));
        const char *value = NULL;
        if (ref[0] == '.' && field_is_valid(ref + 1))
            value = lookup(data, ref + 1);
        if (!value) {
            buf_fini(&out);
            if (ref[0] == '.' && field_is_valid(ref + 1))
                err_set(err, ERR_INVALID,
                        "template: expansion: can't evaluate field %s in "
                        "\"%s\"",
                        ref + 1, text);
            else
                err_set(err, ERR_INVALID,
                        "template: expansion: only field references such as "
                        "{{.Service.Name}} are supported, not {{%s}}",
                        ref);
            return NULL;
        }
        buf_puts(&out, value);
        p = close + 2;
    }
    if (!out.data)
        buf_puts(&out, "");
    return buf_steal(&out);
}

const char *tmpl_swarm_field_check(void *data, const char *field)
{
    (void)data;
    static const char *const known[] = {
        "Service.ID",    "Service.Name",     "Node.ID",
        "Node.Hostname", "Node.Platform.OS", "Node.Platform.Architecture",
        "Task.ID",       "Task.Name",        "Task.Slot",
    };
    for (size_t i = 0; i < ARRAY_SIZE(known); i++)
        if (strcmp(field, known[i]) == 0)
            return "";
    if (strncmp(field, "Service.Labels.", 15) == 0)
        return "";
    return NULL;
}
