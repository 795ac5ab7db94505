# rotation.sh - lines keep being appended while the log is rotated by
# rename and by copytruncate (also while the collector is down) and the
# collector is SIGKILLed and restarted: every session is stored once.
. tests/integration/lib.sh

pg_start || { fail "private cluster did not start"; finish; exit; }
LOG="$TD/mail.log"
C="$PROG collect --state_dir=$STATE --format postfix --flush_interval=200 -v $LOG"
start_collector() { $C >>"$TD/collect.log" 2>&1 & CPID=$!; }
: >"$LOG"
start_collector
# Rotations before the collector first saw the file are not its to read:
# wait for its first checkpoint before writing.
for i in $(seq 50); do
	[ "$(sql "SELECT count(*) FROM checkpoints" 2>/dev/null)" = 1 ] && break
	sleep 0.2
done
kills=0
/usr/bin/python3 tests/integration/rotation.py "$LOG" 3000 8 \
    rename copytruncate rename-stopped copytruncate >"$TD/written" &
WPID=$!
# Kill the collector at random moments; obey the writer's stop/start.
while kill -0 $WPID 2>/dev/null; do
	if [ -f "$LOG.ctl" ]; then
		if [ "$(cat "$LOG.ctl")" = stop ]; then
			kill -9 $CPID 2>/dev/null && kills=$((kills + 1))
			wait $CPID 2>/dev/null
		else
			start_collector
		fi
		rm -f "$LOG.ctl"
	fi
	if [ $((RANDOM % 5)) -eq 0 ] && kill -9 $CPID 2>/dev/null; then
		kills=$((kills + 1))
		wait $CPID 2>/dev/null
		sleep 0.2
		start_collector
	fi
	sleep 0.1
done
wait $WPID
written=$(cat "$TD/written")
sleep 1
kill -TERM $CPID 2>/dev/null
wait $CPID
# Read what is left, closing the sessions still open.
$C --once >>"$TD/collect.log" 2>&1
check "collector killed at least 3 times" "$([ $kills -ge 3 ] && echo yes)" yes
check "rotations noticed" "$(grep -cE 'truncated|rotated' "$TD/collect.log" | awk '{print ($1 > 0) ? "yes" : "no"}')" yes
check "sessions stored once each" "$(sql 'SELECT count(*) FROM sessions')" "$written"
check "distinct queue ids" "$(sql 'SELECT count(DISTINCT queue_ids) FROM sessions')" "$written"
check "all stored as tls" "$(sql "SELECT count(*) FROM sessions WHERE tls = 'tls'")" "$written"
check "rollup equals raw" "$(sql 'SELECT sum(sessions) FROM daily')" "$written"
finish
