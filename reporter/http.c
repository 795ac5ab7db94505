/*
 * http.c - HTTPS GET (MTA-STS policies) and POST (reports) with libcurl
 *
 * Untrusted input: response bodies (bounded by max_body, counted as they
 * arrive) and status lines.  RFC 8461 section 3.3: only 200 counts, no
 * redirects, a size and a time limit, the certificate must be valid for
 * the host.  RFC 8460 section 5.4: POST, 2xx is success, certificate
 * errors may be ignored (http_opts.insecure).  One easy handle per call.
 */
#include "reporter/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xmalloc.h"

#define HTTP_HOST_MAX 255
#define HTTP_USER_AGENT "tlsflow/" TLSFLOW_VERSION

#ifndef TLSFLOW_VERSION
#define TLSFLOW_VERSION "0"
#endif

static bool http_inited;

static size_t
http_write(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	/* buf_add() fails past the maximum: curl then aborts the body. */
	if (buf_add(b, p, size * n) == -1)
		return 0;
	return size * n;
}

static size_t
http_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/*
 * Pin the URL's host to an address from our resolver: "host:port:ip" for
 * CURLOPT_RESOLVE.  Returns a new list, or NULL when libcurl should
 * resolve (no resolver, or an IP literal) or on failure (err set).
 */
static struct curl_slist *
http_resolve(const struct http_opts *o, const char *url, struct http_resp *r,
    bool *failed)
{
	char ip[64], line[HTTP_HOST_MAX + 80];
	char *host = NULL, *port = NULL;
	struct curl_slist *sl = NULL;
	CURLU *u;
	enum dns_rc rc;

	*failed = false;
	if (o->dns == NULL)
		return NULL;
	if ((u = curl_url()) == NULL)
		fatalx("http: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
		CURLUE_OK) {
		(void)snprintf(r->err, sizeof(r->err), "bad url");
		*failed = true;
		goto out;
	}
	if (host[0] == '[' || strspn(host, "0123456789.") == strlen(host))
		goto out; /* a literal address */
	if (strlen(host) > HTTP_HOST_MAX) {
		(void)snprintf(r->err, sizeof(r->err), "host name too long");
		*failed = true;
		goto out;
	}
	rc = dns_addr(o->dns, host, ip, sizeof(ip));
	if (rc != DNS_OK) {
		(void)snprintf(r->err, sizeof(r->err), "resolve %s: %s", host,
		    dns_rc_name(rc));
		*failed = true;
		goto out;
	}
	(void)snprintf(line, sizeof(line), "%s:%s:%s%s%s", host, port,
	    strchr(ip, ':') ? "[" : "", ip, strchr(ip, ':') ? "]" : "");
	if ((sl = curl_slist_append(NULL, line)) == NULL)
		fatalx("http: out of memory");
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return sl;
}

static CURL *
http_easy(const struct http_opts *o, const char *url, struct http_resp *r,
    struct curl_slist **resolve)
{
	bool failed;
	CURL *c;

	memset(r, 0, sizeof(*r));
	if (!http_inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			fatalx("http: curl_global_init failed");
		http_inited = true;
	}
	*resolve = http_resolve(o, url, r, &failed);
	if (failed)
		return NULL;
	if ((c = curl_easy_init()) == NULL)
		fatalx("http: out of memory");
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT, HTTP_USER_AGENT);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->err);
	if (o->ca_file != NULL && o->ca_file[0] != '\0')
		(void)curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	if (*resolve != NULL)
		(void)curl_easy_setopt(c, CURLOPT_RESOLVE, *resolve);
	return c;
}

/* After perform: fill code and err; true when `ok' holds for the code. */
static bool
http_finish(CURL *c, CURLcode cc, struct http_resp *r, bool two_xx)
{
	char tmp[HTTP_ERR_MAX + 1];

	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
	if (cc != CURLE_OK) {
		if (r->err[0] == '\0')
			(void)snprintf(r->err, sizeof(r->err), "%s",
			    curl_easy_strerror(cc));
		(void)snprintf(tmp, sizeof(tmp), "%s", r->err);
		(void)snprintf(
		    r->err, sizeof(r->err), "%s", log_str(tmp, strlen(tmp)));
		return false;
	}
	if (two_xx ? (r->code >= 200 && r->code <= 299) : r->code == 200)
		return true;
	(void)snprintf(r->err, sizeof(r->err), "HTTP status %ld", r->code);
	return false;
}

int
http_get(const struct http_opts *o, const char *url, struct http_resp *r)
{
	struct curl_slist *resolve = NULL;
	struct buf b;
	CURLcode cc;
	CURL *c;
	int rc = -1;

	buf_init(&b, o->max_body);
	if ((c = http_easy(o, url, r, &resolve)) == NULL)
		goto out;
	(void)curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	cc = curl_easy_perform(c);
	if (cc == CURLE_WRITE_ERROR) {
		(void)snprintf(r->err, sizeof(r->err),
		    "body larger than %zu bytes", o->max_body);
		(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
		goto out;
	}
	if (!http_finish(c, cc, r, false))
		goto out;
	r->len = b.len;
	r->body = buf_steal(&b);
	rc = 0;
out:
	buf_free(&b);
	curl_easy_cleanup(c);
	curl_slist_free_all(resolve);
	return rc;
}

int
http_post(const struct http_opts *o, const char *url, const char *ctype,
    const void *data, size_t len, struct http_resp *r)
{
	struct curl_slist *resolve = NULL, *hdrs = NULL;
	char ct[128];
	CURLcode cc;
	CURL *c;
	int rc = -1;

	if ((c = http_easy(o, url, r, &resolve)) == NULL)
		goto out;
	(void)snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
	if ((hdrs = curl_slist_append(NULL, ct)) == NULL ||
	    (hdrs = curl_slist_append(hdrs, "Expect:")) == NULL)
		fatalx("http: out of memory");
	(void)curl_easy_setopt(c, CURLOPT_POST, 1L);
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_discard);
	if (o->insecure) {
		(void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		(void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	cc = curl_easy_perform(c);
	if (http_finish(c, cc, r, true))
		rc = 0;
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(resolve);
	return rc;
}

void
http_resp_free(struct http_resp *r)
{
	if (r == NULL)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}
