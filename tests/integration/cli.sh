# cli.sh - the command line and configuration contract (DESIGN.md 3):
# exit codes, usage, -c FILE, --key=value, check-config, db migrate twice,
# db status.
. tests/integration/lib.sh

"$PROG" --version >"$TD/out" 2>&1
check "--version exits 0" "$?" 0
grep -qE '^tlsflow [0-9]+\.[0-9]+' "$TD/out"
check "--version prints the version" "$?" 0
"$PROG" help >"$TD/out" 2>&1
check "help exits 0" "$?" 0
grep -q 'tlsflow collect' "$TD/out"
check "help lists commands" "$?" 0
"$PROG" frobnicate >"$TD/out" 2>&1
check "unknown command exits 2" "$?" 2
grep -q 'unknown command' "$TD/out" && grep -q '^usage:' "$TD/out"
check "unknown command prints usage" "$?" 0
"$PROG" >/dev/null 2>&1
check "no command exits 2" "$?" 2
"$PROG" parse --bogus-option </dev/null >/dev/null 2>&1
check "unknown option exits 2" "$?" 2
"$PROG" parse --format bogus </dev/null >/dev/null 2>&1
check "unknown format exits 2" "$?" 2

printf '# test\nbatch_size = 100\nlog_format = postfix\n' >"$TD/good.conf"
"$PROG" check-config -c "$TD/good.conf" >"$TD/out" 2>&1
check "check-config on a good file exits 0" "$?" 0
"$PROG" -t -c "$TD/good.conf" >/dev/null 2>&1
check "-t is check-config" "$?" 0
printf 'batch_size = 100\n\nno_such_key = 1\n' >"$TD/bad.conf"
"$PROG" check-config -c "$TD/bad.conf" >"$TD/out" 2>&1
check "unknown key exits 2" "$?" 2
grep -q "bad.conf:3: unknown key \"no_such_key\"" "$TD/out"
check "error names file and line" "$?" 0
printf 'batch_size = lots\n' >"$TD/bad2.conf"
"$PROG" check-config -c "$TD/bad2.conf" >"$TD/out" 2>&1
check "bad value exits 2" "$?" 2
grep -q 'bad2.conf:1: batch_size' "$TD/out"
check "bad value names file, line and key" "$?" 0
"$PROG" check-config -c "$TD/good.conf" --batch_size=0 >/dev/null 2>&1
check "bad --key=value exits 2" "$?" 2
"$PROG" check-config -c "$TD/missing.conf" >/dev/null 2>&1
check "missing -c file exits 2" "$?" 2

# The private cluster and the migrations.
"$PROG" db migrate --state_dir="$STATE" >"$TD/m1" 2>&1
check "first migrate exits 0" "$?" 0
n=$(ls sql/migrations/*.sql | wc -l)
check "first migrate applies every migration" \
    "$(sed -n 's/^applied \([0-9]*\) migration.*/\1/p' "$TD/m1")" "$n"
grep -q 'started the private PostgreSQL in .*stop it with' "$TD/m1"
check "says where the cluster is and how to stop it" "$?" 0
"$PROG" db migrate --state_dir="$STATE" >"$TD/m2" 2>&1
check "second migrate applies nothing" "$(grep -c '^applied 0 migrations' "$TD/m2")" 1
check "schema_migrations rows" "$(sql 'SELECT count(*) FROM schema_migrations')" "$n"
"$PROG" db status --state_dir="$STATE" >"$TD/st" 2>&1
check "status lists every migration as applied" \
    "$(grep -c ' applied 20' "$TD/st")" "$n"
check "socket only: no TCP listener" \
    "$(sql "SHOW listen_addresses")" ""
check "sessions is partitioned" \
    "$(sql "SELECT relkind FROM pg_class WHERE relname = 'sessions'")" p
"$PROG" db prune --days 30 --state_dir="$STATE" >/dev/null 2>&1
check "prune exits 0" "$?" 0
"$PROG" db stop --state_dir="$STATE" >/dev/null 2>&1
check "db stop exits 0" "$?" 0
"$PROG" db status --state_dir="$STATE" >/dev/null 2>&1
check "a command starts the stopped cluster again" "$?" 0
finish
