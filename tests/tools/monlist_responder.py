#!/usr/bin/env python3
"""A test stand-in for ntpd 4.2.6's mode 7 monlist (no Debian 12 daemon answers mode 7).

Follows ntp 4.2.6 ntpd/ntp_request.c as described in shared/docs/amplification.md, sections 1.1-1.4:
- sanity checks of process_private (R=0, M=0, 1<=VN<=4, seq 0, err/MBZ 0, length >= 8), else silent drop;
- implementation 0 (UNIV): err 2; other than 0/2/3: err 1 (INFO_ERR_IMPL);
- REQ_MON_GETLIST_1 (42): info_monitor_1, 72 bytes (32-byte "v4 size" for implementation 2 clients);
- REQ_MON_GETLIST (20): info_monitor, 48 bytes (24-byte v4 size for implementation 2);
- any other request code: err 2; monitoring off: err 4 (INFO_ERR_NODATA);
- items packed while bytes + item <= 500 (RESP_DATA_SIZE): 6 x 72 -> 440-byte datagrams;
- at most 600 entries (MAXMONMEM); sequence 0.. with the M bit on all but the last datagram;
- sources outside --allow get no reply at all (restrict ... noquery).
Entries are made-up clients from the documentation ranges 192.0.2/24, 198.51.100/24, 203.0.113/24.
"""
import argparse
import ipaddress
import socket
import struct
import sys

RESP_DATA_SIZE = 500
MAX_ENTRIES = 600
ITEM = {(3, 42): 72, (2, 42): 32, (3, 20): 48, (2, 20): 24}


def clients(n):
    nets = [ipaddress.ip_network(x) for x in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
    out = []
    for net in nets:
        for host in net.hosts():
            out.append(int(host))
            if len(out) == n:
                return out
    return out


def item(code, size, i, addr, daddr):
    # Fields in network order as ntpd htonl()s them: avg/last interval, restrict flags, count, address...
    if code == 42:
        full = struct.pack("!IIIIIIIHBBII16s16s", 64 + i % 7, i % 1024, 0, 10 + i, addr, daddr, 0, 123, 3, 4,
                           0, 0, b"\0" * 16, b"\0" * 16)
    else:
        full = struct.pack("!IIIIIHBBII16s", 64 + i % 7, i % 1024, 0, 10 + i, addr, 123, 3, 4, 0, 0, b"\0" * 16)
    return full[:size]


def reply_header(more, vn, seq, impl, code, err, nitems, itemsize):
    b0 = 0x80 | (0x40 if more else 0) | (vn << 3) | 7
    return struct.pack("!BBBBHH", b0, seq & 0x7F, impl, code, (err << 12) | nitems, itemsize)


def handle(pkt, args, entries, daddr):
    if len(pkt) < 8:
        return []
    b0, b1, impl, code, e, m = struct.unpack("!BBBBHH", pkt[:8])
    mode, vn = b0 & 7, (b0 >> 3) & 7
    if mode != 7 or b0 & 0xC0 or not 1 <= vn <= 4 or b1 & 0x7F or e >> 12 or m >> 12:
        return []
    if impl not in (0, 2, 3):
        return [reply_header(False, vn, 0, impl, code, 1, 0, 0)]
    if impl == 0 or (impl, code) not in ITEM:
        return [reply_header(False, vn, 0, impl, code, 2, 0, 0)]
    if args.monitor_off:
        return [reply_header(False, vn, 0, impl, code, 4, 0, 0)]
    size = ITEM[(impl, code)]
    per = RESP_DATA_SIZE // size
    items = [item(code, size, i, a, daddr) for i, a in enumerate(entries)]
    chunks = [items[i:i + per] for i in range(0, len(items), per)] or [[]]
    out = []
    for seq, chunk in enumerate(chunks):
        more = seq < len(chunks) - 1
        out.append(reply_header(more, vn, seq, impl, code, 0, len(chunk), size) + b"".join(chunk))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=123)
    ap.add_argument("--entries", type=int, default=MAX_ENTRIES)
    ap.add_argument("--allow", action="append", default=[], help="source prefixes answered (default: all)")
    ap.add_argument("--monitor-off", action="store_true", help="answer err 4 (disable monitor)")
    args = ap.parse_args()
    entries = clients(min(args.entries, MAX_ENTRIES))
    allow = [ipaddress.ip_network(a) for a in args.allow]
    family = socket.AF_INET6 if ":" in args.address else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind((args.address, args.port))
    daddr = int(ipaddress.ip_address(args.address)) if family == socket.AF_INET else 0
    print("ready", flush=True)
    while True:
        pkt, peer = s.recvfrom(65535)
        if allow and not any(ipaddress.ip_address(peer[0]) in n for n in allow):
            continue
        for dgram in handle(pkt, args, entries, daddr):
            s.sendto(dgram, peer)


if __name__ == "__main__":
    sys.exit(main())
