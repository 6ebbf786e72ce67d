#!/usr/bin/env bash
# Golden tests of the mail-borne formats and free text: tests/golden/<format>/<case>/input.* -> expected.jsonl
# (events) and expected.summary (the --summary line and the issues). Args: klartext binary, source dir.
# KLARTEXT_GOLDEN_UPDATE=1 rewrites the expected files (review them with git diff).
set -uo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
export TZ=UTC LC_ALL=C
fail=0
count=0
for fmt in mail x-arf xarf arf iodef spamcop cert-notice acns threatexchange freetext; do
  for dir in "$src"/tests/golden/"$fmt"/*/; do
    input=$(ls "$dir" 2>/dev/null | grep -E '^input\.' | head -1)
    [[ -n "$input" ]] || continue
    count=$((count + 1))
    tmp=$(mktemp -d)
    # Run inside the case directory so the input name in the output is stable ("input.eml").
    (cd "$dir" && "$bin" parse --summary --issues "$tmp/issues" "$input" >"$tmp/events" 2>"$tmp/stderr")
    rc=$?
    { grep '^{"input"' "$tmp/stderr"; cat "$tmp/issues"; } >"$tmp/summary"
    if [[ $rc -ne 0 ]]; then
      echo "FAIL ${dir#"$src"/}: exit $rc"; cat "$tmp/stderr"; fail=1
    elif [[ "${KLARTEXT_GOLDEN_UPDATE:-}" == 1 ]]; then
      cp "$tmp/events" "$dir/expected.jsonl"
      cp "$tmp/summary" "$dir/expected.summary"
    else
      for f in jsonl summary; do
        want="$dir/expected.$f"
        got="$tmp/events"
        [[ $f == summary ]] && got="$tmp/summary"
        if ! diff -u "$want" "$got" >"$tmp/diff"; then
          echo "FAIL ${dir#"$src"/} expected.$f"; head -40 "$tmp/diff"; fail=1
        fi
      done
    fi
    rm -rf "$tmp"
  done
done
echo "parse golden cases: $count"
[[ $count -gt 0 ]] || exit 77
exit $fail
