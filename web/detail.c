/*
 * detail.c - one peer domain's detail: daily series and totals from the
 * `daily' rollup, MX hosts and IPs, TLS versions and ciphers, failures
 * with reasons and recent plaintext sessions from raw `sessions' (the
 * last DETAIL_RAW_DAYS_MAX days of the range), and the TLS-RPT reports
 * generated for it with their deliveries.
 *
 * Inputs: the domain was validated by query_domain(); every statement
 * takes it as a parameter.  Runs on a cache thread (see cache.h) with its
 * own connection; no shared state.
 */
#include "web/detail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/scan.h"
#include "core/db.h"
#include "web/query.h"
#include "web/rollup.h"
#include "web/view.h"

static int64_t
num(const char *s)
{
	int64_t v;

	return scan_i64_str(s, &v) == 0 ? v : 0;
}

static bool
q(PGconn *db, const char *what, PGresult **res, const char *sql,
    const char *const *params, int n)
{
	if (db_exec(db, what, res, PGRES_TUPLES_OK, sql, n, params))
		return true;
	PQclear(*res);
	*res = NULL;
	return false;
}

/* Direction-keyed totals and the daily series, from the rollup. */
static int
rollup_part(
    PGconn *db, json_t *o, const char *const *p, int32_t from, int32_t to)
{
	static const unsigned dirs[] = {RL_OUT, RL_IN, RL_SUB};
	struct rl_cells cells;
	json_t *tot;
	PGresult *res = NULL;
	size_t i;
	int n;

	if (!q(db, "detail: daily", &res,
		"SELECT day - DATE '1970-01-01', direction, tls, result,"
		" trust, sum(sessions), sum(messages) FROM daily WHERE"
		" domain = $1 AND day BETWEEN $2::date AND $3::date GROUP"
		" BY 1, 2, 3, 4, 5 ORDER BY 1",
		p, 3))
		return -1;
	n = PQntuples(res);
	cells.hourly = false;
	cells.n = (size_t)n;
	cells.c = calloc(n > 0 ? (size_t)n : 1, sizeof(*cells.c));
	if (cells.c == NULL) {
		PQclear(res);
		return -1;
	}
	for (i = 0; i < (size_t)n; i++) {
		struct rl_cell *c = &cells.c[i];
		c->t = num(PQgetvalue(res, (int)i, 0));
		c->dir = rollup_dir(PQgetvalue(res, (int)i, 1));
		c->tls = rollup_tls(PQgetvalue(res, (int)i, 2));
		c->result = rollup_result(PQgetvalue(res, (int)i, 3));
		c->trust = rollup_trust(PQgetvalue(res, (int)i, 4));
		c->sessions = num(PQgetvalue(res, (int)i, 5));
		c->messages = num(PQgetvalue(res, (int)i, 6));
	}
	PQclear(res);
	tot = json_object();
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		(void)json_object_set_new(tot, rollup_dir_name(dirs[i]),
		    view_totals(&cells, from, to, VIEW_DIR(dirs[i])));
	(void)json_object_set_new(
	    tot, "total", view_totals(&cells, from, to, VIEW_DIR_ALL));
	(void)json_object_set_new(o, "summary", tot);
	(void)json_object_set_new(o, "series",
	    view_series(&cells, (int64_t)from * 86400,
		((int64_t)to + 1) * 86400, 86400, 86400));
	(void)json_object_set_new(o, "found", json_boolean(n > 0));
	free(cells.c);
	return 0;
}

static int
raw_part(PGconn *db, json_t *o, const char *const *p)
{
	PGresult *res = NULL;
	json_t *a;
	int i;

	/* MX hosts (outbound) or client hosts (inbound) and their IPs. */
	if (!q(db, "detail: hosts", &res,
		"SELECT coalesce(peer_host, ''), coalesce(direction, ''),"
		" count(*), coalesce(sum(messages), 0), count(*) FILTER"
		" (WHERE tls = 'tls'), count(*) FILTER (WHERE tls ="
		" 'plaintext'), count(*) FILTER (WHERE tls = 'failed'),"
		" count(*) FILTER (WHERE tls NOT IN ('tls', 'plaintext',"
		" 'failed')), array_to_json((array_agg(DISTINCT"
		" host(peer_ip)) FILTER (WHERE peer_ip IS NOT"
		" NULL))[1:16]), tlsflow_ts(max(ts)) FROM sessions WHERE"
		" coalesce(domain, '') = $1 AND ts >= $2::date AND ts <"
		" $3::date + 1 GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 100",
		p, 3))
		return -1;
	a = json_array();
	for (i = 0; i < PQntuples(res); i++) {
		json_t *ips = json_loads(PQgetvalue(res, i, 8), 0, NULL);

		/* clang-format off */
		(void)json_array_append_new(a, json_pack(
		    "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		    "host", view_text(res, i, 0),
		    "direction", view_text(res, i, 1),
		    "sessions", view_int(res, i, 2),
		    "messages", view_int(res, i, 3),
		    "tls", view_int(res, i, 4),
		    "plaintext", view_int(res, i, 5),
		    "failed", view_int(res, i, 6),
		    "unknown", view_int(res, i, 7),
		    "ips", ips ? ips : json_array(),
		    "last_seen", view_text(res, i, 9)));
		/* clang-format on */
	}
	PQclear(res);
	(void)json_object_set_new(o, "hosts", a);

	if (!q(db, "detail: ciphers", &res,
		"SELECT coalesce(direction, ''), coalesce(tls_version, ''),"
		" coalesce(cipher, ''), count(*) FROM sessions WHERE"
		" coalesce(domain, '') = $1 AND tls = 'tls' AND ts >="
		" $2::date AND ts < $3::date + 1 GROUP BY 1, 2, 3 ORDER BY"
		" 4 DESC, 2, 3 LIMIT 100",
		p, 3))
		return -1;
	a = json_array();
	for (i = 0; i < PQntuples(res); i++)
		/* clang-format off */
		(void)json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o}",
		    "direction", view_text(res, i, 0),
		    "version", view_text(res, i, 1),
		    "cipher", view_text(res, i, 2),
		    "sessions", view_int(res, i, 3)));
	/* clang-format on */
	PQclear(res);
	(void)json_object_set_new(o, "ciphers", a);

	if (!q(db, "detail: failures", &res,
		"SELECT coalesce(direction, ''), coalesce(result, ''),"
		" coalesce(reason, ''), count(*), tlsflow_ts(max(ts)) FROM"
		" sessions WHERE coalesce(domain, '') = $1 AND tls ="
		" 'failed' AND ts >= $2::date AND ts < $3::date + 1 GROUP"
		" BY 1, 2, 3 ORDER BY 4 DESC, 2 LIMIT 100",
		p, 3))
		return -1;
	a = json_array();
	for (i = 0; i < PQntuples(res); i++)
		/* clang-format off */
		(void)json_array_append_new(a, json_pack(
		    "{s:o, s:o, s:o, s:o, s:o}",
		    "direction", view_text(res, i, 0),
		    "result", view_text(res, i, 1),
		    "reason", view_text(res, i, 2),
		    "sessions", view_int(res, i, 3),
		    "last_seen", view_text(res, i, 4)));
	/* clang-format on */
	PQclear(res);
	(void)json_object_set_new(o, "failures", a);

	if (!q(db, "detail: plaintext", &res,
		"SELECT tlsflow_ts(ts), coalesce(direction, ''), peer_host,"
		" host(peer_ip), messages, status, host, origin FROM"
		" sessions WHERE coalesce(domain, '') = $1 AND tls ="
		" 'plaintext' AND ts >= $2::date AND ts < $3::date + 1"
		" ORDER BY ts DESC LIMIT 50",
		p, 3))
		return -1;
	a = json_array();
	for (i = 0; i < PQntuples(res); i++)
		/* clang-format off */
		(void)json_array_append_new(a, json_pack(
		    "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		    "ts", view_text(res, i, 0),
		    "direction", view_text(res, i, 1),
		    "peer_host", view_text(res, i, 2),
		    "peer_ip", view_text(res, i, 3),
		    "messages", view_int(res, i, 4),
		    "status", view_text(res, i, 5),
		    "mta", view_text(res, i, 6),
		    "origin", view_text(res, i, 7)));
	/* clang-format on */
	PQclear(res);
	(void)json_object_set_new(o, "recent_plaintext", a);
	return 0;
}

static int
reports_part(PGconn *db, json_t *o, const char *const *p)
{
	PGresult *res = NULL;

	if (!q(db, "detail: reports", &res,
		"SELECT r.report_id, r.day::text, r.policy_domain,"
		" r.policy_type, r.filename, tlsflow_ts(r.generated),"
		" r.successful, r.failed, r.unknown, d.destination,"
		" d.state, d.attempts, tlsflow_ts(d.first_attempt),"
		" tlsflow_ts(d.last_attempt), tlsflow_ts(d.next_attempt),"
		" d.last_error, tlsflow_ts(d.delivered) FROM reports r LEFT"
		" JOIN report_deliveries d ON d.report_id = r.report_id"
		" WHERE r.policy_domain = $1 AND r.day BETWEEN $2::date AND"
		" $3::date ORDER BY r.day DESC, r.report_id, d.destination"
		" LIMIT 1000",
		p, 3))
		return -1;
	(void)json_object_set_new(o, "reports", view_reports(res));
	PQclear(res);
	return 0;
}

char *
detail_json(
    PGconn *db, const char *domain, int32_t from, int32_t to, bool *found)
{
	char f[11], t[11], rf[11];
	const char *p[3] = {domain, f, t}, *rp[3] = {domain, rf, t};
	int32_t raw_from;
	json_t *o;
	char *s = NULL;

	query_date_str(from, f);
	query_date_str(to, t);
	raw_from = to - from + 1 > DETAIL_RAW_DAYS_MAX
		       ? to - DETAIL_RAW_DAYS_MAX + 1
		       : from;
	query_date_str(raw_from, rf);
	/* clang-format off */
	o = json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:s}}",
	    "domain", domain,
	    "range", "from", f, "to", t,
	    "sessions_window", "from", rf, "to", t);
	/* clang-format on */
	if (rollup_part(db, o, p, from, to) == 0 && raw_part(db, o, rp) == 0 &&
	    reports_part(db, o, p) == 0) {
		*found = json_is_true(json_object_get(o, "found")) ||
			 json_array_size(json_object_get(o, "hosts")) > 0 ||
			 json_array_size(json_object_get(o, "reports")) > 0;
		(void)json_object_set_new(o, "found", json_boolean(*found));
		s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	}
	json_decref(o);
	return s;
}
