# lab-common.sh - what the real-MTA labs in tests/lab/ share.
# shellcheck shell=bash
#
# Sourced (not run) by postfix-lab.sh, exim-lab.sh, sendmail-lab.sh and
# opensmtpd-lab.sh, after they set LAB_NAME (the prefix of their
# messages).  Each lab keeps its scenario table, its own MTA's set-up and
# its checks; this file holds:
#   die, lab_need, lab_dir        messages, preconditions, DIR
#   lab_track, lab_stop           the lab's own processes, stopped on exit
#   lab_ca, lab_cert, lab_certs   the test CA and server certificates
#   lab_user, lab_hosts, lab_ns   private /etc copies, mount namespaces
#   lab_syslog                    tests/lab/syslog-rx.py as /dev/log
#   lab_postfix_*                 Postfix instances, receivers among them
#   lab_mail                      the table's messages (exim, sendmail)
#   lab_expected_tsv, lab_poll    expected.tsv from the table, waiting
#
# Tables the functions read (each lab defines them):
#   SCENARIOS  "domain|direction|peer|mode|tls|result|trust|status|count"
#              or, with sessions and messages apart, "...|status|sessions|
#              messages"; outbound, peer is a receiver name
#   RECEIVERS  "name|address|kind": kind valid, selfsigned, expired,
#              mismatch, or none (no STARTTLS); the certificate of a
#              receiver is DIR/ca/NAME.crt for the host name mx.NAME.test
#   OUT_ADDR   the address of "out", the lab's own MTA
#
# Processes: only those the lab started are stopped, by their PID (or
# the pid file their daemon writes) and by their Postfix configuration
# directory, never by name: other tests run beside the labs.

: "${LAB_NAME:=lab}"
LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
LAB_PY=/usr/bin/python3

die() {
	echo "$LAB_NAME: $*" >&2
	exit 1
}

# lab_need CMD...: root, and every command (swaks with TLS support).
lab_need() {
	local cmd
	[ "$(id -u)" -eq 0 ] || die "must run as root"
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null || die "missing command: $cmd"
	done
	case " $* " in
	*" swaks "*)
		# Without Net::SSLeay swaks silently cannot do --tls.
		swaks --support 2>&1 | grep -q '^=== TLS supported' ||
		    die "swaks has no TLS support (install libnet-ssleay-perl)"
		;;
	esac
}

# lab_dir PATH SUBDIR...: DIR (absolute) made from PATH, which must not
# exist or be empty, with the given subdirectories.
lab_dir() {
	if [ -e "$1" ] && [ -n "$(ls -A "$1")" ]; then
		die "$1 exists and is not empty (use a fresh directory)"
	fi
	mkdir -p "$1"
	DIR=$(cd "$1" && pwd -P)
	chmod 755 "$DIR"
	shift
	local d
	for d in "$@"; do
		mkdir -p "$DIR/$d"
	done
}

# lab_poll TENTHS CMD...: true once CMD succeeds, polled every 0.1 s.
lab_poll() {
	local i
	for ((i = 0; i < $1; i++)); do
		"${@:2}" && return 0
		sleep 0.1
	done
	"${@:2}"
}

# lab_all_up FILE: DIR/NAME/FILE is not empty for "out" and every receiver
# (the pid file that a daemon writes once it listens).
lab_all_up() {
	local r
	for r in out "${RECEIVERS[@]}"; do
		[ -s "$DIR/${r%%|*}/$1" ] || return 1
	done
}

# ---------------------------------------------------------------------------
# Processes.  LAB_PIDS entries are "SIGNAL:PID" or "SIGNAL:@PIDFILE" (read
# when stopping: daemons write their own; the command line of such a
# daemon must name a file in DIR); LAB_LATE_PIDS are stopped last
# (the syslog listener, so that the daemons' last lines get in);
# LAB_POSTFIX holds the configuration directories of started instances.

LAB_PIDS=()
LAB_LATE_PIDS=()
LAB_POSTFIX=()

# lab_track [-late] [-SIGNAL] PID|@PIDFILE
lab_track() {
	local late=no sig=TERM
	if [ "$1" = -late ]; then
		late=yes
		shift
	fi
	case $1 in -*) sig=${1#-}; shift ;; esac
	if [ "$late" = yes ]; then
		LAB_LATE_PIDS+=("$sig:$1")
	else
		LAB_PIDS+=("$sig:$1")
	fi
}

# lab_kill SIGNAL PID: signal one of our processes and wait (up to 5 s)
# until it is gone; reap it if it is our child.
lab_kill() {
	kill -"$1" "$2" 2>/dev/null || return 0
	for _ in $(seq 50); do
		case $(ps -o stat= -p "$2" 2>/dev/null) in
		'' | Z*)
			wait "$2" 2>/dev/null || true
			return 0
			;;
		esac
		sleep 0.1
	done
	echo "$LAB_NAME: process $2 did not stop on SIG$1" >&2
}

# lab_untrack PID: forget a process the lab stopped itself.
lab_untrack() {
	local e keep=()
	for e in "${LAB_PIDS[@]}"; do
		[ "${e#*:}" = "$1" ] || keep+=("$e")
	done
	LAB_PIDS=("${keep[@]}")
}

# lab_ours PID: the process runs a program from DIR or names DIR.
lab_ours() {
	case $(readlink "/proc/$1/exe" 2>/dev/null) in
	"$DIR"/*) return 0 ;;
	esac
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$DIR/"
}

lab_stop_list() {
	local i e pid
	for ((i = $#; i >= 1; i--)); do
		e=${!i}
		pid=${e#*:}
		if [ "${pid#@}" != "$pid" ]; then
			pid=$(cat "${pid#@}" 2>/dev/null || true)
			# A daemon that is gone may have left its pid file, and
			# the pid may be someone else's by now: ours run a
			# program from DIR or name a file in DIR (their
			# configuration) on their command line.
			if [ -n "$pid" ] && ! lab_ours "$pid"; then
				pid=
			fi
		fi
		if [ -n "$pid" ]; then
			lab_kill "${e%%:*}" "$pid"
		fi
	done
}

# lab_stop: stop everything the lab started, newest first; the Postfix
# instances lose their queued (deferred) mail first.
lab_stop() {
	local i conf
	lab_stop_list "${LAB_PIDS[@]}"
	LAB_PIDS=()
	for ((i = ${#LAB_POSTFIX[@]} - 1; i >= 0; i--)); do
		conf=${LAB_POSTFIX[i]}
		postsuper -c "$conf" -d ALL >/dev/null 2>&1 || true
		# "postfix stop" waits up to 5 s for master to exit.
		postfix -c "$conf" stop >/dev/null 2>&1 ||
		    echo "$LAB_NAME: could not stop instance $conf" >&2
	done
	LAB_POSTFIX=()
	if [ ${#LAB_LATE_PIDS[@]} -gt 0 ]; then
		sleep 0.3
		lab_stop_list "${LAB_LATE_PIDS[@]}"
		LAB_LATE_PIDS=()
	fi
}

lab_cleanup() {
	local rc=$?
	set +e
	lab_stop
	[ "$rc" -eq 0 ] || echo "$LAB_NAME: FAILED (exit $rc); see ${DIR:-?}" >&2
	exit "$rc"
}
trap lab_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Test CA in DIR/ca.  Certificates are signed with "openssl ca" because
# OpenSSL 3.0's "x509 -req" has no -not_before/-not_after and its -days
# stops at -1, so it cannot make a certificate that expired long ago; one
# signing path keeps all CA-signed certificates alike.

lab_ca() {
	CA=$DIR/ca
	mkdir -p "$CA/newcerts"
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
	# OpenSSL expands $ENV::LAB_SAN when it loads the file, so it must
	# always be set; lab_cert sets it per certificate.
	export LAB_SAN=unused.invalid
	: >"$CA/index.txt"
	echo 01 >"$CA/serial"
	lab_ossl req -config "$CA/openssl.cnf" -x509 -newkey rsa:2048 -nodes \
	    -keyout "$CA/ca.key" -out "$CA/ca.crt" -days 3650 \
	    -subj "/O=tlsflow lab/CN=tlsflow lab CA" -extensions ca_ext
	LAB_NOW=$(date -u +%Y%m%d%H%M%SZ)
	LAB_LATER=$(date -u -d '+1 year' +%Y%m%d%H%M%SZ)
}

lab_ossl() {
	openssl "$@" 2>>"$CA/openssl.log" >/dev/null ||
	    die "openssl $1 failed, see $CA/openssl.log"
}

# lab_sign NAME CN STARTDATE ENDDATE: a CA-signed server certificate.
lab_sign() {
	lab_ossl req -config "$CA/openssl.cnf" -new -newkey rsa:2048 -nodes \
	    -keyout "$CA/$1.key" -out "$CA/$1.csr" -subj "/CN=$2"
	LAB_SAN=$2 lab_ossl ca -config "$CA/openssl.cnf" -batch -notext \
	    -in "$CA/$1.csr" -out "$CA/$1.crt" -extensions server_ext \
	    -startdate "$3" -enddate "$4"
}

# lab_cert NAME KIND HOST: DIR/ca/NAME.crt and .key, a server certificate
# for HOST of one kind: valid, expired (in 2020), mismatch (for
# wrong.example instead) or selfsigned.
lab_cert() {
	case $2 in
	valid) lab_sign "$1" "$3" "$LAB_NOW" "$LAB_LATER" ;;
	mismatch) lab_sign "$1" wrong.example "$LAB_NOW" "$LAB_LATER" ;;
	expired) lab_sign "$1" "$3" 20200101000000Z 20210101000000Z ;;
	selfsigned)
		LAB_SAN=$3 lab_ossl req -config "$CA/openssl.cnf" -x509 \
		    -newkey rsa:2048 -nodes -keyout "$CA/$1.key" \
		    -out "$CA/$1.crt" -days 365 -subj "/CN=$3" \
		    -extensions server_ext
		;;
	*) die "lab_cert: unknown kind $2" ;;
	esac
}

# lab_certs: the CA, "out" (valid, mx.out.test) and one certificate per
# receiver; keys readable by root only, certificates by all (the
# unprivileged parts of the MTAs read the CA file).
lab_certs() {
	local r name kind
	lab_ca
	lab_cert out valid mx.out.test
	for r in "${RECEIVERS[@]}"; do
		IFS='|' read -r name _ kind <<<"$r"
		[ "$kind" = none ] || lab_cert "$name" "$kind" "mx.$name.test"
	done
	chmod 600 "$CA"/*.key
	chmod 644 "$CA"/*.crt
	chmod 755 "$CA"
}

# ---------------------------------------------------------------------------
# Private /etc files in DIR/etc and mount namespaces that show them.

# lab_user NAME UID HOME: DIR/etc/passwd and group (copies of the
# system's, made on first use) with a user and group NAME, id UID.
lab_user() {
	mkdir -p "$DIR/etc"
	[ -f "$DIR/etc/passwd" ] || cp /etc/passwd "$DIR/etc/passwd"
	[ -f "$DIR/etc/group" ] || cp /etc/group "$DIR/etc/group"
	echo "$1:x:$2:$2:tlsflow $LAB_NAME:$3:/usr/sbin/nologin" \
	    >>"$DIR/etc/passwd"
	echo "$1:x:$2:" >>"$DIR/etc/group"
}

# lab_hosts [-dot] [NAME...]: DIR/etc/hosts with localhost, OUT_ADDR as
# mx.out.test (and NAMEs) and every receiver as mx.NAME.test; with -dot
# each mx name also with a trailing dot.  Labs append their own lines.
# shellcheck disable=SC2120 # the arguments are optional
lab_hosts() {
	local dot='' r name addr
	[ "${1:-}" = -dot ] && { dot=.; shift; }
	mkdir -p "$DIR/etc"
	{
		echo "127.0.0.1 localhost"
		echo "$OUT_ADDR mx.out.test${dot:+ mx.out.test.}${*:+ $*}"
		for r in "${RECEIVERS[@]}"; do
			IFS='|' read -r name addr _ <<<"$r"
			echo "$addr mx.$name.test${dot:+ mx.$name.test.}"
		done
	} >"$DIR/etc/hosts"
}

# lab_ns [-h HOSTNAME] [-p PIDFILE] MOUNT... -- CMD...: run CMD in a
# private mount namespace (and UTS namespace with host name HOSTNAME),
# with each MOUNT applied in order: "SRC=DST" bind-mounts SRC over DST;
# "dev=DIR" makes DIR, which holds empty files null, zero, random and
# urandom (and whatever else the lab puts there, such as a syslog socket
# "log"), the /dev of CMD with the real devices bound in.  With -p the
# pid of CMD is written to PIDFILE (lab_ns exec's CMD: a lab that runs
# "lab_ns ... &" gets the pid of a subshell in $!, not that of CMD).
lab_ns() {
	local uts=()
	[ "$1" = -h ] && uts=(--uts)
	# shellcheck disable=SC2016 # expanded by the inner bash
	unshare --mount "${uts[@]}" bash -c '
	    if [ "$1" = -h ]; then hostname "$2" || exit 1; shift 2; fi
	    pidfile=
	    if [ "$1" = -p ]; then pidfile=$2; shift 2; fi
	    while [ "$1" != -- ]; do
		case $1 in
		dev=*)
			d=${1#dev=}
			for n in null zero random urandom; do
				mount --bind "/dev/$n" "$d/$n" || exit 1
			done
			mount --rbind "$d" /dev || exit 1
			;;
		*) mount --bind "${1%%=*}" "${1#*=}" || exit 1 ;;
		esac
		shift
	    done
	    shift
	    if [ -n "$pidfile" ]; then echo $$ >"$pidfile"; fi
	    exec "$@"' lab-ns "$@"
}

# lab_devdir DIR: an empty /dev for lab_ns "dev=DIR".
lab_devdir() {
	mkdir -p "$1"
	touch "$1/null" "$1/zero" "$1/random" "$1/urandom"
}

# ---------------------------------------------------------------------------
# Syslog: lab_syslog SOCKET=LOGFILE=HOST...: tests/lab/syslog-rx.py on
# those sockets (each a lab_ns /dev's "log"), stopped after the daemons.
lab_syslog() {
	"$LAB_PY" "$LAB_HERE/syslog-rx.py" "$@" >"$DIR/syslog-rx.out" 2>&1 &
	lab_track -late $!
	lab_poll 50 grep -q '^ready' "$DIR/syslog-rx.out" ||
	    die "syslog receiver did not start: $(cat "$DIR/syslog-rx.out")"
}

# ---------------------------------------------------------------------------
# Postfix instances: DIR/postfix/NAME/{conf,queue,data}, each logging to
# a file through its own postlogd (no syslog).  Postfix daemons run as
# user postfix and must be able to reach their queue, so DIR and its
# parents must be searchable by it.

lab_postfix_need() {
	lab_need postfix postconf postsuper runuser script
	runuser -u postfix -- test -x "$DIR" ||
	    die "user postfix cannot reach $DIR (check the parents' permissions)"
}

# lab_postfix_instance NAME HOSTNAME: config, queue and data directories,
# a main.cf with what every lab instance shares, and master.cf without
# chroot (inside the jail, which is the queue directory, the daemons could
# not read the CA, the lookup tables or /etc files kept outside it).
lab_postfix_instance() {
	local base=$DIR/postfix/$1
	local conf=$base/conf
	mkdir -p "$conf" "$base/queue" "$base/data"
	chown postfix "$base/data"
	cp /etc/postfix/master.cf "$conf/master.cf"
	cat >"$conf/main.cf" <<EOF
# Generated by tests/lab/lab-common.sh ($LAB_NAME) for instance "$1".
compatibility_level = 3.6
queue_directory = $base/queue
data_directory = $base/data
myhostname = $2
inet_protocols = ipv4
# Postfix insists that inet_interfaces are addresses of an interface, and
# 127.0.0.11 etc. are not (lo has 127.0.0.1/8).  The listeners name their
# addresses in master.cf instead, which Postfix binds as given.
inet_interfaces = loopback-only
smtputf8_enable = no
biff = no
alias_maps =
alias_database =
mydestination =
mynetworks = 127.0.0.0/8
# No DNS: the lab has no network, and reverse lookups of 127.0.0.x would
# leave the host.  Clients are then logged as unknown[127.0.0.x].
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
# No syslog in the lab: postlogd writes the log file.
maillog_file_prefixes = $DIR
EOF
	# The stock smtp/inet listener is port 25 on all interfaces.
	postconf -c "$conf" -MX smtp/inet
	postconf -c "$conf" -F '*/*/chroot = n'
}

# lab_postfix_listen CONF ADDR PORT: an smtpd on ADDR:PORT.
lab_postfix_listen() {
	postconf -c "$1" -M "$2:$3/inet = $2:$3 inet n - n - - smtpd"
}

# lab_pfx ARGS: run postfix(1) on a pseudo-terminal, output to
# DIR/postfix.log.  postfix(1) writes its errors to stderr only when
# stderr is a terminal; otherwise they go to the log, which does not
# exist yet when the configuration is wrong.
lab_pfx() {
	echo "# postfix $*" >>"$DIR/postfix.log"
	script -qec "$(printf '%q ' postfix "$@")" /dev/null \
	    >>"$DIR/postfix.log" 2>&1 ||
	    die "postfix $* failed: $(tail -n 3 "$DIR/postfix.log" | tr -d '\r')"
}

# lab_postfix_start CONF: create the queue directories, then start.
lab_postfix_start() {
	lab_pfx -c "$1" check
	lab_pfx -c "$1" start
	LAB_POSTFIX+=("$1")
}

# lab_postfix_receivers PORT...: one Postfix instance per RECEIVERS entry,
# mx.NAME.test listening on its address at each PORT.  It accepts mail for
# the outbound SCENARIOS domains whose peer it is and throws it away
# (only the sending side's log matters), with STARTTLS and its own
# certificate unless its kind is none.  Its log: DIR/postfix/NAME/mail.log.
lab_postfix_receivers() {
	local r s name addr kind conf domains domain direction peer lport
	for r in "${RECEIVERS[@]}"; do
		IFS='|' read -r name addr kind <<<"$r"
		lab_postfix_instance "$name" "mx.$name.test"
		conf=$DIR/postfix/$name/conf
		domains=
		for s in "${SCENARIOS[@]}"; do
			IFS='|' read -r domain direction peer _ <<<"$s"
			if [ "$direction" = outbound ] && [ "$peer" = "$name" ]; then
				domains="$domains $domain"
			fi
		done
		cat >>"$conf/main.cf" <<EOF
syslog_name = postfix-$name
maillog_file = $DIR/postfix/$name/mail.log
relay_domains =$domains
relay_transport = discard:
smtpd_tls_loglevel = 1
EOF
		if [ "$kind" = none ]; then
			echo "smtpd_tls_security_level = none" >>"$conf/main.cf"
		else
			cat >>"$conf/main.cf" <<EOF
smtpd_tls_security_level = may
smtpd_tls_cert_file = $CA/$name.crt
smtpd_tls_key_file = $CA/$name.key
EOF
		fi
		for lport in "$@"; do
			lab_postfix_listen "$conf" "$addr" "$lport"
		done
	done
}

# lab_postfix_start_receivers: start the instances of RECEIVERS.
lab_postfix_start_receivers() {
	local r
	for r in "${RECEIVERS[@]}"; do
		lab_postfix_start "$DIR/postfix/${r%%|*}/conf"
	done
}

# lab_free PORT...: die if OUT_ADDR or a receiver's address is in use at
# one of the ports (a lab still running?).
lab_free() {
	local r addr lport
	for r in "${RECEIVERS[@]}" "out|$OUT_ADDR|-"; do
		IFS='|' read -r _ addr _ <<<"$r"
		for lport in "$@"; do
			if ss -Hltn "src $addr:$lport" | grep -q .; then
				die "$addr:$lport is already in use (a lab still running?)"
			fi
		done
	done
}

# ---------------------------------------------------------------------------
# lab_mail: every message of SCENARIOS, in table order.  Outbound ones go
# to the lab's function "inject RECIPIENT" on its standard input (output
# in DIR/out/inject.log; its status does not count: deferrals are in the
# table); inbound ones are swaks sessions from the peer address to
# OUT_ADDR:PORT, with STARTTLS if the mode is tls, one message each
# (output in DIR/out/swaks.log).  LAB_SENT: the number of messages.
lab_mail() {
	local s dom dir peer mode count i tls
	LAB_SENT=0
	for s in "${SCENARIOS[@]}"; do
		IFS='|' read -r dom dir peer mode _ _ _ _ count _ <<<"$s"
		for ((i = 1; i <= count; i++)); do
			LAB_SENT=$((LAB_SENT + 1))
			if [ "$dir" = outbound ]; then
				printf 'Subject: lab %s %d\n\nmessage %d\n' \
				    "$dom" "$i" "$LAB_SENT" |
				    inject "user$i@$dom" \
				    >>"$DIR/out/inject.log" 2>&1 || true
				continue
			fi
			tls=()
			[ "$mode" = tls ] && tls=(--tls)
			swaks --server "$OUT_ADDR:$PORT" --local-interface "$peer" \
			    --from "sender$i@$dom" --to "someone@out.test" \
			    --helo "mx.$dom" "${tls[@]}" \
			    >>"$DIR/out/swaks.log" 2>&1 ||
			    die "swaks to out failed for $dom; see $DIR/out/swaks.log"
		done
	done
}

# ---------------------------------------------------------------------------
# lab_expected_tsv: DIR/expected.tsv from SCENARIOS alone (never from the
# log, so that a wrong parser cannot agree with a wrong lab).  With one
# count per row, that is the sessions and, unless deferred, the messages.
lab_expected_tsv() {
	local s dom dir tls res trust status sess msgs
	{
		printf 'direction\tdomain\ttls\tresult\ttrust\tsessions\tmessages\tstatus\n'
		for s in "${SCENARIOS[@]}"; do
			IFS='|' read -r dom dir _ _ tls res trust status sess msgs <<<"$s"
			if [ -z "$msgs" ]; then
				msgs=$sess
				[ "$status" = deferred ] && msgs=0
			fi
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$dir" "$dom" \
			    "$tls" "$res" "$trust" "$sess" "$msgs" "$status"
		done
	} >"$DIR/expected.tsv"
}

# lab_outbound_sessions: the sum of the outbound rows' session counts.
lab_outbound_sessions() {
	local s dir sess n=0
	for s in "${SCENARIOS[@]}"; do
		IFS='|' read -r _ dir _ _ _ _ _ _ sess _ <<<"$s"
		[ "$dir" = outbound ] && n=$((n + sess))
	done
	echo "$n"
}
