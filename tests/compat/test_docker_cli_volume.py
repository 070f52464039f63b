# SPDX-License-Identifier: Apache-2.0
"""The unmodified docker CLI's volume commands against shoald (issue 9):
volume create (with --label and --opt), ls (Docker's table, filters, -q,
--format), inspect (Docker's shape, --format), rm (in use: refused with
dockerd's message), prune, a service --mount that creates its volume
on first use, and --publish mode=host (PORTS in service ps). Skipped where
the docker CLI is not installed."""

import json
import os

import pytest

from shoalnode import DOCKER, parse_table, wait_for

pytestmark = pytest.mark.skipif(not os.access(DOCKER, os.X_OK),
                                reason=f"{DOCKER} not installed")


def test_volume_create_ls_inspect_rm(node):
    assert node.docker_ok("volume", "create", "v1") == "v1\n"
    out = node.docker_ok("volume", "create", "--label", "app=web",
                         "--opt", "type=tmpfs", "--opt", "device=tmpfs",
                         "--opt", "o=size=10m", "v2")
    assert out == "v2\n"
    out = node.docker_ok("volume", "ls")
    assert out.splitlines()[0].split() == ["DRIVER", "VOLUME", "NAME"], out
    assert parse_table(out) == [{"DRIVER": "local", "VOLUME NAME": "v1"},
                                {"DRIVER": "local", "VOLUME NAME": "v2"}]
    assert node.docker_ok("volume", "ls", "-q") == "v1\nv2\n"
    assert node.docker_ok("volume", "ls", "-q", "--filter",
                          "label=app=web") == "v2\n"
    assert node.docker_ok("volume", "ls", "--filter", "dangling=true",
                          "--format", "{{.Name}}:{{.Scope}}") == \
        "v1:local\nv2:local\n"

    got = json.loads(node.docker_ok("volume", "inspect", "v1", "v2"))
    assert [v["Name"] for v in got] == ["v1", "v2"], got
    v2 = got[1]
    assert v2["Driver"] == "local" and v2["Scope"] == "local", v2
    assert v2["Labels"] == {"app": "web"}, v2
    assert v2["Options"] == {"device": "tmpfs", "o": "size=10m",
                             "type": "tmpfs"}, v2
    assert v2["Mountpoint"].endswith("/volumes/v2/_data"), v2
    assert node.docker_ok("volume", "inspect", "--format",
                          "{{.Driver}} {{.Labels.app}}", "v2") == \
        "local web\n"
    r = node.docker("volume", "inspect", "nosuch")
    assert r.rc == 1 and "no such volume" in r.err, str(r)

    r = node.docker("volume", "create", "a/b")
    assert r.rc != 0 and "includes invalid characters" in r.err, str(r)
    r = node.docker("volume", "create", "--opt", "bogus=1", "v3")
    assert r.rc != 0 and 'invalid option: "bogus"' in r.err, str(r)

    assert node.docker_ok("volume", "rm", "v1") == "v1\n"
    r = node.docker("volume", "rm", "v1")
    assert r.rc == 1 and "get v1: no such volume" in r.err, str(r)
    assert node.docker("volume", "rm", "-f", "v1").rc == 0
    anon = node.docker_ok("volume", "create").strip()
    out = node.docker_ok("volume", "prune", "-f")
    assert anon in out and "Total reclaimed space:" in out, out
    assert node.docker_ok("volume", "ls", "-q") == "v2\n"


def test_service_mount_volume_in_use(loaded_node):
    node = loaded_node
    node.create_service("app", client="docker", opts=[
        "--mount", "type=volume,source=appdata,destination=/data,"
        "volume-label=team=a"],
        cmd=["sh", "-c", "echo hi > /data/f; exec httpd -f -p 8000 -h /www"])
    node.wait_replicas("app", "1/1")
    vols = parse_table(node.docker_ok("volume", "ls"))
    assert {"DRIVER": "local", "VOLUME NAME": "appdata"} in vols, vols
    v = json.loads(node.docker_ok("volume", "inspect", "appdata"))[0]
    assert v["Labels"] == {"team": "a"}, v
    cid = node.running_tasks("app")[0]["Status"]["ContainerStatus"][
        "ContainerID"]
    r = node.docker("volume", "rm", "appdata")
    assert r.rc == 1, str(r)
    assert f"remove appdata: volume is in use - [{cid}]" in r.err, str(r)
    node.docker_ok("service", "rm", "app")
    wait_for(lambda: node.docker("volume", "rm", "appdata").rc == 0, 30,
             "appdata removable once the service is gone")


def test_host_mode_publish_with_docker(loaded_node):
    """docker service create --publish mode=host: the task's PORTS in
    docker service ps, the port in docker service inspect."""
    node = loaded_node
    node.create_service("hm", client="docker", opts=[
        "--publish", "mode=host,published=8083,target=8000"],
        cmd=["httpd", "-f", "-p", "8000", "-h", "/www"])
    node.wait_replicas("hm", "1/1")
    want = {"Protocol": "tcp", "TargetPort": 8000, "PublishedPort": 8083,
            "PublishMode": "host"}
    ep = json.loads(node.docker_ok("service", "inspect", "--format",
                                   "{{json .Endpoint.Ports}}", "hm"))
    assert ep == [want], ep

    def ports():
        rows = parse_table(node.docker_ok("service", "ps", "hm"))
        return rows and rows[0].get("PORTS")
    wait_for(lambda: ports() == "*:8083->8000/tcp", 20,
             "PORTS in docker service ps")
    r = node.exec("curl", "-sS", "--max-time", "5", "http://127.0.0.1:8083/")
    assert r.rc == 0 and "Hello from simple_server!" in r.out, str(r)
