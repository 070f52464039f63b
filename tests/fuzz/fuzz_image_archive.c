// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for image loading: arbitrary bytes are an archive given
// to image_load_file (outer tar/gzip, manifest.json / index.json parsing,
// member lookup, config checks, layer unpacking with whiteouts and the
// traversal guards). It must only ever fail with an error, never crash or
// leak; whatever it loads is removed again so the store stays small.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/jsonx.h"
#include "base/log.h"
#include "base/mem.h"
#include "runtime/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct image_store *store;
static char dir[64];
static char input[96];

static void cleanup(void)
{
    image_store_free(store);
    struct err err = {0};
    fs_remove_tree(dir, &err);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/shoal-fuzz-image-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    snprintf(input, sizeof(input), "%s/input", dir);
    _cleanup_free_ char *root = xasprintf("%s/images", dir);
    struct err err = {0};
    store = image_store_new(root, &err);
    if (!store) {
        fprintf(stderr, "image_store_new: %s\n", err.msg);
        abort();
    }
    log_set_level(LOG_ERROR);
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store)
        setup();
    struct err err = {0};
    if (fs_write_file_atomic(input, data, size, 0600, &err) < 0)
        abort();
    json_t *r = image_load_file(store, input, &err);
    if (!r && (err.code < 400 || err.code > 599 || !err.msg[0]))
        abort(); /* a failure must say why */
    json_decref(r);

    /* Forget everything again. */
    _cleanup_json_ json_t *list = image_list(store, NULL);
    size_t i;
    json_t *img;
    json_array_foreach(list, i, img)
    {
        json_t *out = NULL;
        if (image_remove(store, jx_str(img, "Id"), true, NULL, NULL, &out,
                         &err) < 0)
            abort();
        json_decref(out);
    }
    unlink(input);
    return 0;
}
