# SPDX-License-Identifier: Apache-2.0
"""Networking on one node (issue 3): the routing mesh on published ports
(loopback, an outside client, dynamic ports, UDP, host mode), VIP balancing
between tasks and hairpin, isolation between networks, the shoal CLI's
network commands and the errors around networks and ports, and that service
rm, network rm and swarm leave leave no bridge, veth, VXLAN device or
nftables table behind. DNS is in test_networking_dns.py, draining and
restarts in test_networking_lb.py; helpers in netutil.py."""

import json
import re
import subprocess
import time

import pytest

from netutil import (HOSTNAME_SERVER, PY, OutsideClient, curl_many,
                     hostnames, network_create, network_id, network_rm,
                     start_services, step, task_addrs, task_pids, vip,
                     wait_gone)
from shoalnode import parse_table, scaled, wait_for

N_REQUESTS = 30


def test_routing_mesh_reaches_every_replica(loaded_node):
    """The seed's `curl http://127.0.0.1:8000` with 3 replicas, each serving
    its own hostname: 30 requests see all 3, from the node itself and from a
    client outside the node through the node's address."""
    node = loaded_node
    out = node.shoal_ok("service", "create", "--name", "simple-server", "-p",
                        "8000:8000", "--replicas", "3", "simple_server",
                        *HOSTNAME_SERVER, timeout=90)
    assert "overall progress: 3 out of 3 tasks" in out, out
    want = hostnames(node, "simple-server")
    assert len(want) == 3, want

    step("30 requests to 127.0.0.1:8000 from the node")
    got = curl_many(node.exec, "http://127.0.0.1:8000/", N_REQUESTS)
    assert len(got) == N_REQUESTS, got
    assert set(got) == want, f"answered by {sorted(set(got))}, " \
        f"replicas {sorted(want)}"
    print("answers per replica:", {h: got.count(h) for h in sorted(want)})

    step("the node's own non-loopback addresses")
    r = node.exec("ip", "-o", "-4", "addr", "show", timeout=15)
    own = [m.group(2) for m in re.finditer(
        r"^\d+: (\S+)\s+inet (\d+\.\d+\.\d+\.\d+)/", r.out, re.M)
        if m.group(1) != "lo" and not m.group(1).startswith("sh")]
    if not own:
        print("the node has no address of its own besides lo (and "
              "shoald's bridges): nothing to check there")
    for addr in own:
        got = curl_many(node.exec, f"http://{addr}:8000/", N_REQUESTS)
        assert set(got) == want, (addr, got)

    step("30 requests from an outside client to the node's address")
    client = OutsideClient(node)
    try:
        got = curl_many(client.exec, f"http://{client.NODE_ADDR}:8000/",
                        N_REQUESTS)
        assert set(got) == want, f"answered by {sorted(set(got))}, " \
            f"replicas {sorted(want)}"
        print("outside, answers per replica:",
              {h: got.count(h) for h in sorted(want)})
    finally:
        client.close()

    step("a port nobody publishes is not forwarded")
    r = node.exec("curl", "-sS", "--max-time", "3",
                  "http://127.0.0.1:8001/")
    assert r.rc != 0, r


# Answers every GET with the client's address as it sees it.
PEER_ECHO = r"""
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = self.client_address[0].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("0.0.0.0", 9000), H)
print("ready", flush=True)
s.serve_forever()
"""


def test_egress_is_masqueraded(loaded_node):
    """A task reaches a server outside the node, which sees the node's
    address (egress masquerade), from a user network and from ingress."""
    node = loaded_node
    network_create(node, "service_network")
    start_services(node, [("inside", 1, ["--network", "service_network"]),
                          ("meshonly", 1, ["-p", "8000:8000"])])
    client = OutsideClient(node)
    server = None
    try:
        (node.dir / "peer_echo.py").write_text(PEER_ECHO)
        server = subprocess.Popen(
            client.prefix() + [PY, str(node.dir / "peer_echo.py")],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        assert server.stdout.readline().strip() == "ready"
        for svc in ("inside", "meshonly"):
            r = node.exec_in_task(task_pids(node, svc)[0], "wget", "-qO-",
                                  f"http://{client.CLIENT_ADDR}:9000/")
            assert r.rc == 0 and r.out.strip() == client.NODE_ADDR, \
                f"{svc}: {r}"
    finally:
        if server:
            server.kill()
            server.wait()
        client.close()


def test_dynamic_published_port(loaded_node):
    """`-p 8000` (target only) publishes on a port from 30000-32767, shown
    in Endpoint.Ports, and the mesh answers there."""
    node = loaded_node
    start_services(node, [("dyn", 2, ["-p", "8000"])])
    ports = node.service("dyn")["Endpoint"]["Ports"]
    assert len(ports) == 1, ports
    p = ports[0]
    assert p["TargetPort"] == 8000 and p["Protocol"] == "tcp", p
    assert 30000 <= p["PublishedPort"] <= 32767, p
    assert p.get("PublishMode", "ingress") == "ingress", p
    got = curl_many(node.exec, f"http://127.0.0.1:{p['PublishedPort']}/", 20)
    assert set(got) == hostnames(node, "dyn"), got


# A UDP echo server prefixing answers with argv[1], run by the test in a
# task's network namespace (busybox has no UDP server).
UDP_ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5353))
print("ready", flush=True)
while True:
    d, p = s.recvfrom(2048)
    s.sendto(sys.argv[1].encode() + b" " + d, p)
"""

UDP_CLIENT = r"""
import socket, sys
seen = []
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(b"hi", (sys.argv[1], 5353))
    seen.append(s.recv(100).decode())
    s.close()
print("\n".join(seen))
"""


def test_udp_and_host_mode_publishing(loaded_node):
    """-p 5353:5353/udp balances datagrams over the tasks through the
    mesh; --publish mode=host,published=8080,target=8000 answers on the
    task's node."""
    node = loaded_node
    start_services(node, [
        ("dns", 2, ["-p", "5353:5353/udp"]),
        ("hostmode", 1, ["--publish",
                         "mode=host,published=8080,target=8000"])])
    ports = node.service("dns")["Endpoint"]["Ports"]
    assert [(p["Protocol"], p["PublishedPort"], p["TargetPort"])
            for p in ports] == [("udp", 5353, 5353)], ports
    ports = node.service("hostmode")["Endpoint"]["Ports"]
    assert [(p["Protocol"], p["PublishedPort"], p["TargetPort"],
             p["PublishMode"]) for p in ports] == \
        [("tcp", 8080, 8000, "host")], ports

    step("UDP through the mesh reaches both tasks")
    (node.dir / "udp_echo.py").write_text(UDP_ECHO)
    (node.dir / "udp_client.py").write_text(UDP_CLIENT)
    servers = []
    try:
        pids = task_pids(node, "dns")
        for pid in pids:
            p = subprocess.Popen(
                node.nsenter() + ["nsenter", "-t", str(pid), "-n", "--", PY,
                                  str(node.dir / "udp_echo.py"), str(pid)],
                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
            servers.append(p)
            assert p.stdout.readline().strip() == "ready"
        r = node.exec(PY, str(node.dir / "udp_client.py"), "127.0.0.1",
                      "20")
        assert r.rc == 0, str(r)
        got = {ln.split()[0] for ln in r.out.split("\n") if ln.strip()}
        assert got == {str(p) for p in pids}, r.out
    finally:
        for p in servers:
            p.kill()
            p.wait()

    step("host mode: the task answers on the node's port 8080")
    got = curl_many(node.exec, "http://127.0.0.1:8080/", 3)
    assert set(got) == hostnames(node, "hostmode"), got


def wget_loop(node, pid, url, n=N_REQUESTS):
    """n x `wget -qO- URL` inside task pid (busybox; name resolution by the
    embedded DNS); returns (answers, seconds taken)."""
    loop = ("i=0; while [ $i -lt %d ]; do wget -qO- %s || echo FAILED; "
            "i=$((i+1)); done" % (n, url))
    t0 = time.monotonic()
    r = node.exec_in_task(pid, "sh", "-c", loop, timeout=120)
    took = time.monotonic() - t0
    got = [ln.strip() for ln in r.out.splitlines() if ln.strip()]
    assert r.rc == 0 and "FAILED" not in got and len(got) == n, f"{r}"
    return got, took


def test_vip_balances_over_all_tasks(loaded_node):
    """wget -qO- http://app:8000/ from a task on the same network (of
    another service): 30 requests see all 3 app tasks, each at once."""
    node = loaded_node
    network_create(node, "service_network")
    start_services(node, [
        ("app", 3, ["--network", "service_network"]),
        ("client", 1, ["--network", "service_network"])])
    want = hostnames(node, "app")
    got, took = wget_loop(node, task_pids(node, "client")[0],
                          "http://app:8000/")
    print(f"{N_REQUESTS} requests in {took:.2f}s; answers per task:",
          {h: got.count(h) for h in sorted(want)})
    assert set(got) == want, f"answered by {sorted(set(got))}, " \
        f"tasks {sorted(want)}"
    assert took < scaled(5), f"{N_REQUESTS} requests took {took:.1f}s"


def test_vip_hairpin_task_reaches_itself(loaded_node):
    """A task reaching its own service's VIP may land on itself and must get
    its answer (issue: hairpin): a 1-replica service's task through its VIP
    and through the routing mesh, and 30 requests from one of 3 tasks that
    see all 3 (itself included) at once."""
    node = loaded_node
    nid = network_create(node, "service_network")
    start_services(node, [
        ("solo", 1, ["--network", "service_network", "-p", "8001:8000"]),
        ("app", 3, ["--network", "service_network"])])
    ing_gw = node.api_json("GET", "/networks/ingress")["IPAM"]["Config"][0][
        "Gateway"]
    pid = task_pids(node, "solo")[0]
    me = hostnames(node, "solo")
    for url in (f"http://{vip(node, 'solo', nid)}:8000/",
                f"http://{ing_gw}:8001/"):
        t0 = time.monotonic()
        r = node.exec_in_netns_of(pid, "curl", "-sS", "--max-time", "3", url)
        took = time.monotonic() - t0
        print(f"solo -> {url}: exit {r.rc} after {took:.2f}s {r.err.strip()}")
        assert r.rc == 0 and {r.out.strip()} == me, f"{url}:\n{r}"
    want = hostnames(node, "app")
    got, took = wget_loop(node, task_pids(node, "app")[0], "http://app:8000/")
    print(f"{N_REQUESTS} requests in {took:.2f}s; answers per task:",
          {h: got.count(h) for h in sorted(want)})
    assert set(got) == want, f"answered by {sorted(set(got))}, " \
        f"tasks {sorted(want)}"
    assert took < scaled(5), f"{N_REQUESTS} requests took {took:.1f}s"


def test_isolation_between_networks(loaded_node):
    """A task on network A can neither resolve nor reach a service that is
    only on network B (its VIP and its tasks' addresses are refused or
    dropped at once), while a task on both networks can."""
    node = loaded_node
    a = network_create(node, "net-a")
    b = network_create(node, "net-b")
    start_services(node, [
        ("front", 1, ["--network", "net-a"]),
        ("secret", 2, ["--network", "net-b"]),
        ("both", 1, ["--network", "net-a", "--network", "net-b"])])
    secret_vip = vip(node, "secret", b)
    secret_tasks = sorted(task_addrs(node, "secret", b))
    assert len(secret_tasks) == 2, secret_tasks
    front = task_pids(node, "front")[0]
    both = task_pids(node, "both")[0]

    step("not resolvable from net-a")
    for name in ("secret", "tasks.secret"):
        r = node.exec_in_task(front, "nslookup", name)
        out = r.out + r.err
        assert r.rc != 0, out
        assert f"can't find {name}: NXDOMAIN" in out, out
    step("resolvable from a task on both networks")
    r = node.exec_in_task(both, "nslookup", "secret")
    assert r.rc == 0 and secret_vip in r.out, r

    step("not reachable from net-a (VIP and task addresses)")
    for addr in [secret_vip] + secret_tasks:
        t0 = time.monotonic()
        r = node.exec_in_netns_of(front, "curl", "-sS", "--max-time", "1",
                                  f"http://{addr}:8000/")
        took = time.monotonic() - t0
        print(f"{addr}: curl exit {r.rc} after {took:.2f}s: {r.err.strip()}")
        assert r.rc != 0, f"front reached secret at {addr}:\n{r}"
        assert r.rc in (7, 28), r  # refused, or dropped (timed out)
    step("reachable from the task on both networks")
    for addr in [secret_vip] + secret_tasks:
        r = node.exec_in_netns_of(both, "curl", "-sS", "--max-time", "5",
                                  f"http://{addr}:8000/")
        assert r.rc == 0 and r.out.strip(), (addr, str(r))
    assert a != b


# ------------------------------------------------------------ the CLI


def test_network_cli_create_ls_inspect_rm(swarm_node):
    """shoal network create (with --subnet, --gateway, --attachable,
    --label) / ls / inspect / rm, and the ingress network swarm init made."""
    node = swarm_node
    step("ingress is there after swarm init")
    rows = parse_table(node.shoal_ok("network", "ls"))
    assert [r["NAME"] for r in rows] == ["ingress"], rows
    assert list(rows[0]) == ["NETWORK ID", "NAME", "DRIVER", "SCOPE"], rows
    assert (rows[0]["DRIVER"], rows[0]["SCOPE"]) == ("overlay", "swarm")
    ing = json.loads(node.shoal_ok("network", "inspect", "ingress"))[0]
    assert ing["Ingress"] is True
    assert rows[0]["NETWORK ID"] == ing["Id"][:12], (rows, ing["Id"])

    step("create")
    nid = network_create(node, "service_network", client="shoal")
    nid2 = network_create(node, "custom", "--subnet", "10.9.8.0/24",
                          "--gateway", "10.9.8.254", "--attachable",
                          "--label", "team=blue", client="shoal")
    rows = parse_table(node.shoal_ok("network", "ls"))
    assert sorted((r["NETWORK ID"], r["NAME"], r["DRIVER"], r["SCOPE"])
                  for r in rows) == sorted([
                      (ing["Id"][:12], "ingress", "overlay", "swarm"),
                      (nid[:12], "service_network", "overlay", "swarm"),
                      (nid2[:12], "custom", "overlay", "swarm")]), rows

    step("inspect")
    n = json.loads(node.shoal_ok("network", "inspect", "service_network"))
    assert len(n) == 1, n
    n = n[0]
    assert (n["Name"], n["Id"], n["Driver"], n["Scope"]) == \
        ("service_network", nid, "overlay", "swarm"), n
    assert n["Ingress"] is False and n["Attachable"] is False, n
    cfg = n["IPAM"]["Config"]
    assert len(cfg) == 1 and re.fullmatch(r"10\.\d+\.\d+\.0/24",
                                          cfg[0]["Subnet"]), cfg
    assert cfg[0]["Subnet"] != ing["IPAM"]["Config"][0]["Subnet"], cfg
    assert re.fullmatch(r"\d+", n["Options"][
        "com.docker.network.driver.overlay.vxlanid_list"]), n["Options"]
    c = json.loads(node.shoal_ok("network", "inspect", nid2[:12]))[0]
    assert c["Name"] == "custom", c
    assert c["IPAM"]["Config"] == [{"Subnet": "10.9.8.0/24",
                                    "Gateway": "10.9.8.254"}], c["IPAM"]
    assert c["Attachable"] is True and c["Labels"] == {"team": "blue"}, c
    assert n["Options"]["com.docker.network.driver.overlay.vxlanid_list"] \
        != c["Options"]["com.docker.network.driver.overlay.vxlanid_list"]

    step("rm")
    out = node.shoal_ok("network", "rm", "service_network", "custom")
    assert out.split() == ["service_network", "custom"], out
    rows = parse_table(node.shoal_ok("network", "ls"))
    assert [r["NAME"] for r in rows] == ["ingress"], rows
    r = node.shoal("network", "inspect", "service_network")
    assert r.rc == 1 and "network service_network not found" in r.err, r


def test_published_port_conflict(loaded_node):
    """Two services publishing the same port: Docker's words, exit code 1,
    nothing created; the same through service update --publish-add."""
    node = loaded_node
    sid = node.create_service("first", opts=["-p", "8000:8000"],
                              cmd=HOSTNAME_SERVER)
    r = node.shoal("service", "create", "-d", "--name", "second", "-p",
                   "8000:8000", "simple_server", *HOSTNAME_SERVER)
    assert r.rc == 1, r
    assert re.search(rf"port '8000' is already in use by service 'first' "
                     rf"\({sid}\)", r.err), r
    assert [s["NAME"] for s in node.service_ls()] == ["first"]
    step("... also when the conflict comes with an update")
    node.create_service("third", opts=["-p", "8001:8000"],
                        cmd=HOSTNAME_SERVER)
    r = node.shoal("service", "update", "-d", "--publish-add", "8000:8000",
                   "third")
    assert r.rc == 1 and "port '8000' is already in use by service " \
        "'first'" in r.err, r
    ports = node.service("third")["Endpoint"]["Ports"]
    assert [p["PublishedPort"] for p in ports] == [8001], ports
    step("the port is free again once its service is gone")
    node.shoal_ok("service", "rm", "first")
    node.create_service("second", opts=["-p", "8000:8000"],
                        cmd=HOSTNAME_SERVER)


def test_network_rm_in_use(loaded_node):
    """network rm of a network a service uses: an error saying it is in
    use (409 from the API), and the network is still listed."""
    node = loaded_node
    nid = network_create(node, "busy")
    node.create_service("user", opts=["--network", "busy"],
                        cmd=HOSTNAME_SERVER)
    resp = node.api("DELETE", f"/networks/{nid}")
    assert resp.status == 409 and "in use" in resp.message, resp
    r = node.shoal("network", "rm", "busy")
    assert r.rc == 1 and "in use" in r.err, r
    assert "busy" in [x["NAME"] for x in
                      parse_table(node.shoal_ok("network", "ls"))]


def test_unknown_network(loaded_node):
    """An unknown network on service create, network rm and inspect:
    "network x not found" (404), nothing created."""
    node = loaded_node
    r = node.shoal("service", "create", "-d", "--name", "lost", "--network",
                   "x", "simple_server", *HOSTNAME_SERVER)
    assert r.rc == 1 and "network x not found" in r.err, r
    assert "lost" not in [s["NAME"] for s in node.service_ls()]
    for method in ("GET", "DELETE"):
        resp = node.api(method, "/networks/nosuch")
        assert resp.status == 404 and \
            resp.message == "network nosuch not found", resp
    r = node.shoal("network", "rm", "nosuch")
    assert r.rc == 1 and "network nosuch not found" in r.err, r


def test_network_create_refusals(swarm_node):
    """POST /networks/create refuses an overlapping subnet, a duplicate
    name and a driver other than overlay, with a message saying why."""
    node = swarm_node

    def create(name, subnet=None, driver="overlay"):
        body = {"Name": name, "Driver": driver, "CheckDuplicate": True}
        if subnet:
            body["IPAM"] = {"Driver": "default",
                            "Config": [{"Subnet": subnet}]}
        return node.api("POST", "/networks/create", body)
    assert create("n1", "10.50.0.0/24").status == 201
    for name, subnet, driver, msg in (
            ("n2", "10.50.0.0/16", "overlay", r"overlap"),
            ("n3", "10.0.0.0/24", "overlay", r"overlap"),  # ingress's
            ("n1", None, "overlay", r"already exists"),
            ("n4", None, "bridge", r"not supported")):
        r = create(name, subnet, driver)
        assert 400 <= r.status < 500 and re.search(msg, r.message or "",
                                                   re.I), (name, r)
    rows = node.api_json("GET", "/networks")
    assert sorted(n["Name"] for n in rows) == ["ingress", "n1"], rows


# ----------------------------------------------------------- cleanup


def test_nothing_left_behind(loaded_node):
    """service rm removes the tasks' veths; network rm the network's bridge
    and VXLAN device (ingress stays while in the swarm); swarm leave
    --force removes every shb-/shx-/shv- link and the nftables table."""
    node = loaded_node
    ing = network_id(node, "ingress")
    step("the ingress network is up after swarm init")
    links = node.shoal_links()
    assert [x for x in links if x.startswith("shb-")] and \
        all(ing[:8] in x for x in links), links
    baseline = links
    table = node.nft_table()
    assert table is not None, "no table ip shoal after swarm init"

    step("services on a user network and on the mesh")
    nid = network_create(node, "service_network")
    quick = ["--stop-grace-period", "1s"]
    start_services(node, [("app", 3, ["--network", "service_network",
                                      "-p", "8000:8000", *quick]),
                          ("solo", 1, quick)])
    links = node.shoal_links()
    # app: a veth into service_network and one into ingress per task; solo
    # (no network, nothing published) has loopback only
    assert len([x for x in links if x.startswith("shv-")]) == 6, links
    assert [x for x in links if nid[:8] in x], links
    assert vip(node, "app", nid) in node.nft_table()
    assert {vip(node, "app", nid), vip(node, "app", ing)} <= vip_addrs(node)

    step("service rm: no veth left, no VIP or published port in the table")
    node.shoal_ok("service", "rm", "app", "solo")
    wait_gone("no shv- links", lambda: [
        x for x in node.shoal_links() if x.startswith("shv-")])
    wait_for(lambda: node.ps() == [], 30, "no containers left")

    def lb_empty():
        t = node.nft_table()
        return not re.search(r"elements = ", t) or t
    wait_for(lb_empty, 15, "no elements left in table ip shoal")
    wait_gone("no VIP (/32) left on the bridges", lambda: vip_addrs(node))

    step("network rm: its bridge and VXLAN device go, ingress's stay")
    network_rm(node, "service_network")
    wait_for(lambda: node.shoal_links() == baseline, 15,
             f"only ingress's links {baseline} left")

    step("swarm leave --force: nothing at all")
    node.shoal_ok("swarm", "leave", "--force")
    wait_gone("no shb-/shx-/shv- links", node.shoal_links)
    assert node.nft_table() is None, node.nft_table()
    assert "table ip shoal" not in node.nft_tables()


def vip_addrs(node):
    """The /32 addresses on shoald's bridges (the VIPs)."""
    r = node.exec("ip", "-o", "-4", "addr", "show", timeout=15)
    return {m.group(2) for m in re.finditer(
        r"^\d+: (shb-\S+)\s+inet (\d+\.\d+\.\d+\.\d+)/32 ", r.out, re.M)}


def test_swarm_leave_with_running_services_leaves_nothing(loaded_node):
    """swarm leave --force with services still running (on a user network
    and published) removes their containers, links and the table."""
    node = loaded_node
    network_create(node, "service_network")
    start_services(node, [("app", 2, ["--network", "service_network",
                                      "-p", "8000:8000"])])
    assert len(node.shoal_links()) >= 6
    node.shoal_ok("swarm", "leave", "--force")
    wait_gone("no shb-/shx-/shv- links", node.shoal_links,
              timeout=scaled(20))
    assert node.nft_table() is None
    assert "table ip shoal" not in node.nft_tables()
    wait_for(lambda: node.containers() == [], 30, "no containers left")
