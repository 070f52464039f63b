# SPDX-License-Identifier: Apache-2.0
"""Issue 12: a node that has just joined gets a full heartbeat period (and
its grace) from the moment the leader first knows it, so a manager still
catching up with the log, or a worker joining while the leader is busy
placing tasks, is not declared down and its tasks are not moved."""

import collections

from cluster import hold_for, wait_until

HEARTBEAT_NS = 1_000_000_000  # 1 s: down after 3 missed periods
SPEC = {"Dispatcher": {"HeartbeatPeriod": HEARTBEAT_NS}}
SERVER = ["httpd", "-f", "-p", "8000", "-h", "/www"]


def states(m):
    return {r["Description"]["Hostname"]: r["Status"]["State"]
            for r in m.nodes()}


def test_joined_nodes_stay_up_and_keep_their_tasks(cluster, image_archive):
    c = cluster(5)
    leader = c[0]
    # Images first, so the service is created right after the last join,
    # while the new nodes are still settling in.
    for n in c:
        n.load_image(image_archive.archive)
    leader.swarm_init(spec=SPEC)
    for i, n in enumerate(c.nodes[1:], start=1):
        role = "manager" if i <= 2 else "worker"
        r = n.swarm_join(leader, role=role)
        assert r.status == 200, f"{n.name} join as {role}: {r}"
    leader.create_service("web", cmd=SERVER,
                          opts=["--replicas", "10", "-p", "8080:8000"])
    leader.wait_replicas("web", "10/10", timeout=60)

    def all_ready():
        st = states(leader)
        return len(st) == 5 and all(s == "ready" for s in st.values()) \
            and st

    # Every node stays Ready well past a few heartbeat periods.
    hold_for(all_ready, 10, "every node Ready")
    tasks = leader.tasks("web")
    shut = [t for t in tasks if t["DesiredState"] != "running"]
    assert not shut, f"tasks shut down: {[(t['ID'], t['NodeID'], t['Status']) for t in shut]}\n" \
        + "\n".join(line for line in leader.log_tail(200).splitlines()
                    if "cluster:" in line)
    per_node = collections.Counter(t["NodeID"] for t in tasks)
    assert sorted(per_node.values()) == [2] * 5, per_node
    wait_until(lambda: len(leader.running_tasks("web")) == 10, 10,
               "10 running tasks")
