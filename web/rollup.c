/*
 * rollup.c - compute the dashboard's aggregates (see rollup.h)
 *
 * Inputs: cache keys built by api.c from validated queries (domain names
 * hold only [a-z0-9._-]); database text, which is parsed with the scan_*
 * readers and mapped onto closed enums (an unexpected name counts as
 * unknown, never as encrypted or plaintext).
 * SQL only with parameters; each result cleared once.
 * Threading: rollup_compute() uses only its arguments; several threads may
 * run it at once on different connections.
 */
#include "web/rollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/log.h"
#include "common/scan.h"
#include "common/xmalloc.h"
#include "core/db.h"
#include "core/event.h"
#include "web/cache.h"
#include "web/detail.h"
#include "web/query.h"

enum rl_kind {
	RK_DAYS = 1,
	RK_HOURS,
	RK_DOM,
	RK_DOMH,
	RK_MX,
	RK_VER,
	RK_ALL,
	RK_SPAN,
	RK_DETAIL
};

/* Every value starts with its kind so that rollup_free() knows it. */
struct rl_value {
	enum rl_kind kind;
	union {
		struct rl_cells cells;
		struct rl_domtab dom;
		struct rl_vertab ver;
		struct rl_span span;
		char *json;
	} u;
	bool found; /* RK_DETAIL */
};

static const char *const dir_names[RL_DIR_N] = {
    "outbound", "inbound", "submission", ""};
static const char *const tls_names[RL_TLS_N] = {
    "tls", "plaintext", "failed", "unknown"};

uint8_t
rollup_dir(const char *s)
{
	unsigned i;

	for (i = 0; i < RL_NODIR; i++)
		if (strcmp(s, dir_names[i]) == 0)
			return (uint8_t)i;
	return RL_NODIR;
}

uint8_t
rollup_tls(const char *s)
{
	unsigned i;

	for (i = 0; i < RL_UNKNOWN; i++)
		if (strcmp(s, tls_names[i]) == 0)
			return (uint8_t)i;
	return RL_UNKNOWN;
}

uint8_t
rollup_trust(const char *s)
{
	unsigned i;

	for (i = 1; i < RL_TRUST_N; i++)
		if (ev_trust_name((enum ev_trust)i) != NULL &&
		    strcmp(s, ev_trust_name((enum ev_trust)i)) == 0)
			return (uint8_t)i;
	return 0;
}

uint8_t
rollup_result(const char *s)
{
	unsigned r = ev_result_lookup(s, strlen(s));

	return r < RL_RESULT_N ? (uint8_t)r : 0;
}

const char *
rollup_dir_name(unsigned d)
{
	return d < RL_DIR_N ? dir_names[d] : "";
}

const char *
rollup_tls_name(unsigned t)
{
	return t < RL_TLS_N ? tls_names[t] : "unknown";
}

const char *
rollup_trust_name(unsigned t)
{
	const char *n = ev_trust_name((enum ev_trust)t);

	return n ? n : "";
}

const char *
rollup_result_name(unsigned r)
{
	const char *n = ev_result_name((enum ev_result)r);

	return n ? n : "";
}

bool
rollup_trust_verified(unsigned t)
{
	return t == EV_TRUST_VERIFIED || t == EV_TRUST_TRUSTED;
}

void
rollup_add(struct rl_sum *s, const struct rl_cell *c)
{
	s->s[c->tls] += c->sessions;
	s->m[c->tls] += c->messages;
	s->trust[c->tls][c->trust] += c->sessions;
	if (c->tls == RL_TLS && rollup_trust_verified(c->trust)) {
		s->verified += c->sessions;
		s->verified_m += c->messages;
	}
	if (c->tls == RL_FAILED) {
		s->result[c->result] += c->sessions;
		s->result_m[c->result] += c->messages;
	}
}

double
rollup_share(const int64_t v[RL_TLS_N], int64_t num)
{
	int64_t den = v[RL_TLS] + v[RL_PLAIN] + v[RL_FAILED];

	return den > 0 ? (double)num / (double)den : -1;
}

void
rollup_time_str(int64_t secs, char out[24])
{
	time_t t = (time_t)secs;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	(void)strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A number column; NULL or garbage is 0. */
static int64_t
num(const PGresult *res, int row, int col)
{
	int64_t v;

	if (PQgetisnull(res, row, col) ||
	    scan_i64_str(PQgetvalue(res, row, col), &v) == -1)
		return 0;
	return v;
}

/* Up to 3 numbers after the key's kind ("d:1:2" -> 1, 2). */
static int
key_nums(const char *key, int64_t *out, int n)
{
	char tmp[CACHE_KEY_MAX];
	char *p, *colon;
	int i;

	(void)snprintf(tmp, sizeof(tmp), "%s", key);
	p = strchr(tmp, ':');
	for (i = 0; i < n; i++) {
		if (p == NULL)
			return -1;
		p++;
		if ((colon = strchr(p, ':')) != NULL)
			*colon = '\0';
		if (scan_i64_str(p, &out[i]) == -1)
			return -1;
		p = colon;
	}
	return p == NULL ? 0 : -1;
}

static void
day_param(int64_t day, char out[11])
{
	query_date_str((int32_t)day, out);
}

static bool
run(PGconn *db, const char *what, PGresult **res, const char *sql, int n,
    const char *const *params)
{
	if (db_exec(db, what, res, PGRES_TUPLES_OK, sql, n, params))
		return true;
	PQclear(*res);
	*res = NULL;
	return false;
}

/* Rows (t, dir, tls, result, trust, sessions, messages) into cells. */
static struct rl_value *
cells_from(PGresult *res, enum rl_kind kind)
{
	struct rl_value *v = xcalloc(1, sizeof(*v));
	int i, n = PQntuples(res);

	v->kind = kind;
	v->u.cells.hourly = kind == RK_HOURS;
	v->u.cells.n = (size_t)n;
	v->u.cells.c = xcalloc(n > 0 ? (size_t)n : 1, sizeof(struct rl_cell));
	for (i = 0; i < n; i++) {
		struct rl_cell *c = &v->u.cells.c[i];

		c->t = num(res, i, 0);
		c->dir = rollup_dir(PQgetvalue(res, i, 1));
		c->tls = rollup_tls(PQgetvalue(res, i, 2));
		c->result = rollup_result(PQgetvalue(res, i, 3));
		c->trust = rollup_trust(PQgetvalue(res, i, 4));
		c->sessions = num(res, i, 5);
		c->messages = num(res, i, 6);
	}
	return v;
}

/* Per-(name, direction) rows: name, dir, then RL_TLS_N sessions, RL_TLS_N
 * messages, verified, last plaintext (epoch s), distinct domains. */
static struct rl_value *
domtab_from(PGresult *res, enum rl_kind kind)
{
	struct rl_value *v = xcalloc(1, sizeof(*v));
	int i, k, n = PQntuples(res);
	size_t asz = 0, off = 0, len;

	v->kind = kind;
	v->u.dom.hourly = kind != RK_DOM;
	for (i = 0; i < n; i++)
		asz += (size_t)PQgetlength(res, i, 0) + 1;
	v->u.dom.arena = xmalloc(asz + 1);
	v->u.dom.n = (size_t)n;
	v->u.dom.d = xcalloc(n > 0 ? (size_t)n : 1, sizeof(struct rl_dom));
	for (i = 0; i < n; i++) {
		struct rl_dom *d = &v->u.dom.d[i];

		len = (size_t)PQgetlength(res, i, 0);
		memcpy(v->u.dom.arena + off, PQgetvalue(res, i, 0), len + 1);
		d->name = v->u.dom.arena + off;
		off += len + 1;
		d->dir = rollup_dir(PQgetvalue(res, i, 1));
		for (k = 0; k < RL_TLS_N; k++) {
			d->s[k] = num(res, i, 2 + k);
			d->m[k] = num(res, i, 2 + RL_TLS_N + k);
		}
		d->verified = num(res, i, 2 + 2 * RL_TLS_N);
		d->last_plain = PQgetisnull(res, i, 3 + 2 * RL_TLS_N)
				    ? -1
				    : num(res, i, 3 + 2 * RL_TLS_N);
		d->ndomains = num(res, i, 4 + 2 * RL_TLS_N);
	}
	return v;
}

/* The per-(key, direction) columns shared by the D, Dh and M queries. */
#define DOM_SUMS(S, M)                                                         \
	"coalesce(" S " FILTER (WHERE tls = 'tls'), 0),"                       \
	" coalesce(" S " FILTER (WHERE tls = 'plaintext'), 0),"                \
	" coalesce(" S " FILTER (WHERE tls = 'failed'), 0),"                   \
	" coalesce(" S " FILTER (WHERE tls NOT IN ('tls', 'plaintext',"        \
	" 'failed')), 0),"                                                     \
	" coalesce(" M " FILTER (WHERE tls = 'tls'), 0),"                      \
	" coalesce(" M " FILTER (WHERE tls = 'plaintext'), 0),"                \
	" coalesce(" M " FILTER (WHERE tls = 'failed'), 0),"                   \
	" coalesce(" M " FILTER (WHERE tls NOT IN ('tls', 'plaintext',"        \
	" 'failed')), 0),"                                                     \
	" coalesce(" S " FILTER (WHERE tls = 'tls' AND trust IN"               \
	" ('verified', 'trusted')), 0)"

static void *
compute_days(PGconn *db, const char *key, bool hourly)
{
	char a[24], b[24];
	const char *params[2] = {a, b};
	PGresult *res = NULL;
	struct rl_value *v;
	int64_t x[2];

	if (key_nums(key, x, 2) == -1)
		return NULL;
	if (hourly) {
		(void)snprintf(a, sizeof(a), "%lld", (long long)x[0]);
		(void)snprintf(b, sizeof(b), "%lld", (long long)x[1]);
		if (!run(db, "hourly totals", &res,
			"SELECT floor(extract(epoch FROM ts) / 3600)::bigint,"
			" coalesce(direction, ''), tls, coalesce(result, ''),"
			" coalesce(trust, ''), count(*),"
			" coalesce(sum(messages), 0)"
			" FROM sessions WHERE ts >= to_timestamp($1::bigint)"
			" AND ts < to_timestamp($2::bigint)"
			" GROUP BY 1, 2, 3, 4, 5 ORDER BY 1",
			2, params))
			return NULL;
	} else {
		day_param(x[0], a);
		day_param(x[1], b);
		if (!run(db, "daily totals", &res,
			"SELECT day - DATE '1970-01-01', direction, tls, "
			"result,"
			" trust, sum(sessions), sum(messages)"
			" FROM daily WHERE day BETWEEN $1::date AND $2::date"
			" GROUP BY 1, 2, 3, 4, 5 ORDER BY 1",
			2, params))
			return NULL;
	}
	v = cells_from(res, hourly ? RK_HOURS : RK_DAYS);
	PQclear(res);
	return v;
}

static void *
compute_dom(PGconn *db, const char *key, enum rl_kind kind)
{
	char a[24], b[24];
	const char *params[2] = {a, b};
	PGresult *res = NULL;
	struct rl_value *v;
	int64_t x[2];
	bool ok;

	if (key_nums(key, x, 2) == -1)
		return NULL;
	if (kind == RK_DOM) {
		day_param(x[0], a);
		day_param(x[1], b);
		ok = run(db, "domain totals", &res,
		    "SELECT domain, direction, " DOM_SUMS("sum(sessions)",
			"sum(messages)") ","
					 " (max(day) FILTER (WHERE tls = "
					 "'plaintext')"
					 " - DATE '1970-01-01')::bigint * "
					 "86400, 1"
					 " FROM daily WHERE day BETWEEN "
					 "$1::date AND $2::date"
					 " GROUP BY domain, direction ORDER BY "
					 "domain, direction",
		    2, params);
	} else {
		(void)snprintf(a, sizeof(a), "%lld", (long long)x[0]);
		(void)snprintf(b, sizeof(b), "%lld", (long long)x[1]);
		if (kind == RK_DOMH)
			ok = run(db, "domain totals", &res,
			    "SELECT coalesce(domain, ''),"
			    " coalesce(direction, ''), " DOM_SUMS("count(*)",
				"sum(messages)") ","
						 " floor(extract(epoch FROM "
						 "max(ts) FILTER (WHERE"
						 " tls = "
						 "'plaintext')))::bigint, 1"
						 " FROM sessions WHERE ts >= "
						 "to_timestamp($1::bigint)"
						 " AND ts < "
						 "to_timestamp($2::bigint)"
						 " GROUP BY 1, 2 ORDER BY 1, 2",
			    2, params);
		else
			ok = run(db, "host totals", &res,
			    "SELECT coalesce(peer_host, ''),"
			    " coalesce(direction, ''), " DOM_SUMS("count(*)",
				"sum(messages)") ","
						 " floor(extract(epoch FROM "
						 "max(ts) FILTER (WHERE"
						 " tls = "
						 "'plaintext')))::bigint,"
						 " count(DISTINCT domain)"
						 " FROM sessions WHERE ts >= "
						 "to_timestamp($1::bigint)"
						 " AND ts < "
						 "to_timestamp($2::bigint)"
						 " GROUP BY 1, 2 ORDER BY 1, 2",
			    2, params);
	}
	if (!ok)
		return NULL;
	v = domtab_from(res, kind);
	PQclear(res);
	return v;
}

static void *
compute_ver(PGconn *db, const char *key)
{
	char a[24], b[24];
	const char *params[2] = {a, b};
	PGresult *res = NULL;
	struct rl_value *v;
	size_t asz = 0, off = 0, l;
	int64_t x[2];
	int i, n;

	if (key_nums(key, x, 2) == -1)
		return NULL;
	(void)snprintf(a, sizeof(a), "%lld", (long long)x[0]);
	(void)snprintf(b, sizeof(b), "%lld", (long long)x[1]);
	if (!run(db, "tls versions", &res,
		"SELECT coalesce(direction, ''), coalesce(domain, ''),"
		" coalesce(tls_version, ''), count(*)"
		" FROM sessions WHERE ts >= to_timestamp($1::bigint)"
		" AND ts < to_timestamp($2::bigint) AND tls = 'tls'"
		" GROUP BY 1, 2, 3 ORDER BY 2, 1, 4 DESC",
		2, params))
		return NULL;
	n = PQntuples(res);
	v = xcalloc(1, sizeof(*v));
	v->kind = RK_VER;
	for (i = 0; i < n; i++)
		asz += (size_t)PQgetlength(res, i, 1) +
		       (size_t)PQgetlength(res, i, 2) + 2;
	v->u.ver.arena = xmalloc(asz + 1);
	v->u.ver.n = (size_t)n;
	v->u.ver.v = xcalloc(n > 0 ? (size_t)n : 1, sizeof(struct rl_ver));
	for (i = 0; i < n; i++) {
		struct rl_ver *r = &v->u.ver.v[i];

		r->dir = rollup_dir(PQgetvalue(res, i, 0));
		l = (size_t)PQgetlength(res, i, 1);
		memcpy(v->u.ver.arena + off, PQgetvalue(res, i, 1), l + 1);
		r->domain = v->u.ver.arena + off;
		off += l + 1;
		l = (size_t)PQgetlength(res, i, 2);
		memcpy(v->u.ver.arena + off, PQgetvalue(res, i, 2), l + 1);
		r->version = v->u.ver.arena + off;
		off += l + 1;
		r->sessions = num(res, i, 3);
	}
	PQclear(res);
	return v;
}

static void *
compute_all(PGconn *db)
{
	PGresult *res = NULL;
	struct rl_value *v;

	if (!run(db, "all-time totals", &res,
		"SELECT 0, direction, tls, '', trust, sum(sessions),"
		" sum(messages) FROM daily GROUP BY 2, 3, 5",
		0, NULL))
		return NULL;
	v = cells_from(res, RK_ALL);
	PQclear(res);
	return v;
}

static void *
compute_span(PGconn *db)
{
	PGresult *res = NULL;
	struct rl_value *v;

	if (!run(db, "data span", &res,
		"SELECT min(day) - DATE '1970-01-01',"
		" max(day) - DATE '1970-01-01' FROM daily",
		0, NULL))
		return NULL;
	v = xcalloc(1, sizeof(*v));
	v->kind = RK_SPAN;
	v->u.span.first = PQgetisnull(res, 0, 0) ? -1 : num(res, 0, 0);
	v->u.span.last = PQgetisnull(res, 0, 1) ? -1 : num(res, 0, 1);
	PQclear(res);
	return v;
}

static void *
compute_detail(PGconn *db, const char *key)
{
	char dom[QUERY_SEARCH_MAX + 1];
	const char *p = key + 2, *colon;
	struct rl_value *v;
	int64_t x[2];
	bool found = false;
	char *json;

	if ((colon = strchr(p, ':')) == NULL ||
	    (size_t)(colon - p) > QUERY_SEARCH_MAX)
		return NULL;
	memcpy(dom, p, (size_t)(colon - p));
	dom[colon - p] = '\0';
	if (key_nums(colon, x, 2) == -1)
		return NULL;
	if ((json = detail_json(
		 db, dom, (int32_t)x[0], (int32_t)x[1], &found)) == NULL)
		return NULL;
	v = xcalloc(1, sizeof(*v));
	v->kind = RK_DETAIL;
	v->u.json = json;
	v->found = found;
	return v;
}

void *
rollup_compute(void *ctx, PGconn *db, const char *key)
{
	(void)ctx;
	switch (key[0]) {
	case 'd':
		return compute_days(db, key, false);
	case 'h':
		return compute_days(db, key, true);
	case 'D':
		return compute_dom(db, key, key[1] == 'h' ? RK_DOMH : RK_DOM);
	case 'M':
		return compute_dom(db, key, RK_MX);
	case 'V':
		return compute_ver(db, key);
	case 'A':
		return compute_all(db);
	case 'S':
		return compute_span(db);
	case 'X':
		return compute_detail(db, key);
	default:
		panic("rollup: bad key %s", key);
	}
}

void
rollup_free(void *value)
{
	struct rl_value *v = value;

	if (v == NULL)
		return;
	switch (v->kind) {
	case RK_DAYS:
	case RK_HOURS:
	case RK_ALL:
		free(v->u.cells.c);
		break;
	case RK_DOM:
	case RK_DOMH:
	case RK_MX:
		free(v->u.dom.d);
		free(v->u.dom.arena);
		break;
	case RK_VER:
		free(v->u.ver.v);
		free(v->u.ver.arena);
		break;
	case RK_DETAIL:
		free(v->u.json);
		break;
	case RK_SPAN:
		break;
	}
	free(v);
}

const struct rl_cells *
rollup_cells(const void *value)
{
	const struct rl_value *v = value;

	return v->kind == RK_DAYS || v->kind == RK_HOURS || v->kind == RK_ALL
		   ? &v->u.cells
		   : NULL;
}

const struct rl_domtab *
rollup_domtab(const void *value)
{
	const struct rl_value *v = value;

	return v->kind == RK_DOM || v->kind == RK_DOMH || v->kind == RK_MX
		   ? &v->u.dom
		   : NULL;
}

const struct rl_vertab *
rollup_vertab(const void *value)
{
	const struct rl_value *v = value;

	return v->kind == RK_VER ? &v->u.ver : NULL;
}

const struct rl_span *
rollup_span(const void *value)
{
	const struct rl_value *v = value;

	return v->kind == RK_SPAN ? &v->u.span : NULL;
}

const char *
rollup_json(const void *value)
{
	const struct rl_value *v = value;

	return v->kind == RK_DETAIL ? v->u.json : NULL;
}

bool
rollup_found(const void *value)
{
	const struct rl_value *v = value;

	return v->kind == RK_DETAIL && v->found;
}
