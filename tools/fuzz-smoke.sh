#!/bin/sh
# fuzz-smoke.sh [SECONDS] - build every libFuzzer target (clang, ASan,
# UBSan) and run each for SECONDS (default 20) from a copy of its corpus.
# A crash fails the run and leaves the input in build/fuzz/crash-*.
# Longer runs: make fuzz, then build/fuzz/fuzz_X -max_total_time=N DIR.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-20}
make -s fuzz
rc=0
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	t=${f##*/fuzz_}
	work=$(mktemp -d)
	[ -d "tests/fuzz/corpus/$t" ] && cp -r "tests/fuzz/corpus/$t/." "$work/"
	if "$f" -max_total_time="$secs" -print_final_stats=0 \
	    -artifact_prefix=build/fuzz/crash-"$t"- "$work" \
	    >"build/fuzz/$t.log" 2>&1; then
		echo "ok - fuzz $t ($secs s)"
	else
		echo "FAIL - fuzz $t: see build/fuzz/$t.log"
		tail -n 30 "build/fuzz/$t.log"
		rc=1
	fi
	rm -rf "$work"
done
exit $rc
