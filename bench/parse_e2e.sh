#!/usr/bin/env bash
# End-to-end benchmark: `klartext parse` of a generated 1,000,000-row scan_ntpmonitor report
# (current column set, documentation addresses). Prints rows/s from CPU time (user+sys, the primary
# figure), wall time and peak RSS; with KLARTEXT_BENCH_INSTR=1 also instructions/row under callgrind
# (100,000 rows minus a one-row run, so start-up is not counted), which stays meaningful on a loaded
# machine where wall time does not.
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
# The primary figure is CPU time (user+sys): the target is one core, and a shared machine depresses wall time.
print(f"parse_e2e: rows_per_s_cpu={rows / max(cpu, 1e-9):,.0f} (target 1,000,000 on one core)")
print(f"parse_e2e: rows={rows} input_mb={size / 1e6:.1f} cpu_s={cpu:.2f} wall_s={wall:.2f} "
      f"rows_per_s_wall={rows / max(wall, 1e-9):,.0f}")
print(f"parse_e2e: peak_rss_mb={rss / 1024:.1f} issues={issues}")
PY

if [ "${KLARTEXT_BENCH_INSTR:-0}" = 1 ] && command -v valgrind >/dev/null; then
  small="$work/small/2026-11-27-scan_ntpmonitor-123-org-asn.csv"
  one="$work/one/2026-11-27-scan_ntpmonitor-123-org-asn.csv"
  mkdir -p "$work/small" "$work/one"
  head -n 100001 "$input" >"$small"
  head -n 2 "$input" >"$one"
  refs() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" parse "$1" 2>&1 >/dev/null |
      sed -n 's/.*refs: *//p' | tr -d ,
  }
  big_refs=$(refs "$small")
  one_refs=$(refs "$one")
  echo "parse_e2e: instructions_per_row=$(((big_refs - one_refs) / 99999)) startup_instructions=$one_refs"
fi
