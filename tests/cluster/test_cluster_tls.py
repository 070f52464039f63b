# SPDX-License-Identifier: Apache-2.0
"""Mutual TLS between nodes (issue 4): a worker's certificate cannot open
manager-only calls, certificates renew before they expire, and an expired
one is refused with a clear message."""

import time

from cluster import wait_until
from test_cluster import PY_CALL, form_with

EXPIRY_NS = 6_000_000_000  # node certificates valid 6 s: renewed at 3-4.8 s


def tls_call(node, target, frame_type, body):
    """From node's namespace, with node's own certificate, sends one frame
    to target's cluster port; the server's first answer (JSON text) or
    "closed" / "error: ...". """
    script = node.cluster.script("tlscall.py", PY_CALL)
    certs = f"{node.data_root}/swarm/certs"
    r = node.net_exec(PY, str(script), target.addr, "4377", certs,
                      str(frame_type), body, timeout=30)
    assert r.rc == 0, r
    return r.out.strip()


PY = "/usr/bin/python3"


def test_worker_certificate_cannot_call_manager_only(cluster):
    c = form_with(cluster, managers=1, workers=1)
    m1, w1 = c
    # A raft stream (manager only) from a worker's certificate: cut off.
    assert tls_call(w1, m1, 2, '{"id": "5", "address": "x:1"}') == "closed"
    # A write beyond its own task status: refused.
    ans = tls_call(w1, m1, 1, '{"id": 1, "method": "propose", "params": '
                   '{"Txn": "{\\"ts\\": 1, \\"ops\\": [{\\"op\\": '
                   '\\"node.delete\\", \\"id\\": \\"x\\"}]}"}}')
    assert '"code": 403' in ans or '"code":403' in ans, ans
    assert "Permission denied" in ans, ans
    # The manager's own certificate is let in for the same raft hello.
    assert tls_call(m1, m1, 1, '{"id": 1, "method": "nosuch"}') != "closed"


def test_certificates_renew_and_expired_ones_are_refused(cluster):
    spec = {"CAConfig": {"NodeCertExpiry": EXPIRY_NS}}
    c = form_with(cluster, managers=1, workers=1, spec=spec)
    m1, w1 = c
    # Past two lifetimes the worker is still in: its certificate renews.
    wait_until(lambda: w1.logs().count("certificate renewed") >= 2, 30,
               "two renewals on the worker")
    assert "certificate renewed" in m1.logs()
    rows = {r["Description"]["Hostname"]: r for r in m1.nodes()}
    assert rows["node2"]["Status"]["State"] == "ready"
    # Stopped past its certificate's life, it is refused when it comes
    # back, and says why.
    w1.stop()
    time.sleep(EXPIRY_NS / 1e9 + 1)  # the certificate must be past its life
    w1.start()
    wait_until(lambda: "certificate has expired" in w1.logs() or
               "certificate expired" in w1.logs(), 20,
               "the expired certificate refused")
    wait_until(lambda: {r["Description"]["Hostname"]: r for r in
                        m1.nodes()}["node2"]["Status"]["State"] == "down",
               20, "node2 down")


def test_root_ca_rotation(cluster, image_archive):
    c = form_with(cluster, managers=2, workers=2)
    m1, m2, w1, w2 = c
    old_root = m1.api("GET", "/swarm").data["TLSInfo"]["TrustRoot"]
    old_token = m1.join_tokens()["Worker"]
    w2.cli_ok("swarm", "leave")  # rejoins later with the new token
    out = m1.cli_ok("swarm", "ca", "--rotate")
    sw = m1.api("GET", "/swarm").data
    new_root = sw["TLSInfo"]["TrustRoot"]
    assert new_root != old_root and new_root.strip() in out
    new_token = sw["JoinTokens"]["Worker"]
    assert new_token.split("-")[2] != old_token.split("-")[2]
    assert new_token.split("-")[3] == old_token.split("-")[3]

    def rotated():
        sw = m1.api("GET", "/swarm").data
        assert sw["RootRotationInProgress"] is False, "still rotating"
        for n in (m1, m2, w1):
            ca = open(f"{n.data_root}/swarm/certs/ca.crt").read()
            assert ca == new_root, f"{n.name} still trusts the old root"
        return True
    wait_until(rotated, 30, "every node on the new root")
    # The cluster still works over new connections: a restarted worker and
    # a write through the other manager.
    w1.restart()
    for n in (m1, w1):
        n.load_image(image_archive.archive)
    m2.cli_ok("service", "create", "--detach", "--name", "after-rotation",
              "--replicas", "2", "--constraint", "node.role==worker",
              "simple_server", "httpd", "-f", "-p", "8000", "-h", "/www")
    m1.wait_replicas("after-rotation", "2/2", timeout=60)
    # The old token pins the old CA: refused; the new one works.
    r = w2.swarm_join(m1, token=old_token)
    assert r.status >= 400 and "remote CA does not match" in r.message, r
    r = w2.swarm_join(m1, token=new_token)
    assert r.status == 200, r
