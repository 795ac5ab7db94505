#!/usr/bin/python3
"""rotation.py LOG SESSIONS ROUNDS STYLE... - append Postfix sessions to LOG,
rotating it between rounds in the given styles (rename | copytruncate |
rename-stopped, the last one with the collector stopped: the caller kills
it when told, through the file LOG.ctl).  Each session is two lines (a TLS
line and a delivery line) with a unique queue id, written in one write()
so that no session is split across a rotation.  Prints the number of
sessions written."""
import os, sys, time

log, per_round, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
styles = sys.argv[4:]
n = 0

def stamp(i):
    # One session a second from 10:00:00, never going back, as in a real log.
    return "Nov 22 %02d:%02d:%02d" % (10 + i // 3600, i // 60 % 60, i % 60)

def session(i):
    pid = 1000 + i % 700
    dom = "d%d.test" % (i % 50)
    tls = ("%s mx postfix/smtp[%d]: Trusted TLS connection "
           "established to mx.%s[192.0.2.%d]:25: TLSv1.3 with cipher "
           "TLS_AES_256_GCM_SHA384 (256/256 bits)\n"
           % (stamp(i), pid, dom, i % 200 + 1))
    dl = ("%s mx postfix/smtp[%d]: %X: to=<r@%s>, "
          "relay=mx.%s[192.0.2.%d]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, "
          "status=sent (250 2.0.0 Ok)\n"
          % (stamp(i), pid, 0xA00000 + i, dom, dom, i % 200 + 1))
    # Other programs' lines in between, as in a real mail.log.
    other = ("%s mx dovecot: imap-login: Login: user=<u%d>, "
             "TLS handshaking: SSL_accept() failed\n" % (stamp(i), i))
    return tls + other + dl

def append(count):
    global n
    with open(log, "a") as f:
        for _ in range(count):
            f.write(session(n))
            f.flush()
            n += 1
            if n % 200 == 0:
                time.sleep(0.02)

def ctl(word):
    with open(log + ".ctl", "w") as f:
        f.write(word)
    while os.path.exists(log + ".ctl"):
        time.sleep(0.05)

open(log, "a").close()
for r in range(rounds):
    append(per_round)
    style = styles[r % len(styles)]
    if style == "rename-stopped":
        ctl("stop")      # the caller stops the collector (SIGKILL)
    # Shift the generations, as logrotate does: .8 -> .9, ..., .1 -> .2.
    for g in range(8, 0, -1):
        if os.path.exists("%s.%d" % (log, g)):
            os.rename("%s.%d" % (log, g), "%s.%d" % (log, g + 1))
    if style.startswith("rename"):
        os.rename(log, log + ".1")
        open(log, "w").close()
    else:  # copytruncate, as logrotate does it
        with open(log, "rb") as src, open(log + ".1", "wb") as dst:
            dst.write(src.read())
        os.truncate(log, 0)
    if style == "rename-stopped":
        ctl("start")
append(per_round)
print(n)
