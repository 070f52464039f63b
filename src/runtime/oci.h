// SPDX-License-Identifier: Apache-2.0
// The OCI runtime spec (bundle config.json) of a container, built from the
// image config, the swarm ContainerSpec and its resources with Docker's
// merging rules (entrypoint/cmd, env, user, capabilities, default mounts,
// masked paths, device allow-list). Pure: no I/O besides stat() of bind
// sources, so every rule is unit-tested without root.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define OCI_DEFAULT_PATH                                                       \
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define OCI_NOFILE_DEFAULT 1048576

/* ---- mounts ---- */

enum oci_mount_type { OCI_MOUNT_BIND, OCI_MOUNT_VOLUME, OCI_MOUNT_TMPFS };

/* One entry of ContainerSpec.Mounts, validated. Strings owned. */
struct oci_mount {
    enum oci_mount_type type;
    char *source; /* bind: host path; volume: name, "" = anonymous;
                     tmpfs: NULL */
    char *target; /* cleaned absolute path in the container */
    bool readonly;
    char *propagation;   /* bind: "rprivate" unless given; else NULL */
    bool nonrecursive;   /* bind: plain "bind" instead of "rbind" */
    bool nocopy;         /* volume: do not copy image content in */
    int64_t tmpfs_size;  /* bytes, 0 = default */
    uint32_t tmpfs_mode; /* 0 = default (1777) */
    char *host_path;     /* what gets mounted: set by the caller for volumes
                            (volumes_root/NAME/_data); bind = source */
    const json_t *volume_options; /* volume: VolumeOptions as given (Labels,
                                     DriverConfig), borrowed from the spec;
                                     NULL if none */
};

struct oci_mounts {
    struct oci_mount *v;
    size_t n;
};

/* Parses and validates ContainerSpec.Mounts (NULL or an array) with
 * Docker's messages (400), e.g. `invalid mount config for type "bind":
 * field Source must not be empty`. Does not touch the filesystem. */
int oci_mounts_parse(const json_t *mounts, struct oci_mounts *out,
                     struct err *err);
/* Checks that bind sources exist (stat): 400 `invalid mount config for
 * type "bind": bind source path does not exist: /x`. */
int oci_mounts_check_sources(const struct oci_mounts *m, struct err *err);
void oci_mounts_fini(struct oci_mounts *m);

/* ---- process ---- */

/* Docker's merged Entrypoint and Cmd, each owned and NULL when empty:
 * Command replaces the image Entrypoint, Args replaces the image Cmd, and
 * a Command without Args drops the image Cmd. */
void oci_merge_command(const json_t *image_config, const json_t *spec,
                       json_t **entrypoint, json_t **cmd);

/* The process argv (owned JSON array of strings): Command replaces the
 * image Entrypoint, Args replaces the image Cmd, and a Command without
 * Args drops the image Cmd. 400 "no command specified" if empty. */
json_t *oci_process_args(const json_t *image_config, const json_t *spec,
                         struct err *err);

/* The environment (owned JSON array): default PATH, HOSTNAME, the spec Env,
 * then image Env entries whose key the spec does not set; an image or spec
 * entry replaces an earlier one with the same key in place; a spec entry
 * without '=' removes the key. */
json_t *oci_process_env(const json_t *image_config, const json_t *spec,
                        const char *hostname);

struct oci_user {
    uint32_t uid;
    uint32_t gid;
    uint32_t gids[64]; /* additional gids (the primary one first) */
    size_t n_gids;
};

/* Resolves "", "uid", "uid:gid", "name", "name:group" (any mix) against
 * the container's /etc/passwd and /etc/group contents (NULL if absent),
 * like runc's GetExecUser: a numeric user need not exist; supplementary
 * groups of a named user come from /etc/group membership unless a group
 * is given; groups (ContainerSpec.Groups, may be NULL) are added. 400 with
 * a clear message for an unknown user or group. */
int oci_user_resolve(const char *user, const json_t *groups, const char *passwd,
                     const char *group, struct oci_user *out, struct err *err);

/* Docker's default set adjusted by CapabilityAdd / CapabilityDrop ("ALL",
 * names with or without "CAP_", any case). Owned JSON array of "CAP_X";
 * 400 `unknown capability: "CAP_FOO"`. */
json_t *oci_capabilities(const json_t *add, const json_t *drop,
                         struct err *err);

/* "SIGTERM", "TERM", "15" -> signal number; -1 if not a signal. */
int oci_signal_parse(const char *s);
/* The stop signal: ContainerSpec.StopSignal, else the image's, else
 * SIGTERM; 400 if set to something that is not a signal. */
int oci_stop_signal(const json_t *image_config, const json_t *spec,
                    struct err *err);

/* ---- the whole spec ---- */

struct oci_input {
    const json_t *image_config; /* image config "config" object, may be NULL */
    const json_t *spec;         /* ContainerSpec, may be NULL */
    const json_t *resources;    /* ResourceRequirements, may be NULL */
    const char *hostname;
    const char *rootfs;        /* absolute path of the merged rootfs */
    const char *netns;         /* netns path to join; NULL = a new one */
    const char *cgroups_path;  /* "/<parent>/<id>" */
    const char *hostname_path; /* files bound onto /etc/... */
    const char *hosts_path;
    const char *resolv_path;
    const char *passwd;              /* rootfs /etc/passwd content, or NULL */
    const char *group;               /* rootfs /etc/group content, or NULL */
    const struct oci_mounts *mounts; /* parsed, host_path set; may be NULL */
    bool cgroup2;                    /* unified hierarchy: add a cgroup ns */
    int64_t nofile;        /* default RLIMIT_NOFILE, 0 = OCI_NOFILE_DEFAULT */
    const char *init_path; /* host path of the init for ContainerSpec.Init
                              (bound at OCI_INIT_PATH), NULL = none here */
};

/* Where --init's binary appears in the container, as with dockerd. */
#define OCI_INIT_PATH "/sbin/docker-init"

/* Builds config.json (owned). 400 on invalid input (bad working dir,
 * user, capability, resource values, sysctl, ulimit, seccomp profile,
 * Init without an init binary...). Privileges.Seccomp selects Docker's
 * default profile (none given), none ("unconfined") or a custom one;
 * Privileges.NoNewPrivileges sets process.noNewPrivileges (off by
 * default, as in Docker). */
json_t *oci_spec_build(const struct oci_input *in, struct err *err);
