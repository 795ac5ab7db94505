# mta_opensmtpd.sh - real OpenSMTPD (Debian 12's opensmtpd 6.8.0p2, from
# "apt-get download" + "dpkg -x", see tests/lab/opensmtpd-lab.sh) relays
# to real Postfix receivers in every TLS situation of the Postfix lab (valid
# certificate, no STARTTLS, self-signed, expired, name mismatch;
# opportunistic smtp:// and required smtp+tls://) and receives mail with
# and without STARTTLS; it logs through syslog(3) to a /dev/log socket of
# the lab, written out as rsyslog would.  tlsflow collects that log into
# PostgreSQL, and the per-domain counts stored must equal what the
# scenario sent (expected.tsv is written by the lab from its scenario
# table, never from tlsflow's output).  --format auto must store the same.
. tests/integration/lib.sh

if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null ||
    ! command -v postfix >/dev/null; then
	fail "needs root, unshare (the lab runs smtpd in a mount namespace) and postfix (the receivers)"
	finish
	exit
fi
LAB="$TD/lab"
if ! bash tests/lab/opensmtpd-lab.sh "$LAB" >"$TD/lab.log" 2>&1; then
	fail "the OpenSMTPD lab did not run; see $TD/lab.log"
	tail -n 20 "$TD/lab.log"
	finish
	exit
fi
ok "OpenSMTPD lab ran"
cp "$LAB/out/maillog" "${TESTS_OUT:-tests/out}/opensmtpd-lab-maillog" 2>/dev/null

pg_start || { fail "private cluster did not start"; finish; exit; }

want=$(lab_sessions "$LAB/expected.tsv")
"$PROG" collect --once --state_dir="$STATE" --format opensmtpd \
    "$LAB/out/maillog" >"$TD/collect.log" 2>&1
check "collect --once exit code" "$?" 0
lab_rows "$LAB/expected.tsv" opensmtpd opensmtpd
# Nothing beyond the scenario: sendmail(8) submissions (address=local)
# and the local deliveries are not sessions.
check "no sessions beyond the scenario" "$(sql 'SELECT count(*) FROM sessions')" "$want"
check "rollup equals raw sessions" "$(sql 'SELECT sum(sessions) FROM daily')" "$want"
check "checkpoint at the end of the log" \
    "$(sql "SELECT off FROM checkpoints WHERE kind = 'file'")" \
    "$(stat -c %s "$LAB/out/maillog")"
"$PROG" collect --once --state_dir="$STATE" --format opensmtpd \
    "$LAB/out/maillog" >>"$TD/collect.log" 2>&1
check "second run adds nothing" "$(sql 'SELECT count(*) FROM sessions')" "$want"

# The same log through format detection, into an emptied store.
sql "TRUNCATE sessions, daily, checkpoints CASCADE" >/dev/null
"$PROG" collect --once --state_dir="$STATE" --format auto \
    "$LAB/out/maillog" >>"$TD/collect.log" 2>&1
check "collect --format auto exit code" "$?" 0
lab_rows "$LAB/expected.tsv" opensmtpd auto
check "auto: no sessions beyond the scenario" "$(sql 'SELECT count(*) FROM sessions')" "$want"
finish
