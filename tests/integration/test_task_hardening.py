# SPDX-License-Identifier: Apache-2.0
"""Task hardening on the node: Docker's default seccomp profile (a syscall
it forbids fails with EPERM, and works with seccomp=unconfined), a custom
profile file, no-new-privileges, --init (tini as PID 1 reaping zombies),
hostname templates, and bad security options refused with nothing
created."""

import json

from shoalnode import log_messages

V = "/v1.41"


def oneshot(node, name, opts, script):
    """Runs `sh -c script` once as a service; returns its output lines."""
    node.create_service(name, opts=["--restart-condition", "none", *opts],
                        cmd=["sh", "-c", script + "; echo END-OF-TEST"])
    node.wait_log(name, "END-OF-TEST")
    return log_messages(node.service_logs(name))[:-1]


# unshare(CLONE_NEWUSER) needs no capability, so only the filter stops it.
UNSHARE = ("unshare -U true 2>&1 && echo unshare-ok || echo unshare-failed")


def test_default_seccomp_forbids_unshare(loaded_node):
    out = oneshot(loaded_node, "sc-default", [], UNSHARE)
    assert out[-1] == "unshare-failed", out
    assert any("Operation not permitted" in ln for ln in out), out


def test_seccomp_unconfined_allows_unshare(loaded_node):
    out = oneshot(loaded_node, "sc-unconf",
                  ["--security-opt", "seccomp=unconfined"], UNSHARE)
    assert out == ["unshare-ok"], out


def test_custom_seccomp_profile(loaded_node, tmp_path):
    """A user profile that allows everything but mkdir/mkdirat."""
    prof = tmp_path / "profile.json"
    prof.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"],
                      "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}))
    out = oneshot(loaded_node, "sc-custom",
                  ["--security-opt", f"seccomp={prof}"],
                  "mkdir /tmp/x 2>&1 || echo mkdir-failed; "
                  "unshare -U true && echo unshare-ok")
    assert out[-2:] == ["mkdir-failed", "unshare-ok"], out
    svc = loaded_node.service("sc-custom")
    sc = svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Privileges"]["Seccomp"]
    assert sc["Mode"] == "custom" and sc["Profile"], sc


def test_no_new_privileges(loaded_node):
    out = oneshot(loaded_node, "nnp", ["--security-opt", "no-new-privileges"],
                  "grep NoNewPrivs /proc/self/status")
    assert out == ["NoNewPrivs:\t1"], out
    out = oneshot(loaded_node, "nnp-off", [],
                  "grep NoNewPrivs /proc/self/status")
    assert out == ["NoNewPrivs:\t0"], out


def test_init_is_pid1_and_reaps_zombies(loaded_node):
    # The inner sh leaves an orphan that exits while PID 1 is busy in
    # `sleep`: only an init that reaps any child leaves no zombie.
    out = oneshot(loaded_node, "init", ["--init"],
                  "head -c 26 /proc/1/cmdline | tr '\\0' ' '; echo; "
                  "sh -c 'sleep 0.2 &'; sleep 1; "
                  "echo zombies=$(cat /proc/[0-9]*/stat | "
                  "awk '{print $3}' | grep -c Z)")
    assert out and out[0].startswith("/sbin/docker-init -- sh -c"), \
        loaded_node.service_logs("init")
    assert out[-1] == "zombies=0", out


def test_hostname_templates(loaded_node):
    node = loaded_node
    out = oneshot(node, "tmpl", [
        "--hostname", "{{.Service.Name}}-{{.Task.Slot}}",
        "-e", "WHO={{.Task.Name}}@{{.Node.ID}}"],
        'hostname; echo "$WHO"')
    task = node.tasks("tmpl")[0]
    assert out == ["tmpl-1",
                   f"tmpl.1.{task['ID']}@{task['NodeID']}"], out


def test_bad_security_options_change_nothing(loaded_node, tmp_path):
    node = loaded_node
    before = node.api_json("GET", f"{V}/services")
    r = node.shoal("service", "create", "--name", "bad", "--security-opt",
                   "foo", "simple_server")
    assert r.rc != 0 and 'invalid --security-opt: "foo"' in r.err, r
    r = node.shoal("service", "create", "--name", "bad", "--security-opt",
                   "apparmor=x", "simple_server")
    assert r.rc != 0 and "invalid --security-opt 1" in r.err, r
    prof = tmp_path / "bad.json"
    prof.write_text('{"defaultAction": "SCMP_ACT_NOPE"}')
    r = node.shoal("service", "create", "--name", "bad", "--security-opt",
                   f"seccomp={prof}", "simple_server")
    assert r.rc != 0 and "decoding seccomp profile failed" in r.err, r
    r = node.shoal("service", "create", "--name", "bad", "--security-opt",
                   f"seccomp={tmp_path}/missing.json", "simple_server")
    assert r.rc != 0 and "opening seccomp profile" in r.err, r
    # Straight to the API: a custom profile that is not base64 / not JSON,
    # an unknown mode, a bad hostname template.
    cs = {"Image": "simple_server"}
    for priv, want in [
            ({"Seccomp": {"Mode": "custom", "Profile": "!!"}},
             "not valid base64"),
            ({"Seccomp": {"Mode": "custom", "Profile": "bm90IGpzb24="}},
             "decoding seccomp profile failed"),
            ({"Seccomp": {"Mode": "strict"}}, "invalid seccomp mode")]:
        r = node.api("POST", f"{V}/services/create", {
            "Name": "bad", "TaskTemplate": {
                "ContainerSpec": dict(cs, Privileges=priv)}})
        assert r.status == 400 and want in r.message, r
    r = node.api("POST", f"{V}/services/create", {
        "Name": "bad", "TaskTemplate": {"ContainerSpec": dict(
            cs, Hostname="{{.Task.Nope}}")}})
    assert r.status == 400 and "can't evaluate field Task.Nope" in \
        r.message, r
    assert node.api_json("GET", f"{V}/services") == before
