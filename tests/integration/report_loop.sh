# report_loop.sh - RFC 8460 section 5.3 loop prevention: a session that
# carried only our own report mail (envelope sender report_sender, as
# qmgr logs it) is stored tagged and left out of the next report; a
# session that also carried other mail still counts.
. tests/integration/lib.sh

pg_start || { fail "private cluster did not start"; finish; exit; }
LOG="$TD/mail.log"
Q='postfix/qmgr[99]'
TLS='Trusted TLS connection established to mx.partner.test[192.0.2.7]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)'
DL='relay=mx.partner.test[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)'
cat >"$LOG" <<LOG
Nov 22 10:00:00 mx $Q: 4A1B1C2D3E: from=<tlsrpt@ours.test>, size=900, nrcpt=1 (queue active)
Nov 22 10:00:01 mx postfix/smtp[201]: $TLS
Nov 22 10:00:01 mx postfix/smtp[201]: 4A1B1C2D3E: to=<tlsrpt@partner.test>, $DL
Nov 22 10:00:02 mx $Q: 5B2C2D3E4F: from=<user@ours.test>, size=900, nrcpt=1 (queue active)
Nov 22 10:00:03 mx postfix/smtp[202]: $TLS
Nov 22 10:00:03 mx postfix/smtp[202]: 5B2C2D3E4F: to=<bob@partner.test>, $DL
Nov 22 10:00:04 mx $Q: 6C3D3E4F5A: from=<TLSRPT@ours.test>, size=900, nrcpt=1 (queue active)
Nov 22 10:00:04 mx $Q: 7D4E4F5A6B: from=<user@ours.test>, size=900, nrcpt=1 (queue active)
Nov 22 10:00:05 mx postfix/smtp[203]: $TLS
Nov 22 10:00:05 mx postfix/smtp[203]: 6C3D3E4F5A: to=<tlsrpt@partner.test>, $DL
Nov 22 10:00:05 mx postfix/smtp[203]: 7D4E4F5A6B: to=<carol@partner.test>, relay=mx.partner.test[192.0.2.7]:25, conn_use=2, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)
LOG
touch -d '2026-11-30 12:00' "$LOG"
OPTS="--state_dir=$STATE --timezone=UTC --report_sender=tlsrpt@ours.test"
"$PROG" collect --once $OPTS --format postfix "$LOG" >"$TD/collect.log" 2>&1
check "collected" "$?" 0
# Scenario: three TLS sessions to partner.test; only the first carried
# nothing but our report (the third also carried carol's message).
check "sessions stored" "$(sql "SELECT count(*) FROM sessions WHERE domain = 'partner.test'")" 3
check "tagged as our own report mail" "$(sql "SELECT string_agg(queue_ids::text, ' ') FROM sessions WHERE own_report")" "{4A1B1C2D3E}"
"$PROG" report $OPTS --date 2026-11-22 --domain partner.test --dry-run \
    --organization_name=Ours --contact_info=tlsrpt@ours.test \
    --dns_server=127.0.0.1:9 >"$TD/report.json" 2>"$TD/report.err"
check "dry-run exit code" "$?" 0
got=$(/usr/bin/python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
print(sum(p["summary"]["total-successful-session-count"] for p in r["policies"]))
' "$TD/report.json" 2>&1)
check "the report counts the two sessions that carried other mail" "$got" 2
finish
