#!/usr/bin/env bash
# Every generated letter parsed back by an independent MIME parser (Python email, policy.default):
# the golden letters, and the letters `klartext run` writes for the bundled examples.
set -euo pipefail
bin=$1
src=$2
command -v python3 >/dev/null || exit 77
python3 "$src/tests/scripts/check_letters_mime.py" --masked "$src"/tests/golden/letters/*/expected.eml

# The outbox of a run on the examples (needs the customers and run commands and the examples).
if ! "$bin" run --help >/dev/null 2>&1 || [[ ! -d "$src/examples/inbox" || ! -d "$src/examples/customers" ]]; then
  echo "letters_mime_test: no run command or examples yet; checked the golden letters only"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$src/scripts/run-examples" "$bin" "$work" >"$work/run.log"
shopt -s nullglob
mails=("$work"/outbox/new/*)
if ((${#mails[@]} == 0)); then
  echo "letters_mime_test: the example run wrote no letters"
  cat "$work/run.log"
  exit 1
fi
python3 "$src/tests/scripts/check_letters_mime.py" "${mails[@]}"
