# SPDX-License-Identifier: Apache-2.0
"""The ContainerSpec reaches the container: env, workdir, user, hostname,
read-only rootfs, tmpfs and named volumes, memory limit, stop signal and
stop grace period."""

import os
import time

from shoalnode import cgroup_roots, log_messages, read_text, wait_for


def oneshot(node, name, opts, script):
    """Runs `sh -c script` once as a service; returns its output lines."""
    node.create_service(name, opts=["--restart-condition", "none", *opts],
                        cmd=["sh", "-c", script + "; echo END-OF-TEST"])
    node.wait_log(name, "END-OF-TEST")
    return log_messages(node.service_logs(name))[:-1]


def test_env(loaded_node):
    assert oneshot(loaded_node, "env", ["-e", "A=1", "--env", "B=two words"],
                   'echo "A=$A B=$B"') == ["A=1 B=two words"]


def test_workdir(loaded_node):
    assert oneshot(loaded_node, "wd", ["--workdir", "/tmp"], "pwd") == \
        ["/tmp"]


def test_user(loaded_node):
    assert oneshot(loaded_node, "usr", ["--user", "1000:1001"],
                   "id -u; id -g") == ["1000", "1001"]


def test_hostname(loaded_node):
    assert oneshot(loaded_node, "hn", ["--hostname", "svc-host"],
                   "hostname") == ["svc-host"]


def test_read_only_rootfs_with_tmpfs(loaded_node):
    out = oneshot(loaded_node, "ro", [
        "--read-only", "--mount", "type=tmpfs,destination=/scratch"],
        "touch /probe 2>/dev/null && echo rootfs-writable || "
        "echo rootfs-read-only; "
        "touch /scratch/x && echo scratch-writable; "
        "grep ' /scratch ' /proc/mounts | cut -d' ' -f3")
    assert out == ["rootfs-read-only", "scratch-writable", "tmpfs"], out


def test_named_volume_outlives_the_task(loaded_node):
    node = loaded_node
    mount = ["--mount", "type=volume,source=testvol,destination=/data"]
    assert oneshot(node, "writer", mount,
                   "echo persisted > /data/f && echo written") == ["written"]
    node.shoal_ok("service", "rm", "writer")
    wait_for(lambda: node.task_containers("writer") == [], 30,
             "writer gone")
    assert oneshot(node, "reader", mount, "cat /data/f") == ["persisted"]


def memory_limit_of(pid):
    """(cgroup path, memory limit in bytes) of process pid, read from the
    host's cgroup tree (v1 memory controller or the v2 tree)."""
    roots = cgroup_roots()
    for line in read_text(f"/proc/{pid}/cgroup").splitlines():
        _, ctrls, path = line.split(":", 2)
        if "memory" in ctrls.split(","):
            for r in roots:
                f = os.path.join(r + path, "memory.limit_in_bytes")
                if "memory" in os.path.basename(r) and os.path.exists(f):
                    return path, int(read_text(f))
        if ctrls == "":
            for r in roots:
                f = os.path.join(r + path, "memory.max")
                if os.path.exists(f):
                    return path, int(read_text(f))
    raise AssertionError(f"no memory cgroup for pid {pid}: "
                         f"{read_text(f'/proc/{pid}/cgroup')}")


def test_memory_limit(loaded_node):
    node = loaded_node
    node.create_service("mem", opts=["--limit-memory", "64M"],
                        cmd=["sleep", "1000"])
    node.wait_replicas("mem", "1/1")
    (c,) = node.containers("mem")
    path, limit = memory_limit_of(node.container_pid(c["Id"]))
    assert limit == 64 * 1024 * 1024, (path, limit)
    assert node.cgroup_parent in path, \
        f"container cgroup {path} is not under {node.cgroup_parent}"


def scale_to_zero_time(node, name):
    t0 = time.monotonic()
    node.shoal_ok("service", "update", "--detach", "--replicas", "0", name)
    wait_for(lambda: node.task_containers(name) == [], 40,
             f"{name}'s container to stop", interval=0.02)
    return time.monotonic() - t0


LOOP = "echo ready; while true; do sleep 0.1; done"


def test_stop_signal(loaded_node):
    node = loaded_node
    # The trap writes to a bind-mounted host dir: logs of a scaled-down task
    # may be gone with the task.
    out = node.dir / "sig-out"
    out.mkdir()
    node.create_service("sig", opts=[
        "--stop-signal", "SIGUSR1", "--stop-grace-period", "30s",
        "--mount", f"type=bind,source={out},destination=/out"],
        cmd=["sh", "-c", "trap 'echo got-usr1 > /out/signal; exit 0' USR1; "
             + LOOP])
    node.wait_log("sig", "ready")
    took = scale_to_zero_time(node, "sig")
    assert read_text(out / "signal") == "got-usr1\n", \
        "the container did not get SIGUSR1"
    assert took < 10, f"stop took {took:.1f}s: the signal was not SIGUSR1?"


def test_stop_grace_period(loaded_node):
    node = loaded_node
    node.create_service("grace", opts=["--stop-grace-period", "2s"],
                        cmd=["sh", "-c", "trap '' TERM; " + LOOP])
    node.wait_log("grace", "ready")
    took = scale_to_zero_time(node, "grace")
    print(f"stopped after {took:.2f}s with a 2s grace period")
    assert took >= 1.8, f"killed after {took:.2f}s, before the grace period"
    assert took < 8, f"stop took {took:.2f}s: grace period not honoured"
