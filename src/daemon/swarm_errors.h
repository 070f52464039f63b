// SPDX-License-Identifier: Apache-2.0
// Docker's answers for the refusals that several of the swarm's files
// share (no leader, not the leader, locked), so each is worded once. The
// bottom of the daemon's layers: it calls nothing of theirs.
#pragma once

#include "base/err.h"

/* No leader can be reached (503); returns -1. */
int swarm_err_no_leader(struct err *err);
/* A call only the leader serves reached another manager (503); returns
 * -1. */
int swarm_err_not_leader(struct err *err);
/* An autolocked manager's secrets are still sealed (503); returns -1. */
int swarm_err_locked(struct err *err);
