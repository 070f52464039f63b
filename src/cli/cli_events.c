// SPDX-License-Identifier: Apache-2.0
// `shoal events`: streams GET /events and prints each event the way the
// docker CLI does (one line per event, or a --format template), with
// --since/--until turned into unix timestamps as docker's GetTimestamp does.
#include "cli/cli_events.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/jsonx.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "cli/cli.h"
#include "cli/format.h"

/* ---- printing ---- */

void cli_events_fmt_time(int64_t ns, char *out, size_t n)
{
    int64_t sec = ns / NS_PER_SEC, frac = ns % NS_PER_SEC;
    if (frac < 0) {
        frac += NS_PER_SEC;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    localtime_r(&t, &tm);
    char date[32];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    char zone[16] = "Z";
    long off = tm.tm_gmtoff;
    if (off != 0) {
        char sign = off < 0 ? '-' : '+';
        off = off < 0 ? -off : off;
        snprintf(zone, sizeof(zone), "%c%02ld:%02ld", sign, off / 3600,
                 off / 60 % 60);
    }
    snprintf(out, n, "%s.%09lld%s", date, (long long)frac, zone);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *cli_events_line(const json_t *msg)
{
    struct buf b;
    buf_init(&b);
    int64_t nano = jx_int(msg, "timeNano", 0);
    int64_t sec = jx_int(msg, "time", 0);
    char ts[64];
    if (nano || sec) {
        cli_events_fmt_time(nano ? nano : sec * NS_PER_SEC, ts, sizeof(ts));
        buf_printf(&b, "%s ", ts);
    }
    const json_t *actor = json_object_get(msg, "Actor");
    buf_printf(&b, "%s %s %s", jx_str0(msg, "Type"), jx_str0(msg, "Action"),
               jx_str0(actor, "ID"));
    json_t *attrs = json_object_get(actor, "Attributes");
    size_t n = json_object_size(attrs);
    if (n) {
        const char **keys = xcalloc(n, sizeof(*keys));
        size_t i = 0;
        const char *k;
        json_t *v;
        json_object_foreach(attrs, k, v)
        {
            keys[i++] = k;
        }
        qsort(keys, n, sizeof(*keys), cmp_str);
        buf_puts(&b, " (");
        for (i = 0; i < n; i++)
            buf_printf(&b, "%s%s=%s", i ? ", " : "", keys[i],
                       cli_jstr(json_object_get(attrs, keys[i])));
        buf_putc(&b, ')');
        free(keys);
    }
    buf_putc(&b, '\n');
    return buf_steal(&b);
}

/* ---- --format ---- */

/* Go's %v of a map[string]string: "map[a:1 b:2]". */
static void print_attrs(const json_t *attrs, struct buf *b)
{
    size_t n = json_object_size(attrs), i = 0;
    const char **keys = xcalloc(n + 1, sizeof(*keys));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)attrs, k, v)
    {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof(*keys), cmp_str);
    buf_puts(b, "map[");
    for (i = 0; i < n; i++)
        buf_printf(b, "%s%s:%s", i ? " " : "", keys[i],
                   cli_jstr(json_object_get(attrs, keys[i])));
    buf_putc(b, ']');
    free(keys);
}

/* Go struct field -> JSON key of events.Message. */
static const char *message_key(const char *field, size_t len)
{
    static const char *const map[][2] = {
        {"Status", "status"}, {"ID", "id"},         {"From", "from"},
        {"Type", "Type"},     {"Action", "Action"}, {"Actor", "Actor"},
        {"Scope", "scope"},   {"Time", "time"},     {"TimeNano", "timeNano"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        if (strlen(map[i][0]) == len && strncmp(map[i][0], field, len) == 0)
            return map[i][1];
    }
    return NULL;
}

static char *json_text(const json_t *v)
{
    if (!v)
        return xstrdup("null");
    return jx_dumps(v);
}

char *cli_events_field(const char *field, void *record)
{
    const json_t *msg = record;
    bool json = strncmp(field, "json:", 5) == 0;
    if (json)
        field += 5;
    if (!*field)
        return json ? json_text(msg) : cli_events_line(msg);
    const char *dot = strchr(field, '.');
    size_t len = dot ? (size_t)(dot - field) : strlen(field);
    const char *key = message_key(field, len);
    if (!key)
        return NULL;
    json_t *v = json_object_get(msg, key);
    struct buf b;
    buf_init(&b);
    if (strcmp(key, "Actor") != 0) {
        if (dot) /* strings and numbers have no fields */
            return NULL;
        if (json) {
            /* Missing strings and numbers are Go's zero values. */
            if (!v)
                return xstrdup(strcmp(key, "time") == 0 ||
                                       strcmp(key, "timeNano") == 0
                                   ? "0"
                                   : "\"\"");
            return json_text(v);
        }
        if (json_is_integer(v))
            return xasprintf("%lld", (long long)json_integer_value(v));
        if (!v && (strcmp(key, "time") == 0 || strcmp(key, "timeNano") == 0))
            return xstrdup("0");
        return xstrdup(cli_jstr(v));
    }
    /* Actor, Actor.ID, Actor.Attributes, Actor.Attributes.<key> */
    json_t *attrs = json_object_get(v, "Attributes");
    if (!dot) {
        if (json)
            return json_text(v);
        buf_printf(&b, "{%s ", jx_str0(v, "ID"));
        print_attrs(attrs, &b);
        buf_putc(&b, '}');
        return buf_steal(&b);
    }
    const char *sub = dot + 1;
    if (strcmp(sub, "ID") == 0)
        return json ? json_text(json_object_get(v, "ID"))
                    : xstrdup(jx_str0(v, "ID"));
    if (strcmp(sub, "Attributes") == 0) {
        if (json)
            return json_text(attrs);
        print_attrs(attrs, &b);
        return buf_steal(&b);
    }
    if (strncmp(sub, "Attributes.", 11) == 0 && !strchr(sub + 11, '.')) {
        json_t *a = json_object_get(attrs, sub + 11);
        if (json)
            return json_text(a);
        return xstrdup(a ? cli_jstr(a) : "<no value>");
    }
    return NULL;
}

/* ---- --since / --until ---- */

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

/* The layouts GetTimestamp tries: a date, then optionally "T15", ":04",
 * ":05" and a fraction; a zone ("Z", "+07:00") exactly when the value has
 * one (with_zone). Local times use the zone's current offset, as Go's
 * time.FixedZone(reference.Zone()) does. */
static int parse_time_value(const char *s, bool with_zone, int64_t now_ns,
                            int64_t *ns)
{
    const char *p = s;
    int year, mon, day, hour = 0, min = 0, sec = 0;
    int64_t frac = 0;
    if (digits(&p, 4, &year) || *p++ != '-' || digits(&p, 2, &mon) ||
        *p++ != '-' || digits(&p, 2, &day))
        return -1;
    if (*p == 'T') {
        p++;
        if (digits(&p, 2, &hour))
            return -1;
        if (*p == ':' && isdigit((unsigned char)p[1])) {
            p++;
            if (digits(&p, 2, &min))
                return -1;
            if (*p == ':' && isdigit((unsigned char)p[1])) {
                p++;
                if (digits(&p, 2, &sec))
                    return -1;
                if (*p == '.') {
                    int nd = 0;
                    for (p++; isdigit((unsigned char)*p); p++, nd++) {
                        if (nd < 9)
                            frac = frac * 10 + (*p - '0');
                    }
                    if (nd == 0)
                        return -1;
                    for (; nd < 9; nd++)
                        frac *= 10;
                }
            }
        }
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
        sec > 59)
        return -1;
    long offset;
    if (with_zone) {
        if (*p == 'Z' || *p == 'z') {
            offset = 0;
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
                return -1;
            offset = sign * (oh * 3600L + om * 60L);
        } else {
            return -1;
        }
    } else {
        time_t now = (time_t)(now_ns / NS_PER_SEC);
        struct tm lt;
        localtime_r(&now, &lt);
        offset = lt.tm_gmtoff;
    }
    if (*p)
        return -1;
    struct tm tm = {
        .tm_year = year - 1900,
        .tm_mon = mon - 1,
        .tm_mday = day,
        .tm_hour = hour,
        .tm_min = min,
        .tm_sec = sec,
    };
    *ns = ((int64_t)timegm(&tm) - offset) * NS_PER_SEC + frac;
    return 0;
}

/* timetypes.parseTimestamp: "sec" or "sec.nano". */
static bool is_unix_time(const char *s)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

int cli_events_timestamp(const char *value, int64_t now_ns, char *out, size_t n,
                         struct err *err)
{
    int64_t d;
    if (strcmp(value, "0") != 0 && cli_parse_duration(value, &d, NULL) == 0) {
        int64_t t = now_ns - d;
        int64_t sec = t / NS_PER_SEC - (t % NS_PER_SEC < 0 ? 1 : 0);
        snprintf(out, n, "%lld", (long long)sec);
        return 0;
    }
    size_t dashes = 0;
    for (const char *p = value; *p; p++)
        dashes += *p == '-';
    bool with_zone = strpbrk(value, "zZ+") != NULL || dashes == 3;
    int64_t t;
    if (parse_time_value(value, with_zone, now_ns, &t) == 0) {
        int64_t sec = t / NS_PER_SEC, frac = t % NS_PER_SEC;
        if (frac < 0) {
            frac += NS_PER_SEC;
            sec--;
        }
        snprintf(out, n, "%lld.%09lld", (long long)sec, (long long)frac);
        return 0;
    }
    if (strchr(value, '-'))
        return err_set(err, ERR_INVALID, "parsing time \"%s\": invalid time",
                       value);
    if (!is_unix_time(value))
        return err_set(err, ERR_INVALID,
                       "failed to parse value as time or duration: \"%s\"",
                       value);
    snprintf(out, n, "%s", value);
    return 0;
}

/* ---- the command ---- */

struct events_run {
    struct cli_ctx *ctx;
    struct cli_template *tmpl; /* NULL: docker's line */
    struct buf pending;        /* an incomplete line */
    struct err err;
};

static int print_event(struct events_run *st, const char *text, size_t len)
{
    json_error_t je;
    _cleanup_json_ json_t *msg = json_loadb(text, len, 0, &je);
    if (!json_is_object(msg)) {
        err_set(&st->err, ERR_INTERNAL, "unexpected reply from the daemon: %s",
                je.text);
        return -1;
    }
    if (!st->tmpl) {
        _cleanup_free_ char *line = cli_events_line(msg);
        fputs(line, st->ctx->out);
    } else {
        struct buf b;
        buf_init(&b);
        int rc =
            cli_template_exec(st->tmpl, cli_events_field, msg, &b, &st->err);
        if (rc == 0)
            fprintf(st->ctx->out, "%s\n", b.data ? b.data : "");
        buf_fini(&b);
        if (rc < 0)
            return -1;
    }
    fflush(st->ctx->out);
    return 0;
}

static int on_events_data(const char *data, size_t len, void *ud)
{
    struct events_run *st = ud;
    buf_append(&st->pending, data, len);
    for (;;) {
        char *nl = st->pending.len
                       ? memchr(st->pending.data, '\n', st->pending.len)
                       : NULL;
        if (!nl)
            return 0;
        size_t n = (size_t)(nl - st->pending.data);
        bool blank = true;
        for (size_t i = 0; i < n; i++)
            blank &= isspace((unsigned char)st->pending.data[i]) != 0;
        if (!blank && print_event(st, st->pending.data, n) < 0)
            return -1;
        buf_consume(&st->pending, n + 1);
    }
}

static int run_events(struct cli_ctx *ctx, struct cli_flags *fl,
                      struct err *err)
{
    struct events_run st = {.ctx = ctx};
    const char *format = cli_flag_str(fl, "format");
    if (format && *format) {
        st.tmpl = cli_template_parse(
            strcmp(format, "json") == 0 ? "{{json .}}" : format, err);
        /* Like docker: the template must work on an empty message. */
        if (st.tmpl) {
            _cleanup_json_ json_t *empty = json_object();
            struct buf b;
            buf_init(&b);
            int rc =
                cli_template_exec(st.tmpl, cli_events_field, empty, &b, err);
            buf_fini(&b);
            if (rc < 0) {
                cli_template_free(st.tmpl);
                st.tmpl = NULL;
            }
        }
        if (!st.tmpl) {
            fprintf(ctx->err, "Error parsing format: %s\n", err->msg);
            return 64;
        }
    }
    struct cli_query q;
    cli_query_init(&q);
    if (cli_query_add_filters(&q, fl, err) < 0) {
        cli_query_fini(&q);
        cli_template_free(st.tmpl);
        return -1;
    }
    int64_t now = cli_ctx_now(ctx);
    static const char *const times[] = {"since", "until"};
    for (size_t i = 0; i < ARRAY_SIZE(times); i++) {
        const char *v = cli_flag_str(fl, times[i]);
        if (!v || !*v)
            continue;
        char ts[64];
        if (cli_events_timestamp(v, now, ts, sizeof(ts), err) < 0) {
            cli_query_fini(&q);
            cli_template_free(st.tmpl);
            return -1;
        }
        cli_query_add(&q, times[i], ts);
    }
    _cleanup_free_ char *path = xasprintf("/events%s", cli_query_str(&q));
    cli_query_fini(&q);
    int rc = -1;
    struct cli_client *c = cli_ctx_client(ctx, err);
    if (c) {
        buf_init(&st.pending);
        struct cli_request req = {.method = "GET",
                                  .path = path,
                                  .on_data = on_events_data,
                                  .ud = &st};
        rc = cli_client_do(c, &req, NULL, err);
        if (rc < 0 && st.err.msg[0])
            *err = st.err;
        buf_fini(&st.pending);
    }
    cli_template_free(st.tmpl);
    return rc;
}

static const struct cli_flag events_flags[] = {
    {"filter", 'f', CLI_FLAG_LIST, "Filter output based on conditions provided",
     NULL, "filter", NULL, false},
    {"format", 0, CLI_FLAG_STRING,
     "Format output using a custom template ('json' or a Go template)", NULL,
     NULL, NULL, false},
    {"since", 0, CLI_FLAG_STRING, "Show all events created since timestamp",
     NULL, NULL, NULL, false},
    {"until", 0, CLI_FLAG_STRING, "Stream events until this timestamp", NULL,
     NULL, NULL, false},
};

const struct cli_cmd cli_cmd_events = {
    .name = "events",
    .use = "[OPTIONS]",
    .short_desc = "Get real time events from the server",
    .flags = CLI_FLAGS(events_flags),
    .args = CLI_ARGS_NONE,
    .run = run_events,
};
