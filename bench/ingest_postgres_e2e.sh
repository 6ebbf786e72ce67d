#!/usr/bin/env bash
# End to end: `klartext ingest` of a generated scan_ntpmonitor report into a throwaway PostgreSQL (Unix
# socket, fsync off) and, for comparison, into SQLite; the same data as ingest_e2e.sh. Prints rows/s.
# Usage: bench/ingest_postgres_e2e.sh BUILD_DIR [ROWS]   (default 100000 rows)
set -euo pipefail
build=${1:-build/release}
rows=${2:-100000}
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$build" && pwd)/klartext
# shellcheck source=../tests/scripts/pg_cluster.sh
source "$here/../tests/scripts/pg_cluster.sh"
rc=0
pg_cluster_start 256MB || rc=$?
if ((rc != 0)); then
  echo "ingest_postgres_e2e: skipped (no PostgreSQL server)"
  exit 0
fi
data=$(mktemp -d)
trap 'rm -rf "$data"; pg_cluster_stop' EXIT
# Fewer customers and sessions than ingest_e2e.sh: their import is not measured here.
python3 "$here/ingest_e2e_gen.py" "$data/gen" "$rows" 10000 100000 10000 >/dev/null
report="$data/gen/2026-11-27-scan_ntpmonitor-123-org-asn.csv"

for store in "$data/k.db" "postgres:$pg_dsn"; do
  name=$([[ $store == postgres:* ]] && echo postgres || echo sqlite)
  "$bin" customers import --store "$store" --customers "$data/gen/customers.csv" \
    --assignments "$data/gen/assignments.csv" --sessions "$data/gen/sessions.csv" >/dev/null
  /usr/bin/time -f '%e %U %S %M' -o "$data/time" "$bin" ingest --store "$store" "$report" >"$data/out"
  read -r wall user sys rss <"$data/time"
  awk -v n="$name" -v r="$rows" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" 'BEGIN {
    printf "ingest_postgres_e2e: backend=%s rows=%d wall_s=%.2f rows_per_wall_s=%.0f klartext_cpu_s=%.2f peak_rss_MB=%.0f\n",
      n, r, w, r / w, u + s, m / 1024 }'
done
