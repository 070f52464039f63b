// SPDX-License-Identifier: Apache-2.0
// Docker's default seccomp profile as our own table, and the conversion of a
// profile in Docker's JSON format (the table's, or a user's file) into the
// OCI runtime spec's `linux.seccomp` for one container: rules are kept or
// dropped by the container's capabilities and the node's architecture, so
// e.g. `unshare` is allowed only with CAP_SYS_ADMIN, as under dockerd.
#include "runtime/seccomp_profile.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "base/b64.h"
#include "base/jsonx.h"
#include "base/mem.h"

#if defined(__x86_64__)
#define NATIVE_ARCH "SCMP_ARCH_X86_64"
static const char *const SUB_ARCHES[] = {"SCMP_ARCH_X86", "SCMP_ARCH_X32",
                                         NULL};
#elif defined(__aarch64__)
#define NATIVE_ARCH "SCMP_ARCH_AARCH64"
static const char *const SUB_ARCHES[] = {"SCMP_ARCH_ARM", NULL};
#else
#define NATIVE_ARCH "SCMP_ARCH_NATIVE"
static const char *const SUB_ARCHES[] = {NULL};
#endif

/* ---- the default profile ---- */

/* Allowed for every container: what ordinary programs use, nothing that
 * reaches across the container's boundary (namespaces, mounts, modules,
 * keyrings, clocks, the kernel's own logs). */
// clang-format off
static const char *const ALLOWED[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk",
    "cachestat", "capget", "capset", "chdir", "chmod", "chown", "chown32",
    "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
    "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect",
    "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2",
    "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir",
    "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock",
    "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64",
    "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
    "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake",
    "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
    "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
    "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
    "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
    "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage",
    "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
    "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
    "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
    "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill",
    "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
    "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listxattr",
    "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
    "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create",
    "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
    "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
    "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl",
    "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open",
    "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe",
    "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll",
    "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv",
    "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
    "removexattr", "rename", "renameat", "renameat2", "restart_syscall",
    "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
    "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
    "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid",
    "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
    "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
    "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32",
    "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
    "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32",
    "setxattr", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
    "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
    "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
    "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
    "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
    "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
    "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes",
    "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev", NULL};
// clang-format on

/* Allowed only with a capability (the kernel would check it too; the
 * filter keeps the attack surface of the unprivileged case small). */
static const struct {
    const char *cap;
    const char *const names[24];
} BY_CAP[] = {
    {"CAP_DAC_READ_SEARCH", {"open_by_handle_at", NULL}},
    {"CAP_SYS_ADMIN", {"bpf",           "clone",           "clone3",
                       "fanotify_init", "fsconfig",        "fsmount",
                       "fsopen",        "fspick",          "lookup_dcookie",
                       "mount",         "mount_setattr",   "move_mount",
                       "open_tree",     "perf_event_open", "quotactl",
                       "quotactl_fd",   "setdomainname",   "sethostname",
                       "setns",         "syslog",          "umount",
                       "umount2",       "unshare",         NULL}},
    {"CAP_SYS_BOOT", {"reboot", NULL}},
    {"CAP_SYS_CHROOT", {"chroot", NULL}},
    {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module", NULL}},
    {"CAP_SYS_PACCT", {"acct", NULL}},
    {"CAP_SYS_PTRACE",
     {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
      "process_vm_writev", "ptrace", NULL}},
    {"CAP_SYS_RAWIO", {"iopl", "ioperm", NULL}},
    {"CAP_SYS_TIME",
     {"settimeofday", "stime", "clock_settime", "clock_settime64", NULL}},
    {"CAP_SYS_TTY_CONFIG", {"vhangup", NULL}},
    {"CAP_SYS_NICE",
     {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node",
      NULL}},
    {"CAP_SYSLOG", {"syslog", NULL}},
    {"CAP_BPF", {"bpf", NULL}},
    {"CAP_PERFMON", {"perf_event_open", NULL}},
};

/* Namespace flags of clone(2): CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC |
 * NEWUSER | NEWPID | NEWNET. */
#define CLONE_NS_FLAGS 0x7E020000ULL
/* personality(2) values that only select an execution domain Linux always
 * offers (PER_LINUX, PER_LINUX32, UNAME26 variants, and the query). */
static const unsigned long long PERSONALITIES[] = {0x0, 0x8, 0x20000, 0x20008,
                                                   0xffffffff};

static json_t *names_json(const char *const *names)
{
    json_t *a = json_array();
    for (; *names; names++)
        json_array_append_new(a, json_string(*names));
    return a;
}

static json_t *rule(json_t *names, const char *action)
{
    json_t *r = json_object();
    json_object_set_new(r, "names", names);
    json_object_set_new(r, "action", json_string(action));
    return r;
}

static json_t *arg(unsigned index, unsigned long long value,
                   unsigned long long value2, const char *op)
{
    return json_pack("{s:I, s:I, s:I, s:s}", "index", (json_int_t)index,
                     "value", (json_int_t)value, "valueTwo", (json_int_t)value2,
                     "op", op);
}

static json_t *one_name(const char *name)
{
    json_t *a = json_array();
    json_array_append_new(a, json_string(name));
    return a;
}

/* Docker's default profile in Docker's own format; converted per container
 * like any user profile. */
static json_t *default_profile_doc(void)
{
    json_t *sys = json_array();
    json_array_append_new(sys, rule(names_json(ALLOWED), "SCMP_ACT_ALLOW"));

    /* socket(2) of every family but AF_VSOCK (40), which reaches the
     * host's hypervisor. */
    json_t *r = rule(one_name("socket"), "SCMP_ACT_ALLOW");
    json_object_set_new(r, "args",
                        json_pack("[o]", arg(0, 40, 0, "SCMP_CMP_NE")));
    json_array_append_new(sys, r);

    for (size_t i = 0; i < ARRAY_SIZE(PERSONALITIES); i++) {
        r = rule(one_name("personality"), "SCMP_ACT_ALLOW");
        json_object_set_new(
            r, "args",
            json_pack("[o]", arg(0, PERSONALITIES[i], 0, "SCMP_CMP_EQ")));
        json_array_append_new(sys, r);
    }

    /* x86's own: thread-local storage and LDT setup. */
    r = rule(json_pack("[s, s]", "arch_prctl", "modify_ldt"), "SCMP_ACT_ALLOW");
    json_object_set_new(
        r, "includes",
        json_pack("{s:[s, s, s]}", "arches", "amd64", "x32", "x86"));
    json_array_append_new(sys, r);

    for (size_t i = 0; i < ARRAY_SIZE(BY_CAP); i++) {
        r = rule(names_json(BY_CAP[i].names), "SCMP_ACT_ALLOW");
        json_object_set_new(r, "includes",
                            json_pack("{s:[s]}", "caps", BY_CAP[i].cap));
        json_array_append_new(sys, r);
    }

    /* Without CAP_SYS_ADMIN, clone only without namespace flags, and
     * clone3 (whose flags a filter cannot see) answers ENOSYS so that libc
     * falls back to clone. */
    r = rule(one_name("clone"), "SCMP_ACT_ALLOW");
    json_object_set_new(
        r, "args",
        json_pack("[o]", arg(0, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ")));
    json_object_set_new(r, "excludes",
                        json_pack("{s:[s]}", "caps", "CAP_SYS_ADMIN"));
    json_array_append_new(sys, r);
    r = rule(one_name("clone3"), "SCMP_ACT_ERRNO");
    json_object_set_new(r, "errnoRet", json_integer(ENOSYS));
    json_object_set_new(r, "excludes",
                        json_pack("{s:[s]}", "caps", "CAP_SYS_ADMIN"));
    json_array_append_new(sys, r);

    json_t *doc = json_object();
    json_object_set_new(doc, "defaultAction", json_string("SCMP_ACT_ERRNO"));
    json_object_set_new(doc, "defaultErrnoRet", json_integer(EPERM));
    json_t *map = json_object();
    json_object_set_new(map, "architecture", json_string(NATIVE_ARCH));
    json_object_set_new(map, "subArchitectures", names_json(SUB_ARCHES));
    json_object_set_new(doc, "archMap", json_pack("[o]", map));
    json_object_set_new(doc, "syscalls", sys);
    return doc;
}

/* ---- conversion ---- */

static const char *const ACTIONS[] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          NULL};
static const char *const OPS[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL};

static bool in_list(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static bool json_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

static int bad(struct err *err, const char *what)
{
    return err_set(err, ERR_INVALID, "decoding seccomp profile failed: %s",
                   what);
}

/* Docker's profiles name architectures either as libseccomp does
 * ("SCMP_ARCH_X86_64") or as Go does ("amd64") in includes/excludes. */
static bool arch_is_native(const char *a)
{
    static const char *const native_go[] = {
#if defined(__x86_64__)
        "amd64",
        "x86_64",
#elif defined(__aarch64__)
        "arm64",
        "aarch64",
#endif
        NULL
    };
    return strcmp(a, NATIVE_ARCH) == 0 || in_list(a, native_go);
}

static int check_strings(const json_t *a, const char *field, struct err *err)
{
    if (!a)
        return 0;
    size_t i;
    json_t *v;
    if (!json_is_array(a))
        goto fail;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            goto fail;
    }
    return 0;
fail:;
    char msg[96];
    snprintf(msg, sizeof(msg), "%s must be an array of strings", field);
    return bad(err, msg);
}

/* Does a filter's includes (want = true) or excludes (want = false) block
 * let this rule apply to the container? */
static int filter_applies(const json_t *f, bool include, const json_t *caps,
                          bool *applies, struct err *err)
{
    *applies = true;
    if (!f)
        return 0;
    if (!json_is_object(f))
        return bad(err, "includes and excludes must be objects");
    const json_t *fc = json_object_get(f, "caps");
    const json_t *fa = json_object_get(f, "arches");
    if (check_strings(fc, "caps", err) < 0 ||
        check_strings(fa, "arches", err) < 0)
        return -1;
    const json_t *mk = json_object_get(f, "minKernel");
    if (mk && !json_is_string(mk))
        return bad(err, "minKernel must be a string");
    size_t i;
    json_t *v;
    if (include) {
        /* Every capability present, the architecture among those listed.
         * minKernel: every kernel that runs shoal is recent enough. */
        json_array_foreach(fc, i, v)
        {
            if (!json_has(caps, json_string_value(v)))
                *applies = false;
        }
        if (json_array_size(fa)) {
            bool any = false;
            json_array_foreach(fa, i, v)
            {
                any = any || arch_is_native(json_string_value(v));
            }
            *applies = *applies && any;
        }
        return 0;
    }
    json_array_foreach(fc, i, v)
    {
        if (json_has(caps, json_string_value(v)))
            *applies = false;
    }
    json_array_foreach(fa, i, v)
    {
        if (arch_is_native(json_string_value(v)))
            *applies = false;
    }
    return 0;
}

static int convert_args(const json_t *args, json_t **out, struct err *err)
{
    *out = NULL;
    if (!args || json_is_null(args) ||
        (json_is_array(args) && !json_array_size(args)))
        return 0;
    if (!json_is_array(args))
        return bad(err, "args must be an array");
    json_t *o = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a)
    {
        json_t *idx = json_object_get(a, "index");
        json_t *val = json_object_get(a, "value");
        json_t *val2 = json_object_get(a, "valueTwo");
        const char *op = jx_str(a, "op");
        if (!json_is_object(a) || !json_is_integer(idx) ||
            json_integer_value(idx) < 0 || json_integer_value(idx) > 5 ||
            (val && !json_is_integer(val)) ||
            (val2 && !json_is_integer(val2))) {
            json_decref(o);
            return bad(err, "each arg needs an index from 0 to 5 and "
                            "integer values");
        }
        if (!in_list(op, OPS)) {
            json_decref(o);
            char msg[128];
            snprintf(msg, sizeof(msg), "unknown comparison operator \"%.64s\"",
                     op ? op : "");
            return bad(err, msg);
        }
        json_array_append_new(
            o, json_pack("{s:O, s:I, s:I, s:s}", "index", idx, "value",
                         val ? json_integer_value(val) : 0, "valueTwo",
                         val2 ? json_integer_value(val2) : 0, "op", op));
    }
    *out = o;
    return 0;
}

static int check_action(const char *action, const json_t *errno_ret,
                        struct err *err)
{
    if (!in_list(action, ACTIONS)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "unknown action \"%.64s\"",
                 action ? action : "");
        return bad(err, msg);
    }
    if (errno_ret &&
        (!json_is_integer(errno_ret) || json_integer_value(errno_ret) < 0 ||
         json_integer_value(errno_ret) > 4095))
        return bad(err, "errnoRet must be an errno number");
    return 0;
}

static int convert_syscall(const json_t *s, const json_t *caps, json_t *out,
                           struct err *err)
{
    if (!json_is_object(s))
        return bad(err, "syscalls must be objects");
    const json_t *name = json_object_get(s, "name");
    const json_t *names = json_object_get(s, "names");
    if (name && names)
        return bad(err, "'name' and 'names' were specified in the seccomp "
                        "profile, use either 'name' or 'names'");
    if (name && (!json_is_string(name) || !*json_string_value(name)))
        return bad(err, "name must be a string");
    if (check_strings(names, "names", err) < 0)
        return -1;
    if (!name && !json_array_size(names))
        return bad(err, "a syscall rule needs 'name' or 'names'");
    const char *action = jx_str(s, "action");
    const json_t *errno_ret = json_object_get(s, "errnoRet");
    if (check_action(action, errno_ret, err) < 0)
        return -1;
    bool inc, exc;
    if (filter_applies(json_object_get(s, "includes"), true, caps, &inc, err) <
            0 ||
        filter_applies(json_object_get(s, "excludes"), false, caps, &exc, err) <
            0)
        return -1;
    json_t *args;
    if (convert_args(json_object_get(s, "args"), &args, err) < 0)
        return -1;
    if (!inc || !exc) {
        json_decref(args);
        return 0;
    }
    json_t *r = json_object();
    json_object_set_new(r, "names",
                        name ? one_name(json_string_value(name))
                             : json_deep_copy(names));
    json_object_set_new(r, "action", json_string(action));
    if (errno_ret)
        json_object_set(r, "errnoRet", (json_t *)errno_ret);
    if (args)
        json_object_set_new(r, "args", args);
    json_array_append_new(out, r);
    return 0;
}

static json_t *convert_arches(const json_t *doc, struct err *err)
{
    const json_t *arches = json_object_get(doc, "architectures");
    const json_t *map = json_object_get(doc, "archMap");
    if (json_array_size(arches) && json_array_size(map)) {
        bad(err, "'architectures' and 'archMap' were specified in the "
                 "seccomp profile, use either 'architectures' or 'archMap'");
        return NULL;
    }
    if (check_strings(arches, "architectures", err) < 0)
        return NULL;
    if (map && !json_is_array(map)) {
        bad(err, "archMap must be an array");
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(arches, i, v)
    {
        json_array_append(out, v);
    }
    json_array_foreach(map, i, v)
    {
        const char *a = jx_str(v, "architecture");
        const json_t *subs = json_object_get(v, "subArchitectures");
        if (!a || check_strings(subs, "subArchitectures", err) < 0) {
            if (!a)
                bad(err, "archMap entries need an architecture");
            json_decref(out);
            return NULL;
        }
        /* Only the entry of the node's own architecture counts. */
        if (!arch_is_native(a))
            continue;
        json_array_append_new(out, json_string(a));
        size_t k;
        json_t *sub;
        json_array_foreach(subs, k, sub)
        {
            json_array_append(out, sub);
        }
    }
    return out;
}

static json_t *convert(const json_t *doc, const json_t *caps, struct err *err)
{
    if (!json_is_object(doc)) {
        bad(err, "the profile must be a JSON object");
        return NULL;
    }
    const char *def = jx_str(doc, "defaultAction");
    const json_t *def_errno = json_object_get(doc, "defaultErrnoRet");
    if (!def || !*def) {
        bad(err, "defaultAction is missing");
        return NULL;
    }
    if (check_action(def, def_errno, err) < 0)
        return NULL;
    const json_t *syscalls = json_object_get(doc, "syscalls");
    if (syscalls && !json_is_array(syscalls) && !json_is_null(syscalls)) {
        bad(err, "syscalls must be an array");
        return NULL;
    }
    json_t *arches = convert_arches(doc, err);
    if (!arches)
        return NULL;
    json_t *sys = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(syscalls, i, s)
    {
        if (convert_syscall(s, caps, sys, err) < 0) {
            json_decref(arches);
            json_decref(sys);
            return NULL;
        }
    }
    json_t *out = json_object();
    json_object_set_new(out, "defaultAction", json_string(def));
    if (def_errno)
        json_object_set(out, "defaultErrnoRet", (json_t *)def_errno);
    json_object_set_new(out, "architectures", arches);
    json_object_set_new(out, "syscalls", sys);
    return out;
}

json_t *seccomp_default_profile(const json_t *caps)
{
    _cleanup_json_ json_t *doc = default_profile_doc();
    struct err err = {0};
    json_t *out = convert(doc, caps, &err);
    /* Our own table always converts. */
    assert(out);
    return out;
}

json_t *seccomp_profile_load(const char *text, const json_t *caps,
                             struct err *err)
{
    json_error_t je;
    _cleanup_json_ json_t *doc =
        json_loads(text ? text : "", JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        bad(err, je.text);
        return NULL;
    }
    return convert(doc, caps, err);
}

int seccomp_for_spec(const json_t *opts, const json_t *caps, json_t **out,
                     struct err *err)
{
    *out = NULL;
    const char *mode = jx_str(opts, "Mode");
    if (!mode || !*mode || strcmp(mode, "default") == 0) {
        *out = seccomp_default_profile(caps);
        return 0;
    }
    if (strcmp(mode, "unconfined") == 0)
        return 0;
    if (strcmp(mode, "custom") != 0)
        return err_set(err, ERR_INVALID,
                       "invalid seccomp mode \"%s\": must be \"default\", "
                       "\"unconfined\" or \"custom\"",
                       mode);
    const char *b64 = jx_str(opts, "Profile");
    if (!b64 || !*b64)
        return err_set(err, ERR_INVALID,
                       "seccomp mode \"custom\" needs a profile");
    size_t len = 0;
    _cleanup_free_ char *text = b64_decode(b64, &len);
    if (!text || strlen(text) != len)
        return err_set(err, ERR_INVALID,
                       "decoding seccomp profile failed: the profile is not "
                       "valid base64 text");
    *out = seccomp_profile_load(text, caps, err);
    return *out ? 0 : -1;
}
