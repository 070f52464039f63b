# SPDX-License-Identifier: Apache-2.0
"""Network prune (POST /networks/prune, `shoal network prune`, `docker
network prune`) removes the networks no service uses, never ingress, in
one commit, with Docker's label/until filters; system df (GET /system/df,
`shoal system df`, `docker system df`) reports images, containers,
volumes and build cache in Docker's DiskUsage shape."""

import json
import os
import re
from urllib.parse import quote

import pytest

from netutil import network_create
from shoalnode import DOCKER, parse_table, wait_for

V = "/v1.41"


def net_names(node):
    return sorted(n["Name"] for n in node.api_json("GET", f"{V}/networks"))


def test_network_prune_api_and_filters(loaded_node):
    node = loaded_node
    for name in ("used", "idle1", "idle2"):
        network_create(node, name)
    r = node.api("POST", f"{V}/networks/create",
                 {"Name": "keep", "Driver": "overlay",
                  "Labels": {"keep": "yes"}})
    assert r.status == 201, r
    node.create_service("user", opts=["--network", "used"],
                        cmd=["sleep", "1000"])
    # Filters: label= picks, label!= spares; until in the past picks none.
    r = node.api("POST", f"{V}/networks/prune?filters=" + quote(json.dumps({"until": ["1h"]})))
    assert r.status == 200 and r.json() == {"NetworksDeleted": None}, r
    r = node.api("POST", f"{V}/networks/prune?filters=" + quote(json.dumps({"label!": ["keep"]})))
    assert r.status == 200, r
    assert sorted(r.json()["NetworksDeleted"]) == ["idle1", "idle2"], r
    assert net_names(node) == ["ingress", "keep", "used"]
    r = node.api("POST", f"{V}/networks/prune?filters=" + quote(json.dumps({"bogus": ["x"]})))
    assert r.status == 400 and "invalid filter 'bogus'" in r.message, r
    r = node.api("POST", f"{V}/networks/prune?filters=" + quote(json.dumps({"until": ["not a time"]})))
    assert r.status == 400, r
    assert net_names(node) == ["ingress", "keep", "used"]
    # The shoal CLI: everything unused goes, ingress and "used" stay.
    out = node.shoal_ok("network", "prune", "-f")
    assert out.split() == ["Deleted", "Networks:", "keep"], out
    assert net_names(node) == ["ingress", "used"]
    node.shoal_ok("service", "rm", "user")
    out = node.shoal_ok("network", "prune", "-f")
    assert "used" in out.split(), out
    assert net_names(node) == ["ingress"]


@pytest.mark.skipif(not os.access(DOCKER, os.X_OK),
                    reason=f"{DOCKER} not installed")
def test_docker_network_prune(loaded_node):
    node = loaded_node
    network_create(node, "gone1")
    out = node.docker_ok("network", "prune", "-f")
    assert out.split() == ["Deleted", "Networks:", "gone1"], out
    assert net_names(node) == ["ingress"]


def test_system_df(loaded_node):
    node = loaded_node
    node.create_service("dfvol", opts=[
        "--mount", "type=volume,source=dfdata,destination=/data"],
        cmd=["sh", "-c", "head -c 300000 /dev/zero > /data/f; "
             "head -c 100000 /dev/zero > /tmp/rw; exec sleep 1000"])

    def du():
        return node.api_json("GET", f"{V}/system/df")
    wait_for(lambda: any(v["UsageData"]["Size"] >= 300000
                         for v in du().get("Volumes") or []) and
             any(c["SizeRw"] >= 100000 for c in du()["Containers"]), 30,
             "volume and container sizes")
    d = du()
    assert set(d) == {"LayersSize", "Images", "Containers", "Volumes",
                      "BuildCache"}, d
    assert d["LayersSize"] > 1_000_000, d["LayersSize"]
    img = [i for i in d["Images"] if "simple_server:latest" in i["RepoTags"]]
    assert img and img[0]["Containers"] == 1, d["Images"]
    [c] = d["Containers"]
    assert c["State"] == "running" and c["SizeRootFs"] >= c["SizeRw"], c
    [v] = d["Volumes"]
    assert v["Name"] == "dfdata" and v["UsageData"]["RefCount"] == 1, v
    assert v["Driver"] == "local" and v["Mountpoint"].endswith(
        "/volumes/dfdata/_data"), v
    assert d["BuildCache"] == []
    only = node.api_json("GET", f"{V}/system/df?type=volume")
    assert set(only) == {"Volumes"}, only
    r = node.api("GET", f"{V}/system/df?type=bogus")
    assert r.status == 400 and "unknown object type" in r.message, r

    rows = parse_table(node.shoal_ok("system", "df"))
    assert [r["TYPE"] for r in rows] == ["Images", "Containers",
                                        "Local Volumes", "Build Cache"], rows
    by = {r["TYPE"]: r for r in rows}
    assert (by["Containers"]["TOTAL"], by["Containers"]["ACTIVE"]) == \
        ("1", "1"), rows
    assert by["Local Volumes"]["ACTIVE"] == "1", rows
    assert re.match(r"^\d+(\.\d+)?kB$", by["Local Volumes"]["SIZE"]), rows
    if os.access(DOCKER, os.X_OK):
        rows = parse_table(node.docker_ok("system", "df"))
        dby = {r["TYPE"]: r for r in rows}
        assert dby["Local Volumes"]["SIZE"] == by["Local Volumes"]["SIZE"]
        assert dby["Images"]["TOTAL"] == by["Images"]["TOTAL"], rows
        assert dby["Containers"]["ACTIVE"] == "1", rows
