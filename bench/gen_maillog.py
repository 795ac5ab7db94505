#!/usr/bin/python3
"""gen_maillog.py N OUT - write a realistic mail.log of about N lines.

Like a real MX's /var/log/mail.log, most lines are not about TLS: dovecot
logins, amavis and opendkim verdicts, postfix pickup/cleanup/qmgr lines,
cron; in between are outbound deliveries (TLS, plaintext, failures) and
inbound smtpd sessions with and without STARTTLS, on reused process ids.
Deterministic (fixed seed) so that runs compare."""
import random, sys

n_lines, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(8460)
domains = ["d%d.example" % i for i in range(3000)]
t = 0
lines = 0

def ts():
    s = 36000 + t // 10
    return "Nov 22 %02d:%02d:%02d" % (s // 3600 % 24, s // 60 % 60, s % 60)

def qid(i):
    return "%X" % (0x1A2B3C0 + i)

with open(out, "w") as f:
    i = 0
    while lines < n_lines:
        i += 1
        t += 1
        r = rnd.random()
        h = ts() + " mx1 "
        if r < 0.30:
            f.write(h + "dovecot: imap-login: Login: user=<u%d@ex.org>, method=PLAIN, rip=198.51.100.%d, lip=192.0.2.1, mpid=%d, TLS, session=<abcDEF%d>\n" % (i % 500, i % 250, 1000 + i % 9000, i))
            lines += 1
        elif r < 0.42:
            f.write(h + "amavis[%d]: (%05d-01) Passed CLEAN {RelayedInbound}, [198.51.100.%d]:%d <s%d@%s> -> <u@ex.org>, Queue-ID: %s, Message-ID: <m%d@x>, mail_id: Zx%d, Hits: -1.2, size: 4321, queued_as: %s, 512 ms\n" % (2000 + i % 50, i % 99999, i % 250, 40000 + i % 20000, i, rnd.choice(domains), qid(i), i, i, qid(i + 1)))
            lines += 1
        elif r < 0.52:
            f.write(h + "opendkim[812]: %s: %s [198.51.100.%d] not internal\n" % (qid(i), rnd.choice(domains), i % 250))
            f.write(h + "opendkim[812]: %s: DKIM verification successful\n" % qid(i))
            lines += 2
        elif r < 0.60:
            f.write(h + "CRON[%d]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)\n" % (3000 + i % 1000))
            lines += 1
        elif r < 0.80:
            q = qid(i)
            f.write(h + "postfix/pickup[1201]: %s: uid=1000 from=<app@ex.org>\n" % q)
            f.write(h + "postfix/cleanup[1202]: %s: message-id=<%d@ex.org>\n" % (q, i))
            f.write(h + "postfix/qmgr[1100]: %s: from=<app@ex.org>, size=%d, nrcpt=1 (queue active)\n" % (q, 1000 + i % 5000))
            f.write(h + "postfix/qmgr[1100]: %s: removed\n" % q)
            lines += 4
        elif r < 0.93:
            # Outbound delivery: TLS (most), plaintext, or a failure.
            q, d, pid = qid(i), rnd.choice(domains), 1300 + i % 40
            ip = "203.0.113.%d" % (i % 250 + 1)
            k = rnd.random()
            if k < 0.80:
                f.write(h + "postfix/smtp[%d]: Trusted TLS connection established to mx.%s[%s]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256\n" % (pid, d, ip))
                lines += 1
                st = "sent (250 2.0.0 OK)"
                dsn = "2.0.0"
            elif k < 0.93:
                st = "sent (250 ok)"
                dsn = "2.0.0"
            else:
                f.write(h + "postfix/smtp[%d]: server certificate verification failed for mx.%s[%s]:25: certificate has expired\n" % (pid, d, ip))
                lines += 1
                st = "deferred (Server certificate not verified)"
                dsn = "4.7.5"
            f.write(h + "postfix/smtp[%d]: %s: to=<u%d@%s>, relay=mx.%s[%s]:25, delay=0.9, delays=0.1/0/0.4/0.4, dsn=%s, status=%s\n" % (pid, q, i, d, d, ip, dsn, st))
            lines += 1
        else:
            # Inbound session, with STARTTLS three times in four.
            pid, ip, q = 1500 + i % 30, "198.51.100.%d" % (i % 250 + 1), qid(i)
            f.write(h + "postfix/smtpd[%d]: connect from mail.%s[%s]\n" % (pid, rnd.choice(domains), ip))
            tls = rnd.random() < 0.75
            if tls:
                f.write(h + "postfix/smtpd[%d]: Anonymous TLS connection established from mail.x.example[%s]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits)\n" % (pid, ip))
            f.write(h + "postfix/smtpd[%d]: %s: client=mail.x.example[%s]\n" % (pid, q, ip))
            f.write(h + "postfix/cleanup[1202]: %s: message-id=<in%d@x>\n" % (q, i))
            f.write(h + "postfix/qmgr[1100]: %s: from=<s@%s>, size=2000, nrcpt=1 (queue active)\n" % (q, rnd.choice(domains)))
            f.write(h + "postfix/smtpd[%d]: disconnect from mail.x.example[%s] ehlo=%d%s mail=1 rcpt=1 data=1 quit=1 commands=%d\n" % (pid, ip, 2 if tls else 1, " starttls=1" if tls else "", 7 if tls else 5))
            lines += 6 if tls else 5
