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
lab_run Exim tests/lab/exim-lab.sh
cp "$LAB/out/mainlog" "${TESTS_OUT:-tests/out}/exim-lab-mainlog" 2>/dev/null

lab_collect_first exim "$LAB/out/mainlog"

lab_rows "$LAB/expected.tsv" exim

# Nothing beyond the scenario: local injections (P=local) and the local
# blackhole deliveries are not sessions.
want=$(lab_sessions "$LAB/expected.tsv")
lab_collect_rest exim "$LAB/out/mainlog" "$want"
finish
