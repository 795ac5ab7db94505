/*
 * scan.c - bounded token readers (see scan.h)
 *
 * All input is untrusted.  The only place besides conf.c where numbers are
 * converted from text; no strtol so that no NUL terminator is needed.
 */
#include "scan.h"

#include <string.h>

/* clang-format off */
const uint8_t scan_alnum[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int
scan_lit_ci(const char **s, const char *end, const char *lit)
{
	size_t i, n = strlen(lit);

	if ((size_t)(end - *s) < n)
		return -1;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)(*s)[i]) !=
		    lower((unsigned char)lit[i]))
			return -1;
	*s += n;
	return 0;
}

int
scan_word(const char **s, const char *end, size_t max, struct span *out)
{
	const char *p = *s;

	while (p < end && *p != ' ') {
		if ((size_t)(p - *s) >= max)
			return -1;
		p++;
	}
	if (p == *s)
		return -1;
	out->p = *s;
	out->len = (size_t)(p - *s);
	*s = p;
	return 0;
}

int
scan_until(
    const char **s, const char *end, char stop, size_t max, struct span *out)
{
	size_t avail = (size_t)(end - *s);
	const char *q;

	q = memchr(*s, stop, avail < max + 1 ? avail : max + 1);
	if (q == NULL)
		return -1;
	out->p = *s;
	out->len = (size_t)(q - *s);
	*s = q + 1;
	return 0;
}

int
scan_until_str(const char **s, const char *end, const char *stop, size_t max,
    struct span *out)
{
	size_t n = strlen(stop);
	const char *lim, *q;

	lim = (size_t)(end - *s) > max + n ? *s + max + n : end;
	if ((q = scan_find(*s, lim, stop)) == NULL)
		return -1;
	out->p = *s;
	out->len = (size_t)(q - *s);
	*s = q + n;
	return 0;
}

int
scan_uint(const char **s, const char *end, uint64_t max, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		if (p - *s >= 19)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p == *s || v > max)
		return -1;
	*out = v;
	*s = p;
	return 0;
}

int
scan_digits(const char **s, const char *end, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if ((size_t)(end - *s) < n || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		char c = (*s)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (unsigned)(c - '0');
	}
	*out = v;
	*s += n;
	return 0;
}

int
scan_u64_str(const char *s, uint64_t max, uint64_t *out)
{
	const char *p = s, *end = s + strlen(s);

	if (scan_uint(&p, end, max, out) == -1 || p != end)
		return -1;
	return 0;
}

int
scan_i64_str(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	uint64_t v;

	if (scan_u64_str(s + neg, (uint64_t)INT64_MAX, &v) == -1)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

size_t
scan_spaces(const char **s, const char *end)
{
	const char *p = *s;
	size_t n;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	n = (size_t)(p - *s);
	*s = p;
	return n;
}

const char *
scan_find(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	if (p >= end)
		return n == 0 ? p : NULL;
	return memmem(p, (size_t)(end - p), needle, n);
}

bool
span_eq_ci(const struct span *sp, const char *lit)
{
	const char *p = sp->p;

	return sp->len == strlen(lit) &&
	       scan_lit_ci(&p, sp->p + sp->len, lit) == 0;
}

bool
span_startswith(const struct span *sp, const char *lit)
{
	size_t n = strlen(lit);

	return sp->len >= n && memcmp(sp->p, lit, n) == 0;
}

bool
span_endswith(const struct span *sp, const char *lit)
{
	size_t n = strlen(lit);

	return sp->len >= n && memcmp(sp->p + sp->len - n, lit, n) == 0;
}
