/*
 * flow.c - the flow table and TCP reassembly (see flow.h)
 *
 * Input: decoded TCP segments from any capture, untrusted: sequence
 * numbers, flags and lengths can be anything, and nothing here trusts
 * them to be consistent.  RFC 9293 3.4 (sequence space, modulo 2^32
 * comparisons) and 3.10.7.4 (segment trimming) are what the reassembly
 * follows; like Suricata's stream engine it gives the consumer each byte
 * once, in order, and says where bytes are missing instead of guessing.
 *
 * Memory: every flow, every waiting segment and (through the consumer's
 * mem callback) every consumer buffer is counted; when the count of
 * flows or of bytes passes the cap, the least recently active flows are
 * ended (tombstones first), and counted.  Idle flows end by packet time,
 * so a capture file replays the same way however fast it is read.
 * Single-threaded.
 */
#include "collector/flow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/log.h"
#include "common/xmalloc.h"

struct flow_seg {
	struct flow_seg *next;
	uint32_t seq;
	uint32_t len;	 /* bytes on the wire */
	uint32_t caplen; /* bytes here (< len: the rest was not captured) */
	uint8_t data[];
};

struct flow_half {
	uint32_t next;	  /* next sequence number to deliver */
	uint32_t fin_seq; /* sequence number of the FIN */
	bool started;	  /* next is known */
	bool fin;
	struct flow_seg *ooo; /* waiting segments, by sequence number */
	size_t ooo_bytes;
	unsigned ooo_n;
};

struct flow_key {
	uint8_t a[16], b[16]; /* endpoints, a <= b as (address, port) */
	uint16_t pa, pb;
	uint8_t family;
	uint8_t pad[3];
};

struct flow {
	struct flow_key key;
	struct flow *hnext;	  /* hash chain */
	struct flow *prev, *next; /* LRU list (live or tombstones) */
	struct flow_info info;
	struct flow_half half[2]; /* enum flow_dir */
	uint32_t cisn;		  /* client's SYN sequence number */
	bool c_is_a;		  /* the client is key endpoint a */
	bool syn_seen;
	bool unwanted[2]; /* the consumer said it is done */
	int64_t lru_us;	  /* when it was last moved in the LRU */
	size_t umem;	  /* consumer bytes last counted */
};

struct flow_list {
	struct flow *head, *tail;
};

/*
 * What is left of a closed connection for FLOW_LINGER_US: enough to know
 * its late packets.  Small and in a table of its own, so that the live
 * table stays small enough for the cache.
 */
struct flow_tomb {
	struct flow_key key;
	struct flow_tomb *hnext, *prev, *next;
	uint32_t cisn; /* the client's SYN: a new SYN is a new connection */
	int64_t last_us;
};

struct flow_table {
	struct flow_conf conf;
	struct flow_ops ops;
	struct flow **bucket;
	size_t nbucket; /* a power of two */
	uint64_t seed;
	size_t nflows; /* live + tombstones */
	struct flow_list live;
	struct flow_tomb **tbucket; /* tombstones */
	size_t ntbucket, ntombs;
	struct flow_tomb *dead_head, *dead_tail, *tspare;
	size_t ntspare;
	int64_t now_us;
	struct flow *spare; /* freed flows for reuse, via hnext */
	size_t nspare;
	struct flow_stats st;
};

#define FLOW_SIZE (sizeof(struct flow))

_Static_assert(sizeof(struct flow_key) == 40, "flow_key is hashed as 5 words");

void
flow_port_set(uint8_t *set, uint16_t p)
{
	set[p >> 3] = (uint8_t)(set[p >> 3] | 1u << (p & 7));
}

bool
flow_port_isset(const uint8_t *set, uint16_t p)
{
	return (set[p >> 3] >> (p & 7)) & 1;
}

static void
fl_unlink(struct flow_list *l, struct flow *f)
{
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		l->head = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	else
		l->tail = f->prev;
	f->prev = f->next = NULL;
}

static void
fl_append(struct flow_list *l, struct flow *f)
{
	f->next = NULL;
	f->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = f;
	else
		l->head = f;
	l->tail = f;
}

static uint64_t
fl_hash(const struct flow_table *t, const struct flow_key *k)
{
	uint64_t w[5], h = t->seed;
	size_t i;

	memcpy(w, k, sizeof(w));
	for (i = 0; i < 5; i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return h;
}

static void
fl_mem(struct flow_table *t, size_t add, size_t sub)
{
	t->st.mem += add;
	t->st.mem -= sub;
	if (t->st.mem > t->st.mem_peak)
		t->st.mem_peak = t->st.mem;
}

struct flow_table *
flow_table_new(const struct flow_conf *conf, const struct flow_ops *ops)
{
	struct flow_table *t = xcalloc(1, sizeof(*t));

	t->conf = *conf;
	t->ops = *ops;
	if (t->conf.max_flows < 16)
		t->conf.max_flows = 16;
	t->nbucket = 1024; /* grows with the flows (fl_grow) */
	t->bucket = xcalloc(t->nbucket, sizeof(*t->bucket));
	t->ntbucket = 1024;
	t->tbucket = xcalloc(t->ntbucket, sizeof(*t->tbucket));
	/* A seed an attacker cannot guess keeps the chains short. */
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x5bd1e9955bd1e995ULL;
	fl_mem(t, (t->nbucket + t->ntbucket) * sizeof(*t->bucket), 0);
	return t;
}

static void
fl_free_ooo(struct flow_table *t, struct flow_half *h)
{
	struct flow_seg *s, *n;

	for (s = h->ooo; s != NULL; s = n) {
		n = s->next;
		fl_mem(t, 0, sizeof(*s) + s->caplen);
		free(s);
	}
	h->ooo = NULL;
	h->ooo_bytes = 0;
	h->ooo_n = 0;
}

/* Re-count what the consumer holds after it was handed something. */
static void
fl_umem(struct flow_table *t, struct flow *f)
{
	size_t m;

	if (t->ops.mem == NULL || f->info.user == NULL)
		m = 0;
	else
		m = t->ops.mem(t->ops.arg, &f->info);
	fl_mem(t, m, f->umem);
	f->umem = m;
}

/* The consumer's "done" is for good: remember it, spare the call. */
static bool
fl_wants(struct flow_table *t, struct flow *f, enum flow_dir d)
{
	if (f->unwanted[d])
		return false;
	if (t->ops.wants(t->ops.arg, &f->info, d))
		return true;
	f->unwanted[d] = true;
	return false;
}

/* End a live flow: report holes, tell the consumer, free its state. */
static void
fl_end(struct flow_table *t, struct flow *f, enum flow_end why)
{
	int d;

	for (d = 0; d < 2; d++) {
		const struct flow_half *h = &f->half[d];

		/* Bytes wait behind a hole, or a hole before the FIN. */
		if ((h->ooo != NULL || (h->fin && h->next != h->fin_seq)) &&
		    fl_wants(t, f, (enum flow_dir)d)) {
			t->st.gaps++;
			t->ops.gap(t->ops.arg, &f->info, (enum flow_dir)d);
		}
		fl_free_ooo(t, &f->half[d]);
	}
	t->ops.end(t->ops.arg, &f->info, why);
	f->info.user = NULL;
	fl_mem(t, 0, f->umem);
	f->umem = 0;
	t->st.active--;
	switch (why) {
	case FLOW_END_CLOSED:
		t->st.closed++;
		break;
	case FLOW_END_IDLE:
		t->st.idle++;
		break;
	case FLOW_END_EVICTED:
		t->st.evicted++;
		break;
	case FLOW_END_FLUSH:
		t->st.flushed++;
		break;
	}
}

/* Remove a live flow from the table and free it. */
static void
fl_remove(struct flow_table *t, struct flow *f)
{
	struct flow **pp = &t->bucket[fl_hash(t, &f->key) & (t->nbucket - 1)];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	fl_unlink(&t->live, f);
	t->nflows--;
	fl_mem(t, 0, FLOW_SIZE);
	if (t->nspare < FLOW_SPARE_MAX) {
		f->hnext = t->spare;
		t->spare = f;
		t->nspare++;
	} else
		free(f);
}

static struct flow_tomb *
fl_tfind(struct flow_table *t, const struct flow_key *k)
{
	struct flow_tomb *b;

	for (b = t->tbucket[fl_hash(t, k) & (t->ntbucket - 1)]; b != NULL;
	     b = b->hnext)
		if (memcmp(&b->key, k, sizeof(*k)) == 0)
			return b;
	return NULL;
}

static void
fl_tremove(struct flow_table *t, struct flow_tomb *b)
{
	struct flow_tomb **pp =
	    &t->tbucket[fl_hash(t, &b->key) & (t->ntbucket - 1)];

	while (*pp != b)
		pp = &(*pp)->hnext;
	*pp = b->hnext;
	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		t->dead_head = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	else
		t->dead_tail = b->prev;
	t->ntombs--;
	t->nflows--;
	fl_mem(t, 0, sizeof(*b));
	if (t->ntspare < FLOW_SPARE_MAX) {
		b->hnext = t->tspare;
		t->tspare = b;
		t->ntspare++;
	} else
		free(b);
}

static void
fl_tgrow(struct flow_table *t)
{
	struct flow_tomb **nb, *b, *n;
	size_t i, size = t->ntbucket * 2, h;

	nb = xcalloc(size, sizeof(*nb));
	for (i = 0; i < t->ntbucket; i++)
		for (b = t->tbucket[i]; b != NULL; b = n) {
			n = b->hnext;
			h = fl_hash(t, &b->key) & (size - 1);
			b->hnext = nb[h];
			nb[h] = b;
		}
	free(t->tbucket);
	fl_mem(t, size * sizeof(*nb), t->ntbucket * sizeof(*nb));
	t->tbucket = nb;
	t->ntbucket = size;
}

/* A live flow closed by FIN/RST: end it and leave a tombstone. */
static void
fl_close(struct flow_table *t, struct flow *f)
{
	struct flow_tomb *b;
	size_t h;

	if ((b = t->tspare) != NULL) {
		t->tspare = b->hnext;
		t->ntspare--;
	} else
		b = xmalloc(sizeof(*b));
	b->key = f->key;
	b->cisn = f->cisn;
	b->last_us = f->info.last_us;
	fl_end(t, f, FLOW_END_CLOSED);
	fl_remove(t, f);
	if (t->ntombs >= t->ntbucket && t->ntbucket < (1u << 26))
		fl_tgrow(t);
	h = fl_hash(t, &b->key) & (t->ntbucket - 1);
	b->hnext = t->tbucket[h];
	t->tbucket[h] = b;
	b->next = NULL;
	b->prev = t->dead_tail;
	if (t->dead_tail != NULL)
		t->dead_tail->next = b;
	else
		t->dead_head = b;
	t->dead_tail = b;
	t->ntombs++;
	t->nflows++;
	fl_mem(t, sizeof(*b), 0);
}

/* Make room for one more flow, or for memory: oldest first. */
static void
fl_room(struct flow_table *t, bool one_more)
{
	struct flow *f;

	while ((one_more && t->nflows >= t->conf.max_flows) ||
	       (t->conf.memcap > 0 && t->st.mem > t->conf.memcap)) {
		if (t->dead_head != NULL) {
			fl_tremove(t, t->dead_head);
			continue;
		}
		if ((f = t->live.head) == NULL)
			return;
		fl_end(t, f, FLOW_END_EVICTED);
		fl_remove(t, f);
	}
}

void
flow_expire(struct flow_table *t, int64_t now_us)
{
	struct flow *f;

	if (now_us > t->now_us)
		t->now_us = now_us;
	while (t->dead_head != NULL &&
	       t->now_us - t->dead_head->last_us > FLOW_LINGER_US)
		fl_tremove(t, t->dead_head);
	while ((f = t->live.head) != NULL &&
	       t->now_us - f->lru_us > t->conf.idle_us) {
		if (t->now_us - f->info.last_us <= t->conf.idle_us) {
			/* Active since it was last moved: move it now. */
			fl_unlink(&t->live, f);
			fl_append(&t->live, f);
			f->lru_us = f->info.last_us;
			continue;
		}
		fl_end(t, f, FLOW_END_IDLE);
		fl_remove(t, f);
	}
}

static void
fl_key(const struct flow_pkt *p, struct flow_key *k, bool *src_is_a)
{
	size_t alen = p->family == 4 ? 4 : 16;
	int c;

	memset(k, 0, sizeof(*k));
	k->family = p->family;
	c = memcmp(p->src, p->dst, alen);
	*src_is_a = c < 0 || (c == 0 && p->sport <= p->dport);
	memcpy(k->a, *src_is_a ? p->src : p->dst, alen);
	memcpy(k->b, *src_is_a ? p->dst : p->src, alen);
	k->pa = *src_is_a ? p->sport : p->dport;
	k->pb = *src_is_a ? p->dport : p->sport;
}

static struct flow *
fl_find(struct flow_table *t, const struct flow_key *k)
{
	struct flow *f;

	for (f = t->bucket[fl_hash(t, k) & (t->nbucket - 1)]; f != NULL;
	     f = f->hnext)
		if (memcmp(&f->key, k, sizeof(*k)) == 0)
			return f;
	return NULL;
}

/*
 * Who opened the connection: the sender of a SYN, the receiver of a
 * SYN-ACK, else the side not on a server port (the lower port when both
 * are).  Returns false for a packet of no server port.
 */
static bool
fl_sender_is_client(
    const struct flow_table *t, const struct flow_pkt *p, bool *client)
{
	bool s_srv = flow_port_isset(t->conf.server_ports, p->sport);
	bool d_srv = flow_port_isset(t->conf.server_ports, p->dport);

	if ((p->flags & (FLOW_F_SYN | FLOW_F_ACK)) == FLOW_F_SYN)
		*client = true;
	else if (p->flags & FLOW_F_SYN)
		*client = false;
	else if (s_srv != d_srv)
		*client = d_srv;
	else
		*client = p->sport > p->dport;
	return s_srv || d_srv;
}

/*
 * Keep at most one flow per bucket on average: a small table stays in
 * the cache, which is most of the cost of a lookup.
 */
static void
fl_grow(struct flow_table *t)
{
	struct flow **nb, *f, *n;
	size_t i, size = t->nbucket * 2, b;

	nb = xcalloc(size, sizeof(*nb));
	for (i = 0; i < t->nbucket; i++)
		for (f = t->bucket[i]; f != NULL; f = n) {
			n = f->hnext;
			b = fl_hash(t, &f->key) & (size - 1);
			f->hnext = nb[b];
			nb[b] = f;
		}
	free(t->bucket);
	fl_mem(t, size * sizeof(*nb), t->nbucket * sizeof(*nb));
	t->bucket = nb;
	t->nbucket = size;
}

static struct flow *
fl_new(struct flow_table *t, const struct flow_key *k, bool src_is_a,
    const struct flow_pkt *p, bool client)
{
	struct flow *f;
	size_t alen = p->family == 4 ? 4 : 16;
	size_t b;

	fl_room(t, true);
	if (t->st.active >= t->nbucket && t->nbucket < (1u << 26))
		fl_grow(t);
	if ((f = t->spare) != NULL) {
		t->spare = f->hnext;
		t->nspare--;
		memset(f, 0, sizeof(*f));
	} else
		f = xcalloc(1, sizeof(*f));
	f->key = *k;
	f->c_is_a = client == src_is_a;
	f->info.family = p->family;
	memcpy(f->info.caddr, client ? p->src : p->dst, alen);
	memcpy(f->info.saddr, client ? p->dst : p->src, alen);
	f->info.cport = client ? p->sport : p->dport;
	f->info.sport = client ? p->dport : p->sport;
	f->info.midstream = !(p->flags & FLOW_F_SYN);
	f->info.first_us = p->ts_us;
	f->lru_us = t->now_us;
	f->info.first_pkt = p->num;
	b = fl_hash(t, k) & (t->nbucket - 1);
	f->hnext = t->bucket[b];
	t->bucket[b] = f;
	fl_append(&t->live, f);
	t->nflows++;
	t->st.flows++;
	t->st.active++;
	t->st.midstream += f->info.midstream;
	fl_mem(t, FLOW_SIZE, 0);
	return f;
}

/* Hand bytes to the consumer, and a gap after them when cut short. */
static void
fl_deliver(struct flow_table *t, struct flow *f, enum flow_dir d,
    const uint8_t *p, size_t caplen, size_t len)
{
	struct flow_half *h = &f->half[d];

	h->next += (uint32_t)len;
	f->info.bytes[d] += len;
	if (!fl_wants(t, f, d))
		return;
	if (caplen > 0)
		t->ops.data(t->ops.arg, &f->info, d, p, caplen);
	if (caplen < len && fl_wants(t, f, d)) {
		t->st.gaps++;
		t->ops.gap(t->ops.arg, &f->info, d);
	}
	fl_umem(t, f);
}

/* Deliver waiting segments that are now in order. */
static void
fl_drain(struct flow_table *t, struct flow *f, enum flow_dir d)
{
	struct flow_half *h = &f->half[d];
	struct flow_seg *s;
	int32_t off;

	while (
	    (s = h->ooo) != NULL && (off = (int32_t)(h->next - s->seq)) >= 0) {
		h->ooo = s->next;
		h->ooo_n--;
		h->ooo_bytes -= s->caplen;
		fl_mem(t, 0, sizeof(*s) + s->caplen);
		if ((uint32_t)off < s->len) {
			uint32_t cap = (uint32_t)off < s->caplen
					   ? s->caplen - (uint32_t)off
					   : 0;

			t->st.overlaps += off > 0;
			fl_deliver(t, f, d, s->data + off, cap,
			    s->len - (uint32_t)off);
		}
		free(s);
	}
}

/* Keep a segment that came early; false when over the budget. */
static bool
fl_hold(struct flow_table *t, struct flow_half *h, uint32_t seq,
    const uint8_t *p, size_t caplen, size_t len)
{
	struct flow_seg **pp, *s;

	if (h->ooo_n >= FLOW_OOO_SEGS || h->ooo_bytes + caplen > FLOW_OOO_MAX)
		return false;
	for (pp = &h->ooo; *pp != NULL; pp = &(*pp)->next) {
		int32_t c = (int32_t)(seq - (*pp)->seq);

		if (c == 0 && (*pp)->len >= len) {
			t->st.dups++; /* the same early segment again */
			return true;
		}
		if (c < 0)
			break;
	}
	s = xmalloc(sizeof(*s) + caplen);
	s->seq = seq;
	s->len = (uint32_t)len;
	s->caplen = (uint32_t)caplen;
	memcpy(s->data, p, caplen);
	s->next = *pp;
	*pp = s;
	h->ooo_n++;
	h->ooo_bytes += caplen;
	fl_mem(t, sizeof(*s) + caplen, 0);
	return true;
}

/* Skip a hole that cannot be filled: report it, deliver what follows. */
static void
fl_skip_hole(struct flow_table *t, struct flow *f, enum flow_dir d)
{
	struct flow_half *h = &f->half[d];

	if (h->ooo == NULL)
		return;
	if (fl_wants(t, f, d)) {
		t->st.gaps++;
		t->ops.gap(t->ops.arg, &f->info, d);
	}
	h->next = h->ooo->seq;
	fl_drain(t, f, d);
}

/* One segment's bytes for direction d. */
static void
fl_segment(struct flow_table *t, struct flow *f, enum flow_dir d, uint32_t seq,
    const uint8_t *p, size_t caplen, size_t len)
{
	struct flow_half *h = &f->half[d];
	int32_t off;

	if (len == 0)
		return;
	if (!h->started) {
		/* The start of this direction was not seen. */
		h->started = true;
		h->next = seq;
	}
	off = (int32_t)(h->next - seq);
	if (off < 0) { /* early: a hole before it */
		t->st.ooo++;
		if (!fl_wants(t, f, d))
			return;
		if (!fl_hold(t, h, seq, p, caplen, len)) {
			fl_skip_hole(t, f, d);
			off = (int32_t)(h->next - seq);
			if (off < 0 && !fl_hold(t, h, seq, p, caplen, len)) {
				t->st.gaps++;
				t->ops.gap(t->ops.arg, &f->info, d);
			}
		}
		if (off < 0)
			return;
	}
	if ((size_t)off >= len) {
		t->st.dups++;
		return;
	}
	if (off > 0) {
		t->st.overlaps++;
		p += (size_t)off < caplen ? (size_t)off : caplen;
		caplen = (size_t)off < caplen ? caplen - (size_t)off : 0;
		len -= (size_t)off;
	}
	fl_deliver(t, f, d, p, caplen, len);
	if (h->ooo != NULL)
		fl_drain(t, f, d);
}

static bool
fl_half_done(const struct flow_half *h)
{
	return h->fin && h->started && h->next == h->fin_seq;
}

void
flow_packet(struct flow_table *t, const struct flow_pkt *p)
{
	struct flow_key k;
	struct flow *f;
	struct flow_tomb *b;
	struct flow_half *h;
	enum flow_dir d;
	bool src_is_a, client;
	uint32_t seq = p->seq;

	flow_expire(t, p->ts_us);
	fl_room(t, false);
	if (!fl_sender_is_client(t, p, &client)) {
		t->st.notflow++;
		return;
	}
	fl_key(p, &k, &src_is_a);
	f = fl_find(t, &k);
	if (f == NULL && t->ntombs > 0 && (b = fl_tfind(t, &k)) != NULL) {
		/* A new connection on the same ports replaces a tombstone. */
		if ((p->flags & (FLOW_F_SYN | FLOW_F_ACK)) == FLOW_F_SYN &&
		    p->seq != b->cisn)
			fl_tremove(t, b);
		else {
			t->st.late++;
			b->last_us = p->ts_us;
			return;
		}
	}
	if (f == NULL) {
		/* A lone RST or FIN does not start anything worth a flow. */
		if (p->flags & FLOW_F_RST) {
			t->st.notflow++;
			return;
		}
		f = fl_new(t, &k, src_is_a, p, client);
	} else if (t->now_us - f->lru_us >= FLOW_LRU_US) {
		/* Moving a flow touches its neighbours: once a second is
		 * precise enough for idle expiry and eviction. */
		fl_unlink(&t->live, f);
		fl_append(&t->live, f);
		f->lru_us = t->now_us;
	}
	d = (f->c_is_a == src_is_a) ? FLOW_C2S : FLOW_S2C;
	f->info.last_us = p->ts_us;
	f->info.last_pkt = p->num;
	f->info.packets[d]++;
	if (p->caplen < p->len)
		t->st.truncated++;
	h = &f->half[d];

	if (p->flags & FLOW_F_SYN) {
		if (!h->started) {
			h->started = true;
			h->next = seq + 1;
		}
		if (d == FLOW_C2S && !f->syn_seen) {
			f->syn_seen = true;
			f->cisn = seq;
		}
		/* The SYN-ACK says where the client's bytes start. */
		if (d == FLOW_S2C && (p->flags & FLOW_F_ACK) &&
		    !f->half[FLOW_C2S].started) {
			f->half[FLOW_C2S].started = true;
			f->half[FLOW_C2S].next = p->ack;
		}
		seq++;
	} else if (d == FLOW_C2S && (p->flags & FLOW_F_ACK) && f->syn_seen &&
		   !f->half[FLOW_S2C].started) {
		/* SYN-ACK missed: the client's first ACK names it. */
		f->half[FLOW_S2C].started = true;
		f->half[FLOW_S2C].next = p->ack;
	}
	fl_segment(t, f, d, seq, p->data, p->caplen, p->len);
	if ((p->flags & FLOW_F_FIN) && !h->fin) {
		h->fin = true;
		h->fin_seq = seq + (uint32_t)p->len;
		if (!h->started) {
			h->started = true;
			h->next = h->fin_seq;
		}
	}
	/* A FIN with a hole before it: the hole will not be filled. */
	if (h->fin && !fl_half_done(h) && h->ooo == NULL && !fl_wants(t, f, d))
		h->next = h->fin_seq;
	if ((p->flags & FLOW_F_RST) ||
	    (fl_half_done(&f->half[0]) && fl_half_done(&f->half[1])))
		fl_close(t, f);
}

void
flow_flush(struct flow_table *t)
{
	struct flow *f;

	while ((f = t->live.head) != NULL) {
		fl_end(t, f, FLOW_END_FLUSH);
		fl_remove(t, f);
	}
}

void
flow_stats(const struct flow_table *t, struct flow_stats *st)
{
	*st = t->st;
}

void
flow_table_free(struct flow_table *t)
{
	if (t == NULL)
		return;
	flow_flush(t);
	while (t->dead_head != NULL)
		fl_tremove(t, t->dead_head);
	while (t->tspare != NULL) {
		struct flow_tomb *b = t->tspare;

		t->tspare = b->hnext;
		free(b);
	}
	free(t->tbucket);
	while (t->spare != NULL) {
		struct flow *f = t->spare;

		t->spare = f->hnext;
		free(f);
	}
	free(t->bucket);
	free(t);
}
