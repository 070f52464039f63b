// SPDX-License-Identifier: Apache-2.0
// Pull and push plans and Docker's progress messages (see plan.h).
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "registry/plan.h"
#include "runtime/image_ref.h"

int reg_pull_plan(const struct reg_manifest *m, const char *const *diff_ids,
                  size_t n_diff_ids, const bool *have,
                  struct reg_pull_step *steps, struct err *err)
{
    if (m->n_layers != n_diff_ids)
        return err_set(err, ERR_INVALID,
                       "invalid image from the registry: the manifest lists "
                       "%zu layers, its config %zu",
                       m->n_layers, n_diff_ids);
    for (size_t i = 0; i < m->n_layers; i++) {
        steps[i].action = have[i] ? REG_PULL_EXISTS : REG_PULL_FETCH;
        steps[i].same_as = i;
        for (size_t j = 0; j < i && !have[i]; j++)
            if (steps[j].action == REG_PULL_FETCH &&
                (strcmp(m->layers[j].digest, m->layers[i].digest) == 0 ||
                 strcmp(diff_ids[j], diff_ids[i]) == 0)) {
                steps[i].action = REG_PULL_DUP;
                steps[i].same_as = j;
                break;
            }
    }
    return 0;
}

void reg_push_plan(const char *const *digests, size_t n, const bool *remote_has,
                   bool can_mount, struct reg_push_step *steps)
{
    for (size_t i = 0; i < n; i++) {
        steps[i].same_as = i;
        steps[i].action = remote_has[i] ? REG_PUSH_EXISTS
                          : can_mount   ? REG_PUSH_MOUNT
                                        : REG_PUSH_UPLOAD;
        for (size_t j = 0; j < i; j++)
            if (strcmp(digests[i], digests[j]) == 0) {
                steps[i].action = REG_PUSH_DUP;
                steps[i].same_as = j;
                break;
            }
    }
}

char *reg_mount_source(const char *const *names, const char *domain,
                       const char *path)
{
    for (size_t i = 0; names && names[i]; i++) {
        struct image_refname r;
        struct err err = {0};
        if (image_refname_parse(names[i], &r, &err) < 0)
            continue;
        char *found = NULL;
        if (strcmp(r.domain, domain) == 0 && strcmp(r.path, path) != 0)
            found = xstrdup(r.path);
        image_refname_fini(&r);
        if (found)
            return found;
    }
    return NULL;
}

void reg_short_id(const char *digest, char out[13])
{
    const char *hex = strncmp(digest, "sha256:", 7) == 0 ? digest + 7 : digest;
    snprintf(out, 13, "%.12s", hex);
}

json_t *reg_msg_status(const char *id, const char *status)
{
    json_t *m = json_pack("{s:s, s:{}}", "status", status, "progressDetail");
    if (id)
        json_object_set_new(m, "id", json_string(id));
    return m;
}

json_t *reg_msg_progress(const char *id, const char *status, int64_t current,
                         int64_t total)
{
    json_t *m =
        json_pack("{s:s, s:{s:I, s:I}}", "status", status, "progressDetail",
                  "current", (json_int_t)current, "total", (json_int_t)total);
    _cleanup_free_ char *bar = reg_progress_bar(current, total);
    json_object_set_new(m, "progress", json_string(bar));
    if (id)
        json_object_set_new(m, "id", json_string(id));
    return m;
}

json_t *reg_msg_error(const char *message)
{
    return json_pack("{s:{s:s}, s:s}", "errorDetail", "message", message,
                     "error", message);
}

void reg_human_size(double bytes, char *out, size_t n)
{
    static const char *const units[] = {"B",  "kB", "MB", "GB",
                                        "TB", "PB", "EB"};
    size_t u = 0;
    while (bytes >= 1000 && u + 1 < ARRAY_SIZE(units)) {
        bytes /= 1000;
        u++;
    }
    snprintf(out, n, "%.4g%s", bytes, units[u]);
}

char *reg_progress_bar(int64_t current, int64_t total)
{
    char cur[32], tot[32];
    reg_human_size((double)current, cur, sizeof(cur));
    if (total <= 0)
        return xasprintf("%8s", cur);
    reg_human_size((double)total, tot, sizeof(tot));
    int64_t c = current > total ? total : current;
    int width = 50, filled = (int)(c * width / total);
    char bar[64];
    int i = 0;
    for (; i < filled; i++)
        bar[i] = '=';
    if (filled < width)
        bar[i++] = '>';
    for (; i < width; i++)
        bar[i] = ' ';
    bar[width] = '\0';
    return xasprintf("[%s] %8s/%s", bar, cur, tot);
}
