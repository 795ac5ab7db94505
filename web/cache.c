/*
 * cache.c - shared computed results, refreshed in the background (see
 * cache.h)
 *
 * Inputs: keys are built by api.c from already-validated queries; nothing
 * here parses request text.
 * Threading: one mutex guards the entry table and reference counts; the
 * computations run outside it.  An entry being computed for the first
 * time is marked `busy' and other threads wait on the condition variable;
 * an entry being refreshed keeps serving its old value.
 */
#include "web/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/xmalloc.h"

struct cache_val {
	unsigned refs;
	void *data;
	double at; /* monotonic time it was computed */
};

struct centry {
	char key[CACHE_KEY_MAX];
	struct cache_val *val; /* NULL while first computed */
	uint64_t gen;	       /* generation it was computed for */
	double cost;	       /* seconds the last computation took */
	double used;	       /* last cache_get() */
	bool busy;	       /* a computation is running */
	bool live;
};

struct cache {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pool *pool;
	cache_compute_fn *compute;
	cache_free_fn *fr;
	void *ctx;
	double min_interval;
	struct centry e[CACHE_ENTRIES_MAX];
	struct cache_stats st;
};

static double
mono(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct cache *
cache_new(struct pool *pool, cache_compute_fn *compute, cache_free_fn *fr,
    void *ctx, double min_interval_s)
{
	struct cache *c = xcalloc(1, sizeof(*c));
	pthread_condattr_t ca;

	if (pthread_mutex_init(&c->mu, NULL) != 0 ||
	    pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&c->cv, &ca) != 0)
		fatalx("cache: mutex init failed");
	(void)pthread_condattr_destroy(&ca);
	c->pool = pool;
	c->compute = compute;
	c->fr = fr;
	c->ctx = ctx;
	c->min_interval = min_interval_s;
	return c;
}

/* Drop one reference; the caller holds the mutex. */
static void
unref_locked(struct cache *c, struct cache_val *v)
{
	if (v != NULL && --v->refs == 0) {
		c->fr(v->data);
		free(v);
	}
}

static struct centry *
find_locked(struct cache *c, const char *key)
{
	size_t i;

	for (i = 0; i < CACHE_ENTRIES_MAX; i++)
		if (c->e[i].live && strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

/* A free slot, else the least recently used entry not being computed. */
static struct centry *
slot_locked(struct cache *c)
{
	struct centry *best = NULL;
	size_t i;

	for (i = 0; i < CACHE_ENTRIES_MAX; i++) {
		if (!c->e[i].live)
			return &c->e[i];
		if (!c->e[i].busy &&
		    (best == NULL || c->e[i].used < best->used))
			best = &c->e[i];
	}
	if (best != NULL) {
		unref_locked(c, best->val);
		memset(best, 0, sizeof(*best));
	}
	return best;
}

/* Run the computation outside the lock; NULL on failure. */
static struct cache_val *
run(struct cache *c, const char *key, double *cost)
{
	struct cache_val *v;
	double t0 = mono();
	PGconn *db;
	void *data;

	if ((db = pool_get(c->pool)) == NULL)
		return NULL;
	data = c->compute(c->ctx, db, key);
	pool_put(c->pool, db, false);
	*cost = mono() - t0;
	if (data == NULL)
		return NULL;
	v = xcalloc(1, sizeof(*v));
	v->refs = 1; /* the entry's */
	v->data = data;
	v->at = mono();
	return v;
}

struct cache_val *
cache_get(struct cache *c, const char *key, uint64_t gen)
{
	struct cache_val *v = NULL;
	struct centry *e;
	struct timespec until;
	char k[CACHE_KEY_MAX];
	double cost = 0;

	if (strlen(key) >= CACHE_KEY_MAX)
		panic("cache: key too long: %s", key);
	pthread_mutex_lock(&c->mu);
	e = find_locked(c, key);
	if (e != NULL && e->val == NULL && e->busy) {
		(void)clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += CACHE_WAIT_S;
		while (e->live && e->busy && e->val == NULL &&
		       strcmp(e->key, key) == 0)
			if (pthread_cond_timedwait(&c->cv, &c->mu, &until) ==
			    ETIMEDOUT)
				break;
		if (!e->live || strcmp(e->key, key) != 0)
			e = find_locked(c, key);
	}
	if (e != NULL && e->val != NULL) {
		e->used = mono();
		v = e->val;
		v->refs++;
		if (e->gen == gen)
			c->st.hits++;
		else
			c->st.stale_hits++;
		pthread_mutex_unlock(&c->mu);
		return v;
	}
	if (e != NULL) { /* its first computation failed or is stuck */
		pthread_mutex_unlock(&c->mu);
		return NULL;
	}
	if ((e = slot_locked(c)) == NULL) { /* every entry busy */
		pthread_mutex_unlock(&c->mu);
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	(void)snprintf(e->key, sizeof(e->key), "%s", key);
	(void)snprintf(k, sizeof(k), "%s", key);
	e->live = e->busy = true;
	e->used = mono();
	c->st.misses++;
	pthread_mutex_unlock(&c->mu);

	v = run(c, k, &cost);

	pthread_mutex_lock(&c->mu);
	e->busy = false;
	if (v == NULL) {
		c->st.failures++;
		memset(e, 0, sizeof(*e)); /* try again on the next request */
	} else {
		e->val = v;
		e->gen = gen;
		e->cost = cost;
		v->refs++; /* the caller's */
	}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return v;
}

const void *
cache_data(const struct cache_val *v)
{
	return v->data;
}

double
cache_age(const struct cache_val *v)
{
	return mono() - v->at;
}

void
cache_keep(struct cache *c, struct cache_val *v)
{
	pthread_mutex_lock(&c->mu);
	v->refs++;
	pthread_mutex_unlock(&c->mu);
}

void
cache_release(struct cache *c, struct cache_val *v)
{
	if (v == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	unref_locked(c, v);
	pthread_mutex_unlock(&c->mu);
}

int
cache_refresh(struct cache *c, uint64_t gen, double budget_s)
{
	char key[CACHE_KEY_MAX];
	struct cache_val *v;
	struct centry *e;
	double t0 = mono(), now, wait, cost = 0;
	size_t i;
	int n = 0;

	for (;;) {
		pthread_mutex_lock(&c->mu);
		now = mono();
		e = NULL;
		for (i = 0; i < CACHE_ENTRIES_MAX; i++) {
			struct centry *x = &c->e[i];

			if (!x->live || x->busy || x->val == NULL)
				continue;
			if (now - x->used > CACHE_IDLE_S) {
				unref_locked(c, x->val);
				memset(x, 0, sizeof(*x));
				continue;
			}
			wait = 10 * x->cost > c->min_interval ? 10 * x->cost
							      : c->min_interval;
			if (x->gen != gen && now - x->val->at >= wait &&
			    (e == NULL || x->val->at < e->val->at))
				e = x;
		}
		if (e == NULL || now - t0 > budget_s) {
			c->st.entries = 0;
			for (i = 0; i < CACHE_ENTRIES_MAX; i++)
				c->st.entries += c->e[i].live;
			pthread_mutex_unlock(&c->mu);
			return n;
		}
		e->busy = true;
		(void)snprintf(key, sizeof(key), "%s", e->key);
		pthread_mutex_unlock(&c->mu);

		v = run(c, key, &cost);

		pthread_mutex_lock(&c->mu);
		e->busy = false;
		if (v != NULL) {
			unref_locked(c, e->val);
			e->val = v;
			e->gen = gen;
			e->cost = cost;
			c->st.refreshes++;
			n++;
		} else {
			/* Keep serving the old value; try again later. */
			e->val->at = mono();
			c->st.failures++;
		}
		pthread_mutex_unlock(&c->mu);
		if (v == NULL)
			return n;
	}
}

void
cache_clear(struct cache *c)
{
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < CACHE_ENTRIES_MAX; i++)
		if (c->e[i].live && !c->e[i].busy) {
			unref_locked(c, c->e[i].val);
			memset(&c->e[i], 0, sizeof(c->e[i]));
		}
	pthread_mutex_unlock(&c->mu);
}

void
cache_get_stats(struct cache *c, struct cache_stats *st)
{
	pthread_mutex_lock(&c->mu);
	*st = c->st;
	pthread_mutex_unlock(&c->mu);
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	cache_clear(c);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}
