#!/bin/sh
# bench/run.sh - run every benchmark (make bench).  Each prints its figures
# beside the tool a user would otherwise use, measured in the same run.
set -u
cd "$(dirname "$0")/.." || exit 2
mkdir -p bench/out
rc=0
for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	[ -n "${BENCH_ONLY:-}" ] && case "$b" in *$BENCH_ONLY*) ;; *) continue ;; esac
	echo "== $b"
	sh "$b" || rc=1
done
exit $rc
