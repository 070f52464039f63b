# SPDX-License-Identifier: Apache-2.0
"""Health checks: a task with a check is `starting` until its probe passes,
then running and `(healthy)` in ps with Docker's State.Health in inspect;
a task whose check fails is shut down, fails with "unhealthy container" and
is replaced, and never receives traffic through the routing mesh; the
image's HEALTHCHECK applies unless --no-healthcheck; bad durations are
refused and change nothing."""

import json
import re
import subprocess

from netutil import PY, running, task_cid
from shoalnode import hold_for, wait_for

V = "/v1.41"

# Serves its hostname; healthy only in slot 1 (hostname template hc-1).
SERVER = ["sh", "-c",
          "hostname > /www/index.html; "
          "[ \"$(hostname)\" = hc-1 ] && touch /tmp/ok; "
          "trap 'exit 0' TERM; httpd -f -p 8000 -h /www & wait"]
FAST = ["--health-interval", "200ms", "--health-timeout", "2s",
        "--health-retries", "2"]


def ctr_json(node, task):
    return node.container(task_cid(task))


def test_healthy_and_unhealthy_tasks(loaded_node):
    node = loaded_node
    node.create_service("hc", opts=[
        "--replicas", "2", "--hostname", "hc-{{.Task.Slot}}",
        "--health-cmd", "test -f /tmp/ok", *FAST, "-p", "8000:8000",
        "--restart-delay", "1s"], cmd=SERVER, restart_delay=None)

    # Slot 1 becomes healthy and running; slot 2 never does.
    wait_for(lambda: [t["Slot"] for t in running(node, "hc")] == [1], 60,
             "slot 1 running")
    t1 = running(node, "hc")[0]
    st = ctr_json(node, t1)["State"]
    assert st["Health"]["Status"] == "healthy", st
    assert st["Health"]["FailingStreak"] == 0, st
    log = st["Health"]["Log"]
    assert 1 <= len(log) <= 5 and log[-1]["ExitCode"] == 0, log
    assert t1["Status"]["ContainerStatus"]["Health"] == "healthy", t1
    row = [r for r in node.ps() if r["NAMES"].startswith("hc.1.")]
    assert row and re.search(r"^Up .* \(healthy\)$", row[0]["STATUS"]), row

    # Slot 2's tasks fail as unhealthy and are replaced.
    def failed_unhealthy():
        return [t for t in node.tasks("hc") if t["Slot"] == 2 and
                t["Status"]["State"] == "failed"]
    wait_for(lambda: len(failed_unhealthy()) >= 2, 60,
             "two unhealthy tasks of slot 2 failed")
    err = failed_unhealthy()[0]["Status"].get("Err", "")
    assert re.match(r"task: non-zero exit \(\d+\): unhealthy container$",
                    err), err

    # Meanwhile the mesh only ever answers with the healthy task.
    script = node.dir / "hc_curl.py"
    script.write_text(
        "import urllib.request\n"
        "for _ in range(40):\n"
        "    print(urllib.request.urlopen('http://127.0.0.1:8000/',"
        " timeout=5).read().decode().strip())\n")
    r = node.exec(PY, str(script), timeout=60)
    assert r.rc == 0, str(r)
    assert set(r.out.split()) == {"hc-1"}, r.out

    # Making slot 1 unhealthy takes it out and fails it too.
    pid = node.container_pid(task_cid(t1))
    assert node.exec_in_task(pid, "rm", "/tmp/ok").rc == 0
    wait_for(lambda: any(t["ID"] == t1["ID"] and
                         t["Status"]["State"] == "failed"
                         for t in node.tasks("hc")), 30,
             "slot 1 failed as unhealthy")


def test_starting_until_healthy(loaded_node):
    """Healthy after 1.5 s: starting (health: starting) until then."""
    node = loaded_node
    node.create_service("slow", opts=[
        "--health-cmd", "test -f /tmp/ok", "--health-interval", "300ms",
        "--health-retries", "100"],
        cmd=["sh", "-c", "sleep 1.5; touch /tmp/ok; exec sleep 1000"])

    def task():
        ts = node.tasks("slow")
        return ts[0] if ts else None
    wait_for(lambda: task() and task()["Status"]["State"] == "starting" and
             (task()["Status"].get("ContainerStatus") or {}).get(
                 "Health"), 30, "task starting with its health reported")
    t = task()
    assert t["Status"]["ContainerStatus"].get("Health") == "starting", t
    c = ctr_json(node, t)
    assert c["State"]["Running"] and \
        c["State"]["Health"]["Status"] == "starting", c["State"]
    row = [r for r in node.ps() if r["NAMES"].startswith("slow.1.")]
    assert row and row[0]["STATUS"].endswith("(health: starting)"), row
    wait_for(lambda: task()["Status"]["State"] == "running", 30,
             "running once healthy")
    c = ctr_json(node, task())
    assert c["State"]["Health"]["Status"] == "healthy", c["State"]


def test_image_healthcheck_and_no_healthcheck(loaded_node, image_archive,
                                            tmp_path):
    """An image HEALTHCHECK (CMD form, no shell) applies; a service's
    --no-healthcheck turns it off."""
    node = loaded_node
    # A variant of the test image whose config has a HEALTHCHECK.
    src = tmp_path / "src"
    src.mkdir()
    subprocess.run(["tar", "-xf", str(image_archive.archive), "-C",
                    str(src)], check=True)
    manifest = json.loads((src / "manifest.json").read_text())
    cfg_name = manifest[0]["Config"]
    cfg = json.loads((src / cfg_name).read_text())
    cfg["config"]["Healthcheck"] = {
        "Test": ["CMD", "/bin/test", "-e", "/proc/1"],
        "Interval": 200_000_000, "Retries": 2}
    (src / cfg_name).write_text(json.dumps(cfg))
    manifest[0]["RepoTags"] = ["hc_image:latest"]
    (src / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "hc_image.tar"
    subprocess.run(["tar", "-cf", str(out), "-C", str(src), "."], check=True)
    node.load_image(out)

    node.create_service("img-hc", image="hc_image",
                        cmd=["sleep", "1000"])
    wait_for(lambda: len(running(node, "img-hc")) == 1, 30, "img-hc running")
    c = ctr_json(node, running(node, "img-hc")[0])
    assert c["State"]["Health"]["Status"] == "healthy", c["State"]

    node.create_service("img-nohc", image="hc_image",
                        opts=["--no-healthcheck"], cmd=["sleep", "1000"])
    wait_for(lambda: len(running(node, "img-nohc")) == 1, 30,
             "img-nohc running")
    c = ctr_json(node, running(node, "img-nohc")[0])
    assert "Health" not in c["State"], c["State"]


def test_health_check_timeout(loaded_node):
    node = loaded_node
    node.create_service("hang", opts=[
        "--health-cmd", "sleep 10", "--health-interval", "200ms",
        "--health-timeout", "300ms", "--health-retries", "1",
        "--restart-condition", "none", "--stop-grace-period", "1s"],
        cmd=["sleep", "1000"])
    wait_for(lambda: any(t["Status"]["State"] == "failed"
                         for t in node.tasks("hang")), 30,
             "failed after a probe timed out")
    t = node.tasks("hang")[0]
    c = ctr_json(node, t)
    log = c["State"]["Health"]["Log"]
    assert log[-1]["ExitCode"] == -1 and log[-1]["Output"] == \
        "Health check exceeded timeout (300ms)", log
    # The timed-out probe's process was killed, not left behind.
    r = node.exec("pgrep", "-f", "sleep 10$")
    assert r.rc != 0, r


def test_bad_health_input_changes_nothing(loaded_node):
    node = loaded_node
    before = node.api_json("GET", f"{V}/services")
    r = node.shoal("service", "create", "--name", "bad", "--health-interval",
                   "abc", "simple_server")
    assert r.rc != 0 and 'invalid argument "abc" for "--health-interval"' \
        in r.err, r
    r = node.shoal("service", "create", "--name", "bad", "--health-cmd",
                   "true", "--no-healthcheck", "simple_server")
    assert r.rc != 0 and "--no-healthcheck conflicts" in r.err, r
    cs = {"Image": "simple_server"}
    for hc, want in [
            ({"Test": ["CMD-SHELL", "true"], "Interval": 500},
             "Interval in HealthConfig cannot be less than 1ms"),
            ({"Test": ["CMD-SHELL", "true"], "Retries": -1},
             "Retries in HealthConfig cannot be negative"),
            ({"Test": ["BOGUS", "x"]}, "Test in HealthConfig must be"),
            ({"Test": ["CMD-SHELL", "true"], "Timeout": "1s"},
             "cannot unmarshal string")]:
        r = node.api("POST", f"{V}/services/create", {
            "Name": "bad", "TaskTemplate": {"ContainerSpec": dict(
                cs, Healthcheck=hc)}})
        assert r.status == 400 and want in r.message, r
    hold_for(lambda: node.api_json("GET", f"{V}/services") == before, 0.2)
