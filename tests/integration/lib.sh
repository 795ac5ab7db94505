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
