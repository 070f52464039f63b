// SPDX-License-Identifier: Apache-2.0
// Docker's wording of the swarm's shared refusals (see swarm_errors.h).
#include "daemon/swarm_errors.h"

int swarm_err_no_leader(struct err *err)
{
    return err_set(err, ERR_UNAVAILABLE,
                   "rpc error: code = Unknown desc = The swarm does not have "
                   "a leader. It's possible that too few managers are "
                   "online. Make sure more than half of the managers are "
                   "online.");
}

int swarm_err_not_leader(struct err *err)
{
    return err_set(err, ERR_UNAVAILABLE,
                   "rpc error: code = Unavailable desc = this node is not the "
                   "swarm leader");
}

int swarm_err_locked(struct err *err)
{
    return err_set(err, ERR_UNAVAILABLE,
                   "Swarm is encrypted and needs to be unlocked before "
                   "it can be used. Please use \"docker swarm unlock\" "
                   "to unlock it.");
}
