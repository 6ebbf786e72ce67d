#!/usr/bin/env python3
"""Generates the ingest benchmark data: customers, static assignments, sessions, and a scan_ntpmonitor report.

Addresses are synthetic (10.0.0.0/8 and 2001:db8::/32); nothing here is real data.
Usage: ingest_e2e_gen.py OUTDIR [ROWS] [CUSTOMERS] [SESSIONS] [PREFIXES]
"""
import os
import random
import sys

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
n_customers = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
n_sessions = int(sys.argv[4]) if len(sys.argv) > 4 else 1_000_000
n_prefixes = int(sys.argv[5]) if len(sys.argv) > 5 else 100_000
rng = random.Random(20261127)
os.makedirs(out, exist_ok=True)


def v4(n):
    return f"{(n >> 24) & 255}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


with open(f"{out}/customers.csv", "w") as f:
    f.write("id,name,emails,language,time_zone\n")
    for i in range(n_customers):
        lang = "de" if i % 3 else "en"
        f.write(f"C{i},Customer {i},c{i}@example.org,{lang},Europe/Berlin\n")

# Static prefixes: /28s in 10.0.0.0/10 (one per customer slot).
statics = []
with open(f"{out}/assignments.csv", "w") as f:
    f.write("customer,prefix,valid_from,valid_to\n")
    for i in range(n_prefixes):
        base = 0x0A000000 + i * 16
        statics.append(base)
        f.write(f"C{rng.randrange(n_customers)},{v4(base)}/28,,\n")

# Sessions: a dynamic pool 10.64.0.0/12-ish, ~3 sessions per address over the day before the report.
day = 1795737600  # 2026-11-27T00:00:00Z
pool = max(1, n_sessions // 3)
sessions = []
with open(f"{out}/sessions.csv", "w") as f:
    f.write("customer,address,start,stop,session_id\n")
    for i in range(n_sessions):
        addr = 0x0A400000 + (i % pool)
        slot = i // pool  # consecutive, non-overlapping sessions per address
        start = day - 86400 + slot * 28800
        stop = start + 28800 - 60
        sessions.append((addr, start, stop))
        f.write(f"C{rng.randrange(n_customers)},{v4(addr)},{start},{stop},s{i}\n")

# The report: half the rows on session addresses (inside a session), 40% in static prefixes, 10% nobody.
hdr = '"timestamp","ip","protocol","port","hostname","packets","size","asn","geo","region","city","naics","sic","sector","amplification"\n'
with open(f"{out}/2026-11-27-scan_ntpmonitor-123-org-asn.csv", "w") as f:
    f.write(hdr)
    for i in range(rows):
        k = rng.randrange(10)
        if k < 5:
            addr, start, stop = sessions[rng.randrange(len(sessions))]
            t = rng.randrange(start, stop)
        elif k < 9:
            addr = statics[rng.randrange(len(statics))] + rng.randrange(16)
            t = day + rng.randrange(86400)
        else:
            addr = 0x0B000000 + rng.randrange(1 << 20)
            t = day + rng.randrange(86400)
        hh, mm, ss = (t % 86400) // 3600, (t % 3600) // 60, t % 60
        dd = 27 if t >= day else 26
        pk = rng.randrange(1, 200)
        f.write(f'"2026-11-{dd} {hh:02}:{mm:02}:{ss:02}",{v4(addr)},udp,123,,{pk},{pk * 440},64500,DE,Hessen,'
                f'Frankfurt,0,0,,{rng.randrange(1, 5000)}.{rng.randrange(100):02}\n')
