#!/bin/bash
# postfix-lab.sh - run a real-Postfix TLS lab on loopback and keep its log.
#
# Usage (as root): tests/lab/postfix-lab.sh DIR [--pcap]
#
# Builds everything inside DIR (which must not exist or be empty):
#   DIR/ca/             test CA and server certificates (openssl)
#   DIR/postfix/NAME/   one Postfix instance each: "out" (our MTA) and the
#                       receivers valid, selfsigned, expired, mismatch, notls
#   DIR/out/mail.log    the log of "out", written by its postlogd
#   DIR/expected.tsv    what each scenario must look like, from the table below
#   DIR/lab.pcap        with --pcap: all lab SMTP traffic on lo
#
# The log is the input of golden tests for the Postfix parser, and
# expected.tsv is what the parser must make of it.  expected.tsv is written
# from the scenario table alone, never from the log, so that a wrong
# parser cannot agree with a wrong lab.  The script checks only that every
# planned delivery attempt happened with the planned status (and, with
# --pcap, that the capture has exactly one TCP connection per planned
# session); it exits 0 only then.  All instances are stopped on any exit.
#
# Network: everything listens on and talks to 127.0.0.0/8 only.  Peer name
# lookups are off so that no DNS query leaves the host.

set -euo pipefail

usage() {
	echo "usage: $0 DIR [--pcap]" >&2
	exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	usage
fi
DIR=$1
PCAP=no
if [ $# -eq 2 ]; then
	[ "$2" = "--pcap" ] || usage
	PCAP=yes
fi

LAB_NAME=postfix-lab
# shellcheck source=tests/lab/lab-common.sh
. "$(dirname "$0")/lab-common.sh"

lab_need postfix postconf postsuper sendmail swaks openssl ss runuser script
[ "$PCAP" = no ] || lab_need tcpdump

# ---------------------------------------------------------------------------
# The scenario table: the only place that says what the lab does.
#
# Fields (| separated):
#   domain     recipient domain (outbound) or sender domain (inbound)
#   direction  outbound | inbound
#   peer       outbound: receiver instance name; inbound: swaks source address
#   policy     outbound: our TLS policy for this domain ("may" = the default,
#              anything else goes into smtp_tls_policy_maps);
#              inbound: "tls" (swaks --tls) or "plain"
#   tls result trust status   the expected.tsv columns ("-" = empty)
#   count      number of messages, each its own SMTP session
#
# Counts differ between neighbours so that a parser that mixes up domains
# or counts lines instead of sessions shows it.
#
# trust for the three certificate failures is "untrusted", not empty: under
# a "secure" policy Postfix still completes the handshake, logs
# "certificate verification failed ..." and then "Untrusted TLS connection
# established ...", and only then defers with "Server certificate not
# verified".  Since Postfix 3.6 a name mismatch is found by OpenSSL during
# chain verification (num=62:hostname mismatch), so it too is "Untrusted",
# not "Trusted".  encrypt-notls has no handshake, hence no trust.
SCENARIOS=(
	"valid.test|outbound|valid|may|tls|success|trusted|sent|3"
	"verified.test|outbound|valid|secure match=mx.valid.test|tls|success|verified|sent|2"
	"selfsigned.test|outbound|selfsigned|may|tls|success|untrusted|sent|2"
	"expired.test|outbound|expired|may|tls|success|untrusted|sent|1"
	"mismatch.test|outbound|mismatch|may|tls|success|trusted|sent|2"
	"notls.test|outbound|notls|may|plaintext|-|-|sent|3"
	"secure-selfsigned.test|outbound|selfsigned|secure|failed|certificate-not-trusted|untrusted|deferred|2"
	"secure-expired.test|outbound|expired|secure match=mx.expired.test|failed|certificate-expired|untrusted|deferred|1"
	"secure-mismatch.test|outbound|mismatch|secure match=mx.mismatch.test|failed|certificate-host-mismatch|untrusted|deferred|2"
	"encrypt-notls.test|outbound|notls|encrypt|failed|starttls-not-supported|-|deferred|1"
	"partner-tls.test|inbound|127.0.0.21|tls|tls|success|anonymous|-|3"
	"partner-plain.test|inbound|127.0.0.22|plain|plaintext|-|-|-|2"
)

# Receivers: name|address|certificate ("none" = no STARTTLS offered).
# Each listens on two ports: PORT_MAY for domains that use our default
# policy and PORT_POLICY for the domain with a policy-table entry.  Postfix
# looks TLS policy up by next hop, not by recipient domain, so a "may"
# domain and a "secure" domain must not share a next hop.
RECEIVERS=(
	"valid|127.0.0.11|valid"
	"selfsigned|127.0.0.12|selfsigned"
	"expired|127.0.0.13|expired"
	"mismatch|127.0.0.14|mismatch"
	"notls|127.0.0.15|none"
)
OUT_ADDR=127.0.0.10
PORT_MAY=2525
PORT_POLICY=2526
OUT_PORT=2525
INBOUND_RCPT=someone@out.test
WAIT_SECONDS=60

# ---------------------------------------------------------------------------
# Directories, certificates (DIR/ca) and the receivers (lab-common.sh).

lab_dir "$DIR" out postfix
lab_postfix_need
lab_free $PORT_MAY $PORT_POLICY $OUT_PORT
lab_certs
lab_postfix_receivers $PORT_MAY $PORT_POLICY

# Our MTA.  Each message must be its own SMTP session so that sessions and
# messages can be counted: no connection cache, no TLS connection reuse.
# No TLS session cache either, so every session does a full handshake and
# logs its own verification result.  A session-level failure (a failed
# verification is one) may make qmgr treat the next hop as dead, and the
# messages still queued for it would then be deferred without a session
# ("delivery temporarily suspended").  The lab's messages are normally
# all handed out before the first failure, so this never showed; the
# failed-cohort limit of 0 rules it out rather than leaving it to timing.
lab_postfix_instance out mx.out.test
OUT=$DIR/postfix/out/conf
mkdir -p "$DIR/postfix/out/vmail"
chown nobody:nogroup "$DIR/postfix/out/vmail"
: >"$OUT/transport"
: >"$OUT/tls_policy"
declare -A SYN_WANT=()	# "src>dst.port" -> sessions the capture must show
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r domain direction peer policy _ <<<"$s"
	[ "$direction" = outbound ] || continue
	addr=
	for r in "${RECEIVERS[@]}"; do
		IFS='|' read -r name raddr _ <<<"$r"
		[ "$name" = "$peer" ] && addr=$raddr
	done
	[ -n "$addr" ] || die "scenario $domain: no receiver $peer"
	if [ "$policy" = may ]; then
		hop="[$addr]:$PORT_MAY"
	else
		hop="[$addr]:$PORT_POLICY"
		grep -qF "$hop " "$OUT/tls_policy" &&
		    die "scenario $domain: next hop $hop already has a policy"
		printf '%s %s\n' "$hop" "$policy" >>"$OUT/tls_policy"
	fi
	printf '%s smtp:%s\n' "$domain" "$hop" >>"$OUT/transport"
	IFS='|' read -r _ _ _ _ _ _ _ _ count <<<"$s"
	key="$OUT_ADDR>$addr.${hop##*:}"
	SYN_WANT[$key]=$((${SYN_WANT[$key]:-0} + count))
done
cat >>"$OUT/main.cf" <<EOF
syslog_name = postfix
maillog_file = $DIR/out/mail.log
myorigin = out.test
smtp_bind_address = $OUT_ADDR

# Inbound: mail for out.test goes to a Maildir through virtual(8).
virtual_mailbox_domains = out.test
virtual_mailbox_base = $DIR/postfix/out/vmail
virtual_mailbox_maps = inline:{$INBOUND_RCPT=someone/}
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
smtpd_tls_security_level = may
smtpd_tls_cert_file = $CA/out.crt
smtpd_tls_key_file = $CA/out.key
smtpd_tls_loglevel = 1

# Outbound.
transport_maps = texthash:$OUT/transport
smtp_tls_security_level = may
smtp_tls_policy_maps = texthash:$OUT/tls_policy
smtp_tls_CAfile = $CA/ca.crt
smtp_tls_loglevel = 1
smtp_tls_session_cache_database =
smtp_tls_connection_reuse = no
smtp_connection_cache_on_demand = no
smtp_connection_cache_destinations =
default_destination_concurrency_failed_cohort_limit = 0
EOF
lab_postfix_listen "$OUT" $OUT_ADDR $OUT_PORT

# expected.tsv, from the table only.
lab_expected_tsv

# ---------------------------------------------------------------------------
# Run.

lab_postfix_start_receivers

if [ "$PCAP" = yes ]; then
	# -Z root: Debian's tcpdump otherwise drops to user tcpdump, which
	# may not be allowed to write into DIR.  -U: write every packet.
	tcpdump -i lo -n -U -Z root -w "$DIR/lab.pcap" \
	    "tcp and (port $PORT_MAY or port $PORT_POLICY or port $OUT_PORT)" \
	    2>"$DIR/tcpdump.log" &
	TCPDUMP_PID=$!
	# SIGINT makes tcpdump flush and close the savefile.
	lab_track -INT "$TCPDUMP_PID"
	lab_poll 50 grep -q 'listening on' "$DIR/tcpdump.log" ||
	    die "tcpdump did not start: $(cat "$DIR/tcpdump.log")"
fi

# Outbound mail is put into the maildrop before "out" starts; pickup then
# queues it all at once.  Submitting to a running instance and then running
# "postqueue -f" would race: a message deferred before the flush would be
# retried at once, adding sessions the table does not plan.  postdrop warns
# that pickup is not running (into sendmail.log); that is expected.
lab_pfx -c "$OUT" check
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r domain direction _ _ _ _ _ _ count <<<"$s"
	[ "$direction" = outbound ] || continue
	for i in $(seq "$count"); do
		printf 'From: user@out.test\nTo: rcpt%s@%s\nSubject: lab %s %s/%s\n\nTLS lab message.\n' \
		    "$i" "$domain" "$domain" "$i" "$count" |
		    sendmail -C "$OUT" -i -f user@out.test -- "rcpt$i@$domain" \
		    2>>"$DIR/sendmail.log" ||
		    die "sendmail failed for $domain"
	done
done
lab_postfix_start "$OUT"

# Inbound: partners talk to our smtpd from their own loopback addresses so
# the log shows them as remote clients, not as localhost.
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r domain direction peer policy _ _ _ _ count <<<"$s"
	[ "$direction" = inbound ] || continue
	key="$peer>$OUT_ADDR.$OUT_PORT"
	SYN_WANT[$key]=$((${SYN_WANT[$key]:-0} + count))
	tlsopt=()
	[ "$policy" = tls ] && tlsopt=(--tls)
	for i in $(seq "$count"); do
		swaks --server $OUT_ADDR --port $OUT_PORT --local-interface "$peer" \
		    --helo "mail.$domain" --from "sender$i@$domain" \
		    --to "$INBOUND_RCPT" --header "Subject: lab $domain $i/$count" \
		    "${tlsopt[@]}" >>"$DIR/swaks.log" 2>&1 ||
		    die "swaks failed for $domain, see $DIR/swaks.log"
	done
done

# ---------------------------------------------------------------------------
# Wait until the log shows every planned attempt, then check the outcome.

LOG=$DIR/out/mail.log

re_escape() {
	printf '%s' "$1" | sed 's/[.]/\\./g'
}

# Delivery records of our smtp client for one recipient domain.
outbound_records() {
	grep -E "postfix/smtp\[[0-9]+\]: [0-9A-Za-z]+: to=<[^>]*@$(re_escape "$1")>, relay=.*, status=" \
	    "$LOG" || true
}

# Messages our instance accepted from one sender domain.
inbound_records() {
	grep -E "postfix/qmgr\[[0-9]+\]: [0-9A-Za-z]+: from=<[^>]*@$(re_escape "$1")>," \
	    "$LOG" || true
}

inbound_total=0
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r _ direction _ _ _ _ _ _ count <<<"$s"
	[ "$direction" = inbound ] && inbound_total=$((inbound_total + count))
done
local_re="postfix/virtual\[[0-9]+\]: [0-9A-Za-z]+: to=<$(re_escape "$INBOUND_RCPT")>, relay=virtual, .*status=sent"

all_seen() {
	local s domain direction count n
	for s in "${SCENARIOS[@]}"; do
		IFS='|' read -r domain direction _ _ _ _ _ _ count <<<"$s"
		if [ "$direction" = outbound ]; then
			n=$(outbound_records "$domain" | grep -c . || true)
		else
			n=$(inbound_records "$domain" | grep -c . || true)
		fi
		[ "$n" -ge "$count" ] || return 1
	done
	n=$(grep -cE "$local_re" "$LOG" || true)
	[ "$n" -ge "$inbound_total" ]
}

deadline=$((SECONDS + WAIT_SECONDS))
until all_seen; do
	[ $SECONDS -lt $deadline ] || break
	sleep 0.5
done

bad=0
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r domain direction _ _ _ _ _ status count <<<"$s"
	if [ "$direction" = outbound ]; then
		records=$(outbound_records "$domain")
		n=$(grep -c . <<<"$records" || true)
		ok=$(grep -c "status=$status " <<<"$records" || true)
		# relay=none would mean a deferral without a session.
		none=$(grep -c 'relay=none' <<<"$records" || true)
		if [ "$n" -ne "$count" ] || [ "$ok" -ne "$count" ] || [ "$none" -ne 0 ]; then
			echo "postfix-lab: $domain: want $count x status=$status, log has $n records ($ok with that status, $none without session)" >&2
			bad=1
		fi
	else
		n=$(inbound_records "$domain" | grep -c . || true)
		if [ "$n" -ne "$count" ]; then
			echo "postfix-lab: $domain: want $count inbound messages, log has $n" >&2
			bad=1
		fi
	fi
done
n=$(grep -cE "$local_re" "$LOG" || true)
if [ "$n" -ne "$inbound_total" ]; then
	echo "postfix-lab: want $inbound_total local deliveries to $INBOUND_RCPT, log has $n" >&2
	bad=1
fi
[ "$bad" -eq 0 ] || die "the log does not match the scenario table"

if [ "$PCAP" = yes ]; then
	# Let the sessions' QUIT and FIN reach the capture before stopping it.
	for _ in $(seq 50); do
		ss -Htn state established \
		    "( sport = :$PORT_MAY or sport = :$PORT_POLICY or sport = :$OUT_PORT or dport = :$PORT_MAY or dport = :$PORT_POLICY or dport = :$OUT_PORT )" |
		    grep -q . || break
		sleep 0.1
	done
	lab_kill INT "$TCPDUMP_PID"
	lab_untrack "$TCPDUMP_PID"

	# The capture is evidence of its own: one TCP connection per planned
	# session, no more (retries, cached connections) and no fewer.
	declare -A syn_seen=()
	while read -r n key; do
		syn_seen[$key]=$n
	done < <(tcpdump -nr "$DIR/lab.pcap" \
	    'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null |
	    awk '{ sub(/\.[0-9]+$/, "", $3); sub(/:$/, "", $5); print $3 ">" $5 }' |
	    sort | uniq -c)
	for key in "${!SYN_WANT[@]}" "${!syn_seen[@]}"; do
		if [ "${SYN_WANT[$key]:-0}" -ne "${syn_seen[$key]:-0}" ]; then
			echo "postfix-lab: $key: want ${SYN_WANT[$key]:-0} connections, capture has ${syn_seen[$key]:-0}" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ] || die "the capture does not match the scenario table"
fi

if [ "$PCAP" = yes ]; then
	echo "postfix-lab: ok: $LOG $DIR/expected.tsv $DIR/lab.pcap"
else
	echo "postfix-lab: ok: $LOG $DIR/expected.tsv"
fi
