# SPDX-License-Identifier: Apache-2.0
"""pytest setup of the cluster suite: the `cluster` factory fixture
(cluster(n) -> Cluster, torn down after the test whatever happened), a
session guard that sweeps what a killed session left and checks the host
for leftovers, and shoald logs attached to failed tests."""

import os
import shutil
import signal

import pytest

from cluster import (CLUSTER_PREFIX, Cluster, close_all_clusters, sn,
                     sweep_stale_clusters)
from shoalnode import image_archive  # noqa: F401 - fixture, by name


def _sigterm_to_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session", autouse=True)
def cluster_session():
    """Sweeps stale clusters first; at the end asserts that no mount of a
    cluster's dirs and no new network interface is left in the host."""
    signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    if sn.is_root():
        sweep_stale_clusters()
    ifaces = sn.host_interfaces()
    yield
    close_all_clusters()
    problems = []
    leaked = (sn.host_mounts_under(os.path.join(sn.TMP_BASE,
                                                CLUSTER_PREFIX)) +
              sn.host_mounts_under(os.path.join(sn.TMP_BASE,
                                                sn.NODE_PREFIX)))
    if leaked:
        problems.append("mounts left in the host's mount namespace:\n" +
                        "\n".join(leaked))
    new = sn.host_interfaces() - ifaces
    if new:
        problems.append(f"network interfaces leaked into the host: "
                        f"{sorted(new)}")
    assert not problems, "\n".join(problems)


@pytest.fixture
def cluster(request):
    """cluster(n, start=True) -> Cluster of n nodes with shoald running
    (start=False: namespaces and wiring only). Every cluster made is closed
    after the test, also when it failed; teardown problems fail it."""
    sn.require_root()
    for tool in ("unshare", "nsenter", "ip", "nft"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found (scripts/setup-deps installs it)")
    b = sn.build_dir()
    for binary in ("shoald", "shoal"):
        assert (b / binary).exists(), f"{b / binary} not built (make)"
    made = []

    def make(n, start=True):
        label = f"{request.node.name}-{len(made) + 1}" if made else \
            request.node.name
        c = Cluster(n, b, label=label, start=start)
        made.append(c)
        nodes = getattr(request.node, "_shoal_nodes", [])
        nodes.extend(c.nodes)
        request.node._shoal_nodes = nodes
        return c
    yield make
    problems = []
    for c in made:
        problems += c.close()
    assert not problems, "cluster teardown:\n" + "\n".join(problems)


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
