# SPDX-License-Identifier: Apache-2.0
"""The seed's words application on five nodes, typed with the unmodified
docker CLI: a registry every node can pull from (Debian's docker-registry,
in node1's namespaces, on the switch), `docker build` of the two images on
node1 from the base images, `docker push` of them and of redis, then
`docker stack deploy --with-registry-auth` of examples/words with the
images named after the registry: every node pulls what its tasks need,
the replicas spread over the nodes, and the words page answers on every
node's address through the routing mesh (a word added through one node is
listed through another)."""

import collections
import re
from pathlib import Path

from cluster import wait_until
from registryfix import Registry
from shoalnode import parse_table, run

REPO = Path(__file__).resolve().parents[2]
WORDS = REPO / "examples" / "words"
STACK = "swarm_test"
SPEC = {"Dispatcher": {"HeartbeatPeriod": 1_000_000_000}}


def curl(node, *args):
    r = node.net_exec("curl", "-s", "-o", "/dev/stdout", "-w",
                      "\n%{http_code}", "--max-time", "5", *args, timeout=30)
    body, _, code = r.out.rpartition("\n")
    return (int(code) if code.strip().isdigit() else 0), body


def test_words_on_five_nodes(cluster, tmp_path):
    c = cluster(5, start=False)
    reg_host = f"{c[0].addr}:5000"
    for n in c:
        n.start(extra=["--insecure-registry", reg_host])
    m = c[0]
    m.swarm_init(spec=SPEC)
    for n in c[1:3]:
        assert n.swarm_join(m, role="manager").status == 200
    for n in c[3:]:
        assert n.swarm_join(m).status == 200
    reg = Registry(m, port=5000, addr="0.0.0.0").start()
    try:
        r = run([str(REPO / "scripts" / "base-images"), "--socket",
                 str(m.sock), "python:3", "nginx:latest", "redis:latest"],
                timeout=1800)
        assert r.rc == 0, f"scripts/base-images failed:\n{r}"
        images = {"words-web-server": WORDS / "web-server",
                  "words-application-server": WORDS / "application-server"}
        for name, ctx in images.items():
            m.docker_ok("build", "-t", f"{reg_host}/{name}", str(ctx),
                        timeout=900)
            m.docker_ok("push", f"{reg_host}/{name}", timeout=600)
        m.docker_ok("tag", "redis:latest", f"{reg_host}/redis:latest")
        m.docker_ok("push", f"{reg_host}/redis:latest", timeout=600)

        text = (WORDS / "swarm_application.yml").read_text()
        text = re.sub(r"image: (words-[a-z-]+|redis:latest)",
                      lambda mt: f"image: {reg_host}/{mt.group(1)}", text)
        compose = tmp_path / "swarm_application.yml"
        compose.write_text(text)
        out = m.docker_ok("stack", "deploy", "--with-registry-auth",
                          "--compose-file", str(compose), STACK, timeout=180)
        assert f"Creating service {STACK}_web-server" in out, out

        want = {f"{STACK}_web-server": "3/3",
                f"{STACK}_application-server": "3/3",
                f"{STACK}_local-database": "1/1"}

        def converged():
            rows = parse_table(m.docker_ok("stack", "services", STACK))
            return {r["NAME"]: r["REPLICAS"] for r in rows} == want
        wait_until(converged, 600, "the stack converged on five nodes")

        by_node = collections.Counter()
        for svc in want:
            for t in m.running_tasks(svc):
                by_node[t["NodeID"]] += 1
        assert len(by_node) >= 4, by_node  # 7 tasks spread over the nodes

        for n in c:
            wait_until(lambda n=n: curl(n, "-u", "user:test",
                                        f"http://{n.addr}:8080/")[0] == 200,
                       60, f"the words page on {n.name}")
        assert curl(c[4], f"http://{c[4].addr}:8080/")[0] == 401
        code, _ = curl(c[1], "-u", "user:test", "-d", "word=shoal",
                       f"http://{c[1].addr}:8080/new")
        assert code == 303
        code, body = curl(c[4], "-u", "user:test", f"http://{c[4].addr}:8080/")
        assert code == 200 and "shoal" in body, body
        m.docker_ok("stack", "rm", STACK, timeout=120)
    finally:
        reg.stop()
