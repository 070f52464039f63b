# SPDX-License-Identifier: Apache-2.0
"""Host-mode publishing across nodes (issue 9 §7): --publish
mode=host,target=8000,published=8081 answers on the address of the node
that runs the task, and on no other node (no routing mesh), while an
ingress port of another service answers on both; volumes are node-local:
each node lists its own."""

import json
from urllib.parse import quote

from cluster import wait_until

SPEC = {"Dispatcher": {"HeartbeatPeriod": 1_000_000_000}}
SERVER = ["sh", "-c", "hostname > /www/index.html; trap 'exit 0' TERM; "
          "httpd -f -p 8000 -h /www & wait"]


def test_host_mode_only_on_the_tasks_node(cluster, image_archive):
    c = cluster(2)
    m, w = c
    for n in c:
        n.load_image(image_archive.archive)
    m.swarm_init(spec=SPEC)
    assert w.swarm_join(m).status == 200
    m.create_service("hm", cmd=SERVER, opts=[
        "--constraint", "node.hostname==node2",
        "--publish", "mode=host,target=8000,published=8081"])
    m.create_service("mesh", cmd=SERVER, opts=["--publish", "8082:8000"])

    def running(svc):
        return [t for t in m.running_tasks(svc)
                if t["DesiredState"] == "running"]
    wait_until(lambda: len(running("hm")) == 1 and len(running("mesh")) == 1,
               60, "both services running")
    t = running("hm")[0]
    assert t["NodeID"] == w.node_id(), t
    want = {"Protocol": "tcp", "TargetPort": 8000, "PublishedPort": 8081,
            "PublishMode": "host"}
    wait_until(lambda: running("hm")[0]["Status"]["PortStatus"] ==
               {"Ports": [want]}, 30, "PortStatus on the manager's view")

    for client in (m, w):
        # The routing mesh answers everywhere...
        wait_until(lambda: client.tcp_probe(m.addr, 8082).startswith("ok")
                   and client.tcp_probe(w.addr, 8082).startswith("ok"), 30,
                   f"port 8082 through the mesh from {client.name}")
        # ...the host-mode port on the task's node only.
        wait_until(lambda: client.tcp_probe(w.addr, 8081).startswith("ok"),
                   30, f"node2:8081 from {client.name}")
        assert client.tcp_probe(m.addr, 8081) == "refused"

    # Volumes are the node's own.
    m.api("POST", "/volumes/create", {"Name": "onm"})
    w.api("POST", "/volumes/create", {"Name": "onw"})
    f = quote(json.dumps({"name": ["on"]}))
    assert [v["Name"] for v in m.api("GET", f"/volumes?filters={f}")
            .data["Volumes"]] == ["onm"]
    assert [v["Name"] for v in w.api("GET", f"/volumes?filters={f}")
            .data["Volumes"]] == ["onw"]
