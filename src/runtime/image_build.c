// SPDX-License-Identifier: Apache-2.0
// What the Dockerfile builder asks of the image store besides adding
// images: the whole config document of a base image (to derive the next
// step's config from), and id lookups.
#include <string.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "runtime/image_internal.h"

json_t *image_config_doc(struct image_store *s, const char *name, char **id_out,
                         struct err *err)
{
    pthread_mutex_lock(&s->lock);
    struct image_rec *img = image_find_locked(s, name);
    json_t *doc = img ? jx_copy(img->config) : NULL;
    if (img && id_out)
        *id_out = xstrdup(img->id);
    pthread_mutex_unlock(&s->lock);
    if (!doc)
        image_no_such(err, name);
    return doc;
}

bool image_store_has_image(struct image_store *s, const char *id)
{
    pthread_mutex_lock(&s->lock);
    bool has = hmap_get(&s->images, id) != NULL;
    pthread_mutex_unlock(&s->lock);
    return has;
}
