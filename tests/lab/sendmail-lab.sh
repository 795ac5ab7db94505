#!/bin/bash
# sendmail-lab.sh - run a real-Sendmail TLS lab on loopback and keep the
# syslog file it writes, as rsyslog would.
#
# Usage (as root): tests/lab/sendmail-lab.sh DIR
#
# Sendmail is Debian's sendmail-bin (OpenSSL build), fetched with
# "apt-get download" and unpacked with "dpkg -x" into DIR/root: it cannot
# be installed next to postfix (the packages conflict).  Everything else
# it needs (m4, sendmail-cf and two libraries) comes from
# scripts/install-deps.  Each Sendmail runs inside a private mount
# namespace (unshare --mount) with the lab's /etc/hosts and resolv.conf
# (no DNS at all: every host name is in the lab's hosts file) and a
# private /dev whose "log" is a datagram socket of tests/lab/syslog-rx.py,
# so Sendmail's syslog(3) lines land in DIR/NAME/mail.log in
# rsyslog's traditional format ("Mmm dd hh:mm:ss host tag[pid]: msg");
# the system's files are not touched.
#
# Builds inside DIR (which must not exist or be empty):
#   DIR/ca/            the test CA and certificates (tests/lab/lab-common.sh)
#   DIR/NAME/          one Sendmail each: "out" (our MTA) and the receivers
#                      valid, selfsigned, expired, mismatch, notls; the same
#                      TLS situations as the Postfix and Exim labs
#   DIR/out/mail.log   the syslog file of "out"
#   DIR/expected.tsv   what each scenario must look like, from the table
#                      below (never from the log)
# Network: 127.0.9.0/24 only (other labs use 127.0.0.0/24 and port 2525).

set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
DIR=$1
LAB_NAME=sendmail-lab
# shellcheck source=tests/lab/lab-common.sh
. "$(dirname "$0")/lab-common.sh"
CFM4=/usr/share/sendmail/cf/m4/cf.m4
lab_need apt-get dpkg swaks openssl unshare m4 "$LAB_PY"
[ -f "$CFM4" ] || die "missing $CFM4 (install sendmail-cf)"

# ---------------------------------------------------------------------------
# The scenario table: domain|direction|peer|mode|tls|result|trust|status|
# count.  Outbound, each domain has its own MX name mx.DOMAIN (a mailertable
# route to [mx.DOMAIN], an address of the peer receiver) so that the
# access map's "TLS_Srv:mx.DOMAIN" entry sets the mode:
#   may      opportunistic (no entry)
#   verify   TLS_Srv VERIFY: the certificate must verify
#   cn:NAME  TLS_Srv VERIFY+CN:NAME (NAME empty: the MX name itself)
#   encr     TLS_Srv ENCR:112: encryption required
# Sendmail checks a certificate's chain only, never its name: a mismatched
# name still logs verify=OK, so verify=OK is "trusted" (DESIGN.md: chain
# verified, name not matched or not required), never "verified"; only a CN
# requirement rejects a mismatch, and a passed one is not logged.
# At the default LogLevel 9 Sendmail logs no reason for verify=FAIL, so an
# expired certificate under VERIFY is certificate-not-trusted, like a
# self-signed one (MTA-LOGS.md 0.7 and 8).  A policy failure keeps the
# trust the handshake had (verify=FAIL: untrusted, verify=OK: trusted).
# Rows that log a STARTTLS line come before the plaintext ones: without
# one in the stream, tlsflow cannot tell plaintext from "not logged".
SCENARIOS=(
	"valid.test|outbound|valid|may|tls|success|trusted|sent|3"
	"selfsigned.test|outbound|selfsigned|may|tls|success|untrusted|sent|2"
	"expired.test|outbound|expired|may|tls|success|untrusted|sent|1"
	"mismatch.test|outbound|mismatch|may|tls|success|trusted|sent|2"
	"secure-valid.test|outbound|valid|cn:mx.valid.test|tls|success|trusted|sent|2"
	"secure-selfsigned.test|outbound|selfsigned|verify|failed|certificate-not-trusted|untrusted|deferred|2"
	"secure-expired.test|outbound|expired|verify|failed|certificate-not-trusted|untrusted|deferred|1"
	"secure-mismatch.test|outbound|mismatch|cn:|failed|certificate-host-mismatch|trusted|deferred|2"
	"notls.test|outbound|notls|may|plaintext|-|-|sent|3"
	"encrypt-notls.test|outbound|notls|encr|failed|starttls-not-supported|-|deferred|1"
	"partner-tls.test|inbound|127.0.9.21|tls|tls|success|anonymous|-|3"
	"partner-plain.test|inbound|127.0.9.22|plain|plaintext|-|-|-|2"
)
RECEIVERS=(
	"valid|127.0.9.11|valid"
	"selfsigned|127.0.9.12|selfsigned"
	"expired|127.0.9.13|expired"
	"mismatch|127.0.9.14|mismatch"
	"notls|127.0.9.15|none"
)
OUT_ADDR=127.0.9.10
PORT=2525
SYSLOG_HOST=mta1

lab_dir "$DIR" root debs etc

# ---------------------------------------------------------------------------
# Sendmail from Debian's packages, unpacked.
(cd "$DIR/debs" && apt-get download sendmail-bin \
    >"$DIR/debs/download.log" 2>&1) || die "apt-get download failed"
for d in "$DIR"/debs/*.deb; do dpkg -x "$d" "$DIR/root"; done
SM="$DIR/root/usr/libexec/sendmail/sendmail"
MAKEMAP="$DIR/root/usr/libexec/sendmail/makemap"
[ -x "$SM" ] || die "no sendmail in the packages"
[ -x "$MAKEMAP" ] || die "no makemap in the packages"
ldd "$SM" | grep -q 'not found' &&
    die "sendmail lacks libraries (run scripts/install-deps): $(ldd "$SM" | grep 'not found')"

# The host names of the lab.  Sendmail qualifies the machine's own name at
# startup (and sleeps a minute if it cannot): it is in the file too.  It
# looks up a mailertable's [host] fully qualified, with a trailing dot,
# which glibc's files backend matches only literally: each MX name is
# also listed with its dot.
lab_hosts -dot "$(hostname)"
{
	for s in "${SCENARIOS[@]}"; do
		IFS='|' read -r dom dir peer _ <<<"$s"
		if [ "$dir" = outbound ]; then
			for r in "${RECEIVERS[@]}"; do
				IFS='|' read -r name addr _ <<<"$r"
				if [ "$name" = "$peer" ]; then
					echo "$addr mx.$dom mx.$dom."
				fi
			done
		else
			echo "$peer mx.$dom mx.$dom."
		fi
	done
} >>"$DIR/etc/hosts"
echo "nameserver 127.0.0.1" >"$DIR/etc/resolv.conf"
printf 'hosts\tfiles\naliases\tfiles\n' >"$DIR/etc/service.switch"

# inns [-p PIDFILE] NAME CMD...: run CMD with the lab's hosts file and
# NAME's /dev (DIR/NAME/dev: the few devices Sendmail opens, and "log").
inns() {
	local pid=()
	if [ "$1" = -p ]; then
		pid=(-p "$2")
		shift 2
	fi
	lab_ns "${pid[@]}" "dev=$DIR/$1/dev" "$DIR/etc/hosts=/etc/hosts" \
	    "$DIR/etc/resolv.conf=/etc/resolv.conf" -- "${@:2}"
}

# Test CA and certificates (lab-common.sh).  Sendmail wants a CA
# directory too.
lab_certs
mkdir -p "$CA/certs"
cp "$CA/ca.crt" "$CA/certs/"

# ---------------------------------------------------------------------------
# Syslog: one datagram socket per instance (DIR/NAME/dev/log, which is
# /dev/log inside its namespace), each written to DIR/NAME/mail.log the
# way rsyslog's traditional file format does: glibc sends
# "<PRI>Mmm dd hh:mm:ss tag[pid]: msg"; the file gets
# "Mmm dd hh:mm:ss HOST tag[pid]: msg" (HOST: mta1 for out, else NAME).
specs=()
for n in out "${RECEIVERS[@]}"; do
	n=${n%%|*}
	lab_devdir "$DIR/$n/dev"
	: >"$DIR/$n/mail.log"
	host=$n
	[ "$n" = out ] && host=$SYSLOG_HOST
	specs+=("$DIR/$n/dev/log=$DIR/$n/mail.log=$host")
done
lab_syslog "${specs[@]}"

# ---------------------------------------------------------------------------
# Instances.

# mc NAME ADDR CERT: the .mc of one instance (CERT none: no STARTTLS).
# There is no DNS server: Sendmail's AAAA lookup of a host that the
# hosts file has only an IPv4 address for fails temporarily, which
# WorkAroundBrokenAAAA treats as "no AAAA record".
mc() {
	cat <<EOF
divert(-1)
divert(0)dnl
include(\`$CFM4')dnl
VERSIONID(\`tlsflow sendmail lab $1')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.$1.test')dnl
define(\`confLOG_LEVEL', \`9')dnl
define(\`QUEUE_DIR', \`$DIR/$1/mqueue')dnl
define(\`confPID_FILE', \`$DIR/$1/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$DIR/$1/aliases')dnl
define(\`HELP_FILE', \`$DIR/$1/helpfile')dnl
define(\`STATUS_FILE', \`$DIR/$1/statistics')dnl
define(\`confSERVICE_SWITCH_FILE', \`$DIR/etc/service.switch')dnl
define(\`confHOSTS_FILE', \`$DIR/etc/hosts')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES WorkAroundBrokenAAAA')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confTO_CONNECT', \`5s')dnl
define(\`confTO_INITIAL', \`10s')dnl
define(\`confCACERT_PATH', \`$CA/certs')dnl
define(\`confCACERT', \`$CA/ca.crt')dnl
define(\`SMTP_MAILER_ARGS', \`TCP \$h $PORT')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $PORT')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $PORT')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Port=$PORT, Addr=$2')dnl
CLIENT_OPTIONS(\`Family=inet, Addr=$OUT_ADDR')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`access_db', \`hash -o $DIR/$1/access')dnl
EOF
	if [ "$3" != none ]; then
		cat <<EOF
define(\`confSERVER_CERT', \`$CA/$3.crt')dnl
define(\`confSERVER_KEY', \`$CA/$3.key')dnl
define(\`confCLIENT_CERT', \`$CA/$3.crt')dnl
define(\`confCLIENT_KEY', \`$CA/$3.key')dnl
EOF
	fi
	if [ "$1" = out ]; then
		cat <<EOF
LOCAL_DOMAIN(\`out.test')dnl
FEATURE(\`mailertable', \`hash -o $DIR/$1/mailertable')dnl
EOF
	else
		# A receiver takes any mail and keeps it queued.
		cat <<EOF
FEATURE(\`promiscuous_relay')dnl
define(\`confDELIVERY_MODE', \`deferred')dnl
EOF
	fi
	cat <<EOF
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
}

# build NAME ADDR CERT
build() {
	local n=$1
	mkdir -p "$DIR/$n/mqueue"
	chmod 700 "$DIR/$n/mqueue"
	mc "$@" >"$DIR/$n/sendmail.mc"
	m4 "$DIR/$n/sendmail.mc" >"$DIR/$n/sendmail.cf" 2>"$DIR/$n/m4.log" ||
	    die "m4 failed for $n: $(cat "$DIR/$n/m4.log")"
	touch "$DIR/$n/access" "$DIR/$n/mailertable" "$DIR/$n/helpfile"
	echo "someone: /dev/null" >"$DIR/$n/aliases"
}

for r in "${RECEIVERS[@]}"; do
	IFS='|' read -r name addr cert <<<"$r"
	build "$name" "$addr" "$cert"
done
build out "$OUT_ADDR" out
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r dom dir _ mode _ <<<"$s"
	[ "$dir" = outbound ] || continue
	printf '%s\tesmtp:[mx.%s]\n' "$dom" "$dom" >>"$DIR/out/mailertable"
	case $mode in
	may) ;;
	verify) printf 'TLS_Srv:mx.%s\tVERIFY\n' "$dom" ;;
	cn:) printf 'TLS_Srv:mx.%s\tVERIFY+CN\n' "$dom" ;;
	cn:*) printf 'TLS_Srv:mx.%s\tVERIFY+CN:%s\n' "$dom" "${mode#cn:}" ;;
	encr) printf 'TLS_Srv:mx.%s\tENCR:112\n' "$dom" ;;
	*) die "unknown mode $mode for $dom" ;;
	esac >>"$DIR/out/access"
done

for n in out "${RECEIVERS[@]}"; do
	n=${n%%|*}
	for m in access mailertable; do
		# shellcheck disable=SC2094 # makemap writes $m.db
		"$MAKEMAP" -C "$DIR/$n/sendmail.cf" hash "$DIR/$n/$m" \
		    <"$DIR/$n/$m" ||
		    die "makemap $m failed for $n"
	done
	inns "$n" "$SM" -C "$DIR/$n/sendmail.cf" -bi >"$DIR/$n/start.log" 2>&1 ||
	    die "newaliases failed for $n: $(cat "$DIR/$n/start.log")"
	# -bD: a daemon in the foreground, so that daemon.pid is its pid (it
	# writes its own pid file only once it listens, and retries a busy
	# address).
	inns -p "$DIR/$n/daemon.pid" "$n" "$SM" -C "$DIR/$n/sendmail.cf" \
	    -L sm-mta -bD >>"$DIR/$n/start.log" 2>&1 </dev/null &
	lab_track "@$DIR/$n/daemon.pid"
done
# Wait until every daemon listens.
lab_poll 50 lab_all_up sendmail.pid ||
    die "not every daemon started; see $DIR/*/mail.log"
sleep 0.3

# ---------------------------------------------------------------------------
# Mail.  Outbound: each message is submitted with -odi, so it is delivered
# at once by its own process over its own connection; a deferred message
# stays in out's queue (no queue runner).
inject() { # RECIPIENT
	inns out "$SM" -C "$DIR/out/sendmail.cf" -odi -f lab@out.test "$1"
}
lab_mail
sleep 0.5
lab_stop

# expected.tsv from the table alone.
lab_expected_tsv

# Every planned outbound attempt happened (one delivery line each).
want=$(lab_outbound_sessions)
got=$(grep -cE ': to=<?user[0-9]+@[^ ]*, .*mailer=esmtp, ' \
    "$DIR/out/mail.log" || true)
[ "$got" -eq "$want" ] ||
    die "expected $want delivery attempts in out/mail.log, found $got"
echo "sendmail-lab: done, $LAB_SENT messages; log in $DIR/out/mail.log"
