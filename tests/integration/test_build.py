# SPDX-License-Identifier: Apache-2.0
"""Dockerfile builds (POST /build, `shoal image build`): on the busybox test
image (simple_server:latest) for the fast cases - steps, multi-stage with
COPY --from, the cache, .dockerignore, ADD of a tar, --build-arg, --target,
errors - and one build of the seed's own simple_server Dockerfile on the
debootstrapped base images (scripts/base-images), run as a service."""

import io
import json
import os
import shutil
import subprocess
import tarfile
import urllib.parse
from pathlib import Path

import pytest

from shoalnode import REPO, run, wait_for

BASE = "simple_server"  # the busybox test image, as loaded


def write(d, files):
    for name, text in files.items():
        p = Path(d) / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def build(node, ctx, *args):
    """`shoal image build ARGS CTX`; returns the Result."""
    return node.shoal("image", "build", *args, str(ctx), timeout=300)


def build_ok(node, ctx, *args):
    r = build(node, ctx, *args)
    assert r.rc == 0, f"build failed:\n{r}\n{node.log_tail(40)}"
    return r.out


def image_ids(node):
    return {i["Id"] for i in node.api_json("GET", "/images/json?all=1")}


def inspect(node, name):
    return node.api_json("GET", f"/images/{name}/json")


def run_in(node, image, *cmd):
    """Runs cmd in a one-off task of image and returns its log output."""
    name = "t" + os.urandom(3).hex()
    node.create_service(name, opts=["--restart-condition", "none"],
                        image=image, cmd=cmd)
    try:
        def done():
            ts = node.tasks(name)
            return ts and ts[0]["Status"]["State"] in ("complete", "failed")
        wait_for(done, 60, f"the task of {name} to finish")
        return node.service_logs(name, "--raw")
    finally:
        node.shoal("service", "rm", name)


@pytest.fixture
def bnode(loaded_node):
    return loaded_node


def test_steps_config_and_run(bnode, tmp_path):
    write(tmp_path, {
        "Dockerfile": (
            f"FROM {BASE}\n"
            "ENV GREETING=hello DIR=/opt/app\n"
            "LABEL org.example.kind=\"test image\"\n"
            "WORKDIR $DIR\n"
            "COPY hello.txt ./\n"
            "RUN echo \"$GREETING from run\" > run.txt && cat hello.txt\n"
            "EXPOSE 8080 9000/udp\n"
            "USER 1000:1000\n"
            "STOPSIGNAL SIGINT\n"
            "VOLUME /data\n"
            "ENTRYPOINT [\"/bin/sh\", \"-c\"]\n"
            "CMD [\"cat /opt/app/run.txt /opt/app/hello.txt\"]\n"),
        "hello.txt": "hi from the context\n"})
    out = build_ok(bnode, tmp_path, "-t", "steps:1")
    assert "Step 1/12 : FROM simple_server" in out
    assert "Step 6/12 : RUN echo" in out
    assert "hi from the context" in out  # the RUN's output is streamed
    assert "Successfully tagged steps:1" in out
    img = inspect(bnode, "steps:1")
    cfg = img["Config"]
    assert "GREETING=hello" in cfg["Env"] and "DIR=/opt/app" in cfg["Env"]
    assert cfg["Labels"]["org.example.kind"] == "test image"
    assert cfg["WorkingDir"] == "/opt/app"
    assert set(cfg["ExposedPorts"]) == {"8080/tcp", "9000/udp"}
    assert cfg["User"] == "1000:1000"
    assert cfg["StopSignal"] == "SIGINT"
    assert list(cfg["Volumes"]) == ["/data"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c"]
    assert cfg["Cmd"] == ["cat /opt/app/run.txt /opt/app/hello.txt"]
    base = inspect(bnode, BASE)
    # COPY, RUN and WORKDIR (it created /opt/app) each added a layer.
    assert len(img["RootFS"]["Layers"]) == len(base["RootFS"]["Layers"]) + 3
    logs = run_in(bnode, "steps:1")
    assert "hello from run" in logs and "hi from the context" in logs
    # No intermediate images are left behind.
    names = [i.get("RepoTags") for i in
             bnode.api_json("GET", "/images/json")]
    assert all(n for n in names), f"dangling images after a build: {names}"
