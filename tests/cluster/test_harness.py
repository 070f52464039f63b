# SPDX-License-Identifier: Apache-2.0
"""Tests of the cluster harness itself: nodes start and answer, each can
init a swarm on its own address, the switch connects them, cut/heal and
kill -9/start do what they say, and closing a cluster leaves nothing."""

import json
import os

from netutil import HOSTNAME_SERVER

from cluster import (SUBNET, namespace_users, sn, sweep_stale_clusters,
                     wait_until)


def test_three_nodes_answer_and_init_their_own_swarm(cluster):
    c = cluster(3)
    assert [n.name for n in c] == ["node1", "node2", "node3"]
    assert [n.addr for n in c] == [f"{SUBNET}.{i}" for i in (1, 2, 3)]
    assert len({n.sock for n in c}) == 3
    assert len({n.data_root for n in c}) == 3
    assert len({n.cgroup_parent for n in c}) == 3
    assert len({n.net_ns for n in c} | {c.switch_ns}) == 4
    for n in c:
        st, info = n.api("GET", "/info")
        assert st == 200, info
        assert info["Name"] == n.name
        assert info["Swarm"]["LocalNodeState"] == "inactive"
        # The CLI through DOCKER_HOST reaches the same daemon.
        assert json.loads(n.cli_ok("info", "--format", "json"))["Name"] == \
            n.name
    for n in c:
        node_id = n.swarm_init()
        assert node_id and isinstance(node_id, str)
        assert n.node_id() == node_id
        nodes = n.nodes()
        assert len(nodes) == 1, nodes
        assert nodes[0]["ID"] == node_id
        assert nodes[0]["Description"]["Hostname"] == n.name
        assert nodes[0]["Status"]["Addr"] == n.addr
        assert c.leader(via=n) is n
    # Three separate swarms.
    assert len({n.node_id() for n in c}) == 3


def test_nodes_reach_each_other_over_the_switch(cluster):
    c = cluster(3, start=False)
    lst = [n.listen(7000) for n in c]
    for a in c:
        for b in c:
            # The reply names the node that answered: the traffic went to
            # b's namespace, not anywhere else.
            assert a.tcp_probe(b.addr, 7000, send=f"from-{a.name}") == \
                f"ok {b.name} from-{a.name}"
    # Only the listener's namespace has the listener.
    assert c[0].tcp_probe("127.0.0.1", 7000) == "refused"
    lst[1].close()
    assert c[0].tcp_probe(c[1].addr, 7000) == "refused"
    # The node sees its own address, the switch none.
    assert f"{c[0].addr}/24" in c[0].net_exec("ip", "-o", "addr").out
    assert SUBNET not in c.switch_exec("ip", "-o", "addr").out


def test_cut_and_heal(cluster):
    c = cluster(3, start=False)
    a, b, d = c
    for n in c:
        n.listen(7000)
    assert a.reaches(b, 7000) and b.reaches(a, 7000)
    a.cut()
    assert not a.reaches(b, 7000, timeout=0.5)
    assert not b.reaches(a, 7000, timeout=0.5)
    assert not d.reaches(a, 7000, timeout=0.5)
    assert b.reaches(d, 7000) and d.reaches(b, 7000)
    a.heal()
    wait_until(lambda: a.reaches(b, 7000) and b.reaches(a, 7000) and
               d.reaches(a, 7000), 10, "node1 reachable again")
    # Cut between two nodes only; both still reach the third.
    a.cut(b)
    assert not a.reaches(b, 7000, timeout=0.5)
    assert not b.reaches(a, 7000, timeout=0.5)
    assert a.reaches(d, 7000) and b.reaches(d, 7000)
    a.heal(b)
    wait_until(lambda: a.reaches(b, 7000), 10, "node1 -> node2 again")
    # A partition, then all healed.
    c.partition([a], [b, d])
    assert not a.reaches(d, 7000, timeout=0.5)
    assert b.reaches(d, 7000)
    c.heal_all()
    wait_until(lambda: a.reaches(d, 7000), 10, "node1 -> node3 again")
    # Unplugging the cable works too.
    b.link_down()
    assert not a.reaches(b, 7000, timeout=0.5)
    b.link_up()
    wait_until(lambda: a.reaches(b, 7000), 10, "node2 plugged in again")


def test_cut_while_daemons_run(cluster):
    """A node's cluster port is unreachable while it is cut (refused before
    shoald listens on 4377, accepted once it does)."""
    c = cluster(2)
    a, b = c
    for n in c:
        n.swarm_init()
    assert a.reaches(b.addr, 4377)
    b.cut()
    assert not a.reaches(b.addr, 4377, timeout=0.5)
    # The node itself keeps running and answering on its socket.
    assert b.api("GET", "/_ping")[0] == 200
    b.heal()
    wait_until(lambda: a.reaches(b.addr, 4377), 10, "node2's port again")


def test_kill9_then_start_keeps_state(cluster):
    c = cluster(2)
    n = c[1]
    node_id = n.swarm_init()
    cluster_id = n.info()["Swarm"]["Cluster"]["ID"]
    first = n.daemon_pid()
    n.kill9()
    assert not n.running
    try:
        n.api("GET", "/_ping")
        raise AssertionError("a killed node answered")
    except OSError:
        pass
    n.start()
    assert n.running and n.daemon_pid() != first
    wait_until(lambda: n.swarm_state() == "active", 20,
               "node2 active again")
    assert n.node_id() == node_id
    assert n.info()["Swarm"]["Cluster"]["ID"] == cluster_id
    wait_until(lambda: c.leader(via=n) is n, 20, "node2 leads itself again")
    # A clean restart too; node1 was never touched.
    n.restart()
    wait_until(lambda: n.swarm_state() == "active", 20, "active again")
    assert n.node_id() == node_id
    assert c[0].swarm_state() == "inactive"
    assert "=== harness: starting shoald (start #3)" in n.logs()


def test_close_leaves_nothing(cluster, image_archive):
    c = cluster(3)
    a = c[0]
    a.swarm_init()
    a.load_image(image_archive.archive)
    a.create_service("web", ["--replicas", "2"], HOSTNAME_SERVER)
    a.wait_replicas("web", "2/2")
    for n in c:
        n.listen(7000)
    c[2].cut()
    c[1].kill9()  # a crashed node's leftovers go too
    ids = c.namespaces()
    assert len(ids) == 3 * 3 + 1
    dirs = [c.dir] + [n.dir for n in c]
    cgroups = [d for n in c for d in n.cgroup_dirs()]
    assert cgroups, "no cgroup parent made for node1's tasks"
    pids = {c.switch.pid} | {n.holder.pid for n in c} | \
        {n.daemon_pid() for n in c if n.running}
    pids |= a.node_pids()  # the tasks, their shims, the listener
    assert len(pids) > 8, pids
    ifaces = sn.host_interfaces()

    problems = c.close()
    assert problems == []
    assert c.close() == []  # idempotent
    alive = [p for p in pids if os.path.exists(f"/proc/{p}") and
             "zombie" not in sn.read_text(f"/proc/{p}/status")]
    assert alive == []
    users, mounts = namespace_users(ids)
    assert users == set() and mounts == []
    for d in dirs:
        assert not d.exists(), d
        assert sn.host_mounts_under(str(d)) == []
    assert [d for d in cgroups if os.path.exists(d)] == []
    assert sn.host_interfaces() == ifaces
    # No process of this session is marked as a cluster holder any more.
    marker = f"SHOAL_TEST_CLUSTER={os.getpid()}|"
    assert [p for p in sn.all_pids()
            if marker in sn.read_text(f"/proc/{p}/environ")] == []


# A suite run in a child pytest on the same fixture (loaded from this
# directory's conftest.py): its one test records what its cluster made, then
# fails (or kills its own pytest with SIGKILL).
CHILD_CONFTEST = """
import importlib.util, sys
sys.path.insert(0, {here!r})
spec = importlib.util.spec_from_file_location("cluster_conftest",
                                              {conftest!r})
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
cluster, cluster_session = m.cluster, m.cluster_session
pytest_runtest_makereport = m.pytest_runtest_makereport
image_archive = m.image_archive
"""

CHILD_TEST = """
import json, os, signal
from netutil import HOSTNAME_SERVER

def test_child(cluster, image_archive):
    c = cluster(2)
    a = c[0]
    a.swarm_init()
    a.load_image(image_archive.archive)
    a.create_service("web", ["--replicas", "2"], HOSTNAME_SERVER)
    a.wait_replicas("web", "2/2")
    c[1].listen(7000)
    c[1].cut()
    rec = {{"ns": sorted(c.namespaces()),
           "dirs": [str(c.dir)] + [str(n.dir) for n in c],
           "cgroups": [d for n in c for d in n.cgroup_dirs()],
           "pids": sorted({{c.switch.pid}} | a.node_pids() |
                          c[1].node_pids())}}
    with open({record!r}, "w") as f:
        json.dump(rec, f)
    if {how!r} == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("the child test fails on purpose")
"""


def _run_child(tmp_path, how):
    here = os.path.dirname(os.path.abspath(__file__))
    d = tmp_path / how
    d.mkdir()
    record = d / "record.json"
    (d / "conftest.py").write_text(CHILD_CONFTEST.format(
        here=here, conftest=os.path.join(here, "conftest.py")))
    (d / "test_child.py").write_text(CHILD_TEST.format(record=str(record),
                                                       how=how))
    r = sn.run(["/usr/bin/python3", "-m", "pytest", "-q", "-p",
                "no:cacheprovider", "--rootdir", str(d), str(d)],
               timeout=120)
    assert record.exists(), f"the child test did not get far:\n{r}"
    return r, json.loads(record.read_text())


def _assert_gone(rec):
    alive = [p for p in rec["pids"] if os.path.exists(f"/proc/{p}") and
             "zombie" not in sn.read_text(f"/proc/{p}/status")]
    assert alive == []
    assert namespace_users(set(rec["ns"])) == (set(), [])
    for d in rec["dirs"]:
        assert not os.path.exists(d), d
        assert sn.host_mounts_under(d) == []
    assert [d for d in rec["cgroups"] if os.path.exists(d)] == []


def test_failing_test_still_cleans_up(cluster, tmp_path):
    r, rec = _run_child(tmp_path, "fail")
    assert r.rc == 1 and "1 failed" in r.out, str(r)
    assert "fails on purpose" in r.out
    assert "cluster teardown" not in r.out, str(r)
    assert len(rec["ns"]) == 2 * 3 + 1 and len(rec["pids"]) > 4
    _assert_gone(rec)


def test_sweep_after_a_killed_session(cluster, tmp_path):
    """A session killed with SIGKILL cannot clean up; the next session's
    sweep (run here by hand) removes what it left."""
    r, rec = _run_child(tmp_path, "kill")
    assert r.rc == -9, str(r)
    assert any(os.path.exists(f"/proc/{p}") for p in rec["pids"])
    assert os.path.exists(rec["dirs"][0])
    sweep_stale_clusters()
    wait_until(lambda: not any(os.path.exists(f"/proc/{p}") and "zombie" not
                               in sn.read_text(f"/proc/{p}/status")
                               for p in rec["pids"]), 10,
               "the killed session's processes to go")
    _assert_gone(rec)
