// SPDX-License-Identifier: Apache-2.0
// `shoal system df [--format json]`: asks the node for its DiskUsage and
// prints docker's summary: totals, what is in use, sizes, and what pruning
// would give back (with docker's percentages).
#include "cli/cli_df.h"

#include <stdio.h>
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "cli/client.h"
#include "cli/format.h"
#include "cli/table.h"

static void human(int64_t n, char *out, size_t size)
{
    cli_fmt_human_size((double)n, 4, out, size);
}

static void add_row(struct cli_table *t, const char *type, size_t total,
                    size_t active, int64_t size, int64_t reclaimable)
{
    char s[32], r[32], rr[48];
    human(size, s, sizeof(s));
    human(reclaimable, r, sizeof(r));
    if (size > 0)
        snprintf(rr, sizeof(rr), "%s (%lld%%)", r,
                 (long long)(reclaimable * 100 / size));
    else
        snprintf(rr, sizeof(rr), "%s", r);
    cli_table_addf(t, "%s\t%zu\t%zu\t%s\t%s", type, total, active, s, rr);
}

void cli_df_summary(const json_t *du, struct buf *out)
{
    struct cli_table t;
    cli_table_init(&t);
    cli_table_add(&t, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE");
    size_t i, active = 0;
    json_t *v;
    int64_t layers = jx_int(du, "LayersSize", 0), used = 0;
    json_t *imgs = json_object_get(du, "Images");
    json_array_foreach(imgs, i, v)
    {
        if (jx_int(v, "Containers", 0) == 0)
            continue;
        active++;
        int64_t sz = jx_int(v, "Size", -1), sh = jx_int(v, "SharedSize", -1);
        if (sz >= 0 && sh >= 0)
            used += sz - sh;
    }
    int64_t rec = layers - used > 0 ? layers - used : 0;
    add_row(&t, "Images", json_array_size(imgs), active, layers, rec);

    json_t *ctrs = json_object_get(du, "Containers");
    int64_t size = 0;
    active = 0;
    rec = 0;
    json_array_foreach(ctrs, i, v)
    {
        int64_t rw = jx_int(v, "SizeRw", 0);
        size += rw;
        const char *st = jx_str0(v, "State");
        if (strcmp(st, "running") == 0 || strcmp(st, "paused") == 0)
            active++;
        else
            rec += rw;
    }
    add_row(&t, "Containers", json_array_size(ctrs), active, size, rec);

    json_t *vols = json_object_get(du, "Volumes");
    size = active = rec = 0;
    json_array_foreach(vols, i, v)
    {
        int64_t sz = jx_path_int(v, "UsageData.Size", 0);
        if (sz > 0)
            size += sz;
        if (jx_path_int(v, "UsageData.RefCount", 0) > 0)
            active++;
        else if (sz > 0)
            rec += sz;
    }
    add_row(&t, "Local Volumes", json_array_size(vols), active, size, rec);

    json_t *cache = json_object_get(du, "BuildCache");
    size = active = rec = 0;
    json_array_foreach(cache, i, v)
    {
        int64_t sz = jx_int(v, "Size", 0);
        size += sz;
        if (jx_bool(v, "InUse", false))
            active++;
        else if (!jx_bool(v, "Shared", false))
            rec += sz;
    }
    add_row(&t, "Build Cache", json_array_size(cache), active, size, rec);
    cli_table_render(&t, out);
    cli_table_fini(&t);
}

static int run_df(struct cli_ctx *ctx, struct cli_flags *fl, struct err *err)
{
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (!c)
        return -1;
    _cleanup_json_ json_t *du = cli_client_get_json(c, "/system/df", err);
    if (!du)
        return -1;
    const char *format = cli_flag_str(fl, "format");
    if (format && strcmp(format, "json") == 0) {
        _cleanup_free_ char *text = jx_dumps(du);
        fprintf(ctx->out, "%s\n", text);
        return 0;
    }
    if (format && *format)
        return err_set(err, ERR_INVALID,
                       "unsupported --format \"%s\": only \"json\"", format);
    struct buf b;
    buf_init(&b);
    cli_df_summary(du, &b);
    fputs(b.data ? b.data : "", ctx->out);
    buf_fini(&b);
    return 0;
}

static const struct cli_flag df_flags[] = {
    {"format", 0, CLI_FLAG_STRING,
     "Format output using a custom template "
     "('json' only)",
     NULL, NULL, NULL, false},
};

const struct cli_cmd cli_cmd_system_df = {
    .name = "df",
    .use = "[OPTIONS]",
    .short_desc = "Show docker disk usage",
    .flags = CLI_FLAGS(df_flags),
    .args = CLI_ARGS_NONE,
    .run = run_df,
};
