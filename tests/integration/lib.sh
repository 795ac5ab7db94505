# lib.sh - shared helpers for the integration tests (sourced, bash)
#
# Each test gets a private directory under /tmp (short: the PostgreSQL
# socket path must fit in 107 bytes) with its own PostgreSQL cluster made
# through tlsflow's own private-cluster code (tlsflow db start), and ends
# with finish, which prints "N passed, N failed".

set -u
PROG=${PROG:-./tlsflow}
BUILD=${BUILD:-build}
case "$PROG" in /*) ;; *) PROG="$PWD/$PROG" ;; esac
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
T_PASS=0
T_FAIL=0

ok() { echo "ok - $*"; T_PASS=$((T_PASS + 1)); }
fail() { echo "FAIL - $*"; T_FAIL=$((T_FAIL + 1)); }
# check LABEL GOT WANT
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi
}
finish() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}

# A fresh test directory; removed at exit unless KEEP=1.
TD=$(mktemp -d /tmp/tft.XXXXXX)
chmod 755 "$TD"
STATE="$TD/state"
cleanup_hooks=""
on_exit() { cleanup_hooks="$1; $cleanup_hooks"; }
_cleanup() {
	eval "$cleanup_hooks"
	pg_stop immediate >/dev/null 2>&1
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept $TD"
	else
		rm -rf "$TD"
	fi
}
trap _cleanup EXIT

# The cluster runs as the owner of its data directory.
pg_as_owner() {
	owner=$(stat -c %U "$STATE/pg/data")
	if [ "$(id -un)" = "$owner" ]; then "$@"; else runuser -u "$owner" -- "$@"; fi
}
pg_start() { "$PROG" db start --state_dir="$STATE" >/dev/null 2>&1; }
pg_stop() { # MODE: fast or immediate
	[ -d "$STATE/pg/data" ] || return 0
	pg_as_owner "$PGBIN/pg_ctl" -D "$STATE/pg/data" -m "${1:-fast}" -w stop
}
# sql QUERY: one value per line, fields separated by |
sql() {
	psql -X -qAt -v ON_ERROR_STOP=1 -h "$STATE/pg/run" -U tlsflow tlsflow \
	    -c "$1"
}

# lab_rows TSV [SOURCE [LABEL]]: every row of a lab's expected.tsv (written
# from its scenario table) against the sessions table: for the direction
# and domain, the number of sessions and messages, and that every session
# has the row's tls, result, trust and status ("-" for none).  SOURCE
# limits the sessions to one MTA's; LABEL prefixes the checks.
lab_rows() {
	_src=""
	[ -n "${2:-}" ] && _src="AND source = '$2'"
	_pfx=""
	[ -n "${3:-}" ] && _pfx="$3: "
	tail -n +2 "$1" | while IFS='	' read -r dir dom tls res trust sess msgs status; do
		[ "$res" = "-" ] && res=""
		[ "$trust" = "-" ] && trust=""
		[ "$status" = "-" ] && status=""
		got=$(sql "SELECT count(*), coalesce(sum(messages), 0),
		    count(*) FILTER (WHERE tls = '$tls'),
		    count(*) FILTER (WHERE coalesce(result, '') = '$res'),
		    count(*) FILTER (WHERE coalesce(trust, '') = '$trust'),
		    count(*) FILTER (WHERE coalesce(status, '') = '$status')
		    FROM sessions WHERE direction = '$dir' AND domain = '$dom'
		    $_src")
		check "$_pfx$dir $dom: sessions, messages, tls=$tls, result=${res:--}, trust=${trust:--}, status=${status:--}" \
		    "$got" "$sess|$msgs|$sess|$sess|$sess|$sess"
	done >"$TD/rows.out"
	cat "$TD/rows.out"
	T_PASS=$((T_PASS + $(grep -c '^ok' "$TD/rows.out")))
	T_FAIL=$((T_FAIL + $(grep -c '^FAIL' "$TD/rows.out")))
}

# lab_sessions TSV: the number of sessions the scenario table adds up to.
lab_sessions() {
	tail -n +2 "$1" | awk -F'\t' '{ s += $6 } END { print s + 0 }'
}

# lab_run NAME SCRIPT [OPTION...]: run a lab script into $LAB ("$TD/lab")
# with its output in $TD/lab.log; when it fails, one FAIL with the end of
# that log, and the test ends there.
lab_run() {
	_name=$1
	_script=$2
	shift 2
	LAB="$TD/lab"
	if bash "$_script" "$LAB" "$@" >"$TD/lab.log" 2>&1; then
		ok "$_name lab ran"
		return 0
	fi
	fail "the $_name lab did not run; see $TD/lab.log"
	grep -v 'World writable directory' "$TD/lab.log" | tail -n 20
	finish
	exit
}

# lab_collect_first FORMAT LOG: start the test's cluster and collect LOG
# once.  Then the test checks its rows (lab_rows) and anything of its own,
# and lab_collect_rest FORMAT LOG WANT checks what every lab test checks:
# nothing stored beyond the WANT sessions the scenario adds up to, the
# rollup equal to the raw sessions, the checkpoint at the end of LOG, and
# a second run adding nothing.
lab_collect_first() {
	pg_start || { fail "private cluster did not start"; finish; exit; }
	"$PROG" collect --once --state_dir="$STATE" --format "$1" "$2" \
	    >>"$TD/collect.log" 2>&1
	check "collect --once --format $1 exit code" "$?" 0
}
lab_collect_rest() {
	check "no sessions beyond the scenario" \
	    "$(sql 'SELECT count(*) FROM sessions')" "$3"
	check "rollup equals raw sessions" \
	    "$(sql 'SELECT sum(sessions) FROM daily')" "$3"
	check "checkpoint at the end of the log" \
	    "$(sql "SELECT off FROM checkpoints WHERE kind = 'file'")" \
	    "$(stat -c %s "$2")"
	"$PROG" collect --once --state_dir="$STATE" --format "$1" "$2" \
	    >>"$TD/collect.log" 2>&1
	check "second run adds nothing" \
	    "$(sql 'SELECT count(*) FROM sessions')" "$3"
}
