# SPDX-License-Identifier: Apache-2.0
"""The unmodified docker CLI's secret and config commands against shoald
(issue 9): create from a file and from stdin, ls (Docker's tables), inspect
(and --pretty), rm (refused while a service uses it), and docker service
create --secret / --config whose task reads the files. Skipped where the
docker CLI is not installed."""

import hashlib
import json
import os

import pytest

from shoalnode import DOCKER, log_messages, parse_table

pytestmark = pytest.mark.skipif(not os.access(DOCKER, os.X_OK),
                                reason=f"{DOCKER} not installed")


def test_secret_and_config_commands(swarm_node, tmp_path):
    node = swarm_node
    f = tmp_path / "secret.txt"
    f.write_text("s3cr3t-value\n")
    sid = node.docker_ok("secret", "create", "test_secret", str(f)).strip()
    assert len(sid) == 25, sid
    out = node.docker_ok("secret", "ls")
    assert out.splitlines()[0].split() == ["ID", "NAME", "DRIVER", "CREATED",
                                           "UPDATED"], out
    rows = parse_table(out)
    assert [(r["ID"], r["NAME"]) for r in rows] == [(sid, "test_secret")]
    got = json.loads(node.docker_ok("secret", "inspect", "test_secret"))
    assert got[0]["ID"] == sid and got[0]["Spec"] == {
        "Name": "test_secret", "Labels": {}}, got
    pretty = node.docker_ok("secret", "inspect", "--pretty", sid)
    assert "test_secret" in pretty and sid in pretty, pretty

    c = tmp_path / "config.txt"
    c.write_text("key=value\nother=1\n")
    cid = node.docker_ok("config", "create", "--label", "a=b", "test_config",
                         str(c)).strip()
    out = node.docker_ok("config", "ls")
    assert out.splitlines()[0].split() == ["ID", "NAME", "CREATED",
                                           "UPDATED"], out
    got = json.loads(node.docker_ok("config", "inspect", "test_config"))
    assert got[0]["ID"] == cid
    assert got[0]["Spec"]["Labels"] == {"a": "b"}
    assert got[0]["Spec"]["Data"] == "a2V5PXZhbHVlCm90aGVyPTEK"
    cid2 = node.docker_ok("config", "create", "from_stdin", "-",
                          input="x=1\n").strip()
    assert sorted(node.docker_ok("config", "ls", "-q").split()) == \
        sorted([cid, cid2])

    r = node.docker("secret", "create", "bad/name", str(f))
    assert r.rc != 0 and "invalid name" in r.err, r
    r = node.docker("secret", "inspect", "nope")
    assert r.rc != 0 and "nope" in r.err, r

    assert node.docker_ok("secret", "rm", "test_secret").strip() == \
        "test_secret"
    assert node.docker_ok("config", "rm", "test_config", "from_stdin") \
        .split() == ["test_config", "from_stdin"]
    assert node.docker_ok("secret", "ls", "-q") == ""


def test_service_with_secret_and_config(loaded_node, tmp_path):
    node = loaded_node
    value = "docker-cli-secret-42"
    node.docker_ok("secret", "create", "pw", "-", input=value)
    node.docker_ok("config", "create", "conf", "-", input="a=1\n")
    script = ("sha256sum /run/secrets/db; stat -c '%a %u %g' /run/secrets/db;"
              " sha256sum /etc/app.conf; echo END-OF-TEST")
    node.create_service("app", client="docker", opts=[
        "--restart-condition", "none",
        "--secret", "source=pw,target=db,uid=100,gid=101,mode=0400",
        "--config", "source=conf,target=/etc/app.conf"],
        cmd=["sh", "-c", script])
    node.wait_log("app", "END-OF-TEST")
    d = hashlib.sha256(value.encode()).hexdigest()
    cd = hashlib.sha256(b"a=1\n").hexdigest()
    assert log_messages(node.service_logs("app")) == [
        f"{d}  /run/secrets/db", "400 100 101", f"{cd}  /etc/app.conf",
        "END-OF-TEST"]
    r = node.docker("secret", "rm", "pw")
    assert r.rc != 0 and ("secret 'pw' is in use by the following service: "
                          "app") in r.err, r
    r = node.docker("service", "create", "--name", "nope", "--secret", "zz",
                    "simple_server", "true")
    assert r.rc != 0 and "zz" in r.err and "not found" in r.err, r
    node.docker_ok("service", "rm", "app")
    node.docker_ok("secret", "rm", "pw")
    node.docker_ok("config", "rm", "conf")
