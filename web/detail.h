/*
 * detail.h - one peer domain's detail page (GET /api/v1/domains/DOMAIN)
 */
#ifndef WEB_DETAIL_H
#define WEB_DETAIL_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

/*
 * Raw sessions are read for at most this many days (the last of the
 * range): they have no index, so a year would scan every partition.  The
 * daily series and totals cover the whole range from the rollups.
 */
#define DETAIL_RAW_DAYS_MAX 31
#define DETAIL_ROWS_MAX 100 /* MX hosts, ciphers, failures listed */
#define DETAIL_PLAIN_MAX 50 /* recent plaintext sessions listed */

/*
 * The detail of `domain' (validated: [a-z0-9._-]) over the days [from,
 * to], as a new JSON string (caller frees), or NULL after a database
 * error (logged).  *found tells whether anything at all is known about
 * the domain in the range (also the JSON's "found").
 */
char *detail_json(
    PGconn *db, const char *domain, int32_t from, int32_t to, bool *found);

#endif /* WEB_DETAIL_H */
