#!/usr/bin/env bash
# docs/amplifiers.md is generated from the amplifier table; fail when it is stale (run scripts/gen-amplifier-docs).
set -euo pipefail
bin=$1
src=$2
if ! diff -u "$src/docs/amplifiers.md" <("$bin" knowledge --markdown); then
  echo "docs/amplifiers.md is out of date: run scripts/gen-amplifier-docs" >&2
  exit 1
fi
table=$("$bin" knowledge)
grep -q '^ntp-monitor  *udp/123  *556.9  *4670 ntp-monitor' <<<"$table"
json=$("$bin" knowledge --json)
grep -q '^{"identifier":"ntp-monitor"' <<<"$json"
[ "$(wc -l <<<"$json")" -ge 29 ]
texts=$("$bin" knowledge --show scan_ntpmonitor --lang de)
grep -q 'disable monitor' <<<"$texts"
echo ok
