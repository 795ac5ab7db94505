# store_roundtrip.sh - every golden log, collected into PostgreSQL, reads
# back exactly as "tlsflow parse" prints it: each field of the DESIGN.md
# event survives the binary COPY (IPv6, odd characters, nulls, arrays).
. tests/integration/lib.sh

pg_start || { fail "private cluster did not start"; finish; exit; }
mkdir -p "$TD/logs"
for f in tests/data/postfix/*.log tests/lab/sample-mail.log; do
	[ -f "$f" ] || continue
	n=$(basename "$f")
	cp "$f" "$TD/logs/$n"
	# Both commands infer the year of RFC 3164 stamps from the mtime.
	touch -d '2026-11-30 12:00:00' "$TD/logs/$n"
done
OPTS="--timezone=UTC --hostname=collector.test --format postfix"
"$PROG" parse $OPTS "$TD"/logs/*.log >"$TD/parsed.jsonl" 2>/dev/null
for f in "$TD"/logs/*.log; do
	"$PROG" collect --once --state_dir="$STATE" $OPTS "$f" \
	    >>"$TD/collect.log" 2>&1 || fail "collect $f"
done
sql "SELECT json_build_object(
	'ts', to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
	'source', source, 'host', host, 'direction', direction,
	'domain', domain, 'peer_host', peer_host, 'peer_ip', host(peer_ip),
	'peer_port', peer_port, 'peer_helo', peer_helo,
	'local_ip', host(local_ip), 'local_port', local_port, 'tls', tls,
	'tls_version', tls_version, 'cipher', cipher,
	'cipher_bits', cipher_bits, 'trust', trust, 'result', result,
	'reason', reason, 'policy', policy, 'messages', messages,
	'status', status, 'queue_ids', queue_ids, 'origin', origin)
	FROM sessions" >"$TD/stored.jsonl"

/usr/bin/python3 - "$TD/parsed.jsonl" "$TD/stored.jsonl" >"$TD/cmp.out" <<'PY'
import collections, json, sys
def load(p):
    return collections.Counter(json.dumps(json.loads(l), sort_keys=True)
                               for l in open(p) if l.strip())
a, b = load(sys.argv[1]), load(sys.argv[2])
print(sum(a.values()), sum(b.values()))
for k in (a - b):
    print("only parsed:", k)
for k in (b - a):
    print("only stored:", k)
PY
set -- $(head -n 1 "$TD/cmp.out")
check "events parsed (some)" "$([ "$1" -gt 20 ] && echo yes)" yes
check "events stored = parsed" "$2" "$1"
check "every stored event equals its parsed form" "$(tail -n +2 "$TD/cmp.out" | wc -l)" 0
tail -n +2 "$TD/cmp.out" | head -n 6
finish
