/*
 * deliver.h - keep reports and deliver them to their rua destinations
 *
 * Every report meant for delivery is stored with one row per destination
 * (report_deliveries) before anything is sent.  An attempt is claimed in
 * the database (state sending) before it starts and its outcome recorded
 * when it ends: 2xx (HTTPS) or an accepted submission (mail) is sent;
 * anything else is failed and retried with exponential back-off until
 * 24 hours after the first attempt (then expired).  An attempt found
 * still "sending" by the next run was cut short by a crash: its outcome
 * is unknown, so it becomes interrupted and is not repeated: a report is
 * delivered at most once per destination.  One deliverer at a time
 * (advisory lock).
 */
#ifndef REPORTER_DELIVER_H
#define REPORTER_DELIVER_H

#include <signal.h>
#include <stdbool.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "reporter/http.h"
#include "reporter/report.h"

/* True when a report for (day, domain) is stored already. */
int deliver_have(PGconn *, const char *day, const char *domain);
/*
 * Store `rep' and its destinations (the "rua" array of the TLSRPT
 * lookup `tlsrpt', borrowed).  Nothing changes when a report of the same
 * day and domain exists.  Returns 1 stored, 0 existed, -1 error (logged).
 */
int deliver_store(PGconn *, const struct report *rep, json_t *tlsrpt);
/*
 * Make every delivery attempt that is due now.  *stop (a signal flag)
 * ends the run between attempts.  Returns the number of attempts made,
 * or -1 when the database failed or another deliverer holds the lock.
 */
int deliver_due(
    PGconn *, const struct http_opts *, const volatile sig_atomic_t *stop);

#endif /* REPORTER_DELIVER_H */
