#!/usr/bin/env python3
# mkcorpus.py - seed corpora for fuzz_smtp and fuzz_tlshello from captures
#
#   python3 tests/fuzz/mkcorpus.py SMTPDIR TLSDIR PCAP[:SELECTOR]...
#
# fuzz_smtp: one file per TCP connection of each capture: byte 0 is the
# link type selector (fuzz_smtp.c: 0 Ethernet, 1 SLL, 2 SLL2, 3 NULL,
# 4 LOOP, 5 raw), then each packet as a 2-byte length and its bytes.
# fuzz_tlshello: each direction's bytes after "220 ... TLS" (or from the
# start), byte 0 = role | chunk << 1, as fuzz_tlshello.c reads them.
# Only classic pcap input with whole packets; a tool for the test data.
import os
import struct
import sys


def packets(path):
    with open(path, 'rb') as f:
        hdr = f.read(24)
        magic = struct.unpack('<I', hdr[:4])[0]
        e = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        dlt = struct.unpack(e + 'I', hdr[20:24])[0]
        while True:
            ph = f.read(16)
            if len(ph) < 16:
                return
            _, _, incl, _ = struct.unpack(e + 'IIII', ph)
            yield dlt, f.read(incl)


def ip_off(dlt, p):
    if dlt == 1:
        off, t = 12, 0x8100
        while t in (0x8100, 0x88a8):
            t = struct.unpack('>H', p[off:off + 2])[0]
            off += 2 if t not in (0x8100, 0x88a8) else 4
        return off
    return {113: 16, 276: 20, 0: 4, 108: 4, 12: 0, 101: 0}[dlt]


def tcp_of(dlt, p):
    o = ip_off(dlt, p)
    v = p[o] >> 4
    if v == 4:
        hl = (p[o] & 15) * 4
        src, dst = p[o + 12:o + 16], p[o + 16:o + 20]
        tot = struct.unpack('>H', p[o + 2:o + 4])[0]
        t = o + hl
        end = o + tot
    else:
        src, dst = p[o + 8:o + 24], p[o + 24:o + 40]
        t = o + 40
        end = t + struct.unpack('>H', p[o + 4:o + 6])[0]
    sp, dp, seq = struct.unpack('>HHI', p[t:t + 8])
    thl = (p[t + 12] >> 4) * 4
    return (src, sp), (dst, dp), seq, p[t + 12 + 1], p[t + thl:end]


def main():
    smtp_dir, tls_dir = sys.argv[1], sys.argv[2]
    n = 0
    for arg in sys.argv[3:]:
        path, _, sel = arg.partition(':')
        sel = int(sel or 0)
        flows = {}
        for dlt, p in packets(path):
            a, b, seq, flags, data = tcp_of(dlt, p)
            key = tuple(sorted([a, b]))
            flows.setdefault(key, []).append((a, seq, flags, data, p))
        for key, pk in flows.items():
            n += 1
            base = os.path.basename(path).split('.')[0]
            with open(os.path.join(smtp_dir, '%s-%03d' % (base, n)), 'wb') as f:
                f.write(bytes([sel]))
                for _, _, _, _, p in pk:
                    f.write(struct.pack('>H', len(p)) + p)
            if tls_dir == '-':
                continue
            # In-order streams per direction (lab captures are in order).
            client = pk[0][0]
            streams = {True: b'', False: b''}
            seen = set()
            for a, seq, flags, data, _ in pk:
                if data and (a, seq) not in seen:
                    seen.add((a, seq))
                    streams[a == client] += data
            for is_client, s in streams.items():
                i = s.find(b'220 2.0.0 Ready to start TLS\r\n')
                if not is_client:
                    s = s[i + 31:] if i >= 0 else s
                else:
                    j = s.upper().find(b'STARTTLS\r\n')
                    s = s[j + 10:] if j >= 0 else s
                if not s.startswith(b'\x16'):
                    continue
                role = 0 if is_client else 1
                s = s[:4096]
                for chunk in (0, 1, 7):
                    name = '%s-%03d-%s-%d' % (base, n,
                                              'c' if is_client else 's', chunk)
                    with open(os.path.join(tls_dir, name), 'wb') as f:
                        f.write(bytes([role | chunk << 1]) + s)


main()
