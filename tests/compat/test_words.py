# SPDX-License-Identifier: Apache-2.0
"""The seed's second half, typed with the unmodified docker CLI against
shoald: `docker build` of the words application's two images from the
base images (scripts/base-images), `docker stack deploy` of
examples/words/swarm_application.yml, and the words round trip through
the published port with basic auth; the database killed and restarted on
its volume; a redeploy with a changed replica count updating in place;
`docker stack rm`, then an immediate redeploy. The shoal CLI's stack
commands look at the same stack."""

import re
import subprocess
from pathlib import Path

import pytest
from shoalnode import parse_table, run, wait_for

REPO = Path(__file__).resolve().parents[2]
WORDS = REPO / "examples" / "words"
STACK = "swarm_test"
BASES = ["python:3", "nginx:latest", "redis:latest"]


def base_images(node):
    """The base images into this node (debootstrap once per machine,
    cached under /var/cache/shoal/base-images)."""
    r = run([str(REPO / "scripts" / "base-images"), "--socket",
             str(node.sock), *BASES], timeout=1800)
    if r.rc != 0 and "no network" in (r.out + r.err):
        pytest.skip(f"base images need a Debian mirror: {r.err[-300:]}")
    assert r.rc == 0, f"scripts/base-images failed:\n{r}"


def curl(node, *args):
    """curl inside the node's namespaces; returns (http code, body)."""
    r = node.exec("curl", "-s", "-o", "/dev/stdout", "-w", "\n%{http_code}",
                  "--max-time", "5", *args, timeout=30)
    body, _, code = r.out.rpartition("\n")
    return (int(code) if code.strip().isdigit() else 0), body


def page(node):
    return curl(node, "-u", "user:test", "http://127.0.0.1:8080/")


def served_by(body):
    m = re.search(r"served by ([0-9a-z_.-]+)", body)
    return m.group(1) if m else None


def services(node):
    return {r["NAME"]: r for r in
            parse_table(node.shoal_ok("stack", "services", STACK))}


def converged(node, want):
    s = services(node)
    return all(s.get(f"{STACK}_{k}", {}).get("REPLICAS") == v
               for k, v in want.items())


def deploy(node, compose):
    out = node.docker_ok("stack", "deploy", "--compose-file", str(compose),
                         STACK, timeout=180)
    return out


def test_words_application(loaded_node, tmp_path):
    node = loaded_node
    base_images(node)
    for name in ("web-server", "application-server"):
        out = node.docker_ok("build", "-t", f"words-{name}",
                             str(WORDS / name), timeout=900)
        assert "Successfully built" in out or "writing image" in out, out

    out = deploy(node, WORDS / "swarm_application.yml")
    assert f"Creating network {STACK}_service_network" in out, out
    assert f"Creating service {STACK}_web-server" in out, out
    want = {"web-server": "3/3", "application-server": "3/3",
            "local-database": "1/1"}
    wait_for(lambda: converged(node, want), 180, "the stack to converge")
    stacks = parse_table(node.docker_ok("stack", "ls"))
    assert [(r["NAME"], r["SERVICES"]) for r in stacks] == [(STACK, "3")]
    ps = parse_table(node.shoal_ok("stack", "ps", STACK))
    assert sum(r["CURRENT STATE"].startswith("Running") for r in ps) == 7, ps
    vols = node.docker_ok("volume", "ls", "-q").split()
    assert f"{STACK}_database_volume" in vols, vols

    # Basic auth: 401 without it, the words page with it.
    wait_for(lambda: page(node)[0] == 200, 60, "the words page to answer")
    assert curl(node, "http://127.0.0.1:8080/")[0] == 401
    code, body = curl(node, "-u", "user:test", "-d", "word=hello",
                      "http://127.0.0.1:8080/new")
    assert code == 303, (code, body)

    # Every application replica reads the database: all list "hello".
    seen = {}

    def all_replicas_list_it():
        code, body = page(node)
        if code == 200 and served_by(body):
            seen[served_by(body)] = "hello" in body
        return len(seen) == 3 and all(seen.values())
    wait_for(all_replicas_list_it, 60, "3 replicas each listing hello")

    # The database task killed: restarted on the same volume, word kept.
    db = [t for t in node.running_tasks(f"{STACK}_local-database")]
    assert len(db) == 1, db
    pid = node.api_json(
        "GET", f"/containers/{db[0]['Status']['ContainerStatus']['ContainerID']}"
        "/json")["State"]["Pid"]
    subprocess.run(["kill", "-9", str(pid)], check=True)
    wait_for(lambda: [t["ID"] for t in
                      node.running_tasks(f"{STACK}_local-database")]
             not in ([], [db[0]["ID"]]), 60, "a new database task")
    wait_for(lambda: page(node)[0] == 200 and "hello" in page(node)[1], 60,
             "the word listed again after the database restart")

    # Redeploy with 2 application replicas: updated in place.
    before = node.service(f"{STACK}_application-server")
    text = (WORDS / "swarm_application.yml").read_text()
    changed = tmp_path / "swarm_application.yml"
    changed.write_text(re.sub(r"(application-server:\n(?:.*\n)*?\s+replicas: )3",
                              r"\g<1>2", text, count=1))
    out = deploy(node, changed)
    assert f"Updating service {STACK}_application-server" in out, out
    want["application-server"] = "2/2"
    wait_for(lambda: converged(node, want), 120, "2 application replicas")
    after = node.service(f"{STACK}_application-server")
    assert after["ID"] == before["ID"]
    assert after["Version"]["Index"] > before["Version"]["Index"]

    # stack rm leaves nothing; an immediate redeploy works.
    node.docker_ok("stack", "rm", STACK, timeout=120)
    assert not [s for s in node.api_json("GET", "/services")
                if s["Spec"]["Labels"].get("com.docker.stack.namespace")
                == STACK]
    deploy(node, WORDS / "swarm_application.yml")
    wait_for(lambda: converged(node, {"web-server": "3/3",
                                      "application-server": "3/3",
                                      "local-database": "1/1"}),
             180, "the redeployed stack to converge")
    wait_for(lambda: page(node)[0] == 200 and "hello" in page(node)[1], 60,
             "the word kept on the volume across stack rm and deploy")
    node.docker_ok("stack", "rm", STACK, timeout=120)
