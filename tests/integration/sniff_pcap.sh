# sniff_pcap.sh - "tlsflow sniff -r" on the Postfix lab's capture
# (tests/data/pcap/lab.pcap, see its README) and on that capture
# rewritten by tests/tools/pcaprewrite into every link type, IPv6,
# pcapng, tiny segments, overlaps, duplicates, reordering and snaplen
# cuts: every form must give the verdicts the scenario table gives
# (tests/integration/sniff_expect.py says how a wire observer sees each
# scenario), and agree with tshark's view of the same capture.  Then the
# events go into a real PostgreSQL, exactly once across two runs.
. tests/integration/lib.sh

PCAP=tests/data/pcap/lab.pcap
TABLE=tests/data/pcap/lab-scenarios.txt
RW="$BUILD/tests/pcaprewrite"
EXPECT="python3 tests/integration/sniff_expect.py"

# run_sniff PCAP OUT LOCAL: JSON events of a capture
run_sniff() {
	"$PROG" sniff -r "$1" --json --sniff_ports="2525 2526" \
	    --local_addresses="$3" --hostname=collector.test >"$2" \
	    2>"$2.log"
}

# tally: count the ok/FAIL lines of a check's output
tally() {
	cat "$1"
	T_PASS=$((T_PASS + $(grep -c '^ok' "$1")))
	T_FAIL=$((T_FAIL + $(grep -c '^FAIL' "$1")))
}

# variant NAME TSHARK(yes/no) LOSSY(yes/no) REWRITE-OPTIONS...
variant() {
	name=$1 tshark=$2 lossy=$3
	shift 3
	local_addr=127.0.0.10
	case " $* " in *" -6 "*) local_addr=fd00::7f00:a ;; esac
	if [ "$name" = original ]; then
		cp "$PCAP" "$TD/$name.pcap"
	elif ! "$RW" "$@" "$PCAP" "$TD/$name.pcap"; then
		fail "$name: pcaprewrite $*"
		return
	fi
	if [ "$name" = pcapng ]; then
		editcap -F pcapng "$TD/$name.pcap" "$TD/$name.pcapng" &&
		    mv "$TD/$name.pcapng" "$TD/$name.pcap"
		check "pcapng: file is pcapng" \
		    "$(od -An -tx1 -N4 "$TD/$name.pcap" | tr -d ' ')" 0a0d0d0a
	fi
	if ! run_sniff "$TD/$name.pcap" "$TD/$name.json" "$local_addr"; then
		fail "$name: sniff exit $?: $(tail -n 2 "$TD/$name.json.log")"
		return
	fi
	opt=
	[ "$lossy" = yes ] && opt=--lossy
	$EXPECT scenarios "$TABLE" "$TD/$name.json" $opt --label "$name" \
	    >"$TD/$name.check" 2>&1
	tally "$TD/$name.check"
	if [ "$tshark" = yes ] && [ -n "$TSHARK" ]; then
		$EXPECT tshark "$TD/$name.pcap" "$TD/$name.json" \
		    --label "$name" >"$TD/$name.tshark" 2>&1
		# One line per capture is enough when all agree.
		grep -v '^ok - .*: tshark agrees' "$TD/$name.tshark" >"$TD/$name.t2"
		tally "$TD/$name.t2"
	fi
}

[ -x "$RW" ] || { fail "no $RW (make tests-bin)"; finish; exit; }
TSHARK=$(command -v tshark || true)
[ -n "$TSHARK" ] || fail "tshark is not installed (scripts/install-deps)"

variant original yes no
variant pcapng yes no
variant vlan yes no -l vlan
variant qinq yes no -l qinq
variant sll yes no -l sll
variant sll2 yes no -l sll2
variant null yes no -l null
variant loop yes no -l loop
variant raw yes no -l raw
variant ipv6 yes no -6
variant ipv6-sll2 yes no -6 -l sll2
variant tiny yes no -s 1
variant overlaps yes no -s 7 -o
variant duplicates yes no -d
variant reordered no no -w 6 -S 3
variant reordered2 no no -w 4 -S 7
variant everything no no -w 8 -S 5 -d -s 3 -o -l sll2
variant snaplen96 no yes -t 96
variant snaplen200 no yes -t 200
variant snaplen400 no yes -t 400

# Nothing is guessed from a cut capture: the deciding bytes are gone.
check "snaplen 96: no session decided as tls" \
    "$(grep -c '"tls":"tls"' "$TD/snaplen96.json")" 0
# The counters are logged at exit.
grep -q 'sniff: flows: 24 made' "$TD/original.json.log" &&
    ok "counters at exit" || fail "counters at exit: $(cat "$TD/original.json.log")"
check "tiny segments: reassembled" \
    "$(grep -c 'out of order, [0-9]* duplicate' "$TD/tiny.json.log")" 1

# The same events as JSON, field by field, whatever the link type.
for v in vlan qinq sll sll2 null loop raw pcapng tiny overlaps duplicates; do
	python3 - "$TD/original.json" "$TD/$v.json" >"$TD/same.$v" <<'EOF'
import json, sys
def load(p):
    out = []
    for l in open(p):
        e = json.loads(l)
        e.pop('origin'); e.pop('ts')
        out.append(json.dumps(e, sort_keys=True))
    return sorted(out)
a, b = load(sys.argv[1]), load(sys.argv[2])
print('same' if a == b else 'differ: %d vs %d' % (len(a), len(b)))
EOF
	check "$v: events equal the original's" "$(cat "$TD/same.$v")" same
done

# A STARTTLS injection in the capture is counted and not read as mail.
python3 - "$PCAP" "$TD/inject.pcap" <<'EOF'
import struct, sys
# Append "MAIL FROM:<evil@inject.test>" to the first STARTTLS segment of
# the capture (Ethernet/IPv4/TCP, in order), fixing the lengths and every
# later sequence number of that direction.
data = open(sys.argv[1], 'rb').read()
out = bytearray(data[:24])
off, shift, key = 24, 0, None
extra = b'MAIL FROM:<evil@inject.test>\r\n'
while off < len(data):
    ts1, ts2, incl, orig = struct.unpack('<IIII', data[off:off + 16])
    p = bytearray(data[off + 16:off + 16 + incl])
    off += 16 + incl
    ihl = (p[14] & 15) * 4
    t = 14 + ihl
    thl = (p[t + 12] >> 4) * 4
    k = (bytes(p[26:30]), p[t:t + 2], bytes(p[30:34]), p[t + 2:t + 4])
    rk = (k[2], k[3], k[0], k[1])
    if key is not None and k == key:
        seq = struct.unpack('>I', p[t + 4:t + 8])[0]
        p[t + 4:t + 8] = struct.pack('>I', (seq + shift) & 0xffffffff)
    if key is not None and k == rk_key:
        ack = struct.unpack('>I', p[t + 8:t + 12])[0]
        p[t + 8:t + 12] = struct.pack('>I', (ack + shift) & 0xffffffff)
    if key is None and p[t + thl:] == b'STARTTLS\r\n':
        key, rk_key, shift = k, rk, len(extra)
        p += extra
        p[16:18] = struct.pack('>H', len(p) - 14)
    out += struct.pack('<IIII', ts1, ts2, len(p), len(p)) + p
open(sys.argv[2], 'wb').write(out)
EOF
run_sniff "$TD/inject.pcap" "$TD/inject.json" 127.0.0.10
grep -q '1 with starttls injection' "$TD/inject.json.log" &&
    ok "injection counted" || fail "injection not counted: $(tail -n 3 "$TD/inject.json.log")"
check "injected MAIL FROM not read as mail" \
    "$(grep -c 'inject.test' "$TD/inject.json")" 0
check "injected session still judged by its TLS" \
    "$(grep -c '"tls":"tls"' "$TD/inject.json")" \
    "$(grep -c '"tls":"tls"' "$TD/original.json")"

# A tiny flow table: evictions are counted, nothing crashes, and the
# memory cap holds.
"$PROG" sniff -r "$TD/tiny.pcap" --json --sniff_ports="2525 2526" \
    --local_addresses=127.0.0.10 --flow_max=16 >"$TD/small.json" 2>"$TD/small.log"
check "flow_max=16: exit code" "$?" 0
grep -qE 'evicted|flows: 24 made' "$TD/small.log" &&
    ok "flow_max=16: counters" || fail "flow_max=16: $(tail -n 2 "$TD/small.log")"

# Real OpenSSL handshakes on implicit-TLS ports (tests/data/pcap/README):
# a HelloRetryRequest before the real ServerHello, TLS 1.2, and a server
# that refuses TLS 1.2 with an alert.
"$PROG" sniff -r tests/data/pcap/openssl.pcap --json \
    --sniff_ports=4650,4651,4652 --sniff_tls_ports=4650,4651,4652 \
    --sniff_submission_ports=4650,4651,4652 \
    --local_addresses=192.0.2.1 >"$TD/openssl.json" 2>"$TD/openssl.log"
check "openssl.pcap: exit code" "$?" 0
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    print(e["local_port"], e["direction"], e["tls"], e["tls_version"],
          e["cipher"], e["reason"])' "$TD/openssl.json" | sort >"$TD/openssl.got"
cat >"$TD/openssl.want" <<'WANT'
4650 submission tls TLSv1.3 TLS_AES_256_GCM_SHA384 None
4651 submission tls TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 None
4652 submission failed None None tls alert from server: protocol_version
WANT
check "openssl.pcap: hrr, tls 1.2, alert" "$(cat "$TD/openssl.got")" \
    "$(cat "$TD/openssl.want")"
if [ -n "$TSHARK" ]; then
	$EXPECT tshark tests/data/pcap/openssl.pcap "$TD/openssl.json" \
	    --implicit 4650,4651,4652 --label openssl >"$TD/openssl.t" 2>&1
	tally "$TD/openssl.t"
fi

# Into PostgreSQL: every session once, also when run twice.
if pg_start; then
	"$PROG" sniff -r "$PCAP" --state_dir="$STATE" --sniff_ports="2525 2526" \
	    --local_addresses=127.0.0.10 >"$TD/store.log" 2>&1
	check "store: exit code" "$?" 0
	check "store: sessions" "$(sql "SELECT count(*) FROM sessions")" 24
	check "store: by verdict" \
	    "$(sql "SELECT string_agg(tls || '=' || n, ' ' ORDER BY tls) FROM (SELECT tls, count(*) n FROM sessions GROUP BY tls) x")" \
	    "plaintext=6 tls=18"
	check "store: source pcap" \
	    "$(sql "SELECT count(*) FROM sessions WHERE source = 'pcap'")" 24
	check "store: checkpoint" \
	    "$(sql "SELECT kind, off FROM checkpoints WHERE kind = 'pcap'")" \
	    "pcap|$(( $(grep -o '^tlsflow: sniff: [0-9]* packets' "$TD/original.json.log" | grep -o '[0-9]*' | head -n 1) + 2 ))"
	"$PROG" sniff -r "$PCAP" --state_dir="$STATE" --sniff_ports="2525 2526" \
	    --local_addresses=127.0.0.10 >>"$TD/store.log" 2>&1
	check "store: a second run adds nothing" \
	    "$(sql "SELECT count(*) FROM sessions")" 24
	check "store: rollup" "$(sql "SELECT sum(sessions) FROM daily")" 24
else
	fail "private cluster did not start"
fi
finish
