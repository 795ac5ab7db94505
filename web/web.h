/*
 * web.h - what the parts of "tlsflow serve" share: the server state and
 * the reply a handler fills
 *
 * Threading: struct web is shared by every request thread.  Its pool and
 * cache lock themselves; the counters are atomics; `gen' is written by the
 * main thread only (api_tick) and read atomically; everything else is set
 * before the HTTP daemon starts and not changed after.
 */
#ifndef WEB_WEB_H
#define WEB_WEB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "web/cache.h"
#include "web/pool.h"

#define WEB_BANNER_MAX 512
#define WEB_TOKEN_MAX 256 /* the data's change token (api_tick) */

struct api_views;

struct web_counters {
	atomic_uint_fast64_t requests, status_2xx, status_3xx, status_4xx,
	    status_5xx, bytes_out, auth_failures;
};

struct web {
	struct pool *pool;
	struct cache *cache;
	atomic_uint_fast64_t gen;  /* data generation (see api.c) */
	char token[WEB_TOKEN_MAX]; /* main thread only */
	double next_token_check;   /* main thread only */
	time_t started;
	char banner[WEB_BANNER_MAX]; /* shown on every page, "" for none */
	struct web_counters cnt;
	struct api_views *views; /* api.c's sorted domain views */
};

struct web_reply {
	unsigned status;
	const char *ctype; /* static string */
	char *body;	   /* new (malloc); the server frees it */
	size_t len;
	char filename[96]; /* download name, "" when not a download */
};

/* Fill `r' with `j' (stolen) as JSON; 500 if it cannot be encoded. */
void web_reply_json(struct web_reply *r, unsigned status, json_t *j);
/* Fill `r' with {"error": msg, "status": status}. */
void web_reply_error(struct web_reply *r, unsigned status, const char *msg);
/* Current UTC day (days since 1970-01-01). */
int32_t web_today(void);

#endif /* WEB_WEB_H */
