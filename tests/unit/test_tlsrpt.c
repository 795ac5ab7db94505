/*
 * test_tlsrpt.c - RFC 8460 section 3 TXT record parsing and selection
 */
#include <string.h>

#include "reporter/tlsrpt.h"
#include "tests/unit/t.h"

struct tcase {
	const char *label, *in;
	enum tlsrpt_rc want;
	size_t nrua;
	const char *rua0, *rua1;
};

/* clang-format off */
static const struct tcase cases[] = {
	{"one mailto", "v=TLSRPTv1; rua=mailto:reports@example.com",
	    TLSRPT_OK, 1, "mailto:reports@example.com", NULL},
	{"trailing delimiter", "v=TLSRPTv1;rua=https://r.example/tlsrpt;",
	    TLSRPT_OK, 1, "https://r.example/tlsrpt", NULL},
	{"two uris", "v=TLSRPTv1; rua=mailto:a@x.example , https://y.example/p",
	    TLSRPT_OK, 2, "mailto:a@x.example", "https://y.example/p"},
	{"percent-encoded comma", "v=TLSRPTv1; rua=mailto:a%2Cb@x.example",
	    TLSRPT_OK, 1, "mailto:a%2Cb@x.example", NULL},
	{"extension ignored", "v=TLSRPTv1; ext.1=val; rua=mailto:a@x.example",
	    TLSRPT_OK, 1, "mailto:a@x.example", NULL},
	{"tabs around delimiter", "v=TLSRPTv1\t;\trua=mailto:a@x.example\t",
	    TLSRPT_OK, 1, "mailto:a@x.example", NULL},
	{"other scheme kept", "v=TLSRPTv1; rua=ftp://x.example/",
	    TLSRPT_OK, 1, "ftp://x.example/", NULL},
	{"not tlsrpt", "v=spf1 -all", TLSRPT_NONE, 0, NULL, NULL},
	{"version case", "v=tlsrptv1; rua=mailto:a@x.example",
	    TLSRPT_NONE, 0, NULL, NULL},
	{"other version", "v=TLSRPTv10; rua=mailto:a@x.example",
	    TLSRPT_NONE, 0, NULL, NULL},
	{"no rua", "v=TLSRPTv1; foo=bar", TLSRPT_MALFORMED, 0, NULL, NULL},
	{"version only", "v=TLSRPTv1;", TLSRPT_MALFORMED, 0, NULL, NULL},
	{"no delimiter", "v=TLSRPTv1 rua=mailto:a@x.example",
	    TLSRPT_MALFORMED, 0, NULL, NULL},
	{"raw comma in uri list end", "v=TLSRPTv1; rua=mailto:a@x.example,",
	    TLSRPT_MALFORMED, 0, NULL, NULL},
	{"raw bang", "v=TLSRPTv1; rua=mailto:a!b@x.example",
	    TLSRPT_MALFORMED, 0, NULL, NULL},
	{"bad escape", "v=TLSRPTv1; rua=mailto:a%2@x.example",
	    TLSRPT_MALFORMED, 0, NULL, NULL},
	{"empty uri", "v=TLSRPTv1; rua=mailto:", TLSRPT_MALFORMED, 0, NULL, NULL},
	{"no scheme", "v=TLSRPTv1; rua=reports@example.com",
	    TLSRPT_MALFORMED, 0, NULL, NULL},
	{"space in uri", "v=TLSRPTv1; rua=mailto:a b@x.example",
	    TLSRPT_MALFORMED, 0, NULL, NULL},
	{"empty extension value", "v=TLSRPTv1; rua=mailto:a@x.example; x=",
	    TLSRPT_MALFORMED, 0, NULL, NULL},
	{"long extension name",
	    "v=TLSRPTv1; rua=mailto:a@x.example; "
	    "abcdefghijabcdefghijabcdefghijabc=1", TLSRPT_MALFORMED, 0, NULL, NULL},
	{"double semicolon", "v=TLSRPTv1;; rua=mailto:a@x.example",
	    TLSRPT_MALFORMED, 0, NULL, NULL},
};
/* clang-format on */

int
main(void)
{
	struct tlsrpt r;
	struct span recs[3];
	char buf[64], lbl[128];
	size_t i;
	enum tlsrpt_rc rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];

		rc = tlsrpt_parse(c->in, strlen(c->in), &r);
		T_STR(c->label, tlsrpt_rc_name(rc), tlsrpt_rc_name(c->want));
		(void)snprintf(lbl, sizeof(lbl), "%s: uris", c->label);
		T_INT(lbl, r.nrua, c->nrua);
		if (c->rua0 != NULL && r.nrua > 0) {
			(void)snprintf(buf, sizeof(buf), "%.*s",
			    (int)r.rua[0].uri.len, r.rua[0].uri.p);
			T_STR(c->label, buf, c->rua0);
		}
		if (c->rua1 != NULL && r.nrua > 1) {
			(void)snprintf(buf, sizeof(buf), "%.*s",
			    (int)r.rua[1].uri.len, r.rua[1].uri.p);
			T_STR(c->label, buf, c->rua1);
		}
	}
	/* Schemes. */
	rc = tlsrpt_parse("v=TLSRPTv1; rua=mailto:a@b.c,https://d.e/", 40, &r);
	T_INT("schemes: rc", rc, TLSRPT_OK);
	T_INT("schemes: mailto", r.rua[0].scheme, TLSRPT_MAILTO);
	T_INT("schemes: https", r.rua[1].scheme, TLSRPT_HTTPS);

	/* Selection: section 3, exactly one v=TLSRPTv1 record. */
	recs[0].p = "v=spf1 -all";
	recs[0].len = strlen(recs[0].p);
	recs[1].p = "v=TLSRPTv1; rua=mailto:a@b.example";
	recs[1].len = strlen(recs[1].p);
	recs[2].p = "v=TLSRPTv1; rua=mailto:c@d.example";
	recs[2].len = strlen(recs[2].p);
	T_INT("select: other record ignored", tlsrpt_select(recs, 2, &r),
	    TLSRPT_OK);
	T_INT(
	    "select: two records", tlsrpt_select(recs, 3, &r), TLSRPT_MULTIPLE);
	T_INT("select: two records, no uris", r.nrua, 0);
	T_INT("select: none", tlsrpt_select(recs, 1, &r), TLSRPT_NONE);
	T_INT("select: empty set", tlsrpt_select(recs, 0, &r), TLSRPT_NONE);

	/* Percent decoding of a mailto address. */
	T_INT("decode", tlsrpt_pct_decode("a%2Cb%40x", 9, buf, sizeof(buf)), 5);
	T_STR("decode: text", buf, "a,b@x");
	T_INT("decode: broken", tlsrpt_pct_decode("a%4", 3, buf, sizeof(buf)),
	    -1);
	T_INT("decode: control byte",
	    tlsrpt_pct_decode("a%0Ab", 5, buf, sizeof(buf)), -1);
	T_INT("decode: too long", tlsrpt_pct_decode("abcdef", 6, buf, 4), -1);

	/* Too many URIs: kept up to the maximum, the rest counted. */
	{
		char big[2048];
		size_t n = 0, k;

		n += (size_t)snprintf(big, sizeof(big), "v=TLSRPTv1; rua=");
		for (k = 0; k < TLSRPT_RUA_MAX + 3; k++)
			n += (size_t)snprintf(big + n, sizeof(big) - n,
			    "%smailto:r%zu@x.example", k ? "," : "", k);
		T_INT("many uris: rc", tlsrpt_parse(big, n, &r), TLSRPT_OK);
		T_INT("many uris: kept", r.nrua, TLSRPT_RUA_MAX);
		T_INT("many uris: dropped", r.dropped, 3);
	}
	return t_done("test_tlsrpt");
}
