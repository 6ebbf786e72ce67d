#!/usr/bin/env bash
# `klartext ingest` stores mails that are not reports with their kind and verdict; `klartext reports` lists them.
set -euo pipefail
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/k.db"
g="$src/tests/golden/mail"
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

mkdir -p "$work/in"
for f in dmarc-aggregate bounce auto-reply shadowserver-ntp-monitor-zip; do cp "$g/$f/input.eml" "$work/in/$f.eml"; done
printf 'no report here, just bytes\x01\x02\n' >"$work/in/garbage.bin"
"$bin" ingest --store "$db" "$work/in" >"$work/ingest.out" || fail "ingest: $(cat "$work/ingest.out")"
grep -q "^ingest: 5 new reports" "$work/ingest.out" || fail "ingest summary: $(cat "$work/ingest.out")"

"$bin" reports --store "$db" --json >"$work/all.jsonl"
python3 - "$work/all.jsonl" <<'PY'
import json, sys
rows = {r["input"].rsplit("/", 1)[-1]: r for r in map(json.loads, open(sys.argv[1]))}
assert len(rows) == 5, rows
for name, verdict in [("dmarc-aggregate.eml", "dmarc-aggregate"), ("bounce.eml", "delivery-status"),
                      ("auto-reply.eml", "auto-reply")]:
    r = rows[name]
    assert r["kind"] == "not-a-report" and r["verdict"] == verdict and r["events"] == 0, r
    assert r["complete"] is True and len(r["sha256"]) == 64, r
r = rows["shadowserver-ntp-monitor-zip.eml"]
assert r["kind"] == "abuse-report" and r["events"] > 0, r
assert r["verdict"] == "vulnerable/ddos-amplifier/ntp-monitor", r
r = rows["garbage.bin"]
assert r["kind"] == "unreadable" and r["verdict"] == "unknown-format" and r["issues"] >= 1, r
for r in rows.values():
    assert set(r) >= {"id", "received", "input", "format", "kind", "verdict", "events", "issues"}, r
PY

"$bin" reports --store "$db" --kind not-a-report >"$work/nar.out"
[ "$(grep -c 'not-a-report' "$work/nar.out")" -eq 3 ] || fail "--kind not-a-report: $(cat "$work/nar.out")"
head -1 "$work/nar.out" | grep -q "^ID .*KIND .*VERDICT .*EVENTS" || fail "table header: $(cat "$work/nar.out")"
grep -q "dmarc-aggregate" "$work/nar.out" || fail "dmarc row: $(cat "$work/nar.out")"
"$bin" reports --store "$db" --kind abuse-report --json | grep -c '"kind":"abuse-report"' | grep -qx 1 ||
  fail "--kind abuse-report"
"$bin" reports --store "$db" --kind unreadable | grep -q "garbage.bin" || fail "--kind unreadable"
if "$bin" reports --store "$db" --kind spam >/dev/null 2>&1; then fail "unknown kind accepted"; fi
echo "reports_list_test: ok"
