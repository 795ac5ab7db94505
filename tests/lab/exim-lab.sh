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
#   DIR/ca/            the test CA and certificates (tests/lab/lab-common.sh)
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
LAB_NAME=exim-lab
# shellcheck source=tests/lab/lab-common.sh
. "$(dirname "$0")/lab-common.sh"
lab_need apt-get dpkg swaks openssl unshare

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

lab_dir "$DIR" root debs etc

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
lab_user Debian-exim "$LABUID" /nonexistent
lab_hosts

# Run a command with the lab's passwd/group/hosts, ld.so.cache and
# /usr/sbin.
inns() {
	lab_ns "$DIR/etc/passwd=/etc/passwd" "$DIR/etc/group=/etc/group" \
	    "$DIR/etc/hosts=/etc/hosts" \
	    "$DIR/etc/ld.so.cache=/etc/ld.so.cache" \
	    "$DIR/root/usr/sbin=/usr/sbin" -- "$@"
}

# Test CA and certificates (lab-common.sh).  Exim reads them as
# Debian-exim after dropping privileges: lab keys only.
lab_certs
chmod 644 "$CA"/*.key

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
	lab_track "@$DIR/$n/exim.pid"
done
# Wait until every daemon listens.
lab_poll 50 lab_all_up exim.pid ||
    die "not every Exim started; see $DIR/*/start.log and $DIR/*/paniclog"
sleep 0.5

# ---------------------------------------------------------------------------
# Mail.  Outbound: each message is injected with -odi, so it is delivered
# at once by its own process over its own connection.  A failed delivery
# leaves a retry record that would make the next message skip the host
# ("retry time not reached", no connection): the hints are removed first.
inject() { # RECIPIENT
	rm -f "$DIR"/out/spool/db/retry*
	inns "$EXIM" -C "$DIR/out/exim.conf" -odi -f lab@out.test "$1"
}
lab_mail
sleep 0.5
lab_stop

# expected.tsv from the table alone.
lab_expected_tsv

# Every planned outbound attempt happened (one line each in the log).
want=$(lab_outbound_sessions)
got=$(grep -cE ' (=>|==) .* R=lab ' "$DIR/out/mainlog" || true)
[ "$got" -eq "$want" ] ||
    die "expected $want delivery attempts in out/mainlog, found $got"
echo "exim-lab: done, $LAB_SENT messages; log in $DIR/out/mainlog"
