# report_https.sh - tlsflow report against real DNS, HTTPS and PostgreSQL
#
# A dnsmasq on loopback serves the test zones (tests/report/dnsmasq.conf:
# TLSRPT records valid, several rua, split strings, malformed, two, none;
# _mta-sts records; TLSA), Debian Python's http.server+ssl with the test's
# own CA serves MTA-STS policies (valid, malformed, redirecting, too
# large, slow, mode none) and takes POSTed reports.  Sessions are put into
# the store from the scenario table below, and every expected count comes
# from that table.  Checks: --dry-run (strict RFC 8460 JSON Schema, counts,
# policies), --out (RFC file names, gzip), --send (who gets what, recorded
# attempts), retry after a failure, a rerun sending nothing twice, and a
# SIGKILL in the middle of delivering.
. tests/integration/lib.sh

PY=/usr/bin/python3
R=tests/report
DAY=2026-11-20
DAY2=2026-11-21
HTTPS_ADDR=127.0.6.1
DNS_PORT=53531
for c in dnsmasq openssl psql; do
	command -v $c >/dev/null || { fail "missing $c"; finish; exit; }
done
pg_start || { fail "private cluster did not start"; finish; exit; }
"$PROG" db migrate --state_dir="$STATE" >/dev/null 2>&1 ||
    { fail "migrate"; finish; exit; }

# --- DNS -------------------------------------------------------------------
dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
    --listen-address=127.0.0.1 --port=$DNS_PORT --user=root \
    --conf-file="$PWD/$R/dnsmasq.conf" 2>"$TD/dnsmasq.log" &
DNS_PID=$!
on_exit "kill $DNS_PID 2>/dev/null"

# --- HTTPS: a test CA and one certificate for every name served ----------
mkdir -p "$TD/ca" "$TD/www"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TD/ca/ca.key" \
    -out "$TD/ca/ca.crt" -days 3 -subj "/CN=tlsflow report test CA" \
    >/dev/null 2>&1
san="DNS:rua.test"
for d in sts stsbad stsredir stsbig stsslow stsnone; do
	san="$san,DNS:mta-sts.$d.test"
done
openssl req -newkey rsa:2048 -nodes -keyout "$TD/ca/srv.key" \
    -out "$TD/ca/srv.csr" -subj "/CN=rua.test" >/dev/null 2>&1
printf 'subjectAltName=%s\n' "$san" >"$TD/ca/ext"
openssl x509 -req -in "$TD/ca/srv.csr" -CA "$TD/ca/ca.crt" \
    -CAkey "$TD/ca/ca.key" -CAcreateserial -days 2 \
    -extfile "$TD/ca/ext" -out "$TD/ca/srv.crt" >/dev/null 2>&1
$PY $R/https_server.py $HTTPS_ADDR "$TD/ca/srv.crt" "$TD/ca/srv.key" \
    "$TD/www" >"$TD/https.log" 2>&1 &
HTTPS_PID=$!
on_exit "kill $HTTPS_PID 2>/dev/null"
for i in $(seq 50); do
	grep -q ready "$TD/https.log" 2>/dev/null && break
	sleep 0.1
done
check "https server up" "$(grep -c ready "$TD/https.log")" 1

RARGS=(--state_dir="$STATE" --dns_server=127.0.0.1:$DNS_PORT
    --report_ca_file="$TD/ca/ca.crt" --report_timeout=2
    --dns_timeout=1000 --contact_info=tlsrpt@sender.test
    --organization_name="Sender Test" --report_spread=0
    --report_retry_base=1 --report_suppress=https://rua.test/ok/suppressed)
run_report() { "$PROG" report "${RARGS[@]}" "$@"; }

# --- The scenario: domain|sessions|tls|result|mx|policy|day ---------------
# tls: tls, failed, plaintext, unknown; "-" = NULL.
SCEN="valid.test|5|tls|success|mx.valid.test|-|$DAY
valid.test|2|failed|certificate-expired|mx.valid.test|-|$DAY
valid.test|1|plaintext|-|mx.valid.test|-|$DAY
valid.test|3|unknown|-|mx.valid.test|-|$DAY
multi.test|4|tls|success|mx.multi.test|-|$DAY
malformed.test|2|tls|success|mx.malformed.test|-|$DAY
two.test|1|tls|success|mx.two.test|-|$DAY
none.test|3|tls|success|mx.none.test|-|$DAY
none.test|1|failed|-|mx.none.test|-|$DAY
sts.test|3|tls|success|mx.sts.test|-|$DAY
sts.test|1|failed|certificate-host-mismatch|mx.sts.test|-|$DAY
stsbad.test|1|tls|success|mx.stsbad.test|-|$DAY
stsredir.test|1|tls|success|mx.stsredir.test|-|$DAY
stsbig.test|1|tls|success|mx.stsbig.test|-|$DAY
stsslow.test|1|tls|success|mx.stsslow.test|-|$DAY
stsnone.test|1|tls|success|mx.stsnone.test|-|$DAY
ststxt.test|1|tls|success|mx.ststxt.test|-|$DAY
dane.test|2|tls|success|mx.dane.test|-|$DAY
dane.test|1|failed|tlsa-invalid|mx.dane.test|-|$DAY
dane.test|1|tls|success|mx2.dane.test|-|$DAY
logpol.test|2|tls|success|mx.logpol.test|sts|$DAY
flaky.test|2|tls|success|mx.flaky.test|-|$DAY
suppress.test|1|tls|success|mx.suppress.test|-|$DAY
valid.test|7|tls|success|mx.valid.test|-|$DAY2
k1.test|1|tls|success|mx.k1.test|-|$DAY2
k2.test|2|tls|success|mx.k2.test|-|$DAY2
k3.test|3|tls|success|mx.k3.test|-|$DAY2"

sql "SELECT tlsflow_ensure_day('$DAY'), tlsflow_ensure_day('$DAY2')" >/dev/null
n=0
echo "$SCEN" | while IFS='|' read -r dom cnt tls res mx pol day; do
	n=$((n + 1))
	nul() { [ "$1" = - ] && echo NULL || echo "'$1'"; }
	sql "INSERT INTO sessions (ts, direction, domain, peer_host, peer_ip,
	    local_ip, peer_helo, tls, result, reason, policy)
	    SELECT '$day 01:00:00Z'::timestamptz + g * interval '1 minute',
	    'outbound', '$dom', '$mx', '192.0.2.$n', '198.51.100.7',
	    '$mx', '$tls', $(nul "$res"),
	    CASE WHEN '$tls' = 'failed' THEN 'reason $n' END, $(nul "$pol")
	    FROM generate_series(1, $cnt) g" >/dev/null </dev/null
done
# Not counted: inbound sessions, and sessions of the day before.
sql "SELECT tlsflow_ensure_day('2026-11-19')" >/dev/null
sql "INSERT INTO sessions (ts, direction, domain, tls) VALUES
    ('$DAY 05:00Z', 'inbound', 'valid.test', 'tls'),
    ('2026-11-19 23:59:59Z', 'outbound', 'valid.test', 'tls')" >/dev/null

# Expected per domain and day, from the table: "domain ok failed".
expect() { # DAY
	echo "$SCEN" | awk -F'|' -v d="$1" '$7 == d {
		if ($3 == "tls") ok[$1] += $2; else if ($3 != "unknown") f[$1] += $2;
		seen[$1] = 1 }
	    END { for (k in seen) printf "%s %d %d\n", k, ok[k], f[k] }' | sort
}
expect_unknown() { # DAY DOMAIN
	echo "$SCEN" | awk -F'|' -v d="$1" -v m="$2" \
	    '$7 == d && $1 == m && $3 == "unknown" { u += $2 } END { print u + 0 }'
}

# --- dry run ---------------------------------------------------------------
run_report --date $DAY --dry-run >"$TD/dry.jsonl" 2>"$TD/dry.log"
check "dry-run exit" "$?" 0
$PY $R/check_report.py $R/tlsrpt-schema.json --lines "$TD/dry.jsonl" \
    >"$TD/dry.counts"
check "dry-run reports valid (strict schema)" "$?" 0
check "dry-run: one report per domain with sessions" \
    "$(wc -l <"$TD/dry.jsonl")" "$(expect $DAY | wc -l)"
check "dry-run counts = sessions put in" \
    "$(cut -d' ' -f1-3 "$TD/dry.counts" | sort)" "$(expect $DAY)"
types() { awk -v d="$1" '$1 == d { print $4 " " $5 }' "$TD/dry.counts"; }
check "sts.test: MTA-STS policy" "$(types sts.test)" "1 sts"
check "dane.test: tlsa for mx.dane.test + none for mx2" \
    "$(types dane.test)" "2 no-policy-found,tlsa"
check "logpol.test: policy from the log" "$(types logpol.test)" "1 sts"
for d in stsbad stsredir stsbig stsslow stsnone ststxt none valid; do
	check "$d.test: no-policy-found" "$(types $d.test)" "1 no-policy-found"
done
j() { grep "\"policy-domain\":\"$1\"" "$TD/dry.jsonl" | head -n 1; }
check "sts policy-string = every policy line" \
    "$(j sts.test | $PY -c 'import json,sys; p=json.load(sys.stdin)["policies"][0]["policy"]; print(p["policy-string"], p["mx-host"])')" \
    "['version: STSv1', 'mode: testing', 'mx: mx.sts.test', 'mx: *.backup.sts.test', 'max_age: 86400'] ['mx.sts.test', '*.backup.sts.test']"
check "tlsa policy-string and domain" \
    "$(j mx.dane.test | $PY -c 'import json,sys; [print(p["policy"]["policy-domain"], p["policy"]["policy-string"], p["summary"]["total-failure-session-count"]) for p in json.load(sys.stdin)["policies"] if p["policy"]["policy-type"] == "tlsa"]')" \
    "mx.dane.test ['3 1 1 1F850A337E6DB9C609C522D136A475638CC43E1ED424F8EEC8513D747D1D085D'] 1"
check "valid.test failure details" \
    "$(j valid.test | $PY -c 'import json,sys; print(sorted((d["result-type"], d["failed-session-count"], d["receiving-mx-hostname"], d["sending-mta-ip"]) for d in json.load(sys.stdin)["policies"][0]["failure-details"]))')" \
    "[('certificate-expired', 2, 'mx.valid.test', '198.51.100.7'), ('starttls-not-supported', 1, 'mx.valid.test', '198.51.100.7')]"
check "dry-run --domain" "$(run_report --date $DAY --dry-run --domain multi.test 2>/dev/null | wc -l)" 1
check "lookups cached for the day" \
    "$(sql "SELECT count(*) > 0 FROM report_lookups WHERE day = '$DAY' AND kind = 'sts' AND name = 'stsslow.test'")" t
# The cache makes the second run skip the slow fetch (2 s timeout).
start=$(date +%s)
run_report --date $DAY --dry-run --domain stsslow.test >/dev/null 2>&1
check "cached slow lookup not repeated" "$(( $(date +%s) - start < 2 ))" 1

# --- --out -----------------------------------------------------------------
mkdir "$TD/out"
run_report --date $DAY --out "$TD/out" 2>"$TD/out.log"
check "--out exit" "$?" 0
$PY $R/check_report.py $R/tlsrpt-schema.json --gz "$TD/out"/*.json.gz \
    >"$TD/out.counts"
check "--out files valid, RFC names" "$?" 0
check "--out counts" "$(cut -d' ' -f1-3 "$TD/out.counts" | sort)" "$(expect $DAY)"
check "--out names" "$(ls "$TD/out" | grep -c '^sender\.test!valid\.test!1795132800!1795219199![A-Za-z0-9]*\.json\.gz$')" 1

# --- --send ----------------------------------------------------------------
run_report --date $DAY --send >"$TD/send1.out" 2>"$TD/send1.log"
check "--send exit" "$?" 0
got() { ls "$TD/www" | grep -c "^$1\.[0-9]*\.gz$"; }
check "valid.test delivered once" "$(got valid)" 1
check "multi.test: both destinations" "$(got multi1)+$(got multi2)" "1+1"
check "suppressed destination skipped" "$(got suppressed)+$(got sup2)" "0+1"
check "malformed/two/none: nothing" \
    "$(ls "$TD/www" | grep -cE '^(mal|two|none)')" 0
check "content type" "$(grep -c ' application/tlsrpt+gzip ' "$TD/www/posts.log")" \
    "$(wc -l <"$TD/www/posts.log")"
$PY $R/check_report.py $R/tlsrpt-schema.json --gz "$TD/www"/*.gz >"$TD/post.counts"
check "POSTed reports valid" "$?" 0
check "POSTed counts" "$(awk '{print $1, $2, $3}' "$TD/post.counts" | sort -u)" \
    "$(expect $DAY | grep -E '^(valid|multi|suppress|sts|dane)\.test ')"
check "reports stored (with TLSRPT only)" \
    "$(sql "SELECT string_agg(policy_domain, ',' ORDER BY policy_domain) FROM reports WHERE day = '$DAY'")" \
    "dane.test,flaky.test,multi.test,sts.test,suppress.test,valid.test"
check "unknown sessions recorded" \
    "$(sql "SELECT unknown FROM reports WHERE policy_domain = 'valid.test' AND day = '$DAY'")" \
    "$(expect_unknown $DAY valid.test)"
check "lookups recorded with the report" \
    "$(sql "SELECT lookups->'tlsrpt'->>'rc' FROM reports WHERE policy_domain = 'valid.test'")" ok
check "flaky failed and scheduled" \
    "$(sql "SELECT state, attempts, next_attempt > last_attempt, last_error FROM report_deliveries WHERE destination LIKE '%flaky%'")" \
    "failed|1|t|HTTP status 503"
check "states" "$(sql "SELECT state, count(*) FROM report_deliveries GROUP BY 1 ORDER BY 1" | tr '\n' ' ')" \
    "failed|1 sent|6 suppressed|1 "

# A second run the same day: nothing new is sent (flaky not due yet).
before=$(ls "$TD/www" | grep -c '\.gz$')
run_report --date $DAY --send >/dev/null 2>&1
check "rerun sends nothing twice" "$(ls "$TD/www" | grep -c '\.gz$')" "$before"
check "rerun keeps the stored report-ids" \
    "$(sql "SELECT count(*) FROM reports")" 6

# The flaky destination recovers; after the back-off it gets the report.
touch "$TD/www/flaky.ok"
sleep 2
run_report --date $DAY --send >/dev/null 2>"$TD/send3.log"
check "flaky delivered after retry" "$(got flaky)" 1
check "flaky: sent after failed attempts" \
    "$(sql "SELECT state, attempts > 1 FROM report_deliveries WHERE destination LIKE '%flaky%'")" "sent|t"
check "flaky: one POST accepted" "$(grep -c '^/flaky/' "$TD/www/posts.log")" 1
check "same report as stored (report-id)" \
    "$(gzip -dc "$TD/www"/flaky.1.gz | $PY -c 'import json,sys; print(json.load(sys.stdin)["report-id"])')" \
    "$(sql "SELECT report_id FROM reports WHERE policy_domain = 'flaky.test'")"

# --- killed mid-run --------------------------------------------------------
# k1..k3 answer after 1.5 s; the reporter is SIGKILLed while one of them is
# in flight, then rerun.  Every destination must get its report once.
"$PROG" report "${RARGS[@]}" --date $DAY2 --send >"$TD/kill.out" \
    2>"$TD/kill.log" &
KPID=$!
for i in $(seq 100); do
	[ "$(ls "$TD/www" | grep -cE '^k[123]\.')" -ge 1 ] && break
	sleep 0.1
done
kill -9 $KPID 2>/dev/null
wait $KPID 2>/dev/null
check "killed while delivering" "$(ls "$TD/www" | grep -cE '^k[123]\.')" 1
run_report --date $DAY2 --send >/dev/null 2>"$TD/rerun.log"
check "rerun after kill exit" "$?" 0
check "each destination got its report exactly once" \
    "$(got k1)$(got k2)$(got k3)$(got valid)" "1112"
check "interrupted attempt recorded, not repeated" \
    "$(sql "SELECT count(*) FILTER (WHERE state = 'interrupted'), count(*) FILTER (WHERE state = 'sent') FROM report_deliveries d JOIN reports r USING (report_id) WHERE r.day = '$DAY2' AND d.destination LIKE '%/slow/%'")" \
    "1|2"
$PY $R/check_report.py $R/tlsrpt-schema.json --gz "$TD/www"/k*.gz "$TD/www"/valid.2.gz \
    >"$TD/kill.counts"
check "day-2 reports valid" "$?" 0
check "day-2 counts" "$(awk '{print $1, $2, $3}' "$TD/kill.counts" | sort)" \
    "$(expect $DAY2)"
finish
