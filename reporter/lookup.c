/*
 * lookup.c - TLSRPT, MTA-STS and TLSA lookups with a per-day cache
 *
 * Untrusted input: DNS answers and MTA-STS policy files; they are parsed
 * by tlsrpt.c and sts.c and only reach the output as JSON strings.
 * RFC 8460 section 3 (TLSRPT record), RFC 8461 sections 3.1-3.3 (policy
 * discovery and fetch), RFC 7672 / RFC 6698 (TLSA at _25._tcp.<mx>).
 * Single-threaded.
 */
#include "reporter/lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "core/config.h"
#include "core/db.h"
#include "reporter/dns.h"
#include "reporter/sts.h"
#include "reporter/tlsrpt.h"

#define LOOKUP_NAME_MAX 300

struct lookup {
	PGconn *db;
	struct dns *dns;
	struct http_opts get, post;
	char day[16];
	bool enabled;
};

struct lookup *
lookup_open(PGconn *db, const char *day)
{
	struct lookup *l = xcalloc(1, sizeof(*l));

	l->db = db;
	(void)snprintf(l->day, sizeof(l->day), "%s", day);
	l->enabled = cf_report_lookups;
	if (l->enabled || (cf_dns_server && cf_dns_server[0] != '\0')) {
		l->dns = dns_open(cf_dns_server, (int)cf_dns_timeout, 2);
		if (l->dns == NULL) {
			free(l);
			return NULL;
		}
	}
	l->get.dns = l->dns;
	l->get.ca_file = cf_report_ca_file;
	l->get.timeout_ms = cf_report_timeout * 1000;
	l->get.max_body = STS_POLICY_MAX;
	l->post = l->get;
	l->post.max_body = 0;
	l->post.insecure = cf_report_https_insecure;
	return l;
}

void
lookup_close(struct lookup *l)
{
	if (l == NULL)
		return;
	dns_close(l->dns);
	free(l);
}

const struct http_opts *
lookup_http(const struct lookup *l)
{
	return &l->post;
}

static json_t *
cache_get(struct lookup *l, const char *kind, const char *name)
{
	const char *params[3] = {l->day, kind, name};
	PGresult *res;
	json_t *j = NULL;

	if (l->db == NULL)
		return NULL;
	if (db_exec(l->db, "lookup cache", &res, PGRES_TUPLES_OK,
		"SELECT result::text FROM report_lookups"
		" WHERE day = $1 AND kind = $2 AND name = $3",
		3, params) &&
	    PQntuples(res) == 1)
		j = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	PQclear(res);
	return j;
}

/* Cache `j' (borrowed) unless it records a transient DNS failure. */
static void
cache_put(struct lookup *l, const char *kind, const char *name, json_t *j)
{
	const char *params[4] = {l->day, kind, name, NULL};
	const char *rc;
	char *text;

	if (l->db == NULL)
		return;
	rc = json_string_value(json_object_get(j, "rc"));
	if (rc == NULL)
		rc = json_string_value(json_object_get(j, "txt"));
	if (rc != NULL &&
	    (strcmp(rc, "fail") == 0 || strcmp(rc, "disabled") == 0))
		return;
	if ((text = json_dumps(j, JSON_COMPACT)) == NULL)
		return;
	params[3] = text;
	(void)!db_exec(l->db, "lookup cache", NULL, PGRES_COMMAND_OK,
	    "INSERT INTO report_lookups (day, kind, name, result)"
	    " VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT DO NOTHING",
	    4, params);
	free(text);
}

static json_t *
str_n(const char *p, size_t len)
{
	return json_stringn(p, len);
}

json_t *
lookup_tlsrpt(struct lookup *l, const char *domain)
{
	char name[LOOKUP_NAME_MAX];
	struct span spans[DNS_RRS_MAX];
	struct dns_rrs rrs;
	struct tlsrpt t;
	json_t *j, *rua;
	enum dns_rc drc;
	enum tlsrpt_rc trc;
	size_t i;

	if (!l->enabled)
		return json_pack("{s:s}", "rc", "disabled");
	if ((j = cache_get(l, "tlsrpt", domain)) != NULL)
		return j;
	(void)snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	drc = dns_txt(l->dns, name, &rrs);
	if (drc != DNS_OK) {
		j = json_pack(
		    "{s:s}", "rc", drc == DNS_NODATA ? "none" : "fail");
		goto out;
	}
	for (i = 0; i < rrs.n; i++) {
		spans[i].p = rrs.rr[i];
		spans[i].len = rrs.len[i];
	}
	trc = tlsrpt_select(spans, rrs.n, &t);
	rua = json_array();
	for (i = 0; trc == TLSRPT_OK && i < t.nrua; i++)
		(void)json_array_append_new(
		    rua, str_n(t.rua[i].uri.p, t.rua[i].uri.len));
	/* clang-format off */
	j = json_pack("{s:s, s:o}", "rc", tlsrpt_rc_name(trc), "rua", rua);
	/* clang-format on */
out:
	dns_rrs_free(&rrs);
	if (j == NULL)
		fatalx("report: out of memory");
	cache_put(l, "tlsrpt", domain, j);
	return j;
}

json_t *
lookup_sts(struct lookup *l, const char *domain)
{
	char name[LOOKUP_NAME_MAX], url[LOOKUP_NAME_MAX + 64];
	struct span spans[DNS_RRS_MAX], id;
	struct sts_policy pol;
	struct http_resp resp;
	struct dns_rrs rrs;
	enum dns_rc drc;
	enum sts_rc src;
	json_t *j, *lines, *mx;
	size_t i;

	if (!l->enabled)
		return json_pack("{s:s, s:b}", "txt", "disabled", "usable", 0);
	if ((j = cache_get(l, "sts", domain)) != NULL)
		return j;
	memset(&resp, 0, sizeof(resp));
	(void)snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	drc = dns_txt(l->dns, name, &rrs);
	if (drc != DNS_OK) {
		j = json_pack("{s:s, s:b}", "txt",
		    drc == DNS_NODATA ? "none" : "fail", "usable", 0);
		goto out;
	}
	for (i = 0; i < rrs.n; i++) {
		spans[i].p = rrs.rr[i];
		spans[i].len = rrs.len[i];
	}
	src = sts_select_txt(spans, rrs.n, &id);
	if (src != STS_OK) {
		j = json_pack(
		    "{s:s, s:b}", "txt", sts_rc_name(src), "usable", 0);
		goto out;
	}
	/* RFC 8461 section 3.3: fixed URL, 200 only, no redirects. */
	(void)snprintf(url, sizeof(url),
	    "https://mta-sts.%s/.well-known/mta-sts.txt", domain);
	if (http_get(&l->get, url, &resp) == -1) {
		/* clang-format off */
		j = json_pack("{s:s, s:s#, s:s, s:s, s:b}", "txt", "ok",
		    "id", id.p, (int)id.len, "url", url, "fetch", resp.err,
		    "usable", 0);
		/* clang-format on */
		goto out;
	}
	if (sts_parse_policy(resp.body, resp.len, &pol) != STS_OK) {
		/* clang-format off */
		j = json_pack("{s:s, s:s#, s:s, s:s, s:s, s:b}", "txt", "ok",
		    "id", id.p, (int)id.len, "url", url, "fetch", "ok",
		    "policy", "malformed", "usable", 0);
		/* clang-format on */
		goto out;
	}
	lines = json_array();
	mx = json_array();
	for (i = 0; i < pol.nline; i++)
		(void)json_array_append_new(
		    lines, str_n(pol.line[i].p, pol.line[i].len));
	for (i = 0; i < pol.nmx; i++)
		(void)json_array_append_new(
		    mx, str_n(pol.mx[i].p, pol.mx[i].len));
	/* clang-format off */
	j = json_pack("{s:s, s:s#, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:b}",
	    "txt", "ok", "id", id.p, (int)id.len, "url", url, "fetch", "ok",
	    "policy", "ok", "mode", sts_mode_name(pol.mode),
	    "max_age", (json_int_t)pol.max_age,
	    "policy-string", lines, "mx-host", mx,
	    "usable", pol.mode != STS_MODE_NONE);
	/* clang-format on */
out:
	http_resp_free(&resp);
	dns_rrs_free(&rrs);
	if (j == NULL)
		fatalx("report: out of memory");
	cache_put(l, "sts", domain, j);
	return j;
}

json_t *
lookup_tlsa(struct lookup *l, const char *mx)
{
	char name[LOOKUP_NAME_MAX];
	struct dns_rrs rrs;
	json_t *j, *recs;
	enum dns_rc drc;
	size_t i;

	if (!l->enabled)
		return json_pack("{s:s}", "rc", "disabled");
	if ((j = cache_get(l, "tlsa", mx)) != NULL)
		return j;
	(void)snprintf(name, sizeof(name), "_25._tcp.%s", mx);
	drc = dns_tlsa(l->dns, name, &rrs);
	recs = json_array();
	for (i = 0; i < rrs.n; i++)
		(void)json_array_append_new(recs, json_string(rrs.rr[i]));
	j = json_pack("{s:s, s:o}", "rc", dns_rc_name(drc), "records", recs);
	dns_rrs_free(&rrs);
	if (j == NULL)
		fatalx("report: out of memory");
	cache_put(l, "tlsa", mx, j);
	return j;
}
