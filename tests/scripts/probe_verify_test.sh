#!/usr/bin/env bash
# klartext verify end to end: a Shadowserver NTP monitor report for 127.0.0.3 becomes a case; the
# monlist stand-in (tests/tools/monlist_responder.py) confirms it; after "resolved" a re-probe
# reopens it while the responder runs, and closes it as verified fixed once the responder is gone.
# Runs in a private network namespace. args: klartext binary, source dir. Exit 77 = skip.
set -uo pipefail
K=$(readlink -f "$1")
SRC=$(readlink -f "$2")
if [[ -z "${KLARTEXT_PROBE_NETNS:-}" ]]; then
  if [[ $(id -u) -ne 0 ]]; then echo "skip: needs root (network namespace)"; exit 77; fi
  command -v python3 >/dev/null && command -v unshare >/dev/null || { echo "skip: python3/unshare missing"; exit 77; }
  unshare -n true 2>/dev/null || { echo "skip: cannot create a network namespace"; exit 77; }
  KLARTEXT_PROBE_NETNS=1 exec unshare -n bash "$0" "$@"
fi
ip link set lo up
T=$(mktemp -d /tmp/klartext-verify.XXXXXX)
NTPD=""
cleanup() {
  [[ -n "$NTPD" ]] && kill "$NTPD" 2>/dev/null && wait "$NTPD" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
cd "$T"
fail=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
json_field() {  # json_field FILE EXPR (python over the first JSON line `j`)
  python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).readline()); print(eval(sys.argv[2]))' "$1" "$2"
}

python3 "$SRC/tests/tools/monlist_responder.py" --address 127.0.0.3 --port 123 >monlist.log 2>&1 &
NTPD=$!
for i in $(seq 1 50); do grep -q ready monlist.log && break; sleep 0.1; done

S=$T/store.db
printf 'id,name,emails,language,time_zone,accounts\nK-9,Test GmbH,noc@example.org,de,Europe/Berlin,\n' >c.csv
printf 'customer,prefix,valid_from,valid_to\nK-9,127.0.0.0/8,2020-01-01,\n' >a.csv
"$K" customers import --customers c.csv --assignments a.csv --store "$S" >/dev/null
printf '%s\n%s\n' '"timestamp","ip","protocol","port","hostname","packets","size","asn","geo","region","city","naics","sic","sector","amplification"' \
  '"2026-11-27 10:00:00",127.0.0.3,udp,123,,100,44000,64512,ZZ,Region,City,0,0,,916.67' >2026-11-27-scan_ntpmonitor-test.csv
"$K" ingest 2026-11-27-scan_ntpmonitor-test.csv --store "$S" -q 2>/dev/null
"$K" cases --store "$S" --json >cases.jsonl
ID=$(json_field cases.jsonl 'j["id"]')
check "report became an ntp-monitor case" test "$(json_field cases.jsonl 'j["classification"]')" = vulnerable/ddos-amplifier/ntp-monitor

V="$K verify --store $S --json --timeout-ms 500 --quiet-ms 200 --retries 0"
$V --open >v1.jsonl
echo "confirmed: $(json_field v1.jsonl 'j["measurement"]["verdict"], j["measurement"]["response_bytes"], j["measurement"]["baf"]')"
check "verify --open confirms the amplifier (600 entries, 44,000 B, BAF 916.67)" \
  test "$(json_field v1.jsonl '(j["action"], j["state_after"], j["measurement"]["details"]["entries"], j["measurement"]["response_bytes"], j["measurement"]["baf"])')" = "('recorded', 'open', 600, 44000, 916.67)"

printf '[store]\npath = "%s"\n[delivery]\noutbox = "%s"\n' "$S" "$T/outbox" >k.toml
"$K" -c k.toml notify --dry-run >letter.eml 2>/dev/null
# The dry run prints the MIME mail; undo quoted-printable line folding before searching.
python3 -c 'import email,email.policy,sys; m=email.message_from_binary_file(open(sys.argv[1],"rb"),policy=email.policy.default); print(" ".join(m.get_body(("plain",)).get_content().split()))' letter.eml >letter.txt
check "the letter quotes our own measurement (48-byte request, 44000 bytes in 100 packets)" \
  grep -q "Auf unsere Anfrage von 48 Byte antwortete die Adresse mit 44000 Byte in 100 Paketen" letter.txt
"$K" cases resolve "$ID" --store "$S" --reason "customer: fixed" >/dev/null
$V --case "$ID" >v2.jsonl
check "resolved but still amplifying: reopened" test "$(json_field v2.jsonl '(j["state_before"], j["action"], j["state_after"])')" = "('resolved', 'reopened', 'open')"

"$K" cases resolve "$ID" --store "$S" --reason "customer: really fixed now" >/dev/null
kill "$NTPD" && wait "$NTPD" 2>/dev/null
NTPD=""
$V --case "$ID" >v3.jsonl
check "resolved and silent: closed as verified fixed" test "$(json_field v3.jsonl '(j["action"], j["state_after"], j["measurement"]["verdict"])')" = "('closed-verified-fixed', 'closed', 'no-answer')"

"$K" cases --store "$S" --all --history
check "history holds the measurements" bash -c "'$K' cases --store '$S' --all --history | grep -q 'verified fixed'"
check "a case outside probe.allowed_prefixes is refused before sending" \
  bash -c "printf '%s\n' 'K-9,192.0.2.0/24,2020-01-01,' >>a.csv; '$K' customers import --assignments a.csv --store '$S' >/dev/null;
    sed 's/127.0.0.3/192.0.2.7/' 2026-11-27-scan_ntpmonitor-test.csv >2026-11-27-scan_ntpmonitor-b.csv;
    '$K' ingest 2026-11-27-scan_ntpmonitor-b.csv --store '$S' -q 2>/dev/null;
    $V --open | grep -q 'outside probe.allowed_prefixes'"
exit $fail
