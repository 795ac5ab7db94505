#!/bin/sh
# bench/web.sh - tlsflow serve on one year of daily rollups for 10,000 peer
# domains: requests/s and p50/p99 latency of GET /api/v1/summary and
# /api/v1/domains over 20 s each with wrk (Debian's), on loopback, beside
# what the same numbers cost as one SQL query through psql (what a user
# without tlsflow serve would run).  Targets: summary at least 5,000
# requests/s with p99 under 50 ms on this 2-core machine.
#
#   DOMAINS=10000 DAYS=365 DURATION=20 CONNS=32 sh bench/web.sh
set -eu
DOMAINS=${DOMAINS:-10000}
DAYS=${DAYS:-365}
DURATION=${DURATION:-20}
CONNS=${CONNS:-32}
command -v wrk >/dev/null || { echo "web: wrk is missing (scripts/install-deps)"; exit 1; }
D=$(mktemp -d /tmp/tfw.XXXXXX)
chmod 755 "$D"
spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	[ -d "$D/pg/data" ] && runuser -u "$(stat -c %U "$D/pg/data")" -- \
	    "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl" \
	    -D "$D/pg/data" -m fast stop >/dev/null 2>&1
	rm -rf "$D"
}
trap cleanup EXIT
./tlsflow db migrate --state_dir="$D" >/dev/null 2>&1
PSQL="psql -X -qAt -v ON_ERROR_STOP=1 -h $D/pg/run -U tlsflow tlsflow"

# One year of rollups: every domain has encrypted outbound sessions every
# day; every 7th also plaintext, every 13th failures (two result types),
# every 3rd inbound TLS, every 11th inbound plaintext, every 29th unknown.
start=$(date +%s)
$PSQL -c "
INSERT INTO daily (day, direction, domain, tls, result, trust, sessions, messages)
SELECT day, dir, 'd' || n || '.example', tls, result, trust,
       1 + (n * 7 + i) % 40, 1 + (n * 11 + i) % 60
FROM generate_series(1, $DOMAINS) AS n,
     generate_series(0, $DAYS - 1) AS i,
     LATERAL (SELECT (now() AT TIME ZONE 'UTC')::date - i AS day) AS d,
     LATERAL (VALUES
	('outbound', 'tls', 'success', CASE WHEN n % 5 = 0 THEN 'verified' ELSE 'trusted' END, true),
	('outbound', 'plaintext', '', '', n % 7 = 0),
	('outbound', 'failed', CASE WHEN n % 2 = 0 THEN 'certificate-expired' ELSE 'starttls-not-supported' END, '', n % 13 = 0),
	('outbound', 'unknown', '', '', n % 29 = 0),
	('inbound', 'tls', 'success', 'anonymous', n % 3 = 0),
	('inbound', 'plaintext', '', '', n % 11 = 0)
     ) AS v(dir, tls, result, trust, present)
WHERE present"
$PSQL -c "VACUUM ANALYZE daily"
rows=$($PSQL -c "SELECT count(*) FROM daily")
loaded=$(($(date +%s) - start))
size=$($PSQL -c "SELECT pg_size_pretty(pg_total_relation_size('daily'))")
echo "web: loaded $rows rollup rows ($DOMAINS domains x $DAYS days, $size) in ${loaded} s"

# The baseline: the 1-year overview's totals and the domain table's first
# page as plain SQL through psql, timed by PostgreSQL itself.
q_sum="SELECT direction, tls, result, trust, sum(sessions), sum(messages) FROM daily WHERE day > (now() AT TIME ZONE 'UTC')::date - 365 GROUP BY 1, 2, 3, 4"
q_dom="SELECT domain, sum(sessions), sum(sessions) FILTER (WHERE tls = 'plaintext') FROM daily WHERE day > (now() AT TIME ZONE 'UTC')::date - 365 GROUP BY 1 ORDER BY 3 DESC NULLS LAST, 1 LIMIT 50"
sql_ms() {
	$PSQL -c "EXPLAIN (ANALYZE, FORMAT JSON) $1" |
	    python3 -c 'import json, sys; print("%.0f" % json.load(sys.stdin)[0]["Execution Time"])'
}
base_sum=$(sql_ms "$q_sum")
base_dom=$(sql_ms "$q_dom")

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
./tlsflow serve --state_dir="$D" --listen "127.0.0.1:$port" >"$D/serve.log" 2>&1 &
spid=$!
i=0
until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "web: serve did not start"; cat "$D/serve.log"; exit 1; }
	sleep 0.2
done
U="http://127.0.0.1:$port/api/v1"
SUM="$U/summary?range=1y"
DOM="$U/domains?range=1y&sort=plaintext&limit=50"
# The first request computes the year (the cache's cold start).
cold_sum=$(curl -fs -o /dev/null -w '%{time_total}' "$SUM")
cold_dom=$(curl -fs -o /dev/null -w '%{time_total}' "$DOM")
total=$(curl -fs "$DOM" | python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])')
[ "$total" = "$DOMAINS" ] || { echo "web: domains total $total, want $DOMAINS"; exit 1; }
echo "web: first (uncached) request: summary $(awk -v t="$cold_sum" 'BEGIN { printf "%.0f", t * 1000 }') ms," \
    "domains $(awk -v t="$cold_dom" 'BEGIN { printf "%.0f", t * 1000 }') ms"

# wrk: "Requests/sec: N" and, with --latency, "50% X" ... "99% Y".
run_wrk() { # name url
	wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency --timeout 10s "$2" >"$D/wrk.$1" 2>&1
	rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$D/wrk.$1")
	p50=$(awk '$1 == "50%" { print $2 }' "$D/wrk.$1")
	p99=$(awk '$1 == "99%" { print $2 }' "$D/wrk.$1")
	errs=$(awk '/Non-2xx|Socket errors/ { print }' "$D/wrk.$1")
	echo "web: $1 (1 year, $DOMAINS domains): $rps requests/s, p50 $p50, p99 $p99" \
	    "over ${DURATION} s, $CONNS connections${errs:+ ($errs)}"
}
run_wrk summary "$SUM"
sum_rps=$rps sum_p99=$p99
run_wrk domains "$DOM"
echo "web: the same as one SQL query through psql: summary $base_sum ms," \
    "domains page $base_dom ms (each request)"
# The targets, judged on the summary endpoint.
ms() { # "1.23ms" / "456.00us" / "1.2s" -> milliseconds
	echo "$1" | awk '/us$/ { sub("us", ""); print $1 / 1000; next }
	    /ms$/ { sub("ms", ""); print $1; next } /s$/ { sub("s", ""); print $1 * 1000 }'
}
p99ms=$(ms "$sum_p99")
verdict=$(awk -v r="$sum_rps" -v p="$p99ms" 'BEGIN { print (r >= 5000 && p < 50) ? "met" : "NOT met" }')
echo "web: targets (summary >= 5000 requests/s, p99 < 50 ms): $verdict"
