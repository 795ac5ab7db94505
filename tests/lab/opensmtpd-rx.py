#!/usr/bin/python3
# opensmtpd-rx.py - the receiving MTAs of the OpenSMTPD lab
#
# Usage: opensmtpd-rx.py PORT ADDR=CERT:KEY|ADDR=none ...
#
# A minimal SMTP sink (RFC 5321 commands EHLO/HELO, STARTTLS (RFC 3207),
# MAIL, RCPT, DATA, RSET, NOOP, QUIT) on each ADDR:PORT; "none" offers
# no STARTTLS.  Messages are accepted and discarded.  It stands in for
# receiving OpenSMTPD instances because Debian 12's smtpd 6.8.0p2 cannot
# complete a server-side TLS handshake with OpenSSL 3 (upstream issues
# #1171 and #1239: "SSL routines::EVP lib"); the sending side, which is
# what the lab tests, does not use its private key and works.
# Writes "ready" on stdout once every socket listens; SIGTERM ends it.
import signal
import socket
import socketserver
import ssl
import sys
import threading


class Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        name = self.server.hostname
        ctx = self.server.ctx
        self.reply("220 %s ESMTP lab" % name)
        tls = False
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.decode("latin-1").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                ext = ["250-%s" % name, "250-PIPELINING"]
                if ctx is not None and not tls:
                    ext.append("250-STARTTLS")
                ext.append("250 8BITMIME")
                self.reply("\r\n".join(ext))
            elif verb == "HELO":
                self.reply("250 %s" % name)
            elif verb == "STARTTLS" and ctx is not None and not tls:
                self.reply("220 2.0.0 ready to start TLS")
                try:
                    conn = ctx.wrap_socket(self.connection,
                                           server_side=True)
                except (ssl.SSLError, OSError):
                    return
                self.connection = conn
                self.rfile = conn.makefile("rb")
                self.wfile = conn.makefile("wb")
                tls = True
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 2.0.0 ok")
            elif verb == "DATA":
                self.reply("354 end with .")
                while True:
                    data = self.rfile.readline(65536)
                    if not data or data in (b".\r\n", b".\n"):
                        break
                self.reply("250 2.0.0 accepted")
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            else:
                self.reply("502 5.5.2 not implemented")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: opensmtpd-rx.py PORT ADDR=CERT:KEY|ADDR=none ...")
    port = int(sys.argv[1])
    servers = []
    for arg in sys.argv[2:]:
        addr, spec = arg.split("=", 1)
        srv = Server((addr, port), Handler)
        srv.hostname = "rx-" + addr
        srv.ctx = None
        if spec != "none":
            cert, key = spec.split(":", 1)
            srv.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            srv.ctx.load_cert_chain(cert, key)
        servers.append(srv)
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    signal.pause()


main()
