#!/bin/sh
# bench/store.sh - sessions/s written through core/store (COPY batches,
# rollup and checkpoint in one transaction per batch) into the private
# cluster, beside PostgreSQL's own bulk load of the same rows with psql's
# \copy, and the writer's peak memory.  Target: 200,000 sessions/s.
set -eu
N=${N:-2000000}
D=$(mktemp -d /tmp/tfb.XXXXXX)
chmod 755 "$D"
trap 'runuser -u "$(stat -c %U "$D/pg/data")" -- \
    $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl \
    -D "$D/pg/data" -m fast stop >/dev/null 2>&1; rm -rf "$D"' EXIT
./tlsflow db migrate --state_dir="$D" >/dev/null 2>&1
PSQL="psql -X -qAt -h $D/pg/run -U tlsflow tlsflow"

BATCH=${BATCH:-50000}
/usr/bin/time -f "%e %M" -o "$D/time" build/tests/synthwrite \
    --state_dir="$D" -n "$N" --batch_size="$BATCH" >/dev/null 2>"$D/log"
set -- $(cat "$D/time")
secs=$1 kb=$2
stored=$($PSQL -c "SELECT count(*) FROM sessions")
rate=$(awk -v n="$stored" -v s="$secs" 'BEGIN { printf "%d", n / s }')

# The baseline: the same rows, exported and bulk-loaded by psql \copy into
# a plain copy of the table (no rollup, no checkpoint, one transaction).
$PSQL -c "\copy (SELECT * FROM sessions) TO '$D/rows.tsv'"
$PSQL -c "CREATE TABLE s2 (LIKE sessions) PARTITION BY RANGE (ts)"
$PSQL -c "SELECT format('CREATE TABLE s2_%s PARTITION OF s2 FOR VALUES FROM (%L) TO (%L)',
    to_char(d, 'YYYYMMDD'), d, d + 1) FROM (SELECT g::date AS d
    FROM generate_series((SELECT min(ts) AT TIME ZONE 'UTC' FROM sessions)::date,
    (SELECT max(ts) AT TIME ZONE 'UTC' FROM sessions)::date, '1 day') g) x" |
    while read -r stmt; do $PSQL -c "$stmt"; done
start=$(date +%s.%N)
$PSQL -c "\copy s2 FROM '$D/rows.tsv'"
end=$(date +%s.%N)
base=$(awk -v n="$stored" -v a="$start" -v b="$end" 'BEGIN { printf "%d", n / (b - a) }')

echo "store: batch_size $BATCH: $stored sessions in ${secs} s: $rate sessions/s" \
    "(target 200000), writer peak memory $((kb / 1024)) MiB"
printf 'store: psql \\copy of the same rows (no rollup, no checkpoint): %s sessions/s\n' "$base"
