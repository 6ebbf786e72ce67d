#!/usr/bin/env bash
# End to end: `klartext ingest` of a 1,000,000-row scan_ntpmonitor report into SQLite with 100,000
# customers, 100,000 static prefixes and 1,000,000 sessions. Prints rows/s by CPU time (user+sys of
# the ingest process: the fair figure on a shared machine) and by wall time, and peak RSS.
# Usage: bench/ingest_e2e.sh BUILD_DIR [ROWS]
set -euo pipefail
build=${1:-build/release}
rows=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$build" && pwd)/klartext
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$here/ingest_e2e_gen.py" "$work/data" "$rows"
db="$work/k.db"
"$bin" customers import --store "$db" --customers "$work/data/customers.csv" \
  --assignments "$work/data/assignments.csv" --sessions "$work/data/sessions.csv" >/dev/null

report="$work/data/2026-11-27-scan_ntpmonitor-123-org-asn.csv"
start=$(date +%s.%N)
/usr/bin/time -f '%U %S %M' -o "$work/rss" "$bin" ingest --store "$db" "$report" >"$work/out"
end=$(date +%s.%N)
cat "$work/out"
read -r user sys rss_kb < <(tail -1 "$work/rss")
awk -v s="$start" -v e="$end" -v u="$user" -v y="$sys" -v r="$rows" -v m="$rss_kb" -v d="$(du -m "$db" | cut -f1)" 'BEGIN {
  cpu = u + y
  printf "ingest_e2e: rows=%d cpu_seconds=%.2f (user %.2f sys %.2f) rows_per_cpu_s=%.0f wall_seconds=%.2f rows_per_wall_s=%.0f peak_rss_MB=%.0f db_MB=%d\n",
    r, cpu, u, y, r / cpu, e - s, r / (e - s), m / 1024, d }'
# Re-ingest: the same report adds nothing.
"$bin" ingest --store "$db" "$report" | tail -1
