// SPDX-License-Identifier: Apache-2.0
// The pure rules of local volumes, as dockerd's local driver and volume
// service apply them: names, the driver options (type / device / o / size)
// and how "o" splits into mount(2) flags and data, the list and prune
// filters, and the Docker API's Volume object. No I/O, so every rule is
// unit-tested without root.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* The only driver there is, and the label dockerd puts on volumes created
 * without a name (prune spares the others unless asked for all). */
#define VOLUME_DRIVER_LOCAL    "local"
#define VOLUME_ANONYMOUS_LABEL "com.docker.volume.anonymous"

/* Is name a valid local volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)? */
bool volume_name_is_valid(const char *name);
/* The same with dockerd's message (400), e.g. `"a/b" includes invalid
 * characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are
 * allowed. If you intended to pass a host directory, use absolute path`.
 * Callers add the operation ("create NAME: "). */
int volume_name_check(const char *name, struct err *err);

/* Checks DriverOpts of the local driver (NULL or an object of strings):
 * only type, device, o and size; type and device need each other, o needs
 * both; size needs quota support, which shoal has none of; a bind (o
 * holding "bind") needs an absolute device. 400 with dockerd's words
 * (`invalid option: "foo"`, `missing required option: "device"`). */
int volume_opts_check(const json_t *opts, struct err *err);
/* Whether the options make the volume a mount (type or device given):
 * such a volume is mounted at its data directory while in use. */
bool volume_opts_need_mount(const json_t *opts);

/* mount(2) arguments for a volume with options. Strings owned. */
struct volume_mount_spec {
    char *device;              /* source; "" for none */
    char *fstype;              /* "tmpfs", "none" for a bind... */
    unsigned long flags;       /* MS_* but propagation */
    unsigned long propagation; /* MS_SHARED / MS_PRIVATE ... (| MS_REC) */
    char *data;                /* what the filesystem parses, "" if none */
};
/* Splits the options as moby's mount.Mount does: each comma-separated
 * word of "o" that names a flag (ro, nosuid, bind, rbind, noexec, private
 * ...) sets or clears it, the rest is data. Options must have passed
 * volume_opts_check. */
void volume_mount_spec_init(struct volume_mount_spec *m, const json_t *opts);
void volume_mount_spec_fini(struct volume_mount_spec *m);

/* A mount's VolumeOptions.Subpath: relative, no ".." component (Go's
 * filepath.IsLocal). 400 "subpath must be a relative path within the
 * volume". */
int volume_subpath_check(const char *sub, struct err *err);

/* ---- filters ---- */

/* What the filters look at. Borrowed. */
struct volume_info {
    const char *name;
    const char *driver;
    const json_t *labels;  /* object or NULL */
    const json_t *options; /* object or NULL */
    size_t refs;           /* containers using it */
};

/* Checks GET /volumes filters (as parsed by http_query_filters: {"key":
 * ["v", ...]}): keys dangling, name, driver, label; dangling one boolean
 * ("true"/"1"/"false"/"0"). 400 "invalid filter 'x'" /
 * "invalid filter 'dangling=x'". */
int volume_list_filters_check(const json_t *filters, struct err *err);
/* Does v pass checked list filters? name matches as a regular expression
 * (so a plain word matches any part), driver exactly, label "k" / "k=v"
 * all of them, dangling by refs. */
bool volume_list_match(const json_t *filters, const struct volume_info *v);

/* Checks POST /volumes/prune filters: label, label!, all (one boolean).
 * *all says whether named volumes are candidates too; all_default is what
 * an absent "all" means (true for requests older than API 1.42). */
int volume_prune_filters_check(const json_t *filters, bool all_default,
                               bool *all, struct err *err);
/* Would prune remove v? Only unused volumes of the local driver without
 * options (they hold no data of their own), anonymous ones unless all,
 * matching every label and not all of the label! entries. */
bool volume_prune_match(const json_t *filters, bool all,
                        const struct volume_info *v);

/* ---- the API's Volume object ---- */

/* {"CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options",
 * "Scope": "local"} in Go's field order; labels / options NULL are JSON
 * null as dockerd shows them for volumes made by a mount. usage_size < 0
 * leaves UsageData out; otherwise {"Size", "RefCount"}. Owned. */
json_t *volume_info_json(const struct volume_info *v, const char *mountpoint,
                         int64_t created_ns, int64_t usage_size);
