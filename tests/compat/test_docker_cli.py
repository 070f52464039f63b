# SPDX-License-Identifier: Apache-2.0
"""The unmodified docker CLI (/usr/local/bin/docker) against shoald: info,
version, node ls, service create (-d and waiting), ls, ps, inspect, scale,
update --env-add, logs, rm, and the container commands ps and kill.
Skipped where the docker CLI is not installed."""

import json
import os
import re

import pytest

from shoalnode import DOCKER, SERVICE_ID_LINE, log_messages, parse_table, \
    wait_for

pytestmark = pytest.mark.skipif(not os.access(DOCKER, os.X_OK),
                                reason=f"{DOCKER} not installed")


def test_version(node):
    out = node.docker_ok("version")
    assert "Server:" in out, out
    assert re.search(r"API version:\s+1\.\d+", out), out


def test_info(swarm_node):
    out = swarm_node.docker_ok("info")
    assert "Swarm: active" in out, out
    assert "Is Manager: true" in out, out
    assert re.search(r"NodeID: [a-z0-9]{25}", out), out
    assert f"Name: {swarm_node.hostname}" in out, out


def test_node_ls(swarm_node):
    rows = parse_table(swarm_node.docker_ok("node", "ls"))
    assert len(rows) == 1, rows
    r = rows[0]
    assert r["ID"].endswith(" *"), r
    assert r["HOSTNAME"] == swarm_node.hostname
    assert (r["STATUS"], r["AVAILABILITY"], r["MANAGER STATUS"]) == \
        ("Ready", "Active", "Leader"), r


def test_service_create_detached_ls_ps_inspect_rm(loaded_node):
    node = loaded_node
    sid = node.create_service("simple-server", client="docker",
                              opts=["--replicas", "2"],
                              cmd=["httpd", "-f", "-p", "8000", "-h",
                                   "/www"])
    wait_for(lambda: _docker_replicas(node, "simple-server") == "2/2", 60,
             "REPLICAS 2/2 in docker service ls")

    rows = parse_table(node.docker_ok("service", "ls"))
    assert [(r["ID"], r["NAME"], r["MODE"], r["REPLICAS"]) for r in rows] \
        == [(sid[:12], "simple-server", "replicated", "2/2")], rows

    rows = parse_table(node.docker_ok("service", "ps", "simple-server"))
    assert sorted(r["NAME"] for r in rows) == ["simple-server.1",
                                              "simple-server.2"], rows
    for r in rows:
        assert r["NODE"] == node.hostname, r
        assert r["DESIRED STATE"] == "Running", r
        assert r["CURRENT STATE"].startswith("Running"), r

    (svc,) = json.loads(node.docker_ok("service", "inspect",
                                       "simple-server"))
    assert svc["ID"] == sid
    assert svc["Spec"]["Name"] == "simple-server"
    assert svc["Spec"]["Mode"]["Replicated"]["Replicas"] == 2
    cs = svc["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert cs["Image"].startswith("simple_server"), cs
    assert cs["Args"] == ["httpd", "-f", "-p", "8000", "-h", "/www"], cs

    out = node.docker_ok("service", "rm", "simple-server")
    assert out.strip() == "simple-server", out
    assert parse_table(node.docker_ok("service", "ls")) == []
    wait_for(lambda: _swarm_containers(node) == [], 30,
             "docker ps to list no task container")


def test_service_create_waits_and_scale(loaded_node):
    node = loaded_node
    out = node.docker_ok("service", "create", "--name", "w",
                         "--restart-delay", "0s", "--detach=false",
                         "simple_server", "sleep", "100000", timeout=90)
    m = SERVICE_ID_LINE.search(out)
    assert m, out
    assert "overall progress: 1 out of 1 tasks" in out, out
    assert f"verify: Service {m.group(0)} converged" in out, out

    out = node.docker_ok("service", "scale", "w=3", timeout=90)
    assert "w scaled to 3" in out, out
    assert "overall progress: 3 out of 3 tasks" in out, out
    assert _docker_replicas(node, "w") == "3/3"


def test_service_update_env_add(loaded_node):
    node = loaded_node
    node.create_service("upd", client="docker", cmd=["sleep", "100000"])
    wait_for(lambda: _docker_replicas(node, "upd") == "1/1", 60, "1/1")
    out = node.docker_ok("service", "update", "--detach", "--env-add",
                         "A=1", "upd")
    assert out.strip() == "upd", out
    (svc,) = json.loads(node.docker_ok("service", "inspect", "upd"))
    env = svc["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env")
    assert env == ["A=1"], env

    def updated_container():
        cs = node.containers("upd")
        if len(cs) != 1:
            return None
        full = node.container(cs[0]["Id"])
        return "A=1" in (full.get("Config") or {}).get("Env", []) and full
    wait_for(updated_container, 60, "a container running with A=1")
    wait_for(lambda: _docker_replicas(node, "upd") == "1/1", 60, "1/1")


def test_service_logs(loaded_node):
    node = loaded_node
    node.create_service("logger", client="docker", cmd=[
        "sh", "-c", "echo line-1; echo line-2 >&2; sleep 100000"])
    def logs():
        r = node.docker("service", "logs", "logger")
        return r.out + r.err
    wait_for(lambda: "line-2" in logs(), 30,
             "the logger's output in docker service logs")
    r = node.docker("service", "logs", "logger")
    assert r.rc == 0, r
    both = r.out + r.err
    assert sorted(log_messages(both)) == ["line-1", "line-2"], both
    assert re.search(rf"^logger\.1\.[a-z0-9]{{12}}@{node.hostname}\s+\| "
                     rf"line-1$", both, re.M), both


def test_ps_and_kill(loaded_node):
    node = loaded_node
    node.create_service("k", client="docker", opts=["--replicas", "2"],
                        cmd=["sleep", "100000"])
    rows = wait_for(lambda: len(_swarm_containers(node)) == 2 and
                    _swarm_containers(node), 60, "2 containers in docker ps")
    for r in rows:
        assert re.match(r"k\.[12]\.[a-z0-9]{25}$", r["NAMES"]), r
        assert r["IMAGE"].startswith("simple_server"), r
    victim = rows[0]["CONTAINER ID"]
    out = node.docker_ok("kill", victim)
    assert out.strip() == victim, out
    wait_for(lambda: len(_swarm_containers(node)) == 2 and victim not in
             [r["CONTAINER ID"] for r in _swarm_containers(node)], 30,
             "the killed container replaced")
    wait_for(lambda: _docker_replicas(node, "k") == "2/2", 30, "2/2")


def _docker_replicas(node, name):
    for r in parse_table(node.docker_ok("service", "ls")):
        if r["NAME"] == name:
            return r["REPLICAS"]
    return None


def _swarm_containers(node):
    return parse_table(node.docker_ok("ps"))
