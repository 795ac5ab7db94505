/*
 * fuzz_tlshello.c - libFuzzer target: the TLS hello and record parser
 *
 * Input: byte 0 chooses the role (bit 0: server) and how the rest is cut
 * into calls (bits 1-7: chunk size, 0 = all at once); the rest is one
 * direction of a TLS stream.  The same bytes are also given to the
 * hello parsers directly as a handshake message body.
 * FUZZ_SOURCES: collector/tlshello.c collector/tlscipher.c
 */
#include <stddef.h>
#include <stdint.h>

#include "collector/tlscipher.h"
#include "collector/tlshello.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlshello_stream s;
	struct tlshello_client ch;
	struct tlshello_server sh;
	size_t chunk, i, k;

	if (size < 1)
		return 0;
	chunk = data[0] >> 1;
	tlshello_stream_init(
	    &s, (data[0] & 1) ? TLSHELLO_SERVER : TLSHELLO_CLIENT);
	for (i = 1; i < size; i += k) {
		k = chunk == 0 || size - i < chunk ? size - i : chunk;
		tlshello_feed(&s, data + i, k);
	}
	if (s.hello && s.role == TLSHELLO_SERVER) {
		(void)tlshello_version_name(s.server.version);
		(void)tlscipher_name(s.server.cipher, NULL);
	}
	if (s.alert_clear)
		(void)tlshello_alert_name(s.alert_desc);
	tlshello_stream_free(&s);
	if (tlshello_client_parse(rd_make(data + 1, size - 1), &ch))
		(void)ch.nversions;
	if (tlshello_server_parse(rd_make(data + 1, size - 1), &sh))
		(void)sh.version;
	return 0;
}
