# SPDX-License-Identifier: Apache-2.0
"""A minimal registry token service for the tests (Docker's token auth:
GET /token?service=&scope=... with Basic credentials answers {"token": a
JWT}), so the Bearer path runs against the real docker-registry. RS256
JWTs carry the signing certificate in x5c; the registry trusts that
certificate (its rootcertbundle). Signing is `openssl dgst -sha256 -sign`.

    python3 tokenserver.py PORT KEY.pem CERT.pem ISSUER USER:PASS
"""

import base64
import http.server
import json
import subprocess
import sys
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    port, key, cert, issuer, cred = sys.argv[1:6]
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                         capture_output=True, check=True).stdout
    x5c = base64.b64encode(der).decode()

    def sign(claims):
        head = b64url(json.dumps({"typ": "JWT", "alg": "RS256",
                                  "x5c": [x5c]}).encode())
        body = b64url(json.dumps(claims).encode())
        msg = f"{head}.{body}".encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                             input=msg, capture_output=True,
                             check=True).stdout
        return f"{head}.{body}.{b64url(sig)}"

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(u.query)
            auth = self.headers.get("Authorization", "")
            user = None
            if auth.startswith("Basic "):
                up = base64.b64decode(auth[6:]).decode(errors="replace")
                if up == cred:
                    user = up.split(":", 1)[0]
                else:
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"details":"incorrect username or '
                                     b'password"}')
                    return
            access = []
            for s in q.get("scope", []):
                parts = s.split(":")
                if len(parts) >= 3 and parts[0] == "repository" and user:
                    access.append({"type": "repository",
                                   "name": ":".join(parts[1:-1]),
                                   "actions": parts[-1].split(",")})
            now = int(time.time())
            tok = sign({"iss": issuer, "sub": user or "",
                        "aud": q.get("service", [""])[0],
                        "exp": now + 300, "nbf": now - 10, "iat": now,
                        "jti": str(now) + str(id(self)), "access": access})
            body = json.dumps({"token": tok, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), H)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
