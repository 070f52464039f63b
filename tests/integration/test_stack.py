# SPDX-License-Identifier: Apache-2.0
"""Stacks with the shoal CLI (issue 11): `stack deploy` of a compose file
with two services on an overlay network, a published port and a named
volume; `stack ls / services / ps`; a service reaching the other by its
short name; a redeploy that updates in place (same service ID, version
bumped, untouched services keep their tasks); --prune; `stack rm` leaving
nothing behind and a redeploy right after it; bad compose files refused
with file, line and key before anything is created."""

import json
import re
from urllib.parse import quote

from shoalnode import parse_table, scaled, wait_for

STACK = """\
version: "3.8"
x-small: &small
  image: simple_server
  stop_grace_period: 1s
services:
  web:
    <<: *small
    command: ["sh", "-c", "echo hello-from-web > /www/index.html;
              trap 'exit 0' TERM; httpd -f -p 8000 -h /www & wait"]
    ports:
      - "8000:8000"
    networks: [back]
    deploy:
      replicas: ${WEB_REPLICAS:-2}
      restart_policy:
        condition: on-failure
  client:
    <<: *small
    command: ["sh", "-c", "echo $$MARK > /data/marker;
              trap 'exit 0' TERM; sleep 100000 & wait"]
    environment:
      MARK: stack-volume-ok
    volumes:
      - data:/data
      - type: volume
        source: scratch
        target: /scratch
    secrets:
      - pw
    configs:
      - source: conf
        target: /etc/app.conf
    networks:
      - back
volumes:
  data:
  scratch:
    driver_opts: {type: tmpfs, device: tmpfs, o: size=1m}
networks:
  back:
    driver: overlay
secrets:
  pw:
    file: ./pw.txt
configs:
  conf:
    file: ./app.conf
"""

LABEL = "com.docker.stack.namespace"


def labelled(node, what, ns):
    flt = quote(json.dumps({"label": {f"{LABEL}={ns}": True}}))
    return node.api_json("GET", f"/{what}?filters={flt}") or []


def deploy(node, path, *extra, env=None):
    return node.shoal_ok("stack", "deploy", "-c", str(path), *extra, "t1",
                         env=env)


def running_task(node, service):
    tasks = [t for t in node.running_tasks(service)
             if (t["Status"].get("ContainerStatus") or {}).get("ContainerID")]
    assert tasks, f"no running task of {service}"
    return tasks[0]


def task_pid(node, service):
    t = running_task(node, service)
    return node.container_pid(t["Status"]["ContainerStatus"]["ContainerID"])


def wait_up(node, replicas):
    for name, n in replicas.items():
        node.wait_replicas(name, f"{n}/{n}", scaled(60))
        wait_for(lambda name=name, n=n: len([
            t for t in node.running_tasks(name)
            if (t["Status"].get("ContainerStatus") or {}).get("ContainerID")])
            == n, scaled(60), f"{n} running tasks of {name}")


def test_stack_lifecycle(loaded_node, tmp_path):
    node = loaded_node
    f = tmp_path / "stack.yml"
    f.write_text(STACK)
    (tmp_path / "pw.txt").write_text("hunter2\n")
    (tmp_path / "app.conf").write_text("mode=test\n")

    out = deploy(node, f)
    assert out.splitlines() == ["Creating network t1_back",
                                "Creating secret t1_pw",
                                "Creating config t1_conf",
                                "Creating service t1_client",
                                "Creating service t1_web"], out
    wait_up(node, {"t1_web": 2, "t1_client": 1})

    assert parse_table(node.shoal_ok("stack", "ls")) == [
        {"NAME": "t1", "SERVICES": "2"}]
    rows = parse_table(node.shoal_ok("stack", "services", "t1"))
    assert [(r["NAME"], r["MODE"], r["REPLICAS"], r["IMAGE"], r["PORTS"])
            for r in rows] == [
        ("t1_client", "replicated", "1/1", "simple_server:latest", ""),
        ("t1_web", "replicated", "2/2", "simple_server:latest",
         "*:8000->8000/tcp")], rows
    rows = parse_table(node.shoal_ok("stack", "ps", "t1"))
    assert sorted(r["NAME"] for r in rows) == [
        "t1_client.1", "t1_web.1", "t1_web.2"], rows
    assert {r["DESIRED STATE"] for r in rows} == {"Running"}, rows
    assert all(r["CURRENT STATE"].startswith("Running") for r in rows), rows

    # every object named <stack>_<name> and labelled with the namespace
    web = node.service("t1_web")
    assert web["Spec"]["Labels"] == {
        LABEL: "t1", "com.docker.stack.image": "simple_server"}, web
    nets = labelled(node, "networks", "t1")
    assert [n["Name"] for n in nets] == ["t1_back"], nets

    # the published port answers on the node
    r = node.exec("curl", "-sS", "--max-time", str(scaled(5)),
                  "http://127.0.0.1:8000/")
    assert r.rc == 0 and r.out.strip() == "hello-from-web", r
    # the client reaches web by its short name (an alias on the stack's
    # network) and by its full name
    pid = task_pid(node, "t1_client")
    for name in ("web", "t1_web"):
        r = node.exec_in_task(pid, "wget", "-qO-", f"http://{name}:8000/")
        assert r.rc == 0 and r.out.strip() == "hello-from-web", (name, r)
    # the named volume: t1_data, labelled, holding what the task wrote
    r = node.exec_in_task(pid, "cat", "/data/marker")
    assert r.out.strip() == "stack-volume-ok", r
    vol = node.api_json("GET", "/volumes/t1_data")
    assert (vol.get("Labels") or {}).get(LABEL) == "t1", vol
    # a volume with driver options (a tmpfs), the secret and the config
    r = node.exec_in_task(pid, "grep", " /scratch ", "/proc/mounts")
    assert r.rc == 0 and r.out.split()[2] == "tmpfs", r
    r = node.exec_in_task(pid, "cat", "/run/secrets/pw", "/etc/app.conf")
    assert r.rc == 0 and r.out == "hunter2\nmode=test\n", r

    # redeploy with more replicas: updated in place
    before = node.service("t1_web")
    client_task = running_task(node, "t1_client")["ID"]
    out = deploy(node, f, env={"WEB_REPLICAS": "3"})
    assert f"Updating service t1_web (id: {before['ID']})" in out, out
    wait_up(node, {"t1_web": 3})
    after = node.service("t1_web")
    assert after["ID"] == before["ID"]
    assert after["Version"]["Index"] > before["Version"]["Index"]
    assert after["Spec"]["Mode"]["Replicated"]["Replicas"] == 3
    # the client's spec did not change, so its task was left alone
    assert running_task(node, "t1_client")["ID"] == client_task

    # --prune removes the services the file no longer has
    g = tmp_path / "web-only.yml"
    g.write_text(re.sub(r"  client:.*?(?=^volumes:)", "", STACK,
                        flags=re.S | re.M))
    out = node.shoal_ok("stack", "deploy", "--compose-file", str(g),
                        "--prune", "t1")
    assert "Removing service t1_client" in out, out
    assert [r["NAME"] for r in parse_table(
        node.shoal_ok("stack", "services", "t1"))] == ["t1_web"]

    # rm: services, then networks once their tasks are gone; nothing left
    out = node.shoal_ok("stack", "rm", "t1")
    assert out.splitlines() == ["Removing service t1_web",
                                "Removing secret t1_pw",
                                "Removing config t1_conf",
                                "Removing network t1_back"], out
    for kind in ("services", "networks", "tasks", "secrets", "configs"):
        assert labelled(node, kind, "t1") == [], kind
    assert node.shoal_ok("stack", "ls").splitlines() == ["NAME      SERVICES"]
    r = node.shoal("stack", "rm", "t1")
    assert r.rc == 0 and "Nothing found in stack: t1" in r.err, r

    # and a deploy right after works, networks created afresh; without
    # --detach it returns once every service has converged
    out = deploy(node, f, "--detach=false")
    assert "Creating network t1_back" in out, out
    assert node.replicas("t1_web") == "2/2"
    assert node.replicas("t1_client") == "1/1"
    r = node.exec("curl", "-sS", "--max-time", str(scaled(5)),
                  "http://127.0.0.1:8000/")
    assert r.rc == 0 and r.out.strip() == "hello-from-web", r
    node.shoal_ok("stack", "rm", "t1")
    assert labelled(node, "networks", "t1") == []


BAD = [
    ("unknown key", "services:\n  web:\n    image: simple_server\n"
     "    replica: 2\n",
     "stack.yml:4: services.web Additional property replica is not "
     "allowed"),
    ("wrong type", "services:\n  web:\n    image: simple_server\n"
     "    deploy:\n      replicas: two\n",
     "stack.yml:5: services.web.deploy.replicas must be a integer"),
    ("missing variable", "services:\n  web:\n"
     "    image: simple_server:${TAG:?set TAG to the image tag}\n",
     "stack.yml:3: error while interpolating services.web.image: required "
     "variable TAG is missing a value: set TAG to the image tag"),
    ("undeclared network", "services:\n  web:\n    image: simple_server\n"
     "    networks: [front]\n",
     "stack.yml:4: services.web.networks.front: undefined network "
     "\"front\""),
    ("bad YAML", "services:\n  web:\n    image: [simple_server\n",
     "stack.yml:4: invalid YAML:"),
]


def test_bad_compose_files(loaded_node, tmp_path):
    node = loaded_node
    f = tmp_path / "stack.yml"
    for what, text, want in BAD:
        f.write_text(text)
        r = node.shoal("stack", "deploy", "-c", str(f), "t1")
        assert r.rc != 0, (what, r)
        assert want in r.err, (what, r.err)
        assert not r.out, (what, r)
        for kind in ("services", "networks"):
            assert labelled(node, kind, "t1") == [], (what, kind)
    r = node.shoal("stack", "deploy", "-c", str(tmp_path / "nope.yml"), "t1")
    assert r.rc != 0 and "nope.yml" in r.err, r
    r = node.shoal("stack", "ps", "t1")
    assert r.rc != 0 and "nothing found in stack: t1" in r.err, r


def test_two_files_and_stdin(loaded_node, tmp_path):
    """-c twice: the second file merged over the first (image and
    replicas replaced, environment merged); -c - reads stdin; .env beside
    the first file fills variables the environment does not set."""
    node = loaded_node
    (tmp_path / "base.yml").write_text(
        "version: '3.8'\n"
        "services:\n"
        "  s:\n"
        "    image: simple_server\n"
        "    command: [sleep, '1000']\n"
        "    environment: {A: '1', B: '2'}\n"
        "    labels: [\"from=${FROM}\"]\n"
        "    deploy: {replicas: 1}\n")
    (tmp_path / "prod.yml").write_text(
        "version: '3.8'\n"
        "services:\n"
        "  s:\n"
        "    environment: [B=3, C=4]\n"
        "    deploy: {replicas: 0}\n")
    (tmp_path / ".env").write_text("FROM=dotenv\n")
    out = node.shoal_ok("stack", "deploy", "-c", str(tmp_path / "base.yml"),
                        "-c", str(tmp_path / "prod.yml"), "t2")
    assert out.splitlines() == ["Creating network t2_default",
                                "Creating service t2_s"], out
    spec = node.service("t2_s")["Spec"]
    cs = spec["TaskTemplate"]["ContainerSpec"]
    assert cs["Env"] == ["A=1", "B=3", "C=4"], cs
    assert cs["Labels"] == {"from": "dotenv", LABEL: "t2"}, cs
    assert spec["Mode"] == {"Replicated": {"Replicas": 0}}, spec

    r = node.shoal("stack", "deploy", "-c", "-", "t2",
                   input="services:\n  s:\n    image: simple_server\n"
                         "    command: [sleep, '1000']\n"
                         "    deploy: {replicas: 0}\n")
    assert r.rc == 0, r
    assert "Updating service t2_s" in r.out, r
    assert node.service("t2_s")["Spec"]["TaskTemplate"]["ContainerSpec"].get(
        "Env") is None
    node.shoal_ok("stack", "rm", "t2")
    assert labelled(node, "services", "t2") == []
