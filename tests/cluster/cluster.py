# SPDX-License-Identifier: Apache-2.0
"""The multi-node cluster-test harness: a Cluster is N shoald nodes, each in
its own network + mount + UTS namespace (a shoalnode.Node underneath, so
every single-node helper works), wired by veth pairs to a bridge that lives
in a "switch" network namespace the harness makes. Node i has eth0 with
10.99.0.<i>/24; per node the harness offers kill -9 / stop / start / restart
and cut / heal of its traffic (nftables drop rules on the switch's bridge).
Nothing here touches the host's own network.

    def test_x(cluster):                 # the fixture (conftest.py)
        c = cluster(3)                   # node1..node3 running shoald
        m, w1, w2 = c
        m.swarm_init()                   # listen 0.0.0.0:4377, advertise
        assert w1.swarm_join(m).status == 200
        st, nodes = m.api("GET", "/nodes")
        w1.cut(); w1.heal(); m.kill9(); m.start()
        wait_until(lambda: c.leader() is not None, 5, "a leader")
"""

import atexit
import json
import os
import re
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import shoalnode as sn  # noqa: E402 - after the path above
from shoalnode import (  # noqa: E402,F401 - re-exported for tests
    ApiResponse, CmdResult, DaemonDied, Node, WaitTimeout, api_request,
    check_no_sanitizer_report, hold_for, parse_table, run, scaled, wait_for)

PY = "/usr/bin/python3"
SUBNET = "10.99.0"  # node i is SUBNET.i/24
CLUSTER_PORT = 4377
BRIDGE = "br0"  # in the switch namespace
NODE_IFACE = "eth0"  # in each node's namespace
CLUSTER_PREFIX = "shoal-cl-"
# Marks the namespace holders of this harness: "<pytest pid>|<cluster
# dir>|<node dir or ->|<cgroup parent or ->", so a later session can sweep
# what a dead one left behind.
MARKER_ENV = "SHOAL_TEST_CLUSTER"

# Connects to HOST:PORT (timeout T) and prints one word: ok (then what the
# peer sent until EOF, if anything, after a space), refused, timeout or
# error:<errno name>.
PROBE = r"""
import errno, socket, sys
host, port, t = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(t)
try:
    s.connect((host, port))
    data = b""
    if len(sys.argv) > 4:
        s.sendall(sys.argv[4].encode())
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    print(("ok " + data.decode(errors="replace")).strip())
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error:" + errno.errorcode.get(e.errno, str(e.errno)))
"""

# Listens on ADDR:PORT; answers every connection with "<NAME> <what the
# client sent first>" and closes it. Prints "ready" once listening.
LISTENER = r"""
import socket, sys
addr, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        got = c.recv(4096).decode(errors="replace").strip()
        c.sendall(f"{name} {got}\n".encode())
    except OSError:
        pass
    c.close()
"""


def wait_until(cond, timeout=30, what="condition", interval=0.05):
    """Polls cond() until it returns something truthy (returned) or the
    deadline (timeout seconds, scaled for the sanitizer build) passes, which
    fails the test. An AssertionError from cond counts as "not yet"."""
    return wait_for(cond, timeout, what, interval)


def _await_line(proc, what, timeout=10):
    """Reads the first stdout line of proc within timeout; fails unless it
    is "ready"."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    ready = sel.select(scaled(timeout))
    sel.close()
    line = proc.stdout.readline() if ready else b""
    if isinstance(line, bytes):
        line = line.decode(errors="replace")
    if line.strip() != "ready":
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"{what} did not start: {line!r} {err!r}")


def _holder(args, env_marker, what, hostname=None):
    """Starts a namespace holder (unshare ... sleep infinity) and waits
    until its namespaces exist."""
    env = dict(os.environ)
    env[MARKER_ENV] = env_marker
    script = ('ip link set lo up && echo ready && exec sleep infinity')
    if hostname:
        script = 'hostname "$1" && ' + script
    p = subprocess.Popen(
        ["unshare", *args, "--", "/bin/sh", "-c", script, "holder",
         hostname or "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        text=True)
    _await_line(p, what)
    p.stdout.close()
    p.stderr.close()
    return p


def _ns_ids(pid, kinds=("net", "mnt", "uts")):
    return {k: sn.readlink(f"/proc/{pid}/ns/{k}") for k in kinds}


class ApiResult(tuple):
    """(status, json) of one API call; also .status, .data (the JSON, or
    None if the body is empty or not JSON), .headers, .body (bytes),
    .json() and .message like shoalnode's ApiResponse."""

    def __new__(cls, resp):
        data = None
        if resp.body:
            try:
                data = json.loads(resp.body)
            except ValueError:
                data = None
        self = super().__new__(cls, (resp.status, data))
        self.status, self.data = resp.status, data
        self.headers, self.body = resp.headers, resp.body
        return self

    def json(self):
        return json.loads(self.body)

    @property
    def message(self):
        return self.data.get("message") if isinstance(self.data,
                                                      dict) else None

    def __str__(self):
        return f"HTTP {self.status}: {self.body[:2000]!r}"


class Listener:
    """A TCP listener in a node's network namespace (see
    ClusterNode.listen); close() stops it."""

    def __init__(self, node, port, addr=None):
        self.node, self.port = node, port
        self.addr = addr or node.addr
        script = node.cluster.script("listener.py", LISTENER)
        self.proc = subprocess.Popen(
            node.nsenter() + [PY, str(script), self.addr, str(port),
                              node.name], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        _await_line(self.proc, f"listener on {node.name}:{port}")
        node.listeners.append(self)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ClusterNode(Node):
    """One node of a Cluster: a shoalnode.Node (shoal(), docker(),
    create_service(), tasks(), nft_table(), ... all work) with the
    cluster's names: .name (node1...), .addr (10.99.0.<i>), .index, and
    api() answering (status, json). start()/stop()/kill9()/restart() act
    on the daemon only; the namespaces live until the cluster closes."""

    def __init__(self, cluster, index):
        super().__init__(cluster.build, hostname=f"node{index}")
        self.cluster = cluster
        self.index = index
        self.name = self.hostname
        self.addr = f"{SUBNET}.{index}"
        self.switch_port = f"n{index}"  # its veth end on the bridge
        self._cgroup_parent = f"shoal-{cluster.tag}-{self.name}"
        self.listeners = []
        self.ns = {}

    def __repr__(self):
        return f"<ClusterNode {self.name} {self.addr} {self.dir}>"

    @property
    def cgroup_parent(self):
        return self._cgroup_parent

    @property
    def endpoint(self):
        """ADDR:4377, what other nodes use to reach this one."""
        return f"{self.addr}:{CLUSTER_PORT}"

    # -- namespaces and wiring

    def create(self):
        """Makes the node's namespaces and plugs it into the switch."""
        os.makedirs(self.data_root, exist_ok=True)
        self.holder = _holder(
            ["--net", "--mount", "--uts", "--propagation", "private"],
            f"{os.getpid()}|{self.cluster.dir}|{self.dir}|"
            f"{self.cgroup_parent}", f"namespaces of {self.name}",
            hostname=self.hostname)
        self.ns = _ns_ids(self.holder.pid)
        self.mnt_ns, self.net_ns = self.ns["mnt"], self.ns["net"]
        self.uts_ns = self.ns["uts"]
        assert self.mnt_ns != sn.readlink("/proc/self/ns/mnt")
        sw = self.cluster
        sw.switch_exec("ip", "link", "add", self.switch_port, "type", "veth",
                       "peer", "name", NODE_IFACE, "netns",
                       str(self.holder.pid), check=True)
        sw.switch_exec("ip", "link", "set", self.switch_port, "master",
                       BRIDGE, "up", check=True)
        self.exec("ip", "addr", "add", f"{self.addr}/24", "dev", NODE_IFACE,
                  check=True)
        self.exec("ip", "link", "set", NODE_IFACE, "up", check=True)
        return self

    def net_exec(self, *cmd, timeout=30, check=False):
        """Runs cmd in the node's network namespace only."""
        return run(["nsenter", "-t", str(self.holder.pid), "-n", "--"] +
                   list(cmd), timeout=timeout, check=check)

    # -- the daemon

    def daemon_cmd(self, sock=None, data_root=None, extra=()):
        return super().daemon_cmd(sock, data_root,
                                  ["--cgroup-parent", self.cgroup_parent,
                                   *extra])

    def start(self, wait=True, extra=()):
        """Starts shoald (waits until it answers /_ping unless wait=False)."""
        return self.start_daemon(wait=wait, extra=extra)

    def stop(self, timeout=20):
        """SIGTERM; fails the test if shoald needs more than timeout."""
        return self.stop_daemon(signal.SIGTERM, timeout)

    def kill9(self):
        """kill -9 shoald; its containers and shims stay, as after a
        crash."""
        return self.kill_daemon()

    def restart(self):
        self.stop()
        return self.start()

    @property
    def running(self):
        return self.daemon_alive()

    def logs(self):
        """Everything shoald wrote (all starts of this node)."""
        return self.log_text()

    # -- clients

    def api(self, method, path, body=None, headers=None, timeout=30):
        """One HTTP request on the node's socket: ApiResult, a (status,
        json) pair. OSError if shoald does not run; DaemonDied if it
        exited without the test stopping it."""
        return ApiResult(super().api(method, path, body, headers, timeout))

    def cli(self, *args, timeout=120, input=None, env=None):
        """Runs build/shoal ARGS with DOCKER_HOST=unix://<the node's
        socket>; returns CmdResult (rc, out, err)."""
        e = self._client_env(env)
        e.pop("SHOAL_HOST", None)
        e["DOCKER_HOST"] = f"unix://{self.sock}"
        r = run([self.shoal_bin, *args], timeout=timeout, input=input, env=e)
        check_no_sanitizer_report(r.err, f"stderr of {r.cmd}")
        self.check_daemon()
        return r

    def cli_ok(self, *args, **kw):
        """cli(...) that must exit 0; returns its stdout."""
        r = self.cli(*args, **kw)
        assert r.rc == 0, f"shoal on {self.name} failed:\n{r}\n" \
            f"{self.log_tail(30)}"
        return r.out

    def info(self):
        st, data = self.api("GET", "/info")
        assert st == 200, f"GET /info on {self.name}: {st} {data}"
        return data

    def swarm_state(self):
        """Swarm.LocalNodeState of GET /info ("inactive", "active", ...)."""
        return (self.info().get("Swarm") or {}).get("LocalNodeState")

    def node_id(self):
        return (self.info().get("Swarm") or {}).get("NodeID") or None

    def swarm_init(self, spec=None, **extra):
        """POST /swarm/init listening on 0.0.0.0:4377 and advertising the
        node's address; returns the node ID."""
        body = {"ListenAddr": f"0.0.0.0:{CLUSTER_PORT}",
                "AdvertiseAddr": self.addr, **extra}
        if spec is not None:
            body["Spec"] = spec
        r = self.api("POST", "/swarm/init", body, timeout=60)
        assert r.status == 200, f"swarm init on {self.name}: {r}\n" \
            f"{self.log_tail(30)}"
        return r.data

    def join_tokens(self):
        r = self.api("GET", "/swarm")
        assert r.status == 200, f"GET /swarm on {self.name}: {r}"
        return r.data["JoinTokens"]

    def swarm_join(self, manager, role="worker", token=None, **extra):
        """POST /swarm/join to manager (a ClusterNode) with its worker or
        manager token (or the token given); returns the ApiResult, so tests
        of refused joins can look at it."""
        if token is None:
            token = manager.join_tokens()[role.capitalize()]
        body = {"ListenAddr": f"0.0.0.0:{CLUSTER_PORT}",
                "AdvertiseAddr": self.addr,
                "RemoteAddrs": [manager.endpoint], "JoinToken": token,
                **extra}
        return self.api("POST", "/swarm/join", body, timeout=60)

    def nodes(self):
        """GET /nodes (a manager's view of the swarm)."""
        r = self.api("GET", "/nodes")
        assert r.status == 200, f"GET /nodes on {self.name}: {r}"
        return r.data

    # -- network

    def tcp_probe(self, addr, port, timeout=1.0, send=None):
        """From the node's network namespace, connects to addr:port:
        "ok" (or "ok <reply>" if send is given), "refused", "timeout" or
        "error:<ERRNO>"."""
        script = self.cluster.script("probe.py", PROBE)
        args = [PY, str(script), addr, str(port), str(timeout)]
        if send is not None:
            args.append(send)
        r = self.net_exec(*args, timeout=timeout + 30)
        assert r.rc == 0, f"probe failed:\n{r}"
        return r.out.strip()

    def reaches(self, other, port=9, timeout=1.0):
        """True if a TCP connect from this node to other (a node or an
        address) gets any answer (accepted or refused) within timeout."""
        addr = other.addr if isinstance(other, ClusterNode) else other
        return self.tcp_probe(addr, port, timeout).split()[0] in (
            "ok", "refused")

    def listen(self, port, addr=None):
        """A TCP listener on addr (default the node's address):port in the
        node's network namespace that answers "<node name> <what it got>".
        Closed at teardown at the latest."""
        return Listener(self, port, addr)

    def cut(self, *peers):
        """Drops all of the node's traffic on the switch (or only that
        to and from the given peers). The node's link stays up: it cannot
        tell, as in a real partition."""
        self.cluster._cut(self, peers)

    def heal(self, *peers):
        """Undoes cut() (all of this node's cuts, or those with peers)."""
        self.cluster._heal(self, peers)

    def link_down(self):
        """Unplugs the cable instead: the switch-side veth goes down (the
        node sees NO-CARRIER on eth0). link_up() plugs it back."""
        self.cluster.switch_exec("ip", "link", "set", self.switch_port,
                                 "down", check=True)

    def link_up(self):
        self.cluster.switch_exec("ip", "link", "set", self.switch_port, "up",
                                 check=True)

    # -- teardown

    def cleanup(self, leave_swarm=False):
        for lst in self.listeners:
            try:
                lst.close()
            except Exception:  # noqa: BLE001 - teardown goes on
                pass
        self.listeners = []
        super().cleanup(leave_swarm=leave_swarm)

    def _keep_log(self):
        keep = os.environ.get("SHOAL_TEST_LOGDIR")
        if keep and self.log_path.exists():
            os.makedirs(keep, exist_ok=True)
            shutil.copy(self.log_path, os.path.join(
                keep, f"{self.cluster.label}-{self.name}.log"))


_LIVE_CLUSTERS = set()


class Cluster:
    """N nodes (node1..nodeN, 10.99.0.1..N) on one switch. Index it
    (cluster[0] is node1), iterate it, or look a node up by name with
    cluster.node("node2"). close() tears everything down (idempotent; the
    fixture calls it) and returns the problems it found."""

    def __init__(self, n, build=None, label="cluster", start=True):
        assert 1 <= n <= 200, n
        self.build = Path(build or sn.build_dir())
        self.label = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)[:80]
        self.tag = secrets.token_hex(3)
        self.dir = Path(tempfile.mkdtemp(prefix=CLUSTER_PREFIX,
                                         dir=sn.TMP_BASE))
        os.chmod(self.dir, 0o755)
        self.switch = None
        self.switch_ns = None
        self.nodes = []
        self.closed = False
        self.problems = []
        self._isolated = set()  # names of nodes cut off from everyone
        self._blocked = set()  # frozensets {name, name} cut from each other
        _LIVE_CLUSTERS.add(self)
        try:
            self._make_switch()
            for i in range(1, n + 1):
                node = ClusterNode(self, i)
                self.nodes.append(node)
                node.create()
            if start:
                self.start_all()
        except BaseException:
            self.close()
            raise

    def __repr__(self):
        return f"<Cluster {self.tag} {[n.name for n in self.nodes]}>"

    def __len__(self):
        return len(self.nodes)

    def __iter__(self):
        return iter(self.nodes)

    def __getitem__(self, i):
        return self.nodes[i]

    def node(self, name):
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def script(self, name, text):
        """Writes a helper script into the cluster dir once; its path."""
        p = self.dir / name
        if not p.exists():
            tmp = p.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.rename(p)
        return p

    # -- the switch

    def _make_switch(self):
        self.switch = _holder(["--net"], f"{os.getpid()}|{self.dir}|-|-",
                              "the switch namespace")
        self.switch_ns = sn.readlink(f"/proc/{self.switch.pid}/ns/net")
        assert self.switch_ns != sn.readlink("/proc/self/ns/net")
        self.switch_exec("ip", "link", "add", BRIDGE, "type", "bridge",
                         "stp_state", "0", "forward_delay", "0", check=True)
        self.switch_exec("ip", "link", "set", BRIDGE, "up", check=True)

    def switch_exec(self, *cmd, timeout=30, check=False, input=None):
        """Runs cmd in the switch's network namespace."""
        return run(["nsenter", "-t", str(self.switch.pid), "-n", "--"] +
                   list(cmd), timeout=timeout, check=check, input=input)

    def _apply_cuts(self):
        rules = []
        for name in sorted(self._isolated):
            port = self.node(name).switch_port
            rules += [f'iifname "{port}" drop', f'oifname "{port}" drop']
        for pair in sorted(sorted(p) for p in self._blocked):
            a, b = (self.node(x).switch_port for x in pair)
            rules += [f'iifname "{a}" oifname "{b}" drop',
                      f'iifname "{b}" oifname "{a}" drop']
        body = "".join(f"\t\t{r}\n" for r in rules)
        # One transaction: the old table goes and the new one comes at once.
        text = ("table bridge cut {}\ndelete table bridge cut\n"
                "table bridge cut {\n\tchain forward {\n\t\ttype filter hook "
                "forward priority 0; policy accept;\n" + body + "\t}\n}\n")
        self.switch_exec("nft", "-f", "-", input=text, check=True)

    def _cut(self, node, peers):
        if peers:
            for p in peers:
                assert p is not node, "a node cannot be cut from itself"
                self._blocked.add(frozenset((node.name, p.name)))
        else:
            self._isolated.add(node.name)
        self._apply_cuts()

    def _heal(self, node, peers):
        if peers:
            for p in peers:
                self._blocked.discard(frozenset((node.name, p.name)))
        else:
            self._isolated.discard(node.name)
            self._blocked = {b for b in self._blocked if node.name not in b}
        self._apply_cuts()

    def partition(self, *groups):
        """Cuts every pair of nodes in different groups (lists of nodes);
        nodes in no group keep talking to everyone."""
        for i, g in enumerate(groups):
            for h in groups[i + 1:]:
                for a in g:
                    for b in h:
                        self._blocked.add(frozenset((a.name, b.name)))
        self._apply_cuts()

    def heal_all(self):
        self._isolated.clear()
        self._blocked.clear()
        self._apply_cuts()

    # -- daemons

    def start_all(self, timeout=30):
        """Starts every stopped shoald at once, then waits for all."""
        started = [n for n in self.nodes if not n.daemon_alive()]
        for n in started:
            n.start(wait=False)
        for n in started:
            n.wait_ready(timeout)

    def running(self):
        return [n for n in self.nodes if n.daemon_alive()]

    def leader(self, via=None):
        """The node that GET /nodes of a live manager (via, or the first
        that answers) marks as leader, or None."""
        for n in ([via] if via else self.running()):
            try:
                st, data = n.api("GET", "/nodes", timeout=5)
            except OSError:
                continue
            if st != 200:
                continue
            for d in data:
                if (d.get("ManagerStatus") or {}).get("Leader"):
                    addr = (d.get("Status") or {}).get("Addr") or \
                        (d["ManagerStatus"].get("Addr") or "").split(":")[0]
                    for m in self.nodes:
                        if m.addr == addr:
                            return m
        return None

    # -- teardown

    def close(self):
        """Stops every shoald (SIGTERM, all at once), kills every process of
        every node (containers and shims included), removes the cgroup
        parents, the namespaces and the temp dirs. Never raises; returns
        (and keeps in .problems) what went wrong."""
        if self.closed:
            return self.problems
        self.closed = True
        _LIVE_CLUSTERS.discard(self)
        for n in self.nodes:
            try:
                n.check_daemon()
            except Exception as e:  # noqa: BLE001
                self.problems.append(f"{n.name}: {e}")
        for n in self.nodes:
            if n.daemon_alive():
                n.daemon_expected_down = True
                try:
                    n.daemon.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for n in self.nodes:
            n.cleanup(leave_swarm=False)
            self.problems += [f"{n.name}: {p}" for p in n.problems]
        if self.switch is not None and self.switch.poll() is None:
            self.switch.kill()
            self.switch.wait()
        try:
            left = [p for p in sn.all_pids()
                    if self.switch_ns and
                    sn.readlink(f"/proc/{p}/ns/net") == self.switch_ns]
            for p in left:
                os.kill(p, signal.SIGKILL)
            if left:
                self.problems.append(f"processes left in the switch "
                                     f"namespace: {left}")
        except Exception as e:  # noqa: BLE001
            self.problems.append(f"switch: {e}")
        leaked = sn.host_mounts_under(str(self.dir) + "/")
        if leaked:
            self.problems.append("mounts of the cluster dir in the host:\n" +
                                 "\n".join(leaked))
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return self.problems

    def namespaces(self):
        """Every namespace id the cluster made ("net:[4026...]")."""
        ids = {self.switch_ns} if self.switch_ns else set()
        for n in self.nodes:
            ids |= set(v for v in n.ns.values() if v)
        return ids


def close_all_clusters():
    for c in list(_LIVE_CLUSTERS):
        c.close()


atexit.register(close_all_clusters)


# ------------------------------------------------ leftovers and sweeping


def namespace_users(ids):
    """Pids that hold any of the namespace ids (as their namespace or an
    open fd), and nsfs mounts of them in our mount namespace."""
    users = set()
    for pid in sn.all_pids():
        for kind in ("net", "mnt", "uts"):
            if sn.readlink(f"/proc/{pid}/ns/{kind}") in ids:
                users.add(pid)
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            if sn.readlink(f"/proc/{pid}/fd/{fd}") in ids:
                users.add(pid)
    mounts = [ln for ln in sn.read_text("/proc/self/mountinfo").splitlines()
              if any(i in ln for i in ids)]
    return users, mounts


def sweep_stale_clusters():
    """Kills what a dead earlier session's clusters left (holders, their
    nodes' processes, cgroup parents, dirs)."""
    stale = []
    for pid in sn.all_pids():
        m = re.search(MARKER_ENV + r"=(\d+)\|([^|\0]+)\|([^|\0]+)\|([^\0]+)",
                      sn.read_text(f"/proc/{pid}/environ"))
        if not m:
            continue
        owner = int(m.group(1))
        if owner == os.getpid() or os.path.exists(f"/proc/{owner}"):
            continue
        stale.append((pid, m.group(2), m.group(3), m.group(4)))
    for pid, cdir, ndir, cgroup in stale:
        if ndir != "-":
            ghost = ClusterNode.__new__(ClusterNode)
            ghost.dir, ghost.hostname = Path(ndir), "stale"
            ghost._cgroup_parent = cgroup
            ghost.holder = sn._GhostProc(pid)
            ns = _ns_ids(pid)
            ghost.mnt_ns, ghost.net_ns, ghost.uts_ns = (ns["mnt"], ns["net"],
                                                        ns["uts"])
            ghost.kill_node_processes()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        print(f"cluster harness: swept stale {cdir} {ndir} (holder {pid})",
              file=sys.stderr)
    if stale:
        time.sleep(0.2)
    for pid, cdir, ndir, cgroup in stale:
        if cgroup != "-":
            for root in sn.cgroup_roots():
                d = os.path.join(root, cgroup)
                if os.path.isdir(d):
                    sn.remove_cgroup_tree(d)
        for d in (cdir, ndir):
            if d != "-" and d.startswith(sn.TMP_BASE + "/shoal-") and \
                    not sn.host_mounts_under(d + "/"):
                shutil.rmtree(d, ignore_errors=True)
