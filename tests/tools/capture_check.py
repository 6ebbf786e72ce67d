#!/usr/bin/env python3
"""Compares klartext check --json results with what tshark counted on the wire.

usage: capture_check.py RESULTS.jsonl TSHARK_FIELDS.tsv
TSHARK_FIELDS.tsv: tshark -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e udp.length
(or ipv6.src/ipv6.dst in the same columns). For every result with a source, the UDP payload bytes
and packets tshark saw from target:port to the source must equal response_bytes/response_packets,
and the requests from the source must equal request_bytes * requests_sent.
Prints one line per result; exits 1 on any mismatch.
"""
import collections
import json
import sys


def split_hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def main():
    results = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    flows = collections.defaultdict(lambda: [0, 0])
    for line in open(sys.argv[2]):
        f = line.rstrip("\n").split("\t")
        if len(f) < 5 or not f[4]:
            continue
        src, sport, dst, dport, ulen = f[0], f[1], f[2], f[3], f[4]
        # ICMP errors quote the UDP header too: keep the outer (first) value of each field.
        src, sport, dst, dport, ulen = (x.split(",")[0] for x in (src, sport, dst, dport, ulen))
        key = (src, int(sport), dst, int(dport))
        flows[key][0] += 1
        flows[key][1] += int(ulen) - 8
    bad = 0
    for r in results:
        if not r.get("source"):
            continue
        shost, sport = split_hostport(r["source"])
        back = flows.get((r["target"], r["port"], shost, sport), [0, 0])
        out = flows.get((shost, sport, r["target"], r["port"]), [0, 0])
        ok = (back[0] == r["response_packets"] and back[1] == r["response_bytes"]
              and out[0] == r["requests_sent"] and out[1] == r["request_bytes"] * r["requests_sent"])
        wire_baf = back[1] / out[1] if out[1] else 0.0
        print(f"{'ok ' if ok else 'BAD'} {r['target']}:{r['port']} {r['probe']}:{r['variant']} from {r['source']}: "
              f"klartext {r['response_packets']} pkts {r['response_bytes']} B baf {r['baf']:.2f} | "
              f"tshark {back[0]} pkts {back[1]} B, requests {out[0]} pkts {out[1]} B, baf {wire_baf:.2f}")
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
