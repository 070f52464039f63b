# SPDX-License-Identifier: Apache-2.0
"""Two nodes and a real registry (docker-registry in node1's namespace, on
its cluster address): a service pinned to the registry's digest runs on
node2, which never had the image and pulls it itself; an image the
registry lacks rejects node2's task with the registry's error."""

from cluster import wait_until
from registryfix import Registry

SERVER = ["httpd", "-f", "-p", "8000", "-h", "/www"]


def test_worker_pulls_image_for_its_task(cluster, image_archive):
    c = cluster(2)
    m, w = c
    reg = Registry(m, port=5000, addr="0.0.0.0")
    try:
        reg.start()
        host = f"{m.addr}:5000"
        # Plain http to the registry on the cluster network.
        for n in c:
            n.stop()
            n.start(extra=["--insecure-registry", host])
        m.load_image(image_archive.archive)
        name = f"{host}/cl/simple:1"
        m.cli_ok("image", "tag", "simple_server:latest", name)
        out = m.cli_ok("image", "push", name)
        digest = out.split("digest: ")[1].split()[0]
        st, imgs = w.api("GET", "/images/json")
        assert st == 200 and imgs == [], imgs

        m.swarm_init()
        assert w.swarm_join(m).status == 200
        m.create_service("pulled", image=name, cmd=SERVER,
                         opts=["--constraint", "node.hostname==node2"])
        st, svc = m.api("GET", "/services/pulled")
        assert svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == \
            f"{name}@{digest}"
        wait_until(lambda: [t for t in m.running_tasks("pulled")
                            if t["NodeID"] == w.node_id()], 90,
                   "node2's task running on the image it pulled")
        st, inspect = w.api("GET", f"/images/{name}/json")
        assert st == 200
        assert f"{host}/cl/simple@{digest}" in inspect["RepoDigests"]
        assert "pulling image" in w.logs()

        m.create_service("missing", image=f"{host}/cl/missing:1",
                         cmd=["true"],
                         opts=["--constraint", "node.hostname==node2"])

        def rejected():
            return [t for t in m.tasks("missing")
                    if t["Status"]["State"] == "rejected" and
                    "manifest unknown" in t["Status"].get("Err", "")]
        wait_until(rejected, 90, "node2's task rejected with the "
                   "registry's error")
    finally:
        reg.stop()
