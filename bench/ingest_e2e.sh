#!/usr/bin/env bash
# End to end: `klartext ingest` of a 1,000,000-row scan_ntpmonitor report into SQLite with 100,000
# customers, 100,000 static prefixes and 1,000,000 sessions. Prints rows/s by CPU time (user+sys of
# the ingest process: the fair figure on a shared machine) and by wall time, and peak RSS, for each
# of RUNS ingests (default 3) into a fresh copy of the same customer store, then the median run's.
# Usage: bench/ingest_e2e.sh BUILD_DIR [ROWS]   (environment: RUNS)
set -euo pipefail
build=${1:-build/release}
rows=${2:-1000000}
runs=${RUNS:-3}
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$build" && pwd)/klartext
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 "$here/ingest_e2e_gen.py" "$work/data" "$rows"
base="$work/base.db"
"$bin" customers import --store "$base" --customers "$work/data/customers.csv" \
  --assignments "$work/data/assignments.csv" --sessions "$work/data/sessions.csv" >/dev/null

report="$work/data/2026-11-27-scan_ntpmonitor-123-org-asn.csv"
db="$work/k.db"
for run in $(seq 1 "$runs"); do
  rm -f "$db" "$db-wal" "$db-shm"
  cp "$base" "$db"
  sync
  start=$(date +%s.%N)
  /usr/bin/time -f '%U %S %M' -o "$work/rss" "$bin" ingest --store "$db" "$report" >"$work/out"
  end=$(date +%s.%N)
  [ "$run" = 1 ] && cat "$work/out"
  read -r user sys rss_kb < <(tail -1 "$work/rss")
  awk -v n="$run" -v s="$start" -v e="$end" -v u="$user" -v y="$sys" -v r="$rows" -v m="$rss_kb" -v d="$(du -m "$db" | cut -f1)" 'BEGIN {
    cpu = u + y
    printf "ingest_e2e run %d: rows=%d cpu_seconds=%.2f (user %.2f sys %.2f) rows_per_cpu_s=%.0f wall_seconds=%.2f rows_per_wall_s=%.0f peak_rss_MB=%.0f db_MB=%d\n",
      n, r, cpu, u, y, r / cpu, e - s, r / (e - s), m / 1024, d }' | tee -a "$work/runs"
done
# The median run by wall time (of an even number, the slower of the middle two).
sort -t= -k5,5n "$work/runs" | awk -v k=$(((runs + 1) / 2)) 'NR == k { sub(/^ingest_e2e run [0-9]+:/, "ingest_e2e median of '"$runs"':"); print }'
# Re-ingest: the same report adds nothing.
"$bin" ingest --store "$db" "$report" | tail -1
