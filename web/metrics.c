/*
 * metrics.c - the Prometheus exposition (see metrics.h)
 *
 * Inputs: database rows only; label values (host names, file paths) are
 * escaped as the text format requires (backslash, double quote, newline).
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 * Threading: runs on any HTTP thread; uses the shared cache and pool.
 */
#include "web/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "core/db.h"
#include "web/rollup.h"

#ifndef TLSFLOW_VERSION
#define TLSFLOW_VERSION "unknown"
#endif

#define METRICS_MAX (8u << 20)

/* A label value, escaped. */
static int
label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if ((*s == '\\' || *s == '"') && buf_addc(b, '\\') == -1)
			return -1;
		if (*s == '\n') {
			if (buf_addstr(b, "\\n") == -1)
				return -1;
		} else if (buf_addc(b, *s) == -1) {
			return -1;
		}
	}
	return 0;
}

static int
head(struct buf *b, const char *name, const char *type, const char *help)
{
	return buf_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int
sessions(struct buf *b, const struct rl_cells *c, bool msgs)
{
	const char *name =
	    msgs ? "tlsflow_messages_total" : "tlsflow_sessions_total";
	size_t i;

	if (head(b, name, "counter",
		msgs ? "Messages in sessions by direction, TLS state and "
		       "peer trust (all time, from the daily rollup)."
		     : "SMTP sessions by direction, TLS state and peer "
		       "trust (all time, from the daily rollup).") == -1)
		return -1;
	for (i = 0; i < c->n; i++) {
		const struct rl_cell *x = &c->c[i];
		const char *tr = rollup_trust_name(x->trust);

		if (buf_printf(b,
			"%s{direction=\"%s\",tls=\"%s\",trust=\"%s\"}"
			" %lld\n",
			name,
			x->dir < RL_NODIR ? rollup_dir_name(x->dir) : "none",
			rollup_tls_name(x->tls), tr[0] ? tr : "none",
			(long long)(msgs ? x->messages : x->sessions)) == -1)
			return -1;
	}
	return 0;
}

/* Rows: kind, host, name, off, updated (epoch), then counters or NULL. */
static int
collectors(struct buf *b, const PGresult *res)
{
	static const struct {
		const char *metric, *help;
		int col;
	} m[] = {
	    {"tlsflow_collector_offset_bytes",
		"Checkpointed byte offset "
		"(or packet number).",
		3},
	    {"tlsflow_collector_checkpoint_timestamp_seconds",
		"When the collector last stored a checkpoint.", 4},
	    {"tlsflow_collector_lines_total",
		"Lines or packets read since "
		"the collector started.",
		5},
	    {"tlsflow_collector_events_total", "Session events emitted.", 6},
	    {"tlsflow_collector_skipped_total",
		"Other programs' lines, "
		"skipped.",
		7},
	    {"tlsflow_collector_malformed_total",
		"MTA lines that did not "
		"parse.",
		8},
	    {"tlsflow_collector_truncated_total", "Lines cut at 8 KiB.", 9},
	    {"tlsflow_collector_evicted_total",
		"Open sessions dropped by "
		"the memory cap.",
		10},
	};
	size_t k;
	int i;

	for (k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		if (head(b, m[k].metric, k == 0 || k == 1 ? "gauge" : "counter",
			m[k].help) == -1)
			return -1;
		for (i = 0; i < PQntuples(res); i++) {
			if (PQgetisnull(res, i, m[k].col))
				continue;
			if (buf_printf(b, "%s{kind=\"", m[k].metric) == -1 ||
			    label(b, PQgetvalue(res, i, 0)) == -1 ||
			    buf_addstr(b, "\",host=\"") == -1 ||
			    label(b, PQgetvalue(res, i, 1)) == -1 ||
			    buf_addstr(b, "\",name=\"") == -1 ||
			    label(b, PQgetvalue(res, i, 2)) == -1 ||
			    buf_printf(b, "\"} %s\n",
				PQgetvalue(res, i, m[k].col)) == -1)
				return -1;
		}
	}
	return 0;
}

static int
server(struct buf *b, struct web *w, bool up)
{
	struct cache_stats cs;

	cache_get_stats(w->cache, &cs);
	if (head(b, "tlsflow_build_info", "gauge", "Version of tlsflow.") ==
		-1 ||
	    buf_printf(b, "tlsflow_build_info{version=\"%s\"} 1\n",
		TLSFLOW_VERSION) == -1 ||
	    head(b, "tlsflow_database_up", "gauge",
		"Whether the database answered this scrape.") == -1 ||
	    buf_printf(b, "tlsflow_database_up %d\n", up ? 1 : 0) == -1 ||
	    head(b, "tlsflow_http_requests_total", "counter",
		"HTTP requests answered by tlsflow serve, by status "
		"class.") == -1 ||
	    buf_printf(b,
		"tlsflow_http_requests_total{code=\"2xx\"} %llu\n"
		"tlsflow_http_requests_total{code=\"3xx\"} %llu\n"
		"tlsflow_http_requests_total{code=\"4xx\"} %llu\n"
		"tlsflow_http_requests_total{code=\"5xx\"} %llu\n",
		(unsigned long long)atomic_load(&w->cnt.status_2xx),
		(unsigned long long)atomic_load(&w->cnt.status_3xx),
		(unsigned long long)atomic_load(&w->cnt.status_4xx),
		(unsigned long long)atomic_load(&w->cnt.status_5xx)) == -1 ||
	    head(b, "tlsflow_http_auth_failures_total", "counter",
		"Requests refused for missing or wrong credentials.") == -1 ||
	    buf_printf(b, "tlsflow_http_auth_failures_total %llu\n",
		(unsigned long long)atomic_load(&w->cnt.auth_failures)) == -1 ||
	    head(b, "tlsflow_cache_lookups_total", "counter",
		"Dashboard cache lookups by outcome.") == -1 ||
	    buf_printf(b,
		"tlsflow_cache_lookups_total{outcome=\"hit\"} %llu\n"
		"tlsflow_cache_lookups_total{outcome=\"stale\"} %llu\n"
		"tlsflow_cache_lookups_total{outcome=\"miss\"} %llu\n",
		(unsigned long long)cs.hits, (unsigned long long)cs.stale_hits,
		(unsigned long long)cs.misses) == -1)
		return -1;
	return 0;
}

void
metrics_render(struct web *w, struct web_reply *r)
{
	struct cache_val *all;
	PGresult *col = NULL, *del = NULL;
	PGconn *db = NULL;
	struct buf b;
	bool ok = false;
	int i;

	buf_init(&b, METRICS_MAX);
	all = cache_get(w->cache, "A", atomic_load(&w->gen));
	if (all != NULL && (db = pool_get(w->pool)) != NULL)
		ok = db_exec(db, "metrics: collectors", &col, PGRES_TUPLES_OK,
			 "SELECT c.kind, c.host, c.name, c.off,"
			 " floor(extract(epoch FROM c.updated))::bigint,"
			 " k.lines, k.events, k.other, k.malformed,"
			 " k.truncated, k.evicted"
			 " FROM checkpoints c LEFT JOIN collector_counters k"
			 " ON k.kind = c.kind AND k.host = c.host"
			 " AND k.name = c.name"
			 " ORDER BY c.host, c.kind, c.name LIMIT 1000",
			 0, NULL) &&
		     db_exec(db, "metrics: deliveries", &del, PGRES_TUPLES_OK,
			 "SELECT s.state, (SELECT count(*) FROM"
			 " report_deliveries d WHERE d.state = s.state)"
			 " FROM (VALUES ('pending'), ('sending'), ('sent'),"
			 " ('failed'), ('interrupted'), ('suppressed'))"
			 " AS s(state)",
			 0, NULL);
	if (server(&b, w, ok) == -1)
		goto toobig;
	if (ok) {
		if (sessions(&b, rollup_cells(cache_data(all)), false) == -1 ||
		    sessions(&b, rollup_cells(cache_data(all)), true) == -1 ||
		    collectors(&b, col) == -1 ||
		    head(&b, "tlsflow_report_deliveries", "gauge",
			"TLS-RPT report deliveries by state.") == -1)
			goto toobig;
		for (i = 0; i < PQntuples(del); i++)
			if (buf_printf(&b,
				"tlsflow_report_deliveries{state=\"%s\"} %s\n",
				PQgetvalue(del, i, 0),
				PQgetvalue(del, i, 1)) == -1)
				goto toobig;
	}
	r->status = ok ? 200 : 503;
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	r->len = b.len;
	r->body = buf_steal(&b);
	goto out;
toobig:
	buf_free(&b);
	web_reply_error(r, 500, "metrics: exposition too large");
out:
	PQclear(col);
	PQclear(del);
	pool_put(w->pool, db, db != NULL && !ok);
	cache_release(w->cache, all);
}
