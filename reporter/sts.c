/*
 * sts.c - parse RFC 8461 (MTA-STS) TXT records and policy files
 *
 * Inputs: the "_mta-sts" TXT record (DNS, untrusted) and the policy file
 * fetched over HTTPS (untrusted, at most STS_POLICY_MAX bytes).  Every
 * read is bounded by the input's end; nothing is allocated; results are
 * spans into the input.  RFC 8461 section 3.1 (TXT), 3.2 (policy), 4.1
 * (MX matching).
 */
#include "reporter/sts.h"

#include <string.h>

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')
#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define STS_NAME_MAX 32 /* extension names: 1 + *31 */

static const char txt_version[] = "v=STSv1";

static void
skip_wsp(const char **s, const char *end)
{
	while (*s < end && IS_WSP(**s))
		(*s)++;
}

static bool
sts_is_txt(const char *p, size_t len)
{
	size_t n = sizeof(txt_version) - 1;

	return len >= n && memcmp(p, txt_version, n) == 0 &&
	       (len == n || IS_WSP(p[n]) || p[n] == ';');
}

/* (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
static bool
ext_name(const char **s, const char *end)
{
	const char *p = *s;

	if (p >= end || !(IS_ALPHA(*p) || IS_DIGIT(*p)))
		return false;
	while (p < end && (IS_ALPHA(*p) || IS_DIGIT(*p) || *p == '_' ||
			      *p == '-' || *p == '.'))
		p++;
	if (p - *s > STS_NAME_MAX)
		return false;
	*s = p;
	return true;
}

/*
 *   sts-text-record = sts-version 1*(sts-field-delim sts-field)
 *                     [sts-field-delim]
 *   sts-field-delim = *WSP ";" *WSP
 *   sts-field       = sts-id / sts-extension
 *   sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
 */
enum sts_rc
sts_parse_txt(const char *p, size_t len, struct span *id)
{
	const char *s = p, *end = p + len, *v;
	bool have_id = false;

	id->p = NULL;
	id->len = 0;
	if (!sts_is_txt(p, len))
		return STS_NONE;
	s += sizeof(txt_version) - 1;
	for (;;) {
		skip_wsp(&s, end);
		if (s >= end)
			break;
		if (*s != ';')
			return STS_MALFORMED;
		s++;
		skip_wsp(&s, end);
		if (s >= end)
			break;
		if (end - s >= 3 && memcmp(s, "id=", 3) == 0) {
			s += 3;
			v = s;
			while (s < end && (IS_ALPHA(*s) || IS_DIGIT(*s)))
				s++;
			if (s == v || s - v > STS_ID_MAX)
				return STS_MALFORMED;
			if (!have_id) {
				id->p = v;
				id->len = (size_t)(s - v);
				have_id = true;
			}
			continue;
		}
		if (!ext_name(&s, end) || s >= end || *s != '=')
			return STS_MALFORMED;
		s++;
		v = s;
		while (s < end && *s >= 0x21 && *s <= 0x7e && *s != ';' &&
		       *s != '=')
			s++;
		if (s == v)
			return STS_MALFORMED;
	}
	if (!have_id) {
		id->p = NULL;
		id->len = 0;
		return STS_MALFORMED;
	}
	return STS_OK;
}

enum sts_rc
sts_select_txt(const struct span *recs, size_t n, struct span *id)
{
	size_t i, found = 0, which = 0;

	id->p = NULL;
	id->len = 0;
	for (i = 0; i < n; i++) {
		if (sts_is_txt(recs[i].p, recs[i].len)) {
			found++;
			which = i;
		}
	}
	if (found == 0)
		return STS_NONE;
	if (found > 1)
		return STS_MULTIPLE;
	return sts_parse_txt(recs[which].p, recs[which].len, id);
}

/*
 * A domain name in A-label form (RFC 1035 LDH labels of 1..63 bytes, at
 * most 253 in all), optionally "*." first (RFC 8461 section 3.2).
 */
static bool
mx_pattern_ok(const char *p, size_t len)
{
	size_t i, label = 0;

	if (len >= 2 && p[0] == '*' && p[1] == '.') {
		p += 2;
		len -= 2;
	}
	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (label == 0 || p[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!(IS_ALPHA(p[i]) || IS_DIGIT(p[i]) || p[i] == '-'))
			return false;
		if (p[i] == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && p[len - 1] != '-';
}

static bool
key_is(const struct span *k, const char *lit)
{
	return span_eq(k, lit);
}

/*
 * sts-policy-record = sts-policy-field *WSP
 *                     *(sts-policy-term sts-policy-field *WSP)
 *                     [sts-policy-term]
 * sts-policy-field  = name ":" *WSP value;  sts-policy-term = LF / CRLF
 */
enum sts_rc
sts_parse_policy(const char *p, size_t len, struct sts_policy *out)
{
	const char *s = p, *end, *eol, *ls, *le;
	bool have_version = false, have_mode = false, have_age = false;
	struct span key, val;
	uint64_t age;

	memset(out, 0, sizeof(*out));
	if (len > STS_POLICY_MAX)
		goto bad;
	end = p + len;
	while (s < end) {
		eol = memchr(s, '\n', (size_t)(end - s));
		le = eol ? eol : end;
		ls = s;
		s = eol ? eol + 1 : end;
		if (le > ls && le[-1] == '\r')
			le--;
		while (le > ls && IS_WSP(le[-1]))
			le--; /* *WSP after the field */
		if (le == ls) {
			/* Only a final terminator may leave an empty line. */
			if (s < end)
				goto bad;
			break;
		}
		/* A bare CR inside a line is not allowed by the ABNF. */
		if (memchr(ls, '\r', (size_t)(le - ls)) != NULL)
			goto bad;
		key.p = ls;
		if (!ext_name(&ls, le) || ls >= le || *ls != ':')
			goto bad;
		key.len = (size_t)(ls - key.p);
		ls++;
		skip_wsp(&ls, le);
		val.p = ls;
		val.len = (size_t)(le - ls);
		for (; ls < le; ls++)
			if (!((*ls >= 0x21 && *ls <= 0x7e) || IS_WSP(*ls)))
				goto bad;
		if (val.len == 0)
			goto bad;
		if (out->nline < STS_LINES_MAX) {
			out->line[out->nline].p = key.p;
			out->line[out->nline].len = (size_t)(le - key.p);
			out->nline++;
		}
		if (key_is(&key, "version")) {
			if (!have_version && !span_eq(&val, "STSv1"))
				goto bad;
			have_version = true;
		} else if (key_is(&key, "mode")) {
			if (have_mode)
				continue;
			if (span_eq(&val, "enforce"))
				out->mode = STS_MODE_ENFORCE;
			else if (span_eq(&val, "testing"))
				out->mode = STS_MODE_TESTING;
			else if (span_eq(&val, "none"))
				out->mode = STS_MODE_NONE;
			else
				goto bad;
			have_mode = true;
		} else if (key_is(&key, "max_age")) {
			const char *q = val.p;

			if (have_age)
				continue;
			if (val.len > 10 ||
			    scan_uint(&q, val.p + val.len, STS_MAX_AGE_MAX,
				&age) == -1 ||
			    q != val.p + val.len)
				goto bad;
			out->max_age = age;
			have_age = true;
		} else if (key_is(&key, "mx")) {
			if (!mx_pattern_ok(val.p, val.len))
				goto bad;
			if (out->nmx < STS_MX_MAX)
				out->mx[out->nmx++] = val;
		}
		/* Unknown keys: ignored (section 3.2). */
	}
	if (!have_version || !have_mode || !have_age)
		goto bad;
	if (out->mode != STS_MODE_NONE && out->nmx == 0)
		goto bad;
	return STS_OK;
bad:
	memset(out, 0, sizeof(*out));
	return STS_MALFORMED;
}

static bool
label_eq_ci(const char *a, const char *b, size_t n)
{
	size_t i;
	char x, y;

	for (i = 0; i < n; i++) {
		x = a[i];
		y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

bool
sts_mx_match(const struct span *pat, const char *host)
{
	size_t hl = strlen(host);
	const char *dot;

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (pat->len >= 2 && pat->p[0] == '*' && pat->p[1] == '.') {
		/* Exactly one extra label: drop host's first label. */
		dot = memchr(host, '.', hl);
		if (dot == NULL || dot == host)
			return false;
		hl -= (size_t)(dot + 1 - host);
		host = dot + 1;
		return hl == pat->len - 2 && label_eq_ci(host, pat->p + 2, hl);
	}
	return hl == pat->len && label_eq_ci(host, pat->p, hl);
}

const char *
sts_mode_name(enum sts_mode m)
{
	switch (m) {
	case STS_MODE_ENFORCE:
		return "enforce";
	case STS_MODE_TESTING:
		return "testing";
	case STS_MODE_NONE:
		return "none";
	}
	return "?";
}

const char *
sts_rc_name(enum sts_rc rc)
{
	switch (rc) {
	case STS_OK:
		return "ok";
	case STS_NONE:
		return "none";
	case STS_MULTIPLE:
		return "multiple";
	case STS_MALFORMED:
		return "malformed";
	}
	return "?";
}
