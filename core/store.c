/*
 * store.c - exactly-once batched writer (see store.h)
 *
 * Inputs: events already bounded and sanitised by event.c; still, every
 * field goes to COPY with its length (binary format) and every statement
 * takes parameters.
 *
 * Threads: the caller fills one batch while a writer thread commits the
 * previous one, so parsing and the database overlap.  store_add()
 * encodes each event at once (binary COPY row, rollup row added up), so
 * a batch costs a few hundred bytes per event, not a struct tls_event.
 * There are never more than two batches: `fill' (the caller's) and
 * `work' (the writer's); the writer owns the connection, and
 * store_load_ckpt() borrows it under `dbmu'.  Batches commit in the
 * order they were handed over, each with the checkpoints set while it
 * was filled, so a crash loses at most the uncommitted batches and
 * repeats nothing.
 *
 * One commit is:
 *	tlsflow_ensure_day(d) for each new day	(own transaction)
 *	BEGIN
 *	COPY sessions FROM STDIN		(the batch)
 *	INSERT INTO daily ... ON CONFLICT	(the batch, aggregated here)
 *	INSERT INTO checkpoints ... ON CONFLICT	(each source's position)
 *	COMMIT
 * The rollup rows are aggregated and sorted in C, so one statement never
 * touches a key twice and concurrent writers lock keys in the same order.
 */
#include "core/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/scan.h"
#include "common/xmalloc.h"
#include "core/config.h"
#include "core/db.h"

#define STORE_DAYS_MAX 64	     /* partition days remembered */
#define STORE_COPY_CHUNK (64 * 1024) /* bytes per PQputCopyData */
#define STORE_ARRAY_MAX (256u << 20) /* bytes of one array parameter */

/* One rollup row of a batch: its key and what the batch adds to it. */
struct rkey {
	uint32_t hash;
	int32_t day;
	uint8_t dir, tls, result, trust;
	uint16_t dom_len;
	size_t dom_off; /* into the batch's domain bytes */
	uint64_t sessions, messages;
};

/*
 * A batch as the database will take it: the events already encoded as
 * binary COPY rows (a few hundred bytes each, where a struct tls_event is
 * 2 KB) and already added up into rollup rows (open addressing on
 * `slot', index + 1 into `key').  Encoding happens in store_add(), on
 * the caller's thread; the writer only sends.
 */
struct batch {
	char *rows;
	size_t len, cap; /* bytes of rows; cap <= maxev * COPY_ROW_AVG_MAX */
	size_t nev;
	struct rkey *key;
	size_t nkey;
	uint32_t *slot;
	size_t nslot; /* a power of two >= 2 * maxev */
	char *dom;
	size_t domlen, domcap;
	struct store_ckpt ck[STORE_CKPT_MAX];
	size_t nck;
};

/* What the writer thread is doing with `work'. */
enum wstate {
	W_IDLE,	   /* nothing: `work' is empty */
	W_BUSY,	   /* committing `work' (or about to) */
	W_WAITING, /* `work' failed; retried at next_try */
};

struct store {
	char *conninfo;
	char *host; /* the checkpoints' host, fixed at open */
	size_t maxev;
	size_t maxbytes;	    /* of one batch's encoded rows */
	struct timespec last_flush; /* caller's: last hand-over */

	pthread_mutex_t mu; /* everything below, except as noted */
	pthread_cond_t cv;  /* state changes, both directions */
	pthread_t thr;
	bool thr_started;
	bool stop;
	enum wstate state;
	struct batch fill, work; /* fill: caller's; work: writer's */
	bool down;		 /* failure logged, not yet recovered */
	time_t down_since;
	double backoff; /* seconds */
	long long retry_max;
	struct timespec next_try; /* CLOCK_MONOTONIC */
	struct store_stats st;

	pthread_mutex_t dbmu; /* db, and the writer-only fields below */
	PGconn *db;
	int32_t days[STORE_DAYS_MAX]; /* partitions known to exist */
	size_t ndays;
	bool uncertain; /* COMMIT sent, answer lost */
	size_t *idx; /* rollup sort order (maxev: one row per event at most) */
};
static double
mono_now(struct timespec *ts)
{
	(void)clock_gettime(CLOCK_MONOTONIC, ts);
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static double
ts_sec(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

/* Load one checkpoint on an open connection. */
static int
load_ckpt(PGconn *db, const char *host, const char *kind, const char *name,
    struct store_ckpt *ck)
{
	const char *params[3] = {kind, host, name};
	PGresult *res;
	int rc = -1;

	if (!db_exec(db, "load checkpoint", &res, PGRES_TUPLES_OK,
		"SELECT inode, off, first_hash, cursor, resume_off"
		" FROM checkpoints"
		" WHERE kind = $1 AND host = $2 AND name = $3",
		3, params))
		goto out;
	memset(ck, 0, sizeof(*ck));
	(void)snprintf(ck->kind, sizeof(ck->kind), "%s", kind);
	(void)snprintf(ck->name, sizeof(ck->name), "%s", name);
	if (PQntuples(res) == 0) {
		rc = 0;
		goto out;
	}
	ck->inode = -1;
	if (!PQgetisnull(res, 0, 0) &&
	    scan_i64_str(PQgetvalue(res, 0, 0), &ck->inode) == -1)
		ck->inode = -1;
	if (PQgetisnull(res, 0, 1) ||
	    scan_i64_str(PQgetvalue(res, 0, 1), &ck->offset) == -1)
		ck->offset = 0;
	(void)snprintf(ck->first_hash, sizeof(ck->first_hash), "%s",
	    PQgetvalue(res, 0, 2));
	(void)snprintf(
	    ck->cursor, sizeof(ck->cursor), "%s", PQgetvalue(res, 0, 3));
	if (PQgetisnull(res, 0, 4) ||
	    scan_i64_str(PQgetvalue(res, 0, 4), &ck->resume) == -1)
		ck->resume = ck->offset;
	rc = 1;
out:
	PQclear(res);
	return rc;
}

static bool
ckpt_equal(const struct store_ckpt *a, const struct store_ckpt *b)
{
	return a->inode == b->inode && a->offset == b->offset &&
	       a->resume == b->resume &&
	       strcmp(a->first_hash, b->first_hash) == 0 &&
	       strcmp(a->cursor, b->cursor) == 0;
}

/*
 * After a COMMIT whose answer was lost: the batch was committed exactly
 * when every checkpoint in it reads back as written.  Returns 1 committed,
 * 0 not committed, -1 cannot tell yet.
 */
static int
reconcile(struct store *st, const struct batch *b)
{
	struct store_ckpt got;
	size_t i;
	int r;

	if (b->nck == 0) {
		/* Nothing to read back: retrying may repeat the batch. */
		log_warnx("store: commit outcome unknown and the batch has "
			  "no checkpoint; writing it again");
		return 0;
	}
	for (i = 0; i < b->nck; i++) {
		r = load_ckpt(
		    st->db, st->host, b->ck[i].kind, b->ck[i].name, &got);
		if (r == -1)
			return -1;
		if (r == 0 || !ckpt_equal(&got, &b->ck[i]))
			return 0;
	}
	return 1;
}

static int32_t
ev_day(const struct tls_event *ev)
{
	int64_t s = ev->ts_us / 1000000;

	if (ev->ts_us < 0 && ev->ts_us % 1000000 != 0)
		s--;
	return (int32_t)(s >= 0 ? s / 86400 : (s - 86399) / 86400);
}

static void
day_text(int32_t day, char out[16])
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	(void)gmtime_r(&t, &tm);
	(void)strftime(out, 16, "%Y-%m-%d", &tm);
}

static int
ensure_days(struct store *st, const struct batch *b)
{
	char dtext[16];
	const char *params[1] = {dtext};
	size_t i, j;
	int32_t d;

	for (i = 0; i < b->nkey; i++) {
		d = b->key[i].day;
		for (j = 0; j < st->ndays; j++)
			if (st->days[j] == d)
				break;
		if (j < st->ndays)
			continue;
		day_text(d, dtext);
		if (!db_exec(st->db, "create partition", NULL, PGRES_TUPLES_OK,
			"SELECT tlsflow_ensure_day($1)", 1, params))
			return -1;
		if (st->ndays == STORE_DAYS_MAX)
			st->ndays = 0; /* forget; re-checking is cheap */
		st->days[st->ndays++] = d;
	}
	return 0;
}

/*
 * The COPY writer, in PostgreSQL's binary format (protocol docs, "COPY
 * ... BINARY"): no text parsing of timestamps, addresses, integers and
 * arrays on the server, which is where the time goes at 200,000+ events/s.
 * It writes into a fixed chunk by hand; COPY_ROW_MAX bounds one row.
 */
#define COPY_NFIELDS 24
#define COPY_ROW_MAX                                                           \
	(4 * (EV_HOST_MAX + 1) + 2 * (EV_ADDR_MAX + 1) + EV_TLSVER_MAX +       \
	    EV_CIPHER_MAX + EV_REASON_MAX + 9 * EV_QIDS_MAX + EV_ORIGIN_MAX +  \
	    1024)
/* Bytes of encoded rows per event a batch may average (real ones: ~300). */
#define COPY_ROW_AVG_MAX 1024
#define PG_EPOCH_US INT64_C(946684800000000) /* 2000-01-01 in Unix us */
#define PG_TEXTOID 25
#define PGSQL_AF_INET 2 /* PostgreSQL's inet family codes */
#define PGSQL_AF_INET6 3

static const char copy_header[] = "PGCOPY\n\377\r\n\0" /* signature */
				  "\0\0\0\0"	       /* flags */
				  "\0\0\0\0";	       /* no extension */
#define COPY_HEADER_LEN 19

static char *
put_be16(char *p, uint16_t v)
{
	p[0] = (char)(v >> 8);
	p[1] = (char)v;
	return p + 2;
}

static char *
put_be32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
	return p + 4;
}

static char *
put_be64(char *p, uint64_t v)
{
	p = put_be32(p, (uint32_t)(v >> 32));
	return put_be32(p, (uint32_t)v);
}

static char *
put_null(char *p)
{
	return put_be32(p, UINT32_MAX); /* length -1 */
}

/* A text field; empty is NULL. */
static char *
put_text(char *p, const char *s)
{
	size_t n;

	if (s == NULL || *s == '\0')
		return put_null(p);
	n = strlen(s);
	p = put_be32(p, (uint32_t)n);
	memcpy(p, s, n);
	return p + n;
}

static char *
put_int4(char *p, uint32_t v, bool zero_is_null)
{
	if (v == 0 && zero_is_null)
		return put_null(p);
	p = put_be32(p, 4);
	return put_be32(p, v);
}

/* An inet from its canonical text (event.c checked it with inet_pton). */
static char *
put_inet(char *p, const char *s)
{
	unsigned char a[16];

	if (*s == '\0')
		return put_null(p);
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, a) != 1)
			return put_null(p);
		p = put_be32(p, 4 + 16);
		*p++ = PGSQL_AF_INET6;
		*p++ = (char)128; /* bits */
		*p++ = 0;	  /* not cidr */
		*p++ = 16;
		memcpy(p, a, 16);
		return p + 16;
	}
	if (inet_pton(AF_INET, s, a) != 1)
		return put_null(p);
	p = put_be32(p, 4 + 4);
	*p++ = PGSQL_AF_INET;
	*p++ = 32;
	*p++ = 0;
	*p++ = 4;
	memcpy(p, a, 4);
	return p + 4;
}

/* The next space-separated word of *s, or false at the end. */
static bool
next_word(const char **s, const char **w, size_t *len)
{
	const char *p = *s;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return false;
	*w = p;
	while (*p != '\0' && *p != ' ')
		p++;
	*len = (size_t)(p - *w);
	*s = p;
	return true;
}

/* queue ids "a b c" as a one-dimensional text[] ({} when none). */
static char *
put_qids(char *p, const char *s)
{
	char *lenp = p;
	const char *cur = s, *w;
	uint32_t n = 0;
	size_t len;

	while (next_word(&cur, &w, &len))
		n++;
	p += 4; /* the field's length, known at the end */
	p = put_be32(p, n > 0 ? 1 : 0); /* dimensions */
	p = put_be32(p, 0);		/* no NULL elements */
	p = put_be32(p, PG_TEXTOID);
	if (n > 0) {
		p = put_be32(p, n);
		p = put_be32(p, 1); /* lower bound */
		for (cur = s; next_word(&cur, &w, &len);) {
			p = put_be32(p, (uint32_t)len);
			memcpy(p, w, len);
			p += len;
		}
	}
	(void)put_be32(lenp, (uint32_t)(p - lenp - 4));
	return p;
}

/* One tuple; returns the end.  out has room for COPY_ROW_MAX bytes. */
static char *
copy_row(char *p, const struct tls_event *ev)
{
	p = put_be16(p, COPY_NFIELDS);
	p = put_be32(p, 8);
	p = put_be64(p, (uint64_t)(ev->ts_us - PG_EPOCH_US));
	p = put_text(p, ev_source_name(ev->source));
	p = put_text(p, ev->host);
	p = put_text(p, ev_dir_name(ev->dir));
	p = put_text(p, ev->domain);
	p = put_text(p, ev->peer_host);
	p = put_inet(p, ev->peer_ip);
	p = put_int4(p, ev->peer_port, true);
	p = put_text(p, ev->peer_helo);
	p = put_inet(p, ev->local_ip);
	p = put_int4(p, ev->local_port, true);
	p = put_text(p, ev_tls_name(ev->tls));
	p = put_text(p, ev->tls_version);
	p = put_text(p, ev->cipher);
	p = put_int4(p, ev->cipher_bits, true);
	p = put_text(p, ev_trust_name(ev->trust));
	p = put_text(p, ev_result_name(ev->result));
	p = put_text(p, ev->reason);
	p = put_text(p, ev_policy_name(ev->policy));
	p = put_int4(p, ev->messages, false);
	p = put_text(p, ev_status_name(ev->status));
	p = put_qids(p, ev->queue_ids);
	p = put_text(p, ev->origin);
	p = put_be32(p, 1); /* bool */
	*p++ = (ev->flags & EV_F_OWN_REPORT) ? 1 : 0;
	return p;
}

static int
copy_batch(struct store *st, const struct batch *b)
{
	char trailer[2];
	PGresult *res;
	size_t off, n;
	int rc = 0;

	res = PQexec(st->db,
	    "COPY sessions (ts, source, host, direction, domain, peer_host,"
	    " peer_ip, peer_port, peer_helo, local_ip, local_port, tls,"
	    " tls_version, cipher, cipher_bits, trust, result, reason,"
	    " policy, messages, status, queue_ids, origin, own_report)"
	    " FROM STDIN (FORMAT binary)");
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		log_warnx("store: copy: %s", PQerrorMessage(st->db));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	(void)put_be16(trailer, UINT16_MAX); /* -1 */
	if (PQputCopyData(st->db, copy_header, COPY_HEADER_LEN) != 1)
		rc = -1;
	for (off = 0; rc == 0 && off < b->len; off += n) {
		n = b->len - off < STORE_COPY_CHUNK ? b->len - off
						    : STORE_COPY_CHUNK;
		if (PQputCopyData(st->db, b->rows + off, (int)n) != 1)
			rc = -1;
	}
	if (rc == 0 && PQputCopyData(st->db, trailer, 2) != 1)
		rc = -1;
	if (PQputCopyEnd(st->db, rc == 0 ? NULL : "aborted") != 1) {
		log_warnx("store: copy: %s", PQerrorMessage(st->db));
		return -1;
	}
	while ((res = PQgetResult(st->db)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			if (rc == 0)
				log_warnx(
				    "store: copy: %s", PQerrorMessage(st->db));
			rc = -1;
		}
		PQclear(res);
	}
	return rc;
}

/* The rollup key of an event, and its hash (FNV-1a). */
static void
rkey_of(const struct tls_event *ev, struct rkey *k)
{
	const unsigned char *c;
	uint32_t h = 2166136261u;

	memset(k, 0, sizeof(*k));
	k->day = ev_day(ev);
	k->dir = (uint8_t)ev->dir;
	k->tls = (uint8_t)ev->tls;
	k->result = (uint8_t)ev->result;
	k->trust = (uint8_t)ev->trust;
	k->dom_len = (uint16_t)strlen(ev->domain);
	for (c = (const unsigned char *)ev->domain; *c != '\0'; c++)
		h = (h ^ *c) * 16777619u;
	h = (h ^ (uint32_t)k->day) * 16777619u;
	h = (h ^ ((uint32_t)k->dir << 24 | (uint32_t)k->tls << 16 |
		     (uint32_t)k->result << 8 | k->trust)) *
	    16777619u;
	k->hash = h;
}

static bool
rkey_same(const struct batch *b, const struct rkey *k, const struct rkey *e,
    const char *domain)
{
	return e->hash == k->hash && e->day == k->day && e->dir == k->dir &&
	       e->tls == k->tls && e->result == k->result &&
	       e->trust == k->trust && e->dom_len == k->dom_len &&
	       memcmp(b->dom + e->dom_off, domain, k->dom_len) == 0;
}

/* Add an event's session and messages to its rollup row. */
static void
batch_roll(struct batch *b, const struct tls_event *ev)
{
	struct rkey k, *e;
	size_t i;

	rkey_of(ev, &k);
	for (i = k.hash & (b->nslot - 1); b->slot[i] != 0;
	     i = (i + 1) & (b->nslot - 1)) {
		e = &b->key[b->slot[i] - 1];
		if (rkey_same(b, &k, e, ev->domain)) {
			e->sessions++;
			e->messages += ev->messages;
			return;
		}
	}
	/* A new row (at most one per event: nkey <= maxev < nslot). */
	if (b->domlen + k.dom_len + 1 > b->domcap) {
		b->domcap = (b->domlen + k.dom_len + 1) * 2;
		b->dom = xreallocarray(b->dom, b->domcap, 1);
	}
	k.dom_off = b->domlen;
	memcpy(b->dom + b->domlen, ev->domain, k.dom_len + 1u);
	b->domlen += k.dom_len + 1u;
	k.sessions = 1;
	k.messages = ev->messages;
	b->key[b->nkey++] = k;
	b->slot[i] = (uint32_t)b->nkey;
}

static void
batch_init(struct batch *b, size_t maxev)
{
	memset(b, 0, sizeof(*b));
	b->key = xreallocarray(NULL, maxev, sizeof(*b->key));
	for (b->nslot = 16; b->nslot < 2 * maxev; b->nslot *= 2)
		;
	b->slot = xcalloc(b->nslot, sizeof(*b->slot));
}

static void
batch_reset(struct batch *b)
{
	if (b->nkey > 0)
		memset(b->slot, 0, b->nslot * sizeof(*b->slot));
	b->len = 0;
	b->nev = 0;
	b->nkey = 0;
	b->domlen = 0;
	b->nck = 0;
}

static void
batch_free(struct batch *b)
{
	free(b->rows);
	free(b->key);
	free(b->slot);
	free(b->dom);
}

/* Sort key of the rollup: (day, direction, domain, tls, result, trust). */
static int
rollup_cmp(const void *a, const void *b, void *arg)
{
	const struct batch *bt = arg;
	const struct rkey *x = &bt->key[*(const size_t *)a];
	const struct rkey *y = &bt->key[*(const size_t *)b];
	int c;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	if ((c = strcmp(bt->dom + x->dom_off, bt->dom + y->dom_off)) != 0)
		return c;
	if (x->tls != y->tls)
		return x->tls < y->tls ? -1 : 1;
	if (x->result != y->result)
		return x->result < y->result ? -1 : 1;
	if (x->trust != y->trust)
		return x->trust < y->trust ? -1 : 1;
	return 0;
}

/* Append one element to a PostgreSQL array literal, quoted. */
static int
arr_add(struct buf *b, const char *s)
{
	/* The buffer starts as "{"; later elements need a comma. */
	if ((b->len > 1 && buf_addc(b, ',') == -1) || buf_addc(b, '"') == -1)
		return -1;
	for (; *s != '\0'; s++) {
		if ((*s == '"' || *s == '\\') && buf_addc(b, '\\') == -1)
			return -1;
		if (buf_addc(b, *s) == -1)
			return -1;
	}
	return buf_addc(b, '"');
}

enum {
	RA_DAY,
	RA_DIR,
	RA_DOMAIN,
	RA_TLS,
	RA_RESULT,
	RA_TRUST,
	RA_SESS,
	RA_MSGS,
	RA_N
};

static const char *
nz(const char *s)
{
	return s ? s : "";
}

static int
rollup(struct store *st, struct batch *b)
{
	struct buf a[RA_N];
	const char *params[RA_N];
	char day[16], num[24];
	size_t i, k;
	int rc = -1;

	for (i = 0; i < b->nkey; i++)
		st->idx[i] = i;
	qsort_r(st->idx, b->nkey, sizeof(*st->idx), rollup_cmp, b);
	for (k = 0; k < RA_N; k++) {
		buf_init(&a[k], STORE_ARRAY_MAX);
		if (buf_addc(&a[k], '{') == -1)
			goto out;
	}
	for (i = 0; i < b->nkey; i++) {
		const struct rkey *e = &b->key[st->idx[i]];

		day_text(e->day, day);
		if (arr_add(&a[RA_DAY], day) == -1 ||
		    arr_add(&a[RA_DIR], nz(ev_dir_name(e->dir))) == -1 ||
		    arr_add(&a[RA_DOMAIN], b->dom + e->dom_off) == -1 ||
		    arr_add(&a[RA_TLS], nz(ev_tls_name(e->tls))) == -1 ||
		    arr_add(&a[RA_RESULT], nz(ev_result_name(e->result))) ==
			-1 ||
		    arr_add(&a[RA_TRUST], nz(ev_trust_name(e->trust))) == -1)
			goto out;
		(void)snprintf(
		    num, sizeof(num), "%llu", (unsigned long long)e->sessions);
		if (arr_add(&a[RA_SESS], num) == -1)
			goto out;
		(void)snprintf(
		    num, sizeof(num), "%llu", (unsigned long long)e->messages);
		if (arr_add(&a[RA_MSGS], num) == -1)
			goto out;
	}
	for (k = 0; k < RA_N; k++) {
		if (buf_addc(&a[k], '}') == -1)
			goto out;
		params[k] = a[k].p;
	}
	if (!db_exec(st->db, "rollup", NULL, PGRES_COMMAND_OK,
		"INSERT INTO daily AS d (day, direction, domain, tls, result,"
		" trust, sessions, messages)"
		" SELECT * FROM unnest($1::date[], $2::text[], $3::text[],"
		" $4::text[], $5::text[], $6::text[], $7::bigint[],"
		" $8::bigint[])"
		" ON CONFLICT (day, direction, domain, tls, result, trust)"
		" DO UPDATE SET sessions = d.sessions + EXCLUDED.sessions,"
		" messages = d.messages + EXCLUDED.messages",
		RA_N, params))
		goto out;
	rc = 0;
out:
	for (k = 0; k < RA_N; k++)
		buf_free(&a[k]);
	return rc;
}

static int save_counters(struct store *, const struct store_ckpt *);

static int
save_ckpts(struct store *st, const struct batch *b)
{
	char inode[24], off[24], resume[24];
	const char *params[8];
	size_t i;

	for (i = 0; i < b->nck; i++) {
		const struct store_ckpt *ck = &b->ck[i];

		(void)snprintf(
		    inode, sizeof(inode), "%lld", (long long)ck->inode);
		(void)snprintf(off, sizeof(off), "%lld", (long long)ck->offset);
		(void)snprintf(
		    resume, sizeof(resume), "%lld", (long long)ck->resume);
		params[0] = ck->kind;
		params[1] = st->host;
		params[2] = ck->name;
		params[3] = ck->inode >= 0 ? inode : NULL;
		params[4] = off;
		params[5] = ck->first_hash;
		params[6] = ck->cursor;
		params[7] = resume;
		if (!db_exec(st->db, "save checkpoint", NULL, PGRES_COMMAND_OK,
			"INSERT INTO checkpoints (kind, host, name, inode, off,"
			" first_hash, cursor, resume_off, updated)"
			" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())"
			" ON CONFLICT (kind, host, name) DO UPDATE SET"
			" inode = EXCLUDED.inode, off = EXCLUDED.off,"
			" resume_off = EXCLUDED.resume_off,"
			" first_hash = EXCLUDED.first_hash,"
			" cursor = EXCLUDED.cursor, updated = now()",
			8, params))
			return -1;
		if (ck->counters.set && save_counters(st, ck) == -1)
			return -1;
	}
	return 0;
}

/* Unix microseconds as a timestamptz parameter ("" for none). */
static const char *
us_param(char *buf, size_t len, int64_t us)
{
	if (us <= 0)
		return NULL;
	(void)snprintf(buf, len, "%lld.%06lld", (long long)(us / 1000000),
	    (long long)(us % 1000000));
	return buf;
}

static int
save_counters(struct store *st, const struct store_ckpt *ck)
{
	const struct store_counters *c = &ck->counters;
	char num[9][24], started[40], last[40];
	const uint64_t v[9] = {c->lines, c->events, c->other, c->unused,
	    c->malformed, c->truncated, c->badtime, c->evicted, c->expired};
	const char *params[14];
	int i;

	params[0] = ck->kind;
	params[1] = st->host;
	params[2] = ck->name;
	params[3] = us_param(started, sizeof(started), c->started_us);
	params[4] = us_param(last, sizeof(last), c->last_event_us);
	for (i = 0; i < 9; i++) {
		(void)snprintf(
		    num[i], sizeof(num[i]), "%llu", (unsigned long long)v[i]);
		params[5 + i] = num[i];
	}
	return db_exec(st->db, "save counters", NULL, PGRES_COMMAND_OK,
		   "INSERT INTO collector_counters (kind, host, name, started,"
		   " last_event, lines, events, other, unused, malformed,"
		   " truncated, badtime, evicted, expired, updated)"
		   " VALUES ($1, $2, $3, to_timestamp($4::float8),"
		   " to_timestamp($5::float8), $6, $7, $8, $9, $10, $11,"
		   " $12, $13, $14, now())"
		   " ON CONFLICT (kind, host, name) DO UPDATE SET"
		   " started = EXCLUDED.started,"
		   " last_event = coalesce(EXCLUDED.last_event,"
		   " collector_counters.last_event),"
		   " lines = EXCLUDED.lines, events = EXCLUDED.events,"
		   " other = EXCLUDED.other, unused = EXCLUDED.unused,"
		   " malformed = EXCLUDED.malformed,"
		   " truncated = EXCLUDED.truncated,"
		   " badtime = EXCLUDED.badtime, evicted = EXCLUDED.evicted,"
		   " expired = EXCLUDED.expired, updated = now()",
		   14, params)
		   ? 0
		   : -1;
}

/* The writer's side: one attempt at committing b.  Called under dbmu. */
static int
ensure_conn(struct store *st, bool quiet)
{
	if (st->db != NULL && PQstatus(st->db) == CONNECTION_OK)
		return 0;
	PQfinish(st->db);
	st->ndays = 0; /* a new server may lack partitions */
	st->db = db_connect(st->conninfo, quiet);
	return st->db == NULL ? -1 : 0;
}

/*
 * Returns 0 committed, -1 not (why says what failed).  A batch whose
 * COMMIT answer was lost is decided by reading its checkpoints back.
 */
static int
write_batch(struct store *st, struct batch *b, bool quiet, const char **why)
{
	PGresult *res;
	int r;

	*why = "write failed";
	if (ensure_conn(st, quiet) == -1) {
		*why = "database unavailable";
		return -1;
	}
	if (st->uncertain) {
		if ((r = reconcile(st, b)) == -1) {
			*why = "cannot read checkpoints back";
			return -1;
		}
		st->uncertain = false;
		if (r == 1) {
			log_info("store: the interrupted commit of %zu events "
				 "had succeeded",
			    b->nev);
			return 0;
		}
	}
	if (ensure_days(st, b) == -1)
		goto fail;
	if (!db_exec(st->db, "begin", NULL, PGRES_COMMAND_OK, "BEGIN", 0, NULL))
		goto fail;
	if ((b->nev > 0 && (copy_batch(st, b) == -1 || rollup(st, b) == -1)) ||
	    save_ckpts(st, b) == -1) {
		PQclear(PQexec(st->db, "ROLLBACK"));
		goto fail;
	}
	res = PQexec(st->db, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		/* Lost connection while committing: outcome unknown. */
		if (PQstatus(st->db) != CONNECTION_OK)
			st->uncertain = true;
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	return 0;
fail:
	if (PQstatus(st->db) != CONNECTION_OK) {
		*why = "database connection lost";
		PQfinish(st->db);
		st->db = NULL;
	}
	return -1;
}

/* Under mu: the outcome of an attempt at `work'. */
static void
work_done(struct store *st)
{
	st->st.events += st->work.nev;
	st->st.batches++;
	batch_reset(&st->work);
	if (st->down) {
		log_info("store: database is back after %lld s; writing "
			 "again",
		    (long long)(time(NULL) - st->down_since));
		st->down = false;
	}
	st->backoff = 0;
	st->state = W_IDLE;
}

static void
work_failed(struct store *st, const char *why)
{
	struct timespec now;
	double s;

	st->st.failures++;
	if (!st->down) {
		log_warnx("store: %s; keeping %zu events and retrying with "
			  "back-off",
		    why, st->work.nev);
		st->down = true;
		st->down_since = time(NULL);
	}
	st->backoff = st->backoff == 0 ? 0.1 : st->backoff * 2;
	if (st->backoff > (double)st->retry_max)
		st->backoff = (double)st->retry_max;
	(void)mono_now(&now);
	s = st->backoff;
	st->next_try.tv_sec = now.tv_sec + (time_t)s;
	st->next_try.tv_nsec =
	    now.tv_nsec + (long)((s - (double)(time_t)s) * 1e9);
	if (st->next_try.tv_nsec >= 1000000000L) {
		st->next_try.tv_sec++;
		st->next_try.tv_nsec -= 1000000000L;
	}
	st->state = W_WAITING;
}

static void *
writer(void *arg)
{
	struct store *st = arg;
	struct timespec now;
	const char *why;
	bool quiet, conn;
	int r;

	(void)pthread_mutex_lock(&st->mu);
	for (;;) {
		if (st->state == W_WAITING && !st->stop &&
		    mono_now(&now) < ts_sec(&st->next_try)) {
			(void)pthread_cond_timedwait(
			    &st->cv, &st->mu, &st->next_try);
			continue;
		}
		if (st->state == W_IDLE && !st->stop) {
			(void)pthread_cond_wait(&st->cv, &st->mu);
			continue;
		}
		/* Stopping: one last attempt at a batch handed over. */
		if (st->stop && st->state != W_BUSY)
			break;
		st->state = W_BUSY;
		quiet = st->down;
		(void)pthread_mutex_unlock(&st->mu);

		(void)pthread_mutex_lock(&st->dbmu);
		r = write_batch(st, &st->work, quiet, &why);
		conn = st->db != NULL;
		(void)pthread_mutex_unlock(&st->dbmu);

		(void)pthread_mutex_lock(&st->mu);
		st->st.connected = conn;
		if (r == 0)
			work_done(st);
		else
			work_failed(st, why);
		(void)pthread_cond_broadcast(&st->cv);
	}
	(void)pthread_mutex_unlock(&st->mu);
	return NULL;
}

struct store *
store_open(const char *conninfo, size_t batch_max)
{
	struct store *st = xcalloc(1, sizeof(*st));
	pthread_condattr_t ca;
	sigset_t all, old;
	int e;

	st->conninfo = xstrdup(conninfo);
	st->host = xstrdup(config_hostname());
	st->maxev = batch_max ? batch_max : 1;
	st->maxbytes = st->maxev * COPY_ROW_AVG_MAX;
	if (st->maxbytes < COPY_ROW_MAX)
		st->maxbytes = COPY_ROW_MAX;
	batch_init(&st->fill, st->maxev);
	batch_init(&st->work, st->maxev);
	st->idx = xreallocarray(NULL, st->maxev, sizeof(*st->idx));
	st->retry_max = cf_retry_max;
	(void)mono_now(&st->last_flush);
	if (pthread_mutex_init(&st->mu, NULL) != 0 ||
	    pthread_mutex_init(&st->dbmu, NULL) != 0)
		panic("store: mutex init");
	/* next_try is on CLOCK_MONOTONIC, and so are the waits. */
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&st->cv, &ca) != 0)
		panic("store: cond init");
	(void)pthread_condattr_destroy(&ca);
	/* Signals stay with the caller's thread. */
	(void)sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((e = pthread_create(&st->thr, NULL, writer, st)) != 0)
		panic("store: cannot start the writer thread: %s", strerror(e));
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	st->thr_started = true;
	return st;
}

void
store_free(struct store *st)
{
	size_t lost;

	if (st == NULL)
		return;
	(void)pthread_mutex_lock(&st->mu);
	st->stop = true;
	(void)pthread_cond_broadcast(&st->cv);
	(void)pthread_mutex_unlock(&st->mu);
	if (st->thr_started)
		(void)pthread_join(st->thr, NULL);
	lost = st->fill.nev + st->work.nev;
	if (lost > 0)
		log_warnx("store: %zu events not flushed", lost);
	PQfinish(st->db);
	(void)pthread_mutex_destroy(&st->mu);
	(void)pthread_mutex_destroy(&st->dbmu);
	(void)pthread_cond_destroy(&st->cv);
	free(st->conninfo);
	free(st->host);
	batch_free(&st->fill);
	batch_free(&st->work);
	free(st->idx);
	free(st);
}

int
store_load_ckpt(
    struct store *st, const char *kind, const char *name, struct store_ckpt *ck)
{
	bool quiet;
	int r;

	(void)pthread_mutex_lock(&st->mu);
	quiet = st->down;
	(void)pthread_mutex_unlock(&st->mu);
	(void)pthread_mutex_lock(&st->dbmu);
	r = ensure_conn(st, quiet) == -1
		? -1
		: load_ckpt(st->db, st->host, kind, name, ck);
	quiet = st->db != NULL; /* now: connected */
	(void)pthread_mutex_unlock(&st->dbmu);
	(void)pthread_mutex_lock(&st->mu);
	st->st.connected = quiet;
	(void)pthread_mutex_unlock(&st->mu);
	return r;
}

/* The caller's batch: only the caller's thread touches `fill'. */
int
store_add(struct store *st, const struct tls_event *ev)
{
	struct batch *b = &st->fill;
	size_t cap;

	if (store_full(st))
		return -1;
	if (b->len + COPY_ROW_MAX > b->cap) {
		cap = b->cap * 2 > b->len + COPY_ROW_MAX
			  ? b->cap * 2
			  : b->len + COPY_ROW_MAX;
		b->cap = cap < st->maxbytes ? cap : st->maxbytes;
		b->rows = xreallocarray(b->rows, b->cap, 1);
	}
	b->len = (size_t)(copy_row(b->rows + b->len, ev) - b->rows);
	batch_roll(b, ev);
	b->nev++;
	return 0;
}

void
store_set_ckpt(struct store *st, const struct store_ckpt *ck)
{
	struct batch *b = &st->fill;
	size_t i;

	for (i = 0; i < b->nck; i++)
		if (strcmp(b->ck[i].kind, ck->kind) == 0 &&
		    strcmp(b->ck[i].name, ck->name) == 0) {
			b->ck[i] = *ck;
			return;
		}
	if (b->nck == STORE_CKPT_MAX)
		panic(
		    "store: more than %d sources in one batch", STORE_CKPT_MAX);
	b->ck[b->nck++] = *ck;
}

bool
store_full(const struct store *st)
{
	const struct batch *b = &st->fill;

	return b->nev == st->maxev ||
	       (b->nev > 0 && b->len + COPY_ROW_MAX > st->maxbytes);
}

size_t
store_pending(struct store *st)
{
	size_t n;

	(void)pthread_mutex_lock(&st->mu);
	n = st->fill.nev + st->work.nev;
	(void)pthread_mutex_unlock(&st->mu);
	return n;
}

bool
store_due(const struct store *st)
{
	struct timespec now;

	if (st->fill.nev == 0 && st->fill.nck == 0)
		return false;
	if (store_full(st))
		return true;
	return (mono_now(&now) - ts_sec(&st->last_flush)) * 1000.0 >=
	       (double)cf_flush_interval;
}

void
store_stats(struct store *st, struct store_stats *out)
{
	(void)pthread_mutex_lock(&st->mu);
	*out = st->st;
	(void)pthread_mutex_unlock(&st->mu);
}

/* Under mu, writer idle: give it the caller's batch. */
static void
hand_over(struct store *st)
{
	struct batch tmp = st->work;

	st->work = st->fill;
	st->fill = tmp;
	batch_reset(&st->fill);
	st->retry_max = cf_retry_max;
	st->state = W_BUSY;
	(void)mono_now(&st->last_flush);
	(void)pthread_cond_broadcast(&st->cv);
}

int
store_push(struct store *st)
{
	int rc = 0;

	if (st->fill.nev == 0 && st->fill.nck == 0) {
		(void)mono_now(&st->last_flush);
		return 0;
	}
	(void)pthread_mutex_lock(&st->mu);
	/* A full batch waits for the commit in flight; it cannot grow. */
	while (st->state == W_BUSY && store_full(st))
		(void)pthread_cond_wait(&st->cv, &st->mu);
	if (st->state == W_IDLE)
		hand_over(st);
	else if (st->state == W_WAITING)
		rc = -1;
	(void)pthread_mutex_unlock(&st->mu);
	return rc;
}

int
store_flush(struct store *st)
{
	int rc;

	(void)pthread_mutex_lock(&st->mu);
	for (;;) {
		if (st->state == W_WAITING) {
			rc = -1;
			break;
		}
		if (st->state == W_BUSY) {
			(void)pthread_cond_wait(&st->cv, &st->mu);
			continue;
		}
		if (st->fill.nev == 0 && st->fill.nck == 0) {
			(void)mono_now(&st->last_flush);
			rc = 0;
			break;
		}
		hand_over(st);
	}
	(void)pthread_mutex_unlock(&st->mu);
	return rc;
}
