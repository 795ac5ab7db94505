/*
 * sts.h - RFC 8461 MTA-STS: the "_mta-sts" TXT record and the policy file
 *
 * Pure parsing: no I/O and no allocation, so it can be fuzzed alone (the
 * HTTPS fetch is stsfetch.c).  Results point into the caller's text
 * (borrowed spans) and live as long as it does.
 */
#ifndef REPORTER_STS_H
#define REPORTER_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/scan.h"

#define STS_POLICY_MAX 65536 /* RFC 8461 section 3.3: 64 KB suggested */
#define STS_LINES_MAX 64     /* policy lines kept as policy-string */
#define STS_MX_MAX 32	     /* mx patterns kept */
#define STS_ID_MAX 32	     /* sts-id = 1*32(ALPHA / DIGIT) */
#define STS_MAX_AGE_MAX 31557600

enum sts_rc {
	STS_OK = 0,
	STS_NONE,     /* TXT: no record begins with v=STSv1 */
	STS_MULTIPLE, /* TXT: more than one does */
	STS_MALFORMED /* does not match the ABNF or misses a field */
};

enum sts_mode { STS_MODE_NONE = 0, STS_MODE_TESTING, STS_MODE_ENFORCE };

/*
 * One record of "_mta-sts.<domain>" (RFC 8461 section 3.1), e.g.
 *   "v=STSv1; id=20160831085700Z;"
 * Returns STS_OK with *id set, STS_NONE or STS_MALFORMED.
 */
enum sts_rc sts_parse_txt(const char *p, size_t len, struct span *id);
/* Section 3.1 selection over one RRset: exactly one v=STSv1 record. */
enum sts_rc sts_select_txt(const struct span *recs, size_t n, struct span *id);

struct sts_policy {
	enum sts_mode mode;
	uint64_t max_age;
	struct span line[STS_LINES_MAX]; /* every non-empty line, in order */
	size_t nline;
	struct span mx[STS_MX_MAX]; /* the mx patterns, in order */
	size_t nmx;
};

/*
 * The policy file (RFC 8461 section 3.2), lines ending in LF or CRLF:
 *   version: STSv1
 *   mode: enforce
 *   mx: mail.example.com
 *   mx: *.example.net
 *   max_age: 86400
 * version, mode and max_age are required, and at least one mx unless the
 * mode is none; unknown keys are ignored and the first of a repeated
 * non-mx key wins.  Returns STS_OK or STS_MALFORMED.
 */
enum sts_rc sts_parse_policy(const char *p, size_t len, struct sts_policy *out);

/*
 * RFC 8461 section 4.1: does MX host `host' match pattern `pat'?  "*."
 * matches exactly one left-most label.  Case-insensitive; a trailing dot
 * on host is ignored.
 */
bool sts_mx_match(const struct span *pat, const char *host);

const char *sts_mode_name(enum sts_mode);
const char *sts_rc_name(enum sts_rc);

#endif /* REPORTER_STS_H */
