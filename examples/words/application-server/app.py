#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The words application server: GET / lists the words and a form, POST /new
adds one and redirects to /. Every request reads the database (Redis at
$DB_HOST:6379), so each replica sees every write. Python's standard library
only: the few Redis commands it needs are spoken directly (RESP)."""

import html
import os
import socket
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DB_HOST = os.environ.get("DB_HOST", "local-database")
PORT = int(os.environ.get("PORT", "8000"))
KEY = "words"


def resp_encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def resp_read(f):
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("database closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [resp_read(f) for _ in range(n)]
    raise RuntimeError(f"unexpected database reply {line!r}")


def db(*args):
    """One command on a fresh connection (replicas keep no state)."""
    with socket.create_connection((DB_HOST, 6379), timeout=5) as s:
        s.sendall(resp_encode(args))
        with s.makefile("rb") as f:
            return resp_read(f)


PAGE = """<!doctype html>
<html><head><title>words</title></head>
<body>
<h1>Words</h1>
<ul>
{items}
</ul>
<form method="post" action="/new">
<input name="word" autofocus> <button type="submit">Add</button>
</form>
<p><small>served by {host}</small></p>
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    server_version = "words/1"

    def reply(self, status, body, ctype="text/html; charset=utf-8",
              headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path not in ("/", "/index.html"):
            return self.reply(404, "not found\n", "text/plain")
        try:
            words = db("LRANGE", KEY, "0", "-1") or []
        except (OSError, RuntimeError) as e:
            return self.reply(503, f"database unavailable: {e}\n",
                              "text/plain")
        items = "\n".join(f"<li>{html.escape(w)}</li>" for w in words)
        self.reply(200, PAGE.format(items=items,
                                    host=html.escape(socket.gethostname())))

    def do_POST(self):
        if self.path != "/new":
            return self.reply(404, "not found\n", "text/plain")
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        word = (form.get("word") or [""])[0].strip()
        if not word:
            return self.reply(400, "no word given\n", "text/plain")
        try:
            db("RPUSH", KEY, word)
        except (OSError, RuntimeError) as e:
            return self.reply(503, f"database unavailable: {e}\n",
                              "text/plain")
        self.reply(303, "", headers=[("Location", "/")])

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


if __name__ == "__main__":
    ThreadingHTTPServer(("", PORT), Handler).serve_forever()
