/*
 * test_sts.c - RFC 8461 TXT record, policy file and MX pattern matching
 */
#include <string.h>

#include "reporter/sts.h"
#include "tests/unit/t.h"

struct txtcase {
	const char *label, *in;
	enum sts_rc want;
	const char *id;
};

/* clang-format off */
static const struct txtcase txtcases[] = {
	{"plain", "v=STSv1; id=20160831085700Z;", STS_OK, "20160831085700Z"},
	{"no trailing", "v=STSv1;id=abc", STS_OK, "abc"},
	{"extension", "v=STSv1; x-foo=bar; id=1", STS_OK, "1"},
	{"no id", "v=STSv1;", STS_MALFORMED, NULL},
	{"bad id char", "v=STSv1; id=ab-c", STS_MALFORMED, NULL},
	{"id too long", "v=STSv1; id=123456789012345678901234567890123",
	    STS_MALFORMED, NULL},
	{"other record", "v=spf1 -all", STS_NONE, NULL},
	{"version glued", "v=STSv1id=1", STS_NONE, NULL},
};

struct polcase {
	const char *label, *in;
	enum sts_rc want;
	enum sts_mode mode;
	size_t nline, nmx;
	unsigned long long max_age;
};

static const struct polcase polcases[] = {
	{"rfc example",
	    "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
	    "mx: *.example.net\r\nmx: backupmx.example.com\r\n"
	    "max_age: 604800\r\n", STS_OK, STS_MODE_ENFORCE, 6, 3, 604800},
	{"lf, no final newline",
	    "version: STSv1\nmode: testing\nmx: mx.a.example\nmax_age: 86400",
	    STS_OK, STS_MODE_TESTING, 4, 1, 86400},
	{"mode none without mx",
	    "version: STSv1\nmode: none\nmax_age: 1\n", STS_OK, STS_MODE_NONE,
	    3, 0, 1},
	{"unknown key kept as line",
	    "version: STSv1\nmode: enforce\nfoo: bar baz\nmx: m.example\n"
	    "max_age: 5\n", STS_OK, STS_MODE_ENFORCE, 5, 1, 5},
	{"first mode wins",
	    "version: STSv1\nmode: testing\nmode: enforce\nmx: m.example\n"
	    "max_age: 5\n", STS_OK, STS_MODE_TESTING, 5, 1, 5},
	{"missing mx", "version: STSv1\nmode: enforce\nmax_age: 5\n",
	    STS_MALFORMED, STS_MODE_NONE, 0, 0, 0},
	{"missing version", "mode: enforce\nmx: m.example\nmax_age: 5\n",
	    STS_MALFORMED, STS_MODE_NONE, 0, 0, 0},
	{"bad version", "version: STSv2\nmode: enforce\nmx: m.example\n"
	    "max_age: 5\n", STS_MALFORMED, STS_MODE_NONE, 0, 0, 0},
	{"bad mode", "version: STSv1\nmode: strict\nmx: m.example\n"
	    "max_age: 5\n", STS_MALFORMED, STS_MODE_NONE, 0, 0, 0},
	{"max_age too big", "version: STSv1\nmode: enforce\nmx: m.example\n"
	    "max_age: 31557601\n", STS_MALFORMED, STS_MODE_NONE, 0, 0, 0},
	{"bad mx", "version: STSv1\nmode: enforce\nmx: m_x.example\n"
	    "max_age: 5\n", STS_MALFORMED, STS_MODE_NONE, 0, 0, 0},
	{"deep wildcard", "version: STSv1\nmode: enforce\nmx: *.*.example\n"
	    "max_age: 5\n", STS_MALFORMED, STS_MODE_NONE, 0, 0, 0},
	{"html", "<html><body>hi</body></html>\n", STS_MALFORMED,
	    STS_MODE_NONE, 0, 0, 0},
	{"blank line inside", "version: STSv1\n\nmode: enforce\n"
	    "mx: m.example\nmax_age: 5\n", STS_MALFORMED, STS_MODE_NONE, 0, 0, 0},
	{"empty", "", STS_MALFORMED, STS_MODE_NONE, 0, 0, 0},
};
/* clang-format on */

static void
match(const char *pat, const char *host, bool want)
{
	struct span s = {pat, strlen(pat)};
	char lbl[128];

	(void)snprintf(lbl, sizeof(lbl), "match %s %s", pat, host);
	T_INT(lbl, sts_mx_match(&s, host), want);
}

int
main(void)
{
	struct sts_policy pol;
	struct span id, recs[2];
	char buf[64], lbl[128];
	size_t i;
	enum sts_rc rc;

	for (i = 0; i < sizeof(txtcases) / sizeof(txtcases[0]); i++) {
		const struct txtcase *c = &txtcases[i];

		rc = sts_parse_txt(c->in, strlen(c->in), &id);
		T_STR(c->label, sts_rc_name(rc), sts_rc_name(c->want));
		if (c->id != NULL) {
			(void)snprintf(buf, sizeof(buf), "%.*s", (int)id.len,
			    id.p ? id.p : "");
			T_STR(c->label, buf, c->id);
		}
	}
	recs[0].p = "v=STSv1; id=1";
	recs[0].len = strlen(recs[0].p);
	recs[1].p = "v=STSv1; id=2";
	recs[1].len = strlen(recs[1].p);
	T_INT("txt select one", sts_select_txt(recs, 1, &id), STS_OK);
	T_INT("txt select two", sts_select_txt(recs, 2, &id), STS_MULTIPLE);
	T_INT("txt select none", sts_select_txt(recs, 0, &id), STS_NONE);

	for (i = 0; i < sizeof(polcases) / sizeof(polcases[0]); i++) {
		const struct polcase *c = &polcases[i];

		rc = sts_parse_policy(c->in, strlen(c->in), &pol);
		T_STR(c->label, sts_rc_name(rc), sts_rc_name(c->want));
		if (c->want != STS_OK)
			continue;
		(void)snprintf(lbl, sizeof(lbl), "%s: mode", c->label);
		T_STR(lbl, sts_mode_name(pol.mode), sts_mode_name(c->mode));
		(void)snprintf(lbl, sizeof(lbl), "%s: lines", c->label);
		T_INT(lbl, pol.nline, c->nline);
		(void)snprintf(lbl, sizeof(lbl), "%s: mx", c->label);
		T_INT(lbl, pol.nmx, c->nmx);
		(void)snprintf(lbl, sizeof(lbl), "%s: max_age", c->label);
		T_INT(lbl, pol.max_age, c->max_age);
	}
	/* Lines are kept as written, without the line ending. */
	rc = sts_parse_policy(polcases[0].in, strlen(polcases[0].in), &pol);
	(void)snprintf(
	    buf, sizeof(buf), "%.*s", (int)pol.line[3].len, pol.line[3].p);
	T_STR("line text", buf, "mx: *.example.net");
	(void)snprintf(
	    buf, sizeof(buf), "%.*s", (int)pol.mx[1].len, pol.mx[1].p);
	T_STR("mx pattern text", buf, "*.example.net");

	match("mail.example.com", "mail.example.com", true);
	match("mail.example.com", "MAIL.Example.com.", true);
	match("*.example.com", "mx1.example.com", true);
	match("*.example.com", "example.com", false);
	match("*.example.com", "a.b.example.com", false);
	match("mail.example.com", "mail.example.co", false);
	match("*.example.com", ".example.com", false);
	return t_done("test_sts");
}
