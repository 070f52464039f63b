# SPDX-License-Identifier: Apache-2.0
"""Overlay networks across nodes (issue 4, scope item 6): a task on one
node reaches a service whose tasks all run on another node by name, by
VIP and through tasks.<name>; the routing mesh answers a published port on
every node, also on nodes that run no task of the service; the VXLAN
devices carry FDB and neighbour entries for the other nodes' tasks and
lose them when the tasks move or go."""

import re

from cluster import wait_until

HEARTBEAT_NS = 1_000_000_000
SPEC = {"Dispatcher": {"HeartbeatPeriod": HEARTBEAT_NS}}
# Each replica answers with its hostname (the container's short ID).
HOSTNAME_SERVER = ["sh", "-c",
                   "hostname > /www/index.html; trap 'exit 0' TERM; "
                   "httpd -f -p 8000 -h /www & wait"]
HTTP_GET = "GET / HTTP/1.0\r\n\r\n"


def form(cluster, managers=1, workers=3, image=None):
    """node1..node<managers> managers (node1 leads), then workers; every
    node loads the test image."""
    c = cluster(managers + workers)
    c[0].swarm_init(spec=SPEC)
    for i, n in enumerate(c.nodes[1:], start=1):
        role = "manager" if i < managers else "worker"
        r = n.swarm_join(c[0], role=role)
        assert r.status == 200, f"{n.name} join as {role}: {r}\n" \
            f"{n.log_tail(30)}"
    for n in c:
        n.load_image(image.archive)

    def all_ready():
        rows = c[0].nodes()
        return len(rows) == len(c) and all(
            r["Status"]["State"] == "ready" for r in rows)
    wait_until(all_ready, 20, "all nodes ready")
    return c


def running(m, service):
    return [t for t in m.running_tasks(service)
            if t.get("DesiredState") == "running"]


def node_ids(m):
    return {r["Description"]["Hostname"]: r["ID"] for r in m.nodes()}


def task_addrs(tasks, net_id):
    out = set()
    for t in tasks:
        for att in t.get("NetworksAttachments") or []:
            if att["Network"]["ID"] == net_id:
                out |= {a.split("/")[0] for a in att["Addresses"]}
    return out


def task_hostnames(tasks):
    """Container short IDs, which the hostname server answers."""
    return {t["Status"]["ContainerStatus"]["ContainerID"][:12]
            for t in tasks}


def container_pid(node, service):
    """PID of the first running container of service on node (from the
    node's own API)."""
    cs = node.containers(service)
    assert cs, f"no container of {service} on {node.name}"
    return node.container_pid(cs[0]["Id"])


def in_task(node, pid, *cmd):
    return node.exec_in_task(pid, *cmd, timeout=30)


NSLOOKUP_ADDR = re.compile(r"^Address:\s*(\d+\.\d+\.\d+\.\d+)\s*$", re.M)


def nslookup(node, pid, name):
    r = in_task(node, pid, "nslookup", name)
    out = r.out + r.err
    return set(NSLOOKUP_ADDR.findall(out.split("\n\n", 1)[-1])), out


def wget(node, pid, url):
    r = in_task(node, pid, "wget", "-qO-", url)
    return r.out.strip() if r.rc == 0 else f"FAILED rc={r.rc}: {r.err}"


def vxlan_name(net_id):
    return "shx-" + net_id[:11]


def fdb(node, dev):
    """{mac: {dst, ...}} of the VXLAN device's FDB on node."""
    r = node.net_exec("bridge", "fdb", "show", "dev", dev)
    assert r.rc == 0, str(r)
    out = {}
    for ln in r.out.splitlines():
        m = re.match(r"^([0-9a-f:]{17}) .*\bdst (\S+)", ln)
        if m:
            out.setdefault(m.group(1), set()).add(m.group(2))
    return out


def neigh(node, dev):
    """{ip: mac} of the permanent neighbour entries of dev on node."""
    r = node.net_exec("ip", "neigh", "show", "dev", dev)
    assert r.rc == 0, str(r)
    out = {}
    for ln in r.out.splitlines():
        m = re.match(r"^(\S+) lladdr (\S+) .*PERMANENT", ln)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def mac_of(ip):
    return "02:42:" + ":".join(f"{int(b):02x}" for b in ip.split("."))


def test_overlay_across_nodes(cluster, image_archive):
    c = form(cluster, image=image_archive)
    m, n2, n3, n4 = c
    out = m.cli_ok("network", "create", "-d", "overlay", "appnet")
    net_id = re.search(r"^([a-z0-9]{25})$", out, re.M).group(1)
    m.create_service("srv", opts=[
        "--replicas", "2", "--network", "appnet", "-p", "8080:8000",
        "--constraint", "node.hostname==node4"], cmd=HOSTNAME_SERVER)
    m.create_service("client", opts=[
        "--replicas", "1", "--network", "appnet",
        "--constraint", "node.hostname==node2"], cmd=HOSTNAME_SERVER)
    wait_until(lambda: len(running(m, "srv")) == 2 and
               len(running(m, "client")) == 1, 60,
               "srv 2/2 on node4 and client 1/1 on node2")
    ids = node_ids(m)
    srv = running(m, "srv")
    assert {t["NodeID"] for t in srv} == {ids["node4"]}
    srv_ips = task_addrs(srv, net_id)
    srv_names = task_hostnames(srv)
    assert len(srv_ips) == 2, srv
    vip = [v["Addr"].split("/")[0]
           for v in m.service("srv")["Endpoint"]["VirtualIPs"]
           if v["NetworkID"] == net_id][0]

    # node2's VXLAN device knows node4 and srv's tasks.
    dev = vxlan_name(net_id)

    def n2_knows_srv():
        f, nb = fdb(n2, dev), neigh(n2, dev)
        assert "10.99.0.4" in f.get("00:00:00:00:00:00", set()), f
        for ip in srv_ips:
            assert nb.get(ip) == mac_of(ip), nb
            assert f.get(mac_of(ip)) == {"10.99.0.4"}, f
        return True
    wait_until(n2_knows_srv, 20, "node2's FDB/neighbours for srv on node4")
    # ... and node4's the client on node2.
    client_ip = task_addrs(running(m, "client"), net_id).pop()
    wait_until(lambda: neigh(n4, dev).get(client_ip) == mac_of(client_ip),
               20, "node4's neighbour entry for the client")
    # node3 has no task on appnet: no such device there.
    assert dev not in n3.links()

    # From the client task on node2: DNS, VIP and name.
    pid = container_pid(n2, "client")
    got, out = nslookup(n2, pid, "srv")
    assert got == {vip}, out
    got, out = nslookup(n2, pid, "tasks.srv")
    assert got == srv_ips, out
    seen = set()
    for _ in range(12):
        seen.add(wget(n2, pid, "http://srv:8000/"))
        seen.add(wget(n2, pid, f"http://{vip}:8000/"))
    assert seen == srv_names, seen
    for ip in srv_ips:
        assert wget(n2, pid, f"http://{ip}:8000/") in srv_names

    # The routing mesh: every node answers 8080, none of node1..node3
    # runs a task of srv.
    def mesh_answers(frm, addr):
        r = frm.tcp_probe(addr, 8080, timeout=3, send=HTTP_GET)
        assert r.startswith("ok "), f"{frm.name} -> {addr}:8080: {r}"
        return r.split()[-1]
    for frm, addr in [(n3, n2.addr), (n3, m.addr), (n2, n2.addr),
                      (m, m.addr), (n3, n3.addr), (n3, n4.addr),
                      (m, "127.0.0.1")]:
        names = {mesh_answers(frm, addr) for _ in range(6)}
        assert names <= srv_names and names, (frm.name, addr, names)

    # srv moves to node3: node2's entries follow (node3 replaces node4 as
    # appnet's peer), and node4, left without a task on appnet, drops it.
    m.cli_ok("service", "update", "--detach", "--constraint-rm",
             "node.hostname==node4", "--constraint-add",
             "node.hostname==node3", "srv", timeout=120)

    def moved():
        t = running(m, "srv")
        return len(t) == 2 and {x["NodeID"] for x in t} == {ids["node3"]}
    wait_until(moved, 90, "srv's tasks on node3")
    srv = running(m, "srv")
    new_ips, new_names = task_addrs(srv, net_id), task_hostnames(srv)

    def n2_follows():
        f, nb = fdb(n2, dev), neigh(n2, dev)
        for ip in srv_ips - new_ips:
            assert ip not in nb, nb
            assert mac_of(ip) not in f, f
        for ip in new_ips:
            assert nb.get(ip) == mac_of(ip), nb
            assert f.get(mac_of(ip)) == {"10.99.0.3"}, f
        assert f.get("00:00:00:00:00:00") == {"10.99.0.3"}, f
        return True
    wait_until(n2_follows, 30, "node2's entries follow srv to node3")
    wait_until(lambda: dev not in n4.links(), 30,
               "appnet gone from node4")
    # node2 learns the second task is running a moment after the manager
    # does (its status reaches node2's copy of the state through the
    # leader): both answer once node2's balancer has both.
    seen = set()

    def both_answer():
        seen.add(wget(n2, pid, "http://srv:8000/"))
        assert seen == new_names, seen
        return True
    wait_until(both_answer, 20, "both moved tasks answering by name",
               interval=0)
    names = {mesh_answers(m, n4.addr) for _ in range(6)}
    assert names <= new_names and names, names

    # node3 goes down: node2 forgets it (peer and endpoints) on appnet and
    # on ingress.
    n3.kill9()

    def n3_down():
        rows = {r["Description"]["Hostname"]: r for r in m.nodes()}
        return rows["node3"]["Status"]["State"] == "down"
    wait_until(n3_down, 30, "node3 down")

    def n2_forgot_n3():
        for d in (dev, vxlan_name(m.api_json("GET", "/networks/ingress")
                                  ["Id"])):
            f = fdb(n2, d)
            assert not any("10.99.0.3" in dsts for dsts in f.values()), \
                (d, f)
        assert not (set(neigh(n2, dev)) & new_ips)
        return True
    wait_until(n2_forgot_n3, 30, "node2's entries for node3 gone")

    # srv removed: nothing of it is left on node2.
    m.cli_ok("service", "rm", "srv")

    def n2_clean():
        f, nb = fdb(n2, dev), neigh(n2, dev)
        assert not (set(nb) & new_ips), nb
        assert "00:00:00:00:00:00" not in f, f
        return True
    wait_until(n2_clean, 30, "node2's entries for srv gone")
