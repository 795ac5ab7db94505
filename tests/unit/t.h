/*
 * t.h - the unit tests' tiny harness (Postfix ptest, Unbound style)
 *
 * Each check prints "ok - label" or "FAIL - label: got X, want Y"; the
 * binary's last line is "N passed, N failed" and it exits non-zero when
 * anything failed.  tests/run.sh adds the counts of every binary up.
 */
#ifndef TESTS_UNIT_T_H
#define TESTS_UNIT_T_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static unsigned t_pass, t_fail;

#define T_OK(label, cond)                                                      \
	do {                                                                   \
		if (cond) {                                                    \
			t_pass++;                                              \
		} else {                                                       \
			t_fail++;                                              \
			printf("FAIL - %s: %s (%s:%d)\n", (label), #cond,      \
			    __FILE__, __LINE__);                               \
		}                                                              \
	} while (0)

#define T_STR(label, got, want)                                                \
	do {                                                                   \
		const char *t_g = (got), *t_w = (want);                        \
		if ((t_g == NULL && t_w == NULL) ||                            \
		    (t_g != NULL && t_w != NULL && strcmp(t_g, t_w) == 0))     \
			t_pass++;                                              \
		else {                                                         \
			t_fail++;                                              \
			printf("FAIL - %s: got \"%s\", want \"%s\" "           \
			       "(%s:%d)\n",                                    \
			    (label), t_g ? t_g : "(null)",                     \
			    t_w ? t_w : "(null)", __FILE__, __LINE__);         \
		}                                                              \
	} while (0)

#define T_INT(label, got, want)                                                \
	do {                                                                   \
		intmax_t t_g = (intmax_t)(got), t_w = (intmax_t)(want);        \
		if (t_g == t_w)                                                \
			t_pass++;                                              \
		else {                                                         \
			t_fail++;                                              \
			printf("FAIL - %s: got %jd, want %jd (%s:%d)\n",       \
			    (label), t_g, t_w, __FILE__, __LINE__);            \
		}                                                              \
	} while (0)

static inline int
t_done(const char *name)
{
	printf("%s: %u passed, %u failed\n", name, t_pass, t_fail);
	return t_fail == 0 ? 0 : 1;
}

#endif /* TESTS_UNIT_T_H */
