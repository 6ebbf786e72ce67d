#!/usr/bin/env bash
# `klartext config`: --example round-trips through --check, bad files fail naming line and key, --show works.
set -euo pipefail
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" config --example >"$tmp/example.toml"
"$bin" config --check "$tmp/example.toml" | grep -qx "$tmp/example.toml: ok"
"$bin" config --check "$src/examples/klartext.toml" >/dev/null

printf '[store]\npath = "x.db"\n\n[cases]\nevidence_rows = 3\n' >"$tmp/bad.toml"
if "$bin" config --check "$tmp/bad.toml" 2>"$tmp/err"; then
  echo "bad config accepted" >&2
  exit 1
fi
grep -q "bad.toml:5: unknown key 'cases.evidence_rows'" "$tmp/err"

printf '[store]\npath = "x.db"\n' >"$tmp/good.toml"
"$bin" --config "$tmp/good.toml" config --show >"$tmp/show"
grep -q '^path = "x.db"$' "$tmp/show"
grep -q '^# default: "var/klartext.db"$' "$tmp/show"
"$bin" config --keys | grep -q '^limits.max_line_bytes (integer, default 1048576): '
echo ok
