// SPDX-License-Identifier: Apache-2.0
// Kernel parameters as /proc/sys files: no sysctl(8) shell-out, and the
// namespace that is configured is simply the calling thread's.
#include "net/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"

static void sysctl_path(const char *key, char *out, size_t size)
{
    static const char root[] = "/proc/sys/";
    snprintf(out, size, "%s%s", root, key);
    /* Dotted keys map dots to slashes; a key with a slash is a path. */
    if (strchr(key, '/') || strlen(out) < sizeof(root) - 1)
        return;
    for (char *p = out + sizeof(root) - 1; *p; p++)
        if (*p == '.')
            *p = '/';
}

bool sysctl_exists(const char *key)
{
    char path[256];
    sysctl_path(key, path, sizeof(path));
    return access(path, F_OK) == 0;
}

int sysctl_read(const char *key, char *buf, size_t size, struct err *err)
{
    char path[256];
    sysctl_path(key, path, sizeof(path));
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        err_sys(err, e, "read kernel parameter '%s'", key);
        if (e == ENOENT)
            err->code = ERR_NOTFOUND;
        return -1;
    }
    ssize_t n = read(fd, buf, size ? size - 1 : 0);
    if (n < 0)
        return err_sys(err, errno, "read kernel parameter '%s'", key);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

int sysctl_write(const char *key, const char *value, struct err *err)
{
    char cur[256];
    if (sysctl_read(key, cur, sizeof(cur), err) < 0)
        return -1;
    if (strcmp(cur, value) == 0)
        return 0;
    char path[256];
    sysctl_path(key, path, sizeof(path));
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(err, errno, "set kernel parameter '%s'", key);
    size_t len = strlen(value);
    ssize_t n = write(fd, value, len);
    if (n < 0)
        return err_sys(err, errno, "set kernel parameter '%s' to '%s'", key,
                       value);
    if ((size_t)n != len)
        return err_set(err, ERR_INTERNAL,
                       "set kernel parameter '%s' to '%s': short write", key,
                       value);
    return 0;
}
