/*
 * query.h - bounded parsing of the web API's query parameters
 *
 * Every parameter the API takes is parsed here into a plain struct query;
 * nothing else in web/ looks at raw parameter text.  Values are untrusted:
 * each has a maximum length and a closed set of values or a range, unknown
 * names and repeated names are errors, and the first error is kept as a
 * sentence for the 400 reply ("limit: must be a number from 1 to 100000").
 * No allocation; the struct is caller-owned.
 */
#ifndef WEB_QUERY_H
#define WEB_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUERY_PARAMS_MAX 24    /* parameters in one request */
#define QUERY_VALUE_MAX 256    /* bytes of one decoded value */
#define QUERY_STRING_MAX 4096  /* bytes of a raw query string */
#define QUERY_SEARCH_MAX 253   /* a DNS name */
#define QUERY_LIMIT_MAX 100000 /* rows in one reply */
#define QUERY_LIMIT_DEFAULT 50
#define QUERY_OFFSET_MAX 10000000
#define QUERY_DAYS_MAX 3660 /* longest custom range: ten years */
#define QUERY_ERR_MAX 160

/* Parameter bits, for struct query.present and query_check()'s `allowed'. */
enum query_param {
	QP_RANGE = 1u << 0,
	QP_FROM = 1u << 1,
	QP_TO = 1u << 2,
	QP_DIRECTION = 1u << 3,
	QP_SORT = 1u << 4,
	QP_ORDER = 1u << 5,
	QP_Q = 1u << 6,
	QP_OFFSET = 1u << 7,
	QP_LIMIT = 1u << 8,
	QP_FORMAT = 1u << 9,
	QP_BUCKET = 1u << 10,
	QP_GROUP = 1u << 11,
	QP_STATE = 1u << 12
};
#define QP_TIME (QP_RANGE | QP_FROM | QP_TO)
#define QP_PAGE (QP_OFFSET | QP_LIMIT)

enum query_range {
	QUERY_RANGE_NONE = 0, /* not given: the endpoint's default */
	QUERY_RANGE_24H,
	QUERY_RANGE_7D,
	QUERY_RANGE_30D,
	QUERY_RANGE_90D,
	QUERY_RANGE_1Y,
	QUERY_RANGE_CUSTOM /* from/to */
};

enum query_dir {
	QUERY_DIR_ALL = 0,
	QUERY_DIR_OUT,
	QUERY_DIR_IN,
	QUERY_DIR_SUB
};

enum query_sort {
	QUERY_SORT_SESSIONS = 0, /* default */
	QUERY_SORT_DOMAIN,
	QUERY_SORT_MESSAGES,
	QUERY_SORT_ENCRYPTED, /* encrypted share */
	QUERY_SORT_VERIFIED,  /* verified share */
	QUERY_SORT_PLAINTEXT, /* plaintext sessions */
	QUERY_SORT_FAILED,    /* failed sessions */
	QUERY_SORT_UNKNOWN,   /* unknown sessions */
	QUERY_SORT_LAST_PLAINTEXT
};

enum query_format { QUERY_FMT_JSON = 0, QUERY_FMT_CSV };
enum query_bucket {
	QUERY_BUCKET_AUTO = 0,
	QUERY_BUCKET_HOUR,
	QUERY_BUCKET_DAY,
	QUERY_BUCKET_WEEK
};
enum query_group { QUERY_GROUP_DOMAIN = 0, QUERY_GROUP_MX };
enum query_state {
	QUERY_STATE_ANY = 0,
	QUERY_STATE_PENDING,
	QUERY_STATE_SENDING,
	QUERY_STATE_SENT,
	QUERY_STATE_FAILED,
	QUERY_STATE_INTERRUPTED,
	QUERY_STATE_SUPPRESSED
};

struct query {
	unsigned present; /* QP_* bits of the parameters given */
	unsigned nparams;
	enum query_range range;
	int32_t from_day, to_day; /* QUERY_RANGE_CUSTOM: days since epoch */
	enum query_dir dir;
	enum query_sort sort;
	bool desc;		      /* order; the default depends on sort */
	char q[QUERY_SEARCH_MAX + 1]; /* search text, lower case */
	uint32_t offset, limit;
	enum query_format format;
	enum query_bucket bucket;
	enum query_group group;
	enum query_state state;
	char err[QUERY_ERR_MAX]; /* the first error, "" when none */
};

void query_init(struct query *);
/*
 * Apply one decoded parameter; `value' is NULL for a name without '='.
 * Returns 0, or -1 with q->err set (the first error is kept).
 */
int query_set(struct query *, const char *name, const char *value)
    __attribute__((warn_unused_result));
/* Record an error found outside this module (the first one is kept);
 * returns -1. */
int query_error(struct query *, const char *msg);
/*
 * Parse a raw query string "a=b&c=d" (without '?'): split on '&',
 * %XX- and '+'-decode, then query_set() each.  Returns 0 or -1 (q->err).
 */
int query_parse(struct query *, const char *qs, size_t len)
    __attribute__((warn_unused_result));
/*
 * After all parameters: fail with q->err when one outside `allowed' (QP_*
 * bits) was given or the combination is bad (from without to, ...).
 * Returns 0 or -1.
 */
int query_check(struct query *, unsigned allowed)
    __attribute__((warn_unused_result));
/*
 * The inclusive UTC day range [*from, *to] (days since 1970-01-01) the
 * query asks for, `today' being the current UTC day; `dflt' stands in
 * when no range was given.  24 h is yesterday and today.
 */
void query_days(const struct query *, int32_t today, enum query_range dflt,
    int32_t *from, int32_t *to);

/* "YYYY-MM-DD" (exactly) to days since epoch; -1 if not a real date. */
int query_date(const char *s, size_t len, int32_t *day)
    __attribute__((warn_unused_result));
/* Days since epoch to "YYYY-MM-DD". */
void query_date_str(int32_t day, char out[11]);
/* Days since epoch of a proleptic Gregorian date (no range check). */
int32_t query_civil_days(int y, unsigned m, unsigned d);
/*
 * A domain name from a URL path segment: 1..253 bytes of letters, digits,
 * '-', '_' and '.', copied lower-cased into out (QUERY_SEARCH_MAX + 1
 * bytes).  Returns 0 or -1.
 */
int query_domain(const char *s, char *out) __attribute__((warn_unused_result));
/* Names for the reply's echo of what was asked. */
const char *query_range_name(enum query_range);
const char *query_dir_name(enum query_dir); /* NULL for all */
const char *query_sort_name(enum query_sort);
const char *query_state_name(enum query_state); /* NULL for any */
/* Does the sort sort descending when no order is given? */
bool query_sort_desc_default(enum query_sort);

#endif /* WEB_QUERY_H */
