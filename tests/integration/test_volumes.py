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
import time
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


def test_volume_events(node):
    since = f"{time.time() - 1:.9f}"
    create(node, {"Name": "ev1"})
    node.api("DELETE", f"{V}/volumes/ev1")
    node.api("POST", f"{V}/volumes/prune")
    until = f"{time.time() + 1:.9f}"
    f = quote(json.dumps({"type": ["volume"]}))
    r = node.api("GET", f"{V}/events?since={since}&until={until}&filters={f}")
    assert r.status == 200, str(r)
    msgs = [json.loads(x) for x in r.body.decode().splitlines()]
    assert [(m["Action"], m["Actor"]["ID"]) for m in msgs] == [
        ("create", "ev1"), ("destroy", "ev1"), ("prune", "")], msgs
    assert msgs[0]["Actor"]["Attributes"] == {"driver": "local"}, msgs[0]
    assert msgs[0]["scope"] == "local" and msgs[0]["Type"] == "volume"
    assert msgs[2]["Actor"]["Attributes"] == {"reclaimed": "0"}, msgs[2]


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


# ------------------------------------------------------------ service mounts


def task_pid(node, service):
    tasks = node.running_tasks(service)
    assert len(tasks) == 1, tasks
    return node.container_pid(tasks[0]["Status"]["ContainerStatus"][
        "ContainerID"])


def in_task(node, service, script):
    """Runs `sh -c script` inside the service's one running task; returns
    (rc, stdout)."""
    r = node.exec_in_task(task_pid(node, service), "sh", "-c", script)
    return r.rc, r.out


def container_ids(node, service):
    return sorted(t["Status"]["ContainerStatus"]["ContainerID"]
                  for t in node.running_tasks(service))


SERVE_AND_COUNT = ["sh", "-c", "date +%s%N >> /www/starts; "
                   "exec httpd -f -p 8000 -h /www"]


def test_volume_data_survives_kill9_of_task_and_shoald(loaded_node):
    node = loaded_node
    node.create_service("counter", cmd=SERVE_AND_COUNT, opts=[
        "--mount", "type=volume,source=www,destination=/www"])
    node.wait_replicas("counter", "1/1")
    v = node.api_json("GET", f"{V}/volumes/www")
    data = v["Mountpoint"]
    # Created on first use, with the image's /www copied in.
    with open(os.path.join(data, "index.html")) as f:
        assert f.read() == "Hello from simple_server!\n"
    wait_for(lambda: os.path.exists(os.path.join(data, "starts")), 10,
             "the task's first write")
    (cid,) = container_ids(node, "counter")
    r = node.api("DELETE", f"{V}/volumes/www")
    assert r.status == 409, str(r)
    assert r.message == f"remove www: volume is in use - [{cid}]", r.message
    assert names(node, {"dangling": ["false"]}) == ["www"]

    # kill -9 of the task: a new one sees what the old one wrote.
    os.kill(node.container_pid(cid), signal.SIGKILL)
    wait_for(lambda: len(container_ids(node, "counter")) == 1 and
             container_ids(node, "counter") != [cid], 30, "a new task")
    wait_for(lambda: len(open(os.path.join(data, "starts")).read()
                         .split()) == 2, 10, "the second task's write")
    rc, out = in_task(node, "counter", "cat /www/index.html; wc -l "
                      "< /www/starts")
    assert rc == 0 and out.split("\n")[:2] == [
        "Hello from simple_server!", "2"], out

    # kill -9 of shoald: the task runs on, the volume is still in use, and
    # the data is there.
    (cid2,) = container_ids(node, "counter")
    node.kill_daemon()
    node.start_daemon()
    node.wait_manager()
    node.wait_replicas("counter", "1/1")
    assert container_ids(node, "counter") == [cid2]
    r = node.api("DELETE", f"{V}/volumes/www")
    assert r.status == 409 and cid2 in r.message, str(r)
    rc, out = in_task(node, "counter", "echo after >> /www/starts; "
                      "wc -l < /www/starts")
    assert rc == 0 and out.strip() == "3", out

    # Gone with the service: the volume stays, unused, with its data.
    node.shoal_ok("service", "rm", "counter")
    wait_for(lambda: names(node, {"dangling": ["true"]}) == ["www"], 30,
             "www unused once the service is gone")
    with open(os.path.join(data, "starts")) as f:
        assert len(f.read().split()) == 3
    r = node.api("DELETE", f"{V}/volumes/www")
    assert r.status == 204, str(r)


def test_volume_mount_options(loaded_node):
    """volume-nocopy, volume-label, volume-opt (a tmpfs volume mounted while
    in use), readonly."""
    node = loaded_node
    node.create_service("opts", cmd=["sleep", "1000"], opts=[
        "--mount", "type=volume,source=empty,destination=/www,volume-nocopy,"
        "volume-label=team=a,volume-driver=local",
        "--mount", "type=volume,source=tv,destination=/t,volume-opt=type="
        "tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=2m",
        "--mount", "type=volume,source=rov,destination=/ro,readonly"])
    node.wait_replicas("opts", "1/1")
    empty = node.api_json("GET", f"{V}/volumes/empty")
    assert empty["Labels"] == {"team": "a"}, empty
    assert os.listdir(empty["Mountpoint"]) == []
    tv = node.api_json("GET", f"{V}/volumes/tv")
    assert tv["Options"] == {"device": "tmpfs", "o": "size=2m",
                             "type": "tmpfs"}, tv
    rc, out = in_task(node, "opts", "ls -A /www | wc -l; "
                      "grep ' /t ' /proc/mounts; "
                      "touch /ro/x 2>/dev/null && echo ro-writable || "
                      "echo ro-refused; touch /t/x && echo t-writable")
    lines = out.splitlines()
    assert rc == 0 and lines[0].strip() == "0", out
    assert lines[1].startswith("tmpfs /t tmpfs rw,") and \
        "size=2048k" in lines[1], out
    assert lines[2:] == ["ro-refused", "t-writable"], out
    # On the node the tmpfs sits on the volume's data directory, through
    # a restart of shoald...
    mounted = f"tmpfs {tv['Mountpoint']} tmpfs"
    assert mounted in node.mounts()
    node.kill_daemon()
    node.start_daemon()
    node.wait_manager()
    assert mounted in node.mounts()
    rc, out = in_task(node, "opts", "ls /t")
    assert rc == 0 and out.split() == ["x"], out
    # ...until its last user goes.
    node.shoal_ok("service", "rm", "opts")
    wait_for(lambda: mounted not in node.mounts(), 30,
             "the tmpfs volume unmounted after its last user")
    assert names(node, {"dangling": ["true"]}) == ["empty", "rov", "tv"]


def test_bind_and_tmpfs_mounts(loaded_node):
    node = loaded_node
    src = node.dir / "bindsrc"
    src.mkdir()
    (src / "hello").write_text("from the host\n")
    sv = create(node, {"Name": "subv"}).json()
    os.makedirs(os.path.join(sv["Mountpoint"], "part"))
    with open(os.path.join(sv["Mountpoint"], "part", "p"), "w") as f:
        f.write("part of a volume\n")
    node.create_service("binds", cmd=["sleep", "1000"], opts=[
        "--mount", "type=volume,source=subv,destination=/sub,"
        "volume-subpath=part",
        "--mount", f"type=bind,source={src},destination=/rw",
        "--mount", f"type=bind,source={src},destination=/ro,readonly",
        "--mount", "type=tmpfs,destination=/scratch,tmpfs-size=1m,"
        "tmpfs-mode=0700"])
    node.wait_replicas("binds", "1/1")
    rc, out = in_task(node, "binds", "cat /ro/hello; "
                      "echo from-task > /rw/written && echo rw-ok; "
                      "touch /ro/x 2>/dev/null && echo ro-writable || "
                      "echo ro-refused; grep ' /scratch ' /proc/mounts; "
                      "stat -c %a /scratch; ls /sub")
    lines = out.splitlines()
    assert rc == 0 and lines[:3] == ["from the host", "rw-ok",
                                     "ro-refused"], out
    assert lines[3].startswith("tmpfs /scratch tmpfs rw,") and \
        "size=1024k" in lines[3] and "mode=700" in lines[3], out
    assert lines[4] == "700", out
    assert lines[5:] == ["p"], out
    assert (src / "written").read_text() == "from-task\n"


def test_mount_bad_input(loaded_node):
    node = loaded_node
    node.create_service("keep", cmd=["sleep", "1000"])
    before = (sorted(s["NAME"] for s in node.service_ls()), names(node))
    bad = [
        ("type=foo,destination=/d", 'invalid MountType: "foo"'),
        ("type=volume,source=a/b,destination=/d", "invalid volume name"),
        ("type=volume,source=v1,destination=/d,volume-opt=foo=bar",
         'invalid mount config for type "volume": invalid option: "foo"'),
        ("type=volume,source=v1,destination=/d,volume-opt=type=tmpfs",
         'missing required option: "device"'),
        ("type=volume,source=v1,destination=/d,volume-driver=nfs",
         'volume driver "nfs" is not supported'),
        ("type=bind,source=relative,destination=/d",
         "invalid bind mount source"),
        ("type=volume,source=v1,destination=relative", "invalid mount target"),
        ("type=volume,source=v1,destination=/d,volume-subpath=../x",
         "subpath must be a relative path within the volume"),
    ]
    for mount, msg in bad:
        r = node.shoal("service", "create", "--detach", "--name", "bad",
                       "--mount", mount, "simple_server", "sleep", "1")
        assert r.rc != 0 and msg in r.err, (mount, str(r))
    # The same through the API: Docker's error shape, status 400.
    spec = {"Name": "bad", "TaskTemplate": {"ContainerSpec": {
        "Image": "simple_server", "Mounts": [
            {"Type": "foo", "Target": "/d"}]}}}
    r = node.api("POST", f"{V}/services/create", spec)
    assert r.status == 400 and r.message == 'invalid MountType: "foo"', r
    assert (sorted(s["NAME"] for s in node.service_ls()), names(node)) == \
        before

    # A bind source missing on the node: the task fails, saying why.
    node.create_service("nosrc", cmd=["sleep", "1000"], opts=[
        "--restart-condition", "none",
        "--mount", "type=bind,source=/nonexistent-bind-src,destination=/d"])

    def rejected():
        ts = node.tasks("nosrc")
        return ts and ts[0]["Status"]["State"] == "rejected" and ts[0]
    t = wait_for(rejected, 30, "the task rejected")
    assert t["Status"]["Err"] == (
        'invalid mount config for type "bind": bind source path does not '
        'exist: /nonexistent-bind-src'), t["Status"]
    out = node.shoal_ok("service", "ps", "--no-trunc", "nosrc")
    assert "bind source path does not exist" in out, out


# ------------------------------------------------------ host-mode publishing
# (issue 9 §7; with the volume tests because they landed together)


def curl(node, url):
    return node.exec("curl", "-sS", "--max-time", "5", url, timeout=20)


def one_task(node, service):
    ts = node.running_tasks(service)
    assert len(ts) == 1, ts
    return ts[0]


HOSTNAME_SERVER = ["sh", "-c", "hostname > /www/index.html; "
                   "trap 'exit 0' TERM; httpd -f -p 8000 -h /www & wait"]


def test_host_mode_publish(loaded_node):
    node = loaded_node
    net = node.api("POST", "/networks/create", {"Name": "hostnet",
                                                "Driver": "overlay"})
    assert net.status == 201, str(net)
    net_id = net.json()["Id"]
    node.create_service("hm", cmd=HOSTNAME_SERVER, opts=[
        "--network", "hostnet",
        "--publish", "mode=host,target=8000,published=8081"])
    node.wait_replicas("hm", "1/1")
    want = {"Protocol": "tcp", "TargetPort": 8000, "PublishedPort": 8081,
            "PublishMode": "host"}
    svc = node.service("hm")
    assert svc["Endpoint"]["Ports"] == [want], svc["Endpoint"]
    assert svc["Endpoint"]["Spec"]["Ports"] == [want], svc["Endpoint"]
    # Not on ingress: the mapping goes to the task's own address.
    assert [v["NetworkID"] for v in svc["Endpoint"]["VirtualIPs"]] == \
        [net_id], svc["Endpoint"]
    t = one_task(node, "hm")
    assert [a["Network"]["ID"] for a in t["NetworksAttachments"]] == \
        [net_id], t["NetworksAttachments"]
    wait_for(lambda: one_task(node, "hm")["Status"]["PortStatus"] ==
             {"Ports": [want]}, 10, "the task's PortStatus")
    host = node.exec_in_task(task_pid(node, "hm"), "hostname").out.strip()

    r = curl(node, "http://127.0.0.1:8081/")
    assert r.rc == 0 and r.out.strip() == host, str(r)
    # The target port is the task's alone, and no routing mesh carries it.
    r = curl(node, "http://127.0.0.1:8000/")
    assert r.rc != 0, str(r)
    rows = parse_table(node.shoal_ok("service", "ps", "hm"))
    assert rows[0]["PORTS"] == "*:8081->8000/tcp", rows
    out = node.shoal_ok("service", "inspect", "--pretty", "hm")
    assert "PublishMode = host" in out and "PublishedPort = 8081" in out, out

    # The port is bound once per node: a second replica here waits.
    node.shoal_ok("service", "scale", "--detach", "hm=2")

    def pending():
        ts = [x for x in node.tasks("hm") if x["Status"]["State"] ==
              "pending"]
        return ts and ts[0]
    p = wait_for(pending, 20, "the second task pending")
    assert p["Status"]["Err"] == ("no suitable node (host-mode port already "
                                  "in use on 1 node)"), p["Status"]

    # Through a restart of shoald the mapping stays.
    node.kill_daemon()
    node.start_daemon()
    node.wait_manager()
    r = curl(node, "http://127.0.0.1:8081/")
    assert r.rc == 0 and r.out.strip() == host, str(r)
    node.shoal_ok("service", "rm", "hm")
    wait_for(lambda: curl(node, "http://127.0.0.1:8081/").rc != 0, 30,
             "port 8081 closed with the service gone")


def test_host_mode_dynamic_port_without_networks(loaded_node):
    """No published port: the node picks one (Docker's dynamic range) and
    reports it in PortStatus; a task without networks of its own maps from
    its address on ingress (shoal has no bridge network)."""
    node = loaded_node
    node.create_service("dyn", cmd=HOSTNAME_SERVER, opts=[
        "--publish", "mode=host,target=8000"])
    node.wait_replicas("dyn", "1/1")
    svc = node.service("dyn")
    assert svc["Endpoint"]["Ports"] == [
        {"Protocol": "tcp", "TargetPort": 8000, "PublishMode": "host"}], svc

    def reported():
        ports = one_task(node, "dyn")["Status"]["PortStatus"].get("Ports")
        return ports and ports[0]
    p = wait_for(reported, 10, "the dynamic port in PortStatus")
    assert p["PublishMode"] == "host" and p["TargetPort"] == 8000, p
    assert 49153 <= p["PublishedPort"] <= 65535, p
    host = node.exec_in_task(task_pid(node, "dyn"), "hostname").out.strip()
    r = curl(node, f"http://127.0.0.1:{p['PublishedPort']}/")
    assert r.rc == 0 and r.out.strip() == host, str(r)
    # The same port after shoald comes back.
    node.kill_daemon()
    node.start_daemon()
    node.wait_manager()
    assert reported() == p
    r = curl(node, f"http://127.0.0.1:{p['PublishedPort']}/")
    assert r.rc == 0 and r.out.strip() == host, str(r)
