# store_crash.sh - 1,000,000 events through core/store while the writer is
# SIGKILLed at random moments: every event stored exactly once, the rollup
# equal to the raw rows, the checkpoint at the end.
. tests/integration/lib.sh

N=1000000
W="$BUILD/tests/synthwrite"
ARGS="--state_dir=$STATE -n $N --batch_size=5000 --rate 120000"
pg_start || { fail "private cluster did not start"; finish; exit; }

kills=0
mid=0
while [ $kills -lt 6 ]; do
	$W $ARGS >>"$TD/writer.log" 2>&1 &
	pid=$!
	# 0.4 to 1.6 s: past start-up, inside a batch or a commit.
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.4 + (r % 120) / 100 }')"
	if kill -9 $pid 2>/dev/null; then
		kills=$((kills + 1))
	fi
	wait $pid 2>/dev/null
done
$W $ARGS >>"$TD/writer.log" 2>&1 || fail "final writer run failed"
# Every restart after the first resumed from a checkpoint inside the run.
mid=$(grep -cE 'resuming at [1-9][0-9]* of' "$TD/writer.log")
check "writer killed at least 5 times" "$([ $kills -ge 5 ] && echo yes)" yes
check "restarts resumed mid-stream" "$([ "$mid" -ge 5 ] && echo yes)" yes

set -- $($W --expect -n $N)
check "sessions stored" "$(sql 'SELECT count(*) FROM sessions')" "$2"
check "distinct events" "$(sql 'SELECT count(DISTINCT origin) FROM sessions')" "$2"
check "messages stored" "$(sql 'SELECT sum(messages) FROM sessions')" "$4"
check "tls sessions" "$(sql "SELECT count(*) FROM sessions WHERE tls = 'tls'")" "$6"
check "rollup sessions = raw" "$(sql 'SELECT sum(sessions) FROM daily')" "$2"
check "rollup messages = raw" "$(sql 'SELECT sum(messages) FROM daily')" "$4"
check "rollup rows match raw groups" "$(sql "
  WITH raw AS (
    SELECT (ts AT TIME ZONE 'UTC')::date AS day, coalesce(direction, '') d,
           coalesce(domain, '') dom, tls, coalesce(result, '') r,
           coalesce(trust, '') t, count(*) s, sum(messages) m
    FROM sessions GROUP BY 1, 2, 3, 4, 5, 6),
  roll AS (SELECT day, direction, domain, tls, result, trust, sessions,
           messages FROM daily)
  SELECT count(*) FROM ((SELECT * FROM raw EXCEPT SELECT * FROM roll)
    UNION ALL (SELECT * FROM roll EXCEPT SELECT * FROM raw)) x")" 0
check "checkpoint at the end" "$(sql "SELECT off FROM checkpoints WHERE kind = 'synthetic'")" "$N"
finish
