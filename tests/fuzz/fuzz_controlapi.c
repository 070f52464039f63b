// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes as a ServiceSpec / NodeSpec request
// body. Validation must never crash, and a spec it accepts must encode,
// apply to a store and render back as API JSON.
#include <stddef.h>
#include <stdint.h>

#include "base/jsonx.h"
#include "base/mem.h"
#include "manager/controlapi.h"
#include "store/store.h"
#include "store/txn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *spec = json_loadb((const char *)data, size, 0, NULL);
    if (!spec)
        return 0;
    json_t *node = jx_copy(spec);
    struct err err = {0};
    controlapi_node_spec(node, &err);
    json_decref(node);
    if (controlapi_service_spec(spec, &err) == 0) {
        struct store *s = store_new();
        struct txn t;
        txn_init(&t);
        char id[ID_LEN + 1];
        id_new(id);
        txn_service_create(&t, id, spec, NULL);
        size_t len;
        char *entry = txn_encode(&t, &len);
        txn_fini(&t);
        if (store_apply(s, 1, entry, len, &err) == 0) {
            json_t *out = service_to_json(store_service(s, id), true);
            json_decref(out);
        }
        free(entry);
        store_free(s);
    }
    json_decref(spec);
    return 0;
}
