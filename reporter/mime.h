/*
 * mime.h - RFC 8460 section 5.3 report mail: build, sign, submit
 *
 * Ownership: struct mime_report's members are borrowed for the call.
 */
#ifndef REPORTER_MIME_H
#define REPORTER_MIME_H

#include <stddef.h>

#define MIME_ERR_MAX 255

struct mime_report {
	const char *report_id; /* "<unique>@<submitter>" */
	const char *domain;    /* the policy domain */
	const char *filename;  /* RFC 8460 file name, .json.gz */
	const char *gz;	       /* the gzipped report */
	size_t gzlen;
	const char *summary; /* the human-readable part */
};

/*
 * Send the report to `addr' (a mailto: URI's address, percent-encoded).
 * Returns 0 when the relay or sendmail accepted it, else -1 with err set.
 */
int mime_send(const struct mime_report *, const char *addr, char *err,
    size_t errlen) __attribute__((warn_unused_result));

#endif /* REPORTER_MIME_H */
