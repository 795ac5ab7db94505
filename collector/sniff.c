/*
 * sniff.c - from packets to SMTP session events (see sniff.h)
 *
 * Inputs: packets, untrusted, from a capture file or an interface; the
 * configuration (port lists, local addresses).  Decoding reads every
 * header through struct rd (common/rd.h) and never casts a wire struct
 * onto packet memory; lengths in headers are checked against what was
 * captured, and what the snaplen cut off is passed on as missing (flow.c
 * reports it as a gap), never made up.
 * Link layers (tcpdump's print-*.c, libpcap's LINKTYPE_ list): Ethernet
 * II with any number up to SNIFF_VLAN_MAX of 802.1Q/802.1ad tags, Linux
 * cooked SLL (16 bytes) and SLL2 (20 bytes), BSD NULL (host byte order)
 * and LOOP (network byte order) family words, raw IPv4/IPv6.  IPv4
 * (RFC 791; fragments are counted and skipped: SMTP peers do not
 * fragment), IPv6 (RFC 8200, extension headers skipped), TCP (RFC 9293).
 * Single-threaded.  libpcap's packet bytes are borrowed for the callback
 * only; flow.c copies what must wait.
 */
#include "collector/sniff.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "collector/flow.h"
#include "collector/smtp.h"
#include "common/daemon.h"
#include "common/log.h"
#include "common/rd.h"
#include "common/scan.h"
#include "common/xmalloc.h"

#define SN_ETH_IPV4 0x0800
#define SN_ETH_IPV6 0x86dd
#define SN_IPPROTO_TCP 6

struct sn_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t bits;
	uint8_t addr[16];
};

struct sniff {
	sniff_event_fn *sink;
	void *arg;
	char *host;
	uint8_t ports[8192];	 /* server ports */
	uint8_t tls_ports[8192]; /* implicit TLS */
	uint8_t sub_ports[8192]; /* submission */
	struct sn_prefix local[SNIFF_LOCAL_MAX];
	size_t nlocal;
	bool local_given;
	struct flow_table *ft;
	pcap_t *pc;
	int dlt;
	bool live, err;
	uint64_t cur_pkt; /* number of the packet being processed */
	bool flushing;
	struct smtp *spare[SNIFF_SPARE_MAX]; /* ended sessions, for reuse */
	size_t nspare;
	struct sniff_stats st;
};

/* "25 465, 587" -> bits in set.  Returns 0 or -1. */
static int
sn_ports(const char *s, uint8_t *set)
{
	const char *p = s, *end = s + strlen(s);
	uint64_t v;

	memset(set, 0, 8192);
	for (;;) {
		while (p < end && (*p == ' ' || *p == ',' || *p == '\t'))
			p++;
		if (p == end)
			return 0;
		if (scan_uint(&p, end, 65535, &v) == -1 || v == 0 ||
		    (p < end && *p != ' ' && *p != ',' && *p != '\t'))
			return -1;
		flow_port_set(set, (uint16_t)v);
	}
}

/* "192.0.2.1 10.0.0.0/8 2001:db8::/32" -> prefixes.  0 or -1. */
static int
sn_locals(struct sniff *sn, const char *s)
{
	const char *p = s, *end = s + strlen(s);
	struct span tok;
	char a[INET6_ADDRSTRLEN + 8], *slash;
	uint64_t bits;
	struct sn_prefix *lp;

	for (;;) {
		while (p < end && (*p == ' ' || *p == ',' || *p == '\t'))
			p++;
		if (p == end)
			return 0;
		tok.p = p;
		while (p < end && *p != ' ' && *p != ',' && *p != '\t')
			p++;
		tok.len = (size_t)(p - tok.p);
		if (tok.len >= sizeof(a) || sn->nlocal == SNIFF_LOCAL_MAX)
			return -1;
		memcpy(a, tok.p, tok.len);
		a[tok.len] = '\0';
		lp = &sn->local[sn->nlocal];
		memset(lp, 0, sizeof(*lp));
		if ((slash = strchr(a, '/')) != NULL)
			*slash++ = '\0';
		if (inet_pton(AF_INET, a, lp->addr) == 1)
			lp->family = 4;
		else if (inet_pton(AF_INET6, a, lp->addr) == 1)
			lp->family = 6;
		else
			return -1;
		bits = lp->family == 4 ? 32 : 128;
		if (slash != NULL &&
		    scan_u64_str(slash, lp->family == 4 ? 32 : 128, &bits) ==
			-1)
			return -1;
		lp->bits = (uint8_t)bits;
		sn->nlocal++;
	}
}

/* The addresses of `iface' (NULL: of every interface) as local. */
static void
sn_ifaddrs(struct sniff *sn, const char *iface)
{
	struct ifaddrs *ifa, *i;
	struct sn_prefix *lp;

	if (getifaddrs(&ifa) == -1) {
		log_warn("sniff: getifaddrs");
		return;
	}
	for (i = ifa; i != NULL && sn->nlocal < SNIFF_LOCAL_MAX;
	     i = i->ifa_next) {
		if (i->ifa_addr == NULL ||
		    (iface != NULL && strcmp(i->ifa_name, iface) != 0))
			continue;
		lp = &sn->local[sn->nlocal];
		memset(lp, 0, sizeof(*lp));
		if (i->ifa_addr->sa_family == AF_INET) {
			struct sockaddr_in sin;

			memcpy(&sin, i->ifa_addr, sizeof(sin));
			memcpy(lp->addr, &sin.sin_addr, 4);
			lp->family = 4;
			lp->bits = 32;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			struct sockaddr_in6 sin6;

			memcpy(&sin6, i->ifa_addr, sizeof(sin6));
			memcpy(lp->addr, &sin6.sin6_addr, 16);
			lp->family = 6;
			lp->bits = 128;
		} else
			continue;
		sn->nlocal++;
	}
	freeifaddrs(ifa);
}

static bool
sn_is_local(const struct sniff *sn, uint8_t family, const uint8_t *a)
{
	size_t i;

	for (i = 0; i < sn->nlocal; i++) {
		const struct sn_prefix *lp = &sn->local[i];
		unsigned full = lp->bits / 8, rest = lp->bits % 8;

		if (lp->family != family || memcmp(lp->addr, a, full) != 0)
			continue;
		if (rest == 0 ||
		    ((lp->addr[full] ^ a[full]) & (0xff00 >> rest)) == 0)
			return true;
	}
	return false;
}

static void
sn_addr(struct tls_event *ev, char *field, uint8_t family, const uint8_t *a)
{
	char s[INET6_ADDRSTRLEN];

	if (inet_ntop(family == 4 ? AF_INET : AF_INET6, a, s, sizeof(s)) !=
	    NULL)
		ev_setcstr(ev, field, EV_ADDR_MAX + 1, s);
}

/* flow.c callbacks: the consumer of a flow is an smtp object. */

static struct smtp *
sn_smtp(struct sniff *sn, struct flow_info *fi)
{
	bool tls;

	if (fi->user == NULL) {
		tls = flow_port_isset(sn->tls_ports, fi->sport);
		if (sn->nspare > 0) {
			fi->user = sn->spare[--sn->nspare];
			smtp_reset(fi->user, tls, fi->midstream, true);
		} else
			fi->user = smtp_new(tls, fi->midstream);
	}
	return fi->user;
}

static void
sn_data(void *arg, struct flow_info *fi, enum flow_dir d, const uint8_t *p,
    size_t n)
{
	smtp_feed(sn_smtp(arg, fi), (enum smtp_dir)d, p, n);
}

static void
sn_gap(void *arg, struct flow_info *fi, enum flow_dir d)
{
	smtp_gap(sn_smtp(arg, fi), (enum smtp_dir)d);
}

static bool
sn_wants(void *arg, struct flow_info *fi, enum flow_dir d)
{
	(void)arg;
	return fi->user == NULL || smtp_wants(fi->user, (enum smtp_dir)d);
}

static size_t
sn_mem(void *arg, const struct flow_info *fi)
{
	(void)arg;
	return fi->user == NULL ? 0 : smtp_mem(fi->user);
}

static void
sn_end(void *arg, struct flow_info *fi, enum flow_end why)
{
	static const enum smtp_end map[] = {SMTP_END_CLOSED, SMTP_END_CLOSED,
	    SMTP_END_IDLE, SMTP_END_EVICTED, SMTP_END_CAPTURE};
	struct sniff *sn = arg;
	struct smtp *sm = fi->user;
	const struct smtp_facts *f;
	struct tls_event ev;
	bool out;

	if (sm == NULL)
		return; /* no payload either way: no session to tell of */
	f = smtp_facts(sm);
	ev_init(&ev);
	ev.source = EV_SRC_PCAP;
	ev_setcstr(&ev, ev.host, sizeof(ev.host), sn->host);
	ev.ts_us = fi->first_us;
	out = sn_is_local(sn, fi->family, fi->caddr);
	if (out)
		ev.dir = EV_DIR_OUT;
	else if (flow_port_isset(sn->sub_ports, fi->sport))
		ev.dir = EV_DIR_SUBMISSION;
	else
		ev.dir = EV_DIR_IN;
	sn_addr(&ev, ev.local_ip, fi->family, out ? fi->caddr : fi->saddr);
	sn_addr(&ev, ev.peer_ip, fi->family, out ? fi->saddr : fi->caddr);
	ev.local_port = out ? fi->cport : fi->sport;
	ev.peer_port = out ? fi->sport : fi->cport;
	ev.start_off = (int64_t)fi->first_pkt;
	/* Everything before cur_pkt is done; a flush is after the end. */
	ev.end_off = (int64_t)(sn->flushing ? sn->st.packets + 1 : sn->cur_pkt);
	(void)snprintf(ev.origin, sizeof(ev.origin), "pcap:%llu",
	    (unsigned long long)fi->first_pkt);
	smtp_event(sm, map[why], ev.dir, &ev);
	sn->st.events++;
	sn->st.verdict[ev.tls & 3]++;
	sn->st.injected += f->injected[0] + f->injected[1] > 0;
	if (sn->sink != NULL)
		sn->sink(sn->arg, &ev);
	if (sn->nspare < SNIFF_SPARE_MAX)
		sn->spare[sn->nspare++] = sm;
	else
		smtp_free(sm);
	fi->user = NULL;
}

struct sniff *
sniff_new(const struct sniff_conf *c, sniff_event_fn *sink, void *arg)
{
	struct sniff *sn = xcalloc(1, sizeof(*sn));
	struct flow_conf fc;
	struct flow_ops ops = {sn_data, sn_gap, sn_wants, sn_end, sn_mem, sn};

	sn->sink = sink;
	sn->arg = arg;
	sn->host = xstrdup(c->host != NULL ? c->host : "");
	if (sn_ports(c->ports, sn->ports) == -1 ||
	    sn_ports(c->tls_ports, sn->tls_ports) == -1 ||
	    sn_ports(c->submission_ports, sn->sub_ports) == -1) {
		log_warnx("sniff: bad port list");
		sniff_free(sn);
		return NULL;
	}
	if (c->local_addresses != NULL && c->local_addresses[0] != '\0') {
		sn->local_given = true;
		if (sn_locals(sn, c->local_addresses) == -1) {
			log_warnx("sniff: local_addresses: bad address \"%s\"",
			    log_str(c->local_addresses,
				strlen(c->local_addresses)));
			sniff_free(sn);
			return NULL;
		}
	}
	memset(&fc, 0, sizeof(fc));
	fc.max_flows = c->flow_max;
	fc.memcap = c->flow_memcap;
	fc.idle_us = c->flow_idle_us;
	fc.server_ports = sn->ports;
	sn->ft = flow_table_new(&fc, &ops);
	return sn;
}

int
sniff_open_file(struct sniff *sn, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];

	if ((sn->pc = pcap_open_offline(path, err)) == NULL) {
		log_warnx("sniff: %s: %s", path, err);
		return -1;
	}
	sn->dlt = pcap_datalink(sn->pc);
	if (!sn->local_given)
		sn_ifaddrs(sn, NULL);
	return 0;
}

/* "tcp and (port 25 or ...)", also inside VLAN tags. */
static char *
sn_filter(const struct sniff *sn)
{
	struct buf b, ports;
	unsigned p;

	buf_init(&b, 65536);
	buf_init(&ports, 65536);
	for (p = 1; p < 65536; p++)
		if (flow_port_isset(sn->ports, (uint16_t)p) &&
		    buf_printf(
			&ports, "%sport %u", ports.len ? " or " : "", p) == -1)
			fatalx("sniff: filter too long");
	if (buf_printf(&b, "(tcp and (%s)) or (vlan and tcp and (%s))", ports.p,
		ports.p) == -1)
		fatalx("sniff: filter too long");
	buf_free(&ports);
	return buf_steal(&b);
}

int
sniff_open_live(struct sniff *sn, const char *iface)
{
	char err[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	char *filter;
	int rc;

	if ((sn->pc = pcap_create(iface, err)) == NULL) {
		log_warnx("sniff: %s: %s", iface, err);
		return -1;
	}
	(void)pcap_set_snaplen(sn->pc, SNIFF_SNAPLEN);
	(void)pcap_set_promisc(sn->pc, 0);
	(void)pcap_set_timeout(sn->pc, 200);
	(void)pcap_set_buffer_size(sn->pc, SNIFF_BUFFER);
	if ((rc = pcap_activate(sn->pc)) < 0) {
		log_warnx("sniff: %s: %s", iface, pcap_geterr(sn->pc));
		return -1;
	}
	if (rc > 0)
		log_warnx("sniff: %s: %s", iface, pcap_geterr(sn->pc));
	sn->dlt = pcap_datalink(sn->pc);
	sn->live = true;
	filter = sn_filter(sn);
	if (pcap_compile(sn->pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) ==
		-1 ||
	    pcap_setfilter(sn->pc, &prog) == -1) {
		log_warnx("sniff: %s: filter \"%s\": %s", iface, filter,
		    pcap_geterr(sn->pc));
		free(filter);
		return -1;
	}
	pcap_freecode(&prog);
	log_debug("sniff: %s: filter %s", iface, filter);
	free(filter);
	if (pcap_setnonblock(sn->pc, 1, err) == -1) {
		log_warnx("sniff: %s: %s", iface, err);
		return -1;
	}
	if (!sn->local_given)
		sn_ifaddrs(sn, strcmp(iface, "any") == 0 ? NULL : iface);
	return 0;
}

/*
 * The link layer: leave r at the network header and return its
 * ethertype (SN_ETH_IPV4, SN_ETH_IPV6), or 0 when it is neither.
 */
static uint16_t
sn_link(int dlt, struct rd *r)
{
	uint32_t fam;
	uint16_t type;
	uint8_t v;
	int tags;

	switch (dlt) {
	case DLT_EN10MB:
		/* dst(6) src(6) type(2) [tci(2) type(2)]... */
		if (!rd_skip(r, 12) || !rd_be16(r, &type))
			return 0;
		break;
	case DLT_LINUX_SLL:
		/* pkttype(2) hatype(2) halen(2) addr(8) protocol(2) */
		if (!rd_skip(r, 14) || !rd_be16(r, &type))
			return 0;
		break;
	case DLT_LINUX_SLL2:
		/* protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1)
		 * halen(1) addr(8) */
		if (!rd_be16(r, &type) || !rd_skip(r, 18))
			return 0;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		/* An address family word: host order for NULL (either
		 * order then), network order for LOOP. */
		if (!rd_be32(r, &fam))
			return 0;
		if (dlt == DLT_NULL && (fam & 0xffff) == 0)
			fam = __builtin_bswap32(fam);
		if (fam == 2)
			return SN_ETH_IPV4;
		/* AF_INET6: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28,
		 * Darwin 30 */
		return fam == 10 || fam == 24 || fam == 28 || fam == 30
			   ? SN_ETH_IPV6
			   : 0;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (rd_left(r) < 1)
			return 0;
		v = r->p[0] >> 4;
		return v == 4 ? SN_ETH_IPV4 : v == 6 ? SN_ETH_IPV6 : 0;
	default:
		return 0;
	}
	for (tags = 0; (type == 0x8100 || type == 0x88a8 || type == 0x9100) &&
		       tags < SNIFF_VLAN_MAX;
	     tags++)
		if (!rd_skip(r, 2) || !rd_be16(r, &type))
			return 0;
	return type == SN_ETH_IPV4 || type == SN_ETH_IPV6 ? type : 0;
}

/*
 * IPv4 (RFC 791 3.1): leave r at the TCP header, cut to the datagram,
 * set *wire to the bytes the datagram had after its header.
 */
static bool
sn_ipv4(struct sniff *sn, struct rd *r, struct flow_pkt *fp, size_t *wire)
{
	struct rd ip = *r;
	uint16_t totlen, frag, id, csum;
	uint8_t vihl, tos, ttl, proto;
	size_t hlen, cap = rd_left(r);

	if (!rd_u8(&ip, &vihl) || vihl >> 4 != 4 ||
	    (hlen = (vihl & 15) * 4u) < 20 || !rd_u8(&ip, &tos) ||
	    !rd_be16(&ip, &totlen) || !rd_be16(&ip, &id) ||
	    !rd_be16(&ip, &frag) || !rd_u8(&ip, &ttl) || !rd_u8(&ip, &proto) ||
	    !rd_be16(&ip, &csum) || rd_left(&ip) < 8) {
		sn->st.short_++;
		return false;
	}
	memcpy(fp->src, ip.p, 4);
	memcpy(fp->dst, ip.p + 4, 4);
	fp->family = 4;
	if (proto != SN_IPPROTO_TCP) {
		sn->st.other++;
		return false;
	}
	if (frag & 0x3fff) { /* MF or an offset */
		sn->st.fragments++;
		return false;
	}
	/* Total length 0: segmentation offload on the capturing host. */
	if (totlen == 0)
		totlen = cap > 65535 ? 65535 : (uint16_t)cap;
	if (totlen < hlen || !rd_skip(r, hlen)) {
		sn->st.short_++;
		return false;
	}
	*wire = totlen - hlen;
	if (rd_left(r) > *wire) /* Ethernet padding */
		r->end = r->p + *wire;
	return true;
}

/* IPv6 (RFC 8200 3, 4): the same, skipping extension headers. */
static bool
sn_ipv6(struct sniff *sn, struct rd *r, struct flow_pkt *fp, size_t *wire)
{
	uint32_t vtf;
	uint16_t plen, frag;
	uint8_t nh, hop, len8;
	size_t cap, skip;
	int i;

	if (!rd_be32(r, &vtf) || vtf >> 28 != 6 || !rd_be16(r, &plen) ||
	    !rd_u8(r, &nh) || !rd_u8(r, &hop) || rd_left(r) < 32) {
		sn->st.short_++;
		return false;
	}
	memcpy(fp->src, r->p, 16);
	memcpy(fp->dst, r->p + 16, 16);
	fp->family = 6;
	r->p += 32;
	cap = rd_left(r);
	*wire = plen != 0 ? plen : cap; /* 0: jumbogram or offload */
	if (cap > *wire)
		r->end = r->p + *wire;
	for (i = 0; i < 8 && nh != SN_IPPROTO_TCP; i++) {
		struct rd x = *r;

		switch (nh) {
		case 0:	 /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (!rd_u8(&x, &nh) || !rd_u8(&x, &len8))
				goto trunc;
			skip = ((size_t)len8 + 1) * 8;
			break;
		case 44: /* fragment */
			if (!rd_u8(&x, &nh) || !rd_skip(&x, 1) ||
			    !rd_be16(&x, &frag))
				goto trunc;
			if (frag & 0xfff9) { /* offset or M */
				sn->st.fragments++;
				return false;
			}
			skip = 8;
			break;
		case 51: /* AH */
			if (!rd_u8(&x, &nh) || !rd_u8(&x, &len8))
				goto trunc;
			skip = ((size_t)len8 + 2) * 4;
			break;
		default:
			sn->st.other++;
			return false;
		}
		if (!rd_skip(r, skip) || *wire < skip)
			goto trunc;
		*wire -= skip;
	}
	if (nh != SN_IPPROTO_TCP) {
		sn->st.other++;
		return false;
	}
	return true;
trunc:
	sn->st.short_++;
	return false;
}

void
sniff_packet(struct sniff *sn, int dlt, int64_t ts_us, const uint8_t *p,
    size_t caplen, size_t len)
{
	struct rd r = rd_make(p, caplen), tcp;
	struct flow_pkt fp;
	uint16_t type, win, hl;
	uint8_t off, flags;
	size_t wire;

	(void)len; /* the IP header's length is the one that counts */
	sn->st.packets++;
	sn->st.bytes += caplen;
	sn->cur_pkt = sn->st.packets;
	memset(&fp, 0, sizeof(fp));
	if ((type = sn_link(dlt, &r)) == 0) {
		sn->st.other++;
		return;
	}
	if (type == SN_ETH_IPV4 ? !sn_ipv4(sn, &r, &fp, &wire)
				: !sn_ipv6(sn, &r, &fp, &wire))
		return;
	/* TCP (RFC 9293 3.1) */
	tcp = r;
	if (!rd_be16(&tcp, &fp.sport) || !rd_be16(&tcp, &fp.dport) ||
	    !rd_be32(&tcp, &fp.seq) || !rd_be32(&tcp, &fp.ack) ||
	    !rd_u8(&tcp, &off) || !rd_u8(&tcp, &flags) ||
	    !rd_be16(&tcp, &win) || (hl = (uint16_t)((off >> 4) * 4)) < 20 ||
	    wire < hl || !rd_skip(&r, hl)) {
		sn->st.short_++;
		return;
	}
	if (!flow_port_isset(sn->ports, fp.sport) &&
	    !flow_port_isset(sn->ports, fp.dport)) {
		sn->st.other++;
		return;
	}
	sn->st.tcp++;
	fp.flags = flags & (FLOW_F_FIN | FLOW_F_SYN | FLOW_F_RST | FLOW_F_ACK);
	fp.data = r.p;
	fp.len = wire - hl;
	fp.caplen = rd_left(&r) < fp.len ? rd_left(&r) : fp.len;
	fp.ts_us = ts_us;
	fp.num = sn->st.packets;
	flow_packet(sn->ft, &fp);
}

static void
sn_pcap_cb(u_char *arg, const struct pcap_pkthdr *h, const u_char *p)
{
	struct sniff *sn = (struct sniff *)(void *)arg;

	sniff_packet(sn, sn->dlt,
	    (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec, p, h->caplen,
	    h->len);
}

static int64_t
sn_now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
sniff_dispatch(struct sniff *sn, int max, int timeout_ms)
{
	struct pollfd pfd;
	int n;

	if (sn->pc == NULL)
		return -1;
	if (sn->live) {
		pfd.fd = pcap_get_selectable_fd(sn->pc);
		pfd.events = POLLIN;
		if (pfd.fd >= 0 && poll(&pfd, 1, timeout_ms) == 0) {
			flow_expire(sn->ft, sn_now_us()); /* quiet: clock */
			return 0;
		}
	}
	n = pcap_dispatch(sn->pc, max, sn_pcap_cb, (u_char *)(void *)sn);
	if (n == PCAP_ERROR) {
		log_warnx("sniff: %s", pcap_geterr(sn->pc));
		sn->err = true;
		return -1;
	}
	if (n == PCAP_ERROR_BREAK)
		return 0;
	if (n == 0 && !sn->live)
		return -1; /* end of file */
	if (n == 0)
		flow_expire(sn->ft, sn_now_us());
	return n;
}

bool
sniff_error(const struct sniff *sn)
{
	return sn->err;
}

void
sniff_flush(struct sniff *sn)
{
	sn->flushing = true;
	flow_flush(sn->ft);
	sn->flushing = false;
}

uint64_t
sniff_packets(const struct sniff *sn)
{
	return sn->st.packets;
}

void
sniff_stats(struct sniff *sn, struct sniff_stats *st)
{
	struct pcap_stat ps;

	if (sn->live && sn->pc != NULL && pcap_stats(sn->pc, &ps) == 0) {
		sn->st.pcap_recv = ps.ps_recv;
		sn->st.pcap_drop = ps.ps_drop;
		sn->st.pcap_ifdrop = ps.ps_ifdrop;
	}
	*st = sn->st;
}

void
sniff_log_counters(struct sniff *sn)
{
	struct sniff_stats s;
	struct flow_stats f;

	sniff_stats(sn, &s);
	flow_stats(sn->ft, &f);
	log_info("sniff: %llu packets (%llu tcp, %llu other, %llu short, "
		 "%llu fragments), %llu sessions: %llu tls, %llu plaintext, "
		 "%llu failed, %llu unknown; %llu with starttls injection",
	    (unsigned long long)s.packets, (unsigned long long)s.tcp,
	    (unsigned long long)s.other, (unsigned long long)s.short_,
	    (unsigned long long)s.fragments, (unsigned long long)s.events,
	    (unsigned long long)s.verdict[EV_TLS_OK],
	    (unsigned long long)s.verdict[EV_TLS_PLAIN],
	    (unsigned long long)s.verdict[EV_TLS_FAILED],
	    (unsigned long long)s.verdict[EV_TLS_UNKNOWN],
	    (unsigned long long)s.injected);
	log_info("sniff: flows: %llu made, %llu open, %llu closed, %llu idle, "
		 "%llu evicted, %llu flushed, %llu mid-session; segments: "
		 "%llu out of order, %llu duplicate, %llu overlapping, %llu "
		 "truncated, %llu late; %llu gaps; memory %zu (peak %zu)",
	    (unsigned long long)f.flows, (unsigned long long)f.active,
	    (unsigned long long)f.closed, (unsigned long long)f.idle,
	    (unsigned long long)f.evicted, (unsigned long long)f.flushed,
	    (unsigned long long)f.midstream, (unsigned long long)f.ooo,
	    (unsigned long long)f.dups, (unsigned long long)f.overlaps,
	    (unsigned long long)f.truncated, (unsigned long long)f.late,
	    (unsigned long long)f.gaps, f.mem, f.mem_peak);
	if (sn->live)
		log_info("sniff: pcap: %llu received, %llu dropped, %llu "
			 "dropped by the interface",
		    (unsigned long long)s.pcap_recv,
		    (unsigned long long)s.pcap_drop,
		    (unsigned long long)s.pcap_ifdrop);
}

/* No capability may stay: all sets empty, and no way to get them back. */
static void
sn_drop_caps_or_die(void)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_capset, &hdr, data) == -1)
		fatal("sniff: drop capabilities");
	if (syscall(SYS_capget, &hdr, data) == -1 || data[0].effective ||
	    data[0].permitted || data[1].effective || data[1].permitted)
		fatalx("sniff: drop capabilities: still held");
}

void
sniff_drop_privs_or_die(const char *user)
{
	if (getuid() == 0 || geteuid() == 0)
		daemon_drop_privs_or_die(user); /* checks setuid(0) fails */
	sn_drop_caps_or_die();
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("sniff: drop privileges: root is still reachable");
	log_debug("sniff: running as uid %ld", (long)getuid());
}

void
sniff_free(struct sniff *sn)
{
	if (sn == NULL)
		return;
	sn->sink = NULL; /* flows still open end without events */
	flow_table_free(sn->ft);
	while (sn->nspare > 0)
		smtp_free(sn->spare[--sn->nspare]);
	if (sn->pc != NULL)
		pcap_close(sn->pc);
	free(sn->host);
	free(sn);
}
