/*
 * pool.h - a few read-only PostgreSQL connections shared by the web threads
 *
 * Every connection is set read-only (default_transaction_read_only) with a
 * statement timeout, so "tlsflow serve" cannot change the data even when
 * it is given a role that could.  A broken connection is dropped and made
 * again on the next pool_get(); while the database is away pool_get()
 * fails fast (one log line per outage) so that requests get a 503.
 * Threading: every function may be called from any thread.
 * Ownership: pool_get() lends a connection until the matching pool_put().
 */
#ifndef WEB_POOL_H
#define WEB_POOL_H

#include <stdbool.h>

#include <libpq-fe.h>

#define POOL_SIZE_MAX 64
#define POOL_WAIT_MS 5000 /* longest wait for a free connection */

struct pool;

/* A new pool of up to `size' connections to `conninfo' (copied). */
struct pool *pool_new(
    const char *conninfo, unsigned size, unsigned statement_timeout_ms);
/* A connected connection, or NULL when the database cannot be reached. */
PGconn *pool_get(struct pool *);
/* Give a connection back; `broken' closes it (after a failed query). */
void pool_put(struct pool *, PGconn *, bool broken);
/* Was the last attempt to reach the database successful? */
bool pool_up(struct pool *);
void pool_free(struct pool *);

#endif /* WEB_POOL_H */
