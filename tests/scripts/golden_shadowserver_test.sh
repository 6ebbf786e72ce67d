#!/usr/bin/env bash
# Golden tests for the Shadowserver parser: tests/golden/shadowserver/<case>/ holds one input file,
# expected.jsonl (events), expected_issues.jsonl (parse issues) and description.txt.
# Usage: golden_shadowserver_test.sh KLARTEXT_BINARY SOURCE_DIR
# KLARTEXT_UPDATE_GOLDEN=1 rewrites the expected files (review the result with git diff).
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
root="$src/tests/golden/shadowserver"
export TZ=UTC LC_ALL=C
fail=0
cases=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for dir in "$root"/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  input=$(cd "$dir" && ls | grep -v -e '^expected.jsonl$' -e '^expected_issues.jsonl$' -e '^description.txt$' | head -n1)
  if [ -z "$input" ]; then
    echo "FAIL $name: no input file"
    fail=1
    continue
  fi
  cases=$((cases + 1))
  # Run inside the case folder so issue records name the input by its bare file name.
  (cd "$dir" && "$bin" parse "$input" --issues "$tmp/issues.jsonl" > "$tmp/events.jsonl")
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "FAIL $name: klartext exited with $rc"
    fail=1
    continue
  fi
  if [ "${KLARTEXT_UPDATE_GOLDEN:-0}" = 1 ]; then
    cp "$tmp/events.jsonl" "$dir/expected.jsonl"
    cp "$tmp/issues.jsonl" "$dir/expected_issues.jsonl"
    echo "updated $name"
    continue
  fi
  if ! diff -u "$dir/expected.jsonl" "$tmp/events.jsonl" > "$tmp/diff"; then
    echo "FAIL $name: events differ"
    head -n 40 "$tmp/diff"
    fail=1
  fi
  if ! diff -u "$dir/expected_issues.jsonl" "$tmp/issues.jsonl" > "$tmp/diff"; then
    echo "FAIL $name: issues differ"
    head -n 40 "$tmp/diff"
    fail=1
  fi
done
echo "golden shadowserver: $cases cases"
[ "$cases" -gt 0 ] || exit 1
exit $fail
