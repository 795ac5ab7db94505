/*
 * tlshello.h - what a passive observer learns from a TLS handshake
 *
 * Parses, from one direction of a TLS byte stream, the ClientHello (SNI,
 * offered versions) or the ServerHello (selected version, cipher suite),
 * and the alerts and encrypted records that follow.  Records and
 * handshake messages may be fragmented in any way: over many records and
 * over many calls.  Everything read is untrusted; every read goes through
 * a checked cursor (common/rd.h).
 * Ownership: a struct tlshello_stream is caller-owned; it holds one
 * buffer of at most TLSHELLO_HS_MAX bytes while a hello is incomplete,
 * released as soon as the hello is parsed or by tlshello_stream_free().
 */
#ifndef COLLECTOR_TLSHELLO_H
#define COLLECTOR_TLSHELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/rd.h"

#define TLSHELLO_SNI_MAX 253	  /* a DNS name (RFC 6066 3) */
#define TLSHELLO_VERSIONS_MAX 16  /* offered versions kept */
#define TLSHELLO_HS_MAX 65536	  /* handshake bytes kept for one hello */
#define TLSHELLO_RECORD_MAX 18432 /* 2^14 + 2048 (RFC 5246 6.2.3) */

#define TLSHELLO_TLS13 0x0304

struct tlshello_client {
	uint16_t legacy_version; /* ClientHello.legacy_version */
	/* supported_versions (RFC 8446 4.2.1) in order, GREASE left out;
	 * without that extension, legacy_version alone. */
	uint16_t versions[TLSHELLO_VERSIONS_MAX];
	uint8_t nversions;
	bool sni_cut;			/* longer than TLSHELLO_SNI_MAX */
	uint16_t sni_len;		/* 0: no server_name host_name */
	char sni[TLSHELLO_SNI_MAX + 1]; /* as sent (untrusted bytes), NUL */
	uint16_t nsuites;		/* cipher suites offered */
};

struct tlshello_server {
	uint16_t legacy_version; /* ServerHello.legacy_version */
	uint16_t version; /* negotiated: supported_versions, else legacy */
	uint16_t cipher;  /* cipher_suite */
	bool hrr;	  /* a HelloRetryRequest, not a real hello */
};

enum tlshello_role { TLSHELLO_CLIENT = 0, TLSHELLO_SERVER = 1 };

/* One direction of a TLS connection, fed in order. */
struct tlshello_stream {
	enum tlshello_role role;
	bool bad;	  /* not TLS, or a hello that does not parse */
	bool hello;	  /* the (real) hello below is parsed */
	bool tls13;	  /* set by the caller: the server chose TLS 1.3 */
	bool ccs;	  /* ChangeCipherSpec seen (TLS 1.2: then encrypted) */
	bool alert;	  /* an alert record was seen */
	bool alert_clear; /* ... in clear: level and desc are set */
	uint8_t alert_level, alert_desc;
	uint8_t hrr;		       /* HelloRetryRequests seen (server) */
	uint32_t records;	       /* records seen */
	uint32_t encrypted;	       /* records with encrypted content */
	struct tlshello_client client; /* role CLIENT, when hello */
	struct tlshello_server server; /* role SERVER, when hello */
	/* record layer position */
	uint8_t hdr[5], nhdr;	/* a record header being read */
	uint8_t type;		/* content type of the current record */
	bool rec_enc;		/* ... and its content is encrypted */
	uint16_t left;		/* its body bytes still to come */
	uint8_t abuf[2], nabuf; /* an alert being read */
	struct buf hs;		/* handshake bytes of the current hello */
};

/* A new stream for one side (all zero but the role). */
void tlshello_stream_init(struct tlshello_stream *, enum tlshello_role);
/*
 * Feed the next n bytes of the stream.  Never fails: malformed input sets
 * `bad' and the rest is ignored.
 */
void tlshello_feed(struct tlshello_stream *, const uint8_t *p, size_t n);
/*
 * True while more bytes could still tell something: the hello is not
 * parsed yet or no encrypted record has been seen, and not `bad'.
 */
bool tlshello_wants(const struct tlshello_stream *);
/* Release the handshake buffer; the parsed facts stay. */
void tlshello_stream_free(struct tlshello_stream *);

/*
 * Parse the body of a ClientHello handshake message (RFC 8446 4.1.2,
 * RFC 5246 7.4.1.2; after the 4-byte message header):
 *   legacy_version(2) random(32) session_id<0..32>
 *   cipher_suites<2..2^16-2> compression<1..2^8-1> [extensions<..2^16-1>]
 * Returns false when it does not parse; *ch is then partly filled.
 */
bool tlshello_client_parse(struct rd body, struct tlshello_client *ch)
    __attribute__((warn_unused_result));
/*
 * Parse the body of a ServerHello (RFC 8446 4.1.3):
 *   legacy_version(2) random(32) session_id<0..32> cipher_suite(2)
 *   compression(1) [extensions<..2^16-1>]
 * A HelloRetryRequest is a ServerHello whose random is SHA-256 of
 * "HelloRetryRequest"; it sets `hrr'.
 */
bool tlshello_server_parse(struct rd body, struct tlshello_server *sh)
    __attribute__((warn_unused_result));

/* "TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3" (OpenSSL's
 * SSL_get_version() form); NULL for anything else. */
const char *tlshello_version_name(uint16_t);
/* RFC 8446 6 alert description name ("handshake_failure"), or NULL. */
const char *tlshello_alert_name(uint8_t);

#endif /* COLLECTOR_TLSHELLO_H */
