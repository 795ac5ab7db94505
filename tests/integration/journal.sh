# journal.sh - tlsflow collect --journal reads real journal files.
#
# There is no running journald here (PID 1 is not systemd), so the journal
# files are written by systemd's own systemd-journal-remote from export-
# format input (journal.py) and read through journal_directory.
#  1. The lab's Postfix log (tests/lab/sample-mail.log) as journal entries
#     of postfix@-.service, plus entries that must not count (another
#     unit, a binary MESSAGE, a 20 KB MESSAGE), collected with --once
#     --unit: the stored counts equal the scenario's (sample-expected.tsv)
#     and those of `tlsflow parse` over the plain log (independent path).
#  2. Sessions appended in rounds to several journal files while the
#     collector is SIGKILLed at random moments: each is stored once.
. tests/integration/lib.sh

REMOTE=/lib/systemd/systemd-journal-remote
if [ ! -x $REMOTE ]; then
	fail "needs systemd-journal-remote (scripts/install-deps)"
	finish
	exit
fi
export TZ=UTC
pg_start || { fail "private cluster did not start"; finish; exit; }

# 1. The lab sample.
mkdir "$TD/j1"
/usr/bin/python3 tests/integration/journal.py export tests/lab/sample-mail.log \
    postfix@-.service | $REMOTE --output="$TD/j1/lab.journal" - 2>"$TD/remote.log"
check "systemd-journal-remote wrote the lab journal" "$?" 0
n=$(journalctl --file="$TD/j1/lab.journal" -q | wc -l)
check "journal entries (log lines + 3)" "$n" "$(($(wc -l <tests/lab/sample-mail.log) + 3))"
"$PROG" collect --once --state_dir="$STATE" --format postfix \
    --journal_directory="$TD/j1" --journal --unit postfix@- \
    >"$TD/collect1.log" 2>&1
check "collect --once --journal exit code" "$?" 0
tail -n +2 tests/lab/sample-expected.tsv | awk -F'\t' '{ print $1 "|" $2 "|" $6 "|" $7 }' |
    sort >"$TD/want.tsv"
sql "SELECT direction, domain, count(*), sum(messages) FROM sessions
    GROUP BY 1, 2" | sort >"$TD/got.tsv"
check "per-domain sessions and messages equal the scenario" \
    "$(diff "$TD/want.tsv" "$TD/got.tsv" >&2 && echo same)" same
"$PROG" parse --format postfix --year 2026 tests/lab/sample-mail.log |
    /usr/bin/python3 -c 'import json, sys, collections
c = collections.Counter()
for l in sys.stdin:
    e = json.loads(l)
    c[(e["direction"], e["domain"])] += 1
for (d, dom), n in c.items():
    print("%s|%s|%d" % (d, dom, n))' | sort >"$TD/parse.tsv"
sql "SELECT direction, domain, count(*) FROM sessions GROUP BY 1, 2" |
    sort >"$TD/got3.tsv"
check "per-domain sessions equal tlsflow parse of the plain log" \
    "$(diff "$TD/parse.tsv" "$TD/got3.tsv" >&2 && echo same)" same
check "other unit filtered out" "$(sql "SELECT count(*) FROM sessions WHERE domain = 'noise.test'")" 0
check "journal checkpoint" "$(sql "SELECT kind, name, off > 0, cursor LIKE 's=%' FROM checkpoints")" \
    "journal|$TD/j1|t|t"
before=$(sql 'SELECT count(*) FROM sessions')
"$PROG" collect --once --state_dir="$STATE" --format postfix \
    --journal_directory="$TD/j1" --journal --unit postfix@- \
    >>"$TD/collect1.log" 2>&1
check "second run adds nothing" "$(sql 'SELECT count(*) FROM sessions')" "$before"
check "rollup equals raw" "$(sql 'SELECT sum(sessions) FROM daily')" "$before"

# 2. SIGKILLs while entries are appended to several journal files.
mkdir "$TD/j2"
C="$PROG collect --state_dir=$STATE --format postfix --flush_interval=200 -v
    --journal_directory=$TD/j2 --journal"
start_collector() { $C >>"$TD/collect2.log" 2>&1 & CPID=$!; }
start_collector
kills=0
/usr/bin/python3 tests/integration/journal.py write "$TD/j2" 3000 12 3 \
    >"$TD/written" &
WPID=$!
while kill -0 $WPID 2>/dev/null; do
	if [ $((RANDOM % 4)) -eq 0 ] && kill -9 $CPID 2>/dev/null; then
		kills=$((kills + 1))
		wait $CPID 2>/dev/null
		sleep 0.$((RANDOM % 3))
		start_collector
	fi
	sleep 0.1
done
wait $WPID
written=$(cat "$TD/written")
sleep 1
kill -TERM $CPID 2>/dev/null
wait $CPID
$C --once >>"$TD/collect2.log" 2>&1
check "collector killed at least 3 times" "$([ $kills -ge 3 ] && echo yes)" yes
check "journal files written" "$(ls "$TD/j2" | wc -l)" 3
check "resumed from the journal checkpoint" \
    "$(grep -c 'resuming at entry' "$TD/collect2.log" | awk '{print ($1 > 0) ? "yes" : "no"}')" yes
W="domain LIKE '%.jtest'"
check "sessions stored once each" "$(sql "SELECT count(*) FROM sessions WHERE $W")" "$written"
check "distinct queue ids" "$(sql "SELECT count(DISTINCT queue_ids) FROM sessions WHERE $W")" "$written"
check "all stored as tls" "$(sql "SELECT count(*) FROM sessions WHERE $W AND tls = 'tls'")" "$written"
check "rollup equals raw" "$(sql 'SELECT sum(sessions) FROM daily')" "$(sql 'SELECT count(*) FROM sessions')"
finish
