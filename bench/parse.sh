#!/bin/sh
# bench/parse.sh - tlsflow parse and tlsflow collect on a realistic
# mail.log of 3 million lines, beside grep and pflogsumm on the same file,
# in the same run.  Targets: parse >= 5,000,000 lines/s on one core and
# >= 10x pflogsumm; collect into PostgreSQL >= 1,000,000 lines/s.
set -eu
LINES=${LINES:-3000000}
mkdir -p bench/out
LOG=bench/out/mail-$LINES.log
[ -s "$LOG" ] || /usr/bin/python3 bench/gen_maillog.py "$LINES" "$LOG"
n=$(wc -l <"$LOG")
mb=$(( $(stat -c %s "$LOG") / 1048576 ))
cat "$LOG" >/dev/null # warm the page cache for every contender

# run LABEL CMD...: wall and CPU seconds and peak KiB of CMD, output
# discarded.  The rate is by wall time; by CPU time too, since other work
# on a shared machine stretches wall time.
run() {
	label=$1
	shift
	# Not /dev/null: GNU grep stops at the first match when it sees that.
	/usr/bin/time -f "%e %U %S %M" -o bench/out/time "$@" >bench/out/output 2>&1 || true
	set -- $(cat bench/out/time)
	rate=$(awk -v n="$n" -v s="$1" 'BEGIN { printf "%d", (s > 0) ? n / s : 0 }')
	cpu=$(awk -v n="$n" -v u="$2" -v k="$3" 'BEGIN { printf "%d", (u + k > 0) ? n / (u + k) : 0 }')
	printf "%-36s %7.2f s %11d lines/s (%11d per CPU s) %6d MiB\n" \
	    "$label" "$1" "$rate" "$cpu" $(($4 / 1024))
	echo "$rate" >bench/out/rate
}
echo "parse: $n lines, $mb MiB ($LOG)"
run "tlsflow parse --summary (1 core)" taskset -c 0 ./tlsflow parse --format postfix --summary "$LOG"
ours=$(cat bench/out/rate)
run "tlsflow parse, JSON lines (1 core)" taskset -c 0 ./tlsflow parse --format postfix "$LOG"
run "grep -c 'TLS connection established'" grep -c 'TLS connection established' "$LOG"
if command -v pflogsumm >/dev/null; then
	run "pflogsumm" pflogsumm "$LOG"
	theirs=$(cat bench/out/rate)
	echo "parse: tlsflow is $(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.1f", a / b }')x pflogsumm's rate (target 10x)"
fi

D=$(mktemp -d /tmp/tfp.XXXXXX)
chmod 755 "$D"
trap 'runuser -u "$(stat -c %U "$D/pg/data")" -- \
    $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl \
    -D "$D/pg/data" -m fast stop >/dev/null 2>&1; rm -rf "$D"' EXIT
# pg_cpu: CPU seconds the cluster has used so far (the postmaster, its
# reaped children and the live ones), from /proc.
pg_cpu() {
	pm=$(head -n 1 "$D/pg/data/postmaster.pid")
	t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
	for c in $(pgrep -P "$pm"); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || echo 0)))
	done
	awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
./tlsflow db migrate --state_dir="$D" >/dev/null 2>&1
./tlsflow db start --state_dir="$D" >/dev/null 2>&1
before=$(pg_cpu)
run "tlsflow collect --once (database)" ./tlsflow collect --once \
    --state_dir="$D" --format postfix "$LOG"
sleep 1 # the backend's exit
echo "parse: stored $(psql -X -qAt -h "$D/pg/run" -U tlsflow tlsflow \
    -c 'SELECT count(*) FROM sessions') sessions; PostgreSQL used" \
    "$(awk -v a="$before" -v b="$(pg_cpu)" 'BEGIN { printf "%.2f", b - a }')" \
    "CPU s meanwhile (the collector parses while its writer thread commits)"
