# postfix_lab.sh - real Postfix (Debian's package) sends and receives mail
# on loopback in every TLS situation of tests/lab/postfix-lab.sh; tlsflow
# collects the sending instance's log into PostgreSQL, and the per-domain
# counts stored must equal what the scenario sent (expected.tsv is written
# by the lab from its own scenario table, never from tlsflow's output).
. tests/integration/lib.sh

if [ "$(id -u)" -ne 0 ] || ! command -v postfix >/dev/null; then
	fail "needs root and Debian's postfix package (scripts/install-deps)"
	finish
	exit
fi
LAB="$TD/lab"
if ! bash tests/lab/postfix-lab.sh "$LAB" --pcap >"$TD/lab.log" 2>&1; then
	fail "the Postfix lab did not run; see $TD/lab.log"
	tail -n 20 "$TD/lab.log"
	finish
	exit
fi
ok "Postfix lab ran"
cp "$LAB/out/mail.log" "${TESTS_OUT:-tests/out}/postfix-lab-mail.log" 2>/dev/null

pg_start || { fail "private cluster did not start"; finish; exit; }
"$PROG" collect --once --state_dir="$STATE" --format postfix \
    "$LAB/out/mail.log" >"$TD/collect.log" 2>&1
check "collect --once exit code" "$?" 0

# One row per scenario: every column must match what is stored.
lab_rows "$LAB/expected.tsv"

# Nothing beyond the scenario: internal hops (relay=virtual) not counted.
want=$(lab_sessions "$LAB/expected.tsv")
check "no sessions beyond the scenario" "$(sql 'SELECT count(*) FROM sessions')" "$want"
check "rollup equals raw sessions" "$(sql 'SELECT sum(sessions) FROM daily')" "$want"
check "checkpoint at the end of the log" \
    "$(sql "SELECT off FROM checkpoints WHERE kind = 'file'")" \
    "$(stat -c %s "$LAB/out/mail.log")"
# The collector's counters, for the dashboard's Health page: every line
# of the log was read and each stored session counted.
check "counters: lines read" "$(sql "SELECT lines FROM collector_counters WHERE kind = 'file'")" \
    "$(wc -l <"$LAB/out/mail.log")"
check "counters: sessions" "$(sql "SELECT events FROM collector_counters WHERE kind = 'file'")" "$want"
# A second --once run over the same file stores nothing more.
"$PROG" collect --once --state_dir="$STATE" "$LAB/out/mail.log" >>"$TD/collect.log" 2>&1
check "second run adds nothing" "$(sql 'SELECT count(*) FROM sessions')" "$want"
finish
