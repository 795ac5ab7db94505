/*
 * opensmtpd.c - OpenSMTPD log lines to TLS session events
 *
 * Input: the message part of syslog lines tagged smtpd; untrusted, any
 * bytes, not NUL-terminated.  Every read is a bounded scan_*() cursor;
 * only ev_setstr()/ev_setaddr() copy text out.
 * Sources: MTA-LOGS.md section 5 and 8; OpenSMTPD's smtp_session.c and
 * mta_session.c (log_info() format strings of 5.x, 6.0-6.8 and 7.x).
 *
 * Sessions.  OpenSMTPD 6.x and 7.x start every session line with a
 * 16-hex session id, so one event is one session:
 *   "<sid> smtp connected address=IP host=NAME"            inbound opens
 *   "<sid> smtp tls ciphers=TLSv1.2:CIPHER:256"             TLS up
 *   "<sid> smtp cert-check result=\"verified\" ..."         client cert
 *   "<sid> smtp authentication user=u result=ok"            submission
 *   "<sid> smtp message msgid=... proto=ESMTP"               a message
 *   "<sid> smtp envelope evpid=... from=<a@b> to=<c@d>"     sender domain
 *   "<sid> smtp disconnected reason=quit|tls-accept-failed|..."  closes
 *   "<sid> mta connecting address=smtp+tls://IP:25 host=MX"  outbound
 *   "<sid> mta connected", "<sid> mta tls ciphers=...",
 *   "<sid> mta cert-check result=\"valid|unverified\"" (7.x),
 *   "<sid> mta server-cert-check result=\"success|failure\"" (6.7),
 *   "<sid> mta delivery evpid=... to=<c@d> ... result=\"Ok\" ...",
 *   "<sid> mta error reason=TLS required but not supported by remote host"
 *   "<sid> mta disconnected reason=quit messages=1"          closes
 * 6.4 writes "mta starttls ciphers=version=TLSv1.2, cipher=..., bits=256"
 * and 6.0 "event=starttls"/"event=delivery"; both are read.  Lines without
 * the id prefix name the session inside:
 *   "smtp-out: Error on session <sid>: opportunistic TLS failed,
 *    downgrading to plain"         (the retry is a new session)
 *   5.x: "smtp-in: New session <sid> from host NAME [IP]",
 *   "smtp-{in,out}: Started TLS on session <sid>: version=...,
 *    cipher=..., bits=...", "smtp-out: Server certificate verification
 *   succeeded|failed on session <sid>", "smtp-in: Accepted message ... on
 *   session <sid>: from=<...>", "smtp-{in,out}: Closing session <sid>",
 *   "smtp-out: Connecting to smtp://IP:25 (MX) on session <sid>" and
 *   "delivery: Ok for <evpid>: ..., to=<...>, ..., relay=MX [IP]"; the
 *   5.x delivery line names no session: it is joined to the open
 *   outbound session with that peer address.
 *
 * Evidence rules (no evidence is never plaintext):
 *  - tls: a "tls ciphers=" / "starttls" / "Started TLS" line.
 *  - failed: "opportunistic TLS failed", "mta error" texts about TLS
 *    ("TLS required but not supported": starttls-not-supported;
 *    certificate texts by MTA-LOGS.md section 8; others
 *    validation-failure), "closing reason=tls-...", inbound
 *    "disconnected reason=tls-..." or an io-error with "handshake".
 *  - plaintext: a session that connected (and, inbound, was closed) with
 *    no TLS line, since OpenSMTPD logs every TLS session it starts; or
 *    an outbound scheme smtp+notls://.
 *  - otherwise unknown.  An outbound session that never connected is no
 *    SMTP session and no event.  lmtp:// and loopback peers are counted
 *    internal.
 *  - trust: valid/verified/success verified; unverified/failure
 *    untrusted; "no certificate presented"/unchecked anonymous.
 * A failed outbound session names no recipient: it waits (OS_WAIT_MAX
 * entries, OS_IDLE_US) for the next delivery to the same address, whose
 * domain it takes; the clear retry after a downgrade is that delivery.
 *
 * Limits: opts.max_sessions open sessions; a full table evicts the least
 * recently active (emitted, counted evicted); idle sessions expire after
 * opts.idle_us of log time (counted expired).  Nothing is allocated per
 * line.
 *
 * Single-threaded; one object per log stream.
 */
#include "parsers/opensmtpd.h"

#include <stddef.h>
#include <string.h>

#include "common/xmalloc.h"

#define OS_SESSIONS_DEFAULT 4096
#define OS_SESSIONS_MAX (1 << 20)
#define OS_IDLE_US (INT64_C(300) * 1000000)
#define OS_SWEEP_US (INT64_C(10) * 1000000)
#define OS_WAIT_MAX 32
#define OS_FIELD_MAX 2048

#define OS_F_CONNECTED 0x01
#define OS_F_TLS 0x02
#define OS_F_FAIL 0x04
#define OS_F_NOTLS 0x08	   /* smtp+notls:// */
#define OS_F_INTERNAL 0x10 /* lmtp:// */
#define OS_F_CLOSED 0x20

struct os_sess {
	bool live;
	uint8_t flags;
	uint64_t sid;
	int32_t hnext;
	int64_t last_us;
	struct tls_event ev;
};

struct os_wait {
	bool live;
	int64_t t_us;
	struct tls_event ev;
};

struct opensmtpd {
	struct parser_stats *st;
	opensmtpd_emit_fn *emit;
	void *arg;
	char host[EV_HOST_MAX + 1];
	int64_t now_us, next_sweep, idle_us;
	struct os_sess *sess;
	uint32_t nsess, nlive;
	/*
	 * Entries [0, nused) have been in use; free_head lists those given
	 * back.  Entries past nused are taken in order, so the table's
	 * pages are touched only as the sessions need them.
	 */
	uint32_t nused;
	int32_t free_head;
	int32_t *bucket;
	uint32_t bmask;
	uint32_t nwait;
	struct os_wait wait[OS_WAIT_MAX];
};

/* ------------------------------------------------------------------ */
/* Small readers. */

/* Lower-case hex digits' values, else -1: every line's session id. */
/* clang-format off */
static const int8_t os_hex_tab[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};
/* clang-format on */

static int
os_hex(char c)
{
	return os_hex_tab[(unsigned char)c];
}

/* 16 lower-case hex digits (the session id); 5.x ids may be shorter. */
static int
os_sid(const char **s, const char *end, uint64_t *sid)
{
	const char *p = *s;
	uint64_t v = 0;
	int d;

	while (p < end && (d = os_hex(*p)) >= 0 && p - *s < 16) {
		v = v << 4 | (uint64_t)d;
		p++;
	}
	if (p - *s < 8 || (p < end && os_hex(*p) >= 0))
		return -1;
	*sid = v;
	*s = p;
	return 0;
}

/*
 * The value of " key=" in a "k=v k=\"v v\"" list; quotes stripped: the
 * first place where the key follows the start or a space and '=' follows
 * it (quoted text included, as before).  Found from the '=' signs, which
 * are few, rather than by searching the key's text.
 */
static bool
os_kv(const char *p, const char *end, const char *key, struct span *v)
{
	size_t kl = strlen(key);
	const char *q, *eq;

	if ((size_t)(end - p) <= kl)
		return false;
	for (eq = p + kl; eq < end; eq++) {
		if ((eq = memchr(eq, '=', (size_t)(end - eq))) == NULL)
			return false;
		q = eq - kl;
		if (memcmp(q, key, kl) != 0 || (q > p && q[-1] != ' '))
			continue;
		q = eq + 1;
		if (q < end && *q == '"') {
			const char *e =
			    memchr(q + 1, '"', (size_t)(end - q - 1));

			v->p = q + 1;
			v->len = (size_t)((e != NULL ? e : end) - v->p);
		} else {
			const char *e = memchr(q, ' ', (size_t)(end - q));

			v->p = q;
			v->len = (size_t)((e != NULL ? e : end) - q);
		}
		return true;
	}
	return false;
}

/* A session's domain is its first address's. */
static void
os_domain(struct tls_event *ev, const struct span *addr)
{
	if (ev->domain[0] == '\0')
		ev_setdomain_addr(ev, addr);
}

/* ------------------------------------------------------------------ */
/* The session table. */

static uint32_t
os_hash(uint64_t sid)
{
	return (uint32_t)((sid * UINT64_C(0x9e3779b97f4a7c15)) >> 32);
}

static struct os_sess *
os_find(struct opensmtpd *os, uint64_t sid)
{
	int32_t i;

	for (i = os->bucket[os_hash(sid) & os->bmask]; i >= 0;
	     i = os->sess[i].hnext)
		if (os->sess[i].sid == sid) {
			os->sess[i].last_us = os->now_us;
			return &os->sess[i];
		}
	return NULL;
}

static void os_close(struct opensmtpd *, struct os_sess *, int64_t);

static struct os_sess *
os_open(struct opensmtpd *os, const struct syslog_msg *m, int64_t off,
    uint64_t sid, enum ev_dir dir)
{
	struct os_sess *s;
	uint32_t i, b;
	int32_t k;

	if (os->free_head < 0 && os->nused < os->nsess) {
		os->sess[os->nused].hnext = -1;
		os->free_head = (int32_t)os->nused++;
	}
	if (os->free_head < 0) {
		struct os_sess *old = NULL;

		for (i = 0; i < os->nsess; i++)
			if (old == NULL || os->sess[i].last_us < old->last_us)
				old = &os->sess[i];
		os->st->evicted++;
		os_close(os, old, off);
	}
	k = os->free_head;
	s = &os->sess[k];
	os->free_head = s->hnext;
	memset(s, 0, offsetof(struct os_sess, ev));
	s->live = true;
	s->sid = sid;
	s->last_us = os->now_us;
	b = os_hash(sid) & os->bmask;
	s->hnext = os->bucket[b];
	os->bucket[b] = k;
	os->nlive++;
	ev_init(&s->ev);
	s->ev.source = EV_SRC_OPENSMTPD;
	s->ev.dir = dir;
	s->ev.ts_us = m->ts_us;
	s->ev.start_off = off;
	if (m->host.len > 0)
		ev_setstr(&s->ev, s->ev.host, sizeof(s->ev.host), &m->host);
	else
		ev_setcstr(&s->ev, s->ev.host, sizeof(s->ev.host), os->host);
	return s;
}

static void
os_unlink(struct opensmtpd *os, struct os_sess *s)
{
	int32_t *pp, i = (int32_t)(s - os->sess);

	for (pp = &os->bucket[os_hash(s->sid) & os->bmask]; *pp >= 0;
	     pp = &os->sess[*pp].hnext)
		if (*pp == i) {
			*pp = s->hnext;
			break;
		}
	s->live = false;
	s->hnext = os->free_head;
	os->free_head = i;
	os->nlive--;
}

static void
os_out(struct opensmtpd *os, struct tls_event *ev)
{
	if (ev->peer_ip[0] != '\0' && ev_is_loopback(ev->peer_ip)) {
		os->st->internal++;
		return;
	}
	os->emit(os->arg, ev);
}

/* A failed outbound session without a domain waits for a delivery. */
static void
os_park(struct opensmtpd *os, const struct tls_event *ev, int64_t off)
{
	struct os_wait *w = NULL;
	uint32_t i;

	for (i = 0; i < OS_WAIT_MAX; i++)
		if (!os->wait[i].live) {
			w = &os->wait[i];
			break;
		}
	if (w == NULL) {
		w = &os->wait[0];
		for (i = 1; i < OS_WAIT_MAX; i++)
			if (os->wait[i].ev.start_off < w->ev.start_off)
				w = &os->wait[i];
		os->st->evicted++;
		w->ev.end_off = off;
		os_out(os, &w->ev);
		os->nwait--;
	}
	w->live = true;
	w->t_us = os->now_us;
	w->ev = *ev;
	os->nwait++;
}

/* Waiting sessions to `ip' (all when ip is NULL) go, with `domain'. */
static void
os_unpark(struct opensmtpd *os, const char *ip, const char *domain, int64_t off,
    bool expire_only)
{
	uint32_t i;

	if (os->nwait == 0)
		return;
	for (i = 0; i < OS_WAIT_MAX; i++) {
		struct os_wait *w = &os->wait[i];

		if (!w->live)
			continue;
		if (expire_only ? os->now_us - w->t_us <= OS_IDLE_US
				: ip != NULL && strcmp(w->ev.peer_ip, ip) != 0)
			continue;
		if (domain != NULL)
			ev_setcstr(
			    &w->ev, w->ev.domain, sizeof(w->ev.domain), domain);
		w->ev.end_off = off;
		os_out(os, &w->ev);
		w->live = false;
		os->nwait--;
	}
}

/* Decide tls/result from the flags; emit (or park) and free. */
static void
os_close(struct opensmtpd *os, struct os_sess *s, int64_t off)
{
	struct tls_event *ev = &s->ev;
	uint8_t f = s->flags;

	if (f & OS_F_FAIL)
		ev->tls = EV_TLS_FAILED;
	else if (f & OS_F_TLS)
		ev->tls = EV_TLS_OK;
	else if (f & OS_F_NOTLS)
		ev->tls = EV_TLS_PLAIN;
	else if ((f & OS_F_CONNECTED) &&
		 (ev->dir == EV_DIR_OUT ? ev->messages > 0 || (f & OS_F_CLOSED)
					: (f & OS_F_CLOSED) != 0))
		ev->tls = EV_TLS_PLAIN;
	else
		ev->tls = EV_TLS_UNKNOWN;
	if (ev->tls == EV_TLS_OK)
		ev->result = EV_RES_SUCCESS;
	else if (ev->tls == EV_TLS_FAILED) {
		if (ev->result == EV_RES_NONE || ev->result == EV_RES_SUCCESS)
			ev->result = EV_RES_VALIDATION_FAILURE;
	} else {
		ev->result = EV_RES_NONE;
		ev->reason[0] = '\0';
	}
	if (ev->tls != EV_TLS_FAILED)
		ev->reason[0] = '\0';
	ev->end_off = off;
	if (f & OS_F_INTERNAL)
		os->st->internal++;
	else if (ev->dir == EV_DIR_OUT && !(f & OS_F_CONNECTED) &&
		 ev->messages == 0 && ev->tls != EV_TLS_FAILED)
		os->st->unused++; /* never connected: no SMTP session */
	else if (ev->dir == EV_DIR_OUT && ev->tls == EV_TLS_FAILED &&
		 ev->domain[0] == '\0')
		os_park(os, ev, off);
	else
		os_out(os, ev);
	os_unlink(os, s);
}

static void
os_sweep(struct opensmtpd *os, int64_t off)
{
	uint32_t i;

	if (os->now_us < os->next_sweep)
		return;
	os->next_sweep = os->now_us + OS_SWEEP_US;
	os_unpark(os, NULL, NULL, off, true);
	if (os->nlive == 0)
		return;
	for (i = 0; i < os->nused; i++)
		if (os->sess[i].live &&
		    os->now_us - os->sess[i].last_us > os->idle_us) {
			os->st->expired++;
			os_close(os, &os->sess[i], off);
		}
}

/* ------------------------------------------------------------------ */
/* Facts. */

/*
 * "TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256" (6.7+) or "version=TLSv1.2,
 * cipher=ECDHE-RSA-AES256-GCM-SHA384, bits=256" (5.x, 6.4).
 */
static void
os_ciphers(struct os_sess *s, const char *p, const char *end)
{
	struct tls_event *ev = &s->ev;
	struct span ver, cipher;
	uint64_t bits;
	const char *q;

	s->flags |= OS_F_TLS;
	if (scan_lit(&p, end, "version=") == 0) {
		if (scan_until(&p, end, ',', EV_TLSVER_MAX, &ver) == 0)
			ev_setstr(
			    ev, ev->tls_version, sizeof(ev->tls_version), &ver);
		if ((q = scan_find(p, end, "cipher=")) != NULL) {
			p = q + 7;
			if (scan_until(&p, end, ',', OS_FIELD_MAX, &cipher) ==
			    0)
				ev_setstr(ev, ev->cipher, sizeof(ev->cipher),
				    &cipher);
		}
		if ((q = scan_find(p, end, "bits=")) != NULL) {
			p = q + 5;
			if (scan_uint(&p, end, 65535, &bits) == 0)
				ev->cipher_bits = (uint16_t)bits;
		}
		return;
	}
	if (scan_until(&p, end, ':', EV_TLSVER_MAX, &ver) == -1)
		return;
	ev_setstr(ev, ev->tls_version, sizeof(ev->tls_version), &ver);
	if (scan_until(&p, end, ':', OS_FIELD_MAX, &cipher) == -1)
		return;
	ev_setstr(ev, ev->cipher, sizeof(ev->cipher), &cipher);
	if (scan_uint(&p, end, 65535, &bits) == 0)
		ev->cipher_bits = (uint16_t)bits;
}

static void
os_trust(struct os_sess *s, const struct span *r)
{
	if (span_eq(r, "valid") || span_eq(r, "verified") ||
	    span_eq(r, "success") || span_eq(r, "succeeded"))
		s->ev.trust = EV_TRUST_VERIFIED;
	else if (span_eq(r, "unverified") || span_eq(r, "failure") ||
		 span_eq(r, "failed") || span_eq(r, "invalid"))
		s->ev.trust = EV_TRUST_UNTRUSTED;
	else if (span_startswith(r, "no certificate") ||
		 span_eq(r, "unchecked"))
		s->ev.trust = EV_TRUST_ANONYMOUS;
}

/* A TLS failure text: its RFC 8460 type. */
static enum ev_result
os_fail_result(const char *p, const char *end)
{
	if (scan_find(p, end, "not supported") != NULL ||
	    scan_find(p, end, "STARTTLS rejected") != NULL)
		return EV_RES_STARTTLS_NOT_SUPPORTED;
	if (scan_find(p, end, "expired") != NULL)
		return EV_RES_CERT_EXPIRED;
	if (scan_find(p, end, "not present in server certificate") != NULL ||
	    scan_find(p, end, "name mismatch") != NULL ||
	    scan_find(p, end, "does not match") != NULL)
		return EV_RES_CERT_HOST_MISMATCH;
	if (scan_find(p, end, "self signed") != NULL ||
	    scan_find(p, end, "self-signed") != NULL ||
	    scan_find(p, end, "local issuer") != NULL ||
	    scan_find(p, end, "untrusted") != NULL)
		return EV_RES_CERT_NOT_TRUSTED;
	return EV_RES_VALIDATION_FAILURE;
}

static void
os_fail(struct os_sess *s, const char *p, const char *end)
{
	struct span t = {p, (size_t)(end - p)};

	s->flags |= OS_F_FAIL;
	if (s->ev.reason[0] == '\0') {
		s->ev.result = os_fail_result(p, end);
		ev_setstr(&s->ev, s->ev.reason, sizeof(s->ev.reason), &t);
	}
}

/* "smtp+tls://192.0.2.1:25" or "[2001:db8::1]:25" into the peer. */
static int
os_address(struct os_sess *s, const struct span *a)
{
	const char *p = a->p, *end = a->p + a->len, *q;
	struct span ip;
	uint64_t port;

	if ((q = scan_find(p, end, "://")) != NULL) {
		struct span scheme = {p, (size_t)(q - p)};

		if (span_eq(&scheme, "smtp+notls"))
			s->flags |= OS_F_NOTLS;
		else if (span_startswith(&scheme, "lmtp"))
			s->flags |= OS_F_INTERNAL;
		p = q + 3;
	}
	if (p < end && *p == '[') {
		p++;
		if (scan_until(&p, end, ']', EV_ADDR_MAX, &ip) == -1)
			return -1;
	} else {
		ip.p = p;
		q = p;
		while (q < end && *q != ':')
			q++;
		if (q < end &&
		    memchr(q + 1, ':', (size_t)(end - q - 1)) != NULL)
			q = end; /* a bare IPv6 address, no port */
		ip.len = (size_t)(q - p);
		p = q;
	}
	if (ev_setaddr(&s->ev, s->ev.peer_ip, &ip) == -1)
		return -1;
	if (scan_lit(&p, end, ":") == 0 &&
	    scan_uint(&p, end, 65535, &port) == 0)
		s->ev.peer_port = (uint16_t)port;
	return 0;
}

static void
os_peer_host(struct os_sess *s, const struct span *h)
{
	struct span n = *h;

	if (n.len > 0 && n.p[0] == '<')
		return; /* "<unknown>" */
	ev_setstr(&s->ev, s->ev.peer_host, sizeof(s->ev.peer_host), &n);
	ev_lowerhost(s->ev.peer_host);
}

/* ------------------------------------------------------------------ */
/* 6.x / 7.x lines: "<sid> smtp ..." and "<sid> mta ...". */

static enum parse_rc
os_smtp(struct opensmtpd *os, const struct syslog_msg *m, int64_t off,
    uint64_t sid, const char *p, const char *end)
{
	struct os_sess *s = os_find(os, sid);
	struct span v, ev2;

	if (scan_lit(&p, end, "connected ") == 0) {
		if (s != NULL)
			os_close(os, s, off);
		s = os_open(os, m, off, sid, EV_DIR_IN);
		s->flags |= OS_F_CONNECTED;
		/* "address=local": sendmail(8) on the control socket */
		if (os_kv(p, end, "address", &v) && span_eq(&v, "local"))
			s->flags |= OS_F_INTERNAL;
		else if (os_kv(p, end, "address", &v)) {
			struct span ip = v;

			if (ev_setaddr(&s->ev, s->ev.peer_ip, &ip) == -1 &&
			    os_address(s, &v) == -1) {
				os_unlink(os, s); /* no event from garbage */
				return PARSE_MALFORMED;
			}
		}
		if (os_kv(p, end, "host", &v))
			os_peer_host(s, &v);
		return PARSE_EVENT;
	}
	if (s == NULL)
		return PARSE_NONE; /* its start is before our input */
	if (scan_lit(&p, end, "tls ciphers=") == 0 ||
	    scan_lit(&p, end, "starttls ciphers=") == 0) {
		os_ciphers(s, p, end);
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "cert-check ") == 0 ||
	    scan_lit(&p, end, "client-cert-check ") == 0) {
		if (os_kv(p, end, "result", &v))
			os_trust(s, &v);
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "authentication ") == 0) {
		if (os_kv(p, end, "result", &v) && span_eq(&v, "ok"))
			s->ev.dir = EV_DIR_SUBMISSION;
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "message ") == 0) {
		if (os_kv(p, end, "msgid", &v)) {
			ev_addqid(&s->ev, &v);
			s->ev.messages++;
		}
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "envelope ") == 0) {
		if (os_kv(p, end, "from", &v))
			os_domain(&s->ev, &v);
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "disconnected") == 0) {
		s->flags |= OS_F_CLOSED;
		if (os_kv(p, end, "reason", &v) &&
		    (span_startswith(&v, "tls") ||
			scan_find(v.p, v.p + v.len, "handshake") != NULL ||
			scan_find(v.p, v.p + v.len, "TLS") != NULL ||
			/* 6.8: "io-error: error:0A080006:SSL routines::EVP
			 * lib", a failed STARTTLS handshake */
			scan_find(v.p, v.p + v.len, "SSL") != NULL))
			os_fail(s, v.p, v.p + v.len);
		if (s->ev.domain[0] == '\0' && s->ev.peer_host[0] != '\0') {
			const char *dot = strrchr(s->ev.peer_host, '.'), *d2;

			if (dot != NULL && dot[1] != '\0') {
				for (d2 = dot;
				     d2 > s->ev.peer_host && d2[-1] != '.';
				     d2--)
					;
				ev2.p = d2;
				ev2.len = strlen(d2);
				ev_setdomain(&s->ev, s->ev.domain,
				    sizeof(s->ev.domain), &ev2);
			}
		}
		os_close(os, s, off);
		return PARSE_EVENT;
	}
	return PARSE_NONE;
}

static bool
os_relay_is(const char *peer_host, const struct span *relay)
{
	return relay->len > 0 && strlen(peer_host) == relay->len &&
	       strncasecmp(peer_host, relay->p, relay->len) == 0;
}

/*
 * An envelope given back with no session (6.8, after the route to a
 * relay was disabled, e.g. by a failed required-TLS session):
 *   "0000000000000000 mta delivery evpid=... from=<a@b> to=<c@d>
 *    rcpt=<-> source=\"-\" relay=\"mx.example\" delay=11s
 *    result=\"TempFail\" stat=\"Network error on destination MXs\""
 * The failed sessions that named no domain and went to that relay host
 * (the error ends them; no "disconnected" follows) are its sessions:
 * they take its domain, are deferred and are emitted.
 */
static enum parse_rc
os_giveback(struct opensmtpd *os, const char *p, const char *end, int64_t off)
{
	struct span relay, to, v;
	bool any = false, tempfail;
	uint32_t i;

	if (scan_lit(&p, end, "delivery ") == -1 ||
	    !os_kv(p, end, "relay", &relay) || !os_kv(p, end, "to", &to))
		return PARSE_NONE;
	tempfail = os_kv(p, end, "result", &v) && span_eq(&v, "TempFail");
	for (i = 0; i < os->nused && os->nlive > 0; i++) {
		struct os_sess *s = &os->sess[i];

		if (!s->live || s->ev.dir != EV_DIR_OUT ||
		    !(s->flags & OS_F_FAIL) || s->ev.domain[0] != '\0' ||
		    !os_relay_is(s->ev.peer_host, &relay))
			continue;
		os_domain(&s->ev, &to);
		if (os_kv(p, end, "evpid", &v))
			ev_addqid(&s->ev, &v);
		s->ev.status = tempfail ? EV_ST_DEFERRED : EV_ST_BOUNCED;
		os_close(os, s, off);
		any = true;
	}
	for (i = 0; i < OS_WAIT_MAX && os->nwait > 0; i++) {
		struct os_wait *w = &os->wait[i];

		if (!w->live || !os_relay_is(w->ev.peer_host, &relay))
			continue;
		os_domain(&w->ev, &to);
		w->ev.status = tempfail ? EV_ST_DEFERRED : EV_ST_BOUNCED;
		w->ev.end_off = off;
		os_out(os, &w->ev);
		w->live = false;
		os->nwait--;
		any = true;
	}
	return any ? PARSE_EVENT : PARSE_NONE;
}

static enum parse_rc
os_mta(struct opensmtpd *os, const struct syslog_msg *m, int64_t off,
    uint64_t sid, const char *p, const char *end)
{
	struct os_sess *s = os_find(os, sid);
	struct span v;

	if (scan_lit(&p, end, "connecting ") == 0) {
		if (s != NULL)
			os_close(os, s, off);
		s = os_open(os, m, off, sid, EV_DIR_OUT);
		if (os_kv(p, end, "address", &v) && os_address(s, &v) == -1) {
			os_unlink(os, s);
			return PARSE_MALFORMED;
		}
		if (os_kv(p, end, "host", &v))
			os_peer_host(s, &v);
		return PARSE_EVENT;
	}
	if (s == NULL)
		return sid == 0 ? os_giveback(os, p, end, off) : PARSE_NONE;
	if (scan_lit(&p, end, "connected") == 0) {
		s->flags |= OS_F_CONNECTED;
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "tls ciphers=") == 0 ||
	    scan_lit(&p, end, "starttls ciphers=") == 0 ||
	    scan_lit(&p, end, "event=starttls ciphers=") == 0) {
		s->flags |= OS_F_CONNECTED;
		os_ciphers(s, p, end);
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "cert-check ") == 0 ||
	    scan_lit(&p, end, "server-cert-check ") == 0) {
		if (os_kv(p, end, "result", &v))
			os_trust(s, &v);
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "delivery ") == 0 ||
	    scan_lit(&p, end, "event=delivery ") == 0) {
		s->flags |= OS_F_CONNECTED;
		if (os_kv(p, end, "evpid", &v))
			ev_addqid(&s->ev, &v);
		if (os_kv(p, end, "to", &v))
			os_domain(&s->ev, &v);
		os_unpark(os, s->ev.peer_ip, s->ev.domain, off, false);
		if (os_kv(p, end, "result", &v)) {
			if (span_eq(&v, "Ok")) {
				s->ev.messages++;
				s->ev.status = EV_ST_SENT;
			} else if (span_eq(&v, "TempFail") &&
				   s->ev.status != EV_ST_SENT)
				s->ev.status = EV_ST_DEFERRED;
			else if (s->ev.status != EV_ST_SENT)
				s->ev.status = EV_ST_BOUNCED;
		}
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "ssl_check_name: ") == 0) {
		/*
		 * 6.8, before server-cert-check or the error below:
		 * "ssl_check_name: no match for 'mx.example' in cert".
		 * Kept as the reason a later failure gets; a session that
		 * goes on (opportunistic) ends as success all the same.
		 */
		struct span t = {p, (size_t)(end - p)};

		if (s->ev.reason[0] == '\0') {
			s->ev.result = EV_RES_CERT_HOST_MISMATCH;
			ev_setstr(
			    &s->ev, s->ev.reason, sizeof(s->ev.reason), &t);
		}
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "error reason=") == 0) {
		/* Only TLS texts make the session failed. */
		if (scan_find(p, end, "TLS") != NULL ||
		    scan_find(p, end, "certificate") != NULL ||
		    scan_find(p, end, "handshake") != NULL)
			os_fail(s, p, end);
		/* 6.8 with "tls verify" / smtp+tls://: no reason given */
		if (scan_find(p, end, "certificate check failed") != NULL)
			s->ev.trust = EV_TRUST_UNTRUSTED;
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "closing reason=tls") == 0) {
		os_fail(s, p - 3, end);
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "disconnected") == 0) {
		s->flags |= OS_F_CLOSED;
		os_close(os, s, off);
		return PARSE_EVENT;
	}
	return PARSE_NONE;
}

/* ------------------------------------------------------------------ */
/* Lines that name the session inside (5.x, and smtp-out errors). */

static enum parse_rc
os_legacy(struct opensmtpd *os, const struct syslog_msg *m, int64_t off,
    const char *p, const char *end)
{
	bool in = scan_lit(&p, end, "smtp-in: ") == 0;
	const char *q;
	struct os_sess *s;
	struct span v, ip;
	uint64_t sid;
	uint32_t i;

	if (!in && scan_lit(&p, end, "smtp-out: ") == -1) {
		if (scan_lit(&p, end, "delivery: ") == -1)
			return PARSE_NONE;
		/* 5.x "delivery: Ok for <evpid>: ..., relay=MX [IP], ..." */
		if ((q = scan_find(p, end, "relay=")) == NULL ||
		    (q = memchr(q, '[', (size_t)(end - q))) == NULL)
			return PARSE_NONE;
		q++;
		if (scan_until(&q, end, ']', EV_ADDR_MAX, &ip) == -1)
			return PARSE_MALFORMED;
		for (i = 0; i < os->nused; i++) {
			char tmp[EV_ADDR_MAX + 1];

			s = &os->sess[i];
			if (!s->live || s->ev.dir != EV_DIR_OUT ||
			    ip.len > EV_ADDR_MAX)
				continue;
			memcpy(tmp, ip.p, ip.len);
			tmp[ip.len] = '\0';
			if (strcmp(tmp, s->ev.peer_ip) != 0)
				continue;
			if ((q = scan_find(p, end, "to=<")) != NULL) {
				v.p = q + 4;
				v.len = (size_t)(end - v.p);
				os_domain(&s->ev, &v);
			}
			if (scan_lit(&p, end, "Ok ") == 0) {
				s->ev.messages++;
				s->ev.status = EV_ST_SENT;
			}
			return PARSE_EVENT;
		}
		return PARSE_NONE;
	}
	if ((q = scan_find(p, end, "session ")) == NULL)
		return PARSE_NONE;
	q += 8;
	if (os_sid(&q, end, &sid) == -1)
		return PARSE_MALFORMED;
	s = os_find(os, sid);
	if (scan_lit(&p, end, "New session ") == 0) {
		if (s != NULL)
			os_close(os, s, off);
		s = os_open(os, m, off, sid, EV_DIR_IN);
		s->flags |= OS_F_CONNECTED;
		if ((q = memchr(q, '[', (size_t)(end - q))) != NULL) {
			q++;
			if (scan_until(&q, end, ']', EV_ADDR_MAX, &ip) == 0 &&
			    ev_setaddr(&s->ev, s->ev.peer_ip, &ip) == -1) {
				os_unlink(os, s);
				return PARSE_MALFORMED;
			}
		}
		if ((q = scan_find(p, end, " from host ")) != NULL) {
			q += 11;
			/* "from host 192.0.2.1 [192.0.2.1]": no name */
			if (scan_word(&q, end, EV_HOST_MAX, &v) == 0 &&
			    v.p[0] != '[' && !(v.p[0] >= '0' && v.p[0] <= '9'))
				os_peer_host(s, &v);
		}
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "Connecting to ") == 0) {
		if (s != NULL)
			os_close(os, s, off);
		s = os_open(os, m, off, sid, EV_DIR_OUT);
		if (scan_word(&p, end, OS_FIELD_MAX, &v) == 0 &&
		    os_address(s, &v) == -1) {
			os_unlink(os, s);
			return PARSE_MALFORMED;
		}
		if (scan_lit(&p, end, " (") == 0 &&
		    scan_until(&p, end, ')', EV_HOST_MAX, &v) == 0)
			os_peer_host(s, &v);
		return PARSE_EVENT;
	}
	if (s == NULL)
		return PARSE_NONE;
	if (scan_lit(&p, end, "Started TLS on session ") == 0) {
		s->flags |= OS_F_CONNECTED;
		if ((p = memchr(q, ':', (size_t)(end - q))) != NULL &&
		    scan_lit(&p, end, ": ") == 0)
			os_ciphers(s, p, end);
		else
			s->flags |= OS_F_TLS;
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "Server certificate verification ") == 0) {
		v.p = p;
		v.len = scan_find(p, end, " ") != NULL
			    ? (size_t)(scan_find(p, end, " ") - p)
			    : 0;
		os_trust(s, &v);
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "Accepted message ") == 0) {
		s->ev.messages++;
		if (scan_word(&p, end, 32, &v) == 0)
			ev_addqid(&s->ev, &v);
		if ((q = scan_find(q, end, "from=<")) != NULL) {
			v.p = q + 6;
			v.len = (size_t)(end - v.p);
			os_domain(&s->ev, &v);
		}
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "Error on session ") == 0) {
		if ((p = scan_find(q, end, ": ")) != NULL &&
		    scan_find(p, end, "TLS") != NULL)
			os_fail(s, p + 2, end);
		return PARSE_EVENT;
	}
	if (scan_lit(&p, end, "Closing session ") == 0 ||
	    scan_lit(&p, end, "Disconnecting session ") == 0) {
		s->flags |= OS_F_CLOSED | OS_F_CONNECTED;
		if (q < end && *q == ':')
			q++;
		(void)scan_spaces(&q, end);
		if (scan_find(q, end, "SSL") != NULL ||
		    scan_find(q, end, "TLS") != NULL)
			os_fail(s, q, end);
		os_close(os, s, off);
		return PARSE_EVENT;
	}
	return PARSE_NONE;
}

/* ------------------------------------------------------------------ */
/* The module interface. */

bool
opensmtpd_claims(const struct syslog_msg *m, bool strict)
{
	if (!strict)
		return true;
	return span_eq(&m->tag, "smtpd");
}

enum parse_rc
opensmtpd_line(struct opensmtpd *os, const struct syslog_msg *m, int64_t off)
{
	const char *p = m->msg.p, *end = m->msg.p + m->msg.len, *q = p;
	uint64_t sid;

	if (m->ts_us > os->now_us)
		os->now_us = m->ts_us;
	os_sweep(os, off);
	if (os_sid(&q, end, &sid) == 0 && scan_lit(&q, end, " ") == 0) {
		if (scan_lit(&q, end, "smtp ") == 0)
			return os_smtp(os, m, off, sid, q, end);
		if (scan_lit(&q, end, "mta ") == 0)
			return os_mta(os, m, off, sid, q, end);
		return PARSE_NONE;
	}
	return os_legacy(os, m, off, p, end);
}

void
opensmtpd_finish(struct opensmtpd *os, int64_t off)
{
	uint32_t i;

	for (i = 0; i < os->nused && os->nlive > 0; i++)
		if (os->sess[i].live)
			os_close(os, &os->sess[i], off);
	os_unpark(os, NULL, NULL, off, false);
}

bool
opensmtpd_min_start(const struct opensmtpd *os, int64_t *off)
{
	uint32_t i;
	bool any = false;

	for (i = 0; i < os->nused && os->nlive > 0; i++)
		if (os->sess[i].live &&
		    (!any || os->sess[i].ev.start_off < *off)) {
			*off = os->sess[i].ev.start_off;
			any = true;
		}
	for (i = 0; i < OS_WAIT_MAX && os->nwait > 0; i++)
		if (os->wait[i].live &&
		    (!any || os->wait[i].ev.start_off < *off)) {
			*off = os->wait[i].ev.start_off;
			any = true;
		}
	return any;
}

struct opensmtpd *
opensmtpd_new(const struct parser_opts *o, struct parser_stats *st,
    opensmtpd_emit_fn *emit, void *arg)
{
	struct opensmtpd *os = xcalloc(1, sizeof(*os));
	uint64_t n = o->max_sessions ? o->max_sessions : OS_SESSIONS_DEFAULT;
	struct tls_event tmp;

	if (n > OS_SESSIONS_MAX)
		n = OS_SESSIONS_MAX;
	os->st = st;
	os->emit = emit;
	os->arg = arg;
	os->idle_us = o->idle_us > 0 ? o->idle_us : OS_IDLE_US;
	ev_init(&tmp);
	ev_setcstr(
	    &tmp, os->host, sizeof(os->host), o->host != NULL ? o->host : "");
	os->nsess = (uint32_t)n;
	/* Large and zero: calloc() maps it untouched (see nused). */
	os->sess = xcalloc(n, sizeof(*os->sess));
	os->free_head = -1;
	for (os->bmask = 1; os->bmask < 2 * n; os->bmask <<= 1)
		;
	os->bucket = xreallocarray(NULL, os->bmask, sizeof(*os->bucket));
	memset(os->bucket, 0xff, os->bmask * sizeof(*os->bucket));
	os->bmask--;
	return os;
}

void
opensmtpd_free(struct opensmtpd *os)
{
	if (os == NULL)
		return;
	free(os->bucket);
	free(os->sess);
	free(os);
}
