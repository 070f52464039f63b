# SPDX-License-Identifier: Apache-2.0
"""The event stream: `shoal events` / `docker events` with --since/--until
(a finite replay of the daemon's recent events), live streams that see what
happens after they start, filters, Docker's line format, container events
from the runtime, and bad input."""

import json
import re
import subprocess
import threading
import time
from urllib.parse import quote

from shoalnode import (SERVICE_ID_LINE, UnixHTTPConnection, scaled,
                       wait_for)

UTC = {"TZ": "UTC"}
# docker's line: RFC3339Nano with nine digits, type, action, actor, attrs.
LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (\S+) (\S+) "
                  r"(\S+)(?: \((.*)\))?$")


def parse_lines(text):
    """[(time, type, action, id, {attr: value})] of `events` output."""
    out = []
    for ln in text.splitlines():
        m = LINE.match(ln)
        assert m, f"not an event line: {ln!r}"
        attrs = {}
        if m.group(5):
            for kv in m.group(5).split(", "):
                k, _, v = kv.partition("=")
                attrs[k] = v
        out.append((m.group(1), m.group(2), m.group(3), m.group(4), attrs))
    return out


def events_between(node, since, until, *extra, client="shoal"):
    args = ["events", "--since", str(since), "--until", str(until), *extra]
    if client == "docker":
        return node.docker_ok(*args)
    return node.shoal_ok(*args, env=UTC, timeout=30)


def past_second():
    """A unix time in whole seconds (what the CLIs send) that is later than
    everything recorded so far and already over, so an --until at it
    includes all of that and ends the stream at once."""
    t = int(time.time()) + 1
    wait_for(lambda: time.time() >= t, 5, "the clock to pass a second")
    return t


def service_id(out):
    m = SERVICE_ID_LINE.search(out)
    assert m, out
    return m.group(0)


class LiveEvents:
    """`shoal events ARGS` running in the background; lines() is what it has
    printed so far."""

    def __init__(self, node, *args):
        self.proc = subprocess.Popen(
            [str(node.shoal_bin), "-H", f"unix://{node.sock}", "events",
             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=node._client_env(UTC))
        self._lines = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for ln in self.proc.stdout:
            with self._lock:
                self._lines.append(ln.rstrip("\n"))

    def lines(self):
        with self._lock:
            return list(self._lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=scaled(10))
        self._reader.join(timeout=scaled(10))
        return self.proc.stderr.read()


def test_since_until_lists_service_create_update_remove(swarm_node):
    node = swarm_node
    since = int(time.time())
    sid = service_id(node.shoal_ok("service", "create", "--detach",
                                   "--replicas", "0", "--name", "evtest",
                                   "simple_server", "sleep", "1000"))
    node.shoal_ok("service", "update", "--detach", "--replicas", "2",
                  "evtest")
    node.shoal_ok("service", "rm", "evtest")

    # --until 0s ends the replay at the current whole second, so the
    # removal shows up once that second is over.
    def replay():
        out = node.shoal_ok("events", "--since", "1m", "--until", "0s",
                            env=UTC, timeout=30)
        assert f"service remove {sid} (name=evtest)" in out, out
        return out
    out = wait_for(replay, 15, "the service's removal in events")
    evs = [e for e in parse_lines(out) if e[3] == sid]
    assert [(e[1], e[2]) for e in evs] == [
        ("service", "create"), ("service", "update"), ("service", "remove")]
    assert evs[0][4] == {"name": "evtest"}
    assert evs[1][4] == {"name": "evtest", "replicas.old": "0",
                         "replicas.new": "2"}
    assert [e[0] for e in evs] == sorted(e[0] for e in evs)
    # The exact line, attributes sorted by key.
    assert re.search(rf"^\S+Z service update {sid} \(name=evtest, "
                     rf"replicas.new=2, replicas.old=0\)$", out, re.M), out

    # Filters narrow the replay; the raw stream is one JSON object per line.
    until = past_second()
    out = events_between(node, since, until, "--filter", "event=create")
    assert [e[2] for e in parse_lines(out)] == ["create"], out
    out = events_between(node, since, until, "--filter", "service=evtest",
                         "--filter", "type=service")
    assert len(parse_lines(out)) == 3, out
    assert events_between(node, since, until, "--filter",
                          "type=container") == ""
    assert events_between(node, since, until, "--filter", "scope=local") == ""
    r = node.api("GET", f"/v1.41/events?since={since}&until={until}")
    assert r.status == 200, r
    assert r.headers.get("content-type") == "application/json", r.headers
    msgs = [json.loads(x) for x in r.body.decode().splitlines()]
    create = [m for m in msgs if m["Actor"]["ID"] == sid][0]
    assert list(create) == ["Type", "Action", "Actor", "scope", "time",
                            "timeNano"], create
    assert create["scope"] == "swarm"
    assert create["time"] == create["timeNano"] // 10**9


def test_node_update_event(swarm_node):
    node = swarm_node
    since = int(time.time())
    node.shoal_ok("node", "update", "--availability", "drain", "self")
    out = wait_for(lambda: events_between(node, since, past_second(),
                                          "--filter", "type=node"),
                   15, "a node event")
    evs = parse_lines(out)
    assert evs[-1][2] == "update", out
    assert evs[-1][4].get("availability.old") == "active", out
    assert evs[-1][4].get("availability.new") == "drain", out
    assert evs[-1][4].get("name"), out


def test_live_stream_sees_service_create(swarm_node):
    node = swarm_node
    node.shoal_ok("service", "create", "--detach", "--replicas", "0",
                  "--name", "probe", "simple_server")
    live = LiveEvents(node, "--filter", "type=service")
    try:
        # The stream is open once a change made now reaches it.
        tick = iter(range(1000))

        def probe_seen():
            node.shoal_ok("service", "update", "--detach", "--label-add",
                          f"tick={next(tick)}", "probe")
            return any(" service update " in ln for ln in live.lines())
        wait_for(probe_seen, 30, "the live stream to show an update")
        sid = service_id(node.shoal_ok("service", "create", "--detach",
                                       "--replicas", "0", "--name",
                                       "evtest", "simple_server"))
        want = f"service create {sid} (name=evtest)"
        wait_for(lambda: any(ln.endswith(want) for ln in live.lines()), 10,
                 f"{want!r} on the live stream")
        assert live.proc.poll() is None, "a stream without --until ended"
    finally:
        err = live.stop()
    assert all(LINE.match(ln) for ln in live.lines()), live.lines()
    assert all(" service " in ln for ln in live.lines()), live.lines()
    assert "Sanitizer" not in err, err


def test_raw_live_stream_headers_first(swarm_node):
    node = swarm_node
    flt = quote(json.dumps({"type": {"service": True}}))
    conn = UnixHTTPConnection(node.sock, timeout=scaled(10))
    try:
        conn.request("GET", f"/v1.41/events?filters={flt}")
        # Headers come at once, before any event: then we are subscribed.
        r = conn.getresponse()
        assert r.status == 200
        assert r.getheader("Content-Type") == "application/json"
        assert r.getheader("Transfer-Encoding") == "chunked"
        sid = service_id(node.shoal_ok("service", "create", "--detach",
                                       "--replicas", "0", "--name", "rawev",
                                       "simple_server"))
        line = r.fp.readline()  # chunk size
        assert int(line, 16) > 0
        msg = json.loads(r.fp.readline())
        assert msg["Type"] == "service" and msg["Action"] == "create"
        assert msg["Actor"] == {"ID": sid, "Attributes": {"name": "rawev"}}
    finally:
        conn.close()


def test_until_in_the_future_ends_the_stream(swarm_node):
    node = swarm_node
    # A duration is relative to now, into the past ("--until 2s" = two
    # seconds ago); an absolute time can be in the future.
    until = int(time.time()) + 2
    r = node.shoal("events", "--until", str(until), timeout=30)
    assert r.rc == 0 and r.out == "", r
    assert time.time() >= until, "the stream ended before --until"
    r = node.shoal("events", "--until", "2s", timeout=30)
    assert r.rc == 0, r


def test_container_events(loaded_node):
    node = loaded_node
    since = int(time.time())
    node.create_service("web", cmd=["sleep", "1000"])
    node.wait_replicas("web", "1/1")
    ctr = node.containers("web")[0]
    cid = ctr["Id"]
    node.shoal_ok("kill", cid)

    def killed():
        out = events_between(node, since, past_second(), "--filter",
                             "type=container", "--filter",
                             f"container={cid[:12]}")
        evs = parse_lines(out)
        assert "die" in [e[2] for e in evs], out
        return evs
    evs = wait_for(killed, 30, "the container's die event")
    assert [e[2] for e in evs][:4] == ["create", "start", "kill", "die"], evs
    for e in evs:
        assert e[3] == cid
        attrs = e[4]
        assert attrs["image"] == "simple_server:latest", attrs
        assert attrs["name"] == ctr["Names"][0].lstrip("/"), attrs
        assert attrs["com.docker.swarm.service.name"] == "web", attrs
        assert attrs["com.docker.swarm.task.id"], attrs
    assert evs[2][4]["signal"] == "9"
    assert evs[3][4]["exitCode"] == "137"
    # The legacy fields, and the label / image filters.
    r = node.api("GET", f"/v1.41/events?since={since}&until="
                 f"{past_second()}&filters=" + quote(json.dumps(
                     {"label": ["com.docker.swarm.service.name=web"],
                      "image": ["simple_server"]})))
    msgs = [json.loads(x) for x in r.body.decode().splitlines()]
    assert msgs and all(m["Type"] == "container" for m in msgs), msgs
    first = msgs[0]
    assert list(first)[:3] == ["status", "id", "from"], first
    assert first["status"] == "create" and first["id"] == cid
    assert first["from"] == "simple_server:latest"
    assert first["scope"] == "local"


def test_restart_replays_nothing_old(loaded_node):
    node = loaded_node
    node.create_service("keep", cmd=["sleep", "1000"])
    node.wait_replicas("keep", "1/1")
    node.restart_daemon()
    node.wait_manager()
    node.wait_replicas("keep", "1/1")
    out = events_between(node, "10m", past_second())
    assert " service create " not in out, out
    assert " container start " not in out, out


def test_docker_cli_shows_the_same_lines(swarm_node):
    node = swarm_node
    since = int(time.time())
    node.create_service("dockev", opts=["--replicas", "0"], client="docker")
    node.docker_ok("service", "rm", "dockev")
    until = past_second()
    ours = events_between(node, since, until)
    theirs = events_between(node, since, until, client="docker")
    assert "service create" in ours and "service remove" in ours, ours
    # docker prints local time; the node's environment is UTC by default,
    # so compare everything after the timestamp.
    assert [ln.split(" ", 1)[1] for ln in theirs.splitlines()] == \
        [ln.split(" ", 1)[1] for ln in ours.splitlines()]
    out = node.docker_ok("events", "--since", str(since), "--until",
                         str(until), "--format", "{{json .}}")
    msgs = [json.loads(x) for x in out.splitlines()]
    assert [m["Action"] for m in msgs] == ["create", "remove"], msgs
    out = node.docker_ok("events", "--since", str(since), "--until",
                         str(until), "--filter", "event=remove", "--format",
                         "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}")
    assert out == "service remove dockev\n", out


def test_bad_input(swarm_node):
    node = swarm_node
    r = node.shoal("events", "--since", "yesterday")
    assert r.rc != 0
    assert 'failed to parse value as time or duration: "yesterday"' in r.err
    r = node.api("GET", "/v1.41/events?since=abc&until=1")
    assert r.status == 400 and "abc" in r.message, r
    r = node.api("GET", "/v1.41/events?since=20&until=10")
    assert r.status == 400, r
    assert r.message == ("`since` time (20) cannot be after `until` time "
                         "(10)"), r
    flt = quote(json.dumps({"colour": {"red": True}}))
    r = node.api("GET", f"/v1.41/events?filters={flt}")
    assert r.status == 400 and r.message == "invalid filter 'colour'", r
    r = node.shoal("events", "--format", "{{.Nope}}")
    assert r.rc == 64 and r.err.startswith("Error parsing format:"), r
    assert node.ping()


def test_many_subscribers_and_disconnects(swarm_node):
    node = swarm_node
    subs = []
    try:
        for _ in range(20):
            c = UnixHTTPConnection(node.sock, timeout=scaled(10))
            c.request("GET", "/v1.41/events")
            r = c.getresponse()
            assert r.status == 200
            subs.append((c, r))
        # Half of them go away; the rest all get the next event.
        for c, _ in subs[:10]:
            c.close()
        sid = service_id(node.shoal_ok("service", "create", "--detach",
                                       "--replicas", "0", "--name", "many",
                                       "simple_server"))
        for _, r in subs[10:]:
            assert int(r.fp.readline(), 16) > 0
            msg = json.loads(r.fp.readline())
            assert msg["Actor"]["ID"] == sid
    finally:
        for c, _ in subs:
            c.close()
    assert node.ping()
