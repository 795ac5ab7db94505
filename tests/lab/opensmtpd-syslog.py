#!/usr/bin/python3
# opensmtpd-syslog.py - a minimal syslogd for the OpenSMTPD lab
#
# Usage: opensmtpd-syslog.py SOCKET LOGFILE HOSTNAME
#
# Binds the AF_UNIX datagram socket SOCKET (bind-mounted as /dev/log in
# the lab's mount namespace) and appends every message to LOGFILE the way
# rsyslog's traditional file format writes it:
#   "<22>Jul  6 06:01:46 smtpd[75295]: msg"   (glibc syslog(3), RFC 3164
#                                              without a host name)
#   -> "Jul  6 06:01:46 HOSTNAME smtpd[75295]: msg"
# Messages are written as they arrive (line buffered); SIGTERM ends it.
import os
import re
import signal
import socket
import sys

if len(sys.argv) != 4:
    sys.exit("usage: opensmtpd-syslog.py SOCKET LOGFILE HOSTNAME")
path, logfile, host = sys.argv[1:]
# PRI, then the RFC 3164 timestamp that glibc writes ("%h %e %T").
FRAME = re.compile(rb"^<(\d{1,3})>([A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d) (.*)$",
                   re.S)

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
if os.path.exists(path):
    os.unlink(path)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
os.chmod(path, 0o666)
with open(logfile, "ab", buffering=0) as out:
    while True:
        data = sock.recv(65536)
        m = FRAME.match(data)
        if m is None:
            out.write(b"# unparsed: " + data.rstrip(b"\n") + b"\n")
            continue
        msg = m.group(3).rstrip(b"\n").replace(b"\n", b" ")
        out.write(m.group(2) + b" " + host.encode() + b" " + msg + b"\n")
