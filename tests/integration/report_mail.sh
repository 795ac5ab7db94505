# report_mail.sh - tlsflow report to mailto: destinations, end to end
#
# A dnsmasq on 127.0.7.1 serves the TLSRPT records (mailto: rua) and the
# DKIM keys the test makes (RSA and Ed25519, s=tlsrpt).  A real Postfix
# on 127.0.7.2 (its own config and queue in the test directory, STARTTLS
# with the test's CA) takes the report mail and delivers it into a
# Maildir.  Day 1 goes over SMTP through the relay (libcurl), signed
# rsa-sha256; day 2 through that Postfix's own sendmail binary, signed
# ed25519-sha256.  Every received mail is checked by
# tests/report/check_mail.py: the DKIM signature verified by python3-dkim
# against the key in the test DNS (not by tlsflow), headers, MIME
# structure; the attached reports by the strict RFC 8460 checker, their
# counts compared with the sessions this test put into the store.  Then:
# a rerun the same day sends nothing twice; a destination answering 450
# recovers and gets its report once; the reporter SIGKILLed while a
# sendmail is in flight, rerun: every destination gets its report once.
. tests/integration/lib.sh

PY=/usr/bin/python3
R=tests/report
DAY=2026-11-20
DAY2=2026-11-21
DNS_ADDR=127.0.7.1
DNS_PORT=53532
MX_ADDR=127.0.7.2
MX_PORT=2525
for c in dnsmasq openssl psql postfix postconf script; do
	command -v $c >/dev/null || { fail "missing $c"; finish; exit; }
done
$PY -c 'import dkim, dns.resolver, nacl, jsonschema' 2>/dev/null ||
    { fail "missing python3-dkim, -dnspython, -nacl or -jsonschema"; finish; exit; }
if ss -Hltn "src $MX_ADDR:$MX_PORT" | grep -q . ||
    ss -Hlun "src $DNS_ADDR:$DNS_PORT" | grep -q .; then
	fail "$MX_ADDR:$MX_PORT or $DNS_ADDR:$DNS_PORT in use"
	finish
	exit
fi
pg_start || { fail "private cluster did not start"; finish; exit; }
"$PROG" db migrate --state_dir="$STATE" >/dev/null 2>&1 ||
    { fail "migrate"; finish; exit; }

# --- DKIM keys and DNS -----------------------------------------------------
mkdir -p "$TD/dkim"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$TD/dkim/rsa.pem" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$TD/dkim/ed.pem" 2>/dev/null
# RSA: p= is the SubjectPublicKeyInfo (RFC 6376 3.6.1); Ed25519: the raw
# 32-byte key (RFC 8463 section 4), the last 32 bytes of its SPKI.
rsa_p=$(openssl pkey -in "$TD/dkim/rsa.pem" -pubout -outform DER | base64 -w0)
ed_p=$(openssl pkey -in "$TD/dkim/ed.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
cp $R/dnsmasq-mail.conf "$TD/dns.conf"
# A TXT character-string holds 255 bytes: split the RSA record.
rec="v=DKIM1; k=rsa; s=tlsrpt; p=$rsa_p"
printf 'txt-record=rsa._domainkey.sender.test,"%s","%s"\n' \
    "${rec:0:200}" "${rec:200}" >>"$TD/dns.conf"
printf 'txt-record=ed._domainkey.sender.test,"v=DKIM1; k=ed25519; s=tlsrpt; p=%s"\n' \
    "$ed_p" >>"$TD/dns.conf"
dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
    --listen-address=$DNS_ADDR --port=$DNS_PORT --user=root \
    --conf-file="$TD/dns.conf" 2>"$TD/dnsmasq.log" &
DNS_PID=$!
on_exit "kill $DNS_PID 2>/dev/null"

# --- The receiving Postfix -------------------------------------------------
mkdir -p "$TD/ca"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TD/ca/ca.key" \
    -out "$TD/ca/ca.crt" -days 3 -subj "/CN=tlsflow report mail test CA" \
    >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$TD/ca/mx.key" \
    -out "$TD/ca/mx.csr" -subj "/CN=mx.rua.test" >/dev/null 2>&1
printf 'subjectAltName=IP:%s,DNS:mx.rua.test\n' $MX_ADDR >"$TD/ca/ext"
openssl x509 -req -in "$TD/ca/mx.csr" -CA "$TD/ca/ca.crt" \
    -CAkey "$TD/ca/ca.key" -CAcreateserial -days 2 -extfile "$TD/ca/ext" \
    -out "$TD/ca/mx.crt" >/dev/null 2>&1
chmod 644 "$TD/ca"/*.crt
PF=$TD/pf
CONF=$PF/conf
mkdir -p "$CONF" "$PF/queue" "$PF/data" "$PF/vmail"
chown postfix "$PF/data"
chown nobody:nogroup "$PF/vmail"
cp /etc/postfix/master.cf "$CONF/master.cf"
printf 'flaky@rua.test 450 4.2.0 test: not now\n' >"$CONF/rcpt_access"
cat >"$CONF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
myhostname = mx.rua.test
inet_protocols = ipv4
inet_interfaces = loopback-only
smtputf8_enable = no
biff = no
alias_maps =
alias_database =
mydestination =
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
maillog_file = $PF/mail.log
maillog_file_prefixes = $PF
syslog_name = postfix-rptmail
smtpd_recipient_restrictions = check_recipient_access texthash:$CONF/rcpt_access,
    permit_mynetworks, reject
virtual_mailbox_domains = rua.test
virtual_mailbox_base = $PF/vmail
virtual_mailbox_maps = static:rua/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
smtpd_tls_security_level = may
smtpd_tls_cert_file = $TD/ca/mx.crt
smtpd_tls_key_file = $TD/ca/mx.key
smtpd_tls_loglevel = 1
EOF
postconf -c "$CONF" -MX smtp/inet
postconf -c "$CONF" -F '*/*/chroot = n'
postconf -c "$CONF" -M "$MX_ADDR:$MX_PORT/inet = $MX_ADDR:$MX_PORT inet n - n - - smtpd"
pfx() { script -qec "$(printf '%q ' postfix -c "$CONF" "$@")" /dev/null >>"$TD/postfix.out" 2>&1; }
pfx check && pfx start || { fail "postfix start: $(tail -n 3 "$TD/postfix.out")"; finish; exit; }
on_exit "postfix -c '$CONF' stop >/dev/null 2>&1"
for i in $(seq 50); do
	ss -Hltn "src $MX_ADDR:$MX_PORT" | grep -q . && break
	sleep 0.1
done
MD=$PF/vmail/rua/new
mails() { ls "$MD" 2>/dev/null | wc -l; }
wait_mails() { # N: until the Maildir holds N mails (30 s at most)
	for i in $(seq 300); do
		[ "$(mails)" -ge "$1" ] && break
		sleep 0.1
	done
	sleep 0.3 # a mail more than planned would show now
}

# Day 2 goes through this Postfix's sendmail; k* recipients are slow.
cat >"$TD/sendmail" <<EOF
#!/bin/sh
echo "\$*" >>"$TD/sendmail.args"
case "\$*" in *" -- k"*) sleep 1.5 ;; esac
exec /usr/sbin/sendmail -C "$CONF" "\$@"
EOF
chmod 755 "$TD/sendmail"

RARGS=(--state_dir="$STATE" --dns_server=$DNS_ADDR:$DNS_PORT
    --dns_timeout=1000 --report_timeout=5 --contact_info=tlsrpt@sender.test
    --report_sender=tlsrpt-noreply@sender.test --organization_name="Sender Test"
    --report_spread=0 --report_retry_base=1)
RELAY=(--report_relay=smtp://$MX_ADDR:$MX_PORT --report_ca_file="$TD/ca/ca.crt"
    --dkim_selector=rsa --dkim_key="$TD/dkim/rsa.pem")
LOCAL=(--report_relay= --report_sendmail="$TD/sendmail"
    --dkim_selector=ed --dkim_key="$TD/dkim/ed.pem")
run_report() { "$PROG" report "${RARGS[@]}" "$@"; }

# --- The scenario: domain|sessions|tls|result|day --------------------------
SCEN="mail1.test|6|tls|success|$DAY
mail1.test|2|failed|certificate-expired|$DAY
mail1.test|1|plaintext|-|$DAY
mail1.test|2|unknown|-|$DAY
mail2.test|3|tls|success|$DAY
mail2.test|1|failed|certificate-host-mismatch|$DAY
flaky.test|4|tls|success|$DAY
mail1.test|5|tls|success|$DAY2
k1.test|1|tls|success|$DAY2
k2.test|2|tls|success|$DAY2
k3.test|3|failed|starttls-not-supported|$DAY2"
sql "SELECT tlsflow_ensure_day('$DAY'), tlsflow_ensure_day('$DAY2')" >/dev/null
n=0
echo "$SCEN" | while IFS='|' read -r dom cnt tls res day; do
	n=$((n + 1))
	r=NULL
	[ "$res" = - ] || r="'$res'"
	sql "INSERT INTO sessions (ts, direction, domain, peer_host, peer_ip,
	    local_ip, peer_helo, tls, result, reason)
	    SELECT '$day 02:00:00Z'::timestamptz + g * interval '1 minute',
	    'outbound', '$dom', 'mx.$dom', '192.0.2.$n', '198.51.100.9',
	    'mx.$dom', '$tls', $r,
	    CASE WHEN '$tls' = 'failed' THEN 'reason $n' END
	    FROM generate_series(1, $cnt) g" >/dev/null </dev/null
done
# Expected per domain and day, from the table: "domain ok failed".
expect() { # DAY [DOMAIN-REGEX]
	echo "$SCEN" | awk -F'|' -v d="$1" '$5 == d {
		if ($3 == "tls") ok[$1] += $2; else if ($3 != "unknown") f[$1] += $2;
		seen[$1] = 1 }
	    END { for (k in seen) printf "%s %d %d\n", k, ok[k], f[k] }' |
	    grep -E "^(${2:-.*}) " | sort
}
field() { # DAY DOMAIN TLS: sessions of that kind
	echo "$SCEN" | awk -F'|' -v d="$1" -v m="$2" -v t="$3" \
	    '$5 == d && $1 == m && $3 == t { n += $2 } END { print n + 0 }'
}
# check_mails OUTDIR FILE...: check_mail.py, then the strict RFC 8460
# checker over the attachments (one per report-id: a report mailed to
# two destinations is one report); "RCPT DOMAIN ALG" lines in OUTDIR.lines
check_mails() {
	out=$1
	shift
	$PY $R/check_mail.py $DNS_ADDR $DNS_PORT "$out" "$@" >"$out.txt" 2>&1
	rc=$?
	check "$(basename "$out"): DKIM (python3-dkim), headers, MIME" "$rc" 0
	grep -v '^text ' "$out.txt" | awk '{print $1, $2, $3}' | sort >"$out.lines"
	$PY $R/check_report.py $R/tlsrpt-schema.json --gz \
	    $(grep -v '^text ' "$out.txt" | awk '!seen[$4]++ {print $5}') \
	    >"$out.counts"
	rc=$?
	check "$(basename "$out"): attached reports valid (strict schema)" "$rc" 0
}

# --- Day 1: SMTP relay, STARTTLS, rsa-sha256 ------------------------------
run_report --date $DAY --send "${RELAY[@]}" >"$TD/send1.out" 2>"$TD/send1.log"
check "day 1 --send exit" "$?" 0
wait_mails 3
check "day 1: three mails (mail1, mail2 x2), flaky refused" "$(mails)" 3
check "every relay session used STARTTLS" \
    "$(grep -c "TLS connection established from unknown\[" "$PF/mail.log")" \
    "$(grep -c "smtpd\[[0-9]*\]: connect from unknown\[" "$PF/mail.log")"
check "flaky: 450 recorded, retry scheduled" \
    "$(sql "SELECT state, attempts, next_attempt > last_attempt, last_error LIKE '%450%' FROM report_deliveries WHERE destination = 'mailto:flaky@rua.test'")" \
    "failed|1|t|t"
check_mails "$TD/m1" "$MD"/*
check "day 1 recipients and algorithms" "$(cat "$TD/m1.lines")" \
    "reports@rua.test mail1.test rsa-sha256
second@rua.test mail2.test rsa-sha256
tls+rpt@rua.test mail2.test rsa-sha256"
check "day 1 counts = sessions put in" \
    "$(awk '{print $1, $2, $3}' "$TD/m1.counts" | sort -u)" \
    "$(expect $DAY 'mail1\.test|mail2\.test')"
check "mail2: both destinations got the same report" \
    "$(grep -v '^text ' "$TD/m1.txt" | awk '$2 == "mail2.test" {print $4}' | sort -u | wc -l)" 1
txt() { grep "^text $1 $2: " "$TD/$3.txt" | sed 's/^[^:]*: //'; }
check "text part: successful" \
    "$(txt reports@rua.test mail1.test m1 | grep -c "^Successful TLS sessions: *$(field $DAY mail1.test tls)\$")" 1
check "text part: failed" \
    "$(txt reports@rua.test mail1.test m1 | grep -c "^Failed sessions: *$(( $(field $DAY mail1.test failed) + $(field $DAY mail1.test plaintext) ))\$")" 1
check "text part: unknown" \
    "$(txt reports@rua.test mail1.test m1 | grep -c "unknown TLS state.*: $(field $DAY mail1.test unknown)\$")" 1
check "deliveries recorded" \
    "$(sql "SELECT state, count(*) FROM report_deliveries GROUP BY 1 ORDER BY 1" | tr '\n' ' ')" \
    "failed|1 sent|3 "

# A rerun the same day sends nothing twice (flaky not due yet: 1 s).
run_report --date $DAY --send "${RELAY[@]}" >/dev/null 2>"$TD/send2.log"
check "rerun exit" "$?" 0
# flaky may have become due and failed again; nothing was accepted.
sleep 1
check "rerun sends nothing twice" "$(mails)" 3

# flaky recovers; after the back-off its report is delivered, once.
: >"$CONF/rcpt_access"
postfix -c "$CONF" reload >/dev/null 2>&1
sleep 2.5
run_report --date $DAY --send "${RELAY[@]}" >/dev/null 2>"$TD/send3.log"
check "flaky run exit" "$?" 0
wait_mails 4
check "flaky delivered after retry" "$(mails)" 4
check "flaky: sent after failed attempts" \
    "$(sql "SELECT state, attempts > 1 FROM report_deliveries WHERE destination = 'mailto:flaky@rua.test'")" "sent|t"
mkdir "$TD/all1"
cp "$MD"/* "$TD/all1/"
check_mails "$TD/m2" "$TD/all1"/*
check "flaky: one mail, its stored report-id" \
    "$(awk '$1 == "flaky@rua.test" {print $4}' "$TD/m2.txt")" \
    "$(sql "SELECT report_id FROM reports WHERE policy_domain = 'flaky.test'")"
check "day 1 counts incl. flaky" \
    "$(awk '{print $1, $2, $3}' "$TD/m2.counts" | sort -u)" "$(expect $DAY)"

# --- Day 2: sendmail, ed25519-sha256, killed mid-run ------------------------
"$PROG" report "${RARGS[@]}" "${LOCAL[@]}" --date $DAY2 --send \
    >"$TD/kill.out" 2>"$TD/kill.log" &
KPID=$!
for i in $(seq 100); do
	grep -q -- '-- k' "$TD/sendmail.args" 2>/dev/null && break
	sleep 0.1
done
kill -9 $KPID 2>/dev/null
wait $KPID 2>/dev/null
check "killed while a sendmail was running" "$(grep -c -- '-- k' "$TD/sendmail.args")" 1
sleep 2 # the orphaned sendmail finishes its submission
run_report "${LOCAL[@]}" --date $DAY2 --send >/dev/null 2>"$TD/rerun.log"
check "rerun after kill exit" "$?" 0
wait_mails 8
check "day 2: every destination once (4 mails more)" "$(mails)" 8
check "sendmail argv" \
    "$(sort -u "$TD/sendmail.args" | sed 's/ -- .*//' | sort -u)" \
    "-i -f tlsrpt-noreply@sender.test"
check "interrupted attempt recorded, not repeated" \
    "$(sql "SELECT count(*) FILTER (WHERE state = 'interrupted'), count(*) FILTER (WHERE state = 'sent') FROM report_deliveries d JOIN reports r USING (report_id) WHERE r.day = '$DAY2'")" \
    "1|3"
check "no sendmail ran twice for a destination" \
    "$(awk '{print $NF}' "$TD/sendmail.args" | sort | uniq -d | wc -l)" 0
mkdir "$TD/all2"
for f in "$MD"/*; do
	[ -e "$TD/all1/$(basename "$f")" ] || cp "$f" "$TD/all2/"
done
check_mails "$TD/m3" "$TD/all2"/*
check "day 2 recipients, ed25519-sha256" "$(cat "$TD/m3.lines")" \
    "k1@rua.test k1.test ed25519-sha256
k2@rua.test k2.test ed25519-sha256
k3@rua.test k3.test ed25519-sha256
reports@rua.test mail1.test ed25519-sha256"
check "day 2 counts = sessions put in" \
    "$(awk '{print $1, $2, $3}' "$TD/m3.counts" | sort -u)" "$(expect $DAY2)"
check "day-1 reports never re-sent" \
    "$(sql "SELECT count(*) FROM report_deliveries d JOIN reports r USING (report_id) WHERE r.day = '$DAY' AND destination <> 'mailto:flaky@rua.test' AND (state <> 'sent' OR attempts <> 1)")" 0
finish
