/*
 * rollup.h - the aggregates the dashboard is drawn from, as the cache
 * keeps them
 *
 * Each aggregate is named by a cache key that is also its recipe:
 *	d:FROM:TO	daily totals by (day, direction, tls, result, trust),
 *			from the `daily' rollup (FROM, TO: days since epoch)
 *	h:S0:S1		the same by hour from raw `sessions' in [S0, S1)
 *			(epoch seconds), for the last-24-hours views
 *	D:FROM:TO	per (domain, direction) totals from `daily'
 *	Dh:S0:S1	the same from `sessions'
 *	M:S0:S1		per (MX or client host, direction) from `sessions'
 *	V:S0:S1		TLS versions per (direction, domain) from `sessions'
 *	A		all-time totals by (direction, tls, trust) (/metrics)
 *	S		first and last day in `daily'
 *	X:DOMAIN:FROM:TO	one domain's detail page, as JSON text
 * The values are immutable once computed (shared between threads).
 */
#ifndef WEB_ROLLUP_H
#define WEB_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* Columns of the share arithmetic; unknown is never encrypted or plain. */
enum rl_tls { RL_TLS = 0, RL_PLAIN, RL_FAILED, RL_UNKNOWN, RL_TLS_N };
enum rl_dir { RL_OUT = 0, RL_IN, RL_SUB, RL_NODIR, RL_DIR_N };
#define RL_TRUST_N 5   /* enum ev_trust: none, verified, trusted, ... */
#define RL_RESULT_N 13 /* enum ev_result */

struct rl_cell {
	int64_t t; /* day (d, A, S) or hour (h) since epoch */
	uint8_t dir, tls, result, trust;
	int64_t sessions, messages;
};

struct rl_cells {
	bool hourly;
	size_t n;
	struct rl_cell *c; /* sorted by t */
};

struct rl_dom {
	const char *name; /* points into the table's arena */
	uint8_t dir;
	int64_t s[RL_TLS_N], m[RL_TLS_N];
	int64_t verified;   /* tls sessions with a verified/trusted peer */
	int64_t last_plain; /* epoch seconds of the last plaintext; -1 */
	int64_t ndomains;   /* M: distinct domains behind the host */
};

struct rl_domtab {
	bool hourly; /* from sessions: last_plain is a time, not a day */
	size_t n;
	struct rl_dom *d; /* sorted by name, then dir */
	char *arena;
};

struct rl_ver {
	const char *domain, *version; /* in the arena */
	uint8_t dir;
	int64_t sessions;
};

struct rl_vertab {
	size_t n;
	struct rl_ver *v; /* sorted by domain */
	char *arena;
};

struct rl_span {
	int64_t first, last; /* days; -1 when there is no data */
};

/* cache_compute_fn: the value named by `key' (see above), or NULL. */
void *rollup_compute(void *ctx, PGconn *db, const char *key);
/* cache_free_fn for every value rollup_compute() makes. */
void rollup_free(void *value);

/* The typed contents of a value from rollup_compute(); NULL when the
 * value is of another kind. */
const struct rl_cells *rollup_cells(const void *value);
const struct rl_domtab *rollup_domtab(const void *value);
const struct rl_vertab *rollup_vertab(const void *value);
const struct rl_span *rollup_span(const void *value);
const char *rollup_json(const void *value);
/* X: was anything known about the domain? */
bool rollup_found(const void *value);

/* Totals a share is computed from: *all of one direction or more. */
struct rl_sum {
	int64_t s[RL_TLS_N], m[RL_TLS_N];
	int64_t verified, verified_m;
	int64_t trust[RL_TLS_N][RL_TRUST_N]; /* sessions */
	int64_t result[RL_RESULT_N];	     /* failed sessions by result */
	int64_t result_m[RL_RESULT_N];
};
/* Add one cell to a sum. */
void rollup_add(struct rl_sum *, const struct rl_cell *);
/* tls / (tls + plaintext + failed), or -1 when that is 0. */
double rollup_share(const int64_t v[RL_TLS_N], int64_t num);

/* Map names stored in the database to the enums above. */
uint8_t rollup_dir(const char *);
uint8_t rollup_tls(const char *);
uint8_t rollup_trust(const char *);
uint8_t rollup_result(const char *);
const char *rollup_dir_name(unsigned);
const char *rollup_tls_name(unsigned);
const char *rollup_trust_name(unsigned);  /* "" for none */
const char *rollup_result_name(unsigned); /* "" for none */
/* verified or trusted: what the dashboard calls verified. */
bool rollup_trust_verified(unsigned trust);

/* Epoch seconds of a day / "YYYY-MM-DDTHH:MM:SSZ" from epoch seconds. */
void rollup_time_str(int64_t secs, char out[24]);

#endif /* WEB_ROLLUP_H */
