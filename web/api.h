/*
 * api.h - the JSON API under /api/v1/ (summary, series, domains, domain
 * detail, reports, health) and the data generation that keeps the cache
 * honest
 *
 * Every handler reads only validated parameters (struct query) and fills
 * a struct web_reply; errors are JSON {"error": "...", "status": N}.
 * Threading: api_handle() runs on any HTTP thread; api_tick() only on the
 * main thread.
 */
#ifndef WEB_API_H
#define WEB_API_H

#include "web/query.h"
#include "web/web.h"

/* Set up and free the API's own state in struct web (views). */
void api_init(struct web *);
void api_fini(struct web *);
/*
 * Handle GET /api/v1/<path> (path without that prefix, URL-decoded) with
 * the request's parameters, which api_handle() checks against what the
 * endpoint takes.
 */
void api_handle(
    struct web *, const char *path, struct query *, struct web_reply *);
/*
 * Main-loop work, about once a second: see whether the collectors wrote
 * (the data's change token) and refresh stale cached values for at most
 * `budget_s' seconds.
 */
void api_tick(struct web *, double budget_s);
/*
 * Compute the dashboard's default views ahead of the first visitor (the
 * overview and domains of the last 30 days).
 */
void api_warm(struct web *);

#endif /* WEB_API_H */
