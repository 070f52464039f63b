// SPDX-License-Identifier: Apache-2.0
// Unit tests for the archive functions the builder and its CLI use
// (runtime/archive.c): a directory tree written as a tar (sorted entries,
// symlinks, hardlinks, the filter and its pruning), read back, and unpacked
// as a plain tree in which ".wh." names stay ordinary files. No root needed
// (whiteouts from an overlayfs upper dir need mknod; the integration suite
// covers those).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/mem.h"
#include "base/vec.h"
#include "runtime/archive.h"
#include "harness.h"

static void put(const char *root, const char *rel, const char *text)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
    struct err err = {0};
    CHECK_INT(fs_write_file_replace(p, text, strlen(text), 0644, &err), 0);
}

static void mkd(const char *root, const char *rel)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
    CHECK_INT(mkdir(p, 0755), 0);
}

static bool skip_ignored(void *data, const char *rel, bool is_dir,
                         bool *descend)
{
    int *calls = data;
    (*calls)++;
    if (strcmp(rel, "skipme") == 0 && is_dir) {
        *descend = false;
        return false;
    }
    if (strcmp(rel, "hidden") == 0 && is_dir)
        return false; /* not written, but its children may be */
    return strcmp(rel, "hidden/drop.txt") != 0;
}

static void names_of(const char *tar, struct vec *out)
{
    vec_init(out);
    struct err err = {0};
    struct arc_reader *r = arc_reader_open(tar, &err);
    CHECK(r != NULL);
    struct arc_entry e;
    while (r && arc_reader_next(r, &e, &err) == 1)
        vec_push(out, xstrdup(e.path));
    arc_reader_free(r);
}

static bool has(const struct vec *v, const char *name)
{
    for (size_t i = 0; i < v->len; i++)
        if (strcmp(v->items[i], name) == 0)
            return true;
    return false;
}

static void test_write_tree(void)
{
    char root[] = "/tmp/shoal-test-tree-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    _cleanup_free_ char *src = xasprintf("%s/src", root);
    CHECK_INT(mkdir(src, 0755), 0);
    put(src, "b.txt", "bee");
    put(src, "a.txt", "ay");
    put(src, ".wh.looks-like-a-whiteout", "plain file");
    mkd(src, "skipme");
    put(src, "skipme/x", "x");
    mkd(src, "hidden");
    put(src, "hidden/keep.txt", "k");
    put(src, "hidden/drop.txt", "d");
    _cleanup_free_ char *lnk = xasprintf("%s/link", src);
    CHECK_INT(symlink("a.txt", lnk), 0);
    _cleanup_free_ char *a = xasprintf("%s/a.txt", src);
    _cleanup_free_ char *hard = xasprintf("%s/hard", src);
    CHECK_INT(link(a, hard), 0);

    _cleanup_free_ char *tar = xasprintf("%s/out.tar", root);
    struct err err = {0};
    int calls = 0;
    CHECK_INT(
        arc_write_tree(src, tar, ARC_TREE_PLAIN, skip_ignored, &calls, &err),
        0);
    CHECK(calls > 0);
    struct vec names;
    names_of(tar, &names);
    CHECK(has(&names, "a.txt"));
    CHECK(has(&names, "b.txt"));
    CHECK(has(&names, "link"));
    CHECK(has(&names, "hard"));
    CHECK(has(&names, ".wh.looks-like-a-whiteout"));
    CHECK(has(&names, "hidden/keep.txt"));
    CHECK(!has(&names, "hidden"));
    CHECK(!has(&names, "hidden/drop.txt"));
    CHECK(!has(&names, "skipme"));
    CHECK(!has(&names, "skipme/x"));
    /* Sorted by name within a directory. */
    size_t ia = 0, ib = 0;
    for (size_t i = 0; i < names.len; i++) {
        if (strcmp(names.items[i], "a.txt") == 0)
            ia = i;
        if (strcmp(names.items[i], "b.txt") == 0)
            ib = i;
    }
    CHECK(ia < ib);
    for (size_t i = 0; i < names.len; i++)
        free(names.items[i]);
    vec_fini(&names);

    /* The same tree twice: the same bytes. */
    _cleanup_free_ char *tar2 = xasprintf("%s/out2.tar", root);
    CHECK_INT(
        arc_write_tree(src, tar2, ARC_TREE_PLAIN, skip_ignored, &calls, &err),
        0);
    _cleanup_free_ char *d1 = NULL;
    _cleanup_free_ char *d2 = NULL;
    size_t l1 = 0, l2 = 0;
    CHECK_INT(fs_read_file(tar, &d1, &l1, &err), 0);
    CHECK_INT(fs_read_file(tar2, &d2, &l2, &err), 0);
    CHECK(l1 == l2 && l1 > 0 && memcmp(d1, d2, l1) == 0);

    /* Unpacked as a plain tree: ".wh." is a file, links are back. */
    CHECK(arc_is_tar(tar));
    CHECK(!arc_is_tar(a));
    _cleanup_free_ char *dst = xasprintf("%s/dst", root);
    CHECK_INT(mkdir(dst, 0755), 0);
    CHECK_INT(arc_unpack_tree(tar, dst, &err), 0);
    _cleanup_free_ char *wh = xasprintf("%s/.wh.looks-like-a-whiteout", dst);
    struct stat st;
    CHECK(stat(wh, &st) == 0 && S_ISREG(st.st_mode));
    _cleanup_free_ char *dl = xasprintf("%s/link", dst);
    char target[64] = "";
    CHECK(readlink(dl, target, sizeof(target) - 1) == 5);
    CHECK_STR(target, "a.txt");
    _cleanup_free_ char *da = xasprintf("%s/a.txt", dst);
    _cleanup_free_ char *dh = xasprintf("%s/hard", dst);
    struct stat sa, sh;
    CHECK(stat(da, &sa) == 0 && stat(dh, &sh) == 0 && sa.st_ino == sh.st_ino);
    _cleanup_free_ char *keep = xasprintf("%s/hidden/keep.txt", dst);
    CHECK(fs_exists(keep));

    /* Errors: a missing root. */
    _cleanup_free_ char *nope = xasprintf("%s/nope", root);
    CHECK_INT(arc_write_tree(nope, tar, ARC_TREE_PLAIN, NULL, NULL, &err), -1);
    CHECK(strstr(err.msg, "nope") != NULL);
    fs_remove_tree(root, &err);
}

int main(void)
{
    RUN(test_write_tree);
    HARNESS_END();
}
