// SPDX-License-Identifier: Apache-2.0
// cgroup paths and facts for the runtime layer: whether the host is on the
// unified hierarchy, where runc put a container's cgroup under our parent,
// OOM-kill counters for the shim, and removal of the node's parent cgroup.
#include "runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/mem.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

bool cgroup_is_unified(void)
{
    struct statfs fs;
    return statfs(CGROUP_ROOT, &fs) == 0 &&
           (unsigned long)fs.f_type == CGROUP2_SUPER_MAGIC;
}

char *cgroup_path(const char *parent, const char *id)
{
    return xasprintf("/%s/%s", parent, id);
}

char *cgroup_dir(const char *controller, const char *parent, const char *id)
{
    if (cgroup_is_unified())
        return xasprintf(CGROUP_ROOT "/%s/%s", parent, id);
    return xasprintf(CGROUP_ROOT "/%s/%s/%s", controller, parent, id);
}

char *cgroup_oom_file(const char *parent, const char *id)
{
    if (cgroup_is_unified())
        return xasprintf(CGROUP_ROOT "/%s/%s/memory.events", parent, id);
    return xasprintf(CGROUP_ROOT "/memory/%s/%s/memory.oom_control", parent,
                     id);
}

long cgroup_oom_kills(const char *oom_file)
{
    _cleanup_fclose_ FILE *f = fopen(oom_file, "re");
    if (!f)
        return -1;
    char key[64];
    long val;
    while (fscanf(f, "%63s %ld", key, &val) == 2)
        if (strcmp(key, "oom_kill") == 0)
            return val;
    return -1;
}

static int remove_one(const char *dir, struct err *err)
{
    if (rmdir(dir) == 0 || errno == ENOENT)
        return 0;
    if (errno == EBUSY || errno == ENOTEMPTY)
        return err_set(err, ERR_CONFLICT, "remove cgroup '%s': still in use",
                       dir);
    return err_sys(err, errno, "remove cgroup '%s'", dir);
}

int cgroup_parent_remove(const char *parent, struct err *err)
{
    if (!parent || !*parent || strchr(parent, '/') ||
        strcmp(parent, "..") == 0 || strcmp(parent, ".") == 0)
        return err_set(err, ERR_INVALID, "invalid cgroup parent \"%s\"",
                       parent ? parent : "");
    if (cgroup_is_unified()) {
        _cleanup_free_ char *dir = xasprintf(CGROUP_ROOT "/%s", parent);
        return remove_one(dir, err);
    }
    DIR *d = opendir(CGROUP_ROOT);
    if (!d)
        return err_sys(err, errno, "open " CGROUP_ROOT);
    int r = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *dir =
            xasprintf(CGROUP_ROOT "/%s/%s", e->d_name, parent);
        struct stat st;
        if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (remove_one(dir, err) < 0)
            r = -1;
    }
    closedir(d);
    return r;
}
