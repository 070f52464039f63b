# SPDX-License-Identifier: Apache-2.0
"""Swarm secrets and configs: create / ls / inspect / update / rm through
the API and the shoal CLI, the bad inputs Docker refuses (in its words),
and a task that reads its secret and config files with the right content,
owner and mode, while nothing of the secret reaches the disk under the
data root (after the task ran, and after a restart of shoald)."""

import base64
import hashlib
import json
import os
import secrets as pysecrets
import subprocess
from urllib.parse import quote

from shoalnode import log_messages, wait_for


def b64(s):
    return base64.b64encode(s.encode()).decode()


def create(node, kind, name, data, labels=None):
    r = node.api("POST", f"/{kind}s/create",
                 {"Name": name, "Labels": labels or {}, "Data": b64(data)})
    assert r.status == 201, r
    return r.json()["ID"]


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


def plaintext_under(root, needles):
    """Files under root (everything, binary too) holding one of needles."""
    found = []
    for needle in needles:
        r = subprocess.run(["grep", "-rlaF", "--", needle, root],
                           capture_output=True, text=True)
        found += r.stdout.split()
    return found


def needles_of(value):
    # The value itself and its base64 (as the API carries it).
    return [value, b64(value)[:-4] if len(value) > 6 else b64(value)]


def test_api_lifecycle(swarm_node):
    node = swarm_node
    sid = create(node, "secret", "db_pw", "s3cr3t-value\n", {"a": "1"})
    cid = create(node, "config", "app.conf", "key=value\n")
    # list: no Data for secrets, Data for configs (Docker's shapes)
    ls = node.api_json("GET", "/secrets")
    assert [s["ID"] for s in ls] == [sid]
    s = ls[0]
    assert s["Spec"] == {"Name": "db_pw", "Labels": {"a": "1"}}
    assert set(s) == {"ID", "Version", "CreatedAt", "UpdatedAt", "Spec"}
    assert s["Version"]["Index"] > 0
    cl = node.api_json("GET", "/configs")
    assert cl[0]["Spec"]["Data"] == b64("key=value\n")
    # inspect by id, name and id prefix; never Data for a secret
    for ref in (sid, "db_pw", sid[:6]):
        got = node.api_json("GET", f"/secrets/{ref}")
        assert got["ID"] == sid and "Data" not in got["Spec"]
    assert node.api_json("GET", "/configs/app.conf")["Spec"]["Data"] == \
        b64("key=value\n")
    r = node.api("GET", "/secrets/nope")
    assert r.status == 404 and r.message == "secret nope not found", r
    # filters: name (prefix), names (exact), id, label
    def names(path):
        return [x["Spec"]["Name"] for x in node.api_json("GET", path)]
    create(node, "secret", "db_pw2", "x")
    flt = lambda f: "/secrets?filters=" + quote(json.dumps(f))  # noqa: E731
    assert sorted(names(flt({"name": {"db": True}}))) == ["db_pw", "db_pw2"]
    assert names(flt({"names": {"db_pw": True}})) == ["db_pw"]
    assert names(flt({"id": {sid: True}})) == ["db_pw"]
    assert names(flt({"label": {"a=1": True}})) == ["db_pw"]
    r = node.api("GET", flt({"bogus": {"x": True}}))
    assert r.status == 400, r
    # update: labels only, with the version
    ver = node.api_json("GET", f"/secrets/{sid}")["Version"]["Index"]
    r = node.api("POST", f"/secrets/{sid}/update?version={ver}",
                 {"Name": "db_pw", "Labels": {"b": "2"}})
    assert r.status == 200, r
    got = node.api_json("GET", f"/secrets/{sid}")
    assert got["Spec"]["Labels"] == {"b": "2"}
    assert got["Version"]["Index"] > ver
    r = node.api("POST", f"/secrets/{sid}/update?version={ver}",
                 {"Name": "db_pw", "Labels": {}})
    assert r.status == 409 and "update out of sequence" in r.message, r
    ver = got["Version"]["Index"]
    for body in ({"Name": "renamed", "Labels": {}},
                 {"Name": "db_pw", "Labels": {}, "Data": b64("other")}):
        r = node.api("POST", f"/secrets/{sid}/update?version={ver}", body)
        assert r.status == 400, r
        assert r.message == ("rpc error: code = InvalidArgument desc = only "
                             "updates to Labels are allowed"), r
    # delete: 204, then 404
    r = node.api("DELETE", f"/secrets/{sid}")
    assert r.status == 204, r
    assert node.api("DELETE", f"/secrets/{sid}").status == 404
    assert node.api("DELETE", f"/configs/{cid}").status == 204
    assert node.api_json("GET", "/configs") == []


def test_bad_input(swarm_node):
    node = swarm_node
    bad = node.api("POST", "/secrets/create",
                   {"Name": "-bad/name", "Data": b64("x")})
    assert bad.status == 400, bad
    assert bad.message == (
        "rpc error: code = InvalidArgument desc = invalid name, only 64 "
        "[a-zA-Z0-9-_.] characters allowed, and the start and end character "
        "must be [a-zA-Z0-9]"), bad
    big = node.api("POST", "/secrets/create",
                   {"Name": "big", "Data": base64.b64encode(
                       b"a" * (500 * 1024)).decode()})
    assert big.status == 400, big
    assert big.message == (
        "rpc error: code = InvalidArgument desc = secret data must be larger "
        "than 0 and less than 512000 bytes"), big
    cbig = node.api("POST", "/configs/create",
                    {"Name": "big", "Data": base64.b64encode(
                        b"a" * (500 * 1024)).decode()})
    assert cbig.status == 400, cbig
    assert cbig.message == (
        "rpc error: code = InvalidArgument desc = config data must be larger "
        "than 0 and less than 512000 bytes"), cbig
    empty = node.api("POST", "/secrets/create", {"Name": "empty"})
    assert empty.status == 400 and "larger than 0" in empty.message
    garbled = node.api("POST", "/secrets/create",
                       {"Name": "g", "Data": "%%%"})
    assert garbled.status == 400 and "base64" in garbled.message
    create(node, "secret", "dup", "one")
    dup = node.api("POST", "/secrets/create",
                   {"Name": "dup", "Data": b64("two")})
    assert dup.status == 409, dup
    assert dup.message == ("rpc error: code = AlreadyExists desc = secret "
                           "dup already exists"), dup
    # nothing was made of the refused ones
    assert [s["Spec"]["Name"] for s in node.api_json("GET", "/secrets")] == \
        ["dup"]
    # the CLI says the same
    r = node.shoal("secret", "create", "bad/name", "-", input="x")
    assert r.rc == 1 and "invalid name, only 64" in r.err, r


def test_not_a_manager(node):
    r = node.api("GET", "/secrets")
    assert r.status == 503, r
    assert "not a swarm manager" in r.message, r


def test_cli(swarm_node, tmp_path):
    node = swarm_node
    f = tmp_path / "pw.txt"
    f.write_text("s3cr3t-value\n")
    sid = node.shoal_ok("secret", "create", "--label", "env=prod", "pw",
                        str(f)).strip()
    assert len(sid) == 25
    cid = node.shoal_ok("config", "create", "app", "-",
                        input="key=value\n").strip()
    out = node.shoal_ok("secret", "ls").splitlines()
    assert out[0].split() == ["ID", "NAME", "DRIVER", "CREATED", "UPDATED"]
    assert out[1].split()[:2] == [sid, "pw"]
    assert node.shoal_ok("config", "ls", "-q").split() == [cid]
    got = json.loads(node.shoal_ok("secret", "inspect", "pw"))
    assert got[0]["ID"] == sid and got[0]["Spec"]["Labels"] == \
        {"env": "prod"} and "Data" not in got[0]["Spec"]
    pretty = node.shoal_ok("secret", "inspect", "--pretty", "pw")
    assert f"ID:              {sid}" in pretty and "Name:              pw" in \
        pretty and " - env=prod" in pretty, pretty
    cpretty = node.shoal_ok("config", "inspect", "--pretty", "app")
    assert "Data:\nkey=value" in cpretty, cpretty
    assert node.shoal_ok("secret", "inspect", "-f", "{{.Spec.Name}}",
                         sid) == "pw\n"
    r = node.shoal("secret", "inspect", "pw", "nope")
    assert r.rc == 1 and "nope" in r.err, r
    assert node.shoal_ok("secret", "rm", "pw") == "pw\n"
    assert node.shoal_ok("config", "rm", "app") == "app\n"
    r = node.shoal("secret", "rm", "pw")
    assert r.rc == 1 and "secret pw not found" in r.err, r
    assert node.shoal_ok("secret", "ls", "-q") == ""


def task_dirs(node):
    d = os.path.join(node.data_root, "secrets")
    return os.listdir(d) if os.path.isdir(d) else []


def test_task_reads_secrets(loaded_node):
    node = loaded_node
    token = "tok-" + pysecrets.token_hex(12)
    ctoken = "cfg-" + pysecrets.token_hex(12)
    node.shoal_ok("secret", "create", "pw", "-", input=token)
    node.shoal_ok("config", "create", "app", "-", input=ctoken)
    # The task shows digests, never the values (its log is on disk).
    script = ("sha256sum /run/secrets/pw; stat -c '%a %u %g' /run/secrets/pw;"
              " sha256sum /run/secrets/other; "
              "stat -c '%a %u %g' /run/secrets/other; "
              "sha256sum /etc/app.conf; stat -c '%a %u %g' /etc/app.conf; "
              "sha256sum /app; "
              "grep -c ' /run/secrets/pw ' /proc/mounts; echo END-OF-TEST")
    node.create_service("reader", opts=[
        "--restart-condition", "none", "--secret", "pw",
        "--secret", "source=pw,target=other,uid=1000,gid=1001,mode=0400",
        "--config", "src=app,target=/etc/app.conf,mode=0440",
        "--config", "app"], cmd=["sh", "-c", script])
    node.wait_log("reader", "END-OF-TEST")
    lines = log_messages(node.service_logs("reader"))
    d, cd = sha(token), sha(ctoken)
    assert lines == [f"{d}  /run/secrets/pw", "444 0 0",
                     f"{d}  /run/secrets/other", "400 1000 1001",
                     f"{cd}  /etc/app.conf", "440 0 0", f"{cd}  /app", "1",
                     "END-OF-TEST"], lines
    # The spec names the secret by ID (resolved) and name.
    ref = node.service("reader")["Spec"]["TaskTemplate"]["ContainerSpec"][
        "Secrets"][0]
    assert ref["SecretName"] == "pw" and len(ref["SecretID"]) == 25
    # The task ended: its tmpfs is gone, and no plaintext anywhere.
    wait_for(lambda: task_dirs(node) == [], 30, "the task's tmpfs removed")
    assert " tmpfs" not in "\n".join(
        ln for ln in node.mounts().splitlines()
        if os.path.join(node.data_root, "secrets") in ln)
    needles = needles_of(token)
    assert plaintext_under(node.data_root, needles) == []
    # secrets are refused while in use; configs too
    r = node.shoal("secret", "rm", "pw")
    assert r.rc == 1 and ("secret 'pw' is in use by the following service: "
                          "reader") in r.err, r
    r = node.api("DELETE", "/configs/app")
    assert r.status == 400 and "config 'app' is in use" in r.message, r
    assert node.api("GET", "/secrets/pw").status == 200
    # after a restart (raft log and snapshots reopened) still nothing
    node.restart_daemon()
    node.wait_manager()
    assert node.api("GET", "/secrets/pw").status == 200
    assert plaintext_under(node.data_root, needles) == []
    # configs are sealed with the rest of the raft log too
    assert plaintext_under(node.data_root, needles_of(ctoken)) == []
    node.shoal_ok("service", "rm", "reader")
    node.shoal_ok("secret", "rm", "pw")


def test_running_task_keeps_files_in_tmpfs(loaded_node):
    node = loaded_node
    token = "run-" + pysecrets.token_hex(12)
    node.shoal_ok("secret", "create", "live", "-", input=token)
    node.create_service("holder", opts=["--secret", "live"],
                        cmd=["sh", "-c", "sha256sum /run/secrets/live; exec sleep 1000"])
    node.wait_log("holder", sha(token))
    dirs = task_dirs(node)
    assert len(dirs) == 1, dirs
    tdir = os.path.join(node.data_root, "secrets", dirs[0])
    # The host side is a tmpfs in the node's mount namespace only.
    assert any(ln.split()[1] == tdir and ln.split()[2] == "tmpfs"
               for ln in node.mounts().splitlines()), node.mounts()
    # Outside the tmpfs, nothing (the grep runs in the host's namespace,
    # where the tmpfs is not mounted).
    assert plaintext_under(node.data_root, needles_of(token)) == []
    node.shoal_ok("service", "rm", "holder")
    wait_for(lambda: task_dirs(node) == [], 30, "the task's tmpfs removed")
    assert tdir not in node.mounts()


def test_unknown_secret_in_service(loaded_node):
    node = loaded_node
    r = node.shoal("service", "create", "--name", "x", "--secret", "nope",
                   "simple_server", "true")
    assert r.rc != 0 and "secret not found: nope" in r.err, r
    spec = {"Name": "y", "TaskTemplate": {"ContainerSpec": {
        "Image": "simple_server", "Secrets": [{
            "SecretName": "nope", "SecretID": "0123456789abcdefghijklmno",
            "File": {"Name": "nope", "UID": "0", "GID": "0",
                     "Mode": 292}}]}}}
    r = node.api("POST", "/services/create", spec)
    assert r.status == 400, r
    assert r.message == ("rpc error: code = InvalidArgument desc = secret "
                         "not found: nope"), r
    spec["TaskTemplate"]["ContainerSpec"]["Secrets"] = [
        {"SecretName": "nope", "File": {"Name": "../../x"}}]
    r = node.api("POST", "/services/create", spec)
    assert r.status == 400, r
    assert node.api_json("GET", "/services") == []
    # update of an existing service: refused, unchanged
    node.create_service("z", cmd=["sleep", "1000"])
    before = node.service("z")
    upd = dict(before["Spec"])
    upd["TaskTemplate"] = dict(upd["TaskTemplate"])
    upd["TaskTemplate"]["ContainerSpec"] = dict(
        upd["TaskTemplate"]["ContainerSpec"],
        Secrets=[{"SecretName": "nope", "File": {"Name": "n"}}])
    r = node.api("POST", f"/services/z/update?version="
                 f"{before['Version']['Index']}", upd)
    assert r.status == 400 and "secret not found: nope" in r.message, r
    assert node.service("z")["Version"] == before["Version"]


def test_service_update_adds_and_removes_secrets(loaded_node):
    node = loaded_node
    token = "upd-" + pysecrets.token_hex(12)
    node.shoal_ok("secret", "create", "pw", "-", input=token)
    node.create_service("u", cmd=["sleep", "1000"])
    wait_for(lambda: len(node.running_tasks("u")) == 1, 30, "u running")
    node.shoal_ok("service", "update", "--detach", "--secret-add",
                  "source=pw,target=db/password,mode=0440", "u")

    def reads():
        pid = node.task_pid("u", 1)
        r = node.exec_in_task(pid, "sh", "-c",
                              "sha256sum /run/secrets/db/password; "
                              "stat -c %a /run/secrets/db/password")
        return r.out.split() if r.rc == 0 else None
    wait_for(lambda: reads() == [sha(token), "/run/secrets/db/password",
                                 "440"], 60, "the updated task to read it")
    assert len(task_dirs(node)) == 1
    spec = node.service("u")["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert [s["SecretName"] for s in spec["Secrets"]] == ["pw"]
    node.shoal_ok("service", "update", "--detach", "--secret-rm", "pw", "u")
    wait_for(lambda: "Secrets" not in node.service("u")["Spec"][
        "TaskTemplate"]["ContainerSpec"], 30, "the secret out of the spec")
    wait_for(lambda: task_dirs(node) == [], 60, "no secret tmpfs left")
    # no longer in use: it can go
    node.shoal_ok("secret", "rm", "pw")
