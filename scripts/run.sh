#!/bin/sh
# make run: tlsflow on its private PostgreSQL, following a mail log.
set -eu
LOG=${LOG:-/var/log/mail.log}
if [ ! -r "$LOG" ]; then
	echo "tlsflow: there is no mail log at $LOG." >&2
	echo "tlsflow: point it at one with: make run LOG=/path/to/mail.log" >&2
	exit 1
fi
./tlsflow db migrate
echo "tlsflow: following $LOG (Ctrl-C to stop; the database stays up," \
    "\"./tlsflow db stop\" stops it)"
exec ./tlsflow collect "$LOG"
