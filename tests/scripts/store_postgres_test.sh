#!/usr/bin/env bash
# CLI end to end against a real PostgreSQL (throwaway server, Unix socket only): the same results as with SQLite.
# Runs customers import, ingest (twice), cases, notify --dry-run, notify, customers lookup on both backends
# and diffs the outputs with ids kept and the wall-clock times masked.
set -euo pipefail
bin=$1
src=$2
pgbin=${KLARTEXT_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [[ -z "$pgbin" || ! -x "$pgbin/initdb" || ! -x "$pgbin/postgres" ]]; then
  echo "skip: PostgreSQL server binaries not installed (Debian package postgresql)"
  exit 77
fi
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Short path: the socket path must stay under 107 bytes. A roomy tmpfs spares the disk.
base=/tmp
if [[ -w /dev/shm ]] && (($(df --output=avail -k /dev/shm 2>/dev/null | tail -n 1) > 1048576)); then base=/dev/shm; fi
work=$(mktemp -d "$base/klartext-pgs-XXXXXX")
as_server=()
if [[ $(id -u) -eq 0 ]]; then
  # PostgreSQL refuses to run as root: the server runs as an unprivileged system user.
  user=postgres
  getent passwd postgres >/dev/null || user=nobody
  chown "$user" "$work"
  as_server=(runuser -u "$user" --)
fi
cleanup() {
  if [[ -f "$work/data/postmaster.pid" ]]; then
    "${as_server[@]}" "$pgbin/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s%3N)
"${as_server[@]}" "$pgbin/initdb" -D "$work/data" -U klartext -A trust -E UTF8 --locale=C -N --wal-segsize=1 >"$work/initdb.log" 2>&1 ||
  fail "initdb: $(cat "$work/initdb.log")"
"${as_server[@]}" "$pgbin/pg_ctl" -D "$work/data" -l "$work/data/server.log" -w -t 60 \
  -o "-k $work -c listen_addresses='' -F -c shared_buffers=16MB -c max_connections=20" start >/dev/null ||
  fail "postgres did not start: $(cat "$work/data/server.log")"
"$pgbin/createdb" -h "$work" -U klartext klartext || fail "createdb"
echo "postgres up in $(($(date +%s%3N) - start)) ms"

ex="$src/examples/customers"
now=2026-11-28T06:00:00Z
# Runs the same steps against one store; $1 = name, $2 = --store value, $3 = config [store] lines.
run() {
  local name=$1 store=$2
  local out="$work/$name"
  mkdir -p "$out"
  printf '%s\n[delivery]\noutbox = "%s"\n' "$3" "$out/outbox" >"$out/klartext.toml"
  local k=("$bin" --config "$out/klartext.toml")
  "${k[@]}" customers import --store "$store" --customers "$ex/customers.csv" --assignments "$ex/assignments.csv" \
    --sessions "$ex/sessions.csv" --radius-detail "$ex/radius-detail-20261127" >"$out/import.out"
  "${k[@]}" ingest --store "$store" "$src/examples/inbox" "$src/tests/data/store/2026-11-27-scan_ntpmonitor-123-org-asn.csv" \
    >"$out/ingest1.out"
  "${k[@]}" ingest --store "$store" "$src/examples/inbox" >"$out/ingest2.out"
  "${k[@]}" cases --store "$store" --all --json --history >"$out/cases1.json"
  "${k[@]}" cases --store "$store" --unassigned >"$out/unassigned.out"
  "${k[@]}" notify --dry-run --now "$now" >"$out/dry-run.mime" 2>"$out/dry-run.summary"
  "${k[@]}" notify --now "$now" >"$out/notify.out"
  "${k[@]}" notify --now "$now" >"$out/notify2.out"
  "${k[@]}" cases --store "$store" --all --json --history >"$out/cases2.json"
  "${k[@]}" customers lookup --store "$store" 203.0.113.10 2026-11-27T10:00:00Z --port 40000 >"$out/lookup.out"
  ls "$out/outbox/new" | wc -l >"$out/letters.count"
}

t0=$(date +%s%3N)
run sqlite "$work/k.db" $'[store]\nbackend = "sqlite"\npath = "'"$work"'/k.db"'
t1=$(date +%s%3N)
run postgres "postgresql:///klartext?host=$work&user=klartext" \
  $'[store]\nbackend = "postgres"\ndsn = "host='"$work"' user=klartext dbname=klartext"'
t2=$(date +%s%3N)
echo "sqlite run $((t1 - t0)) ms, postgres run $((t2 - t1)) ms"

grep -q "17 customers" "$work/postgres/import.out" || fail "import: $(cat "$work/postgres/import.out")"
grep -q "0 new reports" "$work/postgres/ingest2.out" || fail "re-ingest: $(cat "$work/postgres/ingest2.out")"
[[ $(cat "$work/postgres/letters.count") -gt 0 ]] || fail "no letters written"
[[ -s "$work/postgres/cases1.json" ]] || fail "no cases"
# --store also takes "postgres:" plus a libpq connection string.
"$bin" cases --store "postgres:host=$work user=klartext dbname=klartext" --all --json >"$work/cases3.json"
[[ $(wc -l <"$work/cases3.json") -eq $(wc -l <"$work/postgres/cases2.json") ]] || fail "postgres: form of --store"
if "$bin" cases --store "postgres:host=$work user=klartext dbname=nosuchdb" >"$work/bad.out" 2>&1; then
  fail "a missing database is not an error"
fi
grep -q 'nosuchdb' "$work/bad.out" || fail "the connection error does not name the database: $(cat "$work/bad.out")"

# Wall-clock values differ between the runs: case created/updated/history times (ingest time), the
# seen times of events without a time of their own (ingest time, with microseconds), the Message-ID,
# Date and MIME boundaries of the letters, and the outbox file names.
mask() {
  sed -E -e 's/"(created|updated|time)":"[^"]*"/"\1":"T"/g' \
    -e 's/"(first_seen|last_seen)":"[^"]*\.[0-9]{6}\+00:00"/"\1":"T"/g' \
    -e 's/^(Message-I[Dd]|Date|References|In-Reply-To): .*/\1: X/' -e 's/klartext\.[0-9a-f.]+@/klartext.M@/g' \
    -e 's/(boundary="?)[^";]+/\1B/; s/^--[-=_A-Za-z0-9.]{8,}(--)?$/--B\1/' \
    -e "s#$work/(sqlite|postgres)#WORK#g" -e 's#outbox/new/[^ ]+#outbox/new/F#g' "$1"
}
for f in import.out ingest1.out ingest2.out cases1.json unassigned.out dry-run.mime dry-run.summary notify.out \
  notify2.out cases2.json lookup.out letters.count; do
  if ! diff <(mask "$work/sqlite/$f") <(mask "$work/postgres/$f") >"$work/diff"; then
    fail "$f differs between SQLite and PostgreSQL: $(head -c 3000 "$work/diff")"
  fi
done
echo "ok: $(wc -l <"$work/postgres/cases2.json") cases, $(cat "$work/postgres/letters.count") letters, same on both"
