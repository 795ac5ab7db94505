/*
 * test_query.c - the web API's query-parameter parsing (web/query.c):
 * every parameter's accepted and refused values, the combinations
 * query_check() refuses, percent-decoding, and the date arithmetic.
 */
#include "web/query.h"

#include "t.h"

struct pcase {
	const char *label, *qs;
	unsigned allowed;
	int want;	 /* 0 accepted, -1 refused */
	const char *err; /* a word the error must contain */
};

/* clang-format off */
static const struct pcase pcases[] = {
	{"empty", "", QP_TIME, 0, NULL},
	{"range 24h", "range=24h", QP_TIME, 0, NULL},
	{"range 1y", "range=1y", QP_TIME, 0, NULL},
	{"range bad", "range=2d", QP_TIME, -1, "range"},
	{"range empty", "range=", QP_TIME, -1, "range"},
	{"range no value", "range", QP_TIME, -1, "range"},
	{"from/to", "from=2026-01-01&to=2026-01-31", QP_TIME, 0, NULL},
	{"from alone", "from=2026-01-01", QP_TIME, -1, "together"},
	{"to before from", "from=2026-02-01&to=2026-01-01", QP_TIME, -1, "after"},
	{"Feb 30", "from=2026-02-30&to=2026-03-01", QP_TIME, -1, "from"},
	{"Feb 29 leap", "from=2024-02-29&to=2024-03-01", QP_TIME, 0, NULL},
	{"Feb 29 not leap", "from=2025-02-29&to=2025-03-01", QP_TIME, -1, "from"},
	{"year 1969", "from=1969-12-31&to=1970-01-02", QP_TIME, -1, "from"},
	{"date with time", "from=2026-01-01T00:00&to=2026-01-02", QP_TIME, -1, "from"},
	{"too long span", "from=2000-01-01&to=2026-01-01", QP_TIME, -1, "days"},
	{"range and from/to", "range=7d&from=2026-01-01&to=2026-01-02", QP_TIME, -1, "range"},
	{"range=custom alone", "range=custom", QP_TIME, -1, "custom"},
	{"range=custom with dates", "range=custom&from=2026-01-01&to=2026-01-02", QP_TIME, 0, NULL},
	{"unknown name", "foo=1", QP_TIME, -1, "unknown parameter"},
	{"twice", "range=7d&range=30d", QP_TIME, -1, "more than once"},
	{"not taken here", "sort=domain", QP_TIME, -1, "not taken"},
	{"limit ok", "limit=500", QP_PAGE, 0, NULL},
	{"limit 0", "limit=0", QP_PAGE, -1, "limit"},
	{"limit max", "limit=100000", QP_PAGE, 0, NULL},
	{"limit over", "limit=100001", QP_PAGE, -1, "limit"},
	{"limit sign", "limit=+5", QP_PAGE, -1, "limit"},
	{"limit negative", "limit=-5", QP_PAGE, -1, "limit"},
	{"limit huge", "limit=99999999999999999999999", QP_PAGE, -1, "limit"},
	{"offset ok", "offset=0", QP_PAGE, 0, NULL},
	{"offset space", "offset=1%202", QP_PAGE, -1, "offset"},
	{"sort", "sort=last_plaintext&order=asc", QP_SORT | QP_ORDER, 0, NULL},
	{"sort bad", "sort=../etc", QP_SORT, -1, "sort"},
	{"order bad", "order=up", QP_ORDER, -1, "order"},
	{"direction", "direction=inbound", QP_DIRECTION, 0, NULL},
	{"direction bad", "direction=sideways", QP_DIRECTION, -1, "direction"},
	{"q ok", "q=Mail.Example", QP_Q, 0, NULL},
	{"q html", "q=%3Cscript%3E", QP_Q, -1, "q"},
	{"q quote", "q=a'b", QP_Q, -1, "q"},
	{"q percent-encoded letters", "q=%61%62", QP_Q, 0, NULL},
	{"q bad escape", "q=%zz", QP_Q, -1, "encoded"},
	{"q cut escape", "q=%4", QP_Q, -1, "encoded"},
	{"q NUL", "q=a%00b", QP_Q, -1, "encoded"},
	{"q plus is space", "q=a+b", QP_Q, -1, "q"},
	{"format csv", "format=csv", QP_FORMAT, 0, NULL},
	{"format xml", "format=xml", QP_FORMAT, -1, "format"},
	{"bucket", "bucket=week", QP_BUCKET, 0, NULL},
	{"group mx", "group=mx", QP_GROUP, 0, NULL},
	{"state", "state=suppressed", QP_STATE, 0, NULL},
	{"state bad", "state=lost", QP_STATE, -1, "state"},
	{"empty fields", "&&range=7d&&", QP_TIME, 0, NULL},
	{"long name", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", QP_TIME, -1, "name"},
	{"many", "a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1&a=1", QP_TIME, -1, "unknown"},
	{NULL, NULL, 0, 0, NULL}
};
/* clang-format on */

static void
test_parse(void)
{
	const struct pcase *c;
	struct query q;
	int rc;

	for (c = pcases; c->label != NULL; c++) {
		query_init(&q);
		rc = query_parse(&q, c->qs, strlen(c->qs));
		if (rc == 0)
			rc = query_check(&q, c->allowed);
		T_INT(c->label, rc, c->want);
		if (c->err != NULL && strstr(q.err, c->err) == NULL) {
			t_fail++;
			printf("FAIL - %s: error \"%s\" lacks \"%s\"\n",
			    c->label, q.err, c->err);
		}
		if (c->want == 0)
			T_STR(c->label, q.err, "");
	}
}

static void
test_values(void)
{
	const char *qs;
	struct query q;
	int32_t f, t;

	query_init(&q);
	qs = "q=MAIL.Ex&sort=domain&limit=7&offset=3&direction=outbound"
	     "&group=mx";
	T_INT("parse", query_parse(&q, qs, strlen(qs)), 0);
	T_INT("check",
	    query_check(&q, QP_Q | QP_SORT | QP_PAGE | QP_DIRECTION | QP_GROUP),
	    0);
	T_STR("q lower-cased", q.q, "mail.ex");
	T_INT("sort", q.sort, QUERY_SORT_DOMAIN);
	T_INT("domain sorts ascending by default", q.desc, 0);
	T_INT("limit", q.limit, 7);
	T_INT("offset", q.offset, 3);
	T_INT("direction", q.dir, QUERY_DIR_OUT);
	T_INT("group", q.group, QUERY_GROUP_MX);

	query_init(&q);
	T_INT("defaults", query_check(&q, QP_PAGE), 0);
	T_INT("default limit", q.limit, QUERY_LIMIT_DEFAULT);
	T_INT("sessions sort descending by default", q.desc, 1);

	query_init(&q);
	T_INT("sort=encrypted", query_parse(&q, "sort=encrypted", 14), 0);
	T_INT("check", query_check(&q, QP_SORT), 0);
	T_INT("encrypted share sorts worst first", q.desc, 0);

	query_init(&q);
	query_days(&q, 20000, QUERY_RANGE_30D, &f, &t);
	T_INT("default 30 days from", f, 20000 - 29);
	T_INT("default 30 days to", t, 20000);
	T_INT("range=24h", query_parse(&q, "range=24h", 9), 0);
	query_days(&q, 20000, QUERY_RANGE_30D, &f, &t);
	T_INT("24h is yesterday and today", f, 19999);
	query_init(&q);
	T_INT("range=1y", query_parse(&q, "range=1y", 8), 0);
	query_days(&q, 20000, QUERY_RANGE_30D, &f, &t);
	T_INT("1y is 365 days", t - f + 1, 365);
	query_init(&q);
	T_INT("from=2026-01-01&to=2026-01-31",
	    query_parse(&q, "from=2026-01-01&to=2026-01-31", 29), 0);
	T_INT("check", query_check(&q, QP_TIME), 0);
	query_days(&q, 20000, QUERY_RANGE_30D, &f, &t);
	T_INT("custom from", f, query_civil_days(2026, 1, 1));
	T_INT("custom to", t - f, 30);
	T_INT("custom range name", q.range, QUERY_RANGE_CUSTOM);
}

static void
test_dates(void)
{
	static const struct {
		const char *s;
		int32_t day;
	} d[] = {{"1970-01-01", 0}, {"1970-01-02", 1}, {"2000-03-01", 11017},
	    {"2024-02-29", 19782}, {"2026-11-22", 20779},
	    {"9999-12-31", 2932896}, {NULL, 0}};
	char out[11];
	int32_t got;
	int i;

	for (i = 0; d[i].s != NULL; i++) {
		T_INT(d[i].s, query_date(d[i].s, 10, &got), 0);
		T_INT(d[i].s, got, d[i].day);
		query_date_str(d[i].day, out);
		T_STR(d[i].s, out, d[i].s);
	}
	/* Every day for 60 years round-trips. */
	for (got = 0; got < 366 * 60; got++) {
		int32_t back;

		query_date_str(got, out);
		if (query_date(out, 10, &back) != 0 || back != got) {
			T_INT("round trip", back, got);
			break;
		}
	}
	T_INT("round trips", got, 366 * 60);
	T_INT("not a date", query_date("2026-13-01", 10, &got), -1);
	T_INT("short", query_date("2026-1-01", 9, &got), -1);
	T_INT("letters", query_date("2026-AB-01", 10, &got), -1);
}

static void
test_domain(void)
{
	char out[QUERY_SEARCH_MAX + 1], big[300];

	T_INT("domain ok", query_domain("Mail.Example.COM", out), 0);
	T_STR("domain lower-cased", out, "mail.example.com");
	T_INT("domain with slash", query_domain("a/b", out), -1);
	T_INT("domain with space", query_domain("a b", out), -1);
	T_INT("domain empty", query_domain("", out), -1);
	T_INT("domain dotdot is a name", query_domain("..", out), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_INT("domain over 253", query_domain(big, out), -1);
	big[253] = '\0';
	T_INT("domain of 253", query_domain(big, out), 0);
}

int
main(void)
{
	test_parse();
	test_values();
	test_dates();
	test_domain();
	return t_done("test_query");
}
