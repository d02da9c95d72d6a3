#!/bin/bash
# Usage per period against the kernel, across boundaries and a kill -9.
# The host profile keeps 10-second periods.  For four periods, hosts send
# UDP flows (each ended by conntrack -D inside its period, so the kernel
# stamps its end there) and one long TCP connection sends a burst in each
# period and stays open across every boundary (its counters are read from
# the kernel in each period's quiet moment).  In the second period ctflowd
# is killed (-9) and started again.  Then every period's totals of every
# row must equal the kernel's: the short flows' by their stop time stamps,
# the long one split at each boundary by ctflowd's closing read.  A quota
# on one host (80% and 100% of a cap per period) must raise each level
# exactly once per period it is reached in, to a real snmptrapd, also when
# the kill comes right after a crossing; ctflowUsageTable must serve what the JSON says.
TEST_NAME=usage
. "$(dirname "$0")/../lib/netns.sh"

ROOT=.1.3.6.1.4.1.32473
P=10
SIZE=1000                 # UDP payload: 1028 bytes a datagram on the wire
CAP=$((100 * (SIZE + 28)))
pair_up
trapd_start
snmpd_start "trap2sink udp:127.0.0.1:$TRAP_PORT public" || exit 1
bg_in "$NS_B" "$T/server.out" "$TOOLS/flowgen" tcp-server 80
bg_in "$NS_B" "$T/sink.out" "$TOOLS/udpburst" sink 9000 300
test_conf "$T/c.conf" <<EOF
dump_interval = 0
timezone = UTC
[profile host]
key = host
periods = ${P}s, day
keep = 6
[quota cap]
profile = host
period = ${P}s
match = 10.202.128.20
direction = sent
cap = $CAP
warn = 80, 100
notify_limit = 0
EOF
truth_start "$NS_B"
CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
check "ctflowd answers SNMP" wait_subagent 30

now() { date +%s.%N; }
# at K OFFSET: sleep until OFFSET seconds into period K (1 = the first)
at() { sleep "$(python3 -c "import time; print(max(0, $B0 + ($1 - 1) * $P + $2 - time.time()))")"; }
# udp SRC DATAGRAMS: one flow of DATAGRAMS from SRC to the sink
udp() {
	ip netns exec "$NS_A" python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$1', 0))
for _ in range($2):
    s.sendto(b'u' * $SIZE, ('10.202.0.2', 9000))
" || fail "sending from $1"
}
# the kernel ends the period's UDP flows (its stop time stamps are here)
end_udp() { ip netns exec "$NS_B" conntrack -D -p udp >/dev/null 2>&1; }
# the kernel's counters of the long connection, now
reading() {
	local t
	t=$(now)
	ip netns exec "$NS_B" conntrack -L -p tcp --orig-src 10.202.128.9 -o extended 2>/dev/null |
		sed "s/^/READ $t [DESTROY] /" >>"$T/readings"
}

# the first period begins at least two seconds from now
B0=$(python3 -c "import time; t = time.time(); b = (int(t) // $P + 1) * $P; print(b + $P if b - t < 2 else b)")
# the long connection: connects in period 1, a burst at 1 s into periods
# 1-4, closed 2.5 s into period 4
ip netns exec "$NS_A" python3 -c "
import socket, struct, time
b0, p, sizes = $B0, $P, [200000, 300000, 100000, 50000]
time.sleep(max(0, b0 + 0.5 - time.time()))
s = socket.create_connection(('10.202.0.2', 80), timeout=60, source_address=('10.202.128.9', 0))
s.sendall(struct.pack('>Q', 0))
for k, n in enumerate(sizes):
    time.sleep(max(0, b0 + k * p + 1.0 - time.time()))
    s.sendall(b'x' * n)
time.sleep(max(0, b0 + (len(sizes) - 1) * p + 2.5 - time.time()))
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
s.close()
" >"$T/long.out" 2>&1 &
LONG=$!
PIDS+=("$LONG")

# period 1: the quota host 85% (80% reached), another host a little
at 1 1.5; udp 10.202.128.20 85; udp 10.202.128.21 10
at 1 3.5; end_udp
at 1 4.5; reading
# period 2: 85% (80% again: a new period), kill -9, 20% more (100%)
at 2 1.5; udp 10.202.128.20 85
at 2 2.2; end_udp
# killed right after the crossing: the 80% notification is held in the
# store with the total that reached it, and goes out after the restart if
# it had not gone out before
at 2 2.4; kill -9 "$CTF_PID"; wait "$CTF_PID" 2>/dev/null
before_kill=$(grep -c -- '"cap-80"' "$T/trapd.log")
CTF_LOG=$T/ctflowd2.log CTF_NS=$NS_B ctflowd_start "$T/c.conf" || exit 1
at 2 6.0; udp 10.202.128.20 20; udp 10.202.128.21 7
at 2 6.7; end_udp
at 2 7.3; reading
over_p2=$(snmpn snmpget -Oqv "$SNMP_AGENT" "$ROOT.1.5.1.13.2" 2>/dev/null)
# period 3: 30% (no level)
at 3 1.5; udp 10.202.128.20 30; udp 10.202.128.22 3
at 3 3.5; end_udp
at 3 4.5; reading
over_p3=$(snmpn snmpget -Oqv "$SNMP_AGENT" "$ROOT.1.5.1.13.2" 2>/dev/null)
# period 4: the long connection closes; everything ends
at 4 1.5; udp 10.202.128.21 12
at 4 3.5; wait "$LONG"; ip netns exec "$NS_B" conntrack -D >/dev/null 2>&1
at 5 1.0
check "ctflowd wrote its tables" tables "$T/t.json"
kill "$TRUTH_PID"; wait "$TRUTH_PID" 2>/dev/null
check "the ground truth lost nothing" truth_clean
check "the long connection ran its course" sh -c "[ ! -s '$T/long.out' ]"
python3 "$TOP/tests/lib/usagecheck.py" "$T/truth.events" "$T/readings" "$T/t.json" host "${P}s" "$P" "$B0" ||
	FAILS=$((FAILS + 1))

# the quota: 80% in periods 1 and 2 (the second before the kill), 100%
# once, after the restart; nothing in periods 3 and 4
trapsof() { grep -c -- "\"$1\"" "$T/trapd.log" 2>/dev/null || true; }
for i in $(seq 1 50); do [ "$(trapsof cap-100)" -ge 1 ] && break; sleep 0.2; done
n80=$(trapsof cap-80) n100=$(trapsof cap-100)
if [ "$n80" = 2 ] && [ "$n100" = 1 ]; then
	pass "quota levels: 80% notified once in each of the two periods that reached it ($((before_kill - 1)) of the second before the kill -9 0.2 s after it, the rest after the restart), 100% once"
else
	fail "quota levels: $n80 notifications of 80% (want 2), $n100 of 100% (want 1)"
	note "$(grep -- cap- "$T/trapd.log" | head -5)"
fi
check "the 80% notification of period 1 carries its total (85 datagrams: $((85 * (SIZE + 28))))" \
	sh -c "grep -- '\"cap-80\"' '$T/trapd.log' | head -1 | grep -q 'Counter64: $((85 * (SIZE + 28)))|'"
[ "$over_p2" = 1 ] && pass "the row over 100% is in ctflowAlarmTable while its period lasts" ||
	fail "ctflowThresholdOver of cap-100 in its period: '$over_p2', want 1"
[ "$over_p3" = 0 ] && pass "the alarm ended with the period" ||
	fail "ctflowThresholdOver of cap-100 in the next period: '$over_p3', want 0"

# ctflowUsageTable serves the JSON's totals (octets of every row, kind 1, each age)
snmpn snmpwalk -Oq "$SNMP_AGENT" "$ROOT.1.7.1.11.1" >"$T/usage.walk" 2>&1
snmpn snmpwalk -Oq "$SNMP_AGENT" "$ROOT.1.7.1.12.1" >"$T/usage.keys" 2>&1
check "ctflowUsageOctets and ctflowUsageKey equal the JSON's usage, every row and period" python3 - \
	"$T/usage.walk" "$T/usage.keys" "$T/t.json" "${P}s" <<'EOF'
import json, sys
walk, keys, doc, kind = sys.argv[1:5]
def table(path):
    out = {}
    for line in open(path):
        oid, val = line.split(" ", 1)
        out[tuple(oid.split(".")[12:])] = val.strip().strip('"')
    return out
octets, names = table(walk), table(keys)
prof = [p for p in json.load(open(doc))["profiles"] if p["name"] == "host"][0]
want = {}
for e in prof["entries"]:
    for age, u in enumerate(e["usage"][kind]):
        want[("host " + e["host"], 1, age)] = u["fwd_bytes"] + u["rev_bytes"]
    for age, u in enumerate(e["usage"]["day"]):
        want[("host " + e["host"], 2, age)] = u["fwd_bytes"] + u["rev_bytes"]
got = {}
for idx, v in octets.items():
    got[(names[idx], int(idx[-2]), int(idx[-1]))] = int(v)
bad = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
for k in bad[:5]:
    print("  #", k, "json", want.get(k), "snmp", got.get(k))
sys.exit(1 if bad or not want else 0)
EOF
periods=$(snmpn snmpget -Oqv "$SNMP_AGENT" "$ROOT.1.2.1.11.1" 2>&1)
[ "$periods" = "\"${P}s,day\"" ] && pass "ctflowProfilePeriods names the periods" ||
	fail "ctflowProfilePeriods: $periods"
finish
