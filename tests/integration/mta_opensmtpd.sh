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
lab_run OpenSMTPD tests/lab/opensmtpd-lab.sh
cp "$LAB/out/maillog" "${TESTS_OUT:-tests/out}/opensmtpd-lab-maillog" 2>/dev/null

want=$(lab_sessions "$LAB/expected.tsv")
lab_collect_first opensmtpd "$LAB/out/maillog"
lab_rows "$LAB/expected.tsv" opensmtpd opensmtpd
# Nothing beyond the scenario: sendmail(8) submissions (address=local)
# and the local deliveries are not sessions.
lab_collect_rest opensmtpd "$LAB/out/maillog" "$want"

# The same log through format detection, into an emptied store.
sql "TRUNCATE sessions, daily, checkpoints CASCADE" >/dev/null
lab_collect_first auto "$LAB/out/maillog"
lab_rows "$LAB/expected.tsv" opensmtpd auto
check "auto: no sessions beyond the scenario" "$(sql 'SELECT count(*) FROM sessions')" "$want"
finish
