# SPDX-License-Identifier: Apache-2.0
"""The docker CLI and what happens around a task on its node: a service
with --health-cmd shows `(healthy)` in docker ps and State.Health in docker
inspect, --init and --hostname templates reach the container, and a health
interval below 1ms is refused with swarm's error. Skipped where the docker
CLI is not installed."""

import json
import os
import re

import pytest

from shoalnode import DOCKER, log_messages, parse_table, wait_for

pytestmark = pytest.mark.skipif(not os.access(DOCKER, os.X_OK),
                                reason=f"{DOCKER} not installed")


def test_health_in_docker_ps_and_inspect(loaded_node):
    node = loaded_node
    node.create_service("dhc", client="docker", opts=[
        "--health-cmd", "test -d /www", "--health-interval", "200ms",
        "--health-retries", "2"], cmd=["sleep", "1000"])

    def row():
        rows = [r for r in parse_table(node.docker_ok("ps"))
                if r["NAMES"].startswith("dhc.1.")]
        return rows[0] if rows else None
    wait_for(lambda: row() and row()["STATUS"].endswith("(healthy)"), 30,
             "(healthy) in docker ps")
    assert re.match(r"^Up .+ \(healthy\)$", row()["STATUS"]), row()
    st = json.loads(node.docker_ok("inspect", row()["CONTAINER ID"]))[0][
        "State"]
    assert st["Health"]["Status"] == "healthy", st
    assert st["Health"]["Log"][-1]["ExitCode"] == 0, st
    out = node.docker_ok("service", "ps", "--format", "{{.CurrentState}}",
                         "dhc")
    assert out.startswith("Running"), out
    spec = json.loads(node.docker_ok("service", "inspect", "dhc"))[0]["Spec"]
    hc = spec["TaskTemplate"]["ContainerSpec"]["Healthcheck"]
    assert hc["Test"] == ["CMD-SHELL", "test -d /www"], hc
    assert hc["Interval"] == 200_000_000 and hc["Retries"] == 2, hc


def test_init_and_hostname_template(loaded_node):
    node = loaded_node
    node.create_service("dinit", client="docker", opts=[
        "--init", "--hostname", "{{.Service.Name}}-{{.Task.Slot}}",
        "--restart-condition", "none"],
        cmd=["sh", "-c", "hostname; head -c 17 /proc/1/cmdline; echo; "
             "echo DONE"])
    wait_for(lambda: "DONE" in node.docker_ok("service", "logs", "dinit"),
             30, "dinit done")
    out = log_messages(node.docker_ok("service", "logs", "dinit"))
    assert out == ["dinit-1", "/sbin/docker-init", "DONE"], out


def test_health_interval_below_1ms_refused(loaded_node):
    node = loaded_node
    r = node.docker("service", "create", "--name", "bad", "--health-cmd",
                    "true", "--health-interval", "500us", "simple_server")
    assert r.rc != 0, r
    assert "Interval in HealthConfig cannot be less than 1ms" in r.err, r
    assert parse_table(node.docker_ok("service", "ls")) == []
