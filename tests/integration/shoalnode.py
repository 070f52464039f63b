# SPDX-License-Identifier: Apache-2.0
"""The integration-test harness: a Node is one shoald running in its own
network + mount + UTS namespace with its own data root, socket, hostname and
cgroup parent, so tests never touch the host's network or mounts and several
nodes can share one machine. Also the pytest fixtures and hooks both suites
(tests/integration, tests/compat) import into their conftest.py."""

import atexit
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------
# ASK LEAD: how shoald names a node's cgroup parent. The harness removes this
# directory (and anything under it) in every /sys/fs/cgroup/* hierarchy at
# teardown, and tests look for container cgroups below it. Change it here if
# the daemon derives the name differently from the node's hostname.
CGROUP_PARENT_FMT = "shoal-{hostname}"
# ASK LEAD: extra arguments for `swarm init` inside a node, whose network
# namespace has only `lo` (e.g. ["--advertise-addr", "127.0.0.1"] if the
# daemon cannot pick an address on its own there).
# $SHOAL_TEST_SWARM_INIT_ARGS overrides it.
SWARM_INIT_ARGS = os.environ.get("SHOAL_TEST_SWARM_INIT_ARGS", "").split()
# ---------------------------------------------------------------------------

DOCKER = "/usr/local/bin/docker"
TEST_IMAGE = "simple_server:latest"
# Timeouts are multiplied by this (the sanitizer run sets it higher).
TIMEOUT_SCALE = float(os.environ.get("SHOAL_TEST_TIMEOUT_SCALE", "1"))
TMP_BASE = os.environ.get("SHOAL_TEST_TMPDIR", "/tmp")
NODE_PREFIX = "shoal-it-"
# Marks the holder processes of this harness (value: "<pytest pid>:<host
# name>:<node dir>"), so a later session can sweep what a dead one left.
MARKER_ENV = "SHOAL_TEST_NODE_DIR"

# An object ID on a line of its own (what `service create` prints).
SERVICE_ID_LINE = re.compile(r"^[a-z0-9]{25}$", re.M)

SANITIZER_PATTERNS = re.compile(
    r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|:\d+:\d+: runtime error: |"
    r"SUMMARY: UndefinedBehaviorSanitizer|ERROR: ThreadSanitizer")


def build_dir():
    """The build directory under test: $SHOAL_BUILD (relative to the repo
    root unless absolute), default build/."""
    b = Path(os.environ.get("SHOAL_BUILD", "build"))
    return b if b.is_absolute() else REPO / b


def scaled(seconds):
    return seconds * TIMEOUT_SCALE


def is_root():
    return os.geteuid() == 0


def require_root():
    if not is_root():
        pytest.skip("needs root (namespaces, mounts, cgroups)")


# ------------------------------------------------------------------ helpers


class CmdResult(namedtuple("CmdResult", "rc out err")):
    """(rc, stdout, stderr) of a command; unpacks like a tuple."""

    cmd = ()

    def __str__(self):
        return (f"$ {' '.join(map(str, self.cmd))}\nexit code {self.rc}\n"
                f"--- stdout ---\n{self.out}--- stderr ---\n{self.err}")


def run(cmd, timeout=60, env=None, input=None, check=False):
    """Runs cmd (a list) and returns a CmdResult. A command that outlives its
    timeout is killed and fails the test: the harness never hangs."""
    cmd = [str(c) for c in cmd]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           input=input, stdin=None if input else
                           subprocess.DEVNULL, timeout=scaled(timeout),
                           errors="replace")
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(
            e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(
            e.stderr, bytes) else (e.stderr or "")
        raise AssertionError(f"command timed out after {scaled(timeout)}s: "
                             f"{' '.join(cmd)}\nstdout: {out}\nstderr: {err}")
    r = CmdResult(p.returncode, p.stdout, p.stderr)
    r.cmd = cmd
    if check and r.rc != 0:
        raise AssertionError(f"command failed:\n{r}")
    return r


class WaitTimeout(AssertionError):
    pass


class DaemonDied(Exception):
    """shoald exited while a test expected it to run. Not an AssertionError,
    so wait_for stops at once instead of polling a dead daemon."""


def wait_for(condition, timeout=30, what="condition", interval=0.05):
    """Polls condition() until it returns a truthy value, which it returns.
    An AssertionError raised by condition counts as "not yet" (its message is
    reported if the deadline passes). timeout is scaled by TIMEOUT_SCALE."""
    deadline = time.monotonic() + scaled(timeout)
    last = None
    while True:
        try:
            v = condition()
            if v:
                return v
            last = v
        except AssertionError as e:
            last = f"AssertionError: {e}"
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {scaled(timeout):.1f}s "
                              f"waiting for {what}; last: {last!r}")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.5)


def hold_for(condition, seconds, what="condition", interval=0.1):
    """Asserts that condition() stays truthy for `seconds` (not scaled): the
    way to check that something does NOT happen (e.g. no restart)."""
    deadline = time.monotonic() + seconds
    while True:
        v = condition()
        assert v, f"{what} stopped holding (got {v!r})"
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def parse_table(text):
    """Parses docker-style table output (tabwriter columns) into a list of
    dicts keyed by the header's column names. Column starts come from the
    header, so values with single spaces ("Running 3 seconds ago") work."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    header = lines[0]
    cols = [(m.start(), m.group(0))
            for m in re.finditer(r"\S+(?: \S+)*", header)]
    rows = []
    for ln in lines[1:]:
        row = {}
        for i, (start, name) in enumerate(cols):
            end = cols[i + 1][0] if i + 1 < len(cols) else None
            row[name] = ln[start:end].strip() if end else ln[start:].strip()
        rows.append(row)
    return rows


def parse_time(s):
    """Seconds since the epoch of an RFC 3339 time with up to 9 fractional
    digits (Go's format), as a float."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$",
                 s)
    assert m, f"not an RFC 3339 time: {s!r}"
    import datetime
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    base = datetime.datetime.fromisoformat(m.group(1) + tz).timestamp()
    return base + (float(m.group(2)) if m.group(2) else 0.0)


def log_messages(text):
    """The messages of `service logs` output (what follows "| ")."""
    return [ln.split("| ", 1)[1] for ln in text.splitlines() if "| " in ln]


_FRAME = re.compile(r"\((/[^()+\s]+)\+(0x[0-9a-f]+)\)")


def symbolize(report):
    """The report with each unsymbolized frame "(/path/bin+0x1234)" followed
    by its function and line (addr2line). The suites run the sanitizers
    with symbolize=0 (tests/run-all): a shoald in the node namespaces dies
    while its in-process symbolizer runs, halfway through a report."""
    frames = {}
    for path, off in _FRAME.findall(report):
        frames.setdefault(path, set()).add(off)
    names = {}
    for path, offs in frames.items():
        offs = sorted(offs)
        try:
            r = subprocess.run(["addr2line", "-f", "-C", "-e", path, *offs],
                               capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        lines = r.stdout.splitlines()
        for i, off in enumerate(offs):
            if 2 * i + 1 < len(lines):
                fn, loc = lines[2 * i], lines[2 * i + 1]
                names[(path, off)] = f"{fn} {loc}"
    return _FRAME.sub(
        lambda m: m.group(0) + (f" {names[(m.group(1), m.group(2))]}"
                                if (m.group(1), m.group(2)) in names
                                else ""), report)


def check_no_sanitizer_report(text, where):
    m = SANITIZER_PATTERNS.search(text or "")
    if m:
        start = max(0, m.start() - 200)
        end = text.find("Shadow bytes around", m.start())
        report = symbolize(text[start:end if end > 0 else start + 6000])
        raise AssertionError(f"sanitizer report in {where}:\n"
                             f"{report[:8000]}")


# --------------------------------------------------------- raw HTTP on unix


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket (Host header as the docker CLI sends)."""

    def __init__(self, path, timeout=30):
        super().__init__("api.moby.localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class ApiResponse(namedtuple("ApiResponse", "status headers body")):
    def json(self):
        return json.loads(self.body)

    @property
    def message(self):
        """The "message" of a Docker-shaped error body."""
        try:
            return self.json().get("message")
        except ValueError:
            return None

    def __str__(self):
        return f"HTTP {self.status}: {self.body[:2000]!r}"


def api_request(sock_path, method, path, body=None, headers=None,
                timeout=30):
    """One HTTP request on a fresh connection. body: bytes/str sent as is,
    anything else JSON-encoded."""
    conn = UnixHTTPConnection(sock_path, timeout=scaled(timeout))
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return ApiResponse(r.status, {k.lower(): v for k, v in
                                      r.getheaders()}, data)
    finally:
        conn.close()


# ------------------------------------------------------- host-level checks


def host_interfaces():
    return set(os.listdir("/sys/class/net"))


def host_mounts_under(prefix):
    """Mount points in the host's (our) mount namespace at or under prefix,
    or whose source/options mention it."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if prefix in line:
                found.append(line.strip())
    return found


def cgroup_roots():
    """Every mounted cgroup hierarchy (v1 controllers and the v2 tree)."""
    roots = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            fstype = post.split()[0] if post else ""
            if fstype in ("cgroup", "cgroup2"):
                roots.append(pre.split()[4])
    return roots


def cgroup_procs(d):
    """Pids in cgroup directory d and every cgroup below it."""
    pids = set()
    for dirpath, _, files in os.walk(d):
        for name in ("cgroup.procs", "tasks"):
            if name in files:
                try:
                    with open(os.path.join(dirpath, name)) as f:
                        pids.update(int(x) for x in f.read().split())
                except OSError:
                    pass
    return pids


def remove_cgroup_tree(d):
    """rmdir's d and everything below it, deepest first. Returns the
    directories that could not be removed."""
    left = []
    for dirpath, _, _ in sorted(os.walk(d, topdown=False),
                                key=lambda t: -t[0].count("/")):
        try:
            os.rmdir(dirpath)
        except FileNotFoundError:
            pass
        except OSError:
            left.append(dirpath)
    return left


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def readlink(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def protected_pids():
    """Pids the harness must never kill: init, itself and its ancestors."""
    pids = {1, os.getpid()}
    pid = os.getpid()
    while pid > 1:
        stat = read_text(f"/proc/{pid}/stat")
        if not stat:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        pids.add(pid)
    return pids


# ---------------------------------------------------------------- the node

_LIVE_NODES = set()


class Node:
    """One shoald in its own namespaces. Lifecycle: start() (holder +
    daemon), then stop_daemon / kill_daemon / start_daemon as a test needs,
    and cleanup() at the end (always; idempotent)."""

    def __init__(self, build=None, hostname=None):
        self.build = Path(build or build_dir())
        self.shoald_bin = self.build / "shoald"
        self.shoal_bin = self.build / "shoal"
        self.hostname = hostname or f"node-{secrets.token_hex(3)}"
        self.dir = Path(tempfile.mkdtemp(prefix=NODE_PREFIX, dir=TMP_BASE))
        os.chmod(self.dir, 0o755)
        self.sock = str(self.dir / "shoal.sock")
        self.data_root = str(self.dir / "data")
        self.log_path = self.dir / "shoald.log"
        self.holder = None
        self.daemon = None
        self.daemon_expected_down = False
        self.daemon_starts = 0
        self.cleaned = False
        self.problems = []  # found at teardown; reported by the fixture
        _LIVE_NODES.add(self)

    def __repr__(self):
        return f"<Node {self.hostname} {self.dir}>"

    @property
    def dir_prefix(self):
        return str(self.dir) + "/"

    @property
    def cgroup_parent(self):
        return CGROUP_PARENT_FMT.format(hostname=self.hostname)

    # -- namespaces

    def start(self, daemon=True):
        os.makedirs(self.data_root, exist_ok=True)
        env = dict(os.environ)
        env[MARKER_ENV] = f"{os.getpid()}:{self.hostname}:{self.dir}"
        script = ('hostname "$1" && ip link set lo up && echo ready && '
                  'exec sleep infinity')
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--uts", "--propagation",
             "private", "--", "/bin/sh", "-c", script, "holder",
             self.hostname], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)
        line = self.holder.stdout.readline()
        if line.strip() != b"ready":
            err = self.holder.stderr.read() if self.holder.poll() is not None \
                else b""
            raise RuntimeError(f"namespace holder failed to start: "
                               f"{line!r} {err!r}")
        self.holder.stdout.close()
        self.holder.stderr.close()
        self.mnt_ns = readlink(f"/proc/{self.holder.pid}/ns/mnt")
        self.net_ns = readlink(f"/proc/{self.holder.pid}/ns/net")
        self.uts_ns = readlink(f"/proc/{self.holder.pid}/ns/uts")
        assert self.mnt_ns != readlink("/proc/self/ns/mnt")
        if daemon:
            self.start_daemon()
        return self

    def nsenter(self):
        return ["nsenter", "-t", str(self.holder.pid), "-n", "-m", "-u", "--"]

    def exec(self, *cmd, timeout=60, check=False, input=None):
        """Runs cmd inside the node's namespaces; returns (rc, out, err)."""
        return run(self.nsenter() + list(cmd), timeout=timeout, check=check,
                   input=input)

    def exec_in_netns_of(self, pid, *cmd, timeout=30):
        """Runs a host binary (e.g. curl) in the network namespace of
        process pid (a container's init)."""
        return run(["nsenter", "-t", str(pid), "-n", "--"] + list(cmd),
                   timeout=timeout)

    def mounts(self):
        """The node's /proc/mounts (as the node's mount namespace sees it)."""
        return read_text(f"/proc/{self.holder.pid}/mounts")

    def overlay_mounts(self):
        return [ln for ln in self.mounts().splitlines()
                if ln.split(" ")[2:3] == ["overlay"]
                and self.data_root in ln]

    # -- the daemon

    def _daemon_env(self):
        env = dict(os.environ)
        for k in ("SHOAL_HOST", "DOCKER_HOST"):
            env.pop(k, None)
        return env

    def daemon_cmd(self, sock=None, data_root=None, extra=()):
        return self.nsenter() + [
            str(self.shoald_bin), "-H", f"unix://{sock or self.sock}",
            "--data-root", data_root or self.data_root, "--log-level",
            "debug", *extra]

    def start_daemon(self, wait=True, extra=()):
        """Starts shoald in the node's namespaces (log appended to
        shoald.log) and waits until it answers GET /_ping."""
        assert self.daemon is None or self.daemon.poll() is not None, \
            "shoald already running"
        self.daemon_starts += 1
        self.daemon_expected_down = False
        with open(self.log_path, "ab") as log:
            log.write(f"=== harness: starting shoald (start #"
                      f"{self.daemon_starts}) at {time.time():.3f} ===\n"
                      .encode())
            log.flush()
            self.daemon = subprocess.Popen(
                self.daemon_cmd(extra=extra), stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self._daemon_env(), start_new_session=True)
        if wait:
            self.wait_ready()
        return self.daemon

    def ping(self):
        try:
            r = api_request(self.sock, "GET", "/_ping", timeout=5)
            return r.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout=30):
        def ready():
            if self.daemon.poll() is not None:
                raise RuntimeError(
                    f"shoald exited with {self.daemon.returncode} before "
                    f"answering on {self.sock}\n{self.log_tail()}")
            return self.ping()
        try:
            wait_for(ready, timeout, "shoald to answer GET /_ping")
        except WaitTimeout as e:
            raise AssertionError(f"{e}\n{self.log_tail()}") from None

    def daemon_alive(self):
        return self.daemon is not None and self.daemon.poll() is None

    def daemon_pid(self):
        return self.daemon.pid if self.daemon_alive() else None

    def stop_daemon(self, sig=signal.SIGTERM, timeout=20):
        """Sends sig to shoald and waits for it to exit; SIGKILL after
        timeout (and fails the test if sig was SIGTERM and it hung).
        Returns its exit status."""
        self.check_daemon()
        self.daemon_expected_down = True
        if not self.daemon_alive():
            return self.daemon.returncode if self.daemon else None
        self.daemon.send_signal(sig)
        try:
            rc = self.daemon.wait(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
            raise AssertionError(f"shoald did not exit within "
                                 f"{scaled(timeout)}s of signal {sig}")
        self.check_log_for_sanitizer()
        return rc

    def kill_daemon(self):
        """kill -9 shoald (its containers stay, as after a crash)."""
        return self.stop_daemon(signal.SIGKILL)

    def restart_daemon(self, sig=signal.SIGTERM):
        self.stop_daemon(sig)
        self.start_daemon()

    def check_daemon(self):
        """Raises DaemonDied (with the log's tail) if shoald exited without
        the test stopping it."""
        if (self.daemon is not None and not self.daemon_expected_down
                and self.daemon.poll() is not None):
            self.daemon_expected_down = True  # report it once
            raise DaemonDied(f"shoald exited unexpectedly with status "
                             f"{self.daemon.returncode}\n{self.log_tail()}")

    def log_text(self):
        return read_text(self.log_path)

    def log_tail(self, n=60):
        lines = self.log_text().splitlines()[-n:]
        return (f"--- last {len(lines)} lines of {self.log_path} "
                f"({self.hostname}) ---\n" + "\n".join(lines))

    def check_log_for_sanitizer(self):
        check_no_sanitizer_report(self.log_text(), f"{self.log_path}")

    # -- clients

    def _client_env(self, extra=None):
        env = self._daemon_env()
        env.update(extra or {})
        return env

    def shoal(self, *args, timeout=120, input=None, env=None):
        """Runs `shoal -H unix://<sock> args...`; returns (rc, out, err).
        A sanitizer report on the client's stderr fails the test."""
        r = run([self.shoal_bin, "-H", f"unix://{self.sock}", *args],
                timeout=timeout, input=input, env=self._client_env(env))
        check_no_sanitizer_report(r.err, f"stderr of {r.cmd}")
        self.check_daemon()
        return r

    def shoal_ok(self, *args, **kw):
        """shoal(...) that must exit 0; returns its stdout."""
        r = self.shoal(*args, **kw)
        assert r.rc == 0, f"shoal failed:\n{r}\n{self.log_tail(30)}"
        return r.out

    def docker(self, *args, timeout=120, input=None):
        """Runs the real docker CLI against this node's socket."""
        if not os.access(DOCKER, os.X_OK):
            pytest.skip(f"{DOCKER} not installed")
        cfg = self.dir / "docker-config"
        cfg.mkdir(exist_ok=True)
        r = run([DOCKER, *args], timeout=timeout, input=input,
                env=self._client_env({
                    "DOCKER_HOST": f"unix://{self.sock}",
                    "DOCKER_CONFIG": str(cfg),
                    "DOCKER_CLI_HINTS": "false"}))
        self.check_daemon()
        return r

    def docker_ok(self, *args, **kw):
        r = self.docker(*args, **kw)
        assert r.rc == 0, f"docker failed:\n{r}\n{self.log_tail(30)}"
        return r.out

    def api(self, method, path, body=None, headers=None, timeout=30):
        """A raw HTTP request on the node's socket; returns ApiResponse."""
        try:
            return api_request(self.sock, method, path, body, headers,
                               timeout)
        finally:
            self.check_daemon()

    def api_json(self, method, path, body=None):
        r = self.api(method, path, body)
        assert 200 <= r.status < 300, f"{method} {path}: {r}"
        return r.json() if r.body else None

    # -- convenience queries (tests assert on CLI output; these gather data)

    def swarm_init(self):
        return self.shoal_ok("swarm", "init", *SWARM_INIT_ARGS)

    def wait_manager(self, timeout=30):
        """Waits until this node answers manager calls (after a restart the
        API is up a moment before Raft has a leader)."""
        return wait_for(lambda: self.shoal("node", "ls").rc == 0, timeout,
                        "the swarm to have a leader (shoal node ls)")

    def load_image(self, archive):
        return self.shoal_ok("image", "load", "-i", str(archive))

    def service_ls(self):
        return parse_table(self.shoal_ok("service", "ls"))

    def replicas(self, service):
        for row in self.service_ls():
            if row.get("NAME") == service:
                return row.get("REPLICAS")
        return None

    def wait_replicas(self, service, want, timeout=60):
        def at_want():
            now = self.replicas(service)
            assert now == want, f"service {service} at REPLICAS {now}"
            return True
        return wait_for(at_want, timeout,
                        f"service {service} at REPLICAS {want}")

    def ps(self):
        """`shoal ps` as a list of rows (CONTAINER ID, NAMES, ...)."""
        return parse_table(self.shoal_ok("ps"))

    def containers(self, service=None):
        """Running task containers from GET /containers/json (full JSON),
        optionally only those of one service (by name label)."""
        cs = self.api_json("GET", "/containers/json") or []
        if service is not None:
            cs = [c for c in cs if (c.get("Labels") or {}).get(
                "com.docker.swarm.service.name") == service]
        return cs

    def container(self, cid):
        return self.api_json("GET", f"/containers/{cid}/json")

    def container_pid(self, cid):
        pid = (self.container(cid).get("State") or {}).get("Pid")
        assert pid, f"container {cid} has no State.Pid"
        return int(pid)

    def service(self, name):
        return self.api_json("GET", f"/services/{name}")

    def tasks(self, service):
        """All tasks of a service (history included), by service name/ID."""
        sid = self.service(service)["ID"]
        flt = json.dumps({"service": {sid: True}})
        from urllib.parse import quote
        return self.api_json("GET", f"/tasks?filters={quote(flt)}") or []

    def running_tasks(self, service):
        return [t for t in self.tasks(service)
                if t["Status"]["State"] == "running"]

    def create_service(self, name, opts=(), cmd=(), image="simple_server",
                       detach=True, restart_delay="0s", client="shoal"):
        """`service create [-d] --name NAME [--restart-delay 0s] OPTS IMAGE
        CMD` with the shoal CLI (or client="docker"); returns the service
        ID it printed. restart_delay=None keeps the default (5 s)."""
        args = ["service", "create", "--name", name]
        if detach:
            args.append("--detach")
        if restart_delay is not None:
            args += ["--restart-delay", restart_delay]
        args += [*opts, image, *cmd]
        out = (self.docker_ok if client == "docker" else self.shoal_ok)(*args)
        m = SERVICE_ID_LINE.search(out)
        assert m, f"no service ID in the output of service create:\n{out}"
        return m.group(0)

    def task_containers(self, service):
        """Rows of `shoal ps` that are tasks of service (NAMES
        service.SLOT.TASKID)."""
        return [r for r in self.ps()
                if re.match(re.escape(service) + r"\.\d+\.[a-z0-9]+$",
                            r.get("NAMES", ""))]

    def service_logs(self, service, *extra):
        r = self.shoal("service", "logs", *extra, service, timeout=30)
        assert r.rc == 0, f"service logs failed:\n{r}"
        return r.out + r.err

    def wait_log(self, service, text, timeout=30):
        return wait_for(lambda: text in self.service_logs(service), timeout,
                        f"{text!r} in the logs of service {service}")

    # -- networking (the harness may look with iproute2 and nft; the daemon
    # itself only uses libnl and libnftables)

    def task_pid(self, service, slot):
        """State.Pid of the running container of a service's task in
        slot (the container's init, e.g. the httpd)."""
        for t in self.running_tasks(service):
            if t.get("Slot") == slot and (t["Status"].get(
                    "ContainerStatus") or {}).get("ContainerID"):
                return self.container_pid(
                    t["Status"]["ContainerStatus"]["ContainerID"])
        raise AssertionError(f"no running task in slot {slot} of {service}")

    def exec_in_task(self, pid, *cmd, timeout=30):
        """Runs cmd in every namespace of process pid (a task container's
        init), so with the container's own binaries and resolv.conf."""
        return self.exec("nsenter", "-t", str(pid), "-a", "--", *cmd,
                         timeout=timeout)

    def links(self):
        """Names of the network interfaces in the node's namespace."""
        r = self.exec("ip", "-o", "link", "show", timeout=15)
        assert r.rc == 0, f"ip link failed:\n{r}"
        names = []
        for ln in r.out.splitlines():
            parts = ln.split(": ", 2)
            if len(parts) >= 2:
                names.append(parts[1].split("@", 1)[0])
        return names

    def shoal_links(self, prefixes=("shb-", "shx-", "shv-")):
        """The node's interfaces made by shoald (bridges shb-, VXLAN
        devices shx-, task veths shv-), sorted."""
        return sorted(n for n in self.links() if n.startswith(prefixes))

    def nft_table(self, family="ip", name="shoal"):
        """`nft list table FAMILY NAME` in the node (text), or None if the
        node has no such table."""
        r = self.exec("nft", "list", "table", family, name, timeout=15)
        if r.rc != 0:
            assert re.search(r"No such file|does not exist", r.err), \
                f"nft failed:\n{r}"
            return None
        return r.out

    def nft_tables(self):
        """`nft list tables` in the node: lines like "table ip shoal"."""
        r = self.exec("nft", "list", "tables", timeout=15)
        assert r.rc == 0, f"nft failed:\n{r}"
        return [ln.strip() for ln in r.out.splitlines() if ln.strip()]

    def cgroup_dirs(self):
        """Existing cgroup parent dirs of this node, one per hierarchy."""
        out = []
        for root in cgroup_roots():
            d = os.path.join(root, self.cgroup_parent)
            if os.path.isdir(d):
                out.append(d)
        return out

    def cgroup_subdirs(self):
        """Every cgroup directory below this node's cgroup parents."""
        subs = []
        for d in self.cgroup_dirs():
            for dirpath, _, _ in os.walk(d):
                if dirpath != d:
                    subs.append(dirpath)
        return subs

    # -- teardown

    def node_pids(self):
        """Processes that belong to this node: in its namespaces, in its
        cgroups, or whose mounts mention its directory (containers have
        mount namespaces of their own, rooted in the node's data root)."""
        if self.holder is None:
            return set()
        mine = set()
        hp = self.holder.pid
        for d in self.cgroup_dirs():
            mine |= cgroup_procs(d)
        needle = self.dir_prefix
        for pid in all_pids():
            if pid == hp:
                continue
            ns = (readlink(f"/proc/{pid}/ns/mnt"),
                  readlink(f"/proc/{pid}/ns/net"),
                  readlink(f"/proc/{pid}/ns/uts"))
            if ns[0] is None:
                continue
            if (ns[0] == self.mnt_ns or ns[1] == self.net_ns
                    or ns[2] == self.uts_ns):
                mine.add(pid)
            elif ns[0] != readlink("/proc/self/ns/mnt") and \
                    needle in read_text(f"/proc/{pid}/mountinfo"):
                mine.add(pid)
        return mine - protected_pids()

    def kill_node_processes(self, rounds=20):
        for _ in range(rounds):
            pids = self.node_pids()
            if not pids:
                return True
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        return not self.node_pids()

    def cleanup(self, leave_swarm=True):
        """Best effort, never raises: leave the swarm, stop shoald, kill every
        process of the node, drop the namespaces, remove the cgroup parents
        and the node dir. Each step runs even if an earlier one failed;
        problems found are appended to self.problems."""
        if self.cleaned:
            return
        self.cleaned = True
        _LIVE_NODES.discard(self)
        for step in (self.check_daemon,
                     self._leave_swarm if leave_swarm else None,
                     self._stop_daemon_at_teardown,
                     self.check_log_for_sanitizer, self._kill_everything,
                     self._remove_cgroups, self._check_host_mounts,
                     self._keep_log, self._remove_dir):
            if step is None:
                continue
            try:
                step()
            except Exception as e:  # noqa: BLE001 - teardown must go on
                self.problems.append(f"{step.__name__}: {e}")

    def _leave_swarm(self):
        if self.daemon_alive():
            try:
                run([self.shoal_bin, "-H", f"unix://{self.sock}", "swarm",
                     "leave", "--force"], timeout=15)
            except (AssertionError, OSError):
                pass  # best effort: the namespaces go anyway

    def _stop_daemon_at_teardown(self):
        if self.daemon_alive():
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=scaled(10))
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
                raise AssertionError(f"shoald ignored SIGTERM for "
                                     f"{scaled(10)}s") from None

    def _kill_everything(self):
        try:
            if not self.kill_node_processes():
                raise AssertionError(f"processes survived SIGKILL: "
                                     f"{sorted(self.node_pids())}")
        finally:
            if self.holder is not None and self.holder.poll() is None:
                self.holder.kill()
                self.holder.wait()

    def _remove_cgroups(self):
        for d in self.cgroup_dirs():
            left = remove_cgroup_tree(d)
            if left:
                time.sleep(0.2)
                left = remove_cgroup_tree(d)
            if left:
                raise AssertionError(f"cgroups not removable: {left}")

    def _check_host_mounts(self):
        leaked = host_mounts_under(self.dir_prefix)
        if leaked:
            for ln in reversed(leaked):
                subprocess.run(["umount", "-l", ln.split()[4]],
                               capture_output=True)
            raise AssertionError("mounts leaked into the host's mount "
                                 "namespace:\n" + "\n".join(leaked))

    def _keep_log(self):
        keep = os.environ.get("SHOAL_TEST_LOGDIR")
        if keep and self.log_path.exists():
            os.makedirs(keep, exist_ok=True)
            shutil.copy(self.log_path,
                        os.path.join(keep, f"{self.hostname}.log"))

    def _remove_dir(self):
        if not host_mounts_under(self.dir_prefix):
            shutil.rmtree(self.dir, ignore_errors=True)


def cleanup_all_nodes():
    for n in list(_LIVE_NODES):
        n.cleanup()


atexit.register(cleanup_all_nodes)


def sweep_stale_nodes():
    """Kills holders (and their nodes' processes) left by an earlier session
    that died without cleaning up, and removes their dirs."""
    stale = {}
    for pid in all_pids():
        env = read_text(f"/proc/{pid}/environ")
        m = re.search(MARKER_ENV + r"=(\d+):([^:\0]+):([^\0]+)", env)
        if m and readlink(f"/proc/{pid}/ns/mnt") != readlink(
                "/proc/self/ns/mnt"):
            owner = int(m.group(1))
            if owner != os.getpid() and not os.path.exists(f"/proc/{owner}"):
                stale[pid] = (m.group(2), m.group(3))
    for pid, (hostname, d) in stale.items():
        ghost = Node.__new__(Node)
        ghost.dir = Path(d)
        ghost.hostname = hostname
        ghost.holder = _GhostProc(pid)
        ghost.mnt_ns = readlink(f"/proc/{pid}/ns/mnt")
        ghost.net_ns = readlink(f"/proc/{pid}/ns/net")
        ghost.uts_ns = readlink(f"/proc/{pid}/ns/uts")
        ghost.kill_node_processes()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(0.1)
        for cg in ghost.cgroup_dirs():
            remove_cgroup_tree(cg)
        print(f"harness: swept a stale test node {d} (holder {pid})",
              file=sys.stderr)
        if d.startswith(os.path.join(TMP_BASE, NODE_PREFIX)):
            shutil.rmtree(d, ignore_errors=True)


class _GhostProc:
    def __init__(self, pid):
        self.pid = pid

    def poll(self):
        return None if os.path.exists(f"/proc/{self.pid}") else 0


# ------------------------------------------------------------ test image


class ImageSet:
    """The test image, built once per session by scripts/build-test-image:
    archive (docker-save tar, named simple_server:latest) and rootfs (a plain
    rootfs tar for `image import`, or None if the script could not make
    one, with the reason in rootfs_error)."""

    def __init__(self, archive, rootfs, rootfs_error, name=TEST_IMAGE):
        self.archive = archive
        self.rootfs = rootfs
        self.rootfs_error = rootfs_error
        self.name = name


def build_test_image(outdir):
    script = Path(os.environ.get("SHOAL_TEST_IMAGE_BUILDER",
                                 REPO / "scripts" / "build-test-image"))
    if not os.access(script, os.X_OK):
        raise AssertionError(f"{script} is missing (it builds the test "
                             f"image every integration test needs)")
    archive = Path(outdir) / "simple_server.tar"
    r = run([script, archive, TEST_IMAGE], timeout=300)
    assert r.rc == 0 and archive.exists(), f"building the test image:\n{r}"
    rootfs = Path(outdir) / "rootfs.tar"
    rr = run([script, "--rootfs", rootfs], timeout=300)
    if rr.rc == 0 and rootfs.exists():
        return ImageSet(archive, rootfs, None)
    return ImageSet(archive, None, str(rr))


# ------------------------------------------------------- pytest plumbing
# Imported by tests/integration/conftest.py and tests/compat/conftest.py.


def _sigterm_to_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session", autouse=True)
def shoal_session():
    """Session guard: sweeps stale nodes first; afterwards asserts that the
    host shows nothing left over (mounts of node dirs, new interfaces)."""
    signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    if is_root():
        sweep_stale_nodes()
    ifaces = host_interfaces()
    yield
    cleanup_all_nodes()
    problems = []
    leaked = host_mounts_under(os.path.join(TMP_BASE, NODE_PREFIX))
    if leaked:
        problems.append("mounts of test nodes left in the host's mount "
                        "namespace:\n" + "\n".join(leaked))
    new = host_interfaces() - ifaces
    if new:
        problems.append(f"network interfaces leaked into the host: "
                        f"{sorted(new)}")
    assert not problems, "\n".join(problems)


def _make_node(request, before_daemon=None):
    """A started node (registered for teardown and log reports).
    before_daemon(node), if given, runs in the node's fresh namespaces
    before shoald starts (e.g. to bind-mount a resolv.conf)."""
    require_root()
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found (scripts/setup-deps installs it)")
    b = build_dir()
    for binary in ("shoald", "shoal"):
        assert (b / binary).exists(), f"{b / binary} not built (make)"
    n = Node(b)
    nodes = getattr(request.node, "_shoal_nodes", [])
    nodes.append(n)
    request.node._shoal_nodes = nodes
    try:
        if before_daemon is None:
            n.start()
        else:
            n.start(daemon=False)
            before_daemon(n)
            n.start_daemon()
    except BaseException:
        n.cleanup(leave_swarm=False)
        raise
    return n


def _finish_node(n):
    n.cleanup()
    assert not n.problems, (f"teardown of {n.hostname}:\n" +
                            "\n".join(n.problems))


@pytest.fixture
def node(request):
    """A fresh node: shoald running, not in a swarm."""
    n = _make_node(request)
    yield n
    _finish_node(n)


@pytest.fixture
def node_factory(request):
    """Makes extra nodes within one test: node_factory() -> Node."""
    made = []

    def make():
        made.append(_make_node(request))
        return made[-1]
    yield make
    errors = []
    for n in made:
        try:
            _finish_node(n)
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n".join(errors)


@pytest.fixture
def swarm_node(node):
    """A node after `shoal swarm init`."""
    node.swarm_init()
    return node


@pytest.fixture(scope="session")
def image_archive(tmp_path_factory):
    """The test image (ImageSet: .archive, .rootfs, .name), built once."""
    require_root()
    return build_test_image(tmp_path_factory.mktemp("image"))


@pytest.fixture
def loaded_node(swarm_node, image_archive):
    """A swarm node with the test image loaded as simple_server:latest."""
    swarm_node.load_image(image_archive.archive)
    return swarm_node


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attaches the tail of each node's shoald.log to a failed test."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call"):
        for n in getattr(item, "_shoal_nodes", []):
            if n.log_path.exists():
                rep.sections.append((f"shoald.log of {n.hostname}",
                                     n.log_tail(80)))
