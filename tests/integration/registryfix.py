# SPDX-License-Identifier: Apache-2.0
"""A real registry for the tests: Debian's docker-registry (Docker
Distribution) started inside a node's network namespace, listening on
127.0.0.1 (or every address, for a cluster) at a free port, with its
storage in a temporary directory and, optionally, htpasswd auth. Killed
and removed at the end. No mock: what shoal speaks to is what Docker
speaks to."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from shoalnode import TMP_BASE, run, scaled, wait_for

REGISTRY_BIN = "/usr/bin/docker-registry"


class Registry:
    def __init__(self, node, port=5000, addr="127.0.0.1", users=None,
                 token=False):
        if not os.access(REGISTRY_BIN, os.X_OK):
            pytest.skip("docker-registry not installed (scripts/setup-deps)")
        self.node = node
        self.port = port
        self.addr = addr
        self.dir = Path(tempfile.mkdtemp(prefix="shoal-registry-",
                                         dir=TMP_BASE))
        self.storage = self.dir / "storage"
        self.storage.mkdir()
        self.users = users or {}
        self.token = token  # Bearer tokens from tokenserver.py, not Basic
        self.token_port = port + 1
        self.proc = None
        self.token_proc = None

    @property
    def host(self):
        """host:port as an image name starts (loopback form)."""
        return f"127.0.0.1:{self.port}"

    def start(self):
        cfg = [
            "version: 0.1",
            "log:",
            "  level: warn",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {self.storage}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: {self.addr}:{self.port}",
        ]
        if self.token:
            self._start_token_server()
            cfg += ["auth:", "  token:",
                    f"    realm: http://127.0.0.1:{self.token_port}/token",
                    "    service: shoal-test-registry",
                    "    issuer: shoal-test-issuer",
                    f"    rootcertbundle: {self.dir / 'token.crt'}"]
        elif self.users:
            htpasswd = self.dir / "htpasswd"
            for i, (u, p) in enumerate(self.users.items()):
                r = run(["htpasswd", "-Bb" + ("c" if i == 0 else ""),
                         htpasswd, u, p], check=True)
                assert r.rc == 0
            cfg += ["auth:", "  htpasswd:", "    realm: shoal-test",
                    f"    path: {htpasswd}"]
        (self.dir / "config.yml").write_text("\n".join(cfg) + "\n")
        self.log = open(self.dir / "registry.log", "wb")
        self.proc = subprocess.Popen(
            self.node.nsenter() + [REGISTRY_BIN, "serve",
                                   str(self.dir / "config.yml")],
            stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for(self._answers, timeout=20, what="the registry to listen")
        return self

    def _start_token_server(self):
        key, crt = self.dir / "token.key", self.dir / "token.crt"
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", key, "-out", crt, "-days", "1", "-subj",
             "/CN=shoal-test-token"], check=True)
        (u, p), = self.users.items()
        here = Path(__file__).resolve().parent
        self.token_log = open(self.dir / "token.log", "wb")
        self.token_proc = subprocess.Popen(
            self.node.nsenter() + ["/usr/bin/python3",
                                   str(here / "tokenserver.py"),
                                   str(self.token_port), str(key), str(crt),
                                   "shoal-test-issuer", f"{u}:{p}"],
            stdout=subprocess.PIPE, stderr=self.token_log,
            stdin=subprocess.DEVNULL, start_new_session=True)
        line = self.token_proc.stdout.readline()
        assert line.strip() == b"ready", \
            f"token server: {line!r} {(self.dir / 'token.log').read_text()}"

    def _answers(self):
        assert self.proc.poll() is None, \
            f"docker-registry exited: {self.log_text()}"
        r = self.node.exec("curl", "-s", "-o", "/dev/null", "-w",
                           "%{http_code}",
                           f"http://127.0.0.1:{self.port}/v2/", timeout=10)
        return r.out.strip() in ("200", "401")

    def log_text(self):
        try:
            return (self.dir / "registry.log").read_text(errors="replace")
        except OSError:
            return ""

    def blob_path(self, digest):
        hexd = digest.split(":", 1)[1]
        return (self.storage / "docker/registry/v2/blobs/sha256" /
                hexd[:2] / hexd / "data")

    def curl(self, *args):
        """curl inside the node against the registry; returns stdout."""
        r = self.node.exec("curl", "-sf", *args, timeout=30)
        assert r.rc == 0, f"curl {args}: {r}"
        return r.out

    def stop(self):
        for p in (self.proc, self.token_proc):
            if p and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=scaled(10))
        self.proc = self.token_proc = None
        if getattr(self, "token_log", None):
            self.token_log.close()
            self.token_log = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None
        shutil.rmtree(self.dir, ignore_errors=True)
