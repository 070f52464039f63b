// SPDX-License-Identifier: Apache-2.0
// Walks a tree with fts (no global state, unlike nftw) and adds up the
// apparent sizes, as Docker's directory.Size does: what the data takes,
// not its blocks.
#include "base/du.h"

#include <fts.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/hmap.h"
#include "base/mem.h"

int64_t fs_du(const char *path)
{
    char *const roots[] = {(char *)path, NULL};
    FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
    if (!fts)
        return 0;
    int64_t total = 0;
    struct hmap seen; /* "dev:ino" of multiply linked files */
    hmap_init(&seen);
    FTSENT *e;
    while ((e = fts_read(fts)) != NULL) {
        if (e->fts_info != FTS_F && e->fts_info != FTS_SL &&
            e->fts_info != FTS_SLNONE)
            continue;
        const struct stat *st = e->fts_statp;
        if (st->st_nlink > 1) {
            char key[48];
            snprintf(key, sizeof(key), "%llx:%llx",
                     (unsigned long long)st->st_dev,
                     (unsigned long long)st->st_ino);
            if (hmap_get(&seen, key))
                continue;
            char *owned = xstrdup(key);
            hmap_put(&seen, owned, owned);
        }
        total += st->st_size;
    }
    fts_close(fts);
    size_t it = 0;
    void *v;
    while (hmap_next(&seen, &it, NULL, &v))
        free(v);
    hmap_fini(&seen);
    return total;
}
