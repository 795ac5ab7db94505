/*
 * aggregate.h - one UTC day's outbound sessions, grouped per policy domain
 *
 * The database does the grouping (one pass over the day's partition);
 * rows arrive ordered by domain and are handed to the callback one
 * domain at a time, so memory holds one domain's rows only.
 * Ownership: the struct agg_domain given to the callback and everything
 * in it are borrowed for the duration of the call.
 */
#ifndef REPORTER_AGGREGATE_H
#define REPORTER_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/*
 * One group of sessions.  Strings are never NULL ("" = unknown).  For
 * tls = "tls" and "unknown" only policy and mx are filled: failure
 * details are not needed for them.
 */
struct agg_row {
	const char *policy; /* from the log: sts, tlsa, no-policy-found, "" */
	const char *mx;	    /* receiving-mx-hostname */
	const char *tls;    /* tls, plaintext, failed, unknown */
	const char *result; /* RFC 8460 result-type from the log, or "" */
	const char *sending_ip, *helo, *receiving_ip, *reason;
	int64_t count;
};

struct agg_domain {
	const char *domain;
	const struct agg_row *rows;
	size_t nrows;
};

typedef int (*aggregate_fn)(const struct agg_domain *, void *arg);

/*
 * Feed every policy domain with outbound sessions on `day' (YYYY-MM-DD,
 * UTC), or only `only' when not NULL, to fn in domain order.  Returns the
 * number of domains, or -1 on a database error (logged) or when fn
 * returned -1.
 */
long aggregate_day(
    PGconn *, const char *day, const char *only, aggregate_fn fn, void *arg);

#endif /* REPORTER_AGGREGATE_H */
