/*
 * sendmail.c - Sendmail log lines to TLS session events
 *
 * Input: the message part of syslog lines tagged sendmail, sm-mta or
 * sm-msp-queue; untrusted, any bytes, not NUL-terminated.  Every read is
 * a bounded scan_*() cursor; only ev_setstr()/ev_setaddr() copy text out.
 * Sources: MTA-LOGS.md section 4 and 8; Sendmail 8.17/8.18 sources:
 * tls.c tls_get_info() ("STARTTLS=%s, relay=%.100s, version=%.16s,
 * verify=%.16s, cipher=%.64s, bits=%.6s/%.6s"), sslerr/tls_*_start
 * failures ("STARTTLS=client, error: connect failed=%d, ..."),
 * deliver.c logdelivery() ("to=..., delay=..., mailer=..., relay=...,
 * dsn=..., stat=..."), srvrsmtp.c and savemail ("from=..., proto=...,
 * daemon=..., relay=..."), parseaddr/ruleset logging
 * ("ruleset=tls_server, arg1=..., relay=..., reject=...").
 *
 * Sessions.  Sendmail's TLS lines carry no queue id: they are facts of
 * the process (pid) that ran the connection, kept per pid:
 *  - "STARTTLS=client, relay=mx.example., version=..., verify=...":
 *    the pid's outbound connection.  Every following delivery line of
 *    the pid whose relay host is that relay ("relay=mx.example.
 *    [192.0.2.1]") is an event with those facts (a cached connection
 *    carries several queue ids).  One event is one delivery line: the
 *    log cannot tell connections apart beyond that.
 *  - "STARTTLS=server, relay=name [ip], ...": the pid (a daemon child
 *    runs one connection) serves an inbound connection; each
 *    "QID: from=..., proto=ESMTPS, ..., relay=name [ip]" is an event.
 *  - Failure lines ("STARTTLS=client, error: connect failed=...",
 *    "ruleset=tls_server, arg1=NONE, relay=..., reject=403 ...",
 *    "STARTTLS=client, relay=..., warning=DANE configured in DNS but no
 *    STARTTLS available", "STARTTLS: X509 cert verify: ... reason=...")
 *    mark the pid's fact failed; the failure is the next delivery line's
 *    (usually stat=Deferred: 403 4.7.0 TLS handshake failed).
 *  A fact that no delivery line used becomes an event of its own when it
 *  is replaced, expires (SM_IDLE_US of log time) or at the end.
 *
 * Evidence rules (no evidence is never plaintext):
 *  - tls: a STARTTLS= line with a verify= that completed (OK, TRUSTED,
 *    FAIL, NO, NOT, NONE), or inbound proto=ESMTPS/ESMTPSA.
 *  - failed: verify=TEMP/PROTOCOL/SOFTWARE/DANE_FAIL, the failure lines
 *    above.
 *  - plaintext: inbound proto=ESMTP/SMTP/ESMTPA without a STARTTLS line;
 *    outbound, a delivery line without a STARTTLS fact, once this stream
 *    has shown that the LogLevel writes STARTTLS lines (any STARTTLS=
 *    line seen; LogLevel 9, the default, does).  Before that: unknown.
 *    After a restart that memory starts empty, as in postfix.c.
 *  - trust: verify=OK trusted (Sendmail checks the chain, not the
 *    name: a TLS_Srv CN requirement is the only name check, and it is
 *    not logged on success), TRUSTED verified with policy tlsa (DANE),
 *    FAIL untrusted, NO/NOT/NONE anonymous.
 *  - result: success with TLS; failures by MTA-LOGS.md section 8
 *    (NONE / DANE warning: starttls-not-supported; FAIL under a
 *    tls_server reject: certificate-not-trusted, or the X509 reason;
 *    DANE_FAIL: tlsa-invalid; a TLS_Srv VERIFY+CN reject "CN x does
 *    not match y": certificate-host-mismatch; others: validation-failure).
 *  - Local mailers (mailer=local, prog, ...) and loopback relays are
 *    counted internal.
 *
 * Limits: facts live in a table of SM_FACTS entries indexed by pid; a
 * pid that lands on a slot held by another live pid evicts it (counted,
 * emitted if unused).  A slot's memory is allocated the first time a pid
 * lands on it (at most SM_FACTS allocations per parser, so that creating
 * one is cheap); nothing else is allocated per line.
 *
 * Single-threaded; one object per log stream.
 */
#include "parsers/sendmail.h"

#include <stddef.h>
#include <string.h>

#include "common/xmalloc.h"

#define SM_FACTS 1024 /* power of two */
#define SM_IDLE_US (INT64_C(300) * 1000000)
#define SM_FIELD_MAX 2048
#define SM_SWEEP_US (INT64_C(10) * 1000000)

struct sm_fact {
	bool live;
	bool used; /* a delivery line took it */
	bool client;
	bool pre;	     /* only an X509 reason so far: not a session yet */
	enum ev_result cand; /* from "X509 cert verify" (LogLevel > 13) */
	uint32_t pid;
	int64_t off, t_us;
	struct tls_event ev; /* the connection's facts */
};

#define SM_FL_MAX 24 /* fields of one line looked at */

/*
 * A line of at most SM_FL_MAX fields keeps them whole (fld[]) and a
 * lookup checks the key in place; a longer one (keyed) is split the
 * original way, into the first SM_FL_MAX fields that hold a '='.
 */
struct sm_fl {
	uint32_t n;
	bool keyed;
	struct span fld[SM_FL_MAX];
	struct span key[SM_FL_MAX], val[SM_FL_MAX];
};

struct sendmail {
	struct parser_stats *st;
	sendmail_emit_fn *emit;
	void *arg;
	char host[EV_HOST_MAX + 1];
	int64_t now_us, next_sweep;
	bool saw_starttls; /* the LogLevel writes STARTTLS= lines */
	uint32_t nlive;
	int64_t oldest; /* at most the t_us of every live fact */
	/*
	 * Slot i holds the facts of pids equal to i modulo SM_FACTS; its
	 * memory is allocated when a pid first lands there, so that a
	 * parser costs little until it sees Sendmail lines (the slots are
	 * 2 KiB each).  NULL: never used, not live.
	 */
	struct sm_fact *fact[SM_FACTS];
	struct tls_event tmp;
	struct sm_fl fl; /* the current line's fields */
};

/* ------------------------------------------------------------------ */
/* Small readers. */

/*
 * The line's ", "-separated "key=value" fields, split once per line
 * (sm_split(), or this for a line of more than SM_FL_MAX fields) and
 * then looked up by key: a line is scanned once, however many fields its
 * handler reads.
 */
static void
sm_split_keyed(struct sendmail *sm, const char *p, const char *end)
{
	struct sm_fl *fl = &sm->fl;
	const char *q, *eq;

	fl->n = 0;
	fl->keyed = true;
	while (p < end && fl->n < SM_FL_MAX) {
		for (q = p; q < end; q++) {
			q = memchr(q, ',', (size_t)(end - q));
			if (q == NULL) {
				q = end;
				break;
			}
			if (q + 1 < end && q[1] == ' ')
				break;
		}
		/* Keys are short: a byte loop, not a second memchr() call. */
		for (eq = p; eq < q && *eq != '='; eq++)
			;
		if (eq < q) {
			fl->key[fl->n] = (struct span){p, (size_t)(eq - p)};
			fl->val[fl->n] =
			    (struct span){eq + 1, (size_t)(q - eq - 1)};
			fl->n++;
		}
		if (q >= end)
			break;
		p = q + 2;
	}
}

/* The field ending at ", " or at the end, from p. */
static const char *
sm_field_end(const char *p, const char *end)
{
	const char *q;

	for (q = p; q < end; q++) {
		q = memchr(q, ',', (size_t)(end - q));
		if (q == NULL)
			return end;
		if (q + 1 < end && q[1] == ' ')
			break;
	}
	return q;
}

/*
 * The common case: no more than SM_FL_MAX fields, kept whole, so that
 * their keys are only looked at by the lookups.
 */
static void
sm_split(struct sendmail *sm, const char *p, const char *end)
{
	struct sm_fl *fl = &sm->fl;
	const char *start = p, *q;

	fl->n = 0;
	fl->keyed = false;
	while (p < end) {
		if (fl->n == SM_FL_MAX) {
			sm_split_keyed(sm, start, end);
			return;
		}
		q = sm_field_end(p, end);
		fl->fld[fl->n++] = (struct span){p, (size_t)(q - p)};
		if (q >= end)
			break;
		p = q + 2;
	}
}

/*
 * The value of "key=" on the current line (sm_split()).  Inline, so that
 * the key's length and the compare are constants at each call.
 */
static inline bool
sm_field(const struct sendmail *sm, const char *key, struct span *v)
{
	const struct sm_fl *fl = &sm->fl;
	size_t kl = strlen(key);
	uint32_t i;

	if (fl->keyed) {
		for (i = 0; i < fl->n; i++)
			if (fl->key[i].len == kl &&
			    memcmp(fl->key[i].p, key, kl) == 0) {
				*v = fl->val[i];
				return true;
			}
		return false;
	}
	/* The key (no '=' in it) is the field's text before its first '='. */
	for (i = 0; i < fl->n; i++) {
		const struct span *f = &fl->fld[i];

		if (f->len > kl && f->p[kl] == '=' &&
		    memcmp(f->p, key, kl) == 0) {
			v->p = f->p + kl + 1;
			v->len = f->len - kl - 1;
			return true;
		}
	}
	return false;
}

/* "name. [192.0.2.1]", "[192.0.2.1]", "name [ip] (may be forged)". */
static void
sm_relay(const struct span *r, struct span *name, struct span *ip)
{
	const char *p = r->p, *end = r->p + r->len, *b;

	name->p = ip->p = p;
	name->len = ip->len = 0;
	if ((b = memchr(p, '[', r->len)) == NULL) {
		*name = *r;
		return;
	}
	if (b > p) {
		name->len = (size_t)(b - p);
		while (name->len > 0 && p[name->len - 1] == ' ')
			name->len--;
	}
	p = b + 1;
	if (scan_until(&p, end, ']', EV_ADDR_MAX, ip) == -1)
		ip->len = 0;
	if (name->len == 0)
		*name = (struct span){b, ip->len + 2}; /* "[ip]" */
}

/* Same relay: case-insensitive, a trailing dot ignored. */
static bool
sm_same_relay(const char *a, const struct span *b)
{
	size_t la = strlen(a), lb = b->len, i;

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b->p[lb - 1] == '.')
		lb--;
	if (la != lb)
		return false;
	for (i = 0; i < la; i++) {
		char x = a[i], y = b->p[i];

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

/* A queue id: "x89Bx1iP007421: " (14 alphanumerics, 8.x). */
static int
sm_qid(const char **s, const char *end, struct span *qid)
{
	const char *p = *s;

	while (p < end && p - *s <= 20 && scan_isalnum(*p))
		p++;
	if (p - *s < 8 || p - *s > 20 || end - p < 2 || p[0] != ':' ||
	    p[1] != ' ')
		return -1;
	qid->p = *s;
	qid->len = (size_t)(p - *s);
	*s = p + 2;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Facts. */

static void
sm_emit(struct sendmail *sm, struct tls_event *ev)
{
	if (ev->peer_ip[0] != '\0' && ev_is_loopback(ev->peer_ip)) {
		sm->st->internal++;
		return;
	}
	sm->emit(sm->arg, ev);
}

/* Inbound without a sender domain: the client host's last two labels. */
static void
sm_host_domain(struct tls_event *ev)
{
	const char *dot, *d2;

	if (ev->domain[0] != '\0' || ev->peer_host[0] == '\0' ||
	    (dot = strrchr(ev->peer_host, '.')) == NULL || dot[1] == '\0')
		return;
	for (d2 = dot; d2 > ev->peer_host && d2[-1] != '.'; d2--)
		;
	ev_setcstr(ev, ev->domain, sizeof(ev->domain), d2);
}

/* A fact goes: unused ones are a session of their own. */
static void
sm_drop(struct sendmail *sm, struct sm_fact *f, int64_t off)
{
	if (!f->used && !f->pre &&
	    !(f->ev.peer_ip[0] != '\0' && ev_is_loopback(f->ev.peer_ip))) {
		f->ev.end_off = off;
		if (f->ev.dir != EV_DIR_OUT)
			sm_host_domain(&f->ev);
		sm->emit(sm->arg, &f->ev);
	}
	f->live = false;
	sm->nlive--;
}

static void
sm_sweep(struct sendmail *sm, int64_t off)
{
	struct sm_fact *f;
	int64_t oldest;
	uint32_t i;

	if (sm->now_us < sm->next_sweep || sm->nlive == 0)
		return;
	sm->next_sweep = sm->now_us + SM_SWEEP_US;
	/* Nothing can have expired while the oldest fact has not. */
	if (sm->now_us - sm->oldest <= SM_IDLE_US)
		return;
	oldest = sm->now_us;
	for (i = 0; i < SM_FACTS; i++) {
		if ((f = sm->fact[i]) == NULL || !f->live)
			continue;
		if (sm->now_us - f->t_us > SM_IDLE_US) {
			sm->st->expired++;
			sm_drop(sm, f, off);
		} else if (f->t_us < oldest)
			oldest = f->t_us;
	}
	sm->oldest = oldest;
}

/* A live fact's time moves to t (sm_sweep() relies on sm->oldest). */
static void
sm_touch(struct sendmail *sm, struct sm_fact *f, int64_t t)
{
	f->t_us = t;
	if (t < sm->oldest)
		sm->oldest = t;
}

static struct sm_fact *
sm_find(struct sendmail *sm, uint32_t pid)
{
	struct sm_fact *f = sm->fact[pid & (SM_FACTS - 1)];

	if (f == NULL || !f->live || f->pid != pid ||
	    sm->now_us - f->t_us > SM_IDLE_US)
		return NULL;
	return f;
}

/* A new fact for the line's pid, replacing what the slot held. */
static struct sm_fact *
sm_new(
    struct sendmail *sm, const struct syslog_msg *m, int64_t off, bool client)
{
	struct sm_fact **slot = &sm->fact[m->pid & (SM_FACTS - 1)], *f;
	enum ev_result cand = EV_RES_NONE;

	if (*slot == NULL)
		*slot = xcalloc(1, sizeof(**slot)); /* once per slot */
	f = *slot;
	if (f->live && f->pre && f->pid == m->pid) {
		/* The handshake's X509 lines came first: one session. */
		cand = f->cand;
		off = f->off;
	}
	if (f->live) {
		if (f->pid != m->pid)
			sm->st->evicted++;
		sm_drop(sm, f, off);
	}
	memset(f, 0, offsetof(struct sm_fact, ev));
	f->cand = cand;
	f->live = true;
	if (sm->nlive++ == 0)
		sm->oldest = m->ts_us;
	f->client = client;
	f->pid = m->pid;
	f->off = off;
	sm_touch(sm, f, m->ts_us);
	ev_init(&f->ev);
	f->ev.source = EV_SRC_SENDMAIL;
	f->ev.dir = client ? EV_DIR_OUT : EV_DIR_IN;
	f->ev.ts_us = m->ts_us;
	f->ev.start_off = off;
	if (m->host.len > 0)
		ev_setstr(&f->ev, f->ev.host, sizeof(f->ev.host), &m->host);
	else
		ev_setcstr(&f->ev, f->ev.host, sizeof(f->ev.host), sm->host);
	return f;
}

/* verify= of tls_get_info() into tls/trust/result. */
static void
sm_verify(struct tls_event *ev, const struct span *v)
{
	ev->tls = EV_TLS_OK;
	ev->result = EV_RES_SUCCESS;
	if (span_eq(v, "OK"))
		ev->trust = EV_TRUST_TRUSTED; /* the chain; never the name */
	else if (span_eq(v, "TRUSTED")) {
		ev->trust = EV_TRUST_VERIFIED;
		ev->policy = EV_POL_TLSA;
	} else if (span_eq(v, "FAIL"))
		ev->trust = EV_TRUST_UNTRUSTED;
	else if (span_eq(v, "NO") || span_eq(v, "NOT") || span_eq(v, "NONE"))
		ev->trust = EV_TRUST_ANONYMOUS;
	else if (span_eq(v, "DANE_FAIL")) {
		ev->tls = EV_TLS_FAILED;
		ev->result = EV_RES_TLSA_INVALID;
		ev->policy = EV_POL_TLSA;
	} else {
		/* TEMP, PROTOCOL, SOFTWARE: the handshake did not finish */
		ev->tls = EV_TLS_FAILED;
		ev->result = EV_RES_VALIDATION_FAILURE;
	}
}

static void
sm_fail(struct tls_event *ev, enum ev_result r, const char *p, const char *end)
{
	struct span t = {p, (size_t)(end - p)};

	ev->tls = EV_TLS_FAILED;
	ev->result = r;
	ev->cipher[0] = ev->tls_version[0] = '\0';
	ev->cipher_bits = 0;
	if (ev->reason[0] == '\0' && t.len > 0)
		ev_setstr(ev, ev->reason, sizeof(ev->reason), &t);
}

/* The fact's relay: outbound the MX name, inbound "name [ip]". */
static int
sm_set_relay(
    struct tls_event *ev, const struct span *name, const struct span *ip)
{
	if (ip->len > 0 && ev_setaddr(ev, ev->peer_ip, ip) == -1)
		return -1;
	if (name->len > 0 && name->p[0] != '[') {
		ev_setstr(ev, ev->peer_host, sizeof(ev->peer_host), name);
		ev_lowerhost(ev->peer_host);
	}
	return 0;
}

/* The same from the relay= text. */
static int
sm_fact_relay(struct tls_event *ev, const struct span *relay)
{
	struct span name, ip;

	sm_relay(relay, &name, &ip);
	return sm_set_relay(ev, &name, &ip);
}

/*
 * Whether sm_fact_relay() would take the relay (its address, if any, is
 * an IP literal), without an event to fill.
 */
static bool
sm_relay_ok(struct sendmail *sm, const struct span *relay)
{
	struct span name, ip;
	char buf[EV_ADDR_MAX + 1];

	sm_relay(relay, &name, &ip);
	return ip.len == 0 || ev_setaddr(&sm->tmp, buf, &ip) == 0;
}

/* ------------------------------------------------------------------ */
/* Line handlers. */

/*
 * STARTTLS=client, relay=gmail-smtp-in.l.google.com., version=TLSv1.3,
 *   verify=FAIL, cipher=TLS_AES_256_GCM_SHA384, bits=256/256
 * STARTTLS=server, relay=host.example [192.0.2.7], version=TLSv1.2,
 *   verify=NO, cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256/256
 * STARTTLS=client, error: connect failed=0, SSL_error=5
 * STARTTLS=client, relay=mx., warning=DANE configured in DNS but no
 *   STARTTLS available
 */
static enum parse_rc
sm_starttls(struct sendmail *sm, const struct syslog_msg *m, int64_t off,
    const char *s, const char *end, bool client)
{
	struct span relay, v, bits;
	struct sm_fact *f;
	const char *q;
	uint64_t b;

	sm->saw_starttls = true;
	if (scan_lit(&s, end, ", ") == -1)
		return PARSE_MALFORMED;
	if (scan_lit(&s, end, "error: ") == 0) {
		/* A handshake that failed: the pid's current connection. */
		if ((f = sm_find(sm, m->pid)) == NULL || f->client != client ||
		    f->used || f->pre)
			f = sm_new(sm, m, off, client);
		sm_touch(sm, f, m->ts_us);
		sm_fail(&f->ev,
		    f->cand != EV_RES_NONE ? f->cand
					   : EV_RES_VALIDATION_FAILURE,
		    s, end);
		if (sm_field(sm, "relay", &relay) &&
		    sm_fact_relay(&f->ev, &relay) == -1)
			return PARSE_MALFORMED;
		return PARSE_EVENT;
	}
	if (!sm_field(sm, "relay", &relay) || relay.len == 0 ||
	    (!sm_field(sm, "verify", &v) && !sm_field(sm, "warning", &v)))
		return PARSE_MALFORMED;
	if (!sm_relay_ok(sm, &relay))
		return PARSE_MALFORMED; /* checked before a fact replaces one */
	f = sm_new(sm, m, off, client);
	(void)sm_fact_relay(&f->ev, &relay);
	if (sm_field(sm, "warning", &v)) {
		if (scan_find(v.p, v.p + v.len, "no STARTTLS") != NULL) {
			f->ev.policy = EV_POL_TLSA;
			sm_fail(&f->ev, EV_RES_STARTTLS_NOT_SUPPORTED, v.p,
			    v.p + v.len);
		}
		return PARSE_EVENT;
	}
	if (!sm_field(sm, "verify", &v))
		return PARSE_MALFORMED;
	sm_verify(&f->ev, &v);
	if (f->ev.tls == EV_TLS_OK) {
		if (sm_field(sm, "version", &v))
			ev_setstr(&f->ev, f->ev.tls_version,
			    sizeof(f->ev.tls_version), &v);
		if (sm_field(sm, "cipher", &v))
			ev_setstr(
			    &f->ev, f->ev.cipher, sizeof(f->ev.cipher), &v);
		if (sm_field(sm, "bits", &bits)) {
			q = bits.p;
			if (scan_uint(&q, bits.p + bits.len, 65535, &b) == 0)
				f->ev.cipher_bits = (uint16_t)b;
		}
	} else
		sm_fail(&f->ev, f->ev.result, v.p, v.p + v.len);
	return PARSE_EVENT;
}

/*
 * ruleset=tls_server, arg1=SOFTWARE, relay=mx.example, reject=403 4.7.0
 *   TLS handshake failed.
 * ruleset=tls_server, arg1=OK, relay=mx.example, reject=454 4.7.0 CN
 *   wrong.example does not match mx.example      (8.17, real)
 * (tls_client: the inbound side's policy rejected a client.)
 */
static enum parse_rc
sm_ruleset(struct sendmail *sm, const struct syslog_msg *m, int64_t off,
    const char *s, const char *end)
{
	struct span arg, rej, relay;
	struct sm_fact *f;
	bool client = scan_lit(&s, end, "ruleset=tls_server, ") == 0;
	enum ev_result r = EV_RES_VALIDATION_FAILURE;

	if (!client && scan_lit(&s, end, "ruleset=tls_client, ") == -1)
		return PARSE_NONE;
	if (!sm_field(sm, "arg1", &arg) || !sm_field(sm, "reject", &rej))
		return PARSE_NONE;
	if ((f = sm_find(sm, m->pid)) == NULL || f->client != client ||
	    f->used || f->pre)
		f = sm_new(sm, m, off, client);
	if (f->ev.peer_host[0] == '\0' && f->ev.peer_ip[0] == '\0' &&
	    sm_field(sm, "relay", &relay) &&
	    sm_fact_relay(&f->ev, &relay) == -1)
		return PARSE_MALFORMED;
	if (span_eq(&arg, "NONE"))
		r = EV_RES_STARTTLS_NOT_SUPPORTED;
	else if (span_eq(&arg, "FAIL"))
		r = f->cand != EV_RES_NONE ? f->cand : EV_RES_CERT_NOT_TRUSTED;
	else if (span_eq(&arg, "DANE_FAIL"))
		r = EV_RES_TLSA_INVALID;
	else if (scan_find(rej.p, rej.p + rej.len, " CN ") != NULL &&
		 scan_find(rej.p, rej.p + rej.len, " does not match ") != NULL)
		/* TLS_Srv "VERIFY+CN": the chain verified, the name did not
		 * (proto.m4 TLS_req: "454 4.7.0 CN x does not match mx") */
		r = EV_RES_CERT_HOST_MISMATCH;
	sm_touch(sm, f, m->ts_us);
	f->ev.reason[0] = '\0';
	sm_fail(&f->ev, r, rej.p, rej.p + rej.len);
	return PARSE_EVENT;
}

/*
 * STARTTLS: X509 cert verify: depth=0 /CN=mx.example, state=1,
 *   reason=certificate has expired        (LogLevel > 13)
 */
static enum parse_rc
sm_x509(struct sendmail *sm, const struct syslog_msg *m, int64_t off)
{
	struct span why;
	struct sm_fact *f;
	enum ev_result r = EV_RES_NONE;

	if (!sm_field(sm, "reason", &why))
		return PARSE_NONE;
	if ((f = sm_find(sm, m->pid)) == NULL || f->used) {
		/* Before its STARTTLS= line: held as a reason only. */
		f = sm_new(sm, m, off, true);
		f->pre = true;
	}
	if (scan_find(why.p, why.p + why.len, "expired") != NULL)
		r = EV_RES_CERT_EXPIRED;
	else if (scan_find(why.p, why.p + why.len, "mismatch") != NULL)
		r = EV_RES_CERT_HOST_MISMATCH;
	else if (scan_find(why.p, why.p + why.len, "self") != NULL ||
		 scan_find(why.p, why.p + why.len, "issuer") != NULL)
		r = EV_RES_CERT_NOT_TRUSTED;
	if (r != EV_RES_NONE && f->cand == EV_RES_NONE)
		f->cand = r;
	if (f->cand != EV_RES_NONE && f->ev.tls == EV_TLS_FAILED)
		f->ev.result = f->cand;
	return PARSE_EVENT;
}

/*
 * x89Bx1iP007421: to=<a@gmail.com>, ctladdr=<root@x> (0/0),
 *   delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=120,
 *   relay=gmail-smtp-in.l.google.com. [142.250.1.26], dsn=2.0.0,
 *   stat=Sent (OK)
 */
static enum parse_rc
sm_to(struct sendmail *sm, const struct syslog_msg *m, int64_t off,
    const struct span *qid)
{
	struct tls_event *ev = &sm->tmp;
	struct span to, mailer, relay, stat, name, ip;
	struct sm_fact *f;

	if (!sm_field(sm, "to", &to) || !sm_field(sm, "stat", &stat))
		return PARSE_NONE;
	if (!sm_field(sm, "mailer", &mailer) ||
	    !(span_eq(&mailer, "esmtp") || span_eq(&mailer, "smtp") ||
		span_eq(&mailer, "relay") || span_eq(&mailer, "smtp8") ||
		span_eq(&mailer, "dsmtp")) ||
	    !sm_field(sm, "relay", &relay)) {
		sm->st->internal++; /* local, prog, ...: no peer */
		return PARSE_EVENT;
	}
	sm_relay(&relay, &name, &ip);
	f = sm_find(sm, m->pid);
	if (f != NULL && f->client && !f->pre &&
	    (sm_same_relay(f->ev.peer_host, &name) ||
		(f->ev.peer_host[0] == '\0' &&
		    (name.p[0] == '[' || f->ev.tls == EV_TLS_FAILED))) &&
	    !(f->used && f->ev.tls == EV_TLS_FAILED)) {
		*ev = f->ev;
		f->used = true;
	} else {
		f = NULL;
		ev_init(ev);
		ev->source = EV_SRC_SENDMAIL;
		ev->dir = EV_DIR_OUT;
		ev->ts_us = m->ts_us;
		ev->start_off = off;
		if (m->host.len > 0)
			ev_setstr(ev, ev->host, sizeof(ev->host), &m->host);
		else
			ev_setcstr(ev, ev->host, sizeof(ev->host), sm->host);
		ev->tls = sm->saw_starttls ? EV_TLS_PLAIN : EV_TLS_UNKNOWN;
	}
	/* ev_addqid() on an emptied list: a queue id always fits. */
	ev_setstr(ev, ev->queue_ids, sizeof(ev->queue_ids), qid);
	if (sm_set_relay(ev, &name, &ip) == -1) /* sm_relay() above */
		return PARSE_MALFORMED;
	ev_setdomain_addr(ev, &to);
	if (span_startswith(&stat, "Sent")) {
		ev->status = EV_ST_SENT;
		ev->messages = 1;
	} else if (span_startswith(&stat, "Deferred"))
		ev->status = EV_ST_DEFERRED;
	else
		ev->status = EV_ST_BOUNCED;
	ev->end_off = off;
	if (f != NULL && f->ev.tls == EV_TLS_FAILED) {
		/* A failed handshake is used once; later lines are retries. */
		f->live = false;
		sm->nlive--;
	}
	sm_emit(sm, ev);
	return PARSE_EVENT;
}

/*
 * x89Bx1iP007420: from=<a@example.org>, size=1234, class=0, nrcpts=1,
 *   msgid=<...>, proto=ESMTPS, daemon=MTA, relay=mx.example.org
 *   [192.0.2.7]
 */
static enum parse_rc
sm_from(struct sendmail *sm, const struct syslog_msg *m, int64_t off,
    const struct span *qid)
{
	struct tls_event *ev = &sm->tmp;
	struct span from, proto, relay, name, ip, daemon;
	struct sm_fact *f;

	if (!sm_field(sm, "from", &from))
		return PARSE_NONE;
	if (!sm_field(sm, "proto", &proto) || !sm_field(sm, "relay", &relay)) {
		sm->st->internal++; /* sendmail -bm, queue runs: local */
		return PARSE_EVENT;
	}
	sm_relay(&relay, &name, &ip);
	if (ip.len == 0) {
		sm->st->internal++; /* relay=root@localhost */
		return PARSE_EVENT;
	}
	f = sm_find(sm, m->pid);
	if (f != NULL && !f->client && !f->pre) {
		*ev = f->ev;
		f->used = true;
	} else {
		ev_init(ev);
		ev->source = EV_SRC_SENDMAIL;
		ev->dir = EV_DIR_IN;
		ev->ts_us = m->ts_us;
		ev->start_off = off;
		if (m->host.len > 0)
			ev_setstr(ev, ev->host, sizeof(ev->host), &m->host);
		else
			ev_setcstr(ev, ev->host, sizeof(ev->host), sm->host);
		if (span_startswith(&proto, "ESMTPS") ||
		    span_eq(&proto, "SMTPS")) {
			ev->tls = EV_TLS_OK;
			ev->result = EV_RES_SUCCESS;
		} else if (span_eq(&proto, "ESMTP") ||
			   span_eq(&proto, "SMTP") || span_eq(&proto, "ESMTPA"))
			ev->tls = EV_TLS_PLAIN;
	}
	if (span_endswith(&proto, "A") || (sm_field(sm, "daemon", &daemon) &&
					      span_startswith(&daemon, "MSA")))
		ev->dir = EV_DIR_SUBMISSION;
	/* ev_addqid() on an emptied list: a queue id always fits. */
	ev_setstr(ev, ev->queue_ids, sizeof(ev->queue_ids), qid);
	if (sm_set_relay(ev, &name, &ip) == -1) /* sm_relay() above */
		return PARSE_MALFORMED;
	ev->domain[0] = '\0';
	ev_setdomain_addr(ev, &from);
	sm_host_domain(ev);
	ev->messages = 1;
	ev->end_off = off;
	sm_emit(sm, ev);
	return PARSE_EVENT;
}

/* ------------------------------------------------------------------ */
/* The module interface. */

bool
sendmail_claims(const struct syslog_msg *m, bool strict)
{
	if (!strict)
		return true;
	return span_eq(&m->tag, "sendmail") || span_eq(&m->tag, "sm-mta") ||
	       span_eq(&m->tag, "sm-msp-queue");
}

enum parse_rc
sendmail_line(struct sendmail *sm, const struct syslog_msg *m, int64_t off)
{
	const char *s = m->msg.p, *end = m->msg.p + m->msg.len, *q;
	struct span qid;

	if (m->ts_us > sm->now_us)
		sm->now_us = m->ts_us;
	sm_sweep(sm, off);
	/* Some builds prefix the session's queue id: "221820LG031423: ". */
	q = s;
	if (sm_qid(&q, end, &qid) == 0) {
		if (end - q > 3 && memcmp(q, "to=", 3) == 0) {
			sm_split(sm, q, end);
			return sm_to(sm, m, off, &qid);
		}
		if (end - q > 5 && memcmp(q, "from=", 5) == 0) {
			sm_split(sm, q, end);
			return sm_from(sm, m, off, &qid);
		}
		if (end - q > 9 && memcmp(q, "STARTTLS=", 9) == 0)
			s = q;
	}
	if (end - s < 9 ||
	    (memcmp(s, "STARTTLS", 8) != 0 && memcmp(s, "ruleset=", 8) != 0))
		return PARSE_NONE;
	sm_split(sm, s, end);
	if (scan_lit(&s, end, "STARTTLS=client") == 0)
		return sm_starttls(sm, m, off, s, end, true);
	if (scan_lit(&s, end, "STARTTLS=server") == 0)
		return sm_starttls(sm, m, off, s, end, false);
	if (scan_lit(&s, end, "STARTTLS: X509 cert verify: ") == 0)
		return sm_x509(sm, m, off);
	if (end - s > 8 && memcmp(s, "ruleset=", 8) == 0)
		return sm_ruleset(sm, m, off, s, end);
	return PARSE_NONE;
}

void
sendmail_finish(struct sendmail *sm, int64_t off)
{
	uint32_t i;

	for (i = 0; i < SM_FACTS && sm->nlive > 0; i++)
		if (sm->fact[i] != NULL && sm->fact[i]->live)
			sm_drop(sm, sm->fact[i], off);
}

bool
sendmail_min_start(const struct sendmail *sm, int64_t *off)
{
	uint32_t i;
	bool any = false;

	if (sm->nlive == 0)
		return false;
	for (i = 0; i < SM_FACTS; i++)
		if (sm->fact[i] != NULL && sm->fact[i]->live &&
		    (!any || sm->fact[i]->off < *off)) {
			*off = sm->fact[i]->off;
			any = true;
		}
	return any;
}

struct sendmail *
sendmail_new(const struct parser_opts *o, struct parser_stats *st,
    sendmail_emit_fn *emit, void *arg)
{
	struct sendmail *sm = xcalloc(1, sizeof(*sm));

	sm->st = st;
	sm->emit = emit;
	sm->arg = arg;
	ev_init(&sm->tmp);
	ev_setcstr(&sm->tmp, sm->host, sizeof(sm->host),
	    o->host != NULL ? o->host : "");
	return sm;
}

void
sendmail_free(struct sendmail *sm)
{
	uint32_t i;

	if (sm == NULL)
		return;
	for (i = 0; i < SM_FACTS; i++)
		free(sm->fact[i]);
	free(sm);
}
