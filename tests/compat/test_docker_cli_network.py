# SPDX-License-Identifier: Apache-2.0
"""The unmodified docker CLI's network commands against shoald (issue 3):
network create --driver overlay (with options), ls (Docker's table),
inspect (Docker's shape, attached containers), rm (204; 409 while in use),
and service create --network ... -p ... answering through the routing mesh
and by name inside the network. Skipped where the docker CLI is not
installed."""

import json
import os
import re

import pytest

from netutil import (HOSTNAME_SERVER, curl_many, hostnames, network_create,
                     nslookup, running, task_addrs, task_pids, vip)
from shoalnode import DOCKER, parse_table, wait_for

pytestmark = pytest.mark.skipif(not os.access(DOCKER, os.X_OK),
                                reason=f"{DOCKER} not installed")

VXLAN_OPT = "com.docker.network.driver.overlay.vxlanid_list"


def test_network_create_ls_inspect_rm(swarm_node):
    node = swarm_node
    rows = parse_table(node.docker_ok("network", "ls"))
    assert [r["NAME"] for r in rows] == ["ingress"], rows
    ing = json.loads(node.docker_ok("network", "inspect", "ingress"))[0]
    assert ing["Ingress"] is True and ing["Driver"] == "overlay", ing

    nid = network_create(node, "service_network", client="docker")
    nid2 = network_create(node, "custom", "--subnet", "10.20.30.0/24",
                          "--gateway", "10.20.30.1", "--attachable",
                          "--label", "a=b", client="docker")
    out = node.docker_ok("network", "ls")
    assert out.splitlines()[0].split() == ["NETWORK", "ID", "NAME", "DRIVER",
                                           "SCOPE"], out
    rows = parse_table(out)
    assert [(r["NETWORK ID"], r["NAME"], r["DRIVER"], r["SCOPE"])
            for r in rows] == sorted([
                (ing["Id"][:12], "ingress", "overlay", "swarm"),
                (nid[:12], "service_network", "overlay", "swarm"),
                (nid2[:12], "custom", "overlay", "swarm")],
                key=lambda r: r[1]), out
    out = node.docker_ok("network", "ls", "--filter", "driver=overlay",
                         "--format", "{{.Name}}")
    assert sorted(out.split()) == ["custom", "ingress", "service_network"]
    out = node.docker_ok("network", "ls", "-q")
    assert sorted(out.split()) == sorted(x[:12] for x in (ing["Id"], nid,
                                                          nid2)), out

    n = json.loads(node.docker_ok("network", "inspect", "service_network"))
    assert len(n) == 1, n
    n = n[0]
    for k, v in (("Name", "service_network"), ("Id", nid), ("Scope", "swarm"),
                 ("Driver", "overlay"), ("EnableIPv6", False),
                 ("Internal", False), ("Attachable", False),
                 ("Ingress", False)):
        assert n[k] == v, (k, n)
    cfg = n["IPAM"]["Config"]
    assert len(cfg) == 1 and re.fullmatch(r"10\.\d+\.\d+\.0/24",
                                          cfg[0]["Subnet"]), n["IPAM"]
    assert re.fullmatch(r"\d+", n["Options"][VXLAN_OPT]), n["Options"]
    c = json.loads(node.docker_ok("network", "inspect", "custom"))[0]
    assert c["IPAM"]["Config"] == [{"Subnet": "10.20.30.0/24",
                                    "Gateway": "10.20.30.1"}], c["IPAM"]
    assert c["Attachable"] is True and c["Labels"] == {"a": "b"}, c
    out = node.docker_ok("network", "inspect", "-f", "{{.Name}} {{.Driver}}",
                         nid2[:12])
    assert out.strip() == "custom overlay", out

    out = node.docker_ok("network", "rm", "service_network", nid2)
    assert out.split() == ["service_network", nid2], out
    rows = parse_table(node.docker_ok("network", "ls"))
    assert [r["NAME"] for r in rows] == ["ingress"], rows
    r = node.docker("network", "inspect", "service_network")
    assert r.rc == 1 and "Error response from daemon: network " \
        "service_network not found" in r.err, r
    r = node.docker("network", "rm", "nosuch")
    assert r.rc == 1 and "network nosuch not found" in r.err, r


def test_service_on_network_with_published_port(loaded_node):
    node = loaded_node
    nid = network_create(node, "service_network", client="docker")
    node.create_service("app", client="docker",
                        opts=["--replicas", "3", "--network",
                              "service_network", "-p", "8000:8000"],
                        cmd=HOSTNAME_SERVER)
    node.create_service("client", client="docker",
                        opts=["--network", "service_network"],
                        cmd=HOSTNAME_SERVER)
    wait_for(lambda: len(running(node, "app")) == 3 and
             len(running(node, "client")) == 1, 60, "all tasks running")
    want = hostnames(node, "app")

    s = json.loads(node.docker_ok("service", "inspect", "app"))[0]
    assert [x["Target"] for x in s["Spec"]["TaskTemplate"]["Networks"]] \
        == [nid], s["Spec"]["TaskTemplate"]
    ports = s["Endpoint"]["Ports"]
    assert [(p["Protocol"], p["TargetPort"], p["PublishedPort"],
             p["PublishMode"]) for p in ports] == \
        [("tcp", 8000, 8000, "ingress")], ports
    vips = {v["NetworkID"] for v in s["Endpoint"]["VirtualIPs"]}
    assert nid in vips and len(vips) == 2, s["Endpoint"]  # + ingress
    out = node.docker_ok("service", "ls")
    row = [r for r in parse_table(out) if r["NAME"] == "app"][0]
    assert row["PORTS"] == "*:8000->8000/tcp", row

    got = curl_many(node.exec, "http://127.0.0.1:8000/", 30)
    assert set(got) == want, got
    rc, addrs, out = nslookup(node, task_pids(node, "client")[0], "app")
    assert rc == 0 and addrs == [vip(node, "app", nid)], out

    n = json.loads(node.docker_ok("network", "inspect", "service_network"))[0]
    cids = {c["Id"] for c in node.containers("app") +
            node.containers("client")}
    assert set(n["Containers"] or {}) == cids, n["Containers"]
    addrs = {v["IPv4Address"].split("/")[0]
             for k, v in n["Containers"].items()
             if k in {c["Id"] for c in node.containers("app")}}
    assert addrs == task_addrs(node, "app", nid), n["Containers"]

    r = node.docker("network", "rm", "service_network")
    assert r.rc == 1 and "in use" in r.err, r
    node.docker_ok("service", "rm", "app", "client")
    wait_for(lambda: node.docker("network", "rm", "service_network").rc == 0,
             30, "network rm once its services are gone")
    assert "service_network" not in node.docker_ok("network", "ls")
