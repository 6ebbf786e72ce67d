#!/usr/bin/env python3
"""Generates a scan_ntpmonitor report with the current Shadowserver column set (documentation IPs only).

Usage: gen_ntpmonitor.py ROWS OUT.csv
"""
import sys

COLUMNS = ["timestamp", "severity", "ip", "protocol", "port", "hostname", "tag", "asn", "geo", "region",
           "city", "naics", "hostname_source", "sector", "packets", "response_size", "amplification"]
NETS = ["192.0.2.", "198.51.100.", "203.0.113."]


def main():
    rows, out = int(sys.argv[1]), sys.argv[2]
    with open(out, "w", newline="") as f:
        f.write(",".join('"%s"' % c for c in COLUMNS) + "\n")
        buf = []
        for i in range(rows):
            host = i % 254 + 1
            net = NETS[(i // 254) % 3]
            sec = i % 86400
            ts = "2026-11-27 %02d:%02d:%02d" % (sec // 3600, sec // 60 % 60, sec % 60)
            packets = 2 + i % 100
            size = packets * 468
            buf.append('"%s",medium,%s%d,udp,123,host-%d.example.org,ntp-monitor,64496,DE,"Niedersachsen",'
                       '"Hannover",517311,rdns,"Communications, Service Provider, and Hosting Service",%d,%d,%.2f\n'
                       % (ts, net, host, host, packets, size, size / 8.0))
            if len(buf) >= 10000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


if __name__ == "__main__":
    main()
