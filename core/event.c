/*
 * event.c - the session event: string tables, bounded setters, JSON form
 *
 * Input: spans from parsers, pointing into untrusted log lines or packets.
 * Everything copied into a record passes ev_setstr() or ev_setaddr().
 * The JSON keys are the contract of DESIGN.md section 2.
 */
#include "core/event.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <idn2.h>

struct tok {
	int v;
	const char *s;
};

/* clang-format off */
static const struct tok source_tok[] = {
	{EV_SRC_POSTFIX, "postfix"}, {EV_SRC_EXIM, "exim"},
	{EV_SRC_SENDMAIL, "sendmail"}, {EV_SRC_OPENSMTPD, "opensmtpd"},
	{EV_SRC_PCAP, "pcap"}, {0, NULL}
};
static const struct tok dir_tok[] = {
	{EV_DIR_OUT, "outbound"}, {EV_DIR_IN, "inbound"},
	{EV_DIR_SUBMISSION, "submission"}, {0, NULL}
};
static const struct tok tls_tok[] = {
	{EV_TLS_UNKNOWN, "unknown"}, {EV_TLS_PLAIN, "plaintext"},
	{EV_TLS_OK, "tls"}, {EV_TLS_FAILED, "failed"}, {0, NULL}
};
static const struct tok trust_tok[] = {
	{EV_TRUST_VERIFIED, "verified"}, {EV_TRUST_TRUSTED, "trusted"},
	{EV_TRUST_UNTRUSTED, "untrusted"}, {EV_TRUST_ANONYMOUS, "anonymous"},
	{0, NULL}
};
static const struct tok result_tok[] = {
	{EV_RES_SUCCESS, "success"},
	{EV_RES_STARTTLS_NOT_SUPPORTED, "starttls-not-supported"},
	{EV_RES_CERT_HOST_MISMATCH, "certificate-host-mismatch"},
	{EV_RES_CERT_EXPIRED, "certificate-expired"},
	{EV_RES_CERT_NOT_TRUSTED, "certificate-not-trusted"},
	{EV_RES_VALIDATION_FAILURE, "validation-failure"},
	{EV_RES_TLSA_INVALID, "tlsa-invalid"},
	{EV_RES_DNSSEC_INVALID, "dnssec-invalid"},
	{EV_RES_DANE_REQUIRED, "dane-required"},
	{EV_RES_STS_POLICY_FETCH_ERROR, "sts-policy-fetch-error"},
	{EV_RES_STS_POLICY_INVALID, "sts-policy-invalid"},
	{EV_RES_STS_WEBPKI_INVALID, "sts-webpki-invalid"},
	{0, NULL}
};
static const struct tok policy_tok[] = {
	{EV_POL_STS, "sts"}, {EV_POL_TLSA, "tlsa"},
	{EV_POL_NONE_FOUND, "no-policy-found"}, {0, NULL}
};
static const struct tok status_tok[] = {
	{EV_ST_SENT, "sent"}, {EV_ST_DEFERRED, "deferred"},
	{EV_ST_BOUNCED, "bounced"}, {0, NULL}
};
/* clang-format on */

static const char *
tok_name(const struct tok *t, int v)
{
	for (; t->s != NULL; t++)
		if (t->v == v)
			return t->s;
	return NULL;
}

static int
tok_lookup(const struct tok *t, const char *s, size_t len)
{
	for (; t->s != NULL; t++)
		if (strlen(t->s) == len && memcmp(t->s, s, len) == 0)
			return t->v;
	return 0;
}

const char *
ev_source_name(enum ev_source v)
{
	return tok_name(source_tok, (int)v);
}

const char *
ev_dir_name(enum ev_dir v)
{
	return tok_name(dir_tok, (int)v);
}

const char *
ev_tls_name(enum ev_tls v)
{
	return tok_name(tls_tok, (int)v);
}

const char *
ev_trust_name(enum ev_trust v)
{
	return tok_name(trust_tok, (int)v);
}

const char *
ev_result_name(enum ev_result v)
{
	return tok_name(result_tok, (int)v);
}

const char *
ev_policy_name(enum ev_policy v)
{
	return tok_name(policy_tok, (int)v);
}

const char *
ev_status_name(enum ev_status v)
{
	return tok_name(status_tok, (int)v);
}

enum ev_result
ev_result_lookup(const char *name, size_t len)
{
	return (enum ev_result)tok_lookup(result_tok, name, len);
}

enum ev_tls
ev_tls_lookup(const char *name, size_t len)
{
	return (enum ev_tls)tok_lookup(tls_tok, name, len);
}

enum ev_dir
ev_dir_lookup(const char *name, size_t len)
{
	return (enum ev_dir)tok_lookup(dir_tok, name, len);
}

void
ev_init(struct tls_event *ev)
{
	/*
	 * The numbers, and each string made empty: every reader stops at
	 * the NUL, and zeroing the whole 2 KB record for each of millions
	 * of sessions costs a parser a tenth of its time.
	 */
	memset(ev, 0, offsetof(struct tls_event, host));
	ev->version = TLS_EVENT_VERSION;
	ev->host[0] = ev->domain[0] = ev->peer_host[0] = ev->peer_helo[0] =
	    '\0';
	ev->peer_ip[0] = ev->local_ip[0] = ev->tls_version[0] = '\0';
	ev->cipher[0] = ev->reason[0] = ev->queue_ids[0] = ev->origin[0] = '\0';
}
_Static_assert(offsetof(struct tls_event, origin) + EV_ORIGIN_MAX + 1 ==
		   sizeof(struct tls_event),
    "a field after origin: ev_init() must empty it");

void
ev_setstr(struct tls_event *ev, char *field, size_t size, const struct span *sp)
{
	size_t i, n = sp->len;

	if (size == 0)
		return;
	if (n > size - 1) {
		n = size - 1;
		ev->flags |= EV_F_TRUNCATED;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)sp->p[i];

		if (c < 0x20 || c >= 0x7f) {
			c = '?';
			ev->flags |= EV_F_SANITIZED;
		}
		field[i] = (char)c;
	}
	field[n] = '\0';
}

void
ev_setdomain(
    struct tls_event *ev, char *field, size_t size, const struct span *sp)
{
	char in[4 * EV_HOST_MAX + 1];
	char *out = NULL;
	size_t i;

	for (i = 0; i < sp->len; i++)
		if ((unsigned char)sp->p[i] >= 0x80)
			break;
	/* ASCII (nearly always): nothing to convert, nothing allocated. */
	if (i == sp->len || sp->len >= sizeof(in)) {
		ev_setstr(ev, field, size, sp);
		return;
	}
	memcpy(in, sp->p, sp->len);
	in[sp->len] = '\0';
	if (idn2_to_ascii_8z(in, &out, IDN2_NONTRANSITIONAL) == IDN2_OK &&
	    strlen(out) < size) {
		ev_setcstr(ev, field, size, out);
		ev_lowerhost(field);
	} else {
		ev_setstr(ev, field, size, sp); /* sanitised, flagged */
	}
	idn2_free(out);
}

void
ev_setcstr(struct tls_event *ev, char *field, size_t size, const char *s)
{
	struct span sp = {s, strlen(s)};

	ev_setstr(ev, field, size, &sp);
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * "a.b.c.d" exactly as glibc's inet_pton(AF_INET) accepts it (four
 * decimal octets of at most 255, no leading zero, nothing else), which
 * is also what inet_ntop() would print: such a quad is copied as it is,
 * skipping inet_ntop()'s sprintf(), a tenth of a parser's time when
 * every line carries an address.
 */
static bool
canonical_quad(const char *p, size_t len)
{
	const char *end = p + len;
	unsigned octets, v;

	if (len < 7 || len > 15)
		return false;
	for (octets = 0;; octets++) {
		if (p >= end || !is_digit(*p))
			return false;
		v = (unsigned)(*p++ - '0');
		if (p < end && is_digit(*p)) {
			if (v == 0)
				return false;
			v = v * 10 + (unsigned)(*p++ - '0');
			if (p < end && is_digit(*p)) {
				v = v * 10 + (unsigned)(*p++ - '0');
				if (v > 255 || (p < end && is_digit(*p)))
					return false;
			}
		}
		if (octets == 3)
			return p == end;
		if (p >= end || *p++ != '.')
			return false;
	}
}

int
ev_setaddr(struct tls_event *ev, char *field, const struct span *sp)
{
	char tmp[EV_ADDR_MAX + 1];
	unsigned char bin[16];
	int af;

	(void)ev;
	if (sp->len == 0 || sp->len > EV_ADDR_MAX)
		return -1;
	if (canonical_quad(sp->p, sp->len)) {
		memcpy(field, sp->p, sp->len);
		field[sp->len] = '\0';
		return 0;
	}
	memcpy(tmp, sp->p, sp->len);
	tmp[sp->len] = '\0';
	af = memchr(tmp, ':', sp->len) != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, tmp, bin) != 1)
		return -1;
	/* Canonical text (RFC 5952 for IPv6) so equal addresses compare. */
	if (inet_ntop(af, bin, field, EV_ADDR_MAX + 1) == NULL)
		return -1;
	return 0;
}

void
ev_lowerhost(char *field)
{
	size_t n;
	char *p;

	for (p = field; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + ('a' - 'A'));
	n = (size_t)(p - field);
	if (n > 0 && field[n - 1] == '.')
		field[n - 1] = '\0';
}

void
ev_setdomain_addr(struct tls_event *ev, const struct span *addr)
{
	const char *p = addr->p, *end = addr->p + addr->len, *at = NULL, *e;
	struct span d;

	for (e = p; e < end && *e != ',' && *e != '>'; e++)
		if (*e == '@')
			at = e;
	if (at == NULL || e == at + 1)
		return;
	d.p = at + 1;
	d.len = (size_t)(e - d.p);
	ev_setdomain(ev, ev->domain, sizeof(ev->domain), &d);
	ev_lowerhost(ev->domain);
}

bool
ev_is_loopback(const char *ip)
{
	return strcmp(ip, "127.0.0.1") == 0 || strcmp(ip, "::1") == 0;
}

void
ev_addqid(struct tls_event *ev, const struct span *qid)
{
	size_t have = strlen(ev->queue_ids);
	const char *p = ev->queue_ids, *end = p + have;
	struct span cur;

	if (qid->len == 0)
		return;
	while (p < end) {
		if (scan_word(&p, end, EV_QIDS_MAX, &cur) == 0 &&
		    cur.len == qid->len && memcmp(cur.p, qid->p, qid->len) == 0)
			return;
		(void)scan_spaces(&p, end);
	}
	if (have + (have > 0) + qid->len > EV_QIDS_MAX) {
		ev->flags |= EV_F_TRUNCATED;
		return;
	}
	if (have > 0)
		ev->queue_ids[have++] = ' ';
	ev_setstr(ev, ev->queue_ids + have, sizeof(ev->queue_ids) - have, qid);
}

void
ev_format_ts(int64_t ts_us, char out[EV_TS_MAX + 1])
{
	time_t secs = (time_t)(ts_us / 1000000);
	int64_t frac = ts_us % 1000000;
	struct tm tm;

	if (frac < 0) { /* before 1970: keep the fraction positive */
		frac += 1000000;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL) {
		(void)snprintf(out, EV_TS_MAX + 1, "1970-01-01T00:00:00.000Z");
		return;
	}
	if (snprintf(out, EV_TS_MAX + 1, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, (int)(frac / 1000)) > EV_TS_MAX)
		out[EV_TS_MAX] = '\0'; /* a year past 9999: cut, still ends */
}

/*
 * A string field as JSON: null when empty.  Event strings are printable
 * ASCII (ev_setstr() replaces anything else), so they are valid UTF-8 and
 * jansson's check can be skipped on this hot path.
 */
static json_t *
jstr(const char *s)
{
	return (s == NULL || *s == '\0') ? json_null()
					 : json_stringn_nocheck(s, strlen(s));
}

static json_t *
jint(unsigned v)
{
	return v == 0 ? json_null() : json_integer((json_int_t)v);
}

/* queue_ids as an array of strings (never null: no ids is []). */
static json_t *
jqids(const char *s)
{
	const char *p = s, *end = s + strlen(s);
	json_t *a = json_array();
	struct span sp;

	while (a != NULL && p < end) {
		if (scan_word(&p, end, EV_QIDS_MAX, &sp) == 0)
			(void)json_array_append_new(
			    a, json_stringn_nocheck(sp.p, sp.len));
		(void)scan_spaces(&p, end);
	}
	return a;
}

json_t *
event_to_json(const struct tls_event *ev)
{
	char ts[EV_TS_MAX + 1];
	json_t *o;
	int rc = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	ev_format_ts(ev->ts_us, ts);
	/*
	 * Keys in sorted order: jansson keeps insertion order, so the output
	 * is sorted without JSON_SORT_KEYS sorting every object.  The keys
	 * are constants (no UTF-8 check needed); _new steals the value even
	 * when it fails.
	 */
	rc |= json_object_set_new_nocheck(o, "cipher", jstr(ev->cipher));
	rc |= json_object_set_new_nocheck(
	    o, "cipher_bits", jint(ev->cipher_bits));
	rc |= json_object_set_new_nocheck(
	    o, "direction", jstr(ev_dir_name(ev->dir)));
	rc |= json_object_set_new_nocheck(o, "domain", jstr(ev->domain));
	rc |= json_object_set_new_nocheck(o, "host", jstr(ev->host));
	rc |= json_object_set_new_nocheck(o, "local_ip", jstr(ev->local_ip));
	rc |=
	    json_object_set_new_nocheck(o, "local_port", jint(ev->local_port));
	rc |= json_object_set_new_nocheck(
	    o, "messages", json_integer((json_int_t)ev->messages));
	rc |= json_object_set_new_nocheck(o, "origin", jstr(ev->origin));
	rc |= json_object_set_new_nocheck(o, "peer_helo", jstr(ev->peer_helo));
	rc |= json_object_set_new_nocheck(o, "peer_host", jstr(ev->peer_host));
	rc |= json_object_set_new_nocheck(o, "peer_ip", jstr(ev->peer_ip));
	rc |= json_object_set_new_nocheck(o, "peer_port", jint(ev->peer_port));
	rc |= json_object_set_new_nocheck(
	    o, "policy", jstr(ev_policy_name(ev->policy)));
	rc |= json_object_set_new_nocheck(o, "queue_ids", jqids(ev->queue_ids));
	rc |= json_object_set_new_nocheck(o, "reason", jstr(ev->reason));
	rc |= json_object_set_new_nocheck(
	    o, "result", jstr(ev_result_name(ev->result)));
	rc |= json_object_set_new_nocheck(
	    o, "source", jstr(ev_source_name(ev->source)));
	rc |= json_object_set_new_nocheck(
	    o, "status", jstr(ev_status_name(ev->status)));
	/* tls is never null: "unknown" is a state of its own. */
	rc |= json_object_set_new_nocheck(
	    o, "tls", json_string_nocheck(ev_tls_name(ev->tls)));
	rc |= json_object_set_new_nocheck(
	    o, "tls_version", jstr(ev->tls_version));
	rc |= json_object_set_new_nocheck(
	    o, "trust", jstr(ev_trust_name(ev->trust)));
	rc |= json_object_set_new_nocheck(o, "ts", json_string_nocheck(ts));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
event_print(const struct tls_event *ev, FILE *fp)
{
	char buf[EVENT_JSON_MAX + 2];
	json_t *j;
	size_t n;

	if ((j = event_to_json(ev)) == NULL)
		return -1;
	/* One buffer, one write: jansson's stream dump writes per token. */
	n = json_dumpb(j, buf, EVENT_JSON_MAX, JSON_COMPACT);
	json_decref(j);
	if (n == 0 || n > EVENT_JSON_MAX)
		return -1;
	buf[n++] = '\n';
	return fwrite(buf, 1, n, fp) == n ? 0 : -1;
}
