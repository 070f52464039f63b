# SPDX-License-Identifier: Apache-2.0
"""swarm init's cluster options and join-token rotation (issue 4)."""

import os

from cluster import wait_until


def test_init_options_and_token_rotation(cluster):
    c = cluster(2)
    m1, n2 = c
    m1.cli_ok("swarm", "init", "--advertise-addr", m1.addr,
              "--listen-addr", "0.0.0.0:4377",
              "--default-addr-pool", "10.20.0.0/16",
              "--default-addr-pool-mask-length", "24",
              "--data-path-port", "4790",
              "--dispatcher-heartbeat", "2s", "--cert-expiry", "48h")
    sw = m1.api("GET", "/swarm").data
    assert sw["DefaultAddrPool"] == ["10.20.0.0/16"], sw
    assert sw["SubnetSize"] == 24 and sw["DataPathPort"] == 4790, sw
    assert sw["Spec"]["Dispatcher"]["HeartbeatPeriod"] == 2_000_000_000
    assert sw["Spec"]["CAConfig"]["NodeCertExpiry"] == 48 * 3600 * 10**9
    assert "BEGIN CERTIFICATE" in sw["TLSInfo"]["TrustRoot"]
    assert "_RootCA" not in sw and "BEGIN EC PRIVATE KEY" not in str(sw)
    # Networks come from the pool; ingress is its first subnet.
    m1.cli_ok("network", "create", "-d", "overlay", "backend")
    subnets = {n["Name"]: n["IPAM"]["Config"][0]["Subnet"]
               for n in m1.api("GET", "/networks").data
               if n.get("IPAM", {}).get("Config")}
    assert subnets["ingress"] == "10.20.0.0/24", subnets
    assert subnets["backend"].startswith("10.20."), subnets
    # The join command printed names this manager on the cluster port.
    out = m1.cli_ok("swarm", "join-token", "worker")
    assert f"{m1.addr}:4377" in out and "SWMTKN-1-" in out
    # A rotated token: the old one is refused, the new one works.
    old = m1.cli_ok("swarm", "join-token", "-q", "worker").strip()
    m1.cli_ok("swarm", "join-token", "--rotate", "worker")
    new = m1.cli_ok("swarm", "join-token", "-q", "worker").strip()
    assert new != old and new.split("-")[2] == old.split("-")[2]
    r = n2.swarm_join(m1, token=old)
    assert r.status == 400 and "valid join token" in r.message, r
    r = n2.swarm_join(m1, token=new)
    assert r.status == 200, r
    wait_until(lambda: len(m1.nodes()) == 2, 10, "two nodes")
    # The docker-style join with the shoal CLI output's address also works
    # through the API's RemoteAddrs (as tested above); the node is a
    # worker.
    assert n2.info()["Swarm"]["ControlAvailable"] is False


def test_raft_data_encrypted_at_rest(cluster):
    c = cluster(2)
    m1, m2 = c
    m1.swarm_init()
    assert m2.swarm_join(m1, role="manager").status == 200
    m1.cli_ok("service", "create", "--detach", "--name", "atrest-marker-42",
              "--replicas", "0", "simple_server", "true")
    wait_until(lambda: "atrest-marker-42" in m2.cli_ok("service", "ls"), 15,
               "the service on node2")
    for n in c:
        raft = f"{n.data_root}/swarm/raft"
        r = n.net_exec("grep", "-rl", "atrest-marker-42", raft)
        assert r.rc == 1, f"plaintext in {n.name}'s raft data:\n{r}"
        key = f"{n.data_root}/swarm/certs/raft.dek"
        assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    # Each manager has its own key.
    keys = {open(f"{n.data_root}/swarm/certs/raft.dek").read() for n in c}
    assert len(keys) == 2
    # And reads its data back after kill -9.
    m2.kill9()
    m2.start()
    wait_until(lambda: "atrest-marker-42" in m2.cli_ok("service", "ls"), 30,
               "node2 back with the state")


def test_autolock(cluster):
    (m1,) = cluster(1)
    out = m1.cli_ok("swarm", "init", "--autolock", "--advertise-addr",
                    m1.addr)
    key = next(w for w in out.split() if w.startswith("SWMKEY-1-"))
    assert m1.cli_ok("swarm", "unlock-key", "-q").strip() == key
    m1.cli_ok("service", "create", "--detach", "--name", "kept",
              "--replicas", "0", "simple_server", "true")
    certs = f"{m1.data_root}/swarm/certs"
    for f in ("node.key", "raft.dek"):
        assert open(f"{certs}/{f}").read().startswith("SEALED-1:"), f
    # Restarted: locked until a person unlocks it.
    m1.restart()
    assert m1.info()["Swarm"]["LocalNodeState"] == "locked"
    r = m1.cli("node", "ls")
    assert r.rc != 0 and "needs to be unlocked" in r.err, r
    r = m1.cli("swarm", "unlock", input="SWMKEY-1-wrong\n")
    assert r.rc != 0 and "invalid key" in r.err, r
    m1.cli_ok("swarm", "unlock", input=key + "\n")
    wait_until(lambda: "kept" in m1.cli_ok("service", "ls"), 30,
               "the state back after unlocking")
    # A rotated key: the old one no longer opens it.
    m1.cli_ok("swarm", "unlock-key", "--rotate")
    new = m1.cli_ok("swarm", "unlock-key", "-q").strip()
    assert new != key and new.startswith("SWMKEY-1-")
    wait_until(lambda: open(f"{certs}/node.key").read().startswith(
        "SEALED-1:"), 10, "resealed")
    m1.restart()
    r = m1.cli("swarm", "unlock", input=key + "\n")
    assert r.rc != 0 and "invalid key" in r.err, r
    m1.cli_ok("swarm", "unlock", input=new + "\n")
    wait_until(lambda: m1.cli("node", "ls").rc == 0, 30, "unlocked again")
    # Autolock off: the secrets are plain again and a restart needs no key.
    m1.cli_ok("swarm", "update", "--autolock=false")
    wait_until(lambda: not open(f"{certs}/node.key").read().startswith(
        "SEALED-1:"), 10, "unsealed")
    m1.restart()
    wait_until(lambda: m1.info()["Swarm"]["LocalNodeState"] == "active", 30,
               "active without a key")
    assert "kept" in m1.cli_ok("service", "ls")
