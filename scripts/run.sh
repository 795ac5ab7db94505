#!/bin/sh
# make run: tlsflow on its private PostgreSQL, with the dashboard.
#
#   make run                     follow /var/log/mail.log; where there is
#                                none, show sample data (a real Postfix log
#                                recorded by the project's lab) from a
#                                database of its own, made anew each time
#   make run LOG=/path/mail.log  follow that log
#   make run LISTEN=ADDR:PORT    where the dashboard listens (default
#                                127.0.0.1:8025)
#
# The collector runs in the background, "tlsflow serve" in the foreground;
# Ctrl-C stops both.  The private database stays up for the next run
# ("./tlsflow db stop" stops it); the sample database is stopped.
set -eu
cd "$(dirname "$0")/.."
LISTEN=${LISTEN:-127.0.0.1:8025}
SAMPLE=tests/lab/sample-mail.log
DEFAULT_LOG=/var/log/mail.log
STATE=
BANNER=

if [ -n "${LOG:-}" ]; then
	if [ ! -r "$LOG" ]; then
		echo "tlsflow: cannot read the mail log $LOG." >&2
		exit 1
	fi
elif [ -r "$DEFAULT_LOG" ]; then
	LOG=$DEFAULT_LOG
fi

cpid=
spid=
stop() {
	trap - INT TERM EXIT
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	[ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
	if [ -n "$STATE" ]; then
		./tlsflow db stop --state_dir="$STATE" >/dev/null 2>&1 || true
	fi
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

if [ -z "${LOG:-}" ]; then
	# Sample data lives in its own database so that it never mixes with
	# the sessions of a real log later.
	if [ ! -r "$SAMPLE" ]; then
		echo "tlsflow: there is no mail log at $DEFAULT_LOG and the" \
		    "sample log $SAMPLE is missing;" >&2
		echo "tlsflow: point it at a log: make run LOG=/path/to/mail.log" >&2
		exit 1
	fi
	STATE=./var/sample
	LOG=$SAMPLE
	BANNER="Sample data: $SAMPLE, a real Postfix log recorded by tlsflow's lab. To see your own mail: make run LOG=/var/log/mail.log"
	cat <<EOF
tlsflow: there is no mail log at $DEFAULT_LOG, so this shows SAMPLE DATA:
tlsflow:   $SAMPLE, a real Postfix log recorded by the project's lab
tlsflow:   (tests/lab/postfix-lab.sh), kept in a database of its own (./var/sample).
tlsflow: to watch your own mail instead:
tlsflow:   make run LOG=/path/to/mail.log
tlsflow:   (Postfix needs "smtp_tls_loglevel = 1" and "smtpd_tls_loglevel = 1"
tlsflow:   in main.cf, or tlsflow cannot tell encrypted from plaintext)
EOF
	# Made anew each time: the sample is loaded by this very build.
	./tlsflow db stop --state_dir="$STATE" >/dev/null 2>&1 || true
	rm -rf "$STATE"
	./tlsflow db migrate --state_dir="$STATE" >/dev/null
	./tlsflow collect --once --format postfix --state_dir="$STATE" "$SAMPLE"
	./tlsflow collect --format postfix --state_dir="$STATE" "$SAMPLE" &
	cpid=$!
else
	./tlsflow db migrate >/dev/null
	echo "tlsflow: following $LOG"
	./tlsflow collect "$LOG" &
	cpid=$!
fi

if [ -n "$STATE" ]; then
	./tlsflow serve --listen "$LISTEN" --state_dir="$STATE" \
	    --web_banner="$BANNER" &
else
	./tlsflow serve --listen "$LISTEN" &
fi
spid=$!
i=0
until curl -fs -o /dev/null "http://$LISTEN/healthz" 2>/dev/null; do
	if ! kill -0 "$spid" 2>/dev/null; then
		echo "tlsflow: the dashboard did not start (is $LISTEN taken?" \
		    "try: make run LISTEN=127.0.0.1:8026)" >&2
		spid=
		exit 1
	fi
	i=$((i + 1))
	[ $i -lt 150 ] || break
	sleep 0.2
done
echo
echo "tlsflow: dashboard: http://$LISTEN/"
echo "tlsflow: (Ctrl-C stops the collector and the dashboard)"
wait "$spid"
