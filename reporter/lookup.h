/*
 * lookup.h - the policy facts a report needs, looked up once per day
 *
 * TLSRPT destinations (_smtp._tls TXT), the MTA-STS policy (_mta-sts TXT,
 * then the HTTPS policy file) and TLSA records of MX hosts.  Each answer
 * is a JSON object that is cached per UTC day in report_lookups (DNS
 * failures excepted: they are retried) and recorded with the report.
 * Ownership: lookup_open() returns a new object freed by lookup_close();
 * every lookup_*() returns a new reference (never NULL).
 */
#ifndef REPORTER_LOOKUP_H
#define REPORTER_LOOKUP_H

#include <stdbool.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "reporter/http.h"

struct lookup;

/*
 * Lookups for `day' using the configuration (dns_server, report_lookups,
 * report_ca_file, report_timeout); db may be NULL (no cache).  NULL after
 * logging why.
 */
struct lookup *lookup_open(PGconn *db, const char *day);
void lookup_close(struct lookup *);
/* The HTTP options for report POSTs (resolver, CA, insecure, timeout). */
const struct http_opts *lookup_http(const struct lookup *);

/* {"rc": ok|none|multiple|malformed|fail|disabled, "rua": [URI...]} */
json_t *lookup_tlsrpt(struct lookup *, const char *domain);
/*
 * {"txt": ok|none|..., "id": ..., "fetch": ok|"why", "mode": ...,
 *  "policy-string": [...], "mx-host": [...], "usable": true|false}
 * usable: a valid policy in mode testing or enforce was fetched.
 */
json_t *lookup_sts(struct lookup *, const char *domain);
/* {"rc": ok|nodata|fail|disabled, "records": ["3 1 1 AB..", ...]} */
json_t *lookup_tlsa(struct lookup *, const char *mx);

#endif /* REPORTER_LOOKUP_H */
