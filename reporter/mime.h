/*
 * mime.h - RFC 8460 section 5.3 report mail: build, sign, submit
 *
 * The message is multipart/report; report-type="tlsrpt": a text/plain
 * summary, then the gzipped report as application/tlsrpt+gzip named by
 * its RFC file name.  It carries TLS-Report-Domain, TLS-Report-Submitter,
 * TLS-Required: No (RFC 8689) and the RFC Subject, and is DKIM-signed
 * (dkim.h) when dkim_key is set.  It goes to report_relay over SMTP
 * (libcurl, STARTTLS when offered) or to report_sendmail.
 * Ownership: struct mime_report's members are borrowed for the call;
 * mime_build() returns a new buffer the caller frees.
 */
#ifndef REPORTER_MIME_H
#define REPORTER_MIME_H

#include <stddef.h>
#include <time.h>

#define MIME_ERR_MAX 255
#define MIME_ADDR_MAX 320 /* RFC 5321 4.5.3.1: 64 + 1 + 255 */

struct mime_report {
	const char *report_id; /* "<unique>@<submitter>" */
	const char *domain;    /* the policy domain */
	const char *filename;  /* RFC 8460 file name, .json.gz */
	const char *gz;	       /* the gzipped report */
	size_t gzlen;
	const char *summary; /* the human-readable part */
};

/*
 * The address of a mailto: URI without "mailto:" (`uri', untrusted, from
 * DNS): hfields after "?" dropped, percent-decoded, checked to be one
 * plain addr-spec (no space, quotes, brackets, commas or controls).
 * Returns 0 with the address in out, or -1.
 */
int mime_rcpt(const char *uri, char *out, size_t outlen)
    __attribute__((warn_unused_result));

/*
 * The complete message (CRLF line ends, DKIM-Signature first when
 * signing) for recipient `rcpt' (an address from mime_rcpt()), dated
 * `now'.  Returns a new buffer with *len set, or NULL with err set.
 */
char *mime_build(const struct mime_report *, const char *rcpt, time_t now,
    size_t *len, char *err, size_t errlen);

/*
 * Send the report to `addr' (a mailto: URI's address, percent-encoded).
 * Returns 0 when the relay or sendmail accepted it, else -1 with err set.
 */
int mime_send(const struct mime_report *, const char *addr, char *err,
    size_t errlen) __attribute__((warn_unused_result));

#endif /* REPORTER_MIME_H */
