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


def test_multistage_copy_from_and_cache(bnode, tmp_path):
    write(tmp_path, {
        "Dockerfile": (
            f"FROM {BASE} AS builder\n"
            "ARG FLAVOUR=plain\n"
            "RUN mkdir -p /out && echo \"built $FLAVOUR\" > /out/artifact "
            "&& echo RUN-EXEC\"\"UTED-1\n"
            "\n"
            f"FROM {BASE}\n"
            "COPY --from=builder /out/artifact /srv/artifact\n"
            "COPY --from=0 /out /srv/copy/\n"
            "RUN cat /srv/artifact && echo RUN-EXEC\"\"UTED-2\n"
            "CMD [\"cat\", \"/srv/artifact\", \"/srv/copy/artifact\"]\n"),
    })
    out1 = build_ok(bnode, tmp_path, "-t", "multi:1")
    assert "RUN-EXECUTED-1" in out1 and "RUN-EXECUTED-2" in out1
    assert "built plain" in out1
    id1 = inspect(bnode, "multi:1")["Id"]
    logs = run_in(bnode, "multi:1")
    assert logs.count("built plain") == 2, logs

    # The same build again: every step from the cache, no RUN executed.
    out2 = build_ok(bnode, tmp_path, "-t", "multi:2")
    assert "RUN-EXECUTED" not in out2, out2
    assert "Running in" not in out2
    assert out2.count("Using cache") == 5, out2
    assert inspect(bnode, "multi:2")["Id"] == id1

    # A build arg changes what the first RUN sees: it runs again.
    out3 = build_ok(bnode, tmp_path, "-t", "multi:3", "--build-arg",
                    "FLAVOUR=spicy")
    assert "RUN-EXECUTED-1" in out3 and "built spicy" in out3

    # --no-cache runs everything.
    out4 = build_ok(bnode, tmp_path, "-t", "multi:4", "--no-cache")
    assert "RUN-EXECUTED-1" in out4 and "RUN-EXECUTED-2" in out4

    # --target stops at the named stage.
    build_ok(bnode, tmp_path, "-t", "multi:builder", "--target", "builder")
    cfg = inspect(bnode, "multi:builder")
    assert len(cfg["RootFS"]["Layers"]) == \
        len(inspect(bnode, BASE)["RootFS"]["Layers"]) + 1
    r = build(bnode, tmp_path, "--target", "nosuch")
    assert r.rc != 0 and "failed to reach build target nosuch" in r.err


def test_copy_cache_follows_content(bnode, tmp_path):
    write(tmp_path, {
        "Dockerfile": (f"FROM {BASE}\n"
                       "COPY data.txt /data.txt\n"
                       "RUN cat /data.txt && echo RUN-EXEC\"\"UTED\n"),
        "data.txt": "version one\n"})
    build_ok(bnode, tmp_path, "-t", "content:1")
    out = build_ok(bnode, tmp_path, "-t", "content:1")
    assert "RUN-EXECUTED" not in out
    (tmp_path / "data.txt").write_text("version two\n")
    out = build_ok(bnode, tmp_path, "-t", "content:2")
    assert "RUN-EXECUTED" in out and "version two" in out


def test_dockerignore_and_globs(bnode, tmp_path):
    write(tmp_path, {
        "Dockerfile": (f"FROM {BASE}\n"
                       "COPY . /ctx/\n"
                       "COPY *.md /docs/\n"
                       "RUN find /ctx /docs | sort\n"),
        ".dockerignore": ("# local junk\n"
                          "*.log\n"
                          "secret/\n"
                          "build\n"
                          "!build/keep.txt\n"),
        "a.md": "a", "b.md": "b", "app.log": "noise",
        "secret/key": "hunter2", "build/out.o": "x", "build/keep.txt": "k",
        "src/main.c": "int main;"})
    out = build_ok(bnode, tmp_path, "-t", "ignore:1")
    assert "/ctx/src/main.c" in out and "/ctx/a.md" in out
    assert "/ctx/build/keep.txt" in out
    assert "app.log" not in out and "/ctx/secret" not in out
    assert "out.o" not in out
    assert "/docs/a.md" in out and "/docs/b.md" in out
    # A source that is ignored is as good as missing.
    write(tmp_path, {"Dockerfile": f"FROM {BASE}\nCOPY app.log /\n"})
    r = build(bnode, tmp_path)
    assert r.rc != 0
    assert "excluded by .dockerignore" in r.err, r


def test_add_unpacks_tar_and_chown(bnode, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in (("pkg/bin/tool", b"#!/bin/sh\necho tool\n"),
                           ("pkg/README", b"readme\n")):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o755
            t.addfile(ti, io.BytesIO(data))
    (tmp_path / "bundle.tar.gz").write_bytes(buf.getvalue())
    write(tmp_path, {
        "Dockerfile": (f"FROM {BASE}\n"
                       "ADD bundle.tar.gz /opt/\n"
                       "ADD --chown=123:456 plain.txt /plain/\n"
                       "COPY --chown=7:8 plain.txt /owned.txt\n"
                       "RUN /opt/pkg/bin/tool && ls -ln /plain/plain.txt "
                       "/owned.txt\n"),
        "plain.txt": "plain\n"})
    out = build_ok(bnode, tmp_path, "-t", "addtar:1")
    assert "tool" in out
    assert " 123 " in out and " 456 " in out, out
    assert " 7 " in out and " 8 " in out, out


def test_parse_error_names_the_line(bnode, tmp_path):
    before = image_ids(bnode)
    write(tmp_path, {"Dockerfile": (f"FROM {BASE}\n"
                                    "RUN true\n"
                                    "\n"
                                    "FROBNICATE now\n")})
    r = build(bnode, tmp_path, "-t", "bad:1")
    assert r.rc != 0
    assert "dockerfile parse error line 4: unknown instruction: FROBNICATE" \
        in r.err, r
    assert image_ids(bnode) == before
    rr = bnode.api("GET", "/images/bad:1/json")
    assert rr.status == 404


def test_failing_step_leaves_no_image(bnode, tmp_path):
    before = image_ids(bnode)
    write(tmp_path, {"Dockerfile": (f"FROM {BASE}\n"
                                    "RUN echo partial > /p\n"
                                    "RUN echo about to fail && exit 3\n"
                                    "CMD [\"true\"]\n")})
    r = build(bnode, tmp_path, "-t", "bad:2")
    assert r.rc != 0
    assert "about to fail" in r.out
    assert ("The command '/bin/sh -c echo about to fail && exit 3' "
            "returned a non-zero code: 3") in r.err, r
    assert bnode.api("GET", "/images/bad:2/json").status == 404
    assert image_ids(bnode) == before
    # An unknown base image is a clear error too.
    write(tmp_path, {"Dockerfile": "FROM no/such:image\nRUN true\n"})
    r = build(bnode, tmp_path)
    assert r.rc != 0 and "failed to resolve base image" in r.err, r
    # A COPY of a missing file.
    write(tmp_path, {"Dockerfile": f"FROM {BASE}\nCOPY missing.txt /\n"})
    r = build(bnode, tmp_path)
    assert r.rc != 0 and "missing.txt" in r.err, r


def test_api_stream_shape(bnode, tmp_path):
    """The raw endpoint, as the docker CLI's legacy builder sees it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = f"FROM {BASE}\nLABEL a=b\n".encode()
        ti = tarfile.TarInfo("Dockerfile")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    q = urllib.parse.urlencode({"t": "api:1", "labels": '{"x":"y"}',
                                "buildargs": '{"UNUSED":"1"}'})
    r = bnode.api("POST", f"/build?{q}", body=buf.getvalue(),
                  headers={"Content-Type": "application/x-tar"})
    assert r.status == 200, r
    msgs = [json.loads(ln) for ln in r.body.decode().splitlines() if ln]
    streams = "".join(m.get("stream", "") for m in msgs)
    assert "Step 1/2 : FROM simple_server" in streams
    assert "Step 2/2 : LABEL a=b" in streams
    assert "[Warning] One or more build-args [UNUSED] were not consumed" \
        in streams
    aux = [m["aux"]["ID"] for m in msgs if "aux" in m]
    assert len(aux) == 1 and aux[0].startswith("sha256:")
    assert "Successfully tagged api:1" in streams
    img = inspect(bnode, "api:1")
    assert img["Id"] == aux[0]
    assert img["Config"]["Labels"] == {"a": "b", "x": "y"}
    # Bad input: a JSON error before any output.
    r = bnode.api("POST", "/build?buildargs=notjson", body=buf.getvalue(),
                  headers={"Content-Type": "application/x-tar"})
    assert r.status == 400 and "buildargs" in r.message
    r = bnode.api("POST", "/build?t=Bad%20Name", body=buf.getvalue(),
                  headers={"Content-Type": "application/x-tar"})
    assert r.status == 400 and "invalid reference format" in r.message
    r = bnode.api("POST", "/build", body=b"not a tar at all",
                  headers={"Content-Type": "application/x-tar"})
    assert r.status == 400, r



def test_cli_file_flag_and_shortcut(bnode, tmp_path):
    ctx = tmp_path / "ctx"
    write(ctx, {"data.txt": "from the context\n"})
    other = tmp_path / "elsewhere" / "Build.file"
    write(other.parent, {"Build.file": (f"FROM {BASE}\n"
                                        "COPY data.txt /data.txt\n"
                                        "RUN cat /data.txt\n")})
    # A Dockerfile outside the context, with the top-level `shoal build`.
    r = bnode.shoal("build", "-f", str(other), "-t", "outside:1", str(ctx),
                    timeout=300)
    assert r.rc == 0, r
    assert "from the context" in r.out
    # One inside it, under another name; -q prints only the id.
    write(ctx, {"sub/Other": f"FROM {BASE}\nLABEL which=inside\n"})
    r = bnode.shoal("image", "build", "-q", "-f", str(ctx / "sub/Other"),
                    str(ctx), timeout=300)
    assert r.rc == 0, r
    img = r.out.strip()
    assert img.startswith("sha256:") and "\n" not in img, r
    assert inspect(bnode, img)["Config"]["Labels"] == {"which": "inside"}
    r = bnode.shoal("build", str(tmp_path / "nope"))
    assert r.rc != 0 and "not found" in r.err



def test_deletions_become_whiteouts(bnode, tmp_path):
    """A RUN that deletes files of a lower layer, and replaces a directory,
    yields a layer with a whiteout and an opaque directory: the final image
    no longer shows them."""
    write(tmp_path, {"Dockerfile": (
        f"FROM {BASE}\n"
        "RUN echo gone > /gone.txt && mkdir -p /d/sub && touch /d/old "
        "/d/sub/deep\n"
        "RUN rm /gone.txt && rm -rf /d && mkdir /d && touch /d/new\n"
        "CMD [\"sh\", \"-c\", \"ls /gone.txt; find /d | sort\"]\n")})
    build_ok(bnode, tmp_path, "-t", "wh:1")
    logs = run_in(bnode, "wh:1")
    assert "/d/new" in logs, logs
    assert "/d/old" not in logs and "deep" not in logs, logs
    assert "No such file" in logs or "can't access" in logs or \
        "not found" in logs.lower(), logs
    # The layer tar as the store kept it: Docker's whiteout names.
    img = inspect(bnode, "wh:1")
    top = img["RootFS"]["Layers"][-1]
    found = None
    for lj in Path(bnode.data_root, "images", "layers").glob("*/layer.json"):
        meta = json.loads(lj.read_text())
        if meta.get("DiffID") == top:
            found = lj.parent
    assert found, f"layer {top} not in the store"
    tars = [p for p in found.iterdir() if p.name.startswith("blob")]
    assert tars, list(found.iterdir())
    with tarfile.open(tars[0]) as t:
        names = set(t.getnames())
    assert ".wh.gone.txt" in names, names
    assert "d/.wh..wh..opq" in names, names
    # The runtime's mount points are not the RUN's work.
    assert not names & {"etc/hosts", "etc/resolv.conf", "etc/hostname",
                        "proc", "sys", "dev", "etc"}, names



def test_client_gone_cancels_the_build(bnode, tmp_path):
    """The client hangs up mid-RUN: the step's container is killed, the
    scratch space goes, no image is made, and the daemon builds on."""
    write(tmp_path, {"Dockerfile": (f"FROM {BASE}\n"
                                    "RUN echo started && sleep 1237\n")})
    p = subprocess.Popen([str(bnode.shoal_bin), "-H", f"unix://{bnode.sock}",
                          "build", "-t", "cancel:1", str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    try:
        seen = ""
        for line in p.stdout:
            seen += line
            if "started" in line:
                break
        assert "started" in seen, seen
    finally:
        p.kill()
        p.wait()
    scratch = Path(bnode.data_root, "build", "tmp")

    def cleaned():
        left = list(scratch.iterdir()) if scratch.exists() else []
        assert not left, f"build scratch left: {left}"
        r = bnode.exec("sh", "-c", "ps -eo args | grep -c '[s]leep 1237'")
        assert r.out.strip() == "0", r
        return True
    wait_for(cleaned, 30, "the cancelled build to clean up")
    assert bnode.api("GET", "/images/cancel:1/json").status == 404
    write(tmp_path, {"Dockerfile": f"FROM {BASE}\nRUN echo again\n"})
    assert "again" in build_ok(bnode, tmp_path, "-t", "cancel:2")



def test_onbuild_triggers(bnode, tmp_path):
    parent = tmp_path / "parent"
    write(parent, {"Dockerfile": (f"FROM {BASE}\n"
                                  "ONBUILD COPY app.txt /app/app.txt\n"
                                  "ONBUILD RUN cat /app/app.txt\n")})
    build_ok(bnode, parent, "-t", "onbuild-base")
    assert inspect(bnode, "onbuild-base")["Config"]["OnBuild"] == [
        "COPY app.txt /app/app.txt", "RUN cat /app/app.txt"]
    child = tmp_path / "child"
    write(child, {"Dockerfile": "FROM onbuild-base\nLABEL kind=child\n",
                  "app.txt": "the child's app\n"})
    out = build_ok(bnode, child, "-t", "onbuild-child")
    assert "# Executing 2 build triggers" in out
    assert "the child's app" in out
    assert not inspect(bnode, "onbuild-child")["Config"].get("OnBuild")


# ------------------------------------------------------------------ the seed
# Builds the chapter's own Dockerfile (examples/simple_server, FROM python:3)
# on the debootstrapped base image and runs it as a service. The base images
# are built once per machine (cached in /var/cache/shoal/base-images); this
# test is skipped only when that cache is empty and debootstrap has no
# network to the Debian mirror.

BASE_CACHE = os.environ.get("SHOAL_BASE_CACHE",
                            "/var/cache/shoal/base-images")


def base_images_into(node, *names):
    script = REPO / "scripts" / "base-images"
    cached = Path(BASE_CACHE).is_dir() and any(
        p.name.startswith("python-3-") for p in Path(BASE_CACHE).iterdir())
    if not shutil.which("debootstrap") and not cached:
        pytest.skip("SEED BASE IMAGES: debootstrap is not installed "
                    "(scripts/setup-deps)")
    r = run([str(script), "--socket", node.sock, *names], timeout=1500,
            env=dict(os.environ, SHOAL=str(node.shoal_bin)))
    if r.rc != 0 and "no network" in r.err and not cached:
        pytest.skip("SEED BASE IMAGES: debootstrap could not reach the "
                    f"Debian mirror, so python:3 cannot be built here:\n"
                    f"{r.err[-1500:]}")
    assert r.rc == 0, f"scripts/base-images failed:\n{r}"
    return r


def test_seed_simple_server_on_base_images(swarm_node):
    node = swarm_node
    base_images_into(node, "python:3")
    py = inspect(node, "python:3")
    assert py["Config"]["Cmd"] == ["python3"]
    out = build_ok(node, REPO / "examples" / "simple_server", "-t",
                   "simple_server")
    assert "Step 1/6 : FROM python:3" in out
    assert "Successfully tagged simple_server:latest" in out
    cfg = inspect(node, "simple_server")["Config"]
    assert cfg["WorkingDir"] == "/srv/www/html"
    assert "8000/tcp" in cfg["ExposedPorts"]
    assert cfg["Cmd"] == ["python3", "-m", "http.server"]

    node.create_service("simple-server",
                        opts=["-p", "8000:8000", "--stop-grace-period", "1s"],
                        image="simple_server")

    def served():
        r = node.exec("curl", "-s", "--max-time", "3",
                      "http://127.0.0.1:8000/test.txt", timeout=10)
        assert r.out == "Test file content\n", r
        return True
    wait_for(served, 60, "http://127.0.0.1:8000/test.txt to answer")

    # Built again: every step from the cache.
    out = build_ok(node, REPO / "examples" / "simple_server", "-t",
                   "simple_server:again")
    assert out.count("Using cache") == 5, out
    assert inspect(node, "simple_server:again")["Id"] == \
        inspect(node, "simple_server")["Id"]


def test_base_images_nginx_and_redis(swarm_node, tmp_path):
    """nginx:latest serves its default site from conf.d and renders
    templates with envsubst; redis:latest answers PING in /data."""
    node = swarm_node
    base_images_into(node, "nginx:latest", "redis:latest")
    write(tmp_path, {"Dockerfile": (
        "FROM nginx:latest\n"
        "RUN test -f /etc/nginx/conf.d/default.conf && command -v envsubst "
        "&& openssl version\n"
        "COPY hello.template /etc/nginx/templates/hello.template\n"
        "CMD [\"/bin/sh\", \"-c\", \"envsubst < /etc/nginx/templates/"
        "hello.template > /usr/share/nginx/html/hello.txt && "
        "exec nginx -g 'daemon off;'\"]\n"),
        "hello.template": "hello from ${HOSTNAME_GREETING}\n"})
    build_ok(node, tmp_path, "-t", "web:1")
    node.create_service("web", opts=["-p", "8081:80", "-e",
                                      "HOSTNAME_GREETING=nginx",
                                      "--stop-grace-period", "1s"],
                        image="web:1")

    def served(path, want):
        def check():
            r = node.exec("curl", "-s", "--max-time", "3",
                          f"http://127.0.0.1:8081{path}", timeout=10)
            assert want in r.out, r
            return True
        return check
    wait_for(served("/", "Welcome to nginx!"), 60, "nginx's default site")
    wait_for(served("/hello.txt", "hello from nginx"), 30, "the template")

    logs = run_in(node, "redis:latest", "sh", "-c",
                  "redis-server --daemonize yes && sleep 0.5 && "
                  "redis-cli ping && pwd")
    assert "PONG" in logs and "/data" in logs, logs
