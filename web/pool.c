/*
 * pool.c - read-only PostgreSQL connections for the web threads (see
 * pool.h)
 *
 * Inputs: none untrusted (the connection string is configuration).
 * Threading: one mutex guards the free list; connecting happens outside
 * it so that a slow server does not stall threads that hold a connection.
 */
#include "web/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "core/db.h"

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *conninfo;
	char timeout[24];
	PGconn *idle[POOL_SIZE_MAX];
	unsigned nidle, nopen, size;
	bool up, warned;
	time_t next_try; /* while down: no new attempt before this */
};

struct pool *
pool_new(const char *conninfo, unsigned size, unsigned timeout_ms)
{
	struct pool *p = xcalloc(1, sizeof(*p));

	if (pthread_mutex_init(&p->mu, NULL) != 0 ||
	    pthread_cond_init(&p->cv, NULL) != 0)
		fatalx("pool: mutex init failed");
	p->conninfo = xstrdup(conninfo);
	p->size = size < 1 ? 1 : size > POOL_SIZE_MAX ? POOL_SIZE_MAX : size;
	(void)snprintf(p->timeout, sizeof(p->timeout), "%u", timeout_ms);
	p->up = true;
	return p;
}

/* Connect and make the session read-only; NULL when it fails. */
static PGconn *
connect_ro(struct pool *p, bool quiet)
{
	const char *params[1] = {p->timeout};
	PGconn *db;

	if ((db = db_connect(p->conninfo, quiet)) == NULL)
		return NULL;
	if (!db_exec(db, "read-only session", NULL, PGRES_TUPLES_OK,
		"SELECT set_config('default_transaction_read_only', 'on',"
		" false), set_config('statement_timeout', $1, false),"
		" set_config('application_name', 'tlsflow serve', false)",
		1, params)) {
		PQfinish(db);
		return NULL;
	}
	return db;
}

PGconn *
pool_get(struct pool *p)
{
	struct timespec until;
	PGconn *db = NULL;
	bool quiet;
	time_t now;

	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += POOL_WAIT_MS / 1000;
	pthread_mutex_lock(&p->mu);
	while (p->nidle == 0 && p->nopen >= p->size)
		if (pthread_cond_timedwait(&p->cv, &p->mu, &until) ==
		    ETIMEDOUT) {
			pthread_mutex_unlock(&p->mu);
			log_warnx("pool: no free database connection in %d ms",
			    POOL_WAIT_MS);
			return NULL;
		}
	if (p->nidle > 0) {
		db = p->idle[--p->nidle];
		pthread_mutex_unlock(&p->mu);
		return db;
	}
	now = time(NULL);
	if (!p->up && now < p->next_try) {
		pthread_mutex_unlock(&p->mu);
		return NULL;
	}
	p->nopen++; /* reserve the slot while connecting */
	quiet = p->warned;
	pthread_mutex_unlock(&p->mu);

	db = connect_ro(p, quiet);

	pthread_mutex_lock(&p->mu);
	if (db == NULL) {
		p->nopen--;
		p->up = false;
		p->warned = true;
		p->next_try = time(NULL) + 2;
		pthread_cond_signal(&p->cv);
	} else {
		if (!p->up)
			log_info("pool: database is back");
		p->up = true;
		p->warned = false;
	}
	pthread_mutex_unlock(&p->mu);
	return db;
}

void
pool_put(struct pool *p, PGconn *db, bool broken)
{
	if (db == NULL)
		return;
	if (!broken && PQstatus(db) != CONNECTION_OK)
		broken = true;
	/* An aborted transaction would poison the next user. */
	if (!broken && PQtransactionStatus(db) != PQTRANS_IDLE)
		broken = true;
	pthread_mutex_lock(&p->mu);
	if (broken || p->nidle >= POOL_SIZE_MAX) {
		p->nopen--;
		pthread_mutex_unlock(&p->mu);
		PQfinish(db);
		pthread_mutex_lock(&p->mu);
	} else {
		p->idle[p->nidle++] = db;
	}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

bool
pool_up(struct pool *p)
{
	bool up;

	pthread_mutex_lock(&p->mu);
	up = p->up;
	pthread_mutex_unlock(&p->mu);
	return up;
}

void
pool_free(struct pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nidle; i++)
		PQfinish(p->idle[i]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->conninfo);
	free(p);
}
