/*
 * api.c - the dashboard's JSON API (see api.h)
 *
 * Inputs: the request path and parameters are untrusted; they reach this
 * file only through query.c (parameters) and query_domain() (the domain
 * in a path), and the database only as statement parameters.
 *
 * Where numbers come from: the daily rollup for day ranges, raw sessions
 * for the last 24 hours (by hour) and for what the rollup does not keep
 * (TLS versions, MX hosts), always through the cache (cache.h) so that a
 * request costs memory work only.  The data generation (`gen') changes
 * when the collectors write: the main thread polls a change token made of
 * the tables' write counters and the newest checkpoint once a second.
 * Threading: handlers share only struct web (see web.h).
 */
#include "web/api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/scan.h"
#include "common/xmalloc.h"
#include "core/config.h"
#include "core/db.h"
#include "web/detail.h"
#include "web/rollup.h"
#include "web/view.h"

#ifndef TLSFLOW_VERSION
#define TLSFLOW_VERSION "unknown"
#endif

#define API_CSV_MAX (64u << 20)		      /* bytes of one CSV export */
#define API_VERSIONS_MAX 16		      /* distinct TLS versions listed */
#define API_MEMO_KEY_MAX (CACHE_KEY_MAX + 64) /* a finished reply's key */
#define API_HOURLY_DAYS_MAX 7 /* bucket=hour reads raw sessions */

static char *memo_get(
    struct web *, const char *key, struct cache_val *const *dep, size_t *len);
static void memo_put(struct web *, const char *key,
    struct cache_val *const *dep, const char *body, size_t len);

int32_t
web_today(void)
{
	return (int32_t)(time(NULL) / 86400);
}

void
web_reply_json(struct web_reply *r, unsigned status, json_t *j)
{
	r->body =
	    j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(j);
	if (r->body == NULL) {
		r->status = 500;
		r->body = xstrdup("{\"error\":\"internal error\","
				  "\"status\":500}");
	} else {
		r->status = status;
	}
	r->len = strlen(r->body);
	r->ctype = "application/json";
}

void
web_reply_error(struct web_reply *r, unsigned status, const char *msg)
{
	web_reply_json(r, status,
	    json_pack("{s:s, s:i}", "error", msg, "status", (int)status));
}

/* The time window a query asks for, in the units the rollups use. */
struct win {
	bool hourly;	  /* last 24 h from raw sessions */
	int32_t from, to; /* days (inclusive) */
	int64_t s0, s1;	  /* epoch seconds [s0, s1) */
	enum query_range name;
};

static void
window(const struct query *q, struct win *w)
{
	int64_t hour;

	query_days(q, web_today(), QUERY_RANGE_30D, &w->from, &w->to);
	w->name = q->range != QUERY_RANGE_NONE ? q->range : QUERY_RANGE_30D;
	w->hourly = w->name == QUERY_RANGE_24H;
	if (w->hourly) {
		hour = (int64_t)time(NULL) / 3600;
		w->s1 = (hour + 1) * 3600;
		w->s0 = w->s1 - 24 * 3600;
	} else {
		w->s0 = (int64_t)w->from * 86400;
		w->s1 = ((int64_t)w->to + 1) * 86400;
	}
}

static json_t *
range_json(const struct win *w)
{
	char f[11], t[11], s0[24], s1[24];

	query_date_str(w->from, f);
	query_date_str(w->to, t);
	rollup_time_str(w->s0, s0);
	rollup_time_str(w->s1, s1);
	/* clang-format off */
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
	    "name", query_range_name(w->name),
	    "from", f, "to", t,
	    "start", s0, "end", s1,
	    "source", w->hourly ? "sessions" : "daily");
	/* clang-format on */
}

static struct cache_val *
get(struct web *w, struct web_reply *r, const char *key)
{
	struct cache_val *v;

	v = cache_get(w->cache, key, atomic_load(&w->gen));
	if (v == NULL && r != NULL)
		web_reply_error(r, 503, "the database cannot be reached");
	return v;
}

/* TLS versions over every domain of the wanted directions, most first. */
static json_t *
versions_json(const struct rl_vertab *vt, unsigned dirs)
{
	const char *name[API_VERSIONS_MAX];
	int64_t cnt[API_VERSIONS_MAX], total = 0;
	size_t i, k, n = 0, best;
	json_t *a = json_array();

	for (i = 0; i < vt->n; i++) {
		const struct rl_ver *v = &vt->v[i];

		if (!(dirs & VIEW_DIR(v->dir)))
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(name[k], v->version) == 0)
				break;
		if (k == n) {
			if (n == API_VERSIONS_MAX)
				k = n - 1; /* the rest go with the last */
			else
				name[n] = v->version, cnt[n++] = 0;
		}
		cnt[k] += v->sessions;
		total += v->sessions;
	}
	while (n > 0) {
		best = 0;
		for (k = 1; k < n; k++)
			if (cnt[k] > cnt[best])
				best = k;
		/* clang-format off */
		(void)json_array_append_new(a, json_pack("{s:s, s:I, s:o}",
		    "version", name[best][0] ? name[best] : "unknown",
		    "sessions", (json_int_t)cnt[best],
		    "share", view_share(total ? (double)cnt[best] /
			(double)total : -1)));
		/* clang-format on */
		name[best] = name[n - 1];
		cnt[best] = cnt[n - 1];
		n--;
	}
	return a;
}

static void
key_cells(char *k, size_t n, const struct win *w)
{
	if (w->hourly)
		(void)snprintf(
		    k, n, "h:%lld:%lld", (long long)w->s0, (long long)w->s1);
	else
		(void)snprintf(k, n, "d:%ld:%ld", (long)w->from, (long)w->to);
}

static void
summary(struct web *w, struct query *q, struct web_reply *r)
{
	static const unsigned dirs[] = {RL_OUT, RL_IN, RL_SUB};
	struct cache_val *cv = NULL, *vv = NULL, *sv = NULL;
	struct cache_val *dep[3];
	char mk[API_MEMO_KEY_MAX];
	const struct rl_cells *cells;
	const struct rl_span *span;
	char kc[CACHE_KEY_MAX], kv[CACHE_KEY_MAX];
	char first[11], last[11];
	int64_t t0, t1;
	json_t *o, *vers;
	struct win win;
	size_t i;

	if (query_check(q, QP_TIME) == -1) {
		web_reply_error(r, 400, q->err);
		return;
	}
	window(q, &win);
	key_cells(kc, sizeof(kc), &win);
	(void)snprintf(kv, sizeof(kv), "V:%lld:%lld", (long long)win.s0,
	    (long long)win.s1);
	if ((cv = get(w, r, kc)) == NULL || (vv = get(w, r, kv)) == NULL ||
	    (sv = get(w, r, "S")) == NULL)
		goto out;
	dep[0] = cv;
	dep[1] = vv;
	dep[2] = sv;
	(void)snprintf(mk, sizeof(mk), "summary:%s", kc);
	if ((r->body = memo_get(w, mk, dep, &r->len)) != NULL) {
		r->status = 200;
		r->ctype = "application/json";
		goto out;
	}
	cells = rollup_cells(cache_data(cv));
	span = rollup_span(cache_data(sv));
	t0 = win.hourly ? win.s0 / 3600 : win.from;
	t1 = win.hourly ? win.s1 / 3600 - 1 : win.to;
	query_date_str((int32_t)span->first, first);
	query_date_str((int32_t)span->last, last);
	/* clang-format off */
	o = json_pack("{s:o, s:{s:o, s:o}, s:o, s:s}",
	    "range", range_json(&win),
	    "span",
		"first", span->first < 0 ? json_null() : json_string(first),
		"last", span->last < 0 ? json_null() : json_string(last),
	    "total", view_totals(cells, t0, t1, VIEW_DIR_ALL),
	    "banner", w->banner);
	/* clang-format on */
	vers = json_object();
	(void)json_object_set_new(vers, "total",
	    versions_json(rollup_vertab(cache_data(vv)), VIEW_DIR_ALL));
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		(void)json_object_set_new(o, rollup_dir_name(dirs[i]),
		    view_totals(cells, t0, t1, VIEW_DIR(dirs[i])));
		(void)json_object_set_new(vers, rollup_dir_name(dirs[i]),
		    versions_json(
			rollup_vertab(cache_data(vv)), VIEW_DIR(dirs[i])));
	}
	(void)json_object_set_new(o, "tls_versions", vers);
	web_reply_json(r, 200, o);
	if (r->status == 200)
		memo_put(w, mk, dep, r->body, r->len);
out:
	cache_release(w->cache, cv);
	cache_release(w->cache, vv);
	cache_release(w->cache, sv);
}

static void
series(struct web *w, struct query *q, struct web_reply *r)
{
	struct cache_val *cv, *dep[3];
	char kc[CACHE_KEY_MAX], mk[API_MEMO_KEY_MAX];
	enum query_bucket b = q->bucket;
	int64_t step, unit;
	struct win win;
	json_t *o;

	if (query_check(q, QP_TIME | QP_BUCKET) == -1) {
		web_reply_error(r, 400, q->err);
		return;
	}
	window(q, &win);
	if (b == QUERY_BUCKET_AUTO)
		b = win.hourly			  ? QUERY_BUCKET_HOUR
		    : win.to - win.from + 1 <= 92 ? QUERY_BUCKET_DAY
						  : QUERY_BUCKET_WEEK;
	if (b == QUERY_BUCKET_HOUR) {
		if (win.to - win.from + 1 > API_HOURLY_DAYS_MAX) {
			web_reply_error(r, 400,
			    "bucket: hour needs a range "
			    "of at most 7 days");
			return;
		}
		win.hourly = true;
		(void)snprintf(kc, sizeof(kc), "h:%lld:%lld", (long long)win.s0,
		    (long long)win.s1);
		step = 3600;
		unit = 3600;
	} else {
		if (win.hourly) { /* 24h by day: its two calendar days */
			win.hourly = false;
			win.s0 = (int64_t)win.from * 86400;
			win.s1 = ((int64_t)win.to + 1) * 86400;
		}
		key_cells(kc, sizeof(kc), &win);
		step = b == QUERY_BUCKET_WEEK ? 7 * 86400 : 86400;
		unit = 86400;
	}
	if (step > 86400 && (win.s1 - win.s0) % step != 0) /* whole weeks */
		win.s0 = win.s1 - ((win.s1 - win.s0) / step + 1) * step;
	if ((cv = get(w, r, kc)) == NULL)
		return;
	dep[0] = cv;
	dep[1] = dep[2] = NULL;
	(void)snprintf(mk, sizeof(mk), "series:%s:%lld:%lld", kc,
	    (long long)win.s0, (long long)step);
	if ((r->body = memo_get(w, mk, dep, &r->len)) != NULL) {
		r->status = 200;
		r->ctype = "application/json";
		cache_release(w->cache, cv);
		return;
	}
	o = view_series(
	    rollup_cells(cache_data(cv)), win.s0, win.s1, step, unit);
	(void)json_object_set_new(o, "range", range_json(&win));
	(void)json_object_set_new(o, "bucket",
	    json_string(step == 3600	? "hour"
			: step == 86400 ? "day"
					: "week"));
	(void)json_object_set_new(o, "step", json_integer(step));
	(void)json_object_set_new(o, "age_seconds", json_real(cache_age(cv)));
	cache_release(w->cache, cv);
	web_reply_json(r, 200, o);
}

/* ---- the domain table ------------------------------------------------ */

struct drow {
	struct rl_dom d; /* merged over the wanted directions */
	double enc, ver; /* shares, -1 when no known sessions */
};

static int64_t
dsum(const struct rl_dom *d)
{
	return d->s[RL_TLS] + d->s[RL_PLAIN] + d->s[RL_FAILED] +
	       d->s[RL_UNKNOWN];
}

static int64_t
msum(const struct rl_dom *d)
{
	return d->m[RL_TLS] + d->m[RL_PLAIN] + d->m[RL_FAILED] +
	       d->m[RL_UNKNOWN];
}

static int
cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int
cmp_share(double a, double b)
{
	return a < b ? -1 : a > b;
}

static int
drow_cmp(const void *pa, const void *pb, void *arg)
{
	const struct drow *a = pa, *b = pb;
	const struct query *q = arg;
	int c = 0;

	switch (q->sort) {
	case QUERY_SORT_SESSIONS:
		c = cmp_i64(dsum(&a->d), dsum(&b->d));
		break;
	case QUERY_SORT_MESSAGES:
		c = cmp_i64(msum(&a->d), msum(&b->d));
		break;
	case QUERY_SORT_ENCRYPTED:
	case QUERY_SORT_VERIFIED:
		/* Rows without known sessions go last either way. */
		if ((a->enc < 0) != (b->enc < 0))
			return a->enc < 0 ? 1 : -1;
		c = q->sort == QUERY_SORT_ENCRYPTED ? cmp_share(a->enc, b->enc)
						    : cmp_share(a->ver, b->ver);
		break;
	case QUERY_SORT_PLAINTEXT:
		c = cmp_i64(a->d.s[RL_PLAIN], b->d.s[RL_PLAIN]);
		break;
	case QUERY_SORT_FAILED:
		c = cmp_i64(a->d.s[RL_FAILED], b->d.s[RL_FAILED]);
		break;
	case QUERY_SORT_UNKNOWN:
		c = cmp_i64(a->d.s[RL_UNKNOWN], b->d.s[RL_UNKNOWN]);
		break;
	case QUERY_SORT_LAST_PLAINTEXT:
		c = cmp_i64(a->d.last_plain, b->d.last_plain);
		break;
	case QUERY_SORT_DOMAIN:
		c = strcmp(a->d.name, b->d.name);
		break;
	}
	if (q->desc)
		c = -c;
	if (c == 0) /* ties: by name, always A to Z */
		c = strcmp(a->d.name, b->d.name);
	return c;
}

static unsigned
dirmask(enum query_dir d)
{
	switch (d) {
	case QUERY_DIR_OUT:
		return VIEW_DIR(RL_OUT);
	case QUERY_DIR_IN:
		return VIEW_DIR(RL_IN);
	case QUERY_DIR_SUB:
		return VIEW_DIR(RL_SUB);
	case QUERY_DIR_ALL:
	default:
		return VIEW_DIR_ALL;
	}
}

/* Rows of `dt' merged per name over the wanted directions and matching
 * the search; returns a new array of *n rows. */
static struct drow *
drows(const struct rl_domtab *dt, const struct query *q, size_t *n)
{
	struct drow *rows = xcalloc(dt->n + 1, sizeof(*rows));
	unsigned dirs = dirmask(q->dir);
	size_t i, k = 0;
	int j;

	for (i = 0; i < dt->n; i++) {
		const struct rl_dom *d = &dt->d[i];
		struct drow *r;

		if (!(dirs & VIEW_DIR(d->dir)))
			continue;
		if (q->q[0] != '\0' && strstr(d->name, q->q) == NULL)
			continue;
		if (k > 0 && strcmp(rows[k - 1].d.name, d->name) == 0) {
			r = &rows[k - 1];
			for (j = 0; j < RL_TLS_N; j++) {
				r->d.s[j] += d->s[j];
				r->d.m[j] += d->m[j];
			}
			r->d.verified += d->verified;
			r->d.ndomains += d->ndomains;
			if (d->last_plain > r->d.last_plain)
				r->d.last_plain = d->last_plain;
			r->d.dir = RL_DIR_N; /* several */
			continue;
		}
		rows[k++].d = *d;
	}
	for (i = 0; i < k; i++) {
		rows[i].enc = rollup_share(rows[i].d.s, rows[i].d.s[RL_TLS]);
		rows[i].ver = rollup_share(rows[i].d.s, rows[i].d.verified);
	}
	*n = k;
	return rows;
}

/* The TLS versions of one domain, from the version table. */
static json_t *
dom_versions(const struct rl_vertab *vt, const char *name, unsigned dirs)
{
	struct rl_vertab one;
	size_t lo = 0, hi = vt->n, mid;

	while (lo < hi) { /* first row of `name' */
		mid = (lo + hi) / 2;
		if (strcmp(vt->v[mid].domain, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (hi = lo; hi < vt->n && strcmp(vt->v[hi].domain, name) == 0; hi++)
		;
	one.n = hi - lo;
	one.v = vt->v + lo;
	one.arena = NULL;
	return versions_json(&one, dirs);
}

static void
last_plain_str(const struct rl_domtab *dt, int64_t t, char out[24])
{
	if (t < 0)
		out[0] = '\0';
	else if (dt->hourly)
		rollup_time_str(t, out);
	else
		query_date_str((int32_t)(t / 86400), out);
}

static json_t *
drow_json(
    const struct rl_domtab *dt, const struct drow *r, bool mx, json_t *versions)
{
	char lp[24];
	json_t *o;

	last_plain_str(dt, r->d.last_plain, lp);
	/* clang-format off */
	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o,"
	    " s:o, s:o, s:o, s:o}",
	    mx ? "host" : "domain", r->d.name,
	    "direction", r->d.dir < RL_NODIR ? rollup_dir_name(r->d.dir) :
		"all",
	    "sessions", (json_int_t)dsum(&r->d),
	    "messages", (json_int_t)msum(&r->d),
	    "tls", (json_int_t)r->d.s[RL_TLS],
	    "plaintext", (json_int_t)r->d.s[RL_PLAIN],
	    "failed", (json_int_t)r->d.s[RL_FAILED],
	    "unknown", (json_int_t)r->d.s[RL_UNKNOWN],
	    "verified", (json_int_t)r->d.verified,
	    "encrypted_share", view_share(r->enc),
	    "verified_share", view_share(r->ver),
	    "messages_encrypted_share",
		view_share(rollup_share(r->d.m, r->d.m[RL_TLS])),
	    "last_plaintext", lp[0] ? json_string(lp) : json_null(),
	    "tls_versions", versions);
	/* clang-format on */
	if (mx)
		(void)json_object_set_new(
		    o, "domains", json_integer((json_int_t)r->d.ndomains));
	return o;
}

/* One CSV field: quoted when needed; a leading =+-@ is defused. */
static int
csv_field(struct buf *b, const char *s, bool last)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL ||
		     (s[0] != '\0' && strchr("=+-@\t", s[0]) != NULL);

	if (quote && buf_addc(b, '"') == -1)
		return -1;
	if (s[0] != '\0' && strchr("=+-@\t", s[0]) != NULL &&
	    buf_addc(b, '\'') == -1)
		return -1;
	for (; *s != '\0'; s++)
		if ((*s == '"' && buf_addc(b, '"') == -1) ||
		    buf_addc(b, *s) == -1)
			return -1;
	if (quote && buf_addc(b, '"') == -1)
		return -1;
	return buf_addc(b, last ? '\n' : ',');
}

static int
csv_row(struct buf *b, const struct rl_domtab *dt, const struct drow *r,
    json_t *versions)
{
	char lp[24], vs[256], n[24], es[24], vr[24];
	size_t i, off = 0;
	json_t *v;

	last_plain_str(dt, r->d.last_plain, lp);
	vs[0] = '\0';
	json_array_foreach(versions, i, v)
	{
		int k = snprintf(vs + off, sizeof(vs) - off, "%s%s:%lld",
		    off ? " " : "",
		    json_string_value(json_object_get(v, "version")),
		    (long long)json_integer_value(
			json_object_get(v, "sessions")));

		if (k < 0 || (size_t)k >= sizeof(vs) - off)
			break;
		off += (size_t)k;
	}
	(void)snprintf(es, sizeof(es), "%.4f", r->enc);
	(void)snprintf(vr, sizeof(vr), "%.4f", r->ver);
	if (csv_field(b, r->d.name, false) == -1 ||
	    csv_field(b,
		r->d.dir < RL_NODIR ? rollup_dir_name(r->d.dir) : "all",
		false) == -1)
		return -1;
	(void)snprintf(n, sizeof(n), "%lld", (long long)dsum(&r->d));
	if (csv_field(b, n, false) == -1)
		return -1;
	(void)snprintf(n, sizeof(n), "%lld", (long long)msum(&r->d));
	if (csv_field(b, n, false) == -1)
		return -1;
	for (i = 0; i < RL_TLS_N; i++) {
		(void)snprintf(n, sizeof(n), "%lld", (long long)r->d.s[i]);
		if (csv_field(b, n, false) == -1)
			return -1;
	}
	(void)snprintf(n, sizeof(n), "%lld", (long long)r->d.verified);
	return csv_field(b, n, false) == -1 ||
		       csv_field(b, r->enc < 0 ? "" : es, false) == -1 ||
		       csv_field(b, r->ver < 0 ? "" : vr, false) == -1 ||
		       csv_field(b, lp, false) == -1 ||
		       csv_field(b, vs, true) == -1
		   ? -1
		   : 0;
}

/*
 * Sorted views of a domain table: merging ten thousand rows over the
 * directions and sorting them costs a millisecond or two, so the result
 * is kept per (table value, direction, search, sort, order) and shared by
 * the requests that page through it.  A view holds a reference on the
 * table value it was built from (its names point into it), so a refreshed
 * table simply makes new views.
 */
#define API_VIEWS_MAX 16
#define API_VIEW_PAGES 4

struct dview {
	unsigned refs;
	struct cache_val *src;
	enum query_dir dir;
	enum query_sort sort;
	bool desc;
	char q[QUERY_SEARCH_MAX + 1];
	struct drow *rows;
	size_t n;
	uint64_t used;
	/* The last JSON pages made from it (the versions value they used). */
	struct dpage {
		uint32_t offset, limit;
		struct cache_val *ver;
		char *body;
		size_t len;
	} page[API_VIEW_PAGES];
	unsigned next_page;
};

/*
 * Finished replies (summary, series) by request key, valid while the
 * cached values they were made from are the current ones: the memo holds
 * a reference on each, so a pointer comparison tells.
 */
#define API_MEMO_MAX 32
#define API_MEMO_DEPS 3

struct memo {
	char key[API_MEMO_KEY_MAX];
	struct cache_val *dep[API_MEMO_DEPS];
	char *body;
	size_t len;
	uint64_t used;
};

struct api_views {
	pthread_mutex_t mu;
	struct dview *v[API_VIEWS_MAX];
	struct memo memo[API_MEMO_MAX];
	uint64_t clock;
};

/* A copy of the reply made for `key' from exactly `dep', or NULL. */
static char *
memo_get(
    struct web *w, const char *key, struct cache_val *const *dep, size_t *len)
{
	struct api_views *av = w->views;
	char *body = NULL;
	size_t i;

	pthread_mutex_lock(&av->mu);
	for (i = 0; i < API_MEMO_MAX; i++) {
		struct memo *m = &av->memo[i];

		if (m->body != NULL && strcmp(m->key, key) == 0 &&
		    memcmp(m->dep, dep, sizeof(m->dep)) == 0) {
			body = xmalloc(m->len + 1);
			memcpy(body, m->body, m->len + 1);
			*len = m->len;
			m->used = ++av->clock;
			break;
		}
	}
	pthread_mutex_unlock(&av->mu);
	return body;
}

static void
memo_drop_locked(struct web *w, struct memo *m)
{
	size_t k;

	free(m->body);
	for (k = 0; k < API_MEMO_DEPS; k++)
		cache_release(w->cache, m->dep[k]);
	memset(m, 0, sizeof(*m));
}

static void
memo_put(struct web *w, const char *key, struct cache_val *const *dep,
    const char *body, size_t len)
{
	struct api_views *av = w->views;
	struct memo *m = NULL;
	size_t i, k;

	pthread_mutex_lock(&av->mu);
	for (i = 0; i < API_MEMO_MAX; i++) {
		struct memo *x = &av->memo[i];

		if (x->body != NULL && strcmp(x->key, key) == 0) {
			m = x; /* made from older values: replace */
			break;
		}
		if (m == NULL || x->body == NULL ||
		    (m->body != NULL && x->used < m->used))
			m = x;
	}
	memo_drop_locked(w, m);
	(void)snprintf(m->key, sizeof(m->key), "%s", key);
	for (k = 0; k < API_MEMO_DEPS; k++) {
		m->dep[k] = dep[k];
		if (dep[k] != NULL)
			cache_keep(w->cache, dep[k]);
	}
	m->body = xmalloc(len + 1);
	memcpy(m->body, body, len + 1);
	m->len = len;
	m->used = ++av->clock;
	pthread_mutex_unlock(&av->mu);
}

static void
dview_unref_locked(struct web *w, struct dview *v)
{
	size_t i;

	if (v == NULL || --v->refs > 0)
		return;
	for (i = 0; i < API_VIEW_PAGES; i++) {
		free(v->page[i].body);
		cache_release(w->cache, v->page[i].ver);
	}
	free(v->rows);
	cache_release(w->cache, v->src);
	free(v);
}

/* The sorted rows for `q' over the table value `src' (a new reference). */
static struct dview *
dview_get(struct web *w, struct cache_val *src, struct query *q)
{
	struct api_views *av = w->views;
	struct dview *v = NULL, *old;
	size_t i, victim = 0;

	pthread_mutex_lock(&av->mu);
	for (i = 0; i < API_VIEWS_MAX; i++) {
		struct dview *x = av->v[i];

		if (x != NULL && x->src == src && x->dir == q->dir &&
		    x->sort == q->sort && x->desc == q->desc &&
		    strcmp(x->q, q->q) == 0) {
			x->refs++;
			x->used = ++av->clock;
			pthread_mutex_unlock(&av->mu);
			return x;
		}
	}
	pthread_mutex_unlock(&av->mu);

	v = xcalloc(1, sizeof(*v));
	v->refs = 2; /* the caller's and the memo's */
	v->src = src;
	v->dir = q->dir;
	v->sort = q->sort;
	v->desc = q->desc;
	(void)snprintf(v->q, sizeof(v->q), "%s", q->q);
	v->rows = drows(rollup_domtab(cache_data(src)), q, &v->n);
	qsort_r(v->rows, v->n, sizeof(*v->rows), drow_cmp, q);

	pthread_mutex_lock(&av->mu);
	cache_keep(w->cache, src); /* the view's own reference */
	for (i = 0; i < API_VIEWS_MAX; i++) {
		if (av->v[i] == NULL) {
			victim = i;
			break;
		}
		if (av->v[i]->used < av->v[victim]->used)
			victim = i;
	}
	old = av->v[victim];
	av->v[victim] = v;
	v->used = ++av->clock;
	dview_unref_locked(w, old);
	pthread_mutex_unlock(&av->mu);
	return v;
}

/* A copy of a page made before from `v', or NULL. */
static char *
dview_page(struct web *w, struct dview *v, const struct query *q,
    struct cache_val *ver, size_t *len)
{
	char *body = NULL;
	size_t i;

	pthread_mutex_lock(&w->views->mu);
	for (i = 0; i < API_VIEW_PAGES; i++) {
		const struct dpage *p = &v->page[i];

		if (p->body != NULL && p->ver == ver &&
		    p->offset == q->offset && p->limit == q->limit) {
			body = xmalloc(p->len + 1);
			memcpy(body, p->body, p->len + 1);
			*len = p->len;
			break;
		}
	}
	pthread_mutex_unlock(&w->views->mu);
	return body;
}

static void
dview_keep_page(struct web *w, struct dview *v, const struct query *q,
    struct cache_val *ver, const char *body, size_t len)
{
	struct dpage *p;

	pthread_mutex_lock(&w->views->mu);
	p = &v->page[v->next_page++ % API_VIEW_PAGES];
	free(p->body);
	cache_release(w->cache, p->ver);
	cache_keep(w->cache, ver);
	p->ver = ver;
	p->offset = q->offset;
	p->limit = q->limit;
	p->body = xmalloc(len + 1);
	memcpy(p->body, body, len + 1);
	p->len = len;
	pthread_mutex_unlock(&w->views->mu);
}

static void
dview_release(struct web *w, struct dview *v)
{
	struct api_views *av = w->views;

	if (v == NULL)
		return;
	pthread_mutex_lock(&av->mu);
	dview_unref_locked(w, v);
	pthread_mutex_unlock(&av->mu);
}

void
api_init(struct web *w)
{
	struct api_views *av = xcalloc(1, sizeof(*av));

	if (pthread_mutex_init(&av->mu, NULL) != 0)
		fatalx("api: mutex init failed");
	w->views = av;
}

void
api_fini(struct web *w)
{
	struct api_views *av = w->views;
	size_t i;

	if (av == NULL)
		return;
	for (i = 0; i < API_VIEWS_MAX; i++)
		dview_unref_locked(w, av->v[i]);
	for (i = 0; i < API_MEMO_MAX; i++)
		memo_drop_locked(w, &av->memo[i]);
	pthread_mutex_destroy(&av->mu);
	free(av);
	w->views = NULL;
}

static void
domains(struct web *w, struct query *q, struct web_reply *r)
{
	struct cache_val *dv = NULL, *vv = NULL;
	const struct rl_domtab *dt;
	const struct rl_vertab *vt;
	char kd[CACHE_KEY_MAX], kv[CACHE_KEY_MAX];
	bool mx = false;
	const struct drow *rows = NULL;
	struct dview *view = NULL;
	struct win win;
	struct buf b;
	size_t n = 0, i, end;
	json_t *o, *a;

	if (query_check(q, QP_TIME | QP_DIRECTION | QP_SORT | QP_ORDER | QP_Q |
			       QP_PAGE | QP_FORMAT | QP_GROUP) == -1) {
		web_reply_error(r, 400, q->err);
		return;
	}
	window(q, &win);
	mx = q->group == QUERY_GROUP_MX;
	if (mx)
		(void)snprintf(kd, sizeof(kd), "M:%lld:%lld", (long long)win.s0,
		    (long long)win.s1);
	else if (win.hourly)
		(void)snprintf(kd, sizeof(kd), "Dh:%lld:%lld",
		    (long long)win.s0, (long long)win.s1);
	else
		(void)snprintf(
		    kd, sizeof(kd), "D:%ld:%ld", (long)win.from, (long)win.to);
	(void)snprintf(kv, sizeof(kv), "V:%lld:%lld", (long long)win.s0,
	    (long long)win.s1);
	if ((dv = get(w, r, kd)) == NULL || (vv = get(w, r, kv)) == NULL)
		goto out;
	dt = rollup_domtab(cache_data(dv));
	vt = rollup_vertab(cache_data(vv));
	view = dview_get(w, dv, q);
	rows = view->rows;
	n = view->n;
	if (q->format == QUERY_FMT_CSV && !(q->present & QP_LIMIT))
		q->limit = QUERY_LIMIT_MAX;
	i = q->offset < n ? q->offset : n;
	end = n - i > q->limit ? i + q->limit : n;
	if (q->format == QUERY_FMT_CSV) {
		buf_init(&b, API_CSV_MAX);
		if (buf_addstr(&b, mx ? "host" : "domain") == -1 ||
		    buf_addstr(&b, ",direction,sessions,messages,tls,"
				   "plaintext,failed,unknown,verified,"
				   "encrypted_share,verified_share,"
				   "last_plaintext,tls_versions\n") == -1)
			goto toobig;
		for (; i < end; i++) {
			json_t *vj = mx ? json_array()
					: dom_versions(vt, rows[i].d.name,
					      dirmask(q->dir));
			int rc = csv_row(&b, dt, &rows[i], vj);

			json_decref(vj);
			if (rc == -1)
				goto toobig;
		}
		r->status = 200;
		r->ctype = "text/csv; charset=utf-8";
		r->len = b.len;
		r->body = buf_steal(&b);
		(void)snprintf(r->filename, sizeof(r->filename),
		    "tlsflow-%s-%s.csv", mx ? "mx" : "domains",
		    query_range_name(win.name));
		goto out;
	toobig:
		buf_free(&b);
		web_reply_error(r, 413,
		    "the export is too large; narrow it "
		    "with q, direction or limit");
		goto out;
	}
	if (q->format == QUERY_FMT_JSON && (q->present & QP_FORMAT))
		(void)snprintf(r->filename, sizeof(r->filename),
		    "tlsflow-%s-%s.json", mx ? "mx" : "domains",
		    query_range_name(win.name));
	if ((r->body = dview_page(w, view, q, vv, &r->len)) != NULL) {
		r->status = 200;
		r->ctype = "application/json";
		goto out;
	}
	a = json_array();
	for (; i < end; i++)
		(void)json_array_append_new(
		    a, drow_json(dt, &rows[i], mx,
			   mx ? json_array()
			      : dom_versions(
				    vt, rows[i].d.name, dirmask(q->dir))));
	/* clang-format off */
	o = json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o}",
	    "range", range_json(&win),
	    "group", mx ? "mx" : "domain",
	    "direction", q->dir == QUERY_DIR_ALL ? "all" :
		query_dir_name(q->dir),
	    "sort", query_sort_name(q->sort),
	    "order", q->desc ? "desc" : "asc",
	    "q", q->q,
	    "total", (json_int_t)n,
	    "offset", (json_int_t)q->offset,
	    "limit", (json_int_t)q->limit,
	    "rows", a);
	/* clang-format on */
	web_reply_json(r, 200, o);
	if (r->status == 200)
		dview_keep_page(w, view, q, vv, r->body, r->len);
out:
	dview_release(w, view);
	cache_release(w->cache, dv);
	cache_release(w->cache, vv);
}

static void
domain_detail(
    struct web *w, const char *name, struct query *q, struct web_reply *r)
{
	char dom[QUERY_SEARCH_MAX + 1], key[CACHE_KEY_MAX];
	struct cache_val *v;
	const char *json;
	struct win win;

	if (query_check(q, QP_TIME) == -1) {
		web_reply_error(r, 400, q->err);
		return;
	}
	if (strcmp(name, "-") == 0) {
		dom[0] = '\0'; /* sessions without a domain */
	} else if (query_domain(name, dom) == -1) {
		web_reply_error(r, 400,
		    "domain: not a domain name (letters, "
		    "digits, '.', '-', '_'; at most 253)");
		return;
	}
	window(q, &win);
	(void)snprintf(key, sizeof(key), "X:%s:%ld:%ld", dom, (long)win.from,
	    (long)win.to);
	if ((v = get(w, r, key)) == NULL)
		return;
	json = rollup_json(cache_data(v));
	if (!rollup_found(cache_data(v))) {
		web_reply_error(r, 404,
		    "nothing is known about this domain "
		    "in this time range");
	} else {
		r->status = 200;
		r->ctype = "application/json";
		r->body = xstrdup(json);
		r->len = strlen(json);
	}
	cache_release(w->cache, v);
}

static void
reports(struct web *w, struct query *q, struct web_reply *r)
{
	char f[11], t[11], lim[16], off[16];
	const char *state;
	const char *p[6];
	PGresult *res = NULL, *cnt = NULL, *st = NULL;
	struct win win;
	PGconn *db;
	json_t *o, *states;
	bool ok;
	int i;

	if (query_check(q, QP_TIME | QP_Q | QP_STATE | QP_PAGE) == -1) {
		web_reply_error(r, 400, q->err);
		return;
	}
	window(q, &win);
	query_date_str(win.from, f);
	query_date_str(win.to, t);
	state = query_state_name(q->state);
	(void)snprintf(lim, sizeof(lim), "%u", q->limit);
	(void)snprintf(off, sizeof(off), "%u", q->offset);
	p[0] = f;
	p[1] = t;
	p[2] = q->q;
	p[3] = state ? state : "";
	p[4] = lim;
	p[5] = off;
	if ((db = pool_get(w->pool)) == NULL) {
		web_reply_error(r, 503, "the database cannot be reached");
		return;
	}
#define REPORTS_WHERE                                                          \
	" WHERE r.day BETWEEN $1::date AND $2::date"                           \
	" AND ($3 = '' OR strpos(r.policy_domain, $3) > 0)"                    \
	" AND ($4 = '' OR EXISTS (SELECT 1 FROM report_deliveries x"           \
	" WHERE x.report_id = r.report_id AND x.state = $4))"
	ok = db_exec(db, "reports", &res, PGRES_TUPLES_OK,
		 "WITH r AS (SELECT * FROM reports r" REPORTS_WHERE
		 " ORDER BY r.day DESC, r.policy_domain, r.report_id LIMIT"
		 " $5::integer OFFSET $6::integer) SELECT r.report_id,"
		 " r.day::text, r.policy_domain, r.policy_type, r.filename,"
		 " tlsflow_ts(r.generated), r.successful, r.failed,"
		 " r.unknown, d.destination, d.state, d.attempts,"
		 " tlsflow_ts(d.first_attempt), tlsflow_ts(d.last_attempt),"
		 " tlsflow_ts(d.next_attempt), d.last_error,"
		 " tlsflow_ts(d.delivered) FROM r LEFT JOIN"
		 " report_deliveries d ON d.report_id = r.report_id ORDER BY"
		 " r.day DESC, r.policy_domain, r.report_id, d.destination",
		 6, p) &&
	     db_exec(db, "reports: count", &cnt, PGRES_TUPLES_OK,
		 "SELECT count(*) FROM reports r" REPORTS_WHERE, 4, p) &&
	     db_exec(db, "reports: states", &st, PGRES_TUPLES_OK,
		 "SELECT d.state, count(*) FROM report_deliveries d JOIN"
		 " reports r ON r.report_id = d.report_id" REPORTS_WHERE
		 " GROUP BY 1 ORDER BY 1",
		 4, p);
#undef REPORTS_WHERE
	if (!ok) {
		web_reply_error(r, 503, "the database query failed");
		goto out;
	}
	states = json_object();
	for (i = 0; i < PQntuples(st); i++)
		(void)json_object_set_new(
		    states, PQgetvalue(st, i, 0), view_int(st, i, 1));
	/* clang-format off */
	o = json_pack("{s:o, s:s, s:s*, s:o, s:I, s:I, s:o, s:o}",
	    "range", range_json(&win),
	    "q", q->q,
	    "state", state,
	    "total", view_int(cnt, 0, 0),
	    "offset", (json_int_t)q->offset,
	    "limit", (json_int_t)q->limit,
	    "deliveries", states,
	    "rows", view_reports(res));
	/* clang-format on */
	web_reply_json(r, 200, o);
out:
	PQclear(res);
	PQclear(cnt);
	PQclear(st);
	pool_put(w->pool, db, !ok);
}

/* ---- health ---------------------------------------------------------- */

static json_t *
collectors_json(struct web *w, PGresult *res)
{
	json_t *a = json_array(), *c, *cnt;
	struct stat sb;
	int64_t off, ino, age, behind;
	int i, k;
	static const char *const names[] = {"lines", "events", "other",
	    "unused", "malformed", "truncated", "badtime", "evicted",
	    "expired"};

	(void)w;
	for (i = 0; i < PQntuples(res); i++) {
		const char *kind = PQgetvalue(res, i, 0);
		const char *name = PQgetvalue(res, i, 2);
		bool stalled = false;

		off = scan_i64_str(PQgetvalue(res, i, 4), &off) == 0 ? off : 0;
		age = scan_i64_str(PQgetvalue(res, i, 6), &age) == 0 ? age : 0;
		/* clang-format off */
		c = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:I}",
		    "kind", view_text(res, i, 0),
		    "host", view_text(res, i, 1),
		    "name", view_text(res, i, 2),
		    "inode", view_int(res, i, 3),
		    "offset", view_int(res, i, 4),
		    "updated", view_text(res, i, 5),
		    "seconds_since_update", (json_int_t)age);
		/* clang-format on */
		/* A log file on this machine: how far behind its end. */
		if (strcmp(kind, "file") == 0 && name[0] == '/' &&
		    stat(name, &sb) == 0) {
			ino = scan_i64_str(PQgetvalue(res, i, 3), &ino) == 0
				  ? ino
				  : -1;
			(void)json_object_set_new(c, "file_size",
			    json_integer((json_int_t)sb.st_size));
			/* Rotated away (another inode) or truncated below
			 * the checkpoint: the whole file is still to read. */
			behind = (int64_t)sb.st_ino == ino && sb.st_size >= off
				     ? sb.st_size - off
				     : (int64_t)sb.st_size;
			(void)json_object_set_new(c, "behind_bytes",
			    json_integer((json_int_t)behind));
			stalled = behind > 0 && age > 300;
		}
		(void)json_object_set_new(c, "stalled", json_boolean(stalled));
		if (PQgetisnull(res, i, 7)) {
			(void)json_object_set_new(c, "counters", json_null());
		} else {
			cnt = json_object();
			(void)json_object_set_new(
			    cnt, "started", view_text(res, i, 7));
			(void)json_object_set_new(
			    cnt, "updated", view_text(res, i, 8));
			(void)json_object_set_new(
			    cnt, "last_event", view_text(res, i, 9));
			for (k = 0; k < 9; k++)
				(void)json_object_set_new(
				    cnt, names[k], view_int(res, i, 10 + k));
			(void)json_object_set_new(c, "counters", cnt);
		}
		(void)json_array_append_new(a, c);
	}
	return a;
}

static json_t *
server_json(struct web *w)
{
	struct cache_stats cs;

	cache_get_stats(w->cache, &cs);
	/* clang-format off */
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I,"
	    " s:I, s:I, s:I, s:I}}",
	    "version", TLSFLOW_VERSION,
	    "uptime_seconds", (json_int_t)(time(NULL) - w->started),
	    "requests", (json_int_t)atomic_load(&w->cnt.requests),
	    "status_2xx", (json_int_t)atomic_load(&w->cnt.status_2xx),
	    "status_4xx", (json_int_t)atomic_load(&w->cnt.status_4xx),
	    "status_5xx", (json_int_t)atomic_load(&w->cnt.status_5xx),
	    "generation", (json_int_t)atomic_load(&w->gen),
	    "cache",
		"entries", (json_int_t)cs.entries,
		"hits", (json_int_t)cs.hits,
		"stale_hits", (json_int_t)cs.stale_hits,
		"misses", (json_int_t)cs.misses,
		"refreshes", (json_int_t)cs.refreshes,
		"failures", (json_int_t)cs.failures);
	/* clang-format on */
}

static void
health(struct web *w, struct query *q, struct web_reply *r)
{
	PGresult *col = NULL, *dbr = NULL;
	struct timespec t0, t1;
	PGconn *db;
	json_t *o, *dbj;
	bool ok;

	if (query_check(q, 0) == -1) {
		web_reply_error(r, 400, q->err);
		return;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((db = pool_get(w->pool)) == NULL) {
		/* clang-format off */
		web_reply_json(r, 503, json_pack("{s:s, s:{s:b}, s:o}",
		    "status", "down", "database", "connected", 0,
		    "server", server_json(w)));
		/* clang-format on */
		return;
	}
	ok = db_exec(db, "health: database", &dbr, PGRES_TUPLES_OK,
		 "SELECT current_setting('server_version'),"
		 " pg_database_size(current_database()), (SELECT count(*)"
		 " FROM pg_inherits WHERE inhparent = 'sessions'::regclass),"
		 " (SELECT reltuples::bigint FROM pg_class WHERE oid ="
		 " 'daily'::regclass),"
		 " current_setting('transaction_read_only'), current_user,"
		 " pg_is_in_recovery(), (SELECT max(version) FROM"
		 " schema_migrations)",
		 0, NULL) &&
	     db_exec(db, "health: collectors", &col, PGRES_TUPLES_OK,
		 "SELECT c.kind, c.host, c.name, c.inode, c.off,"
		 " tlsflow_ts(c.updated), floor(extract(epoch FROM now() -"
		 " c.updated))::bigint, tlsflow_ts(k.started),"
		 " tlsflow_ts(k.updated), tlsflow_ts(k.last_event), k.lines,"
		 " k.events, k.other, k.unused, k.malformed, k.truncated,"
		 " k.badtime, k.evicted, k.expired FROM checkpoints c LEFT"
		 " JOIN collector_counters k ON k.kind = c.kind AND k.host ="
		 " c.host AND k.name = c.name ORDER BY c.host, c.kind,"
		 " c.name LIMIT 1000",
		 0, NULL);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!ok) {
		web_reply_error(r, 503, "the database query failed");
		goto out;
	}
	/* clang-format off */
	dbj = json_pack("{s:b, s:o, s:o, s:o, s:o, s:b, s:o, s:b, s:o,"
	    " s:f}",
	    "connected", 1,
	    "version", view_text(dbr, 0, 0),
	    "size_bytes", view_int(dbr, 0, 1),
	    "session_partitions", view_int(dbr, 0, 2),
	    "daily_rows_estimate", view_int(dbr, 0, 3),
	    "read_only", strcmp(PQgetvalue(dbr, 0, 4), "on") == 0,
	    "user", view_text(dbr, 0, 5),
	    "standby", strcmp(PQgetvalue(dbr, 0, 6), "t") == 0,
	    "schema_version", view_text(dbr, 0, 7),
	    "latency_ms", (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	o = json_pack("{s:s, s:s, s:o, s:o, s:o}",
	    "status", "ok",
	    "banner", w->banner,
	    "database", dbj,
	    "collectors", collectors_json(w, col),
	    "server", server_json(w));
	/* clang-format on */
	web_reply_json(r, 200, o);
out:
	PQclear(col);
	PQclear(dbr);
	pool_put(w->pool, db, !ok);
}

void
api_handle(
    struct web *w, const char *path, struct query *q, struct web_reply *r)
{
	if (strcmp(path, "summary") == 0)
		summary(w, q, r);
	else if (strcmp(path, "series") == 0)
		series(w, q, r);
	else if (strcmp(path, "domains") == 0)
		domains(w, q, r);
	else if (strncmp(path, "domains/", 8) == 0)
		domain_detail(w, path + 8, q, r);
	else if (strcmp(path, "reports") == 0)
		reports(w, q, r);
	else if (strcmp(path, "health") == 0)
		health(w, q, r);
	else
		web_reply_error(r, 404, "no such API endpoint");
}

/* ---- the data generation --------------------------------------------- */

static double
mono(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The change token: the write counters of `daily' and of the session
 * partitions (pg_stat).  Each writer flushes them within about a second
 * while busy and at the latest ten seconds after it goes idle, so new data
 * shows within seconds.  Checkpoints are left out on purpose: a collector
 * following a quiet log stores one every second without new sessions.
 */
static void
check_token(struct web *w)
{
	PGresult *res = NULL;
	PGconn *db;

	if ((db = pool_get(w->pool)) == NULL)
		return;
	if (db_exec(db, "change token", &res, PGRES_TUPLES_OK,
		"SELECT coalesce((SELECT n_tup_ins + n_tup_upd + n_tup_del"
		" FROM pg_stat_user_tables WHERE relid ="
		" 'daily'::regclass), 0) || '/' || coalesce((SELECT"
		" sum(n_tup_ins + n_tup_del) FROM pg_stat_user_tables WHERE"
		" relname ~ '^sessions_[0-9]{8}$'), 0)",
		0, NULL) &&
	    PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), w->token) != 0) {
		(void)snprintf(
		    w->token, sizeof(w->token), "%s", PQgetvalue(res, 0, 0));
		atomic_fetch_add(&w->gen, 1);
	}
	PQclear(res);
	pool_put(w->pool, db, false);
}

void
api_tick(struct web *w, double budget_s)
{
	double now = mono();

	if (now >= w->next_token_check) {
		check_token(w);
		w->next_token_check = now + 1.0;
	}
	(void)cache_refresh(w->cache, atomic_load(&w->gen), budget_s);
}

void
api_warm(struct web *w)
{
	char key[CACHE_KEY_MAX];
	struct cache_val *v;
	struct query q;
	struct win win;

	query_init(&q);
	window(&q, &win);
	(void)snprintf(
	    key, sizeof(key), "d:%ld:%ld", (long)win.from, (long)win.to);
	cache_release(w->cache, cache_get(w->cache, key, atomic_load(&w->gen)));
	(void)snprintf(
	    key, sizeof(key), "D:%ld:%ld", (long)win.from, (long)win.to);
	cache_release(w->cache, cache_get(w->cache, key, atomic_load(&w->gen)));
	(void)snprintf(key, sizeof(key), "V:%lld:%lld", (long long)win.s0,
	    (long long)win.s1);
	v = cache_get(w->cache, key, atomic_load(&w->gen));
	cache_release(w->cache, v);
	cache_release(w->cache, cache_get(w->cache, "S", atomic_load(&w->gen)));
}
