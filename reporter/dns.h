/*
 * dns.h - the reporter's DNS lookups (TXT, TLSA, A/AAAA) through c-ares
 *
 * c-ares rather than glibc because the server can be set with a port
 * (dns_server = 127.0.0.1:5353), which the tests need.  Lookups are
 * synchronous, each bounded by the configured timeout and tries.
 * Answers are not DNSSEC-validated here: a TLSA RRset is reported as the
 * records served, which is what RFC 8460 asks a report to show.
 * Ownership: dns_open() returns a new resolver freed by dns_close();
 * struct dns_rrs holds new strings freed by dns_rrs_free().
 */
#ifndef REPORTER_DNS_H
#define REPORTER_DNS_H

#include <stddef.h>

#define DNS_RRS_MAX 32	 /* records kept per RRset */
#define DNS_TXT_MAX 4096 /* bytes of one joined TXT record */

enum dns_rc {
	DNS_OK = 0, /* out holds the records (at least one) */
	DNS_NODATA, /* NXDOMAIN or no records of the type */
	DNS_FAIL    /* timeout, SERVFAIL, refused, malformed answer */
};

struct dns_rrs {
	size_t n;
	char *rr[DNS_RRS_MAX]; /* NUL-terminated; TXT may contain no NUL */
	size_t len[DNS_RRS_MAX];
};

struct dns;

/*
 * A resolver using `servers' ("IP[:PORT],..."; empty or NULL: the
 * system's resolv.conf), `timeout_ms' per try and `tries'.  NULL after
 * logging why.
 */
struct dns *dns_open(const char *servers, int timeout_ms, int tries);
void dns_close(struct dns *);

/* TXT records of `name', each with its character-strings joined. */
enum dns_rc dns_txt(struct dns *, const char *name, struct dns_rrs *out);
/*
 * TLSA records of `name' (e.g. "_25._tcp.mx.example.com") in the RFC 8460
 * policy-string form "3 1 1 ABCD..." (upper-case hex).
 */
enum dns_rc dns_tlsa(struct dns *, const char *name, struct dns_rrs *out);
/* The first IPv4 (else IPv6) address of `name' as text. */
enum dns_rc dns_addr(struct dns *, const char *name, char *ip, size_t size);
/* Free the strings; the struct may be reused.  NULL is a no-op. */
void dns_rrs_free(struct dns_rrs *);
const char *dns_rc_name(enum dns_rc);

#endif /* REPORTER_DNS_H */
