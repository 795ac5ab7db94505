/*
 * report.h - build one RFC 8460 report for one policy domain and day
 *
 * report_build() turns the day's grouped sessions of a domain (aggregate.h)
 * and the policy lookups (lookup.h) into the report JSON, its RFC file
 * name, its report-id and a human-readable summary.
 * Ownership: report_build() returns a new struct report freed by
 * report_free(); its json and lookups members are references it owns.
 */
#ifndef REPORTER_REPORT_H
#define REPORTER_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "reporter/aggregate.h"
#include "reporter/lookup.h"

#define REPORT_ID_MAX 127
#define REPORT_FILENAME_MAX 600

struct report {
	char domain[256];
	char day[16];
	char report_id[REPORT_ID_MAX + 1];
	char filename[REPORT_FILENAME_MAX + 1];
	const char *policy_type; /* of the first policy (static string) */
	json_t *json;		 /* the RFC 8460 document */
	json_t *lookups;	 /* what was looked up, for the records */
	int64_t successful, failed, unknown;
	size_t npolicies;
};

/*
 * Build the report of domain d for `day' (YYYY-MM-DD).  `lk' may be NULL
 * (no lookups: every policy is no-policy-found unless the log proves
 * one).  Returns NULL when the domain name is not a valid A-label name
 * (logged at debug level; such sessions cannot be reported).
 */
struct report *report_build(
    const struct agg_domain *d, const char *day, struct lookup *lk);
void report_free(struct report *);

/* The submitter domain: the domain part of contact-info. */
const char *report_submitter(void);
/* contact-info as configured, else postmaster@<hostname>. */
const char *report_contact(void);

/*
 * The document as compact JSON (a new string the caller frees), and
 * gzipped (a new buffer in *out, length *outlen).  0 or -1.
 */
char *report_text(const struct report *);
int report_gzip(const char *data, size_t len, unsigned char **out,
    size_t *outlen) __attribute__((warn_unused_result));
/*
 * The human-readable summary (RFC 8460 section 5.3's first part): totals,
 * failures, sessions of unknown TLS state.  A new string.
 */
char *report_summary(const struct report *);

/* True when `s' is a domain name in A-label (LDH, ASCII) form. */
bool report_alabel(const char *s);

#endif /* REPORTER_REPORT_H */
