# SPDX-License-Identifier: Apache-2.0
"""Bad input over raw HTTP gets Docker-shaped errors ({"message": ...} with
the right status) and changes nothing; bad CLI flags get docker's exit code
125 and a usage message."""

import json
from urllib.parse import quote

import pytest

V = "/v1.41"


def spec(name, replicas=1, image="simple_server"):
    return {"Name": name,
            "TaskTemplate": {"ContainerSpec": {"Image": image,
                                               "Args": ["sleep", "1000"]}},
            "Mode": {"Replicated": {"Replicas": replicas}}}


def assert_error(r, status, contains=None):
    assert r.status == status, f"expected {status}, got {r}"
    try:
        body = r.json()
    except ValueError:
        pytest.fail(f"error body is not JSON: {r}")
    assert isinstance(body.get("message"), str) and body["message"], r
    if contains:
        assert contains in body["message"], r
    return body["message"]


def services_state(node):
    return sorted(node.api_json("GET", f"{V}/services"),
                  key=lambda s: s["ID"])


@pytest.fixture
def api_node(loaded_node):
    """A node with one service "existing" (updated once, so it has an
    older version index to be stale against)."""
    node = loaded_node
    r = node.api("POST", f"{V}/services/create", spec("existing", 0))
    assert r.status == 201, r
    svc = node.api_json("GET", f"{V}/services/existing")
    node.old_version = svc["Version"]["Index"]
    new_spec = dict(svc["Spec"], Labels={"touched": "yes"})
    r = node.api("POST", f"{V}/services/{svc['ID']}/update?version="
                 f"{node.old_version}", new_spec)
    assert r.status == 200, r
    node.service_id = svc["ID"]
    node.state_before = services_state(node)
    yield node
    assert services_state(node) == node.state_before, \
        "a rejected request changed the services"
    assert node.ping(), "shoald stopped answering"


def test_bad_json(api_node):
    r = api_node.api("POST", f"{V}/services/create", "{not json",
                     headers={"Content-Type": "application/json"})
    assert_error(r, 400)


def test_wrong_types(api_node):
    r = api_node.api("POST", f"{V}/services/create",
                     {"Name": 5, "TaskTemplate": "nope"})
    assert_error(r, 400)


def test_missing_image(api_node):
    r = api_node.api("POST", f"{V}/services/create",
                     {"Name": "noimage", "TaskTemplate": {
                         "ContainerSpec": {}}})
    assert_error(r, 400)


def test_unknown_endpoint(api_node):
    for method, path in (("GET", f"{V}/nope"), ("GET", "/nope"),
                         ("POST", f"{V}/services/existing/frobnicate"),
                         ("DELETE", f"{V}/swarm/everything")):
        r = api_node.api(method, path)
        assert_error(r, 404, "page not found")


def test_negative_replicas(api_node):
    r = api_node.api("POST", f"{V}/services/create", spec("neg", -1))
    assert_error(r, 400)


def test_stale_version(api_node):
    # dockerd answers 500 ("rpc error: code = Unknown desc = update out of
    # sequence"); shoal's conventions make a version conflict a 409.
    svc = api_node.api_json("GET", f"{V}/services/existing")
    new_spec = dict(svc["Spec"], Labels={"touched": "again"})
    r = api_node.api("POST", f"{V}/services/{api_node.service_id}/update?"
                     f"version={api_node.old_version}", new_spec)
    assert_error(r, 409, "update out of sequence")


def test_unknown_service(api_node):
    assert_error(api_node.api("GET", f"{V}/services/nosuch"), 404,
                 "service nosuch not found")
    assert_error(api_node.api("DELETE", f"{V}/services/nosuch"), 404,
                 "service nosuch not found")
    assert_error(api_node.api("POST", f"{V}/services/nosuch/update?"
                              "version=1", spec("nosuch")), 404)
    flt = quote(json.dumps({"service": {"nosuch": True}}))
    r = api_node.api("GET", f"{V}/tasks?filters={flt}")
    assert r.status in (200, 404), r
    if r.status == 200:
        assert r.json() == [], r


def test_duplicate_name(api_node):
    r = api_node.api("POST", f"{V}/services/create", spec("existing"))
    assert_error(r, 409)


def test_names(api_node):
    """swarmkit's name rule for services and networks: letters and digits
    joined by '-' or '_' (stack names such as t1_web), at most 63."""
    for bad in ("bad.name", "_web", "web_", "-web", "a b"):
        assert_error(api_node.api("POST", f"{V}/services/create", spec(bad)),
                     400, "name must be valid as a DNS name component")
        assert_error(api_node.api("POST", f"{V}/networks/create",
                                  {"Name": bad, "Driver": "overlay"}),
                     400, "name must be valid as a DNS name component")
    assert_error(api_node.api("POST", f"{V}/services/create", spec("a" * 64)),
                 400, "name must be 63 characters or fewer")
    r = api_node.api("POST", f"{V}/networks/create",
                     {"Name": "t1_default", "Driver": "overlay"})
    assert r.status == 201, r
    r = api_node.api("POST", f"{V}/services/create",
                     dict(spec("t1_web", 0), TaskTemplate={
                         "ContainerSpec": {"Image": "simple_server"},
                         "Networks": [{"Target": "t1_default",
                                       "Aliases": ["web"]}]}))
    assert r.status == 201, r
    assert api_node.api("DELETE", f"{V}/services/t1_web").status == 200
    assert api_node.api("DELETE", f"{V}/networks/t1_default").status == 204


def test_bad_filters(api_node):
    r = api_node.api("GET", f"{V}/services?filters={quote('{bad')}")
    assert_error(r, 400)


def test_cli_unknown_flag(node):
    r = node.shoal("service", "create", "--bogus", "x")
    assert r.rc == 125, r
    assert "unknown flag: --bogus" in r.err, r
    assert "Usage:" in r.err, r


def test_cli_missing_argument(node):
    r = node.shoal("service", "create")
    assert r.rc != 0, r
    assert "requires at least 1 argument" in r.err, r


def test_cli_bad_scale_value(swarm_node):
    r = swarm_node.shoal("service", "scale", "web=abc")
    assert r.rc != 0, r
    assert "invalid replicas value" in r.err, r


def test_cli_error_from_daemon(swarm_node):
    r = swarm_node.shoal("service", "inspect", "nosuch")
    assert r.rc != 0, r
    assert "nosuch" in r.err, r
