/*
 * store.h - batched, exactly-once writes of session events to PostgreSQL
 *
 * Events are queued in a batch of at most batch_size.  A writer thread
 * commits each batch handed to it: COPY, the daily rollup and the
 * sources' checkpoints in one transaction, so a crash between batches
 * loses nothing and repeats nothing.  The caller fills the next batch
 * while the previous one commits (store_push()); at most two batches
 * exist.  When the server is away the batch is kept, the failure is
 * logged once, and the writer retries with exponential back-off (up to
 * retry_max seconds); the caller stops reading while store_full()
 * (back-pressure: the queue is bounded).
 * If the server goes away while COMMIT is in flight, the outcome is
 * decided on reconnection by reading the checkpoints back.
 * Ownership: store_open() returns a new object freed by store_free().
 * Threads: every function is for the thread that opened the store; the
 * writer thread is internal and blocks every signal.  Open the store
 * after any privilege drop (capabilities are per thread).
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
size_t store_pending(struct store *);
/* True when the batch is due by time (flush_interval) or size. */
bool store_due(const struct store *);
/*
 * Hand the batch to the writer and return, waiting only when the batch
 * is full and the previous one is still committing.  Returns 0 when
 * handed over (or empty, or not yet: the writer is busy and the batch
 * can still grow), -1 when the writer is backing off after a failure.
 */
int store_push(struct store *);
/*
 * Commit everything queued and wait for it.  Returns 0 when committed
 * (or empty), -1 when a batch is kept for a later retry (already logged;
 * back-off applies).
 */
int store_flush(struct store *);
void store_stats(struct store *, struct store_stats *);
/* Stops the writer and frees; a pending batch is lost, so flush first.
 * NULL is a no-op. */
void store_free(struct store *);

#endif /* CORE_STORE_H */
