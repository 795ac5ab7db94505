#!/bin/bash
# exim-lab.sh - run a real-Exim TLS lab on loopback and keep its main log.
#
# Usage (as root): tests/lab/exim-lab.sh DIR
#
# Exim is Debian's exim4-daemon-light (GnuTLS build), fetched with
# "apt-get download" and unpacked with "dpkg -x" into DIR/root: it cannot
# be installed next to postfix (the packages conflict).  Debian's binary
# looks up its compiled-in user "Debian-exim" before it reads any
# configuration, so every Exim runs inside a private mount namespace
# (unshare --mount) where copies of /etc/passwd, /etc/group and /etc/hosts
# with the lab's user and host names are bind-mounted, and the unpacked
# /usr/sbin over the real one (Exim re-executes its compiled-in
# /usr/sbin/exim4 for each delivery); the system files are not touched.
#
# Builds inside DIR (which must not exist or be empty):
#   DIR/ca/            the test CA and certificates (as tests/lab/postfix-lab.sh)
#   DIR/NAME/          one Exim each: "out" (our MTA) and the receivers
#                      valid, selfsigned, expired, mismatch, notls; the same
#                      TLS situations as the Postfix lab
#   DIR/out/mainlog    the main log of "out"
#   DIR/expected.tsv   what each scenario must look like, from the table
#                      below (never from the log)
# Network: 127.0.0.0/8 only; host names come from the private /etc/hosts.

set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
DIR=$1
die() {
	echo "exim-lab: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || die "must run as root"
for cmd in apt-get dpkg swaks openssl unshare; do
	command -v "$cmd" >/dev/null || die "missing command: $cmd"
done
swaks --support 2>&1 | grep -q '^=== TLS supported' ||
    die "swaks has no TLS support (install libnet-ssleay-perl)"

# ---------------------------------------------------------------------------
# The scenario table: domain|direction|peer|transport or swaks mode|
# tls|result|trust|status|count.  The Exim build is GnuTLS: it completes an
# opportunistic handshake whatever the certificate (CV=no) and logs no
# verification reason when a required verification fails, so the
# secure-* failures are validation-failure (MTA-LOGS.md 0.6).
SCENARIOS=(
	"valid.test|outbound|valid|may|tls|success|verified|sent|3"
	"selfsigned.test|outbound|selfsigned|may|tls|success|untrusted|sent|2"
	"expired.test|outbound|expired|may|tls|success|untrusted|sent|1"
	"mismatch.test|outbound|mismatch|may|tls|success|untrusted|sent|2"
	"notls.test|outbound|notls|may|plaintext|-|-|sent|3"
	"secure-selfsigned.test|outbound|selfsigned|secure|failed|validation-failure|-|deferred|2"
	"secure-expired.test|outbound|expired|secure|failed|validation-failure|-|deferred|1"
	"secure-mismatch.test|outbound|mismatch|secure|failed|validation-failure|-|deferred|2"
	"encrypt-notls.test|outbound|notls|encrypt|failed|starttls-not-supported|-|deferred|1"
	"partner-tls.test|inbound|127.0.0.21|tls|tls|success|anonymous|-|3"
	"partner-plain.test|inbound|127.0.0.22|plain|plaintext|-|-|-|2"
)
RECEIVERS=(
	"valid|127.0.0.11|valid"
	"selfsigned|127.0.0.12|selfsigned"
	"expired|127.0.0.13|expired"
	"mismatch|127.0.0.14|mismatch"
	"notls|127.0.0.15|none"
)
OUT_ADDR=127.0.0.10
PORT=2525
LABUID=64990

if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then
	die "$DIR exists and is not empty (use a fresh directory)"
fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
chmod 755 "$DIR"
mkdir -p "$DIR/ca" "$DIR/root" "$DIR/debs" "$DIR/etc"

# ---------------------------------------------------------------------------
# Exim from Debian's packages, unpacked (libidn12 is its one library that
# a Postfix host may lack).
(cd "$DIR/debs" && apt-get download exim4-daemon-light exim4-base libidn12 \
    >"$DIR/debs/download.log" 2>&1) || die "apt-get download failed"
for d in "$DIR"/debs/*.deb; do dpkg -x "$d" "$DIR/root"; done
EXIM="$DIR/root/usr/sbin/exim4"
[ -x "$EXIM" ] || die "no exim4 in the packages"
export LD_LIBRARY_PATH="$DIR/root/usr/lib/x86_64-linux-gnu"

# Exim drops privileges before it re-executes itself, and the loader
# then ignores LD_LIBRARY_PATH: a private ld.so.cache that knows the
# unpacked libraries is bind-mounted instead.
{
	echo "$DIR/root/usr/lib/x86_64-linux-gnu"
	cat /etc/ld.so.conf.d/*.conf 2>/dev/null | grep -v '^#' || true
	echo /lib/x86_64-linux-gnu
	echo /usr/lib/x86_64-linux-gnu
} >"$DIR/etc/ld.so.conf"
ldconfig -C "$DIR/etc/ld.so.cache" -f "$DIR/etc/ld.so.conf" 2>/dev/null ||
    die "ldconfig failed"
cp /etc/passwd "$DIR/etc/passwd"
cp /etc/group "$DIR/etc/group"
echo "Debian-exim:x:$LABUID:$LABUID:exim lab:/nonexistent:/usr/sbin/nologin" \
    >>"$DIR/etc/passwd"
echo "Debian-exim:x:$LABUID:" >>"$DIR/etc/group"
{
	echo "127.0.0.1 localhost"
	echo "$OUT_ADDR mx.out.test"
	for r in "${RECEIVERS[@]}"; do
		IFS='|' read -r name addr _ <<<"$r"
		echo "$addr mx.$name.test"
	done
} >"$DIR/etc/hosts"

# Run a command with the lab's passwd/group/hosts.
inns() {
	unshare --mount bash -c 'mount --bind "$0/etc/passwd" /etc/passwd &&
	    mount --bind "$0/etc/group" /etc/group &&
	    mount --bind "$0/etc/hosts" /etc/hosts &&
	    mount --bind "$0/etc/ld.so.cache" /etc/ld.so.cache &&
	    mount --bind "$0/root/usr/sbin" /usr/sbin && shift && exec "$@"' \
	    "$DIR" -- "$@"
}

STARTED=()
cleanup() {
	local pf
	for pf in "${STARTED[@]}"; do
		if [ -s "$pf" ]; then
			kill "$(cat "$pf")" 2>/dev/null || true
		fi
	done
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
# Exim reads them as Debian-exim after dropping privileges: lab keys only.
chmod 644 "$CA"/*.crt "$CA"/*.key
chmod 755 "$CA"

# ---------------------------------------------------------------------------
# Instances.

# common NAME ADDR: the main options every instance shares.
common() {
	cat <<EOF
primary_hostname = mx.$1.test
spool_directory = $DIR/$1/spool
log_file_path = $DIR/$1/%slog
pid_file_path = $DIR/$1/exim.pid
daemon_smtp_ports = $PORT
local_interfaces = <; $2
keep_environment = LD_LIBRARY_PATH
host_lookup =
rfc1413_hosts =
log_selector = +tls_peerdn +outgoing_port +incoming_port
EOF
}

for r in "${RECEIVERS[@]}"; do
	IFS='|' read -r name addr cert <<<"$r"
	mkdir -p "$DIR/$name/spool"
	{
		common "$name" "$addr"
		if [ "$cert" = none ]; then
			echo "tls_advertise_hosts ="
		else
			echo "tls_advertise_hosts = *"
			echo "tls_certificate = $CA/$cert.crt"
			echo "tls_privatekey = $CA/$cert.key"
		fi
		cat <<'EOF'
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept
begin routers
sink:
  driver = redirect
  data = :blackhole:
EOF
	} >"$DIR/$name/exim.conf"
done

mkdir -p "$DIR/out/spool"
: >"$DIR/out/routes"
: >"$DIR/out/transports"
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r dom dir peer mode _ <<<"$s"
	[ "$dir" = outbound ] || continue
	echo "$dom: mx.$peer.test" >>"$DIR/out/routes"
	echo "$dom: remote_$mode" >>"$DIR/out/transports"
done
{
	common out "$OUT_ADDR"
	cat <<EOF
qualify_domain = out.test
tls_advertise_hosts = *
tls_certificate = $CA/out.crt
tls_privatekey = $CA/out.key
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept domains = out.test
  deny
begin routers
local:
  driver = redirect
  domains = out.test
  data = :blackhole:
lab:
  driver = manualroute
  domains = ! out.test
  transport = \${lookup{\$domain}lsearch{$DIR/out/transports}}
  route_data = \${lookup{\$domain}lsearch{$DIR/out/routes}} byname
begin transports
remote_may:
  driver = smtp
  port = $PORT
  tls_verify_certificates = $CA/ca.crt
remote_secure:
  driver = smtp
  port = $PORT
  hosts_require_tls = *
  tls_verify_hosts = *
  tls_verify_certificates = $CA/ca.crt
remote_encrypt:
  driver = smtp
  port = $PORT
  hosts_require_tls = *
begin retry
* * F,1d,1d
EOF
} >"$DIR/out/exim.conf"

for n in out "${RECEIVERS[@]}"; do
	n=${n%%|*}
	chown -R "$LABUID:$LABUID" "$DIR/$n"
	# Exim insists on a configuration owned by root, not writable by others.
	chown root:root "$DIR/$n/exim.conf"
	chmod 644 "$DIR/$n/exim.conf"
	chmod 755 "$DIR/$n"
	inns "$EXIM" -C "$DIR/$n/exim.conf" -bd >"$DIR/$n/start.log" 2>&1 ||
	    die "exim $n did not start: $(cat "$DIR/$n/start.log")"
	STARTED+=("$DIR/$n/exim.pid")
done
# Wait until every daemon listens.
for i in $(seq 1 50); do
	up=0
	for n in out "${RECEIVERS[@]}"; do
		[ -s "$DIR/${n%%|*}/exim.pid" ] && up=$((up + 1))
	done
	[ "$up" -eq $((${#RECEIVERS[@]} + 1)) ] && break
	sleep 0.1
done
sleep 0.5

# ---------------------------------------------------------------------------
# Mail.  Outbound: each message is injected with -odi, so it is delivered
# at once by its own process over its own connection.  A failed delivery
# leaves a retry record that would make the next message skip the host
# ("retry time not reached", no connection): the hints are removed first.
n=0
for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r dom dir peer mode _ _ _ _ count <<<"$s"
	for i in $(seq 1 "$count"); do
		n=$((n + 1))
		if [ "$dir" = outbound ]; then
			rm -f "$DIR"/out/spool/db/retry*
			printf 'Subject: lab %s %d\n\nmessage %d\n' "$dom" "$i" "$n" |
			    inns "$EXIM" -C "$DIR/out/exim.conf" -odi \
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

# Every planned outbound attempt happened (one line each in the log).
want=$(for s in "${SCENARIOS[@]}"; do
	IFS='|' read -r _ dir _ _ _ _ _ _ count <<<"$s"
	if [ "$dir" = outbound ]; then
		echo "$count"
	fi
done | awk '{ s += $1 } END { print s }')
got=$(grep -cE ' (=>|==) .* R=lab ' "$DIR/out/mainlog" || true)
[ "$got" -eq "$want" ] ||
    die "expected $want delivery attempts in out/mainlog, found $got"
echo "exim-lab: done, $n messages; log in $DIR/out/mainlog"
