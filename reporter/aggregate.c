/*
 * aggregate.c - count one day's outbound sessions per policy domain
 *
 * Input: the sessions table (written by the collectors; its text fields
 * came from logs and are untrusted, but they only become JSON strings
 * through jansson).  PostgreSQL groups the day's partition by the RFC
 * 8460 failure-details key; the result is read in single-row mode so
 * that a day of millions of sessions needs memory for one domain only.
 */
#include "reporter/aggregate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/scan.h"
#include "common/xmalloc.h"

#define AGG_COLS 10

/*
 * Details are kept only for sessions that count as failures; the rest
 * are grouped by policy and MX alone.
 */
static const char agg_sql[] =
    "SELECT domain, coalesce(policy, ''), coalesce(lower(peer_host), ''),"
    " tls,"
    " CASE WHEN f THEN coalesce(result, '') ELSE '' END,"
    " CASE WHEN f THEN coalesce(host(local_ip), '') ELSE '' END,"
    " CASE WHEN f THEN coalesce(peer_helo, '') ELSE '' END,"
    " CASE WHEN f THEN coalesce(host(peer_ip), '') ELSE '' END,"
    " CASE WHEN f THEN coalesce(reason, '') ELSE '' END,"
    " count(*)"
    " FROM (SELECT *, tls IN ('failed', 'plaintext') AS f FROM sessions"
    "  WHERE ts >= $1::date::timestamp AT TIME ZONE 'UTC'"
    "  AND ts < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'"
    "  AND direction = 'outbound' AND domain IS NOT NULL AND domain <> ''"
    "  AND NOT own_report" /* our own report mail (RFC 8460 5.3) */
    "  AND ($2::text IS NULL OR domain = $2)) s"
    " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
    " ORDER BY 1";

struct agg_state {
	char *domain;
	struct agg_row *rows;
	char **strs; /* what the rows point to, freed per domain */
	size_t nrows, cap, nstrs, strcap;
};

static const char *
agg_keep(struct agg_state *st, const char *s)
{
	if (s[0] == '\0')
		return "";
	if (st->nstrs == st->strcap) {
		st->strcap = st->strcap ? st->strcap * 2 : 64;
		st->strs = xreallocarray(st->strs, st->strcap, sizeof(char *));
	}
	return st->strs[st->nstrs++] = xstrdup(s);
}

static void
agg_reset(struct agg_state *st)
{
	size_t i;

	for (i = 0; i < st->nstrs; i++)
		free(st->strs[i]);
	st->nstrs = 0;
	st->nrows = 0;
	free(st->domain);
	st->domain = NULL;
}

static int
agg_flush(struct agg_state *st, aggregate_fn fn, void *arg, long *n)
{
	struct agg_domain d;
	int rc = 0;

	if (st->domain != NULL && st->nrows > 0) {
		d.domain = st->domain;
		d.rows = st->rows;
		d.nrows = st->nrows;
		rc = fn(&d, arg);
		(*n)++;
	}
	agg_reset(st);
	return rc;
}

long
aggregate_day(
    PGconn *db, const char *day, const char *only, aggregate_fn fn, void *arg)
{
	const char *params[2] = {day, only};
	struct agg_state st;
	struct agg_row *r;
	PGresult *res;
	bool failed = false, stop = false;
	long n = 0;
	uint64_t cnt;

	memset(&st, 0, sizeof(st));
	if (!PQsendQueryParams(db, agg_sql, 2, NULL, params, NULL, NULL, 0)) {
		log_warnx("report: aggregate: %s", PQerrorMessage(db));
		return -1;
	}
	if (!PQsetSingleRowMode(db))
		log_warnx("report: aggregate: no single-row mode");
	while ((res = PQgetResult(db)) != NULL) {
		ExecStatusType es = PQresultStatus(res);

		if (es == PGRES_TUPLES_OK) {
			PQclear(res);
			continue; /* the end of the rows */
		}
		if (es != PGRES_SINGLE_TUPLE || PQnfields(res) != AGG_COLS) {
			if (!failed)
				log_warnx("report: aggregate: %s",
				    PQerrorMessage(db));
			failed = true;
			PQclear(res);
			continue;
		}
		if (failed || stop) {
			PQclear(res);
			continue; /* drain */
		}
		if (st.domain == NULL ||
		    strcmp(st.domain, PQgetvalue(res, 0, 0)) != 0) {
			if (agg_flush(&st, fn, arg, &n) == -1)
				stop = true;
			st.domain = xstrdup(PQgetvalue(res, 0, 0));
		}
		if (st.nrows == st.cap) {
			st.cap = st.cap ? st.cap * 2 : 16;
			st.rows = xreallocarray(st.rows, st.cap, sizeof(*r));
		}
		r = &st.rows[st.nrows++];
		r->policy = agg_keep(&st, PQgetvalue(res, 0, 1));
		r->mx = agg_keep(&st, PQgetvalue(res, 0, 2));
		r->tls = agg_keep(&st, PQgetvalue(res, 0, 3));
		r->result = agg_keep(&st, PQgetvalue(res, 0, 4));
		r->sending_ip = agg_keep(&st, PQgetvalue(res, 0, 5));
		r->helo = agg_keep(&st, PQgetvalue(res, 0, 6));
		r->receiving_ip = agg_keep(&st, PQgetvalue(res, 0, 7));
		r->reason = agg_keep(&st, PQgetvalue(res, 0, 8));
		if (scan_u64_str(PQgetvalue(res, 0, 9), UINT64_MAX, &cnt) == -1)
			cnt = 0;
		r->count = (int64_t)cnt;
		PQclear(res);
	}
	if (!failed && !stop && agg_flush(&st, fn, arg, &n) == -1)
		stop = true;
	agg_reset(&st);
	free(st.rows);
	free(st.strs);
	return failed || stop ? -1 : n;
}
