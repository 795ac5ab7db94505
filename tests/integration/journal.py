#!/usr/bin/python3
"""journal.py - journal export-format input for systemd-journal-remote.

journal.py export LOG UNIT
    Print LOG's syslog lines ("Nov 22 21:18:05 mx postfix/smtp[29010]:
    text", read as 2026 UTC) as journal export entries of unit UNIT, then
    entries that must not count: the same kind of Postfix delivery from
    another unit (noise.test, for the --unit match), a binary MESSAGE
    with a newline and invalid UTF-8, and a 20 KB MESSAGE.
journal.py write DIR SESSIONS ROUNDS FILES
    Append SESSIONS Postfix sessions (unique queue ids) in ROUNDS rounds
    to FILES journal files in DIR, round r going to DIR/rN.journal with
    N = r % FILES, through systemd-journal-remote.  Round boundaries fall
    inside sessions.  Prints the number of sessions written.
"""
import os, random, struct, subprocess, sys, time

BOOT = "0123456789abcdef0123456789abcdef"
REMOTE = "/lib/systemd/systemd-journal-remote"
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
seq = 0


def entry(rt, host, ident, pid, msg, unit="postfix@-.service"):
    """One export-format entry; bytes MESSAGE uses the binary form."""
    global seq
    seq += 1
    out = b""
    for k, v in (("__REALTIME_TIMESTAMP", str(rt)),
                 ("__MONOTONIC_TIMESTAMP", str(1000 + seq)),
                 ("_BOOT_ID", BOOT), ("_HOSTNAME", host),
                 ("_SYSTEMD_UNIT", unit), ("SYSLOG_IDENTIFIER", ident),
                 ("SYSLOG_PID", str(pid)), ("_PID", str(pid))):
        out += ("%s=%s\n" % (k, v)).encode()
    if isinstance(msg, bytes):
        out += b"MESSAGE\n" + struct.pack("<Q", len(msg)) + msg + b"\n"
    else:
        out += ("MESSAGE=%s\n" % msg).encode()
    return out + b"\n"


def utc_us(mon, day, hms):
    import calendar
    h, m, s = (int(x) for x in hms.split(":"))
    return calendar.timegm((2026, mon, day, h, m, s, 0, 0, 0)) * 1000000


def export(log, unit):
    out = sys.stdout.buffer
    last = 0
    for i, line in enumerate(open(log, encoding="utf-8")):
        f = line.rstrip("\n").split(None, 5)
        tag, msg = f[4], f[5] if len(f) > 5 else ""
        ident, pid = tag.rstrip(":"), 0
        if "[" in ident:
            ident, pid = ident[:-1].split("[")
        # A microsecond per line keeps the order of lines of one second.
        rt = utc_us(MONTHS.index(f[0]) + 1, int(f[1]), f[2]) + i
        last = max(last, rt)
        out.write(entry(rt, f[3], ident, pid, msg, unit))
    rt = last + 1000
    out.write(entry(rt, "mx", "postfix/smtp", 4242,
                    "ABCDEF123: to=<r@noise.test>, relay=mx.noise.test"
                    "[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, "
                    "status=sent (250 2.0.0 Ok)", "other.service"))
    out.write(entry(rt + 1, "mx", "postfix/smtp", 4243,
                    b"ABCDEF124: to=<r@bin\xff.test>,\nrelay=\x00\xfe"))
    out.write(entry(rt + 2, "mx", "postfix/smtp", 4244,
                    "ABCDEF125: " + "x" * 20000))


def session(i):
    """Three lines: TLS established, another program, delivery."""
    pid = 1000 + i % 700
    dom = "d%d.jtest" % (i % 50)
    ip = "192.0.2.%d" % (i % 200 + 1)
    return [("postfix/smtp", pid,
             "Trusted TLS connection established to mx.%s[%s]:25: TLSv1.3 "
             "with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" % (dom, ip)),
            ("dovecot", 77, "imap-login: Login: user=<u%d>, TLS "
             "handshaking: SSL_accept() failed" % i),
            ("postfix/smtp", pid,
             "%X: to=<r@%s>, relay=mx.%s[%s]:25, delay=1, "
             "delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)"
             % (0xB00000 + i, dom, dom, ip))]


def write(d, sessions, rounds, files):
    lines = []
    for i in range(sessions):
        lines += session(i)
    base = utc_us(11, 22, "10:00:00")
    cuts = sorted(random.sample(range(1, len(lines)), rounds - 1))
    at = 0
    for r, end in enumerate(cuts + [len(lines)]):
        data = b"".join(entry(base + k * 1000, "mx", ident, pid, msg)
                        for k, (ident, pid, msg) in
                        enumerate(lines[at:end], start=at))
        at = end
        p = subprocess.run([REMOTE, "--output=%s/r%d.journal" %
                            (d, r % files), "-"], input=data,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if p.returncode != 0:
            sys.exit("journal.py: systemd-journal-remote failed")
        time.sleep(random.uniform(0.1, 0.6))
    print(sessions)


if sys.argv[1] == "export":
    export(sys.argv[2], sys.argv[3])
else:
    write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
