# mta_exim.sh - real Exim (Debian's exim4-daemon-light 4.96, GnuTLS, from
# "apt-get download" + "dpkg -x", see tests/lab/exim-lab.sh) sends to
# receivers in every TLS situation of the Postfix lab (valid certificate,
# no STARTTLS, self-signed, expired, name mismatch; opportunistic and
# required TLS) and receives mail with and without STARTTLS; tlsflow
# collects its main log into PostgreSQL, and the per-domain counts stored
# must equal what the scenario sent (expected.tsv is written by the lab
# from its scenario table, never from tlsflow's output).
. tests/integration/lib.sh

if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
	fail "needs root and unshare (the lab runs Exim in a mount namespace)"
	finish
	exit
fi
LAB="$TD/lab"
if ! bash tests/lab/exim-lab.sh "$LAB" >"$TD/lab.log" 2>&1; then
	fail "the Exim lab did not run; see $TD/lab.log"
	tail -n 20 "$TD/lab.log"
	finish
	exit
fi
ok "Exim lab ran"
cp "$LAB/out/mainlog" "${TESTS_OUT:-tests/out}/exim-lab-mainlog" 2>/dev/null

pg_start || { fail "private cluster did not start"; finish; exit; }
"$PROG" collect --once --state_dir="$STATE" --format exim \
    "$LAB/out/mainlog" >"$TD/collect.log" 2>&1
check "collect --once exit code" "$?" 0

lab_rows "$LAB/expected.tsv" exim

# Nothing beyond the scenario: local injections (P=local) and the local
# blackhole deliveries are not sessions.
want=$(lab_sessions "$LAB/expected.tsv")
check "no sessions beyond the scenario" "$(sql 'SELECT count(*) FROM sessions')" "$want"
check "rollup equals raw sessions" "$(sql 'SELECT sum(sessions) FROM daily')" "$want"
check "checkpoint at the end of the log" \
    "$(sql "SELECT off FROM checkpoints WHERE kind = 'file'")" \
    "$(stat -c %s "$LAB/out/mainlog")"
"$PROG" collect --once --state_dir="$STATE" --format exim \
    "$LAB/out/mainlog" >>"$TD/collect.log" 2>&1
check "second run adds nothing" "$(sql 'SELECT count(*) FROM sessions')" "$want"
finish
