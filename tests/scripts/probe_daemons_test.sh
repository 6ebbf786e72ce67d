#!/usr/bin/env bash
# klartext check against real Debian daemons on loopback, inside a private network namespace (so the
# standard ports are ours), with tshark (dumpcap on lo) as the independent count of every byte.
# Daemons: ntpsec (mode 6; mode 3 as the non-amplifying control), memcached -U, snmpd, rpcbind,
# xinetd chargen + qotd, unbound; tests/tools/monlist_responder.py stands in for ntpd 4.2.6 mode 7.
# args: klartext binary, source dir. Exit 77 (skip) without root, netns or a needed binary.
set -uo pipefail
K=$(readlink -f "$1")
SRC=$(readlink -f "$2")
TOOLS=$SRC/tests/tools

if [[ -z "${KLARTEXT_PROBE_NETNS:-}" ]]; then
  if [[ $(id -u) -ne 0 ]]; then echo "skip: needs root (network namespace, capture)"; exit 77; fi
  for b in unshare ip ss tshark dumpcap python3; do
    command -v "$b" >/dev/null || { echo "skip: $b missing"; exit 77; }
  done
  unshare -n true 2>/dev/null || { echo "skip: cannot create a network namespace"; exit 77; }
  KLARTEXT_PROBE_NETNS=1 exec unshare -n bash "$0" "$@"
fi

missing=()
for b in /usr/sbin/ntpd /usr/bin/memcached /usr/sbin/snmpd /usr/sbin/rpcbind /usr/sbin/xinetd /usr/sbin/unbound; do
  [[ -x "$b" ]] || missing+=("$b")
done
if ((${#missing[@]})); then echo "skip: missing ${missing[*]} (scripts/setup-deps)"; exit 77; fi

ip link set lo up
T=$(mktemp -d /tmp/klartext-probe.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [[ -n "${KEEP:-}" ]]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}

# --- daemons ------------------------------------------------------------------------------------
# ntpsec with Debian 12's access lines: mode 6 only for 127.0.0.1/::1; no servers, clock untouched.
mkdir -p "$T/ntp"
cat >"$T/ntp/ntp.conf" <<CONF
driftfile $T/ntp/drift
restrict default kod nomodify nopeer noquery limited
restrict 127.0.0.1
restrict ::1
disable kernel
disable ntp
interface ignore wildcard
interface listen 127.0.0.1
interface listen ::1
CONF
/usr/sbin/ntpd -n -c "$T/ntp/ntp.conf" -p "$T/ntp/pid" >"$T/ntp/log" 2>&1 &
PIDS+=($!)

# The ntpd 4.2.6 monlist stand-in on its own address (ntpsec holds 127.0.0.1:123).
python3 "$TOOLS/monlist_responder.py" --address 127.0.0.3 --port 123 >"$T/monlist.log" 2>&1 &
PIDS+=($!)

memcached -u root -l 127.0.0.1 -p 11211 -U 11211 -m 64 -I 2m >"$T/memcached.log" 2>&1 &
PIDS+=($!)

cat >"$T/snmpd.conf" <<CONF
agentaddress udp:127.0.0.1:161
rocommunity public 127.0.0.1
sysDescr klartext test agent (Debian snmpd)
sysName klartext-snmp-test
CONF
/usr/sbin/snmpd -f -Lo -C -c "$T/snmpd.conf" -p "$T/snmpd.pid" >"$T/snmpd.log" 2>&1 &
PIDS+=($!)

/usr/sbin/rpcbind -f -w >"$T/rpcbind.log" 2>&1 &
PIDS+=($!)

cat >"$T/xinetd.conf" <<CONF
service chargen
{
  type = INTERNAL UNLISTED
  id = chargen-dgram
  socket_type = dgram
  protocol = udp
  port = 19
  bind = 127.0.0.1
  wait = yes
  user = root
}
service qotd
{
  type = UNLISTED
  socket_type = dgram
  protocol = udp
  port = 17
  bind = 127.0.0.1
  wait = yes
  user = root
  server = /usr/bin/python3
  server_args = $TOOLS/qotd_server.py
}
CONF
/usr/sbin/xinetd -dontfork -f "$T/xinetd.conf" -pidfile "$T/xinetd.pid" >"$T/xinetd.log" 2>&1 &
PIDS+=($!)

# unbound as a recursive resolver: recursion for 127.0.0.1 only. There is no outside network, so
# the answer comes from local data (TXT records, as an attacker would pick a large record).
cat >"$T/unbound.conf" <<CONF
server:
  interface: 127.0.0.1
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$T"
  pidfile: "$T/unbound.pid"
  use-syslog: no
  logfile: ""
  module-config: "iterator"
  access-control: 127.0.0.0/8 refuse
  access-control: 127.0.0.1/32 allow
  local-zone: "example.org." static
  local-data: 'example.org. 3600 IN TXT "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip4:203.0.113.0/24 -all"'
  local-data: 'example.org. 3600 IN TXT "klartext test record one, padding padding padding padding padding"'
  local-data: 'example.org. 3600 IN TXT "klartext test record two, padding padding padding padding padding"'
  local-data: 'example.org. 3600 IN A 192.0.2.10'
remote-control:
  control-enable: no
CONF
/usr/sbin/unbound -d -c "$T/unbound.conf" >"$T/unbound.log" 2>&1 &
PIDS+=($!)

# Wait until every port is bound.
for i in $(seq 1 100); do
  n=0
  for p in 123 11211 161 111 19 17 53; do ss -Hlun "sport = :$p" | grep -q . && n=$((n + 1)); done
  ((n == 7)) && grep -q ready "$T/monlist.log" && break
  sleep 0.1
done
ss -Hlun | sort >"$T/ports.txt"

# memcached: a 500,000-byte value (stored over TCP) comes back as ~360 UDP datagrams.
python3 - <<'PY'
import socket
v = b"x" * 500000
s = socket.create_connection(("127.0.0.1", 11211))
s.sendall(b"set big 0 0 %d\r\n" % len(v) + v + b"\r\n")
assert s.recv(100).startswith(b"STORED")
PY

# --- probes under capture -----------------------------------------------------------------------
dumpcap -q -i lo -f udp -w "$T/cap.pcapng" >"$T/dumpcap.log" 2>&1 &
CAP=$!
PIDS+=($CAP)
for i in $(seq 1 50); do [[ -s "$T/cap.pcapng" ]] && break; sleep 0.1; done
sleep 0.5

run() { "$K" check --json --timeout-ms 700 --quiet-ms 300 --retries 0 --spacing-ms 20 "$@"; }
run 127.0.0.1 --all --dns-name example.org --param dns.qtype=16 --source 127.0.0.1 >"$T/all_open.jsonl"
run 127.0.0.1 --all --dns-name example.org --param dns.qtype=16 --source 127.0.0.2 >"$T/all_closed.jsonl"
run 127.0.0.3 --source 127.0.0.1 \
  --service ntp-monitor,ntp-monitor:impl2-req20,ntp-monitor:impl3-req42-8b,ntp-monitor:impl3-req20,ntp-monitor:impl2-req42 \
  >"$T/monlist.jsonl"
run 127.0.0.1 --service memcached --param "command=get big" --source 127.0.0.1 >"$T/memcached_big.jsonl"
run ::1 --service ntp-version,ntp-time --source ::1 >"$T/v6.jsonl"
# The non-amplifying control (chrony cannot be installed beside ntpsec): a plain mode 3 time query
# to ntpsec from a fresh, unprivileged source address.
run 127.0.0.1 --service ntp-time --source 127.0.0.4 >"$T/control.jsonl"
# Outside probe.allowed_prefixes (default: loopback only): refused before any packet.
"$K" check 192.0.2.7 127.0.0.1 --service ntp >"$T/refused.out" 2>&1
echo $? >"$T/refused.rc"
sleep 0.5
kill -INT $CAP
wait $CAP 2>/dev/null

cat "$T"/all_open.jsonl "$T"/all_closed.jsonl "$T"/monlist.jsonl "$T"/memcached_big.jsonl "$T"/v6.jsonl \
  "$T"/control.jsonl >"$T/results.jsonl"
{
  tshark -r "$T/cap.pcapng" -Y "ip && udp && !icmp" -T fields \
    -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e udp.length 2>/dev/null
  tshark -r "$T/cap.pcapng" -Y "ipv6 && udp && !icmpv6" -T fields \
    -e ipv6.src -e udp.srcport -e ipv6.dst -e udp.dstport -e udp.length 2>/dev/null
} >"$T/flows.tsv"

# --- checks -------------------------------------------------------------------------------------
field() {  # field FILE PROBE[:VARIANT] PYTHON-EXPR over r (row) and d (details)
  python3 - "$@" <<'PY'
import json, sys
f, probe, expr = sys.argv[1:4]
name, _, variant = probe.partition(":")
for l in open(f):
    if not l.strip():
        continue
    r = json.loads(l)
    if r["probe"] == name and (not variant or r["variant"] == variant):
        d = r["details"]
        print(eval(expr))
        break
PY
}
is() {  # is FILE PROBE[:VARIANT] EXPR EXPECTED
  local got
  got=$(field "$1" "$2" "$3")
  [[ "$got" == "$4" ]] || { echo "     $2: $3 = '$got', expected '$4'"; return 1; }
}

echo "--- klartext check 127.0.0.1 --all (from 127.0.0.1, table)"
"$K" check 127.0.0.1 --all --dns-name example.org --param dns.qtype=16 --source 127.0.0.1 --timeout-ms 700 --quiet-ms 300 \
  --retries 0 --spacing-ms 20 || fail=1
echo "--- from 127.0.0.2"
"$K" check 127.0.0.1 --service ntp,dns,snmp --dns-name example.org --source 127.0.0.2 --timeout-ms 700 \
  --quiet-ms 300 --retries 0 --spacing-ms 20 || fail=1
echo "--- monlist stand-in (127.0.0.3)"
python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l); print(r["variant"], r["verdict"], r["request_bytes"], r["response_bytes"], r["response_packets"], r["baf"], r["details"].get("entries"))' "$T/monlist.jsonl"

O=$T/all_open.jsonl
C=$T/all_closed.jsonl
M=$T/monlist.jsonl
check "ntpsec mode 6 READVAR from 127.0.0.1: amplifier" is "$O" ntp-version 'r["verdict"]' amplifier
check "ntpsec mode 6 READVAR from 127.0.0.2: no answer (noquery)" is "$C" ntp-version 'r["verdict"]' no-answer
check "ntpsec mode 6 version string decoded" is "$O" ntp-version 'd.get("version","").startswith("ntpd ntpsec")' True
check "ntpsec never answers mode 7" is "$O" ntp-monitor 'r["verdict"]' no-answer
check "control: ntpsec mode 3 from 127.0.0.4 responds, BAF 1" is "$T/control.jsonl" ntp-time '(r["verdict"], r["baf"])' "('responds', 1.0)"
check "memcached stats over UDP: amplifier" is "$O" memcached 'r["verdict"]' amplifier
check "memcached version decoded" is "$O" memcached 'bool(d.get("version"))' True
check "memcached get of 500 kB: every announced datagram received" \
  is "$T/memcached_big.jsonl" memcached 'r["response_packets"] == d["datagrams_announced"] > 300' True
check "snmpd GetBulk public: amplifier" is "$O" snmp 'r["verdict"]' amplifier
check "snmpd sysDescr decoded" is "$O" snmp 'd.get("sysDescr")' "klartext test agent (Debian snmpd)"
check "snmpd from 127.0.0.2 (community for 127.0.0.1 only): no answer" is "$C" snmp 'r["verdict"]' no-answer
check "rpcbind DUMP answered with its programs" is "$O" portmapper 'd.get("programs", 0) >= 1' True
check "xinetd chargen: amplifier" is "$O" chargen 'r["verdict"]' amplifier
check "xinetd qotd: amplifier" is "$O" qotd 'r["verdict"]' amplifier
check "unbound recursion for 127.0.0.1: open resolver" is "$O" dns '(r["verdict"], d["recursion_available"])' "('amplifier', 'yes')"
check "unbound TXT answer amplifies (BAF > 3)" is "$O" dns 'r["baf"] > 3 and d["answers"] == 3' True
check "unbound refuses 127.0.0.2" is "$C" dns '(r["verdict"], d["rcode"])' "('responds', 'REFUSED')"
check "nothing on udp/1900: no answer, ICMP port unreachable" is "$O" ssdp '(r["verdict"], r["icmp_unreachable"])' "('no-answer', True)"
check "monlist 3/42: 600 entries, 100 datagrams, 44,000 B" \
  is "$M" ntp-monitor:impl3-req42 '(r["verdict"], d["entries"], r["response_packets"], r["response_bytes"])' "('amplifier', 600, 100, 44000)"
check "monlist 3/42, 8-byte request: BAF 5500" is "$M" ntp-monitor:impl3-req42-8b 'r["baf"]' 5500.0
check "monlist 3/20: 60 datagrams, 29,280 B" is "$M" ntp-monitor:impl3-req20 '(r["response_packets"], r["response_bytes"])' "(60, 29280)"
check "monlist 2/20: 30 datagrams, 14,640 B" is "$M" ntp-monitor:impl2-req20 '(r["response_packets"], r["response_bytes"])' "(30, 14640)"
check "monlist 2/42: 40 datagrams, 19,520 B" is "$M" ntp-monitor:impl2-req42 '(r["response_packets"], r["response_bytes"])' "(40, 19520)"
check "IPv6: ntpsec mode 6 on ::1" is "$T/v6.jsonl" ntp-version 'r["verdict"]' amplifier

check "target outside probe.allowed_prefixes refused (exit 2, names the setting)" \
  bash -c "[[ \$(cat '$T/refused.rc') == 2 ]] && grep -q 'probe.allowed_prefixes' '$T/refused.out'"
check "no packet to 192.0.2.7 on the wire" \
  test "$(tshark -r "$T/cap.pcapng" -Y "ip.dst==192.0.2.7" 2>/dev/null | wc -l)" = 0

echo "--- bytes on the wire (tshark) against klartext's accounting"
python3 "$TOOLS/capture_check.py" "$T/results.jsonl" "$T/flows.tsv" || fail=1

echo "--- tshark's NTP dissector on the mode 7 and mode 6 exchanges"
ts() { tshark -r "$T/cap.pcapng" "$@" 2>/dev/null; }
items=$(ts -Y "ip.src==127.0.0.3 && ntp.priv.reqcode==42 && ntp.priv.impl==3 && ntp.priv.itemsize==72" \
  -T fields -e ntp.priv.numitems | awk '{s+=$1} END {print s+0}')
check "tshark: 1200 monlist items of 72 B for the two 3/42 probes (got $items)" test "$items" = 1200
addrs=$(ts -Y "ip.src==127.0.0.3 && ntp.priv.reqcode==42 && ntp.priv.impl==3" -T fields \
  -e ntp.priv.monlist.remote_address | tr ',' '\n' | grep -c '^192\.0\.2\.\|^198\.51\.100\.\|^203\.0\.113\.')
check "tshark: decodes 1200 monlist client addresses (got $addrs)" test "$addrs" = 1200
reqs=$(ts -Y "ip.dst==127.0.0.3 && ntp.priv.flags.r==0" -T fields -e ntp.priv.reqcode | sort | uniq -c | tr -s ' ' | xargs)
check "tshark: our 5 monlist requests are mode 7 codes 20/42 ($reqs)" test "$reqs" = "2 20 3 42"
rv=$(ts -Y "ip.src==127.0.0.1 && udp.srcport==123 && ntp.ctrl.flags2.r==1 && ntp.ctrl.flags2.opcode==2" -T fields -e ntp.ctrl.count | head -1)
check "tshark: ntpsec READVAR reply decoded (count $rv)" test -n "$rv"

echo "--- tshark dissects every request klartext can send"
"$K" check --write-requests "$T/requests.pcap" >"$T/requests.txt"
ts -r "$T/requests.pcap" -T fields -e frame.number -e frame.protocols -e _ws.expert.severity >"$T/requests_tshark.txt"
python3 - "$T/requests.txt" "$T/requests_tshark.txt" <<'PY' || fail=1
import sys
want = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
got = {}
for l in open(sys.argv[2]):
    f = l.rstrip("\n").split("\t")
    got[f[0]] = (f[1].split(":"), f[2] if len(f) > 2 else "")
bad = 0
for frame, what, port, size, dissector in want:
    protos, severity = got.get(frame, ([], ""))
    if dissector == "-":
        print(f"n/a  {what} ({size} B to udp/{port}): tshark has no dissector for it")
        continue
    # 8388608 = error severity (malformed); warnings are not raised for well-formed requests either.
    ok = dissector in protos and "8388608" not in severity
    print(f"{'ok ' if ok else 'BAD'}  {what} ({size} B to udp/{port}): {':'.join(protos)}")
    bad += not ok
sys.exit(1 if bad else 0)
PY

exit $fail
