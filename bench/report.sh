#!/bin/sh
# bench/report.sh - build every RFC 8460 report of one UTC day holding
# N outbound sessions (default 10,000,000) over K policy domains (default
# 100,000): tlsflow report --out (aggregation in PostgreSQL, JSON, gzip,
# one RFC-named file per domain; no lookups, no delivery), its time and
# peak memory, beside psql running the same GROUP BY alone (what a user
# scripting reports by hand would run first).  Target: < 60 s, < 1 GiB.
set -eu
N=${N:-10000000}
K=${K:-100000}
DAY=2026-11-20
D=$(mktemp -d /tmp/tfb.XXXXXX)
chmod 755 "$D"
trap 'runuser -u "$(stat -c %U "$D/pg/data")" -- \
    $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl \
    -D "$D/pg/data" -m fast stop >/dev/null 2>&1; rm -rf "$D"' EXIT
./tlsflow db migrate --state_dir="$D" >/dev/null 2>&1
PSQL="psql -X -qAt -h $D/pg/run -U tlsflow tlsflow"

# The day's sessions, generated in the database: per session i, domain
# i % K with three MX hosts; 80% tls, 8% failed (three result types),
# 7% plaintext, 5% unknown.
gen_start=$(date +%s)
$PSQL -c "SELECT tlsflow_ensure_day('$DAY')" >/dev/null
$PSQL -c "INSERT INTO sessions (ts, source, direction, domain, peer_host,
    peer_ip, peer_helo, local_ip, tls, result, reason, messages)
    SELECT '$DAY'::timestamptz + (i % 86400) * interval '1 second',
    'postfix', 'outbound', 'd' || (i % $K) || '.test',
    'mx' || (i / $K % 3) || '.d' || (i % $K) || '.test',
    ('10.' || (i % $K / 65536) || '.' || (i % $K / 256 % 256) || '.'
     || (i % $K % 250 + i / $K % 3))::inet,
    'mx' || (i / $K % 3) || '.d' || (i % $K) || '.test',
    ('198.51.100.' || (i % 4 + 1))::inet,
    CASE WHEN i % 100 < 80 THEN 'tls' WHEN i % 100 < 88 THEN 'failed'
         WHEN i % 100 < 95 THEN 'plaintext' ELSE 'unknown' END,
    CASE WHEN i % 100 < 80 THEN 'success'
         WHEN i % 100 < 88 THEN (ARRAY['certificate-expired',
	     'certificate-not-trusted', 'certificate-host-mismatch'])[i % 3 + 1]
    END,
    CASE WHEN i % 100 BETWEEN 80 AND 87 THEN 'X509_V_ERR_' || (i % 3) END, 1
    FROM generate_series(0, $N - 1) i"
$PSQL -c "VACUUM ANALYZE sessions"
gen=$(( $(date +%s) - gen_start ))

mkdir "$D/out"
/usr/bin/time -f "%e %M" -o "$D/time" ./tlsflow report \
    --state_dir="$D" --date $DAY --out "$D/out" --report_lookups=no \
    --contact_info=tlsrpt@bench.test 2>"$D/log" || { cat "$D/log"; exit 1; }
set -- $(cat "$D/time")
secs=$1 kb=$2
files=$(ls "$D/out" | wc -l)

# The baseline: the same grouping query alone, through psql to /dev/null.
start=$(date +%s.%N)
$PSQL -c "SELECT domain, policy, peer_host, tls, result, local_ip,
    peer_helo, peer_ip, reason, count(*) FROM sessions
    WHERE ts >= '$DAY' AND ts < '$DAY'::date + 1 AND direction = 'outbound'
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1" >/dev/null
end=$(date +%s.%N)
base=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

echo "report: $N sessions over $K domains (generated in ${gen} s):" \
    "$files reports built in $secs s, peak memory $((kb / 1024)) MiB" \
    "(target < 60 s, < 1024 MiB)"
echo "report: psql running the same GROUP BY alone: $base s"
