#!/usr/bin/python3
"""https_server.py - the HTTPS test server of the reporter's tests.

Debian's Python http.server with ssl, on ADDR:443 with a certificate from
the test's own CA.  It serves MTA-STS policies by Host header (valid,
malformed, redirecting, too large, slow, mode none) and takes POSTed
reports:
  /ok/NAME     saves the body as DIR/NAME.N.gz, answers 200
  /flaky/NAME  503 until DIR/flaky.ok exists, then saves and answers 201
  /slow/NAME   saves the body, waits 1.5 s, then answers 200
Every POST is logged to DIR/posts.log as "path content-type length".
usage: https_server.py ADDR CERT KEY DIR
"""
import http.server
import os
import ssl
import sys
import threading
import time

ADDR, CERT, KEY, DIR = sys.argv[1:5]
LOCK = threading.Lock()

GOOD = (b"version: STSv1\r\nmode: testing\r\nmx: mx.sts.test\r\n"
        b"mx: *.backup.sts.test\r\nmax_age: 86400\r\n")
POLICIES = {
    "mta-sts.sts.test": GOOD,
    "mta-sts.stsbad.test": b"version: STSv1\nmode: enforce\nmax_age: 5\n",
    "mta-sts.stsnone.test": b"version: STSv1\nmode: none\nmax_age: 5\n",
    "mta-sts.stsbig.test": GOOD + b"x-pad: " + b"a" * 70000 + b"\n",
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        if self.path != "/.well-known/mta-sts.txt":
            return self.reply(404)
        if host == "mta-sts.stsredir.test":
            return self.reply(301, headers=[(
                "Location",
                "https://mta-sts.sts.test/.well-known/mta-sts.txt")])
        if host == "mta-sts.stsslow.test":
            time.sleep(5)
            return self.reply(200, GOOD)
        if host in POLICIES:
            return self.reply(200, POLICIES[host],
                              [("Content-Type", "text/plain")])
        return self.reply(404)

    def save(self, name, body):
        with LOCK:
            n = 1
            while os.path.exists(os.path.join(DIR, "%s.%d.gz" % (name, n))):
                n += 1
            path = os.path.join(DIR, "%s.%d.gz" % (name, n))
            with open(path + ".tmp", "wb") as f:
                f.write(body)
            os.rename(path + ".tmp", path)
            with open(os.path.join(DIR, "posts.log"), "a") as f:
                f.write("%s %s %d\n" % (self.path,
                        self.headers.get("Content-Type"), len(body)))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        parts = self.path.strip("/").split("/")
        if len(parts) != 2:
            return self.reply(404)
        kind, name = parts
        if kind == "ok":
            self.save(name, body)
            return self.reply(200)
        if kind == "flaky":
            if not os.path.exists(os.path.join(DIR, "flaky.ok")):
                return self.reply(503)
            self.save(name, body)
            return self.reply(201)
        if kind == "slow":
            self.save(name, body)
            time.sleep(1.5)
            return self.reply(200)
        return self.reply(404)


srv = http.server.ThreadingHTTPServer((ADDR, 443), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.daemon_threads = True
print("ready", flush=True)
srv.serve_forever()
