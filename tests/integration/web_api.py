"""web_api.py - tlsflow serve over real HTTP against a real PostgreSQL
loaded with known sessions (web_data.py): every endpoint's numbers must
equal what was loaded; bad requests get a 4xx with a JSON error and never
crash the server; HTTPS, basic auth and bearer tokens work.

Run by web_api.sh (which starts the database); prints "ok - ..." /
"FAIL - ..." lines and "N passed, N failed".
"""
import argparse
import base64
import csv
import io
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web_data  # noqa: E402

PASS = 0
FAIL = 0


def ok(label):
    global PASS
    PASS += 1
    print("ok - " + label)


def fail(label):
    global FAIL
    FAIL += 1
    print("FAIL - " + label)


def check(label, got, want):
    if got == want:
        ok(label)
    else:
        fail("%s: got %r, want %r" % (label, got, want))


def close(label, got, want, eps=1e-5):
    if (got is None and want is None) or (got is not None and want is not None and abs(got - want) <= eps):
        ok(label)
    else:
        fail("%s: got %r, want %r" % (label, got, want))


class Server:
    def __init__(self, args, port, extra, scheme="http"):
        self.port = port
        self.scheme = scheme
        self.log = open(os.path.join(args.dir, "serve-%d.log" % port), "w")
        cmd = [args.prog, "serve", "--state_dir=" + args.state,
               "--listen", "127.0.0.1:%d" % port] + extra
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.p.poll() is not None:
                raise SystemExit("serve exited with %d" % self.p.returncode)
            try:
                st, _, _ = self.get("/healthz")
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("serve did not answer /healthz")

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def get(self, path, headers=None, method="GET", body=None):
        req = urllib.request.Request(self.url(path), headers=headers or {}, method=method, data=body)
        try:
            with urllib.request.urlopen(req, timeout=60, context=self.ctx if self.scheme == "https" else None) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, path, headers=None):
        st, hd, body = self.get(path, headers)
        try:
            return st, json.loads(body)
        except ValueError:
            return st, None

    def raw(self, data, timeout=10):
        # Ask for the connection to be closed after the answer (the server
        # keeps connections alive otherwise).
        data = data.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n", 1)
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            s.sendall(data)
            got = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except (ConnectionResetError, socket.timeout):
                    break
                if not chunk:
                    break
                got += chunk
            return got
        finally:
            s.close()

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = -9
        self.log.close()
        return rc


# ---- what the loaded data must show ----------------------------------

def day_of(s):
    return int(s["ts"] // 86400)


def window(rng, today):
    back = {"24h": 1, "7d": 6, "30d": 29, "1y": 364}[rng]
    return today - back, today


def totals(sess):
    t = {"sessions": {"total": 0, "tls": 0, "plaintext": 0, "failed": 0, "unknown": 0, "verified": 0},
         "messages": {"total": 0, "tls": 0, "plaintext": 0, "failed": 0, "unknown": 0, "verified": 0},
         "failures": {}, "trust": {}}
    for s in sess:
        k = s["tls"] if s["tls"] in ("tls", "plaintext", "failed") else "unknown"
        t["sessions"]["total"] += 1
        t["sessions"][k] += 1
        t["messages"]["total"] += s["messages"]
        t["messages"][k] += s["messages"]
        if k == "tls" and s["trust"] in ("verified", "trusted"):
            t["sessions"]["verified"] += 1
            t["messages"]["verified"] += s["messages"]
        if k == "tls":
            tr = s["trust"] or "none"
            t["trust"][tr] = t["trust"].get(tr, 0) + 1
        if k == "failed":
            t["failures"][s["result"]] = t["failures"].get(s["result"], 0) + 1
    known = t["sessions"]["tls"] + t["sessions"]["plaintext"] + t["sessions"]["failed"]
    t["encrypted_share"] = t["sessions"]["tls"] / known if known else None
    t["verified_share"] = t["sessions"]["verified"] / known if known else None
    mk = t["messages"]["tls"] + t["messages"]["plaintext"] + t["messages"]["failed"]
    t["messages_encrypted_share"] = t["messages"]["tls"] / mk if mk else None
    return t


def versions(sess):
    v = {}
    for s in sess:
        if s["tls"] == "tls":
            key = s["tls_version"] or "unknown"
            v[key] = v.get(key, 0) + 1
    return v


def check_totals(label, got, want):
    for part in ("sessions", "messages"):
        check("%s %s" % (label, part), got[part], want[part])
    close(label + " encrypted_share", got["encrypted_share"], want["encrypted_share"])
    close(label + " verified_share", got["verified_share"], want["verified_share"])
    close(label + " messages_encrypted_share", got["messages_encrypted_share"],
          want["messages_encrypted_share"])
    check(label + " failures by result", {f["result"]: f["sessions"] for f in got["failures"]},
          want["failures"])
    check(label + " trust of encrypted sessions",
          {k: v for k, v in got["trust"].items() if v}, want["trust"])


def domain_rows(sess, dirs=None, group="domain"):
    rows = {}
    for s in sess:
        if dirs and s["direction"] not in dirs:
            continue
        key = (s["domain"] or "") if group == "domain" else (s["peer_host"] or "")
        r = rows.setdefault(key, {"sessions": 0, "messages": 0, "tls": 0, "plaintext": 0,
                                  "failed": 0, "unknown": 0, "verified": 0, "last_plain": None,
                                  "dirs": set()})
        k = s["tls"] if s["tls"] in ("tls", "plaintext", "failed") else "unknown"
        r["sessions"] += 1
        r["messages"] += s["messages"]
        r[k] += 1
        r["dirs"].add(s["direction"])
        if k == "tls" and s["trust"] in ("verified", "trusted"):
            r["verified"] += 1
        if k == "plaintext":
            d = day_of(s)
            r["last_plain"] = d if r["last_plain"] is None else max(r["last_plain"], d)
    return rows


def date_str(day):
    return time.strftime("%Y-%m-%d", time.gmtime(day * 86400))


# ---- the checks -------------------------------------------------------

def test_summary(srv, S, today, now):
    for rng in ("30d", "7d", "1y"):
        f, t = window(rng, today)
        sel = [s for s in S if f <= day_of(s) <= t]
        st, j = srv.json("/api/v1/summary?range=" + rng)
        check("summary %s status" % rng, st, 200)
        check("summary %s range" % rng, (j["range"]["from"], j["range"]["to"]), (date_str(f), date_str(t)))
        check_totals("summary %s total" % rng, j["total"], totals(sel))
        for d in ("outbound", "inbound"):
            check_totals("summary %s %s" % (rng, d), j[d], totals([s for s in sel if s["direction"] == d]))
        got_v = {v["version"]: v["sessions"] for v in j["tls_versions"]["total"]}
        check("summary %s tls versions" % rng, got_v, versions(sel))
        got_v = {v["version"]: v["sessions"] for v in j["tls_versions"]["inbound"]}
        check("summary %s inbound tls versions" % rng, got_v,
              versions([s for s in sel if s["direction"] == "inbound"]))
    # The last 24 hours come from raw sessions, by hour.
    st, j = srv.json("/api/v1/summary?range=24h")
    s1 = (int(time.time()) // 3600 + 1) * 3600
    sel = [s for s in S if s1 - 86400 <= s["ts"] < s1]
    check("summary 24h source", j["range"]["source"], "sessions")
    check_totals("summary 24h total", j["total"], totals(sel))
    # A custom range.
    f, t = today - 100, today - 40
    st, j = srv.json("/api/v1/summary?from=%s&to=%s" % (date_str(f), date_str(t)))
    check("summary custom status", st, 200)
    check_totals("summary custom total", j["total"], totals([s for s in S if f <= day_of(s) <= t]))
    check("summary span", (j["span"]["first"], j["span"]["last"]),
          (date_str(min(day_of(s) for s in S)), date_str(max(day_of(s) for s in S))))


def test_series(srv, S, today):
    st, j = srv.json("/api/v1/series?range=7d")
    check("series 7d status", st, 200)
    check("series 7d bucket", j["bucket"], "day")
    f, t = window("7d", today)
    check("series 7d t", j["t"], [d * 86400 for d in range(f, t + 1)])
    for d in ("outbound", "inbound"):
        for k in ("tls", "plaintext", "failed", "unknown"):
            want = [len([s for s in S if day_of(s) == day and s["direction"] == d and
                         (s["tls"] == k or (k == "unknown" and s["tls"] not in ("tls", "plaintext", "failed")))])
                    for day in range(f, t + 1)]
            check("series 7d %s %s per day" % (d, k), j[d][k], want)
        want = [sum(s["messages"] for s in S if day_of(s) == day and s["direction"] == d)
                for day in range(f, t + 1)]
        check("series 7d %s messages per day" % d, j[d]["messages"], want)
    st, j = srv.json("/api/v1/series?range=1y")
    check("series 1y bucket", j["bucket"], "week")
    f, t = window("1y", today)
    sel = [s for s in S if f <= day_of(s) <= t]
    check("series 1y total tls", sum(j["total"]["tls"]), totals(sel)["sessions"]["tls"])
    check("series 1y total sessions", sum(j["total"]["sessions"]), len(sel))
    st, j = srv.json("/api/v1/series?range=24h")
    check("series 24h bucket", (j["bucket"], len(j["t"])), ("hour", 24))
    s0 = j["t"][0]
    sel = [s for s in S if s0 <= s["ts"] < s0 + 86400]
    check("series 24h sessions", sum(j["total"]["sessions"]), len(sel))
    st, j = srv.json("/api/v1/series?range=30d&bucket=week")
    check("series bucket=week", (st, j["bucket"], j["step"]), (200, "week", 604800))


def test_domains(srv, S, today):
    f, t = window("30d", today)
    sel = [s for s in S if f <= day_of(s) <= t]
    want = domain_rows(sel)
    st, j = srv.json("/api/v1/domains?range=30d&limit=100")
    check("domains status", st, 200)
    check("domains total", j["total"], len(want))
    order = sorted(want, key=lambda k: (-want[k]["sessions"], k))
    check("domains sorted by sessions", [r["domain"] for r in j["rows"]], order)
    for r in j["rows"]:
        w = want[r["domain"]]
        got = {k: r[k] for k in ("sessions", "messages", "tls", "plaintext", "failed", "unknown", "verified")}
        check("domain %s numbers" % (r["domain"] or "(none)"), got,
              {k: w[k] for k in got})
        check("domain %s last plaintext" % (r["domain"] or "(none)"), r["last_plaintext"],
              date_str(w["last_plain"]) if w["last_plain"] is not None else None)
        known = w["tls"] + w["plaintext"] + w["failed"]
        close("domain %s encrypted share" % (r["domain"] or "(none)"), r["encrypted_share"],
              w["tls"] / known if known else None)
    # TLS versions of one domain.
    g = [r for r in j["rows"] if r["domain"] == "outlook.example"][0]
    check("domain outlook.example tls versions", {v["version"]: v["sessions"] for v in g["tls_versions"]},
          versions([s for s in sel if s["domain"] == "outlook.example"]))
    # Sort by domain, encrypted share (rows without known sessions last).
    st, j = srv.json("/api/v1/domains?range=30d&sort=domain")
    check("domains sort=domain ascending", [r["domain"] for r in j["rows"]], sorted(want))
    st, j = srv.json("/api/v1/domains?range=30d&sort=domain&order=desc")
    check("domains sort=domain order=desc", [r["domain"] for r in j["rows"]], sorted(want, reverse=True))
    st, j = srv.json("/api/v1/domains?range=30d&sort=encrypted")

    def share(k):
        w = want[k]
        kn = w["tls"] + w["plaintext"] + w["failed"]
        return w["tls"] / kn if kn else None
    exp = sorted([k for k in want if share(k) is not None], key=lambda k: (share(k), k)) + \
        sorted([k for k in want if share(k) is None])
    check("domains sort=encrypted worst first", [r["domain"] for r in j["rows"]], exp)
    st, j = srv.json("/api/v1/domains?range=30d&sort=plaintext&limit=3&offset=1")
    exp = sorted(want, key=lambda k: (-want[k]["plaintext"], k))[1:4]
    check("domains sort=plaintext paged", ([r["domain"] for r in j["rows"]], j["total"], j["offset"], j["limit"]),
          (exp, len(want), 1, 3))
    st, j = srv.json("/api/v1/domains?range=30d&q=MAIL")
    check("domains search (case-insensitive)", sorted(r["domain"] for r in j["rows"]),
          sorted(k for k in want if "mail" in k))
    st, j = srv.json("/api/v1/domains?range=30d&direction=inbound")
    wi = domain_rows(sel, dirs={"inbound"})
    check("domains direction=inbound", sorted(r["domain"] for r in j["rows"]), sorted(wi))
    check("domains direction=inbound numbers", {r["domain"]: r["sessions"] for r in j["rows"]},
          {k: v["sessions"] for k, v in wi.items()})
    st, j = srv.json("/api/v1/domains?range=7d&group=mx&limit=1000")
    f7, t7 = window("7d", today)
    wm = domain_rows([s for s in S if f7 <= day_of(s) <= t7], group="mx")
    check("hosts group=mx", {r["host"]: r["sessions"] for r in j["rows"]},
          {k: v["sessions"] for k, v in wm.items()})
    # 1 year from the rollups.
    f1, t1 = window("1y", today)
    w1 = domain_rows([s for s in S if f1 <= day_of(s) <= t1])
    st, j = srv.json("/api/v1/domains?range=1y&limit=100")
    check("domains 1y sessions", {r["domain"]: r["sessions"] for r in j["rows"]},
          {k: v["sessions"] for k, v in w1.items()})
    # CSV export equals the JSON.
    st, hd, body = srv.get("/api/v1/domains?range=30d&format=csv")
    check("domains csv status", st, 200)
    check("domains csv content type", hd.get("Content-Type", "").split(";")[0], "text/csv")
    check("domains csv is a download", "attachment" in hd.get("Content-Disposition", ""), True)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    check("domains csv rows", len(rows), len(want))
    check("domains csv numbers", {r["domain"]: (int(r["sessions"]), int(r["plaintext"]), int(r["failed"]))
                                  for r in rows},
          {k: (v["sessions"], v["plaintext"], v["failed"]) for k, v in want.items()})
    st, hd, body = srv.get("/api/v1/domains?range=30d&format=json&limit=100000")
    check("domains json export is a download", "attachment" in hd.get("Content-Disposition", ""), True)
    check("domains json export rows", len(json.loads(body)["rows"]), len(want))


def test_detail(srv, S, today):
    f, t = window("30d", today)
    name = "smallco.example"
    sel = [s for s in S if f <= day_of(s) <= t and s["domain"] == name]
    st, j = srv.json("/api/v1/domains/" + name)
    check("detail status", st, 200)
    check_totals("detail total", j["summary"]["total"], totals(sel))
    check("detail daily series plaintext", sum(j["series"]["outbound"]["plaintext"]),
          len([s for s in sel if s["tls"] == "plaintext"]))
    check("detail series days", len(j["series"]["t"]), t - f + 1)
    hosts = {}
    for s in sel:
        h = hosts.setdefault(s["peer_host"], {"n": 0, "ips": set()})
        h["n"] += 1
        h["ips"].add(s["peer_ip"])
    check("detail hosts", {h["host"]: (h["sessions"], sorted(h["ips"])) for h in j["hosts"]},
          {k: (v["n"], sorted(v["ips"])) for k, v in hosts.items()})
    ciphers = {}
    for s in sel:
        if s["tls"] == "tls":
            key = (s["tls_version"], s["cipher"])
            ciphers[key] = ciphers.get(key, 0) + 1
    check("detail ciphers", {(c["version"], c["cipher"]): c["sessions"] for c in j["ciphers"]}, ciphers)
    fails = {}
    for s in sel:
        if s["tls"] == "failed":
            fails[(s["result"], s["reason"])] = fails.get((s["result"], s["reason"]), 0) + 1
    check("detail failures with reasons", {(x["result"], x["reason"]): x["sessions"] for x in j["failures"]}, fails)
    plain = sorted([s for s in sel if s["tls"] == "plaintext"], key=lambda s: -s["ts"])
    check("detail recent plaintext", len(j["recent_plaintext"]), min(50, len(plain)))
    if plain:
        check("detail newest plaintext first", j["recent_plaintext"][0]["ts"],
              time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(plain[0]["ts"]))))
    st, j = srv.json("/api/v1/domains/gmail.example?range=7d")
    reps, dels = web_data.reports()
    f7, t7 = window("7d", today)
    mine = [r for r in reps if r["policy_domain"] == "gmail.example"
            and date_str(f7) <= r["day"] <= date_str(t7)]
    check("detail reports", len(j["reports"]), len(mine))
    check("detail report deliveries", sum(len(r["deliveries"]) for r in j["reports"]),
          len([d for d in dels if d["report_id"] in {r["report_id"] for r in mine}]))
    st, j = srv.json("/api/v1/domains/nothing-here.example")
    check("detail unknown domain is 404", (st, j["status"]), (404, 404))
    st, j = srv.json("/api/v1/domains/bad%20name")
    check("detail bad domain is 400", st, 400)
    st, j = srv.json("/api/v1/domains/" + "a" * 300)
    check("detail over-long domain is 400", st, 400)


def test_reports(srv, today):
    reps, dels = web_data.reports()
    st, j = srv.json("/api/v1/reports?range=30d")
    check("reports status", st, 200)
    check("reports total", j["total"], len(reps))
    states = {}
    for d in dels:
        states[d["state"]] = states.get(d["state"], 0) + 1
    check("reports deliveries by state", j["deliveries"], states)
    check("reports newest first", j["rows"][0]["day"], max(r["day"] for r in reps))
    st, j = srv.json("/api/v1/reports?range=30d&state=failed")
    failed = {d["report_id"] for d in dels if d["state"] == "failed"}
    check("reports state=failed", j["total"], len(failed))
    st, j = srv.json("/api/v1/reports?range=30d&q=outlook&limit=2")
    check("reports search and page", (j["total"], len(j["rows"])),
          (len([r for r in reps if "outlook" in r["policy_domain"]]), 2))
    d = [x for x in j["rows"][0]["deliveries"]]
    check("reports delivery fields", sorted(d[0].keys()),
          sorted(["destination", "state", "attempts", "first_attempt", "last_attempt",
                  "next_attempt", "last_error", "delivered"]))


def test_health(srv, args):
    st, j = srv.json("/api/v1/health")
    check("health status", (st, j["status"], j["database"]["connected"]), (200, "ok", True))
    check("health read-only session", j["database"]["read_only"], True)
    cols = {c["name"]: c for c in j["collectors"]}
    check("health collectors", sorted(cols), sorted(["/var/log/mail.log", args.local_log]))
    check("health local file behind", (cols[args.local_log]["behind_bytes"], cols[args.local_log]["stalled"]),
          (400, True))
    check("health counters", cols["/var/log/mail.log"]["counters"]["lines"], 123456)
    check("health counters malformed", cols["/var/log/mail.log"]["counters"]["malformed"], 3)
    st, hd, body = srv.get("/healthz")
    check("healthz", (st, body), (200, b"ok\n"))


def test_metrics(srv, S):
    st, hd, body = srv.get("/metrics")
    check("metrics status", st, 200)
    check("metrics content type", hd.get("Content-Type", "").split(";")[0], "text/plain")
    want = {}
    for s in S:
        k = (s["direction"], s["tls"], s["trust"] or "none")
        want[k] = want.get(k, 0) + 1
    got = {}
    text = body.decode()
    for line in text.splitlines():
        if line.startswith("tlsflow_sessions_total{"):
            lab, val = line.rsplit(" ", 1)
            parts = dict(p.split("=", 1) for p in lab[len("tlsflow_sessions_total{"):-1].split(","))
            got[(parts["direction"].strip('"'), parts["tls"].strip('"'), parts["trust"].strip('"'))] = int(val)
    check("metrics sessions by direction, tls, trust", got, want)
    check("metrics has no per-domain label", "domain=" in text, False)
    check("metrics build info", 'tlsflow_build_info{version="' in text, True)
    reps, dels = web_data.reports()
    check("metrics report deliveries sent",
          'tlsflow_report_deliveries{state="sent"} %d' % len([d for d in dels if d["state"] == "sent"]) in text, True)
    check("metrics collector offset", 'tlsflow_collector_offset_bytes{kind="file",host="%s",name="/var/log/mail.log"} 987654'
          % web_data.HOST in text, True)
    check("metrics collector lines", "tlsflow_collector_lines_total{" in text, True)


def test_fresh(srv, args):
    """New data shows up within seconds (the change token)."""
    st, j = srv.json("/api/v1/summary?range=7d")
    before = j["total"]["sessions"]["total"]
    web_data.psql(args.socket,
                  "INSERT INTO sessions (ts, direction, domain, tls, messages) VALUES (now() - interval '1 minute', 'outbound', 'late.example', 'tls', 1);"
                  "INSERT INTO daily VALUES ((now() AT TIME ZONE 'UTC')::date - 0, 'outbound', 'late.example', 'tls', '', '', 1, 1)"
                  " ON CONFLICT (day, direction, domain, tls, result, trust) DO UPDATE SET sessions = daily.sessions + 1;"
                  "UPDATE checkpoints SET updated = now() WHERE name = '/var/log/mail.log'")
    deadline = time.time() + 15
    after = before
    while time.time() < deadline:
        st, j = srv.json("/api/v1/summary?range=7d")
        after = j["total"]["sessions"]["total"]
        if after != before:
            break
        time.sleep(0.3)
    check("new sessions are shown within 15 s", after, before + 1)
    st, j = srv.json("/api/v1/domains?range=7d&q=late")
    check("new domain listed", [r["domain"] for r in j["rows"]], ["late.example"])


def test_bad(srv):
    bad = [
        ("/api/v1/summary?range=2d", "range"),
        ("/api/v1/summary?range=", "range"),
        ("/api/v1/domains?limit=0", "limit"),
        ("/api/v1/domains?limit=100001", "limit"),
        ("/api/v1/domains?limit=abc", "limit"),
        ("/api/v1/domains?offset=-1", "offset"),
        ("/api/v1/domains?sort=bogus", "sort"),
        ("/api/v1/domains?order=up", "order"),
        ("/api/v1/domains?q=%3Cscript%3E", "q"),
        ("/api/v1/domains?q=" + "a" * 300, "q"),
        ("/api/v1/summary?from=2026-02-30&to=2026-03-01", "from"),
        ("/api/v1/summary?from=2026-01-01", "from and to"),
        ("/api/v1/summary?from=2026-03-01&to=2026-01-01", "after"),
        ("/api/v1/summary?from=1990-01-01&to=2026-01-01", "days"),
        ("/api/v1/summary?range=7d&range=30d", "more than once"),
        ("/api/v1/summary?foo=1", "unknown parameter"),
        ("/api/v1/summary?sort=domain", "not taken"),
        ("/api/v1/series?bucket=hour&range=30d", "bucket"),
        ("/api/v1/health?x=1", "unknown parameter"),
        ("/api/v1/reports?state=lost", "state"),
        ("/api/v1/domains?" + "&".join("q%d=1" % i for i in range(40)), "parameter"),
    ]
    for path, word in bad:
        st, hd, body = srv.get(path)
        try:
            j = json.loads(body)
        except ValueError:
            j = {}
        good = st == 400 and hd.get("Content-Type") == "application/json" and word in j.get("error", "")
        if good:
            ok("400 with a clear error: %s" % path[:70])
        else:
            fail("400 with a clear error: %s: got %d %r" % (path[:70], st, body[:200]))
    for path, want in (("/api/v1/nothing", 404), ("/nothing.html", 404), ("/api/v2/summary", 404),
                       ("/.hidden", 404), ("/api/v1/domains/", 400)):
        st, _, _ = srv.get(path)
        check("GET %s" % path, st, want)
    for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        st, hd, _ = srv.get("/api/v1/summary", method=m, body=b"x" * 10 if m in ("POST", "PUT") else None)
        check("%s is 405 with Allow" % m, (st, hd.get("Allow")), (405, "GET, HEAD"))
    st, _, _ = srv.get("/api/v1/summary", method="HEAD")
    check("HEAD is served", st, 200)
    st, _, _ = srv.get("/api/v1/domains/" + "x" * 2000)
    check("over-long URL is 414", st, 414)
    # Raw requests a client library would not send.
    for label, data in (
        ("path traversal", b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("encoded traversal", b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("huge header", b"GET /api/v1/summary HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n"),
        ("many headers", b"GET /api/v1/summary HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(3000)) + b"\r\n"),
        ("no HTTP version", b"GET /\r\n\r\n"),
        ("bad percent escape", b"GET /api/v1/domains?q=%zz HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("NUL in query", b"GET /api/v1/domains?q=a%00b HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("binary bytes", b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("bad content length", b"POST /api/v1/summary HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
    ):
        got = srv.raw(data)
        status = got.split(b" ", 2)[1] if got.startswith(b"HTTP/1.") else b""
        if status[:1] == b"4":
            ok("%s: %s" % (label, status.decode()))
        else:
            fail("%s: want a 4xx, got %r" % (label, got[:80]))
    # A request line of one word: libmicrohttpd closes the connection
    # without an answer; that is acceptable as long as the server lives.
    got = srv.raw(b"GARBAGE\r\n\r\n")
    check("garbage request line: 4xx or closed", got == b"" or got.split(b" ", 2)[1][:1] == b"4", True)
    st, _, _ = srv.get("/healthz")
    check("still serving after the bad requests", st, 200)


def test_static(srv):
    st, hd, body = srv.get("/")
    check("index.html", (st, hd.get("Content-Type")), (200, "text/html; charset=utf-8"))
    csp = hd.get("Content-Security-Policy", "")
    check("CSP without inline script or style", ("'unsafe-inline'" in csp, "script-src 'self'" in csp), (False, True))
    check("CSP frame-ancestors none", "frame-ancestors 'none'" in csp, True)
    check("nosniff", hd.get("X-Content-Type-Options"), "nosniff")
    check("page has no inline script", b"<script>" in body or b"onclick=" in body, False)
    for f, ct in (("app.js", "text/javascript"), ("style.css", "text/css"), ("uPlot.iife.min.js", "text/javascript"),
                  ("uPlot-LICENSE.txt", "text/plain")):
        st, hd, body = srv.get("/" + f)
        check("static %s" % f, (st, hd.get("Content-Type", "").split(";")[0]), (200, ct))
    st, hd, _ = srv.get("/app.js")
    st2, _, body = srv.get("/app.js", headers={"If-None-Match": hd.get("ETag", "")})
    check("ETag revalidation is 304", (st2, body), (304, b""))
    st, hd, _ = srv.get("/api/v1/summary")
    check("API replies are not cached", hd.get("Cache-Control"), "no-store")


def test_auth_tls(args):
    key = os.path.join(args.dir, "key.pem")
    crt = os.path.join(args.dir, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    pw = os.path.join(args.dir, "password")
    tok = os.path.join(args.dir, "token")
    with open(pw, "w") as f:
        f.write("s3cret pass\n")
    with open(tok, "w") as f:
        f.write("tok-0123456789\n")
    for p in (key, crt, pw, tok):
        os.chmod(p, 0o600)  # read before privileges are dropped
    srv = Server(args, args.port + 1, ["--tls_cert=" + crt, "--tls_key=" + key,
                                       "--web_auth_user=admin", "--web_auth_password_file=" + pw],
                 scheme="https")
    try:
        st, hd, _ = srv.get("/api/v1/summary")
        check("https: no credentials is 401 with a Basic challenge",
              (st, hd.get("WWW-Authenticate", "")[:5]), (401, "Basic"))
        bad = base64.b64encode(b"admin:wrong").decode()
        st, _, _ = srv.get("/api/v1/summary", {"Authorization": "Basic " + bad})
        check("https: wrong password is 401", st, 401)
        good = base64.b64encode(b"admin:s3cret pass").decode()
        st, hd, _ = srv.get("/api/v1/summary", {"Authorization": "Basic " + good})
        check("https: right password is 200", st, 200)
        check("https: HSTS", "max-age" in hd.get("Strict-Transport-Security", ""), True)
        st, _, _ = srv.get("/", {"Authorization": "Basic " + good})
        check("https: page with basic auth", st, 200)
        st, _, _ = srv.get("/")
        check("https: page without basic auth is 401", st, 401)
        st, _, _ = srv.get("/healthz")
        check("https: /healthz needs no credentials", st, 200)
        try:
            plain = urllib.request.urlopen("http://127.0.0.1:%d/healthz" % srv.port, timeout=5)
            fail("plain HTTP on the HTTPS port answered %d" % plain.status)
        except Exception:
            ok("plain HTTP on the HTTPS port is refused")
    finally:
        check("https server exits 0 on SIGTERM", srv.stop(), 0)
    srv = Server(args, args.port + 2, ["--web_token_file=" + tok])
    try:
        st, hd, _ = srv.get("/api/v1/summary")
        check("token: none is 401 with a Bearer challenge", (st, hd.get("WWW-Authenticate", "")[:6]), (401, "Bearer"))
        st, _, _ = srv.get("/api/v1/summary", {"Authorization": "Bearer tok-0123456788"})
        check("token: wrong token is 401", st, 401)
        st, _, _ = srv.get("/api/v1/summary", {"Authorization": "Bearer tok-0123456789"})
        check("token: right token is 200", st, 200)
        st, _, _ = srv.get("/metrics", {"Authorization": "Bearer tok-0123456789"})
        check("token: metrics with token", st, 200)
        st, _, _ = srv.get("/metrics")
        check("token: metrics without token is 401", st, 401)
        st, _, _ = srv.get("/")
        check("token: the page itself loads (it asks for the token)", st, 200)
    finally:
        check("token server exits 0 on SIGTERM", srv.stop(), 0)


def test_readonly(args, S):
    """serve with web_db set to a role that may only SELECT."""
    web_data.psql(args.socket, "DROP ROLE IF EXISTS tlsflow_web_ro; CREATE ROLE tlsflow_web_ro LOGIN;"
                  " GRANT SELECT ON ALL TABLES IN SCHEMA public TO tlsflow_web_ro")
    srv = Server(args, args.port + 3, ["--web_db=host=%s dbname=tlsflow user=tlsflow_web_ro" % args.socket])
    try:
        st, j = srv.json("/api/v1/health")
        check("read-only role: health", (st, j["database"]["user"], j["database"]["read_only"]),
              (200, "tlsflow_web_ro", True))
        st, j = srv.json("/api/v1/summary?range=1y")
        check("read-only role: summary", (st, j["total"]["sessions"]["total"] > 0), (200, True))
        st, hd, _ = srv.get("/metrics")
        check("read-only role: metrics", st, 200)
    finally:
        check("read-only server exits 0 on SIGTERM", srv.stop(), 0)
    web_data.psql(args.socket, "DROP OWNED BY tlsflow_web_ro; DROP ROLE tlsflow_web_ro")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prog", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    args.socket = os.path.join(args.state, "pg", "run")
    args.local_log = os.path.join(args.dir, "local-mail.log")
    with open(args.local_log, "wb") as f:
        f.write(b"x" * 999 + b"\n")
    now = time.time()
    S = web_data.generate(now)
    web_data.load(args.socket, S, args.local_log)
    ok("loaded %d sessions" % len(S))
    today = int(time.time() // 86400)
    srv = Server(args, args.port, [])
    try:
        for t in (lambda: test_summary(srv, S, today, now), lambda: test_series(srv, S, today),
                  lambda: test_domains(srv, S, today), lambda: test_detail(srv, S, today),
                  lambda: test_reports(srv, today), lambda: test_health(srv, args),
                  lambda: test_metrics(srv, S), lambda: test_static(srv), lambda: test_bad(srv),
                  lambda: test_fresh(srv, args)):
            try:
                t()
            except Exception as e:  # a crash of the test is a failure, not an abort
                import traceback
                traceback.print_exc()
                fail("test raised %s: %s" % (type(e).__name__, e))
    finally:
        rc = srv.stop()
        check("server exits 0 on SIGTERM", rc, 0)
    try:
        test_readonly(args, S)
        test_auth_tls(args)
    except Exception as e:
        import traceback
        traceback.print_exc()
        fail("auth/TLS test raised %s: %s" % (type(e).__name__, e))
    print("%d passed, %d failed" % (PASS, FAIL))
    return 0 if FAIL == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
