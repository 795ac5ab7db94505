"""web_data.py - a known set of sessions, rollups, checkpoints and reports
for the web tests (API and browser), and the numbers they must show.

The sessions are made here, deterministically (a fixed seed), over the
last 400 UTC days up to a minute ago; they go into `sessions` by COPY and
into `daily` with the same GROUP BY the store's writer uses, so the API
is read over real PostgreSQL exactly as in production.  Everything the
tests expect is computed from the Python list itself, never read back
from the database.

    python3 web_data.py load SOCKET_DIR      load into database tlsflow
"""
import datetime as dt
import io
import json
import random
import subprocess
import sys
import time

SEED = 7
DAYS = 400
HOST = "mx1.lab.example"

# name, direction, sessions per day (mean), shares of tls/plaintext/failed
# (the rest unknown), trust weights (verified, trusted, untrusted,
# anonymous), TLS versions, MX hosts, failure (result, reason)
PROFILES = [
    ("gmail.example", "outbound", 40, (0.995, 0.0, 0.003), (0.1, 0.85, 0.05, 0.0),
     ["TLSv1.3"], ["alt1.mx.gmail.example", "alt2.mx.gmail.example"],
     ("certificate-host-mismatch", "certificate verification failed: num=62:hostname mismatch")),
    ("outlook.example", "outbound", 25, (0.99, 0.0, 0.004), (0.0, 0.95, 0.05, 0.0),
     ["TLSv1.2", "TLSv1.3"], ["mx1.outlook.example"],
     ("certificate-expired", "certificate verification failed: certificate has expired")),
    ("fastmail.example", "outbound", 8, (1.0, 0.0, 0.0), (0.9, 0.1, 0.0, 0.0),
     ["TLSv1.3"], ["in1-smtp.fastmail.example"], None),
    ("legacy-bank.example", "outbound", 5, (0.2, 0.75, 0.0), (0.0, 0.3, 0.7, 0.0),
     ["TLSv1", "TLSv1.2"], ["smtp.legacy-bank.example"], None),
    ("smallco.example", "outbound", 3, (0.6, 0.3, 0.05), (0.0, 0.2, 0.8, 0.0),
     ["TLSv1.2"], ["mail.smallco.example"],
     ("starttls-not-supported", "TLS is required, but was not offered by host mail.smallco.example")),
    ("secure-dane.example", "outbound", 2, (0.7, 0.0, 0.3), (1.0, 0.0, 0.0, 0.0),
     ["TLSv1.3"], ["mx.secure-dane.example"],
     ("tlsa-invalid", "TLSA record mismatch")),
    ("partner.example", "inbound", 12, (0.97, 0.03, 0.0), (0.0, 0.0, 0.0, 1.0),
     ["TLSv1.3", "TLSv1.2"], ["out.partner.example"], None),
    ("newsletter.example", "inbound", 10, (0.4, 0.6, 0.0), (0.0, 0.0, 0.0, 1.0),
     ["TLSv1.2"], ["bulk1.newsletter.example", "bulk2.newsletter.example"], None),
    ("oldrelay.example", "inbound", 2, (0.0, 0.2, 0.0), (0.0, 0.0, 0.0, 1.0),
     [], ["relay.oldrelay.example"], None),
]
CIPHERS = {"TLSv1.3": "TLS_AES_256_GCM_SHA384", "TLSv1.2": "ECDHE-RSA-AES256-GCM-SHA384",
           "TLSv1": "ECDHE-RSA-AES128-SHA"}
TRUST = ["verified", "trusted", "untrusted", "anonymous"]


def now_s():
    return time.time()


def generate(now=None):
    """The sessions: a list of dicts with the DESIGN.md keys used here."""
    now = now_s() if now is None else now
    rnd = random.Random(SEED)
    today = int(now // 86400)
    out = []
    for di, prof in enumerate(PROFILES):
        (name, direction, mean, shares, trust_w, versions, mxs, failure) = prof
        for day in range(today - DAYS + 1, today + 1):
            # Some growth, weekly rhythm and noise.
            wave = 0.6 + 0.4 * ((day % 7) not in (2, 3))
            n = max(0, int(rnd.gauss(mean * wave, mean * 0.25)))
            if name == "legacy-bank.example" and day > today - 60:
                n = max(0, n // 3)  # winding down
            for _ in range(n):
                start = day * 86400
                end = min(start + 86400, int(now) - 60)
                if end <= start:
                    continue
                ts = rnd.randrange(start, end) + rnd.randrange(0, 1000) / 1000.0
                r = rnd.random()
                if r < shares[0]:
                    tls = "tls"
                elif r < shares[0] + shares[1]:
                    tls = "plaintext"
                elif r < shares[0] + shares[1] + shares[2]:
                    tls = "failed"
                else:
                    tls = "unknown"
                mi = rnd.randrange(len(mxs))
                s = {
                    "ts": ts, "direction": direction, "domain": name,
                    "peer_host": mxs[mi], "peer_ip": "192.0.2.%d" % (10 * di + mi + 1),
                    "tls": tls, "tls_version": None, "cipher": None, "trust": None,
                    "result": None, "reason": None,
                    "messages": 0, "status": None,
                }
                if tls == "tls":
                    v = versions[rnd.randrange(len(versions))] if versions else None
                    s["tls_version"] = v
                    s["cipher"] = CIPHERS.get(v)
                    s["trust"] = rnd.choices(TRUST, weights=trust_w)[0]
                    s["result"] = "success"
                    s["messages"] = rnd.choice([1, 1, 1, 2, 3])
                    s["status"] = "sent" if direction == "outbound" else None
                elif tls == "plaintext":
                    s["messages"] = rnd.choice([1, 1, 2])
                    s["status"] = "sent" if direction == "outbound" else None
                elif tls == "failed":
                    s["result"], s["reason"] = failure
                    s["trust"] = "untrusted" if "certificate" in failure[0] else None
                    s["status"] = "deferred"
                else:
                    s["messages"] = 1
                    s["status"] = "sent" if direction == "outbound" else None
                out.append(s)
    # One session without a domain (inbound from an unnamed client).
    out.append({"ts": now - 7200, "direction": "inbound", "domain": None,
                "peer_host": None, "peer_ip": "198.51.100.99", "tls": "plaintext",
                "tls_version": None, "cipher": None, "trust": None, "result": None,
                "reason": None, "messages": 1, "status": None})
    out.sort(key=lambda s: s["ts"])
    return out


def reports(now=None):
    """TLS-RPT reports and their deliveries (what the reporter writes)."""
    now = now_s() if now is None else now
    today = int(now // 86400)
    reps, dels = [], []
    states = ["sent", "failed", "pending", "suppressed"]
    i = 0
    for name in ("gmail.example", "outlook.example", "secure-dane.example"):
        for back in range(1, 6):
            day = dt.datetime.fromtimestamp((today - back) * 86400, dt.timezone.utc).date()
            rid = "%s-%s@tlsflow.test" % (day.isoformat(), name)
            reps.append({"report_id": rid, "day": day.isoformat(), "policy_domain": name,
                         "policy_type": "sts" if name != "secure-dane.example" else "tlsa",
                         "filename": "tlsflow.test!%s!%d!%d.json.gz" % (name, (today - back) * 86400,
                                                                       (today - back + 1) * 86400 - 1),
                         "successful": 100 + back, "failed": back, "unknown": 0})
            st = states[i % len(states)]
            i += 1
            dels.append({"report_id": rid, "destination": "mailto:tlsrpt@%s" % name,
                         "state": st, "attempts": 1 if st != "failed" else 3,
                         "last_error": "550 5.1.1 mailbox unavailable" if st == "failed" else None})
            if name == "gmail.example":
                dels.append({"report_id": rid, "destination": "https://tlsrpt.%s/v1" % name,
                             "state": "sent", "attempts": 1, "last_error": None})
    return reps, dels


def copy_text(rows, cols):
    buf = io.StringIO()
    for r in rows:
        vals = []
        for c in cols:
            v = r.get(c)
            if v is None:
                vals.append("\\N")
            elif c == "ts":
                vals.append(dt.datetime.fromtimestamp(v, dt.timezone.utc).isoformat())
            else:
                vals.append(str(v).replace("\\", "\\\\").replace("\t", "\\t"))
        buf.write("\t".join(vals) + "\n")
    return buf.getvalue()


def psql(sock, sql, stdin=None):
    p = subprocess.run(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-h", sock,
                        "-U", "tlsflow", "tlsflow", "-c", sql],
                       input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("psql failed: %s\n%s" % (sql[:200], p.stderr))
    return p.stdout


def load(sock, sessions, local_log=None):
    now = now_s()
    today = int(now // 86400)
    psql(sock, "SELECT count(tlsflow_ensure_day(d::date)) FROM generate_series("
         "(current_date AT TIME ZONE 'UTC')::date - %d, "
         "(now() AT TIME ZONE 'UTC')::date + 1, interval '1 day') d" % (DAYS + 1))
    cols = ["ts", "source", "host", "direction", "domain", "peer_host", "peer_ip",
            "peer_port", "tls", "tls_version", "cipher", "trust", "result", "reason",
            "policy", "messages", "status", "origin"]
    rows = []
    for i, s in enumerate(sessions):
        r = dict(s)
        r.update({"source": "postfix", "host": HOST, "peer_port": 25, "policy": None,
                  "origin": "/var/log/mail.log:%d" % (i * 200)})
        rows.append(r)
    psql(sock, "COPY sessions (%s) FROM STDIN" % ", ".join(cols), copy_text(rows, cols))
    psql(sock, "INSERT INTO daily SELECT (ts AT TIME ZONE 'UTC')::date,"
         " coalesce(direction, ''), coalesce(domain, ''), tls, coalesce(result, ''),"
         " coalesce(trust, ''), count(*), sum(messages) FROM sessions"
         " GROUP BY 1, 2, 3, 4, 5, 6")
    reps, dels = reports(now)
    rc = ["report_id", "day", "policy_domain", "policy_type", "filename", "successful",
          "failed", "unknown"]
    for r in reps:
        r["body"] = json.dumps({"report-id": r["report_id"]})
    psql(sock, "COPY reports (%s, body) FROM STDIN" % ", ".join(rc),
         copy_text(reps, rc + ["body"]))
    dc = ["report_id", "destination", "state", "attempts", "last_error"]
    psql(sock, "COPY report_deliveries (%s) FROM STDIN" % ", ".join(dc), copy_text(dels, dc))
    psql(sock, "UPDATE report_deliveries SET first_attempt = now() - interval '1 hour',"
         " last_attempt = now() - interval '30 minutes',"
         " delivered = CASE WHEN state = 'sent' THEN now() - interval '30 minutes' END,"
         " next_attempt = CASE WHEN state IN ('failed', 'pending') THEN now() + interval '1 hour' END")
    psql(sock, "INSERT INTO checkpoints (kind, host, name, inode, off, resume_off, updated)"
         " VALUES ('file', '%s', '/var/log/mail.log', 1234, 987654, 987654, now() - interval '20 seconds')"
         % HOST)
    if local_log:
        import os
        st = os.stat(local_log)
        psql(sock, "INSERT INTO checkpoints (kind, host, name, inode, off, resume_off, updated)"
             " VALUES ('file', 'web-test', '%s', %d, 600, 600, now() - interval '10 minutes')"
             % (local_log, st.st_ino))
    psql(sock, "INSERT INTO collector_counters (kind, host, name, started, updated, last_event,"
         " lines, events, other, unused, malformed, truncated, badtime, evicted, expired)"
         " VALUES ('file', '%s', '/var/log/mail.log', now() - interval '3 days', now(),"
         " now() - interval '25 seconds', 123456, 4567, 50000, 60000, 3, 1, 0, 0, 12)" % HOST)
    psql(sock, "ANALYZE")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "load":
        load(sys.argv[2], generate(), sys.argv[3] if len(sys.argv) > 3 else None)
        print("loaded")
    else:
        sys.exit(__doc__)
