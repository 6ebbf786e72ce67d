#!/usr/bin/env bash
# Every golden letter parsed back by an independent MIME parser (Python email, policy.default).
# (The letters of a real run are checked the same way in run_examples_test.sh.)
set -euo pipefail
src=$2
command -v python3 >/dev/null || exit 77
python3 "$src/tests/scripts/check_letters_mime.py" --masked "$src"/tests/golden/letters/*/expected.eml
