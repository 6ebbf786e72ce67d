#!/usr/bin/env bash
# CLI end to end: customers import, ingest, idempotent re-ingest, the dynamic IP at two times, unassigned list.
set -euo pipefail
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/var/k.db"
ex="$src/examples/customers"
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$bin" customers import --store "$db" --customers "$ex/customers.csv" --assignments "$ex/assignments.csv" \
  --sessions "$ex/sessions.csv" --radius-detail "$ex/radius-detail-20261127" >"$work/import.out"
grep -q "17 customers, 12 static assignments, 6 sessions" "$work/import.out" || fail "import summary: $(cat "$work/import.out")"

report="$src/tests/data/store/2026-11-27-scan_ntpmonitor-123-org-asn.csv"
"$bin" ingest --store "$db" "$report" >"$work/ingest1.out"
grep -q "5 new events, 4 assigned, 1 unassigned" "$work/ingest1.out" || fail "first ingest: $(cat "$work/ingest1.out")"
"$bin" ingest --store "$db" "$report" >"$work/ingest2.out"
grep -q "0 new reports, 1 already known, 0 new events" "$work/ingest2.out" || fail "re-ingest: $(cat "$work/ingest2.out")"

"$bin" cases --store "$db" --json >"$work/cases.json"
[ "$(wc -l <"$work/cases.json")" -eq 4 ] || fail "expected 4 cases: $(cat "$work/cases.json")"
python3 - "$work/cases.json" <<'PY'
import json, sys
cases = [json.loads(l) for l in open(sys.argv[1])]
dyn = sorted((c["customer_id"], c["first_seen"]) for c in cases if c["source_ip"] == "203.0.113.77")
assert dyn == [("K-2001", "2026-11-27T03:10:00+00:00"), ("K-2002", "2026-11-27T18:40:00+00:00")], dyn
for c in cases:
    assert c["classification"] == "vulnerable/ddos-amplifier/ntp-monitor", c
    assert c["state"] == "open" and c["event_count"] == 1 and len(c["event_ids"]) == 1, c
assert {c["customer_id"] for c in cases} == {"K-1001", "K-1002", "K-2001", "K-2002"}
PY
"$bin" cases --store "$db" --unassigned >"$work/un.out"
grep -q "192.0.2.99" "$work/un.out" || fail "unassigned list: $(cat "$work/un.out")"
"$bin" cases --store "$db" --customer K-2001 >"$work/k2001.out"
grep -q "203.0.113.77" "$work/k2001.out" || fail "customer filter: $(cat "$work/k2001.out")"

"$bin" customers lookup --store "$db" 203.0.113.10 2026-11-27T10:00:00Z --port 40000 | grep -q "K-2005" || fail "CGNAT lookup"
"$bin" customers lookup --store "$db" 203.0.113.10 2026-11-27T10:00:00Z | grep -q "no holder" || fail "CGNAT without port"

# Lifecycle from the command line: resolve, then close, each recorded with its reason.
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$work/cases.json")
"$bin" cases --store "$db" resolve "$id" --reason "customer upgraded ntpd" | grep -q resolved || fail "resolve"
"$bin" cases --store "$db" close "$id" --reason "verified" | grep -q closed || fail "close"
"$bin" cases --store "$db" --all --json --history | grep -q '"reason":"customer upgraded ntpd"' || fail "history"
echo ok
