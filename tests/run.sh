#!/bin/sh
# tests/run.sh - run the test suites and add up their results
#
#   sh tests/run.sh unit          unit binaries, golden files, fuzz corpora
#   sh tests/run.sh integration   tests/integration/*.sh (real PostgreSQL,
#                                 real MTAs, ...)
#   sh tests/run.sh all           make WERROR=1, unit + integration, then
#                                 the unit suite again under ASan/UBSan
#
# Every suite prints lines "ok - ..." / "FAIL - ..." and a count line
# "N passed, N failed"; this script sums them and ends with one such line.
# TESTS_ONLY=pattern limits integration scripts to matching names.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
PROG=${PROG:-./tlsflow}
OUT=${TESTS_OUT:-tests/out}
mkdir -p "$OUT"
TOTAL_P=0
TOTAL_F=0

# Add the last "N passed, N failed" line of a suite's output to the totals;
# a suite that printed none counts as one failure.
tally() { # name logfile exitcode
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL - $1: no result line (exit $3); see $2"
		TOTAL_F=$((TOTAL_F + 1))
		return
	fi
	p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
	f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL - $1: exit $3 with no failed check; see $2"
		f=1
	fi
	TOTAL_P=$((TOTAL_P + p))
	TOTAL_F=$((TOTAL_F + f))
	grep -E '^(FAIL|not ok)' "$2" | head -n 20
	echo "$1: $p passed, $f failed"
}

run_unit() {
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		n=$(basename "$t")
		"$t" >"$OUT/$n.log" 2>&1
		tally "$n" "$OUT/$n.log" $?
	done
	run_golden
	run_replay
}

# Golden files: tests/data/FORMAT/CASE.log parsed must print CASE.expect.
run_golden() {
	log="$OUT/golden.log"
	: >"$log"
	gp=0
	gf=0
	for f in tests/data/*/*.log; do
		[ -f "$f" ] || continue
		fmt=$(basename "$(dirname "$f")")
		exp="${f%.log}.expect"
		[ -f "$exp" ] || continue
		if "$PROG" parse --format "$fmt" --year 2026 --timezone=UTC \
		    --hostname=collector.test "$f" >"$OUT/golden.got" \
		    2>>"$log" && diff -u "$exp" "$OUT/golden.got" >>"$log"; then
			gp=$((gp + 1))
		else
			echo "FAIL - golden $f" >>"$log"
			gf=$((gf + 1))
		fi
	done
	echo "$gp passed, $gf failed" >>"$log"
	tally golden "$log" 0
}

# Fuzz corpora replayed through the targets without libFuzzer.
run_replay() {
	for r in "$BUILD"/tests/replay_*; do
		[ -x "$r" ] || continue
		t=${r##*/replay_}
		log="$OUT/replay_$t.log"
		if [ -d "tests/fuzz/corpus/$t" ] &&
		    "$r" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
			echo "1 passed, 0 failed" >>"$log"
		else
			echo "0 passed, 1 failed" >>"$log"
		fi
		tally "replay_$t" "$log" 0
	done
}

run_integration() {
	for s in tests/integration/*.sh; do
		[ -f "$s" ] || continue
		n=$(basename "$s" .sh)
		[ "$n" = lib ] && continue # sourced by the others
		if [ -n "${TESTS_ONLY:-}" ]; then
			case "$n" in *$TESTS_ONLY*) ;; *) continue ;; esac
		fi
		echo "== $n"
		start=$(date +%s)
		PROG="$PROG" BUILD="$BUILD" bash "$s" >"$OUT/$n.log" 2>&1
		rc=$?
		echo "   ($(($(date +%s) - start)) s)"
		tally "$n" "$OUT/$n.log" $rc
	done
}

case "${1:-all}" in
unit) run_unit ;;
integration) run_integration ;;
all)
	make -s WERROR=1 tests-bin || { echo "0 passed, 1 failed"; exit 1; }
	BUILD=build PROG=./tlsflow
	run_unit
	run_integration
	make -s WERROR=1 SANITIZE=address,undefined tests-bin ||
	    { echo "0 passed, 1 failed"; exit 1; }
	BUILD=build/san PROG=build/san/tlsflow
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	OUT="$OUT/san"
	mkdir -p "$OUT"
	run_unit
	;;
*) echo "usage: tests/run.sh unit|integration|all" >&2; exit 2 ;;
esac
echo "$TOTAL_P passed, $TOTAL_F failed"
[ "$TOTAL_F" -eq 0 ]
