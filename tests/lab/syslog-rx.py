#!/usr/bin/python3
# syslog-rx.py - a minimal syslogd for the labs (tests/lab/lab-common.sh)
#
# Usage: syslog-rx.py SOCKET=LOGFILE=HOSTNAME...
#
# Binds each AF_UNIX datagram socket SOCKET (bind-mounted as /dev/log in
# a lab's mount namespace) and appends every message it receives to its
# LOGFILE the way rsyslog's traditional file format writes it:
#   "<22>Jul  6 06:01:46 smtpd[75295]: msg"   (glibc syslog(3), RFC 3164
#                                              without a host name)
#   -> "Jul  6 06:01:46 HOSTNAME smtpd[75295]: msg"
# A message without that frame is kept as "# unparsed: ...".  Lines are
# written as they arrive.  Prints "ready" once every socket is bound;
# SIGTERM ends it.
import os
import re
import select
import signal
import socket
import sys

# PRI, then the RFC 3164 timestamp that glibc writes ("%h %e %T").
FRAME = re.compile(rb"^<(\d{1,3})>([A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d) (.*)$",
                   re.S)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: syslog-rx.py SOCKET=LOGFILE=HOSTNAME...")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    socks = {}
    for spec in sys.argv[1:]:
        path, logfile, host = spec.split("=", 2)
        if os.path.exists(path):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        os.chmod(path, 0o666)
        socks[sock] = (open(logfile, "ab", buffering=0), host.encode())
    print("ready", flush=True)
    while True:
        for sock in select.select(list(socks), [], [])[0]:
            out, host = socks[sock]
            data = sock.recv(65536).rstrip(b"\0\n")
            m = FRAME.match(data)
            if m is None:
                out.write(b"# unparsed: " + data.replace(b"\n", b" ") + b"\n")
                continue
            msg = m.group(3).rstrip(b"\n").replace(b"\n", b" ")
            out.write(m.group(2) + b" " + host + b" " + msg + b"\n")


main()
