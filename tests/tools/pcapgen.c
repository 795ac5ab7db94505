/*
 * pcapgen.c - a big capture of many SMTP sessions, for bench/sniff.sh
 *
 * usage: pcapgen [-n PACKETS] [-k CONCURRENT] [-l LOCAL] TEMPLATE OUT
 *
 * Clones the TCP connections of TEMPLATE (an Ethernet/IPv4 capture of
 * whole packets, such as tests/data/pcap/lab.pcap: real Postfix sessions,
 * mostly TLS, some plaintext) until OUT has at least PACKETS packets
 * (default 1000000), KONCURRENT connections interleaved packet by packet
 * (default 2000), 20 us apart.  Clone i of a connection gets its own
 * client port and a remote address with i's high bits in its second and
 * third bytes (LOCAL, default 127.0.0.10, stays as it is), so every clone
 * is a distinct connection of the same kind (outbound or inbound) with
 * the same bytes.  A benchmark tool: it trusts its input.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

struct gp_pkt {
	uint32_t len;
	uint8_t *data;
	int from_client;
};

struct gp_flow {
	uint8_t a[4], b[4];
	uint16_t pa, pb;
	uint8_t client[4];
	uint16_t cport;
	struct gp_pkt *pk;
	size_t n, cap;
};

struct gp_active {
	size_t flow, next;
	unsigned long clone;
};

static struct gp_flow *flows;
static size_t nflows;

static void
die(const char *m)
{
	(void)fprintf(stderr, "pcapgen: %s\n", m);
	exit(1);
}

static struct gp_flow *
find(const uint8_t *s, uint16_t sp, const uint8_t *d, uint16_t dp)
{
	size_t i;

	for (i = 0; i < nflows; i++) {
		struct gp_flow *f = &flows[i];

		if ((!memcmp(f->a, s, 4) && f->pa == sp &&
			!memcmp(f->b, d, 4) && f->pb == dp) ||
		    (!memcmp(f->a, d, 4) && f->pa == dp &&
			!memcmp(f->b, s, 4) && f->pb == sp))
			return f;
	}
	if ((flows = realloc(flows, (nflows + 1) * sizeof(*flows))) == NULL)
		die("out of memory");
	memset(&flows[nflows], 0, sizeof(*flows));
	memcpy(flows[nflows].a, s, 4);
	memcpy(flows[nflows].b, d, 4);
	flows[nflows].pa = sp;
	flows[nflows].pb = dp;
	memcpy(flows[nflows].client, s, 4); /* first packet: the SYN */
	flows[nflows].cport = sp;
	return &flows[nflows++];
}

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	unsigned long want = 1000000, made = 0, clones = 0;
	size_t k = 2000, i, nact = 0;
	struct pcap_pkthdr *h, oh;
	const u_char *p;
	uint8_t local[4] = {127, 0, 0, 10}, buf[65536];
	struct gp_active *act;
	pcap_t *in, *dead;
	pcap_dumper_t *out;
	int ch, r;
	uint64_t ts = 1767225600ULL * 1000000; /* 2026-01-01 */

	while ((ch = getopt(argc, argv, "n:k:l:")) != -1) {
		switch (ch) {
		case 'n':
			want = strtoul(optarg, NULL, 10);
			break;
		case 'k':
			k = strtoul(optarg, NULL, 10);
			break;
		case 'l':
			if (inet_pton(AF_INET, optarg, local) != 1)
				die("bad -l address");
			break;
		default:
			die("usage: pcapgen [-n PACKETS] [-k CONCURRENT] "
			    "[-l LOCAL] TEMPLATE OUT");
		}
	}
	if (argc - optind != 2 || k == 0)
		die("usage: pcapgen [options] TEMPLATE OUT");
	if ((in = pcap_open_offline(argv[optind], err)) == NULL)
		die(err);
	if (pcap_datalink(in) != DLT_EN10MB)
		die("the template must be Ethernet");
	while ((r = pcap_next_ex(in, &h, &p)) == 1) {
		struct gp_flow *f;
		struct gp_pkt *g;
		uint32_t ihl;

		if (h->caplen < 54 || h->caplen != h->len || p[12] != 8 ||
		    p[13] != 0 || p[23] != 6)
			continue;
		ihl = (p[14] & 15) * 4u;
		f = find(p + 26, (uint16_t)(p[14 + ihl] << 8 | p[15 + ihl]),
		    p + 30, (uint16_t)(p[16 + ihl] << 8 | p[17 + ihl]));
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 32;
			if ((f->pk = realloc(f->pk, f->cap * sizeof(*f->pk))) ==
			    NULL)
				die("out of memory");
		}
		g = &f->pk[f->n++];
		g->len = h->caplen;
		if ((g->data = malloc(h->caplen)) == NULL)
			die("out of memory");
		memcpy(g->data, p, h->caplen);
		g->from_client = !memcmp(p + 26, f->client, 4) &&
				 (p[14 + ihl] << 8 | p[15 + ihl]) == f->cport;
	}
	pcap_close(in);
	if (nflows == 0)
		die("no TCP/IPv4 connections in the template");
	if ((dead = pcap_open_dead(DLT_EN10MB, 65535)) == NULL ||
	    (out = pcap_dump_open(dead, argv[optind + 1])) == NULL)
		die("cannot write the output");
	if ((act = calloc(k, sizeof(*act))) == NULL)
		die("out of memory");
	while (made < want || nact > 0) {
		/* Keep k connections going while packets are wanted. */
		while (nact < k && made < want) {
			act[nact].flow = clones % nflows;
			act[nact].next = 0;
			act[nact].clone = clones++;
			nact++;
		}
		for (i = 0; i < nact;) {
			struct gp_active *a = &act[i];
			struct gp_flow *f = &flows[a->flow];
			struct gp_pkt *g = &f->pk[a->next++];
			uint32_t ihl = (g->data[14] & 15) * 4u;
			uint16_t port = (uint16_t)(1024 + a->clone % 60000);
			uint8_t hi = (uint8_t)(a->clone / 60000);
			/* the client's port and the remote side's address */
			size_t coff = g->from_client ? 26 : 30;
			size_t poff = 14 + ihl + (g->from_client ? 0 : 2);
			size_t roff;

			memcpy(buf, g->data, g->len);
			buf[poff] = (uint8_t)(port >> 8);
			buf[poff + 1] = (uint8_t)port;
			roff = memcmp(buf + coff, local, 4) == 0
				   ? (coff == 26 ? 30 : 26)
				   : coff;
			buf[roff + 1] = (uint8_t)(buf[roff + 1] + hi);
			buf[roff + 2] =
			    (uint8_t)(buf[roff + 2] + (a->clone / 240) % 250);
			oh.ts.tv_sec = (time_t)(ts / 1000000);
			oh.ts.tv_usec = (suseconds_t)(ts % 1000000);
			oh.caplen = oh.len = g->len;
			pcap_dump((u_char *)out, &oh, buf);
			ts += 20;
			made++;
			if (a->next == f->n)
				act[i] = act[--nact];
			else
				i++;
		}
	}
	pcap_dump_close(out);
	pcap_close(dead);
	(void)fprintf(
	    stderr, "pcapgen: %lu packets, %lu connections\n", made, clones);
	return 0;
}
