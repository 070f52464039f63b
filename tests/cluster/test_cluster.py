# SPDX-License-Identifier: Apache-2.0
"""Multi-node clusters (issue 4): managers and workers join over mutual
TLS, services spread over every node, the leader fails over, a cut-off
worker's tasks are replaced and its stale ones shut down when it returns,
bad tokens are refused, and quorum loss keeps reads and refuses writes."""

import time

import pytest

from cluster import wait_until

HEARTBEAT_NS = 1_000_000_000  # 1 s: a node is down after 3 missed beats
SPEC = {"Dispatcher": {"HeartbeatPeriod": HEARTBEAT_NS}}
SERVER = ["httpd", "-f", "-p", "8000", "-h", "/www"]


# Talks to a node's cluster port with a node's certificate: one frame out,
# the first frame back (or "closed").
PY_CALL = r"""
import json, socket, ssl, struct, sys
addr, port, certs, ftype, body = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(certs + "/ca.crt")
ctx.load_cert_chain(certs + "/node.crt", certs + "/node.key")
s = ctx.wrap_socket(socket.create_connection((addr, int(port)), timeout=5))
data = body.encode()
s.sendall(struct.pack(">IB", len(data) + 1, int(ftype)) + data)
try:
    head = s.recv(5)
    if len(head) < 5:
        print("closed"); sys.exit(0)
    n = struct.unpack(">I", head[:4])[0] - 1
    buf = b""
    while len(buf) < n:
        more = s.recv(n - len(buf))
        if not more:
            break
        buf += more
    print(buf.decode())
except (ssl.SSLError, ConnectionError, socket.timeout) as e:
    print("closed" if not isinstance(e, socket.timeout) else "timeout")
"""


def form(cluster, managers=3, workers=2, image=None):
    return form_with(cluster, managers, workers, image)


def form_with(cluster, managers=3, workers=2, image=None, spec=None):
    """A swarm of `managers` managers (node1 leads) and `workers`
    workers; returns the cluster."""
    c = cluster(managers + workers)
    full = dict(SPEC)
    full.update(spec or {})
    c[0].swarm_init(spec=full)
    for i, n in enumerate(c.nodes[1:], start=1):
        role = "manager" if i < managers else "worker"
        r = n.swarm_join(c[0], role=role)
        assert r.status == 200, f"{n.name} join as {role}: {r}\n" \
            f"{n.log_tail(30)}"
        if image is not None:
            n.load_image(image.archive)
    if image is not None:
        c[0].load_image(image.archive)
    return c


def node_table(n):
    rows = {}
    for r in n.nodes():
        rows[r["Description"]["Hostname"]] = r
    return rows


def manager_status(row):
    ms = row.get("ManagerStatus")
    if not ms:
        return ""
    return "Leader" if ms.get("Leader") else ms.get("Reachability")


def running_by_node(n, service):
    out = {}
    for t in n.running_tasks(service):
        out.setdefault(t["NodeID"], []).append(t)
    return out


def test_three_managers_two_workers_join(cluster):
    c = form(cluster)
    m1, m2, m3, w1, w2 = c
    def all_ready():
        rows = node_table(m1)
        assert len(rows) == 5, rows
        assert all(r["Status"]["State"] == "ready" for r in rows.values()), \
            {k: r["Status"]["State"] for k, r in rows.items()}
        return rows
    rows = wait_until(all_ready, 15, "five ready nodes")
    assert [manager_status(rows[f"node{i}"]) for i in range(1, 6)] == \
        ["Leader", "reachable", "reachable", "", ""]
    assert [rows[f"node{i}"]["Spec"]["Role"] for i in range(1, 6)] == \
        ["manager"] * 3 + ["worker"] * 2
    # The CLI on any manager shows the same table (once it applied the
    # last join: followers trail the leader by a moment).
    def m3_table():
        out = m3.cli_ok("node", "ls")
        assert out.count("Ready") == 5 and "Leader" in out, out
        assert out.count("Reachable") == 2, out
        return True
    wait_until(m3_table, 10, "five nodes in node3's node ls")
    # A worker can't see or change the cluster state.
    r = w1.cli("node", "ls")
    assert r.rc != 0 and "This node is not a swarm manager" in r.err, r
    for w in (w1, w2):
        assert w.info()["Swarm"]["LocalNodeState"] == "active"
        assert w.info()["Swarm"]["ControlAvailable"] is False


def test_bad_tokens_are_refused(cluster):
    c = cluster(2)
    m1, n2 = c
    m1.swarm_init(spec=SPEC)
    good = m1.join_tokens()["Worker"]
    # A token whose secret is wrong: the manager refuses it.
    bad_secret = good[:-5] + ("aaaaa" if not good.endswith("aaaaa")
                              else "bbbbb")
    r = n2.swarm_join(m1, token=bad_secret)
    assert r.status == 400, r
    assert "A valid join token is necessary" in r.message, r
    # A token with a tampered CA digest: the joiner refuses the manager.
    digest = good.split("-")[2]
    tampered = good.replace(digest, ("1" if digest[0] != "1" else "2") +
                            digest[1:])
    r = n2.swarm_join(m1, token=tampered)
    assert r.status >= 400, r
    assert "remote CA does not match fingerprint" in r.message, r
    # Malformed.
    r = n2.swarm_join(m1, token="SWMTKN-1-nonsense")
    assert r.status == 400 and "invalid join token" in r.message, r
    # Nothing half-joined: the node can still join with the right token.
    assert n2.swarm_state() == "inactive"
    r = n2.swarm_join(m1, token=good)
    assert r.status == 200, r
    assert len(m1.nodes()) == 2


def test_service_spreads_and_leader_fails_over(cluster, image_archive):
    c = form(cluster, image=image_archive)
    m1, m2, m3, w1, w2 = c
    sid = m2.create_service("web", opts=["--replicas", "10"], cmd=SERVER)
    m1.wait_replicas("web", "10/10", timeout=90)
    by_node = running_by_node(m1, "web")
    assert len(by_node) == 5, {k: len(v) for k, v in by_node.items()}
    before = {t["ID"] for t in m1.running_tasks("web")}
    # kill -9 the leader: another manager leads within 5 s.
    m1.kill9()
    t0 = time.monotonic()
    leader = wait_until(lambda: c.leader(via=m2) in (m2, m3) and
                        c.leader(via=m2), 10, "a new leader")
    took = time.monotonic() - t0
    assert took < 5, f"new leader after {took:.1f} s"
    # The dead manager shows as unreachable once its heartbeats stop.
    wait_until(lambda: manager_status(node_table(leader)["node1"]) ==
               "unreachable", 15, "node1 unreachable")
    # Committed state intact, and writes work on the managers left.
    assert m2.service("web")["ID"] == sid
    other = m3 if leader is m2 else m2
    other.cli_ok("service", "scale", "--detach", "web=12")
    other.wait_replicas("web", "12/12", timeout=60)
    # The tasks that were running on live nodes were not restarted.
    still = {t["ID"] for t in other.running_tasks("web")}
    m1_id = None
    for r in other.nodes():
        if r["Description"]["Hostname"] == "node1":
            m1_id = r["ID"]
    lost = {t["ID"] for t in other.tasks("web") if t["NodeID"] == m1_id}
    assert (before - lost) <= still
    # The old leader comes back as a follower with the state.
    m1.start()
    wait_until(lambda: m1.replicas("web") == "12/12", 30,
               "node1 back with the state")


def test_cut_worker_replaced_and_stale_tasks_shut_down(cluster,
                                                       image_archive):
    c = form(cluster, managers=1, workers=2, image=image_archive)
    m1, w1, w2 = c
    m1.create_service("web", opts=["--replicas", "6"], cmd=SERVER)
    m1.wait_replicas("web", "6/6", timeout=90)
    w1_id = w1.node_id()
    on_w1 = [t for t in m1.running_tasks("web") if t["NodeID"] == w1_id]
    assert on_w1
    w1.cut()
    t0 = time.monotonic()
    def replaced():
        live = [t for t in m1.running_tasks("web") if t["NodeID"] != w1_id]
        assert len(live) == 6, len(live)
        return True
    wait_until(replaced, 30, "w1's tasks replaced elsewhere")
    took = time.monotonic() - t0
    assert took < 15, f"replaced after {took:.1f} s"
    row = node_table(m1)["node2"]
    assert row["Status"]["State"] == "down"
    # Healed: the node is back and its stale tasks stop; exactly 6 run.
    w1.heal()
    def stale_gone():
        assert node_table(m1)["node2"]["Status"]["State"] == "ready"
        assert not w1.containers("web"), [x["Id"][:12] for x in
                                          w1.containers("web")]
        return True
    wait_until(stale_gone, 30, "w1 back, its stale tasks shut down")
    assert m1.replicas("web") == "6/6"
    total = sum(len(n.containers("web")) for n in c)
    assert total == 6


def test_quorum_loss_keeps_reads_refuses_writes(cluster, image_archive):
    c = form(cluster, managers=3, workers=0, image=image_archive)
    m1, m2, m3 = c
    m1.create_service("web", opts=["--replicas", "3"], cmd=SERVER)
    m1.wait_replicas("web", "3/3", timeout=90)
    m2.stop()
    m3.stop()
    # Reads work on the manager left; writes answer 503 in Docker's words.
    def refused():
        r = m1.cli("service", "scale", "--detach", "web=4")
        assert r.rc != 0, r
        assert "does not have a leader" in r.err, r
        return True
    wait_until(refused, 20, "writes refused without quorum")
    assert "web" in m1.cli_ok("service", "ls")
    r = m1.api("POST", "/services/create", {"Name": "x", "TaskTemplate": {
        "ContainerSpec": {"Image": "simple_server"}}})
    assert r.status == 503, r
    # They come back: nothing was lost, writes work again.
    m2.start()
    m3.start()
    wait_until(lambda: m1.cli("service", "scale", "--detach",
                              "web=4").rc == 0, 30, "writes accepted again")
    m1.wait_replicas("web", "4/4", timeout=60)


def test_promote_demote_drain_and_remove(cluster, image_archive):
    c = form(cluster, managers=1, workers=2, image=image_archive)
    m1, w1, w2 = c
    # Promote a worker: it becomes a raft voter and answers manager calls.
    m1.cli_ok("node", "promote", "node2")
    def promoted():
        rows = node_table(m1)
        assert manager_status(rows["node2"]) == "reachable", rows["node2"]
        assert w1.cli("node", "ls").rc == 0
        return True
    wait_until(promoted, 30, "node2 a working manager")
    # Writes through the new manager are forwarded to the leader (once its
    # raft caught up and knows the leader).
    wait_until(lambda: w1.cli("service", "create", "--detach", "--name",
                              "web", "--replicas", "4", "simple_server",
                              *SERVER).rc == 0, 30,
               "a write accepted by the new manager")
    m1.wait_replicas("web", "4/4", timeout=60)
    # Drain node3: its tasks move to the other nodes.
    m1.cli_ok("node", "update", "--availability", "drain", "node3")
    w2_id = w2.node_id()
    def drained():
        tasks = m1.running_tasks("web")
        assert len(tasks) == 4 and all(t["NodeID"] != w2_id for t in tasks)
        assert not w2.containers("web")
        return True
    wait_until(drained, 30, "node3 drained")
    # Labels and constraints across nodes.
    m1.cli_ok("node", "update", "--label-add", "zone=b", "node2")
    m1.create_service("pinned", opts=["--replicas", "2", "--constraint",
                                      "node.labels.zone==b"], cmd=SERVER)
    m1.wait_replicas("pinned", "2/2", timeout=60)
    w1_id = w1.node_id()
    assert all(t["NodeID"] == w1_id for t in m1.running_tasks("pinned"))
    # Demote it again: back to a worker, out of raft.
    m1.cli_ok("node", "demote", "node2")
    def demoted():
        rows = node_table(m1)
        assert manager_status(rows["node2"]) == "", rows["node2"]
        r = w1.cli("node", "ls")
        assert r.rc != 0 and "not a swarm manager" in r.err, r
        return True
    wait_until(demoted, 30, "node2 a worker again")
    m1.wait_replicas("pinned", "2/2", timeout=30)
    # The last manager cannot be demoted; a live node cannot be removed
    # without --force; a removed node's certificate is refused.
    r = m1.cli("node", "demote", "node1")
    assert r.rc != 0 and "last manager" in r.err, r
    r = m1.cli("node", "rm", "node3")
    assert r.rc != 0 and "is not down" in r.err, r
    before = len(w2.logs())
    m1.cli_ok("node", "rm", "--force", "node3")
    wait_until(lambda: "node3" not in node_table(m1), 10, "node3 gone")

    def refused():
        # Its session ends and reopening it is refused by certificate.
        assert "not a member of this swarm" in w2.logs()[before:]
        return True
    wait_until(refused, 20, "node3's certificate refused")


def test_leave(cluster):
    c = form(cluster, managers=3, workers=1)
    m1, m2, m3, w1 = c
    wait_until(lambda: all(r["Status"]["State"] == "ready"
                           for r in node_table(m1).values()), 15,
               "four ready nodes")
    # A worker leaves: it shows as down.
    w1.cli_ok("swarm", "leave")
    assert w1.swarm_state() == "inactive"
    wait_until(lambda: node_table(m1)["node4"]["Status"]["State"] == "down",
               15, "node4 down after leaving")
    # A manager leaves safely: out of raft, the others keep a quorum.
    m3.cli_ok("swarm", "leave")
    def m3_gone():
        row = node_table(m1)["node3"]
        assert row["Status"]["State"] == "down" and not row.get(
            "ManagerStatus"), row
        return True
    wait_until(m3_gone, 15, "node3 out of the managers")
    m1.cli_ok("service", "create", "--detach", "--name", "after",
              "simple_server", *SERVER)
    # With node2 stopped, node1 leaving would break the quorum: refused
    # (once node1 noticed: its writes fail).
    m2.stop()
    def no_quorum():
        r = m1.cli("service", "scale", "--detach", "after=2")
        assert r.rc != 0 and "does not have a leader" in r.err, r
        return True
    wait_until(no_quorum, 15, "node1 without a quorum")
    def refused():
        r = m1.cli("swarm", "leave")
        assert r.rc != 0 and "Without a Raft quorum" in r.err, r
        return True
    wait_until(refused, 15, "leaving refused without a quorum")
    # The last manager standing needs --force.
    r = m1.cli("swarm", "leave", "--force")
    assert r.rc == 0, r


def test_demote_the_leader(cluster):
    c = form(cluster, managers=3, workers=0)
    m1, m2, m3 = c
    wait_until(lambda: all(r["Status"]["State"] == "ready"
                           for r in node_table(m1).values()), 15,
               "three ready managers")
    assert c.leader(via=m2) is m1
    # The leader hands leadership over, then becomes a worker.
    m2.cli_ok("node", "demote", "node1")

    def demoted():
        rows = node_table(m2)
        assert manager_status(rows["node1"]) == "", rows["node1"]
        assert "Leader" in (manager_status(rows["node2"]),
                            manager_status(rows["node3"])) or any(
            r.get("ManagerStatus", {}).get("Leader") for r in rows.values())
        r = m1.cli("node", "ls")
        assert r.rc != 0 and "not a swarm manager" in r.err, r
        return True
    wait_until(demoted, 30, "node1 a worker, another manager leading")
    wait_until(lambda: m3.cli("service", "create", "--detach", "--name",
                              "after", "--replicas", "0", "simple_server",
                              "true").rc == 0, 15, "writes after the switch")


def test_docker_cli_drives_a_cluster(cluster):
    """The unmodified docker CLI: swarm init / join / join-token, node ls,
    promote, service ps across nodes."""
    c = cluster(3)
    m1, n2, n3 = c
    m1.docker_ok("swarm", "init", "--advertise-addr", m1.addr,
                 "--listen-addr", "0.0.0.0:4377")
    worker = m1.docker_ok("swarm", "join-token", "-q", "worker").strip()
    manager = m1.docker_ok("swarm", "join-token", "-q", "manager").strip()
    out = n2.docker_ok("swarm", "join", "--token", manager,
                       "--advertise-addr", n2.addr, f"{m1.addr}:4377")
    assert "This node joined a swarm as a manager." in out
    out = n3.docker_ok("swarm", "join", "--token", worker,
                       "--advertise-addr", n3.addr, f"{m1.addr}:4377")
    assert "This node joined a swarm as a worker." in out

    def table():
        out = n2.docker_ok("node", "ls")
        assert out.count("Ready") == 3 and "Leader" in out, out
        assert "Reachable" in out, out
        return out
    wait_until(table, 20, "docker node ls on node2")
    n2.docker_ok("node", "promote", "node3")
    wait_until(lambda: n3.docker("node", "ls").rc == 0, 30,
               "node3 a manager for the docker CLI")
