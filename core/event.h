/*
 * event.h - the session event: one SMTP session between our MTA and a peer
 *
 * The record has a fixed size and no pointers, so it can be copied,
 * batched and fuzzed freely.  Strings are NUL-terminated and empty means
 * "unknown" (JSON null).  The JSON form has exactly the keys of DESIGN.md
 * section 2; event_to_json() is the only writer of that form.
 * Parsers fill a caller-owned record through ev_setstr()/ev_setaddr(),
 * which bound, sanitise and flag what they copy; they allocate nothing.
 */
#ifndef CORE_EVENT_H
#define CORE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/scan.h"

#define EV_HOST_MAX 253	  /* DNS name without trailing dot */
#define EV_ADDR_MAX 45	  /* INET6_ADDRSTRLEN - 1 */
#define EV_TLSVER_MAX 15  /* "TLSv1.3" */
#define EV_CIPHER_MAX 63  /* OpenSSL cipher name */
#define EV_REASON_MAX 255 /* RFC 8460 failure-reason-code */
#define EV_QIDS_MAX 127	  /* queue ids, space separated */
#define EV_ORIGIN_MAX 255 /* "file:offset" */
#define EV_TS_MAX 31	  /* "2026-11-22T10:00:01.123456Z" */
/* The JSON line: every field escaped at worst 6x, plus keys. */
#define EVENT_JSON_MAX 16384

enum ev_source {
	EV_SRC_NONE = 0,
	EV_SRC_POSTFIX,
	EV_SRC_EXIM,
	EV_SRC_SENDMAIL,
	EV_SRC_OPENSMTPD,
	EV_SRC_PCAP
};

enum ev_dir { EV_DIR_NONE = 0, EV_DIR_OUT, EV_DIR_IN, EV_DIR_SUBMISSION };

/* The DESIGN.md three-and-a-half states: no evidence is never plaintext. */
enum ev_tls { EV_TLS_UNKNOWN = 0, EV_TLS_PLAIN, EV_TLS_OK, EV_TLS_FAILED };

enum ev_trust {
	EV_TRUST_NONE = 0, /* not known */
	EV_TRUST_VERIFIED,
	EV_TRUST_TRUSTED,
	EV_TRUST_UNTRUSTED,
	EV_TRUST_ANONYMOUS
};

/* RFC 8460 section 4.3 result types; 0 = not attempted under a policy. */
enum ev_result {
	EV_RES_NONE = 0,
	EV_RES_SUCCESS,
	EV_RES_STARTTLS_NOT_SUPPORTED,
	EV_RES_CERT_HOST_MISMATCH,
	EV_RES_CERT_EXPIRED,
	EV_RES_CERT_NOT_TRUSTED,
	EV_RES_VALIDATION_FAILURE,
	EV_RES_TLSA_INVALID,
	EV_RES_DNSSEC_INVALID,
	EV_RES_DANE_REQUIRED,
	EV_RES_STS_POLICY_FETCH_ERROR,
	EV_RES_STS_POLICY_INVALID,
	EV_RES_STS_WEBPKI_INVALID
};

enum ev_policy {
	EV_POL_UNKNOWN = 0, /* the source does not say */
	EV_POL_STS,
	EV_POL_TLSA,
	EV_POL_NONE_FOUND
};

enum ev_status { EV_ST_NONE = 0, EV_ST_SENT, EV_ST_DEFERRED, EV_ST_BOUNCED };

#define EV_F_TRUNCATED 0x0001  /* a string was cut to fit */
#define EV_F_SANITIZED 0x0002  /* non-printable bytes replaced */
#define EV_F_OWN_REPORT 0x0004 /* carried only our own report mail */

#define TLS_EVENT_VERSION 1

struct tls_event {
	uint16_t version; /* TLS_EVENT_VERSION; bump on any change */
	uint16_t flags;	  /* EV_F_* */
	enum ev_source source;
	enum ev_dir dir;
	enum ev_tls tls;
	enum ev_trust trust;
	enum ev_result result;
	enum ev_policy policy;
	enum ev_status status;
	int64_t ts_us; /* UTC microseconds since the epoch */
	/*
	 * Not part of the JSON contract: byte offsets (or packet numbers) of
	 * the session's first line and of the line that completed it, so a
	 * collector that re-reads from a resume point can drop what it had
	 * already committed.
	 */
	int64_t start_off, end_off;
	uint16_t peer_port, local_port, cipher_bits; /* 0: unknown */
	uint32_t messages;
	/* The strings, from here to the end: ev_init() empties each one. */
	char host[EV_HOST_MAX + 1];
	char domain[EV_HOST_MAX + 1];
	char peer_host[EV_HOST_MAX + 1];
	char peer_helo[EV_HOST_MAX + 1];
	char peer_ip[EV_ADDR_MAX + 1];
	char local_ip[EV_ADDR_MAX + 1];
	char tls_version[EV_TLSVER_MAX + 1];
	char cipher[EV_CIPHER_MAX + 1];
	char reason[EV_REASON_MAX + 1];
	char queue_ids[EV_QIDS_MAX + 1];
	char origin[EV_ORIGIN_MAX + 1];
};

/* Zero the numbers, empty every string and set the version. */
void ev_init(struct tls_event *);

/*
 * Copy untrusted bytes into a field of `size' bytes: cut to fit (sets
 * EV_F_TRUNCATED), bytes outside printable ASCII replaced by '?' (sets
 * EV_F_SANITIZED).  Always NUL-terminates.
 */
void ev_setstr(
    struct tls_event *, char *field, size_t size, const struct span *);
/*
 * A domain name: like ev_setstr(), but a name with UTF-8 labels (an
 * SMTPUTF8 address) is stored in A-label form (IDNA 2008, libidn2), as
 * RFC 8460 reports need it; one that does not convert is sanitised.
 */
void ev_setdomain(
    struct tls_event *, char *field, size_t size, const struct span *);
/* Like ev_setstr() for a NUL-terminated string. */
void ev_setcstr(struct tls_event *, char *field, size_t size, const char *);
/*
 * Store an IPv4 or IPv6 literal in its canonical form (RFC 5952), after
 * inet_pton().  Returns 0, or -1 (field untouched) if it is not one.
 */
int ev_setaddr(struct tls_event *, char *field, const struct span *)
    __attribute__((warn_unused_result));
/* Lower-case a domain/host name in place and drop one trailing dot. */
void ev_lowerhost(char *field);
/*
 * ev->domain from a mail address "<user@Domain>" (the first of a comma
 * list; the brackets optional), lower-cased; unchanged when it has none.
 */
void ev_setdomain_addr(struct tls_event *, const struct span *addr);
/*
 * The loopback addresses themselves (local hops); other 127/8 addresses
 * are used by test labs and multi-address setups as peers.
 */
bool ev_is_loopback(const char *ip);
/* Append a queue id to queue_ids unless already there. */
void ev_addqid(struct tls_event *, const struct span *);

/* enum <-> name tables; names are those of DESIGN.md; NULL for 0/none. */
const char *ev_source_name(enum ev_source);
const char *ev_dir_name(enum ev_dir);
const char *ev_tls_name(enum ev_tls);
const char *ev_trust_name(enum ev_trust);
const char *ev_result_name(enum ev_result);
const char *ev_policy_name(enum ev_policy);
const char *ev_status_name(enum ev_status);
/* Reverse lookups; return 0 (the "none" value) when unknown. */
enum ev_result ev_result_lookup(const char *name, size_t len);
enum ev_tls ev_tls_lookup(const char *name, size_t len);
enum ev_dir ev_dir_lookup(const char *name, size_t len);

/* RFC 3339 UTC with milliseconds: "2026-11-22T10:00:01.123Z". */
void ev_format_ts(int64_t ts_us, char out[EV_TS_MAX + 1]);

/*
 * The event as a new JSON object with exactly the DESIGN.md keys (null
 * where unknown).  NULL only if jansson fails to allocate.
 */
json_t *event_to_json(const struct tls_event *);
/*
 * Write the event as one JSON line (sorted keys) to `fp'.
 * Returns 0 or -1 on an output error.
 */
int event_print(const struct tls_event *, FILE *fp);

#endif /* CORE_EVENT_H */
