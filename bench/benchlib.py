# SPDX-License-Identifier: Apache-2.0
"""Shared parts of shoal's benchmark scripts: loads bench/run (issue 2's
harness: namespace holders, shoald / dockerd nodes, teardown) as a module
without changing it, and adds what the networking benchmarks (bench/net)
need: wrk and dnsperf output parsers, percentiles, CPU counters."""

import importlib.machinery
import importlib.util
import math
import os
import re
import statistics
import subprocess
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def _load_bench_run():
    loader = importlib.machinery.SourceFileLoader(
        "shoal_bench_run", str(BENCH / "run"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


run_mod = _load_bench_run()

# What bench/net reuses from bench/run, under the same names.
REPO = run_mod.REPO
DOCKER = run_mod.DOCKER
BenchError = run_mod.BenchError
Node = run_mod.Node
ShoalNode = run_mod.ShoalNode
SwarmNode = run_mod.SwarmNode
SWARM_ADDR = run_mod.SWARM_ADDR
filters = run_mod.filters
read_text = run_mod.read_text
run = run_mod.run
wait_until = run_mod.wait_until
machine_info = run_mod.machine_info
ensure_docker_io = run_mod.ensure_docker_io
build = run_mod.build
med = run_mod.med


def log(msg):
    run_mod.log(msg)


# ------------------------------------------------------------ numbers


def percentile(sorted_xs, p):
    """Nearest-rank percentile of an ascending list (as bench/dnsperf-run
    computes it)."""
    if not sorted_xs:
        return None
    k = math.ceil(len(sorted_xs) * p / 100)
    return sorted_xs[min(max(k, 1), len(sorted_xs)) - 1]


def spread(xs):
    """(median, min, max) or None."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return statistics.median(xs), min(xs), max(xs)


def cpu_times():
    """(busy, total, steal) clock ticks of all CPUs from /proc/stat; steal
    is time the hypervisor gave to other guests."""
    f = read_text("/proc/stat").splitlines()[0].split()[1:]
    v = [int(x) for x in f] + [0] * 8
    idle = v[3] + v[4]  # idle + iowait
    total = sum(v[:8])  # guest time is already in user
    return total - idle - v[7], total, v[7]


def wait_quiet(max_busy_pct=30.0, sample=0.5, timeout=20.0):
    """Waits until the machine's CPUs were less than max_busy_pct busy over
    one sample period (e.g. the kernel's cleanup of a task's network
    namespace with tens of thousands of TIME_WAIT sockets takes seconds of
    CPU after a scale-down). Returns (seconds waited, last busy %)."""
    t0 = time.monotonic()
    pct = None
    while True:
        b0, n0, _ = cpu_times()
        time.sleep(sample)
        b1, n1, _ = cpu_times()
        pct = 100.0 * (b1 - b0) / (n1 - n0) if n1 > n0 else 0.0
        if pct < max_busy_pct or time.monotonic() - t0 >= timeout:
            return time.monotonic() - t0, pct


def proc_cpu_ticks(pid):
    """User + system clock ticks of a process (all its threads)."""
    s = read_text(f"/proc/{pid}/stat")
    if not s:
        return None
    f = s.rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


CLK_TCK = os.sysconf("SC_CLK_TCK")


def tool_version(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL, errors="replace")
    except OSError:
        return "?"
    out = (p.stdout + p.stderr).strip().splitlines()
    return out[0].strip() if out else "?"


# ------------------------------------------------------------ wrk

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _dur(s):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", s)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def parse_wrk(out):
    """wrk --latency output -> dict: rps, requests, latency percentiles
    (seconds), socket errors, non-2xx."""
    r = {"rps": None, "requests": None, "lat": {}, "errors": {},
         "non2xx": 0}
    m = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"^\s*(\d+) requests in ([\d.]+\w+)", out, re.M)
    if m:
        r["requests"] = int(m.group(1))
    for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M):
        r["lat"][p] = _dur(v)
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        r["errors"] = dict(zip(("connect", "read", "write", "timeout"),
                               map(int, m.groups())))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    return r


# ------------------------------------------------------------ dnsperf


def parse_dnsperf(out):
    """dnsperf 2.10 summary -> dict (qps, sent, completed, lost, avg
    latency in seconds, response codes) plus the per-query latencies of
    -v output ("> NOERROR name type latency"), sorted."""
    r = {}
    for key, pat in (("sent", r"Queries sent:\s+(\d+)"),
                     ("completed", r"Queries completed:\s+(\d+)"),
                     ("lost", r"Queries lost:\s+(\d+)"),
                     ("qps", r"Queries per second:\s+([\d.]+)"),
                     ("avg", r"Average Latency \(s\):\s+([\d.]+)")):
        m = re.search(pat, out)
        r[key] = float(m.group(1)) if m else None
    m = re.search(r"Response codes:\s+(.*)", out)
    r["rcodes"] = m.group(1).strip() if m else ""
    lat = []
    for line in out.splitlines():
        if line.startswith("> "):
            try:
                lat.append(float(line.split()[-1]))
            except ValueError:
                pass
    lat.sort()
    r["latencies"] = lat
    return r
