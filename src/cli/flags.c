// SPDX-License-Identifier: Apache-2.0
// The flag parser behind every shoal command: pflag's grammar and error
// messages, so scripts written against docker behave the same.
#include "cli/flags.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "cli/format.h"

int cli_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int cli_parse_uint(const char *s, int base, int bits, uint64_t *out,
                   struct err *err)
{
    const char *p = s;
    int b = base;
    if (b == 0) {
        b = 10;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            b = 16;
            p += 2;
        } else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
            b = 8;
            p += 2;
        } else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
            b = 2;
            p += 2;
        } else if (p[0] == '0' && p[1]) {
            b = 8;
            p += 1;
        }
    }
    if (!*p)
        goto syntax;
    uint64_t v = 0;
    bool range = false;
    for (; *p; p++) {
        int d;
        if (*p == '_' && base == 0)
            continue;
        if (isdigit((unsigned char)*p))
            d = *p - '0';
        else if (isalpha((unsigned char)*p))
            d = tolower((unsigned char)*p) - 'a' + 10;
        else
            goto syntax;
        if (d >= b)
            goto syntax;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)b)
            range = true;
        else
            v = v * (uint64_t)b + (uint64_t)d;
    }
    if (bits < 64 && v >= (1ULL << bits))
        range = true;
    if (range) {
        return err_set(err, ERR_INVALID,
                       "strconv.ParseUint: parsing \"%s\": value out of range",
                       s);
    }
    *out = v;
    return 0;
syntax:
    return err_set(err, ERR_INVALID,
                   "strconv.ParseUint: parsing \"%s\": invalid syntax", s);
}

int cli_parse_int(const char *s, int bits, int64_t *out, struct err *err)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    uint64_t v;
    struct err e2 = {0};
    if (cli_parse_uint(p, 0, 64, &v, &e2) < 0) {
        if (strstr(e2.msg, "out of range"))
            goto range;
        return err_set(err, ERR_INVALID,
                       "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
    }
    uint64_t lim = 1ULL << (bits - 1);
    if ((!neg && v >= lim) || (neg && v > lim))
        goto range;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
range:
    return err_set(err, ERR_INVALID,
                   "strconv.ParseInt: parsing \"%s\": value out of range", s);
}

static int parse_float(const char *s, double *out, struct err *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || isspace((unsigned char)*s)) {
        return err_set(err, ERR_INVALID,
                       "strconv.ParseFloat: parsing \"%s\": invalid syntax", s);
    }
    if (errno == ERANGE || (isinf(v) && !strchr(s, 'n') && !strchr(s, 'N'))) {
        return err_set(err, ERR_INVALID,
                       "strconv.ParseFloat: parsing \"%s\": value out of range",
                       s);
    }
    *out = v;
    return 0;
}

/* Checks a value against its flag's type and extra validator. */
static int check_value(const struct cli_flag *d, const char *v, struct err *err)
{
    uint64_t u;
    int64_t i;
    double f;
    bool b;
    switch (d->type) {
    case CLI_FLAG_BOOL:
        if (cli_parse_bool(v, &b) < 0) {
            return err_set(err, ERR_INVALID,
                           "strconv.ParseBool: parsing \"%s\": invalid syntax",
                           v);
        }
        break;
    case CLI_FLAG_UINT:
        if (cli_parse_uint(v, 0, 64, &u, err) < 0)
            return -1;
        break;
    case CLI_FLAG_INT:
        if (cli_parse_int(v, 64, &i, err) < 0)
            return -1;
        break;
    case CLI_FLAG_DURATION:
        if (cli_parse_duration(v, &i, err) < 0)
            return -1;
        break;
    case CLI_FLAG_BYTES:
        if (cli_parse_ram(v, &i, err) < 0)
            return -1;
        break;
    case CLI_FLAG_DECIMAL:
        if (cli_parse_nanocpus(v, &i, err) < 0)
            return -1;
        break;
    case CLI_FLAG_FLOAT:
        if (parse_float(v, &f, err) < 0)
            return -1;
        break;
    case CLI_FLAG_STRING:
    case CLI_FLAG_LIST:
        break;
    }
    if (d->check && d->check(v, err) < 0)
        return -1;
    return 0;
}

static int set_value(struct cli_flags *f, size_t idx, char *v, struct err *err)
{
    const struct cli_flag *d = &f->defs[idx];
    struct err e2 = {0};
    if (check_value(d, v, &e2) < 0) {
        if (d->shorthand) {
            return err_set(err, ERR_INVALID,
                           "invalid argument \"%s\" for \"-%c, --%s\" flag: "
                           "%s",
                           v, d->shorthand, d->name, e2.msg);
        }
        return err_set(err, ERR_INVALID,
                       "invalid argument \"%s\" for \"--%s\" flag: %s", v,
                       d->name, e2.msg);
    }
    struct cli_flag_value *fv = &f->vals[idx];
    fv->changed = true;
    fv->str = v;
    if (d->type == CLI_FLAG_LIST)
        vec_push(&fv->list, v);
    return 0;
}

static long find_long(const struct cli_flags *f, const char *name, size_t n)
{
    for (size_t i = 0; i < f->ndefs; i++) {
        if (strlen(f->defs[i].name) == n &&
            strncmp(f->defs[i].name, name, n) == 0)
            return (long)i;
    }
    return -1;
}

static long find_short(const struct cli_flags *f, char c)
{
    for (size_t i = 0; i < f->ndefs; i++) {
        if (f->defs[i].shorthand == c)
            return (long)i;
    }
    return -1;
}

static char *own(struct cli_flags *f, char *s)
{
    vec_push(&f->own, s);
    return s;
}

/* Parses one "--name[=value]" argument; *i may advance past a value. */
static int parse_long(struct cli_flags *f, int argc, char **argv, int *i,
                      struct err *err)
{
    char *arg = argv[*i] + 2;
    char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    if (n == 4 && strncmp(arg, "help", 4) == 0) {
        f->help = true;
        return 0;
    }
    long idx = find_long(f, arg, n);
    if (idx < 0) {
        return err_set(err, ERR_INVALID, "unknown flag: --%.*s", (int)n, arg);
    }
    const struct cli_flag *d = &f->defs[idx];
    if (eq)
        return set_value(f, (size_t)idx, eq + 1, err);
    if (d->type == CLI_FLAG_BOOL)
        return set_value(f, (size_t)idx, "true", err);
    if (*i + 1 >= argc)
        return err_set(err, ERR_INVALID, "flag needs an argument: --%s",
                       d->name);
    (*i)++;
    return set_value(f, (size_t)idx, argv[*i], err);
}

/* Parses a cluster of shorthands ("-dq", "-p80:80", "-e=A=1"). */
static int parse_short(struct cli_flags *f, int argc, char **argv, int *i,
                       struct err *err)
{
    char *arg = argv[*i];
    for (char *p = arg + 1; *p; p++) {
        if (*p == 'h' && find_short(f, 'h') < 0) {
            f->help = true;
            continue;
        }
        long idx = find_short(f, *p);
        if (idx < 0) {
            return err_set(err, ERR_INVALID,
                           "unknown shorthand flag: '%c' in %s", *p, arg);
        }
        const struct cli_flag *d = &f->defs[idx];
        if (d->type == CLI_FLAG_BOOL) {
            if (p[1] == '=')
                return set_value(f, (size_t)idx, p + 2, err);
            if (set_value(f, (size_t)idx, "true", err) < 0)
                return -1;
            continue;
        }
        if (p[1] == '=')
            return set_value(f, (size_t)idx, p + 2, err);
        if (p[1])
            return set_value(f, (size_t)idx, p + 1, err);
        if (*i + 1 >= argc) {
            return err_set(err, ERR_INVALID,
                           "flag needs an argument: '%c' in -%c", *p, *p);
        }
        (*i)++;
        return set_value(f, (size_t)idx, argv[*i], err);
    }
    return 0;
}

int cli_flags_parse(struct cli_flags *f, const struct cli_flag *defs,
                    size_t ndefs, int argc, char **argv, bool interspersed,
                    struct err *err)
{
    memset(f, 0, sizeof(*f));
    f->defs = defs;
    f->ndefs = ndefs;
    f->vals = xcalloc(ndefs ? ndefs : 1, sizeof(*f->vals));
    for (size_t i = 0; i < ndefs; i++)
        vec_init(&f->vals[i].list);
    vec_init(&f->own);
    f->args = xcalloc((size_t)argc + 1, sizeof(char *));
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                f->args[f->nargs++] = argv[i];
            break;
        }
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            if (parse_long(f, argc, argv, &i, err) < 0)
                return -1;
            continue;
        }
        if (a[0] == '-' && a[1]) {
            if (parse_short(f, argc, argv, &i, err) < 0)
                return -1;
            continue;
        }
        f->args[f->nargs++] = a;
        if (!interspersed) {
            for (i++; i < argc; i++)
                f->args[f->nargs++] = argv[i];
            break;
        }
    }
    (void)own;
    return 0;
}

void cli_flags_fini(struct cli_flags *f)
{
    if (f->vals) {
        for (size_t i = 0; i < f->ndefs; i++)
            vec_fini(&f->vals[i].list);
    }
    free(f->vals);
    free(f->args);
    for (size_t i = 0; i < f->own.len; i++)
        free(f->own.items[i]);
    vec_fini(&f->own);
    memset(f, 0, sizeof(*f));
}

static long index_of(const struct cli_flags *f, const char *name)
{
    return find_long(f, name, strlen(name));
}

const struct cli_flag *cli_flags_def(const struct cli_flags *f,
                                     const char *name)
{
    long i = index_of(f, name);
    return i < 0 ? NULL : &f->defs[i];
}

bool cli_flag_changed(const struct cli_flags *f, const char *name)
{
    long i = index_of(f, name);
    return i >= 0 && f->vals[i].changed;
}

const char *cli_flag_str(const struct cli_flags *f, const char *name)
{
    long i = index_of(f, name);
    if (i < 0)
        return NULL;
    if (f->vals[i].changed)
        return f->vals[i].str;
    return f->defs[i].def;
}

bool cli_flag_bool(const struct cli_flags *f, const char *name)
{
    const char *s = cli_flag_str(f, name);
    bool b = false;
    if (s)
        cli_parse_bool(s, &b);
    return b;
}

int64_t cli_flag_int(const struct cli_flags *f, const char *name)
{
    const char *s = cli_flag_str(f, name);
    int64_t v = 0;
    if (s)
        cli_parse_int(s, 64, &v, NULL);
    return v;
}

uint64_t cli_flag_uint(const struct cli_flags *f, const char *name)
{
    const char *s = cli_flag_str(f, name);
    uint64_t v = 0;
    if (s)
        cli_parse_uint(s, 0, 64, &v, NULL);
    return v;
}

int64_t cli_flag_duration(const struct cli_flags *f, const char *name)
{
    const char *s = cli_flag_str(f, name);
    int64_t v = 0;
    if (s)
        cli_parse_duration(s, &v, NULL);
    return v;
}

const struct vec *cli_flag_list(const struct cli_flags *f, const char *name)
{
    static const struct vec empty = {0};
    long i = index_of(f, name);
    if (i < 0)
        return &empty;
    return &f->vals[i].list;
}

static const char *type_word(const struct cli_flag *d)
{
    if (d->type_name)
        return d->type_name;
    switch (d->type) {
    case CLI_FLAG_BOOL:
        return "";
    case CLI_FLAG_STRING:
        return "string";
    case CLI_FLAG_LIST:
        return "list";
    case CLI_FLAG_INT:
        return "int";
    case CLI_FLAG_UINT:
        return "uint";
    case CLI_FLAG_DURATION:
        return "duration";
    case CLI_FLAG_BYTES:
        return "bytes";
    case CLI_FLAG_DECIMAL:
        return "decimal";
    case CLI_FLAG_FLOAT:
        return "float";
    }
    return "";
}

void cli_flags_help(const struct cli_flag *defs, size_t ndefs, struct buf *out)
{
    size_t width = 0;
    char line[160];
    for (size_t i = 0; i < ndefs; i++) {
        if (defs[i].hidden)
            continue;
        const char *tw = type_word(&defs[i]);
        size_t n = (size_t)snprintf(line, sizeof(line), "      --%s%s%s",
                                    defs[i].name, *tw ? " " : "", tw);
        if (n > width)
            width = n;
    }
    /* pflag sorts flags by name. */
    const struct cli_flag **sorted = xcalloc(ndefs + 1, sizeof(*sorted));
    size_t ns = 0;
    for (size_t i = 0; i < ndefs; i++) {
        if (defs[i].hidden)
            continue;
        size_t j = ns++;
        while (j > 0 && strcmp(sorted[j - 1]->name, defs[i].name) > 0) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = &defs[i];
    }
    for (size_t i = 0; i < ns; i++) {
        const struct cli_flag *d = sorted[i];
        const char *tw = type_word(d);
        if (d->shorthand) {
            snprintf(line, sizeof(line), "  -%c, --%s%s%s", d->shorthand,
                     d->name, *tw ? " " : "", tw);
        } else {
            snprintf(line, sizeof(line), "      --%s%s%s", d->name,
                     *tw ? " " : "", tw);
        }
        buf_printf(out, "%-*s   %s", (int)width, line, d->usage);
        if (d->def && *d->def && d->type != CLI_FLAG_BOOL) {
            if (d->type == CLI_FLAG_STRING)
                buf_printf(out, " (default \"%s\")", d->def);
            else
                buf_printf(out, " (default %s)", d->def);
        }
        buf_putc(out, '\n');
    }
    free(sorted);
}
