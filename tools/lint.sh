#!/bin/sh
# lint.sh - project rules a compiler does not check (curl checksrc, PgBouncer
# optscan):
#  - banned functions (STYLE.md 6), raw strtol/strtoul outside scan.c/conf.c
#  - every configuration key documented in README.md and the sample config
set -u
cd "$(dirname "$0")/.." || exit 2
rc=0
SRC=$(git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^tests/')
banned='\b(gets|sprintf|vsprintf|strcpy|strcat|strncpy|strncat|strtok|sscanf|atoi|atol|system|popen|alloca)[[:space:]]*\('
# Comments are not code: drop /* ... */ on one line and comment lines.
for f in $SRC; do
	hits=$(sed -e 's|/\*.*\*/||g' -e '/^[[:space:]]*\*/d' "$f" |
	    grep -nE "$banned" | grep -vE '\bs?n(printf)|v?snprintf|vasprintf|strtok_r')
	if [ -n "$hits" ]; then
		echo "lint: $f: banned function:"
		echo "$hits"
		rc=1
	fi
	case "$f" in common/scan.c|common/conf.c) continue ;; esac
	hits=$(grep -nE '\bstrto(l|ul|ll|ull)[[:space:]]*\(' "$f")
	if [ -n "$hits" ]; then
		echo "lint: $f: strtol family outside common/scan.c, common/conf.c:"
		echo "$hits"
		rc=1
	fi
done
# Configuration keys: {"name", CONF_... in core/config.c.
for k in $(sed -n 's/^[[:space:]]*{"\([a-z_0-9]*\)",[[:space:]]*CONF_.*/\1/p' core/config.c); do
	grep -q "\`$k\`" README.md ||
	    { echo "lint: config key $k missing from README.md"; rc=1; }
	grep -qE "^#?$k( |=)" etc/tlsflow.conf.sample ||
	    { echo "lint: config key $k missing from etc/tlsflow.conf.sample"; rc=1; }
done
[ $rc -eq 0 ] && echo "lint: ok"
exit $rc
