/*
 * http.h - the reporter's HTTPS requests (libcurl): MTA-STS policy GET
 * and RFC 8460 section 5.4 report POST
 *
 * Host names are resolved through the reporter's own resolver (dns.h)
 * when one is given, so that tests can serve them from a loopback DNS
 * server; otherwise libcurl resolves them.  Only https: URLs are allowed
 * and redirects are never followed (RFC 8461 section 3.3).
 * Ownership: struct http_resp's body is a new buffer freed by
 * http_resp_free().
 */
#ifndef REPORTER_HTTP_H
#define REPORTER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "reporter/dns.h"

#define HTTP_ERR_MAX 255

struct http_resp {
	long code;  /* HTTP status; 0 when none was received */
	char *body; /* NUL-terminated; NULL for POST */
	size_t len;
	char err[HTTP_ERR_MAX + 1]; /* why it failed, for the records */
};

struct http_opts {
	struct dns *dns;     /* NULL: libcurl resolves */
	const char *ca_file; /* extra CA bundle, or NULL/empty: system */
	long timeout_ms;
	size_t max_body; /* GET: larger bodies are an error */
	bool insecure;	 /* POST: accept any certificate (RFC 8460 5.4) */
};

/*
 * GET `url'.  Returns 0 when a 200 response of at most max_body bytes
 * arrived (body set), else -1 with code and err set.
 */
int http_get(const struct http_opts *, const char *url, struct http_resp *)
    __attribute__((warn_unused_result));
/*
 * POST `len' bytes with `ctype'.  Returns 0 on a 2xx answer, else -1
 * with code and err set.
 */
int http_post(const struct http_opts *, const char *url, const char *ctype,
    const void *data, size_t len, struct http_resp *)
    __attribute__((warn_unused_result));
void http_resp_free(struct http_resp *);

#endif /* REPORTER_HTTP_H */
