# SPDX-License-Identifier: Apache-2.0
"""shoald restarts: after kill -9 or SIGTERM and a new start, the same
services and the same running containers (re-adopted, never duplicated);
a second shoald on the same data root refuses to start."""

import json
import os
import re
import signal

from shoalnode import api_request, hold_for, read_text, run, wait_for

# Fields of `service inspect` a restart may legitimately change.
VOLATILE = {"UpdatedAt", "Version", "UpdateStatus"}


def inspect(node, service):
    data = json.loads(node.shoal_ok("service", "inspect", service))
    assert len(data) == 1, data
    return {k: v for k, v in data[0].items() if k not in VOLATILE}


def alive(pid):
    stat = read_text(f"/proc/{pid}/stat")
    return bool(stat) and stat.rsplit(")", 1)[1].split()[0] != "Z"


def running_ids(node, service):
    return sorted(c["Id"] for c in node.containers(service))


def start_three(node):
    node.create_service("web", opts=["--replicas", "3"],
                        cmd=["httpd", "-f", "-p", "8000", "-h", "/www"])
    node.wait_replicas("web", "3/3")
    ids = running_ids(node, "web")
    assert len(ids) == 3
    pids = [node.container_pid(i) for i in ids]
    tasks = sorted(t["ID"] for t in node.running_tasks("web"))
    return ids, pids, tasks


def check_same_after_restart(node, ids, tasks, before):
    node.wait_manager()
    node.wait_replicas("web", "3/3")
    # the same containers, re-adopted, and never a fourth one
    hold_for(lambda: running_ids(node, "web") == ids, 2,
             "exactly the same 3 running containers")
    assert sorted(t["ID"] for t in node.running_tasks("web")) == tasks
    assert len(node.task_containers("web")) == 3
    assert inspect(node, "web") == before


def test_kill9_and_restart(loaded_node):
    node = loaded_node
    ids, pids, tasks = start_three(node)
    before = inspect(node, "web")
    node.kill_daemon()
    assert not node.ping()
    assert all(alive(p) for p in pids), "containers died with shoald"
    node.start_daemon()
    check_same_after_restart(node, ids, tasks, before)
    assert all(alive(p) for p in pids)
    # still managed: a killed task is replaced after the restart
    assert node.exec("kill", "-9", str(pids[0])).rc == 0
    wait_for(lambda: len(running_ids(node, "web")) == 3 and
             ids[0] not in running_ids(node, "web"), 30,
             "the task killed after the restart to be replaced")


def test_sigterm_leaves_containers_running(loaded_node):
    node = loaded_node
    ids, pids, tasks = start_three(node)
    before = inspect(node, "web")
    rc = node.stop_daemon(signal.SIGTERM)
    assert rc == 0, f"shoald exited with {rc} on SIGTERM"
    assert not node.ping(), "the API still answers after SIGTERM"
    assert all(alive(p) for p in pids), "SIGTERM stopped the containers"
    node.start_daemon()
    check_same_after_restart(node, ids, tasks, before)


def test_state_survives_restart_without_tasks(loaded_node):
    """Services, their specs and the swarm itself come back from the data
    root (Raft log / snapshot) after kill -9."""
    node = loaded_node
    node.create_service("a", opts=["--replicas", "0", "-e", "X=1"],
                        cmd=["sleep", "1000"])
    node.create_service("b", opts=["--replicas", "0"], cmd=["sleep", "1"])
    nodes_before = node.shoal_ok("node", "ls")
    before = {s: inspect(node, s) for s in ("a", "b")}
    node.kill_daemon()
    node.start_daemon()
    node.wait_manager()
    assert {s: inspect(node, s) for s in ("a", "b")} == before
    assert node.shoal_ok("node", "ls") == nodes_before
    assert sorted(r["NAME"] for r in node.service_ls()) == ["a", "b"]


def test_second_daemon_on_same_data_root_refuses(node):
    other = str(node.dir / "other.sock")
    r = run(node.daemon_cmd(sock=other), timeout=15)
    assert r.rc != 0, f"a second shoald started on the same data root:\n{r}"
    assert re.search(r"lock|in use|using|already|another|running", r.out + r.err, re.I), r
    assert node.ping(), "the first shoald stopped answering"
    assert not os.path.exists(other) or not _answers(other)


def _answers(sock):
    try:
        return api_request(sock, "GET", "/_ping", timeout=2).status == 200
    except OSError:
        return False
