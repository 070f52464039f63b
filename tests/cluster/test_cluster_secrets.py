# SPDX-License-Identifier: Apache-2.0
"""Secrets across nodes (issue 9 §2): a secret reaches only the node that
runs a task using it, in a tmpfs there; the other worker has nothing of
it, neither on disk nor mounted, and no data root holds its plaintext.
When the task moves, the secret follows it and leaves the old node. A
worker answers secret calls like Docker's worker does."""

import hashlib
import os
import secrets as pysecrets
import subprocess

from cluster import wait_until

SPEC = {"Dispatcher": {"HeartbeatPeriod": 1_000_000_000}}


def secret_mounts(n):
    """The tmpfs mounts under the node's secrets directory (as the node's
    own mount namespace sees them)."""
    d = os.path.join(n.data_root, "secrets") + "/"
    return [ln.split()[1] for ln in n.mounts().splitlines()
            if ln.split()[1].startswith(d) and ln.split()[2] == "tmpfs"]


def read_in_node(n, path):
    r = n.exec("cat", path)
    return r.out if r.rc == 0 else None


def grep_root(root, needle):
    r = subprocess.run(["grep", "-rlaF", "--", needle, root],
                       capture_output=True, text=True)
    return r.stdout.split()


def running_on(m, service):
    return {t["NodeID"] for t in m.running_tasks(service)
            if t["DesiredState"] == "running"}


def test_secret_reaches_only_its_node(cluster, image_archive):
    c = cluster(3)
    m, w1, w2 = c
    for n in (w1, w2):
        n.load_image(image_archive.archive)
    m.swarm_init(spec=SPEC)
    for w in (w1, w2):
        assert w.swarm_join(m).status == 200
    ids = {n.name: n.node_id() for n in c}
    token = "cluster-" + pysecrets.token_hex(12)
    m.cli_ok("secret", "create", "pw", "-", input=token)

    # Workers are not managers: Docker's answer.
    st, data = w1.api("GET", "/secrets")
    assert st == 503 and "not a swarm manager" in data["message"], data

    digest = hashlib.sha256(token.encode()).hexdigest()
    m.create_service("s", opts=[
        "--secret", "source=pw,target=pw,mode=0400",
        "--constraint", f"node.id=={ids['node2']}"],
        cmd=["sh", "-c", "sha256sum /run/secrets/pw; exec sleep 1000"])
    wait_until(lambda: running_on(m, "s") == {ids["node2"]}, 60,
               "the task running on node2")
    wait_until(lambda: len(secret_mounts(w1)) == 1, 30, "a tmpfs on node2")
    f = os.path.join(secret_mounts(w1)[0], "s0")
    assert read_in_node(w1, f) == token
    # The other nodes: no tmpfs, no directory, nothing anywhere on disk.
    assert secret_mounts(w2) == [] and secret_mounts(m) == []
    assert not os.listdir(os.path.join(w2.data_root, "secrets")) \
        if os.path.isdir(os.path.join(w2.data_root, "secrets")) else True
    for n in c:
        assert grep_root(n.data_root, token) == [], n
        # not even in the logs (debug level)
        assert token not in n.logs(), n

    # Move the task to node3: the secret follows, node2 lets it go.
    m.cli_ok("service", "update", "--detach", "--constraint-rm",
             f"node.id=={ids['node2']}", "--constraint-add",
             f"node.id=={ids['node3']}", "s")
    wait_until(lambda: running_on(m, "s") == {ids["node3"]}, 60,
               "the task running on node3")
    wait_until(lambda: len(secret_mounts(w2)) == 1, 30, "a tmpfs on node3")
    assert read_in_node(w2, os.path.join(secret_mounts(w2)[0], "s0")) == token
    wait_until(lambda: secret_mounts(w1) == [], 30, "node2's tmpfs removed")
    # The task there read it (its container's log on node3).
    cid = w2.containers("s")[0]["Id"]
    wait_until(lambda: digest in w2.cli_ok("logs", cid), 30,
               "the digest in the task's log")
    for n in c:
        assert grep_root(n.data_root, token) == [], n

    # In use: refused; removed with its service.
    r = m.cli("secret", "rm", "pw")
    assert r.rc == 1 and "in use by the following service: s" in r.err, r
    m.cli_ok("service", "rm", "s")
    wait_until(lambda: secret_mounts(w2) == [], 30, "node3's tmpfs removed")
    m.cli_ok("secret", "rm", "pw")
