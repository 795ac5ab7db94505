/*
 * test_scan.c - the bounded text cursor (common/scan.c)
 */
#include "common/scan.h"

#include <stdlib.h>

#include "t.h"

struct word_case {
	const char *label, *in;
	size_t max;
	int rc;
	const char *want, *rest;
};

static void
test_word(void)
{
	static const struct word_case cases[] = {
	    {"plain word", "abc def", 10, 0, "abc", " def"},
	    {"word at end", "abc", 10, 0, "abc", ""},
	    {"empty input", "", 10, -1, NULL, ""},
	    {"leading space", " abc", 10, -1, NULL, " abc"},
	    {"exactly max", "abcd e", 4, 0, "abcd", " e"},
	    {"over max", "abcde f", 4, -1, NULL, "abcde f"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct word_case *c = &cases[i];
		const char *s = c->in, *end = c->in + strlen(c->in);
		struct span sp;
		char got[64];
		int rc = scan_word(&s, end, c->max, &sp);

		T_INT(c->label, rc, c->rc);
		if (rc == 0) {
			(void)snprintf(
			    got, sizeof(got), "%.*s", (int)sp.len, sp.p);
			T_STR(c->label, got, c->want);
		}
		T_STR(c->label, s, c->rest);
	}
}

static void
test_until_and_uint(void)
{
	const char *in = "mx.example.com[192.0.2.1]:25: rest";
	const char *s = in, *end = in + strlen(in);
	struct span host, ip;
	uint64_t port;

	T_INT("until [", scan_until(&s, end, '[', 253, &host), 0);
	T_INT("host length", host.len, 14);
	T_INT("until ]", scan_until(&s, end, ']', 45, &ip), 0);
	T_OK("ip span", span_eq(&ip, "192.0.2.1"));
	T_INT("literal :", scan_lit(&s, end, ":"), 0);
	T_INT("port", scan_uint(&s, end, 65535, &port), 0);
	T_INT("port value", port, 25);
	T_INT("port too big",
	    scan_uint(&(const char *){"65536"}, "65536" + 5, 65535, &port), -1);
	s = "abc";
	T_INT("until absent", scan_until(&s, s + 3, ']', 10, &ip), -1);
	T_STR("cursor kept on failure", s, "abc");
	s = "aaaaaaaaaa]";
	T_INT("until beyond max", scan_until(&s, s + 11, ']', 5, &ip), -1);
	s = "12345678901234567890";
	T_INT(
	    "20 digits refused", scan_uint(&s, s + 20, UINT64_MAX, &port), -1);
}

static void
test_misc(void)
{
	const char *s = "STARTTLS", *end = s + 8;
	struct span sp = {"Verified", 8};
	uint64_t v;
	int64_t iv;
	unsigned d;

	T_INT("lit_ci", scan_lit_ci(&s, end, "starttls"), 0);
	T_OK("span_eq", span_eq(&sp, "Verified"));
	T_OK("span_eq differs", !span_eq(&sp, "Verifie"));
	T_OK("span_eq_ci", span_eq_ci(&sp, "VERIFIED"));
	T_OK("startswith", span_startswith(&sp, "Veri"));
	T_OK("endswith", span_endswith(&sp, "fied"));
	T_INT("u64_str", scan_u64_str("90", 100, &v), 0);
	T_INT("u64_str value", v, 90);
	T_INT("u64_str trailing junk", scan_u64_str("90x", 100, &v), -1);
	T_INT("u64_str empty", scan_u64_str("", 100, &v), -1);
	T_INT("i64_str negative", scan_i64_str("-42", &iv), 0);
	T_INT("i64_str value", iv, -42);
	s = "2026";
	T_INT("digits", scan_digits(&s, s + 4, 4, &d), 0);
	T_INT("digits value", d, 2026);
	s = "20x6";
	T_INT("digits non-digit", scan_digits(&s, s + 4, 4, &d), -1);
	s = "   x";
	T_INT("spaces skipped", scan_spaces(&s, s + 4), 3);
	T_OK("find", scan_find("abcdef", "abcdef" + 6, "cd") != NULL);
	T_OK("find absent", scan_find("abcdef", "abcdef" + 6, "xy") == NULL);
	/* A needle straddling the end must not be found past it. */
	T_OK("find bounded", scan_find("abcdef", "abcdef" + 3, "cd") == NULL);
}

int
main(void)
{
	test_word();
	test_until_and_uint();
	test_misc();
	return t_done("test_scan");
}
