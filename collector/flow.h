/*
 * flow.h - TCP connections: a bounded flow table and per-direction
 * stream reassembly
 *
 * flow_packet() takes decoded TCP segments, finds or makes the flow,
 * and hands each direction's bytes to the consumer in sequence order,
 * exactly once: out-of-order segments wait (bounded), duplicates and
 * retransmissions are dropped, overlaps are trimmed (the first copy
 * wins), and bytes that will never come (a truncated capture, a hole
 * that outlives the out-of-order budget or the flow) are reported as a
 * gap.  A flow ends when both sides have sent FIN and all bytes before
 * them, at an RST, when idle for too long, when the table must make
 * room, or at flow_flush(); the consumer hears of each end once.  A
 * closed flow lingers briefly as a tombstone that absorbs late
 * duplicates, so they do not start a new flow.
 * Ownership: flow_table_new() returns a new table freed by
 * flow_table_free().  Packet bytes are borrowed for the call; what must
 * wait is copied.  struct flow_info is owned by the table; `user' is the
 * consumer's and must be released by it in the end callback.
 */
#ifndef COLLECTOR_FLOW_H
#define COLLECTOR_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_OOO_MAX 65536 /* out-of-order bytes held per direction */
#define FLOW_OOO_SEGS 512  /* out-of-order segments held per direction */
#define FLOW_LINGER_US (30 * 1000000LL) /* tombstone lifetime */
#define FLOW_SPARE_MAX 1024		/* freed flows kept for reuse */
#define FLOW_LRU_US 1000000LL /* LRU order is kept to this precision */

#define FLOW_F_FIN 0x01
#define FLOW_F_SYN 0x02
#define FLOW_F_RST 0x04
#define FLOW_F_ACK 0x10

enum flow_dir { FLOW_C2S = 0, FLOW_S2C = 1 };

enum flow_end {
	FLOW_END_CLOSED = 1, /* FIN both ways, or RST */
	FLOW_END_IDLE,	     /* no packet for the idle timeout */
	FLOW_END_EVICTED,    /* room was needed (flow count or memory cap) */
	FLOW_END_FLUSH	     /* flow_flush(): the capture ends */
};

/* One decoded TCP segment (addresses in network byte order). */
struct flow_pkt {
	uint8_t family;		  /* 4 or 6 */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;	     /* FLOW_F_* (TCP flag bits) */
	const uint8_t *data; /* captured payload (borrowed) */
	size_t caplen;	     /* captured payload bytes */
	size_t len;	     /* payload bytes on the wire (>= caplen) */
	int64_t ts_us;
	uint64_t num; /* packet number in the capture, from 1 */
};

/* What the consumer may read of a flow. */
struct flow_info {
	uint8_t family;
	uint8_t caddr[16], saddr[16]; /* client (opened it), server */
	uint16_t cport, sport;
	bool midstream; /* neither SYN nor SYN-ACK seen: start missed */
	int64_t first_us, last_us;
	uint64_t first_pkt, last_pkt;
	uint64_t packets[2], bytes[2]; /* per enum flow_dir */
	void *user;		       /* the consumer's state */
};

/* Bytes of direction `dir', in order. */
typedef void flow_data_fn(
    void *arg, struct flow_info *, enum flow_dir, const uint8_t *p, size_t n);
/* Bytes of direction `dir' are missing from here on. */
typedef void flow_gap_fn(void *arg, struct flow_info *, enum flow_dir);
/* Whether the consumer still wants bytes of direction `dir'. */
typedef bool flow_wants_fn(void *arg, struct flow_info *, enum flow_dir);
/* The flow ended; release `user'. */
typedef void flow_end_fn(void *arg, struct flow_info *, enum flow_end);
/* Bytes the consumer holds for this flow, for the memory cap. */
typedef size_t flow_mem_fn(void *arg, const struct flow_info *);

struct flow_ops {
	flow_data_fn *data;
	flow_gap_fn *gap;
	flow_wants_fn *wants;
	flow_end_fn *end;
	flow_mem_fn *mem;
	void *arg;
};

struct flow_conf {
	size_t max_flows; /* live flows and tombstones */
	size_t memcap;	  /* bytes: flows, waiting segments, consumer */
	int64_t idle_us;  /* a flow without packets this long ends */
	/* 65536 bits: ports that are servers' (25, 465, 587) */
	const uint8_t *server_ports;
};

struct flow_stats {
	uint64_t flows;	      /* flows made */
	uint64_t active;      /* live now */
	uint64_t closed;      /* ended by FIN/RST */
	uint64_t idle;	      /* ended by the idle timeout */
	uint64_t evicted;     /* ended to make room */
	uint64_t flushed;     /* ended by flow_flush() */
	uint64_t midstream;   /* flows whose start was missed */
	uint64_t ooo;	      /* segments that arrived out of order */
	uint64_t dups;	      /* segments already seen whole */
	uint64_t overlaps;    /* segments partly seen (trimmed) */
	uint64_t gaps;	      /* holes reported to the consumer */
	uint64_t truncated;   /* segments cut by the capture's snaplen */
	uint64_t late;	      /* packets absorbed by tombstones */
	uint64_t notflow;     /* packets of no flow we follow */
	size_t mem, mem_peak; /* bytes in use now, at most */
};

struct flow_table;

struct flow_table *flow_table_new(
    const struct flow_conf *, const struct flow_ops *);
/* Take one segment; expires idle flows by its timestamp first. */
void flow_packet(struct flow_table *, const struct flow_pkt *);
/* End flows idle at `now_us' (a live capture's clock when quiet). */
void flow_expire(struct flow_table *, int64_t now_us);
/* End every live flow with FLOW_END_FLUSH. */
void flow_flush(struct flow_table *);
void flow_stats(const struct flow_table *, struct flow_stats *);
/* Frees the table; flows still live are ended with FLOW_END_FLUSH. */
void flow_table_free(struct flow_table *);

/* Set or test port p in a 65536-bit set. */
void flow_port_set(uint8_t *set, uint16_t p);
bool flow_port_isset(const uint8_t *set, uint16_t p);

#endif /* COLLECTOR_FLOW_H */
