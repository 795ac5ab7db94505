/*
 * sniff.h - SMTP sessions from packets: capture, decode, flows, events
 *
 * A sniffer reads packets from a capture file (pcap or pcapng) or a live
 * interface, decodes the link layer (Ethernet with 802.1Q/QinQ tags,
 * Linux cooked SLL and SLL2, BSD loopback/NULL, raw IP), IPv4 and IPv6
 * and TCP, follows the connections on the SMTP ports through flow.c and
 * smtp.c, and hands one struct tls_event per connection to the caller's
 * sink when the connection ends.  Nothing here touches the database, so
 * the whole path from packet to event can be tested and fuzzed alone
 * (sniff_packet()).
 * Ownership: sniff_new() returns a new object freed by sniff_free(); the
 * configuration strings are copied.  The event passed to the sink is
 * borrowed for the call.
 */
#ifndef COLLECTOR_SNIFF_H
#define COLLECTOR_SNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

#define SNIFF_LOCAL_MAX 64	/* local_addresses entries */
#define SNIFF_VLAN_MAX 4	/* stacked VLAN tags decoded */
#define SNIFF_SNAPLEN 65535	/* live capture */
#define SNIFF_BUFFER (16 << 20) /* live capture kernel buffer */
#define SNIFF_SPARE_MAX 256	/* ended session objects kept for reuse */

typedef void sniff_event_fn(void *arg, const struct tls_event *);

struct sniff_conf {
	const char *host;	      /* "host" of every event */
	const char *ports;	      /* server ports: "25 465 587" */
	const char *tls_ports;	      /* implicit TLS among them: "465" */
	const char *submission_ports; /* "465 587": inbound = submission */
	const char *local_addresses;  /* "192.0.2.1 2001:db8::/32"; empty:
					the interface's (or all) addresses */
	size_t flow_max;	      /* flows in the table */
	size_t flow_memcap;	      /* bytes */
	int64_t flow_idle_us;
};

struct sniff_stats {
	uint64_t packets;   /* read */
	uint64_t bytes;	    /* captured bytes read */
	uint64_t tcp;	    /* TCP segments on our ports */
	uint64_t other;	    /* not IP/TCP, or other ports */
	uint64_t short_;    /* headers cut by the snaplen, or malformed */
	uint64_t fragments; /* IP fragments (not reassembled) */
	uint64_t events;
	uint64_t verdict[4]; /* by enum ev_tls */
	uint64_t injected;   /* sessions with STARTTLS injection */
	uint64_t pcap_recv, pcap_drop, pcap_ifdrop; /* live: pcap_stats */
};

struct sniff;

/*
 * A new sniffer, or NULL (logged) when the configuration is bad (a port
 * list or address that does not parse).
 */
struct sniff *sniff_new(const struct sniff_conf *, sniff_event_fn *, void *arg);
/* Read `path' (pcap or pcapng).  Returns 0 or -1 (logged). */
int sniff_open_file(struct sniff *, const char *path);
/*
 * Capture on `iface' (needs CAP_NET_RAW), with a BPF filter for the
 * configured ports.  Returns 0 or -1 (logged).
 */
int sniff_open_live(struct sniff *, const char *iface);
/*
 * Process up to `max' packets, waiting at most `timeout_ms' for a live
 * capture.  Returns the number of packets processed, 0 when a live
 * capture was quiet, -1 at the end of a file or on an error (logged;
 * sniff_error() tells which).
 */
int sniff_dispatch(struct sniff *, int max, int timeout_ms);
bool sniff_error(const struct sniff *);
/*
 * One packet of link type `dlt' (a DLT_ value), `caplen' bytes captured
 * of `len'.  The capture loop's step; public for tests and fuzzing.
 */
void sniff_packet(struct sniff *, int dlt, int64_t ts_us, const uint8_t *p,
    size_t caplen, size_t len);
/* End every open connection (events for all of them). */
void sniff_flush(struct sniff *);
/* Packets read so far; events carry packet numbers up to this + 1. */
uint64_t sniff_packets(const struct sniff *);
void sniff_stats(struct sniff *, struct sniff_stats *);
/* Log the counters (SIGUSR1, at exit). */
void sniff_log_counters(struct sniff *);
/* Drop root (to `user') or capabilities; fatal if they can come back. */
void sniff_drop_privs_or_die(const char *user);
/* Frees; open flows end without events (sniff_flush() first).  NULL is a
 * no-op. */
void sniff_free(struct sniff *);

#endif /* COLLECTOR_SNIFF_H */
