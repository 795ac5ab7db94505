# store_outage.sh - the PostgreSQL server stops in the middle of a write
# stream (crash-style immediate stop, then a clean fast stop) and comes
# back: the writer keeps its batch, retries, and nothing is lost or
# written twice.
. tests/integration/lib.sh

N=300000
W="$BUILD/tests/synthwrite"
pg_start || { fail "private cluster did not start"; finish; exit; }

for mode in immediate fast; do
	name="outage-$mode"
	$W --state_dir="$STATE" -n $N --name "$name" --batch_size=2000 \
	    --rate 50000 --retry_max=1 >"$TD/$name.log" 2>&1 &
	pid=$!
	sleep 2
	before=$(sql "SELECT count(*) FROM sessions WHERE origin IS NOT NULL")
	pg_stop $mode >/dev/null 2>&1 || fail "$mode stop"
	sleep 4
	pg_start || fail "restart after $mode stop"
	wait $pid
	check "$mode: writer finished" "$?" 0
	check "$mode: stopped mid-stream" "$([ "$before" -gt 0 ] && echo yes)" yes
	grep -q 'retrying with back-off' "$TD/$name.log" &&
	    grep -q 'database is back' "$TD/$name.log"
	check "$mode: outage seen and recovered" "$?" 0
done

set -- $($W --expect -n $N)
total=$(($2 * 2))
check "sessions stored" "$(sql 'SELECT count(*) FROM sessions')" "$total"
check "distinct events" "$(sql "SELECT count(DISTINCT origin) FROM sessions")" "$total"
check "rollup sessions = raw" "$(sql 'SELECT sum(sessions) FROM daily')" "$total"
check "rollup messages = raw" "$(sql 'SELECT sum(messages) FROM daily')" "$(($4 * 2))"
check "checkpoints at the end" "$(sql "SELECT string_agg(off::text, ',' ORDER BY name) FROM checkpoints")" "$N,$N"
finish
