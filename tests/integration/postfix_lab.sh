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
lab_run Postfix tests/lab/postfix-lab.sh --pcap
cp "$LAB/out/mail.log" "${TESTS_OUT:-tests/out}/postfix-lab-mail.log" 2>/dev/null

lab_collect_first postfix "$LAB/out/mail.log"

# One row per scenario: every column must match what is stored.
lab_rows "$LAB/expected.tsv"

# Nothing beyond the scenario: internal hops (relay=virtual) not counted.
want=$(lab_sessions "$LAB/expected.tsv")
# The collector's counters, for the dashboard's Health page: every line
# of the log was read and each stored session counted.
check "counters: lines read" "$(sql "SELECT lines FROM collector_counters WHERE kind = 'file'")" \
    "$(wc -l <"$LAB/out/mail.log")"
check "counters: sessions" "$(sql "SELECT events FROM collector_counters WHERE kind = 'file'")" "$want"
lab_collect_rest postfix "$LAB/out/mail.log" "$want"
finish
