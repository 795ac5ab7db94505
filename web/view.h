/*
 * view.h - the API's JSON shapes for the rollups (rollup.h)
 *
 * Shared by the summary, series, domain and detail replies so that a
 * number means the same thing everywhere: a share is tls / (tls +
 * plaintext + failed) and null when that is 0; unknown is counted apart.
 * Every function returns a new reference (NULL only if jansson cannot
 * allocate, which xmalloc makes fatal).
 */
#ifndef WEB_VIEW_H
#define WEB_VIEW_H

#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "web/rollup.h"

/* Direction masks: which rl_dir values a view adds up. */
#define VIEW_DIR(d) (1u << (d))
#define VIEW_DIR_ALL ((1u << RL_DIR_N) - 1)

/*
 * Totals of the cells in [t0, t1] (same unit as the cells) whose
 * direction is in `dirs': sessions and messages by tls state, the shares,
 * trust of the encrypted sessions, failures by result type.
 */
json_t *view_totals(
    const struct rl_cells *, int64_t t0, int64_t t1, unsigned dirs);
/*
 * Columnar series for a chart: "t" (bucket start, epoch seconds) and, per
 * direction and for "total", arrays of sessions, tls, plaintext, failed,
 * unknown, verified, messages, messages_tls and the two shares (null
 * where there is nothing).  Buckets are `step' seconds from `s0' to `s1'
 * (exclusive); cells are days (86400) or hours (3600) as `unit' says.
 */
json_t *view_series(const struct rl_cells *, int64_t s0, int64_t s1,
    int64_t step, int64_t unit);
/* A share as a JSON real rounded to 6 places, or null when x < 0. */
json_t *view_share(double x);
/* Rows of reports LEFT JOIN report_deliveries (see api.c's query). */
json_t *view_reports(const PGresult *);
/* A text column as a JSON string, or null when NULL. */
json_t *view_text(const PGresult *, int row, int col);
/* A number column as a JSON integer, or null when NULL. */
json_t *view_int(const PGresult *, int row, int col);

#endif /* WEB_VIEW_H */
