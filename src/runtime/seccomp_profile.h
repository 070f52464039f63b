// SPDX-License-Identifier: Apache-2.0
// Seccomp profiles for containers: Docker's default profile (our own table of
// the allowed system calls, with its capability-, argument- and
// architecture-dependent rules) and a loader for user profiles in Docker's
// JSON format, both turned into the OCI runtime spec's `linux.seccomp`.
// Pure: no I/O, so every rule is unit-tested without root.
#pragma once

#include <jansson.h>

#include "base/err.h"

/* The OCI `linux.seccomp` object of Docker's default profile for a
 * container whose bounding set is caps (a JSON array of "CAP_X"; may be
 * NULL = none): default action ERRNO(EPERM), the allow list, the rules
 * that depend on capabilities (mount, unshare, ptrace, ...), personality
 * only with the safe arguments, clone without namespace flags unless
 * CAP_SYS_ADMIN, clone3 answering ENOSYS (so libc falls back to clone).
 * For the native architecture and its 32-bit companions. Owned. */
json_t *seccomp_default_profile(const json_t *caps);

/* Parses a profile in Docker's format (the content of a
 * `--security-opt seccomp=FILE`): defaultAction, defaultErrnoRet,
 * architectures or archMap, syscalls with name / names, action, errnoRet,
 * args and includes / excludes (caps, arches, minKernel), and returns the
 * OCI `linux.seccomp` object for a container with the given capabilities.
 * 400 with Docker's words on bad input ("decoding seccomp profile failed:
 * ..."). Owned, NULL on error. */
json_t *seccomp_profile_load(const char *text, const json_t *caps,
                             struct err *err);

/* The seccomp object of a container: Privileges.Seccomp of a swarm
 * ContainerSpec ({"Mode": "default" | "unconfined" | "custom", "Profile":
 * base64 of the JSON file}; NULL = default) for the given capabilities.
 * *out is NULL when unconfined. 400 on an unknown mode or a bad profile. */
int seccomp_for_spec(const json_t *seccomp_opts, const json_t *caps,
                     json_t **out, struct err *err);
