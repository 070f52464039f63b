// SPDX-License-Identifier: Apache-2.0
// GET /system/df (`docker system df`): this node's images (with how many
// containers use each), containers (with the size of their writable layer),
// named volumes (size, how many containers mount them) and the build cache,
// in Docker's DiskUsage shape. Sizes are walked on the loop: small on a
// node, and the request is rare.
#include <string.h>

#include "api/api_internal.h"
#include "base/du.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "volume/volume.h"

static const char *const TYPES[] = {"container", "image", "volume",
                                    "build-cache", NULL};

/* ?type= (repeatable); none = everything. 400 on an unknown type. */
static int wanted_types(struct http_request *req, bool want[4], struct err *err)
{
    const char *t = http_query(req, "type");
    for (size_t i = 0; i < 4; i++)
        want[i] = t == NULL;
    if (!t)
        return 0;
    for (size_t i = 0; TYPES[i]; i++)
        if (strcmp(t, TYPES[i]) == 0) {
            want[i] = true;
            return 0;
        }
    return err_set(err, ERR_INVALID, "unknown object type: %s", t);
}

static json_t *containers_usage(struct api_host *h, const json_t *imgs)
{
    json_t *list = ctr_list_json(h->runtime, true, NULL);
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        struct err err = {0};
        _cleanup_json_ json_t *in =
            ctr_inspect_json(h->runtime, jx_str0(c, "Id"), &err);
        int64_t rw = fs_du(jx_path_str(in, "GraphDriver.Data.UpperDir")
                               ? jx_path_str(in, "GraphDriver.Data.UpperDir")
                               : "");
        json_object_set_new(c, "SizeRw", json_integer(rw));
        /* The image's size plus the writable layer, as Docker counts. */
        int64_t img = 0;
        size_t k;
        json_t *im;
        json_array_foreach(imgs, k, im)
        {
            if (strcmp(jx_str0(im, "Id"), jx_str0(c, "ImageID")) == 0)
                img = jx_int(im, "Size", 0);
        }
        json_object_set_new(c, "SizeRootFs", json_integer(img + rw));
    }
    return list;
}

static void images_usage(json_t *imgs, const json_t *containers)
{
    size_t i;
    json_t *im;
    json_array_foreach(imgs, i, im)
    {
        json_int_t n = 0;
        size_t k;
        json_t *c;
        json_array_foreach(containers, k, c)
        {
            n += strcmp(jx_str0(c, "ImageID"), jx_str0(im, "Id")) == 0;
        }
        json_object_set_new(im, "Containers", json_integer(n));
        /* Layers are shared between images: what each has to itself is
         * not tracked, so none is counted as shared (Docker's -1 is "not
         * computed"). */
        json_object_set_new(im, "SharedSize", json_integer(0));
    }
}

/* dockerd's LocalVolumesSize: volumes of the local driver without options
 * (a mounted one holds no data of the node's own). */
static json_t *volumes_usage(struct api_host *h)
{
    json_t *out = json_array();
    struct volume *v;
    for (size_t it = 0; h->volumes && volume_next(h->volumes, &it, &v);) {
        struct volume_info vi;
        volume_info(v, &vi);
        if (strcmp(vi.driver, VOLUME_DRIVER_LOCAL) == 0 &&
            !json_object_size(vi.options))
            json_array_append_new(out, volume_json(v, true));
    }
    return out;
}

static void system_df(struct http_request *req, void *data)
{
    struct api_host *h = data;
    struct err err = {0};
    bool want[4];
    if (wanted_types(req, want, &err) < 0) {
        http_reply_err(req, &err);
        return;
    }
    json_t *imgs = image_list(h->images, NULL);
    json_t *containers = containers_usage(h, imgs);
    json_t *out = json_object();
    if (want[1]) {
        _cleanup_free_ char *layers =
            xasprintf("%s/images/layers", h->data_root);
        json_object_set_new(out, "LayersSize", json_integer(fs_du(layers)));
        images_usage(imgs, containers);
        json_object_set_new(out, "Images", imgs);
    } else {
        json_decref(imgs);
    }
    if (want[2])
        json_object_set_new(out, "Volumes", volumes_usage(h));
    if (want[3])
        json_object_set_new(out, "BuildCache", json_array());
    if (want[0])
        json_object_set_new(out, "Containers", containers);
    else
        json_decref(containers);
    api_reply(req, 200, out);
}

static const struct http_route routes[] = {
    {"GET", "/system/df", system_df},
};

void api_system_df_routes(struct http_server *s)
{
    http_server_add_routes(s, routes, ARRAY_SIZE(routes));
}
