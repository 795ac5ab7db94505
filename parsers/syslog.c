/*
 * syslog.c - the log envelope (see syslog.h)
 *
 * Input: one log line, untrusted; any byte may appear, NUL included, and
 * nothing is NUL-terminated.  Every read goes through a cursor bounded by
 * the line's end.  No allocation, no locale: month names are the C
 * locale's (a localised journalctl month such as "авг" is a bad time).
 *
 * Timestamps (MTA-LOGS.md section 1, 10):
 *   RFC 3164 has neither year nor zone and pads the day with a space
 *   ("Nov  2"); postlogd and journalctl pad it with a zero ("Nov 02").
 *   RFC 3339 / ISO 8601 may carry a fraction and an offset written
 *   "Z", "+HH:MM" or "+HHMM"; without an offset it is local time.
 *   RFC 5424 (section 6) puts APP-NAME and PROCID in fields of their own
 *   and may start the message with a UTF-8 BOM.
 * Local time becomes UTC through mktime() once per local hour (the UTC
 * offset of every real zone changes only at hour boundaries, except the
 * half-hour ones that switch at 02:00, which is also a boundary).
 *
 * Single-threaded: the clock cache belongs to one parser.
 */
#include "parsers/syslog.h"

#include <string.h>
#include <time.h>

#define SYSLOG_FRAC_MAX 9 /* digits of a fraction we read */

void
syslog_clock_init(struct syslog_clock *c, int year, int64_t ref_us)
{
	time_t ref = (time_t)(ref_us / 1000000);
	struct tm tm;

	memset(c, 0, sizeof(*c));
	tzset();
	c->year = year;
	c->ref_year = 1970;
	c->ref_mon = 1;
	if (localtime_r(&ref, &tm) != NULL) {
		c->ref_year = tm.tm_year + 1900;
		c->ref_mon = tm.tm_mon + 1;
	}
	c->cache_key = -1;
}

static bool
sl_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
sl_mdays(int y, int mon)
{
	static const int md[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return mon == 2 && sl_leap(y) ? 29 : md[mon - 1];
}

static bool
sl_valid(int y, int mon, int day, int hour, int min, int sec)
{
	/* sec 60 is a leap second; it lands on the next minute. */
	return y >= 1970 && y <= 9999 && mon >= 1 && mon <= 12 && day >= 1 &&
	       day <= sl_mdays(y, mon) && hour <= 23 && min <= 59 && sec <= 60;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
sl_days(int y, int mon, int day)
{
	int64_t era, yoe, doy, doe, yy = y - (mon <= 2);

	era = (yy >= 0 ? yy : yy - 399) / 400;
	yoe = yy - era * 400;
	doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
syslog_local_to_utc(struct syslog_clock *c, int year, int mon, int day,
    int hour, int min, int sec, int64_t *out)
{
	int64_t key;
	struct tm tm;
	time_t t;

	if (!sl_valid(year, mon, day, hour, min, sec))
		return -1;
	/*
	 * Lines come in time order, so the hour rarely changes between two
	 * lines: one mktime() per hour of log instead of one per line.
	 */
	key = (((int64_t)year * 16 + mon) * 32 + day) * 32 + hour;
	if (key != c->cache_key) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = year - 1900;
		tm.tm_mon = mon - 1;
		tm.tm_mday = day;
		tm.tm_hour = hour;
		tm.tm_isdst = -1; /* let the zone rules decide */
		t = mktime(&tm);
		if (t < 0) /* before 1970 in UTC (or mktime failed) */
			return -1;
		c->cache_key = key;
		c->cache_base = (int64_t)t;
	}
	*out = c->cache_base + (int64_t)min * 60 + sec;
	return 0;
}

bool
syslog_stamp_get(
    const struct syslog_clock *c, const char *p, size_t n, int64_t *t)
{
	if (c->stamp_len != n || memcmp(p, c->stamp, n) != 0)
		return false;
	*t = c->stamp_t;
	return true;
}

void
syslog_stamp_put(struct syslog_clock *c, const char *p, size_t n, int64_t t)
{
	if (n > sizeof(c->stamp))
		return;
	memcpy(c->stamp, p, n);
	c->stamp_len = n;
	c->stamp_t = t;
}

/*
 * "Jan".."Dec" (C locale) -> 1..12; 0 when not a month name.  Every line
 * passes here, so one packed compare instead of twelve memcmp() calls.
 */
static int
sl_month(const char *p)
{
	uint32_t k = (uint32_t)(unsigned char)p[0] << 16 |
		     (uint32_t)(unsigned char)p[1] << 8 | (unsigned char)p[2];

#define SL_M(a, b, c) ((uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (c))
	switch (k) {
	case SL_M('J', 'a', 'n'):
		return 1;
	case SL_M('F', 'e', 'b'):
		return 2;
	case SL_M('M', 'a', 'r'):
		return 3;
	case SL_M('A', 'p', 'r'):
		return 4;
	case SL_M('M', 'a', 'y'):
		return 5;
	case SL_M('J', 'u', 'n'):
		return 6;
	case SL_M('J', 'u', 'l'):
		return 7;
	case SL_M('A', 'u', 'g'):
		return 8;
	case SL_M('S', 'e', 'p'):
		return 9;
	case SL_M('O', 'c', 't'):
		return 10;
	case SL_M('N', 'o', 'v'):
		return 11;
	case SL_M('D', 'e', 'c'):
		return 12;
	default:
		return 0;
	}
#undef SL_M
}

static bool
sl_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Two digits at p (the caller checked that they are in bounds). */
static bool
sl_2d(const char *p, unsigned *v)
{
	if (!sl_digit(p[0]) || !sl_digit(p[1]))
		return false;
	*v = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
	return true;
}

/* "hh:mm:ss" */
static int
sl_hms(
    const char **s, const char *end, unsigned *h, unsigned *mi, unsigned *sec)
{
	const char *p = *s;

	if (end - p < 8 || !sl_2d(p, h) || p[2] != ':' || !sl_2d(p + 3, mi) ||
	    p[5] != ':' || !sl_2d(p + 6, sec))
		return -1;
	*s = p + 8;
	return 0;
}

/*
 * RFC 3164: "Nov 22 10:00:01", "Nov  2 10:00:01", "Nov 02 10:00:01"
 * (and "Nov 2 10:00:01"), followed by a space.
 */
static int
sl_time3164(
    struct syslog_clock *c, const char **s, const char *end, int64_t *us)
{
	const char *p = *s;
	unsigned day, h, mi, sec;
	int64_t t;
	int mon, year;

	if (end - p < 15)
		return -1;
	/*
	 * The same text as the last line's: the same time.  "Nov 2 " (an
	 * unpadded day) is a byte shorter than "Nov  2 " and "Nov 22 ".
	 */
	if (syslog_stamp_get(
		c, p, p[4] == ' ' || sl_digit(p[5]) ? 15 : 14, &t)) {
		*us = t * 1000000;
		*s = p + c->stamp_len;
		return 0;
	}
	if ((mon = sl_month(p)) == 0 || p[3] != ' ')
		return -1;
	p += 4;
	if (*p == ' ') /* space-padded day */
		p++;
	if (sl_2d(p, &day)) /* p + 1 is in bounds: 15 bytes were there */
		p += 2;
	else if (sl_digit(*p))
		day = (unsigned)(*p++ - '0');
	else
		return -1;
	if (p >= end || *p++ != ' ' || sl_hms(&p, end, &h, &mi, &sec) == -1)
		return -1;
	/*
	 * The year: a fixed one, else the reference time's, minus one when
	 * the month lies more than a month ahead of it.  One month of slack
	 * keeps a clock that runs a little ahead (or a file whose mtime is
	 * slightly older than its last line) in the current year.
	 */
	if (c->year != 0)
		year = c->year;
	else if (mon > c->ref_mon + 1) /* Dec read in Jan: last year's */
		year = c->ref_year - 1;
	else
		year = c->ref_year;
	if (syslog_local_to_utc(
		c, year, mon, (int)day, (int)h, (int)mi, (int)sec, &t) == -1)
		return -1;
	syslog_stamp_put(c, *s, (size_t)(p - *s), t);
	*us = t * 1000000;
	*s = p;
	return 0;
}

/*
 * RFC 3339 / ISO 8601: "2026-11-22T10:00:01", optional ".123456", then
 * "Z", "+01:00", "+0100" or nothing (local time).  A space instead of the
 * "T" is accepted too (syslog files written with an ISO template).
 */
static int
sl_time3339(
    struct syslog_clock *c, const char **s, const char *end, int64_t *us)
{
	const char *p = *s;
	unsigned y, mon, day, h, mi, sec, oh, om;
	int64_t t, frac = 0, scale = 100000;
	int sign = 0, n;

	/*
	 * The last line's date and time, followed by neither a fraction nor
	 * a zone: the same local time (an offset needs the fields).
	 */
	if (end - p >= 19 && syslog_stamp_get(c, p, 19, &t) &&
	    (end - p == 19 || (p[19] != '.' && p[19] != ',' && p[19] != 'Z' &&
				  p[19] != '+' && p[19] != '-'))) {
		*us = t * 1000000;
		*s = p + 19;
		return 0;
	}
	if (scan_digits(&p, end, 4, &y) == -1 || scan_lit(&p, end, "-") == -1 ||
	    scan_digits(&p, end, 2, &mon) == -1 ||
	    scan_lit(&p, end, "-") == -1 ||
	    scan_digits(&p, end, 2, &day) == -1 || p >= end ||
	    (*p != 'T' && *p != ' '))
		return -1;
	p++;
	if (sl_hms(&p, end, &h, &mi, &sec) == -1)
		return -1;
	/* The fraction: up to nanoseconds; digits past microseconds drop. */
	if (p < end && (*p == '.' || *p == ',')) {
		p++;
		for (n = 0; p < end && *p >= '0' && *p <= '9'; n++, p++) {
			if (n >= SYSLOG_FRAC_MAX)
				return -1;
			if (scale > 0) {
				frac += (*p - '0') * scale;
				scale /= 10;
			}
		}
		if (n == 0)
			return -1;
	}
	if (p < end && *p == 'Z') {
		p++;
		sign = 1;
		oh = om = 0;
	} else if (p < end && (*p == '+' || *p == '-')) {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (scan_digits(&p, end, 2, &oh) == -1)
			return -1;
		if (p < end && *p == ':')
			p++;
		if (scan_digits(&p, end, 2, &om) == -1 || oh > 23 || om > 59)
			return -1;
	} else
		oh = om = 0;
	/* With an offset the zone rules play no part: pure arithmetic. */
	if (sign != 0) {
		if (!sl_valid(
			(int)y, (int)mon, (int)day, (int)h, (int)mi, (int)sec))
			return -1;
		t = sl_days((int)y, (int)mon, (int)day) * 86400 +
		    (int64_t)h * 3600 + (int64_t)mi * 60 + sec;
		t -= sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
		if (t < 0)
			return -1; /* "1970-01-01T00:30+01:00" */
	} else if (syslog_local_to_utc(c, (int)y, (int)mon, (int)day, (int)h,
		       (int)mi, (int)sec, &t) == -1)
		return -1;
	else if (p - *s == 19) /* no fraction: cacheable */
		syslog_stamp_put(c, *s, 19, t);
	*us = t * 1000000 + frac;
	*s = p;
	return 0;
}

/*
 * "<PRI>": 1-3 digits, at most 191 (facility 23, severity 7; RFC 5424
 * 6.2.1).  Some relays keep it in front of an RFC 3164 line too.
 */
static int
sl_pri(const char **s, const char *end)
{
	const char *p = *s;
	uint64_t v;

	if (scan_lit(&p, end, "<") == -1 || scan_uint(&p, end, 191, &v) == -1 ||
	    p - *s > 4 || scan_lit(&p, end, ">") == -1)
		return -1;
	*s = p;
	return 0;
}

/*
 * Split "a/b/c" at its last '/' into instance "a/b" and daemon "c": the
 * daemon is the last path component and the instance may itself hold
 * '/' ("postfix/submission/smtpd"; MTA-LOGS.md section 10).
 */
static void
sl_split_tag_at(struct syslog_msg *m, const char *q)
{
	if (q == NULL) {
		m->instance = m->tag;
		m->daemon.p = m->tag.p + m->tag.len;
		m->daemon.len = 0;
		return;
	}
	m->instance.p = m->tag.p;
	m->instance.len = (size_t)(q - m->tag.p);
	m->daemon.p = q + 1;
	m->daemon.len = (size_t)(m->tag.p + m->tag.len - q - 1);
}

static void
sl_split_tag(struct syslog_msg *m)
{
	sl_split_tag_at(m, memrchr(m->tag.p, '/', m->tag.len));
}

/*
 * RFC 3164 "tag[pid]: " or "tag: ".  The tag ends at '[', ':' or a
 * space; rsyslog writes a space after the colon, some writers do not.
 */
static int
sl_tag(
    const char **s, const char *end, struct syslog_msg *m, const char **slash)
{
	const char *p = *s, *t = p;
	uint64_t pid = 0;

	*slash = NULL; /* the tag's last '/', for sl_split_tag_at() */
	while (p < end && *p != '[' && *p != ':' && *p != ' ') {
		if (p - t >= SYSLOG_TAG_MAX)
			return -1;
		if (*p == '/')
			*slash = p;
		p++;
	}
	if (p == t || p == end)
		return -1;
	m->tag.p = t;
	m->tag.len = (size_t)(p - t);
	if (*p == '[') {
		/* scan_uint(.., UINT32_MAX, ..) inline: every line has one. */
		const char *d = ++p;

		while (p < end && sl_digit(*p)) {
			if (p - d >= 19)
				return -1;
			pid = pid * 10 + (uint64_t)(*p++ - '0');
		}
		if (p == d || pid > UINT32_MAX || p >= end || *p++ != ']')
			return -1;
	}
	if (p >= end || *p++ != ':')
		return -1;
	if (p < end && *p == ' ')
		p++;
	m->pid = (uint32_t)pid;
	*s = p;
	return 0;
}

/* An RFC 5424 field: a token up to the next space; "-" means nil. */
static int
sl_field(const char **s, const char *end, size_t max, struct span *out)
{
	if (scan_word(s, end, max, out) == -1 || scan_lit(s, end, " ") == -1)
		return -1;
	if (out->len == 1 && out->p[0] == '-')
		out->len = 0;
	return 0;
}

/*
 * RFC 5424 section 6 after "<PRI>1 ":
 *   TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]
 * "<22>1 2026-11-22T10:00:01.123456Z mx1 postfix/smtp 123 - - text"
 */
static enum syslog_rc
sl_5424(struct syslog_clock *c, const char *p, const char *end,
    struct syslog_msg *m)
{
	struct span procid, msgid;
	const char *q;
	uint64_t pid = 0;

	if (sl_time3339(c, &p, end, &m->ts_us) == -1 ||
	    scan_lit(&p, end, " ") == -1)
		return SYSLOG_BADTIME;
	if (sl_field(&p, end, SYSLOG_HOST_MAX, &m->host) == -1 ||
	    sl_field(&p, end, 48, &m->tag) == -1 ||
	    sl_field(&p, end, 128, &procid) == -1 ||
	    scan_word(&p, end, 32, &msgid) == -1)
		return SYSLOG_MALFORMED;
	if (m->tag.len == 0)
		return SYSLOG_MALFORMED;
	/*
	 * PROCID is any printable token in RFC 5424; sessions are keyed by
	 * pid, so a non-numeric one counts as no pid at all.
	 */
	q = procid.p;
	if (procid.len > 0 &&
	    (scan_uint(&q, procid.p + procid.len, UINT32_MAX, &pid) == -1 ||
		q != procid.p + procid.len))
		pid = 0; /* PROCID need not be a number */
	m->pid = (uint32_t)pid;
	/*
	 * STRUCTURED-DATA: "-" or one or more "[id k="v\]"]" elements; a
	 * backslash escapes ']' inside a value (RFC 5424 6.3.3).
	 */
	if (scan_lit(&p, end, " ") == -1)
		return SYSLOG_MALFORMED;
	if (p < end && *p == '-')
		p++;
	else {
		if (p >= end || *p != '[')
			return SYSLOG_MALFORMED;
		while (p < end && *p == '[') {
			for (p++; p < end && *p != ']'; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			if (p >= end)
				return SYSLOG_MALFORMED;
			p++;
		}
	}
	if (p < end && *p == ' ')
		p++;
	if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* the optional BOM */
	m->msg.p = p;
	m->msg.len = (size_t)(end - p);
	sl_split_tag(m);
	return SYSLOG_OK;
}

enum syslog_rc
syslog_parse(
    struct syslog_clock *c, const char *line, size_t len, struct syslog_msg *m)
{
	const char *p = line, *end = line + len, *q, *slash;
	struct span tok;

	m->host.p = m->msg.p = line;
	m->host.len = m->msg.len = 0;
	m->pid = 0;
	/*
	 * The first byte picks the form: '<' a PRI (then "1 " means RFC
	 * 5424), a digit an ISO date, anything else a month name.
	 */
	if (p < end && *p == '<') {
		if (sl_pri(&p, end) == -1)
			return SYSLOG_BADTIME;
		if (end - p >= 2 && p[0] == '1' && p[1] == ' ')
			return sl_5424(c, p + 2, end, m);
	}
	if (p < end && *p >= '0' && *p <= '9') {
		if (sl_time3339(c, &p, end, &m->ts_us) == -1)
			return SYSLOG_BADTIME;
	} else if (sl_time3164(c, &p, end, &m->ts_us) == -1)
		return SYSLOG_BADTIME;
	if (p >= end || *p++ != ' ')
		return SYSLOG_BADTIME; /* "10:00:01x": not a time after all */
	/*
	 * HOSTNAME, unless the writer left it out: then the first token is
	 * already "tag[pid]:".  A host name never holds '[' and ':', so the
	 * two cannot be confused; a hostless "tag:" without a pid reads as a
	 * host and then fails as no tag, which costs nothing we parse.
	 */
	if ((q = memchr(p, ' ', (size_t)(end - p))) == NULL)
		q = end; /* "tag[pid]:" with an empty message ends the line */
	if (q == p)
		return SYSLOG_MALFORMED;
	tok.p = p;
	tok.len = (size_t)(q - p);
	if (tok.p[tok.len - 1] != ':' || memchr(tok.p, '[', tok.len) == NULL) {
		if (tok.len > SYSLOG_HOST_MAX || q == end)
			return SYSLOG_MALFORMED;
		m->host = tok;
		p = q + 1;
	}
	if (sl_tag(&p, end, m, &slash) == -1)
		return SYSLOG_MALFORMED;
	m->msg.p = p;
	m->msg.len = (size_t)(end - p);
	sl_split_tag_at(m, slash);
	return SYSLOG_OK;
}
