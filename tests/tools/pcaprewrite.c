/*
 * pcaprewrite.c - rewrite a TCP capture the ways a sniffer must survive
 *
 * usage: pcaprewrite [-l LINK] [-6] [-s N] [-o] [-d] [-w W] [-S SEED]
 *                    [-t SNAPLEN] IN.pcap OUT.pcap
 *   -l LINK   output link type: eth (default: as read), vlan (802.1Q),
 *             qinq (802.1ad + 802.1Q), sll, sll2, null, loop, raw
 *   -6        IPv4 to IPv6: a.b.c.d becomes fd00::a.b.c.d (the TCP
 *             checksum is left as it was; nothing here checks it)
 *   -s N      split TCP payloads into segments of at most N bytes
 *   -o        overlaps: before each data segment of 2+ bytes, send its
 *             first half alone (the whole one then overlaps it)
 *   -d        duplicate every packet
 *   -w W      reorder: shuffle packets within windows of W (SYNs stay
 *             ahead of their connection's other packets)
 *   -S SEED   seed for -w (default 1)
 *   -t N      cut every packet to N captured bytes (snaplen)
 * Input: pcap or pcapng with Ethernet (with VLAN tags), SLL, SLL2, NULL,
 * LOOP or raw IP.  Output: pcap (make pcapng with editcap -F pcapng).
 * A test tool: it trusts its input to be a sane capture.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#define PR_PKT_MAX 262144

struct pr_pkt {
	struct timeval ts;
	uint32_t caplen, len;
	uint8_t *data; /* link header + IP packet */
	int syn;       /* a SYN: kept ahead when reordering */
};

static struct pr_pkt *pkts;
static size_t npkts, cap_pkts;
static int out_dlt = -1, to_v6, split, overlaps, dup_all, window;
static unsigned long seed = 1;
static uint32_t snaplen;

static void
die(const char *msg)
{
	(void)fprintf(stderr, "pcaprewrite: %s\n", msg);
	exit(1);
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The IP packet inside a frame of link type dlt; NULL if none. */
static const uint8_t *
ip_of(int dlt, const uint8_t *p, uint32_t caplen, uint32_t *iplen)
{
	uint32_t off = 0;
	uint16_t type;

	switch (dlt) {
	case DLT_EN10MB:
		off = 12;
		do {
			if (off + 2 > caplen)
				return NULL;
			type = be16(p + off);
			off += 2;
			if (type == 0x8100 || type == 0x88a8)
				off += 2;
		} while (type == 0x8100 || type == 0x88a8);
		break;
	case DLT_LINUX_SLL:
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		off = 20;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		off = 4;
		break;
	case DLT_RAW:
		off = 0;
		break;
	default:
		die("unsupported input link type");
	}
	if (off >= caplen)
		return NULL;
	*iplen = caplen - off;
	return p + off;
}

/* Frame an IP packet in the output link type. */
static void
emit(const struct timeval *ts, const uint8_t *ip, uint32_t iplen,
    uint32_t wirelen)
{
	uint8_t hdr[32];
	uint32_t hl = 0;
	int v6 = (ip[0] >> 4) == 6;
	unsigned etype = v6 ? 0x86dd : 0x0800;
	struct pr_pkt *k;

	memset(hdr, 0, sizeof(hdr));
	switch (out_dlt) {
	case DLT_EN10MB:
		hdr[5] = 1;
		hdr[11] = 2;
		put16(hdr + 12, etype);
		hl = 14;
		break;
	case 1000: /* vlan */
		hdr[5] = 1;
		hdr[11] = 2;
		put16(hdr + 12, 0x8100);
		put16(hdr + 14, 42);
		put16(hdr + 16, etype);
		hl = 18;
		break;
	case 1001: /* qinq */
		hdr[5] = 1;
		hdr[11] = 2;
		put16(hdr + 12, 0x88a8);
		put16(hdr + 14, 7);
		put16(hdr + 16, 0x8100);
		put16(hdr + 18, 42);
		put16(hdr + 20, etype);
		hl = 22;
		break;
	case DLT_LINUX_SLL:
		put16(hdr + 2, 772); /* ARPHRD_LOOPBACK */
		put16(hdr + 4, 6);
		put16(hdr + 14, etype);
		hl = 16;
		break;
	case DLT_LINUX_SLL2:
		put16(hdr, etype);
		put32(hdr + 4, 1);
		put16(hdr + 8, 772);
		hdr[11] = 6;
		hl = 20;
		break;
	case DLT_NULL: {
		uint32_t fam = v6 ? 10 : 2; /* host byte order */

		memcpy(hdr, &fam, 4);
		hl = 4;
		break;
	}
	case DLT_LOOP:
		put32(hdr, v6 ? 24 : 2);
		hl = 4;
		break;
	case DLT_RAW:
		hl = 0;
		break;
	}
	if (npkts == cap_pkts) {
		cap_pkts = cap_pkts ? cap_pkts * 2 : 4096;
		if ((pkts = realloc(pkts, cap_pkts * sizeof(*pkts))) == NULL)
			die("out of memory");
	}
	k = &pkts[npkts++];
	k->ts = *ts;
	k->caplen = hl + iplen;
	k->len = hl + wirelen;
	if ((k->data = malloc(k->caplen)) == NULL)
		die("out of memory");
	memcpy(k->data, hdr, hl);
	memcpy(k->data + hl, ip, iplen);
	k->syn = 0;
	{
		const uint8_t *tcp = ip + (v6 ? 40 : (ip[0] & 15) * 4u);

		if (iplen >= (uint32_t)(tcp - ip) + 14)
			k->syn = (tcp[13] & 0x02) != 0;
	}
}

/* IPv4 -> IPv6 (no options kept, TCP unchanged). */
static uint32_t
v4to6(const uint8_t *ip, uint32_t iplen, uint8_t *out, uint32_t *wire)
{
	uint32_t hl = (ip[0] & 15) * 4u, tot = be16(ip + 2);
	uint32_t body = iplen > hl ? iplen - hl : 0;

	memset(out, 0, 40);
	out[0] = 0x60;
	put16(out + 4, tot - hl);
	out[6] = ip[9];
	out[7] = ip[8];
	out[8] = 0xfd;
	memcpy(out + 20, ip + 12, 4);
	out[24] = 0xfd;
	memcpy(out + 36, ip + 16, 4);
	memcpy(out + 40, ip + hl, body);
	*wire = 40 + tot - hl;
	return 40 + body;
}

/* One input IP packet: split, overlap and frame it. */
static void
packet(const struct timeval *ts, const uint8_t *ip0, uint32_t iplen0)
{
	static uint8_t buf[PR_PKT_MAX], piece[PR_PKT_MAX];
	const uint8_t *ip = ip0;
	uint32_t iplen = iplen0, wire, hl, thl, plen, off, k;
	int v6;

	if ((ip0[0] >> 4) == 4) {
		wire = be16(ip0 + 2);
		if (to_v6) {
			iplen = v4to6(ip0, iplen0, buf, &wire);
			ip = buf;
		}
	} else
		wire = 40 + be16(ip0 + 4);
	if (iplen > wire)
		iplen = wire; /* Ethernet padding */
	v6 = (ip[0] >> 4) == 6;
	hl = v6 ? 40 : (ip[0] & 15) * 4u;
	if ((v6 ? ip[6] : ip[9]) != 6 || iplen < hl + 20 || iplen < wire) {
		emit(ts, ip, iplen, wire);
		return;
	}
	thl = (ip[hl + 12] >> 4) * 4u;
	plen = wire - hl - thl;
	if (plen == 0 ||
	    ((!split || plen <= (uint32_t)split) && (!overlaps || plen < 2))) {
		emit(ts, ip, iplen, wire);
		return;
	}
	/* Pieces of at most `split' bytes (all of it without -s). */
	for (off = 0; off < plen; off += k) {
		uint32_t seq = be32(ip + hl + 4) + off;
		uint32_t n;
		int last;
		int pass;

		k = split ? (uint32_t)split : plen;
		if (k > plen - off)
			k = plen - off;
		last = off + k == plen;
		for (pass = overlaps && k >= 2 ? 0 : 1; pass < 2; pass++) {
			uint32_t kk = pass == 0 ? k / 2 : k;

			memcpy(piece, ip, hl + thl);
			memcpy(piece + hl + thl, ip + hl + thl + off, kk);
			n = hl + thl + kk;
			if (v6)
				put16(piece + 4, thl + kk);
			else
				put16(piece + 2, n);
			put32(piece + hl + 4, seq);
			/* FIN and PSH go with the last byte only. */
			if (!last || pass == 0)
				piece[hl + 13] &= (uint8_t)~0x09;
			emit(ts, piece, n, n);
		}
	}
}

static unsigned long
rnd(void)
{
	seed = seed * 6364136223846793005UL + 1442695040888963407UL;
	return seed >> 33;
}

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h, oh;
	const u_char *p;
	const uint8_t *ip;
	uint32_t iplen;
	pcap_t *in, *dead;
	pcap_dumper_t *out;
	size_t i, j;
	int ch, dlt, r, wdlt;

	while ((ch = getopt(argc, argv, "l:6s:odw:S:t:")) != -1) {
		switch (ch) {
		case 'l':
			out_dlt = !strcmp(optarg, "eth")    ? DLT_EN10MB
				  : !strcmp(optarg, "vlan") ? 1000
				  : !strcmp(optarg, "qinq") ? 1001
				  : !strcmp(optarg, "sll")  ? DLT_LINUX_SLL
				  : !strcmp(optarg, "sll2") ? DLT_LINUX_SLL2
				  : !strcmp(optarg, "null") ? DLT_NULL
				  : !strcmp(optarg, "loop") ? DLT_LOOP
				  : !strcmp(optarg, "raw")  ? DLT_RAW
							    : -2;
			if (out_dlt == -2)
				die("unknown link type");
			break;
		case '6':
			to_v6 = 1;
			break;
		case 's':
			split = (int)strtol(optarg, NULL, 10);
			break;
		case 'o':
			overlaps = 1;
			break;
		case 'd':
			dup_all = 1;
			break;
		case 'w':
			window = (int)strtol(optarg, NULL, 10);
			break;
		case 'S':
			seed = strtoul(optarg, NULL, 10);
			break;
		case 't':
			snaplen = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		default:
			die("usage: pcaprewrite [-l LINK] [-6] [-s N] [-o] "
			    "[-d] "
			    "[-w W] [-S SEED] [-t SNAPLEN] IN OUT");
		}
	}
	if (argc - optind != 2)
		die("usage: pcaprewrite [options] IN OUT");
	if ((in = pcap_open_offline(argv[optind], err)) == NULL)
		die(err);
	dlt = pcap_datalink(in);
	if (out_dlt == -1)
		out_dlt = dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL ||
				  dlt == DLT_LINUX_SLL2 || dlt == DLT_NULL ||
				  dlt == DLT_LOOP || dlt == DLT_RAW
			      ? dlt
			      : DLT_EN10MB;
	while ((r = pcap_next_ex(in, &h, &p)) == 1) {
		if ((ip = ip_of(dlt, p, h->caplen, &iplen)) == NULL ||
		    iplen < 20 || h->caplen != h->len)
			continue; /* the input must be whole */
		packet(&h->ts, ip, iplen);
	}
	if (r == -1)
		die(pcap_geterr(in));
	pcap_close(in);
	/* Reorder within windows; a SYN stays first in its window. */
	for (i = 0; window > 1 && i < npkts; i += (size_t)window) {
		size_t n =
		    npkts - i < (size_t)window ? npkts - i : (size_t)window;
		int has_syn = 0;

		for (j = 0; j < n; j++)
			has_syn |= pkts[i + j].syn;
		if (has_syn)
			continue;
		for (j = n - 1; j > 0; j--) {
			size_t o = rnd() % (j + 1);
			struct pr_pkt t = pkts[i + j];

			pkts[i + j] = pkts[i + o];
			pkts[i + o] = t;
		}
	}
	wdlt = out_dlt >= 1000 ? DLT_EN10MB : out_dlt;
	if ((dead = pcap_open_dead(wdlt, 262144)) == NULL)
		die("pcap_open_dead");
	if ((out = pcap_dump_open(dead, argv[optind + 1])) == NULL)
		die(pcap_geterr(dead));
	for (i = 0; i < npkts; i++) {
		int c;

		oh.ts = pkts[i].ts;
		oh.len = pkts[i].len;
		oh.caplen = snaplen && pkts[i].caplen > snaplen
				? snaplen
				: pkts[i].caplen;
		for (c = 0; c <= dup_all; c++)
			pcap_dump((u_char *)out, &oh, pkts[i].data);
		free(pkts[i].data);
	}
	free(pkts);
	pcap_dump_close(out);
	pcap_close(dead);
	return 0;
}
