# SPDX-License-Identifier: Apache-2.0
"""The unmodified docker CLI's registry commands against shoald and a real
registry (Debian's docker-registry in the node's namespace): docker tag,
push, pull (progress and digest lines), save, login (right and wrong
password) and a service pinned to the registry's digest."""

import io
import json
import os
import tarfile

import pytest

from registryfix import Registry
from shoalnode import DOCKER, wait_for

pytestmark = pytest.mark.skipif(not os.access(DOCKER, os.X_OK),
                                reason=f"{DOCKER} not installed")


@pytest.fixture
def registry(loaded_node):
    r = Registry(loaded_node).start()
    yield r
    r.stop()


def image_id(node, ref):
    r = node.api("GET", f"/images/{ref}/json")
    return r.json()["Id"] if r.status == 200 else None


def test_docker_tag_push_pull_save(loaded_node, registry):
    n = loaded_node
    name = f"{registry.host}/compat/simple:1"
    n.docker_ok("tag", "simple_server:latest", name)
    local = image_id(n, name)
    assert local == image_id(n, "simple_server:latest")

    out = n.docker_ok("push", name)
    assert "The push refers to repository" in out, out
    assert "Pushed" in out, out
    assert "1: digest: sha256:" in out, out
    digest = out.split("digest: ")[1].split()[0]

    n.docker_ok("rmi", "-f", local)
    assert image_id(n, name) is None
    out = n.docker_ok("pull", name)
    assert "1: Pulling from compat/simple" in out, out
    assert "Pull complete" in out, out
    assert f"Digest: {digest}" in out, out
    assert f"Status: Downloaded newer image for {name}" in out, out
    assert image_id(n, name) == local

    out = n.docker_ok("image", "inspect", "--format",
                      "{{json .RepoDigests}}", name)
    assert f"{registry.host}/compat/simple@{digest}" in out, out

    tar = n.dir / "saved.tar"
    n.docker_ok("save", "-o", str(tar), name)
    with tarfile.open(tar) as tf:
        man = json.loads(tf.extractfile("manifest.json").read())
    assert man[0]["RepoTags"] == [name]

    # docker rmi by name: the last tag takes the digest name along, and
    # the image goes.
    n.docker_ok("rmi", name)
    assert image_id(n, f"{registry.host}/compat/simple@{digest}") is None
    assert image_id(n, local) is None

    # A pull of something missing fails clearly.
    r = n.docker("pull", f"{registry.host}/compat/missing:1")
    assert r.rc != 0 and "manifest unknown" in r.err, r


def test_docker_service_pins_digest(loaded_node, registry):
    n = loaded_node
    name = f"{registry.host}/compat/svc:1"
    n.docker_ok("tag", "simple_server:latest", name)
    out = n.docker_ok("push", name)
    digest = out.split("digest: ")[1].split()[0]
    n.docker_ok("service", "create", "-d", "--name", "pinned", name,
                "httpd", "-f", "-p", "8000", "-h", "/www")
    img = n.docker_ok("service", "inspect", "--format",
                      "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
                      "pinned").strip()
    assert img == f"{name}@{digest}", img
    wait_for(lambda: "Running" in n.docker_ok("service", "ps", "pinned"),
             timeout=60, what="the pinned service to run")


@pytest.fixture
def auth_registry(loaded_node):
    r = Registry(loaded_node, users={"bob": "hunter2"}).start()
    yield r
    r.stop()


def test_docker_login(loaded_node, auth_registry):
    n = loaded_node
    reg = auth_registry
    r = n.docker("login", "-u", "bob", "-p", "wrong", reg.host)
    assert r.rc != 0, r
    assert "unauthorized" in (r.err + r.out).lower(), r
    r = n.docker("login", "-u", "bob", "--password-stdin", reg.host,
                 input="hunter2\n")
    assert r.rc == 0, r
    assert "Login Succeeded" in r.out, r
    name = f"{reg.host}/priv/x:1"
    n.docker_ok("tag", "simple_server:latest", name)
    out = n.docker_ok("push", name)
    assert "digest: sha256:" in out, out
