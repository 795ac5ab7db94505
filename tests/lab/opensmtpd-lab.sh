#!/bin/bash
# opensmtpd-lab.sh - run a real-OpenSMTPD TLS lab on loopback and keep the
# syslog output of the sending instance.
#
# Usage (as root): tests/lab/opensmtpd-lab.sh DIR
#
# OpenSMTPD is Debian's opensmtpd package, fetched with "apt-get download"
# and unpacked with "dpkg -x" into DIR/root: it cannot be installed next
# to postfix (both provide mail-transport-agent).  smtpd looks up its
# compiled-in users "opensmtpd" and "opensmtpq", chroots into
# /var/lib/opensmtpd/empty, keeps its queue in /var/spool/smtpd and its
# control socket in /var/run/smtpd.sock, and logs with syslog(3) to
# /dev/log.  So smtpd runs inside a private mount and UTS namespace
# (unshare --mount --uts, host name mx.out.test) where copies of
# /etc/passwd, /etc/group, /etc/hosts and /etc/resolv.conf with the lab's
# users and host names, and private /var/spool, /var/lib, /run and /dev
# directories are bind-mounted; the system files are not touched.  The
# private /dev carries the real null/zero/random/urandom and, as "log",
# the socket of tests/lab/syslog-rx.py, which writes what smtpd logs in
# rsyslog's traditional file format.  smtpd runs with -F (foreground,
# logging to syslog), exactly as an operator's would log.
# The receivers are real Postfix instances (Debian's postfix package, as
# in tests/lab/postfix-lab.sh, built by tests/lab/lab-common.sh): this
# smtpd cannot be a TLS server (see the scenario notes).
#
# Builds inside DIR (which must not exist or be empty):
#   DIR/ca/            the test CA and certificates (tests/lab/lab-common.sh)
#   DIR/out/           our MTA: smtpd.conf and its private directories
#   DIR/out/maillog    its syslog output
#   DIR/postfix/NAME/  the Postfix receivers valid, selfsigned, expired,
#                      mismatch and notls, with separate instances for the
#                      required-TLS domains (one address each); each
#                      logs to DIR/postfix/NAME/mail.log
#   DIR/expected.tsv   what each scenario must look like, from the table
#                      below (never from the log)
# Network: 127.0.3.0/24 only; host names come from the private /etc/hosts
# (and "lookup file" in the private resolv.conf: no DNS query leaves).

set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
DIR=$1
LAB_NAME=opensmtpd-lab
# shellcheck source=tests/lab/lab-common.sh
. "$(dirname "$0")/lab-common.sh"
lab_need apt-get dpkg swaks openssl unshare ss "$LAB_PY"

# ---------------------------------------------------------------------------
# The scenario table: domain|direction|peer|relay scheme or swaks mode|
# tls|result|trust|status|sessions|messages.
#
# Outbound, opportunistic (smtp://): the messages of a domain are sent one
# after the other, each as soon as the previous one was delivered, and
# OpenSMTPD hands each to the connection it still holds open to that
# relay: one session carries them all.  The Postfix receivers take any
# number of transactions per session (the Python sink they replaced did
# too), and the real logs show it from both ends: one "mta connecting"
# per domain, then "mta disconnected reason=quit messages=N" some 10 s
# after the last delivery, and in the receiver's log one "connect from"
# with "disconnect from ... mail=N rcpt=N data=N quit=1".  So the counts
# are those of the sink; only the replies differ ("250 2.0.0 Ok: queued
# as ..." instead of "250 2.0.0 accepted").  6.8 completes the handshake
# whatever the certificate and logs server-cert-check result="failure"
# when verification fails (lab CA configured with "ca").
#
# Outbound, required TLS (smtp+tls://, verified by default): smtpd logs
# "mta error reason=SSL certificate check failed" after the handshake,
# with no reason, so expired and self-signed certificates are
# validation-failure (RFC 8460 4.3; as for Exim/GnuTLS) and untrusted;
# a name mismatch is announced first ("mta ssl_check_name: no match for
# 'mx.example' in cert"): certificate-host-mismatch.  After that error the
# route is disabled for 15 s and the envelope is given back as
# "0000000000000000 mta delivery ... result=\"TempFail\" stat=\"Network
# error on destination MXs\"", the only line that ties the session to a
# domain.  Each of these domains has its own receiver address (a fresh
# route) and one message, so each is exactly one session (the Postfix
# receiver logs "lost connection after STARTTLS", or, without STARTTLS,
# "after EHLO").
#
# Inbound: Debian 12's smtpd 6.8.0p2 cannot complete a server-side TLS
# handshake with OpenSSL 3 (upstream issues #1171, #1239): STARTTLS from
# swaks fails with "smtp disconnected reason=\"io-error: error:0A080006:
# SSL routines::EVP lib\"" and no message is sent.  That is what this
# package does for every operator, so the lab keeps it as a failure
# scenario (validation-failure: a handshake failure with no certificate
# verdict, MTA-LOGS.md section 8).  The domain of such a session is
# only in the client's host name (host=mx.partner-tls.test).
SCENARIOS=(
	"valid.test|outbound|valid|smtp|tls|success|verified|sent|1|3"
	"selfsigned.test|outbound|selfsigned|smtp|tls|success|untrusted|sent|1|2"
	"expired.test|outbound|expired|smtp|tls|success|untrusted|sent|1|1"
	"mismatch.test|outbound|mismatch|smtp|tls|success|untrusted|sent|1|2"
	"notls.test|outbound|notls|smtp|plaintext|-|-|sent|1|3"
	"secure-selfsigned.test|outbound|rselfsigned|smtp+tls|failed|validation-failure|untrusted|deferred|1|0"
	"secure-expired.test|outbound|rexpired|smtp+tls|failed|validation-failure|untrusted|deferred|1|0"
	"secure-mismatch.test|outbound|rmismatch|smtp+tls|failed|certificate-host-mismatch|untrusted|deferred|1|0"
	"encrypt-notls.test|outbound|rnotls|smtp+tls|failed|starttls-not-supported|-|deferred|1|0"
	"partner-tls.test|inbound|127.0.3.21|tls|failed|validation-failure|-|-|3|0"
	"partner-plain.test|inbound|127.0.3.22|plain|plaintext|-|-|-|2|2"
)
# Receivers: name|address|certificate kind ("none": no STARTTLS).  Each
# gets a certificate of its own for mx.NAME.test ("mismatch": for
# wrong.example).
RECEIVERS=(
	"valid|127.0.3.11|valid"
	"selfsigned|127.0.3.12|selfsigned"
	"expired|127.0.3.13|expired"
	"mismatch|127.0.3.14|mismatch"
	"notls|127.0.3.15|none"
	"rselfsigned|127.0.3.16|selfsigned"
	"rexpired|127.0.3.17|expired"
	"rmismatch|127.0.3.18|mismatch"
	"rnotls|127.0.3.19|none"
)
OUT_ADDR=127.0.3.10
PORT=2525
LABUID=64980

lab_dir "$DIR" root debs etc
lab_postfix_need
lab_free $PORT

# ---------------------------------------------------------------------------
# OpenSMTPD from Debian's package, unpacked; its libraries (libevent,
# libssl, libdb) are on a Postfix host already.
(cd "$DIR/debs" && apt-get download opensmtpd \
    >"$DIR/debs/download.log" 2>&1) || die "apt-get download failed"
for d in "$DIR"/debs/*.deb; do dpkg -x "$d" "$DIR/root"; done
SMTPD="$DIR/root/usr/sbin/smtpd"
SMTPCTL="$DIR/root/usr/sbin/smtpctl"
if [ ! -x "$SMTPD" ] || [ ! -x "$SMTPCTL" ]; then
	die "no smtpd in the package"
fi
# smtpctl enqueues (as "sendmail") only when it is setgid opensmtpq: the
# private copy is.
chgrp "$((LABUID + 1))" "$SMTPCTL"
chmod 2755 "$SMTPCTL"
[ -e "$DIR/root/usr/sbin/sendmail" ] ||
    ln -s smtpctl "$DIR/root/usr/sbin/sendmail"
missing=$(ldd "$SMTPD" | grep 'not found' || true)
[ -z "$missing" ] || die "smtpd lacks libraries: $missing"

lab_user opensmtpd "$LABUID" /var/lib/opensmtpd/empty
lab_user opensmtpq "$((LABUID + 1))" /var/lib/opensmtpd/empty
lab_hosts
# Inbound peers get names (smtpd logs host=NAME for them).
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r dom dir peer _ <<<"$s"
	if [ "$dir" = inbound ]; then
		echo "$peer mx.$dom"
	fi
done >>"$DIR/etc/hosts"
# "lookup file": OpenSMTPD's resolver (asr) reads only /etc/hosts.
printf 'lookup file\nnameserver 127.0.0.1\n' >"$DIR/etc/resolv.conf"

# inns [-p PIDFILE] NAME CMD...: run CMD in a private mount and UTS
# namespace (host name mx.NAME.test) with the lab's files and instance
# NAME's private directories.
inns() {
	local pid=() d
	if [ "$1" = -p ]; then
		pid=(-p "$2")
		shift 2
	fi
	d=$DIR/$1
	lab_ns -h "mx.$1.test" "${pid[@]}" "$DIR/etc/passwd=/etc/passwd" \
	    "$DIR/etc/group=/etc/group" "$DIR/etc/hosts=/etc/hosts" \
	    "$DIR/etc/resolv.conf=/etc/resolv.conf" "dev=$d/dev" \
	    "$d/spool=/var/spool" "$d/lib=/var/lib" "$d/run=/run" \
	    "$DIR/root/usr/libexec=/usr/libexec" -- "${@:2}"
}

# Test CA and certificates (lab-common.sh); smtpd reads the keys as
# root, its lookup process reads ca.crt as opensmtpd.
lab_certs

# ---------------------------------------------------------------------------
# "out" relays each scenario domain to its receiver with the scheme from
# the table and takes inbound mail for out.test (mda "cat" as nobody).
lab_devdir "$DIR/out/dev"
mkdir -p "$DIR/out/spool" "$DIR/out/run" "$DIR/out/lib/opensmtpd/empty"
chmod 755 "$DIR/out"

{
	cat <<EOF
pki mx.out.test cert "$CA/out.crt"
pki mx.out.test key "$CA/out.key"
ca mx.out.test cert "$CA/ca.crt"
listen on $OUT_ADDR port $PORT tls pki mx.out.test hostname mx.out.test
table sink { "@" = "nobody" }
action "local" mda "cat >/dev/null" virtual <sink>
match from any for domain "out.test" action "local"
EOF
	i=0
	for s in "${SCENARIOS[@]}"; do
		IFS='|' read -r dom dir peer scheme _ <<<"$s"
		[ "$dir" = outbound ] || continue
		i=$((i + 1))
		echo "action \"r$i\" relay host $scheme://mx.$peer.test:$PORT"
		echo "match from local for domain \"$dom\" action \"r$i\""
	done
} >"$DIR/out/smtpd.conf"

inns out "$SMTPD" -n -f "$DIR/out/smtpd.conf" >"$DIR/out/configtest.log" 2>&1 ||
    die "smtpd: bad configuration: $(cat "$DIR/out/configtest.log")"
lab_postfix_receivers $PORT
lab_postfix_start_receivers
lab_syslog "$DIR/out/dev/log=$DIR/out/maillog=mx-out"
inns -p "$DIR/out/smtpd.pid" out "$SMTPD" -F -f "$DIR/out/smtpd.conf" \
    >"$DIR/out/start.log" 2>&1 &
lab_track "@$DIR/out/smtpd.pid"
lab_poll 100 test -S "$DIR/out/run/smtpd.sock" ||
    die "smtpd out did not start: $(cat "$DIR/out/start.log")"
sleep 0.5

# ---------------------------------------------------------------------------
# Mail.
LOG=$DIR/out/maillog
# count ERE: matching lines in the log so far.
count() {
	grep -cE "$1" "$LOG" || true
}
# await ERE N WHAT: wait (up to 30 s) until the log has N matching lines.
await() {
	local i
	for i in $(seq 1 300); do
		[ "$(count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	die "timed out waiting for $3 ($(count "$1") of $2 lines /$1/)"
}
inject() { # DOMAIN I
	printf 'Subject: lab %s %d\n\nmessage %d\n' "$1" "$2" "$2" |
	    inns out "$DIR/root/usr/sbin/sendmail" -f lab@out.test \
	    "user$2@$1" >>"$DIR/out/inject.log" 2>&1 ||
	    die "sendmail for $1 failed; see $DIR/out/inject.log"
}

ok_re=' mta delivery evpid=.* result="Ok"'
fail_re=' mta delivery evpid=.* result="TempFail"'
n_ok=0
n_fail=0
n_in=0
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r dom dir peer mode _ _ _ status sess msgs <<<"$s"
	if [ "$dir" = outbound ] && [ "$status" = sent ]; then
		# One after the other: each joins the open session.
		for i in $(seq 1 "$msgs"); do
			inject "$dom" "$i"
			n_ok=$((n_ok + 1))
			await "$ok_re" "$n_ok" "delivery to $dom"
		done
	elif [ "$dir" = outbound ]; then
		# All at once: each has its own receiver.
		for i in $(seq 1 "$sess"); do
			inject "$dom" "$i"
			n_fail=$((n_fail + 1))
		done
	else
		for i in $(seq 1 "$sess"); do
			tls=()
			[ "$mode" = tls ] && tls=(--tls)
			n_in=$((n_in + 1))
			if swaks --server "$OUT_ADDR:$PORT" --local-interface "$peer" \
			    --from "sender$i@$dom" --to "someone$i@out.test" \
			    --helo "mx.$dom" "${tls[@]}" >>"$DIR/out/swaks.log" 2>&1; then
				[ "$msgs" -gt 0 ] ||
				    die "swaks for $dom succeeded; see $DIR/out/swaks.log"
			else
				[ "$msgs" -eq 0 ] ||
				    die "swaks for $dom failed; see $DIR/out/swaks.log"
			fi
			await ' smtp disconnected ' "$((n_in + n_ok + n_fail))" \
			    "the end of inbound session $n_in"
		done
	fi
done
# The required-TLS envelopes come back as TempFail once their routes are
# disabled; the opportunistic sessions close after their idle time.
await "$fail_re" "$n_fail" "the TempFail lines"
n_sent=0
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r _ dir _ _ _ _ _ status sess _ <<<"$s"
	if [ "$dir" = outbound ] && [ "$status" = sent ]; then
		n_sent=$((n_sent + sess))
	fi
done
await ' mta disconnected reason=quit ' "$n_sent" "the opportunistic sessions' end"
sleep 0.3
lab_stop

# expected.tsv from the table alone.
lab_expected_tsv

# Every planned outbound connection happened, and no other.
want=$(lab_outbound_sessions)
got=$(count ' mta connecting ')
[ "$got" -eq "$want" ] ||
    die "expected $want outbound connections in out/maillog, found $got"
echo "opensmtpd-lab: done; log in $LOG"
