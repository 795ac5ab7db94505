# web_api.sh - tlsflow serve over real HTTP against a real PostgreSQL with
# known sessions: every endpoint's numbers, CSV export, /metrics, bad
# requests (4xx, never a crash), HTTPS, basic auth and tokens.  The
# checks are in web_api.py; the data and its expected numbers in
# web_data.py.
. tests/integration/lib.sh

pg_start || { fail "private cluster did not start"; finish; exit; }
"$PROG" db migrate --state_dir="$STATE" >"$TD/migrate.log" 2>&1 ||
    { fail "migrate failed: $(cat "$TD/migrate.log")"; finish; exit; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 tests/integration/web_api.py --prog "$PROG" --state "$STATE" \
    --dir "$TD" --port "$port"
rc=$?
for f in "$TD"/serve-*.log; do
	[ -f "$f" ] && { echo "# $f:"; tail -n 5 "$f"; }
done
exit $rc
