/*
 * scan.h - bounded token readers over untrusted text (curl strparse)
 *
 * A cursor is a `const char *' advanced through [*s, end); nothing reads
 * at or past `end' and nothing needs NUL termination.  Every reader takes
 * a maximum length or value, returns 0 and advances on success, and
 * returns -1 leaving the cursor where it was on failure.  Tokens come back
 * as a `struct span' that points into the input (borrowed).
 */
#ifndef COMMON_SCAN_H
#define COMMON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct span {
	const char *p;
	size_t len;
};

/*
 * Exactly the literal `lit' (case-sensitive).  Inline, like span_eq():
 * with a literal argument its length is a constant and the test one
 * compare, and parsers try many per line.
 */
__attribute__((warn_unused_result)) static inline int
scan_lit(const char **s, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *s) < n || memcmp(*s, lit, n) != 0)
		return -1;
	*s += n;
	return 0;
}
/* The literal `lit', ignoring ASCII case. */
int scan_lit_ci(const char **s, const char *end, const char *lit)
    __attribute__((warn_unused_result));
/* 1..max bytes up to (not including) a space or end; empty fails. */
int scan_word(const char **s, const char *end, size_t max, struct span *out)
    __attribute__((warn_unused_result));
/*
 * 0..max bytes up to the byte `stop', which is consumed too; fails when
 * `stop' does not occur within max bytes.
 */
int scan_until(const char **s, const char *end, char stop, size_t max,
    struct span *out) __attribute__((warn_unused_result));
/* Like scan_until() with a string delimiter (consumed). */
int scan_until_str(const char **s, const char *end, const char *stop,
    size_t max, struct span *out) __attribute__((warn_unused_result));
/* Decimal digits with value <= max (at most 19 digits). */
int scan_uint(const char **s, const char *end, uint64_t max, uint64_t *out)
    __attribute__((warn_unused_result));
/* Exactly n decimal digits. */
int scan_digits(const char **s, const char *end, size_t n, unsigned *out)
    __attribute__((warn_unused_result));
/* A whole NUL-terminated string as a number <= max; -1 if it is not. */
int scan_u64_str(const char *s, uint64_t max, uint64_t *out)
    __attribute__((warn_unused_result));
/* A whole NUL-terminated string as a signed 64-bit number. */
int scan_i64_str(const char *s, int64_t *out)
    __attribute__((warn_unused_result));
/* Skip spaces (and tabs); returns how many were skipped. */
size_t scan_spaces(const char **s, const char *end);

/* First occurrence of `needle' in [p, end), or NULL. */
const char *scan_find(const char *p, const char *end, const char *needle);

static inline bool
span_eq(const struct span *sp, const char *lit)
{
	size_t n = strlen(lit);

	return sp->len == n && memcmp(sp->p, lit, n) == 0;
}

/* 1 for the ASCII letters and digits, else 0. */
extern const uint8_t scan_alnum[256];
static inline bool
scan_isalnum(char c)
{
	return scan_alnum[(unsigned char)c] != 0;
}
bool span_eq_ci(const struct span *, const char *lit);
bool span_startswith(const struct span *, const char *lit);
bool span_endswith(const struct span *, const char *lit);

#endif /* COMMON_SCAN_H */
