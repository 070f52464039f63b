# SPDX-License-Identifier: Apache-2.0
"""The scheduler's filters on a single node: a task no node can take stays
pending, with the reason docker shows in `service ps`."""

from shoalnode import hold_for, parse_table, wait_for


def pending_reason(node, service):
    """The scheduler's reason (Status.Err) for the service's only task,
    once it is set and while the task is pending."""
    ts = node.tasks(service)
    if len(ts) == 1 and ts[0]["Status"]["State"] == "pending":
        return ts[0]["Status"].get("Err")
    return None


def check_pending(node, service, reason):
    msg = wait_for(lambda: pending_reason(node, service), 30,
                   f"the task of {service} pending with a reason")
    assert msg == f"no suitable node ({reason} on 1 node)", msg
    hold_for(lambda: pending_reason(node, service), 1.5,
             "the task to stay pending")
    assert node.task_containers(service) == []
    assert node.replicas(service) == "0/1"
    rows = parse_table(node.shoal_ok("service", "ps", service))
    assert len(rows) == 1, rows
    assert rows[0]["CURRENT STATE"].startswith("Pending"), rows
    # docker truncates the ERROR column; the start must be there
    assert "no suitable node" in rows[0]["ERROR"], rows


def test_constraint_matches_no_node(loaded_node):
    loaded_node.create_service(
        "nowhere", opts=["--constraint", "node.labels.x==y"],
        cmd=["sleep", "1000"])
    check_pending(loaded_node, "nowhere",
                  "scheduling constraints not satisfied")


def test_constraint_that_matches_runs(loaded_node):
    node = loaded_node
    node.create_service("here", opts=[
        "--constraint", f"node.hostname=={node.hostname}",
        "--constraint", "node.role==manager"], cmd=["sleep", "1000"])
    node.wait_replicas("here", "1/1")


def test_reservation_larger_than_node(loaded_node):
    loaded_node.create_service("huge", opts=["--reserve-memory", "100T"],
                               cmd=["sleep", "1000"])
    check_pending(loaded_node, "huge", "insufficient resources")
