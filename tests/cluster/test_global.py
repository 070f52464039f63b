# SPDX-License-Identifier: Apache-2.0
"""Global services (issue 9 §5): one task per eligible node, a node that
joins gets one, a drained node loses its own, a constraint narrows the set.
"""

import collections

from cluster import wait_until

SPEC = {"Dispatcher": {"HeartbeatPeriod": 1_000_000_000}}
SERVER = ["httpd", "-f", "-p", "8000", "-h", "/www"]


def per_node(m, service):
    by = collections.Counter()
    for t in m.running_tasks(service):
        if t["DesiredState"] == "running":
            by[t["NodeID"]] += 1
    return by


def test_global_follows_joins_drains_and_constraints(cluster, image_archive):
    c = cluster(4)
    m, w1, w2, late = c
    for n in c:
        n.load_image(image_archive.archive)
    m.swarm_init(spec=SPEC)
    for w in (w1, w2):
        assert w.swarm_join(m).status == 200
    ids = {n.name: n.node_id() for n in (m, w1, w2)}
    m.create_service("g", opts=["--mode", "global"], cmd=SERVER)
    wait_until(lambda: per_node(m, "g") == {i: 1 for i in ids.values()},
               60, "one task on each of the three nodes")
    assert m.replicas("g") == "3/3"
    rows = [r for r in m.service_ls() if r["NAME"] == "g"]
    assert rows[0]["MODE"] == "global", rows

    # A node that joins gets its task.
    assert late.swarm_join(m).status == 200
    ids[late.name] = late.node_id()
    wait_until(lambda: per_node(m, "g") == {i: 1 for i in ids.values()},
               60, "a task on the node that joined")

    # A drained node loses it; back to active, it gets one again.
    m.cli_ok("node", "update", "--availability", "drain", "node2")
    want = {i: 1 for k, i in ids.items() if k != "node2"}
    wait_until(lambda: per_node(m, "g") == want, 60, "node2 drained")
    m.cli_ok("node", "update", "--availability", "active", "node2")
    wait_until(lambda: per_node(m, "g") == {i: 1 for i in ids.values()},
               60, "node2 active again")

    # A constraint: only the workers.
    m.create_service("gw", cmd=SERVER, opts=[
        "--mode", "global", "--constraint", "node.role==worker"])
    workers = {ids[k]: 1 for k in ("node2", "node3", "node4")}
    wait_until(lambda: per_node(m, "gw") == workers, 60,
               "one task on each worker only")
