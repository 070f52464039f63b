// SPDX-License-Identifier: Apache-2.0
// Output formatting and value parsing shared by shoal's commands, written to
// give byte-identical results to the docker CLI's Go helpers (go-units,
// strconv, time.Duration, json.Indent, sortorder).
#include "cli/format.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/timeutil.h"
#include "base/vec.h"

char *cli_fmt_ago(const char *ts, int64_t now_ns, bool lower)
{
    int64_t t;
    if (!ts || time_parse_rfc3339(ts, &t) < 0)
        return xstrdup("");
    char human[64];
    duration_human(now_ns - t, human, sizeof(human));
    if (lower) {
        for (char *p = human; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    return xasprintf("%s ago", human);
}

static void size_unit(double *size, double base, const char *const *abbrs,
                      size_t n, const char **unit)
{
    size_t i = 0;
    while (*size >= base && i < n - 1) {
        *size /= base;
        i++;
    }
    *unit = abbrs[i];
}

void cli_fmt_human_size(double size, int precision, char *out, size_t n)
{
    static const char *const abbrs[] = {"B",  "kB", "MB", "GB", "TB",
                                        "PB", "EB", "ZB", "YB"};
    const char *unit;
    size_unit(&size, 1000.0, abbrs, ARRAY_SIZE(abbrs), &unit);
    snprintf(out, n, "%.*g%s", precision, size, unit);
}

void cli_fmt_bytes_size(double size, char *out, size_t n)
{
    static const char *const abbrs[] = {"B",   "KiB", "MiB", "GiB", "TiB",
                                        "PiB", "EiB", "ZiB", "YiB"};
    const char *unit;
    size_unit(&size, 1024.0, abbrs, ARRAY_SIZE(abbrs), &unit);
    snprintf(out, n, "%.4g%s", size, unit);
}

void cli_fmt_float(double f, bool f32, char *out, size_t n)
{
    if (f == 0) {
        snprintf(out, n, "0");
        return;
    }
    /* Shortest digits that read back to the same value, then Go's choice
     * between %e and %f for 'g' with precision -1. */
    char tmp[64];
    int p;
    for (p = 1; p < 17; p++) {
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, f);
        if (f32 ? strtof(tmp, NULL) == (float)f : strtod(tmp, NULL) == f)
            break;
    }
    snprintf(tmp, sizeof(tmp), "%.*e", p - 1, f);
    int exp = atoi(strchr(tmp, 'e') + 1);
    if (exp < -4 || exp >= 21) {
        snprintf(out, n, "%s", tmp);
        return;
    }
    int decimals = p - 1 - exp;
    snprintf(out, n, "%.*f", decimals > 0 ? decimals : 0, f);
}

void cli_fmt_trunc_id(const char *id, char *out, size_t n)
{
    const char *c = strchr(id, ':');
    if (c)
        id = c + 1;
    snprintf(out, n, "%.12s", id);
}

char *cli_fmt_pretty(const char *s)
{
    char *r = xstrdup(s ? s : "");
    for (char *p = r; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    r[0] = (char)toupper((unsigned char)r[0]);
    return r;
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    }
    return n;
}

char *cli_fmt_ellipsis(const char *s, size_t max)
{
    if (max == 0)
        return xstrdup("");
    if (utf8_len(s) <= max)
        return xstrdup(s);
    /* Keep max-1 characters, then "…". */
    size_t chars = 0;
    const char *p = s;
    while (*p && chars < max - 1) {
        p++;
        while (((unsigned char)*p & 0xC0) == 0x80)
            p++;
        chars++;
    }
    return xasprintf("%.*s…", (int)(p - s), s);
}

/* Splits a reference into its name and the positions of tag and digest. */
static void ref_split(const char *ref, size_t *name_end, const char **tag,
                      const char **digest)
{
    const char *at = strchr(ref, '@');
    size_t end = at ? (size_t)(at - ref) : strlen(ref);
    const char *slash = NULL;
    for (const char *p = ref; p < ref + end; p++) {
        if (*p == '/')
            slash = p;
    }
    const char *colon = NULL;
    for (const char *p = slash ? slash : ref; p < ref + end; p++) {
        if (*p == ':')
            colon = p;
    }
    *tag = colon ? colon + 1 : NULL;
    *name_end = colon ? (size_t)(colon - ref) : end;
    *digest = at ? at + 1 : NULL;
}

bool cli_ref_digest_valid(const char *ref)
{
    const char *at = strchr(ref, '@');
    if (!at)
        return true;
    const char *d = at + 1;
    const char *colon = strchr(d, ':');
    if (!colon || colon == d)
        return false;
    size_t want = 0;
    if (!strncmp(d, "sha256:", 7))
        want = 64;
    else if (!strncmp(d, "sha384:", 7))
        want = 96;
    else if (!strncmp(d, "sha512:", 7))
        want = 128;
    size_t n = 0;
    for (const char *p = colon + 1; *p; p++, n++) {
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return false;
    }
    return want ? n == want : n >= 32;
}

char *cli_image_normalize(const char *image)
{
    size_t name_end;
    const char *tag, *digest;
    ref_split(image, &name_end, &tag, &digest);
    if (tag || digest)
        return xstrdup(image);
    return xasprintf("%s:latest", image);
}

char *cli_fmt_image_familiar(const char *image)
{
    size_t name_end;
    const char *tag, *digest;
    ref_split(image, &name_end, &tag, &digest);
    const char *name = image;
    size_t nlen = name_end;
    static const char *const prefixes[] = {"docker.io/library/",
                                           "index.docker.io/library/",
                                           "docker.io/", "index.docker.io/"};
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
        size_t pl = strlen(prefixes[i]);
        if (nlen > pl && strncmp(name, prefixes[i], pl) == 0) {
            name += pl;
            nlen -= pl;
            break;
        }
    }
    if (!tag) {
        if (name == image)
            return xstrdup(image);
        return xasprintf("%.*s%s", (int)nlen, name, image + name_end);
    }
    size_t tlen = digest ? (size_t)(digest - 1 - tag) : strlen(tag);
    return xasprintf("%.*s:%.*s", (int)nlen, name, (int)tlen, tag);
}

static bool natural_less(const char *s1, const char *s2)
{
    size_t l1 = strlen(s1), l2 = strlen(s2);
    size_t i1 = 0, i2 = 0;
    while (i1 < l1 && i2 < l2) {
        unsigned char c1 = (unsigned char)s1[i1], c2 = (unsigned char)s2[i2];
        bool d1 = isdigit(c1), d2 = isdigit(c2);
        if (d1 != d2)
            return d1;
        if (!d1) {
            if (c1 != c2)
                return c1 < c2;
            i1++;
            i2++;
            continue;
        }
        while (i1 < l1 && s1[i1] == '0')
            i1++;
        while (i2 < l2 && s2[i2] == '0')
            i2++;
        size_t nz1 = i1, nz2 = i2;
        while (i1 < l1 && isdigit((unsigned char)s1[i1]))
            i1++;
        while (i2 < l2 && isdigit((unsigned char)s2[i2]))
            i2++;
        size_t len1 = i1 - nz1, len2 = i2 - nz2;
        if (len1 != len2)
            return len1 < len2;
        int c = strncmp(s1 + nz1, s2 + nz2, len1);
        if (c != 0)
            return c < 0;
        if (nz1 != nz2)
            return nz1 < nz2;
    }
    return l1 < l2;
}

int cli_natural_cmp(const char *a, const char *b)
{
    if (natural_less(a, b))
        return -1;
    if (natural_less(b, a))
        return 1;
    return 0;
}

int cli_parse_ram(const char *s, int64_t *out, struct err *err)
{
    /* go-units parseSize with the binary map. */
    const char *sep = NULL;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p) || *p == '.' || *p == ' ')
            sep = p;
    }
    if (!sep)
        return err_set(err, ERR_INVALID, "invalid size: '%s'", s);
    char num[64];
    const char *sfx;
    size_t nlen = (size_t)(sep - s) + (*sep == ' ' ? 0 : 1);
    sfx = sep + 1;
    if (nlen >= sizeof(num))
        return err_set(err, ERR_INVALID, "invalid size: '%s'", s);
    memcpy(num, s, nlen);
    num[nlen] = '\0';
    char *end;
    double size = strtod(num, &end);
    if (!*num || *end || isspace((unsigned char)num[0])) {
        return err_set(err, ERR_INVALID,
                       "strconv.ParseFloat: parsing \"%s\": invalid syntax",
                       num);
    }
    if (size < 0)
        return err_set(err, ERR_INVALID, "invalid size: '%s'", s);
    size_t sl = strlen(sfx);
    if (sl == 0) {
        *out = (int64_t)size;
        return 0;
    }
    char lo[4] = {0};
    if (sl > 3)
        goto bad;
    for (size_t i = 0; i < sl; i++)
        lo[i] = (char)tolower((unsigned char)sfx[i]);
    if (lo[0] == 'b') {
        if (sl > 1)
            goto bad;
        *out = (int64_t)size;
        return 0;
    }
    const char *units = "kmgtp";
    const char *u = strchr(units, lo[0]);
    if (!u || !lo[0])
        goto bad;
    for (long i = 0; i <= u - units; i++)
        size *= 1024;
    if ((sl == 2 && lo[1] != 'b') || (sl == 3 && strcmp(lo + 1, "ib") != 0))
        goto bad;
    *out = (int64_t)size;
    return 0;
bad:
    return err_set(err, ERR_INVALID, "invalid suffix: '%s'", sl > 3 ? sfx : lo);
}

int cli_parse_nanocpus(const char *s, int64_t *out, struct err *err)
{
    /* big.Rat's decimal ("1.5") and fraction ("3/2") forms. */
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    const char *slash = strchr(p, '/');
    if (slash) {
        char *e1, *e2;
        long long a = strtoll(p, &e1, 10);
        long long b = strtoll(slash + 1, &e2, 10);
        if (e1 != slash || *e2 || e1 == p || b == 0 || slash[1] == '\0')
            goto bad;
        __int128 nano = (__int128)a * 1000000000;
        if (nano % b != 0)
            return err_set(err, ERR_INVALID, "value is too precise");
        *out = (int64_t)(nano / b) * (neg ? -1 : 1);
        return 0;
    }
    int64_t whole = 0, frac = 0;
    int fdigits = 0;
    bool any = false, precise_err = false;
    for (; isdigit((unsigned char)*p); p++) {
        whole = whole * 10 + (*p - '0');
        any = true;
        if (whole > 9223372036)
            goto bad;
    }
    if (*p == '.') {
        for (p++; isdigit((unsigned char)*p); p++) {
            any = true;
            if (fdigits < 9) {
                frac = frac * 10 + (*p - '0');
                fdigits++;
            } else if (*p != '0') {
                precise_err = true;
            }
        }
    }
    if (*p || !any)
        goto bad;
    if (precise_err)
        return err_set(err, ERR_INVALID, "value is too precise");
    while (fdigits < 9) {
        frac *= 10;
        fdigits++;
    }
    *out = (whole * 1000000000 + frac) * (neg ? -1 : 1);
    return 0;
bad:
    return err_set(err, ERR_INVALID, "failed to parse %s as a rational number",
                   s);
}

int cli_parse_duration(const char *s, int64_t *out, struct err *err)
{
    static const struct {
        const char *name;
        double mult;
    } units[] = {
        {"ns", 1},   {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
        {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9},
    };
    const char *p = s;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (strcmp(p, "0") == 0) {
        *out = 0;
        return 0;
    }
    if (!*p)
        goto invalid;
    double total = 0;
    while (*p) {
        if (!isdigit((unsigned char)*p) && *p != '.')
            goto invalid;
        const char *start = p;
        while (isdigit((unsigned char)*p))
            p++;
        bool pre = p > start;
        if (*p == '.') {
            p++;
            const char *fs = p;
            while (isdigit((unsigned char)*p))
                p++;
            if (!pre && p == fs)
                goto invalid;
        }
        char *end;
        double v = strtod(start, &end);
        (void)end;
        const char *us = p;
        while (*p && *p != '.' && !isdigit((unsigned char)*p))
            p++;
        size_t ul = (size_t)(p - us);
        if (ul == 0) {
            return err_set(err, ERR_INVALID,
                           "time: missing unit in duration \"%s\"", s);
        }
        double mult = 0;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
            if (strlen(units[i].name) == ul &&
                strncmp(units[i].name, us, ul) == 0)
                mult = units[i].mult;
        }
        if (mult == 0) {
            return err_set(err, ERR_INVALID,
                           "time: unknown unit \"%.*s\" in duration \"%s\"",
                           (int)ul, us, s);
        }
        total += v * mult;
    }
    if (total > 9.223372036854775e18)
        goto invalid;
    *out = (int64_t)llround(total) * (neg ? -1 : 1);
    return 0;
invalid:
    return err_set(err, ERR_INVALID, "time: invalid duration \"%s\"", s);
}

/* Writes v's fractional part (prec digits, trailing zeros cut) before *w. */
static char *fmt_frac(char *w, uint64_t *v, int prec)
{
    bool print = false;
    for (int i = 0; i < prec; i++) {
        int digit = (int)(*v % 10);
        print = print || digit != 0;
        if (print)
            *--w = (char)('0' + digit);
        *v /= 10;
    }
    if (print)
        *--w = '.';
    return w;
}

static char *fmt_int(char *w, uint64_t v)
{
    if (v == 0) {
        *--w = '0';
        return w;
    }
    while (v > 0) {
        *--w = (char)('0' + v % 10);
        v /= 10;
    }
    return w;
}

void cli_fmt_duration(int64_t ns, char *out, size_t n)
{
    char buf[40];
    char *w = buf + sizeof(buf) - 1;
    *w = '\0';
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    if (u < 1000000000ULL) {
        int prec = 0;
        *--w = 's';
        if (u == 0) {
            *--w = '0';
            snprintf(out, n, "%s", w);
            return;
        } else if (u < 1000ULL) {
            *--w = 'n';
        } else if (u < 1000000ULL) {
            prec = 3;
            *--w = '\xb5';
            *--w = '\xc2';
        } else {
            prec = 6;
            *--w = 'm';
        }
        w = fmt_frac(w, &u, prec);
        w = fmt_int(w, u);
    } else {
        *--w = 's';
        w = fmt_frac(w, &u, 9);
        w = fmt_int(w, u % 60);
        u /= 60;
        if (u > 0) {
            *--w = 'm';
            w = fmt_int(w, u % 60);
            u /= 60;
            if (u > 0) {
                *--w = 'h';
                w = fmt_int(w, u);
            }
        }
    }
    if (ns < 0)
        *--w = '-';
    snprintf(out, n, "%s", w);
}

static void indent_newline(struct buf *out, const char *prefix, int depth)
{
    buf_putc(out, '\n');
    buf_puts(out, prefix);
    for (int i = 0; i < depth; i++)
        buf_puts(out, "    ");
}

int cli_json_indent(const char *raw, size_t len, const char *prefix,
                    struct buf *out)
{
    int depth = 0;
    bool need_indent = false; /* after '{' or '[': newline unless closed */
    for (size_t i = 0; i < len; i++) {
        char c = raw[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if (need_indent && c != '}' && c != ']') {
            need_indent = false;
            depth++;
            indent_newline(out, prefix, depth);
        }
        switch (c) {
        case '"': {
            size_t j = i + 1;
            while (j < len && raw[j] != '"') {
                if (raw[j] == '\\')
                    j++;
                j++;
            }
            if (j >= len)
                return -1;
            buf_append(out, raw + i, j - i + 1);
            i = j;
            break;
        }
        case '{':
        case '[':
            buf_putc(out, c);
            need_indent = true;
            break;
        case '}':
        case ']':
            if (need_indent) {
                need_indent = false;
            } else {
                depth--;
                if (depth < 0)
                    return -1;
                indent_newline(out, prefix, depth);
            }
            buf_putc(out, c);
            break;
        case ',':
            buf_putc(out, ',');
            indent_newline(out, prefix, depth);
            break;
        case ':':
            buf_puts(out, ": ");
            break;
        default:
            buf_putc(out, c);
        }
    }
    return depth == 0 && !need_indent ? 0 : -1;
}

/* A parsed --format: alternating literal text and field references. */
struct tmpl_part {
    char *text;  /* literal, or NULL */
    char *field; /* field name, or NULL */
};

struct cli_template {
    bool table;
    struct vec parts; /* struct tmpl_part * */
};

static void add_part(struct cli_template *t, char *text, char *field)
{
    struct tmpl_part *p = xcalloc(1, sizeof(*p));
    p->text = text;
    p->field = field;
    vec_push(&t->parts, p);
}

/* docker's formatter expands the two-character escapes \t and \n. */
static char *expand_escapes(const char *s, size_t n)
{
    char *r = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == 't' || s[i + 1] == 'n')) {
            r[o++] = s[i + 1] == 't' ? '\t' : '\n';
            i++;
        } else {
            r[o++] = s[i];
        }
    }
    r[o] = '\0';
    return r;
}

struct cli_template *cli_template_parse(const char *fmt, struct err *err)
{
    struct cli_template *t = xcalloc(1, sizeof(*t));
    vec_init(&t->parts);
    const char *p = fmt;
    if (strncmp(p, "table", 5) == 0 &&
        (p[5] == '\0' || isspace((unsigned char)p[5]))) {
        t->table = true;
        p += 5;
        while (*p == ' ')
            p++;
    }
    while (*p) {
        const char *open = strstr(p, "{{");
        size_t lit = open ? (size_t)(open - p) : strlen(p);
        if (lit)
            add_part(t, expand_escapes(p, lit), NULL);
        if (!open)
            break;
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            cli_template_free(t);
            err_set(err, ERR_INVALID,
                    "template parsing error: unclosed action in \"%s\"", fmt);
            return NULL;
        }
        const char *a = open + 2, *b = close;
        if (*a == '-')
            a++;
        if (b > a && b[-1] == '-')
            b--;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        /* "json .Path" marks a part to print as JSON. */
        bool json = false;
        if (b - a > 5 && strncmp(a, "json", 4) == 0 &&
            isspace((unsigned char)a[4])) {
            json = true;
            a += 5;
            while (a < b && isspace((unsigned char)*a))
                a++;
        }
        /* ".", ".Field" or ".A.B.C" */
        bool ok = b - a >= 1 && *a == '.' && (b - a > 1 || json);
        for (const char *q = a + 1; ok && q < b; q++) {
            if (!isalnum((unsigned char)*q) && *q != '_' &&
                !(*q == '.' && q[-1] != '.' && q + 1 < b))
                ok = false;
        }
        if (!ok) {
            err_set(err, ERR_INVALID,
                    "template parsing error: unsupported action {{%.*s}}: "
                    "shoal supports only field references such as {{.ID}} "
                    "and {{json .Field}}",
                    (int)(close - open - 2), open + 2);
            cli_template_free(t);
            return NULL;
        }
        char *field = xstrndup(a + 1, (size_t)(b - a - 1));
        if (json) {
            char *jf = xasprintf("json:%s", field);
            free(field);
            field = jf;
        }
        add_part(t, NULL, field);
        p = close + 2;
    }
    return t;
}

void cli_template_free(struct cli_template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->parts.len; i++) {
        struct tmpl_part *p = t->parts.items[i];
        free(p->text);
        free(p->field);
        free(p);
    }
    vec_fini(&t->parts);
    free(t);
}

bool cli_template_is_table(const struct cli_template *t)
{
    return t->table;
}

int cli_template_exec(const struct cli_template *t, cli_template_field_cb cb,
                      void *record, struct buf *out, struct err *err)
{
    for (size_t i = 0; i < t->parts.len; i++) {
        const struct tmpl_part *p = t->parts.items[i];
        if (p->text) {
            buf_puts(out, p->text);
            continue;
        }
        char *v = cb(p->field, record);
        if (!v) {
            if (!strncmp(p->field, "json:", 5))
                return err_set(err, ERR_INVALID,
                               "template: {{json .%s}} is not supported here",
                               p->field + 5);
            return err_set(err, ERR_INVALID,
                           "template: can't evaluate field %s", p->field);
        }
        buf_puts(out, v);
        free(v);
    }
    return 0;
}
