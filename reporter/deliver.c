/*
 * deliver.c - store reports and deliver them, recording every attempt
 *
 * RFC 8460 section 5: https destinations get a POST of the gzipped report
 * (application/tlsrpt+gzip; 2xx is success, section 5.4), mailto
 * destinations a multipart/report message (mime.c).  Section 5.2: retry
 * with back-off for up to 24 hours.  The rua URIs are untrusted (DNS);
 * tlsrpt.c validated their syntax.  Crash safety is described in
 * deliver.h; all state lives in the database.
 */
#include "reporter/deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "core/config.h"
#include "core/db.h"
#include "reporter/mime.h"
#include "reporter/tlsrpt.h"

#define DELIVER_BATCH "50"
#define DELIVER_ERR_MAX 255

int
deliver_have(PGconn *db, const char *day, const char *domain)
{
	const char *params[2] = {day, domain};
	PGresult *res;
	int rc = -1;

	if (db_exec(db, "report exists", &res, PGRES_TUPLES_OK,
		"SELECT 1 FROM reports WHERE day = $1 AND policy_domain = $2",
		2, params))
		rc = PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

/* Is `uri' on the report_suppress list (URI, address or domain)? */
static bool
suppressed(const char *uri)
{
	const char *s = cf_report_suppress, *e, *addr, *at;
	size_t n;

	if (s == NULL)
		return false;
	addr = strncmp(uri, "mailto:", 7) == 0 ? uri + 7 : uri;
	at = strrchr(addr, '@');
	while (*s != '\0') {
		s += strspn(s, " \t,");
		e = s + strcspn(s, " \t,");
		n = (size_t)(e - s);
		if (n > 0 &&
		    ((strlen(uri) == n && strncmp(uri, s, n) == 0) ||
			(strlen(addr) == n && strncasecmp(addr, s, n) == 0) ||
			(at != NULL && strlen(at + 1) == n &&
			    strncasecmp(at + 1, s, n) == 0)))
			return true;
		s = e;
	}
	return false;
}

int
deliver_store(PGconn *db, const struct report *rep, json_t *tlsrpt)
{
	char ok[24], failed[24], unknown[24], spread[24];
	const char *params[12];
	int lens[12] = {0}, fmts[12] = {0};
	unsigned char *gz = NULL;
	char *body = NULL, *lookups = NULL, *summary = NULL;
	json_t *rua, *u;
	PGresult *res = NULL;
	size_t gzlen, i;
	int rc = -1;

	body = report_text(rep);
	if (report_gzip(body, strlen(body), &gz, &gzlen) == -1) {
		log_warnx("report: %s: gzip failed", rep->domain);
		goto out;
	}
	lookups = json_dumps(rep->lookups, JSON_COMPACT);
	summary = report_summary(rep);
	(void)snprintf(ok, sizeof(ok), "%lld", (long long)rep->successful);
	(void)snprintf(failed, sizeof(failed), "%lld", (long long)rep->failed);
	(void)snprintf(
	    unknown, sizeof(unknown), "%lld", (long long)rep->unknown);
	params[0] = rep->report_id;
	params[1] = rep->day;
	params[2] = rep->domain;
	params[3] = rep->policy_type;
	params[4] = rep->filename;
	params[5] = ok;
	params[6] = failed;
	params[7] = unknown;
	params[8] = body;
	params[9] = lookups;
	params[10] = (const char *)gz;
	lens[10] = (int)gzlen;
	fmts[10] = 1;
	params[11] = summary;
	if (!db_exec(db, "begin", NULL, PGRES_COMMAND_OK, "BEGIN", 0, NULL))
		goto out;
	res = PQexecParams(db,
	    "INSERT INTO reports (report_id, day, policy_domain, policy_type,"
	    " filename, successful, failed, unknown, body, lookups, gz,"
	    " summary)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb,"
	    " $11, $12)"
	    " ON CONFLICT (day, policy_domain) DO NOTHING RETURNING 1",
	    12, NULL, params, lens, fmts, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx(
		    "report: %s: store: %s", rep->domain, PQerrorMessage(db));
		goto rollback;
	}
	if (PQntuples(res) == 0) {
		rc = 0; /* stored by an earlier run */
		goto rollback;
	}
	(void)snprintf(
	    spread, sizeof(spread), "%lld", (long long)cf_report_spread);
	rua = json_object_get(tlsrpt, "rua");
	json_array_foreach(rua, i, u)
	{
		const char *dp[4] = {
		    rep->report_id, json_string_value(u), NULL, spread};

		if (dp[1] == NULL)
			continue;
		dp[2] = suppressed(dp[1]) ? "suppressed" : "pending";
		if (!db_exec(db, "delivery", NULL, PGRES_COMMAND_OK,
			"INSERT INTO report_deliveries (report_id, destination,"
			" state, next_attempt) SELECT $1, $2, $3,"
			" greatest(now(), (r.day + 1)::timestamp AT TIME ZONE"
			" 'UTC' + random() * $4::integer * interval '1 second')"
			" FROM reports r WHERE r.report_id = $1"
			" ON CONFLICT DO NOTHING",
			4, dp))
			goto rollback;
	}
	if (!db_exec(db, "commit", NULL, PGRES_COMMAND_OK, "COMMIT", 0, NULL))
		goto out;
	rc = 1;
	goto out;
rollback:
	(void)!db_exec(
	    db, "rollback", NULL, PGRES_COMMAND_OK, "ROLLBACK", 0, NULL);
out:
	PQclear(res);
	free(body);
	free(lookups);
	free(summary);
	free(gz);
	return rc;
}

/* Record the outcome of an attempt claimed before. */
static int
deliver_record(
    PGconn *db, const char *id, const char *dest, bool sent, const char *err)
{
	char base[24];
	const char *params[4] = {id, dest, err, base};

	(void)snprintf(
	    base, sizeof(base), "%lld", (long long)cf_report_retry_base);
	if (sent)
		return db_exec(db, "delivery sent", NULL, PGRES_COMMAND_OK,
			   "UPDATE report_deliveries SET state = 'sent',"
			   " delivered = now(), last_error = NULL,"
			   " next_attempt = NULL"
			   " WHERE report_id = $1 AND destination = $2",
			   2, params)
			   ? 0
			   : -1;
	/* Back-off base * 2^(attempts - 1), within 24 h of the first. */
	return db_exec(db, "delivery failed", NULL, PGRES_COMMAND_OK,
		   "UPDATE report_deliveries SET last_error = $3,"
		   " state = CASE WHEN now() >= first_attempt"
		   "  + interval '24 hours' THEN 'expired' ELSE 'failed' END,"
		   " next_attempt = least(now() + $4::double precision"
		   "  * power(2, least(attempts - 1, 30))"
		   "  * interval '1 second',"
		   "  first_attempt + interval '24 hours')"
		   " WHERE report_id = $1 AND destination = $2",
		   4, params)
		   ? 0
		   : -1;
}

static int
deliver_one(PGconn *db, const struct http_opts *ho, PGresult *res, int row)
{
	const char *id = PQgetvalue(res, row, 0);
	const char *dest = PQgetvalue(res, row, 1);
	const char *params[2] = {id, dest};
	struct mime_report mr;
	struct http_resp resp;
	char err[DELIVER_ERR_MAX + 1];
	PGresult *claim;
	bool sent = false;

	/* Claim: only a row still due moves to "sending". */
	if (!db_exec(db, "delivery claim", &claim, PGRES_TUPLES_OK,
		"UPDATE report_deliveries SET state = 'sending',"
		" attempts = attempts + 1, last_attempt = now(),"
		" first_attempt = coalesce(first_attempt, now())"
		" WHERE report_id = $1 AND destination = $2"
		" AND state IN ('pending', 'failed') AND next_attempt <= now()"
		" RETURNING attempts",
		2, params)) {
		PQclear(claim);
		return -1;
	}
	if (PQntuples(claim) == 0) {
		PQclear(claim);
		return 0;
	}
	PQclear(claim);
	err[0] = '\0';
	if (strncmp(dest, "https:", 6) == 0) {
		if (http_post(ho, dest, "application/tlsrpt+gzip",
			PQgetvalue(res, row, 4),
			(size_t)PQgetlength(res, row, 4), &resp) == 0)
			sent = true;
		else
			(void)snprintf(err, sizeof(err), "%s", resp.err);
	} else if (strncmp(dest, "mailto:", 7) == 0) {
		memset(&mr, 0, sizeof(mr));
		mr.report_id = id;
		mr.domain = PQgetvalue(res, row, 2);
		mr.filename = PQgetvalue(res, row, 3);
		mr.gz = PQgetvalue(res, row, 4);
		mr.gzlen = (size_t)PQgetlength(res, row, 4);
		mr.summary = PQgetvalue(res, row, 5);
		sent = mime_send(&mr, dest + 7, err, sizeof(err)) == 0;
	} else {
		(void)snprintf(err, sizeof(err), "unsupported URI scheme");
	}
	if (sent)
		log_info("report: %s: delivered to %s", id,
		    log_str(dest, strlen(dest)));
	else
		log_warnx(
		    "report: %s: %s: %s", id, log_str(dest, strlen(dest)), err);
	return deliver_record(db, id, dest, sent, err) == -1 ? -1 : 1;
}

int
deliver_due(
    PGconn *db, const struct http_opts *ho, const volatile sig_atomic_t *stop)
{
	char start[64];
	const char *params[1] = {start};
	PGresult *res = NULL;
	int n = 0, i, r, rc = -1;

	if (!db_exec(db, "deliver lock", &res, PGRES_TUPLES_OK,
		"SELECT "
		"pg_try_advisory_lock(hashtext('tlsflow-report-deliver'))",
		0, NULL) ||
	    strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		log_warnx("report: another tlsflow report is delivering");
		PQclear(res);
		return -1;
	}
	PQclear(res);
	/* Attempts a crashed run left in flight: outcome unknown. */
	if (!db_exec(db, "deliver interrupted", NULL, PGRES_COMMAND_OK,
		"UPDATE report_deliveries SET state = 'interrupted',"
		" next_attempt = NULL, last_error = 'the reporter stopped"
		" during this attempt; outcome unknown, not repeated'"
		" WHERE state = 'sending'",
		0, NULL))
		goto out;
	/* One attempt per destination per run: later ones wait. */
	if (!db_exec(db, "deliver start", &res, PGRES_TUPLES_OK,
		"SELECT clock_timestamp()::text", 0, NULL)) {
		PQclear(res);
		res = NULL;
		goto out;
	}
	(void)snprintf(start, sizeof(start), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	for (;;) {
		res = PQexecParams(db,
		    "SELECT d.report_id, d.destination, r.policy_domain,"
		    " r.filename, r.gz, coalesce(r.summary, '')"
		    " FROM report_deliveries d JOIN reports r USING (report_id)"
		    " WHERE d.state IN ('pending', 'failed')"
		    " AND d.next_attempt <= now()"
		    " AND (d.last_attempt IS NULL OR d.last_attempt < $1)"
		    " ORDER BY d.next_attempt, d.report_id, d.destination"
		    " LIMIT " DELIVER_BATCH,
		    1, NULL, params, NULL, NULL, 1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			log_warnx("report: deliveries: %s", PQerrorMessage(db));
			goto out;
		}
		if (PQntuples(res) == 0)
			break;
		for (i = 0; i < PQntuples(res); i++) {
			if (stop != NULL && *stop) {
				rc = n;
				goto out;
			}
			if ((r = deliver_one(db, ho, res, i)) == -1)
				goto out;
			n += r;
		}
		PQclear(res);
		res = NULL;
	}
	rc = n;
out:
	PQclear(res);
	(void)!db_exec(db, "deliver unlock", NULL, PGRES_TUPLES_OK,
	    "SELECT pg_advisory_unlock(hashtext('tlsflow-report-deliver'))", 0,
	    NULL);
	return rc;
}
