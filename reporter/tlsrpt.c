/*
 * tlsrpt.c - parse the RFC 8460 section 3 "_smtp._tls" TXT record
 *
 * Input: DNS TXT data, untrusted.  Every read is bounded by the record's
 * end; nothing is allocated; URIs come back as spans into the input.
 * Implements RFC 8460 section 3 (ABNF below) and the selection rule
 * "exactly one record beginning with v=TLSRPTv1".
 *
 *   tlsrpt-record   = tlsrpt-version 1*(field-delim tlsrpt-field)
 *                     [field-delim]
 *   field-delim     = *WSP ";" *WSP
 *   tlsrpt-field    = tlsrpt-rua / tlsrpt-extension
 *   tlsrpt-version  = %s"v=TLSRPTv1"
 *   tlsrpt-rua      = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *   tlsrpt-uri      = URI   ; with "," "!" ";" percent-encoded
 *   tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
 *   tlsrpt-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
 */
#include "reporter/tlsrpt.h"

#include <string.h>

#define IS_WSP(c) ((c) == ' ' || (c) == '\t')
#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_HEX(c)                                                              \
	(IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') ||                          \
	    ((c) >= 'A' && (c) <= 'F'))

static const char version[] = "v=TLSRPTv1";

static void
skip_wsp(const char **s, const char *end)
{
	while (*s < end && IS_WSP(**s))
		(*s)++;
}

/*
 * One URI character of RFC 3986 (unreserved, sub-delims, gen-delims
 * ":/?#[]@", or "%" which is checked by the caller), minus what RFC 8460
 * requires to be percent-encoded inside a tlsrpt-uri: "," "!" ";".
 */
static bool
uri_char(char c)
{
	if (IS_ALPHA(c) || IS_DIGIT(c))
		return true;
	return c != '\0' && strchr("-._~$&'()*+=:/?#[]@", c) != NULL;
}

/* RFC 3986 section 3.1 scheme ":" followed by at least one character. */
static int
tr_uri(const char **s, const char *end, struct tlsrpt_uri *u)
{
	const char *p = *s, *colon;

	if (p >= end || !IS_ALPHA(*p))
		return -1;
	while (p < end && (IS_ALPHA(*p) || IS_DIGIT(*p) || *p == '+' ||
			      *p == '-' || *p == '.'))
		p++;
	if (p >= end || *p != ':')
		return -1;
	colon = p++;
	while (p < end) {
		if (*p == '%') {
			if (end - p < 3 || !IS_HEX(p[1]) || !IS_HEX(p[2]))
				return -1;
			p += 3;
		} else if (uri_char(*p)) {
			p++;
		} else {
			break;
		}
	}
	if (p == colon + 1)
		return -1; /* "mailto:" with nothing after it */
	u->uri.p = *s;
	u->uri.len = (size_t)(p - *s);
	if ((size_t)(colon - *s) == 6 && strncmp(*s, "mailto", 6) == 0)
		u->scheme = TLSRPT_MAILTO;
	else if ((size_t)(colon - *s) == 5 && strncmp(*s, "https", 5) == 0)
		u->scheme = TLSRPT_HTTPS;
	else
		u->scheme = TLSRPT_OTHER;
	*s = p;
	return 0;
}

/* "rua=" uri *(*WSP "," *WSP uri), appending to out. */
static int
tr_rua(const char **s, const char *end, struct tlsrpt *out)
{
	struct tlsrpt_uri u;
	const char *p = *s;

	for (;;) {
		if (tr_uri(&p, end, &u) == -1)
			return -1;
		if (out->nrua < TLSRPT_RUA_MAX)
			out->rua[out->nrua++] = u;
		else
			out->dropped++;
		*s = p;
		skip_wsp(&p, end);
		if (p >= end || *p != ',')
			return 0; /* the WSP belongs to a field-delim */
		p++;
		skip_wsp(&p, end);
	}
}

/* tlsrpt-extension: name "=" value; unknown ones are ignored. */
static int
tr_extension(const char **s, const char *end)
{
	const char *p = *s;
	size_t n = 0;

	if (p >= end || !(IS_ALPHA(*p) || IS_DIGIT(*p)))
		return -1;
	while (p < end && (IS_ALPHA(*p) || IS_DIGIT(*p) || *p == '_' ||
			      *p == '-' || *p == '.')) {
		if (++n > TLSRPT_EXT_NAME_MAX)
			return -1;
		p++;
	}
	if (p >= end || *p != '=')
		return -1;
	p++;
	n = 0;
	while (p < end && *p >= 0x21 && *p <= 0x7e && *p != ';' && *p != '=') {
		p++;
		n++;
	}
	if (n == 0)
		return -1;
	*s = p;
	return 0;
}

static bool
tr_is_tlsrpt(const char *p, size_t len)
{
	size_t n = sizeof(version) - 1;

	/* "v=TLSRPTv10" is another version, not ours. */
	return len >= n && memcmp(p, version, n) == 0 &&
	       (len == n || IS_WSP(p[n]) || p[n] == ';');
}

enum tlsrpt_rc
tlsrpt_parse(const char *p, size_t len, struct tlsrpt *out)
{
	const char *s = p, *end = p + len;
	size_t fields = 0;
	bool have_rua = false;

	memset(out, 0, sizeof(*out));
	if (len > TLSRPT_RECORD_MAX)
		return tr_is_tlsrpt(p, len) ? TLSRPT_MALFORMED : TLSRPT_NONE;
	if (!tr_is_tlsrpt(p, len))
		return TLSRPT_NONE;
	s += sizeof(version) - 1;
	for (;;) {
		/* field-delim: *WSP ";" *WSP */
		skip_wsp(&s, end);
		if (s >= end)
			break;
		if (*s != ';')
			goto bad;
		s++;
		skip_wsp(&s, end);
		if (s >= end)
			break; /* the optional trailing delimiter */
		if (end - s >= 4 && memcmp(s, "rua=", 4) == 0) {
			s += 4;
			if (tr_rua(&s, end, out) == -1)
				goto bad;
			have_rua = true;
		} else if (tr_extension(&s, end) == -1) {
			goto bad;
		}
		fields++;
	}
	if (fields == 0 || !have_rua)
		goto bad;
	return TLSRPT_OK;
bad:
	memset(out, 0, sizeof(*out));
	return TLSRPT_MALFORMED;
}

enum tlsrpt_rc
tlsrpt_select(const struct span *recs, size_t n, struct tlsrpt *out)
{
	size_t i, found = 0, which = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		if (tr_is_tlsrpt(recs[i].p, recs[i].len)) {
			found++;
			which = i;
		}
	}
	if (found == 0)
		return TLSRPT_NONE;
	if (found > 1)
		return TLSRPT_MULTIPLE;
	return tlsrpt_parse(recs[which].p, recs[which].len, out);
}

const char *
tlsrpt_rc_name(enum tlsrpt_rc rc)
{
	switch (rc) {
	case TLSRPT_OK:
		return "ok";
	case TLSRPT_NONE:
		return "none";
	case TLSRPT_MULTIPLE:
		return "multiple";
	case TLSRPT_MALFORMED:
		return "malformed";
	}
	return "?";
}

static int
hexval(char c)
{
	if (IS_DIGIT(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

int
tlsrpt_pct_decode(const char *p, size_t len, char *out, size_t size)
{
	size_t i, o = 0;
	int c;

	if (size == 0)
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (c == '%') {
			if (len - i < 3 || !IS_HEX(p[i + 1]) ||
			    !IS_HEX(p[i + 2]))
				return -1;
			c = hexval(p[i + 1]) << 4 | hexval(p[i + 2]);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= size)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}
