#!/bin/sh
# bench/parse-mtas.sh - tlsflow parse on a realistic log of 3 million
# lines per format (exim main log, sendmail and opensmtpd syslog files,
# bench/gen_mtalog.py), beside grep on the same file in the same run.
# Target: >= 5,000,000 lines/s on one core for each format.
set -eu
LINES=${LINES:-3000000}
mkdir -p bench/out

# run LABEL CMD...: wall and CPU seconds of CMD, output discarded (to a
# file: GNU grep stops at the first match when it sees /dev/null).
run() {
	label=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o bench/out/time "$@" >bench/out/output 2>&1 || true
	set -- $(cat bench/out/time)
	rate=$(awk -v n="$n" -v s="$1" 'BEGIN { printf "%d", (s > 0) ? n / s : 0 }')
	cpu=$(awk -v n="$n" -v u="$2" -v k="$3" 'BEGIN { printf "%d", (u + k > 0) ? n / (u + k) : 0 }')
	printf "%-40s %7.2f s %11d lines/s (%11d per CPU s) %6d MiB\n" \
	    "$label" "$1" "$rate" "$cpu" $(($4 / 1024))
}

for fmt in exim sendmail opensmtpd; do
	LOG=bench/out/$fmt-$LINES.log
	[ -s "$LOG" ] || /usr/bin/python3 bench/gen_mtalog.py "$fmt" "$LINES" "$LOG"
	n=$(wc -l <"$LOG")
	mb=$(( $(stat -c %s "$LOG") / 1048576 ))
	cat "$LOG" >/dev/null # warm the page cache for every contender
	case $fmt in
	exim) pat=' X=' ;;
	sendmail) pat='STARTTLS=' ;;
	opensmtpd) pat=' tls ciphers=' ;;
	esac
	echo "parse-mtas: $fmt, $n lines, $mb MiB ($LOG)"
	run "tlsflow parse --format $fmt --summary" taskset -c 0 ./tlsflow parse --format "$fmt" --summary "$LOG"
	run "tlsflow parse --format auto --summary" taskset -c 0 ./tlsflow parse --format auto --summary "$LOG"
	run "grep -c '$pat'" taskset -c 0 grep -c "$pat" "$LOG"
done
