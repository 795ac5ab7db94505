/*
 * tlsrpt.h - the RFC 8460 section 3 "_smtp._tls" TXT record
 *
 * Pure parsing: no I/O and no allocation, so it can be fuzzed alone.
 * A domain takes part in TLSRPT only when exactly one of its TXT records
 * begins with "v=TLSRPTv1" and that record is valid; tlsrpt_select() does
 * that choice over the records of one RRset, each given with its
 * character-strings already joined (RFC 8460 section 3: "concatenated
 * without spaces").
 * Ownership: the URIs in struct tlsrpt point into the caller's record
 * text (borrowed) and live as long as it does.
 */
#ifndef REPORTER_TLSRPT_H
#define REPORTER_TLSRPT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/scan.h"

#define TLSRPT_RUA_MAX 16      /* rua URIs kept per record */
#define TLSRPT_RECORD_MAX 4096 /* bytes of one joined TXT record */
#define TLSRPT_EXT_NAME_MAX 32 /* RFC 8460 tlsrpt-ext-name */

enum tlsrpt_rc {
	TLSRPT_OK = 0,	 /* one valid record: *out is filled */
	TLSRPT_NONE,	 /* no record begins with v=TLSRPTv1 */
	TLSRPT_MULTIPLE, /* more than one does: no TLSRPT (section 3) */
	TLSRPT_MALFORMED /* the one record does not match the ABNF */
};

enum tlsrpt_scheme { TLSRPT_MAILTO = 1, TLSRPT_HTTPS, TLSRPT_OTHER };

struct tlsrpt_uri {
	struct span uri; /* as published (still percent-encoded) */
	enum tlsrpt_scheme scheme;
};

struct tlsrpt {
	struct tlsrpt_uri rua[TLSRPT_RUA_MAX];
	size_t nrua;
	size_t dropped; /* URIs beyond TLSRPT_RUA_MAX */
};

/*
 * Parse one joined record, e.g.
 *   "v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://r.example/x"
 * Returns TLSRPT_OK, TLSRPT_NONE (not a TLSRPT record at all) or
 * TLSRPT_MALFORMED.
 */
enum tlsrpt_rc tlsrpt_parse(const char *p, size_t len, struct tlsrpt *out);

/*
 * RFC 8460 section 3 selection over the n records of one TXT RRset:
 * records not starting with "v=TLSRPTv1" are discarded; exactly one must
 * remain, and it must parse.
 */
enum tlsrpt_rc tlsrpt_select(
    const struct span *recs, size_t n, struct tlsrpt *out);

/* A short name for a result code ("ok", "none", "multiple", "malformed"). */
const char *tlsrpt_rc_name(enum tlsrpt_rc);

/*
 * Decode the percent-encoding of [p, p + len) into out (NUL-terminated,
 * at most size - 1 bytes).  Returns the length, or -1 when an escape is
 * broken, decodes to a control byte, or the result does not fit.
 */
int tlsrpt_pct_decode(const char *p, size_t len, char *out, size_t size)
    __attribute__((warn_unused_result));

#endif /* REPORTER_TLSRPT_H */
