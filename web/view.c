/*
 * view.c - JSON shapes of the rollups (see view.h)
 *
 * Inputs: rollup values (already mapped onto closed enums) and database
 * rows; strings from the database go out only through jansson, which
 * escapes them.  No shared state: safe from any thread.
 */
#include "web/view.h"

#include <stdlib.h>
#include <string.h>

#include "common/scan.h"
#include "common/xmalloc.h"

#define VIEW_BUCKETS_MAX 4000

json_t *
view_share(double x)
{
	if (x < 0)
		return json_null();
	return json_real((double)(int64_t)(x * 1e6 + 0.5) / 1e6);
}

json_t *
view_text(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return json_null();
	return json_stringn(
	    PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

json_t *
view_int(const PGresult *res, int row, int col)
{
	int64_t v;

	if (PQgetisnull(res, row, col) ||
	    scan_i64_str(PQgetvalue(res, row, col), &v) == -1)
		return json_null();
	return json_integer((json_int_t)v);
}

static json_t *
counts(const int64_t v[RL_TLS_N], int64_t verified)
{
	/* clang-format off */
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
	    "total", (json_int_t)(v[RL_TLS] + v[RL_PLAIN] + v[RL_FAILED] +
		v[RL_UNKNOWN]),
	    "tls", (json_int_t)v[RL_TLS],
	    "plaintext", (json_int_t)v[RL_PLAIN],
	    "failed", (json_int_t)v[RL_FAILED],
	    "unknown", (json_int_t)v[RL_UNKNOWN],
	    "verified", (json_int_t)verified);
	/* clang-format on */
}

/* Failed sessions by RFC 8460 result type, most first. */
static json_t *
failures(const struct rl_sum *s)
{
	json_t *a = json_array();
	bool done[RL_RESULT_N] = {false};
	unsigned i, best;

	for (;;) {
		best = RL_RESULT_N;
		for (i = 0; i < RL_RESULT_N; i++)
			if (!done[i] && s->result[i] > 0 &&
			    (best == RL_RESULT_N ||
				s->result[i] > s->result[best]))
				best = i;
		if (best == RL_RESULT_N)
			return a;
		done[best] = true;
		/* clang-format off */
		(void)json_array_append_new(a, json_pack("{s:s, s:I, s:I}",
		    "result", best == 0 ? "unspecified" :
			rollup_result_name(best),
		    "sessions", (json_int_t)s->result[best],
		    "messages", (json_int_t)s->result_m[best]));
		/* clang-format on */
	}
}

json_t *
view_totals(const struct rl_cells *cells, int64_t t0, int64_t t1, unsigned dirs)
{
	struct rl_sum s;
	json_t *trust;
	size_t i;
	unsigned k;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < cells->n; i++) {
		const struct rl_cell *c = &cells->c[i];

		if (c->t >= t0 && c->t <= t1 && (dirs & VIEW_DIR(c->dir)))
			rollup_add(&s, c);
	}
	trust = json_object();
	for (k = 0; k < RL_TRUST_N; k++)
		(void)json_object_set_new(trust,
		    k == 0 ? "none" : rollup_trust_name(k),
		    json_integer((json_int_t)s.trust[RL_TLS][k]));
	/* clang-format off */
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "sessions", counts(s.s, s.verified),
	    "messages", counts(s.m, s.verified_m),
	    "encrypted_share", view_share(rollup_share(s.s, s.s[RL_TLS])),
	    "verified_share", view_share(rollup_share(s.s, s.verified)),
	    "messages_encrypted_share",
		view_share(rollup_share(s.m, s.m[RL_TLS])),
	    "messages_verified_share",
		view_share(rollup_share(s.m, s.verified_m)),
	    "trust", trust,
	    "failures", failures(&s));
	/* clang-format on */
}

enum {
	SF_SESS,
	SF_TLS,
	SF_PLAIN,
	SF_FAILED,
	SF_UNKNOWN,
	SF_VERIFIED,
	SF_MSGS,
	SF_MSGS_TLS,
	SF_MSGS_PLAIN,
	SF_MSGS_FAILED,
	SF_N
};
static const char *const sf_names[SF_N] = {"sessions", "tls", "plaintext",
    "failed", "unknown", "verified", "messages", "messages_tls",
    "messages_plaintext", "messages_failed"};

/* One direction's (or the total's) arrays. */
static json_t *
series_obj(const int64_t *acc, size_t n)
{
	json_t *o = json_object(), *a[SF_N], *es, *vs;
	const int64_t *b;
	int64_t den;
	size_t i;
	unsigned f;

	for (f = 0; f < SF_N; f++)
		a[f] = json_array();
	es = json_array();
	vs = json_array();
	for (i = 0; i < n; i++) {
		b = acc + i * SF_N;
		for (f = 0; f < SF_N; f++)
			(void)json_array_append_new(
			    a[f], json_integer((json_int_t)b[f]));
		den = b[SF_TLS] + b[SF_PLAIN] + b[SF_FAILED];
		(void)json_array_append_new(es,
		    view_share(den > 0 ? (double)b[SF_TLS] / (double)den : -1));
		(void)json_array_append_new(vs,
		    view_share(
			den > 0 ? (double)b[SF_VERIFIED] / (double)den : -1));
	}
	for (f = 0; f < SF_N; f++)
		(void)json_object_set_new(o, sf_names[f], a[f]);
	(void)json_object_set_new(o, "encrypted_share", es);
	(void)json_object_set_new(o, "verified_share", vs);
	return o;
}

json_t *
view_series(const struct rl_cells *cells, int64_t s0, int64_t s1, int64_t step,
    int64_t unit)
{
	static const unsigned dirs[] = {RL_OUT, RL_IN, RL_SUB};
	int64_t *acc, *b, ts;
	json_t *o, *t;
	size_t n, i, k, nd = RL_DIR_N + 1; /* + the total */
	unsigned d;

	if (step <= 0 || s1 <= s0)
		n = 0;
	else
		n = (size_t)((s1 - s0 + step - 1) / step);
	if (n > VIEW_BUCKETS_MAX)
		n = VIEW_BUCKETS_MAX;
	acc = xcalloc(n * nd * SF_N + 1, sizeof(*acc));
	for (i = 0; i < cells->n; i++) {
		const struct rl_cell *c = &cells->c[i];

		ts = c->t * unit;
		if (ts < s0 || ts >= s1)
			continue;
		k = (size_t)((ts - s0) / step);
		if (k >= n)
			continue;
		for (d = 0; d < 2; d++) {
			b = acc + ((d ? RL_DIR_N : c->dir) * n + k) * SF_N;
			b[SF_SESS] += c->sessions;
			b[SF_MSGS] += c->messages;
			switch (c->tls) {
			case RL_TLS:
				b[SF_TLS] += c->sessions;
				b[SF_MSGS_TLS] += c->messages;
				if (rollup_trust_verified(c->trust))
					b[SF_VERIFIED] += c->sessions;
				break;
			case RL_PLAIN:
				b[SF_PLAIN] += c->sessions;
				b[SF_MSGS_PLAIN] += c->messages;
				break;
			case RL_FAILED:
				b[SF_FAILED] += c->sessions;
				b[SF_MSGS_FAILED] += c->messages;
				break;
			default:
				b[SF_UNKNOWN] += c->sessions;
			}
		}
	}
	o = json_object();
	t = json_array();
	for (k = 0; k < n; k++)
		(void)json_array_append_new(
		    t, json_integer((json_int_t)(s0 + (int64_t)k * step)));
	(void)json_object_set_new(o, "t", t);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		(void)json_object_set_new(o, rollup_dir_name(dirs[i]),
		    series_obj(acc + dirs[i] * n * SF_N, n));
	(void)json_object_set_new(
	    o, "total", series_obj(acc + RL_DIR_N * n * SF_N, n));
	free(acc);
	return o;
}

/*
 * Columns: 0 report_id, 1 day, 2 policy_domain, 3 policy_type, 4 filename,
 * 5 generated, 6 successful, 7 failed, 8 unknown, 9 destination, 10 state,
 * 11 attempts, 12 first_attempt, 13 last_attempt, 14 next_attempt,
 * 15 last_error, 16 delivered; ordered so that a report's rows are
 * together.
 */
json_t *
view_reports(const PGresult *res)
{
	json_t *a = json_array(), *rep = NULL, *dels = NULL;
	const char *prev = NULL;
	int i, n = PQntuples(res);

	for (i = 0; i < n; i++) {
		const char *id = PQgetvalue(res, i, 0);

		if (prev == NULL || strcmp(prev, id) != 0) {
			dels = json_array();
			/* clang-format off */
			rep = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			    " s:o, s:o, s:o}",
			    "report_id", view_text(res, i, 0),
			    "day", view_text(res, i, 1),
			    "policy_domain", view_text(res, i, 2),
			    "policy_type", view_text(res, i, 3),
			    "filename", view_text(res, i, 4),
			    "generated", view_text(res, i, 5),
			    "successful", view_int(res, i, 6),
			    "failed", view_int(res, i, 7),
			    "unknown", view_int(res, i, 8),
			    "deliveries", dels);
			/* clang-format on */
			(void)json_array_append_new(a, rep);
			prev = id;
		}
		if (PQgetisnull(res, i, 9))
			continue;
		/* clang-format off */
		(void)json_array_append_new(dels, json_pack(
		    "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		    "destination", view_text(res, i, 9),
		    "state", view_text(res, i, 10),
		    "attempts", view_int(res, i, 11),
		    "first_attempt", view_text(res, i, 12),
		    "last_attempt", view_text(res, i, 13),
		    "next_attempt", view_text(res, i, 14),
		    "last_error", view_text(res, i, 15),
		    "delivered", view_text(res, i, 16)));
		/* clang-format on */
	}
	return a;
}
