# SPDX-License-Identifier: Apache-2.0
"""The registry client against a real registry (Debian's docker-registry in
the node's namespace): push and pull round trips with digests checked on
both sides, a corrupted blob, authentication (htpasswd) with the right and
a wrong password, save/load, tag and /distribution."""

import hashlib
import io
import json
import tarfile

import pytest

from registryfix import Registry
from shoalnode import wait_for


@pytest.fixture
def registry(loaded_node):
    r = Registry(loaded_node).start()
    yield r
    r.stop()


def stream_lines(resp):
    return [json.loads(x) for x in resp.body.decode().splitlines()
            if x.strip()]


def image_id(node, ref):
    r = node.api("GET", f"/images/{ref}/json")
    return r.json()["Id"] if r.status == 200 else None


def test_push_pull_round_trip(loaded_node, registry):
    n = loaded_node
    name = f"{registry.host}/shoal/simple"
    n.shoal_ok("image", "tag", "simple_server:latest", f"{name}:v1")
    local_id = image_id(n, f"{name}:v1")
    assert local_id == image_id(n, "simple_server:latest")

    out = n.shoal_ok("image", "push", f"{name}:v1")
    assert f"The push refers to repository [{name}]" in out
    assert "Pushed" in out
    digest = out.split("digest: ")[1].split()[0]
    assert digest.startswith("sha256:")

    # The registry has the manifest under that digest, and its bytes hash
    # to it.
    man = registry.curl(
        "-H", "Accept: application/vnd.docker.distribution.manifest.v2+json,"
        "application/vnd.oci.image.manifest.v1+json",
        f"http://{registry.host}/v2/shoal/simple/manifests/v1")
    assert "sha256:" + hashlib.sha256(man.encode()).hexdigest() == digest
    m = json.loads(man)
    assert m["config"]["digest"] == local_id
    info = n.api("GET", f"/images/{name}:v1/json").json()
    assert f"{name}@{digest}" in info["RepoDigests"]

    # A second push skips every blob.
    again = n.shoal_ok("image", "push", f"{name}:v1")
    assert "Layer already exists" in again and "Pushed" not in again

    # Another repository of the same registry: the blobs are mounted from
    # the one the image is known in, not uploaded again.
    other = f"{registry.host}/shoal/other:1"
    n.shoal_ok("image", "tag", f"{name}:v1", other)
    out = n.shoal_ok("image", "push", other)
    assert "Mounted from shoal/simple" in out and "Pushed" not in out, out
    n.shoal_ok("image", "rm", other)

    # Pull into an empty store: remove (by id: every name and layer goes),
    # pull, same id and digest.
    n.shoal_ok("image", "rm", "-f", local_id)
    assert image_id(n, f"{name}:v1") is None
    r = n.api("POST", f"/images/create?fromImage={name}&tag=v1")
    assert r.status == 200, r
    msgs = stream_lines(r)
    statuses = [m.get("status", "") for m in msgs]
    assert any(s == "Pulling fs layer" for s in statuses), msgs
    assert any(s == "Pull complete" for s in statuses), msgs
    assert any(s.startswith("Downloading") or s == "Download complete"
               for s in statuses), msgs
    assert f"Digest: {digest}" in statuses
    assert f"Status: Downloaded newer image for {name}:v1" in statuses
    assert not any("error" in m for m in msgs), msgs
    assert image_id(n, f"{name}:v1") == local_id
    info = n.api("GET", f"/images/{name}:v1/json").json()
    assert f"{name}@{digest}" in info["RepoDigests"]

    # Pulled again: up to date; by digest: the same image.
    out = n.shoal_ok("image", "pull", f"{name}:v1")
    assert f"Status: Image is up to date for {name}:v1" in out
    n.shoal_ok("image", "pull", f"{name}@{digest}")
    assert image_id(n, f"{name}@{digest}") == local_id

    # The pulled image runs.
    n.shoal_ok("service", "create", "--name", "pulled", f"{name}:v1",
               "httpd", "-f", "-p", "8000", "-h", "/www")
    wait_for(lambda: "Running" in n.shoal_ok("service", "ps", "pulled"),
             timeout=60, what="the pulled image to run")

    # /distribution: the registry's digest and our platform.
    d = n.api("GET", f"/distribution/{name}:v1/json")
    assert d.status == 200, d
    dj = d.json()
    assert dj["Descriptor"]["digest"] == digest
    assert dj["Platforms"][0]["os"] == "linux"


def test_pull_unknown_and_bad_names(loaded_node, registry):
    n = loaded_node
    r = n.api("POST", f"/images/create?fromImage={registry.host}/nope&tag=x")
    assert r.status == 404, r
    assert "not found" in r.message and "manifest unknown" in r.message
    r = n.api("POST", "/images/create?fromImage=Bad/Name&tag=x")
    assert r.status == 400, r
    rc, out, err = n.shoal("image", "pull", f"{registry.host}/nope:x")
    assert rc != 0 and "manifest unknown" in err


def test_corrupt_blob_stores_nothing(loaded_node, registry):
    n = loaded_node
    name = f"{registry.host}/corrupt/img"
    n.shoal_ok("image", "tag", "simple_server:latest", f"{name}:1")
    n.shoal_ok("image", "push", f"{name}:1")
    man = json.loads(registry.curl(
        "-H", "Accept: application/vnd.docker.distribution.manifest.v2+json,"
        "application/vnd.oci.image.manifest.v1+json",
        f"http://{registry.host}/v2/corrupt/img/manifests/1"))
    layer = man["layers"][-1]["digest"]
    path = registry.blob_path(layer)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    path.write_bytes(bytes(data))
    n.shoal_ok("image", "rm", "-f", image_id(n, f"{name}:1"))
    before = n.api("GET", "/images/json").json()
    r = n.api("POST", f"/images/create?fromImage={name}&tag=1")
    msgs = stream_lines(r) if r.status == 200 else []
    errors = [m["error"] for m in msgs if "error" in m]
    text = " ".join(errors) if errors else r.message
    assert "verification failed" in text and layer in text, (r, msgs)
    assert image_id(n, f"{name}:1") is None
    assert n.api("GET", "/images/json").json() == before
    # Nothing left in the store's work space either.
    tmp = n.exec("sh", "-c", f"ls -A {n.data_root}/images/tmp")
    assert tmp.out.strip() == "", tmp


def test_save_and_load(loaded_node):
    n = loaded_node
    r = n.api("GET", "/images/simple_server:latest/get")
    assert r.status == 200, r
    tf = tarfile.open(fileobj=io.BytesIO(r.body))
    names = tf.getnames()
    assert "manifest.json" in names and "index.json" in names
    man = json.loads(tf.extractfile("manifest.json").read())
    assert man[0]["RepoTags"] == ["simple_server:latest"]
    old = image_id(n, "simple_server:latest")
    n.shoal_ok("image", "rm", "simple_server:latest")
    lr = n.api("POST", "/images/load", body=r.body,
               headers={"Content-Type": "application/x-tar"})
    assert lr.status == 200, lr
    assert image_id(n, "simple_server:latest") == old
    r = n.api("GET", "/images/get?names=simple_server:latest&names=" + old)
    assert r.status == 200
    r = n.api("GET", "/images/nosuch:1/get")
    assert r.status == 404


def test_tag_errors(loaded_node):
    n = loaded_node
    r = n.api("POST", "/images/nosuch/tag?repo=x&tag=1")
    assert r.status == 404
    r = n.api("POST", "/images/simple_server/tag?repo=Bad&tag=1")
    assert r.status == 400
    r = n.api("POST", "/images/simple_server/tag?repo=x&tag=2")
    assert r.status == 201
    assert image_id(n, "x:2") == image_id(n, "simple_server")


@pytest.fixture
def auth_registry(loaded_node):
    r = Registry(loaded_node, users={"alice": "s3cret"}).start()
    yield r
    r.stop()


def test_auth(loaded_node, auth_registry):
    n = loaded_node
    reg = auth_registry
    name = f"{reg.host}/priv/img:1"
    n.shoal_ok("image", "tag", "simple_server:latest", name)
    # No credentials: a clear error.
    rc, out, err = n.shoal("image", "push", name)
    assert rc != 0
    assert "no basic auth credentials" in err or "unauthorized" in err, err
    # Wrong password: login fails, nothing stored.
    home = n.dir / "home"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home)}
    rc, out, err = n.shoal("login", "-u", "alice", "-p", "wrong", reg.host,
                           env=env)
    assert rc != 0 and "unauthorized" in err, err
    assert not (home / ".shoal" / "config.json").exists() or \
        reg.host not in (home / ".shoal" / "config.json").read_text()
    # Right password: stored 0600, then push and pull work.
    out = n.shoal_ok("login", "-u", "alice", "--password-stdin", reg.host,
                     input="s3cret\n", env=env)
    assert "Login Succeeded" in out
    cfg = home / ".shoal" / "config.json"
    assert oct(cfg.stat().st_mode & 0o777) == "0o600"
    assert reg.host in json.loads(cfg.read_text())["auths"]
    n.shoal_ok("image", "push", name, env=env)
    n.shoal_ok("image", "rm", name)
    n.shoal_ok("image", "pull", name, env=env)
    assert image_id(n, name) == image_id(n, "simple_server:latest")
    # A wrong password in X-Registry-Auth: the registry's refusal.
    import base64
    bad = base64.urlsafe_b64encode(json.dumps(
        {"username": "alice", "password": "nope"}).encode()).decode()
    r = n.api("POST", f"/images/create?fromImage={reg.host}/priv/img&tag=1",
              headers={"X-Registry-Auth": bad})
    assert r.status != 200 or any("error" in m for m in stream_lines(r))
    text = r.message if r.status != 200 else json.dumps(stream_lines(r))
    assert "unauthorized" in text, text
    out = n.shoal_ok("logout", reg.host, env=env)
    assert reg.host not in json.loads(cfg.read_text()).get("auths", {})


def task_states(n, service):
    return [(t["Status"]["State"], t["Status"].get("Err", ""))
            for t in n.tasks(service)]


def test_service_pulls_missing_image(loaded_node, registry):
    """The node lacks the image: its task pulls it (state preparing) and
    runs; an image the registry lacks rejects the task with the
    registry's error."""
    n = loaded_node
    name = f"{registry.host}/svc/img:1"
    n.shoal_ok("image", "tag", "simple_server:latest", name)
    out = n.shoal_ok("image", "push", name)
    digest = out.split("digest: ")[1].split()[0]
    n.shoal_ok("image", "rm", "-f", image_id(n, name))
    assert image_id(n, name) is None

    n.create_service("pulls", image=name,
                     cmd=["httpd", "-f", "-p", "8000", "-h", "/www"])
    spec = n.api("GET", "/services/pulls").json()["Spec"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == \
        f"{name}@{digest}"
    wait_for(lambda: n.running_tasks("pulls"), timeout=60,
             what="the task to run on the pulled image")
    assert image_id(n, f"{registry.host}/svc/img@{digest}") is not None
    assert "pulling image" in n.log_tail(200)

    n.create_service("nopull", image=f"{registry.host}/svc/missing:1",
                     cmd=["true"])
    wait_for(lambda: any(s == "rejected" and "manifest unknown" in e
                         for s, e in task_states(n, "nopull")),
             timeout=60, what="the task rejected with the registry's error")


def test_with_registry_auth(loaded_node, auth_registry):
    n = loaded_node
    reg = auth_registry
    name = f"{reg.host}/priv/svc:1"
    home = n.dir / "home2"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home)}
    n.shoal_ok("login", "-u", "alice", "--password-stdin", reg.host,
               input="s3cret\n", env=env)
    n.shoal_ok("image", "tag", "simple_server:latest", name)
    n.shoal_ok("image", "push", name, env=env)
    n.shoal_ok("image", "rm", "-f", image_id(n, name))

    # Without the credentials the node cannot pull: rejected, and why.
    n.shoal_ok("service", "create", "-d", "--name", "noauth", name, "true",
               env=env)
    wait_for(lambda: any(s == "rejected" and ("unauthorized" in e or
                                              "credentials" in e)
                         for s, e in task_states(n, "noauth")),
             timeout=60, what="the task rejected for lack of credentials")
    # With them: pulled and running; the credentials never show.
    n.shoal_ok("service", "create", "-d", "--with-registry-auth", "--name",
               "withauth", name, "httpd", "-f", "-p", "8000", "-h", "/www",
               env=env)
    wait_for(lambda: n.running_tasks("withauth"), timeout=60,
             what="the task to run with the service's credentials")
    body = n.api("GET", "/services/withauth").body.decode()
    assert "PullOptions" not in body and "s3cret" not in body
    tasks = n.api("GET", "/tasks").body.decode()
    assert "PullOptions" not in tasks


def oci_archive(path, layers):
    """An OCI image-layout archive named zst:1 with the given layers:
    (media type suffix, compress function) pairs over small tars."""
    import gzip
    import subprocess
    blobs, descs, diff_ids = {}, [], []
    for i, kind in enumerate(layers):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as t:
            data = (f"layer {i} {kind}\n" * 1000).encode()
            ti = tarfile.TarInfo(f"f{i}.txt")
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        tar = raw.getvalue()
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        if kind == "zstd":
            blob = subprocess.run(["zstd", "-q", "-c"], input=tar,
                                  capture_output=True, check=True).stdout
            mt = "application/vnd.oci.image.layer.v1.tar+zstd"
        elif kind == "gzip":
            blob = gzip.compress(tar)
            mt = "application/vnd.oci.image.layer.v1.tar+gzip"
        else:
            blob = tar
            mt = "application/vnd.oci.image.layer.v1.tar"
        d = "sha256:" + hashlib.sha256(blob).hexdigest()
        blobs[d] = blob
        descs.append({"mediaType": mt, "digest": d, "size": len(blob)})
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "config": {},
                      "rootfs": {"type": "layers",
                                 "diff_ids": diff_ids}}).encode()
    cd = "sha256:" + hashlib.sha256(cfg).hexdigest()
    blobs[cd] = cfg
    man = json.dumps({"schemaVersion": 2,
                      "mediaType": "application/vnd.oci.image.manifest.v1"
                      "+json",
                      "config": {"mediaType": "application/vnd.oci.image."
                                 "config.v1+json", "digest": cd,
                                 "size": len(cfg)},
                      "layers": descs}).encode()
    md = "sha256:" + hashlib.sha256(man).hexdigest()
    blobs[md] = man
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": md, "size": len(man),
        "annotations": {"io.containerd.image.name":
                        "docker.io/library/zst:1"}}]}).encode()
    with tarfile.open(path, "w") as out:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            out.addfile(ti, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", index)
        for d, b in blobs.items():
            add(f"blobs/sha256/{d.split(':')[1]}", b)
    return cd


def test_zstd_gzip_plain_layers(loaded_node, registry, tmp_path):
    """An OCI image of a zstd, a gzip and an uncompressed layer: pushed
    as an OCI manifest with those media types, pulled back to the same
    image id (every diff id checked as it unpacks)."""
    import shutil as sh
    if not sh.which("zstd"):
        pytest.skip("zstd not installed (scripts/setup-deps)")
    n = loaded_node
    arc = tmp_path / "zst.tar"
    cid = oci_archive(arc, ["zstd", "gzip", "plain"])
    n.shoal_ok("image", "load", "-i", str(arc))
    assert image_id(n, "zst:1") == cid
    name = f"{registry.host}/oci/zst:1"
    n.shoal_ok("image", "tag", "zst:1", name)
    n.shoal_ok("image", "push", name)
    man = json.loads(registry.curl(
        "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
        f"http://{registry.host}/v2/oci/zst/manifests/1"))
    assert man["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert [x["mediaType"].rsplit(".", 1)[1] for x in man["layers"]] == \
        ["tar+zstd", "tar+gzip", "tar"], man
    n.shoal_ok("image", "rm", "-f", cid)
    out = n.shoal_ok("image", "pull", name)
    assert "Pull complete" in out
    assert image_id(n, name) == cid


@pytest.fixture
def token_registry(loaded_node):
    r = Registry(loaded_node, users={"carol": "t0ken"}, token=True).start()
    yield r
    r.stop()


def test_bearer_token_auth(loaded_node, token_registry):
    """Docker's token auth (as Docker Hub does it): the registry's 401
    names a realm, the client gets a JWT there with Basic credentials for
    its scopes and retries; wrong credentials fail at the token service."""
    n = loaded_node
    reg = token_registry
    name = f"{reg.host}/tok/img:1"
    n.shoal_ok("image", "tag", "simple_server:latest", name)
    home = n.dir / "home3"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home)}
    rc, out, err = n.shoal("image", "push", name, env=env)
    assert rc != 0 and ("unauthorized" in err or "denied" in err), err
    rc, out, err = n.shoal("login", "-u", "carol", "-p", "nope", reg.host,
                           env=env)
    assert rc != 0 and "incorrect username or password" in err, err
    n.shoal_ok("login", "-u", "carol", "--password-stdin", reg.host,
               input="t0ken\n", env=env)
    out = n.shoal_ok("image", "push", name, env=env)
    digest = out.split("digest: ")[1].split()[0]
    n.shoal_ok("image", "rm", "-f", image_id(n, name))
    n.shoal_ok("image", "pull", name, env=env)
    assert image_id(n, f"{reg.host}/tok/img@{digest}") is not None
