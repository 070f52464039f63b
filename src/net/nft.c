// SPDX-License-Identifier: Apache-2.0
// libnftables adapter: the only file that includes libnftables. A command
// buffer given to nft_run_cmd_from_buffer is parsed whole and sent to the
// kernel as one netlink batch, which is what makes ruleset swaps atomic.
#include "net/nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/mem.h"

struct nftables {
    struct nft_ctx *ctx;
};

struct nftables *nftables_open(struct err *err)
{
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) {
        err_set(err, ERR_INTERNAL, "open nftables context");
        return NULL;
    }
    /* Keep nft's messages instead of letting it print to our stderr. */
    if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
        nft_ctx_free(ctx);
        err_set(err, ERR_INTERNAL, "set up nftables output buffers");
        return NULL;
    }
    struct nftables *nft = xcalloc(1, sizeof(*nft));
    nft->ctx = ctx;
    return nft;
}

void nftables_close(struct nftables *nft)
{
    if (!nft)
        return;
    nft_ctx_free(nft->ctx);
    free(nft);
}

/* nft reports the kernel's errno as strerror text; map the ones a caller can
 * act on. */
static int nft_err_code(const char *text)
{
    if (strstr(text, "Operation not permitted"))
        return ERR_FORBIDDEN;
    if (strstr(text, "No such file or directory"))
        return ERR_NOTFOUND;
    if (strstr(text, "File exists"))
        return ERR_CONFLICT;
    return ERR_INTERNAL;
}

/* Copies [s, s+n) into dst (size cap) with surrounding blanks trimmed. */
static void copy_trimmed(char *dst, size_t cap, const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* nft's error text is "<file>:<line>:<cols>: Error: <what>\n<input line>\n
 * <carets>\n" per error (without the location for some kernel errors). Keep
 * the first error, its line number and the input line it points at: enough
 * to find the culprit in a rendered ruleset without flooding the log. */
static int nft_fail(struct err *err, const char *path, const char *text)
{
    if (!text || !*text)
        return err_set(err, ERR_INTERNAL, "nftables: command failed");
    const char *nl = strchr(text, '\n');
    size_t n1 = nl ? (size_t)(nl - text) : strlen(text);
    char first[256], line[200] = "", where[32] = "";
    size_t plen = strlen(path);
    if (n1 > plen && strncmp(text, path, plen) == 0 && text[plen] == ':') {
        /* "<line>:<cols>: " */
        const char *loc = text + plen + 1;
        const char *end = strstr(loc, ": ");
        if (end && end < text + n1 && (size_t)(end - loc) < sizeof(where) - 6) {
            snprintf(where, sizeof(where), "line %.*s: ", (int)(end - loc),
                     loc);
            n1 -= (size_t)(end + 2 - text);
            text = end + 2;
        }
    }
    if (n1 >= 7 && strncmp(text, "Error: ", 7) == 0) {
        text += 7;
        n1 -= 7;
    }
    copy_trimmed(first, sizeof(first), text, n1);
    if (nl && nl[1]) {
        const char *l2 = nl + 1;
        const char *nl2 = strchr(l2, '\n');
        size_t n2 = nl2 ? (size_t)(nl2 - l2) : strlen(l2);
        /* The second line is input only when a caret line follows it. */
        if (nl2 && strchr(nl2 + 1, '^'))
            copy_trimmed(line, sizeof(line), l2, n2);
    }
    if (line[0])
        return err_set(err, nft_err_code(first), "nftables: %s%s (at '%s')",
                       where, first, line);
    return err_set(err, nft_err_code(first), "nftables: %s%s", where, first);
}

/* The commands go through a memfd read as a file, not
 * nft_run_cmd_from_buffer: for a buffer nft 1.0.6 prints the buffer's first
 * line as the offending one and no line number; for a file it gets both
 * right. Same single transaction either way. */
int nftables_run(struct nftables *nft, const char *cmds, char **out,
                 struct err *err)
{
    if (out)
        *out = NULL;
    int fd = memfd_create("shoal-nft", MFD_CLOEXEC);
    if (fd < 0)
        return err_sys(err, errno, "nftables: create memfd");
    size_t len = strlen(cmds), off = 0;
    while (off < len) {
        ssize_t w = write(fd, cmds + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            return err_sys(err, e, "nftables: write memfd");
        }
        off += (size_t)w;
    }
    char path[40];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    int r = nft_run_cmd_from_filename(nft->ctx, path);
    close(fd);
    /* Reading a buffer resets it for the next command, so always read both. */
    const char *o = nft_ctx_get_output_buffer(nft->ctx);
    const char *e = nft_ctx_get_error_buffer(nft->ctx);
    if (r != 0)
        return nft_fail(err, path, e);
    if (out)
        *out = xstrdup(o ? o : "");
    return 0;
}

int nftables_run_once(const char *cmds, char **out, struct err *err)
{
    struct nftables *nft = nftables_open(err);
    if (!nft)
        return -1;
    int r = nftables_run(nft, cmds, out, err);
    nftables_close(nft);
    return r;
}
