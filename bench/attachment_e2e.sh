#!/usr/bin/env bash
# End-to-end benchmark: `klartext parse` of a Shadowserver report mail whose 1,000,000-row
# scan_ntpmonitor CSV comes zipped, and gzipped, as an attachment, against the same CSV parsed plain.
# Prints rows/s (CPU time primary, wall) of the fastest of RUNS (default 5) interleaved runs per
# input, peak RSS and the attachment/plain ratio of CPU rates (target: >= 0.80).
# Usage: [RUNS=N] attachment_e2e.sh BUILD_DIR [ROWS]
set -eu
build=$1
rows=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/klartext"
[ -x "$bin" ] || { echo "no klartext binary in $build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
csv_name=2026-11-27-scan_ntpmonitor-123-org-asn.csv
csv="$work/$csv_name"
python3 "$here/gen_ntpmonitor.py" "$rows" "$csv"
python3 - "$csv" "$work" <<'PY'
import email.message, email.policy, gzip, os, sys, zipfile
csv, work = sys.argv[1], sys.argv[2]
name = os.path.basename(csv)
with zipfile.ZipFile(os.path.join(work, name + ".zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.write(csv, name)
with open(csv, "rb") as src, gzip.open(os.path.join(work, name + ".gz"), "wb") as dst:
    while True:
        block = src.read(1 << 20)
        if not block:
            break
        dst.write(block)
for ext, subtype in (("zip", "zip"), ("gz", "gzip")):
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m["From"] = "Shadowserver <autoreports@example.org>"
    m["To"] = "abuse@example.org"
    m["Subject"] = "[example.org] Shadowserver DE NTP Monitor Report: 2026-11-27"
    m["Date"] = "Fri, 27 Nov 2026 10:00:00 +0000"
    m["Message-ID"] = "<bench-%s@example.org>" % ext
    m.set_content("Attached is the Shadowserver NTP Monitor report for 2026-11-27.\n")
    with open(os.path.join(work, name + "." + ext), "rb") as f:
        m.add_attachment(f.read(), maintype="application", subtype=subtype, filename=name + "." + ext)
    with open(os.path.join(work, "report-%s.eml" % ext), "wb") as f:
        f.write(m.as_bytes())
PY
# The timed runs write the events to /dev/null (into a file, 1.6-1.9 GB of page cache cost 0.4-0.9 s of
# system time that varied from run to run more than the difference measured here; into a pipe, the
# reader's wake-ups). Each input runs ${RUNS:-5} times, interleaved with the others, and the fastest
# run by CPU time counts; one more untimed run per input counts the events.
# Times come from wait4()'s resource usage in microseconds (/usr/bin/time rounds to 10 ms, 1.7 % of
# the plain run).
measure() {  # label input -> "label wall user sys rss_kb events bytes issues"
  read -r wall user sys rss_kb < <(python3 - "$bin" parse "$2" --issues "$work/issues-$1.jsonl" <<'PY'
import os, subprocess, sys, time
start = time.monotonic()
with open(os.devnull, "wb") as null:
    child = subprocess.Popen(sys.argv[1:], stdout=null)
    _, status, usage = os.wait4(child.pid, 0)
if status != 0:
    sys.exit("klartext exited with status %d" % status)
print("%.6f %.6f %.6f %d" % (time.monotonic() - start, usage.ru_utime, usage.ru_stime, usage.ru_maxrss))
PY
  )
  echo "$1 $wall $user $sys $rss_kb ${events[$1]} $(stat -c %s "$2") $(wc -l <"$work/issues-$1.jsonl")"
}
declare -A events
events[plain]=$("$bin" parse "$csv" | wc -l)
events[zip]=$("$bin" parse "$work/report-zip.eml" | wc -l)
events[gzip]=$("$bin" parse "$work/report-gz.eml" | wc -l)
for _ in $(seq "${RUNS:-5}"); do
  measure plain "$csv"
  measure zip "$work/report-zip.eml"
  measure gzip "$work/report-gz.eml"
done >"$work/results"
python3 - "$rows" "$work/results" <<'PY'
import sys
rows = int(sys.argv[1])
res = {}
best = {}
for line in open(sys.argv[2]):
    label, wall, user, sys_, rss, events, size, issues = line.split()
    cpu = float(user) + float(sys_)
    if label not in best or cpu < best[label][0]:
        best[label] = (cpu, line)
for label in ("plain", "zip", "gzip"):
    label, wall, user, sys_, rss, events, size, issues = best[label][1].split()
    cpu = float(user) + float(sys_)
    res[label] = rows / max(cpu, 1e-9)
    print(f"attachment_e2e: {label:5} input_mb={int(size) / 1e6:6.1f} events={events} issues={issues} "
          f"wall_s={float(wall):.3f} cpu_s={cpu:.3f} rows_per_s_cpu={rows / max(cpu, 1e-9):,.0f} "
          f"rows_per_s_wall={rows / max(float(wall), 1e-9):,.0f} peak_rss_mb={int(rss) / 1024:.1f}")
for label in ("zip", "gzip"):
    print(f"attachment_e2e: {label}/plain ratio (CPU rows/s) = {res[label] / res['plain']:.2f} (target >= 0.80)")
PY
