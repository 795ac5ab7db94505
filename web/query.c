/*
 * query.c - the web API's query parameters (see query.h)
 *
 * Untrusted input: every byte of a parameter name and value comes from an
 * HTTP client.  Names are matched against a fixed table; values are
 * checked against closed sets, number ranges or character classes, with
 * lengths bounded before anything is copied.  Nothing is allocated and
 * nothing is logged; the first error becomes the 400 reply's message.
 * Pure functions of their arguments: safe from any thread.
 * Dates are proleptic Gregorian days since 1970-01-01 (H. Hinnant's
 * days_from_civil), so no time zone or libc time function is involved.
 */
#include "web/query.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/scan.h"

/* clang-format off */
static const struct {
	const char *name;
	enum query_param bit;
} params[] = {
	{"range", QP_RANGE}, {"from", QP_FROM}, {"to", QP_TO},
	{"direction", QP_DIRECTION}, {"sort", QP_SORT}, {"order", QP_ORDER},
	{"q", QP_Q}, {"offset", QP_OFFSET}, {"limit", QP_LIMIT},
	{"format", QP_FORMAT}, {"bucket", QP_BUCKET}, {"group", QP_GROUP},
	{"state", QP_STATE},
	{NULL, 0}
};

struct tok {
	const char *name;
	int val;
};

static const struct tok ranges[] = {
	{"24h", QUERY_RANGE_24H}, {"7d", QUERY_RANGE_7D},
	{"30d", QUERY_RANGE_30D}, {"90d", QUERY_RANGE_90D},
	{"1y", QUERY_RANGE_1Y}, {"custom", QUERY_RANGE_CUSTOM}, {NULL, 0}
};
static const struct tok dirs[] = {
	{"all", QUERY_DIR_ALL}, {"outbound", QUERY_DIR_OUT},
	{"inbound", QUERY_DIR_IN}, {"submission", QUERY_DIR_SUB}, {NULL, 0}
};
static const struct tok sorts[] = {
	{"sessions", QUERY_SORT_SESSIONS}, {"domain", QUERY_SORT_DOMAIN},
	{"messages", QUERY_SORT_MESSAGES}, {"encrypted", QUERY_SORT_ENCRYPTED},
	{"verified", QUERY_SORT_VERIFIED}, {"plaintext", QUERY_SORT_PLAINTEXT},
	{"failed", QUERY_SORT_FAILED}, {"unknown", QUERY_SORT_UNKNOWN},
	{"last_plaintext", QUERY_SORT_LAST_PLAINTEXT}, {NULL, 0}
};
static const struct tok orders[] = {{"asc", 0}, {"desc", 1}, {NULL, 0}};
static const struct tok formats[] = {
	{"json", QUERY_FMT_JSON}, {"csv", QUERY_FMT_CSV}, {NULL, 0}
};
static const struct tok buckets[] = {
	{"auto", QUERY_BUCKET_AUTO}, {"hour", QUERY_BUCKET_HOUR},
	{"day", QUERY_BUCKET_DAY}, {"week", QUERY_BUCKET_WEEK}, {NULL, 0}
};
static const struct tok groups[] = {
	{"domain", QUERY_GROUP_DOMAIN}, {"mx", QUERY_GROUP_MX}, {NULL, 0}
};
static const struct tok states[] = {
	{"any", QUERY_STATE_ANY}, {"pending", QUERY_STATE_PENDING},
	{"sending", QUERY_STATE_SENDING}, {"sent", QUERY_STATE_SENT},
	{"failed", QUERY_STATE_FAILED},
	{"interrupted", QUERY_STATE_INTERRUPTED},
	{"suppressed", QUERY_STATE_SUPPRESSED}, {NULL, 0}
};
/* clang-format on */

static int seterr(struct query *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
seterr(struct query *q, const char *fmt, ...)
{
	va_list ap;

	if (q->err[0] == '\0') {
		va_start(ap, fmt);
		(void)vsnprintf(q->err, sizeof(q->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A short printable copy of untrusted text for an error message. */
static const char *
shown(const char *s, char out[40])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < 32; i++)
		out[i] =
		    s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

/* Look `v' up in `t'; -1 with an error listing the choices. */
static int
lookup(struct query *q, const char *name, const struct tok *t, const char *v,
    int *out)
{
	char choices[128], tmp[40];
	size_t n = 0;
	int i;

	for (i = 0; t[i].name != NULL; i++)
		if (strcmp(t[i].name, v) == 0) {
			*out = t[i].val;
			return 0;
		}
	for (i = 0; t[i].name != NULL && n < sizeof(choices); i++)
		n += (size_t)snprintf(choices + n, sizeof(choices) - n, "%s%s",
		    i ? ", " : "", t[i].name);
	return seterr(
	    q, "%s: \"%s\" is not one of %s", name, shown(v, tmp), choices);
}

static const char *
tok_name(const struct tok *t, int v)
{
	for (; t->name != NULL; t++)
		if (t->val == v)
			return t->name;
	return NULL;
}

int
query_error(struct query *q, const char *msg)
{
	return seterr(q, "%s", msg);
}

void
query_init(struct query *q)
{
	memset(q, 0, sizeof(*q));
	q->limit = QUERY_LIMIT_DEFAULT;
	q->desc = true;
}

int32_t
query_civil_days(int y, unsigned m, unsigned d)
{
	int era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + (int)doe - 719468);
}

void
query_date_str(int32_t day, char out[11])
{
	int z = day + 719468, era, y;
	unsigned doe, yoe, doy, mp, d, m;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		y = 0;
	(void)snprintf(out, 11, "%04d-%02u-%02u", y, m % 100, d % 100);
}

int
query_date(const char *s, size_t len, int32_t *day)
{
	static const unsigned mdays[] = {
	    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *end = s + len;
	unsigned y, m, d;
	bool leap;

	if (len != 10 || scan_digits(&s, end, 4, &y) == -1 ||
	    scan_lit(&s, end, "-") == -1 || scan_digits(&s, end, 2, &m) == -1 ||
	    scan_lit(&s, end, "-") == -1 || scan_digits(&s, end, 2, &d) == -1)
		return -1;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2 && d == 29 && !leap)
		return -1;
	*day = query_civil_days((int)y, m, d);
	return 0;
}

/* A decimal number within [min, max]. */
static int
number(struct query *q, const char *name, const char *v, uint64_t min,
    uint64_t max, uint32_t *out)
{
	uint64_t n;

	if (scan_u64_str(v, max, &n) == -1 || n < min)
		return seterr(q, "%s: must be a whole number from %llu to %llu",
		    name, (unsigned long long)min, (unsigned long long)max);
	*out = (uint32_t)n;
	return 0;
}

static int
search(struct query *q, const char *v)
{
	size_t i, n = strlen(v);
	char c;

	if (n > QUERY_SEARCH_MAX)
		return seterr(q, "q: longer than %d bytes", QUERY_SEARCH_MAX);
	for (i = 0; i < n; i++) {
		c = v[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			     c == '.' || c == '-' || c == '_' || c == ':'))
			return seterr(q, "q: only letters, digits and . - _ : "
					 "may be searched for");
		q->q[i] = c;
	}
	q->q[n] = '\0';
	return 0;
}

int
query_set(struct query *q, const char *name, const char *value)
{
	char tmp[40];
	const char *v = value ? value : "";
	unsigned bit = 0;
	int i, x;

	if (++q->nparams > QUERY_PARAMS_MAX)
		return seterr(q, "more than %d parameters", QUERY_PARAMS_MAX);
	for (i = 0; params[i].name != NULL; i++)
		if (strcmp(params[i].name, name) == 0)
			bit = params[i].bit;
	if (bit == 0)
		return seterr(q, "unknown parameter \"%s\"", shown(name, tmp));
	if (q->present & bit)
		return seterr(q, "%s: given more than once", name);
	q->present |= bit;
	if (strlen(v) > QUERY_VALUE_MAX)
		return seterr(
		    q, "%s: longer than %d bytes", name, QUERY_VALUE_MAX);
	switch (bit) {
	case QP_RANGE:
		if (lookup(q, name, ranges, v, &x) == -1)
			return -1;
		q->range = (enum query_range)x;
		return 0;
	case QP_FROM:
	case QP_TO:
		if (query_date(v, strlen(v),
			bit == QP_FROM ? &q->from_day : &q->to_day) == -1)
			return seterr(q,
			    "%s: \"%s\" is not a date "
			    "YYYY-MM-DD from 1970 on",
			    name, shown(v, tmp));
		return 0;
	case QP_DIRECTION:
		if (lookup(q, name, dirs, v, &x) == -1)
			return -1;
		q->dir = (enum query_dir)x;
		return 0;
	case QP_SORT:
		if (lookup(q, name, sorts, v, &x) == -1)
			return -1;
		q->sort = (enum query_sort)x;
		return 0;
	case QP_ORDER:
		if (lookup(q, name, orders, v, &x) == -1)
			return -1;
		q->desc = x == 1;
		return 0;
	case QP_Q:
		return search(q, v);
	case QP_OFFSET:
		return number(q, name, v, 0, QUERY_OFFSET_MAX, &q->offset);
	case QP_LIMIT:
		return number(q, name, v, 1, QUERY_LIMIT_MAX, &q->limit);
	case QP_FORMAT:
		if (lookup(q, name, formats, v, &x) == -1)
			return -1;
		q->format = (enum query_format)x;
		return 0;
	case QP_BUCKET:
		if (lookup(q, name, buckets, v, &x) == -1)
			return -1;
		q->bucket = (enum query_bucket)x;
		return 0;
	case QP_GROUP:
		if (lookup(q, name, groups, v, &x) == -1)
			return -1;
		q->group = (enum query_group)x;
		return 0;
	case QP_STATE:
		if (lookup(q, name, states, v, &x) == -1)
			return -1;
		q->state = (enum query_state)x;
		return 0;
	default:
		return seterr(q, "unknown parameter \"%s\"", shown(name, tmp));
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode [p, end) into out (outlen bytes with the NUL); -1 if bad. */
static int
decode(const char *p, const char *end, char *out, size_t outlen)
{
	size_t n = 0;
	int hi, lo;
	char c;

	while (p < end) {
		c = *p++;
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (end - p < 2 || (hi = hexval(p[0])) < 0 ||
			    (lo = hexval(p[1])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			p += 2;
		}
		if (c == '\0' || n + 1 >= outlen)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

int
query_parse(struct query *q, const char *qs, size_t len)
{
	char name[32], value[QUERY_VALUE_MAX + 1];
	const char *p = qs, *end = qs + len, *amp, *eq;

	if (len > QUERY_STRING_MAX)
		return seterr(
		    q, "query string longer than %d bytes", QUERY_STRING_MAX);
	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p) { /* "a=1&&b=2": an empty field is no parameter */
			p++;
			continue;
		}
		eq = memchr(p, '=', (size_t)(amp - p));
		if (decode(p, eq ? eq : amp, name, sizeof(name)) == -1)
			return seterr(q, "a parameter name is too long or "
					 "badly encoded");
		if (eq != NULL &&
		    decode(eq + 1, amp, value, sizeof(value)) == -1)
			return seterr(
			    q, "%s: value too long or badly encoded", name);
		if (query_set(q, name, eq ? value : NULL) == -1)
			return -1;
		p = amp < end ? amp + 1 : end;
	}
	return 0;
}

int
query_check(struct query *q, unsigned allowed)
{
	unsigned extra = q->present & ~allowed;
	int i;

	if (q->err[0] != '\0')
		return -1;
	for (i = 0; params[i].name != NULL; i++)
		if (extra & params[i].bit)
			return seterr(q, "%s: not taken by this endpoint",
			    params[i].name);
	if ((q->present & (QP_FROM | QP_TO)) != 0) {
		if ((q->present & (QP_FROM | QP_TO)) != (QP_FROM | QP_TO))
			return seterr(q, "from and to go together");
		if ((q->present & QP_RANGE) && q->range != QUERY_RANGE_CUSTOM)
			return seterr(q, "range: give either range or "
					 "from and to");
		if (q->from_day > q->to_day)
			return seterr(q, "from: after to");
		if (q->to_day - q->from_day + 1 > QUERY_DAYS_MAX)
			return seterr(
			    q, "from, to: more than %d days", QUERY_DAYS_MAX);
		q->range = QUERY_RANGE_CUSTOM;
	} else if (q->range == QUERY_RANGE_CUSTOM) {
		return seterr(q, "range=custom needs from and to");
	}
	if (!(q->present & QP_ORDER))
		q->desc = query_sort_desc_default(q->sort);
	return 0;
}

void
query_days(const struct query *q, int32_t today, enum query_range dflt,
    int32_t *from, int32_t *to)
{
	enum query_range r = q->range != QUERY_RANGE_NONE ? q->range : dflt;

	*to = today;
	switch (r) {
	case QUERY_RANGE_CUSTOM:
		*from = q->from_day;
		*to = q->to_day;
		return;
	case QUERY_RANGE_24H:
		*from = today - 1;
		return;
	case QUERY_RANGE_7D:
		*from = today - 6;
		return;
	case QUERY_RANGE_90D:
		*from = today - 89;
		return;
	case QUERY_RANGE_1Y:
		*from = today - 364;
		return;
	case QUERY_RANGE_NONE:
	case QUERY_RANGE_30D:
	default:
		*from = today - 29;
		return;
	}
}

int
query_domain(const char *s, char *out)
{
	size_t i, n = strlen(s);
	char c;

	if (n == 0 || n > QUERY_SEARCH_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			     c == '.' || c == '-' || c == '_'))
			return -1;
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

const char *
query_range_name(enum query_range r)
{
	const char *n = tok_name(ranges, (int)r);

	return n ? n : "30d";
}

const char *
query_dir_name(enum query_dir d)
{
	return d == QUERY_DIR_ALL ? NULL : tok_name(dirs, (int)d);
}

const char *
query_sort_name(enum query_sort s)
{
	return tok_name(sorts, (int)s);
}

const char *
query_state_name(enum query_state s)
{
	return s == QUERY_STATE_ANY ? NULL : tok_name(states, (int)s);
}

bool
query_sort_desc_default(enum query_sort s)
{
	/* Names read A to Z; worst encryption first. */
	return !(s == QUERY_SORT_DOMAIN || s == QUERY_SORT_ENCRYPTED ||
		 s == QUERY_SORT_VERIFIED);
}
