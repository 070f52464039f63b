# SPDX-License-Identifier: Apache-2.0
"""Restart policies: condition none / on-failure / any, max attempts and
delay, observed through `service ps` and the tasks API."""

import time

from shoalnode import hold_for, parse_table, parse_time, wait_for


def states(node, service):
    return sorted(t["Status"]["State"] for t in node.tasks(service))


def ps_rows(node, service):
    return parse_table(node.shoal_ok("service", "ps", service))


def test_condition_none_stays_down(loaded_node):
    node = loaded_node
    node.create_service("once", opts=["--restart-condition", "none"],
                        cmd=["sh", "-c", "exit 1"])
    wait_for(lambda: states(node, "once") == ["failed"], 30,
             "the task to fail")
    hold_for(lambda: states(node, "once") == ["failed"], 2,
             "one failed task and no replacement")
    rows = ps_rows(node, "once")
    assert len(rows) == 1, rows
    assert rows[0]["CURRENT STATE"].startswith("Failed"), rows
    assert node.replicas("once") == "0/1"


def test_on_failure_restarts_after_exit_1(loaded_node):
    node = loaded_node
    node.create_service("fails", opts=["--restart-condition", "on-failure"],
                        cmd=["sh", "-c", "exit 1"])
    wait_for(lambda: states(node, "fails").count("failed") >= 2, 30,
             "the failed task to be restarted (and fail again)")
    assert len(ps_rows(node, "fails")) >= 2


def test_on_failure_does_not_restart_after_exit_0(loaded_node):
    node = loaded_node
    node.create_service("done", opts=["--restart-condition", "on-failure"],
                        cmd=["sh", "-c", "exit 0"])
    wait_for(lambda: states(node, "done") == ["complete"], 30,
             "the task to complete")
    hold_for(lambda: states(node, "done") == ["complete"], 2,
             "one completed task and no replacement")
    rows = ps_rows(node, "done")
    assert len(rows) == 1, rows
    assert rows[0]["CURRENT STATE"].startswith("Complete"), rows


def test_condition_any_restarts_after_exit_0(loaded_node):
    node = loaded_node
    node.create_service("loop", opts=["--restart-condition", "any"],
                        cmd=["sh", "-c", "exit 0"])
    wait_for(lambda: states(node, "loop").count("complete") >= 2, 30,
             "the completed task to be restarted")


def test_max_attempts(loaded_node):
    node = loaded_node
    node.create_service("capped", opts=[
        "--restart-condition", "on-failure", "--restart-max-attempts", "2"],
        cmd=["sh", "-c", "exit 1"])
    # the first attempt plus 2 restarts
    wait_for(lambda: states(node, "capped") == ["failed"] * 3, 30,
             "three failed tasks")
    hold_for(lambda: states(node, "capped") == ["failed"] * 3, 2,
             "no fourth attempt")
    rows = ps_rows(node, "capped")
    assert len(rows) == 3, rows
    assert all(r["CURRENT STATE"].startswith("Failed") for r in rows), rows


def test_restart_delay(loaded_node):
    """The replacement of a failed task starts no earlier than the delay
    after the failure (and not much later)."""
    node = loaded_node
    delay = 2.0
    node.create_service("slow", restart_delay=f"{delay:g}s", opts=[
        "--restart-condition", "on-failure", "--restart-max-attempts", "1"],
        cmd=["sh", "-c", "sleep 1; exit 1"])

    def pair():
        ts = node.tasks("slow")
        failed = [t for t in ts if t["Status"]["State"] == "failed"]
        running = [t for t in ts if t["Status"]["State"] == "running"]
        return (failed[0], running[0]) if failed and running else None
    t0 = time.monotonic()
    first, second = wait_for(pair, 30, "the first task failed and its "
                             "replacement running", interval=0.02)
    gap = parse_time(second["Status"]["Timestamp"]) - \
        parse_time(first["Status"]["Timestamp"])
    print(f"replacement running {gap:.2f}s after the failure "
          f"(observed after {time.monotonic() - t0:.2f}s)")
    assert second["Slot"] == first["Slot"]
    assert gap >= delay * 0.9, f"restarted after {gap:.2f}s < {delay}s"
    assert gap < delay + 3, f"restarted after {gap:.2f}s >> {delay}s"
