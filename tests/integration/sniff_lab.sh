# sniff_lab.sh - "tlsflow sniff -i lo" watches the real Postfix lab
# (tests/lab/postfix-lab.sh) live: it must open the capture as root, drop
# to an unprivileged account with no way back, log its counters on
# SIGUSR1, flush the open connections on SIGTERM, and give each lab
# session the verdict the scenario table gives (tests/integration/
# sniff_expect.py), as must "sniff -r" of the lab's own tcpdump capture,
# which tshark must also agree with.
. tests/integration/lib.sh

if [ "$(id -u)" -ne 0 ] || ! command -v postfix >/dev/null ||
    ! command -v tcpdump >/dev/null; then
	fail "needs root, postfix and tcpdump (scripts/install-deps)"
	finish
	exit
fi
EXPECT="python3 tests/integration/sniff_expect.py"
tally() {
	cat "$1"
	T_PASS=$((T_PASS + $(grep -c '^ok' "$1")))
	T_FAIL=$((T_FAIL + $(grep -c '^FAIL' "$1")))
}

"$PROG" sniff -i lo --json --sniff_ports="2525 2526" \
    --local_addresses=127.0.0.10 --sniff_user=nobody \
    --hostname=collector.test >"$TD/live.json" 2>"$TD/live.log" &
SNIFF_PID=$!
on_exit "kill $SNIFF_PID 2>/dev/null"
for _ in $(seq 50); do
	grep -q 'sniff: reading lo' "$TD/live.log" && break
	sleep 0.1
done
if ! grep -q 'sniff: reading lo' "$TD/live.log"; then
	fail "sniff -i lo did not start: $(cat "$TD/live.log")"
	finish
	exit
fi
ok "sniff -i lo started"

# Privileges: every uid and gid is nobody's, no capability is left.
nobody_uid=$(id -u nobody)
check "runs as nobody (real, effective, saved, fs uid)" \
    "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$SNIFF_PID/status)" \
    "$nobody_uid $nobody_uid $nobody_uid $nobody_uid"
check "no capabilities" \
    "$(awk '/^CapEff:|^CapPrm:/ { print $2 }' /proc/$SNIFF_PID/status | sort -u)" \
    0000000000000000
check "no new privileges" \
    "$(awk '/^NoNewPrivs:/ { print $2 }' /proc/$SNIFF_PID/status)" 1

LAB="$TD/lab"
if bash tests/lab/postfix-lab.sh "$LAB" --pcap >"$TD/lab.log" 2>&1; then
	ok "Postfix lab ran"
else
	fail "the Postfix lab did not run; see $TD/lab.log"
	tail -n 20 "$TD/lab.log"
fi

# A session still open when sniff stops: SIGTERM must flush it.
python3 - >"$TD/open.log" 2>&1 <<'EOF' &
import socket, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', 2526))
srv.listen(1)
cli = socket.create_connection(('127.0.0.1', 2526), source_address=('127.0.0.10', 0))
conn, _ = srv.accept()
conn.sendall(b'220 open.test ESMTP\r\n')
cli.recv(100)
cli.sendall(b'EHLO still-open.test\r\n')
conn.recv(100)
conn.sendall(b'250-open.test\r\n250 STARTTLS\r\n')
cli.recv(100)
print('open', flush=True)
time.sleep(30)
EOF
OPEN_PID=$!
on_exit "kill $OPEN_PID 2>/dev/null"
for _ in $(seq 50); do
	grep -q open "$TD/open.log" && break
	sleep 0.1
done
sleep 1 # let the last packets reach the capture

kill -USR1 $SNIFF_PID
sleep 1
grep -q 'sniff: pcap: [0-9]* received, [0-9]* dropped' "$TD/live.log" &&
    ok "SIGUSR1: counters with pcap_stats drops" ||
    fail "SIGUSR1: no counters: $(tail -n 3 "$TD/live.log")"
kill -TERM $SNIFF_PID
wait $SNIFF_PID
check "SIGTERM: exit code" "$?" 0
kill $OPEN_PID 2>/dev/null

# The open session was flushed as undecided, never guessed.
grep '"peer_ip":"127.0.0.1"' "$TD/live.json" >"$TD/open.json"
check "SIGTERM flushed the open session" "$(grep -c . "$TD/open.json")" 1
check "open session is unknown" \
    "$(grep -c '"tls":"unknown"' "$TD/open.json")" 1
check "open session's peer" "$(grep -c '"peer_helo":"open.test"' "$TD/open.json")" 1
grep -v '"peer_ip":"127.0.0.1"' "$TD/live.json" >"$TD/live-lab.json"

if [ -f "$LAB/lab.pcap" ]; then
	$EXPECT scenarios tests/lab/postfix-lab.sh "$TD/live-lab.json" \
	    --label live >"$TD/live.check" 2>&1
	tally "$TD/live.check"
	"$PROG" sniff -r "$LAB/lab.pcap" --json --sniff_ports="2525 2526" \
	    --local_addresses=127.0.0.10 >"$TD/file.json" 2>"$TD/file.log"
	check "sniff -r lab.pcap: exit code" "$?" 0
	$EXPECT scenarios tests/lab/postfix-lab.sh "$TD/file.json" \
	    --label file >"$TD/file.check" 2>&1
	tally "$TD/file.check"
	if command -v tshark >/dev/null; then
		$EXPECT tshark "$LAB/lab.pcap" "$TD/file.json" --label file |
		    grep -v '^ok - .*: tshark agrees' >"$TD/file.tshark" 2>&1
		tally "$TD/file.tshark"
	else
		fail "tshark is not installed"
	fi
fi
finish
