/*
 * cache.h - computed results that the web threads share, refreshed behind
 * their backs
 *
 * The dashboard's numbers over a year of rollups take the database
 * seconds to add up; requests must take milliseconds.  So a result (a
 * year of daily totals, the per-domain table of a range, ...) is computed
 * once per key and kept.  Each key names its own recipe ("days:20300:
 * 20664"): the compute callback is given the key and a connection.
 *
 * Freshness: the caller passes the data's generation (a number that
 * changes when the collectors write; see api.c).  A request always gets
 * the value at hand at once, even one of an older generation; the owner's
 * loop calls cache_refresh() about once a second, which recomputes stale
 * values, but a value that cost c seconds to compute at most every
 * max(min_interval, 10 c) seconds, so a dashboard open on a busy server
 * costs the database at most a tenth of its time.  Only a key never seen
 * is computed inside a request; other requests for it wait for that one.
 * Values unused for CACHE_IDLE_S are dropped.
 * Threading: all functions may be called from any thread.
 * Ownership: cache_get() returns a new reference (cache_release() it);
 * the value it holds is immutable and shared.
 */
#ifndef WEB_CACHE_H
#define WEB_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "web/pool.h"

#define CACHE_KEY_MAX 320
#define CACHE_ENTRIES_MAX 256
#define CACHE_IDLE_S 900
#define CACHE_WAIT_S 60 /* longest wait for another thread's computation */

/* Compute the value for `key' (new, freed with the free callback), or
 * NULL on failure (already logged). */
typedef void *cache_compute_fn(void *ctx, PGconn *db, const char *key);
typedef void cache_free_fn(void *value);

struct cache;
struct cache_val;

struct cache_stats {
	uint64_t hits, stale_hits, misses, refreshes, failures;
	unsigned entries;
};

struct cache *cache_new(struct pool *, cache_compute_fn *, cache_free_fn *,
    void *ctx, double min_interval_s);
/*
 * The value for `key': a new reference, or NULL when it could not be
 * computed (database away: the caller answers 503).
 */
struct cache_val *cache_get(struct cache *, const char *key, uint64_t gen);
/* The value itself (borrowed while the reference is held). */
const void *cache_data(const struct cache_val *);
/* Age in seconds of the value (time since it was computed). */
double cache_age(const struct cache_val *);
void cache_release(struct cache *, struct cache_val *);
/* Take one more reference on a value the caller holds. */
void cache_keep(struct cache *, struct cache_val *);
/*
 * Recompute values older than `gen' that are due (see above), spending at
 * most about `budget_s' seconds; drop idle ones.  Returns how many were
 * recomputed.
 */
int cache_refresh(struct cache *, uint64_t gen, double budget_s);
/* Forget every value (SIGHUP). */
void cache_clear(struct cache *);
void cache_get_stats(struct cache *, struct cache_stats *);
void cache_free(struct cache *);

#endif /* WEB_CACHE_H */
