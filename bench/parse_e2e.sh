#!/usr/bin/env bash
# End-to-end benchmark: `klartext parse` of a generated 1,000,000-row scan_ntpmonitor report
# (current column set, documentation addresses). Prints rows/s (wall and CPU) and peak RSS.
# Usage: parse_e2e.sh BUILD_DIR [ROWS]
set -eu
build=$1
rows=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/klartext"
[ -x "$bin" ] || { echo "no klartext binary in $build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
input="$work/2026-11-27-scan_ntpmonitor-123-org-asn.csv"
python3 "$here/gen_ntpmonitor.py" "$rows" "$input"
size=$(stat -c %s "$input")
/usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" parse "$input" --issues "$work/issues.jsonl" > /dev/null
read -r wall user sys rss_kb < "$work/time"
issues=$(wc -l < "$work/issues.jsonl")
python3 - "$rows" "$size" "$wall" "$user" "$sys" "$rss_kb" "$issues" <<'PY'
import sys
rows, size, wall, user, sys_, rss, issues = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
cpu = user + sys_
print(f"parse_e2e: rows={rows} input_mb={size / 1e6:.1f} wall_s={wall:.2f} cpu_s={cpu:.2f}")
print(f"parse_e2e: rows_per_s_wall={rows / max(wall, 1e-9):,.0f} rows_per_s_cpu={rows / max(cpu, 1e-9):,.0f}")
print(f"parse_e2e: peak_rss_mb={rss / 1024:.1f} issues={issues}")
PY
