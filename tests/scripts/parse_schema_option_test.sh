#!/usr/bin/env bash
# `klartext parse --schema`: an unreadable schema file fails early with a clear message, before any input.
set -euo pipefail
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

input="$src/examples/inbox/2026-11-27-scan_ntpmonitor-123-org-asn.csv"
if "$bin" parse --schema "$tmp/missing.json" "$input" >"$tmp/out" 2>"$tmp/err"; then
  echo "missing schema accepted" >&2
  exit 1
fi
grep -q "cannot read --schema file '$tmp/missing.json'" "$tmp/err"
[ ! -s "$tmp/out" ]
if "$bin" parse --schema "$tmp" "$input" >"$tmp/out" 2>"$tmp/err"; then
  echo "directory as schema accepted" >&2
  exit 1
fi
grep -q "cannot read --schema file" "$tmp/err"
"$bin" parse --schema "$src/data/shadowserver/intelmq.json" "$input" >"$tmp/out"
grep -q '"classification.type":"ddos-amplifier"' "$tmp/out"
echo ok
