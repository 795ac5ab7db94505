# mta_sendmail.sh - real Sendmail (Debian's sendmail-bin 8.17, OpenSSL,
# from "apt-get download" + "dpkg -x", see tests/lab/sendmail-lab.sh)
# sends to receivers in every TLS situation of the Postfix lab (valid
# certificate, no STARTTLS, self-signed, expired, name mismatch;
# opportunistic, and required through access-map TLS_Srv entries: VERIFY,
# VERIFY+CN, ENCR) and receives mail with and without STARTTLS; its
# syslog lines go to a file as rsyslog writes them, tlsflow collects that
# file into PostgreSQL, and the per-domain counts stored must equal what
# the scenario sent (expected.tsv is written by the lab from its scenario
# table, never from tlsflow's output).
. tests/integration/lib.sh

if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
	fail "needs root and unshare (the lab runs Sendmail in a mount namespace)"
	finish
	exit
fi
lab_run Sendmail tests/lab/sendmail-lab.sh
LOG="$LAB/out/mail.log"
cp "$LOG" "${TESTS_OUT:-tests/out}/sendmail-lab-mail.log" 2>/dev/null

lab_collect_first sendmail "$LOG"

lab_rows "$LAB/expected.tsv" sendmail

# Nothing beyond the scenario: local submissions (relay=root@localhost),
# the inbound mail's delivery to /dev/null (mailer=*file*) and the daemon's
# own lines are not sessions.
want=$(lab_sessions "$LAB/expected.tsv")
lab_collect_rest sendmail "$LOG" "$want"

# --format auto must find the same sessions as --format sendmail.
"$PROG" parse --format sendmail "$LOG" >"$TD/parse.sendmail" 2>&1
"$PROG" parse --format auto "$LOG" >"$TD/parse.auto" 2>&1
check "parse --format sendmail: one event per session" \
    "$(grep -c '"source":"sendmail"' "$TD/parse.sendmail")" "$want"
if cmp -s "$TD/parse.sendmail" "$TD/parse.auto"; then
	ok "parse --format auto prints the same events"
else
	fail "parse --format auto differs from --format sendmail"
	diff "$TD/parse.sendmail" "$TD/parse.auto" | head -n 10
fi
finish
