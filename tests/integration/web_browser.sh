# web_browser.sh - the dashboard in headless Chromium: tests/browser/
# (playwright-core from npm, installed here with npm ci, driving Debian's
# /usr/bin/chromium) against tlsflow serve on the web test data set.
# Screenshots of every page go to tests/out/browser/.
. tests/integration/lib.sh

OUT=${TESTS_OUT:-tests/out}/browser
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
if [ ! -x /usr/bin/chromium ] || ! command -v npm >/dev/null; then
	fail "needs Debian's chromium and npm (scripts/install-deps)"
	finish
	exit
fi
if ! (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) \
    >"$TD/npm.log" 2>&1; then
	fail "npm ci in tests/browser failed: $(tail -n 3 "$TD/npm.log")"
	finish
	exit
fi
ok "playwright-core installed with npm ci"
pg_start || { fail "private cluster did not start"; finish; exit; }
"$PROG" db migrate --state_dir="$STATE" >"$TD/migrate.log" 2>&1 ||
    { fail "migrate failed"; finish; exit; }
: >"$TD/local-mail.log"
python3 tests/integration/web_data.py load "$STATE/pg/run" \
    "$TD/local-mail.log" >"$TD/load.log" 2>&1 ||
    { fail "loading the test data failed: $(tail -n 3 "$TD/load.log")"; finish; exit; }
# A domain name that is markup: the page must show it as text.
sql "INSERT INTO daily VALUES ((now() AT TIME ZONE 'UTC')::date,
    'outbound', '<img src=x onerror=alert(1)>.example', 'plaintext', '', '',
    1, 1)" >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PROG" serve --state_dir="$STATE" --listen "127.0.0.1:$port" \
    --web_banner="Sample data: the numbers on this dashboard come from the web test data set" \
    >"$TD/serve.log" 2>&1 &
spid=$!
on_exit "kill $spid 2>/dev/null; wait $spid 2>/dev/null"
# A second server that wants a bearer token.
echo "browser-test-token-42" >"$TD/token"
tport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PROG" serve --state_dir="$STATE" --listen "127.0.0.1:$tport" \
    --web_token_file="$TD/token" >"$TD/serve-token.log" 2>&1 &
tpid=$!
on_exit "kill $tpid 2>/dev/null; wait $tpid 2>/dev/null"
for _ in $(seq 1 100); do
	curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	sleep 0.2
done
rm -rf "$OUT"
for _ in $(seq 1 100); do
	curl -fs "http://127.0.0.1:$tport/healthz" >/dev/null 2>&1 && break
	sleep 0.2
done
node tests/browser/dashboard.js --url "http://127.0.0.1:$port" --out "$OUT" \
    --token-url "http://127.0.0.1:$tport" --token browser-test-token-42
rc=$?
tail -n 3 "$TD/serve.log"
exit $rc
