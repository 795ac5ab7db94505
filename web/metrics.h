/*
 * metrics.h - GET /metrics in the Prometheus text format (version 0.0.4)
 *
 * Sessions and messages by direction, tls state and trust (all time, from
 * the rollup; no per-domain labels, so the series count stays fixed),
 * collector positions and counters, report deliveries by state, the HTTP
 * server's own counters and build info.
 */
#ifndef WEB_METRICS_H
#define WEB_METRICS_H

#include "web/web.h"

/* Fill `r' with the exposition; 503 when the database cannot be read. */
void metrics_render(struct web *, struct web_reply *r);

#endif /* WEB_METRICS_H */
