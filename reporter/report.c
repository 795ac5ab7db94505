/*
 * report.c - the RFC 8460 section 4 report document for one domain and day
 *
 * Input: grouped sessions (their strings came from logs: untrusted, but
 * they reach the output only through jansson) and lookups (lookup.c).
 * Each group of sessions goes to one policy: the one its log line proved
 * (Postfix "Verified"/DANE/TLSRPT lines give sessions.policy), else the
 * domain's MTA-STS policy when one in mode testing or enforce was
 * fetched, else the TLSA RRset of its MX host (policy-domain = the MX
 * host, the TLSA base domain of RFC 7672 section 2.2.3), else
 * no-policy-found.  Sessions with tls = unknown are counted apart.
 * A plaintext session is a failure with result-type
 * starttls-not-supported unless its log gave another result type; a
 * failed one without a result type is validation-failure.
 */
#include "reporter/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <zlib.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "core/config.h"
#include "core/event.h"

#define REPORT_POLICIES_MAX 64 /* policies per report (MX hosts) */
#define REPORT_GZ_MAX (64u << 20)

struct rp_detail {
	const struct agg_row *key; /* the first row of this group */
	const char *result;
	int64_t count;
};

struct rp_policy {
	const char *type; /* sts, tlsa, no-policy-found */
	const char *domain;
	json_t *strings, *mx; /* borrowed from lookups, may be NULL */
	int64_t ok, failed;
	struct rp_detail *det;
	size_t ndet, cap;
};

bool
report_alabel(const char *s)
{
	size_t i, label = 0, n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_' || (c >= 'A' && c <= 'Z')))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

const char *
report_contact(void)
{
	static char dflt[300];

	if (cf_contact_info != NULL && cf_contact_info[0] != '\0')
		return cf_contact_info;
	(void)snprintf(dflt, sizeof(dflt), "postmaster@%s", config_hostname());
	return dflt;
}

const char *
report_submitter(void)
{
	const char *c = report_contact(), *at = strrchr(c, '@');

	return at != NULL ? at + 1 : c;
}

static const char *
rp_organization(void)
{
	if (cf_organization_name != NULL && cf_organization_name[0] != '\0')
		return cf_organization_name;
	return report_submitter();
}

/* The RFC 8460 result-type of a failed or plaintext group. */
static const char *
rp_result(const struct agg_row *r)
{
	enum ev_result res = ev_result_lookup(r->result, strlen(r->result));

	if (res != EV_RES_NONE && res != EV_RES_SUCCESS)
		return ev_result_name(res);
	if (strcmp(r->tls, "plaintext") == 0)
		return "starttls-not-supported";
	return "validation-failure";
}

static bool
str_same(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static void
rp_add_detail(struct rp_policy *p, const struct agg_row *r)
{
	const char *res = rp_result(r);
	struct rp_detail *d;
	size_t i;

	for (i = 0; i < p->ndet; i++) {
		d = &p->det[i];
		if (str_same(d->result, res) && str_same(d->key->mx, r->mx) &&
		    str_same(d->key->sending_ip, r->sending_ip) &&
		    str_same(d->key->helo, r->helo) &&
		    str_same(d->key->receiving_ip, r->receiving_ip) &&
		    str_same(d->key->reason, r->reason)) {
			d->count += r->count;
			return;
		}
	}
	if (p->ndet == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->det = xreallocarray(p->det, p->cap, sizeof(*p->det));
	}
	d = &p->det[p->ndet++];
	d->key = r;
	d->result = res;
	d->count = r->count;
}

static json_t *
rp_detail_json(const struct rp_detail *d)
{
	json_t *o = json_object();

	(void)json_object_set_new(o, "result-type", json_string(d->result));
	if (d->key->sending_ip[0] != '\0')
		(void)json_object_set_new(
		    o, "sending-mta-ip", json_string(d->key->sending_ip));
	if (d->key->mx[0] != '\0')
		(void)json_object_set_new(
		    o, "receiving-mx-hostname", json_string(d->key->mx));
	if (d->key->helo[0] != '\0')
		(void)json_object_set_new(
		    o, "receiving-mx-helo", json_string(d->key->helo));
	if (d->key->receiving_ip[0] != '\0')
		(void)json_object_set_new(
		    o, "receiving-ip", json_string(d->key->receiving_ip));
	(void)json_object_set_new(
	    o, "failed-session-count", json_integer((json_int_t)d->count));
	if (d->key->reason[0] != '\0')
		(void)json_object_set_new(
		    o, "failure-reason-code", json_string(d->key->reason));
	return o;
}

static json_t *
rp_policy_json(const struct rp_policy *p)
{
	json_t *pol, *fails;
	size_t i;

	pol = json_object();
	(void)json_object_set_new(pol, "policy-type", json_string(p->type));
	/* sts and tlsa always carry the array, empty when unknown. */
	if (p->strings != NULL)
		(void)json_object_set(pol, "policy-string", p->strings);
	else if (p->type[0] != 'n')
		(void)json_object_set_new(pol, "policy-string", json_array());
	(void)json_object_set_new(pol, "policy-domain", json_string(p->domain));
	if (p->mx != NULL)
		(void)json_object_set(pol, "mx-host", p->mx);
	fails = json_array();
	for (i = 0; i < p->ndet; i++)
		(void)json_array_append_new(fails, rp_detail_json(&p->det[i]));
	/* clang-format off */
	return json_pack("{s:o, s:{s:I, s:I}, s:o}",
	    "policy", pol,
	    "summary",
	    "total-successful-session-count", (json_int_t)p->ok,
	    "total-failure-session-count", (json_int_t)p->failed,
	    "failure-details", fails);
	/* clang-format on */
}

/* Find or add the policy (type, domain). */
static struct rp_policy *
rp_find(struct rp_policy *pols, size_t *n, const char *type, const char *domain)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (str_same(pols[i].type, type) &&
		    str_same(pols[i].domain, domain))
			return &pols[i];
	if (*n == REPORT_POLICIES_MAX)
		return NULL;
	memset(&pols[*n], 0, sizeof(pols[*n]));
	pols[*n].type = type;
	pols[*n].domain = domain;
	return &pols[(*n)++];
}

static void
rp_new_id(const char *day, char *uniq, size_t size)
{
	unsigned char rnd[8];
	char hex[17];
	size_t i, k = 0;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		fatal("report: getrandom");
	for (i = 0; i < sizeof(rnd); i++)
		k += (size_t)snprintf(hex + k, sizeof(hex) - k, "%02x", rnd[i]);
	/* unique-id of the file name: 1*(ALPHA / DIGIT). */
	(void)snprintf(
	    uniq, size, "%.4s%.2s%.2s%s", day, day + 5, day + 8, hex);
}

static int64_t
rp_day_start(const char *day)
{
	struct tm tm;
	unsigned y, m, d;
	const char *s = day, *end = day + strlen(day);

	if (scan_digits(&s, end, 4, &y) == -1 || scan_lit(&s, end, "-") ||
	    scan_digits(&s, end, 2, &m) == -1 || scan_lit(&s, end, "-") ||
	    scan_digits(&s, end, 2, &d) == -1)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = (int)d;
	return (int64_t)timegm(&tm);
}

struct report *
report_build(const struct agg_domain *d, const char *day, struct lookup *lk)
{
	struct rp_policy pols[REPORT_POLICIES_MAX];
	struct report *rep;
	json_t *sts = NULL, *tlsa_all, *tlsa, *policies, *lookups;
	const char *type, *pdom;
	char start[32], end[32], uniq[32];
	struct rp_policy *p;
	size_t npol = 0, i;
	bool sts_usable;
	int64_t t0;

	if (!report_alabel(d->domain))
		return NULL;
	rep = xcalloc(1, sizeof(*rep));
	(void)snprintf(rep->domain, sizeof(rep->domain), "%s", d->domain);
	(void)snprintf(rep->day, sizeof(rep->day), "%s", day);
	tlsa_all = json_object();
	if (lk != NULL)
		sts = lookup_sts(lk, d->domain);
	sts_usable =
	    sts != NULL && json_is_true(json_object_get(sts, "usable"));

	for (i = 0; i < d->nrows; i++) {
		const struct agg_row *r = &d->rows[i];

		if (str_same(r->tls, "unknown") || r->tls[0] == '\0') {
			rep->unknown += r->count;
			continue;
		}
		type = NULL;
		pdom = d->domain;
		if (str_same(r->policy, "sts"))
			type = "sts";
		else if (str_same(r->policy, "tlsa"))
			type = "tlsa";
		else if (str_same(r->policy, "no-policy-found"))
			type = "no-policy-found";
		else if (sts_usable)
			type = "sts";
		if ((type == NULL || type[0] == 't') && r->mx[0] != '\0' &&
		    lk != NULL && report_alabel(r->mx)) {
			if ((tlsa = json_object_get(tlsa_all, r->mx)) == NULL) {
				tlsa = lookup_tlsa(lk, r->mx);
				(void)json_object_set_new(
				    tlsa_all, r->mx, tlsa);
			}
			if (type == NULL &&
			    json_array_size(json_object_get(tlsa, "records")))
				type = "tlsa";
		}
		if (type == NULL)
			type = "no-policy-found";
		if (type[0] == 't' && r->mx[0] != '\0')
			pdom = r->mx; /* the TLSA base domain */
		if ((p = rp_find(pols, &npol, type, pdom)) == NULL)
			p = &pols[0]; /* over the cap: lumped with the first */
		if (p->strings == NULL && type[0] == 's' && sts != NULL) {
			p->strings = json_object_get(sts, "policy-string");
			p->mx = json_object_get(sts, "mx-host");
		} else if (p->strings == NULL && type[0] == 't') {
			tlsa = json_object_get(tlsa_all, r->mx);
			p->strings = json_object_get(tlsa, "records");
		}
		if (str_same(r->tls, "tls")) {
			p->ok += r->count;
			rep->successful += r->count;
		} else {
			p->failed += r->count;
			rep->failed += r->count;
			rp_add_detail(p, r);
		}
	}
	if (npol == 0) /* only unknown sessions: an empty heartbeat */
		(void)rp_find(pols, &npol, "no-policy-found", d->domain);

	policies = json_array();
	for (i = 0; i < npol; i++)
		(void)json_array_append_new(policies, rp_policy_json(&pols[i]));
	rep->policy_type = pols[0].type;
	rep->npolicies = npol;
	rp_new_id(day, uniq, sizeof(uniq));
	t0 = rp_day_start(day);
	(void)snprintf(start, sizeof(start), "%sT00:00:00Z", day);
	(void)snprintf(end, sizeof(end), "%sT23:59:59Z", day);
	(void)snprintf(rep->report_id, sizeof(rep->report_id), "%s@%s", uniq,
	    report_submitter());
	(void)snprintf(rep->filename, sizeof(rep->filename),
	    "%s!%s!%lld!%lld!%s.json.gz", report_submitter(), d->domain,
	    (long long)t0, (long long)t0 + 86399, uniq);
	/* clang-format off */
	rep->json = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:o}",
	    "organization-name", rp_organization(),
	    "date-range", "start-datetime", start, "end-datetime", end,
	    "contact-info", report_contact(),
	    "report-id", rep->report_id,
	    "policies", policies);
	/* clang-format on */
	lookups = json_object();
	if (sts != NULL)
		(void)json_object_set(lookups, "sts", sts);
	(void)json_object_set(lookups, "tlsa", tlsa_all);
	rep->lookups = lookups;
	for (i = 0; i < npol; i++)
		free(pols[i].det);
	json_decref(sts);
	json_decref(tlsa_all);
	if (rep->json == NULL)
		fatalx("report: %s: cannot build the JSON document",
		    log_str(d->domain, strlen(d->domain)));
	return rep;
}

void
report_free(struct report *rep)
{
	if (rep == NULL)
		return;
	json_decref(rep->json);
	json_decref(rep->lookups);
	free(rep);
}

char *
report_text(const struct report *rep)
{
	char *s = json_dumps(rep->json, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s == NULL)
		fatalx("report: out of memory");
	return s;
}

int
report_gzip(const char *data, size_t len, unsigned char **out, size_t *outlen)
{
	z_stream z;
	unsigned char *buf;
	size_t cap;
	int rc;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip (RFC 1952) wrapper. */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -1;
	cap = deflateBound(&z, (uLong)len) + 32;
	if (cap > REPORT_GZ_MAX) {
		(void)deflateEnd(&z);
		return -1;
	}
	buf = xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	*outlen = cap - z.avail_out;
	(void)deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

char *
report_summary(const struct report *rep)
{
	json_t *pols, *pol, *det, *fd;
	struct buf b;
	size_t i, k;

	buf_init(&b, 1u << 20);
	(void)!buf_printf(&b,
	    "TLS report (RFC 8460) for %s, %s 00:00:00Z to 23:59:59Z,\n"
	    "from %s (%s).\n\n"
	    "Successful TLS sessions: %lld\n"
	    "Failed sessions:         %lld\n"
	    "Sessions of unknown TLS state (not counted in the report): "
	    "%lld\n",
	    rep->domain, rep->day, rp_organization(), report_contact(),
	    (long long)rep->successful, (long long)rep->failed,
	    (long long)rep->unknown);
	pols = json_object_get(rep->json, "policies");
	json_array_foreach(pols, i, pol)
	{
		fd = json_object_get(pol, "failure-details");
		(void)!buf_printf(&b,
		    "\nPolicy %s for %s: %lld ok, %lld failed\n",
		    json_string_value(json_object_get(
			json_object_get(pol, "policy"), "policy-type")),
		    json_string_value(json_object_get(
			json_object_get(pol, "policy"), "policy-domain")),
		    (long long)json_integer_value(
			json_object_get(json_object_get(pol, "summary"),
			    "total-successful-session-count")),
		    (long long)json_integer_value(
			json_object_get(json_object_get(pol, "summary"),
			    "total-failure-session-count")));
		json_array_foreach(fd, k, det)
		{
			const char *mx = json_string_value(
			    json_object_get(det, "receiving-mx-hostname"));
			const char *why = json_string_value(
			    json_object_get(det, "failure-reason-code"));

			(void)!buf_printf(&b, "  %lld x %s at %s%s%s\n",
			    (long long)json_integer_value(
				json_object_get(det, "failed-session-count")),
			    json_string_value(
				json_object_get(det, "result-type")),
			    mx ? mx : "(unknown MX)", why ? ": " : "",
			    why ? log_str(why, strlen(why)) : "");
		}
	}
	return buf_steal(&b);
}
