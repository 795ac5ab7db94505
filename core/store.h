/*
 * store.h - batched, exactly-once writes of session events to PostgreSQL
 *
 * Events are queued in a batch of at most batch_size; store_flush() writes
 * the batch with COPY, adds it to the daily rollup and records the
 * sources' checkpoints, all in one transaction, so a crash between batches
 * loses nothing and repeats nothing.  When the server is away the batch is
 * kept, the failure is logged once, and flushes are retried with
 * exponential back-off (up to retry_max seconds); the caller stops reading
 * while store_full() (back-pressure: the queue is bounded).
 * If the server goes away while COMMIT is in flight, the outcome is
 * decided on reconnection by reading the checkpoints back.
 * Ownership: store_open() returns a new object freed by store_free().
 */
#ifndef CORE_STORE_H
#define CORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

#define STORE_KIND_MAX 15
#define STORE_NAME_MAX 511
#define STORE_HASH_MAX 64
#define STORE_CURSOR_MAX 511
#define STORE_CKPT_MAX 64 /* sources per batch */

/*
 * A collector's counters for one source, stored with its checkpoint
 * (table collector_counters, read by the dashboard's Health page).
 */
struct store_counters {
	bool set;	       /* write them with the checkpoint */
	int64_t started_us;    /* this collector's start, Unix us */
	int64_t last_event_us; /* newest session's time; 0: none */
	uint64_t lines, events, other, unused, malformed, truncated, badtime,
	    evicted, expired;
};

/* A source's position; what "where to resume" means depends on kind. */
struct store_ckpt {
	char kind[STORE_KIND_MAX + 1]; /* file, journal, pcap, synthetic */
	char name[STORE_NAME_MAX + 1];
	int64_t inode;
	int64_t offset; /* every event completed before it is stored */
	int64_t resume; /* re-read from here: sessions open at `offset' */
	char first_hash[STORE_HASH_MAX + 1];
	char cursor[STORE_CURSOR_MAX + 1];
	struct store_counters counters;
};

struct store_stats {
	uint64_t events;   /* committed */
	uint64_t batches;  /* committed */
	uint64_t failures; /* failed flush attempts */
	bool connected;
};

struct store;

/* A new store for `conninfo' (copied); connects on first use. */
struct store *store_open(const char *conninfo, size_t batch_max);
/*
 * Read the committed checkpoint of (kind, name) for this host into *ck.
 * Returns 1 found, 0 none, -1 database error (logged).
 */
int store_load_ckpt(
    struct store *, const char *kind, const char *name, struct store_ckpt *ck);
/* Queue an event.  Returns -1 when the batch is full (flush first). */
int store_add(struct store *, const struct tls_event *)
    __attribute__((warn_unused_result));
/* The position after every event queued so far, for ck's source. */
void store_set_ckpt(struct store *, const struct store_ckpt *ck);
bool store_full(const struct store *);
size_t store_pending(const struct store *);
/* True when the batch is due by time (flush_interval) or size. */
bool store_due(const struct store *);
/*
 * Commit the batch.  Returns 0 when committed (or empty), -1 when it is
 * kept for a later retry (already logged; back-off applies).
 */
int store_flush(struct store *);
void store_stats(const struct store *, struct store_stats *);
/* Frees; a pending batch is lost, so flush first.  NULL is a no-op. */
void store_free(struct store *);

#endif /* CORE_STORE_H */
