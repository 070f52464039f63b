# SPDX-License-Identifier: Apache-2.0
"""The embedded DNS server as tasks see it (issue 3): service names and
aliases -> VIP, tasks.SERVICE -> the running tasks, dnsrr services -> their
tasks, task names, names on other networks -> NXDOMAIN (not forwarded),
other names forwarded to the node's resolvers (a fake upstream on
127.0.0.53 named by a resolv.conf bind-mounted in the node before shoald
starts), UDP and TCP, and a task being stopped leaving DNS and the balancer
before its stop signal."""

import json
import os
import re
import signal
import time

import pytest

from netutil import (EXTERNAL_ADDR, EXTERNAL_NAME, HOSTNAME_SERVER_DEAF,
                     PTR, PY, assert_nxdomain, dns_query, lb_state,
                     network_create, nslookup, running, setup_fake_upstream,
                     start_services, step, task_addrs, task_cid, task_pids,
                     vip)
from shoalnode import _finish_node, _make_node, scaled, wait_for


@pytest.fixture
def dns_node(request, image_archive):
    """A swarm node with the test image whose /etc/resolv.conf (in its own
    mount namespace) names a fake upstream resolver running in the node."""
    n = _make_node(request, before_daemon=setup_fake_upstream)
    try:
        n.swarm_init()
        n.load_image(image_archive.archive)
        yield n
    finally:
        if n.fake_dns.poll() is None:
            n.fake_dns.kill()
            n.fake_dns.wait()
        _finish_node(n)


def upstream_saw(node, name):
    return [ln for ln in node.fake_dns_log.read_text().splitlines()
            if ln.split()[0] == name.lower()]


def test_names_inside_tasks(dns_node):
    node = dns_node
    nid = network_create(node, "service_network")
    start_services(node, [
        ("app", 3, ["--network", "name=service_network,alias=web"]),
        ("db", 2, ["--network", "service_network", "--endpoint-mode",
                   "dnsrr"]),
        ("named", 1, ["--network", "service_network", "--hostname",
                      "myhost"]),
        ("own-dns", 1, ["--network", "service_network", "--dns",
                        "192.0.2.53", "--dns-search", "example.org"]),
        ("client", 1, ["--network", "service_network"]),
        ("t1_api", 1, ["--network", "name=service_network,alias=api"])])
    app_vip = vip(node, "app", nid)
    app_tasks = task_addrs(node, "app", nid)
    db_tasks = task_addrs(node, "db", nid)
    assert len(app_tasks) == 3 and len(db_tasks) == 2, (app_tasks, db_tasks)
    pid = task_pids(node, "client")[0]
    r = node.exec_in_task(pid, "cat", "/etc/resolv.conf")
    gw = node.api_json("GET", "/networks/service_network")["IPAM"][
        "Config"][0]["Gateway"]
    assert re.search(rf"^nameserver {re.escape(gw)}$", r.out, re.M), r

    step("nslookup app -> the VIP of service inspect")
    rc, addrs, out = nslookup(node, pid, "app")
    assert rc == 0 and addrs == [app_vip], out
    step("the alias from --network name=...,alias=web -> the same VIP")
    rc, addrs, out = nslookup(node, pid, "web")
    assert rc == 0 and addrs == [app_vip], out
    step("a stack's service: t1_api and its short name api -> its VIP")
    api_vip = vip(node, "t1_api", nid)
    for name in ("t1_api", "api", "tasks.t1_api"):
        rc, addrs, out = nslookup(node, pid, name)
        assert rc == 0 and addrs == (
            sorted(task_addrs(node, "t1_api", nid))
            if name.startswith("tasks.") else [api_vip]), (name, out)
    step("nslookup tasks.app -> exactly the 3 running tasks")
    rc, addrs, out = nslookup(node, pid, "tasks.app")
    assert rc == 0 and sorted(addrs) == sorted(app_tasks), out
    step("dnsrr: db -> its task addresses, no VIP")
    assert not node.service("db")["Endpoint"].get("VirtualIPs"), \
        node.service("db")["Endpoint"]
    rc, addrs, out = nslookup(node, pid, "db")
    assert rc == 0 and sorted(addrs) == sorted(db_tasks), out
    rc, addrs, out = nslookup(node, pid, "tasks.db")
    assert rc == 0 and sorted(addrs) == sorted(db_tasks), out
    step("a task's name -> its address")
    t = running(node, "app")[0]
    tname = f"app.{t['Slot']}.{t['ID']}"
    taddr = [a.split("/")[0] for att in t["NetworksAttachments"]
             if att["Network"]["ID"] == nid for a in att["Addresses"]]
    rc, addrs, out = nslookup(node, pid, tname)
    assert rc == 0 and addrs == taddr, out
    step("a task's --hostname -> its address")
    rc, addrs, out = nslookup(node, pid, "myhost")
    assert rc == 0 and addrs == sorted(task_addrs(node, "named", nid)), out
    step("--dns and --dns-search replace the embedded server")
    r = node.exec_in_task(task_pids(node, "own-dns")[0], "cat",
                          "/etc/resolv.conf")
    assert re.findall(r"^(nameserver|search) (.*)$", r.out, re.M) == \
        [("nameserver", "192.0.2.53"), ("search", "example.org")], r.out
    step("PTR of a task's address and of the VIP")
    for addr in (taddr[0], app_vip):
        a = dns_query(node, pid, gw, ".".join(reversed(addr.split(".")))
                      + ".in-addr.arpa", PTR)
        assert a["rcode"] == 0 and a["answers"], (addr, a)
        assert "app" in a["answers"][0][2], (addr, a)
    assert not upstream_saw(node, "app") and \
        not upstream_saw(node, "tasks.app"), "cluster names forwarded"

    step("answers over TCP too, with a short TTL")
    a = dns_query(node, pid, gw, "tasks.app", proto="tcp")
    assert a["rcode"] == 0 and sorted(x[2] for x in a["answers"]) == \
        sorted(app_tasks), a
    a = dns_query(node, pid, gw, "app")
    assert [x[2] for x in a["answers"]] == [app_vip], a
    assert all(x[1] <= 10 for x in a["answers"]), f"TTL too long: {a}"

    step("an external name is forwarded to the node's resolver")
    rc, addrs, out = nslookup(node, pid, EXTERNAL_NAME)
    assert rc == 0 and addrs == [EXTERNAL_ADDR], out
    assert upstream_saw(node, EXTERNAL_NAME), node.fake_dns_log.read_text()
    a = dns_query(node, pid, gw, EXTERNAL_NAME, proto="tcp")
    assert [x[2] for x in a["answers"]] == [EXTERNAL_ADDR], a

    step("a forwarded answer with TC set is relayed; TCP gets it whole")
    a = dns_query(node, pid, gw, "big.example")
    assert a["tc"] and a["rcode"] == 0, a
    a = dns_query(node, pid, gw, "big.example", proto="tcp")
    assert not a["tc"] and len(a["answers"]) == 40, a
    assert [ln.split()[2] for ln in upstream_saw(node, "big.example")] == \
        ["udp", "tcp"], node.fake_dns_log.read_text()

    step("an unknown name -> NXDOMAIN (the upstream's answer)")
    assert_nxdomain(node, pid, "nosuchservice")
    assert upstream_saw(node, "nosuchservice")

    step("garbage datagrams and streams are dropped without harm")
    r = node.exec_in_netns_of(pid, PY, "-c", GARBAGE, gw, timeout=60)
    assert r.rc == 0 and "sent" in r.out, str(r)
    a = dns_query(node, pid, gw, "tasks.app")
    assert sorted(x[2] for x in a["answers"]) == sorted(app_tasks), a
    assert node.ping()


# Random datagrams of every length up to 600 bytes, then TCP streams of
# random bytes, to the DNS server at argv[1].
GARBAGE = r"""
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3000):
    s.sendto(os.urandom(i % 600), (sys.argv[1], 53))
for i in range(50):
    t = socket.create_connection((sys.argv[1], 53), timeout=2)
    t.sendall(os.urandom(100 + i))
    t.close()
print("sent")
"""


def test_names_on_other_networks_are_nxdomain(dns_node):
    """A service on a network the asking task is not on is NXDOMAIN, and
    the name is not sent upstream (the fake upstream would answer
    leak-* names)."""
    node = dns_node
    a = network_create(node, "net-a")
    b = network_create(node, "net-b")
    start_services(node, [("front", 1, ["--network", "net-a"]),
                          ("leak-secret", 1, ["--network", "net-b"]),
                          ("both", 1, ["--network", "net-a", "--network",
                                       "net-b"])])
    front = task_pids(node, "front")[0]
    for name in ("leak-secret", "tasks.leak-secret"):
        assert_nxdomain(node, front, name)
    assert not upstream_saw(node, "leak-secret"), \
        node.fake_dns_log.read_text()
    both = task_pids(node, "both")[0]
    rc, addrs, out = nslookup(node, both, "leak-secret")
    assert rc == 0 and addrs == [vip(node, "leak-secret", b)], out
    step("a service on two networks: each network's VIP to its tasks")
    secret = task_pids(node, "leak-secret")[0]
    for pid, net in ((front, a), (secret, b)):
        rc, addrs, out = nslookup(node, pid, "both")
        assert rc == 0 and addrs == [vip(node, "both", net)], out
        rc, addrs, out = nslookup(node, pid, "tasks.both")
        assert rc == 0 and addrs == sorted(task_addrs(node, "both", net)), \
            out


def test_removed_service_leaves_dns(dns_node):
    """Once service rm returns, the name and tasks.NAME are no cluster names
    any more: forwarded like any other name (the fake upstream says
    NXDOMAIN), never the old addresses."""
    node = dns_node
    network_create(node, "service_network")
    start_services(node, [("gone-app", 2, ["--network", "service_network"]),
                          ("client", 1, ["--network", "service_network"]),
        ("t1_api", 1, ["--network", "name=service_network,alias=api"])])
    pid = task_pids(node, "client")[0]
    rc, addrs, out = nslookup(node, pid, "gone-app")
    assert rc == 0 and len(addrs) == 1, out
    rc, addrs, out = nslookup(node, pid, "tasks.gone-app")
    assert rc == 0 and len(addrs) == 2, out
    node.shoal_ok("service", "rm", "gone-app")
    for name in ("gone-app", "tasks.gone-app"):
        assert_nxdomain(node, pid, name)
        assert upstream_saw(node, name), node.fake_dns_log.read_text()


def test_stopping_task_leaves_dns_and_balancer_before_its_stop(dns_node):
    """Scale 3 -> 2 with a long stop grace period (httpd as PID 1 ignores
    SIGTERM, so the removed container keeps running for it): while the
    container still runs, tasks.app already lists 2 tasks and the VIP 2
    backends; the task's address is not answered any more."""
    node = dns_node
    nid = network_create(node, "service_network")
    start_services(node, [("app", 3, ["--network", "service_network",
                                      "--stop-grace-period", "30s"])],
                   cmd=HOSTNAME_SERVER_DEAF)
    start_services(node, [("client", 1, ["--network", "service_network"])])
    pid = task_pids(node, "client")[0]
    gw = node.api_json("GET", "/networks/service_network")["IPAM"][
        "Config"][0]["Gateway"]
    app_vip = vip(node, "app", nid)
    before = {task_cid(t): t for t in running(node, "app")}
    t0 = time.monotonic()
    node.shoal_ok("service", "scale", "--detach", "app=2")

    def leaving():
        ts = [t for t in node.tasks("app") if t["DesiredState"] != "running"
              and t["Status"]["State"] == "running"]
        return ts[0] if ts else None
    gone = wait_for(leaving, 15, "a task of app to be told to stop")
    gone_addr = [a.split("/")[0] for att in gone["NetworksAttachments"]
                 if att["Network"]["ID"] == nid for a in att["Addresses"]][0]
    kept = task_addrs(node, "app", nid) - {gone_addr}
    assert len(kept) == 2, kept

    def out_of_dns():
        a = dns_query(node, pid, gw, "tasks.app")
        return sorted(x[2] for x in a["answers"]) == sorted(kept)
    wait_for(out_of_dns, 5, "tasks.app without the stopping task")
    took = time.monotonic() - t0
    assert task_cid(gone) in before
    gone_pid = node.container_pid(task_cid(gone))
    assert node.container(task_cid(gone))["State"]["Running"], \
        "the container stopped before it left DNS"
    st = lb_state(node.nft_table())
    assert st["vips"][app_vip][1] == kept, st["vips"]
    print(f"out of DNS and the balancer {took * 1000:.0f} ms after scale, "
          f"while its container (pid {gone_pid}) still runs")
    assert took < scaled(2), f"left DNS only after {took:.2f}s"
    still = node.container(task_cid(gone))
    assert still["State"]["Running"], json.dumps(still["State"])
    # (httpd ignores SIGTERM: end the wait of the stops for a quick
    # teardown)
    pids = [gone_pid] + task_pids(node, "app")
    node.shoal_ok("service", "rm", "app")
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
