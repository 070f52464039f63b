# SPDX-License-Identifier: Apache-2.0
"""The load balancer under change (issue 3): a steady request loop against
the published port while a replica is killed, the service scaled down or
updated (the failure window must stay under 1 s and nothing may fail once
the change is in place; a drained stop drops nothing), the same loop and
one against a VIP across a kill -9 and restart of shoald (the longest gap
is measured; the table is rebuilt from the store; containers stay), and a
client port once pinned to a dead task by an unanswered SYN."""

import os
import signal
import time

import pytest

from netutil import (HOSTNAME_SERVER_DEAF, PY, LBWatcher, RequestLoop,
                     failures, lb_state, longest_gap, network_create,
                     running, start_services, step, summarize, task_addrs,
                     task_cid, task_pids, vip)
from shoalnode import scaled, wait_for

# Requests keep failing for at most this long after a change (issue: < 1 s).
MAX_WINDOW = 1.0
# How long the loop goes on once the change is in place.
AFTER = 2.0


def published_backends(node, port=8000):
    st = lb_state(node.nft_table())["published"]
    return st.get(("tcp", port), (None, set()))[1]


def wait_backends(node, n, what, port=8000, timeout=30):
    return wait_for(lambda: len(published_backends(node, port)) == n and
                    published_backends(node, port), timeout, what,
                    interval=0.005)


def report(results, t_change, what):
    """Prints the loop's summary and its failures relative to the change;
    returns (failures after the change, window by start, window by end)."""
    bad = failures(results)
    print(f"{what}: {summarize(results)}")
    for r in bad:
        print(f"  failed {r.start - t_change:+.3f}s..{r.end - t_change:+.3f}s"
              f" (port {r.port}): {r.body}")
    after = [r for r in bad if r.end >= t_change]
    w_start = max((r.start - t_change for r in after), default=0.0)
    w_end = max((r.end - t_change for r in after), default=0.0)
    print(f"  failure window: last failed request started "
          f"{max(w_start, 0) * 1000:.0f} ms after the change "
          f"(ended {w_end * 1000:.0f} ms after it)")
    return after, max(w_start, 0.0), w_end


def test_kill_replica_under_load(loaded_node):
    """kill -9 of one of 3 replicas under a back-to-back request loop on the
    published port: requests fail only until the balancer drops the dead
    task (well under 1 s), none after."""
    node = loaded_node
    # the replacement starts after the measurement (a new task can refuse
    # for a few ms before its server listens; test_rolling_update_under_load
    # looks at that)
    start_services(node, [("web", 3, ["-p", "8000:8000"])],
                   restart_delay="10s")
    before = wait_backends(node, 3, "3 backends on port 8000")
    loop = RequestLoop(node, node.nsenter(), "127.0.0.1", name="kill")
    try:
        loop.start()
        time.sleep(0.5)
        victim = running(node, "web")[0]
        pid = node.container_pid(task_cid(victim))
        t_kill = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        dropped = wait_for(lambda: len(published_backends(node) &
                                       before) == 2, 10,
                           "the killed task out of the balancer",
                           interval=0.005)
        t_out = time.monotonic()
        time.sleep(AFTER)
        results = loop.stop()
    finally:
        loop.kill()
    print(f"the killed task left the balancer within "
          f"{(t_out - t_kill) * 1000:.0f} ms (polling nft)")
    assert dropped
    bad, window, _ = report(results, t_kill, "kill -9 of a replica")
    assert window < MAX_WINDOW, f"requests failed for {window:.3f}s"
    late = [r for r in bad if r.start > t_out]
    assert not late, f"requests failed after the change was in place: {late}"
    assert [r for r in results if r.ok and r.start > t_out + 0.5], \
        "no request answered after the change"


def test_scale_down_under_load(loaded_node):
    """service scale 3 -> 2 under the loop: the task leaves the balancer
    before it is stopped, so no request fails at all. (httpd as PID 1
    ignores SIGTERM: a request it is serving when the stop comes is
    finished, as by a server that shuts down gracefully.)"""
    node = loaded_node
    start_services(node, [("web", 3, ["-p", "8000:8000",
                                      "--stop-grace-period", "1s"])],
                   cmd=HOSTNAME_SERVER_DEAF)
    wait_backends(node, 3, "3 backends on port 8000")
    loop = RequestLoop(node, node.nsenter(), "127.0.0.1", name="scale")
    try:
        loop.start()
        time.sleep(0.5)
        t_scale = time.monotonic()
        out = node.shoal_ok("service", "scale", "--detach", "web=2")
        t_done = time.monotonic()
        assert "web scaled to 2" in out, out
        wait_for(lambda: node.containers("web") and
                 len(node.containers("web")) == 2, 30,
                 "the removed task's container to be gone")
        t_gone = time.monotonic()
        time.sleep(AFTER)
        results = loop.stop()
    finally:
        loop.kill()
    print(f"scale returned after {t_done - t_scale:.2f}s, container gone "
          f"after {t_gone - t_scale:.2f}s")
    assert len(published_backends(node)) == 2
    bad, window, _ = report(results, t_scale, "scale 3 -> 2")
    assert window < MAX_WINDOW, f"requests failed for {window:.3f}s"
    assert not bad, f"scale-down dropped requests: {bad}"


# A refused connection within this long after a new task joined the
# balancer is put down to that task's server not listening yet.
READY_SLACK = 0.2
# A request's start is stamped by the loop process before it connects; on
# a loaded machine the connect can come tens of ms later, so a refusal may
# carry a start a little before the watcher first saw the join.
STAMP_SLACK = 0.05


def test_rolling_update_under_load(loaded_node):
    """service update (stop-first, then start-first) under the loop: each
    old task leaves the balancer before its stop, so no request fails
    because of a stopping task. A new task joins once its container runs,
    which can be a few ms before its server listens (there is no health
    check to wait for): refusals right after a new task joined are printed
    and allowed, any other failure is not."""
    node = loaded_node
    start_services(node, [("web", 3, ["-p", "8000:8000",
                                      "--stop-grace-period", "1s"])],
                   cmd=HOSTNAME_SERVER_DEAF)
    wait_backends(node, 3, "3 backends on port 8000")
    for i, order in enumerate(("stop-first", "start-first")):
        step(f"update ({order})")
        old = {t["ID"] for t in running(node, "web")}
        loop = RequestLoop(node, node.nsenter(), "127.0.0.1", name="roll")
        try:
            loop.start()
            time.sleep(0.3)
            with LBWatcher(node) as lb:
                t0 = time.monotonic()
                node.shoal_ok("service", "update", "--detach",
                              "--update-order", order, "--env-add",
                              f"ROUND={i}", "web")
                wait_for(lambda: (node.service("web").get("UpdateStatus")
                                  or {}).get("State") == "completed", 60,
                         "the update to complete")
                took = time.monotonic() - t0
                time.sleep(0.5)
            results = loop.stop()
        finally:
            loop.kill()
        now = {t["ID"] for t in running(node, "web")}
        assert len(now) == 3 and not now & old, (old, now)
        print(f"update ({order}) took {took:.2f}s; balancer:")
        joins = []
        for since, seen, what, b in lb.events():
            print(f"  {since - t0:+.3f}s..{seen - t0:+.3f}s {what} {b}")
            if what == "join":
                joins.append((since, seen))
        bad, _, _ = report(results, t0, f"rolling update ({order})")
        unexplained = []
        for r in bad:
            if "Refused" in r.body and any(
                    since - STAMP_SLACK <= r.start <= seen + READY_SLACK
                    for since, seen in joins):
                print(f"  ({r.start - t0:+.3f}s: refused right after a new "
                      f"task joined: its server was not listening yet)")
            else:
                unexplained.append(r)
        assert not unexplained, f"the update dropped requests: {unexplained}"


def test_start_first_update_of_one_replica_drops_nothing(loaded_node):
    """start-first: the new task runs (and is in the balancer) before the
    old one leaves it, so even a single replica is replaced without a
    refused request (bar the new server's own start, see
    test_rolling_update_under_load)."""
    node = loaded_node
    start_services(node, [("web", 1, ["-p", "8000:8000",
                                      "--stop-grace-period", "1s",
                                      "--update-order", "start-first"])],
                   cmd=HOSTNAME_SERVER_DEAF)
    wait_backends(node, 1, "1 backend on port 8000")
    old = {t["ID"] for t in running(node, "web")}
    loop = RequestLoop(node, node.nsenter(), "127.0.0.1", name="sf")
    try:
        loop.start()
        time.sleep(0.3)
        with LBWatcher(node) as lb:
            t0 = time.monotonic()
            node.shoal_ok("service", "update", "--detach", "--env-add",
                          "ROUND=1", "web")
            wait_for(lambda: len(node.tasks("web")) == 2 and
                     {t["ID"] for t in running(node, "web")} - old and
                     not any(t["Status"]["State"] == "running"
                             for t in node.tasks("web") if t["ID"] in old),
                     30, "the new task running, the old one stopped")
            time.sleep(0.5)
        results = loop.stop()
    finally:
        loop.kill()
    ev = lb.events()
    for since, seen, what, b in ev:
        print(f"  {since - t0:+.3f}s..{seen - t0:+.3f}s {what} {b}")
    bad, window, _ = report(results, t0, "start-first update of 1 replica")
    first_join = min(seen for _, seen, what, _ in ev if what == "join")
    first_leave = min(seen for _, seen, what, _ in ev if what == "leave")
    assert first_join <= first_leave, \
        "the old task left the balancer before its replacement joined"
    # As in test_rolling_update_under_load: only refusals right after the
    # new task joined (its server not listening yet) are allowed.
    joins = [(since, seen) for since, seen, what, _ in ev if what == "join"]
    unexplained = [r for r in bad if not (
        "Refused" in r.body and any(
            since - STAMP_SLACK <= r.start <= seen + READY_SLACK
            for since, seen in joins))]
    assert not unexplained, \
        f"{len(unexplained)} requests failed: {unexplained[:5]}"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM],
                         ids=["kill-9", "sigterm"])
def test_restart_keeps_traffic_and_rebuilds_table(loaded_node, sig):
    """kill -9 (or SIGTERM) of shoald and a new start under two request
    loops (the published port from the node, the VIP from a task): no
    request fails, the longest gap is printed, the containers are the same
    ones, and the table is rebuilt from the store (a task of another
    service killed while shoald was down is out of it, its replacement
    in); the allocation survived (a new service gets fresh addresses)."""
    node = loaded_node
    nid = network_create(node, "service_network")
    start_services(node, [
        ("web", 3, ["--network", "service_network", "-p", "8000:8000"]),
        ("aux", 2, ["--network", "service_network"]),
        ("client", 1, ["--network", "service_network"])])
    web_vip = vip(node, "web", nid)
    ids = sorted(task_cid(t) for t in running(node, "web"))
    before = lb_state(node.nft_table())
    cpid = task_pids(node, "client")[0]
    mesh = RequestLoop(node, node.nsenter(), "127.0.0.1", name="mesh")
    vloop = RequestLoop(node, node.nsenter() + ["nsenter", "-t", str(cpid),
                                                "-n", "--"],
                        web_vip, name="vip")
    aux_victim = running(node, "aux")[0]
    aux_addr = [a.split("/")[0] for att in aux_victim["NetworksAttachments"]
                if att["Network"]["ID"] == nid for a in att["Addresses"]][0]
    aux_pid = node.container_pid(task_cid(aux_victim))
    try:
        mesh.start()
        vloop.start()
        time.sleep(0.5)
        step(f"stop shoald with {signal.Signals(sig).name}")
        t_kill = time.monotonic()
        node.stop_daemon(sig)
        os.kill(aux_pid, signal.SIGKILL)
        time.sleep(0.5)
        step("start it again")
        node.start_daemon()
        node.wait_manager()
        t_up = time.monotonic()
        time.sleep(AFTER)
        m_res, v_res = mesh.stop(), vloop.stop()
    finally:
        mesh.kill()
        vloop.kill()
    print(f"shoald down for {t_up - t_kill:.2f}s (signal to manager "
          f"ready)")
    for name, res in (("published port", m_res), ("VIP", v_res)):
        gap, (a, b) = longest_gap(res, since=t_kill - 0.5)
        print(f"{name}: {summarize(res)}; longest gap {gap * 1000:.0f} ms "
              f"({a - t_kill:+.3f}s..{b - t_kill:+.3f}s from the kill)")
        report(res, t_kill, name)
        assert not failures(res), f"{name}: requests failed across the " \
            f"restart: {failures(res)[:5]}"
        assert gap < scaled(1), f"{name}: {gap:.3f}s without an answer"

    step("same containers, same table for web")
    assert sorted(task_cid(t) for t in running(node, "web")) == ids
    after = lb_state(node.nft_table())
    for k in ("vips", "published"):
        web = {key: v for key, v in before[k].items()
               if v[0] == before["published"][("tcp", 8000)][0]}
        assert {key: v for key, v in after[k].items()
                if key in web} == web, (k, before, after)
    step("the table follows the store: aux's dead task out, its "
         "replacement in")
    aux_vip = vip(node, "aux", nid)

    def aux_ok():
        tasks = {t["ID"] for t in running(node, "aux")}
        now = task_addrs(node, "aux", nid)
        st = lb_state(node.nft_table())["vips"].get(aux_vip)
        assert len(tasks) == 2 and aux_victim["ID"] not in tasks and \
            len(now) == 2 and st and st[1] == now, \
            f"aux tasks {tasks} at {now} (killed: {aux_victim['ID']} at " \
            f"{aux_addr}), balancer {st}"
        return True
    wait_for(aux_ok, 30, "aux's backends == its 2 running tasks")

    step("the allocation survived: a new service gets fresh addresses")
    used = {web_vip, aux_vip, vip(node, "client", nid)}
    for svc in ("web", "aux", "client"):
        used |= task_addrs(node, svc, nid)
    start_services(node, [("late", 2, ["--network", "service_network"])])
    new = {vip(node, "late", nid)} | task_addrs(node, "late", nid)
    assert len(new) == 3 and not new & used, (new, used)


# Connects from a fixed source port until a connection times out (lands on
# the task that drops SYNs), then prints "pinned".
PIN = r"""
import socket, sys, time
port = int(sys.argv[1])
for _ in range(200):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.3)
    try:
        s.connect(("127.0.0.1", 8000))
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        while s.recv(65536):
            pass
    except socket.timeout:
        print("pinned", flush=True)
        sys.exit(0)
    finally:
        s.close()
    time.sleep(0.01)
print("never landed on the silent task")
sys.exit(1)
"""

# One request from a fixed source port; prints the answer.
FROM_PORT = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.settimeout(float(sys.argv[2]))
s.connect(("127.0.0.1", 8000))
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
data = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    data += c
print(data.partition(b"\r\n\r\n")[2].decode().strip())
"""

def test_client_port_not_pinned_to_dead_task(loaded_node):
    """A connection attempt that got no answer from a task which then died
    must not pin that client address:port to the dead task: once the task
    is out of the balancer, a new connection from the same port is answered
    (the kill test above hits this whenever the kernel reuses a port whose
    SYN went unanswered during the failure window)."""
    node = loaded_node
    # no replacement while the test runs (it might get the dead task's
    # address back and answer the pinned connection)
    start_services(node, [("web", 2, ["-p", "8000:8000"])],
                   restart_delay="60s")
    wait_backends(node, 2, "2 backends on port 8000")
    victim = running(node, "web")[0]
    pid = node.container_pid(task_cid(victim))
    step("the victim drops SYNs to port 8000 (nft in its own netns)")
    for cmd in (["add", "table", "ip", "tst"],
                ["add", "chain", "ip", "tst", "in", "{ type filter hook "
                 "input priority 0; }"],
                ["add", "rule", "ip", "tst", "in", "tcp", "dport", "8000",
                 "drop"]):
        r = node.exec_in_netns_of(pid, "nft", *cmd)
        assert r.rc == 0, str(r)
    pin = node.dir / "pin.py"
    pin.write_text(PIN)
    one = node.dir / "from_port.py"
    one.write_text(FROM_PORT)
    r = node.exec(PY, str(pin), "40123", timeout=60)
    assert r.rc == 0 and "pinned" in r.out, str(r)
    ct = [ln for ln in node.exec("cat", "/proc/net/nf_conntrack").out
          .splitlines() if "sport=40123 " in ln]
    print("conntrack:", ct)
    step("kill -9 the victim; wait until it is out of the balancer")
    addr = {b for b in published_backends(node)
            if b.split(":")[0] in {a.split("/")[0] for att in
                                   victim["NetworksAttachments"]
                                   for a in att["Addresses"]}}
    assert len(addr) == 1, addr
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not (published_backends(node) & addr), 10,
             "the killed task out of the balancer")
    step("a new connection from the same port is answered")
    r = node.exec(PY, str(one), "40123", "3", timeout=30)
    ct = [ln for ln in node.exec("cat", "/proc/net/nf_conntrack").out
          .splitlines() if "sport=40123 " in ln]
    assert r.rc == 0 and r.out.strip(), f"{r}\nconntrack: {ct}"
