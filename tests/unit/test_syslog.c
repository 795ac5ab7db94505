/*
 * test_syslog.c - the log envelope: forms, timestamps, year, zones
 *
 * Table-driven: {label, input, want}.  Times are compared as RFC 3339
 * UTC with microseconds.  Zones are set with setenv("TZ")/tzset(), and
 * the clock is re-initialised after each change (it caches offsets).
 */
#include <stdlib.h>
#include <time.h>

#include "parsers/syslog.h"
#include "tests/unit/t.h"

struct want {
	enum syslog_rc rc;
	const char *ts; /* "2026-11-22T10:00:01.000000Z" */
	const char *host, *tag, *instance, *daemon;
	uint32_t pid;
	const char *msg;
};

struct tcase {
	const char *label;
	const char *input;
	size_t len; /* 0: strlen(input) */
	struct want want;
};

static void
fmt_us(int64_t us, char *out, size_t size)
{
	time_t secs = (time_t)(us / 1000000);
	long frac = (long)(us % 1000000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	(void)gmtime_r(&secs, &tm);
	(void)snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, frac);
}

static void
span_str(const struct span *sp, char *out, size_t size)
{
	size_t n = sp->len < size - 1 ? sp->len : size - 1;

	memcpy(out, sp->p, n);
	out[n] = '\0';
}

static void
check(struct syslog_clock *c, const struct tcase *tc)
{
	char label[256], got[512];
	struct syslog_msg m;
	enum syslog_rc rc;
	size_t len = tc->len ? tc->len : strlen(tc->input);

	rc = syslog_parse(c, tc->input, len, &m);
	(void)snprintf(label, sizeof(label), "%s: rc", tc->label);
	T_INT(label, rc, tc->want.rc);
	if (rc != SYSLOG_OK || tc->want.rc != SYSLOG_OK)
		return;
	fmt_us(m.ts_us, got, sizeof(got));
	(void)snprintf(label, sizeof(label), "%s: ts", tc->label);
	T_STR(label, got, tc->want.ts);
#define FIELD(f)                                                               \
	do {                                                                   \
		if (tc->want.f != NULL) {                                      \
			span_str(&m.f, got, sizeof(got));                      \
			(void)snprintf(                                        \
			    label, sizeof(label), "%s: " #f, tc->label);       \
			T_STR(label, got, tc->want.f);                         \
		}                                                              \
	} while (0)
	FIELD(host);
	FIELD(tag);
	FIELD(instance);
	FIELD(daemon);
	FIELD(msg);
#undef FIELD
	(void)snprintf(label, sizeof(label), "%s: pid", tc->label);
	T_INT(label, m.pid, tc->want.pid);
}

/* clang-format off */
static const struct tcase forms[] = {
	{"3164 space-padded day",
	    "Nov  2 10:00:01 mx1 postfix/smtp[123]: hello world", 0,
	    {SYSLOG_OK, "2026-11-02T10:00:01.000000Z", "mx1", "postfix/smtp",
		"postfix", "smtp", 123, "hello world"}},
	{"3164 zero-padded day (postlogd, journalctl short)",
	    "Nov 02 10:00:01 mx1 postfix/smtp[123]: x", 0,
	    {SYSLOG_OK, "2026-11-02T10:00:01.000000Z", "mx1", NULL, NULL, NULL,
		123, "x"}},
	{"3164 unpadded day",
	    "Nov 2 10:00:01 mx1 postfix/smtp[123]: x", 0,
	    {SYSLOG_OK, "2026-11-02T10:00:01.000000Z", "mx1", NULL, NULL, NULL,
		123, "x"}},
	{"3164 two-digit day",
	    "Dec 31 23:59:59 mx1 postfix/qmgr[9]: y", 0,
	    {SYSLOG_OK, "2026-12-31T23:59:59.000000Z", "mx1", NULL, "postfix",
		"qmgr", 9, "y"}},
	{"3164 with <PRI>",
	    "<22>Nov 22 10:00:01 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", "mx1", NULL, NULL, NULL,
		1, "x"}},
	{"3164 submission service tag",
	    "Nov 22 10:00:01 mx1 postfix/submission/smtpd[20040]: connect", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", "mx1",
		"postfix/submission/smtpd", "postfix/submission", "smtpd",
		20040, "connect"}},
	{"3164 multi-instance tag",
	    "Nov 22 10:00:01 mx1 postfix-out/smtp[5]: x", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", NULL, NULL,
		"postfix-out", "smtp", 5, "x"}},
	{"3164 instance with an address",
	    "Nov 22 10:00:01 mx1 postfix-170.55.103.23/smtp[5]: x", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", NULL, NULL,
		"postfix-170.55.103.23", "smtp", 5, "x"}},
	{"3164 tag without pid",
	    "Nov 22 10:00:01 mx1 dovecot: imap-login: Login", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", "mx1", "dovecot",
		"dovecot", "", 0, "imap-login: Login"}},
	{"3164 no space after colon",
	    "Nov 22 10:00:01 mx1 postfix/smtp[7]:text", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", NULL, NULL, NULL, NULL,
		7, "text"}},
	{"3164 without host",
	    "Nov 22 10:00:01 postfix/smtp[7]: text", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", "", "postfix/smtp",
		NULL, NULL, 7, "text"}},
	{"3164 without host, empty message",
	    "Nov 22 10:00:01 postfix/smtp[7]:", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", "", "postfix/smtp",
		"postfix", "smtp", 7, ""}},
	{"3164 host only", "Nov 22 10:00:01 mx1", 0,
	    {SYSLOG_MALFORMED, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"3164 empty message",
	    "Nov 22 10:00:01 mx1 postfix/smtp[7]:", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", NULL, NULL, NULL, NULL,
		7, ""}},
	{"3339 Z, no fraction",
	    "2026-11-22T10:00:01Z mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", "mx1", NULL, NULL, NULL,
		1, "x"}},
	{"3339 fraction, +01:00 (rsyslog high precision)",
	    "2026-11-22T10:00:01.123456+01:00 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-22T09:00:01.123456Z", NULL, NULL, NULL, NULL,
		1, "x"}},
	{"3339 +0100 (journalctl short-iso)",
	    "2026-11-22T10:00:01+0100 host postfix/smtp[123]: x", 0,
	    {SYSLOG_OK, "2026-11-22T09:00:01.000000Z", "host", NULL, NULL,
		NULL, 123, "x"}},
	{"3339 -05:30, milliseconds",
	    "2026-11-22T10:00:01.5-05:30 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-22T15:30:01.500000Z", NULL, NULL, NULL, NULL,
		1, "x"}},
	{"3339 nanoseconds cut to microseconds",
	    "2026-11-22T10:00:01.123456789Z mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.123456Z", NULL, NULL, NULL, NULL,
		1, "x"}},
	{"3339 across midnight and year",
	    "2027-01-01T00:30:00+01:00 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-12-31T23:30:00.000000Z", NULL, NULL, NULL, NULL,
		1, "x"}},
	{"3339 without zone is local",
	    "2026-11-22T10:00:01 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", NULL, NULL, NULL, NULL,
		1, "x"}},
	{"3339 with a space",
	    "2026-11-22 10:00:01 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", NULL, NULL, NULL, NULL,
		1, "x"}},
	{"5424",
	    "<22>1 2026-11-22T10:00:01.123456Z mx1 postfix/smtp 123 - - "
	    "Trusted TLS connection", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.123456Z", "mx1", "postfix/smtp",
		"postfix", "smtp", 123, "Trusted TLS connection"}},
	{"5424 structured data and BOM",
	    "<22>1 2026-11-22T10:00:01Z mx1 postfix/submission/smtpd 77 ID47 "
	    "[ex@32473 iut=\"3\" a=\"b\\]c\"][x@1 y=\"z\"] \xef\xbb\xbfhello", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", "mx1", NULL,
		"postfix/submission", "smtpd", 77, "hello"}},
	{"5424 nil fields",
	    "<22>1 2026-11-22T10:00:01+01:00 - postfix/smtp - - -", 0,
	    {SYSLOG_OK, "2026-11-22T09:00:01.000000Z", "", NULL, NULL, NULL, 0,
		""}},
	{"5424 non-numeric procid",
	    "<22>1 2026-11-22T10:00:01Z mx1 postfix/smtp abc - - x", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", NULL, NULL, NULL, NULL,
		0, "x"}},
	{"Feb 29 in a common year", "Feb 29 12:00:00 mx1 p[1]: x", 0,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"bad month", "Foo 22 10:00:01 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"localised month", "\xd0\xb0\xd0\xb2\xd0\xb3 09 04:49:15 mv334 "
	    "postfix/smtp[246741]: x", 0,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"bad day", "Nov 31 10:00:01 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"bad hour", "Nov 22 24:00:01 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"bad 3339 date", "2026-02-30T10:00:01Z mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"bad offset", "2026-11-22T10:00:01+25:00 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"time glued to text", "Nov 22 10:00:01x mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"empty", "", 0,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"cut inside the time", "Nov 22 10:0", 0,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"NUL bytes", "Nov 22\0 10:00:01 mx1 postfix/smtp[1]: x", 39,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"bad PRI", "<999>Nov 22 10:00:01 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_BADTIME, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"no tag", "Nov 22 10:00:01 mx1", 0,
	    {SYSLOG_MALFORMED, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"tag without colon", "Nov 22 10:00:01 mx1 postfix/smtp[1] x", 0,
	    {SYSLOG_MALFORMED, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"pid not a number", "Nov 22 10:00:01 mx1 postfix/smtp[1a]: x", 0,
	    {SYSLOG_MALFORMED, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"pid too large", "Nov 22 10:00:01 mx1 postfix/smtp[99999999999]: x",
	    0, {SYSLOG_MALFORMED, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
	{"5424 cut structured data",
	    "<22>1 2026-11-22T10:00:01Z mx1 postfix/smtp 1 - [a b=\"c", 0,
	    {SYSLOG_MALFORMED, NULL, NULL, NULL, NULL, NULL, 0, NULL}},
};

/* Year inference: ref 2027-01-05 12:00 UTC, no fixed year. */
static const struct tcase rollover[] = {
	{"December read in January is last year's",
	    "Dec 31 23:59:59 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-12-31T23:59:59.000000Z", NULL, NULL, NULL, NULL,
		1, NULL}},
	{"January read in January", "Jan  1 00:00:01 mx1 postfix/smtp[1]: x",
	    0, {SYSLOG_OK, "2027-01-01T00:00:01.000000Z", NULL, NULL, NULL,
		NULL, 1, NULL}},
	{"a month ahead is clock skew, same year",
	    "Feb 10 00:00:00 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2027-02-10T00:00:00.000000Z", NULL, NULL, NULL, NULL,
		1, NULL}},
	{"two months ahead is last year", "Mar 10 00:00:00 mx1 p/smtp[1]: x",
	    0, {SYSLOG_OK, "2026-03-10T00:00:00.000000Z", NULL, NULL, NULL,
		NULL, 1, NULL}},
	{"a year in the stamp wins",
	    "2025-12-31T10:00:00Z mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2025-12-31T10:00:00.000000Z", NULL, NULL, NULL, NULL,
		1, NULL}},
};

/* TZ "<+03>-3": three hours east of UTC, no DST. */
static const struct tcase east3[] = {
	{"local +03 to UTC", "Nov 22 10:00:01 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-22T07:00:01.000000Z", NULL, NULL, NULL, NULL,
		1, NULL}},
	{"local +03 over midnight", "Jan  1 01:30:00 mx1 postfix/smtp[1]: x",
	    0, {SYSLOG_OK, "2025-12-31T22:30:00.000000Z", NULL, NULL, NULL,
		NULL, 1, NULL}},
	{"explicit offset ignores TZ",
	    "2026-11-22T10:00:01Z mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-22T10:00:01.000000Z", NULL, NULL, NULL, NULL,
		1, NULL}},
	{"3339 without zone uses TZ",
	    "2026-11-22T10:00:01 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-22T07:00:01.000000Z", NULL, NULL, NULL, NULL,
		1, NULL}},
};

/* TZ "<-05>5": five hours west, no DST. */
static const struct tcase west5[] = {
	{"local -05 to UTC", "Nov 22 22:00:01 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-23T03:00:01.000000Z", NULL, NULL, NULL, NULL,
		1, NULL}},
	{"same hour, cached offset", "Nov 22 22:59:59 mx1 postfix/smtp[1]: x",
	    0, {SYSLOG_OK, "2026-11-23T03:59:59.000000Z", NULL, NULL, NULL,
		NULL, 1, NULL}},
};

/* Europe/Berlin: DST starts 2026-03-29 02:00 local (01:00 UTC). */
static const struct tcase berlin[] = {
	{"CET before the switch", "Mar 29 01:59:59 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-03-29T00:59:59.000000Z", NULL, NULL, NULL, NULL,
		1, NULL}},
	{"CEST after the switch", "Mar 29 03:00:00 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-03-29T01:00:00.000000Z", NULL, NULL, NULL, NULL,
		1, NULL}},
	{"summer", "Jul  1 12:00:00 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-07-01T10:00:00.000000Z", NULL, NULL, NULL, NULL,
		1, NULL}},
	{"winter again", "Nov 22 12:00:00 mx1 postfix/smtp[1]: x", 0,
	    {SYSLOG_OK, "2026-11-22T11:00:00.000000Z", NULL, NULL, NULL, NULL,
		1, NULL}},
};
/* clang-format on */

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
run(const char *tz, int year, int64_t ref_us, const struct tcase *t, size_t n)
{
	struct syslog_clock c;
	size_t i;

	(void)setenv("TZ", tz, 1);
	tzset();
	syslog_clock_init(&c, year, ref_us);
	for (i = 0; i < n; i++)
		check(&c, &t[i]);
}

int
main(void)
{
	struct syslog_clock c;
	int64_t t;

	run("UTC0", 2026, 0, forms, NELEM(forms));
	/* 2027-01-05T12:00:00Z */
	run("UTC0", 0, INT64_C(1799150400) * 1000000, rollover,
	    NELEM(rollover));
	run("<+03>-3", 2026, 0, east3, NELEM(east3));
	run("<-05>5", 2026, 0, west5, NELEM(west5));
	run("Europe/Berlin", 2026, 0, berlin, NELEM(berlin));

	/* The conversion itself, and dates it must refuse. */
	(void)setenv("TZ", "UTC0", 1);
	syslog_clock_init(&c, 2028, 0);
	T_INT("leap day 2028 valid",
	    syslog_local_to_utc(&c, 2028, 2, 29, 0, 0, 0, &t), 0);
	T_INT("leap day 2028 value", t, INT64_C(1835395200));
	T_INT("no Feb 29 in 2026",
	    syslog_local_to_utc(&c, 2026, 2, 29, 0, 0, 0, &t), -1);
	T_INT(
	    "month 13", syslog_local_to_utc(&c, 2026, 13, 1, 0, 0, 0, &t), -1);
	T_INT("leap second lands on the next minute",
	    syslog_local_to_utc(&c, 2026, 12, 31, 23, 59, 60, &t), 0);
	T_INT("leap second value", t, INT64_C(1798761600));
	return t_done("test_syslog");
}
