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
# private /dev whose "log" is a datagram socket of this script's syslog
# receiver, so Sendmail's syslog(3) lines land in DIR/NAME/mail.log in
# rsyslog's traditional format ("Mmm dd hh:mm:ss host tag[pid]: msg");
# the system's files are not touched.
#
# Builds inside DIR (which must not exist or be empty):
#   DIR/ca/            the test CA and certificates (as tests/lab/postfix-lab.sh)
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
die() {
	echo "sendmail-lab: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || die "must run as root"
PY=/usr/bin/python3
CFM4=/usr/share/sendmail/cf/m4/cf.m4
for cmd in apt-get dpkg swaks openssl unshare m4 "$PY"; do
	command -v "$cmd" >/dev/null || die "missing command: $cmd"
done
[ -f "$CFM4" ] || die "missing $CFM4 (install sendmail-cf)"
swaks --support 2>&1 | grep -q '^=== TLS supported' ||
    die "swaks has no TLS support (install libnet-ssleay-perl)"

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

if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then
	die "$DIR exists and is not empty (use a fresh directory)"
fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
chmod 755 "$DIR"
mkdir -p "$DIR/ca" "$DIR/root" "$DIR/debs" "$DIR/etc"

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
{
	echo "127.0.0.1 localhost"
	echo "$OUT_ADDR mx.out.test $(hostname)"
	for r in "${RECEIVERS[@]}"; do
		IFS='|' read -r name addr _ <<<"$r"
		echo "$addr mx.$name.test mx.$name.test."
	done
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
} >"$DIR/etc/hosts"
echo "nameserver 127.0.0.1" >"$DIR/etc/resolv.conf"
printf 'hosts\tfiles\naliases\tfiles\n' >"$DIR/etc/service.switch"

# "${INNS[@]}" NAME CMD...: run CMD with the lab's hosts file and NAME's
# /dev (DIR/NAME/dev: the few devices Sendmail opens, and "log").  CMD
# ends up with the pid of the "${INNS[@]}" command (unshare and bash exec).
# shellcheck disable=SC2016 # expanded by the inner bash
INNS=(unshare --mount bash -c 'd=$0/$1/dev &&
    for n in null zero random urandom; do
	mount --bind "/dev/$n" "$d/$n" || exit 1
    done &&
    mount --rbind "$d" /dev &&
    mount --bind "$0/etc/hosts" /etc/hosts &&
    mount --bind "$0/etc/resolv.conf" /etc/resolv.conf &&
    shift && exec "$@"' "$DIR")

# Daemons first, then (once their last lines are in) the syslog receiver.
STARTED=()
cleanup() {
	local p
	for p in "${STARTED[@]}"; do
		if [ -s "$p" ]; then
			kill "$(cat "$p")" 2>/dev/null || true
		fi
	done
	if [ -s "$DIR/syslogd.pid" ]; then
		sleep 0.3
		kill "$(cat "$DIR/syslogd.pid")" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
# Test CA: the same certificates as tests/lab/postfix-lab.sh (signed with
# "openssl ca" so that one can have expired long ago).
CA=$DIR/ca
cat >"$CA/openssl.cnf" <<EOF
[ ca ]
default_ca = lab_ca
[ lab_ca ]
dir = $CA
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
certificate = \$dir/ca.crt
private_key = \$dir/ca.key
default_md = sha256
policy = lab_policy
unique_subject = no
email_in_dn = no
[ lab_policy ]
commonName = supplied
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:\$ENV::LAB_SAN
subjectKeyIdentifier = hash
EOF
mkdir "$CA/newcerts"
export LAB_SAN=unused.invalid
: >"$CA/index.txt"
echo 01 >"$CA/serial"
ossl() {
	openssl "$@" 2>>"$CA/openssl.log" >/dev/null ||
	    die "openssl $1 failed, see $CA/openssl.log"
}
ossl req -config "$CA/openssl.cnf" -x509 -newkey rsa:2048 -nodes \
    -keyout "$CA/ca.key" -out "$CA/ca.crt" -days 3650 \
    -subj "/O=tlsflow lab/CN=tlsflow lab CA" -extensions ca_ext
sign() {
	ossl req -config "$CA/openssl.cnf" -new -newkey rsa:2048 -nodes \
	    -keyout "$CA/$1.key" -out "$CA/$1.csr" -subj "/CN=$2"
	LAB_SAN=$2 ossl ca -config "$CA/openssl.cnf" -batch -notext \
	    -in "$CA/$1.csr" -out "$CA/$1.crt" -extensions server_ext \
	    -startdate "$3" -enddate "$4"
}
now=$(date -u +%Y%m%d%H%M%SZ)
later=$(date -u -d '+1 year' +%Y%m%d%H%M%SZ)
sign valid mx.valid.test "$now" "$later"
sign out mx.out.test "$now" "$later"
sign mismatch wrong.example "$now" "$later"
sign expired mx.expired.test 20200101000000Z 20210101000000Z
LAB_SAN=mx.selfsigned.test ossl req -config "$CA/openssl.cnf" -x509 \
    -newkey rsa:2048 -nodes -keyout "$CA/selfsigned.key" \
    -out "$CA/selfsigned.crt" -days 365 -subj "/CN=mx.selfsigned.test" \
    -extensions server_ext
# Sendmail refuses keys that others can read, and wants a CA directory.
chmod 600 "$CA"/*.key
chmod 644 "$CA"/*.crt
chmod 755 "$CA"
mkdir -p "$CA/certs"
cp "$CA/ca.crt" "$CA/certs/"

# ---------------------------------------------------------------------------
# Syslog: one datagram socket per instance (DIR/NAME/dev/log, which is
# /dev/log inside its namespace), each written to DIR/NAME/mail.log the
# way rsyslog's traditional file format does: glibc sends
# "<PRI>Mmm dd hh:mm:ss tag[pid]: msg"; the file gets
# "Mmm dd hh:mm:ss HOST tag[pid]: msg" (HOST: mta1 for out, else NAME).
cat >"$DIR/syslogd.py" <<'EOF'
import os, select, socket, sys

socks = {}
for spec in sys.argv[1:]:
    path, log, host = spec.split("=", 2)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    socks[s] = (open(log, "ab", buffering=0), host.encode())
print("ready", flush=True)
while True:
    for s in select.select(list(socks), [], [])[0]:
        m = s.recv(65536).rstrip(b"\0\n")
        if m.startswith(b"<") and b">" in m[:6]:
            m = m[m.index(b">") + 1:]
        if len(m) < 16 or m[15:16] != b" ":
            continue
        f, host = socks[s]
        f.write(m[:15] + b" " + host + m[15:] + b"\n")
EOF
specs=()
for n in out "${RECEIVERS[@]}"; do
	n=${n%%|*}
	mkdir -p "$DIR/$n/dev"
	for d in null zero random urandom; do : >"$DIR/$n/dev/$d"; done
	: >"$DIR/$n/mail.log"
	host=$n
	[ "$n" = out ] && host=$SYSLOG_HOST
	specs+=("$DIR/$n/dev/log=$DIR/$n/mail.log=$host")
done
"$PY" "$DIR/syslogd.py" "${specs[@]}" >"$DIR/syslogd.out" 2>&1 &
echo $! >"$DIR/syslogd.pid"
for i in $(seq 1 50); do
	grep -q ready "$DIR/syslogd.out" && break
	sleep 0.1
done
grep -q ready "$DIR/syslogd.out" ||
    die "syslog receiver did not start: $(cat "$DIR/syslogd.out")"

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
	"${INNS[@]}" "$n" "$SM" -C "$DIR/$n/sendmail.cf" -bi >"$DIR/$n/start.log" 2>&1 ||
	    die "newaliases failed for $n: $(cat "$DIR/$n/start.log")"
	# -bD: a daemon in the foreground, so that $! is its pid (it writes
	# its pid file only once it listens, and retries a busy address).
	"${INNS[@]}" "$n" "$SM" -C "$DIR/$n/sendmail.cf" -L sm-mta -bD \
	    >>"$DIR/$n/start.log" 2>&1 </dev/null &
	echo $! >"$DIR/$n/daemon.pid"
	STARTED+=("$DIR/$n/daemon.pid")
done
# Wait until every daemon listens.
for i in $(seq 1 50); do
	up=0
	for n in out "${RECEIVERS[@]}"; do
		[ -s "$DIR/${n%%|*}/sendmail.pid" ] && up=$((up + 1))
	done
	[ "$up" -eq $((${#RECEIVERS[@]} + 1)) ] && break
	sleep 0.1
done
[ "$up" -eq $((${#RECEIVERS[@]} + 1)) ] ||
    die "only $up daemons started; see $DIR/*/mail.log"
sleep 0.3

# ---------------------------------------------------------------------------
# Mail.  Outbound: each message is submitted with -odi, so it is delivered
# at once by its own process over its own connection; a deferred message
# stays in out's queue (no queue runner).
n=0
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r dom dir peer mode _ _ _ _ count <<<"$s"
	for i in $(seq 1 "$count"); do
		n=$((n + 1))
		if [ "$dir" = outbound ]; then
			printf 'Subject: lab %s %d\n\nmessage %d\n' "$dom" "$i" "$n" |
			    "${INNS[@]}" out "$SM" -C "$DIR/out/sendmail.cf" -odi \
			    -f "lab@out.test" "user$i@$dom" \
			    >>"$DIR/out/inject.log" 2>&1 || true
		else
			tls=()
			[ "$mode" = tls ] && tls=(--tls)
			swaks --server "$OUT_ADDR:$PORT" --local-interface "$peer" \
			    --from "sender$i@$dom" --to "someone@out.test" \
			    --helo "mx.$dom" "${tls[@]}" \
			    >>"$DIR/out/swaks.log" 2>&1 ||
			    die "swaks to out failed for $dom; see $DIR/out/swaks.log"
		fi
	done
done
sleep 0.5
cleanup
trap - EXIT

# ---------------------------------------------------------------------------
# expected.tsv from the table alone.
{
	printf 'direction\tdomain\ttls\tresult\ttrust\tsessions\tmessages\tstatus\n'
	for s in "${SCENARIOS[@]}"; do
		IFS='|' read -r dom dir _ _ tls res trust status count <<<"$s"
		msgs=$count
		if [ "$status" = deferred ]; then
			msgs=0
		fi
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$dir" "$dom" "$tls" \
		    "$res" "$trust" "$count" "$msgs" "$status"
	done
} >"$DIR/expected.tsv"

# Every planned outbound attempt happened (one delivery line each).
want=$(for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r _ dir _ _ _ _ _ _ count <<<"$s"
	if [ "$dir" = outbound ]; then
		echo "$count"
	fi
done | awk '{ s += $1 } END { print s }')
got=$(grep -cE ': to=<?user[0-9]+@[^ ]*, .*mailer=esmtp, ' \
    "$DIR/out/mail.log" || true)
[ "$got" -eq "$want" ] ||
    die "expected $want delivery attempts in out/mail.log, found $got"
echo "sendmail-lab: done, $n messages; log in $DIR/out/mail.log"
