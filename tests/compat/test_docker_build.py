# SPDX-License-Identifier: Apache-2.0
"""`docker build` with the unmodified docker CLI against shoald: the CLI's
legacy builder (DOCKER_BUILDKIT=0, and plain `docker build`, which falls
back to it when buildx is missing) posts the context to /build and shows
the streamed steps; -q prints the image id; a failing step and a parse
error exit non-zero with the daemon's message. Skipped where the docker
CLI is not installed."""

import os
import re
from pathlib import Path

import pytest

from shoalnode import DOCKER, run

pytestmark = pytest.mark.skipif(not os.access(DOCKER, os.X_OK),
                                reason=f"{DOCKER} not installed")


def docker(node, *args, buildkit=None, timeout=300):
    cfg = node.dir / "docker-config"
    cfg.mkdir(exist_ok=True)
    env = dict(os.environ)
    for k in ("SHOAL_HOST", "DOCKER_BUILDKIT"):
        env.pop(k, None)
    env.update({"DOCKER_HOST": f"unix://{node.sock}",
                "DOCKER_CONFIG": str(cfg), "DOCKER_CLI_HINTS": "false"})
    if buildkit is not None:
        env["DOCKER_BUILDKIT"] = buildkit
    r = run([DOCKER, *args], timeout=timeout, env=env)
    node.check_daemon()
    return r


def context(tmp_path, dockerfile, **files):
    d = Path(tmp_path) / "ctx"
    d.mkdir(exist_ok=True)
    (d / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (d / name).write_text(text)
    return d


def test_docker_build_legacy(loaded_node, tmp_path):
    node = loaded_node
    ctx = context(tmp_path,
                  "FROM simple_server\n"
                  "COPY hello.txt /hello.txt\n"
                  "RUN cat /hello.txt\n"
                  "CMD [\"cat\", \"/hello.txt\"]\n",
                  **{"hello.txt": "hello from docker build\n",
                     ".dockerignore": "*.tmp\n", "junk.tmp": "x"})
    r = docker(node, "build", "-t", "dk:1", str(ctx), buildkit="0")
    assert r.rc == 0, r
    assert "Step 1/4 : FROM simple_server" in r.out, r
    assert "hello from docker build" in r.out, r
    assert re.search(r"Successfully built [0-9a-f]{12}", r.out), r
    assert "Successfully tagged dk:1" in r.out, r
    images = docker(node, "images", "--format", "{{.Repository}}:{{.Tag}}")
    assert "dk:1" in images.out.split(), images

    # Plain `docker build`: no buildx plugin here, so the CLI falls back to
    # the legacy builder (Builder-Version: 1 in /_ping) with a warning.
    r = docker(node, "build", "-t", "dk:2", str(ctx))
    assert r.rc == 0, r
    assert "Using cache" in r.out, r

    # -q: only the id.
    r = docker(node, "build", "-q", str(ctx), buildkit="0")
    assert r.rc == 0, r
    assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", r.out), r
    assert r.out.strip() == docker(node, "image", "inspect", "-f", "{{.Id}}",
                                   "dk:1").out.strip()


def test_docker_build_errors(loaded_node, tmp_path):
    node = loaded_node
    ctx = context(tmp_path, "FROM simple_server\nRUN exit 7\n")
    r = docker(node, "build", "-t", "dk:bad", str(ctx), buildkit="0")
    assert r.rc != 0, r
    assert "returned a non-zero code: 7" in r.err, r
    ctx = context(tmp_path, "FROM simple_server\nNOPE x\n")
    r = docker(node, "build", "-t", "dk:bad", str(ctx), buildkit="0")
    assert r.rc != 0, r
    assert "dockerfile parse error line 2: unknown instruction: NOPE" in \
        r.err, r
    r = docker(node, "image", "inspect", "dk:bad")
    assert r.rc != 0
