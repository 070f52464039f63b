// SPDX-License-Identifier: Apache-2.0
// What the runtime layer needs to know about cgroups: which hierarchy the
// host uses, where a container's cgroup lives under the node's cgroup
// parent, its OOM-kill count, and removing the parent when a node goes.
// runc creates and deletes the container cgroups themselves.
#pragma once

#include <stdbool.h>

#include "base/err.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* True when /sys/fs/cgroup is the cgroup v2 unified hierarchy. */
bool cgroup_is_unified(void);

/* The runtime spec's cgroupsPath: "/<parent>/<id>". Owned. */
char *cgroup_path(const char *parent, const char *id);

/* Directory of a container's cgroup: v1 "/sys/fs/cgroup/<controller>/
 * <parent>/<id>", v2 "/sys/fs/cgroup/<parent>/<id>" (controller ignored).
 * Owned. */
char *cgroup_dir(const char *controller, const char *parent, const char *id);

/* The file holding the container's "oom_kill N" counter (v1
 * memory.oom_control, v2 memory.events). Owned. */
char *cgroup_oom_file(const char *parent, const char *id);

/* Reads the oom_kill counter from such a file; -1 if unknown. */
long cgroup_oom_kills(const char *oom_file);

/* Removes the (empty) parent cgroup in every hierarchy; fine if missing.
 * 409 if some container cgroup is still in it. */
int cgroup_parent_remove(const char *parent, struct err *err);
