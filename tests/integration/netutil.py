# SPDX-License-Identifier: Apache-2.0
"""Helpers of the networking tests (test_networking*.py): services that
answer with their hostname, request loops that run inside a node or a task
and record every request, a fake upstream DNS server, an outside client
wired to the node by a veth pair, and readers of busybox nslookup output and
of shoald's nftables table."""

import json
import os
import re
import signal
import subprocess
import time

from shoalnode import scaled, wait_for

# Each replica writes its own hostname (the container's short ID) as the
# page and serves it on port 8000. The shell stays PID 1 and exits on
# SIGTERM (taking httpd with it), so a stop is immediate; httpd as PID 1
# would ignore SIGTERM and every stop would last the grace period.
HOSTNAME_SERVER = ["sh", "-c",
                   "hostname > /www/index.html; trap 'exit 0' TERM; "
                   "httpd -f -p 8000 -h /www & wait"]
# The same with httpd as PID 1: it ignores SIGTERM, so a stopping task's
# container keeps serving for its whole stop grace period.
HOSTNAME_SERVER_DEAF = ["sh", "-c", "hostname > /www/index.html; "
                        "exec httpd -f -p 8000 -h /www"]

PY = "/usr/bin/python3"


def step(name):
    print(f"--- step: {name}")


def network_create(node, name, *opts, client="api"):
    """Creates an overlay network; returns its ID. client "api" (POST
    /networks/create, for tests about what the network does), or "shoal" /
    "docker" (`network create --driver overlay OPTS NAME`)."""
    if client == "api":
        assert not opts, "options need a CLI client"
        r = node.api("POST", "/networks/create",
                     {"Name": name, "Driver": "overlay",
                      "CheckDuplicate": True})
        assert r.status == 201, f"POST /networks/create: {r}"
        return r.json()["Id"]
    run = node.docker_ok if client == "docker" else node.shoal_ok
    out = run("network", "create", "--driver", "overlay", *opts, name)
    m = re.search(r"^([a-z0-9]{25})$", out, re.M)
    assert m, f"no network ID in the output of network create:\n{out}"
    return m.group(1)


def network_rm(node, name, client="api"):
    """Removes a network (DELETE /networks/NAME, or the CLI's network
    rm)."""
    if client == "api":
        r = node.api("DELETE", f"/networks/{name}")
        assert r.status == 204, f"DELETE /networks/{name}: {r}"
        return
    run = node.docker_ok if client == "docker" else node.shoal_ok
    out = run("network", "rm", name)
    assert out.split() == [name], out


def network_id(node, name):
    return node.api_json("GET", f"/networks/{name}")["Id"]


def start_services(node, specs, timeout=60, restart_delay="0s",
                   cmd=HOSTNAME_SERVER):
    """specs: [(name, replicas, opts)]; creates them all detached with the
    hostname server, then waits until each runs all its replicas."""
    for name, replicas, opts in specs:
        node.create_service(name, opts=["--replicas", str(replicas), *opts],
                            cmd=cmd, restart_delay=restart_delay)
    for name, replicas, _ in specs:
        node.wait_replicas(name, f"{replicas}/{replicas}", timeout)
        wait_for(lambda: len(running(node, name)) == replicas, timeout,
                 f"{replicas} running tasks with containers of {name}")


def running(node, service):
    """Running tasks of a service that have a container."""
    return [t for t in node.running_tasks(service)
            if (t["Status"].get("ContainerStatus") or {}).get("ContainerID")
            and t.get("DesiredState") == "running"]


def task_cid(task):
    return task["Status"]["ContainerStatus"]["ContainerID"]


def task_pids(node, service):
    return [node.container_pid(task_cid(t)) for t in running(node, service)]


def task_addrs(node, service, net_id):
    """The addresses (no prefix length) of a service's running tasks on
    network net_id."""
    addrs = set()
    for t in running(node, service):
        for att in t.get("NetworksAttachments") or []:
            if att["Network"]["ID"] == net_id:
                addrs |= {a.split("/")[0] for a in att["Addresses"]}
    return addrs


def vip(node, service, net_id):
    """A service's virtual IP on network net_id (from service inspect's
    Endpoint.VirtualIPs), no prefix length."""
    vips = node.service(service).get("Endpoint", {}).get("VirtualIPs") or []
    found = [v["Addr"].split("/")[0] for v in vips
             if v.get("NetworkID") == net_id]
    assert len(found) == 1, f"VirtualIPs of {service}: {vips}"
    return found[0]


def hostnames(node, service):
    """The hostnames of a service's running task containers (what the
    hostname server answers)."""
    names = set()
    for pid in task_pids(node, service):
        r = node.exec_in_task(pid, "hostname")
        assert r.rc == 0, str(r)
        names.add(r.out.strip())
    return names


# ------------------------------------------------------------------- DNS

NSLOOKUP_ADDR = re.compile(r"^Address:\s*(\d+\.\d+\.\d+\.\d+)\s*$", re.M)


def nslookup(node, pid, name, *extra):
    """busybox nslookup NAME from inside task pid: (rc, [IPv4 answers],
    output). The server's own "Address: x.x.x.x:53" line is not an
    answer."""
    r = node.exec_in_task(pid, "nslookup", *extra, name, timeout=30)
    out = r.out + r.err
    return r.rc, NSLOOKUP_ADDR.findall(out.split("\n\n", 1)[-1]), out


def assert_nxdomain(node, pid, name):
    rc, addrs, out = nslookup(node, pid, name)
    assert rc != 0 and not addrs, f"{name} resolved:\n{out}"
    assert re.search(rf"can't find {re.escape(name)}: NXDOMAIN", out), \
        f"{name}: not NXDOMAIN:\n{out}"


# A fake upstream resolver on UDP and TCP port 53 of argv[1]: answers
# external.example A with 192.0.2.7 (NOERROR without answers for other
# types); big.example A with 40 addresses 192.0.2.100.. (over UDP only the
# header with TC set, so clients must ask again over TCP); names starting
# with "leak-" A with 192.0.2.99 (so a name shoald must answer itself but
# forwarded shows); NXDOMAIN for anything else. Logs each question (one
# line: name type proto) to argv[2].
FAKE_DNS = r"""
import socket, struct, sys, threading
log = open(sys.argv[2], "a", buffering=1)
lock = threading.Lock()

def answer(data, proto):
    qid, flags = struct.unpack("!HH", data[:4])
    i, labels = 12, []
    while data[i]:
        n = data[i]
        labels.append(data[i + 1:i + 1 + n].decode().lower())
        i += 1 + n
    qtype, = struct.unpack("!H", data[i + 1:i + 3])
    question = data[12:i + 5]
    name = ".".join(labels)
    with lock:
        log.write(f"{name} {qtype} {proto}\n")
    rflags = 0x8080 | (flags & 0x0100)
    addrs = []
    if name == "external.example":
        addrs = ["192.0.2.7"]
    elif name.startswith("leak-"):
        addrs = ["192.0.2.99"]
    elif name == "big.example":
        addrs = [f"192.0.2.{100 + k}" for k in range(40)]
    else:
        rflags |= 3
    if qtype != 1:
        addrs = []
    if proto == "udp" and len(addrs) > 20:
        rflags |= 0x0200
        addrs = []
    ans = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 5, 4) +
                   socket.inet_aton(a) for a in addrs)
    return struct.pack("!HHHHHH", qid, rflags, 1, len(addrs), 0, 0) + \
        question + ans

def udp():
    while True:
        data, peer = u.recvfrom(4096)
        try:
            u.sendto(answer(data, "udp"), peer)
        except (IndexError, struct.error, UnicodeDecodeError):
            pass

def tcp_conn(c):
    with c:
        buf = b""
        while True:
            chunk = c.recv(4096)
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(
                    "!H", buf[:2])[0]:
                n = struct.unpack("!H", buf[:2])[0]
                q, buf = buf[2:2 + n], buf[2 + n:]
                try:
                    a = answer(q, "tcp")
                except (IndexError, struct.error, UnicodeDecodeError):
                    return
                c.sendall(struct.pack("!H", len(a)) + a)

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((sys.argv[1], 53))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((sys.argv[1], 53))
t.listen(64)
threading.Thread(target=udp, daemon=True).start()
print("ready", flush=True)
while True:
    c, _ = t.accept()
    threading.Thread(target=tcp_conn, args=(c,), daemon=True).start()
"""

FAKE_UPSTREAM_ADDR = "127.0.0.53"
EXTERNAL_NAME, EXTERNAL_ADDR = "external.example", "192.0.2.7"


def setup_fake_upstream(node):
    """Runs in the node's fresh namespaces before shoald starts: the fake
    resolver on 127.0.0.53:53 and a resolv.conf naming it bind-mounted over
    /etc/resolv.conf (in the node's private mount namespace only). Returns
    the resolver's process (node.fake_dns) and its query log
    (node.fake_dns_log)."""
    script = node.dir / "fake_dns.py"
    script.write_text(FAKE_DNS)
    node.fake_dns_log = node.dir / "fake_dns.log"
    node.fake_dns_log.write_text("")
    resolv = node.dir / "resolv.conf"
    resolv.write_text(f"nameserver {FAKE_UPSTREAM_ADDR}\n")
    node.exec("mount", "--bind", str(resolv), "/etc/resolv.conf", check=True)
    p = subprocess.Popen(node.nsenter() + [PY, str(script),
                                           FAKE_UPSTREAM_ADDR,
                                           str(node.fake_dns_log)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    assert line.strip() == "ready", (line, p.poll(),
                                     p.stderr.read() if p.poll() else "")
    node.fake_dns = p
    return p


# One DNS query (UDP, or TCP with "tcp") printed as JSON: {"rcode", "tc",
# "aa", "answers": [[type, ttl, data]]} with A as dotted quads, PTR/CNAME
# as names and SRV as "prio weight port target".
DNS_QUERY = r"""
import json, random, socket, struct, sys
server, name, qtype, proto = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    sys.argv[4]
qid = random.randrange(65536)
q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
for label in name.rstrip(".").split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack("!HH", qtype, 1)
if proto == "tcp":
    s = socket.create_connection((server, 53), timeout=3)
    s.sendall(struct.pack("!H", len(q)) + q)
    buf = b""
    while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    data = buf[2:]
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(q, (server, 53))
    data = s.recv(65536)

def rname(i):
    labels, end = [], None
    while True:
        n = data[i]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = i + 2
            i = struct.unpack("!H", data[i:i + 2])[0] & 0x3FFF
            continue
        if n == 0:
            return ".".join(labels), (end if end is not None else i + 1)
        labels.append(data[i + 1:i + 1 + n].decode())
        i += 1 + n

rid, flags, qd, an = struct.unpack("!HHHH", data[:8])
assert rid == qid, "wrong id"
i = 12
for _ in range(qd):
    i = rname(i)[1] + 4
answers = []
for _ in range(an):
    i = rname(i)[1]
    t, c, ttl, rdlen = struct.unpack("!HHIH", data[i:i + 10])
    i += 10
    rd = data[i:i + rdlen]
    if t == 1:
        v = socket.inet_ntoa(rd)
    elif t in (5, 12):
        v = rname(i)[0]
    elif t == 33:
        p, w, port = struct.unpack("!HHH", rd[:6])
        v = f"{p} {w} {port} {rname(i + 6)[0]}"
    else:
        v = rd.hex()
    answers.append([t, ttl, v])
    i += rdlen
print(json.dumps({"rcode": flags & 15, "tc": bool(flags & 0x200),
                  "aa": bool(flags & 0x400), "answers": answers}))
"""

A, PTR, SRV = 1, 12, 33


def dns_query(node, pid, server, name, qtype=A, proto="udp"):
    """One query from inside the network namespace of task pid (the
    host's python, so it works whatever the image has); returns the dict
    DNS_QUERY prints."""
    script = node.dir / "dns_query.py"
    if not script.exists():
        script.write_text(DNS_QUERY)
    r = node.exec_in_netns_of(pid, PY, str(script), server, name,
                              str(qtype), proto)
    assert r.rc == 0, f"DNS query {name} {qtype} {proto}:\n{r}"
    return json.loads(r.out)


# ------------------------------------------------------- request loops

# Back-to-back HTTP/1.0 GETs (a new connection each) until the stop file
# appears or the time is up; prints "ready" after the first answer and at
# the end one JSON list of [start, end, ok, body or error, local port]
# (monotonic clock, shared by every process on the machine).
LOOP = r"""
import json, os, socket, sys, time
host, port, stop, limit, timeout = (sys.argv[1], int(sys.argv[2]),
                                    sys.argv[3], float(sys.argv[4]),
                                    float(sys.argv[5]))
req = f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode()
res, said = [], False
end = time.monotonic() + limit
while not os.path.exists(stop) and time.monotonic() < end:
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        s.sendall(req)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        body = body.decode(errors="replace").strip()
        ok = head.startswith(b"HTTP/1.") and head[9:12] == b"200" and \
            bool(body)
        if not ok:
            body = f"bad answer: {data[:200]!r}"
    except Exception as e:
        ok, body = False, f"{type(e).__name__}: {e}"
    finally:
        try:
            lport = s.getsockname()[1]
        except OSError:
            lport = 0
        s.close()
    res.append([t0, time.monotonic(), ok, body, lport])
    if ok and not said:
        print("ready", flush=True)
        said = True
    if not ok:
        time.sleep(0.002)
if not said:
    print("ready", flush=True)
print(json.dumps(res), flush=True)
"""


class RequestLoop:
    """A request loop against host:port running in the namespaces given by
    prefix (e.g. node.nsenter(), or nsenter -t PID -n for a task's
    network namespace). start() returns once one request was answered (or
    the loop gave up); stop() returns the list of Request records."""

    def __init__(self, node, prefix, host, port=8000, limit=120,
                 timeout=1.0, name="loop"):
        self.node = node
        script = node.dir / "request_loop.py"
        if not script.exists():
            script.write_text(LOOP)
        self.stop_file = node.dir / f"{name}.stop"
        if self.stop_file.exists():
            self.stop_file.unlink()
        self.cmd = prefix + [PY, str(script), host, str(port),
                             str(self.stop_file), str(scaled(limit)),
                             str(timeout)]
        self.proc = None
        self.results = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", \
            f"request loop did not start: {line!r} {self.proc.poll()}"
        return self

    def stop(self):
        self.stop_file.write_text("")
        try:
            out, err = self.proc.communicate(timeout=scaled(20))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"request loop hung: {err}")
        lines = out.strip().splitlines()
        assert lines, f"request loop printed nothing: {err}"
        self.results = [Request(*r) for r in json.loads(lines[-1])]
        assert self.results, "the request loop made no request"
        return self.results

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


class Request:
    __slots__ = ("start", "end", "ok", "body", "port")

    def __init__(self, start, end, ok, body, port=0):
        self.start, self.end, self.ok, self.body = start, end, ok, body
        self.port = port

    def __repr__(self):
        return (f"<{'ok' if self.ok else 'FAILED'} {self.start:.3f}-"
                f"{self.end:.3f} port {self.port} {self.body!r}>")


def failures(results, after=None):
    return [r for r in results if not r.ok and
            (after is None or r.end >= after)]


def longest_gap(results, since=None, until=None):
    """The longest time with no answered request: between consecutive
    answered requests' ends (and from `since` to the first one after it),
    as (seconds, (from, to))."""
    ends = [r.end for r in results if r.ok and
            (since is None or r.end >= since) and
            (until is None or r.end <= until)]
    points = ([since] if since is not None else []) + ends
    best = (0.0, (None, None))
    for a, b in zip(points, points[1:]):
        if b - a > best[0]:
            best = (b - a, (a, b))
    return best


def summarize(results):
    n = len(results)
    span = results[-1].end - results[0].start if results else 0
    bad = failures(results)
    return (f"{n} requests in {span:.2f}s ({n / span if span else 0:.0f}/s), "
            f"{len(bad)} failed")


class LBWatcher:
    """Polls the backends of a published port in the node's table (every
    few ms, from a thread) and records when each backend joins and
    leaves (see events())."""

    def __init__(self, node, port=8000, proto="tcp"):
        import threading
        self.node, self.key = node, (proto, port)
        self.log = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _backends(self):
        t = self.node.nft_table()
        return lb_state(t)["published"].get(self.key, (None, set()))[1] \
            if t else set()

    def _run(self):
        while not self.stopping.is_set():
            now = self._backends()
            self.log.append((time.monotonic(), now))
            time.sleep(0.002)

    def __enter__(self):
        self.log.append((time.monotonic(), self._backends()))
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()

    def events(self):
        """[(since, seen, "join"|"leave", backend)]: the change happened
        after `since` (the poll before) and was seen at `seen`."""
        ev = []
        for (t0, a), (t, b) in zip(self.log, self.log[1:]):
            ev += [(t0, t, "join", x) for x in sorted(b - a)]
            ev += [(t0, t, "leave", x) for x in sorted(a - b)]
        return ev


# --------------------------------------------------- an outside client

class OutsideClient:
    """A network namespace outside the node (its own net namespace, the
    node's mount namespace) wired to the node by a veth pair: the node side
    (tst-ext0, not a name shoald owns) gets 198.51.100.1/24, the client side
    198.51.100.2/24 with the node as its default route. Traffic from here
    to the node's address is what a remote client's is."""

    NODE_ADDR, CLIENT_ADDR = "198.51.100.1", "198.51.100.2"

    def __init__(self, node):
        self.node = node
        self.proc = subprocess.Popen(
            node.nsenter() + ["unshare", "--net", "--", "/bin/sh", "-c",
                              "ip link set lo up && echo ready && "
                              "exec sleep infinity"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", (line, self.proc.poll())
        pid = str(self.proc.pid)
        for cmd in (["ip", "link", "add", "tst-ext0", "type", "veth", "peer",
                     "name", "tst-ext1", "netns", pid],
                    ["ip", "addr", "add", f"{self.NODE_ADDR}/24", "dev",
                     "tst-ext0"],
                    ["ip", "link", "set", "tst-ext0", "up"]):
            node.exec(*cmd, check=True)
        for cmd in (["ip", "addr", "add", f"{self.CLIENT_ADDR}/24", "dev",
                     "tst-ext1"],
                    ["ip", "link", "set", "tst-ext1", "up"],
                    ["ip", "route", "add", "default", "via",
                     self.NODE_ADDR]):
            self.exec(*cmd, check=True)

    def prefix(self):
        return ["nsenter", "-t", str(self.proc.pid), "-n", "-m", "--"]

    def exec(self, *cmd, check=False, timeout=30):
        from shoalnode import run
        return run(self.prefix() + list(cmd), timeout=timeout, check=check)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.node.exec("ip", "link", "del", "tst-ext0")


def curl_many(run_in, url, n):
    """n GETs of url with curl (a new connection each), from run_in
    (node.exec or a client's exec); returns the answers in order."""
    args = ["curl", "-sS", "--max-time", str(scaled(5)), "-H",
            "Connection: close"]
    for _ in range(n):
        args += ["-w", r"\n", url]
    r = run_in(*args, timeout=60)
    assert r.rc == 0, f"curl failed:\n{r}"
    return [ln.strip() for ln in r.out.splitlines() if ln.strip()]


# ---------------------------------------------------------- nftables

def lb_state(table):
    """The load balancer's content from `nft list table ip shoal`, for the
    generation the base chains use: {"gen", "vips": {vip: (service ID,
    {backend})}, "published": {(proto, port): (service ID, {backend})}}.
    Independent of element order and of the generation's suffix."""
    m = re.search(r"chain prerouting \{[^}]*?jump services-(\w+)", table)
    assert m, f"no prerouting chain jumping to services-*:\n{table}"
    gen = m.group(1)

    def elements(kind):
        mm = re.search(rf"map {kind}-{gen} \{{(.*?)\n\t\}}", table, re.S)
        if not mm:
            return ""
        el = re.search(r"elements = \{(.*?)\}", mm.group(1), re.S)
        return el.group(1) if el else ""

    vip_backends = {}
    for v, _, b in re.findall(r"(\d+\.\d+\.\d+\.\d+) \. (\d+) : "
                              r"(\d+\.\d+\.\d+\.\d+)",
                              elements("vip_backends")):
        vip_backends.setdefault(v, set()).add(b)
    pub_backends = {}
    for proto, port, _, b, bport in re.findall(
            r"(tcp|udp) \. (\d+) \. (\d+) : (\d+\.\d+\.\d+\.\d+) \. (\d+)",
            elements("published_backends")):
        pub_backends.setdefault((proto, int(port)), set()).add(
            f"{b}:{bport}")
    vips = {v: (sid, vip_backends.get(v, set())) for v, sid in re.findall(
        r"(\d+\.\d+\.\d+\.\d+) comment \"(\w+)\"", elements("vips"))}
    published = {(p, int(port)): (sid, pub_backends.get((p, int(port)),
                                                        set()))
                 for p, port, sid in re.findall(
                     r"(tcp|udp) \. (\d+) comment \"(\w+)\"",
                     elements("published"))}
    return {"gen": gen, "vips": vips, "published": published}


def wait_gone(what, probe, timeout=15):
    """Waits until probe() returns an empty collection; returns it."""
    last = []

    def gone():
        last[:] = [probe()]
        return not last[0]
    wait_for(gone, timeout, what)
    return last[0]


def monotonic():
    return time.monotonic()


def is_executable(path):
    return os.access(path, os.X_OK)
