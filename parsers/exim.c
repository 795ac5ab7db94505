/*
 * exim.c - Exim main-log lines to TLS session events
 *
 * Input: the message part of Exim's log lines, from its own main log
 * (envelope split by exim_envelope()) or from syslog (tag exim/exim4,
 * whose message may repeat Exim's own timestamp, syslog_timestamp=true).
 * Untrusted: any bytes, not NUL-terminated; every read is a bounded
 * scan_*() cursor and only ev_setstr()/ev_setaddr() copy text out.
 * Sources: MTA-LOGS.md section 3 (line forms, failure lines, correlation)
 * and 8 (RFC 8460 types); Exim's deliver.c (delivery_log(),
 * deferral_log(), failure_log(), d_hostlog(), d_tlslog()), smtp.c
 * (the TLS failure and downgrade lines), tls-openssl.c / tls-gnu.c (the
 * "SSL verify error" lines, which only OpenSSL builds write).
 *
 * Sessions.  Exim writes the TLS facts on the delivery line itself, so
 * one event is one delivery attempt to one host (the log cannot tell
 * connections apart beyond that: a continued connection, "[ip]*", is a
 * second message down the same connection and becomes an event of its
 * own, with messages=1 each):
 *  - "=>" (and ">>", cutthrough) with H=: outbound, status sent;
 *    "->" lines add recipients to the same delivery and add no event.
 *  - "**" with H=: outbound, bounced; "==" with H=: outbound, deferred.
 *    A "==" without H= is a routing or retry deferral (no connection)
 *    and no event, except a DANE error (dnssec-invalid, dane-required),
 *    which RFC 8460 counts although no connection was made.
 *  - "<=" with H=: inbound (submission when authenticated: A= or a P=
 *    with an "a"); without H= it is local (counted internal).
 *  - "TLS error on connection from ...": an inbound connection whose
 *    handshake failed; "no MAIL in SMTP connection from ..." (the
 *    smtp_no_mail selector): an inbound connection that sent nothing.
 *  - "TLS session: (...): ...: delivering unencrypted to H=... (not in
 *    hosts_require_tls)": a connection whose TLS failed; Exim retries in
 *    clear on a new connection, so this is a failed session of its own.
 *    The line names no recipient: the event waits for the message's next
 *    delivery line (=>, ==, **) to learn the domain, at most EX_WAIT_US
 *    of log time, or until "Completed".
 * Reason lines that precede a delivery line of the same message and host
 * ("[ip] SSL verify error: ...", "DANE attempt failed; TLS connection
 * to ...") are kept in a small table keyed by (message id, ip) and joined
 * into that delivery's event; its start offset is theirs.
 *
 * Evidence rules (no evidence is never plaintext):
 *  - tls = "tls": X= on the line (or inbound P= esmtps/smtps/... with an
 *    "s" for TLS).  trust: CV=yes verified, CV=dane verified with policy
 *    tlsa, CV=no untrusted (inbound without DN=: anonymous, a client
 *    that sent no certificate), no CV= null.
 *  - tls = "failed": a downgrade line, "TLS error on connection", or a
 *    "==" / "**" whose text is a TLS failure ("TLS session: ...", "a TLS
 *    session is required, but ...", "DANE error: ...").
 *  - tls = "plaintext": "=>" or "**" with H= and no X= (d_tlslog()
 *    writes X= whenever a cipher was negotiated, tls_cipher selector on
 *    by default), inbound P=esmtp/smtp/esmtpa, "no MAIL" without X=.
 *  - tls = "unknown": a "==" with H= and no TLS text (deferral_log()
 *    never writes X=, so TLS may or may not have been up).
 *  Limit: with "log_selector = -tls_cipher" every delivery looks clear;
 *  that selector is on in every stock configuration.
 *  - result: success with TLS; for failures the first specific reason
 *    line of the attempt (expired, name mismatch, untrusted issuer or
 *    self-signed: MTA-LOGS.md section 8), else the failure text's type,
 *    else validation-failure; null for plaintext and unknown.
 *  - tls_version: Exim's "TLS1.3" is written in OpenSSL's form
 *    "TLSv1.3"; the cipher is kept as logged (GnuTLS builds log GnuTLS
 *    suite names such as ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM).
 *  - Loopback peers (127.0.0.1, ::1: content filters, local relays) are
 *    counted internal, not emitted.
 *
 * Limits: the reason/waiting table has EX_PRE_MAX entries; a full table
 * gives up its oldest entry (counted evicted: a waiting session is
 * emitted without its domain, a reason is dropped).  Entries expire
 * after EX_WAIT_US of log time.  Nothing is allocated per line.
 *
 * Single-threaded; one object per log stream.
 */
#include "parsers/exim.h"

#include <stddef.h>
#include <string.h>

#include "common/xmalloc.h"

#define EX_PRE_MAX 64			    /* reasons and waiting sessions */
#define EX_WAIT_US (INT64_C(300) * 1000000) /* log time they may wait */
#define EX_QID_MAX 23			    /* 4.97+ ids are 23 characters */
#define EX_FIELD_MAX 4096		    /* longest field scanned */
#define EX_HELO_MAX 255

/* The masks of struct exim have one bit per entry. */
_Static_assert(EX_PRE_MAX == 64, "EX_PRE_MAX must be 64");
#define EX_BIT(i) (UINT64_C(1) << (i))

/* A line's flag (MTA-LOGS.md 3.1). */
enum ex_flag {
	EX_ARRIVAL = 1, /* <= */
	EX_DELIVERY,	/* => and >> */
	EX_ADDITIONAL,	/* -> */
	EX_BOUNCE,	/* ** */
	EX_DEFER	/* == */
};

/* A host as Exim writes it: "name (helo) [ip]:port*". */
struct ex_peer {
	struct span name, helo, ip;
	uint16_t port;
	bool cont; /* "*": a continued connection */
};

/* What the fields of one delivery/arrival line say. */
struct ex_fields {
	bool has_host, has_x, has_cv, has_p, has_a, has_i;
	bool connfail; /* "==": connect() failed, no SMTP session */
	struct ex_peer host, iface;
	struct span x, cv, dn, p;
	struct span text; /* after the first ": ": the error message */
};

/*
 * A reason line or a session waiting for its delivery line.  Whether an
 * entry is in use, and whether it is a session (ev is a finished failed
 * session waiting for a domain), are bits of struct exim's masks.
 */
struct ex_pre {
	uint8_t qid_len;
	char qid[EX_QID_MAX + 1];
	char ip[EV_ADDR_MAX + 1];
	int64_t off, t_us;
	enum ev_result cand;
	enum ev_policy policy;
	char reason[EV_REASON_MAX + 1];
	struct tls_event ev;
};

struct exim {
	struct parser_stats *st;
	exim_emit_fn *emit;
	void *arg;
	char host[EV_HOST_MAX + 1]; /* opts.host */
	size_t host_len;
	int64_t now_us;
	uint32_t npre;
	/*
	 * Bit i of pre_live: pre[i] is in use; of pre_sess: it is a waiting
	 * session.  Lookups run over the set bits only, in index order.
	 */
	uint64_t pre_live, pre_sess;
	int64_t pre_oldest; /* at most the t_us of every entry in use */
	struct ex_pre pre[EX_PRE_MAX];
	struct tls_event tmp; /* the event being built */
};

/* One line being handled. */
struct ex_line {
	const struct syslog_msg *m;
	int64_t off;
	const char *s, *end;
	struct span qid;
};

/* ------------------------------------------------------------------ */
/* Small readers. */

/* n alphanumerics. */
static bool
ex_alnums(const char *p, const char *end, size_t n)
{
	size_t i;

	if ((size_t)(end - p) < n)
		return false;
	for (i = 0; i < n; i++)
		if (!scan_isalnum(p[i]))
			return false;
	return true;
}

/*
 * A message id and the space after it: "1hpltZ-00ECG0-Rv" (6-6-2, before
 * 4.97) or "1wtYVW-0000000GFxD-3Ryp" (6-11-4, 4.97+).
 */
static int
ex_qid(const char **s, const char *end, struct span *qid)
{
	const char *p = *s;
	size_t mid, tail;

	/* The run of alphanumerics between the dashes is 6 or 11 long. */
	if (end - p < 17 || p[6] != '-' || !ex_alnums(p, end, 6) ||
	    !ex_alnums(p + 7, end, 6))
		return -1;
	if (p[13] == '-')
		mid = 6;
	else if (ex_alnums(p + 13, end, 5) && p + 18 < end && p[18] == '-')
		mid = 11;
	else
		return -1;
	p += 8 + mid;
	for (tail = 0; p + tail < end && tail < 5 && scan_isalnum(p[tail]);
	     tail++)
		;
	if ((tail != 2 && tail != 4) || p + tail >= end || p[tail] != ' ')
		return -1;
	qid->p = *s;
	qid->len = (size_t)(p + tail - *s);
	*s = p + tail + 1;
	return 0;
}

static bool
ex_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
ex_days(int y, int mon, int day)
{
	int64_t era, yoe, doy, doe, yy = y - (mon <= 2);

	era = (yy >= 0 ? yy : yy - 399) / 400;
	yoe = yy - era * 400;
	doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * Exim's own timestamp: "2026-11-22 10:00:01", then ".123" (millisec
 * selector) and " +0100" (log_timezone), then a space.  Local time
 * without a zone.  *us is UTC; the cursor ends after the space.
 */
static int
ex_time(struct syslog_clock *c, const char **s, const char *end, int64_t *us)
{
	const char *p = *s;
	unsigned y, mon, day, h, mi, sec, ms = 0, oh, om;
	int64_t t;
	int sign;

	/*
	 * Most lines share their second with the line before: then only
	 * the ".123" and the space after need reading.  A zone offset needs
	 * the fields, so it takes the long way.
	 */
	if (end - p >= 20 && p[10] == ' ' && syslog_stamp_get(c, p, 19, &t)) {
		const char *q = p + 19;

		if (*q == '.') {
			if (end - q < 4 || !ex_digit(q[1]) || !ex_digit(q[2]) ||
			    !ex_digit(q[3]))
				return -1;
			ms = (unsigned)(q[1] - '0') * 100 +
			     (unsigned)(q[2] - '0') * 10 +
			     (unsigned)(q[3] - '0');
			q += 4;
		}
		if (!(end - q >= 6 && q[0] == ' ' &&
			(q[1] == '+' || q[1] == '-') && ex_digit(q[2]))) {
			if (q >= end || *q != ' ')
				return -1;
			*us = t * 1000000 + (int64_t)ms * 1000;
			*s = q + 1;
			return 0;
		}
		ms = 0; /* a zone offset: read the fields below */
	}
	if (scan_digits(&p, end, 4, &y) == -1 || scan_lit(&p, end, "-") == -1 ||
	    scan_digits(&p, end, 2, &mon) == -1 ||
	    scan_lit(&p, end, "-") == -1 ||
	    scan_digits(&p, end, 2, &day) == -1 ||
	    scan_lit(&p, end, " ") == -1 || scan_digits(&p, end, 2, &h) == -1 ||
	    scan_lit(&p, end, ":") == -1 ||
	    scan_digits(&p, end, 2, &mi) == -1 ||
	    scan_lit(&p, end, ":") == -1 || scan_digits(&p, end, 2, &sec) == -1)
		return -1;
	if (p < end && *p == '.' && scan_lit(&p, end, ".") == 0 &&
	    scan_digits(&p, end, 3, &ms) == -1)
		return -1;
	if (syslog_local_to_utc(c, (int)y, (int)mon, (int)day, (int)h, (int)mi,
		(int)sec, &t) == -1)
		return -1;
	syslog_stamp_put(c, *s, 19, t);
	/* " +0100": the zone is explicit, local time does not apply. */
	if (end - p >= 6 && p[0] == ' ' && (p[1] == '+' || p[1] == '-') &&
	    ex_digit(p[2])) {
		sign = p[1] == '+' ? 1 : -1;
		p += 2;
		if (scan_digits(&p, end, 2, &oh) == -1 ||
		    scan_digits(&p, end, 2, &om) == -1 || oh > 23 || om > 59)
			return -1;
		t = ex_days((int)y, (int)mon, (int)day) * 86400 +
		    (int64_t)h * 3600 + (int64_t)mi * 60 + sec -
		    sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
		if (t < 0)
			return -1;
	}
	if (scan_lit(&p, end, " ") == -1)
		return -1;
	*us = t * 1000000 + (int64_t)ms * 1000;
	*s = p;
	return 0;
}

/*
 * Skip "2026-11-22 10:00:01[.123][ +0100] " at the start of a syslog
 * message (syslog_timestamp=true repeats Exim's own stamp); the syslog
 * envelope's time is used instead.
 */
static void
ex_skip_time(const char **s, const char *end)
{
	static const char pat[] = "dddd-dd-dd dd:dd:dd";
	const char *p = *s;
	size_t i;

	if ((size_t)(end - p) < sizeof(pat))
		return;
	for (i = 0; i < sizeof(pat) - 1; i++)
		if (pat[i] == 'd' ? !ex_digit(p[i]) : p[i] != pat[i])
			return;
	p += sizeof(pat) - 1;
	if (end - p >= 4 && p[0] == '.' && ex_digit(p[1]) && ex_digit(p[2]) &&
	    ex_digit(p[3]))
		p += 4;
	if (end - p >= 6 && p[0] == ' ' && (p[1] == '+' || p[1] == '-') &&
	    ex_digit(p[2]) && ex_digit(p[3]) && ex_digit(p[4]) &&
	    ex_digit(p[5]))
		p += 6;
	if (p < end && *p == ' ')
		*s = p + 1;
}

/* "[1247276] " (the +pid selector). */
static void
ex_pid(const char **s, const char *end, uint32_t *pid)
{
	const char *p = *s;
	uint64_t v;

	if (p >= end || *p != '[')
		return; /* the common case: no +pid selector */
	if (scan_lit(&p, end, "[") == 0 &&
	    scan_uint(&p, end, UINT32_MAX, &v) == 0 &&
	    scan_lit(&p, end, "] ") == 0) {
		*pid = (uint32_t)v;
		*s = p;
	}
}

bool
exim_envelope(
    struct syslog_clock *c, const char *line, size_t len, struct syslog_msg *m)
{
	static const char tag[] = "exim";
	const char *p = line, *end = line + len;

	if (ex_time(c, &p, end, &m->ts_us) == -1)
		return false;
	m->pid = 0;
	ex_pid(&p, end, &m->pid);
	m->host.p = line;
	m->host.len = 0;
	m->tag.p = m->instance.p = tag;
	m->tag.len = m->instance.len = sizeof(tag) - 1;
	m->daemon.p = tag + sizeof(tag) - 1;
	m->daemon.len = 0;
	m->msg.p = p;
	m->msg.len = (size_t)(end - p);
	return true;
}

/*
 * A host: "name [ip]", "name (helo) [ip]:port", "(helo) [ip]:port",
 * "[ip]", with an optional "*" after the address (continued connection)
 * and, inbound, an optional " U=ident" that the caller skips as a field.
 * A local transport's H= has a name only.
 */
static int
ex_peer(const char **s, const char *end, struct ex_peer *pp)
{
	const char *p = *s;
	uint64_t port;

	memset(pp, 0, sizeof(*pp));
	if (p < end && *p != '[' && *p != '(') {
		if (scan_word(&p, end, EV_HOST_MAX, &pp->name) == -1)
			return -1;
		if (end - p < 2 || p[0] != ' ' ||
		    (p[1] != '[' && p[1] != '(')) {
			*s = p; /* a name alone */
			return 0;
		}
		p++;
	}
	if (p < end && *p == '(') {
		p++;
		if (scan_until(&p, end, ')', EX_HELO_MAX, &pp->helo) == -1 ||
		    p >= end || *p++ != ' ')
			return -1;
	}
	if (p >= end || *p++ != '[' ||
	    scan_until(&p, end, ']', EV_ADDR_MAX, &pp->ip) == -1)
		return -1;
	if (p < end && *p == ':' && p + 1 < end && ex_digit(p[1])) {
		p++;
		if (scan_uint(&p, end, 65535, &port) == -1)
			return -1;
		pp->port = (uint16_t)port;
	}
	if (p < end && *p == '*') {
		pp->cont = true;
		p++;
	}
	*s = p;
	return 0;
}

/* A quoted value "..." with \" and \\ escapes; the span keeps them. */
static int
ex_quoted(const char **s, const char *end, struct span *v)
{
	const char *p = *s;

	if (p >= end || *p != '"')
		return -1;
	for (p++; p < end && *p != '"'; p++)
		if (*p == '\\' && p + 1 < end)
			p++;
	if (p >= end)
		return -1;
	v->p = *s + 1;
	v->len = (size_t)(p - v->p);
	*s = p + 1;
	return 0;
}

/* scan_spaces() inline: once per field. */
static void
ex_spaces(const char **s, const char *end)
{
	const char *p = *s;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*s = p;
}

/*
 * scan_word(s, end, EX_FIELD_MAX, tok) through memchr(): the fields are
 * most of every line, and long ones (X=, id=, C="...") are common.
 */
static int
ex_word(const char **s, const char *end, struct span *tok)
{
	size_t avail = (size_t)(end - *s);
	const char *q;

	q = memchr(
	    *s, ' ', avail < EX_FIELD_MAX + 1 ? avail : EX_FIELD_MAX + 1);
	if (q == NULL) {
		if (avail > EX_FIELD_MAX)
			return -1;
		q = end;
	}
	if (q == *s)
		return -1;
	tok->p = *s;
	tok->len = (size_t)(q - *s);
	*s = q;
	return 0;
}

/* A field name "X" or "CV" followed by "=": its length, else 0. */
static size_t
ex_key(const char *p, const char *end)
{
	size_t n = 0;

	while (p + n < end && n < 8 && scan_isalnum(p[n]))
		n++;
	return n > 0 && p + n < end && p[n] == '=' ? n : 0;
}

/*
 * The fields after the address part, "R=r T=t H=... X=... CV=yes
 * C=\"...\"", up to the end or to the first token that ends in ':' (the
 * error text of "**" and "==" lines, which may quote the remote server
 * and so is never scanned for fields).  Bare tokens (K, L, PRDR, DS,
 * "defer", "(-44)") are skipped.
 */
static int
ex_fields(const char *p, const char *end, struct ex_fields *f)
{
	struct span v, tok;
	size_t k;

	/*
	 * Not memset(): this runs for most lines and the struct is large.
	 * host and iface are read only when has_host and has_i say so.
	 */
	f->has_host = f->has_x = f->has_cv = f->has_p = f->has_a = false;
	f->has_i = f->connfail = false;
	f->x.p = f->cv.p = f->dn.p = f->p.p = f->text.p = NULL;
	f->x.len = f->cv.len = f->dn.len = f->p.len = f->text.len = 0;
	for (;;) {
		ex_spaces(&p, end);
		if (p >= end)
			return 0;
		if (*p == ':') { /* "H=mx [ip]: text" */
			p++;
			ex_spaces(&p, end);
			f->text.p = p;
			f->text.len = (size_t)(end - p);
			return 0;
		}
		k = ex_key(p, end);
		if (k == 1 && (*p == 'H' || *p == 'I')) {
			const char *q = p + 2;
			struct ex_peer *pp = *p == 'H' ? &f->host : &f->iface;

			if (ex_peer(&q, end, pp) == -1)
				return -1;
			if (*p == 'H')
				f->has_host = true;
			else
				f->has_i = true;
			p = q;
			continue;
		}
		if (k > 0 && p + k + 1 < end && p[k + 1] == '"') {
			const char *q = p + k + 1;

			if (ex_quoted(&q, end, &v) == -1)
				return -1;
			if (k == 2 && memcmp(p, "DN", 2) == 0)
				f->dn = v;
			p = q;
			continue;
		}
		if (ex_word(&p, end, &tok) == -1)
			return -1;
		if (tok.p[tok.len - 1] == ':') {
			/* "T=remote_smtp:" or "(-44):": the text follows. */
			tok.len--;
			ex_spaces(&p, end);
			f->text.p = p;
			f->text.len = (size_t)(end - p);
			end = p; /* nothing after is a field */
		}
		if (k == 0)
			continue;
		v.p = tok.p + k + 1;
		v.len = tok.len > k + 1 ? tok.len - k - 1 : 0;
		if (k == 1 && tok.p[0] == 'X') {
			f->x = v;
			f->has_x = v.len > 0;
		} else if (k == 2 && memcmp(tok.p, "CV", 2) == 0) {
			f->cv = v;
			f->has_cv = true;
		} else if (k == 1 && tok.p[0] == 'P') {
			f->p = v;
			f->has_p = true;
		} else if (k == 1 && tok.p[0] == 'A')
			f->has_a = true;
	}
}

/* ------------------------------------------------------------------ */
/* What a failure text means (MTA-LOGS.md section 8). */

/* The verify error texts of OpenSSL and GnuTLS. */
static enum ev_result
ex_verify_result(const char *p, const char *end)
{
	if (scan_find(p, end, "name mismatch") != NULL ||
	    scan_find(p, end, "does not match") != NULL)
		return EV_RES_CERT_HOST_MISMATCH;
	if (scan_find(p, end, "certificate has expired") != NULL ||
	    scan_find(p, end, "certificate has been expired") != NULL ||
	    scan_find(p, end, "The certificate has expired") != NULL)
		return EV_RES_CERT_EXPIRED;
	if (scan_find(p, end, "self signed") != NULL ||
	    scan_find(p, end, "self-signed") != NULL ||
	    scan_find(p, end, "unable to get local issuer") != NULL ||
	    scan_find(p, end, "unable to verify the first") != NULL ||
	    scan_find(p, end, "unable to get issuer") != NULL ||
	    scan_find(p, end, "issuer is unknown") != NULL ||
	    scan_find(p, end, "signer not found") != NULL ||
	    scan_find(p, end, "not trusted") != NULL)
		return EV_RES_CERT_NOT_TRUSTED;
	return EV_RES_NONE;
}

/*
 * A "==" or "**" text that says TLS failed: its RFC 8460 type (and
 * policy), or EV_RES_NONE when the text is not about TLS.
 */
static enum ev_result
ex_fail_text(const char *p, const char *end, enum ev_policy *pol)
{
	enum ev_result r;

	*pol = EV_POL_UNKNOWN;
	if (scan_find(p, end, "DANE error:") != NULL ||
	    scan_find(p, end, "DANE attempt failed") != NULL) {
		*pol = EV_POL_TLSA;
		if (scan_find(p, end, "not DNSSEC") != NULL ||
		    scan_find(p, end, "no TLSA") != NULL)
			return EV_RES_DANE_REQUIRED;
		if (scan_find(p, end, "lookup") != NULL)
			return EV_RES_DNSSEC_INVALID;
		return EV_RES_TLSA_INVALID;
	}
	if (scan_find(p, end, "a TLS session is required") != NULL) {
		if (scan_find(p, end, "did not offer TLS") != NULL ||
		    scan_find(p, end, "not offer TLS") != NULL)
			return EV_RES_STARTTLS_NOT_SUPPORTED;
		return EV_RES_VALIDATION_FAILURE;
	}
	if (scan_find(p, end, "TLS session: ") != NULL ||
	    scan_find(p, end, "TLS session:(") != NULL) {
		r = ex_verify_result(p, end);
		return r != EV_RES_NONE ? r : EV_RES_VALIDATION_FAILURE;
	}
	if (scan_find(p, end, "STARTTLS") != NULL &&
	    (scan_find(p, end, "after STARTTLS") != NULL ||
		scan_find(p, end, "STARTTLS rejected") != NULL))
		return EV_RES_STARTTLS_NOT_SUPPORTED;
	return EV_RES_NONE;
}

/* ------------------------------------------------------------------ */
/* Building events. */

/* The domain of "user@Domain" (or of "<user@domain>"), lower-cased. */
static void
ex_domain(struct tls_event *ev, const struct span *addr)
{
	const char *q = addr->p + addr->len, *e = q;
	struct span d;

	if (e > addr->p && e[-1] == '>')
		e--, q--;
	while (q > addr->p && q[-1] != '@')
		q--;
	if (q == addr->p || q == e)
		return;
	d.p = q;
	d.len = (size_t)(e - q);
	ev_setdomain(ev, ev->domain, sizeof(ev->domain), &d);
	ev_lowerhost(ev->domain);
}

/* Inbound without a sender domain: the client host's last two labels. */
static void
ex_host_domain(struct tls_event *ev)
{
	const char *dot, *dot2;

	if (ev->domain[0] != '\0' || ev->peer_host[0] == '\0' ||
	    (dot = strrchr(ev->peer_host, '.')) == NULL || dot[1] == '\0')
		return;
	for (dot2 = dot; dot2 > ev->peer_host && dot2[-1] != '.'; dot2--)
		;
	ev_setcstr(ev, ev->domain, sizeof(ev->domain), dot2);
}

static void
ex_start(struct exim *ex, const struct ex_line *L, enum ev_dir dir)
{
	struct tls_event *ev = &ex->tmp;

	ev_init(ev);
	ev->source = EV_SRC_EXIM;
	ev->dir = dir;
	ev->ts_us = L->m->ts_us;
	ev->start_off = L->off;
	ev->end_off = L->off;
	if (L->m->host.len > 0)
		ev_setstr(ev, ev->host, sizeof(ev->host), &L->m->host);
	else {
		struct span h = {ex->host, ex->host_len};

		ev_setstr(ev, ev->host, sizeof(ev->host), &h);
	}
	/* ev_addqid() on an empty list: a message id always fits. */
	if (L->qid.len > 0)
		ev_setstr(ev, ev->queue_ids, sizeof(ev->queue_ids), &L->qid);
}

/* The peer into the event; -1 when its address is not an IP literal. */
static int
ex_set_peer(struct tls_event *ev, const struct ex_peer *pp)
{
	if (pp->ip.len > 0 && ev_setaddr(ev, ev->peer_ip, &pp->ip) == -1)
		return -1;
	if (pp->name.len > 0) {
		ev_setstr(ev, ev->peer_host, sizeof(ev->peer_host), &pp->name);
		ev_lowerhost(ev->peer_host);
	}
	if (pp->helo.len > 0)
		ev_setstr(ev, ev->peer_helo, sizeof(ev->peer_helo), &pp->helo);
	ev->peer_port = pp->port;
	return 0;
}

/*
 * X=TLS1.3:TLS_AES_256_GCM_SHA384:256[:X25519][*] into version, cipher
 * and bits.  "TLS1.3" is written "TLSv1.3" (OpenSSL's form); up to 4.93
 * OpenSSL builds already logged "TLSv1.2".
 */
static void
ex_set_x(struct tls_event *ev, const struct span *x)
{
	const char *p = x->p, *end = x->p + x->len;
	struct span ver, cipher;
	uint64_t bits;
	char vbuf[EV_TLSVER_MAX + 1];

	ev->tls = EV_TLS_OK;
	if (scan_until(&p, end, ':', EV_TLSVER_MAX, &ver) == -1)
		return;
	if (ver.len >= 4 && memcmp(ver.p, "TLS", 3) == 0 &&
	    ex_digit(ver.p[3]) && ver.len + 1 <= EV_TLSVER_MAX) {
		memcpy(vbuf, "TLSv", 4);
		memcpy(vbuf + 4, ver.p + 3, ver.len - 3);
		vbuf[ver.len + 1] = '\0';
		ev_setcstr(ev, ev->tls_version, sizeof(ev->tls_version), vbuf);
	} else
		ev_setstr(ev, ev->tls_version, sizeof(ev->tls_version), &ver);
	if (scan_until(&p, end, ':', EX_FIELD_MAX, &cipher) == -1) {
		cipher.p = p;
		cipher.len = (size_t)(end - p);
		p = end;
	}
	if (cipher.len > 0 && cipher.p[cipher.len - 1] == '*')
		cipher.len--; /* a resumed session */
	ev_setstr(ev, ev->cipher, sizeof(ev->cipher), &cipher);
	if (scan_uint(&p, end, 65535, &bits) == 0)
		ev->cipher_bits = (uint16_t)bits;
}

static void
ex_set_cv(struct tls_event *ev, const struct ex_fields *f)
{
	if (!f->has_cv)
		return;
	if (span_eq(&f->cv, "yes"))
		ev->trust = EV_TRUST_VERIFIED;
	else if (span_eq(&f->cv, "dane")) {
		ev->trust = EV_TRUST_VERIFIED;
		ev->policy = EV_POL_TLSA;
	} else if (span_eq(&f->cv, "no"))
		/*
		 * Inbound, Exim 4.96 logs CV=no also for a client that sent
		 * no certificate at all: without DN= it is anonymous.
		 */
		ev->trust = ev->dir != EV_DIR_OUT && f->dn.len == 0
				? EV_TRUST_ANONYMOUS
				: EV_TRUST_UNTRUSTED;
}

static void
ex_reason(struct tls_event *ev, const char *p, const char *end)
{
	struct span r = {p, (size_t)(end - p)};

	if (ev->reason[0] == '\0' && r.len > 0)
		ev_setstr(ev, ev->reason, sizeof(ev->reason), &r);
}

static void
ex_emit(struct exim *ex, struct tls_event *ev)
{
	if (ev->peer_ip[0] != '\0' && ev_is_loopback(ev->peer_ip)) {
		ex->st->internal++;
		return;
	}
	ex->emit(ex->arg, ev);
}

/* ------------------------------------------------------------------ */
/* Reasons and waiting sessions. */

/* The entry leaves the table (a waiting session is not emitted). */
static void
ex_pre_free(struct exim *ex, const struct ex_pre *e)
{
	uint64_t bit = EX_BIT(e - ex->pre);

	ex->pre_live &= ~bit;
	ex->pre_sess &= ~bit;
	ex->npre--;
}

static void
ex_pre_drop(struct exim *ex, struct ex_pre *e, int64_t off)
{
	if (ex->pre_sess & EX_BIT(e - ex->pre)) {
		e->ev.end_off = off;
		ex_emit(ex, &e->ev);
	}
	ex_pre_free(ex, e);
}

static struct ex_pre *
ex_pre_find(
    struct exim *ex, const struct span *qid, const char *ip, bool session)
{
	uint64_t m = session ? ex->pre_sess : ex->pre_live & ~ex->pre_sess;

	for (; m != 0; m &= m - 1) {
		struct ex_pre *e = &ex->pre[__builtin_ctzll(m)];

		if (e->qid_len == qid->len &&
		    memcmp(e->qid, qid->p, qid->len) == 0 &&
		    (ip == NULL || strcmp(e->ip, ip) == 0))
			return e;
	}
	return NULL;
}

/* A free entry; a full table gives up its oldest (counted evicted). */
static struct ex_pre *
ex_pre_new(struct exim *ex, const struct ex_line *L, const char *ip)
{
	struct ex_pre *e, *old = NULL;
	uint32_t i;

	if (~ex->pre_live != 0)
		e = &ex->pre[__builtin_ctzll(~ex->pre_live)];
	else {
		for (i = 0; i < EX_PRE_MAX; i++)
			if (old == NULL || ex->pre[i].off < old->off)
				old = &ex->pre[i];
		ex->st->evicted++;
		ex_pre_drop(ex, old, L->off);
		e = old;
	}
	memset(e, 0, offsetof(struct ex_pre, ev));
	if (ex->npre == 0 || L->m->ts_us < ex->pre_oldest)
		ex->pre_oldest = L->m->ts_us;
	ex->pre_live |= EX_BIT(e - ex->pre);
	ex->npre++;
	memcpy(e->qid, L->qid.p, L->qid.len);
	e->qid_len = (uint8_t)L->qid.len;
	ev_setcstr(&ex->tmp, e->ip, sizeof(e->ip), ip);
	e->off = L->off;
	e->t_us = L->m->ts_us;
	return e;
}

/* Entries older than EX_WAIT_US of log time. */
static void
ex_expire(struct exim *ex, int64_t off)
{
	uint64_t m;
	int64_t oldest;
	unsigned i;

	/* Nothing can have expired while the oldest entry has not. */
	if (ex->npre == 0 || ex->now_us - ex->pre_oldest <= EX_WAIT_US)
		return;
	oldest = ex->now_us;
	for (m = ex->pre_live; m != 0; m &= m - 1) {
		i = (unsigned)__builtin_ctzll(m);
		if (ex->now_us - ex->pre[i].t_us > EX_WAIT_US) {
			ex->st->expired++;
			ex_pre_drop(ex, &ex->pre[i], off);
		} else if (ex->pre[i].t_us < oldest)
			oldest = ex->pre[i].t_us;
	}
	ex->pre_oldest = oldest;
}

/*
 * A delivery line of message qid: the failed sessions that waited for a
 * recipient get its domain and go out first (they happened before).
 */
static void
ex_release(struct exim *ex, const struct ex_line *L, const char *domain)
{
	struct ex_pre *e;

	while ((e = ex_pre_find(ex, &L->qid, NULL, true)) != NULL) {
		if (e->ev.domain[0] == '\0')
			ev_setcstr(
			    &e->ev, e->ev.domain, sizeof(e->ev.domain), domain);
		ex_pre_drop(ex, e, L->off);
	}
}

/* Join a reason line of (qid, ip) into the event being built. */
static void
ex_join_reason(struct exim *ex, const struct ex_line *L, bool failed)
{
	struct tls_event *ev = &ex->tmp;
	struct ex_pre *e;

	if ((e = ex_pre_find(ex, &L->qid, ev->peer_ip, false)) == NULL)
		return;
	ev->start_off = e->off;
	ev->ts_us = e->t_us;
	if (failed) {
		if (e->cand != EV_RES_NONE)
			ev->result = e->cand;
		if (e->policy != EV_POL_UNKNOWN)
			ev->policy = e->policy;
		if (e->reason[0] != '\0')
			ev_setcstr(
			    ev, ev->reason, sizeof(ev->reason), e->reason);
	}
	ex_pre_free(ex, e);
}

/* ------------------------------------------------------------------ */
/* Line handlers. */

/*
 * Outbound "=>", "**", "==" after "QID FLAG ":
 *   1wtYVW-0000000GFxD-3Ryp => logs@myip.gr R=dkim_lookuphost
 *     T=dkim_remote_smtp H=mymail.myip.gr [84.54.49.25]
 *     X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C="250 2.0.0 Ok"
 *   1hpltZ-00ECG0-Rv == a@b.example R=dnslookup T=remote_smtp defer (-44)
 *     H=mx.b.example [192.0.2.1]: SMTP error from remote mail server ...
 */
static enum parse_rc
ex_outbound(
    struct exim *ex, const struct ex_line *L, enum ex_flag flag, const char *s)
{
	const char *end = L->end, *h;
	struct tls_event *ev = &ex->tmp;
	struct span addr, top = {NULL, 0};
	struct ex_fields f;
	enum ev_policy pol = EV_POL_UNKNOWN;
	enum ev_result fres = EV_RES_NONE;
	const char *q;

	if (ex_word(&s, end, &addr) == -1)
		return PARSE_MALFORMED;
	q = s;
	(void)scan_spaces(&q, end);
	if (q < end && *q == '<' && ex_word(&q, end, &top) == 0)
		s = q;
	if (ex_fields(s, end, &f) == -1)
		return PARSE_MALFORMED;
	/*
	 * deferral_log() writes "defer (N): strerror H=..." where strerror
	 * may hold spaces: the field scan stopped at "(N):", so look for the
	 * host in the text that follows.
	 */
	if (flag == EX_DEFER && !f.has_host && f.text.len > 0 &&
	    (h = scan_find(f.text.p, f.text.p + f.text.len, " H=")) != NULL) {
		struct ex_fields g;

		if (ex_fields(h + 1, end, &g) == -1)
			return PARSE_MALFORMED;
		/* "(111): Connection refused H=...": connect() failed. */
		f.connfail =
		    scan_find(f.text.p, h, "Connection refused") != NULL ||
		    scan_find(f.text.p, h, "No route to host") != NULL ||
		    scan_find(f.text.p, h, "Network is unreachable") != NULL;
		f.has_host = g.has_host;
		if (g.has_host)
			f.host = g.host;
		f.text = g.text;
	}
	if (f.text.len > 0)
		fres = ex_fail_text(f.text.p, f.text.p + f.text.len, &pol);
	/* The TCP connection itself failed: no SMTP session. */
	if (flag == EX_DEFER && fres == EV_RES_NONE && f.connfail)
		return PARSE_NONE;
	if (!f.has_host || f.host.ip.len == 0) {
		/* No connection: only a DANE error is an RFC 8460 fact. */
		if (fres == EV_RES_NONE || pol != EV_POL_TLSA)
			return PARSE_NONE;
	}
	ex_start(ex, L, EV_DIR_OUT);
	if (f.has_host && f.host.ip.len > 0 && ex_set_peer(ev, &f.host) == -1)
		return PARSE_MALFORMED;
	if (f.has_i && f.iface.ip.len > 0) {
		if (ev_setaddr(ev, ev->local_ip, &f.iface.ip) == -1)
			return PARSE_MALFORMED;
		ev->local_port = f.iface.port;
	}
	ex_domain(ev, memchr(addr.p, '@', addr.len) != NULL || top.len == 0
			  ? &addr
			  : &top);
	ex_release(ex, L, ev->domain);
	if (f.has_x) {
		ex_set_x(ev, &f.x);
		ex_set_cv(ev, &f);
		ex_join_reason(ex, L, false);
		ev->result = EV_RES_SUCCESS;
	} else if (fres != EV_RES_NONE) {
		ev->tls = EV_TLS_FAILED;
		ev->result = fres;
		ev->policy = pol;
		ex_join_reason(ex, L, true);
		ex_reason(ev, f.text.p, f.text.p + f.text.len);
	} else if (flag == EX_DEFER)
		ev->tls = EV_TLS_UNKNOWN; /* deferral_log() has no X= */
	else
		ev->tls = EV_TLS_PLAIN;
	switch (flag) {
	case EX_DELIVERY:
		ev->status = EV_ST_SENT;
		ev->messages = 1;
		break;
	case EX_BOUNCE:
		ev->status = EV_ST_BOUNCED;
		break;
	default:
		ev->status = EV_ST_DEFERRED;
		break;
	}
	ev->end_off = L->off;
	ex_emit(ex, ev);
	return PARSE_EVENT;
}

/* Inbound P= values: TLS when it names one (RFC 3848 with Exim's own). */
static enum ev_tls
ex_proto_tls(const struct span *p, bool *auth)
{
	struct span v = *p;

	*auth = false;
	if (span_startswith(&v, "utf8")) {
		v.p += 4;
		v.len -= 4;
	}
	if (span_eq(&v, "esmtps") || span_eq(&v, "smtps") ||
	    span_eq(&v, "ssmtp") || span_eq(&v, "essmtp"))
		return EV_TLS_OK;
	if (span_eq(&v, "esmtpsa") || span_eq(&v, "essmtpa") ||
	    span_eq(&v, "smtpsa")) {
		*auth = true;
		return EV_TLS_OK;
	}
	if (span_eq(&v, "esmtp") || span_eq(&v, "smtp"))
		return EV_TLS_PLAIN;
	if (span_eq(&v, "esmtpa") || span_eq(&v, "smtpa")) {
		*auth = true;
		return EV_TLS_PLAIN;
	}
	return EV_TLS_UNKNOWN;
}

/*
 * "<=" after "QID ":
 *   1hpltZ-00ECG0-Rv <= llh@arris-group.com H=(DESKTOP2L8P8MT)
 *     [175.139.224.209]:63715 P=esmtpsa
 *     X=TLSv1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no A=dovecot_login:llh
 *     S=13483 id=...
 */
static enum parse_rc
ex_arrival(struct exim *ex, const struct ex_line *L, const char *s)
{
	const char *end = L->end;
	struct tls_event *ev = &ex->tmp;
	struct span sender;
	struct ex_fields f;
	bool auth = false;
	enum ev_tls t = EV_TLS_UNKNOWN;

	if (ex_word(&s, end, &sender) == -1)
		return PARSE_MALFORMED;
	if (ex_fields(s, end, &f) == -1)
		return PARSE_MALFORMED;
	if (!f.has_host || f.host.ip.len == 0) {
		ex->st->internal++; /* P=local, a pipe, -bs: no peer */
		return PARSE_EVENT;
	}
	ex_start(ex, L, EV_DIR_IN);
	if (ex_set_peer(ev, &f.host) == -1)
		return PARSE_MALFORMED;
	if (f.has_i && f.iface.ip.len > 0) {
		if (ev_setaddr(ev, ev->local_ip, &f.iface.ip) == -1)
			return PARSE_MALFORMED;
		ev->local_port = f.iface.port;
	}
	if (f.has_p)
		t = ex_proto_tls(&f.p, &auth);
	if (auth || f.has_a)
		ev->dir = EV_DIR_SUBMISSION;
	if (f.has_x) {
		ex_set_x(ev, &f.x);
		ex_set_cv(ev, &f);
	} else
		ev->tls = t;
	ev->result = ev->tls == EV_TLS_OK ? EV_RES_SUCCESS : EV_RES_NONE;
	ex_domain(ev, &sender);
	ex_host_domain(ev);
	ev->messages = 1;
	ex_emit(ex, ev);
	return PARSE_EVENT;
}

/*
 * "QID [ip] SSL verify error: depth=0 error=certificate has expired
 *  cert=/CN=mx.example"
 * "QID [ip] SSL verify error: certificate name mismatch: DN=\"/CN=x\"
 *  H=\"mx.example\""
 * OpenSSL builds only; kept until the delivery line of (qid, ip).
 */
static enum parse_rc
ex_verify_line(struct exim *ex, const struct ex_line *L, const char *s)
{
	const char *end = L->end;
	struct span ip;
	char ipbuf[EV_ADDR_MAX + 1];
	struct ex_pre *e;
	enum ev_result r;

	if (scan_lit(&s, end, "[") == -1 ||
	    scan_until(&s, end, ']', EV_ADDR_MAX, &ip) == -1 ||
	    scan_lit(&s, end, " SSL verify error: ") == -1)
		return PARSE_NONE;
	ev_init(&ex->tmp);
	if (ev_setaddr(&ex->tmp, ipbuf, &ip) == -1)
		return PARSE_MALFORMED;
	r = ex_verify_result(s, end);
	if ((e = ex_pre_find(ex, &L->qid, ipbuf, false)) == NULL)
		e = ex_pre_new(ex, L, ipbuf);
	/* The first specific error of the chain wins. */
	if (e->cand == EV_RES_NONE && r != EV_RES_NONE) {
		struct span t = {s, (size_t)(end - s)};

		e->cand = r;
		ev_setstr(&ex->tmp, e->reason, sizeof(e->reason), &t);
	}
	return PARSE_EVENT;
}

/*
 * "QID DANE attempt failed; TLS connection to mx.example [192.0.2.1]:
 *  (SSL_connect): error:0A000086:SSL routines::certificate verify failed"
 * The same connection's failure follows on a "==" (or a downgrade) line.
 */
static enum parse_rc
ex_dane_line(struct exim *ex, const struct ex_line *L, const char *s)
{
	const char *end = L->end;
	struct ex_peer pp;
	char ipbuf[EV_ADDR_MAX + 1];
	struct ex_pre *e;
	struct span t;

	if (ex_peer(&s, end, &pp) == -1 || pp.ip.len == 0)
		return PARSE_MALFORMED;
	ev_init(&ex->tmp);
	if (ev_setaddr(&ex->tmp, ipbuf, &pp.ip) == -1)
		return PARSE_MALFORMED;
	if ((e = ex_pre_find(ex, &L->qid, ipbuf, false)) == NULL)
		e = ex_pre_new(ex, L, ipbuf);
	e->cand = EV_RES_TLSA_INVALID;
	e->policy = EV_POL_TLSA;
	if (scan_lit(&s, end, ": ") == 0) {
		t.p = s;
		t.len = (size_t)(end - s);
		ev_setstr(&ex->tmp, e->reason, sizeof(e->reason), &t);
	}
	return PARSE_EVENT;
}

/*
 * "QID TLS session: (SSL_connect): error:0A000086:SSL routines::
 *  certificate verify failed: delivering unencrypted to H=mx.example
 *  [192.0.2.1] (not in hosts_require_tls)"
 * A failed connection; the clear retry is the next delivery line.
 */
static enum parse_rc
ex_downgrade(struct exim *ex, const struct ex_line *L)
{
	const char *s = L->s, *end = L->end, *d;
	struct tls_event *ev = &ex->tmp;
	struct ex_peer pp;
	struct ex_pre *e;
	enum ev_result r;

	if ((d = scan_find(s, end, ": delivering unencrypted to H=")) == NULL)
		return PARSE_NONE;
	s = d + strlen(": delivering unencrypted to H=");
	if (ex_peer(&s, end, &pp) == -1 || pp.ip.len == 0)
		return PARSE_MALFORMED;
	ex_start(ex, L, EV_DIR_OUT);
	if (ex_set_peer(ev, &pp) == -1)
		return PARSE_MALFORMED;
	ev->tls = EV_TLS_FAILED;
	r = ex_verify_result(L->s, d);
	ev->result = r != EV_RES_NONE ? r : EV_RES_VALIDATION_FAILURE;
	ex_join_reason(ex, L, true);
	ex_reason(ev, L->s, d);
	ev->status = EV_ST_NONE;
	e = ex_pre_new(ex, L, ev->peer_ip);
	ex->pre_sess |= EX_BIT(e - ex->pre);
	e->off = ev->start_off;
	e->ev = *ev;
	return PARSE_EVENT;
}

/*
 * Inbound, no message id:
 *   TLS error on connection from mx.example (helo) [192.0.2.1]:4711
 *     (SSL_accept): error:0A000416:SSL routines::sslv3 alert ...
 *   no MAIL in SMTP connection from (helo) [192.0.2.1]:4711 D=0.1s
 *     X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 C=EHLO,STARTTLS,QUIT
 */
static enum parse_rc
ex_inbound_conn(struct exim *ex, const struct ex_line *L, bool tls_error)
{
	const char *s = L->s, *end = L->end;
	struct tls_event *ev = &ex->tmp;
	struct ex_peer pp;
	struct ex_fields f;

	s += tls_error ? strlen("TLS error on connection from ")
		       : strlen("no MAIL in SMTP connection from ");
	if (ex_peer(&s, end, &pp) == -1 || pp.ip.len == 0)
		return PARSE_MALFORMED;
	ex_start(ex, L, EV_DIR_IN);
	if (ex_set_peer(ev, &pp) == -1)
		return PARSE_MALFORMED;
	(void)scan_spaces(&s, end);
	if (tls_error) {
		ev->tls = EV_TLS_FAILED;
		ev->result = EV_RES_VALIDATION_FAILURE;
		ex_reason(ev, s, end);
	} else {
		if (ex_fields(s, end, &f) == -1)
			return PARSE_MALFORMED;
		if (f.has_x) {
			ex_set_x(ev, &f.x);
			ex_set_cv(ev, &f);
			ev->result = EV_RES_SUCCESS;
		} else
			ev->tls = EV_TLS_PLAIN;
	}
	ex_host_domain(ev);
	ex_emit(ex, ev);
	return PARSE_EVENT;
}

/* ------------------------------------------------------------------ */
/* The module interface. */

bool
exim_claims(const struct syslog_msg *m, bool strict)
{
	if (!strict)
		return true;
	return span_eq(&m->tag, "exim") || span_eq(&m->tag, "exim4");
}

enum parse_rc
exim_line(struct exim *ex, const struct syslog_msg *m, int64_t off)
{
	struct ex_line L;
	const char *s = m->msg.p, *end = m->msg.p + m->msg.len;
	uint32_t pid = 0;

	if (m->ts_us > ex->now_us)
		ex->now_us = m->ts_us;
	ex_expire(ex, off);
	/* Through syslog: Exim's own timestamp (and pid) repeated. */
	if (m->daemon.len > 0 || m->host.len > 0 || m->pid > 0)
		ex_skip_time(&s, end);
	ex_pid(&s, end, &pid);
	L.m = m;
	L.off = off;
	L.s = s;
	L.end = end;
	L.qid.p = s;
	L.qid.len = 0;
	if (ex_qid(&s, end, &L.qid) == 0) {
		L.s = s;
		if (end - s >= 3 && s[2] == ' ') {
			if (s[0] == '=' && s[1] == '>')
				return ex_outbound(ex, &L, EX_DELIVERY, s + 3);
			if (s[0] == '>' && s[1] == '>')
				return ex_outbound(ex, &L, EX_DELIVERY, s + 3);
			if (s[0] == '*' && s[1] == '*')
				return ex_outbound(ex, &L, EX_BOUNCE, s + 3);
			if (s[0] == '=' && s[1] == '=')
				return ex_outbound(ex, &L, EX_DEFER, s + 3);
			if (s[0] == '<' && s[1] == '=')
				return ex_arrival(ex, &L, s + 3);
			if (s[0] == '-' && s[1] == '>')
				return PARSE_EVENT; /* same delivery */
		}
		if (s < end && *s == '[')
			return ex_verify_line(ex, &L, s);
		if (scan_lit(&s, end,
			"DANE attempt failed; TLS connection to ") == 0)
			return ex_dane_line(ex, &L, s);
		if (span_startswith(
			&(struct span){s, (size_t)(end - s)}, "TLS session: "))
			return ex_downgrade(ex, &L);
		if (span_eq(
			&(struct span){s, (size_t)(end - s)}, "Completed") &&
		    ex->npre > 0 &&
		    ex_pre_find(ex, &L.qid, NULL, true) != NULL) {
			ex_release(ex, &L, "");
			return PARSE_EVENT;
		}
		return PARSE_NONE;
	}
	if (span_startswith(&(struct span){s, (size_t)(end - s)},
		"TLS error on connection from "))
		return ex_inbound_conn(ex, &L, true);
	if (span_startswith(&(struct span){s, (size_t)(end - s)},
		"no MAIL in SMTP connection from "))
		return ex_inbound_conn(ex, &L, false);
	return PARSE_NONE;
}

void
exim_finish(struct exim *ex, int64_t off)
{
	uint64_t m;

	for (m = ex->pre_live; m != 0; m &= m - 1)
		ex_pre_drop(ex, &ex->pre[__builtin_ctzll(m)], off);
}

bool
exim_min_start(const struct exim *ex, int64_t *off)
{
	uint64_t m;
	bool any = false;

	for (m = ex->pre_live; m != 0; m &= m - 1) {
		const struct ex_pre *e = &ex->pre[__builtin_ctzll(m)];

		if (!any || e->off < *off) {
			*off = e->off;
			any = true;
		}
	}
	return any;
}

struct exim *
exim_new(const struct parser_opts *o, struct parser_stats *st,
    exim_emit_fn *emit, void *arg)
{
	struct exim *ex = xcalloc(1, sizeof(*ex));

	ex->st = st;
	ex->emit = emit;
	ex->arg = arg;
	ev_init(&ex->tmp);
	ev_setcstr(&ex->tmp, ex->host, sizeof(ex->host),
	    o->host != NULL ? o->host : "");
	ex->host_len = strlen(ex->host);
	return ex;
}

void
exim_free(struct exim *ex)
{
	free(ex);
}
