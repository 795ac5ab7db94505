/*
 * fuzz_smtp.c - libFuzzer target: whole packet sequences through the
 * sniffer (link decoding, IP, TCP reassembly, SMTP, STARTTLS, TLS hellos,
 * verdicts)
 *
 * Input: byte 0 picks the link type (below); then packets, each a 2-byte
 * big-endian length and that many bytes.  Packets are 1 ms apart; a tiny
 * flow table (16 flows, 256 KiB) makes eviction happen too.  Made from
 * captures by tests/fuzz/mkcorpus.py.
 * FUZZ_SOURCES: collector/sniff.c collector/flow.c collector/smtp.c
 * FUZZ_SOURCES: collector/tlshello.c collector/tlscipher.c
 */
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "collector/sniff.h"
#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
sink(void *arg, const struct tls_event *ev)
{
	json_t *j = event_to_json(ev);

	(*(unsigned *)arg)++;
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
	    DLT_NULL, DLT_LOOP, DLT_RAW, DLT_IPV4, DLT_IPV6};
	static bool quiet;
	struct sniff_conf c = {"fuzz", "25 465 587 2525 2526 4650 4651 4652",
	    "465 4650 4651 4652", "587", "127.0.0.10", 16, 256 << 10, 30000000};
	struct sniff *sn;
	unsigned events = 0;
	size_t i, n;
	int64_t ts = 1700000000000000LL;
	int dlt;

	if (!quiet) {
		log_init("fuzz_smtp", true);
		quiet = true;
	}
	if (size < 1)
		return 0;
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	if ((sn = sniff_new(&c, sink, &events)) == NULL)
		return 0;
	for (i = 1; i + 2 <= size; i += n) {
		n = (size_t)data[i] << 8 | data[i + 1];
		i += 2;
		if (n > size - i)
			n = size - i;
		sniff_packet(sn, dlt, ts, data + i, n, n);
		ts += 1000;
	}
	sniff_flush(sn);
	sniff_free(sn);
	return 0;
}
