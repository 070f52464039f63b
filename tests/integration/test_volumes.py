# SPDX-License-Identifier: Apache-2.0
"""Volumes (issue 9): the /volumes API in Docker's shapes and words
(create with labels and driver options, list filters, inspect, rm of an
unused / in-use / missing volume, prune of anonymous or all volumes), the
shoal volume commands, volumes surviving shoald restarts; service mounts:
named volumes created on first use with the image's content copied in,
volumes with driver options mounted while in use, binds, tmpfs, read-only,
data surviving kill -9 of the task and of shoald, and bad input refused with
nothing created."""

import json
import os
import signal
from urllib.parse import quote

from shoalnode import log_messages, parse_table, wait_for

V = "/v1.50"


def volumes(node, filters=None):
    path = f"{V}/volumes"
    if filters is not None:
        path += "?filters=" + quote(json.dumps(filters))
    r = node.api("GET", path)
    assert r.status == 200, str(r)
    return r.json()


def names(node, filters=None):
    return sorted(v["Name"] for v in volumes(node, filters)["Volumes"])


def create(node, body):
    return node.api("POST", f"{V}/volumes/create", body)


def volume_dirs(node):
    root = os.path.join(node.data_root, "volumes")
    return sorted(d for d in os.listdir(root)) if os.path.isdir(root) else []


# ---------------------------------------------------------------- the API


def test_api_create_inspect_list_remove(node):
    """Volumes are node-local: no swarm needed."""
    assert volumes(node) == {"Volumes": [], "Warnings": None}

    r = create(node, {"Name": "data", "Labels": {"app": "web", "a": "1"},
                      "DriverOpts": {}})
    assert r.status == 201, str(r)
    v = r.json()
    assert list(v) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name",
                       "Options", "Scope"], v
    assert v["Name"] == "data" and v["Driver"] == "local", v
    assert v["Scope"] == "local" and v["Options"] == {}, v
    assert v["Labels"] == {"a": "1", "app": "web"}, v
    assert v["Mountpoint"] == os.path.join(node.data_root,
                                           "volumes/data/_data"), v
    assert os.path.isdir(v["Mountpoint"])
    assert v["CreatedAt"].endswith("Z") and "." not in v["CreatedAt"], v

    # The same name again: the existing volume, unchanged (dockerd's rule).
    r = create(node, {"Name": "data", "Labels": {"other": "x"}})
    assert r.status == 201 and r.json() == v, str(r)

    r = create(node, {"Name": "tmp1", "DriverOpts": {
        "type": "tmpfs", "device": "tmpfs", "o": "size=10m,uid=1000"}})
    assert r.status == 201, str(r)
    assert r.json()["Options"] == {"device": "tmpfs",
                                   "o": "size=10m,uid=1000",
                                   "type": "tmpfs"}, r.json()
    assert r.json()["Labels"] is None
    anon = create(node, {}).json()
    assert len(anon["Name"]) == 64, anon
    assert anon["Labels"] == {"com.docker.volume.anonymous": ""}, anon

    assert node.api_json("GET", f"{V}/volumes/data") == v
    assert names(node) == sorted(["data", "tmp1", anon["Name"]])
    assert names(node, {"name": ["dat"]}) == ["data"]
    assert names(node, {"label": ["app=web"]}) == ["data"]
    assert names(node, {"label": ["app=db"]}) == []
    assert names(node, {"driver": ["local"]}) == sorted(
        ["data", "tmp1", anon["Name"]])
    assert names(node, {"dangling": ["true"]}) == sorted(
        ["data", "tmp1", anon["Name"]])
    assert names(node, {"dangling": ["false"]}) == []

    r = node.api("GET", f"{V}/volumes/nosuch")
    assert r.status == 404 and r.message == "get nosuch: no such volume", r

    r = node.api("DELETE", f"{V}/volumes/data")
    assert r.status == 204 and not r.body, str(r)
    assert not os.path.exists(v["Mountpoint"])
    r = node.api("DELETE", f"{V}/volumes/data")
    assert r.status == 404 and r.message == "get data: no such volume", r
    r = node.api("DELETE", f"{V}/volumes/data?force=1")
    assert r.status == 204, str(r)


def test_api_bad_input_changes_nothing(node):
    create(node, {"Name": "keep"})
    before = (names(node), volume_dirs(node))
    cases = [
        ({"Name": "a"}, 400, "create a: volume name is too short, names "
         "should be at least two alphanumeric characters"),
        ({"Name": "a/b"}, 400, 'create a/b: "a/b" includes invalid '
         'characters for a local volume name, only "[a-zA-Z0-9]'
         '[a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
         'directory, use absolute path'),
        ({"Name": "_x"}, 400, None),
        ({"Name": "ok1", "DriverOpts": {"foo": "bar"}}, 400,
         'create ok1: invalid option: "foo"'),
        ({"Name": "ok2", "DriverOpts": {"type": "tmpfs"}}, 400,
         'create ok2: missing required option: "device"'),
        ({"Name": "ok3", "DriverOpts": {"size": "1G"}}, 400,
         "create ok3: quota size requested but no quota support"),
        ({"Name": "ok4", "DriverOpts": {"type": "none", "o": "bind",
                                        "device": "/nonexistent-src"}}, 400,
         "create ok4: bind source path does not exist: /nonexistent-src"),
        ({"Name": "ok5", "Driver": "nfs-plugin"}, 404,
         'create ok5: error looking up volume plugin nfs-plugin: plugin '
         '"nfs-plugin" not found'),
        ({"Name": 5}, 400, None),
        ({"Name": "ok6", "Labels": ["x"]}, 400, None),
        ({"Name": "ok7", "DriverOpts": {"type": 1}}, 400, None),
    ]
    for body, status, msg in cases:
        r = create(node, body)
        assert r.status == status, (body, str(r))
        assert "message" in r.json(), (body, str(r))
        if msg is not None:
            assert r.message == msg, (body, r.message)
    r = node.api("POST", f"{V}/volumes/create", b"{not json")
    assert r.status == 400, str(r)
    for f in ({"dangling": ["maybe"]}, {"until": ["1h"]}):
        r = node.api("GET", f"{V}/volumes?filters=" + quote(json.dumps(f)))
        assert r.status == 400, (f, str(r))
    assert r.message == "invalid filter 'until'", r.message
    assert (names(node), volume_dirs(node)) == before


def test_api_prune(node):
    for n in ("named1", "named2"):
        create(node, {"Name": n, "Labels": {"keep": "yes"} if n == "named2"
                      else {}})
    create(node, {"Name": "mnt1", "DriverOpts": {"type": "tmpfs",
                                                  "device": "tmpfs"}})
    anon = create(node, {}).json()["Name"]
    with open(os.path.join(node.data_root, "volumes", anon, "_data", "f"),
              "w") as f:
        f.write("12345")
    # Since API 1.42 only anonymous volumes, unless all=true.
    r = node.api("POST", f"{V}/volumes/prune")
    assert r.status == 200, str(r)
    assert r.json() == {"VolumesDeleted": [anon], "SpaceReclaimed": 5}, r
    assert names(node) == ["mnt1", "named1", "named2"]
    f = quote(json.dumps({"all": ["true"], "label!": ["keep=yes"]}))
    rep = node.api_json("POST", f"{V}/volumes/prune?filters={f}")
    assert rep == {"VolumesDeleted": ["named1"], "SpaceReclaimed": 0}, rep
    r = node.api("POST", f"{V}/volumes/prune?filters=" + quote(json.dumps(
        {"all": ["maybe"]})))
    assert r.status == 400, str(r)
    # API 1.41: named volumes too; volumes with options never (no data).
    rep = node.api_json("POST", "/v1.41/volumes/prune")
    assert rep == {"VolumesDeleted": ["named2"], "SpaceReclaimed": 0}, rep
    assert names(node) == ["mnt1"]


def test_volumes_survive_shoald_restart(node):
    v = create(node, {"Name": "kept", "Labels": {"k": "v"}}).json()
    t = create(node, {"Name": "opts", "DriverOpts": {
        "type": "tmpfs", "device": "tmpfs", "o": "size=1m"}}).json()
    with open(os.path.join(v["Mountpoint"], "f"), "w") as f:
        f.write("data")
    node.kill_daemon()
    node.start_daemon()
    assert node.api_json("GET", f"{V}/volumes/kept") == v
    assert node.api_json("GET", f"{V}/volumes/opts") == t
    with open(os.path.join(v["Mountpoint"], "f")) as f:
        assert f.read() == "data"
    node.restart_daemon()
    assert names(node) == ["kept", "opts"]


# ---------------------------------------------------------------- the CLI


def test_shoal_volume_commands(node):
    assert node.shoal_ok("volume", "create", "v1") == "v1\n"
    out = node.shoal_ok("volume", "create", "--label", "app=web", "-o",
                        "type=tmpfs", "-o", "device=tmpfs", "-o",
                        "o=size=5m", "v2")
    assert out == "v2\n"
    anon = node.shoal_ok("volume", "create").strip()
    assert len(anon) == 64
    out = node.shoal_ok("volume", "ls")
    assert out.splitlines()[0] == "DRIVER    VOLUME NAME", out
    assert parse_table(out) == [
        {"DRIVER": "local", "VOLUME NAME": n}
        for n in sorted([anon, "v1", "v2"])], out
    assert node.shoal_ok("volume", "ls", "-q", "-f", "label=app") == "v2\n"
    assert node.shoal_ok("volume", "ls", "--format",
                         "{{.Name}} {{.Driver}} {{.Labels}}", "-f",
                         "name=v2") == "v2 local app=web\n"
    got = json.loads(node.shoal_ok("volume", "inspect", "v2"))
    assert got == [node.api_json("GET", f"{V}/volumes/v2")]
    assert node.shoal_ok("volume", "inspect", "-f", "{{.Options.type}}",
                         "v2") == "tmpfs\n"
    r = node.shoal("volume", "inspect", "v1", "nosuch")
    assert r.rc == 1 and json.loads(r.out)[0]["Name"] == "v1", str(r)
    assert "get nosuch: no such volume" in r.err, str(r)

    r = node.shoal("volume", "create", "x")
    assert r.rc == 1 and "volume name is too short" in r.err, str(r)
    r = node.shoal("volume", "create", "-o", "foo=bar", "v3")
    assert r.rc == 1 and 'create v3: invalid option: "foo"' in r.err, str(r)
    r = node.shoal("volume", "create", "--name", "a1", "a2")
    assert r.rc == 1 and "conflicting options" in r.err, str(r)

    r = node.shoal("volume", "rm", "v1", "nosuch")
    assert r.rc == 1 and r.out == "v1\n", str(r)
    assert "Error response from daemon: get nosuch: no such volume" in r.err
    assert node.shoal_ok("volume", "rm", "-f", "nosuch") == "nosuch\n"

    out = node.shoal_ok("volume", "prune", "-f")
    assert out == f"Deleted Volumes:\n{anon}\n\nTotal reclaimed space: 0B\n"
    r = node.shoal("volume", "prune", input="n\n")
    assert r.rc == 0 and "anonymous local volumes" in r.out, str(r)
    node.shoal_ok("volume", "create", "v4")
    out = node.shoal_ok("volume", "prune", "-a", input="y\n")
    assert "WARNING! This will remove all local volumes" in out, out
    assert "Deleted Volumes:\nv4\n" in out, out
    assert names(node) == ["v2"]  # options: never pruned
