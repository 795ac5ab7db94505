#!/usr/bin/python3
"""gen_mtalog.py FORMAT N OUT - a realistic log of about N lines for the
Exim, Sendmail or OpenSMTPD parser (FORMAT exim, sendmail, opensmtpd).

exim: Exim's own main log (/var/log/exim4/mainlog): arrivals with and
without TLS, deliveries with X=/CV= and without, deferrals, verify errors
and downgrades, "Completed", queue runs and rejections.
sendmail, opensmtpd: a syslog mail.log where, as on a real host, many
lines belong to other programs (dovecot, cron, opendkim), mixed with the
MTA's own lines: STARTTLS= facts and to=/from= lines on reused process ids
(sendmail), per-session smtp/mta lines (opensmtpd).
Deterministic (fixed seed) so that runs compare."""
import random, sys

fmt, n_lines, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(8460)
domains = ["d%d.example" % i for i in range(3000)]
ciphers = ["TLS1.3:TLS_AES_256_GCM_SHA384:256",
           "TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256",
           "TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256"]
lines = 0
t = 0


def stamp_iso():
    s = 36000 + t // 10
    return "2026-11-22 %02d:%02d:%02d" % (s // 3600 % 24, s // 60 % 60, s % 60)


def stamp_bsd():
    s = 36000 + t // 10
    return "Nov 22 %02d:%02d:%02d" % (s // 3600 % 24, s // 60 % 60, s % 60)


def b62(i, n):
    a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    s = ""
    for _ in range(n):
        s = a[i % 62] + s
        i //= 62
    return s


with open(out, "w") as f:
    def w(s):
        global lines
        f.write(s + "\n")
        lines += 1

    i = 0
    while lines < n_lines:
        i += 1
        t += 1
        d = rnd.choice(domains)
        ip = "192.0.%d.%d" % (i % 250, (i // 250) % 250 + 1)
        r = rnd.random()
        if fmt == "exim":
            h = stamp_iso() + " "
            q = "1w%s-%s-%s" % (b62(i, 4), b62(i * 7, 11), b62(i * 13, 4))
            if r < 0.45:
                x = "" if rnd.random() < 0.2 else " X=%s CV=%s" % (
                    rnd.choice(ciphers), rnd.choice(["yes", "no"]))
                w(h + "%s <= u%d@%s H=mx.%s [%s]:%d I=[198.51.100.1]:25 P=%s%s S=%d id=%d@%s" % (
                    q, i, d, d, ip, 40000 + i % 20000,
                    "esmtp" if not x else "esmtps", x, 1000 + i % 9000, i, d))
                w(h + "%s => :blackhole: <local%d@mx.test> R=local" % (q, i))
                w(h + "%s Completed" % q)
            elif r < 0.85:
                w(h + "%s <= sender@mx.test U=www P=local S=%d" % (q, 2000 + i % 5000))
                if rnd.random() < 0.05:
                    w(h + "%s [%s] SSL verify error: depth=0 error=certificate has expired cert=/CN=mx.%s" % (q, ip, d))
                x = "" if rnd.random() < 0.15 else " X=%s CV=%s" % (
                    rnd.choice(ciphers), rnd.choice(["yes", "yes", "no"]))
                w(h + "%s => rcpt%d@%s R=dnslookup T=remote_smtp H=mx.%s [%s]%s K C=\"250 2.0.0 Ok: queued as %X\"" % (
                    q, i, d, d, ip, x, i))
                if rnd.random() < 0.3:
                    w(h + "%s -> rcpt%db@%s R=dnslookup T=remote_smtp H=mx.%s [%s]%s C=\"250 OK\"" % (q, i, d, d, ip, x))
                w(h + "%s Completed" % q)
            elif r < 0.9:
                w(h + "%s == rcpt%d@%s R=dnslookup T=remote_smtp defer (-44) H=mx.%s [%s]: SMTP error from remote mail server after RCPT TO:<rcpt%d@%s>: 451 4.7.1 Greylisted" % (q, i, d, d, ip, i, d))
            elif r < 0.95:
                w(h + "H=(%s) [%s]:%d F=<spam%d@%s> rejected RCPT <x@mx.test>: relay not permitted" % (d, ip, 1024 + i % 60000, i, d))
            else:
                w(h + "Start queue run: pid=%d" % (1000 + i % 30000))
                w(h + "End queue run: pid=%d" % (1000 + i % 30000))
        else:
            h = stamp_bsd() + " mx1 "
            if r < 0.35:
                w(h + "dovecot: imap-login: Login: user=<u%d@mx1.example>, method=PLAIN, rip=%s, lip=198.51.100.1, mpid=%d, TLS, session=<abc%d>" % (i % 500, ip, 2000 + i % 30000, i))
                w(h + "dovecot: imap(u%d@mx1.example)<%d><abc%d>: Disconnected: Logged out in=100 out=2000" % (i % 500, 2000 + i % 30000, i))
                continue
            if r < 0.45:
                w(h + "opendkim[%d]: %X: %s [%s] not internal" % (900 + i % 50, i, d, ip))
                w(h + "CRON[%d]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)" % (10000 + i % 50000))
                continue
            if fmt == "sendmail":
                pid = 10000 + i % 40000
                qq = "%sA%06d" % (b62(i, 6), i % 1000000)
                if r < 0.7:
                    tls = rnd.random() < 0.8
                    if tls:
                        w(h + "sm-mta[%d]: STARTTLS=client, relay=mx.%s., version=TLSv1.3, verify=%s, cipher=TLS_AES_256_GCM_SHA384, bits=256/256" % (pid, d, rnd.choice(["OK", "FAIL", "NO"])))
                    w(h + "sm-mta[%d]: %s: to=<r%d@%s>, ctladdr=<www@mx1.example> (33/33), delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120000, relay=mx.%s. [%s], dsn=2.0.0, stat=Sent (Ok: queued as %X)" % (pid, qq, i, d, d, ip, i))
                else:
                    tls = rnd.random() < 0.7
                    if tls:
                        w(h + "sm-mta[%d]: STARTTLS=server, relay=mx.%s [%s], version=TLSv1.2, verify=NO, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256" % (pid, d, ip))
                    w(h + "sm-mta[%d]: %s: from=<s%d@%s>, size=%d, class=0, nrcpts=1, msgid=<%d@%s>, proto=%s, daemon=MTA, relay=mx.%s [%s]" % (pid, qq, i, d, 1000 + i % 9000, i, d, "ESMTPS" if tls else "ESMTP", d, ip))
                    w(h + "sm-mta[%d]: %s: to=<u%d@mx1.example>, delay=00:00:00, xdelay=00:00:00, mailer=local, pri=30000, dsn=2.0.0, stat=Sent" % (pid, qq, i % 500))
            else:
                sid = "%016x" % (0x5df87c9ffd0e0000 + i)
                p = "smtpd[75295]: "
                if r < 0.7:
                    w(h + p + "%s mta connecting address=smtp://%s:25 host=mx.%s" % (sid, ip, d))
                    w(h + p + "%s mta connected" % sid)
                    tls = rnd.random() < 0.8
                    if tls:
                        w(h + p + "%s mta tls ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256" % sid)
                        w(h + p + "%s mta cert-check result=\"%s\" fingerprint=\"SHA256:%064x\"" % (sid, rnd.choice(["valid", "unverified"]), i))
                    w(h + p + "%s mta delivery evpid=%016x from=<www@mx1.example> to=<r%d@%s> rcpt=<-> source=\"198.51.100.1\" relay=\"%s (mx.%s)\" delay=1s result=\"Ok\" stat=\"250 2.0.0 Ok\"" % (sid, i, i, d, ip, d))
                    w(h + p + "%s mta disconnected reason=quit messages=1" % sid)
                else:
                    w(h + p + "%s smtp connected address=%s host=mx.%s" % (sid, ip, d))
                    if rnd.random() < 0.7:
                        w(h + p + "%s smtp tls ciphers=TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256" % sid)
                    w(h + p + "%s smtp message msgid=%08x size=%d nrcpt=1 proto=ESMTP" % (sid, i, 1000 + i % 9000))
                    w(h + p + "%s smtp envelope evpid=%08x%08x from=<s%d@%s> to=<u@mx1.example>" % (sid, i, i, i, d))
                    w(h + p + "%s smtp disconnected reason=quit" % sid)
