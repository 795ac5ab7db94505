/*
 * dns.c - TXT, TLSA and address lookups through c-ares
 *
 * Untrusted input: every DNS answer.  TXT and address answers are parsed
 * by c-ares; TLSA (RFC 6698 section 2.1, type 52) is walked here with
 * bounds checks on every read, names skipped with ares_expand_name().
 * Single-threaded: one query at a time on the object's channel.
 */
#include "reporter/dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>
#include <arpa/nameser.h>

#include "common/log.h"
#include "common/xmalloc.h"

#define DNS_T_TLSA 52
#define DNS_ANSWER_MAX 65535
/* ares_getsock() bits; c-ares' own macros shift 1 << 31 in an int (UB). */
#define DNS_RD(bits, i) (((unsigned)(bits) >> (i)) & 1u)
#define DNS_WR(bits, i) (((unsigned)(bits) >> ((i) + ARES_GETSOCK_MAXNUM)) & 1u)

struct dns {
	ares_channel ch;
};

struct dns_q {
	bool done;
	int status;
	unsigned char *abuf;
	int alen;
};

static int dns_inits;

struct dns *
dns_open(const char *servers, int timeout_ms, int tries)
{
	struct ares_options o;
	struct dns *d;
	int rc;

	if (dns_inits++ == 0 && (rc = ares_library_init(ARES_LIB_INIT_ALL))) {
		log_warnx("dns: init: %s", ares_strerror(rc));
		dns_inits--;
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	memset(&o, 0, sizeof(o));
	o.timeout = timeout_ms;
	o.tries = tries;
	rc = ares_init_options(&d->ch, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		log_warnx("dns: init: %s", ares_strerror(rc));
		free(d);
		if (--dns_inits == 0)
			ares_library_cleanup();
		return NULL;
	}
	if (servers != NULL && servers[0] != '\0' &&
	    (rc = ares_set_servers_ports_csv(d->ch, servers)) != ARES_SUCCESS) {
		log_warnx("dns: servers %s: %s", servers, ares_strerror(rc));
		dns_close(d);
		return NULL;
	}
	return d;
}

void
dns_close(struct dns *d)
{
	if (d == NULL)
		return;
	ares_destroy(d->ch);
	free(d);
	if (--dns_inits == 0)
		ares_library_cleanup();
}

static void
dns_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_q *q = arg;

	(void)timeouts;
	q->done = true;
	q->status = status;
	if (status == ARES_SUCCESS && abuf != NULL && alen > 0 &&
	    alen <= DNS_ANSWER_MAX) {
		q->abuf = xmalloc((size_t)alen);
		memcpy(q->abuf, abuf, (size_t)alen);
		q->alen = alen;
	}
}

/* Run one query to completion; returns the c-ares status. */
static int
dns_run(struct dns *d, const char *name, int type, struct dns_q *q)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	struct timeval tv, *tvp;
	int bits, i, n, ms;

	memset(q, 0, sizeof(*q));
	ares_query(d->ch, name, ns_c_in, type, dns_cb, q);
	while (!q->done) {
		bits = ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
		n = 0;
		for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			if (!DNS_RD(bits, i) && !DNS_WR(bits, i))
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events =
			    (short)((DNS_RD(bits, i) ? POLLIN : 0) |
				    (DNS_WR(bits, i) ? POLLOUT : 0));
			pfd[n].revents = 0;
			n++;
		}
		tvp = ares_timeout(d->ch, NULL, &tv);
		ms = tvp ? (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000)
			 : 1000;
		if (poll(pfd, (nfds_t)n, ms + 1) < 0)
			continue; /* EINTR: c-ares keeps its own clock */
		if (n == 0) {
			ares_process_fd(
			    d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (i = 0; i < n; i++)
			ares_process_fd(d->ch,
			    pfd[i].revents & (POLLIN | POLLERR | POLLHUP)
				? pfd[i].fd
				: ARES_SOCKET_BAD,
			    pfd[i].revents & POLLOUT ? pfd[i].fd
						     : ARES_SOCKET_BAD);
	}
	return q->status;
}

static enum dns_rc
dns_status(int status, const char *name)
{
	if (status == ARES_SUCCESS)
		return DNS_OK;
	if (status == ARES_ENOTFOUND || status == ARES_ENODATA)
		return DNS_NODATA;
	log_debug(
	    "dns: %s: %s", log_str(name, strlen(name)), ares_strerror(status));
	return DNS_FAIL;
}

enum dns_rc
dns_txt(struct dns *d, const char *name, struct dns_rrs *out)
{
	struct ares_txt_ext *txt = NULL, *t;
	struct dns_q q;
	enum dns_rc rc;
	size_t cur = 0;
	char *rr;
	int st;

	memset(out, 0, sizeof(*out));
	if ((rc = dns_status(dns_run(d, name, ns_t_txt, &q), name)) != DNS_OK)
		goto out;
	st = ares_parse_txt_reply_ext(q.abuf, q.alen, &txt);
	if (st != ARES_SUCCESS) {
		rc = dns_status(st, name);
		goto out;
	}
	/* record_start marks a new RR; the other chunks are joined to it. */
	for (t = txt; t != NULL; t = t->next) {
		if (t->record_start || out->n == 0) {
			if (out->n == DNS_RRS_MAX)
				break;
			cur = out->n++;
			out->rr[cur] = xcalloc(1, 1);
			out->len[cur] = 0;
		}
		if (out->len[cur] + t->length > DNS_TXT_MAX)
			continue; /* too long: the parsers reject it */
		rr = xreallocarray(
		    out->rr[cur], out->len[cur] + t->length + 1, 1);
		memcpy(rr + out->len[cur], t->txt, t->length);
		out->len[cur] += t->length;
		rr[out->len[cur]] = '\0';
		out->rr[cur] = rr;
	}
	rc = out->n > 0 ? DNS_OK : DNS_NODATA;
out:
	if (txt != NULL)
		ares_free_data(txt);
	free(q.abuf);
	return rc;
}

static bool
get16(const unsigned char *p, const unsigned char *end, unsigned *v)
{
	if (end - p < 2)
		return false;
	*v = (unsigned)(p[0] << 8 | p[1]);
	return true;
}

/* Skip a possibly compressed name at *p. */
static bool
skip_name(const unsigned char **p, const unsigned char *abuf, int alen)
{
	char *name;
	long enclen;

	if (ares_expand_name(*p, abuf, alen, &name, &enclen) != ARES_SUCCESS)
		return false;
	ares_free_string(name);
	*p += enclen;
	return true;
}

enum dns_rc
dns_tlsa(struct dns *d, const char *name, struct dns_rrs *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p, *end;
	unsigned qd, an, type, cls, rdlen, i, k;
	struct dns_q q;
	enum dns_rc rc;
	char *s;

	memset(out, 0, sizeof(*out));
	if ((rc = dns_status(dns_run(d, name, DNS_T_TLSA, &q), name)) != DNS_OK)
		goto out;
	rc = DNS_FAIL;
	p = q.abuf;
	end = q.abuf + q.alen;
	if (q.alen < 12 || !get16(p + 4, end, &qd) || !get16(p + 6, end, &an))
		goto out;
	p += 12;
	for (i = 0; i < qd; i++)
		if (!skip_name(&p, q.abuf, q.alen) || end - p < 4)
			goto out;
		else
			p += 4;
	for (i = 0; i < an && out->n < DNS_RRS_MAX; i++) {
		if (!skip_name(&p, q.abuf, q.alen) || end - p < 10 ||
		    !get16(p, end, &type) || !get16(p + 2, end, &cls) ||
		    !get16(p + 8, end, &rdlen))
			goto out;
		p += 10;
		if ((unsigned)(end - p) < rdlen)
			goto out;
		/* CNAMEs in the chain are skipped; RFC 7672 2.2.3 base. */
		if (type == DNS_T_TLSA && cls == ns_c_in && rdlen >= 3) {
			s = xmalloc(16 + 2 * (size_t)(rdlen - 3) + 1);
			k = (unsigned)snprintf(
			    s, 16, "%u %u %u ", p[0], p[1], p[2]);
			for (cls = 3; cls < rdlen; cls++) {
				s[k++] = hex[p[cls] >> 4];
				s[k++] = hex[p[cls] & 15];
			}
			s[k] = '\0';
			out->rr[out->n] = s;
			out->len[out->n++] = k;
		}
		p += rdlen;
	}
	rc = out->n > 0 ? DNS_OK : DNS_NODATA;
out:
	if (rc == DNS_FAIL)
		dns_rrs_free(out);
	free(q.abuf);
	return rc;
}

enum dns_rc
dns_addr(struct dns *d, const char *name, char *ip, size_t size)
{
	struct ares_addrttl a[4];
	struct ares_addr6ttl a6[4];
	struct dns_q q;
	enum dns_rc rc;
	int n = 4;

	rc = dns_status(dns_run(d, name, ns_t_a, &q), name);
	if (rc == DNS_OK &&
	    ares_parse_a_reply(q.abuf, q.alen, NULL, a, &n) == ARES_SUCCESS &&
	    n > 0 && inet_ntop(AF_INET, &a[0].ipaddr, ip, (socklen_t)size)) {
		free(q.abuf);
		return DNS_OK;
	}
	free(q.abuf);
	if (rc == DNS_FAIL)
		return rc;
	n = 4;
	rc = dns_status(dns_run(d, name, ns_t_aaaa, &q), name);
	if (rc == DNS_OK &&
	    ares_parse_aaaa_reply(q.abuf, q.alen, NULL, a6, &n) ==
		ARES_SUCCESS &&
	    n > 0 && inet_ntop(AF_INET6, &a6[0].ip6addr, ip, (socklen_t)size)) {
		free(q.abuf);
		return DNS_OK;
	}
	free(q.abuf);
	return rc == DNS_OK ? DNS_NODATA : rc;
}

void
dns_rrs_free(struct dns_rrs *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->rr[i]);
	memset(r, 0, sizeof(*r));
}

const char *
dns_rc_name(enum dns_rc rc)
{
	switch (rc) {
	case DNS_OK:
		return "ok";
	case DNS_NODATA:
		return "nodata";
	case DNS_FAIL:
		return "fail";
	}
	return "?";
}
