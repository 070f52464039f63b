// SPDX-License-Identifier: Apache-2.0
// shoal's --security-opt and --no-new-privileges for services: seccomp
// (default, unconfined or a profile file, checked here and sent as the API's
// Privileges.Seccomp) and no-new-privileges (Privileges.NoNewPrivileges).
#pragma once

#include <jansson.h>

#include "base/err.h"
#include "cli/flags.h"

/* Applies --security-opt (list) and --no-new-privileges of fl to the
 * ContainerSpec cs when either was given. 400 with Docker's words:
 * `invalid --security-opt: "foo"`, `opening seccomp profile (x) failed:
 * ...`, or the profile's own decoding error. */
int cli_security_opts(const struct cli_flags *fl, json_t *cs, struct err *err);
